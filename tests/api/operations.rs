use reqwest::Method;

use crate::helpers::{minimal_order, spawn_app};

#[tokio::test]
async fn health_and_readiness_answer_json() {
    let app = spawn_app().await;
    let (status, body) = app.call(Method::GET, "/healthz", None, None).await;
    assert_eq!((status, body["status"].as_str()), (200, Some("ok")));
    let (status, body) = app.call(Method::GET, "/readyz", None, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["checks"]["database"], true);
    assert_eq!(body["checks"]["rules"]["provinces"], 31);
    app.stop().await;
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app().await;
    let token = app.filer("metrics_user").await;
    let (status, order) = app.create_order(&token, &minimal_order()).await;
    assert_eq!(status, 201);
    let path = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    app.call(Method::GET, &path, Some(&token), None).await;
    app.call(Method::GET, "/api/v1/orders/nope", Some(&token), None)
        .await;
    let text = app
        .request(Method::GET, "/metrics", None, None)
        .await
        .text()
        .await
        .unwrap();
    assert!(
        text.contains(
            r#"beian_http_requests_total{method="GET",route="/api/v1/orders/{id}",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"beian_http_requests_total{method="GET",route="/api/v1/orders/{id}",status="404"} 1"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"beian_http_request_duration_seconds_count{method="POST",route="/api/v1/orders",status="201"} 1"#));
    assert!(
        !text.contains(order["id"].as_str().unwrap()),
        "ids never become labels"
    );
    assert!(text.contains("beian_analysis_backlog 0"), "{text}");
    app.stop().await;
}

#[tokio::test]
async fn every_response_carries_a_request_id() {
    let app = spawn_app().await;
    let res = app.request(Method::GET, "/healthz", None, None).await;
    assert!(res.headers().get("x-request-id").is_some());
    app.stop().await;
}
