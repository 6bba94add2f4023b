//! `beian check IMAGE --kind KIND`: the gate's verdict without a server.

use std::process::Command;

use beian::synth::scene;
use serde_json::Value;

use crate::helpers::{back_photo, card_photo, photo, zhang_san};

/// The JSON `beian check` prints for a file it judged (exit code 0).
fn check(path: &std::path::Path, kind: &str) -> Value {
    let (code, out) = run_check(path, kind);
    assert_eq!(code, Some(0), "{out:#}");
    out
}

/// `beian check PATH --kind KIND` with the test models.
fn check_command(path: &std::path::Path, kind: &str) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_beian"));
    command
        .arg("--models-dir")
        .arg(crate::helpers::models_dir())
        .arg("check")
        .arg(path)
        .args(["--kind", kind]);
    command
}

/// Exit code and JSON of `beian check`.
fn run_check(path: &std::path::Path, kind: &str) -> (Option<i32>, Value) {
    let out = check_command(path, kind)
        .output()
        .expect("beian check runs");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON on stdout ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), json)
}

#[test]
fn a_sharp_card_passes_and_a_blurred_one_is_sent_back() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.jpg");
    std::fs::write(&good, photo(scene::Label::Good, 11)).unwrap();
    let out = check(&good, "id_card_front");
    let v = &out["verdict"];
    assert_eq!(v["verdict"], "pass", "{v:#}");
    assert_eq!(v["kind"], "id_card_front");
    let sharpness = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "sharpness")
        .unwrap();
    assert!(sharpness["ok"].as_bool().unwrap() && sharpness["threshold"].is_number());
    assert_eq!(v["document"]["quad"].as_array().unwrap().len(), 4);

    let blurred = dir.path().join("blurred.jpg");
    std::fs::write(&blurred, photo(scene::Label::Defocus, 12)).unwrap();
    let out = check(&blurred, "id_card_front");
    let v = &out["verdict"];
    assert_eq!(v["verdict"], "retake");
    assert!(
        v["reasons"].as_array().unwrap().contains(&"blurry".into()),
        "{v:#}"
    );
}

#[test]
fn hostile_files_get_an_error_code_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let good = photo(scene::Label::Good, 13);
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("empty.jpg", Vec::new(), "empty_file"),
        (
            "truncated.jpg",
            good[..good.len() / 3].to_vec(),
            "image_truncated",
        ),
        (
            "page.html",
            b"<html><body>hello</body></html>".to_vec(),
            "unsupported_format",
        ),
        (
            "zip.jpg",
            [good.as_slice(), b"PK\x03\x04rest of a zip"].concat(),
            "image_polyglot",
        ),
    ];
    for (name, bytes, code) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        // Refused is not a verdict: a script sees it in the exit code.
        let (exit, v) = run_check(&path, "id_card_front");
        assert_eq!(v["error"]["code"], code, "{name}: {v:#}");
        assert_eq!(exit, Some(2), "{name}");
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_output_without_a_panic() {
    // `beian check photo.jpg | head -1`: the pipe's reader is gone before the JSON is written.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("good.jpg");
    std::fs::write(&path, photo(scene::Label::Good, 14)).unwrap();
    let mut child = check_command(&path, "id_card_front")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("beian check runs");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("beian check ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

fn check_bytes(bytes: &[u8], kind: &str) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("photo.jpg");
    std::fs::write(&path, bytes).unwrap();
    check(&path, kind)
}

fn field<'a>(out: &'a Value, name: &str) -> &'a str {
    out["reading"]["fields"][name]["value"]
        .as_str()
        .unwrap_or_else(|| panic!("{name} not read: {out:#}"))
}

#[test]
fn a_photographed_card_is_read_field_by_field_on_both_sides() {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(404);
    let id = beian::synth::identity::Identity::random(&mut rng);
    let out = check_bytes(
        &card_photo(&id, true, scene::Label::Good, 5),
        "id_card_front",
    );
    assert_eq!(out["verdict"]["verdict"], "pass", "{out:#}");
    assert_eq!(out["reading"]["document"], "id_card_front");
    assert_eq!(field(&out, "name"), id.name);
    assert_eq!(field(&out, "sex"), if id.male { "男" } else { "女" });
    assert_eq!(field(&out, "ethnicity"), id.ethnicity);
    assert_eq!(field(&out, "birth_date"), id.birth.to_string());
    assert_eq!(field(&out, "address"), id.address);
    assert_eq!(field(&out, "id_number"), id.id_number);
    // Where the portrait is, for the face match.
    assert_eq!(
        out["verdict"]["read"]["portrait"].as_array().unwrap().len(),
        4
    );

    let out = check_bytes(
        &card_photo(&id, false, scene::Label::Good, 6),
        "id_card_back",
    );
    assert_eq!(field(&out, "issuing_authority"), id.authority);
    assert_eq!(field(&out, "valid_from"), id.valid_from.to_string());
    let until = id.valid_until.map_or("长期".to_string(), |d| d.to_string());
    assert_eq!(field(&out, "valid_until"), until);
}

#[test]
fn the_wrong_side_is_sent_back_and_an_expired_card_is_flagged() {
    let out = check_bytes(&back_photo(scene::Label::Good, 7), "id_card_front");
    assert_eq!(out["verdict"]["verdict"], "retake", "{out:#}");
    assert_eq!(out["verdict"]["reasons"], serde_json::json!(["wrong_side"]));

    let mut expired = zhang_san();
    expired.valid_from = chrono::NaiveDate::from_ymd_opt(2005, 5, 1).unwrap();
    expired.valid_until = chrono::NaiveDate::from_ymd_opt(2025, 5, 1);
    let out = check_bytes(
        &card_photo(&expired, false, scene::Label::Good, 8),
        "id_card_back",
    );
    assert_eq!(out["verdict"]["verdict"], "flagged", "{out:#}");
    assert_eq!(out["verdict"]["reasons"], serde_json::json!(["id_expired"]));
}

#[test]
fn a_business_licence_photo_gives_its_code_name_representative_and_address() {
    use beian::synth::licence;
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(17);
    let font = beian::synth::font::load_cjk_font().unwrap();
    let l = licence::Licence::random(&mut rng);
    let page = licence::render(&l, &font, &mut rng);
    let photo = licence::photo(&page, 4000, 3000, &mut rng);
    let out = check_bytes(
        &beian::vision::decode::reencode_jpeg(&photo, 88),
        "business_license",
    );
    assert_eq!(out["verdict"]["verdict"], "pass", "{out:#}");
    assert_eq!(field(&out, "credit_code"), l.credit_code);
    assert_eq!(field(&out, "name"), l.name);
    assert_eq!(field(&out, "legal_representative"), l.legal_representative);
    assert_eq!(field(&out, "address"), l.address);
}

/// A 12 MP phone photo of 张三's card front far from the camera on a checked cloth (a
/// held-out scene family), as a JPEG.
fn far_card_on_checks(seed: u64) -> Vec<u8> {
    use beian::synth::{card, desk, font};
    use rand::SeedableRng;
    let font = font::load_cjk_font().expect("a CJK font is installed (scripts/setup)");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let rendered = card::front(&zhang_san(), &font, &mut rng);
    let photo = scene::photo_in(
        &rendered,
        scene::Label::TooSmall,
        desk::Family::Checked,
        &desk::Photos::default(),
        4000,
        3000,
        &mut rng,
    );
    beian::vision::decode::reencode_jpeg(&photo.image, 90)
}

#[test]
fn a_card_far_off_on_checked_cloth_is_too_small_not_missing() {
    // Its print is a few pixels high at the gate's scale, under what the text detector
    // finds there; the gate looks again at twice the scale before saying there is no card.
    let dir = tempfile::tempdir().unwrap();
    for seed in [3, 5, 8] {
        let path = dir.path().join(format!("far-{seed}.jpg"));
        std::fs::write(&path, far_card_on_checks(seed)).unwrap();
        let v = &check(&path, "id_card_front")["verdict"];
        let reasons = v["reasons"].as_array().unwrap();
        assert!(
            reasons.contains(&"too_small".into()) && !reasons.contains(&"not_a_document".into()),
            "seed {seed}: {v:#}"
        );
    }
}

/// A 1600 x 1200 frame of dark cloth with no card, lit or not by a lamp in one corner.
fn empty_dark_frame(with_lamp: bool) -> Vec<u8> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let mut img = image::RgbImage::from_fn(1600, 1200, |_, _| {
        let v = rng.gen_range(30..46u8);
        image::Rgb([v + 4, v, v])
    });
    if with_lamp {
        imageproc::drawing::draw_filled_circle_mut(
            &mut img,
            (1400, 200),
            150,
            image::Rgb([235, 225, 200]),
        );
    }
    beian::vision::decode::reencode_jpeg(&img, 90)
}

#[test]
fn an_empty_dim_scene_is_not_a_document_and_a_black_one_too_dark() {
    // Mean luma under 50 both times. With a lamp in the frame, light things come out light
    // and a card would have been found: the missing card is the reason. With no light
    // anywhere, a card could lie there unseen: the darkness is.
    let reasons = |with_lamp| {
        check_bytes(&empty_dark_frame(with_lamp), "id_card_front")["verdict"]["reasons"].clone()
    };
    assert_eq!(reasons(true), serde_json::json!(["not_a_document"]));
    assert_eq!(reasons(false), serde_json::json!(["too_dark"]));
}

#[test]
fn a_white_card_whose_portrait_box_closes_an_outline_is_found_by_its_print() {
    // On white paper the card's rims are faint, and the portrait's box, closed by the card's
    // right and bottom rims, made a whole outline big enough to pass, measured blurry (the
    // portrait is smooth). Before the card is sent back as blurry the print is asked where
    // it is. The white family's diagnosis seed 9191, good photos 20 and 22: the rule was
    // made on them, so this guards it and measures nothing (docs/quality-calibration.md).
    use beian::synth::{calibrate, desk};
    let dir = tempfile::tempdir().unwrap();
    for i in [20, 22] {
        let sample = calibrate::scene_sample(
            desk::Family::White,
            scene::Label::Good,
            i,
            9191,
            &desk::Photos::default(),
        )
        .expect("the Noto CJK fonts are installed (scripts/setup)");
        let path = dir.path().join(format!("white-good-{i:03}.jpg"));
        std::fs::write(&path, &sample.jpeg).unwrap();
        let v = &check(&path, sample.kind.as_str())["verdict"];
        assert_eq!(v["verdict"], "pass", "white-good-{i:03}: {v:#}");
    }
}
