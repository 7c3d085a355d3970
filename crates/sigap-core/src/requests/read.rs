//! Reading requests, requested items (with their answers as ordered and their approvals)
//! and catalogue tasks, and their lists.

use super::order::answer_text;
use super::*;

// ----- reading -----

/// A request with its items and its journal.
#[derive(Debug, Clone)]
pub struct RequestDetail {
    pub request: Request,
    pub items: Vec<RequestItem>,
    pub journal: Vec<JournalEntry>,
}

pub async fn request(core: &Core, ctx: &Ctx, key: &str) -> AppResult<RequestDetail> {
    let (r, journal): (Request, _) = core_task::with_journal(core, ctx, key).await?;
    let id = r.id;
    let items = core
        .store
        .read(async move |tx| repo::children::<RequestItemExt>(tx, id).await)
        .await?;
    Ok(RequestDetail {
        request: r,
        items,
        journal,
    })
}

/// A requested item with its form and answers as ordered, its approvals, its tasks and its
/// journal.
#[derive(Debug, Clone)]
pub struct ItemDetail {
    pub item: RequestItem,
    pub form: Form,
    pub answers: Answers,
    /// The names of the records the answers name, by variable.
    pub shown: BTreeMap<String, String>,
    pub approvals: Vec<Approval>,
    pub tasks: Vec<CatalogTask>,
    pub journal: Vec<JournalEntry>,
}

impl ItemDetail {
    /// The answer to a variable as people read it (a record by its name), if it was asked.
    pub fn answer(&self, name: &str) -> Option<String> {
        let a = self.answers.get(name)?;
        Some(
            self.shown
                .get(name)
                .cloned()
                .unwrap_or_else(|| answer_text(a)),
        )
    }
}

fn detail_of(
    item: RequestItem,
    approvals: Vec<Approval>,
    tasks: Vec<CatalogTask>,
    journal: Vec<JournalEntry>,
) -> AppResult<ItemDetail> {
    let bad =
        |e: serde_json::Error| AppError::Internal(format!("{}: stored form: {e}", item.number));
    Ok(ItemDetail {
        form: serde_json::from_str(&item.ext.form).map_err(bad)?,
        answers: serde_json::from_str(&item.ext.answers).map_err(bad)?,
        shown: serde_json::from_str(&item.ext.shown).map_err(bad)?,
        item,
        approvals,
        tasks,
        journal,
    })
}

pub async fn item(core: &Core, ctx: &Ctx, key: &str) -> AppResult<ItemDetail> {
    let (item, journal): (RequestItem, _) = core_task::with_journal(core, ctx, key).await?;
    let id = item.id;
    let (approvals, tasks) = core
        .store
        .read(async move |tx| {
            let a = approvals::of_task(tx, id).await?;
            let t = repo::children::<CatalogTaskExt>(tx, id).await?;
            Ok::<_, AppError>((a, t))
        })
        .await?;
    detail_of(item, approvals, tasks, journal)
}

/// An approval with the item it decides, for its approver: what was ordered, for whom, the
/// answers, and every approval of the item.
pub async fn for_approver(
    core: &Core,
    ctx: &Ctx,
    approval: &str,
) -> AppResult<(Approval, ItemDetail)> {
    let a = approvals::get(core, ctx, approval).await?;
    let task = a.task_id;
    let (item, all) = core
        .store
        .read(async move |tx| {
            let item: RequestItem = match sigap_store::task::get(tx, task).await {
                Ok(i) => i,
                Err(sigap_store::StoreError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            };
            Ok((item, approvals::of_task(tx, task).await?))
        })
        .await?;
    Ok((a, detail_of(item, all, Vec::new(), Vec::new())?))
}

/// A catalogue task with its item and journal (the desk).
#[derive(Debug, Clone)]
pub struct TaskDetail {
    pub task: CatalogTask,
    pub item: Option<ItemDetail>,
    pub journal: Vec<JournalEntry>,
}

pub async fn catalog_task(core: &Core, ctx: &Ctx, key: &str) -> AppResult<TaskDetail> {
    let (t, journal): (CatalogTask, _) = core_task::with_journal(core, ctx, key).await?;
    let item = match &t.parent {
        Some(p) => Some(item(core, ctx, &p.id.to_string()).await?),
        None => None,
    };
    Ok(TaskDetail {
        task: t,
        item,
        journal,
    })
}

pub async fn list_requests(
    core: &Core,
    ctx: &Ctx,
    query: TaskQuery,
    params: &ListParams,
) -> AppResult<Listed<Request>> {
    core_task::list(core, ctx, query, Vec::new(), params, "-opened_at").await
}

pub async fn list_items(
    core: &Core,
    ctx: &Ctx,
    query: TaskQuery,
    params: &ListParams,
) -> AppResult<Listed<RequestItem>> {
    core_task::list(core, ctx, query, Vec::new(), params, "-opened_at").await
}

pub async fn list_tasks(
    core: &Core,
    ctx: &Ctx,
    query: TaskQuery,
    params: &ListParams,
) -> AppResult<Listed<CatalogTask>> {
    core_task::list(core, ctx, query, Vec::new(), params, "-opened_at").await
}

/// A price for people: `12.50`.
pub fn price_text(cents: i64) -> String {
    Price::from_cents(cents)
        .map(|p| p.to_string())
        .unwrap_or_default()
}
