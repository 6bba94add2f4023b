//! The audit log (migrations/0005_audit.sql): append-only, read by reviewers.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{Row, Sqlite};

use super::Db;

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    pub detail: Option<Value>,
    pub source: Option<String>,
}

pub struct NewEntry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub detail: Option<&'a Value>,
    pub source: Option<&'a str>,
}

/// Appends an entry, inside whatever transaction or pool `executor` is.
pub async fn record<'e, E>(executor: E, e: &NewEntry<'_>) -> super::Result<()>
where
    E: sqlx::Executor<'e, Database = Sqlite>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, detail, source) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(Utc::now())
    .bind(e.actor)
    .bind(e.action)
    .bind(e.target)
    .bind(e.detail.map(Value::to_string))
    .bind(e.source)
    .execute(executor)
    .await?;
    Ok(())
}

/// Newest first: up to `limit` entries older than `before` (an id), for one target if given.
pub async fn list(
    db: &Db,
    target: Option<&str>,
    before: Option<i64>,
    limit: i64,
) -> super::Result<Vec<Entry>> {
    let rows = sqlx::query(
        "SELECT id, at, actor, action, target, detail, source FROM audit_log
         WHERE (? IS NULL OR target = ?) AND (? IS NULL OR id < ?)
         ORDER BY id DESC LIMIT ?",
    )
    .bind(target)
    .bind(target)
    .bind(before)
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            let detail: Option<String> = r.try_get("detail")?;
            Ok(Entry {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                action: r.try_get("action")?,
                target: r.try_get("target")?,
                detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
                source: r.try_get("source")?,
            })
        })
        .collect()
}
