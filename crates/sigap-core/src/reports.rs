//! Reports over the processes' tasks: the tasks of one kind that a viewer may see, over a
//! period of one of their moments, grouped by up to two fields or time buckets (in the
//! viewer's time zone, or one given), with one measure of each group. The aggregate API
//! asks here; saved reports and dashboards are built on it.

use crate::Core;
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sigap_domain::report::{self, Aggregate, Bucket, Dimension, GroupBy, TaskNumber, TaskTime};
use sigap_domain::task::{StateModel, TaskKind};
use sigap_store::reports::{self as repo, Group, TaskReport};
use sigap_store::task::{Extension, TaskFilter};
use sigap_store::{changes, incidents, problems, requests};

pub use sigap_store::reports::{Key, Line};

/// 0001-01-01T00:00:00Z, the earliest time a report looks at.
const EARLIEST: Timestamp = Timestamp::constant(-62_135_596_800, 0);

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
        TaskKind::ProblemTask | TaskKind::Article => Err(AppError::NotFound),
    }
}

async fn run<E: Extension>(core: &Core, ctx: &Ctx, a: Aggregation) -> AppResult<Aggregated> {
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
    if let Some(p) = a.priority.filter(|p| !(1..=5).contains(p)) {
        errs.push(FieldError::new(
            "priority",
            "out_of_range",
            format!("{p} is not a priority from 1 to 5"),
        ));
    }
    let mut states = Vec::new();
    for s in &a.states {
        match E::State::parse_code(s) {
            Ok(state) => states.push(state),
            Err(e) => errs.push(FieldError::new("state", e.code, e.message)),
        }
    }
    let (Some(tz), true) = (tz, errs.is_empty()) else {
        return Err(AppError::Validation(errs));
    };
    // No task is older than the year 1 (nor can PostgreSQL hold an earlier time): a period
    // wholly before it counts nothing, one that begins before it begins there.
    if a.to <= EARLIEST {
        // As the database answers an empty period: no groups, or one line of nothing.
        let lines = match a.group_by.is_empty() {
            true => vec![Line {
                keys: Vec::new(),
                count: 0,
                value: (a.measure == Aggregate::Count).then_some(0.0),
            }],
            false => Vec::new(),
        };
        return Ok(Aggregated {
            time_zone: tz.iana_name().unwrap_or("UTC").to_owned(),
            lines,
        });
    }
    let a = Aggregation {
        from: a.from.max(EARLIEST),
        ..a
    };
    let mut groups = Vec::with_capacity(a.group_by.len());
    for g in &a.group_by {
        groups.push(match g.dimension() {
            Dimension::Field(f) => Group::Field(f),
            Dimension::Time(t, b) => Group::Time(t, slots(b, a.from, a.to, &tz)?),
        });
    }
    let filter = TaskFilter::<E::State> {
        visibility,
        states,
        priority: a.priority,
        category: a.category.filter(|c| !c.trim().is_empty()),
        ..Default::default()
    };
    let (measure, number) = match a.measure {
        Aggregate::Count => (Aggregate::Count, None),
        m => (m, a.of),
    };
    let period = (a.time, a.from, a.to);
    let lines = core
        .store
        .read(async move |tx| {
            let r = TaskReport {
                filter: &filter,
                period,
                groups: &groups,
                measure,
                number,
            };
            repo::run::<E>(tx, &r).await
        })
        .await?;
    Ok(Aggregated {
        time_zone: tz.iana_name().unwrap_or("UTC").to_owned(),
        lines,
    })
}

/// The buckets of the period, or why it cannot be cut so.
fn slots(b: Bucket, from: Timestamp, to: Timestamp, tz: &TimeZone) -> AppResult<Vec<report::Slot>> {
    report::slots(b, from, to, tz).map_err(|e| AppError::field("group_by", e.code, e.message))
}
