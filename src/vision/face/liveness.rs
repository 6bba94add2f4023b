//! The active challenge: two actions the person must perform in order, checked on the
//! landmark trajectory of the frames the phone sent, plus the plane test on the same frames.

use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};

use super::homography;
use super::pose::Pose;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    TurnLeft,
    TurnRight,
    LookUp,
    Nod,
    ComeCloser,
}

impl Action {
    pub const ALL: [Action; 5] = [
        Action::TurnLeft,
        Action::TurnRight,
        Action::LookUp,
        Action::Nod,
        Action::ComeCloser,
    ];

    pub fn prompt_zh(self) -> &'static str {
        match self {
            Action::TurnLeft => "请向左转头",
            Action::TurnRight => "请向右转头",
            Action::LookUp => "请抬头",
            Action::Nod => "请点头",
            Action::ComeCloser => "请靠近手机",
        }
    }

    /// How far the face has gone towards this action in `pose`, relative to `base`, in units
    /// of what counts as performed (1.0).
    fn progress(self, base: &Pose, pose: &Pose, t: &Thresholds) -> f32 {
        match self {
            Action::TurnLeft => (pose.yaw - base.yaw) / t.yaw,
            Action::TurnRight => (base.yaw - pose.yaw) / t.yaw,
            Action::LookUp => (base.pitch - pose.pitch) / t.pitch,
            Action::Nod => (pose.pitch - base.pitch) / t.pitch,
            Action::ComeCloser => (pose.scale / base.scale - 1.0) / (t.closer - 1.0),
        }
    }
}

impl Action {
    fn turns_the_head_sideways(self) -> bool {
        matches!(self, Action::TurnLeft | Action::TurnRight)
    }
}

/// Two different actions in random order, one of them a turn to the side: the turn is where
/// the plane test is reliable (a print tilted about its horizontal axis moves YuNet's nose
/// landmark as if the head had pitched: docs/face.md), the other action may be any.
pub fn draw_challenge() -> [Action; 2] {
    let mut rng = rand::rngs::OsRng;
    let turn = *[Action::TurnLeft, Action::TurnRight]
        .choose(&mut rng)
        .unwrap_or(&Action::TurnLeft);
    let others: Vec<Action> = Action::ALL.into_iter().filter(|a| *a != turn).collect();
    let other = *others.choose(&mut rng).unwrap_or(&Action::LookUp);
    if rand::Rng::gen_bool(&mut rng, 0.5) {
        [turn, other]
    } else {
        [other, turn]
    }
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct Thresholds {
    /// Yaw change (eye distances) that counts as a turn.
    pub yaw: f32,
    /// Pitch change (fractions of the eye-to-mouth height) that counts as up or a nod.
    pub pitch: f32,
    /// Growth of the eye distance that counts as coming closer.
    pub closer: f32,
    /// Progress below which an action was not performed at all; between this and 1.0 it is
    /// uncertain.
    pub performed_floor: f32,
    /// Nose parallax (eye distances) at or above which the motion is three-dimensional, and
    /// below which it is flat; between the two it is uncertain.
    pub parallax_3d: f32,
    pub parallax_flat: f32,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            yaw: 0.12,
            pitch: 0.06,
            closer: 1.2,
            performed_floor: 0.7,
            parallax_3d: 0.10,
            parallax_flat: 0.06,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ActionResult {
    pub action: Action,
    /// The largest progress reached (1.0 = performed).
    pub progress: f32,
    /// The frame where it was reached.
    pub frame: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    Live,
    Uncertain,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub actions: Vec<ActionResult>,
    /// The smallest nose parallax (eye distances, the way the head was asked to turn) of the
    /// sideways turns, each at its peak frame against the first.
    pub parallax: f32,
    pub finding: Finding,
    /// Why, when not live: `challenge_not_performed`, `flat_motion`, `action_uncertain`,
    /// `parallax_uncertain`.
    pub detail: Option<&'static str>,
}

/// The most frontal frame (smallest yaw, then pitch closest to the first frame's).
pub fn most_frontal(poses: &[Pose]) -> usize {
    let base = poses.first().map_or(0.5, |p| p.pitch);
    let cost = |p: &Pose| p.yaw.abs() + (p.pitch - base).abs();
    (0..poses.len())
        .min_by(|&a, &b| cost(&poses[a]).total_cmp(&cost(&poses[b])))
        .unwrap_or(0)
}

/// Judges the trajectory of one face's landmarks (one entry per frame, in time order).
pub fn evaluate(challenge: &[Action], landmarks: &[[(f32, f32); 5]], t: &Thresholds) -> Evaluation {
    let poses: Vec<Pose> = landmarks.iter().filter_map(Pose::of).collect();
    if poses.len() != landmarks.len() || poses.len() < 2 {
        return Evaluation {
            actions: Vec::new(),
            parallax: 0.0,
            finding: Finding::Failed,
            detail: Some("challenge_not_performed"),
        };
    }
    let base = poses[0];
    let mut actions = Vec::new();
    let mut start = 1;
    for &action in challenge {
        let progress = |i: usize| {
            let p = action.progress(&base, &poses[i], t);
            if action != Action::Nod {
                return p;
            }
            // A nod goes down and comes back: count the smaller of the two movements.
            let back = poses[i..]
                .iter()
                .map(|later| (poses[i].pitch - later.pitch) / t.pitch)
                .fold(0.0, f32::max);
            p.min(back)
        };
        // The first frame that performs it, else the frame that came closest.
        let best = (start..poses.len())
            .find(|&i| progress(i) >= 1.0)
            .or_else(|| (start..poses.len()).max_by(|&a, &b| progress(a).total_cmp(&progress(b))));
        let Some(frame) = best else {
            actions.push(ActionResult {
                action,
                progress: 0.0,
                frame: poses.len(),
            });
            continue;
        };
        actions.push(ActionResult {
            action,
            progress: progress(frame),
            frame,
        });
        start = frame + 1;
    }
    // The plane test, at the frame where each sideways turn peaked: how far the nose stands
    // out of the plane of eyes and mouth corners of the first frame, the way the head went.
    let parallax = actions
        .iter()
        .filter(|a| a.action.turns_the_head_sideways() && a.frame < landmarks.len())
        .map(|a| {
            let (along, _) =
                homography::nose_parallax(&landmarks[0], &landmarks[a.frame]).unwrap_or((0.0, 0.0));
            if a.action == Action::TurnLeft {
                along
            } else {
                -along
            }
        })
        .fold(f32::MAX, f32::min);
    // A challenge without a turn has nothing to show three dimensions with.
    let parallax = if parallax == f32::MAX { 0.0 } else { parallax };

    let weakest = actions.iter().map(|a| a.progress).fold(f32::MAX, f32::min);
    let (finding, detail) = if weakest < t.performed_floor {
        (Finding::Failed, Some("challenge_not_performed"))
    } else if parallax < t.parallax_flat {
        (Finding::Failed, Some("flat_motion"))
    } else if weakest < 1.0 {
        (Finding::Uncertain, Some("action_uncertain"))
    } else if parallax < t.parallax_3d {
        (Finding::Uncertain, Some("parallax_uncertain"))
    } else {
        (Finding::Live, None)
    };
    Evaluation {
        actions,
        parallax,
        finding,
        detail,
    }
}

/// Frame times (milliseconds from the start of the capture) must rise, and the capture must
/// last between `min_ms` and `max_ms`.
pub fn check_timing(times: &[u64], min_ms: u64, max_ms: u64) -> Result<(), &'static str> {
    if times.windows(2).any(|w| w[1] <= w[0]) {
        return Err("frame times must rise");
    }
    let span = times.last().zip(times.first()).map_or(0, |(l, f)| l - f);
    if span < min_ms {
        return Err("the capture is too short to perform the challenge");
    }
    if span > max_ms {
        return Err("the capture lasted longer than the challenge allows");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A synthetic head: eyes and mouth corners on a plane, the nose tip `depth` eye
    /// distances in front of it, turned by yaw and pitch (radians) and seen from afar.
    fn head(yaw: f32, pitch: f32, scale: f32, depth: f32) -> [(f32, f32); 5] {
        let pts = [
            (-0.5, -0.4, 0.0),
            (0.5, -0.4, 0.0),
            (0.0, 0.1, -depth),
            (-0.4, 0.6, 0.0),
            (0.4, 0.6, 0.0),
        ];
        pts.map(|(x, y, z)| {
            // Yaw about the vertical axis (the nose towards the image's right is positive),
            // pitch about the horizontal one (positive lifts the nose: looking up).
            let (x, z) = (x * yaw.cos() - z * yaw.sin(), x * yaw.sin() + z * yaw.cos());
            let (y, _z) = (
                y * pitch.cos() + z * pitch.sin(),
                -y * pitch.sin() + z * pitch.cos(),
            );
            (200.0 + x * 100.0 * scale, 200.0 + y * 100.0 * scale)
        })
    }

    fn sequence(steps: &[(f32, f32, f32)], depth: f32) -> Vec<[(f32, f32); 5]> {
        steps
            .iter()
            .map(|&(y, p, s)| head(y, p, s, depth))
            .collect()
    }

    const LEFT_THEN_UP: [(f32, f32, f32); 8] = [
        (0.0, 0.0, 1.0),
        (0.15, 0.0, 1.0),
        (0.35, 0.0, 1.0),
        (0.1, 0.0, 1.0),
        (0.0, 0.0, 1.0),
        (0.0, 0.2, 1.0),
        (0.0, 0.35, 1.0),
        (0.0, 0.0, 1.0),
    ];

    #[test]
    fn a_head_that_turns_left_then_looks_up_is_live() {
        let e = evaluate(
            &[Action::TurnLeft, Action::LookUp],
            &sequence(&LEFT_THEN_UP, 0.6),
            &Thresholds::default(),
        );
        assert_eq!(e.finding, Finding::Live, "{e:?}");
        assert!(e.actions[0].frame < e.actions[1].frame);
    }

    #[test]
    fn the_same_moves_in_the_wrong_order_or_the_wrong_direction_fail() {
        let t = Thresholds::default();
        let frames = sequence(&LEFT_THEN_UP, 0.6);
        let e = evaluate(&[Action::LookUp, Action::TurnLeft], &frames, &t);
        assert_eq!(e.detail, Some("challenge_not_performed"), "{e:?}");
        let e = evaluate(&[Action::TurnRight, Action::LookUp], &frames, &t);
        assert_eq!(e.finding, Finding::Failed);
    }

    #[test]
    fn a_flat_face_cannot_turn_and_one_that_fakes_the_turn_is_flat() {
        let t = Thresholds::default();
        // Turned as a picture, the nose stays between the eyes: no turn at all.
        let e = evaluate(
            &[Action::TurnLeft, Action::LookUp],
            &sequence(&LEFT_THEN_UP, 0.0),
            &t,
        );
        assert_eq!(e.detail, Some("challenge_not_performed"), "{e:?}");
        // A picture whose nose was moved sideways by a plane warp (a skewed print): the turn
        // reads as performed, but the nose moved with its plane.
        let skew = |l: [(f32, f32); 5], k: f32| l.map(|(x, y)| (x + k * (260.0 - y), y));
        let flat = sequence(&LEFT_THEN_UP, 0.0);
        let frames: Vec<_> = flat
            .iter()
            .enumerate()
            .map(|(i, l)| skew(*l, if i == 2 { -0.6 } else { 0.0 }))
            .collect();
        let e = evaluate(&[Action::TurnLeft], &frames, &t);
        assert!(e.actions[0].progress >= 1.0, "{e:?}");
        assert_eq!(e.detail, Some("flat_motion"), "{e:?}");
    }

    #[test]
    fn a_nod_must_come_back_up_and_coming_closer_alone_is_not_enough() {
        let t = Thresholds::default();
        let nod_then_right = [
            (0.0, 0.0, 1.0),
            (0.0, -0.3, 1.0),
            (0.0, 0.0, 1.0),
            (-0.4, 0.0, 1.0),
            (0.0, 0.0, 1.0),
        ];
        let e = evaluate(
            &[Action::Nod, Action::TurnRight],
            &sequence(&nod_then_right, 0.6),
            &t,
        );
        assert_eq!(e.finding, Finding::Live, "{e:?}");
        // Coming closer is performed, but shows no third dimension without a turn.
        let closer = [(0.0, 0.0, 1.0), (0.0, 0.0, 1.3), (0.0, 0.0, 1.4)];
        let e = evaluate(&[Action::ComeCloser], &sequence(&closer, 0.6), &t);
        assert!(e.actions[0].progress >= 1.0);
        assert_eq!(e.detail, Some("flat_motion"), "{e:?}");
        let head_stays_down = [(0.0, 0.0, 1.0), (0.0, -0.3, 1.0), (0.3, -0.3, 1.0)];
        let e = evaluate(&[Action::Nod], &sequence(&head_stays_down, 0.6), &t);
        assert_eq!(e.finding, Finding::Failed, "{e:?}");
    }

    #[test]
    fn challenges_are_two_different_actions_one_a_turn() {
        let mut firsts = std::collections::HashSet::new();
        for _ in 0..200 {
            let [a, b] = draw_challenge();
            assert_ne!(a, b);
            assert!(a.turns_the_head_sideways() || b.turns_the_head_sideways());
            firsts.insert(a);
        }
        assert_eq!(firsts.len(), 5, "every action comes first sometimes");
    }

    #[test]
    fn timing_rules() {
        assert!(check_timing(&[0, 400, 800, 2000], 1000, 15000).is_ok());
        assert!(check_timing(&[0, 400, 400, 2000], 1000, 15000).is_err());
        assert!(check_timing(&[0, 100, 200], 1000, 15000).is_err());
        assert!(check_timing(&[0, 20000], 1000, 15000).is_err());
    }
}
