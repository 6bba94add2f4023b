//! Blobs: uploaded images under generated names (never a client's), behind one asynchronous
//! interface (`BlobStore`) so the service does not know where they live; the local
//! directory is the embedded default. Written so that a name the database knows always
//! points at complete bytes: temporary file, fsync, rename, fsync of the directory — and
//! only then the row that names it.

use std::future::Future;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use anyhow::{bail, Context};
use bytes::Bytes;

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
    /// Removes the leftovers of writes a crash interrupted; returns how many.
    fn clean_temporary(&self) -> BlobFuture<'_, usize>;
}

/// The blob store the service holds.
pub type Blobs = Arc<dyn BlobStore>;

/// A new name: a time-ordered UUID, sharded by its last two hex digits.
pub fn new_name() -> String {
    let id = uuid::Uuid::now_v7().simple().to_string();
    format!("{}/{id}", &id[id.len() - 2..])
}

/// The local directory: a temporary file, fsync, rename, fsync of the directory. The file
/// work runs on the blocking pool.
#[derive(Debug, Clone)]
pub struct LocalDir {
    root: PathBuf,
}

impl LocalDir {
    pub fn open(data_dir: &Path) -> anyhow::Result<Self> {
        let root = data_dir.join("blobs");
        std::fs::create_dir_all(root.join("tmp"))
            .with_context(|| format!("creating {}", root.display()))?;
        Ok(LocalDir { root })
    }

    fn path(&self, name: &str) -> anyhow::Result<PathBuf> {
        let ok = name.len() == 35
            && name.as_bytes()[2] == b'/'
            && name
                .bytes()
                .filter(|b| *b != b'/')
                .all(|b| b.is_ascii_hexdigit());
        if !ok {
            bail!("not a blob name: {name:?}");
        }
        Ok(self.root.join(name))
    }

    fn put_blocking(&self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        let path = self.path(name)?;
        let dir = path.parent().context("a blob path has a directory")?;
        std::fs::create_dir_all(dir)?;
        let tmp = self
            .root
            .join("tmp")
            .join(format!("{}.part", uuid::Uuid::new_v4().simple()));
        let result = (|| -> anyhow::Result<()> {
            let mut file = std::fs::File::create(&tmp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            std::fs::rename(&tmp, &path)?;
            std::fs::File::open(dir)?.sync_all()?;
            Ok(())
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        result.with_context(|| format!("storing blob {name}"))
    }

    /// Runs `work` on a copy of this store on the blocking pool.
    fn blocking<'a, T: Send + 'static>(
        &self,
        work: impl FnOnce(LocalDir) -> anyhow::Result<T> + Send + 'static,
    ) -> BlobFuture<'a, T> {
        let store = self.clone();
        Box::pin(async move { tokio::task::spawn_blocking(move || work(store)).await? })
    }
}

impl BlobStore for LocalDir {
    fn put<'a>(&'a self, name: &'a str, bytes: Bytes) -> BlobFuture<'a, ()> {
        let name = name.to_owned();
        self.blocking(move |store| store.put_blocking(&name, &bytes))
    }

    fn get<'a>(&'a self, name: &'a str) -> BlobFuture<'a, Vec<u8>> {
        let name = name.to_owned();
        self.blocking(move |store| {
            let path = store.path(&name)?;
            std::fs::read(&path).with_context(|| format!("reading blob {name}"))
        })
    }

    fn delete<'a>(&'a self, name: &'a str) -> BlobFuture<'a, ()> {
        let name = name.to_owned();
        self.blocking(
            move |store| match std::fs::remove_file(store.path(&name)?) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
                _ => Ok(()),
            },
        )
    }

    fn clean_temporary(&self) -> BlobFuture<'_, usize> {
        self.blocking(|store| {
            let mut n = 0;
            for entry in std::fs::read_dir(store.root.join("tmp"))? {
                std::fs::remove_file(entry?.path())?;
                n += 1;
            }
            Ok(n)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn round_trips_and_refuses_foreign_names() {
        let dir = tempfile::tempdir().unwrap();
        let store: Blobs = Arc::new(LocalDir::open(dir.path()).unwrap());
        let name = new_name();
        store
            .put(&name, Bytes::from_static(b"bytes"))
            .await
            .unwrap();
        assert_eq!(store.get(&name).await.unwrap(), b"bytes");
        assert!(store.get("../../etc/passwd").await.is_err());
        assert!(store
            .put("ab/../../x", Bytes::from_static(b"x"))
            .await
            .is_err());
        store.delete(&name).await.unwrap();
        assert!(store.get(&name).await.is_err());
        store.delete(&name).await.unwrap();
    }

    #[tokio::test]
    async fn interrupted_writes_leave_only_temporary_files_that_are_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("blobs/tmp/x.part"), b"half").unwrap();
        assert_eq!(store.clean_temporary().await.unwrap(), 1);
        assert_eq!(store.clean_temporary().await.unwrap(), 0);
    }
}
