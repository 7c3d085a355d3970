-- Knowledge management (issue 19): articles on the task core (kind 'article', numbered
-- KB0000001…) with their versions, knowledge bases and their category trees, what an article
-- is about (services, CIs) and who may read it (organizations), readers' feedback and
-- deflections, the links between articles and tasks, and the full-text index of published
-- articles (title, summary and body weighted apart). Approvals gain rounds: a task asked
-- again (an article reviewed again, a change re-submitted) counts only its new decisions.
-- Keep in step with ../sqlite/0014_knowledge.sql.

ALTER TABLE task DROP CONSTRAINT task_kind_check;
ALTER TABLE task ADD CONSTRAINT task_kind_check CHECK (kind IN ('incident', 'problem', 'problem_task', 'change', 'change_task', 'request', 'request_item', 'fulfilment_task', 'article'));
INSERT INTO number_seq (kind, next) VALUES ('KB', 1) ON CONFLICT (kind) DO NOTHING;

-- The round of asking a task's approvals: 1 for the first, one more each time it is asked
-- again from the first stage.
ALTER TABLE approval ADD COLUMN round BIGINT NOT NULL DEFAULT 0;
CREATE INDEX approval_round ON approval (task_id, round, stage);

-- A knowledge base: a collection of articles with its owners (for example "IT", "HR IT").
CREATE TABLE knowledge_base (
    id                 UUID PRIMARY KEY,
    name               TEXT NOT NULL,
    name_key           TEXT NOT NULL UNIQUE,
    description        TEXT NOT NULL DEFAULT '',
    -- Who owns its articles unless an article names its own group, and who reviews them
    -- (else the article's owner group).
    owner_group_id     UUID REFERENCES support_group (id),
    reviewer_group_id  UUID REFERENCES support_group (id),
    active             BOOLEAN NOT NULL DEFAULT TRUE,
    created_at         TIMESTAMPTZ NOT NULL
);

-- A knowledge base's categories, a tree.
CREATE TABLE kb_category (
    id          UUID PRIMARY KEY,
    kb_id       UUID NOT NULL REFERENCES knowledge_base (id) ON DELETE CASCADE,
    parent_id   UUID REFERENCES kb_category (id),
    name        TEXT NOT NULL,
    -- The path of names from the root ("Network / VPN"), unique in its base.
    path        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (kb_id, path)
);

-- An article's own fields. The title and body of its newest version are the task's short
-- description and description; every version is in kb_version.
CREATE TABLE kb_article (
    task_id            UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    kb_id              UUID NOT NULL REFERENCES knowledge_base (id),
    category_id        UUID REFERENCES kb_category (id),
    summary            TEXT NOT NULL DEFAULT '',
    -- en or id.
    language           TEXT NOT NULL,
    translation_of_id  UUID REFERENCES task (id),
    -- everyone, agents or organizations.
    audience           TEXT NOT NULL,
    valid_to           TIMESTAMPTZ,
    review_at          TIMESTAMPTZ,
    review_reminded_at TIMESTAMPTZ,
    -- The newest version's number, and the published one's (none when nothing is).
    head_version       BIGINT NOT NULL DEFAULT 1,
    published_version  BIGINT,
    published_at       TIMESTAMPTZ
);
CREATE INDEX kb_article_kb ON kb_article (kb_id, category_id);
CREATE INDEX kb_article_review ON kb_article (review_at) WHERE review_at IS NOT NULL;
CREATE INDEX kb_article_translation ON kb_article (translation_of_id) WHERE translation_of_id IS NOT NULL;

-- Every version of an article, with who wrote it.
CREATE TABLE kb_version (
    id            UUID PRIMARY KEY,
    article_id    UUID NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    version       BIGINT NOT NULL,
    title         TEXT NOT NULL,
    summary       TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL DEFAULT '',
    -- draft, review, published, outdated or retired.
    state         TEXT NOT NULL,
    author_id     UUID REFERENCES person (id),
    author        TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    submitted_at  TIMESTAMPTZ,
    published_at  TIMESTAMPTZ,
    ended_at      TIMESTAMPTZ,
    UNIQUE (article_id, version)
);

-- What an article is about, and the organizations whose people may read it.
CREATE TABLE kb_article_service (
    article_id  UUID NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    service_id  UUID NOT NULL REFERENCES service (id),
    PRIMARY KEY (article_id, service_id)
);
CREATE INDEX kb_article_service_service ON kb_article_service (service_id, article_id);
CREATE TABLE kb_article_ci (
    article_id  UUID NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    ci_id       UUID NOT NULL REFERENCES ci (id),
    PRIMARY KEY (article_id, ci_id)
);
CREATE INDEX kb_article_ci_ci ON kb_article_ci (ci_id, article_id);
CREATE TABLE kb_article_org (
    article_id       UUID NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    organization_id  UUID NOT NULL REFERENCES organization (id),
    PRIMARY KEY (article_id, organization_id)
);

-- Counters of an article, apart from its fields so that reading never races an edit.
CREATE TABLE kb_stats (
    article_id    UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    views         BIGINT NOT NULL DEFAULT 0,
    helpful_yes   BIGINT NOT NULL DEFAULT 0,
    helpful_no    BIGINT NOT NULL DEFAULT 0,
    rating_sum    BIGINT NOT NULL DEFAULT 0,
    rating_count  BIGINT NOT NULL DEFAULT 0,
    deflections   BIGINT NOT NULL DEFAULT 0
);

-- A reader's feedback on an article: helpful or not, a rating, a flag, a comment. A flag or
-- a low rating waits in the owner group's queue until someone deals with it.
CREATE TABLE kb_feedback (
    id              UUID PRIMARY KEY,
    article_id      UUID NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    version         BIGINT NOT NULL,
    person_id       UUID REFERENCES person (id),
    helpful         BOOLEAN,
    rating          BIGINT,
    flag            TEXT,
    comment         TEXT NOT NULL DEFAULT '',
    attention       BOOLEAN NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    addressed_at    TIMESTAMPTZ,
    addressed_by_id UUID REFERENCES person (id),
    addressed_note  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX kb_feedback_article ON kb_feedback (article_id, created_at);
CREATE INDEX kb_feedback_attention ON kb_feedback (created_at) WHERE attention AND addressed_at IS NULL;

-- A ticket not opened: the article solved the reader's problem while they described it.
CREATE TABLE kb_deflection (
    id          UUID PRIMARY KEY,
    article_id  UUID NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    person_id   UUID REFERENCES person (id),
    query       TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX kb_deflection_time ON kb_deflection (created_at);
CREATE INDEX kb_deflection_article ON kb_deflection (article_id, created_at);

-- Articles and tasks: attached to an incident, resolved with, a problem's known error.
CREATE TABLE kb_task_link (
    article_id  UUID NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    task_id     UUID NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    by_id       UUID REFERENCES person (id),
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (article_id, task_id, kind)
);
CREATE INDEX kb_task_link_task ON kb_task_link (task_id, kind);

-- The published articles' text (the same columns as SQLite's full-text table). Its document
-- weighs the title (A), summary (B) and body (C) and stems each article by its language
-- (english or indonesian), indexed for @@ and ranked with ts_rank.
CREATE TABLE kb_search (
    article_id  UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    language    TEXT NOT NULL,
    title       TEXT NOT NULL,
    summary     TEXT NOT NULL,
    body        TEXT NOT NULL
);
CREATE FUNCTION kb_document(language TEXT, title TEXT, summary TEXT, body TEXT) RETURNS TSVECTOR
    LANGUAGE SQL IMMUTABLE PARALLEL SAFE
    RETURN setweight(to_tsvector(CASE WHEN language = 'id' THEN 'indonesian'::regconfig ELSE 'english'::regconfig END, title), 'A')
        || setweight(to_tsvector(CASE WHEN language = 'id' THEN 'indonesian'::regconfig ELSE 'english'::regconfig END, summary), 'B')
        || setweight(to_tsvector(CASE WHEN language = 'id' THEN 'indonesian'::regconfig ELSE 'english'::regconfig END, body), 'C');
CREATE INDEX kb_search_document ON kb_search USING GIN (kb_document(language, title, summary, body));
