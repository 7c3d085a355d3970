-- Foundation: identity and access, sessions, tokens, audit, jobs, idempotency.
-- Keep in step with ../sqlite/0001_init.sql (same tables and columns).

CREATE TABLE organization (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('provider', 'customer', 'supplier')),
    description TEXT NOT NULL DEFAULT '',
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX organization_name_key ON organization (name_key);
CREATE INDEX organization_kind_name ON organization (kind, name_key, id);

CREATE TABLE person (
    id              UUID PRIMARY KEY,
    login           TEXT NOT NULL,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    email           TEXT,
    locale          TEXT NOT NULL DEFAULT 'en',
    time_zone       TEXT NOT NULL DEFAULT 'UTC',
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    organization_id UUID REFERENCES organization (id),
    password_hash   TEXT,
    search_text     TEXT NOT NULL,
    -- The granted role codes, comma-separated: a copy of person_role for one-query reads.
    roles           TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX person_login_key ON person (login);
CREATE INDEX person_name ON person (name_key, id);
CREATE INDEX person_org_name ON person (organization_id, name_key, id);

CREATE TABLE person_role (
    person_id UUID NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    role      TEXT NOT NULL,
    PRIMARY KEY (person_id, role)
);

CREATE TABLE support_group (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    name_key    TEXT NOT NULL,
    group_type  TEXT NOT NULL CHECK (group_type IN ('service_desk', 'technical', 'application', 'it_operations')),
    description TEXT NOT NULL DEFAULT '',
    email       TEXT,
    manager_id  UUID REFERENCES person (id),
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX support_group_name_key ON support_group (name_key);

CREATE TABLE group_member (
    group_id  UUID NOT NULL REFERENCES support_group (id) ON DELETE CASCADE,
    person_id UUID NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    added_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (group_id, person_id)
);
CREATE INDEX group_member_person ON group_member (person_id);

CREATE TABLE api_token (
    id           UUID PRIMARY KEY,
    person_id    UUID NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    secret_hash  TEXT NOT NULL,
    scope        TEXT NOT NULL CHECK (scope IN ('read', 'read_write')),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_token_person ON api_token (person_id, created_at);

CREATE TABLE web_session (
    id_hash      TEXT PRIMARY KEY,
    person_id    UUID NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX web_session_expires ON web_session (expires_at);
CREATE INDEX web_session_person ON web_session (person_id);

CREATE TABLE login_throttle (
    throttle_key TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    window_start TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ
);

CREATE TABLE idempotency_key (
    person_id     UUID NOT NULL,
    idem_key      TEXT NOT NULL,
    request_hash  TEXT NOT NULL,
    status        BIGINT NOT NULL,
    location      TEXT,
    response_body TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (person_id, idem_key)
);
CREATE INDEX idempotency_key_created ON idempotency_key (created_at);

CREATE TABLE audit_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    UUID,
    actor       TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    changes     JSONB NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE INDEX audit_log_record ON audit_log (record_type, record_id, seq);

CREATE TABLE job (
    id           UUID PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      JSONB NOT NULL,
    state        TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed')),
    run_at       TIMESTAMPTZ NOT NULL,
    attempts     BIGINT NOT NULL DEFAULT 0,
    max_attempts BIGINT NOT NULL,
    locked_by    TEXT,
    locked_until TIMESTAMPTZ,
    last_error   TEXT,
    created_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX job_ready ON job (state, run_at);

CREATE TABLE leader_lease (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
