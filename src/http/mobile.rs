//! The phone's API: what the link asks for, and the uploads. No account: the link is the
//! credential (`phone_link`), and every answer about an unknown, expired or finished link is
//! a code, never another session's data.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use chrono::Utc;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::error::{Error, Result};
use super::phone_link::{not_requested, reasons_zh, session_for, with_cookie};
use super::ApiContext;
use crate::filing::materials::{holder, MaterialKind};
use crate::filing::upload_session::SessionState;
use crate::store::blobs;
use crate::store::materials::{MaterialRow, NewMaterial};
use crate::store::sessions::SessionRow;
use crate::vision::decode;

pub fn router(upload_limit: usize) -> Router<ApiContext> {
    Router::new().route("/api/v1/m/{token}", get(read)).route(
        "/api/v1/m/{token}/materials/{kind}",
        post(upload).layer(axum::extract::DefaultBodyLimit::max(upload_limit)),
    )
}

/// The largest upload body: the image cap, as base64 in JSON (4/3), plus envelope room.
pub fn upload_body_limit(max_image_bytes: usize) -> usize {
    max_image_bytes / 3 * 4 + 64 * 1024
}

async fn read(
    State(ctx): State<ApiContext>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<Response> {
    let (session, device) = session_for(&ctx, &token, &headers).await?;
    let session = ctx
        .upload_links
        .by_id(&session.id)
        .await?
        .unwrap_or(session);
    let latest = ctx.materials.latest(&session.order_id).await?;
    let materials: Vec<Value> = session
        .materials
        .iter()
        .map(|kind| {
            let m = session.material(&latest, kind);
            let reasons = m
                .and_then(|m| m.verdict.as_ref())
                .map_or(&[][..], |v| &v.reasons);
            let reasons_zh = reasons_zh(&ctx, reasons);
            json!({
                "kind": kind,
                "state": m.map_or("missing", |m| m.state.as_str()),
                "reasons": reasons,
                "reasons_zh": reasons_zh,
            })
        })
        .collect();
    let body = json!({
        "state": session.state_at(Utc::now()),
        "person": session.person,
        "expires_at": session.expires_at(),
        "materials": materials,
        "required": session.still_required(&latest),
        "liveness": super::liveness::challenge_for(&ctx, &session, &latest).await?,
    });
    Ok(with_cookie(Json(body).into_response(), device))
}

/// The image bytes of an upload: the raw body, a multipart file field, or
/// `{"image_base64": "..."}`.
async fn image_bytes(ctx: &ApiContext, req: Request) -> Result<Bytes> {
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if content_type.starts_with("multipart/form-data") {
        let mut multipart =
            Multipart::from_request(req, ctx)
                .await
                .map_err(|e| Error::BadRequest {
                    code: "invalid_multipart",
                    message: e.body_text(),
                })?;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|e| Error::BadRequest {
                code: "invalid_multipart",
                message: e.body_text(),
            })?
        {
            if field.file_name().is_some() || field.name() == Some("image") {
                return field.bytes().await.map_err(|e| {
                    if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        Error::PayloadTooLarge
                    } else {
                        Error::BadRequest {
                            code: "invalid_multipart",
                            message: e.body_text(),
                        }
                    }
                });
            }
        }
        return Err(Error::BadRequest {
            code: "no_image",
            message: "the form has no file field".into(),
        });
    }
    let body = Bytes::from_request(req, ctx).await?;
    if content_type.starts_with("application/json") {
        let v: Value = serde_json::from_slice(&body).map_err(|e| Error::BadRequest {
            code: "invalid_json",
            message: e.to_string(),
        })?;
        let b64 = v["image_base64"].as_str().ok_or(Error::BadRequest {
            code: "no_image",
            message: "send {\"image_base64\": \"...\"}".into(),
        })?;
        // Data URLs are accepted as the browser makes them.
        let b64 = b64.split_once(";base64,").map_or(b64, |(_, rest)| rest);
        let bytes = STANDARD.decode(b64.trim()).map_err(|_| Error::BadRequest {
            code: "invalid_base64",
            message: "image_base64 is not base64".into(),
        })?;
        return Ok(Bytes::from(bytes));
    }
    Ok(body)
}

fn accepted(m: &MaterialRow, duplicate: bool) -> Response {
    (
        StatusCode::ACCEPTED,
        Json(json!({"material_id": m.id, "state": m.state, "duplicate": duplicate})),
    )
        .into_response()
}

async fn upload(
    State(ctx): State<ApiContext>,
    Path((token, kind)): Path<(String, String)>,
    req: Request,
) -> Result<Response> {
    let _permit = ctx.upload_permits.try_acquire().map_err(|_| Error::Busy {
        retry_after_secs: 2,
    })?;
    // Analysis runs at the speed of the models; past the configured backlog the phone waits
    // and retries rather than the queue (and the disk) growing without bound.
    if ctx.jobs.unfinished().await? >= ctx.config.max_analysis_backlog {
        return Err(Error::Busy {
            retry_after_secs: 5,
        });
    }
    let (session, device) = session_for(&ctx, &token, req.headers()).await?;
    // The device cookie set by this request goes out with errors too, or the phone that
    // bound the link would lock itself out.
    let response = store_upload(&ctx, &session, &kind, req)
        .await
        .unwrap_or_else(IntoResponse::into_response);
    Ok(with_cookie(response, device))
}

async fn store_upload(
    ctx: &ApiContext,
    session: &SessionRow,
    kind: &str,
    req: Request,
) -> Result<Response> {
    let headers = req.headers().clone();
    if MaterialKind::parse(kind).is_none() || !session.materials.iter().any(|k| k == kind) {
        return Err(not_requested(session));
    }
    if kind == "face" {
        // A single photo proves nothing about a live person: the face is a capture.
        return Err(Error::Unprocessable {
            code: "liveness_required",
            message: "the face check is a liveness capture: POST /api/v1/m/{token}/liveness".into(),
            details: json!({}),
        });
    }
    let idempotency_key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(key) = &idempotency_key {
        if let Some(existing) = ctx.materials.by_idempotency_key(&session.id, key).await? {
            return Ok(accepted(&existing, true));
        }
    }
    let bytes = image_bytes(ctx, req).await?;
    let limits = ctx.intake_limits;
    // Checking the structure and hashing megabytes are CPU work: off the async threads.
    let checked = bytes.clone();
    let sha256 = tokio::task::spawn_blocking(move || {
        decode::probe(&checked, &limits).map(|_| hex::encode(Sha256::digest(&checked)))
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(Error::from)?;
    if let Some(existing) = ctx
        .materials
        .by_content(
            &session.order_id,
            holder(&session.person, kind),
            kind,
            &sha256,
        )
        .await?
    {
        return Ok(accepted(&existing, true));
    }
    let blob = blobs::new_name();
    ctx.blobs.put(&blob, bytes.clone()).await?;
    let id = uuid::Uuid::now_v7().to_string();
    let inserted = ctx
        .materials
        .insert(&NewMaterial {
            id: &id,
            order_id: &session.order_id,
            session_id: &session.id,
            person: holder(&session.person, kind),
            kind,
            blob: &blob,
            sha256: &sha256,
            bytes: bytes.len() as i64,
            idempotency_key: idempotency_key.as_deref(),
        })
        .await;
    if let Err(e) = inserted {
        // No row names the blob: remove it so nothing half-written stays.
        let _ = ctx.blobs.delete(&blob).await;
        if matches!(e, crate::store::StoreError::Duplicate(_)) {
            if let Some(existing) = ctx
                .materials
                .by_idempotency_key(&session.id, idempotency_key.as_deref().unwrap_or_default())
                .await?
            {
                return Ok(accepted(&existing, true));
            }
        }
        return Err(e.into());
    }
    let idle = ctx.config.upload_idle_deadline(Utc::now());
    ctx.upload_links
        .touch(&session.id, SessionState::Uploading, None, idle)
        .await?;
    ctx.analysis_wake.notify_one();
    tracing::info!(material = %id, kind = %kind, bytes = bytes.len(), "material uploaded");
    let m = ctx
        .materials
        .get(&id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("material {id} vanished"))?;
    Ok(accepted(&m, false))
}
