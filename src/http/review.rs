//! The reviewers' API (`/api/v1/review/*`, reviewer accounts only): the queue, a material's
//! evidence and image, and the audit log. Every look at a material's evidence or image is
//! written to the audit log with who, when and from where: this is the one place the full ID
//! number is shown.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::Reviewer;
use super::error::{Error, Result};
use super::extract::ApiQuery;
use super::ApiContext;
use crate::filing::materials::MaterialKind;
use crate::filing::verdict::Verdict;
use crate::inspect;
use crate::store::{audit, materials};
use crate::vision::decode::{self, Photo};
use crate::vision::gate;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/api/v1/review/queue", get(queue))
        .route("/api/v1/review/materials/{id}", get(evidence))
        .route("/api/v1/review/materials/{id}/image", get(image))
        .route("/api/v1/review/audit", get(audit_log))
        .route("/api/v1/review/reasons", get(reasons))
}

/// The reason codes a reviewer may give (rules/reasons.toml), for the page's choices.
async fn reasons(State(ctx): State<ApiContext>, _reviewer: Reviewer) -> Json<Value> {
    let list: Vec<Value> = ctx
        .rules
        .reasons
        .iter()
        .filter(|(_, r)| r.kind == "image" || r.bureau_reason.is_some())
        .map(|(code, r)| json!({"code": code, "kind": r.kind, "zh": r.zh, "en": r.en}))
        .collect();
    Json(json!({"reasons": list}))
}

/// The most a queue answer lists of each kind.
const QUEUE_LIMIT: i64 = 500;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QueueFilter {
    /// A reason code (a material's verdict reason or an order's finding).
    reason: Option<String>,
    /// A province code (the order's, two digits).
    province: Option<String>,
}

async fn queue(
    State(ctx): State<ApiContext>,
    _reviewer: Reviewer,
    ApiQuery(filter): ApiQuery<QueueFilter>,
) -> Result<Json<Value>> {
    let province_ok = |p: &str| filter.province.as_deref().is_none_or(|f| f == p);
    let mut items: Vec<(chrono::DateTime<chrono::Utc>, Value)> = Vec::new();
    for (m, province) in ctx.materials.flagged(QUEUE_LIMIT).await? {
        let reasons = m.verdict.as_ref().map_or(&[][..], |v| &v.reasons);
        let has_reason = filter
            .reason
            .as_deref()
            .is_none_or(|r| reasons.iter().any(|x| x.as_str() == r));
        if province_ok(&province) && has_reason {
            items.push((
                m.created_at,
                json!({"type": "material", "id": m.id, "order_id": m.order_id, "kind": m.kind,
                       "person": m.person, "reasons": reasons, "province": province, "since": m.created_at}),
            ));
        }
    }
    for o in ctx.orders.awaiting_review(QUEUE_LIMIT).await? {
        // Orders carry reasons as pre-review findings; a reason filter looks at those.
        let has_reason = filter.reason.as_deref().is_none_or(|r| {
            o.findings
                .as_array()
                .is_some_and(|a| a.iter().any(|f| f["code"] == r))
        });
        if province_ok(&o.province) && has_reason {
            items.push((
                o.since,
                json!({"type": "order", "id": o.id, "state": o.state, "province": o.province,
                       "filing_type": o.filing_type, "since": o.since}),
            ));
        }
    }
    items.sort_by_key(|(since, _)| *since);
    Ok(Json(
        json!({"items": items.into_iter().map(|(_, v)| v).collect::<Vec<_>>()}),
    ))
}

/// An audit entry for a reviewer's (or filer's) request: who, what, on which target, from
/// which address.
async fn audit_request(
    ctx: &ApiContext,
    actor: &str,
    action: &str,
    target: &str,
    detail: Option<&Value>,
    peer: SocketAddr,
) -> Result<()> {
    ctx.audit
        .append(&audit::NewEntry {
            actor,
            action,
            target: Some(target),
            detail,
            source: Some(&peer.ip().to_string()),
        })
        .await?;
    Ok(())
}

async fn load_material(ctx: &ApiContext, id: &str) -> Result<materials::MaterialRow> {
    ctx.materials
        .get(id)
        .await?
        .ok_or_else(|| Error::not_found("material"))
}

/// Everything a reviewer needs to decide on a material: every check with its number and
/// threshold, what was read beside what the filer typed (in full), face boxes and scores.
async fn evidence(
    State(ctx): State<ApiContext>,
    reviewer: Reviewer,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let m = load_material(&ctx, &id).await?;
    let order = ctx.order(&m.order_id, None).await?;
    let read: Option<Value> = match &m.reading {
        Some(sealed) => {
            let plain = ctx
                .cipher
                .decrypt(sealed, &materials::reading_context(&m.id))?;
            Some(serde_json::from_slice(&plain).map_err(anyhow::Error::from)?)
        }
        None => None,
    };
    let typed = inspect::typed_for(&order.form, &m.person);
    let target = format!("material:{}", m.id);
    audit_request(
        &ctx,
        &reviewer.0.actor(),
        "evidence_view",
        &target,
        None,
        peer,
    )
    .await?;
    let verdict = m
        .verdict
        .as_ref()
        .map(Verdict::to_value)
        .unwrap_or_default();
    let has_document = m.kind != MaterialKind::Face.as_str();
    Ok(Json(json!({
        "material": {"id": m.id, "order_id": m.order_id, "kind": m.kind, "person": m.person,
                     "state": m.state, "uploaded_at": m.created_at},
        "order": {"id": order.id, "state": order.state},
        "verdict": verdict,
        "checks": verdict["checks"],
        "reasons": verdict["reasons"],
        "read": read,
        "typed": {"name": typed.name, "id_number": typed.id_number,
                  "credit_code": typed.credit_code, "legal_representative": typed.legal_representative},
        "image_url": format!("/api/v1/review/materials/{}/image", m.id),
        "crop_url": has_document.then(|| format!("/api/v1/review/materials/{}/image?crop=document", m.id)),
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ImageQuery {
    /// `document`: the perspective-corrected document instead of the photo.
    crop: Option<String>,
}

async fn image(
    State(ctx): State<ApiContext>,
    reviewer: Reviewer,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<ImageQuery>,
) -> Result<Response> {
    let m = load_material(&ctx, &id).await?;
    if m.blob.is_empty() {
        return Err(Error::Gone {
            code: "image_deleted",
            message: "the image was deleted after its retention period".into(),
        });
    }
    let crop = match q.crop.as_deref() {
        None => false,
        Some("document") => true,
        Some(other) => {
            return Err(Error::BadRequest {
                code: "invalid_query",
                message: format!("crop={other}: only crop=document"),
            })
        }
    };
    let kind = MaterialKind::parse(&m.kind).unwrap_or(MaterialKind::Other);
    let bytes = ctx.blobs.get(&m.blob).await?;
    let limits = ctx.intake_limits;
    let models = ctx.models.clone();
    let bytes = tokio::task::spawn_blocking(move || -> anyhow::Result<Option<Vec<u8>>> {
        if !crop {
            return Ok(Some(bytes));
        }
        // The document is found as the upload's judging found it, the text cue included.
        let Ok(photo) = Photo::decode(&bytes, &limits) else {
            return Ok(None);
        };
        let judged = gate::judge_with_text(&photo, kind, &Default::default(), |img| {
            models.ocr.text_boxes(img)
        })?;
        Ok(judged.document.map(|d| decode::reencode_jpeg(&d, 90)))
    })
    .await
    .map_err(anyhow::Error::from)??
    .ok_or(Error::NotFound {
        code: "no_document",
        message: "no document outline was found in this photo".into(),
    })?;
    let detail = json!({"crop": crop});
    let target = format!("material:{}", m.id);
    audit_request(
        &ctx,
        &reviewer.0.actor(),
        "image_view",
        &target,
        Some(&detail),
        peer,
    )
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/jpeg"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AuditQuery {
    /// `order:<id>`, `material:<id>` or `user:<id>`.
    target: Option<String>,
    /// Entries older than this id (paging backwards).
    before: Option<i64>,
    limit: Option<i64>,
}

/// The audit log, newest first. Read-only: no route edits or deletes an entry (and the
/// database refuses it).
async fn audit_log(
    State(ctx): State<ApiContext>,
    _reviewer: Reviewer,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Value>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let entries = ctx.audit.list(q.target.as_deref(), q.before, limit).await?;
    Ok(Json(json!({"entries": entries})))
}
