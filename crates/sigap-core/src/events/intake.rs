//! Taking events in: each parsed on its own (a bad one is refused with its reasons, the
//! others kept), the valid ones of a request kept in one transaction, each folded into its
//! alert, and the alert's incident opened or resolved.

use super::rules::Ruleset;
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
use sigap_domain::event::rules::{self, CiAttribute, Screened};
use sigap_domain::event::{AlertState, Event, EventError, Flaps, MAX_BATCH, Severity};
use sigap_domain::process::incident::IncidentState;
use sigap_domain::task::{ContactType, Priority, StateModel};
use sigap_domain::{AlertId, CiId, EventId, IntegrationId, Role, ServiceId, TaskId};
use sigap_store::Tx;
use sigap_store::events::{self as repo, Alert, EventRow};
use sigap_store::incidents::IncidentExt;
use sigap_store::task::{RecordFields, TaskFields};
use std::collections::{HashMap, HashSet};

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
    /// Kept, and dropped by an ignore rule (its name): it opens nothing.
    Dropped { rule: String },
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
    let ruleset = super::rules::active(core).await?;
    let mut hits: HashMap<usize, i64> = HashMap::new();
    let mut results: Vec<Option<Taken>> = Vec::with_capacity(events.len());
    let mut valid = Vec::new();
    for (i, v) in events.iter().enumerate() {
        match Event::parse(v, now) {
            Ok(mut event) => {
                // Screened, keyed and digested here, not in the write (one writer on SQLite).
                let screened = rules::screen(&ruleset.rules, &mut event);
                let dropped = super::rules::dropped_by(&screened);
                match &screened {
                    Screened::Dropped(at) => *hits.entry(*at).or_default() += 1,
                    Screened::Kept(changed) => {
                        for at in changed {
                            *hits.entry(*at).or_default() += 1;
                        }
                    }
                }
                let bind = match dropped {
                    Some(_) => None,
                    None => rules::binding(&ruleset.rules, &event).map(|(at, attr, value)| {
                        *hits.entry(at).or_default() += 1;
                        (attr.clone(), value)
                    }),
                };
                let key = event.key();
                valid.push(Prepared {
                    index: i,
                    digest: digest(&event, &key),
                    key,
                    id: EventId::new(),
                    event,
                    dropped,
                    bind,
                });
                results.push(None);
            }
            Err(errs) => results.push(Some(Taken::Refused(errs))),
        }
    }
    metrics::counter!("sigap_events_received_total").increment(events.len() as u64);
    drop(events);
    if !valid.is_empty() {
        let batch = Batch {
            events: valid,
            integration,
            group,
            now,
            rules: ruleset,
            hits: hits.into_iter().collect(),
        };
        let taken = core
            .store
            .write(async move |tx| Ok::<_, AppError>(take_in(tx, &batch).await?))
            .await?;
        for (i, t) in taken {
            if let Some(slot) = results.get_mut(i) {
                match t {
                    Taken::Duplicate { .. } => {
                        metrics::counter!("sigap_events_deduplicated_total").increment(1);
                    }
                    Taken::Dropped { .. } => {
                        metrics::counter!("sigap_events_dropped_total").increment(1);
                    }
                    _ => {}
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

/// A valid event of a request, with its key, digest and id.
struct Prepared {
    index: usize,
    event: Event,
    key: String,
    digest: String,
    id: EventId,
    /// Dropped by the ignore rule at this place.
    dropped: Option<usize>,
    /// Bound by a bind rule: to the CI with this attribute of this value (none: no CI).
    bind: Option<(CiAttribute, Option<String>)>,
}

/// The valid events of a request, owned (the write may run again).
struct Batch {
    events: Vec<Prepared>,
    integration: Option<IntegrationId>,
    group: Option<String>,
    now: Timestamp,
    rules: Ruleset,
    /// What the ignore, transform and bind rules matched: (place, how many).
    hits: Vec<(usize, i64)>,
}

/// An alert the batch reads or writes, as it stands after the events so far.
struct Slot {
    alert: Alert,
    /// As it was read (none for a new one): what changed decides how it is written.
    before: Option<Alert>,
    /// Opened by this batch (to be inserted).
    new: bool,
    /// An event of the batch folded into it (to be written).
    touched: bool,
    /// A firing event folded into it: whether maintenance holds it back is looked at now.
    fired: bool,
    /// Reopened by this batch: its incident, if resolved meanwhile, is no longer its own.
    reopened: bool,
    /// Opened by an event a bind rule bound (new alerts only).
    bind: Option<(CiAttribute, Option<String>)>,
}

/// What became of one event, before the alerts are numbered.
enum Fate {
    Opened(usize),
    Updated(usize),
    Cleared(usize),
    Nothing,
    /// Dropped by the rule at this place.
    Dropped(usize),
    /// Kept before, with its alert's number.
    Known(Option<String>),
    /// The same as an earlier event of the batch (its place in the batch's fates).
    SameAs(usize),
}

/// The alerts of a batch's keys: each key's latest alert (going on, or the last closed).
struct Alerts {
    slots: Vec<Slot>,
    by_key: HashMap<(String, String), usize>,
}

impl Alerts {
    fn add(&mut self, alert: Alert, new: bool) -> usize {
        let at = self.slots.len();
        self.by_key
            .insert((alert.source.clone(), alert.key.clone()), at);
        self.slots.push(Slot {
            before: (!new).then(|| alert.clone()),
            alert,
            new,
            touched: new,
            fired: new,
            reopened: false,
            bind: None,
        });
        at
    }
}

/// Takes a batch in, set by set: the digests kept before, the alerts of its keys, and the
/// new alerts' CIs each read at once; the events folded into their alerts in memory, in
/// the order sent; then the alerts and events written at once. Only alerts that may open
/// or resolve an incident are looked at again.
async fn take_in(tx: &mut Tx<'_>, b: &Batch) -> AppResult<Vec<(usize, Taken)>> {
    let policy = policy_in(tx).await?;
    let digests: Vec<&str> = b.events.iter().map(|p| p.digest.as_str()).collect();
    let known: HashMap<String, Option<String>> = repo::known_digests(tx, &digests)
        .await?
        .into_iter()
        .collect();
    let mut keys: Vec<(&str, &str)> = Vec::new();
    let mut seen_keys = HashSet::new();
    for p in &b.events {
        if !known.contains_key(&p.digest) && seen_keys.insert((&p.event.source, &p.key)) {
            keys.push((&p.event.source, &p.key));
        }
    }
    let mut alerts = Alerts {
        slots: Vec::new(),
        by_key: HashMap::with_capacity(keys.len()),
    };
    for a in repo::active_alerts(tx, &keys).await? {
        alerts.add(a, false);
    }
    let closed: Vec<(&str, &str)> = keys
        .iter()
        .filter(|(s, k)| {
            !alerts
                .by_key
                .contains_key(&((*s).to_owned(), (*k).to_owned()))
        })
        .copied()
        .collect();
    for a in repo::last_closed_alerts(tx, &closed).await? {
        alerts.add(a, false);
    }

    // The events, in the order sent.
    let mut fates: Vec<Fate> = Vec::with_capacity(b.events.len());
    let mut rows: Vec<EventRow> = Vec::with_capacity(b.events.len());
    let mut first_of: HashMap<&str, usize> = HashMap::with_capacity(b.events.len());
    for p in &b.events {
        if let Some(number) = known.get(&p.digest) {
            fates.push(Fate::Known(number.clone()));
            continue;
        }
        if let Some(&first) = first_of.get(p.digest.as_str()) {
            fates.push(Fate::SameAs(first));
            continue;
        }
        first_of.insert(&p.digest, fates.len());
        let (fate, outcome) = match p.dropped {
            Some(at) => (Fate::Dropped(at), "dropped"),
            None => fold(&mut alerts, &policy, b, p),
        };
        // The event joins its alert's chain of events.
        let (alert_id, previous) = match fate {
            Fate::Opened(s) | Fate::Updated(s) | Fate::Cleared(s) => {
                match alerts.slots.get_mut(s) {
                    Some(s) => (Some(s.alert.id), s.alert.last_event_id.replace(p.id)),
                    None => (None, None),
                }
            }
            _ => (None, None),
        };
        rows.push(event_row(p, alert_id, previous, b, outcome));
        fates.push(fate);
    }

    // The new alerts' numbers and CIs; what holds back the alerts that fired.
    let new: Vec<usize> = (0..alerts.slots.len())
        .filter(|&s| alerts.slots[s].new)
        .collect();
    if !new.is_empty() {
        let first = sigap_store::task::reserve_numbers(tx, "ALT", new.len() as i64).await?;
        let mut nodes: Vec<&str> = Vec::new();
        for (n, &s) in new.iter().enumerate() {
            alerts.slots[s].alert.number = format!("ALT{:07}", first[n]);
        }
        // Bound by a rule, or else by the node's name.
        let mut seen_nodes = HashSet::new();
        for &s in &new {
            let slot = &alerts.slots[s];
            if slot.bind.is_none() && seen_nodes.insert(slot.alert.node.as_str()) {
                nodes.push(slot.alert.node.as_str());
            }
        }
        let cis: HashMap<String, CiId> =
            repo::cis_by_names(tx, &nodes).await?.into_iter().collect();
        for &s in &new {
            let slot = &mut alerts.slots[s];
            slot.alert.ci_id = match &slot.bind {
                None => cis.get(&sigap_store::name_key(&slot.alert.node)).copied(),
                Some((_, None)) => None,
                Some((attr, Some(value))) => {
                    sigap_store::event_rules::ci_by(tx, attr, value).await?
                }
            };
        }
    }
    if alerts.slots.iter().any(|s| s.fired) {
        let maintenance = repo::Maintenance::at(tx, b.now).await?;
        for s in alerts.slots.iter_mut().filter(|s| s.fired) {
            s.alert.maintenance = maintenance.reason(s.alert.ci_id, &s.alert.node);
        }
    }
    for s in alerts.slots.iter_mut().filter(|s| s.reopened) {
        if let Some(inc) = s.alert.incident_id {
            if !incident_active(tx, inc).await? {
                s.alert.incident_id = None;
                s.alert.parent_id = None;
            }
        }
    }

    // Written at once: a count short means another transaction wrote meanwhile, and the
    // whole batch runs again.
    let opened: Vec<&Alert> = alerts
        .slots
        .iter()
        .filter(|s| s.new)
        .map(|s| &s.alert)
        .collect();
    if repo::insert_alerts(tx, &opened).await? != opened.len() as u64 {
        return Err(AppError::Contention);
    }
    // Most alerts of a batch only had events folded in: written narrowly.
    let (folded, changed): (Vec<&Slot>, Vec<&Slot>) = alerts
        .slots
        .iter()
        .filter(|s| s.touched && !s.new)
        .partition(|s| {
            s.before
                .as_ref()
                .is_some_and(|b| s.alert.only_folded_since(b))
        });
    let folded: Vec<&Alert> = folded.into_iter().map(|s| &s.alert).collect();
    if repo::update_folded(tx, &folded).await? != folded.len() as u64 {
        return Err(AppError::Contention);
    }
    let changed: Vec<&Alert> = changed.into_iter().map(|s| &s.alert).collect();
    if repo::update_alerts(tx, &changed).await? != changed.len() as u64 {
        return Err(AppError::Contention);
    }
    if repo::insert_events(tx, &rows).await? != rows.len() as u64 {
        return Err(AppError::Contention);
    }

    // Incidents opened and resolved once the batch's alerts are written, so that a group's
    // alerts find their primary.
    for s in alerts.slots.iter().filter(|s| s.touched) {
        if s.new {
            correlate(tx, &policy, s.alert.id, b.now).await?;
        }
        if s.new || may_settle(&s.alert, &policy, &b.rules) {
            settle(tx, &policy, &b.rules, s.alert.id, b.now).await?;
        }
    }
    if let Some(id) = b.integration {
        repo::touch_integration(tx, id, b.now).await?;
    }
    super::rules::count_hits(tx, &b.rules, &b.hits, b.now).await?;

    let number = |s: usize| {
        alerts
            .slots
            .get(s)
            .map(|s| s.alert.number.clone())
            .unwrap_or_default()
    };
    let mut out: Vec<(usize, Taken)> = Vec::with_capacity(fates.len());
    for (p, fate) in b.events.iter().zip(&fates) {
        let taken = match fate {
            Fate::Opened(s) => Taken::Alert {
                alert: number(*s),
                opened: true,
            },
            Fate::Updated(s) => Taken::Alert {
                alert: number(*s),
                opened: false,
            },
            Fate::Cleared(s) => Taken::Cleared { alert: number(*s) },
            Fate::Nothing => Taken::NothingToClear,
            Fate::Dropped(at) => Taken::Dropped {
                rule: b.rules.names.get(*at).cloned().unwrap_or_default(),
            },
            Fate::Known(alert) => Taken::Duplicate {
                alert: alert.clone(),
            },
            Fate::SameAs(first) => Taken::Duplicate {
                alert: match fates.get(*first) {
                    Some(Fate::Opened(s) | Fate::Updated(s) | Fate::Cleared(s)) => Some(number(*s)),
                    _ => None,
                },
            },
        };
        out.push((p.index, taken));
    }
    Ok(out)
}

/// What the rules and the policy say of an alert opening an incident: whether it may (by
/// the first incident rule that matches it, else the policy's threshold), and whether only
/// when it affects a service.
fn wants_incident(a: &Alert, policy: &Policy, rules: &Ruleset) -> (bool, bool) {
    let severity = Severity::parse(&a.severity).unwrap_or(Severity::Info);
    let (open, threshold, only_with_service) =
        match rules::incident_decision(&rules.rules, super::rules::alert_field(a)) {
            Some((_, d)) => (
                d.open,
                d.threshold.unwrap_or(policy.incident_threshold),
                d.only_with_service,
            ),
            None => (true, policy.incident_threshold, false),
        };
    (
        policy.open_incidents && open && severity.at_least(threshold),
        only_with_service,
    )
}

/// Whether `settle` may act on an alert as it stands: an open alert that should have an
/// incident and has none, or a closed one whose incident may resolve.
fn may_settle(a: &Alert, policy: &Policy, rules: &Ruleset) -> bool {
    (a.state == AlertState::Open.code()
        && a.incident_id.is_none()
        && a.maintenance.is_none()
        && wants_incident(a, policy, rules).0)
        || (a.state == AlertState::Closed.code()
            && policy.resolve_on_clear
            && a.incident_id.is_some())
}

/// An event as kept.
fn event_row(
    p: &Prepared,
    alert_id: Option<AlertId>,
    previous_id: Option<EventId>,
    b: &Batch,
    outcome: &str,
) -> EventRow {
    let e = &p.event;
    EventRow {
        id: p.id,
        digest: p.digest.clone(),
        alert_id,
        integration_id: b.integration,
        received_at: b.now,
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
        outcome: outcome.to_owned(),
        previous_id,
    }
}

/// What makes the same event sent twice the one event: the event's time (16 hex digits, so
/// that the digests of a batch, whose events happened at about the same moment, sit side by
/// side in their index instead of on a page each), then 128 bits of the SHA-256 of its source,
/// key, severity, time, message and description.
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
    let hash = h.finalize();
    // Ordered as the time is: the sign bit flipped.
    let time = (e.time.as_microsecond() as u64) ^ (1 << 63);
    format!("{time:016x}{}", hex::encode(&hash[..16]))
}

/// Folds one event into its key's alert, in memory: the alert going on, one closed a
/// moment ago (reopened), or a new one. Its fate, and the outcome kept with it.
fn fold(alerts: &mut Alerts, policy: &Policy, b: &Batch, p: &Prepared) -> (Fate, &'static str) {
    let e = &p.event;
    let now = b.now;
    let current = alerts
        .by_key
        .get(&(e.source.clone(), p.key.clone()))
        .copied();
    let closed = AlertState::Closed.code();
    let flaps = |a: &Alert| {
        a.flap_since.map(|since| Flaps {
            count: a.flap_count,
            since,
        })
    };
    let cleared = e.severity == Severity::Clear;
    match current {
        Some(s) if alerts.slots[s].alert.state != closed => {
            let slot = &mut alerts.slots[s];
            slot.touched = true;
            let a = &mut slot.alert;
            a.event_count = a.event_count.saturating_add(1);
            a.last_at = a.last_at.max(e.time);
            a.updated_at = now;
            let was_clear = a.severity == Severity::Clear.code();
            a.severity = e.severity.code().to_owned();
            if cleared {
                // A change of state: it closes, unless that makes it flap.
                let f = policy.flap.changed(flaps(a), now);
                (a.flap_count, a.flap_since) = (f.count, Some(f.since));
                a.state_changed_at = now;
                if a.state != AlertState::Flapping.code() {
                    if policy.flap.flapping(f) {
                        a.state = AlertState::Flapping.code().to_owned();
                    } else {
                        a.state = closed.to_owned();
                        a.closed_at = Some(now);
                    }
                }
                (Fate::Cleared(s), "cleared")
            } else {
                // A flapping alert that was off goes on again: one more change.
                if a.state == AlertState::Flapping.code() && was_clear {
                    let f = policy.flap.changed(flaps(a), now);
                    (a.flap_count, a.flap_since) = (f.count, Some(f.since));
                    a.state_changed_at = now;
                }
                fired(slot, e);
                (Fate::Updated(s), "alert")
            }
        }
        _ if cleared => (Fate::Nothing, "no_alert"),
        Some(s)
            if now.duration_since(alerts.slots[s].alert.last_at)
                <= SignedDuration::from_secs(policy.reopen_secs) =>
        {
            let slot = &mut alerts.slots[s];
            slot.touched = true;
            slot.reopened = true;
            let a = &mut slot.alert;
            let f = policy.flap.changed(flaps(a), now);
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
            fired(slot, e);
            (Fate::Updated(s), "alert")
        }
        _ => {
            let a = Alert {
                id: AlertId::new(),
                // Numbered, and bound to its CI, once the batch is folded.
                number: String::new(),
                source: e.source.clone(),
                key: p.key.clone(),
                state: AlertState::Open.code().to_owned(),
                severity: e.severity.code().to_owned(),
                worst: e.severity.code().to_owned(),
                node: e.node.clone(),
                resource: e.resource.clone(),
                kind: e.kind.clone(),
                metric: e.metric.clone(),
                message: e.title(),
                description: e.description.clone(),
                ci_id: None,
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
                last_event_id: None,
            };
            let at = alerts.add(a, true);
            if let Some(slot) = alerts.slots.get_mut(at) {
                slot.bind = p.bind.clone();
            }
            (Fate::Opened(at), "alert")
        }
    }
}

/// A firing event on an alert going on: its words and its worst severity (whether it is
/// held back by maintenance is looked at once the batch is folded).
fn fired(slot: &mut Slot, e: &Event) {
    let a = &mut slot.alert;
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
    slot.fired = true;
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
    rules: &Ruleset,
    id: AlertId,
    now: Timestamp,
) -> AppResult<()> {
    let mut a = repo::alert(tx, id).await?;
    let severity = Severity::parse(&a.severity).unwrap_or(Severity::Info);
    let (wanted, only_with_service) = wants_incident(&a, policy, rules);
    if a.state == AlertState::Open.code()
        && a.incident_id.is_none()
        && a.maintenance.is_none()
        && wanted
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
            // Only when impact analysis finds a service its CI affects, and it finds none.
            None if only_with_service && affected_services(tx, a.ci_id).await?.is_empty() => {
                return Ok(());
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

/// The services a CI affects, by impact analysis (the CMDB walked upstream from it).
async fn affected_services(tx: &mut Tx<'_>, ci: Option<CiId>) -> AppResult<Vec<ServiceId>> {
    let Some(ci) = ci else { return Ok(Vec::new()) };
    let impact = crate::cmdb::impact_in(tx, ci, crate::cmdb::WALK_LIMIT).await?;
    Ok(impact
        .services
        .iter()
        .filter(|s| s.active)
        .map(|s| s.id)
        .collect())
}

/// Opens the incident of an alert: its words, its CI, urgency by severity and impact by
/// the criticality of the most critical service it affects (by impact analysis).
pub(super) async fn open_incident_for(
    tx: &mut Tx<'_>,
    a: &Alert,
    severity: Severity,
    now: Timestamp,
) -> AppResult<TaskId> {
    let (ctx, actor) = system();
    let services = affected_services(tx, a.ci_id).await?;
    let criticality = repo::most_critical(tx, &services).await?;
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
            Taken::Dropped { rule } => json!({
                "index": i, "status": "accepted", "alert": null, "outcome": "dropped",
                "rule": rule
            }),
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
        // The later event's digest sorts after: digests of one moment sit together.
        assert!(digest(&e, &e.key()) < digest(&later, &later.key()));
        assert_eq!(digest(&e, &e.key()).len(), 48);
        Ok(())
    }
}
