//! Reports: what tasks are grouped by, what is measured of them, and the time buckets of a
//! period in the viewer's time zone (a day is a local day, 23 or 25 hours long across a
//! change of daylight saving time).

use crate::values::{InvalidValue, code_enum};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, ZonedDateTime};
use serde::{Deserialize, Serialize};
use std::fmt;

code_enum!(
    /// A time bucket: the local day, ISO week (from Monday), month or quarter.
    Bucket {
        Day = "day",
        Week = "week",
        Month = "month",
        Quarter = "quarter",
    }
);

code_enum!(
    /// A task's reference or choice field that tasks are grouped by.
    TaskField {
        State = "state",
        Priority = "priority",
        Impact = "impact",
        Urgency = "urgency",
        AssignmentGroup = "assignment_group",
        AssignedTo = "assigned_to",
        Service = "service",
        Ci = "ci",
        Category = "category",
        ContactType = "contact_type",
        Organization = "organization",
        Location = "location",
    }
);

code_enum!(
    /// A task's moment: when it was opened, resolved or closed.
    TaskTime {
        Opened = "opened_at",
        Resolved = "resolved_at",
        Closed = "closed_at",
    }
);

code_enum!(
    /// A number of a task that can be summed, averaged and the rest: durations in seconds
    /// of wall-clock time, or counts.
    TaskNumber {
        TimeToResolve = "time_to_resolve",
        TimeToClose = "time_to_close",
        Reassignments = "reassignment_count",
        Reopens = "reopen_count",
    }
);

code_enum!(
    /// What a report measures of the tasks of a group.
    Aggregate {
        Count = "count",
        Sum = "sum",
        Average = "average",
        Min = "min",
        Max = "max",
        Median = "median",
        P90 = "p90",
    }
);

impl Aggregate {
    /// The percentile it is, for the median and the 90th percentile.
    pub fn percentile(self) -> Option<f64> {
        match self {
            Aggregate::Median => Some(0.5),
            Aggregate::P90 => Some(0.9),
            _ => None,
        }
    }
}

code_enum!(
    /// What tasks are grouped by, as a report or the API names it: a field, or one of the
    /// task's moments cut into buckets (`opened_at:month`).
    GroupBy {
        State = "state",
        Priority = "priority",
        Impact = "impact",
        Urgency = "urgency",
        AssignmentGroup = "assignment_group",
        AssignedTo = "assigned_to",
        Service = "service",
        Ci = "ci",
        Category = "category",
        ContactType = "contact_type",
        Organization = "organization",
        Location = "location",
        OpenedDay = "opened_at:day",
        OpenedWeek = "opened_at:week",
        OpenedMonth = "opened_at:month",
        OpenedQuarter = "opened_at:quarter",
        ResolvedDay = "resolved_at:day",
        ResolvedWeek = "resolved_at:week",
        ResolvedMonth = "resolved_at:month",
        ResolvedQuarter = "resolved_at:quarter",
        ClosedDay = "closed_at:day",
        ClosedWeek = "closed_at:week",
        ClosedMonth = "closed_at:month",
        ClosedQuarter = "closed_at:quarter",
    }
);

/// A grouping as the database runs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    Field(TaskField),
    Time(TaskTime, Bucket),
}

impl GroupBy {
    pub fn dimension(self) -> Dimension {
        use {Bucket::*, Dimension::Time, TaskTime::*};
        let field = Dimension::Field;
        match self {
            GroupBy::State => field(TaskField::State),
            GroupBy::Priority => field(TaskField::Priority),
            GroupBy::Impact => field(TaskField::Impact),
            GroupBy::Urgency => field(TaskField::Urgency),
            GroupBy::AssignmentGroup => field(TaskField::AssignmentGroup),
            GroupBy::AssignedTo => field(TaskField::AssignedTo),
            GroupBy::Service => field(TaskField::Service),
            GroupBy::Ci => field(TaskField::Ci),
            GroupBy::Category => field(TaskField::Category),
            GroupBy::ContactType => field(TaskField::ContactType),
            GroupBy::Organization => field(TaskField::Organization),
            GroupBy::Location => field(TaskField::Location),
            GroupBy::OpenedDay => Time(Opened, Day),
            GroupBy::OpenedWeek => Time(Opened, Week),
            GroupBy::OpenedMonth => Time(Opened, Month),
            GroupBy::OpenedQuarter => Time(Opened, Quarter),
            GroupBy::ResolvedDay => Time(Resolved, Day),
            GroupBy::ResolvedWeek => Time(Resolved, Week),
            GroupBy::ResolvedMonth => Time(Resolved, Month),
            GroupBy::ResolvedQuarter => Time(Resolved, Quarter),
            GroupBy::ClosedDay => Time(Closed, Day),
            GroupBy::ClosedWeek => Time(Closed, Week),
            GroupBy::ClosedMonth => Time(Closed, Month),
            GroupBy::ClosedQuarter => Time(Closed, Quarter),
        }
    }
}

/// The most buckets a period is cut into.
pub const MAX_BUCKETS: usize = 1_000;

/// One time bucket of a period: where it starts and ends, and its name (`2026-03-29`,
/// `2026-W13`, `2026-03`, `2026-Q1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub start: Timestamp,
    pub end: Timestamp,
    pub label: String,
}

/// The buckets that `[from, to)` spans in `tz`: the first holds `from`, the last `to`'s
/// instant just before; each starts at its local start (midnight, or the first moment of the
/// day where midnight is skipped). At most `MAX_BUCKETS`.
pub fn slots(
    bucket: Bucket,
    from: Timestamp,
    to: Timestamp,
    tz: &TimeZone,
) -> Result<Vec<Slot>, InvalidValue> {
    if to <= from {
        return Err(InvalidValue::new(
            "before_start",
            "the period ends before it starts",
        ));
    }
    let too_many = || {
        InvalidValue::new(
            "too_many_buckets",
            format!("the period is cut into more than {MAX_BUCKETS} buckets"),
        )
    };
    let out_of_range = || InvalidValue::new("out_of_range", "the period is out of range");
    let mut date = start_of(bucket, tz.to_datetime(from).date());
    let mut out = Vec::new();
    loop {
        let next = after(bucket, date).map_err(|_| out_of_range())?;
        let start = local_start(date, tz).map_err(|_| out_of_range())?;
        if start >= to {
            break;
        }
        let end = local_start(next, tz).map_err(|_| out_of_range())?;
        if out.len() == MAX_BUCKETS {
            return Err(too_many());
        }
        out.push(Slot {
            start,
            end,
            label: label(bucket, date),
        });
        date = next;
    }
    Ok(out)
}

/// The first day of the bucket that holds `date`.
fn start_of(bucket: Bucket, date: Date) -> Date {
    match bucket {
        Bucket::Day => date,
        Bucket::Week => {
            let back = i64::from(date.weekday().to_monday_zero_offset());
            date.checked_sub(back.days()).unwrap_or(date)
        }
        Bucket::Month => date.first_of_month(),
        Bucket::Quarter => {
            let month = (date.month() - 1) / 3 * 3 + 1;
            Date::new(date.year(), month, 1).unwrap_or(date)
        }
    }
}

/// The first day of the next bucket.
fn after(bucket: Bucket, date: Date) -> Result<Date, jiff::Error> {
    match bucket {
        Bucket::Day => date.checked_add(1.day()),
        Bucket::Week => date.checked_add(1.week()),
        Bucket::Month => date.checked_add(1.month()),
        Bucket::Quarter => date.checked_add(3.months()),
    }
}

/// The first instant of a local day (midnight, or later where the clock skips midnight).
fn local_start(date: Date, tz: &TimeZone) -> Result<Timestamp, jiff::Error> {
    let z: ZonedDateTime = date.to_zoned_datetime(tz.clone())?;
    Ok(z.start_of_day()?.timestamp())
}

fn label(bucket: Bucket, date: Date) -> String {
    match bucket {
        Bucket::Day => date.to_string(),
        Bucket::Week => {
            let iso = date.iso_week_date();
            format!("{:04}-W{:02}", iso.year(), iso.week())
        }
        Bucket::Month => format!("{:04}-{:02}", date.year(), date.month()),
        Bucket::Quarter => format!("{:04}-Q{}", date.year(), (date.month() - 1) / 3 + 1),
    }
}

/// The `p`-th percentile of `values` (0 to 1), between the two nearest values as their
/// distance says (PostgreSQL's `percentile_cont`); none of no values. Sorts `values`.
pub fn percentile(values: &mut [f64], p: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let at = p.clamp(0.0, 1.0) * (values.len() - 1) as f64;
    let (low, high) = (at.floor() as usize, at.ceil() as usize);
    let (a, b) = (values[low], values[high]);
    Some(a + (b - a) * (at - low as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    type R = Result<(), Box<dyn std::error::Error>>;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap_or(Timestamp::UNIX_EPOCH)
    }

    fn amsterdam() -> TimeZone {
        TimeZone::get("Europe/Amsterdam").unwrap_or(TimeZone::UTC)
    }

    #[test]
    fn days_across_the_spring_change_are_local_days() -> R {
        // Summer time began in Amsterdam on Sunday 29 March 2026 at 02:00 (01:00 UTC).
        let s = slots(
            Bucket::Day,
            ts("2026-03-28T12:00:00Z"),
            ts("2026-03-30T12:00:00Z"),
            &amsterdam(),
        )?;
        let got: Vec<(String, i64)> = s
            .iter()
            .map(|s| {
                (
                    s.label.clone(),
                    s.end.duration_since(s.start).as_secs() / 3600,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("2026-03-28".to_owned(), 24),
                ("2026-03-29".to_owned(), 23),
                ("2026-03-30".to_owned(), 24)
            ]
        );
        assert_eq!(s[0].start, ts("2026-03-27T23:00:00Z"));
        assert_eq!(s[2].start, ts("2026-03-29T22:00:00Z"));
        Ok(())
    }

    #[test]
    fn weeks_months_and_quarters_start_where_they_should() -> R {
        let tz = amsterdam();
        let w = slots(
            Bucket::Week,
            ts("2026-10-21T00:00:00Z"),
            ts("2026-10-28T00:00:00Z"),
            &tz,
        )?;
        // Winter time came back on Sunday 25 October 2026: that week has 169 hours.
        assert_eq!(w[0].label, "2026-W43");
        assert_eq!(w[0].start, ts("2026-10-18T22:00:00Z"));
        assert_eq!(w[0].end.duration_since(w[0].start).as_hours(), 169);
        assert_eq!(w[1].label, "2026-W44");
        let m = slots(
            Bucket::Month,
            ts("2026-01-15T00:00:00Z"),
            ts("2027-01-01T00:00:00Z"),
            &tz,
        )?;
        // Midnight UTC on New Year's Day is 01:00 in Amsterdam: January 2027 has begun.
        assert_eq!(m.len(), 13);
        assert_eq!(m[12].label, "2027-01");
        let m = slots(
            Bucket::Month,
            ts("2026-01-15T00:00:00Z"),
            ts("2026-12-31T23:00:00Z"),
            &tz,
        )?;
        assert_eq!(m.len(), 12);
        assert_eq!(m[0].label, "2026-01");
        assert_eq!(m[11].end, ts("2026-12-31T23:00:00Z"));
        let q = slots(
            Bucket::Quarter,
            ts("2026-05-01T00:00:00Z"),
            ts("2026-08-01T00:00:00Z"),
            &tz,
        )?;
        let labels: Vec<&str> = q.iter().map(|s| s.label.as_str()).collect();
        assert_eq!(labels, ["2026-Q2", "2026-Q3"]);
        assert_eq!(q[0].start, ts("2026-03-31T22:00:00Z"));
        Ok(())
    }

    #[test]
    fn a_period_backwards_or_too_finely_cut_is_refused() -> R {
        let tz = TimeZone::UTC;
        let e = slots(
            Bucket::Day,
            ts("2026-02-01T00:00:00Z"),
            ts("2026-01-01T00:00:00Z"),
            &tz,
        )
        .err()
        .ok_or("backwards")?;
        assert_eq!(e.code, "before_start");
        let e = slots(
            Bucket::Day,
            ts("2020-01-01T00:00:00Z"),
            ts("2026-01-01T00:00:00Z"),
            &tz,
        )
        .err()
        .ok_or("too many days")?;
        assert_eq!(e.code, "too_many_buckets");
        Ok(())
    }

    #[test]
    fn every_grouping_names_a_field_or_a_moment_and_bucket() {
        for g in GroupBy::ALL {
            let back = match g.dimension() {
                Dimension::Field(f) => f.code().to_owned(),
                Dimension::Time(t, b) => format!("{}:{}", t.code(), b.code()),
            };
            assert_eq!(back, g.code());
        }
    }

    #[test]
    fn percentiles_lie_between_the_nearest_values() {
        assert_eq!(percentile(&mut [], 0.5), None);
        assert_eq!(percentile(&mut [4.0, 1.0, 3.0, 2.0], 0.5), Some(2.5));
        assert_eq!(percentile(&mut [10.0], 0.9), Some(10.0));
        let mut v: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(percentile(&mut v, 0.9), Some(10.0));
    }
}
