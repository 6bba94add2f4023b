//! OCR accuracy per field on synthetic ID cards of random realistic identities: clean renders
//! (the card itself, read directly) and degraded phone photos (perspective, rotation up to
//! 11°, slight blur, strong JPEG compression, one in five upside down) read through the whole
//! pipeline, quality gate included. The photos are taken on the first calibration's plain
//! desks at 1600×1200, or in scene families (`synth::desk`) at the phone cameras' sizes, the
//! held-out families' cards in the held-out fonts.

use std::collections::BTreeMap;
use std::fmt::Write;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use super::calibrate::phone_frame;
use super::desk::{Family, Photos};
use super::identity::Identity;
use super::scene::{self, Label};
use super::{card, font};
use crate::filing::materials::MaterialKind;
use crate::filing::reading::{self, Document, Fields};
use crate::inspect;
use crate::vision::decode::{self, IntakeLimits};
use crate::vision::gate::Thresholds;
use crate::vision::models::Models;
use crate::vision::read;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Condition {
    Clean,
    Degraded,
}

#[derive(Debug, Default, Clone)]
pub struct Tally {
    pub right: usize,
    pub total: usize,
    /// A few wrong readings, for the report: (expected, read).
    pub misses: Vec<(String, String)>,
}

impl Tally {
    pub fn rate(&self) -> f64 {
        if self.total == 0 {
            0.0
        } else {
            self.right as f64 / self.total as f64
        }
    }
}

#[derive(Debug, Default)]
pub struct Report {
    pub cards: usize,
    pub fields: BTreeMap<(&'static str, Condition), Tally>,
    /// Degraded photos the quality gate sent back, by reason. They are not read (the phone
    /// asks for another photo at once), so they are left out of the degraded column.
    pub gate_sent_back: BTreeMap<String, usize>,
    pub degraded_photos: usize,
    /// Where to write the degraded photos whose fields were misread, for a look.
    pub keep_misses: Option<std::path::PathBuf>,
}

/// The fields printed on each side, as the parser should return them.
fn truth(id: &Identity, front: bool) -> Vec<(&'static str, String)> {
    if front {
        vec![
            (reading::NAME, id.name.clone()),
            (reading::SEX, if id.male { "男" } else { "女" }.to_string()),
            (reading::ETHNICITY, id.ethnicity.clone()),
            (reading::BIRTH_DATE, id.birth.to_string()),
            (reading::ADDRESS, id.address.clone()),
            (reading::ID_NUMBER, id.id_number.clone()),
        ]
    } else {
        vec![
            (reading::AUTHORITY, id.authority.clone()),
            (reading::VALID_FROM, id.valid_from.to_string()),
            (
                reading::VALID_UNTIL,
                id.valid_until.map_or("长期".to_string(), |d| d.to_string()),
            ),
        ]
    }
}

/// Scene families to photograph the cards in, identity by identity in turn.
pub struct Scenes<'a> {
    pub families: &'a [Family],
    pub photos: &'a Photos,
}

/// `count` identities, both sides of each, clean and degraded.
pub fn run(
    models: &Models,
    count: usize,
    seed: u64,
    scenes: Option<Scenes>,
    keep_misses: Option<std::path::PathBuf>,
) -> anyhow::Result<Report> {
    let fonts = font::CardFonts::load(scenes.as_ref().map_or(&[], |s| s.families))?;
    let mut report = Report {
        keep_misses,
        ..Report::default()
    };
    for i in 0..count {
        let mut rng = StdRng::seed_from_u64(seed.wrapping_mul(1_000_003) ^ i as u64);
        let id = Identity::random(&mut rng);
        let family = scenes.as_ref().map(|s| s.families[i % s.families.len()]);
        let font = fonts.for_card(family.unwrap_or(Family::Desk), i);
        for front in [true, false] {
            let rendered = if front {
                card::front(&id, font, &mut rng)
            } else {
                card::back(&id, font, &mut rng)
            };
            let expected = truth(&id, front);

            let flat = decode::resize_to_long_side(&rendered, read::CARD_OCR_LONG_SIDE);
            let reading = read::read_flat(&models.ocr, flat)?;
            let missed = tally(&mut report, Condition::Clean, &expected, &reading.fields);
            if let (true, Some(dir)) = (missed, &report.keep_misses) {
                std::fs::create_dir_all(dir)?;
                reading.flat.save(dir.join(format!(
                    "miss-{i:04}-{}-clean.png",
                    if front { "front" } else { "back" }
                )))?;
            }

            let jpeg = match (&scenes, family) {
                (Some(s), Some(f)) => {
                    let frame = phone_frame(&mut rng);
                    degraded_photo(&rendered, f, s.photos, frame, &mut rng)
                }
                _ => degraded_photo(
                    &rendered,
                    Family::Desk,
                    &Photos::default(),
                    (1600, 1200),
                    &mut rng,
                ),
            };
            let kind = if front {
                MaterialKind::IdCardFront
            } else {
                MaterialKind::IdCardBack
            };
            report.degraded_photos += 1;
            let looked = inspect::look(
                &jpeg,
                kind,
                &IntakeLimits::default(),
                &Thresholds::default(),
                models,
            )?;
            let got = match looked {
                Ok(l) if l.judgement.verdict.verdict == "pass" => l
                    .reading
                    .filter(|r| r.document != Document::Unknown)
                    .map(|r| r.fields)
                    .unwrap_or_default(),
                Ok(l) => {
                    for r in &l.judgement.verdict.reasons {
                        *report.gate_sent_back.entry(r.to_string()).or_default() += 1;
                    }
                    continue;
                }
                Err(e) => {
                    *report
                        .gate_sent_back
                        .entry(e.code().to_string())
                        .or_default() += 1;
                    continue;
                }
            };
            let missed = tally(&mut report, Condition::Degraded, &expected, &got);
            if let (true, Some(dir)) = (missed, &report.keep_misses) {
                std::fs::create_dir_all(dir)?;
                std::fs::write(
                    dir.join(format!("miss-{i:04}-{}.jpg", kind.as_str())),
                    &jpeg,
                )?;
            }
        }
        report.cards += 1;
    }
    Ok(report)
}

/// A phone photo of the card in `family` with the degradations a passing photo still has.
fn degraded_photo(
    rendered: &image::RgbImage,
    family: Family,
    photos: &Photos,
    (w, h): (u32, u32),
    rng: &mut StdRng,
) -> Vec<u8> {
    let mut img = scene::photo_in(rendered, Label::Good, family, photos, w, h, rng).image;
    let sigma = rng.gen_range(0.3..1.0f32);
    img = imageproc::filter::gaussian_blur_f32(&img, sigma);
    if rng.gen_bool(0.2) {
        image::imageops::rotate180_in_place(&mut img);
    }
    decode::reencode_jpeg(&img, rng.gen_range(50..80))
}

/// Counts each field right or wrong; true when any was wrong.
fn tally(
    report: &mut Report,
    c: Condition,
    expected: &[(&'static str, String)],
    got: &Fields,
) -> bool {
    let mut missed = false;
    for (field, want) in expected {
        let t = report.fields.entry((field, c)).or_default();
        t.total += 1;
        let read = got.get(field).map(|f| f.value.clone()).unwrap_or_default();
        if &read == want {
            t.right += 1;
        } else {
            missed = true;
            if t.misses.len() < 3 {
                t.misses.push((want.clone(), read));
            }
        }
    }
    missed
}

impl Report {
    pub fn markdown(&self) -> String {
        let mut s = String::new();
        let sent_back: usize = self.gate_sent_back.values().sum();
        let _ = writeln!(
            s,
            "{} identities, both sides: clean renders, and degraded phone photos read through the whole pipeline. \
             The quality gate sent back {sent_back} of {} degraded photos ({:?}); the degraded column counts the rest.\n",
            self.cards, self.degraded_photos, self.gate_sent_back
        );
        let _ = writeln!(s, "| field | clean | degraded |");
        let _ = writeln!(s, "|---|---|---|");
        let names: Vec<&'static str> = {
            let mut n: Vec<&'static str> = self.fields.keys().map(|(f, _)| *f).collect();
            n.dedup();
            n
        };
        for name in names {
            let cell = |c| {
                self.fields.get(&(name, c)).map_or("-".to_string(), |t| {
                    format!("{:.1}% ({}/{})", t.rate() * 100.0, t.right, t.total)
                })
            };
            let _ = writeln!(
                s,
                "| {name} | {} | {} |",
                cell(Condition::Clean),
                cell(Condition::Degraded)
            );
        }
        let misses: Vec<String> = self
            .fields
            .iter()
            .flat_map(|((f, c), t)| {
                t.misses.iter().map(move |(want, got)| {
                    format!("- {f} ({c:?}): expected `{want}`, read `{got}`")
                })
            })
            .collect();
        if !misses.is_empty() {
            let _ = writeln!(s, "\nExamples of misses:\n{}", misses.join("\n"));
        }
        s
    }

    /// The lowest per-field rate under a condition.
    pub fn worst(&self, c: Condition) -> f64 {
        self.fields
            .iter()
            .filter(|((_, cond), _)| *cond == c)
            .map(|(_, t)| t.rate())
            .fold(1.0, f64::min)
    }
}
