//! Running a knowledge service: knowledge bases and their categories, the owner groups'
//! queue of flagged and low-rated articles, review reminders, articles attached to tasks
//! (an incident resolved with one), and known-error articles kept in step with their
//! problem.

use super::{ArticleInput, normalize_path, resolve_base, resolve_category};
use crate::Core;
use crate::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::principal::Ctx;
use crate::task::{self as core_task, TaskInput, is_staff};
use jiff::{SignedDuration, Timestamp};
use sigap_domain::process::article::{ArticleLink, ArticleState};
use sigap_domain::process::problem::ProblemState;
use sigap_domain::task::StateModel;
use sigap_domain::{FeedbackId, GroupId, Role, TaskId, parse_line, parse_text};
use sigap_store::Tx;
use sigap_store::knowledge::{
    self as repo, Article, BaseFields, Category, Feedback, KnowledgeBase,
};
use sigap_store::notifications::NewNotification;
use sigap_store::problems::Problem;

/// The periodic job that reminds owner groups of the articles due for review.
pub const REVIEW_JOB: &str = "kb_review_reminders";
/// How long before an article's review date its owners are reminded.
pub const REVIEW_AHEAD: SignedDuration = SignedDuration::from_hours(14 * 24);

// ----- knowledge bases and categories -----

/// What a knowledge base is given.
#[derive(Debug, Clone, Default)]
pub struct BaseInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub owner_group: crate::RefChange,
    pub reviewer_group: crate::RefChange,
    pub active: Option<bool>,
}

fn managers(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require(Role::Manager)?;
    if ctx.principal.can_write() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

async fn base_fields(
    tx: &mut Tx<'_>,
    input: &BaseInput,
    current: Option<&KnowledgeBase>,
) -> AppResult<BaseFields> {
    let mut errs = crate::Errors::new();
    let name = match (&input.name, current) {
        (Some(n), _) => errs.take("name", parse_line(n, 100)).unwrap_or_default(),
        (None, Some(c)) => c.name.clone(),
        (None, None) => String::new(),
    };
    if name.trim().is_empty() && input.name.as_deref().is_none_or(|n| n.len() <= 100) {
        errs.push(crate::FieldError::new("name", "required", "is required"));
    }
    let description = match (&input.description, current) {
        (Some(d), _) => errs
            .take("description", parse_text(d, 4_000))
            .unwrap_or_default(),
        (None, Some(c)) => c.description.clone(),
        (None, None) => String::new(),
    };
    errs.finish()?;
    let owner = current.and_then(|c| c.owner_group.as_ref().map(|g| g.id));
    let reviewer = current.and_then(|c| c.reviewer_group.as_ref().map(|g| g.id));
    Ok(BaseFields {
        name,
        description,
        owner_group_id: crate::refs::group(tx, "owner_group", &input.owner_group, owner).await?,
        reviewer_group_id: crate::refs::group(
            tx,
            "reviewer_group",
            &input.reviewer_group,
            reviewer,
        )
        .await?,
        active: input.active.unwrap_or(current.is_none_or(|c| c.active)),
    })
}

fn name_taken(e: sigap_store::StoreError) -> AppError {
    match e {
        sigap_store::StoreError::Conflict { .. } => {
            AppError::field("name", "taken", "another knowledge base has this name")
        }
        e => e.into(),
    }
}

/// Makes a knowledge base (managers).
pub async fn create_base(core: &Core, ctx: &Ctx, input: BaseInput) -> AppResult<KnowledgeBase> {
    managers(ctx)?;
    let now = core.now();
    core.store
        .write(async move |tx| {
            let f = base_fields(tx, &input, None).await?;
            let id = repo::insert_base(tx, &f, now).await.map_err(name_taken)?;
            Ok::<_, AppError>(repo::base(tx, id).await?)
        })
        .await
}

/// Changes a knowledge base (managers).
pub async fn update_base(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: BaseInput,
) -> AppResult<KnowledgeBase> {
    managers(ctx)?;
    let key = key.to_owned();
    core.store
        .write(async move |tx| {
            let current = resolve_base(tx, &key)
                .await
                .map_err(|_| AppError::NotFound)?;
            let f = base_fields(tx, &input, Some(&current)).await?;
            repo::update_base(tx, current.id, &f)
                .await
                .map_err(name_taken)?;
            Ok::<_, AppError>(repo::base(tx, current.id).await?)
        })
        .await
}

/// Every knowledge base, by name.
pub async fn bases(core: &Core, ctx: &Ctx) -> AppResult<Vec<KnowledgeBase>> {
    ctx.principal.person()?;
    Ok(core
        .store
        .read(async move |tx| repo::bases(tx).await)
        .await?)
}

/// A knowledge base by id or name, with its categories (a tree, read top down).
pub async fn base(core: &Core, ctx: &Ctx, key: &str) -> AppResult<(KnowledgeBase, Vec<Category>)> {
    ctx.principal.person()?;
    let key = key.to_owned();
    core.store
        .read(async move |tx| {
            let b = resolve_base(tx, &key)
                .await
                .map_err(|_| AppError::NotFound)?;
            let cats = repo::categories(tx, b.id).await?;
            Ok::<_, AppError>((b, cats))
        })
        .await
}

/// Adds a category to a knowledge base (managers), under `parent` (id or path) if given.
pub async fn create_category(
    core: &Core,
    ctx: &Ctx,
    base: &str,
    name: &str,
    parent: Option<&str>,
) -> AppResult<Category> {
    managers(ctx)?;
    let name = parse_line(name, 100).map_err(|e| AppError::field("name", e.code, e.message))?;
    if name.trim().is_empty() || name.contains('/') {
        return Err(AppError::field(
            "name",
            "invalid",
            "a category has a name without \"/\"",
        ));
    }
    let (base, parent, now) = (base.to_owned(), parent.map(str::to_owned), core.now());
    core.store
        .write(async move |tx| {
            let b = resolve_base(tx, &base)
                .await
                .map_err(|_| AppError::NotFound)?;
            let parent = match parent.as_deref().map(str::trim) {
                None | Some("") => None,
                Some(p) => Some(
                    resolve_category(tx, b.id, p)
                        .await
                        .map_err(|_| AppError::field("parent", "not_found", "no such category"))?,
                ),
            };
            let path = match &parent {
                Some(p) => format!("{} / {}", p.path, name.trim()),
                None => name.trim().to_owned(),
            };
            if repo::category_by_path(tx, b.id, &normalize_path(&path))
                .await?
                .is_some()
            {
                return Err(AppError::field(
                    "name",
                    "taken",
                    "this category is already there",
                ));
            }
            let id = repo::insert_category(tx, b.id, parent.as_ref(), name.trim(), now).await?;
            Ok(repo::category(tx, id).await?)
        })
        .await
}

// ----- the owner groups' queue -----

/// Tells the members of an article's owner group (a flag, a low rating, a review due).
pub(crate) async fn tell_owners(
    tx: &mut Tx<'_>,
    a: &Article,
    kind: &str,
    now: Timestamp,
) -> AppResult<usize> {
    let Some(g) = a.assignment_group.as_ref() else {
        return Ok(0);
    };
    let subject = format!("{} {}", a.number, a.short_description);
    let link = format!("/knowledge/{}", a.number);
    let members = sigap_store::groups::members(tx, g.id).await?;
    for m in &members {
        crate::notifications::send(
            tx,
            &NewNotification {
                person_id: m.id,
                kind,
                subject: &subject,
                body: "",
                link: &link,
                task_id: Some(a.id),
            },
            now,
        )
        .await?;
    }
    Ok(members.len())
}

/// Flags and low ratings not yet dealt with, oldest first: of the articles the caller's
/// groups own (managers see all of them).
pub async fn attention(core: &Core, ctx: &Ctx) -> AppResult<Vec<Feedback>> {
    ctx.principal.require(Role::Agent)?;
    let me = ctx.principal.person()?;
    let all = ctx.principal.has(Role::Manager);
    core.store
        .read(async move |tx| {
            let groups: Option<Vec<GroupId>> = if all {
                None
            } else {
                Some(
                    sigap_store::groups::of_person(tx, me)
                        .await?
                        .into_iter()
                        .map(|g| g.id)
                        .collect(),
                )
            };
            Ok::<_, AppError>(repo::needing_attention(tx, groups.as_deref(), 200).await?)
        })
        .await
}

/// Marks a flag or low rating dealt with, with what was done (the owner group or managers).
pub async fn address(core: &Core, ctx: &Ctx, id: &str, note: &str) -> AppResult<Feedback> {
    ctx.principal.require(Role::Agent)?;
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let me = ctx.principal.person()?;
    let id = FeedbackId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let note =
        parse_text(note.trim(), 4_000).map_err(|e| AppError::field("note", e.code, e.message))?;
    let (all, now) = (ctx.principal.has(Role::Manager), core.now());
    core.store
        .write(async move |tx| {
            let f = match repo::feedback(tx, id).await {
                Ok(f) => f,
                Err(sigap_store::StoreError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            };
            if !all {
                let mine = sigap_store::groups::of_person(tx, me).await?;
                let owner = f.owner_group.as_ref().map(|g| g.id);
                if !mine.iter().any(|g| Some(g.id) == owner) {
                    return Err(AppError::Forbidden);
                }
            }
            if !f.attention {
                return Err(AppError::Conflict {
                    code: "not_in_queue",
                    message: "this feedback needs no attention".into(),
                    field: None,
                });
            }
            if !repo::address(tx, id, me, &note, now).await? {
                return Err(AppError::Conflict {
                    code: "already_addressed",
                    message: "this feedback was already dealt with".into(),
                    field: None,
                });
            }
            Ok(repo::feedback(tx, id).await?)
        })
        .await
}

/// Reminds the owner groups of articles whose review date is near (within `REVIEW_AHEAD`):
/// a notification to each member, once per review date. Returns how many articles.
pub async fn remind_reviews(core: &Core) -> AppResult<usize> {
    let now = core.now();
    let horizon = now.checked_add(REVIEW_AHEAD).unwrap_or(now);
    core.store
        .write(async move |tx| {
            let due = repo::reviews_due(tx, horizon, 500).await?;
            for (id, ..) in &due {
                let a: Article = sigap_store::task::get(tx, *id).await?;
                tell_owners(tx, &a, "kb_review_due", now).await?;
                repo::reminded(tx, *id, now).await?;
            }
            Ok::<_, AppError>(due.len())
        })
        .await
}

// ----- articles and tasks -----

/// A published article for a task: found by number or id, else a field error.
async fn article_for(tx: &mut Tx<'_>, field: &str, key: &str) -> AppResult<Article> {
    let a: Article = match core_task::find(tx, key).await {
        Ok(a) => a,
        Err(AppError::NotFound) => {
            return Err(AppError::field(field, "not_found", "no such article"));
        }
        Err(e) => return Err(e),
    };
    if a.ext.published_version.is_none() {
        return Err(AppError::field(
            field,
            "not_published",
            "the article is not published",
        ));
    }
    Ok(a)
}

/// Attaches a published article to a task of P the caller works (agents), with a work
/// note in the task's journal.
pub async fn attach<P: core_task::Process>(
    core: &Core,
    ctx: &Ctx,
    task: &str,
    article: &str,
) -> AppResult<()> {
    if !is_staff(ctx) || !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let t = core_task::get::<P>(core, ctx, task).await?.id;
    let article = article.to_owned();
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let a = article_for(tx, "article", &article).await?;
            if repo::link(tx, a.id, t, ArticleLink::Attached, actor.id, now).await? {
                let note = format!(
                    "knowledge article {} attached: {}",
                    a.number, a.short_description
                );
                let kind = sigap_domain::task::JournalKind::WorkNote;
                core_task::add_note(tx, &actor, t, kind, &note, now).await?;
            }
            Ok(())
        })
        .await
}

/// Detaches an article from a task of P (agents).
pub async fn detach<P: core_task::Process>(
    core: &Core,
    ctx: &Ctx,
    task: &str,
    article: &str,
) -> AppResult<()> {
    if !is_staff(ctx) || !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let t = core_task::get::<P>(core, ctx, task).await?.id;
    let article = article.to_owned();
    core.store
        .write(async move |tx| {
            let a: Article = core_task::find(tx, &article).await?;
            if repo::unlink(tx, a.id, t, ArticleLink::Attached).await? {
                Ok(())
            } else {
                Err(AppError::NotFound)
            }
        })
        .await
}

/// A task resolved with an article (the resolve step of an incident): the link is kept.
pub(crate) async fn resolved_with(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    task: TaskId,
    article: &str,
) -> AppResult<String> {
    let a = article_for(tx, "article", article).await?;
    repo::link(tx, a.id, task, ArticleLink::Resolved, actor.id, now).await?;
    Ok(a.number.clone())
}

// ----- known errors -----

/// The text of a problem's known-error article: symptoms, work-around and cause.
fn known_error_text(p: &Problem) -> (String, String, String) {
    let title = format!("Known error: {}", p.short_description);
    let summary = match p.ext.workaround.lines().next() {
        Some(l) if !l.trim().is_empty() => format!("Work-around: {}", l.trim()),
        _ => String::new(),
    };
    let part = |head: &str, text: &str| {
        let t = if text.trim().is_empty() {
            "Not known yet."
        } else {
            text.trim()
        };
        format!("## {head}\n\n{t}\n")
    };
    let symptoms = if p.ext.symptoms.trim().is_empty() {
        p.description.as_str()
    } else {
        p.ext.symptoms.as_str()
    };
    let body = format!(
        "{}\n{}\n{}\n_Problem {}_\n",
        part("Symptoms", symptoms),
        part("Work-around", &p.ext.workaround),
        part("Cause", &p.ext.root_cause),
        p.number
    );
    let mut title: String = title.chars().take(160).collect();
    if title.trim().is_empty() {
        title = p.number.clone();
    }
    (
        title,
        summary.chars().take(super::SUMMARY_MAX).collect(),
        body,
    )
}

/// Publishes a known error's article (agents): its symptoms, work-around and cause, in the
/// knowledge base given (else the only one), kept in step with the problem while it is
/// open. A problem has one such article; asking again returns it.
pub async fn publish_known_error(
    core: &Core,
    ctx: &Ctx,
    problem: &str,
    knowledge_base: Option<String>,
) -> AppResult<Article> {
    let p: Problem = core_task::get(core, ctx, problem).await?;
    if !p.ext.known_error {
        return Err(AppError::field(
            "problem",
            "not_known_error",
            "the problem is not a known error",
        ));
    }
    let existing = core
        .store
        .read({
            let id = p.id;
            async move |tx| repo::articles_of(tx, id).await
        })
        .await?;
    if let Some(l) = existing.iter().find(|l| l.link == ArticleLink::KnownError) {
        return core_task::get(core, ctx, &l.number).await;
    }
    let (title, summary, body) = known_error_text(&p);
    let input = ArticleInput {
        task: TaskInput {
            short_description: Some(title),
            description: Some(body),
            assignment_group: p.assignment_group.as_ref().map(|g| Some(g.id.to_string())),
            service: None,
            ..TaskInput::default()
        },
        summary: Some(summary),
        knowledge_base,
        audience: Some("everyone".into()),
        services: Some(p.service.iter().map(|s| s.id.to_string()).collect()),
        cis: Some(p.ci.iter().map(|c| c.id.to_string()).collect()),
        ..ArticleInput::default()
    };
    let a = super::create(core, ctx, input).await?;
    let (actor, now, pid) = (Actor::of(ctx), core.now(), p.id);
    let number = p.number.clone();
    core.store
        .write(async move |tx| {
            repo::link(tx, a.id, pid, ArticleLink::KnownError, actor.id, now).await?;
            let a: Article = sigap_store::task::get(tx, a.id).await?;
            super::publish_now(
                tx,
                &actor,
                now,
                &a,
                format!("published for the known error {number}"),
            )
            .await
        })
        .await
}

/// A problem changed: its known-error article, while the problem is open and nobody is
/// editing the article, takes the new symptoms, work-around and cause as a new published
/// version.
pub(crate) async fn problem_changed(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    p: &Problem,
) -> AppResult<()> {
    if !p.state.is_open() && p.state != ProblemState::Resolved {
        return Ok(());
    }
    let Some(link) = repo::articles_of(tx, p.id)
        .await?
        .into_iter()
        .find(|l| l.link == ArticleLink::KnownError)
    else {
        return Ok(());
    };
    let a: Article = sigap_store::task::get(tx, link.id).await?;
    if a.state != ArticleState::Published {
        return Ok(());
    }
    let (title, summary, body) = known_error_text(p);
    if a.short_description == title && a.description == body && a.ext.summary == summary {
        return Ok(());
    }
    let c = repo::Content {
        title: &title,
        summary: &summary,
        body: &body,
    };
    let n = a.ext.head_version + 1;
    repo::insert_version(tx, a.id, n, c, (actor.id, &actor.name), now).await?;
    let mut f = a.fields();
    f.short_description = title.clone();
    f.description = body.clone();
    f.ext.summary = summary.clone();
    f.ext.head_version = n;
    f.task.state = ArticleState::Draft;
    let drafted =
        core_task::save(tx, actor, now, &a, &f, crate::task::Step::default(), None).await?;
    super::publish_now(
        tx,
        actor,
        now,
        &drafted,
        format!("kept in step with {}", p.number),
    )
    .await?;
    Ok(())
}
