//! An article's versions for the desk: every version with its state, author and dates, and
//! the line-by-line difference of two of them.

use super::knowledge::version_state_label;
use super::views::when;
use super::*;
use axum::extract::{Path, Query};
use jiff::Timestamp;
use sigap_core::knowledge as kb;
use std::collections::HashMap;

// ----- versions -----

pub struct VersionLine {
    pub number: i64,
    pub state: String,
    pub state_code: String,
    pub title: String,
    pub author: String,
    pub created: String,
    pub submitted: String,
    pub published: String,
    pub ended: String,
    pub is_from: bool,
    pub is_to: bool,
}

/// One line of a difference: its kind (same, added, removed), its numbers in the old and
/// new texts, and its text.
pub struct DiffRow {
    pub kind: &'static str,
    pub old: String,
    pub new: String,
    pub text: String,
}

#[derive(Template)]
#[template(path = "knowledge_versions.html")]
pub struct VersionsPage<'a> {
    pub chrome: Chrome<'a>,
    pub number: String,
    pub title: String,
    pub versions: Vec<VersionLine>,
    /// The versions compared, when asked.
    pub compared: Option<(i64, i64)>,
    pub diff: Vec<DiffRow>,
    pub added: usize,
    pub removed: usize,
}

/// Every version of an article, and the difference of two (`from`, `to`).
pub async fn versions_page(
    v: Visit,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let (core, ctx) = (&v.state.core, &v.ctx);
    let (a, list) = kb::versions(core, ctx, &key).await?;
    let pick = |k: &str| q.get(k).and_then(|n| n.trim().parse::<i64>().ok());
    let asked = pick("from").zip(pick("to"));
    let mut chrome = v.chrome("knowledge", "kb-versions-title");
    chrome.title = format!("{} · {}", a.number, chrome.t.get("kb-versions-title"));
    let tt = chrome.t;
    let mut diff = Vec::new();
    let mut compared = None;
    if let Some((from, to)) = asked {
        match kb::diff(core, ctx, &a.number, from, to).await {
            Ok((_, _, lines)) => {
                compared = Some((from, to));
                diff = lines
                    .into_iter()
                    .map(|l| DiffRow {
                        kind: match l.op {
                            sigap_core::markdown::DiffOp::Same => "same",
                            sigap_core::markdown::DiffOp::Added => "added",
                            sigap_core::markdown::DiffOp::Removed => "removed",
                        },
                        old: l.old.map(|n| n.to_string()).unwrap_or_default(),
                        new: l.new.map(|n| n.to_string()).unwrap_or_default(),
                        text: l.text,
                    })
                    .collect();
            }
            Err(e @ AppError::Validation(_)) => chrome.errors = messages(tt, &e),
            Err(e) => return Err(e.into()),
        }
    }
    // Unless asked, the published version is compared with the newest.
    let head = list.last().map(|x| x.version).unwrap_or(1);
    let (from, to) = asked.unwrap_or_else(|| {
        let published = a.ext.published_version.filter(|p| *p != head);
        (published.unwrap_or(head.saturating_sub(1).max(1)), head)
    });
    let viewer = &v.viewer;
    let at = |t: Option<Timestamp>| t.map(|t| when(t, viewer)).unwrap_or_default();
    let versions = list
        .iter()
        .rev()
        .map(|x| VersionLine {
            number: x.version,
            state: version_state_label(tt, x.state),
            state_code: x.state.code().to_owned(),
            title: x.title.clone(),
            author: x.author_name.clone(),
            created: when(x.created_at, viewer),
            submitted: at(x.submitted_at),
            published: at(x.published_at),
            ended: at(x.ended_at),
            is_from: x.version == from,
            is_to: x.version == to,
        })
        .collect();
    let count = |k: &str| diff.iter().filter(|d| d.kind == k).count();
    let page = VersionsPage {
        number: a.number.clone(),
        title: a.short_description.clone(),
        versions,
        compared,
        added: count("added"),
        removed: count("removed"),
        diff,
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}
