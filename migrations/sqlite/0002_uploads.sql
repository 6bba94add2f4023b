-- Upload sessions (the QR link's session), materials (one uploaded photo each) and the
-- analysis job queue. A material row is written only after its bytes are durable on disk.

CREATE TABLE upload_sessions (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    person          TEXT NOT NULL,
    materials       TEXT NOT NULL,  -- JSON array of material kinds requested
    token_hash      TEXT NOT NULL UNIQUE,
    state           TEXT NOT NULL CHECK (state IN ('waiting', 'scanned', 'uploading', 'completed', 'expired')),
    device_hash     TEXT,
    open_before     TEXT NOT NULL,
    idle_expires_at TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX upload_sessions_order ON upload_sessions (order_id, created_at);

CREATE TABLE materials (
    id              TEXT PRIMARY KEY,
    order_id        TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    session_id      TEXT REFERENCES upload_sessions (id) ON DELETE SET NULL,
    person          TEXT NOT NULL,
    kind            TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('analyzing', 'pass', 'retake', 'flagged', 'rejected')),
    blob            TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    bytes           INTEGER NOT NULL,
    idempotency_key TEXT,
    verdict         TEXT,           -- JSON: the gate's verdict
    created_at      TEXT NOT NULL,
    analyzed_at     TEXT,
    UNIQUE (session_id, idempotency_key)
);
CREATE INDEX materials_order ON materials (order_id, person, kind, created_at);

CREATE TABLE analysis_jobs (
    material_id TEXT PRIMARY KEY REFERENCES materials (id) ON DELETE CASCADE,
    state       TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    queued_at   TEXT NOT NULL,
    claimed_at  TEXT,
    finished_at TEXT
);
CREATE INDEX analysis_jobs_queue ON analysis_jobs (state, queued_at);
