//! Prints every document outline the gate considers in each photo (for tuning):
//! `cargo run --release --example debug_detect -- PHOTO.jpg ...`
fn main() -> anyhow::Result<()> {
    use beian::vision::{decode, document, quality};
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path)?;
        let limits = decode::IntakeLimits::default();
        let p = decode::probe(&bytes, &limits).map_err(|e| anyhow::anyhow!("{e}"))?;
        let work =
            decode::decode_for_gate(&bytes, &p, beian::vision::gate::GATE_LONG_SIDE, &limits)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        let small = decode::resize_to_long_side(&work, beian::vision::gate::DETECT_LONG_SIDE);
        let gray = quality::luma(&small);
        let found = document::Search::new(&gray, document::DocShape::Card).debug_candidates();
        println!("{path}: {found:#?}");
        println!(
            "find: {:?}",
            document::find(&gray, document::DocShape::Card).map(|f| (f.quad, f.contrast))
        );
    }
    Ok(())
}
