//! Reading changes: one with everything hanging off it, the lists, and the links to
//! problems (fixed by it) and incidents (waiting for it, or caused by it).

use super::admin::{self, Model};
use super::plan::{self, ChangeImpact, Conflict};
use crate::Core;
use crate::error::{AppError, AppResult};
use crate::links;
use crate::listing::{ListParams, Listed};
use crate::principal::Ctx;
use crate::task::{self as core_task, TaskQuery};
use jiff::Timestamp;
use sigap_domain::TaskId;
use sigap_domain::process::change::{ChangeType, RiskLevel};
use sigap_domain::task::StateModel;
use sigap_store::approvals::Approval;
use sigap_store::changes::{self as repo, Change, ChangeExt, ChangeTask, ChangeTaskExt, Decision};
use sigap_store::cmdb::CiRef;
use sigap_store::incidents::{Incident, IncidentExt};
use sigap_store::problems::{Problem, ProblemExt};
use sigap_store::task::journal::JournalEntry;
use std::collections::BTreeMap;

/// A change with its journal, tasks, approvals, CIs and what hangs off it.
#[derive(Debug, Clone)]
pub struct ChangeDetail {
    pub change: Change,
    pub journal: Vec<JournalEntry>,
    pub tasks: Vec<ChangeTask>,
    pub approvals: Vec<Approval>,
    /// The CIs it affects; how many more their impact reaches.
    pub cis: Vec<CiRef>,
    pub reached: i64,
    pub impact: ChangeImpact,
    pub conflicts: Vec<Conflict>,
    pub problems: Vec<Problem>,
    /// Incidents on hold waiting for it.
    pub waiting: Vec<Incident>,
    /// Incidents it caused (linked), and those opened on its CIs while it was implemented.
    pub caused: Vec<Incident>,
    pub during: Vec<Incident>,
    /// The CAB's decisions, with the meetings' titles and dates.
    pub decisions: Vec<(Decision, String, Timestamp)>,
    pub model: Model,
    pub answers: BTreeMap<String, String>,
    pub template: Option<String>,
}

pub async fn get(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Change> {
    core_task::get(core, ctx, key).await
}

pub async fn detail(core: &Core, ctx: &Ctx, key: &str) -> AppResult<ChangeDetail> {
    let (c, journal): (Change, _) = core_task::with_journal(core, ctx, key).await?;
    let now = core.now();
    let change = c.clone();
    let mut d = core
        .store
        .read(async move |tx| {
            let c = change;
            let tasks = sigap_store::requests::children::<ChangeTaskExt>(tx, c.id).await?;
            let approvals = crate::approvals::of_task(tx, c.id).await?;
            let (cis, reached) = repo::cis(tx, c.id).await?;
            let direct: Vec<_> = cis.iter().map(|x| x.id).collect();
            let impact = plan::impact_of(tx, &direct, c.service.as_ref().map(|s| s.id)).await?;
            let conflicts = if c.state.is_final() {
                Vec::new()
            } else {
                plan::conflicts_in(tx, c.id, &c.fields()).await?
            };
            let problems: Vec<Problem> = repo::PROBLEMS.children(tx, c.id).await?;
            let waiting: Vec<Incident> = repo::INCIDENTS.children(tx, c.id).await?;
            let caused: Vec<Incident> = repo::CAUSED.children(tx, c.id).await?;
            let during = match c.ext.actual_start {
                Some(s) => {
                    let e = c.ext.actual_end.unwrap_or(now);
                    repo::incidents_during::<IncidentExt>(tx, c.id, s, e).await?
                }
                None => Vec::new(),
            };
            let decisions = repo::decisions_on(tx, c.id).await?;
            let model = admin::model_in(tx, c.ext.change_type).await?;
            let template = match c.ext.template_id {
                Some(t) => Some(repo::template(tx, t).await?.name),
                None => None,
            };
            Ok::<_, AppError>(ChangeDetail {
                answers: serde_json::from_str(&c.ext.risk_answers).unwrap_or_default(),
                change: c,
                journal: Vec::new(),
                tasks,
                approvals,
                cis,
                reached,
                impact,
                conflicts,
                problems,
                waiting,
                caused,
                during,
                decisions,
                model,
                template,
            })
        })
        .await?;
    d.journal = journal;
    Ok(d)
}

/// A page of changes (agents), by default the newest first; `change_type` and `risk`
/// narrow it.
pub async fn list(
    core: &Core,
    ctx: &Ctx,
    query: TaskQuery,
    change_type: Option<&str>,
    risk: Option<&str>,
    params: &ListParams,
) -> AppResult<Listed<Change>> {
    let mut ext = Vec::new();
    if let Some(t) = change_type.filter(|t| !t.trim().is_empty()) {
        let t = ChangeType::parse(t.trim())
            .map_err(|e| AppError::field("change_type", e.code, e.message))?;
        ext.push(repo::of_type(t));
    }
    if let Some(r) = risk.filter(|r| !r.trim().is_empty()) {
        let r =
            RiskLevel::parse(r.trim()).map_err(|e| AppError::field("risk", e.code, e.message))?;
        ext.push(repo::of_risk(r));
    }
    core_task::list(core, ctx, query, ext, params, "-opened_at").await
}

/// A page of change tasks (agents).
pub async fn list_tasks(
    core: &Core,
    ctx: &Ctx,
    query: TaskQuery,
    params: &ListParams,
) -> AppResult<Listed<ChangeTask>> {
    core_task::list::<ChangeTaskExt>(core, ctx, query, Vec::new(), params, "-opened_at").await
}

/// What a change is linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Problems it fixes.
    Problems,
    /// Incidents waiting for it.
    Incidents,
    /// Incidents it caused.
    Caused,
}

impl LinkKind {
    pub fn parse(s: &str) -> Option<LinkKind> {
        Some(match s {
            "problems" => LinkKind::Problems,
            "incidents" => LinkKind::Incidents,
            "caused_incidents" => LinkKind::Caused,
            _ => return None,
        })
    }
}

/// Links problems or incidents to a change (agents); a task linked to another change this
/// way moves.
pub async fn link(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    kind: LinkKind,
    keys: Vec<String>,
) -> AppResult<ChangeDetail> {
    match kind {
        LinkKind::Problems => {
            links::change::<ChangeExt, _>(core, ctx, key, async move |tx, actor, now, c| {
                let list = links::to_link::<ProblemExt>(tx, "problems", &keys).await?;
                links::link_in(tx, actor, now, repo::PROBLEMS, c, list)
                    .await
                    .map(|_| ())
            })
            .await?
        }
        LinkKind::Incidents | LinkKind::Caused => {
            let table = if kind == LinkKind::Caused {
                repo::CAUSED
            } else {
                repo::INCIDENTS
            };
            // An incident is caused by a change whatever state the change is in.
            links::change_any::<ChangeExt, _>(
                core,
                ctx,
                key,
                kind == LinkKind::Caused,
                async move |tx, actor, now, c| {
                    let list = links::to_link::<IncidentExt>(tx, "incidents", &keys).await?;
                    links::link_in(tx, actor, now, table, c, list)
                        .await
                        .map(|_| ())
                },
            )
            .await?
        }
    }
    detail(core, ctx, key).await
}

/// Unlinks a problem or an incident from a change (agents).
pub async fn unlink(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    kind: LinkKind,
    child: &str,
) -> AppResult<ChangeDetail> {
    match kind {
        LinkKind::Problems => {
            links::unlink::<ChangeExt, ProblemExt>(core, ctx, key, repo::PROBLEMS, child).await?
        }
        LinkKind::Incidents => {
            links::unlink::<ChangeExt, IncidentExt>(core, ctx, key, repo::INCIDENTS, child).await?
        }
        LinkKind::Caused => {
            links::unlink::<ChangeExt, IncidentExt>(core, ctx, key, repo::CAUSED, child).await?
        }
    }
    detail(core, ctx, key).await
}

/// The changes an incident is tied to: the one that caused it and the one it waits for, as
/// (number, short description).
#[derive(Debug, Clone, Default)]
pub struct IncidentChanges {
    pub caused_by: Option<(String, String)>,
    pub awaiting: Option<(String, String)>,
}

pub async fn of_incident(core: &Core, ctx: &Ctx, incident: TaskId) -> AppResult<IncidentChanges> {
    Ok(IncidentChanges {
        caused_by: links::parent_of(core, ctx, repo::CAUSED, incident).await?,
        awaiting: links::parent_of(core, ctx, repo::INCIDENTS, incident).await?,
    })
}

/// The change that fixes a problem, as (number, short description).
pub async fn of_problem(
    core: &Core,
    ctx: &Ctx,
    problem: TaskId,
) -> AppResult<Option<(String, String)>> {
    links::parent_of(core, ctx, repo::PROBLEMS, problem).await
}

/// A change task by number or id (agents).
pub async fn task(core: &Core, ctx: &Ctx, key: &str) -> AppResult<ChangeTask> {
    core_task::get(core, ctx, key).await
}

/// An approval asked of the caller (or decided by them) on a change, with the change and
/// all its approvals: an approver sees what they decide, desk or not.
pub async fn for_approver(
    core: &Core,
    ctx: &Ctx,
    approval: &str,
) -> AppResult<(Approval, Change, Vec<Approval>)> {
    let a = crate::approvals::get(core, ctx, approval).await?;
    let task = a.task_id;
    let (c, all) = core
        .store
        .read(async move |tx| {
            let c: Change = match sigap_store::task::get(tx, task).await {
                Ok(c) => c,
                Err(sigap_store::StoreError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            };
            Ok((c, crate::approvals::of_task(tx, task).await?))
        })
        .await?;
    Ok((a, c, all))
}
