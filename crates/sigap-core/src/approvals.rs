//! Approvals, one mechanism for every process: a task's rule asks its stages one after the
//! other (the requested-for person's manager, named people, or a group's members, of whom
//! any or all must approve); each decision is recorded with its comment; a settled stage
//! goes back to the task's process, which asks the next stage or acts on the outcome.
//! Approvers see what waits on them (and on those who delegated to them while away), and
//! are reminded of what waits too long.

use crate::Core;
use crate::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::principal::Ctx;
use jiff::{SignedDuration, Timestamp};
use sigap_domain::approval::{
    ApprovalState, Delegation, Outcome, Rule, Stage, may_decide, stage_outcome,
};
use sigap_domain::task::TaskKind;
use sigap_domain::{ApprovalId, DelegationId, GroupId, PersonId, TaskId};
use sigap_store::Tx;
use sigap_store::approvals::{self as repo, Approval};
use sigap_store::notifications::NewNotification;

pub use sigap_store::approvals::{Approval as ApprovalRecord, Delegation as DelegationRecord};

/// Where approvers decide.
pub const PAGE: &str = "/approvals";
/// The periodic job that reminds approvers.
pub const REMIND_JOB: &str = "approval_reminders";
/// How long an approval waits before its approver is reminded (and again after as long).
pub const REMIND_AFTER: SignedDuration = SignedDuration::from_hours(24);

/// What a task waiting for approval is, for the approvers' notifications.
pub struct Subject<'a> {
    pub task: TaskId,
    pub number: &'a str,
    pub title: &'a str,
    /// Whose manager a manager stage asks.
    pub requested_for: Option<PersonId>,
    /// Whose manager a group manager stage asks: the task's assignment group.
    pub group: Option<GroupId>,
}

/// Asks the stages of `rule` from `from` on until one has approvers to wait for: returns
/// `Pending` with the stage asked, `Approved` when no stage is left, or `Rejected` when a
/// stage has nobody to ask (nothing is approved by default).
pub async fn ask_from(
    tx: &mut Tx<'_>,
    now: Timestamp,
    subject: &Subject<'_>,
    rule: &Rule,
    from: usize,
) -> AppResult<(Outcome, usize)> {
    let Some(stage) = rule.stages().get(from) else {
        return Ok((Outcome::Approved, from));
    };
    let (people, group) = match stage {
        Stage::Manager => {
            let manager = match subject.requested_for {
                Some(p) => sigap_store::people::get(tx, p).await?.manager,
                None => None,
            };
            (manager.map(|m| m.id).into_iter().collect(), None)
        }
        Stage::GroupManager => {
            let manager = match subject.group {
                Some(g) => sigap_store::groups::get(tx, g).await?.manager,
                None => None,
            };
            (manager.map(|m| m.id).into_iter().collect(), None)
        }
        Stage::People { people, .. } => (people.clone(), None),
        Stage::Group { group, .. } => {
            let members = sigap_store::groups::members(tx, *group).await?;
            (members.into_iter().map(|m| m.id).collect(), Some(*group))
        }
    };
    let people: Vec<PersonId> = active_only(tx, people).await?;
    if people.is_empty() {
        return Ok((Outcome::Rejected, from));
    }
    // Asked from the first stage, the task starts a new round: earlier decisions no
    // longer count.
    let last = repo::last_round(tx, subject.task).await?;
    let round = if from == 0 { last + 1 } else { last.max(1) };
    let link = format!("{PAGE}?task={}", subject.number);
    for p in people {
        repo::ask(tx, subject.task, (round, from as i64), p, group, now).await?;
        notify(
            tx,
            p,
            "approval_requested",
            subject.number,
            subject.title,
            &link,
            now,
        )
        .await?;
    }
    Ok((Outcome::Pending, from))
}

async fn active_only(tx: &mut Tx<'_>, people: Vec<PersonId>) -> AppResult<Vec<PersonId>> {
    let mut out = Vec::new();
    for p in people {
        match sigap_store::people::get(tx, p).await {
            Ok(found) if found.active => out.push(p),
            Ok(_) | Err(sigap_store::StoreError::NotFound) => {}
            Err(e) => return Err(e.into()),
        }
    }
    out.dedup();
    Ok(out)
}

async fn notify(
    tx: &mut Tx<'_>,
    who: PersonId,
    kind: &str,
    number: &str,
    title: &str,
    link: &str,
    now: Timestamp,
) -> AppResult<()> {
    let subject = format!("{number} {title}");
    crate::notifications::send(
        tx,
        &NewNotification {
            person_id: who,
            kind,
            subject: &subject,
            body: "",
            link,
            task_id: None,
        },
        now,
    )
    .await?;
    Ok(())
}

/// The approvals still asked of a task are no longer wanted (the task was canceled, or a
/// stage settled without them).
pub async fn withdraw(tx: &mut Tx<'_>, task: TaskId, now: Timestamp) -> AppResult<()> {
    repo::withdraw(tx, task, now).await?;
    Ok(())
}

/// The delegations in force for `who` at `at`, as the domain checks them.
async fn delegations_to(
    tx: &mut Tx<'_>,
    who: PersonId,
    at: Timestamp,
) -> AppResult<Vec<Delegation>> {
    Ok(repo::delegations_of(tx, who, at)
        .await?
        .into_iter()
        .filter(|d| d.to.id == who && d.starts <= at)
        .map(|d| Delegation {
            from: d.from.id,
            to: d.to.id,
            starts: d.starts,
            ends: d.ends,
        })
        .collect())
}

/// Approves or rejects an approval asked of the caller (or of someone who delegated to
/// them now), with a comment (required to reject). A settled stage goes to the task's
/// process in the same write.
pub async fn decide(
    core: &Core,
    ctx: &Ctx,
    id: &str,
    approve: bool,
    comment: &str,
) -> AppResult<Approval> {
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let me = ctx.principal.person_id.ok_or(AppError::Forbidden)?;
    let id = ApprovalId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let comment = sigap_domain::parse_text(comment, 4_000)
        .map_err(|e| AppError::field("comment", e.code, e.message))?;
    if !approve && comment.trim().is_empty() {
        return Err(AppError::field(
            "comment",
            "required",
            "say why it is rejected",
        ));
    }
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let a = match repo::get(tx, id).await {
                Ok(a) => a,
                Err(sigap_store::StoreError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            };
            let delegations = delegations_to(tx, me, now).await?;
            if !may_decide(a.approver.id, me, now, &delegations) {
                return Err(AppError::NotFound);
            }
            if a.state != ApprovalState::Requested {
                return Err(AppError::Conflict {
                    code: "already_decided",
                    message: format!("this approval is {}", a.state),
                    field: None,
                });
            }
            let state = if approve {
                ApprovalState::Approved
            } else {
                ApprovalState::Rejected
            };
            if !repo::decide(tx, a.id, state, me, &comment, now).await? {
                return Err(AppError::Contention);
            }
            let stage: Vec<Approval> = repo::of_task(tx, a.task_id)
                .await?
                .into_iter()
                .filter(|x| x.round == a.round && x.stage == a.stage)
                .collect();
            let need = stage_need(tx, a.task_id, a.stage).await?;
            let states: Vec<ApprovalState> = stage.iter().map(|x| x.state).collect();
            let outcome = stage_outcome(need, &states);
            if outcome != Outcome::Pending {
                repo::withdraw(tx, a.task_id, now).await?;
                settled(tx, &actor, now, a.task_id, a.stage as usize, outcome).await?;
            }
            Ok(repo::get(tx, a.id).await?)
        })
        .await
}

/// How many of a stage's approvers must approve, from the rule of the task's process.
async fn stage_need(
    tx: &mut Tx<'_>,
    task: TaskId,
    stage: i64,
) -> AppResult<sigap_domain::approval::Need> {
    let rule = match sigap_store::task::kind(tx, task).await? {
        Some(TaskKind::RequestItem) => crate::requests::rule_of(tx, task).await?,
        Some(TaskKind::Change) => crate::changes::rule_of(tx, task).await?,
        _ => Rule::none(),
    };
    Ok(rule
        .stages()
        .get(stage as usize)
        .map(Stage::need)
        .unwrap_or(sigap_domain::approval::Need::Any))
}

/// A settled stage goes to the process of the task.
async fn settled(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    task: TaskId,
    stage: usize,
    outcome: Outcome,
) -> AppResult<()> {
    match sigap_store::task::kind(tx, task).await? {
        Some(TaskKind::RequestItem) => {
            crate::requests::stage_settled(tx, actor, now, task, stage, outcome).await
        }
        Some(TaskKind::Change) => {
            crate::changes::stage_settled(tx, actor, now, task, stage, outcome).await
        }
        Some(TaskKind::Article) => {
            crate::knowledge::review_settled(tx, actor, now, task, outcome).await
        }
        _ => Ok(()),
    }
}

/// The approvals waiting on the caller, and on those who delegated to them now, oldest
/// first.
pub async fn mine(core: &Core, ctx: &Ctx) -> AppResult<Vec<Approval>> {
    let me = ctx.principal.person_id.ok_or(AppError::Forbidden)?;
    let now = core.now();
    core.store
        .read(async move |tx| {
            let mut who = vec![me];
            who.extend(delegations_to(tx, me, now).await?.iter().map(|d| d.from));
            Ok::<_, AppError>(repo::waiting_on(tx, &who, 500).await?)
        })
        .await
}

/// The approvals the caller decided lately, newest first.
pub async fn decided(core: &Core, ctx: &Ctx) -> AppResult<Vec<Approval>> {
    let me = ctx.principal.person_id.ok_or(AppError::Forbidden)?;
    Ok(core
        .store
        .read(async move |tx| repo::decided_by(tx, me, 50).await)
        .await?)
}

/// One approval, for its approver (or their delegate) and the desk.
pub async fn get(core: &Core, ctx: &Ctx, id: &str) -> AppResult<Approval> {
    let me = ctx.principal.person_id.ok_or(AppError::Forbidden)?;
    let id = ApprovalId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let (now, staff) = (core.now(), crate::task::is_staff(ctx));
    core.store
        .read(async move |tx| {
            let a = match repo::get(tx, id).await {
                Ok(a) => a,
                Err(sigap_store::StoreError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            };
            let delegations = delegations_to(tx, me, now).await?;
            let decider = a.decided_by.as_ref().is_some_and(|d| d.id == me);
            if staff || decider || may_decide(a.approver.id, me, now, &delegations) {
                Ok(a)
            } else {
                Err(AppError::NotFound)
            }
        })
        .await
}

/// A task's approvals, by stage (read in the caller's transaction, the task already
/// visible to them).
pub async fn of_task(tx: &mut Tx<'_>, task: TaskId) -> AppResult<Vec<Approval>> {
    Ok(repo::of_task(tx, task).await?)
}

/// Reminds the approvers of approvals waiting longer than `REMIND_AFTER` (again after as
/// long): a notification each. Returns how many.
pub async fn remind(core: &Core) -> AppResult<usize> {
    let now = core.now();
    let before = now.checked_sub(REMIND_AFTER).unwrap_or(now);
    core.store
        .write(async move |tx| {
            let due = repo::due_reminders(tx, before, now, 500).await?;
            for a in &due {
                let link = format!("{PAGE}?task={}", a.task_number);
                let (number, title) = (&a.task_number, &a.task_title);
                notify(
                    tx,
                    a.approver.id,
                    "approval_reminder",
                    number,
                    title,
                    &link,
                    now,
                )
                .await?;
            }
            Ok::<_, AppError>(due.len())
        })
        .await
}

/// Delegates the caller's approvals to someone (id or login) for a period.
pub async fn delegate(
    core: &Core,
    ctx: &Ctx,
    to: &str,
    starts: Timestamp,
    ends: Timestamp,
) -> AppResult<DelegationId> {
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let me = ctx.principal.person_id.ok_or(AppError::Forbidden)?;
    let (to, now) = (to.to_owned(), core.now());
    core.store
        .write(async move |tx| {
            let to = match crate::people::resolve(tx, &to).await {
                Ok(p) if p.active => p.id,
                Ok(_) | Err(sigap_store::StoreError::NotFound) => {
                    return Err(AppError::field("to", "not_found", "no such person"));
                }
                Err(e) => return Err(e.into()),
            };
            let d = Delegation::new(me, to, starts, ends).map_err(|e| {
                let field = if e.code == "before_start" {
                    "ends"
                } else {
                    "to"
                };
                AppError::field(field, e.code, e.message)
            })?;
            if d.ends <= now {
                return Err(AppError::field("ends", "in_past", "the period has ended"));
            }
            Ok(repo::add_delegation(tx, d.from, d.to, d.starts, d.ends, now).await?)
        })
        .await
}

/// The caller's delegations not yet ended, given and received.
pub async fn delegations(core: &Core, ctx: &Ctx) -> AppResult<Vec<repo::Delegation>> {
    let me = ctx.principal.person_id.ok_or(AppError::Forbidden)?;
    let now = core.now();
    Ok(core
        .store
        .read(async move |tx| repo::delegations_of(tx, me, now).await)
        .await?)
}

/// Ends a delegation the caller gave.
pub async fn undelegate(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    let me = ctx.principal.person_id.ok_or(AppError::Forbidden)?;
    let id = DelegationId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let gone = core
        .store
        .write(async move |tx| repo::delete_delegation(tx, id, me).await)
        .await?;
    if gone {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}
