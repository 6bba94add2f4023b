//! The SMS verification after the first review, and the filing numbers the bureau gives
//! (migrations/sqlite/0006_after_review.sql).

use chrono::{DateTime, Utc};
use sqlx::{Connection, Row};

use super::{Conn, Db, RepoFuture};

pub struct Pending {
    pub code_index: String,
    pub expires_at: DateTime<Utc>,
    pub attempts: i64,
}

/// Replaces the order's pending code.
pub(super) async fn start(
    conn: &mut Conn,
    order_id: &str,
    code_index: &str,
    expires_at: DateTime<Utc>,
) -> super::Result<()> {
    sqlx::query(
        "INSERT INTO sms_verifications (order_id, code_index, expires_at, attempts, created_at)
         VALUES ($1, $2, $3, 0, $4)
         ON CONFLICT (order_id) DO UPDATE SET code_index = excluded.code_index,
             expires_at = excluded.expires_at, attempts = 0, created_at = excluded.created_at",
    )
    .bind(order_id)
    .bind(code_index)
    .bind(super::at(expires_at))
    .bind(super::at(Utc::now()))
    .execute(&mut *conn)
    .await?;
    Ok(())
}

pub(super) async fn pending(conn: &mut Conn, order_id: &str) -> super::Result<Option<Pending>> {
    let row = sqlx::query(
        "SELECT code_index, expires_at, attempts FROM sms_verifications WHERE order_id = $1",
    )
    .bind(order_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Pending {
            code_index: r.try_get("code_index")?,
            expires_at: super::time_at(&r, "expires_at")?,
            attempts: r.try_get("attempts")?,
        })
    })
    .transpose()
}

/// Counts a wrong code; returns the attempts so far.
pub(super) async fn count_attempt(conn: &mut Conn, order_id: &str) -> super::Result<i64> {
    Ok(sqlx::query_scalar(
        "UPDATE sms_verifications SET attempts = attempts + 1 WHERE order_id = $1 RETURNING attempts",
    )
    .bind(order_id)
    .fetch_one(conn)
    .await?)
}

pub(super) async fn finish(conn: &mut Conn, order_id: &str) -> super::Result<()> {
    sqlx::query("DELETE FROM sms_verifications WHERE order_id = $1")
        .bind(order_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Orders whose code expired unconfirmed.
pub(super) async fn expired(db: &Db, now: DateTime<Utc>) -> super::Result<Vec<String>> {
    Ok(
        sqlx::query_scalar("SELECT order_id FROM sms_verifications WHERE expires_at <= $1")
            .bind(super::at(now))
            .fetch_all(db)
            .await?,
    )
}

pub struct FilingNumber {
    pub number: String,
    pub websites: Vec<String>,
}

/// Gives the order the next number of its prefix and year: `京ICP备2026000001号`, and each of
/// its `websites` websites the same with `-1`, `-2`, ... One transaction, so two approvals
/// cannot take the same serial.
pub(super) async fn issue_number(
    conn: &mut Conn,
    order_id: &str,
    prefix: &str,
    year: i32,
    websites: usize,
) -> super::Result<FilingNumber> {
    let mut tx = conn.begin().await?;
    let serial: i64 = sqlx::query_scalar(
        "SELECT COALESCE(MAX(serial), 0) + 1 FROM filing_numbers WHERE prefix = $1 AND year = $2",
    )
    .bind(prefix)
    .bind(year)
    .fetch_one(&mut *tx)
    .await?;
    let base = format!("{prefix}ICP备{year}{serial:06}");
    let number = format!("{base}号");
    let sites: Vec<String> = (1..=websites).map(|n| format!("{base}号-{n}")).collect();
    sqlx::query(
        "INSERT INTO filing_numbers (order_id, prefix, year, serial, number, websites, issued_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(order_id)
    .bind(prefix)
    .bind(year)
    .bind(serial)
    .bind(&number)
    .bind(serde_json::to_string(&sites).unwrap_or_default())
    .bind(super::at(Utc::now()))
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(FilingNumber {
        number,
        websites: sites,
    })
}

pub(super) async fn number_of(db: &Db, order_id: &str) -> super::Result<Option<FilingNumber>> {
    let row = sqlx::query("SELECT number, websites FROM filing_numbers WHERE order_id = $1")
        .bind(order_id)
        .fetch_optional(db)
        .await?;
    row.map(|r| {
        let websites: String = r.try_get("websites")?;
        Ok(FilingNumber {
            number: r.try_get("number")?,
            websites: serde_json::from_str(&websites).unwrap_or_default(),
        })
    })
    .transpose()
}

/// The outbox table that stands in for the carrier. Held as `Arc<dyn Outbox>`, one
/// implementation per engine.
pub trait Outbox: Send + Sync {
    /// A text message queued; `recipient` is ciphertext.
    fn queue<'a>(
        &'a self,
        recipient: &'a str,
        recipient_masked: &'a str,
        body: &'a str,
    ) -> RepoFuture<'a, ()>;
}

/// `Outbox` in SQL, on either engine.
pub struct SqlOutbox(pub Db);

impl Outbox for SqlOutbox {
    fn queue<'a>(
        &'a self,
        recipient: &'a str,
        recipient_masked: &'a str,
        body: &'a str,
    ) -> RepoFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO sms_outbox (recipient, recipient_masked, body, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(recipient)
            .bind(recipient_masked)
            .bind(body)
            .bind(super::at(Utc::now()))
            .execute(&self.0)
            .await?;
            Ok(())
        })
    }
}
