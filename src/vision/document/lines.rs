//! Quadrilaterals from straight edges: the document outline search that does not need the
//! document's outline to be one closed contour.
//!
//! A card on a textured desk (wood grain, a checked cloth, a photograph) shares its edge
//! pixels with the texture, so the contour that traces it runs off into the desk and its hull
//! is no card. Straight lines survive that: every edge pixel votes for the lines through it
//! in the direction its gradient says (an oriented Hough transform), the strongest lines are
//! paired into near-parallel pairs, two pairs make a quadrilateral, and each is scored by how
//! much of its four sides really runs along an edge of the same direction and the same
//! polarity (one side brighter all along, as a card's rim is; a checked cloth's lines change
//! polarity at every check). The frame's own borders are lines too, so a card cut off by the
//! frame still has its quadrilateral.

use image::GrayImage;

use super::sobel::{magnitude, sobel};
use super::Quad;
use crate::vision::gaussian::gaussian_blur;

/// Gradient directions are kept in 2° steps over the full circle.
const DIRECTIONS: usize = 180;
const NO_EDGE: u8 = u8::MAX;
/// Lines kept from the transform, strongest first.
const MAX_LINES: usize = 64;
/// Lines kept from the transform at a known document's angles (`candidates_along`).
const MAX_LINES_ALONG: usize = 32;
/// How far (degrees) a side may turn from the print's direction or its normal: perspective
/// turns a card's sides by some degrees against the print across the middle.
const ALONG_WINDOW_DEG: f32 = 8.0;
/// How far (degrees) an edge pixel's normal may differ from a side's.
const ANGLE_TOLERANCE_DEG: f32 = 20.0;
/// Pixels along the frame's border that hold no edges.
const BORDER: u32 = 3;
/// Degrees either side of an edge pixel's direction it votes for.
const VOTE_SPREAD: i32 = 10;
/// Gradient magnitude (Sobel, on the contrast-stretched image) an edge pixel needs.
const MIN_GRADIENT: f32 = 12.0;
/// How far outside a quad (px) an edge pixel must lie to count as its surroundings, clear of
/// the rim's own blurred gradient.
const SURROUNDINGS_MARGIN: f32 = 4.0;
/// Fewer edge pixels than this around a quad make a plain surface, not a texture.
const MIN_SURROUNDING_EDGES: usize = 100;

/// Edge pixels with their gradient direction (NO_EDGE where there is none).
pub(super) struct Edges {
    w: u32,
    h: u32,
    direction: Vec<u8>,
    /// Gradient magnitude of each edge pixel (0 elsewhere).
    magnitude: Vec<f32>,
    /// Where the edge pixels are (row-major indices, in order): a few in a hundred pixels,
    /// which the transform and the surroundings of every candidate go through.
    pixels: Vec<u32>,
}

impl Edges {
    /// Thin edges: Sobel gradients of the (already smoothed) image, kept where the magnitude
    /// is a local maximum across the edge and above `MIN_GRADIENT`.
    pub(super) fn of(smooth: &GrayImage) -> Edges {
        let (w, h) = smooth.dimensions();
        let (gx, gy) = sobel(smooth);
        let n = (w * h) as usize;
        let mut mag = vec![0f32; n];
        for (i, (&a, &b)) in gx.iter().zip(&gy).enumerate() {
            mag[i] = magnitude(a, b);
        }
        // The gradient's own direction wavers by several degrees along a straight edge (pixel
        // steps, JPEG blocks, and most of all a textured desk right beside it); the gradient
        // of a coarser blur, where fine texture has averaged out and a document's rim has not,
        // is steady.
        let (cgx, cgy) = sobel(&gaussian_blur(smooth, 3.0));
        let mut direction = vec![NO_EDGE; n];
        let mut magnitude = vec![0f32; n];
        let mut pixels = Vec::new();
        // The outermost pixels see the frame's own border, not the document's.
        for y in BORDER..h.saturating_sub(BORDER) {
            for x in BORDER..w.saturating_sub(BORDER) {
                let i = (y * w + x) as usize;
                let m = mag[i];
                if m < MIN_GRADIENT {
                    continue;
                }
                let (dx, dy) = (f32::from(gx[i]), f32::from(gy[i]));
                // The neighbours across the edge, along the gradient rounded to 45°.
                let (ox, oy) = (dx / m, dy / m);
                let (sx, sy) = (ox.round() as i32, oy.round() as i32);
                let at = |ddx: i32, ddy: i32| {
                    mag[((y as i32 + ddy) as u32 * w + (x as i32 + ddx) as u32) as usize]
                };
                if m < at(sx, sy) || m < at(-sx, -sy) {
                    continue;
                }
                let (cx, cy) = (f32::from(cgx[i]), f32::from(cgy[i]));
                let phi = cy.atan2(cx).to_degrees().rem_euclid(360.0);
                direction[i] = ((phi / 2.0) as usize % DIRECTIONS) as u8;
                magnitude[i] = m;
                pixels.push(i as u32);
            }
        }
        Edges {
            w,
            h,
            direction,
            magnitude,
            pixels,
        }
    }

    pub(super) fn size(&self) -> (u32, u32) {
        (self.w, self.h)
    }

    fn at(&self, x: i32, y: i32) -> Option<f32> {
        if x < 0 || y < 0 || x >= self.w as i32 || y >= self.h as i32 {
            return None;
        }
        let d = self.direction[(y as u32 * self.w + x as u32) as usize];
        (d != NO_EDGE).then(|| f32::from(d) * 2.0 + 1.0)
    }
}

/// A straight line `x cos(theta) + y sin(theta) = rho`, theta in [0, 180) degrees; `frame`
/// lines are the photo's own borders.
#[derive(Debug, Clone, Copy)]
struct Line {
    theta: f32,
    rho: f32,
    frame: bool,
    /// (cos theta, sin theta), computed once: the candidate search intersects every pair of
    /// pairs of lines.
    normal: (f32, f32),
}

impl Line {
    fn new(theta: f32, rho: f32, frame: bool) -> Line {
        let t = theta.to_radians();
        Line {
            theta,
            rho,
            frame,
            normal: (t.cos(), t.sin()),
        }
    }

    fn normal(&self) -> (f32, f32) {
        self.normal
    }

    /// Nearly the same line where it crosses the middle of the frame: within 4° and 6 px.
    fn near(&self, other: &Line, centre: (f32, f32)) -> bool {
        if angle_between(self.theta, other.theta) >= 4.0 {
            return false;
        }
        let (nx, ny) = self.normal();
        let off = centre.0 * nx + centre.1 * ny - self.rho;
        let foot = (centre.0 - nx * off, centre.1 - ny * off);
        let (mx, my) = other.normal();
        (foot.0 * mx + foot.1 * my - other.rho).abs() < 6.0
    }

    fn intersect(&self, other: &Line) -> Option<(f32, f32)> {
        let (a1, b1) = self.normal();
        let (a2, b2) = other.normal();
        let det = a1 * b2 - a2 * b1;
        if det.abs() < 1e-4 {
            return None;
        }
        Some((
            (self.rho * b2 - other.rho * b1) / det,
            (a1 * other.rho - a2 * self.rho) / det,
        ))
    }
}

/// Smallest difference between two line angles (degrees, modulo 180).
pub(super) fn angle_between(a: f32, b: f32) -> f32 {
    let d = wrap(a - b, 180.0);
    d.min(180.0 - d)
}

/// `x.rem_euclid(period)`, to the bit, without the call to `fmodf` when `x` is within one
/// period of 0 (nearly always here: angles in the hot loops of the line search).
fn wrap(x: f32, period: f32) -> f32 {
    if x.abs() < period {
        if x < 0.0 {
            x + period
        } else {
            x
        }
    } else {
        x.rem_euclid(period)
    }
}

/// `x.round() as i32`, to the bit (halves away from zero, saturating, NaN to 0), without the
/// call to `roundf` the baseline x86-64 target makes for `round`: the line search rounds a
/// sample point to its pixel a few million times per photo.
fn round_px(x: f32) -> i32 {
    let i = x as i32;
    let frac = x - i as f32;
    if frac >= 0.5 {
        i.saturating_add(1)
    } else if frac <= -0.5 {
        i.saturating_sub(1)
    } else {
        i
    }
}

/// The strongest straight lines through the edge pixels, at most `max_lines`, of the normal
/// angles (whole degrees) that `keep` accepts. Every angle is voted for all the same, so that
/// the edge of the kept range does not make a peak of the slope of a line just outside.
fn hough(edges: &Edges, keep: impl Fn(usize) -> bool, max_lines: usize) -> Vec<Line> {
    let (w, h) = (edges.w as i32, edges.h as i32);
    let diag = ((w * w + h * h) as f32).sqrt().ceil() as i32;
    let rho_bins = (2 * diag + 1) as usize;
    let mut acc = vec![0u16; 180 * rho_bins];
    let trig: Vec<(f32, f32)> = (0..180)
        .map(|t| ((t as f32).to_radians().cos(), (t as f32).to_radians().sin()))
        .collect();
    for &i in &edges.pixels {
        let (x, y) = ((i % edges.w) as i32, (i / edges.w) as i32);
        let Some(phi) = edges.at(x, y) else { continue };
        let theta = wrap(phi, 180.0) as i32;
        // Every direction near the pixel's own: beside a textured desk its direction is off
        // by several degrees, and only at the true angle do a side's votes agree.
        for dt in -VOTE_SPREAD..=VOTE_SPREAD {
            let t = (theta + dt).rem_euclid(180) as usize;
            let (c, s) = trig[t];
            let rho = round_px(x as f32 * c + y as f32 * s) + diag;
            let cell = &mut acc[t * rho_bins + rho as usize];
            *cell = cell.saturating_add(1);
        }
    }
    // Local maxima of at least 6% of the frame's short side (a small card's short side).
    let min_votes = (w.min(h) as f32 * 0.06) as u16;
    let mut peaks: Vec<(u16, usize, usize)> = Vec::new();
    for t in (0..180usize).filter(|&t| keep(t)) {
        for r in 0..rho_bins {
            let v = acc[t * rho_bins + r];
            if v < min_votes {
                continue;
            }
            let mut is_max = true;
            'window: for dt in -3i32..=3 {
                let tt = (t as i32 + dt).rem_euclid(180) as usize;
                for dr in -4i32..=4 {
                    let rr = r as i32 + dr;
                    if (dt, dr) == (0, 0) || rr < 0 || rr >= rho_bins as i32 {
                        continue;
                    }
                    let u = acc[tt * rho_bins + rr as usize];
                    // Ties go to the first in scan order.
                    if u > v || (u == v && (tt, rr as usize) < (t, r)) {
                        is_max = false;
                        break 'window;
                    }
                }
            }
            if is_max {
                peaks.push((v, t, r));
            }
        }
    }
    peaks.sort_by_key(|p| std::cmp::Reverse(p.0));
    let centre = (w as f32 / 2.0, h as f32 / 2.0);
    let mut lines: Vec<Line> = Vec::new();
    for (_, t, r) in peaks {
        let line = Line::new(t as f32, r as f32 - diag as f32, false);
        // Two peaks of one edge (a thick or doubled rim) make one line.
        if lines.iter().any(|l| l.near(&line, centre)) {
            continue;
        }
        lines.push(line);
        if lines.len() == max_lines {
            break;
        }
    }
    lines
}

/// The photo's four borders.
fn frame_lines(w: u32, h: u32) -> [Line; 4] {
    let line = |theta: f32, rho: f32| Line::new(theta, rho, true);
    [
        line(0.0, 0.0),
        line(0.0, w as f32 - 1.0),
        line(90.0, 0.0),
        line(90.0, h as f32 - 1.0),
    ]
}

/// How much of the segment `a`-`b` runs along edge pixels whose normal is the segment's, all
/// of one polarity (the majority's): 0..1. The ends (rounded corners) are not sampled.
pub(super) fn side_support(edges: &Edges, a: (f32, f32), b: (f32, f32)) -> f32 {
    segment_support(edges, a, b, SIDE_SPAN, Polarity::One)
}

/// The edge pixels of a side's direction (either polarity) inward of the side `a`-`b`: for
/// points along its middle (`SIDE_SPAN`), each at `t` (a share of the side from `a`), which
/// offsets `d` = 0, 1, ... `reach` pixels along the unit `normal` meet one.
pub(super) fn edges_beside(
    edges: &Edges,
    a: (f32, f32),
    b: (f32, f32),
    normal: (f32, f32),
    reach: usize,
) -> Vec<(f32, Vec<bool>)> {
    let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    let normal_deg = normal.1.atan2(normal.0).to_degrees().rem_euclid(180.0);
    along_side(len, SIDE_SPAN)
        .map(|t| {
            let (px, py) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            let met = (0..=reach)
                .map(|d| {
                    let (x, y) = (
                        round_px(px + normal.0 * d as f32),
                        round_px(py + normal.1 * d as f32),
                    );
                    edges.at(x, y).is_some_and(|phi| {
                        angle_between(wrap(phi, 180.0), normal_deg) <= ANGLE_TOLERANCE_DEG
                    })
                })
                .collect();
            (t, met)
        })
        .collect()
}

/// Where a side of length `len` is sampled from `t0` to `t1` (shares of it): every 2 px,
/// 8 to 120 times, each in the middle of its stretch.
fn along_side(len: f32, (t0, t1): (f32, f32)) -> impl ExactSizeIterator<Item = f32> {
    let samples = ((len * (t1 - t0) / 2.0) as usize).clamp(8, 120);
    (0..samples).map(move |k| t0 + (t1 - t0) * (k as f32 + 0.5) / samples as f32)
}

/// The part of a side its support is measured on: the ends (rounded corners) are not.
const SIDE_SPAN: (f32, f32) = (0.07, 0.93);

/// How far a candidate's outline stands out from what surrounds it: the median gradient
/// magnitude of the edge pixels along its sides (frame borders aside) over the median of the
/// edge pixels outside it. A document's rim is stronger than the surface it lies on; the
/// outline a line search closes around patches of a mottled desk is as weak as the desk.
pub(super) fn outline_contrast(edges: &Edges, c: &Candidate) -> f32 {
    let q = c.quad.0;
    let mut found = Vec::new();
    for i in (0..4).filter(|&i| c.support[i].is_some()) {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        if len < 4.0 {
            continue;
        }
        let (nx, ny) = (-(b.1 - a.1) / len, (b.0 - a.0) / len);
        let samples = ((len * 0.86 / 2.0) as usize).clamp(8, 120);
        for k in 0..samples {
            let t = 0.07 + 0.86 * (k as f32 + 0.5) / samples as f32;
            let (px, py) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            let strongest = [0.0f32, -1.0, 1.0, -2.0, 2.0]
                .iter()
                .filter_map(|off| {
                    let (x, y) = (round_px(px + nx * off), round_px(py + ny * off));
                    edges.at(x, y)?;
                    Some(edges.magnitude[(y as u32 * edges.w + x as u32) as usize])
                })
                .fold(0f32, f32::max);
            if strongest > 0.0 {
                found.push(strongest);
            }
        }
    }
    if found.is_empty() {
        return 0.0;
    }
    median(&mut found) / surroundings(edges, &c.quad)
}

/// The median edge magnitude around a quad (more than `SURROUNDINGS_MARGIN` outside it): the
/// surface the document lies on.
fn surroundings(edges: &Edges, quad: &Quad) -> f32 {
    let q = quad.0;
    let turn = quad.winding();
    let sides = [0, 1, 2, 3].map(|i| {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt().max(1e-3);
        // Signed distance of (x, y) from the side's line, positive inside.
        move |x: f32, y: f32| turn * ((b.0 - a.0) * (y - a.1) - (b.1 - a.1) * (x - a.0)) / len
    });
    let mut outside: Vec<f32> = Vec::new();
    for &i in &edges.pixels {
        let m = edges.magnitude[i as usize];
        let (x, y) = ((i % edges.w) as f32, (i / edges.w) as f32);
        if sides
            .iter()
            .any(|inside| inside(x, y) < -SURROUNDINGS_MARGIN)
        {
            outside.push(m);
        }
    }
    // A plain surface has next to no edges: the rim then stands out from the weakest edge.
    if outside.len() < MIN_SURROUNDING_EDGES {
        return MIN_GRADIENT;
    }
    median(&mut outside)
}

pub(super) fn median(values: &mut [f32]) -> f32 {
    let mid = values.len() / 2;
    *values.select_nth_unstable_by(mid, f32::total_cmp).1
}

/// Which edge pixels along a side count for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Polarity {
    /// Those of the majority's polarity: a document's rim is brighter (or darker) than the
    /// surface all along; a checked cloth's lines change polarity at every check.
    One,
    /// Either polarity: a light card on light and dark checks is darker than the light ones
    /// and brighter than the dark ones. For sides whose direction other evidence gives.
    Either,
}

/// The same over the part of `a`-`b` from `t0` to `t1` (shares of its length).
fn segment_support(
    edges: &Edges,
    a: (f32, f32),
    b: (f32, f32),
    span: (f32, f32),
    polarity: Polarity,
) -> f32 {
    support_unless_below(edges, a, b, span, polarity, 0.0)
}

/// The same, but given up as soon as it cannot reach `least`, then some value below it: the
/// candidate search drops a quadrilateral with any side below its least support, and most
/// sides of the quadrilaterals two pairs of lines close are far below it.
fn support_unless_below(
    edges: &Edges,
    a: (f32, f32),
    b: (f32, f32),
    (t0, t1): (f32, f32),
    polarity: Polarity,
    least: f32,
) -> f32 {
    let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    if len < 4.0 {
        return 0.0;
    }
    let (tx, ty) = ((b.0 - a.0) / len, (b.1 - a.1) / len);
    let (nx, ny) = (-ty, tx);
    let normal_deg = ny.atan2(nx).to_degrees().rem_euclid(360.0);
    let positions = along_side(len, (t0, t1));
    let samples = positions.len();
    let support = |hits: usize| hits as f32 / samples as f32;
    // The fewest hits that reach `least` (the division is monotonic, so from just below the
    // product up).
    let mut needed = ((least * samples as f32).ceil() as usize).saturating_sub(1);
    while needed <= samples && support(needed) < least {
        needed += 1;
    }
    // Across the side, nearest first: the products once, not per sample.
    let offsets = [0.0f32, -1.0, 1.0, -2.0, 2.0].map(|off| (nx * off, ny * off));
    let (mut forward, mut backward) = (0usize, 0usize);
    for (k, t) in positions.enumerate() {
        let most = match polarity {
            Polarity::One => forward.max(backward),
            Polarity::Either => forward + backward,
        } + (samples - k);
        if most < needed {
            return support(most);
        }
        let (px, py) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
        let mut hit = None;
        for (ox, oy) in offsets {
            let (x, y) = (round_px(px + ox), round_px(py + oy));
            if let Some(phi) = edges.at(x, y) {
                let d = wrap(phi - normal_deg, 360.0);
                let d = d.min(360.0 - d);
                if d <= ANGLE_TOLERANCE_DEG {
                    hit = Some(true);
                    break;
                }
                if 180.0 - d <= ANGLE_TOLERANCE_DEG {
                    hit = Some(false);
                    break;
                }
            }
        }
        match hit {
            Some(true) => forward += 1,
            Some(false) => backward += 1,
            None => {}
        }
    }
    support(match polarity {
        Polarity::One => forward.max(backward),
        Polarity::Either => forward + backward,
    })
}

/// A quadrilateral from two pairs of lines, with which of its sides are frame borders.
pub(super) struct Candidate {
    pub quad: Quad,
    /// Support of each side (TL-TR, TR-BR, BR-BL, BL-TL); None for a frame border.
    pub support: [Option<f32>; 4],
}

impl Candidate {
    pub fn frame_sides(&self) -> usize {
        self.support.iter().filter(|s| s.is_none()).count()
    }

    /// Mean and least support of the sides that are not frame borders.
    pub fn support_stats(&self) -> (f32, f32) {
        let s: Vec<f32> = self.support.iter().flatten().copied().collect();
        if s.is_empty() {
            return (0.0, 0.0);
        }
        (
            s.iter().sum::<f32>() / s.len() as f32,
            s.iter().copied().fold(f32::INFINITY, f32::min),
        )
    }
}

/// Every quadrilateral two pairs of strong lines make inside the frame, with `accept` deciding
/// on its shape first (so the sides of implausible ones are never scored) and no side
/// supported less than `least_support` (the rest of a quad is not scored once one side fails).
pub(super) fn candidates(
    edges: &Edges,
    accept: impl Fn(&Quad, bool) -> bool,
    least_support: f32,
) -> Vec<Candidate> {
    quads_of(
        edges,
        hough(edges, |_| true, MAX_LINES),
        accept,
        least_support,
        Polarity::One,
    )
}

/// The same from the lines that run along `direction` (degrees) or across it, within
/// `ALONG_WINDOW_DEG`: the sides of a document whose print runs that way. On a checked
/// cloth, the cloth's lines crowd the card's out of the strongest 64 at every angle, but
/// not at the card's own angle unless the card lies square on the checks; and the card's
/// rim there changes polarity with the checks, so either polarity supports a side.
pub(super) fn candidates_along(
    edges: &Edges,
    direction: f32,
    accept: impl Fn(&Quad, bool) -> bool,
    least_support: f32,
) -> Vec<Candidate> {
    let near = |t: usize| {
        let t = t as f32;
        angle_between(t, direction) <= ALONG_WINDOW_DEG
            || angle_between(t, direction + 90.0) <= ALONG_WINDOW_DEG
    };
    let mut found = quads_of(
        edges,
        hough(edges, near, MAX_LINES_ALONG),
        accept,
        least_support,
        Polarity::Either,
    );
    // Either polarity lets a cloth's lines support sides as well as the card's rim does
    // where the card lies square on the checks; but a document ends at its corners, and a
    // cloth's line runs on.
    found.retain(|c| !runs_on(edges, c));
    found
}

/// Whether a side of `c` (frame borders aside) runs on as an edge past either of its
/// corners, beyond the rounding of a card's corner (`RUN_ON_SPAN`).
fn runs_on(edges: &Edges, c: &Candidate) -> bool {
    let q = c.quad.0;
    (0..4).filter(|&i| c.support[i].is_some()).any(|i| {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        let (t0, t1) = RUN_ON_SPAN;
        [(-t1, -t0), (1.0 + t0, 1.0 + t1)]
            .into_iter()
            .any(|span| segment_support(edges, a, b, span, Polarity::Either) >= MAX_RUN_ON)
    })
}

/// Past a corner, the stretch of a side's line (shares of its length) checked for edges.
const RUN_ON_SPAN: (f32, f32) = (0.05, 0.2);
/// Support past a corner from which a side runs on.
const MAX_RUN_ON: f32 = 0.6;

/// The quadrilaterals of `candidates`, from the given lines and the frame's borders.
fn quads_of(
    edges: &Edges,
    mut lines: Vec<Line>,
    accept: impl Fn(&Quad, bool) -> bool,
    least_support: f32,
    polarity: Polarity,
) -> Vec<Candidate> {
    let (w, h) = (edges.w, edges.h);
    lines.extend(frame_lines(w, h));
    // Near-parallel pairs (perspective lets a card's opposite sides differ by some degrees).
    let mut pairs = Vec::new();
    for i in 0..lines.len() {
        for j in i + 1..lines.len() {
            let (a, b) = (lines[i], lines[j]);
            if (a.frame && b.frame) || angle_between(a.theta, b.theta) > 16.0 {
                continue;
            }
            pairs.push((i, j));
        }
    }
    let mean_angle = |(i, j): (usize, usize)| {
        let (a, b) = (lines[i].theta, lines[j].theta);
        let d = (b - a + 90.0).rem_euclid(180.0) - 90.0;
        (a + d / 2.0).rem_euclid(180.0)
    };
    // Every pair meets the pairs that cross it below: their angles once, not per meeting.
    let pair_angle: Vec<f32> = pairs.iter().map(|&p| mean_angle(p)).collect();
    // A side is one line between two others, met again by many quadrilaterals: its support
    // is measured once (NaN: not yet), in a table indexed by the three lines; below the
    // least support, only that it is.
    let n = lines.len();
    let mut cache = vec![f32::NAN; n * n * n];
    let mut side = |line: usize, end1: usize, end2: usize, a: (f32, f32), b: (f32, f32)| {
        let key = (line * n + end1.min(end2)) * n + end1.max(end2);
        if cache[key].is_nan() {
            cache[key] = support_unless_below(edges, a, b, SIDE_SPAN, polarity, least_support);
        }
        cache[key]
    };
    let mut out = Vec::new();
    let inside = |p: (f32, f32)| {
        p.0 >= -1.5 && p.1 >= -1.5 && p.0 <= w as f32 + 0.5 && p.1 <= h as f32 + 0.5
    };
    let crossing = crossing_pairs(&pair_angle);
    for (pi, &p) in pairs.iter().enumerate() {
        for &qi in &crossing[pi] {
            let q = pairs[qi];
            let (a, b, c, d) = (p.0, p.1, q.0, q.1);
            if [a, b].iter().any(|x| [c, d].contains(x)) {
                continue;
            }
            let frames = [a, b, c, d].iter().filter(|&&i| lines[i].frame).count();
            if frames > 2 {
                continue;
            }
            // Corners in order around the quad: a∩c, c∩b, b∩d, d∩a.
            let corners =
                [(a, c), (c, b), (b, d), (d, a)].map(|(i, j)| lines[i].intersect(&lines[j]));
            let [Some(p0), Some(p1), Some(p2), Some(p3)] = corners else {
                continue;
            };
            if ![p0, p1, p2, p3].into_iter().all(inside) {
                continue;
            }
            let quad = Quad([p0, p1, p2, p3]);
            if !accept(&quad, frames > 0) {
                continue;
            }
            // Sides in corner order: c (p0-p1), b (p1-p2), d (p2-p3), a (p3-p0).
            let sides = [
                (c, a, b, p0, p1),
                (b, c, d, p1, p2),
                (d, b, a, p2, p3),
                (a, d, c, p3, p0),
            ];
            let mut support = [None; 4];
            let mut weak = false;
            for (k, &(line, e1, e2, s, t)) in sides.iter().enumerate() {
                if !lines[line].frame {
                    let v = side(line, e1, e2, s, t);
                    support[k] = Some(v);
                    if v < least_support {
                        weak = true;
                        break;
                    }
                }
            }
            if weak {
                continue;
            }
            // A side that meets the frame's border must run along an edge right up to it: a
            // card cut off by the frame does; a line of the desk extended to the border
            // beside a whole card does not.
            let reaches = sides.iter().all(|&(line, e1, e2, s, t)| {
                lines[line].frame
                    || (!lines[e1].frame
                        || segment_support(edges, s, t, (0.0, 0.15), polarity) >= 0.5)
                        && (!lines[e2].frame
                            || segment_support(edges, s, t, (0.85, 1.0), polarity) >= 0.5)
            });
            if reaches {
                out.push(Candidate { quad, support });
            }
        }
    }
    out
}

/// Two pairs of lines at least this far apart (degrees) make a quadrilateral.
const MIN_PAIR_CROSSING_DEG: f32 = 60.0;

/// For each pair of lines (by its mean angle, degrees in [0, 180]), the pairs after it in
/// the list that cross it at `MIN_PAIR_CROSSING_DEG` or more, in their order. Most pairs run
/// near one of a few angles, so few pairs meet: the pairs are first put by the whole degree
/// of their angle, and only the degrees that can hold a crossing pair are looked through.
fn crossing_pairs(pair_angle: &[f32]) -> Vec<Vec<usize>> {
    let degree = |angle: f32| (angle as usize).min(179);
    let mut by_degree: Vec<Vec<usize>> = vec![Vec::new(); 180];
    for (i, &angle) in pair_angle.iter().enumerate() {
        by_degree[degree(angle)].push(i);
    }
    // Two angles in the degrees d and e are within 2° of d and e themselves (180 itself,
    // put in 179, within 1°).
    let far_degrees: Vec<Vec<usize>> = (0..180)
        .map(|d| {
            (0..180)
                .filter(|&e| angle_between(d as f32, e as f32) >= MIN_PAIR_CROSSING_DEG - 3.0)
                .collect()
        })
        .collect();
    pair_angle
        .iter()
        .enumerate()
        .map(|(pi, &angle)| {
            let mut crossing: Vec<usize> = far_degrees[degree(angle)]
                .iter()
                .flat_map(|&e| &by_degree[e])
                .copied()
                .filter(|&qi| {
                    qi > pi && angle_between(angle, pair_angle[qi]) >= MIN_PAIR_CROSSING_DEG
                })
                .collect();
            crossing.sort_unstable();
            crossing
        })
        .collect()
}

/// Moves each side that is not a frame border onto the least-squares line through the edge
/// pixels along it (the transform's lines are quantised to 1° and 1 px), and returns the
/// quad of the refitted sides.
pub(super) fn refine(edges: &Edges, c: &Candidate) -> Quad {
    let q = c.quad.0;
    let mut fitted: [Option<Line>; 4] = [None; 4];
    for (i, f) in fitted.iter_mut().enumerate() {
        if c.support[i].is_none() {
            continue;
        }
        let (a, b) = (q[i], q[(i + 1) % 4]);
        let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
        if len < 8.0 {
            continue;
        }
        let (tx, ty) = ((b.0 - a.0) / len, (b.1 - a.1) / len);
        let (nx, ny) = (-ty, tx);
        let normal_deg = ny.atan2(nx).to_degrees().rem_euclid(180.0);
        // Offsets of edge pixels across the side, sampled along it: fit offset = u + v t.
        let (mut st, mut so, mut stt, mut sto, mut n) = (0f32, 0f32, 0f32, 0f32, 0f32);
        let steps = len as usize;
        for k in 0..steps {
            let t = 0.07 + 0.86 * k as f32 / steps as f32;
            let (px, py) = (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t);
            for off in -3i32..=3 {
                let (x, y) = (
                    round_px(px + nx * off as f32),
                    round_px(py + ny * off as f32),
                );
                let Some(phi) = edges.at(x, y) else { continue };
                if angle_between(wrap(phi, 180.0), normal_deg) > ANGLE_TOLERANCE_DEG {
                    continue;
                }
                let o = (x as f32 - px) * nx + (y as f32 - py) * ny;
                let tl = t * len;
                st += tl;
                so += o;
                stt += tl * tl;
                sto += tl * o;
                n += 1.0;
            }
        }
        if n < len * 0.3 {
            continue;
        }
        let det = n * stt - st * st;
        if det.abs() < 1e-3 {
            continue;
        }
        let v = (n * sto - st * so) / det;
        let u = (so - v * st) / n;
        let (s0, s1) = (
            (a.0 + nx * u, a.1 + ny * u),
            (b.0 + nx * (u + v * len), b.1 + ny * (u + v * len)),
        );
        *f = line_through(s0, s1);
    }
    let side_line = |i: usize| fitted[i].or_else(|| line_through(q[i], q[(i + 1) % 4]));
    let mut out = q;
    for (i, corner) in out.iter_mut().enumerate() {
        // Corner i joins side i-1 and side i.
        let prev = (i + 3) % 4;
        if let (Some(l1), Some(l2)) = (side_line(prev), side_line(i)) {
            if let Some(p) = l1.intersect(&l2) {
                // A refit that moves a corner far is not trusted.
                if (p.0 - corner.0).hypot(p.1 - corner.1) < 6.0 {
                    *corner = p;
                }
            }
        }
    }
    Quad(out)
}

fn line_through(a: (f32, f32), b: (f32, f32)) -> Option<Line> {
    let len = ((b.0 - a.0).powi(2) + (b.1 - a.1).powi(2)).sqrt();
    if len < 1e-3 {
        return None;
    }
    let (nx, ny) = (-(b.1 - a.1) / len, (b.0 - a.0) / len);
    let mut theta = ny.atan2(nx).to_degrees();
    let mut rho = a.0 * nx + a.1 * ny;
    if theta < 0.0 {
        theta += 180.0;
        rho = -rho;
    }
    if theta >= 180.0 {
        theta -= 180.0;
        rho = -rho;
    }
    Some(Line::new(theta, rho, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value the hot loops meet and the awkward ones: halves, the float just below a
    /// half, negative zero, NaN, and values past `i32`'s range.
    fn awkward_floats() -> Vec<f32> {
        let mut v: Vec<f32> = (-4000..4000).map(|k| k as f32 * 0.25).collect();
        v.extend((-2000..2000).map(|k| k as f32 * 0.173 + 0.011));
        v.extend([
            0.5f32.next_down(),
            -0.5f32.next_down(),
            2.5f32.next_down(),
            -0.0,
            f32::NAN,
            3e9,
            -3e9,
            2147483648.0,
            -2147483648.0,
            8388609.0,
            359.99997,
            -359.99997,
            180.0,
            -180.0,
            720.5,
        ]);
        v
    }

    #[test]
    fn round_px_is_round_to_the_bit() {
        for x in awkward_floats() {
            assert_eq!(round_px(x), x.round() as i32, "{x}");
        }
    }

    #[test]
    fn wrap_is_rem_euclid_to_the_bit() {
        for x in awkward_floats() {
            for period in [180.0f32, 360.0] {
                let (got, want) = (wrap(x, period), x.rem_euclid(period));
                assert!(
                    got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                    "{x} mod {period}: {got} against {want}"
                );
            }
        }
    }

    #[test]
    fn crossing_pairs_are_every_later_pair_far_enough_in_order() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(4);
        // Clustered angles as a photo's lines are, whole and near-whole degrees, 0 and 180.
        let mut angles: Vec<f32> = (0..600)
            .map(|_| {
                let centre = [0.0f32, 30.0, 89.5, 120.0, 179.9][rng.gen_range(0..5)];
                (centre + rng.gen_range(-3.0f32..3.0)).rem_euclid(180.0)
            })
            .collect();
        angles.extend([
            0.0,
            180.0,
            60.0,
            120.0,
            59.99999,
            60.00001,
            1.0f32.next_down(),
        ]);
        let crossing = crossing_pairs(&angles);
        for (i, &a) in angles.iter().enumerate() {
            let every: Vec<usize> = (i + 1..angles.len())
                .filter(|&j| angle_between(a, angles[j]) >= MIN_PAIR_CROSSING_DEG)
                .collect();
            assert_eq!(crossing[i], every, "pair {i} at {a}");
        }
    }

    #[test]
    fn support_given_up_below_the_least_is_below_it_and_exact_above() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        // A card's rim and a texture of short strokes.
        let mut img = GrayImage::from_pixel(320, 240, image::Luma([70]));
        let pts = [(60, 50), (260, 60), (250, 190), (55, 180)]
            .map(|(x, y)| imageproc::point::Point::new(x, y));
        imageproc::drawing::draw_polygon_mut(&mut img, &pts, image::Luma([210]));
        for _ in 0..300 {
            let (x, y) = (rng.gen_range(0..320) as f32, rng.gen_range(0..240) as f32);
            let end = (x + rng.gen_range(-9.0..9.0), y + rng.gen_range(-9.0..9.0));
            imageproc::drawing::draw_line_segment_mut(&mut img, (x, y), end, image::Luma([140]));
        }
        let edges = Edges::of(&crate::vision::gaussian::gaussian_blur(&img, 2.0));
        let mut point = || (rng.gen_range(-5.0f32..325.0), rng.gen_range(-5.0f32..245.0));
        let mut segments: Vec<_> = (0..400).map(|_| (point(), point())).collect();
        segments.extend([
            ((60.0, 50.0), (260.0, 60.0)),
            ((250.0, 190.0), (55.0, 180.0)),
        ]);
        let (mut above, mut below) = (0, 0);
        for (a, b) in segments {
            for polarity in [Polarity::One, Polarity::Either] {
                let full = segment_support(&edges, a, b, SIDE_SPAN, polarity);
                for least in [0.2, 0.5, 0.55] {
                    let quick = support_unless_below(&edges, a, b, SIDE_SPAN, polarity, least);
                    if full >= least {
                        assert_eq!(quick.to_bits(), full.to_bits(), "{a:?}-{b:?} {least}");
                        above += 1;
                    } else {
                        assert!(quick < least, "{a:?}-{b:?}: {quick} for {full} < {least}");
                        below += 1;
                    }
                }
            }
        }
        assert!(above > 5 && below > 100, "{above} above, {below} below");
    }

    #[test]
    fn lines_intersect_where_they_cross() {
        let vertical = Line::new(0.0, 10.0, false);
        let horizontal = Line::new(90.0, 20.0, false);
        let p = vertical.intersect(&horizontal).expect("they cross");
        assert!(
            (p.0 - 10.0).abs() < 1e-3 && (p.1 - 20.0).abs() < 1e-3,
            "{p:?}"
        );
        let l = line_through((0.0, 5.0), (10.0, 5.0)).expect("a line");
        assert!(
            (l.theta - 90.0).abs() < 1e-3 && (l.rho - 5.0).abs() < 1e-3,
            "{l:?}"
        );
    }

    #[test]
    fn a_tilted_card_gives_its_four_sides_once_each() {
        let mut img = GrayImage::from_pixel(640, 480, image::Luma([60]));
        let pts = [(120, 90), (560, 130), (530, 410), (95, 370)]
            .map(|(x, y)| imageproc::point::Point::new(x, y));
        imageproc::drawing::draw_polygon_mut(&mut img, &pts, image::Luma([220]));
        let lines = hough(
            &Edges::of(&imageproc::filter::gaussian_blur_f32(&img, 2.0)),
            |_| true,
            MAX_LINES,
        );
        assert_eq!(lines.len(), 4, "{lines:?}");
        let near_5 = lines
            .iter()
            .filter(|l| angle_between(l.theta, 5.0) < 3.0)
            .count();
        let near_95 = lines
            .iter()
            .filter(|l| angle_between(l.theta, 95.0) < 3.0)
            .count();
        assert_eq!((near_5, near_95), (2, 2), "{lines:?}");
    }

    #[test]
    fn angles_wrap_at_180_degrees() {
        assert!((angle_between(178.0, 2.0) - 4.0).abs() < 1e-4);
        assert!((angle_between(10.0, 100.0) - 90.0).abs() < 1e-4);
    }
}
