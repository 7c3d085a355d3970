//! Event management over HTTP: events in (the generic endpoint, and Alertmanager's and
//! Grafana's webhooks), the alerts they became, what an agent does with an alert, the
//! policy, and the integrations that send with a secret of their own.

use super::dto::{Page, Ref, Time, ts};
use super::handlers::with_etag;
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch, parse_json};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sigap_core::events::{
    self, Alert, AlertAction, AlertDetail, AlertQuery, EventRow, Intake, Integration,
    IntegrationChange, Policy, PolicyInput,
};
use sigap_core::{AppError, FieldError};
use utoipa::ToSchema;
use uuid::Uuid;

// ----- events in -----

/// The body of `POST /api/v1/events`: an event, or a list of values each checked as an event
/// on its own (what is not an event is refused in the answer, the rest kept), or
/// `{"events": [...]}`.
pub struct EventsBody;

impl utoipa::PartialSchema for EventsBody {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{
            ArrayBuilder, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type,
        };
        let any = ObjectBuilder::new().schema_type(SchemaType::AnyValue);
        let event = Schema::Object(
            ObjectBuilder::new()
                .schema_type(Type::Object)
                .description(Some(
                    "An event: source, node, severity required; resource, type, metric, \
                     message, description, time (RFC 3339), message_key, additional (an object)",
                ))
                .build(),
        );
        // At most 1,000 (more are refused with a 422).
        let list = Schema::Array(ArrayBuilder::new().items(any).build());
        utoipa::openapi::RefOr::T(Schema::OneOf(
            OneOfBuilder::new().item(event).item(list).build(),
        ))
    }
}

impl utoipa::ToSchema for EventsBody {}

/// Alertmanager's (and Grafana's) webhook payload, version 4: what Sigap reads of it.
#[derive(Debug, Deserialize, ToSchema)]
#[allow(dead_code)]
pub struct WebhookIn {
    pub version: Option<String>,
    #[serde(rename = "groupKey")]
    #[schema(rename = "groupKey")]
    pub group_key: Option<String>,
    pub status: Option<String>,
    /// The alerts of the notification (at most 1,000): `status`, `labels`, `annotations`,
    /// `startsAt`, `endsAt`, `generatorURL`, `fingerprint`.
    #[schema(value_type = Vec<Object>)]
    pub alerts: Vec<serde_json::Map<String, Value>>,
    #[serde(rename = "externalURL")]
    #[schema(rename = "externalURL")]
    pub external_url: Option<String>,
}

/// What a request of events came to: how many were accepted, sent before, refused, and for
/// each (by its place in the request) its alert or its errors.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntakeOut {
    pub accepted: usize,
    pub duplicates: usize,
    pub rejected: usize,
    /// `{index, status: accepted|duplicate|rejected, alert, outcome, errors}` per event.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<Value>,
}

impl From<Intake> for IntakeOut {
    fn from(i: Intake) -> Self {
        Self {
            accepted: i.accepted(),
            duplicates: i.duplicates(),
            rejected: i.refused(),
            results: events::results_json(&i),
        }
    }
}

/// A body of JSON: an object or a list.
fn body_json(bytes: &[u8]) -> Result<Value, ApiError> {
    let list = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|b| *b == b'[');
    if list {
        Ok(Value::Array(parse_json::<Vec<Value>>(bytes)?))
    } else {
        parse_json::<Value>(bytes)
    }
}

/// The events of a body: one event, a list of them, or `{"events": [...]}`.
fn events_of(body: Value) -> Result<Vec<Value>, ApiError> {
    match body {
        Value::Array(list) => Ok(list),
        Value::Object(mut o) if o.contains_key("events") => match o.remove("events") {
            Some(Value::Array(list)) if o.is_empty() => Ok(list),
            Some(Value::Array(_)) => Err(ApiError::InvalidBody(vec![FieldError::new(
                "",
                "unknown_field",
                "a body of `events` has no other fields",
            )])),
            _ => Err(ApiError::InvalidBody(vec![FieldError::new(
                "events",
                "invalid_type",
                "must be a list of events",
            )])),
        },
        Value::Object(o) => Ok(vec![Value::Object(o)]),
        _ => Err(ApiError::InvalidBody(vec![FieldError::new(
            "",
            "invalid_type",
            "the body must be an event, a list of events, or {\"events\": [...]}",
        )])),
    }
}

/// Takes in events: one, a list, or `{"events": [...]}` (at most 1,000). Each is checked on
/// its own: the valid ones are kept (in one transaction) and the answer says, event by
/// event, which alert each went to or why it was refused. The same event sent again is
/// the one event (`duplicate`). Agents, or a monitoring tool with its integration's secret.
/// When the node takes in as many requests at once as it may (the server's
/// `event_intake_at_once`): 429 with `Retry-After`; nothing of the request was kept.
#[utoipa::path(post, path = "/api/v1/events", tag = "events", request_body = EventsBody,
    responses((status = 200, body = IntakeOut),
              (status = 422, body = ProblemJson, content_type = "application/problem+json"),
              (status = 429, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn post_events(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    body: Bytes,
) -> ApiResult<Json<IntakeOut>> {
    let list = events_of(body_json(&body)?)?;
    let _place = s.intake.take()?;
    let intake = events::take(&s.core, &ctx, list, None).await?;
    Ok(Json(intake.into()))
}

async fn webhook(
    s: &AppState,
    ctx: &sigap_core::Ctx,
    body: &[u8],
    source: &str,
) -> ApiResult<Json<IntakeOut>> {
    // The fields Sigap reads must have their types; the rest is the sender's.
    parse_json::<WebhookIn>(body)?;
    let body = body_json(body)?;
    let n = sigap_domain::event::alertmanager::notification(&body, source)
        .map_err(|e| ApiError::InvalidBody(vec![FieldError::new("alerts", "invalid_type", e.0)]))?;
    let _place = s.intake.take()?;
    let intake = events::take(&s.core, ctx, n.events, n.group_key).await?;
    Ok(Json(intake.into()))
}

/// Prometheus Alertmanager's webhook (payload version 4): each alert of the notification is
/// an event keyed by its fingerprint; a resolved one clears its alert. The alerts of one
/// group share an incident. Re-sends make nothing new. Configure a `webhook_config` with
/// this URL and `authorization: {credentials: <the integration's secret>}`.
#[utoipa::path(post, path = "/api/v1/integrations/alertmanager", tag = "events",
    request_body = WebhookIn,
    responses((status = 200, body = IntakeOut),
              (status = 422, body = ProblemJson, content_type = "application/problem+json"),
              (status = 429, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn alertmanager(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    body: Bytes,
) -> ApiResult<Json<IntakeOut>> {
    webhook(&s, &ctx, &body, "alertmanager").await
}

/// Grafana's webhook contact point (Alertmanager's shape with Grafana's fields): as the
/// Alertmanager webhook.
#[utoipa::path(post, path = "/api/v1/integrations/grafana", tag = "events",
    request_body = WebhookIn,
    responses((status = 200, body = IntakeOut),
              (status = 422, body = ProblemJson, content_type = "application/problem+json"),
              (status = 429, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn grafana(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    body: Bytes,
) -> ApiResult<Json<IntakeOut>> {
    webhook(&s, &ctx, &body, "grafana").await
}

// ----- alerts -----

/// An alert: the events of one key while what they report goes on.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertOut {
    pub id: Uuid,
    pub number: String,
    pub source: String,
    /// The key its events share (the sender's message key, else source, node, type,
    /// resource and metric).
    pub key: String,
    /// open, acknowledged, flapping or closed.
    pub state: String,
    /// The latest event's severity: critical, major, minor, warning, info or clear.
    pub severity: String,
    /// The worst severity it had.
    pub worst: String,
    pub node: String,
    pub resource: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub metric: String,
    pub message: String,
    pub description: String,
    /// The CI its node is, by name.
    pub ci: Option<Ref>,
    pub incident: Option<Ref>,
    /// The primary alert it is correlated under.
    pub parent: Option<Ref>,
    pub event_count: i64,
    #[schema(value_type = String, format = DateTime)]
    pub first_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub last_at: Time,
    /// Why it is held back (a maintenance window, a scheduled change), if it is.
    pub maintenance: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<Time>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Time>,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    pub version: i64,
}

fn r(id: Uuid, display: Option<String>) -> Ref {
    Ref {
        id,
        display: display.unwrap_or_default(),
    }
}

impl From<Alert> for AlertOut {
    fn from(a: Alert) -> Self {
        Self {
            id: a.id.as_uuid(),
            ci: a.ci_id.map(|c| r(c.as_uuid(), a.ci_name)),
            incident: a.incident_id.map(|t| r(t.as_uuid(), a.incident_number)),
            parent: a.parent_id.map(|p| r(p.as_uuid(), a.parent_number)),
            number: a.number,
            source: a.source,
            key: a.key,
            state: a.state,
            severity: a.severity,
            worst: a.worst,
            node: a.node,
            resource: a.resource,
            kind: a.kind,
            metric: a.metric,
            message: a.message,
            description: a.description,
            event_count: a.event_count,
            first_at: ts(a.first_at),
            last_at: ts(a.last_at),
            maintenance: a.maintenance,
            acknowledged_at: a.acknowledged_at.map(ts),
            closed_at: a.closed_at.map(ts),
            updated_at: ts(a.updated_at),
            version: a.version,
        }
    }
}

/// An event as kept.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventOut {
    pub id: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub time: Time,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Time,
    pub source: String,
    pub node: String,
    pub resource: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub metric: String,
    pub severity: String,
    pub message: String,
    pub description: String,
    pub message_key: Option<String>,
    #[schema(value_type = Object)]
    pub additional: Value,
    /// alert, cleared or no_alert.
    pub outcome: String,
}

impl From<EventRow> for EventOut {
    fn from(e: EventRow) -> Self {
        Self {
            id: e.id.as_uuid(),
            time: ts(e.time),
            received_at: ts(e.received_at),
            source: e.source,
            node: e.node,
            resource: e.resource,
            kind: e.kind,
            metric: e.metric,
            severity: e.severity,
            message: e.message,
            description: e.description,
            message_key: e.message_key,
            additional: e.additional,
            outcome: e.outcome,
        }
    }
}

/// An alert with its events (newest first, at most 200) and the alerts correlated under it.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertDetailOut {
    #[serde(flatten)]
    pub alert: AlertOut,
    pub events: Vec<EventOut>,
    pub secondaries: Vec<AlertOut>,
}

fn detail_response(d: AlertDetail) -> Response {
    let version = d.alert.version;
    let body = AlertDetailOut {
        alert: d.alert.into(),
        events: d.events.into_iter().map(Into::into).collect(),
        secondaries: d.secondaries.into_iter().map(Into::into).collect(),
    };
    with_etag(StatusCode::OK, version, body, None)
}

/// The console's filters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertListQuery {
    /// States, comma-separated (open, acknowledged, flapping, closed); default all but closed.
    pub state: Option<String>,
    /// Severities, comma-separated.
    pub severity: Option<String>,
    pub source: Option<String>,
    pub node: Option<String>,
    /// Only primary alerts (none correlated under another).
    #[serde(default, deserialize_with = "crate::api::params::flag")]
    pub primaries: Option<bool>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[0-9]+\.[0-9a-f-]+$")]
    pub cursor: Option<String>,
    /// Page size (default 50).
    #[serde(default, deserialize_with = "crate::api::params::int")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

fn list_of(v: &Option<String>) -> Vec<String> {
    v.as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Alerts, those with the newest events first (agents).
#[utoipa::path(get, path = "/api/v1/alerts", tag = "events", params(AlertListQuery),
    responses((status = 200, body = Page<AlertOut>),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn list_alerts(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<AlertListQuery>,
) -> ApiResult<Json<Page<AlertOut>>> {
    let mut states = list_of(&q.state);
    if q.state.is_none() {
        states = vec!["open".into(), "acknowledged".into(), "flapping".into()];
    }
    let page = events::alerts(
        &s.core,
        &ctx,
        AlertQuery {
            states,
            severities: list_of(&q.severity),
            source: q.source,
            node: q.node,
            primaries: q.primaries.unwrap_or(false),
            cursor: q.cursor,
            limit: q.limit,
        },
    )
    .await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// An alert by number or id, with its events and correlated alerts (agents).
#[utoipa::path(get, path = "/api/v1/alerts/{key}", tag = "events", params(("key" = String, Path)),
    responses((status = 200, body = AlertDetailOut, headers(("ETag" = String))),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_alert(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    Ok(detail_response(events::alert(&s.core, &ctx, &key).await?))
}

/// Does something with an alert (agents): `acknowledge` (someone is on it; it opens no
/// incident), `open_incident` (now, whatever its severity), `close`.
#[utoipa::path(post, path = "/api/v1/alerts/{key}/{action}", tag = "events",
    params(("key" = String, Path), ("action" = String, Path, description = "acknowledge, open_incident or close"),
           ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = AlertDetailOut, headers(("ETag" = String))),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 409, body = ProblemJson, content_type = "application/problem+json"),
              (status = 412, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn alert_action(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath((key, action)): ApiPath<(String, String)>,
    IfMatch(v): IfMatch,
) -> ApiResult<Response> {
    let action = AlertAction::parse(&action).ok_or(ApiError::App(AppError::NotFound))?;
    Ok(detail_response(
        events::act(&s.core, &ctx, &key, action, v).await?,
    ))
}

/// The alerts of an incident (agents).
#[utoipa::path(get, path = "/api/v1/incidents/{key}/alerts", tag = "events",
    params(("key" = String, Path)),
    responses((status = 200, body = Vec<AlertOut>),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn incident_alerts(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<AlertOut>>> {
    let i = sigap_core::incidents::get(&s.core, &ctx, &key).await?;
    let list = events::of_incident(&s.core, &ctx, i.id).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

// ----- the policy -----

/// How events become alerts and incidents.
#[derive(Debug, Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PolicyOut {
    /// An open alert of this severity or worse opens an incident (critical … info).
    pub incident_threshold: Option<String>,
    /// Whether alerts open incidents at all.
    pub open_incidents: Option<bool>,
    /// A firing event this long after its closed alert's last event reopens it (seconds).
    pub reopen_secs: Option<i64>,
    /// Flapping: this many changes (on, off) within the window.
    pub flap_changes: Option<i64>,
    pub flap_window_secs: Option<i64>,
    /// A flapping alert settles after this long without a change.
    pub flap_quiet_secs: Option<i64>,
    /// When all alerts of an incident clear, it resolves.
    pub resolve_on_clear: Option<bool>,
    /// A new alert on a CI related in the CMDB to one with an alert begun this long ago or
    /// less (seconds) is correlated under it; 0 never.
    pub correlate_secs: Option<i64>,
    /// Events of closed alerts are kept this many days.
    pub retention_days: Option<i64>,
}

impl From<Policy> for PolicyOut {
    fn from(p: Policy) -> Self {
        Self {
            incident_threshold: Some(p.incident_threshold.code().into()),
            open_incidents: Some(p.open_incidents),
            reopen_secs: Some(p.reopen_secs),
            flap_changes: Some(p.flap.changes),
            flap_window_secs: Some(p.flap.window.as_secs()),
            flap_quiet_secs: Some(p.flap.quiet.as_secs()),
            resolve_on_clear: Some(p.resolve_on_clear),
            correlate_secs: Some(p.correlate_secs),
            retention_days: Some(p.retention_days),
        }
    }
}

/// The event policy (agents read it).
#[utoipa::path(get, path = "/api/v1/events/policy", tag = "events",
    responses((status = 200, body = PolicyOut)))]
pub async fn get_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<PolicyOut>> {
    ctx.principal.require(sigap_domain::Role::Agent)?;
    Ok(Json(events::policy(&s.core).await?.into()))
}

/// Changes the event policy: the fields given (administrators).
#[utoipa::path(patch, path = "/api/v1/events/policy", tag = "events", request_body = PolicyOut,
    responses((status = 200, body = PolicyOut),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_policy(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<PolicyOut>,
) -> ApiResult<Json<PolicyOut>> {
    let input = PolicyInput {
        incident_threshold: b.incident_threshold,
        open_incidents: b.open_incidents,
        reopen_secs: b.reopen_secs,
        flap_changes: b.flap_changes,
        flap_window_secs: b.flap_window_secs,
        flap_quiet_secs: b.flap_quiet_secs,
        resolve_on_clear: b.resolve_on_clear,
        correlate_secs: b.correlate_secs,
        retention_days: b.retention_days,
    };
    Ok(Json(events::set_policy(&s.core, &ctx, input).await?.into()))
}

// ----- integrations -----

/// A monitoring tool that sends events with a secret of its own. The secret is shown once,
/// when it is made (`secret`); afterwards only its holder knows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationOut {
    pub id: Uuid,
    pub name: String,
    /// generic, alertmanager, grafana or zabbix.
    pub kind: String,
    pub active: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_event_at: Option<Time>,
    /// Only when just made: `Authorization: Bearer <secret>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
    pub version: i64,
}

fn integration_out(i: Integration, secret: Option<String>) -> IntegrationOut {
    IntegrationOut {
        id: i.id.as_uuid(),
        name: i.name,
        kind: i.kind,
        active: i.active,
        last_event_at: i.last_event_at.map(ts),
        secret,
        version: i.version,
    }
}

/// A new integration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationNew {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// generic (the default), alertmanager, grafana or zabbix.
    #[schema(pattern = "^(generic|alertmanager|grafana|zabbix)$")]
    pub kind: Option<String>,
}

/// A change of an integration.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntegrationIn {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    pub active: Option<bool>,
    /// Makes a new secret (the old one stops working).
    #[serde(default)]
    pub new_secret: bool,
}

/// The integrations (administrators).
#[utoipa::path(get, path = "/api/v1/event_integrations", tag = "events",
    responses((status = 200, body = Vec<IntegrationOut>)))]
pub async fn list_integrations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<IntegrationOut>>> {
    let list = events::integrations(&s.core, &ctx).await?;
    Ok(Json(
        list.into_iter().map(|i| integration_out(i, None)).collect(),
    ))
}

/// Makes an integration; the answer carries its secret, once (administrators).
#[utoipa::path(post, path = "/api/v1/event_integrations", tag = "events", request_body = IntegrationNew,
    responses((status = 201, body = IntegrationOut, headers(("Location" = String), ("ETag" = String))),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_integration(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<IntegrationNew>,
) -> ApiResult<Response> {
    let kind = b.kind.unwrap_or_else(|| "generic".into());
    let made = events::create_integration(&s.core, &ctx, &b.name, &kind).await?;
    let location = format!("/api/v1/event_integrations/{}", made.integration.id);
    let version = made.integration.version;
    Ok(with_etag(
        StatusCode::CREATED,
        version,
        integration_out(made.integration, made.secret),
        Some(location),
    ))
}

/// Renames an integration, turns it on or off, or gives it a new secret (administrators).
#[utoipa::path(patch, path = "/api/v1/event_integrations/{id}", tag = "events", request_body = IntegrationIn,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = IntegrationOut),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 412, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_integration(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<IntegrationIn>,
) -> ApiResult<Json<IntegrationOut>> {
    let change = IntegrationChange {
        name: b.name,
        active: b.active,
        new_secret: b.new_secret,
    };
    let made = events::update_integration(&s.core, &ctx, &id, change, v).await?;
    Ok(Json(integration_out(made.integration, made.secret)))
}

/// Removes an integration; its events stay (administrators). Removing one that is not
/// there (any more) is done as well.
#[utoipa::path(delete, path = "/api/v1/event_integrations/{id}", tag = "events",
    params(("id" = String, Path)),
    responses((status = 204)))]
pub async fn delete_integration(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    events::delete_integration(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
