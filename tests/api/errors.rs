//! Bad requests of every kind answer a 4xx with a JSON error code; nothing panics.

use reqwest::Method;
use serde_json::Value;

use crate::helpers::spawn_app;

fn code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {body}"))
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_json() {
    let app = spawn_app().await;
    let (status, body) = app.call(Method::GET, "/no/such/thing", None, None).await;
    assert_eq!((status, code(&body)), (404, "no_route"));
    let (status, body) = app
        .call(Method::DELETE, "/api/v1/auth/login", None, None)
        .await;
    assert_eq!((status, code(&body)), (405, "method_not_allowed"));
    assert!(body["error"]["message"].is_string());
    app.stop().await;
}

#[tokio::test]
async fn malformed_bodies_get_their_own_codes() {
    let app = spawn_app().await;
    let token = app.filer("errors_user").await;
    let post = |body: &'static str, content_type: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/api/v1/orders"))
            .bearer_auth(&token)
            .body(body);
        if let Some(ct) = content_type {
            req = req.header("content-type", ct);
        }
        req.send()
    };
    let cases = [
        (
            post("{not json", Some("application/json")).await.unwrap(),
            400,
            "invalid_json",
        ),
        (
            post("{}", None).await.unwrap(),
            415,
            "unsupported_media_type",
        ),
        (
            post("[1,2]", Some("application/json")).await.unwrap(),
            422,
            "invalid_fields",
        ),
    ];
    for (res, want_status, want_code) in cases {
        assert_eq!(res.status().as_u16(), want_status);
        let body: Value = res.json().await.unwrap();
        assert_eq!(code(&body), want_code, "{body}");
    }
    app.stop().await;
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused_without_reading_them_all() {
    let app = spawn_app().await;
    let token = app.filer("big_body_user").await;
    let huge = format!("{{\"subject\": \"{}\"}}", "x".repeat(4 * 1024 * 1024));
    let res = app
        .client
        .post(app.url("/api/v1/orders"))
        .bearer_auth(&token)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    let body: Value = res.json().await.unwrap();
    assert_eq!(code(&body), "body_too_large");
    app.stop().await;
}

#[tokio::test]
async fn missing_or_unknown_tokens_are_401() {
    let app = spawn_app().await;
    let (status, body) = app.call(Method::GET, "/api/v1/orders", None, None).await;
    assert_eq!((status, code(&body)), (401, "unauthorized"));
    let (status, _) = app
        .call(Method::GET, "/api/v1/orders", Some("not-a-token"), None)
        .await;
    assert_eq!(status, 401);
    app.stop().await;
}
