//! Problem management on the task core: problems found from incidents (one or many, or a
//! trend of incidents no problem explains), analysed to their root cause, their work-around
//! published to the incidents they cause, known errors agents find beside an incident, and
//! the fix that resolves the problem and, in the same step, its incidents.

use crate::Core;
use crate::audit::Actor;
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::incidents;
use crate::listing::{ListParams, Listed, PageRequest, parse_bool, parse_opt};
use crate::principal::Ctx;
use crate::task::{self as core_task, Notifier, Process, TaskInput};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sigap_domain::process::incident::{HoldReason, IncidentState};
use sigap_domain::process::problem::{ProblemResolution, ProblemState};
use sigap_domain::task::{JournalKind, StateModel};
use sigap_domain::{Role, TaskId, parse_line, parse_text};
use sigap_store::Tx;
use sigap_store::incidents::Incident;
use sigap_store::problems::{
    self as repo, Problem, ProblemExt, ProblemFields, ProblemFilter, Trend, TrendBy,
};
use sigap_store::task::journal::JournalEntry;
use sigap_store::task::{TaskFields, TaskSort};

impl Process for ProblemExt {
    const ENTITY: &'static str = "problem";
    const PATH: &'static str = "/problems";
    fn audit(&self, m: &mut Map<String, Value>) {
        m.insert("symptoms".into(), json!(self.symptoms));
        m.insert("root_cause".into(), json!(self.root_cause));
        m.insert("cause_code".into(), json!(self.cause_code));
        m.insert("workaround".into(), json!(self.workaround));
        m.insert("fix".into(), json!(self.fix));
        m.insert("known_error".into(), json!(self.known_error));
        m.insert("major".into(), json!(self.major));
        m.insert("resolution_code".into(), json!(self.resolution_code));
        m.insert("resolution_notes".into(), json!(self.resolution_notes));
    }
    fn conditions(&self, s: &mut sigap_domain::sla::Snapshot) {
        s.flag("major", self.major);
    }
}

/// What a problem is given on creation or update.
#[derive(Debug, Clone, Default)]
pub struct ProblemInput {
    /// The problem statement is the short description.
    pub task: TaskInput,
    pub symptoms: Option<String>,
    pub root_cause: Option<String>,
    pub cause_code: Option<Option<String>>,
    pub workaround: Option<String>,
    pub fix: Option<String>,
    pub major: Option<bool>,
    /// Incidents (numbers or ids) linked on creation.
    pub incidents: Vec<String>,
}

/// The named actions of a problem.
#[derive(Debug, Clone)]
pub enum Action {
    /// New → assess.
    Assess,
    /// Assess → root cause analysis (the problem is confirmed).
    Analyze,
    /// Root cause analysis → fix in progress (the root cause is known).
    StartFix,
    Resolve {
        code: String,
        notes: String,
        /// Resolve the linked open incidents in the same step, with this resolution.
        resolve_incidents: bool,
    },
    /// Back to root cause analysis (the fix did not hold).
    Reanalyze {
        reason: String,
    },
    /// Resolved → closed; needs the root cause.
    Close,
    Cancel {
        reason: String,
    },
    WorkNote {
        body: String,
    },
    /// Marks (or unmarks) the problem a known error: its work-around is then found beside
    /// incidents on the same service or CI.
    KnownError {
        on: bool,
    },
    /// Sets the work-around on every linked open incident, with a note in each journal (a
    /// comment the caller sees, or a work note).
    PublishWorkaround {
        to_callers: bool,
    },
}

impl Action {
    pub fn name(&self) -> &'static str {
        match self {
            Action::Assess => "assess",
            Action::Analyze => "analyze",
            Action::StartFix => "start_fix",
            Action::Resolve { .. } => "resolve",
            Action::Reanalyze { .. } => "reanalyze",
            Action::Close => "close",
            Action::Cancel { .. } => "cancel",
            Action::WorkNote { .. } => "work_note",
            Action::KnownError { .. } => "known_error",
            Action::PublishWorkaround { .. } => "publish_workaround",
        }
    }
}

/// A problem with its journal and its incidents.
#[derive(Debug, Clone)]
pub struct ProblemDetail {
    pub problem: Problem,
    pub journal: Vec<JournalEntry>,
    pub incidents: Vec<Incident>,
    pub open_incidents: i64,
}

/// Problems are the desk's: agents work them; nobody else sees them.
fn require_agent(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require(Role::Agent)
}

/// An agent who may write (not a read-only token).
fn require_writer(ctx: &Ctx) -> AppResult<()> {
    require_agent(ctx)?;
    if ctx.principal.can_write() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn apply_plain(input: &ProblemInput, f: &mut ProblemFields, errs: &mut Errors) {
    core_task::apply_plain(&input.task, &mut f.task, errs);
    let text = |errs: &mut Errors, field: &str, v: &Option<String>, into: &mut String| {
        if let Some(t) = v {
            if let Some(t) = errs.take(field, parse_text(t, 32_000)) {
                *into = t;
            }
        }
    };
    text(errs, "symptoms", &input.symptoms, &mut f.ext.symptoms);
    text(errs, "root_cause", &input.root_cause, &mut f.ext.root_cause);
    text(errs, "workaround", &input.workaround, &mut f.ext.workaround);
    text(errs, "fix", &input.fix, &mut f.ext.fix);
    match &input.cause_code {
        None => {}
        Some(None) => f.ext.cause_code = None,
        Some(Some(c)) if c.trim().is_empty() => f.ext.cause_code = None,
        Some(Some(c)) => f.ext.cause_code = errs.take("cause_code", parse_line(c, 100)),
    }
    if let Some(m) = input.major {
        f.ext.major = m;
    }
}

/// The incidents of keys the reader may see, each once.
async fn resolve_incidents(tx: &mut Tx<'_>, keys: &[String]) -> AppResult<Vec<Incident>> {
    let mut out: Vec<Incident> = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        let incident = match core_task::find::<sigap_store::incidents::IncidentExt>(tx, key).await {
            Ok(found) => found,
            Err(AppError::NotFound) => {
                return Err(AppError::field(
                    &format!("incidents.{i}"),
                    "not_found",
                    format!("no incident {key:?}"),
                ));
            }
            Err(e) => return Err(e),
        };
        if !out.iter().any(|x| x.id == incident.id) {
            out.push(incident);
        }
    }
    Ok(out)
}

/// Links incidents to a problem in the caller's transaction: each link in the incident's
/// journal, and a work-around already published given to it.
async fn link_in(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    p: &Problem,
    list: Vec<Incident>,
) -> AppResult<()> {
    for i in list {
        if !repo::link(tx, p.id, i.id, &actor.name, now).await? {
            continue;
        }
        let mut f = i.fields();
        let mut note = format!("→ {} {}", p.number, p.short_description);
        if p.ext.workaround_published_at.is_some() && i.state.is_open() {
            f.ext.workaround = p.ext.workaround.clone();
            note = format!("{note}\n{}", p.ext.workaround);
        }
        incidents::write_change(tx, actor, now, &i, &f, Some((JournalKind::WorkNote, note)))
            .await?;
    }
    Ok(())
}

/// Opens a problem (agents), linked to the incidents given.
pub async fn create(core: &Core, ctx: &Ctx, input: ProblemInput) -> AppResult<Problem> {
    require_writer(ctx)?;
    if input.task.short_description.is_none() {
        return Err(AppError::field(
            "short_description",
            "required",
            "is required",
        ));
    }
    let priority =
        sigap_domain::task::Priority::parse(5).map_err(|e| AppError::Internal(e.message))?;
    let mut f = ProblemFields {
        task: TaskFields::new(ProblemState::New, priority, ctx.principal.person_id),
        ext: ProblemExt::default(),
    };
    f.caller_id = None;
    let mut errs = Errors::new();
    apply_plain(&input, &mut f, &mut errs);
    errs.finish()?;
    let (actor, now, ctx2) = (Actor::of(ctx), core.now(), ctx.clone());
    core.store
        .write(async move |tx| {
            let mut f = f.clone();
            f.priority = core_task::resolve_refs(tx, &ctx2, &input.task, &mut f.task, None).await?;
            let linked = resolve_incidents(tx, &input.incidents).await?;
            let number = sigap_store::task::next_number(tx, "PRB").await?;
            let p = sigap_store::task::insert(tx, TaskId::new(), &number, &f, now).await?;
            core_task::record_change(tx, &actor, now, None, &p, "create").await?;
            Notifier::new(&actor, &p, now)
                .assignment(tx, None, &p)
                .await?;
            link_in(tx, &actor, now, &p, linked).await?;
            crate::sla::on_task_change(tx, &p, false, now).await?;
            Ok(p)
        })
        .await
}

pub async fn get(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Problem> {
    require_agent(ctx)?;
    core_task::get(core, ctx, key).await
}

/// A problem with its journal, its incidents and how many of them are open.
pub async fn detail(core: &Core, ctx: &Ctx, key: &str) -> AppResult<ProblemDetail> {
    let p = get(core, ctx, key).await?;
    let journal = core_task::journal_of(core, ctx, p.id).await?;
    let id = p.id;
    let (incidents, (open, _)) = core
        .store
        .read(async move |tx| {
            Ok::<_, AppError>((
                repo::incidents(tx, id).await?,
                repo::incident_counts(tx, id).await?,
            ))
        })
        .await?;
    Ok(ProblemDetail {
        problem: p,
        journal,
        incidents,
        open_incidents: open,
    })
}

/// The SLA clocks of a problem, read now (agents).
pub async fn clocks(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Vec<crate::sla::ClockView>> {
    let p = get(core, ctx, key).await?;
    crate::sla::clocks_of_task(core, p.id).await
}

/// Changes fields, recomputing the priority in the same write.
pub async fn update(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: ProblemInput,
    if_match: Option<i64>,
) -> AppResult<Problem> {
    require_writer(ctx)?;
    let current = get(core, ctx, key).await?;
    let (actor, now, ctx2) = (Actor::of(ctx), core.now(), ctx.clone());
    core.store
        .write(async move |tx| {
            let before = repo::get(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            core_task::not_final(before.state)?;
            let mut f = before.fields();
            let mut errs = Errors::new();
            apply_plain(&input, &mut f, &mut errs);
            errs.finish()?;
            f.priority =
                core_task::resolve_refs(tx, &ctx2, &input.task, &mut f.task, Some(&before.task))
                    .await?;
            if f.ext.known_error && f.ext.workaround.trim().is_empty() {
                return Err(AppError::field(
                    "workaround",
                    "required",
                    "a known error keeps its work-around",
                ));
            }
            let after = crate::written(
                sigap_store::task::update(tx, before.id, &f, before.version, now).await,
                if_match,
            )?;
            core_task::record_change(tx, &actor, now, Some(&before), &after, "update").await?;
            Notifier::new(&actor, &after, now)
                .assignment(tx, Some(&before.task), &after)
                .await?;
            crate::sla::on_task_change(tx, &after, false, now).await?;
            Ok(after)
        })
        .await
}

fn required_text(field: &str, text: &str) -> AppResult<String> {
    match parse_text(text.trim(), 32_000) {
        Ok(t) if !t.is_empty() => Ok(t),
        Ok(_) => Err(AppError::field(field, "required", "is required")),
        Err(e) => Err(AppError::Validation(vec![FieldError::from_invalid(
            field, e,
        )])),
    }
}

/// Does one of the named actions; a move the state model does not allow is a conflict that
/// names the allowed ones.
pub async fn act(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    action: Action,
    if_match: Option<i64>,
) -> AppResult<Problem> {
    require_writer(ctx)?;
    let current = get(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            let mut f = before.fields();
            let mut note: Option<String> = None;
            let mut resolve_all = false;
            let mut publish: Option<bool> = None;
            let moves = |to: ProblemState, f: &mut ProblemFields| -> AppResult<()> {
                core_task::transition(before.state, to)?;
                f.state = to;
                Ok(())
            };
            match &action {
                Action::Assess => moves(ProblemState::Assess, &mut f)?,
                Action::Analyze => moves(ProblemState::RootCauseAnalysis, &mut f)?,
                Action::StartFix => {
                    moves(ProblemState::FixInProgress, &mut f)?;
                    if f.ext.root_cause.trim().is_empty() {
                        return Err(AppError::field(
                            "root_cause",
                            "required",
                            "a fix starts from the root cause",
                        ));
                    }
                }
                Action::Resolve {
                    code,
                    notes,
                    resolve_incidents: all,
                } => {
                    moves(ProblemState::Resolved, &mut f)?;
                    let mut errs = Errors::new();
                    let code = errs.take("resolution_code", ProblemResolution::parse(code));
                    let notes = errs.take(
                        "resolution_notes",
                        required_text("resolution_notes", notes).map_err(|_| {
                            sigap_domain::InvalidValue::new("required", "is required")
                        }),
                    );
                    errs.finish()?;
                    f.ext.resolution_code = code.map(|c| c.code().to_owned());
                    f.ext.resolution_notes = notes.unwrap_or_default();
                    f.resolved_at = Some(now);
                    resolve_all = *all;
                }
                Action::Reanalyze { reason } => {
                    let reason = required_text("reason", reason)?;
                    moves(ProblemState::RootCauseAnalysis, &mut f)?;
                    if before.state == ProblemState::Resolved {
                        f.reopen_count += 1;
                    }
                    f.resolved_at = None;
                    f.ext.resolution_code = None;
                    note = Some(reason);
                }
                Action::Close => {
                    moves(ProblemState::Closed, &mut f)?;
                    if f.ext.root_cause.trim().is_empty() {
                        return Err(AppError::field(
                            "root_cause",
                            "required",
                            "a problem closes with its root cause",
                        ));
                    }
                    f.closed_at = Some(now);
                }
                Action::Cancel { reason } => {
                    let reason = required_text("reason", reason)?;
                    moves(ProblemState::Canceled, &mut f)?;
                    f.closed_at = Some(now);
                    note = Some(reason);
                }
                Action::WorkNote { body } => note = Some(required_text("body", body)?),
                Action::KnownError { on } => {
                    core_task::not_final(before.state)?;
                    if *on && f.ext.workaround.trim().is_empty() {
                        return Err(AppError::field(
                            "workaround",
                            "required",
                            "a known error needs its work-around",
                        ));
                    }
                    f.ext.known_error = *on;
                    f.ext.known_error_at = on.then_some(now);
                }
                Action::PublishWorkaround { to_callers } => {
                    core_task::not_final(before.state)?;
                    if f.ext.workaround.trim().is_empty() {
                        return Err(AppError::field(
                            "workaround",
                            "required",
                            "write the work-around first",
                        ));
                    }
                    f.ext.workaround_published_at = Some(now);
                    publish = Some(*to_callers);
                }
            }
            if let Some(body) = &note {
                core_task::add_note(tx, &actor, before.id, JournalKind::WorkNote, body, now)
                    .await?;
            }
            let after = if f != before.fields() {
                let after = crate::written(
                    sigap_store::task::update(tx, before.id, &f, before.version, now).await,
                    if_match,
                )?;
                core_task::record_change(tx, &actor, now, Some(&before), &after, "update").await?;
                after
            } else {
                before.clone()
            };
            if let Some(to_callers) = publish {
                publish_in(tx, &actor, now, &after, to_callers).await?;
            }
            crate::sla::on_task_change(tx, &after, false, now).await?;
            if after.state == ProblemState::Resolved && before.state != ProblemState::Resolved {
                resolved_in(tx, &actor, now, &after, resolve_all).await?;
            }
            Ok(after)
        })
        .await
}

/// The linked incidents still open.
async fn open_incidents(tx: &mut Tx<'_>, p: &Problem) -> AppResult<Vec<Incident>> {
    Ok(repo::incidents(tx, p.id)
        .await?
        .into_iter()
        .filter(|i| i.state.is_open())
        .collect())
}

/// Gives the work-around to every linked open incident, with a note in its journal.
async fn publish_in(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    p: &Problem,
    to_callers: bool,
) -> AppResult<()> {
    let kind = if to_callers {
        JournalKind::Comment
    } else {
        JournalKind::WorkNote
    };
    let text = format!(
        "{} ({}): {}",
        p.short_description, p.number, p.ext.workaround
    );
    for i in open_incidents(tx, p).await? {
        let mut f = i.fields();
        f.ext.workaround = p.ext.workaround.clone();
        incidents::write_change(tx, actor, now, &i, &f, Some((kind, text.clone()))).await?;
    }
    Ok(())
}

/// A problem resolved: its open incidents resolved with it (when asked), and those on hold
/// waiting for it back at work.
async fn resolved_in(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    p: &Problem,
    resolve_all: bool,
) -> AppResult<()> {
    let note = format!("{} → {}", p.number, ProblemState::Resolved);
    for i in open_incidents(tx, p).await? {
        let mut f = i.fields();
        if resolve_all {
            f.state = IncidentState::Resolved;
            f.ext.resolution_code = Some(
                if p.ext.resolution_code.as_deref() == Some(ProblemResolution::FixApplied.code()) {
                    "solved_permanently"
                } else {
                    "solved_workaround"
                }
                .to_owned(),
            );
            f.ext.resolution_notes = p.ext.resolution_notes.clone();
            f.ext.hold_reason = None;
            f.resolved_at = Some(now);
        } else if i.state == IncidentState::OnHold
            && i.ext.hold_reason == Some(HoldReason::AwaitingProblem)
        {
            f.state = IncidentState::InProgress;
            f.ext.hold_reason = None;
        } else {
            continue;
        }
        incidents::write_change(
            tx,
            actor,
            now,
            &i,
            &f,
            Some((JournalKind::WorkNote, note.clone())),
        )
        .await?;
    }
    Ok(())
}

/// Links incidents to a problem (agents); an incident linked to another problem moves.
pub async fn link(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    keys: Vec<String>,
) -> AppResult<ProblemDetail> {
    require_writer(ctx)?;
    if keys.is_empty() || keys.len() > 500 {
        return Err(AppError::field(
            "incidents",
            "out_of_range",
            "give 1 to 500 incidents",
        ));
    }
    let p = get(core, ctx, key).await?;
    core_task::not_final(p.state)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let p2 = p.clone();
    core.store
        .write(async move |tx| {
            let list = resolve_incidents(tx, &keys).await?;
            link_in(tx, &actor, now, &p2, list).await
        })
        .await?;
    detail(core, ctx, &p.number).await
}

/// Unlinks an incident from a problem (agents).
pub async fn unlink(core: &Core, ctx: &Ctx, key: &str, incident: &str) -> AppResult<ProblemDetail> {
    require_writer(ctx)?;
    let p = get(core, ctx, key).await?;
    let (actor, now, pid) = (Actor::of(ctx), core.now(), p.id);
    let incident = incident.to_owned();
    let number = p.number.clone();
    core.store
        .write(async move |tx| {
            let i = core_task::find::<sigap_store::incidents::IncidentExt>(tx, &incident).await?;
            if !repo::unlink(tx, pid, i.id).await? {
                return Err(AppError::NotFound);
            }
            core_task::add_note(
                tx,
                &actor,
                i.id,
                JournalKind::WorkNote,
                &format!("↛ {number}"),
                now,
            )
            .await
        })
        .await?;
    detail(core, ctx, &p.number).await
}

/// The problem an incident is linked to, as (number, statement), if any.
pub async fn of_incident(
    core: &Core,
    ctx: &Ctx,
    incident: TaskId,
) -> AppResult<Option<(String, String)>> {
    if !core_task::is_staff(ctx) {
        return Ok(None);
    }
    let of = core
        .store
        .read(async move |tx| repo::problem_of(tx, incident).await)
        .await?;
    Ok(of.map(|(_, number, statement)| (number, statement)))
}

/// What a problem list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct ProblemQuery {
    /// States, separated by commas; `open` for every open one.
    pub state: Option<String>,
    pub known_error: Option<String>,
    /// Service or CI (id or name): for the known errors beside an incident.
    pub service: Option<String>,
    pub ci: Option<String>,
    pub assignment_group: Option<String>,
    pub q: Option<String>,
}

pub use crate::task::SORT_FIELDS;

/// A page of problems (agents).
pub async fn list(
    core: &Core,
    ctx: &Ctx,
    query: ProblemQuery,
    params: &ListParams,
) -> AppResult<Listed<Problem>> {
    require_agent(ctx)?;
    let page = PageRequest::parse(params, SORT_FIELDS, "-opened_at")?;
    let mut filter = ProblemFilter {
        visibility: core_task::visibility(ctx)?,
        q: query.q.clone(),
        ext: parse_bool("known_error", query.known_error.as_deref())?
            .map(repo::known_error)
            .into_iter()
            .collect(),
        ..ProblemFilter::default()
    };
    for s in query.state.iter().flat_map(|s| s.split(',')).map(str::trim) {
        match s {
            "" => {}
            "open" => filter
                .states
                .extend(ProblemState::ALL.iter().filter(|s| s.is_open())),
            s => {
                filter.states.push(ProblemState::parse(s).map_err(|e| {
                    AppError::Validation(vec![FieldError::from_invalid("state", e)])
                })?)
            }
        }
    }
    let p2 = page.clone();
    let result = core
        .store
        .read(async move |tx| {
            let mut filter = filter;
            let key = |k: &Option<String>| {
                k.as_deref()
                    .map(str::trim)
                    .filter(|k| !k.is_empty())
                    .map(str::to_owned)
            };
            if let Some(k) = key(&query.service) {
                filter.service = Some(
                    crate::portfolio::resolve(tx, &k)
                        .await?
                        .ok_or_else(|| AppError::field("service", "not_found", "no such service"))?
                        .id,
                );
            }
            if let Some(k) = key(&query.ci) {
                filter.ci = Some(core_task::resolve_ci(tx, &k).await?);
            }
            if let Some(k) = key(&query.assignment_group) {
                filter.assignment_group =
                    crate::refs::group(tx, "assignment_group", &Some(Some(k)), None).await?;
            }
            Ok::<_, AppError>(
                repo::list(tx, &filter, &p2.sort, p2.after.as_deref(), p2.limit).await?,
            )
        })
        .await?;
    Ok(page.finish(result, |p| p))
}

/// The known errors that may explain an incident: on its service or its CI, newest first.
pub async fn known_errors_for(
    core: &Core,
    ctx: &Ctx,
    incident: &Incident,
) -> AppResult<Vec<Problem>> {
    if !core_task::is_staff(ctx) {
        return Ok(Vec::new());
    }
    let (service, ci) = (
        incident.service.as_ref().map(|s| s.id),
        incident.ci.as_ref().map(|c| c.id),
    );
    if service.is_none() && ci.is_none() {
        return Ok(Vec::new());
    }
    core.store
        .read(async move |tx| {
            let mut out: Vec<Problem> = Vec::new();
            for (service, ci) in [(service, None), (None, ci)] {
                if service.is_none() && ci.is_none() {
                    continue;
                }
                let filter = ProblemFilter {
                    service,
                    ci,
                    ext: vec![repo::known_error(true)],
                    ..ProblemFilter::default()
                };
                let page = repo::list(tx, &filter, &[(TaskSort::OpenedAt, true)], None, 20).await?;
                for p in page.items {
                    if !p.state.is_final() && !out.iter().any(|x| x.id == p.id) {
                        out.push(p);
                    }
                }
            }
            Ok::<_, AppError>(out)
        })
        .await
}

/// Applies a known error to an incident: the incident is linked to the problem and gets its
/// work-around.
pub async fn apply_known_error(
    core: &Core,
    ctx: &Ctx,
    incident: &str,
    problem: &str,
) -> AppResult<Incident> {
    require_writer(ctx)?;
    let p = get(core, ctx, problem).await?;
    if !p.ext.known_error {
        return Err(AppError::field(
            "problem",
            "not_known_error",
            "the problem is not a known error",
        ));
    }
    let i = incidents::get(core, ctx, incident).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            if repo::link(tx, p.id, i.id, &actor.name, now).await?
                || i.ext.workaround != p.ext.workaround
            {
                let mut f = i.fields();
                f.ext.workaround = p.ext.workaround.clone();
                let note = format!(
                    "{} ({}): {}",
                    p.short_description, p.number, p.ext.workaround
                );
                incidents::write_change(
                    tx,
                    &actor,
                    now,
                    &i,
                    &f,
                    Some((JournalKind::WorkNote, note)),
                )
                .await
            } else {
                Ok(i.clone())
            }
        })
        .await
}

/// The trends for proactive problem management: the services, CIs or categories with the
/// most incidents opened in `[from, to)` that no problem explains (agents).
pub async fn trends(
    core: &Core,
    ctx: &Ctx,
    by: &str,
    from: Timestamp,
    to: Timestamp,
) -> AppResult<Vec<Trend>> {
    require_agent(ctx)?;
    let by = parse_trend(by)?;
    if to <= from {
        return Err(AppError::field(
            "to",
            "before_start",
            "the period ends before it starts",
        ));
    }
    Ok(core
        .store
        .read(async move |tx| repo::trends(tx, by, from, to, 50).await)
        .await?)
}

/// The incidents behind one line of the trends, by number (to open a problem for them).
pub async fn trend_incidents(
    core: &Core,
    ctx: &Ctx,
    by: &str,
    key: &str,
    from: Timestamp,
    to: Timestamp,
) -> AppResult<Vec<String>> {
    require_agent(ctx)?;
    let by = parse_trend(by)?;
    let key = key.to_owned();
    Ok(core
        .store
        .read(async move |tx| repo::trend_incidents(tx, by, &key, from, to, 500).await)
        .await?)
}

fn parse_trend(by: &str) -> AppResult<TrendBy> {
    parse_opt("by", Some(by), |t| match t {
        "service" => Ok(TrendBy::Service),
        "ci" => Ok(TrendBy::Ci),
        "category" => Ok(TrendBy::Category),
        _ => Err(sigap_domain::InvalidValue::new(
            "invalid_choice",
            "must be one of: service, ci, category",
        )),
    })?
    .ok_or_else(|| AppError::field("by", "required", "is required"))
}
