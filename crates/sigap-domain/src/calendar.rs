//! Business calendars: weekly business hours (several intervals a day) in an IANA time zone,
//! holidays (whole or part days, once or every year) and the always-open 24×7 calendar.
//!
//! Two operations carry every SLA clock: the business time inside `[a, b)`, and the instant
//! at which a given business time has passed since a start. Both walk the same sorted,
//! disjoint business intervals, so measuring `[a, b)` and `[b, c)` adds up to `[a, c)`, and
//! adding a duration and measuring back gives the duration exactly (to the nanosecond).
//! Local times are laid onto instants with the zone's rules (bundled in the binary); a local
//! time that does not exist (the hour skipped in spring) moves forward, an ambiguous one (the
//! hour repeated in autumn) takes its first occurrence.

use crate::values::InvalidValue;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use std::collections::BTreeMap;

/// Minutes in a day; an interval may end at 24:00.
pub const DAY_MINUTES: u16 = 24 * 60;

/// How far ahead a calendar is searched for business time before giving up (a calendar whose
/// every day is a holiday has none).
const HORIZON_DAYS: i32 = 366 * 10;

/// A span of a day in minutes from local midnight, `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Span {
    pub start: u16,
    pub end: u16,
}

impl Span {
    pub fn new(start: u16, end: u16) -> Result<Self, InvalidValue> {
        if start >= end || end > DAY_MINUTES {
            return Err(InvalidValue::new(
                "invalid_interval",
                "an interval runs from a start to a later end, at most 24:00",
            ));
        }
        Ok(Self { start, end })
    }

    /// Parses `HH:MM-HH:MM` (24:00 allowed as an end).
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let bad = || InvalidValue::new("invalid_interval", "write an interval as 08:00-17:00");
        let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
        let minutes = |t: &str| -> Result<u16, InvalidValue> {
            let (h, m) = t.trim().split_once(':').ok_or_else(bad)?;
            let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
            if m >= 60 || h > 24 || (h == 24 && m != 0) {
                return Err(bad());
            }
            Ok(h * 60 + m)
        };
        Self::new(minutes(a)?, minutes(b)?)
    }
}

impl std::fmt::Display for Span {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:02}:{:02}-{:02}:{:02}",
            self.start / 60,
            self.start % 60,
            self.end / 60,
            self.end % 60
        )
    }
}

/// Sorts spans and merges those that touch or overlap.
fn normalize(mut spans: Vec<Span>) -> Vec<Span> {
    spans.sort();
    let mut out: Vec<Span> = Vec::with_capacity(spans.len());
    for s in spans {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// Removes `cut` from sorted, disjoint spans.
fn subtract(spans: &[Span], cut: Span) -> Vec<Span> {
    let mut out = Vec::with_capacity(spans.len() + 1);
    for s in spans {
        if cut.end <= s.start || cut.start >= s.end {
            out.push(*s);
            continue;
        }
        if s.start < cut.start {
            out.push(Span {
                start: s.start,
                end: cut.start,
            });
        }
        if cut.end < s.end {
            out.push(Span {
                start: cut.end,
                end: s.end,
            });
        }
    }
    out
}

/// A day (or part of a day) without business: on a date, or on that month and day every year.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: Date,
    /// The closed part of the day; `None` closes the whole day.
    pub closed: Option<Span>,
    pub recurring: bool,
    pub name: String,
}

/// Weekly business hours, holidays and a time zone; or always open.
#[derive(Debug, Clone)]
pub struct BusinessCalendar {
    tz: TimeZone,
    /// Monday first.
    week: [Vec<Span>; 7],
    once: BTreeMap<Date, Vec<Option<Span>>>,
    yearly: BTreeMap<(i8, i8), Vec<Option<Span>>>,
    always: bool,
}

impl BusinessCalendar {
    /// The built-in 24×7 calendar: every instant is business time.
    pub fn always() -> Self {
        Self {
            tz: TimeZone::UTC,
            week: Default::default(),
            once: BTreeMap::new(),
            yearly: BTreeMap::new(),
            always: true,
        }
    }

    /// A calendar from its time zone, its hours per weekday (Monday first) and holidays.
    pub fn new(tz: TimeZone, week: [Vec<Span>; 7], holidays: &[Holiday]) -> Self {
        let mut once: BTreeMap<Date, Vec<Option<Span>>> = BTreeMap::new();
        let mut yearly: BTreeMap<(i8, i8), Vec<Option<Span>>> = BTreeMap::new();
        for h in holidays {
            if h.recurring {
                yearly
                    .entry((h.date.month(), h.date.day()))
                    .or_default()
                    .push(h.closed);
            } else {
                once.entry(h.date).or_default().push(h.closed);
            }
        }
        Self {
            tz,
            week: week.map(normalize),
            once,
            yearly,
            always: false,
        }
    }

    /// Looks a time zone up by its IANA name in the bundled database.
    pub fn zone(name: &str) -> Result<TimeZone, InvalidValue> {
        TimeZone::get(name.trim()).map_err(|_| {
            InvalidValue::new(
                "unknown_time_zone",
                "must be an IANA time zone such as Asia/Jakarta",
            )
        })
    }

    pub fn is_always(&self) -> bool {
        self.always
    }

    pub fn time_zone(&self) -> &TimeZone {
        &self.tz
    }

    /// The business spans of a local date: its weekday's hours less its holidays.
    pub fn spans_on(&self, date: Date) -> Vec<Span> {
        if self.always {
            return vec![Span {
                start: 0,
                end: DAY_MINUTES,
            }];
        }
        let weekday = date.weekday().to_monday_zero_offset();
        let mut spans = self.week[weekday as usize].clone();
        let closures = self
            .once
            .get(&date)
            .into_iter()
            .chain(self.yearly.get(&(date.month(), date.day())))
            .flatten();
        for c in closures {
            match c {
                None => return Vec::new(),
                Some(cut) => spans = subtract(&spans, *cut),
            }
        }
        spans
    }

    /// The instant of a local minute of a date (24:00 is the next midnight).
    fn instant(&self, date: Date, minute: u16) -> Timestamp {
        let (date, minute) = if minute >= DAY_MINUTES {
            (date.tomorrow().unwrap_or(date), minute - DAY_MINUTES)
        } else {
            (date, minute)
        };
        let dt = date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0);
        self.tz
            .to_ambiguous_timestamp(dt)
            .compatible()
            .unwrap_or(Timestamp::MAX)
    }

    /// Business intervals `[start, end)` as instants, in order, from the local day of `from`
    /// on, calling `visit` until it returns false or the horizon is reached.
    fn walk(&self, from: Timestamp, mut visit: impl FnMut(Timestamp, Timestamp) -> bool) {
        // Spans end by the next local midnight, so none of an earlier day reaches `from`.
        let mut date = self.tz.to_datetime(from).date();
        // Spans laid onto instants stay disjoint even where a skipped local hour moves two
        // of them onto the same instants.
        let mut last_end = Timestamp::MIN;
        for _ in 0..HORIZON_DAYS {
            for s in self.spans_on(date) {
                let (a, b) = (self.instant(date, s.start), self.instant(date, s.end));
                let a = a.max(last_end);
                if b > a {
                    last_end = b;
                    if !visit(a, b) {
                        return;
                    }
                }
            }
            match date.tomorrow() {
                Ok(d) => date = d,
                Err(_) => return,
            }
        }
    }

    /// Business time inside `[a, b)`; zero when `b <= a`.
    pub fn business_between(&self, a: Timestamp, b: Timestamp) -> SignedDuration {
        if b <= a {
            return SignedDuration::ZERO;
        }
        if self.always {
            return b.duration_since(a);
        }
        let mut total = SignedDuration::ZERO;
        self.walk(a, |s, e| {
            if s >= b {
                return false;
            }
            let (s, e) = (s.max(a), e.min(b));
            if e > s {
                total += e.duration_since(s);
            }
            true
        });
        total
    }

    /// The first instant at which `d` of business time has passed since `start`; `start`
    /// itself for a zero or negative duration, `None` when the calendar has too little
    /// business time ahead.
    pub fn add_business(&self, start: Timestamp, d: SignedDuration) -> Option<Timestamp> {
        if d <= SignedDuration::ZERO {
            return Some(start);
        }
        if self.always {
            return start.checked_add(d).ok();
        }
        let mut left = d;
        let mut due = None;
        self.walk(start, |s, e| {
            let s = s.max(start);
            if e <= s {
                return true;
            }
            let len = e.duration_since(s);
            if left <= len {
                due = s.checked_add(left).ok();
                return false;
            }
            left -= len;
            true
        });
        due
    }
}

/// The hours of a working week, Monday to Friday, in one interval a day.
pub fn weekdays(span: Span) -> [Vec<Span>; 7] {
    let mut week: [Vec<Span>; 7] = Default::default();
    for (i, day) in week.iter_mut().enumerate() {
        if i < 5 {
            day.push(span);
        }
    }
    week
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    type R = Result<(), Box<dyn std::error::Error>>;

    fn at(tz: &str, y: i16, mo: i8, d: i8, h: i8, mi: i8) -> Timestamp {
        let zone = TimeZone::get(tz).unwrap_or(TimeZone::UTC);
        zone.to_ambiguous_timestamp(date(y, mo, d).at(h, mi, 0, 0))
            .compatible()
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn office(tz: &str) -> Result<BusinessCalendar, InvalidValue> {
        Ok(BusinessCalendar::new(
            BusinessCalendar::zone(tz)?,
            weekdays(Span::parse("08:00-17:00")?),
            &[],
        ))
    }

    #[test]
    fn the_friday_evening_example_of_the_semantics_file() -> R {
        // Opened Friday 21:00, hours 08-17 on weekdays, now Monday 09:30.
        let cal = office("Asia/Jakarta")?;
        let opened = at("Asia/Jakarta", 2026, 11, 20, 21, 0);
        let now = at("Asia/Jakarta", 2026, 11, 23, 9, 30);
        assert_eq!(
            cal.business_between(opened, now),
            SignedDuration::from_mins(90)
        );
        assert_eq!(
            now.duration_since(opened),
            SignedDuration::from_mins(60 * 60 + 30)
        );
        // On an 8-hour target: 19 % of business time, over 750 % of actual time.
        let target = SignedDuration::from_hours(8).as_secs_f64();
        let business = cal.business_between(opened, now).as_secs_f64() / target * 100.0;
        let actual = now.duration_since(opened).as_secs_f64() / target * 100.0;
        assert_eq!(business.round(), 19.0);
        assert!(actual > 750.0);
        // The 8 hours run out on Monday at 16:00.
        assert_eq!(
            cal.add_business(opened, SignedDuration::from_hours(8)),
            Some(at("Asia/Jakarta", 2026, 11, 23, 16, 0))
        );
        Ok(())
    }

    #[test]
    fn spans_parse_and_merge() -> R {
        assert_eq!(Span::parse("08:00-12:00")?.to_string(), "08:00-12:00");
        assert_eq!(Span::parse("13:00-24:00")?.end, DAY_MINUTES);
        for bad in [
            "",
            "8-12",
            "12:00-08:00",
            "08:00-24:30",
            "08:60-09:00",
            "x:00-09:00",
        ] {
            assert!(Span::parse(bad).is_err(), "{bad}");
        }
        let merged = normalize(vec![
            Span::parse("13:00-17:00")?,
            Span::parse("08:00-12:00")?,
            Span::parse("11:00-13:00")?,
        ]);
        assert_eq!(merged, vec![Span::parse("08:00-17:00")?]);
        Ok(())
    }

    #[test]
    fn holidays_close_whole_and_part_days_every_year() -> R {
        let tz = BusinessCalendar::zone("Asia/Jakarta")?;
        let cal = BusinessCalendar::new(
            tz,
            weekdays(Span::parse("08:00-17:00")?),
            &[
                Holiday {
                    date: date(2020, 12, 25),
                    closed: None,
                    recurring: true,
                    name: "Christmas".into(),
                },
                Holiday {
                    date: date(2026, 12, 24),
                    closed: Some(Span::parse("12:00-24:00")?),
                    recurring: false,
                    name: "Christmas Eve afternoon".into(),
                },
            ],
        );
        let day = |y, m, d| {
            cal.business_between(
                at("Asia/Jakarta", y, m, d, 0, 0),
                at("Asia/Jakarta", y, m, d, 23, 59),
            )
        };
        assert_eq!(
            day(2026, 12, 25),
            SignedDuration::ZERO,
            "recurring, from 2020"
        );
        assert_eq!(
            day(2026, 12, 24),
            SignedDuration::from_hours(4),
            "half a day"
        );
        assert_eq!(day(2026, 12, 23), SignedDuration::from_hours(9));
        Ok(())
    }

    #[test]
    fn a_business_day_keeps_its_hours_across_daylight_saving_changes() -> R {
        // 2026-03-29 and 2026-10-25 are Sundays: the two weeks around each change count the
        // same in Amsterdam as in Jakarta (no daylight saving time), hour for hour.
        for zone in ["Europe/Amsterdam", "Asia/Jakarta"] {
            let cal = office(zone)?;
            for ((m1, d1), (m2, d2)) in [((3, 23), (4, 6)), ((10, 19), (11, 2))] {
                let a = at(zone, 2026, m1, d1, 0, 0);
                let b = at(zone, 2026, m2, d2, 0, 0);
                assert_eq!(
                    cal.business_between(a, b),
                    SignedDuration::from_hours(90),
                    "{zone}"
                );
                // Friday 16:00 + 2 business hours is Monday 09:00 local, in both zones.
                let friday = at(zone, 2026, m1, d1 + 4, 16, 0);
                assert_eq!(
                    cal.add_business(friday, SignedDuration::from_hours(2)),
                    Some(at(zone, 2026, m1, d1 + 7, 9, 0)),
                    "{zone}"
                );
            }
        }
        let cal = office("Europe/Amsterdam")?;
        // The weekend of the change is 23 or 25 hours long in actual time, none of it business.
        let fri = at("Europe/Amsterdam", 2026, 3, 27, 17, 0);
        let mon = at("Europe/Amsterdam", 2026, 3, 30, 8, 0);
        assert_eq!(cal.business_between(fri, mon), SignedDuration::ZERO);
        assert_eq!(mon.duration_since(fri), SignedDuration::from_hours(62));
        // Open through the night of the change: the skipped and the repeated hour count as
        // the instants they are.
        let night = BusinessCalendar::new(
            BusinessCalendar::zone("Europe/Amsterdam")?,
            [0, 1, 2, 3, 4, 5, 6].map(|_| {
                vec![Span {
                    start: 0,
                    end: DAY_MINUTES,
                }]
            }),
            &[],
        );
        let spring = night.business_between(
            at("Europe/Amsterdam", 2026, 3, 29, 0, 0),
            at("Europe/Amsterdam", 2026, 3, 30, 0, 0),
        );
        let autumn = night.business_between(
            at("Europe/Amsterdam", 2026, 10, 25, 0, 0),
            at("Europe/Amsterdam", 2026, 10, 26, 0, 0),
        );
        assert_eq!(spring, SignedDuration::from_hours(23));
        assert_eq!(autumn, SignedDuration::from_hours(25));
        Ok(())
    }

    #[test]
    fn a_calendar_without_business_time_gives_no_due_time() {
        let cal = BusinessCalendar::new(TimeZone::UTC, Default::default(), &[]);
        assert_eq!(
            cal.add_business(Timestamp::UNIX_EPOCH, SignedDuration::from_hours(1)),
            None
        );
        assert_eq!(
            BusinessCalendar::always()
                .add_business(Timestamp::UNIX_EPOCH, SignedDuration::from_hours(1)),
            Timestamp::UNIX_EPOCH
                .checked_add(SignedDuration::from_hours(1))
                .ok()
        );
    }

    /// A random calendar: up to three intervals on each weekday, some holidays.
    fn calendars() -> impl Strategy<Value = BusinessCalendar> {
        let span = (0u16..DAY_MINUTES, 1u16..600).prop_map(|(s, len)| Span {
            start: s,
            end: (s + len).min(DAY_MINUTES),
        });
        let day = prop::collection::vec(span, 0..3);
        let week = prop::array::uniform7(day);
        let holiday = (
            0i64..400,
            prop::option::of((0u16..1300, 1u16..600)),
            any::<bool>(),
        )
            .prop_map(|(offset, part, recurring)| Holiday {
                date: date(2026, 1, 1)
                    .checked_add(jiff::Span::new().days(offset))
                    .unwrap_or(date(2026, 1, 1)),
                closed: part.map(|(s, len)| Span {
                    start: s,
                    end: (s + len).min(DAY_MINUTES),
                }),
                recurring,
                name: String::new(),
            });
        let holidays = prop::collection::vec(holiday, 0..12);
        let zone = prop::sample::select(vec!["Asia/Jakarta", "Europe/Amsterdam"]);
        (week, holidays, zone, any::<bool>()).prop_map(|(week, holidays, zone, always)| {
            if always {
                BusinessCalendar::always()
            } else {
                BusinessCalendar::new(
                    TimeZone::get(zone).unwrap_or(TimeZone::UTC),
                    week,
                    &holidays,
                )
            }
        })
    }

    /// An instant in 2026 (both changes of daylight saving time in Amsterdam fall inside).
    fn instants() -> impl Strategy<Value = Timestamp> {
        let start = at("UTC", 2026, 1, 1, 0, 0).as_second();
        (0i64..366 * 86_400, 0i32..1_000_000_000)
            .prop_map(move |(s, n)| Timestamp::new(start + s, n).unwrap_or(Timestamp::UNIX_EPOCH))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]

        #[test]
        fn business_time_adds_up_over_adjacent_ranges(
            cal in calendars(), mut t in prop::collection::vec(instants(), 3)
        ) {
            t.sort();
            let (a, b, c) = (t[0], t[1], t[2]);
            prop_assert_eq!(
                cal.business_between(a, b) + cal.business_between(b, c),
                cal.business_between(a, c)
            );
            prop_assert!(cal.business_between(a, c) <= c.duration_since(a));
        }

        #[test]
        fn adding_business_time_and_measuring_back_agree(
            cal in calendars(), start in instants(), secs in 0i64..40 * 86_400, nanos in 0i32..1_000_000_000
        ) {
            let d = SignedDuration::new(secs, nanos);
            if let Some(due) = cal.add_business(start, d) {
                prop_assert_eq!(cal.business_between(start, due), d);
                // It is the first such instant: a nanosecond earlier is short.
                if d > SignedDuration::ZERO {
                    let before = due.checked_sub(SignedDuration::from_nanos(1)).unwrap_or(due);
                    prop_assert!(cal.business_between(start, before) < d);
                }
            }
        }

        #[test]
        fn holidays_are_never_counted(
            cal in calendars(), day in 0i64..365
        ) {
            if cal.is_always() { return Ok(()); }
            let d = date(2026, 1, 1).checked_add(jiff::Span::new().days(day)).unwrap_or(date(2026, 1, 1));
            let expected: i64 = cal.spans_on(d).iter().map(|s| i64::from(s.end - s.start) * 60).sum();
            let a = cal.instant(d, 0);
            let b = cal.instant(d, DAY_MINUTES);
            let measured = cal.business_between(a, b).as_secs();
            // Equal except on a day whose local clock jumps inside business hours.
            let length = b.duration_since(a).as_secs();
            if length == 86_400 {
                prop_assert_eq!(measured, expected);
            } else {
                prop_assert!((measured - expected).abs() <= 3600);
            }
        }
    }
}
