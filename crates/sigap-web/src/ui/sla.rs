//! Pages of service level management: the breaching-soon list, agreements with their
//! targets, calendars with holidays, the compliance report; and the clock badges and
//! timelines other pages show.

use super::views::{notice, refusal, when};
use super::*;
use crate::AppState;
use axum::extract::{Path, Query, State};
use sigap_core::sla::{self, ClockView};
use sigap_domain::sla::{Condition, Stage};
use std::collections::HashMap;

/// A length of time in at most two units ("2 h 15 min").
pub fn span_text(tt: Tr<'_>, secs: i64) -> String {
    let s = secs.unsigned_abs() as i64;
    let (d, h, m) = (s / 86_400, (s % 86_400) / 3600, (s % 3600) / 60);
    let mut parts = Vec::new();
    if d > 0 {
        parts.push(tt.num("dur-d", "n", d));
    }
    if h > 0 {
        parts.push(tt.num("dur-h", "n", h));
    }
    if m > 0 && parts.len() < 2 {
        parts.push(tt.num("dur-m", "n", m));
    }
    if parts.is_empty() {
        parts.push(tt.num("dur-m", "n", 0));
    }
    parts.truncate(2);
    parts.join(" ")
}

/// How a clock is shown: a short text and a colour class.
#[derive(Debug, Clone)]
pub struct Badge {
    pub text: String,
    pub class: &'static str,
}

pub fn badge(tt: Tr<'_>, v: &ClockView) -> Badge {
    let r = &v.reading;
    let left = r.business_left.as_secs();
    let (text, class) = match r.stage {
        Stage::InProgress => (
            tt.arg("sla-left", "time", &span_text(tt, left)),
            match r.permille {
                p if p >= 750 => "sla-risk",
                p if p >= 500 => "sla-warn",
                _ => "sla-ok",
            },
        ),
        Stage::Paused => (
            tt.arg("sla-paused", "time", &span_text(tt, left)),
            "sla-paused",
        ),
        // Breached at its due instant with no business time run since (out of hours, or
        // stopped right then): no "0 min over".
        Stage::Breached if left == 0 => (tt.get("sla-stage-breached"), "sla-breach"),
        Stage::Breached if v.clock.ended_at.is_none() => (
            tt.arg("sla-over", "time", &span_text(tt, left)),
            "sla-breach",
        ),
        Stage::Breached => (
            tt.arg("sla-breached-by", "time", &span_text(tt, left)),
            "sla-breach",
        ),
        Stage::Achieved => (
            tt.arg(
                "sla-achieved",
                "time",
                &span_text(tt, r.business_elapsed.as_secs()),
            ),
            "sla-done",
        ),
        Stage::Cancelled => (tt.get("sla-cancelled"), "sla-cancelled"),
    };
    Badge { text, class }
}

/// A clock as the incident page shows it.
pub struct ClockCard {
    pub agreement: String,
    pub kind: String,
    pub metric: String,
    pub target: String,
    pub stage: String,
    pub badge: Badge,
    pub percent: i64,
    pub elapsed: String,
    pub actual: String,
    pub due: String,
    pub time_zone: String,
    /// (when, what, why)
    pub timeline: Vec<(String, String, String)>,
}

pub fn cards(tt: Tr<'_>, viewer: &Viewer, clocks: Vec<ClockView>) -> Vec<ClockCard> {
    clocks
        .into_iter()
        .map(|v| ClockCard {
            badge: badge(tt, &v),
            agreement: v.agreement.clone(),
            kind: tt.get(&format!("agreement-kind-{}", v.kind.code())),
            metric: tt.get(&format!("metric-{}", v.clock.metric.code())),
            target: format!(
                "{} ({})",
                v.clock.target_name,
                span_text(tt, v.clock.duration_secs)
            ),
            stage: tt.get(&format!("sla-stage-{}", v.reading.stage.code())),
            percent: (v.reading.permille / 10).clamp(0, 999),
            elapsed: span_text(tt, v.reading.business_elapsed.as_secs()),
            actual: span_text(tt, v.reading.actual_elapsed.as_secs()),
            due: v.reading.due.map(|d| when(d, viewer)).unwrap_or_default(),
            time_zone: v.clock.time_zone.clone(),
            timeline: v
                .events
                .iter()
                .map(|e| {
                    (
                        when(e.at, viewer),
                        tt.get(&format!("sla-event-{}", e.kind)),
                        e.detail.clone(),
                    )
                })
                .collect(),
        })
        .collect()
}

/// The most urgent clock of each incident on a page, as badges by task.
pub async fn badges_for(
    state: &AppState,
    tt: Tr<'_>,
    tasks: Vec<sigap_domain::TaskId>,
) -> HashMap<sigap_domain::TaskId, Badge> {
    sla::urgent_of(&state.core, tasks)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, badge(tt, &v)))
        .collect()
}

// ----- the service levels page: breaching soon -----

pub struct BreachRow {
    pub number: String,
    pub short_description: String,
    pub agreement: String,
    pub target: String,
    pub badge: Badge,
    pub due: String,
    pub group: String,
    pub assignee: String,
}

#[derive(Template)]
#[template(path = "sla.html")]
pub struct SlaPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<BreachRow>,
    pub within: i64,
    pub can_manage: bool,
}

pub async fn sla_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let within = q
        .get("within")
        .and_then(|w| w.trim().parse::<i64>().ok())
        .filter(|w| (1..=24 * 14).contains(w))
        .unwrap_or(4);
    let list = sla::breaching_soon(
        &state.core,
        &ctx,
        jiff::SignedDuration::from_hours(within),
        200,
    )
    .await?;
    let mut chrome = Chrome::new(&state, &viewer, "sla", "sla-title");
    notice(&mut chrome, &q);
    let tt = chrome.t;
    let rows = list
        .into_iter()
        .map(|(v, i)| BreachRow {
            badge: badge(tt, &v),
            number: i.task.number,
            short_description: i.task.short_description,
            agreement: v.agreement.clone(),
            target: v.clock.target_name.clone(),
            due: v.reading.due.map(|d| when(d, &viewer)).unwrap_or_default(),
            group: i.task.assignment_group.map(|g| g.name).unwrap_or_default(),
            assignee: i.task.assigned_to.map(|p| p.name).unwrap_or_default(),
        })
        .collect();
    Ok(render(
        StatusCode::OK,
        &SlaPage {
            chrome,
            rows,
            within,
            can_manage: ctx.principal.has(sigap_domain::Role::Manager),
        },
    ))
}

// ----- agreements -----

#[derive(Template)]
#[template(path = "agreements.html")]
pub struct AgreementsPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<sla::AgreementDetail>,
    pub calendars: Vec<String>,
    pub draft: Draft,
    pub can_manage: bool,
}

async fn calendar_names(state: &AppState, ctx: &Ctx) -> Vec<String> {
    sla::calendars(&state.core, ctx)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|c| c.name)
        .collect()
}

async fn agreements_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    let rows = sla::agreements(&state.core, ctx).await?;
    let mut chrome = Chrome::new(state, viewer, "sla", "agreements-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    Ok(render(
        status,
        &AgreementsPage {
            calendars: calendar_names(state, ctx).await,
            can_manage: ctx.principal.has(sigap_domain::Role::Manager),
            chrome,
            rows,
            draft,
        },
    ))
}

pub async fn agreements_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    agreements_view(&state, &ctx, &viewer, &q, Draft::default(), None).await
}

fn agreement_input(form: &FormData) -> sla::AgreementInput {
    let opt_ref = |n: &str| {
        form.get(n)
            .map(|v| Some(v).filter(|v| !v.trim().is_empty()))
    };
    sla::AgreementInput {
        name: form.get("name"),
        kind: form.get("kind"),
        customer: opt_ref("customer"),
        supplier: opt_ref("supplier"),
        group: opt_ref("group"),
        calendar: opt_ref("calendar"),
        tz_source: form.get("tz_source"),
        valid_from: form.opt("valid_from"),
        valid_to: form
            .get("valid_to")
            .map(|v| Some(v).filter(|v| !v.trim().is_empty())),
        active: form
            .get("active_sent")
            .map(|_| form.get("active").is_some()),
        description: form.get("description"),
        services: form.get("services").map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        }),
    }
}

pub async fn agreement_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    match sla::create_agreement(&state.core, &ctx, agreement_input(&form)).await {
        Ok(d) => Ok(see_other(
            &format!("/sla/agreements/{}", d.agreement.id),
            Some("created"),
        )),
        Err(e) => {
            let draft = Draft::from_form(&form);
            agreements_view(&state, &ctx, &viewer, &HashMap::new(), draft, Some(e)).await
        }
    }
}

pub struct TargetLine {
    pub id: String,
    pub name: String,
    pub metric: String,
    pub duration: String,
    pub applies_when: String,
    pub conditions: Vec<(String, String)>,
    pub thresholds: String,
}

#[derive(Template)]
#[template(path = "agreement.html")]
pub struct AgreementPage<'a> {
    pub chrome: Chrome<'a>,
    pub a: sla::AgreementDetail,
    pub kind_label: String,
    pub targets: Vec<TargetLine>,
    pub services: String,
    pub calendars: Vec<String>,
    pub groups: Vec<String>,
    pub can_manage: bool,
    pub draft: Draft,
}

fn show_cond(c: &Condition) -> String {
    if c.is_never() {
        return "—".into();
    }
    c.0.iter()
        .map(|clause| {
            if clause.is_empty() {
                return "*".to_owned();
            }
            clause
                .iter()
                .map(|(f, v)| format!("{f} = {}", v.join(" | ")))
                .collect::<Vec<_>>()
                .join(" & ")
        })
        .collect::<Vec<_>>()
        .join("  or  ")
}

async fn agreement_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    key: &str,
    q: &HashMap<String, String>,
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    let a = sla::agreement(&state.core, ctx, key).await?;
    let groups = active_group_names(state, ctx).await;
    let mut chrome = Chrome::new(state, viewer, "sla", "agreements-title");
    chrome.title = a.agreement.name.clone();
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let targets = a
        .targets
        .iter()
        .map(|t| {
            let c = sla::conditions(t);
            let applies: Condition = serde_json::from_str(&t.applies_when).unwrap_or_default();
            TargetLine {
                id: t.id.to_string(),
                name: t.name.clone(),
                metric: tt.get(&format!("metric-{}", t.metric.code())),
                duration: span_text(tt, t.duration_secs),
                applies_when: match show_cond(&applies).as_str() {
                    "*" => tt.get("cond-any-task"),
                    other => other.to_owned(),
                },
                conditions: vec![
                    (tt.get("cond-start"), show_cond(&c.start)),
                    (tt.get("cond-pause"), show_cond(&c.pause)),
                    (
                        tt.get("cond-resume"),
                        c.resume
                            .as_ref()
                            .map_or_else(|| tt.get("cond-resume-default"), show_cond),
                    ),
                    (tt.get("cond-stop"), show_cond(&c.stop)),
                    (tt.get("cond-cancel"), show_cond(&c.cancel)),
                    (tt.get("cond-reset"), show_cond(&c.reset)),
                    (
                        tt.get("cond-when-start-fails"),
                        tt.get(&format!("when-start-fails-{}", c.when_start_fails.code())),
                    ),
                ],
                thresholds: sla::thresholds(t)
                    .iter()
                    .map(|p| format!("{p}%"))
                    .collect::<Vec<_>>()
                    .join(", "),
            }
        })
        .collect();
    let services = a
        .services
        .iter()
        .map(|s| s.name.clone())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(render(
        status,
        &AgreementPage {
            calendars: calendar_names(state, ctx).await,
            can_manage: ctx.principal.has(sigap_domain::Role::Manager),
            kind_label: tt.get(&format!("agreement-kind-{}", a.agreement.kind.code())),
            chrome,
            a,
            targets,
            services,
            groups,
            draft,
        },
    ))
}

pub async fn agreement_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    agreement_view(&state, &ctx, &viewer, &key, &q, Draft::default(), None).await
}

pub async fn agreement_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    form: FormData,
) -> PageResult {
    match sla::update_agreement(
        &state.core,
        &ctx,
        &key,
        agreement_input(&form),
        form.version(),
    )
    .await
    {
        Ok(d) => Ok(see_other(
            &format!("/sla/agreements/{}", d.agreement.id),
            Some("saved"),
        )),
        Err(e) => {
            let draft = Draft::default();
            agreement_view(&state, &ctx, &viewer, &key, &HashMap::new(), draft, Some(e)).await
        }
    }
}

/// A condition from a form field: JSON, or empty for the default.
fn form_cond(form: &FormData, name: &str) -> Result<Option<Condition>, AppError> {
    match form.opt(name) {
        None => Ok(None),
        Some(text) => serde_json::from_str::<Condition>(&text)
            .map(Some)
            .map_err(|_| {
                AppError::field(
                    name,
                    "invalid_condition",
                    "write a condition as JSON, e.g. [{\"state\": [\"on_hold\"]}]",
                )
            }),
    }
}

pub async fn target_add(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    form: FormData,
) -> PageResult {
    let result = async {
        let priorities = form.all("priority");
        let applies_when = if priorities.is_empty() {
            None
        } else {
            let mut clause = sigap_domain::sla::Clause::new();
            clause.insert("priority".into(), priorities);
            Some(Condition(vec![clause]))
        };
        let thresholds = match form.opt("thresholds") {
            None => None,
            Some(t) => Some(
                t.split(',')
                    .map(|p| p.trim().trim_end_matches('%').trim().parse::<i64>())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|_| {
                        AppError::field(
                            "thresholds",
                            "out_of_range",
                            "percentages separated by commas, e.g. 50, 75, 100",
                        )
                    })?,
            ),
        };
        let input = sla::TargetInput {
            name: form.get("name"),
            metric: form.get("metric"),
            duration_minutes: match form.opt("duration_minutes") {
                Some(d) => Some(d.trim().parse().map_err(|_| {
                    AppError::field("duration_minutes", "out_of_range", "a number of minutes")
                })?),
                None => None,
            },
            applies_when,
            start: form_cond(&form, "start")?,
            pause: form_cond(&form, "pause")?,
            stop: form_cond(&form, "stop")?,
            cancel: form_cond(&form, "cancel")?,
            reset: form_cond(&form, "reset")?,
            thresholds,
            escalate_group: form.opt("escalate_group").map(Some),
            notify_owner: Some(form.get("notify_owner").is_some()),
            delivery_time: Some(form.get("delivery_time").is_some()),
            ..Default::default()
        };
        sla::add_target(&state.core, &ctx, &key, input).await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other(
            &format!("/sla/agreements/{}", encode(&key)),
            Some("created"),
        )),
        Err(e) => {
            let draft = Draft::from_form(&form);
            agreement_view(&state, &ctx, &viewer, &key, &HashMap::new(), draft, Some(e)).await
        }
    }
}

pub async fn target_delete(
    State(state): State<AppState>,
    SignedIn(ctx, _): SignedIn,
    Path((key, id)): Path<(String, String)>,
) -> PageResult {
    sla::delete_target(&state.core, &ctx, &id).await?;
    Ok(see_other(
        &format!("/sla/agreements/{}", encode(&key)),
        Some("deleted"),
    ))
}

// ----- calendars -----

#[derive(Template)]
#[template(path = "calendars.html")]
pub struct CalendarsPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<(String, String, String)>,
    pub draft: Draft,
    pub is_admin: bool,
}

async fn calendars_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    let list = sla::calendars(&state.core, ctx).await?;
    let mut chrome = Chrome::new(state, viewer, "sla", "calendars-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    Ok(render(
        status,
        &CalendarsPage {
            rows: list
                .into_iter()
                .map(|c| (c.id.to_string(), c.name, c.time_zone))
                .collect(),
            is_admin: ctx.principal.has(sigap_domain::Role::Admin),
            chrome,
            draft,
        },
    ))
}

pub async fn calendars_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    calendars_view(&state, &ctx, &viewer, &q, Draft::default(), None).await
}

fn week_from(form: &FormData) -> Option<Vec<Vec<String>>> {
    form.get("day0")?;
    Some(
        (0..7)
            .map(|d| {
                form.text(&format!("day{d}"))
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .collect(),
    )
}

pub async fn calendar_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    let input = sla::CalendarInput {
        name: form.get("name"),
        time_zone: form.get("time_zone"),
        hours: week_from(&form),
        description: form.get("description"),
    };
    match sla::create_calendar(&state.core, &ctx, input).await {
        Ok(c) => Ok(see_other(
            &format!("/sla/calendars/{}", c.id),
            Some("created"),
        )),
        Err(e) => {
            let draft = Draft::from_form(&form);
            calendars_view(&state, &ctx, &viewer, &HashMap::new(), draft, Some(e)).await
        }
    }
}

#[derive(Template)]
#[template(path = "calendar.html")]
pub struct CalendarPage<'a> {
    pub chrome: Chrome<'a>,
    pub c: sla::CalendarDetail,
    /// (day name, its intervals as text)
    pub week: Vec<(String, String)>,
    /// (id, date, closed, yearly, name)
    pub holidays: Vec<(String, String, String, bool, String)>,
    pub is_admin: bool,
}

async fn calendar_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    key: &str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let c = sla::calendar(&state.core, ctx, key).await?;
    let mut chrome = Chrome::new(state, viewer, "sla", "calendars-title");
    chrome.title = c.calendar.name.clone();
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let week = (0..7)
        .map(|d| {
            (
                tt.get(&format!("weekday-{d}")),
                c.hours
                    .get(d)
                    .map(|spans| {
                        spans
                            .iter()
                            .map(ToString::to_string)
                            .collect::<Vec<_>>()
                            .join(", ")
                    })
                    .unwrap_or_default(),
            )
        })
        .collect();
    let fmt = |m: i64| format!("{:02}:{:02}", m / 60, m % 60);
    let holidays = c
        .holidays
        .iter()
        .map(|h| {
            (
                h.id.to_string(),
                h.day.to_string(),
                match (h.closed_from, h.closed_to) {
                    (Some(a), Some(b)) => format!("{}-{}", fmt(a), fmt(b)),
                    _ => tt.get("holiday-whole-day"),
                },
                h.recurring,
                h.name.clone(),
            )
        })
        .collect();
    Ok(render(
        status,
        &CalendarPage {
            is_admin: ctx.principal.has(sigap_domain::Role::Admin),
            chrome,
            c,
            week,
            holidays,
        },
    ))
}

pub async fn calendar_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    calendar_view(&state, &ctx, &viewer, &key, &q, None).await
}

async fn calendar_after<T>(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    key: &str,
    result: Result<T, AppError>,
    code: &str,
) -> PageResult {
    match result {
        Ok(_) => Ok(see_other(
            &format!("/sla/calendars/{}", encode(key)),
            Some(code),
        )),
        Err(e) => calendar_view(state, ctx, viewer, key, &HashMap::new(), Some(e)).await,
    }
}

pub async fn calendar_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    form: FormData,
) -> PageResult {
    let input = sla::CalendarInput {
        name: form.get("name"),
        time_zone: form.get("time_zone"),
        hours: week_from(&form),
        description: form.get("description"),
    };
    let result = sla::update_calendar(&state.core, &ctx, &key, input, form.version()).await;
    calendar_after(&state, &ctx, &viewer, &key, result, "saved").await
}

/// Adds one holiday, or the holidays of a pasted iCalendar file.
pub async fn holiday_add(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    form: FormData,
) -> PageResult {
    let result = match form.opt("ical") {
        Some(text) => match sla::parse_ical(&text) {
            Ok(list) => sla::add_holidays(&state.core, &ctx, &key, list).await,
            Err(e) => Err(e),
        },
        None => {
            sla::add_holidays(
                &state.core,
                &ctx,
                &key,
                vec![sla::HolidayInput {
                    date: form.text("date"),
                    closed: form.opt("closed"),
                    recurring: form.get("recurring").is_some(),
                    name: form.text("name"),
                }],
            )
            .await
        }
    };
    calendar_after(&state, &ctx, &viewer, &key, result, "saved").await
}

pub async fn holiday_delete(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path((key, id)): Path<(String, String)>,
) -> PageResult {
    let result = sla::delete_holiday(&state.core, &ctx, &key, &id).await;
    calendar_after(&state, &ctx, &viewer, &key, result, "deleted").await
}

// ----- compliance report -----

pub struct ReportRow {
    pub key: String,
    pub total: i64,
    pub achieved: i64,
    pub breached: i64,
    pub percent: String,
    pub average: String,
}

#[derive(Template)]
#[template(path = "sla_report.html")]
pub struct ReportPage<'a> {
    pub chrome: Chrome<'a>,
    pub by: String,
    pub by_label: String,
    pub from: String,
    pub to: String,
    pub rows: Vec<ReportRow>,
    pub chart: String,
    pub bys: Vec<(String, String)>,
}

/// A horizontal bar chart of the achieved share per line, drawn as SVG.
fn chart(rows: &[ReportRow], lines: &[sigap_core::sla::ReportLine], label: &str) -> String {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    let bar_h = 22;
    let height = (rows.len() as i64) * (bar_h + 8) + 30;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" role=\"img\" aria-label=\"{}\" viewBox=\"0 0 640 {height}\" width=\"640\" height=\"{height}\">",
        esc(label)
    );
    for (k, (r, l)) in rows.iter().zip(lines).enumerate() {
        let y = (k as i64) * (bar_h + 8) + 4;
        let share = if l.total > 0 {
            (l.total - l.breached) as f64 / l.total as f64
        } else {
            0.0
        };
        let w = (share * 400.0).round() as i64;
        svg.push_str(&format!(
            "<text x=\"0\" y=\"{}\" class=\"chart-label\">{}</text>\
             <rect x=\"180\" y=\"{y}\" width=\"400\" height=\"{bar_h}\" class=\"chart-track\"/>\
             <rect x=\"180\" y=\"{y}\" width=\"{w}\" height=\"{bar_h}\" class=\"chart-bar{}\"/>\
             <text x=\"{}\" y=\"{}\" class=\"chart-value\">{}</text>",
            y + 16,
            esc(&r.key.chars().take(24).collect::<String>()),
            if share < 0.9 { " chart-bar-low" } else { "" },
            590,
            y + 16,
            esc(&r.percent)
        ));
    }
    let axis_y = (rows.len() as i64) * (bar_h + 8) + 20;
    for p in [0, 50, 100] {
        svg.push_str(&format!(
            "<text x=\"{}\" y=\"{axis_y}\" class=\"chart-axis\">{p}%</text>",
            180 + p * 4 - 8
        ));
    }
    svg.push_str("</svg>");
    svg
}

pub async fn report_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let now = state.core.now();
    let month_ago = now
        .checked_sub(jiff::SignedDuration::from_hours(24 * 30))
        .unwrap_or(now);
    let by = q
        .get("by")
        .cloned()
        .filter(|b| ["agreement", "service", "priority", "group", "month"].contains(&b.as_str()))
        .unwrap_or_else(|| "agreement".into());
    let day = |t: jiff::Timestamp| jiff::tz::TimeZone::UTC.to_datetime(t).date().to_string();
    let from = crate::api::sla_instant("from", q.get("from").map(String::as_str), month_ago);
    let to = crate::api::sla_instant("to", q.get("to").map(String::as_str), now);
    let lines = match (from, to) {
        (Ok(from), Ok(to)) => sla::compliance(&state.core, &ctx, &by, from, to, None).await,
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let mut chrome = Chrome::new(&state, &viewer, "sla", "report-title");
    // A refused date is shown on the page with an empty report.
    let lines = match lines {
        Err(e @ AppError::Validation(_)) => {
            chrome.errors = messages(chrome.t, &e);
            Vec::new()
        }
        lines => lines?,
    };
    let tt = chrome.t;
    let rows: Vec<ReportRow> = lines
        .iter()
        .map(|l| {
            let achieved = l.total - l.breached;
            ReportRow {
                key: if by == "priority" {
                    tt.get(&format!("priority-{}", l.key))
                } else if l.key.is_empty() {
                    "—".into()
                } else {
                    l.key.clone()
                },
                total: l.total,
                achieved,
                breached: l.breached,
                percent: if l.total > 0 {
                    format!("{:.1}%", achieved as f64 * 100.0 / l.total as f64)
                } else {
                    "—".into()
                },
                average: span_text(tt, l.avg_business_us / 1_000_000),
            }
        })
        .collect();
    let chart = if rows.is_empty() {
        String::new()
    } else {
        chart(&rows, &lines, &tt.get("report-chart"))
    };
    Ok(render(
        StatusCode::OK,
        &ReportPage {
            from: q.get("from").cloned().unwrap_or_else(|| day(month_ago)),
            to: q.get("to").cloned().unwrap_or_else(|| day(now)),
            bys: super::task::choices(
                tt,
                "report-by",
                ["agreement", "service", "priority", "group", "month"],
            ),
            by_label: tt.get(&format!("report-by-{by}")),
            by,
            rows,
            chart,
            chrome,
        },
    ))
}
