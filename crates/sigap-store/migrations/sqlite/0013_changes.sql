-- Change management (issue 18): changes and change tasks on the task core, the CIs a change
-- touches and those their impact reaches (for conflicts), standard change templates, the
-- risk questionnaire and approval rules per change type, CAB meetings, blackout windows,
-- offerings' maintenance windows, and the links between changes, problems and incidents.
-- Keep in step with ../postgres/0013_changes.sql.

-- A standard change template: its fields and tasks, proposed and approved before use.
CREATE TABLE change_template (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL UNIQUE,
    -- draft, proposed, approved, rejected or retired.
    state         TEXT NOT NULL,
    -- The prefilled fields (JSON) and the tasks (a plan, JSON).
    fields        TEXT NOT NULL DEFAULT '{}',
    tasks         TEXT NOT NULL DEFAULT '[]',
    proposed_by   TEXT REFERENCES person (id),
    decided_by    TEXT REFERENCES person (id),
    decided_at    INTEGER,
    decision_note TEXT NOT NULL DEFAULT '',
    -- The catalogue item that orders it, if any.
    item_id       TEXT REFERENCES catalog_item (id),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX change_template_item ON change_template (item_id) WHERE item_id IS NOT NULL;

CREATE TABLE change_request (
    task_id              TEXT PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    -- standard, normal or emergency.
    change_type          TEXT NOT NULL,
    template_id          TEXT REFERENCES change_template (id),
    reason               TEXT NOT NULL DEFAULT '',
    justification        TEXT NOT NULL DEFAULT '',
    implementation_plan  TEXT NOT NULL DEFAULT '',
    backout_plan         TEXT NOT NULL DEFAULT '',
    test_plan            TEXT NOT NULL DEFAULT '',
    planned_start        INTEGER,
    planned_end          INTEGER,
    actual_start         INTEGER,
    actual_end           INTEGER,
    -- The level (low … very_high), the questionnaire's score and answers (JSON), and the
    -- least level the impact of its CIs gives.
    risk                 TEXT,
    risk_score           INTEGER,
    risk_answers         TEXT NOT NULL DEFAULT '{}',
    impact_risk          TEXT,
    -- not_requested, requested, approved, rejected or not_required; the rule asked (JSON)
    -- and its stage.
    approval             TEXT NOT NULL,
    approval_rule        TEXT NOT NULL DEFAULT '[]',
    stage                INTEGER NOT NULL DEFAULT 0,
    -- Why it was scheduled despite its conflicts.
    conflict_reason      TEXT NOT NULL DEFAULT '',
    outcome              TEXT,
    review_notes         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX change_request_window ON change_request (planned_start, planned_end);

-- A change task: one step of a change, run by order like catalogue tasks.
CREATE TABLE change_task (
    task_id  TEXT PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    ord      INTEGER NOT NULL
);

-- The CIs a change affects (direct) and those their impact reaches.
CREATE TABLE change_ci (
    change_id  TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    ci_id      TEXT NOT NULL REFERENCES ci (id),
    direct     INTEGER NOT NULL,
    PRIMARY KEY (change_id, ci_id)
);
-- The conflict check joins a change's CIs to the other changes' on the same CI, at least one
-- side affecting it: a CI many changes reach is sought only for the changes affecting it.
CREATE INDEX change_ci_ci ON change_ci (ci_id, direct, change_id);

-- A change type's risk questionnaire and its approval rules by risk (JSON); a type without
-- a row uses the built-in ones.
CREATE TABLE change_model (
    change_type    TEXT PRIMARY KEY,
    questionnaire  TEXT NOT NULL,
    rules          TEXT NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- A CAB meeting: when, the window of planned starts its agenda covers, who attends.
CREATE TABLE cab_meeting (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    starts_at    INTEGER NOT NULL,
    ends_at      INTEGER NOT NULL,
    agenda_from  INTEGER NOT NULL,
    agenda_to    INTEGER NOT NULL,
    notes        TEXT NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    version      INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX cab_meeting_starts ON cab_meeting (starts_at);

CREATE TABLE cab_attendee (
    meeting_id  TEXT NOT NULL REFERENCES cab_meeting (id) ON DELETE CASCADE,
    person_id   TEXT NOT NULL REFERENCES person (id),
    PRIMARY KEY (meeting_id, person_id)
);

-- The CAB's decision on a change at a meeting.
CREATE TABLE cab_decision (
    meeting_id   TEXT NOT NULL REFERENCES cab_meeting (id) ON DELETE CASCADE,
    change_id    TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    decision     TEXT NOT NULL,
    comment      TEXT NOT NULL DEFAULT '',
    recorded_by  TEXT REFERENCES person (id),
    recorded_at  INTEGER NOT NULL,
    PRIMARY KEY (meeting_id, change_id)
);
CREATE INDEX cab_decision_change ON cab_decision (change_id);

-- A period changes avoid: everywhere, or on one service.
CREATE TABLE change_blackout (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    service_id  TEXT REFERENCES service (id),
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);
CREATE INDEX change_blackout_window ON change_blackout (starts_at, ends_at);

-- An offering's maintenance window: the business hours of a calendar.
CREATE TABLE maintenance_window (
    offering_id  TEXT PRIMARY KEY REFERENCES service_offering (id) ON DELETE CASCADE,
    calendar_id  TEXT NOT NULL REFERENCES calendar (id),
    updated_at   INTEGER NOT NULL
);

-- The change that fixes a problem, the change an incident waits for, the change that
-- caused an incident: one change each at most.
CREATE TABLE change_problem (
    problem_id  TEXT PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    change_id   TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    linked_at   INTEGER NOT NULL,
    linked_by   TEXT NOT NULL
);
CREATE INDEX change_problem_change ON change_problem (change_id);

CREATE TABLE change_incident (
    incident_id  TEXT PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    change_id    TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    linked_at    INTEGER NOT NULL,
    linked_by    TEXT NOT NULL
);
CREATE INDEX change_incident_change ON change_incident (change_id);

CREATE TABLE change_caused (
    incident_id  TEXT PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    change_id    TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    linked_at    INTEGER NOT NULL,
    linked_by    TEXT NOT NULL
);
CREATE INDEX change_caused_change ON change_caused (change_id);
