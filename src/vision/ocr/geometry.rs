//! Text boxes and cutting them out of the page.

use image::RgbImage;

use crate::vision::document;

/// Corners of a text box: top-left, top-right, bottom-right, bottom-left.
pub type Quad = [(f32, f32); 4];

/// Orders a rectangle's corners TL, TR, BR, BL: the two left-most points are the left side.
pub fn order_corners(mut pts: [(f32, f32); 4]) -> Quad {
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (tl, bl) = if pts[0].1 <= pts[1].1 {
        (pts[0], pts[1])
    } else {
        (pts[1], pts[0])
    };
    let (tr, br) = if pts[2].1 <= pts[3].1 {
        (pts[2], pts[3])
    } else {
        (pts[3], pts[2])
    };
    [tl, tr, br, bl]
}

fn dist(a: (f32, f32), b: (f32, f32)) -> f32 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

/// Width and height of a box (the longer of each pair of opposite sides).
pub fn box_size(q: &Quad) -> (f32, f32) {
    (
        dist(q[0], q[1]).max(dist(q[3], q[2])),
        dist(q[0], q[3]).max(dist(q[1], q[2])),
    )
}

/// The box flattened to `height` pixels, its width following the box's aspect (a box taller
/// than wide is turned so its long side runs horizontally), capped at `max_width`.
pub fn crop_line(img: &RgbImage, q: &Quad, height: u32, max_width: u32) -> RgbImage {
    let (w, h) = box_size(q);
    let aspect = w.max(h) / w.min(h).max(1.0);
    let width = ((height as f32 * aspect).round() as u32).clamp(1, max_width);
    document::rectify(img, &document::Quad(*q), (width, height))
}

/// The box turned half a turn inside a `w`×`h` image (what a 180° rotation of the image does
/// to it), with its corners still in TL, TR, BR, BL order.
pub fn rotate_half(q: &Quad, w: u32, h: u32) -> Quad {
    let r = |p: (f32, f32)| (w as f32 - 1.0 - p.0, h as f32 - 1.0 - p.1);
    [r(q[2]), r(q[3]), r(q[0]), r(q[1])]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corners_are_ordered_whatever_order_they_come_in() {
        let q = order_corners([(50.0, 20.0), (0.0, 20.0), (0.0, 0.0), (50.0, 0.0)]);
        assert_eq!(q, [(0.0, 0.0), (50.0, 0.0), (50.0, 20.0), (0.0, 20.0)]);
    }

    #[test]
    fn a_half_turn_keeps_the_box_and_its_corner_order() {
        let q = [(10.0, 5.0), (60.0, 5.0), (60.0, 25.0), (10.0, 25.0)];
        let r = rotate_half(&q, 100, 40);
        assert_eq!(r, [(39.0, 14.0), (89.0, 14.0), (89.0, 34.0), (39.0, 34.0)]);
        assert_eq!(rotate_half(&r, 100, 40), q);
    }
}
