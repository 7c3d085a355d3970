//! The knowledge side of the other processes' pages: articles suggested for an incident,
//! attached to it and resolved with; a problem's known-error article; an article's review on
//! the approvals page.

use super::views::when;
use super::*;
use axum::extract::Path;
use sigap_core::knowledge as kb;
use sigap_core::model::{Incident, IncidentExt, Problem};
use sigap_domain::process::article::{ArticleLink, ArticleState};

// ----- the knowledge side of an incident -----

/// An article linked to a task.
pub struct TaskArticle {
    pub number: String,
    pub title: String,
    pub state: String,
    pub how: String,
    /// Attached by an agent (and so removable), not the one it was resolved with.
    pub attached: bool,
    pub published: bool,
}

/// What the incident page shows of knowledge: articles for its short description, those
/// attached to it or it was resolved with, and those it may be resolved with.
#[derive(Default)]
pub struct IncidentKnowledge {
    /// (number, title, summary).
    pub suggested: Vec<(String, String, String)>,
    pub linked: Vec<TaskArticle>,
    /// The published articles attached: (number, title).
    pub options: Vec<(String, String)>,
}

/// Articles for a text: those matching all its words, then those matching its longer words
/// one by one, at most five.
async fn suggestions(v: &Visit, text: &str, skip: &[String]) -> Vec<(String, String, String)> {
    let (core, ctx) = (&v.state.core, &v.ctx);
    let mut found: Vec<(String, String, String)> = Vec::new();
    let mut texts = vec![text.to_owned()];
    let mut words: Vec<String> = kb::words(text)
        .into_iter()
        .filter(|w| w.chars().count() >= 4)
        .collect();
    words.dedup();
    texts.extend(words.into_iter().take(6));
    for t in texts {
        if found.len() >= 5 {
            break;
        }
        for h in kb::suggest(core, ctx, &t, 5).await.unwrap_or_default() {
            let known = found.iter().any(|f| f.0 == h.number) || skip.contains(&h.number);
            if !known && found.len() < 5 {
                found.push((h.number, h.title, h.summary));
            }
        }
    }
    found
}

pub(crate) async fn of_incident(v: &Visit, i: &Incident) -> IncidentKnowledge {
    let tt = tr(&v.state, &v.viewer);
    let linked = kb::of_task(&v.state.core, &v.ctx, i.id)
        .await
        .unwrap_or_default();
    let numbers: Vec<String> = linked.iter().map(|l| l.number.clone()).collect();
    let mut lines: Vec<TaskArticle> = Vec::new();
    for l in &linked {
        let attached = l.link == ArticleLink::Attached;
        // An article attached and then resolved with is listed once, resolved.
        if let Some(seen) = lines.iter_mut().find(|x| x.number == l.number) {
            if !attached {
                seen.how = tt.get(&format!("kb-link-{}", l.link.code()));
            }
            seen.attached |= attached;
            continue;
        }
        lines.push(TaskArticle {
            number: l.number.clone(),
            title: l.title.clone(),
            state: tt.get(&format!("article-state-{}", l.state)),
            how: tt.get(&format!("kb-link-{}", l.link.code())),
            attached,
            published: l.state == ArticleState::Published.code(),
        });
    }
    let options = lines
        .iter()
        .filter(|l| l.attached && l.published)
        .map(|l| (l.number.clone(), l.title.clone()))
        .collect();
    IncidentKnowledge {
        suggested: suggestions(v, &i.short_description, &numbers).await,
        linked: lines,
        options,
    }
}

/// Attaches an article to an incident (`article`: its number).
pub async fn incident_article_attach(
    v: Visit,
    Path(key): Path<String>,
    form: FormData,
) -> PageResult {
    let article = form.text("article");
    let result = kb::attach::<IncidentExt>(&v.state.core, &v.ctx, &key, &article).await;
    super::incidents::done(&v, &key, result, "linked").await
}

pub async fn incident_article_remove(
    v: Visit,
    Path((key, article)): Path<(String, String)>,
) -> PageResult {
    let result = kb::detach::<IncidentExt>(&v.state.core, &v.ctx, &key, &article).await;
    super::incidents::done(&v, &key, result, "unlinked").await
}

// ----- the knowledge side of a problem -----

/// What the problem page shows of knowledge: the known error's article, or the bases it
/// may be published in.
#[derive(Default)]
pub struct ProblemKnowledge {
    /// (number, title).
    pub article: Option<(String, String)>,
    pub bases: Vec<String>,
}

pub(crate) async fn of_problem(v: &Visit, p: &Problem) -> ProblemKnowledge {
    let (core, ctx) = (&v.state.core, &v.ctx);
    let article = kb::of_task(core, ctx, p.id)
        .await
        .unwrap_or_default()
        .into_iter()
        .find(|l| l.link == ArticleLink::KnownError)
        .map(|l| (l.number, l.title));
    let bases = if p.ext.known_error && article.is_none() {
        kb::bases(core, ctx)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|b| b.active)
            .map(|b| b.name)
            .collect()
    } else {
        Vec::new()
    };
    ProblemKnowledge { article, bases }
}

/// Publishes a known error's article, in the knowledge base chosen (else the only one).
pub async fn problem_known_error_article(
    v: Visit,
    Path(key): Path<String>,
    form: FormData,
) -> PageResult {
    let base = form.opt("knowledge_base");
    let result = kb::publish_known_error(&v.state.core, &v.ctx, &key, base).await;
    super::problems::done(&v, &key, result, "kb-known-error-published").await
}

// ----- a review on the approvals page -----

/// A review of an article waiting on the viewer, with what it decides.
pub(crate) async fn waiting_approval(
    v: &Visit,
    tt: Tr<'_>,
    a: &sigap_core::approvals::ApprovalRecord,
    id: String,
) -> super::approvals::WaitingApproval {
    let (core, ctx) = (&v.state.core, &v.ctx);
    let read = kb::read(core, ctx, &a.task_id.to_string(), None).await.ok();
    let fact = |label: &str, value: String| super::requests::AnswerLine {
        label: tt.get(label),
        value,
    };
    let mut answers = Vec::new();
    let mut author = String::new();
    if let Some(r) = &read {
        let x = &r.article;
        answers.push(fact("field-knowledge-base", r.base.name.clone()));
        if let Some(g) = &x.assignment_group {
            answers.push(fact("field-owner-group", g.name.clone()));
        }
        answers.push(fact("field-summary", x.ext.summary.clone()));
        answers.push(fact("field-version", x.ext.head_version.to_string()));
        answers.retain(|l| !l.value.is_empty());
        if let Ok((_, list)) = kb::versions(core, ctx, &x.number).await {
            author = list
                .last()
                .map(|l| l.author_name.clone())
                .unwrap_or_default();
        }
    }
    let me = v.ctx.principal.person_id;
    super::approvals::WaitingApproval {
        number: a.task_number.clone(),
        title: a.task_title.clone(),
        requested_for: author.clone(),
        opened_by: author,
        asked: when(a.asked_at, &v.viewer),
        on_behalf_of: if Some(a.approver.id) == me {
            String::new()
        } else {
            a.approver.name.clone()
        },
        answers,
        price: String::new(),
        href: read
            .map(|r| format!("/knowledge/{}", r.article.number))
            .unwrap_or_default(),
        id,
    }
}
