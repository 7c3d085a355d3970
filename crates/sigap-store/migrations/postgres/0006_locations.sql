-- Locations: the sites, buildings and offices where callers and things are, with the time
-- zone they keep; a task names the location it happens at, and an agreement may measure its
-- clocks in that location's time zone.
-- Keep in step with ../sqlite/0006_locations.sql (same tables and columns).

CREATE TABLE location (
    id              UUID PRIMARY KEY,
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    -- An IANA zone (Asia/Jakarta); NULL when none is given.
    time_zone       TEXT,
    organization_id UUID REFERENCES organization (id),
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX location_name_key ON location (name_key);
CREATE INDEX location_org_name ON location (organization_id, name_key, id);

ALTER TABLE task ADD COLUMN location_id UUID REFERENCES location (id);
CREATE INDEX task_location ON task (location_id, opened_at, id) WHERE location_id IS NOT NULL;

-- An agreement may take its clocks' time zone from the task's location.
ALTER TABLE agreement DROP CONSTRAINT agreement_tz_source_check;
ALTER TABLE agreement ADD CONSTRAINT agreement_tz_source_check
    CHECK (tz_source IN ('calendar', 'caller', 'ci_location', 'location'));
