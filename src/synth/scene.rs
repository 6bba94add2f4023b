//! Composes a rendered card into a phone-like photo with one controlled degradation of known
//! strength, so every sample carries the verdict it should get.

use image::{Rgb, RgbImage, Rgba, RgbaImage};
use imageproc::geometric_transformations::{warp_into, Border, Interpolation, Projection};
use rand::Rng;
use serde::Serialize;

use super::card::{corner_mask, CARD_H, CARD_W};

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
    pub fn expected_reason(self) -> Option<&'static str> {
        match self {
            Self::Good => None,
            Self::Defocus | Self::MotionBlur => Some("blurry"),
            other => Some(other.as_str()),
        }
    }
}

/// A composed photo and how it was made.
pub struct Photo {
    pub label: Label,
    pub image: RgbImage,
    /// The degradation's strength in words ("defocus sigma 0.42 mm").
    pub strength: String,
}

fn background(w: u32, h: u32, rng: &mut impl Rng) -> RgbImage {
    let style = rng.gen_range(0..5);
    let base: [f32; 3] = match style {
        0 => [
            rng.gen_range(120.0..170.0),
            rng.gen_range(80.0..110.0),
            rng.gen_range(50.0..70.0),
        ], // wood
        1 => [rng.gen_range(90.0..140.0); 3], // grey desk
        2 => [
            rng.gen_range(30.0..60.0),
            rng.gen_range(30.0..60.0),
            rng.gen_range(40.0..80.0),
        ], // dark cloth
        3 => [
            rng.gen_range(150.0..190.0),
            rng.gen_range(150.0..190.0),
            rng.gen_range(140.0..180.0),
        ], // light table
        _ => [
            rng.gen_range(60.0..120.0),
            rng.gen_range(100.0..150.0),
            rng.gen_range(60.0..110.0),
        ], // green mat
    };
    let freq = rng.gen_range(0.01..0.05);
    RgbImage::from_fn(w, h, |x, y| {
        let grain = match style {
            0 => ((y as f32 * freq + (x as f32 * 0.004).sin() * 4.0).sin()) * 14.0,
            2 => (((x / 6 + y / 6) % 2) as f32 - 0.5) * 10.0,
            _ => ((x as f32 * freq).sin() * (y as f32 * freq * 0.7).cos()) * 6.0,
        };
        Rgb(base.map(|c| (c + grain).clamp(0.0, 255.0) as u8))
    })
}

/// Where the card goes: its four corners in the photo.
fn placement(w: u32, h: u32, label: Label, rng: &mut impl Rng) -> [(f32, f32); 4] {
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
    let angle: f32 = rng.gen_range(-0.2..0.2);
    let (sin, cos) = angle.sin_cos();
    let half = [
        (-cw / 2.0, -ch / 2.0),
        (cw / 2.0, -ch / 2.0),
        (cw / 2.0, ch / 2.0),
        (-cw / 2.0, ch / 2.0),
    ];
    let jitter = cw * 0.05;
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

/// A photo of `card` (already rendered) of size `w` x `h` with the degradation `label`.
pub fn photo(card: &RgbImage, label: Label, w: u32, h: u32, rng: &mut impl Rng) -> Photo {
    let mut img = background(w, h, rng);
    let mut strength = String::new();
    let corners = placement(w, h, label, rng);
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
