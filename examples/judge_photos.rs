//! Judges photos with the quality gate alone and prints one line each (file, verdict,
//! reasons, the document's corners): `cargo run --release --example judge_photos -- A.jpg ...`
//! (the photos `beian calibrate --write-photos` writes are named FAMILY-LABEL-N.jpg).
fn main() -> anyhow::Result<()> {
    use beian::filing::materials::MaterialKind;
    use beian::vision::{decode::IntakeLimits, gate};
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path)?;
        let started = std::time::Instant::now();
        match gate::judge(
            &bytes,
            MaterialKind::IdCardFront,
            &IntakeLimits::default(),
            &gate::Thresholds::default(),
        ) {
            Ok(j) => println!(
                "{path} {} {} {:.0}ms {:?}",
                j.verdict.verdict,
                j.verdict.reasons.join(","),
                started.elapsed().as_secs_f64() * 1000.0,
                j.verdict.document.map(|d| d.quad)
            ),
            Err(e) => println!("{path} error {}", e.code()),
        }
    }
    Ok(())
}
