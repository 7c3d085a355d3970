//! API of locations: sites, buildings and offices with their time zones.

use super::dto::{AuditOut, Page, Ref, Time, nullable, ts};
use super::handlers::with_etag;
use super::params::list_query;
use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sigap_core::locations;
use sigap_core::model::Location;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationOut {
    pub id: Uuid,
    pub name: String,
    /// IANA time zone, e.g. `Asia/Jakarta`; `null` when none is given.
    pub time_zone: Option<String>,
    /// The organization the location belongs to, if any.
    pub organization: Option<Ref>,
    pub active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    pub version: i64,
}

impl From<Location> for LocationOut {
    fn from(l: Location) -> Self {
        Self {
            id: l.id.as_uuid(),
            name: l.name,
            time_zone: l.time_zone,
            organization: l.organization.map(|o| Ref {
                id: o.id.as_uuid(),
                display: o.name,
            }),
            active: l.active,
            created_at: ts(l.created_at),
            updated_at: ts(l.updated_at),
            version: l.version,
        }
    }
}

/// Fields of a location. On create `name` is required; names are unique in any case.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct LocationIn {
    pub name: Option<String>,
    /// IANA time zone, e.g. `Asia/Jakarta`; `null` or empty for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub time_zone: Option<Option<String>>,
    /// Organization id or name; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub organization: Option<Option<String>>,
    /// An inactive location stays on the records that have it but is not set anew.
    pub active: Option<bool>,
}

impl From<LocationIn> for locations::LocationInput {
    fn from(l: LocationIn) -> Self {
        Self {
            name: l.name,
            time_zone: l.time_zone,
            organization: l.organization,
            active: l.active,
        }
    }
}

list_query!(
    /// The filters of the location list.
    LocationQuery, sort = locations::SORT_FIELDS, q = "Part of the name.",
    {
        /// `true` for active locations only, `false` for inactive ones.
        #[serde(default, deserialize_with = "crate::api::params::flag")]
        active: Option<bool>,
        /// Organization id or name.
        organization: Option<String>,
    }
);

/// Locations you may see (people of a customer or supplier: their organization's and those
/// of nobody). Filter by `active`, `organization` (id or name), `q` (part of the name); sort
/// by `name`, `created_at`, `updated_at`.
#[utoipa::path(get, path = "/api/v1/locations", tag = "locations", params(LocationQuery),
    responses((status = 200, body = Page<LocationOut>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_locations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<LocationQuery>,
) -> ApiResult<Json<Page<LocationOut>>> {
    let params = q.page()?;
    let query = locations::LocationQuery {
        active: q.active.map(|a| a.to_string()),
        organization: q.organization,
        q: q.q,
    };
    let page = locations::list(&s.core, &ctx, query, &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(LocationOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a location (administrators).
#[utoipa::path(post, path = "/api/v1/locations", tag = "locations", request_body = LocationIn,
    responses((status = 201, body = LocationOut), (status = 409, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_location(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<LocationIn>,
) -> ApiResult<Response> {
    let l = locations::create(&s.core, &ctx, body.into()).await?;
    let location = format!("/api/v1/locations/{}", l.id);
    Ok(with_etag(
        StatusCode::CREATED,
        l.version,
        LocationOut::from(l),
        Some(location),
    ))
}

/// A location, by id or name.
#[utoipa::path(get, path = "/api/v1/locations/{key}", tag = "locations", params(("key" = String, Path)),
    responses((status = 200, body = LocationOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_location(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let l = locations::get(&s.core, &ctx, &key).await?;
    Ok(with_etag(
        StatusCode::OK,
        l.version,
        LocationOut::from(l),
        None,
    ))
}

/// Changes a location (administrators).
#[utoipa::path(patch, path = "/api/v1/locations/{key}", tag = "locations", request_body = LocationIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = LocationOut), (status = 412, body = Problem, content_type = "application/problem+json"),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_location(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<LocationIn>,
) -> ApiResult<Response> {
    let l = locations::update(&s.core, &ctx, &key, body.into(), v).await?;
    Ok(with_etag(
        StatusCode::OK,
        l.version,
        LocationOut::from(l),
        None,
    ))
}

/// A location's change history.
#[utoipa::path(get, path = "/api/v1/locations/{key}/history", tag = "audit", params(("key" = String, Path)),
    responses((status = 200, body = Vec<AuditOut>)))]
pub async fn location_history(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<AuditOut>>> {
    let l = locations::get(&s.core, &ctx, &key).await?;
    let rows = sigap_core::audit::history(&s.core, &ctx, "location", &l.id.to_string()).await?;
    Ok(Json(rows.into_iter().map(AuditOut::from).collect()))
}
