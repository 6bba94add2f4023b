//! The reviewers' side: an account made by `beian reviewer add`, the role check on every
//! `/api/v1/review/*` route, the queue with its filters, a flagged material's evidence and
//! image (the only place the full ID number shows), and the audit log of all of it.

use std::path::Path;
use std::time::Duration;

use beian::synth::scene::Label;
use rand::SeedableRng;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{card_photo, material, minimal_order, spawn_app_in, upload, TestApp};

/// `beian reviewer add NAME` in `data_dir`: the password it printed.
pub(crate) fn add_reviewer(data_dir: &Path, name: &str) -> String {
    let stdout = crate::helpers::beian_ok(data_dir, &["reviewer", "add", name]);
    stdout
        .lines()
        .find_map(|l| l.strip_prefix("password (shown this once): "))
        .unwrap_or_else(|| panic!("no password in {stdout}"))
        .to_string()
}

pub(crate) async fn login(app: &TestApp, name: &str, password: &str) -> String {
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": name, "password": password})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_string()
}

/// A filer's order with someone else's card uploaded as the principal's: flagged
/// `ocr_mismatch`. Returns the material id and the other person's ID number.
pub(crate) async fn flagged_card(app: &TestApp) -> (String, String) {
    let filer = app.filer("zhangsan").await;
    let (token, _, order_id) = app
        .principal_session(&filer, &minimal_order(), &["id_card_front"])
        .await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let other = beian::synth::identity::Identity::random(&mut rng);
    let photo = card_photo(&other, true, Label::Good, 21);
    upload(app, &reqwest::Client::new(), &token, "id_card_front", photo).await;
    let order = order_until(app, &filer, &order_id, |o| {
        material(o, "id_card_front")["state"] != "analyzing"
    })
    .await;
    let card = material(&order, "id_card_front");
    assert_eq!(card["state"], "flagged", "{card}");
    (
        card["material_id"].as_str().unwrap().to_string(),
        other.id_number,
    )
}

fn audit_actions(entries: &Value, target: &str) -> Vec<String> {
    entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["target"] == target)
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_reviewer_sees_the_queue_and_the_evidence_and_every_look_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let password = add_reviewer(dir.path(), "wang");
    let app = spawn_app_in(dir.path()).await;
    let reviewer = login(&app, "wang", &password).await;
    let (material_id, their_number) = flagged_card(&app).await;

    // Only reviewers: a filer's token gets 403, none 401.
    let filer = app.filer("lisi").await;
    for path in [
        "/api/v1/review/queue".to_string(),
        format!("/api/v1/review/materials/{material_id}"),
        format!("/api/v1/review/materials/{material_id}/image"),
        "/api/v1/review/audit".to_string(),
    ] {
        let (status, body) = app.call(Method::GET, &path, Some(&filer), None).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (403, Some("forbidden")),
            "{path}"
        );
        let (status, _) = app.call(Method::GET, &path, None, None).await;
        assert_eq!(status, 401, "{path}");
    }

    // The queue, with its filters.
    let queue = |q: &'static str| {
        let app = &app;
        let reviewer = reviewer.clone();
        async move {
            let (status, body) = app
                .call(
                    Method::GET,
                    &format!("/api/v1/review/queue{q}"),
                    Some(&reviewer),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{body}");
            body["items"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|i| i["type"] == "material")
                .map(|i| i["id"].as_str().unwrap().to_string())
                .collect::<Vec<_>>()
        }
    };
    let only = vec![material_id.clone()];
    assert_eq!(queue("").await, only);
    assert_eq!(queue("?reason=ocr_mismatch&province=11").await, only);
    assert!(queue("?reason=blurry").await.is_empty());
    assert!(queue("?province=31").await.is_empty());
    let (status, _) = app
        .call(
            Method::GET,
            "/api/v1/review/queue?bogus=1",
            Some(&reviewer),
            None,
        )
        .await;
    assert_eq!(status, 400);

    // The evidence: the checks with numbers, what was read beside what was typed, in full.
    let (status, evidence) = app
        .call(
            Method::GET,
            &format!("/api/v1/review/materials/{material_id}"),
            Some(&reviewer),
            None,
        )
        .await;
    assert_eq!(status, 200, "{evidence}");
    assert_eq!(
        evidence["read"]["fields"]["id_number"]["value"],
        their_number.as_str()
    );
    assert_eq!(evidence["typed"]["id_number"], "11010119900307803X");
    assert!(evidence["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["threshold"].is_number()));
    assert!(evidence["reasons"]
        .as_array()
        .unwrap()
        .contains(&json!("ocr_mismatch")));

    // The photo and the flattened card.
    for (query, minimum) in [("", 100_000), ("?crop=document", 10_000)] {
        let res = app
            .request(
                Method::GET,
                &format!("/api/v1/review/materials/{material_id}/image{query}"),
                Some(&reviewer),
                None,
            )
            .await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "image/jpeg");
        let bytes = res.bytes().await.unwrap();
        assert!(
            bytes.starts_with(&[0xFF, 0xD8]) && bytes.len() > minimum,
            "{query}"
        );
    }
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/review/materials/{material_id}/image?crop=face"),
            Some(&reviewer),
            None,
        )
        .await;
    assert_eq!(status, 400);

    // The audit log: the logins, the order's moves, each look at the material, from where.
    let (status, log) = app
        .call(
            Method::GET,
            "/api/v1/review/audit?limit=1000",
            Some(&reviewer),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let looks = audit_actions(&log, &format!("material:{material_id}"));
    assert_eq!(
        looks,
        ["image_view", "image_view", "evidence_view"],
        "{log}"
    );
    let entries = log["entries"].as_array().unwrap();
    let look = entries
        .iter()
        .find(|e| e["action"] == "evidence_view")
        .unwrap();
    assert_eq!(
        (look["actor"].as_str(), look["source"].as_str()),
        (Some("reviewer:wang"), Some("127.0.0.1"))
    );
    assert!(entries
        .iter()
        .any(|e| e["action"] == "login" && e["actor"] == "reviewer:wang"));
    assert!(entries.iter().any(|e| e["action"] == "order_state"));
    assert!(entries.iter().any(|e| e["action"] == "reviewer_created"));
    // Nothing personal in the log.
    assert!(!log.to_string().contains(&their_number));

    // Nobody edits or deletes it: no route does, and the database refuses.
    let (status, _) = app
        .call(
            Method::DELETE,
            "/api/v1/review/audit",
            Some(&reviewer),
            None,
        )
        .await;
    assert_eq!(status, 405);
    app.stop().await;
    let db = crate::helpers::database(dir.path()).await;
    assert!(sqlx::query("DELETE FROM audit_log")
        .execute(&db)
        .await
        .is_err());
    assert!(sqlx::query("UPDATE audit_log SET actor = 'x'")
        .execute(&db)
        .await
        .is_err());
    db.close().await;
}

/// Polls the filer's order until `done` says so (or 90 s pass).
async fn order_until(app: &TestApp, filer: &str, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let mut order = Value::Null;
    for _ in 0..360 {
        order = app
            .call(
                Method::GET,
                &format!("/api/v1/orders/{id}"),
                Some(filer),
                None,
            )
            .await
            .1;
        if done(&order) {
            return order;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the order never got there: {order}");
}

fn licence_photo() -> Vec<u8> {
    use beian::synth::{font, licence};
    let font = font::load_cjk_font().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(5);
    let l = licence::Licence::random(&mut rng);
    let page = licence::render(&l, &font, &mut rng);
    beian::vision::decode::reencode_jpeg(&licence::photo(&page, 2000, 1500, &mut rng), 90)
}

/// 张三's order with every required material uploaded by phone and passed (card front and
/// back, the face check, the verification form), submitted: its id.
async fn submitted_order(app: &TestApp, filer: &str) -> String {
    let kinds = ["id_card_front", "id_card_back", "face", "verification_form"];
    let (token, _, id) = app.principal_session(filer, &minimal_order(), &kinds).await;
    let phone = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    upload(
        app,
        &phone,
        &token,
        "id_card_front",
        crate::helpers::photo(Label::Good, 11),
    )
    .await;
    upload(
        app,
        &phone,
        &token,
        "id_card_back",
        crate::helpers::back_photo(Label::Good, 12),
    )
    .await;
    upload(app, &phone, &token, "verification_form", licence_photo()).await;
    let (_, hopper) = crate::face::people();
    let (status, face) = crate::face::answer(app, &phone, &token, |a| {
        beian::synth::face_calibration::live_capture(&hopper, a, crate::face::SPACING_MS)
    })
    .await;
    assert_eq!(
        (status, face["state"].as_str()),
        (201, Some("pass")),
        "{face}"
    );
    order_until(app, filer, &id, |o| o["state"] == "ready").await;
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/v1/orders/{id}/submit"),
            Some(filer),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    id
}

/// A fresh app with the reviewer `wang` logged in, the filer `zhangsan` and an order of
/// theirs submitted: (data directory, app, reviewer's token, filer's token, order id).
async fn submitted_with_a_reviewer() -> (tempfile::TempDir, TestApp, String, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let password = add_reviewer(dir.path(), "wang");
    let app = spawn_app_in(dir.path()).await;
    let reviewer = login(&app, "wang", &password).await;
    let filer = app.filer("zhangsan").await;
    let id = submitted_order(&app, &filer).await;
    (dir, app, reviewer, filer, id)
}

/// A decision the order's state does not allow is 409 `illegal_transition` naming the state,
/// and writes nothing: the bureau's on a submitted order, an SMS code nobody was sent, and a
/// first review once the order went on to the SMS verification.
#[tokio::test]
async fn a_decision_the_orders_state_does_not_allow_is_409_and_writes_nothing() {
    let (_dir, app, reviewer, filer, id) = submitted_with_a_reviewer().await;
    let refused = |status: u16, body: &Value, state: &str| {
        assert_eq!(status, 409, "{body}");
        assert_eq!(body["error"]["code"], "illegal_transition", "{body}");
        assert_eq!(body["error"]["details"]["state"], state, "{body}");
    };
    let order_path = format!("/api/v1/orders/{id}");
    let bureau = format!("/api/v1/review/orders/{id}/bureau");
    let approve = json!({"decision": "approve"});
    let (status, body) = app
        .call(Method::POST, &bureau, Some(&reviewer), Some(&approve))
        .await;
    refused(status, &body, "submitted");
    let sms = format!("/api/v1/orders/{id}/sms-verification");
    let code = json!({"code": "123456"});
    let (status, body) = app
        .call(Method::POST, &sms, Some(&filer), Some(&code))
        .await;
    refused(status, &body, "submitted");
    let (_, order) = app.call(Method::GET, &order_path, Some(&filer), None).await;
    assert_eq!(order["state"], "submitted", "nothing moved: {order}");
    let history = order["history"].as_array().map(Vec::len);

    approve_first_review(&app, &reviewer, &id).await;
    let decide = format!("/api/v1/review/orders/{id}/decision");
    let reject = json!({"decision": "reject", "reasons": ["site_name_sensitive_word"]});
    let (status, body) = app
        .call(Method::POST, &decide, Some(&reviewer), Some(&reject))
        .await;
    refused(status, &body, "sms_verification");
    let (_, order) = app.call(Method::GET, &order_path, Some(&filer), None).await;
    assert_eq!(order["state"], "sms_verification", "{order}");
    assert_eq!(
        order["history"].as_array().map(Vec::len),
        history.map(|n| n + 2),
        "only the first review's start and pass were added: {order}"
    );
    app.stop().await;
}

/// The first review approves order `id`: it waits for the filer's SMS code.
async fn approve_first_review(app: &TestApp, reviewer: &str, id: &str) {
    let (status, r) = app
        .call(
            Method::POST,
            &format!("/api/v1/review/orders/{id}/decision"),
            Some(reviewer),
            Some(&json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(
        (status, r["state"].as_str()),
        (200, Some("sms_verification")),
        "{r}"
    );
}

/// The last text message sent from the app in `data_dir`: its masked recipient and the
/// six-digit code in it.
async fn last_sms(data_dir: &Path) -> (String, String) {
    let db = crate::helpers::database(data_dir).await;
    let (masked, body): (String, String) =
        sqlx::query_as("SELECT recipient_masked, body FROM sms_outbox ORDER BY id DESC LIMIT 1")
            .fetch_one(&db)
            .await
            .unwrap();
    db.close().await;
    let code = body.chars().filter(char::is_ascii_digit).take(6).collect();
    (masked, code)
}

#[tokio::test]
async fn resubmissions_are_capped_rejections_end_the_review_and_unconfirmed_codes_expire() {
    let dir = tempfile::tempdir().unwrap();
    let password = add_reviewer(dir.path(), "wang");
    let mut config = crate::helpers::config_for(dir.path());
    config.max_resubmissions = 0;
    config.sms_confirm_hours = 0;
    let app = crate::helpers::spawn_with(config).await;
    let reviewer = login(&app, "wang", &password).await;
    let filer = app.filer("zhangsan").await;
    let post = |path: String, body: Value| {
        let (app, reviewer) = (&app, reviewer.clone());
        async move {
            app.call(Method::POST, &path, Some(&reviewer), Some(&body))
                .await
        }
    };

    // No resubmissions allowed: asking for the card again is refused.
    let first = submitted_order(&app, &filer).await;
    let order = order_until(&app, &filer, &first, |_| true).await;
    let front = material(&order, "id_card_front")["material_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, r) = post(
        format!("/api/v1/review/materials/{front}/decision"),
        json!({"decision": "ask_again", "reasons": ["blurry"]}),
    )
    .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (409, Some("resubmission_limit")),
        "{r}"
    );
    let (status, r) = post(
        format!("/api/v1/review/orders/{first}/decision"),
        json!({"decision": "reject"}),
    )
    .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (422, Some("reasons_required"))
    );
    let (status, r) = post(
        format!("/api/v1/review/orders/{first}/decision"),
        json!({"decision": "reject", "reasons": ["documents_unacceptable"]}),
    )
    .await;
    assert_eq!((status, r["state"].as_str()), (200, Some("draft")), "{r}");
    let rejected = r["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["to"] == "rejected")
        .unwrap()
        .clone();
    assert!(
        rejected["note"]
            .as_str()
            .unwrap()
            .contains("documents_unacceptable"),
        "{rejected}"
    );
    let (status, _) = post(
        format!("/api/v1/review/orders/{first}/bureau"),
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(
        status, 409,
        "the bureau only decides orders in bureau review"
    );

    // Approved, but the code is not confirmed in time (0 hours here): back to draft.
    let second = submitted_order(&app, &filer).await;
    let (status, r) = post(
        format!("/api/v1/review/orders/{second}/decision"),
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(
        (status, r["state"].as_str()),
        (200, Some("sms_verification")),
        "{r}"
    );
    let (status, r) = app
        .call(
            Method::POST,
            &format!("/api/v1/orders/{second}/sms-verification"),
            Some(&filer),
            Some(&json!({"code": "123456"})),
        )
        .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (410, Some("code_expired")),
        "{r}"
    );
    let order = order_until(&app, &filer, &second, |_| true).await;
    assert_eq!(order["state"], "draft");
    app.stop().await;
}

#[tokio::test]
async fn wrong_sms_codes_are_counted_and_the_last_allowed_one_voids_the_code() {
    let (dir, app, reviewer, filer, id) = submitted_with_a_reviewer().await;
    approve_first_review(&app, &reviewer, &id).await;
    let (_, code) = last_sms(dir.path()).await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let confirm = format!("/api/v1/orders/{id}/sms-verification");
    let enter = |code: &str| {
        let body = json!({ "code": code });
        let (app, confirm, filer) = (&app, &confirm, &filer);
        async move {
            app.call(Method::POST, confirm, Some(filer), Some(&body))
                .await
        }
    };

    // The default allows five tries: four wrong codes say how many are left.
    for left in (1..=4).rev() {
        let (status, r) = enter(wrong).await;
        assert_eq!(
            (status, r["error"]["code"].as_str()),
            (422, Some("wrong_code")),
            "{r}"
        );
        assert_eq!(r["error"]["details"]["attempts_left"], left);
    }
    // The fifth voids the code and sends the order back to draft...
    let (status, r) = enter(wrong).await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (409, Some("too_many_attempts")),
        "{r}"
    );
    assert_eq!(r["error"]["details"]["attempts"], 5);
    let order = order_until(&app, &filer, &id, |_| true).await;
    assert_eq!(order["state"], "draft");
    // ... so the right code no longer counts, and every wrong one is in the audit log.
    let (status, _) = enter(&code).await;
    assert_eq!(status, 409, "the order no longer awaits a code");
    let db = crate::helpers::database(dir.path()).await;
    let wrong_entries: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_log WHERE action = 'sms_code_wrong'")
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(wrong_entries, 5);
    db.close().await;
    app.stop().await;
}

#[tokio::test]
async fn an_order_goes_through_review_a_retake_sms_and_the_bureau_to_its_filing_number() {
    let (dir, app, reviewer, filer, id) = submitted_with_a_reviewer().await;
    let submit = format!("/api/v1/orders/{id}/submit");

    // In the queue; the reviewer asks for the back of the card again.
    let (_, queue) = app
        .call(Method::GET, "/api/v1/review/queue", Some(&reviewer), None)
        .await;
    assert!(queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["type"] == "order" && i["id"] == id.as_str()));
    let order = order_until(&app, &filer, &id, |_| true).await;
    let back_id = material(&order, "id_card_back")["material_id"]
        .as_str()
        .unwrap()
        .to_string();
    let decide = |path: String, body: Value| {
        let (app, reviewer) = (&app, reviewer.clone());
        async move {
            app.call(Method::POST, &path, Some(&reviewer), Some(&body))
                .await
        }
    };
    let (status, r) = decide(
        format!("/api/v1/review/materials/{back_id}/decision"),
        json!({"decision": "ask_again", "reasons": ["nope"]}),
    )
    .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (422, Some("unknown_reason"))
    );
    let (status, r) = decide(
        format!("/api/v1/review/materials/{back_id}/decision"),
        json!({"decision": "ask_again", "reasons": ["blurry"]}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let session_id = r["upload_session_id"].as_str().unwrap().to_string();

    // The filer sees why and uses the new link for just that material.
    let order = order_until(&app, &filer, &id, |o| o["state"] == "collecting_materials").await;
    let back = material(&order, "id_card_back");
    assert_eq!(
        (back["state"].as_str(), back["review"]["reasons"].clone()),
        (Some("retake"), json!(["blurry"]))
    );
    assert_eq!(back["review"]["upload_session_id"], session_id.as_str());
    let (status, s) = app
        .call(
            Method::POST,
            &format!("/api/v1/upload-sessions/{session_id}/refresh"),
            Some(&filer),
            None,
        )
        .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["materials"].as_array().unwrap().len(), 1);
    let new_token = crate::helpers::link_token(&s);
    let phone2 = reqwest::Client::builder()
        .cookie_store(true)
        .build()
        .unwrap();
    upload(
        &app,
        &phone2,
        &new_token,
        "id_card_back",
        crate::helpers::back_photo(Label::Good, 13),
    )
    .await;
    order_until(&app, &filer, &id, |o| o["state"] == "ready").await;
    let (status, _) = app.call(Method::POST, &submit, Some(&filer), None).await;
    assert_eq!(status, 200);

    // First review passes: the SMS code goes out.
    let (status, r) = decide(
        format!("/api/v1/review/orders/{id}/decision"),
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(
        (status, r["state"].as_str()),
        (200, Some("sms_verification")),
        "{r}"
    );
    let (masked, code) = last_sms(dir.path()).await;
    assert_eq!(masked, "138****8000");
    let confirm = format!("/api/v1/orders/{id}/sms-verification");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, r) = app
        .call(
            Method::POST,
            &confirm,
            Some(&filer),
            Some(&json!({"code": wrong})),
        )
        .await;
    assert_eq!(
        (status, r["error"]["code"].as_str()),
        (422, Some("wrong_code")),
        "{r}"
    );
    assert_eq!(r["error"]["details"]["attempts_left"], 4);
    let (status, r) = app
        .call(
            Method::POST,
            &confirm,
            Some(&filer),
            Some(&json!({"code": code})),
        )
        .await;
    assert_eq!(
        (status, r["state"].as_str()),
        (200, Some("bureau_review")),
        "{r}"
    );

    // The bureau approves: the filing number, and one per website.
    let (status, r) = decide(
        format!("/api/v1/review/orders/{id}/bureau"),
        json!({"decision": "approve"}),
    )
    .await;
    assert_eq!(status, 200, "{r}");
    let year = beian::filing::today_in_china().format("%Y").to_string();
    assert_eq!(r["filing_number"], format!("京ICP备{year}000001号"));
    assert_eq!(
        r["website_numbers"],
        json!([format!("京ICP备{year}000001号-1")])
    );
    let order = order_until(&app, &filer, &id, |o| o["state"] == "approved").await;
    assert_eq!(order["filing_number"], r["filing_number"]);
    let steps: Vec<&str> = order["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            h["to"]
                .as_str()
                .or(h["to_state"].as_str())
                .unwrap_or_default()
        })
        .collect();
    for state in [
        "submitted",
        "first_review",
        "collecting_materials",
        "sms_verification",
        "bureau_review",
        "approved",
    ] {
        assert!(steps.contains(&state), "{state} not in {steps:?}");
    }
    // The filer never sees the ID number unmasked; the audit log has every step.
    assert!(!order.to_string().contains("11010119900307803X"));
    let (_, log) = app
        .call(
            Method::GET,
            "/api/v1/review/audit?limit=1000",
            Some(&reviewer),
            None,
        )
        .await;
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "material_decision",
        "order_decision",
        "sms_code_wrong",
        "sms_confirmed",
        "bureau_decision",
        "order_state",
        "login",
    ] {
        assert!(actions.contains(&action), "{action} not in the audit log");
    }
    app.stop().await;
}

#[tokio::test]
async fn beian_purge_deletes_the_materials_of_idle_orders_after_their_days() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir.path()).await;
    let filer = app.filer("zhangsan").await;
    let (token, _, id) = app
        .principal_session(&filer, &minimal_order(), &["id_card_front"])
        .await;
    let phone = reqwest::Client::new();
    upload(
        &app,
        &phone,
        &token,
        "id_card_front",
        crate::helpers::photo(Label::Good, 14),
    )
    .await;
    order_until(&app, &filer, &id, |o| {
        material(o, "id_card_front")["state"] != "analyzing"
    })
    .await;
    app.stop().await;

    let purge =
        |days: u32| crate::helpers::purge(dir.path(), &format!("idle_order_days = {days}\n"));
    // Within its days the order keeps its photo; past them, nothing of it stays.
    assert!(purge(90).contains("and 0 files"));
    assert!(purge(0).contains("and 1 files"), "the card photo goes");
    let db = crate::helpers::database(dir.path()).await;
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM materials")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(left, 0);
    db.close().await;
    let blobs = crate::helpers::stored_blobs(dir.path()).await;
    assert!(blobs.is_empty(), "{blobs:?}");
}

#[tokio::test]
async fn the_bureau_rejects_and_the_order_goes_back_to_the_filer_with_the_reasons() {
    let (dir, app, reviewer, filer, id) = submitted_with_a_reviewer().await;
    approve_first_review(&app, &reviewer, &id).await;
    let (_, code) = last_sms(dir.path()).await;
    let (status, r) = app
        .call(
            Method::POST,
            &format!("/api/v1/orders/{id}/sms-verification"),
            Some(&filer),
            Some(&json!({"code": code})),
        )
        .await;
    assert_eq!(
        (status, r["state"].as_str()),
        (200, Some("bureau_review")),
        "{r}"
    );
    let (status, r) = app
        .call(
            Method::POST,
            &format!("/api/v1/review/orders/{id}/bureau"),
            Some(&reviewer),
            Some(&json!({"decision": "reject", "reasons": ["site_name_sensitive_word"]})),
        )
        .await;
    assert_eq!((status, r["state"].as_str()), (200, Some("draft")), "{r}");
    assert!(r["filing_number"].is_null());
    let order = order_until(&app, &filer, &id, |_| true).await;
    let rejected = order["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["to"] == "rejected")
        .unwrap()
        .clone();
    assert!(rejected["note"]
        .as_str()
        .unwrap()
        .contains("site_name_sensitive_word"));
    assert!(rejected["actor"].as_str().unwrap().starts_with("bureau"));
    app.stop().await;
}

/// A real fault in the real engine: every move of an order into `state` fails, until the
/// trigger `fault` is dropped.
async fn fail_moves_into(db: &beian::store::Db, state: &str) {
    let condition = format!("NEW.state = '{state}'");
    crate::helpers::inject_fault(db, "fault", "orders", "state", &condition).await;
}

/// The trigger `fault` dropped, `decision` (not yet awaited) goes through: its answer.
async fn decided_once_the_fault_is_gone(
    db: &beian::store::Db,
    decision: impl std::future::Future<Output = (u16, Value)>,
) -> Value {
    crate::helpers::remove_fault(db, "fault", "orders").await;
    let (status, body) = decision.await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn a_fault_in_a_material_decision_leaves_nothing_half_written_and_the_retry_finishes() {
    let (dir, app, reviewer, filer, id) = submitted_with_a_reviewer().await;
    let order = order_until(&app, &filer, &id, |_| true).await;
    let front_id = material(&order, "id_card_front")["material_id"]
        .as_str()
        .unwrap()
        .to_string();
    let db = crate::helpers::database(dir.path()).await;
    let analysed: String = sqlx::query_scalar("SELECT state FROM materials WHERE id = $1")
        .bind(&front_id)
        .fetch_one(&db)
        .await
        .unwrap();
    // A real fault in the real engine: the order's move into first review fails, after the
    // material's verdict and the audit entry are written in the same decision.
    fail_moves_into(&db, "first_review").await;
    let (path, approve) = (
        format!("/api/v1/review/materials/{front_id}/decision"),
        json!({"decision": "approve"}),
    );
    let decide = || app.call(Method::POST, &path, Some(&reviewer), Some(&approve));
    let (status, body) = decide().await;
    assert_eq!(status, 500, "{body}");
    let (material_state, order_state, decisions): (String, String, i64) = sqlx::query_as(
        "SELECT (SELECT state FROM materials WHERE id = $1),
                (SELECT state FROM orders WHERE id = $2),
                (SELECT COUNT(*) FROM audit_log WHERE action = 'material_decision')",
    )
    .bind(&front_id)
    .bind(&id)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        (material_state.as_str(), order_state.as_str(), decisions),
        (analysed.as_str(), "submitted", 0),
        "half written"
    );

    let body = decided_once_the_fault_is_gone(&db, decide()).await;
    assert_eq!(body["state"], "pass", "{body}");
    let order = order_until(&app, &filer, &id, |_| true).await;
    assert_eq!(order["state"], "first_review", "{order}");
}

#[tokio::test]
async fn a_fault_in_a_first_review_decision_leaves_the_order_as_it_was() {
    let (dir, app, reviewer, filer, id) = submitted_with_a_reviewer().await;
    // The rejection's last step, back to the filer's draft, fails: the review's start, the
    // audit entry and the rejection before it are in the same decision.
    let db = crate::helpers::database(dir.path()).await;
    fail_moves_into(&db, "draft").await;
    let (path, reject) = (
        format!("/api/v1/review/orders/{id}/decision"),
        json!({"decision": "reject", "reasons": ["documents_unacceptable"]}),
    );
    let decide = || app.call(Method::POST, &path, Some(&reviewer), Some(&reject));
    let (status, body) = decide().await;
    assert_eq!(status, 500, "{body}");
    let (state, decisions): (String, i64) = sqlx::query_as(
        "SELECT (SELECT state FROM orders WHERE id = $1),
                (SELECT COUNT(*) FROM audit_log WHERE action = 'order_decision')",
    )
    .bind(&id)
    .fetch_one(&db)
    .await
    .unwrap();
    assert_eq!(
        (state.as_str(), decisions),
        ("submitted", 0),
        "half written"
    );

    let body = decided_once_the_fault_is_gone(&db, decide()).await;
    assert_eq!(body["state"], "draft", "{body}");
    let order = order_until(&app, &filer, &id, |_| true).await;
    assert_eq!(order["state"], "draft", "{order}");
}

#[tokio::test]
async fn the_first_review_cannot_pass_an_order_while_a_required_material_has_not_passed() {
    let (dir, app, reviewer, filer, id) = submitted_with_a_reviewer().await;
    let order = order_until(&app, &filer, &id, |_| true).await;
    let back = material(&order, "id_card_back")["material_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/v1/review/materials/{back}/decision"),
            Some(&reviewer),
            Some(&json!({"decision": "reject", "reasons": ["blurry"]})),
        )
        .await;
    assert_eq!(status, 200, "{body}");

    let (status, body) = app
        .call(
            Method::POST,
            &format!("/api/v1/review/orders/{id}/decision"),
            Some(&reviewer),
            Some(&json!({"decision": "approve"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("materials_not_approved")),
        "{body}"
    );
    let open: Vec<&str> = body["error"]["details"]["materials"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        !open.is_empty() && open.iter().all(|m| m.ends_with(":id_card_back")),
        "{body}"
    );
    let order = order_until(&app, &filer, &id, |_| true).await;
    assert_eq!(order["state"], "first_review", "{order}");
    let db = crate::helpers::database(dir.path()).await;
    let sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_outbox")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(sent, 0, "no code goes out for a refused pass");
}
