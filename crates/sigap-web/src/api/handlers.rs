//! API handlers: parse, call one use case, map.

use super::dto::*;
use super::params::{GroupTypeCode, OrgKindCode, RoleCode, list_query};
use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch, etag_value};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::{BufMut, BytesMut};
use sigap_core::{groups, orgs, people, tokens};

/// A JSON record with its `ETag` (and `Location`), built in place: the body is written
/// straight into the buffer the response sends, the headers into the response's own map.
pub(crate) fn with_etag<T: serde::Serialize>(
    status: StatusCode,
    version: i64,
    body: T,
    location: Option<String>,
) -> Response {
    let mut buf = BytesMut::with_capacity(256).writer();
    let mut resp = match serde_json::to_writer(&mut buf, &body) {
        Ok(()) => {
            let mut resp = Response::new(Body::from(buf.into_inner().freeze()));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        // What axum answers when a body cannot be serialized.
        Err(_) => Json(body).into_response(),
    };
    *resp.status_mut() = status;
    let h = resp.headers_mut();
    if let Some(v) = etag_value(version) {
        h.insert(header::ETAG, v);
    }
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        h.insert(header::LOCATION, loc);
    }
    resp
}

// ----- me -----

/// Yourself.
#[utoipa::path(get, path = "/api/v1/me", tag = "me", responses(
    (status = 200, body = PersonOut), (status = 401, body = Problem, content_type = "application/problem+json")))]
pub async fn get_me(State(s): State<AppState>, Caller(ctx): Caller) -> ApiResult<Response> {
    let me = ctx.principal.person()?;
    let p = people::get(&s.core, &ctx, &me.to_string()).await?;
    Ok(with_etag(
        StatusCode::OK,
        p.version,
        PersonOut::from(p),
        None,
    ))
}

/// Changes your name, e-mail, language or time zone.
#[utoipa::path(patch, path = "/api/v1/me", tag = "me", request_body = ProfileIn, params(("If-Match" = Option<String>, Header, description = "ETag you read")),
    responses((status = 200, body = PersonOut), (status = 412, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_me(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<ProfileIn>,
) -> ApiResult<Response> {
    let input = people::ProfileInput {
        name: body.name,
        email: body.email,
        locale: body.locale,
        time_zone: body.time_zone,
    };
    let p = people::update_profile(&s.core, &ctx, input, v).await?;
    Ok(with_etag(
        StatusCode::OK,
        p.version,
        PersonOut::from(p),
        None,
    ))
}

/// Changes your password; your other sessions end.
#[utoipa::path(post, path = "/api/v1/me/password", tag = "me", request_body = PasswordChangeIn,
    responses((status = 204), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn change_password(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<PasswordChangeIn>,
) -> ApiResult<StatusCode> {
    people::change_own_password(&s.core, &ctx, &body.current_password, &body.new_password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Your API tokens (never the secrets).
#[utoipa::path(get, path = "/api/v1/me/tokens", tag = "me", responses((status = 200, body = Vec<TokenOut>)))]
pub async fn list_tokens(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<TokenOut>>> {
    Ok(Json(
        tokens::list_mine(&s.core, &ctx)
            .await?
            .into_iter()
            .map(TokenOut::from)
            .collect(),
    ))
}

/// Creates an API token; the answer carries it once in `token`.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "me", request_body = TokenIn,
    responses((status = 201, body = TokenOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<TokenIn>,
) -> ApiResult<Response> {
    let input = tokens::TokenInput {
        name: Some(body.name),
        scope: body.scope,
        expires_at: body.expires_at,
    };
    let (t, plaintext) = tokens::create(&s.core, &ctx, input).await?;
    let location = format!("/api/v1/me/tokens/{}", t.id);
    let mut out = TokenOut::from(t);
    out.token = Some(plaintext);
    let mut resp = (StatusCode::CREATED, Json(out)).into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// Revokes one of your tokens.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", tag = "me", params(("id" = String, Path)),
    responses((status = 200, body = TokenOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<TokenOut>> {
    Ok(Json(TokenOut::from(
        tokens::revoke(&s.core, &ctx, &id).await?,
    )))
}

// ----- people -----

list_query!(
    /// The filters of the people list.
    PeopleQuery, sort = people::SORT_FIELDS, q = "Text search over login, name and e-mail.",
    {
        /// `true` for active people only, `false` for inactive ones.
        #[serde(default, deserialize_with = "crate::api::params::flag")]
        active: Option<bool>,
        /// Organization id or name.
        organization: Option<String>,
        /// People holding this role.
        #[param(inline)]
        role: Option<RoleCode>,
        /// Members of this group (id or name).
        group: Option<String>,
    }
);

/// People visible to you. Sort by `name`, `login`, `created_at`.
#[utoipa::path(get, path = "/api/v1/people", tag = "people", params(PeopleQuery),
    responses((status = 200, body = Page<PersonOut>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn list_people(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<PeopleQuery>,
) -> ApiResult<Json<Page<PersonOut>>> {
    let params = q.page()?;
    let query = people::PersonQuery {
        active: q.active.map(|a| a.to_string()),
        organization: q.organization,
        role: q.role.map(|r| r.code().to_owned()),
        group: q.group,
        q: q.q,
    };
    let page = people::list(&s.core, &ctx, query, &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(PersonOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a person (administrators).
#[utoipa::path(post, path = "/api/v1/people", tag = "people", request_body = PersonIn,
    responses((status = 201, body = PersonOut), (status = 409, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_person(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<PersonIn>,
) -> ApiResult<Response> {
    let p = people::create(&s.core, &ctx, body.into()).await?;
    let location = format!("/api/v1/people/{}", p.id);
    Ok(with_etag(
        StatusCode::CREATED,
        p.version,
        PersonOut::from(p),
        Some(location),
    ))
}

/// A person, by id or login.
#[utoipa::path(get, path = "/api/v1/people/{key}", tag = "people", params(("key" = String, Path, description = "id or login")),
    responses((status = 200, body = PersonOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_person(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let p = people::get(&s.core, &ctx, &key).await?;
    Ok(with_etag(
        StatusCode::OK,
        p.version,
        PersonOut::from(p),
        None,
    ))
}

/// Changes a person (administrators).
#[utoipa::path(patch, path = "/api/v1/people/{key}", tag = "people", request_body = PersonIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = PersonOut), (status = 412, body = Problem, content_type = "application/problem+json"),
              (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_person(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<PersonIn>,
) -> ApiResult<Response> {
    let p = people::update(&s.core, &ctx, &key, body.into(), v).await?;
    Ok(with_etag(
        StatusCode::OK,
        p.version,
        PersonOut::from(p),
        None,
    ))
}

/// Sets a person's password (administrators); their sessions end.
#[utoipa::path(post, path = "/api/v1/people/{key}/password", tag = "people", request_body = PasswordSetIn, params(("key" = String, Path)),
    responses((status = 204), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn set_person_password(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<PasswordSetIn>,
) -> ApiResult<StatusCode> {
    people::set_password(&s.core, &ctx, &key, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A person's change history.
#[utoipa::path(get, path = "/api/v1/people/{key}/history", tag = "audit", params(("key" = String, Path)),
    responses((status = 200, body = Vec<AuditOut>)))]
pub async fn person_history(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<AuditOut>>> {
    let p = people::get(&s.core, &ctx, &key).await?;
    let rows = sigap_core::audit::history(&s.core, &ctx, "person", &p.id.to_string()).await?;
    Ok(Json(rows.into_iter().map(AuditOut::from).collect()))
}

// ----- organizations -----

list_query!(
    /// The filters of the organization list.
    OrganizationQuery, sort = orgs::SORT_FIELDS, q = "Text search over the name and description.",
    {
        /// Only organizations of this kind.
        #[param(inline)]
        kind: Option<OrgKindCode>,
        /// `true` for active organizations only, `false` for inactive ones.
        #[serde(default, deserialize_with = "crate::api::params::flag")]
        active: Option<bool>,
    }
);

/// Organizations visible to you. Sort by `name`, `kind`, `created_at`.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "organizations", params(OrganizationQuery),
    responses((status = 200, body = Page<OrganizationOut>)))]
pub async fn list_organizations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<OrganizationQuery>,
) -> ApiResult<Json<Page<OrganizationOut>>> {
    let params = q.page()?;
    let query = orgs::OrgQuery {
        kind: q.kind.map(|k| k.code().to_owned()),
        active: q.active.map(|a| a.to_string()),
        q: q.q,
    };
    let page = orgs::list(&s.core, &ctx, query, &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(OrganizationOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates an organization (administrators).
#[utoipa::path(post, path = "/api/v1/organizations", tag = "organizations", request_body = OrganizationIn,
    responses((status = 201, body = OrganizationOut), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn create_organization(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<OrganizationIn>,
) -> ApiResult<Response> {
    let o = orgs::create(&s.core, &ctx, body.into()).await?;
    let location = format!("/api/v1/organizations/{}", o.id);
    Ok(with_etag(
        StatusCode::CREATED,
        o.version,
        OrganizationOut::from(o),
        Some(location),
    ))
}

/// An organization, by id or name.
#[utoipa::path(get, path = "/api/v1/organizations/{key}", tag = "organizations", params(("key" = String, Path)),
    responses((status = 200, body = OrganizationOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_organization(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let o = orgs::get(&s.core, &ctx, &key).await?;
    Ok(with_etag(
        StatusCode::OK,
        o.version,
        OrganizationOut::from(o),
        None,
    ))
}

/// Changes an organization (administrators).
#[utoipa::path(patch, path = "/api/v1/organizations/{key}", tag = "organizations", request_body = OrganizationIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = OrganizationOut), (status = 412, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_organization(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<OrganizationIn>,
) -> ApiResult<Response> {
    let o = orgs::update(&s.core, &ctx, &key, body.into(), v).await?;
    Ok(with_etag(
        StatusCode::OK,
        o.version,
        OrganizationOut::from(o),
        None,
    ))
}

/// Deletes an organization nobody belongs to (administrators).
#[utoipa::path(delete, path = "/api/v1/organizations/{key}", tag = "organizations",
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_organization(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    orgs::delete(&s.core, &ctx, &key, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An organization's change history.
#[utoipa::path(get, path = "/api/v1/organizations/{key}/history", tag = "audit", params(("key" = String, Path)),
    responses((status = 200, body = Vec<AuditOut>)))]
pub async fn organization_history(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<AuditOut>>> {
    let o = orgs::get(&s.core, &ctx, &key).await?;
    let rows = sigap_core::audit::history(&s.core, &ctx, "organization", &o.id.to_string()).await?;
    Ok(Json(rows.into_iter().map(AuditOut::from).collect()))
}

// ----- groups -----

list_query!(
    /// The filters of the group list.
    GroupQuery, sort = groups::SORT_FIELDS, q = "Text search over the name and description.",
    {
        /// Only groups of this type.
        #[serde(rename = "type")]
        #[param(rename = "type", inline)]
        group_type: Option<GroupTypeCode>,
        /// `true` for active groups only, `false` for inactive ones.
        #[serde(default, deserialize_with = "crate::api::params::flag")]
        active: Option<bool>,
        /// Groups with this member (id or login).
        member: Option<String>,
    }
);

/// Support groups (agents and above). Sort by `name`, `type`, `created_at`.
#[utoipa::path(get, path = "/api/v1/groups", tag = "groups", params(GroupQuery),
    responses((status = 200, body = Page<GroupOut>), (status = 403, body = Problem, content_type = "application/problem+json")))]
pub async fn list_groups(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<GroupQuery>,
) -> ApiResult<Json<Page<GroupOut>>> {
    let params = q.page()?;
    let query = groups::GroupQuery {
        group_type: q.group_type.map(|t| t.code().to_owned()),
        active: q.active.map(|a| a.to_string()),
        member: q.member,
        q: q.q,
    };
    let page = groups::list(&s.core, &ctx, query, &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(GroupOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a group (administrators).
#[utoipa::path(post, path = "/api/v1/groups", tag = "groups", request_body = GroupIn,
    responses((status = 201, body = GroupOut), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn create_group(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<GroupIn>,
) -> ApiResult<Response> {
    let g = groups::create(&s.core, &ctx, body.into()).await?;
    let location = format!("/api/v1/groups/{}", g.id);
    Ok(with_etag(
        StatusCode::CREATED,
        g.version,
        GroupOut::from(g),
        Some(location),
    ))
}

/// A group, by id or name.
#[utoipa::path(get, path = "/api/v1/groups/{key}", tag = "groups", params(("key" = String, Path)),
    responses((status = 200, body = GroupOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_group(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let g = groups::get(&s.core, &ctx, &key).await?;
    Ok(with_etag(
        StatusCode::OK,
        g.version,
        GroupOut::from(g),
        None,
    ))
}

/// Changes a group (administrators).
#[utoipa::path(patch, path = "/api/v1/groups/{key}", tag = "groups", request_body = GroupIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = GroupOut), (status = 412, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_group(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<GroupIn>,
) -> ApiResult<Response> {
    let g = groups::update(&s.core, &ctx, &key, body.into(), v).await?;
    Ok(with_etag(
        StatusCode::OK,
        g.version,
        GroupOut::from(g),
        None,
    ))
}

/// Deletes a group (administrators).
#[utoipa::path(delete, path = "/api/v1/groups/{key}", tag = "groups", params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204)))]
pub async fn delete_group(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    groups::delete(&s.core, &ctx, &key, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A group's members.
#[utoipa::path(get, path = "/api/v1/groups/{key}/members", tag = "groups", params(("key" = String, Path)),
    responses((status = 200, body = Vec<MemberOut>)))]
pub async fn list_members(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<MemberOut>>> {
    let (_, members) = groups::members(&s.core, &ctx, &key).await?;
    Ok(Json(members.into_iter().map(MemberOut::from).collect()))
}

/// Adds a member (administrators and the group's manager).
#[utoipa::path(post, path = "/api/v1/groups/{key}/members", tag = "groups", request_body = MemberIn, params(("key" = String, Path)),
    responses((status = 200, body = Vec<MemberOut>)))]
pub async fn add_member(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<MemberIn>,
) -> ApiResult<Json<Vec<MemberOut>>> {
    let members = groups::set_member(&s.core, &ctx, &key, &body.person, true).await?;
    Ok(Json(members.into_iter().map(MemberOut::from).collect()))
}

/// Removes a member (administrators and the group's manager).
#[utoipa::path(delete, path = "/api/v1/groups/{key}/members/{person}", tag = "groups", params(("key" = String, Path), ("person" = String, Path)),
    responses((status = 200, body = Vec<MemberOut>)))]
pub async fn remove_member(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath((key, person)): ApiPath<(String, String)>,
) -> ApiResult<Json<Vec<MemberOut>>> {
    let members = groups::set_member(&s.core, &ctx, &key, &person, false).await?;
    Ok(Json(members.into_iter().map(MemberOut::from).collect()))
}

/// A group's change history.
#[utoipa::path(get, path = "/api/v1/groups/{key}/history", tag = "audit", params(("key" = String, Path)),
    responses((status = 200, body = Vec<AuditOut>)))]
pub async fn group_history(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<AuditOut>>> {
    let g = groups::get(&s.core, &ctx, &key).await?;
    let rows = sigap_core::audit::history(&s.core, &ctx, "group", &g.id.to_string()).await?;
    Ok(Json(rows.into_iter().map(AuditOut::from).collect()))
}
