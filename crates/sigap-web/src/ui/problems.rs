//! Pages of problem management: the problem list and the known errors, a problem with its
//! actions, linked incidents and journal, the trends of incidents no problem explains, and
//! the problem side of the incident page (its problem, the known errors beside it).

use super::incidents::{categories, labels};
use super::queue::{self, Cell, Spec};
use super::task::{JournalLine, after, journal, or_refused, state_label, task_view};
use super::views::{notice, refusal, when};
use super::*;
use axum::extract::{Path, Query, RawQuery};
use sigap_core::listing::ListParams;
use sigap_core::model::{Incident, Problem};
use sigap_core::problems::{self, Action, ProblemInput};
use sigap_core::task::TaskInput;
use sigap_domain::process::problem::{ProblemResolution, ProblemState, TrendBy};
use sigap_domain::task::{MatrixPreset, StateModel};
use std::collections::HashMap;

super::task::task_view_type!(
    /// A problem as its page and the lists show it.
    ProblemView {
        symptoms: String,
        root_cause: String,
        cause_code: String,
        workaround: String,
        /// When the work-around was last published, empty if never.
        published: String,
        fix: String,
        known_error: bool,
        major: bool,
        resolution_code: String,
        resolution_notes: String,
    }
);

fn view(tt: Tr<'_>, viewer: &Viewer, labels: MatrixPreset, p: &Problem) -> ProblemView {
    let x = &p.ext;
    ProblemView {
        t: task_view(tt, viewer, labels, &p.task),
        symptoms: x.symptoms.clone(),
        root_cause: x.root_cause.clone(),
        cause_code: x.cause_code.clone().unwrap_or_default(),
        workaround: x.workaround.clone(),
        published: x
            .workaround_published_at
            .map(|t| when(t, viewer))
            .unwrap_or_default(),
        fix: x.fix.clone(),
        known_error: x.known_error,
        major: x.major,
        resolution_code: x
            .resolution_code
            .as_ref()
            .map(|c| tt.get(&format!("problem-resolution-{c}")))
            .unwrap_or_default(),
        resolution_notes: x.resolution_notes.clone(),
    }
}

/// The problem queue; known errors are one of its queues.
pub struct Problems;

const QUEUE: Spec = Spec {
    name: "problems",
    noun: "problem",
    queues: &[
        "open",
        "mine",
        "my_groups",
        "unassigned",
        "known_errors",
        "all",
    ],
    sorts: &["-opened_at", "priority,opened_at", "-updated_at", "number"],
    columns: &[
        "number",
        "short_description",
        "priority",
        "state",
        "service",
        "assignment_group",
        "assigned_to",
        "workaround",
        "opened",
        "updated",
        "configuration_item",
        "category",
        "sla",
    ],
    shown: 8,
    flag: Some(("known_error", "field-known-error")),
    bulk: &[("assess", "problem-action-assess")],
    export: None,
};

async fn problems_view(v: &Visit, q: &HashMap<String, String>, errors: Vec<String>) -> PageResult {
    let queue = queue::queue(&QUEUE, q);
    let mut query = queue::task_query(q);
    let known = queue == "known_errors" || queue::get(q, "known_error") == "true";
    match queue.as_str() {
        "mine" | "my_groups" | "unassigned" => query.queue = Some(queue.clone()),
        "all" => {}
        _ => query.state = query.state.or_else(|| Some("open".into())),
    }
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: Some(queue::sort(&QUEUE, q)),
        limit: Some(50),
    };
    let known = known.then_some("true");
    let listed = problems::list(&v.state.core, &v.ctx, query, known, &params).await;
    let tt = tr(&v.state, &v.viewer);
    let links = [("/problems/trends", "trends-title")];
    let links = links.map(|(h, l)| (h.to_owned(), tt.get(l))).into();
    let workaround =
        |c: &str, p: &Problem| (c == "workaround").then(|| Cell::text(&p.ext.workaround));
    queue::page(v, &QUEUE, q, listed, errors, links, workaround).await
}

impl queue::Queue for Problems {
    const SPEC: Spec = QUEUE;
    async fn view(v: &Visit, q: &HashMap<String, String>, errors: Vec<String>) -> PageResult {
        problems_view(v, q, errors).await
    }
    /// Assesses a ticked problem.
    async fn act(v: &Visit, _name: &str, number: &str) -> Result<(), AppError> {
        problems::act(&v.state.core, &v.ctx, number, Action::Assess, None).await?;
        Ok(())
    }
}

/// The known errors: the problem queue's known-error queue.
pub async fn known_errors_page(v: Visit) -> PageResult {
    let q = HashMap::from([("queue".to_owned(), "known_errors".to_owned())]);
    problems_view(&v, &q, Vec::new()).await
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

/// The incidents a form names (`incident`, repeated) that the viewer may see.
async fn named_incidents(v: &Visit, form: &FormData) -> Vec<Incident> {
    let mut found = Vec::new();
    for n in form.all("incident").iter().take(200) {
        if let Ok(i) = sigap_core::incidents::get(&v.state.core, &v.ctx, n).await {
            found.push(i);
        }
    }
    found
}

async fn new_view(v: &Visit, form: &FormData, refused: Option<AppError>) -> PageResult {
    v.ctx.principal.require(sigap_domain::Role::Agent)?;
    let found = named_incidents(v, form).await;
    let mut chrome = v.chrome("problems", "problems-new");
    let status = refusal(&mut chrome, refused);
    let page = NewProblemPage {
        chrome,
        draft: Draft::from_form(form),
        categories: categories(&v.state).await,
        incidents: found
            .into_iter()
            .map(|i| (i.task.number, i.task.short_description))
            .collect(),
    };
    Ok(render(status, &page))
}

/// The new-problem form; `incident` (repeated) names the incidents to link, and the
/// statement and service start from them.
pub async fn problem_new(v: Visit, RawQuery(raw): RawQuery) -> PageResult {
    let mut form = FormData::parse(raw.as_deref().unwrap_or("").as_bytes());
    if form.get("short_description").is_none() {
        let found = named_incidents(&v, &form).await;
        if let Some(first) = found.first() {
            let statement = first.short_description.clone();
            form.0.push(("short_description".into(), statement));
            let service = |i: &Incident| i.service.as_ref().map(|s| s.id);
            if let Some(s) = first.service.as_ref() {
                if found.iter().all(|i| service(i) == Some(s.id)) {
                    form.0.push(("service".into(), s.name.clone()));
                }
            }
        }
    }
    new_view(&v, &form, None).await
}

/// The queue's "create problem from selection": the new-problem form with those incidents.
pub fn from_selection(numbers: &[String]) -> Response {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for n in numbers.iter().take(200) {
        s.append_pair("incident", n);
    }
    see_other(&format!("/problems/new?{}", s.finish()), None)
}

pub async fn problem_create(v: Visit, form: FormData) -> PageResult {
    let input = ProblemInput {
        task: super::task::new_input(&form),
        symptoms: form.get("symptoms"),
        major: Some(form.get("major").is_some()),
        incidents: form.all("incident"),
        ..Default::default()
    };
    match problems::create(&v.state.core, &v.ctx, input).await {
        Ok(p) => Ok(see_other(
            &format!("/problems/{}", p.number),
            Some("created"),
        )),
        Err(e) => new_view(&v, &form, Some(e)).await,
    }
}

// ----- one problem -----

/// A linked incident as the problem page lists it.
pub struct LinkedIncident {
    pub number: String,
    pub short_description: String,
    pub state: String,
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
    pub finished: bool,
    pub resolutions: Vec<(String, String)>,
    pub incidents: Vec<LinkedIncident>,
    pub open_incidents: i64,
    pub journal: Vec<JournalLine>,
    pub categories: Vec<(String, String)>,
}

async fn problem_view(
    v: &Visit,
    key: &str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let d = problems::detail(&v.state.core, &v.ctx, key).await?;
    let p = &d.problem;
    let mut chrome = v.chrome("problems", "problem-title");
    chrome.title = format!("{} {}", p.number, p.short_description);
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let next = p.state.next();
    let analysing = p.state == ProblemState::Assess;
    // Back to analysis from a fix or a resolution is a re-analysis, with its reason.
    let moves = [
        ("assess", ProblemState::Assess),
        ("analyze", ProblemState::RootCauseAnalysis),
        ("start_fix", ProblemState::FixInProgress),
        ("close", ProblemState::Closed),
    ]
    .into_iter()
    .filter(|(a, to)| next.contains(to) && (*a != "analyze" || analysing))
    .map(|(a, _)| (a.to_owned(), tt.get(&format!("problem-action-{a}"))))
    .collect();
    let resolution = |r: &ProblemResolution| {
        let label = tt.get(&format!("problem-resolution-{}", r.code()));
        (r.code().to_owned(), label)
    };
    let linked = |i: &Incident| LinkedIncident {
        number: i.number.clone(),
        short_description: i.short_description.clone(),
        state: state_label(tt, i.state),
    };
    let page = ProblemPage {
        moves,
        can_resolve: next.contains(&ProblemState::Resolved),
        can_reanalyze: next.contains(&ProblemState::RootCauseAnalysis) && !analysing,
        can_cancel: next.contains(&ProblemState::Canceled),
        finished: p.state.is_final(),
        resolutions: ProblemResolution::ALL.iter().map(resolution).collect(),
        incidents: d.incidents.iter().map(linked).collect(),
        open_incidents: d.open_incidents,
        journal: journal(tt, &v.viewer, &d.journal),
        categories: categories(&v.state).await,
        p: view(tt, &v.viewer, labels(&v.state).await, p),
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn problem_page(
    v: Visit,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    problem_view(&v, &key, &q, None).await
}

/// Back to the problem with a notice, or its page again with the reasons.
async fn done<T>(v: &Visit, key: &str, result: Result<T, AppError>, notice: &str) -> PageResult {
    let to = format!("/problems/{}", encode(key));
    after(result, &to, notice, async |e| {
        problem_view(v, key, &HashMap::new(), Some(e)).await
    })
    .await
}

pub async fn problem_update(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
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
    let result = problems::update(&v.state.core, &v.ctx, &key, input, form.version()).await;
    done(&v, &key, result, "saved").await
}

/// An action from a form: `action` names it, the other fields carry its details.
pub async fn problem_act(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
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
    let result = problems::act(&v.state.core, &v.ctx, &key, action, None).await;
    done(&v, &key, result, "saved").await
}

/// Links incidents by number (several separated by commas or spaces).
pub async fn problem_link(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let text = form.text("incident");
    let numbers = text.split([',', ' ', '\n']).map(str::trim);
    let numbers = numbers
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    let result = problems::link(&v.state.core, &v.ctx, &key, numbers).await;
    done(&v, &key, result, "linked").await
}

pub async fn problem_unlink(v: Visit, Path((key, incident)): Path<(String, String)>) -> PageResult {
    let result = problems::unlink(&v.state.core, &v.ctx, &key, &incident).await;
    done(&v, &key, result, "unlinked").await
}

// ----- trends -----

#[derive(Template)]
#[template(path = "problem_trends.html")]
pub struct TrendsPage<'a> {
    pub chrome: Chrome<'a>,
    pub from: String,
    pub to: String,
    pub by: String,
    pub bys: Vec<(String, String)>,
    pub rows: Vec<sigap_core::model::Trend>,
}

/// The trends' grouping and period in the viewer's time zone: `from` and `to` are days
/// (`to` included), the last 30 days by default. Returns the texts to show again and the
/// period's instants.
fn period(
    viewer: &Viewer,
    q: &HashMap<String, String>,
) -> (
    TrendBy,
    String,
    String,
    Result<(jiff::Timestamp, jiff::Timestamp), AppError>,
) {
    let by = q.get("by").and_then(|b| TrendBy::parse(b).ok());
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
    let at = |d: jiff::civil::Date| {
        d.to_zoned_datetime(tz.clone())
            .map(|z| z.timestamp())
            .map_err(|e| AppError::Internal(e.to_string()))
    };
    let bounds =
        from.and_then(|f| Ok((at(f)?, at(to?.saturating_add(jiff::Span::new().days(1)))?)));
    (by.unwrap_or(TrendBy::Service), from_text, to_text, bounds)
}

pub async fn trends_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let (by, from, to, bounds) = period(&v.viewer, &q);
    let mut chrome = v.chrome("problems", "trends-title");
    let rows = match bounds {
        Ok((f, t)) => problems::trends(&v.state.core, &v.ctx, by, f, t).await,
        Err(e) => Err(e),
    };
    let rows = or_refused(&mut chrome, rows)?;
    let tt = chrome.t;
    let bys = TrendBy::ALL.iter().map(|b| b.code());
    let page = TrendsPage {
        from,
        to,
        bys: bys
            .map(|b| (b.to_owned(), tt.get(&format!("trends-by-{b}"))))
            .collect(),
        by: by.code().to_owned(),
        rows,
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Opens a problem linked to the incidents of one line of the trends.
pub async fn trend_problem(v: Visit, form: FormData) -> PageResult {
    let q: HashMap<String, String> = form.0.iter().cloned().collect();
    let (by, _, _, bounds) = period(&v.viewer, &q);
    let (f, t) = bounds?;
    let key = form.text("key");
    let incidents = problems::trend_incidents(&v.state.core, &v.ctx, by, &key, f, t).await?;
    let tt = tr(&v.state, &v.viewer);
    let mut task = TaskInput {
        short_description: Some(tt.arg("trends-statement", "name", &form.text("name"))),
        ..Default::default()
    };
    let on = Some(Some(key));
    match by {
        TrendBy::Service => task.service = on,
        TrendBy::Ci => task.ci = on,
        TrendBy::Category => task.category = on,
    }
    let input = ProblemInput {
        task,
        incidents,
        ..Default::default()
    };
    let p = problems::create(&v.state.core, &v.ctx, input).await?;
    Ok(see_other(
        &format!("/problems/{}", p.number),
        Some("created"),
    ))
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

pub(crate) async fn of_incident(v: &Visit, i: &Incident) -> IncidentProblems {
    let linked = problems::of_incident(&v.state.core, &v.ctx, i.id)
        .await
        .unwrap_or_default();
    let known = problems::known_errors_for(&v.state.core, &v.ctx, i)
        .await
        .unwrap_or_default()
        .into_iter()
        .filter(|p| linked.as_ref().is_none_or(|(n, _)| *n != p.number))
        .map(|p| (p.task.number, p.task.short_description, p.ext.workaround))
        .collect();
    IncidentProblems { linked, known }
}

/// Opens a problem from an incident: its statement, service, CI, category, impact and
/// urgency; linked to it.
pub async fn incident_problem(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let i = sigap_core::incidents::get(&v.state.core, &v.ctx, &key).await?;
    let statement = form.opt("short_description");
    let input = ProblemInput {
        task: TaskInput {
            short_description: Some(statement.unwrap_or_else(|| i.short_description.clone())),
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
    let p = problems::create(&v.state.core, &v.ctx, input).await?;
    Ok(see_other(
        &format!("/problems/{}", p.number),
        Some("created"),
    ))
}

/// Applies a known error to an incident: linked, with its work-around.
pub async fn incident_known_error(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let problem = form.text("problem");
    problems::apply_known_error(&v.state.core, &v.ctx, &key, &problem).await?;
    Ok(see_other(
        &format!("/incidents/{}", encode(&key)),
        Some("linked"),
    ))
}
