//! Pages of request fulfilment: the catalogue to browse and order from (an item's form, the
//! cart, ordering for someone else), the requester's requests and items with their
//! approvals, tasks and comments, *My approvals* with delegation, and the desk's queues and
//! pages of requested items and catalogue tasks.

use super::queue::{self, Cell, Spec};
use super::task::{JournalLine, TaskLine, after, journal, task_view};
use super::views::{notice, refusal, when};
use super::*;
use axum::extract::{Path, Query};
use serde_json::{Map, Value};
use sigap_core::approvals::{self, ApprovalRecord};
use sigap_core::catalog::{self, CatalogItem, ItemQuery};
use sigap_core::listing::ListParams;
use sigap_core::model::{CatalogTaskExt, Request, RequestExt, RequestItem, RequestItemExt};
use sigap_core::requests::{self, Action, ItemDetail, OrderLine, TaskAction};
use sigap_core::task::{self, Args, TaskQuery};
use sigap_domain::catalog::{Form, VariableKind};
use sigap_domain::task::StateModel;
use std::collections::HashMap;

// ----- the order form -----

/// One variable of an order form as the page shows it: its field (`v.<name>`), label and
/// help in the viewer's language, what is typed or chosen, and its error.
pub struct VarField {
    pub field: String,
    pub kind: String,
    pub label: String,
    pub help: String,
    pub required: bool,
    pub value: String,
    pub chosen: Vec<String>,
    pub options: Vec<String>,
    pub min: String,
    pub max: String,
    /// When it applies: "shown when <label> is <value>".
    pub condition: String,
    pub error: String,
}

fn number_text(n: Option<f64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

/// The fields of a form, filled from what was typed (`data`) or the defaults, with the
/// errors by variable name.
pub(crate) fn var_fields(
    tt: Tr<'_>,
    form: &Form,
    data: Option<&FormData>,
    errors: &HashMap<String, String>,
) -> Vec<VarField> {
    let id = tt.locale == sigap_domain::Locale::Id;
    let label = |v: &sigap_domain::catalog::Variable| {
        if id {
            v.label_id.clone()
        } else {
            v.label_en.clone()
        }
    };
    let text = |a: &Value| match a {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => other.to_string(),
    };
    form.variables()
        .iter()
        .map(|v| {
            let field = format!("v.{}", v.name);
            let (value, chosen) = match data {
                Some(d) => (d.text(&field), d.all(&field)),
                None => {
                    let dv = v.default.as_ref();
                    let chosen = match dv {
                        Some(Value::Array(items)) => items.iter().map(text).collect(),
                        Some(other) => vec![text(other)],
                        None => Vec::new(),
                    };
                    (dv.map(text).unwrap_or_default(), chosen)
                }
            };
            let condition = v.show_when.as_ref().map(|w| {
                let on = form.variables().iter().find(|x| x.name == w.variable);
                let name = on.map(label).unwrap_or_else(|| w.variable.clone());
                let mut args = fluent_bundle::FluentArgs::new();
                args.set("field", name);
                args.set("value", w.equals.clone());
                tt.i18n.text(tt.locale, "catalog-shown-when", Some(&args))
            });
            VarField {
                kind: v.kind.code().to_owned(),
                label: label(v),
                help: if id {
                    v.help_id.clone()
                } else {
                    v.help_en.clone()
                },
                required: v.required,
                value,
                chosen,
                options: v.options.clone(),
                min: number_text(v.min),
                max: number_text(v.max),
                condition: condition.unwrap_or_default(),
                error: errors.get(&v.name).cloned().unwrap_or_default(),
                field,
            }
        })
        .collect()
}

/// The answers a form sent, typed as the variables ask: a number as a number when it reads
/// as one (else as typed, for the use case to refuse), yes/no as true or false, a multiple
/// choice as a list.
pub(crate) fn answers_of(form: &Form, data: &FormData) -> Map<String, Value> {
    let mut out = Map::new();
    for v in form.variables() {
        let field = format!("v.{}", v.name);
        let value = match v.kind {
            VariableKind::MultiChoice => {
                Value::Array(data.all(&field).into_iter().map(Value::String).collect())
            }
            VariableKind::YesNo => Value::Bool(data.get(&field).is_some_and(|x| x == "true")),
            VariableKind::Number => number_value(&data.text(&field)),
            _ => Value::String(data.text(&field)),
        };
        out.insert(v.name.clone(), value);
    }
    out
}

/// A number typed into a box as JSON: whole numbers as integers, others as decimals, and
/// what does not read as a number as the text typed (for the use case to refuse with its
/// reason).
pub(crate) fn number_value(text: &str) -> Value {
    let t = text.trim();
    if let Ok(i) = t.parse::<i64>() {
        return Value::from(i);
    }
    match t.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
        Some(n) => Value::Number(n),
        None => Value::String(text.to_owned()),
    }
}

/// A refused order's errors: those of a variable by its name, the others as messages.
fn split_errors(tt: Tr<'_>, e: &AppError) -> (HashMap<String, String>, Vec<String>) {
    let mut by_var = HashMap::new();
    let mut rest = Vec::new();
    if let AppError::Validation(list) = e {
        for f in list {
            let name = f.field.split_once(".variables.").map(|(_, n)| n.to_owned());
            match name {
                Some(n) => {
                    by_var.insert(n, f.message.clone());
                }
                None => rest.extend(messages(tt, &AppError::Validation(vec![f.clone()]))),
            }
        }
    } else {
        rest = messages(tt, e);
    }
    (by_var, rest)
}

// ----- the catalogue -----

pub struct ItemCard {
    pub id: String,
    pub name: String,
    pub short_description: String,
    pub price: String,
    pub recurring_price: String,
    pub picture: Option<String>,
    pub kind: String,
}

fn card(tt: Tr<'_>, ci: &CatalogItem) -> ItemCard {
    let i = &ci.item;
    ItemCard {
        id: i.id.to_string(),
        name: i.name.clone(),
        short_description: i.short_description.clone(),
        price: if i.price > 0 {
            requests::price_text(i.price)
        } else {
            String::new()
        },
        recurring_price: if i.recurring_price > 0 {
            requests::price_text(i.recurring_price)
        } else {
            String::new()
        },
        picture: i
            .picture_type
            .as_ref()
            .map(|_| format!("/api/v1/catalog/items/{}/picture", i.id)),
        kind: tt.get(&format!("catalog-kind-{}", ci.kind.code())),
    }
}

#[derive(Template)]
#[template(path = "catalog.html")]
pub struct CatalogPage<'a> {
    pub chrome: Chrome<'a>,
    /// (id, name, is a sub-category, is the one shown).
    pub categories: Vec<(String, String, bool, bool)>,
    pub category: String,
    pub q: String,
    pub items: Vec<ItemCard>,
    pub next_link: Option<String>,
    pub in_cart: usize,
}

pub async fn catalog_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let get = |k: &str| q.get(k).cloned().unwrap_or_default();
    let (category, text) = (get("category"), get("q"));
    let query = ItemQuery {
        category: Some(category.clone()).filter(|c| !c.is_empty()),
        q: Some(text.clone()).filter(|t| !t.trim().is_empty()),
        orderable_only: true,
    };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: None,
        limit: Some(48),
    };
    let mut chrome = v.chrome("catalog", "catalog-title");
    notice(&mut chrome, &q);
    let listed = catalog::items(&v.state.core, &v.ctx, query, &params).await;
    let listed = super::task::or_refused(&mut chrome, listed.map(Some))?.unwrap_or(
        sigap_core::listing::Listed {
            items: Vec::new(),
            next_cursor: None,
        },
    );
    let categories = catalog::categories(&v.state.core, &v.ctx).await?;
    let in_cart = requests::cart(&v.state.core, &v.ctx).await?.len();
    let tt = chrome.t;
    let link = |c: String| {
        format!(
            "/catalog?category={}&q={}&cursor={}",
            encode(&category),
            encode(&text),
            encode(&c)
        )
    };
    let page = CatalogPage {
        categories: categories
            .into_iter()
            .map(|c| {
                let id = c.id.to_string();
                let here = id == category || c.name == category;
                (id, c.name, c.parent.is_some(), here)
            })
            .collect(),
        items: listed.items.iter().map(|i| card(tt, i)).collect(),
        next_link: listed.next_cursor.map(link),
        category,
        q: text,
        in_cart,
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "catalog_item.html")]
pub struct CatalogItemPage<'a> {
    pub chrome: Chrome<'a>,
    pub item: ItemCard,
    pub description: String,
    pub service: String,
    pub expected: String,
    pub fields: Vec<VarField>,
    pub quantity: String,
    pub requested_for: String,
    pub comment: String,
    /// The administrators' preview: no buttons that order.
    pub preview: bool,
}

async fn item_view(
    v: &Visit,
    key: &str,
    data: Option<&FormData>,
    refused: Option<AppError>,
    preview: bool,
) -> PageResult {
    let ci = catalog::item(&v.state.core, &v.ctx, key).await?;
    let expected = catalog::expected(&v.state.core, &ci).await?;
    let mut chrome = v.chrome("catalog", "catalog-title");
    chrome.title = ci.item.name.clone();
    let tt = chrome.t;
    let (by_var, rest, status) = match &refused {
        Some(e) => {
            let (by_var, rest) = split_errors(tt, e);
            (by_var, rest, StatusCode::UNPROCESSABLE_ENTITY)
        }
        None => (HashMap::new(), Vec::new(), StatusCode::OK),
    };
    chrome.errors = rest;
    let text = |k: &str| data.map(|d| d.text(k)).unwrap_or_default();
    let page = CatalogItemPage {
        item: card(tt, &ci),
        description: ci.item.description.clone(),
        service: format!("{} · {}", ci.item.service.name, ci.item.offering.name),
        expected: expected.map(|t| when(t, &v.viewer)).unwrap_or_default(),
        fields: var_fields(tt, &ci.form, data, &by_var),
        quantity: Some(text("quantity"))
            .filter(|q| !q.is_empty())
            .unwrap_or("1".into()),
        requested_for: text("requested_for"),
        comment: text("comment"),
        preview,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn catalog_item_page(v: Visit, Path(key): Path<String>) -> PageResult {
    item_view(&v, &key, None, None, false).await
}

/// The line a form on an item's page orders.
async fn line_of(v: &Visit, key: &str, data: &FormData) -> Result<OrderLine, AppError> {
    let ci = catalog::item(&v.state.core, &v.ctx, key).await?;
    let quantity = data.text("quantity").trim().parse::<i64>().unwrap_or(0);
    Ok(OrderLine {
        item: ci.item.id.to_string(),
        quantity: Some(quantity),
        variables: answers_of(&ci.form, data),
    })
}

/// Puts the item, with its answers, in the cart.
pub async fn catalog_add(v: Visit, Path(key): Path<String>, data: FormData) -> PageResult {
    let line = line_of(&v, &key, &data).await?;
    match requests::add_to_cart(&v.state.core, &v.ctx, line).await {
        Ok(()) => Ok(see_other("/catalog/cart", Some("added"))),
        Err(e) => item_view(&v, &key, Some(&data), Some(e), false).await,
    }
}

/// Orders the item at once.
pub async fn catalog_order(v: Visit, Path(key): Path<String>, data: FormData) -> PageResult {
    let line = line_of(&v, &key, &data).await?;
    let order = requests::Order {
        requested_for: data.opt("requested_for"),
        comment: data.opt("comment"),
        items: vec![line],
    };
    match requests::order(&v.state.core, &v.ctx, order).await {
        Ok(made) => Ok(see_other(
            &format!("/portal/requests/{}", made.request.number),
            Some("ordered"),
        )),
        Err(e) => item_view(&v, &key, Some(&data), Some(e), false).await,
    }
}

// ----- the cart -----

pub struct CartRow {
    pub id: String,
    pub item: String,
    pub quantity: i64,
    pub price: String,
    pub answers: String,
}

#[derive(Template)]
#[template(path = "cart.html")]
pub struct CartPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<CartRow>,
    pub total: String,
    pub requested_for: String,
    pub comment: String,
}

async fn cart_view(
    v: &Visit,
    q: &HashMap<String, String>,
    data: Option<&FormData>,
    refused: Option<AppError>,
) -> PageResult {
    let lines = requests::cart(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome("catalog", "cart-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let total: i64 = lines
        .iter()
        .map(|l| l.price.saturating_mul(l.quantity))
        .sum();
    let answers = |text: &str| {
        let m: Map<String, Value> = serde_json::from_str(text).unwrap_or_default();
        m.iter()
            .filter(|(_, a)| !matches!(a, Value::String(s) if s.is_empty()))
            .map(|(k, a)| match a {
                Value::String(s) => format!("{k}: {s}"),
                other => format!("{k}: {other}"),
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let page = CartPage {
        rows: lines
            .iter()
            .map(|l| CartRow {
                id: l.id.to_string(),
                item: l.item_name.clone(),
                quantity: l.quantity,
                price: requests::price_text(l.price.saturating_mul(l.quantity)),
                answers: answers(&l.variables),
            })
            .collect(),
        total: requests::price_text(total),
        requested_for: data.map(|d| d.text("requested_for")).unwrap_or_default(),
        comment: data.map(|d| d.text("comment")).unwrap_or_default(),
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn cart_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    cart_view(&v, &q, None, None).await
}

pub async fn cart_remove(v: Visit, Path(line): Path<String>) -> PageResult {
    requests::remove_from_cart(&v.state.core, &v.ctx, &line).await?;
    Ok(see_other("/catalog/cart", Some("deleted")))
}

pub async fn cart_order(v: Visit, data: FormData) -> PageResult {
    let (to, comment) = (data.opt("requested_for"), data.opt("comment"));
    match requests::order_cart(&v.state.core, &v.ctx, to, comment).await {
        Ok(made) => Ok(see_other(
            &format!("/portal/requests/{}", made.request.number),
            Some("ordered"),
        )),
        Err(e) => cart_view(&v, &HashMap::new(), Some(&data), Some(e)).await,
    }
}

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

fn approval_line(tt: Tr<'_>, viewer: &Viewer, a: &ApprovalRecord) -> ApprovalLine {
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

/// An answer as the pages show it: its label and value (people and CIs by the description
/// the order wrote).
pub struct AnswerLine {
    pub label: String,
    pub value: String,
}

fn answer_lines(tt: Tr<'_>, d: &ItemDetail) -> Vec<AnswerLine> {
    let id = tt.locale == sigap_domain::Locale::Id;
    // The order described each answer as "Label: shown" in English, one per line.
    let shown: HashMap<&str, &str> = d
        .item
        .description
        .lines()
        .filter_map(|l| l.split_once(": "))
        .collect();
    d.form
        .variables()
        .iter()
        .filter_map(|v| {
            let a = d.answers.get(&v.name)?;
            let value = match shown.get(v.label_en.as_str()) {
                Some(s) => (*s).to_owned(),
                None => a
                    .as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| a.to_string()),
            };
            let value = match value.as_str() {
                "yes" => tt.get("answer-yes"),
                "no" => tt.get("answer-no"),
                _ => value,
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
        price: requests::price_text(i.ext.price),
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

// ----- my approvals -----

/// An approval waiting on the viewer, with what it decides.
pub struct WaitingApproval {
    pub id: String,
    pub number: String,
    pub title: String,
    pub requested_for: String,
    pub opened_by: String,
    pub asked: String,
    /// Whose approval it is when the viewer decides as their delegate.
    pub on_behalf_of: String,
    pub answers: Vec<AnswerLine>,
    pub price: String,
}

#[derive(Template)]
#[template(path = "approvals.html")]
pub struct ApprovalsPage<'a> {
    pub chrome: Chrome<'a>,
    pub waiting: Vec<WaitingApproval>,
    pub decided: Vec<(String, ApprovalLine)>,
    /// (id, from, to, starts, ends, given by the viewer).
    pub delegations: Vec<(String, String, String, String, String, bool)>,
}

async fn approvals_view(
    v: &Visit,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let mut chrome = v.chrome("approvals", "approvals-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let me = v.ctx.principal.person_id;
    let mut waiting = Vec::new();
    for a in approvals::mine(&v.state.core, &v.ctx).await? {
        let id = a.id.to_string();
        let Ok((_, d)) = requests::for_approver(&v.state.core, &v.ctx, &id).await else {
            continue;
        };
        let person = |p: &Option<sigap_core::model::PersonRef>| {
            p.as_ref().map(|p| p.name.clone()).unwrap_or_default()
        };
        waiting.push(WaitingApproval {
            number: a.task_number.clone(),
            title: a.task_title.clone(),
            requested_for: person(&d.item.caller),
            opened_by: person(&d.item.opened_by),
            asked: when(a.asked_at, &v.viewer),
            on_behalf_of: if Some(a.approver.id) == me {
                String::new()
            } else {
                a.approver.name.clone()
            },
            answers: answer_lines(tt, &d),
            price: requests::price_text(d.item.ext.price),
            id,
        });
    }
    let decided = approvals::decided(&v.state.core, &v.ctx)
        .await?
        .iter()
        .map(|a| (a.task_number.clone(), approval_line(tt, &v.viewer, a)))
        .collect();
    let day = |t: jiff::Timestamp| when(t, &v.viewer);
    let delegations = approvals::delegations(&v.state.core, &v.ctx)
        .await?
        .into_iter()
        .map(|d| {
            let mine = Some(d.from.id) == me;
            (
                d.id.to_string(),
                d.from.name,
                d.to.name,
                day(d.starts),
                day(d.ends),
                mine,
            )
        })
        .collect();
    let page = ApprovalsPage {
        waiting,
        decided,
        delegations,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn approvals_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    approvals_view(&v, &q, None).await
}

/// Approves or rejects (`decision`) with a comment.
pub async fn approval_decide(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let approve = form.get("decision").as_deref() == Some("approve");
    let comment = form.text("comment");
    let result = approvals::decide(&v.state.core, &v.ctx, &id, approve, &comment).await;
    let notice = if approve { "approved" } else { "rejected" };
    after(result, "/approvals", notice, async |e| {
        approvals_view(&v, &HashMap::new(), Some(e)).await
    })
    .await
}

/// A day of a form (`YYYY-MM-DD`) as the start of that day in the viewer's time zone.
fn day_start(
    viewer: &Viewer,
    field: &str,
    text: &str,
    next: bool,
) -> Result<jiff::Timestamp, AppError> {
    let bad = || AppError::field(field, "invalid_date", "a date: YYYY-MM-DD");
    let date: jiff::civil::Date = text.trim().parse().map_err(|_| bad())?;
    let date = if next {
        date.tomorrow().map_err(|_| bad())?
    } else {
        date
    };
    let tz = viewer
        .principal
        .as_ref()
        .map_or("UTC", |p| p.time_zone.as_str());
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    date.to_zoned_datetime(zone)
        .map(|z| z.timestamp())
        .map_err(|_| bad())
}

/// Delegates the viewer's approvals from one day to another (both included).
pub async fn delegation_add(v: Visit, form: FormData) -> PageResult {
    let result = async {
        let starts = day_start(&v.viewer, "starts", &form.text("starts"), false)?;
        let ends = day_start(&v.viewer, "ends", &form.text("ends"), true)?;
        approvals::delegate(&v.state.core, &v.ctx, &form.text("to"), starts, ends).await
    }
    .await;
    after(result, "/approvals", "saved", async |e| {
        approvals_view(&v, &HashMap::new(), Some(e)).await
    })
    .await
}

pub async fn delegation_remove(v: Visit, Path(id): Path<String>) -> PageResult {
    approvals::undelegate(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other("/approvals", Some("deleted")))
}

/// An item's order form as the portal shows it, without the buttons that order (the
/// administrators' preview).
pub(crate) async fn preview(v: &Visit, key: &str) -> PageResult {
    item_view(v, key, None, None, true).await
}
