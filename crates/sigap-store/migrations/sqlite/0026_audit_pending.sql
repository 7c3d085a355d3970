-- Audit entries not chained yet (../postgres/0026_audit_pending.sql). SQLite's one writer
-- chains each transaction's entries in the transaction, so the table stays empty here; it
-- exists so that both engines have the same tables (a test checks).
CREATE TABLE audit_pending (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    BLOB,
    actor       TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    changes     TEXT NOT NULL
);
