//! API of the service portfolio: services and their lifecycle, offerings, the portfolio
//! process roles, projects and applications.

use super::dto::{Page, Ref, Time, nullable, nullable_date, ts};
use super::handlers::with_etag;
use super::params::{AppStatusCode, PortfolioStatusCode, ProjectStatusCode, StageCode, list_query};
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sigap_core::model::{Application, Project, ServiceRef};
use sigap_core::model::{GroupRef, PersonRef};
use sigap_core::model::{Offering, Service, StageMove};
use sigap_core::portfolio::{self, DesignPackage, LinkTarget};
use sigap_core::projects;
use sigap_domain::Stage;
use utoipa::ToSchema;
use uuid::Uuid;

fn person_ref(p: Option<PersonRef>) -> Option<Ref> {
    p.map(|p| Ref {
        id: p.id.as_uuid(),
        display: p.name,
    })
}

fn group_ref(g: Option<GroupRef>) -> Option<Ref> {
    g.map(|g| Ref {
        id: g.id.as_uuid(),
        display: g.name,
    })
}

fn service_ref(s: ServiceRef) -> Ref {
    Ref {
        id: s.id.as_uuid(),
        display: s.name,
    }
}

// ----- documentation of the design package -----

/// The service design package: requirements, proposed service level targets, dependencies,
/// risks and acceptance criteria. Each part is optional: a service not yet designed has `{}`.
#[allow(dead_code)]
#[derive(ToSchema)]
pub struct DesignPackageDoc {
    #[schema(required = false)]
    pub requirements: Vec<RequirementDoc>,
    #[schema(required = false)]
    pub service_level_targets: Vec<TargetDoc>,
    #[schema(required = false)]
    pub dependencies: Vec<String>,
    #[schema(required = false)]
    pub risks: Vec<RiskDoc>,
    #[schema(required = false)]
    pub acceptance_criteria: Vec<String>,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct RequirementDoc {
    pub text: String,
    /// must, should, could or wont.
    pub priority: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct TargetDoc {
    /// What is measured, e.g. `availability`.
    pub metric: String,
    /// The proposed target, e.g. `99.9 %`.
    pub target: String,
}

#[allow(dead_code)]
#[derive(ToSchema)]
pub struct RiskDoc {
    pub description: String,
    /// low, medium or high.
    pub likelihood: String,
    /// low, medium or high.
    pub impact: String,
    pub mitigation: String,
}

fn parse_design(v: serde_json::Value) -> Result<DesignPackage, ApiError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        let message = e.inner().to_string();
        ApiError::InvalidBody(vec![sigap_core::FieldError::new(
            if path == "." {
                "design".to_owned()
            } else {
                format!("design.{path}")
            },
            if message.starts_with("unknown field") {
                "unknown_field"
            } else {
                "invalid_type"
            },
            message,
        )])
    })
}

// ----- services -----

#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceOut {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    pub value_outcomes: String,
    /// define, analyse, approve, charter, design, transition, operational or retired.
    pub stage: String,
    /// pipeline, catalogue or retired (follows from the stage).
    pub status: String,
    /// 1 (most critical) to 4.
    pub criticality: i64,
    pub owner: Option<Ref>,
    pub sponsor: Option<Ref>,
    pub requester: Option<Ref>,
    pub design_group: Option<Ref>,
    /// In whole currency units.
    pub planned_cost: Option<i64>,
    pub actual_cost: Option<i64>,
    #[schema(format = Date)]
    pub review_date: Option<String>,
    #[schema(value_type = DesignPackageDoc)]
    pub design: serde_json::Value,
    /// The stages this service may move to next.
    pub next_stages: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    pub version: i64,
}

impl From<Service> for ServiceOut {
    fn from(s: Service) -> Self {
        Self {
            id: s.id.as_uuid(),
            status: s.status().code().into(),
            next_stages: s
                .stage
                .moves()
                .iter()
                .map(|m| m.code().to_owned())
                .collect(),
            stage: s.stage.code().into(),
            name: s.name,
            description: s.description,
            value_outcomes: s.value_outcomes,
            criticality: s.criticality.get(),
            owner: person_ref(s.owner),
            sponsor: person_ref(s.sponsor),
            requester: person_ref(s.requester),
            design_group: group_ref(s.design_group),
            planned_cost: s.planned_cost,
            actual_cost: s.actual_cost,
            review_date: s.review_date.map(|d| d.to_string()),
            design: s.design,
            created_at: ts(s.created_at),
            updated_at: ts(s.updated_at),
            version: s.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StageMoveOut {
    pub from: String,
    pub to: String,
    pub actor: String,
    pub actor_id: Option<Uuid>,
    pub reason: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Time,
}

impl From<StageMove> for StageMoveOut {
    fn from(m: StageMove) -> Self {
        Self {
            from: m.from.code().into(),
            to: m.to.code().into(),
            actor: m.actor,
            actor_id: m.actor_id.map(|p| p.as_uuid()),
            reason: m.reason,
            at: ts(m.at),
        }
    }
}

/// A configuration item as other records show it.
#[derive(Debug, Serialize, ToSchema)]
pub struct CiRefOut {
    pub id: Uuid,
    pub display: String,
    /// The class code.
    pub class: String,
}

impl From<sigap_core::model::CiRef> for CiRefOut {
    fn from(c: sigap_core::model::CiRef) -> Self {
        Self {
            id: c.id.as_uuid(),
            display: c.name,
            class: c.class_code,
        }
    }
}

/// A service with its customers, offerings, CIs, stage history and projects.
#[derive(Debug, Serialize, ToSchema)]
pub struct ServiceDetailOut {
    #[serde(flatten)]
    pub service: ServiceOut,
    pub customers: Vec<Ref>,
    pub offerings: Vec<OfferingOut>,
    pub configuration_items: Vec<CiRefOut>,
    pub stage_history: Vec<StageMoveOut>,
    pub projects: Vec<Ref>,
}

impl From<portfolio::ServiceDetail> for ServiceDetailOut {
    fn from(d: portfolio::ServiceDetail) -> Self {
        Self {
            service: d.service.into(),
            customers: d
                .customers
                .into_iter()
                .map(|c| Ref {
                    id: c.id.as_uuid(),
                    display: c.name,
                })
                .collect(),
            offerings: d.offerings.into_iter().map(OfferingOut::from).collect(),
            configuration_items: d.cis.into_iter().map(CiRefOut::from).collect(),
            stage_history: d.moves.into_iter().map(StageMoveOut::from).collect(),
            projects: d
                .projects
                .into_iter()
                .map(|p| Ref {
                    id: p.id.as_uuid(),
                    display: p.name,
                })
                .collect(),
        }
    }
}

/// Fields of a service. On create `name` is required; a new service starts in stage
/// `define`. The stage moves with `POST /services/{key}/stage`.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ServiceIn {
    pub name: Option<String>,
    pub description: Option<String>,
    pub value_outcomes: Option<String>,
    /// 1 (most critical) to 4; 3 when not given.
    pub criticality: Option<i64>,
    /// Service owner: person id or login; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub owner: Option<Option<String>>,
    /// Service sponsor (holds the budget).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub sponsor: Option<Option<String>>,
    /// Who asked for the service (requirements).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub requester: Option<Option<String>>,
    /// Design team: support group id or name.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub design_group: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub planned_cost: Option<Option<i64>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub actual_cost: Option<Option<i64>>,
    /// Next review, `YYYY-MM-DD`; the owner is reminded when it is due.
    #[serde(default, deserialize_with = "nullable_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub review_date: Option<Option<String>>,
    #[schema(value_type = Option<DesignPackageDoc>)]
    pub design: Option<serde_json::Value>,
    /// Organizations (ids or names) the service is offered to; replaces the list.
    pub customers: Option<Vec<String>>,
}

impl ServiceIn {
    fn into_input(self) -> Result<portfolio::ServiceInput, ApiError> {
        Ok(portfolio::ServiceInput {
            design: self.design.map(parse_design).transpose()?,
            name: self.name,
            description: self.description,
            value_outcomes: self.value_outcomes,
            criticality: self.criticality,
            owner: self.owner,
            sponsor: self.sponsor,
            requester: self.requester,
            design_group: self.design_group,
            planned_cost: self.planned_cost,
            actual_cost: self.actual_cost,
            review_date: self.review_date,
            customers: self.customers,
        })
    }
}

/// A move to another lifecycle stage.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageIn {
    /// The stage to move to: one step forward, one step back while in the pipeline, or
    /// `retired`. Moving from `approve` to `charter` needs the portfolio manager role.
    pub stage: String,
    /// Why; recorded with who and when.
    pub reason: String,
}

list_query!(
    /// The filters of the service list.
    ServiceQuery, sort = portfolio::SORT_FIELDS, q = "Text search over the name and description.",
    {
        /// Only services in this part of the portfolio.
        #[param(inline)]
        status: Option<PortfolioStatusCode>,
        /// Only services in this lifecycle stage.
        #[param(inline)]
        stage: Option<StageCode>,
        /// Only services of this business criticality, 1 (the highest) to 4.
        #[serde(default, deserialize_with = "crate::api::params::int")]
        #[param(minimum = 1, maximum = 4)]
        criticality: Option<i64>,
        /// The service owner (id or login).
        owner: Option<String>,
        /// Offered to this organization (id or name).
        customer: Option<String>,
    }
);

/// Services. Agents see the whole portfolio; others see the catalogue (people of customer
/// organizations only what is offered to them). Sort by `name`, `criticality`,
/// `created_at`, `updated_at`; filter by `status`, `stage`, `criticality`, `owner`,
/// `customer`, `q`.
#[utoipa::path(get, path = "/api/v1/services", tag = "services", params(ServiceQuery),
    responses((status = 200, body = Page<ServiceOut>)))]
pub async fn list_services(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ServiceQuery>,
) -> ApiResult<Json<Page<ServiceOut>>> {
    let params = q.page()?;
    let query = portfolio::ServiceQuery {
        status: q.status.map(|v| v.code().to_owned()),
        stage: q.stage.map(|v| v.code().to_owned()),
        criticality: q.criticality.map(|v| v.to_string()),
        owner: q.owner,
        customer: q.customer,
        q: q.q,
    };
    let page = portfolio::list(&s.core, &ctx, query, &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(ServiceOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a service in stage `define` (agents).
#[utoipa::path(post, path = "/api/v1/services", tag = "services", request_body = ServiceIn,
    responses((status = 201, body = ServiceOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_service(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<ServiceIn>,
) -> ApiResult<Response> {
    let svc = portfolio::create(&s.core, &ctx, body.into_input()?).await?;
    let location = format!("/api/v1/services/{}", svc.id);
    Ok(with_etag(
        StatusCode::CREATED,
        svc.version,
        ServiceOut::from(svc),
        Some(location),
    ))
}

/// A service by id or name, with customers, offerings, CIs, stage history and projects.
#[utoipa::path(get, path = "/api/v1/services/{key}", tag = "services", params(("key" = String, Path)),
    responses((status = 200, body = ServiceDetailOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_service(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let d = portfolio::detail(&s.core, &ctx, &key).await?;
    Ok(with_etag(
        StatusCode::OK,
        d.service.version,
        ServiceDetailOut::from(d),
        None,
    ))
}

/// Changes a service's fields (agents).
#[utoipa::path(patch, path = "/api/v1/services/{key}", tag = "services", request_body = ServiceIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ServiceOut), (status = 412, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_service(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<ServiceIn>,
) -> ApiResult<Response> {
    let svc = portfolio::update(&s.core, &ctx, &key, body.into_input()?, v).await?;
    Ok(with_etag(
        StatusCode::OK,
        svc.version,
        ServiceOut::from(svc),
        None,
    ))
}

/// Deletes a service nothing refers to (portfolio managers and administrators).
#[utoipa::path(delete, path = "/api/v1/services/{key}", tag = "services",
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 204), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn delete_service(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    portfolio::delete(&s.core, &ctx, &key, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moves a service to another lifecycle stage. Past `approve` only a portfolio manager may
/// move it (403 otherwise); retiring deactivates its offerings.
#[utoipa::path(post, path = "/api/v1/services/{key}/stage", tag = "services", request_body = StageIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ServiceOut), (status = 403, body = Problem, content_type = "application/problem+json"),
              (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn move_service_stage(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<StageIn>,
) -> ApiResult<Response> {
    let svc = portfolio::move_stage(&s.core, &ctx, &key, &body.stage, &body.reason, v).await?;
    Ok(with_etag(
        StatusCode::OK,
        svc.version,
        ServiceOut::from(svc),
        None,
    ))
}

/// A service's change history.
#[utoipa::path(get, path = "/api/v1/services/{key}/history", tag = "audit", params(("key" = String, Path)),
    responses((status = 200, body = Vec<super::dto::AuditOut>)))]
pub async fn service_history(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<super::dto::AuditOut>>> {
    let svc = portfolio::get(&s.core, &ctx, &key).await?;
    let rows = sigap_core::audit::history(&s.core, &ctx, "service", &svc.id.to_string()).await?;
    Ok(Json(
        rows.into_iter().map(super::dto::AuditOut::from).collect(),
    ))
}

/// A configuration item to link.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CiLinkIn {
    /// The configuration item's id.
    pub configuration_item: String,
}

/// Links a configuration item that delivers the service.
#[utoipa::path(post, path = "/api/v1/services/{key}/configuration_items", tag = "services", request_body = CiLinkIn,
    params(("key" = String, Path)), responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn link_service_ci(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<CiLinkIn>,
) -> ApiResult<StatusCode> {
    portfolio::link_ci(
        &s.core,
        &ctx,
        LinkTarget::Service(key),
        &body.configuration_item,
        true,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the link between a service and a configuration item.
#[utoipa::path(delete, path = "/api/v1/services/{key}/configuration_items/{ci}", tag = "services",
    params(("key" = String, Path), ("ci" = String, Path)), responses((status = 204)))]
pub async fn unlink_service_ci(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath((key, ci)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    if !portfolio::link_ci(&s.core, &ctx, LinkTarget::Service(key), &ci, false).await? {
        return Err(sigap_core::AppError::NotFound.into());
    }
    Ok(StatusCode::NO_CONTENT)
}

/// One column of the portfolio board.
#[derive(Debug, Serialize, ToSchema)]
pub struct BoardColumn {
    pub stage: String,
    pub status: String,
    pub services: Vec<ServiceOut>,
}

/// The portfolio board: every service by lifecycle stage (agents). Retired services only
/// with `retired=true`.
#[utoipa::path(get, path = "/api/v1/portfolio/board", tag = "services",
    params(BoardQuery), responses((status = 200, body = Vec<BoardColumn>)))]
pub async fn portfolio_board(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<BoardQuery>,
) -> ApiResult<Json<Vec<BoardColumn>>> {
    let with_retired = q.retired.unwrap_or(false);
    let services = portfolio::board(&s.core, &ctx, with_retired).await?;
    let mut columns: Vec<BoardColumn> = Stage::ALL
        .iter()
        .filter(|st| with_retired || **st != Stage::Retired)
        .map(|st| BoardColumn {
            stage: st.code().into(),
            status: st.status().code().into(),
            services: Vec::new(),
        })
        .collect();
    for svc in services {
        if let Some(c) = columns.iter_mut().find(|c| c.stage == svc.stage.code()) {
            c.services.push(ServiceOut::from(svc));
        }
    }
    Ok(Json(columns))
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BoardQuery {
    /// `true` to show the retired services too.
    #[serde(default, deserialize_with = "crate::api::params::flag")]
    pub retired: Option<bool>,
}

/// The process-level roles of the service portfolio process.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessRolesOut {
    pub owner: Option<Ref>,
    pub manager: Option<Ref>,
}

fn process_out(roles: Vec<(String, PersonRef)>) -> ProcessRolesOut {
    let find = |r: &str| {
        roles.iter().find(|(x, _)| x == r).map(|(_, p)| Ref {
            id: p.id.as_uuid(),
            display: p.name.clone(),
        })
    };
    ProcessRolesOut {
        owner: find("owner"),
        manager: find("manager"),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProcessRolesIn {
    /// Process owner: person id or login; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub owner: Option<Option<String>>,
    /// Process manager: person id or login; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub manager: Option<Option<String>>,
}

/// Who owns and who manages the service portfolio process.
#[utoipa::path(get, path = "/api/v1/portfolio/process", tag = "services",
    responses((status = 200, body = ProcessRolesOut)))]
pub async fn get_process_roles(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<ProcessRolesOut>> {
    Ok(Json(process_out(
        portfolio::process_roles(&s.core, &ctx).await?,
    )))
}

/// Names the portfolio process owner and manager (administrators).
#[utoipa::path(patch, path = "/api/v1/portfolio/process", tag = "services", request_body = ProcessRolesIn,
    responses((status = 200, body = ProcessRolesOut)))]
pub async fn patch_process_roles(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<ProcessRolesIn>,
) -> ApiResult<Json<ProcessRolesOut>> {
    let mut changes = Vec::new();
    if let Some(o) = body.owner {
        changes.push(("owner".to_owned(), Some(o)));
    }
    if let Some(m) = body.manager {
        changes.push(("manager".to_owned(), Some(m)));
    }
    Ok(Json(process_out(
        portfolio::set_process_roles(&s.core, &ctx, changes).await?,
    )))
}

// ----- offerings -----

#[derive(Debug, Serialize, ToSchema)]
pub struct OfferingOut {
    pub id: Uuid,
    pub service: Ref,
    pub name: String,
    pub description: String,
    /// When the offering is available, e.g. `Mon–Fri 08:00–18:00 WIB`.
    pub availability_hours: String,
    pub active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    pub version: i64,
}

impl From<Offering> for OfferingOut {
    fn from(o: Offering) -> Self {
        Self {
            id: o.id.as_uuid(),
            service: Ref {
                id: o.service_id.as_uuid(),
                display: o.service_name,
            },
            name: o.name,
            description: o.description,
            availability_hours: o.availability_hours,
            active: o.active,
            created_at: ts(o.created_at),
            updated_at: ts(o.updated_at),
            version: o.version,
        }
    }
}

/// Fields of an offering. Only offerings of services in the catalogue can be active.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OfferingIn {
    pub name: Option<String>,
    pub description: Option<String>,
    pub availability_hours: Option<String>,
    pub active: Option<bool>,
}

impl From<OfferingIn> for portfolio::OfferingInput {
    fn from(o: OfferingIn) -> Self {
        Self {
            name: o.name,
            description: o.description,
            availability_hours: o.availability_hours,
            active: o.active,
        }
    }
}

list_query!(
    /// The filters of the offering list.
    OfferingQuery, sort = portfolio::OFFERING_SORT_FIELDS, q = "Text search over the name and description.",
    {
        /// Offerings of this service (id or name).
        service: Option<String>,
        /// `true` for active offerings only, `false` for inactive ones.
        #[serde(default, deserialize_with = "crate::api::params::flag")]
        active: Option<bool>,
    }
);

/// Service offerings. Agents see every offering; others the active ones of the services
/// they see. Filter by `service`, `active`, `q`; sort by `name`, `created_at`.
#[utoipa::path(get, path = "/api/v1/offerings", tag = "services", params(OfferingQuery),
    responses((status = 200, body = Page<OfferingOut>)))]
pub async fn list_offerings(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<OfferingQuery>,
) -> ApiResult<Json<Page<OfferingOut>>> {
    let params = q.page()?;
    let query = portfolio::OfferingQuery {
        service: q.service,
        active: q.active.map(|a| a.to_string()),
        q: q.q,
    };
    let page = portfolio::list_offerings(&s.core, &ctx, query, &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(OfferingOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Adds an offering to a service (agents). Active by default when the service is in the
/// catalogue; an active offering of a pipeline service is refused (409).
#[utoipa::path(post, path = "/api/v1/services/{key}/offerings", tag = "services", request_body = OfferingIn,
    params(("key" = String, Path)),
    responses((status = 201, body = OfferingOut), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn create_offering(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<OfferingIn>,
) -> ApiResult<Response> {
    let o = portfolio::create_offering(&s.core, &ctx, &key, body.into()).await?;
    let location = format!("/api/v1/offerings/{}", o.id);
    Ok(with_etag(
        StatusCode::CREATED,
        o.version,
        OfferingOut::from(o),
        Some(location),
    ))
}

/// An offering.
#[utoipa::path(get, path = "/api/v1/offerings/{id}", tag = "services", params(("id" = String, Path)),
    responses((status = 200, body = OfferingOut), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get_offering(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let o = portfolio::get_offering(&s.core, &ctx, &id).await?;
    Ok(with_etag(
        StatusCode::OK,
        o.version,
        OfferingOut::from(o),
        None,
    ))
}

/// Changes an offering (agents).
#[utoipa::path(patch, path = "/api/v1/offerings/{id}", tag = "services", request_body = OfferingIn,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = OfferingOut), (status = 409, body = Problem, content_type = "application/problem+json")))]
pub async fn patch_offering(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<OfferingIn>,
) -> ApiResult<Response> {
    let o = portfolio::update_offering(&s.core, &ctx, &id, body.into(), v).await?;
    Ok(with_etag(
        StatusCode::OK,
        o.version,
        OfferingOut::from(o),
        None,
    ))
}

/// Deletes an offering (agents).
#[utoipa::path(delete, path = "/api/v1/offerings/{id}", tag = "services",
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)), responses((status = 204)))]
pub async fn delete_offering(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    portfolio::delete_offering(&s.core, &ctx, &id, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Links a configuration item that delivers the offering.
#[utoipa::path(post, path = "/api/v1/offerings/{id}/configuration_items", tag = "services", request_body = CiLinkIn,
    params(("id" = String, Path)), responses((status = 204)))]
pub async fn link_offering_ci(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CiLinkIn>,
) -> ApiResult<StatusCode> {
    portfolio::link_ci(
        &s.core,
        &ctx,
        LinkTarget::Offering(id),
        &body.configuration_item,
        true,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the link between an offering and a configuration item.
#[utoipa::path(delete, path = "/api/v1/offerings/{id}/configuration_items/{ci}", tag = "services",
    params(("id" = String, Path), ("ci" = String, Path)), responses((status = 204)))]
pub async fn unlink_offering_ci(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath((id, ci)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    if !portfolio::link_ci(&s.core, &ctx, LinkTarget::Offering(id), &ci, false).await? {
        return Err(sigap_core::AppError::NotFound.into());
    }
    Ok(StatusCode::NO_CONTENT)
}

// ----- projects -----

#[derive(Debug, Serialize, ToSchema)]
pub struct ProjectOut {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// proposed, approved, in_progress, on_hold, completed or canceled.
    pub status: String,
    #[schema(format = Date)]
    pub start_date: Option<String>,
    #[schema(format = Date)]
    pub end_date: Option<String>,
    pub budget: Option<i64>,
    pub manager: Option<Ref>,
    /// Services the project creates or changes (on single reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<Ref>>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    pub version: i64,
}

fn project_out(p: Project, services: Option<Vec<ServiceRef>>) -> ProjectOut {
    ProjectOut {
        id: p.id.as_uuid(),
        name: p.name,
        description: p.description,
        status: p.status.code().into(),
        start_date: p.start_date.map(|d| d.to_string()),
        end_date: p.end_date.map(|d| d.to_string()),
        budget: p.budget,
        manager: person_ref(p.manager),
        services: services.map(|s| s.into_iter().map(service_ref).collect()),
        created_at: ts(p.created_at),
        updated_at: ts(p.updated_at),
        version: p.version,
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ProjectIn {
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    #[serde(default, deserialize_with = "nullable_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub start_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable_date")]
    #[schema(value_type = Option<String>, format = Date)]
    pub end_date: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub budget: Option<Option<i64>>,
    /// Project manager: person id or login.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub manager: Option<Option<String>>,
    /// Services (ids or names); replaces the list.
    pub services: Option<Vec<String>>,
}

impl From<ProjectIn> for projects::ProjectInput {
    fn from(p: ProjectIn) -> Self {
        Self {
            name: p.name,
            description: p.description,
            status: p.status,
            start_date: p.start_date,
            end_date: p.end_date,
            budget: p.budget,
            manager: p.manager,
            services: p.services,
        }
    }
}

list_query!(
    /// The filters of the project list.
    ProjectQuery, sort = projects::PROJECT_SORT_FIELDS, q = "Text search over the name and description.",
    {
        /// Only projects in this state.
        #[param(inline)]
        status: Option<ProjectStatusCode>,
        /// Projects for this service (id or name).
        service: Option<String>,
    }
);

/// Projects (agents). Filter by `status`, `service`, `q`; sort by `name`, `status`, `created_at`.
#[utoipa::path(get, path = "/api/v1/projects", tag = "portfolios", params(ProjectQuery),
    responses((status = 200, body = Page<ProjectOut>)))]
pub async fn list_projects(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ProjectQuery>,
) -> ApiResult<Json<Page<ProjectOut>>> {
    let params = q.page()?;
    let query = projects::ProjectQuery {
        status: q.status.map(|v| v.code().to_owned()),
        service: q.service,
        q: q.q,
    };
    let page = projects::list_projects(&s.core, &ctx, query, &params).await?;
    Ok(Json(Page {
        items: page
            .items
            .into_iter()
            .map(|p| project_out(p, None))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates a project (agents).
#[utoipa::path(post, path = "/api/v1/projects", tag = "portfolios", request_body = ProjectIn,
    responses((status = 201, body = ProjectOut)))]
pub async fn create_project(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<ProjectIn>,
) -> ApiResult<Response> {
    let p = projects::create_project(&s.core, &ctx, body.into()).await?;
    let location = format!("/api/v1/projects/{}", p.id);
    let (p, services) = projects::get_project(&s.core, &ctx, &p.id.to_string()).await?;
    Ok(with_etag(
        StatusCode::CREATED,
        p.version,
        project_out(p, Some(services)),
        Some(location),
    ))
}

/// A project by id or name.
#[utoipa::path(get, path = "/api/v1/projects/{key}", tag = "portfolios", params(("key" = String, Path)),
    responses((status = 200, body = ProjectOut)))]
pub async fn get_project(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let (p, services) = projects::get_project(&s.core, &ctx, &key).await?;
    Ok(with_etag(
        StatusCode::OK,
        p.version,
        project_out(p, Some(services)),
        None,
    ))
}

/// Changes a project (agents).
#[utoipa::path(patch, path = "/api/v1/projects/{key}", tag = "portfolios", request_body = ProjectIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)), responses((status = 200, body = ProjectOut)))]
pub async fn patch_project(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<ProjectIn>,
) -> ApiResult<Response> {
    let (p, services) = projects::update_project(&s.core, &ctx, &key, body.into(), v).await?;
    Ok(with_etag(
        StatusCode::OK,
        p.version,
        project_out(p, Some(services)),
        None,
    ))
}

/// Deletes a project (agents).
#[utoipa::path(delete, path = "/api/v1/projects/{key}", tag = "portfolios",
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)), responses((status = 204)))]
pub async fn delete_project(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    projects::delete_project(&s.core, &ctx, &key, v).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- applications -----

#[derive(Debug, Serialize, ToSchema)]
pub struct ApplicationOut {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// What the application does for the business.
    pub function: String,
    /// planned, in_development, production, sunset or retired.
    pub status: String,
    pub developing_group: Option<Ref>,
    pub supporting_group: Option<Ref>,
    /// Services it serves (on single reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub services: Option<Vec<Ref>>,
    /// Configuration items it consists of or runs on (on single reads).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration_items: Option<Vec<CiRefOut>>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    pub version: i64,
}

fn app_out(
    a: Application,
    links: Option<(Vec<ServiceRef>, Vec<sigap_core::model::CiRef>)>,
) -> ApplicationOut {
    let (services, cis) = match links {
        Some((s, c)) => (
            Some(s.into_iter().map(service_ref).collect()),
            Some(c.into_iter().map(CiRefOut::from).collect()),
        ),
        None => (None, None),
    };
    ApplicationOut {
        id: a.id.as_uuid(),
        name: a.name,
        description: a.description,
        function: a.function,
        status: a.status.code().into(),
        developing_group: group_ref(a.developing_group),
        supporting_group: group_ref(a.supporting_group),
        services,
        configuration_items: cis,
        created_at: ts(a.created_at),
        updated_at: ts(a.updated_at),
        version: a.version,
    }
}

fn detail_out(d: projects::ApplicationDetail) -> ApplicationOut {
    app_out(d.application, Some((d.services, d.cis)))
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ApplicationIn {
    pub name: Option<String>,
    pub description: Option<String>,
    pub function: Option<String>,
    pub status: Option<String>,
    /// Group id or name.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub developing_group: Option<Option<String>>,
    /// Group id or name.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub supporting_group: Option<Option<String>>,
    /// Services (ids or names); replaces the list.
    pub services: Option<Vec<String>>,
    /// Configuration item ids; replaces the list.
    pub configuration_items: Option<Vec<String>>,
}

impl From<ApplicationIn> for projects::ApplicationInput {
    fn from(a: ApplicationIn) -> Self {
        Self {
            name: a.name,
            description: a.description,
            function: a.function,
            status: a.status,
            developing_group: a.developing_group,
            supporting_group: a.supporting_group,
            services: a.services,
            cis: a.configuration_items,
        }
    }
}

list_query!(
    /// The filters of the application list.
    ApplicationQuery, sort = projects::APP_SORT_FIELDS, q = "Text search over the name and description.",
    {
        /// Only applications in this state.
        #[param(inline)]
        status: Option<AppStatusCode>,
        /// Developed or supported by this group (id or name).
        group: Option<String>,
        /// Applications of this service (id or name).
        service: Option<String>,
    }
);

/// Applications (agents). Filter by `status`, `group` (developing or supporting),
/// `service`, `q`; sort by `name`, `status`, `created_at`.
#[utoipa::path(get, path = "/api/v1/applications", tag = "portfolios", params(ApplicationQuery),
    responses((status = 200, body = Page<ApplicationOut>)))]
pub async fn list_applications(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ApplicationQuery>,
) -> ApiResult<Json<Page<ApplicationOut>>> {
    let params = q.page()?;
    let query = projects::ApplicationQuery {
        status: q.status.map(|v| v.code().to_owned()),
        group: q.group,
        service: q.service,
        q: q.q,
    };
    let page = projects::list_apps(&s.core, &ctx, query, &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(|a| app_out(a, None)).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Creates an application (agents).
#[utoipa::path(post, path = "/api/v1/applications", tag = "portfolios", request_body = ApplicationIn,
    responses((status = 201, body = ApplicationOut)))]
pub async fn create_application(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<ApplicationIn>,
) -> ApiResult<Response> {
    let d = projects::create_app(&s.core, &ctx, body.into()).await?;
    let location = format!("/api/v1/applications/{}", d.application.id);
    Ok(with_etag(
        StatusCode::CREATED,
        d.application.version,
        detail_out(d),
        Some(location),
    ))
}

/// An application by id or name.
#[utoipa::path(get, path = "/api/v1/applications/{key}", tag = "portfolios", params(("key" = String, Path)),
    responses((status = 200, body = ApplicationOut)))]
pub async fn get_application(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Response> {
    let d = projects::get_app(&s.core, &ctx, &key).await?;
    Ok(with_etag(
        StatusCode::OK,
        d.application.version,
        detail_out(d),
        None,
    ))
}

/// Changes an application (agents).
#[utoipa::path(patch, path = "/api/v1/applications/{key}", tag = "portfolios", request_body = ApplicationIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)), responses((status = 200, body = ApplicationOut)))]
pub async fn patch_application(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<ApplicationIn>,
) -> ApiResult<Response> {
    let d = projects::update_app(&s.core, &ctx, &key, body.into(), v).await?;
    Ok(with_etag(
        StatusCode::OK,
        d.application.version,
        detail_out(d),
        None,
    ))
}

/// Deletes an application (agents).
#[utoipa::path(delete, path = "/api/v1/applications/{key}", tag = "portfolios",
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)), responses((status = 204)))]
pub async fn delete_application(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
) -> ApiResult<StatusCode> {
    projects::delete_app(&s.core, &ctx, &key, v).await?;
    Ok(StatusCode::NO_CONTENT)
}
