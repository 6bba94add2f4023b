//! Faces: YuNet detection with five landmarks, SFace embeddings for matching a live face to
//! the ID card portrait, the passive anti-spoofing model, and the active liveness challenge
//! with its plane test.

pub mod align;
pub mod antispoof;
pub mod capture;
pub mod detect;
pub mod embed;
pub mod exposure;
pub mod homography;
pub mod liveness;
pub mod pose;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use ort::environment::Environment;

pub use self::antispoof::AntiSpoof;
pub use self::detect::{Detector, Face};
pub use self::embed::{Embedder, Embedding};
use self::pose::Pose;
use crate::filing::reason::ReasonCode;
use crate::vision::runtime::Model;

/// Cosine similarity at or above which two faces are the same person. SFace's published
/// operating point (OpenCV Zoo: 0.363 on LFW); our own measurements are in docs/face.md.
pub const SAME_PERSON: f32 = 0.363;

pub struct FaceEngine {
    pub detector: Detector,
    pub embedder: Embedder,
    pub antispoof: AntiSpoof,
}

impl FaceEngine {
    pub fn load(
        env: &Environment,
        files: &BTreeMap<String, PathBuf>,
        threads: usize,
    ) -> anyhow::Result<FaceEngine> {
        let path = |name: &str| {
            files
                .get(name)
                .with_context(|| format!("models.toml names no {name}"))
        };
        Ok(FaceEngine {
            // Small models: one thread each measured as fast as two; the anti-spoofing model
            // is the slow one and gets the configured threads.
            detector: Detector::new(Model::load(env, "yunet", path("yunet")?, 1)?),
            embedder: Embedder::new(Model::load(env, "sface", path("sface")?, 1)?),
            antispoof: AntiSpoof::new(Model::load(env, "fas", path("fas")?, threads)?),
        })
    }
}

/// What a photo of one person's face must be: the rules behind `no_face`, `multiple_faces`,
/// `face_too_small`, `face_cut_off` and `face_turned`.
#[derive(Debug, Clone, Copy)]
pub struct PhotoRules {
    /// The face's width against the picture's shorter side.
    pub min_width_fraction: f32,
    pub min_width_px: f32,
    /// Another face at least this wide (against the main one) is a second person.
    pub second_face_fraction: f32,
    /// How much of the face's box may lie outside the picture.
    pub max_outside_fraction: f32,
    pub max_abs_yaw: f32,
    pub pitch_range: (f32, f32),
}

impl Default for PhotoRules {
    fn default() -> PhotoRules {
        PhotoRules {
            min_width_fraction: 0.12,
            min_width_px: 48.0,
            second_face_fraction: 0.4,
            max_outside_fraction: 0.08,
            max_abs_yaw: 0.35,
            pitch_range: (0.2, 0.85),
        }
    }
}

/// The one face of a photo, or the retake reason.
pub fn the_face(
    faces: &[Face],
    (w, h): (u32, u32),
    rules: &PhotoRules,
) -> Result<Face, ReasonCode> {
    let main = *faces
        .iter()
        .max_by(|a, b| a.width().total_cmp(&b.width()))
        .ok_or(ReasonCode::NoFace)?;
    let others = faces
        .iter()
        .filter(|f| **f != main && f.width() >= rules.second_face_fraction * main.width())
        .count();
    if others > 0 {
        return Err(ReasonCode::MultipleFaces);
    }
    let [x, y, bw, bh] = main.bbox;
    let outside = (-x).max(0.0) + (x + bw - w as f32).max(0.0);
    let outside_v = (-y).max(0.0) + (y + bh - h as f32).max(0.0);
    let landmarks_in = main
        .landmarks
        .iter()
        .all(|&(lx, ly)| lx >= 0.0 && ly >= 0.0 && lx < w as f32 && ly < h as f32);
    if !landmarks_in
        || outside > rules.max_outside_fraction * bw
        || outside_v > rules.max_outside_fraction * bh
    {
        return Err(ReasonCode::FaceCutOff);
    }
    if bw < rules.min_width_px || bw < rules.min_width_fraction * w.min(h) as f32 {
        return Err(ReasonCode::FaceTooSmall);
    }
    let pose = Pose::of(&main.landmarks).ok_or(ReasonCode::FaceTurned)?;
    if pose.yaw.abs() > rules.max_abs_yaw
        || pose.pitch < rules.pitch_range.0
        || pose.pitch > rules.pitch_range.1
    {
        return Err(ReasonCode::FaceTurned);
    }
    Ok(main)
}

/// The face on an ID card's portrait and its embedding: the portrait region of the flattened
/// front (the detector enlarges it), its largest face. `None` when no face is found there.
pub fn portrait_embedding(
    engine: &FaceEngine,
    flat: &image::RgbImage,
    region: [f32; 4],
) -> anyhow::Result<Option<(Face, Embedding)>> {
    let (w, h) = flat.dimensions();
    let x0 = (region[0].max(0.0) as u32).min(w.saturating_sub(2));
    let y0 = (region[1].max(0.0) as u32).min(h.saturating_sub(2));
    let x1 = (region[2].round().max(0.0) as u32).clamp(x0 + 1, w);
    let y1 = (region[3].round().max(0.0) as u32).clamp(y0 + 1, h);
    let crop = image::imageops::crop_imm(flat, x0, y0, x1 - x0, y1 - y0).to_image();
    let faces = engine.detector.detect(&crop)?;
    let Some(face) = faces
        .into_iter()
        .max_by(|a, b| a.width().total_cmp(&b.width()))
    else {
        return Ok(None);
    };
    let embedding = engine.embedder.embed(&crop, &face)?;
    Ok(Some((face.mapped(1.0, x0 as f32, y0 as f32), embedding)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x: f32, y: f32, w: f32) -> Face {
        let l = |fx: f32, fy: f32| (x + fx * w, y + fy * w);
        Face {
            bbox: [x, y, w, w * 1.2],
            score: 0.9,
            landmarks: [
                l(0.3, 0.4),
                l(0.7, 0.4),
                l(0.5, 0.6),
                l(0.35, 0.8),
                l(0.65, 0.8),
            ],
        }
    }

    #[test]
    fn each_photo_rule_gives_its_reason() {
        let r = PhotoRules::default();
        let size = (640, 480);
        assert_eq!(the_face(&[], size, &r), Err(ReasonCode::NoFace));
        assert!(the_face(&[face(200., 100., 200.)], size, &r).is_ok());
        // A small face far behind is not a second person; one of similar size is.
        assert!(the_face(&[face(200., 100., 200.), face(10., 10., 40.)], size, &r).is_ok());
        assert_eq!(
            the_face(&[face(50., 100., 200.), face(400., 100., 150.)], size, &r),
            Err(ReasonCode::MultipleFaces)
        );
        assert_eq!(
            the_face(&[face(500., 100., 200.)], size, &r),
            Err(ReasonCode::FaceCutOff)
        );
        assert_eq!(
            the_face(&[face(300., 200., 50.)], size, &r),
            Err(ReasonCode::FaceTooSmall)
        );
        let mut turned = face(200., 100., 200.);
        turned.landmarks[2].0 += 90.0;
        assert_eq!(the_face(&[turned], size, &r), Err(ReasonCode::FaceTurned));
    }
}
