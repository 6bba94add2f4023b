//! Persistence: repositories per table group behind traits (`Repositories`), SQLite through
//! sqlx as their implementation, and field encryption. Nothing above this module writes SQL.

pub mod audit;
pub mod blobs;
pub mod crypto;
pub mod faces;
pub mod jobs;
pub mod materials;
pub mod orders;
pub mod registry;
pub mod retention;
pub mod sessions;
#[cfg(test)]
pub mod test_rows;
pub mod tx;
pub mod users;
pub mod verification;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

pub type Db = SqlitePool;

/// Every repository on one engine: what a process opens once and hands to the HTTP state,
/// the analysis workers and the CLI. A new engine is one more constructor beside `sqlite`.
#[derive(Clone)]
pub struct Repositories {
    /// Transactions for the business steps that write several tables at once.
    pub store: Arc<dyn tx::Store>,
    pub orders: Arc<dyn orders::Orders>,
    pub materials: Arc<dyn materials::Materials>,
    pub users: Arc<dyn users::Users>,
    pub registry: Arc<dyn registry::Registry>,
    pub audit: Arc<dyn audit::AuditLog>,
    pub jobs: Arc<dyn jobs::JobQueue>,
    pub upload_links: Arc<dyn sessions::UploadLinks>,
    pub challenges: Arc<dyn faces::Challenges>,
    pub retention: Arc<dyn retention::Retention>,
    pub outbox: Arc<dyn verification::Outbox>,
}

impl Repositories {
    /// Every repository on the SQLite database `db`.
    pub fn sqlite(db: Db) -> Repositories {
        Repositories {
            store: Arc::new(tx::SqliteStore(db.clone())),
            orders: Arc::new(orders::SqliteOrders(db.clone())),
            materials: Arc::new(materials::SqliteMaterials(db.clone())),
            users: Arc::new(users::SqliteUsers(db.clone())),
            registry: Arc::new(registry::SqliteRegistry(db.clone())),
            audit: Arc::new(audit::SqliteAuditLog(db.clone())),
            jobs: Arc::new(jobs::SqliteJobs(db.clone())),
            upload_links: Arc::new(sessions::SqliteUploadLinks(db.clone())),
            challenges: Arc::new(faces::SqliteChallenges(db.clone())),
            retention: Arc::new(retention::SqliteRetention(db.clone())),
            outbox: Arc::new(verification::SqliteOutbox(db)),
        }
    }

    /// The SQLite database in `data_dir`, opened (and migrated) by `open`.
    pub async fn open_sqlite(data_dir: &Path) -> anyhow::Result<Repositories> {
        Ok(Self::sqlite(open(data_dir).await?))
    }
}

/// One SQLite connection: what the table groups' functions run on, inside a `tx::SqliteTx`
/// (several calls in one transaction) or on a connection from the pool.
pub(crate) type Conn = sqlx::SqliteConnection;

pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Opens (creating if needed) `beian.db` in the data directory and applies migrations.
///
/// WAL lets the pollers read while uploads write; `synchronous=FULL` makes a committed
/// decision survive a power cut, not only a process crash (the write rate is low enough that
/// the extra fsync costs nothing we would notice).
pub async fn open(data_dir: &Path) -> anyhow::Result<Db> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join("beian.db");
    let options = SqliteConnectOptions::from_str("sqlite:")?
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5));
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    MIGRATOR.run(&pool).await.context("applying migrations")?;
    Ok(pool)
}

/// What a repository trait's methods return: asynchronous and boxed, so the service can hold
/// any engine's implementation behind `Arc<dyn …>`.
pub type RepoFuture<'a, T> =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<T>> + Send + 'a>>;

/// What a repository call fails with, in the store's own terms: the callers (services, the
/// HTTP layer) need to tell a unique key taken from a store that cannot be reached, not which
/// engine said so.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A row with the same unique key exists.
    #[error("a row with the same unique key exists")]
    Duplicate(#[source] sqlx::Error),
    /// The store could not be reached or gave no connection in time: worth a retry.
    #[error("the store is unavailable")]
    Unavailable(#[source] sqlx::Error),
    #[error("the store failed")]
    Failed(#[source] sqlx::Error),
    /// A stored row could not be read back (it does not decrypt, or its contents do not parse).
    #[error("a stored row could not be read back")]
    Unreadable(#[source] anyhow::Error),
    /// An analysis job's lease ran out and another worker holds it now.
    #[error("the analysis job's lease was lost to another worker")]
    LeaseLost,
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::Database(d) if d.is_unique_violation() => Self::Duplicate(e),
            sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed | sqlx::Error::Io(_) => {
                Self::Unavailable(e)
            }
            _ => Self::Failed(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
