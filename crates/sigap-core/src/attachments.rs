//! Files attached to tasks of any process: who may attach (the desk, and a caller on their
//! own open task), a file's name and media type cleaned, its size capped, each attachment in
//! the task's journal and the audit log.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use crate::task::{self, Process};
use serde_json::json;
use sigap_domain::parse_line;
use sigap_domain::task::StateModel;
use sigap_store::StoreError;

/// The largest file a task takes.
pub const MAX_ATTACHMENT: usize = 10 * 1024 * 1024;

/// Attaches a file to a task: agents, and the caller on their own open task.
pub async fn attach<P: Process>(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    filename: &str,
    content_type: &str,
    content: Vec<u8>,
) -> AppResult<sigap_store::task::attachments::Attachment> {
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let i = task::get::<P>(core, ctx, key).await?;
    let is_caller = ctx.principal.person_id.is_some()
        && i.caller.as_ref().map(|c| c.id) == ctx.principal.person_id;
    let callers_own_open = is_caller && !i.state.is_final();
    if !(task::is_staff(ctx) || callers_own_open) {
        return Err(AppError::Forbidden);
    }
    // Only the last part of a path, without control characters.
    let base = filename.rsplit(['/', '\\']).next().unwrap_or("");
    let filename = parse_line(base, 200)
        .map_err(|e| AppError::Validation(vec![FieldError::from_invalid("filename", e)]))?;
    if content.is_empty() {
        return Err(AppError::field("content", "required", "the file is empty"));
    }
    if content.len() > MAX_ATTACHMENT {
        return Err(AppError::field(
            "content",
            "too_long",
            format!("at most {MAX_ATTACHMENT} bytes"),
        ));
    }
    // A media type as `type/subtype` in lower case; anything else is plain bytes.
    let content_type = content_type
        .split(';')
        .next()
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| {
            let mut parts = t.splitn(2, '/');
            let ok = |p: Option<&str>| {
                p.is_some_and(|p| {
                    !p.is_empty()
                        && p.len() <= 100
                        && p.bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
                })
            };
            ok(parts.next()) && ok(parts.next())
        })
        .unwrap_or_else(|| "application/octet-stream".into());
    let sha = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&content))
    };
    let (actor, now) = (Actor::of(ctx), core.now());
    let content = std::sync::Arc::new(content);
    core.store
        .write(async move |tx| {
            let a = sigap_store::task::attachments::insert_attachment(
                tx,
                i.id,
                &filename,
                &content_type,
                &sha,
                &content,
                (actor.id, &actor.name),
                now,
            )
            .await?;
            let changes = json!({"attachment": [null, filename]});
            task::change_entry(tx, &actor, i.id, &changes, now).await?;
            audit::record(
                tx,
                &actor,
                now,
                P::ENTITY,
                &i.id.to_string(),
                "update",
                changes.clone(),
            )
            .await?;
            Ok::<_, AppError>(a)
        })
        .await
}

/// The files attached to a task.
pub async fn list<P: Process>(
    core: &Core,
    ctx: &Ctx,
    key: &str,
) -> AppResult<Vec<sigap_store::task::attachments::Attachment>> {
    let i = task::get::<P>(core, ctx, key).await?;
    Ok(core
        .store
        .read(async move |tx| sigap_store::task::attachments::attachments_of(tx, i.id).await)
        .await?)
}

/// One attachment with its content, if its task is visible: an incident's to whoever
/// sees the incident, an article's to whoever may read the article (its images are shown
/// to the portal's readers).
pub async fn download_any(
    core: &Core,
    ctx: &Ctx,
    id: &str,
) -> AppResult<(sigap_store::task::attachments::Attachment, Vec<u8>)> {
    let id = sigap_domain::AttachmentId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let (a, content) = match core
        .store
        .read(async move |tx| sigap_store::task::attachments::attachment(tx, id).await)
        .await
    {
        Ok(x) => x,
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let task = a.task_id;
    let kind = core
        .store
        .read(async move |tx| sigap_store::task::kind(tx, task).await)
        .await?;
    match kind {
        Some(sigap_domain::task::TaskKind::Article) => {
            crate::knowledge::may_read(core, ctx, task).await?;
        }
        _ => {
            task::get::<sigap_store::incidents::IncidentExt>(core, ctx, &task.to_string()).await?;
        }
    }
    Ok((a, content))
}
