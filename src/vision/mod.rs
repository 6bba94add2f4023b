//! Everything that looks at pixels: safe decoding, the document in the frame, quality
//! measures and the gate's verdict. No I/O and no HTTP here; callers run it on the blocking
//! pool.

pub mod decode;
pub mod document;
pub mod gate;
pub mod models;
pub mod ocr;
pub mod quality;
pub mod read;
pub mod runtime;
