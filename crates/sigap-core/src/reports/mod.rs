//! Reports over the processes' tasks (the tasks of one kind that a viewer may see) and over
//! the SLA clocks, configuration items, alerts and approvals: over a period of one of their
//! moments, grouped by up to two fields or time buckets (in the viewer's time zone, or one
//! given), with one measure of each group. The aggregate API asks here; saved reports and
//! dashboards are built on it.

use crate::Core;
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sigap_domain::report::{
    self, Aggregate, Bucket, Dimension, GroupBy, Queue, Source, TaskNumber, TaskTime,
};

pub mod chart;
pub mod dashboards;
pub mod improvements;
pub mod pdf;
pub mod saved;
pub mod schedules;
pub mod svg;
pub mod table;
use crate::task::Process;
use sigap_domain::Role;
use sigap_domain::task::{StateModel, TaskKind};
use sigap_store::reports::{self as repo, Group, RecordReport, TaskReport};
use sigap_store::task::{Extension, TaskFilter};
use sigap_store::{changes, incidents, knowledge, problems, requests};

pub use sigap_store::reports::{Key, Line};

use sigap_domain::report::EARLIEST;

/// The most groupings of a report.
pub const MAX_GROUPS: usize = 2;

/// What a report asks, as given: checked by `aggregate`.
#[derive(Debug, Clone)]
pub struct Aggregation {
    pub source: Source,
    pub group_by: Vec<GroupBy>,
    pub measure: Aggregate,
    /// What the measure is of (required unless it counts).
    pub of: Option<TaskNumber>,
    /// The moment the period is of (one of the source's).
    pub time: TaskTime,
    pub from: Timestamp,
    pub to: Timestamp,
    /// The time zone of the buckets (the viewer's when none is given).
    pub time_zone: Option<String>,
    /// State codes of the source's process.
    pub states: Vec<String>,
    /// 1 (the highest) to 5.
    pub priority: Option<i64>,
    pub category: Option<String>,
    /// The reader's queue (open tasks unless states are given).
    pub queue: Option<Queue>,
}

/// A report's answer: its lines, and the time zone its buckets are in.
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregated {
    pub time_zone: String,
    pub lines: Vec<Line>,
}

/// Runs an aggregation over the records the viewer may see: tasks (a customer's agent:
/// their organization's; a requester: their own); SLA clocks, alerts and approvals (agents;
/// a customer's agent: those of their organization's tasks); CIs (the provider's agents).
pub async fn aggregate(core: &Core, ctx: &Ctx, a: Aggregation) -> AppResult<Aggregated> {
    let Some(kind) = a.source.task_kind() else {
        return run_other(core, ctx, a).await;
    };
    match kind {
        TaskKind::Incident => run::<incidents::IncidentExt>(core, ctx, a).await,
        TaskKind::Problem => run::<problems::ProblemExt>(core, ctx, a).await,
        TaskKind::Change => run::<changes::ChangeExt>(core, ctx, a).await,
        TaskKind::ChangeTask => run::<changes::ChangeTaskExt>(core, ctx, a).await,
        TaskKind::Request => run::<requests::RequestExt>(core, ctx, a).await,
        TaskKind::RequestItem => run::<requests::RequestItemExt>(core, ctx, a).await,
        TaskKind::FulfilmentTask => run::<requests::CatalogTaskExt>(core, ctx, a).await,
        TaskKind::Article => run::<knowledge::ArticleExt>(core, ctx, a).await,
        TaskKind::ProblemTask => Err(AppError::NotFound),
    }
}

/// A task's page under the desk: `/incidents`, `/change_tasks`…
pub fn task_path(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Incident => incidents::IncidentExt::PATH,
        TaskKind::Problem | TaskKind::ProblemTask => problems::ProblemExt::PATH,
        TaskKind::Change => changes::ChangeExt::PATH,
        TaskKind::ChangeTask => changes::ChangeTaskExt::PATH,
        TaskKind::Request => requests::RequestExt::PATH,
        TaskKind::RequestItem => requests::RequestItemExt::PATH,
        TaskKind::FulfilmentTask => requests::CatalogTaskExt::PATH,
        TaskKind::Article => knowledge::ArticleExt::PATH,
    }
}

/// The most tasks behind one line that `behind` gives.
pub const MAX_BEHIND: i64 = 500;

/// A record behind a line of a report, as a list shows it: a task; an SLA clock or an
/// approval (with its task's number, description, priority and page); an alert; a CI (its
/// name as the number, its class as the description).
#[derive(Debug, Clone, PartialEq)]
pub struct Behind {
    pub id: uuid::Uuid,
    pub number: String,
    pub short_description: String,
    /// Its state code (a clock's stage, a CI's status).
    pub state: String,
    /// A task's (or a clock's or an approval's task's).
    pub priority: Option<i64>,
    /// A task's assignment group, the group asked to approve, a CI's owner.
    pub assignment_group: Option<String>,
    /// A task's assignee, a clock's target, an approval's approver, an alert's node, a
    /// CI's location.
    pub assigned_to: Option<String>,
    /// When it was opened (started, asked, first seen, recorded) and resolved (ended,
    /// decided, closed).
    pub opened_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// Its page: `/incidents/INC0000001`.
    pub path: String,
}

/// The tasks behind one line of an aggregation (its keys, one for each grouping, in their
/// order; none: the line of tasks without one), newest first, at most `MAX_BEHIND`.
pub async fn behind(
    core: &Core,
    ctx: &Ctx,
    a: Aggregation,
    keys: Vec<Option<String>>,
) -> AppResult<Vec<Behind>> {
    let Some(kind) = a.source.task_kind() else {
        return drill_other(core, ctx, a, keys).await;
    };
    match kind {
        TaskKind::Incident => drill::<incidents::IncidentExt>(core, ctx, a, keys).await,
        TaskKind::Problem => drill::<problems::ProblemExt>(core, ctx, a, keys).await,
        TaskKind::Change => drill::<changes::ChangeExt>(core, ctx, a, keys).await,
        TaskKind::ChangeTask => drill::<changes::ChangeTaskExt>(core, ctx, a, keys).await,
        TaskKind::Request => drill::<requests::RequestExt>(core, ctx, a, keys).await,
        TaskKind::RequestItem => drill::<requests::RequestItemExt>(core, ctx, a, keys).await,
        TaskKind::FulfilmentTask => drill::<requests::CatalogTaskExt>(core, ctx, a, keys).await,
        TaskKind::Article => drill::<knowledge::ArticleExt>(core, ctx, a, keys).await,
        TaskKind::ProblemTask => Err(AppError::NotFound),
    }
}

/// An aggregation checked and made ready for the database.
#[derive(Clone)]
struct Ready<S> {
    tz: TimeZone,
    filter: TaskFilter<S>,
    groups: Vec<Group>,
    measure: Aggregate,
    number: Option<TaskNumber>,
    /// None: the period is wholly before the year 1, where nothing is.
    period: Option<(TaskTime, Timestamp, Timestamp)>,
    /// The reader's groups' tasks only (filled in where the report runs).
    my_groups: Option<sigap_domain::PersonId>,
    /// When it runs.
    now: Timestamp,
}

impl<S: Clone> Ready<S> {
    /// Narrows the filter to the reader's groups where the report asks for them: false
    /// when the reader is in no group (the report counts nothing).
    async fn place(&mut self, tx: &mut sigap_store::Tx<'_>) -> AppResult<bool> {
        if let Some(me) = self.my_groups {
            let groups = sigap_store::groups::of_person(tx, me).await?;
            self.filter.groups = groups.iter().map(|g| g.id).collect();
            return Ok(!self.filter.groups.is_empty());
        }
        Ok(true)
    }

    fn zone(&self) -> String {
        self.tz.iana_name().unwrap_or("UTC").to_owned()
    }

    fn report(&self) -> Option<TaskReport<'_, S>> {
        Some(TaskReport {
            filter: &self.filter,
            period: self.period?,
            groups: &self.groups,
            measure: self.measure,
            number: self.number,
            now: self.now,
        })
    }
}

/// The checks every aggregation passes, whatever its source: its time zone (or the
/// viewer's), and every fault of its period, groupings, measure and filter.
fn checked(ctx: &Ctx, a: &Aggregation) -> (Option<TimeZone>, Vec<FieldError>) {
    let mut errs = Vec::new();
    let zone_name = a
        .time_zone
        .clone()
        .unwrap_or_else(|| ctx.principal.time_zone.clone());
    let tz = match TimeZone::get(zone_name.trim()) {
        Ok(tz) => Some(tz),
        Err(_) => {
            errs.push(FieldError::new(
                "tz",
                "invalid_value",
                "must be a time zone of the IANA database, such as Europe/Amsterdam",
            ));
            None
        }
    };
    if a.to <= a.from {
        errs.push(FieldError::new(
            "to",
            "before_start",
            "the period ends before it starts",
        ));
    }
    if a.group_by.len() > MAX_GROUPS {
        errs.push(FieldError::new(
            "group_by",
            "too_many",
            format!("at most {MAX_GROUPS} groupings"),
        ));
    }
    if a.group_by.len() == 2 && a.group_by[0] == a.group_by[1] {
        errs.push(FieldError::new(
            "group_by",
            "repeated",
            "the two groupings are the same",
        ));
    }
    for g in &a.group_by {
        if let Some(e) = report::groupable(a.source, *g) {
            errs.push(FieldError::new("group_by", e.code, e.message));
        }
    }
    if let Some(e) = report::timed(a.source, a.time) {
        errs.push(FieldError::new("time", e.code, e.message));
    }
    if a.measure != Aggregate::Count && a.of.is_none() {
        errs.push(FieldError::new(
            "of",
            "required",
            "is required to measure anything but a count",
        ));
    }
    if let Some(e) =
        a.of.and_then(|of| report::measurable(a.source, a.measure, of))
    {
        errs.push(FieldError::new("of", e.code, e.message));
    }
    if let Some(p) = a.priority.filter(|p| !(1..=5).contains(p)) {
        errs.push(FieldError::new(
            "priority",
            "out_of_range",
            format!("{p} is not a priority from 1 to 5"),
        ));
    }
    let no = |field: &'static str, what: &str| {
        FieldError::new(
            field,
            "not_of_source",
            format!("a {} has no {what}", a.source.code()),
        )
    };
    if !a.source.of_tasks() && a.priority.is_some() {
        errs.push(no("priority", "priority"));
    }
    if !a.source.of_tasks() && a.category.as_deref().is_some_and(|c| !c.trim().is_empty()) {
        errs.push(no("category", "category"));
    }
    if a.source.task_kind().is_none() && a.queue.is_some() {
        errs.push(no("queue", "queue"));
    }
    if let Some(known) = a.source.states() {
        for s in &a.states {
            if !known.contains(&s.as_str()) {
                errs.push(FieldError::new(
                    "state",
                    "invalid_choice",
                    format!("must be one of: {}", known.join(", ")),
                ));
            }
        }
    }
    (tz, errs)
}

/// Checks an aggregation over tasks for the viewer: every fault, with its parameter.
fn ready<E: Extension>(ctx: &Ctx, a: Aggregation, now: Timestamp) -> AppResult<Ready<E::State>> {
    let visibility = crate::task::visibility(ctx)?;
    let (tz, mut errs) = checked(ctx, &a);
    let mut states: Vec<E::State> = Vec::new();
    for s in &a.states {
        match E::State::parse_code(s) {
            Ok(state) => states.push(state),
            Err(e) => errs.push(FieldError::new("state", e.code, e.message)),
        }
    }
    let (Some(tz), true) = (tz, errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    if a.queue.is_some() && states.is_empty() {
        states = E::State::all()
            .iter()
            .copied()
            .filter(|s| !s.is_final())
            .collect();
    }
    let mut filter = TaskFilter::<E::State> {
        visibility,
        states,
        priority: a.priority,
        category: a.category.clone().filter(|c| !c.trim().is_empty()),
        ..Default::default()
    };
    let mut my_groups = false;
    match a.queue {
        None => {}
        Some(Queue::Mine) => filter.assigned_to = Some(ctx.principal.person()?),
        Some(Queue::MyGroups) => {
            ctx.principal.person()?;
            my_groups = true;
        }
        Some(Queue::Unassigned) => filter.unassigned = true,
    }
    let (measure, number) = match a.measure {
        Aggregate::Count => (Aggregate::Count, None),
        m => (m, a.of),
    };
    let (groups, period) = shape(&a, &tz)?;
    Ok(Ready {
        tz,
        filter,
        groups,
        measure,
        number,
        period,
        my_groups: if my_groups {
            ctx.principal.person_id
        } else {
            None
        },
        now,
    })
}

/// An aggregation's groupings and period as the database runs them. No record is older than
/// the year 1 (nor can PostgreSQL hold an earlier time): a period wholly before it has none
/// (it counts nothing), one that begins before it begins there.
#[allow(clippy::type_complexity)]
fn shape(
    a: &Aggregation,
    tz: &TimeZone,
) -> AppResult<(Vec<Group>, Option<(TaskTime, Timestamp, Timestamp)>)> {
    if a.to <= EARLIEST {
        return Ok((Vec::new(), None));
    }
    let from = a.from.max(EARLIEST);
    let mut groups = Vec::with_capacity(a.group_by.len());
    for g in &a.group_by {
        groups.push(match g.dimension() {
            Dimension::Field(f) => Group::Field(f),
            Dimension::Time(t, b) => Group::Time(t, slots(b, from, a.to, tz)?),
        });
    }
    Ok((groups, Some((a.time, from, a.to))))
}

/// An aggregation over SLA clocks, CIs, alerts or approvals, checked for the viewer.
#[derive(Clone)]
struct ReadyOther {
    tz: TimeZone,
    source: Source,
    organization: Option<sigap_domain::OrgId>,
    states: Vec<String>,
    priority: Option<i64>,
    category: Option<String>,
    groups: Vec<Group>,
    measure: Aggregate,
    number: Option<TaskNumber>,
    period: Option<(TaskTime, Timestamp, Timestamp)>,
    now: Timestamp,
}

impl ReadyOther {
    fn report(&self) -> Option<RecordReport<'_>> {
        Some(RecordReport {
            source: self.source,
            organization: self.organization,
            states: &self.states,
            priority: self.priority,
            category: self.category.as_deref(),
            period: self.period?,
            groups: &self.groups,
            measure: self.measure,
            number: self.number,
            now: self.now,
        })
    }
}

/// Checks an aggregation over another source than tasks for the viewer: agents only (a
/// customer's agent sees the clocks and approvals of their organization's tasks and the
/// alerts of its incidents; the CMDB is the provider's).
fn ready_other(ctx: &Ctx, a: Aggregation, now: Timestamp) -> AppResult<ReadyOther> {
    ctx.principal.require(Role::Agent)?;
    if a.source == Source::Ci {
        ctx.principal.require_provider_agent()?;
    }
    let (tz, errs) = checked(ctx, &a);
    let (Some(tz), true) = (tz, errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    let (groups, period) = shape(&a, &tz)?;
    let (measure, number) = match a.measure {
        Aggregate::Count => (Aggregate::Count, None),
        m => (m, a.of),
    };
    Ok(ReadyOther {
        tz,
        source: a.source,
        organization: ctx.principal.scope(),
        states: a.states,
        priority: a.priority,
        category: a.category.filter(|c| !c.trim().is_empty()),
        groups,
        measure,
        number,
        period,
        now,
    })
}

async fn run_other(core: &Core, ctx: &Ctx, a: Aggregation) -> AppResult<Aggregated> {
    let grouped = !a.group_by.is_empty();
    let r = ready_other(ctx, a, core.now())?;
    let time_zone = r.tz.iana_name().unwrap_or("UTC").to_owned();
    let lines = match r.period {
        None => nothing(grouped, r.measure),
        Some(_) => {
            core.store
                .read(async move |tx| match r.report() {
                    Some(report) => Ok(repo::run_other(tx, &report).await?),
                    None => Ok::<_, AppError>(Vec::new()),
                })
                .await?
        }
    };
    Ok(Aggregated { time_zone, lines })
}

async fn drill_other(
    core: &Core,
    ctx: &Ctx,
    a: Aggregation,
    keys: Vec<Option<String>>,
) -> AppResult<Vec<Behind>> {
    let keys = line_keys(&a, keys)?;
    let source = a.source;
    let r = ready_other(ctx, a, core.now())?;
    let records = core
        .store
        .read(async move |tx| match r.report() {
            Some(report) => Ok(repo::records_other(tx, &report, &keys, MAX_BEHIND).await?),
            None => Ok::<_, AppError>(Vec::new()),
        })
        .await?;
    Ok(records
        .into_iter()
        .map(|r| {
            let kind = r.task_kind.as_deref().and_then(|k| TaskKind::parse(k).ok());
            let path = match (source, kind) {
                (Source::Alert, _) => format!("/alerts/{}", r.number),
                (Source::Ci, _) => format!("/cmdb/{}", r.id),
                (_, Some(kind)) => format!("{}/{}", task_path(kind), r.number),
                (_, None) => String::new(),
            };
            Behind {
                id: r.id,
                number: r.number,
                short_description: r.summary,
                state: r.state,
                priority: r.priority,
                assignment_group: r.group,
                assigned_to: r.detail,
                opened_at: r.start,
                resolved_at: r.end,
                path,
            }
        })
        .collect())
}

/// The keys of one line of `a`, one for each grouping (`?keys=` of a report without
/// groupings: none).
fn line_keys(a: &Aggregation, keys: Vec<Option<String>>) -> AppResult<Vec<Option<String>>> {
    let keys = match (a.group_by.is_empty(), keys.as_slice()) {
        (true, [None]) => Vec::new(),
        _ => keys,
    };
    if keys.len() != a.group_by.len() {
        return Err(AppError::field(
            "key",
            "wrong_count",
            format!("a line of this report has {} keys", a.group_by.len()),
        ));
    }
    Ok(keys)
}

/// As the database answers over no tasks: no groups, or one line of nothing.
fn nothing(grouped: bool, measure: Aggregate) -> Vec<Line> {
    match grouped {
        false => vec![Line {
            keys: Vec::new(),
            count: 0,
            value: (measure == Aggregate::Count).then_some(0.0),
        }],
        true => Vec::new(),
    }
}

async fn run<E: Extension>(core: &Core, ctx: &Ctx, a: Aggregation) -> AppResult<Aggregated> {
    let grouped = !a.group_by.is_empty();
    let r = ready::<E>(ctx, a, core.now())?;
    if r.period.is_none() {
        return Ok(Aggregated {
            time_zone: r.zone(),
            lines: nothing(grouped, r.measure),
        });
    }
    let time_zone = r.zone();
    let lines = core
        .store
        .read(async move |tx| {
            let mut r = r;
            if !r.place(tx).await? {
                return Ok(nothing(grouped, r.measure));
            }
            match r.report() {
                Some(report) => Ok(repo::run::<E>(tx, &report).await?),
                None => Ok::<_, AppError>(Vec::new()),
            }
        })
        .await?;
    Ok(Aggregated { time_zone, lines })
}

async fn drill<E: Process>(
    core: &Core,
    ctx: &Ctx,
    a: Aggregation,
    keys: Vec<Option<String>>,
) -> AppResult<Vec<Behind>> {
    let keys = line_keys(&a, keys)?;
    let r = ready::<E>(ctx, a, core.now())?;
    let records = core
        .store
        .read(async move |tx| {
            let mut r = r;
            if !r.place(tx).await? {
                return Ok(Vec::new());
            }
            match r.report() {
                Some(report) => Ok(repo::records::<E>(tx, &report, &keys, MAX_BEHIND).await?),
                None => Ok::<_, AppError>(Vec::new()),
            }
        })
        .await?;
    Ok(records
        .into_iter()
        .map(|r| {
            let t = r.task;
            Behind {
                path: format!("{}/{}", E::PATH, t.number),
                id: t.id.as_uuid(),
                number: t.number,
                short_description: t.short_description,
                state: t.state.code().to_owned(),
                priority: Some(t.priority.get()),
                assignment_group: t.assignment_group.map(|g| g.name),
                assigned_to: t.assigned_to.map(|p| p.name),
                opened_at: t.opened_at,
                resolved_at: t.resolved_at,
            }
        })
        .collect())
}

/// The buckets of the period, or why it cannot be cut so.
fn slots(b: Bucket, from: Timestamp, to: Timestamp, tz: &TimeZone) -> AppResult<Vec<report::Slot>> {
    report::slots(b, from, to, tz).map_err(|e| AppError::field("group_by", e.code, e.message))
}
