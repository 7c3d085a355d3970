-- Saved reports (issue 22): a definition (sigap_domain::report::Definition, as JSON) with a
-- name, an owner, and who else may open it. Built-in reports (the process KPIs) have no
-- owner. Keep in step with ../sqlite/0020_reports.sql.
CREATE TABLE report (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_id    UUID REFERENCES person (id) ON DELETE CASCADE,
    definition  JSONB NOT NULL,
    -- private, groups, roles or everyone (the groups and roles are in report_share)
    audience    TEXT NOT NULL DEFAULT 'private',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX report_owner ON report (owner_id, name);
CREATE INDEX report_audience ON report (audience) WHERE audience <> 'private';

-- The groups or the roles a report is shared with: one of the two on each row.
CREATE TABLE report_share (
    report_id UUID NOT NULL REFERENCES report (id) ON DELETE CASCADE,
    group_id  UUID REFERENCES support_group (id) ON DELETE CASCADE,
    role      TEXT,
    CHECK ((group_id IS NULL) <> (role IS NULL))
);
CREATE INDEX report_share_report ON report_share (report_id);
CREATE INDEX report_share_group ON report_share (group_id) WHERE group_id IS NOT NULL;

-- Dashboards: a grid of tiles (saved reports, or a panel of Sigap's own such as the clocks
-- breaching soon), as JSON in their order. A built-in dashboard (no owner) may be a role's
-- home page.
CREATE TABLE dashboard (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_id    UUID REFERENCES person (id) ON DELETE CASCADE,
    -- requester, agent or manager: the home page of those whose highest role it is
    home_role   TEXT,
    tiles       JSONB NOT NULL,
    audience    TEXT NOT NULL DEFAULT 'private',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX dashboard_owner ON dashboard (owner_id, name);
CREATE UNIQUE INDEX dashboard_home_role ON dashboard (home_role) WHERE home_role IS NOT NULL;

CREATE TABLE dashboard_share (
    dashboard_id UUID NOT NULL REFERENCES dashboard (id) ON DELETE CASCADE,
    group_id     UUID REFERENCES support_group (id) ON DELETE CASCADE,
    role         TEXT,
    CHECK ((group_id IS NULL) <> (role IS NULL))
);
CREATE INDEX dashboard_share_dashboard ON dashboard_share (dashboard_id);

-- Scheduled deliveries of a report by mail: when (sigap_domain::report::Cadence), to whom
-- (people, groups, addresses, as JSON), in which file. It runs as its owner sees the
-- report. next_run_at is moved on by the node that sends it, in the transaction that
-- queues the mail, so a delivery goes once whatever the number of nodes.
CREATE TABLE report_schedule (
    id           UUID PRIMARY KEY,
    report_id    UUID NOT NULL REFERENCES report (id) ON DELETE CASCADE,
    owner_id     UUID NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    every        TEXT NOT NULL,
    weekday      BIGINT,
    day          BIGINT,
    hour         BIGINT NOT NULL,
    time_zone    TEXT NOT NULL,
    format       TEXT NOT NULL,
    recipients   JSONB NOT NULL,
    skip_empty   BOOLEAN NOT NULL DEFAULT FALSE,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    next_run_at  TIMESTAMPTZ NOT NULL,
    last_run_at  TIMESTAMPTZ,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX report_schedule_due ON report_schedule (next_run_at) WHERE active;
CREATE INDEX report_schedule_report ON report_schedule (report_id);

-- The dashboard a person chose as their home page (none: their role's).
CREATE TABLE dashboard_home (
    person_id    UUID PRIMARY KEY REFERENCES person (id) ON DELETE CASCADE,
    dashboard_id UUID NOT NULL REFERENCES dashboard (id) ON DELETE CASCADE
);
