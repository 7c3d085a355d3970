//! Knowledge management on the task core: an article's own fields and every version of it,
//! knowledge bases and their category trees, what an article is about (services, CIs) and
//! which organizations may read it, readers' counters, feedback and deflections, the links
//! between articles and tasks, and the ranked full-text index of published articles.

use super::approvals::person_at;
use super::groups::{GroupRef, PersonRef};
use super::list::Val;
use super::task::{self, NamedRef, Record, RecordFields};
use super::{id_array, in_json};
use crate::error::{StoreError, StoreResult};
use crate::tx::{Dialect, Tx};
use crate::value::{P, Row};
use jiff::Timestamp;
use sigap_domain::process::article::{
    ArticleLink, ArticleState, Audience, FlagReason, VersionState,
};
use sigap_domain::task::TaskKind;
use sigap_domain::{
    ArticleVersionId, CiId, FeedbackId, GroupId, KbCategoryId, KnowledgeBaseId, Locale, OrgId,
    PersonId, ServiceId, TaskId,
};

super::code_col!(Audience, VersionState, ArticleLink, FlagReason, Locale);

task::extension!(
    /// An article's own fields. The newest version's title and body are the task's short
    /// description and description; the owner group is its assignment group.
    ArticleExt: ArticleState, TaskKind::Article, "kb_article" {
        kb_id: KnowledgeBaseId,
        category_id: Option<KbCategoryId>,
        summary: String,
        language: Locale,
        translation_of_id: Option<TaskId>,
        audience: Audience,
        valid_to: Option<Timestamp>,
        review_at: Option<Timestamp>,
        review_reminded_at: Option<Timestamp>,
        head_version: i64,
        published_version: Option<i64>,
        published_at: Option<Timestamp>,
    }
);

pub type Article = Record<ArticleExt>;

/// Articles of one knowledge base.
pub fn in_base(kb: KnowledgeBaseId) -> task::ExtCondition {
    task::ExtCondition::new("x.kb_id = {}", Val::Uuid(kb.as_uuid()))
}

/// Articles in one language.
pub fn in_language(l: Locale) -> task::ExtCondition {
    task::ExtCondition::new("x.language = {}", Val::Text(l.code().to_owned()))
}

/// Articles with a published version (or without one).
pub fn published(is: bool) -> task::ExtCondition {
    task::ExtCondition::new("(x.published_version IS NOT NULL) = {}", Val::Bool(is))
}
pub type ArticleFields = RecordFields<ArticleExt>;

// ----- knowledge bases and categories -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KnowledgeBase {
    pub id: KnowledgeBaseId,
    pub name: String,
    pub description: String,
    pub owner_group: Option<GroupRef>,
    pub reviewer_group: Option<GroupRef>,
    pub active: bool,
    pub created_at: Timestamp,
}

const BASE: &str = "SELECT b.id, b.name, b.description, og.id, og.name, rg.id, rg.name, b.active, b.created_at \
    FROM knowledge_base b LEFT JOIN support_group og ON og.id = b.owner_group_id \
    LEFT JOIN support_group rg ON rg.id = b.reviewer_group_id";

fn group_at(row: &Row, at: usize) -> StoreResult<Option<GroupRef>> {
    let id: Option<GroupId> = row.get(at)?;
    id.map(|id| {
        Ok(GroupRef {
            id,
            name: row.get(at + 1)?,
        })
    })
    .transpose()
}

fn base_from(row: &Row) -> StoreResult<KnowledgeBase> {
    Ok(KnowledgeBase {
        id: row.get(0)?,
        name: row.get(1)?,
        description: row.get(2)?,
        owner_group: group_at(row, 3)?,
        reviewer_group: group_at(row, 5)?,
        active: row.get(7)?,
        created_at: row.get(8)?,
    })
}

/// A knowledge base's fields as written.
#[derive(Debug, Clone)]
pub struct BaseFields {
    pub name: String,
    pub description: String,
    pub owner_group_id: Option<GroupId>,
    pub reviewer_group_id: Option<GroupId>,
    pub active: bool,
}

pub async fn insert_base(
    tx: &mut Tx<'_>,
    f: &BaseFields,
    now: Timestamp,
) -> StoreResult<KnowledgeBaseId> {
    let id = KnowledgeBaseId::new();
    let key = super::name_key(&f.name);
    tx.execute(
        "INSERT INTO knowledge_base (id, name, name_key, description, owner_group_id, reviewer_group_id, active, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            id.into(),
            f.name.as_str().into(),
            key.as_str().into(),
            f.description.as_str().into(),
            f.owner_group_id.into(),
            f.reviewer_group_id.into(),
            f.active.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

pub async fn update_base(tx: &mut Tx<'_>, id: KnowledgeBaseId, f: &BaseFields) -> StoreResult<()> {
    let key = super::name_key(&f.name);
    let n = tx
        .execute(
            "UPDATE knowledge_base SET name = $2, name_key = $3, description = $4, owner_group_id = $5, \
             reviewer_group_id = $6, active = $7 WHERE id = $1",
            &[
                id.into(),
                f.name.as_str().into(),
                key.as_str().into(),
                f.description.as_str().into(),
                f.owner_group_id.into(),
                f.reviewer_group_id.into(),
                f.active.into(),
            ],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn bases(tx: &mut Tx<'_>) -> StoreResult<Vec<KnowledgeBase>> {
    let sql = format!("{BASE} ORDER BY b.name_key");
    tx.query(&sql, &[]).await?.iter().map(base_from).collect()
}

pub async fn base(tx: &mut Tx<'_>, id: KnowledgeBaseId) -> StoreResult<KnowledgeBase> {
    let sql = format!("{BASE} WHERE b.id = $1");
    base_from(&tx.query_one(&sql, &[id.into()]).await?)
}

pub async fn base_by_name(tx: &mut Tx<'_>, name: &str) -> StoreResult<Option<KnowledgeBase>> {
    let sql = format!("{BASE} WHERE b.name_key = $1");
    let key = super::name_key(name);
    tx.query_opt(&sql, &[key.as_str().into()])
        .await?
        .as_ref()
        .map(base_from)
        .transpose()
}

/// A category of a knowledge base; its path names it from the root ("Network / VPN").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub id: KbCategoryId,
    pub kb_id: KnowledgeBaseId,
    pub parent_id: Option<KbCategoryId>,
    pub name: String,
    pub path: String,
}

const CATEGORY: &str = "SELECT id, kb_id, parent_id, name, path FROM kb_category";

fn category_from(row: &Row) -> StoreResult<Category> {
    Ok(Category {
        id: row.get(0)?,
        kb_id: row.get(1)?,
        parent_id: row.get(2)?,
        name: row.get(3)?,
        path: row.get(4)?,
    })
}

pub async fn insert_category(
    tx: &mut Tx<'_>,
    kb: KnowledgeBaseId,
    parent: Option<&Category>,
    name: &str,
    now: Timestamp,
) -> StoreResult<KbCategoryId> {
    let id = KbCategoryId::new();
    let path = match parent {
        Some(p) => format!("{} / {name}", p.path),
        None => name.to_owned(),
    };
    tx.execute(
        "INSERT INTO kb_category (id, kb_id, parent_id, name, path, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            id.into(),
            kb.into(),
            parent.map(|p| p.id).into(),
            name.into(),
            path.as_str().into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// A base's categories, in the order of their paths (a tree read top down).
pub async fn categories(tx: &mut Tx<'_>, kb: KnowledgeBaseId) -> StoreResult<Vec<Category>> {
    let sql = format!("{CATEGORY} WHERE kb_id = $1 ORDER BY path");
    tx.query(&sql, &[kb.into()])
        .await?
        .iter()
        .map(category_from)
        .collect()
}

pub async fn category(tx: &mut Tx<'_>, id: KbCategoryId) -> StoreResult<Category> {
    let sql = format!("{CATEGORY} WHERE id = $1");
    category_from(&tx.query_one(&sql, &[id.into()]).await?)
}

pub async fn category_by_path(
    tx: &mut Tx<'_>,
    kb: KnowledgeBaseId,
    path: &str,
) -> StoreResult<Option<Category>> {
    let sql = format!("{CATEGORY} WHERE kb_id = $1 AND path = $2");
    tx.query_opt(&sql, &[kb.into(), path.into()])
        .await?
        .as_ref()
        .map(category_from)
        .transpose()
}

// ----- versions -----

/// One version of an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub id: ArticleVersionId,
    pub article_id: TaskId,
    pub version: i64,
    pub title: String,
    pub summary: String,
    pub body: String,
    pub state: VersionState,
    pub author: Option<PersonRef>,
    pub author_name: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub submitted_at: Option<Timestamp>,
    pub published_at: Option<Timestamp>,
    pub ended_at: Option<Timestamp>,
}

const VERSION: &str = "SELECT v.id, v.article_id, v.version, v.title, v.summary, v.body, v.state, \
    p.id, p.login, p.name, v.author, v.created_at, v.updated_at, v.submitted_at, v.published_at, v.ended_at \
    FROM kb_version v LEFT JOIN person p ON p.id = v.author_id";

fn version_from(row: &Row) -> StoreResult<Version> {
    Ok(Version {
        id: row.get(0)?,
        article_id: row.get(1)?,
        version: row.get(2)?,
        title: row.get(3)?,
        summary: row.get(4)?,
        body: row.get(5)?,
        state: row.get(6)?,
        author: person_at(row, 7)?,
        author_name: row.get(10)?,
        created_at: row.get(11)?,
        updated_at: row.get(12)?,
        submitted_at: row.get(13)?,
        published_at: row.get(14)?,
        ended_at: row.get(15)?,
    })
}

/// The content of a version as written.
#[derive(Debug, Clone, Copy)]
pub struct Content<'a> {
    pub title: &'a str,
    pub summary: &'a str,
    pub body: &'a str,
}

/// Starts version `version` of an article, a draft.
pub async fn insert_version(
    tx: &mut Tx<'_>,
    article: TaskId,
    version: i64,
    c: Content<'_>,
    author: (Option<PersonId>, &str),
    now: Timestamp,
) -> StoreResult<ArticleVersionId> {
    let id = ArticleVersionId::new();
    tx.execute(
        "INSERT INTO kb_version (id, article_id, version, title, summary, body, state, author_id, author, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
        &[
            id.into(),
            article.into(),
            version.into(),
            c.title.into(),
            c.summary.into(),
            c.body.into(),
            VersionState::Draft.code().into(),
            author.0.into(),
            author.1.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// Rewrites the content of a draft version (its latest author takes it).
pub async fn write_version(
    tx: &mut Tx<'_>,
    article: TaskId,
    version: i64,
    c: Content<'_>,
    author: (Option<PersonId>, &str),
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE kb_version SET title = $3, summary = $4, body = $5, author_id = $6, author = $7, updated_at = $8 \
         WHERE article_id = $1 AND version = $2",
        &[
            article.into(),
            version.into(),
            c.title.into(),
            c.summary.into(),
            c.body.into(),
            author.0.into(),
            author.1.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Moves a version to `state`, stamping when it was sent to review, published or ended.
pub async fn set_version_state(
    tx: &mut Tx<'_>,
    article: TaskId,
    version: i64,
    state: VersionState,
    now: Timestamp,
) -> StoreResult<()> {
    let stamp = match state {
        VersionState::Review => "submitted_at = $4",
        VersionState::Published => "published_at = $4",
        VersionState::Outdated | VersionState::Retired => "ended_at = $4",
        VersionState::Draft => "submitted_at = NULL, updated_at = $4",
    };
    let sql =
        format!("UPDATE kb_version SET state = $3, {stamp} WHERE article_id = $1 AND version = $2");
    tx.execute(
        &sql,
        &[
            article.into(),
            version.into(),
            state.code().into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Every version of an article, oldest first.
pub async fn versions(tx: &mut Tx<'_>, article: TaskId) -> StoreResult<Vec<Version>> {
    let sql = format!("{VERSION} WHERE v.article_id = $1 ORDER BY v.version");
    tx.query(&sql, &[article.into()])
        .await?
        .iter()
        .map(version_from)
        .collect()
}

pub async fn version(tx: &mut Tx<'_>, article: TaskId, n: i64) -> StoreResult<Version> {
    let sql = format!("{VERSION} WHERE v.article_id = $1 AND v.version = $2");
    version_from(&tx.query_one(&sql, &[article.into(), n.into()]).await?)
}

// ----- what an article is about, and who reads it -----

/// The services, CIs and organizations of an article.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scope {
    pub services: Vec<NamedRef<ServiceId>>,
    pub cis: Vec<NamedRef<CiId>>,
    pub organizations: Vec<NamedRef<OrgId>>,
}

pub async fn set_services(tx: &mut Tx<'_>, article: TaskId, ids: &[ServiceId]) -> StoreResult<()> {
    set_links(tx, "kb_article_service", "service_id", article, ids).await
}

pub async fn set_cis(tx: &mut Tx<'_>, article: TaskId, ids: &[CiId]) -> StoreResult<()> {
    set_links(tx, "kb_article_ci", "ci_id", article, ids).await
}

pub async fn set_organizations(tx: &mut Tx<'_>, article: TaskId, ids: &[OrgId]) -> StoreResult<()> {
    set_links(tx, "kb_article_org", "organization_id", article, ids).await
}

async fn set_links<T>(
    tx: &mut Tx<'_>,
    table: &str,
    column: &str,
    article: TaskId,
    ids: &[T],
) -> StoreResult<()>
where
    T: std::fmt::Display,
{
    tx.execute(
        &format!("DELETE FROM {table} WHERE article_id = $1"),
        &[article.into()],
    )
    .await?;
    if ids.is_empty() {
        return Ok(());
    }
    let set = in_json(tx.dialect(), "x.id", "$2");
    let source = match column {
        "service_id" => "service",
        "ci_id" => "ci",
        _ => "organization",
    };
    // The article's id comes from its row: a parameter alone in a select list has no type
    // on PostgreSQL.
    let sql = format!(
        "INSERT INTO {table} (article_id, {column}) SELECT DISTINCT t.id, x.id FROM task t, {source} x \
         WHERE t.id = $1 AND {set}"
    );
    let json = id_array(ids);
    tx.execute(&sql, &[article.into(), (&json).into()]).await?;
    Ok(())
}

pub async fn scope(tx: &mut Tx<'_>, article: TaskId) -> StoreResult<Scope> {
    let mut s = Scope::default();
    for r in tx
        .query(
            "SELECT s.id, s.name FROM kb_article_service x JOIN service s ON s.id = x.service_id \
             WHERE x.article_id = $1 ORDER BY s.name",
            &[article.into()],
        )
        .await?
    {
        s.services.push(NamedRef {
            id: r.get(0)?,
            name: r.get(1)?,
        });
    }
    for r in tx
        .query(
            "SELECT c.id, c.name FROM kb_article_ci x JOIN ci c ON c.id = x.ci_id \
             WHERE x.article_id = $1 ORDER BY c.name",
            &[article.into()],
        )
        .await?
    {
        s.cis.push(NamedRef {
            id: r.get(0)?,
            name: r.get(1)?,
        });
    }
    for r in tx
        .query(
            "SELECT o.id, o.name FROM kb_article_org x JOIN organization o ON o.id = x.organization_id \
             WHERE x.article_id = $1 ORDER BY o.name",
            &[article.into()],
        )
        .await?
    {
        s.organizations.push(NamedRef {
            id: r.get(0)?,
            name: r.get(1)?,
        });
    }
    Ok(s)
}

// ----- counters, feedback, deflections -----

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    pub views: i64,
    pub helpful_yes: i64,
    pub helpful_no: i64,
    pub rating_sum: i64,
    pub rating_count: i64,
    pub deflections: i64,
}

pub async fn create_stats(tx: &mut Tx<'_>, article: TaskId) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO kb_stats (article_id) VALUES ($1) ON CONFLICT (article_id) DO NOTHING",
        &[article.into()],
    )
    .await?;
    Ok(())
}

pub async fn stats(tx: &mut Tx<'_>, article: TaskId) -> StoreResult<Stats> {
    let row = tx
        .query_opt(
            "SELECT views, helpful_yes, helpful_no, rating_sum, rating_count, deflections \
             FROM kb_stats WHERE article_id = $1",
            &[article.into()],
        )
        .await?;
    let Some(r) = row else {
        return Ok(Stats::default());
    };
    Ok(Stats {
        views: r.get(0)?,
        helpful_yes: r.get(1)?,
        helpful_no: r.get(2)?,
        rating_sum: r.get(3)?,
        rating_count: r.get(4)?,
        deflections: r.get(5)?,
    })
}

/// Counts one more view.
pub async fn count_view(tx: &mut Tx<'_>, article: TaskId) -> StoreResult<()> {
    tx.execute(
        "UPDATE kb_stats SET views = views + 1 WHERE article_id = $1",
        &[article.into()],
    )
    .await?;
    Ok(())
}

/// A reader's feedback as written.
#[derive(Debug, Clone)]
pub struct NewFeedback<'a> {
    pub article: TaskId,
    pub version: i64,
    pub person: Option<PersonId>,
    pub helpful: Option<bool>,
    pub rating: Option<i64>,
    pub flag: Option<FlagReason>,
    pub comment: &'a str,
    pub attention: bool,
}

/// Records feedback and counts it.
pub async fn insert_feedback(
    tx: &mut Tx<'_>,
    f: &NewFeedback<'_>,
    now: Timestamp,
) -> StoreResult<FeedbackId> {
    let id = FeedbackId::new();
    tx.execute(
        "INSERT INTO kb_feedback (id, article_id, version, person_id, helpful, rating, flag, comment, attention, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            id.into(),
            f.article.into(),
            f.version.into(),
            f.person.into(),
            f.helpful.into(),
            f.rating.into(),
            f.flag.map(|x| x.code()).into(),
            f.comment.into(),
            f.attention.into(),
            now.into(),
        ],
    )
    .await?;
    let (yes, no) = match f.helpful {
        Some(true) => (1_i64, 0_i64),
        Some(false) => (0, 1),
        None => (0, 0),
    };
    let (sum, count) = f.rating.map(|r| (r, 1_i64)).unwrap_or((0, 0));
    tx.execute(
        "UPDATE kb_stats SET helpful_yes = helpful_yes + $2, helpful_no = helpful_no + $3, \
         rating_sum = rating_sum + $4, rating_count = rating_count + $5 WHERE article_id = $1",
        &[
            f.article.into(),
            yes.into(),
            no.into(),
            sum.into(),
            count.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// One feedback, with its article for the owner group's queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feedback {
    pub id: FeedbackId,
    pub article_id: TaskId,
    pub number: String,
    pub title: String,
    pub owner_group: Option<GroupRef>,
    pub version: i64,
    pub person: Option<PersonRef>,
    pub helpful: Option<bool>,
    pub rating: Option<i64>,
    pub flag: Option<FlagReason>,
    pub comment: String,
    pub attention: bool,
    pub created_at: Timestamp,
    pub addressed_at: Option<Timestamp>,
    pub addressed_by: Option<PersonRef>,
    pub addressed_note: String,
}

const FEEDBACK: &str = "SELECT f.id, f.article_id, t.number, t.short_description, g.id, g.name, f.version, \
    p.id, p.login, p.name, f.helpful, f.rating, f.flag, f.comment, f.attention, f.created_at, \
    f.addressed_at, d.id, d.login, d.name, f.addressed_note \
    FROM kb_feedback f JOIN task t ON t.id = f.article_id \
    LEFT JOIN support_group g ON g.id = t.assignment_group_id \
    LEFT JOIN person p ON p.id = f.person_id LEFT JOIN person d ON d.id = f.addressed_by_id";

fn feedback_from(row: &Row) -> StoreResult<Feedback> {
    Ok(Feedback {
        id: row.get(0)?,
        article_id: row.get(1)?,
        number: row.get(2)?,
        title: row.get(3)?,
        owner_group: group_at(row, 4)?,
        version: row.get(6)?,
        person: person_at(row, 7)?,
        helpful: row.get(10)?,
        rating: row.get(11)?,
        flag: row.get(12)?,
        comment: row.get(13)?,
        attention: row.get(14)?,
        created_at: row.get(15)?,
        addressed_at: row.get(16)?,
        addressed_by: person_at(row, 17)?,
        addressed_note: row.get(20)?,
    })
}

/// An article's feedback, newest first.
pub async fn feedback_of(
    tx: &mut Tx<'_>,
    article: TaskId,
    limit: i64,
) -> StoreResult<Vec<Feedback>> {
    let sql =
        format!("{FEEDBACK} WHERE f.article_id = $1 ORDER BY f.created_at DESC, f.id LIMIT $2");
    tx.query(&sql, &[article.into(), limit.into()])
        .await?
        .iter()
        .map(feedback_from)
        .collect()
}

/// Flags and low ratings not yet dealt with, oldest first: of the articles the groups own,
/// or of every article when `groups` is none.
pub async fn needing_attention(
    tx: &mut Tx<'_>,
    groups: Option<&[GroupId]>,
    limit: i64,
) -> StoreResult<Vec<Feedback>> {
    let mut sql = format!("{FEEDBACK} WHERE f.attention AND f.addressed_at IS NULL");
    let json = groups.map(id_array);
    let mut params: Vec<P<'_>> = vec![limit.into()];
    if let Some(j) = &json {
        sql.push_str(" AND ");
        sql.push_str(&in_json(tx.dialect(), "t.assignment_group_id", "$2"));
        params.push(j.into());
    }
    sql.push_str(" ORDER BY f.created_at, f.id LIMIT $1");
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(feedback_from)
        .collect()
}

pub async fn feedback(tx: &mut Tx<'_>, id: FeedbackId) -> StoreResult<Feedback> {
    let sql = format!("{FEEDBACK} WHERE f.id = $1");
    feedback_from(&tx.query_one(&sql, &[id.into()]).await?)
}

/// Marks a feedback dealt with; false when it already was.
pub async fn address(
    tx: &mut Tx<'_>,
    id: FeedbackId,
    by: PersonId,
    note: &str,
    now: Timestamp,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE kb_feedback SET addressed_at = $2, addressed_by_id = $3, addressed_note = $4 \
             WHERE id = $1 AND addressed_at IS NULL",
            &[id.into(), now.into(), by.into(), note.into()],
        )
        .await?;
    Ok(n == 1)
}

/// Records a deflection: the article solved the reader's problem, no ticket was opened.
pub async fn insert_deflection(
    tx: &mut Tx<'_>,
    article: TaskId,
    person: Option<PersonId>,
    query: &str,
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO kb_deflection (id, article_id, person_id, query, created_at) VALUES ($1, $2, $3, $4, $5)",
        &[
            uuid::Uuid::now_v7().into(),
            article.into(),
            person.into(),
            query.into(),
            now.into(),
        ],
    )
    .await?;
    tx.execute(
        "UPDATE kb_stats SET deflections = deflections + 1 WHERE article_id = $1",
        &[article.into()],
    )
    .await?;
    Ok(())
}

/// Deflections since `since`, all articles.
pub async fn deflections_since(tx: &mut Tx<'_>, since: Timestamp) -> StoreResult<i64> {
    tx.query_one(
        "SELECT COUNT(*) FROM kb_deflection WHERE created_at >= $1",
        &[since.into()],
    )
    .await?
    .get(0)
}

// ----- articles and tasks -----

/// A task an article is linked to, or an article linked to a task.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Linked {
    pub id: TaskId,
    pub number: String,
    pub kind: TaskKind,
    pub title: String,
    pub state: String,
    pub link: ArticleLink,
    pub at: Timestamp,
}

pub async fn link(
    tx: &mut Tx<'_>,
    article: TaskId,
    task: TaskId,
    kind: ArticleLink,
    by: Option<PersonId>,
    now: Timestamp,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "INSERT INTO kb_task_link (article_id, task_id, kind, by_id, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (article_id, task_id, kind) DO NOTHING",
            &[
                article.into(),
                task.into(),
                kind.code().into(),
                by.into(),
                now.into(),
            ],
        )
        .await?;
    Ok(n == 1)
}

pub async fn unlink(
    tx: &mut Tx<'_>,
    article: TaskId,
    task: TaskId,
    kind: ArticleLink,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "DELETE FROM kb_task_link WHERE article_id = $1 AND task_id = $2 AND kind = $3",
            &[article.into(), task.into(), kind.code().into()],
        )
        .await?;
    Ok(n == 1)
}

fn linked_from(row: &Row) -> StoreResult<Linked> {
    Ok(Linked {
        id: row.get(0)?,
        number: row.get(1)?,
        kind: super::decode(2, row.get(2)?, TaskKind::parse)?,
        title: row.get(3)?,
        state: row.get(4)?,
        link: row.get(5)?,
        at: row.get(6)?,
    })
}

/// The tasks an article is linked to, newest first.
pub async fn tasks_of(tx: &mut Tx<'_>, article: TaskId, limit: i64) -> StoreResult<Vec<Linked>> {
    tx.query(
        "SELECT t.id, t.number, t.kind, t.short_description, t.state, l.kind, l.created_at \
         FROM kb_task_link l JOIN task t ON t.id = l.task_id WHERE l.article_id = $1 \
         ORDER BY l.created_at DESC, t.number LIMIT $2",
        &[article.into(), limit.into()],
    )
    .await?
    .iter()
    .map(linked_from)
    .collect()
}

/// The articles linked to a task.
pub async fn articles_of(tx: &mut Tx<'_>, task: TaskId) -> StoreResult<Vec<Linked>> {
    tx.query(
        "SELECT t.id, t.number, t.kind, t.short_description, t.state, l.kind, l.created_at \
         FROM kb_task_link l JOIN task t ON t.id = l.article_id WHERE l.task_id = $1 \
         ORDER BY l.created_at, t.number",
        &[task.into()],
    )
    .await?
    .iter()
    .map(linked_from)
    .collect()
}

// ----- search -----

/// Who reads: the desk sees every audience; anyone else what is for everyone, and what is
/// for their organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Desk,
    Person(Option<OrgId>),
}

/// What a search of published articles looks for.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    /// The words, already split and folded (letters and digits only).
    pub words: &'a [String],
    /// The last word may be the start of a word (typing).
    pub prefix: bool,
    /// Any word matches (else every word must).
    pub any: bool,
    pub kb: Option<KnowledgeBaseId>,
    pub category: Option<KbCategoryId>,
    pub service: Option<ServiceId>,
    pub language: Option<Locale>,
    pub reader: Reader,
    pub now: Timestamp,
    pub limit: i64,
}

/// A published article found, best first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub id: TaskId,
    pub number: String,
    pub title: String,
    pub summary: String,
    /// Its views, when browsing.
    pub views: Option<i64>,
}

/// Writes the search document of a published article (replacing what was there).
pub async fn index(
    tx: &mut Tx<'_>,
    article: TaskId,
    language: Locale,
    c: Content<'_>,
) -> StoreResult<()> {
    unindex(tx, article).await?;
    let params: [P<'_>; 5] = [
        article.into(),
        language.code().into(),
        c.title.into(),
        c.summary.into(),
        c.body.into(),
    ];
    match tx.dialect() {
        Dialect::Sqlite => {
            tx.execute(
                "INSERT INTO kb_search (rowid, article_id, language, title, summary, body) \
                 SELECT t.search_key, $1, $2, $3, $4, $5 FROM task t WHERE t.id = $1",
                &params,
            )
            .await?;
            tx.execute(
                "INSERT INTO kb_suggest (rowid, article_id, language, title, summary) \
                 SELECT t.search_key, $1, $2, $3, $4 FROM task t WHERE t.id = $1",
                &params[..4],
            )
            .await?;
        }
        Dialect::Postgres => {
            tx.execute(
                "INSERT INTO kb_search (article_id, language, title, summary, body) VALUES ($1, $2, $3, $4, $5)",
                &params,
            )
            .await?;
            tx.execute(
                "INSERT INTO kb_suggest (article_id, language, title, summary) VALUES ($1, $2, $3, $4)",
                &params[..4],
            )
            .await?;
        }
    }
    Ok(())
}

/// Takes an article out of the search (nothing of it is published).
pub async fn unindex(tx: &mut Tx<'_>, article: TaskId) -> StoreResult<()> {
    for table in ["kb_search", "kb_suggest"] {
        let sql = match tx.dialect() {
            // By its key, which the full-text tables are searched by.
            Dialect::Sqlite => format!(
                "DELETE FROM {table} WHERE rowid = (SELECT search_key FROM task WHERE id = $1)"
            ),
            Dialect::Postgres => format!("DELETE FROM {table} WHERE article_id = $1"),
        };
        tx.execute(&sql, &[article.into()]).await?;
    }
    Ok(())
}

/// The conditions every reader's query of published articles has, numbered after the
/// parameters already given (`a` the article, `t` its task).
fn filters<'a>(s: &Search<'a>, sql: &mut String, params: &mut Vec<P<'a>>) {
    use std::fmt::Write as _;
    params.push(s.now.into());
    let _ = write!(
        sql,
        " AND a.published_version IS NOT NULL AND (a.valid_to IS NULL OR a.valid_to > ${})",
        params.len()
    );
    if let Some(kb) = s.kb {
        params.push(kb.into());
        let _ = write!(sql, " AND a.kb_id = ${}", params.len());
    }
    if let Some(c) = s.category {
        params.push(c.into());
        let _ = write!(sql, " AND a.category_id = ${}", params.len());
    }
    if let Some(l) = s.language {
        params.push(l.code().into());
        let _ = write!(sql, " AND a.language = ${}", params.len());
    }
    if let Some(sv) = s.service {
        params.push(sv.into());
        let _ = write!(
            sql,
            " AND EXISTS (SELECT 1 FROM kb_article_service x WHERE x.article_id = a.task_id AND x.service_id = ${})",
            params.len()
        );
    }
    match s.reader {
        Reader::Desk => {}
        Reader::Person(None) => sql.push_str(" AND a.audience = 'everyone'"),
        Reader::Person(Some(org)) => {
            params.push(org.into());
            let _ = write!(
                sql,
                " AND (a.audience = 'everyone' OR (a.audience = 'organizations' AND EXISTS \
                 (SELECT 1 FROM kb_article_org o WHERE o.article_id = a.task_id AND o.organization_id = ${})))",
                params.len()
            );
        }
    }
}

/// The newest matches a search while typing ranks: ranking every article a common word or
/// a short prefix matches would take too long at each keystroke.
pub const TYPING_CANDIDATES: i64 = 200;

/// The full-text query of the words: every one (or any one) must match, the last perhaps
/// as the start of a word.
fn text_query(s: &Search<'_>, dialect: Dialect) -> String {
    let last = s.words.len().saturating_sub(1);
    let words: Vec<String> = s
        .words
        .iter()
        .enumerate()
        .map(|(i, w)| match (dialect, s.prefix && i == last) {
            (Dialect::Sqlite, true) => format!("\"{w}\"*"),
            (Dialect::Sqlite, false) => format!("\"{w}\""),
            (Dialect::Postgres, true) => format!("{w}:*"),
            (Dialect::Postgres, false) => w.clone(),
        })
        .collect();
    match (dialect, s.any) {
        (Dialect::Sqlite, false) => words.join(" "),
        (Dialect::Sqlite, true) => words.join(" OR "),
        (Dialect::Postgres, false) => words.join(" & "),
        (Dialect::Postgres, true) => words.join(" | "),
    }
}

fn hits(rows: &[Row]) -> StoreResult<Vec<Hit>> {
    rows.iter()
        .map(|r| {
            Ok(Hit {
                id: r.get(0)?,
                number: r.get(1)?,
                title: r.get(2)?,
                summary: r.get(3)?,
                views: None,
            })
        })
        .collect()
}

/// Published articles matching every word (or any, `s.any`), best first: title matches
/// weigh more than summary matches, which weigh more than body matches.
///
/// While typing (`s.prefix`) the words are looked for in the titles and summaries first,
/// in their own small index (kb_suggest), ranked among the newest `TYPING_CANDIDATES`
/// matches; when that finds fewer than `s.limit`, articles with the words in their body too
/// follow, newest first (when every word must match).
pub async fn search(tx: &mut Tx<'_>, s: &Search<'_>) -> StoreResult<Vec<Hit>> {
    if s.words.is_empty() {
        return Ok(Vec::new());
    }
    let query = text_query(s, tx.dialect());
    if !s.prefix {
        return ranked(tx, s, "kb_search", &query, None).await;
    }
    let mut found = ranked(tx, s, "kb_suggest", &query, Some(TYPING_CANDIDATES)).await?;
    if (found.len() as i64) < s.limit && !s.any {
        for h in newest(tx, s, &query, s.limit + found.len() as i64).await? {
            if (found.len() as i64) < s.limit && !found.iter().any(|f| f.id == h.id) {
                found.push(h);
            }
        }
    }
    Ok(found)
}

/// Matches of `query` in `table` (kb_search, or kb_suggest: titles and summaries alone),
/// best first by BM25 (SQLite) or ts_rank (PostgreSQL) with the columns' weights; with
/// `newest`, only that many of the newest matches are ranked (SQLite).
///
/// SQLite ranks in the full-text table alone and reads the tasks of the best few only
/// (reading the task of every match costs more than ranking it); when the reader may see
/// fewer than `s.limit` of those, it reads them all.
async fn ranked(
    tx: &mut Tx<'_>,
    s: &Search<'_>,
    table: &str,
    query: &str,
    newest: Option<i64>,
) -> StoreResult<Vec<Hit>> {
    let sqlite = tx.dialect() == Dialect::Sqlite;
    let (weights, body) = if table == "kb_search" {
        ("0.0, 0.0, 10.0, 4.0, 1.0", "s.body")
    } else {
        ("0.0, 0.0, 10.0, 4.0", "''::text")
    };
    let cuts: &[Option<i64>] = if sqlite {
        &[Some(4 * s.limit + 16), None]
    } else {
        &[None]
    };
    let mut found = Vec::new();
    for cut in cuts {
        let mut params: Vec<P<'_>> = vec![query.into()];
        let mut sql = if sqlite {
            let mut matches = format!(
                "SELECT rowid AS k, bm25({table}, {weights}) AS score FROM {table} \
                 WHERE {table} MATCH $1"
            );
            if let Some(n) = newest {
                params.push(n.into());
                let n = params.len();
                matches.push_str(&format!(" ORDER BY rowid DESC LIMIT ${n}"));
            }
            if let Some(n) = cut {
                params.push((*n).into());
                matches = format!(
                    "SELECT k, score FROM ({matches}) ORDER BY score LIMIT ${}",
                    params.len()
                );
            }
            format!(
                "SELECT t.id, t.number, t.short_description, a.summary, c.score AS score \
                 FROM ({matches}) c JOIN task t ON t.search_key = c.k \
                 JOIN kb_article a ON a.task_id = t.id WHERE 1 = 1"
            )
        } else {
            format!(
                "SELECT t.id, t.number, t.short_description, a.summary, \
                 -ts_rank(kb_document(s.language, s.title, s.summary, {body}), q.q) AS score \
                 FROM (SELECT to_tsquery('english'::regconfig, $1::text) \
                 || to_tsquery('indonesian'::regconfig, $1::text) AS q) q, \
                 {table} s JOIN kb_article a ON a.task_id = s.article_id \
                 JOIN task t ON t.id = a.task_id \
                 WHERE kb_document(s.language, s.title, s.summary, {body}) @@ q.q"
            )
        };
        filters(s, &mut sql, &mut params);
        params.push(s.limit.into());
        sql.push_str(&format!(
            " ORDER BY score, t.number LIMIT ${}",
            params.len()
        ));
        found = hits(&tx.query(&sql, &params).await?)?;
        if found.len() as i64 >= s.limit {
            break;
        }
    }
    Ok(found)
}

/// Matches of `query` in titles, summaries and bodies, newest first.
async fn newest(tx: &mut Tx<'_>, s: &Search<'_>, query: &str, limit: i64) -> StoreResult<Vec<Hit>> {
    let mut params: Vec<P<'_>> = vec![query.into()];
    let (mut sql, order) = match tx.dialect() {
        Dialect::Sqlite => (
            String::from(
                "SELECT t.id, t.number, t.short_description, a.summary \
                 FROM kb_search s JOIN task t ON t.search_key = s.rowid \
                 JOIN kb_article a ON a.task_id = t.id WHERE kb_search MATCH $1",
            ),
            "s.rowid",
        ),
        Dialect::Postgres => (
            String::from(
                "SELECT t.id, t.number, t.short_description, a.summary \
                 FROM (SELECT to_tsquery('english'::regconfig, $1::text) \
                 || to_tsquery('indonesian'::regconfig, $1::text) AS q) q, \
                 kb_search s JOIN kb_article a ON a.task_id = s.article_id \
                 JOIN task t ON t.id = a.task_id \
                 WHERE kb_document(s.language, s.title, s.summary, s.body) @@ q.q",
            ),
            "t.search_key",
        ),
    };
    filters(s, &mut sql, &mut params);
    params.push(limit.into());
    sql.push_str(&format!(" ORDER BY {order} DESC LIMIT ${}", params.len()));
    hits(&tx.query(&sql, &params).await?)
}

/// Published articles a reader may see, most viewed first (browsing a base or category).
pub async fn browse(tx: &mut Tx<'_>, s: &Search<'_>) -> StoreResult<Vec<Hit>> {
    let mut params: Vec<P<'_>> = Vec::new();
    let mut sql = String::from(
        "SELECT t.id, t.number, t.short_description, a.summary, st.views \
         FROM kb_article a JOIN task t ON t.id = a.task_id LEFT JOIN kb_stats st ON st.article_id = a.task_id \
         WHERE 1 = 1",
    );
    filters(s, &mut sql, &mut params);
    params.push(s.limit.into());
    sql.push_str(&format!(
        " ORDER BY COALESCE(st.views, 0) DESC, t.number LIMIT ${}",
        params.len()
    ));
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(|r| {
            let views: Option<i64> = r.get(4)?;
            Ok(Hit {
                id: r.get(0)?,
                number: r.get(1)?,
                title: r.get(2)?,
                summary: r.get(3)?,
                views: Some(views.unwrap_or(0)),
            })
        })
        .collect()
}

/// Articles whose review date falls before `horizon` and whose owners were not reminded
/// since the date was set.
pub async fn reviews_due(
    tx: &mut Tx<'_>,
    horizon: Timestamp,
    limit: i64,
) -> StoreResult<Vec<(TaskId, String, String, Option<GroupId>, Timestamp)>> {
    tx.query(
        "SELECT t.id, t.number, t.short_description, t.assignment_group_id, a.review_at \
         FROM kb_article a JOIN task t ON t.id = a.task_id \
         WHERE a.review_at IS NOT NULL AND a.review_at <= $1 AND a.review_reminded_at IS NULL \
         AND t.state <> 'retired' ORDER BY a.review_at LIMIT $2",
        &[horizon.into(), limit.into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
    .collect()
}

/// Notes that an article's owners were reminded of its review.
pub async fn reminded(tx: &mut Tx<'_>, article: TaskId, now: Timestamp) -> StoreResult<()> {
    tx.execute(
        "UPDATE kb_article SET review_reminded_at = $2 WHERE task_id = $1",
        &[article.into(), now.into()],
    )
    .await?;
    Ok(())
}
