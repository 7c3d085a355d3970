-- The task core for every process (issue 16): a task may be of every kind the processes
-- need (incident, problem, change, request and their tasks), each numbered on its own; and
-- problem management, its second client: the problem's own fields, and the incidents linked
-- to a problem. Keep in step with ../sqlite/0011_problems.sql (same tables and columns).

ALTER TABLE task DROP CONSTRAINT task_kind_check;
ALTER TABLE task ADD CONSTRAINT task_kind_check CHECK (kind IN ('incident', 'problem', 'problem_task', 'change', 'change_task', 'request', 'request_item', 'fulfilment_task'));
-- Tasks by service or CI and time: a problem's candidates, known errors beside an incident,
-- and the trends of incidents without a problem.
CREATE INDEX task_service ON task (kind, service_id, opened_at) WHERE service_id IS NOT NULL;
CREATE INDEX task_ci ON task (kind, ci_id, opened_at) WHERE ci_id IS NOT NULL;

INSERT INTO number_seq (kind, next) VALUES ('PRB', 1), ('PTASK', 1), ('CHG', 1), ('CTASK', 1),
    ('REQ', 1), ('RITM', 1), ('SCTASK', 1)
    ON CONFLICT (kind) DO NOTHING;

-- A problem's own fields. The problem statement is the task's short description.
CREATE TABLE problem (
    task_id                  UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    symptoms                 TEXT NOT NULL DEFAULT '',
    root_cause               TEXT NOT NULL DEFAULT '',
    cause_code               TEXT,
    workaround               TEXT NOT NULL DEFAULT '',
    -- When the work-around was last published to the linked incidents.
    workaround_published_at  TIMESTAMPTZ,
    fix                      TEXT NOT NULL DEFAULT '',
    known_error              BOOLEAN NOT NULL DEFAULT FALSE,
    known_error_at           TIMESTAMPTZ,
    major                    BOOLEAN NOT NULL DEFAULT FALSE,
    resolution_code          TEXT,
    resolution_notes         TEXT NOT NULL DEFAULT ''
);
CREATE INDEX problem_known_error ON problem (known_error_at, task_id) WHERE known_error;

-- Incidents caused by a problem: one problem per incident at most.
CREATE TABLE problem_incident (
    incident_id  UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    problem_id   UUID NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    linked_at    TIMESTAMPTZ NOT NULL,
    linked_by    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX problem_incident_problem ON problem_incident (problem_id, linked_at, incident_id);
