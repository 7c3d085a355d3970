//! Service level management: business calendars, agreements (SLA, OLA, UC) with their
//! targets, the SLA clocks of tasks, the sweep that warns and escalates, and compliance
//! reporting.
//!
//! Clocks follow their task: every write of an incident runs [`on_task_change`] in the same
//! transaction. For each agreement that covers the task and each metric it has targets for,
//! the strictest matching target (the shortest duration) applies; its six conditions decide
//! whether the clock starts, pauses, resumes, stops, is cancelled or is reset. A change of
//! target (a new priority) keeps the clock's start and pauses and only recomputes its due
//! time. The clock's history is kept as events; everything shown is derived from them.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::principal::Ctx;
use crate::refs;
use crate::task::Process;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use sigap_domain::calendar::{BusinessCalendar, Holiday, Span};
use sigap_domain::sla::{
    self as rules, AgreementKind, Condition, Conditions, Ending, Interval, Live, Metric, Reading,
    Snapshot, Stage, Step, WhenStartFails,
};
use sigap_domain::task::{StateModel, TaskKind};
use sigap_domain::{
    AgreementId, CalendarId, ClockId, GroupId, HolidayId, PersonId, Role, TargetId, TaskId,
    parse_line, parse_text,
};
use sigap_store::incidents::Incident;
use sigap_store::sla::{
    self as repo, Agreement, AgreementFields, Calendar, CalendarFields, Clock, ClockEvent,
    HolidayRow, Target,
};
use sigap_store::task::{Record, Task};
use sigap_store::{StoreError, Tx};
use std::collections::HashMap;

/// Warning thresholds when a target names none, in percent.
pub const DEFAULT_THRESHOLDS: [i64; 3] = [50, 75, 100];
/// The name shown for the built-in always-open calendar.
pub const ALWAYS: &str = "24x7";
/// Threshold crossings older than this when the sweep finds them are recorded without a
/// message (the clock was paused, stopped being swept, or was started after the fact).
const STALE: SignedDuration = SignedDuration::from_mins(30);

fn invalid(field: &str, e: sigap_domain::InvalidValue) -> AppError {
    AppError::Validation(vec![FieldError::from_invalid(field, e)])
}

// ----- calendars -----

/// A calendar with its holidays.
#[derive(Debug, Clone)]
pub struct CalendarDetail {
    pub calendar: Calendar,
    pub hours: Vec<Vec<Span>>,
    pub holidays: Vec<HolidayRow>,
}

#[derive(Debug, Clone, Default)]
pub struct CalendarInput {
    pub name: Option<String>,
    pub time_zone: Option<String>,
    /// Seven lists (Monday first) of `HH:MM-HH:MM`.
    pub hours: Option<Vec<Vec<String>>>,
    pub description: Option<String>,
}

fn parse_hours(hours: &[Vec<String>]) -> AppResult<Vec<Vec<Span>>> {
    if hours.len() != 7 {
        return Err(AppError::field(
            "hours",
            "invalid_length",
            "give seven lists of intervals, Monday first",
        ));
    }
    let mut out = Vec::with_capacity(7);
    for (d, day) in hours.iter().enumerate() {
        if day.len() > 12 {
            return Err(AppError::field(
                &format!("hours.{d}"),
                "too_long",
                "at most 12 intervals a day",
            ));
        }
        let mut spans = Vec::new();
        for (i, text) in day.iter().enumerate() {
            spans.push(Span::parse(text).map_err(|e| invalid(&format!("hours.{d}.{i}"), e))?);
        }
        spans.sort();
        out.push(spans);
    }
    Ok(out)
}

fn hours_json(hours: &[Vec<Span>]) -> String {
    json!(
        hours
            .iter()
            .map(|d| d.iter().map(ToString::to_string).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    )
    .to_string()
}

fn stored_hours(c: &Calendar) -> Vec<Vec<Span>> {
    let lists: Vec<Vec<String>> = serde_json::from_str(&c.hours).unwrap_or_default();
    let mut out: Vec<Vec<Span>> = lists
        .iter()
        .map(|d| d.iter().filter_map(|t| Span::parse(t).ok()).collect())
        .collect();
    out.resize(7, Vec::new());
    out
}

/// The domain calendar of a stored one, in a time zone (the calendar's unless given).
fn domain_calendar(c: &Calendar, holidays: &[HolidayRow], zone: Option<&str>) -> BusinessCalendar {
    let tz = zone
        .and_then(|z| BusinessCalendar::zone(z).ok())
        .or_else(|| BusinessCalendar::zone(&c.time_zone).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let hours = stored_hours(c);
    let week: [Vec<Span>; 7] = std::array::from_fn(|i| hours.get(i).cloned().unwrap_or_default());
    let hs: Vec<Holiday> = holidays
        .iter()
        .map(|h| Holiday {
            date: h.day,
            closed: match (h.closed_from, h.closed_to) {
                (Some(a), Some(b)) => u16::try_from(a)
                    .ok()
                    .zip(u16::try_from(b).ok())
                    .and_then(|(a, b)| Span::new(a, b).ok()),
                _ => None,
            },
            recurring: h.recurring,
            name: h.name.clone(),
        })
        .collect();
    BusinessCalendar::new(tz, week, &hs)
}

fn calendar_audit(c: &Calendar) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!(c.name));
    m.insert("time_zone".into(), json!(c.time_zone));
    m.insert("hours".into(), json!(c.hours));
    m.insert("description".into(), json!(c.description));
    m
}

pub async fn calendars(core: &Core, ctx: &Ctx) -> AppResult<Vec<Calendar>> {
    ctx.principal.require(Role::Agent)?;
    Ok(core
        .store
        .read(async |tx| repo::calendars(tx).await)
        .await?)
}

async fn find_calendar(tx: &mut Tx<'_>, key: &str) -> AppResult<Calendar> {
    let key = key.trim();
    if let Some(id) = CalendarId::parse(key) {
        return match repo::calendar(tx, id).await {
            Ok(c) => Ok(c),
            Err(StoreError::NotFound) => Err(AppError::NotFound),
            Err(e) => Err(e.into()),
        };
    }
    repo::calendar_by_name(tx, key)
        .await?
        .ok_or(AppError::NotFound)
}

pub async fn calendar(core: &Core, ctx: &Ctx, key: &str) -> AppResult<CalendarDetail> {
    ctx.principal.require(Role::Agent)?;
    let key = key.to_owned();
    core.store
        .read(async move |tx| {
            let c = find_calendar(tx, &key).await?;
            let holidays = repo::holidays(tx, c.id).await?;
            Ok::<_, AppError>(CalendarDetail {
                hours: stored_hours(&c),
                calendar: c,
                holidays,
            })
        })
        .await
}

fn calendar_fields(input: &CalendarInput, mut f: CalendarFields) -> AppResult<CalendarFields> {
    let mut errs = Errors::new();
    if let Some(n) = &input.name {
        if let Some(n) = errs.take("name", parse_line(n, 100)) {
            f.name = n;
        }
    }
    if let Some(z) = &input.time_zone {
        match BusinessCalendar::zone(z) {
            Ok(_) => f.time_zone = z.trim().to_owned(),
            Err(e) => errs.push(FieldError::from_invalid("time_zone", e)),
        }
    }
    if let Some(d) = &input.description {
        if let Some(d) = errs.take("description", parse_text(d, 4000)) {
            f.description = d;
        }
    }
    errs.finish()?;
    if let Some(h) = &input.hours {
        f.hours = hours_json(&parse_hours(h)?);
    }
    Ok(f)
}

/// Creates a calendar (administrators); without hours it is Monday to Friday 08:00-17:00.
pub async fn create_calendar(core: &Core, ctx: &Ctx, input: CalendarInput) -> AppResult<Calendar> {
    ctx.principal.require(Role::Admin)?;
    if input.name.is_none() {
        return Err(AppError::field("name", "required", "is required"));
    }
    if input.time_zone.is_none() {
        return Err(AppError::field("time_zone", "required", "is required"));
    }
    let office = Span::new(8 * 60, 17 * 60).map_err(|e| invalid("hours", e))?;
    let default = sigap_domain::calendar::weekdays(office).to_vec();
    let f = calendar_fields(
        &input,
        CalendarFields {
            name: String::new(),
            time_zone: String::new(),
            hours: hours_json(&default),
            description: String::new(),
        },
    )?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let c = repo::insert_calendar(tx, &f, now).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "calendar",
                &c.id.to_string(),
                "create",
                None,
                Some(&calendar_audit(&c)),
            )
            .await?;
            Ok::<_, AppError>(c)
        })
        .await
}

pub async fn update_calendar(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: CalendarInput,
    if_match: Option<i64>,
) -> AppResult<Calendar> {
    ctx.principal.require(Role::Admin)?;
    let (actor, now, key) = (Actor::of(ctx), core.now(), key.to_owned());
    core.store
        .write(async move |tx| {
            let before = find_calendar(tx, &key).await?;
            crate::check_version(if_match, before.version)?;
            let f = calendar_fields(
                &input,
                CalendarFields {
                    name: before.name.clone(),
                    time_zone: before.time_zone.clone(),
                    hours: before.hours.clone(),
                    description: before.description.clone(),
                },
            )?;
            let after = crate::written(
                repo::update_calendar(tx, before.id, &f, before.version, now).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "calendar",
                &after.id.to_string(),
                "update",
                Some(&calendar_audit(&before)),
                Some(&calendar_audit(&after)),
            )
            .await?;
            Ok::<_, AppError>(after)
        })
        .await
}

/// Deletes a calendar no agreement uses.
pub async fn delete_calendar(core: &Core, ctx: &Ctx, key: &str) -> AppResult<()> {
    ctx.principal.require(Role::Admin)?;
    let (actor, now, key) = (Actor::of(ctx), core.now(), key.to_owned());
    core.store
        .write(async move |tx| {
            let c = find_calendar(tx, &key).await?;
            if repo::calendar_in_use(tx, c.id).await? {
                return Err(AppError::Conflict {
                    code: "in_use",
                    message: format!("an agreement uses the calendar {}", c.name),
                    field: None,
                });
            }
            repo::delete_calendar(tx, c.id).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "calendar",
                &c.id.to_string(),
                "delete",
                Some(&calendar_audit(&c)),
                None,
            )
            .await?;
            Ok(())
        })
        .await
}

#[derive(Debug, Clone, Default)]
pub struct HolidayInput {
    pub date: String,
    /// `HH:MM-HH:MM` closed; none closes the whole day.
    pub closed: Option<String>,
    pub recurring: bool,
    pub name: String,
}

fn holiday_row(calendar: CalendarId, h: &HolidayInput) -> AppResult<HolidayRow> {
    let day: Date = h
        .date
        .trim()
        .parse()
        .map_err(|_| AppError::field("date", "invalid_date", "write a date as 2026-12-25"))?;
    let closed = match h.closed.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        Some(c) => Some(Span::parse(c).map_err(|e| invalid("closed", e))?),
        None => None,
    };
    let name = if h.name.trim().is_empty() {
        String::new()
    } else {
        parse_line(&h.name, 200).map_err(|e| invalid("name", e))?
    };
    Ok(HolidayRow {
        id: HolidayId::new(),
        calendar_id: calendar,
        day,
        closed_from: closed.map(|s| i64::from(s.start)),
        closed_to: closed.map(|s| i64::from(s.end)),
        recurring: h.recurring,
        name,
    })
}

/// Adds holidays to a calendar (administrators).
pub async fn add_holidays(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    holidays: Vec<HolidayInput>,
) -> AppResult<Vec<HolidayRow>> {
    ctx.principal.require(Role::Admin)?;
    if holidays.len() > 5000 {
        return Err(AppError::field(
            "holidays",
            "too_long",
            "at most 5,000 at once",
        ));
    }
    let (actor, now, key) = (Actor::of(ctx), core.now(), key.to_owned());
    core.store
        .write(async move |tx| {
            let c = find_calendar(tx, &key).await?;
            let mut rows = Vec::with_capacity(holidays.len());
            for (i, h) in holidays.iter().enumerate() {
                let row = holiday_row(c.id, h).map_err(|e| match e {
                    AppError::Validation(errs) => AppError::Validation(
                        errs.into_iter()
                            .map(|f| FieldError::new(format!("holidays.{i}.{}", f.field), f.code, f.message))
                            .collect(),
                    ),
                    other => other,
                })?;
                rows.push(row);
            }
            let existing = repo::holidays(tx, c.id).await?;
            let mut added = Vec::new();
            for r in rows {
                // The same day and closure again is not added twice.
                if existing.iter().chain(added.iter()).any(|e: &HolidayRow| {
                    e.day == r.day && e.closed_from == r.closed_from && e.closed_to == r.closed_to && e.recurring == r.recurring
                }) {
                    continue;
                }
                repo::insert_holiday(tx, &r).await?;
                added.push(r);
            }
            audit::record(tx, &actor, now, "calendar", &c.id.to_string(), "update",
                json!({"holidays_added": [null, added.iter().map(|h| h.day.to_string()).collect::<Vec<_>>()]})).await?;
            Ok::<_, AppError>(added)
        })
        .await
}

pub async fn delete_holiday(core: &Core, ctx: &Ctx, key: &str, id: &str) -> AppResult<()> {
    ctx.principal.require(Role::Admin)?;
    let id = HolidayId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let (actor, now, key) = (Actor::of(ctx), core.now(), key.to_owned());
    core.store
        .write(async move |tx| {
            let c = find_calendar(tx, &key).await?;
            if !repo::delete_holiday(tx, c.id, id).await? {
                return Err(AppError::NotFound);
            }
            audit::record(
                tx,
                &actor,
                now,
                "calendar",
                &c.id.to_string(),
                "update",
                json!({"holiday_removed": [id.to_string(), null]}),
            )
            .await?;
            Ok(())
        })
        .await
}

/// Reads the holidays of an iCalendar file (`VEVENT`s with a `DTSTART`, a `SUMMARY`, and
/// `RRULE:FREQ=YEARLY` for yearly ones). Events with a time close that part of the day.
pub fn parse_ical(text: &str) -> AppResult<Vec<HolidayInput>> {
    // Unfold continuation lines first (RFC 5545 §3.1).
    let mut lines: Vec<String> = Vec::new();
    for raw in text.lines() {
        let raw = raw.trim_end_matches('\r');
        if (raw.starts_with(' ') || raw.starts_with('\t')) && !lines.is_empty() {
            if let Some(last) = lines.last_mut() {
                last.push_str(&raw[1..]);
            }
        } else {
            lines.push(raw.to_owned());
        }
    }
    if !lines.iter().any(|l| l.trim() == "BEGIN:VCALENDAR") {
        return Err(AppError::field(
            "file",
            "invalid_ical",
            "not an iCalendar file (no BEGIN:VCALENDAR)",
        ));
    }
    let mut out = Vec::new();
    let mut current: Option<(Option<String>, Option<String>, String, bool)> = None;
    for (n, line) in lines.iter().enumerate() {
        let (name_part, value) = match line.split_once(':') {
            Some(x) => x,
            None => continue,
        };
        let prop = name_part
            .split(';')
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match (prop.as_str(), value.trim()) {
            ("BEGIN", "VEVENT") => current = Some((None, None, String::new(), false)),
            ("END", "VEVENT") => {
                let Some((start, end, summary, yearly)) = current.take() else {
                    continue;
                };
                let Some(start) = start else {
                    return Err(AppError::field(
                        "file",
                        "invalid_ical",
                        format!("line {}: an event without DTSTART", n + 1),
                    ));
                };
                let date = |v: &str| -> AppResult<(String, Option<u16>)> {
                    let v = v.trim();
                    let d = v
                        .get(0..8)
                        .filter(|d| d.chars().all(|c| c.is_ascii_digit()))
                        .ok_or_else(|| {
                            AppError::field(
                                "file",
                                "invalid_ical",
                                format!("line {}: {v:?} is not a date", n + 1),
                            )
                        })?;
                    let iso = format!("{}-{}-{}", &d[0..4], &d[4..6], &d[6..8]);
                    let minute = v.get(9..13).and_then(|t| {
                        let h: u16 = t.get(0..2)?.parse().ok()?;
                        let m: u16 = t.get(2..4)?.parse().ok()?;
                        Some(h * 60 + m)
                    });
                    Ok((iso, minute))
                };
                let (day, from) = date(&start)?;
                let closed = match (from, end.as_deref().map(date).transpose()?) {
                    (Some(a), Some((end_day, Some(b)))) if end_day == day && b > a => Some(
                        format!("{:02}:{:02}-{:02}:{:02}", a / 60, a % 60, b / 60, b % 60),
                    ),
                    (Some(a), _) if a > 0 => Some(format!("{:02}:{:02}-24:00", a / 60, a % 60)),
                    _ => None,
                };
                out.push(HolidayInput {
                    date: day,
                    closed,
                    recurring: yearly,
                    name: summary
                        .chars()
                        .filter(|c| !c.is_control())
                        .take(200)
                        .collect(),
                });
            }
            ("DTSTART", v) => {
                if let Some(c) = current.as_mut() {
                    c.0 = Some(v.to_owned());
                }
            }
            ("DTEND", v) => {
                if let Some(c) = current.as_mut() {
                    c.1 = Some(v.to_owned());
                }
            }
            ("SUMMARY", v) => {
                if let Some(c) = current.as_mut() {
                    c.2 = v
                        .replace("\\,", ",")
                        .replace("\\;", ";")
                        .replace("\\n", " ");
                }
            }
            ("RRULE", v) => {
                if let Some(c) = current.as_mut() {
                    c.3 = v
                        .to_ascii_uppercase()
                        .split(';')
                        .any(|p| p == "FREQ=YEARLY");
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

// ----- agreements and targets -----

/// An agreement with its services and targets.
#[derive(Debug, Clone)]
pub struct AgreementDetail {
    pub agreement: Agreement,
    pub services: Vec<sigap_store::task::NamedRef<sigap_domain::ServiceId>>,
    pub targets: Vec<Target>,
}

#[derive(Debug, Clone, Default)]
pub struct AgreementInput {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub customer: crate::refs::RefChange,
    pub supplier: crate::refs::RefChange,
    pub group: crate::refs::RefChange,
    /// Calendar id or name; none is the built-in 24x7.
    pub calendar: crate::refs::RefChange,
    pub tz_source: Option<String>,
    pub valid_from: Option<String>,
    pub valid_to: Option<Option<String>>,
    pub active: Option<bool>,
    pub description: Option<String>,
    /// Service ids or names; empty covers every service.
    pub services: Option<Vec<String>>,
}

const TZ_SOURCES: &[&str] = &["calendar", "caller", "ci_location", "location"];

fn agreement_audit(a: &Agreement) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::Map::new();
    m.insert("name".into(), json!(a.name));
    m.insert("kind".into(), json!(a.kind.code()));
    m.insert(
        "customer".into(),
        json!(a.customer.as_ref().map(|r| r.name.clone())),
    );
    m.insert(
        "supplier".into(),
        json!(a.supplier.as_ref().map(|r| r.name.clone())),
    );
    m.insert(
        "group".into(),
        json!(a.group.as_ref().map(|r| r.name.clone())),
    );
    m.insert(
        "calendar".into(),
        json!(a.calendar.as_ref().map(|r| r.name.clone())),
    );
    m.insert("tz_source".into(), json!(a.tz_source));
    m.insert("valid_from".into(), json!(a.valid_from.to_string()));
    m.insert("valid_to".into(), json!(a.valid_to.map(|d| d.to_string())));
    m.insert("active".into(), json!(a.active));
    m
}

async fn find_agreement(tx: &mut Tx<'_>, key: &str) -> AppResult<Agreement> {
    let key = key.trim();
    if let Some(id) = AgreementId::parse(key) {
        return match repo::agreement(tx, id).await {
            Ok(a) => Ok(a),
            Err(StoreError::NotFound) => Err(AppError::NotFound),
            Err(e) => Err(e.into()),
        };
    }
    repo::agreement_by_name(tx, key)
        .await?
        .ok_or(AppError::NotFound)
}

async fn detail_in(tx: &mut Tx<'_>, a: Agreement) -> AppResult<AgreementDetail> {
    let services = repo::agreement_services(tx)
        .await?
        .into_iter()
        .filter(|(id, _)| *id == a.id)
        .map(|(_, s)| s)
        .collect();
    let targets = repo::targets(tx)
        .await?
        .into_iter()
        .filter(|t| t.agreement_id == a.id)
        .collect();
    Ok(AgreementDetail {
        agreement: a,
        services,
        targets,
    })
}

pub async fn agreements(core: &Core, ctx: &Ctx) -> AppResult<Vec<AgreementDetail>> {
    ctx.principal.require(Role::Agent)?;
    core.store
        .read(async |tx| {
            let all = repo::agreements(tx).await?;
            let services = repo::agreement_services(tx).await?;
            let targets = repo::targets(tx).await?;
            Ok::<_, AppError>(
                all.into_iter()
                    .map(|a| AgreementDetail {
                        services: services
                            .iter()
                            .filter(|(id, _)| *id == a.id)
                            .map(|(_, s)| s.clone())
                            .collect(),
                        targets: targets
                            .iter()
                            .filter(|t| t.agreement_id == a.id)
                            .cloned()
                            .collect(),
                        agreement: a,
                    })
                    .collect(),
            )
        })
        .await
}

pub async fn agreement(core: &Core, ctx: &Ctx, key: &str) -> AppResult<AgreementDetail> {
    ctx.principal.require(Role::Agent)?;
    let key = key.to_owned();
    core.store
        .read(async move |tx| {
            let a = find_agreement(tx, &key).await?;
            detail_in(tx, a).await
        })
        .await
}

async fn agreement_fields(
    tx: &mut Tx<'_>,
    input: &AgreementInput,
    mut f: AgreementFields,
) -> AppResult<AgreementFields> {
    let mut errs = Errors::new();
    if let Some(n) = &input.name {
        if let Some(n) = errs.take("name", parse_line(n, 100)) {
            f.name = n;
        }
    }
    if let Some(k) = &input.kind {
        if let Some(k) = errs.take("kind", AgreementKind::parse(k.trim())) {
            f.kind = k;
        }
    }
    if let Some(t) = &input.tz_source {
        if TZ_SOURCES.contains(&t.trim()) {
            f.tz_source = t.trim().to_owned();
        } else {
            errs.push(FieldError::new(
                "tz_source",
                "invalid_choice",
                format!("must be one of: {}", TZ_SOURCES.join(", ")),
            ));
        }
    }
    let date = |field: &str, v: &str, errs: &mut Errors| -> Option<Date> {
        match v.trim().parse::<Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                errs.push(FieldError::new(
                    field,
                    "invalid_date",
                    "write a date as 2026-01-31",
                ));
                None
            }
        }
    };
    if let Some(v) = &input.valid_from {
        if let Some(d) = date("valid_from", v, &mut errs) {
            f.valid_from = d;
        }
    }
    match &input.valid_to {
        Some(Some(v)) if !v.trim().is_empty() => {
            if let Some(d) = date("valid_to", v, &mut errs) {
                f.valid_to = Some(d);
            }
        }
        Some(_) => f.valid_to = None,
        None => {}
    }
    if let Some(a) = input.active {
        f.active = a;
    }
    if let Some(d) = &input.description {
        if let Some(d) = errs.take("description", parse_text(d, 4000)) {
            f.description = d;
        }
    }
    errs.finish()?;
    if f.valid_to.is_some_and(|t| t < f.valid_from) {
        return Err(AppError::field(
            "valid_to",
            "before_start",
            "ends before it starts",
        ));
    }
    f.customer_id = refs::organization(tx, "customer", &input.customer, f.customer_id).await?;
    f.supplier_id = refs::organization(tx, "supplier", &input.supplier, f.supplier_id).await?;
    f.group_id = refs::group(tx, "group", &input.group, f.group_id).await?;
    f.calendar_id = match &input.calendar {
        None => f.calendar_id,
        Some(None) => None,
        Some(Some(k)) if k.trim().is_empty() || k.trim() == ALWAYS => None,
        Some(Some(k)) => Some(match find_calendar(tx, k).await {
            Ok(c) => c.id,
            Err(AppError::NotFound) => {
                return Err(AppError::field("calendar", "not_found", "no such calendar"));
            }
            Err(e) => return Err(e),
        }),
    };
    match f.kind {
        AgreementKind::Sla => {}
        AgreementKind::Ola if f.group_id.is_none() => {
            return Err(AppError::field(
                "group",
                "required",
                "an OLA is with a support group",
            ));
        }
        AgreementKind::Uc if f.supplier_id.is_none() => {
            return Err(AppError::field(
                "supplier",
                "required",
                "an underpinning contract is with a supplier",
            ));
        }
        _ => {}
    }
    Ok(f)
}

async fn resolve_services(
    tx: &mut Tx<'_>,
    keys: &[String],
) -> AppResult<Vec<sigap_domain::ServiceId>> {
    let mut out = Vec::new();
    for (i, k) in keys.iter().enumerate().take(500) {
        let s = crate::portfolio::resolve(tx, k).await?.ok_or_else(|| {
            AppError::field(&format!("services.{i}"), "not_found", "no such service")
        })?;
        out.push(s.id);
    }
    Ok(out)
}

/// Creates an agreement (process managers: managers and administrators).
pub async fn create_agreement(
    core: &Core,
    ctx: &Ctx,
    input: AgreementInput,
) -> AppResult<AgreementDetail> {
    ctx.principal.require(Role::Manager)?;
    if input.name.is_none() {
        return Err(AppError::field("name", "required", "is required"));
    }
    if input.kind.is_none() {
        return Err(AppError::field(
            "kind",
            "required",
            "is required: sla, ola or uc",
        ));
    }
    let (actor, now) = (Actor::of(ctx), core.now());
    let today = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    core.store
        .write(async move |tx| {
            let f = agreement_fields(
                tx,
                &input,
                AgreementFields {
                    name: String::new(),
                    kind: AgreementKind::Sla,
                    customer_id: None,
                    supplier_id: None,
                    group_id: None,
                    calendar_id: None,
                    tz_source: "calendar".into(),
                    valid_from: today,
                    valid_to: None,
                    active: true,
                    description: String::new(),
                },
            )
            .await?;
            let a = repo::insert_agreement(tx, &f, now).await?;
            if let Some(keys) = &input.services {
                let ids = resolve_services(tx, keys).await?;
                repo::set_agreement_services(tx, a.id, &ids).await?;
            }
            audit::record_diff(
                tx,
                &actor,
                now,
                "agreement",
                &a.id.to_string(),
                "create",
                None,
                Some(&agreement_audit(&a)),
            )
            .await?;
            detail_in(tx, a).await
        })
        .await
}

pub async fn update_agreement(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: AgreementInput,
    if_match: Option<i64>,
) -> AppResult<AgreementDetail> {
    ctx.principal.require(Role::Manager)?;
    let (actor, now, key) = (Actor::of(ctx), core.now(), key.to_owned());
    core.store
        .write(async move |tx| {
            let before = find_agreement(tx, &key).await?;
            crate::check_version(if_match, before.version)?;
            let f = agreement_fields(tx, &input, before.fields()).await?;
            let after = crate::written(
                repo::update_agreement(tx, before.id, &f, before.version, now).await,
                if_match,
            )?;
            if let Some(keys) = &input.services {
                let ids = resolve_services(tx, keys).await?;
                repo::set_agreement_services(tx, after.id, &ids).await?;
            }
            audit::record_diff(
                tx,
                &actor,
                now,
                "agreement",
                &after.id.to_string(),
                "update",
                Some(&agreement_audit(&before)),
                Some(&agreement_audit(&after)),
            )
            .await?;
            detail_in(tx, after).await
        })
        .await
}

#[derive(Debug, Clone, Default)]
pub struct TargetInput {
    pub name: Option<String>,
    pub metric: Option<String>,
    pub duration_minutes: Option<i64>,
    pub applies_when: Option<Condition>,
    pub start: Option<Condition>,
    pub pause: Option<Condition>,
    pub resume: Option<Option<Condition>>,
    pub stop: Option<Condition>,
    pub cancel: Option<Condition>,
    pub reset: Option<Condition>,
    pub when_start_fails: Option<String>,
    pub thresholds: Option<Vec<i64>>,
    pub escalate_group: crate::refs::RefChange,
    pub notify_owner: Option<bool>,
    /// Measure against the task's own delivery time (a requested item's) where it has one.
    pub delivery_time: Option<bool>,
}

fn cond_json(c: &Condition) -> String {
    serde_json::to_string(c).unwrap_or_else(|_| "[]".into())
}

fn parse_cond(text: &str) -> Condition {
    serde_json::from_str(text).unwrap_or_default()
}

/// The conditions a stored target carries.
pub fn conditions(t: &Target) -> Conditions {
    Conditions {
        start: parse_cond(&t.start),
        pause: parse_cond(&t.pause),
        resume: t.resume.as_deref().map(parse_cond),
        stop: parse_cond(&t.stop),
        cancel: parse_cond(&t.cancel),
        reset: parse_cond(&t.reset),
        when_start_fails: WhenStartFails::parse(&t.when_start_fails)
            .unwrap_or(WhenStartFails::Cancel),
    }
}

/// The thresholds of a target, in percent, ascending.
pub fn thresholds(t: &Target) -> Vec<i64> {
    let mut v: Vec<i64> =
        serde_json::from_str(&t.thresholds).unwrap_or_else(|_| DEFAULT_THRESHOLDS.to_vec());
    v.sort_unstable();
    v.dedup();
    v
}

async fn apply_target(
    tx: &mut Tx<'_>,
    kind: AgreementKind,
    input: &TargetInput,
    mut t: Target,
    new: bool,
) -> AppResult<Target> {
    let mut errs = Errors::new();
    if let Some(n) = &input.name {
        if let Some(n) = errs.take("name", parse_line(n, 100)) {
            t.name = n;
        }
    }
    if let Some(m) = &input.metric {
        if let Some(m) = errs.take("metric", Metric::parse(m.trim())) {
            t.metric = m;
        }
    }
    if let Some(d) = input.duration_minutes {
        if (1..=60 * 24 * 366).contains(&d) {
            t.duration_secs = d * 60;
        } else {
            errs.push(FieldError::new(
                "duration_minutes",
                "out_of_range",
                "must be 1 minute to 366 days",
            ));
        }
    }
    errs.finish()?;
    if new {
        // Defaults by metric and kind once the metric is known.
        let d = Conditions::defaults(t.metric, kind);
        t.start = cond_json(&d.start);
        t.pause = cond_json(&d.pause);
        t.resume = None;
        t.stop = cond_json(&d.stop);
        t.cancel = cond_json(&d.cancel);
        t.reset = cond_json(&d.reset);
        t.when_start_fails = d.when_start_fails.code().into();
    }
    let set = |field: &str, c: &Option<Condition>, slot: &mut String| -> AppResult<()> {
        if let Some(c) = c {
            c.validate().map_err(|e| invalid(field, e))?;
            *slot = cond_json(c);
        }
        Ok(())
    };
    set("applies_when", &input.applies_when, &mut t.applies_when)?;
    set("start", &input.start, &mut t.start)?;
    set("pause", &input.pause, &mut t.pause)?;
    set("stop", &input.stop, &mut t.stop)?;
    set("cancel", &input.cancel, &mut t.cancel)?;
    set("reset", &input.reset, &mut t.reset)?;
    if let Some(r) = &input.resume {
        match r {
            Some(c) => {
                c.validate().map_err(|e| invalid("resume", e))?;
                t.resume = Some(cond_json(c));
            }
            None => t.resume = None,
        }
    }
    if let Some(w) = &input.when_start_fails {
        t.when_start_fails = WhenStartFails::parse(w.trim())
            .map_err(|e| invalid("when_start_fails", e))?
            .code()
            .into();
    }
    if let Some(th) = &input.thresholds {
        let mut v = th.clone();
        v.sort_unstable();
        v.dedup();
        if v.is_empty() || v.len() > 10 || v.iter().any(|p| !(1..=1000).contains(p)) {
            return Err(AppError::field(
                "thresholds",
                "out_of_range",
                "1 to 10 percentages between 1 and 1000",
            ));
        }
        t.thresholds = json!(v).to_string();
    }
    t.escalate_group_id = refs::group(
        tx,
        "escalate_group",
        &input.escalate_group,
        t.escalate_group_id,
    )
    .await?;
    if let Some(n) = input.notify_owner {
        t.notify_owner = n;
    }
    if let Some(d) = input.delivery_time {
        t.delivery_time = d;
    }
    if t.name.is_empty() {
        return Err(AppError::field("name", "required", "is required"));
    }
    if t.duration_secs <= 0 {
        return Err(AppError::field(
            "duration_minutes",
            "required",
            "is required",
        ));
    }
    Ok(t)
}

/// Adds a target to an agreement.
pub async fn add_target(
    core: &Core,
    ctx: &Ctx,
    agreement: &str,
    input: TargetInput,
) -> AppResult<Target> {
    ctx.principal.require(Role::Manager)?;
    if input.metric.is_none() {
        return Err(AppError::field(
            "metric",
            "required",
            "is required: response or resolution",
        ));
    }
    let (actor, now, key) = (Actor::of(ctx), core.now(), agreement.to_owned());
    core.store
        .write(async move |tx| {
            let a = find_agreement(tx, &key).await?;
            let blank = Target {
                id: TargetId::new(),
                agreement_id: a.id,
                name: String::new(),
                metric: Metric::Resolution,
                duration_secs: 0,
                applies_when: cond_json(&Condition::always()),
                start: String::new(),
                pause: String::new(),
                resume: None,
                stop: String::new(),
                cancel: String::new(),
                reset: String::new(),
                when_start_fails: String::new(),
                thresholds: json!(DEFAULT_THRESHOLDS).to_string(),
                escalate_group_id: None,
                notify_owner: false,
                delivery_time: false,
                version: 1,
            };
            let t = apply_target(tx, a.kind, &input, blank, true).await?;
            let t = repo::save_target(tx, &t).await?;
            audit::record(tx, &actor, now, "agreement", &a.id.to_string(), "update",
                json!({"target_added": [null, format!("{} {} {} min", t.name, t.metric.code(), t.duration_secs / 60)]})).await?;
            Ok::<_, AppError>(t)
        })
        .await
}

pub async fn update_target(
    core: &Core,
    ctx: &Ctx,
    id: &str,
    input: TargetInput,
    if_match: Option<i64>,
) -> AppResult<Target> {
    ctx.principal.require(Role::Manager)?;
    let id = TargetId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = match repo::target(tx, id).await {
                Ok(t) => t,
                Err(StoreError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            };
            crate::check_version(if_match, before.version)?;
            let a = repo::agreement(tx, before.agreement_id).await?;
            let t = apply_target(tx, a.kind, &input, before.clone(), false).await?;
            let t = repo::save_target(tx, &t).await?;
            audit::record(tx, &actor, now, "agreement", &a.id.to_string(), "update",
                json!({"target": [format!("{} {} min", before.name, before.duration_secs / 60), format!("{} {} min", t.name, t.duration_secs / 60)]})).await?;
            Ok::<_, AppError>(t)
        })
        .await
}

pub async fn delete_target(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    ctx.principal.require(Role::Manager)?;
    let id = TargetId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let t = match repo::target(tx, id).await {
                Ok(t) => t,
                Err(StoreError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            };
            repo::delete_target(tx, id).await?;
            audit::record(
                tx,
                &actor,
                now,
                "agreement",
                &t.agreement_id.to_string(),
                "update",
                json!({"target_removed": [t.name, null]}),
            )
            .await?;
            Ok(())
        })
        .await
}

// ----- the engine -----

/// Everything the engine needs about agreements, read once per task change.
struct Setup {
    agreements: Vec<Agreement>,
    services: Vec<(AgreementId, sigap_domain::ServiceId)>,
    targets: Vec<Target>,
}

async fn setup(tx: &mut Tx<'_>) -> AppResult<Option<Setup>> {
    let targets = repo::targets(tx).await?;
    if targets.is_empty() {
        return Ok(None);
    }
    Ok(Some(Setup {
        agreements: repo::agreements(tx).await?,
        services: repo::agreement_services(tx)
            .await?
            .into_iter()
            .map(|(a, s)| (a, s.id))
            .collect(),
        targets,
    }))
}

/// The fields of a task that conditions look at: the common ones and the process's own.
pub fn snapshot<P: Process>(i: &Record<P>, responded: bool) -> Snapshot {
    let mut s = Snapshot::new();
    let both = |id: String, name: &str| vec![id, name.to_owned()];
    s.set("kind", vec![P::KIND.code().into()])
        .set("priority", vec![i.priority.get().to_string()])
        .set("state", vec![i.state.code().into()])
        .set("category", i.category.iter().cloned().collect())
        .set("hold_reason", Vec::new())
        .set("contact_type", vec![i.contact_type.code().into()])
        .flag("assigned", i.assigned_to.is_some())
        .flag("responded", responded)
        .flag("major", false)
        .set(
            "service",
            i.service
                .as_ref()
                .map(|r| both(r.id.to_string(), &r.name))
                .unwrap_or_default(),
        )
        .set(
            "organization",
            i.organization
                .as_ref()
                .map(|r| both(r.id.to_string(), &r.name))
                .unwrap_or_default(),
        )
        .set(
            "assignment_group",
            i.assignment_group
                .as_ref()
                .map(|r| both(r.id.to_string(), &r.name))
                .unwrap_or_default(),
        );
    i.ext.conditions(&mut s);
    s
}

/// Whether an agreement covers a task at a date.
fn covers<S>(setup: &Setup, a: &Agreement, i: &Task<S>, today: Date) -> bool {
    if !a.active || a.valid_from > today || a.valid_to.is_some_and(|t| t < today) {
        return false;
    }
    let services: Vec<_> = setup
        .services
        .iter()
        .filter(|(x, _)| *x == a.id)
        .map(|(_, s)| *s)
        .collect();
    if !services.is_empty() && !i.service.as_ref().is_some_and(|s| services.contains(&s.id)) {
        return false;
    }
    match a.kind {
        AgreementKind::Sla => a
            .customer
            .as_ref()
            .is_none_or(|c| i.organization.as_ref().is_some_and(|o| o.id == c.id)),
        AgreementKind::Ola | AgreementKind::Uc => true,
    }
}

/// The conditions of a target under its agreement: an OLA's clock also needs its group.
fn effective(a: &Agreement, t: &Target) -> Conditions {
    let mut c = conditions(t);
    if let (AgreementKind::Ola, Some(g)) = (a.kind, &a.group) {
        for clause in &mut c.start.0 {
            clause.insert("assignment_group".into(), vec![g.id.to_string()]);
        }
    }
    c
}

/// The calendar of a clock: its agreement's, in the clock's time zone.
async fn clock_calendar(
    tx: &mut Tx<'_>,
    cache: &mut HashMap<(Option<CalendarId>, String), BusinessCalendar>,
    calendar: Option<CalendarId>,
    zone: &str,
) -> AppResult<BusinessCalendar> {
    let key = (calendar, zone.to_owned());
    if let Some(c) = cache.get(&key) {
        return Ok(c.clone());
    }
    let cal = business_calendar(tx, calendar, Some(zone)).await?;
    cache.insert(key, cal.clone());
    Ok(cal)
}

/// A calendar's business hours and holidays (none: every hour), in `zone` or its own.
pub(crate) async fn business_calendar(
    tx: &mut Tx<'_>,
    calendar: Option<CalendarId>,
    zone: Option<&str>,
) -> AppResult<BusinessCalendar> {
    Ok(match calendar {
        None => BusinessCalendar::always(),
        Some(id) => {
            let c = repo::calendar(tx, id).await?;
            let h = repo::holidays(tx, id).await?;
            domain_calendar(&c, &h, zone)
        }
    })
}

/// A calendar's id by id or name.
pub(crate) async fn calendar_id(tx: &mut Tx<'_>, key: &str) -> AppResult<CalendarId> {
    Ok(find_calendar(tx, key).await?.id)
}

/// The time zone a new clock measures in, by the agreement's source.
async fn clock_zone<S>(tx: &mut Tx<'_>, a: &Agreement, i: &Task<S>) -> AppResult<String> {
    let calendar_zone = match &a.calendar {
        Some(c) => repo::calendar(tx, c.id).await?.time_zone,
        None => "UTC".to_owned(),
    };
    let from_source = match a.tz_source.as_str() {
        "caller" => match &i.caller {
            Some(p) => Some(sigap_store::people::get(tx, p.id).await?.time_zone),
            None => None,
        },
        "ci_location" => match &i.ci {
            Some(ci) => sigap_store::cmdb::get_ci(tx, ci.id)
                .await?
                .attributes
                .get("time_zone")
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            None => None,
        },
        "location" => match &i.location {
            Some(l) => sigap_store::locations::get(tx, l.id).await?.time_zone,
            None => None,
        },
        _ => None,
    };
    Ok(from_source
        .filter(|z| BusinessCalendar::zone(z).is_ok())
        .unwrap_or(calendar_zone))
}

/// The running and paused stretches of a clock, from its events.
pub fn intervals(events: &[ClockEvent]) -> (Vec<Interval>, Option<Ending>) {
    let mut ivs: Vec<Interval> = Vec::new();
    let mut ending = None;
    let open = |ivs: &mut Vec<Interval>, at: Timestamp, running: bool| {
        if let Some(last) = ivs.last_mut() {
            if last.end.is_none() {
                last.end = Some(at);
            }
        }
        ivs.push(Interval {
            start: at,
            end: None,
            running,
        });
    };
    for e in events {
        match e.kind.as_str() {
            "started" => open(&mut ivs, e.at, true),
            "paused" => open(&mut ivs, e.at, false),
            "resumed" => open(&mut ivs, e.at, true),
            "stopped" | "reset" => {
                if let Some(last) = ivs.last_mut() {
                    last.end.get_or_insert(e.at);
                }
                ending = Some(Ending::Stopped(e.at));
            }
            "cancelled" => {
                if let Some(last) = ivs.last_mut() {
                    last.end.get_or_insert(e.at);
                }
                ending = Some(Ending::Cancelled(e.at));
            }
            _ => {}
        }
    }
    (ivs, ending)
}

/// Re-derives a clock's stored fields from its events at `now`.
fn derive(
    c: &mut Clock,
    events: &[ClockEvent],
    cal: &BusinessCalendar,
    marks: &[i64],
    now: Timestamp,
) -> Reading {
    let (ivs, ending) = intervals(events);
    let target = SignedDuration::from_secs(c.duration_secs);
    let r = rules::read(&ivs, ending, target, cal, now);
    // A live clock's stored stage tells the engine whether it is paused (a paused clock read
    // after its due instant is breached, and `breached` says so); an ended one keeps how
    // it ended.
    let paused = ending.is_none() && ivs.last().is_some_and(|iv| !iv.running);
    c.stage = if paused {
        Stage::Paused.code().to_owned()
    } else {
        r.stage.code().to_owned()
    };
    c.due_at = if ending.is_some() { None } else { r.due };
    c.business_us = i64::try_from(r.business_elapsed.as_micros()).unwrap_or(i64::MAX);
    c.breached = r.breached;
    c.ended_at = ending.map(Ending::at);
    c.next_check_at = if ending.is_some() || paused {
        None
    } else {
        marks
            .iter()
            .find(|m| **m > c.thresholds_done)
            .and_then(|m| rules::crossing(&ivs, None, target, cal, m * 10, now))
    };
    c.updated_at = now;
    r
}

/// Moves a task's clocks along after a change of the task, in the same transaction.
/// `responded`: this change is a reply the caller sees.
pub async fn on_task_change<P: Process>(
    tx: &mut Tx<'_>,
    i: &Record<P>,
    responded: bool,
    now: Timestamp,
) -> AppResult<()> {
    let Some(setup) = setup(tx).await? else {
        return Ok(());
    };
    let today = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    let snap = snapshot(i, responded);
    // A target measured against the task's own delivery time takes it where there is one.
    let secs = |t: &Target| match (t.delivery_time, i.ext.delivery_secs()) {
        (true, Some(s)) => s,
        _ => t.duration_secs,
    };
    let clocks = repo::clocks_of(tx, i.id).await?;
    let mut cache = HashMap::new();
    for a in &setup.agreements {
        let covered = covers(&setup, a, i, today);
        for metric in [Metric::Response, Metric::Resolution] {
            let mine: Vec<&Clock> = clocks
                .iter()
                .filter(|c| c.agreement_id == a.id && c.metric == metric)
                .collect();
            let live = mine.iter().rev().find(|c| c.ended_at.is_none()).copied();
            if !covered && live.is_none() {
                continue;
            }
            // The strictest target that applies.
            let chosen = setup
                .targets
                .iter()
                .filter(|t| t.agreement_id == a.id && t.metric == metric)
                .filter(|t| parse_cond(&t.applies_when).matches(&snap))
                .min_by_key(|t| secs(t));
            match (live, chosen) {
                (Some(c), None) => {
                    let mut c = c.clone();
                    repo::add_event(
                        tx,
                        c.id,
                        now,
                        "cancelled",
                        "no target of the agreement applies any more",
                    )
                    .await?;
                    c.end_kind = Some("cancelled".into());
                    refresh(tx, &mut cache, &mut c, a, None, now).await?;
                }
                (Some(c), Some(t)) if !covered => {
                    let mut c = c.clone();
                    repo::add_event(
                        tx,
                        c.id,
                        now,
                        "cancelled",
                        "the agreement no longer covers the task",
                    )
                    .await?;
                    c.end_kind = Some("cancelled".into());
                    refresh(tx, &mut cache, &mut c, a, Some(t), now).await?;
                }
                (Some(c), Some(t)) => {
                    let mut c = c.clone();
                    if c.target_id != Some(t.id) {
                        repo::add_event(
                            tx,
                            c.id,
                            now,
                            "retargeted",
                            &format!("{} ({} min)", t.name, secs(t) / 60),
                        )
                        .await?;
                        c.target_id = Some(t.id);
                        c.target_name = t.name.clone();
                        c.duration_secs = secs(t);
                    }
                    let paused = c.stage == Stage::Paused.code();
                    let live = if paused { Live::Paused } else { Live::Running };
                    let cond = effective(a, t);
                    if let Some(step) = rules::decide(&cond, &snap, Some(live), false) {
                        let why = reason(step, &cond, &snap);
                        repo::add_event(tx, c.id, now, step.code(), &why).await?;
                        match step {
                            Step::Stop => {
                                let start_failed =
                                    !cond.stop.matches(&snap) && !cond.start.matches(&snap);
                                c.end_kind = Some(
                                    if start_failed {
                                        "start_failed"
                                    } else {
                                        "stopped"
                                    }
                                    .into(),
                                );
                            }
                            Step::Cancel => c.end_kind = Some("cancelled".into()),
                            Step::Reset => c.end_kind = Some("stopped".into()),
                            Step::Pause | Step::Resume | Step::Start => {}
                        }
                        refresh(tx, &mut cache, &mut c, a, Some(t), now).await?;
                        if step == Step::Reset {
                            start_clock(tx, &mut cache, a, t, secs(t), i, now, "reset").await?;
                        }
                    } else {
                        refresh(tx, &mut cache, &mut c, a, Some(t), now).await?;
                    }
                }
                (None, Some(t)) if covered => {
                    // A first clock, or a new cycle after one that ended because its start
                    // stopped holding (an OLA whose group got the task back).
                    let may_start = mine
                        .last()
                        .is_none_or(|c| c.end_kind.as_deref() == Some("start_failed"));
                    let cond = effective(a, t);
                    if rules::decide(&cond, &snap, None, may_start) == Some(Step::Start) {
                        let why = reason(Step::Start, &cond, &snap);
                        start_clock(tx, &mut cache, a, t, secs(t), i, now, &why).await?;
                    }
                }
                _ => {}
            }
        }
    }
    Ok(())
}

/// Why a step happened, for the clock's timeline: the condition that matched.
fn reason(step: Step, c: &Conditions, _s: &Snapshot) -> String {
    let show = |c: &Condition| serde_json::to_string(c).unwrap_or_default();
    match step {
        Step::Start => format!("start {}", show(&c.start)),
        Step::Pause => format!("pause {}", show(&c.pause)),
        Step::Resume => match &c.resume {
            Some(r) => format!("resume {}", show(r)),
            None => format!("no longer pause {}", show(&c.pause)),
        },
        Step::Stop if c.stop.matches(_s) => format!("stop {}", show(&c.stop)),
        Step::Stop => format!("no longer start {}", show(&c.start)),
        Step::Cancel if c.cancel.matches(_s) => format!("cancel {}", show(&c.cancel)),
        Step::Cancel => format!("no longer start {}", show(&c.start)),
        Step::Reset => format!("reset {}", show(&c.reset)),
    }
}

#[allow(clippy::too_many_arguments)]
async fn start_clock<S>(
    tx: &mut Tx<'_>,
    cache: &mut HashMap<(Option<CalendarId>, String), BusinessCalendar>,
    a: &Agreement,
    t: &Target,
    duration_secs: i64,
    i: &Task<S>,
    now: Timestamp,
    why: &str,
) -> AppResult<()> {
    let zone = clock_zone(tx, a, i).await?;
    let mut c = Clock {
        id: ClockId::new(),
        task_id: i.id,
        agreement_id: a.id,
        metric: t.metric,
        target_id: Some(t.id),
        target_name: t.name.clone(),
        duration_secs,
        time_zone: zone,
        stage: Stage::InProgress.code().into(),
        started_at: now,
        ended_at: None,
        end_kind: None,
        due_at: None,
        business_us: 0,
        breached: false,
        next_check_at: None,
        thresholds_done: 0,
        version: 1,
        updated_at: now,
    };
    let events = vec![ClockEvent {
        id: sigap_domain::ClockEventId::new(),
        clock_id: c.id,
        at: now,
        seq: 1,
        kind: "started".into(),
        detail: why.to_owned(),
    }];
    let cal = clock_calendar(tx, cache, a.calendar.as_ref().map(|r| r.id), &c.time_zone).await?;
    derive(&mut c, &events, &cal, &thresholds(t), now);
    repo::insert_clock(tx, &c).await?;
    repo::add_event(tx, c.id, now, "started", why).await?;
    Ok(())
}

async fn refresh(
    tx: &mut Tx<'_>,
    cache: &mut HashMap<(Option<CalendarId>, String), BusinessCalendar>,
    c: &mut Clock,
    a: &Agreement,
    t: Option<&Target>,
    now: Timestamp,
) -> AppResult<Reading> {
    let events = repo::events(tx, c.id).await?;
    let cal = clock_calendar(tx, cache, a.calendar.as_ref().map(|r| r.id), &c.time_zone).await?;
    let marks = t
        .map(thresholds)
        .unwrap_or_else(|| DEFAULT_THRESHOLDS.to_vec());
    let r = derive(c, &events, &cal, &marks, now);
    repo::update_clock(tx, c).await?;
    c.version += 1;
    Ok(r)
}

// ----- reading clocks -----

/// A clock with what it reads now, its agreement and its timeline.
#[derive(Debug, Clone)]
pub struct ClockView {
    pub clock: Clock,
    pub agreement: String,
    pub kind: AgreementKind,
    pub reading: Reading,
    pub events: Vec<ClockEvent>,
}

async fn views_in(
    tx: &mut Tx<'_>,
    clocks: Vec<Clock>,
    with_events: bool,
    now: Timestamp,
) -> AppResult<Vec<ClockView>> {
    let agreements = repo::agreements(tx).await?;
    // One statement for the events of every clock read (a queue page reads dozens).
    let ids: Vec<ClockId> = clocks.iter().map(|c| c.id).collect();
    let mut by_clock: HashMap<ClockId, Vec<ClockEvent>> = HashMap::new();
    for e in repo::events_of_clocks(tx, &ids).await? {
        by_clock.entry(e.clock_id).or_default().push(e);
    }
    let mut cache = HashMap::new();
    let mut out = Vec::with_capacity(clocks.len());
    for c in clocks {
        let Some(a) = agreements.iter().find(|a| a.id == c.agreement_id) else {
            continue;
        };
        let events = by_clock.remove(&c.id).unwrap_or_default();
        let cal = clock_calendar(
            tx,
            &mut cache,
            a.calendar.as_ref().map(|r| r.id),
            &c.time_zone,
        )
        .await?;
        let (ivs, ending) = intervals(&events);
        let reading = rules::read(
            &ivs,
            ending,
            SignedDuration::from_secs(c.duration_secs),
            &cal,
            now,
        );
        out.push(ClockView {
            agreement: a.name.clone(),
            kind: a.kind,
            reading,
            events: if with_events { events } else { Vec::new() },
            clock: c,
        });
    }
    Ok(out)
}

/// The clocks of a task the reader may see, read now.
pub async fn clocks_of<P: crate::task::Process>(
    core: &Core,
    ctx: &Ctx,
    key: &str,
) -> AppResult<Vec<ClockView>> {
    let t = crate::task::get::<P>(core, ctx, key).await?;
    clocks_of_task(core, t.id).await
}

/// The clocks of a task, read now (the caller has checked the reader may see it).
pub async fn clocks_of_task(core: &Core, task: TaskId) -> AppResult<Vec<ClockView>> {
    let now = core.now();
    core.store
        .read(async move |tx| {
            let clocks = repo::clocks_of(tx, task).await?;
            views_in(tx, clocks, true, now).await
        })
        .await
}

/// The most urgent live clock of each task of a page (for time left on lists).
pub async fn urgent_of(core: &Core, tasks: Vec<TaskId>) -> AppResult<HashMap<TaskId, ClockView>> {
    let now = core.now();
    core.store
        .read(async move |tx| {
            let clocks: Vec<Clock> = repo::clocks_of_tasks(tx, &tasks)
                .await?
                .into_iter()
                .filter(|c| c.ended_at.is_none())
                .collect();
            if clocks.is_empty() {
                return Ok(HashMap::new());
            }
            let views = views_in(tx, clocks, false, now).await?;
            let mut out: HashMap<TaskId, ClockView> = HashMap::new();
            for v in views {
                let left = v.reading.business_left;
                match out.get(&v.clock.task_id) {
                    Some(old) if old.reading.business_left <= left => {}
                    _ => {
                        out.insert(v.clock.task_id, v);
                    }
                }
            }
            Ok::<_, AppError>(out)
        })
        .await
}

/// Running clocks that run out within `within` (or already did), soonest first: the
/// "breaching soon" queue (agents).
pub async fn breaching_soon(
    core: &Core,
    ctx: &Ctx,
    within: SignedDuration,
    limit: i64,
) -> AppResult<Vec<(ClockView, Incident)>> {
    ctx.principal.require(Role::Agent)?;
    let now = core.now();
    let before = now.checked_add(within).unwrap_or(now);
    let scope = ctx.principal.scope();
    core.store
        .read(async move |tx| {
            let clocks = repo::running_by_due(tx, before, limit.clamp(1, 500)).await?;
            let views = views_in(tx, clocks, false, now).await?;
            let mut out = Vec::new();
            for v in views {
                // The queue lists incidents; other kinds' clocks show on their own pages.
                let i = match sigap_store::incidents::get(tx, v.clock.task_id).await {
                    Ok(i) => i,
                    Err(sigap_store::StoreError::NotFound) => continue,
                    Err(e) => return Err(e.into()),
                };
                if scope.is_some_and(|org| i.organization.as_ref().is_none_or(|o| o.id != org)) {
                    continue;
                }
                out.push((v, i));
            }
            Ok::<_, AppError>(out)
        })
        .await
}

// ----- the sweep -----

/// What a sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    pub checked: usize,
    pub notified: usize,
    pub escalated: usize,
}

pub const SWEEP_JOB: &str = "sla_sweep";

/// Handles the thresholds clocks have crossed by now: one notification per crossing (the
/// assignee; the group's manager from 75 %), the target's escalation at its last threshold,
/// and nothing but a record for crossings that are stale or passed over by a later one.
pub async fn sweep(core: &Core) -> AppResult<Swept> {
    let mut total = Swept::default();
    loop {
        let now = core.now();
        let batch = core
            .store
            .write(async move |tx| sweep_batch(tx, now, 500).await)
            .await;
        let done = match batch {
            Ok(d) => d,
            // Another node handled the same clocks first.
            Err(AppError::Conflict {
                code: "edit_conflict",
                ..
            }) => Swept::default(),
            Err(e) => return Err(e),
        };
        total.checked += done.checked;
        total.notified += done.notified;
        total.escalated += done.escalated;
        if done.checked < 500 {
            return Ok(total);
        }
    }
}

/// A task a threshold was crossed on, of either kind that has clocks.
enum Crossed {
    Incident(Incident),
    Problem(sigap_store::problems::Problem),
}

/// A clock of the batch and what it crossed.
struct DueClock<'a> {
    clock: Clock,
    agreement: &'a Agreement,
    target: Option<&'a Target>,
    marks: Vec<i64>,
    cal: BusinessCalendar,
    events: Vec<ClockEvent>,
    /// The thresholds reached by now and not handled yet, with when each was reached.
    crossed: Vec<(i64, Timestamp)>,
}

/// One batch of the sweep, in a few statements whatever its size: the clocks' events, the
/// claims of their crossings, the crossings' events, the tasks told of, their groups'
/// managers and members, the notifications and the clocks each go in one statement (or a few
/// chunks). Escalations, rare, go one by one; a clock whose task one changed is read again.
async fn sweep_batch(tx: &mut Tx<'_>, now: Timestamp, limit: i64) -> AppResult<Swept> {
    let due = repo::due_checks(tx, now, limit).await?;
    let mut out = Swept {
        checked: due.len(),
        ..Swept::default()
    };
    if due.is_empty() {
        return Ok(out);
    }
    let agreements = repo::agreements(tx).await?;
    let targets = repo::targets(tx).await?;
    let ids: Vec<ClockId> = due.iter().map(|c| c.id).collect();
    let mut events: HashMap<ClockId, Vec<ClockEvent>> = HashMap::new();
    for e in repo::events_of_clocks(tx, &ids).await? {
        events.entry(e.clock_id).or_default().push(e);
    }
    let mut cache = HashMap::new();
    let mut batch = Vec::with_capacity(due.len());
    for c in due {
        let Some(a) = agreements.iter().find(|a| a.id == c.agreement_id) else {
            continue;
        };
        let t = c
            .target_id
            .and_then(|id| targets.iter().find(|t| t.id == id));
        let marks = t
            .map(thresholds)
            .unwrap_or_else(|| DEFAULT_THRESHOLDS.to_vec());
        let cal = clock_calendar(
            tx,
            &mut cache,
            a.calendar.as_ref().map(|r| r.id),
            &c.time_zone,
        )
        .await?;
        let events = events.remove(&c.id).unwrap_or_default();
        let (ivs, ending) = intervals(&events);
        let target = SignedDuration::from_secs(c.duration_secs);
        let crossed = marks
            .iter()
            .filter(|m| **m > c.thresholds_done)
            .filter_map(|m| {
                rules::crossing(&ivs, ending, target, &cal, m * 10, now).map(|at| (*m, at))
            })
            .filter(|(_, at)| *at <= now)
            .collect();
        batch.push(DueClock {
            clock: c,
            agreement: a,
            target: t,
            marks,
            cal,
            events,
            crossed,
        });
    }
    // Each crossing is claimed once across nodes and sweeps; only the latest of a clock's,
    // fresh and first claimed here, is told.
    let claims: Vec<(ClockId, i64)> = batch
        .iter()
        .flat_map(|d| d.crossed.iter().map(|(m, _)| (d.clock.id, *m)))
        .collect();
    let claimed: std::collections::HashSet<(ClockId, i64)> = repo::claim_notices(tx, &claims, now)
        .await?
        .into_iter()
        .collect();
    let mut new_events = Vec::with_capacity(claims.len());
    // (index in the batch, threshold) of the crossings to tell.
    let mut sends: Vec<(usize, i64)> = Vec::new();
    for (k, d) in batch.iter().enumerate() {
        // The clock's latest change of form: crossings before it happened after the fact.
        let fresh_since = d
            .events
            .iter()
            .filter(|e| matches!(e.kind.as_str(), "started" | "resumed" | "retargeted"))
            .map(|e| e.at)
            .max()
            .unwrap_or(d.clock.started_at);
        let last = d.crossed.last().map(|x| x.0);
        let after = d.events.iter().map(|e| e.seq).max().unwrap_or(0) + 1;
        for (seq, (mark, at)) in (after..).zip(&d.crossed) {
            let stale = *at < fresh_since || now.duration_since(*at) > STALE;
            let send = claimed.contains(&(d.clock.id, *mark)) && Some(*mark) == last && !stale;
            new_events.push(repo::NewClockEvent {
                clock_id: d.clock.id,
                at: *at,
                seq,
                kind: "threshold",
                detail: format!("{mark}%{}", if send { "" } else { " (recorded, not sent)" }),
            });
            if send {
                sends.push((k, *mark));
            }
        }
    }
    repo::add_events(tx, &new_events).await?;

    // The tasks told of, and the people to tell.
    let mut task_ids: Vec<TaskId> = sends.iter().map(|(k, _)| batch[*k].clock.task_id).collect();
    task_ids.sort_unstable();
    task_ids.dedup();
    let mut tasks: HashMap<TaskId, Crossed> = HashMap::new();
    for i in
        sigap_store::task::get_many::<sigap_store::incidents::IncidentExt>(tx, &task_ids).await?
    {
        tasks.insert(i.id, Crossed::Incident(i));
    }
    let rest: Vec<TaskId> = task_ids
        .iter()
        .filter(|id| !tasks.contains_key(id))
        .copied()
        .collect();
    for p in sigap_store::task::get_many::<sigap_store::problems::ProblemExt>(tx, &rest).await? {
        tasks.insert(p.id, Crossed::Problem(p));
    }
    let mut groups: Vec<GroupId> = tasks
        .values()
        .filter_map(|t| match t {
            Crossed::Incident(i) => i.assignment_group.as_ref().map(|g| g.id),
            Crossed::Problem(p) => p.assignment_group.as_ref().map(|g| g.id),
        })
        .collect();
    groups.sort_unstable();
    groups.dedup();
    let managers: HashMap<GroupId, PersonId> = sigap_store::groups::managers_of(tx, &groups)
        .await?
        .into_iter()
        .collect();
    let mut members: HashMap<GroupId, Vec<PersonId>> = HashMap::new();
    for (g, p) in sigap_store::groups::members_of(tx, &groups).await? {
        members.entry(g).or_default().push(p);
    }
    let mut notes: Vec<Note> = Vec::new();
    let actor = Actor::of(&Ctx::system("sla"));
    // Tasks an escalation changed: their clocks may have moved.
    let mut changed: std::collections::HashSet<TaskId> = std::collections::HashSet::new();
    for (k, mark) in &sends {
        let d = &batch[*k];
        let Some(task) = tasks.get(&d.clock.task_id) else {
            continue;
        };
        let last = d.target.filter(|_| Some(mark) == d.marks.last());
        let escalated = match task {
            Crossed::Incident(i) => {
                crossing_notes(&mut notes, i, *mark, &managers, &members);
                match last {
                    Some(t) => escalate(tx, &actor, i, t, d.agreement, *mark, now).await?,
                    None => 0,
                }
            }
            Crossed::Problem(p) => {
                crossing_notes(&mut notes, p, *mark, &managers, &members);
                match last {
                    Some(t) => escalate(tx, &actor, p, t, d.agreement, *mark, now).await?,
                    None => 0,
                }
            }
        };
        out.escalated += escalated;
        if last.is_some() {
            changed.insert(d.clock.task_id);
        }
    }
    out.notified = notes.len();

    // The clocks' stored fields, from their events.
    let mut clocks = Vec::with_capacity(batch.len());
    for d in batch {
        let done = d
            .crossed
            .iter()
            .map(|(m, _)| *m)
            .fold(d.clock.thresholds_done, i64::max);
        let (mut c, events) = if changed.contains(&d.clock.task_id) {
            let c = repo::clock(tx, d.clock.id).await?;
            let events = repo::events(tx, c.id).await?;
            (c, events)
        } else {
            (d.clock, d.events)
        };
        c.thresholds_done = c.thresholds_done.max(done);
        derive(&mut c, &events, &d.cal, &d.marks, now);
        clocks.push(c);
    }
    repo::update_clocks(tx, &clocks).await?;
    let new: Vec<sigap_store::notifications::NewNotification<'_>> = notes
        .iter()
        .map(|n| sigap_store::notifications::NewNotification {
            person_id: n.person,
            kind: "sla_threshold",
            subject: &n.subject,
            body: &n.body,
            link: &n.link,
            task_id: Some(n.task),
        })
        .collect();
    crate::notifications::send_many(tx, &new, now).await?;
    Ok(out)
}

/// A warning to write.
struct Note {
    person: PersonId,
    subject: String,
    body: String,
    link: String,
    task: TaskId,
}

/// The warnings of a threshold crossed on a task: its assignee, from 75 % also its group's
/// manager; when nobody holds it, the group's members.
fn crossing_notes<P: Process>(
    notes: &mut Vec<Note>,
    i: &Record<P>,
    mark: i64,
    managers: &HashMap<GroupId, PersonId>,
    members: &HashMap<GroupId, Vec<PersonId>>,
) {
    let group = i.assignment_group.as_ref().map(|g| g.id);
    let mut who = Vec::new();
    if let Some(p) = &i.assigned_to {
        who.push(p.id);
    }
    if mark >= 75 {
        if let Some(m) = group.and_then(|g| managers.get(&g)) {
            who.push(*m);
        }
    }
    if who.is_empty() {
        if let Some(m) = group.and_then(|g| members.get(&g)) {
            who.extend(m.iter().copied());
        }
    }
    // An id's order is its text's order.
    who.sort_unstable();
    who.dedup();
    let subject = format!("{} {}", i.number, i.short_description);
    let body = format!("{mark}%");
    let link = format!("{}/{}", P::PATH, i.number);
    notes.extend(who.into_iter().map(|person| Note {
        person,
        subject: subject.clone(),
        body: body.clone(),
        link: link.clone(),
        task: i.id,
    }));
}

/// The target's escalation: the task goes to another group, and/or the service owner is told.
async fn escalate<P: Process>(
    tx: &mut Tx<'_>,
    actor: &Actor,
    i: &Record<P>,
    t: &Target,
    a: &Agreement,
    mark: i64,
    now: Timestamp,
) -> AppResult<usize> {
    let mut n = 0;
    if let Some(g) = t.escalate_group_id {
        // Incidents are handed on; other tasks tell their owner only (for now).
        if P::KIND == TaskKind::Incident
            && i.state.is_open()
            && i.assignment_group.as_ref().map(|x| x.id) != Some(g)
        {
            let reason = format!("{} {}%: {}", a.name, mark, t.name);
            crate::incidents::system_escalate(tx, actor, now, i.id, g, &reason).await?;
            n += 1;
        }
    }
    if t.notify_owner {
        if let Some(s) = &i.service {
            if let Some(owner) = sigap_store::portfolio::get(tx, s.id).await?.owner {
                let subject = format!("{} {}", i.number, i.short_description);
                crate::notifications::send(
                    tx,
                    &sigap_store::notifications::NewNotification {
                        person_id: owner.id,
                        kind: "sla_owner",
                        subject: &subject,
                        body: &format!("{mark}%"),
                        link: &format!("{}/{}", P::PATH, i.number),
                        task_id: Some(i.id),
                    },
                    now,
                )
                .await?;
                n += 1;
            }
        }
    }
    Ok(n)
}

// ----- reporting -----

pub use sigap_store::sla::{ReportBy, ReportLine};

/// SLA compliance of stopped clocks ended in `[from, to)`, grouped (managers).
pub async fn compliance(
    core: &Core,
    ctx: &Ctx,
    by: &str,
    from: Timestamp,
    to: Timestamp,
    agreement: Option<&str>,
) -> AppResult<Vec<ReportLine>> {
    ctx.principal.require(Role::Manager)?;
    let by = match by.trim() {
        "agreement" | "" => ReportBy::Agreement,
        "service" => ReportBy::Service,
        "priority" => ReportBy::Priority,
        "group" => ReportBy::Group,
        "month" => ReportBy::Month,
        _ => {
            return Err(AppError::field(
                "by",
                "invalid_choice",
                "must be one of: agreement, service, priority, group, month",
            ));
        }
    };
    if to <= from {
        return Err(AppError::field(
            "to",
            "before_start",
            "the period ends before it starts",
        ));
    }
    let agreement = agreement.map(str::to_owned);
    core.store
        .read(async move |tx| {
            let a = match agreement
                .as_deref()
                .map(str::trim)
                .filter(|a| !a.is_empty())
            {
                Some(k) => Some(match find_agreement(tx, k).await {
                    Ok(a) => a.id,
                    Err(AppError::NotFound) => {
                        return Err(AppError::field(
                            "agreement",
                            "not_found",
                            "no such agreement",
                        ));
                    }
                    Err(e) => return Err(e),
                }),
                None => None,
            };
            Ok(repo::compliance(tx, by, from, to, a).await?)
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holidays_come_from_an_icalendar_file() -> AppResult<()> {
        let ics = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\nSUMMARY:Christmas\r\n Day\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nDTSTART:20261224T120000\r\nDTEND:20261224T170000\r\nSUMMARY:Eve\\, afternoon\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let hs = parse_ical(ics)?;
        assert_eq!(hs.len(), 2);
        assert_eq!(
            (hs[0].date.as_str(), hs[0].recurring, hs[0].name.as_str()),
            ("2026-12-25", true, "ChristmasDay")
        );
        assert_eq!(
            (hs[1].closed.as_deref(), hs[1].name.as_str()),
            (Some("12:00-17:00"), "Eve, afternoon")
        );
        assert!(parse_ical("hello").is_err());
        assert!(parse_ical("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:nope\nEND:VEVENT\n").is_err());
        Ok(())
    }
}
