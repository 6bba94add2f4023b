//! Operations: liveness, readiness and metrics.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::ApiContext;

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when the database answers. (The models are loaded before the port opens: a service
/// that answers has them.)
async fn readyz(State(ctx): State<ApiContext>) -> impl IntoResponse {
    let database = ctx.store.answers().await.is_ok();
    let status = if database {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "status": if database { "ready" } else { "not_ready" },
        "checks": {
            "database": database,
            "rules": {"provinces": ctx.rules.provinces.len(), "reasons": ctx.rules.reasons.len()},
            "models": {"ocr": ctx.config.ocr_models},
        }
    });
    (status, Json(body))
}

async fn metrics(State(ctx): State<ApiContext>) -> impl IntoResponse {
    let mut text = ctx.metrics.render();
    // Photos waiting for (or in) analysis: the backlog an operator watches.
    if let Ok(n) = ctx.jobs.unfinished().await {
        text.push_str("# HELP beian_analysis_backlog Uploaded photos not yet analysed.\n");
        text.push_str("# TYPE beian_analysis_backlog gauge\n");
        text.push_str(&format!("beian_analysis_backlog {n}\n"));
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
}
