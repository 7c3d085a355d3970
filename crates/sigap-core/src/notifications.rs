//! In-app notifications: what Sigap tells a person, shown on their home page.

use crate::Core;
use crate::error::{AppError, AppResult};
use crate::principal::Ctx;
use sigap_domain::NotificationId;
use sigap_store::notifications::{self as repo, Notification};

/// Your most recent notifications, unread first.
pub async fn mine(core: &Core, ctx: &Ctx) -> AppResult<Vec<Notification>> {
    let me = ctx.principal.person()?;
    Ok(core
        .store
        .read(async move |tx| repo::of_person(tx, me, 50).await)
        .await?)
}

/// Marks one of your notifications read.
pub async fn mark_read(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    let me = ctx.principal.person()?;
    let id = NotificationId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let now = core.now();
    let changed = core
        .store
        .write(async move |tx| Ok::<_, AppError>(repo::mark_read(tx, me, id, now).await?))
        .await?;
    if changed {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The job that mails one notification.
pub const MAIL_JOB: &str = "mail_notification";

/// Writes a notification in the caller's transaction and, when outbound mail is on and its
/// person gets this kind of notification by mail, the job that mails it: the mail exists
/// exactly when the change it tells of does.
pub async fn send(
    tx: &mut sigap_store::Tx<'_>,
    n: &sigap_store::notifications::NewNotification<'_>,
    now: jiff::Timestamp,
) -> AppResult<NotificationId> {
    let id = repo::insert(tx, n, now).await?;
    if sigap_store::mail::outbound(tx).await?.enabled
        && sigap_store::mail::recipient(tx, n.person_id, n.kind)
            .await?
            .is_some()
    {
        crate::jobs::enqueue(
            tx,
            MAIL_JOB,
            &serde_json::json!({ "notification": id.to_string() }),
            now,
            now,
        )
        .await?;
    }
    Ok(id)
}

/// As `send`, for many notifications at once (a sweep's warnings): a few statements whatever
/// their number.
pub async fn send_many(
    tx: &mut sigap_store::Tx<'_>,
    notes: &[sigap_store::notifications::NewNotification<'_>],
    now: jiff::Timestamp,
) -> AppResult<()> {
    if notes.is_empty() {
        return Ok(());
    }
    let ids = repo::insert_many(tx, notes, now).await?;
    if !sigap_store::mail::outbound(tx).await?.enabled {
        return Ok(());
    }
    let mut kinds: Vec<&str> = notes.iter().map(|n| n.kind).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let mut payloads = Vec::new();
    for kind in kinds {
        let mut people: Vec<_> = notes
            .iter()
            .filter(|n| n.kind == kind)
            .map(|n| n.person_id)
            .collect();
        people.sort_unstable();
        people.dedup();
        let mailed: std::collections::HashSet<_> = sigap_store::mail::mailed(tx, &people, kind)
            .await?
            .into_iter()
            .collect();
        payloads.extend(
            notes
                .iter()
                .zip(&ids)
                .filter(|(n, _)| n.kind == kind && mailed.contains(&n.person_id))
                .map(|(_, id)| serde_json::json!({ "notification": id.to_string() })),
        );
    }
    sigap_store::jobs::enqueue_many(tx, MAIL_JOB, &payloads, now, crate::jobs::MAX_ATTEMPTS, now)
        .await?;
    Ok(())
}
