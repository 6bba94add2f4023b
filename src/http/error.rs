//! The one error type of the HTTP layer. Every error leaves as
//! `{"error":{"code","message","details"}}` with a 4xx/5xx status; internal errors are
//! logged with their cause and answered with a generic message, never the cause.

use axum::extract::rejection::JsonRejection;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::filing::fields::FieldErrors;
use crate::filing::state::{IllegalTransition, NotNow};
use crate::store::{blobs, StoreError};
use crate::vision::decode::IntakeError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("authentication required: send Authorization: Bearer <token>")]
    Unauthorized,
    #[error("this account may not do that")]
    Forbidden,
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    #[error("{message}")]
    BadRequest { code: &'static str, message: String },
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        details: Value,
    },
    #[error("{message}")]
    Unprocessable {
        code: &'static str,
        message: String,
        details: Value,
    },
    #[error("the body is larger than this endpoint accepts")]
    PayloadTooLarge,
    #[error("{message}")]
    Gone { code: &'static str, message: String },
    /// 403 with a code saying why.
    #[error("{message}")]
    Refused { code: &'static str, message: String },
    /// 415 with the intake's own code (`unsupported_format`, `empty_file`).
    #[error("{message}")]
    UnsupportedImage { code: &'static str, message: String },
    /// 413 `image_too_large`.
    #[error("{message}")]
    ImageTooLarge { message: String },
    #[error("send the body as application/json")]
    UnsupportedMediaType,
    #[error("this method is not allowed on this path")]
    MethodNotAllowed,
    #[error("too many attempts: try again later")]
    TooManyRequests { retry_after_secs: u64 },
    #[error("the service is busy: try again in a moment")]
    Busy { retry_after_secs: u64 },
    /// 503 `store_unavailable`: the database or the blob store did not answer; nothing was
    /// written, and the same request can be sent again.
    #[error("a store is unavailable: try again in a moment")]
    Unavailable(#[source] anyhow::Error),
    #[error("an internal error occurred")]
    Internal(anyhow::Error),
    #[error("an internal error occurred")]
    Store(StoreError),
}

/// How long a client is asked to wait before it retries after a store was unavailable.
const UNAVAILABLE_RETRY_SECS: u64 = 2;

impl From<anyhow::Error> for Error {
    fn from(e: anyhow::Error) -> Self {
        if let Some(not_now) = e.downcast_ref::<NotNow>() {
            return (*not_now).into();
        }
        let unavailable = e.downcast_ref::<blobs::Unavailable>().is_some()
            || matches!(e.downcast_ref(), Some(StoreError::Unavailable(_)));
        if unavailable {
            Error::Unavailable(e)
        } else {
            Error::Internal(e)
        }
    }
}

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Unavailable(_) => Error::Unavailable(e.into()),
            e => Error::Store(e),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// 409: another request changed the order between our read and our write.
    pub fn edit_conflict() -> Self {
        Error::Conflict {
            code: "edit_conflict",
            message: "the order changed meanwhile: read it again and retry".into(),
            details: json!({}),
        }
    }

    pub fn not_found(what: &str) -> Self {
        Error::NotFound {
            code: "not_found",
            message: format!("{what} not found"),
        }
    }

    /// 422 with one entry per bad field, keyed by JSON path.
    pub fn invalid_fields(errors: FieldErrors) -> Self {
        Error::Unprocessable {
            code: "invalid_fields",
            message: "some fields are invalid; see details".into(),
            details: serde_json::to_value(errors).unwrap_or_default(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::BadRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::Unprocessable { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Self::PayloadTooLarge | Self::ImageTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Self::Gone { .. } => StatusCode::GONE,
            Self::Refused { .. } => StatusCode::FORBIDDEN,
            Self::UnsupportedImage { .. } => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Self::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::Busy { .. } | Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) | Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Unauthorized => "unauthorized",
            Self::Forbidden => "forbidden",
            Self::NotFound { code, .. }
            | Self::BadRequest { code, .. }
            | Self::Conflict { code, .. }
            | Self::Unprocessable { code, .. }
            | Self::Gone { code, .. }
            | Self::Refused { code, .. }
            | Self::UnsupportedImage { code, .. } => code,
            Self::ImageTooLarge { .. } => "image_too_large",
            Self::PayloadTooLarge => "body_too_large",
            Self::UnsupportedMediaType => "unsupported_media_type",
            Self::MethodNotAllowed => "method_not_allowed",
            Self::TooManyRequests { .. } => "too_many_attempts",
            Self::Busy { .. } => "busy",
            Self::Unavailable(_) => "store_unavailable",
            Self::Internal(_) | Self::Store(_) => "internal_error",
        }
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        match &self {
            Self::Internal(e) => tracing::error!(error = ?e, "internal error"),
            Self::Store(e) => tracing::error!(error = ?e, "store error"),
            Self::Unavailable(e) => tracing::warn!(error = ?e, "a store is unavailable"),
            _ => {}
        }
        let details = match &self {
            Self::Conflict { details, .. } | Self::Unprocessable { details, .. } => details.clone(),
            _ => json!({}),
        };
        let body = json!({"error": {"code": self.code(), "message": self.to_string(), "details": details}});
        let mut response = (self.status(), Json(body)).into_response();
        match self {
            Self::Unauthorized => {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            Self::TooManyRequests { retry_after_secs } | Self::Busy { retry_after_secs } => {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
            }
            Self::Unavailable(_) => {
                response.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(UNAVAILABLE_RETRY_SECS),
                );
            }
            _ => {}
        }
        response
    }
}

/// A raw body that could not be read: over the route's limit (413) or broken off (400).
impl From<axum::extract::rejection::BytesRejection> for Error {
    fn from(rejection: axum::extract::rejection::BytesRejection) -> Self {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            Error::PayloadTooLarge
        } else {
            Error::BadRequest {
                code: "invalid_body",
                message: rejection.body_text(),
            }
        }
    }
}

impl From<axum::extract::rejection::QueryRejection> for Error {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        Error::BadRequest {
            code: "invalid_query",
            message: rejection.body_text(),
        }
    }
}

impl From<IntakeError> for Error {
    fn from(e: IntakeError) -> Self {
        let (code, message) = (e.code(), e.to_string());
        match e {
            IntakeError::Empty | IntakeError::Heic | IntakeError::UnsupportedFormat(_) => {
                Error::UnsupportedImage { code, message }
            }
            IntakeError::TooLarge(_) => Error::ImageTooLarge { message },
            _ => Error::Unprocessable {
                code,
                message,
                details: json!({}),
            },
        }
    }
}

/// 409 `illegal_transition`: the order's state allows no such step now.
impl From<NotNow> for Error {
    fn from(e: NotNow) -> Self {
        Error::Conflict {
            code: "illegal_transition",
            message: e.to_string(),
            details: json!({"state": e.state}),
        }
    }
}

impl From<IllegalTransition> for Error {
    fn from(IllegalTransition { from, to }: IllegalTransition) -> Self {
        Error::Conflict {
            code: "illegal_transition",
            message: format!("an order in state {from} cannot move to {to}"),
            details: json!({"from": from, "to": to}),
        }
    }
}

impl From<JsonRejection> for Error {
    fn from(rejection: JsonRejection) -> Self {
        match rejection.status() {
            StatusCode::PAYLOAD_TOO_LARGE => Error::PayloadTooLarge,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => Error::UnsupportedMediaType,
            StatusCode::UNPROCESSABLE_ENTITY => Error::Unprocessable {
                code: "invalid_body",
                message: rejection.body_text(),
                details: json!({}),
            },
            _ => Error::BadRequest {
                code: "invalid_json",
                message: rejection.body_text(),
            },
        }
    }
}

/// Maps database constraint violations to client errors (realworld-axum-sqlx's `ResultExt`).
pub trait ResultExt<T> {
    /// A UNIQUE violation becomes the error `f` gives.
    fn on_unique_violation(self, f: impl FnOnce() -> Error) -> Result<T>;
}

impl<T, E: Into<Error>> ResultExt<T> for std::result::Result<T, E> {
    fn on_unique_violation(self, f: impl FnOnce() -> Error) -> Result<T> {
        self.map_err(|e| match e.into() {
            Error::Store(StoreError::Duplicate(_)) => f(),
            other => other,
        })
    }
}
