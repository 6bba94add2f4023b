//! Building the service from its configuration, serving it, and shutting it down.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::Notify;

use crate::analysis::Analyzer;
use crate::config::Config;
use crate::filing::rules::RuleBook;
use crate::http::{self, ApiContext};
use crate::store::blobs::{self, BlobStore, Blobs};
use crate::store::crypto::FieldCipher;
use crate::store::materials::Materials;
use crate::store::retention::Retention;
use crate::store::Repositories;
use crate::vision::models::Models;

pub struct Application {
    listener: TcpListener,
    ctx: ApiContext,
    repos: Repositories,
}

/// What every process of the service opens: the database (migrations applied), the key, the
/// rules, the blob store and the models.
struct Parts {
    repos: Repositories,
    cipher: FieldCipher,
    rules: RuleBook,
    blobs: Blobs,
    models: Arc<Models>,
}

impl Parts {
    async fn open(config: &Config) -> anyhow::Result<Parts> {
        let repos = Repositories::open(config.database_url.as_deref(), &config.data_dir).await?;
        let cipher = load_cipher(config)?;
        let rules = match &config.rules_dir {
            Some(dir) => RuleBook::load(dir)
                .with_context(|| format!("loading rules from {}", dir.display()))?,
            None => RuleBook::embedded().clone(),
        };
        let blobs = blobs::open(config).await?;
        let (dir, ocr, threads) = (
            config.models_dir.clone(),
            config.ocr_models,
            config.inference_threads,
        );
        let models =
            tokio::task::spawn_blocking(move || Models::shared(&dir, ocr, threads)).await??;
        Ok(Parts {
            repos,
            cipher,
            rules,
            blobs,
            models,
        })
    }
}

impl Application {
    /// Opens the database (applying migrations), loads the key and the rules, binds the port.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let parts = Parts::open(&config).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let mut config = config;
        if config.public_url.is_none() {
            config.public_url = Some(format!("http://{}", listener.local_addr()?));
        }
        let ctx = ApiContext::new(
            config,
            parts.repos.clone(),
            parts.cipher,
            parts.rules,
            parts.blobs,
            parts.models,
        );
        Ok(Application {
            listener,
            ctx,
            repos: parts.repos,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// Serves until `shutdown` resolves, then finishes the requests in flight and closes the
    /// database.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let housekeeping = tokio::spawn(housekeeping(self.ctx.clone()));
        let analyzer = Analyzer::new(
            &self.ctx.config,
            &self.repos,
            self.ctx.blobs.clone(),
            self.ctx.cipher.clone(),
            self.ctx.models.clone(),
            self.ctx.analysis_wake.clone(),
        );
        let workers = analyzer
            .clone()
            .start(self.ctx.config.analysis_workers)
            .await?;
        let app = http::router(self.ctx).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await?;
        housekeeping.abort();
        stop_workers(workers, &analyzer).await;
        self.repos.store.close().await?;
        Ok(())
    }
}

/// `beian worker`: analysis workers and no HTTP, on the database and blob store the `serve`
/// processes share, until `shutdown` resolves.
pub async fn run_worker(
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let parts = Parts::open(&config).await?;
    let analyzer = Analyzer::new(
        &config,
        &parts.repos,
        parts.blobs,
        Arc::new(parts.cipher),
        parts.models,
        // Nothing in this process queues jobs: the workers find them by polling.
        Arc::new(Notify::new()),
    );
    let workers = analyzer
        .clone()
        .start(config.analysis_workers.max(1))
        .await?;
    tracing::info!(workers = workers.len(), "beian analysis worker running");
    shutdown.await;
    stop_workers(workers, &analyzer).await;
    parts.repos.store.close().await?;
    Ok(())
}

/// Stops the analysis workers at a graceful stop and hands the jobs they held back to the
/// queue (a job cut off by a kill instead is claimed again when its lease runs out).
async fn stop_workers(workers: Vec<tokio::task::JoinHandle<()>>, analyzer: &Analyzer) {
    for w in &workers {
        w.abort();
    }
    for w in workers {
        let _ = w.await;
    }
    analyzer.release_held().await;
}

/// The field cipher from `BEIAN_MASTER_KEY` or the configured key file.
pub fn load_cipher(config: &Config) -> anyhow::Result<FieldCipher> {
    let (key_file, create) = config.key_file();
    let env_key = std::env::var("BEIAN_MASTER_KEY").ok();
    FieldCipher::load(env_key.as_deref(), &key_file, create).context("loading the master key")
}

/// The retention rules (`beian purge`, and the hourly housekeeping): face templates and
/// kept frames after `face_data_days`, and every material of an order rejected or left with
/// the filer for `idle_order_days`. Returns the counts of files deleted.
pub async fn purge(
    retention: &dyn Retention,
    blobs: &dyn BlobStore,
    config: &Config,
) -> anyhow::Result<(usize, usize)> {
    let now = chrono::Utc::now();
    let faces = retention
        .purge_face_data(now - chrono::Duration::days(i64::from(config.face_data_days)))
        .await?;
    let idle = retention
        .purge_idle_orders(now - chrono::Duration::days(i64::from(config.idle_order_days)))
        .await?;
    for b in faces.iter().chain(&idle) {
        blobs.delete(b).await?;
    }
    Ok((faces.len(), idle.len()))
}

/// Removes the blobs no material row names that were stored more than `orphan_blob_minutes`
/// ago: what a crash between a blob's write and its row's left behind. Nothing with
/// `keep_originals`: the kept uploads are named by no row. Returns how many.
pub async fn sweep_orphan_blobs(
    materials: &dyn Materials,
    blobs: &dyn BlobStore,
    config: &Config,
) -> anyhow::Result<usize> {
    if config.keep_originals {
        return Ok(0);
    }
    let age = Duration::from_secs(u64::from(config.orphan_blob_minutes) * 60);
    let candidates = blobs.stored_before(age).await?;
    if candidates.is_empty() {
        return Ok(0);
    }
    let named = materials.blob_names().await?;
    let mut removed = 0;
    for name in candidates.iter().filter(|name| !named.contains(*name)) {
        blobs.delete(name).await?;
        removed += 1;
    }
    Ok(removed)
}

/// Orders whose SMS code ran out unconfirmed go back to draft.
async fn expire_sms_codes(ctx: &ApiContext) -> anyhow::Result<usize> {
    let expired = ctx.orders.sms_code_expired(chrono::Utc::now()).await?;
    for id in &expired {
        crate::service::sms_codes::void_code(
            ctx.store.as_ref(),
            id,
            "the SMS code expired unconfirmed",
        )
        .await?;
    }
    Ok(expired.len())
}

/// Periodic clean-up: expired login tokens and SMS codes, face data past its days.
async fn housekeeping(ctx: ApiContext) {
    let mut tick = tokio::time::interval(Duration::from_secs(3600));
    loop {
        tick.tick().await;
        match expire_sms_codes(&ctx).await {
            Ok(n) if n > 0 => {
                tracing::info!(orders = n, "unconfirmed SMS verifications back to draft")
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "expiring SMS verifications failed"),
        }
        match purge(&*ctx.retention, ctx.blobs.as_ref(), &ctx.config).await {
            Ok((0, 0)) => {}
            Ok((faces, materials)) => {
                tracing::info!(faces, materials, "data past its retention removed")
            }
            Err(e) => tracing::warn!(error = %e, "removing data past its retention failed"),
        }
        match sweep_orphan_blobs(&*ctx.materials, ctx.blobs.as_ref(), &ctx.config).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "blobs no row names removed"),
            Err(e) => tracing::warn!(error = %e, "sweeping orphan blobs failed"),
        }
        match ctx.users.delete_expired_tokens(chrono::Utc::now()).await {
            Ok(n) if n > 0 => tracing::info!(deleted = n, "expired tokens removed"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "removing expired tokens failed"),
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}
