//! Accounts and their bearer tokens (stored as SHA-256 hashes, never in the clear).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use super::Db;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Filer,
    Reviewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Filer => "filer",
            Self::Reviewer => "reviewer",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "reviewer" {
            Self::Reviewer
        } else {
            Self::Filer
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub role: Role,
}

fn user_from_row(row: &sqlx::sqlite::SqliteRow) -> super::Result<User> {
    Ok(User {
        id: row.try_get("id")?,
        username: row.try_get("username")?,
        role: Role::parse(row.try_get("role")?),
    })
}

pub async fn create(
    db: &Db,
    username: &str,
    password_hash: &str,
    role: Role,
) -> super::Result<User> {
    let id = uuid::Uuid::now_v7().to_string();
    sqlx::query(
        "INSERT INTO users (id, username, password_hash, role, created_at) VALUES (?, ?, ?, ?, ?)",
    )
    .bind(&id)
    .bind(username)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(Utc::now())
    .execute(db)
    .await?;
    Ok(User {
        id,
        username: username.to_string(),
        role,
    })
}

/// The user and their password hash.
pub async fn find_by_username(db: &Db, username: &str) -> super::Result<Option<(User, String)>> {
    let row = sqlx::query("SELECT id, username, role, password_hash FROM users WHERE username = ?")
        .bind(username)
        .fetch_optional(db)
        .await?;
    row.map(|r| Ok((user_from_row(&r)?, r.try_get("password_hash")?)))
        .transpose()
}

pub async fn insert_token(
    db: &Db,
    token_hash: &str,
    user_id: &str,
    expires_at: DateTime<Utc>,
) -> super::Result<()> {
    sqlx::query(
        "INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
    )
    .bind(token_hash)
    .bind(user_id)
    .bind(Utc::now())
    .bind(expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The user a live token belongs to.
pub async fn user_for_token(
    db: &Db,
    token_hash: &str,
    now: DateTime<Utc>,
) -> super::Result<Option<User>> {
    let row = sqlx::query(
        "SELECT u.id, u.username, u.role FROM auth_tokens t JOIN users u ON u.id = t.user_id
         WHERE t.token_hash = ? AND t.expires_at > ?",
    )
    .bind(token_hash)
    .bind(now)
    .fetch_optional(db)
    .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn delete_token(db: &Db, token_hash: &str) -> super::Result<()> {
    sqlx::query("DELETE FROM auth_tokens WHERE token_hash = ?")
        .bind(token_hash)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn delete_expired_tokens(db: &Db, now: DateTime<Utc>) -> super::Result<u64> {
    let done = sqlx::query("DELETE FROM auth_tokens WHERE expires_at <= ?")
        .bind(now)
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
