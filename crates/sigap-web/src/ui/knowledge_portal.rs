//! The portal's knowledge: searching and browsing the published articles a person may read,
//! reading one (its view counted) with the forms of feedback, and the deflection of an
//! incident ("this solved my problem") that opens no ticket.

use super::knowledge::{flag_label, language_label};
use super::views::{notice, when};
use super::*;
use axum::extract::{Path, Query};
use sigap_core::knowledge::{self as kb, FeedbackInput, SearchInput};
use sigap_domain::process::article::FlagReason;
use std::collections::HashMap;

/// One article found.
pub struct HitLine {
    pub number: String,
    pub title: String,
    pub summary: String,
}

#[derive(Template)]
#[template(path = "knowledge_portal.html")]
pub struct PortalKnowledgePage<'a> {
    pub chrome: Chrome<'a>,
    pub q: String,
    pub base: String,
    pub category: String,
    pub language: String,
    pub bases: Vec<String>,
    /// The categories of the base chosen: (id, path).
    pub categories: Vec<(String, String)>,
    pub languages: Vec<(String, String)>,
    pub hits: Vec<HitLine>,
    /// Words were given (else the most read are shown).
    pub searched: bool,
}

/// The knowledge search: `q` (or the short description of the portal's incident form, sent
/// here by its "search knowledge first"), a knowledge base, a category of it, a language.
pub async fn portal_knowledge_page(
    v: Visit,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let (core, ctx) = (&v.state.core, &v.ctx);
    let get = |k: &str| q.get(k).map(|x| x.trim().to_owned()).unwrap_or_default();
    let text = Some(get("q"))
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| get("short_description"));
    let (base, language) = (get("knowledge_base"), get("language"));
    let bases = kb::bases(core, ctx).await?;
    // With one base there is nothing to choose: its categories are offered at once.
    let chosen = match bases.as_slice() {
        [only] => Some(only),
        _ => bases.iter().find(|b| b.name == base),
    };
    let categories = match chosen {
        Some(b) => kb::base(core, ctx, &b.id.to_string()).await?.1,
        None => Vec::new(),
    };
    let category = Some(get("category"))
        .filter(|c| categories.iter().any(|x| x.id.to_string() == *c))
        .unwrap_or_default();
    let mut chrome = v.chrome("portal_knowledge", "kb-portal-title");
    notice(&mut chrome, &q);
    let input = SearchInput {
        q: text.clone(),
        prefix: false,
        knowledge_base: chosen.map(|b| b.id.to_string()),
        category: Some(category.clone()).filter(|c| !c.is_empty()),
        service: None,
        language: Some(language.clone()).filter(|l| !l.is_empty()),
        limit: Some(50),
    };
    let hits = super::task::or_refused(&mut chrome, kb::search(core, ctx, input).await)?;
    let tt = chrome.t;
    let page = PortalKnowledgePage {
        searched: !kb::words(&text).is_empty(),
        q: text,
        base: chosen.map(|b| b.name.clone()).unwrap_or_default(),
        category,
        language,
        bases: bases.into_iter().map(|b| b.name).collect(),
        categories: categories
            .into_iter()
            .map(|c| (c.id.to_string(), c.path))
            .collect(),
        languages: Locale::ALL
            .iter()
            .map(|l| (l.code().to_owned(), language_label(tt, *l)))
            .collect(),
        hits: hits
            .into_iter()
            .map(|h| HitLine {
                number: h.number,
                title: h.title,
                summary: h.summary,
            })
            .collect(),
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "knowledge_read.html")]
pub struct ReadPage<'a> {
    pub chrome: Chrome<'a>,
    pub number: String,
    pub title: String,
    pub summary: String,
    pub base: String,
    pub category: String,
    pub published: String,
    /// The published version's body rendered safely by the core's Markdown renderer.
    pub html: String,
    pub flags: Vec<(String, String)>,
    /// The reader came from "this solved my problem": no incident was opened.
    pub solved: bool,
    /// The desk may open the article's own page.
    pub desk: bool,
}

async fn read_view(
    v: &Visit,
    key: &str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let (core, ctx) = (&v.state.core, &v.ctx);
    let view = kb::read(core, ctx, key, None).await?;
    let a = &view.article;
    // The portal shows the published version only, also to the desk.
    if a.ext.published_version != Some(view.version.version) {
        return Err(AppError::NotFound.into());
    }
    let solved = q.contains_key("solved");
    // A page shown again after a form of the reader's is not a new view.
    if refused.is_none() && !solved && !q.contains_key("notice") {
        kb::count_view(core, a.id).await?;
    }
    let mut chrome = v.chrome("portal_knowledge", "kb-portal-title");
    chrome.title = view.version.title.clone();
    notice(&mut chrome, q);
    let status = super::views::refusal(&mut chrome, refused);
    let tt = chrome.t;
    let page = ReadPage {
        number: a.number.clone(),
        title: view.version.title.clone(),
        summary: view.version.summary.clone(),
        base: view.base.name.clone(),
        category: view
            .category
            .as_ref()
            .map(|c| c.path.clone())
            .unwrap_or_default(),
        published: view
            .version
            .published_at
            .map(|t| when(t, &v.viewer))
            .unwrap_or_default(),
        html: view.html.clone(),
        flags: FlagReason::ALL
            .iter()
            .map(|f| (f.code().to_owned(), flag_label(tt, f.code())))
            .collect(),
        solved,
        desk: sigap_core::task::is_staff(ctx),
        chrome,
    };
    Ok(render(status, &page))
}

/// An article as its reader reads it (the published version); the view is counted.
pub async fn portal_article_page(
    v: Visit,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    read_view(&v, &key, &q, None).await
}

/// A reader's feedback: `helpful` (yes or no), `rating` (1 to 5), `flag` (a reason) and
/// `comment`; back to the article with thanks, or the article again with the reasons.
pub async fn portal_feedback(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let rating = match form.opt("rating") {
        None => Ok(None),
        Some(r) => r
            .trim()
            .parse::<i64>()
            .map(Some)
            .map_err(|_| AppError::field("rating", "out_of_range", "must be from 1 to 5")),
    };
    let result = match rating {
        Ok(rating) => {
            let input = FeedbackInput {
                helpful: match form.text("helpful").as_str() {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                },
                rating,
                flag: form.opt("flag"),
                comment: form.opt("comment"),
            };
            kb::give_feedback(&v.state.core, &v.ctx, &key, input).await
        }
        Err(e) => Err(e),
    };
    let to = format!("/portal/knowledge/{}", encode(&key));
    super::task::after(result, &to, "kb-thanks", async |e| {
        read_view(&v, &key, &HashMap::new(), Some(e)).await
    })
    .await
}

/// The article solved the reader's problem while they described it (`q`): the deflection
/// is recorded, no incident is opened, and the article says so.
pub async fn portal_solved(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let typed: String = form.text("q").chars().take(1_000).collect();
    kb::solved(&v.state.core, &v.ctx, &key, &typed).await?;
    Ok(see_other(
        &format!("/portal/knowledge/{}?solved=1", encode(&key)),
        None,
    ))
}
