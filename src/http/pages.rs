//! The web pages, built into the binary: the filer's page on the PC (`/`), the phone's
//! upload page (`/m/{token}`) and the reviewers' console (`/review`). Plain HTML and JavaScript against the JSON API.

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;

use super::ApiContext;

const PC_PAGE: &str = include_str!("../web/pc.html");
const PHONE_PAGE: &str = include_str!("../web/phone.html");
const REVIEW_PAGE: &str = include_str!("../web/review.html");

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/", get(pc))
        .route("/m/{token}", get(phone))
        .route("/review", get(review))
}

/// Security headers for our pages: no framing, no third-party anything, and no Referer —
/// the phone page's URL carries its token.
fn page(html: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_FRAME_OPTIONS, "DENY"),
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'self'; img-src 'self' blob: data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'",
            ),
        ],
        html,
    )
}

async fn pc() -> impl IntoResponse {
    page(PC_PAGE)
}

async fn phone() -> impl IntoResponse {
    page(PHONE_PAGE)
}

async fn review() -> impl IntoResponse {
    page(REVIEW_PAGE)
}
