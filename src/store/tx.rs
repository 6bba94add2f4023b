//! The store's transactions: what a business step that writes several tables at once holds
//! (`service::decisions`, `service::verification`, `service::sms_codes`, the readiness and
//! face-match rules they run). The services see one transaction behind `dyn Tx`, whichever
//! engine opened it; each engine's `Store` opens its own kind. Dropping a `Tx` without
//! `commit` rolls everything back, so a step that stops half-way writes nothing.

use chrono::{DateTime, Utc};

use super::audit::NewEntry;
use super::crypto::FieldCipher;
use super::faces::{NewCapture, Template};
use super::jobs::JobClaim;
use super::materials::MaterialRow;
use super::orders::OrderRecord;
use super::sessions::SessionRow;
use super::verification::{FilingNumber, Pending};
use super::{Db, Engine, RepoFuture, StoreError};
use crate::filing::state::{OrderState, Transition};
use crate::filing::upload_session::SessionState;
use crate::filing::verdict::Verdict;

/// Opens transactions (`Arc<dyn Store>` in the service's state), one implementation per
/// engine.
pub trait Store: Send + Sync {
    fn begin(&self) -> RepoFuture<'_, Box<dyn Tx>>;
    /// Ok when the database answers (the readiness check).
    fn answers(&self) -> RepoFuture<'_, ()>;
    /// Closes the connections, waiting for those in use to be given back.
    fn close(&self) -> RepoFuture<'_, ()>;
}

/// The repository calls the transactional business steps make, all inside one transaction.
pub trait Tx: Send {
    /// The order, decrypted.
    fn order<'a>(
        &'a mut self,
        cipher: &'a FieldCipher,
        id: &'a str,
    ) -> RepoFuture<'a, Option<OrderRecord>>;
    /// The order's state, read inside the transaction (what a step checks it may take).
    fn order_state<'a>(&'a mut self, id: &'a str) -> RepoFuture<'a, Option<OrderState>>;
    /// Makes the move if the order is still where it starts and records it in the order's
    /// history; false when another request moved the order first.
    fn transition<'a>(
        &'a mut self,
        order_id: &'a str,
        t: Transition,
        actor: &'a str,
        note: Option<&'a str>,
    ) -> RepoFuture<'a, bool>;

    fn material<'a>(&'a mut self, id: &'a str) -> RepoFuture<'a, Option<MaterialRow>>;
    /// The newest upload of each (person, kind) of the order.
    fn latest_materials<'a>(&'a mut self, order_id: &'a str) -> RepoFuture<'a, Vec<MaterialRow>>;
    /// A material's new verdict, if it is still `pass` or `flagged`; false when it was not.
    fn update_verdict<'a>(
        &'a mut self,
        material_id: &'a str,
        verdict: &'a Verdict,
    ) -> RepoFuture<'a, bool>;
    /// A material's verdict and reading after its cross-checks ran again.
    fn update_checked<'a>(
        &'a mut self,
        material_id: &'a str,
        verdict: &'a Verdict,
        reading: &'a str,
    ) -> RepoFuture<'a, ()>;

    fn audit<'a>(&'a mut self, entry: &'a NewEntry<'a>) -> RepoFuture<'a, ()>;

    /// The order's pending SMS code (its keyed hash) and deadline.
    fn start_verification<'a>(
        &'a mut self,
        order_id: &'a str,
        code_index: &'a str,
        expires_at: DateTime<Utc>,
    ) -> RepoFuture<'a, ()>;
    /// The order's pending SMS code, if one was sent.
    fn pending_verification<'a>(&'a mut self, order_id: &'a str)
        -> RepoFuture<'a, Option<Pending>>;
    /// Counts a wrong code; the attempts so far.
    fn count_attempt<'a>(&'a mut self, order_id: &'a str) -> RepoFuture<'a, i64>;
    /// The pending code is spent or void.
    fn finish_verification<'a>(&'a mut self, order_id: &'a str) -> RepoFuture<'a, ()>;
    /// The next filing number of `prefix` and `year`, and one per website.
    fn issue_number<'a>(
        &'a mut self,
        order_id: &'a str,
        prefix: &'a str,
        year: i32,
        websites: usize,
    ) -> RepoFuture<'a, FilingNumber>;

    /// Closes an analysis job with its verdict; `StoreError::LeaseLost` when its lease ran out.
    fn finish_analysis<'a>(
        &'a mut self,
        claim: &'a JobClaim,
        verdict: &'a Verdict,
        reading: Option<&'a str>,
        blob: &'a str,
    ) -> RepoFuture<'a, ()>;

    fn insert_template<'a>(
        &'a mut self,
        material_id: &'a str,
        order_id: &'a str,
        person: &'a str,
        source: &'a str,
        embedding: &'a str,
    ) -> RepoFuture<'a, ()>;
    /// A judged liveness capture: its material and face template.
    fn insert_capture<'a>(&'a mut self, capture: &'a NewCapture<'a>) -> RepoFuture<'a, ()>;
    /// The person's newest face template from `source` (`live` or `card`).
    fn latest_template<'a>(
        &'a mut self,
        order_id: &'a str,
        person: &'a str,
        source: &'a str,
    ) -> RepoFuture<'a, Option<Template>>;

    fn session<'a>(&'a mut self, id: &'a str) -> RepoFuture<'a, Option<SessionRow>>;
    fn touch_session<'a>(
        &'a mut self,
        id: &'a str,
        state: SessionState,
        device_hash: Option<&'a str>,
        idle_expires_at: DateTime<Utc>,
    ) -> RepoFuture<'a, ()>;
    fn set_session_state<'a>(&'a mut self, id: &'a str, state: SessionState) -> RepoFuture<'a, ()>;

    fn commit(self: Box<Self>) -> RepoFuture<'static, ()>;
}

/// The PostgreSQL advisory lock key the business steps take (any constant; ours is "beian"
/// in ASCII).
const BUSINESS_STEP_LOCK: i64 = 0x62_65_69_61_6e;

/// `Store` in SQL, on either engine.
pub struct SqlStore(pub Db);

impl Store for SqlStore {
    /// Business steps run one at a time, on both engines. Every `Tx` is a step that writes,
    /// and most read first (the readings re-checked, then the order moved; the attempts
    /// counted, then the code spent). On SQLite, `BEGIN IMMEDIATE` takes the write lock at
    /// the start (a deferred `BEGIN` would fail on its first write when another connection
    /// wrote in between), waiting up to the busy timeout. On PostgreSQL a transaction-scoped
    /// advisory lock does the same for the steps, while single-statement writes outside a
    /// step (uploads, polls) go on beside them, each conditional on the row's state.
    fn begin(&self) -> RepoFuture<'_, Box<dyn Tx>> {
        Box::pin(async move {
            let tx = match Engine::of(&self.0) {
                Engine::Sqlite => self.0.begin_with("BEGIN IMMEDIATE").await?,
                Engine::Postgres => {
                    let mut tx = self.0.begin().await?;
                    sqlx::query("SELECT 1 FROM pg_advisory_xact_lock($1)")
                        .bind(BUSINESS_STEP_LOCK)
                        .execute(&mut *tx)
                        .await?;
                    tx
                }
            };
            Ok(Box::new(SqlTx(tx)) as Box<dyn Tx>)
        })
    }

    fn answers(&self) -> RepoFuture<'_, ()> {
        Box::pin(async move {
            sqlx::query("SELECT 1").execute(&self.0).await?;
            Ok(())
        })
    }

    fn close(&self) -> RepoFuture<'_, ()> {
        Box::pin(async move {
            self.0.close().await;
            Ok(())
        })
    }
}

/// `Tx` in SQL, on either engine: the repository functions of each table group, on one transaction.
pub struct SqlTx(sqlx::Transaction<'static, sqlx::Any>);

impl Tx for SqlTx {
    fn order<'a>(
        &'a mut self,
        cipher: &'a FieldCipher,
        id: &'a str,
    ) -> RepoFuture<'a, Option<OrderRecord>> {
        Box::pin(async move {
            super::orders::get(&mut self.0, cipher, id, None)
                .await
                .map_err(StoreError::Unreadable)
        })
    }

    fn order_state<'a>(&'a mut self, id: &'a str) -> RepoFuture<'a, Option<OrderState>> {
        Box::pin(super::orders::state(&mut self.0, id))
    }

    fn transition<'a>(
        &'a mut self,
        order_id: &'a str,
        t: Transition,
        actor: &'a str,
        note: Option<&'a str>,
    ) -> RepoFuture<'a, bool> {
        Box::pin(super::orders::transition(
            &mut self.0,
            order_id,
            t,
            actor,
            note,
        ))
    }

    fn material<'a>(&'a mut self, id: &'a str) -> RepoFuture<'a, Option<MaterialRow>> {
        Box::pin(super::materials::material(&mut self.0, id))
    }

    fn latest_materials<'a>(&'a mut self, order_id: &'a str) -> RepoFuture<'a, Vec<MaterialRow>> {
        Box::pin(super::materials::latest_materials(&mut self.0, order_id))
    }

    fn update_verdict<'a>(
        &'a mut self,
        material_id: &'a str,
        verdict: &'a Verdict,
    ) -> RepoFuture<'a, bool> {
        Box::pin(super::materials::update_verdict(
            &mut self.0,
            material_id,
            verdict,
        ))
    }

    fn update_checked<'a>(
        &'a mut self,
        material_id: &'a str,
        verdict: &'a Verdict,
        reading: &'a str,
    ) -> RepoFuture<'a, ()> {
        Box::pin(super::materials::update_checked(
            &mut self.0,
            material_id,
            verdict,
            reading,
        ))
    }

    fn audit<'a>(&'a mut self, entry: &'a NewEntry<'a>) -> RepoFuture<'a, ()> {
        Box::pin(super::audit::record(&mut *self.0, entry))
    }

    fn start_verification<'a>(
        &'a mut self,
        order_id: &'a str,
        code_index: &'a str,
        expires_at: DateTime<Utc>,
    ) -> RepoFuture<'a, ()> {
        Box::pin(super::verification::start(
            &mut self.0,
            order_id,
            code_index,
            expires_at,
        ))
    }

    fn pending_verification<'a>(
        &'a mut self,
        order_id: &'a str,
    ) -> RepoFuture<'a, Option<Pending>> {
        Box::pin(super::verification::pending(&mut self.0, order_id))
    }

    fn count_attempt<'a>(&'a mut self, order_id: &'a str) -> RepoFuture<'a, i64> {
        Box::pin(super::verification::count_attempt(&mut self.0, order_id))
    }

    fn finish_verification<'a>(&'a mut self, order_id: &'a str) -> RepoFuture<'a, ()> {
        Box::pin(super::verification::finish(&mut self.0, order_id))
    }

    fn issue_number<'a>(
        &'a mut self,
        order_id: &'a str,
        prefix: &'a str,
        year: i32,
        websites: usize,
    ) -> RepoFuture<'a, FilingNumber> {
        Box::pin(super::verification::issue_number(
            &mut self.0,
            order_id,
            prefix,
            year,
            websites,
        ))
    }

    fn finish_analysis<'a>(
        &'a mut self,
        claim: &'a JobClaim,
        verdict: &'a Verdict,
        reading: Option<&'a str>,
        blob: &'a str,
    ) -> RepoFuture<'a, ()> {
        Box::pin(super::jobs::finish_analysis(
            &mut self.0,
            claim,
            verdict,
            reading,
            blob,
        ))
    }

    fn insert_template<'a>(
        &'a mut self,
        material_id: &'a str,
        order_id: &'a str,
        person: &'a str,
        source: &'a str,
        embedding: &'a str,
    ) -> RepoFuture<'a, ()> {
        Box::pin(super::faces::insert_template(
            &mut *self.0,
            material_id,
            order_id,
            person,
            source,
            embedding,
        ))
    }

    fn insert_capture<'a>(&'a mut self, capture: &'a NewCapture<'a>) -> RepoFuture<'a, ()> {
        Box::pin(super::faces::insert_capture(&mut self.0, capture))
    }

    fn latest_template<'a>(
        &'a mut self,
        order_id: &'a str,
        person: &'a str,
        source: &'a str,
    ) -> RepoFuture<'a, Option<Template>> {
        Box::pin(super::faces::latest_template(
            &mut self.0,
            order_id,
            person,
            source,
        ))
    }

    fn session<'a>(&'a mut self, id: &'a str) -> RepoFuture<'a, Option<SessionRow>> {
        Box::pin(super::sessions::session_by_id(&mut self.0, id))
    }

    fn touch_session<'a>(
        &'a mut self,
        id: &'a str,
        state: SessionState,
        device_hash: Option<&'a str>,
        idle_expires_at: DateTime<Utc>,
    ) -> RepoFuture<'a, ()> {
        Box::pin(super::sessions::touch_session(
            &mut self.0,
            id,
            state,
            device_hash,
            idle_expires_at,
        ))
    }

    fn set_session_state<'a>(&'a mut self, id: &'a str, state: SessionState) -> RepoFuture<'a, ()> {
        Box::pin(super::sessions::set_session_state(&mut self.0, id, state))
    }

    fn commit(self: Box<Self>) -> RepoFuture<'static, ()> {
        Box::pin(async move { Ok(self.0.commit().await?) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(action: &str) -> NewEntry<'_> {
        NewEntry {
            actor: "test",
            action,
            target: None,
            detail: None,
            source: None,
        }
    }

    async fn audit_rows(db: &Db) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_step_dropped_before_its_commit_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(dir.path()).await.unwrap();
        let store = SqlStore(db.clone());
        let mut tx = store.begin().await.unwrap();
        tx.audit(&entry("dropped")).await.unwrap();
        drop(tx);
        assert_eq!(audit_rows(&db).await, 0);
        let mut tx = store.begin().await.unwrap();
        tx.audit(&entry("kept")).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(audit_rows(&db).await, 1);
    }

    /// A step that reads before it writes, while another connection writes in between: the
    /// other write waits for the step instead of the step failing on its first write (as a
    /// plain deferred `BEGIN` would, with SQLITE_BUSY).
    #[tokio::test]
    async fn a_step_that_reads_first_is_not_failed_by_a_write_in_between() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(dir.path()).await.unwrap();
        let store = SqlStore(db.clone());
        let mut tx = store.begin().await.unwrap();
        assert!(tx.latest_materials("o1").await.unwrap().is_empty());
        let other = tokio::spawn({
            let db = db.clone();
            async move { crate::store::audit::record(&db, &entry("in between")).await }
        });
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        tx.audit(&entry("the step")).await.unwrap();
        tx.commit().await.unwrap();
        other.await.unwrap().unwrap();
        assert_eq!(audit_rows(&db).await, 2);
    }
}
