//! Persistence: repositories per table group behind traits (`Repositories`), implemented once
//! in SQL that both engines run (SQLite, the embedded default, and PostgreSQL, through sqlx's
//! `Any` driver), and field encryption. Nothing above this module writes SQL.
//!
//! The SQL is written for both: `$n` placeholders, `ON CONFLICT` upserts, `RETURNING`, and
//! timestamps as RFC 3339 text (`at`) compared byte-wise (PostgreSQL's text columns use the
//! "C" collation, as SQLite's do). Where the engines must differ (a transaction's lock, the
//! job claim's row lock) the code asks `Engine::of`.

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
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{Connection, Executor, Row};

/// A pool of connections to either engine.
pub type Db = sqlx::AnyPool;

/// Every repository on one database: what a process opens once and hands to the HTTP state,
/// the analysis workers and the CLI.
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
    /// Every repository on the database `db`, whichever engine it is.
    pub fn on(db: Db) -> Repositories {
        Repositories {
            store: Arc::new(tx::SqlStore(db.clone())),
            orders: Arc::new(orders::SqlOrders(db.clone())),
            materials: Arc::new(materials::SqlMaterials(db.clone())),
            users: Arc::new(users::SqlUsers(db.clone())),
            registry: Arc::new(registry::SqlRegistry(db.clone())),
            audit: Arc::new(audit::SqlAuditLog(db.clone())),
            jobs: Arc::new(jobs::SqlJobs(db.clone())),
            upload_links: Arc::new(sessions::SqlUploadLinks(db.clone())),
            challenges: Arc::new(faces::SqlChallenges(db.clone())),
            retention: Arc::new(retention::SqlRetention(db.clone())),
            outbox: Arc::new(verification::SqlOutbox(db)),
        }
    }

    /// The database `connect` opens (and migrates).
    pub async fn open(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Repositories> {
        Ok(Self::on(connect(database_url, data_dir).await?))
    }
}

/// One connection: what the table groups' functions run on, inside a `tx::SqlTx` (several
/// calls in one transaction) or on a connection from the pool.
pub(crate) type Conn = sqlx::AnyConnection;

/// The engine behind a pool, for the few statements that differ between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

impl Engine {
    pub fn of(db: &Db) -> Engine {
        match db.connect_options().database_url.scheme() {
            "postgres" | "postgresql" => Engine::Postgres,
            _ => Engine::Sqlite,
        }
    }
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// Opens the database and applies its engine's migrations: PostgreSQL at `database_url`
/// (`postgres://…`), or without one `beian.db` in the data directory, created if needed.
pub async fn connect(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Db> {
    match database_url {
        Some(url) => open_postgres(url).await,
        None => open(data_dir).await,
    }
}

/// Opens (creating if needed) `beian.db` in the data directory and applies migrations.
///
/// WAL lets the pollers read while uploads write; `synchronous=FULL` makes a committed
/// decision survive a power cut, not only a process crash (the write rate is low enough that
/// the extra fsync costs nothing we would notice).
pub async fn open(data_dir: &Path) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join("beian.db");
    let url = url::Url::from_file_path(std::path::absolute(&path)?)
        .map_err(|()| anyhow::anyhow!("{} is not a file path", path.display()))?;
    let url = format!("sqlite://{}?mode=rwc", url.path());
    let pool = AnyPoolOptions::new()
        .max_connections(8)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
                )
                .await?;
                Ok(())
            })
        })
        .connect(&url)
        .await
        .with_context(|| format!("opening {}", path.display()))?;
    SQLITE_MIGRATIONS
        .run(&pool)
        .await
        .context("applying migrations")?;
    Ok(pool)
}

/// Connects to PostgreSQL at `url` and applies its migrations. A start that cannot reach it
/// stops with the reason, the password left out.
async fn open_postgres(url: &str) -> anyhow::Result<Db> {
    sqlx::any::install_default_drivers();
    let shown = match url::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_password(None);
            u.to_string()
        }
        Err(e) => anyhow::bail!("the database URL does not parse: {e}"),
    };
    // One connection first, for the server's own reason when it refuses (a pool would only
    // say that it timed out).
    sqlx::AnyConnection::connect(url)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {shown}"))?
        .close()
        .await?;
    let pool = AnyPoolOptions::new()
        .max_connections(8)
        .acquire_timeout(Duration::from_secs(10))
        .connect(url)
        .await
        .with_context(|| format!("connecting to PostgreSQL at {shown}"))?;
    POSTGRES_MIGRATIONS
        .run(&pool)
        .await
        .with_context(|| format!("applying migrations on {shown}"))?;
    Ok(pool)
}

/// A timestamp as the store keeps it: RFC 3339 text in UTC with as many fractional digits as
/// it needs, the format sqlx wrote for SQLite before the store ran on both engines, so rows
/// written then still compare in order with rows written now.
pub(crate) fn at(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// The timestamp in `column` of a row, as `at` wrote it.
pub(crate) fn time_at(
    row: &AnyRow,
    column: &str,
) -> std::result::Result<DateTime<Utc>, sqlx::Error> {
    maybe_time_at(row, column)?.ok_or_else(|| sqlx::Error::ColumnDecode {
        index: column.into(),
        source: "a timestamp is missing".into(),
    })
}

/// The timestamp in `column` of a row, if it has one.
pub(crate) fn maybe_time_at(
    row: &AnyRow,
    column: &str,
) -> std::result::Result<Option<DateTime<Utc>>, sqlx::Error> {
    let text: Option<String> = row.try_get(column)?;
    text.map(|t| {
        DateTime::parse_from_rfc3339(&t)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| sqlx::Error::ColumnDecode {
                index: column.into(),
                source: e.into(),
            })
    })
    .transpose()
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
            // PostgreSQL's connection exceptions (class 08) and its server shutting down or
            // starting (57P01-57P03): the server is going or coming back.
            sqlx::Error::Database(d)
                if d.code()
                    .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")) =>
            {
                Self::Unavailable(e)
            }
            _ => Self::Failed(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;
