//! Incident management's states (ServiceNow's model: new, in progress ⇄ on hold, resolved,
//! closed, and canceled) and why an incident waits.

use crate::task::state_model;
use crate::values::{InvalidValue, code_enum};
use serde::{Deserialize, Serialize};
use std::fmt;

state_model!(
    /// The state of an incident.
    IncidentState: "incident",
    open = [New, InProgress, OnHold],
    {
        New = "new" => [InProgress, OnHold, Resolved, Canceled],
        InProgress = "in_progress" => [OnHold, Resolved, Canceled],
        OnHold = "on_hold" => [InProgress, Resolved, Canceled],
        // A rejected resolution goes back to work; an accepted one (or the timer) closes.
        Resolved = "resolved" => [InProgress, Closed],
        Closed = "closed" => [],
        Canceled = "canceled" => [],
    }
);

code_enum!(
    /// Why an incident waits.
    HoldReason {
        AwaitingCaller = "awaiting_caller",
        AwaitingVendor = "awaiting_vendor",
        AwaitingProblem = "awaiting_problem",
        AwaitingChange = "awaiting_change",
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::StateModel;
    use proptest::prelude::*;

    #[test]
    fn the_model_is_sound() {
        assert_eq!(crate::task::check_model::<IncidentState>(), Ok(()));
        assert_eq!(IncidentState::initial(), IncidentState::New);
    }

    fn state() -> impl Strategy<Value = IncidentState> {
        prop::sample::select(IncidentState::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn final_states_never_move(from in state(), to in state()) {
            if from.is_final() {
                prop_assert!(from.check(to).is_err());
            }
            // Nothing moves to New, and nothing moves to where it is.
            if to == IncidentState::New || to == from {
                prop_assert!(from.check(to).is_err());
            }
        }

        #[test]
        fn refusals_list_the_allowed_states(from in state(), to in state()) {
            if let Err(e) = from.check(to) {
                for s in from.next() {
                    prop_assert!(e.message.contains(s.code()));
                }
            }
        }
    }
}
