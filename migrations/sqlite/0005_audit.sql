-- The audit log: who did what, when, from where. Append-only: the triggers refuse every
-- UPDATE and DELETE, so not even a bug in our own code can rewrite it.
CREATE TABLE audit_log (
    id     INTEGER PRIMARY KEY AUTOINCREMENT,
    at     TEXT NOT NULL,
    actor  TEXT NOT NULL,  -- reviewer:wang, filer:zhangsan, system
    action TEXT NOT NULL,  -- login, order_state, evidence_view, image_view, ...
    target TEXT,           -- order:<id>, material:<id>, user:<id>
    detail TEXT,           -- JSON, never personal data
    source TEXT            -- the client's address, when a request did it
);
CREATE INDEX audit_log_target ON audit_log (target, id);

CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
