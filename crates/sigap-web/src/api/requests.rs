//! Request fulfilment over HTTP: ordering (a request with its requested items), the
//! requests, requested items and catalogue tasks with their named actions, lists and SLA
//! clocks, and the approvals asked of the caller.

use super::approvals::ApprovalOut;
use super::dto::{Page, Time};
use super::params::list_query;
use super::task::JournalOut;
use crate::AppState;
use crate::error::{ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiQuery, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sigap_core::model::{CatalogTask, Request, RequestItem};
use sigap_core::requests::{self, Action, Order, OrderLine, TaskAction};
use sigap_core::task::{Args, TaskInput, TaskQuery};
use utoipa::ToSchema;

super::task::task_out!(
    RequestOut from Request {
        /// The one-off price of its items, in the smallest unit.
        price: i64,
        /// When its last item is expected.
        #[schema(value_type = Option<String>, format = DateTime)]
        due_at: Option<Time>,
    }
);

super::task::task_out!(
    RequestItemOut from RequestItem {
        /// ordinary, information, complaint or compliment.
        item_kind: String,
        quantity: i64,
        price: i64,
        recurring_price: i64,
        /// not_required, requested, approved or rejected.
        approval: String,
        /// The approval stage asked, from 0.
        stage: i64,
        delivery_hours: Option<i64>,
        /// When it is expected: its delivery hours on the item's calendar after the order.
        #[schema(value_type = Option<String>, format = DateTime)]
        due_at: Option<Time>,
    }
);

super::task::task_out!(
    CatalogTaskOut from CatalogTask {
        /// Its place in the item's plan: tasks of one order run side by side.
        ord: i64,
    }
);

/// A request with its items and journal.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestDetailOut {
    #[serde(flatten)]
    pub request: RequestOut,
    pub items: Vec<RequestItemOut>,
    pub journal: Vec<JournalOut>,
}

impl RequestDetailOut {
    fn version(&self) -> i64 {
        self.request.task.version
    }
}

impl From<requests::RequestDetail> for RequestDetailOut {
    fn from(d: requests::RequestDetail) -> Self {
        Self {
            request: d.request.into(),
            items: d.items.into_iter().map(Into::into).collect(),
            journal: d.journal.into_iter().map(Into::into).collect(),
        }
    }
}

/// An answer of the order form, with the variable's labels.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnswerOut {
    pub name: String,
    pub label_en: String,
    pub label_id: String,
    /// As checked: a text, number, yes/no, list, or a record's id.
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
    /// As people read it: a record by its name, yes or no, choices joined by commas.
    pub display: String,
}

/// A requested item with its answers, approvals, tasks and journal.
#[derive(Debug, Serialize, ToSchema)]
pub struct RequestItemDetailOut {
    #[serde(flatten)]
    pub item: RequestItemOut,
    /// The form's answers as ordered, in the form's order.
    pub answers: Vec<AnswerOut>,
    pub approvals: Vec<ApprovalOut>,
    pub tasks: Vec<CatalogTaskOut>,
    pub journal: Vec<JournalOut>,
}

impl RequestItemDetailOut {
    fn version(&self) -> i64 {
        self.item.task.version
    }
}

pub(crate) fn answers_out(d: &requests::ItemDetail) -> Vec<AnswerOut> {
    d.form
        .variables()
        .iter()
        .filter_map(|v| {
            Some(AnswerOut {
                value: d.answers.get(&v.name)?.clone(),
                display: d.answer(&v.name)?,
                name: v.name.clone(),
                label_en: v.label_en.clone(),
                label_id: v.label_id.clone(),
            })
        })
        .collect()
}

impl From<requests::ItemDetail> for RequestItemDetailOut {
    fn from(d: requests::ItemDetail) -> Self {
        Self {
            answers: answers_out(&d),
            item: d.item.into(),
            approvals: d.approvals.into_iter().map(Into::into).collect(),
            tasks: d.tasks.into_iter().map(Into::into).collect(),
            journal: d.journal.into_iter().map(Into::into).collect(),
        }
    }
}

/// A catalogue task with its item and journal.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogTaskDetailOut {
    #[serde(flatten)]
    pub task: CatalogTaskOut,
    pub item: Option<RequestItemDetailOut>,
    pub journal: Vec<JournalOut>,
}

impl CatalogTaskDetailOut {
    fn version(&self) -> i64 {
        self.task.task.version
    }
}

impl From<requests::TaskDetail> for CatalogTaskDetailOut {
    fn from(d: requests::TaskDetail) -> Self {
        Self {
            task: d.task.into(),
            item: d.item.map(Into::into),
            journal: d.journal.into_iter().map(Into::into).collect(),
        }
    }
}

super::task::task_in!(
    /// The fields the desk may change on a request, requested item or catalogue task.
    FulfilmentIn {}
);

impl From<FulfilmentIn> for TaskInput {
    fn from(mut i: FulfilmentIn) -> Self {
        i.task()
    }
}

/// The details an action takes.
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct FulfilmentActionIn {
    /// cancel, close_incomplete, skip: why.
    pub reason: Option<String>,
    /// comment, work_note: the text.
    pub body: Option<String>,
    /// complete, close: what was done.
    pub notes: Option<String>,
}

fn action(name: &str, body: FulfilmentActionIn) -> Result<Action, crate::error::ApiError> {
    Ok(Action::parse(name, &Args::json(&body))?)
}

fn task_action(name: &str, body: FulfilmentActionIn) -> Result<TaskAction, crate::error::ApiError> {
    Ok(TaskAction::parse(name, &Args::json(&body))?)
}

/// One line of an order.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLineIn {
    /// The catalogue item, id or name.
    pub item: String,
    /// 1 (default) to 100.
    pub quantity: Option<i64>,
    /// The answers to the item's form, by variable name.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub variables: serde_json::Map<String, serde_json::Value>,
}

/// An order: one to twenty lines.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderIn {
    pub items: Vec<OrderLineIn>,
    /// Whom it is for (id or login): yourself by default; someone of your organization, or
    /// anyone when you are of the service desk.
    pub requested_for: Option<String>,
    /// A note for the desk.
    pub comment: Option<String>,
}

/// What an order made.
#[derive(Debug, Serialize, ToSchema)]
pub struct OrderedOut {
    #[serde(flatten)]
    pub request: RequestOut,
    pub items: Vec<RequestItemOut>,
}

/// Places an order: a request (REQ…) with a requested item (RITM…) per line. Each item
/// asks its approvers, or when it needs none starts its fulfilment tasks. Every wrong value
/// has its own error (`items.<i>.variables.<name>`), and nothing is made.
#[utoipa::path(post, path = "/api/v1/requests", tag = "requests", request_body = OrderIn,
    responses((status = 201, body = OrderedOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn order(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<OrderIn>,
) -> ApiResult<Response> {
    let order = Order {
        requested_for: body.requested_for,
        comment: body.comment,
        items: body
            .items
            .into_iter()
            .map(|l| OrderLine {
                item: l.item,
                quantity: l.quantity,
                variables: l.variables,
            })
            .collect(),
    };
    let made = requests::order(&s.core, &ctx, order).await?;
    let location = format!("/api/v1/requests/{}", made.request.number);
    let version = made.request.version;
    let out = OrderedOut {
        request: made.request.into(),
        items: made.items.into_iter().map(Into::into).collect(),
    };
    Ok(super::handlers::with_etag(
        StatusCode::CREATED,
        version,
        out,
        Some(location),
    ))
}

list_query!(
    /// The filters of the request fulfilment lists.
    FulfilmentListQuery, sort = sigap_core::task::SORT_FIELDS,
    q = "Full text over the number, the descriptions and the journal.",
    {
        /// States separated by commas, or `open`.
        state: Option<String>,
        /// mine, my_groups or unassigned.
        queue: Option<String>,
        /// Group id or name.
        assignment_group: Option<String>,
        /// Person id or login.
        assigned_to: Option<String>,
        /// Whom it is for: person id or login.
        requested_for: Option<String>,
    }
);

impl FulfilmentListQuery {
    fn query(self) -> TaskQuery {
        TaskQuery {
            state: self.state,
            queue: self.queue,
            assignment_group: self.assignment_group,
            assigned_to: self.assigned_to,
            caller: self.requested_for,
            q: self.q,
            ..TaskQuery::default()
        }
    }
}

/// Requests: the desk's, or your own (those for you and those you ordered), newest first.
#[utoipa::path(get, path = "/api/v1/requests", tag = "requests", params(FulfilmentListQuery),
    responses((status = 200, body = Page<RequestOut>)))]
pub async fn list_requests(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<FulfilmentListQuery>,
) -> ApiResult<Json<Page<RequestOut>>> {
    let params = q.page()?;
    let page = requests::list_requests(&s.core, &ctx, q.query(), &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Requested items: the desk's queues, or your own, newest first.
#[utoipa::path(get, path = "/api/v1/requested_items", tag = "requests", params(FulfilmentListQuery),
    responses((status = 200, body = Page<RequestItemOut>)))]
pub async fn list_items(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<FulfilmentListQuery>,
) -> ApiResult<Json<Page<RequestItemOut>>> {
    let params = q.page()?;
    let page = requests::list_items(&s.core, &ctx, q.query(), &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Catalogue tasks (agents): the fulfilment groups' queues, newest first.
#[utoipa::path(get, path = "/api/v1/catalog_tasks", tag = "requests", params(FulfilmentListQuery),
    responses((status = 200, body = Page<CatalogTaskOut>)))]
pub async fn list_tasks(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<FulfilmentListQuery>,
) -> ApiResult<Json<Page<CatalogTaskOut>>> {
    let params = q.page()?;
    let page = requests::list_tasks(&s.core, &ctx, q.query(), &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(Into::into).collect(),
        next_cursor: page.next_cursor,
    }))
}

super::task::task_endpoints!(
    process = sigap_core::model::RequestExt, tag = "requests", input = FulfilmentIn, out = RequestOut,
    detail = RequestDetailOut, read = requests::request, action_in = FulfilmentActionIn, action = action,
    /// A request with its items and journal (its requester sees the comments).
    get get_request = "/api/v1/requests/{key}";
    /// Changes a request's common fields (the desk).
    patch patch_request;
    /// Does an action: cancel (the requester or the desk: its open items are canceled too),
    /// comment or work_note.
    act request_action = "/api/v1/requests/{key}/{action}";
    /// The SLA clocks of a request.
    slas request_clocks = "/api/v1/requests/{key}/slas";
);

super::task::task_endpoints!(
    process = sigap_core::model::RequestItemExt, tag = "requests", input = FulfilmentIn, out = RequestItemOut,
    detail = RequestItemDetailOut, read = requests::item, action_in = FulfilmentActionIn, action = action,
    /// A requested item with the answers as ordered, its approvals, tasks and journal.
    get get_item = "/api/v1/requested_items/{key}";
    /// Changes a requested item's common fields (the desk).
    patch patch_item;
    /// Does an action: cancel (the requester or the desk, before it is fulfilled: its
    /// approvals and tasks not done are withdrawn), comment, work_note, or complete (the
    /// desk: an approved item without tasks).
    act item_action = "/api/v1/requested_items/{key}/{action}";
    /// The SLA clocks of a requested item.
    slas item_clocks = "/api/v1/requested_items/{key}/slas";
);

super::task::task_endpoints!(
    process = sigap_core::model::CatalogTaskExt, tag = "requests", input = FulfilmentIn, out = CatalogTaskOut,
    detail = CatalogTaskDetailOut, read = requests::catalog_task, action_in = FulfilmentActionIn, action = task_action,
    /// A catalogue task with its requested item and journal (agents).
    get get_task = "/api/v1/catalog_tasks/{key}";
    /// Changes a catalogue task's common fields: assignment, description (agents).
    patch patch_task;
    /// Does an action: start, close (with `notes`), close_incomplete or skip (with
    /// `reason`), work_note. The item moves on when a task is done: the next order of tasks
    /// opens, or the item completes (or is canceled when a task closed incomplete).
    act task_action_route = "/api/v1/catalog_tasks/{key}/{action}";
    /// The SLA clocks of a catalogue task.
    slas task_clocks = "/api/v1/catalog_tasks/{key}/slas";
);

/// A line of your cart.
#[derive(Debug, Serialize, ToSchema)]
pub struct CartLineOut {
    pub id: uuid::Uuid,
    pub item: super::dto::Ref,
    pub quantity: i64,
    /// The item's price times the quantity, in the smallest unit.
    pub price: i64,
    /// The answers as given; they are checked again when the cart is ordered.
    #[schema(value_type = Object)]
    pub variables: serde_json::Value,
}

impl From<requests::CartLine> for CartLineOut {
    fn from(l: requests::CartLine) -> Self {
        Self {
            id: l.id.as_uuid(),
            item: super::dto::Ref {
                id: l.item_id.as_uuid(),
                display: l.item_name,
            },
            quantity: l.quantity,
            price: l.price.saturating_mul(l.quantity),
            variables: serde_json::from_str(&l.variables).unwrap_or_default(),
        }
    }
}

async fn cart_out(s: &AppState, ctx: &sigap_core::Ctx) -> ApiResult<Vec<CartLineOut>> {
    let lines = requests::cart(&s.core, ctx).await?;
    Ok(lines.into_iter().map(Into::into).collect())
}

/// Your cart: the items you chose with their answers, to order together.
#[utoipa::path(get, path = "/api/v1/me/cart", tag = "requests",
    responses((status = 200, body = Vec<CartLineOut>)))]
pub async fn my_cart(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<CartLineOut>>> {
    Ok(Json(cart_out(&s, &ctx).await?))
}

/// Puts an item with its answers in your cart (at most 20 lines); the answers are checked
/// as an order checks them (errors as `items.0.…`).
#[utoipa::path(post, path = "/api/v1/me/cart", tag = "requests", request_body = OrderLineIn,
    responses((status = 201, body = Vec<CartLineOut>), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn add_to_cart(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(l): ApiJson<OrderLineIn>,
) -> ApiResult<(StatusCode, Json<Vec<CartLineOut>>)> {
    let line = OrderLine {
        item: l.item,
        quantity: l.quantity,
        variables: l.variables,
    };
    requests::add_to_cart(&s.core, &ctx, line).await?;
    Ok((StatusCode::CREATED, Json(cart_out(&s, &ctx).await?)))
}

/// Takes a line out of your cart.
#[utoipa::path(delete, path = "/api/v1/me/cart/{line}", tag = "requests", params(("line" = String, Path)),
    responses((status = 204), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn remove_from_cart(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    crate::extract::ApiPath(line): crate::extract::ApiPath<String>,
) -> ApiResult<StatusCode> {
    requests::remove_from_cart(&s.core, &ctx, &line).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ordering your cart: for whom and a note.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CartOrderIn {
    pub requested_for: Option<String>,
    pub comment: Option<String>,
}

/// Orders everything in your cart as one request; the cart is empty afterwards.
#[utoipa::path(post, path = "/api/v1/me/cart/order", tag = "requests", request_body = CartOrderIn,
    responses((status = 201, body = OrderedOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn order_cart(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<CartOrderIn>,
) -> ApiResult<Response> {
    let made = requests::order_cart(&s.core, &ctx, body.requested_for, body.comment).await?;
    let location = format!("/api/v1/requests/{}", made.request.number);
    let version = made.request.version;
    let out = OrderedOut {
        request: made.request.into(),
        items: made.items.into_iter().map(Into::into).collect(),
    };
    Ok(super::handlers::with_etag(
        StatusCode::CREATED,
        version,
        out,
        Some(location),
    ))
}
