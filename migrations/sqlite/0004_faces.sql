-- The face check. Kept apart from the identity data (orders, readings): the challenges a
-- phone was given, and the face templates (embeddings) of live captures and of ID card
-- portraits, AES-256-GCM ciphertext bound to the material. A live capture's frames are never
-- written; its most frontal frame is the material's blob.

CREATE TABLE liveness_challenges (
    id           TEXT PRIMARY KEY,
    session_id   TEXT NOT NULL REFERENCES upload_sessions (id) ON DELETE CASCADE,
    actions      TEXT NOT NULL,  -- JSON array of two actions, in the order asked
    issued_at    TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    used_at      TEXT,           -- single use: set by the capture that answered it
    consented_at TEXT            -- the person's separate consent to the face check
);
CREATE INDEX liveness_challenges_session ON liveness_challenges (session_id, issued_at);

CREATE TABLE face_templates (
    material_id TEXT PRIMARY KEY REFERENCES materials (id) ON DELETE CASCADE,
    order_id    TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    person      TEXT NOT NULL,
    source      TEXT NOT NULL CHECK (source IN ('live', 'card')),
    embedding   TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX face_templates_person ON face_templates (order_id, person, source, created_at);
