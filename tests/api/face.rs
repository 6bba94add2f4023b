//! The face check: single face photos (the detector's reasons), the liveness capture over
//! HTTP with real photographs (scikit-image's astronaut, matplotlib's Grace Hopper) made into
//! a live turning head or a flat picture moved by homographies, and the match with the ID
//! card portrait.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use beian::filing::division::Divisions;
use beian::filing::materials::MaterialKind;
use beian::inspect;
use beian::synth::face_calibration::{
    card_photo_of, flat_capture, live_capture, load_people, Person,
};
use beian::vision::decode::{self, IntakeLimits};
use beian::vision::face::liveness::Action;
use beian::vision::models::Models;
use beian::vision::ocr::OcrModels;
use image::{Rgb, RgbImage};
use reqwest::Client;
use serde_json::{json, Value};

use crate::helpers::{
    minimal_order, models_dir, order_material, spawn_app, stored_blobs, upload_raw, zhang_san,
    TestApp,
};

fn models() -> Arc<Models> {
    Models::shared(&models_dir(), OcrModels::Ppocrv6Small, 2).expect("models load")
}

fn fixtures() -> std::path::PathBuf {
    beian::vendor::ensure_fixtures(&models_dir()).expect("fixtures fetched");
    models_dir().join("fixtures")
}

/// The astronaut and Grace Hopper with their faces found.
pub(crate) fn people() -> (Person, Person) {
    let mut people = load_people(&models(), &fixtures()).unwrap().into_iter();
    (people.next().unwrap(), people.next().unwrap())
}

fn fixture(name: &str) -> RgbImage {
    image::open(fixtures().join(name)).unwrap().to_rgb8()
}

/// The verdict `beian check --kind face` gives a photo.
fn judge_face_photo(img: &RgbImage) -> Value {
    let bytes = decode::reencode_jpeg(img, 92);
    let looked = inspect::look(
        &bytes,
        MaterialKind::Face,
        &IntakeLimits::default(),
        &Default::default(),
        &models(),
    )
    .unwrap()
    .unwrap();
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
    inspect::conclude(&looked, &Default::default(), Divisions::embedded(), today)
        .verdict
        .to_value()
}

fn reasons(v: &Value) -> Vec<String> {
    v["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn single_face_photos_get_the_detectors_reasons() {
    let astronaut = fixture("astronaut.png");
    let v = judge_face_photo(&astronaut);
    assert_eq!(v["verdict"], "pass", "{v}");
    assert!(v["face"]["score"].as_f64().unwrap() > 0.8, "{v}");
    assert_eq!(v["face"]["landmarks"].as_array().unwrap().len(), 5);

    // A cat: no face.
    assert_eq!(
        reasons(&judge_face_photo(&fixture("chelsea.png"))),
        ["no_face"]
    );

    // Two people side by side.
    let hopper = decode::resize(&fixture("grace_hopper.jpg"), 512, 600);
    let mut two = RgbImage::from_pixel(1024, 600, Rgb([200, 200, 200]));
    image::imageops::replace(&mut two, &astronaut, 0, 0);
    image::imageops::replace(&mut two, &hopper, 512, 0);
    assert_eq!(reasons(&judge_face_photo(&two)), ["multiple_faces"]);

    // The astronaut far away in a large empty frame.
    let small = decode::resize(&astronaut, 160, 160);
    let mut far = RgbImage::from_pixel(1600, 1200, Rgb([180, 170, 160]));
    image::imageops::replace(&mut far, &small, 700, 500);
    assert_eq!(reasons(&judge_face_photo(&far)), ["face_too_small"]);

    // Cut off below the nose by the picture's edge.
    let large = decode::resize(&astronaut, 1024, 1024);
    let cut = image::imageops::crop_imm(&large, 0, 0, 1024, 260).to_image();
    assert_eq!(reasons(&judge_face_photo(&cut)), ["face_cut_off"]);

    // The cameraman, in profile (enlarged: in the whole picture his face is also small).
    let camera = image::imageops::crop_imm(&fixture("camera.png"), 140, 50, 220, 220).to_image();
    let camera = decode::resize(
        &image::DynamicImage::ImageLuma8(image::imageops::grayscale(&camera)).to_rgb8(),
        660,
        660,
    );
    assert_eq!(reasons(&judge_face_photo(&camera)), ["face_turned"]);
}

/// `img` with every pixel inside (or outside) the box multiplied by `gain`.
fn relit(img: &RgbImage, [x, y, w, h]: [f32; 4], inside: bool, gain: f32) -> RgbImage {
    let mut out = img.clone();
    for (px, py, p) in out.enumerate_pixels_mut() {
        let within =
            (px as f32) >= x && (px as f32) < x + w && (py as f32) >= y && (py as f32) < y + h;
        if within == inside {
            p.0 = p.0.map(|c| (f32::from(c) * gain).min(255.0) as u8);
        }
    }
    out
}

fn face_box(v: &Value) -> [f32; 4] {
    let b = v["face"]["box"].as_array().unwrap();
    [0, 1, 2, 3].map(|i| b[i].as_f64().unwrap() as f32)
}

#[test]
fn real_portraits_are_judged_on_the_face_not_the_frame() {
    // Every frontal, evenly lit face among the photographs that ship in packages passes,
    // dark suits and dark backgrounds included.
    for name in [
        "obama.jpg",
        "obama2.jpg",
        "obama3.jpg",
        "biden.jpg",
        "grace_hopper.jpg",
        "astronaut.png",
    ] {
        let v = judge_face_photo(&fixture(name));
        assert_eq!(v["verdict"], "pass", "{name}: {v}");
        let brightness = v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["check"] == "face_brightness");
        assert!(brightness.is_some(), "{name}: measured on the face: {v}");
    }
    let obama = fixture("obama.jpg");
    let lit = judge_face_photo(&obama);
    let face = face_box(&lit);
    // The frame around the face in darkness, the face as it was: still a good photo.
    let dark_room = relit(&obama, face, false, 0.2);
    assert_eq!(judge_face_photo(&dark_room)["verdict"], "pass");
    // The face in shadow, the rest as it was: too dark.
    let shadowed = relit(&obama, face, true, 0.3);
    assert_eq!(reasons(&judge_face_photo(&shadowed)), ["too_dark"]);
    // Washed out, and out of focus.
    let washed = relit(&obama, face, true, 2.4);
    assert_eq!(reasons(&judge_face_photo(&washed)), ["overexposed"]);
    let blurred = image::imageops::blur(&obama, 8.0);
    assert_eq!(reasons(&judge_face_photo(&blurred)), ["blurry"]);
    // A page of print has no face (it is white, and that is not what is wrong with it).
    let page =
        image::DynamicImage::ImageLuma8(image::imageops::grayscale(&fixture("page.png"))).to_rgb8();
    let page = decode::resize(&page, 1536, 764);
    assert_eq!(reasons(&judge_face_photo(&page)), ["no_face"]);
}

fn phone() -> Client {
    Client::builder().cookie_store(true).build().unwrap()
}

/// An order for 张三 with a session asking for the principal's `materials`: (token, order
/// id, filer token).
async fn session(app: &TestApp, materials: &[&str]) -> (String, String, String) {
    let filer = app.filer("zhangsan").await;
    session_of(app, filer, materials).await
}

async fn session_of(app: &TestApp, filer: String, materials: &[&str]) -> (String, String, String) {
    let (token, _, order_id) = app
        .principal_session(&filer, &minimal_order(), materials)
        .await;
    (token, order_id, filer)
}

async fn phone_view(app: &TestApp, phone: &Client, token: &str) -> Value {
    let res = phone
        .get(app.url(&format!("/api/v1/m/{token}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

fn parse_actions(liveness: &Value) -> Vec<Action> {
    serde_json::from_value(liveness["actions"].clone()).unwrap()
}

/// 170 ms between frames: the ten frames span 1.53 s (the capture may not be older than its
/// challenge, so the tests wait that long after asking for one).
pub(crate) const SPACING_MS: u64 = 170;

fn capture_body(challenge_id: &str, frames: &[(u64, RgbImage)]) -> Value {
    json!({
        "challenge_id": challenge_id,
        "consent": true,
        "frames": frames.iter().map(|(t, img)| json!({
            "t": t,
            "image_base64": base64::engine::general_purpose::STANDARD.encode(decode::reencode_jpeg(img, 85)),
        })).collect::<Vec<_>>(),
    })
}

async fn post_capture(app: &TestApp, phone: &Client, token: &str, body: &Value) -> (u16, Value) {
    let res = phone
        .post(app.url(&format!("/api/v1/m/{token}/liveness")))
        .json(body)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

/// Asks for a challenge and answers it with the frames `make` renders for its actions.
pub(crate) async fn answer(
    app: &TestApp,
    phone: &Client,
    token: &str,
    make: impl FnOnce(&[Action]) -> Vec<(u64, RgbImage)>,
) -> (u16, Value) {
    let view = phone_view(app, phone, token).await;
    let liveness = &view["liveness"];
    let frames = make(&parse_actions(liveness));
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let body = capture_body(liveness["challenge_id"].as_str().unwrap(), &frames);
    post_capture(app, phone, token, &body).await
}

fn check<'a>(response: &'a Value, name: &str) -> &'a Value {
    response["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == name)
        .unwrap_or_else(|| panic!("no {name} in {response}"))
}

#[tokio::test]
async fn a_live_head_performing_the_challenge_passes_and_a_moved_photo_does_not() {
    let app = spawn_app().await;
    // Grace Hopper performs every action; the astronaut's photo, turned down by the
    // synthetic head, reads as looking up (docs/face.md).
    let (_, hopper) = people();
    let (token, _, _) = session(&app, &["face", "id_card_back"]).await;
    let phone = phone();

    // The flat photo, moved and tilted through the challenge's poses: retake.
    let (status, r) = answer(&app, &phone, &token, |a| {
        flat_capture(&hopper, a, SPACING_MS)
    })
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["state"], "retake", "{r}");
    assert_eq!(r["reasons"], json!(["liveness_challenge_failed"]));
    assert!(r["reasons_zh"][0].as_str().unwrap().contains("活体"));

    // The same face turning as a head does, but not the turn that was asked: retake.
    let (status, r) = answer(&app, &phone, &token, |asked| {
        let swapped: Vec<Action> = asked
            .iter()
            .map(|a| match a {
                Action::TurnLeft => Action::TurnRight,
                Action::TurnRight => Action::TurnLeft,
                other => *other,
            })
            .collect();
        live_capture(&hopper, &swapped, SPACING_MS)
    })
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["state"], "retake", "{r}");

    // The head performing what was asked: pass, with the numbers.
    let (status, r) = answer(&app, &phone, &token, |a| {
        live_capture(&hopper, a, SPACING_MS)
    })
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["state"], "pass", "{r}");
    let parallax = check(&r, "nose_parallax");
    assert!(parallax["value"].as_f64().unwrap() >= parallax["threshold"].as_f64().unwrap());
    // The same person throughout (the synthetic "come closer" warps the face enough to
    // bring this to 0.69 against the original; other challenges keep it near 1).
    assert_eq!(check(&r, "same_person")["ok"], true, "{r}");
    assert!(check(&r, "passive_liveness")["value"].is_number());

    // Done: the phone is offered no more challenges and shows the face as passed.
    let view = phone_view(&app, &phone, &token).await;
    assert!(view["liveness"].is_null(), "{view}");
    assert_eq!(view["materials"][0]["kind"], "face");
    assert_eq!(view["materials"][0]["state"], "pass");
    app.stop().await;
}

#[tokio::test]
async fn malformed_captures_and_reused_challenges_are_refused_with_codes() {
    let app = spawn_app().await;
    let (_, hopper) = people();
    let (token, _, filer) = session(&app, &["face", "id_card_front"]).await;
    let phone = phone();
    let view = phone_view(&app, &phone, &token).await;
    let liveness = &view["liveness"];
    let id = liveness["challenge_id"].as_str().unwrap();
    let actions = parse_actions(liveness);
    assert_eq!(actions.len(), 2);
    assert!(actions.contains(&Action::TurnLeft) || actions.contains(&Action::TurnRight));
    assert_eq!(liveness["prompts_zh"].as_array().unwrap().len(), 2);
    // Asking again gives the same open challenge.
    let again = phone_view(&app, &phone, &token).await;
    assert_eq!(again["liveness"]["challenge_id"], id);

    let frames = live_capture(&hopper, &actions, SPACING_MS);
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let good = capture_body(id, &frames);
    let with = |f: &dyn Fn(&mut Value)| {
        let mut b = good.clone();
        f(&mut b);
        b
    };
    let cases: Vec<(Value, u16, &str)> = vec![
        (
            with(&|b| b["consent"] = json!(false)),
            422,
            "consent_required",
        ),
        (
            with(&|b| b["frames"].as_array_mut().unwrap().truncate(7)),
            422,
            "invalid_capture",
        ),
        (
            with(&|b| b["frames"][3]["t"] = json!(0)),
            422,
            "invalid_capture",
        ),
        (
            with(&|b| b["challenge_id"] = json!("not-a-challenge")),
            404,
            "unknown_challenge",
        ),
        (
            with(&|b| b["frames"][2]["image_base64"] = json!("%%% not base64")),
            400,
            "invalid_base64",
        ),
        (
            with(&|b| {
                b["frames"][2]["image_base64"] =
                    json!(base64::engine::general_purpose::STANDARD.encode(b"GIF89a not a photo"))
            }),
            415,
            "unsupported_format",
        ),
        (with(&|b| b["extra"] = json!(1)), 400, "invalid_json"),
    ];
    for (body, status, code) in cases {
        let (got, r) = post_capture(&app, &phone, &token, &body).await;
        assert_eq!(
            (got, r["error"]["code"].as_str().unwrap()),
            (status, code),
            "{r}"
        );
    }
    // None of those spent the challenge; the good capture does, once.
    let (status, r) = post_capture(&app, &phone, &token, &good).await;
    assert_eq!(status, 201, "{r}");
    let (status, r) = post_capture(&app, &phone, &token, &good).await;
    assert_eq!(
        (status, r["error"]["code"].as_str().unwrap()),
        (409, "challenge_used")
    );

    // A single photo is not a face check.
    let res = phone
        .post(app.url(&format!("/api/v1/m/{token}/materials/face")))
        .header("content-type", "image/jpeg")
        .body(decode::reencode_jpeg(&hopper.photo, 90))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let r: Value = res.json().await.unwrap();
    assert_eq!(r["error"]["code"], "liveness_required");

    // A link that does not ask for a face takes no capture.
    let (other, _, _) = session_of(&app, filer, &["id_card_front"]).await;
    let (status, r) = post_capture(&app, &phone, &other, &good).await;
    assert_eq!(
        (status, r["error"]["code"].as_str().unwrap()),
        (422, "material_not_requested")
    );
    app.stop().await;
}

/// Uploads 张三's card front with `portrait` as its photo and waits for its verdict.
async fn upload_card(app: &TestApp, phone: &Client, token: &str, portrait: &Person) -> Value {
    let jpeg = card_photo_of(&zhang_san(), portrait, 31).unwrap();
    let (status, body) = upload_raw(app, phone, token, "id_card_front", jpeg, None).await;
    assert_eq!(status, 202, "{body}");
    for _ in 0..120 {
        let view = phone_view(app, phone, token).await;
        let card = view["materials"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["kind"] == "id_card_front")
            .unwrap()
            .clone();
        if card["state"] != "analyzing" {
            return card;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    panic!("the card was not analysed in 30 s");
}

#[tokio::test]
async fn the_live_face_is_matched_with_the_id_card_portrait() {
    let app = spawn_app().await;
    let (astronaut, hopper) = people();

    // Same person on the card and in front of the camera: pass, with the score.
    let (token, order_id, filer) = session(&app, &["id_card_front", "face"]).await;
    let phone = phone();
    let card = upload_card(&app, &phone, &token, &hopper).await;
    assert_eq!(card["state"], "pass", "{card}");
    let (status, r) = answer(&app, &phone, &token, |a| {
        live_capture(&hopper, a, SPACING_MS)
    })
    .await;
    assert_eq!(status, 201, "{r}");
    assert_eq!(r["state"], "pass", "{r}");
    assert!(r["match"]["score"].as_f64().unwrap() >= 0.363, "{r}");
    assert_eq!(r["match"]["ok"], true);

    // Another person's card (the astronaut), Grace Hopper live (face first, card second):
    // flagged with the score.
    let app2 = spawn_app().await;
    let (token, order_id2, filer2) = session(&app2, &["id_card_front", "face"]).await;
    let phone = self::phone();
    let (status, r) = answer(&app2, &phone, &token, |a| {
        live_capture(&hopper, a, SPACING_MS)
    })
    .await;
    assert_eq!((status, r["state"].as_str().unwrap()), (201, "pass"), "{r}");
    let card = upload_card(&app2, &phone, &token, &astronaut).await;
    assert_eq!(card["state"], "pass", "{card}");
    let face = order_material(&app2, &filer2, &order_id2, "face").await;
    assert_eq!(face["state"], "flagged", "{face}");
    assert!(face["reasons"]
        .as_array()
        .unwrap()
        .contains(&json!("face_mismatch")));
    let score = face["match"]["score"].as_f64().unwrap();
    assert!(score < 0.363, "{score}");
    let _ = (order_id, filer);
    app.stop().await;
    app2.stop().await;
}

#[tokio::test]
async fn only_the_kept_frame_is_stored_and_face_data_goes_after_its_days() {
    let dir = tempfile::tempdir().unwrap();
    let app = crate::helpers::spawn_app_in(dir.path()).await;
    let (_, hopper) = people();
    let (token, _, _) = session(&app, &["face", "id_card_back"]).await;
    let phone = phone();
    let blobs_before = stored_blobs(dir.path()).await.len();
    let (status, r) = answer(&app, &phone, &token, |a| {
        live_capture(&hopper, a, SPACING_MS)
    })
    .await;
    assert_eq!(status, 201, "{r}");
    // Ten frames were sent; one was kept.
    assert_eq!(stored_blobs(dir.path()).await.len(), blobs_before + 1);
    app.stop().await;

    let db = crate::helpers::database(dir.path()).await;
    let templates: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM face_templates")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(templates, 1);
    let sealed: String = sqlx::query_scalar("SELECT embedding FROM face_templates")
        .fetch_one(&db)
        .await
        .unwrap();
    assert!(
        !sealed.contains('['),
        "the embedding is stored encrypted: {sealed}"
    );
    db.close().await;

    // Restarted with face data kept for 0 days: the housekeeping at start removes it.
    let mut config = crate::helpers::config_for(dir.path());
    config.face_data_days = 0;
    let app = crate::helpers::spawn_with(config).await;
    let db = crate::helpers::database(dir.path()).await;
    let mut left = (1, 1);
    // Up to 30 s: the housekeeping deletes the files after the rows' commit, and on a loaded
    // 2-core machine (the OCR accuracy test beside it) that took longer than 5 s.
    for _ in 0..300 {
        let templates: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM face_templates")
            .fetch_one(&db)
            .await
            .unwrap();
        let frames: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM materials WHERE kind = 'face' AND blob != ''")
                .fetch_one(&db)
                .await
                .unwrap();
        // The files go right after the rows' commit.
        let files = stored_blobs(dir.path()).await.len();
        left = (templates, frames);
        if left == (0, 0) && files == blobs_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(left, (0, 0));
    assert_eq!(stored_blobs(dir.path()).await.len(), blobs_before);
    // The decision and its numbers stay.
    let state: String = sqlx::query_scalar("SELECT state FROM materials WHERE kind = 'face'")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(state, "pass");
    db.close().await;
    app.stop().await;
}
