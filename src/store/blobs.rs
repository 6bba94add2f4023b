//! The blob directory: uploaded images under generated names (never a client's), written so
//! that a name the database knows always points at complete bytes: temporary file, fsync,
//! rename, fsync of the directory — and only then the row that names it.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};

#[derive(Debug, Clone)]
pub struct BlobStore {
    root: PathBuf,
}

impl BlobStore {
    pub fn open(data_dir: &Path) -> anyhow::Result<Self> {
        let root = data_dir.join("blobs");
        std::fs::create_dir_all(root.join("tmp"))
            .with_context(|| format!("creating {}", root.display()))?;
        Ok(BlobStore { root })
    }

    /// A new name: a time-ordered UUID, sharded by its last two hex digits.
    pub fn new_name() -> String {
        let id = uuid::Uuid::now_v7().simple().to_string();
        format!("{}/{id}", &id[id.len() - 2..])
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

    /// Writes `bytes` durably under `name` (blocking: call from the blocking pool).
    pub fn put(&self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
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

    pub fn get(&self, name: &str) -> anyhow::Result<Vec<u8>> {
        let path = self.path(name)?;
        std::fs::read(&path).with_context(|| format!("reading blob {name}"))
    }

    pub fn delete(&self, name: &str) -> anyhow::Result<()> {
        match std::fs::remove_file(self.path(name)?) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e.into()),
            _ => Ok(()),
        }
    }

    /// Leftovers of writes interrupted by a crash (never named by any row).
    pub fn clean_temporary(&self) -> anyhow::Result<usize> {
        let mut n = 0;
        for entry in std::fs::read_dir(self.root.join("tmp"))? {
            std::fs::remove_file(entry?.path())?;
            n += 1;
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_refuses_foreign_names() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        let name = BlobStore::new_name();
        store.put(&name, b"bytes").unwrap();
        assert_eq!(store.get(&name).unwrap(), b"bytes");
        assert!(store.get("../../etc/passwd").is_err());
        assert!(store.put("ab/../../x", b"x").is_err());
        store.delete(&name).unwrap();
        assert!(store.get(&name).is_err());
        store.delete(&name).unwrap();
    }

    #[test]
    fn interrupted_writes_leave_only_temporary_files_that_are_cleaned() {
        let dir = tempfile::tempdir().unwrap();
        let store = BlobStore::open(dir.path()).unwrap();
        std::fs::write(dir.path().join("blobs/tmp/x.part"), b"half").unwrap();
        assert_eq!(store.clean_temporary().unwrap(), 1);
    }
}
