//! User accounts: the rules for names and passwords, argon2id hashing on the blocking pool,
//! and reviewer accounts made by an operator.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use rand::RngCore;
use serde_json::json;

use crate::store::audit::{AuditLog, NewEntry};
use crate::store::users::{Role, User, Users};
use crate::store::StoreError;

/// 3 to 32 letters, digits, `_`, `.` or `-`.
pub fn username_ok(username: &str) -> bool {
    (3..=32).contains(&username.len())
        && username
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b))
}

/// 10 to 128 characters.
pub fn password_ok(password: &str) -> bool {
    (10..=128).contains(&password.chars().count())
}

/// A hash of a random password, so verification of an unknown user costs the same.
pub const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$0CfsSSBYFcWqr4x3FWw3EkGD6IdmFmQEqJpqwKqLz5g";

pub async fn hash_password(password: String) -> anyhow::Result<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::rngs::OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))
    })
    .await?
}

pub async fn verify_password(password: String, hash: String) -> anyhow::Result<bool> {
    Ok(tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await?)
}

/// Creates a reviewer account (`beian reviewer add NAME`) with a random password of 96 bits,
/// returned this once and stored only as its argon2id hash.
pub async fn create_reviewer(
    users: &dyn Users,
    audit: &dyn AuditLog,
    username: &str,
) -> anyhow::Result<(User, String)> {
    if !username_ok(username) {
        anyhow::bail!("the username {username} is invalid: 3 to 32 letters, digits, _ . or -");
    }
    let mut raw = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    let password = URL_SAFE_NO_PAD.encode(raw);
    let hash = hash_password(password.clone()).await?;
    let user = match users.create(username, &hash, Role::Reviewer).await {
        Err(StoreError::Duplicate(_)) => anyhow::bail!("the username {username} is taken"),
        other => other?,
    };
    audit
        .append(&NewEntry {
            actor: "operator",
            action: "reviewer_created",
            target: Some(&format!("user:{}", user.id)),
            detail: Some(&json!({"username": username})),
            source: None,
        })
        .await?;
    Ok((user, password))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dummy_hash_is_a_valid_argon2_hash() {
        assert!(PasswordHash::new(DUMMY_HASH).is_ok());
    }

    #[test]
    fn names_and_passwords_follow_their_rules() {
        assert!(username_ok("zhang.san-1"));
        assert!(!username_ok("zs") && !username_ok("张三") && !username_ok("a b c"));
        assert!(password_ok("ten chars!") && !password_ok("nine char"));
    }
}
