//! Change management over HTTP: changes and their named actions (assess, approvals,
//! scheduling with its conflict check, implementation, review), change tasks, the CIs a
//! change touches and their impact, the change calendar and its iCalendar feed, standard
//! change templates, each type's risk questions and approval rules, blackout and
//! maintenance windows, CAB meetings, and the links to problems and incidents. Agents.

use super::approvals::ApprovalOut;
use super::dto::{Page, Ref, Time, nullable, ts};
use super::incidents::IncidentOut;
use super::problems::ProblemOut;
use super::task::JournalOut;
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sigap_core::changes::{self, Action, LinkKind};
use sigap_core::model::{Change, ChangeTask};
use sigap_core::task::{Args, TaskQuery};
use sigap_core::{AppError, Ctx};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

super::task::task_out!(
    /// A change: what every task has, and its own fields.
    ChangeOut from Change {
        /// standard, normal or emergency.
        change_type: String,
        reason: String,
        justification: String,
        implementation_plan: String,
        backout_plan: String,
        test_plan: String,
        #[schema(value_type = Option<String>, format = DateTime)]
        planned_start: Option<Time>,
        #[schema(value_type = Option<String>, format = DateTime)]
        planned_end: Option<Time>,
        #[schema(value_type = Option<String>, format = DateTime)]
        actual_start: Option<Time>,
        #[schema(value_type = Option<String>, format = DateTime)]
        actual_end: Option<Time>,
        /// low, moderate, high or very_high; none until the risk questions are answered.
        risk: Option<String>,
        /// The questionnaire's score.
        risk_score: Option<i64>,
        /// The least risk the impact of its CIs gives.
        impact_risk: Option<String>,
        /// not_requested, requested, approved, rejected or not_required.
        approval: String,
        /// The approval stage asked, from 0.
        stage: i64,
        /// Why it was scheduled despite its conflicts.
        conflict_reason: String,
        /// successful, successful_with_issues, unsuccessful or backed_out.
        outcome: Option<String>,
        review_notes: String,
    }
);

super::task::task_out!(
    /// A change task.
    ChangeTaskOut from ChangeTask {
        /// Its place in the change's order of work: tasks of one order run side by side.
        ord: i64,
    }
);

/// One conflict of a change's window.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeConflictOut {
    /// same_ci, impact, blackout or maintenance.
    pub kind: String,
    /// The other change.
    pub change: Option<Ref>,
    pub change_number: Option<String>,
    /// The CI they share.
    pub configuration_item: Option<Ref>,
    pub blackout: Option<Ref>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub starts_at: Option<Time>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ends_at: Option<Time>,
    pub summary: String,
}

impl From<changes::Conflict> for ChangeConflictOut {
    fn from(c: changes::Conflict) -> Self {
        Self {
            summary: c.summary(),
            kind: c.kind.code().into(),
            change: c.change.as_ref().map(|(id, _, title)| Ref {
                id: id.as_uuid(),
                display: title.clone(),
            }),
            change_number: c.change.map(|(_, n, _)| n),
            configuration_item: c.ci.map(|x| Ref {
                id: x.id.as_uuid(),
                display: x.name,
            }),
            blackout: c.blackout.map(|(id, name)| Ref {
                id: id.as_uuid(),
                display: name,
            }),
            starts_at: c.window.map(|w| ts(w.0)),
            ends_at: c.window.map(|w| ts(w.1)),
        }
    }
}

/// What a change's CIs reach.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeImpactOut {
    /// Services reached, with their criticality (1 the most critical).
    pub services: Vec<ChangeServiceImpactOut>,
    pub offerings: Vec<Ref>,
    /// Customers with agreements on the services reached.
    pub customers: Vec<String>,
    /// How many CIs the impact reaches, the affected ones aside.
    pub reached_cis: i64,
    /// The least risk this impact gives.
    pub risk_floor: String,
    /// The walk stopped at its limit.
    pub truncated: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeServiceImpactOut {
    pub id: Uuid,
    pub display: String,
    pub criticality: u8,
}

impl From<changes::ChangeImpact> for ChangeImpactOut {
    fn from(i: changes::ChangeImpact) -> Self {
        Self {
            services: i
                .services
                .into_iter()
                .map(|(id, display, criticality)| ChangeServiceImpactOut {
                    id: id.as_uuid(),
                    display,
                    criticality,
                })
                .collect(),
            offerings: i
                .offerings
                .into_iter()
                .map(|(id, display)| Ref {
                    id: id.as_uuid(),
                    display,
                })
                .collect(),
            customers: i.customers,
            reached_cis: i.reached_count as i64,
            risk_floor: i.risk_floor.code().into(),
            truncated: i.truncated,
        }
    }
}

/// A CAB decision on a change.
#[derive(Debug, Serialize, ToSchema)]
pub struct CabDecisionOut {
    pub meeting: Uuid,
    pub meeting_title: Option<String>,
    pub change: Ref,
    pub change_number: String,
    /// approved, rejected or deferred.
    pub decision: String,
    pub comment: String,
    pub recorded_by: Option<Ref>,
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Time,
}

impl CabDecisionOut {
    fn of(d: sigap_core::model::Decision, title: Option<String>) -> Self {
        Self {
            meeting: d.meeting.as_uuid(),
            meeting_title: title,
            change: Ref {
                id: d.change.id.as_uuid(),
                display: d.change.name,
            },
            change_number: d.number,
            decision: d.decision,
            comment: d.comment,
            recorded_by: super::task::person(d.recorded_by),
            recorded_at: ts(d.recorded_at),
        }
    }
}

/// A change with everything that hangs off it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeDetailOut {
    #[serde(flatten)]
    pub change: ChangeOut,
    /// The template a standard change was made from.
    pub template: Option<String>,
    /// The CIs it affects (its configuration item among them).
    pub cis: Vec<Ref>,
    pub impact: ChangeImpactOut,
    pub conflicts: Vec<ChangeConflictOut>,
    /// The risk questions' answers (question → answer).
    #[schema(value_type = Object)]
    pub risk_answers: BTreeMap<String, String>,
    pub approvals: Vec<ApprovalOut>,
    pub tasks: Vec<ChangeTaskOut>,
    /// Problems it fixes.
    pub problems: Vec<ProblemOut>,
    /// Incidents on hold waiting for it.
    pub incidents: Vec<IncidentOut>,
    /// Incidents it caused.
    pub caused_incidents: Vec<IncidentOut>,
    /// Incidents opened on its CIs while it was being implemented.
    pub incidents_during: Vec<IncidentOut>,
    pub cab_decisions: Vec<CabDecisionOut>,
    pub journal: Vec<JournalOut>,
}

impl ChangeDetailOut {
    fn version(&self) -> i64 {
        self.change.task.version
    }
}

impl From<changes::ChangeDetail> for ChangeDetailOut {
    fn from(d: changes::ChangeDetail) -> Self {
        let many =
            |v: Vec<sigap_core::model::Incident>| v.into_iter().map(IncidentOut::from).collect();
        Self {
            change: d.change.into(),
            template: d.template,
            cis: d
                .cis
                .into_iter()
                .map(|c| Ref {
                    id: c.id.as_uuid(),
                    display: c.name,
                })
                .collect(),
            impact: d.impact.into(),
            conflicts: d.conflicts.into_iter().map(Into::into).collect(),
            risk_answers: d.answers,
            approvals: d.approvals.into_iter().map(Into::into).collect(),
            tasks: d.tasks.into_iter().map(Into::into).collect(),
            problems: d.problems.into_iter().map(Into::into).collect(),
            incidents: many(d.waiting),
            caused_incidents: many(d.caused),
            incidents_during: many(d.during),
            cab_decisions: d
                .decisions
                .into_iter()
                .map(|(x, title, _)| CabDecisionOut::of(x, Some(title)))
                .collect(),
            journal: d.journal.into_iter().map(Into::into).collect(),
        }
    }
}

super::task::task_in!(
    /// Fields of a change. On create `short_description` is required (or comes from the
    /// template). The window and the CIs change before the change is authorized.
    ChangeIn {
        /// standard, normal (default) or emergency; set while the change is new.
        change_type: Option<String>,
        /// Create only: a standard change's approved template (id or name); its fields fill
        /// what is not given.
        template: Option<String>,
        /// The customer organization it is made on behalf of (id or name).
        #[serde(default, deserialize_with = "nullable")]
        #[schema(value_type = Option<String>)]
        organization: Option<Option<String>>,
        /// The CIs it affects (ids or names), besides `configuration_item`; replaces the list.
        cis: Option<Vec<String>>,
        reason: Option<String>,
        justification: Option<String>,
        implementation_plan: Option<String>,
        backout_plan: Option<String>,
        test_plan: Option<String>,
        /// RFC 3339; `null` clears it.
        #[serde(default, deserialize_with = "nullable")]
        #[schema(value_type = Option<String>, format = DateTime)]
        planned_start: Option<Option<String>>,
        #[serde(default, deserialize_with = "nullable")]
        #[schema(value_type = Option<String>, format = DateTime)]
        planned_end: Option<Option<String>>,
        /// The risk questions' answers: question key → answer key (see
        /// `/api/v1/change_models/{type}`).
        risk_answers: Option<BTreeMap<String, String>>,
        /// A standard change re-planned while scheduled: why it may keep its conflicts.
        conflict_reason: Option<String>,
    }
);

impl From<ChangeIn> for changes::ChangeInput {
    fn from(mut c: ChangeIn) -> Self {
        Self {
            task: c.task(),
            change_type: c.change_type,
            template: c.template,
            organization: c.organization,
            cis: c.cis,
            reason: c.reason,
            justification: c.justification,
            implementation_plan: c.implementation_plan,
            backout_plan: c.backout_plan,
            test_plan: c.test_plan,
            planned_start: c.planned_start,
            planned_end: c.planned_end,
            risk_answers: c.risk_answers,
            conflict_reason: c.conflict_reason,
        }
    }
}

/// The details an action takes.
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ChangeActionIn {
    /// schedule: why it is scheduled despite its conflicts (required when it has some).
    pub conflict_reason: Option<String>,
    /// revise, cancel: why.
    pub reason: Option<String>,
    /// review: successful, successful_with_issues, unsuccessful or backed_out.
    pub outcome: Option<String>,
    /// review: a note on the implementation.
    pub notes: Option<String>,
    /// close: the post-implementation review's notes.
    pub review_notes: Option<String>,
    /// comment, work_note: the text.
    pub body: Option<String>,
}

fn action(name: &str, body: ChangeActionIn) -> Result<Action, ApiError> {
    Ok(Action::parse(name, &Args::json(&body))?)
}

super::params::list_query!(
    /// The filters of the change list.
    ChangeListQuery, sort = sigap_core::task::SORT_FIELDS,
    q = "Full text over the number, the short description, the description and the journal.",
    {
        /// States, separated by commas.
        #[param(inline, style = Form, explode = false)]
        state: Option<super::params::ChangeStates>,
        /// standard, normal or emergency.
        change_type: Option<String>,
        /// low, moderate, high or very_high.
        risk: Option<String>,
        /// Service id or name.
        service: Option<String>,
        /// CI id or name.
        configuration_item: Option<String>,
        /// Group id or name.
        assignment_group: Option<String>,
    }
);

/// Changes (agents): filters `state` (comma-separated), `change_type`, `risk`, `service`,
/// `configuration_item`, `assignment_group`, `q`; newest first unless sorted.
#[utoipa::path(get, path = "/api/v1/changes", tag = "changes", params(ChangeListQuery),
    responses((status = 200, body = Page<ChangeOut>), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn list_changes(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ChangeListQuery>,
) -> ApiResult<Json<Page<ChangeOut>>> {
    let params = q.page()?;
    let query = TaskQuery {
        state: q.state.map(|s| s.joined()),
        service: q.service,
        ci: q.configuration_item,
        assignment_group: q.assignment_group,
        q: q.q,
        ..TaskQuery::default()
    };
    let page = changes::list(
        &s.core,
        &ctx,
        query,
        q.change_type.as_deref(),
        q.risk.as_deref(),
        &params,
    )
    .await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(ChangeOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

super::task::task_endpoints!(
    process = sigap_core::model::ChangeExt, tag = "changes", input = ChangeIn, out = ChangeOut,
    detail = ChangeDetailOut, read = changes::detail, action_in = ChangeActionIn, action = action,
    /// A change by number or id, with its CIs, impact, conflicts, approvals, tasks, links
    /// and journal.
    get get_change = "/api/v1/changes/{key}";
    /// Changes a change's fields. The risk answers re-compute its risk; the window and the
    /// CIs change before it is authorized (a scheduled standard change is checked again).
    patch patch_change;
    /// Does an action: assess, request_approval, schedule (with `conflict_reason` when the
    /// window is in conflict), revise (`reason`), implement, review (`outcome`), close
    /// (`review_notes`), cancel (`reason`), comment, work_note. A move the change's type does
    /// not allow answers 409 and names the allowed states.
    act change_action = "/api/v1/changes/{key}/{action}";
    /// The SLA clocks of a change.
    slas change_clocks = "/api/v1/changes/{key}/slas";
    /// Opens a change (agents): a normal one by default, a standard one from its `template`.
    create create_change = "/api/v1/changes" with changes::create;
);

/// The conflicts of a change's window now: changes on the same CIs or on CIs their impact
/// reaches, blackout windows, and its offering's maintenance window.
#[utoipa::path(get, path = "/api/v1/changes/{key}/conflicts", tag = "changes", params(("key" = String, Path)),
    responses((status = 200, body = Vec<ChangeConflictOut>), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn change_conflicts(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<ChangeConflictOut>>> {
    let list = changes::conflicts(&s.core, &ctx, &key).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// What a change's CIs reach: services with their criticality, offerings and customers.
#[utoipa::path(get, path = "/api/v1/changes/{key}/impact", tag = "changes", params(("key" = String, Path)),
    responses((status = 200, body = ChangeImpactOut), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn change_impact(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<ChangeImpactOut>> {
    Ok(Json(changes::impact(&s.core, &ctx, &key).await?.into()))
}

/// A change task to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeTaskIn {
    pub short_description: String,
    #[serde(default)]
    pub description: String,
    /// Group id or name (default: the change's).
    pub assignment_group: Option<String>,
    /// Person id or login.
    pub assigned_to: Option<String>,
    /// Tasks of one order run side by side, the next order after them (default 10).
    pub order: Option<i64>,
}

/// Adds a task to a change; it opens when its order comes while the change is implemented.
#[utoipa::path(post, path = "/api/v1/changes/{key}/tasks", tag = "changes", request_body = ChangeTaskIn,
    params(("key" = String, Path)),
    responses((status = 201, body = ChangeTaskOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn add_change_task(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<ChangeTaskIn>,
) -> ApiResult<(StatusCode, Json<ChangeTaskOut>)> {
    let input = changes::TaskInput {
        short_description: body.short_description,
        description: body.description,
        assignment_group: body.assignment_group,
        assigned_to: body.assigned_to,
        order: body.order,
    };
    let t = changes::add_task(&s.core, &ctx, &key, input).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeLinkIn {
    /// problems (it fixes), incidents (waiting for it) or caused_incidents (it caused).
    pub kind: String,
    /// Numbers or ids; one linked to another change this way moves.
    pub tasks: Vec<String>,
}

fn link_kind(kind: &str) -> Result<LinkKind, ApiError> {
    LinkKind::parse(kind.trim()).ok_or_else(|| {
        ApiError::App(AppError::field(
            "kind",
            "invalid_choice",
            "problems, incidents or caused_incidents",
        ))
    })
}

/// Links problems (it fixes) or incidents (waiting for it, or caused by it) to a change.
/// Incidents waiting for a change on hold resume when it closes.
#[utoipa::path(post, path = "/api/v1/changes/{key}/links", tag = "changes", request_body = ChangeLinkIn,
    params(("key" = String, Path)),
    responses((status = 200, body = ChangeDetailOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn link(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<ChangeLinkIn>,
) -> ApiResult<Json<ChangeDetailOut>> {
    let kind = link_kind(&body.kind)?;
    Ok(Json(
        changes::link(&s.core, &ctx, &key, kind, body.tasks)
            .await?
            .into(),
    ))
}

/// Unlinks a problem or incident from a change.
#[utoipa::path(delete, path = "/api/v1/changes/{key}/links/{kind}/{task}", tag = "changes",
    params(("key" = String, Path), ("kind" = String, Path), ("task" = String, Path)),
    responses((status = 200, body = ChangeDetailOut), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn unlink(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath((key, kind, task)): ApiPath<(String, String, String)>,
) -> ApiResult<Json<ChangeDetailOut>> {
    let kind = LinkKind::parse(kind.trim()).ok_or(ApiError::App(AppError::NotFound))?;
    Ok(Json(
        changes::unlink(&s.core, &ctx, &key, kind, &task)
            .await?
            .into(),
    ))
}

/// The changes an incident is tied to.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentChangesOut {
    /// The change that caused it: its number and short description.
    pub caused_by_change: Option<[String; 2]>,
    /// The change it waits for.
    pub awaiting_change: Option<[String; 2]>,
}

/// The changes an incident is tied to: the one that caused it, the one it waits for.
#[utoipa::path(get, path = "/api/v1/incidents/{key}/changes", tag = "changes", params(("key" = String, Path)),
    responses((status = 200, body = IncidentChangesOut), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn incident_changes(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<IncidentChangesOut>> {
    let i = sigap_core::incidents::get(&s.core, &ctx, &key).await?;
    let c = changes::of_incident(&s.core, &ctx, i.id).await?;
    Ok(Json(IncidentChangesOut {
        caused_by_change: c.caused_by.map(|(n, t)| [n, t]),
        awaiting_change: c.awaiting.map(|(n, t)| [n, t]),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CausedByIn {
    /// The change (number or id) that caused the incident.
    pub change: String,
}

/// Records the change that caused an incident (the incident's *caused by change*).
#[utoipa::path(post, path = "/api/v1/incidents/{key}/caused_by", tag = "changes", request_body = CausedByIn,
    params(("key" = String, Path)),
    responses((status = 200, body = IncidentChangesOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn set_caused_by(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<CausedByIn>,
) -> ApiResult<Json<IncidentChangesOut>> {
    let i = sigap_core::incidents::get(&s.core, &ctx, &key).await?;
    changes::link(
        &s.core,
        &ctx,
        &body.change,
        LinkKind::Caused,
        vec![i.number.clone()],
    )
    .await
    .map_err(|e| match e {
        AppError::NotFound => AppError::field("change", "not_found", "no such change"),
        other => other,
    })?;
    incident_changes(State(s), Caller(ctx), ApiPath(key)).await
}

// ----- change tasks -----

super::params::list_query!(
    /// The filters of the change task list.
    ChangeTaskListQuery, sort = sigap_core::task::SORT_FIELDS,
    q = "Full text over the number, the short description and the journal.",
    {
        /// States, separated by commas.
        state: Option<String>,
        /// Group id or name.
        assignment_group: Option<String>,
        /// Person id or login.
        assigned_to: Option<String>,
    }
);

/// Change tasks (agents), newest first.
#[utoipa::path(get, path = "/api/v1/change_tasks", tag = "changes", params(ChangeTaskListQuery),
    responses((status = 200, body = Page<ChangeTaskOut>), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn list_change_tasks(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ChangeTaskListQuery>,
) -> ApiResult<Json<Page<ChangeTaskOut>>> {
    let params = q.page()?;
    let query = TaskQuery {
        state: q.state,
        assignment_group: q.assignment_group,
        assigned_to: q.assigned_to,
        q: q.q,
        ..TaskQuery::default()
    };
    let page = changes::list_tasks(&s.core, &ctx, query, &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// A change task with its journal.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeTaskDetailOut {
    #[serde(flatten)]
    pub task: ChangeTaskOut,
    pub journal: Vec<JournalOut>,
}

impl ChangeTaskDetailOut {
    fn version(&self) -> i64 {
        self.task.task.version
    }
}

impl From<(ChangeTask, Vec<sigap_core::model::JournalEntry>)> for ChangeTaskDetailOut {
    fn from((t, j): (ChangeTask, Vec<sigap_core::model::JournalEntry>)) -> Self {
        Self {
            task: t.into(),
            journal: j.into_iter().map(Into::into).collect(),
        }
    }
}

async fn task_detail(
    core: &sigap_core::Core,
    ctx: &Ctx,
    key: &str,
) -> Result<(ChangeTask, Vec<sigap_core::model::JournalEntry>), AppError> {
    let t = changes::task(core, ctx, key).await?;
    let j = sigap_core::task::journal_of(core, ctx, t.id).await?;
    Ok((t, j))
}

fn task_action(
    name: &str,
    body: super::requests::FulfilmentActionIn,
) -> Result<sigap_core::requests::TaskAction, ApiError> {
    Ok(sigap_core::requests::TaskAction::parse(
        name,
        &Args::json(&body),
    )?)
}

super::task::task_endpoints!(
    process = sigap_core::model::ChangeTaskExt, tag = "changes", input = super::requests::FulfilmentIn,
    out = ChangeTaskOut, detail = ChangeTaskDetailOut, read = task_detail,
    action_in = super::requests::FulfilmentActionIn, action = task_action,
    /// A change task with its journal (agents).
    get get_change_task = "/api/v1/change_tasks/{key}";
    /// Changes a change task's common fields: assignment, description.
    patch patch_change_task;
    /// Does an action: start, close (`notes`), close_incomplete or skip (`reason`),
    /// work_note. The next order of tasks opens when one is done.
    act change_task_action = "/api/v1/change_tasks/{key}/{action}";
    /// The SLA clocks of a change task.
    slas change_task_clocks = "/api/v1/change_tasks/{key}/slas";
);

// ----- the calendar -----

/// The calendar's period and filters.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CalendarQuery {
    /// RFC 3339 or a date (default: now).
    pub from: Option<String>,
    /// RFC 3339 or a date, inclusive (default: 31 days after `from`).
    pub to: Option<String>,
    /// Service id or name.
    pub service: Option<String>,
    /// CI id or name (a change affecting it).
    pub configuration_item: Option<String>,
    /// Group id or name.
    pub assignment_group: Option<String>,
    /// low, moderate, high or very_high.
    pub risk: Option<String>,
}

/// The feed's period and token.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// RFC 3339 or a date (default: 30 days ago).
    pub from: Option<String>,
    /// RFC 3339 or a date, inclusive (default: 210 days after `from`).
    pub to: Option<String>,
    /// A personal API token (calendar programs send no header).
    #[param(pattern = r"^[A-Za-z0-9_.-]*$")]
    pub token: Option<String>,
}

impl CalendarQuery {
    fn period(&self, now: jiff::Timestamp) -> Result<(jiff::Timestamp, jiff::Timestamp), AppError> {
        let from = super::sla::instant("from", self.from.as_deref(), now)?;
        let month = from
            .checked_add(jiff::SignedDuration::from_hours(24 * 31))
            .unwrap_or(from);
        let to = super::sla::instant("to", self.to.as_deref(), month)?;
        if to <= from {
            return Err(AppError::field(
                "to",
                "before_start",
                "the end is before the start",
            ));
        }
        if to.duration_since(from) > jiff::SignedDuration::from_hours(24 * 400) {
            return Err(AppError::field(
                "to",
                "out_of_range",
                "a period is at most 400 days",
            ));
        }
        Ok((from, to))
    }

    async fn filter(
        &self,
        core: &sigap_core::Core,
        ctx: &Ctx,
    ) -> Result<changes::CalendarFilter, AppError> {
        changes::calendar_filter(
            core,
            ctx,
            self.service.as_deref(),
            self.configuration_item.as_deref(),
            self.assignment_group.as_deref(),
            self.risk.as_deref(),
        )
        .await
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeCalendarEntryOut {
    #[serde(flatten)]
    pub change: ChangeOut,
    /// It conflicts with another change, or falls in a blackout window.
    pub in_conflict: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeBlackoutOut {
    pub id: Uuid,
    pub name: String,
    /// The service it holds for; none: everywhere.
    pub service: Option<Ref>,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Time,
    pub reason: String,
}

impl From<sigap_core::model::Blackout> for ChangeBlackoutOut {
    fn from(b: sigap_core::model::Blackout) -> Self {
        Self {
            id: b.id.as_uuid(),
            name: b.name,
            service: b.service.map(|s| Ref {
                id: s.id.as_uuid(),
                display: s.name,
            }),
            starts_at: ts(b.starts_at),
            ends_at: ts(b.ends_at),
            reason: b.reason,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeCalendarOut {
    pub changes: Vec<ChangeCalendarEntryOut>,
    pub blackouts: Vec<ChangeBlackoutOut>,
    /// More changes than one view shows (2,000) fall in the period.
    pub truncated: bool,
}

/// The change calendar: changes with a planned window in the period (not canceled), the
/// conflicts among them flagged, and the blackout windows.
#[utoipa::path(get, path = "/api/v1/changes/calendar", tag = "changes", params(CalendarQuery),
    responses((status = 200, body = ChangeCalendarOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn calendar(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<CalendarQuery>,
) -> ApiResult<Json<ChangeCalendarOut>> {
    let (from, to) = q.period(s.core.now())?;
    let filter = q.filter(&s.core, &ctx).await?;
    let cal = changes::calendar(&s.core, &ctx, from, to, filter).await?;
    Ok(Json(ChangeCalendarOut {
        changes: cal
            .entries
            .into_iter()
            .map(|e| ChangeCalendarEntryOut {
                change: e.change.into(),
                in_conflict: e.in_conflict,
            })
            .collect(),
        blackouts: cal.blackouts.into_iter().map(Into::into).collect(),
        truncated: cal.truncated,
    }))
}

/// The scheduled changes as an iCalendar feed (RFC 5545) to subscribe to: by default from
/// 30 days ago to 180 days on. Authenticated by a personal API token in `token` (or the
/// usual header or session).
#[utoipa::path(get, path = "/api/v1/changes/calendar.ics", tag = "changes", params(FeedQuery),
    responses((status = 200, content_type = "text/calendar", body = String),
        (status = 401, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn calendar_feed(
    State(s): State<AppState>,
    caller: Option<axum::Extension<std::sync::Arc<sigap_core::Principal>>>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<FeedQuery>,
) -> ApiResult<Response> {
    let request_id = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let principal = match (caller, q.token.as_deref()) {
        (_, Some(token)) => sigap_core::auth::token_principal(&s.core, token).await?,
        (Some(axum::Extension(p)), None) => p,
        (None, None) => return Err(ApiError::App(AppError::Unauthenticated)),
    };
    let ctx = Ctx::new(principal, request_id);
    let now = s.core.now();
    let day = jiff::SignedDuration::from_hours(24);
    let default_from = now.checked_sub(day * 30).unwrap_or(now);
    let from = super::sla::instant("from", q.from.as_deref(), default_from)?;
    let to = super::sla::instant(
        "to",
        q.to.as_deref(),
        from.checked_add(day * 210).unwrap_or(from),
    )?;
    if to <= from || to.duration_since(from) > day * 800 {
        return Err(ApiError::App(AppError::field(
            "to",
            "out_of_range",
            "a period of up to 800 days",
        )));
    }
    let base = match &s.config.public_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => {
            let host = headers
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .filter(|h| {
                    h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
                })
                .unwrap_or("localhost");
            format!("http://{host}")
        }
    };
    let text = changes::ics(&s.core, &ctx, from, to, &base).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        text,
    )
        .into_response())
}

// ----- models, templates, windows, meetings -----

/// A change type's risk questionnaire and approval rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeModelOut {
    pub change_type: String,
    /// `{questions: [{key, label, label_id, choices: [{key, label, label_id, weight}]}],
    /// thresholds: {moderate, high, very_high}}`: the answers' weights add up to a score,
    /// and the thresholds turn it into a level.
    #[schema(value_type = Object)]
    pub questionnaire: serde_json::Value,
    /// Approval stages by risk level; `null`: the built-in rules (normal: low → the
    /// assignment group's manager; moderate → the manager, then the group "CAB" (any); high →
    /// "CAB" (all); very_high → the manager, then "CAB" (all); emergency: the group
    /// "Emergency CAB" (any)).
    #[schema(value_type = Option<Object>)]
    pub rules: Option<serde_json::Value>,
}

impl From<changes::Model> for ChangeModelOut {
    fn from(m: changes::Model) -> Self {
        Self {
            change_type: m.change_type.code().into(),
            questionnaire: serde_json::to_value(&m.questionnaire).unwrap_or_default(),
            rules: m.rules.and_then(|r| serde_json::to_value(r).ok()),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeModelIn {
    #[schema(value_type = Object)]
    pub questionnaire: serde_json::Value,
    /// `{low: [stages], moderate: […], high: […], very_high: […]}` with stages as a
    /// catalogue item's approval (`{approvers: manager | group_manager | people | group, …}`),
    /// or `null` for the built-in rules.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub rules: serde_json::Value,
}

/// A change type's risk questionnaire and approval rules by risk.
#[utoipa::path(get, path = "/api/v1/change_models/{type}", tag = "changes", params(("type" = String, Path)),
    responses((status = 200, body = ChangeModelOut), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_model(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(t): ApiPath<String>,
) -> ApiResult<Json<ChangeModelOut>> {
    Ok(Json(changes::model(&s.core, &ctx, &t).await?.into()))
}

/// Sets a change type's questionnaire and approval rules (administrators).
#[utoipa::path(put, path = "/api/v1/change_models/{type}", tag = "changes", request_body = ChangeModelIn,
    params(("type" = String, Path)),
    responses((status = 200, body = ChangeModelOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn put_model(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(t): ApiPath<String>,
    ApiJson(body): ApiJson<ChangeModelIn>,
) -> ApiResult<Json<ChangeModelOut>> {
    let m = changes::set_model(&s.core, &ctx, &t, body.questionnaire, body.rules).await?;
    Ok(Json(m.into()))
}

/// A standard change template.
#[derive(Debug, Serialize, ToSchema)]
pub struct ChangeTemplateOut {
    pub id: Uuid,
    pub name: String,
    /// draft, proposed, approved, rejected or retired; only approved ones make changes.
    pub state: String,
    /// The fields a change from it gets.
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    /// Its tasks: `[{order, group, short_description, description}]`.
    #[schema(value_type = Vec<Object>)]
    pub tasks: serde_json::Value,
    pub proposed_by: Option<Ref>,
    pub decided_by: Option<Ref>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<Time>,
    pub decision_note: String,
    /// The catalogue item that orders it.
    pub item: Option<Ref>,
    pub version: i64,
}

impl From<changes::TemplateDetail> for ChangeTemplateOut {
    fn from(d: changes::TemplateDetail) -> Self {
        let t = d.template;
        Self {
            id: t.id.as_uuid(),
            name: t.name,
            state: t.state,
            fields: serde_json::to_value(&d.content).unwrap_or_default(),
            tasks: serde_json::to_value(&d.tasks).unwrap_or_default(),
            proposed_by: super::task::person(t.proposed_by),
            decided_by: super::task::person(t.decided_by),
            decided_at: t.decided_at.map(ts),
            decision_note: t.decision_note,
            item: t.item.map(|i| Ref {
                id: i.id.as_uuid(),
                display: i.name,
            }),
            version: t.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeTemplateIn {
    pub name: String,
    /// short_description, description, category, assignment_group, service, offering,
    /// configuration_item, cis, reason, implementation_plan, backout_plan, test_plan, risk,
    /// impact, urgency.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub fields: serde_json::Value,
    /// `[{order, group, short_description, description}]`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>)]
    pub tasks: serde_json::Value,
    /// The catalogue item (id or name) that orders it.
    pub item: Option<String>,
}

impl From<ChangeTemplateIn> for changes::TemplateInput {
    fn from(t: ChangeTemplateIn) -> Self {
        let or_empty = |v: serde_json::Value, e: serde_json::Value| if v.is_null() { e } else { v };
        Self {
            name: t.name,
            fields: or_empty(t.fields, serde_json::json!({})),
            tasks: or_empty(t.tasks, serde_json::json!([])),
            item: t.item,
        }
    }
}

/// Standard change templates.
#[utoipa::path(get, path = "/api/v1/change_templates", tag = "changes",
    responses((status = 200, body = Vec<ChangeTemplateOut>)))]
pub async fn list_templates(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<ChangeTemplateOut>>> {
    let list = changes::templates(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Writes a template, as a draft to be proposed and approved.
#[utoipa::path(post, path = "/api/v1/change_templates", tag = "changes", request_body = ChangeTemplateIn,
    responses((status = 201, body = ChangeTemplateOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_template(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<ChangeTemplateIn>,
) -> ApiResult<(StatusCode, Json<ChangeTemplateOut>)> {
    let t = changes::create_template(&s.core, &ctx, body.into()).await?;
    Ok((StatusCode::CREATED, Json(t.into())))
}

/// A template by id or name.
#[utoipa::path(get, path = "/api/v1/change_templates/{key}", tag = "changes", params(("key" = String, Path)),
    responses((status = 200, body = ChangeTemplateOut), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_template(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<ChangeTemplateOut>> {
    Ok(Json(changes::template(&s.core, &ctx, &key).await?.into()))
}

/// Rewrites a template; it goes back to draft.
#[utoipa::path(put, path = "/api/v1/change_templates/{key}", tag = "changes", request_body = ChangeTemplateIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ChangeTemplateOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn put_template(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<ChangeTemplateIn>,
) -> ApiResult<Json<ChangeTemplateOut>> {
    Ok(Json(
        changes::update_template(&s.core, &ctx, &key, body.into(), v)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ChangeTemplateActionIn {
    /// reject: why (required); approve: an optional note.
    #[serde(default)]
    pub note: String,
}

/// A template's next step: propose, approve or reject (a manager other than who proposed
/// it), retire.
#[utoipa::path(post, path = "/api/v1/change_templates/{key}/{action}", tag = "changes", request_body = ChangeTemplateActionIn,
    params(("key" = String, Path), ("action" = String, Path)),
    responses((status = 200, body = ChangeTemplateOut), (status = 409, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn template_action(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath((key, name)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<ChangeTemplateActionIn>,
) -> ApiResult<Json<ChangeTemplateOut>> {
    Ok(Json(
        changes::decide_template(&s.core, &ctx, &key, &name, &body.note)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeBlackoutIn {
    pub name: String,
    /// Service id or name; none: everywhere.
    pub service: Option<String>,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: String,
    #[serde(default)]
    pub reason: String,
}

fn instant(field: &str, text: &str) -> Result<jiff::Timestamp, AppError> {
    text.trim()
        .parse::<jiff::Timestamp>()
        .map_err(|_| AppError::field(field, "invalid_time", "an RFC 3339 time"))
}

/// Blackout windows not yet over (and those of the last 30 days).
#[utoipa::path(get, path = "/api/v1/change_blackouts", tag = "changes",
    responses((status = 200, body = Vec<ChangeBlackoutOut>)))]
pub async fn list_blackouts(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<ChangeBlackoutOut>>> {
    let list = changes::blackouts(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Adds a blackout window, everywhere or on one service (managers): a change inside it is in
/// conflict.
#[utoipa::path(post, path = "/api/v1/change_blackouts", tag = "changes", request_body = ChangeBlackoutIn,
    responses((status = 201, body = ChangeBlackoutOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn add_blackout(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<ChangeBlackoutIn>,
) -> ApiResult<(StatusCode, Json<ChangeBlackoutOut>)> {
    let (starts, ends) = (
        instant("starts_at", &body.starts_at)?,
        instant("ends_at", &body.ends_at)?,
    );
    let b = changes::add_blackout(
        &s.core,
        &ctx,
        &body.name,
        body.service.as_deref(),
        starts,
        ends,
        &body.reason,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(b.into())))
}

/// Removes a blackout window (managers).
#[utoipa::path(delete, path = "/api/v1/change_blackouts/{id}", tag = "changes", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn remove_blackout(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    changes::remove_blackout(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MaintenanceWindowOut {
    pub offering: Ref,
    pub service: Ref,
    /// The calendar whose business hours are the window.
    pub calendar: Ref,
}

impl From<sigap_core::model::Maintenance> for MaintenanceWindowOut {
    fn from(m: sigap_core::model::Maintenance) -> Self {
        let r = |id: Uuid, display: String| Ref { id, display };
        Self {
            offering: r(m.offering.id.as_uuid(), m.offering.name),
            service: r(m.service.id.as_uuid(), m.service.name),
            calendar: r(m.calendar.id.as_uuid(), m.calendar.name),
        }
    }
}

/// The offerings' maintenance windows: a change on an offering outside its window is in
/// conflict.
#[utoipa::path(get, path = "/api/v1/maintenance_windows", tag = "changes",
    responses((status = 200, body = Vec<MaintenanceWindowOut>)))]
pub async fn list_maintenance(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<MaintenanceWindowOut>>> {
    let list = changes::maintenance_windows(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MaintenanceWindowIn {
    /// A calendar (id or name) whose business hours are the window; `null` clears it.
    pub calendar: Option<String>,
}

/// Sets an offering's maintenance window (managers).
#[utoipa::path(put, path = "/api/v1/offerings/{id}/maintenance_window", tag = "changes", request_body = MaintenanceWindowIn,
    params(("id" = String, Path)),
    responses((status = 200, body = Option<MaintenanceWindowOut>), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn put_maintenance(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<MaintenanceWindowIn>,
) -> ApiResult<Json<Option<MaintenanceWindowOut>>> {
    let m = changes::set_maintenance(&s.core, &ctx, &id, body.calendar.as_deref()).await?;
    Ok(Json(m.map(Into::into)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CabMeetingOut {
    pub id: Uuid,
    pub title: String,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Time,
    /// The agenda holds the changes awaiting authorization planned to start in this window.
    #[schema(value_type = String, format = DateTime)]
    pub agenda_from: Time,
    #[schema(value_type = String, format = DateTime)]
    pub agenda_to: Time,
    pub notes: String,
    pub version: i64,
}

impl From<sigap_core::model::Meeting> for CabMeetingOut {
    fn from(m: sigap_core::model::Meeting) -> Self {
        Self {
            id: m.id.as_uuid(),
            title: m.title,
            starts_at: ts(m.starts_at),
            ends_at: ts(m.ends_at),
            agenda_from: ts(m.agenda_from),
            agenda_to: ts(m.agenda_to),
            notes: m.notes,
            version: m.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CabMeetingDetailOut {
    #[serde(flatten)]
    pub meeting: CabMeetingOut,
    pub attendees: Vec<Ref>,
    pub agenda: Vec<ChangeOut>,
    pub decisions: Vec<CabDecisionOut>,
}

impl From<changes::MeetingDetail> for CabMeetingDetailOut {
    fn from(d: changes::MeetingDetail) -> Self {
        Self {
            meeting: d.meeting.into(),
            attendees: d
                .attendees
                .into_iter()
                .map(|p| Ref {
                    id: p.id.as_uuid(),
                    display: p.name,
                })
                .collect(),
            agenda: d.agenda.into_iter().map(Into::into).collect(),
            decisions: d
                .decisions
                .into_iter()
                .map(|x| CabDecisionOut::of(x, None))
                .collect(),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CabMeetingIn {
    pub title: String,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: String,
    /// The window of planned starts its agenda covers (default: two weeks from the meeting).
    pub agenda_from: Option<String>,
    pub agenda_to: Option<String>,
    #[serde(default)]
    pub notes: String,
    /// People (ids or logins).
    #[serde(default)]
    pub attendees: Vec<String>,
}

impl CabMeetingIn {
    fn read(self) -> Result<changes::MeetingInput, AppError> {
        let opt = |f: &str, v: &Option<String>| v.as_deref().map(|t| instant(f, t)).transpose();
        Ok(changes::MeetingInput {
            starts_at: instant("starts_at", &self.starts_at)?,
            ends_at: instant("ends_at", &self.ends_at)?,
            agenda_from: opt("agenda_from", &self.agenda_from)?,
            agenda_to: opt("agenda_to", &self.agenda_to)?,
            title: self.title,
            notes: self.notes,
            attendees: self.attendees,
        })
    }
}

/// CAB meetings from 30 days ago on.
#[utoipa::path(get, path = "/api/v1/cab_meetings", tag = "changes",
    responses((status = 200, body = Vec<CabMeetingOut>)))]
pub async fn list_meetings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<CabMeetingOut>>> {
    let list = changes::meetings(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Plans a CAB meeting (managers).
#[utoipa::path(post, path = "/api/v1/cab_meetings", tag = "changes", request_body = CabMeetingIn,
    responses((status = 201, body = CabMeetingDetailOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_meeting(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<CabMeetingIn>,
) -> ApiResult<(StatusCode, Json<CabMeetingDetailOut>)> {
    let m = changes::create_meeting(&s.core, &ctx, body.read()?).await?;
    Ok((StatusCode::CREATED, Json(m.into())))
}

/// A CAB meeting with its attendees, agenda and decisions.
#[utoipa::path(get, path = "/api/v1/cab_meetings/{id}", tag = "changes", params(("id" = String, Path)),
    responses((status = 200, body = CabMeetingDetailOut), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_meeting(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<CabMeetingDetailOut>> {
    Ok(Json(changes::meeting(&s.core, &ctx, &id).await?.into()))
}

/// Rewrites a CAB meeting (managers).
#[utoipa::path(put, path = "/api/v1/cab_meetings/{id}", tag = "changes", request_body = CabMeetingIn,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = CabMeetingDetailOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn put_meeting(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<CabMeetingIn>,
) -> ApiResult<Json<CabMeetingDetailOut>> {
    Ok(Json(
        changes::update_meeting(&s.core, &ctx, &id, body.read()?, v)
            .await?
            .into(),
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CabDecisionIn {
    /// The change (number or id).
    pub change: String,
    /// approved, rejected or deferred.
    pub decision: String,
    /// Why (required unless approved).
    #[serde(default)]
    pub comment: String,
}

/// Records the CAB's decision on a change (managers). When the recorder has an approval of
/// the change waiting on them, their approval is decided too.
#[utoipa::path(post, path = "/api/v1/cab_meetings/{id}/decisions", tag = "changes", request_body = CabDecisionIn,
    params(("id" = String, Path)),
    responses((status = 200, body = CabMeetingDetailOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn record_decision(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CabDecisionIn>,
) -> ApiResult<Json<CabMeetingDetailOut>> {
    let m = changes::record_decision(
        &s.core,
        &ctx,
        &id,
        &body.change,
        &body.decision,
        &body.comment,
    )
    .await?;
    Ok(Json(m.into()))
}
