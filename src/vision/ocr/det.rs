//! Text detection: PP-OCR's DB (differentiable binarisation) model and its post-processing.
//!
//! The model gives each pixel a probability of being text. Post-processing turns the map into
//! boxes: threshold it, dilate, trace each region's outline, fit its minimum-area rectangle,
//! drop regions whose mean probability is low, then grow each rectangle back out (the model is
//! trained on shrunk text regions) by an offset proportional to area / perimeter.

use image::{GrayImage, Luma, RgbImage};
use imageproc::contours::{find_contours, BorderType};
use imageproc::geometry::min_area_rect;
use imageproc::point::Point;

use super::geometry::{order_corners, Quad};
use super::tensor::write_bgr_chw;
use crate::vision::runtime::Model;
use crate::vision::{decode, document};

#[derive(Debug, Clone, Copy)]
pub struct DetParams {
    /// Long side of the detector's input (cards: 960; the model wants multiples of 32).
    pub limit: u32,
    /// Pixel probability above which a pixel is text.
    pub thresh: f32,
    /// Mean probability a region needs to be kept.
    pub box_thresh: f32,
    /// How far the shrunk region is grown back: offset = area × ratio / perimeter.
    pub unclip_ratio: f32,
    pub max_candidates: usize,
    /// Boxes kept, the most certain first: an ID card has about 15 lines and a licence 25; a
    /// page of dense print uploaded as one would otherwise cost a recogniser run per word.
    pub max_boxes: usize,
    /// Short side, in map pixels, below which a region is noise.
    pub min_size: f32,
}

impl Default for DetParams {
    fn default() -> Self {
        DetParams {
            limit: 960,
            thresh: 0.3,
            box_thresh: 0.5,
            unclip_ratio: 1.6,
            max_candidates: 1000,
            max_boxes: 120,
            min_size: 3.0,
        }
    }
}

/// Sides rounded to multiples of 32 with the long side at most `limit`.
fn input_size(w: u32, h: u32, limit: u32) -> (u32, u32) {
    let scale = (limit as f32 / w.max(h) as f32).min(1.0);
    let round32 = |v: u32| (((v as f32 * scale) / 32.0).round() as u32).max(1) * 32;
    (round32(w), round32(h))
}

/// Text boxes in `img`'s pixel coordinates, each with its mean text probability.
pub fn detect(model: &Model, img: &RgbImage, p: &DetParams) -> anyhow::Result<Vec<(Quad, f32)>> {
    let (w, h) = img.dimensions();
    let (iw, ih) = input_size(w, h, p.limit);
    let resized = decode::resize(img, iw, ih);
    let mut input = vec![0f32; 3 * (iw * ih) as usize];
    write_bgr_chw(&resized, &mut input, iw);
    let (shape, prob) = model.run([1, 3, ih as usize, iw as usize], &input)?;
    let (mh, mw) = (shape[2] as u32, shape[3] as u32);
    anyhow::ensure!(
        prob.len() == (mw * mh) as usize,
        "detector output {shape:?} does not match its input {iw}x{ih}"
    );
    let boxes = boxes_from_map(&prob, mw, mh, p);
    let (sx, sy) = (w as f32 / mw as f32, h as f32 / mh as f32);
    Ok(boxes
        .into_iter()
        .map(|(q, score)| {
            let scaled = q.map(|(x, y)| {
                (
                    (x * sx).clamp(0.0, w as f32 - 1.0),
                    (y * sy).clamp(0.0, h as f32 - 1.0),
                )
            });
            (scaled, score)
        })
        .collect())
}

/// DB post-processing on a `w`×`h` probability map.
pub fn boxes_from_map(prob: &[f32], w: u32, h: u32, p: &DetParams) -> Vec<(Quad, f32)> {
    let bitmap = GrayImage::from_fn(w, h, |x, y| {
        Luma([u8::from(prob[(y * w + x) as usize] > p.thresh) * 255])
    });
    // A 2×2 dilation joins characters split by a thin gap, as PP-OCR does.
    let bitmap = dilate_2x2(&bitmap);
    let mut out = Vec::new();
    let contours = find_contours::<i32>(&bitmap);
    for contour in contours
        .iter()
        .filter(|c| c.border_type == BorderType::Outer)
        .take(p.max_candidates)
    {
        if contour.points.len() < 4 {
            continue;
        }
        let rect = to_f32(min_area_rect(&contour.points));
        if short_side(&rect) < p.min_size {
            continue;
        }
        let score = mean_inside(prob, w, h, &rect);
        if score < p.box_thresh {
            continue;
        }
        let grown = unclip(&rect, p.unclip_ratio);
        if short_side(&grown) < p.min_size + 2.0 {
            continue;
        }
        out.push((grown, score));
    }
    if out.len() > p.max_boxes {
        out.sort_by(|a, b| b.1.total_cmp(&a.1));
        out.truncate(p.max_boxes);
    }
    super::sort_reading_order(&mut out, |b| b.0);
    out
}

fn dilate_2x2(img: &GrayImage) -> GrayImage {
    let (w, h) = img.dimensions();
    GrayImage::from_fn(w, h, |x, y| {
        let on = |dx: u32, dy: u32| x >= dx && y >= dy && img.get_pixel(x - dx, y - dy)[0] > 0;
        Luma([u8::from(on(0, 0) || on(1, 0) || on(0, 1) || on(1, 1)) * 255])
    })
}

fn to_f32(pts: [Point<i32>; 4]) -> Quad {
    order_corners(pts.map(|p| (p.x as f32, p.y as f32)))
}

fn side(a: (f32, f32), b: (f32, f32)) -> f32 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

fn short_side(q: &Quad) -> f32 {
    side(q[0], q[1]).min(side(q[1], q[2]))
}

/// Mean probability over the rectangle (PP-OCR's "fast" box score).
fn mean_inside(prob: &[f32], w: u32, h: u32, q: &Quad) -> f32 {
    let xs = q.map(|p| p.0);
    let ys = q.map(|p| p.1);
    let x0 = xs.iter().copied().fold(f32::MAX, f32::min).floor().max(0.0) as u32;
    let x1 = (xs.iter().copied().fold(f32::MIN, f32::max).ceil() as u32).min(w - 1);
    let y0 = ys.iter().copied().fold(f32::MAX, f32::min).floor().max(0.0) as u32;
    let y1 = (ys.iter().copied().fold(f32::MIN, f32::max).ceil() as u32).min(h - 1);
    let (mut sum, mut n) = (0f32, 0u32);
    for y in y0..=y1 {
        for x in x0..=x1 {
            if document::Quad(*q).contains((x as f32, y as f32)) {
                sum += prob[(y * w + x) as usize];
                n += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        sum / n as f32
    }
}

/// Grows a rectangle outward by `area × ratio / perimeter` on every side: the polygon offset
/// of PP-OCR's unclip, which for a rectangle is again a rectangle.
pub fn unclip(q: &Quad, ratio: f32) -> Quad {
    let (w, h) = (side(q[0], q[1]), side(q[1], q[2]));
    let perimeter = 2.0 * (w + h);
    if perimeter <= 0.0 {
        return *q;
    }
    let d = w * h * ratio / perimeter;
    let c = (
        q.iter().map(|p| p.0).sum::<f32>() / 4.0,
        q.iter().map(|p| p.1).sum::<f32>() / 4.0,
    );
    let unit = |a: (f32, f32), b: (f32, f32)| {
        let l = side(a, b).max(1e-6);
        ((b.0 - a.0) / l, (b.1 - a.1) / l)
    };
    let u = unit(q[0], q[1]);
    let v = unit(q[1], q[2]);
    let (hw, hh) = (w / 2.0 + d, h / 2.0 + d);
    let at = |su: f32, sv: f32| {
        (
            c.0 + su * hw * u.0 + sv * hh * v.0,
            c.1 + su * hw * u.1 + sv * hh * v.1,
        )
    };
    [at(-1.0, -1.0), at(1.0, -1.0), at(1.0, 1.0), at(-1.0, 1.0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_sides_are_multiples_of_32_within_the_limit() {
        assert_eq!(input_size(1712, 1080, 960), (960, 608));
        assert_eq!(input_size(300, 100, 960), (288, 96));
        assert_eq!(input_size(10, 10, 960), (32, 32));
    }

    #[test]
    fn unclip_grows_a_rectangle_by_area_over_perimeter() {
        let q = [(10.0, 10.0), (110.0, 10.0), (110.0, 30.0), (10.0, 30.0)];
        // 100×20: d = 2000 × 1.5 / 240 = 12.5
        let g = unclip(&q, 1.5);
        assert!(
            (g[0].0 + 2.5).abs() < 1e-3 && (g[0].1 + 2.5).abs() < 1e-3,
            "{g:?}"
        );
        assert!(
            (g[2].0 - 122.5).abs() < 1e-3 && (g[2].1 - 42.5).abs() < 1e-3,
            "{g:?}"
        );
    }

    #[test]
    fn a_probability_map_with_two_words_gives_two_boxes_in_reading_order() {
        let (w, h) = (200u32, 60u32);
        let mut prob = vec![0.05f32; (w * h) as usize];
        for (x0, x1) in [(120, 180), (20, 90)] {
            for y in 20..32 {
                for x in x0..x1 {
                    prob[(y * w + x) as usize] = 0.9;
                }
            }
        }
        let boxes = boxes_from_map(&prob, w, h, &DetParams::default());
        assert_eq!(boxes.len(), 2, "{boxes:?}");
        assert!(boxes[0].0[0].0 < boxes[1].0[0].0, "left word first");
        assert!(boxes[0].1 > 0.8);
        // Grown back out beyond the shrunk region on every side.
        assert!(boxes[0].0[0].0 < 20.0 && boxes[0].0[2].0 > 90.0);
        assert!(boxes[0].0[0].1 < 20.0 && boxes[0].0[2].1 > 31.0);
    }

    #[test]
    fn dense_print_is_cut_to_the_most_certain_boxes() {
        let (w, h) = (400u32, 400u32);
        let mut prob = vec![0.0f32; (w * h) as usize];
        // 20 × 20 = 400 separate words, the left half more certain than the right.
        for row in 0..20 {
            for col in 0..20 {
                for y in row * 20 + 6..row * 20 + 14 {
                    for x in col * 20 + 4..col * 20 + 16 {
                        prob[(y * w + x) as usize] = if col < 10 { 0.95 } else { 0.7 };
                    }
                }
            }
        }
        let p = DetParams {
            unclip_ratio: 0.5,
            ..DetParams::default()
        };
        let boxes = boxes_from_map(&prob, w, h, &p);
        assert_eq!(boxes.len(), 120);
        assert!(
            boxes.iter().all(|b| b.0[0].0 < 200.0),
            "the certain half is kept"
        );
    }

    #[test]
    fn faint_regions_are_dropped_by_the_box_score() {
        let (w, h) = (100u32, 40u32);
        let mut prob = vec![0.0f32; (w * h) as usize];
        for y in 10..25 {
            for x in 10..80 {
                prob[(y * w + x) as usize] = 0.4;
            }
        }
        assert!(boxes_from_map(&prob, w, h, &DetParams::default()).is_empty());
    }
}
