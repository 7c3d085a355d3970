//! Change management on the task core. A change (CHG) is of a type: a normal change is
//! assessed (its plans and the risk questions), authorized through the core's approvals
//! (the rule its type and risk give: the group's manager, the CAB, in stages), scheduled
//! (its window checked against other changes on the CIs it touches or reaches, blackout
//! windows and its offering's maintenance window), implemented (its change tasks, CTASK,
//! run by order like catalogue tasks) and reviewed; an emergency change is authorized by
//! the emergency CAB alone; a standard change, made from an approved template, goes
//! straight to scheduling. Problems it fixes, incidents waiting for it and incidents it
//! caused hang off it.

use crate::Core;
use crate::approvals::{self, Subject};
use crate::audit::Actor;
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::principal::Ctx;
use crate::task::{
    self as core_task, Args, Change as Changed, Notifier, Process, Step, required, set_text,
};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sigap_domain::TaskId;
use sigap_domain::approval::{Outcome, Rule};
use sigap_domain::process::change::{
    ChangeApproval, ChangeOutcome, ChangeState, ChangeType, check_window,
};
use sigap_domain::process::incident::{HoldReason, IncidentState};
use sigap_domain::process::request::{CatalogTaskState, tasks_to_open};
use sigap_domain::task::{JournalKind, Priority, StateModel};
use sigap_store::Tx;
use sigap_store::changes::{
    self as repo, Change, ChangeExt, ChangeFields, ChangeTask, ChangeTaskExt,
};
use sigap_store::incidents::{Incident, IncidentExt};
use sigap_store::task::TaskFields;
use std::collections::BTreeMap;

mod admin;
mod plan;
mod read;
pub use admin::*;
pub use plan::*;
pub use read::*;

/// The most CIs a change names.
pub const MAX_CIS: usize = 100;

/// What a change is given on creation or update.
#[derive(Debug, Clone, Default)]
pub struct ChangeInput {
    /// The common fields: the caller is who requests it.
    pub task: crate::task::TaskInput,
    /// standard, normal or emergency (only while new).
    pub change_type: Option<String>,
    /// A standard change's template (id or name), on creation.
    pub template: Option<String>,
    /// The customer organization it is made on behalf of.
    pub organization: crate::RefChange,
    /// The CIs it affects (ids or names), besides its configuration item.
    pub cis: Option<Vec<String>>,
    pub reason: Option<String>,
    pub justification: Option<String>,
    pub implementation_plan: Option<String>,
    pub backout_plan: Option<String>,
    pub test_plan: Option<String>,
    /// RFC 3339; `Some(None)` clears it.
    pub planned_start: Option<Option<String>>,
    pub planned_end: Option<Option<String>>,
    /// The risk questions' answers (question → answer).
    pub risk_answers: Option<BTreeMap<String, String>>,
    /// Why a standard change re-planned while scheduled may keep its conflicts.
    pub conflict_reason: Option<String>,
}

/// The named actions of a change.
#[derive(Debug, Clone)]
pub enum Action {
    /// New → assess (a normal change).
    Assess,
    /// To authorize: asks the approvals its type and risk call for (again, after a
    /// rejection).
    RequestApproval,
    /// To scheduled: its window is checked; a change in conflict needs a reason.
    Schedule {
        conflict_reason: String,
    },
    /// Back to assessment (a normal change): its approvals are withdrawn.
    Revise {
        reason: String,
    },
    /// Scheduled → implement: the actual start, and its first tasks open.
    Implement,
    /// Implement → review: the outcome, the actual end.
    Review {
        outcome: String,
        notes: String,
    },
    /// Review → closed, with the review's notes.
    Close {
        review_notes: String,
    },
    Cancel {
        reason: String,
    },
    Comment {
        body: String,
    },
    WorkNote {
        body: String,
    },
}

impl Action {
    pub fn parse(name: &str, a: &Args) -> AppResult<Action> {
        Ok(match name {
            "assess" => Action::Assess,
            "request_approval" => Action::RequestApproval,
            "schedule" => Action::Schedule {
                conflict_reason: a.optional("conflict_reason")?,
            },
            "revise" => Action::Revise {
                reason: a.required("reason")?,
            },
            "implement" => Action::Implement,
            "review" => Action::Review {
                outcome: a.required("outcome")?,
                notes: a.optional("notes")?,
            },
            "close" => Action::Close {
                review_notes: a.required("review_notes")?,
            },
            "cancel" => Action::Cancel {
                reason: a.required("reason")?,
            },
            "comment" => Action::Comment {
                body: a.required("body")?,
            },
            "work_note" => Action::WorkNote {
                body: a.required("body")?,
            },
            _ => return Err(AppError::NotFound),
        })
    }

    /// The action names, for the API's documentation and the pages.
    pub const NAMES: &'static [&'static str] = &[
        "assess",
        "request_approval",
        "schedule",
        "revise",
        "implement",
        "review",
        "close",
        "cancel",
        "comment",
        "work_note",
    ];
}

/// A time of an input: unchanged (`None`), cleared or set; a text that is not RFC 3339 is
/// the field's error.
fn time(errs: &mut Errors, field: &str, v: &Option<Option<String>>) -> Option<Option<Timestamp>> {
    match v {
        None => None,
        Some(None) => Some(None),
        Some(Some(t)) if t.trim().is_empty() => Some(None),
        Some(Some(t)) => match t.trim().parse::<Timestamp>() {
            Ok(at) => Some(Some(at)),
            Err(_) => {
                errs.push(FieldError::new(field, "invalid_time", "an RFC 3339 time"));
                None
            }
        },
    }
}

fn conflict(code: &'static str, message: impl Into<String>) -> AppError {
    AppError::Conflict {
        code,
        message: message.into(),
        field: None,
    }
}

impl Process for ChangeExt {
    const ENTITY: &'static str = "change";
    const PATH: &'static str = "/changes";
    const DESK_ONLY: bool = true;
    type Input = ChangeInput;
    type Action = Action;

    fn audit(&self, m: &mut Map<String, Value>) {
        let ts = |t: Option<Timestamp>| json!(t.map(|t| t.to_string()));
        m.insert("change_type".into(), json!(self.change_type.code()));
        m.insert("reason".into(), json!(self.reason));
        m.insert("justification".into(), json!(self.justification));
        m.insert(
            "implementation_plan".into(),
            json!(self.implementation_plan),
        );
        m.insert("backout_plan".into(), json!(self.backout_plan));
        m.insert("test_plan".into(), json!(self.test_plan));
        m.insert("planned_start".into(), ts(self.planned_start));
        m.insert("planned_end".into(), ts(self.planned_end));
        m.insert("actual_start".into(), ts(self.actual_start));
        m.insert("actual_end".into(), ts(self.actual_end));
        m.insert("risk".into(), json!(self.risk.map(|r| r.code())));
        m.insert("approval".into(), json!(self.approval.code()));
        m.insert("conflict_reason".into(), json!(self.conflict_reason));
        m.insert("outcome".into(), json!(self.outcome.map(|o| o.code())));
        m.insert("review_notes".into(), json!(self.review_notes));
    }

    fn conditions(&self, s: &mut sigap_domain::sla::Snapshot) {
        s.set("change_type", vec![self.change_type.code().to_owned()]);
        if let Some(r) = self.risk {
            s.set("risk", vec![r.code().to_owned()]);
        }
    }

    fn task_input(input: &ChangeInput) -> &crate::task::TaskInput {
        &input.task
    }

    fn apply(input: &ChangeInput, f: &mut ChangeFields, errs: &mut Errors) {
        let x = &mut f.ext;
        set_text(errs, "reason", &input.reason, &mut x.reason);
        set_text(
            errs,
            "justification",
            &input.justification,
            &mut x.justification,
        );
        let plans = [
            (
                "implementation_plan",
                &input.implementation_plan,
                &mut x.implementation_plan,
            ),
            ("backout_plan", &input.backout_plan, &mut x.backout_plan),
            ("test_plan", &input.test_plan, &mut x.test_plan),
        ];
        for (field, v, into) in plans {
            set_text(errs, field, v, into);
        }
        if let Some(s) = time(errs, "planned_start", &input.planned_start) {
            x.planned_start = s;
        }
        if let Some(e) = time(errs, "planned_end", &input.planned_end) {
            x.planned_end = e;
        }
        if let (Some(s), Some(e)) = (x.planned_start, x.planned_end) {
            if let Err(e) = check_window(s, e) {
                errs.push(FieldError::from_invalid("planned_end", e));
            }
        } else if x.planned_start.is_some() != x.planned_end.is_some() {
            let field = if x.planned_start.is_none() {
                "planned_start"
            } else {
                "planned_end"
            };
            errs.push(FieldError::new(
                field,
                "required",
                "a window has a start and an end",
            ));
        }
        if let Some(t) = &input.change_type {
            if let Some(t) = errs.take("change_type", ChangeType::parse(t.trim())) {
                x.change_type = t;
            }
        }
        if let Some(r) = &input.conflict_reason {
            set_text(
                errs,
                "conflict_reason",
                &Some(r.clone()),
                &mut x.conflict_reason,
            );
        }
    }

    async fn prepare(
        tx: &mut Tx<'_>,
        _ctx: &Ctx,
        input: &ChangeInput,
        f: &mut ChangeFields,
        before: Option<&Change>,
        computed: Priority,
    ) -> AppResult<()> {
        f.priority = computed;
        f.task.organization_id =
            crate::refs::organization(tx, "organization", &input.organization, f.organization_id)
                .await?;
        if let Some(b) = before {
            if f.ext.change_type != b.ext.change_type && b.state != ChangeState::New {
                return Err(AppError::field(
                    "change_type",
                    "not_allowed",
                    "a change's type is set while it is new",
                ));
            }
            let window = (f.ext.planned_start, f.ext.planned_end)
                != (b.ext.planned_start, b.ext.planned_end);
            let touches = window || input.cis.is_some() || f.ci_id != b.ci.as_ref().map(|c| c.id);
            let locked = match b.state {
                ChangeState::New | ChangeState::Assess => false,
                ChangeState::Authorize => b.ext.approval == ChangeApproval::Requested,
                ChangeState::Scheduled => b.ext.change_type != ChangeType::Standard,
                _ => true,
            };
            if touches && locked {
                return Err(conflict(
                    "locked",
                    "the window and the CIs change before the change is authorized; revise it first",
                ));
            }
        }
        if f.ext.change_type == ChangeType::Standard {
            if f.ext.template_id.is_none() {
                return Err(AppError::field(
                    "template",
                    "required",
                    "a standard change is made from an approved template",
                ));
            }
            f.ext.approval = ChangeApproval::NotRequired;
        } else if f.ext.approval == ChangeApproval::NotRequired {
            f.ext.approval = ChangeApproval::NotRequested;
        }
        let direct = plan::direct_cis(tx, input, f, before).await?;
        let impact = plan::impact_of(tx, &direct, f.service_id).await?;
        f.ext.impact_risk = Some(impact.risk_floor);
        plan::assess(tx, input, f).await?;
        if let Some(b) = before {
            plan::set_reach(tx, b.id, &direct, &impact.reached).await?;
            let replanned = (f.ext.planned_start, f.ext.planned_end)
                != (b.ext.planned_start, b.ext.planned_end);
            if b.state == ChangeState::Scheduled && replanned {
                // A standard change re-planned while scheduled is checked again.
                plan::check_schedule(tx, b.id, f, &f.ext.conflict_reason.clone()).await?;
            }
        }
        Ok(())
    }

    async fn act(
        tx: &mut Tx<'_>,
        _actor: &Actor,
        now: Timestamp,
        before: &Change,
        f: &mut ChangeFields,
        action: &Action,
    ) -> AppResult<Step> {
        let t = before.ext.change_type;
        let mut moves = |to: ChangeState| -> AppResult<()> {
            t.check(before.state, to).map_err(|e| AppError::Conflict {
                code: e.code,
                message: e.message,
                field: Some("state".into()),
            })?;
            f.task.state = to;
            Ok(())
        };
        use ChangeState as S;
        match action {
            Action::Assess => moves(S::Assess)?,
            Action::RequestApproval => {
                if !t.needs_approval() {
                    return Err(conflict(
                        "not_required",
                        "a standard change is pre-approved: schedule it",
                    ));
                }
                let again = before.state == S::Authorize;
                if again && before.ext.approval != ChangeApproval::Rejected {
                    return Err(conflict(
                        "already_requested",
                        format!("its approval is {}", before.ext.approval),
                    ));
                }
                if !again {
                    moves(S::Authorize)?;
                }
                plan::ready_for_approval(f)?;
                let rule = admin::rule_for(tx, t, f.ext.risk).await?;
                f.ext.approval_rule = serde_json::to_string(&rule)
                    .map_err(|e| AppError::Internal(format!("approval rule: {e}")))?;
                let subject = Subject {
                    task: before.id,
                    number: &before.number,
                    title: &before.short_description,
                    requested_for: f.caller_id,
                    group: f.assignment_group_id,
                };
                let (outcome, at) = approvals::ask_from(tx, now, &subject, &rule, 0).await?;
                f.ext.stage = at as i64;
                f.ext.approval = match outcome {
                    Outcome::Pending => ChangeApproval::Requested,
                    Outcome::Approved => ChangeApproval::Approved,
                    Outcome::Rejected => {
                        return Err(conflict(
                            "no_approvers",
                            format!(
                                "approval stage {} has nobody to ask (no manager, or an empty group)",
                                at + 1
                            ),
                        ));
                    }
                };
            }
            Action::Schedule { conflict_reason } => {
                let ready = match t {
                    ChangeType::Standard => matches!(before.state, S::New | S::Scheduled),
                    _ => {
                        before.state == S::Authorize
                            && before.ext.approval == ChangeApproval::Approved
                    }
                };
                if !ready {
                    return Err(conflict(
                        "not_authorized",
                        format!(
                            "a {t} change is scheduled {}",
                            if t.needs_approval() {
                                "once its approvals are complete"
                            } else {
                                "while new"
                            }
                        ),
                    ));
                }
                if before.state != S::Scheduled {
                    moves(S::Scheduled)?;
                }
                let reason = conflict_reason.clone();
                let conflicts = plan::check_schedule(tx, before.id, f, &reason).await?;
                // The reason is kept when it was needed.
                f.ext.conflict_reason = if conflicts.is_empty() {
                    String::new()
                } else {
                    reason.clone()
                };
                if !conflicts.is_empty() {
                    let note = format!(
                        "{}: {reason}",
                        conflicts
                            .iter()
                            .map(|c| c.summary())
                            .collect::<Vec<_>>()
                            .join("; ")
                    );
                    return Ok(Step::note(JournalKind::WorkNote, note));
                }
            }
            Action::Revise { reason } => {
                let reason = required("reason", reason)?;
                moves(S::Assess)?;
                approvals::withdraw(tx, before.id, now).await?;
                f.ext.approval = ChangeApproval::NotRequested;
                f.ext.stage = 0;
                return Ok(Step::note(JournalKind::WorkNote, reason));
            }
            Action::Implement => {
                if !matches!(
                    before.ext.approval,
                    ChangeApproval::Approved | ChangeApproval::NotRequired
                ) {
                    return Err(conflict(
                        "not_authorized",
                        "a change is implemented once its approvals are complete",
                    ));
                }
                moves(S::Implement)?;
                f.ext.actual_start = Some(now);
            }
            Action::Review { outcome, notes } => {
                let o = ChangeOutcome::parse(outcome.trim())
                    .map_err(|e| AppError::field("outcome", e.code, e.message))?;
                moves(S::Review)?;
                let open: Vec<String> = repo_children(tx, before.id)
                    .await?
                    .into_iter()
                    .filter(|c| !c.state.is_final())
                    .map(|c| c.number.clone())
                    .collect();
                if !open.is_empty() {
                    return Err(conflict(
                        "tasks_open",
                        format!("its tasks are not done: {}", open.join(", ")),
                    ));
                }
                f.ext.outcome = Some(o);
                f.ext.actual_end = Some(now);
                f.resolved_at = Some(now);
                if !notes.trim().is_empty() {
                    return Ok(Step::note(JournalKind::WorkNote, notes.clone()));
                }
            }
            Action::Close { review_notes } => {
                let notes = required("review_notes", review_notes)?;
                moves(S::Closed)?;
                f.ext.review_notes = notes;
                f.closed_at = Some(now);
            }
            Action::Cancel { reason } => {
                let reason = required("reason", reason)?;
                moves(S::Canceled)?;
                f.closed_at = Some(now);
                return Ok(Step::note(JournalKind::Comment, reason));
            }
            Action::Comment { body } => {
                return Ok(Step {
                    note: Some((JournalKind::Comment, required("body", body)?)),
                    responded: true,
                });
            }
            Action::WorkNote { body } => {
                return Ok(Step::note(JournalKind::WorkNote, required("body", body)?));
            }
        }
        Ok(Step::default())
    }

    /// The assignment rules, and the requester hears of the approval's outcome and of the
    /// end of their change.
    async fn notify(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        before: Option<&Change>,
        after: &Change,
        note: Option<&(JournalKind, String)>,
    ) -> AppResult<()> {
        let mut n = Notifier::new(actor, after, now);
        n.assignment(tx, before.map(|b| &b.task), after).await?;
        let link = n.desk_link.clone();
        let requester = after.caller.as_ref().map(|c| c.id);
        let assignee = after.assigned_to.as_ref().map(|c| c.id);
        if let Some((JournalKind::Comment, body)) = note {
            n.send(tx, requester, "comment", body, &link).await?;
        }
        let approval_moved = before.is_some_and(|b| b.ext.approval != after.ext.approval);
        if approval_moved
            && matches!(
                after.ext.approval,
                ChangeApproval::Approved | ChangeApproval::Rejected
            )
        {
            let event = after.ext.approval.code();
            n.send(tx, requester, event, "", &link).await?;
            n.send(tx, assignee, event, "", &link).await?;
        }
        if after.state.is_final() && before.is_some_and(|b| b.state != after.state) {
            n.send(tx, requester, after.state.code(), "", &link).await?;
        }
        Ok(())
    }

    async fn after(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        change: Changed<'_, Self>,
        before: Option<&Change>,
        after: &Change,
    ) -> AppResult<()> {
        match change {
            Changed::Create(input) => {
                let direct = plan::direct_cis(tx, input, &after.fields(), None).await?;
                let impact = plan::impact_of(tx, &direct, None).await?;
                plan::set_reach(tx, after.id, &direct, &impact.reached).await?;
                if let Some(t) = after.ext.template_id {
                    let template = admin::template_in(tx, t).await?;
                    admin::open_tasks(tx, actor, now, after, &template.tasks).await?;
                }
                Ok(())
            }
            Changed::Update(_) => Ok(()),
            Changed::Act(_) => {
                let moved = before.is_some_and(|b| b.state != after.state);
                if !moved {
                    return Ok(());
                }
                match after.state {
                    ChangeState::Implement => progress(tx, actor, now, after).await,
                    ChangeState::Canceled => ended(tx, actor, now, after).await,
                    ChangeState::Closed => closed(tx, actor, now, after).await,
                    _ => Ok(()),
                }
            }
        }
    }
}

impl Process for ChangeTaskExt {
    const ENTITY: &'static str = "change_task";
    const PATH: &'static str = "/change_tasks";
    const DESK_ONLY: bool = true;
    type Input = crate::task::TaskInput;
    type Action = crate::requests::TaskAction;

    fn audit(&self, m: &mut Map<String, Value>) {
        m.insert("order".into(), json!(self.ord));
    }

    fn conditions(&self, _s: &mut sigap_domain::sla::Snapshot) {}

    fn task_input(input: &crate::task::TaskInput) -> &crate::task::TaskInput {
        input
    }

    fn apply(
        _input: &crate::task::TaskInput,
        _f: &mut sigap_store::changes::ChangeTaskFields,
        _e: &mut Errors,
    ) {
    }

    async fn act(
        _tx: &mut Tx<'_>,
        _actor: &Actor,
        now: Timestamp,
        before: &ChangeTask,
        f: &mut sigap_store::changes::ChangeTaskFields,
        action: &crate::requests::TaskAction,
    ) -> AppResult<Step> {
        crate::requests::plan_task_step(now, before.state, &mut f.task, action)
    }

    /// A task done lets the next order of its change's tasks open.
    async fn after(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        _change: Changed<'_, Self>,
        before: Option<&ChangeTask>,
        after: &ChangeTask,
    ) -> AppResult<()> {
        let done = after.state.is_done() && before.is_some_and(|b| !b.state.is_done());
        if let (true, Some(parent)) = (done, &after.parent) {
            let change: Change = sigap_store::task::get(tx, parent.id).await?;
            progress(tx, actor, now, &change).await?;
        }
        Ok(())
    }
}

async fn repo_children(tx: &mut Tx<'_>, change: TaskId) -> AppResult<Vec<ChangeTask>> {
    Ok(sigap_store::requests::children::<ChangeTaskExt>(tx, change).await?)
}

/// A change being implemented opens its next order of tasks.
async fn progress(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    change: &Change,
) -> AppResult<()> {
    if change.state != ChangeState::Implement {
        return Ok(());
    }
    let tasks = repo_children(tx, change.id).await?;
    let plan: Vec<(i64, CatalogTaskState)> = tasks.iter().map(|t| (t.ext.ord, t.state)).collect();
    for i in tasks_to_open(&plan) {
        let t = &tasks[i];
        let mut f = t.fields();
        f.task.state = CatalogTaskState::Open;
        core_task::save(tx, actor, now, t, &f, Step::default(), None).await?;
    }
    Ok(())
}

/// A canceled change: its approvals still asked are withdrawn, its tasks not done skipped.
async fn ended(tx: &mut Tx<'_>, actor: &Actor, now: Timestamp, change: &Change) -> AppResult<()> {
    approvals::withdraw(tx, change.id, now).await?;
    let note = format!("{} → {}", change.number, change.state);
    for t in repo_children(tx, change.id).await? {
        if !t.state.is_done() {
            let mut f = t.fields();
            f.task.state = CatalogTaskState::Skipped;
            f.closed_at = Some(now);
            let step = Step::note(JournalKind::WorkNote, note.clone());
            core_task::save(tx, actor, now, &t, &f, step, None).await?;
        }
    }
    Ok(())
}

/// A closed change: the incidents on hold waiting for it go back to work.
async fn closed(tx: &mut Tx<'_>, actor: &Actor, now: Timestamp, change: &Change) -> AppResult<()> {
    let note = format!("{} → {}", change.number, change.state);
    let waiting: Vec<Incident> = repo::INCIDENTS.children(tx, change.id).await?;
    for i in waiting {
        if i.state == IncidentState::OnHold && i.ext.hold_reason == Some(HoldReason::AwaitingChange)
        {
            let mut f = i.fields();
            f.task.state = IncidentState::InProgress;
            f.ext.hold_reason = None;
            let step = Step::note(JournalKind::WorkNote, note.clone());
            core_task::save::<IncidentExt>(tx, actor, now, &i, &f, step, None).await?;
        }
    }
    Ok(())
}

/// The approval rule a change asked (read back for its stages).
pub(crate) async fn rule_of(tx: &mut Tx<'_>, task: TaskId) -> AppResult<Rule> {
    let c: Change = sigap_store::task::get(tx, task).await?;
    serde_json::from_str(&c.ext.approval_rule)
        .map_err(|e| AppError::Internal(format!("{}: stored rule: {e}", c.number)))
}

/// A stage of a change's approval settled (from `approvals::decide`): the next stage is
/// asked, or the change is authorized (ready to schedule), or rejected (to be revised or
/// canceled).
pub(crate) async fn stage_settled(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    task: TaskId,
    stage: usize,
    outcome: Outcome,
) -> AppResult<()> {
    let c: Change = sigap_store::task::get(tx, task).await?;
    if c.state != ChangeState::Authorize || c.ext.approval != ChangeApproval::Requested {
        return Ok(());
    }
    let mut f = c.fields();
    let note = match outcome {
        Outcome::Pending => return Ok(()),
        Outcome::Rejected => {
            f.ext.approval = ChangeApproval::Rejected;
            format!("{}: approval stage {} rejected", c.number, stage + 1)
        }
        Outcome::Approved => {
            let rule = rule_of(tx, task).await?;
            let subject = Subject {
                task: c.id,
                number: &c.number,
                title: &c.short_description,
                requested_for: c.caller.as_ref().map(|p| p.id),
                group: c.assignment_group.as_ref().map(|g| g.id),
            };
            let (next, at) = approvals::ask_from(tx, now, &subject, &rule, stage + 1).await?;
            f.ext.stage = at as i64;
            match next {
                Outcome::Pending => format!("approval stage {}", at + 1),
                Outcome::Approved => {
                    f.ext.approval = ChangeApproval::Approved;
                    format!("{}: authorized", c.number)
                }
                Outcome::Rejected => {
                    f.ext.approval = ChangeApproval::Rejected;
                    format!("approval stage {} has nobody to ask", at + 1)
                }
            }
        }
    };
    core_task::save(
        tx,
        actor,
        now,
        &c,
        &f,
        Step::note(JournalKind::WorkNote, note),
        None,
    )
    .await?;
    Ok(())
}

/// Opens a change (agents). A standard change comes from its template, whose fields fill
/// what the input leaves out.
pub async fn create(core: &Core, ctx: &Ctx, mut input: ChangeInput) -> AppResult<Change> {
    let mut f = ChangeFields {
        task: TaskFields::new(ChangeState::New, Priority::LOWEST, ctx.principal.person_id),
        ext: ChangeExt::default(),
    };
    f.caller_id = ctx.principal.person_id;
    if let Some(key) = input.template.clone() {
        let t = admin::usable_template(core, &key).await?;
        admin::fill_from(&t, &mut input, &mut f)?;
    }
    core_task::create(core, ctx, input, f).await
}

/// The child ids of a change, for `open_tasks`.
pub(crate) fn new_task(
    change: &Change,
    ord: i64,
    by: Option<sigap_domain::PersonId>,
) -> sigap_store::changes::ChangeTaskFields {
    let mut t = TaskFields::new(CatalogTaskState::Pending, change.priority, by);
    t.caller_id = change.caller.as_ref().map(|c| c.id);
    t.service_id = change.service.as_ref().map(|s| s.id);
    t.offering_id = change.offering.as_ref().map(|s| s.id);
    t.ci_id = change.ci.as_ref().map(|c| c.id);
    t.parent_id = Some(change.id);
    sigap_store::changes::ChangeTaskFields {
        task: t,
        ext: ChangeTaskExt { ord },
    }
}
