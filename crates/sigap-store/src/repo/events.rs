//! Event management's tables: the integrations that send events, the events as received,
//! the alerts they fold into, and maintenance windows.

use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::{P, Row};
use jiff::Timestamp;
use sigap_domain::{AlertId, CiId, EventId, IntegrationId, MaintenanceWindowId, PersonId, TaskId};

// ----- alerts -----

/// An alert as stored, with the names of what it refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: AlertId,
    pub number: String,
    pub source: String,
    pub key: String,
    pub state: String,
    pub severity: String,
    pub worst: String,
    pub node: String,
    pub resource: String,
    pub kind: String,
    pub metric: String,
    pub message: String,
    pub description: String,
    pub ci_id: Option<CiId>,
    pub ci_name: Option<String>,
    pub incident_id: Option<TaskId>,
    pub incident_number: Option<String>,
    pub group_key: Option<String>,
    pub parent_id: Option<AlertId>,
    pub parent_number: Option<String>,
    pub event_count: i64,
    pub first_at: Timestamp,
    pub last_at: Timestamp,
    pub flap_count: i64,
    pub flap_since: Option<Timestamp>,
    pub state_changed_at: Timestamp,
    pub maintenance: Option<String>,
    pub acknowledged_by: Option<PersonId>,
    pub acknowledged_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
    /// Its newest event, from which its events are found backwards (`EventRow::previous_id`).
    pub last_event_id: Option<EventId>,
}

const ALERT_COLUMNS: &str = "a.id, a.number, a.source, a.key, a.state, a.severity, a.worst, a.node, \
    a.resource, a.kind, a.metric, a.message, a.description, a.ci_id, c.name, a.incident_id, t.number, \
    a.group_key, a.parent_id, p.number, a.event_count, a.first_at, a.last_at, a.flap_count, a.flap_since, \
    a.state_changed_at, a.maintenance, a.acknowledged_by, a.acknowledged_at, a.closed_at, a.created_at, \
    a.updated_at, a.version, a.last_event_id";
const ALERT_FROM: &str = "alert a LEFT JOIN ci c ON c.id = a.ci_id \
    LEFT JOIN task t ON t.id = a.incident_id LEFT JOIN alert p ON p.id = a.parent_id";

fn alert_row(r: &Row) -> StoreResult<Alert> {
    Ok(Alert {
        id: r.get(0)?,
        number: r.get(1)?,
        source: r.get(2)?,
        key: r.get(3)?,
        state: r.get(4)?,
        severity: r.get(5)?,
        worst: r.get(6)?,
        node: r.get(7)?,
        resource: r.get(8)?,
        kind: r.get(9)?,
        metric: r.get(10)?,
        message: r.get(11)?,
        description: r.get(12)?,
        ci_id: r.get(13)?,
        ci_name: r.get(14)?,
        incident_id: r.get(15)?,
        incident_number: r.get(16)?,
        group_key: r.get(17)?,
        parent_id: r.get(18)?,
        parent_number: r.get(19)?,
        event_count: r.get(20)?,
        first_at: r.get(21)?,
        last_at: r.get(22)?,
        flap_count: r.get(23)?,
        flap_since: r.get(24)?,
        state_changed_at: r.get(25)?,
        maintenance: r.get(26)?,
        acknowledged_by: r.get(27)?,
        acknowledged_at: r.get(28)?,
        closed_at: r.get(29)?,
        created_at: r.get(30)?,
        updated_at: r.get(31)?,
        version: r.get(32)?,
        last_event_id: r.get(33)?,
    })
}

async fn alert_where(tx: &mut Tx<'_>, cond: &str, params: &[P<'_>]) -> StoreResult<Vec<Alert>> {
    let sql = format!("SELECT {ALERT_COLUMNS} FROM {ALERT_FROM} WHERE {cond}");
    tx.query(&sql, params)
        .await?
        .iter()
        .map(alert_row)
        .collect()
}

pub async fn alert(tx: &mut Tx<'_>, id: AlertId) -> StoreResult<Alert> {
    alert_where(tx, "a.id = $1", &[id.into()])
        .await?
        .into_iter()
        .next()
        .ok_or(crate::StoreError::NotFound)
}

pub async fn alert_by_number(tx: &mut Tx<'_>, number: &str) -> StoreResult<Alert> {
    alert_where(tx, "a.number = $1", &[number.into()])
        .await?
        .into_iter()
        .next()
        .ok_or(crate::StoreError::NotFound)
}

/// The alerts of an incident.
pub async fn alerts_of_incident(tx: &mut Tx<'_>, incident: TaskId) -> StoreResult<Vec<Alert>> {
    alert_where(
        tx,
        "a.incident_id = $1 ORDER BY a.first_at, a.id",
        &[incident.into()],
    )
    .await
}

/// The alerts correlated under a primary alert.
pub async fn secondaries(tx: &mut Tx<'_>, primary: AlertId) -> StoreResult<Vec<Alert>> {
    alert_where(
        tx,
        "a.parent_id = $1 ORDER BY a.first_at, a.id",
        &[primary.into()],
    )
    .await
}

/// An alert of the group that is not closed and has an incident: the group's primary.
pub async fn group_primary(tx: &mut Tx<'_>, group_key: &str) -> StoreResult<Option<Alert>> {
    Ok(alert_where(
        tx,
        "a.group_key = $1 AND a.state <> 'closed' AND a.incident_id IS NOT NULL \
         ORDER BY a.first_at, a.id LIMIT 1",
        &[group_key.into()],
    )
    .await?
    .into_iter()
    .next())
}

/// The alert going on and not held back, first since `since`, on a CI related to `ci` in
/// the CMDB (either way), other than `not`: the oldest such.
pub async fn related_alert(
    tx: &mut Tx<'_>,
    ci: CiId,
    not: AlertId,
    since: Timestamp,
) -> StoreResult<Option<Alert>> {
    Ok(alert_where(
        tx,
        "a.state <> 'closed' AND a.maintenance IS NULL AND a.id <> $2 AND a.first_at >= $3 \
         AND a.ci_id IN (SELECT target_id FROM ci_relationship WHERE source_id = $1 \
          UNION SELECT source_id FROM ci_relationship WHERE target_id = $1) \
         ORDER BY a.first_at, a.id LIMIT 1",
        &[ci.into(), not.into(), since.into()],
    )
    .await?
    .into_iter()
    .next())
}

/// The flapping alerts.
pub async fn flapping(tx: &mut Tx<'_>, limit: i64) -> StoreResult<Vec<Alert>> {
    alert_where(
        tx,
        "a.state = 'flapping' ORDER BY a.state_changed_at LIMIT $1",
        &[limit.into()],
    )
    .await
}

/// Writes an alert's changing fields over the stored ones at `a.version`; whether it was
/// still at that version.
pub async fn update_alert(tx: &mut Tx<'_>, a: &Alert) -> StoreResult<bool> {
    Ok(update_alerts(tx, &[a]).await? == 1)
}

/// Acknowledges an incident's open alerts (the incident was resolved); how many.
pub async fn acknowledge_for_incident(
    tx: &mut Tx<'_>,
    incident: TaskId,
    by: Option<PersonId>,
    now: Timestamp,
) -> StoreResult<u64> {
    tx.execute(
        "UPDATE alert SET state = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3, \
         state_changed_at = $3, updated_at = $3, version = version + 1 \
         WHERE incident_id = $1 AND state = 'open'",
        &[incident.into(), by.into(), now.into()],
    )
    .await
}

/// Which alerts to list.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    pub states: Vec<String>,
    pub severities: Vec<String>,
    pub source: Option<String>,
    pub node: Option<String>,
    pub ci_id: Option<CiId>,
    pub incident_id: Option<TaskId>,
    /// Only primaries (no correlated secondaries).
    pub primaries: bool,
    /// Newest first (by the last event), before this (last at, id).
    pub before: Option<(Timestamp, AlertId)>,
}

/// Alerts, those with the newest events first, at most `limit`.
pub async fn alerts(tx: &mut Tx<'_>, f: &AlertFilter, limit: i64) -> StoreResult<Vec<Alert>> {
    let mut sql = format!("SELECT {ALERT_COLUMNS} FROM {ALERT_FROM} WHERE 1 = 1");
    let mut params: Vec<P<'_>> = Vec::new();
    for (col, values) in [("a.state", &f.states), ("a.severity", &f.severities)] {
        if values.is_empty() {
            continue;
        }
        let mut marks = Vec::new();
        for v in values {
            params.push(v.as_str().into());
            marks.push(format!("${}", params.len()));
        }
        sql.push_str(&format!(" AND {col} IN ({})", marks.join(", ")));
    }
    if let Some(s) = &f.source {
        params.push(s.as_str().into());
        sql.push_str(&format!(" AND a.source = ${}", params.len()));
    }
    if let Some(n) = &f.node {
        params.push(n.as_str().into());
        sql.push_str(&format!(" AND a.node = ${}", params.len()));
    }
    if let Some(c) = f.ci_id {
        params.push(c.into());
        sql.push_str(&format!(" AND a.ci_id = ${}", params.len()));
    }
    if let Some(t) = f.incident_id {
        params.push(t.into());
        sql.push_str(&format!(" AND a.incident_id = ${}", params.len()));
    }
    if f.primaries {
        sql.push_str(" AND a.parent_id IS NULL");
    }
    if let Some((at, id)) = f.before {
        params.push(at.into());
        params.push(id.into());
        sql.push_str(&format!(
            " AND (a.last_at < ${} OR (a.last_at = ${} AND a.id < ${}))",
            params.len() - 1,
            params.len() - 1,
            params.len()
        ));
    }
    params.push(limit.into());
    sql.push_str(&format!(
        " ORDER BY a.last_at DESC, a.id DESC LIMIT ${}",
        params.len()
    ));
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(alert_row)
        .collect()
}

/// Alerts by state, for the console and the metrics.
pub async fn alert_counts(tx: &mut Tx<'_>) -> StoreResult<Vec<(String, String, i64)>> {
    tx.query(
        "SELECT state, severity, COUNT(*) FROM alert WHERE state <> 'closed' \
         GROUP BY state, severity ORDER BY state, severity",
        &[],
    )
    .await?
    .iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .collect()
}

// ----- events -----

/// An event as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRow {
    pub id: EventId,
    pub digest: String,
    pub alert_id: Option<AlertId>,
    pub integration_id: Option<IntegrationId>,
    pub received_at: Timestamp,
    pub time: Timestamp,
    pub source: String,
    pub node: String,
    pub resource: String,
    pub kind: String,
    pub metric: String,
    pub severity: String,
    pub message: String,
    pub description: String,
    pub message_key: Option<String>,
    pub additional: serde_json::Value,
    pub outcome: String,
    /// The event before it of the same alert (none for an alert's first).
    pub previous_id: Option<EventId>,
}

const EVENT_COLUMNS: &str = "id, digest, alert_id, integration_id, received_at, time, source, node, \
    resource, kind, metric, severity, message, description, message_key, additional, outcome, previous_id";

fn event_row(r: &Row) -> StoreResult<EventRow> {
    Ok(EventRow {
        id: r.get(0)?,
        digest: r.get(1)?,
        alert_id: r.get(2)?,
        integration_id: r.get(3)?,
        received_at: r.get(4)?,
        time: r.get(5)?,
        source: r.get(6)?,
        node: r.get(7)?,
        resource: r.get(8)?,
        kind: r.get(9)?,
        metric: r.get(10)?,
        severity: r.get(11)?,
        message: r.get(12)?,
        description: r.get(13)?,
        message_key: r.get(14)?,
        additional: r.get(15)?,
        outcome: r.get(16)?,
        previous_id: r.get(17)?,
    })
}

/// An alert's latest events (at most `limit`, by when they came), newest first: from its
/// last event backwards, each event naming the one before it.
pub async fn events_of(tx: &mut Tx<'_>, alert: AlertId, limit: i64) -> StoreResult<Vec<EventRow>> {
    tx.query(
        &format!(
            "WITH RECURSIVE chain (id, n) AS ( \
               SELECT last_event_id, CAST(1 AS BIGINT) FROM alert \
               WHERE id = $1 AND last_event_id IS NOT NULL \
               UNION ALL \
               SELECT e.previous_id, c.n + 1 FROM chain c JOIN event e ON e.id = c.id \
               WHERE e.previous_id IS NOT NULL AND c.n < $2) \
             SELECT {EVENT_COLUMNS} FROM event WHERE id IN (SELECT id FROM chain) \
             ORDER BY time DESC, id DESC"
        ),
        &[alert.into(), limit.into()],
    )
    .await?
    .iter()
    .map(event_row)
    .collect()
}

/// The newest events received, at most `limit`.
pub async fn recent_events(tx: &mut Tx<'_>, limit: i64) -> StoreResult<Vec<EventRow>> {
    tx.query(
        &format!("SELECT {EVENT_COLUMNS} FROM event ORDER BY received_at DESC, id DESC LIMIT $1"),
        &[limit.into()],
    )
    .await?
    .iter()
    .map(event_row)
    .collect()
}

/// Deletes the events received before `before` whose alert is closed or that have none
/// (old history); how many.
pub async fn prune_events(tx: &mut Tx<'_>, before: Timestamp) -> StoreResult<u64> {
    tx.execute(
        "DELETE FROM event WHERE received_at < $1 AND (alert_id IS NULL OR alert_id IN \
         (SELECT id FROM alert WHERE state = 'closed'))",
        &[before.into()],
    )
    .await
}

// ----- what events refer to -----

/// The criticality of the most critical of these services that is active, if any.
pub async fn most_critical(
    tx: &mut Tx<'_>,
    services: &[sigap_domain::ServiceId],
) -> StoreResult<Option<sigap_domain::Criticality>> {
    if services.is_empty() {
        return Ok(None);
    }
    let list = serde_json::Value::from(services.iter().map(|s| s.to_string()).collect::<Vec<_>>());
    let sql = format!(
        "SELECT MIN(s.criticality) FROM service s WHERE {} AND s.status <> 'retired'",
        super::in_json(tx.dialect(), "s.id", "$1")
    );
    let row = tx.query_one(&sql, &[(&list).into()]).await?;
    let c: Option<i64> = row.get(0)?;
    Ok(c.and_then(|c| sigap_domain::Criticality::parse(c).ok()))
}

// ----- integrations -----

/// A monitoring tool that sends events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Integration {
    pub id: IntegrationId,
    pub name: String,
    pub kind: String,
    pub active: bool,
    pub last_event_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

const INTEGRATION_COLUMNS: &str =
    "id, name, kind, active, last_event_at, created_at, updated_at, version";

fn integration_row(r: &Row) -> StoreResult<Integration> {
    Ok(Integration {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        active: r.get(3)?,
        last_event_at: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        version: r.get(7)?,
    })
}

pub async fn insert_integration(
    tx: &mut Tx<'_>,
    i: &Integration,
    secret_hash: &str,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO event_integration (id, name, kind, secret_hash, active, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, 1)",
        &[
            i.id.into(),
            i.name.as_str().into(),
            i.kind.as_str().into(),
            secret_hash.into(),
            i.active.into(),
            i.created_at.into(),
        ],
    )
    .await?;
    Ok(())
}

pub async fn integrations(tx: &mut Tx<'_>) -> StoreResult<Vec<Integration>> {
    tx.query(
        &format!("SELECT {INTEGRATION_COLUMNS} FROM event_integration ORDER BY name"),
        &[],
    )
    .await?
    .iter()
    .map(integration_row)
    .collect()
}

pub async fn integration(tx: &mut Tx<'_>, id: IntegrationId) -> StoreResult<Integration> {
    tx.query_one(
        &format!("SELECT {INTEGRATION_COLUMNS} FROM event_integration WHERE id = $1"),
        &[id.into()],
    )
    .await
    .and_then(|r| integration_row(&r))
}

/// The active integration a secret belongs to.
pub async fn integration_by_secret(
    tx: &mut Tx<'_>,
    secret_hash: &str,
) -> StoreResult<Option<Integration>> {
    tx.query_opt(
        &format!(
            "SELECT {INTEGRATION_COLUMNS} FROM event_integration WHERE secret_hash = $1 AND active"
        ),
        &[secret_hash.into()],
    )
    .await?
    .map(|r| integration_row(&r))
    .transpose()
}

/// Changes an integration's name and whether it is active, and its secret when given.
pub async fn update_integration(
    tx: &mut Tx<'_>,
    i: &Integration,
    secret_hash: Option<&str>,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE event_integration SET name = $2, active = $3, secret_hash = COALESCE($4, secret_hash), \
             updated_at = $5, version = version + 1 WHERE id = $1 AND version = $6",
            &[
                i.id.into(),
                i.name.as_str().into(),
                i.active.into(),
                secret_hash.into(),
                i.updated_at.into(),
                i.version.into(),
            ],
        )
        .await?;
    Ok(n == 1)
}

pub async fn delete_integration(tx: &mut Tx<'_>, id: IntegrationId) -> StoreResult<bool> {
    Ok(tx
        .execute("DELETE FROM event_integration WHERE id = $1", &[id.into()])
        .await?
        > 0)
}

/// Records when an integration last sent.
pub async fn touch_integration(
    tx: &mut Tx<'_>,
    id: IntegrationId,
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE event_integration SET last_event_at = $2 WHERE id = $1",
        &[id.into(), now.into()],
    )
    .await?;
    Ok(())
}

// ----- maintenance windows -----

/// A maintenance window set by hand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceWindow {
    pub id: MaintenanceWindowId,
    pub ci_id: Option<CiId>,
    pub ci_name: Option<String>,
    pub node: Option<String>,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub reason: String,
    pub created_by: Option<PersonId>,
    pub created_at: Timestamp,
}

pub async fn insert_window(tx: &mut Tx<'_>, w: &MaintenanceWindow) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO alert_maintenance (id, ci_id, node, starts_at, ends_at, reason, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            w.id.into(),
            w.ci_id.into(),
            w.node.as_deref().into(),
            w.starts_at.into(),
            w.ends_at.into(),
            w.reason.as_str().into(),
            w.created_by.into(),
            w.created_at.into(),
        ],
    )
    .await?;
    Ok(())
}

pub async fn delete_window(tx: &mut Tx<'_>, id: MaintenanceWindowId) -> StoreResult<bool> {
    Ok(tx
        .execute("DELETE FROM alert_maintenance WHERE id = $1", &[id.into()])
        .await?
        > 0)
}

// ----- a batch of events at once -----

/// The alerts of the batch as bare rows (no names of what they refer to: intake needs none).
const ALERT_BARE_COLUMNS: &str = "a.id, a.number, a.source, a.key, a.state, a.severity, a.worst, a.node, \
    a.resource, a.kind, a.metric, a.message, a.description, a.ci_id, CAST(NULL AS TEXT), a.incident_id, \
    CAST(NULL AS TEXT), a.group_key, a.parent_id, CAST(NULL AS TEXT), a.event_count, a.first_at, a.last_at, \
    a.flap_count, a.flap_since, a.state_changed_at, a.maintenance, a.acknowledged_by, a.acknowledged_at, \
    a.closed_at, a.created_at, a.updated_at, a.version, a.last_event_id";

/// `(source, key)` pairs as one JSON parameter: an array of two-element arrays.
fn key_list(keys: &[(&str, &str)]) -> serde_json::Value {
    serde_json::Value::Array(
        keys.iter()
            .map(|(s, k)| serde_json::json!([s, k]))
            .collect(),
    )
}

/// The rows of a JSON array parameter `$1` as `j`, with `{s}` and `{k}` the first and second
/// element of each (an array of pairs), in each dialect.
fn pairs_from(tx: &Tx<'_>) -> (&'static str, &'static str, &'static str) {
    match tx.dialect() {
        crate::tx::Dialect::Sqlite => ("json_each($1) j", "j.value ->> 0", "j.value ->> 1"),
        crate::tx::Dialect::Postgres => ("jsonb_array_elements($1::jsonb) j", "j ->> 0", "j ->> 1"),
    }
}

/// The texts of a JSON array parameter `$1` as `j`, and the text of each, in each dialect.
fn texts_from(tx: &Tx<'_>) -> (&'static str, &'static str) {
    match tx.dialect() {
        crate::tx::Dialect::Sqlite => ("json_each($1) j", "j.value"),
        crate::tx::Dialect::Postgres => ("jsonb_array_elements_text($1::jsonb) j(v)", "j.v"),
    }
}

/// The alerts going on (not closed) of these keys, locked for the caller's transaction on
/// PostgreSQL, in the order of their ids: two batches on the same alerts take turns
/// instead of colliding (SQLite has one writer).
pub async fn active_alerts(tx: &mut Tx<'_>, keys: &[(&str, &str)]) -> StoreResult<Vec<Alert>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let sql = match tx.dialect() {
        crate::tx::Dialect::Sqlite => format!(
            "SELECT {ALERT_BARE_COLUMNS} FROM json_each($1) j JOIN alert a \
             ON a.source = j.value ->> 0 AND a.key = j.value ->> 1 WHERE a.state <> 'closed'"
        ),
        // A lookup by the index for each key (the planner, misled by a young table's
        // statistics, would scan all alerts for a join), each locked as it is found: in the
        // keys' sorted order, so that two batches lock in the same order.
        crate::tx::Dialect::Postgres => format!(
            "SELECT a.* FROM (SELECT j ->> 0 AS s, j ->> 1 AS k FROM jsonb_array_elements($1::jsonb) j \
             ORDER BY 1, 2) j, LATERAL (SELECT {ALERT_BARE_COLUMNS} FROM alert a \
             WHERE a.source = j.s AND a.key = j.k AND a.state <> 'closed' LIMIT 1 FOR UPDATE) a"
        ),
    };
    let list = key_list(keys);
    tx.query(&sql, &[(&list).into()])
        .await?
        .iter()
        .map(alert_row)
        .collect()
}

/// The newest closed alert of each of these keys that has one.
pub async fn last_closed_alerts(tx: &mut Tx<'_>, keys: &[(&str, &str)]) -> StoreResult<Vec<Alert>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let (from, s, k) = pairs_from(tx);
    let sql = format!(
        "SELECT {ALERT_BARE_COLUMNS} FROM {from} JOIN alert a ON a.id = \
         (SELECT x.id FROM alert x WHERE x.source = {s} AND x.key = {k} AND x.state = 'closed' \
          ORDER BY x.last_at DESC LIMIT 1)"
    );
    let list = key_list(keys);
    tx.query(&sql, &[(&list).into()])
        .await?
        .iter()
        .map(alert_row)
        .collect()
}

/// Of these digests, those kept already, each with the number of its event's alert (if it
/// had one).
pub async fn known_digests(
    tx: &mut Tx<'_>,
    digests: &[&str],
) -> StoreResult<Vec<(String, Option<String>)>> {
    if digests.is_empty() {
        return Ok(Vec::new());
    }
    let sql = match tx.dialect() {
        crate::tx::Dialect::Sqlite => {
            "SELECT e.digest, a.number FROM json_each($1) j JOIN event e ON e.digest = j.value \
             LEFT JOIN alert a ON a.id = e.alert_id"
        }
        // A lookup by the index for each digest (see `active_alerts`).
        crate::tx::Dialect::Postgres => {
            "SELECT x.digest, x.number FROM jsonb_array_elements_text($1::jsonb) j(v), \
             LATERAL (SELECT e.digest, a.number FROM event e LEFT JOIN alert a ON a.id = e.alert_id \
             WHERE e.digest = j.v LIMIT 1) x"
        }
    };
    let list = serde_json::Value::from(digests.to_vec());
    tx.query(sql, &[(&list).into()])
        .await?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect()
}

/// The CI each of these node names is (by name, retired ones aside), for those that are one.
pub async fn cis_by_names(tx: &mut Tx<'_>, names: &[&str]) -> StoreResult<Vec<(String, CiId)>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = names.iter().map(|n| super::name_key(n)).collect();
    let (from, v) = texts_from(tx);
    let sql = format!(
        "SELECT {v}, (SELECT c.id FROM ci c WHERE c.name_key = {v} AND c.status <> 'retired' \
         ORDER BY c.id LIMIT 1) FROM {from}"
    );
    let list = serde_json::Value::from(keys);
    let mut out = Vec::new();
    for r in tx.query(&sql, &[(&list).into()]).await? {
        if let Some(id) = r.get::<Option<CiId>>(1)? {
            out.push((r.get(0)?, id));
        }
    }
    Ok(out)
}

const EVENT_INSERT: &str = "INSERT INTO event (id, digest, alert_id, integration_id, received_at, \
    time, source, node, resource, kind, metric, severity, message, description, message_key, \
    additional, outcome, previous_id) VALUES ";

fn event_params<'a>(e: &'a EventRow, out: &mut Vec<P<'a>>) {
    out.extend::<[P<'a>; _]>([
        e.id.into(),
        e.digest.as_str().into(),
        e.alert_id.into(),
        e.integration_id.into(),
        e.received_at.into(),
        e.time.into(),
        e.source.as_str().into(),
        e.node.as_str().into(),
        e.resource.as_str().into(),
        e.kind.as_str().into(),
        e.metric.as_str().into(),
        e.severity.as_str().into(),
        e.message.as_str().into(),
        e.description.as_str().into(),
        e.message_key.as_deref().into(),
        (&e.additional).into(),
        e.outcome.as_str().into(),
        e.previous_id.into(),
    ]);
}

/// Keeps events, each unless one of its digest is kept already: how many were kept. (On
/// PostgreSQL a second transaction keeping the same digest waits for the first.)
pub async fn insert_events(tx: &mut Tx<'_>, rows: &[EventRow]) -> StoreResult<u64> {
    super::rows_returning(
        tx,
        EVENT_INSERT,
        " ON CONFLICT (digest) DO NOTHING RETURNING id",
        rows,
        18,
        event_params,
    )
    .await
}

const ALERT_INSERT: &str = "INSERT INTO alert (id, number, source, key, state, severity, worst, node, \
    resource, kind, metric, message, description, ci_id, incident_id, group_key, parent_id, \
    event_count, first_at, last_at, flap_count, flap_since, state_changed_at, maintenance, \
    acknowledged_by, acknowledged_at, closed_at, created_at, updated_at, version, last_event_id) VALUES ";

fn alert_params<'a>(a: &'a Alert, out: &mut Vec<P<'a>>) {
    out.extend::<[P<'a>; _]>([
        a.id.into(),
        a.number.as_str().into(),
        a.source.as_str().into(),
        a.key.as_str().into(),
        a.state.as_str().into(),
        a.severity.as_str().into(),
        a.worst.as_str().into(),
        a.node.as_str().into(),
        a.resource.as_str().into(),
        a.kind.as_str().into(),
        a.metric.as_str().into(),
        a.message.as_str().into(),
        a.description.as_str().into(),
        a.ci_id.into(),
        a.incident_id.into(),
        a.group_key.as_deref().into(),
        a.parent_id.into(),
        a.event_count.into(),
        a.first_at.into(),
        a.last_at.into(),
        a.flap_count.into(),
        a.flap_since.into(),
        a.state_changed_at.into(),
        a.maintenance.as_deref().into(),
        a.acknowledged_by.into(),
        a.acknowledged_at.into(),
        a.closed_at.into(),
        a.created_at.into(),
        a.updated_at.into(),
        a.version.into(),
        a.last_event_id.into(),
    ]);
}

/// Writes new alerts, each unless it collides with one written meanwhile (an alert of its
/// key going on, on PostgreSQL): how many were written.
pub async fn insert_alerts(tx: &mut Tx<'_>, alerts: &[&Alert]) -> StoreResult<u64> {
    super::rows_returning(
        tx,
        ALERT_INSERT,
        " ON CONFLICT DO NOTHING RETURNING id",
        alerts,
        31,
        |a, out| alert_params(a, out),
    )
    .await
}

/// Writes alerts' changing fields over the stored ones, each only if still at its
/// `version`: how many were.
pub async fn update_alerts(tx: &mut Tx<'_>, alerts: &[&Alert]) -> StoreResult<u64> {
    // A row of every column for each, whose id is taken: an update of many rows in one
    // statement that both engines write alike.
    super::rows_returning(
        tx,
        ALERT_INSERT,
        " ON CONFLICT (id) DO UPDATE SET state = excluded.state, severity = excluded.severity, \
         worst = excluded.worst, message = excluded.message, description = excluded.description, \
         ci_id = excluded.ci_id, incident_id = excluded.incident_id, group_key = excluded.group_key, \
         parent_id = excluded.parent_id, event_count = excluded.event_count, \
         last_at = excluded.last_at, flap_count = excluded.flap_count, \
         flap_since = excluded.flap_since, state_changed_at = excluded.state_changed_at, \
         maintenance = excluded.maintenance, acknowledged_by = excluded.acknowledged_by, \
         acknowledged_at = excluded.acknowledged_at, closed_at = excluded.closed_at, \
         updated_at = excluded.updated_at, last_event_id = excluded.last_event_id, \
         version = alert.version + 1 \
         WHERE alert.version = excluded.version RETURNING id",
        alerts,
        31,
        |a, out| alert_params(a, out),
    )
    .await
}

/// Writes what folding events into alerts changes and nothing else (`Alert::only_folded_since`):
/// severity, words, count, last event. Each only if still at its `version`: how many were.
/// Narrower than `update_alerts`, which rewrites the entries of every index on a column it
/// sets, whether or not the value changed (and on SQLite tries an insert first).
pub async fn update_folded(tx: &mut Tx<'_>, alerts: &[&Alert]) -> StoreResult<u64> {
    super::rows_from_values(
        tx,
        "UPDATE alert SET severity = v.column2, worst = v.column3, message = v.column4, \
         description = v.column5, event_count = v.column6, last_at = v.column7, \
         updated_at = v.column8, last_event_id = v.column9, version = alert.version + 1 \
         FROM (VALUES ",
        ") AS v WHERE alert.id = v.column1 AND alert.version = v.column10 RETURNING alert.id",
        alerts,
        &[
            "uuid",
            "text",
            "text",
            "text",
            "text",
            "bigint",
            "timestamptz",
            "timestamptz",
            "uuid",
            "bigint",
        ],
        |a, out| {
            out.extend::<[P<'_>; _]>([
                a.id.into(),
                a.severity.as_str().into(),
                a.worst.as_str().into(),
                a.message.as_str().into(),
                a.description.as_str().into(),
                a.event_count.into(),
                a.last_at.into(),
                a.updated_at.into(),
                a.last_event_id.into(),
                a.version.into(),
            ])
        },
    )
    .await
}

impl Alert {
    /// Whether, of what was stored (`before`), only what `update_folded` writes changed.
    pub fn only_folded_since(&self, before: &Alert) -> bool {
        // Every field named (no `..`): a field added to alerts must be placed here.
        let Alert {
            id,
            number,
            source,
            key,
            state,
            severity: _,
            worst: _,
            node,
            resource,
            kind,
            metric,
            message: _,
            description: _,
            ci_id,
            ci_name: _,
            incident_id,
            incident_number: _,
            group_key,
            parent_id,
            parent_number: _,
            event_count: _,
            first_at,
            last_at: _,
            flap_count,
            flap_since,
            state_changed_at,
            maintenance,
            acknowledged_by,
            acknowledged_at,
            closed_at,
            created_at,
            updated_at: _,
            version,
            last_event_id: _,
        } = self;
        *id == before.id
            && *number == before.number
            && *source == before.source
            && *key == before.key
            && *state == before.state
            && *node == before.node
            && *resource == before.resource
            && *kind == before.kind
            && *metric == before.metric
            && *ci_id == before.ci_id
            && *incident_id == before.incident_id
            && *group_key == before.group_key
            && *parent_id == before.parent_id
            && *first_at == before.first_at
            && *flap_count == before.flap_count
            && *flap_since == before.flap_since
            && *state_changed_at == before.state_changed_at
            && *maintenance == before.maintenance
            && *acknowledged_by == before.acknowledged_by
            && *acknowledged_at == before.acknowledged_at
            && *closed_at == before.closed_at
            && *created_at == before.created_at
            && *version == before.version
    }
}

/// What holds alerts back at one moment: the maintenance windows on, and the scheduled
/// changes whose window is on, each with the CIs it names.
#[derive(Debug, Clone, Default)]
pub struct Maintenance {
    /// Windows set by hand, earliest first: a CI, a node (its name key), why.
    windows: Vec<(Option<CiId>, Option<String>, String)>,
    /// Changes, earliest first: a CI of the change, its number.
    changes: Vec<(CiId, String)>,
}

impl Maintenance {
    /// What holds alerts back at `now`.
    pub async fn at(tx: &mut Tx<'_>, now: Timestamp) -> StoreResult<Self> {
        let windows = tx
            .query(
                "SELECT ci_id, node, reason FROM alert_maintenance \
                 WHERE starts_at <= $1 AND ends_at > $1 ORDER BY starts_at, id",
                &[now.into()],
            )
            .await?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .collect::<StoreResult<_>>()?;
        let changes = tx
            .query(
                "SELECT x.ci_id, t.number FROM change_ci x JOIN task t ON t.id = x.change_id \
                 JOIN change_request c ON c.task_id = t.id \
                 WHERE t.state IN ('scheduled', 'implement') \
                 AND c.planned_start <= $1 AND c.planned_end > $1 ORDER BY c.planned_start, t.id",
                &[now.into()],
            )
            .await?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .collect::<StoreResult<_>>()?;
        Ok(Self { windows, changes })
    }

    /// Why alerts of a CI or node are held back, if they are: a window set by hand on either,
    /// or else a scheduled change on the CI.
    pub fn reason(&self, ci: Option<CiId>, node: &str) -> Option<String> {
        let node = super::name_key(node);
        let window = self.windows.iter().find(|(c, n, _)| {
            (ci.is_some() && *c == ci) || n.as_deref().is_some_and(|n| n == node)
        });
        if let Some((_, _, why)) = window {
            return Some(why.clone());
        }
        let ci = ci?;
        self.changes
            .iter()
            .find(|(c, _)| *c == ci)
            .map(|(_, number)| format!("change {number}"))
    }
}
