//! *My approvals*: what waits on the viewer (and on those who delegated to them) with what it
//! decides, the decision with its comment, what they decided lately, and delegation while
//! away.

use super::requests::{AnswerLine, ApprovalLine, answer_lines, approval_line};
use super::task::after;
use super::views::{notice, refusal, when};
use super::*;
use axum::extract::{Path, Query};
use sigap_core::approvals;
use sigap_core::requests;
use std::collections::HashMap;

// ----- my approvals -----

/// An approval waiting on the viewer, with what it decides.
pub struct WaitingApproval {
    pub id: String,
    pub number: String,
    pub title: String,
    pub requested_for: String,
    pub opened_by: String,
    pub asked: String,
    /// Whose approval it is when the viewer decides as their delegate.
    pub on_behalf_of: String,
    pub answers: Vec<AnswerLine>,
    pub price: String,
    /// The page of what it decides, when the viewer may see it (a change's).
    pub href: String,
}

#[derive(Template)]
#[template(path = "approvals.html")]
pub struct ApprovalsPage<'a> {
    pub chrome: Chrome<'a>,
    pub waiting: Vec<WaitingApproval>,
    pub decided: Vec<(String, ApprovalLine)>,
    /// (id, from, to, starts, ends, given by the viewer).
    pub delegations: Vec<(String, String, String, String, String, bool)>,
}

async fn approvals_view(
    v: &Visit,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let mut chrome = v.chrome("approvals", "approvals-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let me = v.ctx.principal.person_id;
    let mut waiting = Vec::new();
    for a in approvals::mine(&v.state.core, &v.ctx).await? {
        let id = a.id.to_string();
        let Ok((_, d)) = requests::for_approver(&v.state.core, &v.ctx, &id).await else {
            // Not a requested item's: an article's review, or a change's.
            let w = if a.task_number.starts_with("KB") {
                super::knowledge_tasks::waiting_approval(v, tt, &a, id).await
            } else {
                super::changes::waiting_approval(v, tt, &a, id).await
            };
            waiting.push(w);
            continue;
        };
        let person = |p: &Option<sigap_core::model::PersonRef>| {
            p.as_ref().map(|p| p.name.clone()).unwrap_or_default()
        };
        waiting.push(WaitingApproval {
            number: a.task_number.clone(),
            title: a.task_title.clone(),
            requested_for: person(&d.item.caller),
            opened_by: person(&d.item.opened_by),
            asked: when(a.asked_at, &v.viewer),
            on_behalf_of: if Some(a.approver.id) == me {
                String::new()
            } else {
                a.approver.name.clone()
            },
            answers: answer_lines(tt, &d),
            price: requests::price_text(d.item.ext.price),
            href: String::new(),
            id,
        });
    }
    let decided = approvals::decided(&v.state.core, &v.ctx)
        .await?
        .iter()
        .map(|a| (a.task_number.clone(), approval_line(tt, &v.viewer, a)))
        .collect();
    let day = |t: jiff::Timestamp| when(t, &v.viewer);
    let delegations = approvals::delegations(&v.state.core, &v.ctx)
        .await?
        .into_iter()
        .map(|d| {
            let mine = Some(d.from.id) == me;
            (
                d.id.to_string(),
                d.from.name,
                d.to.name,
                day(d.starts),
                day(d.ends),
                mine,
            )
        })
        .collect();
    let page = ApprovalsPage {
        waiting,
        decided,
        delegations,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn approvals_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    approvals_view(&v, &q, None).await
}

/// Approves or rejects (`decision`) with a comment.
pub async fn approval_decide(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let approve = form.get("decision").as_deref() == Some("approve");
    let comment = form.text("comment");
    let result = approvals::decide(&v.state.core, &v.ctx, &id, approve, &comment).await;
    let notice = if approve { "approved" } else { "rejected" };
    after(result, "/approvals", notice, async |e| {
        approvals_view(&v, &HashMap::new(), Some(e)).await
    })
    .await
}

/// A day of a form (`YYYY-MM-DD`) as the start of that day in the viewer's time zone.
fn day_start(
    viewer: &Viewer,
    field: &str,
    text: &str,
    next: bool,
) -> Result<jiff::Timestamp, AppError> {
    let bad = || AppError::field(field, "invalid_date", "a date: YYYY-MM-DD");
    let date: jiff::civil::Date = text.trim().parse().map_err(|_| bad())?;
    let date = if next {
        date.tomorrow().map_err(|_| bad())?
    } else {
        date
    };
    let tz = viewer
        .principal
        .as_ref()
        .map_or("UTC", |p| p.time_zone.as_str());
    let zone = jiff::tz::TimeZone::get(tz).unwrap_or(jiff::tz::TimeZone::UTC);
    date.to_zoned_datetime(zone)
        .map(|z| z.timestamp())
        .map_err(|_| bad())
}

/// Delegates the viewer's approvals from one day to another (both included).
pub async fn delegation_add(v: Visit, form: FormData) -> PageResult {
    let result = async {
        let starts = day_start(&v.viewer, "starts", &form.text("starts"), false)?;
        let ends = day_start(&v.viewer, "ends", &form.text("ends"), true)?;
        approvals::delegate(&v.state.core, &v.ctx, &form.text("to"), starts, ends).await
    }
    .await;
    after(result, "/approvals", "saved", async |e| {
        approvals_view(&v, &HashMap::new(), Some(e)).await
    })
    .await
}

pub async fn delegation_remove(v: Visit, Path(id): Path<String>) -> PageResult {
    approvals::undelegate(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other("/approvals", Some("deleted")))
}
