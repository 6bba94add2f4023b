use rand::SeedableRng;
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let models = beian::vision::models::Models::shared(
        std::path::Path::new("models"),
        beian::vision::ocr::OcrModels::parse(&args[1]).unwrap(),
        std::env::var("THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2),
    )?;
    let font = beian::synth::font::load_cjk_font()?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(args[2].parse()?);
    let id = beian::synth::identity::Identity::random(&mut rng);
    println!("{id:?}");
    for side in ["front", "back"] {
        let card = if side == "front" {
            beian::synth::card::front(&id, &font, &mut rng)
        } else {
            beian::synth::card::back(&id, &font, &mut rng)
        };
        let img = beian::vision::decode::resize_to_long_side(&card, 960);
        img.save(format!("/tmp/exp/{side}.png"))?;
        let t = std::time::Instant::now();
        let out = models.ocr.read(&img)?;
        println!(
            "{side} {:?} total {:?} turned {}",
            out.timings,
            t.elapsed(),
            out.turned
        );
        for l in &out.lines {
            println!("  {:.3} {:?} {:?}", l.confidence, l.text, l.quad[0]);
        }
    }
    Ok(())
}
