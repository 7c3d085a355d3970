//! What each person wants by mail.

use crate::Core;
use crate::error::{AppError, AppResult};
use crate::principal::Ctx;
use sigap_store::mail as repo;

/// The kinds of notification a person may turn off by mail, with whether they get them.
pub async fn preferences(core: &Core, ctx: &Ctx) -> AppResult<Vec<(String, bool)>> {
    let me = ctx.principal.person()?;
    let set = core
        .store
        .read(async move |tx| Ok::<_, AppError>(repo::preferences(tx, me).await?))
        .await?;
    Ok(crate::mail::admin::NOTIFICATION_KINDS
        .iter()
        .map(|k| {
            let on = set.iter().find(|(s, _)| s == k).is_none_or(|(_, e)| *e);
            ((*k).to_owned(), on)
        })
        .collect())
}

/// Turns mail of a kind of notification on or off for oneself.
pub async fn set_preference(core: &Core, ctx: &Ctx, kind: &str, enabled: bool) -> AppResult<()> {
    let me = ctx.principal.person()?;
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    if !NOTIFICATION_KINDS.contains(&kind) {
        return Err(AppError::field(
            "kind",
            "invalid_choice",
            "no such kind of notification",
        ));
    }
    let kind = kind.to_owned();
    core.store
        .write(async move |tx| {
            Ok::<_, AppError>(repo::set_preference(tx, me, &kind, enabled).await?)
        })
        .await
}

/// The kinds of notification Sigap sends (the process's entity and the event).
pub const NOTIFICATION_KINDS: &[&str] = &[
    "incident_assigned",
    "incident_queued",
    "incident_comment",
    "incident_caller_replied",
    "incident_resolved",
    "incident_closed",
    "incident_awaiting_you",
    "incident_reopened",
    "incident_major",
    "incident_escalated",
    "problem_assigned",
    "problem_queued",
    "change_assigned",
    "change_queued",
    "request_comment",
    "request_item_assigned",
    "request_item_queued",
    "approval_requested",
    "approval_reminder",
    "sla_threshold",
    "sla_owner",
    "article_review",
    "article_feedback",
    "service_review_due",
];
