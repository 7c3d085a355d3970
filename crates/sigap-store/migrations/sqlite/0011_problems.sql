-- sigap: rebuilds tables
-- The task core for every process (issue 16): a task may be of every kind the processes
-- need (incident, problem, change, request and their tasks), each numbered on its own; and
-- problem management, its second client: the problem's own fields, and the incidents linked
-- to a problem. Keep in step with ../postgres/0011_problems.sql (same tables and columns).
--
-- SQLite changes the CHECK of task.kind by building the table anew: same columns, rows and
-- rowids, then its indexes as they stand after migrations 3 to 9 (the runner turns foreign
-- keys off for this file and checks every reference before it commits).

CREATE TABLE task_new (
    id                  TEXT PRIMARY KEY,
    number              TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('incident', 'problem', 'problem_task', 'change', 'change_task', 'request', 'request_item', 'fulfilment_task')),
    short_description   TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL,
    impact              INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 3),
    urgency             INTEGER NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    priority            INTEGER NOT NULL CHECK (priority BETWEEN 1 AND 5),
    caller_id           TEXT REFERENCES person (id),
    opened_by_id        TEXT REFERENCES person (id),
    assignment_group_id TEXT REFERENCES support_group (id),
    assigned_to_id      TEXT REFERENCES person (id),
    service_id          TEXT REFERENCES service (id),
    offering_id         TEXT REFERENCES service_offering (id),
    ci_id               TEXT REFERENCES ci (id),
    organization_id     TEXT REFERENCES organization (id),
    category            TEXT,
    subcategory         TEXT,
    contact_type        TEXT NOT NULL,
    parent_id           TEXT REFERENCES task (id),
    opened_at           INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    resolved_at         INTEGER,
    closed_at           INTEGER,
    reassignment_count  INTEGER NOT NULL DEFAULT 0,
    reopen_count        INTEGER NOT NULL DEFAULT 0,
    version             INTEGER NOT NULL DEFAULT 1,
    search_key          INTEGER NOT NULL,
    location_id         TEXT REFERENCES location (id)
);
INSERT INTO task_new (rowid, id, number, kind, short_description, description, state, impact, urgency,
    priority, caller_id, opened_by_id, assignment_group_id, assigned_to_id, service_id, offering_id, ci_id,
    organization_id, category, subcategory, contact_type, parent_id, opened_at, updated_at, resolved_at,
    closed_at, reassignment_count, reopen_count, version, search_key, location_id)
SELECT rowid, id, number, kind, short_description, description, state, impact, urgency,
    priority, caller_id, opened_by_id, assignment_group_id, assigned_to_id, service_id, offering_id, ci_id,
    organization_id, category, subcategory, contact_type, parent_id, opened_at, updated_at, resolved_at,
    closed_at, reassignment_count, reopen_count, version, search_key, location_id
FROM task;
DROP TABLE task;
ALTER TABLE task_new RENAME TO task;
CREATE UNIQUE INDEX task_number ON task (number);
CREATE UNIQUE INDEX task_search_key ON task (search_key);
CREATE INDEX task_queue ON task (kind, state, assignment_group_id, priority, opened_at, id);
CREATE INDEX task_assignee ON task (assigned_to_id, state, priority, opened_at, id);
CREATE INDEX task_caller ON task (caller_id, opened_at, id);
CREATE INDEX task_org ON task (organization_id, opened_at, id);
CREATE INDEX task_priority ON task (kind, priority, opened_at, id);
CREATE INDEX task_resolved ON task (resolved_at, id) WHERE state = 'resolved';
CREATE INDEX task_parent ON task (parent_id, opened_at, id) WHERE parent_id IS NOT NULL;
CREATE INDEX task_location ON task (location_id, opened_at, id) WHERE location_id IS NOT NULL;
CREATE INDEX task_unassigned ON task (kind, assignment_group_id, priority, opened_at, id)
    WHERE assigned_to_id IS NULL;
-- Tasks by service or CI and time: a problem's candidates, known errors beside an incident,
-- and the trends of incidents without a problem.
CREATE INDEX task_service ON task (kind, service_id, opened_at) WHERE service_id IS NOT NULL;
CREATE INDEX task_ci ON task (kind, ci_id, opened_at) WHERE ci_id IS NOT NULL;

INSERT INTO number_seq (kind, next) VALUES ('PRB', 1), ('PTASK', 1), ('CHG', 1), ('CTASK', 1),
    ('REQ', 1), ('RITM', 1), ('SCTASK', 1)
    ON CONFLICT (kind) DO NOTHING;

-- A problem's own fields. The problem statement is the task's short description.
CREATE TABLE problem (
    task_id                  TEXT PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    symptoms                 TEXT NOT NULL DEFAULT '',
    root_cause               TEXT NOT NULL DEFAULT '',
    cause_code               TEXT,
    workaround               TEXT NOT NULL DEFAULT '',
    -- When the work-around was last published to the linked incidents.
    workaround_published_at  INTEGER,
    fix                      TEXT NOT NULL DEFAULT '',
    known_error              INTEGER NOT NULL DEFAULT 0,
    known_error_at           INTEGER,
    major                    INTEGER NOT NULL DEFAULT 0,
    resolution_code          TEXT,
    resolution_notes         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX problem_known_error ON problem (known_error_at, task_id) WHERE known_error = 1;

-- Incidents caused by a problem: one problem per incident at most.
CREATE TABLE problem_incident (
    incident_id  TEXT PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    problem_id   TEXT NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    linked_at    INTEGER NOT NULL,
    linked_by    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX problem_incident_problem ON problem_incident (problem_id, linked_at, incident_id);
