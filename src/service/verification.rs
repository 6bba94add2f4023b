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
use crate::store::faces::{self, NewCapture};
use crate::store::jobs::{self, JobClaim};
use crate::store::materials::{self, MaterialRow};
use crate::store::sessions;
use crate::store::{Conn, Db};

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
    db: &Db,
    cipher: &FieldCipher,
    rules: &RuleBook,
    judged: Judged<'_>,
) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let (order_id, person, session_id, new_template) = match judged {
        Judged::Analysed {
            job,
            material,
            verdict,
            reading,
            blob,
            card_template,
        } => {
            jobs::finish_analysis(&mut tx, job, verdict, reading, blob).await?;
            if let Some(template) = card_template {
                faces::insert_template(
                    &mut *tx,
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
            faces::insert_capture(&mut tx, capture).await?;
            sessions::touch_session(
                &mut tx,
                m.session_id,
                SessionState::Uploading,
                None,
                idle_expires_at,
            )
            .await?;
            (m.order_id, m.person, Some(m.session_id), true)
        }
    };
    // A new live face or card portrait is matched against the other one.
    if new_template {
        face_match::reconcile(&mut tx, cipher, order_id, person).await?;
    }
    if let Some(session_id) = session_id {
        complete_session_if_done(&mut tx, session_id).await?;
    }
    readiness::advance(&mut tx, cipher, rules, order_id).await?;
    tx.commit().await?;
    Ok(())
}

/// A session is completed when every material it asked for has a passing upload.
async fn complete_session_if_done(conn: &mut Conn, session_id: &str) -> anyhow::Result<()> {
    let Some(session) = sessions::session_by_id(conn, session_id).await? else {
        return Ok(());
    };
    let latest = materials::latest_materials(conn, &session.order_id).await?;
    let done = session.still_required(&latest).is_empty();
    if done && !session.state.is_final() {
        sessions::set_session_state(conn, session_id, SessionState::Completed).await?;
    }
    Ok(())
}
