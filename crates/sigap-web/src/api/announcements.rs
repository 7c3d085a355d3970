//! Announcements' API: those running for the caller, and (managers) every one, written,
//! changed and taken down.

use super::handlers::with_etag;
use super::params::codes_enum;
use super::reports::{SharedGroupOut, given};
use crate::AppState;
use crate::error::{ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sigap_core::announcements::{self, Announcement};
use utoipa::ToSchema;

/// An announcement as written: every field may be left out of a change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnouncementIn {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    /// Plain text.
    #[schema(max_length = 5000)]
    pub body: Option<String>,
    /// info (the default), warning or outage (outages come first).
    #[schema(pattern = "^(info|warning|outage)$")]
    pub severity: Option<String>,
    /// everyone (the default), requesters (those who are not agents) or agents.
    #[schema(pattern = "^(everyone|requesters|agents)$")]
    pub audience: Option<String>,
    /// When it shows from (RFC 3339; by default now).
    pub starts_at: Option<String>,
    /// When it stops showing (RFC 3339; empty: until taken down).
    pub ends_at: Option<String>,
    /// The version changed (instead of `If-Match`).
    pub version: Option<i64>,
}

/// An announcement.
#[derive(Debug, Serialize, ToSchema)]
pub struct AnnouncementOut {
    pub id: uuid::Uuid,
    pub title: String,
    pub body: String,
    pub severity: String,
    pub audience: String,
    #[schema(format = DateTime)]
    pub starts_at: String,
    #[schema(format = DateTime)]
    pub ends_at: Option<String>,
    /// Who wrote it.
    pub author: Option<SharedGroupOut>,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub version: i64,
}

impl From<Announcement> for AnnouncementOut {
    fn from(a: Announcement) -> Self {
        AnnouncementOut {
            id: a.id.as_uuid(),
            title: a.title,
            body: a.body,
            severity: a.severity.code().to_owned(),
            audience: a.audience.code().to_owned(),
            starts_at: a.starts_at.to_string(),
            ends_at: a.ends_at.map(|t| t.to_string()),
            author: a.author.map(|(id, name)| SharedGroupOut {
                id: id.as_uuid(),
                name,
            }),
            created_at: a.created_at.to_string(),
            updated_at: a.updated_at.to_string(),
            version: a.version,
        }
    }
}

codes_enum!(
    /// Which announcements a list gives.
    Scope {
        /// Those running now for the caller.
        Current = "current",
        /// Every one, past and to come (managers).
        All = "all",
    }
);

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnnouncementQuery {
    /// current (the default): those running now for the caller; all: every one, past and
    /// to come (managers).
    #[param(inline)]
    pub scope: Option<Scope>,
}

/// The announcements running now for the caller (everyone's and their side's: requesters'
/// or agents'), outages first; with `scope=all`, every one (managers).
#[utoipa::path(get, path = "/api/v1/announcements", tag = "reports", params(AnnouncementQuery),
    responses((status = 200, body = Vec<AnnouncementOut>),
              (status = 403, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn list_announcements(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<AnnouncementQuery>,
) -> ApiResult<Json<Vec<AnnouncementOut>>> {
    let list = match q.scope.unwrap_or(Scope::Current).code() {
        "all" => announcements::all(&s.core, &ctx).await?,
        _ => announcements::current(&s.core, &ctx).await?,
    };
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Posts an announcement (managers).
#[utoipa::path(post, path = "/api/v1/announcements", tag = "reports", request_body = AnnouncementIn,
    responses((status = 201, body = AnnouncementOut, headers(("Location" = String), ("ETag" = String))),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_announcement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<AnnouncementIn>,
) -> ApiResult<Response> {
    let a = announcements::create(&s.core, &ctx, &given(&b)).await?;
    let location = format!("/api/v1/announcements/{}", a.id);
    let version = a.version;
    Ok(with_etag(
        StatusCode::CREATED,
        version,
        AnnouncementOut::from(a),
        Some(location),
    ))
}

/// An announcement: any to managers, one running for them to others.
#[utoipa::path(get, path = "/api/v1/announcements/{id}", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 200, body = AnnouncementOut, headers(("ETag" = String))),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_announcement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let a = announcements::get(&s.core, &ctx, &id).await?;
    let version = a.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        AnnouncementOut::from(a),
        None,
    ))
}

/// Changes an announcement: the fields given (managers).
#[utoipa::path(patch, path = "/api/v1/announcements/{id}", tag = "reports", request_body = AnnouncementIn,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = AnnouncementOut, headers(("ETag" = String))),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 412, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_announcement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<AnnouncementIn>,
) -> ApiResult<Response> {
    let a = announcements::update(&s.core, &ctx, &id, &given(&b), v).await?;
    let version = a.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        AnnouncementOut::from(a),
        None,
    ))
}

/// Takes an announcement down for good (managers).
#[utoipa::path(delete, path = "/api/v1/announcements/{id}", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 204),
              (status = 403, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn delete_announcement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    announcements::delete(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
