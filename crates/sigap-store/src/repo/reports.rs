//! Reports computed by the database on either engine: over a process's tasks (those a
//! queue's filter and the viewer's visibility let through) or over the SLA clocks, the
//! configuration items, the alerts or the approvals; over a period of one of their moments,
//! grouped by up to two fields or time buckets, with one measure of each group.

use super::list::{Select, Val};
use super::task::{Extension, Record, TaskFilter, TaskSort, key_column, narrow, page_of};
use crate::error::StoreResult;
use crate::tx::{Dialect, Tx};
use jiff::Timestamp;
use sigap_domain::OrgId;
use sigap_domain::report::{Aggregate, EARLIEST, Slot, Source, TaskField, TaskNumber, TaskTime};

/// What a report groups tasks by.
#[derive(Debug, Clone, PartialEq)]
pub enum Group {
    /// A reference or choice field.
    Field(TaskField),
    /// The bucket one of the task's moments falls in (from `report::slots`).
    Time(TaskTime, Vec<Slot>),
}

/// A report over the tasks of `E`'s process.
#[derive(Debug, Clone)]
pub struct TaskReport<'a, S> {
    /// The queue's conditions and the viewer's visibility.
    pub filter: &'a TaskFilter<S>,
    /// The tasks whose moment falls in `[from, to)`.
    pub period: (TaskTime, Timestamp, Timestamp),
    /// At most two.
    pub groups: &'a [Group],
    pub measure: Aggregate,
    /// What the measure is of (none for a count).
    pub number: Option<TaskNumber>,
    /// When the report runs (what an age is counted to).
    pub now: Timestamp,
}

/// One group's key: an id, a code or a number as text, or a bucket's label (none: tasks
/// without one), and its name where it has one (a group's, a service's…).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    pub key: Option<String>,
    pub name: Option<String>,
}

/// One line of a report: its key for each group, how many tasks it counts, and the measure.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub keys: Vec<Key>,
    pub count: i64,
    /// The measure (the count again for a count); none when no task of the line has the number.
    pub value: Option<f64>,
}

/// The most lines a report returns.
pub const MAX_LINES: i64 = 10_000;

/// A task's column for a moment (a task has no other).
fn time_column(t: TaskTime) -> &'static str {
    match t {
        TaskTime::Resolved => "t.resolved_at",
        TaskTime::Closed => "t.closed_at",
        _ => "t.opened_at",
    }
}

/// A field's key as SQL and, for a reference, its name and the join the name needs.
type FieldSql = (String, Option<(String, String)>);

/// A field's key as SQL and, for a reference (a UUID key), its name and the join the name
/// needs (`n` tells joins apart).
fn field_sql(f: TaskField, n: usize) -> FieldSql {
    let referenced = |column: &str, table: &str| reference(&format!("t.{column}"), table, n);
    let plain = |expr: &str| (expr.to_owned(), None);
    match f {
        TaskField::State => plain("t.state"),
        TaskField::Priority => plain("CAST(t.priority AS TEXT)"),
        TaskField::Impact => plain("CAST(t.impact AS TEXT)"),
        TaskField::Urgency => plain("CAST(t.urgency AS TEXT)"),
        TaskField::Category => plain("t.category"),
        TaskField::ContactType => plain("t.contact_type"),
        TaskField::AssignmentGroup => referenced("assignment_group_id", "support_group"),
        TaskField::AssignedTo => referenced("assigned_to_id", "person"),
        TaskField::Service => referenced("service_id", "service"),
        TaskField::Ci => referenced("ci_id", "ci"),
        TaskField::Organization => referenced("organization_id", "organization"),
        TaskField::Location => referenced("location_id", "location"),
        // A task's kind (of an SLA clock's or an approval's task; a task report is of one).
        TaskField::Kind => plain("t.kind"),
        TaskField::Agreement
        | TaskField::Metric
        | TaskField::Approver
        | TaskField::Severity
        | TaskField::EventSource
        | TaskField::Node
        | TaskField::Class
        | TaskField::OwnerGroup => plain("NULL"),
    }
}

/// A reference `column` (a UUID) as a key, with the name of the row of `table` it names.
fn reference(column: &str, table: &str, n: usize) -> FieldSql {
    (
        column.to_owned(),
        Some((
            format!("r{n}.name"),
            format!(" LEFT JOIN {table} r{n} ON r{n}.id = {column}"),
        )),
    )
}

/// The SQL of a duration in seconds from `start` to `end` (null where either is).
fn between(dialect: Dialect, start: &str, end: &str) -> String {
    match dialect {
        Dialect::Sqlite => format!("({end} - {start}) / 1000000.0"),
        Dialect::Postgres => {
            format!("CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)")
        }
    }
}

/// 1 where `cond` holds, else 0, as a double.
fn flag(cond: &str) -> String {
    format!("CAST(CASE WHEN {cond} THEN 1 ELSE 0 END AS DOUBLE PRECISION)")
}

/// A count (or any whole number) as a double.
fn count(sql: &str) -> String {
    format!("CAST(({sql}) AS DOUBLE PRECISION)")
}

/// A task's number as SQL over the task `t` and its extension `x`: a duration in seconds,
/// a count, or a flag (1 or 0); null where the task has none (yet). `now` is the
/// placeholder of the time the report runs (for an age). Whether it reads `x` is
/// `reads_ext`.
fn number_sql(n: TaskNumber, dialect: Dialect, now: &str) -> String {
    let between = |start: &str, end: &str| between(dialect, start, end);
    match n {
        TaskNumber::TimeToResolve => between("t.opened_at", "t.resolved_at"),
        TaskNumber::TimeToClose => between("t.opened_at", "t.closed_at"),
        TaskNumber::BusinessTimeToResolve | TaskNumber::BusinessTimeToRespond => {
            let metric = match n {
                TaskNumber::BusinessTimeToRespond => "response",
                _ => "resolution",
            };
            format!(
                "(SELECT CAST(MAX(c.business_us) AS DOUBLE PRECISION) / 1000000.0 FROM sla_clock c \
                 WHERE c.task_id = t.id AND c.metric = '{metric}' AND c.end_kind = 'stopped')"
            )
        }
        TaskNumber::Reassignments => "CAST(t.reassignment_count AS DOUBLE PRECISION)".into(),
        TaskNumber::Reopens => "CAST(t.reopen_count AS DOUBLE PRECISION)".into(),
        TaskNumber::Age => {
            let now = match dialect {
                Dialect::Sqlite => format!("CAST({now} AS INTEGER)"),
                Dialect::Postgres => format!("CAST({now} AS TIMESTAMPTZ)"),
            };
            format!(
                "CASE WHEN t.resolved_at IS NULL AND t.closed_at IS NULL THEN {} END",
                between("t.opened_at", &now)
            )
        }
        TaskNumber::FirstContactResolution => format!(
            "CASE WHEN t.resolved_at IS NULL THEN NULL ELSE {} END",
            flag("t.reassignment_count = 0 AND t.reopen_count = 0")
        ),
        TaskNumber::Reopened => flag("t.reopen_count > 0"),
        TaskNumber::SlaMet => format!(
            "CASE WHEN NOT EXISTS (SELECT 1 FROM sla_clock c WHERE c.task_id = t.id) THEN NULL \
             ELSE {} END",
            flag("NOT EXISTS (SELECT 1 FROM sla_clock c WHERE c.task_id = t.id AND c.breached)")
        ),
        TaskNumber::Alerts => {
            "CAST(NULLIF((SELECT COUNT(*) FROM alert a WHERE a.incident_id = t.id), 0) AS DOUBLE PRECISION)"
                .into()
        }
        TaskNumber::KnownError => flag("x.known_error"),
        TaskNumber::TimeToKnownError => between("t.opened_at", "x.known_error_at"),
        TaskNumber::Successful => format!(
            "CASE WHEN x.outcome IS NULL THEN NULL ELSE {} END",
            flag("x.outcome IN ('successful', 'successful_with_issues')")
        ),
        TaskNumber::Emergency => flag("x.change_type = 'emergency'"),
        TaskNumber::CausedIncidents => {
            flag("EXISTS (SELECT 1 FROM change_caused c WHERE c.change_id = t.id)")
        }
        TaskNumber::OnTime => format!(
            "CASE WHEN x.due_at IS NULL OR t.state <> 'complete' THEN NULL ELSE {} END",
            flag("COALESCE(t.closed_at, t.resolved_at) <= x.due_at")
        ),
        TaskNumber::PromisedTime => between("t.opened_at", "x.due_at"),
        TaskNumber::Deflections => {
            count("SELECT COUNT(*) FROM kb_deflection d WHERE d.article_id = t.id")
        }
        // Another source's (refused before a report gets here).
        TaskNumber::BusinessTime
        | TaskNumber::ElapsedTime
        | TaskNumber::Met
        | TaskNumber::Events
        | TaskNumber::TimeToAcknowledge
        | TaskNumber::Flaps
        | TaskNumber::RaisedIncident
        | TaskNumber::TimeToDecide
        | TaskNumber::Approved
        | TaskNumber::Incidents => "CAST(NULL AS DOUBLE PRECISION)".into(),
    }
}

/// Whether a number reads the task's extension `x`.
fn reads_ext(n: TaskNumber) -> bool {
    matches!(
        n,
        TaskNumber::KnownError
            | TaskNumber::TimeToKnownError
            | TaskNumber::Successful
            | TaskNumber::Emergency
            | TaskNumber::OnTime
            | TaskNumber::PromisedTime
    )
}

/// The measure as SQL (its value a double, or null) of the number `x` (none: a count).
fn measure_sql(m: Aggregate, x: Option<String>, dialect: Dialect) -> String {
    let Some(x) = x.filter(|_| m != Aggregate::Count) else {
        return "CAST(COUNT(*) AS DOUBLE PRECISION)".into();
    };
    match (m, m.percentile(), dialect) {
        (_, Some(p), Dialect::Sqlite) => format!("sigap_percentile({x}, {p})"),
        (_, Some(p), Dialect::Postgres) => {
            format!("percentile_cont({p}) WITHIN GROUP (ORDER BY {x})")
        }
        (Aggregate::Sum, ..) => format!("SUM({x})"),
        (Aggregate::Average, ..) => format!("AVG({x})"),
        (Aggregate::Rate, ..) => format!("AVG({x}) * 100"),
        (Aggregate::Min, ..) => format!("MIN({x})"),
        (Aggregate::Max, ..) => format!("MAX({x})"),
        (Aggregate::Count | Aggregate::Median | Aggregate::P90, ..) => {
            "CAST(COUNT(*) AS DOUBLE PRECISION)".into()
        }
    }
}

/// The conditions of a report's period: none for its start where it starts before any task
/// (a condition that lets every task through would only steer the plan away from the
/// queue's indexes).
fn period(q: &mut Select, column: &str, from: Timestamp, to: Timestamp) {
    if from > EARLIEST {
        q.filter(&format!("{column} >= {{}}"), Val::Ts(from));
    }
    q.filter(&format!("{column} < {{}}"), Val::Ts(to));
}

/// A grouping as SQL: a field's key (and name), or the bucket of a moment's column.
enum GroupSql<'a> {
    Field(FieldSql),
    Time(String, &'a [Slot]),
}

/// Ends an aggregate query whose head selects from `from` (with the joins the groupings'
/// names need added) and whose conditions are already in `q`: the groupings, the count and
/// the measure of `x`; runs it and reads its lines, in the order of their keys (buckets in
/// time order), at most `MAX_LINES`.
async fn lines(
    tx: &mut Tx<'_>,
    mut q: Select,
    from: &str,
    groups: Vec<GroupSql<'_>>,
    measure: String,
) -> StoreResult<Vec<Line>> {
    let dialect = tx.dialect();
    let mut joins = String::new();
    let mut selected = Vec::new();
    // The places in the select list (from 1) grouped by: each grouping's key, and its name
    // where it has one.
    let mut grouped: Vec<usize> = Vec::new();
    for g in &groups {
        match g {
            GroupSql::Field((key, Some((name, join)))) => {
                joins.push_str(join);
                selected.push(format!("{key}, {name}"));
                grouped.extend([selected.len() * 2 - 1, selected.len() * 2]);
            }
            GroupSql::Field((key, None)) => {
                selected.push(format!("{key}, NULL"));
                grouped.push(selected.len() * 2 - 1);
            }
            GroupSql::Time(column, slots) => {
                // The bucket a record's moment falls in, by a binary search over the
                // buckets' starts (a join with a table of buckets compared every record with
                // every bucket): its place in `slots`.
                let Some(last) = slots.last() else {
                    return Ok(Vec::new());
                };
                let expr = match dialect {
                    Dialect::Sqlite => {
                        let starts: Vec<i64> = slots
                            .iter()
                            .map(|s| crate::value::ts_to_micros(s.start))
                            .collect();
                        let ph = q.bind(Val::Text(serde_json::Value::from(starts).to_string()));
                        format!("sigap_bucket({column}, {ph})")
                    }
                    Dialect::Postgres => {
                        let starts: Vec<String> =
                            slots.iter().map(|s| s.start.to_string()).collect();
                        let ph = q.bind(Val::Text(serde_json::Value::from(starts).to_string()));
                        format!(
                            "CAST(width_bucket({column}, ARRAY(SELECT j.v::timestamptz FROM \
                             jsonb_array_elements_text(CAST({ph}::text AS jsonb)) WITH ORDINALITY AS j(v, i) \
                             ORDER BY j.i)) - 1 AS BIGINT)"
                        )
                    }
                };
                // Past the last bucket's end: none (the period ends there or before).
                q.filter(&format!("{column} < {{}}"), Val::Ts(last.end));
                selected.push(format!("{expr}, NULL"));
                grouped.push(selected.len() * 2 - 1);
            }
        }
    }
    selected.push(format!("COUNT(*), {measure}"));
    q.set_head(format!("SELECT {} FROM {from}{joins}", selected.join(", ")));
    let by: Vec<String> = grouped.iter().map(usize::to_string).collect();
    q.group(&by, MAX_LINES);
    let rows = q.run(tx).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut keys = Vec::with_capacity(groups.len());
        for (n, g) in groups.iter().enumerate() {
            let at = 2 * n;
            keys.push(match g {
                GroupSql::Field((_, Some(_))) => Key {
                    key: row.get::<Option<uuid::Uuid>>(at)?.map(|u| u.to_string()),
                    name: row.get(at + 1)?,
                },
                GroupSql::Field((_, None)) => Key {
                    key: row.get(at)?,
                    name: None,
                },
                GroupSql::Time(_, slots) => {
                    let place: i64 = row.get(at)?;
                    Key {
                        key: usize::try_from(place)
                            .ok()
                            .and_then(|p| slots.get(p))
                            .map(|s| s.label.clone()),
                        name: None,
                    }
                }
            });
        }
        let at = 2 * groups.len();
        out.push(Line {
            keys,
            count: row.get(at)?,
            value: row.get(at + 1)?,
        });
    }
    // In the order of the keys, missing ones last (buckets' labels sort as their times).
    out.sort_by(|a, b| {
        let key = |l: &Line| {
            l.keys
                .iter()
                .map(|k| (k.key.is_none(), k.key.clone()))
                .collect::<Vec<_>>()
        };
        key(a).cmp(&key(b))
    });
    Ok(out)
}

/// Narrows `q` to the records of one line (`keys`, in the groupings' order; none: without
/// one): false when no record can be of it (an id that is no id, a bucket not in the
/// period).
fn keyed(q: &mut Select, groups: &[GroupSql<'_>], keys: &[Option<String>]) -> bool {
    for (n, g) in groups.iter().enumerate() {
        let key = keys.get(n).cloned().flatten();
        match g {
            GroupSql::Field((expr, named)) => match (key, named.is_some()) {
                (None, _) => {
                    q.condition(format!("{expr} IS NULL"));
                }
                (Some(k), true) => match uuid::Uuid::parse_str(&k) {
                    Ok(id) => {
                        q.filter(&format!("{expr} = {{}}"), Val::Uuid(id));
                    }
                    Err(_) => return false,
                },
                (Some(k), false) => {
                    q.filter(&format!("{expr} = {{}}"), Val::Text(k));
                }
            },
            GroupSql::Time(column, slots) => {
                let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
                    return false;
                };
                // As the report counts them: up to the last bucket's end; before the first
                // bucket, a line without a key.
                q.filter(&format!("{column} < {{}}"), Val::Ts(last.end));
                match key {
                    None => {
                        q.filter(&format!("{column} < {{}}"), Val::Ts(first.start));
                    }
                    Some(k) => match slots.iter().find(|s| s.label == k) {
                        Some(s) => {
                            q.filter(&format!("{column} >= {{}}"), Val::Ts(s.start));
                            q.filter(&format!("{column} < {{}}"), Val::Ts(s.end));
                        }
                        None => return false,
                    },
                }
            }
        }
    }
    true
}

/// A task report's groupings as SQL.
fn task_groups(groups: &[Group]) -> Vec<GroupSql<'_>> {
    groups
        .iter()
        .enumerate()
        .map(|(n, g)| match g {
            Group::Field(f) => GroupSql::Field(field_sql(*f, n)),
            Group::Time(t, slots) => GroupSql::Time(time_column(*t).to_owned(), slots),
        })
        .collect()
}

/// Runs a report over tasks: its lines, in the order of their keys (buckets in time
/// order), at most `MAX_LINES`.
pub async fn run<E: Extension>(
    tx: &mut Tx<'_>,
    r: &TaskReport<'_, E::State>,
) -> StoreResult<Vec<Line>> {
    let dialect = tx.dialect();
    let mut q = Select::default();
    let ext = if r.filter.ext.is_empty() && !r.number.is_some_and(reads_ext) {
        String::new()
    } else {
        format!(" JOIN {} x ON x.task_id = t.id", E::TABLE)
    };
    let x = r.number.filter(|_| r.measure != Aggregate::Count).map(|n| {
        let now = match n {
            TaskNumber::Age => q.bind(Val::Ts(r.now)),
            _ => String::new(),
        };
        number_sql(n, dialect, &now)
    });
    let measure = measure_sql(r.measure, x, dialect);
    narrow(&mut q, r.filter, E::KIND, dialect);
    let (moment, from, to) = r.period;
    period(&mut q, time_column(moment), from, to);
    lines(
        tx,
        q,
        &format!("task t{ext}"),
        task_groups(r.groups),
        measure,
    )
    .await
}

/// The tasks behind one line of a report: those the report counts whose key for each
/// grouping is the line's (`keys`, in the groupings' order; none: without one), newest
/// first, at most `limit`. A key that cannot be (an id that is no id, a bucket not in the
/// period) has no tasks.
pub async fn records<E: Extension>(
    tx: &mut Tx<'_>,
    r: &TaskReport<'_, E::State>,
    keys: &[Option<String>],
    limit: i64,
) -> StoreResult<Vec<Record<E>>> {
    let dialect = tx.dialect();
    let ext = if r.filter.ext.is_empty() {
        String::new()
    } else {
        format!(" JOIN {} x ON x.task_id = t.id", E::TABLE)
    };
    let mut q = Select::new(&format!(
        "SELECT {} AS k FROM task t{ext}",
        key_column(dialect)
    ));
    narrow(&mut q, r.filter, E::KIND, dialect);
    let (moment, from, to) = r.period;
    period(&mut q, time_column(moment), from, to);
    if !keyed(&mut q, &task_groups(r.groups), keys) {
        return Ok(Vec::new());
    }
    let page = page_of::<E>(tx, q, &[(TaskSort::OpenedAt, true)], None, limit).await?;
    Ok(page.items)
}

// ----- the sources that are not tasks -----

/// A report over SLA clocks, configuration items, alerts or approvals.
#[derive(Debug, Clone)]
pub struct RecordReport<'a> {
    /// Not a task's kind (those are `run`'s).
    pub source: Source,
    /// The organization whose records alone are counted (a customer's agent): the clocks
    /// and approvals of its tasks, the alerts of its incidents. None: every record.
    pub organization: Option<OrgId>,
    /// The records' state codes (a clock's stage, a CI's status); none: any.
    pub states: &'a [String],
    /// The priority and category of the task a clock or an approval is of.
    pub priority: Option<i64>,
    pub category: Option<&'a str>,
    /// The records whose moment falls in `[from, to)`.
    pub period: (TaskTime, Timestamp, Timestamp),
    pub groups: &'a [Group],
    pub measure: Aggregate,
    pub number: Option<TaskNumber>,
    /// When the report runs.
    pub now: Timestamp,
}

/// A record behind a line of a report over another source than tasks, as a list shows it:
/// a clock or an approval with its task, an alert, a configuration item.
#[derive(Debug, Clone, PartialEq)]
pub struct Other {
    pub id: uuid::Uuid,
    /// The task's number (a clock's, an approval's), the alert's, the CI's name.
    pub number: String,
    /// The kind of the task a clock or an approval is of.
    pub task_kind: Option<String>,
    /// The task's short description, the alert's message, the CI's class.
    pub summary: String,
    /// A clock's target, the approver; none for the others.
    pub detail: Option<String>,
    /// The record's state code (a clock's stage, a CI's status).
    pub state: String,
    /// The task's priority.
    pub priority: Option<i64>,
    /// The task's assignment group, the group asked to approve, the CI's owner.
    pub group: Option<String>,
    /// When it started (the source's first moment) and ended, if it did.
    pub start: Timestamp,
    pub end: Option<Timestamp>,
}

/// What a source's records are read from, as SQL.
fn from_of(source: Source) -> &'static str {
    match source {
        Source::SlaClock => "sla_clock s JOIN task t ON t.id = s.task_id",
        Source::Approval => "approval s JOIN task t ON t.id = s.task_id",
        Source::Alert => "alert s",
        _ => "ci s",
    }
}

/// A field of a source's record `s` as SQL (the fields of a clock's or an approval's task
/// are the task's).
fn other_field(source: Source, f: TaskField, n: usize) -> FieldSql {
    let plain = |expr: &str| (expr.to_owned(), None);
    match (source, f) {
        (Source::SlaClock, TaskField::State) => plain("s.stage"),
        (Source::SlaClock, TaskField::Agreement) => reference("s.agreement_id", "agreement", n),
        (Source::SlaClock, TaskField::Metric) => plain("s.metric"),
        (Source::Approval, TaskField::State) => plain("s.state"),
        (Source::Approval, TaskField::Approver) => reference("s.approver_id", "person", n),
        (Source::SlaClock | Source::Approval, f) => field_sql(f, n),
        (Source::Alert, TaskField::State) => plain("s.state"),
        (Source::Alert, TaskField::Severity) => plain("s.worst"),
        (Source::Alert, TaskField::EventSource) => plain("s.source"),
        (Source::Alert, TaskField::Node) => plain("s.node"),
        (Source::Alert, TaskField::Ci) => reference("s.ci_id", "ci", n),
        (Source::Ci, TaskField::State) => plain("s.status"),
        (Source::Ci, TaskField::Class) => reference("s.class_id", "ci_class", n),
        (Source::Ci, TaskField::OwnerGroup) => reference("s.owner_group_id", "support_group", n),
        (Source::Ci, TaskField::Location) => plain("NULLIF(s.location, '')"),
        _ => plain("NULL"),
    }
}

/// A moment of a source's record `s` as SQL.
fn other_moment(t: TaskTime) -> &'static str {
    match t {
        TaskTime::Started => "s.started_at",
        TaskTime::Ended => "s.ended_at",
        TaskTime::FirstSeen => "s.first_at",
        TaskTime::Closed => "s.closed_at",
        TaskTime::Asked => "s.asked_at",
        TaskTime::Decided => "s.decided_at",
        _ => "s.created_at",
    }
}

/// A number of a source's record `s` as SQL (null where it has none).
fn other_number(n: TaskNumber, dialect: Dialect) -> String {
    let between = |start: &str, end: &str| between(dialect, start, end);
    match n {
        TaskNumber::BusinessTime => "CAST(s.business_us AS DOUBLE PRECISION) / 1000000.0".into(),
        TaskNumber::ElapsedTime => between("s.started_at", "s.ended_at"),
        // Decided once the clock stopped, or breached while it runs.
        TaskNumber::Met => format!(
            "CASE WHEN s.end_kind = 'stopped' OR (s.ended_at IS NULL AND s.breached) THEN {} END",
            flag("NOT s.breached")
        ),
        TaskNumber::Events => count("s.event_count"),
        TaskNumber::TimeToAcknowledge => between("s.first_at", "s.acknowledged_at"),
        TaskNumber::TimeToClose => between("s.first_at", "s.closed_at"),
        TaskNumber::Flaps => count("s.flap_count"),
        TaskNumber::RaisedIncident => flag("s.incident_id IS NOT NULL"),
        TaskNumber::TimeToDecide => between("s.asked_at", "s.decided_at"),
        TaskNumber::Approved => format!(
            "CASE WHEN s.state IN ('approved', 'rejected') THEN {} END",
            flag("s.state = 'approved'")
        ),
        TaskNumber::Incidents => {
            count("SELECT COUNT(*) FROM task i WHERE i.ci_id = s.id AND i.kind = 'incident'")
        }
        TaskNumber::Alerts => count("SELECT COUNT(*) FROM alert a WHERE a.ci_id = s.id"),
        _ => "CAST(NULL AS DOUBLE PRECISION)".into(),
    }
}

/// A report over another source's records as SQL so far: its conditions in `q`.
fn other_select(q: &mut Select, r: &RecordReport<'_>) {
    let state = match r.source {
        Source::SlaClock => "s.stage",
        Source::Ci => "s.status",
        _ => "s.state",
    };
    if !r.states.is_empty() {
        let phs: Vec<String> = r
            .states
            .iter()
            .map(|s| q.bind(Val::Text(s.clone())))
            .collect();
        q.condition(format!("{state} IN ({})", phs.join(", ")));
    }
    if let Some(org) = r.organization {
        let org = Val::Uuid(org.as_uuid());
        match r.source {
            Source::Alert => q.filter(
                "EXISTS (SELECT 1 FROM task o WHERE o.id = s.incident_id AND o.organization_id = {})",
                org,
            ),
            Source::Ci => q.condition("1 = 0".into()),
            _ => q.filter("t.organization_id = {}", org),
        };
    }
    if r.source.of_tasks() {
        if let Some(p) = r.priority {
            q.filter("t.priority = {}", Val::I64(p));
        }
        if let Some(c) = r.category {
            q.filter("t.category = {}", Val::Text(c.to_owned()));
        }
    }
    let (moment, from, to) = r.period;
    period(q, other_moment(moment), from, to);
}

fn other_groups<'a>(r: &RecordReport<'a>) -> Vec<GroupSql<'a>> {
    r.groups
        .iter()
        .enumerate()
        .map(|(n, g)| match g {
            Group::Field(f) => GroupSql::Field(other_field(r.source, *f, n)),
            Group::Time(t, slots) => GroupSql::Time(other_moment(*t).to_owned(), slots),
        })
        .collect()
}

/// Runs a report over SLA clocks, CIs, alerts or approvals: its lines, in the order of
/// their keys, at most `MAX_LINES`.
pub async fn run_other(tx: &mut Tx<'_>, r: &RecordReport<'_>) -> StoreResult<Vec<Line>> {
    let dialect = tx.dialect();
    let mut q = Select::default();
    let x = r
        .number
        .filter(|_| r.measure != Aggregate::Count)
        .map(|n| other_number(n, dialect));
    let measure = measure_sql(r.measure, x, dialect);
    other_select(&mut q, r);
    lines(tx, q, from_of(r.source), other_groups(r), measure).await
}

/// The records behind one line of a report over SLA clocks, CIs, alerts or approvals (as
/// `records` has a task report's), newest first, at most `limit`.
pub async fn records_other(
    tx: &mut Tx<'_>,
    r: &RecordReport<'_>,
    keys: &[Option<String>],
    limit: i64,
) -> StoreResult<Vec<Other>> {
    let (head, joins) = match r.source {
        Source::SlaClock => (
            "s.id, t.number, t.kind, t.short_description, s.target_name, s.stage, t.priority, \
             g.name, s.started_at, s.ended_at",
            " LEFT JOIN support_group g ON g.id = t.assignment_group_id",
        ),
        Source::Approval => (
            "s.id, t.number, t.kind, t.short_description, p.name, s.state, t.priority, \
             g.name, s.asked_at, s.decided_at",
            " JOIN person p ON p.id = s.approver_id \
             LEFT JOIN support_group g ON g.id = s.group_id",
        ),
        Source::Alert => (
            "s.id, s.number, CAST(NULL AS TEXT), s.message, s.node, s.state, \
             CAST(NULL AS BIGINT), CAST(NULL AS TEXT), s.first_at, s.closed_at",
            "",
        ),
        _ => (
            "s.id, s.name, CAST(NULL AS TEXT), k.name, NULLIF(s.location, ''), s.status, \
             CAST(NULL AS BIGINT), g.name, s.created_at, CAST(NULL AS TIMESTAMPTZ)",
            " JOIN ci_class k ON k.id = s.class_id \
             LEFT JOIN support_group g ON g.id = s.owner_group_id",
        ),
    };
    let mut q = Select::default();
    other_select(&mut q, r);
    if !keyed(&mut q, &other_groups(r), keys) {
        return Ok(Vec::new());
    }
    let newest = other_moment(r.source.default_moment());
    // Joins for the groupings' names are not needed: the keys are compared with the ids.
    q.set_head(format!("SELECT {head} FROM {}{joins}", from_of(r.source)));
    q.order(&format!("{newest} DESC, s.id DESC"), limit);
    let rows = q.run(tx).await?;
    rows.iter()
        .map(|row| {
            Ok(Other {
                id: row.get(0)?,
                number: row.get(1)?,
                task_kind: row.get(2)?,
                summary: row.get(3)?,
                detail: row.get(4)?,
                state: row.get(5)?,
                priority: row.get(6)?,
                group: row.get(7)?,
                start: row.get(8)?,
                end: row.get(9)?,
            })
        })
        .collect()
}
