//! Load on loopback: 32 simulated phones, each uploading 3 photos of about 3 MB at once, to a
//! real `beian serve` on 127.0.0.1 (a child process, so its memory is its own).
//! `cargo bench --bench uploads` prints the 202 latency (p50/p95), the analysis throughput
//! and the server's peak resident set; every request is bounded in count and time.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use beian::synth::{card, font, identity::Identity, scene};
use beian::vision::decode::reencode_jpeg;
use rand::SeedableRng;
use serde_json::{json, Value};

const PHONES: usize = 32;
const KINDS: [&str; 3] = ["id_card_front", "id_card_back", "residence_permit"];

/// A few distinct ~3 MB photos; each upload gets its own bytes by a JPEG comment (COM)
/// segment, so no two uploads are byte-identical (the service would recognise those).
fn base_photos() -> Vec<Vec<u8>> {
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

fn unique(jpeg: &[u8], tag: &str) -> Vec<u8> {
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xFE]);
    out.extend_from_slice(&((tag.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(tag.as_bytes());
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn peak_rss_mib(pid: u32) -> f64 {
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

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let photos = base_photos();
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_beian"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--log",
            "warn,beian=info",
            "--data-dir",
        ])
        .arg(dir.path())
        .arg("--models-dir")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/models"))
        .arg("serve")
        .stderr(Stdio::piped())
        .spawn()
        .expect("beian serve starts");
    let pid = child.id();
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(addr) = line.split("addr=").nth(1) {
                let _ = tx.send(addr.split_whitespace().next().unwrap_or("").to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("the service logs its address");
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");

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
        serde_json::from_str(include_str!("../fixtures/orders/minimal.json")).expect("fixture");
    let mut links = Vec::new();
    for _ in 0..PHONES {
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
            .json(&json!({"person": "principal", "materials": KINDS}))
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

    let bytes_per_upload = photos.iter().map(Vec::len).sum::<usize>() / photos.len();
    let start = Instant::now();
    let tasks: Vec<_> = links
        .iter()
        .enumerate()
        .map(|(i, (_, link))| {
            let (base, link, photos) = (base.clone(), link.clone(), photos.clone());
            tokio::spawn(async move {
                let phone = reqwest::Client::builder()
                    .cookie_store(true)
                    .timeout(Duration::from_secs(120))
                    .build()
                    .expect("client");
                let _ = phone.get(format!("{base}/api/v1/m/{link}")).send().await;
                let mut out = Vec::new();
                for (k, kind) in KINDS.iter().enumerate() {
                    let body = unique(
                        &photos[(i + k) % photos.len()],
                        &format!("phone {i} photo {k}"),
                    );
                    let t = Instant::now();
                    // As the phone page does: a 503 says when to come back; the retry carries
                    // the same idempotency key, so it is never stored twice.
                    let mut retries = 0;
                    let status = loop {
                        let res = phone
                            .post(format!("{base}/api/v1/m/{link}/materials/{kind}"))
                            .header("content-type", "image/jpeg")
                            .header("idempotency-key", format!("{i}-{k}"))
                            .body(body.clone())
                            .send()
                            .await;
                        match res {
                            Ok(r) if r.status().as_u16() == 503 && retries < 20 => {
                                let wait = r
                                    .headers()
                                    .get("retry-after")
                                    .and_then(|v| v.to_str().ok()?.parse().ok())
                                    .unwrap_or(1u64);
                                retries += 1;
                                tokio::time::sleep(Duration::from_millis(wait * 250)).await;
                            }
                            Ok(r) => break r.status().as_u16(),
                            // A 503 sent before the body was read closes the connection under
                            // the upload; the phone sees a network error and retries.
                            Err(_) if retries < 20 => {
                                retries += 1;
                                tokio::time::sleep(Duration::from_millis(250)).await;
                            }
                            Err(_) => break 0,
                        }
                    };
                    out.push((t.elapsed(), status, retries));
                }
                out
            })
        })
        .collect();
    let mut latencies = Vec::new();
    let (mut errors, mut retries) = (0, 0);
    for t in tasks {
        for (d, status, r) in t.await.expect("phone task") {
            latencies.push(d);
            retries += r;
            if status != 202 {
                errors += 1;
            }
        }
    }
    let uploaded_in = start.elapsed();

    // Every accepted upload is analysed: poll the sessions until none is analysing.
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let mut busy = 0;
        for (id, _) in &links {
            let s: Value = http
                .get(format!("{base}/api/v1/upload-sessions/{id}"))
                .bearer_auth(&token)
                .send()
                .await
                .expect("poll")
                .json()
                .await
                .expect("json");
            busy += s["materials"].as_array().map_or(0, |m| {
                m.iter().filter(|m| m["state"] == "analyzing").count()
            });
        }
        if busy == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let analysed_in = start.elapsed();
    let peak = peak_rss_mib(pid);
    let _ = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    let _ = child.wait();

    latencies.sort();
    let n = latencies.len();
    println!(
        "uploads: {PHONES} phones x {} photos of about {:.1} MB, on 127.0.0.1\n",
        KINDS.len(),
        bytes_per_upload as f64 / 1e6
    );
    println!("| uploads | errors | 503 retries | 202 p50 (ms) | 202 p95 (ms) | all accepted in (s) | all analysed in (s) | analysis (photos/s) | server peak RSS (MiB) |");
    println!("|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {n} | {errors} | {retries} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2} | {peak:.0} |",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        uploaded_in.as_secs_f64(),
        analysed_in.as_secs_f64(),
        n as f64 / analysed_in.as_secs_f64()
    );
}
