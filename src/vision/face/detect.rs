//! Face detection with YuNet (2023mar): a fixed 640×640 BGR input (0–255, no normalisation);
//! for each of the strides 8, 16 and 32 a score grid (class and objectness, already through a
//! sigmoid: the score is their geometric mean), box offsets and five landmarks per cell.

use image::RgbImage;
use serde::Serialize;

use crate::vision::decode;
use crate::vision::runtime::Model;

const SIZE: u32 = 640;
const STRIDES: [u32; 3] = [8, 16, 32];
/// Candidates below this are not faces (YuNet's own demo keeps 0.9; printed portraits and
/// dim phone frames score lower, and the rules on top ask more of the face that counts).
pub const MIN_SCORE: f32 = 0.6;
const NMS_IOU: f32 = 0.3;

/// A face: its box (x, y, width, height) and the five landmarks — the eye on the image's
/// left, the other eye, the nose tip, the mouth corner on the left, the other corner — in the
/// pixels of the image it was found in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Face {
    pub bbox: [f32; 4],
    pub score: f32,
    pub landmarks: [(f32, f32); 5],
}

impl Face {
    pub fn width(&self) -> f32 {
        self.bbox[2]
    }

    fn iou(&self, other: &Face) -> f32 {
        let [ax, ay, aw, ah] = self.bbox;
        let [bx, by, bw, bh] = other.bbox;
        let ix = ((ax + aw).min(bx + bw) - ax.max(bx)).max(0.0);
        let iy = ((ay + ah).min(by + bh) - ay.max(by)).max(0.0);
        let inter = ix * iy;
        inter / (aw * ah + bw * bh - inter).max(f32::EPSILON)
    }

    /// The same face in an image scaled by `s` and shifted by (dx, dy).
    pub fn mapped(&self, s: f32, dx: f32, dy: f32) -> Face {
        let [x, y, w, h] = self.bbox;
        Face {
            bbox: [x * s + dx, y * s + dy, w * s, h * s],
            score: self.score,
            landmarks: self.landmarks.map(|(px, py)| (px * s + dx, py * s + dy)),
        }
    }
}

pub struct Detector {
    model: Model,
}

impl Detector {
    pub fn new(model: Model) -> Detector {
        Detector { model }
    }

    /// Every face, most certain first. The image is scaled so its long side is 640 (up or
    /// down) and padded at the right and bottom.
    pub fn detect(&self, img: &RgbImage) -> anyhow::Result<Vec<Face>> {
        let (w, h) = img.dimensions();
        let scale = SIZE as f32 / w.max(h).max(1) as f32;
        let nw = ((w as f32 * scale).round() as u32).clamp(1, SIZE);
        let nh = ((h as f32 * scale).round() as u32).clamp(1, SIZE);
        let resized = decode::resize(img, nw, nh);
        let plane = (SIZE * SIZE) as usize;
        let mut input = vec![0f32; 3 * plane];
        for (x, y, p) in resized.enumerate_pixels() {
            let i = (y * SIZE + x) as usize;
            input[i] = f32::from(p[2]);
            input[plane + i] = f32::from(p[1]);
            input[2 * plane + i] = f32::from(p[0]);
        }
        let outputs = self
            .model
            .run_outputs([1, 3, SIZE as usize, SIZE as usize], &input, 12)?;
        let mut faces = Vec::new();
        for (k, stride) in STRIDES.iter().enumerate() {
            // Outputs come as cls_8, cls_16, cls_32, obj_*, bbox_*, kps_*.
            let (cls, obj, bbox, kps) = (
                &outputs[k].1,
                &outputs[3 + k].1,
                &outputs[6 + k].1,
                &outputs[9 + k].1,
            );
            faces.extend(decode_stride(*stride, cls, obj, bbox, kps));
        }
        let faces = nms(faces);
        Ok(faces
            .iter()
            .map(|f| f.mapped(1.0 / scale, 0.0, 0.0))
            .collect())
    }
}

fn decode_stride(stride: u32, cls: &[f32], obj: &[f32], bbox: &[f32], kps: &[f32]) -> Vec<Face> {
    let cols = (SIZE / stride) as usize;
    let s = stride as f32;
    let cells = cls
        .len()
        .min(obj.len())
        .min(bbox.len() / 4)
        .min(kps.len() / 10);
    (0..cells)
        .filter_map(|i| {
            let score = (cls[i].clamp(0.0, 1.0) * obj[i].clamp(0.0, 1.0)).sqrt();
            if score < MIN_SCORE {
                return None;
            }
            let (c, r) = ((i % cols) as f32, (i / cols) as f32);
            let b = &bbox[4 * i..4 * i + 4];
            let (cx, cy) = ((c + b[0]) * s, (r + b[1]) * s);
            let (w, h) = (b[2].exp() * s, b[3].exp() * s);
            let k = &kps[10 * i..10 * i + 10];
            let landmarks = std::array::from_fn(|n| ((k[2 * n] + c) * s, (k[2 * n + 1] + r) * s));
            Some(Face {
                bbox: [cx - w / 2.0, cy - h / 2.0, w, h],
                score,
                landmarks,
            })
        })
        .collect()
}

fn nms(mut faces: Vec<Face>) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for f in faces {
        if kept.iter().all(|k| k.iou(&f) < NMS_IOU) {
            kept.push(f);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, score: f32) -> Face {
        Face {
            bbox: [x, 0.0, 10.0, 10.0],
            score,
            landmarks: [(0.0, 0.0); 5],
        }
    }

    #[test]
    fn overlapping_boxes_keep_the_most_certain() {
        let kept = nms(vec![face(0.0, 0.7), face(1.0, 0.9), face(50.0, 0.8)]);
        let scores: Vec<f32> = kept.iter().map(|f| f.score).collect();
        assert_eq!(scores, vec![0.9, 0.8]);
    }

    #[test]
    fn a_cell_decodes_to_its_grid_position() {
        // Stride 32: 20 columns. Cell 21 is row 1, column 1; offsets 0.5 put the centre at
        // (48, 48); log-size 0 gives a 32-pixel box.
        let n = 400;
        let mut cls = vec![0.0; n];
        let mut obj = vec![0.0; n];
        cls[21] = 0.81;
        obj[21] = 1.0;
        let mut bbox = vec![0.0; 4 * n];
        bbox[84..88].copy_from_slice(&[0.5, 0.5, 0.0, 0.0]);
        let mut kps = vec![0.0; 10 * n];
        kps[210] = 0.25;
        let faces = decode_stride(32, &cls, &obj, &bbox, &kps);
        assert_eq!(faces.len(), 1);
        assert!((faces[0].score - 0.9).abs() < 1e-6);
        assert_eq!(faces[0].bbox, [32.0, 32.0, 32.0, 32.0]);
        assert_eq!(faces[0].landmarks[0], (40.0, 32.0));
    }
}
