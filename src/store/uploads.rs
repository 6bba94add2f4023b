//! Upload sessions, materials and their analysis jobs.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row};

use super::{Conn, Db};
use crate::filing::materials::MaterialState;
use crate::filing::upload_session::SessionState;

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub order_id: String,
    pub person: String,
    pub materials: Vec<String>,
    pub state: SessionState,
    pub device_hash: Option<String>,
    pub open_before: DateTime<Utc>,
    pub idle_expires_at: DateTime<Utc>,
}

impl SessionRow {
    /// The state as of `now`: an unopened link or an idle session has expired even if no
    /// request has written that yet.
    pub fn state_at(&self, now: DateTime<Utc>) -> SessionState {
        match self.state {
            s if s.is_final() => s,
            SessionState::Waiting if now > self.open_before => SessionState::Expired,
            _ if now > self.idle_expires_at => SessionState::Expired,
            s => s,
        }
    }

    /// The newest upload of `kind` for this session's person (or for the subject, for the
    /// subject's documents), among the order's newest materials.
    pub fn material<'a>(&self, latest: &'a [MaterialRow], kind: &str) -> Option<&'a MaterialRow> {
        let person = crate::filing::materials::holder(&self.person, kind);
        latest.iter().find(|m| m.person == person && m.kind == kind)
    }

    /// The kinds this session asks for that have no passing upload yet.
    pub fn still_required<'a>(&'a self, latest: &[MaterialRow]) -> Vec<&'a str> {
        self.materials
            .iter()
            .filter(|k| {
                self.material(latest, k)
                    .is_none_or(|m| m.state != MaterialState::Pass)
            })
            .map(String::as_str)
            .collect()
    }

    /// When it expires if nothing else happens.
    pub fn expires_at(&self) -> DateTime<Utc> {
        if self.state == SessionState::Waiting {
            self.open_before.min(self.idle_expires_at)
        } else {
            self.idle_expires_at
        }
    }
}

fn session_from_row(r: &SqliteRow) -> Result<SessionRow, sqlx::Error> {
    let materials: String = r.try_get("materials")?;
    Ok(SessionRow {
        id: r.try_get("id")?,
        order_id: r.try_get("order_id")?,
        person: r.try_get("person")?,
        materials: serde_json::from_str(&materials).unwrap_or_default(),
        state: SessionState::parse(r.try_get("state")?).ok_or_else(|| {
            sqlx::Error::Decode("an upload session's state is not one of its states".into())
        })?,
        device_hash: r.try_get("device_hash")?,
        open_before: r.try_get("open_before")?,
        idle_expires_at: r.try_get("idle_expires_at")?,
    })
}

pub struct NewSession<'a> {
    pub id: &'a str,
    pub order_id: &'a str,
    pub person: &'a str,
    pub materials: &'a [String],
    pub token_hash: &'a str,
    pub open_before: DateTime<Utc>,
    pub idle_expires_at: DateTime<Utc>,
}

pub async fn create_session(db: &Db, s: &NewSession<'_>) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    sqlx::query(
        "INSERT INTO upload_sessions (id, order_id, person, materials, token_hash, state, open_before, idle_expires_at, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, 'waiting', ?, ?, ?, ?)",
    )
    .bind(s.id)
    .bind(s.order_id)
    .bind(s.person)
    .bind(serde_json::to_string(s.materials).unwrap_or_default())
    .bind(s.token_hash)
    .bind(s.open_before)
    .bind(s.idle_expires_at)
    .bind(now)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

const SESSION_COLUMNS: &str = "s.id, s.order_id, s.person, s.materials, s.state, s.device_hash, s.open_before, s.idle_expires_at";

pub async fn session_by_token(
    db: &Db,
    token_hash: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM upload_sessions s WHERE s.token_hash = ?"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await?;
    row.as_ref().map(session_from_row).transpose()
}

/// The session if its order belongs to `owner_id`.
pub async fn session_for_owner(
    db: &Db,
    id: &str,
    owner_id: &str,
) -> Result<Option<SessionRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM upload_sessions s JOIN orders o ON o.id = s.order_id WHERE s.id = ? AND o.owner_id = ?"
    ))
    .bind(id)
    .bind(owner_id)
    .fetch_optional(db)
    .await?;
    row.as_ref().map(session_from_row).transpose()
}

pub async fn session_by_id(conn: &mut Conn, id: &str) -> Result<Option<SessionRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM upload_sessions s WHERE s.id = ?"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(session_from_row).transpose()
}

/// Records the session's new state, device binding and idle deadline.
pub async fn touch_session(
    conn: &mut Conn,
    id: &str,
    state: SessionState,
    device_hash: Option<&str>,
    idle_expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE upload_sessions SET state = ?, device_hash = COALESCE(device_hash, ?), idle_expires_at = ?, updated_at = ? WHERE id = ?")
        .bind(state.as_str())
        .bind(device_hash)
        .bind(idle_expires_at)
        .bind(Utc::now())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub async fn set_session_state(
    conn: &mut Conn,
    id: &str,
    state: SessionState,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE upload_sessions SET state = ?, updated_at = ? WHERE id = ?")
        .bind(state.as_str())
        .bind(Utc::now())
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct MaterialRow {
    pub id: String,
    pub order_id: String,
    pub session_id: Option<String>,
    pub person: String,
    pub kind: String,
    pub state: MaterialState,
    pub blob: String,
    pub sha256: String,
    pub verdict: Option<Value>,
    /// Ciphertext of what OCR read (see `reading_context`).
    pub reading: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// The encryption context binding a material's reading to its row.
pub fn reading_context(material_id: &str) -> String {
    format!("materials.reading:{material_id}")
}

fn material_from_row(r: &SqliteRow) -> Result<MaterialRow, sqlx::Error> {
    let verdict: Option<String> = r.try_get("verdict")?;
    Ok(MaterialRow {
        id: r.try_get("id")?,
        order_id: r.try_get("order_id")?,
        session_id: r.try_get("session_id")?,
        person: r.try_get("person")?,
        kind: r.try_get("kind")?,
        state: MaterialState::parse(r.try_get("state")?).ok_or_else(|| {
            sqlx::Error::Decode("a material's state is not one of its states".into())
        })?,
        blob: r.try_get("blob")?,
        sha256: r.try_get("sha256")?,
        verdict: verdict.and_then(|v| serde_json::from_str(&v).ok()),
        reading: r.try_get("reading")?,
        created_at: r.try_get("created_at")?,
    })
}

const MATERIAL_COLUMNS: &str =
    "id, order_id, session_id, person, kind, state, blob, sha256, verdict, reading, created_at";

pub struct NewMaterial<'a> {
    pub id: &'a str,
    pub order_id: &'a str,
    pub session_id: &'a str,
    pub person: &'a str,
    pub kind: &'a str,
    pub blob: &'a str,
    pub sha256: &'a str,
    pub bytes: i64,
    pub idempotency_key: Option<&'a str>,
}

/// The material and its queued analysis job, in one transaction (the blob is already durable).
pub async fn insert_material(db: &Db, m: &NewMaterial<'_>) -> Result<(), sqlx::Error> {
    let now = Utc::now();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO materials (id, order_id, session_id, person, kind, state, blob, sha256, bytes, idempotency_key, created_at)
         VALUES (?, ?, ?, ?, ?, 'analyzing', ?, ?, ?, ?, ?)",
    )
    .bind(m.id)
    .bind(m.order_id)
    .bind(m.session_id)
    .bind(m.person)
    .bind(m.kind)
    .bind(m.blob)
    .bind(m.sha256)
    .bind(m.bytes)
    .bind(m.idempotency_key)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO analysis_jobs (material_id, state, queued_at) VALUES (?, 'queued', ?)",
    )
    .bind(m.id)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    tx.commit().await
}

pub async fn material_by_idempotency_key(
    db: &Db,
    session_id: &str,
    key: &str,
) -> Result<Option<MaterialRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {MATERIAL_COLUMNS} FROM materials WHERE session_id = ? AND idempotency_key = ?"
    ))
    .bind(session_id)
    .bind(key)
    .fetch_optional(db)
    .await?;
    row.as_ref().map(material_from_row).transpose()
}

/// The same bytes already uploaded as the same material of the same person.
pub async fn material_by_content(
    db: &Db,
    order_id: &str,
    person: &str,
    kind: &str,
    sha256: &str,
) -> Result<Option<MaterialRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {MATERIAL_COLUMNS} FROM materials WHERE order_id = ? AND person = ? AND kind = ? AND sha256 = ? ORDER BY created_at DESC LIMIT 1"
    ))
    .bind(order_id)
    .bind(person)
    .bind(kind)
    .bind(sha256)
    .fetch_optional(db)
    .await?;
    row.as_ref().map(material_from_row).transpose()
}

pub async fn material(conn: &mut Conn, id: &str) -> Result<Option<MaterialRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {MATERIAL_COLUMNS} FROM materials WHERE id = ?"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(material_from_row).transpose()
}

/// Flagged materials, oldest first, each with its order's province (the reviewers' queue).
pub async fn flagged_materials(
    db: &Db,
    limit: i64,
) -> Result<Vec<(MaterialRow, String)>, sqlx::Error> {
    let columns = MATERIAL_COLUMNS
        .split(", ")
        .map(|c| format!("m.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!(
        "SELECT {columns}, o.province FROM materials m JOIN orders o ON o.id = m.order_id
         WHERE m.state = 'flagged' ORDER BY m.created_at LIMIT ?"
    ))
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| Ok((material_from_row(r)?, r.try_get("province")?)))
        .collect()
}

/// The newest material of each (person, kind) of the order.
pub async fn latest_materials(
    conn: &mut Conn,
    order_id: &str,
) -> Result<Vec<MaterialRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {MATERIAL_COLUMNS} FROM materials m WHERE order_id = ? AND created_at = (
             SELECT MAX(created_at) FROM materials n WHERE n.order_id = m.order_id AND n.person = m.person AND n.kind = m.kind)
         ORDER BY created_at"
    ))
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(material_from_row).collect()
}

/// Claims the oldest queued job; None when the queue is empty.
pub async fn claim_job(db: &Db) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(
        "UPDATE analysis_jobs SET state = 'running', attempts = attempts + 1, claimed_at = ?
         WHERE material_id = (SELECT material_id FROM analysis_jobs WHERE state = 'queued' ORDER BY queued_at LIMIT 1)
         RETURNING material_id",
    )
    .bind(Utc::now())
    .fetch_optional(db)
    .await?;
    row.map(|r| r.try_get("material_id")).transpose()
}

/// Jobs a crash left running go back to the queue (run at start, before any worker).
pub async fn requeue_running(db: &Db) -> Result<u64, sqlx::Error> {
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
) -> Result<(), sqlx::Error> {
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
    tx.commit().await
}

/// A material's verdict and reading after its cross-checks ran again (the filer changed what
/// they typed). Only a material still `pass` or `flagged` is changed.
pub async fn update_checked(
    db: &Db,
    material_id: &str,
    state: MaterialState,
    verdict: &Value,
    reading: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE materials SET state = ?, verdict = ?, reading = ? WHERE id = ? AND state IN ('pass', 'flagged')",
    )
    .bind(state.as_str())
    .bind(verdict.to_string())
    .bind(reading)
    .bind(material_id)
    .execute(db)
    .await?;
    Ok(())
}

/// After a failed analysis: queue the job again, or after `max_attempts` give up and hand the
/// material to a person (`flagged`). Returns true when it gave up.
pub async fn fail_job(
    db: &Db,
    material_id: &str,
    max_attempts: i64,
    error: &str,
) -> Result<bool, sqlx::Error> {
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

pub async fn queued_jobs(db: &Db) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM analysis_jobs WHERE state != 'done'")
        .fetch_one(db)
        .await?
        .try_get("n")
}

/// A new token for the session: the old one stops working at once.
pub async fn renew_token(
    db: &Db,
    id: &str,
    token_hash: &str,
    open_before: DateTime<Utc>,
    idle_expires_at: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE upload_sessions SET token_hash = ?, state = 'waiting', device_hash = NULL, open_before = ?, idle_expires_at = ?, updated_at = ?
         WHERE id = ?",
    )
    .bind(token_hash)
    .bind(open_before)
    .bind(idle_expires_at)
    .bind(Utc::now())
    .bind(id)
    .execute(db)
    .await?;
    Ok(())
}

/// A material's new state and verdict after it was judged (a reviewer's decision, the face
/// match changing). Only a material still `pass` or `flagged` changes; false when it was not.
pub async fn update_verdict(
    conn: &mut Conn,
    material_id: &str,
    state: MaterialState,
    verdict: &Value,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE materials SET state = ?, verdict = ? WHERE id = ? AND state IN ('pass', 'flagged')",
    )
    .bind(state.as_str())
    .bind(verdict.to_string())
    .bind(material_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many times a material of `kind` was uploaded for `person` of the order.
pub async fn upload_count(
    db: &Db,
    order_id: &str,
    person: &str,
    kind: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM materials WHERE order_id = ? AND person = ? AND kind = ?",
    )
    .bind(order_id)
    .bind(person)
    .bind(kind)
    .fetch_one(db)
    .await
}

/// States of an order nobody is working on: rejected, or still with the filer.
const IDLE_ORDER_STATES: &str = "('rejected', 'draft', 'collecting_materials', 'ready')";

/// Deletes every material of the orders rejected, or left with the filer, since before
/// `cutoff` (their jobs and face templates go with them). Returns the blob names to delete
/// after the commit.
pub async fn purge_idle_orders(db: &Db, cutoff: DateTime<Utc>) -> Result<Vec<String>, sqlx::Error> {
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
