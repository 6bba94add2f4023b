//! The 0°/180° text direction classifier (ch_ppocr_mobile_v2.0_cls).

use image::RgbImage;

use super::tensor::write_bgr_chw;
use crate::vision::decode;
use crate::vision::runtime::Model;

const HEIGHT: u32 = 48;
const WIDTH: u32 = 192;
/// A line counts as upside down only when the classifier is this sure.
const FLIP_CONFIDENCE: f32 = 0.9;

/// For each line (already cut out at any height), whether it reads upside down.
pub fn upside_down(model: &Model, lines: &[RgbImage]) -> anyhow::Result<Vec<bool>> {
    if lines.is_empty() {
        return Ok(Vec::new());
    }
    let n = lines.len();
    let plane = (3 * HEIGHT * WIDTH) as usize;
    let mut input = vec![0f32; n * plane];
    for (i, line) in lines.iter().enumerate() {
        let aspect = line.width() as f32 / line.height().max(1) as f32;
        let w = ((HEIGHT as f32 * aspect).ceil() as u32).clamp(1, WIDTH);
        let resized = decode::resize(line, w, HEIGHT);
        write_bgr_chw(&resized, &mut input[i * plane..(i + 1) * plane], WIDTH);
    }
    let (shape, out) = model.run([n, 3, HEIGHT as usize, WIDTH as usize], &input)?;
    anyhow::ensure!(
        shape.len() == 2 && shape[0] == n && shape[1] == 2,
        "classifier output {shape:?} for {n} lines"
    );
    Ok(out
        .chunks(2)
        .map(|p| p[1] > p[0] && p[1] > FLIP_CONFIDENCE)
        .collect())
}
