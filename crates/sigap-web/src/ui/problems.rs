//! Pages of problem management: the problem list and the known errors, a problem with its
//! actions, linked incidents and journal, the trends of incidents no problem explains, and
//! the problem side of the incident page (its problem, the known errors beside it).

use super::incidents::{categories, labels};
use super::queue::{self, Cell, Spec};
use super::task::{JournalLine, TaskLine, after, choices, journal, or_refused, task_view};
use super::views::{Period, notice, refusal, when};
use super::*;
use axum::extract::{Path, Query, RawQuery};
use sigap_core::breakdown::{self, Bucket, Dimension};
use sigap_core::listing::ListParams;
use sigap_core::model::{Incident, Problem, ProblemExt};
use sigap_core::problems::{self, Action, ProblemInput};
use sigap_core::task::{self, Args, TaskInput};
use sigap_domain::process::problem::{ProblemResolution, ProblemState};
use sigap_domain::task::{MatrixPreset, StateModel};
use std::collections::HashMap;

super::task::task_view_type!(
    /// A problem as its page shows it: the task, its own fields, when its work-around was
    /// last published (empty if never) and its resolution's label.
    ProblemView {
        x: ProblemExt,
        published: String,
        resolution: String,
    }
);

fn view(tt: Tr<'_>, viewer: &Viewer, labels: MatrixPreset, p: &Problem) -> ProblemView {
    let (x, at) = (p.ext.clone(), p.ext.workaround_published_at);
    let resolution = x.resolution_code.as_ref();
    ProblemView {
        t: task_view(tt, viewer, labels, &p.task),
        published: at.map(|t| when(t, viewer)).unwrap_or_default(),
        resolution: resolution
            .map(|c| tt.get(&format!("problem-resolution-{c}")))
            .unwrap_or_default(),
        x,
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
    export: Some("/api/v1/problems/export"),
    creates: true,
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
        task::act::<ProblemExt>(&v.state.core, &v.ctx, number, Action::Assess, None).await?;
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
    pub incidents: Vec<TaskLine>,
    pub open_incidents: i64,
    pub journal: Vec<JournalLine>,
    pub categories: Vec<(String, String)>,
    /// Its known error's article, or the bases to publish it in.
    pub knowledge: super::knowledge_tasks::ProblemKnowledge,
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
    let page = ProblemPage {
        moves,
        can_resolve: next.contains(&ProblemState::Resolved),
        can_reanalyze: next.contains(&ProblemState::RootCauseAnalysis) && !analysing,
        can_cancel: next.contains(&ProblemState::Canceled),
        finished: p.state.is_final(),
        resolutions: choices(
            tt,
            "problem-resolution",
            ProblemResolution::ALL.iter().map(|r| r.code()),
        ),
        incidents: d.incidents.iter().map(|i| TaskLine::of(tt, i)).collect(),
        open_incidents: d.open_incidents,
        journal: journal(tt, &v.viewer, &d.journal),
        categories: categories(&v.state).await,
        knowledge: super::knowledge_tasks::of_problem(v, p).await,
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
pub(crate) async fn done<T>(
    v: &Visit,
    key: &str,
    result: Result<T, AppError>,
    notice: &str,
) -> PageResult {
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
    let result =
        task::update::<ProblemExt>(&v.state.core, &v.ctx, &key, input, form.version()).await;
    done(&v, &key, result, "saved").await
}

/// An action from a form: `action` names it, the other fields carry its details.
pub async fn problem_act(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let name = form.opt("action").unwrap_or_else(|| "work_note".into());
    let result = match Action::parse(&name, &Args(form.0.clone())) {
        Ok(action) => task::act::<ProblemExt>(&v.state.core, &v.ctx, &key, action, None).await,
        Err(e) => Err(e),
    };
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
    pub rows: Vec<Bucket>,
}

/// The trends asked for: their grouping and period.
fn trends_of(v: &Visit, q: &HashMap<String, String>) -> (Dimension, Period) {
    let by = q.get("by").and_then(|b| Dimension::parse(b).ok());
    (by.unwrap_or(Dimension::Service), Period::of(&v.viewer, q))
}

pub async fn trends_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let (by, Period { from, to, bounds }) = trends_of(&v, &q);
    let mut chrome = v.chrome("problems", "trends-title");
    let rows = match bounds {
        Ok((f, t)) => {
            breakdown::lines(&v.state.core, &v.ctx, problems::trends(by, f, t), false).await
        }
        Err(e) => Err(e),
    };
    let rows = or_refused(&mut chrome, rows)?;
    let tt = chrome.t;
    let page = TrendsPage {
        from,
        to,
        bys: choices(tt, "trends-by", Dimension::ALL.iter().map(|b| b.code())),
        by: by.code().to_owned(),
        rows: rows.into_iter().map(|(b, _)| b).collect(),
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Opens a problem linked to the incidents of one line of the trends.
pub async fn trend_problem(v: Visit, form: FormData) -> PageResult {
    let (by, period) = trends_of(&v, &form.0.iter().cloned().collect());
    let (f, t) = period.bounds?;
    let key = form.text("key");
    let trends = problems::trends(by, f, t);
    let incidents = breakdown::numbers(&v.state.core, &v.ctx, trends, &key).await?;
    let tt = tr(&v.state, &v.viewer);
    let mut task = TaskInput {
        short_description: Some(tt.arg("trends-statement", "name", &form.text("name"))),
        ..Default::default()
    };
    let on = Some(Some(key));
    match by {
        Dimension::Service => task.service = on,
        Dimension::Ci => task.ci = on,
        Dimension::Category => task.category = on,
    }
    open_problem(&v, task, incidents).await
}

/// Opens a problem about `task`, linked to `incidents`, and shows it.
async fn open_problem(v: &Visit, task: TaskInput, incidents: Vec<String>) -> PageResult {
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
    let mut task = TaskInput::like(&i.task);
    task.short_description = form.opt("short_description").or(task.short_description);
    open_problem(&v, task, vec![i.number.clone()]).await
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
