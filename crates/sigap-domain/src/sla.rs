//! SLA clocks. A clock is an append-only list of intervals, each running or paused, with
//! why it began; what people see (stage, elapsed business and actual time, percentage, due
//! time) is derived from those intervals, the target and the calendar at the moment of
//! reading. Pause time is measured in the same calendar as the target (never 24×7 against
//! business hours), and changing the target (a new priority) keeps the intervals, so the
//! start and the pauses carry over.

use crate::calendar::BusinessCalendar;
use crate::values::{InvalidValue, code_enum};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::fmt;

code_enum!(
    /// What a target measures: response (until the first assignment or the first reply the
    /// customer sees) or resolution (until resolved).
    Metric {
        Response = "response",
        Resolution = "resolution",
    }
);

code_enum!(
    /// The kind of agreement a target belongs to.
    AgreementKind { Sla = "sla", Ola = "ola", Uc = "uc" }
);

code_enum!(
    /// How a clock stands when read: achieved is stopped strictly before its due instant,
    /// breached is from its due instant on (still running or paused, or stopped at or after
    /// it).
    Stage {
        InProgress = "in_progress",
        Paused = "paused",
        Achieved = "achieved",
        Breached = "breached",
        Cancelled = "cancelled",
    }
);

/// One stretch of a clock's life: running or paused from `start` until `end` (open while
/// it is the last one and the clock has not ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interval {
    pub start: Timestamp,
    pub end: Option<Timestamp>,
    pub running: bool,
}

/// How a clock ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ending {
    Stopped(Timestamp),
    Cancelled(Timestamp),
}

impl Ending {
    pub fn at(self) -> Timestamp {
        match self {
            Ending::Stopped(t) | Ending::Cancelled(t) => t,
        }
    }
}

/// A clock read at an instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    pub stage: Stage,
    /// Running time within the calendar.
    pub business_elapsed: SignedDuration,
    /// Running time on the wall clock (24×7 less the pauses).
    pub actual_elapsed: SignedDuration,
    /// Target less business elapsed (negative once breached).
    pub business_left: SignedDuration,
    /// Business elapsed as a share of the target, in per mille (1000 = 100 %).
    pub permille: i64,
    /// When the target runs out: known while running (and kept as it was when the clock
    /// stopped); `None` while paused, or when the calendar has too little time ahead.
    pub due: Option<Timestamp>,
    pub breached: bool,
}

/// The instant at which `amount` of business time has run on a clock: inside a closed
/// running interval if it was reached there, else by continuing from the last running
/// interval (or from the end, for an ended clock). `None` while paused short of it.
fn reach(
    intervals: &[Interval],
    ending: Option<Ending>,
    amount: SignedDuration,
    calendar: &BusinessCalendar,
    until: Timestamp,
) -> Option<Timestamp> {
    let mut left = amount;
    let n = intervals.len();
    for (i, iv) in intervals.iter().enumerate() {
        if !iv.running {
            continue;
        }
        let open = i + 1 == n && iv.end.is_none() && ending.is_none();
        if open {
            return calendar.add_business(iv.start, left);
        }
        let end = iv.end.unwrap_or(until).min(until);
        let len = calendar.business_between(iv.start, end.max(iv.start));
        if left <= len {
            return calendar.add_business(iv.start, left);
        }
        left -= len;
    }
    match (ending, intervals.last()) {
        (Some(e), Some(last)) if last.running => calendar.add_business(e.at(), left),
        _ => None,
    }
}

/// Reads a clock: its intervals (in order), how it ended if it did, its target and calendar.
pub fn read(
    intervals: &[Interval],
    ending: Option<Ending>,
    target: SignedDuration,
    calendar: &BusinessCalendar,
    now: Timestamp,
) -> Reading {
    let until = ending.map_or(now, Ending::at);
    let mut business = SignedDuration::ZERO;
    let mut actual = SignedDuration::ZERO;
    for iv in intervals.iter().filter(|iv| iv.running) {
        let end = iv.end.unwrap_or(until).min(until);
        if end > iv.start {
            business += calendar.business_between(iv.start, end);
            actual += end.duration_since(iv.start);
        }
    }
    let paused_now = intervals.last().is_some_and(|iv| !iv.running);
    let due = reach(intervals, ending, target, calendar, until);
    // The due instant decides. Business time does not grow outside business hours, so a
    // target reached at a closing time leaves the business time equal to the target all
    // evening: comparing durations would call the clock on time until the next opening. A
    // running clock is breached from its due instant on, a stopped one when it stopped at
    // or after it. (Without a due instant, beyond the calendar's horizon, business time
    // reaching the target is the same test.)
    let breached = due.map_or(business >= target, |d| d <= until);
    let stage = match ending {
        Some(Ending::Cancelled(_)) => Stage::Cancelled,
        Some(Ending::Stopped(_)) if breached => Stage::Breached,
        Some(Ending::Stopped(_)) => Stage::Achieved,
        None if breached => Stage::Breached,
        None if paused_now => Stage::Paused,
        None => Stage::InProgress,
    };
    let permille = if target <= SignedDuration::ZERO {
        1000
    } else {
        let ratio = business.as_nanos().saturating_mul(1000) / target.as_nanos();
        i64::try_from(ratio).unwrap_or(i64::MAX)
    };
    Reading {
        stage,
        business_elapsed: business,
        actual_elapsed: actual,
        business_left: target - business,
        permille,
        due: if paused_now && !breached { None } else { due },
        breached,
    }
}

/// The instant a clock reaches `permille` of its target (a warning threshold): in the past
/// if it already did, `None` while ended or paused short of it.
pub fn crossing(
    intervals: &[Interval],
    ending: Option<Ending>,
    target: SignedDuration,
    calendar: &BusinessCalendar,
    permille: i64,
    now: Timestamp,
) -> Option<Timestamp> {
    if ending.is_some() {
        return None;
    }
    let share = SignedDuration::from_nanos_i128(target.as_nanos() * i128::from(permille) / 1000);
    reach(intervals, None, share, calendar, now)
}

/// The task fields conditions look at, as text: `kind`, `priority`, `state`, `category`,
/// `hold_reason`, `contact_type`, `assigned` / `responded` / `major` (`true` or `false`), and
/// references (`service`, `organization`, `assignment_group`) under both their id and name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    fields: std::collections::BTreeMap<&'static str, Vec<String>>,
}

/// The fields a condition may name.
pub const CONDITION_FIELDS: &[&str] = &[
    "kind",
    "priority",
    "state",
    "category",
    "hold_reason",
    "contact_type",
    "assigned",
    "responded",
    "major",
    "service",
    "organization",
    "assignment_group",
];

impl Snapshot {
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets a field to one or more values (a reference by id and by name).
    pub fn set(&mut self, field: &'static str, values: Vec<String>) -> &mut Self {
        self.fields.insert(field, values);
        self
    }

    pub fn flag(&mut self, field: &'static str, on: bool) -> &mut Self {
        self.set(field, vec![on.to_string()])
    }

    fn has(&self, field: &str, wanted: &[String]) -> bool {
        let Some(values) = self.fields.get(field) else {
            // An empty field matches an empty wanted value.
            return wanted.iter().any(|w| w.is_empty());
        };
        if values.is_empty() {
            return wanted.iter().any(|w| w.is_empty());
        }
        wanted
            .iter()
            .any(|w| values.iter().any(|v| v.eq_ignore_ascii_case(w.trim())))
    }
}

/// One alternative of a condition: every named field has one of its listed values.
pub type Clause = std::collections::BTreeMap<String, Vec<String>>;

/// A condition: any of its clauses. No clause never matches; one empty clause always does.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Condition(pub Vec<Clause>);

impl Condition {
    pub fn never() -> Self {
        Self(Vec::new())
    }
    pub fn always() -> Self {
        Self(vec![Clause::new()])
    }
    /// One clause of one field.
    pub fn when(field: &str, values: &[&str]) -> Self {
        let mut c = Clause::new();
        c.insert(
            field.to_owned(),
            values.iter().map(|v| (*v).to_owned()).collect(),
        );
        Self(vec![c])
    }
    /// Adds a clause: this or that.
    pub fn or(mut self, other: Condition) -> Self {
        self.0.extend(other.0);
        self
    }
    pub fn is_never(&self) -> bool {
        self.0.is_empty()
    }
    pub fn matches(&self, s: &Snapshot) -> bool {
        self.0
            .iter()
            .any(|clause| clause.iter().all(|(f, wanted)| s.has(f, wanted)))
    }

    /// Checks the fields named and the size.
    pub fn validate(&self) -> Result<(), InvalidValue> {
        if self.0.len() > 20 {
            return Err(InvalidValue::new(
                "too_long",
                "at most 20 alternatives in a condition",
            ));
        }
        for clause in &self.0 {
            for (f, values) in clause {
                if !CONDITION_FIELDS.contains(&f.as_str()) {
                    return Err(InvalidValue::new(
                        "unknown_field",
                        format!(
                            "{f:?} is not a condition field; use {}",
                            CONDITION_FIELDS.join(", ")
                        ),
                    ));
                }
                if values.is_empty() || values.len() > 50 {
                    return Err(InvalidValue::new(
                        "invalid_condition",
                        format!("{f} needs 1 to 50 values"),
                    ));
                }
                if values
                    .iter()
                    .any(|v| v.chars().count() > 200 || v.chars().any(char::is_control))
                {
                    return Err(InvalidValue::new(
                        "invalid_condition",
                        format!("{f} has a value that is too long or holds control characters"),
                    ));
                }
            }
        }
        Ok(())
    }
}

code_enum!(
    /// What happens to a clock when its start condition stops holding: it is cancelled (the
    /// measurement no longer applies), stopped (measured until then, as an OLA when its group
    /// hands the task on) or left alone.
    WhenStartFails {
        Cancel = "cancel",
        Stop = "stop",
        Keep = "keep",
    }
);

/// The six conditions of a target, in the ServiceNow model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conditions {
    pub start: Condition,
    pub pause: Condition,
    /// `None`: resume when the pause condition no longer holds.
    pub resume: Option<Condition>,
    pub stop: Condition,
    pub cancel: Condition,
    pub reset: Condition,
    pub when_start_fails: WhenStartFails,
}

impl Conditions {
    /// What a target measures by default, by metric and kind of agreement:
    /// resolution runs from logging, pauses on hold and while resolved (a reopened incident
    /// resumes it), stops at closure; response stops at the first assignment or the first
    /// reply the caller sees; an OLA runs while its group holds the task; an underpinning
    /// contract runs while the task waits for the supplier.
    pub fn defaults(metric: Metric, kind: AgreementKind) -> Self {
        let (start, when_start_fails) = match kind {
            AgreementKind::Sla => (
                Condition::when("kind", &["incident"]),
                WhenStartFails::Cancel,
            ),
            // The agreement's group is added to the start by the engine.
            AgreementKind::Ola => (Condition::when("kind", &["incident"]), WhenStartFails::Stop),
            AgreementKind::Uc => (
                Condition::when("hold_reason", &["awaiting_vendor"]),
                WhenStartFails::Stop,
            ),
        };
        let (pause, stop) = match metric {
            Metric::Resolution => (
                Condition::when("state", &["on_hold", "resolved"]),
                Condition::when("state", &["closed"]),
            ),
            Metric::Response => (
                Condition::never(),
                Condition::when("assigned", &["true"]).or(Condition::when("responded", &["true"])),
            ),
        };
        let pause = if kind == AgreementKind::Uc {
            Condition::never()
        } else {
            pause
        };
        Self {
            start,
            pause,
            resume: None,
            stop,
            cancel: Condition::when("state", &["canceled"]),
            reset: Condition::never(),
            when_start_fails,
        }
    }
}

/// How a clock stands before a change, for deciding what the change does to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Live {
    Running,
    Paused,
}

/// What a task change does to a clock, with the condition that decided it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Start,
    Pause,
    Resume,
    Stop,
    Cancel,
    /// Completes the clock and starts a new one.
    Reset,
}

impl Step {
    pub fn code(self) -> &'static str {
        match self {
            Step::Start => "started",
            Step::Pause => "paused",
            Step::Resume => "resumed",
            Step::Stop => "stopped",
            Step::Cancel => "cancelled",
            Step::Reset => "reset",
        }
    }
}

/// Decides what a task's new state does to a live clock (stop beats reset beats cancel beats
/// pause), or, for no live clock, whether one starts (`may_start`: no clock yet, or the last
/// one ended because its start stopped holding).
pub fn decide(c: &Conditions, s: &Snapshot, live: Option<Live>, may_start: bool) -> Option<Step> {
    let start = c.start.matches(s);
    match live {
        None => (may_start && start && !c.stop.matches(s) && !c.cancel.matches(s))
            .then_some(Step::Start),
        Some(live) => {
            if c.stop.matches(s) {
                return Some(Step::Stop);
            }
            if c.reset.matches(s) && start {
                return Some(Step::Reset);
            }
            if c.cancel.matches(s) {
                return Some(Step::Cancel);
            }
            if !start {
                match c.when_start_fails {
                    WhenStartFails::Cancel => return Some(Step::Cancel),
                    WhenStartFails::Stop => return Some(Step::Stop),
                    WhenStartFails::Keep => {}
                }
            }
            let pause = c.pause.matches(s);
            match live {
                Live::Running if pause => Some(Step::Pause),
                Live::Paused => {
                    let resume = match &c.resume {
                        Some(r) => r.matches(s),
                        None => !pause,
                    };
                    resume.then_some(Step::Resume)
                }
                Live::Running => None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Holiday, Span, weekdays};
    use jiff::civil::date;
    use jiff::tz::TimeZone;

    type R = Result<(), Box<dyn std::error::Error>>;

    fn jkt(mo: i8, d: i8, h: i8, mi: i8) -> Timestamp {
        TimeZone::get("Asia/Jakarta")
            .unwrap_or(TimeZone::UTC)
            .to_ambiguous_timestamp(date(2026, mo, d).at(h, mi, 0, 0))
            .compatible()
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn office() -> Result<BusinessCalendar, Box<dyn std::error::Error>> {
        Ok(BusinessCalendar::new(
            BusinessCalendar::zone("Asia/Jakarta")?,
            weekdays(Span::parse("08:00-17:00")?),
            &[],
        ))
    }

    fn h(n: i64) -> SignedDuration {
        SignedDuration::from_hours(n)
    }

    #[test]
    fn a_clock_pauses_in_business_time_and_keeps_its_pauses_on_a_new_target() -> R {
        let cal = office()?;
        // Opened Monday 2026-11-23 10:00 with an 8-hour resolution target.
        let mut ivs = vec![Interval {
            start: jkt(11, 23, 10, 0),
            end: None,
            running: true,
        }];
        let r = read(&ivs, None, h(8), &cal, jkt(11, 23, 12, 0));
        assert_eq!(
            (r.stage, r.business_elapsed, r.permille),
            (Stage::InProgress, h(2), 250)
        );
        assert_eq!(
            r.due,
            Some(jkt(11, 24, 9, 0)),
            "7 h on Monday, 1 h on Tuesday"
        );
        // On hold from 15:00 Monday to 10:00 Tuesday: 2 h of business hours paused.
        ivs[0].end = Some(jkt(11, 23, 15, 0));
        ivs.push(Interval {
            start: jkt(11, 23, 15, 0),
            end: None,
            running: false,
        });
        let r = read(&ivs, None, h(8), &cal, jkt(11, 24, 9, 30));
        assert_eq!(
            (r.stage, r.business_elapsed, r.due),
            (Stage::Paused, h(5), None)
        );
        ivs[1].end = Some(jkt(11, 24, 10, 0));
        ivs.push(Interval {
            start: jkt(11, 24, 10, 0),
            end: None,
            running: true,
        });
        let r = read(&ivs, None, h(8), &cal, jkt(11, 24, 10, 0));
        assert_eq!(
            r.due,
            Some(jkt(11, 24, 13, 0)),
            "due moved by the paused business time"
        );
        assert_eq!(r.actual_elapsed, h(5));
        // A higher priority: a 4-hour target from the same start, pauses carried over.
        let r = read(&ivs, None, h(4), &cal, jkt(11, 24, 10, 0));
        assert_eq!(
            (r.stage, r.breached, r.permille),
            (Stage::Breached, true, 1250)
        );
        assert_eq!(r.due, Some(jkt(11, 23, 14, 0)), "in the past: retroactive");
        // Resolved Tuesday 12:00 on the 8-hour target: achieved.
        let r = read(
            &ivs,
            Some(Ending::Stopped(jkt(11, 24, 12, 0))),
            h(8),
            &cal,
            jkt(11, 30, 0, 0),
        );
        assert_eq!((r.stage, r.business_elapsed), (Stage::Achieved, h(7)));
        let r = read(
            &ivs,
            Some(Ending::Cancelled(jkt(11, 24, 12, 0))),
            h(8),
            &cal,
            jkt(11, 30, 0, 0),
        );
        assert_eq!(r.stage, Stage::Cancelled);
        Ok(())
    }

    #[test]
    fn thresholds_are_crossed_at_their_share_of_business_time() -> R {
        let cal = office()?;
        let ivs = vec![Interval {
            start: jkt(11, 20, 16, 0),
            end: None,
            running: true,
        }];
        // 4 hours from Friday 16:00: 50 % is Monday 09:00, 75 % Monday 10:00, 100 % 11:00.
        let at = |p| crossing(&ivs, None, h(4), &cal, p, jkt(11, 20, 16, 0));
        assert_eq!(at(500), Some(jkt(11, 23, 9, 0)));
        assert_eq!(at(750), Some(jkt(11, 23, 10, 0)));
        assert_eq!(at(1000), Some(jkt(11, 23, 11, 0)));
        assert_eq!(
            crossing(
                &ivs,
                Some(Ending::Stopped(jkt(11, 23, 9, 0))),
                h(4),
                &cal,
                500,
                jkt(11, 23, 9, 0)
            ),
            None
        );
        Ok(())
    }

    fn running_from(start: Timestamp) -> Vec<Interval> {
        vec![Interval {
            start,
            end: None,
            running: true,
        }]
    }

    /// The clock stopped at `at` (resolved, then accepted at once).
    fn stopped(ivs: &[Interval], at: Timestamp) -> (Vec<Interval>, Option<Ending>) {
        let mut ivs = ivs.to_vec();
        if let Some(last) = ivs.last_mut() {
            last.end.get_or_insert(at);
        }
        (ivs, Some(Ending::Stopped(at)))
    }

    #[test]
    fn a_clock_is_breached_from_its_due_instant_on() -> R {
        let cal = office()?;
        // 10 business hours from Monday 09:00: 8 on Monday, 2 on Tuesday.
        let ivs = running_from(jkt(11, 23, 9, 0));
        let due = jkt(11, 24, 10, 0);
        let at = |t| read(&ivs, None, h(10), &cal, t);
        assert_eq!(at(jkt(11, 24, 9, 59)).stage, Stage::InProgress);
        let r = at(due);
        assert_eq!(
            (r.stage, r.breached, r.due),
            (Stage::Breached, true, Some(due))
        );
        assert_eq!(
            crossing(&ivs, None, h(10), &cal, 1000, due),
            Some(due),
            "the 100 % warning and the breach are one instant"
        );
        let (s, e) = stopped(&ivs, due);
        assert_eq!(read(&s, e, h(10), &cal, due).stage, Stage::Breached);
        let (s, e) = stopped(&ivs, jkt(11, 24, 9, 59));
        assert_eq!(read(&s, e, h(10), &cal, due).stage, Stage::Achieved);
        Ok(())
    }

    #[test]
    fn a_clock_due_at_closing_time_is_late_all_evening() -> R {
        // Two stretches a day around lunch: 8 hours from Monday 08:00 are due at 17:00.
        let cal = BusinessCalendar::new(
            BusinessCalendar::zone("Asia/Jakarta")?,
            {
                let mut week: [Vec<Span>; 7] = Default::default();
                for day in week.iter_mut().take(5) {
                    *day = vec![Span::parse("08:00-12:00")?, Span::parse("13:00-17:00")?];
                }
                week
            },
            &[],
        );
        let ivs = running_from(jkt(11, 23, 8, 0));
        let r = read(&ivs, None, h(8), &cal, jkt(11, 23, 16, 59));
        assert_eq!(
            (r.stage, r.due),
            (Stage::InProgress, Some(jkt(11, 23, 17, 0)))
        );
        for t in [jkt(11, 23, 17, 0), jkt(11, 23, 20, 0), jkt(11, 24, 7, 59)] {
            let r = read(&ivs, None, h(8), &cal, t);
            assert_eq!(
                (r.stage, r.business_left),
                (Stage::Breached, h(0)),
                "at {t}"
            );
        }
        // Resolved at 18:00 (the clock pauses), accepted the next morning (it stops).
        let mut resolved = ivs.clone();
        resolved[0].end = Some(jkt(11, 23, 18, 0));
        resolved.push(Interval {
            start: jkt(11, 23, 18, 0),
            end: None,
            running: false,
        });
        assert_eq!(
            read(&resolved, None, h(8), &cal, jkt(11, 23, 19, 0)).stage,
            Stage::Breached,
            "paused after its due instant"
        );
        let (s, e) = stopped(&resolved, jkt(11, 24, 9, 0));
        assert_eq!(
            read(&s, e, h(8), &cal, jkt(11, 24, 9, 0)).stage,
            Stage::Breached
        );
        // Due Friday 17:00, stopped on Saturday.
        let friday = running_from(jkt(11, 27, 8, 0));
        let (s, e) = stopped(&friday, jkt(11, 28, 10, 0));
        assert_eq!(
            read(&s, e, h(8), &cal, jkt(11, 28, 10, 0)).stage,
            Stage::Breached
        );
        let (s, e) = stopped(&friday, jkt(11, 27, 16, 59));
        assert_eq!(
            read(&s, e, h(8), &cal, jkt(11, 28, 10, 0)).stage,
            Stage::Achieved
        );
        // On the 24×7 calendar the same rule: due at start + target, breached from then on.
        let always = BusinessCalendar::always();
        let r = read(&ivs, None, h(8), &always, jkt(11, 23, 16, 0));
        assert_eq!(
            (r.stage, r.due),
            (Stage::Breached, Some(jkt(11, 23, 16, 0)))
        );
        Ok(())
    }

    fn incident(state: &str) -> Snapshot {
        let mut s = Snapshot::new();
        s.set("kind", vec!["incident".into()])
            .set("state", vec![state.into()])
            .flag("assigned", false)
            .flag("responded", false);
        s
    }

    #[test]
    fn default_conditions_follow_the_incident() {
        let c = Conditions::defaults(Metric::Resolution, AgreementKind::Sla);
        assert_eq!(decide(&c, &incident("new"), None, true), Some(Step::Start));
        assert_eq!(
            decide(&c, &incident("new"), None, false),
            None,
            "no second clock"
        );
        assert_eq!(
            decide(&c, &incident("on_hold"), Some(Live::Running), true),
            Some(Step::Pause)
        );
        assert_eq!(
            decide(&c, &incident("on_hold"), Some(Live::Paused), true),
            None
        );
        assert_eq!(
            decide(&c, &incident("in_progress"), Some(Live::Paused), true),
            Some(Step::Resume)
        );
        assert_eq!(
            decide(&c, &incident("resolved"), Some(Live::Running), true),
            Some(Step::Pause)
        );
        assert_eq!(
            decide(&c, &incident("closed"), Some(Live::Paused), true),
            Some(Step::Stop)
        );
        assert_eq!(
            decide(&c, &incident("canceled"), Some(Live::Running), true),
            Some(Step::Cancel)
        );
        let r = Conditions::defaults(Metric::Response, AgreementKind::Sla);
        let mut assigned = incident("in_progress");
        assigned.flag("assigned", true);
        assert_eq!(
            decide(&r, &assigned, Some(Live::Running), true),
            Some(Step::Stop)
        );
        let uc = Conditions::defaults(Metric::Resolution, AgreementKind::Uc);
        let mut vendor = incident("on_hold");
        vendor.set("hold_reason", vec!["awaiting_vendor".into()]);
        assert_eq!(decide(&uc, &vendor, None, true), Some(Step::Start));
        assert_eq!(
            decide(&uc, &incident("in_progress"), Some(Live::Running), true),
            Some(Step::Stop)
        );
    }

    #[test]
    fn conditions_match_any_clause_with_every_field() {
        let mut c = Clause::new();
        c.insert("priority".into(), vec!["1".into(), "2".into()]);
        c.insert("assignment_group".into(), vec!["network".into()]);
        let cond = Condition(vec![c]);
        let mut s = incident("new");
        s.set("priority", vec!["2".into()])
            .set("assignment_group", vec!["0190-id".into(), "Network".into()]);
        assert!(cond.matches(&s), "by name, any case");
        s.set("priority", vec!["3".into()]);
        assert!(!cond.matches(&s));
        assert!(Condition::always().matches(&s) && !Condition::never().matches(&s));
        assert!(Condition::when("nope", &["x"]).validate().is_err());
        assert!(Condition::when("state", &[]).validate().is_err());
        assert!(Condition::when("state", &["a\u{0}"]).validate().is_err());
    }

    use proptest::prelude::*;

    const ZONES: &[&str] = &[
        "Asia/Jakarta",
        "Europe/Amsterdam",
        "America/New_York",
        "Australia/Lord_Howe",
        "UTC",
    ];

    /// A random week: each day up to two spans on quarter hours (so that due instants often
    /// fall on a closing time), possibly closed.
    fn any_week() -> impl Strategy<Value = [Vec<Span>; 7]> {
        let day = prop::collection::btree_set(0u16..=96, 0..=4).prop_map(|marks| {
            let marks: Vec<u16> = marks.into_iter().collect();
            marks
                .chunks_exact(2)
                .map(|p| Span {
                    start: p[0] * 15,
                    end: p[1] * 15,
                })
                .collect::<Vec<_>>()
        });
        prop::collection::vec(day, 7).prop_map(|days| {
            let mut week: [Vec<Span>; 7] = Default::default();
            for (w, d) in week.iter_mut().zip(days) {
                *w = d;
            }
            week
        })
    }

    /// Holidays within the first weeks of the clocks below: whole or part days, once or yearly.
    fn any_holidays() -> impl Strategy<Value = Vec<Holiday>> {
        let one = (
            0i32..40,
            prop::option::of((0u16..48, 48u16..=96)),
            any::<bool>(),
        )
            .prop_map(|(day, part, recurring)| Holiday {
                date: date(2026, 3, 2)
                    .checked_add(jiff::Span::new().days(day))
                    .unwrap_or(date(2026, 3, 2)),
                closed: part.map(|(a, b)| Span {
                    start: a * 15,
                    end: b * 15,
                }),
                recurring,
                name: String::new(),
            });
        prop::collection::vec(one, 0..5)
    }

    /// Stretches of a clock from its start, alternately running and paused: quarter hours,
    /// sometimes off by a few seconds.
    fn any_steps() -> impl Strategy<Value = Vec<i64>> {
        prop::collection::vec(
            (1i64..300, prop::option::weighted(0.3, 1i64..900))
                .prop_map(|(q, extra)| q * 900 + extra.unwrap_or(0)),
            1..7,
        )
    }

    /// A clock's intervals from `start`; the last one is left open.
    fn clock_of(start: Timestamp, steps: &[i64]) -> Vec<Interval> {
        let mut t = start;
        let mut ivs = Vec::new();
        for (i, secs) in steps.iter().enumerate() {
            let end = t.checked_add(SignedDuration::from_secs(*secs)).unwrap_or(t);
            ivs.push(Interval {
                start: t,
                end: Some(end),
                running: i % 2 == 0,
            });
            t = end;
        }
        if let Some(last) = ivs.last_mut() {
            last.end = None;
        }
        ivs
    }

    /// The running business time of a clock up to `until`, measured apart from `read`.
    fn ran(cal: &BusinessCalendar, ivs: &[Interval], until: Timestamp) -> SignedDuration {
        ivs.iter()
            .filter(|iv| iv.running)
            .map(|iv| {
                let end = iv.end.unwrap_or(until).min(until);
                cal.business_between(iv.start, end.max(iv.start))
            })
            .sum()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        /// Read at any instant at or after its due instant, a clock is breached; before it, it
        /// is not; and the stage agrees with the business time run against the target.
        #[test]
        fn a_clock_read_after_its_due_instant_is_breached(
            week in any_week(),
            holidays in any_holidays(),
            zone in prop::sample::select(ZONES),
            start_quarter in 0i64..(7 * 96),
            steps in any_steps(),
            target_quarters in 0i64..200,
            later in prop::collection::vec(0i64..(14 * 86_400), 1..6),
        ) {
            let tz = BusinessCalendar::zone(zone).map_err(|e| TestCaseError::fail(e.message))?;
            let cal = BusinessCalendar::new(tz.clone(), week, &holidays);
            let start = tz
                .to_ambiguous_timestamp(date(2026, 3, 2).at(0, 0, 0, 0))
                .compatible()
                .map_err(|e| TestCaseError::fail(e.to_string()))?
                .checked_add(SignedDuration::from_secs(start_quarter * 900))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let ivs = clock_of(start, &steps);
            let target = SignedDuration::from_secs(target_quarters * 900);
            let last_start = ivs.last().map_or(start, |iv| iv.start);
            let due = read(&ivs, None, target, &cal, last_start).due;
            for secs in later {
                let t = last_start
                    .checked_add(SignedDuration::from_secs(secs))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                let r = read(&ivs, None, target, &cal, t);
                prop_assert_eq!(r.breached, ran(&cal, &ivs, t) >= target);
                prop_assert_eq!(r.breached, r.stage == Stage::Breached);
                if let Some(d) = due {
                    prop_assert_eq!(r.breached, t >= d, "due {}, read at {}", d, t);
                    if t >= d {
                        prop_assert_eq!(r.stage, Stage::Breached);
                        // Exactly at the due instant too.
                        let at_due = read(&ivs, None, target, &cal, d.max(last_start));
                        prop_assert_eq!(at_due.stage, Stage::Breached);
                    }
                }
            }
        }

        /// Stopped at or after its due instant, a clock is breached; stopped strictly before
        /// it, achieved.
        #[test]
        fn a_clock_stopped_at_or_after_its_due_instant_is_breached(
            week in any_week(),
            holidays in any_holidays(),
            zone in prop::sample::select(ZONES),
            start_quarter in 0i64..(7 * 96),
            steps in any_steps(),
            target_quarters in 0i64..200,
            stop_after in prop::option::weighted(0.8, 0i64..(14 * 86_400)),
        ) {
            let tz = BusinessCalendar::zone(zone).map_err(|e| TestCaseError::fail(e.message))?;
            let cal = BusinessCalendar::new(tz.clone(), week, &holidays);
            let start = tz
                .to_ambiguous_timestamp(date(2026, 3, 2).at(0, 0, 0, 0))
                .compatible()
                .map_err(|e| TestCaseError::fail(e.to_string()))?
                .checked_add(SignedDuration::from_secs(start_quarter * 900))
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let ivs = clock_of(start, &steps);
            let target = SignedDuration::from_secs(target_quarters * 900);
            let last_start = ivs.last().map_or(start, |iv| iv.start);
            let due = read(&ivs, None, target, &cal, last_start).due;
            // Stopped at a random instant, or exactly at the due instant.
            let stop = match (stop_after, due) {
                (None, Some(d)) => d.max(last_start),
                (secs, _) => last_start
                    .checked_add(SignedDuration::from_secs(secs.unwrap_or(0)))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?,
            };
            let (s, e) = stopped(&ivs, stop);
            let r = read(&s, e, target, &cal, stop.checked_add(SignedDuration::from_hours(24)).unwrap_or(stop));
            let late = due.is_some_and(|d| stop >= d);
            prop_assert_eq!(r.stage, if late { Stage::Breached } else { Stage::Achieved });
            prop_assert_eq!(late, ran(&cal, &s, stop) >= target);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        /// Random alternations of running and paused: paused time is never counted, running
        /// and paused business time add up to the whole, and the due instant is where the
        /// running business time reaches the target.
        #[test]
        fn pauses_are_never_counted_and_the_due_time_holds(
            steps in prop::collection::vec(1i64..200_000, 1..8),
            target_mins in 1i64..6000,
            zone in prop::sample::select(vec!["Asia/Jakarta", "Europe/Amsterdam"]),
        ) {
            let cal = BusinessCalendar::new(
                BusinessCalendar::zone(zone).map_err(|e| TestCaseError::fail(e.message))?,
                weekdays(Span { start: 8 * 60, end: 17 * 60 }),
                &[],
            );
            let start = jkt(3, 20, 9, 0);
            let mut t = start;
            let mut ivs = Vec::new();
            for (i, secs) in steps.iter().enumerate() {
                let end = t.checked_add(SignedDuration::from_secs(*secs)).unwrap_or(t);
                ivs.push(Interval { start: t, end: Some(end), running: i % 2 == 0 });
                t = end;
            }
            // The last one stays open.
            if let Some(last) = ivs.last_mut() { last.end = None; }
            let now = t.checked_add(SignedDuration::from_hours(1)).unwrap_or(t);
            let target = SignedDuration::from_mins(target_mins);
            let r = read(&ivs, None, target, &cal, now);
            let paused: SignedDuration = ivs
                .iter()
                .filter(|iv| !iv.running)
                .map(|iv| cal.business_between(iv.start, iv.end.unwrap_or(now)))
                .sum();
            prop_assert_eq!(r.business_elapsed + paused, cal.business_between(start, now));
            if let Some(due) = r.due {
                let ran: SignedDuration = ivs
                    .iter()
                    .filter(|iv| iv.running)
                    .map(|iv| {
                        let end = iv.end.unwrap_or(due).min(due);
                        cal.business_between(iv.start, end.max(iv.start))
                    })
                    .sum();
                prop_assert_eq!(ran, target);
            } else {
                prop_assert!(r.stage == Stage::Paused);
            }
        }
    }
}
