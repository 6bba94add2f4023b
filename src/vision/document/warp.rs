//! A perspective warp with bilinear interpolation and black outside the image, to the bit as
//! `imageproc::geometric_transformations::warp_into` computes it for an RGB image (the same
//! pre-image of each output pixel, the same f32 blends truncated to u8 along the row and then
//! down), in a plain loop over rows: the generic one, which fetches each of the four pixels
//! through a boundary check and a closure per channel, took a tenth of the gate's time
//! flattening the document.

use image::RgbImage;
use imageproc::geometric_transformations::Projection;

use crate::vision::gaussian::to_u8;

/// `out` filled with `img` seen through `projection` (from `img`'s pixels to `out`'s).
pub(super) fn warp(img: &RgbImage, projection: Projection, out: &mut RgbImage) {
    let inverse = projection.invert();
    let (w, h) = (i64::from(img.width()), i64::from(img.height()));
    let src = img.as_raw();
    let stride = 3 * img.width() as usize;
    let width = out.width() as usize;
    if width == 0 {
        return;
    }
    let pixel = |x: i64, y: i64| -> [u8; 3] {
        if x < 0 || x >= w || y < 0 || y >= h {
            return [0; 3];
        }
        let i = ((y * w + x) * 3) as usize;
        [src[i], src[i + 1], src[i + 2]]
    };
    let blend = |a: [u8; 3], b: [u8; 3], t: f32| {
        [0, 1, 2].map(|c| to_u8((1f32 - t) * f32::from(a[c]) + t * f32::from(b[c])))
    };
    for (y, row) in out.as_mut().chunks_mut(3 * width).enumerate() {
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            let (sx, sy) = inverse * (x as f32, y as f32);
            let (left, top) = (floor(sx), floor(sy));
            let (right_weight, bottom_weight) = (sx - left as f32, sy - top as f32);
            let [tl, tr, bl, br] = if left >= 0 && top >= 0 && left + 1 < w && top + 1 < h {
                // All four inside: read straight from the rows.
                let i = ((top * w + left) * 3) as usize;
                let j = i + stride;
                let at = |k: usize| [src[k], src[k + 1], src[k + 2]];
                [at(i), at(i + 3), at(j), at(j + 3)]
            } else {
                [
                    (left, top),
                    (left + 1, top),
                    (left, top + 1),
                    (left + 1, top + 1),
                ]
                .map(|(x, y)| pixel(x, y))
            };
            let upper = blend(tl, tr, right_weight);
            let lower = blend(bl, br, right_weight);
            let [r, g, b] = blend(upper, lower, bottom_weight);
            (px[0], px[1], px[2]) = (r, g, b);
        }
    }
}

/// `x.floor() as i64`, to the bit (NaN to 0, saturating), without the call to `floorf` the
/// baseline x86-64 target makes for `floor`.
fn floor(x: f32) -> i64 {
    let i = x as i64;
    if (i as f32) > x {
        i.saturating_sub(1)
    } else {
        i
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;
    use imageproc::geometric_transformations::{warp_into, Border, Interpolation};
    use rand::{Rng, SeedableRng};

    #[test]
    fn floor_is_the_library_floor() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(9);
        let special = [
            0.0, -0.0, -0.5, 0.5, -1.0, 1.0, -1e-30, 1e20, -1e20, 16777217.0,
        ];
        let odd = [
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            f32::MAX,
            f32::MIN,
        ];
        let random = (0..100_000).map(|_| rng.gen_range(-5000.0f32..5000.0));
        for x in special.into_iter().chain(odd).chain(random) {
            assert_eq!(floor(x), x.floor() as i64, "{x}");
        }
    }

    /// `img` warped by `projection` into a `w` x `h` image, ours and imageproc's.
    fn both(img: &RgbImage, projection: Projection, w: u32, h: u32) -> (RgbImage, RgbImage) {
        let mut ours = RgbImage::new(w, h);
        warp(img, projection, &mut ours);
        let mut theirs = RgbImage::new(w, h);
        let black = Border::Constant(Rgb([0, 0, 0]));
        warp_into(img, projection, Interpolation::Bilinear, black, &mut theirs);
        (ours, theirs)
    }

    #[test]
    fn matches_imageproc_to_the_bit_inside_and_past_the_image() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let img = RgbImage::from_fn(97, 61, |_, _| Rgb([rng.gen(), rng.gen(), rng.gen()]));
        for _ in 0..40 {
            // Quads with corners inside the image and up to 20 px past it.
            let mut corner = |x: f32, y: f32| {
                (
                    x + rng.gen_range(-20.0..20.0),
                    y + rng.gen_range(-20.0..20.0),
                )
            };
            let from = [
                corner(0.0, 0.0),
                corner(96.0, 0.0),
                corner(96.0, 60.0),
                corner(0.0, 60.0),
            ];
            let to = [(0.0, 0.0), (63.0, 0.0), (63.0, 39.0), (0.0, 39.0)];
            let Some(projection) = Projection::from_control_points(from, to) else {
                continue;
            };
            let (ours, theirs) = both(&img, projection, 64, 40);
            assert_eq!(ours, theirs, "{from:?}");
        }
        // A pure scale (imageproc's affine class) and the identity (its translation class).
        for projection in [Projection::scale(0.5, 0.7), Projection::translate(0.0, 0.0)] {
            let (ours, theirs) = both(&img, projection, 50, 30);
            assert_eq!(ours, theirs);
        }
    }
}
