-- Foundation (SQLite: UUID as TEXT, timestamps as INTEGER microseconds since 1970): identity and access, sessions, tokens, audit, jobs, idempotency.
-- Keep in step with ../postgres/0001_init.sql (same tables and columns).

CREATE TABLE organization (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('provider', 'customer', 'supplier')),
    description TEXT NOT NULL DEFAULT '',
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX organization_name_key ON organization (name_key);
CREATE INDEX organization_kind_name ON organization (kind, name_key, id);

CREATE TABLE person (
    id              TEXT PRIMARY KEY,
    login           TEXT NOT NULL,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    email           TEXT,
    locale          TEXT NOT NULL DEFAULT 'en',
    time_zone       TEXT NOT NULL DEFAULT 'UTC',
    active          INTEGER NOT NULL DEFAULT 1,
    organization_id TEXT REFERENCES organization (id),
    password_hash   TEXT,
    search_text     TEXT NOT NULL,
    -- The granted role codes, comma-separated: a copy of person_role for one-query reads.
    roles           TEXT NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX person_login_key ON person (login);
CREATE INDEX person_name ON person (name_key, id);
CREATE INDEX person_org_name ON person (organization_id, name_key, id);

CREATE TABLE person_role (
    person_id TEXT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    role      TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
);

CREATE TABLE support_group (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    group_type  TEXT NOT NULL CHECK (group_type IN ('service_desk', 'technical', 'application', 'it_operations')),
    description TEXT NOT NULL DEFAULT '',
    email       TEXT,
    manager_id  TEXT REFERENCES person (id),
    active      INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX support_group_name_key ON support_group (name_key);

CREATE TABLE group_member (
    group_id  TEXT NOT NULL REFERENCES support_group (id) ON DELETE CASCADE,
    person_id TEXT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    added_at  INTEGER NOT NULL,
    PRIMARY KEY (group_id, person_id)
);
CREATE INDEX group_member_person ON group_member (person_id);

CREATE TABLE api_token (
    id           TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'read_write')),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE INDEX api_token_person ON api_token (person_id, created_at);

CREATE TABLE web_session (
    id_hash      TEXT PRIMARY KEY,
    person_id    TEXT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
);
CREATE INDEX web_session_expires ON web_session (expires_at);
CREATE INDEX web_session_person ON web_session (person_id);

CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL,
    window_start INTEGER NOT NULL,
    locked_until INTEGER
);

CREATE TABLE idempotency_key (
    person_id     TEXT NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        INTEGER NOT NULL,
    location      TEXT,
    response_body TEXT,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (person_id, idem_key)
);
CREATE INDEX idempotency_key_created ON idempotency_key (created_at);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY,
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    actor_id    TEXT,
    actor       TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    changes     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_record ON audit_log (record_type, record_id, seq);

CREATE TABLE job (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    run_at       INTEGER NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    locked_by    TEXT,
    locked_until INTEGER,
    last_error   TEXT,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER
);
CREATE INDEX job_ready ON job (state, run_at);

CREATE TABLE leader_lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);
