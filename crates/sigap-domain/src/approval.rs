//! Approvals, one mechanism for every process that asks for them (requested items now;
//! changes, access requests and knowledge reviews next): a rule of stages asked one after
//! the other, each stage's approvers (the requested-for person's manager, named people, or a
//! group) and whether any or all of them must approve, the decisions that settle a stage,
//! and delegation while an approver is away.

use crate::ids::{GroupId, PersonId};
use crate::values::{InvalidValue, code_enum};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

code_enum!(
    /// Where one approver's approval stands: not yet asked (a later stage), asked, decided,
    /// or no longer wanted (the stage or the task settled without it).
    ApprovalState {
        NotYet = "not_yet",
        Requested = "requested",
        Approved = "approved",
        Rejected = "rejected",
        NotRequired = "not_required",
    }
);

code_enum!(
    /// How many of a stage's approvers must approve: the first decision settles a stage of
    /// `any`; a stage of `all` needs every approval, and one rejection rejects it.
    Need { Any = "any", All = "all" }
);

/// Who approves one stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "approvers", rename_all = "snake_case")]
pub enum Stage {
    /// The manager of the person the task is for.
    Manager,
    /// The manager of the task's assignment group.
    GroupManager,
    /// Named people.
    People { people: Vec<PersonId>, need: Need },
    /// The members of a group when the stage is asked.
    Group { group: GroupId, need: Need },
}

impl Stage {
    /// How many must approve (one manager is `any`).
    pub fn need(&self) -> Need {
        match self {
            Stage::Manager | Stage::GroupManager => Need::Any,
            Stage::People { need, .. } | Stage::Group { need, .. } => *need,
        }
    }
}

/// The most stages a rule chains, and the most people a stage names.
pub const MAX_STAGES: usize = 5;
pub const MAX_PEOPLE: usize = 50;

/// An approval rule: stages asked one after the other; none means no approval is needed.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Rule(Vec<Stage>);

impl Rule {
    pub fn new(stages: Vec<Stage>) -> Result<Rule, InvalidValue> {
        if stages.len() > MAX_STAGES {
            let message = format!("at most {MAX_STAGES} stages");
            return Err(InvalidValue::new("too_many", message));
        }
        for s in &stages {
            if let Stage::People { people, .. } = s {
                if people.is_empty() || people.len() > MAX_PEOPLE {
                    let message = format!("a stage names 1 to {MAX_PEOPLE} people");
                    return Err(InvalidValue::new("out_of_range", message));
                }
                if people
                    .iter()
                    .enumerate()
                    .any(|(i, p)| people[..i].contains(p))
                {
                    return Err(InvalidValue::new("duplicate", "a person is named twice"));
                }
            }
        }
        Ok(Rule(stages))
    }

    /// No approval needed.
    pub fn none() -> Rule {
        Rule(Vec::new())
    }

    pub fn stages(&self) -> &[Stage] {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Rule::new(Vec::<Stage>::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Where a stage, or a whole rule, stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Pending,
    Approved,
    Rejected,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Outcome::Pending => "pending",
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
        })
    }
}

/// A stage's outcome from its approvers' states, in the order they decided. A stage asked
/// of nobody (no manager, an empty group) is rejected: nothing is approved by default.
pub fn stage_outcome(need: Need, decided: &[ApprovalState]) -> Outcome {
    let asked = decided
        .iter()
        .filter(|s| **s != ApprovalState::NotRequired)
        .count();
    if asked == 0 {
        return Outcome::Rejected;
    }
    let first = decided
        .iter()
        .find(|s| matches!(s, ApprovalState::Approved | ApprovalState::Rejected));
    let approved = decided
        .iter()
        .filter(|s| **s == ApprovalState::Approved)
        .count();
    match need {
        Need::Any => match first {
            Some(ApprovalState::Approved) => Outcome::Approved,
            Some(_) => Outcome::Rejected,
            None => Outcome::Pending,
        },
        Need::All if decided.contains(&ApprovalState::Rejected) => Outcome::Rejected,
        Need::All if approved == asked => Outcome::Approved,
        Need::All => Outcome::Pending,
    }
}

/// A rule's outcome from its stages' outcomes so far (a stage not yet asked is pending):
/// approved once every stage is, rejected as soon as one is.
pub fn rule_outcome(stages: &[Outcome]) -> Outcome {
    if stages.contains(&Outcome::Rejected) {
        Outcome::Rejected
    } else if stages.iter().all(|s| *s == Outcome::Approved) {
        Outcome::Approved
    } else {
        Outcome::Pending
    }
}

/// An approver away: `to` decides for `from` from `starts` until `ends`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delegation {
    pub from: PersonId,
    pub to: PersonId,
    pub starts: Timestamp,
    pub ends: Timestamp,
}

impl Delegation {
    pub fn new(
        from: PersonId,
        to: PersonId,
        starts: Timestamp,
        ends: Timestamp,
    ) -> Result<Delegation, InvalidValue> {
        if from == to {
            return Err(InvalidValue::new("invalid", "cannot delegate to oneself"));
        }
        if ends <= starts {
            return Err(InvalidValue::new(
                "before_start",
                "the period ends before it starts",
            ));
        }
        Ok(Delegation {
            from,
            to,
            starts,
            ends,
        })
    }

    /// Whether `who` may decide for `approver` at `at` through this delegation.
    pub fn covers(&self, approver: PersonId, who: PersonId, at: Timestamp) -> bool {
        self.from == approver && self.to == who && self.starts <= at && at < self.ends
    }
}

/// Whether `who` may decide an approval asked of `approver` at `at`: the approver, or
/// someone they delegated to for that moment (one step: a delegate's delegate may not).
pub fn may_decide(
    approver: PersonId,
    who: PersonId,
    at: Timestamp,
    delegations: &[Delegation],
) -> bool {
    who == approver || delegations.iter().any(|d| d.covers(approver, who, at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ApprovalState::{Approved as A, NotRequired as N, Rejected as R, Requested as Q};
    use proptest::prelude::*;

    type T = Result<(), Box<dyn std::error::Error>>;

    #[test]
    fn any_is_settled_by_the_first_decision() {
        assert_eq!(stage_outcome(Need::Any, &[Q, Q]), Outcome::Pending);
        assert_eq!(stage_outcome(Need::Any, &[Q, A]), Outcome::Approved);
        assert_eq!(stage_outcome(Need::Any, &[R, A]), Outcome::Rejected);
        assert_eq!(stage_outcome(Need::Any, &[A, R]), Outcome::Approved);
    }

    #[test]
    fn all_needs_every_approval_and_one_rejection_rejects() {
        assert_eq!(stage_outcome(Need::All, &[A, Q]), Outcome::Pending);
        assert_eq!(stage_outcome(Need::All, &[A, A]), Outcome::Approved);
        assert_eq!(stage_outcome(Need::All, &[A, R, Q]), Outcome::Rejected);
        // Someone who left the group is no longer asked.
        assert_eq!(stage_outcome(Need::All, &[A, N]), Outcome::Approved);
    }

    #[test]
    fn nobody_to_ask_approves_nothing() {
        assert_eq!(stage_outcome(Need::Any, &[]), Outcome::Rejected);
        assert_eq!(stage_outcome(Need::All, &[N]), Outcome::Rejected);
    }

    #[test]
    fn a_rule_is_approved_only_when_every_stage_is() {
        use Outcome::*;
        assert_eq!(rule_outcome(&[]), Approved, "no stage: nothing to approve");
        assert_eq!(rule_outcome(&[Approved, Pending]), Pending);
        assert_eq!(rule_outcome(&[Approved, Rejected, Pending]), Rejected);
        assert_eq!(rule_outcome(&[Approved, Approved]), Approved);
    }

    #[test]
    fn rules_are_checked_and_read_from_json() -> T {
        let (a, b) = (PersonId::new(), PersonId::new());
        let text = format!(
            r#"[{{"approvers": "manager"}}, {{"approvers": "people", "people": ["{a}", "{b}"], "need": "all"}}]"#
        );
        let rule: Rule = serde_json::from_str(&text)?;
        assert_eq!(rule.stages().len(), 2);
        assert_eq!(rule.stages()[1].need(), Need::All);
        assert_eq!(
            serde_json::from_str::<Rule>(&serde_json::to_string(&rule)?)?,
            rule
        );
        let twice = Stage::People {
            people: vec![a, a],
            need: Need::Any,
        };
        assert_eq!(Rule::new(vec![twice]).map_err(|e| e.code), Err("duplicate"));
        let nobody = Stage::People {
            people: vec![],
            need: Need::Any,
        };
        assert_eq!(
            Rule::new(vec![nobody]).map_err(|e| e.code),
            Err("out_of_range")
        );
        assert_eq!(
            Rule::new(vec![Stage::Manager; 6]).map_err(|e| e.code),
            Err("too_many")
        );
        Ok(())
    }

    #[test]
    fn a_delegate_decides_only_within_the_period() -> T {
        let (boss, deputy, other) = (PersonId::new(), PersonId::new(), PersonId::new());
        let t = |s: &str| s.parse::<Timestamp>();
        let d = Delegation::new(
            boss,
            deputy,
            t("2026-12-01T00:00:00Z")?,
            t("2026-12-08T00:00:00Z")?,
        )?;
        let ds = [d];
        assert!(may_decide(boss, boss, t("2026-11-01T00:00:00Z")?, &ds));
        assert!(may_decide(boss, deputy, t("2026-12-02T09:00:00Z")?, &ds));
        assert!(
            !may_decide(boss, deputy, t("2026-12-08T00:00:00Z")?, &ds),
            "the end is not in it"
        );
        assert!(!may_decide(boss, other, t("2026-12-02T09:00:00Z")?, &ds));
        assert!(
            !may_decide(deputy, boss, t("2026-12-02T09:00:00Z")?, &ds),
            "not the other way"
        );
        let at = t("2026-12-01T00:00:00Z")?;
        assert_eq!(
            Delegation::new(boss, boss, at, at).map_err(|e| e.code),
            Err("invalid")
        );
        assert_eq!(
            Delegation::new(boss, deputy, at, at).map_err(|e| e.code),
            Err("before_start")
        );
        Ok(())
    }

    fn state() -> impl Strategy<Value = ApprovalState> {
        prop::sample::select(vec![Q, A, R, N])
    }

    proptest! {
        /// Nothing is approved without an approval, and a rejection under `all` always wins.
        #[test]
        fn approval_needs_an_approval(need in prop::sample::select(vec![Need::Any, Need::All]),
                                      decided in prop::collection::vec(state(), 0..6)) {
            let out = stage_outcome(need, &decided);
            if out == Outcome::Approved {
                prop_assert!(decided.contains(&A));
            }
            if need == Need::All && decided.contains(&R) {
                prop_assert_eq!(out, Outcome::Rejected);
            }
            if need == Need::All && out == Outcome::Approved {
                prop_assert!(decided.iter().all(|s| *s == A || *s == N));
            }
        }
    }
}
