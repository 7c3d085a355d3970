//! Request fulfilment on the task core. An order makes a request (REQ) with one requested
//! item (RITM) per catalogue item ordered, each keeping the item's form, answers, approval
//! rule and plan as ordered. An item waits for its approvals (the core's one approval
//! mechanism), then its plan becomes catalogue tasks (SCTASK) for the groups, run by order:
//! tasks of one order side by side, the next order once they are done. An item completes
//! when its tasks are done; a rejection, a cancel or a task closed incomplete ends it
//! without its pending work; the request closes when its items have.

use crate::Core;
use crate::approvals::{self, Subject};
use crate::audit::Actor;
use crate::catalog::{self, CatalogItem};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::listing::{ListParams, Listed};
use crate::principal::Ctx;
use crate::task::{
    self as core_task, Args, Notifier, Process, Step, TaskInput, TaskQuery, is_staff, required,
};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sigap_domain::approval::{Outcome, Rule};
use sigap_domain::catalog::{Answers, Form, Plan, Price, VariableKind};
use sigap_domain::process::request::{
    CatalogTaskState, RequestItemState, RequestState, tasks_to_open,
};
use sigap_domain::task::{ContactType, JournalKind, Priority, StateModel};
use sigap_domain::{PersonId, TaskId};
use sigap_store::Tx;
use sigap_store::approvals::Approval;
use sigap_store::requests::{
    self as repo, CatalogTask, CatalogTaskExt, CatalogTaskFields, Request, RequestExt,
    RequestFields, RequestItem, RequestItemExt, RequestItemFields,
};
use sigap_store::task::journal::JournalEntry;
use sigap_store::task::{Record, TaskFields};
use std::collections::BTreeMap;

/// The most lines an order has, and the most of one item a line orders.
pub const MAX_LINES: usize = 20;
pub const MAX_QUANTITY: i64 = 100;

/// One line of an order: an item (id or name), how many, and the answers to its form.
#[derive(Debug, Clone, Default)]
pub struct OrderLine {
    pub item: String,
    pub quantity: Option<i64>,
    pub variables: Map<String, Value>,
}

/// An order: its lines, for whom (id or login; the orderer when none) and a note.
#[derive(Debug, Clone, Default)]
pub struct Order {
    pub requested_for: Option<String>,
    pub items: Vec<OrderLine>,
    pub comment: Option<String>,
}

/// The named actions of a request and of a requested item.
#[derive(Debug, Clone)]
pub enum Action {
    /// The requester or the desk cancels what is not yet fulfilled.
    Cancel {
        reason: String,
    },
    /// A message the requester sees (from them, or to them from the desk).
    Comment {
        body: String,
    },
    WorkNote {
        body: String,
    },
    /// The desk completes an approved item that has no tasks left.
    Complete {
        notes: String,
    },
}

impl Action {
    pub fn parse(name: &str, a: &Args) -> AppResult<Action> {
        Ok(match name {
            "cancel" => Action::Cancel {
                reason: a.required("reason")?,
            },
            "comment" => Action::Comment {
                body: a.required("body")?,
            },
            "work_note" => Action::WorkNote {
                body: a.required("body")?,
            },
            "complete" => Action::Complete {
                notes: a.required("notes")?,
            },
            _ => return Err(AppError::NotFound),
        })
    }
}

/// The named actions of a catalogue task.
#[derive(Debug, Clone)]
pub enum TaskAction {
    Start,
    Close { notes: String },
    CloseIncomplete { reason: String },
    Skip { reason: String },
    WorkNote { body: String },
}

impl TaskAction {
    pub fn parse(name: &str, a: &Args) -> AppResult<TaskAction> {
        Ok(match name {
            "start" => TaskAction::Start,
            "close" => TaskAction::Close {
                notes: a.required("notes")?,
            },
            "close_incomplete" => TaskAction::CloseIncomplete {
                reason: a.required("reason")?,
            },
            "skip" => TaskAction::Skip {
                reason: a.required("reason")?,
            },
            "work_note" => TaskAction::WorkNote {
                body: a.required("body")?,
            },
            _ => return Err(AppError::NotFound),
        })
    }
}

fn is_own<S>(ctx: &Ctx, t: &sigap_store::task::Task<S>) -> bool {
    let me = ctx.principal.person_id;
    me.is_some()
        && (t.caller.as_ref().map(|c| c.id) == me || t.opened_by.as_ref().map(|c| c.id) == me)
}

/// The requester (or the desk) may cancel and comment; the rest is the desk's.
fn may_act_on<S>(ctx: &Ctx, t: &sigap_store::task::Task<S>, action: &Action) -> AppResult<()> {
    let theirs = matches!(action, Action::Cancel { .. } | Action::Comment { .. });
    if is_staff(ctx) || (theirs && is_own(ctx, t)) {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The actions a request and its items share: cancel (to `canceled`, the reason a comment
/// the requester sees), comment and work note.
fn shared_act<S: StateModel>(
    actor: &Actor,
    now: Timestamp,
    before: &sigap_store::task::Task<S>,
    f: &mut TaskFields<S>,
    action: &Action,
    canceled: S,
) -> AppResult<Step> {
    match action {
        Action::Cancel { reason } => {
            let reason = required("reason", reason)?;
            core_task::transition(before.state, canceled)?;
            f.state = canceled;
            f.closed_at = Some(now);
            Ok(Step::note(JournalKind::Comment, reason))
        }
        Action::Comment { body } => comment_step(actor, before, body),
        Action::WorkNote { body } => Ok(Step::note(JournalKind::WorkNote, required("body", body)?)),
        Action::Complete { .. } => Err(AppError::NotFound),
    }
}

/// A comment from the desk to the requester answers the response targets.
fn comment_step<S>(actor: &Actor, t: &sigap_store::task::Task<S>, body: &str) -> AppResult<Step> {
    let body = required("body", body)?;
    let from_requester = t.caller.as_ref().map(|c| c.id) == actor.id
        || t.opened_by.as_ref().map(|c| c.id) == actor.id;
    Ok(Step {
        note: Some((JournalKind::Comment, body)),
        responded: !from_requester,
    })
}

/// Tells the requester of a comment from the desk and of the end of their request or item.
async fn notify_requester<P: Process>(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    before: Option<&Record<P>>,
    after: &Record<P>,
    note: Option<&(JournalKind, String)>,
    link: &str,
) -> AppResult<()> {
    let mut n = Notifier::new(actor, after, now);
    n.assignment(tx, before.map(|b| &b.task), after).await?;
    let caller = after.caller.as_ref().map(|c| c.id);
    if let Some((JournalKind::Comment, body)) = note {
        n.send(tx, caller, "comment", body, link).await?;
    }
    if after.state.is_final() && before.is_some_and(|b| b.state != after.state) {
        n.send(tx, caller, after.state.code(), "", link).await?;
    }
    Ok(())
}

impl Process for RequestExt {
    const ENTITY: &'static str = "request";
    const PATH: &'static str = "/requests";
    const DESK_ONLY: bool = false;
    type Input = TaskInput;
    type Action = Action;

    fn audit(&self, m: &mut Map<String, Value>) {
        m.insert("price".into(), json!(self.price));
        m.insert("due_at".into(), json!(self.due_at.map(|t| t.to_string())));
    }

    fn conditions(&self, _s: &mut sigap_domain::sla::Snapshot) {}

    fn task_input(input: &TaskInput) -> &TaskInput {
        input
    }

    fn apply(_input: &TaskInput, _f: &mut RequestFields, _errs: &mut Errors) {}

    fn may_act(ctx: &Ctx, t: &Request, action: &Action) -> AppResult<()> {
        may_act_on(ctx, t, action)
    }

    async fn act(
        _tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        before: &Request,
        f: &mut RequestFields,
        action: &Action,
    ) -> AppResult<Step> {
        match action {
            Action::Complete { .. } => Err(AppError::Conflict {
                code: "invalid_action",
                message: "a request closes when its items have".into(),
                field: None,
            }),
            other => shared_act(
                actor,
                now,
                before,
                &mut f.task,
                other,
                RequestState::Canceled,
            ),
        }
    }

    async fn notify(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        before: Option<&Request>,
        after: &Request,
        note: Option<&(JournalKind, String)>,
    ) -> AppResult<()> {
        let link = format!("/portal/requests/{}", after.number);
        notify_requester(tx, actor, now, before, after, note, &link).await
    }

    /// A canceled request cancels its items still open.
    async fn after(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        _change: core_task::Change<'_, Self>,
        before: Option<&Request>,
        after: &Request,
    ) -> AppResult<()> {
        if after.state == RequestState::Canceled && before.is_some_and(|b| !b.state.is_final()) {
            let note = format!("{} → {}", after.number, after.state);
            for item in repo::children::<RequestItemExt>(tx, after.id).await? {
                if !item.state.is_final() {
                    end_item(
                        tx,
                        actor,
                        now,
                        &item,
                        RequestItemState::Canceled,
                        note.clone(),
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }
}

impl Process for RequestItemExt {
    const ENTITY: &'static str = "request_item";
    const PATH: &'static str = "/requested_items";
    const DESK_ONLY: bool = false;
    type Input = TaskInput;
    type Action = Action;

    fn audit(&self, m: &mut Map<String, Value>) {
        m.insert("item_kind".into(), json!(self.item_kind));
        m.insert("quantity".into(), json!(self.quantity));
        m.insert("price".into(), json!(self.price));
        m.insert("recurring_price".into(), json!(self.recurring_price));
        m.insert("approval".into(), json!(self.approval));
        m.insert("stage".into(), json!(self.stage));
        m.insert("due_at".into(), json!(self.due_at.map(|t| t.to_string())));
    }

    fn conditions(&self, s: &mut sigap_domain::sla::Snapshot) {
        s.set("approval", vec![self.approval.clone()]);
    }

    fn delivery_secs(&self) -> Option<i64> {
        self.delivery_hours
            .filter(|h| *h > 0)
            .map(|h| h.saturating_mul(3600))
    }

    fn task_input(input: &TaskInput) -> &TaskInput {
        input
    }

    fn apply(_input: &TaskInput, _f: &mut RequestItemFields, _errs: &mut Errors) {}

    fn may_act(ctx: &Ctx, t: &RequestItem, action: &Action) -> AppResult<()> {
        may_act_on(ctx, t, action)
    }

    async fn act(
        _tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        before: &RequestItem,
        f: &mut RequestItemFields,
        action: &Action,
    ) -> AppResult<Step> {
        use RequestItemState as I;
        match action {
            Action::Complete { notes } => {
                let notes = required("notes", notes)?;
                core_task::transition(before.state, I::Complete)?;
                f.task.state = I::Complete;
                f.resolved_at = Some(now);
                f.closed_at = Some(now);
                Ok(Step::note(JournalKind::Comment, notes))
            }
            other => shared_act(actor, now, before, &mut f.task, other, I::Canceled),
        }
    }

    async fn notify(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        before: Option<&RequestItem>,
        after: &RequestItem,
        note: Option<&(JournalKind, String)>,
    ) -> AppResult<()> {
        let link = format!("/portal/requested_items/{}", after.number);
        notify_requester(tx, actor, now, before, after, note, &link).await
    }

    /// An item that ended ends its pending work; its request may close.
    async fn after(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        _change: core_task::Change<'_, Self>,
        before: Option<&RequestItem>,
        after: &RequestItem,
    ) -> AppResult<()> {
        if after.state.is_final() && before.is_some_and(|b| !b.state.is_final()) {
            ended(tx, actor, now, after).await?;
        }
        Ok(())
    }
}

impl Process for CatalogTaskExt {
    const ENTITY: &'static str = "catalog_task";
    const PATH: &'static str = "/catalog_tasks";
    const DESK_ONLY: bool = true;
    type Input = TaskInput;
    type Action = TaskAction;

    fn audit(&self, m: &mut Map<String, Value>) {
        m.insert("order".into(), json!(self.ord));
    }

    fn conditions(&self, _s: &mut sigap_domain::sla::Snapshot) {}

    fn task_input(input: &TaskInput) -> &TaskInput {
        input
    }

    fn apply(_input: &TaskInput, _f: &mut CatalogTaskFields, _errs: &mut Errors) {}

    async fn act(
        _tx: &mut Tx<'_>,
        _actor: &Actor,
        now: Timestamp,
        before: &CatalogTask,
        f: &mut CatalogTaskFields,
        action: &TaskAction,
    ) -> AppResult<Step> {
        plan_task_step(now, before.state, &mut f.task, action)
    }

    /// A task done moves its item on: the next order opens, or the item ends.
    async fn after(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        _change: core_task::Change<'_, Self>,
        before: Option<&CatalogTask>,
        after: &CatalogTask,
    ) -> AppResult<()> {
        let done = after.state.is_done() && before.is_some_and(|b| !b.state.is_done());
        if let (true, Some(parent)) = (done, &after.parent) {
            let item: RequestItem = sigap_store::task::get(tx, parent.id).await?;
            progress(tx, actor, now, &item).await?;
        }
        Ok(())
    }
}

/// A step of a task of a plan: a catalogue task, or a change task (they share their states
/// and actions).
pub(crate) fn plan_task_step(
    now: Timestamp,
    state: CatalogTaskState,
    f: &mut TaskFields<CatalogTaskState>,
    action: &TaskAction,
) -> AppResult<Step> {
    use CatalogTaskState as T;
    let mut moves = |to: T| -> AppResult<()> {
        core_task::transition(state, to)?;
        f.state = to;
        if to.is_final() {
            f.closed_at = Some(now);
        }
        Ok(())
    };
    let (kind, text) = match action {
        TaskAction::Start => {
            moves(T::InProgress)?;
            return Ok(Step::default());
        }
        TaskAction::Close { notes } => {
            moves(T::ClosedComplete)?;
            (JournalKind::WorkNote, notes)
        }
        TaskAction::CloseIncomplete { reason } => {
            moves(T::ClosedIncomplete)?;
            (JournalKind::WorkNote, reason)
        }
        TaskAction::Skip { reason } => {
            moves(T::Skipped)?;
            (JournalKind::WorkNote, reason)
        }
        TaskAction::WorkNote { body } => (JournalKind::WorkNote, body),
    };
    Ok(Step::note(kind, required("notes", text)?))
}

// ----- the flow between the three -----

fn plan_of(item: &RequestItem) -> AppResult<Plan> {
    serde_json::from_str(&item.ext.plan)
        .map_err(|e| AppError::Internal(format!("{}: stored plan: {e}", item.number)))
}

/// The approval rule of a requested item as ordered.
pub(crate) async fn rule_of(tx: &mut Tx<'_>, task: TaskId) -> AppResult<Rule> {
    let item: RequestItem = sigap_store::task::get(tx, task).await?;
    serde_json::from_str(&item.ext.approval_rule)
        .map_err(|e| AppError::Internal(format!("{}: stored rule: {e}", item.number)))
}

/// Moves an item to `to` with a note, in the caller's transaction.
async fn move_item(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    item: &RequestItem,
    f: RequestItemFields,
    note: String,
) -> AppResult<RequestItem> {
    if f.task.state != item.state {
        core_task::transition(item.state, f.task.state)?;
    }
    let step = Step::note(JournalKind::WorkNote, note);
    core_task::save(tx, actor, now, item, &f, step, None).await
}

/// Ends an item (rejected, canceled, complete) and what hangs on it.
async fn end_item(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    item: &RequestItem,
    to: RequestItemState,
    note: String,
) -> AppResult<RequestItem> {
    let mut f = item.fields();
    f.task.state = to;
    f.closed_at = Some(now);
    if to == RequestItemState::Complete {
        f.resolved_at = Some(now);
    }
    let after = move_item(tx, actor, now, item, f, note).await?;
    ended(tx, actor, now, &after).await?;
    Ok(after)
}

/// After an item ended: its approvals still asked are withdrawn, its tasks not done are
/// skipped, and its request may close.
async fn ended(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    item: &RequestItem,
) -> AppResult<()> {
    approvals::withdraw(tx, item.id, now).await?;
    let note = format!("{} → {}", item.number, item.state);
    for t in repo::children::<CatalogTaskExt>(tx, item.id).await? {
        if !t.state.is_done() {
            let mut f = t.fields();
            f.task.state = CatalogTaskState::Skipped;
            f.closed_at = Some(now);
            let step = Step::note(JournalKind::WorkNote, note.clone());
            core_task::save(tx, actor, now, &t, &f, step, None).await?;
        }
    }
    if let Some(parent) = &item.parent {
        settle(tx, actor, now, parent.id).await?;
    }
    Ok(())
}

/// A request closes when its items have: complete when all are, canceled when all were,
/// else incomplete; it is in progress once one is approved.
async fn settle(tx: &mut Tx<'_>, actor: &Actor, now: Timestamp, request: TaskId) -> AppResult<()> {
    let r: Request = sigap_store::task::get(tx, request).await?;
    if r.state.is_final() {
        return Ok(());
    }
    let items = repo::children::<RequestItemExt>(tx, r.id).await?;
    let states: Vec<RequestItemState> = items.iter().map(|i| i.state).collect();
    let mut f = r.fields();
    if let Some(to) = RequestState::settled(&states) {
        f.task.state = to;
        f.closed_at = Some(now);
    } else if r.state == RequestState::Open
        && states
            .iter()
            .any(|s| matches!(s, RequestItemState::Approved | RequestItemState::Fulfilment))
    {
        f.task.state = RequestState::InProgress;
    } else {
        return Ok(());
    }
    let note = format!("{} → {}", r.number, f.task.state);
    core_task::save(
        tx,
        actor,
        now,
        &r,
        &f,
        Step::note(JournalKind::WorkNote, note),
        None,
    )
    .await?;
    Ok(())
}

/// An approved item starts its fulfilment: its plan becomes tasks (pending), the first
/// order opens; an item without a plan waits for the desk to complete it.
async fn fulfil(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    item: &RequestItem,
) -> AppResult<RequestItem> {
    let plan = plan_of(item)?;
    let mut f = item.fields();
    f.ext.approval = if f.ext.approval == "not_required" {
        f.ext.approval.clone()
    } else {
        "approved".into()
    };
    f.task.state = RequestItemState::Approved;
    let note = format!("{} → {}", item.number, f.task.state);
    let mut item = move_item(tx, actor, now, item, f, note).await?;
    if !plan.tasks().is_empty() {
        let mut f = item.fields();
        f.task.state = RequestItemState::Fulfilment;
        let note = format!("{} → {}", item.number, f.task.state);
        item = move_item(tx, actor, now, &item, f, note).await?;
    }
    for step in plan.tasks() {
        let mut t = TaskFields::new(CatalogTaskState::Pending, item.priority, actor.id);
        t.short_description = step.short_description.clone();
        t.description = step.description.clone();
        t.caller_id = item.caller.as_ref().map(|c| c.id);
        t.assignment_group_id = Some(step.group);
        t.service_id = item.service.as_ref().map(|s| s.id);
        t.offering_id = item.offering.as_ref().map(|s| s.id);
        t.contact_type = item.contact_type;
        t.parent_id = Some(item.id);
        let f = CatalogTaskFields {
            task: t,
            ext: CatalogTaskExt { ord: step.order },
        };
        core_task::open_in(tx, actor, now, &f, None).await?;
    }
    progress(tx, actor, now, &item).await?;
    if let Some(parent) = &item.parent {
        settle(tx, actor, now, parent.id).await?;
    }
    // An item that orders a standard change makes it now.
    crate::changes::from_order(tx, actor, now, &item).await?;
    Ok(item)
}

/// An item in fulfilment moves on: a task closed incomplete cancels it, the next order of
/// tasks opens, and when every task is done the item is complete.
async fn progress(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    item: &RequestItem,
) -> AppResult<()> {
    if item.state != RequestItemState::Fulfilment {
        return Ok(());
    }
    let tasks = repo::children::<CatalogTaskExt>(tx, item.id).await?;
    if let Some(t) = tasks
        .iter()
        .find(|t| t.state == CatalogTaskState::ClosedIncomplete)
    {
        let note = format!("{} → {}", t.number, t.state);
        end_item(tx, actor, now, item, RequestItemState::Canceled, note).await?;
        return Ok(());
    }
    if tasks.iter().all(|t| t.state.is_done()) {
        let note = format!("{}: every task is done", item.number);
        end_item(tx, actor, now, item, RequestItemState::Complete, note).await?;
        return Ok(());
    }
    let plan: Vec<(i64, CatalogTaskState)> = tasks.iter().map(|t| (t.ext.ord, t.state)).collect();
    for i in tasks_to_open(&plan) {
        let t = &tasks[i];
        let mut f = t.fields();
        f.task.state = CatalogTaskState::Open;
        core_task::save(tx, actor, now, t, &f, Step::default(), None).await?;
    }
    Ok(())
}

/// A stage of an item's approval settled (from `approvals::decide`): the next stage is
/// asked, or the item is approved and fulfilled, or rejected.
pub(crate) async fn stage_settled(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    task: TaskId,
    stage: usize,
    outcome: Outcome,
) -> AppResult<()> {
    let item: RequestItem = sigap_store::task::get(tx, task).await?;
    if item.state != RequestItemState::WaitingForApproval {
        return Ok(());
    }
    let outcome = match outcome {
        Outcome::Approved => {
            let rule = rule_of(tx, task).await?;
            let (outcome, at) =
                approvals::ask_from(tx, now, &subject(&item), &rule, stage + 1).await?;
            if outcome == Outcome::Pending {
                let mut f = item.fields();
                f.ext.stage = at as i64;
                move_item(
                    tx,
                    actor,
                    now,
                    &item,
                    f,
                    format!("approval stage {}", at + 1),
                )
                .await?;
                return Ok(());
            }
            outcome
        }
        other => other,
    };
    approval_outcome(tx, actor, now, &item, outcome).await
}

fn subject(item: &RequestItem) -> Subject<'_> {
    Subject {
        task: item.id,
        number: &item.number,
        title: &item.short_description,
        requested_for: item.caller.as_ref().map(|c| c.id),
        group: item.assignment_group.as_ref().map(|g| g.id),
    }
}

async fn approval_outcome(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    item: &RequestItem,
    outcome: Outcome,
) -> AppResult<()> {
    match outcome {
        Outcome::Pending => Ok(()),
        Outcome::Approved => fulfil(tx, actor, now, item).await.map(|_| ()),
        Outcome::Rejected => {
            let mut f = item.fields();
            f.ext.approval = "rejected".into();
            f.task.state = RequestItemState::Rejected;
            f.closed_at = Some(now);
            let note = format!("{} → {}", item.number, f.task.state);
            let after = move_item(tx, actor, now, item, f, note).await?;
            ended(tx, actor, now, &after).await
        }
    }
}

mod order;
mod read;
pub use order::*;
pub use read::*;
