//! Blobs: uploaded images under generated names (never a client's), behind one asynchronous
//! interface (`BlobStore`) so the service does not know where they live: the local
//! directory (`local.rs`) is the embedded default, an S3-compatible bucket (`s3.rs`) the
//! scaled-out one. Either way a name the database knows always points at complete bytes: the
//! blob is stored whole first, and only then the row that names it is written; a crash in
//! between leaves an orphan, which the hourly sweep (`app::sweep_orphan_blobs`) removes.

mod local;
mod s3;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;

pub use local::LocalDir;
pub use s3::S3Bucket;

use crate::config::Config;

/// What a blob store's operations return: they are asynchronous (a file's fsync, an object
/// store's round trip) and boxed, so that one service can hold any store.
pub type BlobFuture<'a, T> = Pin<Box<dyn Future<Output = anyhow::Result<T>> + Send + 'a>>;

/// Where uploaded images live, under names from `new_name`. `put` is durable when it
/// returns: the row that names a blob is written only after it, so a name the database knows
/// always points at complete bytes, and a crash in between leaves only an orphan.
pub trait BlobStore: Send + Sync {
    fn put<'a>(&'a self, name: &'a str, bytes: Bytes) -> BlobFuture<'a, ()>;
    fn get<'a>(&'a self, name: &'a str) -> BlobFuture<'a, Vec<u8>>;
    /// Deleting a blob that is not there is no error.
    fn delete<'a>(&'a self, name: &'a str) -> BlobFuture<'a, ()>;
    /// The names of the blobs stored more than `age` ago (the orphan sweep's candidates).
    fn stored_before(&self, age: Duration) -> BlobFuture<'_, Vec<String>>;
    /// Removes the leftovers of writes a crash interrupted, old enough that no process sharing
    /// the store can still be writing them (`ABANDONED_AFTER`); returns how many.
    fn clean_temporary(&self) -> BlobFuture<'_, usize>;
}

/// Age after which a temporary file is a crash's leftover, not a write in progress in some
/// process sharing the store (an upload is received in well under this).
pub const ABANDONED_AFTER: Duration = Duration::from_secs(3600);

/// What a blob store's error carries (as context) when the store could not be reached or did
/// not answer in time: the request is worth sending again (HTTP answers 503).
#[derive(Debug, thiserror::Error)]
#[error("the blob store is unavailable")]
pub struct Unavailable;

/// The blob store the service holds.
pub type Blobs = Arc<dyn BlobStore>;

/// A new name: a time-ordered UUID, sharded by its last two hex digits.
pub fn new_name() -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("{}/{id}", &id[id.len() - 2..])
}

/// A name `new_name` could have made (two hex digits, a slash, 32 hex digits): nothing else
/// is ever read, written or deleted, whatever a row or a listing says.
pub fn is_name(name: &str) -> bool {
    name.len() == 35
        && name.as_bytes()[2] == b'/'
        && name
            .bytes()
            .filter(|b| *b != b'/')
            .all(|b| b.is_ascii_hexdigit())
}

/// The configured store: the bucket of `blob_store` (`s3://bucket/prefix`), checked to answer,
/// or the data directory's `blobs/`.
pub async fn open(config: &Config) -> anyhow::Result<Blobs> {
    Ok(match &config.blob_store {
        Some(url) => Arc::new(S3Bucket::open(url).await?),
        None => Arc::new(LocalDir::open(&config.data_dir)?),
    })
}
