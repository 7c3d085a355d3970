//! The improvement register of continual improvement: initiatives, each with an owner, the
//! KPI it means to move (a saved report), that KPI's baseline and target, a status, when it
//! started, and review notes; and the KPI's line since the start, week by week (month by
//! month past half a year), over the tasks the reader may see.
//!
//! Agents read the register; managers keep it, and an initiative's owner may review and
//! change their own.

use super::saved::{self, expected_version, object, text_field};
use super::{Aggregation, aggregate, table};
use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};
use sigap_domain::report::{
    self, Aggregate, Bucket, Dimension, GroupBy, ImprovementStatus, TaskNumber,
};
use sigap_domain::{ImprovementId, ImprovementReviewId, PersonId, ReportId, Role};
use sigap_domain::{parse_line, parse_text};
use sigap_store::improvements::{self as repo, ImprovementWrite};

/// An initiative as the reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Improvement {
    pub id: ImprovementId,
    pub title: String,
    pub description: String,
    pub owner: Option<(PersonId, String)>,
    /// The KPI: a saved report and its name.
    pub report: Option<(ReportId, String)>,
    /// In the KPI's unit as people read it (hours for a duration, percent for a rate).
    pub baseline: f64,
    pub target: f64,
    pub status: ImprovementStatus,
    pub started_on: Date,
    pub due_on: Option<Date>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
    /// Whether the reader may change it and review it.
    pub editable: bool,
}

/// A review note.
pub type Review = repo::Review;

/// The KPI's line since an initiative started.
#[derive(Debug, Clone, PartialEq)]
pub struct KpiLine {
    pub bucket: Bucket,
    pub time_zone: String,
    pub measure: Aggregate,
    pub of: Option<TaskNumber>,
    /// Each bucket's label and value (as people read it; none: no task had the number).
    pub points: Vec<(String, Option<f64>)>,
}

impl KpiLine {
    /// The latest value there is.
    pub fn latest(&self) -> Option<f64> {
        self.points.iter().rev().find_map(|p| p.1)
    }
}

/// An initiative with its reviews and its KPI's line (none when it has no KPI, or one the
/// reader may not open).
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub improvement: Improvement,
    pub reviews: Vec<Review>,
    pub line: Option<KpiLine>,
}

fn seen(ctx: &Ctx, i: repo::Improvement) -> AppResult<Improvement> {
    let status = ImprovementStatus::parse(&i.status)
        .map_err(|e| AppError::Internal(format!("improvement {}: {}", i.id, e.message)))?;
    let me = ctx.principal.person_id;
    let editable =
        ctx.principal.has(Role::Manager) || (me.is_some() && i.owner.as_ref().map(|o| o.0) == me);
    Ok(Improvement {
        id: i.id,
        title: i.title,
        description: i.description,
        owner: i.owner,
        report: i.report,
        baseline: i.baseline,
        target: i.target,
        status,
        started_on: i.started_on,
        due_on: i.due_on,
        created_at: i.created_at,
        updated_at: i.updated_at,
        version: i.version,
        editable,
    })
}

/// The register, of one status if one is given (agents).
pub async fn list(
    core: &Core,
    ctx: &Ctx,
    status: Option<ImprovementStatus>,
) -> AppResult<Vec<Improvement>> {
    ctx.principal.require(Role::Agent)?;
    let list = core
        .store
        .read(async move |tx| repo::list(tx, status.map(|s| s.code())).await)
        .await?;
    list.into_iter().map(|i| seen(ctx, i)).collect()
}

/// An initiative (agents).
pub async fn get(core: &Core, ctx: &Ctx, id: &str) -> AppResult<Improvement> {
    ctx.principal.require(Role::Agent)?;
    let id = ImprovementId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let found = core
        .store
        .read(async move |tx| repo::get(tx, id).await)
        .await?;
    seen(ctx, found.ok_or(AppError::NotFound)?)
}

/// An initiative with its reviews and its KPI's line as of now.
pub async fn progress(core: &Core, ctx: &Ctx, id: &str) -> AppResult<Progress> {
    let improvement = get(core, ctx, id).await?;
    let line = kpi_line(core, ctx, &improvement).await?;
    with_reviews(core, improvement, line).await
}

/// An initiative with its reviews, and its KPI's line as already run.
async fn with_reviews(
    core: &Core,
    improvement: Improvement,
    line: Option<KpiLine>,
) -> AppResult<Progress> {
    let iid = improvement.id;
    let reviews = core
        .store
        .read(async move |tx| repo::reviews(tx, iid).await)
        .await?;
    Ok(Progress {
        improvement,
        reviews,
        line,
    })
}

/// The buckets of a line from `start` to now: weeks up to half a year, months up to ten
/// years, quarters beyond.
fn bucket_for(days: i64) -> Bucket {
    match days {
        ..=183 => Bucket::Week,
        184..=3653 => Bucket::Month,
        _ => Bucket::Quarter,
    }
}

/// The KPI's line since the initiative started, over the tasks the reader may see: the
/// KPI report's tasks and measure, its groupings replaced by time buckets of its moment.
/// None when there is no KPI or the reader may not open it.
pub async fn kpi_line(core: &Core, ctx: &Ctx, i: &Improvement) -> AppResult<Option<KpiLine>> {
    let Some((report, _)) = &i.report else {
        return Ok(None);
    };
    let report = match saved::get(core, ctx, &report.to_string()).await {
        Ok(r) => r,
        Err(AppError::NotFound) => return Ok(None),
        Err(e) => return Err(e),
    };
    let d = &report.definition;
    let zone = d
        .time_zone
        .clone()
        .unwrap_or_else(|| ctx.principal.time_zone.clone());
    let tz = TimeZone::get(&zone).unwrap_or(TimeZone::UTC);
    let now = core.now();
    let from = i
        .started_on
        .to_zoned_datetime(tz.clone())
        .map_err(|e| AppError::field("started_on", "out_of_range", e.to_string()))?
        .timestamp();
    let days = now.duration_since(from).as_hours() / 24;
    let bucket = bucket_for(days);
    let empty = KpiLine {
        bucket,
        time_zone: zone.clone(),
        measure: d.measure,
        of: d.of,
        points: Vec::new(),
    };
    // Through the end of today, as a report's periods run.
    let to = now
        .to_zoned_datetime(tz.clone())
        .date()
        .tomorrow()
        .and_then(|d| d.to_zoned_datetime(tz.clone()))
        .map_err(|e| AppError::Internal(e.to_string()))?
        .timestamp();
    if from >= to {
        return Ok(Some(empty));
    }
    let Some(group) = GroupBy::ALL
        .iter()
        .copied()
        .find(|g| g.dimension() == Dimension::Time(d.time, bucket))
    else {
        return Err(AppError::Internal(format!(
            "no grouping by {} per {}",
            d.time.code(),
            bucket.code()
        )));
    };
    let a = Aggregation {
        source: d.source,
        group_by: vec![group],
        measure: d.measure,
        of: d.of,
        time: d.time,
        from,
        to,
        time_zone: Some(zone.clone()),
        states: d.states.clone(),
        priority: d.priority,
        category: d.category.clone(),
        queue: d.queue,
    };
    let lines = aggregate(core, ctx, a).await?.lines;
    let of = d.of.filter(|_| d.measure != Aggregate::Count);
    // Every bucket since the start: one without tasks counts none, and has no other measure.
    let slots = report::slots(bucket, from, to, &tz)
        .map_err(|e| AppError::field("started_on", e.code, e.message))?;
    let points = slots
        .into_iter()
        .map(|slot| {
            let line = lines
                .iter()
                .find(|l| l.keys.first().and_then(|k| k.key.as_deref()) == Some(&slot.label));
            let value = match (line, of) {
                (Some(l), _) => table::shown(l.value, of),
                (None, None) => Some(0.0),
                (None, Some(_)) => None,
            };
            (slot.label, value)
        })
        .collect();
    Ok(Some(KpiLine { points, ..empty }))
}

/// The fields of an initiative's body.
const FIELDS: &[&str] = &[
    "title",
    "description",
    "owner",
    "report",
    "baseline",
    "target",
    "status",
    "started_on",
    "due_on",
    "version",
];

/// An initiative's fields as read from a body.
struct Written {
    title: String,
    description: String,
    owner: Option<String>,
    report: Option<String>,
    baseline: f64,
    target: f64,
    status: ImprovementStatus,
    started_on: Date,
    due_on: Option<Date>,
}

/// A text field: none when absent or null.
/// A finite number field: none when absent.
fn number_of(o: &Map<String, Value>, k: &str, errs: &mut Vec<FieldError>) -> Option<f64> {
    match o.get(k) {
        None => None,
        Some(Value::Number(n)) => match n.as_f64().filter(|x| x.is_finite()) {
            Some(x) if x.abs() <= 1e12 => Some(x),
            _ => {
                errs.push(FieldError::new(
                    k,
                    "out_of_range",
                    "must be a number below 10^12",
                ));
                None
            }
        },
        Some(_) => {
            errs.push(FieldError::new(k, "invalid_type", "must be a number"));
            None
        }
    }
}

fn date_of(o: &Map<String, Value>, k: &str, errs: &mut Vec<FieldError>) -> Option<Option<Date>> {
    match o.get(k) {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s.trim().is_empty() => Some(None),
        Some(Value::String(s)) => match s.trim().parse::<Date>() {
            Ok(d) if d.year() >= 1900 => Some(Some(d)),
            _ => {
                errs.push(FieldError::new(
                    k,
                    "invalid_date",
                    "must be a date (YYYY-MM-DD) from 1900",
                ));
                None
            }
        },
        Some(_) => {
            errs.push(FieldError::new(
                k,
                "invalid_type",
                "must be a date (YYYY-MM-DD)",
            ));
            None
        }
    }
}

/// Reads a body; `before` fills in what a change leaves out.
fn read(body: &Value, before: Option<&Improvement>, today: Date) -> AppResult<Written> {
    let mut errs = Vec::new();
    let o = object(body, FIELDS, "improvement", &mut errs)?;
    let title = match (text_field(&o, "title", &mut errs), before) {
        (Some(t), _) => parse_line(&t, 200)
            .map_err(|e| errs.push(FieldError::from_invalid("title", e)))
            .unwrap_or_default(),
        (None, Some(b)) => b.title.clone(),
        (None, None) => {
            if !errs.iter().any(|e| e.field == "title") {
                errs.push(FieldError::new("title", "required", "is required"));
            }
            String::new()
        }
    };
    let description = match (text_field(&o, "description", &mut errs), before) {
        (Some(d), _) => parse_text(d.trim(), 10_000)
            .map_err(|e| errs.push(FieldError::from_invalid("description", e)))
            .unwrap_or_default(),
        (None, Some(b)) => b.description.clone(),
        (None, None) => String::new(),
    };
    let reference = |k: &str, errs: &mut Vec<FieldError>, current: Option<String>| match o.get(k) {
        None => current,
        Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) if s.chars().count() > 200 => {
            errs.push(FieldError::new(k, "too_long", "at most 200 characters"));
            None
        }
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(_) => {
            errs.push(FieldError::new(k, "invalid_type", "must be a text"));
            None
        }
    };
    let owner = reference(
        "owner",
        &mut errs,
        before.and_then(|b| b.owner.as_ref().map(|o| o.0.to_string())),
    );
    let report = reference(
        "report",
        &mut errs,
        before.and_then(|b| b.report.as_ref().map(|r| r.0.to_string())),
    );
    let number = |k: &str, current: Option<f64>, errs: &mut Vec<FieldError>| match (
        number_of(&o, k, errs),
        current,
    ) {
        (Some(x), _) => x,
        (None, Some(c)) if !o.contains_key(k) => c,
        (None, _) => {
            if !errs.iter().any(|e| e.field == k) {
                errs.push(FieldError::new(k, "required", "is required"));
            }
            0.0
        }
    };
    let baseline = number("baseline", before.map(|b| b.baseline), &mut errs);
    let target = number("target", before.map(|b| b.target), &mut errs);
    let status = match (text_field(&o, "status", &mut errs), before) {
        (Some(s), _) => ImprovementStatus::parse(s.trim())
            .map_err(|e| errs.push(FieldError::from_invalid("status", e)))
            .unwrap_or(ImprovementStatus::Proposed),
        (None, Some(b)) => b.status,
        (None, None) => ImprovementStatus::Proposed,
    };
    let started_on = match (date_of(&o, "started_on", &mut errs), before) {
        (Some(Some(d)), _) => d,
        (Some(None), _) => {
            errs.push(FieldError::new("started_on", "required", "is required"));
            today
        }
        (None, Some(b)) => b.started_on,
        (None, None) => today,
    };
    let due_on = match (date_of(&o, "due_on", &mut errs), before) {
        (Some(d), _) => d,
        (None, Some(b)) => b.due_on,
        (None, None) => None,
    };
    if due_on.is_some_and(|d| d < started_on) {
        errs.push(FieldError::new(
            "due_on",
            "before_start",
            "is before the initiative starts",
        ));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(Written {
        title,
        description,
        owner,
        report,
        baseline,
        target,
        status,
        started_on,
        due_on,
    })
}

/// The owner and the KPI named by a body: a person, and a report the writer may open.
async fn references(
    core: &Core,
    ctx: &Ctx,
    w: &Written,
) -> AppResult<(Option<PersonId>, Option<ReportId>)> {
    let report = match &w.report {
        None => None,
        Some(r) => match saved::get(core, ctx, r).await {
            Ok(r) => Some(r.id),
            Err(AppError::NotFound) => {
                return Err(AppError::field(
                    "report",
                    "not_found",
                    "no such report that you may open",
                ));
            }
            Err(e) => return Err(e),
        },
    };
    let owner = w.owner.clone();
    let owner = core
        .store
        .read(async move |tx| crate::refs::person(tx, "owner", &Some(owner), None).await)
        .await?;
    Ok((owner, report))
}

fn audit_of(w: &Written, owner: Option<PersonId>, report: Option<ReportId>) -> Value {
    json!({
        "title": w.title,
        "owner": owner.map(|o| o.to_string()),
        "report": report.map(|r| r.to_string()),
        "baseline": w.baseline,
        "target": w.target,
        "status": w.status.code(),
        "started_on": w.started_on.to_string(),
        "due_on": w.due_on.map(|d| d.to_string()),
    })
}

/// The reader's today, in their time zone.
fn today(core: &Core, ctx: &Ctx) -> Date {
    let tz = TimeZone::get(&ctx.principal.time_zone).unwrap_or(TimeZone::UTC);
    core.now().to_zoned_datetime(tz).date()
}

/// Records a new initiative (managers).
pub async fn create(core: &Core, ctx: &Ctx, body: &Value) -> AppResult<Improvement> {
    ctx.principal.require(Role::Manager)?;
    let w = read(body, None, today(core, ctx))?;
    let (owner, report) = references(core, ctx, &w).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let id = ImprovementId::new();
    core.store
        .write(async move |tx| {
            repo::insert(
                tx,
                &ImprovementWrite {
                    id,
                    title: &w.title,
                    description: &w.description,
                    owner_id: owner,
                    report_id: report,
                    baseline: w.baseline,
                    target: w.target,
                    status: w.status.code(),
                    started_on: w.started_on,
                    due_on: w.due_on,
                    now,
                },
            )
            .await?;
            audit::record(
                tx,
                &actor,
                now,
                "improvement",
                &id.to_string(),
                "create",
                audit_of(&w, owner, report),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    get(core, ctx, &id.to_string()).await
}

/// Changes an initiative: the fields given (managers, and its owner).
pub async fn update(
    core: &Core,
    ctx: &Ctx,
    id: &str,
    body: &Value,
    version: Option<i64>,
) -> AppResult<Improvement> {
    let before = get(core, ctx, id).await?;
    if !before.editable {
        return Err(AppError::Forbidden);
    }
    let w = read(body, Some(&before), today(core, ctx))?;
    let expected = expected_version(body, version)?;
    if expected.is_some_and(|v| v != before.version) {
        return Err(AppError::PreconditionFailed);
    }
    let (owner, report) = references(core, ctx, &w).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let (id, stored) = (before.id, before.version);
    core.store
        .write(async move |tx| {
            let done = repo::update(
                tx,
                &ImprovementWrite {
                    id,
                    title: &w.title,
                    description: &w.description,
                    owner_id: owner,
                    report_id: report,
                    baseline: w.baseline,
                    target: w.target,
                    status: w.status.code(),
                    started_on: w.started_on,
                    due_on: w.due_on,
                    now,
                },
                stored,
            )
            .await?;
            if !done {
                return Err(AppError::PreconditionFailed);
            }
            audit::record(
                tx,
                &actor,
                now,
                "improvement",
                &id.to_string(),
                "update",
                audit_of(&w, owner, report),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    get(core, ctx, &id.to_string()).await
}

/// Removes an initiative and its reviews (managers); one that is not there is removed.
pub async fn delete(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    ctx.principal.require(Role::Manager)?;
    let i = match get(core, ctx, id).await {
        Ok(i) => i,
        Err(AppError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            if repo::delete(tx, i.id).await? {
                audit::record(
                    tx,
                    &actor,
                    now,
                    "improvement",
                    &i.id.to_string(),
                    "delete",
                    json!({"title": i.title}),
                )
                .await?;
            }
            Ok::<_, AppError>(())
        })
        .await
}

/// Adds a review note, moving the initiative to `status` if one is given; the note keeps
/// the KPI's latest value (managers, and its owner).
pub async fn review(core: &Core, ctx: &Ctx, id: &str, body: &Value) -> AppResult<Progress> {
    let before = get(core, ctx, id).await?;
    if !before.editable {
        return Err(AppError::Forbidden);
    }
    let mut errs = Vec::new();
    let o = object(body, &["note", "status"], "review", &mut errs)?;
    let note = match text_field(&o, "note", &mut errs) {
        Some(n) => parse_text(n.trim(), 10_000)
            .and_then(|n| match n.is_empty() {
                true => Err(sigap_domain::InvalidValue::new(
                    "required",
                    "must not be empty",
                )),
                false => Ok(n),
            })
            .map_err(|e| errs.push(FieldError::from_invalid("note", e)))
            .unwrap_or_default(),
        None => {
            if !errs.iter().any(|e| e.field == "note") {
                errs.push(FieldError::new("note", "required", "is required"));
            }
            String::new()
        }
    };
    let status = match text_field(&o, "status", &mut errs) {
        Some(s) => ImprovementStatus::parse(s.trim())
            .map_err(|e| errs.push(FieldError::from_invalid("status", e)))
            .unwrap_or(before.status),
        None => before.status,
    };
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    // The line is run once: its latest value goes with the note, and the line with the answer.
    let line = kpi_line(core, ctx, &before).await?;
    let measured = line.as_ref().and_then(KpiLine::latest);
    let (actor, now) = (Actor::of(ctx), core.now());
    let (iid, stored) = (before.id, before.version);
    let r = Review {
        id: ImprovementReviewId::new(),
        author_id: actor.id,
        author: actor.name.clone(),
        note,
        status: status.code().to_owned(),
        measured,
        created_at: now,
    };
    core.store
        .write(async move |tx| {
            if repo::count_reviews(tx, iid).await? >= repo::MAX_REVIEWS {
                return Err(AppError::field(
                    "note",
                    "too_many",
                    format!("at most {} review notes", repo::MAX_REVIEWS),
                ));
            }
            if !repo::set_status(tx, iid, status.code(), now, stored).await? {
                return Err(AppError::PreconditionFailed);
            }
            repo::insert_review(tx, iid, &r).await?;
            audit::record(
                tx,
                &actor,
                now,
                "improvement",
                &iid.to_string(),
                "update",
                json!({"review": true, "status": status.code(), "measured": measured}),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    let after = get(core, ctx, &iid.to_string()).await?;
    with_reviews(core, after, line).await
}
