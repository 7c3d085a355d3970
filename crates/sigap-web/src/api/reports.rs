//! Service reporting's API: tasks aggregated for scripts and BI tools — counted, summed,
//! averaged, their minimum, maximum, median or 90th percentile, grouped by up to two fields
//! or time buckets in a time zone, over the tasks the caller may see.

use super::handlers::with_etag;
use super::params::{
    AggregateCode, GroupByList, SourceCode, TaskNumberCode, TaskTimeCode, codes_enum, instant,
};
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sigap_core::reports::dashboards::{self, Dashboard};
use sigap_core::reports::saved::{self, Report};
use sigap_core::reports::schedules::{self, ScheduleView};
use sigap_core::reports::table;
use sigap_core::reports::{self, Aggregation};
use sigap_domain::report::Source;
use utoipa::ToSchema;

/// What to aggregate, as query parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AggregateQuery {
    /// Up to two groupings, separated by commas: a field (`priority`, `assignment_group`…) or
    /// a moment cut into buckets (`opened_at:month`), of the source's. None: one line for
    /// all the records.
    #[param(inline, style = Form, explode = false)]
    pub group_by: Option<GroupByList>,
    /// count (the default), sum, average, min, max, median, p90, or rate (the share of
    /// tasks whose yes-or-no number holds, in percent).
    #[param(inline)]
    pub measure: Option<AggregateCode>,
    /// What the measure is of (required unless it counts), a number the source's records
    /// have: a duration in seconds (`time_to_resolve`, `business_time`…), a count, or a
    /// yes-or-no flag (1 or 0).
    #[param(inline)]
    pub of: Option<TaskNumberCode>,
    /// The moment the period is of: for tasks opened_at (the default), resolved_at or
    /// closed_at; for SLA clocks started_at (the default) or ended_at; for alerts first_at
    /// (the default) or closed_at; for approvals asked_at (the default) or decided_at; for
    /// CIs created_at.
    #[param(inline)]
    pub time: Option<TaskTimeCode>,
    /// The period's start (RFC 3339; default 30 days before `to`).
    #[param(value_type = Option<String>, format = DateTime)]
    pub from: Option<String>,
    /// The period's end, not included (RFC 3339; default now).
    #[param(value_type = Option<String>, format = DateTime)]
    pub to: Option<String>,
    /// The time zone of the buckets (IANA, such as `Europe/Amsterdam`; default yours).
    pub tz: Option<String>,
    /// Only records in these states (the source's state codes, separated by commas: a
    /// clock's stage, a CI's status).
    pub state: Option<String>,
    /// Only tasks of this priority, 1 (the highest) to 5 (of tasks, and the clocks and
    /// approvals of tasks).
    #[serde(default, deserialize_with = "crate::api::params::int")]
    #[param(minimum = 1, maximum = 5)]
    pub priority: Option<i64>,
    /// Only tasks of this category (its code; of tasks, and the clocks and approvals of
    /// tasks).
    pub category: Option<String>,
    /// The caller's queue: `mine`, `my_groups` or `unassigned` (open tasks unless `state`
    /// names others; of tasks only).
    #[param(inline)]
    pub queue: Option<QueueCode>,
}

codes_enum!(
    /// A queue of the caller's.
    QueueCode {
        Mine = "mine",
        MyGroups = "my_groups",
        Unassigned = "unassigned",
    }
);

impl QueueCode {
    fn queue(self) -> sigap_domain::report::Queue {
        use sigap_domain::report::Queue;
        match self {
            QueueCode::Mine => Queue::Mine,
            QueueCode::MyGroups => Queue::MyGroups,
            QueueCode::Unassigned => Queue::Unassigned,
        }
    }
}

/// One group's key and its name.
#[derive(Debug, Serialize, ToSchema)]
pub struct KeyOut {
    /// An id, a code, a number as text, or a bucket (`2026-03`, `2026-W13`, `2026-Q1`,
    /// `2026-03-29`); null for the tasks without one.
    pub key: Option<String>,
    /// The name of what the id is (a group's, a service's…); null for codes and buckets.
    pub name: Option<String>,
}

/// One line: a key for each grouping, in their order.
#[derive(Debug, Serialize, ToSchema)]
pub struct LineOut {
    pub keys: Vec<KeyOut>,
    /// The tasks of the line.
    pub count: i64,
    /// The measure; null when none of its tasks has the number (none resolved yet).
    pub value: Option<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AggregateOut {
    pub source: String,
    pub group_by: Vec<String>,
    pub measure: String,
    pub of: Option<String>,
    pub time: String,
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
    /// The time zone the buckets are in.
    pub time_zone: String,
    /// The caller's queue counted, if one was asked.
    pub queue: Option<String>,
    /// In the order of their keys, buckets in time order; at most 10,000.
    pub lines: Vec<LineOut>,
}

/// Records of one source aggregated: counted, or a number of theirs summed, averaged, its
/// minimum, maximum, median or 90th percentile, in groups. Only the records the caller may
/// see are counted: tasks (a customer's agent: their organization's; a requester: their
/// own); SLA clocks, alerts and approvals (agents; a customer's agent: those of their
/// organization's tasks); configuration items (the provider's agents).
#[utoipa::path(get, path = "/api/v1/aggregate/{source}", tag = "reports",
    params(("source" = inline(SourceCode), Path, description = "A kind of task, or sla_clock, ci, alert or approval."), AggregateQuery),
    responses((status = 200, body = AggregateOut),
        (status = 403, body = ProblemJson, content_type = "application/problem+json"),
        (status = 404, body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn aggregate(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(source): ApiPath<String>,
    ApiQuery(q): ApiQuery<AggregateQuery>,
) -> ApiResult<Json<AggregateOut>> {
    let source =
        Source::parse(&source).map_err(|_| ApiError::App(sigap_core::AppError::NotFound))?;
    let to = instant("to", q.to.as_deref())?.unwrap_or_else(|| s.core.now());
    let from = instant("from", q.from.as_deref())?.unwrap_or_else(|| {
        to.checked_sub(jiff::SignedDuration::from_hours(24 * 30))
            .unwrap_or(jiff::Timestamp::MIN)
    });
    let group_by = q.group_by.map(|g| g.0).unwrap_or_default();
    let measure = q
        .measure
        .map_or(sigap_domain::report::Aggregate::Count, |m| m.0);
    let time = q.time.map_or(source.default_moment(), |t| t.0);
    let states = q
        .state
        .as_deref()
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let a = Aggregation {
        source,
        group_by: group_by.clone(),
        measure,
        of: q.of.map(|o| o.0),
        time,
        from,
        to,
        time_zone: q.tz.clone(),
        states,
        priority: q.priority,
        category: q.category.clone(),
        queue: q.queue.map(QueueCode::queue),
    };
    let of = a.of;
    let out = reports::aggregate(&s.core, &ctx, a).await?;
    Ok(Json(AggregateOut {
        source: source.code().to_owned(),
        group_by: group_by.iter().map(|g| g.code().to_owned()).collect(),
        measure: measure.code().to_owned(),
        of: of
            .filter(|_| measure != sigap_domain::report::Aggregate::Count)
            .map(|o| o.code().to_owned()),
        time: time.code().to_owned(),
        from: from.to_string(),
        to: to.to_string(),
        time_zone: out.time_zone,
        queue: q.queue.map(|c| c.code().to_owned()),
        lines: out
            .lines
            .into_iter()
            .map(|l| LineOut {
                keys: l
                    .keys
                    .into_iter()
                    .map(|k| KeyOut {
                        key: k.key,
                        name: k.name,
                    })
                    .collect(),
                count: l.count,
                value: l.value,
            })
            .collect(),
    }))
}

// ----- saved reports -----

/// A report's definition: the tasks it is over, what it groups them by and measures, and
/// how it is shown. Only `source` is required.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefinitionIo {
    /// incident, problem, change, change_task, request, request_item, fulfilment_task,
    /// article, sla_clock, ci, alert or approval.
    #[schema(
        pattern = "^(incident|problem|change|change_task|request|request_item|fulfilment_task|article|sla_clock|ci|alert|approval)$"
    )]
    pub source: Option<String>,
    /// Up to two groupings, as the aggregate endpoint names them (`priority`,
    /// `opened_at:week`…).
    #[schema(max_items = 2)]
    pub group_by: Option<Vec<String>>,
    /// count (the default), sum, average, min, max, median, p90, or rate (the share of
    /// tasks whose yes-or-no number holds, in percent).
    pub measure: Option<String>,
    /// What the measure is of (required unless it counts).
    pub of: Option<String>,
    /// The moment the period is of, one of the source's (as the aggregate endpoint has
    /// them; its first by default).
    pub time: Option<String>,
    /// The period as of when the report is run, in its time zone: last_7_days,
    /// last_30_days (the default), last_90_days, last_12_months, this_week, last_week,
    /// this_month, last_month, this_quarter, last_quarter, this_year, last_year, or custom
    /// (with `from` and `to`).
    pub period: Option<String>,
    #[schema(format = DateTime)]
    pub from: Option<String>,
    #[schema(format = DateTime)]
    pub to: Option<String>,
    /// The time zone of the period and the buckets (none: the reader's own).
    pub time_zone: Option<String>,
    /// Only tasks in these states (the source's codes).
    #[schema(max_items = 20)]
    pub state: Option<Vec<String>>,
    #[schema(minimum = 1, maximum = 5)]
    pub priority: Option<i64>,
    pub category: Option<String>,
    /// The reader's queue: mine, my_groups or unassigned (open tasks unless `state` names
    /// others).
    #[schema(pattern = "^(mine|my_groups|unassigned)$")]
    pub queue: Option<String>,
    /// table (the default), pivot, bar, stacked_bar, line, area, pie, donut, score,
    /// heat_map or list (its newest tasks); a chart needs the groupings it draws.
    pub display: Option<String>,
    /// A target line for the measure.
    pub target: Option<f64>,
}

/// A saved report as written: every field may be left out of a change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportIn {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// private (the default), groups, roles or everyone. Sharing with roles or everyone is
    /// for managers; an agent shares with their own groups.
    #[schema(pattern = "^(private|groups|roles|everyone)$")]
    pub audience: Option<String>,
    /// The groups' ids (audience `groups`).
    #[schema(max_items = 20)]
    pub groups: Option<Vec<String>>,
    /// The role codes (audience `roles`).
    #[schema(max_items = 20)]
    pub roles: Option<Vec<String>>,
    pub definition: Option<DefinitionIo>,
    /// The version changed (instead of `If-Match`).
    pub version: Option<i64>,
}

/// A request body as the core reads it: the fields given, those left out (or null) absent,
/// within a report's definition too (so its defaults apply).
pub(crate) fn given<T: Serialize>(body: &T) -> serde_json::Value {
    fn drop_nulls(v: &mut serde_json::Value) {
        if let Some(m) = v.as_object_mut() {
            m.retain(|_, v| !v.is_null());
            if let Some(d) = m.get_mut("definition") {
                drop_nulls(d);
            }
        }
    }
    let mut v = serde_json::to_value(body).unwrap_or_default();
    drop_nulls(&mut v);
    v
}

/// A group a report is shared with.
#[derive(Debug, Serialize, ToSchema)]
pub struct SharedGroupOut {
    pub id: uuid::Uuid,
    pub name: String,
}

/// A saved report.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportOut {
    pub id: uuid::Uuid,
    pub name: String,
    pub description: String,
    /// Its owner's id and name; null for a built-in report.
    pub owner: Option<SharedGroupOut>,
    #[schema(value_type = Object)]
    pub definition: serde_json::Value,
    pub audience: String,
    pub groups: Vec<SharedGroupOut>,
    pub roles: Vec<String>,
    /// Whether the caller may change or remove it.
    pub editable: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub version: i64,
}

impl From<Report> for ReportOut {
    fn from(r: Report) -> Self {
        ReportOut {
            id: r.id.as_uuid(),
            name: r.name,
            description: r.description,
            owner: r.owner.map(|(id, name)| SharedGroupOut {
                id: id.as_uuid(),
                name,
            }),
            definition: r.definition.to_json(),
            audience: r.audience.code().to_owned(),
            groups: r
                .groups
                .into_iter()
                .map(|(id, name)| SharedGroupOut {
                    id: id.as_uuid(),
                    name,
                })
                .collect(),
            roles: r.roles.iter().map(|r| r.code().to_owned()).collect(),
            editable: r.editable,
            created_at: r.created_at.to_string(),
            updated_at: r.updated_at.to_string(),
            version: r.version,
        }
    }
}

/// The reports the caller may open, by name: their own, and those shared with them.
#[utoipa::path(get, path = "/api/v1/reports", tag = "reports",
    responses((status = 200, body = Vec<ReportOut>)))]
pub async fn list_reports(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<ReportOut>>> {
    let list = saved::list(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Saves a report of the caller's (agents).
#[utoipa::path(post, path = "/api/v1/reports", tag = "reports", request_body = ReportIn,
    responses((status = 201, body = ReportOut, headers(("Location" = String), ("ETag" = String))),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_report(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<ReportIn>,
) -> ApiResult<Response> {
    let r = saved::create(&s.core, &ctx, &given(&b)).await?;
    let location = format!("/api/v1/reports/{}", r.id);
    let version = r.version;
    Ok(with_etag(
        StatusCode::CREATED,
        version,
        ReportOut::from(r),
        Some(location),
    ))
}

/// A report the caller may open.
#[utoipa::path(get, path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 200, body = ReportOut, headers(("ETag" = String))),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_report(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let r = saved::get(&s.core, &ctx, &id).await?;
    let version = r.version;
    Ok(with_etag(StatusCode::OK, version, ReportOut::from(r), None))
}

/// Changes a report: the fields given; a definition is given whole (its owner or an
/// administrator).
#[utoipa::path(patch, path = "/api/v1/reports/{id}", tag = "reports", request_body = ReportIn,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ReportOut, headers(("ETag" = String))),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 412, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_report(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<ReportIn>,
) -> ApiResult<Response> {
    let r = saved::update(&s.core, &ctx, &id, &given(&b), v).await?;
    let version = r.version;
    Ok(with_etag(StatusCode::OK, version, ReportOut::from(r), None))
}

/// Removes a report (its owner or an administrator); one that is not there is removed.
#[utoipa::path(delete, path = "/api/v1/reports/{id}", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 204),
              (status = 403, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn delete_report(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    saved::delete(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A period and its lines.
#[derive(Debug, Serialize, ToSchema)]
pub struct PeriodLinesOut {
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
    pub lines: Vec<LineOut>,
}

/// A report's rows as of now, over the tasks the caller may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReportDataOut {
    pub report: ReportOut,
    #[schema(format = DateTime)]
    pub from: String,
    #[schema(format = DateTime)]
    pub to: String,
    pub time_zone: String,
    /// As the aggregate endpoint gives them; durations in seconds.
    pub lines: Vec<LineOut>,
    /// A score's period before, to compare with.
    pub previous: Option<PeriodLinesOut>,
}

fn lines_out(lines: Vec<sigap_core::reports::Line>) -> Vec<LineOut> {
    lines
        .into_iter()
        .map(|l| LineOut {
            keys: l
                .keys
                .into_iter()
                .map(|k| KeyOut {
                    key: k.key,
                    name: k.name,
                })
                .collect(),
            count: l.count,
            value: l.value,
        })
        .collect()
}

/// A report's rows as of now, for BI tools: its lines over the tasks the caller may see (a
/// customer's agent: their organization's), in the report's period and time zone (the
/// caller's where it names none).
#[utoipa::path(get, path = "/api/v1/reports/{id}/data", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 200, body = ReportDataOut),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn report_data(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ReportDataOut>> {
    let d = saved::data(&s.core, &ctx, &id).await?;
    Ok(Json(ReportDataOut {
        report: d.report.into(),
        from: d.from.to_string(),
        to: d.to.to_string(),
        time_zone: d.time_zone,
        lines: lines_out(d.lines),
        previous: d.previous.map(|(from, to, lines)| PeriodLinesOut {
            from: from.to_string(),
            to: to.to_string(),
            lines: lines_out(lines),
        }),
    }))
}

/// Which line's tasks: a key for each of the report's groupings, in their order (an empty
/// one: the tasks without a value).
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BehindQuery {
    /// The line's keys, separated by commas, in the order of the groupings.
    pub keys: Option<String>,
}

/// A task behind a line.
#[derive(Debug, Serialize, ToSchema)]
pub struct BehindOut {
    /// The task's id (the clock's, the approval's, the alert's, the CI's).
    pub id: uuid::Uuid,
    /// The task's number (of a clock's or an approval's task), the alert's, the CI's name.
    pub number: String,
    /// The task's short description, the alert's message, the CI's class.
    pub short_description: String,
    /// The state code (a clock's stage, a CI's status).
    pub state: String,
    /// The task's priority (none for alerts and CIs).
    pub priority: Option<i64>,
    /// The task's assignment group, the group asked to approve, the CI's owner.
    pub assignment_group: Option<String>,
    /// The task's assignee, the clock's target, the approver, the alert's node, the CI's
    /// location.
    pub assigned_to: Option<String>,
    /// When it was opened (a clock started, an approval asked, an alert first seen, a CI
    /// recorded).
    #[schema(format = DateTime)]
    pub opened_at: String,
    /// When it was resolved (a clock ended, an approval decided, an alert closed).
    #[schema(format = DateTime)]
    pub resolved_at: Option<String>,
    /// Its page.
    pub path: String,
}

/// The keys of `?keys=`: as many as the text has, an empty one none.
pub fn parse_keys(text: Option<&str>) -> Vec<Option<String>> {
    match text {
        None => Vec::new(),
        Some(t) => t
            .split(',')
            .map(|k| Some(k.trim().to_owned()).filter(|k| !k.is_empty()))
            .collect(),
    }
}

/// The tasks behind one line of a report (newest first, at most 500).
#[utoipa::path(get, path = "/api/v1/reports/{id}/records", tag = "reports",
    params(("id" = String, Path), BehindQuery),
    responses((status = 200, body = Vec<BehindOut>),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn report_records(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<BehindQuery>,
) -> ApiResult<Json<Vec<BehindOut>>> {
    let (_, tasks) = saved::records(&s.core, &ctx, &id, parse_keys(q.keys.as_deref())).await?;
    Ok(Json(
        tasks
            .into_iter()
            .map(|t| BehindOut {
                id: t.id,
                number: t.number,
                short_description: t.short_description,
                state: t.state,
                priority: t.priority,
                assignment_group: t.assignment_group,
                assigned_to: t.assigned_to,
                opened_at: t.opened_at.to_string(),
                resolved_at: t.resolved_at.map(|t| t.to_string()),
                path: t.path,
            })
            .collect(),
    ))
}

codes_enum!(
    /// A report's file.
    FileFormat {
        Csv = "csv",
        Xlsx = "xlsx",
        Pdf = "pdf",
        Json = "json",
    }
);

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// csv (the default), xlsx, pdf or json.
    #[param(inline)]
    pub format: Option<FileFormat>,
}

/// A report as a file in the reader's language: CSV, XLSX (with its chart where one fits),
/// PDF (its chart and table) or JSON (the data, as `/data` gives it).
pub async fn report_file(
    s: &AppState,
    ctx: &sigap_core::Ctx,
    id: &str,
    format: FileFormat,
) -> ApiResult<Response> {
    let d = saved::data(&s.core, ctx, id).await?;
    let tr = crate::i18n::Tr {
        i18n: &s.i18n,
        locale: ctx.principal.locale,
    };
    let words = crate::report_words::report_words(tr);
    let file = match format {
        FileFormat::Json => {
            let out = ReportDataOut {
                report: d.report.into(),
                from: d.from.to_string(),
                to: d.to.to_string(),
                time_zone: d.time_zone,
                lines: lines_out(d.lines),
                previous: d.previous.map(|(from, to, lines)| PeriodLinesOut {
                    from: from.to_string(),
                    to: to.to_string(),
                    lines: lines_out(lines),
                }),
            };
            table::File {
                bytes: serde_json::to_vec(&out)
                    .map_err(|e| ApiError::App(sigap_core::AppError::Internal(e.to_string())))?,
                content_type: "application/json",
                filename: table::filename(&out.report.name, "json"),
            }
        }
        other => table::file(&d.report.name, &d, &words, other.code())?
            .ok_or(ApiError::App(sigap_core::AppError::NotFound))?,
    };
    let (bytes, ctype) = (file.bytes, file.content_type);
    let encoded: String = file
        .filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let mut resp = bytes.into_response();
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ctype));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename*=UTF-8''{encoded}")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    Ok(resp)
}

/// A report exported as a file: CSV, XLSX (its rows, and its chart where one fits), PDF (its
/// chart and table) or JSON.
/// Column titles are in the caller's language; durations in hours.
#[utoipa::path(get, path = "/api/v1/reports/{id}/export", tag = "reports",
    params(("id" = String, Path), ExportQuery),
    responses((status = 200, description = "The file",
               headers(("Content-Disposition" = String))),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn export_report(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    report_file(&s, &ctx, &id, q.format.unwrap_or(FileFormat::Csv)).await
}

// ----- dashboards -----

/// A dashboard's tile: a report's id, or a panel (breaching_soon, major_incidents,
/// sla_compliance); `wide` spans the dashboard's width.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TileIo {
    #[schema(format = Uuid)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub report: Option<String>,
    #[schema(pattern = "^(breaching_soon|major_incidents|sla_compliance|announcements)$")]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub panel: Option<String>,
    #[serde(default)]
    pub wide: bool,
}

/// A dashboard as written: every field may be left out of a change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DashboardIn {
    #[schema(min_length = 1, max_length = 100)]
    pub name: Option<String>,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
    /// private (the default), groups, roles or everyone, as for reports.
    #[schema(pattern = "^(private|groups|roles|everyone)$")]
    pub audience: Option<String>,
    #[schema(max_items = 20)]
    pub groups: Option<Vec<String>>,
    #[schema(max_items = 20)]
    pub roles: Option<Vec<String>>,
    /// In their order; at most 24. Given whole.
    #[schema(max_items = 24)]
    pub tiles: Option<Vec<TileIo>>,
    /// The version changed (instead of `If-Match`).
    pub version: Option<i64>,
}

/// A dashboard.
#[derive(Debug, Serialize, ToSchema)]
pub struct DashboardOut {
    pub id: uuid::Uuid,
    pub name: String,
    pub description: String,
    /// Its owner's id and name; null for a built-in dashboard.
    pub owner: Option<SharedGroupOut>,
    /// The role whose home page it is (built-in dashboards).
    pub home_role: Option<String>,
    pub tiles: Vec<TileIo>,
    pub audience: String,
    pub groups: Vec<SharedGroupOut>,
    pub roles: Vec<String>,
    pub editable: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub version: i64,
}

impl From<Dashboard> for DashboardOut {
    fn from(d: Dashboard) -> Self {
        use sigap_domain::report::TileKind;
        DashboardOut {
            id: d.id.as_uuid(),
            name: d.name,
            description: d.description,
            owner: d.owner.map(|(id, name)| SharedGroupOut {
                id: id.as_uuid(),
                name,
            }),
            home_role: d.home_role.map(|r| r.code().to_owned()),
            tiles: d
                .tiles
                .iter()
                .map(|t| match t.kind {
                    TileKind::Report(id) => TileIo {
                        report: Some(id.to_string()),
                        panel: None,
                        wide: t.wide,
                    },
                    TileKind::Panel(p) => TileIo {
                        report: None,
                        panel: Some(p.code().to_owned()),
                        wide: t.wide,
                    },
                })
                .collect(),
            audience: d.audience.code().to_owned(),
            groups: d
                .groups
                .into_iter()
                .map(|(id, name)| SharedGroupOut {
                    id: id.as_uuid(),
                    name,
                })
                .collect(),
            roles: d.roles.iter().map(|r| r.code().to_owned()).collect(),
            editable: d.editable,
            created_at: d.created_at.to_string(),
            updated_at: d.updated_at.to_string(),
            version: d.version,
        }
    }
}

/// The dashboards the caller may open, by name: their own, the built-in ones of their
/// roles, and those shared with them.
#[utoipa::path(get, path = "/api/v1/dashboards", tag = "reports",
    responses((status = 200, body = Vec<DashboardOut>)))]
pub async fn list_dashboards(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<DashboardOut>>> {
    let list = dashboards::list(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Makes a dashboard of the caller's (agents). Its report tiles must be reports the caller
/// may open.
#[utoipa::path(post, path = "/api/v1/dashboards", tag = "reports", request_body = DashboardIn,
    responses((status = 201, body = DashboardOut, headers(("Location" = String), ("ETag" = String))),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_dashboard(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<DashboardIn>,
) -> ApiResult<Response> {
    let d = dashboards::create(&s.core, &ctx, &given(&b)).await?;
    let location = format!("/api/v1/dashboards/{}", d.id);
    let version = d.version;
    Ok(with_etag(
        StatusCode::CREATED,
        version,
        DashboardOut::from(d),
        Some(location),
    ))
}

/// The caller's home dashboard: the built-in one of their role.
#[utoipa::path(get, path = "/api/v1/dashboards/home", tag = "reports",
    responses((status = 200, body = DashboardOut),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn home_dashboard(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<DashboardOut>> {
    let d = dashboards::home(&s.core, &ctx)
        .await?
        .ok_or(ApiError::App(sigap_core::AppError::NotFound))?;
    Ok(Json(d.into()))
}

/// Which dashboard is the caller's home page.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HomeIn {
    /// A dashboard the caller may open; null: their role's again.
    #[schema(format = Uuid)]
    pub dashboard: Option<String>,
}

/// Chooses the caller's home dashboard (null: their role's built-in one).
#[utoipa::path(put, path = "/api/v1/dashboards/home", tag = "reports", request_body = HomeIn,
    responses((status = 200, body = DashboardOut),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn choose_home(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<HomeIn>,
) -> ApiResult<Json<DashboardOut>> {
    dashboards::choose_home(&s.core, &ctx, b.dashboard.as_deref()).await?;
    let d = dashboards::home(&s.core, &ctx)
        .await?
        .ok_or(ApiError::App(sigap_core::AppError::NotFound))?;
    Ok(Json(d.into()))
}

/// A dashboard the caller may open.
#[utoipa::path(get, path = "/api/v1/dashboards/{id}", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 200, body = DashboardOut, headers(("ETag" = String))),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_dashboard(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let d = dashboards::get(&s.core, &ctx, &id).await?;
    let version = d.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        DashboardOut::from(d),
        None,
    ))
}

/// Changes a dashboard: the fields given; tiles are given whole (its owner or an
/// administrator).
#[utoipa::path(patch, path = "/api/v1/dashboards/{id}", tag = "reports", request_body = DashboardIn,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = DashboardOut, headers(("ETag" = String))),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 412, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_dashboard(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<DashboardIn>,
) -> ApiResult<Response> {
    let d = dashboards::update(&s.core, &ctx, &id, &given(&b), v).await?;
    let version = d.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        DashboardOut::from(d),
        None,
    ))
}

/// Removes a dashboard (its owner or an administrator; a role's home page stays).
#[utoipa::path(delete, path = "/api/v1/dashboards/{id}", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 204),
              (status = 403, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn delete_dashboard(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    dashboards::delete(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- scheduled deliveries -----

/// A scheduled delivery as written: every field may be left out (of a new one: weekly on
/// Mondays at 07:00 in your time zone, as XLSX, to you).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleIn {
    /// daily, weekdays (Monday to Friday), weekly or monthly.
    #[schema(pattern = "^(daily|weekdays|weekly|monthly)$")]
    pub every: Option<String>,
    /// Weekly: 1 (Monday) to 7 (Sunday).
    #[schema(minimum = 1, maximum = 7)]
    pub weekday: Option<i64>,
    /// Monthly: the day, 1 to 28.
    #[schema(minimum = 1, maximum = 28)]
    pub day: Option<i64>,
    /// The hour, 0 to 23, in `time_zone`.
    #[schema(minimum = 0, maximum = 23)]
    pub hour: Option<i64>,
    pub time_zone: Option<String>,
    /// csv, xlsx or pdf.
    #[schema(pattern = "^(csv|xlsx|pdf)$")]
    pub format: Option<String>,
    /// People (ids or logins).
    #[schema(max_items = 50)]
    pub people: Option<Vec<String>>,
    /// Groups (ids or names): their members.
    #[schema(max_items = 50)]
    pub groups: Option<Vec<String>>,
    /// Mail addresses.
    #[schema(max_items = 50)]
    pub addresses: Option<Vec<String>>,
    /// Not sent when the report has nothing to show.
    pub skip_empty: Option<bool>,
    pub active: Option<bool>,
    /// The version changed (instead of `If-Match`).
    pub version: Option<i64>,
}

/// A scheduled delivery.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScheduleOut {
    pub id: uuid::Uuid,
    pub report: uuid::Uuid,
    /// Who set it up: it runs as they see the report.
    pub owner: SharedGroupOut,
    pub every: String,
    pub weekday: Option<i64>,
    pub day: Option<i64>,
    pub hour: i64,
    pub time_zone: String,
    pub format: String,
    pub people: Vec<uuid::Uuid>,
    pub groups: Vec<uuid::Uuid>,
    pub addresses: Vec<String>,
    pub skip_empty: bool,
    pub active: bool,
    #[schema(format = DateTime)]
    pub next_run_at: String,
    #[schema(format = DateTime)]
    pub last_run_at: Option<String>,
    pub editable: bool,
    pub version: i64,
}

impl From<ScheduleView> for ScheduleOut {
    fn from(s: ScheduleView) -> Self {
        ScheduleOut {
            id: s.id.as_uuid(),
            report: s.report_id.as_uuid(),
            owner: SharedGroupOut {
                id: s.owner.0.as_uuid(),
                name: s.owner.1,
            },
            every: s.cadence.every.code().to_owned(),
            weekday: s.cadence.weekday.map(i64::from),
            day: s.cadence.day.map(i64::from),
            hour: i64::from(s.cadence.hour),
            time_zone: s.cadence.time_zone,
            format: s.format,
            people: s.people.iter().map(|p| p.as_uuid()).collect(),
            groups: s.groups.iter().map(|g| g.as_uuid()).collect(),
            addresses: s.addresses,
            skip_empty: s.skip_empty,
            active: s.active,
            next_run_at: s.next_run_at.to_string(),
            last_run_at: s.last_run_at.map(|t| t.to_string()),
            editable: s.editable,
            version: s.version,
        }
    }
}

/// A report's scheduled deliveries, the soonest first.
#[utoipa::path(get, path = "/api/v1/reports/{id}/schedules", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 200, body = Vec<ScheduleOut>),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn list_schedules(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<ScheduleOut>>> {
    let list = schedules::of_report(&s.core, &ctx, &id).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Schedules a report's delivery by mail (agents); it runs as the caller sees the report.
#[utoipa::path(post, path = "/api/v1/reports/{id}/schedules", tag = "reports", request_body = ScheduleIn,
    params(("id" = String, Path)),
    responses((status = 201, body = ScheduleOut, headers(("Location" = String), ("ETag" = String))),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_schedule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ScheduleIn>,
) -> ApiResult<Response> {
    let v = schedules::create(&s.core, &ctx, &id, &given(&b)).await?;
    let location = format!("/api/v1/report_schedules/{}", v.id);
    let version = v.version;
    Ok(with_etag(
        StatusCode::CREATED,
        version,
        ScheduleOut::from(v),
        Some(location),
    ))
}

/// A scheduled delivery of a report the caller may open.
#[utoipa::path(get, path = "/api/v1/report_schedules/{id}", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 200, body = ScheduleOut, headers(("ETag" = String))),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_schedule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let v = schedules::get(&s.core, &ctx, &id).await?;
    let version = v.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        ScheduleOut::from(v),
        None,
    ))
}

/// Changes a scheduled delivery: the fields given (its owner or an administrator).
#[utoipa::path(patch, path = "/api/v1/report_schedules/{id}", tag = "reports", request_body = ScheduleIn,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ScheduleOut, headers(("ETag" = String))),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 412, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_schedule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<ScheduleIn>,
) -> ApiResult<Response> {
    let out = schedules::update(&s.core, &ctx, &id, &given(&b), v).await?;
    let version = out.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        ScheduleOut::from(out),
        None,
    ))
}

/// Removes a scheduled delivery (its owner or an administrator).
#[utoipa::path(delete, path = "/api/v1/report_schedules/{id}", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 204),
              (status = 403, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn delete_schedule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    schedules::delete(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
