-- Accounts, orders with their history, and the operator's registry of existing filings.
-- Personal data: the order form is stored encrypted (AES-256-GCM, key outside the database);
-- what must be searchable (certificate, mobile numbers, registry keys) is a keyed blind index.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('filer', 'reviewer')),
    created_at    TEXT NOT NULL
);

CREATE TABLE auth_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX auth_tokens_expiry ON auth_tokens (expires_at);

CREATE TABLE orders (
    id                TEXT PRIMARY KEY,
    owner_id          TEXT NOT NULL REFERENCES users (id),
    state             TEXT NOT NULL,
    filing_type       TEXT NOT NULL,
    province          TEXT NOT NULL,
    subject_kind      TEXT NOT NULL,
    certificate_index TEXT NOT NULL,
    form_cipher       TEXT NOT NULL,
    filing_decision   TEXT NOT NULL,  -- JSON: type, label, basis
    findings          TEXT NOT NULL,  -- JSON array of pre-review findings
    version           INTEGER NOT NULL DEFAULT 1,
    created_at        TEXT NOT NULL,
    updated_at        TEXT NOT NULL
);
CREATE INDEX orders_owner ON orders (owner_id, created_at);
CREATE INDEX orders_certificate ON orders (certificate_index);

CREATE TABLE order_phones (
    order_id    TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    phone_index TEXT NOT NULL,
    PRIMARY KEY (order_id, phone_index)
);
CREATE INDEX order_phones_phone ON order_phones (phone_index);

CREATE TABLE order_domains (
    order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    domain   TEXT NOT NULL,
    PRIMARY KEY (order_id, domain)
);
CREATE INDEX order_domains_domain ON order_domains (domain);

CREATE TABLE order_history (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id   TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    from_state TEXT,
    to_state   TEXT NOT NULL,
    actor      TEXT NOT NULL,
    note       TEXT,
    at         TEXT NOT NULL
);
CREATE INDEX order_history_order ON order_history (order_id, id);

CREATE TABLE registry_subjects (
    certificate_index TEXT PRIMARY KEY,
    name_index        TEXT NOT NULL,
    filing_number     TEXT NOT NULL,
    provider          TEXT NOT NULL CHECK (provider IN ('here', 'other')),
    loaded_at         TEXT NOT NULL
);

CREATE TABLE registry_websites (
    domain            TEXT PRIMARY KEY,
    certificate_index TEXT NOT NULL,
    filing_number     TEXT NOT NULL,
    provider          TEXT NOT NULL CHECK (provider IN ('here', 'other')),
    loaded_at         TEXT NOT NULL
);

CREATE TABLE registry_domains (
    domain           TEXT PRIMARY KEY,
    registrant_index TEXT NOT NULL,
    name_index       TEXT NOT NULL,
    loaded_at        TEXT NOT NULL
);
