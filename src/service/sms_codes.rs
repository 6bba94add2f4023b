//! The SMS verification step: a code the filer enters checked, and its two ends, the code
//! confirmed or void.

use chrono::{DateTime, Utc};
use serde_json::json;

use crate::filing::state::OrderState;
use crate::store::crypto::FieldCipher;
use crate::store::{audit, orders, verification, Db};

/// A code the filer entered, and who entered it from where (for the audit log).
pub struct CodeAttempt<'a> {
    pub order_id: &'a str,
    pub code: &'a str,
    pub actor: &'a str,
    pub source: &'a str,
}

/// What came of a code entered.
#[derive(Debug, PartialEq)]
pub enum CodeCheck {
    /// The order went on to the bureau.
    Confirmed,
    /// The code had run out: it is void and the order back in draft.
    Expired,
    /// Not the code sent; counted, and `attempts_left` more may be tried.
    Wrong { attempts_left: i64 },
    /// Not the code sent, for the last allowed time: the code is void and the order back in
    /// draft.
    TooManyAttempts { attempts: i64 },
    /// Another request moved the order first (nothing was written).
    MovedMeanwhile,
}

/// Checks the code entered for an order in SMS verification: a right code confirms it
/// (`confirm`), a wrong one is counted and audited, and an expired code or the
/// `max_attempts`-th wrong one makes the code void (`void_code`).
pub async fn check_code(
    db: &Db,
    cipher: &FieldCipher,
    max_attempts: i64,
    attempt: &CodeAttempt<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<CodeCheck> {
    let id = attempt.order_id;
    let pending = verification::pending(db, id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("order {id} awaits a code it was never sent"))?;
    if pending.expires_at <= now {
        void_code(db, id, "the SMS code expired unconfirmed").await?;
        return Ok(CodeCheck::Expired);
    }
    let target = format!("order:{id}");
    let entry = |action, detail| audit::NewEntry {
        actor: attempt.actor,
        action,
        target: Some(&target),
        detail: Some(detail),
        source: Some(attempt.source),
    };
    let index = cipher.blind_index(&format!("sms:{id}:{}", attempt.code.trim()));
    if index == pending.code_index {
        let confirmed = confirm(db, id, attempt.actor, &entry("sms_confirmed", &json!({}))).await?;
        return Ok(if confirmed {
            CodeCheck::Confirmed
        } else {
            CodeCheck::MovedMeanwhile
        });
    }
    let attempts = verification::count_attempt(db, id).await?;
    audit::record(db, &entry("sms_code_wrong", &json!({"attempts": attempts}))).await?;
    if attempts >= max_attempts {
        void_code(db, id, "too many wrong SMS codes").await?;
        return Ok(CodeCheck::TooManyAttempts { attempts });
    }
    Ok(CodeCheck::Wrong {
        attempts_left: max_attempts - attempts,
    })
}

/// The code was confirmed: it is spent, the audit entry kept and the order goes on to the
/// bureau, in one transaction. False when another request moved the order first (nothing is
/// written).
pub async fn confirm(
    db: &Db,
    order_id: &str,
    actor: &str,
    entry: &audit::NewEntry<'_>,
) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    verification::finish(&mut tx, order_id).await?;
    audit::record(&mut *tx, entry).await?;
    let on = OrderState::SmsVerification.move_to(OrderState::BureauReview)?;
    if !orders::transition(
        &mut tx,
        order_id,
        on,
        actor,
        Some("SMS verification confirmed"),
    )
    .await?
    {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}

/// The order's SMS code is void and the order goes back to draft, in one transaction (a code
/// is never left void with the order still waiting for it).
pub async fn void_code(db: &Db, order_id: &str, note: &str) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    verification::finish(&mut tx, order_id).await?;
    orders::transition(
        &mut tx,
        order_id,
        OrderState::SmsVerification.move_to(OrderState::Draft)?,
        "system",
        Some(note),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
