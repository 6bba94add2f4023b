//! Rows written and read directly, for the unit tests of the services above the store (which
//! write no SQL of their own).

use chrono::Utc;

use super::Db;

/// An order `o1` (collecting materials) with an upload session `s1` that asks its subject for
/// one face capture and was opened by a phone.
pub async fn an_order_waiting_for_a_face(db: &Db) {
    let now = Utc::now();
    for sql in [
        "INSERT INTO users (id, username, password_hash, role, created_at) VALUES ('u1', 'filer', '-', 'filer', $1)",
        "INSERT INTO orders (id, owner_id, state, filing_type, province, subject_kind, certificate_index, form_cipher, filing_decision, findings, created_at, updated_at)
         VALUES ('o1', 'u1', 'collecting_materials', 'new', '11', 'person', '-', '-', '{}', '[]', $1, $1)",
        "INSERT INTO upload_sessions (id, order_id, person, materials, token_hash, state, open_before, idle_expires_at, created_at, updated_at)
         VALUES ('s1', 'o1', 'subject', '[\"face\"]', 't1', 'scanned', $1, $1, $1, $1)",
    ] {
        sqlx::query(sql).bind(super::at(now)).execute(db).await.unwrap();
    }
}

/// How many rows `table` holds.
pub async fn count(db: &Db, table: &str) -> i64 {
    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(db)
        .await
        .unwrap()
}

pub async fn session_state(db: &Db, id: &str) -> String {
    sqlx::query_scalar("SELECT state FROM upload_sessions WHERE id = $1")
        .bind(id)
        .fetch_one(db)
        .await
        .unwrap()
}
