//! Links between the tasks of two processes (a problem's incidents; next a change's or a
//! request's): linked and unlinked from the parent's side by writers while the parent is
//! not final, each link written in the child's journal, and read from either side.

use crate::Core;
use crate::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::principal::Ctx;
use crate::task::{self, Process};
use jiff::Timestamp;
use sigap_domain::TaskId;
use sigap_domain::task::{JournalKind, StateModel};
use sigap_store::Tx;
use sigap_store::task::Record;
pub use sigap_store::task::links::Links;

/// Links `children` to `parent` in the caller's transaction, each new link noted in the
/// child's journal; the children that were not linked to it already.
pub async fn link_in<P: Process, C: Process>(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    links: Links,
    parent: &Record<P>,
    children: Vec<Record<C>>,
) -> AppResult<Vec<Record<C>>> {
    let mut linked = Vec::new();
    for c in children {
        if links.link(tx, parent.id, c.id, &actor.name, now).await? {
            let note = format!("→ {} {}", parent.number, parent.short_description);
            task::add_note(tx, actor, c.id, JournalKind::WorkNote, &note, now).await?;
            linked.push(c);
        }
    }
    Ok(linked)
}

/// Changes the links of the task `key` (writers; the task not final) in one transaction.
pub async fn change<P: Process, F>(core: &Core, ctx: &Ctx, key: &str, change: F) -> AppResult<()>
where
    F: AsyncFn(&mut Tx<'_>, &Actor, Timestamp, &Record<P>) -> AppResult<()> + Send + Sync + 'static,
{
    change_any(core, ctx, key, false, change).await
}

/// `change`, on a finished task too when `finished_too` (what a closed change caused is
/// found after it closed).
pub async fn change_any<P: Process, F>(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    finished_too: bool,
    change: F,
) -> AppResult<()>
where
    F: AsyncFn(&mut Tx<'_>, &Actor, Timestamp, &Record<P>) -> AppResult<()> + Send + Sync + 'static,
{
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let p = task::get::<P>(core, ctx, key).await?;
    if !finished_too {
        task::not_final(p.state)?;
    }
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| change(tx, &actor, now, &p).await)
        .await
}

/// The tasks `keys` (1 to 500 numbers or ids, given as `field`), to link.
pub async fn to_link<C: Process>(
    tx: &mut Tx<'_>,
    field: &str,
    keys: &[String],
) -> AppResult<Vec<Record<C>>> {
    if keys.is_empty() || keys.len() > 500 {
        let message = format!("give 1 to 500 {}s", C::State::NOUN);
        return Err(AppError::field(field, "out_of_range", message));
    }
    task::find_all::<C>(tx, field, keys).await
}

/// Unlinks the task `child` from the task `key`, noted in the child's journal.
pub async fn unlink<P: Process, C: Process>(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    links: Links,
    child: &str,
) -> AppResult<()> {
    let child = child.to_owned();
    change::<P, _>(core, ctx, key, async move |tx, actor, now, p| {
        let c = task::find::<C>(tx, &child).await?;
        if !links.unlink(tx, p.id, c.id).await? {
            return Err(AppError::NotFound);
        }
        let note = format!("↛ {}", p.number);
        task::add_note(tx, actor, c.id, JournalKind::WorkNote, &note, now).await
    })
    .await
}

/// The tasks linked to `parent`, in the order they were linked (the caller has checked the
/// reader may see the parent).
pub async fn children<C: Process>(
    core: &Core,
    links: Links,
    parent: TaskId,
) -> AppResult<Vec<Record<C>>> {
    Ok(core
        .store
        .read(async move |tx| links.children(tx, parent).await)
        .await?)
}

/// The task `child` is linked to, as (number, short description), for agents.
pub async fn parent_of(
    core: &Core,
    ctx: &Ctx,
    links: Links,
    child: TaskId,
) -> AppResult<Option<(String, String)>> {
    if !task::is_staff(ctx) {
        return Ok(None);
    }
    let of = core
        .store
        .read(async move |tx| links.parent_of(tx, child).await)
        .await?;
    Ok(of.map(|(_, number, text)| (number, text)))
}
