//! Building the service from its configuration, serving it, and shutting it down.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::analysis::Analyzer;
use crate::config::Config;
use crate::filing::rules::RuleBook;
use crate::http::{self, ApiContext};
use crate::store::blobs::{BlobStore, LocalDir};
use crate::store::{self, crypto::FieldCipher, faces, retention, users};
use crate::vision::gate::Thresholds;
use crate::vision::models::Models;

pub struct Application {
    listener: TcpListener,
    ctx: ApiContext,
}

impl Application {
    /// Opens the database (applying migrations), loads the key and the rules, binds the port.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let db = store::open(&config.data_dir).await?;
        let cipher = load_cipher(&config)?;
        let rules = match &config.rules_dir {
            Some(dir) => RuleBook::load(dir)
                .with_context(|| format!("loading rules from {}", dir.display()))?,
            None => RuleBook::embedded().clone(),
        };
        let blobs = Arc::new(LocalDir::open(&config.data_dir)?);
        let (dir, ocr, threads) = (
            config.models_dir.clone(),
            config.ocr_models,
            config.inference_threads,
        );
        let models =
            tokio::task::spawn_blocking(move || Models::shared(&dir, ocr, threads)).await??;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("listening on {}", config.listen))?;
        let mut config = config;
        if config.public_url.is_none() {
            config.public_url = Some(format!("http://{}", listener.local_addr()?));
        }
        Ok(Application {
            listener,
            ctx: ApiContext::new(config, db, cipher, rules, blobs, models),
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
        let db = self.ctx.db.clone();
        let housekeeping = tokio::spawn(housekeeping(self.ctx.clone()));
        let analyzer = Analyzer {
            db: self.ctx.db.clone(),
            blobs: self.ctx.blobs.clone(),
            cipher: self.ctx.cipher.clone(),
            rules: self.ctx.rules.clone(),
            limits: self.ctx.intake_limits,
            thresholds: Thresholds::default(),
            wake: self.ctx.analysis_wake.clone(),
            keep_originals: self.ctx.config.keep_originals,
            models: self.ctx.models.clone(),
        };
        let workers = analyzer.start(self.ctx.config.analysis_workers).await?;
        let app = http::router(self.ctx).into_make_service_with_connect_info::<SocketAddr>();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await?;
        housekeeping.abort();
        // A job cut off here is still `running` in the table and runs again at the next start.
        for w in workers {
            w.abort();
        }
        db.close().await;
        Ok(())
    }
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
    db: &store::Db,
    blobs: &dyn BlobStore,
    config: &Config,
) -> anyhow::Result<(usize, usize)> {
    let now = chrono::Utc::now();
    let faces = faces::purge_before(
        db,
        now - chrono::Duration::days(i64::from(config.face_data_days)),
    )
    .await?;
    let idle = retention::purge_idle_orders(
        db,
        now - chrono::Duration::days(i64::from(config.idle_order_days)),
    )
    .await?;
    for b in faces.iter().chain(&idle) {
        blobs.delete(b).await?;
    }
    Ok((faces.len(), idle.len()))
}

/// Orders whose SMS code ran out unconfirmed go back to draft.
async fn expire_sms_codes(ctx: &ApiContext) -> anyhow::Result<usize> {
    let expired = crate::store::verification::expired(&ctx.db, chrono::Utc::now()).await?;
    for id in &expired {
        crate::service::sms_codes::void_code(&ctx.db, id, "the SMS code expired unconfirmed")
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
        match purge(&ctx.db, ctx.blobs.as_ref(), &ctx.config).await {
            Ok((0, 0)) => {}
            Ok((faces, materials)) => {
                tracing::info!(faces, materials, "data past its retention removed")
            }
            Err(e) => tracing::warn!(error = %e, "removing data past its retention failed"),
        }
        match users::delete_expired_tokens(&ctx.db, chrono::Utc::now()).await {
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
