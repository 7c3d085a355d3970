//! Problem management's states (ServiceNow's best-practice model): new, assess, root cause
//! analysis, fix in progress, resolved, closed, and canceled; and how a problem is resolved.

use crate::task::StateModel;
use crate::values::{InvalidValue, code_enum};
use serde::{Deserialize, Serialize};
use std::fmt;

code_enum!(
    /// The state of a problem.
    ProblemState {
        New = "new",
        Assess = "assess",
        RootCauseAnalysis = "root_cause_analysis",
        FixInProgress = "fix_in_progress",
        Resolved = "resolved",
        Closed = "closed",
        Canceled = "canceled",
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

code_enum!(
    /// What the trends of incidents no problem explains are grouped by.
    TrendBy {
        Service = "service",
        Ci = "ci",
        Category = "category",
    }
);

impl StateModel for ProblemState {
    const NOUN: &'static str = "problem";

    fn all() -> &'static [Self] {
        Self::ALL
    }
    fn code(self) -> &'static str {
        ProblemState::code(self)
    }
    fn parse_code(text: &str) -> Result<Self, InvalidValue> {
        Self::parse(text)
    }

    fn next(self) -> &'static [ProblemState] {
        use ProblemState::*;
        match self {
            New => &[Assess, Canceled],
            // Confirmed: analysed; or settled at once (a duplicate, the risk accepted).
            Assess => &[RootCauseAnalysis, Resolved, Canceled],
            RootCauseAnalysis => &[FixInProgress, Resolved, Canceled],
            // A fix that does not hold sends it back to analysis.
            FixInProgress => &[RootCauseAnalysis, Resolved, Canceled],
            // Re-analysed when the fix did not help; closed once confirmed.
            Resolved => &[RootCauseAnalysis, Closed],
            Closed | Canceled => &[],
        }
    }

    /// New, assessed, analysed or being fixed.
    fn is_open(self) -> bool {
        use ProblemState::*;
        matches!(self, New | Assess | RootCauseAnalysis | FixInProgress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
