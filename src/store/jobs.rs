//! The analysis job queue: claim with a lease, renew it, finish, fail and retry. A job whose
//! worker stopped is claimed again when its lease runs out.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{Connection, Row};

use super::{Conn, Db, Engine, RepoFuture};
use crate::filing::materials::MaterialState;
use crate::filing::reason::ReasonCode;
use crate::filing::verdict::Verdict;

/// A job claimed by one worker: only this claim can renew its lease or close it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct JobClaim {
    pub material_id: String,
    claim: String,
}

/// The queue's side that the analysis workers and the intake hold (`Arc<dyn JobQueue>`), one
/// implementation per engine. A job is closed with its verdict by `finish_analysis`, inside
/// the transaction that records the verdict.
pub trait JobQueue: Send + Sync {
    /// Claims the oldest job that is queued or whose lease ran out (its worker stopped or
    /// was killed), leased for `lease`; None when there is none.
    fn claim(&self, lease: Duration) -> RepoFuture<'_, Option<JobClaim>>;
    /// Extends the lease of a job still held by `claim`; false when it is not (the lease
    /// ran out and another worker took the job, or it was closed).
    fn renew<'a>(&'a self, claim: &'a JobClaim, lease: Duration) -> RepoFuture<'a, bool>;
    /// Hands a job back to the queue at a graceful stop, without counting the attempt: the
    /// next worker need not wait for the lease to run out. Nothing changes when `claim` no
    /// longer holds the job (it was closed, or another worker took it).
    fn release<'a>(&'a self, claim: &'a JobClaim) -> RepoFuture<'a, bool>;
    /// After a failed analysis: queue the job again, or after `max_attempts` give up and
    /// hand the material to a person (`flagged`). Returns true when it gave up; nothing is
    /// changed when `claim` no longer holds the job (its current holder decides).
    fn fail<'a>(
        &'a self,
        claim: &'a JobClaim,
        max_attempts: i64,
        error: &'a str,
    ) -> RepoFuture<'a, bool>;
    /// Jobs not done yet (queued or running).
    fn unfinished(&self) -> RepoFuture<'_, i64>;
}

/// `JobQueue` in SQL, on either engine.
pub struct SqlJobs(pub Db);

impl JobQueue for SqlJobs {
    fn claim(&self, lease: Duration) -> RepoFuture<'_, Option<JobClaim>> {
        Box::pin(claim_job(&self.0, lease))
    }

    fn renew<'a>(&'a self, claim: &'a JobClaim, lease: Duration) -> RepoFuture<'a, bool> {
        Box::pin(renew_lease(&self.0, claim, lease))
    }

    fn release<'a>(&'a self, claim: &'a JobClaim) -> RepoFuture<'a, bool> {
        Box::pin(release(&self.0, claim))
    }

    fn fail<'a>(
        &'a self,
        claim: &'a JobClaim,
        max_attempts: i64,
        error: &'a str,
    ) -> RepoFuture<'a, bool> {
        Box::pin(fail_job(&self.0, claim, max_attempts, error))
    }

    fn unfinished(&self) -> RepoFuture<'_, i64> {
        Box::pin(async move {
            Ok(
                sqlx::query("SELECT COUNT(*) AS n FROM analysis_jobs WHERE state != 'done'")
                    .fetch_one(&self.0)
                    .await?
                    .try_get("n")?,
            )
        })
    }
}

async fn claim_job(db: &Db, lease: Duration) -> super::Result<Option<JobClaim>> {
    let now = Utc::now();
    let claim = uuid::Uuid::new_v4().simple().to_string();
    let until = leased_until(now, lease);
    // SQLite runs one writer at a time, so the job picked is still free when it is updated.
    // PostgreSQL runs claims side by side: the picked row is locked, and a row another
    // worker's claim holds locked is passed over rather than waited for (and claimed twice).
    let lock = match Engine::of(db) {
        Engine::Sqlite => "",
        Engine::Postgres => "FOR UPDATE SKIP LOCKED",
    };
    let row = sqlx::query(&format!(
        "UPDATE analysis_jobs SET state = 'running', attempts = attempts + 1, claimed_at = $1,
             claim = $2, lease_until = $3
         WHERE material_id = (SELECT material_id FROM analysis_jobs
             WHERE state = 'queued' OR (state = 'running' AND (lease_until IS NULL OR lease_until < $4))
             ORDER BY queued_at LIMIT 1 {lock})
         RETURNING material_id",
    ))
    .bind(super::at(now))
    .bind(&claim)
    .bind(super::at(until))
    .bind(super::at(now))
    .fetch_optional(db)
    .await?;
    Ok(row
        .map(|r| r.try_get("material_id"))
        .transpose()?
        .map(|material_id| JobClaim { material_id, claim }))
}

/// The end of a lease of `lease` from `now` (whole seconds; leases are seconds to minutes).
fn leased_until(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    let seconds = i64::try_from(lease.as_secs())
        .unwrap_or(i64::MAX)
        .min(86_400);
    now + chrono::Duration::seconds(seconds)
}

async fn renew_lease(db: &Db, claim: &JobClaim, lease: Duration) -> super::Result<bool> {
    let done = sqlx::query(
        "UPDATE analysis_jobs SET lease_until = $1
         WHERE material_id = $2 AND claim = $3 AND state = 'running'",
    )
    .bind(super::at(leased_until(Utc::now(), lease)))
    .bind(&claim.material_id)
    .bind(&claim.claim)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

async fn release(db: &Db, claim: &JobClaim) -> super::Result<bool> {
    let done = sqlx::query(
        "UPDATE analysis_jobs SET state = 'queued', attempts = attempts - 1, claim = NULL,
             lease_until = NULL
         WHERE material_id = $1 AND claim = $2 AND state = 'running'",
    )
    .bind(&claim.material_id)
    .bind(&claim.claim)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the verdict (and the re-encoded blob that replaces the upload) and closes the job.
/// `StoreError::LeaseLost` when `claim` no longer holds the job: nothing is written, and the
/// holder of the job's current claim records its own verdict.
pub(super) async fn finish_analysis(
    conn: &mut Conn,
    claim: &JobClaim,
    verdict: &Verdict,
    reading: Option<&str>,
    blob: &str,
) -> super::Result<()> {
    let now = Utc::now();
    let mut tx = conn.begin().await?;
    let closed = sqlx::query(
        "UPDATE analysis_jobs SET state = 'done', finished_at = $1
         WHERE material_id = $2 AND claim = $3 AND state = 'running'",
    )
    .bind(super::at(now))
    .bind(&claim.material_id)
    .bind(&claim.claim)
    .execute(&mut *tx)
    .await?;
    if closed.rows_affected() != 1 {
        return Err(super::StoreError::LeaseLost);
    }
    sqlx::query(
        "UPDATE materials SET state = $1, verdict = $2, reading = $3, blob = $4, analyzed_at = $5 WHERE id = $6",
    )
    .bind(verdict.verdict.as_str())
    .bind(verdict.to_value().to_string())
    .bind(reading)
    .bind(blob)
    .bind(super::at(now))
    .bind(&claim.material_id)
    .execute(&mut *tx)
    .await?;
    Ok(tx.commit().await?)
}

async fn fail_job(
    db: &Db,
    claim: &JobClaim,
    max_attempts: i64,
    error: &str,
) -> super::Result<bool> {
    let material_id = claim.material_id.as_str();
    let mut tx = db.begin().await?;
    let attempts: Option<i64> = sqlx::query(
        "SELECT attempts FROM analysis_jobs WHERE material_id = $1 AND claim = $2 AND state = 'running'",
    )
    .bind(material_id)
    .bind(&claim.claim)
    .fetch_optional(&mut *tx)
    .await?
    .map(|r| r.try_get("attempts"))
    .transpose()?;
    let Some(attempts) = attempts else {
        return Ok(false);
    };
    let give_up = attempts >= max_attempts;
    sqlx::query(
        "UPDATE analysis_jobs SET state = $1, finished_at = $2, claim = NULL, lease_until = NULL
         WHERE material_id = $3",
    )
    .bind(if give_up { "done" } else { "queued" })
    .bind(super::at(Utc::now()))
    .bind(material_id)
    .execute(&mut *tx)
    .await?;
    if give_up {
        let verdict = Verdict::new(MaterialState::Flagged, [ReasonCode::AnalysisFailed])
            .with("error", Value::from(error));
        sqlx::query(
            "UPDATE materials SET state = 'flagged', verdict = $1, analyzed_at = $2 WHERE id = $3",
        )
        .bind(verdict.to_value().to_string())
        .bind(super::at(Utc::now()))
        .bind(material_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(give_up)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::StoreError;

    /// A database holding one queued job, `m1`, alone (without the material and the order it
    /// would belong to: foreign keys are off on the connection returned).
    async fn a_lone_job() -> (
        tempfile::TempDir,
        Db,
        SqlJobs,
        sqlx::pool::PoolConnection<sqlx::Any>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::store::open(dir.path()).await.unwrap();
        let mut conn = db.acquire().await.unwrap();
        sqlx::query("PRAGMA foreign_keys = OFF")
            .execute(&mut *conn)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO analysis_jobs (material_id, state, queued_at) VALUES ('m1', 'queued', $1)",
        )
        .bind(crate::store::at(Utc::now()))
        .execute(&mut *conn)
        .await
        .unwrap();
        (dir, db.clone(), SqlJobs(db), conn)
    }

    async fn job_state(db: &Db) -> (String, i64) {
        sqlx::query_as("SELECT state, attempts FROM analysis_jobs WHERE material_id = 'm1'")
            .fetch_one(db)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_lease_that_ran_out_passes_the_job_on_and_the_old_claim_records_nothing() {
        let (_dir, db, jobs, mut conn) = a_lone_job().await;
        let lease = Duration::from_secs(30);

        let first = jobs.claim(lease).await.unwrap().unwrap();
        assert_eq!(first.material_id, "m1");
        assert_eq!(
            jobs.claim(lease).await.unwrap(),
            None,
            "held: not claimed twice"
        );
        assert!(jobs.renew(&first, lease).await.unwrap());

        // The first worker went quiet (killed): its lease runs out.
        sqlx::query("UPDATE analysis_jobs SET lease_until = $1")
            .bind(crate::store::at(Utc::now() - chrono::Duration::seconds(1)))
            .execute(&db)
            .await
            .unwrap();
        let second = jobs.claim(lease).await.unwrap().unwrap();
        assert_eq!(second.material_id, "m1");
        assert_ne!(second, first);
        assert_eq!(job_state(&db).await, ("running".into(), 2));

        // The first worker comes back too late: it can neither renew, close nor requeue.
        assert!(!jobs.renew(&first, lease).await.unwrap());
        let pass = Verdict::new(MaterialState::Pass, []);
        let late = finish_analysis(&mut conn, &first, &pass, None, "b").await;
        assert!(matches!(late, Err(StoreError::LeaseLost)), "{late:?}");
        assert!(!jobs.fail(&first, 3, "late").await.unwrap());
        assert_eq!(job_state(&db).await, ("running".into(), 2));

        finish_analysis(&mut conn, &second, &pass, None, "b")
            .await
            .unwrap();
        assert_eq!(job_state(&db).await, ("done".into(), 2));
        assert_eq!(jobs.claim(lease).await.unwrap(), None);
        assert!(
            !jobs.release(&second).await.unwrap(),
            "a closed job stays closed"
        );
    }

    #[tokio::test]
    async fn a_job_released_at_a_stop_is_queued_again_without_counting_the_attempt() {
        let (_dir, db, jobs, _conn) = a_lone_job().await;
        let lease = Duration::from_secs(30);
        let held = jobs.claim(lease).await.unwrap().unwrap();
        assert!(jobs.release(&held).await.unwrap());
        assert_eq!(job_state(&db).await, ("queued".into(), 0));
        assert!(!jobs.renew(&held, lease).await.unwrap());
        let again = jobs.claim(lease).await.unwrap().unwrap();
        assert_eq!(again.material_id, "m1");
        assert_eq!(job_state(&db).await, ("running".into(), 1));
        assert_eq!(jobs.unfinished().await.unwrap(), 1);
    }
}
