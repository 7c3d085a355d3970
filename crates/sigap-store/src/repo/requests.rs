//! Request fulfilment on the task core: a request (an order), its requested items (its
//! child tasks, each with the catalogue item's form and answers as ordered, its approval
//! and plan) and their catalogue tasks (each item's child tasks, run by order).

use super::list::Val;
use super::task::{self, ExtCondition, Record, RecordFields};
use crate::error::StoreResult;
use crate::tx::Tx;
use jiff::Timestamp;
use sigap_domain::CatalogItemId;
use sigap_domain::TaskId;
use sigap_domain::process::request::{CatalogTaskState, RequestItemState, RequestState};
use sigap_domain::task::TaskKind;

task::extension!(
    /// A request's own fields.
    RequestExt: RequestState, TaskKind::Request, "request" {
        /// The one-off price of its items, in the currency's smallest unit.
        price: i64,
        /// When its last item is expected.
        due_at: Option<Timestamp>,
    }
);

task::extension!(
    /// A requested item's own fields: what was ordered, as it was ordered.
    RequestItemExt: RequestItemState, TaskKind::RequestItem, "request_item" {
        item_id: CatalogItemId,
        /// ordinary, information, complaint or compliment.
        item_kind: String,
        quantity: i64,
        price: i64,
        recurring_price: i64,
        /// The item's form when ordered (JSON).
        form: String,
        /// The answers (JSON).
        answers: String,
        /// The names of the records the answers name, by variable (JSON).
        shown: String,
        /// The item's approval stages when ordered (JSON).
        approval_rule: String,
        /// not_required, requested, approved or rejected.
        approval: String,
        /// The stage being asked (from 0).
        stage: i64,
        delivery_hours: Option<i64>,
        due_at: Option<Timestamp>,
        /// The item's fulfilment plan when ordered (JSON).
        plan: String,
    }
);

task::extension!(
    /// A catalogue task's own fields: its place in the item's plan.
    CatalogTaskExt: CatalogTaskState, TaskKind::FulfilmentTask, "catalog_task" {
        ord: i64,
    }
);

pub type Request = Record<RequestExt>;
pub type RequestFields = RecordFields<RequestExt>;
pub type RequestItem = Record<RequestItemExt>;
pub type RequestItemFields = RecordFields<RequestItemExt>;
pub type CatalogTask = Record<CatalogTaskExt>;
pub type CatalogTaskFields = RecordFields<CatalogTaskExt>;

/// Requested items of one catalogue item.
pub fn of_item(item: CatalogItemId) -> ExtCondition {
    ExtCondition::new("x.item_id = {}", Val::Uuid(item.as_uuid()))
}

/// The child tasks of E's kind of a task (a request's items, an item's tasks), oldest
/// first.
pub async fn children<E: task::Extension>(
    tx: &mut Tx<'_>,
    parent: TaskId,
) -> StoreResult<Vec<Record<E>>> {
    let sql = format!(
        "{} WHERE t.parent_id = $1 AND t.kind = $2 ORDER BY t.opened_at, t.id",
        task::select::<E>()
    );
    tx.query(&sql, &[parent.into(), E::KIND.code().into()])
        .await?
        .iter()
        .map(task::from_row::<E>)
        .collect()
}
