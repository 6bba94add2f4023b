//! Synthetic fixtures: rendered ID cards composed into phone-like photos with controlled
//! degradations, each labelled with the verdict it should get. Used by the tests, the
//! calibration command and the benchmarks; needs a CJK font (see `font`).

pub mod calibrate;
pub mod card;
pub mod desk;
pub mod face;
pub mod face_calibration;
pub mod font;
pub mod identity;
pub mod licence;
pub mod ocr_accuracy;
pub mod scene;
