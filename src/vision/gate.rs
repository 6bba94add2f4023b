//! The quality gate: from uploaded bytes to a verdict with reason codes and the numbers
//! behind them, in well under a second, from the photo decoded once (`decode::Photo`).

use std::time::{Duration, Instant};

use image::{GrayImage, RgbImage};
use serde::Serialize;

use super::decode::{self, Photo};
use super::document::{self, DocShape, PrintLayout, Quad, TextBox};
use super::quality::{self, Measures};
use crate::filing::materials::MaterialKind;
use crate::filing::reason::ReasonCode;

/// Long side of the image the document outline is searched in.
pub const DETECT_LONG_SIDE: u32 = 512;
/// Long side the photo is decoded at when the detector finds no print at the gate's scale:
/// on a card far from the camera (too small to pass), the lines are a few pixels high at
/// 1024, under what the detector finds; at 2048, in four tiles the detector takes at about
/// its own input size, most are found (diagnosis seed 1357, checked cloth: 9 of the 12 small
/// cards that were `not_a_document` are then `too_small`).
const FINE_PRINT_LONG_SIDE: u32 = decode::WORKING_LONG_SIDE;
/// Long side of the flattened document the measures are taken on.
pub const MEASURE_LONG_SIDE: u32 = 640;

/// Calibrated on the synthetic labelled set (see docs/quality-calibration.md); every one is
/// reported next to its measured value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub min_sharpness: f64,
    /// Crispness of the frame's strongest edges (`quality::edge_crispness`), asked when no
    /// document was found: a frame blurred all over says why no card was found in it.
    pub min_frame_crispness: f64,
    pub min_mean_luma: f64,
    /// Share of the document at or above 250: detail lost to overexposure.
    pub max_clipped: f64,
    /// The same for the whole frame, when no document was found in it.
    pub max_frame_clipped: f64,
    /// Share of a found document at or above 250 from which the whole frame's clipping
    /// counts too: a frame washed out around a document that kept its detail is a white
    /// desk, not an overexposed photo.
    pub min_clipped_for_frame: f64,
    pub max_glare: f64,
    pub min_colourfulness: f64,
    /// Share of the frame the document must cover.
    pub min_fill: f64,
    /// Pixels on the document's long side in the uploaded image.
    pub min_document_px: f64,
    /// Distance of every corner from the frame, as a share of the frame's short side.
    pub min_edge_margin: f64,
    /// Share of a face (its box, slightly enlarged) at or above 250.
    pub max_face_clipped: f64,
    /// Sharpness of a face measured at 128 px (see `vision::face::exposure`).
    pub min_face_sharpness: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            min_sharpness: 50.0,
            min_frame_crispness: 0.15,
            min_mean_luma: 80.0,
            max_clipped: 0.25,
            max_frame_clipped: 0.15,
            min_clipped_for_frame: 0.05,
            max_glare: 0.004,
            min_colourfulness: 6.0,
            min_fill: 0.12,
            min_document_px: 600.0,
            min_edge_margin: 0.02,
            max_face_clipped: 0.15,
            min_face_sharpness: 20.0,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Check {
    pub check: &'static str,
    pub value: f64,
    pub threshold: f64,
    pub ok: bool,
}

pub fn at_least(check: &'static str, value: f64, threshold: f64) -> Check {
    Check {
        check,
        value: round(value),
        threshold,
        ok: value >= threshold,
    }
}

pub fn at_most(check: &'static str, value: f64, threshold: f64) -> Check {
    Check {
        check,
        value: round(value),
        threshold,
        ok: value <= threshold,
    }
}

fn round(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DocumentBox {
    /// Corners in the uploaded (oriented) image's pixels: TL, TR, BR, BL.
    pub quad: [[f32; 2]; 4],
    pub fill: f64,
    pub long_side_px: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ImageInfo {
    pub format: &'static str,
    pub width: u32,
    pub height: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Verdict {
    pub kind: &'static str,
    /// `pass` or `retake`.
    pub verdict: &'static str,
    pub reasons: Vec<ReasonCode>,
    pub checks: Vec<Check>,
    pub document: Option<DocumentBox>,
    pub image: ImageInfo,
}

/// Where the time went, for the benchmark.
#[derive(Debug, Clone, Default)]
pub struct Timings {
    pub probe: Duration,
    pub decode: Duration,
    pub detect: Duration,
    pub rectify: Duration,
    pub measure: Duration,
}

pub struct Judgement {
    pub verdict: Verdict,
    /// The flattened document at the measuring scale (for the reviewer).
    pub document: Option<RgbImage>,
    /// The decoded image the gate worked on (`decode::Photo::gate`, long side at most `decode::GATE_LONG_SIDE`)...
    pub work: RgbImage,
    /// ... and the document's corners in it, when one was found (OCR flattens it again at
    /// the resolution it needs).
    pub quad: Option<Quad>,
    pub timings: Timings,
}

pub fn shape_of(kind: MaterialKind) -> Option<DocShape> {
    match kind {
        MaterialKind::IdCardFront | MaterialKind::IdCardBack | MaterialKind::ResidencePermit => {
            Some(DocShape::Card)
        }
        MaterialKind::BusinessLicense
        | MaterialKind::VerificationForm
        | MaterialKind::AuthorizationLetter
        | MaterialKind::DomainCertificate => Some(DocShape::Page),
        MaterialKind::Other => Some(DocShape::Any),
        MaterialKind::Face => None,
    }
}

/// Where the print sits on the documents whose layout was measured (the text cue is used
/// for these only).
fn print_layout(kind: MaterialKind) -> Option<PrintLayout> {
    match kind {
        MaterialKind::IdCardFront => Some(document::CARD_FRONT),
        MaterialKind::IdCardBack => Some(document::CARD_BACK),
        _ => None,
    }
}

/// Judges one decoded photo (an unreadable or hostile file was refused by `Photo::decode`).
pub fn judge(photo: &Photo, kind: MaterialKind, t: &Thresholds) -> Judgement {
    judge_inner(photo, kind, t, &mut |_| Vec::new())
}

/// The same, asking `text` for the text detector's boxes in the image it is given when no
/// document outline stands out from the surface on its own, or the one that does touches
/// the frame, is too small to pass or holds what measures blurry: the print inside an
/// outline then decides (`document::Search::best_with_text`), or the print measures the
/// outline out itself (`document::outline_from_print`). The detector runs only on such
/// photos: on the gate's image, once more on the smaller image
/// the outline is searched in when it finds no print there (a blurred card's print is found
/// at the smaller scale, where its blur spans fewer pixels), and on four quarters of the
/// photo at twice the gate's scale when neither shows print (a card far off).
pub fn judge_with_text<E>(
    photo: &Photo,
    kind: MaterialKind,
    t: &Thresholds,
    mut text: impl FnMut(&RgbImage) -> Result<Vec<TextBox>, E>,
) -> Result<Judgement, E> {
    let mut failed = None;
    let judged = judge_inner(photo, kind, t, &mut |img| {
        if failed.is_some() {
            return Vec::new();
        }
        text(img).unwrap_or_else(|e| {
            failed = Some(e);
            Vec::new()
        })
    });
    match failed {
        Some(e) => Err(e),
        None => Ok(judged),
    }
}

fn judge_inner(
    photo: &Photo,
    kind: MaterialKind,
    t: &Thresholds,
    text: &mut dyn FnMut(&RgbImage) -> Vec<TextBox>,
) -> Judgement {
    let mut timings = Timings {
        probe: photo.timings.probe,
        ..Timings::default()
    };
    let start = Instant::now();
    let work = photo.gate.clone();
    timings.decode = photo.timings.decode + start.elapsed();

    let probe = &photo.probe;
    let (ow, oh) = probe.oriented_size();
    let image = ImageInfo {
        format: probe.format.as_str(),
        width: ow,
        height: oh,
    };
    let Some(shape) = shape_of(kind) else {
        // A face photo has no document: only the frame's exposure is judged here.
        let start = Instant::now();
        let gray = quality::luma(&decode::resize_to_long_side(&work, DETECT_LONG_SIDE));
        let checks = frame_exposure_checks(&gray, t);
        timings.measure = start.elapsed();
        return Judgement {
            verdict: verdict_of(kind, checks, None, image),
            document: None,
            work,
            quad: None,
            timings,
        };
    };

    let start = Instant::now();
    let small = decode::resize_to_long_side(&work, DETECT_LONG_SIDE);
    let small_gray = quality::luma(&small);
    let search = document::Search::new(&small_gray, shape);
    let (sw, sh) = small.dimensions();
    let whole_quad = |q: &Quad| edge_margin(q, sw, sh) >= t.min_edge_margin;
    let whole = |f: &document::Found| whole_quad(&f.quad);
    // Big enough to pass: the document's share of the frame and its long side in the
    // uploaded image's pixels, measured by the same `document_box` the checks below read.
    let to_original = ow as f32 / sw as f32;
    let big_enough = |f: &document::Found| {
        let d = document_box(&f.quad.scaled(to_original), ow, oh);
        d.fill >= t.min_fill && d.long_side_px >= t.min_document_px
    };
    // The print is asked when the rim finds nothing, and when what it finds touches the
    // frame: a rim outline can close on a line of the surface, or the frame's own border,
    // beside a card wholly in frame, and a card in the middle of the frame is never cut off.
    // It is asked too when what the rim finds is too small to pass: on a surface as light as
    // the card, the portrait's frame or a block of the print closes an outline inside it.
    // And when the document in the rim's outline would be sent back for what it shows
    // (below).
    let by_rim = search.best();
    let layout = print_layout(kind);
    let rim_alone = by_rim.as_ref().is_some_and(|f| whole(f) && big_enough(f));
    let mut with_print = |by_rim: Option<document::Found>, layout: &PrintLayout| {
        let boxes = print_boxes(photo, &work, &small, text);
        // An outline that reaches the frame may have closed on the card's shadow or a
        // line of the surface beside its rim: pulled in onto the rim, it is whole.
        let pull_in = |f: document::Found| {
            if whole(&f) {
                return f;
            }
            search
                .tightened(&f, &boxes, layout, whole_quad)
                .unwrap_or(f)
        };
        let measured = || {
            document::outline_from_print(&small, &boxes, shape.aspect())
                .map(document::Found::unscored)
        };
        let by_print = match search.best_with_text(&boxes, layout).map(pull_in) {
            // The outline the print sits in can run along a line of a cloth past the
            // card's rim to the frame; measured out from the print, a whole card's rim
            // is found where its colour ends. Only when the print sits in that outline
            // at least as a document's does: inside a card the frame cuts off, a side
            // measured on the portrait's edge closes a whole outline the print crowds.
            Some(f) if !whole(&f) => {
                let misfit = |g: &document::Found| layout.distance_in(&g.quad, &boxes);
                Some(
                    measured()
                        .filter(|m| whole(m) && misfit(m) <= misfit(&f))
                        .unwrap_or(f),
                )
            }
            Some(f) => Some(f),
            None => measured().map(pull_in),
        };
        match (by_rim, by_print) {
            (Some(rim), Some(print)) if !whole(&print) => Some(pull_in(rim)),
            (by_rim, by_print) => by_print.or(by_rim.map(pull_in)),
        }
    };
    let found = match &layout {
        Some(layout) if !rim_alone => with_print(by_rim, layout),
        _ => by_rim,
    };
    timings.detect = start.elapsed();
    // A washed-out frame is overexposed whatever the outline search found in it, unless that
    // document kept its detail; and without a document the frame's exposure still says why,
    // when that is why.
    let frame_clipped = frame_clipped_check(&small_gray, t);

    let Some(found) = found else {
        let mut checks = vec![Check {
            check: "document_found",
            value: 0.0,
            threshold: 1.0,
            ok: false,
        }];
        checks.push(frame_clipped);
        checks.push(at_least(
            "frame_brightness",
            quality::bright_end(&small_gray),
            t.min_mean_luma,
        ));
        checks.push(at_least(
            "frame_crispness",
            quality::edge_crispness(&quality::luma(&work)),
            t.min_frame_crispness,
        ));
        return Judgement {
            verdict: verdict_of(kind, checks, None, image),
            document: None,
            work,
            quad: None,
            timings,
        };
    };

    let to_work = work.width() as f32 / small.width() as f32;
    let flatten = |found: &document::Found| {
        let quad_work = found.quad.scaled(to_work);
        let crop = document::rectify(&work, &quad_work, shape.crop_size(MEASURE_LONG_SIDE));
        (quad_work, crop)
    };
    let start = Instant::now();
    let (mut quad_work, mut crop) = flatten(&found);
    timings.rectify = start.elapsed();

    let start = Instant::now();
    let mut m = quality::measure(&crop);
    timings.measure = start.elapsed();

    // An outline the rim alone chose can be a part of the card that looks blurred (the
    // portrait's frame on a card as light as the surface: white family, diagnosis seed
    // 9191); before the card is sent back as blurry, the print is asked where the card is,
    // and what it finds is measured instead. (Asked for a grey-looking outline too, the
    // print let a grey copy pass: its outline took in the coloured surface, tuning seed
    // 2026.)
    let mut found = found;
    let doubtful = m.sharpness < t.min_sharpness;
    if let Some(layout) = layout.as_ref().filter(|_| rim_alone && doubtful) {
        let start = Instant::now();
        let asked = with_print(Some(found.clone()), layout);
        if let Some(other) = asked.filter(|o| o.quad != found.quad) {
            (quad_work, crop) = flatten(&other);
            m = quality::measure(&crop);
            found = other;
        }
        timings.detect += start.elapsed();
    }

    let quad_original = found.quad.scaled(to_original);
    let doc = document_box(&quad_original, ow, oh);
    let mut checks = vec![Check {
        check: "document_found",
        value: 1.0,
        threshold: 1.0,
        ok: true,
    }];
    checks.push(at_least(
        "edge_margin",
        edge_margin(&found.quad, sw, sh),
        t.min_edge_margin,
    ));
    checks.push(at_least("document_fill", doc.fill, t.min_fill));
    checks.push(at_least(
        "document_resolution",
        doc.long_side_px,
        t.min_document_px,
    ));
    checks.push(at_least("sharpness", m.sharpness, t.min_sharpness));
    checks.extend(exposure_checks(&m, t));
    if m.clipped >= t.min_clipped_for_frame {
        checks.push(frame_clipped);
    }
    checks.push(at_most("glare", m.glare, t.max_glare));
    checks.push(at_least(
        "colourfulness",
        m.colourfulness,
        t.min_colourfulness,
    ));
    Judgement {
        verdict: verdict_of(kind, checks, Some(doc), image),
        document: Some(crop),
        work,
        quad: Some(quad_work),
        timings,
    }
}

/// The text detector's boxes in `small`'s pixels: found in `work`, else in `small` (a blurred
/// card's print is found where its blur spans fewer pixels), else in tiles of the photo
/// decoded at `FINE_PRINT_LONG_SIDE` (a card far from the camera).
fn print_boxes(
    photo: &Photo,
    work: &RgbImage,
    small: &RgbImage,
    text: &mut dyn FnMut(&RgbImage) -> Vec<TextBox>,
) -> Vec<TextBox> {
    let in_small = |boxes: Vec<TextBox>, from: &RgbImage| -> Vec<TextBox> {
        let s = small.width() as f32 / from.width() as f32;
        boxes
            .iter()
            .map(|b| b.map(|(x, y)| (x * s, y * s)))
            .collect()
    };
    let boxes = in_small(text(work), work);
    if document::print_direction(&boxes).is_some() {
        return boxes;
    }
    let boxes = text(small);
    let (w, h) = photo.probe.oriented_size();
    if document::print_direction(&boxes).is_some() || w.max(h) <= work.width().max(work.height()) {
        return boxes;
    }
    let Ok(fine) = photo.at_long_side(FINE_PRINT_LONG_SIDE) else {
        return boxes;
    };
    let tiled = in_small(text_in_tiles(&fine, text), &fine);
    if document::print_direction(&tiled).is_some() {
        tiled
    } else {
        boxes
    }
}

/// The text boxes in `img`, asked of four overlapping quarters (a tenth of the frame shared
/// between neighbours, so a line across a seam is whole in one of them), in `img`'s pixels.
fn text_in_tiles(img: &RgbImage, text: &mut dyn FnMut(&RgbImage) -> Vec<TextBox>) -> Vec<TextBox> {
    let (w, h) = img.dimensions();
    let (tw, th) = ((w / 2 + w / 10).min(w), (h / 2 + h / 10).min(h));
    let mut boxes = Vec::new();
    for (x0, y0) in [(0, 0), (w - tw, 0), (0, h - th), (w - tw, h - th)] {
        let tile = image::imageops::crop_imm(img, x0, y0, tw, th).to_image();
        let (dx, dy) = (x0 as f32, y0 as f32);
        boxes.extend(
            text(&tile)
                .into_iter()
                .map(|b| b.map(|(x, y)| (x + dx, y + dy))),
        );
    }
    boxes
}

/// Brightness and clipping of the document. (A bright mean alone is no fault: white paper
/// is bright. Lost detail is.)
fn exposure_checks(m: &Measures, t: &Thresholds) -> Vec<Check> {
    vec![
        at_least("brightness", m.mean_luma, t.min_mean_luma),
        at_most("clipped_highlights", m.clipped, t.max_clipped),
    ]
}

/// Brightness and clipping of a whole face photo's frame.
fn frame_exposure_checks(gray: &GrayImage, t: &Thresholds) -> Vec<Check> {
    vec![
        at_least("brightness", quality::mean_luma(gray), t.min_mean_luma),
        frame_clipped_check(gray, t),
    ]
}

/// Clipping of a whole frame: for a face photo, for a frame with no document found (a
/// washed-out card often has no outline left, and then "overexposed" is the useful answer),
/// and as a guard that catches a washed-out frame whatever outline was found (one inside
/// that has lost some detail too: `Thresholds::min_clipped_for_frame`).
fn frame_clipped_check(gray: &GrayImage, t: &Thresholds) -> Check {
    at_most(
        "frame_clipped_highlights",
        quality::clipped_share(gray),
        t.max_frame_clipped,
    )
}

/// The nearest corner's distance to the frame (`w` x `h`), as a share of its short side.
fn edge_margin(q: &Quad, w: u32, h: u32) -> f64 {
    f64::from(q.margin_to_frame(w, h)) / f64::from(w.min(h))
}

fn document_box(q: &Quad, w: u32, h: u32) -> DocumentBox {
    let (long, _) = q.side_lengths();
    DocumentBox {
        quad: q.0.map(|(x, y)| [x.round(), y.round()]),
        fill: round(f64::from(q.area()) / f64::from(w * h)),
        long_side_px: f64::from(long).round(),
    }
}

/// Failed checks become reason codes, most fundamental first: without a whole document in
/// the frame the finer measures mean little, and an overexposed photo also has glare.
pub fn verdict_of(
    kind: MaterialKind,
    checks: Vec<Check>,
    document: Option<DocumentBox>,
    image: ImageInfo,
) -> Verdict {
    let failed = |name: &str| checks.iter().any(|c| c.check == name && !c.ok);
    let mut reasons = Vec::new();
    let too_dark = failed("brightness") || failed("face_brightness") || failed("frame_brightness");
    let overexposed = failed("clipped_highlights")
        || failed("frame_clipped_highlights")
        || failed("face_clipped_highlights");
    let badly_exposed = too_dark || overexposed;
    if failed("document_found") && !badly_exposed {
        reasons.push(ReasonCode::NotADocument);
    }
    if failed("edge_margin") {
        reasons.push(ReasonCode::CutOff);
    }
    if failed("document_fill") || failed("document_resolution") {
        reasons.push(ReasonCode::TooSmall);
    }
    if too_dark {
        reasons.push(ReasonCode::TooDark);
    }
    if overexposed {
        reasons.push(ReasonCode::Overexposed);
    }
    if failed("glare") && !overexposed {
        reasons.push(ReasonCode::Glare);
    }
    let blurred_frame = failed("frame_crispness") && !badly_exposed;
    if (failed("sharpness") || failed("face_sharpness") || blurred_frame) && !too_dark {
        reasons.push(ReasonCode::Blurry);
    }
    if failed("colourfulness") && !badly_exposed {
        reasons.push(ReasonCode::BlackAndWhite);
    }
    Verdict {
        kind: kind.as_str(),
        verdict: if reasons.is_empty() { "pass" } else { "retake" },
        reasons,
        checks,
        document,
        image,
    }
}
