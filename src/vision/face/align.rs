//! Aligning a face to the 112×112 template the embedding model was trained on: the similarity
//! transform (rotation, uniform scale, shift) that best maps the five landmarks onto the
//! template's, in the least-squares sense.

use image::{Rgb, RgbImage};
use imageproc::geometric_transformations::{warp_into, Border, Interpolation, Projection};

/// Where the five landmarks sit in an aligned 112×112 face (the ArcFace template, which
/// SFace uses too).
pub const TEMPLATE: [(f32, f32); 5] = [
    (38.2946, 51.6963),
    (73.5318, 51.5014),
    (56.0252, 71.7366),
    (41.5493, 92.3655),
    (70.7299, 92.2041),
];

/// A similarity transform: (x, y) → (a·x − b·y + tx, b·x + a·y + ty).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Similarity {
    pub a: f32,
    pub b: f32,
    pub tx: f32,
    pub ty: f32,
}

impl Similarity {
    /// The least-squares similarity from `from` to `to`: as complex numbers, the factor
    /// a + ib = Σ conj(p)·q / Σ |p|² over the centred points.
    pub fn estimate(from: &[(f32, f32)], to: &[(f32, f32)]) -> Option<Similarity> {
        let n = from.len().min(to.len());
        if n < 2 {
            return None;
        }
        let mean = |pts: &[(f32, f32)]| {
            let (sx, sy) = pts[..n]
                .iter()
                .fold((0.0, 0.0), |(sx, sy), p| (sx + p.0, sy + p.1));
            (sx / n as f32, sy / n as f32)
        };
        let (mp, mq) = (mean(from), mean(to));
        let (mut re, mut im, mut norm) = (0.0f32, 0.0f32, 0.0f32);
        for (p, q) in from.iter().zip(to).take(n) {
            let (px, py) = (p.0 - mp.0, p.1 - mp.1);
            let (qx, qy) = (q.0 - mq.0, q.1 - mq.1);
            re += px * qx + py * qy;
            im += px * qy - py * qx;
            norm += px * px + py * py;
        }
        if norm <= f32::EPSILON {
            return None;
        }
        let (a, b) = (re / norm, im / norm);
        Some(Similarity {
            a,
            b,
            tx: mq.0 - (a * mp.0 - b * mp.1),
            ty: mq.1 - (b * mp.0 + a * mp.1),
        })
    }

    pub fn apply(&self, p: (f32, f32)) -> (f32, f32) {
        (
            self.a * p.0 - self.b * p.1 + self.tx,
            self.b * p.0 + self.a * p.1 + self.ty,
        )
    }

    fn projection(&self) -> Option<Projection> {
        Projection::from_matrix([
            self.a, -self.b, self.tx, self.b, self.a, self.ty, 0.0, 0.0, 1.0,
        ])
    }
}

/// The face cut out of `img` and turned upright onto the template (grey where the face runs
/// off the image).
pub fn aligned(img: &RgbImage, landmarks: &[(f32, f32); 5]) -> Option<RgbImage> {
    let projection = Similarity::estimate(landmarks, &TEMPLATE)?.projection()?;
    let mut out = RgbImage::new(112, 112);
    warp_into(
        img,
        projection,
        Interpolation::Bilinear,
        Border::Constant(Rgb([127, 127, 127])),
        &mut out,
    );
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rotated_scaled_shifted_copy_of_the_template_maps_back_exactly() {
        let (angle, scale): (f32, f32) = (0.4, 2.5);
        let (c, s) = (angle.cos() * scale, angle.sin() * scale);
        let moved: Vec<(f32, f32)> = TEMPLATE
            .iter()
            .map(|&(x, y)| (c * x - s * y + 30.0, s * x + c * y - 7.0))
            .collect();
        let t = Similarity::estimate(&moved, &TEMPLATE).unwrap();
        for (m, want) in moved.iter().zip(TEMPLATE) {
            let got = t.apply(*m);
            assert!((got.0 - want.0).abs() < 1e-3 && (got.1 - want.1).abs() < 1e-3);
        }
    }

    #[test]
    fn points_all_in_one_place_have_no_transform() {
        assert!(Similarity::estimate(&[(1.0, 1.0); 5], &TEMPLATE).is_none());
    }
}
