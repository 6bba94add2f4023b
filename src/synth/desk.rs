//! What a card lies on: scene families, each a kind of surface with its own textures, so the
//! gate can be tuned on some and measured on others it never saw.
//!
//! Tuning families: `desk` (the five plain surfaces the gate was first calibrated on), `wood`
//! (procedural wood grain), `fabric` (woven cloth) and `photo` (real photographs as the
//! surface: coffee, china, brick, gravel). Held out: `checked` (gingham tablecloths),
//! `white` (a white card on white paper, with its soft shadow), `hand` (held in a hand over a
//! blurred real scene, a thumb over one edge) and `photo_held` (other real photographs:
//! flower, rocket, grass, astronaut, chelsea).

use std::path::Path;

use image::{imageops, Rgb, RgbImage};
use rand::Rng;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Family {
    Desk,
    Wood,
    Fabric,
    Photo,
    Checked,
    White,
    Hand,
    PhotoHeld,
}

impl Family {
    pub const TUNING: [Family; 4] = [Self::Desk, Self::Wood, Self::Fabric, Self::Photo];
    pub const HELD_OUT: [Family; 4] = [Self::Checked, Self::White, Self::Hand, Self::PhotoHeld];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Desk => "desk",
            Self::Wood => "wood",
            Self::Fabric => "fabric",
            Self::Photo => "photo",
            Self::Checked => "checked",
            Self::White => "white",
            Self::Hand => "hand",
            Self::PhotoHeld => "photo_held",
        }
    }

    pub fn parse(s: &str) -> Option<Family> {
        Self::TUNING
            .into_iter()
            .chain(Self::HELD_OUT)
            .find(|f| f.as_str() == s)
    }

    pub fn is_held_out(self) -> bool {
        Self::HELD_OUT.contains(&self)
    }
}

/// Fixture names (models.toml) of the photographs each photo family draws its surfaces from.
pub const TUNING_PHOTOS: [&str; 4] = ["coffee", "china", "brick", "gravel"];
pub const HELD_OUT_PHOTOS: [&str; 5] = ["flower", "rocket", "grass", "astronaut", "chelsea"];

/// The real photographs, loaded once.
#[derive(Default)]
pub struct Photos {
    pub tuning: Vec<RgbImage>,
    pub held_out: Vec<RgbImage>,
}

impl Photos {
    /// Loads the photographs from the fixtures directory (`beian fetch --fixtures`).
    pub fn load(
        fixtures: &std::collections::BTreeMap<String, std::path::PathBuf>,
    ) -> anyhow::Result<Photos> {
        let load = |names: &[&str]| -> anyhow::Result<Vec<RgbImage>> {
            names
                .iter()
                .map(|n| {
                    let path = fixtures
                        .get(*n)
                        .ok_or_else(|| anyhow::anyhow!("models.toml lists no fixture {n}"))?;
                    open(path)
                })
                .collect()
        };
        Ok(Photos {
            tuning: load(&TUNING_PHOTOS)?,
            held_out: load(&HELD_OUT_PHOTOS)?,
        })
    }
}

fn open(path: &Path) -> anyhow::Result<RgbImage> {
    use anyhow::Context;
    Ok(image::open(path)
        .with_context(|| format!("reading {}", path.display()))?
        .to_rgb8())
}

/// A surface of `w` x `h` for `family`.
pub fn surface(family: Family, photos: &Photos, w: u32, h: u32, rng: &mut impl Rng) -> RgbImage {
    match family {
        Family::Desk => plain(w, h, rng),
        Family::Wood => wood(w, h, rng),
        Family::Fabric => fabric(w, h, rng),
        Family::Checked => checked(w, h, rng),
        Family::White => white_paper(w, h, rng),
        Family::Photo => photo(&photos.tuning, w, h, rng, 0.0),
        Family::PhotoHeld => photo(&photos.held_out, w, h, rng, 0.0),
        // Behind a hand-held card the scene is out of focus.
        Family::Hand => photo(&photos.held_out, w, h, rng, 0.012),
    }
}

/// The five plain surfaces of the first calibration: wood, grey desk, dark checked cloth,
/// light table, green mat.
fn plain(w: u32, h: u32, rng: &mut impl Rng) -> RgbImage {
    let style = rng.gen_range(0..5);
    let base: [f32; 3] = match style {
        0 => [
            rng.gen_range(120.0..170.0),
            rng.gen_range(80.0..110.0),
            rng.gen_range(50.0..70.0),
        ],
        1 => [rng.gen_range(90.0..140.0); 3],
        2 => [
            rng.gen_range(30.0..60.0),
            rng.gen_range(30.0..60.0),
            rng.gen_range(40.0..80.0),
        ],
        3 => [
            rng.gen_range(150.0..190.0),
            rng.gen_range(150.0..190.0),
            rng.gen_range(140.0..180.0),
        ],
        _ => [
            rng.gen_range(60.0..120.0),
            rng.gen_range(100.0..150.0),
            rng.gen_range(60.0..110.0),
        ],
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

/// Smooth value noise in 0..1 on a lattice of `cell` pixels.
struct Noise {
    seed: u32,
}

impl Noise {
    fn lattice(&self, i: i32, j: i32) -> f32 {
        let mut v =
            (i as u32).wrapping_mul(0x9E37_79B1) ^ (j as u32).wrapping_mul(0x85EB_CA77) ^ self.seed;
        v ^= v >> 15;
        v = v.wrapping_mul(0x2C1B_3C6D);
        v ^= v >> 12;
        (v & 0xFFFF) as f32 / 65535.0
    }

    fn at(&self, x: f32, y: f32) -> f32 {
        let (i, j) = (x.floor() as i32, y.floor() as i32);
        let (fx, fy) = (x - x.floor(), y - y.floor());
        let (sx, sy) = (fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy));
        let a = self.lattice(i, j) + (self.lattice(i + 1, j) - self.lattice(i, j)) * sx;
        let b = self.lattice(i, j + 1) + (self.lattice(i + 1, j + 1) - self.lattice(i, j + 1)) * sx;
        a + (b - a) * sy
    }

    /// Two octaves, for a less regular look.
    fn fbm(&self, x: f32, y: f32) -> f32 {
        (self.at(x, y) * 2.0 + self.at(x * 2.03 + 17.0, y * 2.03 + 5.0)) / 3.0
    }
}

/// Planks of wood: growth rings around a far-away centre, bent by noise, with fine streaks
/// along the grain and darker seams between planks.
fn wood(w: u32, h: u32, rng: &mut impl Rng) -> RgbImage {
    let noise = Noise { seed: rng.gen() };
    let base = [
        rng.gen_range(110.0..190.0f32),
        rng.gen_range(70.0..130.0),
        rng.gen_range(35.0..80.0),
    ];
    let scale = w.max(h) as f32;
    let plank = rng.gen_range(0.15..0.35) * scale;
    let ring = rng.gen_range(0.004..0.012) * scale;
    let (cx, cy) = (
        rng.gen_range(-2.0..-1.0) * scale,
        rng.gen_range(0.0..1.0) * scale,
    );
    let vertical = rng.gen_bool(0.5);
    RgbImage::from_fn(w, h, |x, y| {
        let (u, v) = if vertical {
            (y as f32, x as f32)
        } else {
            (x as f32, y as f32)
        };
        let band = (v / plank).floor();
        let seam = ((v / plank).fract() < 0.006) as u8 as f32;
        let d = ((u - cx + band * 911.0).powi(2) + (v - cy).powi(2)).sqrt()
            + noise.fbm(u / (scale * 0.08), v / (scale * 0.08) + band * 7.0) * ring * 6.0;
        let rings = ((d / ring).fract() - 0.5).abs() * 2.0;
        let streak = noise.at(u / (scale * 0.2), v / (scale * 0.002));
        let f = 0.82 + 0.16 * rings + 0.08 * streak - 0.35 * seam;
        Rgb(base.map(|c| (c * f).clamp(0.0, 255.0) as u8))
    })
}

/// Woven cloth: warp and weft threads of two tones, a slow unevenness over the whole piece.
fn fabric(w: u32, h: u32, rng: &mut impl Rng) -> RgbImage {
    let noise = Noise { seed: rng.gen() };
    let warp: [f32; 3] = [
        rng.gen_range(40.0..200.0),
        rng.gen_range(40.0..200.0),
        rng.gen_range(40.0..200.0),
    ];
    let weft = warp.map(|c| c * rng.gen_range(0.75..0.95));
    let thread = rng.gen_range(0.002..0.006) * w.max(h) as f32;
    let slow = w.max(h) as f32 * 0.1;
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / thread, y as f32 / thread);
        let over = ((fx.floor() + fy.floor()) as i32).rem_euclid(2) == 0;
        let shade = 0.9 + 0.1 * (fx.fract() * std::f32::consts::PI).sin();
        let c = if over { warp } else { weft };
        let f = shade * (0.9 + 0.2 * noise.at(x as f32 / slow, y as f32 / slow));
        Rgb(c.map(|v| (v * f).clamp(0.0, 255.0) as u8))
    })
}

/// A gingham tablecloth: stripes of one strong colour on white in both directions, where
/// they cross the colour is full, turned by a random angle.
fn checked(w: u32, h: u32, rng: &mut impl Rng) -> RgbImage {
    const COLOURS: [[f32; 3]; 5] = [
        [190.0, 30.0, 40.0],
        [30.0, 60.0, 160.0],
        [25.0, 25.0, 30.0],
        [40.0, 130.0, 60.0],
        [220.0, 150.0, 30.0],
    ];
    let colour = COLOURS[rng.gen_range(0..COLOURS.len())];
    let paper = [rng.gen_range(225.0..250.0f32); 3];
    let cell = rng.gen_range(0.02..0.08) * w.max(h) as f32;
    let angle: f32 = rng.gen_range(-0.6..0.6);
    let (s, c) = angle.sin_cos();
    RgbImage::from_fn(w, h, |x, y| {
        let (u, v) = (x as f32 * c - y as f32 * s, x as f32 * s + y as f32 * c);
        let a = ((u / cell).floor() as i64).rem_euclid(2) as f32;
        let b = ((v / cell).floor() as i64).rem_euclid(2) as f32;
        // 0: white, 0.5: one stripe, 1: both.
        let k = (a + b) / 2.0;
        Rgb([0, 1, 2].map(|i| (paper[i] + (colour[i] - paper[i]) * k).clamp(0.0, 255.0) as u8))
    })
}

/// White paper or a white desk: nearly the card's own brightness, a faint texture.
fn white_paper(w: u32, h: u32, rng: &mut impl Rng) -> RgbImage {
    let noise = Noise { seed: rng.gen() };
    let base = rng.gen_range(222.0..246.0f32);
    let tint = [rng.gen_range(-4.0..4.0f32), 0.0, rng.gen_range(-6.0..4.0)];
    let fibre = w.max(h) as f32 * 0.01;
    RgbImage::from_fn(w, h, |x, y| {
        let n = (noise.fbm(x as f32 / fibre, y as f32 / fibre) - 0.5) * 6.0;
        Rgb([0, 1, 2].map(|i| (base + tint[i] + n).clamp(0.0, 255.0) as u8))
    })
}

/// A real photograph covering the frame: a random crop of it, scaled up to fill, turned
/// when the frame's orientation differs; `blur` (share of the long side) for depth of field.
fn photo(pool: &[RgbImage], w: u32, h: u32, rng: &mut impl Rng, blur: f32) -> RgbImage {
    let Some(src) = (!pool.is_empty()).then(|| &pool[rng.gen_range(0..pool.len())]) else {
        return plain(w, h, rng);
    };
    let mut src = src.clone();
    if (w > h) != (src.width() > src.height()) {
        src = imageops::rotate90(&src);
    }
    if rng.gen_bool(0.5) {
        imageops::flip_horizontal_in_place(&mut src);
    }
    // A crop of 70-100% of the photo with the frame's aspect.
    let (sw, sh) = (src.width() as f32, src.height() as f32);
    let aspect = w as f32 / h as f32;
    let share = rng.gen_range(0.7..1.0f32);
    let (cw, ch) = if sw / sh > aspect {
        (sh * aspect * share, sh * share)
    } else {
        (sw * share, sw / aspect * share)
    };
    let x0 = rng.gen_range(0.0..=(sw - cw).max(0.0)) as u32;
    let y0 = rng.gen_range(0.0..=(sh - ch).max(0.0)) as u32;
    let crop = imageops::crop_imm(&src, x0, y0, cw as u32, ch as u32).to_image();
    let mut out = crate::vision::decode::resize(&crop, w, h);
    if blur > 0.0 {
        out = imageproc::filter::gaussian_blur_f32(&out, blur * w.max(h) as f32);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::SeedableRng;

    #[test]
    fn every_family_has_a_name_that_parses_back() {
        for f in Family::TUNING.into_iter().chain(Family::HELD_OUT) {
            assert_eq!(Family::parse(f.as_str()), Some(f));
            assert_eq!(f.is_held_out(), Family::HELD_OUT.contains(&f));
        }
    }

    #[test]
    fn procedural_surfaces_are_textured_not_flat() {
        let photos = Photos::default();
        for f in [Family::Wood, Family::Fabric, Family::Checked, Family::White] {
            let img = surface(f, &photos, 320, 240, &mut StdRng::seed_from_u64(3));
            let lumas: Vec<f32> = img.pixels().map(|p| f32::from(p[1])).collect();
            let mean = lumas.iter().sum::<f32>() / lumas.len() as f32;
            let var = lumas.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / lumas.len() as f32;
            assert!(var > 0.5, "{}: variance {var}", f.as_str());
        }
    }
}
