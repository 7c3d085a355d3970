//! The improvement register's API: initiatives of continual improvement with their KPI,
//! baseline, target, status and review notes, and the KPI's line since each started.

use super::handlers::with_etag;
use super::reports::{SharedGroupOut, given};
use crate::AppState;
use crate::error::{ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sigap_core::reports::improvements::{self, Improvement, KpiLine, Progress, Review};
use sigap_domain::report::ImprovementStatus;
use utoipa::ToSchema;

/// An initiative as written: every field may be left out of a change.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImprovementIn {
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    #[schema(max_length = 10000)]
    pub description: Option<String>,
    /// The person who owns it: an id or a login (empty: nobody).
    #[schema(max_length = 200)]
    pub owner: Option<String>,
    /// The KPI: the id of a saved report you may open (empty: none).
    #[schema(max_length = 200)]
    pub report: Option<String>,
    /// Where the KPI stood, in its unit as people read it (hours for a duration, percent
    /// for a rate). Required of a new one.
    pub baseline: Option<f64>,
    /// Where the KPI should get to. Required of a new one.
    pub target: Option<f64>,
    /// proposed (the default), approved, in_progress, achieved or abandoned.
    #[schema(pattern = "^(proposed|approved|in_progress|achieved|abandoned)$")]
    pub status: Option<String>,
    /// When it started (YYYY-MM-DD; by default today): the KPI's line begins there.
    #[schema(format = Date)]
    pub started_on: Option<String>,
    /// When it should be done (YYYY-MM-DD; empty: no date).
    pub due_on: Option<String>,
    /// The version changed (instead of `If-Match`).
    pub version: Option<i64>,
}

/// An initiative.
#[derive(Debug, Serialize, ToSchema)]
pub struct ImprovementOut {
    pub id: uuid::Uuid,
    pub title: String,
    pub description: String,
    pub owner: Option<SharedGroupOut>,
    /// The KPI report's id and name.
    pub report: Option<SharedGroupOut>,
    pub baseline: f64,
    pub target: f64,
    pub status: String,
    #[schema(format = Date)]
    pub started_on: String,
    #[schema(format = Date)]
    pub due_on: Option<String>,
    /// Whether you may change and review it.
    pub editable: bool,
    #[schema(format = DateTime)]
    pub created_at: String,
    #[schema(format = DateTime)]
    pub updated_at: String,
    pub version: i64,
}

impl From<Improvement> for ImprovementOut {
    fn from(i: Improvement) -> Self {
        ImprovementOut {
            id: i.id.as_uuid(),
            title: i.title,
            description: i.description,
            owner: i.owner.map(|(id, name)| SharedGroupOut {
                id: id.as_uuid(),
                name,
            }),
            report: i.report.map(|(id, name)| SharedGroupOut {
                id: id.as_uuid(),
                name,
            }),
            baseline: i.baseline,
            target: i.target,
            status: i.status.code().to_owned(),
            started_on: i.started_on.to_string(),
            due_on: i.due_on.map(|d| d.to_string()),
            editable: i.editable,
            created_at: i.created_at.to_string(),
            updated_at: i.updated_at.to_string(),
            version: i.version,
        }
    }
}

/// A review note.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewOut {
    pub id: uuid::Uuid,
    pub author: String,
    pub note: String,
    /// The status the note left the initiative in.
    pub status: String,
    /// The KPI's latest value when the note was written.
    pub measured: Option<f64>,
    #[schema(format = DateTime)]
    pub created_at: String,
}

impl From<Review> for ReviewOut {
    fn from(r: Review) -> Self {
        ReviewOut {
            id: r.id.as_uuid(),
            author: r.author,
            note: r.note,
            status: r.status,
            measured: r.measured,
            created_at: r.created_at.to_string(),
        }
    }
}

/// One bucket of the KPI's line.
#[derive(Debug, Serialize, ToSchema)]
pub struct PointOut {
    /// The bucket: `2026-W13`, `2026-03`, `2026-Q1`.
    pub key: String,
    /// The KPI's value as people read it (hours for a duration, percent for a rate); null
    /// when no task of the bucket had the number.
    pub value: Option<f64>,
}

/// The KPI's line since the initiative started.
#[derive(Debug, Serialize, ToSchema)]
pub struct KpiLineOut {
    /// week, month or quarter.
    pub bucket: String,
    pub time_zone: String,
    pub measure: String,
    pub of: Option<String>,
    pub points: Vec<PointOut>,
}

impl From<KpiLine> for KpiLineOut {
    fn from(l: KpiLine) -> Self {
        KpiLineOut {
            bucket: l.bucket.code().to_owned(),
            time_zone: l.time_zone,
            measure: l.measure.code().to_owned(),
            of: l.of.map(|o| o.code().to_owned()),
            points: l
                .points
                .into_iter()
                .map(|(key, value)| PointOut { key, value })
                .collect(),
        }
    }
}

/// An initiative with its review notes and its KPI's line.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressOut {
    pub improvement: ImprovementOut,
    /// Oldest first.
    pub reviews: Vec<ReviewOut>,
    /// Null without a KPI, or with one you may not open.
    pub kpi: Option<KpiLineOut>,
}

impl From<Progress> for ProgressOut {
    fn from(p: Progress) -> Self {
        ProgressOut {
            improvement: p.improvement.into(),
            reviews: p.reviews.into_iter().map(Into::into).collect(),
            kpi: p.line.map(Into::into),
        }
    }
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImprovementQuery {
    /// Only initiatives of this status.
    #[param(pattern = "^(proposed|approved|in_progress|achieved|abandoned)$")]
    pub status: Option<String>,
}

/// The improvement register, newest start first (agents).
#[utoipa::path(get, path = "/api/v1/improvements", tag = "reports", params(ImprovementQuery),
    responses((status = 200, body = Vec<ImprovementOut>),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn list_improvements(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ImprovementQuery>,
) -> ApiResult<Json<Vec<ImprovementOut>>> {
    let status = match q.status.as_deref() {
        None => None,
        Some(s) => Some(ImprovementStatus::parse(s).map_err(|e| {
            sigap_core::AppError::Validation(vec![sigap_core::FieldError::from_invalid(
                "status", e,
            )])
        })?),
    };
    let list = improvements::list(&s.core, &ctx, status).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Records an initiative (managers). Its KPI must be a report the caller may open.
#[utoipa::path(post, path = "/api/v1/improvements", tag = "reports", request_body = ImprovementIn,
    responses((status = 201, body = ImprovementOut, headers(("Location" = String), ("ETag" = String))),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_improvement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<ImprovementIn>,
) -> ApiResult<Response> {
    let i = improvements::create(&s.core, &ctx, &given(&b)).await?;
    let location = format!("/api/v1/improvements/{}", i.id);
    let version = i.version;
    Ok(with_etag(
        StatusCode::CREATED,
        version,
        ImprovementOut::from(i),
        Some(location),
    ))
}

/// An initiative with its review notes and its KPI's line since it started, over the tasks
/// the caller may see (agents).
#[utoipa::path(get, path = "/api/v1/improvements/{id}", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 200, body = ProgressOut, headers(("ETag" = String))),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_improvement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let p = improvements::progress(&s.core, &ctx, &id).await?;
    let version = p.improvement.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        ProgressOut::from(p),
        None,
    ))
}

/// Changes an initiative: the fields given (managers, and its owner).
#[utoipa::path(patch, path = "/api/v1/improvements/{id}", tag = "reports", request_body = ImprovementIn,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ImprovementOut, headers(("ETag" = String))),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 412, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_improvement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(b): ApiJson<ImprovementIn>,
) -> ApiResult<Response> {
    let i = improvements::update(&s.core, &ctx, &id, &given(&b), v).await?;
    let version = i.version;
    Ok(with_etag(
        StatusCode::OK,
        version,
        ImprovementOut::from(i),
        None,
    ))
}

/// Removes an initiative and its review notes (managers).
#[utoipa::path(delete, path = "/api/v1/improvements/{id}", tag = "reports",
    params(("id" = String, Path)),
    responses((status = 204),
              (status = 403, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn delete_improvement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    improvements::delete(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A review note, and the status it moves the initiative to.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewIn {
    #[schema(min_length = 1, max_length = 10000)]
    pub note: Option<String>,
    /// The status it moves to (by default it stays).
    #[schema(pattern = "^(proposed|approved|in_progress|achieved|abandoned)$")]
    pub status: Option<String>,
}

/// Adds a review note, keeping the KPI's latest value with it (managers, and its owner).
#[utoipa::path(post, path = "/api/v1/improvements/{id}/reviews", tag = "reports", request_body = ReviewIn,
    params(("id" = String, Path)),
    responses((status = 201, body = ProgressOut),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn review_improvement(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<ReviewIn>,
) -> ApiResult<(StatusCode, Json<ProgressOut>)> {
    let p = improvements::review(&s.core, &ctx, &id, &given(&b)).await?;
    Ok((StatusCode::CREATED, Json(p.into())))
}
