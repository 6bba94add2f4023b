//! A real S3 server for the tests: s3s-fs (scripts/setup installs it into target/tools) on a
//! loopback port over a temporary directory, with one bucket, stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub const BUCKET: &str = "beian";
const ACCESS_KEY: &str = "beian-test";
const SECRET_KEY: &str = "beian-test-secret";

pub struct S3Server {
    child: Child,
    port: u16,
    root: TempDir,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// s3s-fs on `port` over `root`, answering.
fn spawn(port: u16, root: &Path) -> Child {
    let mut child = Command::new(s3s_fs())
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
        .arg(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("s3s-fs starts (scripts/setup installs it into target/tools)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(child.try_wait().unwrap().is_none(), "s3s-fs stopped");
        assert!(Instant::now() < deadline, "s3s-fs does not answer");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

/// The s3s-fs binary: `BEIAN_S3S_FS`, or where scripts/setup installs it.
fn s3s_fs() -> PathBuf {
    std::env::var_os("BEIAN_S3S_FS").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target/tools/bin/s3s-fs"),
        PathBuf::from,
    )
}

impl S3Server {
    pub fn start() -> S3Server {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir(root.path().join(BUCKET)).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .unwrap()
            .port();
        let child = spawn(port, root.path());
        S3Server { child, port, root }
    }

    /// Stops the server (SIGKILL): the bucket's endpoint refuses connections until `resume`.
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again on the same port over the same directory.
    pub fn resume(&mut self) {
        self.child = spawn(self.port, self.root.path());
    }

    /// What a `beian` process needs in its environment to reach this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }

    /// The names of the objects under `prefix` in the bucket, read off the server's own disk.
    pub fn objects(&self, prefix: &str) -> Vec<String> {
        fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, base, out);
                } else if let Ok(name) = path.strip_prefix(base) {
                    out.push(name.to_string_lossy().into_owned());
                }
            }
        }
        let base = self.root.path().join(BUCKET).join(prefix);
        let mut out = Vec::new();
        walk(&base, &base, &mut out);
        out.sort();
        out
    }
}
