//! `beian check IMAGE --kind KIND`: the gate's verdict without a server.

use std::process::Command;

use beian::synth::scene;
use serde_json::Value;

use crate::helpers::photo;

fn check(path: &std::path::Path, kind: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_beian"))
        .arg("--models-dir")
        .arg(crate::helpers::models_dir())
        .arg("check")
        .arg(path)
        .args(["--kind", kind])
        .output()
        .expect("beian check runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
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
        let v = check(&path, "id_card_front");
        assert_eq!(v["error"]["code"], code, "{name}: {v:#}");
    }
}
