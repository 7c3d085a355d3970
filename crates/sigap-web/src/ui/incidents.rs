//! Pages of incident management: the agent workspace (queues, the incident form with its
//! journal and quick actions) and the self-service portal (report, follow, answer).

use super::views::{notice, when};
use super::*;
use crate::AppState;
use axum::extract::{Path, Query, State};
use sigap_core::incidents::{self, Action, IncidentDetail};
use sigap_core::listing::ListParams;
use sigap_core::store::incidents::{Incident, JournalKind};
use sigap_domain::incident::{HoldReason, IncidentState};
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

fn row(tt: Tr<'_>, viewer: &Viewer, i: &Incident) -> IncidentRow {
    IncidentRow {
        number: i.number.clone(),
        short_description: i.short_description.clone(),
        caller: i
            .caller
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        priority: i.priority.get(),
        priority_label: tt.get(&format!("priority-{}", i.priority.get())),
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

#[derive(Template)]
#[template(path = "incidents.html")]
pub struct IncidentsPage<'a> {
    pub chrome: Chrome<'a>,
    pub queues: Vec<(String, String, bool)>,
    pub queue: String,
    pub rows: Vec<IncidentRow>,
    pub q: String,
    pub next_link: Option<String>,
}

const QUEUES: &[&str] = &[
    "mine",
    "my_groups",
    "unassigned",
    "on_hold",
    "major",
    "open",
    "all",
];

pub async fn incidents_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    incidents_view(&state, &ctx, &viewer, &q, Vec::new()).await
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
    let query = incidents::IncidentQuery {
        queue: (queue != "open" && queue != "all").then(|| queue.clone()),
        state: (queue == "open").then(|| "new,in_progress,on_hold".into()),
        q: q.get("q").cloned(),
        ..Default::default()
    };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: None,
        limit: Some(50),
    };
    let page = match incidents::list(&state.core, ctx, query, &params).await {
        Ok(p) => p,
        Err(e) => return error_response(state, viewer, e),
    };
    let mut chrome = Chrome::new(state, viewer, "incidents", "incidents-title");
    notice(&mut chrome, q);
    chrome.errors = errors;
    let tt = chrome.t;
    let qtext = q.get("q").cloned().unwrap_or_default();
    let next_link = page.next_cursor.map(|c| {
        format!(
            "/incidents?queue={}&q={}&cursor={}",
            encode(&queue),
            encode(&qtext),
            encode(&c)
        )
    });
    let rows = page.items.iter().map(|i| row(tt, viewer, i)).collect();
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
            chrome,
        },
    )
}

/// The same action on the incidents ticked in a queue; failures are listed by number.
pub async fn incidents_bulk(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> Response {
    let numbers = form.all("incident");
    let queue = form.get("queue").unwrap_or_else(|| "mine".into());
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
    if failures.is_empty() {
        return see_other(
            &format!("/incidents?queue={}", encode(&queue)),
            Some("saved"),
        );
    }
    let mut q = HashMap::new();
    q.insert("queue".to_owned(), queue);
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
}

fn view(tt: Tr<'_>, viewer: &Viewer, i: &Incident) -> IncidentView {
    IncidentView {
        number: i.number.clone(),
        short_description: i.short_description.clone(),
        description: i.description.clone(),
        state: tt.get(&format!("incident-state-{}", i.state.code())),
        state_code: i.state.code().into(),
        impact: i.impact.get(),
        urgency: i.urgency.get(),
        priority: i.priority.get(),
        priority_label: tt.get(&format!("priority-{}", i.priority.get())),
        override_reason: i.priority_override_reason.clone().unwrap_or_default(),
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
        category: i.category.clone().unwrap_or_default(),
        contact_type: tt.get(&format!("contact-{}", i.contact_type.code())),
        hold_reason: i
            .hold_reason
            .map(|h| tt.get(&format!("hold-{}", h.code())))
            .unwrap_or_default(),
        workaround: i.workaround.clone(),
        resolution_code: i
            .resolution_code
            .as_ref()
            .map(|c| tt.get(&format!("resolution-{c}")))
            .unwrap_or_default(),
        resolution_notes: i.resolution_notes.clone(),
        major: i.major,
        opened: when(i.opened_at, viewer),
        reopen_count: i.reopen_count,
        reassignment_count: i.reassignment_count,
        version: i.version,
    }
}

fn journal(tt: Tr<'_>, viewer: &Viewer, d: &IncidentDetail) -> Vec<JournalLine> {
    d.journal
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
                format!("{:.1} KiB", a.size as f64 / 1024.0),
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
    let mut chrome = Chrome::new(state, viewer, "incidents", "incident-title");
    chrome.title = format!("{} {}", d.incident.number, d.incident.short_description);
    notice(&mut chrome, q);
    chrome.errors = errors;
    let tt = chrome.t;
    let page = IncidentPage {
        attachments,
        i: view(tt, viewer, &d.incident),
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
        journal: journal(tt, viewer, &d),
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

fn level(form: &FormData, name: &str) -> Option<i64> {
    form.get(name).and_then(|v| v.trim().parse().ok())
}

pub async fn incident_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> Response {
    let staff = ctx.principal.has(sigap_domain::Role::Agent);
    let input = incidents::IncidentInput {
        short_description: form.get("short_description"),
        description: form.get("description"),
        impact: level(&form, "impact"),
        urgency: level(&form, "urgency"),
        caller: form.opt("caller").map(Some),
        contact_type: form.opt("contact_type"),
        service: form.opt("service").map(Some),
        ci: form.opt("ci").map(Some),
        category: form.opt("category").map(Some),
        assignment_group: form.opt("assignment_group").map(Some),
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
}

async fn categories(state: &AppState) -> Vec<(String, String)> {
    state
        .core
        .store
        .read(async |tx| sigap_core::store::incidents::categories(tx).await)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|c| c.active && c.parent_code.is_none())
        .map(|c| (c.code, c.name))
        .collect()
}

async fn new_page(
    state: &AppState,
    chrome: Chrome<'_>,
    draft: Draft,
    status: StatusCode,
) -> Response {
    let tt = chrome.t;
    let page = NewIncidentPage {
        categories: categories(state).await,
        contact_types: sigap_domain::incident::ContactType::ALL
            .iter()
            .map(|c| {
                (
                    c.code().to_owned(),
                    tt.get(&format!("contact-{}", c.code())),
                )
            })
            .collect(),
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
    new_page(&state, chrome, Draft::default(), StatusCode::OK).await
}

pub async fn incident_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    let input = incidents::IncidentInput {
        short_description: form.get("short_description"),
        description: form.get("description"),
        impact: level(&form, "impact"),
        urgency: level(&form, "urgency"),
        assignment_group: form.get("assignment_group").map(Some),
        assigned_to: form.get("assigned_to").map(Some),
        workaround: form.get("workaround"),
        major: form.get("major_sent").map(|_| form.get("major").is_some()),
        ..Default::default()
    };
    let result = incidents::update(&state.core, &ctx, &key, input, form.version()).await;
    after(&state, &ctx, &viewer, &key, result, "saved").await
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
            "moved"
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
    let mut chrome = Chrome::new(state, viewer, "portal", "portal-title");
    notice(&mut chrome, q);
    chrome.errors = errors;
    let tt = chrome.t;
    let rows = mine.iter().map(|i| row(tt, viewer, i)).collect();
    render(
        status,
        &PortalPage {
            chrome,
            rows,
            draft,
            services,
        },
    )
}

pub async fn portal_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    portal_view(
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

#[derive(Template)]
#[template(path = "portal_incident.html")]
pub struct PortalIncidentPage<'a> {
    pub chrome: Chrome<'a>,
    pub i: IncidentView,
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
    let page = PortalIncidentPage {
        attachments,
        i: view(tt, viewer, &d.incident),
        resolved: d.incident.state == IncidentState::Resolved,
        finished: d.incident.state.is_final(),
        journal: journal(tt, viewer, &d2),
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
    use sigap_domain::incident::{Level, MatrixPreset, MatrixRow, Priority, PriorityMatrix};
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
