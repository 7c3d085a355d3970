-- sigap: rebuilds tables
-- Knowledge management (issue 19): articles on the task core (kind 'article', numbered
-- KB0000001…) with their versions, knowledge bases and their category trees, what an article
-- is about (services, CIs) and who may read it (organizations), readers' feedback and
-- deflections, the links between articles and tasks, and the full-text index of published
-- articles (title, summary and body weighted apart). Approvals gain rounds: a task asked
-- again (an article reviewed again, a change re-submitted) counts only its new decisions.
-- Keep in step with ../postgres/0014_knowledge.sql (same tables and columns).
--
-- SQLite changes the CHECK of task.kind by building the table anew (as in 0011): same
-- columns, rows and rowids, then its indexes as they stand after migrations 3 to 13.

CREATE TABLE task_new (
    id                  TEXT PRIMARY KEY,
    number              TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('incident', 'problem', 'problem_task', 'change', 'change_task', 'request', 'request_item', 'fulfilment_task', 'article')),
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
    search_key          INTEGER NOT NULL,
    location_id         TEXT REFERENCES location (id)
);
INSERT INTO task_new (rowid, id, number, kind, short_description, description, state, impact, urgency,
    priority, caller_id, opened_by_id, assignment_group_id, assigned_to_id, service_id, offering_id, ci_id,
    organization_id, category, subcategory, contact_type, parent_id, opened_at, updated_at, resolved_at,
    closed_at, reassignment_count, reopen_count, version, search_key, location_id)
SELECT rowid, id, number, kind, short_description, description, state, impact, urgency,
    priority, caller_id, opened_by_id, assignment_group_id, assigned_to_id, service_id, offering_id, ci_id,
    organization_id, category, subcategory, contact_type, parent_id, opened_at, updated_at, resolved_at,
    closed_at, reassignment_count, reopen_count, version, search_key, location_id
FROM task;
DROP TABLE task;
ALTER TABLE task_new RENAME TO task;
CREATE UNIQUE INDEX task_number ON task (number);
CREATE UNIQUE INDEX task_search_key ON task (search_key);
CREATE INDEX task_queue ON task (kind, state, assignment_group_id, priority, opened_at, id);
CREATE INDEX task_assignee ON task (assigned_to_id, state, priority, opened_at, id);
CREATE INDEX task_caller ON task (caller_id, opened_at, id);
CREATE INDEX task_org ON task (organization_id, opened_at, id);
CREATE INDEX task_priority ON task (kind, priority, opened_at, id);
CREATE INDEX task_resolved ON task (resolved_at, id) WHERE state = 'resolved';
CREATE INDEX task_parent ON task (parent_id, opened_at, id) WHERE parent_id IS NOT NULL;
CREATE INDEX task_location ON task (location_id, opened_at, id) WHERE location_id IS NOT NULL;
CREATE INDEX task_unassigned ON task (kind, assignment_group_id, priority, opened_at, id)
    WHERE assigned_to_id IS NULL;
-- Tasks by service or CI and time: a problem's candidates, known errors beside an incident,
-- and the trends of incidents without a problem.
CREATE INDEX task_service ON task (kind, service_id, opened_at) WHERE service_id IS NOT NULL;
CREATE INDEX task_ci ON task (kind, ci_id, opened_at) WHERE ci_id IS NOT NULL;
CREATE INDEX task_opened_by ON task (opened_by_id, opened_at, id);

INSERT INTO number_seq (kind, next) VALUES ('KB', 1) ON CONFLICT (kind) DO NOTHING;

-- The round of asking a task's approvals: 1 for the first, one more each time it is asked
-- again from the first stage.
ALTER TABLE approval ADD COLUMN round INTEGER NOT NULL DEFAULT 0;
CREATE INDEX approval_round ON approval (task_id, round, stage);

-- A knowledge base: a collection of articles with its owners (for example "IT", "HR IT").
CREATE TABLE knowledge_base (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    name_key           TEXT NOT NULL UNIQUE,
    description        TEXT NOT NULL DEFAULT '',
    -- Who owns its articles unless an article names its own group, and who reviews them
    -- (else the article's owner group).
    owner_group_id     TEXT REFERENCES support_group (id),
    reviewer_group_id  TEXT REFERENCES support_group (id),
    active             INTEGER NOT NULL DEFAULT 1,
    created_at         INTEGER NOT NULL
);

-- A knowledge base's categories, a tree.
CREATE TABLE kb_category (
    id          TEXT PRIMARY KEY,
    kb_id       TEXT NOT NULL REFERENCES knowledge_base (id) ON DELETE CASCADE,
    parent_id   TEXT REFERENCES kb_category (id),
    name        TEXT NOT NULL,
    -- The path of names from the root ("Network / VPN"), unique in its base.
    path        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (kb_id, path)
);

-- An article's own fields. The title and body of its newest version are the task's short
-- description and description; every version is in kb_version.
CREATE TABLE kb_article (
    task_id            TEXT PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    kb_id              TEXT NOT NULL REFERENCES knowledge_base (id),
    category_id        TEXT REFERENCES kb_category (id),
    summary            TEXT NOT NULL DEFAULT '',
    -- en or id.
    language           TEXT NOT NULL,
    translation_of_id  TEXT REFERENCES task (id),
    -- everyone, agents or organizations.
    audience           TEXT NOT NULL,
    valid_to           INTEGER,
    review_at          INTEGER,
    review_reminded_at INTEGER,
    -- The newest version's number, and the published one's (none when nothing is).
    head_version       INTEGER NOT NULL DEFAULT 1,
    published_version  INTEGER,
    published_at       INTEGER
);
CREATE INDEX kb_article_kb ON kb_article (kb_id, category_id);
CREATE INDEX kb_article_review ON kb_article (review_at) WHERE review_at IS NOT NULL;
CREATE INDEX kb_article_translation ON kb_article (translation_of_id) WHERE translation_of_id IS NOT NULL;

-- Every version of an article, with who wrote it.
CREATE TABLE kb_version (
    id            TEXT PRIMARY KEY,
    article_id    TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL DEFAULT '',
    -- draft, review, published, outdated or retired.
    state         TEXT NOT NULL,
    author_id     TEXT REFERENCES person (id),
    author        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    submitted_at  INTEGER,
    published_at  INTEGER,
    ended_at      INTEGER,
    UNIQUE (article_id, version)
);

-- What an article is about, and the organizations whose people may read it.
CREATE TABLE kb_article_service (
    article_id  TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    service_id  TEXT NOT NULL REFERENCES service (id),
    PRIMARY KEY (article_id, service_id)
);
CREATE INDEX kb_article_service_service ON kb_article_service (service_id, article_id);
CREATE TABLE kb_article_ci (
    article_id  TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    ci_id       TEXT NOT NULL REFERENCES ci (id),
    PRIMARY KEY (article_id, ci_id)
);
CREATE INDEX kb_article_ci_ci ON kb_article_ci (ci_id, article_id);
CREATE TABLE kb_article_org (
    article_id       TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    organization_id  TEXT NOT NULL REFERENCES organization (id),
    PRIMARY KEY (article_id, organization_id)
);

-- Counters of an article, apart from its fields so that reading never races an edit.
CREATE TABLE kb_stats (
    article_id    TEXT PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    views         INTEGER NOT NULL DEFAULT 0,
    helpful_yes   INTEGER NOT NULL DEFAULT 0,
    helpful_no    INTEGER NOT NULL DEFAULT 0,
    rating_sum    INTEGER NOT NULL DEFAULT 0,
    rating_count  INTEGER NOT NULL DEFAULT 0,
    deflections   INTEGER NOT NULL DEFAULT 0
);

-- A reader's feedback on an article: helpful or not, a rating, a flag, a comment. A flag or
-- a low rating waits in the owner group's queue until someone deals with it.
CREATE TABLE kb_feedback (
    id              TEXT PRIMARY KEY,
    article_id      TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    version         INTEGER NOT NULL,
    person_id       TEXT REFERENCES person (id),
    helpful         INTEGER,
    rating          INTEGER,
    flag            TEXT,
    comment         TEXT NOT NULL DEFAULT '',
    attention       INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    addressed_at    INTEGER,
    addressed_by_id TEXT REFERENCES person (id),
    addressed_note  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX kb_feedback_article ON kb_feedback (article_id, created_at);
CREATE INDEX kb_feedback_attention ON kb_feedback (created_at) WHERE attention AND addressed_at IS NULL;

-- A ticket not opened: the article solved the reader's problem while they described it.
CREATE TABLE kb_deflection (
    id          TEXT PRIMARY KEY,
    article_id  TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    person_id   TEXT REFERENCES person (id),
    query       TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX kb_deflection_time ON kb_deflection (created_at);
CREATE INDEX kb_deflection_article ON kb_deflection (article_id, created_at);

-- Articles and tasks: attached to an incident, resolved with, a problem's known error.
CREATE TABLE kb_task_link (
    article_id  TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    task_id     TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    by_id       TEXT REFERENCES person (id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (article_id, task_id, kind)
);
CREATE INDEX kb_task_link_task ON kb_task_link (task_id, kind);

-- The published articles' text, ranked with weights per column (BM25). Keyed by the task's
-- search key; the porter stemmer matches English words by their stems. (PostgreSQL keeps the
-- same columns in a table of the same name.)
CREATE VIRTUAL TABLE kb_search USING fts5(
    article_id UNINDEXED,
    language UNINDEXED,
    title,
    summary,
    body,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
