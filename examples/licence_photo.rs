//! Writes a synthetic business-licence photo (and prints what it says), for trying `check`:
//! `cargo run --release --example licence_photo -- OUT.jpg [SEED]`.
use rand::SeedableRng;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).map_or("licence.jpg", String::as_str);
    let seed = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let font = beian::synth::font::load_cjk_font()?;
    let licence = beian::synth::licence::Licence::random(&mut rng);
    let page = beian::synth::licence::render(&licence, &font, &mut rng);
    let photo = beian::synth::licence::photo(&page, 4000, 3000, &mut rng);
    std::fs::write(out, beian::vision::decode::reencode_jpeg(&photo, 88))?;
    println!("{licence:?}");
    Ok(())
}
