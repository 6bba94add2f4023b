//! The phone's link: the token in it is the credential, the first device that opens it is
//! bound to the session (a cookie), and an unknown, expired or finished link answers a code.
//! Shared by the phone's uploads (`mobile`) and its liveness capture (`liveness`).

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use serde_json::json;

use super::auth::token_hash;
use super::error::{Error, Result};
use super::ApiContext;
use crate::filing::reason::ReasonCode;
use crate::filing::upload_session::SessionState;
use crate::store::sessions::SessionRow;

const DEVICE_COOKIE: &str = "beian_device";

fn device_from(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| {
            c.trim()
                .strip_prefix(&format!("{DEVICE_COOKIE}="))
                .map(str::to_string)
        })
        .next()
}

/// The live session behind a token, bound to this device. Returns a new device cookie when
/// this request is the one that binds it.
pub(super) async fn session_for(
    ctx: &ApiContext,
    token: &str,
    headers: &HeaderMap,
) -> Result<(SessionRow, Option<String>)> {
    let session = ctx
        .upload_links
        .by_token(&token_hash(token))
        .await?
        .ok_or(Error::NotFound {
            code: "unknown_link",
            message: "this link is not valid".into(),
        })?;
    match session.state_at(Utc::now()) {
        SessionState::Expired => {
            return Err(Error::Gone {
                code: "link_expired",
                message: "this link has expired: ask for a new QR code on the computer".into(),
            })
        }
        SessionState::Completed => {
            return Err(Error::Gone {
                code: "session_completed",
                message: "everything for this link was uploaded".into(),
            })
        }
        _ => {}
    }
    let device = device_from(headers);
    match (&session.device_hash, &device) {
        (Some(bound), Some(d)) if *bound == token_hash(d) => Ok((session, None)),
        (Some(_), _) => Err(Error::Refused {
            code: "bound_to_other_device",
            message: "this link is already in use on another phone: ask for a new QR code on the computer".into(),
        }),
        (None, Some(d)) => {
            bind(ctx, &session, &token_hash(d)).await?;
            Ok((session, None))
        }
        (None, None) => {
            let mut raw = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut raw);
            let d = URL_SAFE_NO_PAD.encode(raw);
            bind(ctx, &session, &token_hash(&d)).await?;
            Ok((session, Some(d)))
        }
    }
}

async fn bind(ctx: &ApiContext, session: &SessionRow, device_hash: &str) -> Result<()> {
    let state = match session.state {
        SessionState::Waiting => SessionState::Scanned,
        s => s,
    };
    let idle = ctx.config.upload_idle_deadline(Utc::now());
    ctx.upload_links
        .touch(&session.id, state, Some(device_hash), idle)
        .await?;
    Ok(())
}

pub(super) fn with_cookie(mut response: Response, device: Option<String>) -> Response {
    if let Some(d) = device {
        let cookie =
            format!("{DEVICE_COOKIE}={d}; Path=/; HttpOnly; SameSite=Strict; Max-Age=86400");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, v);
        }
    }
    response
}

/// 422 for a kind the session did not ask for, naming those it did.
pub(super) fn not_requested(session: &SessionRow) -> Error {
    Error::Unprocessable {
        code: "material_not_requested",
        message: format!("this link asks for {}", session.materials.join(", ")),
        details: json!({"requested": session.materials}),
    }
}

/// Reason codes in words for the phone page, from the catalogue.
pub(super) fn reasons_zh(ctx: &ApiContext, reasons: &[ReasonCode]) -> Vec<String> {
    reasons
        .iter()
        .map(|&r| {
            ctx.rules
                .reason(r)
                .map_or_else(|| r.to_string(), |x| x.zh.clone())
        })
        .collect()
}
