-- After the first review: the MIIT SMS verification (the code only as a keyed hash), the
-- outbox the default SMS gateway writes to, and the filing numbers the bureau gives.

CREATE TABLE sms_verifications (
    order_id   TEXT PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    code_index TEXT NOT NULL,   -- keyed HMAC of the code, never the code
    expires_at TEXT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);

CREATE TABLE sms_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    recipient        TEXT NOT NULL,  -- AES-256-GCM ciphertext of the mobile number
    recipient_masked TEXT NOT NULL,
    body             TEXT NOT NULL,
    created_at       TEXT NOT NULL
);

CREATE TABLE filing_numbers (
    order_id TEXT PRIMARY KEY REFERENCES orders (id) ON DELETE CASCADE,
    prefix   TEXT NOT NULL,
    year     INTEGER NOT NULL,
    serial   INTEGER NOT NULL,
    number   TEXT NOT NULL UNIQUE,
    websites TEXT NOT NULL,        -- JSON array: the number of each website, -1, -2, ...
    issued_at TEXT NOT NULL,
    UNIQUE (prefix, year, serial)
);
