//! Uploaded materials: the photo's row, its verdict and what was read.

use chrono::{DateTime, Utc};
use sqlx::any::AnyRow;
use sqlx::Row;

use std::collections::HashSet;

use super::{Conn, Db, RepoFuture};
use crate::filing::materials::MaterialState;
use crate::filing::verdict::Verdict;

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
    pub verdict: Option<Verdict>,
    /// Ciphertext of what OCR read (see `reading_context`).
    pub reading: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl MaterialRow {
    /// Its verdict, or one of its state with no reasons when none was stored.
    pub fn current_verdict(&self) -> Verdict {
        self.verdict
            .clone()
            .unwrap_or_else(|| Verdict::new(self.state, []))
    }
}

/// The encryption context binding a material's reading to its row.
pub fn reading_context(material_id: &str) -> String {
    format!("materials.reading:{material_id}")
}

fn material_from_row(r: &AnyRow) -> super::Result<MaterialRow> {
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
        created_at: super::time_at(r, "created_at")?,
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

/// Uploaded materials outside the business steps that judge and decide them
/// (`store::tx::Tx`): an upload recorded with its analysis job, found again by its
/// idempotency key or its bytes, read, listed for an order or for the reviewers, counted, and
/// the blob names for the orphan sweep. Held as `Arc<dyn Materials>`, one implementation per
/// engine.
pub trait Materials: Send + Sync {
    /// The material and its queued analysis job, together (the blob is already durable);
    /// `StoreError::Duplicate` when the idempotency key was used in the session.
    fn insert<'a>(&'a self, m: &'a NewMaterial<'a>) -> RepoFuture<'a, ()>;
    fn by_idempotency_key<'a>(
        &'a self,
        session_id: &'a str,
        key: &'a str,
    ) -> RepoFuture<'a, Option<MaterialRow>>;
    /// The same bytes already uploaded as the same material of the same person.
    fn by_content<'a>(
        &'a self,
        order_id: &'a str,
        person: &'a str,
        kind: &'a str,
        sha256: &'a str,
    ) -> RepoFuture<'a, Option<MaterialRow>>;
    fn get<'a>(&'a self, id: &'a str) -> RepoFuture<'a, Option<MaterialRow>>;
    /// The newest material of each (person, kind) of the order.
    fn latest<'a>(&'a self, order_id: &'a str) -> RepoFuture<'a, Vec<MaterialRow>>;
    /// Flagged materials, oldest first, each with its order's province (the reviewers' queue).
    fn flagged(&self, limit: i64) -> RepoFuture<'_, Vec<(MaterialRow, String)>>;
    /// How many times a material of `kind` was uploaded for `person` of the order.
    fn upload_count<'a>(
        &'a self,
        order_id: &'a str,
        person: &'a str,
        kind: &'a str,
    ) -> RepoFuture<'a, i64>;
    /// Every blob name a material row holds (the orphan sweep keeps these).
    fn blob_names(&self) -> RepoFuture<'_, HashSet<String>>;
}

/// `Materials` in SQL, on either engine.
pub struct SqlMaterials(pub Db);

impl Materials for SqlMaterials {
    fn insert<'a>(&'a self, m: &'a NewMaterial<'a>) -> RepoFuture<'a, ()> {
        Box::pin(insert_material(&self.0, m))
    }

    fn by_idempotency_key<'a>(
        &'a self,
        session_id: &'a str,
        key: &'a str,
    ) -> RepoFuture<'a, Option<MaterialRow>> {
        Box::pin(material_by_idempotency_key(&self.0, session_id, key))
    }

    fn by_content<'a>(
        &'a self,
        order_id: &'a str,
        person: &'a str,
        kind: &'a str,
        sha256: &'a str,
    ) -> RepoFuture<'a, Option<MaterialRow>> {
        Box::pin(material_by_content(&self.0, order_id, person, kind, sha256))
    }

    fn get<'a>(&'a self, id: &'a str) -> RepoFuture<'a, Option<MaterialRow>> {
        Box::pin(async move { material(&mut *self.0.acquire().await?, id).await })
    }

    fn latest<'a>(&'a self, order_id: &'a str) -> RepoFuture<'a, Vec<MaterialRow>> {
        Box::pin(async move { latest_materials(&mut *self.0.acquire().await?, order_id).await })
    }

    fn flagged(&self, limit: i64) -> RepoFuture<'_, Vec<(MaterialRow, String)>> {
        Box::pin(flagged_materials(&self.0, limit))
    }

    fn upload_count<'a>(
        &'a self,
        order_id: &'a str,
        person: &'a str,
        kind: &'a str,
    ) -> RepoFuture<'a, i64> {
        Box::pin(upload_count(&self.0, order_id, person, kind))
    }

    fn blob_names(&self) -> RepoFuture<'_, HashSet<String>> {
        Box::pin(blob_names(&self.0))
    }
}

async fn insert_material(db: &Db, m: &NewMaterial<'_>) -> super::Result<()> {
    let now = Utc::now();
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO materials (id, order_id, session_id, person, kind, state, blob, sha256, bytes, idempotency_key, created_at)
         VALUES ($1, $2, $3, $4, $5, 'analyzing', $6, $7, $8, $9, $10)",
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
    .bind(super::at(now))
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO analysis_jobs (material_id, state, queued_at) VALUES ($1, 'queued', $2)",
    )
    .bind(m.id)
    .bind(super::at(now))
    .execute(&mut *tx)
    .await?;
    Ok(tx.commit().await?)
}

async fn material_by_idempotency_key(
    db: &Db,
    session_id: &str,
    key: &str,
) -> super::Result<Option<MaterialRow>> {
    let row = sqlx::query(&format!(
        "SELECT {MATERIAL_COLUMNS} FROM materials WHERE session_id = $1 AND idempotency_key = $2"
    ))
    .bind(session_id)
    .bind(key)
    .fetch_optional(db)
    .await?;
    row.as_ref().map(material_from_row).transpose()
}

/// The same bytes already uploaded as the same material of the same person.
async fn material_by_content(
    db: &Db,
    order_id: &str,
    person: &str,
    kind: &str,
    sha256: &str,
) -> super::Result<Option<MaterialRow>> {
    let row = sqlx::query(&format!(
        "SELECT {MATERIAL_COLUMNS} FROM materials WHERE order_id = $1 AND person = $2 AND kind = $3 AND sha256 = $4 ORDER BY created_at DESC LIMIT 1"
    ))
    .bind(order_id)
    .bind(person)
    .bind(kind)
    .bind(sha256)
    .fetch_optional(db)
    .await?;
    row.as_ref().map(material_from_row).transpose()
}

pub(super) async fn material(conn: &mut Conn, id: &str) -> super::Result<Option<MaterialRow>> {
    let row = sqlx::query(&format!(
        "SELECT {MATERIAL_COLUMNS} FROM materials WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    row.as_ref().map(material_from_row).transpose()
}

/// Flagged materials, oldest first, each with its order's province (the reviewers' queue).
async fn flagged_materials(db: &Db, limit: i64) -> super::Result<Vec<(MaterialRow, String)>> {
    let columns = MATERIAL_COLUMNS
        .split(", ")
        .map(|c| format!("m.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let rows = sqlx::query(&format!(
        "SELECT {columns}, o.province FROM materials m JOIN orders o ON o.id = m.order_id
         WHERE m.state = 'flagged' ORDER BY m.created_at LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| Ok((material_from_row(r)?, r.try_get("province")?)))
        .collect()
}

/// The newest material of each (person, kind) of the order.
pub(super) async fn latest_materials(
    conn: &mut Conn,
    order_id: &str,
) -> super::Result<Vec<MaterialRow>> {
    let rows = sqlx::query(&format!(
        "SELECT {MATERIAL_COLUMNS} FROM materials m WHERE order_id = $1 AND created_at = (
             SELECT MAX(created_at) FROM materials n WHERE n.order_id = m.order_id AND n.person = m.person AND n.kind = m.kind)
         ORDER BY created_at"
    ))
    .bind(order_id)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter().map(material_from_row).collect()
}

/// A material's verdict and reading after its cross-checks ran again (the filer changed what
/// they typed). Only a material still `pass` or `flagged` is changed.
pub(super) async fn update_checked(
    conn: &mut Conn,
    material_id: &str,
    verdict: &Verdict,
    reading: &str,
) -> super::Result<()> {
    sqlx::query(
        "UPDATE materials SET state = $1, verdict = $2, reading = $3 WHERE id = $4 AND state IN ('pass', 'flagged')",
    )
    .bind(verdict.verdict.as_str())
    .bind(verdict.to_value().to_string())
    .bind(reading)
    .bind(material_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A material's new verdict (and the state it names) after it was judged again (a reviewer's
/// decision, the face match changing). Only a material still `pass` or `flagged` changes;
/// false when it was not.
pub(super) async fn update_verdict(
    conn: &mut Conn,
    material_id: &str,
    verdict: &Verdict,
) -> super::Result<bool> {
    let done = sqlx::query(
        "UPDATE materials SET state = $1, verdict = $2 WHERE id = $3 AND state IN ('pass', 'flagged')",
    )
    .bind(verdict.verdict.as_str())
    .bind(verdict.to_value().to_string())
    .bind(material_id)
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many times a material of `kind` was uploaded for `person` of the order.
async fn upload_count(db: &Db, order_id: &str, person: &str, kind: &str) -> super::Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM materials WHERE order_id = $1 AND person = $2 AND kind = $3",
    )
    .bind(order_id)
    .bind(person)
    .bind(kind)
    .fetch_one(db)
    .await?)
}

/// Every blob name a material row holds (the orphan sweep keeps these).
async fn blob_names(db: &Db) -> super::Result<HashSet<String>> {
    let rows: Vec<(String,)> = sqlx::query_as("SELECT blob FROM materials")
        .fetch_all(db)
        .await?;
    Ok(rows.into_iter().map(|(b,)| b).collect())
}
