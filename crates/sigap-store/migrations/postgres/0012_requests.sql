-- Request fulfilment (issue 17): the service catalogue (categories, items on service
-- offerings with their form, approval rule and fulfilment plan), requests, requested items
-- and catalogue tasks on the task core, approvals (one mechanism for every process) with
-- delegation, and each person's manager. Keep in step with ../sqlite/0012_requests.sql.

-- A person's own tasks are those they are the caller of or opened (a requester's orders for
-- someone else): the opener's index beside the caller's.
CREATE INDEX task_opened_by ON task (opened_by_id, opened_at, id);

ALTER TABLE person ADD COLUMN manager_id UUID REFERENCES person (id);
CREATE INDEX person_manager ON person (manager_id) WHERE manager_id IS NOT NULL;

CREATE TABLE catalog_category (
    id           UUID PRIMARY KEY,
    name         TEXT NOT NULL,
    name_key     TEXT NOT NULL UNIQUE,
    -- Nested one level: a category with a parent has no children.
    parent_id    UUID REFERENCES catalog_category (id),
    description  TEXT NOT NULL DEFAULT '',
    ord          BIGINT NOT NULL DEFAULT 0,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    version      BIGINT NOT NULL DEFAULT 1
);

CREATE TABLE catalog_item (
    id                 UUID PRIMARY KEY,
    name               TEXT NOT NULL,
    name_key           TEXT NOT NULL UNIQUE,
    category_id        UUID REFERENCES catalog_category (id),
    offering_id        UUID NOT NULL REFERENCES service_offering (id),
    kind               TEXT NOT NULL,
    short_description  TEXT NOT NULL DEFAULT '',
    description        TEXT NOT NULL DEFAULT '',
    -- In the currency's smallest unit; the recurring price is per month.
    price              BIGINT NOT NULL DEFAULT 0,
    recurring_price    BIGINT NOT NULL DEFAULT 0,
    -- Expected delivery in business hours of the calendar (none: 24 × 7).
    delivery_hours     BIGINT,
    calendar_id        UUID REFERENCES calendar (id),
    -- JSON: who may order it, the variables, the approval stages, the fulfilment plan.
    audience           TEXT NOT NULL DEFAULT '{}',
    form               TEXT NOT NULL DEFAULT '[]',
    approval           TEXT NOT NULL DEFAULT '[]',
    plan               TEXT NOT NULL DEFAULT '[]',
    picture_type       TEXT,
    picture            BYTEA,
    active             BOOLEAN NOT NULL DEFAULT TRUE,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL,
    version            BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX catalog_item_category ON catalog_item (category_id, name_key);
CREATE INDEX catalog_item_offering ON catalog_item (offering_id);

-- A request (an order); its items are its child tasks.
CREATE TABLE request (
    task_id  UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    price    BIGINT NOT NULL DEFAULT 0,
    due_at   TIMESTAMPTZ
);

-- A requested item: the catalogue item, the form and answers as ordered, its approval.
CREATE TABLE request_item (
    task_id          UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    item_id          UUID NOT NULL REFERENCES catalog_item (id),
    item_kind        TEXT NOT NULL,
    quantity         BIGINT NOT NULL DEFAULT 1,
    price            BIGINT NOT NULL DEFAULT 0,
    recurring_price  BIGINT NOT NULL DEFAULT 0,
    form             TEXT NOT NULL DEFAULT '[]',
    answers          TEXT NOT NULL DEFAULT '[]',
    -- The names of the records the answers name (people, CIs), by variable.
    shown            TEXT NOT NULL DEFAULT '{}',
    approval_rule    TEXT NOT NULL DEFAULT '[]',
    -- not_required, requested, approved or rejected; the stage being asked.
    approval         TEXT NOT NULL,
    stage            BIGINT NOT NULL DEFAULT 0,
    delivery_hours   BIGINT,
    due_at           TIMESTAMPTZ,
    plan             TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX request_item_item ON request_item (item_id, task_id);

-- A catalogue task: one step of an item's plan; the same order runs in parallel.
CREATE TABLE catalog_task (
    task_id  UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    ord      BIGINT NOT NULL
);

-- One approver's approval of a task, by stage.
CREATE TABLE approval (
    id             UUID PRIMARY KEY,
    task_id        UUID NOT NULL REFERENCES task (id) ON DELETE CASCADE,
    stage          BIGINT NOT NULL,
    approver_id    UUID NOT NULL REFERENCES person (id),
    -- The group the approver was asked for, when the stage is a group's.
    group_id       UUID REFERENCES support_group (id),
    state          TEXT NOT NULL,
    asked_at       TIMESTAMPTZ NOT NULL,
    decided_at     TIMESTAMPTZ,
    decided_by_id  UUID REFERENCES person (id),
    comment        TEXT NOT NULL DEFAULT '',
    reminded_at    TIMESTAMPTZ
);
CREATE INDEX approval_task ON approval (task_id, stage);
CREATE INDEX approval_approver ON approval (approver_id, state, asked_at);
CREATE INDEX approval_waiting ON approval (asked_at) WHERE state = 'requested';

-- An approver away: `to_id` decides for `from_id` in the period.
CREATE TABLE approval_delegation (
    id          UUID PRIMARY KEY,
    from_id     UUID NOT NULL REFERENCES person (id),
    to_id       UUID NOT NULL REFERENCES person (id),
    starts      TIMESTAMPTZ NOT NULL,
    ends        TIMESTAMPTZ NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX approval_delegation_from ON approval_delegation (from_id, ends);
CREATE INDEX approval_delegation_to ON approval_delegation (to_id, ends);

-- A person's cart: items chosen with their answers, ordered together.
CREATE TABLE cart_line (
    id          UUID PRIMARY KEY,
    person_id   UUID NOT NULL REFERENCES person (id) ON DELETE CASCADE,
    item_id     UUID NOT NULL REFERENCES catalog_item (id) ON DELETE CASCADE,
    quantity    BIGINT NOT NULL DEFAULT 1,
    variables   TEXT NOT NULL DEFAULT '{}',
    added_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX cart_line_person ON cart_line (person_id, added_at);

-- A target that measures a requested item against the delivery time of its catalogue item
-- (its duration stays for tasks that have none).
ALTER TABLE sla_target ADD COLUMN delivery_time BOOLEAN NOT NULL DEFAULT FALSE;
