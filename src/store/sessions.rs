//! Upload sessions: the link a phone is handed, its device binding, its deadlines and state.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use super::materials::MaterialRow;
use super::{Conn, Db, RepoFuture};
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

fn session_from_row(r: &AnyRow) -> super::Result<SessionRow> {
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
        open_before: super::time_at(r, "open_before")?,
        idle_expires_at: super::time_at(r, "idle_expires_at")?,
    })
}

pub struct NewSession<'a> {
    pub id: &'a str,
    pub order_id: &'a str,
    pub person: &'a str,
    pub materials: &'a [String],
    pub token_hash: &'a str,
    /// The token sealed for the QR code (`link_context`).
    pub link_sealed: &'a str,
    pub open_before: DateTime<Utc>,
    pub idle_expires_at: DateTime<Utc>,
}

/// The encryption context of a session's sealed link token.
pub fn link_context(session_id: &str) -> String {
    format!("upload-link:{session_id}")
}

/// The phone links' side of the upload sessions, which the HTTP layer holds
/// (`Arc<dyn UploadLinks>`), one implementation per engine. The moves a judged photo makes
/// (`session_by_id`, `touch_session`, `set_session_state`) run on the caller's transaction.
pub trait UploadLinks: Send + Sync {
    fn create<'a>(&'a self, s: &'a NewSession<'a>) -> RepoFuture<'a, ()>;
    /// The session a link's token (its hash) opens.
    fn by_token<'a>(&'a self, token_hash: &'a str) -> RepoFuture<'a, Option<SessionRow>>;
    /// The session if its order belongs to `owner_id`.
    fn for_owner<'a>(
        &'a self,
        id: &'a str,
        owner_id: &'a str,
    ) -> RepoFuture<'a, Option<SessionRow>>;
    /// The sealed link token of a session still waiting for a phone.
    fn sealed_link<'a>(&'a self, id: &'a str) -> RepoFuture<'a, Option<String>>;
    /// A new token for the session: the old one stops working at once.
    fn renew<'a>(&'a self, id: &'a str, renewal: &'a Renewal<'a>) -> RepoFuture<'a, ()>;
    fn by_id<'a>(&'a self, id: &'a str) -> RepoFuture<'a, Option<SessionRow>>;
    /// The phone is at work on the session: its state (and, the first time, the phone's
    /// hash) and its idle deadline.
    fn touch<'a>(
        &'a self,
        id: &'a str,
        state: SessionState,
        device_hash: Option<&'a str>,
        idle_expires_at: DateTime<Utc>,
    ) -> RepoFuture<'a, ()>;
}

/// A session's new link (`UploadLinks::renew`).
pub struct Renewal<'a> {
    pub token_hash: &'a str,
    pub link_sealed: &'a str,
    pub open_before: DateTime<Utc>,
    pub idle_expires_at: DateTime<Utc>,
}

/// `UploadLinks` in SQL, on either engine.
pub struct SqlUploadLinks(pub Db);

const SESSION_COLUMNS: &str = "s.id, s.order_id, s.person, s.materials, s.state, s.device_hash, s.open_before, s.idle_expires_at";

impl UploadLinks for SqlUploadLinks {
    fn create<'a>(&'a self, s: &'a NewSession<'a>) -> RepoFuture<'a, ()> {
        Box::pin(async move {
            let now = Utc::now();
            sqlx::query(
                "INSERT INTO upload_sessions (id, order_id, person, materials, token_hash, link_sealed, state, open_before, idle_expires_at, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 'waiting', $7, $8, $9, $10)",
            )
            .bind(s.id)
            .bind(s.order_id)
            .bind(s.person)
            .bind(serde_json::Value::from(s.materials).to_string())
            .bind(s.token_hash)
            .bind(s.link_sealed)
            .bind(super::at(s.open_before))
            .bind(super::at(s.idle_expires_at))
            .bind(super::at(now))
            .bind(super::at(now))
            .execute(&self.0)
            .await?;
            Ok(())
        })
    }

    fn by_token<'a>(&'a self, token_hash: &'a str) -> RepoFuture<'a, Option<SessionRow>> {
        Box::pin(async move {
            let row = sqlx::query(&format!(
                "SELECT {SESSION_COLUMNS} FROM upload_sessions s WHERE s.token_hash = $1"
            ))
            .bind(token_hash)
            .fetch_optional(&self.0)
            .await?;
            row.as_ref().map(session_from_row).transpose()
        })
    }

    fn for_owner<'a>(
        &'a self,
        id: &'a str,
        owner_id: &'a str,
    ) -> RepoFuture<'a, Option<SessionRow>> {
        Box::pin(async move {
            let row = sqlx::query(&format!(
                "SELECT {SESSION_COLUMNS} FROM upload_sessions s JOIN orders o ON o.id = s.order_id WHERE s.id = $1 AND o.owner_id = $2"
            ))
            .bind(id)
            .bind(owner_id)
            .fetch_optional(&self.0)
            .await?;
            row.as_ref().map(session_from_row).transpose()
        })
    }

    fn sealed_link<'a>(&'a self, id: &'a str) -> RepoFuture<'a, Option<String>> {
        Box::pin(async move {
            Ok(sqlx::query_scalar(
                "SELECT link_sealed FROM upload_sessions WHERE id = $1 AND state = 'waiting'",
            )
            .bind(id)
            .fetch_optional(&self.0)
            .await?
            .flatten())
        })
    }

    fn renew<'a>(&'a self, id: &'a str, r: &'a Renewal<'a>) -> RepoFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "UPDATE upload_sessions SET token_hash = $1, link_sealed = $2, state = 'waiting', device_hash = NULL, open_before = $3, idle_expires_at = $4, updated_at = $5
                 WHERE id = $6",
            )
            .bind(r.token_hash)
            .bind(r.link_sealed)
            .bind(super::at(r.open_before))
            .bind(super::at(r.idle_expires_at))
            .bind(super::at(Utc::now()))
            .bind(id)
            .execute(&self.0)
            .await?;
            Ok(())
        })
    }

    fn by_id<'a>(&'a self, id: &'a str) -> RepoFuture<'a, Option<SessionRow>> {
        Box::pin(async move { session_by_id(&mut *self.0.acquire().await?, id).await })
    }

    fn touch<'a>(
        &'a self,
        id: &'a str,
        state: SessionState,
        device_hash: Option<&'a str>,
        idle_expires_at: DateTime<Utc>,
    ) -> RepoFuture<'a, ()> {
        Box::pin(async move {
            let mut conn = self.0.acquire().await?;
            touch_session(&mut conn, id, state, device_hash, idle_expires_at).await
        })
    }
}

pub(super) async fn session_by_id(conn: &mut Conn, id: &str) -> super::Result<Option<SessionRow>> {
    let row = sqlx::query(&format!(
        "SELECT {SESSION_COLUMNS} FROM upload_sessions s WHERE s.id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(session_from_row).transpose()
}

/// Records the session's new state, device binding and idle deadline.
pub(super) async fn touch_session(
    conn: &mut Conn,
    id: &str,
    state: SessionState,
    device_hash: Option<&str>,
    idle_expires_at: DateTime<Utc>,
) -> super::Result<()> {
    sqlx::query("UPDATE upload_sessions SET state = $1, device_hash = COALESCE(device_hash, $2), idle_expires_at = $3, updated_at = $4,
                 link_sealed = CASE WHEN $1 = 'waiting' THEN link_sealed END WHERE id = $5")
        .bind(state.as_str())
        .bind(device_hash)
        .bind(super::at(idle_expires_at))
        .bind(super::at(Utc::now()))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

pub(super) async fn set_session_state(
    conn: &mut Conn,
    id: &str,
    state: SessionState,
) -> super::Result<()> {
    sqlx::query("UPDATE upload_sessions SET state = $1, updated_at = $2, link_sealed = CASE WHEN $1 = 'waiting' THEN link_sealed END WHERE id = $3")
        .bind(state.as_str())
        .bind(super::at(Utc::now()))
        .bind(id)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
