//! The messages taken in and sent, and the quarantine: retry or discard.

use super::{admins, readers};
use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::mail::PROCESS_JOB;
use crate::principal::Ctx;
use serde_json::json;
use sigap_domain::{MailMessageId, Role};
use sigap_store::mail::{self as repo, MailMessage, MessageFilter};

/// Messages taken in or sent, newest first (administrators): `state=quarantined` is the
/// quarantine.
pub async fn messages(
    core: &Core,
    ctx: &Ctx,
    filter: MessageFilter,
    limit: i64,
) -> AppResult<Vec<MailMessage>> {
    readers(ctx)?;
    let limit = limit.clamp(1, 200);
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::messages(tx, &filter, limit).await?))
        .await
}

pub async fn message(core: &Core, ctx: &Ctx, id: &str) -> AppResult<MailMessage> {
    readers(ctx)?;
    let id = MailMessageId::parse(id.trim()).ok_or(AppError::NotFound)?;
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::get_message(tx, id).await?))
        .await
}

/// A message's raw bytes (administrators).
pub async fn raw(core: &Core, ctx: &Ctx, id: &str) -> AppResult<Vec<u8>> {
    readers(ctx)?;
    let id = MailMessageId::parse(id.trim()).ok_or(AppError::NotFound)?;
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::raw(tx, id).await?))
        .await
}

/// A kept message's raw bytes (the program's own use: processing it again).
pub async fn raw_of(core: &Core, id: MailMessageId) -> AppResult<Vec<u8>> {
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::raw(tx, id).await?))
        .await
}

/// Messages taken in but not processed since `before` (a crash, a database that went
/// away): the program's own use, to process them again.
pub async fn unprocessed(
    core: &Core,
    before: jiff::Timestamp,
    limit: i64,
) -> AppResult<Vec<MailMessageId>> {
    core.store
        .read(async move |tx| {
            Ok::<_, AppError>(
                repo::in_state(tx, repo::Direction::In, "received", before, limit)
                    .await?
                    .into_iter()
                    .map(|m| m.id)
                    .collect(),
            )
        })
        .await
}

/// Tries a quarantined (or discarded) message again: it is processed anew by a job.
pub async fn retry(core: &Core, ctx: &Ctx, id: &str) -> AppResult<MailMessage> {
    admins(ctx)?;
    let id = MailMessageId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let m = repo::get_message(tx, id).await?;
            if m.direction != "in" || !matches!(m.state.as_str(), "quarantined" | "discarded") {
                return Err(AppError::Conflict {
                    code: "not_quarantined",
                    message: "only a quarantined or discarded message is tried again".into(),
                    field: None,
                });
            }
            let o = repo::Outcome {
                state: "received",
                ..Default::default()
            };
            repo::set_outcome(tx, id, &o, now).await?;
            crate::jobs::enqueue(
                tx,
                PROCESS_JOB,
                &json!({ "message": id.to_string() }),
                now,
                now,
            )
            .await?;
            // The audit log knows create, update and delete: a retry is a change of state.
            let changes = json!({ "state": [&m.state, "received"] });
            audit::record(
                tx,
                &actor,
                now,
                "mail_message",
                &id.to_string(),
                "update",
                changes,
            )
            .await?;
            Ok(repo::get_message(tx, id).await?)
        })
        .await
}

/// Discards a quarantined message: kept, and done with.
pub async fn discard(core: &Core, ctx: &Ctx, id: &str) -> AppResult<MailMessage> {
    admins(ctx)?;
    let id = MailMessageId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let m = repo::get_message(tx, id).await?;
            if m.state != "quarantined" {
                return Err(AppError::Conflict {
                    code: "not_quarantined",
                    message: "only a quarantined message is discarded".into(),
                    field: None,
                });
            }
            let o = repo::Outcome {
                state: "discarded",
                reason: m.reason.as_deref(),
                detail: &m.detail,
                ..Default::default()
            };
            repo::set_outcome(tx, id, &o, now).await?;
            let changes = json!({ "state": [&m.state, "discarded"] });
            audit::record(
                tx,
                &actor,
                now,
                "mail_message",
                &id.to_string(),
                "update",
                changes,
            )
            .await?;
            Ok(repo::get_message(tx, id).await?)
        })
        .await
}

/// Counts of messages by direction and state.
pub async fn counts(core: &Core, ctx: &Ctx) -> AppResult<Vec<(String, String, i64)>> {
    readers(ctx)?;
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::counts(tx).await?))
        .await
}

/// The mail of a task (agents who see the task).
pub async fn of_task<P: crate::task::Process>(
    core: &Core,
    ctx: &Ctx,
    key: &str,
) -> AppResult<Vec<MailMessage>> {
    ctx.principal.require(Role::Agent)?;
    let t = crate::task::get::<P>(core, ctx, key).await?;
    let f = MessageFilter {
        task_id: Some(t.id),
        ..Default::default()
    };
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::messages(tx, &f, 200).await?))
        .await
}
