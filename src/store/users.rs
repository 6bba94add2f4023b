//! Accounts and their bearer tokens (stored as SHA-256 hashes, never in the clear).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Db, RepoFuture};

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

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub username: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
}

impl From<String> for Role {
    fn from(s: String) -> Self {
        Role::parse(&s)
    }
}

/// Accounts and their login tokens: the repository the HTTP layer, the account service and
/// the housekeeping hold (`Arc<dyn Users>`), one implementation per engine.
pub trait Users: Send + Sync {
    /// A new account; `StoreError::Duplicate` when the username is taken.
    fn create<'a>(
        &'a self,
        username: &'a str,
        password_hash: &'a str,
        role: Role,
    ) -> RepoFuture<'a, User>;
    /// The user and their password hash.
    fn find_by_username<'a>(&'a self, username: &'a str) -> RepoFuture<'a, Option<(User, String)>>;
    fn insert_token<'a>(
        &'a self,
        token_hash: &'a str,
        user_id: &'a str,
        expires_at: DateTime<Utc>,
    ) -> RepoFuture<'a, ()>;
    /// The user a live token belongs to.
    fn user_for_token<'a>(
        &'a self,
        token_hash: &'a str,
        now: DateTime<Utc>,
    ) -> RepoFuture<'a, Option<User>>;
    fn delete_token<'a>(&'a self, token_hash: &'a str) -> RepoFuture<'a, ()>;
    /// Removes the tokens expired at `now`; how many.
    fn delete_expired_tokens(&self, now: DateTime<Utc>) -> RepoFuture<'_, u64>;
}

/// `Users` in SQL, on either engine.
pub struct SqlUsers(pub Db);

#[derive(sqlx::FromRow)]
struct UserWithHash {
    #[sqlx(flatten)]
    user: User,
    password_hash: String,
}

impl Users for SqlUsers {
    fn create<'a>(
        &'a self,
        username: &'a str,
        password_hash: &'a str,
        role: Role,
    ) -> RepoFuture<'a, User> {
        Box::pin(async move {
            let id = uuid::Uuid::now_v7().to_string();
            sqlx::query(
                "INSERT INTO users (id, username, password_hash, role, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(&id)
            .bind(username)
            .bind(password_hash)
            .bind(role.as_str())
            .bind(super::at(Utc::now()))
            .execute(&self.0)
            .await?;
            Ok(User {
                id,
                username: username.to_string(),
                role,
            })
        })
    }

    fn find_by_username<'a>(&'a self, username: &'a str) -> RepoFuture<'a, Option<(User, String)>> {
        Box::pin(async move {
            let found: Option<UserWithHash> = sqlx::query_as(
                "SELECT id, username, role, password_hash FROM users WHERE username = $1",
            )
            .bind(username)
            .fetch_optional(&self.0)
            .await?;
            Ok(found.map(|f| (f.user, f.password_hash)))
        })
    }

    fn insert_token<'a>(
        &'a self,
        token_hash: &'a str,
        user_id: &'a str,
        expires_at: DateTime<Utc>,
    ) -> RepoFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO auth_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(token_hash)
            .bind(user_id)
            .bind(super::at(Utc::now()))
            .bind(super::at(expires_at))
            .execute(&self.0)
            .await?;
            Ok(())
        })
    }

    fn user_for_token<'a>(
        &'a self,
        token_hash: &'a str,
        now: DateTime<Utc>,
    ) -> RepoFuture<'a, Option<User>> {
        Box::pin(async move {
            Ok(sqlx::query_as(
                "SELECT u.id, u.username, u.role FROM auth_tokens t JOIN users u ON u.id = t.user_id
                 WHERE t.token_hash = $1 AND t.expires_at > $2",
            )
            .bind(token_hash)
            .bind(super::at(now))
            .fetch_optional(&self.0)
            .await?)
        })
    }

    fn delete_token<'a>(&'a self, token_hash: &'a str) -> RepoFuture<'a, ()> {
        Box::pin(async move {
            sqlx::query("DELETE FROM auth_tokens WHERE token_hash = $1")
                .bind(token_hash)
                .execute(&self.0)
                .await?;
            Ok(())
        })
    }

    fn delete_expired_tokens(&self, now: DateTime<Utc>) -> RepoFuture<'_, u64> {
        Box::pin(async move {
            let done = sqlx::query("DELETE FROM auth_tokens WHERE expires_at <= $1")
                .bind(super::at(now))
                .execute(&self.0)
                .await?;
            Ok(done.rows_affected())
        })
    }
}
