-- Event rules, applied in their position's order: ignore, transform, bind and incident rules
-- (sigap_domain::event::rules). The definition is the rule's conditions and action, as JSON.
CREATE TABLE event_rule (
    id          UUID PRIMARY KEY,
    name        TEXT NOT NULL,
    -- ignore, transform, bind, incident
    kind        TEXT NOT NULL,
    position    BIGINT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    description TEXT NOT NULL DEFAULT '',
    definition  JSONB NOT NULL,
    -- How many events or alerts it matched, and when last.
    hits        BIGINT NOT NULL DEFAULT 0,
    last_hit_at TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    version     BIGINT NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX event_rule_name ON event_rule (name);
CREATE INDEX event_rule_position ON event_rule (position, name);
