//! Photos of a turned card with lines of print on it, for the finders' tests.

use image::{ImageBuffer, Pixel};
use imageproc::drawing::draw_polygon_mut;
use imageproc::point::Point;

use super::TextBox;

/// Draws a card of `size` (long, short) pixels, turned `angle_deg` about its first corner at
/// `origin`, in `card`, and on it lines of print in `ink`, each `(u0, u1, v0)`: from `u0` to
/// `u1` along the card and 10 px high from `v0` across it. Returns the print's boxes (3 px
/// around each line, as the text detector gives them) and the card's corners.
pub fn turned_card<P: Pixel + 'static>(
    img: &mut ImageBuffer<P, Vec<P::Subpixel>>,
    origin: (f32, f32),
    angle_deg: f32,
    size: (f32, f32),
    (card, ink): (P, P),
    lines: &[(f32, f32, f32)],
) -> (Vec<TextBox>, [(f32, f32); 4]) {
    let (c, s) = (angle_deg.to_radians().cos(), angle_deg.to_radians().sin());
    // Card coordinates (u along its long side, v across) to the photo's.
    let at = |u: f32, v: f32| (origin.0 + u * c - v * s, origin.1 + u * s + v * c);
    let rect =
        |u0: f32, u1: f32, v0: f32, v1: f32| [at(u0, v0), at(u1, v0), at(u1, v1), at(u0, v1)];
    let poly = |corners: [(f32, f32); 4]| corners.map(|(x, y)| Point::new(x as i32, y as i32));
    let corners = rect(0.0, size.0, 0.0, size.1);
    draw_polygon_mut(img, &poly(corners), card);
    let boxes = lines
        .iter()
        .map(|&(u0, u1, v0)| {
            draw_polygon_mut(img, &poly(rect(u0, u1, v0, v0 + 10.0)), ink);
            rect(u0 - 3.0, u1 + 3.0, v0 - 3.0, v0 + 13.0)
        })
        .collect();
    (boxes, corners)
}
