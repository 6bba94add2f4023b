//! `beian face-calibrate`: the face layers measured on real photographs (the test fixtures
//! from scikit-image and matplotlib) and the captures and attacks made from them.
//!
//! - match: each person's photo against ID card fronts rendered with each person's portrait
//!   and photographed (`scene::photo`, several seeds): same-person and different-person
//!   scores, and the false-accept and false-reject rates at `SAME_PERSON`;
//! - liveness: for each person and each challenge that can be drawn, a turning head
//!   performing it (the 14 ordered pairs with a sideways turn), the same head performing it
//!   in the reverse order, and the flat photo moved
//!   through the same poses by homographies: what each layer decided;
//! - passive: the anti-spoofing score of the live and the flat frames.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

use anyhow::Context;
use rand::SeedableRng;

use crate::filing::materials::MaterialKind;
use crate::inspect;
use crate::synth::{card, face, font, identity, scene};
use crate::vision::decode::IntakeLimits;
use crate::vision::face::capture;
use crate::vision::face::liveness::{Action, Thresholds};
use crate::vision::face::{self as faces, Face, SAME_PERSON};
use crate::vision::models::Models;

/// The fixtures with one frontal face (the cameraman is in profile: a `face_turned` case).
pub const PEOPLE: [&str; 2] = ["astronaut", "grace_hopper"];

pub struct Person {
    pub name: String,
    pub photo: image::RgbImage,
    pub face: Face,
}

pub fn load_people(models: &Models, fixtures: &Path) -> anyhow::Result<Vec<Person>> {
    PEOPLE
        .iter()
        .map(|name| {
            let file = std::fs::read_dir(fixtures)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .find(|p| p.file_stem().is_some_and(|s| s == *name))
                .with_context(|| {
                    format!(
                        "no {name} in {} (beian fetch --fixtures)",
                        fixtures.display()
                    )
                })?;
            let photo = image::open(&file)?.to_rgb8();
            let face = *models
                .face
                .detector
                .detect(&photo)?
                .first()
                .with_context(|| format!("no face in {}", file.display()))?;
            Ok(Person {
                name: name.to_string(),
                photo,
                face,
            })
        })
        .collect()
}

/// A phone photo (JPEG) of an ID card front of a random identity whose portrait is `person`.
pub fn card_photo(person: &Person, seed: u64) -> anyhow::Result<Vec<u8>> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let id = identity::Identity::random(&mut rng);
    card_photo_of(&id, person, seed)
}

/// A phone photo (JPEG) of `id`'s card front with `person` as the portrait.
pub fn card_photo_of(
    id: &identity::Identity,
    person: &Person,
    seed: u64,
) -> anyhow::Result<Vec<u8>> {
    let font = font::load_cjk_font()?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let id = id.clone();
    let portrait = face::portrait(&person.photo, &person.face);
    let front = card::front_with_portrait(&id, &font, &mut rng, &portrait);
    let shot = scene::photo(&front, scene::Label::Good, 1600, 1200, &mut rng);
    Ok(crate::vision::decode::reencode_jpeg(&shot.image, 90))
}

/// The embedding of the portrait on a card photo, the way an upload gets it (none when the
/// photo is sent back or its portrait is not found).
pub fn card_embedding(models: &Models, jpeg: &[u8]) -> anyhow::Result<Option<faces::Embedding>> {
    let looked = inspect::look(
        jpeg,
        MaterialKind::IdCardFront,
        &IntakeLimits::default(),
        &Default::default(),
        models,
    )?
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(looked.portrait.map(|(_, e)| e))
}

/// The frames of `person` performing `challenge`, `spacing_ms` apart.
pub fn live_capture(
    person: &Person,
    challenge: &[Action],
    spacing_ms: u64,
) -> Vec<(u64, image::RgbImage)> {
    let (frame, face) = face::phone_frame(&person.photo, &person.face);
    face::performing(challenge)
        .into_iter()
        .enumerate()
        .map(|(i, pose)| {
            (
                i as u64 * spacing_ms,
                face::turning_head(&frame, &face, pose),
            )
        })
        .collect()
}

/// The flat photo of `person` moved through the poses of `challenge`.
pub fn flat_capture(
    person: &Person,
    challenge: &[Action],
    spacing_ms: u64,
) -> Vec<(u64, image::RgbImage)> {
    let (frame, _) = face::phone_frame(&person.photo, &person.face);
    face::flat_moves(&frame, &face::performing(challenge))
        .into_iter()
        .enumerate()
        .map(|(i, img)| (i as u64 * spacing_ms, img))
        .collect()
}

fn challenges() -> Vec<[Action; 2]> {
    let mut out = Vec::new();
    for a in Action::ALL {
        for b in Action::ALL {
            let turn = |x: Action| matches!(x, Action::TurnLeft | Action::TurnRight);
            if a != b && (turn(a) || turn(b)) {
                out.push([a, b]);
            }
        }
    }
    out
}

pub fn run(models: &Models, fixtures: &Path, seeds: u64) -> anyhow::Result<String> {
    let people = load_people(models, fixtures)?;
    let mut out = String::new();

    // Match.
    let lives: Vec<faces::Embedding> = people
        .iter()
        .map(|p| models.face.embedder.embed(&p.photo, &p.face))
        .collect::<anyhow::Result<_>>()?;
    let (mut same, mut other, mut unread) = (Vec::new(), Vec::new(), 0);
    for (ci, card_person) in people.iter().enumerate() {
        for seed in 0..seeds {
            let Some(card) = card_embedding(models, &card_photo(card_person, 7000 + seed)?)? else {
                unread += 1;
                continue;
            };
            for (li, live) in lives.iter().enumerate() {
                let s = card.cosine(live);
                if li == ci {
                    same.push(s)
                } else {
                    other.push(s)
                }
            }
        }
    }
    let rate = |v: &[f32], f: &dyn Fn(f32) -> bool| {
        100.0 * v.iter().filter(|&&s| f(s)).count() as f64 / v.len().max(1) as f64
    };
    let range = |v: &[f32]| {
        let min = v.iter().copied().fold(f32::MAX, f32::min);
        let max = v.iter().copied().fold(f32::MIN, f32::max);
        format!("{min:.3} – {max:.3}")
    };
    writeln!(out, "## Face match (card portrait photographed vs the person's photo), threshold {SAME_PERSON}\n")?;
    writeln!(
        out,
        "| pairs | n | cosine range | error |\n|---|---|---|---|"
    )?;
    writeln!(
        out,
        "| same person | {} | {} | false reject {:.1}% |",
        same.len(),
        range(&same),
        rate(&same, &|s| s < SAME_PERSON)
    )?;
    writeln!(
        out,
        "| different people | {} | {} | false accept {:.1}% |",
        other.len(),
        range(&other),
        rate(&other, &|s| s >= SAME_PERSON)
    )?;
    writeln!(out, "\nCards whose portrait had no face found: {unread}\n")?;

    // Liveness.
    let t = Thresholds::default();
    let mut tally: BTreeMap<&str, BTreeMap<String, usize>> = BTreeMap::new();
    let (mut passive_live, mut passive_flat) = (Vec::new(), Vec::new());
    let mut parallax: BTreeMap<&str, Vec<f32>> = BTreeMap::new();
    for person in &people {
        for challenge in challenges() {
            let other_challenge = [challenge[1], challenge[0]];
            for (case, frames) in [
                (
                    "live, asked challenge",
                    live_capture(person, &challenge, 450),
                ),
                (
                    "live, challenge reversed",
                    live_capture(person, &other_challenge, 450),
                ),
                ("flat photo moved", flat_capture(person, &challenge, 450)),
            ] {
                let report = capture::judge(&models.face, &frames, &challenge, &t)?;
                let detail = report
                    .evaluation
                    .as_ref()
                    .and_then(|e| e.detail)
                    .unwrap_or("");
                let key = format!("{} {}", report.state, detail).trim().to_string();
                *tally.entry(case).or_default().entry(key).or_default() += 1;
                if let Some(e) = &report.evaluation {
                    parallax.entry(case).or_default().push(e.parallax);
                }
                if let Some(p) = report.passive {
                    if case.starts_with("live") {
                        passive_live.push(p)
                    } else {
                        passive_flat.push(p)
                    }
                }
            }
        }
    }
    writeln!(
        out,
        "## Liveness ({} people × 14 challenges each)\n",
        people.len()
    )?;
    writeln!(
        out,
        "| capture | outcomes | nose parallax range |\n|---|---|---|"
    )?;
    for (case, counts) in &tally {
        let outcomes: Vec<String> = counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        writeln!(
            out,
            "| {case} | {} | {} |",
            outcomes.join(", "),
            range(&parallax[case])
        )?;
    }
    writeln!(
        out,
        "\n## Passive model (FAS_256s_v10.2; live above {})\n",
        faces::antispoof::LIVE_ABOVE
    )?;
    writeln!(
        out,
        "| frames | n | score range | called live |\n|---|---|---|---|"
    )?;
    let live_above = |s: f32| s > faces::antispoof::LIVE_ABOVE;
    writeln!(
        out,
        "| real face (synthetic head) | {} | {} | {:.1}% |",
        passive_live.len(),
        range(&passive_live),
        rate(&passive_live, &live_above)
    )?;
    writeln!(
        out,
        "| flat photo moved | {} | {} | {:.1}% |",
        passive_flat.len(),
        range(&passive_flat),
        rate(&passive_flat, &live_above)
    )?;
    Ok(out)
}
