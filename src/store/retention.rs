//! Retention of uploads: what goes when an order has lain idle long enough.

use chrono::{DateTime, Utc};

use super::Db;

/// States of an order nobody is working on: rejected, or still with the filer.
const IDLE_ORDER_STATES: &str = "('rejected', 'draft', 'collecting_materials', 'ready')";

/// Deletes every material of the orders rejected, or left with the filer, since before
/// `cutoff` (their jobs and face templates go with them). Returns the blob names to delete
/// after the commit.
pub async fn purge_idle_orders(db: &Db, cutoff: DateTime<Utc>) -> super::Result<Vec<String>> {
    let mut tx = db.begin().await?;
    let blobs: Vec<String> = sqlx::query_scalar(&format!(
        "SELECT m.blob FROM materials m JOIN orders o ON o.id = m.order_id
         WHERE o.state IN {IDLE_ORDER_STATES} AND o.updated_at < ? AND m.blob != ''"
    ))
    .bind(cutoff)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query(&format!(
        "DELETE FROM materials WHERE order_id IN
         (SELECT id FROM orders WHERE state IN {IDLE_ORDER_STATES} AND updated_at < ?)"
    ))
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(blobs)
}
