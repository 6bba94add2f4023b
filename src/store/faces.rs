//! Liveness challenges and face templates (migrations/sqlite/0004_faces.sql).

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::{Connection, Row};

use super::{Conn, Db, RepoFuture};
use crate::filing::verdict::Verdict;

/// A liveness challenge: the actions asked for, issued to one upload session, answered by
/// at most one capture.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub id: String,
    pub session_id: String,
    pub actions: Vec<String>,
    pub issued_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// When a capture answered it.
    pub used_at: Option<DateTime<Utc>>,
}

impl sqlx::FromRow<'_, AnyRow> for Challenge {
    fn from_row(r: &AnyRow) -> Result<Self, sqlx::Error> {
        let actions: String = r.try_get("actions")?;
        Ok(Challenge {
            id: r.try_get("id")?,
            session_id: r.try_get("session_id")?,
            actions: serde_json::from_str(&actions).map_err(|e| sqlx::Error::ColumnDecode {
                index: "actions".into(),
                source: e.into(),
            })?,
            issued_at: super::time_at(r, "issued_at")?,
            expires_at: super::time_at(r, "expires_at")?,
            used_at: super::maybe_time_at(r, "used_at")?,
        })
    }
}

/// Liveness challenges: the repository the liveness capture holds (`Arc<dyn Challenges>`),
/// one implementation per engine.
pub trait Challenges: Send + Sync {
    /// The session's newest challenge that is unused and unexpired at `now`.
    fn open<'a>(
        &'a self,
        session_id: &'a str,
        now: DateTime<Utc>,
    ) -> RepoFuture<'a, Option<Challenge>>;
    fn insert<'a>(&'a self, c: &'a Challenge) -> RepoFuture<'a, ()>;
    fn get<'a>(&'a self, id: &'a str) -> RepoFuture<'a, Option<Challenge>>;
    /// Uses the challenge up (with the person's consent) if nobody has; false when it was
    /// already used or has expired. One conditional write, so two captures cannot both
    /// use it.
    fn use_up<'a>(&'a self, id: &'a str, now: DateTime<Utc>) -> RepoFuture<'a, bool>;
}

/// `Challenges` in SQL, on either engine.
pub struct SqlChallenges(pub Db);

impl Challenges for SqlChallenges {
    fn open<'a>(
        &'a self,
        session_id: &'a str,
        now: DateTime<Utc>,
    ) -> RepoFuture<'a, Option<Challenge>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT * FROM liveness_challenges WHERE session_id = $1 AND used_at IS NULL AND expires_at > $2
                 ORDER BY issued_at DESC LIMIT 1",
            )
            .bind(session_id)
            .bind(super::at(now))
            .fetch_optional(&self.0)
            .await?)
        })
    }

    fn insert<'a>(&'a self, c: &'a Challenge) -> RepoFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO liveness_challenges (id, session_id, actions, issued_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&c.id)
            .bind(&c.session_id)
            .bind(serde_json::Value::from(c.actions.clone()).to_string())
            .bind(super::at(c.issued_at))
            .bind(super::at(c.expires_at))
            .execute(&self.0)
            .await?;
            Ok(())
        })
    }

    fn get<'a>(&'a self, id: &'a str) -> RepoFuture<'a, Option<Challenge>> {
        Box::pin(async move {
            Ok(
                sqlx::query_as("SELECT * FROM liveness_challenges WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&self.0)
                    .await?,
            )
        })
    }

    fn use_up<'a>(&'a self, id: &'a str, now: DateTime<Utc>) -> RepoFuture<'a, bool> {
        Box::pin(async move {
            let done = sqlx::query(
                "UPDATE liveness_challenges SET used_at = $1, consented_at = $2 WHERE id = $3 AND used_at IS NULL AND expires_at > $4",
            )
            .bind(super::at(now))
            .bind(super::at(now))
            .bind(id)
            .bind(super::at(now))
            .execute(&self.0)
            .await?;
            Ok(done.rows_affected() == 1)
        })
    }
}

/// The encryption context binding a template to its material.
pub fn template_context(material_id: &str) -> String {
    format!("face_templates.embedding:{material_id}")
}

pub struct Template {
    pub material_id: String,
    /// Ciphertext (see `template_context`).
    pub embedding: String,
}

pub(super) async fn insert_template<'e, E>(
    executor: E,
    material_id: &str,
    order_id: &str,
    person: &str,
    source: &str,
    embedding: &str,
) -> super::Result<()>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "INSERT INTO face_templates (material_id, order_id, person, source, embedding, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (material_id) DO UPDATE SET order_id = excluded.order_id, person = excluded.person,
             source = excluded.source, embedding = excluded.embedding, created_at = excluded.created_at",
    )
    .bind(material_id)
    .bind(order_id)
    .bind(person)
    .bind(source)
    .bind(embedding)
    .bind(super::at(Utc::now()))
    .execute(executor)
    .await?;
    Ok(())
}

/// The newest template of `source` for a person of an order.
pub(super) async fn latest_template(
    conn: &mut Conn,
    order_id: &str,
    person: &str,
    source: &str,
) -> super::Result<Option<Template>> {
    let row = sqlx::query(
        "SELECT material_id, embedding FROM face_templates WHERE order_id = $1 AND person = $2 AND source = $3
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(order_id)
    .bind(person)
    .bind(source)
    .fetch_optional(&mut *conn)
    .await?;
    row.map(|r| {
        Ok(Template {
            material_id: r.try_get("material_id")?,
            embedding: r.try_get("embedding")?,
        })
    })
    .transpose()
}

pub struct NewCapture<'a> {
    pub material: &'a super::materials::NewMaterial<'a>,
    pub verdict: &'a Verdict,
    /// Ciphertext of the embedding of the kept frame, when a face was found.
    pub template: Option<&'a str>,
}

/// A judged liveness capture: the material (decided, so no analysis job) and its face
/// template, in one transaction (the kept frame's blob is already durable).
pub(super) async fn insert_capture(conn: &mut Conn, c: &NewCapture<'_>) -> super::Result<()> {
    let m = c.material;
    let now = Utc::now();
    let mut tx = conn.begin().await?;
    sqlx::query(
        "INSERT INTO materials (id, order_id, session_id, person, kind, state, blob, sha256, bytes, verdict, created_at, analyzed_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(m.id)
    .bind(m.order_id)
    .bind(m.session_id)
    .bind(m.person)
    .bind(m.kind)
    .bind(c.verdict.verdict.as_str())
    .bind(m.blob)
    .bind(m.sha256)
    .bind(m.bytes)
    .bind(c.verdict.to_value().to_string())
    .bind(super::at(now))
    .bind(super::at(now))
    .execute(&mut *tx)
    .await?;
    if let Some(template) = c.template {
        insert_template(&mut *tx, m.id, m.order_id, m.person, "live", template).await?;
    }
    Ok(tx.commit().await?)
}
