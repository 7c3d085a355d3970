//! Alerts as the desk works them: the console's list, an alert with its events and the
//! alerts correlated under it, and what an agent does with one (acknowledge, open an
//! incident, close).

use super::intake::{open_incident_for, write_alert};
use super::policy_in;
use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::principal::Ctx;
use jiff::Timestamp;
use serde_json::json;
use sigap_domain::event::{AlertState, Severity};
use sigap_domain::{AlertId, Role};
use sigap_store::Tx;
use sigap_store::events::{self as repo, Alert, AlertFilter, EventRow};

/// The most events an alert's page shows.
const TIMELINE: i64 = 200;

fn readers(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require(Role::Agent)
}

fn workers(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require(Role::Agent)?;
    if ctx.principal.can_write() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// What the console asks for.
#[derive(Debug, Clone, Default)]
pub struct AlertQuery {
    pub states: Vec<String>,
    pub severities: Vec<String>,
    pub source: Option<String>,
    pub node: Option<String>,
    pub primaries: bool,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// A page of alerts.
#[derive(Debug, Clone)]
pub struct AlertPage {
    pub items: Vec<Alert>,
    pub next_cursor: Option<String>,
}

fn cursor_of(a: &Alert) -> String {
    format!("{}.{}", a.last_at.as_microsecond(), a.id)
}

fn parse_cursor(c: &str) -> AppResult<(Timestamp, AlertId)> {
    let bad = || AppError::field("cursor", "invalid_cursor", "not a cursor this list gave");
    let (at, id) = c.trim().split_once('.').ok_or_else(bad)?;
    let at = at
        .parse::<i64>()
        .ok()
        .and_then(|m| Timestamp::from_microsecond(m).ok())
        .ok_or_else(bad)?;
    let id = AlertId::parse(id).ok_or_else(bad)?;
    Ok((at, id))
}

/// Alerts, those with the newest events first.
pub async fn alerts(core: &Core, ctx: &Ctx, q: AlertQuery) -> AppResult<AlertPage> {
    readers(ctx)?;
    let mut errs = crate::error::Errors::new();
    for s in &q.states {
        if let Err(e) = AlertState::parse(s) {
            errs.push(crate::FieldError::from_invalid("state", e));
        }
    }
    for s in &q.severities {
        if let Err(e) = Severity::parse(s) {
            errs.push(crate::FieldError::from_invalid("severity", e));
        }
    }
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        errs.push(crate::FieldError::new(
            "limit",
            "out_of_range",
            "must be 1 to 500",
        ));
    }
    let before = match &q.cursor {
        Some(c) => match parse_cursor(c) {
            Ok(b) => Some(b),
            Err(AppError::Validation(v)) => {
                for e in v {
                    errs.push(e);
                }
                None
            }
            Err(e) => return Err(e),
        },
        None => None,
    };
    errs.finish()?;
    let filter = AlertFilter {
        states: q.states,
        severities: q.severities,
        source: q.source,
        node: q.node,
        primaries: q.primaries,
        before,
        ..Default::default()
    };
    let mut items = core
        .store
        .read(async move |tx| Ok::<_, AppError>(repo::alerts(tx, &filter, limit + 1).await?))
        .await?;
    let more = items.len() > usize::try_from(limit).unwrap_or(0);
    items.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = if more {
        items.last().map(cursor_of)
    } else {
        None
    };
    Ok(AlertPage { items, next_cursor })
}

/// An alert with its events (newest first) and the alerts correlated under it.
#[derive(Debug, Clone)]
pub struct AlertDetail {
    pub alert: Alert,
    pub events: Vec<EventRow>,
    pub secondaries: Vec<Alert>,
}

async fn find(tx: &mut Tx<'_>, key: &str) -> AppResult<Alert> {
    let key = key.trim();
    let found = match AlertId::parse(key) {
        Some(id) => repo::alert(tx, id).await,
        None => repo::alert_by_number(tx, &key.to_ascii_uppercase()).await,
    };
    match found {
        Ok(a) => Ok(a),
        Err(sigap_store::StoreError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

pub async fn alert(core: &Core, ctx: &Ctx, key: &str) -> AppResult<AlertDetail> {
    readers(ctx)?;
    let key = key.to_owned();
    core.store
        .read(async move |tx| {
            let alert = find(tx, &key).await?;
            let events = repo::events_of(tx, alert.id, TIMELINE).await?;
            let secondaries = repo::secondaries(tx, alert.id).await?;
            Ok::<_, AppError>(AlertDetail {
                alert,
                events,
                secondaries,
            })
        })
        .await
}

/// What an agent does with an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertAction {
    /// Someone is on it: it stays, and opens no incident.
    Acknowledge,
    /// Opens an incident for it now (whatever its severity), unless it has one.
    OpenIncident,
    /// Closes it by hand.
    Close,
}

impl AlertAction {
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "acknowledge" => Some(AlertAction::Acknowledge),
            "open_incident" => Some(AlertAction::OpenIncident),
            "close" => Some(AlertAction::Close),
            _ => None,
        }
    }
    fn code(self) -> &'static str {
        match self {
            AlertAction::Acknowledge => "acknowledge",
            AlertAction::OpenIncident => "open_incident",
            AlertAction::Close => "close",
        }
    }
}

fn conflict(message: &str) -> AppError {
    AppError::Conflict {
        code: "invalid_transition",
        message: message.into(),
        field: None,
    }
}

/// Does an action on an alert (at `version` when given).
pub async fn act(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    action: AlertAction,
    version: Option<i64>,
) -> AppResult<AlertDetail> {
    workers(ctx)?;
    let (actor, now, k) = (Actor::of(ctx), core.now(), key.to_owned());
    let person = ctx.principal.person_id;
    let number = core
        .store
        .write(async move |tx| {
            let mut a = find(tx, &k).await?;
            if version.is_some_and(|v| v != a.version) {
                return Err(AppError::PreconditionFailed);
            }
            let before = a.state.clone();
            match action {
                AlertAction::Acknowledge => {
                    if a.state != AlertState::Open.code() && a.state != AlertState::Flapping.code()
                    {
                        return Err(conflict("only an open or flapping alert is acknowledged"));
                    }
                    a.state = AlertState::Acknowledged.code().to_owned();
                    a.acknowledged_by = person;
                    a.acknowledged_at = Some(now);
                    a.state_changed_at = now;
                }
                AlertAction::OpenIncident => {
                    if a.state == AlertState::Closed.code() {
                        return Err(conflict("a closed alert opens no incident"));
                    }
                    if a.incident_id.is_some() {
                        return Err(conflict("the alert has an incident"));
                    }
                    let severity = Severity::parse(&a.severity).unwrap_or(Severity::Major);
                    a.incident_id = Some(open_incident_for(tx, &a, severity, now).await?);
                }
                AlertAction::Close => {
                    if a.state == AlertState::Closed.code() {
                        return Err(conflict("the alert is closed"));
                    }
                    a.state = AlertState::Closed.code().to_owned();
                    a.closed_at = Some(now);
                    a.state_changed_at = now;
                }
            }
            a.updated_at = now;
            write_alert(tx, &a).await?;
            if action == AlertAction::Close {
                let policy = policy_in(tx).await?;
                let rules = super::rules::active_in(tx).await?;
                super::intake::settle(tx, &policy, &rules, a.id, now).await?;
            }
            audit::record(
                tx,
                &actor,
                now,
                "alert",
                &a.id.to_string(),
                "update",
                json!({"action": action.code(), "state": [before, a.state]}),
            )
            .await?;
            Ok::<_, AppError>(a.number)
        })
        .await?;
    alert(core, ctx, &number).await
}

/// Alerts going on, by state and severity (the console's counts, the metrics).
pub async fn counts(core: &Core, ctx: &Ctx) -> AppResult<Vec<(String, String, i64)>> {
    readers(ctx)?;
    core.store
        .read(async |tx| Ok::<_, AppError>(repo::alert_counts(tx).await?))
        .await
}

/// The alerts of an incident (for the incident's page).
pub async fn of_incident(
    core: &Core,
    ctx: &Ctx,
    incident: sigap_domain::TaskId,
) -> AppResult<Vec<Alert>> {
    readers(ctx)?;
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::alerts_of_incident(tx, incident).await?))
        .await
}

/// The events received most recently (for the rule editor's test and the console).
pub async fn recent_events(core: &Core, ctx: &Ctx, limit: i64) -> AppResult<Vec<EventRow>> {
    readers(ctx)?;
    let limit = limit.clamp(1, 500);
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::recent_events(tx, limit).await?))
        .await
}

/// Settles flapping alerts that have been quiet long enough (open again, or closed if the
/// last event cleared; then as any alert: an incident, or a resolution), and prunes the
/// events of long-closed alerts. The leader runs it periodically.
pub async fn sweep(core: &Core) -> AppResult<usize> {
    let now = core.now();
    let settled = core
        .store
        .write(async move |tx| {
            let policy = policy_in(tx).await?;
            let rules = super::rules::active_in(tx).await?;
            let mut n = 0;
            for mut a in repo::flapping(tx, 500).await? {
                if !policy.flap.settled(a.state_changed_at, now) {
                    continue;
                }
                let cleared = a.severity == Severity::Clear.code();
                a.state = if cleared {
                    AlertState::Closed
                } else {
                    AlertState::Open
                }
                .code()
                .to_owned();
                if cleared {
                    a.closed_at = Some(now);
                }
                a.flap_count = 0;
                a.flap_since = None;
                a.state_changed_at = now;
                a.updated_at = now;
                write_alert(tx, &a).await?;
                super::intake::settle(tx, &policy, &rules, a.id, now).await?;
                n += 1;
            }
            let keep = jiff::SignedDuration::from_hours(policy.retention_days.saturating_mul(24));
            let before = now.checked_sub(keep).unwrap_or(now);
            repo::prune_events(tx, before).await?;
            Ok::<_, AppError>(n)
        })
        .await?;
    // The alerts going on, by state, for /metrics (as of the last sweep).
    let counts = core
        .store
        .read(async |tx| Ok::<_, AppError>(repo::alert_counts(tx).await?))
        .await?;
    for state in ["open", "acknowledged", "flapping"] {
        let n: i64 = counts
            .iter()
            .filter(|(s, _, _)| s == state)
            .map(|(_, _, n)| n)
            .sum();
        metrics::gauge!("sigap_alerts_going_on", "state" => state).set(n as f64);
    }
    Ok(settled)
}
