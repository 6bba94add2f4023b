//! A PostgreSQL server of a test's own (scripts/postgres: Debian's server, a cluster in a
//! temporary directory on a loopback port), for tests that stop and start it; stopped and
//! removed when dropped.

use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

pub struct PostgresServer {
    root: TempDir,
    pub url: String,
}

fn script(action: &str, root: &Path) -> String {
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres"))
        .arg(action)
        .arg(root)
        .output()
        .expect("scripts/postgres runs");
    assert!(
        out.status.success(),
        "scripts/postgres {action}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl PostgresServer {
    pub fn start() -> PostgresServer {
        let root = tempfile::tempdir().expect("a directory for the cluster");
        let url = script("start", root.path());
        PostgresServer { root, url }
    }

    /// Stops the server (immediately, as a crash would), keeping its data.
    pub fn stop(&self) {
        script("stop", self.root.path());
    }

    /// Starts it again on the same port.
    pub fn restart(&self) {
        script("start", self.root.path());
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let _ = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/postgres"))
            .arg("stop")
            .arg(self.root.path())
            .status();
    }
}
