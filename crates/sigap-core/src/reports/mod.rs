//! Reports over the processes' tasks: the tasks of one kind that a viewer may see, over a
//! period of one of their moments, grouped by up to two fields or time buckets (in the
//! viewer's time zone, or one given), with one measure of each group. The aggregate API
//! asks here; saved reports and dashboards are built on it.

use crate::Core;
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sigap_domain::report::{
    self, Aggregate, Bucket, Dimension, GroupBy, Queue, TaskNumber, TaskTime,
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
use sigap_domain::task::{StateModel, TaskKind};
use sigap_store::reports::{self as repo, Group, TaskReport};
use sigap_store::task::{Extension, TaskFilter};
use sigap_store::{changes, incidents, knowledge, problems, requests};

pub use sigap_store::reports::{Key, Line};

use sigap_domain::report::EARLIEST;

/// The most groupings of a report.
pub const MAX_GROUPS: usize = 2;

/// What a report asks, as given: checked by `aggregate`.
#[derive(Debug, Clone)]
pub struct Aggregation {
    pub source: TaskKind,
    pub group_by: Vec<GroupBy>,
    pub measure: Aggregate,
    /// What the measure is of (required unless it counts).
    pub of: Option<TaskNumber>,
    /// The moment the period is of (opened, by default).
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

/// Runs an aggregation over the tasks the viewer may see (a customer's agent: their
/// organization's; a requester: their own).
pub async fn aggregate(core: &Core, ctx: &Ctx, a: Aggregation) -> AppResult<Aggregated> {
    match a.source {
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

/// The most tasks behind one line that `behind` gives.
pub const MAX_BEHIND: i64 = 500;

/// A task behind a line of a report, as a list shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Behind {
    pub id: sigap_domain::TaskId,
    pub number: String,
    pub short_description: String,
    pub state: String,
    pub priority: i64,
    pub assignment_group: Option<String>,
    pub assigned_to: Option<String>,
    pub opened_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    /// The task's page: `/incidents/INC0000001`.
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
    match a.source {
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

/// Checks an aggregation for the viewer: every fault, with its parameter.
fn ready<E: Extension>(ctx: &Ctx, a: Aggregation, now: Timestamp) -> AppResult<Ready<E::State>> {
    let visibility = crate::task::visibility(ctx)?;
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
    if a.measure != Aggregate::Count && a.of.is_none() {
        errs.push(FieldError::new(
            "of",
            "required",
            "is required to measure anything but a count",
        ));
    }
    if let Some(e) =
        a.of.and_then(|of| report::measurable(E::KIND, a.measure, of))
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
        category: a.category.filter(|c| !c.trim().is_empty()),
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
    // No task is older than the year 1 (nor can PostgreSQL hold an earlier time): a period
    // wholly before it counts nothing, one that begins before it begins there.
    if a.to <= EARLIEST {
        return Ok(Ready {
            tz,
            filter,
            groups: Vec::new(),
            measure,
            number,
            period: None,
            my_groups: None,
            now,
        });
    }
    let from = a.from.max(EARLIEST);
    let mut groups = Vec::with_capacity(a.group_by.len());
    for g in &a.group_by {
        groups.push(match g.dimension() {
            Dimension::Field(f) => Group::Field(f),
            Dimension::Time(t, b) => Group::Time(t, slots(b, from, a.to, &tz)?),
        });
    }
    Ok(Ready {
        tz,
        filter,
        groups,
        measure,
        number,
        period: Some((a.time, from, a.to)),
        my_groups: if my_groups {
            ctx.principal.person_id
        } else {
            None
        },
        now,
    })
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
    // `?keys=` of a report without groupings: no keys.
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
                id: t.id,
                number: t.number,
                short_description: t.short_description,
                state: t.state.code().to_owned(),
                priority: t.priority.get(),
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
