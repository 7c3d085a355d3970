//! Pages of change management: the queues of changes and change tasks, the new-change form
//! (its type and template), a change's page (its fields and window, the risk questions with
//! the risk they give and the impact of its CIs, its conflicts, approvals, the moves its type
//! and approvals allow, its tasks, links, CAB decisions and journal), and a change task's
//! page. Also the form helpers the other pages of change management share: field errors
//! shown next to their fields, and times typed in the viewer's zone.

use super::queue::{self, Cell, Spec};
use super::requests::{ApprovalLine, approval_line};
use super::task::{JournalLine, TaskLine, after, choices, journal, state_label, task_view};
use super::views::{notice, when};
use super::*;
use axum::extract::{Path, Query, RawQuery};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sigap_core::changes::{self, Action, ChangeDetail, ChangeInput, LinkKind};
use sigap_core::listing::ListParams;
use sigap_core::model::{Change, ChangeExt, ChangeTask, ChangeTaskExt};
use sigap_core::requests::TaskAction;
use sigap_core::task::{self, Args};
use sigap_domain::process::change::{
    ChangeApproval, ChangeOutcome, ChangeState, ChangeType, Questionnaire, RiskLevel,
};
use sigap_domain::process::request::CatalogTaskState;
use sigap_domain::task::StateModel;
use std::collections::{BTreeMap, HashMap};

// ----- form helpers of change management's pages -----

/// A refused form's field errors, each shown next to its field; what no field of the form
/// shows goes to the top of the page.
#[derive(Default)]
pub struct FieldErrors(Vec<(String, String)>);

impl FieldErrors {
    /// The page's status and the errors of a refused form: those of a field the form has
    /// (`known`: a field, or a group of fields `name.…`) beside it, with a summary on top;
    /// the others on top. A form that cannot be corrected (not allowed, a conflict) answers
    /// with the status its error calls for.
    pub(crate) fn split(
        chrome: &mut Chrome<'_>,
        refused: Option<AppError>,
        known: &[&str],
    ) -> (StatusCode, FieldErrors) {
        let Some(e) = refused else {
            return (StatusCode::OK, FieldErrors::default());
        };
        let tt = chrome.t;
        let mut placed = Vec::new();
        let mut rest = Vec::new();
        match &e {
            AppError::Validation(list) => {
                for f in list {
                    let shown = known
                        .iter()
                        .any(|k| f.field == *k || f.field.starts_with(&format!("{k}.")));
                    let one = AppError::Validation(vec![f.clone()]);
                    if shown {
                        let full = messages(tt, &one).join(" ");
                        placed.push((f.field.clone(), beside(&full)));
                    } else {
                        rest.extend(messages(tt, &one));
                    }
                }
            }
            other => rest = messages(tt, other),
        }
        if !placed.is_empty() {
            rest.insert(0, tt.get("error-invalid"));
        }
        chrome.errors = rest;
        let status = match e {
            AppError::Forbidden | AppError::Unauthenticated => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Conflict { .. } => StatusCode::CONFLICT,
            AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
            _ => StatusCode::UNPROCESSABLE_ENTITY,
        };
        (status, FieldErrors(placed))
    }

    /// The errors of one field.
    pub fn get(&self, field: &str) -> String {
        self.joined(|f| f == field)
    }

    /// The errors of a field and of the fields under it (`cis` and `cis.0`).
    pub fn under(&self, field: &str) -> String {
        let prefix = format!("{field}.");
        self.joined(|f| f == field || f.starts_with(&prefix))
    }

    /// The attributes tying an input to its error: invalid, described by it.
    pub fn attrs(&self, field: &str) -> String {
        if self.under(field).is_empty() {
            String::new()
        } else {
            format!(
                " aria-invalid=\"true\" aria-describedby=\"err-{}\"",
                dom_id(field)
            )
        }
    }

    /// The element id of a field's error.
    pub fn id(&self, field: &str) -> String {
        format!("err-{}", dom_id(field))
    }

    fn joined(&self, pick: impl Fn(&str) -> bool) -> String {
        self.0
            .iter()
            .filter(|(f, _)| pick(f))
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A field name as an element id: letters, digits, `-` and `_`.
fn dom_id(field: &str) -> String {
    field
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// A message shown beside its field: the field's label is there already, so the message
/// ("Planned end: before the start.") loses its own.
fn beside(full: &str) -> String {
    let rest = full.split_once(": ").map_or(full, |(_, r)| r);
    let mut chars = rest.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => full.to_owned(),
    }
}

/// A refused form's errors with their fields renamed `{prefix}.{field}`, so that they show
/// beside that form's fields and not beside another form's of the same name.
pub(crate) fn prefixed(e: AppError, prefix: &str) -> AppError {
    match e {
        AppError::Validation(list) => AppError::Validation(
            list.into_iter()
                .map(|mut f| {
                    f.field = format!("{prefix}.{}", f.field);
                    f
                })
                .collect(),
        ),
        other => other,
    }
}

/// The viewer's time zone.
pub(crate) fn zone(viewer: &Viewer) -> TimeZone {
    viewer
        .principal
        .as_ref()
        .and_then(|p| TimeZone::get(&p.time_zone).ok())
        .unwrap_or(TimeZone::UTC)
}

/// A time as a `datetime-local` input shows it, in the viewer's zone.
pub(crate) fn local_value(t: Option<Timestamp>, viewer: &Viewer) -> String {
    t.map(|t| {
        t.to_zoned_datetime(zone(viewer))
            .strftime("%Y-%m-%dT%H:%M")
            .to_string()
    })
    .unwrap_or_default()
}

/// A time typed in a form: a `datetime-local` value in the viewer's zone (or RFC 3339);
/// empty is none.
pub(crate) fn local_time(
    viewer: &Viewer,
    field: &str,
    text: &str,
) -> Result<Option<Timestamp>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(Some(t));
    }
    let bad = || AppError::field(field, "invalid_time", "a date and time: YYYY-MM-DDTHH:MM");
    let at: jiff::civil::DateTime = text.parse().map_err(|_| bad())?;
    at.to_zoned_datetime(zone(viewer))
        .map(|z| Some(z.timestamp()))
        .map_err(|_| bad())
}

/// A window's two ends in the viewer's zone, for the pages: `2025-03-01 09:00 – 11:00 WIB`.
pub(crate) fn window(viewer: &Viewer, start: Option<Timestamp>, end: Option<Timestamp>) -> String {
    match (start, end) {
        (Some(s), Some(e)) => {
            let z = zone(viewer);
            let (s, e) = (s.to_zoned_datetime(z.clone()), e.to_zoned_datetime(z));
            let end = if s.date() == e.date() {
                e.strftime("%H:%M %Z").to_string()
            } else {
                e.strftime("%Y-%m-%d %H:%M %Z").to_string()
            };
            format!("{} – {end}", s.strftime("%Y-%m-%d %H:%M"))
        }
        (Some(s), None) => when(s, viewer),
        _ => String::new(),
    }
}

/// A question's or answer's text in the viewer's language.
fn in_language(tt: Tr<'_>, en: &str, id: &str) -> String {
    if tt.locale == sigap_domain::Locale::Id && !id.trim().is_empty() {
        id.to_owned()
    } else {
        en.to_owned()
    }
}

pub(crate) fn risk_label(tt: Tr<'_>, r: Option<RiskLevel>) -> String {
    r.map(|r| tt.get(&format!("change-risk-{}", r.code())))
        .unwrap_or_default()
}

pub(crate) fn type_label(tt: Tr<'_>, t: ChangeType) -> String {
    tt.get(&format!("change-type-{}", t.code()))
}

// ----- the queues -----

/// The change queue.
pub struct Changes;

const CHANGES: Spec = Spec {
    name: "changes",
    noun: "change",
    queues: &[
        "open",
        "mine",
        "my_groups",
        "unassigned",
        "awaiting_approval",
        "scheduled",
        "emergency",
        "all",
    ],
    sorts: &["-opened_at", "priority,opened_at", "-updated_at", "number"],
    columns: &[
        "number",
        "short_description",
        "change_type",
        "state",
        "risk",
        "approval",
        "planned_start",
        "assignment_group",
        "assigned_to",
        "planned_end",
        "service",
        "configuration_item",
        "priority",
        "opened",
        "updated",
        "sla",
    ],
    shown: 9,
    flag: None,
    bulk: &[("assess", "change-action-assess")],
    export: None,
    creates: true,
};

impl queue::Queue for Changes {
    const SPEC: Spec = CHANGES;
    async fn view(v: &Visit, q: &HashMap<String, String>, errors: Vec<String>) -> PageResult {
        let name = queue::queue(&CHANGES, q);
        let mut query = queue::task_query(q);
        let mut change_type = queue::get(q, "change_type");
        match name.as_str() {
            "mine" | "my_groups" | "unassigned" => query.queue = Some(name.clone()),
            "awaiting_approval" => query.state = Some("authorize".into()),
            "scheduled" => query.state = Some("scheduled".into()),
            "emergency" => {
                change_type = "emergency".into();
                query.state = query.state.or_else(|| Some("open".into()));
            }
            "all" => {}
            _ => query.state = query.state.or_else(|| Some("open".into())),
        }
        let params = ListParams {
            cursor: q.get("cursor").cloned(),
            sort: Some(queue::sort(&CHANGES, q)),
            limit: Some(50),
        };
        let risk = queue::get(q, "risk");
        let (core, ctx) = (&v.state.core, &v.ctx);
        let listed = changes::list(core, ctx, query, Some(&change_type), Some(&risk), &params);
        let listed = listed.await;
        let tt = tr(&v.state, &v.viewer);
        let links = [
            ("/changes/calendar", "change-calendar-title"),
            ("/change_tasks", "change_tasks-title"),
            ("/cab", "cab-title"),
        ];
        let links = links.map(|(h, l)| (h.to_owned(), tt.get(l))).into();
        let viewer = &v.viewer;
        let own = |c: &str, x: &Change| {
            let e = &x.ext;
            Some(match c {
                "change_type" => Cell::text(&type_label(tt, e.change_type)),
                "risk" => Cell::text(&risk_label(tt, e.risk)),
                "approval" => Cell::text(&tt.get(&format!("approval-{}", e.approval.code()))),
                "planned_start" => {
                    Cell::text(&e.planned_start.map(|t| when(t, viewer)).unwrap_or_default())
                }
                "planned_end" => {
                    Cell::text(&e.planned_end.map(|t| when(t, viewer)).unwrap_or_default())
                }
                _ => return None,
            })
        };
        queue::page(v, &CHANGES, q, listed, errors, links, own).await
    }
    /// Assesses a ticked change.
    async fn act(v: &Visit, _name: &str, number: &str) -> Result<(), AppError> {
        task::act::<ChangeExt>(&v.state.core, &v.ctx, number, Action::Assess, None).await?;
        Ok(())
    }
}

/// The change task queue.
pub struct ChangeTasks;

const CHANGE_TASKS: Spec = Spec {
    name: "change_tasks",
    noun: "change_task",
    queues: &["my_groups", "mine", "unassigned", "open", "all"],
    sorts: &["-opened_at", "priority,opened_at", "-updated_at", "number"],
    columns: &[
        "number",
        "short_description",
        "parent",
        "state",
        "assignment_group",
        "assigned_to",
        "opened",
        "updated",
        "service",
        "configuration_item",
        "sla",
    ],
    shown: 8,
    flag: None,
    bulk: &[("start", "catalog-task-action-start")],
    export: None,
    creates: false,
};

impl queue::Queue for ChangeTasks {
    const SPEC: Spec = CHANGE_TASKS;
    async fn view(v: &Visit, q: &HashMap<String, String>, errors: Vec<String>) -> PageResult {
        let name = queue::queue(&CHANGE_TASKS, q);
        let mut query = queue::task_query(q);
        match name.as_str() {
            "mine" | "my_groups" | "unassigned" => query.queue = Some(name),
            "all" => {}
            _ => query.state = query.state.or_else(|| Some("open".into())),
        }
        let params = ListParams {
            cursor: q.get("cursor").cloned(),
            sort: Some(queue::sort(&CHANGE_TASKS, q)),
            limit: Some(50),
        };
        let listed = changes::list_tasks(&v.state.core, &v.ctx, query, &params).await;
        let tt = tr(&v.state, &v.viewer);
        let links = vec![("/changes".to_owned(), tt.get("changes-title"))];
        let own = |c: &str, t: &ChangeTask| match c {
            "parent" => t.parent.as_ref().map(|p| Cell {
                href: Some(format!("/changes/{}", p.name)),
                ..Cell::text(&p.name)
            }),
            _ => None,
        };
        queue::page(v, &CHANGE_TASKS, q, listed, errors, links, own).await
    }
    async fn act(v: &Visit, name: &str, number: &str) -> Result<(), AppError> {
        let action = TaskAction::parse(name, &Args::default())?;
        task::act::<ChangeTaskExt>(&v.state.core, &v.ctx, number, action, None).await?;
        Ok(())
    }
}

// ----- a new change -----

/// The fields of the new-change form, for its errors.
const NEW_FIELDS: &[&str] = &[
    "change_type",
    "template",
    "short_description",
    "description",
    "reason",
    "justification",
    "implementation_plan",
    "backout_plan",
    "test_plan",
    "planned_start",
    "planned_end",
    "impact",
    "urgency",
    "category",
    "assignment_group",
    "service",
    "configuration_item",
    "cis",
];

#[derive(Template)]
#[template(path = "change_new.html")]
pub struct NewChangePage<'a> {
    pub chrome: Chrome<'a>,
    pub draft: Draft,
    pub errs: FieldErrors,
    /// (code, label, help).
    pub types: Vec<(String, String, String)>,
    /// The type chosen: the draft's, else normal.
    pub change_type: String,
    /// The approved templates: (name, what it does).
    pub templates: Vec<(String, String)>,
    pub categories: Vec<(String, String)>,
    pub groups: Vec<String>,
}

async fn new_view(v: &Visit, form: &FormData, refused: Option<AppError>) -> PageResult {
    v.ctx.principal.require(sigap_domain::Role::Agent)?;
    let mut chrome = v.chrome("changes", "changes-new");
    let (status, errs) = FieldErrors::split(&mut chrome, refused, NEW_FIELDS);
    let tt = chrome.t;
    let templates = changes::templates(&v.state.core, &v.ctx)
        .await?
        .into_iter()
        .filter(|t| t.template.state == "approved")
        .map(|t| {
            let about = t.content.short_description.clone().unwrap_or_default();
            (t.template.name, about)
        })
        .collect();
    let change_type = form
        .opt("change_type")
        .filter(|t| ChangeType::parse(t).is_ok())
        .unwrap_or_else(|| ChangeType::Normal.code().to_owned());
    let page = NewChangePage {
        types: [
            ChangeType::Normal,
            ChangeType::Standard,
            ChangeType::Emergency,
        ]
        .iter()
        .map(|t| {
            let c = t.code();
            (
                c.to_owned(),
                type_label(tt, *t),
                tt.get(&format!("change-type-{c}-help")),
            )
        })
        .collect(),
        change_type,
        templates,
        categories: super::incidents::categories(&v.state).await,
        groups: super::incidents::active_group_names(&v.state, &v.ctx).await,
        draft: Draft::from_form(form),
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

/// The new-change form; `template` (a name) and `change_type` may be given in the query.
pub async fn change_new(v: Visit, RawQuery(raw): RawQuery) -> PageResult {
    let mut form = FormData::parse(raw.as_deref().unwrap_or("").as_bytes());
    if form.opt("template").is_some() && form.get("change_type").is_none() {
        form.0.push(("change_type".into(), "standard".into()));
    }
    new_view(&v, &form, None).await
}

/// The CIs typed in a form: one a line (or separated by commas).
fn ci_keys(text: &str) -> Vec<String> {
    text.split(['\n', ','])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A window's time from a form as a change's input takes it: RFC 3339, or empty.
fn window_input(v: &Visit, form: &FormData, field: &str) -> Result<Option<String>, AppError> {
    Ok(local_time(&v.viewer, field, &form.text(field))?.map(|t| t.to_string()))
}

/// Both ends of the window typed in a form; the errors of both at once.
fn window_inputs(v: &Visit, form: &FormData) -> Result<(Option<String>, Option<String>), AppError> {
    let start = window_input(v, form, "planned_start");
    let end = window_input(v, form, "planned_end");
    match (start, end) {
        (Ok(s), Ok(e)) => Ok((s, e)),
        (Err(AppError::Validation(mut a)), Err(AppError::Validation(b))) => {
            a.extend(b);
            Err(AppError::Validation(a))
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

pub async fn change_create(v: Visit, form: FormData) -> PageResult {
    let input = async {
        let (start, end) = window_inputs(&v, &form)?;
        let change_type = form.opt("change_type");
        let standard = change_type.as_deref() == Some("standard");
        let cis = ci_keys(&form.text("cis"));
        Ok::<_, AppError>(ChangeInput {
            task: super::task::new_input(&form),
            template: form.opt("template").filter(|_| standard),
            change_type,
            cis: (!cis.is_empty()).then_some(cis),
            reason: form.opt("reason"),
            justification: form.opt("justification"),
            implementation_plan: form.opt("implementation_plan"),
            backout_plan: form.opt("backout_plan"),
            test_plan: form.opt("test_plan"),
            planned_start: start.map(Some),
            planned_end: end.map(Some),
            ..Default::default()
        })
    }
    .await;
    let result = match input {
        Ok(input) => changes::create(&v.state.core, &v.ctx, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(c) => Ok(see_other(
            &format!("/changes/{}", c.number),
            Some("created"),
        )),
        Err(e) => new_view(&v, &form, Some(e)).await,
    }
}

// ----- one change -----

super::task::task_view_type!(
    /// A change as its page shows it: the task, its own fields and their labels.
    ChangeView {
        x: ChangeExt,
        change_type: String,
        risk: String,
        risk_code: String,
        impact_risk: String,
        approval: String,
        approval_code: String,
        window: String,
        actual: String,
        outcome: String,
        /// The window as the form's inputs show it.
        start_value: String,
        end_value: String,
        template: String,
        /// The request item it was ordered by, if any.
        parent_number: String,
    }
);

/// A risk question with its answers: (key, label, weight, chosen).
pub struct QuestionView {
    pub key: String,
    pub label: String,
    pub choices: Vec<(String, String, u32, bool)>,
    pub error: String,
}

pub struct ConflictLine {
    pub kind: String,
    pub label: String,
    pub number: String,
    pub title: String,
    pub ci: String,
    pub blackout: String,
    pub window: String,
}

pub struct ChangeTaskLine {
    pub number: String,
    pub short_description: String,
    pub state: String,
    pub state_code: String,
    pub order: i64,
    pub group: String,
    pub assignee: String,
}

pub struct DecisionLine {
    pub meeting: String,
    pub title: String,
    pub when: String,
    pub decision: String,
    pub code: String,
    pub comment: String,
    pub by: String,
}

/// The stages of a change's type, for the path shown on its page: (label, current, passed).
fn path_of(tt: Tr<'_>, c: &Change) -> Vec<(String, bool, bool)> {
    let path = c.ext.change_type.path();
    let at = path.iter().position(|s| *s == c.state);
    path.iter()
        .enumerate()
        .map(|(i, s)| {
            let passed = at.is_some_and(|a| i < a);
            (state_label(tt, *s), Some(i) == at, passed)
        })
        .collect()
}

fn questions(
    tt: Tr<'_>,
    q: &Questionnaire,
    answers: &BTreeMap<String, String>,
    errs: &FieldErrors,
) -> Vec<QuestionView> {
    q.questions
        .iter()
        .map(|question| QuestionView {
            key: question.key.clone(),
            label: in_language(tt, &question.label, &question.label_id),
            choices: question
                .choices
                .iter()
                .map(|c| {
                    let chosen = answers.get(&question.key) == Some(&c.key);
                    let label = in_language(tt, &c.label, &c.label_id);
                    (c.key.clone(), label, c.weight, chosen)
                })
                .collect(),
            error: errs.get(&format!("risk_answers.{}", question.key)),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "change.html")]
pub struct ChangePage<'a> {
    pub chrome: Chrome<'a>,
    pub c: ChangeView,
    pub errs: FieldErrors,
    pub path: Vec<(String, bool, bool)>,
    /// The moves that take no details: (action, label).
    pub moves: Vec<(String, String)>,
    pub can_schedule: bool,
    pub can_revise: bool,
    pub can_review: bool,
    pub can_close: bool,
    pub can_cancel: bool,
    pub finished: bool,
    /// Whether the type is still chosen (while new).
    pub new: bool,
    /// Whether the window and the CIs may change now.
    pub plannable: bool,
    /// Whether the risk questions are answered now.
    pub assessable: bool,
    pub can_add_tasks: bool,
    pub types: Vec<(String, String)>,
    pub outcomes: Vec<(String, String)>,
    pub questions: Vec<QuestionView>,
    pub score: String,
    /// Services reached: (id, name, criticality).
    pub services: Vec<(String, String, i64)>,
    pub offerings: Vec<String>,
    pub customers: Vec<String>,
    pub reached: i64,
    pub truncated: bool,
    /// The CIs it affects: (id, name, class).
    pub cis: Vec<(String, String, String)>,
    /// The configuration item as the form takes it (class/name), and the other CIs.
    pub ci_value: String,
    pub cis_value: String,
    pub conflicts: Vec<ConflictLine>,
    pub approvals: Vec<ApprovalLine>,
    /// An approval of it waits on the viewer.
    pub mine_waiting: bool,
    pub tasks: Vec<ChangeTaskLine>,
    pub groups: Vec<String>,
    pub problems: Vec<TaskLine>,
    pub waiting: Vec<TaskLine>,
    pub caused: Vec<TaskLine>,
    pub during: Vec<TaskLine>,
    pub link_kinds: Vec<(String, String)>,
    pub decisions: Vec<DecisionLine>,
    pub journal: Vec<JournalLine>,
    pub categories: Vec<(String, String)>,
}

/// The fields of the change page's forms, for their errors.
const PAGE_FIELDS: &[&str] = &[
    "short_description",
    "description",
    "change_type",
    "reason",
    "justification",
    "implementation_plan",
    "backout_plan",
    "test_plan",
    "planned_start",
    "planned_end",
    "impact",
    "urgency",
    "assignment_group",
    "assigned_to",
    "service",
    "configuration_item",
    "cis",
    "category",
    "risk_answers",
    "conflict_reason",
    "task",
    "link",
];

fn view(
    tt: Tr<'_>,
    viewer: &Viewer,
    labels: sigap_domain::task::MatrixPreset,
    d: &ChangeDetail,
) -> ChangeView {
    let c = &d.change;
    let x = c.ext.clone();
    ChangeView {
        t: task_view(tt, viewer, labels, c),
        change_type: type_label(tt, x.change_type),
        risk: risk_label(tt, x.risk),
        risk_code: x.risk.map(|r| r.code().to_owned()).unwrap_or_default(),
        impact_risk: risk_label(tt, x.impact_risk),
        approval: tt.get(&format!("approval-{}", x.approval.code())),
        approval_code: x.approval.code().to_owned(),
        window: window(viewer, x.planned_start, x.planned_end),
        actual: window(viewer, x.actual_start, x.actual_end),
        outcome: x
            .outcome
            .map(|o| tt.get(&format!("change-outcome-{}", o.code())))
            .unwrap_or_default(),
        start_value: local_value(x.planned_start, viewer),
        end_value: local_value(x.planned_end, viewer),
        template: d.template.clone().unwrap_or_default(),
        parent_number: c
            .parent
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        x,
    }
}

async fn change_view(
    v: &Visit,
    key: &str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let d = changes::detail(&v.state.core, &v.ctx, key).await?;
    let c = &d.change;
    let mut chrome = v.chrome("changes", "change-title");
    chrome.title = format!("{} {}", c.number, c.short_description);
    notice(&mut chrome, q);
    let (status, errs) = FieldErrors::split(&mut chrome, refused, PAGE_FIELDS);
    let tt = chrome.t;
    let (t, state, approval) = (c.ext.change_type, c.state, c.ext.approval);
    let next = t.next(state);
    let authorized = matches!(
        approval,
        ChangeApproval::Approved | ChangeApproval::NotRequired
    );
    let asking = t.needs_approval()
        && ((next.contains(&ChangeState::Authorize) && state != ChangeState::Authorize)
            || (state == ChangeState::Authorize && approval == ChangeApproval::Rejected));
    let mut moves = Vec::new();
    if next.contains(&ChangeState::Assess) && state == ChangeState::New {
        moves.push("assess");
    }
    if asking {
        moves.push("request_approval");
    }
    if next.contains(&ChangeState::Implement) && authorized {
        moves.push("implement");
    }
    let can_schedule = match t {
        ChangeType::Standard => state == ChangeState::New,
        _ => state == ChangeState::Authorize && approval == ChangeApproval::Approved,
    };
    let plannable = match state {
        ChangeState::New | ChangeState::Assess => true,
        ChangeState::Authorize => approval != ChangeApproval::Requested,
        ChangeState::Scheduled => t == ChangeType::Standard,
        _ => false,
    };
    let assessable = match state {
        ChangeState::New | ChangeState::Assess => true,
        ChangeState::Authorize => {
            matches!(
                approval,
                ChangeApproval::NotRequested | ChangeApproval::Rejected
            )
        }
        _ => false,
    };
    let me = v.ctx.principal.person_id;
    let line = |t: &sigap_core::model::Incident| TaskLine::of(tt, t);
    let main_ci = c.ci.as_ref().map(|x| x.id);
    let key_of = |x: &sigap_core::model::CiRef| format!("{}/{}", x.class_code, x.name);
    let page = ChangePage {
        path: path_of(tt, c),
        moves: moves
            .into_iter()
            .map(|a| (a.to_owned(), tt.get(&format!("change-action-{a}"))))
            .collect(),
        can_schedule,
        can_revise: next.contains(&ChangeState::Assess) && state != ChangeState::New,
        can_review: next.contains(&ChangeState::Review),
        can_close: next.contains(&ChangeState::Closed),
        can_cancel: next.contains(&ChangeState::Canceled),
        finished: state.is_final(),
        new: state == ChangeState::New,
        plannable,
        assessable,
        can_add_tasks: matches!(
            state,
            ChangeState::New
                | ChangeState::Assess
                | ChangeState::Authorize
                | ChangeState::Scheduled
                | ChangeState::Implement
        ),
        types: ChangeType::ALL
            .iter()
            .map(|x| (x.code().to_owned(), type_label(tt, *x)))
            .collect(),
        outcomes: choices(
            tt,
            "change-outcome",
            ChangeOutcome::ALL.iter().map(|o| o.code()),
        ),
        questions: questions(tt, &d.model.questionnaire, &d.answers, &errs),
        score: c.ext.risk_score.map(|s| s.to_string()).unwrap_or_default(),
        services: d
            .impact
            .services
            .iter()
            .map(|(id, name, crit)| (id.to_string(), name.clone(), i64::from(*crit)))
            .collect(),
        offerings: d.impact.offerings.iter().map(|o| o.1.clone()).collect(),
        customers: d.impact.customers.clone(),
        reached: d.reached,
        truncated: d.impact.truncated,
        cis: d
            .cis
            .iter()
            .map(|x| (x.id.to_string(), x.name.clone(), x.class_code.clone()))
            .collect(),
        ci_value: d
            .cis
            .iter()
            .find(|x| Some(x.id) == main_ci)
            .map(key_of)
            .or_else(|| c.ci.as_ref().map(|x| x.name.clone()))
            .unwrap_or_default(),
        cis_value: d
            .cis
            .iter()
            .filter(|x| Some(x.id) != main_ci)
            .map(key_of)
            .collect::<Vec<_>>()
            .join("\n"),
        conflicts: d
            .conflicts
            .iter()
            .map(|k| ConflictLine {
                kind: k.kind.code().to_owned(),
                label: tt.get(&format!("change-conflict-{}", k.kind.code())),
                number: k.change.as_ref().map(|x| x.1.clone()).unwrap_or_default(),
                title: k.change.as_ref().map(|x| x.2.clone()).unwrap_or_default(),
                ci: k.ci.as_ref().map(|x| x.name.clone()).unwrap_or_default(),
                blackout: k.blackout.as_ref().map(|x| x.1.clone()).unwrap_or_default(),
                window: k
                    .window
                    .map(|(s, e)| window(&v.viewer, Some(s), Some(e)))
                    .unwrap_or_default(),
            })
            .collect(),
        approvals: d
            .approvals
            .iter()
            .map(|a| approval_line(tt, &v.viewer, a))
            .collect(),
        mine_waiting: d.approvals.iter().any(|a| {
            Some(a.approver.id) == me && a.state == sigap_domain::approval::ApprovalState::Requested
        }),
        tasks: d
            .tasks
            .iter()
            .map(|x| ChangeTaskLine {
                number: x.number.clone(),
                short_description: x.short_description.clone(),
                state: state_label(tt, x.state),
                state_code: x.state.code().to_owned(),
                order: x.ext.ord,
                group: x
                    .assignment_group
                    .as_ref()
                    .map(|g| g.name.clone())
                    .unwrap_or_default(),
                assignee: x
                    .assigned_to
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        groups: super::incidents::active_group_names(&v.state, &v.ctx).await,
        problems: d.problems.iter().map(|p| TaskLine::of(tt, p)).collect(),
        waiting: d.waiting.iter().map(line).collect(),
        caused: d.caused.iter().map(line).collect(),
        during: d.during.iter().map(line).collect(),
        link_kinds: choices(
            tt,
            "change-link",
            ["problems", "incidents", "caused_incidents"],
        ),
        decisions: d
            .decisions
            .iter()
            .map(|(x, title, at)| DecisionLine {
                meeting: x.meeting.to_string(),
                title: title.clone(),
                when: when(*at, &v.viewer),
                decision: tt.get(&format!("cab-decision-{}", x.decision)),
                code: x.decision.clone(),
                comment: x.comment.clone(),
                by: x
                    .recorded_by
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
            })
            .collect(),
        journal: journal(tt, &v.viewer, &d.journal),
        categories: super::incidents::categories(&v.state).await,
        c: view(tt, &v.viewer, super::incidents::labels(&v.state).await, &d),
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn change_page(
    v: Visit,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    change_view(&v, &key, &q, None).await
}

/// Back to the change with a notice, or its page again with the reasons.
async fn done<T>(v: &Visit, key: &str, result: Result<T, AppError>, notice: &str) -> PageResult {
    let to = format!("/changes/{}", encode(key));
    after(result, &to, notice, async |e| {
        change_view(v, key, &HashMap::new(), Some(e)).await
    })
    .await
}

/// A text field of the edit form, sent on only when it differs from what the form was
/// shown with (`{name}_was`).
fn edited(form: &FormData, name: &str) -> Option<String> {
    let now = form.get(name)?;
    let was = form.get(&format!("{name}_was")).unwrap_or_default();
    (now.trim() != was.trim()).then_some(now)
}

/// Saves a change's fields. The window, the CIs and the type are sent only when they
/// changed: they are locked once the change is put to its approvers.
pub async fn change_update(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let input = async {
        let mut start = None;
        let mut end = None;
        if edited(&form, "planned_start").is_some() || edited(&form, "planned_end").is_some() {
            let (s, e) = window_inputs(&v, &form)?;
            start = Some(s);
            end = Some(e);
        }
        Ok::<_, AppError>(ChangeInput {
            task: super::task::edit_input(&form),
            change_type: edited(&form, "change_type"),
            cis: form
                .get("cis")
                .map(|t| ci_keys(&t))
                .filter(|now| *now != ci_keys(&form.text("cis_was"))),
            reason: form.get("reason"),
            justification: form.get("justification"),
            implementation_plan: form.get("implementation_plan"),
            backout_plan: form.get("backout_plan"),
            test_plan: form.get("test_plan"),
            planned_start: start,
            planned_end: end,
            ..Default::default()
        })
    }
    .await;
    let result = match input {
        Ok(input) => {
            let (core, ctx) = (&v.state.core, &v.ctx);
            task::update::<ChangeExt>(core, ctx, &key, input, form.version()).await
        }
        Err(e) => Err(e),
    };
    done(&v, &key, result, "saved").await
}

/// Answers the risk questions (`risk.{question}`): the risk is computed again.
pub async fn change_risk(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let answers: BTreeMap<String, String> = form
        .0
        .iter()
        .filter_map(|(k, a)| k.strip_prefix("risk.").map(|q| (q.to_owned(), a.clone())))
        .collect();
    let d = changes::detail(&v.state.core, &v.ctx, &key).await?;
    let missing: Vec<sigap_core::FieldError> = d
        .model
        .questionnaire
        .questions
        .iter()
        .filter(|q| !answers.contains_key(&q.key))
        .map(|q| {
            let field = format!("risk_answers.{}", q.key);
            sigap_core::FieldError::new(field, "required", "answer this question")
        })
        .collect();
    let result = if missing.is_empty() {
        let input = ChangeInput {
            risk_answers: Some(answers),
            ..Default::default()
        };
        let (core, ctx) = (&v.state.core, &v.ctx);
        task::update::<ChangeExt>(core, ctx, &key, input, form.version()).await
    } else {
        Err(AppError::Validation(missing))
    };
    done(&v, &key, result, "saved").await
}

/// An action from a form: `action` names it, the other fields carry its details.
pub async fn change_act(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let name = form.opt("action").unwrap_or_else(|| "work_note".into());
    let result = match Action::parse(&name, &Args(form.0.clone())) {
        Ok(action) => task::act::<ChangeExt>(&v.state.core, &v.ctx, &key, action, None).await,
        Err(e) => Err(e),
    };
    // What asking for approval and scheduling need shows beside the fields of the change;
    // the other actions' details are their own form's.
    let result = match name.as_str() {
        "request_approval" | "schedule" => result,
        _ => result.map_err(|e| prefixed(e, "act")),
    };
    done(&v, &key, result, "saved").await
}

/// Adds a change task.
pub async fn change_task_add(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let order = form.opt("order").map(|o| o.trim().parse::<i64>());
    let result = match order {
        Some(Err(_)) => Err(AppError::field("order", "invalid_number", "a whole number")),
        order => {
            let input = changes::TaskInput {
                short_description: form.text("short_description"),
                description: form.text("description"),
                assignment_group: form.opt("assignment_group"),
                assigned_to: form.opt("assigned_to"),
                order: order.and_then(Result::ok),
            };
            changes::add_task(&v.state.core, &v.ctx, &key, input).await
        }
    };
    done(&v, &key, result.map_err(|e| prefixed(e, "task")), "added").await
}

/// Links problems or incidents (numbers separated by commas or spaces) of a kind.
pub async fn change_link(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let keys: Vec<String> = form
        .text("tasks")
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .collect();
    let result = match LinkKind::parse(form.text("kind").trim()) {
        None => Err(AppError::field(
            "kind",
            "invalid_choice",
            "problems or incidents",
        )),
        Some(_) if keys.is_empty() => Err(AppError::field("tasks", "required", "is required")),
        Some(kind) => changes::link(&v.state.core, &v.ctx, &key, kind, keys).await,
    };
    done(&v, &key, result.map_err(|e| prefixed(e, "link")), "linked").await
}

pub async fn change_unlink(
    v: Visit,
    Path((key, kind, child)): Path<(String, String, String)>,
) -> PageResult {
    let kind = LinkKind::parse(&kind).ok_or(AppError::NotFound)?;
    let result = changes::unlink(&v.state.core, &v.ctx, &key, kind, &child).await;
    done(&v, &key, result, "unlinked").await
}

// ----- a change task -----

#[derive(Template)]
#[template(path = "change_task.html")]
pub struct ChangeTaskPage<'a> {
    pub chrome: Chrome<'a>,
    pub t: super::task::TaskView,
    pub order: i64,
    pub change: String,
    pub change_title: String,
    pub change_window: String,
    pub change_state: String,
    /// The moves that take no details: (action, label).
    pub moves: Vec<(String, String)>,
    pub can_close: bool,
    pub finished: bool,
    pub groups: Vec<String>,
    pub journal: Vec<JournalLine>,
}

async fn task_page_view(
    v: &Visit,
    key: &str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    use CatalogTaskState as S;
    let t = changes::task(&v.state.core, &v.ctx, key).await?;
    let entries = task::journal_of(&v.state.core, &v.ctx, t.id).await?;
    let parent = match &t.parent {
        Some(p) => Some(changes::get(&v.state.core, &v.ctx, &p.id.to_string()).await?),
        None => None,
    };
    let mut chrome = v.chrome("change_tasks", "change-task-title");
    chrome.title = format!("{} {}", t.number, t.short_description);
    notice(&mut chrome, q);
    let (status, _) = FieldErrors::split(&mut chrome, refused, &[]);
    let tt = chrome.t;
    let next = t.state.next();
    let moves = [("start", S::InProgress)]
        .into_iter()
        .filter(|(_, to)| next.contains(to))
        .map(|(a, _)| (a.to_owned(), tt.get(&format!("catalog-task-action-{a}"))))
        .collect();
    let page = ChangeTaskPage {
        order: t.ext.ord,
        change: parent
            .as_ref()
            .map(|c| c.number.clone())
            .unwrap_or_default(),
        change_title: parent
            .as_ref()
            .map(|c| c.short_description.clone())
            .unwrap_or_default(),
        change_window: parent
            .as_ref()
            .map(|c| window(&v.viewer, c.ext.planned_start, c.ext.planned_end))
            .unwrap_or_default(),
        change_state: parent
            .as_ref()
            .map(|c| state_label(tt, c.state))
            .unwrap_or_default(),
        moves,
        can_close: next.contains(&S::ClosedComplete),
        finished: t.state.is_final(),
        groups: super::incidents::active_group_names(&v.state, &v.ctx).await,
        journal: journal(tt, &v.viewer, &entries),
        t: task_view(tt, &v.viewer, super::incidents::labels(&v.state).await, &t),
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn change_task_page(
    v: Visit,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    task_page_view(&v, &key, &q, None).await
}

/// An action on a change task from a form: start, close, close_incomplete, skip, work_note.
pub async fn change_task_act(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let name = form.opt("action").unwrap_or_else(|| "work_note".into());
    let result = match TaskAction::parse(&name, &Args(form.0.clone())) {
        Ok(a) => task::act::<ChangeTaskExt>(&v.state.core, &v.ctx, &key, a, None).await,
        Err(e) => Err(e),
    };
    let to = format!("/change_tasks/{}", encode(&key));
    after(result, &to, "saved", async |e| {
        task_page_view(&v, &key, &HashMap::new(), Some(e)).await
    })
    .await
}

/// The assignment of a change task.
pub async fn change_task_update(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let input = task::TaskInput {
        assignment_group: form.get("assignment_group").map(Some),
        assigned_to: form.get("assigned_to").map(Some),
        ..Default::default()
    };
    let (core, ctx) = (&v.state.core, &v.ctx);
    let result = task::update::<ChangeTaskExt>(core, ctx, &key, input, form.version()).await;
    let to = format!("/change_tasks/{}", encode(&key));
    after(result, &to, "saved", async |e| {
        task_page_view(&v, &key, &HashMap::new(), Some(e)).await
    })
    .await
}

// ----- a change's approval, on *My approvals* -----

/// An approval of a change waiting on the viewer, with what it decides: the change's type,
/// risk, window and group, and a link to it when the viewer may see it.
pub(crate) async fn waiting_approval(
    v: &Visit,
    tt: Tr<'_>,
    a: &sigap_core::approvals::ApprovalRecord,
    id: String,
) -> super::approvals::WaitingApproval {
    let c = changes::get(&v.state.core, &v.ctx, &a.task_id.to_string())
        .await
        .ok();
    let person =
        |p: Option<&sigap_core::model::PersonRef>| p.map(|p| p.name.clone()).unwrap_or_default();
    let fact = |label: &str, value: String| super::requests::AnswerLine {
        label: tt.get(label),
        value,
    };
    let answers = match &c {
        Some(c) => {
            let mut lines = vec![
                fact("field-change-type", type_label(tt, c.ext.change_type)),
                fact("field-risk", risk_label(tt, c.ext.risk)),
                fact(
                    "change-window",
                    window(&v.viewer, c.ext.planned_start, c.ext.planned_end),
                ),
            ];
            if let Some(g) = &c.assignment_group {
                lines.push(fact("field-assignment-group", g.name.clone()));
            }
            lines.retain(|l| !l.value.is_empty());
            lines
        }
        None => Vec::new(),
    };
    let me = v.ctx.principal.person_id;
    super::approvals::WaitingApproval {
        number: a.task_number.clone(),
        title: a.task_title.clone(),
        requested_for: person(c.as_ref().and_then(|c| c.caller.as_ref())),
        opened_by: person(c.as_ref().and_then(|c| c.opened_by.as_ref())),
        asked: when(a.asked_at, &v.viewer),
        on_behalf_of: if Some(a.approver.id) == me {
            String::new()
        } else {
            a.approver.name.clone()
        },
        answers,
        price: String::new(),
        href: c
            .as_ref()
            .map(|c| format!("/changes/{}", c.number))
            .unwrap_or_default(),
        id,
    }
}

/// The changes an incident is tied to, for its page: the one that caused it and the one it
/// waits for, as (number, short description).
pub(crate) async fn of_incident(
    v: &Visit,
    i: &sigap_core::model::Incident,
) -> changes::IncidentChanges {
    changes::of_incident(&v.state.core, &v.ctx, i.id)
        .await
        .unwrap_or_default()
}

/// Records the change that caused an incident (its *caused by change*), from the incident's
/// page.
pub async fn incident_caused_by(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let i = sigap_core::incidents::get(&v.state.core, &v.ctx, &key).await?;
    let change = form.text("change");
    changes::link(
        &v.state.core,
        &v.ctx,
        &change,
        LinkKind::Caused,
        vec![i.number.clone()],
    )
    .await
    .map_err(|e| match e {
        sigap_core::AppError::NotFound => {
            sigap_core::AppError::field("change", "not_found", "no such change")
        }
        other => other,
    })?;
    Ok(see_other(
        &format!("/incidents/{}", encode(&i.number)),
        Some("linked"),
    ))
}
