//! Decisions after submission: a reviewer's decision on a material (approve, reject, or ask
//! for it again with a new upload link) and on a whole order (the first review); the filer's
//! confirmation of the SMS code; the bureau's decision (an operator's endpoint standing in for
//! the bureau), which gives the filing number. Each step is in the order's history and the
//! audit log.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::{json, Value};

use super::auth::{AuthUser, Reviewer};
use super::error::{Error, Result};
use super::extract::ApiJson;
use super::uploads::open_session;
use super::ApiContext;
use crate::filing::materials::MaterialState;
use crate::filing::reason::ReasonCode;
use crate::filing::state::Step;
use crate::service::decisions::{self, FirstReviewResult};
use crate::service::sms_codes::{self, CodeAttempt, CodeCheck};
use crate::store::audit;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route(
            "/api/v1/review/materials/{id}/decision",
            post(decide_material),
        )
        .route("/api/v1/review/orders/{id}/decision", post(decide_order))
        .route("/api/v1/review/orders/{id}/bureau", post(bureau))
        .route("/api/v1/orders/{id}/sms-verification", post(confirm_sms))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DecisionBody {
    /// `approve`, `reject` or (materials only) `ask_again`.
    decision: String,
    /// Reason codes from rules/reasons.toml; at least one unless approving.
    #[serde(default)]
    reasons: Vec<String>,
}

impl DecisionBody {
    /// The decision's reason codes, once it is one of `allowed` and they are all codes of
    /// the catalogue (rules/reasons.toml, which holds exactly the codes `ReasonCode` knows).
    fn check(&self, allowed: &[&str]) -> Result<Vec<ReasonCode>> {
        if !allowed.contains(&self.decision.as_str()) {
            return Err(Error::Unprocessable {
                code: "invalid_decision",
                message: format!("decision is one of {}", allowed.join(", ")),
                details: json!({"allowed": allowed}),
            });
        }
        let (mut codes, mut unknown) = (Vec::new(), Vec::new());
        for r in &self.reasons {
            match ReasonCode::parse(r) {
                Some(code) => codes.push(code),
                None => unknown.push(r),
            }
        }
        if !unknown.is_empty() {
            return Err(Error::Unprocessable {
                code: "unknown_reason",
                message: "reasons are codes of rules/reasons.toml".into(),
                details: json!({"unknown": unknown}),
            });
        }
        if self.decision != "approve" && self.reasons.is_empty() {
            return Err(Error::Unprocessable {
                code: "reasons_required",
                message: "say why with at least one reason code".into(),
                details: json!({}),
            });
        }
        Ok(codes)
    }
}

async fn decide_material(
    State(ctx): State<ApiContext>,
    reviewer: Reviewer,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<Value>> {
    let reasons = body.check(&["approve", "reject", "ask_again"])?;
    let actor = reviewer.0.actor();
    let m = ctx
        .materials
        .get(&id)
        .await?
        .ok_or_else(|| Error::not_found("material"))?;
    if !m.state.is_standing() {
        return Err(Error::Conflict {
            code: "material_not_decidable",
            message: format!(
                "a material in state {} waits for the filer, not a reviewer",
                m.state
            ),
            details: json!({"state": m.state}),
        });
    }
    let record = ctx.order(&m.order_id, None).await?;
    // Checked here as well as in the service: asking again opens an upload link first.
    Step::DecideMaterial.check(record.state)?;
    let mut upload_session = None;
    if body.decision == "ask_again" {
        let uploads_so_far = ctx
            .materials
            .upload_count(&m.order_id, &m.person, &m.kind)
            .await?;
        if uploads_so_far > ctx.config.max_resubmissions {
            return Err(Error::Conflict {
                code: "resubmission_limit",
                message: format!(
                    "this material was uploaded {uploads_so_far} times; at most {} resubmissions",
                    ctx.config.max_resubmissions
                ),
                details: json!({"uploads": uploads_so_far}),
            });
        }
        // The subject's documents are photographed by the principal.
        let person = if m.person == "subject" {
            "principal"
        } else {
            m.person.as_str()
        };
        let (session_id, _) =
            open_session(&ctx, &m.order_id, person, std::slice::from_ref(&m.kind)).await?;
        upload_session = Some(session_id);
    }
    let state = match body.decision.as_str() {
        "approve" => MaterialState::Pass,
        "reject" => MaterialState::Rejected,
        _ => MaterialState::Retake,
    };
    let review = json!({
        "decision": body.decision,
        "reasons": reasons,
        "by": actor,
        "at": Utc::now(),
        "upload_session_id": upload_session,
    });
    let mut verdict = m.current_verdict();
    verdict.review = Some(review.clone());
    verdict.verdict = state;
    if body.decision != "approve" {
        verdict.reasons = reasons.clone();
    }
    let (target, source) = (format!("material:{}", m.id), peer.ip().to_string());
    let asked_again = (body.decision == "ask_again").then(|| {
        format!(
            "{} asked for again: {}",
            m.kind,
            ReasonCode::join(&reasons, ", ")
        )
    });
    let decided = decisions::decide_material(
        ctx.store.as_ref(),
        &ctx.cipher,
        &decisions::MaterialDecision {
            material: &m,
            order: &record,
            verdict: &verdict,
            asked_again: asked_again.as_deref(),
            actor: &actor,
            audit: audit_entry(&actor, "material_decision", &target, &review, &source),
        },
    )
    .await?;
    if !decided {
        return Err(Error::Conflict {
            code: "edit_conflict",
            message: "the material or its order changed meanwhile: read it again".into(),
            details: json!({}),
        });
    }
    Ok(Json(json!({
        "material_id": m.id,
        "state": state,
        "reasons": verdict.reasons,
        "upload_session_id": upload_session,
    })))
}

/// The first review of a whole order: approve (every required material passed) sends the
/// SMS verification code; reject ends it with the reasons.
async fn decide_order(
    State(ctx): State<ApiContext>,
    reviewer: Reviewer,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<Value>> {
    let reasons = body.check(&["approve", "reject"])?;
    let actor = reviewer.0.actor();
    let record = ctx.order(&id, None).await?;
    let detail = json!({"decision": body.decision, "reasons": reasons});
    let (target, source) = (format!("order:{id}"), peer.ip().to_string());
    let audit = audit_entry(&actor, "order_decision", &target, &detail, &source);
    let result = if body.decision == "approve" {
        let ports = decisions::PassPorts {
            materials: &*ctx.materials,
            sms: &*ctx.sms,
            cipher: &ctx.cipher,
            rules: &ctx.rules,
            code_valid_hours: ctx.config.sms_confirm_hours,
        };
        decisions::pass_first_review(ctx.store.as_ref(), &ports, &record, &actor, audit).await?
    } else {
        let note = reasons_note(&reasons);
        let decision = decisions::OrderDecision {
            order: &record,
            outcome: decisions::FirstReviewOutcome::Reject { note: &note },
            actor: &actor,
            audit,
        };
        match decisions::decide_first_review(ctx.store.as_ref(), &decision).await? {
            true => FirstReviewResult::Decided,
            false => FirstReviewResult::MovedMeanwhile,
        }
    };
    match result {
        FirstReviewResult::Decided => order_answer(&ctx, &id).await,
        FirstReviewResult::MovedMeanwhile => Err(Error::edit_conflict()),
        FirstReviewResult::MaterialsOpen(open) => Err(Error::Conflict {
            code: "materials_not_approved",
            message: "every required material must pass first".into(),
            details: json!({"materials": open}),
        }),
    }
}

/// The audit entry of a decision, recorded in the decision's transaction.
fn audit_entry<'a>(
    actor: &'a str,
    action: &'a str,
    target: &'a str,
    detail: &'a Value,
    source: &'a str,
) -> audit::NewEntry<'a> {
    audit::NewEntry {
        actor,
        action,
        target: Some(target),
        detail: Some(detail),
        source: Some(source),
    }
}

fn reasons_note(reasons: &[ReasonCode]) -> String {
    format!("reasons: {}", ReasonCode::join(reasons, ", "))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CodeBody {
    code: String,
}

/// The filer confirms the code from the SMS: the order goes to the bureau. Wrong codes are
/// counted; after `sms_max_attempts` the code is void and the order goes back to draft, as
/// it does when the time runs out.
async fn confirm_sms(
    State(ctx): State<ApiContext>,
    user: AuthUser,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<CodeBody>,
) -> Result<Json<Value>> {
    let actor = user.actor();
    // The order must be the filer's; the service checks it waits for a code.
    ctx.order(&id, Some(&user.user.id)).await?;
    let attempt = CodeAttempt {
        order_id: &id,
        code: &body.code,
        actor: &actor,
        source: &peer.ip().to_string(),
    };
    let max_attempts = ctx.config.sms_max_attempts;
    match sms_codes::check_code(
        ctx.store.as_ref(),
        &ctx.cipher,
        max_attempts,
        &attempt,
        Utc::now(),
    )
    .await?
    {
        CodeCheck::Confirmed => {}
        CodeCheck::MovedMeanwhile => return Err(Error::edit_conflict()),
        CodeCheck::Expired => {
            return Err(Error::Gone {
                code: "code_expired",
                message: "the code expired: the order is back in draft".into(),
            })
        }
        CodeCheck::TooManyAttempts { attempts } => {
            return Err(Error::Conflict {
                code: "too_many_attempts",
                message: "too many wrong codes: the order is back in draft".into(),
                details: json!({"attempts": attempts}),
            })
        }
        CodeCheck::Wrong { attempts_left } => {
            return Err(Error::Unprocessable {
                code: "wrong_code",
                message: "that is not the code we sent".into(),
                details: json!({"attempts_left": attempts_left}),
            })
        }
    }
    order_answer(&ctx, &id).await
}

/// The bureau's decision, entered by an operator: approve gives the filing number (the
/// province's prefix, the year, a serial; each website `-N`); reject sends the order back to
/// the filer's draft with the reasons.
async fn bureau(
    State(ctx): State<ApiContext>,
    reviewer: Reviewer,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<DecisionBody>,
) -> Result<Json<Value>> {
    let reasons = body.check(&["approve", "reject"])?;
    let actor = reviewer.0.actor();
    let record = ctx.order(&id, None).await?;
    let detail = json!({"decision": body.decision, "reasons": reasons});
    let (target, source) = (format!("order:{id}"), peer.ip().to_string());
    let entry = audit_entry(&actor, "bureau_decision", &target, &detail, &source);
    let bureau_actor = format!("bureau (entered by {actor})");
    let moved = if body.decision == "reject" {
        let note = reasons_note(&reasons);
        decisions::bureau_reject(ctx.store.as_ref(), &id, &bureau_actor, &note, &entry).await?
    } else {
        decisions::approve(
            ctx.store.as_ref(),
            &ctx.rules,
            &record,
            &bureau_actor,
            &entry,
        )
        .await?
        .is_some()
    };
    if !moved {
        return Err(Error::edit_conflict());
    }
    order_answer(&ctx, &id).await
}

async fn order_answer(ctx: &ApiContext, id: &str) -> Result<Json<Value>> {
    let record = ctx.order(id, None).await?;
    let number = ctx.orders.filing_number(id).await?;
    Ok(Json(json!({
        "id": record.id,
        "state": record.state,
        "filing_number": number.as_ref().map(|n| &n.number),
        "website_numbers": number.as_ref().map(|n| &n.websites),
        "history": record.history,
    })))
}
