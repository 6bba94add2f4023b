//! Filing orders for the filer on the PC: create, read, list, update (merge patch), submit.
//! A filer sees only their own orders; another's answers 404, as if it did not exist.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

use super::auth::AuthUser;
use super::error::{Error, Result};
use super::extract::ApiJson;
use super::{merge_patch, ApiContext};
use crate::filing::filing_type::{self, FilingDecision};
use crate::filing::id_number::mask_id;
use crate::filing::materials::RequiredMaterial;
use crate::filing::order::OrderForm;
use crate::filing::reason::ReasonCode;
use crate::filing::rules::{Finding, Severity};
use crate::filing::state::{IllegalTransition, OrderState};
use crate::filing::today_in_china;
use crate::service::{self, readiness};
use crate::store::materials;
use crate::store::orders::{OrderRecord, OrderWrite};

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/api/v1/orders", post(create).get(list))
        .route("/api/v1/orders/{id}", get(read).patch(update))
        .route("/api/v1/orders/{id}/submit", post(submit))
        .route(
            "/api/v1/orders/{id}/readings/{material_id}/adopt",
            post(adopt_reading),
        )
}

/// A parsed form with what the registry and the rules say of it.
struct Reviewed {
    form: OrderForm,
    decision: FilingDecision,
    findings: Vec<Finding>,
}

async fn review(ctx: &ApiContext, body: &Value, this_order: Option<&str>) -> Result<Reviewed> {
    let form = OrderForm::parse(body, &ctx.parse_context()).map_err(Error::invalid_fields)?;
    let facts =
        service::registry::facts_for(&*ctx.registry, &*ctx.orders, &ctx.cipher, &form, this_order)
            .await?;
    Ok(Reviewed {
        decision: filing_type::decide(&form, &facts),
        findings: ctx.rules.review(&form, &facts, today_in_china()),
        form,
    })
}

fn write_of<'a>(ctx: &ApiContext, r: &'a Reviewed) -> OrderWrite<'a> {
    let mut domains: Vec<String> = r
        .form
        .services
        .iter()
        .flat_map(|s| &s.domains)
        .map(|d| d.registered().to_string())
        .collect();
    domains.dedup();
    OrderWrite {
        form: &r.form,
        province: &r.form.subject.province,
        subject_kind: r.form.subject.kind.as_str(),
        certificate_index: ctx.cipher.blind_index(&r.form.subject.certificate.key()),
        phone_indexes: r
            .form
            .people()
            .iter()
            .map(|(_, p)| ctx.cipher.blind_index(p.mobile.as_str()))
            .collect(),
        domains,
        filing_type: r.decision.filing_type.as_str(),
        decision: serde_json::to_value(&r.decision).unwrap_or_default(),
        findings: serde_json::to_value(&r.findings).unwrap_or_default(),
    }
}

async fn create(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    ApiJson(body): ApiJson<Value>,
) -> Result<(StatusCode, Json<Value>)> {
    let reviewed = review(&ctx, &body, None).await?;
    let id = uuid::Uuid::now_v7().to_string();
    ctx.orders
        .insert(
            &ctx.cipher,
            &id,
            &user.user.id,
            &user.actor(),
            &write_of(&ctx, &reviewed),
        )
        .await?;
    tracing::info!(order = %id, filing_type = reviewed.decision.filing_type.as_str(), findings = reviewed.findings.len(), "order created");
    let record = load(&ctx, &user, &id).await?;
    Ok((StatusCode::CREATED, Json(view(&ctx, &record).await?)))
}

async fn list(State(ctx): State<ApiContext>, user: AuthUser) -> Result<Json<Value>> {
    let records = ctx
        .orders
        .list_for_owner(&ctx.cipher, &user.user.id)
        .await?;
    let items: Vec<Value> = records
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "state": r.state,
                "filing_type": r.decision,
                "subject_name": r.form.subject.name,
                "services": r.form.services.iter().map(|s| &s.name).collect::<Vec<_>>(),
                "blocking_findings": r.findings.as_array().map_or(0, |f| f.iter().filter(|f| f["severity"] == "blocking").count()),
                "created_at": r.created_at,
                "updated_at": r.updated_at,
            })
        })
        .collect();
    Ok(Json(json!({ "orders": items })))
}

async fn read(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let record = load(&ctx, &user, &id).await?;
    Ok(Json(view(&ctx, &record).await?))
}

async fn update(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<Value>,
) -> Result<Json<Value>> {
    apply_patch(&ctx, &user, &id, &patch).await
}

/// Takes values read on a photo into the order where they differ from what was typed (the
/// fields of its `ocr_mismatch` flags, or those named in `{"fields": [...]}`): the filer's
/// "use what the card says", without the unmasked ID number ever leaving the server.
async fn adopt_reading(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Path((id, material_id)): Path<(String, String)>,
    ApiJson(body): ApiJson<Value>,
) -> Result<Json<Value>> {
    load(&ctx, &user, &id).await?;
    let material = ctx
        .materials
        .get(&material_id)
        .await?
        .filter(|m| m.order_id == id)
        .ok_or_else(|| Error::not_found("material"))?;
    let Some(stored) = &material.reading else {
        return Err(Error::not_found("reading"));
    };
    let plain = ctx
        .cipher
        .decrypt(stored, &materials::reading_context(&material.id))?;
    let reading: Value = serde_json::from_slice(&plain).map_err(anyhow::Error::from)?;
    let wanted: Vec<String> = match body["fields"].as_array() {
        Some(list) => list
            .iter()
            .filter_map(|f| f.as_str().map(String::from))
            .collect(),
        None => reading["flags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["code"] == "ocr_mismatch")
            .filter_map(|f| f["field"].as_str().map(String::from))
            .collect(),
    };
    let mut patch = json!({});
    for field in &wanted {
        let (Some(path), Some(value)) = (
            form_path(&material.person, &material.kind, field),
            reading["fields"][field]["value"].as_str(),
        ) else {
            return Err(Error::Unprocessable {
                code: "field_not_adoptable",
                message: format!("{field} read on this photo has no place in the order"),
                details: json!({"field": field}),
            });
        };
        let mut at = &mut patch;
        for part in &path[..path.len() - 1] {
            at = &mut at[*part];
        }
        at[path[path.len() - 1]] = json!(value);
    }
    apply_patch(&ctx, &user, &id, &patch).await
}

/// Where a field read on a person's (or the subject's) document stands in the order form.
fn form_path(person: &str, kind: &str, field: &str) -> Option<Vec<&'static str>> {
    use crate::filing::reading;
    let leaf = match (kind, field) {
        ("id_card_front", reading::NAME) => "name",
        ("id_card_front", reading::ID_NUMBER) => "id_number",
        ("business_license", reading::NAME) => return Some(vec!["subject", "name"]),
        ("business_license", reading::CREDIT_CODE) => {
            return Some(vec!["subject", "certificate", "number"])
        }
        ("business_license", reading::LEGAL_REPRESENTATIVE) => {
            return Some(vec!["subject", "legal_representative"])
        }
        _ => return None,
    };
    match person {
        "principal" => Some(vec!["subject", "principal", leaf]),
        // Services are a JSON array: a merge patch cannot address one element.
        _ => None,
    }
}

/// A merge patch of the filer's order while it is editable: parsed, reviewed, stored with
/// the version it was read at, then the readings checked again.
async fn apply_patch(
    ctx: &ApiContext,
    user: &AuthUser,
    id: &str,
    patch: &Value,
) -> Result<Json<Value>> {
    let record = load(ctx, user, id).await?;
    if !record.state.is_editable() {
        return Err(Error::Conflict {
            code: "order_not_editable",
            message: format!(
                "an order in state {} can no longer be changed",
                record.state
            ),
            details: json!({"state": record.state}),
        });
    }
    let mut merged = record.form.to_json();
    merge_patch::apply(&mut merged, patch);
    let reviewed = review(ctx, &merged, Some(id)).await?;
    if !ctx
        .orders
        .update(&ctx.cipher, id, record.version, &write_of(ctx, &reviewed))
        .await?
    {
        return Err(Error::edit_conflict());
    }
    // An edit can change what is required (another responsible person, a residence permit)
    // and what the photos read says against the order (a corrected typo clears its flag).
    readiness::recheck_readings(ctx.store.as_ref(), &ctx.cipher, id).await?;
    let record = load(ctx, user, id).await?;
    Ok(Json(view(ctx, &record).await?))
}

/// Runs the pre-review again (the registry may have changed) and submits when nothing blocks.
async fn submit(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    Path(id): Path<String>,
) -> Result<Json<Value>> {
    let record = load(&ctx, &user, &id).await?;
    if !record.state.is_editable() {
        return Err(illegal(record.state, OrderState::Submitted));
    }
    let reviewed = review(&ctx, &record.form.to_json(), Some(&id)).await?;
    let mut findings = reviewed.findings.clone();
    ctx.orders
        .set_findings(&id, &serde_json::to_value(&findings).unwrap_or_default())
        .await?;
    // The required materials follow from the fresh findings.
    let record = load(&ctx, &user, &id).await?;
    let missing: Vec<RequiredMaterial> = ctx
        .material_status(&record)
        .await?
        .into_iter()
        .filter(|m| !m.passed())
        .map(|m| m.required)
        .collect();
    if !missing.is_empty() {
        let list: Vec<String> = missing
            .iter()
            .map(|m| format!("{} of {}", m.kind.as_str(), m.person))
            .collect();
        findings.push(ctx.rules.finding(
            ReasonCode::MaterialsMissing,
            Severity::Blocking,
            "materials",
            format!("not yet uploaded and passed: {}", list.join(", ")),
        ));
    }
    if findings.iter().any(Finding::is_blocking) {
        return Err(Error::Unprocessable {
            code: "pre_review_blocking",
            message: "the pre-review found problems the bureau would reject the filing for".into(),
            details: json!({"findings": findings, "missing_materials": missing}),
        });
    }
    if record.state != OrderState::Ready {
        return Err(illegal(record.state, OrderState::Submitted));
    }
    if !ctx
        .move_order(
            &id,
            OrderState::Ready.move_to(OrderState::Submitted)?,
            &user.actor(),
            "submitted by the filer",
        )
        .await?
    {
        return Err(Error::edit_conflict());
    }
    let record = load(&ctx, &user, &id).await?;
    Ok(Json(view(&ctx, &record).await?))
}

fn illegal(from: OrderState, to: OrderState) -> Error {
    IllegalTransition { from, to }.into()
}

async fn load(ctx: &ApiContext, user: &AuthUser, id: &str) -> Result<OrderRecord> {
    ctx.order(id, Some(&user.user.id)).await
}

/// The order as the filer sees it: ID numbers masked, each required material with the state
/// of its newest upload.
async fn view(ctx: &ApiContext, r: &OrderRecord) -> Result<Value> {
    let materials: Vec<Value> = ctx
        .material_status(r)
        .await?
        .iter()
        .map(readiness::MaterialStatus::to_json)
        .collect();
    let mut masked = r.form.to_json();
    mask_form(&mut masked);
    let number = ctx.orders.filing_number(&r.id).await?;
    Ok(json!({
        "id": r.id,
        "state": r.state,
        "filing_type": r.decision,
        "subject": masked["subject"],
        "services": masked["services"],
        "findings": r.findings,
        "materials": materials,
        "prefilled": prefilled(ctx, &r.id).await?,
        "filing_number": number.as_ref().map(|n| &n.number),
        "website_numbers": number.as_ref().map(|n| &n.websites),
        "history": r.history,
        "version": r.version,
        "created_at": r.created_at,
        "updated_at": r.updated_at,
    }))
}

/// What OCR read on the newest photo of each material, by person and kind, with the flags the
/// reading raised: the PC shows it next to what was typed. ID numbers are masked.
async fn prefilled(ctx: &ApiContext, order_id: &str) -> Result<Value> {
    let mut out = serde_json::Map::new();
    for m in ctx.materials.latest(order_id).await? {
        let Some(stored) = &m.reading else {
            continue;
        };
        let plain = ctx
            .cipher
            .decrypt(stored, &materials::reading_context(&m.id))?;
        let mut reading: Value = serde_json::from_slice(&plain).map_err(anyhow::Error::from)?;
        mask_reading(&mut reading);
        reading["material_id"] = json!(m.id);
        reading["state"] = json!(m.state);
        let person = out.entry(m.person.clone()).or_insert_with(|| json!({}));
        person[m.kind.as_str()] = reading;
    }
    Ok(Value::Object(out))
}

/// Masks the ID number among a reading's fields and in the flags about it.
pub fn mask_reading(reading: &mut Value) {
    let mask = |v: &mut Value| {
        if let Some(s) = v.as_str() {
            *v = Value::String(mask_id(s));
        }
    };
    if let Some(v) = reading.pointer_mut("/fields/id_number/value") {
        mask(v);
    }
    if let Some(flags) = reading["flags"].as_array_mut() {
        for f in flags.iter_mut().filter(|f| f["field"] == "id_number") {
            mask(&mut f["read"]);
            mask(&mut f["typed"]);
        }
    }
}

/// Masks every ID number in a form document (the certificate too, when it is a resident ID).
pub fn mask_form(form: &mut Value) {
    let mask = |v: &mut Value| {
        if let Some(s) = v.as_str() {
            *v = Value::String(mask_id(s));
        }
    };
    if form["subject"]["certificate"]["type"] == "resident_id" {
        mask(&mut form["subject"]["certificate"]["number"]);
    }
    mask(&mut form["subject"]["principal"]["id_number"]);
    if let Some(services) = form["services"].as_array_mut() {
        for s in services {
            mask(&mut s["responsible"]["id_number"]);
        }
    }
}
