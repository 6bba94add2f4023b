//! Retention: face data past its days, and the uploads of orders left idle long enough.

use chrono::{DateTime, Utc};

use super::{Db, RepoFuture};

/// States of an order nobody is working on: rejected, or still with the filer.
const IDLE_ORDER_STATES: &str = "('rejected', 'draft', 'collecting_materials', 'ready')";

/// What the retention rules delete. Each call is one transaction and returns the blob names
/// to delete from the blob store after it commits (a crash in between leaves an orphan file,
/// never a row naming a missing one). Held as `Arc<dyn Retention>`, one implementation per
/// engine.
pub trait Retention: Send + Sync {
    /// The face data decided before `cutoff`: every face template, and each face capture's
    /// kept frame (the material keeps its verdict and numbers, its blob name goes).
    fn purge_face_data(&self, cutoff: DateTime<Utc>) -> RepoFuture<'_, Vec<String>>;
    /// Every material of the orders rejected, or left with the filer, since before `cutoff`
    /// (their jobs and face templates go with them).
    fn purge_idle_orders(&self, cutoff: DateTime<Utc>) -> RepoFuture<'_, Vec<String>>;
}

/// `Retention` in SQL, on either engine.
pub struct SqlRetention(pub Db);

impl Retention for SqlRetention {
    fn purge_face_data(&self, cutoff: DateTime<Utc>) -> RepoFuture<'_, Vec<String>> {
        Box::pin(async move {
            let mut tx = self.0.begin().await?;
            let blobs: Vec<String> = sqlx::query_scalar(
                "SELECT blob FROM materials WHERE kind = 'face' AND blob != '' AND analyzed_at < $1",
            )
            .bind(super::at(cutoff))
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM face_templates WHERE created_at < $1")
                .bind(super::at(cutoff))
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE materials SET blob = '' WHERE kind = 'face' AND analyzed_at < $1")
                .bind(super::at(cutoff))
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(blobs)
        })
    }

    fn purge_idle_orders(&self, cutoff: DateTime<Utc>) -> RepoFuture<'_, Vec<String>> {
        Box::pin(async move {
            let mut tx = self.0.begin().await?;
            let blobs: Vec<String> = sqlx::query_scalar(&format!(
                "SELECT m.blob FROM materials m JOIN orders o ON o.id = m.order_id
                 WHERE o.state IN {IDLE_ORDER_STATES} AND o.updated_at < $1 AND m.blob != ''"
            ))
            .bind(super::at(cutoff))
            .fetch_all(&mut *tx)
            .await?;
            sqlx::query(&format!(
                "DELETE FROM materials WHERE order_id IN
                 (SELECT id FROM orders WHERE state IN {IDLE_ORDER_STATES} AND updated_at < $1)"
            ))
            .bind(super::at(cutoff))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(blobs)
        })
    }
}
