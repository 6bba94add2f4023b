//! Business processes that HTTP handlers and background workers both call. They take the
//! store and the ports they need, never the HTTP state.

pub mod accounts;
pub mod decisions;
pub mod face_match;
pub mod readiness;
pub mod registry;
pub mod sms_codes;
pub mod verification;

use crate::filing::state::{OrderState, Step};
use crate::store::tx::Tx;

/// The order's state, read in the step's transaction, when it allows `step`; the error is
/// `NotNow` when it does not.
pub(crate) async fn require(
    tx: &mut dyn Tx,
    order_id: &str,
    step: Step,
) -> anyhow::Result<OrderState> {
    let state = tx
        .order_state(order_id)
        .await?
        .ok_or_else(|| anyhow::anyhow!("order {order_id} is gone"))?;
    step.check(state)?;
    Ok(state)
}
