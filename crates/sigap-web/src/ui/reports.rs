//! Service management → Reports: the reports a person may open, the builder (a report's
//! definition and who it is shared with), a report with its chart and table, the tasks
//! behind one of its bars or cells, and its files.

use super::changes::FieldErrors;
use super::task::choices;
use super::views::{notice, when};
use super::*;
use crate::api::reports::{FileFormat, parse_keys, report_file};
use crate::report_words::report_words;
use axum::extract::{Path, Query};
use serde_json::{Value, json};
use sigap_core::reports::chart::{self, ChartInput};
use sigap_core::reports::saved::{self, Report};
use sigap_core::reports::table::{self, Table};
use sigap_domain::Role;
use sigap_domain::report::{
    Aggregate, Audience, Display, Every, GroupBy, Queue, SOURCES, TaskNumber, TaskTime, Window,
};
use std::collections::HashMap;

const SECTION: &str = "reports";
const LIST: &str = "/reports";

/// A report in the list.
pub struct ReportLine {
    pub id: String,
    pub name: String,
    pub description: String,
    pub source: String,
    pub display: String,
    pub owner: String,
    pub audience: String,
}

#[derive(Template)]
#[template(path = "reports.html")]
pub struct ReportsPage<'a> {
    pub chrome: Chrome<'a>,
    pub reports: Vec<ReportLine>,
    pub can_build: bool,
}

/// The reports the viewer may open.
pub async fn reports_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let list = saved::list(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome(SECTION, "reports-title");
    notice(&mut chrome, &q);
    let t = chrome.t;
    let reports = list
        .into_iter()
        .map(|r| ReportLine {
            id: r.id.to_string(),
            description: r.description,
            source: t.get(&format!("report-source-{}", r.definition.source.code())),
            display: t.get(&format!("report-display-{}", r.definition.display.code())),
            owner: r.owner.map_or_else(|| t.get("report-builtin"), |o| o.1),
            audience: t.get(&format!("report-audience-{}", r.audience.code())),
            name: r.name,
        })
        .collect();
    let page = ReportsPage {
        reports,
        can_build: v.ctx.principal.has(Role::Agent),
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The builder's fields, as the form holds them.
#[derive(Default, Clone)]
pub struct ReportForm {
    pub name: String,
    pub description: String,
    pub source: String,
    pub group_1: String,
    pub group_2: String,
    pub measure: String,
    pub of: String,
    pub time: String,
    pub period: String,
    pub from: String,
    pub to: String,
    pub time_zone: String,
    pub states: String,
    pub priority: String,
    pub category: String,
    pub queue: String,
    pub display: String,
    pub target: String,
    pub audience: String,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
    pub version: String,
}

fn form_of(r: &Report) -> ReportForm {
    let d = &r.definition;
    let group = |i: usize| {
        d.group_by
            .get(i)
            .map(|g| g.code().to_owned())
            .unwrap_or_default()
    };
    ReportForm {
        name: r.name.clone(),
        description: r.description.clone(),
        source: d.source.code().to_owned(),
        group_1: group(0),
        group_2: group(1),
        measure: d.measure.code().to_owned(),
        of: d.of.map(|o| o.code().to_owned()).unwrap_or_default(),
        time: d.time.code().to_owned(),
        period: d.window.code().to_owned(),
        from: d.custom.map(|c| c.0.to_string()).unwrap_or_default(),
        to: d.custom.map(|c| c.1.to_string()).unwrap_or_default(),
        time_zone: d.time_zone.clone().unwrap_or_default(),
        states: d.states.join(", "),
        priority: d.priority.map(|p| p.to_string()).unwrap_or_default(),
        category: d.category.clone().unwrap_or_default(),
        queue: d.queue.map(|q| q.code().to_owned()).unwrap_or_default(),
        display: d.display.code().to_owned(),
        target: d.target.map(chart::number).unwrap_or_default(),
        audience: r.audience.code().to_owned(),
        groups: r.groups.iter().map(|g| g.0.to_string()).collect(),
        roles: r.roles.iter().map(|r| r.code().to_owned()).collect(),
        version: r.version.to_string(),
    }
}

fn form_from(f: &FormData) -> ReportForm {
    ReportForm {
        name: f.text("name"),
        description: f.text("description"),
        source: f.text("source"),
        group_1: f.text("group_1"),
        group_2: f.text("group_2"),
        measure: f.text("measure"),
        of: f.text("of"),
        time: f.text("time"),
        period: f.text("period"),
        from: f.text("from"),
        to: f.text("to"),
        time_zone: f.text("time_zone"),
        states: f.text("states"),
        priority: f.text("priority"),
        category: f.text("category"),
        queue: f.text("queue"),
        display: f.text("display"),
        target: f.text("target"),
        audience: f.text("audience"),
        groups: f.all("groups"),
        roles: f.all("roles"),
        version: f.text("version"),
    }
}

/// The form as the core reads a report: empty fields left out.
fn body_of(f: &ReportForm) -> Value {
    let text = |s: &str| match s.trim() {
        "" => Value::Null,
        t => json!(t),
    };
    let groups: Vec<&str> = [f.group_1.trim(), f.group_2.trim()]
        .into_iter()
        .filter(|g| !g.is_empty())
        .collect();
    let states: Vec<&str> = f
        .states
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut d = serde_json::Map::new();
    for (k, v) in [
        ("source", text(&f.source)),
        ("group_by", json!(groups)),
        ("measure", text(&f.measure)),
        ("of", text(&f.of)),
        ("time", text(&f.time)),
        ("period", text(&f.period)),
        ("from", text(&f.from)),
        ("to", text(&f.to)),
        ("time_zone", text(&f.time_zone)),
        ("state", json!(states)),
        (
            "priority",
            match f.priority.trim() {
                "" => Value::Null,
                p => p.parse::<i64>().map_or_else(|_| json!(p), |n| json!(n)),
            },
        ),
        ("category", text(&f.category)),
        ("queue", text(&f.queue)),
        ("display", text(&f.display)),
        (
            "target",
            match f.target.trim() {
                "" => Value::Null,
                p => p.parse::<f64>().map_or_else(|_| json!(p), |n| json!(n)),
            },
        ),
    ] {
        if !v.is_null() {
            d.insert(k.to_owned(), v);
        }
    }
    json!({
        "name": f.name,
        "description": f.description,
        "audience": if f.audience.trim().is_empty() { "private" } else { f.audience.trim() },
        "groups": f.groups,
        "roles": f.roles,
        "definition": Value::Object(d),
    })
}

/// The core's field names as the form's: `definition.group_by[1]` is `group_by`.
fn form_errors(e: AppError) -> AppError {
    match e {
        AppError::Validation(list) => AppError::Validation(
            list.into_iter()
                .map(|mut f| {
                    let plain = f.field.trim_start_matches("definition.").to_owned();
                    f.field = match plain.split('[').next().unwrap_or("") {
                        "group_by" => "group_1".to_owned(),
                        "state" => "states".to_owned(),
                        "groups" => "groups".to_owned(),
                        "roles" => "roles".to_owned(),
                        "period" if plain == "period" => "period".to_owned(),
                        other => other.to_owned(),
                    };
                    f
                })
                .collect(),
        ),
        other => other,
    }
}

#[derive(Template)]
#[template(path = "report_form.html")]
pub struct ReportFormPage<'a> {
    pub chrome: Chrome<'a>,
    pub id: String,
    pub f: ReportForm,
    pub errs: FieldErrors,
    pub sources: Vec<(String, String)>,
    pub groupings: Vec<(String, String)>,
    pub measures: Vec<(String, String)>,
    pub numbers: Vec<(String, String)>,
    pub times: Vec<(String, String)>,
    pub periods: Vec<(String, String)>,
    pub displays: Vec<(String, String)>,
    pub audiences: Vec<(String, String)>,
    pub queues: Vec<(String, String)>,
    pub my_groups: Vec<(String, String)>,
    pub roles: Vec<(String, String)>,
}

async fn show_form(v: &Visit, id: &str, f: ReportForm, refused: Option<AppError>) -> PageResult {
    let mine = saved::my_groups(&v.state.core, &v.ctx)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), name))
        .collect();
    let mut chrome = v.chrome(
        SECTION,
        if id.is_empty() {
            "report-new-title"
        } else {
            "report-edit-title"
        },
    );
    let known = [
        "name",
        "description",
        "source",
        "group_1",
        "measure",
        "of",
        "time",
        "period",
        "from",
        "to",
        "time_zone",
        "states",
        "priority",
        "category",
        "queue",
        "display",
        "target",
        "audience",
        "groups",
        "roles",
    ];
    let (status, errs) = FieldErrors::split(&mut chrome, refused.map(form_errors), &known);
    let t = chrome.t;
    let words = report_words(t);
    use sigap_core::reports::table::Words;
    let page = ReportFormPage {
        id: id.to_owned(),
        f,
        errs,
        sources: choices(t, "report-source", SOURCES.iter().map(|s| s.code())),
        groupings: GroupBy::ALL
            .iter()
            .map(|g| (g.code().to_owned(), words.group(*g)))
            .collect(),
        measures: choices(
            t,
            "report-aggregate",
            Aggregate::ALL.iter().map(|m| m.code()),
        ),
        numbers: choices(t, "report-of", TaskNumber::ALL.iter().map(|n| n.code())),
        times: choices(t, "report-time", TaskTime::ALL.iter().map(|n| n.code())),
        periods: choices(t, "report-period", Window::ALL.iter().map(|w| w.code())),
        displays: choices(t, "report-display", Display::ALL.iter().map(|d| d.code())),
        audiences: choices(t, "report-audience", Audience::ALL.iter().map(|a| a.code())),
        queues: choices(t, "report-queue", Queue::ALL.iter().map(|q| q.code())),
        my_groups: mine,
        roles: choices(t, "role", Role::ALL.iter().map(|r| r.code())),
        chrome,
    };
    Ok(render(status, &page))
}

/// A new report's form.
pub async fn report_new(v: Visit) -> PageResult {
    let f = ReportForm {
        source: "incident".into(),
        measure: "count".into(),
        time: String::new(),
        period: "last_30_days".into(),
        display: "table".into(),
        audience: "private".into(),
        ..ReportForm::default()
    };
    show_form(&v, "", f, None).await
}

/// A report's form, to change it.
pub async fn report_edit(v: Visit, Path(id): Path<String>) -> PageResult {
    let r = saved::get(&v.state.core, &v.ctx, &id).await?;
    show_form(&v, &id, form_of(&r), None).await
}

pub async fn report_create(v: Visit, form: FormData) -> PageResult {
    let f = form_from(&form);
    match saved::create(&v.state.core, &v.ctx, &body_of(&f)).await {
        Ok(r) => Ok(see_other(&format!("/reports/{}", r.id), Some("saved"))),
        Err(e) => show_form(&v, "", f, Some(e)).await,
    }
}

pub async fn report_update(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let f = form_from(&form);
    let version = form.version();
    match saved::update(&v.state.core, &v.ctx, &id, &body_of(&f), version).await {
        Ok(r) => Ok(see_other(&format!("/reports/{}", r.id), Some("saved"))),
        Err(e) => show_form(&v, &id, f, Some(e)).await,
    }
}

pub async fn report_delete(v: Visit, Path(id): Path<String>) -> PageResult {
    saved::delete(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other(LIST, Some("deleted")))
}

/// A pivot of a table of two groupings: the first's keys down, the second's across.
pub struct Pivot {
    pub columns: Vec<String>,
    /// A row's key and its cells (the value's text and the link to its tasks).
    pub rows: Vec<(String, Vec<(String, String)>)>,
}

fn pivot(t: &Table, href: &dyn Fn(&[Option<String>]) -> Option<String>) -> Option<Pivot> {
    if t.rows.first().is_none_or(|r| r.keys.len() != 2) {
        return None;
    }
    let mut cols: Vec<(String, Option<String>)> = Vec::new();
    let mut rows: Vec<(String, Option<String>)> = Vec::new();
    for r in &t.rows {
        let c = (r.keys[1].clone(), r.raw.get(1).cloned().flatten());
        if !cols.iter().any(|x| x.1 == c.1) {
            cols.push(c);
        }
        let w = (r.keys[0].clone(), r.raw.first().cloned().flatten());
        if !rows.iter().any(|x| x.1 == w.1) {
            rows.push(w);
        }
    }
    let value = |r: &table::TableRow| match (t.measured, r.value) {
        (true, Some(v)) => chart::number(v),
        (true, None) => "—".to_owned(),
        (false, _) => r.count.to_string(),
    };
    Some(Pivot {
        columns: cols.iter().map(|c| c.0.clone()).collect(),
        rows: rows
            .iter()
            .map(|(word, key)| {
                let cells = cols
                    .iter()
                    .map(|(_, c)| {
                        t.rows
                            .iter()
                            .find(|r| {
                                r.raw.first().cloned().flatten() == *key
                                    && r.raw.get(1).cloned().flatten() == *c
                            })
                            .map_or((String::new(), String::new()), |r| {
                                (value(r), href(&r.raw).unwrap_or_default())
                            })
                    })
                    .collect();
                (word.clone(), cells)
            })
            .collect(),
    })
}

/// A table's row as the page shows it.
pub struct RowView {
    pub keys: Vec<String>,
    pub count: i64,
    pub value: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "report.html")]
pub struct ReportPage<'a> {
    pub chrome: Chrome<'a>,
    pub id: String,
    pub description: String,
    pub period: String,
    pub chart: String,
    pub headers: Vec<String>,
    pub measured: bool,
    pub rows: Vec<RowView>,
    pub pivot: Option<Pivot>,
    /// A list's tasks.
    pub tasks: Vec<BehindView>,
    pub is_list: bool,
    pub editable: bool,
    /// The reader's dashboards they may change: where the report can be added.
    pub my_dashboards: Vec<(String, String)>,
    /// Its scheduled deliveries, in words, and whether each may be removed.
    pub schedules: Vec<(String, String, bool)>,
    pub everies: Vec<(String, String)>,
    pub weekdays: Vec<(String, String)>,
    pub can_schedule: bool,
    pub time_zone: String,
    pub formats: Vec<(&'static str, String)>,
}

/// The link to the tasks behind a line, where its keys can be given in `?keys=` (a key
/// holding a comma cannot; none of ours does: ids, codes, numbers and buckets).
pub(crate) fn drill_href(id: &str, keys: &[Option<String>]) -> Option<String> {
    keys.iter()
        .flatten()
        .all(|k| !k.contains(','))
        .then(|| behind_href(id, keys))
}

/// A report's chart as the pages draw it, `width` wide: each mark links to the tasks behind
/// it; a score with its value the period before.
pub(crate) fn figure_of(
    t: crate::i18n::Tr<'_>,
    d: &saved::ReportData,
    table: &Table,
    width: f64,
) -> Option<chart::Figure> {
    let words = report_words(t);
    let rid = d.report.id.to_string();
    let href = |k: &[Option<String>]| drill_href(&rid, k);
    let previous = d.previous.as_ref().map(|(_, _, lines)| {
        let p = table::lines_table("", &d.report.definition, lines, &words);
        let value = p.rows.first().map(|r| match p.measured {
            true => r.value.unwrap_or(0.0),
            false => r.count as f64,
        });
        (value, t.get("report-previous"))
    });
    chart::figure(&ChartInput {
        table,
        display: d.report.definition.display,
        href: &href,
        target: d.report.definition.target,
        previous,
        width,
    })
}

/// The link to the tasks behind a line.
fn behind_href(id: &str, keys: &[Option<String>]) -> String {
    let joined: Vec<String> = keys.iter().map(|k| k.clone().unwrap_or_default()).collect();
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("keys", &joined.join(","));
    format!("/reports/{id}/records?{}", q.finish())
}

/// A report: its chart (links into the tasks behind each mark), its table, its files.
pub async fn report_page(
    v: Visit,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let d = saved::data(&v.state.core, &v.ctx, &id).await?;
    let my_dashboards: Vec<(String, String)> =
        sigap_core::reports::dashboards::list(&v.state.core, &v.ctx)
            .await?
            .into_iter()
            .filter(|x| x.editable && x.owner.is_some())
            .map(|x| (x.id.to_string(), x.name))
            .collect();
    let schedules = sigap_core::reports::schedules::of_report(&v.state.core, &v.ctx, &id).await?;
    let mut chrome = v.chrome(SECTION, "reports-title");
    chrome.title = super::dashboards::shown_name(chrome.t, &id, &d.report.name);
    notice(&mut chrome, &q);
    let t = chrome.t;
    let words = report_words(t);
    let table = table::table(&d.report.name, &d, &words);
    let rid = d.report.id.to_string();
    let href = |k: &[Option<String>]| drill_href(&rid, k);
    let figure = figure_of(t, &d, &table, chart::PAGE_WIDTH);
    let pivot = match d.report.definition.display {
        Display::Pivot | Display::HeatMap | Display::StackedBar => pivot(&table, &href),
        _ => None,
    };
    let period = format!(
        "{} – {} ({})",
        when(d.from, &v.viewer),
        when(d.to, &v.viewer),
        d.time_zone
    );
    let rows = table
        .rows
        .iter()
        .map(|r| RowView {
            keys: r.keys.clone(),
            count: r.count,
            value: r.value.map(chart::number).unwrap_or_else(|| "—".into()),
            href: href(&r.raw).unwrap_or_default(),
        })
        .collect();
    let page = ReportPage {
        id: rid.clone(),
        description: d.report.description.clone(),
        period,
        chart: figure.map(|f| f.svg()).unwrap_or_default(),
        headers: table.headers.clone(),
        measured: table.measured,
        rows,
        pivot,
        tasks: behind_views(t, d.report.definition.source, d.tasks.clone(), &v.viewer),
        is_list: d.report.definition.display == Display::List,
        editable: d.report.editable,
        my_dashboards,
        formats: [
            FileFormat::Csv,
            FileFormat::Xlsx,
            FileFormat::Pdf,
            FileFormat::Json,
        ]
        .into_iter()
        .map(|f| (f.code(), t.get(&format!("report-export-{}", f.code()))))
        .collect(),
        schedules: schedules
            .iter()
            .map(|x| {
                (
                    x.id.to_string(),
                    schedule_words(t, x, &v.viewer),
                    x.editable,
                )
            })
            .collect(),
        everies: choices(t, "schedule-every", Every::ALL.iter().map(|e| e.code())),
        weekdays: (1..=7)
            .map(|n| (n.to_string(), t.get(&format!("schedule-weekday-{n}"))))
            .collect(),
        can_schedule: v.ctx.principal.has(Role::Agent),
        time_zone: v.ctx.principal.time_zone.clone(),
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A schedule in a line: when, how, to whom, and when next.
fn schedule_words(
    t: crate::i18n::Tr<'_>,
    x: &sigap_core::reports::schedules::ScheduleView,
    viewer: &Viewer,
) -> String {
    let c = &x.cadence;
    let when_words = match c.every {
        Every::Weekly => format!(
            "{} ({})",
            t.get("schedule-every-weekly"),
            t.get(&format!("schedule-weekday-{}", c.weekday.unwrap_or(1)))
        ),
        Every::Monthly => format!(
            "{} ({})",
            t.get("schedule-every-monthly"),
            c.day.unwrap_or(1)
        ),
        other => t.get(&format!("schedule-every-{}", other.code())),
    };
    let mut to: Vec<String> = x.addresses.clone();
    if !x.people.is_empty() {
        to.push(t.num("schedule-people", "count", x.people.len() as i64));
    }
    if !x.groups.is_empty() {
        to.push(t.num("schedule-groups", "count", x.groups.len() as i64));
    }
    format!(
        "{when_words} {:02}:00 {} · {} · {} · {}: {}",
        c.hour,
        c.time_zone,
        x.format.to_uppercase(),
        to.join(", "),
        t.get("schedule-next"),
        when(x.next_run_at, viewer)
    )
}

/// Schedules a report's delivery from its page.
pub async fn schedule_create(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let addresses: Vec<String> = form
        .text("addresses")
        .split([',', ';', ' ', '\n'])
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    let number = |k: &str| form.get(k).and_then(|v| v.trim().parse::<i64>().ok());
    let mut body = serde_json::json!({
        "every": form.text("every"),
        "hour": number("hour"),
        "time_zone": form.text("time_zone"),
        "format": form.text("format"),
        "addresses": addresses,
        "skip_empty": form.get("skip_empty").is_some(),
    });
    if let Some(m) = body.as_object_mut() {
        if let Some(w) = number("weekday") {
            m.insert("weekday".into(), w.into());
        }
        if let Some(d) = number("day") {
            m.insert("day".into(), d.into());
        }
        m.retain(|_, v| !v.is_null() && v.as_str() != Some(""));
    }
    sigap_core::reports::schedules::create(&v.state.core, &v.ctx, &id, &body).await?;
    Ok(see_other(&format!("/reports/{id}"), Some("saved")))
}

/// Removes a scheduled delivery.
pub async fn schedule_delete(v: Visit, Path((id, schedule)): Path<(String, String)>) -> PageResult {
    sigap_core::reports::schedules::delete(&v.state.core, &v.ctx, &schedule).await?;
    Ok(see_other(&format!("/reports/{id}"), Some("deleted")))
}

/// A task behind a line as the page lists it.
pub struct BehindView {
    pub number: String,
    pub path: String,
    pub short_description: String,
    pub state: String,
    /// Empty where there is none (an alert's, a CI's).
    pub priority: String,
    pub group: String,
    pub opened: String,
}

/// Tasks as a list shows them, their states in the reader's words.
pub(crate) fn behind_views(
    t: crate::i18n::Tr<'_>,
    source: sigap_domain::report::Source,
    tasks: Vec<sigap_core::reports::Behind>,
    viewer: &Viewer,
) -> Vec<BehindView> {
    tasks
        .into_iter()
        .map(|b| BehindView {
            state: t.get(&table::state_id(source, &b.state)),
            number: b.number,
            path: b.path,
            short_description: b.short_description,
            priority: b.priority.map(|p| p.to_string()).unwrap_or_default(),
            group: b.assignment_group.unwrap_or_default(),
            opened: when(b.opened_at, viewer),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "report_records.html")]
pub struct RecordsPage<'a> {
    pub chrome: Chrome<'a>,
    pub id: String,
    pub report: String,
    pub line: String,
    pub tasks: Vec<BehindView>,
    pub max: i64,
}

/// The tasks behind one bar, slice or cell of a report.
pub async fn report_records(
    v: Visit,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let keys = parse_keys(q.get("keys").map(String::as_str));
    let (report, tasks) = saved::records(&v.state.core, &v.ctx, &id, keys.clone()).await?;
    let mut chrome = v.chrome(SECTION, "report-records-title");
    let t = chrome.t;
    let words = report_words(t);
    use sigap_core::reports::table::Words;
    let d = &report.definition;
    let line = d
        .group_by
        .iter()
        .zip(&keys)
        .map(|(g, k)| {
            format!(
                "{}: {}",
                words.group(*g),
                words.key(d.source, *g, k.as_deref(), None)
            )
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let tasks = behind_views(t, d.source, tasks, &v.viewer);
    chrome.title = format!("{} — {}", report.name, t.get("report-records-title"));
    let page = RecordsPage {
        id: report.id.to_string(),
        report: report.name,
        line,
        tasks,
        max: sigap_core::reports::MAX_BEHIND,
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A report's file (`?format=csv|xlsx|json`).
pub async fn report_export(
    v: Visit,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, Response> {
    let format = match q.get("format").map(String::as_str) {
        Some("xlsx") => FileFormat::Xlsx,
        Some("json") => FileFormat::Json,
        Some("pdf") => FileFormat::Pdf,
        _ => FileFormat::Csv,
    };
    report_file(&v.state, &v.ctx, &id, format)
        .await
        .map_err(IntoResponse::into_response)
}
