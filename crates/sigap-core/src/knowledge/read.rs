//! Reading articles: who may read which, the version a reader sees rendered, ranked search
//! and suggestions while typing, browsing, versions and their differences, readers'
//! feedback and deflections.

use super::words;
use crate::Core;
use crate::error::{AppError, AppResult};
use crate::markdown::{self, DiffLine};
use crate::principal::Ctx;
use crate::task::{self as core_task, is_staff};
use jiff::Timestamp;
use sigap_domain::process::article::{self as domain, Audience, FlagReason};
use sigap_domain::task::TaskKind;
use sigap_domain::{KbCategoryId, KnowledgeBaseId, Locale, ServiceId, TaskId, parse_text};
use sigap_store::Tx;
use sigap_store::knowledge::{
    self as repo, Article, Category, Hit, KnowledgeBase, Linked, Reader, Scope, Stats, Version,
};

/// An article as its reader sees it.
#[derive(Debug, Clone)]
pub struct ArticleView {
    pub article: Article,
    /// The version read: the published one for readers; for the desk the one asked, else
    /// the published one, else the newest.
    pub version: Version,
    /// Its body rendered safely.
    pub html: String,
    pub base: KnowledgeBase,
    pub category: Option<Category>,
    pub scope: Scope,
    pub stats: Stats,
    /// The article it translates (number, title) and its translations, for the desk.
    pub translation_of: Option<(String, String)>,
    /// The incidents and problems it is linked to (the desk only).
    pub linked: Vec<Linked>,
}

/// How the caller reads: the desk every audience, anyone else what is for everyone and for
/// their organization.
pub fn reader(ctx: &Ctx) -> Reader {
    if is_staff(ctx) {
        Reader::Desk
    } else {
        Reader::Person(ctx.principal.organization.as_ref().map(|o| o.id))
    }
}

/// Whether a reader who is not the desk may read an article: published, still valid, and
/// for them.
fn open_to(reader: Reader, a: &Article, scope: &Scope, now: Timestamp) -> bool {
    if a.ext.published_version.is_none() || a.ext.valid_to.is_some_and(|v| v <= now) {
        return false;
    }
    match (reader, a.ext.audience) {
        (Reader::Desk, _) => true,
        (_, Audience::Everyone) => true,
        (_, Audience::Agents) => false,
        (Reader::Person(org), Audience::Organizations) => {
            org.is_some_and(|o| scope.organizations.iter().any(|x| x.id == o))
        }
    }
}

/// An article by number or id, if the caller may read it (else not found).
async fn readable(
    tx: &mut Tx<'_>,
    ctx: &Ctx,
    key: &str,
    now: Timestamp,
) -> AppResult<(Article, Scope)> {
    let a: Article = core_task::find(tx, key).await?;
    let scope = repo::scope(tx, a.id).await?;
    let r = reader(ctx);
    let ok = match r {
        Reader::Desk => {
            core_task::visible(&core_task::visibility(ctx)?, &a)
                || a.ext.published_version.is_some()
        }
        Reader::Person(_) => open_to(r, &a, &scope, now),
    };
    if ok {
        Ok((a, scope))
    } else {
        Err(AppError::NotFound)
    }
}

/// An article to read: the version the caller may see (the desk may ask any by number),
/// rendered, with what it is about and its counters.
pub async fn read(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    version: Option<i64>,
) -> AppResult<ArticleView> {
    let (key, ctx, now) = (key.to_owned(), ctx.clone(), core.now());
    let view = core
        .store
        .read(async move |tx| {
            let (a, scope) = readable(tx, &ctx, &key, now).await?;
            let desk = is_staff(&ctx);
            let n = match (desk, version) {
                (true, Some(n)) => n,
                (true, None) => a.ext.published_version.unwrap_or(a.ext.head_version),
                (false, _) => a.ext.published_version.ok_or(AppError::NotFound)?,
            };
            let v = match repo::version(tx, a.id, n).await {
                Ok(v) => v,
                Err(sigap_store::StoreError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            };
            let base = repo::base(tx, a.ext.kb_id).await?;
            let category = match a.ext.category_id {
                Some(c) => Some(repo::category(tx, c).await?),
                None => None,
            };
            let translation_of = match a.ext.translation_of_id {
                Some(t) => {
                    let o: Article = sigap_store::task::get(tx, t).await?;
                    Some((o.number.clone(), o.short_description.clone()))
                }
                None => None,
            };
            let linked = if desk {
                repo::tasks_of(tx, a.id, 100).await?
            } else {
                Vec::new()
            };
            let stats = repo::stats(tx, a.id).await?;
            let html = markdown::render(&v.body);
            Ok::<_, AppError>(ArticleView {
                article: a,
                version: v,
                html,
                base,
                category,
                scope,
                stats,
                translation_of,
                linked,
            })
        })
        .await?;
    Ok(view)
}

/// Whether the caller may read an article (its attachments too); not found otherwise.
pub async fn may_read(core: &Core, ctx: &Ctx, id: TaskId) -> AppResult<()> {
    let (c, now) = (ctx.clone(), core.now());
    core.store
        .read(async move |tx| readable(tx, &c, &id.to_string(), now).await.map(|_| ()))
        .await
}

/// Counts a view of an article (the reader has it on screen).
pub async fn count_view(core: &Core, id: TaskId) -> AppResult<()> {
    core.store
        .write(async move |tx| repo::count_view(tx, id).await)
        .await?;
    Ok(())
}

/// What a reader searches for.
#[derive(Debug, Clone, Default)]
pub struct SearchInput {
    pub q: String,
    /// The last word may be the start of one (typing).
    pub prefix: bool,
    pub knowledge_base: Option<String>,
    pub category: Option<String>,
    pub service: Option<String>,
    pub language: Option<String>,
    pub limit: Option<i64>,
}

/// The most hits a search returns.
pub const SEARCH_MAX: i64 = 100;

/// Published articles the caller may read matching every word of `q`, best first (title
/// matches before summary matches before body matches); or, without words, the most read.
pub async fn search(core: &Core, ctx: &Ctx, input: SearchInput) -> AppResult<Vec<Hit>> {
    if ctx.principal.person_id.is_none() && !is_staff(ctx) {
        return Err(AppError::Forbidden);
    }
    if input.q.len() > 1_000 {
        return Err(AppError::field("q", "too_long", "at most 1000 characters"));
    }
    let limit = input.limit.unwrap_or(20);
    if !(1..=SEARCH_MAX).contains(&limit) {
        return Err(AppError::field(
            "limit",
            "out_of_range",
            format!("must be from 1 to {SEARCH_MAX}"),
        ));
    }
    let language = match input.language.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(l) => {
            Some(Locale::parse(l).map_err(|e| AppError::field("language", e.code, e.message))?)
        }
    };
    let (r, now) = (reader(ctx), core.now());
    core.store
        .read(async move |tx| {
            let kb: Option<KnowledgeBaseId> = match input.knowledge_base.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(k) => Some(super::resolve_base(tx, k).await?.id),
            };
            let category: Option<KbCategoryId> =
                match (input.category.as_deref().map(str::trim), kb) {
                    (None | Some(""), _) => None,
                    (Some(c), Some(kb)) => Some(super::resolve_category(tx, kb, c).await?.id),
                    (Some(c), None) => Some(KbCategoryId::parse(c).ok_or_else(|| {
                        AppError::field(
                            "category",
                            "not_found",
                            "a category is named by its id, or by its path with its knowledge base",
                        )
                    })?),
                };
            let service: Option<ServiceId> = match input.service.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(s) => Some(
                    crate::portfolio::resolve(tx, s)
                        .await?
                        .ok_or_else(|| AppError::field("service", "not_found", "no such service"))?
                        .id,
                ),
            };
            let mut words = words(&input.q);
            // Typing: a last word of one or two letters is left out until it grows (it would
            // start too many words to say anything); alone, it finds nothing yet.
            if input.prefix && words.last().is_some_and(|w| w.chars().count() < TYPED_MIN) {
                words.pop();
                if words.is_empty() {
                    return Ok(Vec::new());
                }
            }
            let s = repo::Search {
                words: &words,
                prefix: input.prefix,
                any: false,
                kb,
                category,
                service,
                language,
                reader: r,
                now,
                limit,
            };
            if words.is_empty() {
                return Ok::<_, AppError>(repo::browse(tx, &s).await?);
            }
            let hits = repo::search(tx, &s).await?;
            // Typing a sentence: when no article has every word, those with most of them.
            if hits.is_empty() && input.prefix && words.len() > 1 {
                return Ok(repo::search(tx, &repo::Search { any: true, ..s }).await?);
            }
            Ok(hits)
        })
        .await
}

/// The shortest unfinished word looked for while typing.
const TYPED_MIN: usize = 3;

/// Articles for what a reader is typing (an incident's short description): the first
/// few, the last word taken as the start of a word once it has 3 letters (titles and
/// summaries first, then bodies). Nothing for fewer than 3 letters.
pub async fn suggest(core: &Core, ctx: &Ctx, text: &str, limit: i64) -> AppResult<Vec<Hit>> {
    if text.trim().chars().count() < 3 {
        return Ok(Vec::new());
    }
    search(
        core,
        ctx,
        SearchInput {
            q: text.to_owned(),
            prefix: true,
            limit: Some(limit.clamp(1, 10)),
            ..SearchInput::default()
        },
    )
    .await
}

/// Every version of an article, oldest first (the desk).
pub async fn versions(core: &Core, ctx: &Ctx, key: &str) -> AppResult<(Article, Vec<Version>)> {
    let a: Article = core_task::get(core, ctx, key).await?;
    let id = a.id;
    let list = core
        .store
        .read(async move |tx| repo::versions(tx, id).await)
        .await?;
    Ok((a, list))
}

/// Two versions of an article and the difference of their text (title, summary and body),
/// line by line.
pub async fn diff(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    from: i64,
    to: i64,
) -> AppResult<(Version, Version, Vec<DiffLine>)> {
    let (_, list) = versions(core, ctx, key).await?;
    let pick = |n: i64, field: &str| {
        list.iter()
            .find(|v| v.version == n)
            .cloned()
            .ok_or_else(|| {
                AppError::field(
                    field,
                    "not_found",
                    format!("no version {n} of this article"),
                )
            })
    };
    let (a, b) = (pick(from, "from")?, pick(to, "to")?);
    let text = |v: &Version| format!("# {}\n\n{}\n\n{}", v.title, v.summary, v.body);
    let lines = markdown::diff(&text(&a), &text(&b));
    Ok((a, b, lines))
}

/// A reader's feedback: helpful or not, a rating of 1 to 5, a flag, a comment.
#[derive(Debug, Clone, Default)]
pub struct FeedbackInput {
    pub helpful: Option<bool>,
    pub rating: Option<i64>,
    pub flag: Option<String>,
    pub comment: Option<String>,
}

/// Records a reader's feedback on the version they read; a flag or a low rating goes to
/// the owner group's queue (and its members are told).
pub async fn give_feedback(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: FeedbackInput,
) -> AppResult<repo::Feedback> {
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let mut errs = crate::Errors::new();
    let rating = input
        .rating
        .and_then(|r| errs.take("rating", domain::rating(r)));
    let flag = match input.flag.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(f) => errs.take("flag", FlagReason::parse(f)),
    };
    let comment = input
        .comment
        .as_deref()
        .and_then(|c| errs.take("comment", parse_text(c.trim(), 4_000)))
        .unwrap_or_default();
    errs.finish()?;
    if input.helpful.is_none() && rating.is_none() && flag.is_none() && comment.is_empty() {
        return Err(AppError::field(
            "helpful",
            "required",
            "say whether it helped, rate it, flag it or comment",
        ));
    }
    if flag.is_some() && comment.is_empty() {
        return Err(AppError::field(
            "comment",
            "required",
            "say what is wrong with the article",
        ));
    }
    let attention = flag.is_some() || rating.is_some_and(|r| r <= domain::LOW_RATING);
    let (key, c, now) = (key.to_owned(), ctx.clone(), core.now());
    core.store
        .write(async move |tx| {
            let (a, _) = readable(tx, &c, &key, now).await?;
            let version = a.ext.published_version.ok_or(AppError::NotFound)?;
            let f = repo::NewFeedback {
                article: a.id,
                version,
                person: c.principal.person_id,
                helpful: input.helpful,
                rating,
                flag,
                comment: &comment,
                attention,
            };
            let id = repo::insert_feedback(tx, &f, now).await?;
            if attention {
                super::manage::tell_owners(tx, &a, "kb_feedback_attention", now).await?;
            }
            Ok::<_, AppError>(repo::feedback(tx, id).await?)
        })
        .await
}

/// The article solved the reader's problem while they described it: no ticket is opened,
/// and the deflection is counted.
pub async fn solved(core: &Core, ctx: &Ctx, key: &str, query: &str) -> AppResult<TaskId> {
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let query =
        parse_text(query.trim(), 1_000).map_err(|e| AppError::field("query", e.code, e.message))?;
    let (key, c, now) = (key.to_owned(), ctx.clone(), core.now());
    core.store
        .write(async move |tx| {
            let (a, _) = readable(tx, &c, &key, now).await?;
            if a.ext.published_version.is_none() {
                return Err(AppError::NotFound);
            }
            repo::insert_deflection(tx, a.id, c.principal.person_id, &query, now).await?;
            Ok(a.id)
        })
        .await
}

/// The articles linked to a task (its reader sees them when they may read them).
pub async fn of_task(core: &Core, ctx: &Ctx, task: TaskId) -> AppResult<Vec<Linked>> {
    let desk = is_staff(ctx);
    let list = core
        .store
        .read(async move |tx| repo::articles_of(tx, task).await)
        .await?;
    Ok(list
        .into_iter()
        .filter(|l| l.kind == TaskKind::Article && (desk || l.state == "published"))
        .collect())
}

/// Renders Markdown as an article's body would be (the editor's preview).
pub fn preview(source: &str) -> AppResult<String> {
    if source.len() > super::BODY_MAX {
        return Err(AppError::field(
            "body",
            "too_long",
            format!("at most {} bytes", super::BODY_MAX),
        ));
    }
    Ok(markdown::render(source))
}

/// The newest feedback on an article, newest first (the desk: its page shows it).
pub async fn feedback_of(
    core: &Core,
    ctx: &Ctx,
    article: TaskId,
    limit: i64,
) -> AppResult<Vec<repo::Feedback>> {
    if !is_staff(ctx) {
        return Err(AppError::Forbidden);
    }
    let limit = limit.clamp(1, 100);
    Ok(core
        .store
        .read(async move |tx| repo::feedback_of(tx, article, limit).await)
        .await?)
}
