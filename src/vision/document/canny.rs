//! Canny edges and their dilation, to the bit as `imageproc::edges::canny` and
//! `imageproc::morphology::dilate` make them. Canny (Gaussian σ 1.4, Sobel
//! gradients, thinning across the gradient's direction rounded to 45°, hysteresis over the
//! same six neighbours), with the same outline search's outlines as a result. Faster by doing
//! less, not otherwise: the blur and gradients in row loops (`gaussian`, `sobel`), and the
//! gradient's angle (an `atan2` per pixel, most of the thinning's time) taken only where the
//! magnitude could still become an edge, at or above the low threshold; below it a pixel
//! is no edge whatever the thinning says.

use image::GrayImage;

use super::sobel::{magnitude, sobel};
use crate::vision::gaussian::gaussian_blur;

const SIGMA: f32 = 1.4;
/// As imageproc's thinning converts (not `f32::to_degrees`, which rounds differently).
const RADIANS_TO_DEGREES: f32 = 180.0 / std::f32::consts::PI;

/// Edge pixels (255) and the rest (0); `low` > 0.
pub(super) fn canny(image: &GrayImage, low: f32, high: f32) -> GrayImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let mut out = vec![0u8; w * h];
    if w < 3 || h < 3 {
        return GrayImage::from_raw(w as u32, h as u32, out).expect("w * h pixels");
    }
    let (gx, gy) = sobel(&gaussian_blur(image, SIGMA));
    let g: Vec<f32> = gx.iter().zip(&gy).map(|(&a, &b)| magnitude(a, b)).collect();

    // Thinning: a pixel stays only if neither neighbour across its edge is stronger.
    let mut thin = vec![0f32; w * h];
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            let m = g[i];
            if m < low {
                continue;
            }
            let mut angle = f32::from(gy[i]).atan2(f32::from(gx[i])) * RADIANS_TO_DEGREES;
            if angle < 0.0 {
                angle += 180.0;
            }
            let (a, b) = if !(22.5..157.5).contains(&angle) {
                (i - 1, i + 1)
            } else if angle < 67.5 {
                (i + w + 1, i - w - 1)
            } else if angle < 112.5 {
                (i - w, i + w)
            } else {
                (i + w - 1, i - w + 1)
            };
            if m >= g[a] && m >= g[b] {
                thin[i] = m;
            }
        }
    }

    // Hysteresis: from every pixel at or above `high`, whatever at or above `low` its
    // neighbours reach. imageproc follows six of the eight (not up, nor up and right); what
    // is reached does not depend on the order it is followed in.
    let mut stack = Vec::new();
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            if thin[i] < high || out[i] != 0 {
                continue;
            }
            out[i] = 255;
            stack.push(i);
            while let Some(j) = stack.pop() {
                for n in [j + 1, j + w + 1, j + w, j - w - 1, j - 1, j + w - 1] {
                    if thin[n] >= low && out[n] == 0 {
                        out[n] = 255;
                        stack.push(n);
                    }
                }
            }
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).expect("w * h pixels")
}

/// Every pixel within `radius` (Chebyshev distance) of a non-zero one set to 255, the rest 0,
/// as `imageproc::morphology::dilate` with `Norm::LInf` sets them (which, through a distance
/// transform capped at the image's width plus height, sets every pixel of an image smaller
/// than that): a square is the two passes of a line, along the rows and down the columns.
pub(super) fn dilate(image: &GrayImage, radius: u8) -> GrayImage {
    let (w, h) = (image.width() as usize, image.height() as usize);
    let r = usize::from(radius);
    if (w + h).min(255) <= r {
        return GrayImage::from_pixel(w as u32, h as u32, image::Luma([255]));
    }
    // Along the rows: each pixel ORs in its neighbours up to `r` either side, a shifted
    // slice at a time (the input's non-zero pixels become 1).
    let px = image.as_raw();
    let mut across = vec![0u8; w * h];
    for (row, out) in px.chunks_exact(w).zip(across.chunks_exact_mut(w)) {
        for shift in 0..=r.min(w - 1) {
            for (o, &v) in out[shift..].iter_mut().zip(row) {
                *o |= u8::from(v != 0);
            }
            for (o, &v) in out.iter_mut().zip(&row[shift..]) {
                *o |= u8::from(v != 0);
            }
        }
    }
    let mut out = vec![0u8; w * h];
    for (y, out) in out.chunks_exact_mut(w).enumerate() {
        for yy in y.saturating_sub(r)..=(y + r).min(h - 1) {
            for (o, &a) in out.iter_mut().zip(&across[yy * w..(yy + 1) * w]) {
                *o |= a;
            }
        }
        out.iter_mut().for_each(|o| *o *= 255);
    }
    GrayImage::from_raw(w as u32, h as u32, out).expect("w * h pixels")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn matches_imageproc_to_the_bit() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(5);
        for (w, h) in [(2, 2), (3, 3), (17, 40), (200, 150)] {
            let noise = GrayImage::from_fn(w, h, |_, _| image::Luma([rng.gen()]));
            // Shapes with edges at every angle, on a noisy ground.
            let shapes = GrayImage::from_fn(w, h, |x, y| {
                let (fx, fy) = (x as f32 - w as f32 / 2.0, y as f32 - h as f32 / 3.0);
                let inside = fx * fx + 2.0 * fy * fy < (w * h) as f32 / 6.0 || (x + 2 * y) % 50 < 9;
                image::Luma([if inside { 200 } else { 60 } + rng.gen_range(0..20u8)])
            });
            for img in [&noise, &shapes] {
                for (low, high) in [(18.0, 45.0), (5.0, 10.0), (50.0, 200.0)] {
                    assert_eq!(
                        canny(img, low, high).into_raw(),
                        imageproc::edges::canny(img, low, high).into_raw(),
                        "{w}x{h}, thresholds {low}/{high}"
                    );
                }
            }
        }
    }

    #[test]
    fn dilation_matches_imageproc_to_the_bit() {
        use imageproc::distance_transform::Norm;
        let mut rng = rand::rngs::StdRng::seed_from_u64(8);
        for (w, h) in [(1, 1), (1, 2), (2, 1), (3, 1), (5, 4), (40, 23)] {
            for density in [0.0, 0.02, 0.3] {
                let img = GrayImage::from_fn(w, h, |_, _| {
                    image::Luma([if rng.gen_bool(density) { 255 } else { 0 }])
                });
                for radius in [1, 2, 3] {
                    assert_eq!(
                        dilate(&img, radius),
                        imageproc::morphology::dilate(&img, Norm::LInf, radius),
                        "{w}x{h}, density {density}, radius {radius}"
                    );
                }
            }
        }
    }
}
