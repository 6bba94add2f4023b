use reqwest::Method;
use serde_json::json;

use crate::helpers::{codes, minimal_order, spawn_app, spawn_app_in};

#[tokio::test]
async fn the_minimal_order_is_accepted_as_written() {
    let app = spawn_app().await;
    let token = app.filer("zhangsan").await;
    let (status, order) = app.create_order(&token, &minimal_order()).await;
    assert_eq!(status, 201, "{order}");
    assert_eq!(order["state"], "draft");
    assert_eq!(order["filing_type"]["type"], "first_filing");
    assert_eq!(order["filing_type"]["label_zh"], "首次备案");
    assert!(order["filing_type"]["basis"][0]
        .as_str()
        .unwrap()
        .contains("not in the filing registry"));
    assert_eq!(order["findings"], json!([]));
    assert_eq!(order["subject"]["name"], "张三");
    assert_eq!(order["services"][0]["domains"][0], "zhangsan-notes.cn");
    assert_eq!(order["history"][0]["to"], "draft");
    assert_eq!(order["history"][0]["actor"], "filer:zhangsan");
    let kinds: Vec<&str> = order["materials"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["id_card_front", "id_card_back", "face", "verification_form"]
    );

    let (status, again) = app
        .call(
            Method::GET,
            &format!("/api/v1/orders/{}", order["id"].as_str().unwrap()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(again, order);
    app.stop().await;
}

#[tokio::test]
async fn id_numbers_are_masked_in_responses() {
    let app = spawn_app().await;
    let token = app.filer("zhangsan").await;
    let res = app
        .request(
            Method::POST,
            "/api/v1/orders",
            Some(&token),
            Some(&minimal_order()),
        )
        .await;
    let text = res.text().await.unwrap();
    assert!(!text.contains("11010119900307803X"), "{text}");
    assert!(text.contains("110101********803X"));
    let list = app
        .request(Method::GET, "/api/v1/orders", Some(&token), None)
        .await
        .text()
        .await
        .unwrap();
    assert!(!list.contains("11010119900307803X"));
    app.stop().await;
}

/// Everything the database holds: on SQLite its files' bytes, on PostgreSQL every row of every
/// table as text.
async fn stored_bytes(data_dir: &std::path::Path) -> Vec<u8> {
    let mut stored = Vec::new();
    if crate::helpers::database_url_for(data_dir).is_some() {
        let db = crate::helpers::database(data_dir).await;
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        for table in tables {
            let rows: String = sqlx::query_scalar(&format!(
                "SELECT COALESCE(string_agg(t::text, E'\\n'), '') FROM \"{table}\" t"
            ))
            .fetch_one(&db)
            .await
            .unwrap();
            stored.extend(rows.into_bytes());
        }
        db.close().await;
        return stored;
    }
    for entry in std::fs::read_dir(data_dir).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("beian.db")
        {
            stored.extend(std::fs::read(path).unwrap());
        }
    }
    stored
}

#[tokio::test]
async fn nothing_personal_is_stored_in_the_clear() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir.path()).await;
    let token = app.filer("zhangsan").await;
    let (status, order) = app.create_order(&token, &minimal_order()).await;
    assert_eq!(status, 201);
    app.stop().await;
    let stored = stored_bytes(dir.path()).await;
    let text = String::from_utf8_lossy(&stored);
    let id = order["id"].as_str().expect("the order's id");
    assert!(text.contains(id), "the order's row is among what was read");
    for secret in [
        "11010119900307803X",
        "13800138000",
        "东华门街道",
        "zhangsan@example.cn",
    ] {
        assert!(!text.contains(secret), "{secret} is stored in the clear");
    }
}

#[tokio::test]
async fn invalid_fields_are_all_named_and_nothing_is_stored() {
    let app = spawn_app().await;
    let token = app.filer("zhangsan").await;
    let mut body = minimal_order();
    body["subject"]["certificate"]["number"] = json!("110101199003078031");
    body["subject"]["principal"]["mobile"] = json!("010-12345678");
    body["services"][0]["domains"][0] = json!("https://zhangsan-notes.cn/");
    body["services"][0]["responsible"]["email"] = json!("zhangsan");
    let (status, err) = app.create_order(&token, &body).await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["code"], "invalid_fields");
    let details = err["error"]["details"].as_object().unwrap();
    let mut paths: Vec<&str> = details.keys().map(String::as_str).collect();
    paths.sort_unstable();
    assert_eq!(
        paths,
        [
            "services.0.domains.0",
            "services.0.responsible.email",
            "subject.certificate.number",
            "subject.principal.mobile"
        ]
    );
    assert_eq!(
        details["subject.certificate.number"]["code"],
        "id_check_character"
    );
    assert_eq!(details["subject.principal.mobile"]["code"], "mobile_format");
    let (_, list) = app
        .call(Method::GET, "/api/v1/orders", Some(&token), None)
        .await;
    assert_eq!(list["orders"], json!([]));
    app.stop().await;
}

#[tokio::test]
async fn rule_findings_come_back_on_create_and_update() {
    let app = spawn_app().await;
    let token = app.filer("zhangsan").await;
    let mut body = minimal_order();
    body["services"][0]["name"] = json!("中华读书论坛");
    let (status, order) = app.create_order(&token, &body).await;
    assert_eq!(status, 201, "a draft with findings is still saved");
    let got = codes(&order["findings"]);
    assert!(
        got.contains(&"site_name_national_prefix".to_string()),
        "{got:?}"
    );
    assert!(
        got.contains(&"site_name_personal_forbidden_word".to_string()),
        "{got:?}"
    );
    let f = &order["findings"][0];
    assert_eq!(f["severity"], "blocking");
    assert_eq!(f["field"], "services.0.name");
    assert_eq!(f["bureau_reason"], 2);

    let path = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    let patch = json!({"services": [{"kind": "website", "name": "张三的读书笔记", "domains": ["zhangsan-notes.cn"],
        "responsible": order["services"][0]["responsible"].clone()}]});
    let (status, updated) = app
        .call(Method::PATCH, &path, Some(&token), Some(&patch))
        .await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        updated["findings"],
        json!([]),
        "the echoed masked ID number kept the stored one"
    );
    assert_eq!(updated["services"][0]["name"], "张三的读书笔记");
    assert_eq!(updated["version"], order["version"].as_i64().unwrap() + 1);
    app.stop().await;
}

#[tokio::test]
async fn a_bad_update_changes_nothing() {
    let app = spawn_app().await;
    let token = app.filer("zhangsan").await;
    let (_, order) = app.create_order(&token, &minimal_order()).await;
    let path = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    let (status, err) = app
        .call(
            Method::PATCH,
            &path,
            Some(&token),
            Some(&json!({"subject": {"principal": {"email": "not-an-email"}}})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        err["error"]["details"]["subject.principal.email"]["code"],
        "invalid_email"
    );
    let (_, after) = app.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(after, order);
    app.stop().await;
}

#[tokio::test]
async fn another_filers_order_does_not_exist_for_them() {
    let app = spawn_app().await;
    let owner = app.filer("owner").await;
    let other = app.filer("other").await;
    let (_, order) = app.create_order(&owner, &minimal_order()).await;
    let path = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    for (method, body) in [
        (Method::GET, None),
        (Method::PATCH, Some(json!({"subject": {"name": "李四"}}))),
    ] {
        let (status, err) = app.call(method, &path, Some(&other), body.as_ref()).await;
        assert_eq!(
            (status, err["error"]["code"].as_str()),
            (404, Some("not_found"))
        );
    }
    let (status, _) = app
        .call(Method::POST, &format!("{path}/submit"), Some(&other), None)
        .await;
    assert_eq!(status, 404);
    let (_, list) = app
        .call(Method::GET, "/api/v1/orders", Some(&other), None)
        .await;
    assert_eq!(list["orders"], json!([]));
    let (_, unchanged) = app.call(Method::GET, &path, Some(&owner), None).await;
    assert_eq!(unchanged, order);
    app.stop().await;
}

#[tokio::test]
async fn submit_runs_the_pre_review_and_blocks_with_422() {
    let app = spawn_app().await;
    let token = app.filer("zhangsan").await;
    let mut body = minimal_order();
    body["services"][0]["name"] = json!("国家读书笔记");
    let (_, order) = app.create_order(&token, &body).await;
    let path = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    let (status, err) = app
        .call(Method::POST, &format!("{path}/submit"), Some(&token), None)
        .await;
    assert_eq!(status, 422);
    assert_eq!(err["error"]["code"], "pre_review_blocking");
    let got = codes(&err["error"]["details"]["findings"]);
    assert!(
        got.contains(&"site_name_national_prefix".to_string()),
        "{got:?}"
    );
    // No photos have been uploaded, so the required materials block too.
    assert!(got.contains(&"materials_missing".to_string()), "{got:?}");
    assert_eq!(
        err["error"]["details"]["missing_materials"]
            .as_array()
            .unwrap()
            .len(),
        4
    );
    let (_, after) = app.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(after["state"], "draft");
    assert_eq!(after["history"].as_array().unwrap().len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_phone_of_another_subject_is_reported() {
    let app = spawn_app().await;
    let a = app.filer("first").await;
    let b = app.filer("second").await;
    app.create_order(&a, &minimal_order()).await;
    let mut body = minimal_order();
    let other_id = "11010519491231002X";
    body["subject"]["certificate"]["number"] = json!(other_id);
    body["subject"]["principal"]["id_number"] = json!(other_id);
    body["subject"]["principal"]["name"] = json!("李四");
    body["subject"]["name"] = json!("李四");
    body["services"][0]["responsible"] = body["subject"]["principal"].clone();
    body["services"][0]["name"] = json!("李四的旅行笔记");
    body["services"][0]["domains"] = json!(["lisi-travel.cn"]);
    let (status, order) = app.create_order(&b, &body).await;
    assert_eq!(status, 201);
    let f = &order["findings"];
    assert_eq!(
        codes(f),
        ["phone_used_by_other_subject", "phone_used_by_other_subject"]
    );
    assert_eq!(
        f[0]["severity"], "warning",
        "the other order is only a draft"
    );
    assert!(
        !f.to_string().contains("13800138000"),
        "the number is masked in messages"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_restart_keeps_accounts_tokens_and_orders() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir.path()).await;
    let token = app.filer("zhangsan").await;
    let (_, order) = app.create_order(&token, &minimal_order()).await;
    app.stop().await;

    let app = spawn_app_in(dir.path()).await;
    let path = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    let (status, again) = app.call(Method::GET, &path, Some(&token), None).await;
    assert_eq!(status, 200);
    assert_eq!(again, order);
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": "zhangsan", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(status, 200);
    app.stop().await;
}
