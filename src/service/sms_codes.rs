//! The SMS verification step's two ends: the code confirmed, or void.

use crate::filing::state::OrderState;
use crate::store::{audit, orders, verification, Db};

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
