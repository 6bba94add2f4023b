//! Reading a document that passed the gate: flatten it at OCR resolution, read its lines,
//! tell which document it is, and parse its fields.

use std::time::{Duration, Instant};

use image::RgbImage;

use super::decode::{self, Photo};
use super::document::{self, DocShape};
use super::gate::{self, Judgement};
use super::ocr::card;
use super::ocr::{OcrEngine, OcrTimings, TextLine};
use crate::filing::materials::MaterialKind;
use crate::filing::reading::{Document, Fields};

/// Long side of a flattened card for OCR: an ID card's smallest print (the address, 3.2 mm)
/// is then about 30 px high, well inside what the detector and the recogniser read.
pub const CARD_OCR_LONG_SIDE: u32 = 960;
/// A page's print is small (a licence's fields are about 4 mm high): it is flattened from the
/// photo at twice the gate's resolution.
pub const PAGE_OCR_LONG_SIDE: u32 = decode::WORKING_LONG_SIDE;

#[derive(Debug, Clone)]
pub struct Reading {
    /// What the document turned out to be, by the labels on it.
    pub document: Document,
    pub fields: Fields,
    /// Where the portrait is on a card front, in the flattened card's pixels (x0, y0, x1, y1).
    pub portrait: Option<[f32; 4]>,
    /// The document lay upside down in the photo.
    pub turned: bool,
    /// Every line read, in reading order (for `check --lines` and the reviewer).
    pub lines: Vec<TextLine>,
    /// The flattened document, upright (the lines' boxes are in its pixels).
    pub flat: RgbImage,
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

/// The document the gate found, flattened at the resolution OCR reads it at: a card from the
/// gate's image, a page (smaller print) from the photo's working copy. `None` when the kind
/// is not read, no document was found, or the working copy could not be decoded.
pub fn flatten(kind: MaterialKind, judgement: &Judgement, photo: &Photo) -> Option<RgbImage> {
    let (Some(quad), Some(shape), true) = (judgement.quad, gate::shape_of(kind), is_readable(kind))
    else {
        return None;
    };
    Some(match shape {
        DocShape::Card => {
            document::rectify(&judgement.work, &quad, shape.crop_size(CARD_OCR_LONG_SIDE))
        }
        DocShape::Page | DocShape::Any => {
            let large = photo.at_long_side(PAGE_OCR_LONG_SIDE).ok()?;
            let scale = large.width() as f32 / judgement.work.width() as f32;
            document::rectify(
                &large,
                &quad.scaled(scale),
                shape.crop_size(PAGE_OCR_LONG_SIDE),
            )
        }
    })
}

/// Reads a flattened document: OCR, which document it is, its fields (looking again where
/// the layout says a value must be and none was found).
pub fn read_flat(ocr: &OcrEngine, mut flat: RgbImage) -> anyhow::Result<Reading> {
    let mut timings = ReadTimings::default();
    let out = ocr.read(&flat)?;
    timings.ocr = out.timings.clone();
    if out.turned {
        image::imageops::rotate180_in_place(&mut flat);
    }

    let start = Instant::now();
    let document = card::identify(&out.lines);
    let (w, h) = flat.dimensions();
    let mut fields = card::parse(document, &out.lines, w, h);
    if document == Document::IdCardFront {
        for (field, label) in card::REREAD {
            if fields.contains_key(field) {
                continue;
            }
            if let Some(region) = card::value_region(&out.lines, label) {
                let (text, confidence) = ocr.recognise_region(&flat, &region)?;
                card::put_reread(&mut fields, field, &text, confidence);
            }
        }
    }
    timings.parse = start.elapsed();
    Ok(Reading {
        document,
        fields,
        portrait: (document == Document::IdCardFront).then(|| card::portrait_region(w, h)),
        turned: out.turned,
        lines: out.lines,
        flat,
        timings,
    })
}
