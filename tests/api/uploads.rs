//! Upload sessions, the phone's uploads and the background analysis, end to end over HTTP.

use std::time::{Duration, Instant};

use base64::Engine;
use beian::synth::scene::Label;
use reqwest::{Client, Method};
use serde_json::{json, Value};

use crate::helpers::{
    back_photo, material, minimal_order, order_material, photo, spawn_app, spawn_app_in,
    spawn_configured, upload, upload_raw, TestApp,
};

/// A filer's order with an upload session for the principal's ID card; (token, session id,
/// order id, filer token).
async fn session(app: &TestApp, materials: &[&str]) -> (String, String, String, String) {
    session_for_order(app, materials, &minimal_order()).await
}

async fn session_for_order(
    app: &TestApp,
    materials: &[&str],
    body: &Value,
) -> (String, String, String, String) {
    let filer = app.filer("zhangsan").await;
    let (token, session_id, order_id) = app.principal_session(&filer, body, materials).await;
    (token, session_id, order_id, filer)
}

fn phone() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

/// Polls the PC's view until no material is analysing (or 60 s pass).
async fn analysed(app: &TestApp, filer: &str, session_id: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (status, s) = app
            .call(
                Method::GET,
                &format!("/api/v1/upload-sessions/{session_id}?wait=5s"),
                Some(filer),
                None,
            )
            .await;
        assert_eq!(status, 200, "{s}");
        let busy = s["materials"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["state"] == "analyzing");
        if !busy {
            return s;
        }
        assert!(Instant::now() < deadline, "analysis did not finish: {s}");
    }
}

#[tokio::test]
async fn a_session_hands_out_a_link_and_a_qr_code_and_starts_collecting() {
    let app = spawn_app().await;
    let (token, session_id, order_id, filer) =
        session(&app, &["id_card_front", "id_card_back"]).await;
    assert!(token.len() >= 43, "256 random bits");
    let (_, s) = app
        .call(
            Method::GET,
            &format!("/api/v1/upload-sessions/{session_id}"),
            Some(&filer),
            None,
        )
        .await;
    assert_eq!(s["state"], "waiting");
    assert!(
        s.get("url").is_none(),
        "the link is only in the answer that made it"
    );
    assert_eq!(material(&s, "id_card_front")["state"], "missing");
    let (_, order) = app
        .call(
            Method::GET,
            &format!("/api/v1/orders/{order_id}"),
            Some(&filer),
            None,
        )
        .await;
    assert_eq!(order["state"], "collecting_materials");
    let svg = app
        .request(
            Method::GET,
            &format!("/api/v1/upload-sessions/{session_id}/qr.svg"),
            Some(&filer),
            None,
        )
        .await;
    assert_eq!(svg.headers()["content-type"], "image/svg+xml");
    assert!(svg.text().await.unwrap().contains("<svg"));
    let png = app
        .request(
            Method::GET,
            &format!("/api/v1/upload-sessions/{session_id}/qr.png"),
            Some(&filer),
            None,
        )
        .await;
    assert_eq!(png.headers()["content-type"], "image/png");
    let other = app.filer("lisi").await;
    let (status, _) = app
        .call(
            Method::GET,
            &format!("/api/v1/upload-sessions/{session_id}"),
            Some(&other),
            None,
        )
        .await;
    assert_eq!(
        status, 404,
        "another filer's session does not exist for them"
    );
    app.stop().await;
}

#[tokio::test]
async fn the_qr_code_is_drawn_again_after_a_restart_until_a_phone_opens_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir.path()).await;
    let (token, session_id, _, filer) = session(&app, &["id_card_front"]).await;
    app.stop().await;

    let app = spawn_app_in(dir.path()).await;
    let qr = format!("/api/v1/upload-sessions/{session_id}/qr.svg");
    let svg = app.request(Method::GET, &qr, Some(&filer), None).await;
    assert_eq!(svg.status().as_u16(), 200);
    assert!(svg.text().await.unwrap().contains("<svg"));
    // At rest the token is sealed, never in the clear.
    let db = crate::helpers::database(dir.path()).await;
    let sealed: String = sqlx::query_scalar("SELECT link_sealed FROM upload_sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(!sealed.contains(&token));

    let res = phone()
        .get(app.url(&format!("/api/v1/m/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "the link still opens");
    let (status, body) = app.call(Method::GET, &qr, Some(&filer), None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("link_unavailable"))
    );
    let sealed: Option<String> = sqlx::query_scalar("SELECT link_sealed FROM upload_sessions")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(sealed, None, "an opened link is not kept");
    app.stop().await;
}

#[tokio::test]
async fn the_first_phone_binds_the_link_and_others_are_refused() {
    let app = spawn_app().await;
    let (token, _, _, _) = session(&app, &["id_card_front"]).await;
    let mine = phone();
    let res = mine
        .get(app.url(&format!("/api/v1/m/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert!(res.headers().get("set-cookie").is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["state"], "scanned");
    assert_eq!(body["required"], json!(["id_card_front"]));
    let again: Value = mine
        .get(app.url(&format!("/api/v1/m/{token}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["state"], "scanned");
    let res = phone()
        .get(app.url(&format!("/api/v1/m/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403, "a second device is refused");
    let res = phone()
        .get(app.url("/api/v1/m/not-a-real-token"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unknown_link");
    app.stop().await;
}

#[tokio::test]
async fn a_good_photo_passes_and_a_blurred_one_is_sent_back_with_its_reason() {
    let app = spawn_app().await;
    let (token, session_id, order_id, filer) =
        session(&app, &["id_card_front", "id_card_back"]).await;
    let p = phone();
    let (status, body) = upload_raw(
        &app,
        &p,
        &token,
        "id_card_front",
        photo(Label::Good, 21),
        None,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["state"], "analyzing");
    // The back as base64 JSON, the way a browser can send it.
    let b64 = base64::engine::general_purpose::STANDARD.encode(photo(Label::Defocus, 22));
    let res = p
        .post(app.url(&format!("/api/v1/m/{token}/materials/id_card_back")))
        .json(&json!({"image_base64": format!("data:image/jpeg;base64,{b64}")}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);

    let s = analysed(&app, &filer, &session_id).await;
    assert_eq!(material(&s, "id_card_front")["state"], "pass", "{s}");
    let back = material(&s, "id_card_back");
    assert_eq!(back["state"], "retake");
    assert!(
        back["reasons"]
            .as_array()
            .unwrap()
            .contains(&"blurry".into()),
        "{back}"
    );
    assert!(back["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["check"] == "sharpness" && c["ok"] == false));
    assert_eq!(
        s["state"], "uploading",
        "not complete while a photo must be retaken"
    );

    let front = order_material(&app, &filer, &order_id, "id_card_front").await;
    assert_eq!(front["state"], "pass");
    let phone_view: Value = p
        .get(app.url(&format!("/api/v1/m/{token}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(phone_view["required"], json!(["id_card_back"]));
    let back_on_phone = material(&phone_view, "id_card_back");
    assert!(
        back_on_phone["reasons_zh"]
            .as_array()
            .unwrap()
            .contains(&"照片模糊，请对准证件重拍".into()),
        "{back_on_phone}"
    );

    // The retake passes and completes the session.
    upload(
        &app,
        &p,
        &token,
        "id_card_back",
        back_photo(Label::Good, 23),
    )
    .await;
    let s = analysed(&app, &filer, &session_id).await;
    assert_eq!(material(&s, "id_card_back")["state"], "pass", "{s}");
    assert_eq!(s["state"], "completed");
    let res = p
        .get(app.url(&format!("/api/v1/m/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 410, "a completed link is used up");
    app.stop().await;
}

#[tokio::test]
async fn retries_and_identical_bytes_are_stored_once() {
    let app = spawn_app().await;
    let (token, _, _, _) = session(&app, &["id_card_front"]).await;
    let p = phone();
    let bytes = photo(Label::Good, 31);
    let (_, first) = upload_raw(
        &app,
        &p,
        &token,
        "id_card_front",
        bytes.clone(),
        Some("k-1"),
    )
    .await;
    let (status, retry) = upload_raw(
        &app,
        &p,
        &token,
        "id_card_front",
        bytes.clone(),
        Some("k-1"),
    )
    .await;
    assert_eq!(status, 202);
    assert_eq!(retry["material_id"], first["material_id"]);
    assert_eq!(retry["duplicate"], true);
    let (_, same_bytes) = upload_raw(&app, &p, &token, "id_card_front", bytes, None).await;
    assert_eq!(same_bytes["material_id"], first["material_id"]);
    app.stop().await;
}

#[tokio::test]
async fn hostile_uploads_get_codes_and_leave_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir.path()).await;
    let (token, _, _, _) = session(&app, &["id_card_front"]).await;
    let p = phone();
    let good = photo(Label::Good, 41);
    let cases: [(&str, Vec<u8>, u16, &str); 4] = [
        ("id_card_front", Vec::new(), 415, "empty_file"),
        (
            "id_card_front",
            b"<html>hi</html>".to_vec(),
            415,
            "unsupported_format",
        ),
        (
            "id_card_front",
            good[..good.len() / 2].to_vec(),
            422,
            "image_truncated",
        ),
        ("face", good.clone(), 422, "material_not_requested"),
    ];
    for (kind, bytes, status, code) in cases {
        let (got, body) = upload_raw(&app, &p, &token, kind, bytes, None).await;
        assert_eq!(
            (got, body["error"]["code"].as_str()),
            (status, Some(code)),
            "{body}"
        );
    }
    let huge = vec![0xFFu8; 25 * 1024 * 1024];
    let res = p
        .post(app.url(&format!("/api/v1/m/{token}/materials/id_card_front")))
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    app.stop().await;
    let stored = crate::helpers::stored_blobs(dir.path()).await;
    assert_eq!(
        stored,
        Vec::<String>::new(),
        "no blob was written for a refused upload"
    );
}

#[tokio::test]
async fn an_analysis_cut_off_by_a_stop_finishes_after_the_restart() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir.path()).await;
    let (token, session_id, _, filer) = session(&app, &["id_card_front"]).await;
    // Taken (202): the bytes are durable before the stop.
    upload(
        &app,
        &phone(),
        &token,
        "id_card_front",
        photo(Label::Good, 51),
    )
    .await;
    app.stop().await;
    let app = spawn_app_in(dir.path()).await;
    let s = analysed(&app, &filer, &session_id).await;
    assert_eq!(material(&s, "id_card_front")["state"], "pass", "{s}");
    app.stop().await;
}

#[tokio::test]
async fn a_refreshed_link_kills_the_old_one_and_unopened_links_expire() {
    let app = spawn_app().await;
    let (token, session_id, _, filer) = session(&app, &["id_card_front"]).await;
    let (status, fresh) = app
        .call(
            Method::POST,
            &format!("/api/v1/upload-sessions/{session_id}/refresh"),
            Some(&filer),
            None,
        )
        .await;
    assert_eq!(status, 200);
    let new_token = crate::helpers::link_token(&fresh);
    assert_ne!(new_token, token);
    assert_eq!(
        phone()
            .get(app.url(&format!("/api/v1/m/{token}")))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        phone()
            .get(app.url(&format!("/api/v1/m/{new_token}")))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        200
    );
    app.stop().await;

    let app = spawn_configured(|c| c.upload_open_minutes = 0).await;
    let (token, _, _, _) = session(&app, &["id_card_front"]).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let res = phone()
        .get(app.url(&format!("/api/v1/m/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 410);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "link_expired");
    app.stop().await;
}

#[tokio::test]
async fn a_multipart_form_upload_is_accepted() {
    let app = spawn_app().await;
    let (token, session_id, _, filer) = session(&app, &["id_card_front"]).await;
    let part = reqwest::multipart::Part::bytes(photo(Label::Good, 61))
        .file_name("IMG_0001.jpg")
        .mime_str("image/jpeg")
        .unwrap();
    let form = reqwest::multipart::Form::new().part("image", part);
    let res = phone()
        .post(app.url(&format!("/api/v1/m/{token}/materials/id_card_front")))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    let s = analysed(&app, &filer, &session_id).await;
    assert_eq!(material(&s, "id_card_front")["state"], "pass", "{s}");
    app.stop().await;
}

#[tokio::test]
async fn the_subjects_documents_uploaded_from_the_principals_phone_count_for_the_subject() {
    let app = spawn_app().await;
    let (token, _, order_id, filer) = session(&app, &["verification_form"]).await;
    upload(
        &app,
        &phone(),
        &token,
        "verification_form",
        photo(Label::Good, 91),
    )
    .await;
    let form = order_material(&app, &filer, &order_id, "verification_form").await;
    assert_eq!(form["person"], "subject");
    assert_ne!(form["state"], "missing", "{form}");
    app.stop().await;
}

#[tokio::test]
async fn someone_elses_card_is_flagged_with_both_values_and_what_was_read_stays_encrypted() {
    use rand::SeedableRng;
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir.path()).await;
    let (token, session_id, order_id, filer) = session(&app, &["id_card_front"]).await;
    let mut rng = rand::rngs::StdRng::seed_from_u64(99);
    let other = beian::synth::identity::Identity::random(&mut rng);
    let bytes = crate::helpers::card_photo(&other, true, Label::Good, 21);
    upload(&app, &phone(), &token, "id_card_front", bytes).await;
    let s = analysed(&app, &filer, &session_id).await;
    let front = material(&s, "id_card_front");
    assert_eq!(front["state"], "flagged", "{front}");
    assert!(front["reasons"]
        .as_array()
        .unwrap()
        .contains(&"ocr_mismatch".into()));

    let (_, order) = app
        .call(
            Method::GET,
            &format!("/api/v1/orders/{order_id}"),
            Some(&filer),
            None,
        )
        .await;
    let read = &order["prefilled"]["principal"]["id_card_front"];
    assert_eq!(read["state"], "flagged");
    assert_eq!(
        read["fields"]["name"]["value"],
        other.name.as_str(),
        "{read}"
    );
    let masked = beian::filing::id_number::mask_id(&other.id_number);
    assert_eq!(read["fields"]["id_number"]["value"], masked.as_str());
    let flags = read["flags"].as_array().unwrap();
    let name_flag = flags.iter().find(|f| f["field"] == "name").unwrap();
    assert_eq!(name_flag["code"], "ocr_mismatch");
    assert_eq!(name_flag["read"], other.name.as_str());
    assert_eq!(name_flag["typed"], "张三");
    let id_flag = flags.iter().find(|f| f["field"] == "id_number").unwrap();
    assert_eq!(id_flag["read"], masked.as_str());
    assert!(!order.to_string().contains(&other.id_number));
    app.stop().await;

    // Nothing read is in the database files in the clear.
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            for secret in [other.id_number.as_str(), other.address.as_str()] {
                assert!(
                    !bytes.windows(secret.len()).any(|w| w == secret.as_bytes()),
                    "{secret} found in {}",
                    path.display()
                );
            }
        }
    }
}

#[tokio::test]
async fn past_the_analysis_backlog_uploads_wait_with_503_and_retry_after() {
    // No workers here: the queue only grows, as when analysis falls behind.
    let app = spawn_configured(|c| {
        c.max_analysis_backlog = 1;
        c.analysis_workers = 0;
    })
    .await;
    let (token, _, _, _) = session(&app, &["id_card_front", "id_card_back"]).await;
    let p = phone();
    // The first upload takes the one place in the queue...
    upload(&app, &p, &token, "id_card_front", photo(Label::Good, 5)).await;
    // ...and the next is turned away without being stored.
    let res = p
        .post(app.url(&format!("/api/v1/m/{token}/materials/id_card_back")))
        .header("content-type", "image/jpeg")
        .body(back_photo(Label::Good, 6))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 503);
    assert!(res.headers().get("retry-after").is_some());
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "busy");
    app.stop().await;
}

/// Workers racing for the queue never take the same job twice: six claims at once on three
/// queued uploads give each job to exactly one of them (SQLite runs one writer at a time;
/// PostgreSQL, in the suite's second pass, passes over a row another claim holds locked).
#[tokio::test]
async fn claims_racing_for_the_queue_take_each_job_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::helpers::config_for(dir.path());
    config.analysis_workers = 0;
    let app = crate::helpers::spawn_with(config).await;
    let kinds = ["id_card_front", "id_card_back", "residence_permit"];
    let (token, _, _, _) = session(&app, &kinds).await;
    let p = phone();
    upload(&app, &p, &token, kinds[0], photo(Label::Good, 61)).await;
    upload(&app, &p, &token, kinds[1], back_photo(Label::Good, 62)).await;
    upload(&app, &p, &token, kinds[2], photo(Label::Good, 63)).await;

    let repos = beian::store::Repositories::on(crate::helpers::database(dir.path()).await);
    let racing: Vec<_> = (0..6)
        .map(|_| {
            let jobs = repos.jobs.clone();
            tokio::spawn(async move { jobs.claim(Duration::from_secs(60)).await })
        })
        .collect();
    let mut claimed = Vec::new();
    for claim in futures::future::join_all(racing).await {
        if let Some(c) = claim.unwrap().unwrap() {
            claimed.push(c.material_id);
        }
    }
    claimed.sort();
    let before = claimed.len();
    claimed.dedup();
    assert_eq!(
        (before, claimed.len()),
        (3, 3),
        "each job once: {claimed:?}"
    );
    assert_eq!(
        repos.jobs.unfinished().await.unwrap(),
        3,
        "all three running"
    );
    app.stop().await;
}

/// An order whose principal differs from 张三's card in `field`, and the card's front uploaded
/// and flagged `ocr_mismatch`: (order id, filer token, material id).
async fn mismatched_front(app: &TestApp, field: &str, typed: &str) -> (String, String, String) {
    let mut order = minimal_order();
    order["subject"]["principal"][field] = json!(typed);
    let (token, session_id, order_id, filer) =
        session_for_order(app, &["id_card_front"], &order).await;
    upload(
        app,
        &phone(),
        &token,
        "id_card_front",
        photo(Label::Good, 21),
    )
    .await;
    let s = analysed(app, &filer, &session_id).await;
    let front = material(&s, "id_card_front");
    assert_eq!(front["reasons"], json!(["ocr_mismatch"]), "{front}");
    let material_id = front["material_id"].as_str().unwrap().to_string();
    (order_id, filer, material_id)
}

#[tokio::test]
async fn correcting_a_typo_the_card_disagrees_with_clears_the_flag() {
    let app = spawn_app().await;
    let (order_id, filer, _) = mismatched_front(&app, "name", "张山").await;

    let (status, fixed) = app
        .call(
            Method::PATCH,
            &format!("/api/v1/orders/{order_id}"),
            Some(&filer),
            Some(&json!({"subject": {"principal": {"name": "张三"}}})),
        )
        .await;
    assert_eq!(status, 200, "{fixed}");
    assert_eq!(
        material(&fixed, "id_card_front")["state"],
        "pass",
        "{fixed}"
    );
    let read = &fixed["prefilled"]["principal"]["id_card_front"];
    assert_eq!(read["flags"], json!([]));
    assert_eq!(read["state"], "pass");
    app.stop().await;
}

#[tokio::test]
async fn the_filer_can_take_the_number_the_card_shows_without_seeing_it_unmasked() {
    let app = spawn_app().await;
    // One digit off (and still a valid number): the card says ...803X.
    let (order_id, filer, material_id) =
        mismatched_front(&app, "id_number", "110101199003078013").await;

    let adopt = format!("/api/v1/orders/{order_id}/readings/{material_id}/adopt");
    let (status, adopted) = app
        .call(Method::POST, &adopt, Some(&filer), Some(&json!({})))
        .await;
    assert_eq!(status, 200, "{adopted}");
    assert_eq!(
        adopted["subject"]["principal"]["id_number"],
        "110101********803X"
    );
    assert_eq!(material(&adopted, "id_card_front")["state"], "pass");
    // A field a card has no place for in the order is refused; another filer sees nothing.
    let (status, body) = app
        .call(
            Method::POST,
            &adopt,
            Some(&filer),
            Some(&json!({"fields": ["ethnicity"]})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("field_not_adoptable"))
    );
    let other = app.filer("lisi").await;
    let (status, _) = app
        .call(Method::POST, &adopt, Some(&other), Some(&json!({})))
        .await;
    assert_eq!(status, 404);
    app.stop().await;
}

#[tokio::test]
async fn a_fault_after_the_verdict_leaves_nothing_half_written_and_the_retry_finishes() {
    let dir = tempfile::tempdir().unwrap();
    let app = spawn_app_in(dir.path()).await;
    let (token, session_id, _, filer) = session(&app, &["id_card_front"]).await;
    // A real fault in the real engine: the first analysis attempt fails when it completes the
    // session, after the verdict, the card's face template and the match are written.
    let db = crate::helpers::database(dir.path()).await;
    crate::helpers::inject_fault(
        &db,
        "fault_at_completion",
        "upload_sessions",
        "state",
        "NEW.state = 'completed' AND (SELECT MAX(attempts) FROM analysis_jobs) < 2",
    )
    .await;
    upload(
        &app,
        &phone(),
        &token,
        "id_card_front",
        photo(Label::Good, 51),
    )
    .await;

    // Read in one statement (one snapshot) until the job is done: a passed photo is never
    // seen beside a session not completed, or a face template without its verdict.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (material_state, session_state) = loop {
        let (material, session, job, templates): (String, String, String, i64) = sqlx::query_as(
            "SELECT m.state, s.state, j.state,
                    (SELECT COUNT(*) FROM face_templates t WHERE t.material_id = m.id)
             FROM materials m JOIN upload_sessions s ON s.id = m.session_id
             JOIN analysis_jobs j ON j.material_id = m.id",
        )
        .fetch_one(&db)
        .await
        .unwrap();
        let recorded = material != "analyzing";
        assert_eq!(
            recorded,
            session == "completed",
            "half written: {material}, {session}"
        );
        assert!(recorded || templates == 0, "a template without its verdict");
        if job == "done" {
            break (material, session);
        }
        assert!(Instant::now() < deadline, "the job did not finish: {job}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(
        (material_state.as_str(), session_state.as_str()),
        ("pass", "completed")
    );
    let attempts: i64 = sqlx::query_scalar("SELECT attempts FROM analysis_jobs")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(
        attempts, 2,
        "the fault failed the first attempt, the second finished"
    );
    let s = analysed(&app, &filer, &session_id).await;
    assert_eq!(material(&s, "id_card_front")["state"], "pass", "{s}");
    app.stop().await;
}

/// A blob no row names (a crash between its write and its row's) is swept once it is older
/// than `orphan_blob_minutes`; younger, it may be an upload in flight in another process and
/// stays; the blobs rows name always stay.
#[tokio::test]
async fn blobs_no_row_names_are_swept_once_abandoned_and_named_ones_stay() {
    let dir = tempfile::tempdir().unwrap();
    let app = crate::helpers::spawn_app_in(dir.path()).await;
    let (token, session_id, _, filer) = session(&app, &["id_card_front"]).await;
    upload(
        &app,
        &phone(),
        &token,
        "id_card_front",
        photo(Label::Good, 5),
    )
    .await;
    analysed(&app, &filer, &session_id).await;
    app.stop().await;
    let named = crate::helpers::stored_blobs(dir.path()).await;
    assert_eq!(named.len(), 1, "the analysed copy");

    let blobs = beian::store::blobs::open(&crate::helpers::config_for(dir.path()))
        .await
        .unwrap();
    let orphan = beian::store::blobs::new_name();
    blobs
        .put(&orphan, bytes::Bytes::from_static(b"left by a crash"))
        .await
        .unwrap();
    assert!(
        crate::helpers::purge(dir.path(), "orphan_blob_minutes = 60\n")
            .contains("deleted 0 blobs no row names")
    );
    assert_eq!(crate::helpers::stored_blobs(dir.path()).await.len(), 2);
    assert!(
        crate::helpers::purge(dir.path(), "orphan_blob_minutes = 0\n")
            .contains("deleted 1 blobs no row names")
    );
    assert_eq!(crate::helpers::stored_blobs(dir.path()).await, named);
}
