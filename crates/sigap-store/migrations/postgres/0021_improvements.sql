-- The improvement register (issue 22): initiatives of continual improvement, each with an
-- owner, the KPI it moves (a saved report), its baseline and target in the KPI's unit, a
-- status, and review notes. Keep in step with ../sqlite/0021_improvements.sql.
CREATE TABLE improvement (
    id          UUID PRIMARY KEY,
    title       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    owner_id    UUID REFERENCES person (id) ON DELETE SET NULL,
    report_id   UUID REFERENCES report (id) ON DELETE SET NULL,
    baseline    DOUBLE PRECISION NOT NULL,
    target      DOUBLE PRECISION NOT NULL,
    -- proposed, approved, in_progress, achieved or abandoned
    status      TEXT NOT NULL,
    started_on  TEXT NOT NULL,
    due_on      TEXT,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX improvement_status ON improvement (status, started_on);

-- Review notes, oldest first; each with the KPI's value when it was written, if it had one.
CREATE TABLE improvement_review (
    id             UUID PRIMARY KEY,
    improvement_id UUID NOT NULL REFERENCES improvement (id) ON DELETE CASCADE,
    author_id      UUID REFERENCES person (id) ON DELETE SET NULL,
    author         TEXT NOT NULL,
    note           TEXT NOT NULL,
    status         TEXT NOT NULL,
    measured       DOUBLE PRECISION,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX improvement_review_of ON improvement_review (improvement_id, created_at);
