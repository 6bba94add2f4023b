//! The real binary: `beian serve` starts on a fresh data directory, answers, and shuts down
//! gracefully on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `beian serve`, killed if a failed test drops it (an orphan would hold the test
/// runner's output pipes open).
struct Served(Child);

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `beian serve` on port 0 over `dir`; returns the child and its address (read from
/// the log on stderr).
fn serve(dir: &std::path::Path) -> (Served, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_beian"))
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .arg("--models-dir")
        .arg(crate::helpers::models_dir())
        .arg("serve")
        .env_remove("BEIAN_MASTER_KEY")
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
    let served = Served(child);
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the service logs its address");
    (served, addr)
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
    assert!(dir.path().join("beian.db").exists());
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
    use beian::synth::scene::Label;
    use serde_json::{json, Value};

    let dir = tempfile::tempdir().unwrap();
    let (mut served, addr) = serve(dir.path());
    let base = format!("http://{addr}");
    let http = reqwest::Client::new();
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
    let res = http
        .post(format!("{base}/api/v1/m/{link}/materials/id_card_front"))
        .header("content-type", "image/jpeg")
        .body(crate::helpers::photo(Label::Good, 81))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    served.0.kill().unwrap();
    served.0.wait().unwrap();

    let (mut served, addr) = serve(dir.path());
    let url = format!(
        "http://{addr}/api/v1/upload-sessions/{}?wait=5s",
        session["id"].as_str().unwrap()
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let state = loop {
        let s: Value = http
            .get(&url)
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let state = s["materials"][0]["state"].as_str().unwrap().to_string();
        if state != "analyzing" || Instant::now() > deadline {
            break state;
        }
    };
    assert_eq!(
        state, "pass",
        "the accepted upload was analysed after the restart"
    );
    served.0.kill().unwrap();
    served.0.wait().unwrap();
}
