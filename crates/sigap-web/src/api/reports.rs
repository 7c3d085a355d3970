//! Service reporting's API: tasks aggregated for scripts and BI tools — counted, summed,
//! averaged, their minimum, maximum, median or 90th percentile, grouped by up to two fields
//! or time buckets in a time zone, over the tasks the caller may see.

use super::params::{
    AggregateCode, Choice, GroupByList, TaskNumberCode, TaskTimeCode, codes_enum, instant,
};
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem as ProblemJson};
use crate::extract::{ApiPath, ApiQuery, Caller};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sigap_core::reports::{self, Aggregation};
use sigap_domain::task::TaskKind;
use utoipa::ToSchema;

codes_enum!(
    /// The task kinds a report can be over.
    Source {
        Incident = "incident",
        Problem = "problem",
        Change = "change",
        ChangeTask = "change_task",
        Request = "request",
        RequestItem = "request_item",
        FulfilmentTask = "fulfilment_task",
    }
);

impl Source {
    fn kind(self) -> TaskKind {
        match self {
            Source::Incident => TaskKind::Incident,
            Source::Problem => TaskKind::Problem,
            Source::Change => TaskKind::Change,
            Source::ChangeTask => TaskKind::ChangeTask,
            Source::Request => TaskKind::Request,
            Source::RequestItem => TaskKind::RequestItem,
            Source::FulfilmentTask => TaskKind::FulfilmentTask,
        }
    }
}

/// What to aggregate, as query parameters.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AggregateQuery {
    /// Up to two groupings, separated by commas: a field (`priority`, `assignment_group`…) or
    /// a moment cut into buckets (`opened_at:month`). None: one line for all the tasks.
    #[param(inline, style = Form, explode = false)]
    pub group_by: Option<GroupByList>,
    /// count (the default), sum, average, min, max, median or p90.
    #[param(inline)]
    pub measure: Option<AggregateCode>,
    /// What the measure is of (required unless it counts): a duration in seconds
    /// (`time_to_resolve`, `time_to_close`) or a count of the task's.
    #[param(inline)]
    pub of: Option<TaskNumberCode>,
    /// The moment the period is of: opened_at (the default), resolved_at or closed_at.
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
    /// Only tasks in these states (the source's state codes, separated by commas).
    pub state: Option<String>,
    /// Only tasks of this priority, 1 (the highest) to 5.
    #[serde(default, deserialize_with = "crate::api::params::int")]
    #[param(minimum = 1, maximum = 5)]
    pub priority: Option<i64>,
    /// Only tasks of this category (its code).
    pub category: Option<String>,
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
    /// In the order of their keys, buckets in time order; at most 10,000.
    pub lines: Vec<LineOut>,
}

/// Tasks of one kind aggregated: counted, or a number of theirs summed, averaged, its
/// minimum, maximum, median or 90th percentile, in groups. Only the tasks the caller may
/// see are counted (a customer's agent: their organization's; a requester: their own).
#[utoipa::path(get, path = "/api/v1/aggregate/{source}", tag = "reports",
    params(("source" = inline(Source), Path, description = "The kind of task."), AggregateQuery),
    responses((status = 200, body = AggregateOut),
        (status = 404, body = ProblemJson, content_type = "application/problem+json"),
        (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn aggregate(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(source): ApiPath<String>,
    ApiQuery(q): ApiQuery<AggregateQuery>,
) -> ApiResult<Json<AggregateOut>> {
    let source = Source::from_code(&source).ok_or(ApiError::App(sigap_core::AppError::NotFound))?;
    let to = instant("to", q.to.as_deref())?.unwrap_or_else(|| s.core.now());
    let from = instant("from", q.from.as_deref())?.unwrap_or_else(|| {
        to.checked_sub(jiff::SignedDuration::from_hours(24 * 30))
            .unwrap_or(jiff::Timestamp::MIN)
    });
    let group_by = q.group_by.map(|g| g.0).unwrap_or_default();
    let measure = q
        .measure
        .map_or(sigap_domain::report::Aggregate::Count, |m| m.0);
    let time = q
        .time
        .map_or(sigap_domain::report::TaskTime::Opened, |t| t.0);
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
        source: source.kind(),
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
