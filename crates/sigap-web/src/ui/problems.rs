//! Pages of problem management: the problem list and the known errors, a problem with its
//! actions, linked incidents and journal, the trends of incidents no problem explains, and
//! the problem side of the incident page (its problem, the known errors beside it).

use super::incidents::{JournalLine, categories, journal, labels, priority_label};
use super::task::or_refused;
use super::views::{notice, when};
use super::*;
use crate::AppState;
use axum::extract::{Path, Query, State};
use sigap_core::listing::ListParams;
use sigap_core::model::Incident;
use sigap_core::model::Problem;
use sigap_core::problems::{self, Action, ProblemInput, ProblemQuery};
use sigap_core::task::TaskInput;
use sigap_domain::process::problem::{ProblemResolution, ProblemState};
use sigap_domain::task::{MatrixPreset, StateModel};
use std::collections::HashMap;

pub struct ProblemRow {
    pub number: String,
    pub statement: String,
    pub state: String,
    pub state_code: String,
    pub priority: i64,
    pub priority_label: String,
    pub service: String,
    pub group: String,
    pub known_error: bool,
    pub workaround: String,
    pub opened: String,
}

/// Labels of a problem state and of the list's sorts.
fn state_label(tt: Tr<'_>, s: ProblemState) -> String {
    tt.get(&format!("problem-state-{}", s.code()))
}

const SORTS: &[&str] = &["-opened_at", "priority,opened_at", "-updated_at", "number"];

fn row(tt: Tr<'_>, viewer: &Viewer, labels: MatrixPreset, p: &Problem) -> ProblemRow {
    ProblemRow {
        number: p.number.clone(),
        statement: p.short_description.clone(),
        state: state_label(tt, p.state),
        state_code: p.state.code().into(),
        priority: p.priority.get(),
        priority_label: priority_label(tt, labels, p.priority.get()),
        service: p
            .service
            .as_ref()
            .map(|s| s.name.clone())
            .unwrap_or_default(),
        group: p
            .assignment_group
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_default(),
        known_error: p.ext.known_error,
        workaround: p.ext.workaround.clone(),
        opened: when(p.opened_at, viewer),
    }
}

#[derive(Template)]
#[template(path = "problems.html")]
pub struct ProblemsPage<'a> {
    pub chrome: Chrome<'a>,
    /// The known-error list rather than every problem.
    pub known: bool,
    pub rows: Vec<ProblemRow>,
    pub q: String,
    pub filter_state: String,
    pub filter_known: bool,
    pub sort: String,
    pub states: Vec<(String, String)>,
    pub sorts: Vec<(String, String)>,
    pub next_link: Option<String>,
}

async fn problems_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    known: bool,
) -> Response {
    let get = |k: &str| q.get(k).map(|v| v.trim().to_owned()).unwrap_or_default();
    let filter_state = get("state");
    let filter_known = known || get("known_error") == "true";
    let sort = Some(get("sort"))
        .filter(|s| SORTS.contains(&s.as_str()))
        .unwrap_or_else(|| SORTS[0].to_owned());
    let query = ProblemQuery {
        state: Some(filter_state.clone()).filter(|s| !s.is_empty()),
        known_error: filter_known.then(|| "true".into()),
        q: Some(get("q")).filter(|s| !s.is_empty()),
        ..Default::default()
    };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: Some(sort.clone()),
        limit: Some(50),
    };
    let (section_title, path) = if known {
        ("known-errors-title", "/problems/known-errors")
    } else {
        ("problems-title", "/problems")
    };
    let mut chrome = Chrome::new(state, viewer, "problems", section_title);
    let listed = problems::list(&state.core, ctx, query, &params).await;
    let (items, next_cursor) =
        match or_refused(&mut chrome, listed.map(|p| (p.items, p.next_cursor))) {
            Ok(p) => p,
            Err(e) => return error_response(state, viewer, e),
        };
    notice(&mut chrome, q);
    let tt = chrome.t;
    let labels = labels(state).await;
    let mut view = form_urlencoded::Serializer::new(String::new());
    for k in ["q", "state", "known_error", "sort"] {
        if let Some(v) = q.get(k).filter(|v| !v.is_empty()) {
            view.append_pair(k, v);
        }
    }
    let view = view.finish();
    let next_link = next_cursor.map(|c| format!("{path}?{view}&cursor={}", encode(&c)));
    let mut states = vec![("open".to_owned(), tt.get("problem-state-open"))];
    states.extend(
        ProblemState::ALL
            .iter()
            .map(|s| (s.code().to_owned(), state_label(tt, *s))),
    );
    render(
        StatusCode::OK,
        &ProblemsPage {
            known,
            rows: items.iter().map(|p| row(tt, viewer, labels, p)).collect(),
            q: get("q"),
            filter_state,
            filter_known,
            sort,
            states,
            sorts: super::task::sort_options(tt, SORTS),
            next_link,
            chrome,
        },
    )
}

pub async fn problems_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    problems_view(&state, &ctx, &viewer, &q, false).await
}

pub async fn known_errors_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    problems_view(&state, &ctx, &viewer, &q, true).await
}

// ----- a new problem -----

#[derive(Template)]
#[template(path = "problem_new.html")]
pub struct NewProblemPage<'a> {
    pub chrome: Chrome<'a>,
    pub draft: Draft,
    pub categories: Vec<(String, String)>,
    /// The incidents it will be linked to: (number, short description).
    pub incidents: Vec<(String, String)>,
}

async fn new_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    form: &FormData,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    if let Err(e) = ctx.principal.require(sigap_domain::Role::Agent) {
        return error_response(state, viewer, e);
    }
    let mut incidents = Vec::new();
    for n in form.all("incident").into_iter().take(200) {
        let text = sigap_core::incidents::get(&state.core, ctx, &n)
            .await
            .map(|i| i.short_description.clone())
            .unwrap_or_default();
        incidents.push((n, text));
    }
    let mut chrome = Chrome::new(state, viewer, "problems", "problems-new");
    chrome.errors = errors;
    render(
        status,
        &NewProblemPage {
            chrome,
            draft: Draft::from_form(form),
            categories: categories(state).await,
            incidents,
        },
    )
}

/// The new-problem form; `incident` (repeated) names the incidents to link, and the
/// statement and service start from them.
pub async fn problem_new(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    axum::extract::RawQuery(raw): axum::extract::RawQuery,
) -> Response {
    let mut form = FormData::parse(raw.as_deref().unwrap_or("").as_bytes());
    let numbers = form.all("incident");
    if form.get("short_description").is_none() {
        let mut found = Vec::new();
        for n in numbers.iter().take(200) {
            if let Ok(i) = sigap_core::incidents::get(&state.core, &ctx, n).await {
                found.push(i);
            }
        }
        if let Some(first) = found.first() {
            form.0
                .push(("short_description".into(), first.short_description.clone()));
            let service = first.service.as_ref().map(|s| s.id);
            if let Some(s) = first.service.as_ref().filter(|_| {
                found
                    .iter()
                    .all(|i| i.service.as_ref().map(|s| s.id) == service)
            }) {
                form.0.push(("service".into(), s.name.clone()));
            }
        }
    }
    new_view(&state, &ctx, &viewer, &form, Vec::new(), StatusCode::OK).await
}

/// The queue's "create problem from selection": the new-problem form with those incidents.
pub fn from_selection(numbers: &[String]) -> Response {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for n in numbers.iter().take(200) {
        s.append_pair("incident", n);
    }
    see_other(&format!("/problems/new?{}", s.finish()), None)
}

fn input_of(form: &FormData) -> ProblemInput {
    ProblemInput {
        task: super::task::new_input(form),
        symptoms: form.get("symptoms"),
        major: Some(form.get("major").is_some()),
        incidents: form.all("incident"),
        ..Default::default()
    }
}

pub async fn problem_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> Response {
    match problems::create(&state.core, &ctx, input_of(&form)).await {
        Ok(p) => see_other(&format!("/problems/{}", p.number), Some("created")),
        Err(e) => {
            let errors = messages(tr(&state, &viewer), &e);
            new_view(
                &state,
                &ctx,
                &viewer,
                &form,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

// ----- one problem -----

pub struct ProblemView {
    pub number: String,
    pub short_description: String,
    pub description: String,
    pub state: String,
    pub state_code: String,
    pub impact: i64,
    pub urgency: i64,
    pub priority: i64,
    pub priority_label: String,
    pub group: String,
    pub assignee: String,
    pub assignee_login: String,
    pub service: String,
    pub ci: String,
    pub category: String,
    pub symptoms: String,
    pub root_cause: String,
    pub cause_code: String,
    pub workaround: String,
    /// When the work-around was last published, empty if never.
    pub published: String,
    pub fix: String,
    pub known_error: bool,
    pub major: bool,
    pub resolution_code: String,
    pub resolution_notes: String,
    pub opened: String,
    pub version: i64,
}

fn view(tt: Tr<'_>, viewer: &Viewer, labels: MatrixPreset, p: &Problem) -> ProblemView {
    let name = |r: Option<&String>| r.cloned().unwrap_or_default();
    ProblemView {
        number: p.number.clone(),
        short_description: p.short_description.clone(),
        description: p.description.clone(),
        state: state_label(tt, p.state),
        state_code: p.state.code().into(),
        impact: p.impact.get(),
        urgency: p.urgency.get(),
        priority: p.priority.get(),
        priority_label: priority_label(tt, labels, p.priority.get()),
        group: name(p.assignment_group.as_ref().map(|g| &g.name)),
        assignee: name(p.assigned_to.as_ref().map(|a| &a.name)),
        assignee_login: name(p.assigned_to.as_ref().map(|a| &a.login)),
        service: name(p.service.as_ref().map(|s| &s.name)),
        ci: name(p.ci.as_ref().map(|c| &c.name)),
        category: name(p.category.as_ref()),
        symptoms: p.ext.symptoms.clone(),
        root_cause: p.ext.root_cause.clone(),
        cause_code: name(p.ext.cause_code.as_ref()),
        workaround: p.ext.workaround.clone(),
        published: p
            .ext
            .workaround_published_at
            .map(|t| when(t, viewer))
            .unwrap_or_default(),
        fix: p.ext.fix.clone(),
        known_error: p.ext.known_error,
        major: p.ext.major,
        resolution_code: p
            .ext
            .resolution_code
            .as_ref()
            .map(|c| tt.get(&format!("problem-resolution-{c}")))
            .unwrap_or_default(),
        resolution_notes: p.ext.resolution_notes.clone(),
        opened: when(p.opened_at, viewer),
        version: p.version,
    }
}

/// A linked incident as the problem page lists it.
pub struct LinkedIncident {
    pub number: String,
    pub short_description: String,
    pub state: String,
    pub open: bool,
}

#[derive(Template)]
#[template(path = "problem.html")]
pub struct ProblemPage<'a> {
    pub chrome: Chrome<'a>,
    pub p: ProblemView,
    /// The simple moves the state allows: (action, label).
    pub moves: Vec<(String, String)>,
    pub can_resolve: bool,
    pub can_reanalyze: bool,
    pub can_cancel: bool,
    pub open: bool,
    pub finished: bool,
    pub resolutions: Vec<(String, String)>,
    pub incidents: Vec<LinkedIncident>,
    pub open_incidents: i64,
    pub journal: Vec<JournalLine>,
    pub categories: Vec<(String, String)>,
}

async fn problem_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    key: &str,
    q: &HashMap<String, String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    let d = match problems::detail(&state.core, ctx, key).await {
        Ok(d) => d,
        Err(e) => return error_response(state, viewer, e),
    };
    let p = &d.problem;
    let mut chrome = Chrome::new(state, viewer, "problems", "problem-title");
    chrome.title = format!("{} {}", p.number, p.short_description);
    notice(&mut chrome, q);
    chrome.errors = errors;
    let tt = chrome.t;
    let next = p.state.next();
    let moves = [
        ("assess", ProblemState::Assess),
        ("analyze", ProblemState::RootCauseAnalysis),
        ("start_fix", ProblemState::FixInProgress),
        ("close", ProblemState::Closed),
    ]
    .into_iter()
    // Back to analysis from a fix or a resolution is a re-analysis, with its reason.
    .filter(|(a, to)| next.contains(to) && (*a != "analyze" || p.state == ProblemState::Assess))
    .map(|(a, _)| (a.to_owned(), tt.get(&format!("problem-action-{a}"))))
    .collect();
    let page = ProblemPage {
        moves,
        can_resolve: next.contains(&ProblemState::Resolved),
        can_reanalyze: next.contains(&ProblemState::RootCauseAnalysis)
            && p.state != ProblemState::Assess,
        can_cancel: next.contains(&ProblemState::Canceled),
        open: p.state.is_open(),
        finished: p.state.is_final(),
        resolutions: ProblemResolution::ALL
            .iter()
            .map(|r| {
                (
                    r.code().to_owned(),
                    tt.get(&format!("problem-resolution-{}", r.code())),
                )
            })
            .collect(),
        incidents: d
            .incidents
            .iter()
            .map(|i| LinkedIncident {
                number: i.number.clone(),
                short_description: i.short_description.clone(),
                state: tt.get(&format!("incident-state-{}", i.state.code())),
                open: i.state.is_open(),
            })
            .collect(),
        open_incidents: d.open_incidents,
        journal: journal(tt, viewer, &d.journal),
        categories: categories(state).await,
        p: view(tt, viewer, labels(state).await, p),
        chrome,
    };
    render(status, &page)
}

pub async fn problem_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    problem_view(&state, &ctx, &viewer, &key, &q, Vec::new(), StatusCode::OK).await
}

/// Back to the problem with a notice, or its page again with the errors.
async fn after<T>(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    key: &str,
    result: Result<T, AppError>,
    notice_code: &str,
) -> Response {
    match result {
        Ok(_) => see_other(&format!("/problems/{}", encode(key)), Some(notice_code)),
        Err(e) => {
            let errors = messages(tr(state, viewer), &e);
            problem_view(
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

pub async fn problem_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    let input = ProblemInput {
        task: super::task::edit_input(&form),
        symptoms: form.get("symptoms"),
        root_cause: form.get("root_cause"),
        cause_code: form.get("cause_code").map(Some),
        workaround: form.get("workaround"),
        fix: form.get("fix"),
        major: form.get("major_sent").map(|_| form.get("major").is_some()),
        incidents: Vec::new(),
    };
    let result = problems::update(&state.core, &ctx, &key, input, form.version()).await;
    after(&state, &ctx, &viewer, &key, result, "saved").await
}

/// An action from a form: `action` names it, the other fields carry its details.
pub async fn problem_act(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    let text = |n: &str| form.text(n);
    let action = match form.text("action").as_str() {
        "assess" => Action::Assess,
        "analyze" => Action::Analyze,
        "start_fix" => Action::StartFix,
        "resolve" => Action::Resolve {
            code: text("resolution_code"),
            notes: text("resolution_notes"),
            resolve_incidents: form.get("resolve_incidents").is_some(),
        },
        "reanalyze" => Action::Reanalyze {
            reason: text("reason"),
        },
        "close" => Action::Close,
        "cancel" => Action::Cancel {
            reason: text("reason"),
        },
        "known_error" => Action::KnownError {
            on: text("on") == "true",
        },
        "publish_workaround" => Action::PublishWorkaround {
            to_callers: text("to") == "callers",
        },
        _ => Action::WorkNote { body: text("body") },
    };
    let result = problems::act(&state.core, &ctx, &key, action, None).await;
    after(&state, &ctx, &viewer, &key, result, "saved").await
}

/// Links incidents by number (several separated by commas or spaces).
pub async fn problem_link(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    let numbers = form
        .text("incident")
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    let result = problems::link(&state.core, &ctx, &key, numbers).await;
    after(&state, &ctx, &viewer, &key, result, "linked").await
}

pub async fn problem_unlink(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path((key, incident)): Path<(String, String)>,
) -> Response {
    let result = problems::unlink(&state.core, &ctx, &key, &incident).await;
    after(&state, &ctx, &viewer, &key, result, "unlinked").await
}

// ----- trends -----

pub struct TrendRow {
    pub key: String,
    pub name: String,
    pub incidents: i64,
}

#[derive(Template)]
#[template(path = "problem_trends.html")]
pub struct TrendsPage<'a> {
    pub chrome: Chrome<'a>,
    pub from: String,
    pub to: String,
    pub by: String,
    pub bys: Vec<(String, String)>,
    pub rows: Vec<TrendRow>,
}

/// The period of the trends in the viewer's time zone: `from` and `to` are days (`to`
/// included); the last 30 days by default.
fn period(
    viewer: &Viewer,
    q: &HashMap<String, String>,
) -> (
    String,
    String,
    Result<(jiff::Timestamp, jiff::Timestamp), AppError>,
) {
    let tz = viewer
        .principal
        .as_ref()
        .and_then(|p| jiff::tz::TimeZone::get(&p.time_zone).ok())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let today = jiff::Timestamp::now().to_zoned_datetime(tz.clone()).date();
    let day = |k: &str, default: jiff::civil::Date| match q.get(k).map(|v| v.trim()) {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse::<jiff::civil::Date>()
            .map_err(|_| AppError::field(k, "invalid", "must be a date (YYYY-MM-DD)")),
    };
    let from = day("from", today.saturating_sub(jiff::Span::new().days(30)));
    let to = day("to", today);
    let text = |d: &Result<jiff::civil::Date, AppError>, k: &str| match d {
        Ok(d) => d.to_string(),
        Err(_) => q.get(k).cloned().unwrap_or_default(),
    };
    let (from_text, to_text) = (text(&from, "from"), text(&to, "to"));
    let bounds = from.and_then(|f| {
        let t = to?.saturating_add(jiff::Span::new().days(1));
        let at = |d: jiff::civil::Date| {
            d.to_zoned_datetime(tz.clone())
                .map(|z| z.timestamp())
                .map_err(|e| AppError::Internal(e.to_string()))
        };
        Ok((at(f)?, at(t)?))
    });
    (from_text, to_text, bounds)
}

const TREND_BYS: &[&str] = &["service", "ci", "category"];

pub async fn trends_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let by = q
        .get("by")
        .filter(|b| TREND_BYS.contains(&b.as_str()))
        .cloned()
        .unwrap_or_else(|| "service".into());
    let (from, to, bounds) = period(&viewer, &q);
    let mut chrome = Chrome::new(&state, &viewer, "problems", "trends-title");
    let rows = match bounds {
        Ok((f, t)) => problems::trends(&state.core, &ctx, &by, f, t).await,
        Err(e) => Err(e),
    };
    let rows = match or_refused(&mut chrome, rows) {
        Ok(r) => r,
        Err(e) => return error_response(&state, &viewer, e),
    };
    let tt = chrome.t;
    render(
        StatusCode::OK,
        &TrendsPage {
            from,
            to,
            bys: TREND_BYS
                .iter()
                .map(|b| ((*b).to_owned(), tt.get(&format!("trends-by-{b}"))))
                .collect(),
            by,
            rows: rows
                .into_iter()
                .map(|t| TrendRow {
                    key: t.key,
                    name: t.name,
                    incidents: t.incidents,
                })
                .collect(),
            chrome,
        },
    )
}

/// Opens a problem linked to the incidents of one line of the trends.
pub async fn trend_problem(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> Response {
    let q: HashMap<String, String> = form.0.iter().cloned().collect();
    let (by, key) = (form.text("by"), form.text("key"));
    let tt = tr(&state, &viewer);
    let result = async {
        let (f, t) = period(&viewer, &q).2?;
        let incidents = problems::trend_incidents(&state.core, &ctx, &by, &key, f, t).await?;
        let mut task = TaskInput {
            short_description: Some(tt.arg("trends-statement", "name", &form.text("name"))),
            ..Default::default()
        };
        match by.as_str() {
            "service" => task.service = Some(Some(key.clone())),
            "ci" => task.ci = Some(Some(key.clone())),
            _ => task.category = Some(Some(key.clone())),
        }
        let input = ProblemInput {
            task,
            incidents,
            ..Default::default()
        };
        problems::create(&state.core, &ctx, input).await
    }
    .await;
    match result {
        Ok(p) => see_other(&format!("/problems/{}", p.number), Some("created")),
        Err(e) => error_response(&state, &viewer, e),
    }
}

// ----- the problem side of an incident -----

/// What the incident page shows of problems: the problem it is linked to, and the known
/// errors on its service or CI.
#[derive(Default)]
pub struct IncidentProblems {
    pub linked: Option<(String, String)>,
    /// Known errors: (number, statement, work-around).
    pub known: Vec<(String, String, String)>,
}

pub(crate) async fn of_incident(state: &AppState, ctx: &Ctx, i: &Incident) -> IncidentProblems {
    let linked = problems::of_incident(&state.core, ctx, i.id)
        .await
        .unwrap_or_default();
    let known = problems::known_errors_for(&state.core, ctx, i)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|p| linked.as_ref().is_none_or(|(n, _)| *n != p.number))
        .map(|p| {
            (
                p.number.clone(),
                p.short_description.clone(),
                p.ext.workaround.clone(),
            )
        })
        .collect();
    IncidentProblems { linked, known }
}

/// Opens a problem from an incident: its statement, service, CI, category, impact and
/// urgency; linked to it.
pub async fn incident_problem(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    let result = async {
        let i = sigap_core::incidents::get(&state.core, &ctx, &key).await?;
        let input = ProblemInput {
            task: TaskInput {
                short_description: Some(
                    form.opt("short_description")
                        .unwrap_or_else(|| i.short_description.clone()),
                ),
                description: Some(i.description.clone()),
                impact: Some(i.impact.get()),
                urgency: Some(i.urgency.get()),
                service: i.service.as_ref().map(|s| Some(s.id.to_string())),
                ci: i.ci.as_ref().map(|c| Some(c.id.to_string())),
                category: i.category.clone().map(Some),
                ..Default::default()
            },
            incidents: vec![i.number.clone()],
            ..Default::default()
        };
        problems::create(&state.core, &ctx, input).await
    }
    .await;
    match result {
        Ok(p) => see_other(&format!("/problems/{}", p.number), Some("created")),
        Err(e) => error_response(&state, &viewer, e),
    }
}

/// Applies a known error to an incident: linked, with its work-around.
pub async fn incident_known_error(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(key): Path<String>,
    form: FormData,
) -> Response {
    match problems::apply_known_error(&state.core, &ctx, &key, &form.text("problem")).await {
        Ok(_) => see_other(&format!("/incidents/{}", encode(&key)), Some("linked")),
        Err(e) => error_response(&state, &viewer, e),
    }
}
