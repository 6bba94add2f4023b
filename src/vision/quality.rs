//! Photo quality measures on the flattened document at a fixed scale, so the numbers do not
//! depend on the camera's resolution or how far away it was held.

use image::{GrayImage, Luma, RgbImage};
use imageproc::region_labelling::{connected_components, Connectivity};

use super::gaussian::gaussian_blur;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measures {
    /// Focus measure: the variance of the second derivative over the document's interior,
    /// in the weakest of four directions (0°, 90°, ±45°), so a blur along one direction
    /// (camera shake) counts as much as a blur in all (defocus).
    pub sharpness: f64,
    /// Mean luma, 0-255.
    pub mean_luma: f64,
    /// Share of the document at or above 250 (clipped highlights).
    pub clipped: f64,
    /// Share of the document covered by specular highlight blobs (glare).
    pub glare: f64,
    /// Spread of the opponent colour channels (Hasler and Süsstrunk's colourfulness without
    /// its mean term) after grey-world balancing, so that a colour cast on a grey copy,
    /// added or scaled, does not count as colour.
    pub colourfulness: f64,
}

pub fn luma(img: &RgbImage) -> GrayImage {
    let grey = img
        .as_raw()
        .chunks_exact(3)
        .map(|p| {
            let [r, g, b] = [0, 1, 2].map(|c| u32::from(p[c]));
            ((299 * r + 587 * g + 114 * b + 500) / 1000) as u8
        })
        .collect();
    GrayImage::from_raw(img.width(), img.height(), grey).expect("one grey pixel per RGB pixel")
}

pub fn mean_luma(gray: &GrayImage) -> f64 {
    let total = f64::from(gray.width() * gray.height()).max(1.0);
    gray.pixels().map(|p| f64::from(p[0])).sum::<f64>() / total
}

/// The luma the lightest 1% of the frame reaches. A card is among the lightest things in
/// most scenes, so a frame with no document found is too dark only when even this is darker
/// than a document may be: a dim scene with light in it would have shown a card.
pub fn bright_end(gray: &GrayImage) -> f64 {
    f64::from(luma_quantile(gray, 0.99))
}

/// The least luma at or below which `share` of the pixels lie.
fn luma_quantile(gray: &GrayImage, share: f64) -> u8 {
    let mut histogram = [0u32; 256];
    for p in gray.pixels() {
        histogram[usize::from(p[0])] += 1;
    }
    let wanted = share * f64::from(gray.width() * gray.height());
    let mut seen = 0;
    let level = histogram.iter().position(|&c| {
        seen += c;
        f64::from(seen) >= wanted
    });
    level.unwrap_or(255) as u8
}

/// Share of pixels at or above 250.
pub fn clipped_share(gray: &GrayImage) -> f64 {
    let n = gray.pixels().filter(|p| p[0] >= 250).count();
    n as f64 / f64::from(gray.width() * gray.height()).max(1.0)
}

/// Luma from which a pixel is taken as saturated (JPEG and sensor noise keep a clipped
/// highlight's core a few levels under 255).
const SATURATED: u8 = 253;
/// Share of a white blob that must be saturated for it to be a highlight.
const MIN_SATURATED_CORE: f64 = 0.1;

/// Measures a flattened document (or a whole frame when there is none).
pub fn measure(doc: &RgbImage) -> Measures {
    let gray = luma(doc);
    let (w, h) = gray.dimensions();
    // The outer 6% hold the document's own border and a sliver of background.
    let (mx, my) = (w * 6 / 100, h * 6 / 100);
    let inside = |x: u32, y: u32| x >= mx && y >= my && x < w - mx && y < h - my;

    let sharpness = directional_sharpness(&gray, mx.max(1), my.max(1));

    let total = f64::from(w * h).max(1.0);
    let mean_luma = mean_luma(&gray);
    let clipped = clipped_share(&gray);

    // Specular highlights are near-white, colourless, and well above the document's own
    // typical brightness (a white photocopy is bright all over, which is not glare).
    let median = luma_quantile(&gray, 0.5);
    let specular_min = median.saturating_add(25).clamp(245, 250);
    let specular: Vec<u8> = doc
        .as_raw()
        .chunks_exact(3)
        .zip(gray.as_raw())
        .map(|(p, &g)| {
            let spread = p[0].max(p[1]).max(p[2]) - p[0].min(p[1]).min(p[2]);
            u8::from(g >= specular_min && spread <= 30) * 255
        })
        .collect();
    // Per blob: its size, and how much of it is saturated (no blobs, no labelling).
    let mut blobs = std::collections::HashMap::<u32, (u32, u32)>::new();
    if specular.iter().any(|&v| v != 0) {
        let specular = GrayImage::from_raw(w, h, specular).expect("one pixel per pixel");
        let labels = connected_components(&specular, Connectivity::Eight, Luma([0]));
        for (p, g) in labels.pixels().zip(gray.pixels()) {
            if p[0] != 0 {
                let blob = blobs.entry(p[0]).or_default();
                blob.0 += 1;
                blob.1 += u32::from(g[0] >= SATURATED);
            }
        }
    }
    // Blobs under 0.1% of the document are print and noise, not glare. A highlight
    // saturates the sensor at its core; a white print area under bright light (an ID card
    // portrait's white background) is as bright at its edge as in its middle and stays
    // below saturation.
    let min_blob = (total * 0.001) as u32;
    let glare = blobs
        .values()
        .filter(|&&(size, saturated)| {
            size >= min_blob && f64::from(saturated) >= MIN_SATURATED_CORE * f64::from(size)
        })
        .map(|&(size, _)| u64::from(size))
        .sum::<u64>() as f64
        / total;

    // A colour cast scales the channels (a bluish light adds more blue to white than to
    // black), so on a grey copy it leaves a spread that grows with brightness: each channel
    // is first scaled to the same mean (grey world), which undoes a scaling cast exactly.
    let mut channel_sum = [0f64; 3];
    for (x, y, p) in doc.enumerate_pixels() {
        if inside(x, y) {
            for (sum, v) in channel_sum.iter_mut().zip(p.0) {
                *sum += f64::from(v);
            }
        }
    }
    let grey = channel_sum.iter().sum::<f64>() / 3.0;
    let balance = channel_sum.map(|sum| if sum > 0.0 { grey / sum } else { 1.0 });

    let (mut rg_sum, mut rg_sq, mut yb_sum, mut yb_sq, mut m) = (0f64, 0f64, 0f64, 0f64, 0f64);
    for (x, y, p) in doc.enumerate_pixels() {
        if inside(x, y) {
            let [r, g, b] = [0, 1, 2].map(|c| f64::from(p.0[c]) * balance[c]);
            let rg = r - g;
            let yb = 0.5 * (r + g) - b;
            rg_sum += rg;
            rg_sq += rg * rg;
            yb_sum += yb;
            yb_sq += yb * yb;
            m += 1.0;
        }
    }
    let var = |s: f64, sq: f64| {
        if m > 0.0 {
            (sq / m - (s / m).powi(2)).max(0.0)
        } else {
            0.0
        }
    };
    let colourfulness = (var(rg_sum, rg_sq) + var(yb_sum, yb_sq)).sqrt();

    Measures {
        sharpness,
        mean_luma,
        clipped,
        glare,
        colourfulness,
    }
}

/// The smallest, over four directions, of the variance of the discrete second derivative
/// `p(x-d) - 2p(x) + p(x+d)`; diagonal steps are √2 long, so their values are halved.
fn directional_sharpness(gray: &GrayImage, mx: u32, my: u32) -> f64 {
    let (w, h) = gray.dimensions();
    if w <= 2 * mx + 2 || h <= 2 * my + 2 {
        return 0.0;
    }
    let px = gray.as_raw();
    let at = |x: u32, y: u32| f64::from(px[(y * w + x) as usize]);
    let dirs: [(i32, i32, f64); 4] = [(1, 0, 1.0), (0, 1, 1.0), (1, 1, 0.5), (1, -1, 0.5)];
    let mut best = f64::INFINITY;
    for (dx, dy, scale) in dirs {
        let (mut n, mut sum, mut sum_sq) = (0f64, 0f64, 0f64);
        for y in my..h - my {
            for x in mx..w - mx {
                let (x0, y0) = ((x as i32 - dx) as u32, (y as i32 - dy) as u32);
                let (x1, y1) = ((x as i32 + dx) as u32, (y as i32 + dy) as u32);
                let v = (at(x0, y0) - 2.0 * at(x, y) + at(x1, y1)) * scale;
                n += 1.0;
                sum += v;
                sum_sq += v * v;
            }
        }
        best = best.min(sum_sq / n - (sum / n).powi(2));
    }
    best
}

/// How crisp a frame's strongest edges are: for each of four directions, the share of the
/// gradient that a re-blur (Gaussian, σ 1 px) takes away from its strongest 1% of pixels,
/// and the least of the four. A sharp edge loses much of its gradient to the re-blur, an
/// already blurred one little (Crété-Roffet's idea, taken on the strongest edges only, so
/// a sharp object in front of a blurred background still reads as a sharp photo; the
/// weakest direction, so camera shake counts as much as defocus). Content-independent
/// enough to be asked of a frame in which no document was found.
pub fn edge_crispness(gray: &GrayImage) -> f64 {
    let (w, h) = (gray.width() as usize, gray.height() as usize);
    if w < 8 || h < 8 {
        return 1.0;
    }
    let blurred = gaussian_blur(gray, 1.0);
    let (sharp, soft) = (gray.as_raw(), blurred.as_raw());
    // Central differences as offsets into the row-major pixels: x, y and the two diagonals.
    let offsets = [1, w, w + 1, w - 1];
    let inner = || (1..h - 1).flat_map(move |y| (y * w + 1)..(y * w + w - 1));
    let mut least = f64::INFINITY;
    for d in offsets {
        let step = |px: &[u8], i: usize| px[i + d].abs_diff(px[i - d]);
        let mut histogram = [0u32; 256];
        for i in inner() {
            histogram[usize::from(step(sharp, i))] += 1;
        }
        let strongest = ((w - 2) * (h - 2) / 100) as u32;
        let mut seen = 0;
        let floor = (0..256usize)
            .rev()
            .find(|&v| {
                seen += histogram[v];
                seen >= strongest
            })
            .unwrap_or(0)
            .max(1) as u8;
        let (mut sharp_sum, mut blurred_sum) = (0u64, 0u64);
        for i in inner() {
            let g = step(sharp, i);
            if g >= floor {
                sharp_sum += u64::from(g);
                blurred_sum += u64::from(step(soft, i));
            }
        }
        if sharp_sum > 0 {
            least = least.min(1.0 - blurred_sum as f64 / sharp_sum as f64);
        }
    }
    // A frame without a single edge (a blank wall) shows no blur either.
    if least.is_finite() {
        least.max(0.0)
    } else {
        1.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;

    fn pattern(colour: bool) -> RgbImage {
        RgbImage::from_fn(400, 250, |x, y| {
            let stripe = ((x / 6 + y / 9) % 2) as u8;
            if colour {
                if stripe == 1 {
                    Rgb([200, 60, 60])
                } else {
                    Rgb([60, 90, 200])
                }
            } else {
                let v = 60 + stripe * 120;
                Rgb([v, v, v.saturating_add(8)])
            }
        })
    }

    #[test]
    fn blur_lowers_sharpness() {
        let sharp = pattern(true);
        let blurred = imageproc::filter::gaussian_blur_f32(&sharp, 2.5);
        assert!(measure(&sharp).sharpness > 4.0 * measure(&blurred).sharpness);
    }

    /// Horizontal camera shake: every pixel averaged with its 8 horizontal neighbours.
    fn shaken(sharp: &RgbImage) -> RgbImage {
        let (w, h) = sharp.dimensions();
        RgbImage::from_fn(w, h, |x, y| {
            let mut acc = [0u32; 3];
            for k in 0..9 {
                let p = sharp.get_pixel((x + k).saturating_sub(4).min(w - 1), y);
                for c in 0..3 {
                    acc[c] += u32::from(p[c]);
                }
            }
            Rgb(acc.map(|v| (v / 9) as u8))
        })
    }

    #[test]
    fn blur_in_one_direction_lowers_sharpness_too() {
        let sharp = pattern(true);
        assert!(measure(&sharp).sharpness > 4.0 * measure(&shaken(&sharp)).sharpness);
    }

    /// Grey squares of `side` px: edges far enough apart for a blur to show as ramps (the
    /// coloured stripes above are almost one luma, and too close for a 9 px shake).
    fn checks(side: u32) -> RgbImage {
        RgbImage::from_fn(400, 250, |x, y| {
            let v = if (x / side + y / side) % 2 == 0 {
                50
            } else {
                200
            };
            Rgb([v, v, v])
        })
    }

    #[test]
    fn defocus_and_shake_take_the_crispness_of_a_frame() {
        let sharp = checks(20);
        let crisp = edge_crispness(&luma(&sharp));
        let defocused = edge_crispness(&luma(&imageproc::filter::gaussian_blur_f32(&sharp, 2.5)));
        let shake = edge_crispness(&luma(&shaken(&sharp)));
        assert!(crisp > 2.0 * defocused, "{crisp} vs {defocused}");
        assert!(crisp > 2.0 * shake, "{crisp} vs {shake}");
    }

    #[test]
    fn a_frame_without_edges_shows_no_blur() {
        let wall = GrayImage::from_pixel(300, 200, image::Luma([170]));
        assert_eq!(edge_crispness(&wall), 1.0);
    }

    #[test]
    fn a_sharp_object_before_a_blurred_background_reads_crisp() {
        // A hand-held card over a scene the lens left soft: the frame is a sharp photo.
        let background = imageproc::filter::gaussian_blur_f32(&checks(30), 4.0);
        let mut frame = background.clone();
        let card = checks(8);
        for y in 80..170 {
            for x in 120..280 {
                frame.put_pixel(x, y, *card.get_pixel(x, y));
            }
        }
        let crisp = edge_crispness(&luma(&frame));
        let all_sharp = edge_crispness(&luma(&card));
        let soft = edge_crispness(&luma(&background));
        assert!(crisp > 0.8 * all_sharp, "{crisp} vs {all_sharp}");
        assert!(crisp > 2.0 * soft, "{crisp} vs {soft}");
    }

    #[test]
    fn a_grey_copy_with_a_colour_cast_is_not_colourful() {
        assert!(
            measure(&pattern(false)).colourfulness < 5.0,
            "{}",
            measure(&pattern(false)).colourfulness
        );
        assert!(measure(&pattern(true)).colourfulness > 40.0);
    }

    #[test]
    fn a_grey_copy_under_bluish_light_is_not_colourful() {
        // The light scales the channels: white turns light blue, black stays black.
        let cast = RgbImage::from_fn(400, 250, |x, y| {
            let v = if (x / 6 + y / 9) % 2 == 0 {
                30.0
            } else {
                220.0
            };
            Rgb([(v * 0.85) as u8, (v * 0.93) as u8, v as u8])
        });
        let c = measure(&cast).colourfulness;
        assert!(c < 3.0, "{c}");
    }

    #[test]
    fn glare_counts_white_blobs_not_the_page() {
        let mut img = RgbImage::from_pixel(400, 250, Rgb([180, 190, 200]));
        assert_eq!(measure(&img).glare, 0.0);
        for y in 100..140 {
            for x in 100..160 {
                img.put_pixel(x, y, Rgb([255, 255, 255]));
            }
        }
        let m = measure(&img);
        assert!((m.glare - 2400.0 / 100_000.0).abs() < 1e-6, "{}", m.glare);
    }

    #[test]
    fn a_white_print_area_that_is_not_saturated_is_not_glare() {
        // A portrait's white background on a brightly lit card: as white as a highlight's
        // rim, nowhere saturated.
        let mut img = RgbImage::from_pixel(400, 250, Rgb([215, 220, 225]));
        for y in 60..200 {
            for x in 260..370 {
                img.put_pixel(x, y, Rgb([250, 250, 250]));
            }
        }
        assert_eq!(measure(&img).glare, 0.0);
        // The same area with a clipped core is a highlight, counted whole.
        for y in 110..150 {
            for x in 290..340 {
                img.put_pixel(x, y, Rgb([255, 255, 255]));
            }
        }
        let g = measure(&img).glare;
        assert!((g - 140.0 * 110.0 / 100_000.0).abs() < 1e-6, "{g}");
    }
}
