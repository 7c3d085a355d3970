//! Scheduled deliveries: a report mailed daily, on working days, weekly or monthly at an
//! hour of a time zone, as CSV, XLSX or PDF, to people, groups and addresses, run as its
//! owner sees it. The leader queues a sweep; the sweep claims each due delivery by moving
//! its next time on in the transaction that queues its mail, so it goes once however many
//! nodes run. The mail itself is the mail channel's (`sigap-mail`).

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::{AuthMethod, Ctx, Principal};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sigap_domain::report::{Cadence, Every};
use sigap_domain::{Email, GroupId, PersonId, ReportId, Role, ScheduleId};
use sigap_store::report_schedules::{self as repo, Reader, Schedule};

/// The job that sends the deliveries due (queued by the leader).
pub const DELIVER_JOB: &str = "report_deliveries";
/// The job that splits one delivery into a mail for each recipient:
/// `{"schedule": id, "due": time}`.
pub const MAIL_JOB: &str = "report_mail";
/// The job that mails one delivery to one recipient (`sigap-mail`'s):
/// `{"schedule": id, "to": address, "name": name, "locale": code, "person": id}`.
pub const SEND_JOB: &str = "report_mail_to";

/// The files a delivery attaches.
pub const FORMATS: &[&str] = &["csv", "xlsx", "pdf"];
/// The most schedules of one report, and recipients of one schedule.
pub const MAX_PER_REPORT: i64 = 20;
pub const MAX_RECIPIENTS: usize = 50;

/// A schedule as its reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleView {
    pub id: ScheduleId,
    pub report_id: ReportId,
    pub owner: (PersonId, String),
    pub cadence: Cadence,
    pub format: String,
    pub people: Vec<PersonId>,
    pub groups: Vec<GroupId>,
    pub addresses: Vec<String>,
    pub skip_empty: bool,
    pub active: bool,
    pub next_run_at: Timestamp,
    pub last_run_at: Option<Timestamp>,
    pub version: i64,
    pub editable: bool,
}

fn ids<T>(v: &Value, key: &str, parse: fn(&str) -> Option<T>) -> Vec<T> {
    v.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().and_then(parse))
                .collect()
        })
        .unwrap_or_default()
}

fn view(ctx: &Ctx, s: Schedule) -> AppResult<ScheduleView> {
    let every = Every::parse(&s.every).map_err(|e| AppError::Internal(e.message))?;
    let cadence = Cadence::new(every, s.weekday, s.day, s.hour, &s.time_zone)
        .map_err(|e| AppError::Internal(format!("schedule {}: {e:?}", s.id)))?;
    Ok(ScheduleView {
        id: s.id,
        report_id: s.report_id,
        owner: (s.owner_id, s.owner_name.unwrap_or_default()),
        cadence,
        format: s.format,
        people: ids(&s.recipients, "people", PersonId::parse),
        groups: ids(&s.recipients, "groups", GroupId::parse),
        addresses: s
            .recipients
            .get("addresses")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        skip_empty: s.skip_empty,
        active: s.active,
        next_run_at: s.next_run_at,
        last_run_at: s.last_run_at,
        version: s.version,
        editable: super::saved::may_edit(ctx, Some(s.owner_id)),
    })
}

/// The schedules of a report the reader may open.
pub async fn of_report(core: &Core, ctx: &Ctx, report: &str) -> AppResult<Vec<ScheduleView>> {
    let r = super::saved::get(core, ctx, report).await?;
    let list = core
        .store
        .read(async move |tx| repo::of_report(tx, r.id).await)
        .await?;
    list.into_iter().map(|s| view(ctx, s)).collect()
}

const FIELDS: &[&str] = &[
    "every",
    "weekday",
    "day",
    "hour",
    "time_zone",
    "format",
    "people",
    "groups",
    "addresses",
    "skip_empty",
    "active",
    "version",
];

/// What a body asks, before its references are resolved.
struct Asked {
    cadence: Cadence,
    format: String,
    people: Vec<String>,
    groups: Vec<String>,
    addresses: Vec<String>,
    skip_empty: bool,
    active: bool,
}

fn read(ctx: &Ctx, body: &Value, before: Option<&ScheduleView>) -> AppResult<Asked> {
    let mut errs = Vec::new();
    let o = super::saved::object(body, FIELDS, "schedule", &mut errs)?;
    let o: &Map<String, Value> = &o;
    let text = |k: &str, errs: &mut Vec<FieldError>| match o.get(k) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => {
            errs.push(FieldError::new(
                k,
                "invalid_value",
                "must not be empty (leave it out instead)",
            ));
            None
        }
        Some(Value::String(s)) => Some(s.trim().to_owned()),
        Some(_) => {
            errs.push(FieldError::new(k, "invalid_type", "must be a text"));
            None
        }
    };
    let int = |k: &str, errs: &mut Vec<FieldError>| match o.get(k) {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_i64() {
            Some(n) => Some(n),
            None => {
                errs.push(FieldError::new(k, "invalid_type", "must be a whole number"));
                None
            }
        },
    };
    let flag = |k: &str, or: bool, errs: &mut Vec<FieldError>| match o.get(k) {
        None | Some(Value::Null) => or,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            errs.push(FieldError::new(k, "invalid_type", "must be true or false"));
            or
        }
    };
    let list = |k: &str, errs: &mut Vec<FieldError>| -> Option<Vec<String>> {
        match o.get(k) {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) if a.len() > MAX_RECIPIENTS => {
                errs.push(FieldError::new(
                    k,
                    "too_many",
                    format!("at most {MAX_RECIPIENTS}"),
                ));
                None
            }
            Some(Value::Array(a)) => {
                let mut out = Vec::new();
                for (i, v) in a.iter().enumerate() {
                    match v.as_str().map(str::trim) {
                        Some(s) if !s.is_empty() => out.push(s.to_owned()),
                        _ => errs.push(FieldError::new(
                            format!("{k}[{i}]"),
                            "invalid_value",
                            "must be a text",
                        )),
                    }
                }
                Some(out)
            }
            Some(_) => {
                errs.push(FieldError::new(k, "invalid_type", "must be a list"));
                None
            }
        }
    };
    let b = before.map(|b| &b.cadence);
    let every = match text("every", &mut errs) {
        Some(e) => Every::parse(&e)
            .map_err(|e| errs.push(FieldError::from_invalid("every", e)))
            .ok(),
        None => Some(b.map_or(Every::Weekly, |b| b.every)),
    };
    let weekday = int("weekday", &mut errs);
    if weekday.is_some_and(|w| !(1..=7).contains(&w)) {
        errs.push(FieldError::new(
            "weekday",
            "out_of_range",
            "must be 1 (Monday) to 7 (Sunday)",
        ));
    }
    let day = int("day", &mut errs);
    if day.is_some_and(|d| !(1..=28).contains(&d)) {
        errs.push(FieldError::new(
            "day",
            "out_of_range",
            "must be a day from 1 to 28",
        ));
    }
    let weekday = weekday.or(b.and_then(|b| b.weekday.map(i64::from)));
    let day = day.or(b.and_then(|b| b.day.map(i64::from)));
    let hour = int("hour", &mut errs).unwrap_or(b.map_or(7, |b| i64::from(b.hour)));
    let zone = text("time_zone", &mut errs).unwrap_or_else(|| {
        b.map_or_else(|| ctx.principal.time_zone.clone(), |b| b.time_zone.clone())
    });
    // A weekly report is sent on Mondays unless a weekday is named; a monthly one on the 1st.
    let (weekday, day) = match every {
        Some(Every::Weekly) => (weekday.or(Some(1)), None),
        Some(Every::Monthly) => (None, day.or(Some(1))),
        _ => (None, None),
    };
    let cadence = every.and_then(|every| {
        Cadence::new(every, weekday, day, hour, &zone)
            .map_err(|faults| {
                errs.extend(
                    faults
                        .into_iter()
                        .map(|(f, e)| FieldError::from_invalid(f, e)),
                )
            })
            .ok()
    });
    let format = text("format", &mut errs)
        .or_else(|| before.map(|b| b.format.clone()))
        .unwrap_or_else(|| "xlsx".into());
    if !FORMATS.contains(&format.as_str()) {
        errs.push(FieldError::new(
            "format",
            "invalid_choice",
            format!("must be one of: {}", FORMATS.join(", ")),
        ));
    }
    let people = list("people", &mut errs);
    let groups = list("groups", &mut errs);
    let addresses = list("addresses", &mut errs).map(|a| {
        a.into_iter()
            .enumerate()
            .filter_map(|(i, x)| match Email::parse(&x) {
                Ok(e) => Some(e.as_str().to_owned()),
                Err(e) => {
                    errs.push(FieldError::from_invalid(format!("addresses[{i}]"), e));
                    None
                }
            })
            .collect::<Vec<_>>()
    });
    let skip_empty = flag(
        "skip_empty",
        before.is_some_and(|b| b.skip_empty),
        &mut errs,
    );
    let active = flag("active", before.is_none_or(|b| b.active), &mut errs);
    let (people, groups, addresses) = match before {
        Some(b) => (
            people.unwrap_or_else(|| b.people.iter().map(|p| p.to_string()).collect()),
            groups.unwrap_or_else(|| b.groups.iter().map(|g| g.to_string()).collect()),
            addresses.unwrap_or_else(|| b.addresses.clone()),
        ),
        None => (
            people.unwrap_or_default(),
            groups.unwrap_or_default(),
            addresses.unwrap_or_default(),
        ),
    };
    match (cadence, errs.is_empty()) {
        (Some(cadence), true) => Ok(Asked {
            cadence,
            format,
            people,
            groups,
            addresses,
            skip_empty,
            active,
        }),
        _ => Err(AppError::Validation(errs)),
    }
}

/// The recipients as stored, their people and groups resolved (ids, logins or names); with
/// none at all, the owner.
async fn recipients(core: &Core, owner: PersonId, a: &Asked) -> AppResult<Value> {
    let (people, groups) = (a.people.clone(), a.groups.clone());
    let (mut p, g) = core
        .store
        .read(async move |tx| {
            let mut p = Vec::new();
            for (i, key) in people.iter().enumerate() {
                let id = crate::refs::person(
                    tx,
                    &format!("people[{i}]"),
                    &Some(Some(key.clone())),
                    None,
                )
                .await?;
                p.extend(id.map(|id| id.to_string()));
            }
            let mut g = Vec::new();
            for (i, key) in groups.iter().enumerate() {
                let id =
                    crate::refs::group(tx, &format!("groups[{i}]"), &Some(Some(key.clone())), None)
                        .await?;
                g.extend(id.map(|id| id.to_string()));
            }
            Ok::<_, AppError>((p, g))
        })
        .await?;
    if p.is_empty() && g.is_empty() && a.addresses.is_empty() {
        p.push(owner.to_string());
    }
    p.dedup();
    Ok(json!({"people": p, "groups": g, "addresses": a.addresses}))
}

/// Schedules a report the reader may open (agents); it runs as they see it.
pub async fn create(core: &Core, ctx: &Ctx, report: &str, body: &Value) -> AppResult<ScheduleView> {
    ctx.principal.require(Role::Agent)?;
    let me = ctx.principal.person()?;
    let r = super::saved::get(core, ctx, report).await?;
    let a = read(ctx, body, None)?;
    let recipients = recipients(core, me, &a).await?;
    let now = core.now();
    let next = a
        .cadence
        .next_after(now)
        .map_err(|e| AppError::Validation(vec![FieldError::from_invalid("hour", e)]))?;
    let s = Schedule {
        id: ScheduleId::new(),
        report_id: r.id,
        owner_id: me,
        owner_name: None,
        every: a.cadence.every.code().to_owned(),
        weekday: a.cadence.weekday.map(i64::from),
        day: a.cadence.day.map(i64::from),
        hour: i64::from(a.cadence.hour),
        time_zone: a.cadence.time_zone.clone(),
        format: a.format.clone(),
        recipients,
        skip_empty: a.skip_empty,
        active: a.active,
        next_run_at: next,
        last_run_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let actor = Actor::of(ctx);
    let id = s.id;
    core.store
        .write(async move |tx| {
            if repo::count_of_report(tx, s.report_id).await? >= MAX_PER_REPORT {
                return Err(AppError::field(
                    "schedules",
                    "too_many",
                    format!("at most {MAX_PER_REPORT} schedules of a report"),
                ));
            }
            repo::insert(tx, &s).await?;
            audit::record(
                tx,
                &actor,
                now,
                "report_schedule",
                &s.id.to_string(),
                "create",
                json!({"report": s.report_id.to_string(), "every": s.every, "hour": s.hour,
                       "time_zone": s.time_zone, "format": s.format, "recipients": s.recipients}),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    get(core, ctx, &id.to_string()).await
}

/// A schedule of a report the reader may open.
pub async fn get(core: &Core, ctx: &Ctx, id: &str) -> AppResult<ScheduleView> {
    let id = ScheduleId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let s = core
        .store
        .read(async move |tx| repo::get(tx, id).await)
        .await?
        .ok_or(AppError::NotFound)?;
    // Only who may open its report sees it.
    super::saved::get(core, ctx, &s.report_id.to_string()).await?;
    view(ctx, s)
}

/// Changes a schedule (its owner or an administrator): the fields given.
pub async fn update(
    core: &Core,
    ctx: &Ctx,
    id: &str,
    body: &Value,
    version: Option<i64>,
) -> AppResult<ScheduleView> {
    let before = get(core, ctx, id).await?;
    if !before.editable {
        return Err(AppError::Forbidden);
    }
    let a = read(ctx, body, Some(&before))?;
    let expected = super::saved::expected_version(body, version)?;
    if expected.is_some_and(|v| v != before.version) {
        return Err(AppError::PreconditionFailed);
    }
    let recipients = recipients(core, before.owner.0, &a).await?;
    let now = core.now();
    let next = a
        .cadence
        .next_after(now)
        .map_err(|e| AppError::Validation(vec![FieldError::from_invalid("hour", e)]))?;
    let s = Schedule {
        id: before.id,
        report_id: before.report_id,
        owner_id: before.owner.0,
        owner_name: None,
        every: a.cadence.every.code().to_owned(),
        weekday: a.cadence.weekday.map(i64::from),
        day: a.cadence.day.map(i64::from),
        hour: i64::from(a.cadence.hour),
        time_zone: a.cadence.time_zone.clone(),
        format: a.format.clone(),
        recipients,
        skip_empty: a.skip_empty,
        active: a.active,
        next_run_at: next,
        last_run_at: before.last_run_at,
        created_at: now,
        updated_at: now,
        version: before.version,
    };
    let actor = Actor::of(ctx);
    core.store
        .write(async move |tx| {
            if !repo::update(tx, &s).await? {
                return Err(AppError::PreconditionFailed);
            }
            audit::record(
                tx,
                &actor,
                now,
                "report_schedule",
                &s.id.to_string(),
                "update",
                json!({"every": s.every, "hour": s.hour, "time_zone": s.time_zone,
                       "format": s.format, "recipients": s.recipients, "active": s.active}),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    get(core, ctx, id).await
}

/// Removes a schedule (its owner or an administrator); one that is not there is removed.
pub async fn delete(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    let s = match get(core, ctx, id).await {
        Ok(s) => s,
        Err(AppError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    if !s.editable {
        return Err(AppError::Forbidden);
    }
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            if repo::delete(tx, s.id).await? {
                audit::record(
                    tx,
                    &actor,
                    now,
                    "report_schedule",
                    &s.id.to_string(),
                    "delete",
                    json!({}),
                )
                .await?;
            }
            Ok::<_, AppError>(())
        })
        .await
}

/// Queues the mail of every delivery due now, each claimed once: returns how many.
pub async fn deliver_due(core: &Core) -> AppResult<usize> {
    let mut queued = 0;
    loop {
        let now = core.now();
        let due = core
            .store
            .read(async move |tx| repo::due(tx, now, 50).await)
            .await?;
        if due.is_empty() {
            return Ok(queued);
        }
        let mut claimed_any = false;
        for s in due {
            let every = Every::parse(&s.every).map_err(|e| AppError::Internal(e.message))?;
            let cadence = Cadence::new(every, s.weekday, s.day, s.hour, &s.time_zone)
                .map_err(|e| AppError::Internal(format!("schedule {}: {e:?}", s.id)))?;
            // The next time after now: deliveries missed while nothing ran are not sent
            // several times over.
            let next = cadence
                .next_after(now)
                .map_err(|e| AppError::Internal(e.message))?;
            let claimed = core
                .store
                .write(async move |tx| {
                    if !repo::claim(tx, s.id, s.next_run_at, next, now).await? {
                        return Ok::<_, AppError>(false);
                    }
                    crate::jobs::enqueue(
                        tx,
                        MAIL_JOB,
                        &json!({"schedule": s.id.to_string(), "due": s.next_run_at.to_string()}),
                        now,
                        now,
                    )
                    .await?;
                    Ok(true)
                })
                .await?;
            if claimed {
                queued += 1;
                claimed_any = true;
            }
        }
        if !claimed_any {
            return Ok(queued);
        }
    }
}

/// A delivery to send: the report as its owner sees it, the file format, and whether an
/// empty report is not sent.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub schedule: ScheduleId,
    pub data: super::saved::ReportData,
    pub format: String,
    pub owner: sigap_store::people::Person,
    pub skip_empty: bool,
}

impl Delivery {
    /// Whether the report has nothing to show.
    pub fn is_empty(&self) -> bool {
        match self.data.report.definition.display {
            sigap_domain::report::Display::List => self.data.tasks.is_empty(),
            _ => self.data.lines.iter().all(|l| l.count == 0),
        }
    }
}

/// One recipient of a delivery: address, name, language code, person.
type To = (String, String, String, Option<PersonId>);

/// Queues one mail for each recipient of a delivery (people with an address, the members
/// of its groups, the addresses given; each address once), in one transaction: how many.
/// A recipient's retry then sends to nobody else again.
pub async fn fan_out(core: &Core, id: ScheduleId) -> AppResult<usize> {
    let now = core.now();
    core.store
        .write(async move |tx| {
            let Some(s) = repo::get(tx, id).await? else {
                return Ok::<_, AppError>(0);
            };
            let owner = sigap_store::people::get(tx, s.owner_id).await?;
            if !owner.active {
                return Ok(0);
            }
            let people = ids(&s.recipients, "people", PersonId::parse);
            let groups = ids(&s.recipients, "groups", GroupId::parse);
            let mut to: Vec<To> = repo::readers(tx, &people, &groups)
                .await?
                .into_iter()
                .map(|r: Reader| (r.email, r.name, r.locale, Some(r.id)))
                .collect();
            let addresses: Vec<String> = s
                .recipients
                .get("addresses")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            for a in addresses {
                to.push((a.clone(), a, owner.locale.code().to_owned(), None));
            }
            let mut seen = std::collections::HashSet::new();
            let mut n = 0;
            for (email, name, locale, person) in to {
                if !seen.insert(email.to_lowercase()) {
                    continue;
                }
                crate::jobs::enqueue(
                    tx,
                    SEND_JOB,
                    &json!({"schedule": id.to_string(), "to": email, "name": name,
                           "locale": locale, "person": person.map(|p| p.to_string())}),
                    now,
                    now,
                )
                .await?;
                n += 1;
            }
            Ok(n)
        })
        .await
}

/// What a delivery's mail needs, as its owner sees the report now; none when the schedule
/// or its report is gone, or the owner may no longer open it.
pub async fn delivery(core: &Core, id: ScheduleId) -> AppResult<Option<Delivery>> {
    let found = core
        .store
        .read(async move |tx| {
            let Some(s) = repo::get(tx, id).await? else {
                return Ok::<_, AppError>(None);
            };
            let owner = sigap_store::people::get(tx, s.owner_id).await?;
            Ok(Some((s, owner)))
        })
        .await?;
    let Some((s, owner)) = found else {
        return Ok(None);
    };
    if !owner.active {
        return Ok(None);
    }
    let ctx = Ctx::new(
        Principal::from_person(&owner, AuthMethod::System),
        format!("schedule-{id}"),
    );
    let data = match super::saved::data(core, &ctx, &s.report_id.to_string()).await {
        Ok(d) => d,
        Err(AppError::NotFound | AppError::Forbidden) => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(Some(Delivery {
        schedule: s.id,
        data,
        format: s.format.clone(),
        owner,
        skip_empty: s.skip_empty,
    }))
}
