//! Problem management on the task core: problems found from incidents (one or many, or a
//! trend of incidents no problem explains), analysed to their root cause, their work-around
//! published to the incidents they cause, known errors agents find beside an incident, and
//! the fix that resolves the problem and, in the same step, its incidents.

use crate::Core;
use crate::audit::Actor;
use crate::breakdown::{Breakdown, Dimension};
use crate::error::{AppError, AppResult, Errors};
use crate::links;
use crate::listing::{ListParams, Listed, parse_bool};
use crate::principal::Ctx;
use crate::task::{
    self as core_task, Args, Change, Process, Step, TaskInput, TaskQuery, needs, nonempty,
    required, set_text,
};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sigap_domain::process::incident::{HoldReason, IncidentState};
use sigap_domain::process::problem::{ProblemResolution, ProblemState};
use sigap_domain::task::{JournalKind, StateModel};
use sigap_domain::{TaskId, parse_line};
use sigap_store::Tx;
use sigap_store::incidents::{Incident, IncidentExt};
use sigap_store::problems::{self as repo, Problem, ProblemExt, ProblemFields};
use sigap_store::task::journal::JournalEntry;
use sigap_store::task::{TaskFields, TaskFilter, TaskSort};

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
    /// The action `name` with its details; an unknown name is not found.
    pub fn parse(name: &str, a: &Args) -> AppResult<Action> {
        Ok(match name {
            "assess" => Action::Assess,
            "analyze" => Action::Analyze,
            "start_fix" => Action::StartFix,
            "resolve" => Action::Resolve {
                code: a.required("resolution_code")?,
                notes: a.required("resolution_notes")?,
                resolve_incidents: a.flag("resolve_incidents", false),
            },
            "reanalyze" => Action::Reanalyze {
                reason: a.required("reason")?,
            },
            "close" => Action::Close,
            "cancel" => Action::Cancel {
                reason: a.required("reason")?,
            },
            "work_note" => Action::WorkNote {
                body: a.required("body")?,
            },
            "known_error" => Action::KnownError {
                on: a.flag("on", true),
            },
            "publish_workaround" => Action::PublishWorkaround {
                to_callers: a.flag("to_callers", false),
            },
            _ => return Err(AppError::NotFound),
        })
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

impl Process for ProblemExt {
    const ENTITY: &'static str = "problem";
    const PATH: &'static str = "/problems";
    const DESK_ONLY: bool = true;
    type Input = ProblemInput;
    type Action = Action;

    fn audit(&self, m: &mut Map<String, Value>) {
        m.insert("symptoms".into(), json!(self.symptoms));
        m.insert("root_cause".into(), json!(self.root_cause));
        m.insert("cause_code".into(), json!(self.cause_code));
        m.insert("workaround".into(), json!(self.workaround));
        m.insert("fix".into(), json!(self.fix));
        m.insert("known_error".into(), json!(self.known_error));
        m.insert("major_problem".into(), json!(self.major));
        m.insert("resolution_code".into(), json!(self.resolution_code));
        m.insert("resolution_notes".into(), json!(self.resolution_notes));
    }

    fn conditions(&self, s: &mut sigap_domain::sla::Snapshot) {
        s.flag("major", self.major);
    }

    fn task_input(input: &ProblemInput) -> &TaskInput {
        &input.task
    }

    fn apply(input: &ProblemInput, f: &mut ProblemFields, errs: &mut Errors) {
        set_text(errs, "symptoms", &input.symptoms, &mut f.ext.symptoms);
        set_text(errs, "root_cause", &input.root_cause, &mut f.ext.root_cause);
        set_text(errs, "workaround", &input.workaround, &mut f.ext.workaround);
        set_text(errs, "fix", &input.fix, &mut f.ext.fix);
        match &input.cause_code {
            None => {}
            Some(Some(c)) if !c.trim().is_empty() => {
                f.ext.cause_code = errs.take("cause_code", parse_line(c, 100));
            }
            Some(_) => f.ext.cause_code = None,
        }
        f.ext.major = input.major.unwrap_or(f.ext.major);
    }

    async fn prepare(
        tx: &mut Tx<'_>,
        _ctx: &Ctx,
        input: &ProblemInput,
        f: &mut ProblemFields,
        before: Option<&Problem>,
        computed: sigap_domain::task::Priority,
    ) -> AppResult<()> {
        if before.is_some() && !input.incidents.is_empty() {
            let message = "link incidents with POST /api/v1/problems/{key}/incidents";
            return Err(AppError::field("incidents", "not_allowed", message));
        }
        f.priority = computed;
        if f.ext.known_error {
            needs(
                "workaround",
                &f.ext.workaround,
                "a known error keeps its work-around",
            )?;
        }
        // Every incident to link is found before the problem is written.
        core_task::find_all::<IncidentExt>(tx, "incidents", &input.incidents).await?;
        Ok(())
    }

    async fn act(
        _tx: &mut Tx<'_>,
        _actor: &Actor,
        now: Timestamp,
        before: &Problem,
        f: &mut ProblemFields,
        action: &Action,
    ) -> AppResult<Step> {
        let mut moves = |to: ProblemState| -> AppResult<()> {
            core_task::transition(before.state, to)?;
            f.task.state = to;
            Ok(())
        };
        use ProblemState as S;
        match action {
            Action::Assess => moves(S::Assess)?,
            Action::Analyze => moves(S::RootCauseAnalysis)?,
            Action::StartFix => {
                moves(S::FixInProgress)?;
                needs(
                    "root_cause",
                    &f.ext.root_cause,
                    "a fix starts from the root cause",
                )?;
            }
            Action::Resolve { code, notes, .. } => {
                moves(S::Resolved)?;
                let mut errs = Errors::new();
                let code = errs.take("resolution_code", ProblemResolution::parse(code));
                let notes = errs.take("resolution_notes", nonempty(notes));
                errs.finish()?;
                f.ext.resolution_code = code.map(|c| c.code().to_owned());
                f.ext.resolution_notes = notes.unwrap_or_default();
                f.resolved_at = Some(now);
            }
            Action::Reanalyze { reason } => {
                let reason = required("reason", reason)?;
                moves(S::RootCauseAnalysis)?;
                if before.state == S::Resolved {
                    f.reopen_count += 1;
                }
                f.resolved_at = None;
                f.ext.resolution_code = None;
                return Ok(Step::note(JournalKind::WorkNote, reason));
            }
            Action::Close => {
                moves(S::Closed)?;
                needs(
                    "root_cause",
                    &f.ext.root_cause,
                    "a problem closes with its root cause",
                )?;
                f.closed_at = Some(now);
            }
            Action::Cancel { reason } => {
                let reason = required("reason", reason)?;
                moves(S::Canceled)?;
                f.closed_at = Some(now);
                return Ok(Step::note(JournalKind::WorkNote, reason));
            }
            Action::WorkNote { body } => {
                return Ok(Step::note(JournalKind::WorkNote, required("body", body)?));
            }
            Action::KnownError { on } => {
                core_task::not_final(before.state)?;
                if *on {
                    needs(
                        "workaround",
                        &f.ext.workaround,
                        "a known error needs its work-around",
                    )?;
                }
                f.ext.known_error = *on;
                f.ext.known_error_at = on.then_some(now);
            }
            Action::PublishWorkaround { .. } => {
                core_task::not_final(before.state)?;
                needs(
                    "workaround",
                    &f.ext.workaround,
                    "write the work-around first",
                )?;
                f.ext.workaround_published_at = Some(now);
            }
        }
        Ok(Step::default())
    }

    async fn after(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        change: Change<'_, Self>,
        before: Option<&Problem>,
        p: &Problem,
    ) -> AppResult<()> {
        // Its known-error article follows what changed.
        if before.is_some() {
            crate::knowledge::problem_changed(tx, actor, now, p).await?;
        }
        match change {
            Change::Create(input) => {
                let list = core_task::find_all(tx, "incidents", &input.incidents).await?;
                link_in(tx, actor, now, p, list).await
            }
            Change::Act(Action::PublishWorkaround { to_callers }) => {
                let kind = if *to_callers {
                    JournalKind::Comment
                } else {
                    JournalKind::WorkNote
                };
                for i in open_incidents(tx, p).await? {
                    give_workaround(tx, actor, now, p, &i, kind).await?;
                }
                Ok(())
            }
            Change::Act(Action::Resolve {
                resolve_incidents, ..
            }) if before.is_some_and(|b| b.state != ProblemState::Resolved) => {
                resolved_in(tx, actor, now, p, *resolve_incidents).await
            }
            _ => Ok(()),
        }
    }
}

/// Gives a problem's work-around to an incident, with a note naming the problem.
async fn give_workaround(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    p: &Problem,
    i: &Incident,
    kind: JournalKind,
) -> AppResult<Incident> {
    let mut f = i.fields();
    f.ext.workaround = p.ext.workaround.clone();
    let note = format!(
        "{} ({}): {}",
        p.short_description, p.number, p.ext.workaround
    );
    core_task::save(tx, actor, now, i, &f, Step::note(kind, note), None).await
}

/// Links incidents to a problem in the caller's transaction; a work-around already
/// published reaches those newly linked.
async fn link_in(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    p: &Problem,
    list: Vec<Incident>,
) -> AppResult<()> {
    for i in links::link_in(tx, actor, now, repo::INCIDENTS, p, list).await? {
        if p.ext.workaround_published_at.is_some() && i.state.is_open() {
            give_workaround(tx, actor, now, p, &i, JournalKind::WorkNote).await?;
        }
    }
    Ok(())
}

/// The linked incidents still open.
async fn open_incidents(tx: &mut Tx<'_>, p: &Problem) -> AppResult<Vec<Incident>> {
    let mut list: Vec<Incident> = repo::INCIDENTS.children(tx, p.id).await?;
    list.retain(|i| i.state.is_open());
    Ok(list)
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
    let fixed = p.ext.resolution_code.as_deref() == Some(ProblemResolution::FixApplied.code());
    let code = if fixed {
        "solved_permanently"
    } else {
        "solved_workaround"
    };
    let note = format!("{} → {}", p.number, ProblemState::Resolved);
    for i in open_incidents(tx, p).await? {
        if resolve_all {
            let notes = &p.ext.resolution_notes;
            let code = Some(code.to_owned());
            crate::incidents::resolve_with(tx, actor, now, &i, code, notes, note.clone()).await?;
        } else if i.state == IncidentState::OnHold
            && i.ext.hold_reason == Some(HoldReason::AwaitingProblem)
        {
            let mut f = i.fields();
            f.task.state = IncidentState::InProgress;
            f.ext.hold_reason = None;
            let step = Step::note(JournalKind::WorkNote, note.clone());
            core_task::save(tx, actor, now, &i, &f, step, None).await?;
        }
    }
    Ok(())
}

/// Opens a problem (agents), linked to the incidents given.
pub async fn create(core: &Core, ctx: &Ctx, input: ProblemInput) -> AppResult<Problem> {
    let priority = sigap_domain::task::Priority::LOWEST;
    let mut f = ProblemFields {
        task: TaskFields::new(ProblemState::New, priority, ctx.principal.person_id),
        ext: ProblemExt::default(),
    };
    f.caller_id = None;
    core_task::create(core, ctx, input, f).await
}

/// A problem with its journal, its incidents and how many of them are open.
pub async fn detail(core: &Core, ctx: &Ctx, key: &str) -> AppResult<ProblemDetail> {
    let (p, journal): (Problem, _) = core_task::with_journal(core, ctx, key).await?;
    let incidents: Vec<Incident> = links::children(core, repo::INCIDENTS, p.id).await?;
    let open = incidents.iter().filter(|i| i.state.is_open()).count() as i64;
    Ok(ProblemDetail {
        problem: p,
        journal,
        incidents,
        open_incidents: open,
    })
}

/// Links incidents to a problem (agents); an incident linked to another problem moves.
pub async fn link(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    keys: Vec<String>,
) -> AppResult<ProblemDetail> {
    links::change(core, ctx, key, async move |tx, actor, now, p| {
        let list = links::to_link(tx, "incidents", &keys).await?;
        link_in(tx, actor, now, p, list).await
    })
    .await?;
    detail(core, ctx, key).await
}

/// Unlinks an incident from a problem (agents).
pub async fn unlink(core: &Core, ctx: &Ctx, key: &str, incident: &str) -> AppResult<ProblemDetail> {
    links::unlink::<ProblemExt, IncidentExt>(core, ctx, key, repo::INCIDENTS, incident).await?;
    detail(core, ctx, key).await
}

/// The problem an incident is linked to, as (number, statement), if any.
pub async fn of_incident(
    core: &Core,
    ctx: &Ctx,
    incident: TaskId,
) -> AppResult<Option<(String, String)>> {
    links::parent_of(core, ctx, repo::INCIDENTS, incident).await
}

/// A page of problems (agents), newest first; `known_error` narrows to known errors or to
/// the others.
pub async fn list(
    core: &Core,
    ctx: &Ctx,
    query: TaskQuery,
    known_error: Option<&str>,
    params: &ListParams,
) -> AppResult<Listed<Problem>> {
    let ext = parse_bool("known_error", known_error)?.map(repo::known_error);
    core_task::list(
        core,
        ctx,
        query,
        ext.into_iter().collect(),
        params,
        "-opened_at",
    )
    .await
}

/// The known errors that may explain an incident: those not closed or canceled on its
/// service, then on its CI, newest first (one read for both).
pub async fn known_errors_for(core: &Core, ctx: &Ctx, i: &Incident) -> AppResult<Vec<Problem>> {
    if !core_task::is_staff(ctx) {
        return Ok(Vec::new());
    }
    let on = [
        i.service.as_ref().map(|s| (Some(s.id), None)),
        i.ci.as_ref().map(|c| (None, Some(c.id))),
    ];
    let filter = TaskFilter {
        visibility: core_task::visibility(ctx)?,
        states: ProblemState::ALL
            .iter()
            .copied()
            .filter(|s| !s.is_final())
            .collect(),
        ext: vec![repo::known_error(true)],
        ..TaskFilter::default()
    };
    core.store
        .read(async move |tx| {
            let mut out: Vec<Problem> = Vec::new();
            for (service, ci) in on.into_iter().flatten() {
                let f = TaskFilter {
                    service,
                    ci,
                    ..filter.clone()
                };
                let sort = [(TaskSort::OpenedAt, true)];
                for p in sigap_store::task::list(tx, &f, &sort, None, 20)
                    .await?
                    .items
                {
                    if !out.iter().any(|x| x.id == p.id) {
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
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let p: Problem = core_task::get(core, ctx, problem).await?;
    if !p.ext.known_error {
        return Err(AppError::field(
            "problem",
            "not_known_error",
            "the problem is not a known error",
        ));
    }
    let i = crate::incidents::get(core, ctx, incident).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let linked = repo::INCIDENTS
                .link(tx, p.id, i.id, &actor.name, now)
                .await?;
            if linked || i.ext.workaround != p.ext.workaround {
                give_workaround(tx, &actor, now, &p, &i, JournalKind::WorkNote).await
            } else {
                Ok(i.clone())
            }
        })
        .await
}

/// The trends for proactive problem management: the incidents opened in `[from, to)` that
/// no problem explains, counted by service, CI or category.
pub fn trends(by: Dimension, from: Timestamp, to: Timestamp) -> Breakdown {
    Breakdown {
        kind: sigap_domain::task::TaskKind::Incident,
        by,
        from,
        to,
        unlinked: Some(repo::INCIDENTS),
    }
}
