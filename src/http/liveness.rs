//! The face check on the phone: the session's single-use challenge (two actions, one a turn
//! to the side), and `POST /api/v1/m/{token}/liveness` with the frames that answer it.
//!
//! The capture is judged while the phone waits (about half a second) and only the decision
//! is kept: the material (state, checks with numbers), its most frontal frame re-encoded
//! without metadata, and that frame's embedding, encrypted, for the match with the ID card
//! portrait. The other frames never reach the disk.

use axum::body::Bytes;
use axum::extract::{FromRequest, Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::{Duration, Utc};
use image::RgbImage;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::error::{Error, Result};
use super::phone_link::{not_requested, reasons_zh, session_for, with_cookie};
use super::ApiContext;
use crate::filing::materials::{holder, MaterialState};
use crate::filing::verdict::Verdict;
use crate::service::verification::{self, Judged};
use crate::store::blobs;
use crate::store::faces::{self, Challenge, NewCapture};
use crate::store::materials::{self, NewMaterial};
use crate::store::sessions::SessionRow;
use crate::vision::decode::{self, IntakeLimits};
use crate::vision::face::capture::{self, CaptureReport};
use crate::vision::face::liveness::{self, Action, Thresholds};

pub const MIN_FRAMES: usize = 8;
pub const MAX_FRAMES: usize = 15;
/// A frame is a phone camera still: a JPEG of a few tens of kilobytes at 640×480.
pub const MAX_FRAME_BYTES: usize = 1 << 20;
/// How long a capture may last, and at least (two actions cannot be done in less).
const MIN_CAPTURE_MS: u64 = 1_500;
const MAX_CAPTURE_MS: u64 = 15_000;
/// How long a challenge may wait for its capture after it was issued.
const CHALLENGE_TTL_SECONDS: i64 = 180;
const KEPT_FRAME_QUALITY: u8 = 90;

pub fn router() -> Router<ApiContext> {
    // The frames as base64 in JSON (4/3) plus room for the envelope.
    let limit = MAX_FRAMES * MAX_FRAME_BYTES / 3 * 4 + 64 * 1024;
    Router::new().route(
        "/api/v1/m/{token}/liveness",
        post(capture_handler).layer(axum::extract::DefaultBodyLimit::max(limit)),
    )
}

fn actions_of(c: &Challenge) -> Vec<Action> {
    c.actions
        .iter()
        .filter_map(|a| serde_json::from_value(json!(a)).ok())
        .collect()
}

/// What the phone page needs to run the face check, issuing a challenge when the session
/// has none open. `None` when the session does not ask for a face or already has one.
pub async fn challenge_for(
    ctx: &ApiContext,
    session: &SessionRow,
    latest: &[materials::MaterialRow],
) -> Result<Option<Value>> {
    if !session.materials.iter().any(|k| k == "face") {
        return Ok(None);
    }
    if session
        .material(latest, "face")
        .is_some_and(|m| m.state.is_standing())
    {
        return Ok(None);
    }
    let now = Utc::now();
    let challenge = match ctx.challenges.open(&session.id, now).await? {
        Some(c) => c,
        None => {
            let c = Challenge {
                id: uuid::Uuid::new_v4().to_string(),
                session_id: session.id.clone(),
                actions: liveness::draw_challenge()
                    .iter()
                    .map(|a| json!(a).as_str().unwrap_or_default().to_string())
                    .collect(),
                issued_at: now,
                expires_at: now + Duration::seconds(CHALLENGE_TTL_SECONDS),
                used_at: None,
            };
            ctx.challenges.insert(&c).await?;
            c
        }
    };
    let actions = actions_of(&challenge);
    Ok(Some(json!({
        "challenge_id": challenge.id,
        "actions": challenge.actions,
        "prompts_zh": actions.iter().map(|a| a.prompt_zh()).collect::<Vec<_>>(),
        "expires_at": challenge.expires_at,
        "min_frames": MIN_FRAMES,
        "max_frames": MAX_FRAMES,
        "min_ms": MIN_CAPTURE_MS,
        "max_ms": MAX_CAPTURE_MS,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CaptureBody {
    challenge_id: String,
    /// The person agreed, separately from everything else, to the processing of their face.
    consent: bool,
    frames: Vec<FrameIn>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FrameIn {
    /// Milliseconds since the capture started (the phone's clock).
    t: u64,
    image_base64: String,
}

fn invalid(message: impl Into<String>) -> Error {
    Error::Unprocessable {
        code: "invalid_capture",
        message: message.into(),
        details: json!({}),
    }
}

fn challenge_used() -> Error {
    Error::Conflict {
        code: "challenge_used",
        message: "each challenge answers one capture: reload for a new one".into(),
        details: json!({}),
    }
}

async fn capture_handler(
    State(ctx): State<ApiContext>,
    Path(token): Path<String>,
    req: Request,
) -> Result<Response> {
    let _permit = ctx.upload_permits.try_acquire().map_err(|_| Error::Busy {
        retry_after_secs: 2,
    })?;
    let (session, device) = session_for(&ctx, &token, req.headers()).await?;
    let response = receive(&ctx, &session, req)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    Ok(with_cookie(response, device))
}

async fn receive(ctx: &ApiContext, session: &SessionRow, req: Request) -> Result<Response> {
    if !session.materials.iter().any(|k| k == "face") {
        return Err(not_requested(session));
    }
    let body = Bytes::from_request(req, ctx).await?;
    let capture: CaptureBody = serde_json::from_slice(&body).map_err(|e| Error::BadRequest {
        code: "invalid_json",
        message: e.to_string(),
    })?;
    drop(body);
    if !capture.consent {
        return Err(Error::Unprocessable {
            code: "consent_required",
            message: "the face check needs the person's separate consent".into(),
            details: json!({}),
        });
    }
    let n = capture.frames.len();
    if !(MIN_FRAMES..=MAX_FRAMES).contains(&n) {
        return Err(invalid(format!(
            "send {MIN_FRAMES} to {MAX_FRAMES} frames, not {n}"
        )));
    }
    let challenge = ctx
        .challenges
        .get(&capture.challenge_id)
        .await?
        .filter(|c| c.session_id == session.id)
        .ok_or(Error::NotFound {
            code: "unknown_challenge",
            message: "this challenge was not issued to this link".into(),
        })?;
    let now = Utc::now();
    if challenge.used_at.is_some() {
        return Err(challenge_used());
    }
    if challenge.expires_at <= now {
        return Err(Error::Gone {
            code: "challenge_expired",
            message: "the challenge expired: reload for a new one".into(),
        });
    }
    let times: Vec<u64> = capture.frames.iter().map(|f| f.t).collect();
    liveness::check_timing(&times, MIN_CAPTURE_MS, MAX_CAPTURE_MS).map_err(invalid)?;
    // The frames cannot have been taken before the challenge was known.
    let since_issue = (now - challenge.issued_at).num_milliseconds().max(0) as u64;
    let span = times[n - 1] - times[0];
    if span > since_issue {
        return Err(invalid("the capture is older than its challenge"));
    }

    let mut encoded = Vec::with_capacity(n);
    for (i, f) in capture.frames.into_iter().enumerate() {
        let b64 = f.image_base64;
        let b64 = b64.split_once(";base64,").map_or(b64.as_str(), |(_, r)| r);
        let bytes = STANDARD.decode(b64.trim()).map_err(|_| Error::BadRequest {
            code: "invalid_base64",
            message: format!("frame {i} is not base64"),
        })?;
        if bytes.len() > MAX_FRAME_BYTES {
            return Err(Error::ImageTooLarge {
                message: format!("frame {i} is over {MAX_FRAME_BYTES} bytes"),
            });
        }
        encoded.push((f.t, bytes));
    }
    let limits = ctx.intake_limits;
    let frames = tokio::task::spawn_blocking(move || decode_frames(&encoded, &limits))
        .await
        .map_err(anyhow::Error::from)??;

    // Valid: from here the challenge is spent, whatever the capture shows.
    if !ctx.challenges.use_up(&challenge.id, Utc::now()).await? {
        return Err(challenge_used());
    }
    let actions = actions_of(&challenge);
    let models = ctx.models.clone();
    let (report, kept) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let report = capture::judge(&models.face, &frames, &actions, &Thresholds::default())?;
        let best = report.best.as_ref().map_or(0, |(i, _)| *i);
        let kept = decode::reencode_jpeg(&frames[best].1, KEPT_FRAME_QUALITY);
        Ok((report, kept))
    })
    .await
    .map_err(anyhow::Error::from)??;
    let material_id = store(ctx, session, &challenge, &report, kept).await?;

    let m = ctx
        .materials
        .get(&material_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("material {material_id} vanished"))?;
    let verdict = m.current_verdict();
    let reasons_zh = reasons_zh(ctx, &verdict.reasons);
    tracing::info!(material = %material_id, state = %m.state, "liveness capture judged");
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "material_id": material_id,
            "state": m.state,
            "reasons": verdict.reasons,
            "reasons_zh": reasons_zh,
            "checks": verdict.checks,
            "match": verdict.face_match,
        })),
    )
        .into_response())
}

fn decode_frames(
    encoded: &[(u64, Vec<u8>)],
    limits: &IntakeLimits,
) -> Result<Vec<(u64, RgbImage)>> {
    encoded
        .iter()
        .map(|(t, bytes)| {
            Ok((
                *t,
                capture::decode_frame(bytes, limits).map_err(Error::from)?,
            ))
        })
        .collect()
}

async fn store(
    ctx: &ApiContext,
    session: &SessionRow,
    challenge: &Challenge,
    report: &CaptureReport,
    kept: Vec<u8>,
) -> Result<String> {
    let mut verdict = Verdict::new(
        MaterialState::of_verdict(report.state),
        report.reasons.iter().copied(),
    )
    .with("kind", json!("face"))
    .with("challenge", json!(challenge.actions))
    .with("liveness", json!(report.evaluation))
    .with(
        "frames",
        json!(report
            .frames
            .iter()
            .map(|f| json!({
                "t_ms": f.t_ms,
                "faces": f.faces,
                "box": f.face.map(|x| x.bbox),
                "pose": f.pose,
            }))
            .collect::<Vec<_>>()),
    )
    .with("kept_frame", json!(report.best.as_ref().map(|(i, _)| i)))
    .with("passive_score", json!(report.passive))
    .with(
        "timings_ms",
        json!({
            "detect": report.timings.detect.as_secs_f64() * 1e3,
            "embed": report.timings.embed.as_secs_f64() * 1e3,
            "passive": report.timings.passive.as_secs_f64() * 1e3,
        }),
    );
    verdict.checks = report.checks.iter().map(|c| json!(c)).collect();
    let id = uuid::Uuid::now_v7().to_string();
    let blob = blobs::new_name();
    let sha256 = hex::encode(Sha256::digest(&kept));
    let bytes = kept.len() as i64;
    ctx.blobs.put(&blob, kept.into()).await?;
    let template = report.best.as_ref().map(|(_, e)| {
        ctx.cipher
            .encrypt(&e.to_bytes(), &faces::template_context(&id))
    });
    let recorded = verification::record_verdict(
        ctx.store.as_ref(),
        &ctx.cipher,
        Judged::Captured {
            capture: &NewCapture {
                material: &NewMaterial {
                    id: &id,
                    order_id: &session.order_id,
                    session_id: &session.id,
                    person: holder(&session.person, "face"),
                    kind: "face",
                    blob: &blob,
                    sha256: &sha256,
                    bytes,
                    idempotency_key: None,
                },
                verdict: &verdict,
                template: template.as_deref(),
            },
            idle_expires_at: ctx.config.upload_idle_deadline(Utc::now()),
        },
    )
    .await;
    if let Err(e) = recorded {
        // No row names the blob: remove it so nothing half-written stays.
        let _ = ctx.blobs.delete(&blob).await;
        return Err(e.into());
    }
    Ok(id)
}
