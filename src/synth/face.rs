//! Synthetic face captures made from real photographs, for the liveness tests, the
//! calibration and the benchmark.
//!
//! - `turning_head`: the photo laid on a head-shaped depth surface (an ellipsoid with the
//!   nose standing out of it) and turned or brought closer: what a live person performing the
//!   challenge puts in front of the camera, as far as landmarks can tell. The nose moves
//!   against eyes and mouth because it is nearer the camera than they are.
//! - `flat_moves`: the same photo as a flat print or screen, moved, tilted and brought closer
//!   by homographies: the classic presentation attack.
//! - `portrait`: the face cropped to the ID card portrait's shape, for a card front.

use image::{Rgb, RgbImage};
use imageproc::geometric_transformations::{warp_into, Border, Interpolation, Projection};

use crate::vision::face::liveness::Action;
use crate::vision::face::Face;

/// One pose of the synthetic head: yaw and pitch in radians (positive: the person's left, up)
/// and the scale (1 = as photographed).
#[derive(Debug, Clone, Copy)]
pub struct HeadPose {
    pub yaw: f32,
    pub pitch: f32,
    pub scale: f32,
}

const NEUTRAL: HeadPose = HeadPose {
    yaw: 0.0,
    pitch: 0.0,
    scale: 1.0,
};

/// The pose `fraction` of the way to `action`'s peak.
pub fn performing_pose(action: Action, fraction: f32) -> HeadPose {
    let peak = match action {
        Action::TurnLeft => HeadPose {
            yaw: 0.6,
            ..NEUTRAL
        },
        Action::TurnRight => HeadPose {
            yaw: -0.6,
            ..NEUTRAL
        },
        Action::LookUp => HeadPose {
            pitch: 0.5,
            ..NEUTRAL
        },
        Action::Nod => HeadPose {
            pitch: -0.7,
            ..NEUTRAL
        },
        Action::ComeCloser => HeadPose {
            scale: 1.45,
            ..NEUTRAL
        },
    };
    HeadPose {
        yaw: peak.yaw * fraction,
        pitch: peak.pitch * fraction,
        scale: 1.0 + (peak.scale - 1.0) * fraction,
    }
}

/// The poses of a person performing `challenge`: two still frames, then each action in four
/// frames (on the way, the peak, on the way back, still again; closer stays closer).
pub fn performing(challenge: &[Action]) -> Vec<HeadPose> {
    let mut poses = vec![NEUTRAL, NEUTRAL];
    for &action in challenge {
        let (half, peak) = (performing_pose(action, 0.5), performing_pose(action, 1.0));
        let after = if action == Action::ComeCloser {
            [peak, peak]
        } else {
            [half, NEUTRAL]
        };
        poses.extend([half, peak]);
        poses.extend(after);
    }
    poses
}

/// The photo with the head (found as `face`) turned to `pose`. Each output pixel looks up
/// where it came from by a few fixed-point steps of the forward motion of the surface.
pub fn turning_head(photo: &RgbImage, face: &Face, pose: HeadPose) -> RgbImage {
    let [bx, by, bw, bh] = face.bbox;
    let (cx, cy) = (bx + bw / 2.0, by + bh / 2.0);
    let eye = ((face.landmarks[1].0 - face.landmarks[0].0).powi(2)
        + (face.landmarks[1].1 - face.landmarks[0].1).powi(2))
    .sqrt();
    let (a, b) = (bw * 0.62, bh * 0.62);
    let depth_scale = bw * 0.55;
    let nose = face.landmarks[2];
    let (nose_height, nose_sigma) = (eye * 0.55, eye * 0.32);
    // Depth (towards the camera) of the surface at (x, y), and how much of the head motion
    // the pixel takes part in (1 on the head, fading to 0 at its edge).
    let surface = |x: f32, y: f32| -> (f32, f32) {
        let r = ((x - cx) / a).powi(2) + ((y - cy) / b).powi(2);
        if r >= 1.0 {
            return (0.0, 0.0);
        }
        let dome = depth_scale * (1.0 - r).sqrt();
        let d2 = (x - nose.0).powi(2) + (y - nose.1).powi(2);
        let bump = nose_height * (-d2 / (2.0 * nose_sigma * nose_sigma)).exp();
        let weight = ((1.0 - r) / 0.15).min(1.0);
        (dome + bump, weight)
    };
    let forward = |x: f32, y: f32| -> (f32, f32) {
        let (z, w) = surface(x, y);
        let (dx, dy) = (x - cx, y - cy);
        let (sy, cyaw) = pose.yaw.sin_cos();
        let (sp, cp) = pose.pitch.sin_cos();
        let xr = dx * cyaw + z * sy;
        let zr = -dx * sy + z * cyaw;
        let yr = dy * cp - zr * sp;
        let (tx, ty) = (cx + pose.scale * xr, cy + pose.scale * yr);
        (x + w * (tx - x), y + w * (ty - y))
    };
    let (w, h) = photo.dimensions();
    let mut out = RgbImage::new(w, h);
    for (ox, oy, px) in out.enumerate_pixels_mut() {
        let (ox, oy) = (ox as f32, oy as f32);
        let (mut sx, mut sy) = (ox, oy);
        for _ in 0..14 {
            let (fx, fy) = forward(sx, sy);
            sx += (ox - fx) * 0.5;
            sy += (oy - fy) * 0.5;
        }
        *px = sample(photo, sx, sy);
    }
    out
}

fn sample(img: &RgbImage, x: f32, y: f32) -> Rgb<u8> {
    let (w, h) = img.dimensions();
    let x = x.clamp(0.0, w as f32 - 1.001);
    let y = y.clamp(0.0, h as f32 - 1.001);
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let p = |xx, yy| img.get_pixel(xx, yy).0.map(f32::from);
    let (a, b, c, d) = (p(x0, y0), p(x1, y0), p(x0, y1), p(x1, y1));
    Rgb(std::array::from_fn(|i| {
        let top = a[i] + (b[i] - a[i]) * fx;
        let bottom = c[i] + (d[i] - c[i]) * fx;
        (top + (bottom - top) * fy).round() as u8
    }))
}

/// The photo as a flat picture held up to the camera: for each pose, a homography that
/// shifts it, turns it in the image plane, tilts it away (perspective) and scales it.
pub fn flat_moves(photo: &RgbImage, poses: &[HeadPose]) -> Vec<RgbImage> {
    let (w, h) = photo.dimensions();
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    poses
        .iter()
        .enumerate()
        .map(|(i, pose)| {
            // Tilting a print about its vertical axis foreshortens one side: a perspective
            // term; the attacker also wobbles it a little.
            let wobble = (i as f32 * 1.3).sin() * 0.03;
            let s = pose.scale;
            let (sin, cos) = wobble.sin_cos();
            let px = -pose.yaw * 0.0012;
            let py = pose.pitch * 0.0012;
            // Centre, rotate/scale, perspective, back to the centre.
            let m = [s * cos, -s * sin, 0.0, s * sin, s * cos, 0.0, px, py, 1.0];
            let to_centre = [1.0, 0.0, -cx, 0.0, 1.0, -cy, 0.0, 0.0, 1.0];
            let from_centre = [1.0, 0.0, cx + i as f32 * 3.0, 0.0, 1.0, cy, 0.0, 0.0, 1.0];
            let h3 = mul(&from_centre, &mul(&m, &to_centre));
            let mut out = RgbImage::from_pixel(w, h, Rgb([90, 90, 90]));
            if let Some(p) = Projection::from_matrix(h3) {
                warp_into(
                    photo,
                    p,
                    Interpolation::Bilinear,
                    Border::Constant(Rgb([90, 90, 90])),
                    &mut out,
                );
            }
            out
        })
        .collect()
}

fn mul(a: &[f32; 9], b: &[f32; 9]) -> [f32; 9] {
    std::array::from_fn(|k| {
        let (r, c) = (k / 3, k % 3);
        (0..3).map(|i| a[r * 3 + i] * b[i * 3 + c]).sum()
    })
}

/// The face cropped to the portrait's 26×32 shape, head and shoulders as on a card.
pub fn portrait(photo: &RgbImage, face: &Face) -> RgbImage {
    let [bx, by, bw, bh] = face.bbox;
    let (cx, cy) = (bx + bw / 2.0, by + bh / 2.0);
    let h = bh * 2.0;
    let w = h * 26.0 / 32.0;
    let (iw, ih) = photo.dimensions();
    let x0 = (cx - w / 2.0).clamp(0.0, iw as f32 - 2.0) as u32;
    let y0 = (cy - h * 0.45).clamp(0.0, ih as f32 - 2.0) as u32;
    let cw = (w as u32).min(iw - x0).max(1);
    let ch = (h as u32).min(ih - y0).max(1);
    image::imageops::crop_imm(photo, x0, y0, cw, ch).to_image()
}

/// A phone's front-camera frame of the photo: the face region enlarged into a 480×640 frame.
pub fn phone_frame(photo: &RgbImage, face: &Face) -> (RgbImage, Face) {
    let [bx, by, bw, bh] = face.bbox;
    let (cx, cy) = (bx + bw / 2.0, by + bh / 2.0);
    // The face takes about 40% of the frame's width, as a selfie at arm's length.
    let crop_w = (bw / 0.4).min(photo.width() as f32);
    let crop_h = (crop_w * 4.0 / 3.0).min(photo.height() as f32);
    let x0 = (cx - crop_w / 2.0).clamp(0.0, photo.width() as f32 - crop_w);
    let y0 = (cy - crop_h / 2.0).clamp(0.0, photo.height() as f32 - crop_h);
    let crop = image::imageops::crop_imm(photo, x0 as u32, y0 as u32, crop_w as u32, crop_h as u32)
        .to_image();
    let frame = crate::vision::decode::resize(&crop, 480, 640);
    let s = 480.0 / crop_w;
    (frame, face.mapped(s, -x0 * s, -y0 * s))
}
