//! Event rules over HTTP: list, write, change, remove, and try a rule on the recent events
//! before saving it. A rule's definition (conditions and what it does) sits beside its
//! name, kind, position and state.

use super::dto::{Time, ts};
use super::handlers::with_etag;
use crate::AppState;
use crate::error::{ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sigap_core::events::rules::{self as core_rules, EventRule, Tried};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// One condition: the field, how it is compared, and with what.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventConditionIo {
    /// source, node, resource, type, metric, severity, message, description, message_key or
    /// additional.<name>.
    #[schema(max_length = 120)]
    pub field: String,
    /// equals, not_equals, contains, starts_with, ends_with, matches (a regular expression)
    /// or at_least (the severity only).
    #[schema(pattern = "^(equals|not_equals|contains|starts_with|ends_with|matches|at_least)$")]
    pub op: String,
    #[schema(max_length = 1000)]
    pub value: String,
}

/// A rule as written: every field may be left out of a change. By kind: ignore has no more
/// fields; transform has `set`; bind has `ci_attribute` and `from`; incident has
/// `open_incident`, `threshold` and `only_with_service`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRuleIn {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    /// ignore, transform, bind or incident.
    #[schema(pattern = "^(ignore|transform|bind|incident)$")]
    pub kind: Option<String>,
    /// Rules apply in the order of their positions (a new rule goes last when none is given).
    #[schema(minimum = 0, maximum = 1000000)]
    pub position: Option<i64>,
    pub active: Option<bool>,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// All must hold; none: every event.
    pub conditions: Option<Vec<EventConditionIo>>,
    /// Transform: field to the text it is set to, with `{field}` placeholders.
    pub set: Option<BTreeMap<String, String>>,
    /// Bind: name, serial or attributes.<name> of the CI.
    pub ci_attribute: Option<String>,
    /// Bind: the event's field whose value the CI's must equal.
    pub from: Option<String>,
    /// Incident: whether the alerts it matches open an incident (default true).
    pub open_incident: Option<bool>,
    /// Incident: from which severity, critical, major, minor, warning or info (the policy's
    /// when not given).
    pub threshold: Option<String>,
    /// Incident: only when impact analysis finds a service the alert's CI affects.
    pub only_with_service: Option<bool>,
    /// The version changed (instead of `If-Match`).
    pub version: Option<i64>,
}

impl EventRuleIn {
    /// The request as the core reads it: the fields given, nothing else.
    fn to_value(&self) -> Value {
        let mut o = serde_json::Map::new();
        let mut put = |k: &str, v: Value| {
            o.insert(k.to_owned(), v);
        };
        if let Some(v) = &self.name {
            put("name", json!(v));
        }
        if let Some(v) = &self.kind {
            put("kind", json!(v));
        }
        if let Some(v) = self.position {
            put("position", json!(v));
        }
        if let Some(v) = self.active {
            put("active", json!(v));
        }
        if let Some(v) = &self.description {
            put("description", json!(v));
        }
        if let Some(v) = &self.conditions {
            put("conditions", json!(v));
        }
        if let Some(v) = &self.set {
            put("set", json!(v));
        }
        if let Some(v) = &self.ci_attribute {
            put("ci_attribute", json!(v));
        }
        if let Some(v) = &self.from {
            put("from", json!(v));
        }
        if let Some(v) = self.open_incident {
            put("open_incident", json!(v));
        }
        if let Some(v) = &self.threshold {
            put("threshold", json!(v));
        }
        if let Some(v) = self.only_with_service {
            put("only_with_service", json!(v));
        }
        if let Some(v) = self.version {
            put("version", json!(v));
        }
        Value::Object(o)
    }
}

/// A rule.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventRuleOut {
    pub id: Uuid,
    pub name: String,
    pub kind: String,
    pub position: i64,
    pub active: bool,
    pub description: String,
    pub conditions: Vec<EventConditionIo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub set: Option<BTreeMap<String, String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ci_attribute: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_incident: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threshold: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub only_with_service: Option<bool>,
    /// How many events (or alerts) it matched, and when last.
    pub hits: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_hit_at: Option<Time>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    pub version: i64,
}

impl From<EventRule> for EventRuleOut {
    fn from(r: EventRule) -> Self {
        let d = &r.definition;
        let text = |k: &str| d.get(k).and_then(Value::as_str).map(str::to_owned);
        EventRuleOut {
            id: r.id.as_uuid(),
            conditions: d
                .get("conditions")
                .and_then(|c| serde_json::from_value(c.clone()).ok())
                .unwrap_or_default(),
            set: d
                .get("set")
                .and_then(|c| serde_json::from_value(c.clone()).ok()),
            ci_attribute: text("ci_attribute"),
            from: text("from"),
            open_incident: d.get("open_incident").and_then(Value::as_bool),
            threshold: text("threshold"),
            only_with_service: d.get("only_with_service").and_then(Value::as_bool),
            name: r.name,
            kind: r.kind,
            position: r.position,
            active: r.active,
            description: r.description,
            hits: r.hits,
            last_hit_at: r.last_hit_at.map(ts),
            created_at: ts(r.created_at),
            updated_at: ts(r.updated_at),
            version: r.version,
        }
    }
}

/// The rules, in the order they apply (agents).
#[utoipa::path(get, path = "/api/v1/event_rules", tag = "events",
    responses((status = 200, body = Vec<EventRuleOut>)))]
pub async fn list_rules(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<EventRuleOut>>> {
    let list = core_rules::list(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Writes a rule (administrators).
#[utoipa::path(post, path = "/api/v1/event_rules", tag = "events", request_body = EventRuleIn,
    responses((status = 201, body = EventRuleOut, headers(("Location" = String), ("ETag" = String))),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_rule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<EventRuleIn>,
) -> ApiResult<Response> {
    let r = core_rules::create(&s.core, &ctx, &b.to_value()).await?;
    let location = format!("/api/v1/event_rules/{}", r.id);
    let version = r.version;
    Ok(with_etag(
        StatusCode::CREATED,
        version,
        EventRuleOut::from(r),
        Some(location),
    ))
}

/// A rule (agents).
#[utoipa::path(get, path = "/api/v1/event_rules/{id}", tag = "events",
    params(("id" = String, Path)),
    responses((status = 200, body = EventRuleOut, headers(("ETag" = String))),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_rule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let r = core_rules::get(&s.core, &ctx, &id).await?;
    let version = r.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        EventRuleOut::from(r),
        None,
    ))
}

/// Changes a rule: the fields given; the definition is checked again whole (administrators).
#[utoipa::path(patch, path = "/api/v1/event_rules/{id}", tag = "events", request_body = EventRuleIn,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = EventRuleOut, headers(("ETag" = String))),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 412, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_rule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<EventRuleIn>,
) -> ApiResult<Response> {
    let r = core_rules::update(&s.core, &ctx, &id, &b.to_value(), v).await?;
    let version = r.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        EventRuleOut::from(r),
        None,
    ))
}

/// Removes a rule; removing one that is not there is done as well (administrators).
#[utoipa::path(delete, path = "/api/v1/event_rules/{id}", tag = "events",
    params(("id" = String, Path)),
    responses((status = 204)))]
pub async fn delete_rule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    core_rules::delete(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TryQuery {
    /// How many of the most recent events, 1 to 1,000 (default 100; others are taken as
    /// the nearest).
    #[serde(default, deserialize_with = "crate::api::params::int")]
    pub limit: Option<i64>,
}

/// What a rule would do to one recent event.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleTriedOut {
    pub event: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub time: Time,
    pub source: String,
    pub node: String,
    pub severity: String,
    pub message: String,
    pub matched: bool,
    /// When matched: dropped, set, bound, no_ci, opens or opens_none.
    pub outcome: String,
    /// The fields set, the CI bound, or the incident's threshold (null when there is none).
    #[schema(value_type = Option<Object>)]
    pub detail: Value,
}

/// The answer of a trial: the recent events, newest first, and how many it matched.
#[derive(Debug, Serialize, ToSchema)]
pub struct RuleTrialOut {
    pub tried: usize,
    pub matched: usize,
    pub results: Vec<RuleTriedOut>,
}

impl From<Tried> for RuleTriedOut {
    fn from(t: Tried) -> Self {
        RuleTriedOut {
            event: t.event.id.as_uuid(),
            time: ts(t.event.time),
            source: t.event.source,
            node: t.event.node,
            severity: t.event.severity,
            message: t.event.message,
            matched: t.matched,
            outcome: t.outcome.to_owned(),
            detail: t.detail,
        }
    }
}

/// Tries a rule, not saved, on the most recent events: what it would match and do
/// (agents). The name may be left out.
#[utoipa::path(post, path = "/api/v1/event_rules/try", tag = "events", request_body = EventRuleIn,
    params(TryQuery),
    responses((status = 200, body = RuleTrialOut),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn try_rule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<TryQuery>,
    ApiJson(b): ApiJson<EventRuleIn>,
) -> ApiResult<Json<RuleTrialOut>> {
    let tried = core_rules::try_rule(&s.core, &ctx, &b.to_value(), q.limit.unwrap_or(100)).await?;
    Ok(Json(trial_out(tried)))
}

pub fn trial_out(tried: Vec<Tried>) -> RuleTrialOut {
    let matched = tried.iter().filter(|t| t.matched).count();
    RuleTrialOut {
        tried: tried.len(),
        matched,
        results: tried.into_iter().map(Into::into).collect(),
    }
}
