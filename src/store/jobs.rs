//! The analysis job queue: claim, finish, fail and retry, requeue after a stop.

use chrono::Utc;
use serde_json::Value;
use sqlx::{Connection, Row};

use super::{Conn, Db};
use crate::filing::materials::MaterialState;

/// Claims the oldest queued job; None when the queue is empty.
pub async fn claim_job(db: &Db) -> super::Result<Option<String>> {
    let row = sqlx::query(
        "UPDATE analysis_jobs SET state = 'running', attempts = attempts + 1, claimed_at = ?
         WHERE material_id = (SELECT material_id FROM analysis_jobs WHERE state = 'queued' ORDER BY queued_at LIMIT 1)
         RETURNING material_id",
    )
    .bind(Utc::now())
    .fetch_optional(db)
    .await?;
    Ok(row.map(|r| r.try_get("material_id")).transpose()?)
}

/// Jobs a crash left running go back to the queue (run at start, before any worker).
pub async fn requeue_running(db: &Db) -> super::Result<u64> {
    let done = sqlx::query("UPDATE analysis_jobs SET state = 'queued' WHERE state = 'running'")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}

/// Records the verdict (and the re-encoded blob that replaces the upload) and closes the job.
pub async fn finish_analysis(
    conn: &mut Conn,
    material_id: &str,
    state: MaterialState,
    verdict: &Value,
    reading: Option<&str>,
    blob: &str,
) -> super::Result<()> {
    let now = Utc::now();
    let mut tx = conn.begin().await?;
    sqlx::query(
        "UPDATE materials SET state = ?, verdict = ?, reading = ?, blob = ?, analyzed_at = ? WHERE id = ?",
    )
    .bind(state.as_str())
    .bind(verdict.to_string())
    .bind(reading)
    .bind(blob)
    .bind(now)
    .bind(material_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE analysis_jobs SET state = 'done', finished_at = ? WHERE material_id = ?")
        .bind(now)
        .bind(material_id)
        .execute(&mut *tx)
        .await?;
    Ok(tx.commit().await?)
}

/// After a failed analysis: queue the job again, or after `max_attempts` give up and hand the
/// material to a person (`flagged`). Returns true when it gave up.
pub async fn fail_job(
    db: &Db,
    material_id: &str,
    max_attempts: i64,
    error: &str,
) -> super::Result<bool> {
    let mut tx = db.begin().await?;
    let attempts: i64 = sqlx::query("SELECT attempts FROM analysis_jobs WHERE material_id = ?")
        .bind(material_id)
        .fetch_optional(&mut *tx)
        .await?
        .map(|r| r.try_get("attempts"))
        .transpose()?
        .unwrap_or(max_attempts);
    let give_up = attempts >= max_attempts;
    sqlx::query("UPDATE analysis_jobs SET state = ?, finished_at = ? WHERE material_id = ?")
        .bind(if give_up { "done" } else { "queued" })
        .bind(Utc::now())
        .bind(material_id)
        .execute(&mut *tx)
        .await?;
    if give_up {
        let verdict = serde_json::json!({"verdict": "flagged", "reasons": ["analysis_failed"], "checks": [], "error": error});
        sqlx::query(
            "UPDATE materials SET state = 'flagged', verdict = ?, analyzed_at = ? WHERE id = ?",
        )
        .bind(verdict.to_string())
        .bind(Utc::now())
        .bind(material_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(give_up)
}

pub async fn queued_jobs(db: &Db) -> super::Result<i64> {
    Ok(
        sqlx::query("SELECT COUNT(*) AS n FROM analysis_jobs WHERE state != 'done'")
            .fetch_one(db)
            .await?
            .try_get("n")?,
    )
}
