//! The print inside an outline as evidence that the outline is the document's. Where the rim
//! alone does not stand out from the surface (a card on a checked cloth, whose checks are as
//! strong as its rim; a white card on white paper, whose grain is as strong as its rim), the
//! print still does: a document's lines of text run along its long sides and spread over most
//! of it, and a patch of tablecloth holds none.

use super::lines::angle_between;
use super::{centre, Quad};

/// Corners of a line of text, as the text detector gives them.
pub type TextBox = [(f32, f32); 4];

/// Lines of text an outline must hold, running along its long sides.
const MIN_ALIGNED_LINES: usize = 3;
/// Share of the elongated boxes inside that must run along the long sides.
const MIN_ALIGNED_SHARE: f32 = 0.7;
/// How far (degrees) a line of text may turn from the outline's long sides.
const ANGLE_TOLERANCE_DEG: f32 = 8.0;
/// A box this much longer than high has a direction; squarer ones (a single character) do
/// not and are not judged.
const MIN_ELONGATION: f32 = 1.5;

/// Share of the lines of text along the outline's direction, anywhere in the photo, that it
/// must hold: the document's print is all on it.
const MIN_HELD_SHARE: f32 = 0.8;
/// How close (a share of the outline's short extent) beside the outline a line of print
/// running its way shows that the print goes on past it (diagnosis seed 555: on a cut-off
/// card, the portrait's frame and the line above the ID number closed an outline that held
/// the rest of the print, with the ID number's line just below it).
const NEAR_OUTSIDE: f32 = 0.25;
/// How far (a share of the outline's short extent) a box inside may reach past a side: an
/// outline drawn through the print, inside the document, cuts its boxes.
const CUT_TOLERANCE: f32 = 0.03;

/// Where a kind of document's print sits on it: the median share of its long and short
/// extent the lines of text span.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PrintLayout {
    pub spread: (f32, f32),
}

/// Measured on the tuning families (seed 9001, 3 photos per label, the outlines the rim
/// alone found and their text boxes; 59 fronts and 31 backs): fronts span 0.47-0.93 of the
/// long side (median 0.68) and 0.39-0.86 of the short side (median 0.78); backs 0.45-0.75
/// (median 0.58) and 0.70-0.85 (median 0.74).
pub const CARD_FRONT: PrintLayout = PrintLayout {
    spread: (0.68, 0.78),
};
pub const CARD_BACK: PrintLayout = PrintLayout {
    spread: (0.58, 0.74),
};

impl PrintLayout {
    /// How far a fit's spread is from this layout's (0 when it matches; the sum of the log
    /// ratios on both axes): an outline around more than the document, or around part of
    /// it, is further than the document's own.
    pub fn distance(&self, fit: &TextFit) -> f32 {
        let ratio = |got: f32, want: f32| (got.max(1e-3) / want).ln().abs();
        ratio(fit.spread.0, self.spread.0) + ratio(fit.spread.1, self.spread.1)
    }

    /// `distance` for the print `text` inside `quad`.
    pub fn distance_in(&self, quad: &Quad, text: &[TextBox]) -> f32 {
        self.distance(&fit(quad, text))
    }
}

/// How the text inside an outline sits in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextFit {
    /// Elongated boxes inside running along the long sides, and all elongated boxes inside.
    pub aligned: usize,
    pub elongated: usize,
    /// Elongated boxes outside running the same way.
    pub aligned_outside: usize,
    /// Of those, the ones close beside the outline (`NEAR_OUTSIDE`): the print goes on past
    /// a side, which a document's own edge never lets it.
    pub aligned_beside: usize,
    /// Boxes inside that reach past a side.
    pub cut: usize,
    /// The larger angle (degrees) between a long side and the print's mean direction.
    pub side_turn: f32,
    /// How much of the outline's long and short extent the boxes inside span (0..1).
    pub spread: (f32, f32),
}

impl TextFit {
    /// Whether this is how a document's print sits on it: enough lines, along each of its
    /// long sides, none cut and none left outside, spread over at least `min_spread` of it.
    pub fn agrees(&self, min_spread: (f32, f32)) -> bool {
        self.aligned >= MIN_ALIGNED_LINES
            && self.aligned as f32 >= MIN_ALIGNED_SHARE * self.elongated as f32
            && self.aligned as f32 >= MIN_HELD_SHARE * (self.aligned + self.aligned_outside) as f32
            && self.aligned_beside == 0
            && self.cut == 0
            && self.side_turn <= ANGLE_TOLERANCE_DEG
            && self.spread.0 >= min_spread.0
            && self.spread.1 >= min_spread.1
    }
}

fn sub(a: (f32, f32), b: (f32, f32)) -> (f32, f32) {
    (a.0 - b.0, a.1 - b.1)
}

fn length(v: (f32, f32)) -> f32 {
    v.0.hypot(v.1)
}

/// Direction of a line, degrees in [0, 180).
fn direction(v: (f32, f32)) -> f32 {
    v.1.atan2(v.0).to_degrees().rem_euclid(180.0)
}

/// The quad's two long sides, as vectors running the same way.
fn long_sides(q: &[(f32, f32); 4]) -> [(f32, f32); 2] {
    let (top, bottom) = (sub(q[1], q[0]), sub(q[2], q[3]));
    let (right, left) = (sub(q[2], q[1]), sub(q[3], q[0]));
    if length(top) + length(bottom) >= length(right) + length(left) {
        [top, bottom]
    } else {
        [right, left]
    }
}

/// The unit vector along the quad's long sides (the mean of the pair).
fn long_axis(q: &[(f32, f32); 4]) -> (f32, f32) {
    let [a, b] = long_sides(q);
    let pair = (a.0 + b.0, a.1 + b.1);
    let n = length(pair).max(1e-6);
    (pair.0 / n, pair.1 / n)
}

/// The mean direction of lines (degrees, modulo 180: averaged as doubled angles so that 179°
/// and 1° mean 0°).
fn mean_direction(directions: &[f32]) -> Option<f32> {
    if directions.is_empty() {
        return None;
    }
    let (c, s) = directions.iter().fold((0.0f32, 0.0f32), |(c, s), d| {
        let r = (2.0 * d).to_radians();
        (c + r.cos(), s + r.sin())
    });
    Some((s.atan2(c).to_degrees() / 2.0).rem_euclid(180.0))
}

/// The direction (degrees in [0, 180)) most of the print runs in: of the elongated boxes,
/// those within `ANGLE_TOLERANCE_DEG` of the direction that the most print length agrees
/// with, averaged; None without `MIN_ALIGNED_LINES` of them.
pub fn print_direction(text: &[TextBox]) -> Option<f32> {
    let lines: Vec<(f32, f32)> = text
        .iter()
        .filter_map(|b| {
            line_direction(b).map(|d| (d, length(sub(b[1], b[0])).max(length(sub(b[2], b[1])))))
        })
        .collect();
    let agreeing = |d: f32| {
        lines
            .iter()
            .filter(move |l| angle_between(l.0, d) <= ANGLE_TOLERANCE_DEG)
    };
    let &(mode, _) = lines.iter().max_by(|a, b| {
        let weight = |d: f32| agreeing(d).map(|l| l.1).sum::<f32>();
        weight(a.0).total_cmp(&weight(b.0))
    })?;
    let along: Vec<f32> = agreeing(mode).map(|l| l.0).collect();
    if along.len() < MIN_ALIGNED_LINES {
        return None;
    }
    mean_direction(&along)
}

/// The lines of `text` running within `ANGLE_TOLERANCE_DEG` of `direction` (degrees).
pub fn along(text: &[TextBox], direction: f32) -> impl Iterator<Item = &TextBox> {
    text.iter().filter(move |b| {
        line_direction(b).is_some_and(|d| angle_between(d, direction) <= ANGLE_TOLERANCE_DEG)
    })
}

/// The direction of a box's long side; None for a box too square to have one.
fn line_direction(b: &TextBox) -> Option<f32> {
    let (a, c) = (sub(b[1], b[0]), sub(b[2], b[1]));
    let (long, short) = if length(a) >= length(c) {
        (a, c)
    } else {
        (c, a)
    };
    (length(long) >= MIN_ELONGATION * length(short).max(1e-3)).then(|| direction(long))
}

/// Where the text boxes `text` (corners in the quad's image) sit inside `quad`.
pub fn fit(quad: &Quad, text: &[TextBox]) -> TextFit {
    let u = long_axis(&quad.0);
    let v = (-u.1, u.0);
    let along = |p: (f32, f32), axis: (f32, f32)| p.0 * axis.0 + p.1 * axis.1;
    let extent = |points: &mut dyn Iterator<Item = (f32, f32)>, axis: (f32, f32)| {
        points
            .map(|p| along(p, axis))
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), x| {
                (lo.min(x), hi.max(x))
            })
    };
    let span = |(lo, hi): (f32, f32)| (hi - lo).max(0.0);
    let quad_long = span(extent(&mut quad.0.iter().copied(), u)).max(1.0);
    let quad_short = span(extent(&mut quad.0.iter().copied(), v)).max(1.0);

    let (inside, outside): (Vec<&TextBox>, Vec<_>) =
        text.iter().partition(|b| quad.contains(centre(b)));
    let axis_deg = direction(u);
    let runs_along = |b: &TextBox| {
        line_direction(b).is_some_and(|d| angle_between(d, axis_deg) <= ANGLE_TOLERANCE_DEG)
    };
    let elongated = inside
        .iter()
        .filter(|b| line_direction(b).is_some())
        .count();
    let along: Vec<f32> = inside
        .iter()
        .filter(|b| runs_along(b))
        .filter_map(|b| line_direction(b))
        .collect();
    let aligned = along.len();
    let aligned_outside = outside.iter().filter(|b| runs_along(b)).count();
    let aligned_beside = outside
        .iter()
        .filter(|b| runs_along(b) && quad.distance_outside(centre(b)) < NEAR_OUTSIDE * quad_short)
        .count();
    // Each long side against the print: an outline skewed against the card (a cloth's line
    // for one side) averages to the print's direction but is not the card's.
    let side_turn = mean_direction(&along).map_or(90.0, |print| {
        long_sides(&quad.0)
            .iter()
            .map(|&side| angle_between(direction(side), print))
            .fold(0.0, f32::max)
    });
    let tolerance = CUT_TOLERANCE * quad_short;
    let cut = inside
        .iter()
        .filter(|b| b.iter().any(|&p| quad.distance_outside(p) > tolerance))
        .count();
    let corners = || inside.iter().flat_map(|b| b.iter().copied());
    let spread = if inside.is_empty() {
        (0.0, 0.0)
    } else {
        (
            span(extent(&mut corners(), u)) / quad_long,
            span(extent(&mut corners(), v)) / quad_short,
        )
    };
    TextFit {
        aligned,
        elongated,
        aligned_outside,
        aligned_beside,
        cut,
        side_turn,
        spread,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(x0: f32, y: f32, x1: f32) -> [(f32, f32); 4] {
        [(x0, y), (x1, y), (x1, y + 10.0), (x0, y + 10.0)]
    }

    /// Four lines of print across `card()`, the last one indented.
    fn card_print() -> [TextBox; 4] {
        [
            line(20.0, 20.0, 150.0),
            line(20.0, 60.0, 200.0),
            line(20.0, 100.0, 180.0),
            line(60.0, 160.0, 280.0),
        ]
    }

    fn card() -> Quad {
        Quad([(0.0, 0.0), (300.0, 0.0), (300.0, 190.0), (0.0, 190.0)])
    }

    #[test]
    fn lines_across_a_card_agree_with_its_outline() {
        let text = card_print();
        let f = fit(&card(), &text);
        assert_eq!((f.aligned, f.elongated), (4, 4));
        assert!((f.spread.0 - 260.0 / 300.0).abs() < 1e-3, "{f:?}");
        assert!((f.spread.1 - 150.0 / 190.0).abs() < 1e-3, "{f:?}");
        assert!(f.agrees((0.5, 0.5)));
    }

    #[test]
    fn text_outside_or_across_the_outline_does_not() {
        // All outside.
        let outside = [line(320.0, 20.0, 400.0); 4];
        assert!(!fit(&card(), &outside).agrees((0.1, 0.1)));
        // Inside but running across the short sides (the outline is no document's).
        let across: Vec<_> = (0..4)
            .map(|i| {
                let x = 40.0 + 50.0 * i as f32;
                [(x, 10.0), (x + 10.0, 10.0), (x + 10.0, 170.0), (x, 170.0)]
            })
            .collect();
        let f = fit(&card(), &across);
        assert_eq!((f.aligned, f.elongated), (0, 4));
        assert!(!f.agrees((0.1, 0.1)));
    }

    #[test]
    fn an_outline_through_the_print_or_beside_some_of_it_does_not() {
        let text = card_print();
        // Its right side runs through two of the lines.
        let through = Quad([(0.0, 0.0), (170.0, 0.0), (170.0, 115.0), (0.0, 115.0)]);
        let f = fit(&through, &text);
        assert_eq!(f.cut, 2, "{f:?}");
        assert!(!f.agrees((0.1, 0.1)));
        // It holds three of the lines; the fourth runs the same way outside it.
        let beside = Quad([(0.0, 0.0), (300.0, 0.0), (300.0, 140.0), (0.0, 140.0)]);
        let f = fit(&beside, &text);
        assert_eq!(
            (f.aligned, f.aligned_outside, f.aligned_beside, f.cut),
            (3, 1, 1, 0),
            "{f:?}"
        );
        assert!(!f.agrees((0.1, 0.1)));
    }

    #[test]
    fn an_outline_skewed_against_the_print_does_not() {
        let text = [
            line(20.0, 90.0, 150.0),
            line(20.0, 115.0, 200.0),
            line(20.0, 140.0, 180.0),
            line(60.0, 165.0, 280.0),
        ];
        // The top side climbs 14° while the print runs level; the mean of the long sides
        // is still within the tolerance.
        let skewed = Quad([(0.0, 75.0), (300.0, 0.0), (300.0, 190.0), (0.0, 190.0)]);
        let f = fit(&skewed, &text);
        assert_eq!((f.aligned, f.cut), (4, 0), "{f:?}");
        assert!(f.side_turn > 10.0 && !f.agrees((0.1, 0.1)), "{f:?}");
        assert!(fit(&card(), &text).side_turn < 0.5);
    }

    #[test]
    fn a_small_patch_of_print_does_not_span_a_large_outline() {
        let text = [
            line(20.0, 20.0, 60.0),
            line(20.0, 35.0, 60.0),
            line(20.0, 50.0, 60.0),
        ];
        let f = fit(&card(), &text);
        assert_eq!(f.aligned, 3);
        assert!(!f.agrees((0.4, 0.3)), "{f:?}");
    }
}
