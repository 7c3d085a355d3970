//! The service portfolio: the lifecycle stage of a service, the portfolio status it implies,
//! and which moves between stages are allowed.

use crate::values::{InvalidValue, code_enum};
use serde::{Deserialize, Serialize};
use std::fmt;

code_enum!(
    /// Where a service is in its life, from the first idea to its retirement.
    Stage {
        Define = "define",
        Analyse = "analyse",
        Approve = "approve",
        Charter = "charter",
        Design = "design",
        Transition = "transition",
        Operational = "operational",
        Retired = "retired",
    }
);

code_enum!(
    /// The part of the portfolio a service is in: the pipeline (being defined, approved,
    /// designed or built), the catalogue (live) or retired.
    PortfolioStatus { Pipeline = "pipeline", Catalogue = "catalogue", Retired = "retired" }
);

impl Stage {
    /// The portfolio status this stage belongs to.
    pub fn status(self) -> PortfolioStatus {
        match self {
            Stage::Operational => PortfolioStatus::Catalogue,
            Stage::Retired => PortfolioStatus::Retired,
            _ => PortfolioStatus::Pipeline,
        }
    }

    /// The stages of a portfolio status, in lifecycle order.
    pub fn of_status(status: PortfolioStatus) -> Vec<Stage> {
        Stage::ALL
            .iter()
            .copied()
            .filter(|s| s.status() == status)
            .collect()
    }

    fn index(self) -> usize {
        Stage::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }

    /// The next stage forward, if any.
    pub fn next(self) -> Option<Stage> {
        Stage::ALL.get(self.index() + 1).copied()
    }

    /// The stage before, if any.
    pub fn previous(self) -> Option<Stage> {
        self.index()
            .checked_sub(1)
            .and_then(|i| Stage::ALL.get(i))
            .copied()
    }

    /// The stages a service may move to from this one, the usual one first: one step forward,
    /// one step back (for rework, while in the pipeline) and retirement from any stage but
    /// retired.
    pub fn moves(self) -> Vec<Stage> {
        let mut out = Vec::new();
        if let Some(next) = self.next() {
            out.push(next);
        }
        if let Some(prev) = self.previous() {
            if self.status() == PortfolioStatus::Pipeline {
                out.push(prev);
            }
        }
        if self != Stage::Retired && !out.contains(&Stage::Retired) {
            out.push(Stage::Retired);
        }
        out
    }

    /// Checks a move from `self` to `to`.
    pub fn check_move(self, to: Stage) -> Result<Move, InvalidValue> {
        if self == to {
            return Err(InvalidValue::new(
                "same_stage",
                format!("the service is already in stage {to}"),
            ));
        }
        if !self.moves().contains(&to) {
            let allowed: Vec<&str> = self.moves().iter().map(|s| s.code()).collect();
            return Err(InvalidValue::new(
                "invalid_transition",
                format!(
                    "cannot move from {self} to {to}; allowed: {}",
                    allowed.join(", ")
                ),
            ));
        }
        Ok(Move {
            from: self,
            to,
            needs_portfolio_decision: self == Stage::Approve && to == Stage::Charter,
        })
    }
}

/// An allowed move between two stages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Move {
    pub from: Stage,
    pub to: Stage,
    /// Moving past *approve* is a portfolio decision: only a portfolio manager may make it.
    pub needs_portfolio_decision: bool,
}

/// Business criticality of a service: 1 (most critical) to 4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Criticality(u8);

impl Criticality {
    pub fn parse(v: i64) -> Result<Self, InvalidValue> {
        match u8::try_from(v) {
            Ok(n @ 1..=4) => Ok(Self(n)),
            _ => Err(InvalidValue::new(
                "out_of_range",
                "must be between 1 (most critical) and 4",
            )),
        }
    }
    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

impl Default for Criticality {
    fn default() -> Self {
        Self(3)
    }
}

impl fmt::Display for Criticality {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

code_enum!(
    /// The state of a project in the project portfolio.
    ProjectStatus {
        Proposed = "proposed",
        Approved = "approved",
        InProgress = "in_progress",
        OnHold = "on_hold",
        Completed = "completed",
        Canceled = "canceled",
    }
);

code_enum!(
    /// The state of an application in the application portfolio.
    AppStatus {
        Planned = "planned",
        InDevelopment = "in_development",
        Production = "production",
        Sunset = "sunset",
        Retired = "retired",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_map_to_portfolio_status() {
        assert_eq!(
            Stage::of_status(PortfolioStatus::Pipeline),
            vec![
                Stage::Define,
                Stage::Analyse,
                Stage::Approve,
                Stage::Charter,
                Stage::Design,
                Stage::Transition
            ]
        );
        assert_eq!(
            Stage::of_status(PortfolioStatus::Catalogue),
            vec![Stage::Operational]
        );
        assert_eq!(Stage::Retired.status(), PortfolioStatus::Retired);
    }

    #[test]
    fn the_whole_walk_is_allowed_and_only_approve_needs_a_decision() -> Result<(), InvalidValue> {
        let mut s = Stage::Define;
        let mut decisions = 0;
        while let Some(next) = s.next() {
            let m = s.check_move(next)?;
            assert_eq!(m.to, next, "{s} -> {next}");
            decisions += usize::from(m.needs_portfolio_decision);
            s = next;
        }
        assert_eq!(s, Stage::Retired);
        assert_eq!(decisions, 1);
        Ok(())
    }

    #[test]
    fn skipping_and_leaving_retired_are_refused() {
        assert_eq!(
            Stage::Define.check_move(Stage::Approve).map_err(|e| e.code),
            Err("invalid_transition")
        );
        assert_eq!(
            Stage::Retired
                .check_move(Stage::Operational)
                .map_err(|e| e.code),
            Err("invalid_transition")
        );
        assert_eq!(
            Stage::Operational
                .check_move(Stage::Transition)
                .map_err(|e| e.code),
            Err("invalid_transition")
        );
        assert_eq!(
            Stage::Design.check_move(Stage::Design).map_err(|e| e.code),
            Err("same_stage")
        );
        assert!(Stage::Design.check_move(Stage::Charter).is_ok());
        assert!(Stage::Analyse.check_move(Stage::Retired).is_ok());
    }

    #[test]
    fn criticality_is_one_to_four() {
        assert!(Criticality::parse(0).is_err());
        assert!(Criticality::parse(5).is_err());
        assert_eq!(Criticality::parse(1).map(Criticality::get), Ok(1));
    }
}
