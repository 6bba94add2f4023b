//! The quality gate's speed and memory on phone-sized photos (a bench that prints numbers;
//! nothing here asserts a time). `cargo bench --bench gate`
//!
//! For each case (a 12-megapixel and a 50-megapixel JPEG of a synthetic ID card, and an
//! 8-megapixel PNG), the whole gate runs repeatedly on one thread (the JPEG decoder's own
//! worker thread aside), from the bytes as `Photo::decode` takes them: a JPEG decoded at the
//! IDCT scale the gate looks at, a PNG at full size; `decode` is that and the resize to the
//! gate's image. The table gives the median of each stage and of the total. Peak memory is
//! measured in a child process per case (the high-water mark of its resident set, from
//! /proc/self/status), so the cases do not mix.

use std::process::Command;
use std::time::{Duration, Instant};

use beian::filing::materials::MaterialKind;
use beian::synth::{card, font, identity::Identity, scene};
use beian::vision::decode::{reencode_jpeg, IntakeLimits, Photo};
use beian::vision::gate::{self, Thresholds};
use rand::SeedableRng;

const RUNS: usize = 21;

fn photo(w: u32, h: u32) -> image::RgbImage {
    let font = font::load_cjk_font().expect("a CJK font (scripts/setup installs fonts-wqy-zenhei)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let id = Identity::random(&mut rng);
    let front = card::front(&id, &font, &mut rng);
    scene::photo(&front, scene::Label::Good, w, h, &mut rng).image
}

fn encode(img: &image::RgbImage, png: bool) -> Vec<u8> {
    if png {
        let mut out = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .expect("PNG encodes");
        out
    } else {
        reencode_jpeg(img, 92)
    }
}

fn case_bytes(name: &str) -> Vec<u8> {
    match name {
        "12mp-jpeg" => encode(&photo(4000, 3000), false),
        "50mp-jpeg" => encode(&photo(8160, 6120), false),
        "8mp-png" => encode(&photo(3264, 2448), true),
        other => panic!("unknown case {other}"),
    }
}

fn median(mut v: Vec<Duration>) -> f64 {
    v.sort();
    v[v.len() / 2].as_secs_f64() * 1000.0
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmHWM:")).map(|l| {
                l.split_whitespace()
                    .nth(1)
                    .unwrap_or("0")
                    .parse()
                    .unwrap_or(0)
            })
        })
        .unwrap_or(0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // Child mode: judge one case once and report the peak resident set.
    if let Some(pos) = args.iter().position(|a| a == "--peak-memory") {
        let path = &args[pos + 1];
        let bytes = std::fs::read(path).expect("case file");
        let before = peak_rss_kib();
        let photo = Photo::decode(&bytes, &IntakeLimits::default()).expect("the photo decodes");
        let j = gate::judge(&photo, MaterialKind::IdCardFront, &Thresholds::default());
        println!("{} {} {}", before, peak_rss_kib(), j.verdict.verdict);
        return;
    }
    let dir = std::env::temp_dir().join(format!("beian-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    println!("quality gate, median of {RUNS} runs on one thread (ms)\n");
    println!("| case | bytes | probe | decode | detect | rectify | measure | total | verdict | peak RSS (MiB) |");
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for name in ["12mp-jpeg", "50mp-jpeg", "8mp-png"] {
        let bytes = case_bytes(name);
        let path = dir.join(name);
        std::fs::write(&path, &bytes).expect("write case");
        let limits = IntakeLimits::default();
        let t = Thresholds::default();
        let (mut probe, mut dec, mut det, mut rect, mut meas, mut total) =
            (vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut verdict = String::new();
        for _ in 0..RUNS {
            let start = Instant::now();
            let photo = Photo::decode(&bytes, &limits).expect("the photo decodes");
            let j = gate::judge(&photo, MaterialKind::IdCardFront, &t);
            total.push(start.elapsed());
            probe.push(j.timings.probe);
            dec.push(j.timings.decode);
            det.push(j.timings.detect);
            rect.push(j.timings.rectify);
            meas.push(j.timings.measure);
            verdict = format!("{} {:?}", j.verdict.verdict, j.verdict.reasons);
        }
        let child = Command::new(&args[0])
            .arg("--peak-memory")
            .arg(&path)
            .output()
            .expect("child runs");
        let report = String::from_utf8_lossy(&child.stdout);
        let peak_mib = report
            .split_whitespace()
            .nth(1)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
            / 1024.0;
        println!(
            "| {name} | {} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {verdict} | {peak_mib:.0} |",
            bytes.len(),
            median(probe),
            median(dec),
            median(det),
            median(rect),
            median(meas),
            median(total)
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
