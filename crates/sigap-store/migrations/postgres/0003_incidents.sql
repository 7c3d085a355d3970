-- Incident management on the task core (DESIGN §4): tasks with numbers, the incident's own
-- fields, the journal, categories, the priority matrix, assignment rules and settings.
-- Keep in step with ../sqlite/0003_incidents.sql (same tables and columns).

-- One counter per record kind (INC, PRB, CHG …), taken in the creating transaction.
CREATE TABLE number_seq (
    kind  TEXT PRIMARY KEY,
    next  BIGINT NOT NULL
);
-- TASK numbers every task once, for the full-text index (SQLite keys its FTS rows by it).
INSERT INTO number_seq (kind, next) VALUES ('INC', 1), ('TASK', 1);

CREATE TABLE task (
    id                  UUID PRIMARY KEY,
    number              TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('incident')),
    short_description   TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL,
    impact              BIGINT NOT NULL CHECK (impact BETWEEN 1 AND 3),
    urgency             BIGINT NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    priority            BIGINT NOT NULL CHECK (priority BETWEEN 1 AND 5),
    caller_id           UUID REFERENCES person (id),
    opened_by_id        UUID REFERENCES person (id),
    assignment_group_id UUID REFERENCES support_group (id),
    assigned_to_id      UUID REFERENCES person (id),
    service_id          UUID REFERENCES service (id),
    offering_id         UUID REFERENCES service_offering (id),
    ci_id               UUID REFERENCES ci (id),
    organization_id     UUID REFERENCES organization (id),
    category            TEXT,
    subcategory         TEXT,
    contact_type        TEXT NOT NULL,
    parent_id           UUID REFERENCES task (id),
    opened_at           TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    resolved_at         TIMESTAMPTZ,
    closed_at           TIMESTAMPTZ,
    reassignment_count  BIGINT NOT NULL DEFAULT 0,
    reopen_count        BIGINT NOT NULL DEFAULT 0,
    version             BIGINT NOT NULL DEFAULT 1,
    search_key          BIGINT NOT NULL
);
CREATE UNIQUE INDEX task_number ON task (number);
CREATE UNIQUE INDEX task_search_key ON task (search_key);
CREATE INDEX task_queue ON task (kind, state, assignment_group_id, priority, opened_at, id);
CREATE INDEX task_assignee ON task (assigned_to_id, state, priority, opened_at, id);
CREATE INDEX task_caller ON task (caller_id, opened_at, id);
CREATE INDEX task_org ON task (organization_id, opened_at, id);
CREATE INDEX task_priority ON task (kind, priority, opened_at, id);
CREATE INDEX task_resolved ON task (state, resolved_at);

CREATE TABLE incident (
    task_id                  UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    hold_reason              TEXT,
    workaround               TEXT NOT NULL DEFAULT '',
    resolution_code          TEXT,
    resolution_notes         TEXT NOT NULL DEFAULT '',
    major                    BOOLEAN NOT NULL DEFAULT FALSE,
    priority_override_reason TEXT
);

-- Comments (the caller sees them), work notes (internal) and recorded changes.
CREATE TABLE task_journal (
    id          UUID PRIMARY KEY,
    task_id     UUID NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('comment', 'work_note', 'change')),
    author_id   UUID,
    author      TEXT NOT NULL,
    body        TEXT NOT NULL,
    changes     JSONB,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX task_journal_task ON task_journal (task_id, created_at, id);

-- Categories and subcategories (a subcategory names its parent), managed by administrators.
CREATE TABLE incident_category (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    parent_code TEXT REFERENCES incident_category (code),
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    sort_order  BIGINT NOT NULL DEFAULT 0
);
INSERT INTO incident_category (code, name, parent_code, active, sort_order) VALUES
    ('hardware', 'Hardware', NULL, TRUE, 10),
    ('software', 'Software', NULL, TRUE, 20),
    ('network', 'Network', NULL, TRUE, 30),
    ('database', 'Database', NULL, TRUE, 40),
    ('access', 'Access', NULL, TRUE, 50),
    ('inquiry', 'Inquiry / help', NULL, TRUE, 60);

-- Impact × urgency → priority, one row per pair; starts as the ITIL 3×3.
CREATE TABLE priority_rule (
    impact   BIGINT NOT NULL,
    urgency  BIGINT NOT NULL,
    priority BIGINT NOT NULL CHECK (priority BETWEEN 1 AND 5),
    PRIMARY KEY (impact, urgency)
);
INSERT INTO priority_rule (impact, urgency, priority) VALUES
    (1, 1, 1), (1, 2, 2), (1, 3, 3),
    (2, 1, 2), (2, 2, 3), (2, 3, 4),
    (3, 1, 3), (3, 2, 4), (3, 3, 5);

-- The first matching active rule (lowest sort order) picks the assignment group.
CREATE TABLE assignment_rule (
    id          UUID PRIMARY KEY,
    sort_order  BIGINT NOT NULL,
    category    TEXT,
    service_id  UUID REFERENCES service (id) ON DELETE CASCADE,
    ci_id       UUID REFERENCES ci (id) ON DELETE CASCADE,
    group_id    UUID NOT NULL REFERENCES support_group (id) ON DELETE CASCADE,
    active      BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX assignment_rule_order ON assignment_rule (active, sort_order);

-- Process settings an administrator changes (e.g. days before resolved incidents close).
CREATE TABLE app_setting (
    key    TEXT PRIMARY KEY,
    value  JSONB NOT NULL
);

-- Full-text search over number, short description, description and journal, kept by the
-- application on every change. (SQLite keeps the same in an FTS5 table of the same name.)
CREATE TABLE task_search (
    task_id  UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    document TSVECTOR NOT NULL
);
CREATE INDEX task_search_document ON task_search USING GIN (document);

-- Files attached to a task; the content is kept in the database with its checksum.
CREATE TABLE attachment (
    id             UUID PRIMARY KEY,
    task_id        UUID NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    filename       TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           BIGINT NOT NULL,
    sha256         TEXT NOT NULL,
    content        BYTEA NOT NULL,
    uploaded_by_id UUID,
    uploaded_by    TEXT NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX attachment_task ON attachment (task_id, created_at);
