//! The local directory: a temporary file, fsync, rename, fsync of the directory. The file
//! work runs on the blocking pool.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::{bail, Context};
use bytes::Bytes;

use super::{is_name, BlobFuture, BlobStore, ABANDONED_AFTER};

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
        if !is_name(name) {
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

    fn stored_before(&self, age: Duration) -> BlobFuture<'_, Vec<String>> {
        self.blocking(move |store| {
            let mut names = Vec::new();
            for shard in std::fs::read_dir(&store.root)? {
                let shard = shard?;
                let shard_name = shard.file_name().to_string_lossy().into_owned();
                if shard_name == "tmp" || !shard.file_type()?.is_dir() {
                    continue;
                }
                for entry in std::fs::read_dir(shard.path())? {
                    let entry = entry?;
                    let name = format!("{shard_name}/{}", entry.file_name().to_string_lossy());
                    if is_name(&name) && older_than(&entry, age)? {
                        names.push(name);
                    }
                }
            }
            Ok(names)
        })
    }

    fn clean_temporary(&self) -> BlobFuture<'_, usize> {
        self.blocking(|store| {
            let mut n = 0;
            for entry in std::fs::read_dir(store.root.join("tmp"))? {
                let entry = entry?;
                if older_than(&entry, ABANDONED_AFTER)? {
                    std::fs::remove_file(entry.path())?;
                    n += 1;
                }
            }
            Ok(n)
        })
    }
}

/// Whether `entry` was last written more than `age` ago.
fn older_than(entry: &std::fs::DirEntry, age: Duration) -> std::io::Result<bool> {
    let modified = entry.metadata()?.modified()?;
    Ok(SystemTime::now()
        .duration_since(modified)
        .is_ok_and(|elapsed| elapsed >= age))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::store::blobs::{new_name, Blobs};

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
    async fn interrupted_writes_leave_only_temporary_files_that_are_cleaned_once_abandoned() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::open(dir.path()).unwrap();
        let tmp = dir.path().join("blobs/tmp");
        std::fs::write(tmp.join("old.part"), b"half").unwrap();
        std::fs::File::options()
            .write(true)
            .open(tmp.join("old.part"))
            .unwrap()
            .set_modified(std::time::SystemTime::now() - ABANDONED_AFTER * 2)
            .unwrap();
        // Another process may be writing this one right now.
        std::fs::write(tmp.join("fresh.part"), b"half").unwrap();
        assert_eq!(store.clean_temporary().await.unwrap(), 1);
        assert_eq!(store.clean_temporary().await.unwrap(), 0);
        assert!(tmp.join("fresh.part").exists());
    }

    #[tokio::test]
    async fn the_sweep_sees_only_blobs_older_than_asked() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalDir::open(dir.path()).unwrap();
        let (old, fresh) = (new_name(), new_name());
        for name in [&old, &fresh] {
            store.put(name, Bytes::from_static(b"x")).await.unwrap();
        }
        std::fs::File::options()
            .write(true)
            .open(dir.path().join("blobs").join(&old))
            .unwrap()
            .set_modified(SystemTime::now() - Duration::from_secs(7200))
            .unwrap();
        let swept = store
            .stored_before(Duration::from_secs(3600))
            .await
            .unwrap();
        assert_eq!(swept, vec![old]);
    }
}
