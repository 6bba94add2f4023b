//! The audit log (migrations/0005_audit.sql): append-only, read by reviewers.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::Sqlite;

use super::{Db, RepoFuture};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Entry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: Option<String>,
    #[sqlx(json(nullable))]
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

/// `AuditLog` on SQLite.
pub struct SqliteAuditLog(pub Db);

impl AuditLog for SqliteAuditLog {
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
                 WHERE (? IS NULL OR target = ?) AND (? IS NULL OR id < ?)
                 ORDER BY id DESC LIMIT ?",
            )
            .bind(target)
            .bind(target)
            .bind(before)
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
