//! Composes a rendered card into a phone-like photo with one controlled degradation of known
//! strength, so every sample carries the verdict it should get.

use image::{Rgb, RgbImage, Rgba, RgbaImage};
use imageproc::geometric_transformations::{warp_into, Border, Interpolation, Projection};
use rand::Rng;
use serde::Serialize;

use super::card::{corner_mask, CARD_H, CARD_W};
use super::desk::{self, Family, Photos};
use crate::filing::reason::ReasonCode;

/// What was done to the photo, and so what the gate should say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Label {
    Good,
    Defocus,
    MotionBlur,
    TooDark,
    Overexposed,
    Glare,
    CutOff,
    TooSmall,
    BlackAndWhite,
    NotADocument,
}

impl Label {
    pub const ALL: [Label; 10] = [
        Self::Good,
        Self::Defocus,
        Self::MotionBlur,
        Self::TooDark,
        Self::Overexposed,
        Self::Glare,
        Self::CutOff,
        Self::TooSmall,
        Self::BlackAndWhite,
        Self::NotADocument,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Good => "good",
            Self::Defocus => "defocus",
            Self::MotionBlur => "motion_blur",
            Self::TooDark => "too_dark",
            Self::Overexposed => "overexposed",
            Self::Glare => "glare",
            Self::CutOff => "cut_off",
            Self::TooSmall => "too_small",
            Self::BlackAndWhite => "black_and_white",
            Self::NotADocument => "not_a_document",
        }
    }

    /// The retake reason the gate must give; None for a good photo.
    pub fn expected_reason(self) -> Option<ReasonCode> {
        Some(match self {
            Self::Good => return None,
            Self::Defocus | Self::MotionBlur => ReasonCode::Blurry,
            Self::TooDark => ReasonCode::TooDark,
            Self::Overexposed => ReasonCode::Overexposed,
            Self::Glare => ReasonCode::Glare,
            Self::CutOff => ReasonCode::CutOff,
            Self::TooSmall => ReasonCode::TooSmall,
            Self::BlackAndWhite => ReasonCode::BlackAndWhite,
            Self::NotADocument => ReasonCode::NotADocument,
        })
    }
}

/// A composed photo and how it was made.
pub struct Photo {
    pub label: Label,
    pub image: RgbImage,
    /// The degradation's strength in words ("defocus sigma 0.42 mm").
    pub strength: String,
}

/// Where the card goes: its four corners in the photo.
fn placement(w: u32, h: u32, label: Label, held_out: bool, rng: &mut impl Rng) -> [(f32, f32); 4] {
    let (wf, hf) = (w as f32, h as f32);
    // How much of the frame the card covers: a good photo has it fill a fifth to a half.
    let fill: f32 = match label {
        Label::TooSmall => rng.gen_range(0.01..0.06),
        Label::CutOff => rng.gen_range(0.25..0.5),
        _ => rng.gen_range(0.2..0.5),
    };
    let aspect = CARD_W as f32 / CARD_H as f32;
    let cw = (fill * wf * hf * aspect)
        .sqrt()
        .min(wf * 0.85)
        .min(hf * 0.85 * aspect);
    let ch = cw / aspect;
    // Held-out scenes turn the card further (15 degrees) and tilt the phone more.
    let (max_angle, jitter_share) = if held_out { (0.26, 0.07) } else { (0.2, 0.05) };
    let angle: f32 = rng.gen_range(-max_angle..max_angle);
    let (sin, cos) = angle.sin_cos();
    let half = [
        (-cw / 2.0, -ch / 2.0),
        (cw / 2.0, -ch / 2.0),
        (cw / 2.0, ch / 2.0),
        (-cw / 2.0, ch / 2.0),
    ];
    let jitter = cw * jitter_share;
    let mut corners = half.map(|(x, y)| {
        (
            x * cos - y * sin + rng.gen_range(-jitter..jitter),
            x * sin + y * cos + rng.gen_range(-jitter..jitter),
        )
    });
    let min_x = corners.iter().map(|c| c.0).fold(f32::INFINITY, f32::min);
    let max_x = corners
        .iter()
        .map(|c| c.0)
        .fold(f32::NEG_INFINITY, f32::max);
    let min_y = corners.iter().map(|c| c.1).fold(f32::INFINITY, f32::min);
    let max_y = corners
        .iter()
        .map(|c| c.1)
        .fold(f32::NEG_INFINITY, f32::max);
    let margin = wf.min(hf) * 0.04;
    // Turned and tilted, a large card can outgrow the frame: shrink it until it fits with
    // its margin, or a photo labelled good would be cut off.
    let (span_x, span_y) = (max_x - min_x, max_y - min_y);
    let fit = ((wf - 2.0 * margin) / span_x)
        .min((hf - 2.0 * margin) / span_y)
        .min(1.0);
    if label != Label::CutOff && fit < 1.0 {
        for c in &mut corners {
            c.0 *= fit;
            c.1 *= fit;
        }
    }
    let (min_x, max_x, min_y, max_y) = if label != Label::CutOff && fit < 1.0 {
        (min_x * fit, max_x * fit, min_y * fit, max_y * fit)
    } else {
        (min_x, max_x, min_y, max_y)
    };
    let (cx, cy) = if label == Label::CutOff {
        // 12-35% of the card's width past one edge of the frame.
        let over = cw * rng.gen_range(0.12..0.35);
        match rng.gen_range(0..4) {
            0 => (-min_x - over + 0.0, hf / 2.0),
            1 => (wf - max_x + over, hf / 2.0),
            2 => (wf / 2.0, -min_y - over * 0.6),
            _ => (wf / 2.0, hf - max_y + over * 0.6),
        }
    } else {
        (
            rng.gen_range((margin - min_x)..(wf - margin - max_x).max(margin - min_x + 1.0)),
            rng.gen_range((margin - min_y)..(hf - margin - max_y).max(margin - min_y + 1.0)),
        )
    };
    for c in &mut corners {
        c.0 += cx;
        c.1 += cy;
    }
    corners
}

fn composite(photo: &mut RgbImage, card: &RgbImage, corners: [(f32, f32); 4]) {
    let (w, h) = photo.dimensions();
    let src = RgbaImage::from_fn(CARD_W, CARD_H, |x, y| {
        let [r, g, b] = card.get_pixel(x, y).0;
        Rgba([r, g, b, if corner_mask(x, y) { 255 } else { 0 }])
    });
    let from = [
        (0.0, 0.0),
        (CARD_W as f32, 0.0),
        (CARD_W as f32, CARD_H as f32),
        (0.0, CARD_H as f32),
    ];
    let Some(projection) = Projection::from_control_points(from, corners) else {
        return;
    };
    let mut layer = RgbaImage::new(w, h);
    warp_into(
        &src,
        projection,
        Interpolation::Bilinear,
        Border::Constant(Rgba([0, 0, 0, 0])),
        &mut layer,
    );
    for (p, l) in photo.pixels_mut().zip(layer.pixels()) {
        let a = f32::from(l[3]) / 255.0;
        if a > 0.0 {
            for c in 0..3 {
                p[c] = (f32::from(p[c]) * (1.0 - a) + f32::from(l[c]) * a).round() as u8;
            }
        }
    }
}

fn map_pixels(img: &mut RgbImage, f: impl Fn(f32) -> f32) {
    for p in img.pixels_mut() {
        for c in 0..3 {
            p[c] = f(f32::from(p[c])).clamp(0.0, 255.0) as u8;
        }
    }
}

fn motion_blur(img: &RgbImage, length: f32, angle: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    let steps = length.ceil().max(2.0) as i32;
    let (dx, dy) = (angle.cos(), angle.sin());
    let mut acc = vec![0f32; (w * h * 3) as usize];
    for k in 0..steps {
        let t = k as f32 / (steps - 1) as f32 - 0.5;
        let (ox, oy) = (
            (dx * t * length).round() as i32,
            (dy * t * length).round() as i32,
        );
        for y in 0..h as i32 {
            let sy = (y + oy).clamp(0, h as i32 - 1) as u32;
            for x in 0..w as i32 {
                let sx = (x + ox).clamp(0, w as i32 - 1) as u32;
                let p = img.get_pixel(sx, sy);
                let i = ((y as u32 * w + x as u32) * 3) as usize;
                for c in 0..3 {
                    acc[i + c] += f32::from(p[c]);
                }
            }
        }
    }
    let n = steps as f32;
    RgbImage::from_raw(
        w,
        h,
        acc.into_iter().map(|v| (v / n).round() as u8).collect(),
    )
    .unwrap_or_else(|| img.clone())
}

/// The shadow a card casts on a white surface: its outline, offset and softened, darker.
fn soft_shadow(img: &mut RgbImage, corners: [(f32, f32); 4], rng: &mut impl Rng) {
    let (w, h) = img.dimensions();
    let card_w =
        ((corners[1].0 - corners[0].0).powi(2) + (corners[1].1 - corners[0].1).powi(2)).sqrt();
    let (dx, dy) = (
        rng.gen_range(-0.03..0.03f32) * card_w,
        rng.gen_range(0.005..0.03f32) * card_w,
    );
    let mut mask = image::GrayImage::new(w, h);
    let pts = corners.map(|(x, y)| imageproc::point::Point::new((x + dx) as i32, (y + dy) as i32));
    imageproc::drawing::draw_polygon_mut(&mut mask, &pts, image::Luma([255]));
    let mask = imageproc::filter::gaussian_blur_f32(&mask, card_w * 0.02);
    let depth = rng.gen_range(0.08..0.22f32);
    for (p, m) in img.pixels_mut().zip(mask.pixels()) {
        let k = 1.0 - depth * f32::from(m[0]) / 255.0;
        for c in 0..3 {
            p[c] = (f32::from(p[c]) * k) as u8;
        }
    }
}

/// A thumb holding the card: a skin-coloured rounded shape over part of one side.
fn thumb(img: &mut RgbImage, corners: [(f32, f32); 4], rng: &mut impl Rng) {
    let side = rng.gen_range(0..4);
    let (a, b) = (corners[side], corners[(side + 1) % 4]);
    let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    let t = rng.gen_range(0.25..0.75f32);
    let on = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
    // Outward normal: away from the card's centre.
    let centre = (
        corners.iter().map(|c| c.0).sum::<f32>() / 4.0,
        corners.iter().map(|c| c.1).sum::<f32>() / 4.0,
    );
    let (mut nx, mut ny) = (-(b.1 - a.1) / len, (b.0 - a.0) / len);
    if (on.0 - centre.0) * nx + (on.1 - centre.1) * ny < 0.0 {
        (nx, ny) = (-nx, -ny);
    }
    let along = len * rng.gen_range(0.05..0.08);
    let across = along * rng.gen_range(1.6..2.2);
    // The thumb reaches 20-45% of its length over the card.
    let reach = across * rng.gen_range(0.2..0.45);
    let c = (on.0 + nx * (across - reach), on.1 + ny * (across - reach));
    let skin = [
        rng.gen_range(190.0..230.0f32),
        rng.gen_range(140.0..175.0),
        rng.gen_range(115.0..150.0),
    ];
    let (tx, ty) = ((b.0 - a.0) / len, (b.1 - a.1) / len);
    let (w, h) = img.dimensions();
    let r = across.max(along).ceil() as i32 + 2;
    for y in (c.1 as i32 - r).max(0)..(c.1 as i32 + r).min(h as i32) {
        for x in (c.0 as i32 - r).max(0)..(c.0 as i32 + r).min(w as i32) {
            let (px, py) = (x as f32 - c.0, y as f32 - c.1);
            let (u, v) = (px * tx + py * ty, px * nx + py * ny);
            let d = (u / along).powi(2) + (v / across).powi(2);
            if d <= 1.0 {
                // Rounded: darker towards the rim.
                let shade = 1.0 - 0.25 * d;
                let p = img.get_pixel_mut(x as u32, y as u32);
                *p = Rgb(skin.map(|s| (s * shade) as u8));
            }
        }
    }
}

/// The light of a real room: a colour cast over everything and, sometimes, a soft shadow
/// (a phone or a hand between the lamp and the desk) across part of the scene.
fn cast_and_shadow(img: &mut RgbImage, rng: &mut impl Rng) {
    let cast = [
        rng.gen_range(0.9..1.1f32),
        1.0,
        rng.gen_range(0.85..1.08f32),
    ];
    let (w, h) = img.dimensions();
    let shadow = rng.gen_bool(0.3).then(|| {
        let angle: f32 = rng.gen_range(0.0..std::f32::consts::TAU);
        let offset = rng.gen_range(0.2..0.45) * w.min(h) as f32;
        let depth = rng.gen_range(0.12..0.3f32);
        let soft = 0.04 * w.max(h) as f32;
        (angle.cos(), angle.sin(), offset, depth, soft)
    });
    let (cx, cy) = (w as f32 / 2.0, h as f32 / 2.0);
    for (x, y, p) in img.enumerate_pixels_mut() {
        let mut k = 1.0;
        if let Some((ax, ay, offset, depth, soft)) = shadow {
            let d = (x as f32 - cx) * ax + (y as f32 - cy) * ay - offset;
            k -= depth * (0.5 + 0.5 * (d / soft).clamp(-1.0, 1.0));
        }
        for c in 0..3 {
            p[c] = (f32::from(p[c]) * cast[c] * k).clamp(0.0, 255.0) as u8;
        }
    }
}

/// A photo of `card` (already rendered) of size `w` x `h` with the degradation `label`, on
/// one of the first calibration's plain desks.
pub fn photo(card: &RgbImage, label: Label, w: u32, h: u32, rng: &mut impl Rng) -> Photo {
    photo_in(card, label, Family::Desk, &Photos::default(), w, h, rng)
}

/// Long side at which the newer families are composed; the photo is then scaled to its size
/// (the gate looks at 1024 px, so detail above this would not be seen, and a 12 MP blur
/// would take seconds).
const COMPOSE_LONG_SIDE: u32 = 2048;

/// The same in a scene of `family`.
pub fn photo_in(
    card: &RgbImage,
    label: Label,
    family: Family,
    photos: &Photos,
    w: u32,
    h: u32,
    rng: &mut impl Rng,
) -> Photo {
    let (full_w, full_h) = (w, h);
    let (w, h) = if family == Family::Desk || w.max(h) <= COMPOSE_LONG_SIDE {
        (w, h)
    } else {
        let s = COMPOSE_LONG_SIDE as f32 / w.max(h) as f32;
        ((w as f32 * s).round() as u32, (h as f32 * s).round() as u32)
    };
    let mut img = desk::surface(family, photos, w, h, rng);
    let mut strength = String::new();
    let corners = placement(w, h, label, family.is_held_out(), rng);
    if family == Family::White && label != Label::NotADocument {
        soft_shadow(&mut img, corners, rng);
    }
    let card_w =
        ((corners[1].0 - corners[0].0).powi(2) + (corners[1].1 - corners[0].1).powi(2)).sqrt();
    let px_per_mm = card_w / 85.6;
    match label {
        Label::NotADocument => {
            for _ in 0..rng.gen_range(1..4) {
                let c = (rng.gen_range(0..w) as i32, rng.gen_range(0..h) as i32);
                let colour = Rgb([rng.gen(), rng.gen(), rng.gen()]);
                imageproc::drawing::draw_filled_circle_mut(
                    &mut img,
                    c,
                    rng.gen_range(20..(w / 5) as i32),
                    colour,
                );
            }
            strength = "no card in the frame".into();
        }
        Label::BlackAndWhite => {
            let grey = RgbImage::from_fn(CARD_W, CARD_H, |x, y| {
                let [r, g, b] = card.get_pixel(x, y).0;
                let l =
                    ((299 * u32::from(r) + 587 * u32::from(g) + 114 * u32::from(b)) / 1000) as u8;
                // Photocopies lose the pale background: push it towards paper white.
                let l = (f32::from(l) * 1.03).min(242.0) as u8;
                Rgb([l, l, l])
            });
            composite(&mut img, &grey, corners);
            strength = "grey photocopy".into();
        }
        _ => composite(&mut img, card, corners),
    }
    if family == Family::Hand && label != Label::NotADocument {
        thumb(&mut img, corners, rng);
    }
    if family != Family::Desk {
        cast_and_shadow(&mut img, rng);
    }

    // Uneven light over the whole scene.
    let (gx, gy) = (rng.gen_range(-0.12..0.12f32), rng.gen_range(-0.12..0.12f32));
    for (x, y, p) in img.enumerate_pixels_mut() {
        let f = 1.0 + gx * (x as f32 / w as f32 - 0.5) + gy * (y as f32 / h as f32 - 0.5);
        for c in 0..3 {
            p[c] = (f32::from(p[c]) * f).clamp(0.0, 255.0) as u8;
        }
    }

    match label {
        Label::Defocus => {
            let sigma_mm = rng.gen_range(0.28..0.7f32);
            img = imageproc::filter::gaussian_blur_f32(&img, sigma_mm * px_per_mm);
            strength = format!("defocus sigma {sigma_mm:.2} mm");
        }
        Label::MotionBlur => {
            let len_mm = rng.gen_range(1.0..2.5f32);
            img = motion_blur(
                &img,
                len_mm * px_per_mm,
                rng.gen_range(0.0..std::f32::consts::PI),
            );
            strength = format!("motion {len_mm:.2} mm");
        }
        Label::TooDark => {
            let gain = rng.gen_range(0.15..0.3f32);
            map_pixels(&mut img, |v| v * gain);
            strength = format!("gain {gain:.2}");
        }
        Label::Overexposed => {
            let gain = rng.gen_range(1.9..2.8f32);
            map_pixels(&mut img, |v| v * gain + 20.0);
            strength = format!("gain {gain:.2}");
        }
        Label::Glare => {
            let r = card_w * rng.gen_range(0.08..0.14);
            let t = rng.gen_range(0.25..0.75f32);
            let s = rng.gen_range(0.3..0.7f32);
            let top = (
                corners[0].0 + (corners[1].0 - corners[0].0) * t,
                corners[0].1 + (corners[1].1 - corners[0].1) * t,
            );
            let bottom = (
                corners[3].0 + (corners[2].0 - corners[3].0) * t,
                corners[3].1 + (corners[2].1 - corners[3].1) * t,
            );
            let c = (
                top.0 + (bottom.0 - top.0) * s,
                top.1 + (bottom.1 - top.1) * s,
            );
            for (x, y, p) in img.enumerate_pixels_mut() {
                let d = ((x as f32 - c.0).powi(2) + (y as f32 - c.1).powi(2)).sqrt() / r;
                if d < 2.0 {
                    let k = (1.6 - d).clamp(0.0, 1.0);
                    for ch in 0..3 {
                        p[ch] = (f32::from(p[ch]) + (255.0 - f32::from(p[ch])) * k).round() as u8;
                    }
                }
            }
            strength = format!("spot radius {:.1}% of the card", r / card_w * 100.0);
        }
        Label::Good => {
            let sigma_mm = rng.gen_range(0.0..0.05f32);
            if sigma_mm > 0.01 {
                img = imageproc::filter::gaussian_blur_f32(&img, sigma_mm * px_per_mm);
            }
            strength = format!("sharp (sigma {sigma_mm:.2} mm)");
        }
        Label::CutOff => strength = "card past the frame's edge".into(),
        Label::TooSmall => {
            strength = format!(
                "card {:.0}% of the frame's width",
                card_w / w as f32 * 100.0
            )
        }
        Label::BlackAndWhite | Label::NotADocument => {}
    }

    if (w, h) != (full_w, full_h) {
        img = crate::vision::decode::resize(&img, full_w, full_h);
    }
    // Sensor noise.
    let noise = rng.gen_range(1.5..3.5f32);
    for p in img.pixels_mut() {
        for c in 0..3 {
            let n: f32 =
                (rng.gen::<f32>() + rng.gen::<f32>() + rng.gen::<f32>() - 1.5) * 2.0 * noise;
            p[c] = (f32::from(p[c]) + n).clamp(0.0, 255.0) as u8;
        }
    }
    Photo {
        label,
        image: img,
        strength,
    }
}
