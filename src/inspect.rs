//! Inspecting one material: the quality gate, then (for documents with text) OCR, then the
//! cross-checks against itself and what the filer typed. The analysis workers and
//! `beian check` both run this, so the CLI prints exactly what an upload would get.

use std::time::{Duration, Instant};

use chrono::NaiveDate;
use serde_json::{json, Value};

use crate::filing::crosscheck::{self, Outcome, Typed};
use crate::filing::division::Divisions;
use crate::filing::materials::{self, MaterialKind, MaterialState};
use crate::filing::order::{Certificate, OrderForm};
use crate::filing::reason::ReasonCode;
use crate::filing::verdict::Verdict;
use crate::vision::decode::{IntakeError, IntakeLimits, Photo};
use crate::vision::face::{self, Embedding, Face, PhotoRules};
use crate::vision::gate::{self, Judgement, Thresholds};
use crate::vision::models::Models;
use crate::vision::read::{self, Reading};

/// The pixel work, done on a blocking thread.
pub struct Looked {
    pub kind: MaterialKind,
    pub judgement: Judgement,
    pub reading: Option<Reading>,
    /// On a card front: the portrait's face and its embedding (for the face match).
    pub portrait: Option<(Face, Embedding)>,
    /// On a single face photo: its one face or the retake reason, and the passive score.
    pub face_photo: Option<FacePhoto>,
}

pub struct FacePhoto {
    pub face: Result<Face, ReasonCode>,
    pub passive: Option<f32>,
}

pub fn look(
    bytes: &[u8],
    kind: MaterialKind,
    limits: &IntakeLimits,
    thresholds: &Thresholds,
    models: &Models,
) -> anyhow::Result<Result<Looked, IntakeError>> {
    match Photo::decode(bytes, limits) {
        Ok(photo) => look_at(photo, kind, thresholds, models).map(Ok),
        Err(e) => Ok(Err(e)),
    }
}

/// `look` at a photo already decoded (the analysis worker keeps a stored copy of it first).
pub fn look_at(
    photo: Photo,
    kind: MaterialKind,
    thresholds: &Thresholds,
    models: &Models,
) -> anyhow::Result<Looked> {
    let mut judgement =
        gate::judge_with_text(&photo, kind, thresholds, |img| models.ocr.text_boxes(img))?;
    let face_photo = if kind == MaterialKind::Face {
        Some(look_at_face(&mut judgement, thresholds, models)?)
    } else {
        None
    };
    // A photo sent back for its quality is not worth reading.
    let start = Instant::now();
    let flat = match judgement.verdict.verdict {
        "pass" => read::flatten(kind, &judgement, &photo),
        _ => None,
    };
    let rectify = start.elapsed();
    // OCR reads the flattened document: the photo is let go before it runs.
    drop(photo);
    let reading = match flat {
        Some(flat) => {
            let mut reading = read::read_flat(&models.ocr, flat)?;
            reading.timings.rectify = rectify;
            Some(reading)
        }
        None => None,
    };
    let portrait = match (&reading, kind) {
        (Some(r), MaterialKind::IdCardFront) => match r.portrait {
            Some(region) => face::portrait_embedding(&models.face, &r.flat, region)?,
            None => None,
        },
        _ => None,
    };
    Ok(Looked {
        kind,
        judgement,
        reading,
        portrait,
        face_photo,
    })
}

/// A single face photo: the face first (`no_face`, `multiple_faces`, `face_too_small`, ...),
/// then the exposure and focus of the face itself; the frame's exposure decides only when no
/// face was found (a black frame is `too_dark`, not `no_face`). Replaces the gate's verdict.
fn look_at_face(
    judgement: &mut Judgement,
    thresholds: &Thresholds,
    models: &Models,
) -> anyhow::Result<FacePhoto> {
    let work = &judgement.work;
    let faces = models.face.detector.detect(work)?;
    let found = face::the_face(&faces, work.dimensions(), &PhotoRules::default());
    let v = &judgement.verdict;
    let checks = match &found {
        Ok(f) => face::exposure::checks(work, f, thresholds),
        Err(_) if v.verdict == "retake" => v.checks.clone(),
        Err(_) => Vec::new(),
    };
    let mut verdict = gate::verdict_of(MaterialKind::Face, checks, None, v.image.clone());
    if let (Err(reason), true) = (&found, verdict.reasons.is_empty()) {
        verdict.verdict = "retake";
        verdict.reasons = vec![*reason];
    }
    let passive = match (&found, verdict.verdict) {
        (Ok(f), "pass") => Some(models.face.antispoof.score(work, f)?),
        _ => None,
    };
    judgement.verdict = verdict;
    Ok(FacePhoto {
        face: found,
        passive,
    })
}

/// The outcome: the verdict (no personal data: field names, confidences and flag codes), and
/// the reading JSON (values; stored encrypted).
pub struct Conclusion {
    pub verdict: Verdict,
    pub reading: Option<Value>,
}

/// The gate's verdict as a material's: its state, reasons and checks, the kind, the
/// document's corners and the image.
fn material_verdict(gate: &gate::Verdict) -> Verdict {
    let mut verdict = Verdict::new(
        MaterialState::of_verdict(gate.verdict),
        gate.reasons.clone(),
    )
    .with("kind", json!(gate.kind))
    .with("document", json!(gate.document))
    .with("image", json!(gate.image));
    verdict.checks = gate.checks.iter().map(|c| json!(c)).collect();
    verdict
}

pub fn conclude(
    looked: &Looked,
    typed: &Typed,
    divisions: &Divisions,
    today: NaiveDate,
) -> Conclusion {
    let gate = &looked.judgement.verdict;
    let mut verdict = material_verdict(gate);
    if let Some(photo) = &looked.face_photo {
        if let Ok(f) = photo.face {
            // In the photo's own pixels, as the document's quad is, not the gate's scaled copy.
            let to_original = gate.image.width as f32 / looked.judgement.work.width() as f32;
            let f = f.mapped(to_original, 0.0, 0.0);
            verdict = verdict.with(
                "face",
                json!({"box": f.bbox, "landmarks": f.landmarks, "score": f.score, "passive_score": photo.passive}),
            );
        }
        return Conclusion {
            verdict,
            reading: None,
        };
    }
    let Some(reading) = &looked.reading else {
        return Conclusion {
            verdict,
            reading: None,
        };
    };
    let outcome = crosscheck::check(
        looked.kind,
        reading.document,
        &reading.fields,
        typed,
        divisions,
        today,
    );
    verdict.read = Some(json!({
        "document": reading.document,
        "turned": reading.turned,
        "lines": reading.lines.len(),
        "portrait": reading.portrait,
        "portrait_face": looked.portrait.as_ref().map(|(f, _)| json!({"box": f.bbox, "score": f.score})),
        "fields": reading.fields.iter().map(|(k, f)| (k.to_string(), json!({"confidence": f.confidence}))).collect::<serde_json::Map<_, _>>(),
    }));
    let mut stored = json!({"document": reading.document, "fields": reading.fields});
    apply_outcome(&outcome, &mut verdict, &mut stored);
    Conclusion {
        verdict,
        reading: Some(stored),
    }
}

/// Puts a cross-check's outcome into a material's verdict (state, reasons, flag codes) and
/// its stored reading (the flags with their values).
pub fn apply_outcome(outcome: &Outcome, verdict: &mut Verdict, reading: &mut Value) {
    let state = if !outcome.retake.is_empty() {
        MaterialState::Retake
    } else if !outcome.flags.is_empty() {
        MaterialState::Flagged
    } else {
        MaterialState::Pass
    };
    let mut reasons = outcome.retake.clone();
    for f in &outcome.flags {
        if !reasons.contains(&f.code) {
            reasons.push(f.code);
        }
    }
    verdict.verdict = state;
    verdict.reasons = reasons;
    verdict.read.get_or_insert_with(|| json!({}))["flags"] = json!(outcome
        .flags
        .iter()
        .map(|f| json!({"code": f.code, "field": f.field, "message": f.message}))
        .collect::<Vec<_>>());
    reading["flags"] = json!(outcome.flags);
}

/// Where the time of one inspection went, for the benchmark and `check --timings`.
pub fn stage_timings(looked: &Looked) -> Vec<(&'static str, Duration)> {
    let g = &looked.judgement.timings;
    let mut out = vec![
        ("probe", g.probe),
        ("decode", g.decode),
        ("detect_document", g.detect),
        ("rectify", g.rectify),
        ("measure", g.measure),
    ];
    if let Some(r) = &looked.reading {
        out.extend([
            ("ocr_rectify", r.timings.rectify),
            ("ocr_det", r.timings.ocr.det),
            ("ocr_cls", r.timings.ocr.cls),
            ("ocr_rec", r.timings.ocr.rec),
            ("parse", r.timings.parse),
        ]);
    }
    out
}

/// What the filer typed that the material of `person` can confirm, from the order form.
pub fn typed_for(form: &OrderForm, person: &str) -> Typed {
    let subject = &form.subject;
    if person == "subject" {
        return Typed {
            name: Some(subject.name.clone()),
            credit_code: match &subject.certificate {
                Certificate::Uscc(code) => Some(code.as_str().to_string()),
                Certificate::ResidentId(_) => None,
            },
            legal_representative: subject
                .legal_representative
                .as_ref()
                .map(|p| p.as_str().to_string()),
            id_number: None,
        };
    }
    let who = match materials::service_index(person) {
        Some(n) => form.services.get(n).map(|s| &s.responsible),
        None => Some(&subject.principal),
    };
    who.map_or_else(Typed::default, |p| Typed {
        name: Some(p.name.as_str().to_string()),
        id_number: Some(p.id_number.as_str().to_string()),
        ..Typed::default()
    })
}
