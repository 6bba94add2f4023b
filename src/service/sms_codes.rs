//! The SMS verification step: a code drawn and sent, a code the filer enters checked, and
//! its two ends, the code confirmed or void.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::json;

use crate::filing::mobile::MobileNumber;
use crate::filing::state::{OrderState, Step};
use crate::sms::SmsGateway;
use crate::store::audit;
use crate::store::crypto::FieldCipher;
use crate::store::orders::OrderRecord;
use crate::store::tx::{Store, Tx};

/// A six-digit code for the principal's mobile, kept only as a keyed hash (`index`) for
/// `valid_hours`.
pub struct SmsCode {
    code: String,
    mobile: MobileNumber,
    pub index: String,
    pub expires_at: DateTime<Utc>,
    valid_hours: u32,
}

impl SmsCode {
    /// A fresh code for `order`'s principal.
    pub fn draw(cipher: &FieldCipher, order: &OrderRecord, valid_hours: u32) -> Self {
        let mobile = order.form.subject.principal.mobile.clone();
        let code = format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000));
        SmsCode {
            index: cipher.blind_index(&format!("sms:{}:{code}", order.id)),
            expires_at: Utc::now() + Duration::hours(i64::from(valid_hours)),
            code,
            mobile,
            valid_hours,
        }
    }

    /// Sent once its hash is recorded.
    pub async fn send(self, sms: &dyn SmsGateway) -> anyhow::Result<()> {
        let body = format!(
            "【ICP备案】您的备案短信核验码为{}，请在{}小时内登录备案系统完成核验。",
            self.code, self.valid_hours
        );
        sms.send(&self.mobile, &body).await
    }
}

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

/// Checks the code entered for an order in SMS verification, in one transaction: a right
/// code confirms it (the order on to the bureau), a wrong one is counted and audited, and an
/// expired code or the `max_attempts`-th wrong one makes the code void (the order back in
/// draft). `NotNow` when the order is not waiting for a code.
pub async fn check_code(
    store: &dyn Store,
    cipher: &FieldCipher,
    max_attempts: i64,
    attempt: &CodeAttempt<'_>,
    now: DateTime<Utc>,
) -> anyhow::Result<CodeCheck> {
    let id = attempt.order_id;
    let mut tx = store.begin().await?;
    super::require(&mut *tx, id, Step::ConfirmSmsCode).await?;
    let pending = tx
        .pending_verification(id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("order {id} awaits a code it was never sent"))?;
    if pending.expires_at <= now {
        void_in(&mut *tx, id, "the SMS code expired unconfirmed").await?;
        tx.commit().await?;
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
        tx.finish_verification(id).await?;
        tx.audit(&entry("sms_confirmed", &json!({}))).await?;
        let on = OrderState::SmsVerification.move_to(OrderState::BureauReview)?;
        let note = Some("SMS verification confirmed");
        if !tx.transition(id, on, attempt.actor, note).await? {
            return Ok(CodeCheck::MovedMeanwhile);
        }
        tx.commit().await?;
        return Ok(CodeCheck::Confirmed);
    }
    let attempts = tx.count_attempt(id).await?;
    tx.audit(&entry("sms_code_wrong", &json!({"attempts": attempts})))
        .await?;
    let outcome = if attempts >= max_attempts {
        void_in(&mut *tx, id, "too many wrong SMS codes").await?;
        CodeCheck::TooManyAttempts { attempts }
    } else {
        CodeCheck::Wrong {
            attempts_left: max_attempts - attempts,
        }
    };
    tx.commit().await?;
    Ok(outcome)
}

/// The order's SMS code is void and the order goes back to draft, in one transaction (a code
/// is never left void with the order still waiting for it).
pub async fn void_code(store: &dyn Store, order_id: &str, note: &str) -> anyhow::Result<()> {
    let mut tx = store.begin().await?;
    void_in(&mut *tx, order_id, note).await?;
    tx.commit().await?;
    Ok(())
}

async fn void_in(tx: &mut dyn Tx, order_id: &str, note: &str) -> anyhow::Result<()> {
    tx.finish_verification(order_id).await?;
    let back = OrderState::SmsVerification.move_to(OrderState::Draft)?;
    tx.transition(order_id, back, "system", Some(note)).await?;
    Ok(())
}
