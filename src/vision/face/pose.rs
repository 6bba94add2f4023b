//! Where a face points, from its five landmarks alone. Not angles: ratios that move with
//! them, which is all the challenge needs.
//! - yaw: the nose tip's offset from the midpoint of the eyes along the eye line, in eye
//!   distances; 0 facing the camera, positive when the nose moves towards the image's right
//!   (in a front camera's unmirrored picture: the person turned to their left);
//! - pitch: how far down the nose tip sits between the eye line and the mouth line (about 0.5
//!   facing the camera; smaller looking up, larger looking down);
//! - scale: the eye distance in pixels (grows as the face comes closer).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pose {
    pub yaw: f32,
    pub pitch: f32,
    pub scale: f32,
}

fn sub(a: (f32, f32), b: (f32, f32)) -> (f32, f32) {
    (a.0 - b.0, a.1 - b.1)
}

fn dot(a: (f32, f32), b: (f32, f32)) -> f32 {
    a.0 * b.0 + a.1 * b.1
}

impl Pose {
    pub fn of(landmarks: &[(f32, f32); 5]) -> Option<Pose> {
        let [le, re, nose, lm, rm] = *landmarks;
        let eyes = sub(re, le);
        let scale = dot(eyes, eyes).sqrt();
        if scale < 1.0 {
            return None;
        }
        let along = (eyes.0 / scale, eyes.1 / scale);
        let down = (-along.1, along.0);
        let eye_mid = ((le.0 + re.0) / 2.0, (le.1 + re.1) / 2.0);
        let mouth_mid = ((lm.0 + rm.0) / 2.0, (lm.1 + rm.1) / 2.0);
        let to_nose = sub(nose, eye_mid);
        let face_height = dot(sub(mouth_mid, eye_mid), down);
        if face_height < 1.0 {
            return None;
        }
        Some(Pose {
            yaw: dot(to_nose, along) / scale,
            pitch: dot(to_nose, down) / face_height,
            scale,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FRONT: [(f32, f32); 5] = [(40., 50.), (80., 50.), (60., 70.), (45., 90.), (75., 90.)];

    #[test]
    fn a_frontal_face_has_no_yaw_and_half_pitch() {
        let p = Pose::of(&FRONT).unwrap();
        assert!(p.yaw.abs() < 1e-6);
        assert!((p.pitch - 0.5).abs() < 1e-6);
        assert!((p.scale - 40.0).abs() < 1e-6);
    }

    #[test]
    fn the_nose_moving_right_or_up_reads_as_yaw_and_pitch() {
        let mut turned = FRONT;
        turned[2] = (70., 70.);
        assert!((Pose::of(&turned).unwrap().yaw - 0.25).abs() < 1e-6);
        let mut up = FRONT;
        up[2] = (60., 58.);
        assert!((Pose::of(&up).unwrap().pitch - 0.2).abs() < 1e-6);
        // The measures turn with the head's roll: the same face rotated 90° reads the same.
        let rolled = turned.map(|(x, y)| (-y, x));
        assert!((Pose::of(&rolled).unwrap().yaw - 0.25).abs() < 1e-5);
    }

    #[test]
    fn degenerate_landmarks_have_no_pose() {
        assert!(Pose::of(&[(1., 1.); 5]).is_none());
    }
}
