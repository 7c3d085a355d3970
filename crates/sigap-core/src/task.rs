//! The task core's use cases: what every process does the same way. Who sees which tasks;
//! finding one by id or number; checking a move against the process's state model; the
//! record of a change (journal, audit log, search index); the journal a reader may see;
//! notifications with their common rules (a new assignee, a group's queue). A process
//! (`incidents`, `problems`) implements `Process` and calls these.

use crate::audit::{self, Actor};
use crate::error::Errors;
use crate::error::{AppError, AppResult};
use crate::principal::Ctx;
use crate::refs::{self, RefChange};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sigap_domain::task::{
    ContactType, JournalKind, Level, MatrixPreset, Priority, PriorityMatrix, StateModel,
};
use sigap_domain::{CiId, PersonId, Role, TaskId, parse_line, parse_text};
use sigap_store::task::journal::{self, JournalEntry};
use sigap_store::task::{
    self as repo, Extension, Record, RecordFields, Task, TaskFields, Visibility, config,
};
use sigap_store::{StoreError, Tx};

/// A process on the task core: its extension, its input and actions, and the hooks the
/// core's create, update and act call. The core does the rest: permissions, the common
/// fields and references, assignment rules, numbering, the journal, the audit log, the
/// search index, notifications' common rules and the SLA clocks.
pub trait Process: Extension + PartialEq {
    /// The audit log's record type and the start of notification kinds: "incident".
    const ENTITY: &'static str;
    /// The agents' pages of the process: "/incidents".
    const PATH: &'static str;
    /// Only the desk (agents and above) sees and works this process's tasks; otherwise a
    /// requester reports and follows their own.
    const DESK_ONLY: bool;
    /// What create and update take: the common fields and the process's own.
    type Input: Send + Sync + 'static;
    /// The process's named actions.
    type Action: Send + Sync + 'static;

    /// Adds the process's own fields to an audit map.
    fn audit(&self, m: &mut Map<String, Value>);
    /// Sets the process's own fields that SLA conditions may look at (`hold_reason`,
    /// `major`).
    fn conditions(&self, s: &mut sigap_domain::sla::Snapshot);
    /// The task's own time to deliver, in seconds, for targets measured against it (a
    /// requested item's delivery time); none by default.
    fn delivery_secs(&self) -> Option<i64> {
        None
    }
    /// The common fields of an input.
    fn task_input(input: &Self::Input) -> &TaskInput;
    /// Applies the process's own plain fields of an input.
    fn apply(input: &Self::Input, f: &mut RecordFields<Self>, errs: &mut Errors);
    /// Once the common references are resolved, before the record is written: the
    /// process's own references, derived fields and checks. `computed` is the priority the
    /// matrix gives.
    fn prepare(
        tx: &mut Tx<'_>,
        ctx: &Ctx,
        input: &Self::Input,
        f: &mut RecordFields<Self>,
        before: Option<&Record<Self>>,
        computed: Priority,
    ) -> impl Future<Output = AppResult<()>> + Send {
        let _ = (tx, ctx, input, before);
        f.priority = computed;
        async { Ok(()) }
    }
    /// Who may do an action, past being allowed to write: by default the desk.
    fn may_act(ctx: &Ctx, task: &Record<Self>, action: &Self::Action) -> AppResult<()> {
        let _ = (task, action);
        if is_staff(ctx) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }
    /// Does an action on the fields of `before`; the core writes them with the step's note.
    fn act(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        before: &Record<Self>,
        f: &mut RecordFields<Self>,
        action: &Self::Action,
    ) -> impl Future<Output = AppResult<Step>> + Send;
    /// Tells the people a change matters to; by default the common assignment rules.
    fn notify(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        before: Option<&Record<Self>>,
        after: &Record<Self>,
        note: Option<&(JournalKind, String)>,
    ) -> impl Future<Output = AppResult<()>> + Send {
        let _ = note;
        async move {
            Notifier::new(actor, after, now)
                .assignment(tx, before.map(|b| &b.task), after)
                .await
        }
    }
    /// After a change is written: its effects on other tasks.
    fn after(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        change: Change<'_, Self>,
        before: Option<&Record<Self>>,
        after: &Record<Self>,
    ) -> impl Future<Output = AppResult<()>> + Send {
        let _ = (tx, actor, now, change, before, after);
        async { Ok(()) }
    }
}

/// What an action did besides its fields: a note for the journal, and whether it answers
/// the caller (a comment from the desk, which meets response targets).
#[derive(Debug, Default)]
pub struct Step {
    pub note: Option<(JournalKind, String)>,
    pub responded: bool,
}

impl Step {
    pub fn note(kind: JournalKind, body: String) -> Self {
        Self {
            note: Some((kind, body)),
            responded: false,
        }
    }
}

/// The change a process's `after` hook follows.
pub enum Change<'a, P: Process> {
    Create(&'a P::Input),
    Update(&'a P::Input),
    Act(&'a P::Action),
}

/// Agents (and above) work tasks; requesters only report and follow their own.
pub fn is_staff(ctx: &Ctx) -> bool {
    ctx.principal.has(Role::Agent)
}

/// Which tasks a reader may see: the provider's agents all, a customer's or supplier's
/// agents their organization's, anyone else their own.
pub fn visibility(ctx: &Ctx) -> AppResult<Visibility> {
    if is_staff(ctx) {
        return Ok(match ctx.principal.scope() {
            None => Visibility::All,
            Some(org) => Visibility::Organization(org),
        });
    }
    Ok(Visibility::Own(ctx.principal.person()?))
}

pub fn visible<S>(v: &Visibility, t: &Task<S>) -> bool {
    match v {
        Visibility::All => true,
        Visibility::Organization(org) => t.organization.as_ref().is_some_and(|o| o.id == *org),
        Visibility::Own(p) => {
            t.caller.as_ref().is_some_and(|c| c.id == *p)
                || t.opened_by.as_ref().is_some_and(|c| c.id == *p)
        }
    }
}

/// A task of E's kind by id or number; another kind's is not found.
pub async fn find<E: Extension>(tx: &mut Tx<'_>, key: &str) -> AppResult<Record<E>> {
    let key = key.trim();
    if let Some(id) = TaskId::parse(key) {
        return match repo::get(tx, id).await {
            Ok(t) => Ok(t),
            Err(StoreError::NotFound) => Err(AppError::NotFound),
            Err(e) => Err(e.into()),
        };
    }
    repo::find_by_number(tx, key)
        .await?
        .ok_or(AppError::NotFound)
}

/// A task by id or number, if the reader may see it (else 404, whether or not it exists).
pub async fn get<P: Process>(core: &crate::Core, ctx: &Ctx, key: &str) -> AppResult<Record<P>> {
    if P::DESK_ONLY {
        ctx.principal.require(Role::Agent)?;
    }
    let v = visibility(ctx)?;
    let key = key.to_owned();
    let t = core
        .store
        .read(async move |tx| find::<P>(tx, &key).await)
        .await?;
    if visible(&v, &t) {
        Ok(t)
    } else {
        Err(AppError::NotFound)
    }
}

/// A task by id or number with its journal as the reader may see it (agents the work notes
/// and changes too, callers the comments), in one read; 404 as [`get`].
pub async fn with_journal<P: Process>(
    core: &crate::Core,
    ctx: &Ctx,
    key: &str,
) -> AppResult<(Record<P>, Vec<JournalEntry>)> {
    if P::DESK_ONLY {
        ctx.principal.require(Role::Agent)?;
    }
    let v = visibility(ctx)?;
    let staff = is_staff(ctx);
    let key = key.to_owned();
    core.store
        .read(async move |tx| {
            let key = key.trim();
            let by = TaskId::parse(key).ok_or(key);
            match repo::find_with_journal::<P>(tx, by, staff).await? {
                Some((t, journal)) if visible(&v, &t) => Ok((t, journal)),
                _ => Err(AppError::NotFound),
            }
        })
        .await
}

/// Creates a task of P from `f` (the process's defaults) and an input: the common fields,
/// the references, the assignment rules, the process's own preparation, a number, the
/// record of the change, notifications, SLA clocks, and the process's `after` hook.
pub async fn create<P: Process>(
    core: &crate::Core,
    ctx: &Ctx,
    input: P::Input,
    f: RecordFields<P>,
) -> AppResult<Record<P>> {
    let f = checked(ctx, &input, f)?;
    let (actor, now, ctx) = (Actor::of(ctx), core.now(), ctx.clone());
    core.store
        .write(async move |tx| create_in(tx, &ctx, &actor, now, &input, f.clone()).await)
        .await
}

/// The fields of a new task of P: the defaults `f` with the input applied, if the caller may
/// create it and the input holds.
pub fn checked<P: Process>(
    ctx: &Ctx,
    input: &P::Input,
    mut f: RecordFields<P>,
) -> AppResult<RecordFields<P>> {
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    if P::DESK_ONLY {
        ctx.principal.require(Role::Agent)?;
    }
    let t = P::task_input(input);
    if t.short_description.is_none() {
        return Err(AppError::field(
            "short_description",
            "required",
            "is required",
        ));
    }
    let mut errs = Errors::new();
    apply_plain(t, &mut f.task, &mut errs);
    P::apply(input, &mut f, &mut errs);
    errs.finish()?;
    Ok(f)
}

/// Creates a task of P in the caller's transaction, from fields the input was already
/// applied to (`create` checks and applies it): the references, the assignment rules, the
/// process's own preparation, the task, and the process's `after` hook.
pub async fn create_in<P: Process>(
    tx: &mut Tx<'_>,
    ctx: &Ctx,
    actor: &Actor,
    now: Timestamp,
    input: &P::Input,
    mut f: RecordFields<P>,
) -> AppResult<Record<P>> {
    let t = P::task_input(input);
    let computed = resolve_refs(tx, ctx, t, &mut f.task, None).await?;
    let scope = ctx.principal.scope();
    let location = refs::location(tx, "location", &t.location, None, scope).await?;
    if f.assignment_group_id.is_none() {
        f.assignment_group_id = rule_group(tx, &f.task).await?;
    }
    P::prepare(tx, ctx, input, &mut f, None, computed).await?;
    let r = open_in(tx, actor, now, &f, location).await?;
    P::after(tx, actor, now, Change::Create(input), None, &r).await?;
    Ok(r)
}

/// Writes a new task of P from its fields in the caller's transaction: a number, the
/// record, its location, the record of the change, notifications and SLA clocks.
pub async fn open_in<P: Process>(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    f: &RecordFields<P>,
    location: Option<sigap_domain::LocationId>,
) -> AppResult<Record<P>> {
    let mut r = repo::insert_next(tx, TaskId::new(), f, now).await?;
    if location.is_some() {
        repo::set_location(tx, r.id, location).await?;
        r = repo::get(tx, r.id).await?;
    }
    record_change(tx, actor, now, None, &r, "create").await?;
    P::notify(tx, actor, now, None, &r, None).await?;
    crate::sla::on_task_change(tx, &r, false, now).await?;
    Ok(r)
}

/// Changes a task's fields (the desk), recomputing its priority in the same write.
pub async fn update<P: Process>(
    core: &crate::Core,
    ctx: &Ctx,
    key: &str,
    input: P::Input,
    if_match: Option<i64>,
) -> AppResult<Record<P>> {
    if !is_staff(ctx) || !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let current = get::<P>(core, ctx, key).await?;
    let (actor, now, ctx) = (Actor::of(ctx), core.now(), ctx.clone());
    core.store
        .write(async move |tx| {
            let before: Record<P> = repo::get(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            not_final(before.state)?;
            let mut f = before.fields();
            let t = P::task_input(&input);
            let mut errs = Errors::new();
            apply_plain(t, &mut f.task, &mut errs);
            P::apply(&input, &mut f, &mut errs);
            errs.finish()?;
            let computed = resolve_refs(tx, &ctx, t, &mut f.task, Some(&before.task)).await?;
            let (was, scope) = (before.location_id(), ctx.principal.scope());
            let location = refs::location(tx, "location", &t.location, was, scope).await?;
            P::prepare(tx, &ctx, &input, &mut f, Some(&before), computed).await?;
            if location != was {
                // Written first: the update below counts the version and reads it back.
                repo::set_location(tx, before.id, location).await?;
            }
            let after = crate::written(
                repo::update(tx, before.id, &f, before.version, now).await,
                if_match,
            )?;
            record_change(tx, &actor, now, Some(&before), &after, "update").await?;
            P::notify(tx, &actor, now, Some(&before), &after, None).await?;
            crate::sla::on_task_change(tx, &after, false, now).await?;
            P::after(
                tx,
                &actor,
                now,
                Change::Update(&input),
                Some(&before),
                &after,
            )
            .await?;
            Ok(after)
        })
        .await
}

/// Does one of a process's named actions: the process changes the fields (checking the
/// move against its state model), the core writes them with the action's note.
pub async fn act<P: Process>(
    core: &crate::Core,
    ctx: &Ctx,
    key: &str,
    action: P::Action,
    if_match: Option<i64>,
) -> AppResult<Record<P>> {
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let current = get::<P>(core, ctx, key).await?;
    P::may_act(ctx, &current, &action)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| act_in(tx, &actor, now, current.id, &action, if_match).await)
        .await
}

/// Does one of a process's named actions on a task in the caller's transaction (the caller
/// checked that the actor may: `may_act`).
pub async fn act_in<P: Process>(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    id: TaskId,
    action: &P::Action,
    if_match: Option<i64>,
) -> AppResult<Record<P>> {
    let before: Record<P> = repo::get(tx, id).await?;
    crate::check_version(if_match, before.version)?;
    let mut f = before.fields();
    let step = P::act(tx, actor, now, &before, &mut f, action).await?;
    let after = save(tx, actor, now, &before, &f, step, if_match).await?;
    P::after(tx, actor, now, Change::Act(action), Some(&before), &after).await?;
    Ok(after)
}

/// Writes a change of a task in the caller's transaction: the step's note in its journal,
/// the fields when they changed (a new version, with the record of the change),
/// notifications, and its SLA clocks. A note alone (a link to a problem) writes no version
/// and moves no clock unless it answers the caller.
pub async fn save<P: Process>(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    before: &Record<P>,
    f: &RecordFields<P>,
    step: Step,
    if_match: Option<i64>,
) -> AppResult<Record<P>> {
    if let Some((kind, body)) = &step.note {
        add_note(tx, actor, before.id, *kind, body, now).await?;
    }
    let changed = *f != before.fields();
    let after = if changed {
        let after = crate::written(
            repo::update(tx, before.id, f, before.version, now).await,
            if_match,
        )?;
        record_change(tx, actor, now, Some(before), &after, "update").await?;
        after
    } else {
        before.clone()
    };
    P::notify(tx, actor, now, Some(before), &after, step.note.as_ref()).await?;
    if changed || step.responded {
        crate::sla::on_task_change(tx, &after, step.responded, now).await?;
    }
    Ok(after)
}

/// The group the first matching assignment rule names (by category, service and CI).
pub async fn rule_group<S>(
    tx: &mut Tx<'_>,
    f: &TaskFields<S>,
) -> AppResult<Option<sigap_domain::GroupId>> {
    for r in config::rules(tx).await? {
        if !r.active {
            continue;
        }
        let cat = r
            .category
            .as_ref()
            .is_none_or(|c| f.category.as_ref() == Some(c));
        let svc = r.service_id.is_none_or(|s| f.service_id == Some(s));
        let ci = r.ci_id.is_none_or(|c| f.ci_id == Some(c));
        let specific = r.category.is_some() || r.service_id.is_some() || r.ci_id.is_some();
        if cat && svc && ci && specific {
            return Ok(Some(r.group_id));
        }
    }
    Ok(None)
}

/// The tasks of E's kind for keys (numbers or ids) given in `field`, each once; a key not
/// found is a field error naming its position.
pub async fn find_all<E: Extension>(
    tx: &mut Tx<'_>,
    field: &str,
    keys: &[String],
) -> AppResult<Vec<Record<E>>> {
    let mut out: Vec<Record<E>> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let r = match find::<E>(tx, key).await {
            Ok(found) => found,
            Err(AppError::NotFound) => {
                return Err(AppError::field(
                    &format!("{field}.{i}"),
                    "not_found",
                    format!("no such {} {key:?}", E::State::NOUN),
                ));
            }
            Err(e) => return Err(e),
        };
        if !out.iter().any(|x| x.id == r.id) {
            out.push(r);
        }
    }
    Ok(out)
}

/// A task's journal as its reader may see it: agents the work notes and changes too,
/// callers the comments.
pub async fn journal_of(
    core: &crate::Core,
    ctx: &Ctx,
    task: TaskId,
) -> AppResult<Vec<JournalEntry>> {
    let staff = is_staff(ctx);
    Ok(core
        .store
        .read(async move |tx| journal::entries(tx, task, staff).await)
        .await?)
}

/// Checks a move against the process's state model: 409 naming the allowed moves.
pub fn transition<S: StateModel>(from: S, to: S) -> AppResult<()> {
    from.check(to).map_err(|e| AppError::Conflict {
        code: e.code,
        message: e.message,
        field: Some("state".into()),
    })
}

/// 409 for a finished task that is asked to change.
pub fn not_final<S: StateModel>(state: S) -> AppResult<()> {
    if state.is_final() {
        return Err(AppError::Conflict {
            code: "final_state",
            message: format!("a {state} {} cannot change", S::NOUN),
            field: None,
        });
    }
    Ok(())
}

/// What every task shows in the audit log and its journal's field changes.
fn audit_common<S: StateModel>(t: &Task<S>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("short_description".into(), json!(t.short_description));
    m.insert("description".into(), json!(t.description));
    m.insert("state".into(), json!(t.state.code()));
    m.insert("impact".into(), json!(t.impact.get()));
    m.insert("urgency".into(), json!(t.urgency.get()));
    m.insert("priority".into(), json!(t.priority.get()));
    let login =
        |p: &Option<sigap_store::groups::PersonRef>| json!(p.as_ref().map(|p| p.login.clone()));
    m.insert("caller".into(), login(&t.caller));
    m.insert(
        "assignment_group".into(),
        json!(t.assignment_group.as_ref().map(|g| g.name.clone())),
    );
    m.insert("assigned_to".into(), login(&t.assigned_to));
    let name = |n: Option<&String>| json!(n.cloned());
    m.insert("service".into(), name(t.service.as_ref().map(|s| &s.name)));
    m.insert(
        "offering".into(),
        name(t.offering.as_ref().map(|s| &s.name)),
    );
    m.insert("parent".into(), name(t.parent.as_ref().map(|s| &s.name)));
    m.insert(
        "configuration_item".into(),
        name(t.ci.as_ref().map(|s| &s.name)),
    );
    m.insert("category".into(), json!(t.category));
    m.insert("subcategory".into(), json!(t.subcategory));
    m.insert(
        "location".into(),
        name(t.location.as_ref().map(|s| &s.name)),
    );
    m.insert("contact_type".into(), json!(t.contact_type.code()));
    m.insert("reassignment_count".into(), json!(t.reassignment_count));
    m.insert("reopen_count".into(), json!(t.reopen_count));
    m
}

/// A task as the audit log records it: the common fields and the process's own.
pub fn audit_map<P: Process>(r: &Record<P>) -> Map<String, Value> {
    let mut m = audit_common(&r.task);
    r.ext.audit(&mut m);
    m
}

/// Writes a comment or work note into a task's journal by the actor, and the task's search
/// document again.
pub async fn add_note(
    tx: &mut Tx<'_>,
    actor: &Actor,
    task: TaskId,
    kind: JournalKind,
    body: &str,
    now: Timestamp,
) -> AppResult<()> {
    journal::add_entry(tx, task, kind, actor.id, &actor.name, body, None, now).await?;
    repo::reindex(tx, task).await?;
    Ok(())
}

/// The sort fields every task list takes.
pub const SORT_FIELDS: &[(&str, sigap_store::task::TaskSort)] = &[
    ("number", sigap_store::task::TaskSort::Number),
    ("priority", sigap_store::task::TaskSort::Priority),
    ("opened_at", sigap_store::task::TaskSort::OpenedAt),
    ("updated_at", sigap_store::task::TaskSort::UpdatedAt),
];

/// Records a change: the changed fields in the journal, the audit log, and the search
/// index.
pub async fn record_change<P: Process>(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    before: Option<&Record<P>>,
    after: &Record<P>,
    action: &'static str,
) -> AppResult<()> {
    let b = before.map(audit_map);
    let a = audit_map(after);
    let mut changes = audit::diff(b.as_ref(), Some(&a));
    // A new task's journal names the fields it was given, not every empty one (the audit log
    // keeps them all).
    if let (None, Some(m)) = (&b, changes.as_object_mut()) {
        m.retain(|_, v| !v.get(1).is_none_or(blank));
    }
    if changes.as_object().is_some_and(|m| !m.is_empty()) {
        change_entry(tx, actor, after.id, &changes, now).await?;
    }
    audit::record_diff(
        tx,
        actor,
        now,
        P::ENTITY,
        &after.id.to_string(),
        action,
        b.as_ref(),
        Some(&a),
    )
    .await?;
    // A new task got its search document with its insert.
    if before.is_some() {
        repo::reindex(tx, after.id).await?;
    }
    Ok(())
}

/// Writes field changes (`{ field: [before, after] }`) into a task's journal by the actor.
pub async fn change_entry(
    tx: &mut Tx<'_>,
    actor: &Actor,
    task: TaskId,
    changes: &Value,
    now: Timestamp,
) -> AppResult<()> {
    let (kind, who) = (JournalKind::Change, actor.id);
    journal::add_entry(tx, task, kind, who, &actor.name, "", Some(changes), now).await?;
    Ok(())
}

/// A value that says nothing on a new task: empty, false or zero.
fn blank(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_i64() == Some(0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// Sends in-app notifications about one change of a task: never to the person who made it,
/// and each kind once per person. Kinds are the process's entity and an event
/// (`incident_assigned`), rendered through the locale files when shown.
pub struct Notifier {
    actor: Option<PersonId>,
    task_id: TaskId,
    subject: String,
    now: Timestamp,
    entity: &'static str,
    sent: Vec<(PersonId, String)>,
    pub desk_link: String,
}

impl Notifier {
    pub fn new<P: Process>(actor: &Actor, task: &Record<P>, now: Timestamp) -> Self {
        Self {
            actor: actor.id,
            task_id: task.id,
            subject: format!("{} {}", task.number, task.short_description),
            now,
            entity: P::ENTITY,
            sent: Vec::new(),
            desk_link: format!("{}/{}", P::PATH, task.number),
        }
    }

    /// Tells `who` of `event` (with a body and where to look).
    pub async fn send(
        &mut self,
        tx: &mut Tx<'_>,
        who: Option<PersonId>,
        event: &str,
        body: &str,
        link: &str,
    ) -> AppResult<()> {
        let Some(who) = who else { return Ok(()) };
        let kind = format!("{}_{event}", self.entity);
        if Some(who) == self.actor || self.sent.iter().any(|(p, k)| *p == who && *k == kind) {
            return Ok(());
        }
        crate::notifications::send(
            tx,
            &sigap_store::notifications::NewNotification {
                person_id: who,
                kind: &kind,
                subject: &self.subject,
                body,
                link,
                task_id: Some(self.task_id),
            },
            self.now,
        )
        .await?;
        self.sent.push((who, kind));
        Ok(())
    }

    /// The rules every task shares: a new assignee hears of it (`assigned`); a task that
    /// moved to a group without an assignee reaches the group's members (`queued`).
    pub async fn assignment<S>(
        &mut self,
        tx: &mut Tx<'_>,
        before: Option<&Task<S>>,
        after: &Task<S>,
    ) -> AppResult<()> {
        let link = self.desk_link.clone();
        let assignee = after.assigned_to.as_ref().map(|p| p.id);
        let assignee_moved = before.map(|b| b.assigned_to.as_ref().map(|p| p.id)) != Some(assignee);
        if assignee_moved && assignee.is_some() {
            self.send(tx, assignee, "assigned", "", &link).await?;
        }
        let group = after.assignment_group.as_ref().map(|g| g.id);
        let group_moved = before.map(|b| b.assignment_group.as_ref().map(|g| g.id)) != Some(group);
        if group_moved && assignee.is_none() {
            if let Some(g) = group {
                for m in sigap_store::groups::members(tx, g).await? {
                    self.send(tx, Some(m.id), "queued", "", &link).await?;
                }
            }
        }
        Ok(())
    }
}

// ----- input -----

/// The fields every task's input may carry (a process's input adds its own). `None` leaves
/// a field as it is; a reference or an optional text set to `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    pub short_description: Option<String>,
    pub description: Option<String>,
    pub caller: RefChange,
    pub contact_type: Option<String>,
    pub impact: Option<i64>,
    pub urgency: Option<i64>,
    pub assignment_group: RefChange,
    pub assigned_to: RefChange,
    pub service: RefChange,
    /// An offering of the service (its id); the service follows the offering.
    pub offering: RefChange,
    pub ci: RefChange,
    pub category: Option<Option<String>>,
    pub subcategory: Option<Option<String>>,
    /// Where it happens: a location's id or name.
    pub location: RefChange,
}

impl TaskInput {
    /// A new task about the same as `t` (a problem from an incident, say): its short
    /// description, description, impact, urgency, service, CI and category.
    pub fn like<S>(t: &Task<S>) -> TaskInput {
        TaskInput {
            short_description: Some(t.short_description.clone()),
            description: Some(t.description.clone()),
            impact: Some(t.impact.get()),
            urgency: Some(t.urgency.get()),
            service: t.service.as_ref().map(|s| Some(s.id.to_string())),
            ci: t.ci.as_ref().map(|c| Some(c.id.to_string())),
            category: t.category.clone().map(Some),
            ..TaskInput::default()
        }
    }
}

/// The details of a named action as texts by name: the fields of an API body or a form.
#[derive(Debug, Clone, Default)]
pub struct Args(pub Vec<(String, String)>);

impl Args {
    /// The fields of a JSON object (true and false as texts; null as absent).
    pub fn json(v: &impl serde::Serialize) -> Args {
        let fields = match serde_json::to_value(v) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        let text = |v: Value| match v {
            Value::Null => None,
            Value::String(s) => Some(s),
            other => Some(other.to_string()),
        };
        Args(
            fields
                .into_iter()
                .filter_map(|(k, v)| Some((k, text(v)?)))
                .collect(),
        )
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The text of `name`, checked, refused as required when absent or blank.
    pub fn required(&self, name: &str) -> AppResult<String> {
        required(name, self.get(name).unwrap_or_default())
    }

    /// The text of `name`, checked; empty when absent.
    pub fn optional(&self, name: &str) -> AppResult<String> {
        sigap_domain::parse_text(self.get(name).unwrap_or_default(), 20_000)
            .map_err(|e| AppError::field(name, e.code, e.message))
    }

    /// Whether `name` is `true`; `default` when absent.
    pub fn flag(&self, name: &str, default: bool) -> bool {
        self.get(name).map_or(default, |v| v == "true")
    }
}

/// A long text of an input, checked, into `into` (left as it is when not given).
pub fn set_text(errs: &mut Errors, field: &str, v: &Option<String>, into: &mut String) {
    if let Some(t) = v
        .as_ref()
        .and_then(|t| errs.take(field, parse_text(t, 32_000)))
    {
        *into = t;
    }
}

/// A text a step needs: trimmed, checked and not empty.
pub fn nonempty(text: &str) -> Result<String, sigap_domain::InvalidValue> {
    let t = parse_text(text.trim(), 32_000)?;
    if t.is_empty() {
        return Err(sigap_domain::InvalidValue::new("required", "is required"));
    }
    Ok(t)
}

/// `nonempty` as the error of `field`.
pub fn required(field: &str, text: &str) -> AppResult<String> {
    nonempty(text)
        .map_err(|e| AppError::Validation(vec![crate::FieldError::from_invalid(field, e)]))
}

/// A field a step needs filled, refused with `message` when empty.
pub fn needs(field: &str, value: &str, message: &str) -> AppResult<()> {
    if value.trim().is_empty() {
        return Err(AppError::field(field, "required", message.to_owned()));
    }
    Ok(())
}

fn opt_text(
    errs: &mut Errors,
    field: &str,
    v: &Option<Option<String>>,
    current: Option<String>,
) -> Option<String> {
    match v {
        None => current,
        Some(None) => None,
        Some(Some(t)) if t.trim().is_empty() => None,
        Some(Some(t)) => errs.take(field, parse_line(t, 100)),
    }
}

/// Applies the plain common fields of an input; references are resolved by `resolve_refs`.
pub fn apply_plain<S>(input: &TaskInput, f: &mut TaskFields<S>, errs: &mut Errors) {
    if let Some(t) = &input.short_description {
        if let Some(t) = errs.take("short_description", parse_line(t, 160)) {
            f.short_description = t;
        }
    }
    if let Some(t) = &input.description {
        if let Some(t) = errs.take("description", parse_text(t, 32_000)) {
            f.description = t;
        }
    }
    if let Some(c) = &input.contact_type {
        if let Some(c) = errs.take("contact_type", ContactType::parse(c)) {
            f.contact_type = c;
        }
    }
    if let Some(i) = input.impact {
        if let Some(i) = errs.take("impact", Level::parse(i)) {
            f.impact = i;
        }
    }
    if let Some(u) = input.urgency {
        if let Some(u) = errs.take("urgency", Level::parse(u)) {
            f.urgency = u;
        }
    }
    f.category = opt_text(errs, "category", &input.category, f.category.clone());
    f.subcategory = opt_text(
        errs,
        "subcategory",
        &input.subcategory,
        f.subcategory.clone(),
    );
}

/// A reference's key as given: `None` unchanged, `Some(None)` cleared.
pub fn refs_key(change: &RefChange) -> Option<Option<String>> {
    change.as_ref().map(|v| {
        v.as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
    })
}

pub async fn resolve_ci(tx: &mut Tx<'_>, key: &str) -> AppResult<CiId> {
    match crate::cmdb::resolve_ci(tx, key).await? {
        Some(c) => Ok(c.id),
        None => Err(AppError::field(
            "configuration_item",
            "not_found",
            "no such configuration item",
        )),
    }
}

/// Resolves the common references of an input (people and the group for agents, the
/// service and its offering, the CI), takes the organization from the caller, checks the
/// category and subcategory and that the assignee is in the group, and counts a
/// reassignment. Returns the priority the matrix gives the impact and urgency (a process
/// may let it be overridden).
pub async fn resolve_refs<S>(
    tx: &mut Tx<'_>,
    ctx: &Ctx,
    input: &TaskInput,
    f: &mut TaskFields<S>,
    before: Option<&Task<S>>,
) -> AppResult<Priority> {
    if is_staff(ctx) {
        f.caller_id = refs::person(tx, "caller", &input.caller, f.caller_id).await?;
        f.assignment_group_id = refs::group(
            tx,
            "assignment_group",
            &input.assignment_group,
            f.assignment_group_id,
        )
        .await?;
        f.assigned_to_id =
            refs::person(tx, "assigned_to", &input.assigned_to, f.assigned_to_id).await?;
    }
    f.service_id = match refs_key(&input.service) {
        None => f.service_id,
        Some(None) => None,
        Some(Some(k)) => Some(
            crate::portfolio::resolve(tx, &k)
                .await?
                .ok_or_else(|| AppError::field("service", "not_found", "no such service"))?
                .id,
        ),
    };
    f.offering_id = match refs_key(&input.offering) {
        None => f.offering_id,
        Some(None) => None,
        Some(Some(k)) => {
            let o = match sigap_domain::OfferingId::parse(&k) {
                Some(id) => match sigap_store::portfolio::get_offering(tx, id).await {
                    Ok(o) => Some(o),
                    Err(StoreError::NotFound) => None,
                    Err(e) => return Err(e.into()),
                },
                None => None,
            }
            .filter(|o| o.active)
            .ok_or_else(|| AppError::field("offering", "not_found", "no such offering"))?;
            match f.service_id {
                Some(s) if s != o.service_id && refs_key(&input.service).is_some() => {
                    return Err(AppError::field(
                        "offering",
                        "mismatch",
                        "the offering belongs to another service",
                    ));
                }
                _ => f.service_id = Some(o.service_id),
            }
            Some(o.id)
        }
    };
    // An offering of another service goes when the service changes.
    if let (Some(o), Some(s)) = (f.offering_id, f.service_id) {
        if refs_key(&input.offering).is_none()
            && sigap_store::portfolio::get_offering(tx, o)
                .await?
                .service_id
                != s
        {
            f.offering_id = None;
        }
    } else if f.service_id.is_none() {
        f.offering_id = None;
    }
    f.ci_id = match refs_key(&input.ci) {
        None => f.ci_id,
        Some(None) => None,
        Some(Some(k)) => Some(resolve_ci(tx, &k).await?),
    };
    // The caller's organization is the task's (the principal's own, read with it, when the
    // caller is the one acting).
    if let Some(caller) = f.caller_id {
        f.organization_id = if ctx.principal.person_id == Some(caller) {
            ctx.principal.organization.as_ref().map(|o| o.id)
        } else {
            sigap_store::people::get(tx, caller)
                .await?
                .organization
                .map(|o| o.id)
        };
    }
    if let Some(cat) = &f.category {
        let cats = config::categories(tx).await?;
        if !cats
            .iter()
            .any(|c| &c.code == cat && c.parent_code.is_none() && c.active)
        {
            return Err(AppError::field(
                "category",
                "invalid_choice",
                "no such category",
            ));
        }
        if let Some(sub) = &f.subcategory {
            if !cats
                .iter()
                .any(|c| &c.code == sub && c.parent_code.as_ref() == Some(cat) && c.active)
            {
                return Err(AppError::field(
                    "subcategory",
                    "invalid_choice",
                    "not a subcategory of the category",
                ));
            }
        }
    } else if f.subcategory.is_some() {
        return Err(AppError::field(
            "subcategory",
            "invalid_choice",
            "needs a category",
        ));
    }
    if let Some(person) = f.assigned_to_id {
        let Some(group) = f.assignment_group_id else {
            return Err(AppError::field(
                "assigned_to",
                "group_required",
                "choose an assignment group first",
            ));
        };
        let members = sigap_store::groups::members(tx, group).await?;
        if !members.iter().any(|m| m.id == person) {
            return Err(AppError::field(
                "assigned_to",
                "not_a_member",
                "the assignee must be a member of the assignment group",
            ));
        }
    }
    // Reassignments count once the task had an assignment.
    if let Some(b) = before {
        let group_moved = b.assignment_group.as_ref().map(|g| g.id) != f.assignment_group_id;
        let person_moved = b.assigned_to.as_ref().map(|p| p.id) != f.assigned_to_id;
        if (group_moved && b.assignment_group.is_some())
            || (person_moved && b.assigned_to.is_some())
        {
            f.reassignment_count += 1;
        }
    }
    Ok(matrix_in(tx).await?.priority(f.impact, f.urgency))
}

/// The current priority matrix (the ITIL one until the administrator sets a complete one).
pub async fn matrix_in(tx: &mut Tx<'_>) -> AppResult<PriorityMatrix> {
    let rows = config::matrix_rows(tx).await?;
    Ok(PriorityMatrix::new(rows).unwrap_or_else(|_| PriorityMatrix::preset(MatrixPreset::Itil)))
}

// ----- export -----

/// The columns a task export may have, in order.
pub const EXPORT_COLUMNS: &[&str] = &[
    "number",
    "short_description",
    "caller",
    "priority",
    "state",
    "assignment_group",
    "assigned_to",
    "updated",
    "opened",
    "category",
    "service",
    "configuration_item",
    "location",
    "reopen_count",
];

/// A list's tasks as CSV, every page `list` gives for a page request: the columns asked
/// (comma separated, from `EXPORT_COLUMNS`; a queue's time-left column `sla` is left out;
/// none: all), streamed with no cap (or up to `limit`).
pub async fn export<E, F, Fut>(
    name: &'static str,
    cols: Option<&str>,
    sort: Option<String>,
    limit: Option<u64>,
    list: F,
) -> AppResult<crate::export::CsvStream>
where
    E: Extension,
    F: Fn(crate::listing::ListParams) -> Fut + Send + Sync + 'static,
    Fut:
        std::future::Future<Output = AppResult<crate::listing::Listed<Record<E>>>> + Send + 'static,
{
    let cols: Vec<&'static str> = match cols.map(str::trim).filter(|c| !c.is_empty()) {
        None => EXPORT_COLUMNS.to_vec(),
        Some(c) => {
            let asked: Vec<&str> = c
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && *c != "sla")
                .collect();
            if let Some(bad) = asked.iter().find(|c| !EXPORT_COLUMNS.contains(c)) {
                let message = format!("{bad:?} is not a column; use {}", EXPORT_COLUMNS.join(", "));
                return Err(AppError::field("cols", "unknown_column", message));
            }
            EXPORT_COLUMNS
                .iter()
                .copied()
                .filter(|c| asked.contains(c))
                .collect()
        }
    };
    let header = cols.iter().map(|c| (*c).to_owned()).collect();
    let list = std::sync::Arc::new(list);
    crate::export::stream(name, header, limit, move |cursor| {
        let (list, cols, sort) = (list.clone(), cols.clone(), sort.clone());
        async move {
            let params = crate::listing::ListParams {
                sort,
                limit: Some(crate::listing::MAX_LIMIT),
                cursor,
            };
            let page = list(params).await?;
            let rows = page
                .items
                .iter()
                .map(|t| cols.iter().map(|c| export_cell(t, c)).collect())
                .collect();
            Ok((rows, page.next_cursor))
        }
    })
    .await
}

/// One cell of a task's line in an export: references by login or name, times in RFC 3339.
fn export_cell<S: StateModel>(t: &Task<S>, column: &str) -> String {
    fn name<T>(r: &Option<sigap_store::task::NamedRef<T>>) -> String {
        r.as_ref().map(|x| x.name.clone()).unwrap_or_default()
    }
    let login = |p: &Option<sigap_store::groups::PersonRef>| {
        p.as_ref().map(|p| p.login.clone()).unwrap_or_default()
    };
    match column {
        "number" => t.number.clone(),
        "short_description" => t.short_description.clone(),
        "caller" => login(&t.caller),
        "priority" => t.priority.get().to_string(),
        "state" => t.state.code().into(),
        "assignment_group" => t
            .assignment_group
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_default(),
        "assigned_to" => login(&t.assigned_to),
        "updated" => t.updated_at.to_string(),
        "opened" => t.opened_at.to_string(),
        "category" => t.category.clone().unwrap_or_default(),
        "service" => name(&t.service),
        "configuration_item" => name(&t.ci),
        "location" => name(&t.location),
        "reopen_count" => t.reopen_count.to_string(),
        _ => String::new(),
    }
}

// ----- lists -----

/// What every task list may be narrowed to; texts as a query string gives them, keys as
/// ids, numbers, logins or names.
#[derive(Debug, Clone, Default)]
pub struct TaskQuery {
    /// States, separated by commas; `open` for every open one.
    pub state: Option<String>,
    /// A ready-made queue: `mine`, `my_groups` or `unassigned` (open tasks unless states
    /// are given).
    pub queue: Option<String>,
    pub assignment_group: Option<String>,
    pub assigned_to: Option<String>,
    pub priority: Option<String>,
    pub service: Option<String>,
    pub ci: Option<String>,
    pub category: Option<String>,
    /// The caller's id or login.
    pub caller: Option<String>,
    /// Children of this task (number or id).
    pub parent: Option<String>,
    /// Location id or name.
    pub location: Option<String>,
    pub q: Option<String>,
}

/// A key given, trimmed; an empty one is no key.
fn key(k: Option<String>) -> Option<String> {
    k.map(|k| k.trim().to_owned()).filter(|k| !k.is_empty())
}

/// A page of a process's tasks the reader may see, narrowed by the common query and the
/// process's own conditions, sorted by `params` (else `default_sort`).
pub async fn list<P: Process>(
    core: &crate::Core,
    ctx: &Ctx,
    query: TaskQuery,
    ext: Vec<sigap_store::task::ExtCondition>,
    params: &crate::listing::ListParams,
    default_sort: &str,
) -> AppResult<crate::listing::Listed<Record<P>>> {
    if P::DESK_ONLY {
        ctx.principal.require(Role::Agent)?;
    }
    let page = crate::listing::PageRequest::parse(params, SORT_FIELDS, default_sort)?;
    let mut filter = sigap_store::task::TaskFilter::<P::State> {
        visibility: visibility(ctx)?,
        q: key(query.q),
        category: key(query.category),
        ext,
        ..Default::default()
    };
    let open = || P::State::all().iter().copied().filter(|s| s.is_open());
    for s in query.state.iter().flat_map(|s| s.split(',')).map(str::trim) {
        match s {
            "" => {}
            "open" => filter.states.extend(open()),
            s => filter.states.push(P::State::parse_code(s).map_err(|e| {
                AppError::Validation(vec![crate::FieldError::from_invalid("state", e)])
            })?),
        }
    }
    if let Some(p) = key(query.priority) {
        let p = p
            .parse::<i64>()
            .ok()
            .and_then(|p| Priority::parse(p).ok())
            .ok_or_else(|| AppError::field("priority", "out_of_range", "must be 1 to 5"))?;
        filter.priority = Some(p.get());
    }
    let me = ctx.principal.person_id;
    let v = filter.visibility.clone();
    let p2 = page.clone();
    let result = core
        .store
        .read(async move |tx| {
            let mut filter = filter.clone();
            let queue = key(query.queue.clone());
            match queue.as_deref() {
                None => {}
                Some("mine") => filter.assigned_to = Some(me.ok_or(AppError::Forbidden)?),
                Some("my_groups") => {
                    let person = me.ok_or(AppError::Forbidden)?;
                    let groups = sigap_store::groups::of_person(tx, person).await?;
                    filter.groups = groups.iter().map(|g| g.id).collect();
                    if filter.groups.is_empty() {
                        return Ok(sigap_store::list::Page {
                            items: Vec::new(),
                            next: None,
                        });
                    }
                }
                Some("unassigned") => filter.unassigned = true,
                Some(other) => {
                    return Err(AppError::field(
                        "queue",
                        "invalid_choice",
                        format!("{other:?} is not a queue"),
                    ));
                }
            }
            if queue.is_some() && filter.states.is_empty() {
                filter.states = open().collect();
            }
            if let Some(g) = key(query.assignment_group.clone()) {
                let g = Some(Some(g));
                filter.assignment_group = refs::group(tx, "assignment_group", &g, None).await?;
            }
            if let Some(a) = key(query.assigned_to.clone()) {
                let a = Some(Some(a));
                filter.assigned_to = refs::person(tx, "assigned_to", &a, None).await?;
            }
            if let Some(c) = key(query.caller.clone()) {
                filter.caller = refs::person(tx, "caller", &Some(Some(c)), None).await?;
            }
            if let Some(k) = key(query.service.clone()) {
                let s = crate::portfolio::resolve(tx, &k)
                    .await?
                    .ok_or_else(|| AppError::field("service", "not_found", "no such service"))?;
                filter.service = Some(s.id);
            }
            if let Some(k) = key(query.ci.clone()) {
                filter.ci = Some(resolve_ci(tx, &k).await?);
            }
            if let Some(k) = key(query.parent.clone()) {
                let not_found = || AppError::field("parent", "not_found", "no such task");
                let parent = match find::<P>(tx, &k).await {
                    Ok(p) if visible(&v, &p) => p,
                    Ok(_) | Err(AppError::NotFound) => return Err(not_found()),
                    Err(e) => return Err(e),
                };
                filter.parent = Some(parent.id);
            }
            if let Some(k) = key(query.location.clone()) {
                let l = crate::locations::resolve(tx, &k)
                    .await?
                    .ok_or_else(|| AppError::field("location", "not_found", "no such location"))?;
                filter.location = Some(l.id);
            }
            let (after, limit) = (p2.after.as_deref(), p2.limit);
            Ok::<_, AppError>(repo::list(tx, &filter, &p2.sort, after, limit).await?)
        })
        .await?;
    Ok(page.finish(result, |t| t))
}
