//! Knowledge management on the task core. An article (KB) is written by the desk in a
//! knowledge base, reviewed through the core's approvals (the base's reviewer group, else
//! the article's owner group, the author excluded) and published; editing a published
//! article starts a new draft version while the published one stays readable. Every
//! version is kept. Readers find published articles by ranked full-text search, the portal
//! suggests them while an incident is described (a ticket not opened is a deflection), and
//! their feedback (helpful, ratings, flags) sends articles to their owner group's queue.
//! Articles are attached to incidents, incidents resolved with them, and a problem's known
//! error publishes an article kept in step with the problem.

use crate::Core;
use crate::approvals::{self, Subject};
use crate::audit::Actor;
use crate::error::{AppError, AppResult, Errors};
use crate::principal::Ctx;
use crate::task::{self as core_task, Args, Change, Process, Step, TaskInput};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sigap_domain::approval::{Need, Outcome, Rule, Stage};
use sigap_domain::process::article::{
    self as domain, ArticleState, Audience, VersionState, Versions,
};
use sigap_domain::task::{JournalKind, Priority};
use sigap_domain::{Locale, PersonId, TaskId, parse_text};
use sigap_store::Tx;
use sigap_store::knowledge::{self as repo, Article, ArticleExt, ArticleFields, Content};
use sigap_store::task::TaskFields;

mod manage;
mod read;
pub use manage::*;
pub use read::*;

/// The most services, CIs or organizations an article names.
pub const MAX_LINKS: usize = 50;
/// The longest summary.
pub const SUMMARY_MAX: usize = 1_000;
/// The longest body (Markdown).
pub const BODY_MAX: usize = 100_000;

/// What an article is given on creation or update.
#[derive(Debug, Clone, Default)]
pub struct ArticleInput {
    /// The common fields: the short description is the title, the description the body
    /// (Markdown), the assignment group the owner group.
    pub task: TaskInput,
    pub summary: Option<String>,
    /// The knowledge base (id or name).
    pub knowledge_base: Option<String>,
    /// Its category (id or path, "Network / VPN"); `Some(None)` clears it.
    pub category: Option<Option<String>>,
    /// en or id.
    pub language: Option<String>,
    /// The article this one translates (number or id); `Some(None)` clears it.
    pub translation_of: Option<Option<String>>,
    /// everyone, agents or organizations.
    pub audience: Option<String>,
    /// The organizations whose people may read it (audience organizations).
    pub organizations: Option<Vec<String>>,
    pub services: Option<Vec<String>>,
    pub cis: Option<Vec<String>>,
    /// After this instant readers no longer see it; `Some(None)` clears it.
    pub valid_to: Option<Option<Timestamp>>,
    /// When its owners should review it (reminded before); `Some(None)` clears it.
    pub review_at: Option<Option<Timestamp>>,
}

/// The named actions of an article.
#[derive(Debug, Clone)]
pub enum Action {
    /// The draft goes to review: its reviewers are asked.
    Submit {
        note: String,
    },
    /// Back from review to draft, by its author (or the desk).
    Withdraw,
    /// No version is published any more: readers no longer see it.
    Retire {
        reason: String,
    },
    WorkNote {
        body: String,
    },
}

impl Action {
    /// The action `name` with its details; an unknown name is not found.
    pub fn parse(name: &str, a: &Args) -> AppResult<Action> {
        Ok(match name {
            "submit" => Action::Submit {
                note: a.optional("note")?,
            },
            "withdraw" => Action::Withdraw,
            "retire" => Action::Retire {
                reason: a.required("reason")?,
            },
            "work_note" => Action::WorkNote {
                body: a.required("body")?,
            },
            _ => return Err(AppError::NotFound),
        })
    }
}

/// 409 with the domain's reason.
fn refused(e: sigap_domain::InvalidValue) -> AppError {
    AppError::Conflict {
        code: e.code,
        message: e.message,
        field: None,
    }
}

/// An article's versions as the domain's steps see them.
async fn versions_of(tx: &mut Tx<'_>, article: TaskId) -> AppResult<Versions> {
    Ok(Versions(
        repo::versions(tx, article)
            .await?
            .into_iter()
            .map(|v| v.state)
            .collect(),
    ))
}

/// Writes what a step planned: the versions' new states (a new draft is written by the
/// caller), the published version kept in the fields, the search index following it.
async fn carry_out(
    tx: &mut Tx<'_>,
    now: Timestamp,
    article: TaskId,
    plan: &domain::Plan,
    f: &mut ArticleFields,
) -> AppResult<()> {
    for (i, state) in &plan.changes {
        let n = *i as i64 + 1;
        repo::set_version_state(tx, article, n, *state, now).await?;
        match state {
            VersionState::Published => {
                let v = repo::version(tx, article, n).await?;
                let body = crate::markdown::plain_text(&v.body);
                let c = Content {
                    title: &v.title,
                    summary: &v.summary,
                    body: &body,
                };
                repo::index(tx, article, f.ext.language, c).await?;
                f.ext.published_version = Some(n);
                f.ext.published_at = Some(now);
            }
            VersionState::Retired if f.ext.published_version == Some(n) => {
                repo::unindex(tx, article).await?;
                f.ext.published_version = None;
            }
            _ => {}
        }
    }
    f.task.state = plan.state;
    Ok(())
}

/// The reviewers of an article: the base's reviewer group, else the owner group; its
/// author never reviews their own version.
async fn review_rule(tx: &mut Tx<'_>, a: &Article, author: Option<PersonId>) -> AppResult<Rule> {
    let base = repo::base(tx, a.ext.kb_id).await?;
    let group = base
        .reviewer_group
        .map(|g| g.id)
        .or(a.assignment_group.as_ref().map(|g| g.id))
        .ok_or_else(|| {
            AppError::field(
                "assignment_group",
                "required",
                "an article is reviewed by its knowledge base's reviewers or its owner group: name one",
            )
        })?;
    let mut people: Vec<PersonId> = Vec::new();
    for m in sigap_store::groups::members(tx, group).await? {
        if Some(m.id) != author && !people.contains(&m.id) {
            people.push(m.id);
        }
    }
    people.truncate(sigap_domain::approval::MAX_PEOPLE);
    if people.is_empty() {
        return Err(AppError::Conflict {
            code: "no_reviewers",
            message: "nobody but the author can review this article: add reviewers to its group"
                .into(),
            field: None,
        });
    }
    Rule::new(vec![Stage::People {
        people,
        need: Need::Any,
    }])
    .map_err(|e| AppError::Internal(format!("review rule: {}", e.message)))
}

impl Process for ArticleExt {
    const ENTITY: &'static str = "article";
    const PATH: &'static str = "/knowledge";
    const DESK_ONLY: bool = true;
    type Input = ArticleInput;
    type Action = Action;

    fn audit(&self, m: &mut Map<String, Value>) {
        m.insert("knowledge_base".into(), json!(self.kb_id.to_string()));
        m.insert(
            "kb_category".into(),
            json!(self.category_id.map(|c| c.to_string())),
        );
        m.insert("summary".into(), json!(self.summary));
        m.insert("language".into(), json!(self.language.code()));
        m.insert(
            "translation_of".into(),
            json!(self.translation_of_id.map(|t| t.to_string())),
        );
        m.insert("audience".into(), json!(self.audience.code()));
        m.insert(
            "valid_to".into(),
            json!(self.valid_to.map(|t| t.to_string())),
        );
        m.insert(
            "review_at".into(),
            json!(self.review_at.map(|t| t.to_string())),
        );
        m.insert("head_version".into(), json!(self.head_version));
        m.insert("published_version".into(), json!(self.published_version));
    }

    fn conditions(&self, _s: &mut sigap_domain::sla::Snapshot) {}

    fn task_input(input: &ArticleInput) -> &TaskInput {
        &input.task
    }

    fn apply(input: &ArticleInput, f: &mut ArticleFields, errs: &mut Errors) {
        if let Some(s) = &input.summary {
            if let Some(s) = errs.take("summary", parse_text(s.trim(), SUMMARY_MAX)) {
                f.ext.summary = s;
            }
        }
        if let Some(l) = &input.language {
            if let Some(l) = errs.take("language", Locale::parse(l)) {
                f.ext.language = l;
            }
        }
        if let Some(a) = &input.audience {
            if let Some(a) = errs.take("audience", Audience::parse(a)) {
                f.ext.audience = a;
            }
        }
        if let Some(v) = input.valid_to {
            f.ext.valid_to = v;
        }
        if let Some(r) = input.review_at {
            if f.ext.review_at != r {
                f.ext.review_reminded_at = None;
            }
            f.ext.review_at = r;
        }
        if let Some(list) = [&input.services, &input.cis, &input.organizations]
            .into_iter()
            .flatten()
            .find(|l| l.len() > MAX_LINKS)
        {
            let _ = list;
            errs.push(crate::FieldError::new(
                "services",
                "too_many",
                format!("at most {MAX_LINKS} services, CIs or organizations"),
            ));
        }
    }

    async fn prepare(
        tx: &mut Tx<'_>,
        _ctx: &Ctx,
        input: &ArticleInput,
        f: &mut ArticleFields,
        before: Option<&Article>,
        _computed: Priority,
    ) -> AppResult<()> {
        // Articles have no priority: the lowest, always.
        f.priority = Priority::LOWEST;
        if f.task.description.len() > BODY_MAX {
            return Err(AppError::field(
                "description",
                "too_long",
                format!("at most {BODY_MAX} bytes"),
            ));
        }
        // The knowledge base: given, or the only one there is.
        match &input.knowledge_base {
            Some(k) => f.ext.kb_id = resolve_base(tx, k).await?.id,
            None if before.is_none() => {
                let bases = repo::bases(tx).await?;
                match bases.as_slice() {
                    [only] => f.ext.kb_id = only.id,
                    _ => {
                        return Err(AppError::field(
                            "knowledge_base",
                            "required",
                            "name the knowledge base",
                        ));
                    }
                }
            }
            None => {}
        }
        let base = repo::base(tx, f.ext.kb_id).await?;
        if before.is_none() && !base.active {
            return Err(AppError::field(
                "knowledge_base",
                "inactive",
                "this knowledge base takes no new articles",
            ));
        }
        if f.assignment_group_id.is_none() {
            f.assignment_group_id = base.owner_group.as_ref().map(|g| g.id);
        }
        match &input.category {
            None => {}
            Some(None) => f.ext.category_id = None,
            Some(Some(k)) if k.trim().is_empty() => f.ext.category_id = None,
            Some(Some(k)) => {
                f.ext.category_id = Some(resolve_category(tx, f.ext.kb_id, k).await?.id)
            }
        }
        // A category of another base goes when the base changes.
        if let Some(c) = f.ext.category_id {
            if repo::category(tx, c).await?.kb_id != f.ext.kb_id {
                if input.category.is_some() {
                    return Err(AppError::field(
                        "category",
                        "not_found",
                        "no such category in this knowledge base",
                    ));
                }
                f.ext.category_id = None;
            }
        }
        match &input.translation_of {
            None => {}
            Some(None) => f.ext.translation_of_id = None,
            Some(Some(k)) if k.trim().is_empty() => f.ext.translation_of_id = None,
            Some(Some(k)) => {
                let other: Article = match core_task::find(tx, k).await {
                    Ok(a) => a,
                    Err(AppError::NotFound) => {
                        return Err(AppError::field(
                            "translation_of",
                            "not_found",
                            "no such article",
                        ));
                    }
                    Err(e) => return Err(e),
                };
                if Some(other.id) == before.map(|b| b.id) {
                    return Err(AppError::field(
                        "translation_of",
                        "invalid",
                        "an article does not translate itself",
                    ));
                }
                f.ext.translation_of_id = Some(other.id);
            }
        }
        if let Some(t) = f.ext.translation_of_id {
            let other: Article = sigap_store::task::get(tx, t).await?;
            if other.ext.language == f.ext.language {
                return Err(AppError::field(
                    "language",
                    "same_language",
                    "a translation is in another language than its original",
                ));
            }
        }
        // New content starts a new draft version when the head is published or retired;
        // a version in review is not edited.
        let content_changed = before.is_none_or(|b| {
            b.short_description != f.short_description
                || b.description != f.description
                || b.ext.summary != f.ext.summary
        });
        if let (Some(b), true) = (before, content_changed) {
            let plan = versions_of(tx, b.id)
                .await?
                .plan(domain::Step::Edit)
                .map_err(refused)?;
            if plan.new_version {
                f.ext.head_version = b.ext.head_version + 1;
            }
            f.task.state = plan.state;
        }
        Ok(())
    }

    async fn act(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        before: &Article,
        f: &mut ArticleFields,
        action: &Action,
    ) -> AppResult<Step> {
        match action {
            Action::Submit { note } => {
                let versions = versions_of(tx, before.id).await?;
                let plan = versions.plan(domain::Step::Submit).map_err(refused)?;
                let head = repo::version(tx, before.id, before.ext.head_version).await?;
                let author = head.author.as_ref().map(|p| p.id);
                let rule = review_rule(tx, before, author).await?;
                carry_out(tx, now, before.id, &plan, f).await?;
                let subject = Subject {
                    task: before.id,
                    number: &before.number,
                    title: &before.short_description,
                    requested_for: None,
                    group: f.assignment_group_id,
                };
                let (outcome, _) = approvals::ask_from(tx, now, &subject, &rule, 0).await?;
                if outcome != Outcome::Pending {
                    return Err(AppError::Conflict {
                        code: "no_reviewers",
                        message: "nobody can review this article".into(),
                        field: None,
                    });
                }
                let text = if note.is_empty() {
                    format!("version {} sent to review", before.ext.head_version)
                } else {
                    format!("version {} sent to review: {note}", before.ext.head_version)
                };
                Ok(Step::note(JournalKind::WorkNote, text))
            }
            Action::Withdraw => {
                let plan = versions_of(tx, before.id)
                    .await?
                    .plan(domain::Step::Return)
                    .map_err(refused)?;
                approvals::withdraw(tx, before.id, now).await?;
                carry_out(tx, now, before.id, &plan, f).await?;
                let _ = actor;
                Ok(Step::note(
                    JournalKind::WorkNote,
                    format!("version {} withdrawn from review", before.ext.head_version),
                ))
            }
            Action::Retire { reason } => {
                let plan = versions_of(tx, before.id)
                    .await?
                    .plan(domain::Step::Retire)
                    .map_err(refused)?;
                carry_out(tx, now, before.id, &plan, f).await?;
                Ok(Step::note(
                    JournalKind::WorkNote,
                    format!("retired: {reason}"),
                ))
            }
            Action::WorkNote { body } => Ok(Step::note(JournalKind::WorkNote, body.clone())),
        }
    }

    async fn after(
        tx: &mut Tx<'_>,
        actor: &Actor,
        now: Timestamp,
        change: Change<'_, Self>,
        before: Option<&Article>,
        after: &Article,
    ) -> AppResult<()> {
        let input = match change {
            Change::Create(i) | Change::Update(i) => i,
            Change::Act(_) => return Ok(()),
        };
        let c = Content {
            title: &after.short_description,
            summary: &after.ext.summary,
            body: &after.description,
        };
        let author = (actor.id, actor.name.as_str());
        match before {
            None => {
                repo::insert_version(tx, after.id, 1, c, author, now).await?;
                repo::create_stats(tx, after.id).await?;
            }
            Some(b) if after.ext.head_version > b.ext.head_version => {
                repo::insert_version(tx, after.id, after.ext.head_version, c, author, now).await?;
            }
            Some(b)
                if b.short_description != after.short_description
                    || b.description != after.description
                    || b.ext.summary != after.ext.summary =>
            {
                repo::write_version(tx, after.id, after.ext.head_version, c, author, now).await?;
            }
            Some(_) => {}
        }
        if let Some(keys) = &input.services {
            let ids = crate::refs::services(tx, "services", keys).await?;
            repo::set_services(tx, after.id, &ids).await?;
        }
        if let Some(keys) = &input.cis {
            let mut ids = Vec::new();
            for k in keys {
                let id = core_task::resolve_ci(tx, k).await?;
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            repo::set_cis(tx, after.id, &ids).await?;
        }
        if let Some(keys) = &input.organizations {
            let ids = crate::refs::orgs(tx, "organizations", keys).await?;
            repo::set_organizations(tx, after.id, &ids).await?;
        }
        // The language of a published article decides its stems in the index.
        if let (Some(b), Some(n)) = (before, after.ext.published_version) {
            if b.ext.language != after.ext.language {
                let v = repo::version(tx, after.id, n).await?;
                let body = crate::markdown::plain_text(&v.body);
                let c = Content {
                    title: &v.title,
                    summary: &v.summary,
                    body: &body,
                };
                repo::index(tx, after.id, after.ext.language, c).await?;
            }
        }
        Ok(())
    }
}

/// A knowledge base by id or name.
pub(crate) async fn resolve_base(tx: &mut Tx<'_>, key: &str) -> AppResult<repo::KnowledgeBase> {
    let key = key.trim();
    if let Some(id) = sigap_domain::KnowledgeBaseId::parse(key) {
        return match repo::base(tx, id).await {
            Ok(b) => Ok(b),
            Err(sigap_store::StoreError::NotFound) => Err(AppError::field(
                "knowledge_base",
                "not_found",
                "no such knowledge base",
            )),
            Err(e) => Err(e.into()),
        };
    }
    repo::base_by_name(tx, key)
        .await?
        .ok_or_else(|| AppError::field("knowledge_base", "not_found", "no such knowledge base"))
}

/// A category of a base by id or path.
pub(crate) async fn resolve_category(
    tx: &mut Tx<'_>,
    kb: sigap_domain::KnowledgeBaseId,
    key: &str,
) -> AppResult<repo::Category> {
    let key = key.trim();
    let found = match sigap_domain::KbCategoryId::parse(key) {
        Some(id) => match repo::category(tx, id).await {
            Ok(c) if c.kb_id == kb => Some(c),
            Ok(_) | Err(sigap_store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        },
        None => repo::category_by_path(tx, kb, &normalize_path(key)).await?,
    };
    found.ok_or_else(|| {
        AppError::field(
            "category",
            "not_found",
            "no such category in this knowledge base",
        )
    })
}

/// A category path as kept: names trimmed, joined by " / ".
pub(crate) fn normalize_path(path: &str) -> String {
    path.split('/')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" / ")
}

/// A review settled (from `approvals::decide`): approved publishes the version in review
/// (the one published before is outdated); rejected sends it back to draft.
pub(crate) async fn review_settled(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    task: TaskId,
    outcome: Outcome,
) -> AppResult<()> {
    let a: Article = sigap_store::task::get(tx, task).await?;
    if a.state != ArticleState::Review {
        return Ok(());
    }
    let step = match outcome {
        Outcome::Pending => return Ok(()),
        Outcome::Approved => domain::Step::Publish,
        Outcome::Rejected => domain::Step::Return,
    };
    let plan = versions_of(tx, a.id).await?.plan(step).map_err(refused)?;
    let mut f = a.fields();
    carry_out(tx, now, a.id, &plan, &mut f).await?;
    let note = match outcome {
        Outcome::Approved => format!("version {} published", a.ext.head_version),
        _ => format!(
            "version {} sent back to draft by its reviewer",
            a.ext.head_version
        ),
    };
    core_task::save(
        tx,
        actor,
        now,
        &a,
        &f,
        Step::note(JournalKind::WorkNote, note),
        None,
    )
    .await?;
    Ok(())
}

/// Publishes the head of an article at once, without review (a known error's article kept
/// in step with its problem): the head is sent to review and published in one step.
pub(crate) async fn publish_now(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    a: &Article,
    note: String,
) -> AppResult<Article> {
    let mut versions = versions_of(tx, a.id).await?;
    let mut f = a.fields();
    for step in [domain::Step::Submit, domain::Step::Publish] {
        let plan = versions.plan(step).map_err(refused)?;
        carry_out(tx, now, a.id, &plan, &mut f).await?;
        versions.apply(&plan);
    }
    core_task::save(
        tx,
        actor,
        now,
        a,
        &f,
        Step::note(JournalKind::WorkNote, note),
        None,
    )
    .await
}

/// Writes an article (agents); its first version is a draft.
pub async fn create(core: &Core, ctx: &Ctx, input: ArticleInput) -> AppResult<Article> {
    let mut f = ArticleFields {
        task: TaskFields::new(
            ArticleState::Draft,
            Priority::LOWEST,
            ctx.principal.person_id,
        ),
        ext: ArticleExt {
            head_version: 1,
            language: ctx.principal.locale,
            ..ArticleExt::default()
        },
    };
    f.caller_id = None;
    f.contact_type = sigap_domain::task::ContactType::SelfService;
    core_task::create(core, ctx, input, f).await
}

/// Changes an article (agents): new content starts a new draft of a published article.
pub async fn update(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: ArticleInput,
    if_match: Option<i64>,
) -> AppResult<Article> {
    core_task::update(core, ctx, key, input, if_match).await
}

/// Does one of an article's named actions.
pub async fn act(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    action: Action,
    if_match: Option<i64>,
) -> AppResult<Article> {
    core_task::act(core, ctx, key, action, if_match).await
}

/// A page of articles (the desk), newest first: the common filters, and a knowledge base
/// (id or name), a language and whether a version is published.
pub async fn list(
    core: &Core,
    ctx: &Ctx,
    query: crate::task::TaskQuery,
    knowledge_base: Option<&str>,
    language: Option<&str>,
    published: Option<&str>,
    params: &crate::listing::ListParams,
) -> AppResult<crate::listing::Listed<Article>> {
    let mut ext = Vec::new();
    if let Some(k) = knowledge_base.map(str::trim).filter(|k| !k.is_empty()) {
        let k = k.to_owned();
        let base = core
            .store
            .read(async move |tx| resolve_base(tx, &k).await)
            .await?;
        ext.push(repo::in_base(base.id));
    }
    if let Some(l) = language.map(str::trim).filter(|l| !l.is_empty()) {
        let l = Locale::parse(l).map_err(|e| AppError::field("language", e.code, e.message))?;
        ext.push(repo::in_language(l));
    }
    if let Some(p) = crate::listing::parse_bool("published", published)? {
        ext.push(repo::published(p));
    }
    core_task::list(core, ctx, query, ext, params, "-updated_at").await
}

/// Words too common to look for (English and Indonesian), left out of a search that has
/// other words.
const STOP_WORDS: &[&str] = &[
    "a", "an", "and", "are", "as", "at", "be", "but", "by", "do", "does", "for", "from", "has",
    "have", "i", "if", "in", "is", "it", "its", "me", "my", "of", "on", "or", "our", "so", "that",
    "the", "this", "to", "was", "we", "with", "you", "your", "ada", "aku", "dan", "di", "dengan",
    "ini", "itu", "ke", "kami", "kita", "saya", "untuk", "yang",
];

/// A text a reader typed, split into words for the search: letters and digits, folded to
/// lower case, common words left out (unless there is nothing else), at most 12 words of at
/// most 64 characters. The last word stays last (it may be unfinished).
pub fn words(text: &str) -> Vec<String> {
    let all: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().take(64).collect::<String>().to_lowercase())
        .collect();
    let kept: Vec<String> = all
        .iter()
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .cloned()
        .collect();
    let mut out = if kept.is_empty() { all } else { kept };
    if out.len() > 12 {
        out.drain(..out.len() - 12);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_keep_letters_and_digits_only() {
        assert_eq!(
            words("  VPN\"* OR drop-table; 42 "),
            vec!["vpn", "drop", "table", "42"]
        );
        assert!(words("\"*:&|!()").is_empty());
        assert_eq!(words(&"a ".repeat(40)).len(), 12, "only common words: kept");
        assert_eq!(words("I forgot my passw"), vec!["forgot", "passw"]);
        let many: Vec<String> = (0..20).map(|i| format!("w{i}")).collect();
        assert_eq!(
            words(&many.join(" ")).last().map(String::as_str),
            Some("w19")
        );
        assert_eq!(normalize_path(" Network /  VPN/ "), "Network / VPN");
    }
}
