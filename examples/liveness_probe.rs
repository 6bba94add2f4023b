//! Per-frame poses and the evaluation of synthetic captures of one person:
//! `cargo run --release --example liveness_probe -- [astronaut|grace_hopper]`.
use std::path::Path;

use beian::synth::face_calibration::{flat_capture, live_capture, load_people};
use beian::vision::face::capture;
use beian::vision::face::liveness::{Action, Thresholds};
use beian::vision::models::Models;
use beian::vision::ocr::OcrModels;

fn main() -> anyhow::Result<()> {
    let models = Models::shared(Path::new("models"), OcrModels::Ppocrv6Small, 2)?;
    let who = std::env::args().nth(1).unwrap_or("astronaut".into());
    let people = load_people(&models, Path::new("models/fixtures"))?;
    let person = people
        .iter()
        .find(|p| p.name == who)
        .expect("a fixture person");
    for action in Action::ALL {
        for (case, frames) in [
            ("live", live_capture(person, &[action], 450)),
            ("flat", flat_capture(person, &[action], 450)),
        ] {
            let r = capture::judge(&models.face, &frames, &[action], &Thresholds::default())?;
            let poses: Vec<String> = r
                .frames
                .iter()
                .map(|f| {
                    f.pose.map_or("-".into(), |p| {
                        format!("{:.2}/{:.2}/{:.0}", p.yaw, p.pitch, p.scale)
                    })
                })
                .collect();
            let lm: Vec<_> = r
                .frames
                .iter()
                .filter_map(|f| f.face.map(|f| f.landmarks))
                .collect();
            let h: Vec<String> = lm
                .iter()
                .map(|l| {
                    let (x, y) = beian::vision::face::homography::nose_parallax(&lm[0], l)
                        .unwrap_or((-9.0, -9.0));
                    format!("{x:.2},{y:.2}")
                })
                .collect();
            println!("   H {}", h.join(" "));
            println!(
                "{action:?} {case}: {} {:?} | {}",
                r.state,
                r.evaluation.as_ref().map(|e| (
                    e.parallax,
                    e.actions.iter().map(|a| a.progress).collect::<Vec<_>>()
                )),
                poses.join(" ")
            );
        }
    }
    if let Some(dir) = std::env::args().nth(2) {
        for (i, (_, f)) in live_capture(person, &[Action::Nod, Action::LookUp], 450)
            .iter()
            .enumerate()
        {
            f.save(format!("{dir}/live-{i}.jpg"))?;
        }
    }
    Ok(())
}
