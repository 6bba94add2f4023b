//! The PC and phone pages in real headless Chromium (tests/browser/flow.mjs, driven by
//! playwright-core against Debian's chromium), against a real server on a real port.
//! Screenshots of each step are kept in tests/browser/artifacts/.

use std::path::Path;
use std::process::Command;

use beian::synth::scene::Label;

use beian::synth::face::{performing_pose, phone_frame, turning_head};
use beian::synth::face_calibration::load_people;
use beian::vision::face::liveness::Action;
use beian::vision::models::Models;
use beian::vision::ocr::OcrModels;

use crate::helpers::{models_dir, photo, spawn_app};

/// The fake front camera's pictures (tests/browser/flow.mjs shows the one the page's prompt
/// asks for): Grace Hopper's photo as a head facing the camera, and half-way through and at
/// the peak of each action.
fn camera_frames(dir: &Path) {
    let models = Models::shared(&models_dir(), OcrModels::Ppocrv6Small, 2).unwrap();
    let fixtures = beian::vendor::ensure_fixtures(&models_dir()).unwrap();
    let people = load_people(&models, fixtures["astronaut"].parent().unwrap()).unwrap();
    let person = &people[1];
    let (frame, face) = phone_frame(&person.photo, &person.face);
    let save = |name: &str, img: &image::RgbImage| {
        let jpeg = beian::vision::decode::reencode_jpeg(img, 90);
        std::fs::write(dir.join(format!("{name}.jpg")), jpeg).unwrap();
    };
    save("neutral", &frame);
    for action in Action::ALL {
        let name = serde_json::to_value(action).unwrap();
        let name = name.as_str().unwrap();
        for (stage, fraction) in [("half", 0.5), ("peak", 1.0)] {
            save(
                &format!("{name}-{stage}"),
                &turning_head(&frame, &face, performing_pose(action, fraction)),
            );
        }
    }
}

/// Runs `tests/browser/SCRIPT BASE artifacts ARGS...` with node and expects it to print
/// "`flow`: ok".
async fn run_node(script: &str, base: &str, args: &[String], flow: &str) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let mut command = Command::new("node");
    command
        .current_dir(&root)
        .args([script, base, "artifacts"])
        .args(args);
    let output = tokio::task::spawn_blocking(move || {
        command
            .output()
            .expect("node runs (scripts/setup installs the browser-test packages)")
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{flow} failed (screenshots in tests/browser/artifacts):\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&format!("{flow}: ok")), "{stdout}");
}

#[tokio::test]
async fn the_filer_scans_the_qr_code_uploads_by_phone_does_the_face_check_and_both_pages_show_the_verdicts(
) {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let (good, blurred) = (dir.path().join("good.jpg"), dir.path().join("blurred.jpg"));
    std::fs::write(&good, photo(Label::Good, 71)).unwrap();
    std::fs::write(&blurred, photo(Label::Defocus, 72)).unwrap();
    let camera = dir.path().join("camera");
    std::fs::create_dir_all(&camera).unwrap();
    camera_frames(&camera);
    let args = [good.as_os_str(), blurred.as_os_str(), camera.as_os_str()]
        .map(|a| a.to_string_lossy().into_owned());
    run_node("flow.mjs", &app.url(""), &args, "browser flow").await;
    app.stop().await;
}

#[tokio::test]
async fn a_reviewer_opens_the_flagged_card_in_the_console_and_asks_for_it_again() {
    let dir = tempfile::tempdir().unwrap();
    let password = crate::review::add_reviewer(dir.path(), "wang");
    let app = crate::helpers::spawn_app_in(dir.path()).await;
    let (material_id, their_number) = crate::review::flagged_card(&app).await;
    let args = ["wang".to_string(), password, material_id, their_number];
    run_node("review.mjs", &app.url(""), &args, "review flow").await;
    app.stop().await;
}
