//! Request fulfilment's states: a request (what was ordered together), each requested item
//! (one catalogue item as ordered, through its stages: approval, fulfilment, completion) and
//! each catalogue task (one step of an item's fulfilment plan); and the kinds of item.

use crate::task::state_model;
use crate::values::{InvalidValue, code_enum};
use serde::{Deserialize, Serialize};
use std::fmt;

state_model!(
    /// The state of a request. It closes on its own once its items are closed: complete
    /// when every item is, incomplete when any was rejected or canceled, canceled when all
    /// were.
    RequestState: "request",
    open = [Open, InProgress],
    {
        Open = "open" => [InProgress, ClosedComplete, ClosedIncomplete, Canceled],
        InProgress = "in_progress" => [ClosedComplete, ClosedIncomplete, Canceled],
        ClosedComplete = "closed_complete" => [],
        ClosedIncomplete = "closed_incomplete" => [],
        Canceled = "canceled" => [],
    }
);

state_model!(
    /// The stage of a requested item: its approvals, then its fulfilment tasks, then done.
    /// A rejection ends it; its requester may cancel it until it is fulfilled.
    RequestItemState: "requested item",
    open = [WaitingForApproval, Approved, Fulfilment],
    {
        WaitingForApproval = "waiting_for_approval" => [Approved, Rejected, Canceled],
        // Approved (or nothing to approve): its first tasks are made.
        Approved = "approved" => [Fulfilment, Complete, Canceled],
        Fulfilment = "fulfilment" => [Complete, Canceled],
        Complete = "complete" => [],
        Rejected = "rejected" => [],
        Canceled = "canceled" => [],
    }
);

state_model!(
    /// The state of a task of a plan: a catalogue task of a requested item, or a change
    /// task of a change. Pending until the tasks of the orders before it are done (and its
    /// change is being implemented); skipped when its item or change ends without it.
    CatalogTaskState: "task",
    open = [Open, InProgress],
    {
        Pending = "pending" => [Open, Skipped],
        Open = "open" => [InProgress, ClosedComplete, ClosedIncomplete, Skipped],
        InProgress = "in_progress" => [ClosedComplete, ClosedIncomplete, Skipped],
        ClosedComplete = "closed_complete" => [],
        ClosedIncomplete = "closed_incomplete" => [],
        Skipped = "skipped" => [],
    }
);

code_enum!(
    /// What a catalogue item is: something to order, or a customer interaction recorded
    /// for the customer-relationship process (a request for information, a complaint, a
    /// compliment).
    ItemKind {
        Ordinary = "ordinary",
        Information = "information",
        Complaint = "complaint",
        Compliment = "compliment",
    }
);

impl RequestState {
    /// How a request ends once none of its items is open: `None` while one is.
    pub fn settled(items: &[RequestItemState]) -> Option<RequestState> {
        use crate::task::StateModel;
        use RequestItemState as I;
        if items.is_empty() || items.iter().any(|i| !i.is_final()) {
            return None;
        }
        Some(if items.iter().all(|i| *i == I::Complete) {
            RequestState::ClosedComplete
        } else if items.iter().all(|i| *i == I::Canceled) {
            RequestState::Canceled
        } else {
            RequestState::ClosedIncomplete
        })
    }
}

impl CatalogTaskState {
    /// Done: its item's next tasks may start.
    pub fn is_done(self) -> bool {
        matches!(
            self,
            CatalogTaskState::ClosedComplete
                | CatalogTaskState::ClosedIncomplete
                | CatalogTaskState::Skipped
        )
    }
}

/// The tasks of a fulfilment plan to open now, by their orders and states: those pending of
/// the lowest order not yet done, once every task of the orders before it is done.
pub fn tasks_to_open(tasks: &[(i64, CatalogTaskState)]) -> Vec<usize> {
    let Some(current) = tasks
        .iter()
        .filter(|(_, s)| !s.is_done())
        .map(|(o, _)| *o)
        .min()
    else {
        return Vec::new();
    };
    tasks
        .iter()
        .enumerate()
        .filter(|(_, (o, s))| *o == current && *s == CatalogTaskState::Pending)
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::{StateModel, check_model};
    use CatalogTaskState as T;
    use RequestItemState as I;
    use proptest::prelude::*;

    #[test]
    fn the_models_are_sound() {
        assert_eq!(check_model::<RequestState>(), Ok(()));
        assert_eq!(check_model::<RequestItemState>(), Ok(()));
        assert_eq!(check_model::<CatalogTaskState>(), Ok(()));
        assert_eq!(RequestItemState::initial(), I::WaitingForApproval);
        assert_eq!(CatalogTaskState::initial(), T::Pending);
        let e = I::WaitingForApproval
            .check(I::Fulfilment)
            .err()
            .map(|e| e.message);
        assert_eq!(
            e.as_deref(),
            Some(
                "cannot move from waiting_for_approval to fulfilment; allowed: approved, rejected, canceled"
            )
        );
    }

    #[test]
    fn a_request_closes_by_its_items() {
        use RequestState as R;
        assert_eq!(R::settled(&[I::Complete, I::Fulfilment]), None);
        assert_eq!(R::settled(&[]), None);
        assert_eq!(
            R::settled(&[I::Complete, I::Complete]),
            Some(R::ClosedComplete)
        );
        assert_eq!(
            R::settled(&[I::Complete, I::Rejected]),
            Some(R::ClosedIncomplete)
        );
        assert_eq!(R::settled(&[I::Canceled, I::Canceled]), Some(R::Canceled));
    }

    #[test]
    fn tasks_run_by_order_the_same_order_in_parallel() {
        // Two at order 10, one at order 20.
        let mut plan = vec![(10, T::Pending), (10, T::Pending), (20, T::Pending)];
        assert_eq!(tasks_to_open(&plan), [0, 1]);
        plan[0].1 = T::Open;
        plan[1].1 = T::Open;
        assert_eq!(tasks_to_open(&plan), Vec::<usize>::new(), "both still open");
        plan[0].1 = T::ClosedComplete;
        assert_eq!(tasks_to_open(&plan), Vec::<usize>::new(), "one still open");
        plan[1].1 = T::ClosedComplete;
        assert_eq!(tasks_to_open(&plan), [2]);
        plan[2].1 = T::ClosedComplete;
        assert_eq!(tasks_to_open(&plan), Vec::<usize>::new(), "all done");
    }

    fn task_state() -> impl Strategy<Value = CatalogTaskState> {
        prop::sample::select(CatalogTaskState::ALL.to_vec())
    }

    proptest! {
        /// A task opens only when every task of an earlier order is done, and never twice.
        #[test]
        fn no_task_opens_before_the_earlier_orders_are_done(
            plan in prop::collection::vec((0i64..4, task_state()), 0..8)
        ) {
            for i in tasks_to_open(&plan) {
                let (order, state) = plan[i];
                prop_assert_eq!(state, T::Pending);
                prop_assert!(plan.iter().filter(|(o, _)| *o < order).all(|(_, s)| s.is_done()));
            }
        }
    }
}
