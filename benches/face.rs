//! The verdict for a 10-frame liveness capture, as `POST /liveness` computes it once the
//! frames are in memory: decoding the phone's JPEGs, detection on every frame, embeddings of
//! three, the passive model on one. Stage by stage, median of 15 runs after one warm-up; also
//! one face photo's `check`. Prints numbers; asserts nothing. `cargo bench --bench face`
//! (needs `beian fetch --fixtures`).

use std::path::Path;
use std::time::{Duration, Instant};

use beian::synth::face_calibration::{live_capture, load_people};
use beian::vision::decode::{self, IntakeLimits};
use beian::vision::face::capture;
use beian::vision::face::liveness::{Action, Thresholds};
use beian::vision::models::Models;
use beian::vision::ocr::OcrModels;

const RUNS: usize = 15;

fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let models_dir = root.join("models");
    let fixtures = beian::vendor::ensure_fixtures(&models_dir)?;
    let fixtures_dir = fixtures
        .values()
        .next()
        .and_then(|p| p.parent())
        .ok_or_else(|| anyhow::anyhow!("no fixtures"))?;
    let models = Models::shared(&models_dir, OcrModels::Ppocrv6Small, 2)?;
    let people = load_people(&models, fixtures_dir)?;
    let person = &people[1];
    let challenge = [Action::TurnLeft, Action::LookUp];
    // What a phone sends: 480×640 JPEGs at quality 85 (about 40 KB each).
    let frames: Vec<(u64, Vec<u8>)> = live_capture(person, &challenge, 450)
        .into_iter()
        .map(|(t, img)| (t, decode::reencode_jpeg(&img, 85)))
        .collect();
    let bytes: usize = frames.iter().map(|(_, b)| b.len()).sum();
    println!(
        "capture: {} frames of 480×640, {} KB in all, challenge {challenge:?}",
        frames.len(),
        bytes / 1024
    );
    let limits = IntakeLimits::default();
    let thresholds = Thresholds::default();
    let (mut decode_t, mut detect, mut embed, mut passive, mut total) =
        (vec![], vec![], vec![], vec![], vec![]);
    let mut state = "";
    for run in 0..=RUNS {
        let started = Instant::now();
        let decoded: Vec<_> = frames
            .iter()
            .map(|(t, b)| Ok((*t, capture::decode_frame(b, &limits)?)))
            .collect::<Result<_, decode::IntakeError>>()?;
        let decoded_at = started.elapsed();
        let report = capture::judge(&models.face, &decoded, &challenge, &thresholds)?;
        let elapsed = started.elapsed();
        state = report.state;
        if run == 0 {
            continue; // warm-up: the first run of each session allocates its buffers
        }
        decode_t.push(decoded_at);
        detect.push(report.timings.detect);
        embed.push(report.timings.embed);
        passive.push(report.timings.passive);
        total.push(elapsed);
    }
    println!("verdict: {state}\n");
    println!("| stage | median ms |\n|---|---|");
    println!("| decode 10 JPEGs | {:.1} |", median_ms(decode_t));
    println!("| detect (YuNet, every frame) | {:.1} |", median_ms(detect));
    println!("| embed (SFace, 3 frames) | {:.1} |", median_ms(embed));
    println!("| passive (FAS, 1 frame) | {:.1} |", median_ms(passive));
    println!("| **verdict, end to end** | **{:.1}** |", median_ms(total));
    Ok(())
}
