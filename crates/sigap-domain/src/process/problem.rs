//! Problem management's states (ServiceNow's best-practice model): new, assess, root cause
//! analysis, fix in progress, resolved, closed, and canceled; and how a problem is resolved.

use crate::task::state_model;
use crate::values::{InvalidValue, code_enum};
use serde::{Deserialize, Serialize};
use std::fmt;

state_model!(
    /// The state of a problem.
    ProblemState: "problem",
    open = [New, Assess, RootCauseAnalysis, FixInProgress],
    {
        New = "new" => [Assess, Canceled],
        // Confirmed: analysed; or settled at once (a duplicate, the risk accepted).
        Assess = "assess" => [RootCauseAnalysis, Resolved, Canceled],
        RootCauseAnalysis = "root_cause_analysis" => [FixInProgress, Resolved, Canceled],
        // A fix that does not hold sends it back to analysis.
        FixInProgress = "fix_in_progress" => [RootCauseAnalysis, Resolved, Canceled],
        // Re-analysed when the fix did not help; closed once confirmed.
        Resolved = "resolved" => [RootCauseAnalysis, Closed],
        Closed = "closed" => [],
        Canceled = "canceled" => [],
    }
);

code_enum!(
    /// How a problem was resolved: the fix applied, the risk accepted (no fix will come), or a
    /// duplicate of another problem.
    ProblemResolution {
        FixApplied = "fix_applied",
        RiskAccepted = "risk_accepted",
        Duplicate = "duplicate",
    }
);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::StateModel;

    #[test]
    fn the_model_is_sound() {
        assert_eq!(crate::task::check_model::<ProblemState>(), Ok(()));
        assert_eq!(ProblemState::initial(), ProblemState::New);
        assert!(ProblemState::Closed.is_final() && ProblemState::Canceled.is_final());
        assert!(!ProblemState::Resolved.is_open() && !ProblemState::Resolved.is_final());
    }

    #[test]
    fn a_refused_move_names_the_allowed_ones() {
        let e = ProblemState::New.check(ProblemState::Resolved).err();
        assert_eq!(
            e.map(|e| e.message),
            Some("cannot move from new to resolved; allowed: assess, canceled".to_owned())
        );
        let e = ProblemState::Closed.check(ProblemState::New).err();
        assert_eq!(
            e.map(|e| e.message),
            Some("this problem is closed and cannot change state".to_owned())
        );
    }
}
