//! The audit log (migrations/sqlite/0005_audit.sql): append-only, read by reviewers.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use super::{Db, RepoFuture};

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

impl sqlx::FromRow<'_, AnyRow> for Entry {
    fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        let detail: Option<String> = r.try_get("detail")?;
        Ok(Entry {
            id: r.try_get("id")?,
            at: super::time_at(r, "at")?,
            actor: r.try_get("actor")?,
            action: r.try_get("action")?,
            target: r.try_get("target")?,
            detail: detail
                .map(|d| serde_json::from_str(&d))
                .transpose()
                .map_err(|e| sqlx::Error::ColumnDecode {
                    index: "detail".into(),
                    source: e.into(),
                })?,
            source: r.try_get("source")?,
        })
    }
}

pub struct NewEntry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub target: Option<&'a str>,
    pub detail: Option<&'a Value>,
    pub source: Option<&'a str>,
}

/// The audit log: the repository the HTTP layer and the account service hold
/// (`Arc<dyn AuditLog>`), one implementation per engine. A business step that writes its
/// entry together with what it changes calls `record` on its own transaction instead.
pub trait AuditLog: Send + Sync {
    /// Appends an entry on its own.
    fn append<'a>(&'a self, e: &'a NewEntry<'a>) -> RepoFuture<'a, ()>;
    /// Newest first: up to `limit` entries older than `before` (an id), for one target if
    /// given.
    fn list<'a>(
        &'a self,
        target: Option<&'a str>,
        before: Option<i64>,
        limit: i64,
    ) -> RepoFuture<'a, Vec<Entry>>;
}

/// `AuditLog` in SQL, on either engine.
pub struct SqlAuditLog(pub Db);

impl AuditLog for SqlAuditLog {
    fn append<'a>(&'a self, e: &'a NewEntry<'a>) -> RepoFuture<'a, ()> {
        Box::pin(record(&self.0, e))
    }

    fn list<'a>(
        &'a self,
        target: Option<&'a str>,
        before: Option<i64>,
        limit: i64,
    ) -> RepoFuture<'a, Vec<Entry>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT id, at, actor, action, target, detail, source FROM audit_log
                 WHERE ($1 IS NULL OR target = $1) AND ($2 IS NULL OR id < $2)
                 ORDER BY id DESC LIMIT $3",
            )
            .bind(target)
            .bind(before)
            .bind(limit)
            .fetch_all(&self.0)
            .await?)
        })
    }
}

/// Appends an entry, inside whatever transaction or pool `executor` is.
pub async fn record<'e, E>(executor: E, e: &NewEntry<'_>) -> super::Result<()>
where
    E: sqlx::Executor<'e, Database = Any>,
{
    sqlx::query(
        "INSERT INTO audit_log (at, actor, action, target, detail, source) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(super::at(Utc::now()))
    .bind(e.actor)
    .bind(e.action)
    .bind(e.target)
    .bind(e.detail.map(Value::to_string))
    .bind(e.source)
    .execute(executor)
    .await?;
    Ok(())
}
