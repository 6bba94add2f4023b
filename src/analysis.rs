//! Background analysis: workers claim queued jobs, judge the photo on the blocking pool,
//! replace the upload with a metadata-free re-encoded copy, record the verdict and move the
//! session and the order on. A job a crash left running is queued again at start.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use tokio::sync::Notify;

use crate::filing::division::Divisions;
use crate::filing::materials::{MaterialKind, MaterialState};
use crate::filing::rules::RuleBook;
use crate::filing::today_in_china;
use crate::inspect::{self, Conclusion};
use crate::service::verification::{self, Judged};
use crate::store::blobs::{self, Blobs};
use crate::store::crypto::FieldCipher;
use crate::store::Db;
use crate::store::{faces, jobs, materials, orders};
use crate::vision::decode::{self, IntakeLimits};
use crate::vision::gate::Thresholds;
use crate::vision::models::Models;

#[derive(Clone)]
pub struct Analyzer {
    pub db: Db,
    pub blobs: Blobs,
    pub cipher: Arc<FieldCipher>,
    pub rules: Arc<RuleBook>,
    pub limits: IntakeLimits,
    pub thresholds: Thresholds,
    /// Wakes the workers when a job is queued.
    pub wake: Arc<Notify>,
    /// Keep the uploaded bytes next to the re-encoded copy.
    pub keep_originals: bool,
    pub models: Arc<Models>,
}

/// Analyses of one material before it goes to a person as `flagged: analysis_failed`.
const MAX_ATTEMPTS: i64 = 3;

/// JPEG quality of the stored copy.
const STORED_QUALITY: u8 = 90;

impl Analyzer {
    /// Requeues what a crash left running, then starts `workers` workers.
    pub async fn start(self, workers: usize) -> anyhow::Result<Vec<tokio::task::JoinHandle<()>>> {
        let requeued = jobs::requeue_running(&self.db).await?;
        if requeued > 0 {
            tracing::info!(
                requeued,
                "analysis jobs interrupted by a stop are queued again"
            );
        }
        let cleaned = self.blobs.clean_temporary().await?;
        if cleaned > 0 {
            tracing::info!(cleaned, "partial uploads removed");
        }
        Ok((0..workers)
            .map(|_| tokio::spawn(self.clone().run()))
            .collect())
    }

    async fn run(self) {
        loop {
            match jobs::claim_job(&self.db).await {
                Ok(Some(material_id)) => {
                    if let Err(e) = self.analyse(&material_id).await {
                        // Retried twice; then a person looks at it rather than it hanging.
                        let message = format!("{e:#}");
                        match jobs::fail_job(&self.db, &material_id, MAX_ATTEMPTS, &message).await {
                            Ok(gave_up) => {
                                tracing::error!(material = %material_id, error = %message, gave_up, "analysis failed")
                            }
                            Err(db) => {
                                tracing::error!(material = %material_id, error = %message, db_error = %db, "analysis failed and could not be recorded")
                            }
                        }
                    }
                }
                Ok(None) => {
                    tokio::select! {
                        _ = self.wake.notified() => {},
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {},
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "claiming an analysis job failed");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    }

    async fn analyse(&self, material_id: &str) -> anyhow::Result<()> {
        let Some(material) =
            materials::material(&mut *crate::store::connection(&self.db).await?, material_id)
                .await?
        else {
            return Ok(());
        };
        let kind = MaterialKind::parse(&material.kind).unwrap_or(MaterialKind::Other);
        let bytes = self.blobs.get(&material.blob).await?;
        let (limits, thresholds, models) = (self.limits, self.thresholds, self.models.clone());
        let looked = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let looked = match inspect::look(&bytes, kind, &limits, &thresholds, &models)? {
                Ok(looked) => looked,
                Err(e) => return Ok(Err(e)),
            };
            // The stored copy: full resolution, re-encoded without metadata.
            let probe = decode::probe(&bytes, &limits)?;
            let image = decode::decode_full(&bytes, &probe, &limits)?;
            Ok(Ok((looked, decode::reencode_jpeg(&image, STORED_QUALITY))))
        })
        .await??;
        let (conclusion, stored, portrait) = match looked {
            Ok((looked, copy)) => {
                let stored = blobs::new_name();
                self.blobs.put(&stored, copy.into()).await?;
                let order = orders::get(
                    &mut *crate::store::connection(&self.db).await?,
                    &self.cipher,
                    &material.order_id,
                    None,
                )
                .await?;
                let typed = order
                    .map(|o| inspect::typed_for(&o.form, &material.person))
                    .unwrap_or_default();
                let c = inspect::conclude(&looked, &typed, Divisions::embedded(), today_in_china());
                (c, stored, looked.portrait.map(|(_, e)| e))
            }
            Err(e) => (
                Conclusion {
                    state: MaterialState::Retake,
                    verdict: json!({"kind": kind.as_str(), "verdict": "retake", "reasons": [e.code()], "checks": [], "error": e.to_string()}),
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
        let state = conclusion.state;
        // A card portrait is what the person's live face is matched against.
        let card_template = portrait.filter(|_| state.is_standing()).map(|embedding| {
            self.cipher
                .encrypt(&embedding.to_bytes(), &faces::template_context(material_id))
        });
        let recorded = verification::record_verdict(
            &self.db,
            &self.cipher,
            &self.rules,
            Judged::Analysed {
                material: &material,
                state,
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
