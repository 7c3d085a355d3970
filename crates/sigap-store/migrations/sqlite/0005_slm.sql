-- Service level management: business calendars with holidays, agreements (SLA with a
-- customer, OLA with a support group, UC with a supplier) with their services and targets,
-- and one clock per task, agreement and metric with its events (running and paused
-- stretches and why) and the threshold notices already sent.
-- Keep in step with ../postgres/0005_slm.sql. Conditions, hours and thresholds are JSON text.
-- (SQLite: UUID as TEXT, timestamps as INTEGER microseconds since 1970.)

CREATE TABLE calendar (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL,
    -- Seven lists (Monday first) of "HH:MM-HH:MM".
    hours       TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX calendar_name ON calendar (name);

CREATE TABLE calendar_holiday (
    id          TEXT PRIMARY KEY,
    calendar_id TEXT NOT NULL REFERENCES calendar (id) ON DELETE CASCADE,
    day         TEXT NOT NULL,
    -- The closed part of the day in minutes from midnight; both empty close the whole day.
    closed_from INTEGER,
    closed_to   INTEGER,
    recurring   INTEGER NOT NULL DEFAULT 0,
    name        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX calendar_holiday_day ON calendar_holiday (calendar_id, day);

CREATE TABLE agreement (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('sla', 'ola', 'uc')),
    customer_id TEXT REFERENCES organization (id),
    supplier_id TEXT REFERENCES organization (id),
    group_id    TEXT REFERENCES support_group (id),
    -- Empty: the built-in 24x7 calendar.
    calendar_id TEXT REFERENCES calendar (id),
    tz_source   TEXT NOT NULL CHECK (tz_source IN ('calendar', 'caller', 'ci_location')),
    valid_from  TEXT NOT NULL,
    valid_to    TEXT,
    active      INTEGER NOT NULL DEFAULT 1,
    description TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX agreement_name ON agreement (name);

-- The services an agreement covers; none means every service.
CREATE TABLE agreement_service (
    agreement_id TEXT NOT NULL REFERENCES agreement (id) ON DELETE CASCADE,
    service_id   TEXT NOT NULL REFERENCES service (id) ON DELETE CASCADE,
    PRIMARY KEY (agreement_id, service_id)
);

CREATE TABLE sla_target (
    id                TEXT PRIMARY KEY,
    agreement_id      TEXT NOT NULL REFERENCES agreement (id) ON DELETE CASCADE,
    name              TEXT NOT NULL,
    metric            TEXT NOT NULL CHECK (metric IN ('response', 'resolution')),
    duration_secs     INTEGER NOT NULL CHECK (duration_secs > 0),
    -- Which tasks the target is for (e.g. a priority); the strictest matching target wins.
    applies_when      TEXT NOT NULL,
    start_cond        TEXT NOT NULL,
    pause_cond        TEXT NOT NULL,
    resume_cond       TEXT,
    stop_cond         TEXT NOT NULL,
    cancel_cond       TEXT NOT NULL,
    reset_cond        TEXT NOT NULL,
    when_start_fails  TEXT NOT NULL,
    -- Percentages at which people are told, e.g. [50, 75, 100].
    thresholds        TEXT NOT NULL,
    escalate_group_id TEXT REFERENCES support_group (id),
    notify_owner      INTEGER NOT NULL DEFAULT 0,
    version           INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX sla_target_agreement ON sla_target (agreement_id, metric);

CREATE TABLE sla_clock (
    id               TEXT PRIMARY KEY,
    task_id          TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    agreement_id     TEXT NOT NULL REFERENCES agreement (id) ON DELETE CASCADE,
    metric           TEXT NOT NULL,
    target_id        TEXT REFERENCES sla_target (id) ON DELETE SET NULL,
    target_name      TEXT NOT NULL,
    duration_secs    INTEGER NOT NULL,
    time_zone        TEXT NOT NULL,
    -- Stage as of the last change: in_progress, paused, achieved, breached, cancelled.
    stage            TEXT NOT NULL,
    started_at       INTEGER NOT NULL,
    ended_at         INTEGER,
    -- stopped, cancelled, or start_failed (ended because its start stopped holding).
    end_kind         TEXT,
    -- While running: when the target runs out (stored for indexing, recomputed on change).
    due_at           INTEGER,
    business_us      INTEGER NOT NULL DEFAULT 0,
    breached         INTEGER NOT NULL DEFAULT 0,
    -- While running: when the next threshold is crossed (the sweep looks here).
    next_check_at    INTEGER,
    -- The highest threshold (percent) already handled.
    thresholds_done  INTEGER NOT NULL DEFAULT 0,
    version          INTEGER NOT NULL DEFAULT 1,
    updated_at       INTEGER NOT NULL
);
CREATE INDEX sla_clock_task ON sla_clock (task_id, agreement_id, metric, started_at);
CREATE INDEX sla_clock_check ON sla_clock (next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX sla_clock_due ON sla_clock (due_at) WHERE ended_at IS NULL AND due_at IS NOT NULL;
CREATE INDEX sla_clock_report ON sla_clock (agreement_id, ended_at);

CREATE TABLE sla_clock_event (
    id        TEXT PRIMARY KEY,
    clock_id  TEXT NOT NULL REFERENCES sla_clock (id) ON DELETE CASCADE,
    at        INTEGER NOT NULL,
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL,
    detail    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sla_clock_event_clock ON sla_clock_event (clock_id, seq);

-- One row per clock and threshold: whoever inserts it sends the message (once, on any node).
CREATE TABLE sla_notice (
    clock_id   TEXT NOT NULL REFERENCES sla_clock (id) ON DELETE CASCADE,
    threshold  INTEGER NOT NULL,
    sent_at    INTEGER NOT NULL,
    PRIMARY KEY (clock_id, threshold)
);
