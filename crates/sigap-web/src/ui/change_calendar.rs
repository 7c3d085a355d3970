//! The change calendar: a month or a week of changes as a grid drawn by the server, each
//! change on the days its window covers, linked, and marked when it is in conflict (with
//! another change on the CIs it touches or reaches, or a blackout window); the blackout
//! windows of the period; filters by service, CI, group and risk; and the iCalendar feed.

use super::changes::{FieldErrors, risk_label, zone};
use super::queue;
use super::*;
use axum::extract::Query;
use jiff::Timestamp;
use jiff::civil::Date;
use sigap_core::FieldError;
use sigap_core::changes;
use sigap_domain::Role;
use sigap_domain::process::change::RiskLevel;
use std::collections::HashMap;

/// How many changes a day of the month view lists before it links to the week.
const DAY_LIMIT: usize = 6;

/// A change on a day: its number, what it is, its time on that day, and whether it is in
/// conflict.
pub struct CalendarEntry {
    pub number: String,
    pub title: String,
    pub state: String,
    pub risk: String,
    pub risk_code: String,
    pub type_code: String,
    /// `09:00–11:00`, or `…` where the window goes on beyond the day.
    pub time: String,
    pub conflict: bool,
}

pub struct CalendarDay {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// The week view of the day, with the same filters.
    pub link: String,
    pub day: i8,
    pub weekday: String,
    /// A day of the weeks around the month, in the month view.
    pub outside: bool,
    pub today: bool,
    pub entries: Vec<CalendarEntry>,
    /// How many more than the month view lists.
    pub more: usize,
    pub blackouts: Vec<String>,
}

pub struct BlackoutLine {
    pub name: String,
    pub service: String,
    pub window: String,
    pub reason: String,
}

#[derive(Template)]
#[template(path = "change_calendar.html")]
pub struct ChangeCalendarPage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub week: bool,
    pub heading: String,
    pub month_link: String,
    pub week_link: String,
    pub previous: String,
    pub next: String,
    pub today_link: String,
    pub weekdays: Vec<String>,
    pub weeks: Vec<Vec<CalendarDay>>,
    pub blackouts: Vec<BlackoutLine>,
    pub count: usize,
    pub conflicts: usize,
    pub truncated: bool,
    pub service: String,
    pub ci: String,
    pub group: String,
    pub risk: String,
    pub groups: Vec<String>,
    pub risks: Vec<(String, String)>,
    /// The filters as hidden fields of the view switch.
    pub date: String,
}

/// The filters of the calendar, as given.
struct Filters {
    service: String,
    ci: String,
    group: String,
    risk: String,
}

impl Filters {
    /// A link to the calendar with these filters.
    fn link(&self, view: &str, date: Date) -> String {
        let mut s = form_urlencoded::Serializer::new(String::new());
        s.append_pair("view", view);
        s.append_pair("date", &date.to_string());
        for (k, v) in [
            ("service", &self.service),
            ("ci", &self.ci),
            ("group", &self.group),
            ("risk", &self.risk),
        ] {
            if !v.is_empty() {
                s.append_pair(k, v);
            }
        }
        format!("/changes/calendar?{}", s.finish())
    }
}

fn days(n: i64) -> jiff::Span {
    jiff::Span::new().days(n)
}

/// The first day of a date's week (Monday).
fn monday(d: Date) -> Date {
    d.saturating_sub(days(i64::from(d.weekday().to_monday_zero_offset())))
}

/// The start of a day in a zone.
fn start_of(d: Date, tz: &jiff::tz::TimeZone) -> Result<Timestamp, AppError> {
    d.to_zoned_datetime(tz.clone())
        .map(|z| z.timestamp())
        .map_err(|e| AppError::Internal(format!("calendar day: {e}")))
}

/// A change's time on one day: `HH:MM` at the ends inside the day, `…` where it goes on.
fn time_on(
    tz: &jiff::tz::TimeZone,
    (s, e): (Timestamp, Timestamp),
    (day_start, day_end): (Timestamp, Timestamp),
) -> String {
    let at = |t: Timestamp| {
        t.to_zoned_datetime(tz.clone())
            .strftime("%H:%M")
            .to_string()
    };
    let from = if s >= day_start { at(s) } else { "…".into() };
    let to = if e <= day_end { at(e) } else { "…".into() };
    if from == "…" && to == "…" {
        return "…".into();
    }
    format!("{from}–{to}")
}

pub async fn change_calendar_page(
    v: Visit,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    v.ctx.principal.require(Role::Agent)?;
    let mut chrome = v.chrome("changes", "change-calendar-title");
    let tt = chrome.t;
    let tz = zone(&v.viewer);
    let today = v.state.core.now().to_zoned_datetime(tz.clone()).date();
    let week = queue::get(&q, "view") == "week";
    let mut refused: Vec<FieldError> = Vec::new();
    let date = match queue::get(&q, "date").as_str() {
        "" => today,
        text => text.parse::<Date>().unwrap_or_else(|_| {
            let e = FieldError::new("date", "invalid_date", "a date: YYYY-MM-DD");
            refused.push(e);
            today
        }),
    };
    let f = Filters {
        service: queue::get(&q, "service"),
        ci: queue::get(&q, "ci"),
        group: queue::get(&q, "group"),
        risk: queue::get(&q, "risk"),
    };
    let (first, last) = if week {
        let m = monday(date);
        (m, m.saturating_add(days(6)))
    } else {
        let end = date.last_of_month();
        let sunday = 6 - i64::from(end.weekday().to_monday_zero_offset());
        (
            monday(date.first_of_month()),
            end.saturating_add(days(sunday)),
        )
    };
    let from = start_of(first, &tz)?;
    let to = start_of(last.saturating_add(days(1)), &tz)?;
    let (core, ctx) = (&v.state.core, &v.ctx);
    let opt = |s: &String| Some(s.clone()).filter(|s| !s.is_empty());
    let filter = changes::calendar_filter(
        core,
        ctx,
        opt(&f.service).as_deref(),
        opt(&f.ci).as_deref(),
        opt(&f.group).as_deref(),
        opt(&f.risk).as_deref(),
    )
    .await;
    let cal = match filter {
        Ok(filter) => changes::calendar(core, ctx, from, to, filter).await?,
        Err(AppError::Validation(list)) => {
            refused.extend(list);
            changes::Calendar {
                entries: Vec::new(),
                blackouts: Vec::new(),
                truncated: false,
            }
        }
        Err(e) => return Err(e.into()),
    };
    let refused = (!refused.is_empty()).then_some(AppError::Validation(refused));
    let known = [
        "date",
        "service",
        "configuration_item",
        "assignment_group",
        "risk",
    ];
    let (_, errs) = FieldErrors::split(&mut chrome, refused, &known);
    let mut weeks: Vec<Vec<CalendarDay>> = Vec::new();
    let mut d = first;
    while d <= last {
        let (day_start, day_end) = (start_of(d, &tz)?, start_of(d.saturating_add(days(1)), &tz)?);
        let inside = |(s, e): (Timestamp, Timestamp)| s < day_end && e > day_start;
        let mut entries: Vec<CalendarEntry> = cal
            .entries
            .iter()
            .filter_map(|entry| {
                let c = &entry.change;
                let w = (c.ext.planned_start?, c.ext.planned_end?);
                inside(w).then(|| CalendarEntry {
                    number: c.number.clone(),
                    title: c.short_description.clone(),
                    state: super::task::state_label(tt, c.state),
                    risk: risk_label(tt, c.ext.risk),
                    risk_code: c.ext.risk.map(|r| r.code().to_owned()).unwrap_or_default(),
                    type_code: c.ext.change_type.code().to_owned(),
                    time: time_on(&tz, w, (day_start, day_end)),
                    conflict: entry.in_conflict,
                })
            })
            .collect();
        let more = if week {
            0
        } else {
            entries.len().saturating_sub(DAY_LIMIT)
        };
        entries.truncate(entries.len() - more);
        let blackouts = cal
            .blackouts
            .iter()
            .filter(|b| inside((b.starts_at, b.ends_at)))
            .map(|b| match &b.service {
                Some(s) => format!("{} ({})", b.name, s.name),
                None => b.name.clone(),
            })
            .collect();
        let offset = d.weekday().to_monday_zero_offset();
        let cell = CalendarDay {
            date: d.to_string(),
            link: f.link("week", d),
            day: d.day(),
            weekday: tt.get(&format!("weekday-{offset}")),
            outside: !week && d.month() != date.month(),
            today: d == today,
            entries,
            more,
            blackouts,
        };
        match weeks.last_mut() {
            Some(w) if w.len() < 7 => w.push(cell),
            _ => weeks.push(vec![cell]),
        }
        d = d.saturating_add(days(1));
    }
    let (previous, next) = if week {
        (date.saturating_sub(days(7)), date.saturating_add(days(7)))
    } else {
        let m = date.first_of_month();
        (
            m.saturating_sub(jiff::Span::new().months(1)),
            m.saturating_add(jiff::Span::new().months(1)),
        )
    };
    let view = if week { "week" } else { "month" };
    let heading = if week {
        tt.arg("change-calendar-week-of", "date", &first.to_string())
    } else {
        let mut args = fluent_bundle::FluentArgs::new();
        args.set("month", tt.get(&format!("calendar-month-{}", date.month())));
        args.set("year", date.year().to_string());
        tt.i18n
            .text(tt.locale, "change-calendar-month-of", Some(&args))
    };
    chrome.title = format!("{} · {heading}", tt.get("change-calendar-title"));
    let page = ChangeCalendarPage {
        errs,
        week,
        heading,
        month_link: f.link("month", date),
        week_link: f.link("week", date),
        previous: f.link(view, previous),
        next: f.link(view, next),
        today_link: f.link(view, today),
        weekdays: (0..7).map(|i| tt.get(&format!("weekday-{i}"))).collect(),
        weeks,
        blackouts: cal
            .blackouts
            .iter()
            .map(|b| BlackoutLine {
                name: b.name.clone(),
                service: b
                    .service
                    .as_ref()
                    .map(|s| s.name.clone())
                    .unwrap_or_default(),
                window: super::changes::window(&v.viewer, Some(b.starts_at), Some(b.ends_at)),
                reason: b.reason.clone(),
            })
            .collect(),
        count: cal.entries.len(),
        conflicts: cal.entries.iter().filter(|e| e.in_conflict).count(),
        truncated: cal.truncated,
        groups: super::incidents::active_group_names(&v.state, &v.ctx).await,
        risks: RiskLevel::ALL
            .iter()
            .map(|r| (r.code().to_owned(), risk_label(tt, Some(*r))))
            .collect(),
        date: date.to_string(),
        service: f.service,
        ci: f.ci,
        group: f.group,
        risk: f.risk,
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}
