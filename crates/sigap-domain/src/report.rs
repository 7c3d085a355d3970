//! Reports: what tasks are grouped by, what is measured of them, and the time buckets of a
//! period in the viewer's time zone (a day is a local day, 23 or 25 hours long across a
//! change of daylight saving time).

use crate::task::TaskKind;
use crate::values::{InvalidValue, code_enum};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan, ZonedDateTime};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
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
    /// A reference or choice field that a report's records are grouped by: a task's (of a
    /// task, or of the task an SLA clock or an approval is of), or one of the other sources'
    /// own (`Source::fields` says which source has which).
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
        // An SLA clock's agreement.
        Agreement = "agreement",
        // An SLA clock's metric: response or resolution.
        Metric = "metric",
        // The kind of task an SLA clock or an approval is of.
        Kind = "kind",
        // The person asked for an approval.
        Approver = "approver",
        // The worst severity an alert had.
        Severity = "severity",
        // The monitoring tool an alert came from.
        EventSource = "event_source",
        // The host an alert is about.
        Node = "node",
        // A configuration item's class.
        Class = "class",
        // The group that owns a configuration item.
        OwnerGroup = "owner_group",
    }
);

code_enum!(
    /// A moment of a report's records: when a task was opened, resolved or closed; when an
    /// SLA clock started and ended; when an alert was first seen and closed; when an approval
    /// was asked and decided; when a configuration item was recorded.
    TaskTime {
        Opened = "opened_at",
        Resolved = "resolved_at",
        Closed = "closed_at",
        Started = "started_at",
        Ended = "ended_at",
        FirstSeen = "first_at",
        Asked = "asked_at",
        Decided = "decided_at",
        Created = "created_at",
    }
);

code_enum!(
    /// A number of a task that can be summed, averaged and the rest: durations in seconds
    /// of wall-clock time, counts, or yes-or-no flags (1 or 0; a rate is the share of
    /// tasks whose flag is 1). Some are of one process's tasks only (`kinds`). A task
    /// without the number (an unresolved task's time to resolve) is left out of the measure.
    TaskNumber {
        TimeToResolve = "time_to_resolve",
        TimeToClose = "time_to_close",
        // The running time within its SLA calendar (pauses left out) of the task's stopped
        // resolution or response clock (the longest, where several agreements apply).
        BusinessTimeToResolve = "business_time_to_resolve",
        BusinessTimeToRespond = "business_time_to_respond",
        Reassignments = "reassignment_count",
        Reopens = "reopen_count",
        // How long an unresolved task has been open, at the time the report runs.
        Age = "age",
        // Resolved by the group it was first given to, never reassigned nor reopened.
        FirstContactResolution = "first_contact_resolution",
        // Reopened at least once.
        Reopened = "reopened",
        // Every SLA clock of the task met its target (none breached); tasks without a
        // clock have no value.
        SlaMet = "sla_met",
        // How many alerts an incident was raised from or took in (incidents without one
        // have no value).
        Alerts = "alerts",
        // A problem recorded as a known error.
        KnownError = "known_error",
        // From a problem's opening to its known error (its root cause found).
        TimeToKnownError = "time_to_known_error",
        // A change closed with the outcome successful (changes without an outcome have no
        // value).
        Successful = "successful",
        // An emergency change.
        Emergency = "emergency",
        // A change recorded as the cause of one incident or more.
        CausedIncidents = "caused_incidents",
        // A requested item delivered by its promised time (items without a promise, or
        // not delivered yet, have no value).
        OnTime = "on_time",
        // From a requested item's ordering to its promised delivery.
        PromisedTime = "promised_time",
        // How often an article solved a reader's problem so that no ticket was opened.
        Deflections = "deflections",
        // An SLA clock's running time within its calendar, pauses left out.
        BusinessTime = "business_time",
        // From an SLA clock's start to its end (none while it runs).
        ElapsedTime = "elapsed_time",
        // An SLA clock that ended within its target (1) or breached it (0); none while it
        // runs unbreached or once cancelled.
        Met = "met",
        // How many events an alert took in.
        Events = "event_count",
        // From an alert's first event to its acknowledgement.
        TimeToAcknowledge = "time_to_acknowledge",
        // How often an alert flapped.
        Flaps = "flap_count",
        // An alert that raised or joined an incident.
        RaisedIncident = "raised_incident",
        // From an approval's asking to its decision.
        TimeToDecide = "time_to_decide",
        // An approval approved (1) or rejected (0); none while undecided or not required.
        Approved = "approved",
        // How many incidents name a configuration item.
        Incidents = "incidents",
    }
);

code_enum!(
    /// Where an initiative of the improvement register stands.
    ImprovementStatus {
        Proposed = "proposed",
        Approved = "approved",
        InProgress = "in_progress",
        Achieved = "achieved",
        Abandoned = "abandoned",
    }
);

/// What sort of number a `TaskNumber` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberKind {
    /// Seconds of wall-clock time (shown in hours).
    Duration,
    /// A count.
    Count,
    /// 1 or 0.
    Flag,
}

impl TaskNumber {
    pub fn kind(self) -> NumberKind {
        use TaskNumber::*;
        match self {
            TimeToResolve
            | TimeToClose
            | BusinessTimeToResolve
            | BusinessTimeToRespond
            | Age
            | TimeToKnownError
            | PromisedTime
            | BusinessTime
            | ElapsedTime
            | TimeToAcknowledge
            | TimeToDecide => NumberKind::Duration,
            Reassignments | Reopens | Alerts | Deflections | Events | Flaps | Incidents => {
                NumberKind::Count
            }
            FirstContactResolution
            | Reopened
            | SlaMet
            | KnownError
            | Successful
            | Emergency
            | CausedIncidents
            | OnTime
            | Met
            | RaisedIncident
            | Approved => NumberKind::Flag,
        }
    }

    /// Whether it is a duration in seconds (shown in hours to people).
    pub fn is_duration(self) -> bool {
        self.kind() == NumberKind::Duration
    }

    /// The sources whose records have it.
    pub fn sources(self) -> &'static [Source] {
        use Source as S;
        use TaskNumber::*;
        match self {
            Alerts => &[S::Incident, S::Ci],
            KnownError | TimeToKnownError => &[S::Problem],
            Successful | Emergency | CausedIncidents => &[S::Change],
            OnTime | PromisedTime => &[S::RequestItem],
            Deflections => &[S::Article],
            TimeToClose => &[
                S::Incident,
                S::Problem,
                S::Change,
                S::ChangeTask,
                S::Request,
                S::RequestItem,
                S::FulfilmentTask,
                S::Article,
                S::Alert,
            ],
            BusinessTime | ElapsedTime | Met => &[S::SlaClock],
            Events | TimeToAcknowledge | Flaps | RaisedIncident => &[S::Alert],
            TimeToDecide | Approved => &[S::Approval],
            Incidents => &[S::Ci],
            TimeToResolve
            | BusinessTimeToResolve
            | BusinessTimeToRespond
            | Reassignments
            | Reopens
            | Age
            | FirstContactResolution
            | Reopened
            | SlaMet => TASKS,
        }
    }

    /// Whether records of `source` have it.
    pub fn of(self, source: Source) -> bool {
        self.sources().contains(&source)
    }
}

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
        // The share of tasks whose flag is 1, in percent (of a flag only).
        Rate = "rate",
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
        Agreement = "agreement",
        Metric = "metric",
        Kind = "kind",
        Approver = "approver",
        Severity = "severity",
        EventSource = "event_source",
        Node = "node",
        Class = "class",
        OwnerGroup = "owner_group",
        StartedDay = "started_at:day",
        StartedWeek = "started_at:week",
        StartedMonth = "started_at:month",
        StartedQuarter = "started_at:quarter",
        EndedDay = "ended_at:day",
        EndedWeek = "ended_at:week",
        EndedMonth = "ended_at:month",
        EndedQuarter = "ended_at:quarter",
        FirstSeenDay = "first_at:day",
        FirstSeenWeek = "first_at:week",
        FirstSeenMonth = "first_at:month",
        FirstSeenQuarter = "first_at:quarter",
        AskedDay = "asked_at:day",
        AskedWeek = "asked_at:week",
        AskedMonth = "asked_at:month",
        AskedQuarter = "asked_at:quarter",
        DecidedDay = "decided_at:day",
        DecidedWeek = "decided_at:week",
        DecidedMonth = "decided_at:month",
        DecidedQuarter = "decided_at:quarter",
        CreatedDay = "created_at:day",
        CreatedWeek = "created_at:week",
        CreatedMonth = "created_at:month",
        CreatedQuarter = "created_at:quarter",
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
            GroupBy::Agreement => field(TaskField::Agreement),
            GroupBy::Metric => field(TaskField::Metric),
            GroupBy::Kind => field(TaskField::Kind),
            GroupBy::Approver => field(TaskField::Approver),
            GroupBy::Severity => field(TaskField::Severity),
            GroupBy::EventSource => field(TaskField::EventSource),
            GroupBy::Node => field(TaskField::Node),
            GroupBy::Class => field(TaskField::Class),
            GroupBy::OwnerGroup => field(TaskField::OwnerGroup),
            GroupBy::StartedDay => Time(Started, Day),
            GroupBy::StartedWeek => Time(Started, Week),
            GroupBy::StartedMonth => Time(Started, Month),
            GroupBy::StartedQuarter => Time(Started, Quarter),
            GroupBy::EndedDay => Time(Ended, Day),
            GroupBy::EndedWeek => Time(Ended, Week),
            GroupBy::EndedMonth => Time(Ended, Month),
            GroupBy::EndedQuarter => Time(Ended, Quarter),
            GroupBy::FirstSeenDay => Time(FirstSeen, Day),
            GroupBy::FirstSeenWeek => Time(FirstSeen, Week),
            GroupBy::FirstSeenMonth => Time(FirstSeen, Month),
            GroupBy::FirstSeenQuarter => Time(FirstSeen, Quarter),
            GroupBy::AskedDay => Time(Asked, Day),
            GroupBy::AskedWeek => Time(Asked, Week),
            GroupBy::AskedMonth => Time(Asked, Month),
            GroupBy::AskedQuarter => Time(Asked, Quarter),
            GroupBy::DecidedDay => Time(Decided, Day),
            GroupBy::DecidedWeek => Time(Decided, Week),
            GroupBy::DecidedMonth => Time(Decided, Month),
            GroupBy::DecidedQuarter => Time(Decided, Quarter),
            GroupBy::CreatedDay => Time(Created, Day),
            GroupBy::CreatedWeek => Time(Created, Week),
            GroupBy::CreatedMonth => Time(Created, Month),
            GroupBy::CreatedQuarter => Time(Created, Quarter),
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

code_enum!(
    /// How a saved report is shown: a table, a pivot (the second grouping across), a chart
    /// (bars, bars stacked by the second grouping, lines or areas over time, a pie or a
    /// donut), a single score with its trend against the period before, a heat map, or the
    /// list of its newest tasks.
    Display {
        Table = "table",
        Pivot = "pivot",
        Bar = "bar",
        StackedBar = "stacked_bar",
        Line = "line",
        Area = "area",
        Pie = "pie",
        Donut = "donut",
        Score = "score",
        HeatMap = "heat_map",
        List = "list",
    }
);

code_enum!(
    /// A queue of the reader's, as the lists have them: tasks assigned to the reader, to
    /// their groups, or to nobody (open ones, unless the report names states).
    Queue {
        Mine = "mine",
        MyGroups = "my_groups",
        Unassigned = "unassigned",
    }
);

code_enum!(
    /// The period a saved report looks at, as of when it is run: whole local days, weeks
    /// (from Monday), months, quarters or years in the viewer's time zone, or dates given.
    Window {
        Last7Days = "last_7_days",
        Last30Days = "last_30_days",
        Last90Days = "last_90_days",
        Last12Months = "last_12_months",
        ThisWeek = "this_week",
        LastWeek = "last_week",
        ThisMonth = "this_month",
        LastMonth = "last_month",
        ThisQuarter = "this_quarter",
        LastQuarter = "last_quarter",
        ThisYear = "this_year",
        LastYear = "last_year",
        AllTime = "all_time",
        Custom = "custom",
    }
);

impl Window {
    /// The local dates `[start, end)` of the window that holds `today`, or of the one
    /// `back` windows before it (the period a score's trend compares with); none for
    /// `Custom`.
    pub fn dates(self, today: Date, back: i64) -> Option<Result<(Date, Date), jiff::Error>> {
        use Window::*;
        let (first, unit) = match self {
            Last7Days | Last30Days | Last90Days => {
                let n = match self {
                    Last7Days => 7,
                    Last30Days => 30,
                    _ => 90,
                };
                let end = today.checked_add((1 - back * n).days());
                return Some(end.and_then(|end| Ok((end.checked_sub(n.days())?, end))));
            }
            Last12Months => {
                let end = today.first_of_month().checked_add((1 - back * 12).months());
                return Some(end.and_then(|end| Ok((end.checked_sub(12.months())?, end))));
            }
            ThisWeek => (start_of(Bucket::Week, today), 1.week()),
            LastWeek => (
                start_of(Bucket::Week, today).checked_sub(1.week()).ok()?,
                1.week(),
            ),
            ThisMonth => (today.first_of_month(), 1.month()),
            LastMonth => (
                today.first_of_month().checked_sub(1.month()).ok()?,
                1.month(),
            ),
            ThisQuarter => (start_of(Bucket::Quarter, today), 3.months()),
            LastQuarter => (
                start_of(Bucket::Quarter, today)
                    .checked_sub(3.months())
                    .ok()?,
                3.months(),
            ),
            ThisYear => (Date::new(today.year(), 1, 1).ok()?, 1.year()),
            LastYear => (Date::new(today.year() - 1, 1, 1).ok()?, 1.year()),
            AllTime | Custom => return None,
        };
        let start = (0..back).try_fold(first, |d, _| d.checked_sub(unit));
        Some(start.and_then(|s| Ok((s, s.checked_add(unit)?))))
    }

    /// The instants `[from, to)` of the window as of `now` in `tz` (`back` windows before,
    /// as `dates` says); none for `Custom`.
    pub fn bounds(
        self,
        now: Timestamp,
        tz: &TimeZone,
        back: i64,
    ) -> Option<Result<(Timestamp, Timestamp), InvalidValue>> {
        let today = tz.to_datetime(now).date();
        let out_of_range = |_| InvalidValue::new("out_of_range", "the period is out of range");
        if self == Window::AllTime {
            // Everything up to the end of today (the same whatever `back` is).
            let end = today
                .checked_add(1.day())
                .and_then(|d| local_start(d, tz))
                .map_err(out_of_range);
            return Some(end.map(|end| (EARLIEST, end)));
        }
        self.dates(today, back).map(|d| {
            let (a, b) = d.map_err(out_of_range)?;
            Ok((
                local_start(a, tz).map_err(out_of_range)?,
                local_start(b, tz).map_err(out_of_range)?,
            ))
        })
    }
}

code_enum!(
    /// What a report is over: the tasks of one process, or the SLA clocks (of the tasks),
    /// the configuration items, the alerts or the approvals (of the tasks).
    Source {
        Incident = "incident",
        Problem = "problem",
        Change = "change",
        ChangeTask = "change_task",
        Request = "request",
        RequestItem = "request_item",
        FulfilmentTask = "fulfilment_task",
        Article = "article",
        SlaClock = "sla_clock",
        Ci = "ci",
        Alert = "alert",
        Approval = "approval",
    }
);

/// Every source a report can be over.
pub const SOURCES: &[Source] = Source::ALL;

/// The sources that are tasks.
const TASKS: &[Source] = &[
    Source::Incident,
    Source::Problem,
    Source::Change,
    Source::ChangeTask,
    Source::Request,
    Source::RequestItem,
    Source::FulfilmentTask,
    Source::Article,
];

impl Source {
    /// The kind of task it is, if it is one.
    pub fn task_kind(self) -> Option<TaskKind> {
        Some(match self {
            Source::Incident => TaskKind::Incident,
            Source::Problem => TaskKind::Problem,
            Source::Change => TaskKind::Change,
            Source::ChangeTask => TaskKind::ChangeTask,
            Source::Request => TaskKind::Request,
            Source::RequestItem => TaskKind::RequestItem,
            Source::FulfilmentTask => TaskKind::FulfilmentTask,
            Source::Article => TaskKind::Article,
            Source::SlaClock | Source::Ci | Source::Alert | Source::Approval => return None,
        })
    }

    /// Whether each of its records is of one task (a task, its SLA clock, its approval):
    /// those are filtered by the task's priority and category, and seen as the task is.
    pub fn of_tasks(self) -> bool {
        !matches!(self, Source::Ci | Source::Alert)
    }

    /// The fields its records are grouped by.
    pub fn fields(self) -> &'static [TaskField] {
        use TaskField::*;
        match self {
            Source::SlaClock => &[
                State,
                Agreement,
                Metric,
                Kind,
                Priority,
                Impact,
                Urgency,
                AssignmentGroup,
                AssignedTo,
                Service,
                Ci,
                Category,
                ContactType,
                Organization,
                Location,
            ],
            Source::Approval => &[
                State,
                Approver,
                Kind,
                Priority,
                AssignmentGroup,
                AssignedTo,
                Service,
                Category,
                Organization,
            ],
            Source::Alert => &[State, Severity, EventSource, Node, Ci],
            Source::Ci => &[State, Class, OwnerGroup, Location],
            _ => &[
                State,
                Priority,
                Impact,
                Urgency,
                AssignmentGroup,
                AssignedTo,
                Service,
                Ci,
                Category,
                ContactType,
                Organization,
                Location,
            ],
        }
    }

    /// The moments of its records, the first its period's by default.
    pub fn moments(self) -> &'static [TaskTime] {
        use TaskTime::*;
        match self {
            Source::SlaClock => &[Started, Ended],
            Source::Approval => &[Asked, Decided],
            Source::Alert => &[FirstSeen, Closed],
            Source::Ci => &[Created],
            _ => &[Opened, Resolved, Closed],
        }
    }

    /// The moment its period is of unless another is named.
    pub fn default_moment(self) -> TaskTime {
        self.moments()[0]
    }

    /// The state codes of a source that is not a task (a task's are its process's): an SLA
    /// clock's stage, a configuration item's status, an alert's or an approval's state.
    pub fn states(self) -> Option<&'static [&'static str]> {
        match self {
            Source::SlaClock => {
                Some(&["in_progress", "paused", "achieved", "breached", "cancelled"])
            }
            Source::Ci => Some(&[
                "planned",
                "in_build",
                "operational",
                "maintenance",
                "retired",
            ]),
            Source::Alert => Some(&["open", "acknowledged", "flapping", "closed"]),
            Source::Approval => Some(&[
                "not_yet",
                "requested",
                "approved",
                "rejected",
                "not_required",
            ]),
            _ => None,
        }
    }
}

/// Why records of `source` cannot be grouped by `g`, if they cannot.
pub fn groupable(source: Source, g: GroupBy) -> Option<InvalidValue> {
    let fits = match g.dimension() {
        Dimension::Field(f) => source.fields().contains(&f),
        Dimension::Time(t, _) => source.moments().contains(&t),
    };
    (!fits).then(|| {
        InvalidValue::new(
            "not_of_source",
            format!("{} is not a grouping of a {}", g.code(), source.code()),
        )
    })
}

/// Why the period of a report over `source` cannot be of `t`, if it cannot.
pub fn timed(source: Source, t: TaskTime) -> Option<InvalidValue> {
    (!source.moments().contains(&t)).then(|| {
        let codes: Vec<&str> = source.moments().iter().map(|m| m.code()).collect();
        InvalidValue::new(
            "not_of_source",
            format!(
                "a {} has the moments {}, not {}",
                source.code(),
                codes.join(", "),
                t.code()
            ),
        )
    })
}

/// The most states a report's filter names.
pub const MAX_STATES: usize = 20;

/// A saved report's definition: the tasks it is over (a source, a filter, a period), what it
/// groups them by and measures, and how it is shown. Read whole from JSON by `parse`, which
/// says every fault with its field; written back by `to_json`.
#[derive(Debug, Clone, PartialEq)]
pub struct Definition {
    pub source: Source,
    /// At most two, not the same twice.
    pub group_by: Vec<GroupBy>,
    pub measure: Aggregate,
    /// What the measure is of: some unless it counts.
    pub of: Option<TaskNumber>,
    /// The moment the period is of.
    pub time: TaskTime,
    pub window: Window,
    /// The period of a `Custom` window, `from` before `to`.
    pub custom: Option<(Timestamp, Timestamp)>,
    /// The time zone of its buckets and window; none: the viewer's.
    pub time_zone: Option<String>,
    /// State codes of the source's process (checked against it where the report is run).
    pub states: Vec<String>,
    pub priority: Option<i64>,
    pub category: Option<String>,
    /// The reader's queue: their own tasks, their groups', or nobody's.
    pub queue: Option<Queue>,
    pub display: Display,
    /// A target line for the measure (a KPI's).
    pub target: Option<f64>,
}

/// A fault of a definition: the field and what is wrong with it.
pub type Fault = (String, InvalidValue);

impl Definition {
    /// A definition from its JSON object: `source` is required; by default it counts the
    /// tasks opened in the last 30 days, in one line, shown as a table.
    pub fn parse(v: &Value) -> Result<Definition, Vec<Fault>> {
        const FIELDS: &[&str] = &[
            "source",
            "group_by",
            "measure",
            "of",
            "time",
            "period",
            "from",
            "to",
            "time_zone",
            "state",
            "priority",
            "category",
            "queue",
            "display",
            "target",
        ];
        let mut errs: Vec<Fault> = Vec::new();
        let fault =
            |f: &str, code: &'static str, m: String| (f.to_owned(), InvalidValue::new(code, m));
        let Some(o) = v.as_object() else {
            return Err(vec![fault(
                "definition",
                "invalid_type",
                "a report's definition is a JSON object".into(),
            )]);
        };
        for k in o.keys() {
            if !FIELDS.contains(&k.as_str()) {
                errs.push(fault(
                    k,
                    "unknown_field",
                    format!(
                        "is not a field of a report; the fields are {}",
                        FIELDS.join(", ")
                    ),
                ));
            }
        }
        let text = |k: &str, errs: &mut Vec<Fault>| -> Option<String> {
            match o.get(k) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if s.trim().is_empty() => {
                    errs.push(fault(
                        k,
                        "invalid_value",
                        "must not be empty (leave it out instead)".into(),
                    ));
                    None
                }
                Some(Value::String(s)) => Some(s.trim().to_owned()),
                Some(_) => {
                    errs.push(fault(k, "invalid_type", "must be a text".into()));
                    None
                }
            }
        };
        fn code<T>(
            k: &str,
            t: Option<String>,
            parse: fn(&str) -> Result<T, InvalidValue>,
            errs: &mut Vec<Fault>,
        ) -> Option<T> {
            let t = t?;
            parse(&t).map_err(|e| errs.push((k.to_owned(), e))).ok()
        }
        let source = match text("source", &mut errs) {
            None => {
                errs.push(fault("source", "required", "is required".into()));
                None
            }
            Some(t) => code("source", Some(t), Source::parse, &mut errs),
        };
        let mut group_by = Vec::new();
        match o.get("group_by") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) if list.len() > 2 => {
                errs.push(fault("group_by", "too_many", "at most 2 groupings".into()))
            }
            Some(Value::Array(list)) => {
                for (i, g) in list.iter().enumerate() {
                    match g.as_str().map(GroupBy::parse) {
                        Some(Ok(g)) if group_by.contains(&g) => errs.push(fault(
                            "group_by",
                            "repeated",
                            "the two groupings are the same".into(),
                        )),
                        Some(Ok(g)) => {
                            if let Some(e) = source.and_then(|s| groupable(s, g)) {
                                errs.push((format!("group_by[{i}]"), e));
                            }
                            group_by.push(g)
                        }
                        Some(Err(e)) => errs.push((format!("group_by[{i}]"), e)),
                        None => errs.push(fault(
                            &format!("group_by[{i}]"),
                            "invalid_type",
                            "must be a text".into(),
                        )),
                    }
                }
            }
            Some(_) => errs.push(fault("group_by", "invalid_type", "must be a list".into())),
        }
        let measure = code(
            "measure",
            text("measure", &mut errs),
            Aggregate::parse,
            &mut errs,
        )
        .unwrap_or(Aggregate::Count);
        let of = code("of", text("of", &mut errs), TaskNumber::parse, &mut errs);
        if measure != Aggregate::Count && of.is_none() && !errs.iter().any(|e| e.0 == "of") {
            errs.push(fault(
                "of",
                "required",
                "is required to measure anything but a count".into(),
            ));
        }
        if let (Some(source), Some(of)) = (source, of)
            && let Some(e) = measurable(source, measure, of)
        {
            errs.push(("of".into(), e));
        }
        let time = code("time", text("time", &mut errs), TaskTime::parse, &mut errs);
        if let (Some(source), Some(t)) = (source, time)
            && let Some(e) = timed(source, t)
        {
            errs.push(("time".into(), e));
        }
        let time = time
            .or(source.map(Source::default_moment))
            .unwrap_or(TaskTime::Opened);
        let window = code(
            "period",
            text("period", &mut errs),
            Window::parse,
            &mut errs,
        )
        .unwrap_or(Window::Last30Days);
        let instant = |k: &str, errs: &mut Vec<Fault>| -> Option<Timestamp> {
            // An empty text is no time (unlike the other fields, where it is none).
            let t = match o.get(k) {
                Some(Value::String(s)) if s.trim().is_empty() => " ".to_owned(),
                _ => text(k, errs)?,
            };
            match t.parse::<Timestamp>() {
                Ok(ts) if ts >= EARLIEST => Some(ts),
                Ok(_) => {
                    errs.push(fault(
                        k,
                        "out_of_range",
                        "must be in the year 1 or later".into(),
                    ));
                    None
                }
                Err(_) => {
                    errs.push(fault(
                        k,
                        "invalid_value",
                        "must be a time in RFC 3339, such as 2026-01-31T00:00:00Z".into(),
                    ));
                    None
                }
            }
        };
        let (from, to) = (instant("from", &mut errs), instant("to", &mut errs));
        let custom = match (window, from, to) {
            (Window::Custom, Some(f), Some(t)) if f < t => Some((f, t)),
            (Window::Custom, Some(_), Some(_)) => {
                errs.push(fault(
                    "to",
                    "before_start",
                    "the period ends before it starts".into(),
                ));
                None
            }
            (Window::Custom, ..) => {
                if !errs.iter().any(|e| e.0 == "from" || e.0 == "to") {
                    errs.push(fault(
                        "from",
                        "required",
                        "a custom period needs from and to".into(),
                    ));
                }
                None
            }
            _ => None,
        };
        let time_zone = text("time_zone", &mut errs);
        if let Some(z) = &time_zone
            && TimeZone::get(z).is_err()
        {
            errs.push(fault(
                "time_zone",
                "invalid_value",
                "must be a time zone of the IANA database, such as Europe/Amsterdam".into(),
            ));
        }
        let mut states = Vec::new();
        match o.get("state") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) if list.len() > MAX_STATES => errs.push(fault(
                "state",
                "too_many",
                format!("at most {MAX_STATES} states"),
            )),
            Some(Value::Array(list)) => {
                for (i, s) in list.iter().enumerate() {
                    match s.as_str().map(str::trim) {
                        Some(s) if !s.is_empty() && s.len() <= 40 => {
                            if !states.iter().any(|x| x == s) {
                                states.push(s.to_owned());
                            }
                        }
                        _ => errs.push(fault(
                            &format!("state[{i}]"),
                            "invalid_value",
                            "must be a state's code".into(),
                        )),
                    }
                }
            }
            Some(_) => errs.push(fault(
                "state",
                "invalid_type",
                "must be a list of state codes".into(),
            )),
        }
        let priority = match o.get("priority") {
            None | Some(Value::Null) => None,
            Some(p) => match p.as_i64() {
                Some(p) if (1..=5).contains(&p) => Some(p),
                _ => {
                    errs.push(fault(
                        "priority",
                        "out_of_range",
                        "must be a priority from 1 to 5".into(),
                    ));
                    None
                }
            },
        };
        let category = text("category", &mut errs);
        if category.as_ref().is_some_and(|c| c.chars().count() > 100) {
            errs.push(fault(
                "category",
                "too_long",
                "at most 100 characters".into(),
            ));
        }
        let queue = code("queue", text("queue", &mut errs), Queue::parse, &mut errs);
        if let Some(source) = source {
            let not_of = |what: &str| {
                InvalidValue::new(
                    "not_of_source",
                    format!("a {} has no {what}", source.code()),
                )
            };
            if !source.of_tasks() && priority.is_some() {
                errs.push(("priority".into(), not_of("priority")));
            }
            if !source.of_tasks() && category.is_some() {
                errs.push(("category".into(), not_of("category")));
            }
            if source.task_kind().is_none() && queue.is_some() {
                errs.push(("queue".into(), not_of("queue")));
            }
            if let Some(known) = source.states() {
                for (i, st) in states.iter().enumerate() {
                    if !known.contains(&st.as_str()) {
                        errs.push((
                            format!("state[{i}]"),
                            InvalidValue::new(
                                "invalid_choice",
                                format!("must be one of: {}", known.join(", ")),
                            ),
                        ));
                    }
                }
            }
        }
        let display = code(
            "display",
            text("display", &mut errs),
            Display::parse,
            &mut errs,
        )
        .unwrap_or(Display::Table);
        let target = match o.get("target") {
            None | Some(Value::Null) => None,
            Some(t) => match t.as_f64() {
                Some(t) if t.is_finite() && t.abs() < 1e15 => Some(t),
                _ => {
                    errs.push(fault("target", "invalid_value", "must be a number".into()));
                    None
                }
            },
        };
        if let Some(e) = fits(display, &group_by) {
            errs.push(("display".to_owned(), e));
        }
        match (source, errs.is_empty()) {
            (Some(source), true) => Ok(Definition {
                source,
                group_by,
                measure,
                of: of.filter(|_| measure != Aggregate::Count),
                time,
                window,
                custom,
                time_zone,
                states,
                priority,
                category,
                queue,
                display,
                target,
            }),
            _ => Err(errs),
        }
    }

    /// The definition as JSON, as `parse` reads it.
    pub fn to_json(&self) -> Value {
        let mut o = Map::new();
        o.insert("source".into(), json!(self.source.code()));
        o.insert(
            "group_by".into(),
            json!(self.group_by.iter().map(|g| g.code()).collect::<Vec<_>>()),
        );
        o.insert("measure".into(), json!(self.measure.code()));
        o.insert("of".into(), json!(self.of.map(TaskNumber::code)));
        o.insert("time".into(), json!(self.time.code()));
        o.insert("period".into(), json!(self.window.code()));
        o.insert("from".into(), json!(self.custom.map(|c| c.0.to_string())));
        o.insert("to".into(), json!(self.custom.map(|c| c.1.to_string())));
        o.insert("time_zone".into(), json!(self.time_zone));
        o.insert("state".into(), json!(self.states));
        o.insert("priority".into(), json!(self.priority));
        o.insert("category".into(), json!(self.category));
        o.insert("queue".into(), json!(self.queue.map(Queue::code)));
        o.insert("display".into(), json!(self.display.code()));
        o.insert("target".into(), json!(self.target));
        Value::Object(o)
    }
}

/// Why a display cannot show the groupings given, if it cannot.
pub fn fits(display: Display, group_by: &[GroupBy]) -> Option<InvalidValue> {
    let over_time = group_by
        .first()
        .is_some_and(|g| matches!(g.dimension(), Dimension::Time(..)));
    let why = match display {
        Display::Table => return None,
        Display::Bar if group_by.is_empty() => "a bar chart needs a grouping",
        Display::Pie | Display::Donut if group_by.len() != 1 => {
            "a pie or a donut shows exactly one grouping"
        }
        Display::StackedBar | Display::Pivot | Display::HeatMap if group_by.len() != 2 => {
            "a stacked bar, a pivot or a heat map needs two groupings"
        }
        Display::Line | Display::Area if !over_time => {
            "a line or an area chart needs a time bucket as its first grouping"
        }
        Display::Score if !group_by.is_empty() => "a score is one number, without groupings",
        Display::List if !group_by.is_empty() => "a list shows tasks, without groupings",
        _ => return None,
    };
    Some(InvalidValue::new("unfit_display", why))
}

/// Why `measure` cannot be of `of` over tasks of `source`, if it cannot: a number the
/// source's tasks do not have, or a rate of what is not a flag.
pub fn measurable(source: Source, measure: Aggregate, of: TaskNumber) -> Option<InvalidValue> {
    if measure == Aggregate::Count {
        return None;
    }
    if !of.of(source) {
        return Some(InvalidValue::new(
            "not_of_source",
            format!("{} is not a number of a {}", of.code(), source.code()),
        ));
    }
    if measure == Aggregate::Rate && of.kind() != NumberKind::Flag {
        return Some(InvalidValue::new(
            "not_a_flag",
            format!(
                "a rate is of a yes-or-no number, and {} is not one",
                of.code()
            ),
        ));
    }
    None
}

/// 0001-01-01T00:00:00Z, the earliest time a report looks at (PostgreSQL holds nothing
/// earlier).
pub const EARLIEST: Timestamp = Timestamp::constant(-62_135_596_800, 0);

code_enum!(
    /// Who a saved report is shared with, beside its owner.
    Audience {
        Private = "private",
        Groups = "groups",
        Roles = "roles",
        Everyone = "everyone",
    }
);

code_enum!(
    /// A panel of Sigap's own on a dashboard: the clocks that run out soon, the major
    /// incidents going on, the SLA compliance of the last 30 days, the announcements running
    /// for the reader.
    Panel {
        BreachingSoon = "breaching_soon",
        MajorIncidents = "major_incidents",
        SlaCompliance = "sla_compliance",
        Announcements = "announcements",
    }
);

/// What a dashboard's tile shows: a saved report, or a panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TileKind {
    Report(crate::ReportId),
    Panel(Panel),
}

/// A tile of a dashboard: what it shows, and whether it spans the dashboard's width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tile {
    pub kind: TileKind,
    pub wide: bool,
}

/// The most tiles of a dashboard.
pub const MAX_TILES: usize = 24;

impl Tile {
    /// Tiles from their JSON list: each `{"report": id}` or `{"panel": code}`, with
    /// `"wide": true` to span the width. Every fault, with its place.
    pub fn parse_all(v: &Value) -> Result<Vec<Tile>, Vec<Fault>> {
        let fault = |f: String, code: &'static str, m: &str| (f, InvalidValue::new(code, m));
        let list = match v {
            Value::Null => return Ok(Vec::new()),
            Value::Array(a) if a.len() > MAX_TILES => {
                return Err(vec![fault(
                    "tiles".into(),
                    "too_many",
                    &format!("at most {MAX_TILES} tiles"),
                )]);
            }
            Value::Array(a) => a,
            _ => {
                return Err(vec![fault(
                    "tiles".into(),
                    "invalid_type",
                    "must be a list",
                )]);
            }
        };
        let mut out = Vec::new();
        let mut errs = Vec::new();
        for (i, t) in list.iter().enumerate() {
            let at = format!("tiles[{i}]");
            let Some(o) = t.as_object() else {
                errs.push(fault(at, "invalid_type", "a tile is a JSON object"));
                continue;
            };
            if let Some(k) = o
                .keys()
                .find(|k| !matches!(k.as_str(), "report" | "panel" | "wide"))
            {
                errs.push(fault(
                    format!("{at}.{k}"),
                    "unknown_field",
                    "is not a field of a tile; the fields are report, panel, wide",
                ));
                continue;
            }
            let wide = match o.get("wide") {
                None | Some(Value::Null) => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => {
                    errs.push(fault(
                        format!("{at}.wide"),
                        "invalid_type",
                        "must be true or false",
                    ));
                    continue;
                }
            };
            let kind = match (
                o.get("report").and_then(Value::as_str),
                o.get("panel").and_then(Value::as_str),
            ) {
                (Some(r), None) => match crate::ReportId::parse(r.trim()) {
                    Some(id) => TileKind::Report(id),
                    None => {
                        errs.push(fault(
                            format!("{at}.report"),
                            "invalid_value",
                            "must be a report's id",
                        ));
                        continue;
                    }
                },
                (None, Some(p)) => match Panel::parse(p) {
                    Ok(p) => TileKind::Panel(p),
                    Err(e) => {
                        errs.push((format!("{at}.panel"), e));
                        continue;
                    }
                },
                _ => {
                    errs.push(fault(
                        at,
                        "invalid_value",
                        "a tile names a report or a panel",
                    ));
                    continue;
                }
            };
            out.push(Tile { kind, wide });
        }
        match errs.is_empty() {
            true => Ok(out),
            false => Err(errs),
        }
    }

    /// Tiles as JSON, as `parse_all` reads them.
    pub fn to_json(tiles: &[Tile]) -> Value {
        Value::Array(
            tiles
                .iter()
                .map(|t| match t.kind {
                    TileKind::Report(id) => json!({"report": id.to_string(), "wide": t.wide}),
                    TileKind::Panel(p) => json!({"panel": p.code(), "wide": t.wide}),
                })
                .collect(),
        )
    }
}

code_enum!(
    /// How often a scheduled report is sent: every day, every working day (Monday to
    /// Friday), once a week on a weekday, or once a month on a day.
    Every {
        Daily = "daily",
        Weekdays = "weekdays",
        Weekly = "weekly",
        Monthly = "monthly",
    }
);

/// When a scheduled report is sent: how often, on which weekday (1 = Monday … 7 = Sunday)
/// or day of the month (1 to 28, which every month has), at which hour, in which time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cadence {
    pub every: Every,
    pub weekday: Option<i8>,
    pub day: Option<i8>,
    pub hour: i8,
    pub time_zone: String,
}

impl Cadence {
    /// A cadence from its fields; every fault, with its field.
    pub fn new(
        every: Every,
        weekday: Option<i64>,
        day: Option<i64>,
        hour: i64,
        time_zone: &str,
    ) -> Result<Cadence, Vec<Fault>> {
        let mut errs: Vec<Fault> = Vec::new();
        let mut fault = |f: &str, code: &'static str, m: &str| {
            errs.push((f.to_owned(), InvalidValue::new(code, m)))
        };
        let weekday = match (every, weekday) {
            (Every::Weekly, Some(w)) if (1..=7).contains(&w) => Some(w as i8),
            (Every::Weekly, Some(_)) => {
                fault(
                    "weekday",
                    "out_of_range",
                    "must be 1 (Monday) to 7 (Sunday)",
                );
                None
            }
            (Every::Weekly, None) => {
                fault("weekday", "required", "a weekly report names its weekday");
                None
            }
            _ => None,
        };
        let day = match (every, day) {
            (Every::Monthly, Some(d)) if (1..=28).contains(&d) => Some(d as i8),
            (Every::Monthly, Some(_)) => {
                fault("day", "out_of_range", "must be a day from 1 to 28");
                None
            }
            (Every::Monthly, None) => {
                fault("day", "required", "a monthly report names its day");
                None
            }
            _ => None,
        };
        if !(0..=23).contains(&hour) {
            fault("hour", "out_of_range", "must be an hour from 0 to 23");
        }
        let zone = time_zone.trim();
        if TimeZone::get(zone).is_err() {
            fault(
                "time_zone",
                "invalid_value",
                "must be a time zone of the IANA database, such as Asia/Jakarta",
            );
        }
        match errs.is_empty() {
            true => Ok(Cadence {
                every,
                weekday,
                day,
                hour: hour as i8,
                time_zone: zone.to_owned(),
            }),
            false => Err(errs),
        }
    }

    fn due_on(&self, date: Date) -> bool {
        let weekday = date.weekday().to_monday_one_offset();
        match self.every {
            Every::Daily => true,
            Every::Weekdays => weekday <= 5,
            Every::Weekly => Some(weekday) == self.weekday,
            Every::Monthly => Some(date.day()) == self.day,
        }
    }

    /// The first time it is due strictly after `after` (the hour in its time zone; where
    /// the clocks skip that hour, the moment after the gap).
    pub fn next_after(&self, after: Timestamp) -> Result<Timestamp, InvalidValue> {
        let out_of_range = |_| InvalidValue::new("out_of_range", "the time is out of range");
        let tz = TimeZone::get(&self.time_zone).map_err(out_of_range)?;
        let mut date = tz.to_datetime(after).date();
        // A month holds every cadence's day; two leave room for the clocks.
        for _ in 0..70 {
            if self.due_on(date) {
                let at = date
                    .at(self.hour, 0, 0, 0)
                    .to_zoned_datetime(tz.clone())
                    .map_err(out_of_range)?
                    .timestamp();
                if at > after {
                    return Ok(at);
                }
            }
            date = date.checked_add(1.day()).map_err(out_of_range)?;
        }
        Err(InvalidValue::new(
            "out_of_range",
            "the time is out of range",
        ))
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
    fn cadences_fall_on_their_local_hour_across_a_clock_change() -> R {
        let weekly = Cadence::new(Every::Weekly, Some(1), None, 8, "Europe/Amsterdam")
            .map_err(|e| format!("{e:?}"))?;
        // Thursday 26 March 2026 → Monday 30 March, 08:00 summer time (06:00 UTC).
        assert_eq!(
            weekly.next_after(ts("2026-03-26T12:00:00Z"))?,
            ts("2026-03-30T06:00:00Z")
        );
        // Monday 23 March 08:00 winter time is 07:00 UTC; just after it, the next week's.
        assert_eq!(
            weekly.next_after(ts("2026-03-23T07:00:00Z"))?,
            ts("2026-03-30T06:00:00Z")
        );
        let workdays = Cadence::new(Every::Weekdays, None, None, 7, "Asia/Jakarta")
            .map_err(|e| format!("{e:?}"))?;
        // Friday 27 March 2026 after 07:00 in Jakarta → Monday 30 March 07:00 (00:00 UTC).
        assert_eq!(
            workdays.next_after(ts("2026-03-27T01:00:00Z"))?,
            ts("2026-03-30T00:00:00Z")
        );
        let monthly = Cadence::new(Every::Monthly, None, Some(28), 23, "UTC")
            .map_err(|e| format!("{e:?}"))?;
        assert_eq!(
            monthly.next_after(ts("2026-02-28T23:00:00Z"))?,
            ts("2026-03-28T23:00:00Z")
        );
        // 02:30 does not happen on 29 March in Amsterdam: the run is just after the gap.
        let daily = Cadence::new(Every::Daily, None, None, 2, "Europe/Amsterdam")
            .map_err(|e| format!("{e:?}"))?;
        assert_eq!(
            daily.next_after(ts("2026-03-28T12:00:00Z"))?,
            ts("2026-03-29T01:00:00Z")
        );
        for (every, weekday, day, hour, zone, field) in [
            (Every::Weekly, None, None, 8, "UTC", "weekday"),
            (Every::Weekly, Some(8), None, 8, "UTC", "weekday"),
            (Every::Monthly, None, Some(31), 8, "UTC", "day"),
            (Every::Daily, None, None, 24, "UTC", "hour"),
            (Every::Daily, None, None, 8, "Mars/Base", "time_zone"),
        ] {
            let e = Cadence::new(every, weekday, day, hour, zone)
                .err()
                .unwrap_or_default();
            assert_eq!(e.first().map(|e| e.0.as_str()), Some(field));
        }
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
