-- Audit entries of committed transactions that are not chained yet. A writer leaves its
-- entry here instead of taking the chain's head (which would make it wait for the previous
-- writer's commit); the writer's node chains it, with the other pending entries, right
-- after the commit (sigap-store/src/chainer.rs). Nodes of the previous version keep
-- chaining their entries directly, taking the head as before: both kinds of writer take
-- turns on the head's row.
CREATE TABLE audit_pending (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    actor_id    UUID,
    actor       TEXT NOT NULL,
    request_id  TEXT NOT NULL,
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('create', 'update', 'delete')),
    changes     JSONB NOT NULL
);
