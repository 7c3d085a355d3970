-- Event management: the monitoring tools that send events (each with its own secret), every
-- event kept as received, alerts that events fold into by their key, and maintenance windows
-- that hold alerts back.

-- A monitoring tool sending events: a generic sender, Prometheus Alertmanager, Grafana or
-- Zabbix. It signs in with its secret (only its SHA-256 is kept).
CREATE TABLE event_integration (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    -- generic, alertmanager, grafana, zabbix
    kind          TEXT NOT NULL,
    secret_hash   TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    last_event_at INTEGER,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX event_integration_name ON event_integration (name);
CREATE UNIQUE INDEX event_integration_secret ON event_integration (secret_hash);

-- An alert: the events of one key (source and message key) while it goes on. A closed
-- alert's key may open a new alert; only one alert of a key is not closed.
CREATE TABLE alert (
    id               TEXT PRIMARY KEY,
    number           TEXT NOT NULL,
    source           TEXT NOT NULL,
    key              TEXT NOT NULL,
    -- open, acknowledged, flapping, closed
    state            TEXT NOT NULL,
    -- The latest event's severity (clear once it cleared).
    severity         TEXT NOT NULL,
    -- The worst severity it had.
    worst            TEXT NOT NULL,
    node             TEXT NOT NULL,
    resource         TEXT NOT NULL DEFAULT '',
    kind             TEXT NOT NULL DEFAULT '',
    metric           TEXT NOT NULL DEFAULT '',
    message          TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    ci_id            TEXT REFERENCES ci (id) ON DELETE SET NULL,
    incident_id      TEXT REFERENCES task (id) ON DELETE SET NULL,
    -- Alerts a sender grouped (Alertmanager's group key) share one incident.
    group_key        TEXT,
    -- The primary alert this one is correlated under.
    parent_id        TEXT REFERENCES alert (id) ON DELETE SET NULL,
    event_count      INTEGER NOT NULL DEFAULT 1,
    first_at         INTEGER NOT NULL,
    last_at          INTEGER NOT NULL,
    -- Flapping: the changes of state (on, off) counted since flap_since; the last change.
    flap_count       INTEGER NOT NULL DEFAULT 0,
    flap_since       INTEGER,
    state_changed_at INTEGER NOT NULL,
    -- Held back by a maintenance window (why, when it was).
    maintenance      TEXT,
    acknowledged_by  TEXT REFERENCES person (id),
    acknowledged_at  INTEGER,
    closed_at        INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX alert_number ON alert (number);
CREATE UNIQUE INDEX alert_active_key ON alert (source, key) WHERE state <> 'closed';
CREATE INDEX alert_key ON alert (source, key, last_at);
CREATE INDEX alert_state ON alert (state, last_at);
CREATE INDEX alert_incident ON alert (incident_id) WHERE incident_id IS NOT NULL;
CREATE INDEX alert_ci ON alert (ci_id, last_at) WHERE ci_id IS NOT NULL;
CREATE INDEX alert_parent ON alert (parent_id) WHERE parent_id IS NOT NULL;
CREATE INDEX alert_group ON alert (group_key) WHERE group_key IS NOT NULL;

-- Every event taken in, as parsed. The digest makes the same event sent again the one event.
CREATE TABLE event (
    id             TEXT PRIMARY KEY,
    digest         TEXT NOT NULL,
    -- Written before its alert (the event decides whether it is new): checked at commit.
    alert_id       TEXT REFERENCES alert (id) ON DELETE CASCADE DEFERRABLE INITIALLY DEFERRED,
    integration_id TEXT REFERENCES event_integration (id) ON DELETE SET NULL,
    received_at    INTEGER NOT NULL,
    time           INTEGER NOT NULL,
    source         TEXT NOT NULL,
    node           TEXT NOT NULL,
    resource       TEXT NOT NULL DEFAULT '',
    kind           TEXT NOT NULL DEFAULT '',
    metric         TEXT NOT NULL DEFAULT '',
    severity       TEXT NOT NULL,
    message        TEXT NOT NULL DEFAULT '',
    description    TEXT NOT NULL DEFAULT '',
    message_key    TEXT,
    additional     TEXT NOT NULL DEFAULT '{}',
    -- What it came to: alert (opened or updated one), cleared, dropped (by a rule),
    -- suppressed (maintenance), no_alert (a clear with nothing open)
    outcome        TEXT NOT NULL
);
CREATE UNIQUE INDEX event_digest ON event (digest);
CREATE INDEX event_alert ON event (alert_id, time);
CREATE INDEX event_received ON event (received_at);

-- A window in which alerts of a CI (or of a node by name) are held back: set by hand, or
-- taken from a scheduled change.
CREATE TABLE alert_maintenance (
    id          TEXT PRIMARY KEY,
    ci_id       TEXT REFERENCES ci (id) ON DELETE CASCADE,
    node        TEXT,
    starts_at   INTEGER NOT NULL,
    ends_at     INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    created_by  TEXT REFERENCES person (id),
    created_at  INTEGER NOT NULL
);
CREATE INDEX alert_maintenance_ends ON alert_maintenance (ends_at);
INSERT INTO number_seq (kind, next) VALUES ('ALT', 1) ON CONFLICT (kind) DO NOTHING;
