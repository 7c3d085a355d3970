-- Incident management on the task core (DESIGN §4): tasks with numbers, the incident's own
-- fields, the journal, categories, the priority matrix, assignment rules and settings.
-- (SQLite: UUID as TEXT, timestamps as INTEGER microseconds since 1970, JSON as TEXT.)
-- Keep in step with ../postgres/0003_incidents.sql (same tables and columns).

-- One counter per record kind (INC, PRB, CHG …), taken in the creating transaction.
CREATE TABLE number_seq (
    kind  TEXT PRIMARY KEY,
    next  INTEGER NOT NULL
);
-- TASK numbers every task once, for the full-text index (SQLite keys its FTS rows by it).
INSERT INTO number_seq (kind, next) VALUES ('INC', 1), ('TASK', 1);

CREATE TABLE task (
    id                  TEXT PRIMARY KEY,
    number              TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('incident')),
    short_description   TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL,
    impact              INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 3),
    urgency             INTEGER NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    priority            INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    caller_id           TEXT REFERENCES person (id),
    opened_by_id        TEXT REFERENCES person (id),
    assignment_group_id TEXT REFERENCES support_group (id),
    assigned_to_id      TEXT REFERENCES person (id),
    service_id          TEXT REFERENCES service (id),
    offering_id         TEXT REFERENCES service_offering (id),
    ci_id               TEXT REFERENCES ci (id),
    organization_id     TEXT REFERENCES organization (id),
    category            TEXT,
    subcategory         TEXT,
    contact_type        TEXT NOT NULL,
    parent_id           TEXT REFERENCES task (id),
    opened_at           INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    resolved_at         INTEGER,
    closed_at           INTEGER,
    reassignment_count  INTEGER NOT NULL DEFAULT 0,
    reopen_count        INTEGER NOT NULL DEFAULT 0,
    version             INTEGER NOT NULL DEFAULT 1,
    search_key          INTEGER NOT NULL
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
    task_id                  TEXT PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    hold_reason              TEXT,
    workaround               TEXT NOT NULL DEFAULT '',
    resolution_code          TEXT,
    resolution_notes         TEXT NOT NULL DEFAULT '',
    major                    INTEGER NOT NULL DEFAULT 0,
    priority_override_reason TEXT
);

-- Comments (the caller sees them), work notes (internal) and recorded changes.
CREATE TABLE task_journal (
    id          TEXT PRIMARY KEY,
    task_id     TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('comment', 'work_note', 'change')),
    author_id   TEXT,
    author      TEXT NOT NULL,
    body        TEXT NOT NULL,
    changes     TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX task_journal_task ON task_journal (task_id, created_at, id);

-- Categories and subcategories (a subcategory names its parent), managed by administrators.
CREATE TABLE incident_category (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    parent_code TEXT REFERENCES incident_category (code),
    active      INTEGER NOT NULL DEFAULT 1,
    sort_order  INTEGER NOT NULL DEFAULT 0
);
INSERT INTO incident_category (code, name, parent_code, active, sort_order) VALUES
    ('hardware', 'Hardware', NULL, 1, 10),
    ('software', 'Software', NULL, 1, 20),
    ('network', 'Network', NULL, 1, 30),
    ('database', 'Database', NULL, 1, 40),
    ('access', 'Access', NULL, 1, 50),
    ('inquiry', 'Inquiry / help', NULL, 1, 60);

-- Impact × urgency → priority, one row per pair; starts as the ITIL 3×3.
CREATE TABLE priority_rule (
    impact   INTEGER NOT NULL,
    urgency  INTEGER NOT NULL,
    priority INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    PRIMARY KEY (impact, urgency)
);
INSERT INTO priority_rule (impact, urgency, priority) VALUES
    (1, 1, 1), (1, 2, 2), (1, 3, 3),
    (2, 1, 2), (2, 2, 3), (2, 3, 4),
    (3, 1, 3), (3, 2, 4), (3, 3, 5);

-- The first matching active rule (lowest sort order) picks the assignment group.
CREATE TABLE assignment_rule (
    id          TEXT PRIMARY KEY,
    sort_order  INTEGER NOT NULL,
    category    TEXT,
    service_id  TEXT REFERENCES service (id) ON DELETE CASCADE,
    ci_id       TEXT REFERENCES ci (id) ON DELETE CASCADE,
    group_id    TEXT NOT NULL REFERENCES support_group (id) ON DELETE CASCADE,
    active      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX assignment_rule_order ON assignment_rule (active, sort_order);

-- Process settings an administrator changes (e.g. days before resolved incidents close).
CREATE TABLE app_setting (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Full-text search over number, short description, description and journal, kept by the
-- application on every change. (PostgreSQL keeps a tsvector in a table of the same name.)
CREATE VIRTUAL TABLE task_search USING fts5(
    task_id UNINDEXED,
    document,
    tokenize = 'unicode61 remove_diacritics 2'
);

-- Files attached to a task; the content is kept in the database with its checksum.
CREATE TABLE attachment (
    id             TEXT PRIMARY KEY,
    task_id        TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    filename       TEXT NOT NULL,
    content_type   TEXT NOT NULL,
    size           INTEGER NOT NULL,
    sha256         TEXT NOT NULL,
    content        BLOB NOT NULL,
    uploaded_by_id TEXT,
    uploaded_by    TEXT NOT NULL,
    created_at     INTEGER NOT NULL
);
CREATE INDEX attachment_task ON attachment (task_id, created_at);
