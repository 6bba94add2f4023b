//! Exposure and focus of a face, measured on the face and not on the frame: a well-lit face
//! above a dark suit is fine, a face in shadow in front of a bright window is not.

use image::{imageops, RgbImage};

use super::Face;
use crate::vision::decode;
use crate::vision::gate::{self, Check, Thresholds};
use crate::vision::quality;

/// The face box is enlarged by this share of its size on every side (hair, chin, cheeks).
const ENLARGE: f32 = 0.15;
/// The crop is measured at this long side, so the numbers do not depend on the camera.
const MEASURE_SIDE: u32 = 128;

/// Brightness, clipped highlights and sharpness of the (slightly enlarged) face box.
pub fn checks(img: &RgbImage, face: &Face, t: &Thresholds) -> Vec<Check> {
    let crop = crop(img, face);
    let m = quality::measure(&crop);
    vec![
        gate::at_least("face_brightness", m.mean_luma, t.min_mean_luma),
        gate::at_most("face_clipped_highlights", m.clipped, t.max_face_clipped),
        gate::at_least("face_sharpness", m.sharpness, t.min_face_sharpness),
    ]
}

fn crop(img: &RgbImage, face: &Face) -> RgbImage {
    let (w, h) = img.dimensions();
    let [x, y, bw, bh] = face.bbox;
    let x0 = (x - bw * ENLARGE).max(0.0) as u32;
    let y0 = (y - bh * ENLARGE).max(0.0) as u32;
    let x1 = ((x + bw * (1.0 + ENLARGE)).min(w as f32) as u32)
        .max(x0 + 1)
        .min(w);
    let y1 = ((y + bh * (1.0 + ENLARGE)).min(h as f32) as u32)
        .max(y0 + 1)
        .min(h);
    let (x0, y0) = (x0.min(w - 1), y0.min(h - 1));
    let crop = imageops::crop_imm(img, x0, y0, x1 - x0, y1 - y0).to_image();
    let s = MEASURE_SIDE as f32 / crop.width().max(crop.height()) as f32;
    let (cw, ch) = (crop.width() as f32 * s, crop.height() as f32 * s);
    decode::resize(
        &crop,
        (cw.round() as u32).max(1),
        (ch.round() as u32).max(1),
    )
}
