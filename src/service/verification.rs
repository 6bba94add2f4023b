//! Recording what judging a photo found: the verdict, the face template, the face match, the
//! upload session's completion and the order's readiness, in one transaction. A stop anywhere
//! in between leaves none of it written (the analysis job is then run again), never a
//! verdict recorded with the session or the order not moved on.

use chrono::{DateTime, Utc};

use crate::filing::rules::RuleBook;
use crate::filing::upload_session::SessionState;
use crate::filing::verdict::Verdict;
use crate::service::face_match;
use crate::service::readiness;
use crate::store::crypto::FieldCipher;
use crate::store::faces::NewCapture;
use crate::store::jobs::JobClaim;
use crate::store::materials::MaterialRow;
use crate::store::tx::{Store, Tx};

/// A photo judged, with what its judging wrote.
pub enum Judged<'a> {
    /// An uploaded photo the analysis worker judged.
    Analysed {
        /// The job's claim: a worker whose lease ran out records nothing.
        job: &'a JobClaim,
        material: &'a MaterialRow,
        verdict: &'a Verdict,
        /// Ciphertext of what OCR read.
        reading: Option<&'a str>,
        /// The stored copy that replaces the upload.
        blob: &'a str,
        /// Ciphertext of the card portrait's embedding, when one was found and the card kept.
        card_template: Option<&'a str>,
    },
    /// A liveness capture, judged on arrival (it has no analysis job).
    Captured {
        capture: &'a NewCapture<'a>,
        idle_expires_at: DateTime<Utc>,
    },
}

/// Records `judged` and moves on everything that follows from it, in one transaction.
pub async fn record_verdict(
    store: &dyn Store,
    cipher: &FieldCipher,
    rules: &RuleBook,
    judged: Judged<'_>,
) -> anyhow::Result<()> {
    let mut tx = store.begin().await?;
    let (order_id, person, session_id, new_template) = match judged {
        Judged::Analysed {
            job,
            material,
            verdict,
            reading,
            blob,
            card_template,
        } => {
            tx.finish_analysis(job, verdict, reading, blob).await?;
            if let Some(template) = card_template {
                tx.insert_template(
                    &material.id,
                    &material.order_id,
                    &material.person,
                    "card",
                    template,
                )
                .await?;
            }
            (
                material.order_id.as_str(),
                material.person.as_str(),
                material.session_id.as_deref(),
                card_template.is_some(),
            )
        }
        Judged::Captured {
            capture,
            idle_expires_at,
        } => {
            let m = capture.material;
            tx.insert_capture(capture).await?;
            tx.touch_session(m.session_id, SessionState::Uploading, None, idle_expires_at)
                .await?;
            (m.order_id, m.person, Some(m.session_id), true)
        }
    };
    // A new live face or card portrait is matched against the other one.
    if new_template {
        face_match::reconcile(&mut *tx, cipher, order_id, person).await?;
    }
    if let Some(session_id) = session_id {
        complete_session_if_done(&mut *tx, session_id).await?;
    }
    readiness::advance(&mut *tx, cipher, rules, order_id).await?;
    tx.commit().await?;
    Ok(())
}

/// A session is completed when every material it asked for has a passing upload.
async fn complete_session_if_done(tx: &mut dyn Tx, session_id: &str) -> anyhow::Result<()> {
    let Some(session) = tx.session(session_id).await? else {
        return Ok(());
    };
    let latest = tx.latest_materials(&session.order_id).await?;
    let done = session.still_required(&latest).is_empty();
    if done && !session.state.is_final() {
        tx.set_session_state(session_id, SessionState::Completed)
            .await?;
    }
    Ok(())
}
