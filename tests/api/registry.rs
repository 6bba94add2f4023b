//! The operator loads the registry of existing filings with the CLI; the filing type and the
//! registry findings follow from it.

use std::process::Command;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{codes, minimal_order, spawn_app_in};

fn load_registry(data_dir: &std::path::Path, csv: &str) -> std::process::Output {
    let file = data_dir.join("registry.csv");
    std::fs::write(&file, csv).unwrap();
    Command::new(env!("CARGO_BIN_EXE_beian"))
        .args(["--data-dir"])
        .arg(data_dir)
        .args(crate::helpers::store_args(data_dir))
        .args(["registry", "load"])
        .arg(&file)
        .env_remove("BEIAN_MASTER_KEY")
        .output()
        .expect("the beian binary runs")
}

const HEADER: &str =
    "record,certificate_type,certificate_number,name,filing_number,provider,domain\n";

#[tokio::test]
async fn filing_types_follow_the_loaded_registry() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir.path()).await;
    let token = app.filer("zhangsan").await;
    let csv = format!(
        "{HEADER}subject,resident_id,11010119900307803X,张三,京ICP备12345678号,other,\n\
         website,resident_id,11010119900307803X,,京ICP备12345678号-1,other,zhangsan-notes.cn\n"
    );
    let out = load_registry(dir.path(), &csv);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "loaded 1 subjects, 1 websites, 0 domain registrants"
    );

    let (_, order) = app.create_order(&token, &minimal_order()).await;
    assert_eq!(order["filing_type"]["type"], "access_filing", "{order}");
    assert!(order["filing_type"]["basis"][0]
        .as_str()
        .unwrap()
        .contains("京ICP备12345678号"));

    let mut body = minimal_order();
    body["services"][0]["domains"] = json!(["zhangsan-blog.cn"]);
    let (_, order) = app.create_order(&token, &body).await;
    assert_eq!(
        order["filing_type"]["type"],
        "new_website_subject_elsewhere"
    );
    app.stop().await;
}

#[tokio::test]
async fn registry_conflicts_become_blocking_findings() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir.path()).await;
    let token = app.filer("zhangsan").await;
    let csv = format!(
        "{HEADER}subject,resident_id,11010119900307803X,张珊,京ICP备12345678号,here,\n\
         website,resident_id,11010519491231002X,,京ICP备87654321号-1,other,zhangsan-notes.cn\n\
         domain,resident_id,11010519491231002X,李四,,,zhangsan-notes.cn\n"
    );
    assert!(load_registry(dir.path(), &csv).status.success());
    let (_, order) = app.create_order(&token, &minimal_order()).await;
    assert_eq!(
        codes(&order["findings"]),
        [
            "domain_filed_by_other_subject",
            "domain_registrant_mismatch",
            "subject_name_mismatch"
        ]
    );
    let (status, _) = app
        .call(
            Method::POST,
            &format!("/api/v1/orders/{}/submit", order["id"].as_str().unwrap()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 422);
    app.stop().await;
}

#[tokio::test]
async fn a_bad_registry_row_loads_nothing_and_names_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let csv = format!(
        "{HEADER}subject,resident_id,11010119900307803X,张三,京ICP备12345678号,other,\n\
         subject,resident_id,110101199003078031,张三,京ICP备12345679号,other,\n"
    );
    let out = load_registry(dir.path(), &csv);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3"), "{err}");
    let app = spawn_app_in(dir.path()).await;
    let token = app.filer("zhangsan").await;
    let (_, order) = app.create_order(&token, &minimal_order()).await;
    assert_eq!(
        order["filing_type"]["type"], "first_filing",
        "the first row was rolled back too"
    );
    app.stop().await;
}
