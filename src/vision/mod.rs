//! Everything that looks at pixels: safe decoding, the document in the frame, quality
//! measures and the gate's verdict, ONNX Runtime and the models, OCR and reading a document.
//! No HTTP here, and no I/O but loading the models; callers run it on the blocking pool.

pub mod decode;
pub mod document;
pub mod face;
pub mod gate;
pub mod gaussian;
pub mod models;
pub mod ocr;
pub mod quality;
pub mod read;
pub mod runtime;
