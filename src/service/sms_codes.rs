//! The SMS verification step's way out when the code is not confirmed.

use crate::filing::state::OrderState;
use crate::store::{orders, verification, Db};

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
