//! Accounts: register and log in for a bearer token; the `AuthUser` extractor.
//!
//! Passwords are hashed with argon2id on the blocking pool. Tokens are 256 random bits,
//! handed out once and stored as SHA-256 hashes with an expiry. Failed logins are counted per
//! username and lock it for a while, which bounds online guessing.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRef, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::Utc;
use rand::RngCore;
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::error::{Error, Result, ResultExt};
use super::extract::ApiJson;
use super::ApiContext;
use crate::service::accounts;
use crate::store::audit;
use crate::store::users::{Role, User};

pub fn router() -> Router<ApiContext> {
    Router::new()
        .route("/api/v1/auth/register", post(register))
        .route("/api/v1/auth/login", post(login))
        .route("/api/v1/auth/logout", post(logout))
        .route("/api/v1/auth/me", get(me))
}

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

fn validate(c: &Credentials) -> Result<()> {
    let mut details = serde_json::Map::new();
    if !accounts::username_ok(&c.username) {
        details.insert(
            "username".into(),
            json!({"code": "invalid_username", "message": "3 to 32 letters, digits, _ . or -"}),
        );
    }
    if !accounts::password_ok(&c.password) {
        details.insert(
            "password".into(),
            json!({"code": "invalid_password", "message": "10 to 128 characters"}),
        );
    }
    if details.is_empty() {
        Ok(())
    } else {
        Err(Error::Unprocessable {
            code: "invalid_fields",
            message: "some fields are invalid; see details".into(),
            details: details.into(),
        })
    }
}

async fn register(
    State(ctx): State<ApiContext>,
    ApiJson(c): ApiJson<Credentials>,
) -> Result<(StatusCode, Json<Value>)> {
    validate(&c)?;
    let hash = accounts::hash_password(c.password).await?;
    let user = ctx
        .users
        .create(&c.username, &hash, Role::Filer)
        .await
        .on_unique_violation(|| Error::Unprocessable {
            code: "username_taken",
            message: "this username is taken".into(),
            details: json!({"username": {"code": "taken", "message": "this username is taken"}}),
        })?;
    tracing::info!(user = %user.id, "filer registered");
    Ok((StatusCode::CREATED, Json(issue_token(&ctx, &user).await?)))
}

async fn login(
    State(ctx): State<ApiContext>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiJson(c): ApiJson<Credentials>,
) -> Result<Json<Value>> {
    let source = peer.ip().to_string();
    ctx.login_throttle.check(&c.username)?;
    let found = ctx.users.find_by_username(&c.username).await?;
    // Without an account, verify against a fixed hash anyway so timing does not tell
    // which usernames exist.
    let hash = found
        .as_ref()
        .map(|(_, h)| h.clone())
        .unwrap_or_else(|| accounts::DUMMY_HASH.to_string());
    let ok = accounts::verify_password(c.password, hash).await?;
    match found {
        Some((user, _)) if ok => {
            ctx.login_throttle.reset(&c.username);
            tracing::info!(user = %user.id, "logged in");
            let actor = format!("{}:{}", user.role.as_str(), user.username);
            ctx.audit
                .append(&audit::NewEntry {
                    actor: &actor,
                    action: "login",
                    target: Some(&format!("user:{}", user.id)),
                    detail: None,
                    source: Some(&source),
                })
                .await?;
            Ok(Json(issue_token(&ctx, &user).await?))
        }
        _ => {
            ctx.login_throttle.fail(&c.username);
            ctx.audit
                .append(&audit::NewEntry {
                    actor: "anonymous",
                    action: "login_failed",
                    target: None,
                    detail: Some(&json!({"username": c.username})),
                    source: Some(&source),
                })
                .await?;
            Err(Error::Unauthorized)
        }
    }
}

async fn logout(State(ctx): State<ApiContext>, user: AuthUser) -> Result<StatusCode> {
    ctx.users.delete_token(&user.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn me(user: AuthUser) -> Json<Value> {
    Json(json!({"user": user.user}))
}

async fn issue_token(ctx: &ApiContext, user: &User) -> Result<Value> {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let token = URL_SAFE_NO_PAD.encode(raw);
    let expires_at = Utc::now() + chrono::Duration::hours(i64::from(ctx.config.token_ttl_hours));
    ctx.users
        .insert_token(&token_hash(&token), &user.id, expires_at)
        .await?;
    Ok(json!({"user": user, "token": token, "expires_at": expires_at}))
}

pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The user behind the request's bearer token; 401 without a live one.
pub struct AuthUser {
    pub user: User,
    token_hash: String,
}

impl AuthUser {
    /// How histories and the audit log name this user: `filer:zhangsan`.
    pub fn actor(&self) -> String {
        format!("{}:{}", self.user.role.as_str(), self.user.username)
    }
}

impl<S> FromRequestParts<S> for AuthUser
where
    ApiContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let ctx = ApiContext::from_ref(state);
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Error::Unauthorized)?;
        let hash = token_hash(token);
        let user = ctx
            .users
            .user_for_token(&hash, Utc::now())
            .await?
            .ok_or(Error::Unauthorized)?;
        tracing::Span::current().record("user", tracing::field::display(&user.id));
        Ok(AuthUser {
            user,
            token_hash: hash,
        })
    }
}

/// A logged-in reviewer; a filer's token gets 403, no token 401.
pub struct Reviewer(pub AuthUser);

impl<S> FromRequestParts<S> for Reviewer
where
    ApiContext: FromRef<S>,
    S: Send + Sync,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self> {
        let user = AuthUser::from_request_parts(parts, state).await?;
        if user.user.role != Role::Reviewer {
            return Err(Error::Forbidden);
        }
        Ok(Reviewer(user))
    }
}

/// Counts failed logins per username in memory (a restart forgets them: acceptable, since
/// argon2 already makes each guess cost tens of milliseconds).
pub struct LoginThrottle {
    max_failures: u32,
    lockout: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl LoginThrottle {
    const MAX_TRACKED: usize = 100_000;

    pub fn new(max_failures: u32, lockout: Duration) -> Self {
        LoginThrottle {
            max_failures,
            lockout,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn check(&self, username: &str) -> Result<()> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((count, since)) = map.get(username) {
            let elapsed = since.elapsed();
            if *count >= self.max_failures && elapsed < self.lockout {
                return Err(Error::TooManyRequests {
                    retry_after_secs: (self.lockout - elapsed).as_secs().max(1),
                });
            }
        }
        Ok(())
    }

    fn fail(&self, username: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= Self::MAX_TRACKED {
            let lockout = self.lockout;
            map.retain(|_, (_, since)| since.elapsed() < lockout);
        }
        let entry = map
            .entry(username.to_string())
            .or_insert((0, Instant::now()));
        if entry.1.elapsed() >= self.lockout {
            *entry = (0, Instant::now());
        }
        entry.0 += 1;
        entry.1 = Instant::now();
    }

    fn reset(&self, username: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(username);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn throttle_locks_after_the_limit_and_reset_unlocks() {
        let t = LoginThrottle::new(2, Duration::from_secs(60));
        t.fail("a");
        assert!(t.check("a").is_ok());
        t.fail("a");
        assert!(matches!(t.check("a"), Err(Error::TooManyRequests { .. })));
        assert!(t.check("b").is_ok());
        t.reset("a");
        assert!(t.check("a").is_ok());
    }
}
