//! Upload sessions for the filer on the PC: create one for a person and a list of materials
//! (its link, as a QR code, goes to the phone), watch it, refresh its link.

use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{token_hash, AuthUser};
use super::error::{Error, Result};
use super::extract::{ApiJson, ApiQuery};
use super::ApiContext;
use crate::filing::materials::{service_index, MaterialKind};
use crate::filing::state::OrderState;
use crate::filing::upload_session::SessionState;
use crate::store::sessions::{self, NewSession, Renewal, SessionRow};

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/api/v1/orders/{id}/upload-sessions", post(create))
        .route("/api/v1/upload-sessions/{id}", get(read))
        .route("/api/v1/upload-sessions/{id}/refresh", post(refresh))
        .route("/api/v1/upload-sessions/{id}/qr.svg", get(qr_svg))
        .route("/api/v1/upload-sessions/{id}/qr.png", get(qr_png))
}

#[derive(Deserialize)]
struct CreateBody {
    person: String,
    materials: Vec<String>,
}

/// A fresh link token for a session: 256 random bits, base64url, and what is stored of it —
/// its hash, for lookups, and a sealed copy, for the QR code.
struct LinkToken {
    token: String,
    hash: String,
    sealed: String,
}

impl LinkToken {
    fn new(ctx: &ApiContext, session_id: &str) -> LinkToken {
        let mut raw = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut raw);
        let token = URL_SAFE_NO_PAD.encode(raw);
        LinkToken {
            hash: token_hash(&token),
            sealed: (ctx.cipher).encrypt(token.as_bytes(), &sessions::link_context(session_id)),
            token,
        }
    }
}

/// A new upload session for `person`'s `kinds`, its link kept for the QR code: (id, token).
pub(super) async fn open_session(
    ctx: &ApiContext,
    order_id: &str,
    person: &str,
    kinds: &[String],
) -> Result<(String, String)> {
    let now = Utc::now();
    let id = uuid::Uuid::now_v7().to_string();
    let link = LinkToken::new(ctx, &id);
    ctx.upload_links
        .create(&NewSession {
            id: &id,
            order_id,
            person,
            materials: kinds,
            token_hash: &link.hash,
            link_sealed: &link.sealed,
            open_before: ctx.config.upload_open_deadline(now),
            idle_expires_at: ctx.config.upload_idle_deadline(now),
        })
        .await?;
    Ok((id, link.token))
}

async fn create(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Path(order_id): Path<String>,
    ApiJson(body): ApiJson<CreateBody>,
) -> Result<(StatusCode, Json<Value>)> {
    let record = ctx.order(&order_id, Some(&user.user.id)).await?;
    if !record.state.is_editable() {
        return Err(Error::Conflict {
            code: "order_not_editable",
            message: format!("an order in state {} takes no more uploads", record.state),
            details: json!({"state": record.state}),
        });
    }
    let services = record.form.services.len();
    let person_ok = body.person == "principal"
        || body.person == "subject"
        || service_index(&body.person).is_some_and(|n| n < services);
    let mut details = serde_json::Map::new();
    if !person_ok {
        details.insert("person".into(), json!({"code": "unknown_person", "message": "principal, subject or service:N of this order"}));
    }
    if body.materials.is_empty() || body.materials.len() > MaterialKind::ALL.len() {
        details.insert(
            "materials".into(),
            json!({"code": "invalid_materials", "message": "one to nine material kinds"}),
        );
    }
    for (i, k) in body.materials.iter().enumerate() {
        if MaterialKind::parse(k).is_none() {
            details.insert(
                format!("materials.{i}"),
                json!({"code": "unknown_material_kind", "message": "a material kind of DESIGN.md"}),
            );
        }
    }
    if !details.is_empty() {
        return Err(Error::Unprocessable {
            code: "invalid_fields",
            message: "some fields are invalid; see details".into(),
            details: details.into(),
        });
    }
    let mut kinds = body.materials.clone();
    kinds.dedup();
    let (id, token) = open_session(&ctx, &order_id, &body.person, &kinds).await?;
    if record.state == OrderState::Draft {
        ctx.move_order(
            &order_id,
            OrderState::Draft.move_to(OrderState::CollectingMaterials)?,
            &user.actor(),
            "upload session opened",
        )
        .await?;
    }
    tracing::info!(session = %id, order = %order_id, "upload session created");
    let session = load(&ctx, &user, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(session_json(&ctx, &session, Some(&token)).await?),
    ))
}

#[derive(Deserialize)]
struct WaitQuery {
    /// Long-poll: answer when something changed or after this long (`25s`, at most 30s).
    wait: Option<String>,
}

async fn read(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<WaitQuery>,
) -> Result<Json<Value>> {
    let wait = q
        .wait
        .as_deref()
        .map(|w| w.trim_end_matches('s').parse::<u64>())
        .transpose()
        .map_err(|_| Error::BadRequest {
            code: "invalid_wait",
            message: "wait is a number of seconds, like 25s".into(),
        })?
        .unwrap_or(0)
        .min(30);
    let first = session_json(&ctx, &load(&ctx, &user, &id).await?, None).await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(wait);
    while tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(400)).await;
        let now = session_json(&ctx, &load(&ctx, &user, &id).await?, None).await?;
        if now != first {
            return Ok(Json(now));
        }
    }
    Ok(Json(first))
}

/// A new link for the same session: the old token is dead at once.
async fn refresh(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let session = load(&ctx, &user, &id).await?;
    if session.state == SessionState::Completed {
        return Err(Error::Conflict {
            code: "session_completed",
            message: "this session is complete".into(),
            details: json!({}),
        });
    }
    let link = LinkToken::new(&ctx, &id);
    let now = Utc::now();
    ctx.upload_links
        .renew(
            &id,
            &Renewal {
                token_hash: &link.hash,
                link_sealed: &link.sealed,
                open_before: ctx.config.upload_open_deadline(now),
                idle_expires_at: ctx.config.upload_idle_deadline(now),
            },
        )
        .await?;
    let session = load(&ctx, &user, &id).await?;
    Ok(Json(session_json(&ctx, &session, Some(&link.token)).await?))
}

async fn load(ctx: &ApiContext, user: &AuthUser, id: &str) -> Result<SessionRow> {
    ctx.upload_links
        .for_owner(id, &user.user.id)
        .await?
        .ok_or_else(|| Error::not_found("upload session"))
}

/// What the PC sees. The link (and so the token) is only in the answers that create it.
async fn session_json(ctx: &ApiContext, s: &SessionRow, token: Option<&str>) -> Result<Value> {
    let latest = ctx.materials.latest(&s.order_id).await?;
    let materials: Vec<Value> = s
        .materials
        .iter()
        .map(|kind| {
            let m = s.material(&latest, kind);
            json!({
                "kind": kind,
                "state": m.map_or("missing", |m| m.state.as_str()),
                "material_id": m.map(|m| m.id.clone()),
                "reasons": m.and_then(|m| m.verdict.as_ref()).map_or(&[][..], |v| &v.reasons),
                "checks": m.and_then(|m| m.verdict.as_ref()).map_or(&[][..], |v| &v.checks),
                "fields": {},
            })
        })
        .collect();
    let base = format!("/api/v1/upload-sessions/{}", s.id);
    let mut v = json!({
        "id": s.id,
        "order_id": s.order_id,
        "person": s.person,
        "state": s.state_at(Utc::now()),
        "expires_at": s.expires_at(),
        "materials": materials,
        "qr_svg_url": format!("{base}/qr.svg"),
        "qr_png_url": format!("{base}/qr.png"),
    });
    if let Some(token) = token {
        v["url"] = json!(link(ctx, token));
    }
    Ok(v)
}

/// The link a phone opens.
fn link(ctx: &ApiContext, token: &str) -> String {
    format!("{}/m/{token}", ctx.config.public_url())
}

/// The QR code carries the link, drawn from the token sealed beside its hash while the
/// session waits for a phone (after a restart, and on any instance, too).
async fn qr(ctx: &ApiContext, user: &AuthUser, id: &str) -> Result<qrcode::QrCode> {
    let session = load(ctx, user, id).await?;
    let sealed = match session.state_at(Utc::now()) {
        SessionState::Waiting => ctx.upload_links.sealed_link(id).await?,
        _ => None,
    };
    let sealed = sealed.ok_or_else(|| Error::Conflict {
        code: "link_unavailable",
        message: "the link was opened or has expired: refresh the session".into(),
        details: json!({}),
    })?;
    let token = ctx.cipher.decrypt(&sealed, &sessions::link_context(id))?;
    let token = String::from_utf8(token).map_err(anyhow::Error::from)?;
    qrcode::QrCode::new(link(ctx, &token).as_bytes())
        .map_err(|e| Error::Internal(anyhow::anyhow!("QR code: {e}")))
}

async fn qr_svg(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse> {
    let code = qr(&ctx, &user, &id).await?;
    let svg = code
        .render::<qrcode::render::svg::Color>()
        .min_dimensions(256, 256)
        .build();
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    ))
}

async fn qr_png(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<impl IntoResponse> {
    let code = qr(&ctx, &user, &id).await?;
    let img = code
        .render::<image::Luma<u8>>()
        .min_dimensions(256, 256)
        .build();
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .map_err(|e| Error::Internal(anyhow::anyhow!("PNG: {e}")))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/png"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        png,
    ))
}
