//! OCR: PP-OCR detection, direction classification and recognition on ONNX Runtime, and the
//! parsing of what was read into the fields of an ID card or a business licence.

pub mod card;
pub mod cls;
pub mod det;
pub mod geometry;
pub mod rec;
pub mod tensor;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context;
use image::RgbImage;
use serde::Serialize;

use self::det::DetParams;
use self::geometry::Quad;
use self::rec::Dictionary;
use crate::vision::runtime::Model;

/// Which detector and recogniser pair to run (chosen by measurement: docs/ocr.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OcrModels {
    Ppocrv6Small,
    Ppocrv5Mobile,
}

impl OcrModels {
    pub fn parse(s: &str) -> Option<OcrModels> {
        match s {
            "ppocrv6_small" => Some(OcrModels::Ppocrv6Small),
            "ppocrv5_mobile" => Some(OcrModels::Ppocrv5Mobile),
            _ => None,
        }
    }

    fn prefix(self) -> &'static str {
        match self {
            OcrModels::Ppocrv6Small => "ppocrv6_small",
            OcrModels::Ppocrv5Mobile => "ppocrv5_mobile",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TextLine {
    pub text: String,
    pub confidence: f32,
    /// In the pixels of the image that was read, after turning it upright.
    pub quad: Quad,
}

#[derive(Debug, Clone, Default)]
pub struct OcrTimings {
    pub det: Duration,
    pub cls: Duration,
    pub rec: Duration,
}

#[derive(Debug, Clone)]
pub struct OcrOutput {
    pub lines: Vec<TextLine>,
    /// The image was upside down; the lines' boxes are those of the image turned upright.
    pub turned: bool,
    pub timings: OcrTimings,
}

pub struct OcrEngine {
    det: Model,
    cls: Model,
    rec: Model,
    dict: Dictionary,
    params: DetParams,
}

impl OcrEngine {
    /// Loads the chosen pair and the direction classifier from the fetched files.
    pub fn load(
        env: &ort::environment::Environment,
        files: &BTreeMap<String, PathBuf>,
        models: OcrModels,
        threads: usize,
    ) -> anyhow::Result<OcrEngine> {
        let path = |name: &str| {
            files
                .get(name)
                .with_context(|| format!("models.toml has no {name}"))
        };
        let det_name = format!("{}_det", models.prefix());
        let rec_name = format!("{}_rec", models.prefix());
        // The detector runs one large image and gains from a second thread (card front: 46 ms on
        // two, 63 on one); the classifier and recogniser run small line images, where a second
        // thread costs more than it gives (recognition: 105 ms on one, 123 on two).
        let det = Model::load(env, &det_name, path(&det_name)?, threads)?;
        let cls = Model::load(env, "ppocr_mobile_v2_cls", path("ppocr_mobile_v2_cls")?, 1)?;
        let rec = Model::load(env, &rec_name, path(&rec_name)?, 1)?;
        let dict = match models {
            OcrModels::Ppocrv6Small => Dictionary::parse(
                &rec.metadata("character")
                    .context("the PP-OCRv6 recogniser carries no `character` metadata")?,
            ),
            OcrModels::Ppocrv5Mobile => {
                let p = path("ppocrv5_dict")?;
                Dictionary::parse(
                    &std::fs::read_to_string(p)
                        .with_context(|| format!("reading {}", p.display()))?,
                )
            }
        };
        Ok(OcrEngine {
            det,
            cls,
            rec,
            dict,
            params: DetParams::default(),
        })
    }

    /// Recognises the text inside one box of `img` (no detection): a second look where the
    /// layout says a value must be.
    pub fn recognise_region(&self, img: &RgbImage, quad: &Quad) -> anyhow::Result<(String, f32)> {
        let crop = geometry::crop_line(img, quad, rec::HEIGHT, rec::HEIGHT * 40);
        Ok(rec::recognise(&self.rec, &self.dict, &[crop])?
            .pop()
            .unwrap_or_default())
    }

    /// The boxes of the lines of text in `img`, unread (the gate's cue to where a document
    /// is).
    pub fn text_boxes(&self, img: &RgbImage) -> anyhow::Result<Vec<Quad>> {
        let found = det::detect(&self.det, img, &self.params)?;
        Ok(found.into_iter().map(|(q, _)| q).collect())
    }

    /// Reads every line of text in `img` (a flattened document or any picture).
    pub fn read(&self, img: &RgbImage) -> anyhow::Result<OcrOutput> {
        let mut timings = OcrTimings::default();
        let start = Instant::now();
        let found = det::detect(&self.det, img, &self.params)?;
        timings.det = start.elapsed();

        let start = Instant::now();
        let mut quads: Vec<Quad> = found.into_iter().map(|(q, _)| q).collect();
        let mut crops: Vec<RgbImage> = quads
            .iter()
            .map(|q| geometry::crop_line(img, q, rec::HEIGHT, rec::HEIGHT * 40))
            .collect();
        let flipped = cls::upside_down(&self.cls, &crops)?;
        // Most of the text (by width) upside down means the whole document is: every line is
        // turned (short ones the classifier is unsure of too), and so are the boxes, so the
        // layout reads in its own coordinates. On an upright document, single lines the
        // classifier is sure of are turned on their own, as PP-OCR does.
        let width_of = |i: usize| crops[i].width() as u64;
        let flipped_width: u64 = (0..crops.len()).filter(|&i| flipped[i]).map(width_of).sum();
        let total_width: u64 = (0..crops.len()).map(width_of).sum();
        let turned = total_width > 0 && flipped_width * 2 > total_width;
        let (w, h) = img.dimensions();
        for (i, crop) in crops.iter_mut().enumerate() {
            if turned || flipped[i] {
                image::imageops::rotate180_in_place(crop);
            }
            if turned {
                quads[i] = geometry::rotate_half(&quads[i], w, h);
            }
        }
        timings.cls = start.elapsed();

        let start = Instant::now();
        let texts = rec::recognise(&self.rec, &self.dict, &crops)?;
        timings.rec = start.elapsed();

        let mut lines: Vec<TextLine> = texts
            .into_iter()
            .zip(quads)
            .filter(|((text, _), _)| !text.trim().is_empty())
            .map(|((text, confidence), quad)| TextLine {
                text,
                confidence,
                quad,
            })
            .collect();
        sort_reading_order(&mut lines, |l| l.quad);
        Ok(OcrOutput {
            lines,
            turned,
            timings,
        })
    }
}

/// Puts boxes in reading order: rows top to bottom (a box whose vertical centre is within half
/// a line height of a row's first box joins that row), each row left to right. Rows are
/// assigned first so the final sort is by a total order.
pub fn sort_reading_order<T>(items: &mut Vec<T>, quad: impl Fn(&T) -> Quad) {
    let centre = |q: &Quad| (q[0].1 + q[1].1 + q[2].1 + q[3].1) / 4.0;
    let height = |q: &Quad| ((q[3].1 - q[0].1).abs() + (q[2].1 - q[1].1).abs()) / 2.0;
    items.sort_by(|a, b| centre(&quad(a)).total_cmp(&centre(&quad(b))));
    let mut keyed: Vec<(usize, f32, T)> = Vec::with_capacity(items.len());
    let (mut row, mut row_centre, mut row_height) = (0usize, f32::MIN, 0f32);
    for item in items.drain(..) {
        let q = quad(&item);
        if centre(&q) - row_centre > row_height.max(height(&q)) / 2.0 {
            row += 1;
            row_centre = centre(&q);
            row_height = height(&q);
        }
        keyed.push((row, q[0].0, item));
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)));
    items.extend(keyed.into_iter().map(|(_, _, item)| item));
}
