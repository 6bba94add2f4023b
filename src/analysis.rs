//! Background analysis: workers claim queued jobs, judge the photo on the blocking pool,
//! replace the upload with a metadata-free re-encoded copy, record the verdict and move the
//! session and the order on. Workers run inside `serve` or in `beian worker` processes of
//! their own, any number of them on one database: a job is leased to one worker, which renews
//! the lease while it works; a job whose worker was killed is claimed again when its lease
//! runs out, and only the current claim can record the verdict.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;
use tokio::sync::Notify;

use crate::config::Config;
use crate::filing::division::Divisions;
use crate::filing::materials::{MaterialKind, MaterialState};
use crate::filing::today_in_china;
use crate::filing::verdict::Verdict;
use crate::inspect::{self, Conclusion};
use crate::service::verification::{self, Judged};
use crate::store::blobs::{self, Blobs};
use crate::store::crypto::FieldCipher;
use crate::store::jobs::{JobClaim, JobQueue};
use crate::store::materials::Materials;
use crate::store::orders::Orders;
use crate::store::tx::Store;
use crate::store::{faces, materials};
use crate::store::{Repositories, StoreError};
use crate::vision::decode::{self, IntakeLimits, Photo};
use crate::vision::gate::Thresholds;
use crate::vision::models::Models;

#[derive(Clone)]
pub struct Analyzer {
    jobs: Arc<dyn JobQueue>,
    /// Where a verdict and what follows from it are recorded, in one transaction.
    store: Arc<dyn Store>,
    orders: Arc<dyn Orders>,
    materials: Arc<dyn Materials>,
    blobs: Blobs,
    cipher: Arc<FieldCipher>,
    limits: IntakeLimits,
    thresholds: Thresholds,
    /// Wakes the workers when a job is queued in this process (others find it by polling).
    wake: Arc<Notify>,
    /// How long a claim holds without renewal.
    lease: Duration,
    /// Keep the uploaded bytes next to the re-encoded copy.
    keep_originals: bool,
    models: Arc<Models>,
    /// The jobs this process's workers hold, handed back at a graceful stop.
    held: Arc<Mutex<HashSet<JobClaim>>>,
}

/// Analyses of one material before it goes to a person as `flagged: analysis_failed`.
const MAX_ATTEMPTS: i64 = 3;

/// How often an idle worker looks for a job queued by another process.
const IDLE_POLL: Duration = Duration::from_millis(500);

/// JPEG quality of the stored copy.
const STORED_QUALITY: u8 = 90;

impl Analyzer {
    /// Workers on `config`'s limits and lease; `wake` is notified when this process queues a
    /// job.
    pub fn new(
        config: &Config,
        repos: &Repositories,
        blobs: Blobs,
        cipher: Arc<FieldCipher>,
        models: Arc<Models>,
        wake: Arc<Notify>,
    ) -> Self {
        Analyzer {
            jobs: repos.jobs.clone(),
            store: repos.store.clone(),
            orders: repos.orders.clone(),
            materials: repos.materials.clone(),
            blobs,
            cipher,
            limits: IntakeLimits::default(),
            thresholds: Thresholds::default(),
            wake,
            lease: config.analysis_lease(),
            keep_originals: config.keep_originals,
            models,
            held: Default::default(),
        }
    }

    /// Removes abandoned partial uploads, then starts `workers` workers.
    pub async fn start(self, workers: usize) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
        let cleaned = self.blobs.clean_temporary().await?;
        if cleaned > 0 {
            tracing::info!(cleaned, "abandoned partial uploads removed");
        }
        Ok((0..workers)
            .map(|_| tokio::spawn(self.clone().run()))
            .collect())
    }

    async fn run(self) {
        loop {
            match self.jobs.claim(self.lease).await {
                Ok(Some(claim)) => self.work_on(&claim).await,
                Ok(None) => {
                    tokio::select! {
                        _ = self.wake.notified() => {},
                        _ = tokio::time::sleep(IDLE_POLL) => {},
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claiming an analysis job failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    /// Runs one claimed job, renewing its lease meanwhile.
    async fn work_on(&self, claim: &JobClaim) {
        let material_id = &claim.material_id;
        self.hold(claim, true);
        let analysed = tokio::select! {
            analysed = self.analyse(claim) => analysed,
            never = self.keep_lease(claim) => match never {},
        };
        self.hold(claim, false);
        let Err(e) = analysed else { return };
        if matches!(e.downcast_ref(), Some(StoreError::LeaseLost)) {
            tracing::warn!(material = %material_id, "analysis finished after its lease ran out; the job's new holder records the verdict");
            return;
        }
        // Retried twice; then a person looks at it rather than it hanging.
        let message = format!("{e:#}");
        match self.jobs.fail(claim, MAX_ATTEMPTS, &message).await {
            Ok(gave_up) => {
                tracing::error!(material = %material_id, error = %message, gave_up, "analysis failed")
            }
            Err(db) => {
                tracing::error!(material = %material_id, error = %message, db_error = %db, "analysis failed and could not be recorded")
            }
        }
    }

    /// The set of held jobs (a worker that panicked while holding the lock left it whole: it
    /// only inserts and removes).
    fn held_jobs(&self) -> std::sync::MutexGuard<'_, HashSet<JobClaim>> {
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn hold(&self, claim: &JobClaim, held: bool) {
        let mut set = self.held_jobs();
        if held {
            set.insert(claim.clone());
        } else {
            set.remove(claim);
        }
    }

    /// After the workers were stopped: hands the jobs they held back to the queue, so the
    /// next worker (here after a restart, or in another process) need not wait for the
    /// leases to run out.
    pub async fn release_held(&self) {
        let held: Vec<JobClaim> = self.held_jobs().drain().collect();
        for claim in held {
            if let Err(e) = self.jobs.release(&claim).await {
                tracing::warn!(material = %claim.material_id, error = %e, "handing an analysis job back failed; it is claimed again when its lease runs out");
            }
        }
    }

    /// Renews `claim`'s lease every third of it, for as long as the job runs (the caller
    /// drops this when the job ends). A lost lease is logged; the job's end then records
    /// nothing.
    async fn keep_lease(&self, claim: &JobClaim) -> Infallible {
        let mut tick = tokio::time::interval(self.lease / 3);
        tick.tick().await;
        loop {
            tick.tick().await;
            match self.jobs.renew(claim, self.lease).await {
                Ok(true) => {}
                Ok(false) => {
                    tracing::warn!(material = %claim.material_id, "the analysis job's lease was lost");
                    return std::future::pending().await;
                }
                Err(e) => {
                    tracing::warn!(material = %claim.material_id, error = %e, "renewing an analysis lease failed")
                }
            }
        }
    }

    async fn analyse(&self, claim: &JobClaim) -> anyhow::Result<()> {
        let material_id = claim.material_id.as_str();
        let Some(material) = self.materials.get(material_id).await? else {
            return Ok(());
        };
        let kind = MaterialKind::parse(&material.kind).unwrap_or(MaterialKind::Other);
        let bytes = self.blobs.get(&material.blob).await?;
        let (limits, thresholds, models) = (self.limits, self.thresholds, self.models.clone());
        let looked = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            // The stored copy: full resolution, re-encoded without metadata, from the one
            // decode the judging uses too.
            let mut copy = Vec::new();
            let photo = match Photo::decode_with(&bytes, &limits, |full| {
                copy = decode::reencode_jpeg(full, STORED_QUALITY)
            }) {
                Ok(photo) => photo,
                Err(e) => return Ok(Err(e)),
            };
            let looked = inspect::look_at(photo, kind, &thresholds, &models)?;
            Ok(Ok((looked, copy)))
        })
        .await??;
        let (conclusion, stored, portrait) = match looked {
            Ok((looked, copy)) => {
                let stored = blobs::new_name();
                self.blobs.put(&stored, copy.into()).await?;
                let order = self
                    .orders
                    .get(&self.cipher, &material.order_id, None)
                    .await?;
                let typed = order
                    .map(|o| inspect::typed_for(&o.form, &material.person))
                    .unwrap_or_default();
                let c = inspect::conclude(&looked, &typed, Divisions::embedded(), today_in_china());
                (c, stored, looked.portrait.map(|(_, e)| e))
            }
            Err(e) => (
                Conclusion {
                    verdict: Verdict::new(MaterialState::Retake, [e.reason()])
                        .with("kind", json!(kind.as_str()))
                        .with("error", json!(e.to_string())),
                    reading: None,
                },
                material.blob.clone(),
                None,
            ),
        };
        let reading = conclusion.reading.as_ref().map(|r| {
            self.cipher.encrypt(
                r.to_string().as_bytes(),
                &materials::reading_context(material_id),
            )
        });
        let state = conclusion.verdict.verdict;
        // A card portrait is what the person's live face is matched against.
        let card_template = portrait.filter(|_| state.is_standing()).map(|embedding| {
            self.cipher
                .encrypt(&embedding.to_bytes(), &faces::template_context(material_id))
        });
        let recorded = verification::record_verdict(
            self.store.as_ref(),
            &self.cipher,
            Judged::Analysed {
                job: claim,
                material: &material,
                verdict: &conclusion.verdict,
                reading: reading.as_deref(),
                blob: &stored,
                card_template: card_template.as_deref(),
            },
        )
        .await;
        if let Err(e) = recorded {
            // Nothing names the stored copy: the job runs again from the upload.
            if stored != material.blob {
                self.blobs.delete(&stored).await?;
            }
            return Err(e);
        }
        if stored != material.blob && !self.keep_originals {
            self.blobs.delete(&material.blob).await?;
        }
        tracing::info!(material = %material_id, kind = kind.as_str(), state = state.as_str(), "material analysed");
        Ok(())
    }
}
