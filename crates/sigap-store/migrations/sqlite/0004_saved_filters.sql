-- A person's saved views of a list: a name and the list's query string (filters, sort,
-- columns). Keep in step with ../postgres/0004_saved_filters.sql.
CREATE TABLE saved_filter (
    id          TEXT PRIMARY KEY,
    person_id   TEXT NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    list        TEXT NOT NULL,
    name        TEXT NOT NULL,
    query       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX saved_filter_name ON saved_filter (person_id, list, name);

-- Child incidents of a parent (a major incident and the reports that join it).
CREATE INDEX task_parent ON task (parent_id, opened_at, id) WHERE parent_id IS NOT NULL;
