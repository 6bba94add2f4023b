//! What the load benchmarks share: the photos the phones send, `beian` child processes over
//! a data directory (and PostgreSQL, an S3 bucket), their peak memory.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;

use serde_json::{json, Value};

use beian::synth::{card, font, identity::Identity, scene};
use beian::vision::decode::reencode_jpeg;
use rand::SeedableRng;

#[allow(dead_code)] // the tests' S3 server; the benches need its start and environment
#[path = "../../tests/api/s3.rs"]
pub mod s3;

#[allow(dead_code)] // the tests' PostgreSQL server; the benches need its start and URL
#[path = "../../tests/api/postgres.rs"]
pub mod postgres;

/// A few distinct ~3 MB photos; each upload gets its own bytes by a JPEG comment (COM)
/// segment, so no two uploads are byte-identical (the service would recognise those).
pub fn base_photos() -> Vec<Vec<u8>> {
    let font = font::load_cjk_font().expect("a CJK font (scripts/setup)");
    (0..4)
        .map(|i| {
            let mut rng = rand::rngs::StdRng::seed_from_u64(100 + i);
            let id = Identity::random(&mut rng);
            let front = card::front(&id, &font, &mut rng);
            reencode_jpeg(
                &scene::photo(&front, scene::Label::Good, 3264, 2448, &mut rng).image,
                95,
            )
        })
        .collect()
}

pub fn unique(jpeg: &[u8], tag: &str) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&((tag.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(&jpeg[2..]);
    out
}

pub fn peak_rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
        / 1024.0
}

/// A `beian` child process, stopped with SIGTERM when dropped.
pub struct Process(pub Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

impl Process {
    /// SIGKILL, and reaped: no chance to finish anything. (Dropping it instead would send
    /// SIGTERM to a pid that may by then belong to another process.)
    pub fn kill_now(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
        std::mem::forget(self);
    }
}

/// Starts `beian` with `args` over `dir` (and the S3 server's bucket, if any); the lines of its
/// log that contain `watch` come through the receiver.
pub fn beian(
    dir: &Path,
    postgres: Option<&postgres::PostgresServer>,
    s3: Option<&s3::S3Server>,
    args: &[&str],
    watch: &'static str,
) -> (Process, Receiver<String>) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_beian"));
    command
        .args([
            "--listen",
            "127.0.0.1:0",
            "--log",
            "warn,beian=info",
            "--data-dir",
        ])
        .arg(dir)
        .arg("--models-dir")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/models"));
    if let Some(postgres) = postgres {
        command.args(["--database-url", &postgres.url]);
    }
    if let Some(s3) = s3 {
        command
            .args(["--blob-store", &format!("s3://{}/bench", s3::BUCKET)])
            .envs(s3.env());
    }
    let mut child = command
        .args(args)
        .stderr(Stdio::piped())
        .spawn()
        .expect("beian starts");
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if line.contains(watch) {
                let _ = tx.send(line);
            }
        }
    });
    (Process(child), rx)
}

/// A filer with `phones` orders on the service at `base`, each with an upload session for the
/// principal's `kinds`: the filer's token and each session's id and phone link token.
pub async fn sessions(
    http: &reqwest::Client,
    base: &str,
    phones: usize,
    kinds: &[&str],
) -> (String, Vec<(String, String)>) {
    let auth: Value = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"username": "loadtest", "password": "correct horse battery"}))
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("json");
    let token = auth["token"].as_str().expect("token").to_string();
    let order: Value =
        serde_json::from_str(include_str!("../../fixtures/orders/minimal.json")).expect("fixture");
    let mut links = Vec::new();
    for _ in 0..phones {
        let o: Value = http
            .post(format!("{base}/api/v1/orders"))
            .bearer_auth(&token)
            .json(&order)
            .send()
            .await
            .expect("order")
            .json()
            .await
            .expect("json");
        let s: Value = http
            .post(format!(
                "{base}/api/v1/orders/{}/upload-sessions",
                o["id"].as_str().expect("id")
            ))
            .bearer_auth(&token)
            .json(&json!({"person": "principal", "materials": kinds}))
            .send()
            .await
            .expect("session")
            .json()
            .await
            .expect("json");
        links.push((
            s["id"].as_str().expect("id").to_string(),
            s["url"]
                .as_str()
                .expect("url")
                .rsplit("/m/")
                .next()
                .expect("token")
                .to_string(),
        ));
    }
    (token, links)
}
