//! Event rules (`sigap_domain::event::rules`): administrators write them, in an order; the
//! intake applies the active ones. A rule can be tried on the recent events before it is
//! saved: what it would have matched, and what it would have done.

use super::integrations::admins;
use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use serde_json::{Map, Value, json};
use sigap_domain::event::rules::{self, Action, Rule, RuleKind, Screened};
use sigap_domain::event::{Event, EventError, Severity};
use sigap_domain::{EventRuleId, Role, parse_line, parse_text};
use sigap_store::Tx;
use sigap_store::event_rules as repo;
pub use sigap_store::event_rules::EventRule;
use std::borrow::Cow;

/// The fields of a rule's definition, beside its name, kind, place and state.
const DEFINITION_FIELDS: &[&str] = &[
    "conditions",
    "set",
    "ci_attribute",
    "from",
    "open_incident",
    "threshold",
    "only_with_service",
];

/// The most recent events a rule is tried on.
pub const MAX_TRY: i64 = 1_000;

/// The active rules, parsed, in their order: what the intake applies.
#[derive(Debug, Clone, Default)]
pub struct Ruleset {
    pub ids: Vec<EventRuleId>,
    pub names: Vec<String>,
    pub rules: Vec<Rule>,
}

impl Ruleset {
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

/// The active rules. A stored rule that no longer parses is left out, and said so in the log.
pub(crate) async fn active_in(tx: &mut Tx<'_>) -> AppResult<Ruleset> {
    let mut set = Ruleset::default();
    for r in repo::rules(tx, true).await? {
        match RuleKind::parse(&r.kind)
            .ok()
            .and_then(|k| Rule::parse(k, &r.definition).ok())
        {
            Some(rule) => {
                set.ids.push(r.id);
                set.names.push(r.name);
                set.rules.push(rule);
            }
            None => tracing::warn!(rule = %r.name, "an event rule does not parse: left out"),
        }
    }
    Ok(set)
}

pub async fn active(core: &Core) -> AppResult<Ruleset> {
    core.store.read(async |tx| active_in(tx).await).await
}

fn invalid(errs: Vec<EventError>) -> AppError {
    AppError::Validation(
        errs.into_iter()
            .map(|e| FieldError::new(e.field, e.code, e.message))
            .collect(),
    )
}

/// A rule as the API shows it: its definition's fields beside its own.
pub fn rule_json(r: &EventRule) -> Value {
    let mut o = json!({
        "id": r.id.to_string(),
        "name": r.name,
        "kind": r.kind,
        "position": r.position,
        "active": r.active,
        "description": r.description,
        "hits": r.hits,
        "last_hit_at": r.last_hit_at.map(|t| t.to_string()),
        "created_at": r.created_at.to_string(),
        "updated_at": r.updated_at.to_string(),
        "version": r.version,
    });
    if let (Some(o), Value::Object(d)) = (o.as_object_mut(), &r.definition) {
        for (k, v) in d {
            o.insert(k.clone(), v.clone());
        }
    }
    o
}

pub async fn list(core: &Core, ctx: &Ctx) -> AppResult<Vec<EventRule>> {
    ctx.principal.require(Role::Agent)?;
    core.store
        .read(async |tx| Ok::<_, AppError>(repo::rules(tx, false).await?))
        .await
}

pub async fn get(core: &Core, ctx: &Ctx, id: &str) -> AppResult<EventRule> {
    ctx.principal.require(Role::Agent)?;
    let id = EventRuleId::parse(id.trim()).ok_or(AppError::NotFound)?;
    core.store
        .read(async move |tx| match repo::rule(tx, id).await {
            Err(sigap_store::StoreError::NotFound) => Err(AppError::NotFound),
            r => Ok(r?),
        })
        .await
}

/// Reads a rule from a request's object over `base` (the stored rule, for a change): the
/// fields given replace the stored ones; the definition is read again whole.
fn read(body: &Value, base: Option<&EventRule>) -> AppResult<(EventRule, Rule)> {
    let Some(o) = body.as_object() else {
        return Err(AppError::field(
            "",
            "invalid_type",
            "a rule is a JSON object",
        ));
    };
    let mut errs: Vec<FieldError> = Vec::new();
    let text = |name: &str, errs: &mut Vec<FieldError>| match o.get(name) {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errs.push(FieldError::new(name, "invalid_type", "must be a string"));
            None
        }
    };
    let name = match text("name", &mut errs) {
        Some(n) => parse_line(&n, 100)
            .map_err(|e| errs.push(FieldError::from_invalid("name", e)))
            .ok(),
        None if base.is_none() => {
            errs.push(FieldError::new("name", "required", "is required"));
            None
        }
        None => None,
    };
    let kind = match text("kind", &mut errs) {
        Some(k) => RuleKind::parse(&k)
            .map_err(|e| errs.push(FieldError::from_invalid("kind", e)))
            .ok(),
        None => match base {
            Some(b) => RuleKind::parse(&b.kind).ok(),
            None => {
                errs.push(FieldError::new("kind", "required", "is required"));
                None
            }
        },
    };
    let description = text("description", &mut errs).and_then(|d| {
        parse_text(&d, 2_000)
            .map_err(|e| errs.push(FieldError::from_invalid("description", e)))
            .ok()
    });
    let position = match o.get("position") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(p) if (0..=1_000_000).contains(&p) => Some(p),
            _ => {
                errs.push(FieldError::new(
                    "position",
                    "out_of_range",
                    "must be a whole number from 0 to 1000000",
                ));
                None
            }
        },
    };
    let active = match o.get("active") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errs.push(FieldError::new(
                "active",
                "invalid_type",
                "must be true or false",
            ));
            None
        }
    };
    // The definition: the stored one, with the fields given over it.
    let mut definition: Map<String, Value> = match base.map(|b| &b.definition) {
        Some(Value::Object(d)) => d.clone(),
        _ => Map::new(),
    };
    let kind_changed = base.is_some_and(|b| kind.is_some_and(|k| k.code() != b.kind));
    if kind_changed {
        // Another kind: the old action's fields mean nothing to it.
        definition.retain(|k, _| k == "conditions");
    }
    for f in DEFINITION_FIELDS {
        if let Some(v) = o.get(*f) {
            definition.insert((*f).to_owned(), v.clone());
        }
    }
    let rule = match kind {
        Some(k) => match Rule::parse(k, &Value::Object(definition)) {
            Ok(r) => Some(r),
            Err(e) => {
                if let AppError::Validation(mut v) = invalid(e) {
                    errs.append(&mut v);
                }
                None
            }
        },
        None => None,
    };
    let (Some(kind), Some(rule)) = (kind, rule) else {
        return Err(AppError::Validation(errs));
    };
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let now = jiff::Timestamp::UNIX_EPOCH;
    let mut r = match base {
        Some(b) => b.clone(),
        None => EventRule {
            id: EventRuleId::new(),
            name: String::new(),
            kind: String::new(),
            position: -1,
            active: true,
            description: String::new(),
            definition: Value::Null,
            hits: 0,
            last_hit_at: None,
            created_at: now,
            updated_at: now,
            version: 1,
        },
    };
    if let Some(n) = name {
        r.name = n;
    }
    r.kind = kind.code().to_owned();
    if let Some(d) = description {
        r.description = d;
    }
    if let Some(p) = position {
        r.position = p;
    }
    if let Some(a) = active {
        r.active = a;
    }
    r.definition = rule.to_json();
    Ok((r, rule))
}

fn name_taken(e: sigap_store::StoreError) -> AppError {
    match e {
        sigap_store::StoreError::Conflict { target } if target.contains("name") => {
            AppError::field("name", "taken", "another rule has this name")
        }
        e => e.into(),
    }
}

/// Adds a rule (after the last when no position is given).
pub async fn create(core: &Core, ctx: &Ctx, body: &Value) -> AppResult<EventRule> {
    admins(ctx)?;
    let (mut r, _) = read(body, None)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    r.created_at = now;
    r.updated_at = now;
    core.store
        .write(async move |tx| {
            let mut r = r.clone();
            if repo::count(tx).await? >= rules::MAX_RULES as i64 {
                return Err(AppError::field(
                    "rules",
                    "too_many",
                    format!("at most {} event rules", rules::MAX_RULES),
                ));
            }
            if r.position < 0 {
                let last = repo::rules(tx, false)
                    .await?
                    .iter()
                    .map(|r| r.position)
                    .max()
                    .unwrap_or(0);
                r.position = last + 10;
            }
            repo::insert(tx, &r).await.map_err(name_taken)?;
            audit::record(
                tx,
                &actor,
                now,
                "event_rule",
                &r.id.to_string(),
                "create",
                json!({"name": r.name, "kind": r.kind, "definition": r.definition}),
            )
            .await?;
            Ok::<_, AppError>(r)
        })
        .await
}

/// Changes a rule: the fields given.
pub async fn update(
    core: &Core,
    ctx: &Ctx,
    id: &str,
    body: &Value,
    version: Option<i64>,
) -> AppResult<EventRule> {
    admins(ctx)?;
    let id = EventRuleId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let body = body.clone();
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let stored = match repo::rule(tx, id).await {
                Ok(r) => r,
                Err(sigap_store::StoreError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            };
            let expected = body.get("version").and_then(Value::as_i64).or(version);
            // A body that is wrong is said so first, whatever version it was sent against.
            let (mut r, _) = read(&body, Some(&stored))?;
            if expected.is_some_and(|v| v != stored.version) {
                return Err(AppError::PreconditionFailed);
            }
            r.updated_at = now;
            if !repo::update(tx, &r).await.map_err(name_taken)? {
                return Err(AppError::PreconditionFailed);
            }
            r.version += 1;
            audit::record(
                tx,
                &actor,
                now,
                "event_rule",
                &r.id.to_string(),
                "update",
                json!({"name": r.name, "kind": r.kind, "active": r.active,
                       "position": r.position, "definition": r.definition}),
            )
            .await?;
            Ok::<_, AppError>(r)
        })
        .await
}

/// Removes a rule; one that is not there is removed already.
pub async fn delete(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    admins(ctx)?;
    let Some(id) = EventRuleId::parse(id.trim()) else {
        return Ok(());
    };
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            if repo::delete(tx, id).await? {
                audit::record(
                    tx,
                    &actor,
                    now,
                    "event_rule",
                    &id.to_string(),
                    "delete",
                    json!({}),
                )
                .await?;
            }
            Ok::<_, AppError>(())
        })
        .await
}

/// What a rule would have done to one recent event.
#[derive(Debug, Clone, PartialEq)]
pub struct Tried {
    pub event: sigap_store::events::EventRow,
    pub matched: bool,
    /// What it would have done, in words for the API and the page: `dropped`, `set`,
    /// `bound`, `no_ci`, `opens`, `opens_none`.
    pub outcome: &'static str,
    /// The fields set (transform), the CI bound (bind), the severity from which an incident
    /// opens (incident).
    pub detail: Value,
}

/// Tries a rule (the request's, not saved: `body` as for `create`, name not needed) on the
/// most recent events, at most `limit`.
pub async fn try_rule(core: &Core, ctx: &Ctx, body: &Value, limit: i64) -> AppResult<Vec<Tried>> {
    ctx.principal.require(Role::Agent)?;
    let mut body = body.clone();
    if let Some(o) = body.as_object_mut() {
        o.entry("name").or_insert_with(|| json!("trial"));
    }
    let (_, rule) = read(&body, None)?;
    let limit = limit.clamp(1, MAX_TRY);
    let threshold = super::policy(core).await?.incident_threshold;
    core.store
        .read(async move |tx| {
            let events = sigap_store::events::recent_events(tx, limit).await?;
            let mut out = Vec::with_capacity(events.len());
            for row in events {
                let e = event_of(&row);
                let matched = rule.matches_event(&e);
                let (outcome, detail) = if !matched {
                    ("", Value::Null)
                } else {
                    match &rule.action {
                        Action::Ignore => ("dropped", Value::Null),
                        Action::Transform(_) => {
                            let mut changed = e.clone();
                            rules::screen(std::slice::from_ref(&rule), &mut changed);
                            ("set", changes(&e, &changed))
                        }
                        Action::Bind { .. } => {
                            match rules::binding(std::slice::from_ref(&rule), &e) {
                                Some((_, attr, Some(v))) => {
                                    match repo::ci_by(tx, attr, &v).await? {
                                        Some(ci) => {
                                            let name =
                                                sigap_store::cmdb::get_ci(tx, ci).await?.name;
                                            ("bound", json!({"ci": ci.to_string(), "name": name}))
                                        }
                                        None => ("no_ci", json!({"value": v})),
                                    }
                                }
                                _ => ("no_ci", Value::Null),
                            }
                        }
                        Action::Incident(d) => {
                            let from = d.threshold.unwrap_or(threshold);
                            let opens = d.open && e.severity.at_least(from);
                            (
                                if opens { "opens" } else { "opens_none" },
                                json!({"threshold": from.code(),
                                       "only_with_service": d.only_with_service}),
                            )
                        }
                    }
                };
                out.push(Tried {
                    event: row,
                    matched,
                    outcome,
                    detail,
                });
            }
            Ok::<_, AppError>(out)
        })
        .await
}

/// The fields a transform changed: name to the new value.
fn changes(before: &Event, after: &Event) -> Value {
    let mut o = Map::new();
    for f in rules::Field::NAMES {
        if let Ok(field) = rules::Field::parse(f) {
            let (a, b) = (before.field(&field), after.field(&field));
            if a != b {
                o.insert((*f).to_owned(), json!(b));
            }
        }
    }
    for (k, v) in &after.additional {
        if before.additional.get(k) != Some(v) {
            o.insert(format!("additional.{k}"), v.clone());
        }
    }
    Value::Object(o)
}

/// An event as kept, as the rules read it.
pub(crate) fn event_of(r: &sigap_store::events::EventRow) -> Event {
    Event {
        source: r.source.clone(),
        node: r.node.clone(),
        resource: r.resource.clone(),
        kind: r.kind.clone(),
        metric: r.metric.clone(),
        severity: Severity::parse(&r.severity).unwrap_or(Severity::Info),
        message: r.message.clone(),
        description: r.description.clone(),
        time: r.time,
        message_key: r.message_key.clone(),
        additional: match &r.additional {
            Value::Object(o) => o.clone(),
            _ => Map::new(),
        },
    }
}

/// An alert's fields as the incident rules read them.
pub(crate) fn alert_field<'a>(
    a: &'a sigap_store::events::Alert,
) -> impl Fn(&rules::Field) -> Option<Cow<'a, str>> {
    move |f| {
        let text = |s: &'a str| (!s.is_empty()).then_some(Cow::Borrowed(s));
        match f {
            rules::Field::Source => text(&a.source),
            rules::Field::Node => text(&a.node),
            rules::Field::Resource => text(&a.resource),
            rules::Field::Type => text(&a.kind),
            rules::Field::Metric => text(&a.metric),
            rules::Field::Severity => text(&a.severity),
            rules::Field::Message => text(&a.message),
            rules::Field::Description => text(&a.description),
            rules::Field::MessageKey => text(&a.key),
            rules::Field::Additional(_) => None,
        }
    }
}

/// Counts what the rules matched in a batch: (place in the ruleset, how many).
pub(crate) async fn count_hits(
    tx: &mut Tx<'_>,
    set: &Ruleset,
    hits: &[(usize, i64)],
    now: jiff::Timestamp,
) -> AppResult<()> {
    for (at, n) in hits {
        if let Some(id) = set.ids.get(*at) {
            repo::add_hits(tx, *id, *n, now).await?;
        }
    }
    Ok(())
}

/// Whether the screening dropped an event, and by which rule (its place).
pub(crate) fn dropped_by(s: &Screened) -> Option<usize> {
    match s {
        Screened::Dropped(i) => Some(*i),
        Screened::Kept(_) => None,
    }
}
