//! The service catalogue over HTTP: categories and items with their order forms, approval
//! rules, fulfilment plans, audiences and pictures. Administrators build it; everyone
//! signed in reads what they may order.

use super::dto::{Page, Ref, Time, nullable, ts};
use super::params::list_query;
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch};
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sigap_core::catalog::{self, CatalogItem, CategoryInput, ItemInput, ItemQuery};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogCategoryOut {
    pub id: Uuid,
    pub name: String,
    /// The top category this one is under.
    pub parent: Option<Ref>,
    pub description: String,
    pub order: i64,
    pub active: bool,
    pub version: i64,
}

impl From<catalog::CategoryRecord> for CatalogCategoryOut {
    fn from(c: catalog::CategoryRecord) -> Self {
        Self {
            id: c.id.as_uuid(),
            name: c.name,
            parent: c.parent.map(|p| Ref {
                id: p.id.as_uuid(),
                display: p.name,
            }),
            description: c.description,
            order: c.order,
            active: c.active,
            version: c.version,
        }
    }
}

/// Fields of a category; `name` is required on create.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CatalogCategoryIn {
    pub name: Option<String>,
    /// A top category (id or name); `null` for none. Categories nest one level.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub parent: Option<Option<String>>,
    pub description: Option<String>,
    pub order: Option<i64>,
    pub active: Option<bool>,
}

impl From<CatalogCategoryIn> for CategoryInput {
    fn from(c: CatalogCategoryIn) -> Self {
        Self {
            name: c.name,
            parent: c.parent,
            description: c.description,
            order: c.order,
            active: c.active,
        }
    }
}

/// The catalogue's categories, top ones each followed by theirs.
#[utoipa::path(get, path = "/api/v1/catalog/categories", tag = "catalog",
    responses((status = 200, body = Vec<CatalogCategoryOut>)))]
pub async fn list_categories(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<axum::Json<Vec<CatalogCategoryOut>>> {
    let list = catalog::categories(&s.core, &ctx).await?;
    Ok(axum::Json(list.into_iter().map(Into::into).collect()))
}

/// Creates a category (administrators).
#[utoipa::path(post, path = "/api/v1/catalog/categories", tag = "catalog", request_body = CatalogCategoryIn,
    responses((status = 201, body = CatalogCategoryOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_category(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<CatalogCategoryIn>,
) -> ApiResult<Response> {
    let c = catalog::save_category(&s.core, &ctx, None, body.into(), None).await?;
    let location = format!("/api/v1/catalog/categories/{}", c.id);
    let version = c.version;
    let out = CatalogCategoryOut::from(c);
    Ok(super::handlers::with_etag(
        StatusCode::CREATED,
        version,
        out,
        Some(location),
    ))
}

/// A category by id or name.
#[utoipa::path(get, path = "/api/v1/catalog/categories/{key}", tag = "catalog", params(("key" = String, Path)),
    responses((status = 200, body = CatalogCategoryOut), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_category(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let c = catalog::category(&s.core, &ctx, &key).await?;
    let version = c.version;
    Ok(super::handlers::with_etag(
        StatusCode::OK,
        version,
        CatalogCategoryOut::from(c),
        None,
    ))
}

/// Changes a category (administrators).
#[utoipa::path(patch, path = "/api/v1/catalog/categories/{key}", tag = "catalog", request_body = CatalogCategoryIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = CatalogCategoryOut), (status = 412, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_category(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<CatalogCategoryIn>,
) -> ApiResult<Response> {
    let c = catalog::save_category(&s.core, &ctx, Some(&key), body.into(), v).await?;
    let version = c.version;
    Ok(super::handlers::with_etag(
        StatusCode::OK,
        version,
        CatalogCategoryOut::from(c),
        None,
    ))
}

/// A catalogue item with its definitions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemOut {
    pub id: Uuid,
    pub name: String,
    pub category: Option<Ref>,
    pub service: Ref,
    pub service_offering: Ref,
    /// ordinary, information, complaint or compliment.
    pub kind: String,
    pub short_description: String,
    pub description: String,
    /// In the currency's smallest unit (cents).
    pub price: i64,
    /// Per month, in the smallest unit.
    pub recurring_price: i64,
    /// Expected delivery in business hours of `calendar`.
    pub delivery_hours: Option<i64>,
    pub calendar: Option<Ref>,
    /// When it would arrive if ordered now.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expected_delivery: Option<Time>,
    /// The order form: each variable's name, kind (text, multiline, number, date, choice,
    /// radio, multi_choice, yes_no, person, ci, attachment), labels in English and Bahasa
    /// Indonesia, help, required, default, order, bounds, options, CI class and condition.
    #[schema(value_type = Vec<Object>)]
    pub variables: serde_json::Value,
    /// Approval stages: `{approvers: manager}`, `{approvers: people, people: [id], need:
    /// any|all}` or `{approvers: group, group: id, need: any|all}`; empty for none.
    #[schema(value_type = Vec<Object>)]
    pub approval: serde_json::Value,
    /// Fulfilment tasks: order, group (id), short_description, description.
    #[schema(value_type = Vec<Object>)]
    pub plan: serde_json::Value,
    /// Who may order it: organizations and groups (ids); both empty for everyone.
    #[schema(value_type = Object)]
    pub audience: serde_json::Value,
    /// Where its picture is, if it has one.
    pub picture: Option<String>,
    pub active: bool,
    /// Active, and its offering active and its service in the catalogue.
    pub orderable: bool,
    pub version: i64,
}

fn item_out(ci: CatalogItem, expected: Option<jiff::Timestamp>) -> ItemOut {
    let json = |v: serde_json::Result<serde_json::Value>| v.unwrap_or(serde_json::Value::Null);
    let i = ci.item;
    ItemOut {
        id: i.id.as_uuid(),
        picture: i
            .picture_type
            .as_ref()
            .map(|_| format!("/api/v1/catalog/items/{}/picture", i.id)),
        name: i.name,
        category: i.category.map(|c| Ref {
            id: c.id.as_uuid(),
            display: c.name,
        }),
        service: Ref {
            id: i.service.id.as_uuid(),
            display: i.service.name,
        },
        service_offering: Ref {
            id: i.offering.id.as_uuid(),
            display: i.offering.name,
        },
        kind: ci.kind.code().into(),
        short_description: i.short_description,
        description: i.description,
        price: i.price,
        recurring_price: i.recurring_price,
        delivery_hours: i.delivery_hours,
        calendar: i.calendar.map(|c| Ref {
            id: c.id.as_uuid(),
            display: c.name,
        }),
        expected_delivery: expected.map(ts),
        variables: json(serde_json::to_value(&ci.form)),
        approval: json(serde_json::to_value(&ci.rule)),
        plan: json(serde_json::to_value(&ci.plan)),
        audience: json(serde_json::to_value(&ci.audience)),
        active: i.active,
        orderable: i.orderable,
        version: i.version,
    }
}

/// Fields of an item. On create `name` and `service_offering` are required.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ItemIn {
    pub name: Option<String>,
    /// Category id or name; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    /// The service offering's id.
    pub service_offering: Option<String>,
    /// ordinary (default), information, complaint or compliment.
    pub kind: Option<String>,
    pub short_description: Option<String>,
    pub description: Option<String>,
    /// A decimal text with at most two places: `1250.00`.
    pub price: Option<String>,
    /// Per month, as `price`.
    pub recurring_price: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub delivery_hours: Option<Option<i64>>,
    /// Business calendar id or name the delivery hours count on; `null` for round the clock.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub calendar: Option<Option<String>>,
    /// The order form's variables (see `ItemOut.variables`).
    #[schema(value_type = Option<Vec<Object>>)]
    pub variables: Option<serde_json::Value>,
    /// Approval stages; people by id or login and groups by id or name.
    #[schema(value_type = Option<Vec<Object>>)]
    pub approval: Option<serde_json::Value>,
    /// Fulfilment tasks: `{order, group (id or name), short_description, description}`.
    #[schema(value_type = Option<Vec<Object>>)]
    pub plan: Option<serde_json::Value>,
    /// `{organizations: [id or name], groups: [id or name]}`.
    #[schema(value_type = Option<Object>)]
    pub audience: Option<serde_json::Value>,
    pub active: Option<bool>,
}

impl From<ItemIn> for ItemInput {
    fn from(i: ItemIn) -> Self {
        Self {
            name: i.name,
            category: i.category,
            offering: i.service_offering,
            kind: i.kind,
            short_description: i.short_description,
            description: i.description,
            price: i.price,
            recurring_price: i.recurring_price,
            delivery_hours: i.delivery_hours,
            calendar: i.calendar,
            variables: i.variables,
            approval: i.approval,
            plan: i.plan,
            audience: i.audience,
            active: i.active,
        }
    }
}

const ITEM_SORT: &[(&str, ())] = &[("name", ())];

list_query!(
    /// The catalogue's filters.
    ItemListQuery, sort = ITEM_SORT,
    q = "Words of the name or short description.",
    {
        /// Category id or name (its sub-categories' items too).
        category: Option<String>,
        /// Administrators: `false` lists every item, orderable or not.
        #[serde(default, deserialize_with = "crate::api::params::flag")]
        orderable: Option<bool>,
    }
);

/// The items the caller may order (administrators: every item with `orderable=false`),
/// by name.
#[utoipa::path(get, path = "/api/v1/catalog/items", tag = "catalog", params(ItemListQuery),
    responses((status = 200, body = Page<ItemOut>), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn list_items(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ItemListQuery>,
) -> ApiResult<axum::Json<Page<ItemOut>>> {
    let params = q.page()?;
    let query = ItemQuery {
        category: q.category,
        q: q.q,
        orderable_only: q.orderable != Some(false),
    };
    let page = catalog::items(&s.core, &ctx, query, &params).await?;
    Ok(axum::Json(Page {
        items: page.items.into_iter().map(|i| item_out(i, None)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates an item (administrators).
#[utoipa::path(post, path = "/api/v1/catalog/items", tag = "catalog", request_body = ItemIn,
    responses((status = 201, body = ItemOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_item(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<ItemIn>,
) -> ApiResult<Response> {
    let ci = catalog::save_item(&s.core, &ctx, None, body.into(), None).await?;
    let location = format!("/api/v1/catalog/items/{}", ci.item.id);
    let version = ci.item.version;
    let out = item_out(ci, None);
    Ok(super::handlers::with_etag(
        StatusCode::CREATED,
        version,
        out,
        Some(location),
    ))
}

/// An item by id or name, with the date it would arrive if ordered now.
#[utoipa::path(get, path = "/api/v1/catalog/items/{key}", tag = "catalog", params(("key" = String, Path)),
    responses((status = 200, body = ItemOut), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_item(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let ci = catalog::item(&s.core, &ctx, &key).await?;
    let expected = catalog::expected(&s.core, &ci).await?;
    let version = ci.item.version;
    Ok(super::handlers::with_etag(
        StatusCode::OK,
        version,
        item_out(ci, expected),
        None,
    ))
}

/// Changes an item (administrators). Requests already made keep the form, rule and plan
/// they were ordered with.
#[utoipa::path(patch, path = "/api/v1/catalog/items/{key}", tag = "catalog", request_body = ItemIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ItemOut), (status = 412, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_item(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<ItemIn>,
) -> ApiResult<Response> {
    let ci = catalog::save_item(&s.core, &ctx, Some(&key), body.into(), v).await?;
    let version = ci.item.version;
    Ok(super::handlers::with_etag(
        StatusCode::OK,
        version,
        item_out(ci, None),
        None,
    ))
}

/// An item's picture.
#[utoipa::path(get, path = "/api/v1/catalog/items/{key}/picture", tag = "catalog", params(("key" = String, Path)),
    responses((status = 200, content_type = "image/*", body = Vec<u8>), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_picture(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let (kind, bytes) = catalog::picture(&s.core, &ctx, &key).await?;
    Ok((
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "private, max-age=300".to_owned()),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        bytes,
    )
        .into_response())
}

/// Sets an item's picture (administrators): the body is the image (PNG, JPEG, GIF or WebP,
/// at most 2 MB) with its `Content-Type`.
#[utoipa::path(put, path = "/api/v1/catalog/items/{key}/picture", tag = "catalog", params(("key" = String, Path)),
    request_body(content = Vec<u8>, content_type = "image/png"),
    responses((status = 204), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn put_picture(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    body: crate::extract::RawBody,
) -> ApiResult<StatusCode> {
    let kind = body.content_type.split(';').next().unwrap_or_default();
    let kind = kind.trim().to_ascii_lowercase();
    if !kind.starts_with("image/") {
        return Err(ApiError::UnsupportedMediaType(
            "image/png, image/jpeg, image/gif or image/webp",
        ));
    }
    catalog::set_picture(&s.core, &ctx, &key, Some((kind, body.bytes.to_vec()))).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes an item's picture (administrators).
#[utoipa::path(delete, path = "/api/v1/catalog/items/{key}/picture", tag = "catalog", params(("key" = String, Path)),
    responses((status = 204), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn delete_picture(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<StatusCode> {
    catalog::set_picture(&s.core, &ctx, &key, None).await?;
    Ok(StatusCode::NO_CONTENT)
}
