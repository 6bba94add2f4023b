//! Images to model input tensors.

use image::RgbImage;

/// Writes `img` into a CHW tensor of width `stride` (≥ the image's width) in BGR order,
/// scaled to [-1, 1] as PP-OCR models expect: (v / 255 − 0.5) / 0.5. Columns beyond the
/// image are left as they are (zero, the padding the models were trained with).
pub fn write_bgr_chw(img: &RgbImage, out: &mut [f32], stride: u32) {
    let (w, h) = img.dimensions();
    let plane = (stride * h) as usize;
    debug_assert!(out.len() >= 3 * plane && stride >= w);
    for (x, y, p) in img.enumerate_pixels() {
        let i = (y * stride + x) as usize;
        for (c, &v) in [p[2], p[1], p[0]].iter().enumerate() {
            out[c * plane + i] = f32::from(v) / 127.5 - 1.0;
        }
    }
}
