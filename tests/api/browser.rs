//! The PC and phone pages in real headless Chromium (tests/browser/flow.mjs, driven by
//! playwright-core against Debian's chromium), against a real server on a real port.
//! Screenshots of each step are kept in tests/browser/artifacts/.

use std::path::Path;
use std::process::Command;

use beian::synth::scene::Label;

use crate::helpers::{photo, spawn_app};

#[tokio::test]
async fn the_filer_scans_the_qr_code_uploads_by_phone_and_both_pages_show_the_verdicts() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let (good, blurred) = (dir.path().join("good.jpg"), dir.path().join("blurred.jpg"));
    std::fs::write(&good, photo(Label::Good, 71)).unwrap();
    std::fs::write(&blurred, photo(Label::Defocus, 72)).unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let base = app.url("");
    let output = tokio::task::spawn_blocking(move || {
        Command::new("node")
            .current_dir(&root)
            .args(["flow.mjs", &base, "artifacts"])
            .arg(&good)
            .arg(&blurred)
            .output()
            .expect("node runs (scripts/setup installs the browser-test packages)")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "browser flow failed (screenshots in tests/browser/artifacts):\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("browser flow: ok"));
    app.stop().await;
}
