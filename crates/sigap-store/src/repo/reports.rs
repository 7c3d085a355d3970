//! Reports over a process's tasks, computed by the database on either engine: the tasks a
//! queue's filter and the viewer's visibility let through, over a period of one of their
//! moments, grouped by up to two fields or time buckets, with one measure of each group.

use super::list::{Select, Val};
use super::task::{Extension, Record, TaskFilter, TaskSort, key_column, narrow, page_of};
use crate::error::StoreResult;
use crate::tx::{Dialect, Tx};
use jiff::Timestamp;
use sigap_domain::report::{Aggregate, EARLIEST, Slot, TaskField, TaskNumber, TaskTime};

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

/// A task's column for a moment.
fn time_column(t: TaskTime) -> &'static str {
    match t {
        TaskTime::Opened => "t.opened_at",
        TaskTime::Resolved => "t.resolved_at",
        TaskTime::Closed => "t.closed_at",
    }
}

/// A field's key as SQL and, for a reference (a UUID key), its name and the join the name
/// needs (`n` tells joins apart).
fn field_sql(f: TaskField, n: usize) -> (String, Option<(String, String)>) {
    let referenced = |column: &str, table: &str| {
        (
            format!("t.{column}"),
            Some((
                format!("r{n}.name"),
                format!(" LEFT JOIN {table} r{n} ON r{n}.id = t.{column}"),
            )),
        )
    };
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
    }
}

/// A task's number as SQL over the task `t` and its extension `x`: a duration in seconds,
/// a count, or a flag (1 or 0); null where the task has none (yet). `now` is the
/// placeholder of the time the report runs (for an age). Whether it reads `x` is
/// `reads_ext`.
fn number_sql(n: TaskNumber, dialect: Dialect, now: &str) -> String {
    let between = |start: &str, end: &str| match dialect {
        Dialect::Sqlite => format!("({end} - {start}) / 1000000.0"),
        Dialect::Postgres => {
            format!("CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)")
        }
    };
    let flag = |cond: &str| format!("CAST(CASE WHEN {cond} THEN 1 ELSE 0 END AS DOUBLE PRECISION)");
    let count = |sql: &str| format!("CAST(({sql}) AS DOUBLE PRECISION)");
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
fn period(q: &mut Select, (moment, from, to): (TaskTime, Timestamp, Timestamp)) {
    let column = time_column(moment);
    if from > EARLIEST {
        q.filter(&format!("{column} >= {{}}"), Val::Ts(from));
    }
    q.filter(&format!("{column} < {{}}"), Val::Ts(to));
}

/// Runs a report: its lines, in the order of their keys (buckets in time order), at most
/// `MAX_LINES`.
pub async fn run<E: Extension>(
    tx: &mut Tx<'_>,
    r: &TaskReport<'_, E::State>,
) -> StoreResult<Vec<Line>> {
    let dialect = tx.dialect();
    let mut q = Select::default();
    let mut joins = String::new();
    let mut selected = Vec::new();
    // The places in the select list (from 1) grouped by: each grouping's key, and its name
    // where it has one.
    let mut grouped: Vec<usize> = Vec::new();
    // Whether each grouping's key is a reference (read as a UUID).
    let mut references = Vec::with_capacity(r.groups.len());
    for (n, g) in r.groups.iter().enumerate() {
        match g {
            Group::Field(f) => {
                let (key, named) = field_sql(*f, n);
                references.push(named.is_some());
                match named {
                    Some((name, join)) => {
                        joins.push_str(&join);
                        selected.push(format!("{key}, {name}"));
                        grouped.extend([selected.len() * 2 - 1, selected.len() * 2]);
                    }
                    None => {
                        selected.push(format!("{key}, NULL"));
                        grouped.push(selected.len() * 2 - 1);
                    }
                }
            }
            Group::Time(t, slots) => {
                // The bucket a task's moment falls in, by a binary search over the buckets'
                // starts (a join with a table of buckets compared every task with every
                // bucket): its place in `slots`.
                let Some(last) = slots.last() else {
                    return Ok(Vec::new());
                };
                let column = time_column(*t);
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
                references.push(false);
            }
        }
    }
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
    selected.push(format!("COUNT(*), {measure}"));
    q.set_head(format!(
        "SELECT {} FROM task t{ext}{joins}",
        selected.join(", ")
    ));
    narrow(&mut q, r.filter, E::KIND, dialect);
    period(&mut q, r.period);
    let by: Vec<String> = grouped.iter().map(usize::to_string).collect();
    q.group(&by, MAX_LINES);
    let rows = q.run(tx).await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let mut keys = Vec::with_capacity(r.groups.len());
        for (n, g) in r.groups.iter().enumerate() {
            let at = 2 * n;
            keys.push(match g {
                Group::Field(_) if references[n] => Key {
                    key: row.get::<Option<uuid::Uuid>>(at)?.map(|u| u.to_string()),
                    name: row.get(at + 1)?,
                },
                Group::Field(_) => Key {
                    key: row.get(at)?,
                    name: None,
                },
                Group::Time(_, slots) => {
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
        let at = 2 * r.groups.len();
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
    period(&mut q, r.period);
    for (n, g) in r.groups.iter().enumerate() {
        let key = keys.get(n).cloned().flatten();
        match g {
            Group::Field(f) => {
                let (expr, named) = field_sql(*f, n);
                match (key, named.is_some()) {
                    (None, _) => {
                        q.condition(format!("{expr} IS NULL"));
                    }
                    (Some(k), true) => match uuid::Uuid::parse_str(&k) {
                        Ok(id) => {
                            q.filter(&format!("{expr} = {{}}"), Val::Uuid(id));
                        }
                        Err(_) => {
                            q.condition("1 = 0".into());
                        }
                    },
                    (Some(k), false) => {
                        q.filter(&format!("{expr} = {{}}"), Val::Text(k));
                    }
                }
            }
            Group::Time(t, slots) => {
                let column = time_column(*t);
                let (Some(first), Some(last)) = (slots.first(), slots.last()) else {
                    return Ok(Vec::new());
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
                        None => {
                            q.condition("1 = 0".into());
                        }
                    },
                }
            }
        }
    }
    let page = page_of::<E>(tx, q, &[(TaskSort::OpenedAt, true)], None, limit).await?;
    Ok(page.items)
}
