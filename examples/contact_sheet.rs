//! Tiles photos into one PNG contact sheet (for looking at fixtures):
//! `cargo run --release --example contact_sheet -- OUT.png A.jpg B.jpg ...`
fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (out, inputs) = args
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("usage: OUT.png IMAGES..."))?;
    let (tw, th) = (480u32, 360u32);
    let cols = 3u32;
    let rows = (inputs.len() as u32).div_ceil(cols);
    let mut sheet = image::RgbImage::new(tw * cols, th * rows);
    for (i, path) in inputs.iter().enumerate() {
        let img = image::open(path)?.thumbnail(tw, th).into_rgb8();
        image::imageops::overlay(
            &mut sheet,
            &img,
            i64::from((i as u32 % cols) * tw),
            i64::from((i as u32 / cols) * th),
        );
    }
    sheet.save(out)?;
    Ok(())
}
