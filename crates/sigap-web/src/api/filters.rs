//! Your saved views of lists (filters, sort and columns under a name).

use super::dto::{Time, ts};
use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sigap_core::filters;
use sigap_core::model::SavedFilter;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct FilterOut {
    pub id: Uuid,
    /// The list it belongs to, e.g. `incidents`.
    pub list: String,
    pub name: String,
    /// The list's query string: filters, `sort` and `cols` (columns).
    pub query: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
}

impl From<SavedFilter> for FilterOut {
    fn from(f: SavedFilter) -> Self {
        Self {
            id: f.id.as_uuid(),
            list: f.list,
            name: f.name,
            query: f.query,
            created_at: ts(f.created_at),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterIn {
    /// The list, e.g. `incidents`.
    pub list: String,
    /// A name of at most 80 characters; saving a name again replaces its query.
    pub name: String,
    /// The list's query string; parameters the list does not know are dropped.
    pub query: String,
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FilterQuery {
    /// The list (default `incidents`).
    #[param(schema_with = list_schema)]
    pub list: Option<String>,
}

/// The lists that keep saved views.
fn list_names() -> Vec<&'static str> {
    filters::LISTS.iter().map(|(l, _)| *l).collect()
}

fn list_schema() -> utoipa::openapi::Object {
    super::params::codes(&list_names(), "The list (default `incidents`).")
}

/// Your saved views of a list.
#[utoipa::path(get, path = "/api/v1/me/filters", tag = "me", params(FilterQuery),
    responses((status = 200, body = Vec<FilterOut>)))]
pub async fn my_filters(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<FilterQuery>,
) -> ApiResult<Json<Vec<FilterOut>>> {
    super::params::check_code("list", q.list.as_deref(), &list_names())?;
    let list = q.list.unwrap_or_else(|| "incidents".into());
    let all = filters::mine(&s.core, &ctx, &list).await?;
    Ok(Json(all.into_iter().map(FilterOut::from).collect()))
}

/// Saves a view of a list under a name.
#[utoipa::path(post, path = "/api/v1/me/filters", tag = "me", request_body = FilterIn,
    responses((status = 201, body = FilterOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn save_filter(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<FilterIn>,
) -> ApiResult<(StatusCode, Json<FilterOut>)> {
    let f = filters::save(&s.core, &ctx, &body.list, &body.name, &body.query).await?;
    Ok((StatusCode::CREATED, Json(f.into())))
}

/// Deletes one of your saved views.
#[utoipa::path(delete, path = "/api/v1/me/filters/{id}", tag = "me", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_filter(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    filters::delete(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
