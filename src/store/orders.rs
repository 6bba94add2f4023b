//! Orders: the encrypted form, searchable indexes, pre-review results and the history of
//! state changes. Every write is one transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::{Any, Connection, Row, Transaction};

use super::crypto::FieldCipher;
use super::verification::FilingNumber;
use super::{Conn, Db, RepoFuture, StoreError};
use crate::filing::order::OrderForm;
use crate::filing::state::{OrderState, Transition};

/// What the store needs to write an order's form and what was derived from it.
pub struct OrderWrite<'a> {
    pub form: &'a OrderForm,
    pub province: &'a str,
    pub subject_kind: &'a str,
    pub certificate_index: String,
    pub phone_indexes: Vec<String>,
    pub domains: Vec<String>,
    pub filing_type: &'a str,
    pub decision: Value,
    pub findings: Value,
}

#[derive(Debug, Clone, Serialize)]
pub struct HistoryEntry {
    pub from: Option<String>,
    pub to: String,
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct OrderRecord {
    pub id: String,
    pub owner_id: String,
    pub state: OrderState,
    /// The decrypted form.
    pub form: OrderForm,
    pub decision: Value,
    pub findings: Value,
    pub version: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub history: Vec<HistoryEntry>,
}

/// Orders outside the business steps that move them (`store::tx::Tx`): created, edited,
/// read, listed, waiting for review, and the phone-number index the pre-review asks. Held as
/// `Arc<dyn Orders>`, one implementation per engine.
pub trait Orders: Send + Sync {
    /// A new draft order; `actor` names who created it in the history.
    fn insert<'a>(
        &'a self,
        cipher: &'a FieldCipher,
        id: &'a str,
        owner_id: &'a str,
        actor: &'a str,
        w: &'a OrderWrite<'a>,
    ) -> RepoFuture<'a, ()>;
    /// Replaces the form if the order is still at `version` and editable; false when another
    /// write came first or the order left the editable states.
    fn update<'a>(
        &'a self,
        cipher: &'a FieldCipher,
        id: &'a str,
        version: i64,
        w: &'a OrderWrite<'a>,
    ) -> RepoFuture<'a, bool>;
    /// Fresh pre-review findings, the form untouched.
    fn set_findings<'a>(&'a self, id: &'a str, findings: &'a Value) -> RepoFuture<'a, ()>;
    /// The order, decrypted, if it exists and (with `owner_id`) belongs to that user.
    fn get<'a>(
        &'a self,
        cipher: &'a FieldCipher,
        id: &'a str,
        owner_id: Option<&'a str>,
    ) -> RepoFuture<'a, Option<OrderRecord>>;
    /// The user's orders, newest first.
    fn list_for_owner<'a>(
        &'a self,
        cipher: &'a FieldCipher,
        owner_id: &'a str,
    ) -> RepoFuture<'a, Vec<OrderRecord>>;
    /// Orders submitted or in first review, the longest waiting first.
    fn awaiting_review(&self, limit: i64) -> RepoFuture<'_, Vec<Awaiting>>;
    /// Whether another subject's order carries the phone (by its blind index), and if so
    /// whether one is past the draft stage.
    fn phone_conflicts<'a>(
        &'a self,
        phone_index: &'a str,
        certificate_index: &'a str,
        exclude_order: Option<&'a str>,
    ) -> RepoFuture<'a, Option<bool>>;
    /// The filing number an approved order was given.
    fn filing_number<'a>(&'a self, order_id: &'a str) -> RepoFuture<'a, Option<FilingNumber>>;
    /// The orders whose SMS code ran out unconfirmed at `now`.
    fn sms_code_expired(&self, now: DateTime<Utc>) -> RepoFuture<'_, Vec<String>>;
}

/// `Orders` in SQL, on either engine.
pub struct SqlOrders(pub Db);

impl Orders for SqlOrders {
    fn insert<'a>(
        &'a self,
        cipher: &'a FieldCipher,
        id: &'a str,
        owner_id: &'a str,
        actor: &'a str,
        w: &'a OrderWrite<'a>,
    ) -> RepoFuture<'a, ()> {
        Box::pin(insert(&self.0, cipher, id, owner_id, actor, w))
    }

    fn update<'a>(
        &'a self,
        cipher: &'a FieldCipher,
        id: &'a str,
        version: i64,
        w: &'a OrderWrite<'a>,
    ) -> RepoFuture<'a, bool> {
        Box::pin(update(&self.0, cipher, id, version, w))
    }

    fn set_findings<'a>(&'a self, id: &'a str, findings: &'a Value) -> RepoFuture<'a, ()> {
        Box::pin(set_findings(&self.0, id, findings))
    }

    fn get<'a>(
        &'a self,
        cipher: &'a FieldCipher,
        id: &'a str,
        owner_id: Option<&'a str>,
    ) -> RepoFuture<'a, Option<OrderRecord>> {
        Box::pin(async move {
            let mut conn = self.0.acquire().await?;
            get(&mut conn, cipher, id, owner_id)
                .await
                .map_err(StoreError::Unreadable)
        })
    }

    fn list_for_owner<'a>(
        &'a self,
        cipher: &'a FieldCipher,
        owner_id: &'a str,
    ) -> RepoFuture<'a, Vec<OrderRecord>> {
        Box::pin(async move {
            list_for_owner(&self.0, cipher, owner_id)
                .await
                .map_err(StoreError::Unreadable)
        })
    }

    fn awaiting_review(&self, limit: i64) -> RepoFuture<'_, Vec<Awaiting>> {
        Box::pin(awaiting_review(&self.0, limit))
    }

    fn phone_conflicts<'a>(
        &'a self,
        phone_index: &'a str,
        certificate_index: &'a str,
        exclude_order: Option<&'a str>,
    ) -> RepoFuture<'a, Option<bool>> {
        Box::pin(phone_conflicts(
            &self.0,
            phone_index,
            certificate_index,
            exclude_order,
        ))
    }

    fn filing_number<'a>(&'a self, order_id: &'a str) -> RepoFuture<'a, Option<FilingNumber>> {
        Box::pin(super::verification::number_of(&self.0, order_id))
    }

    fn sms_code_expired(&self, now: DateTime<Utc>) -> RepoFuture<'_, Vec<String>> {
        Box::pin(super::verification::expired(&self.0, now))
    }
}

async fn insert(
    db: &Db,
    cipher: &FieldCipher,
    id: &str,
    owner_id: &str,
    actor: &str,
    w: &OrderWrite<'_>,
) -> super::Result<()> {
    let now = Utc::now();
    let sealed = cipher.encrypt(w.form.to_json().to_string().as_bytes(), id);
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO orders (id, owner_id, state, filing_type, province, subject_kind, certificate_index,
                             form_cipher, filing_decision, findings, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1, $11, $12)",
    )
    .bind(id)
    .bind(owner_id)
    .bind(OrderState::Draft.as_str())
    .bind(w.filing_type)
    .bind(w.province)
    .bind(w.subject_kind)
    .bind(&w.certificate_index)
    .bind(sealed)
    .bind(w.decision.to_string())
    .bind(w.findings.to_string())
    .bind(super::at(now))
    .bind(super::at(now))
    .execute(&mut *tx)
    .await?;
    write_indexes(&mut tx, id, w).await?;
    record_history(&mut tx, id, None, OrderState::Draft, actor, Some("created")).await?;
    Ok(tx.commit().await?)
}

/// Replaces the form if the order is still at `version` and editable; false when another
/// write came first or the order left the editable states.
async fn update(
    db: &Db,
    cipher: &FieldCipher,
    id: &str,
    version: i64,
    w: &OrderWrite<'_>,
) -> super::Result<bool> {
    let sealed = cipher.encrypt(w.form.to_json().to_string().as_bytes(), id);
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE orders SET filing_type = $1, province = $2, subject_kind = $3, certificate_index = $4,
                form_cipher = $5, filing_decision = $6, findings = $7, version = version + 1, updated_at = $8
         WHERE id = $9 AND version = $10 AND state IN ('draft', 'collecting_materials', 'ready')",
    )
    .bind(w.filing_type)
    .bind(w.province)
    .bind(w.subject_kind)
    .bind(&w.certificate_index)
    .bind(sealed)
    .bind(w.decision.to_string())
    .bind(w.findings.to_string())
    .bind(super::at(Utc::now()))
    .bind(id)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("DELETE FROM order_phones WHERE order_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM order_domains WHERE order_id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    write_indexes(&mut tx, id, w).await?;
    tx.commit().await?;
    Ok(true)
}

/// Stores fresh pre-review findings without touching the form (e.g. at submission).
async fn set_findings(db: &Db, id: &str, findings: &Value) -> super::Result<()> {
    sqlx::query("UPDATE orders SET findings = $1, updated_at = $2 WHERE id = $3")
        .bind(findings.to_string())
        .bind(super::at(Utc::now()))
        .bind(id)
        .execute(db)
        .await?;
    Ok(())
}

/// The order's state; None when there is no such order.
pub(super) async fn state(conn: &mut Conn, id: &str) -> super::Result<Option<OrderState>> {
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM orders WHERE id = $1")
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    state
        .map(|s| {
            OrderState::parse(&s).ok_or_else(|| {
                StoreError::Unreadable(anyhow::anyhow!("order {id} is in an unknown state {s}"))
            })
        })
        .transpose()
}

/// Makes the move if the order is still where it starts; records it. False when another
/// request moved the order first.
pub(super) async fn transition(
    conn: &mut Conn,
    id: &str,
    t: Transition,
    actor: &str,
    note: Option<&str>,
) -> super::Result<bool> {
    let mut tx = conn.begin().await?;
    let done = sqlx::query("UPDATE orders SET state = $1, version = version + 1, updated_at = $2 WHERE id = $3 AND state = $4")
        .bind(t.to().as_str())
        .bind(super::at(Utc::now()))
        .bind(id)
        .bind(t.from().as_str())
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    record_history(&mut tx, id, Some(t.from()), t.to(), actor, note).await?;
    tx.commit().await?;
    Ok(true)
}

async fn write_indexes(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    w: &OrderWrite<'_>,
) -> super::Result<()> {
    for phone in &w.phone_indexes {
        sqlx::query("INSERT INTO order_phones (order_id, phone_index) VALUES ($1, $2) ON CONFLICT DO NOTHING")
            .bind(id)
            .bind(phone)
            .execute(&mut **tx)
            .await?;
    }
    for domain in &w.domains {
        sqlx::query(
            "INSERT INTO order_domains (order_id, domain) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(domain)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

async fn record_history(
    tx: &mut Transaction<'_, Any>,
    id: &str,
    from: Option<OrderState>,
    to: OrderState,
    actor: &str,
    note: Option<&str>,
) -> super::Result<()> {
    sqlx::query("INSERT INTO order_history (order_id, from_state, to_state, actor, note, at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(id)
        .bind(from.map(OrderState::as_str))
        .bind(to.as_str())
        .bind(actor)
        .bind(note)
        .bind(super::at(Utc::now()))
        .execute(&mut **tx)
        .await?;
    // Every state change is in the audit log too, in the same transaction.
    let detail =
        serde_json::json!({"from": from.map(OrderState::as_str), "to": to.as_str(), "note": note});
    super::audit::record(
        &mut **tx,
        &super::audit::NewEntry {
            actor,
            action: "order_state",
            target: Some(&format!("order:{id}")),
            detail: Some(&detail),
            source: None,
        },
    )
    .await?;
    Ok(())
}

/// An order waiting for a reviewer, without its form.
pub struct Awaiting {
    pub id: String,
    pub state: String,
    pub province: String,
    pub filing_type: String,
    /// The pre-review findings (JSON array; not encrypted, no personal data).
    pub findings: Value,
    pub since: DateTime<Utc>,
}

/// Orders submitted or in first review, the longest waiting first.
async fn awaiting_review(db: &Db, limit: i64) -> super::Result<Vec<Awaiting>> {
    let rows = sqlx::query(
        "SELECT id, state, province, filing_type, findings, updated_at FROM orders
         WHERE state IN ('submitted', 'first_review') ORDER BY updated_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Awaiting {
                id: r.try_get("id")?,
                state: r.try_get("state")?,
                province: r.try_get("province")?,
                filing_type: r.try_get("filing_type")?,
                findings: serde_json::from_str(&r.try_get::<String, _>("findings")?)
                    .unwrap_or_default(),
                since: super::time_at(r, "updated_at")?,
            })
        })
        .collect()
}

/// The order, decrypted, if it exists and (when `owner_id` is given) belongs to that user.
pub(super) async fn get(
    conn: &mut Conn,
    cipher: &FieldCipher,
    id: &str,
    owner_id: Option<&str>,
) -> anyhow::Result<Option<OrderRecord>> {
    let row = sqlx::query(
        "SELECT id, owner_id, state, form_cipher, filing_decision, findings, version, created_at, updated_at
         FROM orders WHERE id = $1 AND ($2 IS NULL OR owner_id = $2)",
    )
    .bind(id)
    .bind(owner_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let history = sqlx::query("SELECT from_state, to_state, actor, note, at FROM order_history WHERE order_id = $1 ORDER BY id")
        .bind(id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|h| {
            Ok(HistoryEntry {
                from: h.try_get("from_state")?,
                to: h.try_get("to_state")?,
                actor: h.try_get("actor")?,
                note: h.try_get("note")?,
                at: super::time_at(h, "at")?,
            })
        })
        .collect::<super::Result<Vec<_>>>()?;
    Ok(Some(record_from_row(cipher, &row, history)?))
}

/// The user's orders, newest first.
async fn list_for_owner(
    db: &Db,
    cipher: &FieldCipher,
    owner_id: &str,
) -> anyhow::Result<Vec<OrderRecord>> {
    let rows = sqlx::query(
        "SELECT id, owner_id, state, form_cipher, filing_decision, findings, version, created_at, updated_at
         FROM orders WHERE owner_id = $1 ORDER BY created_at DESC LIMIT 200",
    )
    .bind(owner_id)
    .fetch_all(db)
    .await?;
    rows.iter()
        .map(|r| record_from_row(cipher, r, Vec::new()))
        .collect()
}

fn record_from_row(
    cipher: &FieldCipher,
    row: &sqlx::any::AnyRow,
    history: Vec<HistoryEntry>,
) -> anyhow::Result<OrderRecord> {
    let id: String = row.try_get("id")?;
    let state: String = row.try_get("state")?;
    let form = cipher.decrypt(row.try_get("form_cipher")?, &id)?;
    Ok(OrderRecord {
        state: OrderState::parse(&state)
            .ok_or_else(|| anyhow::anyhow!("unknown state {state} in order {id}"))?,
        owner_id: row.try_get("owner_id")?,
        form: OrderForm::from_stored(&serde_json::from_slice(&form)?)
            .map_err(|e| anyhow::anyhow!("the stored form of order {id} does not parse: {e:?}"))?,
        decision: serde_json::from_str(row.try_get("filing_decision")?)?,
        findings: serde_json::from_str(row.try_get("findings")?)?,
        version: row.try_get("version")?,
        created_at: super::time_at(row, "created_at")?,
        updated_at: super::time_at(row, "updated_at")?,
        history,
        id,
    })
}

/// For each phone index: whether another subject's order carries it, and whether any such
/// order is past the draft stage.
async fn phone_conflicts(
    db: &Db,
    phone_index: &str,
    certificate_index: &str,
    exclude_order: Option<&str>,
) -> super::Result<Option<bool>> {
    let rows = sqlx::query(
        "SELECT o.state FROM order_phones p JOIN orders o ON o.id = p.order_id
         WHERE p.phone_index = $1 AND o.certificate_index != $2 AND ($3 IS NULL OR o.id != $3)",
    )
    .bind(phone_index)
    .bind(certificate_index)
    .bind(exclude_order)
    .fetch_all(db)
    .await?;
    if rows.is_empty() {
        return Ok(None);
    }
    let past_draft = rows.iter().any(|r| {
        let state: String = r.get("state");
        !matches!(
            OrderState::parse(&state),
            Some(
                OrderState::Draft
                    | OrderState::CollectingMaterials
                    | OrderState::Ready
                    | OrderState::Rejected
            )
        )
    });
    Ok(Some(past_draft))
}
