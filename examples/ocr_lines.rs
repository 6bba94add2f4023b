//! Prints every line OCR reads in an image taken as an already flattened document (no
//! document search), and the fields parsed from them: `cargo run --release --example ocr_lines -- IMAGE...`.
use std::path::Path;

use beian::vision::models::Models;
use beian::vision::ocr::OcrModels;
use beian::vision::read;

fn main() -> anyhow::Result<()> {
    let models = Models::shared(Path::new("models"), OcrModels::Ppocrv6Small, 2)?;
    for path in std::env::args().skip(1) {
        let img = image::open(&path)?.to_rgb8();
        let r = read::read_flat(&models.ocr, img)?;
        println!("{path}: {:?}, turned {}", r.timings.ocr, r.turned);
        for l in &r.lines {
            let [x, y] = [l.quad[0].0, l.quad[0].1];
            println!("  {:.3} ({x:.0},{y:.0}) {}", l.confidence, l.text);
        }
        println!("  {:?} {:?}", r.document, r.fields);
    }
    Ok(())
}
