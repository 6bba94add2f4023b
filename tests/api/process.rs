//! The real binary: `beian serve` starts on a fresh data directory, answers, and shuts down
//! gracefully on SIGTERM; uploads survive a kill; `serve --workers 0` and `beian worker`
//! processes share one database, and a killed worker's job is finished by another.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use beian::synth::scene::Label;
use serde_json::{json, Value};

use crate::postgres::PostgresServer;
use crate::s3::{S3Server, BUCKET};

/// A running `beian serve`, killed if a failed test drops it (an orphan would hold the test
/// runner's output pipes open).
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The processes of one test: their data directory, and the database and the S3 server
/// their data goes to (without them, where `helpers::config_for` puts it).
#[derive(Clone, Copy)]
struct Shape<'a> {
    dir: &'a Path,
    database: Option<&'a str>,
    s3: Option<&'a S3Server>,
}

impl Shape<'_> {
    /// `beian` with the data directory, the models, the blob store and a 3-second analysis
    /// lease (so a killed worker's job is taken again within the test), then `args`.
    fn command(&self, args: &[&str]) -> Command {
        let config = self.dir.join("beian.toml");
        std::fs::write(&config, "analysis_lease_seconds = 3\n").unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_beian"));
        command
            .args(["--listen", "127.0.0.1:0", "--config"])
            .arg(&config)
            .arg("--data-dir")
            .arg(self.dir)
            .arg("--models-dir")
            .arg(crate::helpers::models_dir())
            .env_remove("BEIAN_MASTER_KEY");
        let database = self
            .database
            .map(str::to_string)
            .or_else(|| crate::helpers::database_url_for(self.dir));
        if let Some(url) = database {
            command.args(["--database-url", &url]);
        }
        let blobs = match self.s3 {
            Some(s3) => {
                command.envs(s3.env());
                Some(format!("s3://{BUCKET}/{}", self.prefix()))
            }
            None => crate::helpers::blob_store_for(self.dir),
        };
        if let Some(blobs) = blobs {
            command.args(["--blob-store", &blobs]);
        }
        command.args(args);
        command
    }

    /// The blobs' prefix in the bucket.
    fn prefix(&self) -> String {
        self.dir.file_name().unwrap().to_string_lossy().into_owned()
    }

    /// The names of the blobs stored.
    async fn stored_blobs(&self) -> Vec<String> {
        match self.s3 {
            Some(s3) => s3.objects(&self.prefix()),
            None => crate::helpers::stored_blobs(self.dir).await,
        }
    }
}

/// Starts `beian` with `args` (a command and its flags) in `shape`; the addresses it logs come
/// through the receiver (its log is read to the end, so it never blocks on a full pipe).
fn beian(shape: Shape, args: &[&str]) -> (Served, std::sync::mpsc::Receiver<String>) {
    let mut child = shape
        .command(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the beian binary starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("addr=").nth(1) {
                let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    (Served(child), rx)
}

/// Starts `beian serve` with `args` on port 0 in `shape`; returns the child and its address.
fn serve_with(shape: Shape, args: &[&str]) -> (Served, String) {
    let (served, addr) = beian(shape, &[&["serve"], args].concat());
    let addr = addr
        .recv_timeout(Duration::from_secs(60))
        .expect("the service logs its address");
    (served, addr)
}

fn serve(dir: &Path) -> (Served, String) {
    serve_with(
        Shape {
            dir,
            database: None,
            s3: None,
        },
        &[],
    )
}

/// A filer with an order and an upload session for its principal's `id_card_front` on the
/// service at `base`: (login token, session, the phone's link token).
async fn filer_with_a_session(http: &reqwest::Client, base: &str) -> (String, Value, String) {
    let auth: Value = http
        .post(format!("{base}/api/v1/auth/register"))
        .json(&json!({"username": "zhangsan", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = auth["token"].as_str().unwrap().to_string();
    let order: Value = http
        .post(format!("{base}/api/v1/orders"))
        .bearer_auth(&token)
        .json(&crate::helpers::minimal_order())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session: Value = http
        .post(format!(
            "{base}/api/v1/orders/{}/upload-sessions",
            order["id"].as_str().unwrap()
        ))
        .bearer_auth(&token)
        .json(&json!({"person": "principal", "materials": ["id_card_front"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = crate::helpers::link_token(&session);
    (token, session, link)
}

/// The phone's upload of a good card front through the service at `base`: 202.
async fn upload_a_good_card(http: &reqwest::Client, base: &str, link: &str) {
    let res = http
        .post(format!("{base}/api/v1/m/{link}/materials/id_card_front"))
        .header("content-type", "image/jpeg")
        .body(crate::helpers::photo(Label::Good, 81))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
}

/// The state of the session's one material once it is no longer `analyzing` (or after a
/// minute), long-polled from the service at `base`.
async fn analysed_state(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    session: &Value,
) -> String {
    let url = format!(
        "{base}/api/v1/upload-sessions/{}?wait=5s",
        session["id"].as_str().unwrap()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s: Value = http
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let state = s["materials"][0]["state"].as_str().unwrap().to_string();
        if state != "analyzing" || Instant::now() > deadline {
            return state;
        }
    }
}

#[tokio::test]
async fn serve_starts_answers_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let (mut served, addr) = serve(dir.path());
    let body: serde_json::Value = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["status"], "ok");
    if crate::helpers::database_url_for(dir.path()).is_none() {
        assert!(dir.path().join("beian.db").exists());
    }
    assert!(dir.path().join("secret.key").exists());

    let pid = served.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = served.0.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "the service did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
}

/// Killed with SIGKILL right after an upload was accepted: after the restart the upload is
/// there and its analysis finishes.
#[tokio::test]
async fn an_upload_survives_a_kill_and_its_analysis_finishes_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (mut served, addr) = serve(dir.path());
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let (token, session, link) = filer_with_a_session(&http, &base).await;
    upload_a_good_card(&http, &base, &link).await;
    served.0.kill().unwrap();
    served.0.wait().unwrap();

    let (_served, addr) = serve(dir.path());
    let state = analysed_state(&http, &format!("http://{addr}"), &token, &session).await;
    assert_eq!(
        state, "pass",
        "the accepted upload was analysed after the restart"
    );
}

/// The scaled-out shape on one database and one blob store: two `serve --workers 0`
/// instances and `beian worker` processes. The phone uploads through instance A, the PC polls
/// instance B; the first worker is killed with SIGKILL while it holds the job, and the second
/// takes the job once its lease ran out and finishes it: one verdict, the job closed once, its
/// stored copy in place and the upload it replaced gone.
async fn a_killed_workers_job_is_finished_once_by_another(shape: Shape<'_>) {
    let (_a, addr_a) = serve_with(shape, &["--workers", "0"]);
    let (_b, addr_b) = serve_with(shape, &["--workers", "0"]);
    let (base_a, base_b) = (format!("http://{addr_a}"), format!("http://{addr_b}"));
    let http = reqwest::Client::new();
    let (token, session, link) = filer_with_a_session(&http, &base_a).await;
    upload_a_good_card(&http, &base_a, &link).await;

    let db = crate::helpers::database(shape.dir).await;
    let job = || async {
        sqlx::query_as::<_, (String, i64)>("SELECT state, attempts FROM analysis_jobs")
            .fetch_one(&db)
            .await
            .unwrap()
    };
    assert_eq!(job().await, ("queued".to_string(), 0), "no worker yet");
    let upload: String = sqlx::query_scalar("SELECT blob FROM materials")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(shape.stored_blobs().await, vec![upload.clone()]);
    let (mut first, _) = beian(shape, &["worker", "--workers", "1"]);
    let deadline = Instant::now() + Duration::from_secs(60);
    while job().await.0 == "queued" {
        assert!(Instant::now() < deadline, "no worker claimed the job");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    first.0.kill().unwrap();
    first.0.wait().unwrap();
    assert_eq!(
        job().await,
        ("running".to_string(), 1),
        "the first worker was killed while it held the job"
    );

    let _second = beian(shape, &["worker"]);
    let state = analysed_state(&http, &base_b, &token, &session).await;
    assert_eq!(state, "pass", "instance B sees the second worker's verdict");
    assert_eq!(job().await, ("done".to_string(), 2));
    let (materials, blob): (i64, String) =
        sqlx::query_as("SELECT COUNT(*), MAX(blob) FROM materials WHERE verdict IS NOT NULL")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(materials, 1, "one verdict");
    let stored = shape.stored_blobs().await;
    assert!(
        stored.contains(&blob),
        "the stored copy the verdict names is there"
    );
    assert!(!stored.contains(&upload), "the upload it replaced is gone");
}

#[tokio::test]
async fn a_killed_workers_job_is_finished_once_by_another_worker() {
    let dir = tempfile::tempdir().unwrap();
    a_killed_workers_job_is_finished_once_by_another(Shape {
        dir: dir.path(),
        database: None,
        s3: None,
    })
    .await;
}

/// The same with the blobs in an S3 bucket: nothing is written to the data directory's blobs.
#[tokio::test]
async fn a_killed_workers_job_is_finished_once_by_another_worker_on_an_s3_bucket() {
    let s3 = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    a_killed_workers_job_is_finished_once_by_another(Shape {
        dir: dir.path(),
        database: None,
        s3: Some(&s3),
    })
    .await;
    assert!(!dir.path().join("blobs").exists());
}

/// A blob store that cannot be used stops the start with a message naming it, before the
/// models load and before the port opens.
#[tokio::test]
async fn a_bucket_that_does_not_answer_stops_the_start_and_is_named() {
    let s3 = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let start = |store: &str, env: Vec<(&'static str, String)>| {
        let out = Command::new(env!("CARGO_BIN_EXE_beian"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(["--blob-store", store, "serve"])
            .env_remove("BEIAN_MASTER_KEY")
            .envs(env)
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let missing = start("s3://no-such-bucket/x", s3.env());
    assert!(missing.contains("s3://no-such-bucket/x"), "{missing}");
    assert!(missing.contains("does not answer"), "{missing}");
    let not_s3 = start("ftp://beian", s3.env());
    assert!(not_s3.contains("expected s3://bucket/prefix"), "{not_s3}");
    let mut wrong_key = s3.env();
    wrong_key.retain(|(k, _)| *k != "AWS_SECRET_ACCESS_KEY");
    wrong_key.push(("AWS_SECRET_ACCESS_KEY", "wrong".into()));
    let refused = start(&format!("s3://{BUCKET}/x"), wrong_key);
    assert!(refused.contains(&format!("s3://{BUCKET}/x")), "{refused}");
    let env = s3.env();
    drop(s3);
    let gone = start(&format!("s3://{BUCKET}/x"), env);
    assert!(gone.contains("does not answer"), "{gone}");
}

/// The answer to a request while a store is down: 503 `store_unavailable` with a Retry-After.
async fn assert_store_unavailable(res: reqwest::Response) {
    assert_eq!(res.status().as_u16(), 503);
    assert!(res.headers().get("retry-after").is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "store_unavailable", "{body}");
}

/// A database that cannot be used stops the start with a message naming it (its password left
/// out) and the server's reason, before the port opens.
#[test]
fn a_database_that_cannot_be_reached_stops_the_start_and_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let start = |url: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_beian"))
            .args(["--listen", "127.0.0.1:0", "--data-dir"])
            .arg(dir.path())
            .args(["--database-url", url, "serve"])
            .env_remove("BEIAN_MASTER_KEY")
            .output()
            .unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let refused = start(&format!("postgres://beian:secret@127.0.0.1:{port}/beian"));
    assert!(
        refused.contains(&format!("postgres://beian@127.0.0.1:{port}/beian")),
        "{refused}"
    );
    assert!(!refused.contains("secret"), "{refused}");
    assert!(refused.to_lowercase().contains("refused"), "{refused}");
    let garbled = start("postgres://[::1");
    assert!(garbled.contains("does not parse"), "{garbled}");
    assert!(
        !dir.path().join("beian.db").exists(),
        "no SQLite file on the side"
    );
}

/// The database goes away under a request: 503 `store_unavailable` with a Retry-After, and
/// the same request once the server is back goes through (a PostgreSQL server of the test's
/// own, stopped as a crash would stop it).
#[tokio::test]
async fn a_request_while_postgresql_is_down_is_503_and_its_retry_goes_through() {
    let postgres = PostgresServer::start();
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape {
        dir: dir.path(),
        database: Some(&postgres.url),
        s3: None,
    };
    let (_served, addr) = serve_with(shape, &["--workers", "0"]);
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let (token, _, _) = filer_with_a_session(&http, &base).await;
    let orders = || {
        http.get(format!("{base}/api/v1/orders"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(orders().await.unwrap().status().as_u16(), 200);

    postgres.stop();
    let res = orders().await.unwrap();
    assert_store_unavailable(res).await;
    let ready = http.get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(
        ready.status().as_u16(),
        503,
        "not ready without its database"
    );

    postgres.restart();
    let res = orders().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let listed: Value = res.json().await.unwrap();
    assert_eq!(
        listed["orders"].as_array().map(Vec::len),
        Some(1),
        "{listed}"
    );
}

/// The bucket goes away under an upload: the phone gets 503 `store_unavailable` with a
/// Retry-After, nothing is written, and the same upload sent again once the bucket is back is
/// accepted and analysed.
#[tokio::test]
async fn an_upload_while_the_bucket_is_down_is_503_and_its_retry_goes_through() {
    let mut s3 = S3Server::start();
    let dir = tempfile::tempdir().unwrap();
    let shape = Shape {
        dir: dir.path(),
        database: None,
        s3: Some(&s3),
    };
    let (_served, addr) = serve_with(shape, &[]);
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
    let (token, session, link) = filer_with_a_session(&http, &base).await;
    let phone = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    let photo = crate::helpers::photo(Label::Good, 81);
    let upload = || {
        phone
            .post(format!("{base}/api/v1/m/{link}/materials/id_card_front"))
            .header("content-type", "image/jpeg")
            .header("idempotency-key", "front-1")
            .body(photo.clone())
            .send()
    };

    s3.stop();
    let res = upload().await.unwrap();
    assert_store_unavailable(res).await;
    let db = crate::helpers::database(dir.path()).await;
    let materials: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM materials")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(materials, 0, "nothing half-written");

    s3.resume();
    assert_eq!(upload().await.unwrap().status().as_u16(), 202);
    let state = analysed_state(&http, &base, &token, &session).await;
    assert_eq!(state, "pass");
}
