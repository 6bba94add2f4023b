//! The kill series: two `serve --workers 0` instances and two `beian worker` processes on one
//! PostgreSQL database (scripts/postgres) and one S3 bucket (s3s-fs from scripts/setup), the
//! scaled-out shape, phones uploading through
//! either instance, and 20 times one of the four processes killed with SIGKILL and started
//! again. Once everything is analysed, what the stores hold is checked against what was
//! acknowledged. `cargo bench --bench kills` prints the uploads acknowledged and lost, the
//! rows naming a missing object, the objects no row names, and how the jobs ended.

#[allow(dead_code)] // shared with the uploads bench, which measures memory too
mod common;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};

use common::postgres::PostgresServer;
use common::{base_photos, beian, s3, sessions, unique, Process};

const PHONES: usize = 24;
const KINDS: [&str; 3] = ["id_card_front", "id_card_back", "residence_permit"];
const KILLS: usize = 20;
/// Phone `i` starts after `i` of these, so uploads go on through the whole series.
const STAGGER: Duration = Duration::from_millis(1200);
const BETWEEN_KILLS: Duration = Duration::from_millis(1500);

/// The four processes: slots 0 and 1 serve HTTP, 2 and 3 analyse.
struct Fleet {
    dir: std::path::PathBuf,
    config: String,
    postgres: PostgresServer,
    s3: s3::S3Server,
    processes: Vec<Option<Process>>,
    /// The serving instances' current addresses (a restarted one gets a new port).
    addrs: Arc<Mutex<Vec<String>>>,
}

impl Fleet {
    fn start(&mut self, slot: usize) {
        let process = if slot < 2 {
            let (process, addr) = beian(
                &self.dir,
                Some(&self.postgres),
                Some(&self.s3),
                &["--config", &self.config, "serve", "--workers", "0"],
                "addr=",
            );
            let line = addr
                .recv_timeout(Duration::from_secs(120))
                .expect("the service logs its address");
            let addr = line
                .split("addr=")
                .nth(1)
                .and_then(|a| a.split_whitespace().next())
                .expect("an address")
                .to_string();
            self.addrs.lock().expect("addresses")[slot] = addr;
            process
        } else {
            beian(
                &self.dir,
                Some(&self.postgres),
                Some(&self.s3),
                &["--config", &self.config, "worker", "--workers", "1"],
                "never logged",
            )
            .0
        };
        self.processes[slot] = Some(process);
    }

    fn kill(&mut self, slot: usize) {
        if let Some(p) = self.processes[slot].take() {
            p.kill_now();
        }
    }
}

#[tokio::main]
async fn main() {
    let photos = base_photos();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("kills.toml");
    std::fs::write(&config, "analysis_lease_seconds = 3\n").expect("config");
    let mut fleet = Fleet {
        dir: dir.path().to_path_buf(),
        config: config.to_string_lossy().into_owned(),
        postgres: PostgresServer::start(),
        s3: s3::S3Server::start(),
        processes: (0..4).map(|_| None).collect(),
        addrs: Arc::new(Mutex::new(vec![String::new(); 2])),
    };
    // The first instance alone creates the key and the database.
    for slot in 0..4 {
        fleet.start(slot);
    }
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client");
    let base = format!("http://{}", fleet.addrs.lock().expect("addresses")[0]);
    let (_token, links) = sessions(&http, &base, PHONES, &KINDS).await;

    let started = Instant::now();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let refused = Arc::new(Mutex::new(0usize));
    let phones: Vec<_> = links
        .iter()
        .enumerate()
        .map(|(i, (session, link))| {
            let (session, link, photos) = (session.clone(), link.clone(), photos.clone());
            let (addrs, acknowledged, refused) =
                (fleet.addrs.clone(), acknowledged.clone(), refused.clone());
            tokio::spawn(async move {
                tokio::time::sleep(STAGGER * i as u32).await;
                let phone = reqwest::Client::builder()
                    .cookie_store(true)
                    .timeout(Duration::from_secs(60))
                    .build()
                    .expect("client");
                for (k, kind) in KINDS.iter().enumerate() {
                    let body = unique(&photos[(i + k) % photos.len()], &format!("{i}/{k}"));
                    let deadline = Instant::now() + Duration::from_secs(300);
                    for attempt in 0.. {
                        let addr = addrs.lock().expect("addresses")[(i + attempt) % 2].clone();
                        let res = phone
                            .post(format!("http://{addr}/api/v1/m/{link}/materials/{kind}"))
                            .header("content-type", "image/jpeg")
                            .header("idempotency-key", format!("{i}-{k}"))
                            .body(body.clone())
                            .send()
                            .await;
                        match res.map(|r| r.status().as_u16()) {
                            Ok(202) => {
                                acknowledged
                                    .lock()
                                    .expect("acknowledged")
                                    .push((session.clone(), kind.to_string()));
                                break;
                            }
                            // An instance killed or starting, or busy: the other one, or later.
                            Err(_) | Ok(503) if Instant::now() < deadline => {
                                tokio::time::sleep(Duration::from_millis(300)).await;
                            }
                            _ => {
                                *refused.lock().expect("refused") += 1;
                                break;
                            }
                        }
                    }
                }
            })
        })
        .collect();

    let mut rng = rand::rngs::StdRng::seed_from_u64(2026);
    let (mut serve_kills, mut worker_kills) = (0, 0);
    for _ in 0..KILLS {
        tokio::time::sleep(BETWEEN_KILLS).await;
        let slot = rng.gen_range(0..4);
        fleet.kill(slot);
        if slot < 2 {
            serve_kills += 1;
        } else {
            worker_kills += 1;
        }
        let fleet_ref = &mut fleet;
        tokio::task::block_in_place(|| fleet_ref.start(slot));
    }
    for phone in phones {
        phone.await.expect("phone");
    }

    let db = beian::store::connect(Some(&fleet.postgres.url), dir.path())
        .await
        .expect("database");
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let open: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM analysis_jobs WHERE state != 'done'")
                .fetch_one(&db)
                .await
                .expect("jobs");
        if open == 0 || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let took = started.elapsed();

    let acknowledged = acknowledged.lock().expect("acknowledged").clone();
    let mut lost = 0;
    let mut twice = 0;
    for (session, kind) in &acknowledged {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM materials WHERE session_id = $1 AND kind = $2",
        )
        .bind(session)
        .bind(kind)
        .fetch_one(&db)
        .await
        .expect("materials");
        match n {
            0 => lost += 1,
            1 => {}
            _ => twice += 1,
        }
    }
    let named: Vec<String> = sqlx::query_scalar("SELECT blob FROM materials")
        .fetch_all(&db)
        .await
        .expect("blobs");
    let objects: HashSet<String> = fleet.s3.objects("bench").into_iter().collect();
    let without_object = named.iter().filter(|b| !objects.contains(*b)).count();
    let named: HashSet<String> = named.into_iter().collect();
    let orphans = objects.iter().filter(|o| !named.contains(*o)).count();
    let jobs: Vec<(String, i64)> = sqlx::query_as("SELECT state, attempts FROM analysis_jobs")
        .fetch_all(&db)
        .await
        .expect("jobs");
    let done = jobs.iter().filter(|(s, _)| s == "done").count();
    let retried = jobs.iter().filter(|(_, a)| *a > 1).count();
    let max_attempts = jobs.iter().map(|(_, a)| *a).max().unwrap_or(0);
    let unjudged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM materials WHERE verdict IS NULL")
        .fetch_one(&db)
        .await
        .expect("verdicts");
    let failed: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM materials WHERE verdict LIKE '%analysis_failed%'")
            .fetch_one(&db)
            .await
            .expect("verdicts");
    db.close().await;
    for slot in 0..4 {
        fleet.processes[slot].take();
    }

    println!(
        "kill series: {PHONES} phones x {} photos through 2 serve instances, 2 worker processes, \
         one PostgreSQL database and one S3 bucket (s3s-fs), on 127.0.0.1\n",
        KINDS.len()
    );
    println!("| kills (serve / worker) | uploads acknowledged | refused | lost | stored twice | rows without their object | objects no row names (the sweep's) | jobs done / all | jobs run more than once | most attempts | materials without a verdict | analysis_failed | took (s) |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} ({serve_kills} / {worker_kills}) | {} | {} | {lost} | {twice} | {without_object} | {orphans} | {done} / {} | {retried} | {max_attempts} | {unjudged} | {failed} | {:.0} |",
        serve_kills + worker_kills,
        acknowledged.len(),
        *refused.lock().expect("refused"),
        jobs.len(),
        took.as_secs_f64()
    );
}
