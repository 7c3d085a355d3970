//! Change management's states (ServiceNow's model) and its three types: a normal change is
//! assessed, authorized, scheduled, implemented and reviewed; an emergency change skips the
//! assessment and is authorized by the emergency CAB alone; a standard change, made from a
//! pre-approved template, needs no authorization. Also: how a change ended, its risk from a
//! weighted questionnaire and the impact of its CIs, and the kinds of scheduling conflict.

use crate::task::{StateModel, state_model};
use crate::values::{InvalidValue, code_enum};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

state_model!(
    /// The state of a change, whatever its type; `ChangeType::check` narrows the moves to
    /// those of the type.
    ChangeState: "change",
    open = [New, Assess, Authorize, Scheduled, Implement, Review],
    {
        New = "new" => [Assess, Authorize, Scheduled, Canceled],
        // The technical assessment and the risk questions.
        Assess = "assess" => [Authorize, Canceled],
        // Waiting for the approvals; a rejected normal change goes back to assessment.
        Authorize = "authorize" => [Assess, Scheduled, Canceled],
        // Re-planning a normal change asks for its authorization again.
        Scheduled = "scheduled" => [Assess, Implement, Canceled],
        Implement = "implement" => [Review, Canceled],
        // The post-implementation review: a change under review is no longer canceled.
        Review = "review" => [Closed],
        Closed = "closed" => [],
        Canceled = "canceled" => [],
    }
);

code_enum!(
    /// The type of a change.
    ChangeType {
        Standard = "standard",
        Normal = "normal",
        Emergency = "emergency",
    }
);

code_enum!(
    /// How an implemented change turned out.
    ChangeOutcome {
        Successful = "successful",
        SuccessfulWithIssues = "successful_with_issues",
        Unsuccessful = "unsuccessful",
        BackedOut = "backed_out",
    }
);

code_enum!(
    /// Where a change's authorization stands: not asked yet, asked, approved, rejected, or
    /// not required (a standard change, pre-approved by its template).
    ChangeApproval {
        NotRequested = "not_requested",
        Requested = "requested",
        Approved = "approved",
        Rejected = "rejected",
        NotRequired = "not_required",
    }
);

code_enum!(
    /// A change's risk, lowest first.
    RiskLevel {
        Low = "low",
        Moderate = "moderate",
        High = "high",
        VeryHigh = "very_high",
    }
);

code_enum!(
    /// Why a change's window is in conflict: another change on one of its CIs, another
    /// change on a CI its CIs reach (or that reaches them), a blackout window, or outside
    /// its offering's maintenance window.
    ConflictKind {
        SameCi = "same_ci",
        Impact = "impact",
        Blackout = "blackout",
        Maintenance = "maintenance",
    }
);

// `code_enum!` takes no attribute on a variant, so the default is written out.
#[allow(clippy::derivable_impls)]
impl Default for ChangeType {
    fn default() -> Self {
        ChangeType::Normal
    }
}

// `code_enum!` takes no attribute on a variant, so the default is written out.
#[allow(clippy::derivable_impls)]
impl Default for ChangeApproval {
    fn default() -> Self {
        ChangeApproval::NotRequested
    }
}

// `code_enum!` takes no attribute on a variant, so the default is written out.
#[allow(clippy::derivable_impls)]
impl Default for RiskLevel {
    fn default() -> Self {
        RiskLevel::Low
    }
}

impl RiskLevel {
    fn rank(self) -> u8 {
        match self {
            RiskLevel::Low => 0,
            RiskLevel::Moderate => 1,
            RiskLevel::High => 2,
            RiskLevel::VeryHigh => 3,
        }
    }

    /// The higher of two levels.
    pub fn max(self, other: RiskLevel) -> RiskLevel {
        if other.rank() > self.rank() {
            other
        } else {
            self
        }
    }

    /// The least risk the impact of a change's CIs gives: a CI that reaches a service of
    /// criticality 1 makes a change at least high, of criticality 2 at least moderate;
    /// reaching the services of three or more customers with agreements adds one level.
    pub fn from_impact(most_critical: Option<u8>, customers: usize) -> RiskLevel {
        let by_service = match most_critical {
            Some(1) => RiskLevel::High,
            Some(2) => RiskLevel::Moderate,
            _ => RiskLevel::Low,
        };
        if customers >= 3 {
            by_service.raised()
        } else {
            by_service
        }
    }

    fn raised(self) -> RiskLevel {
        match self {
            RiskLevel::Low => RiskLevel::Moderate,
            RiskLevel::Moderate => RiskLevel::High,
            RiskLevel::High | RiskLevel::VeryHigh => RiskLevel::VeryHigh,
        }
    }
}

impl ChangeType {
    /// The states a change of this type passes through, in order (canceled aside).
    pub fn path(self) -> &'static [ChangeState] {
        use ChangeState::*;
        match self {
            ChangeType::Normal => &[New, Assess, Authorize, Scheduled, Implement, Review, Closed],
            ChangeType::Emergency => &[New, Authorize, Scheduled, Implement, Review, Closed],
            ChangeType::Standard => &[New, Scheduled, Implement, Review, Closed],
        }
    }

    /// The moves a change of this type may make from `from`.
    pub fn next(self, from: ChangeState) -> Vec<ChangeState> {
        from.next()
            .iter()
            .copied()
            .filter(|to| *to == ChangeState::Canceled || self.path().contains(to))
            .filter(|to| self.allows_step(from, *to))
            .collect()
    }

    fn allows_step(self, from: ChangeState, to: ChangeState) -> bool {
        use ChangeState::*;
        match (self, from, to) {
            (_, _, Canceled) => true,
            // A normal change is assessed before it is authorized or scheduled.
            (ChangeType::Normal, New, Authorize | Scheduled) => false,
            // An emergency change is authorized before it is scheduled.
            (ChangeType::Emergency, New, Scheduled) => false,
            _ => true,
        }
    }

    /// Checks a move for this type; the error names the moves the type allows.
    pub fn check(self, from: ChangeState, to: ChangeState) -> Result<(), InvalidValue> {
        from.check(to)?;
        let next = self.next(from);
        if next.contains(&to) {
            return Ok(());
        }
        let allowed: Vec<&str> = next.iter().map(|s| s.code()).collect();
        Err(InvalidValue::new(
            "invalid_transition",
            format!(
                "a {self} change cannot move from {from} to {to}; allowed: {}",
                allowed.join(", ")
            ),
        ))
    }

    /// Whether this type needs authorization before it is scheduled.
    pub fn needs_approval(self) -> bool {
        self != ChangeType::Standard
    }
}

/// Whether two windows `[start, end)` overlap.
pub fn overlaps(a: (Timestamp, Timestamp), b: (Timestamp, Timestamp)) -> bool {
    a.0 < b.1 && b.0 < a.1
}

/// A planned window: an end after its start.
pub fn check_window(start: Timestamp, end: Timestamp) -> Result<(), InvalidValue> {
    if end <= start {
        return Err(InvalidValue::new(
            "before_start",
            "the planned end must be after the planned start",
        ));
    }
    Ok(())
}

/// One answer of a risk question, with its weight.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub label_id: String,
    pub weight: u32,
}

/// A risk question and its answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub key: String,
    pub label: String,
    #[serde(default)]
    pub label_id: String,
    pub choices: Vec<Choice>,
}

/// The scores from which a questionnaire's total is moderate, high and very high.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Thresholds {
    pub moderate: u32,
    pub high: u32,
    pub very_high: u32,
}

/// A change type's risk questionnaire: each answer weighs, and the total gives a level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Questionnaire {
    pub questions: Vec<Question>,
    pub thresholds: Thresholds,
}

/// The most questions a questionnaire asks and choices a question offers.
pub const MAX_QUESTIONS: usize = 30;
pub const MAX_CHOICES: usize = 10;

impl Questionnaire {
    /// Checks a questionnaire: keys unique and short, labels given, at least two choices a
    /// question, thresholds rising.
    pub fn check(&self) -> Result<(), Vec<(String, InvalidValue)>> {
        let mut errs = Vec::new();
        let bad = |errs: &mut Vec<(String, InvalidValue)>, f: String, code, m: &str| {
            errs.push((f, InvalidValue::new(code, m.to_owned())));
        };
        if self.questions.len() > MAX_QUESTIONS {
            bad(
                &mut errs,
                "questions".into(),
                "too_many",
                "at most 30 questions",
            );
        }
        for (i, q) in self.questions.iter().enumerate() {
            let f = |s: &str| format!("questions.{i}.{s}");
            if !is_key(&q.key) {
                bad(
                    &mut errs,
                    f("key"),
                    "invalid",
                    "a key is 1 to 40 letters, digits or _",
                );
            } else if self.questions[..i].iter().any(|o| o.key == q.key) {
                bad(&mut errs, f("key"), "duplicate", "the key is used twice");
            }
            if q.label.trim().is_empty() || q.label.len() > 300 {
                bad(
                    &mut errs,
                    f("label"),
                    "required",
                    "a question needs its text (up to 300)",
                );
            }
            if q.choices.len() < 2 || q.choices.len() > MAX_CHOICES {
                bad(
                    &mut errs,
                    f("choices"),
                    "out_of_range",
                    "a question has 2 to 10 answers",
                );
            }
            for (j, c) in q.choices.iter().enumerate() {
                let f = |s: &str| format!("questions.{i}.choices.{j}.{s}");
                if !is_key(&c.key) {
                    bad(
                        &mut errs,
                        f("key"),
                        "invalid",
                        "a key is 1 to 40 letters, digits or _",
                    );
                } else if q.choices[..j].iter().any(|o| o.key == c.key) {
                    bad(&mut errs, f("key"), "duplicate", "the key is used twice");
                }
                if c.label.trim().is_empty() || c.label.len() > 300 {
                    bad(
                        &mut errs,
                        f("label"),
                        "required",
                        "an answer needs its text (up to 300)",
                    );
                }
                if c.weight > 100 {
                    bad(
                        &mut errs,
                        f("weight"),
                        "out_of_range",
                        "a weight is 0 to 100",
                    );
                }
            }
        }
        let t = self.thresholds;
        if !(0 < t.moderate && t.moderate <= t.high && t.high <= t.very_high) {
            bad(
                &mut errs,
                "thresholds".into(),
                "invalid",
                "thresholds rise: 0 < moderate ≤ high ≤ very high",
            );
        }
        if errs.is_empty() { Ok(()) } else { Err(errs) }
    }

    /// The score and level of a set of answers (question key → choice key). Every question
    /// is answered with one of its choices; the same answers always give the same level.
    pub fn assess(
        &self,
        answers: &BTreeMap<String, String>,
    ) -> Result<(u32, RiskLevel), Vec<(String, InvalidValue)>> {
        let mut errs = Vec::new();
        let mut score: u32 = 0;
        for q in &self.questions {
            let field = format!("risk_answers.{}", q.key);
            match answers.get(&q.key) {
                None => errs.push((field, InvalidValue::new("required", "answer this question"))),
                Some(a) => match q.choices.iter().find(|c| c.key == *a) {
                    Some(c) => score = score.saturating_add(c.weight),
                    None => {
                        let keys: Vec<&str> = q.choices.iter().map(|c| c.key.as_str()).collect();
                        let message =
                            format!("{a:?} is not an answer; one of: {}", keys.join(", "));
                        errs.push((field, InvalidValue::new("invalid_choice", message)));
                    }
                },
            }
        }
        for k in answers.keys() {
            if !self.questions.iter().any(|q| q.key == *k) {
                let field = format!("risk_answers.{k}");
                errs.push((field, InvalidValue::new("unknown", "no such question")));
            }
        }
        if !errs.is_empty() {
            return Err(errs);
        }
        Ok((score, self.level(score)))
    }

    /// The level a score gives.
    pub fn level(&self, score: u32) -> RiskLevel {
        let t = self.thresholds;
        if score >= t.very_high {
            RiskLevel::VeryHigh
        } else if score >= t.high {
            RiskLevel::High
        } else if score >= t.moderate {
            RiskLevel::Moderate
        } else {
            RiskLevel::Low
        }
    }

    /// The questionnaire a type asks until an administrator sets its own.
    pub fn default_for(t: ChangeType) -> Questionnaire {
        let choice = |key: &str, label: &str, label_id: &str, weight| Choice {
            key: key.into(),
            label: label.into(),
            label_id: label_id.into(),
            weight,
        };
        let question = |key: &str, label: &str, label_id: &str, choices| Question {
            key: key.into(),
            label: label.into(),
            label_id: label_id.into(),
            choices,
        };
        let mut questions = vec![
            question(
                "users_affected",
                "Who would an outage during the change affect?",
                "Siapa yang terdampak bila terjadi gangguan selama perubahan?",
                vec![
                    choice("few", "A few users", "Sedikit pengguna", 0),
                    choice("department", "A department", "Satu departemen", 2),
                    choice(
                        "everyone",
                        "The whole organization or customers",
                        "Seluruh organisasi atau pelanggan",
                        4,
                    ),
                ],
            ),
            question(
                "done_before",
                "Has this change been made successfully before?",
                "Apakah perubahan ini pernah berhasil dilakukan sebelumnya?",
                vec![
                    choice("often", "Yes, many times", "Ya, berkali-kali", 0),
                    choice("once", "Once or twice", "Sekali atau dua kali", 1),
                    choice("never", "Never", "Belum pernah", 3),
                ],
            ),
            question(
                "backout",
                "How quickly can it be backed out?",
                "Seberapa cepat perubahan dapat dibatalkan?",
                vec![
                    choice("minutes", "Within minutes", "Dalam hitungan menit", 0),
                    choice("hours", "Within hours", "Dalam hitungan jam", 2),
                    choice("no", "It cannot be backed out", "Tidak dapat dibatalkan", 4),
                ],
            ),
            question(
                "outage",
                "Does the service stop during the change?",
                "Apakah layanan berhenti selama perubahan?",
                vec![
                    choice("no", "No", "Tidak", 0),
                    choice(
                        "window",
                        "Only inside its maintenance window",
                        "Hanya di dalam jendela pemeliharaan",
                        1,
                    ),
                    choice("yes", "Yes", "Ya", 3),
                ],
            ),
        ];
        if t != ChangeType::Emergency {
            questions.push(question(
                "tested",
                "Has it been tested in a test environment?",
                "Apakah sudah diuji di lingkungan uji?",
                vec![
                    choice("fully", "Fully", "Sepenuhnya", 0),
                    choice("partly", "Partly", "Sebagian", 1),
                    choice("no", "No", "Belum", 3),
                ],
            ));
        }
        Questionnaire {
            questions,
            thresholds: Thresholds {
                moderate: 4,
                high: 8,
                very_high: 12,
            },
        }
    }
}

fn is_key(k: &str) -> bool {
    !k.is_empty() && k.len() <= 40 && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::check_model;
    use ChangeState as S;
    use proptest::prelude::*;

    #[test]
    fn the_model_is_sound_and_each_type_follows_its_path() {
        assert_eq!(check_model::<ChangeState>(), Ok(()));
        for t in ChangeType::ALL {
            for w in t.path().windows(2) {
                assert_eq!(t.check(w[0], w[1]), Ok(()), "{t}: {} -> {}", w[0], w[1]);
            }
        }
        assert!(ChangeType::Normal.check(S::New, S::Authorize).is_err());
        assert!(ChangeType::Normal.check(S::New, S::Scheduled).is_err());
        assert!(ChangeType::Emergency.check(S::New, S::Assess).is_err());
        assert!(ChangeType::Emergency.check(S::New, S::Scheduled).is_err());
        assert!(ChangeType::Standard.check(S::New, S::Assess).is_err());
        assert!(ChangeType::Standard.check(S::Scheduled, S::Assess).is_err());
        assert!(ChangeType::Normal.check(S::Review, S::Canceled).is_err());
        let e = ChangeType::Emergency.check(S::New, S::Assess).err();
        assert_eq!(
            e.map(|e| e.message),
            Some(
                "a emergency change cannot move from new to assess; allowed: authorize, canceled"
                    .to_owned()
            )
        );
    }

    #[test]
    fn risk_comes_from_the_answers_and_the_impact() {
        let q = Questionnaire::default_for(ChangeType::Normal);
        assert_eq!(q.check(), Ok(()));
        let answers = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect::<BTreeMap<_, _>>()
        };
        let low = answers(&[
            ("users_affected", "few"),
            ("done_before", "often"),
            ("backout", "minutes"),
            ("outage", "no"),
            ("tested", "fully"),
        ]);
        assert_eq!(q.assess(&low), Ok((0, RiskLevel::Low)));
        let high = answers(&[
            ("users_affected", "everyone"),
            ("done_before", "never"),
            ("backout", "minutes"),
            ("outage", "window"),
            ("tested", "fully"),
        ]);
        assert_eq!(q.assess(&high), Ok((8, RiskLevel::High)));
        let missing = answers(&[("users_affected", "few")]);
        let errs = q.assess(&missing).err().unwrap_or_default();
        assert_eq!(errs.len(), 4);
        assert_eq!(RiskLevel::from_impact(Some(1), 0), RiskLevel::High);
        assert_eq!(RiskLevel::from_impact(Some(1), 5), RiskLevel::VeryHigh);
        assert_eq!(RiskLevel::from_impact(Some(3), 0), RiskLevel::Low);
        assert_eq!(RiskLevel::Low.max(RiskLevel::High), RiskLevel::High);
    }

    #[test]
    fn a_bad_questionnaire_is_refused_field_by_field() {
        let mut q = Questionnaire::default_for(ChangeType::Normal);
        q.questions[1].key = q.questions[0].key.clone();
        q.questions[2].choices.truncate(1);
        q.thresholds.high = 1;
        let fields: Vec<String> = q
            .check()
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.0)
            .collect();
        assert_eq!(
            fields,
            ["questions.1.key", "questions.2.choices", "thresholds"]
        );
    }

    #[test]
    fn windows_overlap_only_when_they_share_time() {
        let t = |s: i64| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH);
        assert!(overlaps((t(0), t(10)), (t(5), t(15))));
        assert!(
            !overlaps((t(0), t(10)), (t(10), t(20))),
            "touching is not overlapping"
        );
        assert!(check_window(t(10), t(10)).is_err());
    }

    fn answers() -> impl Strategy<Value = BTreeMap<String, String>> {
        let q = Questionnaire::default_for(ChangeType::Normal);
        let per: Vec<_> = q
            .questions
            .iter()
            .map(|q| {
                let keys: Vec<String> = q.choices.iter().map(|c| c.key.clone()).collect();
                (Just(q.key.clone()), prop::sample::select(keys))
            })
            .collect();
        per.prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        /// The same answers give the same level, and more weight never lowers it.
        #[test]
        fn the_level_follows_the_score(a in answers(), extra in 0u32..20) {
            let q = Questionnaire::default_for(ChangeType::Normal);
            let first = q.assess(&a);
            prop_assert_eq!(&first, &q.assess(&a));
            let (score, level) = first.unwrap_or((0, RiskLevel::Low));
            prop_assert!(q.level(score + extra).max(level) == q.level(score + extra));
        }

        /// Every type's moves stay inside the model.
        #[test]
        fn a_type_never_leaves_the_model(t in prop::sample::select(ChangeType::ALL.to_vec()),
                                         from in prop::sample::select(ChangeState::ALL.to_vec())) {
            for to in t.next(from) {
                prop_assert!(from.check(to).is_ok());
                prop_assert!(to == ChangeState::Canceled || t.path().contains(&to));
            }
        }
    }
}
