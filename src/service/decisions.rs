//! Reviewers' and the bureau's decisions: on one material (with the first review it starts
//! and the order's readiness), a rejection of a whole order (by the first review or the
//! bureau) and the bureau's approval with its filing number. Each is one transaction, so a
//! material is never decided without its audit entry, an order never left rejected but not
//! back with the filer, or numbered but not approved.

use chrono::{DateTime, Datelike, Utc};

use crate::filing::rules::RuleBook;
use crate::filing::state::{OrderState, Step};
use crate::filing::verdict::Verdict;
use crate::sms::SmsGateway;
use crate::store::audit;
use crate::store::crypto::FieldCipher;
use crate::store::materials::{MaterialRow, Materials};
use crate::store::orders::OrderRecord;
use crate::store::tx::{Store, Tx};
use crate::store::verification::FilingNumber;

use super::sms_codes::SmsCode;
use super::{readiness, require};

/// A reviewer's decision on one material of `order`.
pub struct MaterialDecision<'a> {
    pub material: &'a MaterialRow,
    pub order: &'a OrderRecord,
    /// The material's verdict with the decision in it.
    pub verdict: &'a Verdict,
    /// Set when the material is asked for again: the order goes back to collecting, this
    /// in its history.
    pub asked_again: Option<&'a str>,
    pub actor: &'a str,
    pub audit: audit::NewEntry<'a>,
}

/// Records a reviewer's decision on a material: its verdict, the audit entry, the order's
/// first review started when it is in review (and the order back to collecting when the
/// material is asked for again), and the order's readiness. False when the material or the
/// order changed meanwhile; `NotNow` when the order's state allows no such decision; nothing
/// is written then.
pub async fn decide_material(
    store: &dyn Store,
    cipher: &FieldCipher,
    d: &MaterialDecision<'_>,
) -> anyhow::Result<bool> {
    let mut tx = store.begin().await?;
    if require(&mut *tx, &d.order.id, Step::DecideMaterial).await? != d.order.state {
        return Ok(false);
    }
    if !tx.update_verdict(&d.material.id, d.verdict).await? {
        return Ok(false);
    }
    tx.audit(&d.audit).await?;
    if matches!(
        d.order.state,
        OrderState::Submitted | OrderState::FirstReview
    ) {
        let Some(now) = start_first_review(&mut *tx, d.order, d.actor).await? else {
            return Ok(false);
        };
        if let Some(note) = d.asked_again {
            let back = now.move_to(OrderState::CollectingMaterials)?;
            if !tx
                .transition(&d.order.id, back, d.actor, Some(note))
                .await?
            {
                return Ok(false);
            }
        }
    }
    readiness::advance(&mut *tx, cipher, &d.order.id).await?;
    tx.commit().await?;
    Ok(true)
}

/// A submitted order is in first review from the first reviewer decision on it: its state
/// after that, None when another request moved it first.
pub async fn start_first_review(
    tx: &mut dyn Tx,
    order: &OrderRecord,
    actor: &str,
) -> anyhow::Result<Option<OrderState>> {
    if order.state != OrderState::Submitted {
        return Ok(Some(order.state));
    }
    let started = OrderState::Submitted.move_to(OrderState::FirstReview)?;
    let note = "first review started";
    Ok(tx
        .transition(&order.id, started, actor, Some(note))
        .await?
        .then_some(OrderState::FirstReview))
}

/// The bureau rejects: the order moves to rejected and on to the filer's draft; the reasons
/// stay in its history (`note`). `NotNow` unless the order is in the bureau's review.
pub async fn bureau_reject(
    store: &dyn Store,
    order_id: &str,
    actor: &str,
    note: &str,
    entry: &audit::NewEntry<'_>,
) -> anyhow::Result<bool> {
    let mut tx = store.begin().await?;
    let from = require(&mut *tx, order_id, Step::BureauDecision).await?;
    tx.audit(entry).await?;
    if !reject_in(&mut *tx, order_id, from, actor, note).await? {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}

async fn reject_in(
    tx: &mut dyn Tx,
    order_id: &str,
    from: OrderState,
    actor: &str,
    note: &str,
) -> anyhow::Result<bool> {
    let rejected = from.move_to(OrderState::Rejected)?;
    if !tx.transition(order_id, rejected, actor, Some(note)).await? {
        return Ok(false);
    }
    let back = OrderState::Rejected.move_to(OrderState::Draft)?;
    let note = "back to the filer to correct after the rejection";
    tx.transition(order_id, back, "system", Some(note)).await?;
    Ok(true)
}

/// How the first review of a whole order ends.
pub enum FirstReviewOutcome<'a> {
    /// On to the SMS verification, with the code's keyed hash and its deadline (the code
    /// itself is sent once this is recorded).
    Pass {
        code_index: &'a str,
        code_expires_at: DateTime<Utc>,
    },
    /// Rejected and back to the filer; the reasons in the history.
    Reject { note: &'a str },
}

/// A reviewer's decision on a whole order in first review.
pub struct OrderDecision<'a> {
    pub order: &'a OrderRecord,
    pub outcome: FirstReviewOutcome<'a>,
    pub actor: &'a str,
    pub audit: audit::NewEntry<'a>,
}

/// What a first review's decision came to.
#[derive(Debug, PartialEq)]
pub enum FirstReviewResult {
    /// Recorded (and on a pass, the code sent).
    Decided,
    /// A pass asked for while these required materials (`person:kind`) have not passed:
    /// nothing was written.
    MaterialsOpen(Vec<String>),
    /// Another request moved the order first: nothing was written.
    MovedMeanwhile,
}

/// What a first review's pass needs besides the store: the materials to check, the gateway
/// the code goes out through, and how long it is valid.
pub struct PassPorts<'a> {
    pub materials: &'a dyn Materials,
    pub sms: &'a dyn SmsGateway,
    pub cipher: &'a FieldCipher,
    pub rules: &'a RuleBook,
    pub code_valid_hours: u32,
}

/// The first review passes `order` when every required material has passed: a code is
/// drawn, the decision recorded with its keyed hash (`decide_first_review`), and the code
/// sent to the principal once that has committed.
pub async fn pass_first_review(
    store: &dyn Store,
    ports: &PassPorts<'_>,
    order: &OrderRecord,
    actor: &str,
    audit: audit::NewEntry<'_>,
) -> anyhow::Result<FirstReviewResult> {
    // Not now comes before which materials are open; the transaction checks again.
    Step::FirstReview.check(order.state)?;
    let latest = ports.materials.latest(&order.id).await?;
    let open: Vec<String> = readiness::material_status(order, &latest)
        .iter()
        .filter(|s| !s.passed())
        .map(|s| format!("{}:{}", s.required.person, s.required.kind.as_str()))
        .collect();
    if !open.is_empty() {
        return Ok(FirstReviewResult::MaterialsOpen(open));
    }
    let code = SmsCode::draw(ports.cipher, order, ports.code_valid_hours);
    let decision = OrderDecision {
        order,
        outcome: FirstReviewOutcome::Pass {
            code_index: &code.index,
            code_expires_at: code.expires_at,
        },
        actor,
        audit,
    };
    if !decide_first_review(store, &decision).await? {
        return Ok(FirstReviewResult::MovedMeanwhile);
    }
    code.send(ports.sms).await?;
    Ok(FirstReviewResult::Decided)
}

/// Records the first review's decision on an order: the review started if it had not, the
/// audit entry, and the order on to the SMS verification with its pending code, or rejected
/// and back to the filer. False when the order changed meanwhile; `NotNow` when it is not
/// in first review; nothing is written then.
pub async fn decide_first_review(store: &dyn Store, d: &OrderDecision<'_>) -> anyhow::Result<bool> {
    let mut tx = store.begin().await?;
    if require(&mut *tx, &d.order.id, Step::FirstReview).await? != d.order.state {
        return Ok(false);
    }
    let Some(now) = start_first_review(&mut *tx, d.order, d.actor).await? else {
        return Ok(false);
    };
    tx.audit(&d.audit).await?;
    let id = &d.order.id;
    let moved = match d.outcome {
        FirstReviewOutcome::Reject { note } => reject_in(&mut *tx, id, now, d.actor, note).await?,
        FirstReviewOutcome::Pass {
            code_index,
            code_expires_at,
        } => {
            let on = now.move_to(OrderState::SmsVerification)?;
            let note = "first review passed";
            let moved = tx.transition(id, on, d.actor, Some(note)).await?;
            tx.start_verification(id, code_index, code_expires_at)
                .await?;
            moved
        }
    };
    if !moved {
        return Ok(false);
    }
    tx.commit().await?;
    Ok(true)
}

/// The bureau approves: the order gets the next filing number of its province's prefix and
/// the year (each website `-N`) and is approved. None when another request moved it first;
/// `NotNow` unless it is in the bureau's review.
pub async fn approve(
    store: &dyn Store,
    rules: &RuleBook,
    record: &OrderRecord,
    actor: &str,
    entry: &audit::NewEntry<'_>,
) -> anyhow::Result<Option<FilingNumber>> {
    let province = &record.form.subject.province;
    let prefix = rules
        .province(province)
        .map(|p| p.icp_prefix.clone())
        .ok_or_else(|| anyhow::anyhow!("no ICP prefix for province {province}"))?;
    let websites = record.form.services.len();
    let year = crate::filing::today_in_china().year();
    let mut tx = store.begin().await?;
    require(&mut *tx, &record.id, Step::BureauDecision).await?;
    tx.audit(entry).await?;
    let number = tx.issue_number(&record.id, &prefix, year, websites).await?;
    let approved = OrderState::BureauReview.move_to(OrderState::Approved)?;
    let note = format!("filing number {}", number.number);
    if !tx
        .transition(&record.id, approved, actor, Some(&note))
        .await?
    {
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some(number))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filing::state::NotNow;
    use crate::service::sms_codes::{check_code, CodeAttempt};
    use crate::store::test_rows;
    use crate::store::tx::SqlStore;

    /// The services refuse a step the order's state does not allow on their own, inside
    /// their transaction, whoever calls them: nothing is written, not even the audit entry.
    #[tokio::test]
    async fn a_step_the_orders_state_does_not_allow_is_not_now_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(dir.path()).await.unwrap();
        test_rows::an_order_waiting_for_a_face(&db).await;
        let store = SqlStore(db.clone());
        let entry = audit::NewEntry {
            actor: "bureau",
            action: "bureau_decision",
            target: Some("order:o1"),
            detail: None,
            source: None,
        };
        let refused = bureau_reject(&store, "o1", "bureau", "reasons: x", &entry)
            .await
            .unwrap_err();
        assert_eq!(
            refused.downcast_ref::<NotNow>(),
            Some(&NotNow {
                state: OrderState::CollectingMaterials,
                step: Step::BureauDecision
            })
        );
        let cipher = FieldCipher::new(&[7; 32]);
        let attempt = CodeAttempt {
            order_id: "o1",
            code: "123456",
            actor: "filer:u1",
            source: "127.0.0.1",
        };
        let refused = check_code(&store, &cipher, 5, &attempt, Utc::now())
            .await
            .unwrap_err();
        assert_eq!(
            refused.downcast_ref::<NotNow>().map(|n| n.step),
            Some(Step::ConfirmSmsCode)
        );
        assert_eq!(test_rows::count(&db, "audit_log").await, 0);
        assert_eq!(test_rows::count(&db, "order_history").await, 0);
    }
}
