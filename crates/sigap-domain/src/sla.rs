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
    /// How a clock stands when read: achieved is stopped within its target, breached is past
    /// it (still running, or stopped late).
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
    let breached = business > target;
    let due = reach(intervals, ending, target, calendar, until);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calendar::{Span, weekdays};
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

    use proptest::prelude::*;

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
