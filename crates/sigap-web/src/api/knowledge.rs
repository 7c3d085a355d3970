//! Knowledge management over HTTP: articles with their versions, review and retirement;
//! reading, ranked search and suggestions while typing; feedback and deflections; knowledge
//! bases and categories; articles attached to incidents and known-error articles.

use super::dto::{Page, Ref, nullable, ts};
use super::incidents::AttachmentOut;
use super::params::{ArticleStates, list_query};
use super::task::JournalOut;
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sigap_core::knowledge::{self as kb, Action, ArticleInput};
use sigap_core::markdown::DiffOp;
use sigap_core::model::{
    Article, ArticleFeedback as Feedback, ArticleHit as Hit, ArticleLinked as Linked,
    ArticleVersion as Version,
};
use sigap_core::task::{Args, TaskInput, TaskQuery};
use sigap_domain::task::StateModel;
use utoipa::ToSchema;
use uuid::Uuid;

use super::dto::Time;

/// An article: its fields and the numbers of its newest and published versions.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleOut {
    pub id: Uuid,
    /// KB0000001 …
    pub number: String,
    /// The newest version's title.
    pub title: String,
    pub summary: String,
    /// draft, review, published or retired: the state of the newest version.
    pub state: String,
    pub next_states: Vec<String>,
    pub knowledge_base: Ref,
    /// The category's id and path ("Network / VPN").
    pub category: Option<Ref>,
    /// en or id.
    pub language: String,
    /// The article it translates.
    pub translation_of: Option<Ref>,
    /// everyone, agents or organizations.
    pub audience: String,
    /// Who owns and maintains it.
    pub owner_group: Option<Ref>,
    /// Who wrote its first version.
    pub author: Option<Ref>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_to: Option<Time>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub review_at: Option<Time>,
    /// The newest version's number.
    pub head_version: i64,
    /// The published version's number (readers see it); none when nothing is published.
    pub published_version: Option<i64>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<Time>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    /// The record's version for `If-Match` (not an article version).
    pub version: i64,
}

impl From<Article> for ArticleOut {
    fn from(a: Article) -> Self {
        let person = |p: Option<sigap_core::model::PersonRef>| {
            p.map(|p| Ref {
                id: p.id.as_uuid(),
                display: p.name,
            })
        };
        Self {
            id: a.id.as_uuid(),
            next_states: a.state.next().iter().map(|s| s.code().to_owned()).collect(),
            number: a.number.clone(),
            title: a.short_description.clone(),
            summary: a.ext.summary.clone(),
            state: a.state.code().into(),
            knowledge_base: Ref {
                id: a.ext.kb_id.as_uuid(),
                display: String::new(),
            },
            category: a.ext.category_id.map(|c| Ref {
                id: c.as_uuid(),
                display: String::new(),
            }),
            language: a.ext.language.code().into(),
            translation_of: a.ext.translation_of_id.map(|t| Ref {
                id: t.as_uuid(),
                display: String::new(),
            }),
            audience: a.ext.audience.code().into(),
            owner_group: a.assignment_group.clone().map(|g| Ref {
                id: g.id.as_uuid(),
                display: g.name,
            }),
            author: person(a.opened_by.clone()),
            valid_to: a.ext.valid_to.map(ts),
            review_at: a.ext.review_at.map(ts),
            head_version: a.ext.head_version,
            published_version: a.ext.published_version,
            published_at: a.ext.published_at.map(ts),
            created_at: ts(a.opened_at),
            updated_at: ts(a.updated_at),
            version: a.version,
        }
    }
}

/// One version of an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleVersionOut {
    pub version: i64,
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub body: String,
    /// draft, review, published, outdated or retired.
    pub state: String,
    pub author: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub submitted_at: Option<Time>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub published_at: Option<Time>,
    /// When it was outdated or retired.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub ended_at: Option<Time>,
}

impl From<Version> for ArticleVersionOut {
    fn from(v: Version) -> Self {
        Self {
            version: v.version,
            title: v.title,
            summary: v.summary,
            body: v.body,
            state: v.state.code().into(),
            author: v.author.map(|p| p.name).unwrap_or(v.author_name),
            created_at: ts(v.created_at),
            updated_at: ts(v.updated_at),
            submitted_at: v.submitted_at.map(ts),
            published_at: v.published_at.map(ts),
            ended_at: v.ended_at.map(ts),
        }
    }
}

/// A task an article is linked to (or an article linked to a task).
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleLinkOut {
    pub id: Uuid,
    pub number: String,
    /// incident, problem, article …
    pub kind: String,
    pub title: String,
    pub state: String,
    /// attached, resolved or known_error.
    pub link: String,
    #[schema(value_type = String, format = DateTime)]
    pub linked_at: Time,
}

impl From<Linked> for ArticleLinkOut {
    fn from(l: Linked) -> Self {
        Self {
            id: l.id.as_uuid(),
            number: l.number,
            kind: l.kind.code().into(),
            title: l.title,
            state: l.state,
            link: l.link.code().into(),
            linked_at: ts(l.at),
        }
    }
}

/// An article's counters.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleStatsOut {
    pub views: i64,
    pub helpful_yes: i64,
    pub helpful_no: i64,
    /// The average rating (1–5), when rated.
    pub rating: Option<f64>,
    pub ratings: i64,
    /// Tickets not opened because it solved the reader's problem.
    pub deflections: i64,
}

/// An article as its reader reads it: the version they may see, rendered.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleDetailOut {
    #[serde(flatten)]
    pub article: ArticleOut,
    /// The version read (the published one for readers).
    pub read_version: ArticleVersionOut,
    /// Its body rendered as safe HTML.
    pub html: String,
    pub services: Vec<Ref>,
    pub configuration_items: Vec<Ref>,
    pub organizations: Vec<Ref>,
    pub stats: ArticleStatsOut,
    /// The incidents and problems it is linked to (the desk only).
    pub linked: Vec<ArticleLinkOut>,
    /// The journal (the desk only).
    pub journal: Vec<JournalOut>,
}

fn refs<T>(list: Vec<sigap_core::model::NamedRef<T>>, id: impl Fn(&T) -> Uuid) -> Vec<Ref> {
    list.into_iter()
        .map(|r| Ref {
            id: id(&r.id),
            display: r.name,
        })
        .collect()
}

fn detail(v: kb::ArticleView, journal: Vec<JournalOut>) -> ArticleDetailOut {
    let mut article = ArticleOut::from(v.article);
    article.knowledge_base.display = v.base.name;
    if let (Some(c), Some(cat)) = (article.category.as_mut(), v.category) {
        c.display = cat.path;
    }
    if let (Some(t), Some((number, title))) = (article.translation_of.as_mut(), v.translation_of) {
        t.display = format!("{number} {title}");
    }
    let s = v.stats;
    ArticleDetailOut {
        article,
        read_version: v.version.into(),
        html: v.html,
        services: refs(v.scope.services, |i| i.as_uuid()),
        configuration_items: refs(v.scope.cis, |i| i.as_uuid()),
        organizations: refs(v.scope.organizations, |i| i.as_uuid()),
        stats: ArticleStatsOut {
            views: s.views,
            helpful_yes: s.helpful_yes,
            helpful_no: s.helpful_no,
            rating: (s.rating_count > 0).then(|| s.rating_sum as f64 / s.rating_count as f64),
            ratings: s.rating_count,
            deflections: s.deflections,
        },
        linked: v.linked.into_iter().map(Into::into).collect(),
        journal,
    }
}

/// The fields of an article. On create `title` and `body` are required; the knowledge base
/// too unless there is only one. New content of a published article starts a new draft
/// version; a version in review is not edited (withdraw it first).
#[derive(Debug, Clone, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ArticleIn {
    pub title: Option<String>,
    /// Markdown (rendered safely: no raw HTML survives).
    pub body: Option<String>,
    pub summary: Option<String>,
    /// Knowledge base id or name.
    pub knowledge_base: Option<String>,
    /// Category id or path ("Network / VPN") in the knowledge base; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub category: Option<Option<String>>,
    /// en or id.
    pub language: Option<String>,
    /// The article (number or id) this one translates; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub translation_of: Option<Option<String>>,
    /// everyone, agents or organizations.
    pub audience: Option<String>,
    /// Organizations (ids or names) whose people read it when the audience is
    /// organizations.
    pub organizations: Option<Vec<String>>,
    /// Services (ids or names) it is about.
    pub services: Option<Vec<String>>,
    /// CIs (ids or `class/name`) it is about.
    pub configuration_items: Option<Vec<String>>,
    /// The owner group (id or name); else the knowledge base's.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub owner_group: Option<Option<String>>,
    /// RFC 3339; readers no longer see it after; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub valid_to: Option<Option<jiff::Timestamp>>,
    /// RFC 3339; its owners are reminded before; `null` clears it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub review_at: Option<Option<jiff::Timestamp>>,
}

impl From<ArticleIn> for ArticleInput {
    fn from(a: ArticleIn) -> Self {
        Self {
            task: TaskInput {
                short_description: a.title,
                description: a.body,
                assignment_group: a.owner_group,
                ..TaskInput::default()
            },
            summary: a.summary,
            knowledge_base: a.knowledge_base,
            category: a.category,
            language: a.language,
            translation_of: a.translation_of,
            audience: a.audience,
            organizations: a.organizations,
            services: a.services,
            cis: a.configuration_items,
            valid_to: a.valid_to,
            review_at: a.review_at,
        }
    }
}

/// The details an action takes.
#[derive(Debug, Deserialize, Serialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ArticleActionIn {
    /// submit: a note for the reviewers.
    pub note: Option<String>,
    /// retire: why.
    pub reason: Option<String>,
    /// work_note: the text.
    pub body: Option<String>,
}

/// The task core names an article's title, body and owner group by the task's fields; the
/// API by the article's.
fn article_fields(e: sigap_core::AppError) -> ApiError {
    use sigap_core::AppError;
    let rename = |f: String| match f.as_str() {
        "short_description" => "title".to_owned(),
        "description" => "body".to_owned(),
        "assignment_group" => "owner_group".to_owned(),
        _ => f,
    };
    ApiError::App(match e {
        AppError::Validation(list) => AppError::Validation(
            list.into_iter()
                .map(|mut f| {
                    f.field = rename(std::mem::take(&mut f.field));
                    f
                })
                .collect(),
        ),
        AppError::Conflict {
            code,
            message,
            field,
        } => AppError::Conflict {
            code,
            message,
            field: field.map(rename),
        },
        e => e,
    })
}

pub(super) fn with_etag(status: StatusCode, a: Article, location: Option<String>) -> Response {
    let version = a.version;
    super::handlers::with_etag(status, version, ArticleOut::from(a), location)
}

list_query!(
    /// The filters of the article list.
    ArticleListQuery, sort = sigap_core::task::SORT_FIELDS,
    q = "Full text over the number, the newest version's title and body, and the journal.",
    {
        /// States, separated by commas.
        #[param(inline, style = Form, explode = false)]
        state: Option<ArticleStates>,
        /// Knowledge base id or name.
        knowledge_base: Option<String>,
        /// en or id.
        language: Option<String>,
        /// `true`: articles with a published version; `false`: those without.
        published: Option<String>,
        /// Owner group id or name.
        owner_group: Option<String>,
    }
);

/// Articles (agents), every state: filters `state`, `knowledge_base`, `language`,
/// `published`, `owner_group`, `q`; last changed first. Readers search published articles
/// with `/api/v1/knowledge/search`.
#[utoipa::path(get, path = "/api/v1/articles", tag = "knowledge", params(ArticleListQuery),
    responses((status = 200, body = Page<ArticleOut>)))]
pub async fn list_articles(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<ArticleListQuery>,
) -> ApiResult<Json<Page<ArticleOut>>> {
    let params = q.page()?;
    let query = TaskQuery {
        state: q.state.map(|s| s.joined()),
        assignment_group: q.owner_group,
        q: q.q,
        ..TaskQuery::default()
    };
    let page = kb::list(
        &s.core,
        &ctx,
        query,
        q.knowledge_base.as_deref(),
        q.language.as_deref(),
        q.published.as_deref(),
        &params,
    )
    .await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(ArticleOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

/// Writes an article (agents): its first version, a draft.
#[utoipa::path(post, path = "/api/v1/articles", tag = "knowledge", request_body = ArticleIn,
    responses((status = 201, body = ArticleOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_article(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<ArticleIn>,
) -> ApiResult<Response> {
    if body.body.is_none() {
        return Err(sigap_core::AppError::field("body", "required", "is required").into());
    }
    let input: ArticleInput = body.into();
    if input.task.short_description.is_none() {
        return Err(sigap_core::AppError::field("title", "required", "is required").into());
    }
    let a = kb::create(&s.core, &ctx, input)
        .await
        .map_err(article_fields)?;
    let location = format!("/api/v1/articles/{}", a.number);
    Ok(with_etag(StatusCode::CREATED, a, Some(location)))
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReadQuery {
    /// A version's number (the desk); else the published one.
    #[serde(default, deserialize_with = "crate::api::params::int")]
    pub version: Option<i64>,
}

/// An article to read: the published version rendered (the desk may ask any `version`),
/// what it is about, its counters; for the desk also its links and journal. Reading does
/// not count a view: `POST …/views` does.
#[utoipa::path(get, path = "/api/v1/articles/{key}", tag = "knowledge", params(("key" = String, Path), ReadQuery),
    responses((status = 200, body = ArticleDetailOut), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_article(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<ReadQuery>,
) -> ApiResult<Response> {
    let v = kb::read(&s.core, &ctx, &key, q.version).await?;
    let journal = if sigap_core::task::is_staff(&ctx) {
        sigap_core::task::journal_of(&s.core, &ctx, v.article.id)
            .await?
            .into_iter()
            .map(JournalOut::from)
            .collect()
    } else {
        Vec::new()
    };
    let version = v.article.version;
    Ok(super::handlers::with_etag(
        StatusCode::OK,
        version,
        detail(v, journal),
        None,
    ))
}

/// Changes an article (agents). New content of a published or retired article starts a
/// new draft version; the published one stays readable until the draft is published.
#[utoipa::path(patch, path = "/api/v1/articles/{key}", tag = "knowledge", request_body = ArticleIn,
    params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ArticleOut), (status = 409, body = ProblemJson, content_type = "application/problem+json"),
        (status = 412, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_article(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<ArticleIn>,
) -> ApiResult<Response> {
    let a = kb::update(&s.core, &ctx, &key, body.into(), v)
        .await
        .map_err(article_fields)?;
    Ok(with_etag(StatusCode::OK, a, None))
}

/// Does an action: submit (to review: its reviewers are asked on /approvals; approved, it
/// is published), withdraw (back to draft), retire (`reason`; readers no longer see it),
/// work_note. A step the article's versions do not allow answers 409.
#[utoipa::path(post, path = "/api/v1/articles/{key}/{action}", tag = "knowledge", request_body = ArticleActionIn,
    params(("key" = String, Path), ("action" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = ArticleOut), (status = 409, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn article_action(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath((key, name)): ApiPath<(String, String)>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<ArticleActionIn>,
) -> ApiResult<Response> {
    let action = Action::parse(&name, &Args::json(&body))?;
    let a = kb::act(&s.core, &ctx, &key, action, v).await?;
    Ok(with_etag(StatusCode::OK, a, None))
}

/// Every version of an article, oldest first (agents).
#[utoipa::path(get, path = "/api/v1/articles/{key}/versions", tag = "knowledge", params(("key" = String, Path)),
    responses((status = 200, body = Vec<ArticleVersionOut>), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn article_versions(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<ArticleVersionOut>>> {
    let (_, list) = kb::versions(&s.core, &ctx, &key).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DiffQuery {
    /// The older version's number.
    #[serde(default, deserialize_with = "crate::api::params::int")]
    #[param(value_type = i64, required = true)]
    pub from: Option<i64>,
    /// The newer version's number.
    #[serde(default, deserialize_with = "crate::api::params::int")]
    #[param(value_type = i64, required = true)]
    pub to: Option<i64>,
}

/// One line of a difference.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiffLineOut {
    /// same, added or removed.
    pub op: String,
    /// Its line in the older version.
    pub old: Option<usize>,
    /// Its line in the newer version.
    pub new: Option<usize>,
    pub text: String,
}

/// Two versions compared.
#[derive(Debug, Serialize, ToSchema)]
pub struct ArticleDiffOut {
    pub from: ArticleVersionOut,
    pub to: ArticleVersionOut,
    /// The title, summary and body, line by line.
    pub lines: Vec<DiffLineOut>,
}

/// The difference between two versions of an article (agents): title, summary and body,
/// line by line.
#[utoipa::path(get, path = "/api/v1/articles/{key}/diff", tag = "knowledge", params(("key" = String, Path), DiffQuery),
    responses((status = 200, body = ArticleDiffOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn article_diff(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<DiffQuery>,
) -> ApiResult<Json<ArticleDiffOut>> {
    let need = |v: Option<i64>, field: &str| {
        v.ok_or_else(|| {
            ApiError::App(sigap_core::AppError::field(
                field,
                "required",
                "is required",
            ))
        })
    };
    let (from, to) = (need(q.from, "from")?, need(q.to, "to")?);
    let (a, b, lines) = kb::diff(&s.core, &ctx, &key, from, to).await?;
    Ok(Json(ArticleDiffOut {
        from: a.into(),
        to: b.into(),
        lines: lines
            .into_iter()
            .map(|l| DiffLineOut {
                op: match l.op {
                    DiffOp::Same => "same",
                    DiffOp::Added => "added",
                    DiffOp::Removed => "removed",
                }
                .into(),
                old: l.old,
                new: l.new,
                text: l.text,
            })
            .collect(),
    }))
}

/// Counts a view of an article the caller may read (the portal counts one per page read).
#[utoipa::path(post, path = "/api/v1/articles/{key}/views", tag = "knowledge", params(("key" = String, Path)),
    responses((status = 204), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn article_view(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<StatusCode> {
    let v = kb::read(&s.core, &ctx, &key, None).await?;
    kb::count_view(&s.core, v.article.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A reader's feedback.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct FeedbackIn {
    /// Was this helpful?
    pub helpful: Option<bool>,
    /// 1 to 5.
    pub rating: Option<i64>,
    /// inaccurate, outdated, unclear, broken or other (a comment is then required).
    pub flag: Option<String>,
    pub comment: Option<String>,
}

/// Feedback on an article.
#[derive(Debug, Serialize, ToSchema)]
pub struct FeedbackOut {
    pub id: Uuid,
    pub article: Ref,
    /// The version read.
    pub version: i64,
    pub person: Option<Ref>,
    pub helpful: Option<bool>,
    pub rating: Option<i64>,
    pub flag: Option<String>,
    pub comment: String,
    /// A flag or a low rating: in the owner group's queue until dealt with.
    pub attention: bool,
    pub owner_group: Option<Ref>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub addressed_at: Option<Time>,
    pub addressed_by: Option<Ref>,
    pub addressed_note: String,
}

impl From<Feedback> for FeedbackOut {
    fn from(f: Feedback) -> Self {
        let person = |p: Option<sigap_core::model::PersonRef>| {
            p.map(|p| Ref {
                id: p.id.as_uuid(),
                display: p.name,
            })
        };
        Self {
            id: f.id.as_uuid(),
            article: Ref {
                id: f.article_id.as_uuid(),
                display: format!("{} {}", f.number, f.title),
            },
            version: f.version,
            person: person(f.person),
            helpful: f.helpful,
            rating: f.rating,
            flag: f.flag.map(|x| x.code().to_owned()),
            comment: f.comment,
            attention: f.attention,
            owner_group: f.owner_group.map(|g| Ref {
                id: g.id.as_uuid(),
                display: g.name,
            }),
            created_at: ts(f.created_at),
            addressed_at: f.addressed_at.map(ts),
            addressed_by: person(f.addressed_by),
            addressed_note: f.addressed_note,
        }
    }
}

/// Gives feedback on the published version of an article: helpful or not, a rating, a
/// flag with a comment. A flag or a rating of 2 or less puts it in the owner group's queue.
#[utoipa::path(post, path = "/api/v1/articles/{key}/feedback", tag = "knowledge", request_body = FeedbackIn,
    params(("key" = String, Path)),
    responses((status = 201, body = FeedbackOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn article_feedback(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<FeedbackIn>,
) -> ApiResult<(StatusCode, Json<FeedbackOut>)> {
    let input = kb::FeedbackInput {
        helpful: body.helpful,
        rating: body.rating,
        flag: body.flag,
        comment: body.comment,
    };
    let f = kb::give_feedback(&s.core, &ctx, &key, input).await?;
    Ok((StatusCode::CREATED, Json(f.into())))
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SolvedIn {
    /// What the reader was typing (the incident's short description).
    pub query: Option<String>,
}

/// The article solved the reader's problem while they were describing it: no incident is
/// opened, and the deflection is counted.
#[utoipa::path(post, path = "/api/v1/articles/{key}/solved", tag = "knowledge", request_body = SolvedIn,
    params(("key" = String, Path)),
    responses((status = 204), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn article_solved(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<SolvedIn>,
) -> ApiResult<StatusCode> {
    kb::solved(&s.core, &ctx, &key, body.query.as_deref().unwrap_or("")).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Attaches a file to an article (agents; the raw body with its `Content-Type`, at most
/// 10 MiB). Its body shows an image with `![text](/api/v1/attachments/{id})`; readers of
/// the article may download it.
#[utoipa::path(post, path = "/api/v1/articles/{key}/attachments", tag = "knowledge",
    params(("key" = String, Path), super::incidents::AttachQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = AttachmentOut), (status = 413, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn article_attach(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<super::incidents::AttachQuery>,
    body: crate::extract::RawBody,
) -> ApiResult<(StatusCode, Json<AttachmentOut>)> {
    let filename = super::task::required(q.filename, "filename")?;
    let a = sigap_core::attachments::attach::<sigap_core::model::ArticleExt>(
        &s.core,
        &ctx,
        &key,
        &filename,
        &body.content_type,
        body.bytes.to_vec(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// The files attached to an article (agents).
#[utoipa::path(get, path = "/api/v1/articles/{key}/attachments", tag = "knowledge", params(("key" = String, Path)),
    responses((status = 200, body = Vec<AttachmentOut>)))]
pub async fn article_attachments(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<AttachmentOut>>> {
    let list =
        sigap_core::attachments::list::<sigap_core::model::ArticleExt>(&s.core, &ctx, &key).await?;
    Ok(Json(list.into_iter().map(AttachmentOut::from).collect()))
}

// ----- search -----

/// A published article found.
#[derive(Debug, Serialize, ToSchema)]
pub struct HitOut {
    pub id: Uuid,
    pub number: String,
    pub title: String,
    pub summary: String,
    /// Where the portal shows it.
    pub url: String,
}

impl From<Hit> for HitOut {
    fn from(h: Hit) -> Self {
        Self {
            url: format!("/portal/knowledge/{}", h.number),
            id: h.id.as_uuid(),
            number: h.number,
            title: h.title,
            summary: h.summary,
        }
    }
}

/// Hits, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct HitsOut {
    pub items: Vec<HitOut>,
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SearchQuery {
    /// The words; every one must match (in the title, summary or body; stems match).
    pub q: Option<String>,
    /// Knowledge base id or name.
    pub knowledge_base: Option<String>,
    /// Category id (or path, with `knowledge_base`).
    pub category: Option<String>,
    /// Service id or name.
    pub service: Option<String>,
    /// en or id.
    pub language: Option<String>,
    /// 1 to 100 (default 20).
    #[serde(default, deserialize_with = "crate::api::params::int")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// Searches the published articles the caller may read: ranked, title matches before
/// summary matches before body matches. Without words, the most read articles.
#[utoipa::path(get, path = "/api/v1/knowledge/search", tag = "knowledge", params(SearchQuery),
    responses((status = 200, body = HitsOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn search(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<HitsOut>> {
    let input = kb::SearchInput {
        q: q.q.unwrap_or_default(),
        prefix: false,
        knowledge_base: q.knowledge_base,
        category: q.category,
        service: q.service,
        language: q.language,
        limit: q.limit,
    };
    let hits = kb::search(&s.core, &ctx, input).await?;
    Ok(Json(HitsOut {
        items: hits.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SuggestQuery {
    /// What the reader is typing; the last word may be unfinished. Nothing under 3 letters.
    pub q: Option<String>,
}

/// Articles for what a reader is typing (an incident's short description in the portal):
/// at most 5, best first.
#[utoipa::path(get, path = "/api/v1/knowledge/suggest", tag = "knowledge", params(SuggestQuery),
    responses((status = 200, body = HitsOut)))]
pub async fn suggest(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<SuggestQuery>,
) -> ApiResult<Json<HitsOut>> {
    let text = q.q.unwrap_or_default();
    if text.len() > 1_000 {
        return Err(sigap_core::AppError::field("q", "too_long", "at most 1000 characters").into());
    }
    let hits = kb::suggest(&s.core, &ctx, &text, 5).await?;
    Ok(Json(HitsOut {
        items: hits.into_iter().map(Into::into).collect(),
    }))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreviewIn {
    /// Markdown.
    pub body: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PreviewOut {
    /// The body rendered as an article's would be: safe HTML.
    pub html: String,
}

/// Renders Markdown as an article's body (the editor's live preview).
#[utoipa::path(post, path = "/api/v1/knowledge/preview", tag = "knowledge", request_body = PreviewIn,
    responses((status = 200, body = PreviewOut), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn preview(
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<PreviewIn>,
) -> ApiResult<Json<PreviewOut>> {
    ctx.principal.require(sigap_domain::Role::Agent)?;
    Ok(Json(PreviewOut {
        html: kb::preview(&body.body)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_article_input_refuses_unknown_fields() {
        let bad = serde_json::from_str::<ArticleIn>(r#"{"title":"x","caller":"a"}"#);
        assert!(bad.is_err());
        let ok = serde_json::from_str::<ArticleIn>(r#"{"title":"x","category":null}"#);
        assert!(matches!(
            ok,
            Ok(ArticleIn {
                category: Some(None),
                ..
            })
        ));
    }
}
