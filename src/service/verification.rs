//! Recording what judging a photo found: the verdict, the face template, the face match, the
//! upload session's completion and the order's readiness, in one transaction. A stop anywhere
//! in between leaves none of it written (the analysis job is then run again), never a
//! verdict recorded with the session or the order not moved on.

use chrono::{DateTime, Utc};

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
    readiness::advance(&mut *tx, cipher, order_id).await?;
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

#[cfg(test)]
mod tests {
    //! A stop between the verdict and the order's readiness, injected through the store
    //! trait: `Tx::order` (readiness reading the order, the step before its move) fails after
    //! the capture, its template and the session's completion were written in the same
    //! transaction.

    use chrono::Duration;

    use super::*;
    use crate::filing::materials::MaterialState;
    use crate::filing::state::{OrderState, Transition};
    use crate::store::audit::NewEntry;
    use crate::store::faces::Template;
    use crate::store::materials::NewMaterial;
    use crate::store::orders::OrderRecord;
    use crate::store::sessions::SessionRow;
    use crate::store::tx::SqlStore;
    use crate::store::verification::{FilingNumber, Pending};
    use crate::store::{test_rows, RepoFuture, StoreError};

    /// SQLite's store whose transactions fail when the order is read.
    struct FailsReadingTheOrder(SqlStore);

    struct FailingTx(Box<dyn Tx>);

    impl Store for FailsReadingTheOrder {
        fn begin(&self) -> RepoFuture<'_, Box<dyn Tx>> {
            Box::pin(async move { Ok(Box::new(FailingTx(self.0.begin().await?)) as Box<dyn Tx>) })
        }

        fn answers(&self) -> RepoFuture<'_, ()> {
            self.0.answers()
        }

        fn close(&self) -> RepoFuture<'_, ()> {
            self.0.close()
        }
    }

    impl Tx for FailingTx {
        fn order<'a>(
            &'a mut self,
            _: &'a FieldCipher,
            _: &'a str,
        ) -> RepoFuture<'a, Option<OrderRecord>> {
            Box::pin(async { Err(StoreError::Unreadable(anyhow::anyhow!("injected stop"))) })
        }
        fn order_state<'a>(&'a mut self, id: &'a str) -> RepoFuture<'a, Option<OrderState>> {
            self.0.order_state(id)
        }
        fn transition<'a>(
            &'a mut self,
            o: &'a str,
            t: Transition,
            a: &'a str,
            n: Option<&'a str>,
        ) -> RepoFuture<'a, bool> {
            self.0.transition(o, t, a, n)
        }
        fn material<'a>(&'a mut self, id: &'a str) -> RepoFuture<'a, Option<MaterialRow>> {
            self.0.material(id)
        }
        fn latest_materials<'a>(&'a mut self, o: &'a str) -> RepoFuture<'a, Vec<MaterialRow>> {
            self.0.latest_materials(o)
        }
        fn update_verdict<'a>(&'a mut self, m: &'a str, v: &'a Verdict) -> RepoFuture<'a, bool> {
            self.0.update_verdict(m, v)
        }
        fn update_checked<'a>(
            &'a mut self,
            m: &'a str,
            v: &'a Verdict,
            r: &'a str,
        ) -> RepoFuture<'a, ()> {
            self.0.update_checked(m, v, r)
        }
        fn audit<'a>(&'a mut self, e: &'a NewEntry<'a>) -> RepoFuture<'a, ()> {
            self.0.audit(e)
        }
        fn start_verification<'a>(
            &'a mut self,
            o: &'a str,
            c: &'a str,
            e: DateTime<Utc>,
        ) -> RepoFuture<'a, ()> {
            self.0.start_verification(o, c, e)
        }
        fn pending_verification<'a>(&'a mut self, o: &'a str) -> RepoFuture<'a, Option<Pending>> {
            self.0.pending_verification(o)
        }
        fn count_attempt<'a>(&'a mut self, o: &'a str) -> RepoFuture<'a, i64> {
            self.0.count_attempt(o)
        }
        fn finish_verification<'a>(&'a mut self, o: &'a str) -> RepoFuture<'a, ()> {
            self.0.finish_verification(o)
        }
        fn issue_number<'a>(
            &'a mut self,
            o: &'a str,
            p: &'a str,
            y: i32,
            w: usize,
        ) -> RepoFuture<'a, FilingNumber> {
            self.0.issue_number(o, p, y, w)
        }
        fn finish_analysis<'a>(
            &'a mut self,
            c: &'a JobClaim,
            v: &'a Verdict,
            r: Option<&'a str>,
            b: &'a str,
        ) -> RepoFuture<'a, ()> {
            self.0.finish_analysis(c, v, r, b)
        }
        fn insert_template<'a>(
            &'a mut self,
            m: &'a str,
            o: &'a str,
            p: &'a str,
            s: &'a str,
            e: &'a str,
        ) -> RepoFuture<'a, ()> {
            self.0.insert_template(m, o, p, s, e)
        }
        fn insert_capture<'a>(&'a mut self, c: &'a NewCapture<'a>) -> RepoFuture<'a, ()> {
            self.0.insert_capture(c)
        }
        fn latest_template<'a>(
            &'a mut self,
            o: &'a str,
            p: &'a str,
            s: &'a str,
        ) -> RepoFuture<'a, Option<Template>> {
            self.0.latest_template(o, p, s)
        }
        fn session<'a>(&'a mut self, id: &'a str) -> RepoFuture<'a, Option<SessionRow>> {
            self.0.session(id)
        }
        fn touch_session<'a>(
            &'a mut self,
            id: &'a str,
            s: SessionState,
            d: Option<&'a str>,
            e: DateTime<Utc>,
        ) -> RepoFuture<'a, ()> {
            self.0.touch_session(id, s, d, e)
        }
        fn set_session_state<'a>(&'a mut self, id: &'a str, s: SessionState) -> RepoFuture<'a, ()> {
            self.0.set_session_state(id, s)
        }
        fn commit(self: Box<Self>) -> RepoFuture<'static, ()> {
            self.0.commit()
        }
    }

    #[tokio::test]
    async fn a_stop_before_the_orders_move_leaves_nothing_of_the_capture_written() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(dir.path()).await.unwrap();
        test_rows::an_order_waiting_for_a_face(&db).await;
        let store = FailsReadingTheOrder(SqlStore(db.clone()));
        let cipher = FieldCipher::new(&[7; 32]);
        let verdict = Verdict::new(MaterialState::Pass, []);
        let material = NewMaterial {
            id: "m1",
            order_id: "o1",
            session_id: "s1",
            person: "subject",
            kind: "face",
            blob: "b1",
            sha256: "-",
            bytes: 1,
            idempotency_key: None,
        };
        let capture = NewCapture {
            material: &material,
            verdict: &verdict,
            template: Some("sealed"),
        };
        let judged = Judged::Captured {
            capture: &capture,
            idle_expires_at: Utc::now() + Duration::minutes(10),
        };
        let stopped = record_verdict(&store, &cipher, judged).await;
        // The stop comes after every write before readiness succeeded (a failure there
        // would be reported instead).
        let stop = format!("{:#}", stopped.expect_err("the injected stop is reported"));
        assert!(stop.contains("injected stop"), "{stop}");
        assert_eq!(test_rows::count(&db, "materials").await, 0);
        assert_eq!(test_rows::count(&db, "face_templates").await, 0);
        let session = test_rows::session_state(&db, "s1").await;
        assert_eq!(
            session, "scanned",
            "the session is neither touched nor completed"
        );
    }
}
