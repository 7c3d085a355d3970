//! Incident management: log, classify (impact × urgency → priority), assign, hold, resolve,
//! close, with every change in the journal and the audit log, and the caller kept informed.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::listing::{ListParams, Listed, parse_bool};
use crate::principal::Ctx;
use crate::refs::{self, RefChange};
use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};
use sigap_domain::process::incident::{HoldReason, IncidentState};
use sigap_domain::task::JournalKind;
use sigap_domain::task::{ContactType, MatrixRow, Priority, PriorityMatrix, StateModel};
use sigap_domain::{Role, TaskId, parse_line, parse_text};
use sigap_store::Tx;
use sigap_store::incidents::{self as repo, Incident, IncidentExt, IncidentFields, IncidentFilter};
use sigap_store::task::journal::JournalEntry;
use sigap_store::task::{TaskFields, TaskSort, Visibility};

/// How resolutions are classified.
pub const RESOLUTION_CODES: &[&str] = &[
    "solved_permanently",
    "solved_workaround",
    "not_reproducible",
    "too_costly",
    "resolved_by_caller",
    "cleared_by_monitoring",
];

/// Days after which a resolved incident closes by itself, unless set otherwise.
pub const DEFAULT_AUTOCLOSE_DAYS: i64 = 5;
pub const AUTOCLOSE_JOB: &str = "incident_autoclose";
const AUTOCLOSE_KEY: &str = "incident.autoclose_days";

#[derive(Debug, Clone, Default)]
pub struct IncidentInput {
    /// What every task has.
    pub task: TaskInput,
    /// An override of the computed priority (managers), with `priority_reason`.
    pub priority: Option<i64>,
    pub priority_reason: Option<String>,
    /// The parent incident (number or id): this one is a further report of it.
    pub parent: RefChange,
    pub workaround: Option<String>,
    pub major: Option<bool>,
}

/// What an incident is asked to do besides a field change.
#[derive(Debug, Clone)]
pub enum Action {
    /// Work starts (new → in progress).
    Start,
    /// The acting agent takes it (and work starts).
    AssignToMe,
    Hold {
        reason: String,
        comment: Option<String>,
    },
    Resume,
    Resolve {
        code: String,
        notes: String,
        /// The knowledge article it was resolved with (number or id), if any.
        article: Option<String>,
    },
    /// The caller accepts the resolution (→ closed).
    Accept,
    /// The caller rejects the resolution (→ in progress, reopened once more).
    Reject {
        comment: String,
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
    /// Functional escalation: to another group (the assignee is cleared).
    Escalate {
        group: String,
        reason: String,
    },
    /// Hierarchical escalation: the assignment group's manager is called in.
    EscalateToManager {
        reason: String,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Start => "start",
            Action::AssignToMe => "assign_to_me",
            Action::Hold { .. } => "hold",
            Action::Resume => "resume",
            Action::Resolve { .. } => "resolve",
            Action::Accept => "accept",
            Action::Reject { .. } => "reject",
            Action::Cancel { .. } => "cancel",
            Action::Comment { .. } => "comment",
            Action::WorkNote { .. } => "work_note",
            Action::Escalate { .. } => "escalate",
            Action::EscalateToManager { .. } => "escalate_to_manager",
        }
    }
}

/// What an incident list is narrowed to: the common filters and queues (and `on_hold`,
/// `major`), and major incidents only or none of them.
#[derive(Debug, Clone, Default)]
pub struct IncidentQuery {
    pub task: TaskQuery,
    pub major: Option<String>,
}

pub use crate::task::SORT_FIELDS;

/// An incident with the journal its reader may see.
#[derive(Debug, Clone)]
pub struct IncidentDetail {
    pub incident: Incident,
    pub journal: Vec<JournalEntry>,
}

use crate::task::{
    Change, Notifier, Process, Step, TaskInput, TaskQuery, is_staff, visibility, visible,
};

impl Process for IncidentExt {
    const ENTITY: &'static str = "incident";
    const PATH: &'static str = "/incidents";
    const DESK_ONLY: bool = false;
    type Input = IncidentInput;
    type Action = Action;

    fn audit(&self, m: &mut Map<String, Value>) {
        m.insert(
            "hold_reason".into(),
            json!(self.hold_reason.map(|h| h.code())),
        );
        m.insert("workaround".into(), json!(self.workaround));
        m.insert("resolution_code".into(), json!(self.resolution_code));
        m.insert("resolution_notes".into(), json!(self.resolution_notes));
        m.insert("major".into(), json!(self.major));
        m.insert(
            "priority_override_reason".into(),
            json!(self.priority_override_reason),
        );
    }
    fn conditions(&self, s: &mut sigap_domain::sla::Snapshot) {
        s.set(
            "hold_reason",
            self.hold_reason
                .iter()
                .map(|h| h.code().to_owned())
                .collect(),
        )
        .flag("major", self.major);
    }

    fn task_input(input: &IncidentInput) -> &TaskInput {
        &input.task
    }

    fn apply(input: &IncidentInput, f: &mut IncidentFields, errs: &mut Errors) {
        crate::task::set_text(errs, "workaround", &input.workaround, &mut f.ext.workaround);
        if let Some(m) = input.major {
            f.ext.major = m;
        }
    }

    /// The parent (no cycles), the priority from the matrix unless a manager overrides it
    /// with a reason; self-service reports are never major; an assigned new incident is
    /// in progress.
    async fn prepare(
        tx: &mut Tx<'_>,
        ctx: &Ctx,
        input: &IncidentInput,
        f: &mut IncidentFields,
        before: Option<&Incident>,
        computed: Priority,
    ) -> AppResult<()> {
        f.parent_id = match crate::task::refs_key(&input.parent) {
            None => f.parent_id,
            Some(None) => None,
            Some(Some(k)) => Some(resolve_parent(tx, ctx, &k, before.map(|b| b.id)).await?),
        };
        // Priority: from the matrix, unless a manager overrides it with a reason.
        match input.priority {
            Some(p) => {
                ctx.principal.require(Role::Manager)?;
                let p = Priority::parse(p).map_err(|e| {
                    AppError::Validation(vec![FieldError::from_invalid("priority", e)])
                })?;
                if p == computed {
                    f.priority = p;
                    f.ext.priority_override_reason = None;
                } else {
                    let reason = input
                        .priority_reason
                        .as_deref()
                        .map(|r| parse_line(r, 500))
                        .transpose()
                        .map_err(|e| {
                            AppError::Validation(vec![FieldError::from_invalid(
                                "priority_reason",
                                e,
                            )])
                        })?
                        .ok_or_else(|| {
                            AppError::field(
                                "priority_reason",
                                "required",
                                "an override needs a reason",
                            )
                        })?;
                    f.priority = p;
                    f.ext.priority_override_reason = Some(reason);
                }
            }
            None => {
                let impact_moved =
                    before.is_none_or(|b| b.impact != f.impact || b.urgency != f.urgency);
                if impact_moved || f.ext.priority_override_reason.is_none() {
                    f.priority = computed;
                    f.ext.priority_override_reason = None;
                }
            }
        }
        if before.is_none() {
            if !is_staff(ctx) {
                f.ext.major = false;
                // An end user reports through the portal, or by mail.
                f.contact_type = match ctx.principal.method {
                    crate::AuthMethod::Mail => ContactType::Email,
                    _ => ContactType::SelfService,
                };
            }
            if f.assigned_to_id.is_some() {
                f.task.state = IncidentState::InProgress;
            }
        }
        Ok(())
    }

    /// Callers may accept, reject and comment on their own incidents; everything else is
    /// the desk's.
    fn may_act(ctx: &Ctx, i: &Incident, action: &Action) -> AppResult<()> {
        let is_caller = ctx.principal.person_id.is_some()
            && i.caller.as_ref().map(|c| c.id) == ctx.principal.person_id;
        let callers = matches!(
            action,
            Action::Accept | Action::Reject { .. } | Action::Comment { .. }
        );
        if is_staff(ctx) || (callers && is_caller) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    async fn act(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        before: &Incident,
        f: &mut IncidentFields,
        action: &Action,
    ) -> AppResult<Step> {
        let me = actor.id;
        let mut note: Option<(JournalKind, String)> = None;
        match action {
            Action::Start => {
                crate::task::transition(before.state, IncidentState::InProgress)?;
                if before.state != IncidentState::New {
                    return Err(wrong_state(&format!(
                        "work starts on new incidents; this one is {}",
                        before.state
                    )));
                }
                f.state = IncidentState::InProgress;
            }
            Action::AssignToMe => {
                let Some(me) = me else {
                    return Err(AppError::Forbidden);
                };
                if before.state.is_final() || before.state == IncidentState::Resolved {
                    crate::task::transition(before.state, IncidentState::InProgress)?;
                }
                let groups = sigap_store::groups::of_person(tx, me).await?;
                let group = match before.assignment_group.as_ref().map(|g| g.id) {
                    Some(g) if groups.iter().any(|x| x.id == g) => g,
                    _ => match groups.first() {
                        Some(g) => g.id,
                        None => {
                            return Err(AppError::field(
                                "assigned_to",
                                "not_a_member",
                                "you are in no support group",
                            ));
                        }
                    },
                };
                let person_moved = before.assigned_to.is_some()
                    && before.assigned_to.as_ref().map(|p| p.id) != Some(me);
                let group_moved = before.assignment_group.is_some()
                    && before.assignment_group.as_ref().map(|g| g.id) != Some(group);
                if person_moved || group_moved {
                    f.reassignment_count += 1;
                }
                f.assignment_group_id = Some(group);
                f.assigned_to_id = Some(me);
                if before.state == IncidentState::New {
                    f.state = IncidentState::InProgress;
                }
            }
            Action::Hold { reason, comment } => {
                crate::task::transition(before.state, IncidentState::OnHold)?;
                let r = HoldReason::parse(reason).map_err(|e| {
                    AppError::Validation(vec![FieldError::from_invalid("hold_reason", e)])
                })?;
                let comment = comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
                if r == HoldReason::AwaitingCaller && comment.is_none() {
                    return Err(AppError::field(
                        "comment",
                        "required",
                        "tell the caller what you are waiting for",
                    ));
                }
                if let Some(c) = comment {
                    let c = parse_text(c, 32_000).map_err(|e| {
                        AppError::Validation(vec![FieldError::from_invalid("comment", e)])
                    })?;
                    note = Some((JournalKind::Comment, c));
                }
                f.state = IncidentState::OnHold;
                f.ext.hold_reason = Some(r);
            }
            Action::Resume => {
                if before.state != IncidentState::OnHold {
                    crate::task::transition(before.state, IncidentState::InProgress)?;
                    return Err(wrong_state("only incidents on hold resume"));
                }
                f.state = IncidentState::InProgress;
                f.ext.hold_reason = None;
            }
            Action::Resolve {
                code,
                notes,
                article,
            } => {
                crate::task::transition(before.state, IncidentState::Resolved)?;
                let mut errs = Errors::new();
                if !RESOLUTION_CODES.contains(&code.trim()) {
                    errs.push(FieldError::new(
                        "resolution_code",
                        "invalid_choice",
                        format!("must be one of: {}", RESOLUTION_CODES.join(", ")),
                    ));
                }
                if let Some(n) = errs.take("resolution_notes", crate::task::nonempty(notes)) {
                    f.ext.resolution_notes = n;
                }
                errs.finish()?;
                f.state = IncidentState::Resolved;
                f.ext.resolution_code = Some(code.trim().to_owned());
                f.ext.hold_reason = None;
                f.resolved_at = Some(now);
                if let Some(key) = article.as_deref().map(str::trim).filter(|k| !k.is_empty()) {
                    let number =
                        crate::knowledge::resolved_with(tx, actor, now, before.id, key).await?;
                    note = Some((
                        JournalKind::WorkNote,
                        format!("resolved with knowledge article {number}"),
                    ));
                }
            }
            Action::Accept => {
                if before.state != IncidentState::Resolved {
                    return Err(wrong_state(&format!(
                        "only a resolved incident can be accepted; this one is {}",
                        before.state
                    )));
                }
                f.state = IncidentState::Closed;
                f.closed_at = Some(now);
            }
            Action::Reject { comment } => {
                if before.state != IncidentState::Resolved {
                    return Err(wrong_state(&format!(
                        "only a resolved incident can be rejected; this one is {}",
                        before.state
                    )));
                }
                let c = parse_line(comment, 32_000).map_err(|e| {
                    AppError::Validation(vec![FieldError::from_invalid("comment", e)])
                })?;
                note = Some((JournalKind::Comment, c));
                f.state = IncidentState::InProgress;
                f.reopen_count += 1;
                f.resolved_at = None;
                f.ext.resolution_code = None;
            }
            Action::Cancel { reason } => {
                crate::task::transition(before.state, IncidentState::Canceled)?;
                let r = parse_line(reason, 2000).map_err(|e| {
                    AppError::Validation(vec![FieldError::from_invalid("reason", e)])
                })?;
                note = Some((JournalKind::WorkNote, r));
                f.state = IncidentState::Canceled;
                f.closed_at = Some(now);
                f.ext.hold_reason = None;
            }
            // Handled below, once the record is read.
            Action::Escalate { .. } | Action::EscalateToManager { .. } => {}
            Action::Comment { body } | Action::WorkNote { body } => {
                let kind = if matches!(action, Action::Comment { .. }) {
                    JournalKind::Comment
                } else {
                    JournalKind::WorkNote
                };
                let field = if kind == JournalKind::Comment {
                    "comment"
                } else {
                    "work_note"
                };
                let b = crate::task::required(field, body)?;
                if before.state.is_final()
                    && kind == JournalKind::Comment
                    && !is_staff_actor(actor, before)
                {
                    return Err(AppError::Conflict {
                        code: "final_state",
                        message: format!("a {} incident takes no more comments", before.state),
                        field: None,
                    });
                }
                // The caller answering an incident that waits for them puts it back to work.
                if kind == JournalKind::Comment
                    && before.ext.hold_reason == Some(HoldReason::AwaitingCaller)
                    && before.caller.as_ref().map(|c| c.id) == actor.id
                {
                    f.state = IncidentState::InProgress;
                    f.ext.hold_reason = None;
                }
                note = Some((kind, b));
            }
        }
        let mut call_manager = None;
        match action {
            Action::Escalate { group, reason } => {
                if !before.state.is_open() {
                    crate::task::transition(before.state, IncidentState::InProgress)?;
                }
                let reason = parse_line(reason, 2000).map_err(|e| {
                    AppError::Validation(vec![FieldError::from_invalid("reason", e)])
                })?;
                let g = refs::group(tx, "group", &Some(Some(group.clone())), None)
                    .await?
                    .ok_or_else(|| AppError::field("group", "required", "is required"))?;
                if before.assignment_group.as_ref().map(|x| x.id) == Some(g) {
                    return Err(AppError::field(
                        "group",
                        "same_group",
                        "the incident is already with this group",
                    ));
                }
                let name = sigap_store::groups::get(tx, g).await?.name;
                if before.assignment_group.is_some() || before.assigned_to.is_some() {
                    f.reassignment_count += 1;
                }
                f.assignment_group_id = Some(g);
                f.assigned_to_id = None;
                note = Some((JournalKind::WorkNote, format!("→ {name}: {reason}")));
            }
            Action::EscalateToManager { reason } => {
                if !before.state.is_open() {
                    crate::task::transition(before.state, IncidentState::InProgress)?;
                }
                let reason = parse_line(reason, 2000).map_err(|e| {
                    AppError::Validation(vec![FieldError::from_invalid("reason", e)])
                })?;
                let Some(g) = before.assignment_group.as_ref() else {
                    return Err(AppError::Conflict {
                        code: "no_group",
                        message: "assign the incident to a group first".into(),
                        field: Some("assignment_group".into()),
                    });
                };
                let Some(manager) = sigap_store::groups::get(tx, g.id).await?.manager else {
                    return Err(AppError::Conflict {
                        code: "no_manager",
                        message: format!("the group {} has no manager", g.name),
                        field: Some("assignment_group".into()),
                    });
                };
                note = Some((
                    JournalKind::WorkNote,
                    format!("↑ {}: {reason}", manager.name),
                ));
                call_manager = Some(manager.id);
            }
            _ => {}
        }
        if let Some(m) = call_manager {
            let subject = format!("{} {}", before.number, before.short_description);
            let link = format!("/incidents/{}", before.number);
            let body = note.as_ref().map(|n| n.1.clone()).unwrap_or_default();
            crate::notifications::send(
                tx,
                &sigap_store::notifications::NewNotification {
                    person_id: m,
                    kind: "incident_escalated",
                    subject: &subject,
                    body: &body,
                    link: &link,
                    task_id: Some(before.id),
                },
                now,
            )
            .await?;
        }
        // A reply the caller sees, from the desk, answers the response targets.
        let responded = matches!(note, Some((JournalKind::Comment, _)))
            && before.caller.as_ref().map(|c| c.id) != actor.id;
        Ok(Step { note, responded })
    }

    async fn notify(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        before: Option<&Incident>,
        after: &Incident,
        note: Option<&(JournalKind, String)>,
    ) -> AppResult<()> {
        notify(tx, actor, now, before, after, note).await
    }

    /// Resolving a parent resolves its open children.
    async fn after(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        _change: Change<'_, Self>,
        before: Option<&Incident>,
        after: &Incident,
    ) -> AppResult<()> {
        let was = before.map(|b| b.state);
        if after.state == IncidentState::Resolved
            && was.is_some_and(|s| s != IncidentState::Resolved)
        {
            resolve_children(tx, actor, now, after).await?;
            // Its alerts are taken care of.
            sigap_store::events::acknowledge_for_incident(tx, after.id, actor.id, now).await?;
        }
        Ok(())
    }
}

/// An incident as the audit log records it./// An incident as the audit log records it.
pub fn audit_map(i: &Incident) -> Map<String, Value> {
    crate::task::audit_map(i)
}

pub use crate::task::matrix_in;

pub async fn matrix(core: &Core) -> AppResult<PriorityMatrix> {
    core.store.read(async |tx| matrix_in(tx).await).await
}

/// Replaces the priority matrix with a preset or with rows (administrators).
pub async fn set_matrix(core: &Core, ctx: &Ctx, rows: Vec<MatrixRow>) -> AppResult<PriorityMatrix> {
    ctx.principal.require(Role::Admin)?;
    let m = PriorityMatrix::new(rows)
        .map_err(|e| AppError::Validation(vec![FieldError::from_invalid("rows", e)]))?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let m2 = m.clone();
    core.store
        .write(async move |tx| {
            let before = sigap_store::task::config::matrix_rows(tx).await?;
            sigap_store::task::config::set_matrix_rows(tx, m2.rows()).await?;
            let show = |rows: &[MatrixRow]| {
                json!(
                    rows.iter()
                        .map(|r| format!("{}x{}={}", r.impact, r.urgency, r.priority))
                        .collect::<Vec<_>>()
                )
            };
            audit::record(
                tx,
                &actor,
                now,
                "priority_matrix",
                "incident",
                "update",
                json!({"rows": [show(&before), show(m2.rows())]}),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    Ok(m)
}

/// A parent incident the reader may see, that is not the incident itself nor one of its
/// children (no cycles).
async fn resolve_parent(
    tx: &mut Tx<'_>,
    ctx: &Ctx,
    key: &str,
    me: Option<TaskId>,
) -> AppResult<TaskId> {
    let not_found = || AppError::field("parent", "not_found", "no such incident");
    let parent = match find(tx, key).await {
        Ok(p) => p,
        Err(AppError::NotFound) => return Err(not_found()),
        Err(e) => return Err(e),
    };
    if !visible(&visibility(ctx)?, &parent) {
        return Err(not_found());
    }
    let Some(me) = me else { return Ok(parent.id) };
    let mut at = Some(parent.id);
    let mut steps = 0;
    while let Some(id) = at {
        if id == me {
            return Err(AppError::field(
                "parent",
                "cycle",
                "an incident cannot be its own parent, nor a child of its children",
            ));
        }
        steps += 1;
        if steps > 100 {
            break;
        }
        at = repo::get(tx, id).await?.task.parent.map(|p| p.id);
    }
    Ok(parent.id)
}

/// Logs an incident. Requesters report their own (self-service); agents log for a caller.
pub async fn create(core: &Core, ctx: &Ctx, input: IncidentInput) -> AppResult<Incident> {
    let mut f = IncidentFields {
        task: TaskFields::new(
            IncidentState::New,
            Priority::LOWEST,
            ctx.principal.person_id,
        ),
        ext: IncidentExt::default(),
    };
    if !is_staff(ctx) {
        f.contact_type = ContactType::SelfService;
    }
    crate::task::create(core, ctx, input, f).await
}

async fn find(tx: &mut Tx<'_>, key: &str) -> AppResult<Incident> {
    crate::task::find(tx, key).await
}

/// An incident by id or number, if the reader may see it (else 404, whether or not it exists).
pub async fn get(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Incident> {
    crate::task::get(core, ctx, key).await
}

/// An incident with its journal: agents see work notes and changes, callers the comments.
pub async fn detail(core: &Core, ctx: &Ctx, key: &str) -> AppResult<IncidentDetail> {
    let (i, journal) = crate::task::with_journal(core, ctx, key).await?;
    Ok(IncidentDetail {
        incident: i,
        journal,
    })
}

/// Changes fields (agents), recomputing the priority in the same write.
pub async fn update(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: IncidentInput,
    if_match: Option<i64>,
) -> AppResult<Incident> {
    crate::task::update(core, ctx, key, input, if_match).await
}

/// Does one of the named actions.
pub async fn act(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    action: Action,
    if_match: Option<i64>,
) -> AppResult<Incident> {
    crate::task::act(core, ctx, key, action, if_match).await
}

/// Hands an open incident to another group on behalf of the system (an SLA escalation),
/// with the reason as a work note.
pub(crate) async fn system_escalate(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    id: TaskId,
    group: sigap_domain::GroupId,
    reason: &str,
) -> AppResult<()> {
    let before = repo::get(tx, id).await?;
    let mut f = before.fields();
    if before.assignment_group.is_some() || before.assigned_to.is_some() {
        f.reassignment_count += 1;
    }
    f.assignment_group_id = Some(group);
    f.assigned_to_id = None;
    let name = sigap_store::groups::get(tx, group).await?.name;
    let note = (JournalKind::WorkNote, format!("→ {name}: {reason}"));
    crate::task::save(
        tx,
        actor,
        now,
        &before,
        &f,
        Step::note(note.0, note.1),
        None,
    )
    .await?;
    Ok(())
}

/// Resolving a parent resolves its open children with the same code and notes, each with a
/// work note naming the parent.
async fn resolve_children(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    parent: &Incident,
) -> AppResult<()> {
    let filter = IncidentFilter {
        visibility: Visibility::All,
        states: vec![
            IncidentState::New,
            IncidentState::InProgress,
            IncidentState::OnHold,
        ],
        parent: Some(parent.id),
        ..IncidentFilter::default()
    };
    let sort = [(TaskSort::OpenedAt, false)];
    let children = repo::list(tx, &filter, &sort, None, 1000).await?;
    for child in children.items {
        let code = parent.ext.resolution_code.clone();
        let note = format!("{} → {}", parent.number, IncidentState::Resolved);
        resolve_with(
            tx,
            actor,
            now,
            &child,
            code,
            &parent.ext.resolution_notes,
            note,
        )
        .await?;
    }
    Ok(())
}

/// Resolves an open incident for another task (its parent, its problem) with a code and
/// notes, and a work note naming that task.
pub(crate) async fn resolve_with(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    i: &Incident,
    code: Option<String>,
    notes: &str,
    note: String,
) -> AppResult<Incident> {
    let mut f = i.fields();
    f.task.state = IncidentState::Resolved;
    f.ext.resolution_code = code;
    f.ext.resolution_notes = notes.to_owned();
    f.ext.hold_reason = None;
    f.resolved_at = Some(now);
    let step = Step::note(JournalKind::WorkNote, note);
    crate::task::save(tx, actor, now, i, &f, step, None).await
}

/// A move the state model allows but this action does not (a 409 on the state).
fn wrong_state(message: &str) -> AppError {
    AppError::Conflict {
        code: "invalid_transition",
        message: message.to_owned(),
        field: Some("state".into()),
    }
}

fn is_staff_actor(actor: &Actor, i: &Incident) -> bool {
    // Callers may not comment on finished incidents; the desk may (a note after closing).
    i.caller.as_ref().map(|c| c.id) != actor.id
}

/// Tells the people a change matters to, in their inbox: the caller (comments for them,
/// waiting for them, resolved, closed), the assignee (assigned, the caller answered or
/// rejected), the group (a new incident in its queue) and the managers (a major incident).
/// Nobody is told about their own action.
async fn notify(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    before: Option<&Incident>,
    after: &Incident,
    note: Option<&(JournalKind, String)>,
) -> AppResult<()> {
    let mut n = Notifier::new(actor, after, now);
    let desk_link = n.desk_link.clone();
    let portal_link = format!("/portal/incidents/{}", after.number);
    let caller = after.caller.as_ref().map(|c| c.id);
    let assignee = after.assigned_to.as_ref().map(|p| p.id);
    let state_moved = before.is_none_or(|b| b.state != after.state);
    // The caller.
    if let Some((JournalKind::Comment, body)) = note {
        if actor.id != caller {
            n.send(tx, caller, "comment", body, &portal_link).await?;
        } else {
            n.send(tx, assignee, "caller_replied", body, &desk_link)
                .await?;
        }
    }
    if state_moved {
        match after.state {
            IncidentState::Resolved => {
                n.send(
                    tx,
                    caller,
                    "resolved",
                    &after.ext.resolution_notes,
                    &portal_link,
                )
                .await?;
            }
            IncidentState::Closed | IncidentState::Canceled => {
                n.send(tx, caller, "closed", "", &portal_link).await?;
            }
            IncidentState::OnHold if after.ext.hold_reason == Some(HoldReason::AwaitingCaller) => {
                n.send(tx, caller, "awaiting_you", "", &portal_link).await?;
            }
            IncidentState::InProgress
                if before.is_some_and(|b| b.state == IncidentState::Resolved) =>
            {
                n.send(tx, assignee, "reopened", "", &desk_link).await?;
            }
            _ => {}
        }
    }
    // The assignee and the group.
    n.assignment(tx, before.map(|b| &b.task), after).await?;
    let group = after.assignment_group.as_ref().map(|g| g.id);
    // A major incident: the group's manager and every manager.
    if after.ext.major && !before.is_some_and(|b| b.ext.major) {
        if let Some(g) = group {
            let manager = sigap_store::groups::get(tx, g).await?.manager.map(|m| m.id);
            n.send(tx, manager, "major", "", &desk_link).await?;
        }
        let filter = sigap_store::people::PersonFilter {
            active: Some(true),
            role: Some(Role::Manager),
            ..Default::default()
        };
        let managers = sigap_store::people::list(
            tx,
            &filter,
            &[(sigap_store::people::PersonSort::Name, false)],
            None,
            200,
        )
        .await?;
        for m in managers.items {
            n.send(tx, Some(m.id), "major", "", &desk_link).await?;
        }
    }
    Ok(())
}

/// The incidents of a queue view as CSV: its filters, its sort and its columns (see
/// `task::export`), streamed with no cap (or up to `limit`).
pub async fn export(
    core: &Core,
    ctx: &Ctx,
    query: IncidentQuery,
    sort: Option<String>,
    cols: Option<&str>,
    limit: Option<u64>,
) -> AppResult<crate::export::CsvStream> {
    let (core, ctx) = (core.clone(), ctx.clone());
    crate::task::export("incidents", cols, sort, limit, move |params| {
        let (core, ctx, query) = (core.clone(), ctx.clone(), query.clone());
        async move { list(&core, &ctx, query, &params).await }
    })
    .await
}

pub async fn list(
    core: &Core,
    ctx: &Ctx,
    query: IncidentQuery,
    params: &ListParams,
) -> AppResult<Listed<Incident>> {
    let mut ext: Vec<_> = parse_bool("major", query.major.as_deref())?
        .map(repo::major)
        .into_iter()
        .collect();
    let mut task = query.task;
    // The incident queues besides the common ones; unassigned leaves out those on hold.
    let given = task.state.as_deref().is_some_and(|s| !s.trim().is_empty());
    match task.queue.as_deref().map(str::trim) {
        Some("on_hold") => {
            task.queue = None;
            task.state = Some(IncidentState::OnHold.code().into());
        }
        Some("major") => {
            ext = vec![repo::major(true)];
            task.queue = None;
            task.state = Some(task.state.filter(|_| given).unwrap_or("open".into()));
        }
        Some("unassigned") if !given => task.state = Some("new,in_progress".into()),
        _ => {}
    }
    crate::task::list(core, ctx, task, ext, params, "priority,opened_at").await
}

/// What is already known to be wrong with a service, for someone about to report on it:
/// the open major incidents on the service (a status notice: number, short description and
/// state, whoever reported them) and the reader's own open incidents on it.
pub async fn known_on_service(core: &Core, ctx: &Ctx, service: &str) -> AppResult<Vec<Incident>> {
    let own = visibility(ctx)?;
    let key = service.trim().to_owned();
    if key.is_empty() {
        return Err(AppError::field("service", "required", "is required"));
    }
    core.store
        .read(async move |tx| {
            let s = crate::portfolio::resolve(tx, &key)
                .await?
                .ok_or_else(|| AppError::field("service", "not_found", "no such service"))?;
            let open = vec![
                IncidentState::New,
                IncidentState::InProgress,
                IncidentState::OnHold,
            ];
            let sort = [(TaskSort::OpenedAt, true)];
            let major = IncidentFilter {
                visibility: Visibility::All,
                states: open.clone(),
                service: Some(s.id),
                ext: vec![repo::major(true)],
                ..IncidentFilter::default()
            };
            let mut out = repo::list(tx, &major, &sort, None, 10).await?.items;
            let mine = IncidentFilter {
                visibility: own,
                states: open,
                service: Some(s.id),
                ..IncidentFilter::default()
            };
            for i in repo::list(tx, &mine, &sort, None, 10).await?.items {
                if !out.iter().any(|o| o.id == i.id) {
                    out.push(i);
                }
            }
            Ok::<_, AppError>(out)
        })
        .await
}

/// Closes resolved incidents whose resolution is older than the configured number of days.
pub async fn autoclose(core: &Core) -> AppResult<usize> {
    let now = core.now();
    let actor = Actor::of(&Ctx::system("autoclose"));
    core.store
        .write(async move |tx| {
            let days = sigap_store::task::config::setting(tx, AUTOCLOSE_KEY)
                .await?
                .and_then(|v| v.as_i64())
                .unwrap_or(DEFAULT_AUTOCLOSE_DAYS);
            let before = now
                .checked_sub(SignedDuration::from_hours(24 * days.max(0)))
                .unwrap_or(now);
            let due = repo::resolved_before(tx, before, 500).await?;
            let mut n = 0;
            for i in &due {
                let mut f = i.fields();
                f.state = IncidentState::Closed;
                f.closed_at = Some(now);
                let after = sigap_store::task::update(tx, i.id, &f, i.version, now).await?;
                crate::task::record_change(tx, &actor, now, Some(i), &after, "update").await?;
                notify(tx, &actor, now, Some(i), &after, None).await?;
                crate::sla::on_task_change(tx, &after, false, now).await?;
                n += 1;
            }
            Ok::<_, AppError>(n)
        })
        .await
}

/// Sets the days before resolved incidents close by themselves (administrators).
pub async fn set_autoclose_days(core: &Core, ctx: &Ctx, days: i64) -> AppResult<()> {
    ctx.principal.require(Role::Admin)?;
    if !(0..=365).contains(&days) {
        return Err(AppError::field("days", "out_of_range", "must be 0 to 365"));
    }
    core.store
        .write(async move |tx| {
            Ok::<_, AppError>(
                sigap_store::task::config::set_setting(tx, AUTOCLOSE_KEY, &json!(days)).await?,
            )
        })
        .await
}

// ----- categories and assignment rules -----

/// Every category and subcategory (a subcategory names its parent).
pub async fn categories(core: &Core) -> AppResult<Vec<sigap_store::task::config::Category>> {
    Ok(core
        .store
        .read(async |tx| sigap_store::task::config::categories(tx).await)
        .await?)
}

#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    pub name: Option<String>,
    pub parent: Option<Option<String>>,
    pub active: Option<bool>,
    pub sort_order: Option<i64>,
}

/// Adds or changes a category or subcategory (administrators).
pub async fn set_category(
    core: &Core,
    ctx: &Ctx,
    code: &str,
    input: CategoryInput,
) -> AppResult<sigap_store::task::config::Category> {
    ctx.principal.require(Role::Admin)?;
    let code = sigap_domain::cmdb::parse_code(code)
        .map_err(|e| AppError::Validation(vec![FieldError::from_invalid("code", e)]))?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let all = sigap_store::task::config::categories(tx).await?;
            let before = all.iter().find(|c| c.code == code).cloned();
            let mut c = before
                .clone()
                .unwrap_or(sigap_store::task::config::Category {
                    code: code.clone(),
                    name: String::new(),
                    parent_code: None,
                    active: true,
                    sort_order: 100,
                });
            let mut errs = Errors::new();
            match &input.name {
                Some(n) => {
                    if let Some(n) = errs.take("name", parse_line(n, 100)) {
                        c.name = n;
                    }
                }
                None if before.is_none() => {
                    errs.push(FieldError::new("name", "required", "is required"))
                }
                None => {}
            }
            if let Some(p) = &input.parent {
                c.parent_code = p
                    .as_deref()
                    .map(str::trim)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned);
                if let Some(p) = &c.parent_code {
                    let parent = all.iter().find(|x| &x.code == p);
                    if parent.is_none_or(|x| x.parent_code.is_some()) || *p == code {
                        errs.push(FieldError::new(
                            "parent",
                            "invalid_choice",
                            "must be a top-level category",
                        ));
                    }
                    if all
                        .iter()
                        .any(|x| x.parent_code.as_deref() == Some(code.as_str()))
                    {
                        errs.push(FieldError::new(
                            "parent",
                            "has_children",
                            "a category with subcategories stays top-level",
                        ));
                    }
                }
            }
            if let Some(a) = input.active {
                c.active = a;
            }
            if let Some(o) = input.sort_order {
                c.sort_order = o;
            }
            errs.finish()?;
            sigap_store::task::config::upsert_category(tx, &c).await?;
            let map = |c: &sigap_store::task::config::Category| {
                let mut m = Map::new();
                m.insert("name".into(), json!(c.name));
                m.insert("parent".into(), json!(c.parent_code));
                m.insert("active".into(), json!(c.active));
                m.insert("sort_order".into(), json!(c.sort_order));
                m
            };
            audit::record_diff(
                tx,
                &actor,
                now,
                "incident_category",
                &c.code,
                if before.is_some() { "update" } else { "create" },
                before.as_ref().map(map).as_ref(),
                Some(&map(&c)),
            )
            .await?;
            Ok(c)
        })
        .await
}

/// The assignment rules, first match first (agents).
pub async fn rules(
    core: &Core,
    ctx: &Ctx,
) -> AppResult<Vec<sigap_store::task::config::AssignmentRule>> {
    ctx.principal.require(Role::Agent)?;
    Ok(core
        .store
        .read(async |tx| sigap_store::task::config::rules(tx).await)
        .await?)
}

/// An assignment rule with the names of what it matches and where it sends.
#[derive(Debug, Clone)]
pub struct NamedRule {
    pub rule: sigap_store::task::config::AssignmentRule,
    pub service: Option<String>,
    pub ci: Option<String>,
    pub group: String,
}

/// The assignment rules with names, first match first (agents).
pub async fn rules_named(core: &Core, ctx: &Ctx) -> AppResult<Vec<NamedRule>> {
    ctx.principal.require(Role::Agent)?;
    core.store
        .read(async |tx| {
            let mut out = Vec::new();
            for rule in sigap_store::task::config::rules(tx).await? {
                let service = match rule.service_id {
                    Some(id) => Some(sigap_store::portfolio::get(tx, id).await?.name),
                    None => None,
                };
                let ci = match rule.ci_id {
                    Some(id) => Some(sigap_store::cmdb::get_ci(tx, id).await?.name),
                    None => None,
                };
                let group = sigap_store::groups::get(tx, rule.group_id).await?.name;
                out.push(NamedRule {
                    rule,
                    service,
                    ci,
                    group,
                });
            }
            Ok::<_, AppError>(out)
        })
        .await
}

#[derive(Debug, Clone, Default)]
pub struct RuleInput {
    pub sort_order: Option<i64>,
    pub category: Option<String>,
    pub service: Option<String>,
    pub ci: Option<String>,
    pub group: Option<String>,
}

/// Adds an assignment rule (administrators): incidents of a category, service or CI go to
/// a group.
pub async fn add_rule(
    core: &Core,
    ctx: &Ctx,
    input: RuleInput,
) -> AppResult<sigap_store::task::config::AssignmentRule> {
    ctx.principal.require(Role::Admin)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let group = match &input.group {
                Some(g) => refs::group(tx, "group", &Some(Some(g.clone())), None).await?,
                None => None,
            }
            .ok_or_else(|| AppError::field("group", "required", "is required"))?;
            let category = input
                .category
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned);
            if let Some(c) = &category {
                if !sigap_store::task::config::categories(tx)
                    .await?
                    .iter()
                    .any(|x| &x.code == c)
                {
                    return Err(AppError::field(
                        "category",
                        "invalid_choice",
                        "no such category",
                    ));
                }
            }
            let service = match input
                .service
                .as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
            {
                Some(k) => Some(
                    crate::portfolio::resolve(tx, k)
                        .await?
                        .ok_or_else(|| AppError::field("service", "not_found", "no such service"))?
                        .id,
                ),
                None => None,
            };
            let ci = match input.ci.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                Some(k) => Some(crate::task::resolve_ci(tx, k).await?),
                None => None,
            };
            if category.is_none() && service.is_none() && ci.is_none() {
                return Err(AppError::field(
                    "category",
                    "required",
                    "a rule needs a category, a service or a CI",
                ));
            }
            let rule = sigap_store::task::config::AssignmentRule {
                id: sigap_domain::RuleId::new(),
                sort_order: input.sort_order.unwrap_or(100),
                category,
                service_id: service,
                ci_id: ci,
                group_id: group,
                active: true,
            };
            sigap_store::task::config::insert_rule(tx, &rule).await?;
            audit::record(
                tx,
                &actor,
                now,
                "assignment_rule",
                &rule.id.to_string(),
                "create",
                json!({"group": [null, group.to_string()], "category": [null, rule.category]}),
            )
            .await?;
            Ok(rule)
        })
        .await
}

pub async fn delete_rule(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    ctx.principal.require(Role::Admin)?;
    let id = sigap_domain::RuleId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            if !sigap_store::task::config::delete_rule(tx, id).await? {
                return Err(AppError::NotFound);
            }
            audit::record(
                tx,
                &actor,
                now,
                "assignment_rule",
                &id.to_string(),
                "delete",
                json!({}),
            )
            .await?;
            Ok(())
        })
        .await
}

// ----- attachments -----

pub use crate::attachments::MAX_ATTACHMENT;

/// Attaches a file to an incident: agents, and the caller on their own open incident.
pub async fn attach(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    filename: &str,
    content_type: &str,
    content: Vec<u8>,
) -> AppResult<sigap_store::task::attachments::Attachment> {
    crate::attachments::attach::<IncidentExt>(core, ctx, key, filename, content_type, content).await
}

/// The files attached to an incident.
pub async fn attachments(
    core: &Core,
    ctx: &Ctx,
    key: &str,
) -> AppResult<Vec<sigap_store::task::attachments::Attachment>> {
    crate::attachments::list::<IncidentExt>(core, ctx, key).await
}

/// One attachment with its content, if its incident (or article) is visible.
pub async fn download(
    core: &Core,
    ctx: &Ctx,
    id: &str,
) -> AppResult<(sigap_store::task::attachments::Attachment, Vec<u8>)> {
    crate::attachments::download_any(core, ctx, id).await
}
