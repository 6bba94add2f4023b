//! Extractors whose rejections are our JSON errors, not axum's plain-text ones.

use axum::extract::{FromRequest, FromRequestParts};

use super::error::Error;

/// `axum::Json`, rejecting with `Error` (400 invalid_json, 413, 415, 422 invalid_body).
#[derive(Debug, FromRequest)]
#[from_request(via(axum::Json), rejection(Error))]
pub struct ApiJson<T>(pub T);

/// `axum::extract::Query`, rejecting with `Error` (400 invalid_query).
#[derive(Debug, FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct ApiQuery<T>(pub T);
