-- Service portfolio, service catalogue, project and application portfolios, CMDB, in-app notifications.
-- Keep in step with ../sqlite/0002_portfolio_cmdb.sql (same tables and columns).
-- Dates without a time (review date, project dates) are TEXT in ISO form (YYYY-MM-DD), which sorts.

CREATE TABLE service (
    id               UUID PRIMARY KEY,
    name             TEXT NOT NULL,
    name_key         TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    value_outcomes   TEXT NOT NULL DEFAULT '',
    stage            TEXT NOT NULL CHECK (stage IN ('define', 'analyse', 'approve', 'charter', 'design', 'transition', 'operational', 'retired')),
    status           TEXT NOT NULL CHECK (status IN ('pipeline', 'catalogue', 'retired')),
    criticality      BIGINT NOT NULL CHECK (criticality BETWEEN 1 AND 4),
    owner_id         UUID REFERENCES person (id),
    sponsor_id       UUID REFERENCES person (id),
    requester_id     UUID REFERENCES person (id),
    design_group_id  UUID REFERENCES support_group (id),
    planned_cost     BIGINT,
    actual_cost      BIGINT,
    review_date      TEXT,
    -- The review date a reminder was last sent for.
    review_reminded  TEXT,
    design           JSONB NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    version          BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX service_name_key ON service (name_key);
CREATE INDEX service_status_stage ON service (status, stage, name_key, id);
CREATE INDEX service_review ON service (review_date);

CREATE TABLE service_customer (
    service_id      UUID NOT NULL REFERENCES service (id) ON DELETE CASCADE,
    organization_id UUID NOT NULL REFERENCES organization (id),
    PRIMARY KEY (service_id, organization_id)
);
CREATE INDEX service_customer_org ON service_customer (organization_id);

CREATE TABLE service_stage_move (
    id          UUID PRIMARY KEY,
    service_id  UUID NOT NULL REFERENCES service (id) ON DELETE CASCADE,
    from_stage  TEXT NOT NULL,
    to_stage    TEXT NOT NULL,
    actor_id    UUID,
    actor       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX service_stage_move_service ON service_stage_move (service_id, at);

-- Process-level roles: the owner and the manager of the service portfolio process.
CREATE TABLE process_role (
    process    TEXT NOT NULL,
    role       TEXT NOT NULL,
    person_id  UUID REFERENCES person (id),
    PRIMARY KEY (process, role)
);

CREATE TABLE service_offering (
    id                 UUID PRIMARY KEY,
    service_id         UUID NOT NULL REFERENCES service (id),
    name               TEXT NOT NULL,
    name_key           TEXT NOT NULL,
    description        TEXT NOT NULL DEFAULT '',
    availability_hours TEXT NOT NULL DEFAULT '',
    active             BOOLEAN NOT NULL DEFAULT FALSE,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    version            BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX service_offering_name_key ON service_offering (service_id, name_key);

CREATE TABLE ci_class (
    id          UUID PRIMARY KEY,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    builtin     BOOLEAN NOT NULL DEFAULT FALSE,
    attributes  JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX ci_class_code ON ci_class (code);

CREATE TABLE ci (
    id              UUID PRIMARY KEY,
    class_id        UUID NOT NULL REFERENCES ci_class (id),
    name            TEXT NOT NULL,
    name_key        TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('planned', 'in_build', 'operational', 'maintenance', 'retired')),
    owner_group_id  UUID REFERENCES support_group (id),
    location        TEXT NOT NULL DEFAULT '',
    serial          TEXT NOT NULL DEFAULT '',
    attributes      JSONB NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX ci_class_name ON ci (class_id, name_key);
CREATE INDEX ci_name ON ci (name_key, id);
CREATE INDEX ci_status_name ON ci (status, name_key, id);

CREATE TABLE ci_relationship (
    id          UUID PRIMARY KEY,
    source_id   UUID NOT NULL REFERENCES ci (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CHECK (kind IN ('depends_on', 'runs_on', 'hosted_on', 'connects_to', 'uses', 'member_of')),
    target_id   UUID NOT NULL REFERENCES ci (id) ON DELETE CASCADE,
    created_at  TIMESTAMPTZ NOT NULL,
    CHECK (source_id <> target_id)
);
CREATE UNIQUE INDEX ci_relationship_edge ON ci_relationship (source_id, kind, target_id);
CREATE INDEX ci_relationship_target ON ci_relationship (target_id, kind, source_id);

CREATE TABLE service_ci (
    service_id  UUID NOT NULL REFERENCES service (id) ON DELETE CASCADE,
    ci_id       UUID NOT NULL REFERENCES ci (id) ON DELETE CASCADE,
    PRIMARY KEY (service_id, ci_id)
);
CREATE INDEX service_ci_ci ON service_ci (ci_id);

CREATE TABLE offering_ci (
    offering_id UUID NOT NULL REFERENCES service_offering (id) ON DELETE CASCADE,
    ci_id       UUID NOT NULL REFERENCES ci (id) ON DELETE CASCADE,
    PRIMARY KEY (offering_id, ci_id)
);
CREATE INDEX offering_ci_ci ON offering_ci (ci_id);

CREATE TABLE project (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'in_progress', 'on_hold', 'completed', 'canceled')),
    start_date   TEXT,
    end_date     TEXT,
    budget       BIGINT,
    manager_id   UUID REFERENCES person (id),
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX project_name_key ON project (name_key);

CREATE TABLE project_service (
    project_id  UUID NOT NULL REFERENCES project (id) ON DELETE CASCADE,
    service_id  UUID NOT NULL REFERENCES service (id) ON DELETE CASCADE,
    PRIMARY KEY (project_id, service_id)
);
CREATE INDEX project_service_service ON project_service (service_id);

CREATE TABLE application (
    id                   UUID PRIMARY KEY,
    name                 TEXT NOT NULL,
    name_key             TEXT NOT NULL,
    description          TEXT NOT NULL DEFAULT '',
    app_function         TEXT NOT NULL DEFAULT '',
    status               TEXT NOT NULL CHECK (status IN ('planned', 'in_development', 'production', 'sunset', 'retired')),
    developing_group_id  UUID REFERENCES support_group (id),
    supporting_group_id  UUID REFERENCES support_group (id),
    created_at           TIMESTAMPTZ NOT NULL,
    updated_at           TIMESTAMPTZ NOT NULL,
    version              BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX application_name_key ON application (name_key);

CREATE TABLE application_ci (
    application_id UUID NOT NULL REFERENCES application (id) ON DELETE CASCADE,
    ci_id          UUID NOT NULL REFERENCES ci (id) ON DELETE CASCADE,
    PRIMARY KEY (application_id, ci_id)
);
CREATE INDEX application_ci_ci ON application_ci (ci_id);

CREATE TABLE application_service (
    application_id UUID NOT NULL REFERENCES application (id) ON DELETE CASCADE,
    service_id     UUID NOT NULL REFERENCES service (id) ON DELETE CASCADE,
    PRIMARY KEY (application_id, service_id)
);
CREATE INDEX application_service_service ON application_service (service_id);

CREATE TABLE notification (
    id          UUID PRIMARY KEY,
    person_id   UUID NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    link        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    read_at     TIMESTAMPTZ
);
CREATE INDEX notification_person ON notification (person_id, created_at);
