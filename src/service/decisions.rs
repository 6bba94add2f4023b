//! Decisions on a whole order that end or finish it: a rejection (by the first review or the
//! bureau) and the bureau's approval with its filing number. Each is one transaction, so an
//! order is never left rejected but not back with the filer, or numbered but not approved.

use chrono::Datelike;

use crate::filing::rules::RuleBook;
use crate::filing::state::OrderState;
use crate::store::orders::{self, OrderRecord};
use crate::store::verification::{self, FilingNumber};
use crate::store::Db;

/// The order moves from `from` to rejected and on to the filer's draft; the reasons stay in
/// its history (`note`). False when another request moved the order first.
pub async fn reject(
    db: &Db,
    order_id: &str,
    from: OrderState,
    actor: &str,
    note: &str,
) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    let rejected = from.move_to(OrderState::Rejected)?;
    if !orders::transition(&mut tx, order_id, rejected, actor, Some(note)).await? {
        return Ok(false);
    }
    let back = OrderState::Rejected.move_to(OrderState::Draft)?;
    let note = "back to the filer to correct after the rejection";
    orders::transition(&mut tx, order_id, back, "system", Some(note)).await?;
    tx.commit().await?;
    Ok(true)
}

/// The bureau approves: the order gets the next filing number of its province's prefix and
/// the year (each website `-N`) and is approved. None when another request moved it first.
pub async fn approve(
    db: &Db,
    rules: &RuleBook,
    record: &OrderRecord,
    actor: &str,
) -> anyhow::Result<Option<FilingNumber>> {
    // The subject's division code; its first two digits are the province.
    let division = record.form["subject"]["province"]
        .as_str()
        .unwrap_or_default();
    let province = division.get(..2).unwrap_or_default();
    let prefix = rules
        .province(province)
        .map(|p| p.icp_prefix.clone())
        .ok_or_else(|| anyhow::anyhow!("no ICP prefix for province {province}"))?;
    let websites = record.form["services"].as_array().map_or(0, Vec::len);
    let year = crate::filing::today_in_china().year();
    let mut tx = db.begin().await?;
    let number = verification::issue_number(&mut tx, &record.id, &prefix, year, websites).await?;
    let approved = OrderState::BureauReview.move_to(OrderState::Approved)?;
    let note = format!("filing number {}", number.number);
    if !orders::transition(&mut tx, &record.id, approved, actor, Some(&note)).await? {
        return Ok(None);
    }
    tx.commit().await?;
    Ok(Some(number))
}
