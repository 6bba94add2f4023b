//! Reading a document that passed the gate: flatten it at OCR resolution, read its lines,
//! tell which document it is, and parse its fields.

use std::time::{Duration, Instant};

use image::RgbImage;
use serde::Serialize;

use super::document::{self, DocShape};
use super::gate::{self, Judgement};
use super::ocr::card::{self, Document, Fields};
use super::ocr::{OcrEngine, OcrTimings, TextLine};
use crate::filing::materials::MaterialKind;

/// Long side of a flattened card for OCR: an ID card's smallest print (the address, 3.2 mm)
/// is then about 30 px high, well inside what the detector and the recogniser read.
pub const CARD_OCR_LONG_SIDE: u32 = 960;
/// A page is read at the resolution the gate decoded it at.
pub const PAGE_OCR_LONG_SIDE: u32 = gate::GATE_LONG_SIDE;

#[derive(Debug, Clone, Serialize)]
pub struct Reading {
    /// What the document turned out to be, by the labels on it.
    pub document: Document,
    pub fields: Fields,
    /// Where the portrait is on a card front, in the flattened card's pixels (x0, y0, x1, y1).
    pub portrait: Option<[f32; 4]>,
    /// The document lay upside down in the photo.
    pub turned: bool,
    /// Every line read, in reading order (for `check --lines` and the reviewer).
    #[serde(skip)]
    pub lines: Vec<TextLine>,
    #[serde(skip)]
    pub flat: RgbImage,
    #[serde(skip)]
    pub timings: ReadTimings,
}

#[derive(Debug, Clone, Default)]
pub struct ReadTimings {
    pub rectify: Duration,
    pub ocr: OcrTimings,
    pub parse: Duration,
}

/// The kinds whose text we read.
pub fn is_readable(kind: MaterialKind) -> bool {
    matches!(
        kind,
        MaterialKind::IdCardFront | MaterialKind::IdCardBack | MaterialKind::BusinessLicense
    )
}

/// Reads the document the gate found. `None` when the kind is not read or no document was
/// found.
pub fn read(
    ocr: &OcrEngine,
    kind: MaterialKind,
    judgement: &Judgement,
) -> anyhow::Result<Option<Reading>> {
    let (Some(quad), Some(shape), true) = (judgement.quad, gate::shape_of(kind), is_readable(kind))
    else {
        return Ok(None);
    };
    let mut timings = ReadTimings::default();
    let start = Instant::now();
    let long = match shape {
        DocShape::Card => CARD_OCR_LONG_SIDE,
        DocShape::Page | DocShape::Any => PAGE_OCR_LONG_SIDE,
    };
    let mut flat = document::rectify(&judgement.work, &quad, shape.crop_size(long));
    timings.rectify = start.elapsed();

    let out = ocr.read(&flat)?;
    timings.ocr = out.timings.clone();
    if out.turned {
        image::imageops::rotate180_in_place(&mut flat);
    }

    let start = Instant::now();
    let document = card::identify(&out.lines);
    let (w, h) = flat.dimensions();
    let fields = card::parse(document, &out.lines, w, h);
    timings.parse = start.elapsed();
    Ok(Some(Reading {
        document,
        fields,
        portrait: (document == Document::IdCardFront).then(|| card::portrait_region(w, h)),
        turned: out.turned,
        lines: out.lines,
        flat,
        timings,
    }))
}
