//! Where an order stands with its materials: what is required from whom, what the newest
//! upload of each says, and the moves that follow (collecting materials → ready and back).

use serde_json::{json, Value};

use crate::filing::crosscheck;
use crate::filing::division::Divisions;
use crate::filing::materials::{MaterialKind, MaterialState, RequiredMaterial};
use crate::filing::reading::{self, Document};
use crate::filing::state::OrderState;
use crate::filing::today_in_china;
use crate::inspect;
use crate::store::crypto::FieldCipher;
use crate::store::materials::{self, MaterialRow};
use crate::store::orders::OrderRecord;
use crate::store::tx::{Store, Tx};

/// Each required material with its newest upload, if any.
pub struct MaterialStatus {
    pub required: RequiredMaterial,
    pub latest: Option<MaterialRow>,
}

impl MaterialStatus {
    pub fn passed(&self) -> bool {
        self.latest
            .as_ref()
            .is_some_and(|m| m.state == MaterialState::Pass)
    }

    pub fn to_json(&self) -> Value {
        let mut v = json!({
            "person": self.required.person,
            "kind": self.required.kind,
            "state": self.latest.as_ref().map_or("missing", |m| m.state.as_str()),
        });
        if let Some(m) = &self.latest {
            v["material_id"] = json!(m.id);
            let verdict = m.verdict.as_ref();
            v["reasons"] = json!(verdict.map_or(&[][..], |x| &x.reasons));
            v["checks"] = json!(verdict.map_or(&[][..], |x| &x.checks));
            if let Some(review) = verdict.and_then(|x| x.review.as_ref()) {
                // What the reviewer decided and why, and the link asked for again.
                v["review"] = json!({
                    "decision": review["decision"],
                    "reasons": review["reasons"],
                    "upload_session_id": review["upload_session_id"],
                });
            }
            if let Some(matched) = verdict.and_then(|x| x.face_match.as_ref()) {
                // The face against the ID card portrait: the score and the threshold.
                v["match"] = matched.clone();
            }
            v["uploaded_at"] = json!(m.created_at);
        }
        v
    }
}

/// Each material `record` requires, with its newest upload among `latest` (the order's newest
/// upload of each person and kind, `latest_materials`).
pub fn material_status(record: &OrderRecord, latest: &[MaterialRow]) -> Vec<MaterialStatus> {
    let codes: Vec<&str> = record
        .findings
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str())
        .collect();
    crate::filing::materials::required(&record.form, &codes)
        .into_iter()
        .map(|required| {
            let latest = latest
                .iter()
                .find(|m| m.person == required.person && m.kind == required.kind.as_str())
                .cloned();
            MaterialStatus { required, latest }
        })
        .collect()
}

/// Moves the order between collecting_materials and ready as its materials pass or stop
/// passing. Returns the state it is in afterwards.
/// Runs the cross-checks of every newest reading again against the order as it is now: a
/// filer who corrects a mistyped ID number clears the `ocr_mismatch` it caused (and one who
/// introduces a typo gets it). Then the order moves as its materials now say. One
/// transaction: a reading is never left re-checked with the order not moved on.
pub async fn recheck_readings(
    store: &dyn Store,
    cipher: &FieldCipher,
    order_id: &str,
) -> anyhow::Result<()> {
    let mut tx = store.begin().await?;
    let Some(record) = tx.order(cipher, order_id).await? else {
        return Ok(());
    };
    for m in tx.latest_materials(order_id).await? {
        let (Some(stored), Some(mut verdict), Some(kind)) = (
            m.reading.as_deref(),
            m.verdict.clone(),
            MaterialKind::parse(&m.kind),
        ) else {
            continue;
        };
        if !m.state.is_standing() {
            continue;
        }
        let context = materials::reading_context(&m.id);
        let mut reading: Value = serde_json::from_slice(&cipher.decrypt(stored, &context)?)?;
        let Ok(document) = serde_json::from_value::<Document>(reading["document"].clone()) else {
            continue;
        };
        let outcome = crosscheck::check(
            kind,
            document,
            &reading::fields_from_json(&reading["fields"]),
            &inspect::typed_for(&record.form, &m.person),
            Divisions::embedded(),
            today_in_china(),
        );
        let before = reading["flags"].clone();
        inspect::apply_outcome(&outcome, &mut verdict, &mut reading);
        if reading["flags"] != before || verdict.verdict != m.state {
            let sealed = cipher.encrypt(reading.to_string().as_bytes(), &context);
            tx.update_checked(&m.id, &verdict, &sealed).await?;
        }
    }
    advance(&mut *tx, cipher, order_id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn advance(
    tx: &mut dyn Tx,
    cipher: &FieldCipher,
    order_id: &str,
) -> anyhow::Result<Option<OrderState>> {
    let Some(record) = tx.order(cipher, order_id).await? else {
        return Ok(None);
    };
    let latest = tx.latest_materials(order_id).await?;
    let complete = material_status(&record, &latest)
        .iter()
        .all(MaterialStatus::passed);
    let to = match (record.state, complete) {
        (OrderState::CollectingMaterials, true) => OrderState::Ready,
        (OrderState::Ready, false) => OrderState::CollectingMaterials,
        (state, _) => return Ok(Some(state)),
    };
    let note = if complete {
        "every required material passed"
    } else {
        "a required material no longer passes"
    };
    let t = record.state.move_to(to)?;
    tx.transition(order_id, t, "system", Some(note)).await?;
    Ok(Some(to))
}
