//! `check` of an ID card front from a 12-megapixel phone JPEG, end to end (decode, quality
//! gate, flattening, OCR, parsing, cross-checks), stage by stage; and side by side, the
//! RapidOCR Python pipeline (the `rapidocr` package, the same PP-OCRv6 models on the same
//! ONNX Runtime) on the same JPEG and on the same flattened card. Prints numbers; asserts
//! nothing. `cargo bench --bench ocr`
//!
//! The Python side runs in target/rapidocr-venv, created on the first run from
//! benches/rapidocr-requirements.txt (pinned versions and sha256 hashes). Set
//! `BEIAN_BENCH_NO_PYTHON=1` to skip it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use beian::filing::crosscheck::Typed;
use beian::filing::division::Divisions;
use beian::filing::materials::MaterialKind;
use beian::filing::today_in_china;
use beian::inspect;
use beian::synth::{card, font, identity::Identity, scene};
use beian::vision::decode::{self, IntakeLimits};
use beian::vision::gate::Thresholds;
use beian::vision::models::Models;
use beian::vision::ocr::OcrModels;
use rand::SeedableRng;

const RUNS: usize = 21;

fn median_ms(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn main() -> anyhow::Result<()> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let work = root.join("target/bench-ocr");
    std::fs::create_dir_all(&work)?;

    let font = font::load_cjk_font()?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let id = Identity::random(&mut rng);
    let front = card::front(&id, &font, &mut rng);
    let photo = scene::photo(&front, scene::Label::Good, 4000, 3000, &mut rng).image;
    let jpeg = decode::reencode_jpeg(&photo, 92);
    let jpeg_path = work.join("card-12mp.jpg");
    std::fs::write(&jpeg_path, &jpeg)?;

    let rss_before = status_kib("VmRSS:");
    let started = Instant::now();
    let models = Models::shared(&root.join("models"), OcrModels::Ppocrv6Small, 2)?;
    let load = started.elapsed();
    let rss_models = status_kib("VmRSS:");

    let (limits, thresholds) = (IntakeLimits::default(), Thresholds::default());
    let mut stages: Vec<(&'static str, Vec<Duration>)> = Vec::new();
    let mut totals = Vec::new();
    let mut flat = None;
    for run in 0..RUNS + 2 {
        let start = Instant::now();
        let looked = inspect::look(
            &jpeg,
            MaterialKind::IdCardFront,
            &limits,
            &thresholds,
            &models,
        )?
        .map_err(|e| anyhow::anyhow!("the bench photo was refused: {e}"))?;
        let c = inspect::conclude(
            &looked,
            &Typed::default(),
            Divisions::embedded(),
            today_in_china(),
        );
        let total = start.elapsed();
        anyhow::ensure!(
            c.verdict.verdict == beian::filing::materials::MaterialState::Pass,
            "the bench photo did not pass: {}",
            c.verdict.to_value()
        );
        if run < 2 {
            continue; // warm-up: the first runs allocate ONNX Runtime's arenas
        }
        totals.push(total);
        for (i, (name, d)) in inspect::stage_timings(&looked).into_iter().enumerate() {
            if stages.len() <= i {
                stages.push((name, Vec::new()));
            }
            stages[i].1.push(d);
        }
        flat = looked.reading.map(|r| r.flat);
    }
    let flat = flat.expect("the card was read");
    let flat_path = work.join("card-flat.png");
    flat.save(&flat_path)?;

    // Our OCR alone on the flattened card, to compare with RapidOCR on the same image.
    let mut ocr_only = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        models.ocr.read(&flat)?;
        ocr_only.push(start.elapsed());
    }

    let ours_total = median_ms(totals);
    let ours_ocr = median_ms(ocr_only);
    println!("## `check` of an ID card front, 12 MP JPEG (4000×3000), median of {RUNS} runs\n");
    println!("| stage | ms |\n|---|---|");
    for (name, v) in stages {
        println!("| {name} | {:.1} |", median_ms(v));
    }
    println!("| **total** | **{ours_total:.1}** |\n");
    println!(
        "Models loaded in {:.0} ms; resident memory {} MiB before, {} MiB with the models loaded, peak {} MiB after the runs.\n",
        load.as_secs_f64() * 1000.0,
        rss_before / 1024,
        rss_models / 1024,
        status_kib("VmHWM:") / 1024
    );

    if std::env::var_os("BEIAN_BENCH_NO_PYTHON").is_some() {
        return Ok(());
    }
    match rapidocr(root, &[&jpeg_path, &flat_path]) {
        Ok(v) => {
            let rapid_jpeg = v[jpeg_path.to_string_lossy().as_ref()]["median_ms"]
                .as_f64()
                .unwrap_or(f64::NAN);
            let rapid_flat = v[flat_path.to_string_lossy().as_ref()]["median_ms"]
                .as_f64()
                .unwrap_or(f64::NAN);
            println!("## Against RapidOCR 3.10.0 (Python, same models, same ONNX Runtime)\n");
            println!("| input | beian ms | RapidOCR ms | RapidOCR / beian |\n|---|---|---|---|");
            println!(
                "| 12 MP JPEG, end to end (ours: decode, gate, flatten, OCR, parse) | {ours_total:.1} | {rapid_jpeg:.1} | {:.2}× |",
                rapid_jpeg / ours_total
            );
            println!(
                "| the flattened card ({}×{} PNG), OCR only | {ours_ocr:.1} | {rapid_flat:.1} | {:.2}× |",
                flat.width(),
                flat.height(),
                rapid_flat / ours_ocr
            );
            println!(
                "\nRapidOCR read {} lines on the JPEG: {}",
                v[jpeg_path.to_string_lossy().as_ref()]["lines"],
                v[jpeg_path.to_string_lossy().as_ref()]["texts"]
            );
        }
        Err(e) => println!("RapidOCR comparison skipped: {e:#}"),
    }
    Ok(())
}

/// Runs benches/rapidocr_bench.py in a venv built from the pinned requirements.
fn rapidocr(root: &Path, images: &[&PathBuf]) -> anyhow::Result<serde_json::Value> {
    let venv = root.join("target/rapidocr-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()?
            .success();
        anyhow::ensure!(ok, "python3 -m venv failed");
        let ok = Command::new(&python)
            .args(["-m", "pip", "install", "--quiet", "--require-hashes", "-r"])
            .arg(root.join("benches/rapidocr-requirements.txt"))
            .status()?
            .success();
        if !ok {
            let _ = std::fs::remove_dir_all(&venv);
            anyhow::bail!("installing the pinned RapidOCR requirements failed");
        }
    }
    let out = Command::new(&python)
        .arg(root.join("benches/rapidocr_bench.py"))
        .arg(RUNS.to_string())
        .args(images)
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "rapidocr_bench.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}
