//! Judging a liveness capture: the frames the phone sent while the person performed the
//! challenge. Detection on every frame; the embedding on three (the most frontal, the first,
//! the last: the same person throughout); the passive model on the most frontal only.

use std::time::{Duration, Instant};

use image::RgbImage;
use serde::Serialize;

use super::liveness::{self, Action, Evaluation, Finding, Thresholds};
use super::pose::Pose;
use super::{the_face, Embedding, Face, FaceEngine, PhotoRules, SAME_PERSON};
use crate::filing::reason::ReasonCode;
use crate::vision::decode::{self, IntakeError, IntakeLimits};
use crate::vision::gate::Check;

/// A frame is a phone camera still; larger is refused before decoding.
pub const MAX_FRAME_SIDE: u32 = 1920;
/// Frames are judged at this long side (the detector works at 640).
const WORK_SIDE: u32 = 960;

/// One frame checked like any upload (type, structure, size before decoding), decoded and
/// scaled to the working size.
pub fn decode_frame(bytes: &[u8], limits: &IntakeLimits) -> Result<RgbImage, IntakeError> {
    let probe = decode::probe(bytes, limits)?;
    let (w, h) = probe.oriented_size();
    if w.max(h) > MAX_FRAME_SIDE {
        return Err(IntakeError::TooLarge(format!(
            "a frame of {w}×{h}; frames are at most {MAX_FRAME_SIDE} pixels a side"
        )));
    }
    let img = decode::decode_full(bytes, &probe, limits)?;
    Ok(decode::resize_to_long_side(&img, WORK_SIDE))
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameSummary {
    pub t_ms: u64,
    pub faces: usize,
    pub face: Option<Face>,
    pub pose: Option<Pose>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct CaptureTimings {
    pub detect: Duration,
    pub embed: Duration,
    pub passive: Duration,
}

pub struct CaptureReport {
    /// `pass`, `retake` or `flagged`.
    pub state: &'static str,
    pub reasons: Vec<ReasonCode>,
    pub checks: Vec<Check>,
    pub frames: Vec<FrameSummary>,
    pub evaluation: Option<Evaluation>,
    /// The most frontal frame: the one kept for the reviewer, and its embedding.
    pub best: Option<(usize, Embedding)>,
    pub passive: Option<f32>,
    pub timings: CaptureTimings,
}

impl CaptureReport {
    fn retake(reason: ReasonCode, frames: Vec<FrameSummary>, timings: CaptureTimings) -> Self {
        CaptureReport {
            state: "retake",
            reasons: vec![reason],
            checks: Vec::new(),
            frames,
            evaluation: None,
            best: None,
            passive: None,
            timings,
        }
    }
}

fn check(name: &'static str, value: f32, threshold: f32, ok: bool) -> Check {
    Check {
        check: name,
        value: (f64::from(value) * 1000.0).round() / 1000.0,
        threshold: (f64::from(threshold) * 1000.0).round() / 1000.0,
        ok,
    }
}

pub fn judge(
    engine: &FaceEngine,
    frames: &[(u64, RgbImage)],
    challenge: &[Action],
    thresholds: &Thresholds,
) -> anyhow::Result<CaptureReport> {
    let mut timings = CaptureTimings::default();
    let rules = PhotoRules {
        // The challenge itself turns the head and brings it closer: only presence, one
        // person and the whole face are asked of every frame.
        max_abs_yaw: f32::MAX,
        pitch_range: (f32::MIN, f32::MAX),
        ..PhotoRules::default()
    };
    let mut summaries = Vec::with_capacity(frames.len());
    let mut problem = None;
    let started = Instant::now();
    for (t_ms, img) in frames {
        let faces = engine.detector.detect(img)?;
        let found = the_face(&faces, img.dimensions(), &rules);
        if let Err(reason) = found {
            // The most telling reason wins: a second person over a missing face.
            if problem.is_none() || reason == ReasonCode::MultipleFaces {
                problem = Some(reason);
            }
        }
        let face = found.ok();
        summaries.push(FrameSummary {
            t_ms: *t_ms,
            faces: faces.len(),
            face,
            pose: face.and_then(|f| Pose::of(&f.landmarks)),
        });
    }
    timings.detect = started.elapsed();
    if summaries.is_empty() {
        return Ok(CaptureReport::retake(
            ReasonCode::NoFace,
            summaries,
            timings,
        ));
    }
    if let Some(reason) = problem {
        return Ok(CaptureReport::retake(reason, summaries, timings));
    }
    // Landmarks that give no pose (all in one place) cannot perform anything; and every
    // frame below keeps its index, so none may drop out.
    if summaries.iter().any(|s| s.pose.is_none()) {
        return Ok(CaptureReport::retake(
            ReasonCode::LivenessChallengeFailed,
            summaries,
            timings,
        ));
    }
    let landmarks: Vec<[(f32, f32); 5]> = summaries
        .iter()
        .filter_map(|s| s.face.map(|f| f.landmarks))
        .collect();
    let poses: Vec<Pose> = summaries.iter().filter_map(|s| s.pose).collect();
    let evaluation = liveness::evaluate(challenge, &landmarks, thresholds);

    // The same person throughout: the most frontal frame against the first and the last.
    let started = Instant::now();
    let best = liveness::most_frontal(&poses);
    let embed = |i: usize| -> anyhow::Result<Embedding> {
        let face = summaries[i]
            .face
            .ok_or_else(|| anyhow::anyhow!("frame {i} lost its face"))?;
        engine.embedder.embed(&frames[i].1, &face)
    };
    let best_embedding = embed(best)?;
    let mut same = 1.0f32;
    for i in [0, frames.len() - 1] {
        if i != best {
            same = same.min(best_embedding.cosine(&embed(i)?));
        }
    }
    timings.embed = started.elapsed();

    let started = Instant::now();
    let passive = match summaries[best].face {
        Some(face) => Some(engine.antispoof.score(&frames[best].1, &face)?),
        None => None,
    };
    timings.passive = started.elapsed();

    let mut checks: Vec<Check> = evaluation
        .actions
        .iter()
        .map(|a| {
            let name = match a.action {
                Action::TurnLeft => "action_turn_left",
                Action::TurnRight => "action_turn_right",
                Action::LookUp => "action_look_up",
                Action::Nod => "action_nod",
                Action::ComeCloser => "action_come_closer",
            };
            check(name, a.progress, 1.0, a.progress >= 1.0)
        })
        .collect();
    checks.push(check(
        "nose_parallax",
        evaluation.parallax,
        thresholds.parallax_3d,
        evaluation.parallax >= thresholds.parallax_3d,
    ));
    checks.push(check("same_person", same, SAME_PERSON, same >= SAME_PERSON));
    if let Some(p) = passive {
        // Recorded for the reviewer; see docs/face.md for why it decides nothing.
        checks.push(check(
            "passive_liveness",
            p,
            super::antispoof::LIVE_ABOVE,
            p > super::antispoof::LIVE_ABOVE,
        ));
    }

    let (state, reasons) = if same < SAME_PERSON {
        ("retake", vec![ReasonCode::LivenessChallengeFailed])
    } else {
        match evaluation.finding {
            Finding::Live => ("pass", vec![]),
            Finding::Uncertain => ("flagged", vec![ReasonCode::LivenessUncertain]),
            Finding::Failed => ("retake", vec![ReasonCode::LivenessChallengeFailed]),
        }
    };
    Ok(CaptureReport {
        state,
        reasons,
        checks,
        frames: summaries,
        evaluation: Some(evaluation),
        best: Some((best, best_embedding)),
        passive,
        timings,
    })
}
