-- Announcements (issue 22): what the service desk tells people on their home pages, from a
-- start until an end (none: until taken down), to everyone, the requesters or the agents.
-- Keep in step with ../sqlite/0022_announcements.sql.
CREATE TABLE announcement (
    id          UUID PRIMARY KEY,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    -- info, warning or outage
    severity    TEXT NOT NULL,
    -- everyone, requesters or agents
    audience    TEXT NOT NULL,
    starts_at   TIMESTAMPTZ NOT NULL,
    ends_at     TIMESTAMPTZ,
    author_id   UUID REFERENCES person (id) ON DELETE SET NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX announcement_current ON announcement (audience, starts_at);
