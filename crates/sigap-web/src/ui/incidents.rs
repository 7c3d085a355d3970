//! Pages of incident management: the agent workspace (queues, the incident form with its
//! journal and quick actions) and the self-service portal (report, follow, answer).

use super::views::{notice, when};
use super::*;
use crate::AppState;
use axum::extract::{Path, Query, RawQuery, State};
use sigap_core::incidents::{self, Action};
use sigap_core::listing::ListParams;
use sigap_core::model::Incident;
use sigap_domain::process::incident::{HoldReason, IncidentState};
use sigap_domain::task::JournalKind;
use sigap_domain::task::MatrixPreset;
use sigap_domain::task::StateModel;
use std::collections::HashMap;

pub struct IncidentRow {
    pub number: String,
    pub short_description: String,
    pub caller: String,
    pub priority: i64,
    pub priority_label: String,
    pub state: String,
    pub state_code: String,
    pub group: String,
    pub assignee: String,
    pub updated: String,
}

/// A priority's name under the matrix's naming (ITIL five, or high / medium / low).
pub fn priority_label(tt: Tr<'_>, labels: MatrixPreset, p: i64) -> String {
    match labels {
        MatrixPreset::ThreeLevel if (1..=3).contains(&p) => tt.get(&format!("priority-three-{p}")),
        _ => tt.get(&format!("priority-{p}")),
    }
}

/// The names of the active support groups, for the pages' group choices.
pub(crate) async fn active_group_names(state: &AppState, ctx: &Ctx) -> Vec<String> {
    sigap_core::groups::list(
        &state.core,
        ctx,
        sigap_core::groups::GroupQuery {
            active: Some("true".into()),
            ..Default::default()
        },
        &ListParams {
            limit: Some(sigap_core::listing::MAX_LIMIT),
            ..Default::default()
        },
    )
    .await
    .map(|p| p.items.into_iter().map(|g| g.name).collect())
    .unwrap_or_default()
}

/// How the current matrix names priorities.
pub(crate) async fn labels(state: &AppState) -> MatrixPreset {
    incidents::matrix(&state.core)
        .await
        .map_or(MatrixPreset::Itil, |m| m.labels())
}

fn row(tt: Tr<'_>, viewer: &Viewer, labels: MatrixPreset, i: &Incident) -> IncidentRow {
    IncidentRow {
        number: i.number.clone(),
        short_description: i.short_description.clone(),
        caller: i
            .caller
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        priority: i.priority.get(),
        priority_label: priority_label(tt, labels, i.priority.get()),
        state: tt.get(&format!("incident-state-{}", i.state.code())),
        state_code: i.state.code().into(),
        group: i
            .assignment_group
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_default(),
        assignee: i
            .assigned_to
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        updated: when(i.updated_at, viewer),
    }
}

/// The columns a queue can show, in their order; the first eight are shown unless the
/// viewer chooses.
const COLUMNS: &[&str] = &[
    "number",
    "short_description",
    "caller",
    "priority",
    "state",
    "assignment_group",
    "assigned_to",
    "updated",
    "sla",
    "opened",
    "category",
    "service",
    "configuration_item",
    "location",
    "reopen_count",
];
const DEFAULT_COLUMNS: usize = 9;

/// One cell of a queue: its text, and a link or a priority badge.
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub prio: Option<i64>,
    /// A time-left badge's colour class.
    pub sla: Option<&'static str>,
}

pub struct QueueRow {
    pub number: String,
    pub cells: Vec<Cell>,
}

fn cell(
    col: &str,
    r: &IncidentRow,
    i: &Incident,
    viewer: &Viewer,
    badges: &HashMap<sigap_domain::TaskId, super::sla::Badge>,
) -> Cell {
    let plain = |t: &str| Cell {
        text: t.to_owned(),
        href: None,
        prio: None,
        sla: None,
    };
    match col {
        "number" => Cell {
            text: r.number.clone(),
            href: Some(format!("/incidents/{}", r.number)),
            prio: None,
            sla: None,
        },
        "sla" => match badges.get(&i.id) {
            Some(b) => Cell {
                text: b.text.clone(),
                href: None,
                prio: None,
                sla: Some(b.class),
            },
            None => plain(""),
        },
        "short_description" => plain(&r.short_description),
        "caller" => plain(&r.caller),
        "priority" => Cell {
            text: r.priority_label.clone(),
            href: None,
            prio: Some(r.priority),
            sla: None,
        },
        "state" => plain(&r.state),
        "assignment_group" => plain(&r.group),
        "assigned_to" => plain(&r.assignee),
        "updated" => plain(&r.updated),
        "opened" => plain(&when(i.opened_at, viewer)),
        "category" => plain(i.category.as_deref().unwrap_or("")),
        "service" => plain(i.service.as_ref().map_or("", |s| s.name.as_str())),
        "configuration_item" => plain(i.ci.as_ref().map_or("", |s| s.name.as_str())),
        "location" => plain(i.location.as_ref().map_or("", |l| l.name.as_str())),
        "reopen_count" => plain(&i.reopen_count.to_string()),
        _ => plain(""),
    }
}

/// The columns asked for (`cols`, comma-separated), known ones only, the number first.
fn chosen_columns(q: &HashMap<String, String>) -> Vec<&'static str> {
    let asked: Vec<&str> = q
        .get("cols")
        .map(|c| c.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let mut cols: Vec<&'static str> = COLUMNS
        .iter()
        .copied()
        .filter(|c| *c == "number" || asked.contains(c))
        .collect();
    if cols.len() <= 1 {
        cols = COLUMNS[..DEFAULT_COLUMNS].to_vec();
    }
    cols
}

#[derive(Template)]
#[template(path = "incidents.html")]
pub struct IncidentsPage<'a> {
    pub chrome: Chrome<'a>,
    pub queues: Vec<(String, String, bool)>,
    pub queue: String,
    pub rows: Vec<QueueRow>,
    pub q: String,
    pub next_link: Option<String>,
    /// The current view as a query string (filters, sort, columns), for saving and paging.
    pub view: String,
    pub filter_state: String,
    pub filter_priority: String,
    pub filter_group: String,
    pub filter_assignee: String,
    pub filter_location: String,
    pub filter_major: bool,
    pub sort: String,
    pub states: Vec<(String, String)>,
    pub priorities: Vec<(String, String)>,
    pub groups: Vec<String>,
    pub sorts: Vec<(String, String)>,
    /// Every column: (code, label, shown).
    pub columns: Vec<(String, String, bool)>,
    /// The shown columns: (code, label).
    pub shown: Vec<(String, String)>,
    /// Saved views: (id, name, query string).
    pub saved: Vec<(String, String, String)>,
    /// Filters are open when any is set.
    pub filtering: bool,
}

const QUEUES: &[&str] = &[
    "mine",
    "my_groups",
    "unassigned",
    "on_hold",
    "major",
    "breaching",
    "open",
    "all",
];

const SORTS: &[&str] = &["priority,opened_at", "-opened_at", "-updated_at", "number"];

pub async fn incidents_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = queue_params(raw.as_deref().unwrap_or(""));
    incidents_view(&state, &ctx, &viewer, &q, Vec::new()).await
}

/// A queue's parameters; the column boxes (`col`, repeated) become one `cols`.
fn queue_params(raw: &str) -> HashMap<String, String> {
    let mut q = HashMap::new();
    let mut cols = Vec::new();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()).into_owned() {
        if k == "col" {
            cols.push(v);
        } else {
            q.insert(k, v);
        }
    }
    if !cols.is_empty() {
        cols.insert(0, "number".into());
        q.insert("cols".into(), cols.join(","));
    }
    q
}

fn column_label(tt: Tr<'_>, c: &str) -> String {
    match c {
        "sla" => tt.get("field-time-left"),
        "updated" => tt.get("field-updated"),
        "opened" => tt.get("field-opened"),
        _ => tt.get(&format!("field-{}", c.replace('_', "-"))),
    }
}

/// The query string of a view from its parameters, in the saved-filter form.
fn view_query(q: &HashMap<String, String>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in q {
        s.append_pair(k, v);
    }
    sigap_core::filters::canonical_query("incidents", &s.finish()).unwrap_or_default()
}

async fn incidents_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    errors: Vec<String>,
) -> Response {
    if !ctx.principal.has(sigap_domain::Role::Agent) {
        return see_other("/portal", None);
    }
    let queue = q
        .get("queue")
        .filter(|v| QUEUES.contains(&v.as_str()))
        .cloned()
        .unwrap_or_else(|| "mine".into());
    let get = |k: &str| q.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let filter_state = get("state");
    let sort = Some(get("sort"))
        .filter(|s| SORTS.contains(&s.as_str()))
        .unwrap_or_else(|| SORTS[0].to_owned());
    let major = get("major") == "true";
    let query = incidents::IncidentQuery {
        queue: (!["open", "all", "breaching"].contains(&queue.as_str())).then(|| queue.clone()),
        state: if filter_state.is_empty() {
            (queue == "open").then(|| "new,in_progress,on_hold".into())
        } else {
            Some(filter_state.clone())
        },
        priority: Some(get("priority")).filter(|p| !p.is_empty()),
        assignment_group: Some(get("group")).filter(|p| !p.is_empty()),
        assigned_to: Some(get("assignee")).filter(|p| !p.is_empty()),
        location: Some(get("location")).filter(|p| !p.is_empty()),
        major: major.then(|| "true".into()),
        q: q.get("q").cloned(),
        ..Default::default()
    };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: Some(sort.clone()),
        limit: Some(50),
    };
    let mut errors = errors;
    // Breaching soon: the incidents whose clocks run out within four hours, soonest first.
    let listed = if queue == "breaching" {
        sigap_core::sla::breaching_soon(&state.core, ctx, jiff::SignedDuration::from_hours(4), 200)
            .await
            .map(|list| {
                let mut items: Vec<Incident> = Vec::new();
                for (_, i) in list {
                    if !items.iter().any(|x| x.id == i.id) {
                        items.push(i);
                    }
                }
                sigap_core::listing::Listed {
                    items,
                    next_cursor: None,
                }
            })
    } else {
        incidents::list(&state.core, ctx, query, &params).await
    };
    let page = match listed {
        Ok(p) => p,
        // A filter that names nothing (a typo in a group) shows an empty list with the reason.
        Err(e @ AppError::Validation(_)) => {
            errors.extend(messages(tr(state, viewer), &e));
            sigap_core::listing::Listed {
                items: Vec::new(),
                next_cursor: None,
            }
        }
        Err(e) => return error_response(state, viewer, e),
    };
    let labels = labels(state).await;
    let saved = sigap_core::filters::mine(&state.core, ctx, "incidents")
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|f| (f.id.to_string(), f.name, f.query))
        .collect();
    let groups = active_group_names(state, ctx).await;
    let mut chrome = Chrome::new(state, viewer, "incidents", "incidents-title");
    notice(&mut chrome, q);
    chrome.errors = errors;
    let tt = chrome.t;
    let qtext = q.get("q").cloned().unwrap_or_default();
    let mut vq = q.clone();
    vq.insert("queue".into(), queue.clone());
    let view = view_query(&vq);
    let next_link = page
        .next_cursor
        .map(|c| format!("/incidents?{view}&cursor={}", encode(&c)));
    let cols = chosen_columns(q);
    let badges = if cols.contains(&"sla") {
        super::sla::badges_for(state, tt, page.items.iter().map(|i| i.id).collect()).await
    } else {
        HashMap::new()
    };
    let rows = page
        .items
        .iter()
        .map(|i| {
            let r = row(tt, viewer, labels, i);
            QueueRow {
                number: i.number.clone(),
                cells: cols
                    .iter()
                    .map(|c| cell(c, &r, i, viewer, &badges))
                    .collect(),
            }
        })
        .collect();
    let filtering = [
        "state", "priority", "group", "assignee", "location", "major",
    ]
    .iter()
    .any(|k| !get(k).is_empty());
    render(
        StatusCode::OK,
        &IncidentsPage {
            queues: QUEUES
                .iter()
                .map(|k| ((*k).to_owned(), tt.get(&format!("queue-{k}")), *k == queue))
                .collect(),
            queue,
            rows,
            q: qtext,
            next_link,
            view,
            filter_priority: get("priority"),
            filter_group: get("group"),
            filter_assignee: get("assignee"),
            filter_location: get("location"),
            filter_major: major,
            filter_state,
            sort,
            states: IncidentState::ALL
                .iter()
                .map(|s| {
                    (
                        s.code().to_owned(),
                        tt.get(&format!("incident-state-{}", s.code())),
                    )
                })
                .collect(),
            priorities: (1..=5)
                .filter(|p| labels == MatrixPreset::Itil || *p <= 3)
                .map(|p| (p.to_string(), priority_label(tt, labels, p)))
                .collect(),
            groups,
            sorts: super::task::sort_options(tt, SORTS),
            columns: COLUMNS
                .iter()
                .map(|c| ((*c).to_owned(), column_label(tt, c), cols.contains(c)))
                .collect(),
            shown: cols
                .iter()
                .map(|c| ((*c).to_owned(), column_label(tt, c)))
                .collect(),
            saved,
            filtering,
            chrome,
        },
    )
}

/// Saves the current view of the queue under a name.
pub async fn filter_save(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> Response {
    let view = form.text("view");
    match sigap_core::filters::save(&state.core, &ctx, "incidents", &form.text("name"), &view).await
    {
        Ok(f) => see_other(&format!("/incidents?{}", f.query), Some("saved")),
        Err(e) => {
            let errors = messages(tr(&state, &viewer), &e);
            let q = queue_params(&view);
            incidents_view(&state, &ctx, &viewer, &q, errors).await
        }
    }
}

/// Deletes one of the viewer's saved views.
pub async fn filter_delete(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
) -> Response {
    match sigap_core::filters::delete(&state.core, &ctx, &id).await {
        Ok(()) => see_other("/incidents", Some("deleted")),
        Err(e) => error_response(&state, &viewer, e),
    }
}

/// The same action on the incidents ticked in a queue; failures are listed by number.
pub async fn incidents_bulk(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> Response {
    let numbers = form.all("incident");
    if form.text("action") == "create_problem" {
        return super::problems::from_selection(&numbers);
    }
    let view = form.text("view");
    let mut failures = Vec::new();
    for n in numbers.iter().take(200) {
        let action = match form.text("action").as_str() {
            "start" => Action::Start,
            _ => Action::AssignToMe,
        };
        if let Err(e) = incidents::act(&state.core, &ctx, n, action, None).await {
            for m in messages(tr(&state, &viewer), &e) {
                failures.push(format!("{n}: {m}"));
            }
        }
    }
    let q = queue_params(&view);
    if failures.is_empty() {
        return see_other(&format!("/incidents?{}", view_query(&q)), Some("saved"));
    }
    incidents_view(&state, &ctx, &viewer, &q, failures).await
}

pub struct JournalLine {
    pub kind: String,
    pub who: String,
    pub when: String,
    pub body: String,
    pub changes: Vec<(String, String, String)>,
}

pub struct IncidentView {
    pub number: String,
    pub short_description: String,
    pub description: String,
    pub state: String,
    pub state_code: String,
    pub impact: i64,
    pub urgency: i64,
    pub priority: i64,
    pub priority_label: String,
    pub override_reason: String,
    pub caller: String,
    pub caller_login: String,
    pub group: String,
    pub assignee: String,
    pub assignee_login: String,
    pub service: String,
    pub ci: String,
    pub location: String,
    pub category: String,
    pub contact_type: String,
    pub hold_reason: String,
    pub workaround: String,
    pub resolution_code: String,
    pub resolution_notes: String,
    pub major: bool,
    pub opened: String,
    pub reopen_count: i64,
    pub reassignment_count: i64,
    pub version: i64,
    pub offering: String,
    pub category_code: String,
    pub subcategory: String,
    pub parent: String,
}

fn view(tt: Tr<'_>, viewer: &Viewer, labels: MatrixPreset, i: &Incident) -> IncidentView {
    IncidentView {
        number: i.number.clone(),
        short_description: i.short_description.clone(),
        description: i.description.clone(),
        state: tt.get(&format!("incident-state-{}", i.state.code())),
        state_code: i.state.code().into(),
        impact: i.impact.get(),
        urgency: i.urgency.get(),
        priority: i.priority.get(),
        priority_label: priority_label(tt, labels, i.priority.get()),
        override_reason: i.ext.priority_override_reason.clone().unwrap_or_default(),
        caller: i
            .caller
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        caller_login: i
            .caller
            .as_ref()
            .map(|c| c.login.clone())
            .unwrap_or_default(),
        group: i
            .assignment_group
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_default(),
        assignee: i
            .assigned_to
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        assignee_login: i
            .assigned_to
            .as_ref()
            .map(|p| p.login.clone())
            .unwrap_or_default(),
        service: i
            .service
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        ci: i.ci.as_ref().map(|s| s.name.clone()).unwrap_or_default(),
        location: i
            .location
            .as_ref()
            .map(|l| l.name.clone())
            .unwrap_or_default(),
        category: i.category.clone().unwrap_or_default(),
        contact_type: tt.get(&format!("contact-{}", i.contact_type.code())),
        hold_reason: i
            .ext
            .hold_reason
            .map(|h| tt.get(&format!("hold-{}", h.code())))
            .unwrap_or_default(),
        workaround: i.ext.workaround.clone(),
        resolution_code: i
            .ext
            .resolution_code
            .as_ref()
            .map(|c| tt.get(&format!("resolution-{c}")))
            .unwrap_or_default(),
        resolution_notes: i.ext.resolution_notes.clone(),
        major: i.ext.major,
        opened: when(i.opened_at, viewer),
        reopen_count: i.reopen_count,
        reassignment_count: i.reassignment_count,
        version: i.version,
        offering: i
            .offering
            .as_ref()
            .map(|o| o.name.clone())
            .unwrap_or_default(),
        category_code: i.category.clone().unwrap_or_default(),
        subcategory: i.subcategory.clone().unwrap_or_default(),
        parent: i
            .parent
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default(),
    }
}

/// A journal as the pages show it, newest first.
pub(crate) fn journal(
    tt: Tr<'_>,
    viewer: &Viewer,
    entries: &[sigap_core::model::JournalEntry],
) -> Vec<JournalLine> {
    entries
        .iter()
        .rev()
        .map(|j| JournalLine {
            kind: j.kind.code().into(),
            who: j.author.clone(),
            when: when(j.created_at, viewer),
            body: j.body.clone(),
            changes: match (&j.kind, &j.changes) {
                (JournalKind::Change, Some(serde_json::Value::Object(m))) => m
                    .iter()
                    .map(|(k, v)| {
                        let show = |x: Option<&serde_json::Value>| match x {
                            None | Some(serde_json::Value::Null) => "—".to_owned(),
                            Some(serde_json::Value::String(s)) => s.clone(),
                            Some(other) => other.to_string(),
                        };
                        (
                            tt.get(&format!("field-{}", k.replace('_', "-"))),
                            show(v.get(0)),
                            show(v.get(1)),
                        )
                    })
                    .collect(),
                _ => Vec::new(),
            },
        })
        .collect()
}

/// Attachments as the pages list them: id, file name, size in KiB.
async fn attachment_rows(
    state: &AppState,
    ctx: &Ctx,
    number: &str,
) -> Vec<(String, String, String)> {
    incidents::attachments(&state.core, ctx, number)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|a| {
            (
                a.id.to_string(),
                a.filename,
                match a.size {
                    n if n < 1024 => format!("{n} B"),
                    n if n < 1024 * 1024 => format!("{:.1} KiB", n as f64 / 1024.0),
                    n => format!("{:.1} MiB", n as f64 / (1024.0 * 1024.0)),
                },
            )
        })
        .collect()
}

#[derive(Template)]
#[template(path = "incident.html")]
pub struct IncidentPage<'a> {
    pub chrome: Chrome<'a>,
    pub i: IncidentView,
    pub attachments: Vec<(String, String, String)>,
    pub can_start: bool,
    pub can_hold: bool,
    pub can_resolve: bool,
    pub can_cancel: bool,
    pub open: bool,
    pub finished: bool,
    pub hold_reasons: Vec<(String, String)>,
    pub resolution_codes: Vec<(String, String)>,
    pub journal: Vec<JournalLine>,
    /// Child incidents: (number, short description, state).
    pub children: Vec<(String, String, String)>,
    pub categories: Vec<(String, String)>,
    /// Subcategories: (code, name, category name).
    pub subcategories: Vec<(String, String, String)>,
    pub clocks: Vec<super::sla::ClockCard>,
    /// Names of active locations, offered while typing.
    pub location_names: Vec<String>,
    /// Its problem and the known errors beside it.
    pub problems: super::problems::IncidentProblems,
}

/// The names of the active locations the viewer may choose (the first 200 by name).
async fn location_names(state: &AppState, ctx: &Ctx) -> Vec<String> {
    sigap_core::locations::list(
        &state.core,
        ctx,
        sigap_core::locations::LocationQuery {
            active: Some("true".into()),
            ..Default::default()
        },
        &ListParams {
            limit: Some(200),
            ..Default::default()
        },
    )
    .await
    .map(|p| p.items.into_iter().map(|l| l.name).collect())
    .unwrap_or_default()
}

async fn incident_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    key: &str,
    q: &HashMap<String, String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    if !ctx.principal.has(sigap_domain::Role::Agent) {
        return see_other(&format!("/portal/incidents/{}", encode(key)), None);
    }
    let d = match incidents::detail(&state.core, ctx, key).await {
        Ok(d) => d,
        Err(e) => return error_response(state, viewer, e),
    };
    let attachments = attachment_rows(state, ctx, &d.incident.number).await;
    let children = incidents::list(
        &state.core,
        ctx,
        incidents::IncidentQuery {
            parent: Some(d.incident.id.to_string()),
            ..Default::default()
        },
        &ListParams {
            sort: Some("number".into()),
            limit: Some(200),
            cursor: None,
        },
    )
    .await
    .map(|p| p.items)
    .unwrap_or_default();
    let all_categories = incidents::categories(&state.core).await.unwrap_or_default();
    let clocks = sigap_core::sla::clocks_of(&state.core, ctx, &d.incident.number)
        .await
        .unwrap_or_default();
    let mut chrome = Chrome::new(state, viewer, "incidents", "incident-title");
    chrome.title = format!("{} {}", d.incident.number, d.incident.short_description);
    notice(&mut chrome, q);
    chrome.errors = errors;
    let tt = chrome.t;
    let page = IncidentPage {
        attachments,
        i: view(tt, viewer, labels(state).await, &d.incident),
        can_start: d.incident.state == IncidentState::New,
        can_hold: d.incident.state.next().contains(&IncidentState::OnHold),
        can_resolve: d.incident.state.next().contains(&IncidentState::Resolved),
        can_cancel: d.incident.state.next().contains(&IncidentState::Canceled),
        open: d.incident.state.is_open(),
        finished: d.incident.state.is_final(),
        hold_reasons: HoldReason::ALL
            .iter()
            .map(|h| (h.code().to_owned(), tt.get(&format!("hold-{}", h.code()))))
            .collect(),
        resolution_codes: incidents::RESOLUTION_CODES
            .iter()
            .map(|c| ((*c).to_owned(), tt.get(&format!("resolution-{c}"))))
            .collect(),
        journal: journal(tt, viewer, &d.journal),
        children: children
            .iter()
            .map(|c| {
                (
                    c.number.clone(),
                    c.short_description.clone(),
                    tt.get(&format!("incident-state-{}", c.state.code())),
                )
            })
            .collect(),
        categories: all_categories
            .iter()
            .filter(|c| {
                c.parent_code.is_none()
                    && (c.active || d.incident.category.as_ref() == Some(&c.code))
            })
            .map(|c| (c.code.clone(), c.name.clone()))
            .collect(),
        subcategories: all_categories
            .iter()
            .filter(|c| c.active || d.incident.subcategory.as_ref() == Some(&c.code))
            .filter_map(|c| {
                let parent = c.parent_code.as_ref()?;
                let pname = all_categories
                    .iter()
                    .find(|x| &x.code == parent)
                    .map_or(parent.clone(), |x| x.name.clone());
                Some((c.code.clone(), c.name.clone(), pname))
            })
            .collect(),
        clocks: super::sla::cards(tt, viewer, clocks),
        location_names: location_names(state, ctx).await,
        problems: super::problems::of_incident(state, ctx, &d.incident).await,
        chrome,
    };
    render(status, &page)
}

pub async fn incident_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    incident_view(&state, &ctx, &viewer, &key, &q, Vec::new(), StatusCode::OK).await
}

pub(crate) fn level(form: &FormData, name: &str) -> Option<i64> {
    form.get(name).and_then(|v| v.trim().parse().ok())
}

pub async fn incident_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> Response {
    let staff = ctx.principal.has(sigap_domain::Role::Agent);
    let input = incidents::IncidentInput {
        task: sigap_core::task::TaskInput {
            caller: form.opt("caller").map(Some),
            contact_type: form.opt("contact_type"),
            location: form.opt("location").map(Some),
            ..super::task::new_input(&form)
        },
        ..Default::default()
    };
    match incidents::create(&state.core, &ctx, input).await {
        Ok(i) => {
            let to = if staff {
                format!("/incidents/{}", i.number)
            } else {
                format!("/portal/incidents/{}", i.number)
            };
            see_other(&to, Some("created"))
        }
        Err(e) => {
            let errors = messages(tr(&state, &viewer), &e);
            if staff {
                let mut chrome = Chrome::new(&state, &viewer, "incidents", "incidents-new");
                chrome.errors = errors;
                new_page(
                    &state,
                    &ctx,
                    chrome,
                    Draft::from_form(&form),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            } else {
                portal_view(
                    &state,
                    &ctx,
                    &viewer,
                    &HashMap::new(),
                    errors,
                    Draft::from_form(&form),
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    }
}

#[derive(Template)]
#[template(path = "incident_new.html")]
pub struct NewIncidentPage<'a> {
    pub chrome: Chrome<'a>,
    pub draft: Draft,
    pub categories: Vec<(String, String)>,
    pub contact_types: Vec<(String, String)>,
    pub location_names: Vec<String>,
}

pub(crate) async fn categories(state: &AppState) -> Vec<(String, String)> {
    sigap_core::incidents::categories(&state.core)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.active && c.parent_code.is_none())
        .map(|c| (c.code, c.name))
        .collect()
}

async fn new_page(
    state: &AppState,
    ctx: &Ctx,
    chrome: Chrome<'_>,
    draft: Draft,
    status: StatusCode,
) -> Response {
    let tt = chrome.t;
    let page = NewIncidentPage {
        categories: categories(state).await,
        contact_types: sigap_domain::task::ContactType::ALL
            .iter()
            .map(|c| {
                (
                    c.code().to_owned(),
                    tt.get(&format!("contact-{}", c.code())),
                )
            })
            .collect(),
        location_names: location_names(state, ctx).await,
        draft,
        chrome,
    };
    render(status, &page)
}

pub async fn incident_new(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
) -> Response {
    if !ctx.principal.has(sigap_domain::Role::Agent) {
        return see_other("/portal", None);
    }
    let chrome = Chrome::new(&state, &viewer, "incidents", "incidents-new");
    new_page(&state, &ctx, chrome, Draft::default(), StatusCode::OK).await
}

pub async fn incident_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    let input = incidents::IncidentInput {
        task: sigap_core::task::TaskInput {
            location: changed(&form, "location"),
            // A new category drops a subcategory of the old one.
            subcategory: changed(&form, "subcategory")
                .or_else(|| changed(&form, "category").is_some().then_some(None)),
            ..super::task::edit_input(&form)
        },
        workaround: form.get("workaround"),
        major: form.get("major_sent").map(|_| form.get("major").is_some()),
        parent: changed(&form, "parent"),
        ..Default::default()
    };
    let result = incidents::update(&state.core, &ctx, &key, input, form.version()).await;
    after(&state, &ctx, &viewer, &key, result, "saved").await
}

/// A reference field of the edit form, sent on only when it differs from what the form was
/// shown with (`{name}_was`): empty clears it.
pub(crate) fn changed(form: &FormData, name: &str) -> Option<Option<String>> {
    let now = form.get(name)?;
    let was = form.get(&format!("{name}_was")).unwrap_or_default();
    if now.trim() == was.trim() {
        return None;
    }
    Some(Some(now.trim().to_owned()).filter(|v| !v.is_empty()))
}

/// An action from a form: `action` names it, the other fields carry its details.
pub async fn incident_act(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    let text = |n: &str| form.text(n);
    let action = match form.text("action").as_str() {
        "start" => Action::Start,
        "assign_to_me" => Action::AssignToMe,
        "hold" => Action::Hold {
            reason: text("hold_reason"),
            comment: form.opt("comment"),
        },
        "resume" => Action::Resume,
        "resolve" => Action::Resolve {
            code: text("resolution_code"),
            notes: text("resolution_notes"),
        },
        "accept" => Action::Accept,
        "reject" => Action::Reject {
            comment: text("comment"),
        },
        "cancel" => Action::Cancel {
            reason: text("reason"),
        },
        "work_note" => Action::WorkNote { body: text("body") },
        "escalate" => Action::Escalate {
            group: text("group"),
            reason: text("reason"),
        },
        "escalate_to_manager" => Action::EscalateToManager {
            reason: text("reason"),
        },
        _ => Action::Comment { body: text("body") },
    };
    let name = action.name();
    let result = incidents::act(&state.core, &ctx, &key, action, None).await;
    after(
        &state,
        &ctx,
        &viewer,
        &key,
        result,
        if name == "comment" || name == "work_note" {
            "saved"
        } else {
            "updated"
        },
    )
    .await
}

async fn after<T>(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    key: &str,
    result: Result<T, AppError>,
    notice_code: &str,
) -> Response {
    let staff = ctx.principal.has(sigap_domain::Role::Agent);
    match result {
        Ok(_) => {
            let to = if staff {
                format!("/incidents/{}", encode(key))
            } else {
                format!("/portal/incidents/{}", encode(key))
            };
            see_other(&to, Some(notice_code))
        }
        Err(e) => {
            let errors = messages(tr(state, viewer), &e);
            if staff {
                incident_view(
                    state,
                    ctx,
                    viewer,
                    key,
                    &HashMap::new(),
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            } else {
                portal_incident_view(
                    state,
                    ctx,
                    viewer,
                    key,
                    &HashMap::new(),
                    errors,
                    StatusCode::UNPROCESSABLE_ENTITY,
                )
                .await
            }
        }
    }
}

// ----- the self-service portal -----

#[derive(Template)]
#[template(path = "portal.html")]
pub struct PortalPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<IncidentRow>,
    pub draft: Draft,
    pub services: Vec<(String, String)>,
    /// Known on the chosen service: (number, short description, state, yours).
    pub known: Vec<(String, String, String, bool)>,
    pub checked: bool,
    /// State names for the page's script: (code, name).
    pub state_names: Vec<(String, String)>,
    /// The time-left badge of each row, if it has a running clock.
    pub badges: Vec<Option<super::sla::Badge>>,
}

async fn portal_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    errors: Vec<String>,
    draft: Draft,
    status: StatusCode,
) -> Response {
    let Some(me) = ctx.principal.person_id else {
        return error_response(state, viewer, AppError::Forbidden);
    };
    let query = incidents::IncidentQuery::default();
    let params = ListParams {
        sort: Some("-opened_at".into()),
        limit: Some(100),
        cursor: None,
    };
    let mine = match incidents::list(&state.core, ctx, query, &params).await {
        Ok(p) => p
            .items
            .into_iter()
            .filter(|i| i.caller.as_ref().map(|c| c.id) == Some(me))
            .collect::<Vec<_>>(),
        Err(e) => return error_response(state, viewer, e),
    };
    let services = sigap_core::portfolio::list(
        &state.core,
        ctx,
        sigap_core::portfolio::ServiceQuery {
            status: Some("catalogue".into()),
            ..Default::default()
        },
        &ListParams {
            limit: Some(500),
            ..Default::default()
        },
    )
    .await
    .map(|p| {
        p.items
            .into_iter()
            .map(|s| (s.id.to_string(), s.name))
            .collect()
    })
    .unwrap_or_default();
    let service = draft.get("service").trim().to_owned();
    let known = if service.is_empty() {
        Vec::new()
    } else {
        incidents::known_on_service(&state.core, ctx, &service)
            .await
            .unwrap_or_default()
    };
    let mut chrome = Chrome::new(state, viewer, "portal", "portal-title");
    notice(&mut chrome, q);
    chrome.errors = errors;
    let tt = chrome.t;
    let known = known
        .into_iter()
        .map(|i| {
            let yours = i.caller.as_ref().map(|c| c.id) == Some(me)
                || i.opened_by.as_ref().map(|c| c.id) == Some(me);
            (
                i.task.number.clone(),
                i.task.short_description.clone(),
                tt.get(&format!("incident-state-{}", i.state.code())),
                yours,
            )
        })
        .collect();
    let labels = labels(state).await;
    let rows = mine.iter().map(|i| row(tt, viewer, labels, i)).collect();
    let by_task = super::sla::badges_for(state, tt, mine.iter().map(|i| i.id).collect()).await;
    let badges = mine.iter().map(|i| by_task.get(&i.id).cloned()).collect();
    render(
        status,
        &PortalPage {
            badges,
            chrome,
            rows,
            checked: q.contains_key("check"),
            state_names: IncidentState::ALL
                .iter()
                .map(|s| {
                    (
                        s.code().to_owned(),
                        tt.get(&format!("incident-state-{}", s.code())),
                    )
                })
                .collect(),
            draft,
            services,
            known,
        },
    )
}

pub async fn portal_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    // "Check for known problems" sends the form here: it is shown again, as typed.
    let draft = Draft::from_form(&FormData(
        q.iter()
            .filter(|(k, _)| {
                ["short_description", "description", "urgency", "service"].contains(&k.as_str())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    ));
    portal_view(&state, &ctx, &viewer, &q, Vec::new(), draft, StatusCode::OK).await
}

#[derive(Template)]
#[template(path = "portal_incident.html")]
pub struct PortalIncidentPage<'a> {
    pub chrome: Chrome<'a>,
    pub i: IncidentView,
    pub clocks: Vec<super::sla::ClockCard>,
    pub attachments: Vec<(String, String, String)>,
    pub resolved: bool,
    pub finished: bool,
    pub journal: Vec<JournalLine>,
}

async fn portal_incident_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    key: &str,
    q: &HashMap<String, String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let d = match incidents::detail(&state.core, ctx, key).await {
        Ok(d) => d,
        Err(e) => return error_response(state, viewer, e),
    };
    let attachments = attachment_rows(state, ctx, &d.incident.number).await;
    let mut chrome = Chrome::new(state, viewer, "portal", "incident-title");
    chrome.title = format!("{} {}", d.incident.number, d.incident.short_description);
    notice(&mut chrome, q);
    chrome.errors = errors;
    let tt = chrome.t;
    // The portal shows comments only, also to agents who look at it.
    let mut d2 = d.clone();
    d2.journal.retain(|j| j.kind == JournalKind::Comment);
    let clocks = sigap_core::sla::clocks_of(&state.core, ctx, &d.incident.number)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.kind == sigap_domain::sla::AgreementKind::Sla)
        .collect();
    let page = PortalIncidentPage {
        clocks: super::sla::cards(tt, viewer, clocks),
        attachments,
        i: view(tt, viewer, labels(state).await, &d.incident),
        resolved: d.incident.state == IncidentState::Resolved,
        finished: d.incident.state.is_final(),
        journal: journal(tt, viewer, &d2.journal),
        chrome,
    };
    render(status, &page)
}

pub async fn portal_incident_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    portal_incident_view(&state, &ctx, &viewer, &key, &q, Vec::new(), StatusCode::OK).await
}

// ----- the priority matrix (administrators) -----

#[derive(Template)]
#[template(path = "priority_matrix.html")]
pub struct MatrixPage<'a> {
    pub chrome: Chrome<'a>,
    /// Rows by impact: (impact, [(urgency, priority)]).
    pub grid: Vec<(i64, Vec<(i64, i64)>)>,
}

async fn matrix_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    if let Err(e) = ctx.principal.require(sigap_domain::Role::Admin) {
        return error_response(state, viewer, e);
    }
    let m = match incidents::matrix(&state.core).await {
        Ok(m) => m,
        Err(e) => return error_response(state, viewer, e),
    };
    let mut chrome = Chrome::new(state, viewer, "incidents", "matrix-title");
    notice(&mut chrome, q);
    chrome.errors = errors;
    let grid = (1..=3i64)
        .map(|i| {
            (
                i,
                (1..=3i64)
                    .map(|u| {
                        let p = m
                            .rows()
                            .iter()
                            .find(|r| r.impact.get() == i && r.urgency.get() == u)
                            .map_or(3, |r| r.priority.get());
                        (u, p)
                    })
                    .collect(),
            )
        })
        .collect();
    render(status, &MatrixPage { chrome, grid })
}

pub async fn matrix_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    matrix_view(&state, &ctx, &viewer, &q, Vec::new(), StatusCode::OK).await
}

/// Saves the matrix from its grid, or loads a preset.
pub async fn matrix_save(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> Response {
    use sigap_domain::task::{Level, MatrixPreset, MatrixRow, Priority, PriorityMatrix};
    let rows: Result<Vec<MatrixRow>, AppError> = match form.get("preset") {
        Some(p) => MatrixPreset::parse(&p)
            .map(|p| PriorityMatrix::preset(p).rows().to_vec())
            .map_err(|e| {
                AppError::Validation(vec![sigap_core::FieldError::from_invalid("preset", e)])
            }),
        None => {
            let mut rows = Vec::new();
            let mut bad = None;
            for i in 1..=3i64 {
                for u in 1..=3i64 {
                    let v = form
                        .get(&format!("p{i}{u}"))
                        .and_then(|v| v.trim().parse::<i64>().ok())
                        .and_then(|v| Priority::parse(v).ok());
                    match (Level::parse(i), Level::parse(u), v) {
                        (Ok(impact), Ok(urgency), Some(priority)) => rows.push(MatrixRow {
                            impact,
                            urgency,
                            priority,
                        }),
                        _ => bad = Some(format!("p{i}{u}")),
                    }
                }
            }
            match bad {
                Some(f) => Err(AppError::field(&f, "out_of_range", "must be 1 to 5")),
                None => Ok(rows),
            }
        }
    };
    let result = match rows {
        Ok(rows) => incidents::set_matrix(&state.core, &ctx, rows)
            .await
            .map(|_| ()),
        Err(e) => Err(e),
    };
    match result {
        Ok(()) => see_other("/admin/priority-matrix", Some("saved")),
        Err(e) => {
            let errors = messages(tr(&state, &viewer), &e);
            matrix_view(
                &state,
                &ctx,
                &viewer,
                &HashMap::new(),
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

// ----- categories and assignment rules (administrators) -----

#[derive(Template)]
#[template(path = "incident_categories.html")]
pub struct CategoriesPage<'a> {
    pub chrome: Chrome<'a>,
    /// Top-level categories, each with its subcategories.
    pub tree: Vec<(
        sigap_core::model::Category,
        Vec<sigap_core::model::Category>,
    )>,
    pub draft: Draft,
}

async fn categories_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    errors: Vec<String>,
    draft: Draft,
    status: StatusCode,
) -> Response {
    if let Err(e) = ctx.principal.require(sigap_domain::Role::Admin) {
        return error_response(state, viewer, e);
    }
    let all = match incidents::categories(&state.core).await {
        Ok(c) => c,
        Err(e) => return error_response(state, viewer, e),
    };
    let tree = all
        .iter()
        .filter(|c| c.parent_code.is_none())
        .map(|c| {
            (
                c.clone(),
                all.iter()
                    .filter(|s| s.parent_code.as_deref() == Some(c.code.as_str()))
                    .cloned()
                    .collect(),
            )
        })
        .collect();
    let mut chrome = Chrome::new(state, viewer, "incidents", "categories-title");
    notice(&mut chrome, q);
    chrome.errors = errors;
    render(
        status,
        &CategoriesPage {
            chrome,
            tree,
            draft,
        },
    )
}

pub async fn categories_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    categories_view(
        &state,
        &ctx,
        &viewer,
        &q,
        Vec::new(),
        Draft::default(),
        StatusCode::OK,
    )
    .await
}

/// Adds a category or subcategory, or changes one (its name, order, active flag).
pub async fn category_save(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> Response {
    let input = incidents::CategoryInput {
        name: form.opt("name"),
        parent: form
            .get("parent")
            .map(|p| Some(p).filter(|p| !p.trim().is_empty())),
        active: form
            .get("active_sent")
            .map(|_| form.get("active").is_some()),
        sort_order: form.get("sort_order").and_then(|v| v.trim().parse().ok()),
    };
    match incidents::set_category(&state.core, &ctx, &form.text("code"), input).await {
        Ok(_) => see_other("/admin/incident-categories", Some("saved")),
        Err(e) => {
            let errors = messages(tr(&state, &viewer), &e);
            categories_view(
                &state,
                &ctx,
                &viewer,
                &HashMap::new(),
                errors,
                Draft::from_form(&form),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

#[derive(Template)]
#[template(path = "assignment_rules.html")]
pub struct RulesPage<'a> {
    pub chrome: Chrome<'a>,
    pub rules: Vec<incidents::NamedRule>,
    pub categories: Vec<(String, String)>,
    pub groups: Vec<String>,
    pub draft: Draft,
}

async fn rules_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    errors: Vec<String>,
    draft: Draft,
    status: StatusCode,
) -> Response {
    if let Err(e) = ctx.principal.require(sigap_domain::Role::Admin) {
        return error_response(state, viewer, e);
    }
    let rules = match incidents::rules_named(&state.core, ctx).await {
        Ok(r) => r,
        Err(e) => return error_response(state, viewer, e),
    };
    let groups = active_group_names(state, ctx).await;
    let mut chrome = Chrome::new(state, viewer, "incidents", "rules-title");
    notice(&mut chrome, q);
    chrome.errors = errors;
    render(
        status,
        &RulesPage {
            chrome,
            rules,
            categories: categories(state).await,
            groups,
            draft,
        },
    )
}

pub async fn rules_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    rules_view(
        &state,
        &ctx,
        &viewer,
        &q,
        Vec::new(),
        Draft::default(),
        StatusCode::OK,
    )
    .await
}

/// Adds an assignment rule.
pub async fn rule_save(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> Response {
    let input = incidents::RuleInput {
        sort_order: form.get("sort_order").and_then(|v| v.trim().parse().ok()),
        category: form.opt("category"),
        service: form.opt("service"),
        ci: form.opt("ci"),
        group: form.opt("group"),
    };
    match incidents::add_rule(&state.core, &ctx, input).await {
        Ok(_) => see_other("/admin/assignment-rules", Some("created")),
        Err(e) => {
            let errors = messages(tr(&state, &viewer), &e);
            rules_view(
                &state,
                &ctx,
                &viewer,
                &HashMap::new(),
                errors,
                Draft::from_form(&form),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub async fn rule_delete(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
) -> Response {
    match incidents::delete_rule(&state.core, &ctx, &id).await {
        Ok(()) => see_other("/admin/assignment-rules", Some("deleted")),
        Err(e) => error_response(&state, &viewer, e),
    }
}

// ----- attachments from the pages -----

/// Attaches the file of an upload form (`multipart/form-data`, field `file`).
pub async fn incident_attach(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    upload: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let result = read_upload(upload).await;
    let result = match result {
        Ok((name, content_type, bytes)) => {
            incidents::attach(&state.core, &ctx, &key, &name, &content_type, bytes).await
        }
        Err(e) => Err(e),
    };
    after(&state, &ctx, &viewer, &key, result, "saved").await
}

/// The first file of an upload form: its name, media type and content.
async fn read_upload(
    upload: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(String, String, Vec<u8>), AppError> {
    let too_large = || {
        AppError::field(
            "content",
            "too_long",
            format!("at most {} bytes", incidents::MAX_ATTACHMENT),
        )
    };
    let bad = || AppError::field("file", "required", "choose a file to attach");
    let mut form = upload.map_err(|_| bad())?;
    loop {
        let field = match form.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => return Err(bad()),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large()),
            Err(_) => return Err(bad()),
        };
        if field.name() != Some("file") {
            continue;
        }
        let name = field.file_name().unwrap_or("").to_owned();
        let content_type = field
            .content_type()
            .unwrap_or("application/octet-stream")
            .to_owned();
        if name.trim().is_empty() {
            return Err(bad());
        }
        return match field.bytes().await {
            Ok(b) => Ok((name, content_type, b.to_vec())),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => Err(too_large()),
            Err(_) => Err(bad()),
        };
    }
}
