//! Pages of knowledge management for the service desk: the article queue, the article form
//! with its live preview, an article's page (the version shown, its actions, journal, the
//! tasks it is linked to, its counters and feedback), and the owner groups' queue of
//! flagged and low-rated feedback. Its versions are in `knowledge_versions`, its side of
//! the other processes' pages in `knowledge_tasks`.

use super::changes::{FieldErrors, local_time, zone};
use super::queue::{self, Cell, Spec};
use super::task::{JournalLine, after, choices, journal, state_label};
use super::views::{notice, refusal, when};
use super::*;
use axum::extract::{Path, Query, RawQuery};
use jiff::Timestamp;
use sigap_core::knowledge::{self as kb, Action, ArticleInput};
use sigap_core::listing::ListParams;
use sigap_core::model::{Article, ArticleFeedback};
use sigap_core::task::{Args, TaskInput};
use sigap_domain::process::article::{ArticleState, Audience, VersionState};
use sigap_domain::task::StateModel;
use sigap_domain::task::TaskKind;
use std::collections::HashMap;

// ----- labels -----

/// A language of articles in the viewer's language.
pub(crate) fn language_label(tt: Tr<'_>, l: Locale) -> String {
    match l {
        Locale::En => tt.get("kb-language-en"),
        Locale::Id => tt.get("kb-language-id"),
    }
}

pub(crate) fn version_state_label(tt: Tr<'_>, s: VersionState) -> String {
    tt.get(&format!("kb-version-{}", s.code()))
}

pub(crate) fn flag_label(tt: Tr<'_>, code: &str) -> String {
    tt.get(&format!("kb-flag-{code}"))
}

/// A day in the viewer's time zone, as a date input shows it.
pub(crate) fn day_value(t: Option<Timestamp>, viewer: &Viewer) -> String {
    t.map(|t| {
        t.to_zoned_datetime(zone(viewer))
            .strftime("%Y-%m-%d")
            .to_string()
    })
    .unwrap_or_default()
}

/// A day typed in a form (`YYYY-MM-DD`, or a date and time) as its start in the viewer's
/// time zone; empty is none.
fn day(viewer: &Viewer, field: &str, text: &str) -> Result<Option<Timestamp>, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let bad = || AppError::field(field, "invalid_date", "a date: YYYY-MM-DD");
    match text.parse::<jiff::civil::Date>() {
        Ok(d) => d
            .to_zoned_datetime(zone(viewer))
            .map(|z| Some(z.timestamp()))
            .map_err(|_| bad()),
        Err(_) => local_time(viewer, field, text).map_err(|_| bad()),
    }
}

/// The names typed in a box: separated by commas or lines.
fn keys(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

// ----- the queue -----

/// The article queue.
pub struct Articles;

const ARTICLES: Spec = Spec {
    name: "knowledge",
    noun: "article",
    queues: &["my_groups", "open", "review", "published", "all"],
    sorts: &["-updated_at", "-opened_at", "number"],
    columns: &[
        "number",
        "title",
        "state",
        "knowledge_base",
        "language",
        "owner_group",
        "updated",
        "opened",
    ],
    shown: 7,
    flag: None,
    bulk: &[("submit", "kb-action-submit")],
    export: None,
    creates: true,
};

impl queue::Queue for Articles {
    const SPEC: Spec = ARTICLES;
    async fn view(v: &Visit, q: &HashMap<String, String>, errors: Vec<String>) -> PageResult {
        let name = queue::queue(&ARTICLES, q);
        let mut query = queue::task_query(q);
        let mut published = None;
        match name.as_str() {
            // Every article of the viewer's groups, not only the open ones.
            "my_groups" => {
                query.queue = Some(name.clone());
                let all = <ArticleState as StateModel>::all().iter().map(|s| s.code());
                let all = all.collect::<Vec<_>>().join(",");
                query.state = query.state.or(Some(all));
            }
            "open" => query.state = query.state.or_else(|| Some("open".into())),
            "review" => query.state = Some("review".into()),
            "published" => published = Some("true"),
            _ => {}
        }
        let params = ListParams {
            cursor: q.get("cursor").cloned(),
            sort: Some(queue::sort(&ARTICLES, q)),
            limit: Some(50),
        };
        let (core, ctx) = (&v.state.core, &v.ctx);
        let (base, language) = (queue::get(q, "knowledge_base"), queue::get(q, "language"));
        let listed = kb::list(
            core,
            ctx,
            query,
            Some(&base),
            Some(&language),
            published,
            &params,
        )
        .await;
        let bases: HashMap<_, String> = kb::bases(core, ctx)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|b| (b.id, b.name))
            .collect();
        let tt = tr(&v.state, &v.viewer);
        let mut links = vec![
            (
                "/knowledge/attention".to_owned(),
                tt.get("kb-attention-title"),
            ),
            ("/portal/knowledge".to_owned(), tt.get("kb-portal-link")),
        ];
        if ctx.principal.has(Role::Manager) {
            links.push(("/admin/knowledge".to_owned(), tt.get("kb-admin-title")));
        }
        let own = |c: &str, a: &Article| {
            Some(match c {
                "title" => Cell::text(&a.short_description),
                "knowledge_base" => {
                    let name = bases.get(&a.ext.kb_id).cloned().unwrap_or_default();
                    Cell {
                        href: Some(format!(
                            "/knowledge?queue=all&knowledge_base={}",
                            encode(&name)
                        )),
                        ..Cell::text(&name)
                    }
                }
                "language" => Cell::text(&language_label(tt, a.ext.language)),
                "owner_group" => Cell::text(
                    &a.assignment_group
                        .as_ref()
                        .map(|g| g.name.clone())
                        .unwrap_or_default(),
                ),
                _ => return None,
            })
        };
        queue::page(v, &ARTICLES, q, listed, errors, links, own).await
    }
    /// Sends a ticked draft to review.
    async fn act(v: &Visit, _name: &str, number: &str) -> Result<(), AppError> {
        let submit = Action::Submit {
            note: String::new(),
        };
        kb::act(&v.state.core, &v.ctx, number, submit, None).await?;
        Ok(())
    }
}

// ----- the article form -----

/// The fields of the article form, for their errors.
const FORM_FIELDS: &[&str] = &[
    "short_description",
    "summary",
    "description",
    "body",
    "knowledge_base",
    "category",
    "language",
    "audience",
    "organizations",
    "services",
    "cis",
    "configuration_item",
    "assignment_group",
    "valid_to",
    "review_at",
    "translation_of",
];

/// The fields the edit form sends on only when they changed (it carries what it was shown
/// with as `{field}_was`): references, choices and dates.
const REFS: &[&str] = &[
    "knowledge_base",
    "category",
    "language",
    "audience",
    "organizations",
    "services",
    "cis",
    "assignment_group",
    "valid_to",
    "review_at",
    "translation_of",
];

/// The article form: what it shows (typed, or the article's), its choices, and the preview
/// of its body.
pub struct ArticleForm {
    pub f: Draft,
    /// What the edit form was shown with: (field, value), sent back as `{field}_was`.
    pub was: Vec<(String, String)>,
    /// The body rendered safely (the server's preview).
    pub preview: String,
    pub bases: Vec<String>,
    /// The categories of each base: (base name, [(id, path)]).
    pub categories: Vec<(String, Vec<(String, String)>)>,
    pub languages: Vec<(String, String)>,
    pub audiences: Vec<(String, String)>,
    pub groups: Vec<String>,
}

/// A field of the form sent on when it differs from what the form was shown with.
fn edited(form: &FormData, name: &str) -> Option<String> {
    let now = form.get(name)?;
    let was = form.get(&format!("{name}_was")).unwrap_or_default();
    (now.trim() != was.trim()).then_some(now)
}

/// What an article form asks for.
fn article_input(viewer: &Viewer, form: &FormData) -> Result<ArticleInput, AppError> {
    let reference = |name: &str| {
        edited(form, name).map(|t| Some(t.trim().to_owned()).filter(|t| !t.is_empty()))
    };
    let choice = |name: &str| edited(form, name).filter(|t| !t.trim().is_empty());
    let list = |name: &str| edited(form, name).map(|t| keys(&t));
    let date = |name: &str| match edited(form, name) {
        None => Ok(None),
        Some(t) => day(viewer, name, &t).map(Some),
    };
    let (valid_to, review_at) = match (date("valid_to"), date("review_at")) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(AppError::Validation(mut a)), Err(AppError::Validation(b))) => {
            a.extend(b);
            return Err(AppError::Validation(a));
        }
        (Err(e), _) | (_, Err(e)) => return Err(e),
    };
    Ok(ArticleInput {
        task: TaskInput {
            short_description: form.get("short_description"),
            description: form.get("description"),
            assignment_group: reference("assignment_group"),
            ..TaskInput::default()
        },
        summary: form.get("summary"),
        knowledge_base: choice("knowledge_base"),
        category: reference("category"),
        language: choice("language"),
        translation_of: reference("translation_of"),
        audience: choice("audience"),
        organizations: list("organizations"),
        services: list("services"),
        cis: list("cis"),
        valid_to,
        review_at,
    })
}

/// The form with its choices: `f` what it shows, `was` what the edit form was shown with.
async fn article_form(
    v: &Visit,
    f: Draft,
    was: Vec<(String, String)>,
) -> Result<(ArticleForm, Option<AppError>), AppError> {
    let (core, ctx) = (&v.state.core, &v.ctx);
    let tt = tr(&v.state, &v.viewer);
    let bases = kb::bases(core, ctx).await?;
    let mut categories = Vec::new();
    for b in &bases {
        let (_, cats) = kb::base(core, ctx, &b.id.to_string()).await?;
        if !cats.is_empty() {
            let cats = cats
                .into_iter()
                .map(|c| (c.id.to_string(), c.path))
                .collect();
            categories.push((b.name.clone(), cats));
        }
    }
    let (preview, refused) = match kb::preview(f.get("description")) {
        Ok(html) => (html, None),
        Err(e) => (String::new(), Some(e)),
    };
    let form = ArticleForm {
        preview,
        bases: bases
            .iter()
            .filter(|b| b.active || f.get("knowledge_base") == b.name)
            .map(|b| b.name.clone())
            .collect(),
        categories,
        languages: Locale::ALL
            .iter()
            .map(|l| (l.code().to_owned(), language_label(tt, *l)))
            .collect(),
        audiences: choices(tt, "kb-audience", Audience::ALL.iter().map(|a| a.code())),
        groups: super::incidents::active_group_names(&v.state, ctx).await,
        f,
        was,
    };
    Ok((form, refused))
}

/// A posted form's values, with what it was shown with.
fn posted(form: &FormData) -> (Draft, Vec<(String, String)>) {
    let was = REFS
        .iter()
        .filter_map(|r| form.get(&format!("{r}_was")).map(|w| ((*r).to_owned(), w)))
        .collect();
    (Draft::from_form(form), was)
}

// ----- a new article -----

#[derive(Template)]
#[template(path = "knowledge_new.html")]
pub struct NewArticlePage<'a> {
    pub chrome: Chrome<'a>,
    pub form: ArticleForm,
    pub errs: FieldErrors,
}

async fn new_view(v: &Visit, form: &FormData, refused: Option<AppError>) -> PageResult {
    v.ctx.principal.require(Role::Agent)?;
    let mut values = FormData(form.0.clone());
    if values.get("language").is_none() {
        let l = v.viewer.locale.code().to_owned();
        values.0.push(("language".into(), l));
    }
    if values.get("audience").is_none() {
        let a = Audience::Everyone.code().to_owned();
        values.0.push(("audience".into(), a));
    }
    let (form, bad_preview) = article_form(v, Draft::from_form(&values), Vec::new()).await?;
    let mut chrome = v.chrome("knowledge", "knowledge-new");
    let (status, errs) = FieldErrors::split(&mut chrome, refused.or(bad_preview), FORM_FIELDS);
    Ok(render(status, &NewArticlePage { chrome, form, errs }))
}

/// The new-article form; the query may fill it (`translation_of`, `language`, …).
pub async fn article_new(v: Visit, RawQuery(raw): RawQuery) -> PageResult {
    let form = FormData::parse(raw.as_deref().unwrap_or("").as_bytes());
    new_view(&v, &form, None).await
}

/// Writes an article from the form; "Preview" shows the form again with its body rendered.
pub async fn article_create(v: Visit, form: FormData) -> PageResult {
    if form.get("preview").is_some() {
        return new_view(&v, &form, None).await;
    }
    let result = match article_input(&v.viewer, &form) {
        Ok(input) => kb::create(&v.state.core, &v.ctx, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(a) => Ok(see_other(
            &format!("/knowledge/{}", a.number),
            Some("created"),
        )),
        Err(e) => new_view(&v, &form, Some(e)).await,
    }
}

// ----- one article -----

/// A task an article is linked to.
pub struct LinkedLine {
    pub number: String,
    pub href: String,
    pub title: String,
    pub state: String,
    /// How it is linked.
    pub how: String,
    pub when: String,
}

/// A reader's feedback as the pages show it.
pub struct FeedbackLine {
    pub id: String,
    pub number: String,
    pub title: String,
    pub group: String,
    pub who: String,
    pub when: String,
    pub version: i64,
    /// Yes, No or empty.
    pub helpful: String,
    pub rating: String,
    pub flag: String,
    pub comment: String,
    pub attention: bool,
    /// Dealt with: when, by whom and how; empty while not.
    pub addressed: String,
    pub addressed_note: String,
}

pub(crate) fn feedback_line(tt: Tr<'_>, viewer: &Viewer, f: &ArticleFeedback) -> FeedbackLine {
    let helpful = match f.helpful {
        Some(true) => tt.get("kb-helpful-yes"),
        Some(false) => tt.get("kb-helpful-no"),
        None => String::new(),
    };
    FeedbackLine {
        id: f.id.to_string(),
        number: f.number.clone(),
        title: f.title.clone(),
        group: f
            .owner_group
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_default(),
        who: f
            .person
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_else(|| tt.get("kb-anonymous")),
        when: when(f.created_at, viewer),
        version: f.version,
        helpful,
        rating: f
            .rating
            .map(|r| tt.num("kb-stars", "count", r))
            .unwrap_or_default(),
        flag: f.flag.map(|x| flag_label(tt, x.code())).unwrap_or_default(),
        comment: f.comment.clone(),
        attention: f.attention,
        addressed: f
            .addressed_at
            .map(|at| {
                let by = f.addressed_by.as_ref().map(|p| p.name.clone());
                format!("{} · {}", when(at, viewer), by.unwrap_or_default())
            })
            .unwrap_or_default(),
        addressed_note: f.addressed_note.clone(),
    }
}

/// An average rating with one decimal, empty without ratings.
fn average(sum: i64, count: i64) -> String {
    if count <= 0 {
        return String::new();
    }
    let tenths = (sum * 10 + count / 2) / count;
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// What an article page shows of it.
pub struct ArticleFacts {
    pub number: String,
    pub title: String,
    pub state: String,
    pub state_code: String,
    pub base: String,
    pub category: String,
    pub language: String,
    pub audience: String,
    pub group: String,
    pub organizations: String,
    pub services: String,
    pub cis: String,
    pub valid_to: String,
    pub review_at: String,
    /// The article it translates: (number, title).
    pub translation_of: Option<(String, String)>,
    pub head: i64,
    pub head_state: String,
    pub published: Option<i64>,
    pub published_at: String,
    pub updated: String,
    pub version: i64,
}

/// The version a page shows.
pub struct ShownVersion {
    pub number: i64,
    pub state: String,
    pub state_code: String,
    pub title: String,
    pub summary: String,
    pub author: String,
    pub updated: String,
    /// Its body rendered safely by the core's Markdown renderer.
    pub html: String,
}

#[derive(Template)]
#[template(path = "knowledge_article.html")]
pub struct ArticlePage<'a> {
    pub chrome: Chrome<'a>,
    pub a: ArticleFacts,
    pub shown: ShownVersion,
    pub can_submit: bool,
    pub can_withdraw: bool,
    pub can_retire: bool,
    pub editable: bool,
    /// A review of it waits on the viewer.
    pub mine_waiting: bool,
    pub linked: Vec<LinkedLine>,
    pub views: i64,
    pub helpful_yes: i64,
    pub helpful_no: i64,
    pub rating: String,
    pub ratings: i64,
    pub deflections: i64,
    pub feedback: Vec<FeedbackLine>,
    pub journal: Vec<JournalLine>,
    pub form: ArticleForm,
    pub errs: FieldErrors,
}

/// A task's page by its kind, if it has one.
fn task_href(kind: TaskKind, number: &str) -> String {
    match kind {
        TaskKind::Incident => format!("/incidents/{number}"),
        TaskKind::Problem => format!("/problems/{number}"),
        TaskKind::Change => format!("/changes/{number}"),
        TaskKind::Article => format!("/knowledge/{number}"),
        _ => String::new(),
    }
}

/// An article's values as its edit form shows them, with what it was shown with.
fn form_values(v: &Visit, view: &kb::ArticleView) -> (Draft, Vec<(String, String)>) {
    let a = &view.article;
    let names = |list: Vec<String>| list.join(", ");
    let refs: Vec<(String, String)> = vec![
        ("knowledge_base".into(), view.base.name.clone()),
        (
            "category".into(),
            a.ext.category_id.map(|c| c.to_string()).unwrap_or_default(),
        ),
        ("language".into(), a.ext.language.code().to_owned()),
        ("audience".into(), a.ext.audience.code().to_owned()),
        (
            "organizations".into(),
            names(
                view.scope
                    .organizations
                    .iter()
                    .map(|x| x.name.clone())
                    .collect(),
            ),
        ),
        (
            "services".into(),
            names(view.scope.services.iter().map(|x| x.name.clone()).collect()),
        ),
        (
            "cis".into(),
            names(view.scope.cis.iter().map(|x| x.name.clone()).collect()),
        ),
        (
            "assignment_group".into(),
            a.assignment_group
                .as_ref()
                .map(|g| g.name.clone())
                .unwrap_or_default(),
        ),
        ("valid_to".into(), day_value(a.ext.valid_to, &v.viewer)),
        ("review_at".into(), day_value(a.ext.review_at, &v.viewer)),
        (
            "translation_of".into(),
            view.translation_of
                .as_ref()
                .map(|t| t.0.clone())
                .unwrap_or_default(),
        ),
    ];
    let mut values = vec![
        ("short_description".to_owned(), a.short_description.clone()),
        ("summary".to_owned(), a.ext.summary.clone()),
        ("description".to_owned(), a.description.clone()),
    ];
    values.extend(refs.iter().cloned());
    (Draft::from_form(&FormData(values)), refs)
}

async fn article_view(
    v: &Visit,
    key: &str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
    typed: Option<&FormData>,
) -> PageResult {
    let (core, ctx) = (&v.state.core, &v.ctx);
    if !sigap_core::task::is_staff(ctx) {
        return Ok(see_other(
            &format!("/portal/knowledge/{}", encode(key)),
            None,
        ));
    }
    let version = q.get("version").and_then(|n| n.trim().parse::<i64>().ok());
    let view = kb::read(core, ctx, key, version).await?;
    let a = &view.article;
    let entries = sigap_core::task::journal_of(core, ctx, a.id).await?;
    let feedback = kb::feedback_of(core, ctx, a.id, 10).await?;
    let mine_waiting = sigap_core::approvals::mine(core, ctx)
        .await
        .unwrap_or_default()
        .iter()
        .any(|x| x.task_id == a.id);
    let (values, was) = match typed {
        Some(form) => posted(form),
        None => form_values(v, &view),
    };
    let (form, bad_preview) = article_form(v, values, was).await?;
    let mut chrome = v.chrome("knowledge", "knowledge-title");
    chrome.title = format!("{} {}", a.number, a.short_description);
    notice(&mut chrome, q);
    let (status, errs) = FieldErrors::split(&mut chrome, refused.or(bad_preview), FORM_FIELDS);
    let tt = chrome.t;
    let viewer = &v.viewer;
    let names = |list: Vec<String>| list.join(", ");
    let head_state = if a.ext.published_version == Some(a.ext.head_version) {
        VersionState::Published
    } else {
        match a.state {
            ArticleState::Draft => VersionState::Draft,
            ArticleState::Review => VersionState::Review,
            ArticleState::Published => VersionState::Published,
            ArticleState::Retired => VersionState::Retired,
        }
    };
    let facts = ArticleFacts {
        number: a.number.clone(),
        title: a.short_description.clone(),
        state: state_label(tt, a.state),
        state_code: a.state.code().to_owned(),
        base: view.base.name.clone(),
        category: view
            .category
            .as_ref()
            .map(|c| c.path.clone())
            .unwrap_or_default(),
        language: language_label(tt, a.ext.language),
        audience: tt.get(&format!("kb-audience-{}", a.ext.audience.code())),
        group: a
            .assignment_group
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_default(),
        organizations: names(
            view.scope
                .organizations
                .iter()
                .map(|x| x.name.clone())
                .collect(),
        ),
        services: names(view.scope.services.iter().map(|x| x.name.clone()).collect()),
        cis: names(view.scope.cis.iter().map(|x| x.name.clone()).collect()),
        valid_to: day_value(a.ext.valid_to, viewer),
        review_at: day_value(a.ext.review_at, viewer),
        translation_of: view.translation_of.clone(),
        head: a.ext.head_version,
        head_state: version_state_label(tt, head_state),
        published: a.ext.published_version,
        published_at: a
            .ext
            .published_at
            .map(|t| when(t, viewer))
            .unwrap_or_default(),
        updated: when(a.updated_at, viewer),
        version: a.version,
    };
    let s = &view.version;
    let shown = ShownVersion {
        number: s.version,
        state: version_state_label(tt, s.state),
        state_code: s.state.code().to_owned(),
        title: s.title.clone(),
        summary: s.summary.clone(),
        author: s.author_name.clone(),
        updated: when(s.updated_at, viewer),
        html: view.html.clone(),
    };
    let linked = view
        .linked
        .iter()
        .map(|l| LinkedLine {
            number: l.number.clone(),
            href: task_href(l.kind, &l.number),
            title: l.title.clone(),
            state: tt.get(&format!("{}-state-{}", l.kind.code(), l.state)),
            how: tt.get(&format!("kb-link-{}", l.link.code())),
            when: when(l.at, viewer),
        })
        .collect();
    let st = view.stats;
    let page = ArticlePage {
        can_submit: a.state == ArticleState::Draft,
        can_withdraw: a.state == ArticleState::Review,
        can_retire: a.ext.published_version.is_some(),
        editable: a.state != ArticleState::Review,
        mine_waiting,
        linked,
        views: st.views,
        helpful_yes: st.helpful_yes,
        helpful_no: st.helpful_no,
        rating: average(st.rating_sum, st.rating_count),
        ratings: st.rating_count,
        deflections: st.deflections,
        feedback: feedback
            .iter()
            .map(|f| feedback_line(tt, viewer, f))
            .collect(),
        journal: journal(tt, viewer, &entries),
        a: facts,
        shown,
        form,
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

/// An article's page; `?version=N` shows that version.
pub async fn article_page(
    v: Visit,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    article_view(&v, &key, &q, None, None).await
}

/// Back to the article with a notice, or its page again with the reasons.
async fn done<T>(
    v: &Visit,
    key: &str,
    result: Result<T, AppError>,
    notice: &str,
    typed: Option<&FormData>,
) -> PageResult {
    let to = format!("/knowledge/{}", encode(key));
    after(result, &to, notice, async |e| {
        article_view(v, key, &HashMap::new(), Some(e), typed).await
    })
    .await
}

/// Saves the edit form (new content of a published article starts a new draft);
/// "Preview" shows the page again with the body typed rendered.
pub async fn article_update(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    if form.get("preview").is_some() {
        return article_view(&v, &key, &HashMap::new(), None, Some(&form)).await;
    }
    let result = match article_input(&v.viewer, &form) {
        Ok(input) => kb::update(&v.state.core, &v.ctx, &key, input, form.version()).await,
        Err(e) => Err(e),
    };
    done(&v, &key, result, "saved", Some(&form)).await
}

/// An action from a form: `action` names it (submit, withdraw, retire, work_note), the
/// other fields carry its details.
pub async fn article_act(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let name = form.opt("action").unwrap_or_else(|| "work_note".into());
    let result = match Action::parse(&name, &Args(form.0.clone())) {
        Ok(action) => kb::act(&v.state.core, &v.ctx, &key, action, None).await,
        Err(e) => Err(e),
    };
    let notice = if name == "work_note" {
        "saved"
    } else {
        "updated"
    };
    done(&v, &key, result, notice, None).await
}

// ----- the owner groups' queue -----

#[derive(Template)]
#[template(path = "knowledge_attention.html")]
pub struct AttentionPage<'a> {
    pub chrome: Chrome<'a>,
    pub items: Vec<FeedbackLine>,
}

async fn attention_view(
    v: &Visit,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let list = kb::attention(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome("knowledge", "kb-attention-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let page = AttentionPage {
        items: list
            .iter()
            .map(|f| feedback_line(tt, &v.viewer, f))
            .collect(),
        chrome,
    };
    Ok(render(status, &page))
}

/// Flags and low ratings of the articles the viewer's groups own, not yet dealt with.
pub async fn attention_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    attention_view(&v, &q, None).await
}

/// Marks a flag or low rating dealt with, with what was done.
pub async fn attention_address(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let result = kb::address(&v.state.core, &v.ctx, &id, &form.text("note")).await;
    after(result, "/knowledge/attention", "kb-addressed", async |e| {
        attention_view(&v, &HashMap::new(), Some(e)).await
    })
    .await
}
