-- Event rules, applied in their position's order: ignore, transform, bind and incident rules
-- (sigap_domain::event::rules). The definition is the rule's conditions and action, as JSON.
CREATE TABLE event_rule (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    -- ignore, transform, bind, incident
    kind        TEXT NOT NULL,
    position    INTEGER NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1,
    description TEXT NOT NULL DEFAULT '',
    definition  TEXT NOT NULL,
    -- How many events or alerts it matched, and when last.
    hits        INTEGER NOT NULL DEFAULT 0,
    last_hit_at INTEGER,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX event_rule_name ON event_rule (name);
CREATE INDEX event_rule_position ON event_rule (position, name);
