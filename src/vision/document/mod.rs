//! Finding the document in the photo: the largest quadrilateral of the document's shape whose
//! four sides run along edges of the image, its corners against the frame (cut off?), its
//! share of the frame (too small?), and the perspective-corrected crop at a fixed scale.
//!
//! Candidates come from two searches, scored alike (`lines::side_support`): quadrilaterals
//! from pairs of straight lines (`lines`, which holds on textured desks), and the convex hulls
//! of closed edge contours (which hold when a side is too curved or short for a line).

mod canny;
mod lines;
mod print_outline;
mod sobel;
#[cfg(test)]
mod test_scenes;
mod text_cue;
mod tighten;
mod warp;

pub use print_outline::outline_from_print;
pub use text_cue::{print_direction, PrintLayout, TextBox, CARD_BACK, CARD_FRONT};

use image::{GrayImage, RgbImage};
use imageproc::contours::{find_contours, BorderType};
use imageproc::geometric_transformations::Projection;
use imageproc::geometry::{
    approximate_polygon_dp, arc_length, contour_area, convex_hull, min_area_rect,
};
use imageproc::point::Point;

use crate::vision::gaussian::gaussian_blur;

/// What shape of document a material kind is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocShape {
    /// ID cards, residence permits: 85.6 x 54 mm (ISO/IEC 7810 ID-1).
    Card,
    /// A4 pages and licences.
    Page,
    /// Anything rectangular.
    Any,
}

impl DocShape {
    /// Long side over short side of the flat document.
    pub fn aspect(self) -> f32 {
        match self {
            Self::Card => 85.6 / 54.0,
            Self::Page => 297.0 / 210.0,
            Self::Any => 1.5,
        }
    }

    /// Aspect ratios a photographed quad may have (perspective stretches them).
    fn accepts(self, aspect: f32) -> bool {
        match self {
            Self::Card => (1.25..=2.1).contains(&aspect),
            Self::Page => (1.1..=1.85).contains(&aspect),
            Self::Any => (1.0..=2.4).contains(&aspect),
        }
    }

    /// Size of the rectified crop, landscape (long side first).
    pub fn crop_size(self, long: u32) -> (u32, u32) {
        (long, (long as f32 / self.aspect()).round() as u32)
    }
}

/// Corners in image coordinates: top-left, top-right, bottom-right, bottom-left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Quad(pub [(f32, f32); 4]);

impl Quad {
    pub fn area(&self) -> f32 {
        let p = self.0;
        let mut a = 0.0;
        for i in 0..4 {
            let (x1, y1) = p[i];
            let (x2, y2) = p[(i + 1) % 4];
            a += x1 * y2 - x2 * y1;
        }
        a.abs() / 2.0
    }

    fn side(&self, i: usize) -> f32 {
        let (a, b) = (self.0[i], self.0[(i + 1) % 4]);
        ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
    }

    /// Mean length of the long pair and the short pair of opposite sides.
    pub fn side_lengths(&self) -> (f32, f32) {
        let a = (self.side(0) + self.side(2)) / 2.0;
        let b = (self.side(1) + self.side(3)) / 2.0;
        (a.max(b), a.min(b))
    }

    pub fn scaled(&self, s: f32) -> Quad {
        Quad(self.0.map(|(x, y)| (x * s, y * s)))
    }

    /// Smallest distance of a corner to the frame's edge (negative when outside).
    pub fn margin_to_frame(&self, w: u32, h: u32) -> f32 {
        self.0
            .iter()
            .map(|&(x, y)| x.min(y).min(w as f32 - 1.0 - x).min(h as f32 - 1.0 - y))
            .fold(f32::INFINITY, f32::min)
    }

    /// Whether `p` is inside (or on) the quad, which must be convex, whatever its winding.
    pub fn contains(&self, p: (f32, f32)) -> bool {
        let q = self.0;
        let mut sign = 0f32;
        for i in 0..4 {
            let (a, b) = (q[i], q[(i + 1) % 4]);
            let cross = (b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0);
            if cross.abs() < 1e-3 {
                continue;
            }
            if sign == 0.0 {
                sign = cross.signum();
            } else if cross.signum() != sign {
                return false;
            }
        }
        true
    }

    /// The sign of twice the signed area: which side of each edge the inside is on.
    pub(super) fn winding(&self) -> f32 {
        let q = self.0;
        (0..4)
            .map(|i| q[i].0 * q[(i + 1) % 4].1 - q[(i + 1) % 4].0 * q[i].1)
            .sum::<f32>()
            .signum()
    }

    /// How far `p` lies outside the quad (convex, either winding): its greatest distance past
    /// any side's line, 0 inside.
    pub fn distance_outside(&self, p: (f32, f32)) -> f32 {
        let q = self.0;
        let turn = self.winding();
        (0..4)
            .map(|i| {
                let (a, b) = (q[i], q[(i + 1) % 4]);
                let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt().max(1e-3);
                -turn * ((b.0 - a.0) * (p.1 - a.1) - (b.1 - a.1) * (p.0 - a.0)) / len
            })
            .fold(0.0, f32::max)
    }

    /// Orders four points clockwise from the top-left one.
    fn from_points(mut pts: [(f32, f32); 4]) -> Quad {
        let cx = pts.iter().map(|p| p.0).sum::<f32>() / 4.0;
        let cy = pts.iter().map(|p| p.1).sum::<f32>() / 4.0;
        pts.sort_by(|a, b| {
            let ta = (a.1 - cy).atan2(a.0 - cx);
            let tb = (b.1 - cy).atan2(b.0 - cx);
            ta.total_cmp(&tb)
        });
        // Sorted by angle from -pi: start at the point with the smallest x + y.
        let start = (0..4)
            .min_by(|&i, &j| (pts[i].0 + pts[i].1).total_cmp(&(pts[j].0 + pts[j].1)))
            .unwrap_or(0);
        Quad([
            pts[start],
            pts[(start + 1) % 4],
            pts[(start + 2) % 4],
            pts[(start + 3) % 4],
        ])
    }
}

#[derive(Debug, Clone)]
pub struct Found {
    pub quad: Quad,
    /// Share of the strong gradient the quad's outline runs along (0..1).
    pub edge_support: f32,
    /// How much stronger the outline's edges are than the image's typical edge.
    pub contrast: f32,
}

impl Found {
    /// An outline placed by other evidence than its rim (measured out from the print, pulled
    /// in onto the rim): no straight rim was scored for it.
    pub fn unscored(quad: Quad) -> Found {
        Found {
            quad,
            edge_support: 0.0,
            contrast: 0.0,
        }
    }
}

/// The contrast-stretched, smoothed image both searches work on: a dark or washed-out photo
/// still has its edges, only weaker.
fn smoothed(gray: &GrayImage) -> GrayImage {
    gaussian_blur(&stretch(gray), 2.0)
}

/// Every large enough closed outline: edges of the smoothed image, closed by a small
/// dilation, their convex hulls, and a quadrilateral for each.
fn outlines(blurred: &GrayImage) -> Vec<Quad> {
    let (w, h) = blurred.dimensions();
    let frame_area = (w * h) as f32;
    let edges = canny::canny(blurred, 18.0, 45.0);
    let closed = canny::dilate(&edges, 2);
    let mut out = Vec::new();
    for contour in find_contours::<i32>(&closed) {
        if contour.border_type != BorderType::Outer || contour.points.len() < 40 {
            continue;
        }
        let hull = convex_hull(contour.points);
        let hull_area = contour_area(&hull) as f32;
        if hull_area < frame_area * 0.004 {
            continue;
        }
        out.extend(quad_of(&hull, hull_area));
    }
    out
}

/// What a document's outline must have: the share of each side (not on the frame's border)
/// that runs along an edge of the image, least and on average. A photo whose document runs
/// past the frame keeps fewer sides, and those must be surer.
#[derive(Debug, Clone, Copy)]
struct Support {
    least: f32,
    mean: f32,
    least_at_frame: f32,
    mean_at_frame: f32,
}

impl Support {
    /// Whether `c` is supported enough, wholly inside the frame (`at_frame` false) or with
    /// one or two sides on its border (true).
    fn admits(&self, c: &lines::Candidate, at_frame: bool) -> bool {
        let (mean, least) = c.support_stats();
        let frames = c.frame_sides();
        if at_frame {
            (1..=2).contains(&frames) && least >= self.least_at_frame && mean >= self.mean_at_frame
        } else {
            frames == 0 && least >= self.least && mean >= self.mean
        }
    }
}

/// An outline on its rim alone.
const RIM_SUPPORT: Support = Support {
    least: 0.5,
    mean: 0.65,
    least_at_frame: 0.55,
    mean_at_frame: 0.72,
};
/// With the print inside as evidence (`text_cue`), an outline needs each side as well
/// supported as always but less on average, and need not stand out from the surface: a
/// card's rim on a checked cloth is broken where a light check meets it, and as strong as
/// the checks where a dark one does. Cards on checked cloth measured a mean of 0.58-0.62 on
/// the diagnosis seeds; the mean at the frame is lowered by as much.
const TEXT_SUPPORT: Support = Support {
    mean: 0.55,
    mean_at_frame: 0.62,
    ..RIM_SUPPORT
};
/// The outlines of the lines along the print and across it (`lines::candidates_along`),
/// whose edge pixels count in either polarity: their direction is the print's, so a side
/// may be broken more. A card's side against small checks runs along a light check for
/// half its length (diagnosis seed 555: 0.43-0.48 on sides a human sees at once).
const ALONG_PRINT_SUPPORT: Support = Support {
    least: 0.4,
    least_at_frame: 0.45,
    ..TEXT_SUPPORT
};
/// The least support a side of any candidate needs (inside the frame or at it).
const LEAST_SIDE_SUPPORT: f32 = RIM_SUPPORT.least.min(RIM_SUPPORT.least_at_frame);
const LEAST_SIDE_SUPPORT_ALONG: f32 = ALONG_PRINT_SUPPORT
    .least
    .min(ALONG_PRINT_SUPPORT.least_at_frame);
/// How much stronger a document's outline must be than the edges around it (the median
/// ratio, `lines::outline_contrast`). Cards on the tuning surfaces measured 2 (real
/// photographs as desks) to 30 (plain desks); outlines closed around desk texture 0.9-1.4.
const MIN_OUTLINE_CONTRAST: f32 = 1.5;
/// How much better a quadrilateral past the frame's border must score than one inside it.
const FRAME_PENALTY: f32 = 0.85;
/// A quadrilateral inside the frame whose every side is this well supported is the document
/// whatever runs past the border.
const CLOSED_SUPPORT: f32 = 0.8;

/// How much of the outline's long and short extent its print must span; an outline around
/// more than the document spans less (and its crop puts the print where the card's layout
/// does not). Below the least of the tuning families' cards (`text_cue::CARD_FRONT`,
/// `CARD_BACK`) along the long side; along the short side below all but 3 of 59 fronts
/// (0.39-0.44; the 56 others measured 0.70 and more).
const MIN_TEXT_SPREAD: (f32, f32) = (0.42, 0.6);

/// How far (a share) an outline the print agrees with may be from the document's own aspect
/// in the photo. Its sides run along the print, so it is seen nearly square on; inside a
/// cut-off card, the portrait's frame and the print close a squarer outline (diagnosis seed
/// 555: 1.3 against the card's 1.59).
const MAX_ASPECT_OFF_WITH_TEXT: f32 = 0.15;

/// The outline searches over one photo, their candidates kept so that a second cue (the text
/// inside) can be weighed without searching again.
pub struct Search {
    shape: DocShape,
    edges: lines::Edges,
    candidates: Vec<lines::Candidate>,
}

impl Search {
    /// Every quadrilateral of a plausible shape from both searches, each side scored.
    pub fn new(gray: &GrayImage, shape: DocShape) -> Search {
        let (w, h) = gray.dimensions();
        let blurred = smoothed(gray);
        let edges = lines::Edges::of(&blurred);
        let accept = |quad: &Quad, at_frame: bool| accepts(shape, quad, at_frame, w, h);
        let mut candidates = lines::candidates(&edges, accept, LEAST_SIDE_SUPPORT);
        for quad in outlines(&blurred) {
            let at_frame = quad.margin_to_frame(w, h) < 3.0;
            if accept(&quad, at_frame) {
                candidates.push(contour_candidate(&edges, quad, w, h));
            }
        }
        Search {
            shape,
            edges,
            candidates,
        }
    }

    /// The most plausible document outline, if any: of the quadrilaterals whose sides the
    /// image supports and whose rim stands out from the surface, the largest and best
    /// supported; one wholly inside the frame before one that runs past its border.
    pub fn best(&self) -> Option<Found> {
        let rim = self.candidates.iter().map(|c| (c, &RIM_SUPPORT));
        // Inside a cut-off card, a line of its print can close a smaller, worse-supported
        // quadrilateral than the card's own, which runs past the border.
        self.choose(rim, true, |c| {
            (lines::outline_contrast(&self.edges, c) >= MIN_OUTLINE_CONTRAST).then(|| score(c))
        })
    }

    /// The same with the text detector's boxes in this photo's pixels (`text`) as the
    /// evidence in place of the rim's contrast, for when `best` finds nothing or an outline
    /// that touches the frame: of the outlines that hold the print, the one it sits in as it
    /// sits on a document laid out as `layout` (on a checked cloth, the cloth's lines close
    /// quadrilaterals around the card and the portrait's frame closes one inside it that
    /// hold the print too).
    ///
    /// Beside the outline searches' own candidates, the quadrilaterals of the lines that run
    /// along the print or across it are weighed: on a cloth whose lines crowd the card's
    /// out of the strongest at every angle, the card's own angle is known from its print.
    pub fn best_with_text(&self, text: &[TextBox], layout: &PrintLayout) -> Option<Found> {
        let along = text_cue::print_direction(text)?;
        let (w, h) = self.edges.size();
        let extra = lines::candidates_along(
            &self.edges,
            along,
            |quad: &Quad, at_frame: bool| accepts(self.shape, quad, at_frame, w, h),
            LEAST_SIDE_SUPPORT_ALONG,
        );
        let candidates = (self.candidates.iter().map(|c| (c, &TEXT_SUPPORT)))
            .chain(extra.iter().map(|c| (c, &ALONG_PRINT_SUPPORT)));
        // Past the border a cloth's lines close larger quadrilaterals that hold the print
        // too; one closed through the print inside a cut-off card cuts its lines or leaves
        // some outside, so an outline inside the frame that the print agrees with is the
        // document.
        self.choose(candidates, false, |c| {
            let (long, short) = c.quad.side_lengths();
            let off_aspect =
                (long / short / self.shape.aspect() - 1.0).abs() > MAX_ASPECT_OFF_WITH_TEXT;
            let fit = text_cue::fit(&c.quad, text);
            (!off_aspect && fit.agrees(MIN_TEXT_SPREAD)).then(|| -layout.distance(&fit))
        })
    }

    /// `found` pulled in onto the document's rim (`tighten`) when it runs along an edge beside
    /// it: the card's shadow, a cloth's line past its rim. Only an outline that `keep` accepts
    /// (inside the frame) and that is nearer the document's shape and `layout` is returned.
    pub fn tightened(
        &self,
        found: &Found,
        text: &[TextBox],
        layout: &PrintLayout,
        keep: impl Fn(&Quad) -> bool,
    ) -> Option<Found> {
        tighten::tighten(&self.edges, &found.quad, self.shape, text, layout, keep)
            .map(Found::unscored)
    }

    /// Of the candidates supported as their `Support` asks and that `rank` accepts (Some),
    /// the highest ranked; one wholly inside the frame first, unless `past_may_win` and one
    /// that runs past the border is clearly better.
    fn choose<'a>(
        &self,
        candidates: impl Iterator<Item = (&'a lines::Candidate, &'a Support)> + Clone,
        past_may_win: bool,
        rank: impl Fn(&lines::Candidate) -> Option<f32>,
    ) -> Option<Found> {
        let best = |at_frame: bool| {
            candidates
                .clone()
                .filter(|(c, support)| support.admits(c, at_frame))
                .filter_map(|(c, _)| Some((rank(c)?, c)))
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, c)| c)
        };
        let chosen = match (best(false), best(true)) {
            (Some(inside), Some(past))
                if past_may_win
                    && inside.support_stats().1 < CLOSED_SUPPORT
                    && score(past) * FRAME_PENALTY > score(inside) =>
            {
                past
            }
            (Some(inside), _) => inside,
            (None, past) => past?,
        };
        // The line search's corners go round either way from any corner; the crop needs them
        // clockwise from the top-left.
        Some(Found {
            quad: Quad::from_points(lines::refine(&self.edges, chosen).0),
            edge_support: chosen.support_stats().0,
            contrast: lines::outline_contrast(&self.edges, chosen),
        })
    }

    /// The best scored candidates (every side at least fairly supported), for
    /// `examples/debug_detect`.
    pub fn debug_candidates(&self) -> Vec<String> {
        let mut c: Vec<&lines::Candidate> = self.candidates.iter().collect();
        c.sort_by(|a, b| score(b).total_cmp(&score(a)));
        c.iter()
            .take(12)
            .map(|c| {
                let q = c.quad.0.map(|(x, y)| (x.round(), y.round()));
                format!(
                    "{q:?} support {:?} contrast {:.2} score {:.1}",
                    c.support.map(|s| s.map(|v| (v * 100.0).round() / 100.0)),
                    lines::outline_contrast(&self.edges, c),
                    score(c)
                )
            })
            .collect()
    }
}

/// Whether a quadrilateral in a `w` x `h` frame has a plausible shape for a `shape`
/// document.
fn accepts(shape: DocShape, quad: &Quad, at_frame: bool, w: u32, h: u32) -> bool {
    let (long, short) = quad.side_lengths();
    // A document cut off by the frame shows any aspect; it is kept so the verdict can say
    // "cut off" rather than "no document".
    let plausible =
        shape.accepts(long / short) || at_frame && (0.4..=3.0).contains(&(long / short));
    short >= 8.0 && plausible && quad.area() >= (w * h) as f32 * 0.004
}

/// The most plausible document outline in `gray`, if any (`Search::best`).
pub fn find(gray: &GrayImage, shape: DocShape) -> Option<Found> {
    Search::new(gray, shape).best()
}

/// Larger and better supported is better; the weakest side counts twice over.
fn score(c: &lines::Candidate) -> f32 {
    let (mean, least) = c.support_stats();
    c.quad.area().sqrt() * mean * least.sqrt()
}

/// A contour's quadrilateral scored like the line search's: sides lying on the frame's
/// border are not sides of the document.
fn contour_candidate(edges: &lines::Edges, quad: Quad, w: u32, h: u32) -> lines::Candidate {
    let q = quad.0;
    let support = [0, 1, 2, 3].map(|i| {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        (!lies_on_border(a, b, w, h)).then(|| lines::side_support(edges, a, b))
    });
    lines::Candidate { quad, support }
}

/// Whether the segment `a`-`b` lies along a border of the `w` x `h` frame (both ends within
/// 3 px of it): such a side is the frame's, not the document's.
fn lies_on_border(a: (f32, f32), b: (f32, f32), w: u32, h: u32) -> bool {
    let near = |u: f32, v: f32, edge: f32| (u - edge).abs() < 3.0 && (v - edge).abs() < 3.0;
    let (right, bottom) = (w as f32 - 1.0, h as f32 - 1.0);
    near(a.0, b.0, 0.0) || near(a.1, b.1, 0.0) || near(a.0, b.0, right) || near(a.1, b.1, bottom)
}

/// The mean of four corners (a quad's, a text box's).
fn centre(corners: &[(f32, f32); 4]) -> (f32, f32) {
    corners
        .iter()
        .fold((0.0, 0.0), |s, p| (s.0 + p.0 / 4.0, s.1 + p.1 / 4.0))
}

/// Maps the 1st..99th percentile of `gray` onto the full 0..255 range.
fn stretch(gray: &GrayImage) -> GrayImage {
    let mut histogram = [0u32; 256];
    for p in gray.pixels() {
        histogram[usize::from(p[0])] += 1;
    }
    let total = gray.width() * gray.height();
    let percentile = |q: f64| {
        let mut seen = 0u32;
        histogram
            .iter()
            .position(|&c| {
                seen += c;
                f64::from(seen) >= f64::from(total) * q
            })
            .unwrap_or(255) as f32
    };
    let (lo, hi) = (percentile(0.01), percentile(0.99));
    if hi - lo < 8.0 {
        return gray.clone();
    }
    let scale = 255.0 / (hi - lo);
    GrayImage::from_fn(gray.width(), gray.height(), |x, y| {
        image::Luma([((f32::from(gray.get_pixel(x, y)[0]) - lo) * scale).clamp(0.0, 255.0) as u8])
    })
}

/// Four corners for a convex hull: its polygon approximation when that has four vertices,
/// else the minimum-area rectangle when the hull fills it (rounded card corners).
fn quad_of(hull: &[Point<i32>], hull_area: f32) -> Option<Quad> {
    let perimeter = arc_length(hull, true);
    for eps in [0.02, 0.035, 0.05] {
        let poly = approximate_polygon_dp(hull, perimeter * eps, true);
        if poly.len() == 4 {
            let pts = [0, 1, 2, 3].map(|i| (poly[i].x as f32, poly[i].y as f32));
            return Some(Quad::from_points(pts));
        }
        if poly.len() < 4 {
            break;
        }
    }
    let rect = min_area_rect(hull);
    let pts = rect.map(|p| (p.x as f32, p.y as f32));
    let quad = Quad::from_points(pts);
    (hull_area / quad.area().max(1.0) > 0.88).then_some(quad)
}

/// The document, flattened to `size` (landscape: the quad's long sides become horizontal).
pub fn rectify(img: &RgbImage, quad: &Quad, size: (u32, u32)) -> RgbImage {
    let q = quad.0;
    // Start the corner order on a long side so the crop comes out landscape.
    let q = if quad.side(0) >= quad.side(1) {
        q
    } else {
        [q[1], q[2], q[3], q[0]]
    };
    let (w, h) = (size.0 as f32 - 1.0, size.1 as f32 - 1.0);
    let to = [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)];
    let mut out = RgbImage::new(size.0, size.1);
    if let Some(projection) = Projection::from_control_points(q, to) {
        warp::warp(img, projection, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Rgb;
    use imageproc::drawing::draw_polygon_mut;

    fn scene(card: [(i32, i32); 4], w: u32, h: u32) -> GrayImage {
        let mut img = GrayImage::from_pixel(w, h, image::Luma([60]));
        let pts = card.map(|(x, y)| Point::new(x, y));
        draw_polygon_mut(&mut img, &pts, image::Luma([220]));
        img
    }

    #[test]
    fn finds_a_tilted_card_and_orders_its_corners() {
        let img = scene([(120, 90), (560, 130), (530, 410), (95, 370)], 640, 480);
        let found = find(&img, DocShape::Card).expect("a card");
        let [tl, tr, br, bl] = found.quad.0;
        assert!(
            tl.0 < tr.0 && tl.1 < bl.1 && br.0 > bl.0,
            "{:?}",
            found.quad
        );
        assert!(
            (found.quad.area() - 121_000.0).abs() < 12_000.0,
            "{}",
            found.quad.area()
        );
        assert!(found.edge_support > 0.9);
    }

    /// Twice the signed area: positive when the corners go clockwise on screen (y down).
    fn clockwise(q: &Quad) -> bool {
        let p = q.0;
        (0..4)
            .map(|i| {
                let (a, b) = (p[i], p[(i + 1) % 4]);
                a.0 * b.1 - b.0 * a.1
            })
            .sum::<f32>()
            > 0.0
    }

    #[test]
    fn corners_run_clockwise_from_the_top_left_whichever_search_finds_them() {
        // Cards on a striped desk (where straight lines win) and on a plain one, turned
        // both ways.
        for striped in [false, true] {
            for card in [
                [(120, 90), (560, 130), (530, 410), (95, 370)],
                [(140, 130), (520, 80), (560, 360), (160, 420)],
            ] {
                let mut img = scene(card, 640, 480);
                if striped {
                    for (x, y, p) in img.enumerate_pixels_mut() {
                        let inside = p[0] > 200;
                        if !inside && (x / 7 + y / 11) % 2 == 0 {
                            p[0] = 75;
                        }
                    }
                }
                let found = find(&img, DocShape::Card).expect("a card");
                let q = found.quad;
                let first = q.0[0].0 + q.0[0].1;
                assert!(
                    q.0.iter().all(|c| c.0 + c.1 >= first) && clockwise(&q),
                    "striped {striped}: {q:?}"
                );
            }
        }
    }

    /// A light card on a cloth of light and dark checks as strong as its rim, with dark
    /// lines of print: the boxes of the print, where the rim is not enough.
    fn card_on_checks() -> (GrayImage, Vec<TextBox>) {
        let (w, h) = (640, 480);
        let mut img = GrayImage::from_fn(w, h, |x, y| {
            image::Luma([if (x / 40 + y / 40) % 2 == 0 { 70 } else { 205 }])
        });
        let card = [(150, 130), (490, 130), (490, 344), (150, 344)];
        draw_polygon_mut(
            &mut img,
            &card.map(|(x, y)| Point::new(x, y)),
            image::Luma([225]),
        );
        let mut boxes = Vec::new();
        for (i, (x0, x1)) in [(180, 400), (180, 360), (180, 420), (180, 380), (230, 470)]
            .into_iter()
            .enumerate()
        {
            let y0 = 155 + 38 * i as u32;
            for y in y0..y0 + 10 {
                for x in (x0..x1).filter(|x| x % 14 < 10) {
                    img.put_pixel(x, y, image::Luma([40]));
                }
            }
            let (x0, x1, y0) = (x0 as f32, x1 as f32, y0 as f32);
            boxes.push([
                (x0 - 3.0, y0 - 3.0),
                (x1 + 3.0, y0 - 3.0),
                (x1 + 3.0, y0 + 13.0),
                (x0 - 3.0, y0 + 13.0),
            ]);
        }
        (img, boxes)
    }

    #[test]
    fn the_print_finds_a_card_whose_rim_is_no_stronger_than_the_cloth() {
        let (img, boxes) = card_on_checks();
        let search = Search::new(&img, DocShape::Card);
        assert!(search.best().is_none(), "the rim alone stands out: no test");
        let found = search
            .best_with_text(&boxes, &CARD_FRONT)
            .expect("the card, from its print");
        let [tl, tr, br, bl] = found.quad.0;
        for (got, want) in [
            (tl, (150.0, 130.0)),
            (tr, (490.0, 130.0)),
            (br, (490.0, 344.0)),
            (bl, (150.0, 344.0)),
        ] {
            assert!(
                (got.0 - want.0).abs() < 6.0 && (got.1 - want.1).abs() < 6.0,
                "{:?}",
                found.quad
            );
        }
        // The same print somewhere else on the cloth is no card here.
        let elsewhere: Vec<TextBox> = boxes
            .iter()
            .map(|b| b.map(|(x, y)| (x - 140.0, y + 140.0)))
            .collect();
        let wrong = search.best_with_text(&elsewhere, &CARD_FRONT);
        assert!(wrong.is_none(), "{wrong:?}");
    }

    /// A grey card turned 30° on checks lighter and darker than it: its rim is
    /// brighter than the dark checks and darker than the light ones, so it changes polarity
    /// with every check, and the cloth's lines crowd the strongest lines at every angle.
    /// Returns the photo, the print's boxes and the card's corners.
    fn turned_card_on_checks() -> (GrayImage, Vec<TextBox>, [(f32, f32); 4]) {
        let mut img = GrayImage::from_fn(640, 480, |x, y| {
            image::Luma([if (x / 48 + y / 48) % 2 == 0 { 60 } else { 235 }])
        });
        let lines = [
            (30.0, 250.0),
            (30.0, 210.0),
            (30.0, 270.0),
            (30.0, 230.0),
            (80.0, 310.0),
        ];
        let lines: Vec<_> = (lines.iter().enumerate())
            .map(|(i, &(u0, u1))| (u0, u1, 25.0 + 38.0 * i as f32))
            .collect();
        let (boxes, card) = test_scenes::turned_card(
            &mut img,
            (200.0, 40.0),
            30.0,
            (340.0, 214.0),
            (image::Luma([150]), image::Luma([20])),
            &lines,
        );
        (img, boxes, card)
    }

    #[test]
    fn the_print_gives_the_angle_of_a_card_whose_rim_changes_polarity_with_the_checks() {
        let (img, boxes, card) = turned_card_on_checks();
        let search = Search::new(&img, DocShape::Card);
        assert!(search.best().is_none(), "the rim alone stands out: no test");
        let found = search
            .best_with_text(&boxes, &CARD_FRONT)
            .expect("the card, from its print's angle");
        for (got, want) in found.quad.0.iter().zip(card) {
            assert!(
                (got.0 - want.0).abs() < 6.0 && (got.1 - want.1).abs() < 6.0,
                "{:?} against {card:?}",
                found.quad
            );
        }
    }

    #[test]
    fn a_card_past_the_edge_has_corners_on_the_frame() {
        let img = scene([(300, 100), (760, 100), (760, 390), (300, 390)], 640, 480);
        let found = find(&img, DocShape::Card).expect("a cut-off card still has an outline");
        assert!(found.quad.margin_to_frame(640, 480) < 2.0);
    }

    #[test]
    fn a_plain_wall_has_no_document() {
        let img = GrayImage::from_fn(640, 480, |x, y| image::Luma([(100 + (x + y) / 20) as u8]));
        assert!(find(&img, DocShape::Card).is_none());
    }

    #[test]
    fn rectify_flattens_to_landscape() {
        let rgb = RgbImage::from_pixel(200, 300, Rgb([200, 10, 10]));
        let portrait = Quad([(10.0, 10.0), (110.0, 10.0), (110.0, 170.0), (10.0, 170.0)]);
        let crop = rectify(&rgb, &portrait, DocShape::Card.crop_size(320));
        assert_eq!(crop.dimensions(), (320, 202));
        assert_eq!(crop.get_pixel(160, 100), &Rgb([200, 10, 10]));
    }
}
