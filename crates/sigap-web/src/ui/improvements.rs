//! The improvement register on pages: the list of initiatives, an initiative with its KPI's
//! line since it started (drawn as the report charts are) and its review notes, and the
//! form to record or change one.

use super::changes::FieldErrors;
use super::dashboards::shown_name;
use super::task::choices;
use super::views::{notice, when};
use super::*;
use axum::extract::{Path, Query};
use serde_json::{Value, json};
use sigap_core::reports::chart::{self, ChartInput};
use sigap_core::reports::improvements::{self, Improvement, KpiLine};
use sigap_core::reports::saved;
use sigap_core::reports::table::{Table, TableRow};
use sigap_domain::Role;
use sigap_domain::report::{Display, ImprovementStatus};
use std::collections::HashMap;

const SECTION: &str = "reports";

/// An initiative in the list.
pub struct ImprovementLine {
    pub id: String,
    pub title: String,
    pub status: String,
    pub kpi: String,
    pub baseline: String,
    pub target: String,
    pub owner: String,
    pub started_on: String,
}

#[derive(Template)]
#[template(path = "improvements.html")]
pub struct ImprovementsPage<'a> {
    pub chrome: Chrome<'a>,
    pub items: Vec<ImprovementLine>,
    pub statuses: Vec<(String, String)>,
    pub status: String,
    pub can_record: bool,
}

fn kpi_name(t: crate::i18n::Tr<'_>, i: &Improvement) -> String {
    i.report
        .as_ref()
        .map(|(id, name)| shown_name(t, &id.to_string(), name))
        .unwrap_or_else(|| "—".into())
}

pub async fn improvements_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let status = q
        .get("status")
        .and_then(|s| ImprovementStatus::parse(s).ok());
    let list = improvements::list(&v.state.core, &v.ctx, status).await?;
    let mut chrome = v.chrome(SECTION, "improvements-title");
    notice(&mut chrome, &q);
    let t = chrome.t;
    let page = ImprovementsPage {
        items: list
            .iter()
            .map(|i| ImprovementLine {
                id: i.id.to_string(),
                title: i.title.clone(),
                status: t.get(&format!("improvement-status-{}", i.status.code())),
                kpi: kpi_name(t, i),
                baseline: chart::number(i.baseline),
                target: chart::number(i.target),
                owner: i.owner.as_ref().map_or_else(|| "—".into(), |o| o.1.clone()),
                started_on: i.started_on.to_string(),
            })
            .collect(),
        statuses: choices(
            t,
            "improvement-status",
            ImprovementStatus::ALL.iter().map(|s| s.code()),
        ),
        status: status.map(|s| s.code().to_owned()).unwrap_or_default(),
        can_record: v.ctx.principal.has(Role::Manager),
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A review note as a page shows it.
pub struct ReviewView {
    pub author: String,
    pub when: String,
    pub note: String,
    pub status: String,
    pub measured: String,
}

#[derive(Template)]
#[template(path = "improvement.html")]
pub struct ImprovementPage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub id: String,
    pub title: String,
    pub description: String,
    pub status: String,
    pub status_code: String,
    pub owner: String,
    pub kpi: String,
    pub kpi_href: String,
    pub baseline: String,
    pub target: String,
    pub latest: String,
    pub started_on: String,
    pub due_on: String,
    pub chart: String,
    /// The line's buckets and values, for the table beside the chart.
    pub points: Vec<(String, String)>,
    /// Why there is no line: no KPI, or none the reader may open.
    pub no_line: String,
    pub reviews: Vec<ReviewView>,
    pub statuses: Vec<(String, String)>,
    pub note: String,
    pub editable: bool,
    pub deletable: bool,
}

/// The KPI's line as a chart with the target drawn across it.
fn line_chart(t: crate::i18n::Tr<'_>, title: &str, line: &KpiLine, target: f64) -> Option<String> {
    let table = Table {
        title: title.to_owned(),
        headers: vec![
            t.get(&format!("improvement-bucket-{}", line.bucket.code())),
            t.get("improvement-kpi-value"),
        ],
        measured: true,
        // Periods without a value (no task had the number) are left out of the line.
        rows: line
            .points
            .iter()
            .filter(|(_, value)| value.is_some())
            .map(|(label, value)| TableRow {
                keys: vec![label.clone()],
                raw: vec![Some(label.clone())],
                count: 0,
                value: *value,
            })
            .collect(),
    };
    let none = |_: &[Option<String>]| None;
    chart::figure(&ChartInput {
        table: &table,
        display: Display::Line,
        href: &none,
        target: Some(target),
        previous: None,
        width: chart::PAGE_WIDTH,
    })
    .map(|f| f.svg())
}

async fn show(
    v: &Visit,
    id: &str,
    note: String,
    refused: Option<AppError>,
    q: &HashMap<String, String>,
) -> PageResult {
    let p = improvements::progress(&v.state.core, &v.ctx, id).await?;
    let i = &p.improvement;
    let mut chrome = v.chrome(SECTION, "improvements-title");
    chrome.title = i.title.clone();
    notice(&mut chrome, q);
    let (status, errs) = FieldErrors::split(&mut chrome, refused, &["note", "status"]);
    let t = chrome.t;
    let figure = p
        .line
        .as_ref()
        .filter(|l| !l.points.is_empty())
        .and_then(|l| line_chart(t, &i.title, l, i.target));
    let no_line = match (&i.report, &p.line) {
        (None, _) => t.get("improvement-no-kpi"),
        (Some(_), None) => t.get("improvement-kpi-hidden"),
        (Some(_), Some(l)) if l.points.is_empty() => t.get("improvement-no-points"),
        _ => String::new(),
    };
    let page = ImprovementPage {
        id: i.id.to_string(),
        title: i.title.clone(),
        description: i.description.clone(),
        status: t.get(&format!("improvement-status-{}", i.status.code())),
        status_code: i.status.code().to_owned(),
        owner: i.owner.as_ref().map_or_else(|| "—".into(), |o| o.1.clone()),
        kpi: kpi_name(t, i),
        kpi_href: i
            .report
            .as_ref()
            .map(|(r, _)| format!("/reports/{r}"))
            .unwrap_or_default(),
        baseline: chart::number(i.baseline),
        target: chart::number(i.target),
        latest: p
            .line
            .as_ref()
            .and_then(|l| l.latest())
            .map_or_else(|| "—".into(), chart::number),
        started_on: i.started_on.to_string(),
        due_on: i
            .due_on
            .map(|d| d.to_string())
            .unwrap_or_else(|| "—".into()),
        chart: figure.unwrap_or_default(),
        points: p
            .line
            .as_ref()
            .map(|l| {
                l.points
                    .iter()
                    .map(|(k, v)| (k.clone(), v.map_or_else(|| "—".into(), chart::number)))
                    .collect()
            })
            .unwrap_or_default(),
        no_line,
        reviews: p
            .reviews
            .iter()
            .map(|r| ReviewView {
                author: r.author.clone(),
                when: when(r.created_at, &v.viewer),
                note: r.note.clone(),
                status: t.get(&format!("improvement-status-{}", r.status)),
                measured: r.measured.map_or_else(|| "—".into(), chart::number),
            })
            .collect(),
        statuses: choices(
            t,
            "improvement-status",
            ImprovementStatus::ALL.iter().map(|s| s.code()),
        ),
        note,
        editable: i.editable,
        deletable: v.ctx.principal.has(Role::Manager),
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn improvement_page(
    v: Visit,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    show(&v, &id, String::new(), None, &q).await
}

pub async fn improvement_review(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let mut body = serde_json::Map::new();
    body.insert("note".into(), json!(form.text("note")));
    if let Some(s) = form.opt("status") {
        body.insert("status".into(), json!(s));
    }
    match improvements::review(&v.state.core, &v.ctx, &id, &Value::Object(body)).await {
        Ok(p) => Ok(see_other(
            &format!("/improvements/{}", p.improvement.id),
            Some("saved"),
        )),
        Err(e) => show(&v, &id, form.text("note"), Some(e), &HashMap::new()).await,
    }
}

/// What the form holds.
pub struct Sent {
    pub title: String,
    pub description: String,
    pub owner: String,
    pub report: String,
    pub baseline: String,
    pub target: String,
    pub status: String,
    pub started_on: String,
    pub due_on: String,
    pub version: String,
}

fn sent_of(form: &FormData) -> Sent {
    Sent {
        title: form.text("title"),
        description: form.text("description"),
        owner: form.text("owner"),
        report: form.text("report"),
        baseline: form.text("baseline"),
        target: form.text("target"),
        status: form.text("status"),
        started_on: form.text("started_on"),
        due_on: form.text("due_on"),
        version: form.text("version"),
    }
}

/// The form as a body: numbers as numbers where they read as one (else as given, for the
/// core to refuse with the field named).
fn body_of(s: &Sent) -> Value {
    let number = |x: &str| match x.trim().replace(',', ".").parse::<f64>() {
        Ok(n) if n.is_finite() => json!(n),
        _ if x.trim().is_empty() => Value::Null,
        _ => json!(x),
    };
    let mut o = serde_json::Map::new();
    o.insert("title".into(), json!(s.title));
    o.insert("description".into(), json!(s.description));
    o.insert("owner".into(), json!(s.owner));
    o.insert("report".into(), json!(s.report));
    for (k, x) in [("baseline", &s.baseline), ("target", &s.target)] {
        let n = number(x);
        if !n.is_null() {
            o.insert(k.into(), n);
        }
    }
    o.insert("status".into(), json!(s.status));
    if !s.started_on.trim().is_empty() {
        o.insert("started_on".into(), json!(s.started_on));
    }
    o.insert("due_on".into(), json!(s.due_on));
    Value::Object(o)
}

#[derive(Template)]
#[template(path = "improvement_form.html")]
pub struct ImprovementFormPage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub id: String,
    pub s: Sent,
    pub reports: Vec<(String, String)>,
    pub statuses: Vec<(String, String)>,
}

async fn show_form(v: &Visit, id: &str, s: Sent, refused: Option<AppError>) -> PageResult {
    let reports = saved::list(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome(
        SECTION,
        if id.is_empty() {
            "improvement-new-title"
        } else {
            "improvement-edit-title"
        },
    );
    let known = [
        "title",
        "description",
        "owner",
        "report",
        "baseline",
        "target",
        "status",
        "started_on",
        "due_on",
    ];
    let (status, errs) = FieldErrors::split(&mut chrome, refused, &known);
    let t = chrome.t;
    let page = ImprovementFormPage {
        id: id.to_owned(),
        reports: reports
            .iter()
            .map(|r| (r.id.to_string(), shown_name(t, &r.id.to_string(), &r.name)))
            .collect(),
        statuses: choices(
            t,
            "improvement-status",
            ImprovementStatus::ALL.iter().map(|s| s.code()),
        ),
        s,
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn improvement_new(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let s = Sent {
        title: String::new(),
        description: String::new(),
        owner: String::new(),
        report: q.get("report").cloned().unwrap_or_default(),
        baseline: String::new(),
        target: String::new(),
        status: "proposed".into(),
        started_on: String::new(),
        due_on: String::new(),
        version: String::new(),
    };
    show_form(&v, "", s, None).await
}

pub async fn improvement_edit(v: Visit, Path(id): Path<String>) -> PageResult {
    let i = improvements::get(&v.state.core, &v.ctx, &id).await?;
    let owner_login = match &i.owner {
        Some((pid, _)) => pid.to_string(),
        None => String::new(),
    };
    let s = Sent {
        title: i.title.clone(),
        description: i.description.clone(),
        owner: owner_login,
        report: i
            .report
            .as_ref()
            .map(|r| r.0.to_string())
            .unwrap_or_default(),
        baseline: chart::number(i.baseline),
        target: chart::number(i.target),
        status: i.status.code().to_owned(),
        started_on: i.started_on.to_string(),
        due_on: i.due_on.map(|d| d.to_string()).unwrap_or_default(),
        version: i.version.to_string(),
    };
    show_form(&v, &id, s, None).await
}

pub async fn improvement_create(v: Visit, form: FormData) -> PageResult {
    let s = sent_of(&form);
    match improvements::create(&v.state.core, &v.ctx, &body_of(&s)).await {
        Ok(i) => Ok(see_other(&format!("/improvements/{}", i.id), Some("saved"))),
        Err(e) => show_form(&v, "", s, Some(e)).await,
    }
}

pub async fn improvement_update(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let s = sent_of(&form);
    match improvements::update(&v.state.core, &v.ctx, &id, &body_of(&s), form.version()).await {
        Ok(i) => Ok(see_other(&format!("/improvements/{}", i.id), Some("saved"))),
        Err(e) => show_form(&v, &id, s, Some(e)).await,
    }
}

pub async fn improvement_delete(v: Visit, Path(id): Path<String>) -> PageResult {
    improvements::delete(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other("/improvements", Some("deleted")))
}
