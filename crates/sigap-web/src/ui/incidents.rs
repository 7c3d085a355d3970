//! Pages of incident management: the agent workspace (queues, the incident form with its
//! journal and quick actions) and the self-service portal (report, follow, answer).

use super::queue::{self, Spec};
use super::task::{JournalLine, choices, journal};
use super::views::{notice, refusal};
use super::*;
use crate::AppState;
use axum::extract::{Path, Query, State};
use sigap_core::incidents::{self, Action};
use sigap_core::listing::ListParams;
use sigap_core::model::Incident;
use sigap_domain::process::incident::{HoldReason, IncidentState};
use sigap_domain::task::JournalKind;
use sigap_domain::task::MatrixPreset;
use sigap_domain::task::StateModel;
use std::collections::HashMap;

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

/// The incident queue: the agents' workspace.
pub struct Incidents;

const QUEUE: Spec = Spec {
    name: "incidents",
    noun: "incident",
    queues: &[
        "mine",
        "my_groups",
        "unassigned",
        "on_hold",
        "major",
        "breaching",
        "open",
        "all",
    ],
    sorts: &["priority,opened_at", "-opened_at", "-updated_at", "number"],
    columns: &[
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
    ],
    shown: 9,
    flag: Some(("major", "field-major")),
    bulk: &[
        ("assign_to_me", "action-assign-to-me"),
        ("start", "action-start"),
        ("create_problem", "bulk-create-problem"),
    ],
    export: Some("/api/v1/incidents/export"),
    creates: true,
};

impl queue::Queue for Incidents {
    const SPEC: Spec = QUEUE;
    async fn view(v: &Visit, q: &HashMap<String, String>, errors: Vec<String>) -> PageResult {
        incidents_view(v, q, errors).await
    }
    async fn act(v: &Visit, name: &str, number: &str) -> Result<(), AppError> {
        let a = match name {
            "start" => Action::Start,
            _ => Action::AssignToMe,
        };
        incidents::act(&v.state.core, &v.ctx, number, a, None).await?;
        Ok(())
    }
}

async fn incidents_view(v: &Visit, q: &HashMap<String, String>, errors: Vec<String>) -> PageResult {
    if !v.ctx.principal.has(sigap_domain::Role::Agent) {
        return Ok(see_other("/portal", None));
    }
    let queue = queue::queue(&QUEUE, q);
    let mut t = queue::task_query(q);
    t.queue = (!["open", "all", "breaching"].contains(&queue.as_str())).then(|| queue.clone());
    if queue == "open" {
        t.state = t.state.or_else(|| Some("open".into()));
    }
    let major = (queue::get(q, "major") == "true").then(|| "true".into());
    let query = incidents::IncidentQuery { task: t, major };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: Some(queue::sort(&QUEUE, q)),
        limit: Some(50),
    };
    let (core, ctx) = (&v.state.core, &v.ctx);
    // Breaching soon: the incidents whose clocks run out within four hours, soonest first.
    let listed = if queue == "breaching" {
        let soon = jiff::SignedDuration::from_hours(4);
        sigap_core::sla::breaching_soon(core, ctx, soon, 200)
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
        incidents::list(core, ctx, query, &params).await
    };
    let tt = tr(&v.state, &v.viewer);
    let admin = [
        ("/admin/priority-matrix", "matrix-title"),
        ("/admin/incident-categories", "categories-title"),
        ("/admin/assignment-rules", "rules-title"),
        ("/admin/locations", "locations-title"),
    ];
    let links = admin
        .iter()
        .filter(|_| ctx.principal.has(sigap_domain::Role::Admin))
        .map(|(href, label)| ((*href).to_owned(), tt.get(label)))
        .collect();
    queue::page(v, &QUEUE, q, listed, errors, links, |_, _| None).await
}

/// The actions on the incidents ticked in a queue; "create problem" opens the new-problem
/// form with them.
pub async fn incidents_bulk(v: Visit, form: FormData) -> PageResult {
    if form.text("action") == "create_problem" {
        return Ok(super::problems::from_selection(&form.all("incident")));
    }
    queue::bulk::<Incidents>(v, form).await
}

super::task::task_view_type!(
    /// An incident as its pages show it.
    IncidentView {
        override_reason: String,
        hold_reason: String,
        workaround: String,
        resolution_code: String,
        resolution_notes: String,
        major: bool,
    }
);

fn view(tt: Tr<'_>, viewer: &Viewer, labels: MatrixPreset, i: &Incident) -> IncidentView {
    let x = &i.ext;
    let label = |prefix: &str, code: Option<&str>| {
        code.map(|c| tt.get(&format!("{prefix}-{c}")))
            .unwrap_or_default()
    };
    IncidentView {
        t: super::task::task_view(tt, viewer, labels, &i.task),
        override_reason: x.priority_override_reason.clone().unwrap_or_default(),
        hold_reason: label("hold", x.hold_reason.map(|h| h.code())),
        workaround: x.workaround.clone(),
        resolution_code: label("resolution", x.resolution_code.as_deref()),
        resolution_notes: x.resolution_notes.clone(),
        major: x.major,
    }
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
    /// The change that caused it and the change it waits for.
    pub changes: sigap_core::changes::IncidentChanges,
    /// Articles suggested for it, attached to it and it may be resolved with.
    pub knowledge: super::knowledge_tasks::IncidentKnowledge,
    /// The mail that came in and went out about it.
    pub mail: super::mail_tasks::TaskMail,
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
    v: &Visit,
    key: &str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let (state, ctx, viewer) = (&v.state, &v.ctx, &v.viewer);
    if !ctx.principal.has(sigap_domain::Role::Agent) {
        return Ok(see_other(
            &format!("/portal/incidents/{}", encode(key)),
            None,
        ));
    }
    let d = incidents::detail(&state.core, ctx, key).await?;
    let attachments = attachment_rows(state, ctx, &d.incident.number).await;
    let children = incidents::list(
        &state.core,
        ctx,
        incidents::IncidentQuery {
            task: sigap_core::task::TaskQuery {
                parent: Some(d.incident.id.to_string()),
                ..Default::default()
            },
            major: None,
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
    let clocks = sigap_core::sla::clocks_of::<sigap_core::model::IncidentExt>(
        &state.core,
        ctx,
        &d.incident.number,
    )
    .await
    .unwrap_or_default();
    let mut chrome = Chrome::new(state, viewer, "incidents", "incident-title");
    chrome.title = format!("{} {}", d.incident.number, d.incident.short_description);
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
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
        hold_reasons: choices(tt, "hold", HoldReason::ALL.iter().map(|h| h.code())),
        resolution_codes: choices(
            tt,
            "resolution",
            incidents::RESOLUTION_CODES.iter().copied(),
        ),
        journal: journal(tt, viewer, &d.journal),
        children: children
            .iter()
            .map(|c| {
                (
                    c.number.clone(),
                    c.short_description.clone(),
                    super::task::state_label(tt, c.state),
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
        problems: super::problems::of_incident(v, &d.incident).await,
        changes: super::changes::of_incident(v, &d.incident).await,
        knowledge: super::knowledge_tasks::of_incident(v, &d.incident).await,
        mail: super::mail_tasks::of_incident(v, &d.incident).await,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn incident_page(
    v: Visit,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    incident_view(&v, &key, &q, None).await
}

pub(crate) fn level(form: &FormData, name: &str) -> Option<i64> {
    form.get(name).and_then(|v| v.trim().parse().ok())
}

pub async fn incident_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
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
    let draft = Draft::from_form(&form);
    match incidents::create(&state.core, &ctx, input).await {
        Ok(i) if staff => Ok(see_other(
            &format!("/incidents/{}", i.number),
            Some("created"),
        )),
        Ok(i) => Ok(see_other(
            &format!("/portal/incidents/{}", i.number),
            Some("created"),
        )),
        Err(e) if staff => new_page(&state, &ctx, &viewer, draft, Some(e)).await,
        Err(e) => portal_view(&state, &ctx, &viewer, &HashMap::new(), Some(e), draft).await,
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
    viewer: &Viewer,
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    let mut chrome = Chrome::new(state, viewer, "incidents", "incidents-new");
    let status = refusal(&mut chrome, refused);
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
    Ok(render(status, &page))
}

pub async fn incident_new(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
) -> PageResult {
    if !ctx.principal.has(sigap_domain::Role::Agent) {
        return Ok(see_other("/portal", None));
    }
    new_page(&state, &ctx, &viewer, Draft::default(), None).await
}

pub async fn incident_update(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
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
    let result = incidents::update(&v.state.core, &v.ctx, &key, input, form.version()).await;
    done(&v, &key, result, "saved").await
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
pub async fn incident_act(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
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
            article: Some(text("article")).filter(|a| !a.trim().is_empty()),
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
    let notice = match action.name() {
        "comment" | "work_note" => "saved",
        _ => "updated",
    };
    let result = incidents::act(&v.state.core, &v.ctx, &key, action, None).await;
    done(&v, &key, result, notice).await
}

/// Back to the incident (the desk's page, or the portal's for its caller) with a notice, or
/// that page again with the reasons.
pub(super) async fn done<T>(
    v: &Visit,
    key: &str,
    result: Result<T, AppError>,
    notice: &str,
) -> PageResult {
    let staff = v.ctx.principal.has(sigap_domain::Role::Agent);
    let to = if staff {
        format!("/incidents/{}", encode(key))
    } else {
        format!("/portal/incidents/{}", encode(key))
    };
    let q = HashMap::new();
    super::task::after(result, &to, notice, async |e| {
        if staff {
            incident_view(v, key, &q, Some(e)).await
        } else {
            portal_incident_view(v, key, &q, Some(e)).await
        }
    })
    .await
}

// ----- the self-service portal -----

#[derive(Template)]
#[template(path = "portal.html")]
pub struct PortalPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<super::task::TaskView>,
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
    refused: Option<AppError>,
    draft: Draft,
) -> PageResult {
    let me = ctx.principal.person()?;
    let query = incidents::IncidentQuery::default();
    let params = ListParams {
        sort: Some("-opened_at".into()),
        limit: Some(100),
        cursor: None,
    };
    let mut mine = incidents::list(&state.core, ctx, query, &params)
        .await?
        .items;
    mine.retain(|i| i.caller.as_ref().map(|c| c.id) == Some(me));
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
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let known = known
        .into_iter()
        .map(|i| {
            let yours = i.caller.as_ref().map(|c| c.id) == Some(me)
                || i.opened_by.as_ref().map(|c| c.id) == Some(me);
            (
                i.task.number.clone(),
                i.task.short_description.clone(),
                super::task::state_label(tt, i.state),
                yours,
            )
        })
        .collect();
    let labels = labels(state).await;
    let rows = mine
        .iter()
        .map(|i| super::task::task_view(tt, viewer, labels, i))
        .collect();
    let by_task = super::sla::badges_for(state, tt, mine.iter().map(|i| i.id).collect()).await;
    let badges = mine.iter().map(|i| by_task.get(&i.id).cloned()).collect();
    Ok(render(
        status,
        &PortalPage {
            badges,
            chrome,
            rows,
            checked: q.contains_key("check"),
            state_names: IncidentState::ALL
                .iter()
                .map(|s| (s.code().to_owned(), super::task::state_label(tt, *s)))
                .collect(),
            draft,
            services,
            known,
        },
    ))
}

pub async fn portal_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    // "Check for known problems" sends the form here: it is shown again, as typed.
    let draft = Draft::from_form(&FormData(
        q.iter()
            .filter(|(k, _)| {
                ["short_description", "description", "urgency", "service"].contains(&k.as_str())
            })
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    ));
    portal_view(&state, &ctx, &viewer, &q, None, draft).await
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
    v: &Visit,
    key: &str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let (state, ctx, viewer) = (&v.state, &v.ctx, &v.viewer);
    let d = incidents::detail(&state.core, ctx, key).await?;
    let attachments = attachment_rows(state, ctx, &d.incident.number).await;
    let mut chrome = Chrome::new(state, viewer, "portal", "incident-title");
    chrome.title = format!("{} {}", d.incident.number, d.incident.short_description);
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    // The portal shows comments only, also to agents who look at it.
    let mut d2 = d.clone();
    d2.journal.retain(|j| j.kind == JournalKind::Comment);
    let clocks = sigap_core::sla::clocks_of::<sigap_core::model::IncidentExt>(
        &state.core,
        ctx,
        &d.incident.number,
    )
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
    Ok(render(status, &page))
}

pub async fn portal_incident_page(
    v: Visit,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    portal_incident_view(&v, &key, &q, None).await
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
    v: Visit,
    Path(key): Path<String>,
    upload: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    let result = read_upload(upload).await;
    let result = match result {
        Ok((name, content_type, bytes)) => {
            incidents::attach(&v.state.core, &v.ctx, &key, &name, &content_type, bytes).await
        }
        Err(e) => Err(e),
    };
    done(&v, &key, result, "saved").await
}

/// The first file of an upload form: its name, media type and content.
pub(crate) async fn read_upload(
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
