-- The schema of migrations/sqlite/0001–0008 for PostgreSQL, as one step: the same tables,
-- keys and guarantees. Text columns use the "C" collation, so that timestamps (RFC 3339 text)
-- and keys compare byte-wise, as SQLite compares them; whole numbers are BIGINT. Personal
-- data is ciphertext or a keyed blind index here too (see the SQLite files' comments).

CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    username      TEXT COLLATE "C" NOT NULL UNIQUE,
    password_hash TEXT COLLATE "C" NOT NULL,
    role          TEXT COLLATE "C" NOT NULL CHECK (role IN ('filer', 'reviewer')),
    created_at    TEXT COLLATE "C" NOT NULL
);

CREATE TABLE auth_tokens (
    token_hash TEXT COLLATE "C" PRIMARY KEY,
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX auth_tokens_expiry ON auth_tokens (expires_at);

CREATE TABLE orders (
    id                TEXT COLLATE "C" PRIMARY KEY,
    owner_id          TEXT COLLATE "C" NOT NULL REFERENCES users (id),
    state             TEXT COLLATE "C" NOT NULL,
    filing_type       TEXT COLLATE "C" NOT NULL,
    province          TEXT COLLATE "C" NOT NULL,
    subject_kind      TEXT COLLATE "C" NOT NULL,
    certificate_index TEXT COLLATE "C" NOT NULL,
    form_cipher       TEXT COLLATE "C" NOT NULL,
    filing_decision   TEXT COLLATE "C" NOT NULL,
    findings          TEXT COLLATE "C" NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1,
    created_at        TEXT COLLATE "C" NOT NULL,
    updated_at        TEXT COLLATE "C" NOT NULL
);
CREATE INDEX orders_owner ON orders (owner_id, created_at);
CREATE INDEX orders_certificate ON orders (certificate_index);

CREATE TABLE order_phones (
    order_id    TEXT COLLATE "C" NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    phone_index TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (order_id, phone_index)
);
CREATE INDEX order_phones_phone ON order_phones (phone_index);

CREATE TABLE order_domains (
    order_id TEXT COLLATE "C" NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    domain   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (order_id, domain)
);
CREATE INDEX order_domains_domain ON order_domains (domain);

CREATE TABLE order_history (
    id         BIGSERIAL PRIMARY KEY,
    order_id   TEXT COLLATE "C" NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    from_state TEXT COLLATE "C",
    to_state   TEXT COLLATE "C" NOT NULL,
    actor      TEXT COLLATE "C" NOT NULL,
    note       TEXT COLLATE "C",
    at         TEXT COLLATE "C" NOT NULL
);
CREATE INDEX order_history_order ON order_history (order_id, id);

CREATE TABLE registry_subjects (
    certificate_index TEXT COLLATE "C" PRIMARY KEY,
    name_index        TEXT COLLATE "C" NOT NULL,
    filing_number     TEXT COLLATE "C" NOT NULL,
    provider          TEXT COLLATE "C" NOT NULL CHECK (provider IN ('here', 'other')),
    loaded_at         TEXT COLLATE "C" NOT NULL
);

CREATE TABLE registry_websites (
    domain            TEXT COLLATE "C" PRIMARY KEY,
    certificate_index TEXT COLLATE "C" NOT NULL,
    filing_number     TEXT COLLATE "C" NOT NULL,
    provider          TEXT COLLATE "C" NOT NULL CHECK (provider IN ('here', 'other')),
    loaded_at         TEXT COLLATE "C" NOT NULL
);

CREATE TABLE registry_domains (
    domain           TEXT COLLATE "C" PRIMARY KEY,
    registrant_index TEXT COLLATE "C" NOT NULL,
    name_index       TEXT COLLATE "C" NOT NULL,
    loaded_at        TEXT COLLATE "C" NOT NULL
);

CREATE TABLE upload_sessions (
    id              TEXT COLLATE "C" PRIMARY KEY,
    order_id        TEXT COLLATE "C" NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    person          TEXT COLLATE "C" NOT NULL,
    materials       TEXT COLLATE "C" NOT NULL,
    token_hash      TEXT COLLATE "C" NOT NULL UNIQUE,
    state           TEXT COLLATE "C" NOT NULL CHECK (state IN ('waiting', 'scanned', 'uploading', 'completed', 'expired')),
    device_hash     TEXT COLLATE "C",
    open_before     TEXT COLLATE "C" NOT NULL,
    idle_expires_at TEXT COLLATE "C" NOT NULL,
    created_at      TEXT COLLATE "C" NOT NULL,
    updated_at      TEXT COLLATE "C" NOT NULL,
    link_sealed     TEXT COLLATE "C"
);
CREATE INDEX upload_sessions_order ON upload_sessions (order_id, created_at);

CREATE TABLE materials (
    id              TEXT COLLATE "C" PRIMARY KEY,
    order_id        TEXT COLLATE "C" NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    session_id      TEXT COLLATE "C" REFERENCES upload_sessions (id) ON DELETE SET NULL,
    person          TEXT COLLATE "C" NOT NULL,
    kind            TEXT COLLATE "C" NOT NULL,
    state           TEXT COLLATE "C" NOT NULL CHECK (state IN ('analyzing', 'pass', 'retake', 'flagged', 'rejected')),
    blob            TEXT COLLATE "C" NOT NULL,
    sha256          TEXT COLLATE "C" NOT NULL,
    bytes           BIGINT NOT NULL,
    idempotency_key TEXT COLLATE "C",
    verdict         TEXT COLLATE "C",
    created_at      TEXT COLLATE "C" NOT NULL,
    analyzed_at     TEXT COLLATE "C",
    reading         TEXT COLLATE "C",
    UNIQUE (session_id, idempotency_key)
);
CREATE INDEX materials_order ON materials (order_id, person, kind, created_at);

CREATE TABLE analysis_jobs (
    material_id TEXT COLLATE "C" PRIMARY KEY REFERENCES materials (id) ON DELETE CASCADE,
    state       TEXT COLLATE "C" NOT NULL CHECK (state IN ('queued', 'running', 'done')),
    attempts    BIGINT NOT NULL DEFAULT 0,
    queued_at   TEXT COLLATE "C" NOT NULL,
    claimed_at  TEXT COLLATE "C",
    finished_at TEXT COLLATE "C",
    claim       TEXT COLLATE "C",
    lease_until TEXT COLLATE "C"
);
CREATE INDEX analysis_jobs_queue ON analysis_jobs (state, queued_at, lease_until);

CREATE TABLE liveness_challenges (
    id           TEXT COLLATE "C" PRIMARY KEY,
    session_id   TEXT COLLATE "C" NOT NULL REFERENCES upload_sessions (id) ON DELETE CASCADE,
    actions      TEXT COLLATE "C" NOT NULL,
    issued_at    TEXT COLLATE "C" NOT NULL,
    expires_at   TEXT COLLATE "C" NOT NULL,
    used_at      TEXT COLLATE "C",
    consented_at TEXT COLLATE "C"
);
CREATE INDEX liveness_challenges_session ON liveness_challenges (session_id, issued_at);

CREATE TABLE face_templates (
    material_id TEXT COLLATE "C" PRIMARY KEY REFERENCES materials (id) ON DELETE CASCADE,
    order_id    TEXT COLLATE "C" NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    person      TEXT COLLATE "C" NOT NULL,
    source      TEXT COLLATE "C" NOT NULL CHECK (source IN ('live', 'card')),
    embedding   TEXT COLLATE "C" NOT NULL,
    created_at  TEXT COLLATE "C" NOT NULL
);
CREATE INDEX face_templates_person ON face_templates (order_id, person, source, created_at);

-- Append-only: the trigger refuses every UPDATE and DELETE, as SQLite's triggers do.
CREATE TABLE audit_log (
    id     BIGSERIAL PRIMARY KEY,
    at     TEXT COLLATE "C" NOT NULL,
    actor  TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    target TEXT COLLATE "C",
    detail TEXT COLLATE "C",
    source TEXT COLLATE "C"
);
CREATE INDEX audit_log_target ON audit_log (target, id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END;
$$;

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
-- TRUNCATE bypasses row triggers: refused as well.
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE sms_verifications (
    order_id   TEXT COLLATE "C" PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    code_index TEXT COLLATE "C" NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL,
    attempts   BIGINT NOT NULL DEFAULT 0,
    created_at TEXT COLLATE "C" NOT NULL
);

CREATE TABLE sms_outbox (
    id               BIGSERIAL PRIMARY KEY,
    recipient        TEXT COLLATE "C" NOT NULL,
    recipient_masked TEXT COLLATE "C" NOT NULL,
    body             TEXT COLLATE "C" NOT NULL,
    created_at       TEXT COLLATE "C" NOT NULL
);

CREATE TABLE filing_numbers (
    order_id  TEXT COLLATE "C" PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    prefix    TEXT COLLATE "C" NOT NULL,
    year      BIGINT NOT NULL,
    serial    BIGINT NOT NULL,
    number    TEXT COLLATE "C" NOT NULL UNIQUE,
    websites  TEXT COLLATE "C" NOT NULL,
    issued_at TEXT COLLATE "C" NOT NULL,
    UNIQUE (prefix, year, serial)
);
