//! Incident management's states (ServiceNow's model: new, in progress ⇄ on hold, resolved,
//! closed, and canceled) and why an incident waits.

use crate::task::StateModel;
use crate::values::{InvalidValue, code_enum};
use serde::{Deserialize, Serialize};
use std::fmt;

code_enum!(
    /// The state of an incident.
    IncidentState {
        New = "new",
        InProgress = "in_progress",
        OnHold = "on_hold",
        Resolved = "resolved",
        Closed = "closed",
        Canceled = "canceled",
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

impl StateModel for IncidentState {
    const NOUN: &'static str = "incident";

    fn all() -> &'static [Self] {
        Self::ALL
    }
    fn code(self) -> &'static str {
        IncidentState::code(self)
    }
    fn parse_code(text: &str) -> Result<Self, InvalidValue> {
        Self::parse(text)
    }

    fn next(self) -> &'static [IncidentState] {
        use IncidentState::*;
        match self {
            New => &[InProgress, OnHold, Resolved, Canceled],
            InProgress => &[OnHold, Resolved, Canceled],
            OnHold => &[InProgress, Resolved, Canceled],
            // A rejected resolution goes back to work; an accepted one (or the timer) closes.
            Resolved => &[InProgress, Closed],
            Closed | Canceled => &[],
        }
    }

    /// New, in progress or on hold.
    fn is_open(self) -> bool {
        matches!(
            self,
            IncidentState::New | IncidentState::InProgress | IncidentState::OnHold
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
