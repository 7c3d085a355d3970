//! Knowledge management over HTTP, the desk's side: the owner groups' queue of flagged and
//! low-rated articles, knowledge bases and their categories, articles attached to incidents
//! and a problem's known-error article.

use super::dto::{Ref, Time, nullable, ts};
use super::knowledge::{ArticleLinkOut, ArticleOut, FeedbackOut, with_etag};
use crate::AppState;
use crate::error::{ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sigap_core::knowledge as kb;
use sigap_core::model::{KbCategory as Category, KnowledgeBase};
use utoipa::ToSchema;
use uuid::Uuid;

// ----- the owner groups' queue -----

/// Flags and low ratings not yet dealt with, oldest first: of the articles the caller's
/// groups own (managers: all).
#[utoipa::path(get, path = "/api/v1/knowledge/attention", tag = "knowledge",
    responses((status = 200, body = Vec<FeedbackOut>)))]
pub async fn attention(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<FeedbackOut>>> {
    let list = kb::attention(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AddressIn {
    /// What was done.
    pub note: Option<String>,
}

/// Marks a flag or low rating dealt with (the owner group, or managers).
#[utoipa::path(post, path = "/api/v1/knowledge/attention/{id}", tag = "knowledge", request_body = AddressIn,
    params(("id" = String, Path)),
    responses((status = 200, body = FeedbackOut), (status = 409, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn address(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AddressIn>,
) -> ApiResult<Json<FeedbackOut>> {
    let f = kb::address(&s.core, &ctx, &id, body.note.as_deref().unwrap_or("")).await?;
    Ok(Json(f.into()))
}

// ----- knowledge bases -----

#[derive(Debug, Serialize, ToSchema)]
pub struct KnowledgeBaseOut {
    pub id: Uuid,
    pub name: String,
    pub description: String,
    /// Owns its articles unless an article names its own group.
    pub owner_group: Option<Ref>,
    /// Reviews its articles (else each article's owner group).
    pub reviewer_group: Option<Ref>,
    pub active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
}

impl From<KnowledgeBase> for KnowledgeBaseOut {
    fn from(b: KnowledgeBase) -> Self {
        let group = |g: Option<sigap_core::model::GroupRef>| {
            g.map(|g| Ref {
                id: g.id.as_uuid(),
                display: g.name,
            })
        };
        Self {
            id: b.id.as_uuid(),
            name: b.name,
            description: b.description,
            owner_group: group(b.owner_group),
            reviewer_group: group(b.reviewer_group),
            active: b.active,
            created_at: ts(b.created_at),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KbCategoryOut {
    pub id: Uuid,
    pub name: String,
    /// Its names from the root: "Network / VPN".
    pub path: String,
    pub parent: Option<Uuid>,
}

impl From<Category> for KbCategoryOut {
    fn from(c: Category) -> Self {
        Self {
            id: c.id.as_uuid(),
            name: c.name,
            path: c.path,
            parent: c.parent_id.map(|p| p.as_uuid()),
        }
    }
}

/// A knowledge base with its categories.
#[derive(Debug, Serialize, ToSchema)]
pub struct KnowledgeBaseDetailOut {
    #[serde(flatten)]
    pub base: KnowledgeBaseOut,
    /// Its category tree, read top down (by path).
    pub categories: Vec<KbCategoryOut>,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct KnowledgeBaseIn {
    pub name: Option<String>,
    pub description: Option<String>,
    /// Group id or name; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub owner_group: Option<Option<String>>,
    /// Group id or name; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub reviewer_group: Option<Option<String>>,
    pub active: Option<bool>,
}

impl From<KnowledgeBaseIn> for kb::BaseInput {
    fn from(b: KnowledgeBaseIn) -> Self {
        Self {
            name: b.name,
            description: b.description,
            owner_group: b.owner_group,
            reviewer_group: b.reviewer_group,
            active: b.active,
        }
    }
}

/// The knowledge bases, by name.
#[utoipa::path(get, path = "/api/v1/knowledge_bases", tag = "knowledge",
    responses((status = 200, body = Vec<KnowledgeBaseOut>)))]
pub async fn list_bases(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<KnowledgeBaseOut>>> {
    let list = kb::bases(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Makes a knowledge base (managers).
#[utoipa::path(post, path = "/api/v1/knowledge_bases", tag = "knowledge", request_body = KnowledgeBaseIn,
    responses((status = 201, body = KnowledgeBaseOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_base(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<KnowledgeBaseIn>,
) -> ApiResult<(StatusCode, Json<KnowledgeBaseOut>)> {
    let b = kb::create_base(&s.core, &ctx, body.into()).await?;
    Ok((StatusCode::CREATED, Json(b.into())))
}

/// A knowledge base (id or name) with its categories.
#[utoipa::path(get, path = "/api/v1/knowledge_bases/{key}", tag = "knowledge", params(("key" = String, Path)),
    responses((status = 200, body = KnowledgeBaseDetailOut), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_base(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<KnowledgeBaseDetailOut>> {
    let (b, cats) = kb::base(&s.core, &ctx, &key).await?;
    Ok(Json(KnowledgeBaseDetailOut {
        base: b.into(),
        categories: cats.into_iter().map(Into::into).collect(),
    }))
}

/// Changes a knowledge base (managers).
#[utoipa::path(patch, path = "/api/v1/knowledge_bases/{key}", tag = "knowledge", request_body = KnowledgeBaseIn,
    params(("key" = String, Path)),
    responses((status = 200, body = KnowledgeBaseOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_base(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<KnowledgeBaseIn>,
) -> ApiResult<Json<KnowledgeBaseOut>> {
    let b = kb::update_base(&s.core, &ctx, &key, body.into()).await?;
    Ok(Json(b.into()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct KbCategoryIn {
    pub name: String,
    /// The parent category (id or path); none for a root category.
    pub parent: Option<String>,
}

/// Adds a category to a knowledge base (managers).
#[utoipa::path(post, path = "/api/v1/knowledge_bases/{key}/categories", tag = "knowledge", request_body = KbCategoryIn,
    params(("key" = String, Path)),
    responses((status = 201, body = KbCategoryOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_category(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<KbCategoryIn>,
) -> ApiResult<(StatusCode, Json<KbCategoryOut>)> {
    let c = kb::create_category(&s.core, &ctx, &key, &body.name, body.parent.as_deref()).await?;
    Ok((StatusCode::CREATED, Json(c.into())))
}

// ----- articles and tasks -----

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachArticleIn {
    /// The published article (number or id).
    pub article: String,
}

/// The knowledge articles of an incident: attached, or resolved with.
#[utoipa::path(get, path = "/api/v1/incidents/{key}/articles", tag = "knowledge", params(("key" = String, Path)),
    responses((status = 200, body = Vec<ArticleLinkOut>), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn incident_articles(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<ArticleLinkOut>>> {
    let i = sigap_core::incidents::get(&s.core, &ctx, &key).await?;
    let list = kb::of_task(&s.core, &ctx, i.id).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Attaches a published knowledge article to an incident (agents), with a work note.
#[utoipa::path(post, path = "/api/v1/incidents/{key}/articles", tag = "knowledge", request_body = AttachArticleIn,
    params(("key" = String, Path)),
    responses((status = 200, body = Vec<ArticleLinkOut>), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn attach_to_incident(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<AttachArticleIn>,
) -> ApiResult<Json<Vec<ArticleLinkOut>>> {
    kb::attach::<sigap_core::model::IncidentExt>(&s.core, &ctx, &key, &body.article).await?;
    incident_articles(State(s), Caller(ctx), ApiPath(key)).await
}

/// Detaches an article from an incident (agents).
#[utoipa::path(delete, path = "/api/v1/incidents/{key}/articles/{article}", tag = "knowledge",
    params(("key" = String, Path), ("article" = String, Path)),
    responses((status = 200, body = Vec<ArticleLinkOut>), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn detach_from_incident(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath((key, article)): ApiPath<(String, String)>,
) -> ApiResult<Json<Vec<ArticleLinkOut>>> {
    kb::detach::<sigap_core::model::IncidentExt>(&s.core, &ctx, &key, &article).await?;
    incident_articles(State(s), Caller(ctx), ApiPath(key)).await
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct KnownErrorArticleIn {
    /// The knowledge base (id or name); else the only one.
    pub knowledge_base: Option<String>,
}

/// Publishes the known error of a problem as an article (agents): its symptoms,
/// work-around and cause, kept in step with the problem while it is open. Asked again, the
/// article published before is returned.
#[utoipa::path(post, path = "/api/v1/problems/{key}/known_error_article", tag = "knowledge", request_body = KnownErrorArticleIn,
    params(("key" = String, Path)),
    responses((status = 200, body = ArticleOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn known_error_article(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<KnownErrorArticleIn>,
) -> ApiResult<Response> {
    let a = kb::publish_known_error(&s.core, &ctx, &key, body.knowledge_base).await?;
    Ok(with_etag(StatusCode::OK, a, None))
}
