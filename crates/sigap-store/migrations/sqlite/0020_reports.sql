-- Saved reports (issue 22): a definition (sigap_domain::report::Definition, as JSON) with a
-- name, an owner, and who else may open it. Built-in reports (the process KPIs) have no
-- owner. Keep in step with ../postgres/0020_reports.sql.
CREATE TABLE report (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_id    TEXT REFERENCES person (id) ON DELETE CASCADE,
    definition  TEXT NOT NULL,
    -- private, groups, roles or everyone (the groups and roles are in report_share)
    audience    TEXT NOT NULL DEFAULT 'private',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX report_owner ON report (owner_id, name);
CREATE INDEX report_audience ON report (audience) WHERE audience <> 'private';

-- The groups or the roles a report is shared with: one of the two on each row.
CREATE TABLE report_share (
    report_id TEXT NOT NULL REFERENCES report (id) ON DELETE CASCADE,
    group_id  TEXT REFERENCES support_group (id) ON DELETE CASCADE,
    role      TEXT,
    CHECK ((group_id IS NULL) <> (role IS NULL))
);
CREATE INDEX report_share_report ON report_share (report_id);
CREATE INDEX report_share_group ON report_share (group_id) WHERE group_id IS NOT NULL;
