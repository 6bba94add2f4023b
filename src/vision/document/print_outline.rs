//! A card's outline measured out from its print, for when no outline of straight edges holds
//! it: on a checked cloth the rim is an edge only where a coloured check meets it, on white
//! paper it is as faint as the paper's grain, and a blurred card has no straight edge left at
//! all. What every one of those rims still has is a change of surface: inside it the card's
//! own colour, outside it something else. The print says which way the card lies and where
//! its middle is; from each side of the print, outwards, the side is where the colour beside
//! it stops being the card's, averaged along the side's whole length (so a cloth whose checks
//! alternate with the card's colour still shows it). Of the sides found, the four that make a
//! card's shape are taken; a side that no change of surface shows before the frame's border
//! is past the border, and the card is cut off.

use image::{Rgb, RgbImage};

use super::lines::median;
use super::text_cue::{self, TextBox};
use super::Quad;

/// How much a difference in brightness counts in `distance` (a plain sum over R, G, B
/// counts it three times).
const BRIGHTNESS_WEIGHT: f32 = 1.5;
/// Positions sampled along each side.
const SAMPLES_ALONG: usize = 48;
/// How far (pixels of the searched image) inside and outside a side its two colours are
/// taken: past the blur of a card's rim in a sharp photo, within the margin of a small card.
const PROBE: f32 = 2.5;
/// Share of a side's samples that must lie in the frame for the side to be measured there.
const MIN_IN_FRAME: f32 = 0.6;
/// Candidate positions kept per side (the strongest local maxima of its profile).
const PEAKS_PER_SIDE: usize = 8;
/// A peak lower than this share of its profile's highest is not a candidate.
const MIN_PEAK_SHARE: f32 = 0.1;
/// How far (share of the card's aspect) the outline's aspect may be from the card's: the
/// print gives the sides' direction, and mild perspective makes opposite sides unequal.
const MAX_ASPECT_OFF: f32 = 0.15;
/// The print's share of the card's extent across and along its lines: the bounds measured
/// on the tuning families' fronts and backs (`text_cue::CARD_FRONT`, `CARD_BACK`: 0.39-0.86
/// across, 0.45-0.93 along) with some room.
const SPREAD_ACROSS: (f32, f32) = (0.35, 0.92);
const SPREAD_ALONG: (f32, f32) = (0.4, 0.96);
/// The least colour change (sum over R, G, B of the outside's distance from the card's colour
/// less the inside's, averaged along the side) a side found in the frame must show.
const MIN_SIDE_CHANGE: f32 = 6.0;
/// A fainter side is found where it stands out of its profile this many times over the
/// profile's median (the surface's own variation), down to `MIN_FAINT_CHANGE`: a cream card
/// on cream paper changes the colour by 4-5 where the paper varies by 1 (diagnosis seed
/// 1357, `white-good-201`).
const FAINT_PROMINENCE: f32 = 3.0;
const MIN_FAINT_CHANGE: f32 = 3.0;

/// The turns (degrees from the print's direction) at which each side is searched when no
/// outline fits sides along and across the print: a card under strong perspective, or
/// sheared by a tilted phone, has sides that lean well away from its print's lines.
const LEANING_SIDES_DEG: [f32; 13] = [
    0.0, -2.5, 2.5, -5.0, 5.0, -7.5, 7.5, -10.0, 10.0, -12.5, 12.5, -15.0, 15.0,
];
/// Of two candidate sides at different turns, the weaker is dropped when it crosses the
/// stronger's middle within this many pixels: both are the same rim.
const SAME_SIDE_PX: f32 = 3.0;

/// How far a found side is turned (steps of `REFINE_TURN_STEP_DEG` either way) and moved
/// (pixels either way) to fit the card's rim.
const REFINE_TURNS: i32 = 8;
const REFINE_TURN_STEP_DEG: f32 = 0.5;
const REFINE_SHIFT: i32 = 3;
/// How much more a turned or moved side must change than the side as found to replace it.
const REFINE_MIN_GAIN: f32 = 1.05;
/// It is turned and moved farther too (a card sheared by a tilted phone leans up to 15°
/// against its print), but such a line must change clearly more than the side as found, and
/// be a clear rim (at least `LEANING_MIN_CHANGE`): the more lines are tried, the likelier one
/// of them lines up with a faint surface's grain by chance, and a faint rim is not told from
/// that.
const LEANING_REFINE_TURNS: i32 = 30;
const LEANING_REFINE_SHIFT: i32 = 10;
const LEANING_REFINE_GAIN: f32 = 1.25;
const LEANING_MIN_CHANGE: f32 = 2.0 * MIN_SIDE_CHANGE;
/// Share of a side's length at each end left out when it is fitted: a card's corners are
/// rounded.
const CORNER_SHARE: f32 = 0.08;

/// A side's line: points `origin + along * s + normal * d`, `normal` pointing out of the card.
#[derive(Debug, Clone, Copy)]
struct SideProbe {
    origin: (f32, f32),
    along: (f32, f32),
    normal: (f32, f32),
    /// The span of `s` the side is measured over.
    span: (f32, f32),
}

impl SideProbe {
    /// The point `s` along the side's origin line and `d` out from it.
    fn point(&self, s: f32, d: f32) -> (f32, f32) {
        (
            self.origin.0 + self.along.0 * s + self.normal.0 * d,
            self.origin.1 + self.along.1 * s + self.normal.1 * d,
        )
    }
}

/// One side's colour-change profile outwards from the print, along lines at one slope
/// against the print's direction.
#[derive(Debug, Clone)]
struct Profile {
    /// The lines' slope (tangent of their turn from the print's direction).
    slope: f32,
    /// The change at each whole offset from the print's edge (at the side's middle).
    change: Vec<f32>,
    /// Whether the profile ended at the frame (the side may lie past it) rather than at the
    /// farthest offset a card could have.
    reached_frame: bool,
    /// The least change a side on it must show (`least_change`).
    least_change: f32,
}

/// The least change a side on `change` must show: `MIN_SIDE_CHANGE`, or less where the
/// surface varies little (`FAINT_PROMINENCE`).
fn least_change(change: &[f32]) -> f32 {
    if change.is_empty() {
        return MIN_SIDE_CHANGE;
    }
    let surface = median(&mut change.to_vec());
    (FAINT_PROMINENCE * surface).clamp(MIN_FAINT_CHANGE, MIN_SIDE_CHANGE)
}

/// A side's candidate: measured in the frame (its offset from the print's box at the side's
/// middle, the colour change there and its slope against the print's direction), or past
/// the frame's border.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Offset {
    At { d: f32, change: f32, slope: f32 },
    PastFrame,
}

/// A side's candidates, and how far out along the print's direction it stayed in the frame.
#[derive(Debug, Clone)]
struct SideOptions {
    options: Vec<Offset>,
    in_frame: f32,
}

/// The outline's four sides as fitted: each side's offset at its middle and slope, whether
/// it was measured in the frame, and the colour change along the measured ones.
#[derive(Debug, Clone, Copy)]
struct Fit {
    score: f32,
    d: [f32; 4],
    slope: [f32; 4],
    measured: [bool; 4],
}

/// The card's outline (corners in `img`'s pixels) from the lines of its print `text`, if the
/// surface changes where a card of `aspect` holding that print would end; a side past the
/// frame's border is placed where the card's aspect puts it.
pub fn outline_from_print(img: &RgbImage, text: &[TextBox], aspect: f32) -> Option<Quad> {
    let direction = text_cue::print_direction(text)?;
    let r = direction.to_radians();
    let u = (r.cos(), r.sin());
    let v = (-u.1, u.0);
    let dot = |p: (f32, f32), a: (f32, f32)| p.0 * a.0 + p.1 * a.1;
    let corners: Vec<(f32, f32)> = text_cue::along(text, direction)
        .flat_map(|b| b.iter().copied())
        .collect();
    let extent = |axis: (f32, f32)| {
        corners
            .iter()
            .map(|&p| dot(p, axis))
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            })
    };
    let ((u0, u1), (v0, v1)) = (extent(u), extent(v));
    // Offsets are measured from the print's box outwards on every side.
    let (print_long, print_short) = (u1 - u0, v1 - v0);
    if !(print_long > 0.0 && print_short > 0.0) {
        return None;
    }
    let at = |a: f32, b: f32| (u.0 * a + v.0 * b, u.1 * a + v.1 * b);
    let blurred = imageproc::filter::gaussian_blur_f32(img, 1.0);
    let colour = card_colour(&blurred, |s, t| {
        at(u0 + s * print_long, v0 + t * print_short)
    });

    // Farthest a side may lie from the print: the card's extent at the print's least spread.
    let max_short = print_short / SPREAD_ACROSS.0;
    let max_long = (print_long / SPREAD_ALONG.0).max(max_short * aspect * (1.0 + MAX_ASPECT_OFF));
    let neg = |a: (f32, f32)| (-a.0, -a.1);
    let probes = [
        // top, bottom (across the print), left, right (along it)
        (at(u0, v0), u, neg(v), (0.0, print_long), max_short),
        (at(u0, v1), u, v, (0.0, print_long), max_short),
        (at(u0, v0), v, neg(u), (0.0, print_short), max_long),
        (at(u1, v0), v, u, (0.0, print_short), max_long),
    ]
    .map(|(origin, along, normal, span, reach)| {
        (
            SideProbe {
                origin,
                along,
                normal,
                span,
            },
            reach,
        )
    });
    let options = |turns: &[f32]| {
        probes
            .each_ref()
            .map(|(side, reach)| side_options(&blurred, &colour, side, *reach, turns))
    };
    // Sides along and across the print first; turned sides only when those make no card.
    let print = (print_long, print_short);
    let fit = best_fit(&options(&LEANING_SIDES_DEG[..1]), print, aspect)
        .or_else(|| best_fit(&options(&LEANING_SIDES_DEG), print, aspect))?;
    let [top, bottom, left, right] = fit.d;
    // Each side measured in the frame is fitted to the rim over the card's whole length (less
    // its rounded corners); a side past the frame keeps the print's direction.
    let spans = [
        (-left, print_long + right),
        (-left, print_long + right),
        (-top, print_short + bottom),
        (-top, print_short + bottom),
    ]
    .map(|(a, b)| (a + CORNER_SHARE * (b - a), b - CORNER_SHARE * (b - a)));
    let sides: Vec<((f32, f32), (f32, f32))> = (0..4)
        .map(|i| {
            let (side, _) = &probes[i];
            if fit.measured[i] {
                refine(&blurred, &colour, side, (fit.d[i], fit.slope[i]), spans[i])
            } else {
                (side.point(0.0, fit.d[i]), side.along)
            }
        })
        .collect();
    Some(Quad::from_points([
        crossing(sides[0], sides[2])?,
        crossing(sides[0], sides[3])?,
        crossing(sides[1], sides[3])?,
        crossing(sides[1], sides[2])?,
    ]))
}

/// The card's own colour: the median of each channel over the print's box (the print is thin
/// lines on the card's surface, so most of the box is surface). `at(s, t)` maps the box's unit
/// square into the image.
fn card_colour(img: &RgbImage, at: impl Fn(f32, f32) -> (f32, f32)) -> [f32; 3] {
    let mut channels: [Vec<f32>; 3] = Default::default();
    for i in 0..24 {
        for j in 0..16 {
            let p = at((i as f32 + 0.5) / 24.0, (j as f32 + 0.5) / 16.0);
            if let Some(px) = sample(img, p) {
                for (c, values) in channels.iter_mut().enumerate() {
                    values.push(px[c]);
                }
            }
        }
    }
    channels.map(|mut values| {
        if values.is_empty() {
            0.0
        } else {
            median(&mut values)
        }
    })
}

fn sample(img: &RgbImage, (x, y): (f32, f32)) -> Option<[f32; 3]> {
    let (w, h) = img.dimensions();
    (x >= 0.0 && y >= 0.0 && x < w as f32 && y < h as f32).then(|| {
        let Rgb(px) = *img.get_pixel(x as u32, y as u32);
        px.map(f32::from)
    })
}

/// How far colour `a` is from the card's colour `c`: the difference in hue (each channel's
/// departure from its pixel's mean) in full, the difference in brightness at half the weight
/// a plain channel sum gives it. Light falls off across a card, so its part near a rim
/// is darker than the print's middle where its colour is taken; a rim changes the hue or the
/// brightness by more than that (a bluish-white card near its shaded rim is 16 from its
/// colour in a plain sum, the cream paper beside it 20; here 9 and 27).
fn distance(a: &[f32; 3], c: &[f32; 3]) -> f32 {
    let mean = |p: &[f32; 3]| (p[0] + p[1] + p[2]) / 3.0;
    let (ma, mc) = (mean(a), mean(c));
    let hue: f32 = (0..3).map(|i| ((a[i] - ma) - (c[i] - mc)).abs()).sum();
    hue + BRIGHTNESS_WEIGHT * (ma - mc).abs()
}

/// How the colour change at each point along a side is counted.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Count {
    /// Only where the outside is farther from the card's colour than the inside: while a side
    /// is looked for, a stretch of surface as pale as the card beside the rim, or the print
    /// inside it, does not cancel the rest of the side.
    Gains,
    /// Every point, a loss where the inside is farther from the card's colour: when a found
    /// side is turned, a line along the surface's own pattern (a cloth's checks) gains where
    /// a dark check lies outside a pale one, and loses that again where the dark one lies
    /// inside; the card's rim has the card inside it all along.
    All,
}

/// The colour change across `side` where it lies `offset(s)` out from its origin line at
/// each `s` along it: the outside's distance from the card's colour less the inside's,
/// counted as `count` says and averaged along the side. None where too little of it lies
/// in the frame.
fn change_at(
    img: &RgbImage,
    colour: &[f32; 3],
    side: &SideProbe,
    count: Count,
    offset: impl Fn(f32) -> f32,
) -> Option<f32> {
    let (mut sum, mut n) = (0.0f32, 0usize);
    for i in 0..SAMPLES_ALONG {
        let s = side.span.0 + (side.span.1 - side.span.0) * (i as f32 + 0.5) / SAMPLES_ALONG as f32;
        let d = offset(s);
        let (Some(inside), Some(outside)) = (
            sample(img, side.point(s, d - PROBE)),
            sample(img, side.point(s, d + PROBE)),
        ) else {
            continue;
        };
        let change = distance(&outside, colour) - distance(&inside, colour);
        sum += match count {
            Count::Gains => change.max(0.0),
            Count::All => change,
        };
        n += 1;
    }
    ((n as f32) >= MIN_IN_FRAME * SAMPLES_ALONG as f32).then(|| sum / n as f32)
}

/// The colour change across lines at `slope` to the print's edge, at each offset from it
/// (at the side's middle) out to `reach` or until the line leaves the frame.
fn profile(img: &RgbImage, colour: &[f32; 3], side: &SideProbe, reach: f32, slope: f32) -> Profile {
    let mid = (side.span.0 + side.span.1) / 2.0;
    let mut change = Vec::new();
    let mut reached_frame = false;
    for d in 0..=reach.ceil() as usize {
        match change_at(img, colour, side, Count::Gains, |s| {
            d as f32 + slope * (s - mid)
        }) {
            Some(c) => change.push(c),
            None => {
                reached_frame = true;
                break;
            }
        }
    }
    Profile {
        slope,
        least_change: least_change(&change),
        change,
        reached_frame,
    }
}

/// The side found at offset `d` (at the middle of `side`'s span) and `slope`, turned and
/// moved a little to where its colour changes most (the print gives the card's direction
/// only up to the photo's perspective), measured over `span`, the card's whole side less its
/// corners: a point on it and its direction.
fn refine(
    img: &RgbImage,
    colour: &[f32; 3],
    side: &SideProbe,
    (d, found_slope): (f32, f32),
    span: (f32, f32),
) -> ((f32, f32), (f32, f32)) {
    let mid = (span.0 + span.1) / 2.0;
    let d = d + found_slope * (mid - (side.span.0 + side.span.1) / 2.0);
    let side = SideProbe { span, ..*side };
    let change =
        |slope: f32, at: f32| change_at(img, colour, &side, Count::All, |s| at + slope * (s - mid));
    // The direction found is evidence too: a turn has to change clearly more to win, and a
    // turn or move past the near ones more again, and be a clear rim.
    let found = change(found_slope, d).unwrap_or(0.0);
    let leaning_least = (found * LEANING_REFINE_GAIN).max(LEANING_MIN_CHANGE);
    let mut best = (found * REFINE_MIN_GAIN, found_slope, d);
    for turn in -LEANING_REFINE_TURNS..=LEANING_REFINE_TURNS {
        let slope = (found_slope.atan() + (turn as f32 * REFINE_TURN_STEP_DEG).to_radians()).tan();
        for shift in -LEANING_REFINE_SHIFT..=LEANING_REFINE_SHIFT {
            let at = d + shift as f32;
            let near = turn.abs() <= REFINE_TURNS && shift.abs() <= REFINE_SHIFT;
            match change(slope, at) {
                Some(c) if c > best.0 && (near || c >= leaning_least) => best = (c, slope, at),
                _ => {}
            }
        }
    }
    let (_, slope, at) = best;
    let point = side.point(mid, at);
    let direction = (
        side.along.0 + side.normal.0 * slope,
        side.along.1 + side.normal.1 * slope,
    );
    (point, direction)
}

/// Where two lines, each a point and a direction, cross.
pub(super) fn crossing(
    a: ((f32, f32), (f32, f32)),
    b: ((f32, f32), (f32, f32)),
) -> Option<(f32, f32)> {
    let ((p, r), (q, s)) = (a, b);
    let det = r.0 * s.1 - r.1 * s.0;
    if det.abs() < 1e-6 {
        return None;
    }
    let t = ((q.0 - p.0) * s.1 - (q.1 - p.1) * s.0) / det;
    Some((p.0 + r.0 * t, p.1 + r.1 * t))
}

/// A side's candidates: the strongest local maxima of its profiles at each of `turns`
/// (degrees from the print's direction) that change at least their profile's
/// `least_change`, one per rim, and past the frame when the profile along the print ended
/// there.
fn side_options(
    img: &RgbImage,
    colour: &[f32; 3],
    side: &SideProbe,
    reach: f32,
    turns: &[f32],
) -> SideOptions {
    let profiles: Vec<Profile> = turns
        .iter()
        .map(|deg| profile(img, colour, side, reach, deg.to_radians().tan()))
        .collect();
    let mut found: Vec<Offset> = profiles.iter().flat_map(peaks).collect();
    found.sort_by(|a, b| change_of(b).total_cmp(&change_of(a)));
    let mut options: Vec<Offset> = Vec::new();
    for o in found {
        let (Offset::At { d, slope, .. }, true) = (o, options.len() < PEAKS_PER_SIDE) else {
            break;
        };
        let same_rim = options.iter().any(|k| {
            matches!(*k, Offset::At { d: kd, slope: ks, .. }
                if ks != slope && (kd - d).abs() < SAME_SIDE_PX)
        });
        if !same_rim {
            options.push(o);
        }
    }
    let along_print = profiles.first();
    if along_print.is_some_and(|p| p.reached_frame) {
        options.push(Offset::PastFrame);
    }
    SideOptions {
        options,
        in_frame: along_print.map_or(0.0, |p| p.change.len() as f32),
    }
}

fn change_of(o: &Offset) -> f32 {
    match *o {
        Offset::At { change, .. } => change,
        Offset::PastFrame => 0.0,
    }
}

/// A profile's local maxima that change at least its `least_change` and at least
/// `MIN_PEAK_SHARE` of its highest.
fn peaks(p: &Profile) -> impl Iterator<Item = Offset> + '_ {
    let c = &p.change;
    let highest = c.iter().copied().fold(0.0f32, f32::max);
    (1..c.len().saturating_sub(1))
        .filter(move |&i| {
            c[i] >= c[i - 1]
                && c[i] > c[i + 1]
                && c[i] >= MIN_PEAK_SHARE * highest
                && c[i] >= p.least_change
        })
        .map(|i| Offset::At {
            d: i as f32,
            change: c[i],
            slope: p.slope,
        })
}

/// The best-scoring outline among every choice of one candidate per side (`fit_card`).
fn best_fit(sides: &[SideOptions; 4], print: (f32, f32), aspect: f32) -> Option<Fit> {
    let in_frame = sides.each_ref().map(|s| s.in_frame);
    // Four sides found in the frame before any outline with a side past it: a card's faint
    // side is more likely than a cut-off card's fourth side made of the surface, and a whole
    // card called cut off is the worse mistake.
    let rank = |f: &Fit| (f.measured.iter().all(|&m| m), f.score);
    let mut best: Option<Fit> = None;
    for &top in &sides[0].options {
        for &bottom in &sides[1].options {
            for &left in &sides[2].options {
                for &right in &sides[3].options {
                    let fit = fit_card([top, bottom, left, right], print, aspect, in_frame);
                    if let Some(fit) = fit {
                        if best.as_ref().is_none_or(|b| rank(&fit) > rank(b)) {
                            best = Some(fit);
                        }
                    }
                }
            }
        }
    }
    best
}

/// The outline that the chosen sides make around a print of `print` (long, short) extent,
/// scored by the colour change along its measured sides, if it has a card's shape: at most
/// one side past the frame (placed by the card's aspect, and only where it does lie past the
/// frame: beyond `in_frame`), the aspect within `MAX_ASPECT_OFF` of the card's and the print
/// spread over it as over a card.
fn fit_card(
    chosen: [Offset; 4],
    print: (f32, f32),
    aspect: f32,
    in_frame: [f32; 4],
) -> Option<Fit> {
    let past: Vec<usize> = (0..4).filter(|&i| chosen[i] == Offset::PastFrame).collect();
    if past.len() > 1 {
        return None;
    }
    let mut d = [0.0f32; 4];
    let mut slopes = [0.0f32; 4];
    let mut score = 0.0;
    for (i, o) in chosen.iter().enumerate() {
        if let Offset::At {
            d: at,
            change,
            slope,
        } = *o
        {
            d[i] = at;
            slopes[i] = slope;
            score += change;
        }
    }
    if let Some(&i) = past.first() {
        // The side past the frame is where the card's aspect puts it, beyond the last offset
        // measured in the frame.
        let needed = if i < 2 {
            (print.0 + d[2] + d[3]) / aspect - print.1 - d[1 - i]
        } else {
            (print.1 + d[0] + d[1]) * aspect - print.0 - d[5 - i]
        };
        if needed < in_frame[i] {
            return None;
        }
        d[i] = needed;
    }
    let (short, long) = (print.1 + d[0] + d[1], print.0 + d[2] + d[3]);
    let off_aspect = (long / short / aspect - 1.0).abs() > MAX_ASPECT_OFF;
    let within = |spread: f32, (lo, hi): (f32, f32)| (lo..=hi).contains(&spread);
    (!off_aspect && within(print.1 / short, SPREAD_ACROSS) && within(print.0 / long, SPREAD_ALONG))
        .then_some(Fit {
            score,
            d,
            slope: slopes,
            measured: chosen.map(|o| o != Offset::PastFrame),
        })
}

#[cfg(test)]
mod tests {
    use super::super::test_scenes::turned_card;
    use super::*;
    use imageproc::drawing::draw_polygon_mut;
    use imageproc::point::Point;

    const CARD: Rgb<u8> = Rgb([226, 236, 238]);

    /// A pale card turned 12° with five lines of dark print, on red and white checks whose
    /// white is nearly the card's own colour, the whole photo blurred so that no rim is a
    /// sharp edge; its left end at `left`. Returns the photo, the print's boxes and the card's
    /// corners.
    fn blurred_card_on_checks(left: f32) -> (RgbImage, Vec<TextBox>, [(f32, f32); 4]) {
        let mut img = RgbImage::from_fn(640, 480, |x, y| {
            if ((x + y / 3) / 36 + y / 36) % 2 == 0 {
                Rgb([200, 40, 45])
            } else {
                Rgb([240, 240, 236])
            }
        });
        let lines = [
            (30.0, 200.0),
            (30.0, 170.0),
            (30.0, 220.0),
            (30.0, 190.0),
            (60.0, 300.0),
        ];
        let lines: Vec<_> = (lines.iter().enumerate())
            .map(|(i, &(u0, u1))| (u0, u1, 30.0 + 36.0 * i as f32))
            .collect();
        let (boxes, card) = turned_card(
            &mut img,
            (left, 90.0),
            12.0,
            (340.0, 214.0),
            (CARD, Rgb([40, 40, 50])),
            &lines,
        );
        (imageproc::filter::gaussian_blur_f32(&img, 3.0), boxes, card)
    }

    #[test]
    fn the_print_measures_out_a_blurred_card_on_checks_of_its_own_colour() {
        let (img, boxes, card) = blurred_card_on_checks(150.0);
        assert_corners(outline_from_print(&img, &boxes, 1.586), card);
    }

    #[test]
    fn a_card_past_the_frame_is_measured_out_past_it() {
        // The card's right end lies 60 px past the frame's right border.
        let (img, boxes, card) = blurred_card_on_checks(370.0);
        assert!(card[1].0 > 640.0);
        let quad = outline_from_print(&img, &boxes, 1.586).expect("the card");
        assert!(quad.0.iter().any(|p| p.0 > 640.0), "{quad:?}");
        assert!(
            (quad.0[0].0 - card[0].0).abs() < 6.0,
            "{quad:?} against {card:?}"
        );
    }

    #[test]
    fn a_cream_card_on_cream_paper_is_measured_out_by_its_faint_rim() {
        // Paper about 5 away from the card's colour (summed over R, G, B) with a grain of a
        // level or two: under `MIN_SIDE_CHANGE`, well over the surface's own variation.
        let grain = |x: u32, y: u32| ((x * 7 + y * 13) % 3) as u8;
        let mut img = RgbImage::from_fn(640, 480, |x, y| {
            let g = grain(x, y);
            Rgb([228 + g, 237 + g, 238])
        });
        let lines: Vec<_> = [(30.0, 200.0), (30.0, 170.0), (30.0, 220.0), (60.0, 300.0)]
            .iter()
            .enumerate()
            .map(|(i, &(u0, u1))| (u0, u1, 30.0 + 45.0 * i as f32))
            .collect();
        let (boxes, card) = turned_card(
            &mut img,
            (150.0, 90.0),
            10.0,
            (340.0, 214.0),
            (CARD, Rgb([40, 40, 50])),
            &lines,
        );
        assert_corners(outline_from_print(&img, &boxes, 1.586), card);
    }

    #[test]
    fn a_card_shaded_towards_one_end_is_measured_out_to_its_rim() {
        // Light falls off across the card: its left end is 12% darker than its right, and its
        // colour is taken in the print's middle. In a plain sum over R, G, B both ends are
        // farther from that colour than the cream paper beside them (with that sum the outline
        // stopped 40 px short of the right end, checked); the paper's hue differs, the card's
        // does not.
        let grain = |x: u32, y: u32| ((x * 7 + y * 13) % 3) as u8;
        let mut img = RgbImage::from_fn(640, 480, |x, y| {
            let g = grain(x, y);
            Rgb([224 + g, 224 + g, 210 + g])
        });
        let lines: Vec<_> = [(30.0, 200.0), (30.0, 170.0), (30.0, 220.0), (60.0, 300.0)]
            .iter()
            .enumerate()
            .map(|(i, &(u0, u1))| (u0, u1, 30.0 + 45.0 * i as f32))
            .collect();
        let (origin, angle, long) = ((150.0, 90.0), 10.0f32, 340.0);
        let (boxes, card) = turned_card(
            &mut img,
            origin,
            angle,
            (long, 214.0),
            (CARD, Rgb([40, 40, 50])),
            &lines,
        );
        let (c, s) = (angle.to_radians().cos(), angle.to_radians().sin());
        for (x, y, px) in img.enumerate_pixels_mut() {
            if *px == CARD {
                let u = (x as f32 - origin.0) * c + (y as f32 - origin.1) * s;
                let light = 0.88 + 0.12 * (u / long).clamp(0.0, 1.0);
                *px = Rgb(CARD.0.map(|v| (f32::from(v) * light).round() as u8));
            }
        }
        let img = imageproc::filter::gaussian_blur_f32(&img, 1.0);
        assert_corners(outline_from_print(&img, &boxes, 1.586), card);
    }

    /// A card with corners `card` on a grainy desk, five lines of level print on it, blurred
    /// a little; its outline as the print measures it out.
    fn outline_of_a_leaning_card(card: [(f32, f32); 4]) -> Option<Quad> {
        let mut img = RgbImage::from_fn(640, 480, |x, y| {
            let grain = ((x * 7 + y * 3) % 11) as u8 / 4;
            Rgb([128 - grain, 100 - grain, 60 - grain])
        });
        draw_polygon_mut(
            &mut img,
            &card.map(|(x, y)| Point::new(x as i32, y as i32)),
            CARD,
        );
        let boxes: Vec<TextBox> = (0..5)
            .map(|i| {
                let (x0, x1, y0) = (
                    190.0,
                    440.0 - 30.0 * (i % 2) as f32,
                    120.0 + 40.0 * i as f32,
                );
                let line = [(x0, y0), (x1, y0), (x1, y0 + 10.0), (x0, y0 + 10.0)];
                draw_polygon_mut(
                    &mut img,
                    &line.map(|(x, y)| Point::new(x as i32, y as i32)),
                    Rgb([40, 40, 50]),
                );
                [
                    (x0 - 3.0, y0 - 3.0),
                    (x1 + 3.0, y0 - 3.0),
                    (x1 + 3.0, y0 + 13.0),
                    (x0 - 3.0, y0 + 13.0),
                ]
            })
            .collect();
        let img = imageproc::filter::gaussian_blur_f32(&img, 1.5);
        outline_from_print(&img, &boxes, 1.586)
    }

    fn assert_corners(quad: Option<Quad>, card: [(f32, f32); 4]) {
        let quad = quad.expect("the card");
        for (got, want) in quad.0.iter().zip(card) {
            assert!(
                (got.0 - want.0).abs() < 6.0 && (got.1 - want.1).abs() < 6.0,
                "{quad:?} against {card:?}"
            );
        }
    }

    #[test]
    fn a_card_under_perspective_is_measured_out_along_its_leaning_sides() {
        // The card's sides lean 3-11° away from its print (a near side longer than the far
        // one, as a phone held at a slant sees it): found along the print, then turned.
        let card = [
            (160.0, 70.0),
            (500.0, 100.0),
            (530.0, 350.0),
            (110.0, 330.0),
        ];
        assert_corners(outline_of_a_leaning_card(card), card);
    }

    #[test]
    fn print_on_a_plain_wall_has_no_card_around_it() {
        let (_, boxes, _) = blurred_card_on_checks(150.0);
        let mut img = RgbImage::from_pixel(640, 480, CARD);
        for b in &boxes {
            let poly = b.map(|(x, y)| Point::new(x as i32 + 1, y as i32 + 3));
            draw_polygon_mut(&mut img, &poly, Rgb([40, 40, 50]));
        }
        assert!(outline_from_print(&img, &boxes, 1.586).is_none());
    }
}
