//! Problem management over HTTP: problems with their linked incidents, the named actions
//! of their state model, work-arounds published to the incidents, known errors, and the
//! trends of incidents no problem explains. Agents only.

use super::dto::{Page, nullable};
use super::incidents::IncidentOut;
use super::params::{BreakdownQuery, ProblemStates, list_query};
use super::task::JournalOut;
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use sigap_core::breakdown;
use sigap_core::model::Problem;
use sigap_core::problems::{self, Action};
use sigap_core::task::{Args, TaskQuery};
use utoipa::ToSchema;

super::task::task_out!(
    ProblemOut from Problem {
        symptoms: String,
        root_cause: String,
        cause_code: Option<String>,
        workaround: String,
        /// When the work-around was last published to the linked incidents.
        #[schema(value_type = Option<String>, format = DateTime)]
        workaround_published_at: Option<super::dto::Time>,
        fix: String,
        known_error: bool,
        major: bool,
        /// fix_applied, risk_accepted or duplicate.
        resolution_code: Option<String>,
        resolution_notes: String,
    }
);

/// A problem with its journal and its incidents.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDetailOut {
    #[serde(flatten)]
    pub problem: ProblemOut,
    pub incidents: Vec<IncidentOut>,
    /// Linked incidents still open (new, in progress, on hold).
    pub open_incidents: i64,
    pub total_incidents: i64,
    pub journal: Vec<JournalOut>,
}

impl ProblemDetailOut {
    fn version(&self) -> i64 {
        self.problem.task.version
    }
}

impl From<problems::ProblemDetail> for ProblemDetailOut {
    fn from(d: problems::ProblemDetail) -> Self {
        Self {
            problem: d.problem.into(),
            total_incidents: d.incidents.len() as i64,
            incidents: d.incidents.into_iter().map(Into::into).collect(),
            open_incidents: d.open_incidents,
            journal: d.journal.into_iter().map(JournalOut::from).collect(),
        }
    }
}

super::task::task_in!(
    /// Fields of a problem. On create `short_description` (the problem statement) is
    /// required, and `incidents` links incidents at once.
    ProblemIn {
        symptoms: Option<String>,
        root_cause: Option<String>,
        #[serde(default, deserialize_with = "nullable")]
        #[schema(value_type = Option<String>)]
        cause_code: Option<Option<String>>,
        workaround: Option<String>,
        fix: Option<String>,
        major: Option<bool>,
        /// Create only: incidents (numbers or ids) to link.
        #[serde(default)]
        incidents: Vec<String>,
    }
);

impl From<ProblemIn> for problems::ProblemInput {
    fn from(mut p: ProblemIn) -> Self {
        Self {
            task: p.task(),
            symptoms: p.symptoms,
            root_cause: p.root_cause,
            cause_code: p.cause_code,
            workaround: p.workaround,
            fix: p.fix,
            major: p.major,
            incidents: p.incidents,
        }
    }
}

/// The details an action takes.
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ProblemActionIn {
    /// reanalyze, cancel: why.
    pub reason: Option<String>,
    /// resolve: fix_applied, risk_accepted or duplicate.
    pub resolution_code: Option<String>,
    /// resolve: what was done.
    pub resolution_notes: Option<String>,
    /// resolve: resolve the linked open incidents too, with the problem's resolution.
    #[serde(default)]
    pub resolve_incidents: bool,
    /// work_note: the text.
    pub body: Option<String>,
    /// known_error: `true` marks the problem a known error (default), `false` unmarks it.
    pub on: Option<bool>,
    /// publish_workaround: `true` writes it to each incident as a comment its caller sees,
    /// `false` (default) as a work note.
    #[serde(default)]
    pub to_callers: bool,
}

fn action(name: &str, body: ProblemActionIn) -> Result<Action, ApiError> {
    Ok(Action::parse(name, &Args::json(&body))?)
}

list_query!(
    /// The filters of the problem list.
    ProblemListQuery, sort = sigap_core::task::SORT_FIELDS,
    q = "Full text over the number, the statement, the description and the journal.",
    {
        /// States, separated by commas.
        #[param(inline, style = Form, explode = false)]
        state: Option<ProblemStates>,
        /// `true`: known errors only.
        #[serde(default, deserialize_with = "crate::api::params::flag")]
        known_error: Option<bool>,
        /// Service id or name.
        service: Option<String>,
        /// CI id or name.
        configuration_item: Option<String>,
        /// Group id or name.
        assignment_group: Option<String>,
    }
);

/// Problems (agents): filters `state` (comma-separated), `known_error`, `service`,
/// `configuration_item`, `assignment_group`, `q`; newest first unless sorted by `number`,
/// `priority`, `opened_at` or `updated_at`.
#[utoipa::path(get, path = "/api/v1/problems", tag = "problems", params(ProblemListQuery),
    responses((status = 200, body = Page<ProblemOut>)))]
pub async fn list_problems(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ProblemListQuery>,
) -> ApiResult<Json<Page<ProblemOut>>> {
    let params = q.page()?;
    let query = TaskQuery {
        state: q.state.map(|s| s.joined()),
        service: q.service,
        ci: q.configuration_item,
        assignment_group: q.assignment_group,
        q: q.q,
        ..TaskQuery::default()
    };
    let known = q.known_error.map(|k| k.to_string());
    let page = problems::list(&s.core, &ctx, query, known.as_deref(), &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(ProblemOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

super::csv::export_query!(
    /// The problems' export: the queue page's filters, `known_error` (`true`) and the
    /// queue `known_errors`.
    ProblemExportQuery {
        known_error: Option<String>,
    }
);

/// Exports the problems of a queue view as CSV, streamed, every row unless `limit` is given.
#[utoipa::path(get, path = "/api/v1/problems/export", tag = "problems", params(ProblemExportQuery),
    responses((status = 200, content_type = "text/csv", body = String,
            headers(("X-Truncated" = String, description = "`true` when `limit` left rows out"))),
        (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn export_problems(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(mut q): ApiQuery<ProblemExportQuery>,
) -> ApiResult<axum::response::Response> {
    let limit = sigap_core::export::parse_limit(q.limit.as_deref())?;
    // The known errors are a queue of open problems, as on the page.
    let known = q.queue.as_deref() == Some("known_errors");
    if known {
        q.queue = Some("open".into());
    }
    let query = q.task();
    let known = if known {
        Some("true".into())
    } else {
        q.known_error
    };
    let core = s.core.clone();
    let file = sigap_core::task::export("problems", q.cols.as_deref(), q.sort, limit, move |p| {
        let (core, ctx, query, known) = (core.clone(), ctx.clone(), query.clone(), known.clone());
        async move { problems::list(&core, &ctx, query, known.as_deref(), &p).await }
    });
    Ok(super::csv::csv_response(file.await?))
}

/// The known-error database: problems marked known error with their work-around,
/// searchable with `q` and narrowed to a `service` or `configuration_item`.
#[utoipa::path(get, path = "/api/v1/known_errors", tag = "problems", params(ProblemListQuery),
    responses((status = 200, body = Page<ProblemOut>)))]
pub async fn known_errors(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(mut q): ApiQuery<ProblemListQuery>,
) -> ApiResult<Json<Page<ProblemOut>>> {
    q.known_error = Some(true);
    list_problems(State(s), Caller(ctx), ApiQuery(q)).await
}

super::task::task_endpoints!(
    process = sigap_core::model::ProblemExt, tag = "problems", input = ProblemIn, out = ProblemOut,
    detail = ProblemDetailOut, read = problems::detail, action_in = ProblemActionIn, action = action,
    /// A problem by number or id, with its incidents and journal.
    get get_problem = "/api/v1/problems/{key}";
    /// Changes a problem's fields; impact or urgency re-computes the priority.
    patch patch_problem;
    /// Does an action: assess, analyze, start_fix, resolve (with `resolve_incidents` to
    /// resolve the linked open incidents too), reanalyze, close (needs the root cause),
    /// cancel, work_note, known_error or publish_workaround. A move the state model does not
    /// allow answers 409 and names the allowed states.
    act problem_action = "/api/v1/problems/{key}/{action}";
    /// The SLA clocks of a problem (agreements whose targets start on `kind` `problem`),
    /// read now, with their timelines.
    slas problem_clocks = "/api/v1/problems/{key}/slas";
    /// Opens a problem (agents), linked to the `incidents` given.
    create create_problem = "/api/v1/problems" with problems::create;
);

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkIn {
    /// Incidents (numbers or ids) to link; one linked to another problem moves.
    pub incidents: Vec<String>,
}

/// Links incidents to a problem; a work-around already published reaches them.
#[utoipa::path(post, path = "/api/v1/problems/{key}/incidents", tag = "problems", request_body = LinkIn,
    params(("key" = String, Path)),
    responses((status = 200, body = ProblemDetailOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn link_incidents(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<LinkIn>,
) -> ApiResult<Json<ProblemDetailOut>> {
    let d = problems::link(&s.core, &ctx, &key, body.incidents).await?;
    Ok(Json(d.into()))
}

/// Unlinks an incident from a problem.
#[utoipa::path(delete, path = "/api/v1/problems/{key}/incidents/{incident}", tag = "problems",
    params(("key" = String, Path), ("incident" = String, Path)),
    responses((status = 200, body = ProblemDetailOut), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn unlink_incident(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath((key, incident)): ApiPath<(String, String)>,
) -> ApiResult<Json<ProblemDetailOut>> {
    let d = problems::unlink(&s.core, &ctx, &key, &incident).await?;
    Ok(Json(d.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyIn {
    /// The incident (number or id) the known error explains.
    pub incident: String,
}

/// Applies a known error to an incident: links it and copies the work-around into it.
#[utoipa::path(post, path = "/api/v1/problems/{key}/apply", tag = "problems", request_body = ApplyIn,
    params(("key" = String, Path)),
    responses((status = 200, body = super::incidents::IncidentOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn apply_known_error(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<ApplyIn>,
) -> ApiResult<Json<super::incidents::IncidentOut>> {
    let i = problems::apply_known_error(&s.core, &ctx, &body.incident, &key).await?;
    Ok(Json(i.into()))
}

/// The known errors on an incident's service or CI (agents).
#[utoipa::path(get, path = "/api/v1/incidents/{key}/known_errors", tag = "problems",
    params(("key" = String, Path)),
    responses((status = 200, body = Vec<ProblemOut>), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn incident_known_errors(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<ProblemOut>>> {
    let i = sigap_core::incidents::get(&s.core, &ctx, &key).await?;
    let list = problems::known_errors_for(&s.core, &ctx, &i).await?;
    Ok(Json(list.into_iter().map(ProblemOut::from).collect()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TrendOut {
    /// The service's or CI's id, or the category's code.
    pub key: String,
    pub name: String,
    /// Incidents opened in the period that no problem is linked to.
    pub incidents: i64,
    /// Their numbers (to open a problem for them), at most 500.
    pub numbers: Vec<String>,
}

/// Proactive problem management: the services, CIs or categories with the most incidents
/// opened in the period that have no problem linked, most first.
#[utoipa::path(get, path = "/api/v1/problem_trends", tag = "problems", params(BreakdownQuery),
    responses((status = 200, body = Vec<TrendOut>), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn trends(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<BreakdownQuery>,
) -> ApiResult<Json<Vec<TrendOut>>> {
    let (by, from, to) = q.read(s.core.now())?;
    let lines = breakdown::lines(&s.core, &ctx, problems::trends(by, from, to), true).await?;
    let out = lines.into_iter().map(|(b, numbers)| TrendOut {
        key: b.key,
        name: b.name,
        incidents: b.count,
        numbers,
    });
    Ok(Json(out.collect()))
}
