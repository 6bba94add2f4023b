//! Gaussian blur of a grey image, to the bit as `imageproc::filter::gaussian_blur_f32`
//! computes it (the same kernel, each output the same f32 sum of the same products in the
//! same order, truncated to u8 after each pass, the border padded by repeating its pixels),
//! but in loops over whole rows that the compiler vectorises across pixels: the generic
//! filter, which gathers one pixel at a time, took a quarter of the outline search's time on
//! a 512 px photo. The thresholds were fitted on imageproc's output, so it must not change.

use image::GrayImage;

/// The normalised kernel: 2σ (rounded up) taps either side of the centre.
fn kernel(sigma: f32) -> Vec<f32> {
    let radius = (2.0 * sigma).ceil() as usize;
    let density = |x: f32| {
        (sigma * (2.0 * std::f32::consts::PI).sqrt()).recip()
            * (-x.powi(2) / (2.0 * sigma.powi(2))).exp()
    };
    let mut taps = vec![0.0f32; 2 * radius + 1];
    for i in 0..=radius {
        let v = density(i as f32);
        taps[radius + i] = v;
        taps[radius - i] = v;
    }
    let sum: f32 = taps.iter().sum();
    taps.iter_mut().for_each(|t| *t /= sum);
    taps
}

/// What imageproc's `Clamp<f32> for u8` does: truncation into 0..=255 (its filters and
/// warps end each f32 sum with it).
pub(crate) fn to_u8(v: f32) -> u8 {
    if v < 255.0 {
        if v > 0.0 {
            v as u8
        } else {
            0
        }
    } else {
        255
    }
}

/// The image blurred by a Gaussian of standard deviation `sigma` (> 0).
pub fn gaussian_blur(img: &GrayImage, sigma: f32) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return img.clone();
    }
    let taps = kernel(sigma);
    let radius = taps.len() / 2;
    let px = img.as_raw();
    let mut acc = vec![0.0f32; w];

    // Along the rows: each row padded with its end pixels, then every tap added across it.
    let mut across = vec![0u8; w * h];
    let mut padded = vec![0u8; w + 2 * radius];
    for y in 0..h {
        let row = &px[y * w..(y + 1) * w];
        padded[..radius].fill(row[0]);
        padded[radius..radius + w].copy_from_slice(row);
        padded[radius + w..].fill(row[w - 1]);
        acc.fill(0.0);
        for (i, &k) in taps.iter().enumerate() {
            for (a, &p) in acc.iter_mut().zip(&padded[i..i + w]) {
                *a += f32::from(p) * k;
            }
        }
        for (o, &a) in across[y * w..(y + 1) * w].iter_mut().zip(&acc) {
            *o = to_u8(a);
        }
    }

    // Down the columns: for each output row, the rows the taps reach (clamped to the image).
    let mut out = vec![0u8; w * h];
    for y in 0..h {
        acc.fill(0.0);
        for (i, &k) in taps.iter().enumerate() {
            let r = (y + i).saturating_sub(radius).min(h - 1);
            for (a, &p) in acc.iter_mut().zip(&across[r * w..(r + 1) * w]) {
                *a += f32::from(p) * k;
            }
        }
        for (o, &a) in out[y * w..(y + 1) * w].iter_mut().zip(&acc) {
            *o = to_u8(a);
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).expect("the buffer holds w * h pixels")
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    #[test]
    fn matches_imageproc_to_the_bit_at_every_size_and_sigma() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(11);
        // Sizes below, at and above the kernel's length (imageproc takes another path when
        // the kernel is as long as the image), and the sigmas the code uses.
        for (w, h) in [(1, 1), (3, 9), (7, 7), (13, 2), (41, 29), (160, 90)] {
            // Noise, and a smooth ramp with a step (values that land near whole numbers).
            let noise = GrayImage::from_fn(w, h, |_, _| image::Luma([rng.gen()]));
            let ramp = GrayImage::from_fn(w, h, |x, y| {
                image::Luma([((x * 7 + y * 3) % 256) as u8 | if x > w / 2 { 128 } else { 0 }])
            });
            for img in [&noise, &ramp] {
                for sigma in [0.6, 1.0, 1.4, 1.5, 2.0, 2.5, 3.0, 4.0] {
                    assert_eq!(
                        gaussian_blur(img, sigma).into_raw(),
                        imageproc::filter::gaussian_blur_f32(img, sigma).into_raw(),
                        "{w}x{h}, sigma {sigma}"
                    );
                }
            }
        }
    }
}
