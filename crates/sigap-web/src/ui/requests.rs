//! Pages of requests: the requester's orders, a request and its items with their approvals,
//! tasks and conversation (for the requester under `/portal`, and for the desk), catalogue
//! tasks, and the desk's queues of requested items and catalogue tasks.

use super::queue::{self, Cell, Spec};
use super::task::{JournalLine, TaskLine, after, journal, task_view};
use super::views::{notice, refusal, when};
use super::*;
use axum::extract::{Path, Query};
use sigap_core::approvals::ApprovalRecord;
use sigap_core::listing::ListParams;
use sigap_core::model::{CatalogTaskExt, Request, RequestExt, RequestItem, RequestItemExt};
use sigap_core::requests::{self, Action, ItemDetail, TaskAction};
use sigap_core::task::{self, Args, TaskQuery};
use sigap_domain::task::StateModel;
use std::collections::HashMap;

// ----- the requester's requests -----

pub struct ItemRow {
    pub number: String,
    pub name: String,
    pub state: String,
    pub state_code: String,
    pub approval: String,
    pub due: String,
}

fn item_row(tt: Tr<'_>, viewer: &Viewer, i: &RequestItem) -> ItemRow {
    ItemRow {
        number: i.number.clone(),
        name: i.short_description.clone(),
        state: super::task::state_label(tt, i.state),
        state_code: i.state.code().to_owned(),
        approval: tt.get(&format!("approval-{}", i.ext.approval)),
        due: i.ext.due_at.map(|t| when(t, viewer)).unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "my_requests.html")]
pub struct MyRequestsPage<'a> {
    pub chrome: Chrome<'a>,
    /// (number, title, state, opened).
    pub rows: Vec<(String, String, String, String)>,
    pub next_link: Option<String>,
}

pub async fn my_requests_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let me = v.ctx.principal.person_id.map(|p| p.to_string());
    let query = TaskQuery {
        caller: me,
        ..TaskQuery::default()
    };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: None,
        limit: Some(50),
    };
    let listed = requests::list_requests(&v.state.core, &v.ctx, query, &params).await?;
    let chrome = v.chrome("catalog", "my-requests-title");
    let tt = chrome.t;
    let page = MyRequestsPage {
        rows: listed
            .items
            .iter()
            .map(|r| {
                let state = super::task::state_label(tt, r.state);
                let opened = when(r.opened_at, &v.viewer);
                (r.number.clone(), r.short_description.clone(), state, opened)
            })
            .collect(),
        next_link: listed
            .next_cursor
            .map(|c| format!("/portal/requests?cursor={}", encode(&c))),
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "request.html")]
pub struct RequestPage<'a> {
    pub chrome: Chrome<'a>,
    /// `/portal` for the requester's pages, empty for the desk's.
    pub base: &'static str,
    pub r: super::task::TaskView,
    pub price: String,
    pub due: String,
    pub items: Vec<ItemRow>,
    pub can_cancel: bool,
    pub journal: Vec<JournalLine>,
}

async fn request_view(
    v: &Visit,
    key: &str,
    base: &'static str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let d = requests::request(&v.state.core, &v.ctx, key).await?;
    let mut chrome = v.chrome(
        if base.is_empty() {
            "requests"
        } else {
            "catalog"
        },
        "request-title",
    );
    chrome.title = format!("{} {}", d.request.number, d.request.short_description);
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let mut entries = d.journal.clone();
    if !base.is_empty() {
        entries.retain(|j| j.kind == sigap_domain::task::JournalKind::Comment);
    }
    let r: &Request = &d.request;
    let page = RequestPage {
        base,
        r: task_view(tt, &v.viewer, super::incidents::labels(&v.state).await, r),
        price: requests::price_text(r.ext.price),
        due: r.ext.due_at.map(|t| when(t, &v.viewer)).unwrap_or_default(),
        items: d.items.iter().map(|i| item_row(tt, &v.viewer, i)).collect(),
        can_cancel: !r.state.is_final(),
        journal: journal(tt, &v.viewer, &entries),
        chrome,
    };
    Ok(render(status, &page))
}

/// The requester's page of a request (`/portal/requests/…`) or the desk's.
pub async fn request_page(
    v: Visit,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    request_view(&v, &key, base_of(&v.viewer.path), &q, None).await
}

/// Where a page of request fulfilment is: the requester's pages are under `/portal`.
fn base_of(path: &str) -> &'static str {
    if path.starts_with("/portal") {
        "/portal"
    } else {
        ""
    }
}

/// A request's or an item's action from a form: `action` names it (a comment by default),
/// the other fields carry its details; `portal` says the form was on the requester's page.
async fn act_from_form<P: sigap_core::task::Process<Action = Action>>(
    v: &Visit,
    key: &str,
    form: &FormData,
) -> (&'static str, Result<sigap_core::model::Record<P>, AppError>) {
    let base = if form.get("portal").is_some() {
        "/portal"
    } else {
        ""
    };
    let name = form.opt("action").unwrap_or_else(|| "comment".into());
    let result = match Action::parse(&name, &Args(form.0.clone())) {
        Ok(a) => task::act::<P>(&v.state.core, &v.ctx, key, a, None).await,
        Err(e) => Err(e),
    };
    (base, result)
}

/// An action on a request from a form (cancel, comment, work note).
pub async fn request_act(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let (base, result) = act_from_form::<RequestExt>(&v, &key, &form).await;
    let to = format!("{base}/requests/{}", encode(&key));
    after(result, &to, "saved", async |e| {
        request_view(&v, &key, base, &HashMap::new(), Some(e)).await
    })
    .await
}

// ----- a requested item -----

pub struct ApprovalLine {
    pub id: String,
    pub stage: i64,
    pub approver: String,
    pub group: String,
    pub state: String,
    pub state_code: String,
    pub decided_by: String,
    pub when: String,
    pub comment: String,
}

pub(crate) fn approval_line(tt: Tr<'_>, viewer: &Viewer, a: &ApprovalRecord) -> ApprovalLine {
    ApprovalLine {
        id: a.id.to_string(),
        stage: a.stage + 1,
        approver: a.approver.name.clone(),
        group: a.group.as_ref().map(|g| g.1.clone()).unwrap_or_default(),
        state: tt.get(&format!("approval-{}", a.state.code())),
        state_code: a.state.code().to_owned(),
        decided_by: a
            .decided_by
            .as_ref()
            .filter(|d| d.id != a.approver.id)
            .map(|d| d.name.clone())
            .unwrap_or_default(),
        when: when(a.decided_at.unwrap_or(a.asked_at), viewer),
        comment: a.comment.clone(),
    }
}

/// An answer as the pages show it: its label and value (people and CIs by name).
pub struct AnswerLine {
    pub label: String,
    pub value: String,
}

pub(crate) fn answer_lines(tt: Tr<'_>, d: &ItemDetail) -> Vec<AnswerLine> {
    let id = tt.locale == sigap_domain::Locale::Id;
    d.form
        .variables()
        .iter()
        .filter_map(|v| {
            let value = match d.answer(&v.name)?.as_str() {
                "yes" if v.kind == sigap_domain::catalog::VariableKind::YesNo => {
                    tt.get("answer-yes")
                }
                "no" if v.kind == sigap_domain::catalog::VariableKind::YesNo => tt.get("answer-no"),
                other => other.to_owned(),
            };
            let label = if id {
                v.label_id.clone()
            } else {
                v.label_en.clone()
            };
            Some(AnswerLine { label, value })
        })
        .collect()
}

#[derive(Template)]
#[template(path = "request_item.html")]
pub struct ItemPage<'a> {
    pub chrome: Chrome<'a>,
    pub base: &'static str,
    pub i: super::task::TaskView,
    pub request: String,
    pub approval: String,
    pub quantity: i64,
    pub price: String,
    pub due: String,
    pub answers: Vec<AnswerLine>,
    pub approvals: Vec<ApprovalLine>,
    pub tasks: Vec<TaskLine>,
    pub can_cancel: bool,
    pub can_complete: bool,
    pub journal: Vec<JournalLine>,
}

async fn item_page_view(
    v: &Visit,
    key: &str,
    base: &'static str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let d = requests::item(&v.state.core, &v.ctx, key).await?;
    let mut chrome = v.chrome(
        if base.is_empty() {
            "requests"
        } else {
            "catalog"
        },
        "request-item-title",
    );
    chrome.title = format!("{} {}", d.item.number, d.item.short_description);
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let mut entries = d.journal.clone();
    if !base.is_empty() {
        entries.retain(|j| j.kind == sigap_domain::task::JournalKind::Comment);
    }
    let i = &d.item;
    let page = ItemPage {
        base,
        request: i
            .parent
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        approval: tt.get(&format!("approval-{}", i.ext.approval)),
        quantity: i.ext.quantity,
        price: if i.ext.price > 0 {
            requests::price_text(i.ext.price)
        } else {
            String::new()
        },
        due: i.ext.due_at.map(|t| when(t, &v.viewer)).unwrap_or_default(),
        answers: answer_lines(tt, &d),
        approvals: d
            .approvals
            .iter()
            .map(|a| approval_line(tt, &v.viewer, a))
            .collect(),
        tasks: d.tasks.iter().map(|t| TaskLine::of(tt, t)).collect(),
        can_cancel: i
            .state
            .next()
            .contains(&sigap_domain::process::request::RequestItemState::Canceled),
        can_complete: i.state == sigap_domain::process::request::RequestItemState::Approved,
        journal: journal(tt, &v.viewer, &entries),
        i: task_view(tt, &v.viewer, super::incidents::labels(&v.state).await, i),
        chrome,
    };
    Ok(render(status, &page))
}

/// The requester's page of a requested item (`/portal/requested_items/…`) or the desk's.
pub async fn item_page(
    v: Visit,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    item_page_view(&v, &key, base_of(&v.viewer.path), &q, None).await
}

/// An action on a requested item from a form (cancel, comment, work note, complete).
pub async fn item_act(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let (base, result) = act_from_form::<RequestItemExt>(&v, &key, &form).await;
    let to = format!("{base}/requested_items/{}", encode(&key));
    after(result, &to, "saved", async |e| {
        item_page_view(&v, &key, base, &HashMap::new(), Some(e)).await
    })
    .await
}

// ----- a catalogue task -----

#[derive(Template)]
#[template(path = "catalog_task.html")]
pub struct TaskPage<'a> {
    pub chrome: Chrome<'a>,
    pub t: super::task::TaskView,
    pub item: String,
    pub item_title: String,
    pub answers: Vec<AnswerLine>,
    /// The simple moves: (action, label).
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
    use sigap_domain::process::request::CatalogTaskState as S;
    let d = requests::catalog_task(&v.state.core, &v.ctx, key).await?;
    let mut chrome = v.chrome("requests", "catalog-task-title");
    chrome.title = format!("{} {}", d.task.number, d.task.short_description);
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let next = d.task.state.next();
    let moves = [("start", S::InProgress)]
        .into_iter()
        .filter(|(_, to)| next.contains(to))
        .map(|(a, _)| (a.to_owned(), tt.get(&format!("catalog-task-action-{a}"))))
        .collect();
    let page = TaskPage {
        item: d
            .item
            .as_ref()
            .map(|i| i.item.number.clone())
            .unwrap_or_default(),
        item_title: d
            .item
            .as_ref()
            .map(|i| i.item.short_description.clone())
            .unwrap_or_default(),
        answers: d
            .item
            .as_ref()
            .map(|i| answer_lines(tt, i))
            .unwrap_or_default(),
        moves,
        can_close: next.contains(&S::ClosedComplete),
        finished: d.task.state.is_final(),
        groups: super::incidents::active_group_names(&v.state, &v.ctx).await,
        journal: journal(tt, &v.viewer, &d.journal),
        t: task_view(
            tt,
            &v.viewer,
            super::incidents::labels(&v.state).await,
            &d.task,
        ),
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn catalog_task_page(
    v: Visit,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    task_page_view(&v, &key, &q, None).await
}

pub async fn catalog_task_act(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let name = form.opt("action").unwrap_or_else(|| "work_note".into());
    let result = match TaskAction::parse(&name, &Args(form.0.clone())) {
        Ok(a) => task::act::<CatalogTaskExt>(&v.state.core, &v.ctx, &key, a, None).await,
        Err(e) => Err(e),
    };
    let to = format!("/catalog_tasks/{}", encode(&key));
    after(result, &to, "saved", async |e| {
        task_page_view(&v, &key, &HashMap::new(), Some(e)).await
    })
    .await
}

/// The assignment of a catalogue task.
pub async fn catalog_task_update(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let input = sigap_core::task::TaskInput {
        assignment_group: form.get("assignment_group").map(Some),
        assigned_to: form.get("assigned_to").map(Some),
        ..Default::default()
    };
    let result =
        task::update::<CatalogTaskExt>(&v.state.core, &v.ctx, &key, input, form.version()).await;
    let to = format!("/catalog_tasks/{}", encode(&key));
    after(result, &to, "saved", async |e| {
        task_page_view(&v, &key, &HashMap::new(), Some(e)).await
    })
    .await
}

// ----- the desk's queues -----

pub struct RequestedItems;

const ITEMS: Spec = Spec {
    name: "requested_items",
    noun: "requested_item",
    queues: &["open", "mine", "my_groups", "unassigned", "all"],
    sorts: &["-opened_at", "priority,opened_at", "-updated_at", "number"],
    columns: &[
        "number",
        "short_description",
        "caller",
        "state",
        "approval",
        "assignment_group",
        "assigned_to",
        "opened",
        "due",
        "updated",
        "service",
        "sla",
    ],
    shown: 9,
    flag: None,
    bulk: &[],
    export: None,
    creates: false,
};

/// A queue's view: its ready-made queue or states, and its page.
fn fulfilment_query(spec: &Spec, q: &HashMap<String, String>) -> (TaskQuery, ListParams) {
    let queue = queue::queue(spec, q);
    let mut query = queue::task_query(q);
    match queue.as_str() {
        "mine" | "my_groups" | "unassigned" => query.queue = Some(queue),
        "all" => {}
        _ => query.state = query.state.or_else(|| Some("open".into())),
    }
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: Some(queue::sort(spec, q)),
        limit: Some(50),
    };
    (query, params)
}

impl queue::Queue for RequestedItems {
    const SPEC: Spec = ITEMS;
    async fn view(v: &Visit, q: &HashMap<String, String>, errors: Vec<String>) -> PageResult {
        let (query, params) = fulfilment_query(&ITEMS, q);
        let listed = requests::list_items(&v.state.core, &v.ctx, query, &params).await;
        let tt = tr(&v.state, &v.viewer);
        let links = vec![("/catalog_tasks".to_owned(), tt.get("catalog_tasks-title"))];
        let own = |c: &str, i: &RequestItem| match c {
            "approval" => Some(Cell::text(&tt.get(&format!("approval-{}", i.ext.approval)))),
            "due" => Some(Cell::text(
                &i.ext.due_at.map(|t| when(t, &v.viewer)).unwrap_or_default(),
            )),
            _ => None,
        };
        queue::page(v, &ITEMS, q, listed, errors, links, own).await
    }
    async fn act(_v: &Visit, _name: &str, _number: &str) -> Result<(), AppError> {
        Err(AppError::NotFound)
    }
}

pub struct CatalogTasks;

const TASKS: Spec = Spec {
    name: "catalog_tasks",
    noun: "catalog_task",
    queues: &["my_groups", "mine", "unassigned", "open", "all"],
    sorts: &["-opened_at", "priority,opened_at", "-updated_at", "number"],
    columns: &[
        "number",
        "short_description",
        "parent",
        "caller",
        "state",
        "assignment_group",
        "assigned_to",
        "opened",
        "updated",
        "service",
        "sla",
    ],
    shown: 8,
    flag: None,
    bulk: &[("start", "catalog-task-action-start")],
    export: None,
    creates: false,
};

impl queue::Queue for CatalogTasks {
    const SPEC: Spec = TASKS;
    async fn view(v: &Visit, q: &HashMap<String, String>, errors: Vec<String>) -> PageResult {
        let (query, params) = fulfilment_query(&TASKS, q);
        let listed = requests::list_tasks(&v.state.core, &v.ctx, query, &params).await;
        let tt = tr(&v.state, &v.viewer);
        let links = vec![(
            "/requested_items".to_owned(),
            tt.get("requested_items-title"),
        )];
        let own = |c: &str, t: &sigap_core::model::CatalogTask| match c {
            "parent" => t.parent.as_ref().map(|p| Cell {
                href: Some(format!("/requested_items/{}", p.name)),
                ..Cell::text(&p.name)
            }),
            _ => None,
        };
        queue::page(v, &TASKS, q, listed, errors, links, own).await
    }
    async fn act(v: &Visit, name: &str, number: &str) -> Result<(), AppError> {
        let action = TaskAction::parse(name, &Args::default())?;
        task::act::<CatalogTaskExt>(&v.state.core, &v.ctx, number, action, None).await?;
        Ok(())
    }
}
