//! The HTTP layer: one module and one `router()` per resource, sharing `ApiContext`.
//! Handlers parse at the edge, call the domain and the store, and answer JSON; errors are
//! `error::Error`, which always renders as `{"error":{code,message,details}}`.

pub mod auth;
pub mod decisions;
pub mod error;
pub mod extract;
pub mod liveness;
pub mod merge_patch;
pub mod metrics;
pub mod mobile;
pub mod ops;
pub mod orders;
pub mod pages;
mod phone_link;
pub mod review;
pub mod uploads;

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{Request, Response};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::config::Config;
use crate::filing::order::ParseContext;
use crate::filing::rules::RuleBook;
use crate::store::audit::AuditLog;
use crate::store::blobs::Blobs;
use crate::store::crypto::FieldCipher;
use crate::store::faces::Challenges;
use crate::store::jobs::JobQueue;
use crate::store::materials::Materials;
use crate::store::orders::Orders;
use crate::store::registry::Registry;
use crate::store::retention::Retention;
use crate::store::sessions::UploadLinks;
use crate::store::tx::Store;
use crate::store::users::Users;
use crate::store::Repositories;
use crate::vision::decode::IntakeLimits;
use crate::vision::models::Models;
use auth::LoginThrottle;
use error::Error;
use metrics::Metrics;
use tokio::sync::Notify;

#[derive(Clone)]
pub struct ApiContext {
    pub config: Arc<Config>,
    pub cipher: Arc<FieldCipher>,
    pub rules: Arc<RuleBook>,
    pub metrics: Arc<Metrics>,
    pub login_throttle: Arc<LoginThrottle>,
    pub blobs: Blobs,
    pub intake_limits: IntakeLimits,
    /// Wakes the analysis workers when an upload is queued.
    pub analysis_wake: Arc<Notify>,
    /// Bounds the uploads being received at once (and so the memory their bodies take).
    pub upload_permits: Arc<tokio::sync::Semaphore>,
    /// The OCR and face models, loaded once.
    pub models: Arc<Models>,
    /// Transactions for the business steps that write several tables at once.
    pub store: Arc<dyn Store>,
    /// Orders created, edited, read and listed.
    pub orders: Arc<dyn Orders>,
    /// Uploaded materials recorded, found again, read and listed.
    pub materials: Arc<dyn Materials>,
    /// Accounts and login tokens.
    pub users: Arc<dyn Users>,
    /// The operator's registry of existing filings.
    pub registry: Arc<dyn Registry>,
    /// The audit log.
    pub audit: Arc<dyn AuditLog>,
    /// The analysis job queue (its length, for back-pressure and metrics).
    pub jobs: Arc<dyn JobQueue>,
    /// The upload sessions' phone links.
    pub upload_links: Arc<dyn UploadLinks>,
    /// The liveness challenges issued to phones.
    pub challenges: Arc<dyn Challenges>,
    /// What the retention rules delete (the hourly housekeeping).
    pub retention: Arc<dyn Retention>,
    /// Where text messages go (the outbox table unless a carrier's gateway is plugged in).
    pub sms: Arc<dyn crate::sms::SmsGateway>,
}

impl ApiContext {
    pub fn new(
        config: Config,
        repos: Repositories,
        cipher: FieldCipher,
        rules: RuleBook,
        blobs: Blobs,
        models: Arc<Models>,
    ) -> Self {
        let lockout = Duration::from_secs(u64::from(config.login_lockout_minutes) * 60);
        let cipher = Arc::new(cipher);
        ApiContext {
            sms: Arc::new(crate::sms::OutboxGateway {
                outbox: repos.outbox,
                cipher: cipher.clone(),
            }),
            store: repos.store,
            orders: repos.orders,
            materials: repos.materials,
            users: repos.users,
            registry: repos.registry,
            challenges: repos.challenges,
            audit: repos.audit,
            jobs: repos.jobs,
            upload_links: repos.upload_links,
            retention: repos.retention,
            models,
            blobs,
            intake_limits: IntakeLimits::default(),
            analysis_wake: Arc::new(Notify::new()),
            upload_permits: Arc::new(tokio::sync::Semaphore::new(
                config.max_concurrent_uploads.max(1),
            )),
            login_throttle: Arc::new(LoginThrottle::new(config.login_max_failures, lockout)),
            config: Arc::new(config),
            cipher,
            rules: Arc::new(rules),
            metrics: Arc::new(Metrics::default()),
        }
    }

    pub fn parse_context(&self) -> ParseContext<'_> {
        self.rules.parse_context()
    }

    /// The order, decrypted; 404 `not_found` when it does not exist or (with `owner_id`)
    /// belongs to someone else.
    pub(crate) async fn order(
        &self,
        id: &str,
        owner_id: Option<&str>,
    ) -> error::Result<crate::store::orders::OrderRecord> {
        self.orders
            .get(&self.cipher, id, owner_id)
            .await?
            .ok_or_else(|| Error::not_found("order"))
    }

    /// The order moved on its own (one transaction: the move and its history); false when
    /// another request moved it first.
    pub(crate) async fn move_order(
        &self,
        id: &str,
        t: crate::filing::state::Transition,
        actor: &str,
        note: &str,
    ) -> error::Result<bool> {
        let mut tx = self.store.begin().await?;
        let moved = tx.transition(id, t, actor, Some(note)).await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// Each material the order requires, with its newest upload.
    pub(crate) async fn material_status(
        &self,
        record: &crate::store::orders::OrderRecord,
    ) -> error::Result<Vec<crate::service::readiness::MaterialStatus>> {
        let latest = self.materials.latest(&record.id).await?;
        Ok(crate::service::readiness::material_status(record, &latest))
    }
}

pub fn router(ctx: ApiContext) -> Router {
    let json_limit = ctx.config.json_body_limit;
    Router::new()
        .merge(auth::router())
        .merge(orders::router())
        .merge(uploads::router())
        .merge(review::router())
        .merge(decisions::router())
        .layer(DefaultBodyLimit::max(json_limit))
        .merge(mobile::router(mobile::upload_body_limit(ctx.intake_limits.max_bytes)))
        .merge(liveness::router())
        .merge(ops::router())
        .merge(pages::router())
        .fallback(|| async { Error::NotFound { code: "no_route", message: "no such path".into() } })
        .method_not_allowed_fallback(|| async { Error::MethodNotAllowed })
        .layer(axum::middleware::from_fn_with_state(ctx.clone(), metrics::track))
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<Body>| {
                // The route template, not the path: paths may carry tokens.
                let route = req.extensions().get::<MatchedPath>().map_or("unmatched", |p| p.as_str());
                let request_id = req
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %req.method(), route, request_id, user = tracing::field::Empty)
            })
            .on_response(DefaultOnResponse::new().level(tracing::Level::INFO)),
        )
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| -> Response<Body> {
            tracing::error!("a handler panicked");
            axum::response::IntoResponse::into_response(Error::Internal(anyhow::anyhow!("handler panicked")))
        }))
        .with_state(ctx)
}
