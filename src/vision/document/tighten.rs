//! An outline pulled in onto the document's own rim. An outline closed at the print's angle
//! can run along an edge beside the card instead of its rim: the card's soft shadow on light
//! paper (darker than both card and paper, so the strongest change there), or a line of a
//! checked cloth parallel to the card, past its rim where card and check are alike. Such an
//! outline is larger than the card, off its shape, and can reach the frame where the card
//! does not. Each side is tried at the next edges of its direction inward, short of the
//! print, and the combination nearest the document's shape and layout is kept.

use super::lines::{self, Edges};
use super::print_outline::crossing;
use super::text_cue::{self, PrintLayout, TextBox};
use super::{centre, lies_on_border, DocShape, Quad, MAX_ASPECT_OFF_WITH_TEXT, MIN_TEXT_SPREAD};

/// How far a side may move in: a share of the outline's extent across it. The diagnosis
/// seed's outlines ran 2-13% outside the card (shadow on white paper, a cloth's line).
const MAX_MOVE: f32 = 0.15;
/// The least share of a moved side that must run along an edge of its direction: a white
/// card's rim on white paper measured 0.40-0.42 (diagnosis seed 1357, `white-good-212`).
const MIN_SUPPORT: f32 = 0.4;
/// How many edges inward each side is tried at, the best supported first.
const PEAKS_PER_SIDE: usize = 3;
/// How far (a share of its length) one end of a moved side may move more than the other: an
/// outline around a shadow on two sides meets the card's rim at one corner and leaves it
/// at the next.
const MAX_TILT: f32 = 0.06;
/// Lines within this many pixels at both ends are one edge.
const SAME_EDGE: usize = 3;
/// How close (pixels) a moved side may come to the print.
const PRINT_CLEARANCE: f32 = 2.0;
/// A side as a point on its line and the line's direction, with the unit normal pointing
/// into the outline.
#[derive(Clone, Copy)]
struct Side {
    point: (f32, f32),
    length: f32,
    along: (f32, f32),
    inward: (f32, f32),
}

impl Side {
    /// The side's line moved in by `d0` at its start and `d1` at its end, as a point and a
    /// direction.
    fn moved(&self, (d0, d1): (usize, usize)) -> ((f32, f32), (f32, f32)) {
        let (p, n, (ax, ay)) = (self.point, self.inward, self.along);
        let start = (p.0 + n.0 * d0 as f32, p.1 + n.1 * d0 as f32);
        let end = (
            p.0 + ax * self.length + n.0 * d1 as f32,
            p.1 + ay * self.length + n.1 * d1 as f32,
        );
        (start, (end.0 - start.0, end.1 - start.1))
    }

    /// How far along the side (from its start) `p` lies.
    fn distance_along(&self, p: (f32, f32)) -> f32 {
        (p.0 - self.point.0) * self.along.0 + (p.1 - self.point.1) * self.along.1
    }

    /// Signed distance of `p` from the side, positive inside.
    fn depth(&self, p: (f32, f32)) -> f32 {
        (p.0 - self.point.0) * self.inward.0 + (p.1 - self.point.1) * self.inward.1
    }
}

/// `quad` (an outline in `edges`' image holding the print `text`) with its sides pulled in
/// onto the document's rim, when a combination of inner edges that `keep` accepts is nearer
/// the document's shape and its print's `layout` than `quad` itself; None otherwise.
pub(super) fn tighten(
    edges: &Edges,
    quad: &Quad,
    shape: DocShape,
    text: &[TextBox],
    layout: &PrintLayout,
    keep: impl Fn(&Quad) -> bool,
) -> Option<Quad> {
    let (w, h) = edges.size();
    let q = quad.0;
    let middle = centre(&q);
    let print: Vec<(f32, f32)> = text
        .iter()
        .filter(|b| quad.contains(centre(b)))
        .flat_map(|b| b.iter().copied())
        .collect();
    if print.is_empty() {
        return None;
    }
    let mut options: [Vec<(usize, usize)>; 4] = Default::default();
    let mut sides = Vec::with_capacity(4);
    for i in 0..4 {
        let (a, b) = (q[i], q[(i + 1) % 4]);
        // A side on the frame's border: the document runs past the frame.
        if lies_on_border(a, b, w, h) {
            return None;
        }
        let len = (b.0 - a.0).hypot(b.1 - a.1).max(1e-3);
        let along = ((b.0 - a.0) / len, (b.1 - a.1) / len);
        let mut side = Side {
            point: a,
            length: len,
            along,
            inward: (-along.1, along.0),
        };
        if side.depth(middle) < 0.0 {
            side.inward = (along.1, -along.0);
        }
        let opposite = (q[(i + 2) % 4], q[(i + 3) % 4]);
        let across = (side.depth(opposite.0) + side.depth(opposite.1)) / 2.0;
        // The print as (share along the side, depth in): a moved side keeps clear of it.
        let print_at: Vec<(f32, f32)> = print
            .iter()
            .map(|&p| (side.distance_along(p) / len, side.depth(p)))
            .collect();
        let clear = |(d0, d1): (usize, usize)| {
            print_at.iter().all(|&(t, depth)| {
                d0 as f32 + (d1 as f32 - d0 as f32) * t <= depth - PRINT_CLEARANCE
            })
        };
        let reach = (MAX_MOVE * across) as usize;
        options[i].push((0, 0));
        if reach >= 3 {
            let beside = lines::edges_beside(edges, a, b, side.inward, reach);
            let max_tilt = (MAX_TILT * len) as usize;
            options[i].extend(inner_edges(&beside, reach, max_tilt, clear));
        }
        sides.push(side);
    }

    // How far an outline is from the document's aspect (log ratio) and its print from the
    // layout's spread: the original's is the one to beat.
    let off_shape = |quad: &Quad| {
        let (long, short) = quad.side_lengths();
        let off_aspect = (long / short.max(1e-3) / shape.aspect()).ln().abs();
        let fit = text_cue::fit(quad, text);
        (off_aspect, fit, off_aspect + layout.distance(&fit))
    };
    let (_, _, to_beat) = off_shape(quad);
    let mut best: Option<(f32, Quad)> = None;
    for pick in combinations(&options) {
        if pick.iter().all(|&d| d == (0, 0)) {
            continue;
        }
        let line = |i: usize| sides[i].moved(pick[i]);
        let corners = [0, 1, 2, 3].map(|i| crossing(line((i + 3) % 4), line(i)));
        let [Some(c0), Some(c1), Some(c2), Some(c3)] = corners else {
            continue;
        };
        let moved = Quad::from_points([c0, c1, c2, c3]);
        if !keep(&moved) {
            continue;
        }
        let (off_aspect, fit, score) = off_shape(&moved);
        let plausible =
            off_aspect <= MAX_ASPECT_OFF_WITH_TEXT.ln_1p() && fit.agrees(MIN_TEXT_SPREAD);
        if plausible && score < to_beat && best.is_none_or(|(s, _)| score < s) {
            best = Some((score, moved));
        }
    }
    best.map(|(_, quad)| quad)
}

/// The lines inward of a side that edges run along, as offsets at its start and end: of the
/// lines at most `reach` in and tilted at most `max_tilt` against the side, those at least
/// `MIN_SUPPORT` supported and better than every other line of the same edge (`SAME_EDGE`),
/// the side's own edge left out; the best supported `PEAKS_PER_SIDE`.
fn inner_edges(
    beside: &[(f32, Vec<bool>)],
    reach: usize,
    max_tilt: usize,
    clear: impl Fn((usize, usize)) -> bool,
) -> Vec<(usize, usize)> {
    let support = |d0: usize, d1: usize| {
        let met = beside.iter().filter(|(t, met)| {
            let d = (d0 as f32 + (d1 as f32 - d0 as f32) * t).round() as usize;
            met[d.saturating_sub(1)..=(d + 1).min(reach)].contains(&true)
        });
        met.count() as f32 / beside.len().max(1) as f32
    };
    let mut lines: Vec<(f32, (usize, usize))> = Vec::new();
    for d0 in 0..=reach {
        for d1 in d0.saturating_sub(max_tilt)..=(d0 + max_tilt).min(reach) {
            let s = support(d0, d1);
            if s >= MIN_SUPPORT && clear((d0, d1)) {
                lines.push((s, (d0, d1)));
            }
        }
    }
    lines.sort_by(|a, b| b.0.total_cmp(&a.0));
    let same = |a: (usize, usize), b: (usize, usize)| {
        a.0.abs_diff(b.0) <= SAME_EDGE && a.1.abs_diff(b.1) <= SAME_EDGE
    };
    let mut kept: Vec<(usize, usize)> = Vec::new();
    for (_, line) in lines {
        if !kept.iter().any(|&k| same(k, line)) {
            kept.push(line);
        }
    }
    kept.retain(|&line| !same(line, (0, 0)));
    kept.truncate(PEAKS_PER_SIDE);
    kept
}

/// Every choice of one offset per side.
fn combinations(options: &[Vec<(usize, usize)>; 4]) -> Vec<[(usize, usize); 4]> {
    let mut out = vec![[(0, 0); 4]];
    for (i, choices) in options.iter().enumerate() {
        out = out
            .iter()
            .flat_map(|pick| {
                choices.iter().map(move |&d| {
                    let mut next = *pick;
                    next[i] = d;
                    next
                })
            })
            .collect();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::{smoothed, test_scenes, CARD_FRONT};
    use super::*;
    use image::{GrayImage, Luma};
    use imageproc::drawing::draw_polygon_mut;
    use imageproc::point::Point;

    /// A light card with lines of print on lighter-grey paper, its hard shadow `shadow` px
    /// to the left and below: returns the photo, the print's boxes and the card's corners.
    fn card_with_shadow(origin: (f32, f32), shadow: f32) -> (GrayImage, Vec<TextBox>, Quad) {
        let mut img = GrayImage::from_pixel(640, 480, Luma([200]));
        let (x, y) = (origin.0 - shadow, origin.1 + shadow);
        let cast = [
            (x, y),
            (x + 400.0, y),
            (x + 400.0, y + 252.0),
            (x, y + 252.0),
        ];
        draw_polygon_mut(
            &mut img,
            &cast.map(|(x, y)| Point::new(x as i32, y as i32)),
            Luma([140]),
        );
        let lines: Vec<(f32, f32, f32)> =
            [(30.0, 300.0), (30.0, 240.0), (30.0, 330.0), (90.0, 360.0)]
                .iter()
                .enumerate()
                .map(|(i, &(u0, u1))| (u0, u1, 30.0 + 50.0 * i as f32))
                .collect();
        let (boxes, corners) = test_scenes::turned_card(
            &mut img,
            origin,
            0.0,
            (400.0, 252.0),
            (Luma([232]), Luma([30])),
            &lines,
        );
        (img, boxes, Quad(corners))
    }

    /// Every corner within 3 px of the card's.
    fn on_card(got: &Quad, card: &Quad) -> bool {
        (got.0.iter().zip(card.0))
            .all(|(g, c)| (g.0 - c.0).abs() <= 3.0 && (g.1 - c.1).abs() <= 3.0)
    }

    #[test]
    fn an_outline_around_the_cards_shadow_is_pulled_in_onto_its_rim() {
        let (img, boxes, card) = card_with_shadow((18.0, 150.0), 12.0);
        let edges = lines::Edges::of(&smoothed(&img));
        // The outline around card and shadow: its left side 6 px from the frame.
        let [tl, tr, br, _] = card.0;
        let outline = Quad([(6.0, tl.1), tr, (br.0, br.1 + 12.0), (6.0, br.1 + 12.0)]);
        let inside = |q: &Quad| q.margin_to_frame(640, 480) >= 10.0;
        assert!(
            !inside(&outline),
            "the outline is in frame already: no test"
        );
        let tightened = tighten(
            &edges,
            &outline,
            DocShape::Card,
            &boxes,
            &CARD_FRONT,
            inside,
        )
        .expect("the card's own outline");
        assert!(on_card(&tightened, &card), "{tightened:?} against {card:?}");
    }

    #[test]
    fn an_outline_on_the_cards_own_rim_stays_where_it_is() {
        // No shadow, the card itself 6 px from the frame: the lines of print inside run
        // parallel to its sides, and no side may be pulled onto them.
        let (img, boxes, card) = card_with_shadow((6.0, 150.0), 0.0);
        let edges = lines::Edges::of(&smoothed(&img));
        let inside = |q: &Quad| q.margin_to_frame(640, 480) >= 10.0;
        let tightened = tighten(&edges, &card, DocShape::Card, &boxes, &CARD_FRONT, inside);
        assert!(tightened.is_none(), "{tightened:?}");
    }
}
