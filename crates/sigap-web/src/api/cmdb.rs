//! API of the CMDB: classes, configuration items, relationships, impact analysis and CSV
//! import and export.

use super::dto::{AuditOut, Page, Ref, Time, nullable, ts};
use super::handlers::with_etag;
use super::params::{CiStatusCode, codes_enum, list_query};
use super::portfolio::CiRefOut;
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, CsvBody, IfMatch};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sigap_core::cmdb::{self, Affected, Impact, PathStep, Reached};
use sigap_core::cmdb_csv::{self, ImportKind, ImportReport};
use sigap_core::model::{Ci, CiClass, Relationship};
use sigap_domain::cmdb::AttrDef;
use utoipa::ToSchema;
use uuid::Uuid;

// ----- classes -----

/// One attribute a class defines.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttrDefDto {
    /// Lower-case letters, digits and underscores.
    pub code: String,
    pub label: String,
    /// text, integer, number, boolean, date or choice.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    /// The allowed values of a choice.
    #[serde(default)]
    pub choices: Vec<String>,
}

impl AttrDefDto {
    fn into_def(self, i: usize) -> Result<AttrDef, ApiError> {
        let kind = sigap_domain::cmdb::AttrType::parse(&self.kind).map_err(|e| {
            ApiError::App(sigap_core::AppError::Validation(vec![
                sigap_core::FieldError::from_invalid(format!("attributes[{i}].type"), e),
            ]))
        })?;
        Ok(AttrDef {
            code: self.code,
            label: self.label,
            kind,
            required: self.required,
            choices: self.choices,
        })
    }
}

impl From<AttrDef> for AttrDefDto {
    fn from(d: AttrDef) -> Self {
        Self {
            code: d.code,
            label: d.label,
            kind: d.kind.code().into(),
            required: d.required,
            choices: d.choices,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ClassOut {
    pub id: Uuid,
    pub code: String,
    pub name: String,
    /// Built-in classes cannot be deleted.
    pub builtin: bool,
    pub attributes: Vec<AttrDefDto>,
    pub version: i64,
}

impl From<CiClass> for ClassOut {
    fn from(c: CiClass) -> Self {
        Self {
            attributes: cmdb::attr_defs(&c)
                .into_iter()
                .map(AttrDefDto::from)
                .collect(),
            id: c.id.as_uuid(),
            code: c.code,
            name: c.name,
            builtin: c.builtin,
            version: c.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ClassIn {
    /// On create only.
    pub code: Option<String>,
    pub name: Option<String>,
    /// Replaces the attribute definitions.
    pub attributes: Option<Vec<AttrDefDto>>,
}

impl ClassIn {
    fn into_input(self) -> Result<cmdb::ClassInput, ApiError> {
        let attributes = match self.attributes {
            Some(list) => Some(
                list.into_iter()
                    .enumerate()
                    .map(|(i, d)| d.into_def(i))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
            None => None,
        };
        Ok(cmdb::ClassInput {
            code: self.code,
            name: self.name,
            attributes,
        })
    }
}

/// CI classes, built-in ones first (agents).
#[utoipa::path(get, path = "/api/v1/ci_classes", tag = "cmdb", responses((status = 200, body = Vec<ClassOut>)))]
pub async fn list_classes(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<ClassOut>>> {
    let list = cmdb::classes(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(ClassOut::from).collect()))
}

/// Adds a class of your own with its attribute definitions (administrators).
#[utoipa::path(post, path = "/api/v1/ci_classes", tag = "cmdb", request_body = ClassIn,
    responses((status = 201, body = ClassOut), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn create_class(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<ClassIn>,
) -> ApiResult<Response> {
    let c = cmdb::create_class(&s.core, &ctx, body.into_input()?).await?;
    let location = format!("/api/v1/ci_classes/{}", c.code);
    Ok(with_etag(
        StatusCode::CREATED,
        c.version,
        ClassOut::from(c),
        Some(location),
    ))
}

/// A class, by id or code.
#[utoipa::path(get, path = "/api/v1/ci_classes/{key}", tag = "cmdb", params(("key" = String, Path)),
    responses((status = 200, body = ClassOut)))]
pub async fn get_class(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let c = cmdb::get_class(&s.core, &ctx, &key).await?;
    Ok(with_etag(
        StatusCode::OK,
        c.version,
        ClassOut::from(c),
        None,
    ))
}

/// Renames a class or replaces its attribute definitions (administrators).
#[utoipa::path(patch, path = "/api/v1/ci_classes/{key}", tag = "cmdb", request_body = ClassIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)), responses((status = 200, body = ClassOut)))]
pub async fn patch_class(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<ClassIn>,
) -> ApiResult<Response> {
    let c = cmdb::update_class(&s.core, &ctx, &key, body.into_input()?, v).await?;
    Ok(with_etag(
        StatusCode::OK,
        c.version,
        ClassOut::from(c),
        None,
    ))
}

/// Deletes a class of your own that no CI belongs to (administrators).
#[utoipa::path(delete, path = "/api/v1/ci_classes/{key}", tag = "cmdb",
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)), responses((status = 204)))]
pub async fn delete_class(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    cmdb::delete_class(&s.core, &ctx, &key, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- configuration items -----

#[derive(Debug, Serialize, ToSchema)]
pub struct CiOut {
    pub id: Uuid,
    /// The class code.
    pub class: String,
    pub class_name: String,
    pub name: String,
    /// planned, in_build, operational, maintenance or retired.
    pub status: String,
    pub owner_group: Option<Ref>,
    pub location: String,
    pub serial: String,
    /// Values of the class's attributes.
    #[schema(value_type = Object)]
    pub attributes: serde_json::Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    pub version: i64,
}

impl From<Ci> for CiOut {
    fn from(c: Ci) -> Self {
        Self {
            id: c.id.as_uuid(),
            class: c.class_code,
            class_name: c.class_name,
            name: c.name,
            status: c.status.code().into(),
            owner_group: c.owner_group.map(|g| Ref {
                id: g.id.as_uuid(),
                display: g.name,
            }),
            location: c.location,
            serial: c.serial,
            attributes: c.attributes,
            created_at: ts(c.created_at),
            updated_at: ts(c.updated_at),
            version: c.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RelationshipOut {
    pub id: Uuid,
    pub source: CiRefOut,
    /// depends_on, runs_on, hosted_on, connects_to, uses or member_of.
    #[serde(rename = "type")]
    pub kind: String,
    pub target: CiRefOut,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
}

impl From<Relationship> for RelationshipOut {
    fn from(r: Relationship) -> Self {
        Self {
            id: r.id.as_uuid(),
            source: r.source.into(),
            kind: r.kind.code().into(),
            target: r.target.into(),
            created_at: ts(r.created_at),
        }
    }
}

/// A CI with its relationships and the services it delivers directly.
#[derive(Debug, Serialize, ToSchema)]
pub struct CiDetailOut {
    #[serde(flatten)]
    pub ci: CiOut,
    pub relationships: Vec<RelationshipOut>,
    pub services: Vec<Ref>,
}

/// Fields of a configuration item. On create `class` and `name` are required; names are
/// unique within a class.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CiIn {
    /// Class code or id.
    pub class: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    /// Support group id or name; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub owner_group: Option<Option<String>>,
    pub location: Option<String>,
    pub serial: Option<String>,
    /// Attribute values by code, checked against the class; replaces the whole set.
    #[schema(value_type = Option<Object>)]
    pub attributes: Option<serde_json::Map<String, serde_json::Value>>,
}

impl From<CiIn> for cmdb::CiInput {
    fn from(c: CiIn) -> Self {
        Self {
            class: c.class,
            name: c.name,
            status: c.status,
            owner_group: c.owner_group,
            location: c.location,
            serial: c.serial,
            attributes: c.attributes,
        }
    }
}

list_query!(
    /// The filters of the configuration item list.
    CiQuery, sort = cmdb::CI_SORT_FIELDS, q = "Part of the name, serial number or location.",
    {
        /// Class codes or ids, separated by commas.
        class: Option<String>,
        /// Only items in this state.
        #[param(inline)]
        status: Option<CiStatusCode>,
        /// Owned by this group (id or name).
        owner_group: Option<String>,
    }
);

/// Configuration items (agents). Filter by `class` (codes, comma-separated), `status`,
/// `owner_group`, `q` (name, serial or location); sort by `name`, `status`, `created_at`,
/// `updated_at`.
#[utoipa::path(get, path = "/api/v1/configuration_items", tag = "cmdb", params(CiQuery),
    responses((status = 200, body = Page<CiOut>)))]
pub async fn list_cis(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<CiQuery>,
) -> ApiResult<Json<Page<CiOut>>> {
    let params = q.page()?;
    let query = cmdb::CiQuery {
        class: q.class,
        status: q.status.map(|v| v.code().to_owned()),
        owner_group: q.owner_group,
        q: q.q,
    };
    let page = cmdb::list_cis(&s.core, &ctx, query, &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(CiOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a configuration item (agents).
#[utoipa::path(post, path = "/api/v1/configuration_items", tag = "cmdb", request_body = CiIn,
    responses((status = 201, body = CiOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_ci(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<CiIn>,
) -> ApiResult<Response> {
    let c = cmdb::create_ci(&s.core, &ctx, body.into()).await?;
    let location = format!("/api/v1/configuration_items/{}", c.id);
    Ok(with_etag(
        StatusCode::CREATED,
        c.version,
        CiOut::from(c),
        Some(location),
    ))
}

/// A configuration item with its relationships and the services it delivers.
#[utoipa::path(get, path = "/api/v1/configuration_items/{id}", tag = "cmdb", params(("id" = String, Path)),
    responses((status = 200, body = CiDetailOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_ci(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let d = cmdb::ci_detail(&s.core, &ctx, &id).await?;
    let version = d.ci.version;
    let out = CiDetailOut {
        ci: d.ci.into(),
        relationships: d
            .relationships
            .into_iter()
            .map(RelationshipOut::from)
            .collect(),
        services: d
            .services
            .into_iter()
            .map(|(id, name)| Ref {
                id: id.as_uuid(),
                display: name,
            })
            .collect(),
    };
    Ok(with_etag(StatusCode::OK, version, out, None))
}

/// Changes a configuration item (agents).
#[utoipa::path(patch, path = "/api/v1/configuration_items/{id}", tag = "cmdb", request_body = CiIn,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)), responses((status = 200, body = CiOut)))]
pub async fn patch_ci(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<CiIn>,
) -> ApiResult<Response> {
    let c = cmdb::update_ci(&s.core, &ctx, &id, body.into(), v).await?;
    Ok(with_etag(StatusCode::OK, c.version, CiOut::from(c), None))
}

/// Deletes a configuration item with its relationships (agents).
#[utoipa::path(delete, path = "/api/v1/configuration_items/{id}", tag = "cmdb",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)), responses((status = 204)))]
pub async fn delete_ci(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    cmdb::delete_ci(&s.core, &ctx, &id, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A configuration item's change history.
#[utoipa::path(get, path = "/api/v1/configuration_items/{id}/history", tag = "audit", params(("id" = String, Path)),
    responses((status = 200, body = Vec<AuditOut>)))]
pub async fn ci_history(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<Vec<AuditOut>>> {
    let c = cmdb::get_ci(&s.core, &ctx, &id).await?;
    let rows = sigap_core::audit::history(&s.core, &ctx, "ci", &c.id.to_string()).await?;
    Ok(Json(rows.into_iter().map(AuditOut::from).collect()))
}

// ----- relationships -----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationshipIn {
    /// Source CI id: the one that depends, runs on, is hosted on, uses, connects or is a member.
    pub source: Option<String>,
    /// depends_on, runs_on, hosted_on, connects_to, uses or member_of.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Target CI id.
    pub target: Option<String>,
}

/// Adds a relationship (agents). The same relationship twice is one: the second answer is
/// 200 with the existing one.
#[utoipa::path(post, path = "/api/v1/relationships", tag = "cmdb", request_body = RelationshipIn,
    responses((status = 201, body = RelationshipOut), (status = 200, body = RelationshipOut)))]
pub async fn create_relationship(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<RelationshipIn>,
) -> ApiResult<Response> {
    let input = cmdb::RelInput {
        source: body.source,
        kind: body.kind,
        target: body.target,
    };
    let (r, created) = cmdb::create_rel(&s.core, &ctx, input).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let mut resp = (status, Json(RelationshipOut::from(r.clone()))).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("/api/v1/relationships/{}", r.id)) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    Ok(resp)
}

/// A relationship.
#[utoipa::path(get, path = "/api/v1/relationships/{id}", tag = "cmdb", params(("id" = String, Path)),
    responses((status = 200, body = RelationshipOut)))]
pub async fn get_relationship(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<RelationshipOut>> {
    Ok(Json(cmdb::get_rel(&s.core, &ctx, &id).await?.into()))
}

/// Removes a relationship (agents).
#[utoipa::path(delete, path = "/api/v1/relationships/{id}", tag = "cmdb", params(("id" = String, Path)),
    responses((status = 204)))]
pub async fn delete_relationship(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    cmdb::delete_rel(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- impact analysis -----

#[derive(Debug, Serialize, ToSchema)]
pub struct PathStepOut {
    pub from: CiRefOut,
    pub to: CiRefOut,
    #[serde(rename = "type")]
    pub kind: String,
    /// `true` when the step went from the relationship's target to its source (the usual
    /// way impact travels: from what is depended on to what depends on it).
    pub reversed: bool,
}

impl From<PathStep> for PathStepOut {
    fn from(p: PathStep) -> Self {
        Self {
            from: p.from.into(),
            to: p.to.into(),
            kind: p.kind.code().into(),
            reversed: p.reversed,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReachedOut {
    pub configuration_item: CiRefOut,
    /// Steps from the start.
    pub depth: u32,
    /// The step that reached this CI, the last of a shortest path: follow `via.from` back
    /// through the list to the start. Absent for a start.
    pub via: Option<PathStepOut>,
}

impl From<Reached> for ReachedOut {
    fn from(r: Reached) -> Self {
        Self {
            configuration_item: r.ci.into(),
            depth: r.depth,
            via: r.via.map(PathStepOut::from),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AffectedOut {
    pub id: Uuid,
    pub display: String,
    pub active: bool,
    pub depth: u32,
    /// The impacted CI that delivers it; absent when reached through its service.
    pub via_configuration_item: Option<Uuid>,
    /// For an offering: its service.
    pub service: Option<Uuid>,
    /// A shortest path from the analysed CI to the CI that delivers it.
    pub path: Vec<PathStepOut>,
}

fn affected<T>(id: Uuid, a: Affected<T>) -> AffectedOut {
    AffectedOut {
        id,
        display: a.name,
        active: a.active,
        depth: a.depth,
        via_configuration_item: a.via_ci.map(|c| c.as_uuid()),
        service: a.service.map(|s| s.as_uuid()),
        path: a.path.into_iter().map(PathStepOut::from).collect(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CustomerOut {
    pub id: Uuid,
    pub display: String,
    pub via_services: Vec<Uuid>,
}

/// What depends on a CI, transitively.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImpactOut {
    pub configuration_item: CiRefOut,
    pub configuration_items: Vec<ReachedOut>,
    pub services: Vec<AffectedOut>,
    pub offerings: Vec<AffectedOut>,
    pub customers: Vec<CustomerOut>,
    /// True when the walk stopped at its limit of CIs.
    pub truncated: bool,
}

impl From<Impact> for ImpactOut {
    fn from(i: Impact) -> Self {
        Self {
            configuration_item: i.ci.into(),
            configuration_items: i.cis.into_iter().map(ReachedOut::from).collect(),
            services: i
                .services
                .into_iter()
                .map(|a| affected(a.id.as_uuid(), a))
                .collect(),
            offerings: i
                .offerings
                .into_iter()
                .map(|a| affected(a.id.as_uuid(), a))
                .collect(),
            customers: i
                .customers
                .into_iter()
                .map(|c| CustomerOut {
                    id: c.id.as_uuid(),
                    display: c.name,
                    via_services: c.via_services.iter().map(|s| s.as_uuid()).collect(),
                })
                .collect(),
            truncated: i.truncated,
        }
    }
}

/// Impact analysis: the CIs, services, offerings and customers that depend on this CI,
/// transitively, each with a shortest path. Impact travels from target to source along
/// depends_on, runs_on, hosted_on and uses; from a member to its group along member_of;
/// both ways along connects_to.
#[utoipa::path(get, path = "/api/v1/configuration_items/{id}/impact", tag = "cmdb", params(("id" = String, Path)),
    responses((status = 200, body = ImpactOut)))]
pub async fn ci_impact(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ImpactOut>> {
    Ok(Json(cmdb::impact(&s.core, &ctx, &id).await?.into()))
}

fn svg_response(svg: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response()
}

/// The impact of a CI drawn as an SVG dependency graph.
#[utoipa::path(get, path = "/api/v1/configuration_items/{id}/impact.svg", tag = "cmdb", params(("id" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String)))]
pub async fn ci_impact_svg(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let impact = cmdb::impact(&s.core, &ctx, &id).await?;
    let tr = crate::i18n::Tr {
        i18n: &s.i18n,
        locale: ctx.principal.locale,
    };
    let labels = crate::graph::labels(tr, impact.ci.name.clone());
    Ok(svg_response(crate::graph::impact_svg(&impact, &labels)))
}

/// What a service depends on.
#[derive(Debug, Serialize, ToSchema)]
pub struct DependenciesOut {
    pub service: Uuid,
    /// The CIs linked to the service (depth 0) and what they rely on, transitively.
    pub configuration_items: Vec<ReachedOut>,
    pub truncated: bool,
}

/// The CIs a service depends on: those linked to it and, transitively, what they rely on.
#[utoipa::path(get, path = "/api/v1/services/{key}/dependencies", tag = "services", params(("key" = String, Path)),
    responses((status = 200, body = DependenciesOut)))]
pub async fn service_dependencies(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<DependenciesOut>> {
    let d = cmdb::dependencies(&s.core, &ctx, &key).await?;
    Ok(Json(DependenciesOut {
        service: d.service.as_uuid(),
        configuration_items: d.cis.into_iter().map(ReachedOut::from).collect(),
        truncated: d.truncated,
    }))
}

/// A service's dependencies drawn as an SVG graph.
#[utoipa::path(get, path = "/api/v1/services/{key}/dependencies.svg", tag = "services", params(("key" = String, Path)),
    responses((status = 200, content_type = "image/svg+xml", body = String)))]
pub async fn service_dependencies_svg(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let service = sigap_core::portfolio::get(&s.core, &ctx, &key).await?;
    let d = cmdb::dependencies(&s.core, &ctx, &key).await?;
    let tr = crate::i18n::Tr {
        i18n: &s.i18n,
        locale: ctx.principal.locale,
    };
    let labels = crate::graph::labels(tr, service.name.clone());
    Ok(svg_response(crate::graph::dependencies_svg(
        &service.name,
        &d,
        &labels,
    )))
}

// ----- import and export -----

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// What the file holds.
    #[param(inline)]
    pub kind: CmdbKind,
    /// `true` to check the file without importing it.
    #[serde(default, deserialize_with = "super::params::flag")]
    pub dry_run: Option<bool>,
}

codes_enum!(
    /// What a CMDB file holds: configuration items or relationships.
    CmdbKind {
        Cis = "cis",
        Relationships = "relationships",
    }
);

#[derive(Debug, Serialize, ToSchema)]
pub struct LineErrorOut {
    /// The line of the file (1 is the header).
    pub line: u64,
    pub field: Option<String>,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportReportOut {
    pub kind: String,
    pub dry_run: bool,
    /// Whether the file was imported: not a dry run and no line wrong.
    pub applied: bool,
    /// Data lines read.
    pub lines: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Every refused line with its reason; when there is any, nothing was imported.
    pub errors: Vec<LineErrorOut>,
}

impl From<ImportReport> for ImportReportOut {
    fn from(r: ImportReport) -> Self {
        Self {
            kind: r.kind.code().into(),
            dry_run: r.dry_run,
            applied: r.applied,
            lines: r.lines,
            created: r.created,
            updated: r.updated,
            unchanged: r.unchanged,
            errors: r
                .errors
                .into_iter()
                .map(|e| LineErrorOut {
                    line: e.line,
                    field: e.field,
                    code: e.code.into(),
                    message: e.message,
                })
                .collect(),
        }
    }
}

fn import_kind(kind: CmdbKind) -> Result<ImportKind, ApiError> {
    Ok(ImportKind::parse(kind.code())?)
}

/// Imports CIs or relationships from CSV (`Content-Type: text/csv`). Every line is checked
/// first; when any is wrong nothing is imported and the report lists every wrong line. With
/// `dry_run=true` nothing is imported in any case. Lines equal to what is stored change
/// nothing, so importing the same file again changes nothing.
#[utoipa::path(post, path = "/api/v1/cmdb/import", tag = "cmdb", params(ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = ImportReportOut), (status = 415, body = Problem, content_type = "application/problem+json")))]
pub async fn import_csv(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ImportQuery>,
    CsvBody(bytes): CsvBody,
) -> ApiResult<Json<ImportReportOut>> {
    let kind = import_kind(q.kind)?;
    let dry_run = q.dry_run.unwrap_or(false);
    let report = cmdb_csv::import(&s.core, &ctx, kind, &bytes, dry_run).await?;
    Ok(Json(report.into()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// What to export.
    #[param(inline)]
    pub kind: CmdbKind,
    /// At most this many lines; when rows are left out the response has `X-Truncated: true`.
    #[serde(default, deserialize_with = "super::params::int")]
    #[param(minimum = 1, maximum = 100_000_000)]
    pub limit: Option<i64>,
}

/// Exports every CI or every relationship as CSV, in the import's format; streamed, every row
/// unless `limit` is given (`X-Truncated: true` when it left rows out).
#[utoipa::path(get, path = "/api/v1/cmdb/export", tag = "cmdb", params(ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String,
        headers(("X-Truncated" = String, description = "`true` when `limit` left rows out")))))]
pub async fn export_csv(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let kind = import_kind(q.kind)?;
    let limit = super::params::export_limit(q.limit)?;
    let file = cmdb_csv::export(&s.core, &ctx, kind, limit).await?;
    Ok(super::csv::csv_response(file))
}
