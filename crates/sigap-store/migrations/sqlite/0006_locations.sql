-- sigap: rebuilds tables
-- Locations: the sites, buildings and offices where callers and things are, with the time
-- zone they keep; a task names the location it happens at, and an agreement may measure its
-- clocks in that location's time zone.
-- Keep in step with ../postgres/0006_locations.sql (same tables and columns).

CREATE TABLE location (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    -- An IANA zone (Asia/Jakarta); NULL when none is given.
    time_zone       TEXT,
    organization_id TEXT REFERENCES organization (id),
    active          INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    version         INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX location_name_key ON location (name_key);
CREATE INDEX location_org_name ON location (organization_id, name_key, id);

ALTER TABLE task ADD COLUMN location_id TEXT REFERENCES location (id);
CREATE INDEX task_location ON task (location_id, opened_at, id) WHERE location_id IS NOT NULL;

-- An agreement may take its clocks' time zone from the task's location. SQLite changes a
-- CHECK by building the table anew (the runner turns foreign keys off for this file and
-- checks every reference before it commits).
CREATE TABLE agreement_new (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('sla', 'ola', 'uc')),
    customer_id TEXT REFERENCES organization (id),
    supplier_id TEXT REFERENCES organization (id),
    group_id    TEXT REFERENCES support_group (id),
    -- Empty: the built-in 24x7 calendar.
    calendar_id TEXT REFERENCES calendar (id),
    tz_source   TEXT NOT NULL CHECK (tz_source IN ('calendar', 'caller', 'ci_location', 'location')),
    valid_from  TEXT NOT NULL,
    valid_to    TEXT,
    active      INTEGER NOT NULL DEFAULT 1,
    description TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
INSERT INTO agreement_new (id, name, kind, customer_id, supplier_id, group_id, calendar_id, tz_source,
    valid_from, valid_to, active, description, version, created_at, updated_at)
SELECT id, name, kind, customer_id, supplier_id, group_id, calendar_id, tz_source,
    valid_from, valid_to, active, description, version, created_at, updated_at FROM agreement;
DROP TABLE agreement;
ALTER TABLE agreement_new RENAME TO agreement;
CREATE UNIQUE INDEX agreement_name ON agreement (name);
