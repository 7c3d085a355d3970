//! API of service level management: calendars and holidays, agreements and targets, the SLA
//! clocks of incidents, the breaching-soon list and compliance reporting.

use super::dto::{Ref, Time, nullable, ts};
use super::handlers::with_etag;
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sigap_core::AppError;
use sigap_core::model::{ClockEvent, HolidayRow, ReportLine, Target};
use sigap_core::sla::{self, AgreementDetail, CalendarDetail, ClockView};
use sigap_domain::sla::Condition;
use utoipa::ToSchema;
use uuid::Uuid;

// ----- calendars -----

#[derive(Debug, Serialize, ToSchema)]
pub struct HolidayOut {
    pub id: Uuid,
    /// The date (for a yearly holiday, its month and day count every year).
    pub date: String,
    /// The closed part of the day, `HH:MM-HH:MM`; none: the whole day.
    pub closed: Option<String>,
    pub recurring: bool,
    pub name: String,
}

impl From<HolidayRow> for HolidayOut {
    fn from(h: HolidayRow) -> Self {
        let fmt = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
        Self {
            id: h.id.as_uuid(),
            date: h.day.to_string(),
            closed: match (h.closed_from, h.closed_to) {
                (Some(a), Some(b)) => Some(format!("{}-{}", fmt(a), fmt(b))),
                _ => None,
            },
            recurring: h.recurring,
            name: h.name,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarOut {
    pub id: Uuid,
    pub name: String,
    /// IANA time zone, e.g. `Asia/Jakarta`.
    pub time_zone: String,
    /// Seven lists, Monday first, of business intervals `HH:MM-HH:MM`.
    pub hours: Vec<Vec<String>>,
    pub description: String,
    pub holidays: Vec<HolidayOut>,
    pub version: i64,
}

impl From<CalendarDetail> for CalendarOut {
    fn from(d: CalendarDetail) -> Self {
        Self {
            id: d.calendar.id.as_uuid(),
            name: d.calendar.name,
            time_zone: d.calendar.time_zone,
            hours: d
                .hours
                .iter()
                .map(|day| day.iter().map(ToString::to_string).collect())
                .collect(),
            description: d.calendar.description,
            holidays: d.holidays.into_iter().map(HolidayOut::from).collect(),
            version: d.calendar.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CalendarIn {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    /// Seven lists, Monday first, of `HH:MM-HH:MM` (24:00 may end a day). Default on
    /// create: Monday to Friday 08:00-17:00.
    pub hours: Option<Vec<Vec<String>>>,
    pub description: Option<String>,
}

impl From<CalendarIn> for sla::CalendarInput {
    fn from(c: CalendarIn) -> Self {
        Self {
            name: c.name,
            time_zone: c.time_zone,
            hours: c.hours,
            description: c.description,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayIn {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `HH:MM-HH:MM` closed; leave out to close the whole day.
    pub closed: Option<String>,
    #[serde(default)]
    pub recurring: bool,
    #[serde(default)]
    pub name: String,
}

/// Business calendars (agents). The built-in 24x7 calendar is not listed: an agreement
/// without a calendar uses it.
#[utoipa::path(get, path = "/api/v1/calendars", tag = "sla",
    responses((status = 200, body = Vec<CalendarOut>)))]
pub async fn list_calendars(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<CalendarOut>>> {
    let mut out = Vec::new();
    for c in sla::calendars(&s.core, &ctx).await? {
        out.push(
            sla::calendar(&s.core, &ctx, &c.id.to_string())
                .await?
                .into(),
        );
    }
    Ok(Json(out))
}

/// Creates a calendar (administrators).
#[utoipa::path(post, path = "/api/v1/calendars", tag = "sla", request_body = CalendarIn,
    responses((status = 201, body = CalendarOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_calendar(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<CalendarIn>,
) -> ApiResult<Response> {
    let c = sla::create_calendar(&s.core, &ctx, body.into()).await?;
    let d = sla::calendar(&s.core, &ctx, &c.id.to_string()).await?;
    let location = format!("/api/v1/calendars/{}", c.id);
    Ok(with_etag(
        StatusCode::CREATED,
        c.version,
        CalendarOut::from(d),
        Some(location),
    ))
}

#[utoipa::path(get, path = "/api/v1/calendars/{key}", tag = "sla", params(("key" = String, Path)),
    responses((status = 200, body = CalendarOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_calendar(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let d = sla::calendar(&s.core, &ctx, &key).await?;
    Ok(with_etag(
        StatusCode::OK,
        d.calendar.version,
        CalendarOut::from(d),
        None,
    ))
}

/// Changes a calendar (administrators). Clocks are read with the calendar as it is now; a
/// clock's stored due time follows at its next change.
#[utoipa::path(patch, path = "/api/v1/calendars/{key}", tag = "sla", request_body = CalendarIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = CalendarOut), (status = 412, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_calendar(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<CalendarIn>,
) -> ApiResult<Response> {
    let c = sla::update_calendar(&s.core, &ctx, &key, body.into(), v).await?;
    let d = sla::calendar(&s.core, &ctx, &c.id.to_string()).await?;
    Ok(with_etag(
        StatusCode::OK,
        c.version,
        CalendarOut::from(d),
        None,
    ))
}

/// Deletes a calendar no agreement uses (administrators).
#[utoipa::path(delete, path = "/api/v1/calendars/{key}", tag = "sla", params(("key" = String, Path)),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_calendar(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<StatusCode> {
    sla::delete_calendar(&s.core, &ctx, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds holidays (administrators); the same day and closure twice is added once.
#[utoipa::path(post, path = "/api/v1/calendars/{key}/holidays", tag = "sla", request_body = Vec<HolidayIn>,
    params(("key" = String, Path)),
    responses((status = 201, body = Vec<HolidayOut>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_holidays(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<Vec<HolidayIn>>,
) -> ApiResult<(StatusCode, Json<Vec<HolidayOut>>)> {
    let input = body
        .into_iter()
        .map(|h| sla::HolidayInput {
            date: h.date,
            closed: h.closed,
            recurring: h.recurring,
            name: h.name,
        })
        .collect();
    let added = sla::add_holidays(&s.core, &ctx, &key, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(added.into_iter().map(HolidayOut::from).collect()),
    ))
}

/// Imports holidays from an iCalendar file (`text/calendar`): each `VEVENT` with its
/// `DTSTART` (a date closes the day; a time closes until `DTEND` or the end of the day),
/// `SUMMARY`, and `RRULE:FREQ=YEARLY` for yearly ones.
#[utoipa::path(post, path = "/api/v1/calendars/{key}/holidays/ical", tag = "sla",
    request_body(content = String, content_type = "text/calendar"), params(("key" = String, Path)),
    responses((status = 201, body = Vec<HolidayOut>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn import_ical(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    body: crate::extract::RawBody,
) -> ApiResult<(StatusCode, Json<Vec<HolidayOut>>)> {
    let text = std::str::from_utf8(&body.bytes).map_err(|_| {
        ApiError::App(AppError::field(
            "file",
            "invalid_ical",
            "the file is not UTF-8 text",
        ))
    })?;
    let input = sla::parse_ical(text)?;
    let added = sla::add_holidays(&s.core, &ctx, &key, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(added.into_iter().map(HolidayOut::from).collect()),
    ))
}

#[utoipa::path(delete, path = "/api/v1/calendars/{key}/holidays/{id}", tag = "sla",
    params(("key" = String, Path), ("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_holiday(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath((key, id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    sla::delete_holiday(&s.core, &ctx, &key, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- agreements and targets -----

#[derive(Debug, Serialize, ToSchema)]
pub struct TargetOut {
    pub id: Uuid,
    pub name: String,
    /// response or resolution.
    pub metric: String,
    pub duration_minutes: i64,
    /// Conditions: a list of alternatives, each `{field: [values]}` with every field
    /// matching; `[]` never matches, `[{}]` always does.
    #[schema(schema_with = condition_schema)]
    pub applies_when: Condition,
    #[schema(schema_with = condition_schema)]
    pub start: Condition,
    #[schema(schema_with = condition_schema)]
    pub pause: Condition,
    /// None: resume when the pause condition no longer holds.
    #[schema(schema_with = nullable_condition_schema)]
    pub resume: Option<Condition>,
    #[schema(schema_with = condition_schema)]
    pub stop: Condition,
    #[schema(schema_with = condition_schema)]
    pub cancel: Condition,
    #[schema(schema_with = condition_schema)]
    pub reset: Condition,
    /// cancel, stop or keep.
    pub when_start_fails: String,
    /// Percentages at which people are told.
    pub thresholds: Vec<i64>,
    pub escalate_group: Option<Uuid>,
    pub notify_owner: bool,
    /// Requested items are measured against their catalogue item's delivery time (the
    /// duration stays for tasks without one).
    pub delivery_time: bool,
    pub version: i64,
}

impl From<Target> for TargetOut {
    fn from(t: Target) -> Self {
        let c = sla::conditions(&t);
        let parse = |s: &str| serde_json::from_str::<Condition>(s).unwrap_or_default();
        Self {
            thresholds: sla::thresholds(&t),
            id: t.id.as_uuid(),
            name: t.name,
            metric: t.metric.code().into(),
            duration_minutes: t.duration_secs / 60,
            applies_when: parse(&t.applies_when),
            start: c.start,
            pause: c.pause,
            resume: c.resume,
            stop: c.stop,
            cancel: c.cancel,
            reset: c.reset,
            when_start_fails: c.when_start_fails.code().into(),
            escalate_group: t.escalate_group_id.map(|g| g.as_uuid()),
            notify_owner: t.notify_owner,
            delivery_time: t.delivery_time,
            version: t.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementOut {
    pub id: Uuid,
    pub name: String,
    /// sla, ola or uc.
    pub kind: String,
    pub customer: Option<Ref>,
    pub supplier: Option<Ref>,
    pub group: Option<Ref>,
    /// None: the built-in 24x7 calendar.
    pub calendar: Option<Ref>,
    /// calendar, caller, ci_location (the CI's `time_zone` attribute) or location (the time
    /// zone of the task's location); when the source has none, the calendar's.
    pub tz_source: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub active: bool,
    pub description: String,
    /// None: every service.
    pub services: Vec<Ref>,
    pub targets: Vec<TargetOut>,
    pub version: i64,
}

fn named<T: ToString>(r: Option<sigap_core::model::NamedRef<T>>) -> Option<Ref> {
    r.and_then(|r| {
        Uuid::parse_str(&r.id.to_string()).ok().map(|id| Ref {
            id,
            display: r.name,
        })
    })
}

impl From<AgreementDetail> for AgreementOut {
    fn from(d: AgreementDetail) -> Self {
        let a = d.agreement;
        Self {
            id: a.id.as_uuid(),
            name: a.name,
            kind: a.kind.code().into(),
            customer: named(a.customer),
            supplier: named(a.supplier),
            group: named(a.group),
            calendar: named(a.calendar),
            tz_source: a.tz_source,
            valid_from: a.valid_from.to_string(),
            valid_to: a.valid_to.map(|d| d.to_string()),
            active: a.active,
            description: a.description,
            services: d
                .services
                .into_iter()
                .filter_map(|s| named(Some(s)))
                .collect(),
            targets: d.targets.into_iter().map(TargetOut::from).collect(),
            version: a.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AgreementIn {
    pub name: Option<String>,
    /// sla (with a customer organization), ola (with a support group), uc (with a supplier).
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub customer: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub supplier: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub group: Option<Option<String>>,
    /// Calendar id or name; null or `24x7` for the built-in always-open calendar.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub calendar: Option<Option<String>>,
    /// calendar (default), caller, ci_location or location.
    pub tz_source: Option<String>,
    /// `YYYY-MM-DD`; default today.
    pub valid_from: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub valid_to: Option<Option<String>>,
    pub active: Option<bool>,
    pub description: Option<String>,
    /// Service ids or names; empty: every service.
    pub services: Option<Vec<String>>,
}

impl From<AgreementIn> for sla::AgreementInput {
    fn from(a: AgreementIn) -> Self {
        Self {
            name: a.name,
            kind: a.kind,
            customer: a.customer,
            supplier: a.supplier,
            group: a.group,
            calendar: a.calendar,
            tz_source: a.tz_source,
            valid_from: a.valid_from,
            valid_to: a.valid_to,
            active: a.active,
            description: a.description,
            services: a.services,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TargetIn {
    pub name: Option<String>,
    /// response or resolution (required on create).
    pub metric: Option<String>,
    pub duration_minutes: Option<i64>,
    /// Which tasks the target is for, e.g. `[{"priority": ["1"]}]`; default every task.
    /// When several targets of an agreement match, the shortest wins.
    #[schema(schema_with = nullable_condition_schema)]
    pub applies_when: Option<Condition>,
    /// Conditions over kind, priority, state, category, hold_reason, contact_type,
    /// assigned, responded, major, service, organization, assignment_group. Defaults by
    /// metric: resolution pauses on hold and while resolved and stops at closure; response
    /// stops at the first assignment or reply to the caller.
    #[schema(schema_with = nullable_condition_schema)]
    pub start: Option<Condition>,
    #[schema(schema_with = nullable_condition_schema)]
    pub pause: Option<Condition>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(schema_with = nullable_condition_schema)]
    pub resume: Option<Option<Condition>>,
    #[schema(schema_with = nullable_condition_schema)]
    pub stop: Option<Condition>,
    #[schema(schema_with = nullable_condition_schema)]
    pub cancel: Option<Condition>,
    #[schema(schema_with = nullable_condition_schema)]
    pub reset: Option<Condition>,
    /// cancel, stop or keep.
    pub when_start_fails: Option<String>,
    /// Percentages, default [50, 75, 100].
    pub thresholds: Option<Vec<i64>>,
    /// At the last threshold the task goes to this group (id or name).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub escalate_group: Option<Option<String>>,
    /// At the last threshold the service owner is told.
    pub notify_owner: Option<bool>,
    /// Measure requested items against their catalogue item's delivery time.
    pub delivery_time: Option<bool>,
}

impl From<TargetIn> for sla::TargetInput {
    fn from(t: TargetIn) -> Self {
        Self {
            name: t.name,
            metric: t.metric,
            duration_minutes: t.duration_minutes,
            applies_when: t.applies_when,
            start: t.start,
            pause: t.pause,
            resume: t.resume,
            stop: t.stop,
            cancel: t.cancel,
            reset: t.reset,
            when_start_fails: t.when_start_fails,
            thresholds: t.thresholds,
            escalate_group: t.escalate_group,
            notify_owner: t.notify_owner,
            delivery_time: t.delivery_time,
        }
    }
}

/// Agreements with their services and targets (agents).
#[utoipa::path(get, path = "/api/v1/agreements", tag = "sla",
    responses((status = 200, body = Vec<AgreementOut>)))]
pub async fn list_agreements(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<AgreementOut>>> {
    let all = sla::agreements(&s.core, &ctx).await?;
    Ok(Json(all.into_iter().map(AgreementOut::from).collect()))
}

/// Creates an agreement (managers).
#[utoipa::path(post, path = "/api/v1/agreements", tag = "sla", request_body = AgreementIn,
    responses((status = 201, body = AgreementOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_agreement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<AgreementIn>,
) -> ApiResult<Response> {
    let d = sla::create_agreement(&s.core, &ctx, body.into()).await?;
    let location = format!("/api/v1/agreements/{}", d.agreement.id);
    let version = d.agreement.version;
    Ok(with_etag(
        StatusCode::CREATED,
        version,
        AgreementOut::from(d),
        Some(location),
    ))
}

#[utoipa::path(get, path = "/api/v1/agreements/{key}", tag = "sla", params(("key" = String, Path)),
    responses((status = 200, body = AgreementOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_agreement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let d = sla::agreement(&s.core, &ctx, &key).await?;
    let version = d.agreement.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        AgreementOut::from(d),
        None,
    ))
}

/// Changes an agreement (managers).
#[utoipa::path(patch, path = "/api/v1/agreements/{key}", tag = "sla", request_body = AgreementIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = AgreementOut), (status = 412, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_agreement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<AgreementIn>,
) -> ApiResult<Response> {
    let d = sla::update_agreement(&s.core, &ctx, &key, body.into(), v).await?;
    let version = d.agreement.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        AgreementOut::from(d),
        None,
    ))
}

/// Adds a target to an agreement (managers).
#[utoipa::path(post, path = "/api/v1/agreements/{key}/targets", tag = "sla", request_body = TargetIn,
    params(("key" = String, Path)),
    responses((status = 201, body = TargetOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn add_target(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<TargetIn>,
) -> ApiResult<(StatusCode, Json<TargetOut>)> {
    let t = sla::add_target(&s.core, &ctx, &key, body.into()).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// Changes a target (managers); running clocks take the new target on the next change of
/// their task.
#[utoipa::path(patch, path = "/api/v1/targets/{id}", tag = "sla", request_body = TargetIn,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = TargetOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_target(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<TargetIn>,
) -> ApiResult<Json<TargetOut>> {
    let t = sla::update_target(&s.core, &ctx, &id, body.into(), v).await?;
    Ok(Json(t.into()))
}

#[utoipa::path(delete, path = "/api/v1/targets/{id}", tag = "sla", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_target(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    sla::delete_target(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- clocks -----

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockEventOut {
    #[schema(value_type = String, format = DateTime)]
    pub at: Time,
    /// started, paused, resumed, retargeted, stopped, cancelled, reset or threshold.
    pub kind: String,
    /// Why: the condition that matched, the new target, the threshold.
    pub detail: String,
}

impl From<ClockEvent> for ClockEventOut {
    fn from(e: ClockEvent) -> Self {
        Self {
            at: ts(e.at),
            kind: e.kind,
            detail: e.detail,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClockOut {
    pub id: Uuid,
    pub agreement: String,
    /// sla, ola or uc.
    pub agreement_kind: String,
    /// response or resolution.
    pub metric: String,
    pub target: String,
    pub target_minutes: i64,
    /// in_progress, paused, achieved, breached or cancelled, as read now.
    pub stage: String,
    pub breached: bool,
    /// Running time within the calendar, in seconds.
    pub business_elapsed_seconds: i64,
    /// Running time on the wall clock (24x7 less pauses), in seconds.
    pub actual_elapsed_seconds: i64,
    /// Target less business elapsed, in seconds (negative once breached).
    pub business_left_seconds: i64,
    /// Business elapsed as a percentage of the target.
    pub percentage: f64,
    /// When the target runs out (while running).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub due_at: Option<Time>,
    pub time_zone: String,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Time,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Time>,
    /// The clock's timeline.
    pub events: Vec<ClockEventOut>,
}

impl From<ClockView> for ClockOut {
    fn from(v: ClockView) -> Self {
        let r = v.reading;
        Self {
            id: v.clock.id.as_uuid(),
            agreement: v.agreement,
            agreement_kind: v.kind.code().into(),
            metric: v.clock.metric.code().into(),
            target: v.clock.target_name,
            target_minutes: v.clock.duration_secs / 60,
            stage: r.stage.code().into(),
            breached: r.breached,
            business_elapsed_seconds: r.business_elapsed.as_secs(),
            actual_elapsed_seconds: r.actual_elapsed.as_secs(),
            business_left_seconds: r.business_left.as_secs(),
            percentage: r.permille as f64 / 10.0,
            due_at: r.due.map(ts),
            time_zone: v.clock.time_zone,
            started_at: ts(v.clock.started_at),
            ended_at: v.clock.ended_at.map(ts),
            events: v.events.into_iter().map(ClockEventOut::from).collect(),
        }
    }
}

/// A condition: a list of alternatives, each `{field: [values]}` with every field matching;
/// `[]` never matches, `[{}]` always does.
fn condition_schema() -> utoipa::openapi::Array {
    condition_array(utoipa::openapi::schema::SchemaType::new(
        utoipa::openapi::Type::Array,
    ))
}

/// A condition, or `null`.
fn nullable_condition_schema() -> utoipa::openapi::Array {
    condition_array(utoipa::openapi::schema::SchemaType::from_iter([
        utoipa::openapi::Type::Array,
        utoipa::openapi::Type::Null,
    ]))
}

fn condition_array(kind: utoipa::openapi::schema::SchemaType) -> utoipa::openapi::Array {
    use utoipa::openapi::schema::{AdditionalProperties, ArrayBuilder, ObjectBuilder, Type};
    let values = ArrayBuilder::new().items(ObjectBuilder::new().schema_type(Type::String));
    let clause = ObjectBuilder::new()
        .schema_type(Type::Object)
        .additional_properties(Some(AdditionalProperties::RefOr(values.into())));
    ArrayBuilder::new()
        .schema_type(kind)
        .items(clause)
        .description(Some(
            "A list of alternatives, each `{field: [values]}` with every field matching; `[]` never matches, `[{}]` always does.",
        ))
        .build()
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreachingQuery {
    /// Clocks running out within this many minutes (default 240), or already out.
    #[serde(default, deserialize_with = "super::params::int")]
    #[param(minimum = 1, maximum = 527_040)]
    pub within_minutes: Option<i64>,
    /// At most this many clocks (default 100).
    #[serde(default, deserialize_with = "super::params::int")]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// The longest look-ahead of the breaching list: a year and a day in minutes (the parameter
/// states it as its `maximum`).
const MAX_WITHIN: i64 = 60 * 24 * 366;

#[derive(Debug, Serialize, ToSchema)]
pub struct BreachingOut {
    pub incident: Ref,
    pub number: String,
    pub short_description: String,
    pub clock: ClockOut,
}

/// Running clocks that run out soonest: the "breaching soon" list (agents).
#[utoipa::path(get, path = "/api/v1/sla/breaching", tag = "sla", params(BreachingQuery),
    responses((status = 200, body = Vec<BreachingOut>)))]
pub async fn breaching(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<BreachingQuery>,
) -> ApiResult<Json<Vec<BreachingOut>>> {
    let num = |v: Option<i64>, field: &str, default: i64, max: i64| -> Result<i64, ApiError> {
        let n = v.unwrap_or(default);
        if (1..=max).contains(&n) {
            Ok(n)
        } else {
            Err(ApiError::App(AppError::field(
                field,
                "out_of_range",
                format!("must be 1 to {max}"),
            )))
        }
    };
    let within = num(q.within_minutes, "within_minutes", 240, MAX_WITHIN)?;
    let limit = num(q.limit, "limit", 100, sigap_core::listing::MAX_LIMIT)?;
    let list = sla::breaching_soon(
        &s.core,
        &ctx,
        jiff::SignedDuration::from_mins(within),
        limit,
    )
    .await?;
    Ok(Json(
        list.into_iter()
            .map(|(v, i)| BreachingOut {
                incident: Ref {
                    id: i.id.as_uuid(),
                    display: i.number.clone(),
                },
                number: i.task.number,
                short_description: i.task.short_description,
                clock: v.into(),
            })
            .collect(),
    ))
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ComplianceQuery {
    /// One line per agreement (the default), service, priority, group or month.
    #[param(inline)]
    pub by: Option<ReportBy>,
    /// Start of the period, RFC 3339 or `YYYY-MM-DD` (UTC); default 30 days ago.
    pub from: Option<String>,
    /// End of the period: an instant (exclusive) or a date (included); default now.
    pub to: Option<String>,
    /// Only this agreement (id or name).
    pub agreement: Option<String>,
}

super::params::codes_enum!(
    /// What a compliance report is broken down by.
    ReportBy {
        Agreement = "agreement",
        Service = "service",
        Priority = "priority",
        Group = "group",
        Month = "month",
    }
);

#[derive(Debug, Serialize, ToSchema)]
pub struct ComplianceOut {
    pub key: String,
    /// Clocks stopped in the period.
    pub total: i64,
    pub achieved: i64,
    pub breached: i64,
    /// Achieved as a percentage of the total.
    pub percentage: f64,
    /// Average business time to stop, in seconds.
    pub average_business_seconds: i64,
}

impl From<ReportLine> for ComplianceOut {
    fn from(l: ReportLine) -> Self {
        let achieved = l.total - l.breached;
        Self {
            percentage: if l.total > 0 {
                (achieved as f64 * 1000.0 / l.total as f64).round() / 10.0
            } else {
                0.0
            },
            key: l.key,
            total: l.total,
            achieved,
            breached: l.breached,
            average_business_seconds: l.avg_business_us / 1_000_000,
        }
    }
}

/// Parses a period bound: RFC 3339, or a date (UTC): its start for `from`, the end of the
/// day for `to`, so that a period of dates includes its last day.
pub fn instant(
    field: &str,
    v: Option<&str>,
    default: jiff::Timestamp,
) -> Result<jiff::Timestamp, AppError> {
    match v.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(default),
        Some(t) => t
            .parse::<jiff::Timestamp>()
            .ok()
            .or_else(|| {
                let day = t.parse::<jiff::civil::Date>().ok();
                let day = if field == "to" {
                    day.and_then(|d| d.tomorrow().ok())
                } else {
                    day
                };
                day.and_then(|d| {
                    jiff::tz::TimeZone::UTC
                        .to_ambiguous_timestamp(d.at(0, 0, 0, 0))
                        .compatible()
                        .ok()
                })
            })
            .ok_or_else(|| {
                AppError::field(
                    field,
                    "invalid_date",
                    "write 2026-01-31 or 2026-01-31T08:00:00Z",
                )
            }),
    }
}

/// SLA compliance: clocks stopped in a period, achieved and breached, per agreement,
/// service, priority, group or month (managers).
#[utoipa::path(get, path = "/api/v1/sla/compliance", tag = "sla", params(ComplianceQuery),
    responses((status = 200, body = Vec<ComplianceOut>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn compliance(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ComplianceQuery>,
) -> ApiResult<Json<Vec<ComplianceOut>>> {
    let now = s.core.now();
    let month_ago = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * 30))
        .unwrap_or(now);
    let from = instant("from", q.from.as_deref(), month_ago)?;
    let to = instant("to", q.to.as_deref(), now)?;
    let lines = sla::compliance(
        &s.core,
        &ctx,
        q.by.map(|b| b.code()).unwrap_or(""),
        from,
        to,
        q.agreement.as_deref(),
    )
    .await?;
    Ok(Json(lines.into_iter().map(ComplianceOut::from).collect()))
}
