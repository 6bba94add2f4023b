//! Load on loopback: 32 simulated phones, each uploading 3 photos of about 3 MB at once, to a
//! real `beian serve` on 127.0.0.1 (a child process, so its memory is its own), in each
//! shape the service runs in: analysis inside `serve`; `serve --workers 0` with one and with
//! two `beian worker` processes (one worker each, side by side: does throughput grow with
//! processes on this machine?); the blobs in an S3 bucket (s3s-fs from scripts/setup); and
//! the scaled-out store, PostgreSQL (Debian's server, scripts/postgres) with the S3 bucket.
//! `cargo bench --bench uploads` prints per shape the 202 latency (p50/p95), the analysis
//! throughput and the processes' peak resident sets; every request is bounded in count and
//! time.

use std::time::{Duration, Instant};

use serde_json::Value;

use common::postgres::PostgresServer;
use common::{base_photos, beian, peak_rss_mib, s3, sessions, unique, Process};

#[allow(dead_code)] // shared with the kill series, which kills processes too
mod common;

const PHONES: usize = 32;
const KINDS: [&str; 3] = ["id_card_front", "id_card_back", "residence_permit"];

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0
}

/// One way of running the service.
struct Shape {
    name: &'static str,
    /// `serve --workers N`; None: the default (2 workers inside).
    serve_workers: Option<usize>,
    /// `beian worker --workers 1` processes beside it.
    worker_processes: usize,
    s3: bool,
    postgres: bool,
}

const SHAPES: [Shape; 5] = [
    Shape {
        name: "serve (2 workers inside)",
        serve_workers: None,
        worker_processes: 0,
        s3: false,
        postgres: false,
    },
    Shape {
        name: "serve --workers 0 + 1 worker process",
        serve_workers: Some(0),
        worker_processes: 1,
        s3: false,
        postgres: false,
    },
    Shape {
        name: "serve --workers 0 + 2 worker processes",
        serve_workers: Some(0),
        worker_processes: 2,
        s3: false,
        postgres: false,
    },
    Shape {
        name: "serve (2 workers inside), blobs on S3",
        serve_workers: None,
        worker_processes: 0,
        s3: true,
        postgres: false,
    },
    Shape {
        name: "serve (2 workers inside), PostgreSQL + S3",
        serve_workers: None,
        worker_processes: 0,
        s3: true,
        postgres: true,
    },
];

#[tokio::main]
async fn main() {
    let photos = base_photos();
    let bytes_per_upload = photos.iter().map(Vec::len).sum::<usize>() / photos.len();
    println!(
        "uploads: {PHONES} phones x {} photos of about {:.1} MB, on 127.0.0.1\n",
        KINDS.len(),
        bytes_per_upload as f64 / 1e6
    );
    println!("| shape | uploads | errors | 503 retries | 202 p50 (ms) | 202 p95 (ms) | all accepted in (s) | all analysed in (s) | analysis (photos/s) | serve peak RSS (MiB) | worker processes' peak RSS (MiB) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    for shape in &SHAPES {
        println!("{}", run(shape, &photos).await);
    }
}

/// The load on the service run as `shape`: its row of the table.
async fn run(shape: &Shape, photos: &[Vec<u8>]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let s3 = shape.s3.then(s3::S3Server::start);
    let postgres = shape.postgres.then(PostgresServer::start);
    let workers = shape.serve_workers.map(|n| n.to_string());
    let serve_args: Vec<&str> = match &workers {
        Some(n) => vec!["serve", "--workers", n],
        None => vec!["serve"],
    };
    let (server, addr) = beian(
        dir.path(),
        postgres.as_ref(),
        s3.as_ref(),
        &serve_args,
        "addr=",
    );
    let addr = addr
        .recv_timeout(Duration::from_secs(60))
        .expect("the service logs its address");
    let addr = addr
        .split("addr=")
        .nth(1)
        .and_then(|a| a.split_whitespace().next())
        .expect("an address")
        .to_string();
    let worker_processes: Vec<Process> = (0..shape.worker_processes)
        .map(|_| {
            let (worker, running) = beian(
                dir.path(),
                postgres.as_ref(),
                s3.as_ref(),
                &["worker", "--workers", "1"],
                "analysis worker running",
            );
            running
                .recv_timeout(Duration::from_secs(120))
                .expect("the worker starts");
            worker
        })
        .collect();
    let base = format!("http://{addr}");
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("client");
    let (token, links) = sessions(&http, &base, PHONES, &KINDS).await;

    let start = Instant::now();
    let tasks: Vec<_> = links
        .iter()
        .enumerate()
        .map(|(i, (_, link))| {
            let (base, link, photos) = (base.clone(), link.clone(), photos.to_vec());
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
    let peak = peak_rss_mib(server.0.id());
    let workers_peak: Vec<String> = worker_processes
        .iter()
        .map(|w| format!("{:.0}", peak_rss_mib(w.0.id())))
        .collect();
    drop(worker_processes);
    drop(server);

    latencies.sort();
    let n = latencies.len();
    format!(
        "| {} | {n} | {errors} | {retries} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2} | {peak:.0} | {} |",
        shape.name,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        uploaded_in.as_secs_f64(),
        analysed_in.as_secs_f64(),
        n as f64 / analysed_in.as_secs_f64(),
        if workers_peak.is_empty() {
            "—".to_string()
        } else {
            workers_peak.join(", ")
        }
    )
}
