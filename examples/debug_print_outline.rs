//! Prints, for each photo, the text detector's boxes at the gate's two scales and the outline
//! the print measures out at each (for diagnosing `document::outline_from_print`):
//! `cargo run --release --example debug_print_outline -- PHOTO.jpg ...`
use std::path::Path;

use beian::vision::gate::{DETECT_LONG_SIDE, GATE_LONG_SIDE};
use beian::vision::models::Models;
use beian::vision::ocr::OcrModels;
use beian::vision::{decode, document};

fn main() -> anyhow::Result<()> {
    let models = Models::shared(Path::new("models"), OcrModels::Ppocrv6Small, 2)?;
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path)?;
        let limits = decode::IntakeLimits::default();
        let p = decode::probe(&bytes, &limits).map_err(|e| anyhow::anyhow!("{e}"))?;
        let work = decode::decode_for_gate(&bytes, &p, GATE_LONG_SIDE, &limits)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let small = decode::resize_to_long_side(&work, DETECT_LONG_SIDE);
        let to_small = small.width() as f32 / work.width() as f32;
        let at_work: Vec<document::TextBox> = models
            .ocr
            .text_boxes(&work)?
            .iter()
            .map(|b| b.map(|(x, y)| (x * to_small, y * to_small)))
            .collect();
        let at_small = models.ocr.text_boxes(&small)?;
        for (scale, boxes) in [("decoded", &at_work), ("searched", &at_small)] {
            println!(
                "{path} at the {scale} scale: {} boxes {boxes:?}\n  print direction {:?}, outline {:?}",
                boxes.len(),
                document::print_direction(boxes),
                document::outline_from_print(&small, boxes, document::DocShape::Card.aspect())
            );
        }
    }
    Ok(())
}
