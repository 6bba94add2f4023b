use reqwest::Method;
use serde_json::json;

use crate::helpers::spawn_app;

#[tokio::test]
async fn register_login_me_logout() {
    let app = spawn_app().await;
    let creds = json!({"username": "zhangsan", "password": "correct horse battery"});
    let (status, body) = app
        .call(Method::POST, "/api/v1/auth/register", None, Some(&creds))
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["username"], "zhangsan");
    assert_eq!(body["user"]["role"], "filer");
    let first = body["token"].as_str().unwrap().to_string();
    assert!(first.len() >= 43, "256 random bits, base64url");

    let (status, body) = app
        .call(Method::POST, "/api/v1/auth/login", None, Some(&creds))
        .await;
    assert_eq!(status, 200);
    let token = body["token"].as_str().unwrap().to_string();
    assert_ne!(token, first, "each login gets a fresh token");
    assert!(body["expires_at"].is_string());

    let (status, body) = app
        .call(Method::GET, "/api/v1/auth/me", Some(&token), None)
        .await;
    assert_eq!(
        (status, body["user"]["username"].as_str()),
        (200, Some("zhangsan"))
    );

    let res = app
        .request(Method::POST, "/api/v1/auth/logout", Some(&token), None)
        .await;
    assert_eq!(res.status().as_u16(), 204);
    let (status, _) = app
        .call(Method::GET, "/api/v1/auth/me", Some(&token), None)
        .await;
    assert_eq!(status, 401, "a logged-out token is dead");
    let (status, _) = app
        .call(Method::GET, "/api/v1/auth/me", Some(&first), None)
        .await;
    assert_eq!(status, 200, "other tokens live on");
    app.stop().await;
}

#[tokio::test]
async fn registration_is_validated_and_usernames_are_unique() {
    let app = spawn_app().await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(&json!({"username": "a", "password": "short"})),
        )
        .await;
    assert_eq!(status, 422);
    assert_eq!(
        body["error"]["details"]["username"]["code"],
        "invalid_username"
    );
    assert_eq!(
        body["error"]["details"]["password"]["code"],
        "invalid_password"
    );
    app.filer("lisi").await;
    let (status, body) = app
        .call(
            Method::POST,
            "/api/v1/auth/register",
            None,
            Some(&json!({"username": "lisi", "password": "another long password"})),
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("username_taken"))
    );
    app.stop().await;
}

#[tokio::test]
async fn wrong_passwords_are_401_and_repeated_ones_lock_the_username() {
    let app = spawn_app().await;
    app.filer("wangwu").await;
    let wrong = json!({"username": "wangwu", "password": "not the password"});
    for _ in 0..5 {
        let (status, body) = app
            .call(Method::POST, "/api/v1/auth/login", None, Some(&wrong))
            .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthorized"))
        );
    }
    let res = app
        .request(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": "wangwu", "password": "correct horse battery"})),
        )
        .await;
    assert_eq!(
        res.status().as_u16(),
        429,
        "locked even with the right password"
    );
    assert!(res.headers().get("retry-after").is_some());
    // An unknown user is refused the same way as a wrong password.
    let (status, _) = app
        .call(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(&json!({"username": "nobody", "password": "whatever it is"})),
        )
        .await;
    assert_eq!(status, 401);
    app.stop().await;
}
