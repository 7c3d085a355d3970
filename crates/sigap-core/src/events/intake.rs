//! Taking events in: each parsed on its own (a bad one is refused with its reasons, the
//! others kept), the valid ones of a request kept in one transaction, each folded into its
//! alert, and the alert's incident opened or resolved.

use super::{Policy, policy_in};
use crate::Core;
use crate::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::incidents::{Action as IncidentAction, IncidentInput};
use crate::principal::{AuthMethod, Ctx, Principal};
use crate::task::{self, TaskInput};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sigap_domain::event::{AlertState, Event, EventError, Flaps, MAX_BATCH, Severity};
use sigap_domain::process::incident::IncidentState;
use sigap_domain::task::{ContactType, Priority, StateModel};
use sigap_domain::{AlertId, EventId, IntegrationId, Role, TaskId};
use sigap_store::Tx;
use sigap_store::events::{self as repo, Alert, EventRow};
use sigap_store::incidents::IncidentExt;
use sigap_store::task::{RecordFields, TaskFields};

/// What became of one event of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Taken {
    /// Folded into an alert (its number), which it opened when `opened`.
    Alert { alert: String, opened: bool },
    /// Closed its alert.
    Cleared { alert: String },
    /// A clear with no alert going on: kept, nothing to close.
    NothingToClear,
    /// Sent before: the one event (its alert, if it had one).
    Duplicate { alert: Option<String> },
    /// Refused, with every field in error.
    Refused(Vec<EventError>),
}

/// What a request of events came to, in the order sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Intake {
    pub results: Vec<Taken>,
}

impl Intake {
    pub fn accepted(&self) -> usize {
        self.results
            .iter()
            .filter(|t| !matches!(t, Taken::Refused(_) | Taken::Duplicate { .. }))
            .count()
    }
    pub fn duplicates(&self) -> usize {
        self.results
            .iter()
            .filter(|t| matches!(t, Taken::Duplicate { .. }))
            .count()
    }
    pub fn refused(&self) -> usize {
        self.results
            .iter()
            .filter(|t| matches!(t, Taken::Refused(_)))
            .count()
    }
}

/// Who may send events: agents, and integrations by their secret.
fn sender(ctx: &Ctx) -> AppResult<Option<IntegrationId>> {
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    match &ctx.principal.method {
        AuthMethod::Integration { id } => Ok(Some(*id)),
        _ => {
            ctx.principal.require(Role::Agent)?;
            Ok(None)
        }
    }
}

/// Takes in the events of one request (at most `MAX_BATCH`). `group` is the sender's group
/// of them (Alertmanager's group key): the alerts of a group share one incident.
pub async fn take(
    core: &Core,
    ctx: &Ctx,
    events: Vec<Value>,
    group: Option<String>,
) -> AppResult<Intake> {
    let integration = sender(ctx)?;
    if events.len() > MAX_BATCH {
        return Err(AppError::field(
            "events",
            "too_many",
            format!("at most {MAX_BATCH} events in one request"),
        ));
    }
    let now = core.now();
    let mut results: Vec<Option<Taken>> = Vec::with_capacity(events.len());
    let mut valid = Vec::new();
    for (i, v) in events.iter().enumerate() {
        match Event::parse(v, now) {
            Ok(e) => {
                valid.push((i, e));
                results.push(None);
            }
            Err(errs) => results.push(Some(Taken::Refused(errs))),
        }
    }
    metrics::counter!("sigap_events_received_total").increment(events.len() as u64);
    if !valid.is_empty() {
        let batch = Batch {
            events: valid,
            integration,
            group,
            now,
        };
        let taken = core
            .store
            .write(async move |tx| Ok::<_, AppError>(take_in(tx, &batch).await?))
            .await?;
        for (i, t) in taken {
            if let Some(slot) = results.get_mut(i) {
                if matches!(t, Taken::Duplicate { .. }) {
                    metrics::counter!("sigap_events_deduplicated_total").increment(1);
                }
                *slot = Some(t);
            }
        }
    }
    Ok(Intake {
        results: results
            .into_iter()
            .map(|r| r.unwrap_or(Taken::NothingToClear))
            .collect(),
    })
}

/// The valid events of a request, owned (the write may run again).
struct Batch {
    events: Vec<(usize, Event)>,
    integration: Option<IntegrationId>,
    group: Option<String>,
    now: Timestamp,
}

async fn take_in(tx: &mut Tx<'_>, b: &Batch) -> AppResult<Vec<(usize, Taken)>> {
    let policy = policy_in(tx).await?;
    let mut out = Vec::with_capacity(b.events.len());
    // The alerts the batch touched, and whether it opened them.
    let mut touched: Vec<(AlertId, bool)> = Vec::new();
    for (i, e) in &b.events {
        let t = take_one(tx, &policy, b, e, &mut touched).await?;
        out.push((*i, t));
    }
    // Incidents opened and resolved once the batch's alerts are written, so that a group's
    // alerts find their primary.
    for (id, opened) in touched {
        if opened {
            correlate(tx, &policy, id, b.now).await?;
        }
        settle(tx, &policy, id, b.now).await?;
    }
    if let Some(id) = b.integration {
        repo::touch_integration(tx, id, b.now).await?;
    }
    Ok(out)
}

/// What makes the same event sent twice the one event.
fn digest(e: &Event, key: &str) -> String {
    let mut h = Sha256::new();
    for part in [
        e.source.as_str(),
        key,
        e.severity.code(),
        &e.time.as_microsecond().to_string(),
        &e.message,
        &e.description,
    ] {
        h.update(part.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

/// Where a firing event goes: the alert going on, one closed a moment ago, or a new one.
enum Target {
    Active(Alert),
    Reopen(Alert),
    New(AlertId),
    /// A clear with nothing going on.
    Nothing,
}

async fn take_one(
    tx: &mut Tx<'_>,
    policy: &Policy,
    b: &Batch,
    e: &Event,
    touched: &mut Vec<(AlertId, bool)>,
) -> AppResult<Taken> {
    let key = e.key();
    let now = b.now;
    let target = match repo::active_alert(tx, &e.source, &key).await? {
        Some(a) => Target::Active(a),
        None if e.severity == Severity::Clear => Target::Nothing,
        None => match repo::last_closed_alert(tx, &e.source, &key).await? {
            Some(a)
                if now.duration_since(a.last_at)
                    <= SignedDuration::from_secs(policy.reopen_secs) =>
            {
                Target::Reopen(a)
            }
            _ => Target::New(AlertId::new()),
        },
    };
    let alert_id = match &target {
        Target::Active(a) | Target::Reopen(a) => Some(a.id),
        Target::New(id) => Some(*id),
        Target::Nothing => None,
    };
    let row = EventRow {
        id: EventId::new(),
        digest: digest(e, &key),
        alert_id,
        integration_id: b.integration,
        received_at: now,
        time: e.time,
        source: e.source.clone(),
        node: e.node.clone(),
        resource: e.resource.clone(),
        kind: e.kind.clone(),
        metric: e.metric.clone(),
        severity: e.severity.code().to_owned(),
        message: e.message.clone(),
        description: e.description.clone(),
        message_key: e.message_key.clone(),
        additional: Value::Object(e.additional.clone()),
        outcome: match (&target, e.severity) {
            (Target::Nothing, _) => "no_alert",
            (_, Severity::Clear) => "cleared",
            _ => "alert",
        }
        .to_owned(),
    };
    if !repo::insert_event(tx, &row).await? {
        let before = repo::event_by_digest(tx, &row.digest).await?;
        let alert = match before.and_then(|r| r.alert_id) {
            Some(id) => Some(repo::alert(tx, id).await?.number),
            None => None,
        };
        return Ok(Taken::Duplicate { alert });
    }
    let flaps = |a: &Alert| {
        a.flap_since.map(|since| Flaps {
            count: a.flap_count,
            since,
        })
    };
    match target {
        Target::Nothing => Ok(Taken::NothingToClear),
        Target::Active(mut a) => {
            a.event_count = a.event_count.saturating_add(1);
            a.last_at = a.last_at.max(e.time);
            a.updated_at = now;
            let was_clear = a.severity == Severity::Clear.code();
            a.severity = e.severity.code().to_owned();
            let cleared = e.severity == Severity::Clear;
            if cleared {
                // A change of state: it closes, unless that makes it flap.
                let f = policy.flap.changed(flaps(&a), now);
                (a.flap_count, a.flap_since) = (f.count, Some(f.since));
                a.state_changed_at = now;
                if a.state != AlertState::Flapping.code() {
                    if policy.flap.flapping(f) {
                        a.state = AlertState::Flapping.code().to_owned();
                    } else {
                        a.state = AlertState::Closed.code().to_owned();
                        a.closed_at = Some(now);
                    }
                }
            } else {
                // A flapping alert that was off goes on again: one more change.
                if a.state == AlertState::Flapping.code() && was_clear {
                    let f = policy.flap.changed(flaps(&a), now);
                    (a.flap_count, a.flap_since) = (f.count, Some(f.since));
                    a.state_changed_at = now;
                }
                fired(tx, &mut a, e, now).await?;
            }
            write_alert(tx, &a).await?;
            touched.push((a.id, false));
            Ok(if cleared {
                Taken::Cleared { alert: a.number }
            } else {
                Taken::Alert {
                    alert: a.number,
                    opened: false,
                }
            })
        }
        Target::Reopen(mut a) => {
            let f = policy.flap.changed(flaps(&a), now);
            (a.flap_count, a.flap_since) = (f.count, Some(f.since));
            a.state = if policy.flap.flapping(f) {
                AlertState::Flapping
            } else {
                AlertState::Open
            }
            .code()
            .to_owned();
            a.state_changed_at = now;
            a.closed_at = None;
            a.acknowledged_at = None;
            a.acknowledged_by = None;
            a.event_count = a.event_count.saturating_add(1);
            a.last_at = a.last_at.max(e.time);
            a.updated_at = now;
            a.severity = e.severity.code().to_owned();
            // Its incident, if resolved meanwhile, stays resolved: a new one may open.
            if let Some(inc) = a.incident_id {
                if !incident_active(tx, inc).await? {
                    a.incident_id = None;
                    a.parent_id = None;
                }
            }
            fired(tx, &mut a, e, now).await?;
            write_alert(tx, &a).await?;
            touched.push((a.id, false));
            Ok(Taken::Alert {
                alert: a.number,
                opened: false,
            })
        }
        Target::New(id) => {
            let number = sigap_store::task::next_number(tx, "ALT").await?;
            let ci = repo::ci_by_name(tx, &e.node).await?;
            let mut a = Alert {
                id,
                number,
                source: e.source.clone(),
                key,
                state: AlertState::Open.code().to_owned(),
                severity: e.severity.code().to_owned(),
                worst: e.severity.code().to_owned(),
                node: e.node.clone(),
                resource: e.resource.clone(),
                kind: e.kind.clone(),
                metric: e.metric.clone(),
                message: e.title(),
                description: e.description.clone(),
                ci_id: ci,
                ci_name: None,
                incident_id: None,
                incident_number: None,
                group_key: b.group.clone(),
                parent_id: None,
                parent_number: None,
                event_count: 1,
                first_at: e.time,
                last_at: e.time,
                flap_count: 0,
                flap_since: None,
                state_changed_at: now,
                maintenance: None,
                acknowledged_by: None,
                acknowledged_at: None,
                closed_at: None,
                created_at: now,
                updated_at: now,
                version: 1,
            };
            a.maintenance = repo::maintenance_reason(tx, a.ci_id, &a.node, now).await?;
            repo::insert_alert(tx, &a).await?;
            touched.push((a.id, true));
            Ok(Taken::Alert {
                alert: a.number,
                opened: true,
            })
        }
    }
}

/// A firing event on an alert going on: its words, its worst severity, and whether it is
/// held back by maintenance now.
async fn fired(tx: &mut Tx<'_>, a: &mut Alert, e: &Event, now: Timestamp) -> AppResult<()> {
    if !e.message.is_empty() {
        a.message = e.message.clone();
    }
    if !e.description.is_empty() {
        a.description = e.description.clone();
    }
    let worst = Severity::parse(&a.worst).unwrap_or(e.severity);
    if e.severity.at_least(worst) {
        a.worst = e.severity.code().to_owned();
    }
    a.maintenance = repo::maintenance_reason(tx, a.ci_id, &a.node, now).await?;
    Ok(())
}

pub(super) async fn write_alert(tx: &mut Tx<'_>, a: &Alert) -> AppResult<()> {
    if repo::update_alert(tx, a).await? {
        Ok(())
    } else {
        Err(AppError::Contention)
    }
}

async fn incident_active(tx: &mut Tx<'_>, id: TaskId) -> AppResult<bool> {
    let i: sigap_store::incidents::Incident = sigap_store::task::get(tx, id).await?;
    Ok(!i.state.is_final() && i.state != IncidentState::Resolved)
}

/// The actor of what event management does by itself.
fn system() -> (Ctx, Actor) {
    let ctx = Ctx::new(Principal::system("event-management"), "events");
    let actor = Actor::of(&ctx);
    (ctx, actor)
}

/// A new alert on a CI related in the CMDB to a CI with an alert that began within the
/// correlation window is correlated under that alert (or under its primary: two levels
/// only), and shares its incident. Alerts a sender grouped are correlated by their group.
async fn correlate(tx: &mut Tx<'_>, policy: &Policy, id: AlertId, now: Timestamp) -> AppResult<()> {
    if policy.correlate_secs <= 0 {
        return Ok(());
    }
    let mut a = repo::alert(tx, id).await?;
    let Some(ci) = a.ci_id else { return Ok(()) };
    if a.parent_id.is_some() || a.group_key.is_some() || a.state != AlertState::Open.code() {
        return Ok(());
    }
    let since = now
        .checked_sub(SignedDuration::from_secs(policy.correlate_secs))
        .unwrap_or(now);
    let Some(related) = repo::related_alert(tx, ci, a.id, since).await? else {
        return Ok(());
    };
    let primary = match related.parent_id {
        Some(p) => repo::alert(tx, p).await?,
        None => related,
    };
    if primary.id == a.id {
        return Ok(());
    }
    a.parent_id = Some(primary.id);
    a.incident_id = primary.incident_id;
    a.updated_at = now;
    write_alert(tx, &a).await?;
    Ok(())
}

/// After a batch: an open alert that should have an incident gets one (its group's, or a
/// new one); an incident whose alerts all closed resolves.
pub(crate) async fn settle(
    tx: &mut Tx<'_>,
    policy: &Policy,
    id: AlertId,
    now: Timestamp,
) -> AppResult<()> {
    let mut a = repo::alert(tx, id).await?;
    let severity = Severity::parse(&a.severity).unwrap_or(Severity::Info);
    if a.state == AlertState::Open.code()
        && a.incident_id.is_none()
        && a.maintenance.is_none()
        && policy.open_incidents
        && severity.at_least(policy.incident_threshold)
    {
        let primary = match &a.group_key {
            Some(g) => repo::group_primary(tx, g).await?.filter(|p| p.id != a.id),
            None => None,
        };
        match primary {
            Some(p) => {
                a.incident_id = p.incident_id;
                a.parent_id = Some(p.id);
            }
            None => {
                let incident = open_incident_for(tx, &a, severity, now).await?;
                a.incident_id = Some(incident);
                // Correlated under a primary that has none: the incident is the primary's
                // too.
                if let Some(p) = a.parent_id {
                    let mut p = repo::alert(tx, p).await?;
                    if p.incident_id.is_none() {
                        p.incident_id = Some(incident);
                        p.updated_at = now;
                        write_alert(tx, &p).await?;
                    }
                }
            }
        }
        a.updated_at = now;
        write_alert(tx, &a).await?;
    } else if a.state == AlertState::Closed.code() && policy.resolve_on_clear {
        if let Some(inc) = a.incident_id {
            resolve_if_all_clear(tx, inc, now).await?;
        }
    }
    Ok(())
}

/// Opens the incident of an alert: its words, its CI, urgency by severity and impact by
/// the criticality of the CI's service.
pub(super) async fn open_incident_for(
    tx: &mut Tx<'_>,
    a: &Alert,
    severity: Severity,
    now: Timestamp,
) -> AppResult<TaskId> {
    let (ctx, actor) = system();
    let criticality = match a.ci_id {
        Some(ci) => sigap_store::events::ci_criticality(tx, ci).await?,
        None => None,
    };
    let short: String = a.message.chars().take(160).collect();
    let mut description = format!(
        "{} alert {} from {} on {}",
        severity.code(),
        a.number,
        a.source,
        a.node
    );
    for (what, v) in [
        ("resource", &a.resource),
        ("type", &a.kind),
        ("metric", &a.metric),
    ] {
        if !v.is_empty() {
            description.push_str(&format!(", {what} {v}"));
        }
    }
    description.push('.');
    if !a.description.is_empty() {
        description.push_str("\n\n");
        description.push_str(&a.description);
    }
    let description: String = description.chars().take(30_000).collect();
    let input = IncidentInput {
        task: TaskInput {
            short_description: Some(if short.trim().is_empty() {
                a.number.clone()
            } else {
                short
            }),
            description: Some(description),
            contact_type: Some(ContactType::Monitoring.code().to_owned()),
            impact: Some(sigap_domain::event::impact(criticality).get()),
            urgency: Some(severity.urgency().get()),
            ci: a.ci_id.map(|c| Some(c.to_string())),
            ..Default::default()
        },
        ..Default::default()
    };
    let f = RecordFields {
        task: TaskFields::new(IncidentState::New, Priority::LOWEST, None),
        ext: IncidentExt::default(),
    };
    let f = task::checked::<IncidentExt>(&ctx, &input, f)?;
    let r = task::create_in::<IncidentExt>(tx, &ctx, &actor, now, &input, f).await?;
    metrics::counter!("sigap_event_incidents_total").increment(1);
    Ok(r.id)
}

/// Resolves an incident once every alert of it has closed.
async fn resolve_if_all_clear(tx: &mut Tx<'_>, incident: TaskId, now: Timestamp) -> AppResult<()> {
    let alerts = repo::alerts_of_incident(tx, incident).await?;
    if alerts.iter().any(|a| a.state != AlertState::Closed.code()) {
        return Ok(());
    }
    if !incident_active(tx, incident).await? {
        return Ok(());
    }
    let numbers: Vec<&str> = alerts.iter().map(|a| a.number.as_str()).collect();
    let (_, actor) = system();
    let action = IncidentAction::Resolve {
        code: "cleared_by_monitoring".into(),
        notes: format!("Monitoring cleared its alerts: {}.", numbers.join(", ")),
        article: None,
    };
    task::act_in::<IncidentExt>(tx, &actor, now, incident, &action, None).await?;
    Ok(())
}

/// Events as the API answers a request: each one's outcome.
pub fn results_json(intake: &Intake) -> Vec<Value> {
    intake
        .results
        .iter()
        .enumerate()
        .map(|(i, t)| match t {
            Taken::Alert { alert, opened } => json!({
                "index": i, "status": "accepted", "alert": alert,
                "outcome": if *opened { "opened" } else { "updated" }
            }),
            Taken::Cleared { alert } => {
                json!({"index": i, "status": "accepted", "alert": alert, "outcome": "cleared"})
            }
            Taken::NothingToClear => {
                json!({"index": i, "status": "accepted", "alert": null, "outcome": "nothing_to_clear"})
            }
            Taken::Duplicate { alert } => {
                json!({"index": i, "status": "duplicate", "alert": alert})
            }
            Taken::Refused(errs) => json!({
                "index": i, "status": "rejected",
                "errors": errs.iter().map(|e| json!({
                    "field": e.field, "code": e.code, "message": e.message
                })).collect::<Vec<_>>()
            }),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_event_has_the_same_digest_and_another_time_another() -> Result<(), String> {
        let now: Timestamp = "2026-12-04T12:00:00Z"
            .parse()
            .map_err(|e: jiff::Error| e.to_string())?;
        let v = json!({"source": "s", "node": "n", "severity": "major", "message": "m",
                       "time": "2026-12-04T09:00:00Z"});
        let e = Event::parse(&v, now).map_err(|e| format!("{e:?}"))?;
        let again = Event::parse(&v, now).map_err(|e| format!("{e:?}"))?;
        assert_eq!(digest(&e, &e.key()), digest(&again, &again.key()));
        let mut later = v.clone();
        later["time"] = json!("2026-12-04T09:00:01Z");
        let later = Event::parse(&later, now).map_err(|e| format!("{e:?}"))?;
        assert_ne!(digest(&e, &e.key()), digest(&later, &later.key()));
        Ok(())
    }
}
