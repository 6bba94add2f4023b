//! The face match: a person's live capture against the portrait on their ID card front,
//! whichever of the two arrives last. Below `SAME_PERSON` the capture is `flagged:
//! face_mismatch` with the score; a later capture or card that matches clears it.

use serde_json::json;

use crate::filing::materials::MaterialState;
use crate::filing::reason::ReasonCode;
use crate::store::crypto::FieldCipher;
use crate::store::faces::{self, template_context};
use crate::store::tx::Tx;
use crate::vision::face::{Embedding, SAME_PERSON};

fn decrypt(cipher: &FieldCipher, t: &faces::Template) -> anyhow::Result<Embedding> {
    let bytes = cipher.decrypt(&t.embedding, &template_context(&t.material_id))?;
    Embedding::from_bytes(&bytes).ok_or_else(|| anyhow::anyhow!("a stored template is damaged"))
}

pub async fn reconcile(
    tx: &mut dyn Tx,
    cipher: &FieldCipher,
    order_id: &str,
    person: &str,
) -> anyhow::Result<()> {
    let (Some(live), Some(card)) = (
        tx.latest_template(order_id, person, "live").await?,
        tx.latest_template(order_id, person, "card").await?,
    ) else {
        return Ok(());
    };
    let Some(material) = tx.material(&live.material_id).await? else {
        return Ok(());
    };
    if !material.state.is_standing() {
        return Ok(());
    }
    let score = decrypt(cipher, &live)?.cosine(&decrypt(cipher, &card)?);
    let mut verdict = material.current_verdict();
    verdict.reasons.retain(|&r| r != ReasonCode::FaceMismatch);
    let matched = score >= SAME_PERSON;
    if !matched {
        verdict.reasons.push(ReasonCode::FaceMismatch);
    }
    verdict.verdict = if verdict.reasons.is_empty() {
        MaterialState::Pass
    } else {
        MaterialState::Flagged
    };
    verdict.face_match = Some(json!({
        "card_material_id": card.material_id,
        "score": (f64::from(score) * 1000.0).round() / 1000.0,
        "threshold": SAME_PERSON,
        "ok": matched,
    }));
    tx.update_verdict(&material.id, &verdict).await?;
    tracing::info!(material = %material.id, score, matched, "face matched against the card portrait");
    Ok(())
}
