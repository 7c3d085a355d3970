//! The task core's storage: what every task has (the `task` row with its number, state,
//! classification, people, references and times), read and written for any process through
//! its extension (`Extension`: its own table and fields); numbering per kind, the list and
//! queue query, the search index, and beside them the journal, attachments and the
//! configuration every process shares (priority matrix, categories, assignment rules).
//!
//! A process adds its extension table and its own queries only (`repo::incidents`,
//! `repo::problems`).

pub mod attachments;
pub mod breakdown;
pub mod config;
pub mod journal;
pub mod links;

use super::decode;
use super::groups::{GroupRef, PersonRef};
use super::list::{Page, Select, SortKey, Val, into_page};
use crate::error::{StoreError, StoreResult};
use crate::tx::{Dialect, Tx};
use crate::value::{P, Row};
use jiff::Timestamp;
use sigap_domain::task::{ContactType, Level, Priority, StateModel, TaskKind};
use sigap_domain::{CiId, GroupId, LocationId, OfferingId, OrgId, PersonId, ServiceId, TaskId};
use std::ops::{Deref, DerefMut};

/// A named reference (service, organization).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedRef<T> {
    pub id: T,
    pub name: String,
}

/// What every task has, with its process's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Task<S> {
    pub id: TaskId,
    pub number: String,
    pub short_description: String,
    pub description: String,
    pub state: S,
    pub impact: Level,
    pub urgency: Level,
    pub priority: Priority,
    pub caller: Option<PersonRef>,
    pub opened_by: Option<PersonRef>,
    pub assignment_group: Option<GroupRef>,
    pub assigned_to: Option<PersonRef>,
    pub service: Option<NamedRef<ServiceId>>,
    pub offering: Option<NamedRef<OfferingId>>,
    pub ci: Option<NamedRef<CiId>>,
    pub organization: Option<NamedRef<OrgId>>,
    pub category: Option<String>,
    pub subcategory: Option<String>,
    pub contact_type: ContactType,
    pub parent: Option<NamedRef<TaskId>>,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub reassignment_count: i64,
    pub reopen_count: i64,
    /// Where it happens; written with `set_location`, beside the fields.
    pub location: Option<NamedRef<LocationId>>,
    pub version: i64,
}

/// Everything of a task that is written (the number and opening time only once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFields<S> {
    pub short_description: String,
    pub description: String,
    pub state: S,
    pub impact: Level,
    pub urgency: Level,
    pub priority: Priority,
    pub caller_id: Option<PersonId>,
    pub opened_by_id: Option<PersonId>,
    pub assignment_group_id: Option<GroupId>,
    pub assigned_to_id: Option<PersonId>,
    pub service_id: Option<ServiceId>,
    pub offering_id: Option<OfferingId>,
    pub ci_id: Option<CiId>,
    pub organization_id: Option<OrgId>,
    pub category: Option<String>,
    pub subcategory: Option<String>,
    pub contact_type: ContactType,
    pub parent_id: Option<TaskId>,
    pub resolved_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    pub reassignment_count: i64,
    pub reopen_count: i64,
}

impl<S> TaskFields<S> {
    /// A new task's fields: its state and priority, opened by (and for) `by`, everything else
    /// empty, low impact and urgency, by phone.
    pub fn new(state: S, priority: Priority, by: Option<PersonId>) -> Self {
        Self {
            short_description: String::new(),
            description: String::new(),
            state,
            impact: Level::LOW,
            urgency: Level::LOW,
            priority,
            caller_id: by,
            opened_by_id: by,
            assignment_group_id: None,
            assigned_to_id: None,
            service_id: None,
            offering_id: None,
            ci_id: None,
            organization_id: None,
            category: None,
            subcategory: None,
            contact_type: ContactType::Phone,
            parent_id: None,
            resolved_at: None,
            closed_at: None,
            reassignment_count: 0,
            reopen_count: 0,
        }
    }
}

impl<S: Copy> Task<S> {
    pub fn fields(&self) -> TaskFields<S> {
        TaskFields {
            short_description: self.short_description.clone(),
            description: self.description.clone(),
            state: self.state,
            impact: self.impact,
            urgency: self.urgency,
            priority: self.priority,
            caller_id: self.caller.as_ref().map(|p| p.id),
            opened_by_id: self.opened_by.as_ref().map(|p| p.id),
            assignment_group_id: self.assignment_group.as_ref().map(|g| g.id),
            assigned_to_id: self.assigned_to.as_ref().map(|p| p.id),
            service_id: self.service.as_ref().map(|s| s.id),
            offering_id: self.offering.as_ref().map(|s| s.id),
            ci_id: self.ci.as_ref().map(|s| s.id),
            organization_id: self.organization.as_ref().map(|s| s.id),
            category: self.category.clone(),
            subcategory: self.subcategory.clone(),
            contact_type: self.contact_type,
            parent_id: self.parent.as_ref().map(|p| p.id),
            resolved_at: self.resolved_at,
            closed_at: self.closed_at,
            reassignment_count: self.reassignment_count,
            reopen_count: self.reopen_count,
        }
    }

    pub fn location_id(&self) -> Option<LocationId> {
        self.location.as_ref().map(|l| l.id)
    }
}

/// Declares a process's extension: its own fields as a struct, each a column of the same
/// name in `table` (read with `Col`, written with `Param`), in the order written here.
macro_rules! extension {
    (
        $(#[$m:meta])*
        $name:ident: $state:ty, $kind:expr, $table:literal {
            $($(#[$fm:meta])* $field:ident: $ty:ty,)*
        }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, PartialEq, Eq, Default)]
        pub struct $name {
            $($(#[$fm])* pub $field: $ty,)*
        }

        impl $crate::repo::task::Extension for $name {
            type State = $state;
            const KIND: sigap_domain::task::TaskKind = $kind;
            const TABLE: &'static str = $table;
            const COLUMNS: &'static [&'static str] = &[$(stringify!($field)),*];

            fn decode(row: &$crate::value::Row, at: usize) -> $crate::error::StoreResult<Self> {
                let mut i = at;
                let mut next = || {
                    i += 1;
                    i - 1
                };
                Ok(Self {
                    $($field: row.get(next())?,)*
                })
            }

            fn statements() -> &'static $crate::repo::task::Statements {
                static S: std::sync::LazyLock<$crate::repo::task::Statements> =
                    std::sync::LazyLock::new($crate::repo::task::Statements::of::<$name>);
                &S
            }

            fn params(&self) -> Vec<$crate::value::P<'_>> {
                vec![$($crate::value::Param::param(&self.$field)),*]
            }
        }
    };
}
pub(crate) use extension;

/// A process's own fields, kept in its extension table (`task_id` its key).
pub trait Extension: Clone + Send + Sync + 'static {
    type State: StateModel;
    const KIND: TaskKind;
    /// The extension table, joined as `x`.
    const TABLE: &'static str;
    /// Its columns besides `task_id`, in the order of `decode` and `params`.
    const COLUMNS: &'static [&'static str];
    /// Reads the extension's columns from `at` on.
    fn decode(row: &Row, at: usize) -> StoreResult<Self>;
    /// The values of `COLUMNS`, in order.
    fn params(&self) -> Vec<P<'_>>;
    /// The statements of this kind's records, put together once:
    /// `static S: LazyLock<Statements> = LazyLock::new(Statements::of::<Self>); &S`.
    fn statements() -> &'static Statements;
}

/// The SQL of one process's records, put together once per process (a write or a read
/// formats nothing).
#[derive(Debug)]
pub struct Statements {
    /// `SELECT <every column>`.
    head: String,
    /// `FROM task t JOIN <extension> x … <joins>`.
    from: String,
    select: String,
    by_id: String,
    by_number: String,
    insert_ext: String,
    update_ext: String,
    /// PostgreSQL: a new task and its extension row, up to the reading back of the record
    /// (`create_pg`); the number given as `$2`, or (`_next`) the next of the prefix `$2`.
    create_with: String,
    create_next_with: String,
    /// The extension's columns as read back.
    ext_columns: String,
    /// The statements made by `create_pg`, by numbering and the references present.
    creates: std::sync::Mutex<std::collections::HashMap<(bool, u16), std::sync::Arc<str>>>,
}

impl Statements {
    pub fn of<E: Extension>() -> Self {
        let ext: Vec<String> = E::COLUMNS.iter().map(|c| format!("x.{c}")).collect();
        let head = format!("SELECT {COLUMNS}, {}", ext.join(", "));
        let from = format!(
            "FROM task t JOIN {} x ON x.task_id = t.id {JOINS}",
            E::TABLE
        );
        let select = format!("{head} {from}");
        let marks: Vec<String> = (2..=E::COLUMNS.len() + 1)
            .map(|i| format!("${i}"))
            .collect();
        let sets: Vec<String> = E::COLUMNS
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 2))
            .collect();
        // The extension's values follow the task's 27 parameters.
        let ext_marks: Vec<String> = (28..28 + E::COLUMNS.len())
            .map(|i| format!("${i}"))
            .collect();
        // The new task's search document is `reindex`'s without the journal (it has none yet).
        let create = |insert_task: String| {
            format!(
                "WITH t AS ({insert_task} RETURNING *), x AS (INSERT INTO {} (task_id, {}) \
                 SELECT id, {} FROM t RETURNING *), doc AS (INSERT INTO task_search (task_id, document) \
                 SELECT id, to_tsvector('simple'::regconfig, concat_ws(' ', number, short_description, description)) \
                 FROM t)",
                E::TABLE,
                E::COLUMNS.join(", "),
                ext_marks.join(", ")
            )
        };
        Self {
            create_with: create(insert_sql("$2", PG_SEARCH_KEY)),
            create_next_with: create(insert_sql(PG_NEXT_NUMBER, PG_SEARCH_KEY)),
            ext_columns: ext.join(", "),
            creates: std::sync::Mutex::default(),
            by_id: format!("{select} WHERE t.id = $1"),
            by_number: format!("{select} WHERE t.number = $1"),
            insert_ext: format!(
                "INSERT INTO {} (task_id, {}) VALUES ($1, {})",
                E::TABLE,
                E::COLUMNS.join(", "),
                marks.join(", ")
            ),
            update_ext: format!(
                "UPDATE {} SET {} WHERE task_id = $1",
                E::TABLE,
                sets.join(", ")
            ),
            head,
            from,
            select,
        }
    }
}

impl Statements {
    /// PostgreSQL: the statement inserting a task with `fields` (numbered as `next` says)
    /// and reading it back, joined only to the references it has: a join to a reference the
    /// new task does not have found nothing and still cost the executor its setting up, a
    /// tenth of the insert's time. The absent references read as nulls of their types.
    fn create_pg<S>(&self, next: bool, fields: &TaskFields<S>) -> std::sync::Arc<str> {
        let present = [
            ("c", fields.caller_id.is_some()),
            ("ob", fields.opened_by_id.is_some()),
            ("g", fields.assignment_group_id.is_some()),
            ("a", fields.assigned_to_id.is_some()),
            ("s", fields.service_id.is_some()),
            ("f", fields.offering_id.is_some()),
            ("ci", fields.ci_id.is_some()),
            ("o", fields.organization_id.is_some()),
            ("p", fields.parent_id.is_some()),
            // A new task's location is written after it (`set_location`).
            ("lo", false),
        ];
        let mask = present
            .iter()
            .enumerate()
            .fold(0u16, |m, (i, (_, on))| if *on { m | 1 << i } else { m });
        let mut creates = match self.creates.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        creates
            .entry((next, mask))
            .or_insert_with(|| {
                let (columns, joins) = references_present(&present);
                let with = if next {
                    &self.create_next_with
                } else {
                    &self.create_with
                };
                format!(
                    "{with} SELECT {columns}, {} FROM t JOIN x ON x.task_id = t.id {joins}",
                    self.ext_columns
                )
                .into()
            })
            .clone()
    }
}

/// `COLUMNS` and `JOINS` with only the references whose alias `present` marks: the columns of
/// the others are nulls of their types (an id a UUID, a name or number text).
fn references_present(present: &[(&str, bool)]) -> (String, String) {
    let on = |alias: &str| present.iter().any(|(a, p)| *a == alias && *p);
    let columns: Vec<String> = COLUMNS
        .split(", ")
        .map(|c| match c.split_once('.') {
            Some((alias, column)) if alias != "t" && !on(alias) => {
                if column == "id" {
                    "NULL::uuid".to_owned()
                } else {
                    "NULL::text".to_owned()
                }
            }
            _ => c.to_owned(),
        })
        .collect();
    let joins: Vec<String> = JOINS
        .split("LEFT JOIN ")
        .filter(|j| {
            // "person c ON c.id = t.caller_id ": the alias is the second word.
            j.split_whitespace().nth(1).is_some_and(on)
        })
        .map(|j| format!("LEFT JOIN {}", j.trim_end()))
        .collect();
    (columns.join(", "), joins.join(" "))
}

/// A task of one process: the common part, which it derefs to, and the process's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record<E: Extension> {
    pub task: Task<E::State>,
    pub ext: E,
}

impl<E: Extension> Deref for Record<E> {
    type Target = Task<E::State>;
    fn deref(&self) -> &Self::Target {
        &self.task
    }
}

/// What is written of a task of one process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordFields<E: Extension> {
    pub task: TaskFields<E::State>,
    pub ext: E,
}

impl<E: Extension> Deref for RecordFields<E> {
    type Target = TaskFields<E::State>;
    fn deref(&self) -> &Self::Target {
        &self.task
    }
}

impl<E: Extension> DerefMut for RecordFields<E> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.task
    }
}

impl<E: Extension> Record<E> {
    pub fn fields(&self) -> RecordFields<E> {
        RecordFields {
            task: self.task.fields(),
            ext: self.ext.clone(),
        }
    }
}

/// The common columns, in the order `task_from_row` reads them.
const COLUMNS: &str = "t.id, t.number, t.short_description, t.description, t.state, t.impact, t.urgency, t.priority, \
    c.id, c.login, c.name, ob.id, ob.login, ob.name, g.id, g.name, a.id, a.login, a.name, \
    s.id, s.name, f.id, f.name, ci.id, ci.name, o.id, o.name, t.category, t.subcategory, t.contact_type, \
    p.id, p.number, t.opened_at, t.updated_at, t.resolved_at, t.closed_at, t.reassignment_count, t.reopen_count, \
    t.version, lo.id, lo.name";
/// How many they are: the extension's columns follow.
const COLUMN_COUNT: usize = 41;
/// The names of a task's references, after `FROM task t JOIN <extension> x …`.
const JOINS: &str = "LEFT JOIN person c ON c.id = t.caller_id LEFT JOIN person ob ON ob.id = t.opened_by_id \
    LEFT JOIN support_group g ON g.id = t.assignment_group_id LEFT JOIN person a ON a.id = t.assigned_to_id \
    LEFT JOIN service s ON s.id = t.service_id LEFT JOIN service_offering f ON f.id = t.offering_id \
    LEFT JOIN ci ci ON ci.id = t.ci_id LEFT JOIN organization o ON o.id = t.organization_id \
    LEFT JOIN task p ON p.id = t.parent_id LEFT JOIN location lo ON lo.id = t.location_id";

/// `SELECT <every column of a task of E> FROM task t JOIN <E's table> x … <joins>`, for a
/// statement to go on with `WHERE` (on `t.` and the extension's `x.` columns).
pub fn select<E: Extension>() -> &'static str {
    &E::statements().select
}

pub(crate) fn named<T: crate::value::Col>(
    row: &Row,
    at: usize,
) -> StoreResult<Option<NamedRef<T>>> {
    let id: Option<T> = row.get(at)?;
    Ok(match id {
        Some(id) => Some(NamedRef {
            id,
            name: row.get(at + 1)?,
        }),
        None => None,
    })
}

pub(crate) fn level(column: usize, v: i64) -> StoreResult<Level> {
    Level::parse(v).map_err(|e| StoreError::Decode {
        column,
        detail: e.to_string(),
    })
}

pub(crate) fn priority(column: usize, v: i64) -> StoreResult<Priority> {
    Priority::parse(v).map_err(|e| StoreError::Decode {
        column,
        detail: e.to_string(),
    })
}

fn task_from_row<S: StateModel>(row: &Row) -> StoreResult<Task<S>> {
    Ok(Task {
        id: row.get(0)?,
        number: row.get(1)?,
        short_description: row.get(2)?,
        description: row.get(3)?,
        state: decode(4, row.get(4)?, S::parse_code)?,
        impact: level(5, row.get(5)?)?,
        urgency: level(6, row.get(6)?)?,
        priority: priority(7, row.get(7)?)?,
        caller: PersonRef::from_cols(row, 8)?,
        opened_by: PersonRef::from_cols(row, 11)?,
        assignment_group: GroupRef::from_cols(row, 14)?,
        assigned_to: PersonRef::from_cols(row, 16)?,
        service: named(row, 19)?,
        offering: named(row, 21)?,
        ci: named(row, 23)?,
        organization: named(row, 25)?,
        category: row.get(27)?,
        subcategory: row.get(28)?,
        contact_type: decode(29, row.get(29)?, ContactType::parse)?,
        parent: named(row, 30)?,
        opened_at: row.get(32)?,
        updated_at: row.get(33)?,
        resolved_at: row.get(34)?,
        closed_at: row.get(35)?,
        reassignment_count: row.get(36)?,
        reopen_count: row.get(37)?,
        version: row.get(38)?,
        location: named(row, 39)?,
    })
}

/// A row of `select::<E>()` as a record.
pub fn from_row<E: Extension>(row: &Row) -> StoreResult<Record<E>> {
    Ok(Record {
        task: task_from_row(row)?,
        ext: E::decode(row, COLUMN_COUNT)?,
    })
}

// ----- numbers -----

/// The next number of a prefix (`INC0000042`). On PostgreSQL numbers come from a sequence
/// per prefix, which holds no lock until the commit (a number of a transaction rolled back
/// is not handed out again); on SQLite from `number_seq`, behind the one writer.
pub async fn next_number(tx: &mut Tx<'_>, prefix: &str) -> StoreResult<String> {
    let n = match tx.dialect() {
        Dialect::Sqlite => first_of(tx, prefix, 1).await?,
        Dialect::Postgres => tx
            .query_one(
                "SELECT nextval(('number_' || lower($1))::regclass)",
                &[prefix.into()],
            )
            .await?
            .get(0)?,
    };
    Ok(number_text(prefix, n))
}

/// A number as shown: the prefix and at least seven digits.
fn number_text(prefix: &str, n: i64) -> String {
    format!("{prefix}{n:07}")
}

/// The first of `n` numbers taken from `number_seq` (SQLite).
async fn first_of(tx: &mut Tx<'_>, prefix: &str, n: i64) -> StoreResult<i64> {
    tx.query_one(
        "UPDATE number_seq SET next = next + $2 WHERE kind = $1 RETURNING next - $2",
        &[prefix.into(), n.into()],
    )
    .await?
    .get(0)
}

/// Reserves `n` numbers of a prefix, in ascending order (on PostgreSQL not necessarily
/// consecutive: other writers take numbers meanwhile).
pub async fn reserve_numbers(tx: &mut Tx<'_>, prefix: &str, n: i64) -> StoreResult<Vec<i64>> {
    match tx.dialect() {
        Dialect::Sqlite => {
            let first = first_of(tx, prefix, n).await?;
            Ok((first..first + n).collect())
        }
        Dialect::Postgres => {
            let mut out = tx
                .query(
                    "SELECT nextval(('number_' || lower($1))::regclass) FROM generate_series(1, $2)",
                    &[prefix.into(), n.into()],
                )
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect::<StoreResult<Vec<i64>>>()?;
            out.sort_unstable();
            Ok(out)
        }
    }
}

/// Makes the next number of a prefix at least `at_least` (after an import of numbered
/// records).
pub async fn bump_number(tx: &mut Tx<'_>, prefix: &str, at_least: i64) -> StoreResult<()> {
    let sql = match tx.dialect() {
        Dialect::Sqlite => "UPDATE number_seq SET next = $2 WHERE kind = $1 AND next < $2",
        Dialect::Postgres => {
            // One number is spent to read where the sequence is.
            "SELECT CASE WHEN nextval(('number_' || lower($1))::regclass) < $2 \
             THEN setval(('number_' || lower($1))::regclass, $2, false) END"
        }
    };
    tx.query(sql, &[prefix.into(), at_least.into()]).await?;
    Ok(())
}

// ----- one task -----

/// The written fields of a task as parameters, in the order of the statements below:
/// short description to parent, then resolved and closed, then the two counts.
fn field_params<S: StateModel>(f: &TaskFields<S>) -> [P<'_>; 22] {
    [
        f.short_description.as_str().into(),
        f.description.as_str().into(),
        f.state.code().into(),
        f.impact.get().into(),
        f.urgency.get().into(),
        f.priority.get().into(),
        f.caller_id.into(),
        f.opened_by_id.into(),
        f.assignment_group_id.into(),
        f.assigned_to_id.into(),
        f.service_id.into(),
        f.offering_id.into(),
        f.ci_id.into(),
        f.organization_id.into(),
        f.category.as_deref().into(),
        f.subcategory.as_deref().into(),
        f.contact_type.code().into(),
        f.parent_id.into(),
        f.resolved_at.into(),
        f.closed_at.into(),
        f.reassignment_count.into(),
        f.reopen_count.into(),
    ]
}

/// Inserts a task of E's kind with its extension row and its search document.
pub async fn insert<E: Extension>(
    tx: &mut Tx<'_>,
    id: TaskId,
    number: &str,
    f: &RecordFields<E>,
    now: Timestamp,
) -> StoreResult<Record<E>> {
    insert_row(tx, id, Numbered::As(number), f, now).await
}

/// Inserts a new task of E's kind with its extension row, its search document and the next number
/// of its prefix.
pub async fn insert_next<E: Extension>(
    tx: &mut Tx<'_>,
    id: TaskId,
    f: &RecordFields<E>,
    now: Timestamp,
) -> StoreResult<Record<E>> {
    insert_row(tx, id, Numbered::Next(E::KIND.prefix()), f, now).await
}

/// A new task's number: given, or the next of a prefix.
enum Numbered<'a> {
    As(&'a str),
    Next(&'a str),
}

/// The task row's insert, its number and search key written as `number` and `key` say.
fn insert_sql(number: &str, key: &str) -> String {
    format!(
        "INSERT INTO task (id, number, kind, short_description, description, state, impact, urgency, priority, \
         caller_id, opened_by_id, assignment_group_id, assigned_to_id, service_id, offering_id, ci_id, \
         organization_id, category, subcategory, contact_type, parent_id, opened_at, updated_at, resolved_at, \
         closed_at, reassignment_count, reopen_count, version, search_key) VALUES ($1, {number}, $27, $3, $4, $5, \
         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $25, $25, $21, $22, $23, $24, 1, {key})"
    )
}

static INSERT_SQL: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| insert_sql("$2", "$26"));
/// PostgreSQL: the next number of the prefix `$2`, from its sequence.
const PG_NEXT_NUMBER: &str = "(SELECT $2 || lpad(v::text, greatest(7, length(v::text)), '0') \
    FROM (SELECT nextval(('number_' || lower($2))::regclass) AS v) n)";
/// PostgreSQL: the search key from its sequence (`$26` is null).
const PG_SEARCH_KEY: &str = "COALESCE($26::bigint, nextval('number_task'))";

async fn insert_row<E: Extension>(
    tx: &mut Tx<'_>,
    id: TaskId,
    number: Numbered<'_>,
    f: &RecordFields<E>,
    now: Timestamp,
) -> StoreResult<Record<E>> {
    let mut params: Vec<P<'_>> = vec![id.into()];
    let taken;
    match tx.dialect() {
        Dialect::Sqlite => {
            let number = match number {
                Numbered::As(n) => n,
                Numbered::Next(prefix) => {
                    taken = next_number(tx, prefix).await?;
                    taken.as_str()
                }
            };
            let search_key = first_of(tx, "TASK", 1).await?;
            params.push(number.into());
            params.extend(field_params(&f.task));
            params.extend::<[P<'_>; 3]>([now.into(), search_key.into(), E::KIND.code().into()]);
            tx.execute(&INSERT_SQL, &params).await?;
        }
        Dialect::Postgres => {
            let (next, number) = match number {
                Numbered::As(n) => (false, n),
                Numbered::Next(prefix) => (true, prefix),
            };
            let sql = E::statements().create_pg(next, &f.task);
            params.push(number.into());
            params.extend(field_params(&f.task));
            // $26 (the search key) comes from its sequence in the statement: a null here.
            params.extend::<[P<'_>; 3]>([now.into(), None::<i64>.into(), E::KIND.code().into()]);
            params.extend(f.ext.params());
            return from_row(&tx.query_one(&sql, &params).await?);
        }
    }
    let mut params: Vec<P<'_>> = vec![id.into()];
    params.extend(f.ext.params());
    tx.execute(&E::statements().insert_ext, &params).await?;
    reindex(tx, id).await?;
    get(tx, id).await
}

/// Writes every field, guarded by the version the caller read.
pub async fn update<E: Extension>(
    tx: &mut Tx<'_>,
    id: TaskId,
    f: &RecordFields<E>,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Record<E>> {
    let mut params: Vec<P<'_>> = vec![id.into()];
    params.extend(field_params(&f.task));
    params.extend::<[P<'_>; 3]>([now.into(), expected_version.into(), E::KIND.code().into()]);
    let n = tx
        .execute(
            "UPDATE task SET short_description = $2, description = $3, state = $4, impact = $5, urgency = $6, \
             priority = $7, caller_id = $8, opened_by_id = $9, assignment_group_id = $10, assigned_to_id = $11, \
             service_id = $12, offering_id = $13, ci_id = $14, organization_id = $15, category = $16, \
             subcategory = $17, contact_type = $18, parent_id = $19, resolved_at = $20, closed_at = $21, \
             reassignment_count = $22, reopen_count = $23, updated_at = $24, version = version + 1 \
             WHERE id = $1 AND version = $25 AND kind = $26",
            &params,
        )
        .await?;
    super::versioned(n, get::<E>(tx, id)).await?;
    let mut params: Vec<P<'_>> = vec![id.into()];
    params.extend(f.ext.params());
    tx.execute(&E::statements().update_ext, &params).await?;
    get(tx, id).await
}

/// Sets where a task happens. The location is not one of the task's fields (bulk loaders
/// write those and leave it empty): a writer that changes it calls this in the same
/// transaction, before `update`, which counts the version and reads the record back.
pub async fn set_location(
    tx: &mut Tx<'_>,
    id: TaskId,
    location: Option<LocationId>,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE task SET location_id = $2 WHERE id = $1",
        &[id.into(), location.into()],
    )
    .await?;
    Ok(())
}

/// Sets the location of many tasks just inserted, with one statement per location.
pub async fn set_locations(tx: &mut Tx<'_>, rows: &[(TaskId, LocationId)]) -> StoreResult<()> {
    let mut by_location: std::collections::BTreeMap<LocationId, Vec<TaskId>> =
        std::collections::BTreeMap::new();
    for (task, location) in rows {
        by_location.entry(*location).or_default().push(*task);
    }
    let sql = format!(
        "UPDATE task SET location_id = $1 WHERE {}",
        super::in_json(tx.dialect(), "id", "$2")
    );
    for (location, tasks) in by_location {
        let ids = super::id_array(&tasks);
        tx.execute(&sql, &[location.into(), (&ids).into()]).await?;
    }
    Ok(())
}

/// A task of E's kind by id (another kind's id is not found).
pub async fn get<E: Extension>(tx: &mut Tx<'_>, id: TaskId) -> StoreResult<Record<E>> {
    from_row(&tx.query_one(&E::statements().by_id, &[id.into()]).await?)
}

/// A task of E's kind by its number (any case).
pub async fn find_by_number<E: Extension>(
    tx: &mut Tx<'_>,
    number: &str,
) -> StoreResult<Option<Record<E>>> {
    tx.query_opt(
        &E::statements().by_number,
        &[number.trim().to_uppercase().as_str().into()],
    )
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

/// A task of E's kind by id (`Ok`) or number (`Err`, any case) with its journal (the work
/// notes and changes too when `with_work_notes`), the two statements sent together.
pub async fn find_with_journal<E: Extension>(
    tx: &mut Tx<'_>,
    key: Result<TaskId, &str>,
    with_work_notes: bool,
) -> StoreResult<Option<(Record<E>, Vec<journal::JournalEntry>)>> {
    let number;
    let (task_sql, which, value): (&str, &str, crate::value::P<'_>) = match key {
        Ok(id) => (&E::statements().by_id, "task_id = $1", id.into()),
        Err(n) => {
            number = n.trim().to_uppercase();
            (
                &E::statements().by_number,
                "task_id = (SELECT id FROM task WHERE number = $1)",
                number.as_str().into(),
            )
        }
    };
    let journal_sql = journal::of_task(which, with_work_notes);
    let params = [value];
    let (task, entries) = tx
        .query_two((task_sql, &params), (&journal_sql, &params))
        .await?;
    match task.first() {
        Some(row) => Ok(Some((from_row(row)?, journal::from_rows(&entries)?))),
        None => Ok(None),
    }
}

/// The tasks of E's kind among `numbers` (as stored: upper case), in one statement.
pub async fn find_by_numbers<E: Extension>(
    tx: &mut Tx<'_>,
    numbers: &[String],
) -> StoreResult<Vec<Record<E>>> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let within = match tx.dialect() {
        Dialect::Sqlite => "t.number IN (SELECT value FROM json_each($1))",
        Dialect::Postgres => "t.number IN (SELECT jsonb_array_elements_text($1::jsonb))",
    };
    let sql = format!("{} WHERE {within}", E::statements().select);
    let list = serde_json::Value::from(numbers.to_vec());
    tx.query(&sql, &[(&list).into()])
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// The tasks of E's kind among `ids` (other kinds' ids are left out), in one statement.
pub async fn get_many<E: Extension>(
    tx: &mut Tx<'_>,
    ids: &[TaskId],
) -> StoreResult<Vec<Record<E>>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = super::id_array(ids);
    let sql = format!(
        "{} WHERE {}",
        E::statements().select,
        super::in_json(tx.dialect(), "t.id", "$1")
    );
    tx.query(&sql, &[(&list).into()])
        .await?
        .iter()
        .map(from_row)
        .collect()
}

/// The kind of a task: which process an id belongs to.
pub async fn kind(tx: &mut Tx<'_>, id: TaskId) -> StoreResult<Option<TaskKind>> {
    match tx
        .query_opt("SELECT kind FROM task WHERE id = $1", &[id.into()])
        .await?
    {
        Some(r) => Ok(Some(decode(0, r.get(0)?, TaskKind::parse)?)),
        None => Ok(None),
    }
}

// ----- lists -----

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskSort {
    Number,
    Priority,
    OpenedAt,
    UpdatedAt,
}

/// Who may see which tasks.
#[derive(Debug, Clone, Default)]
pub enum Visibility {
    /// Every task (agents of the provider).
    #[default]
    All,
    /// Tasks of one organization (agents of a customer or supplier).
    Organization(OrgId),
    /// Tasks a person is the caller of or opened.
    Own(PersonId),
}

/// A condition on a process's own field (its extension table, `x`): `sql` holds `{}` where
/// the value goes. Made by the process's store module, never by a caller.
#[derive(Debug, Clone)]
pub struct ExtCondition {
    sql: &'static str,
    value: Option<Val>,
    /// Whether it lets few tasks through by an index of its own, so that SQLite should
    /// start from it (not from the kind's indexes).
    selective: bool,
}

impl ExtCondition {
    /// A condition with one parameter (`{}` in `sql`).
    pub(crate) fn new(sql: &'static str, value: Val) -> Self {
        Self {
            sql,
            value: Some(value),
            selective: false,
        }
    }

    /// A condition written out whole that lets few tasks through by a partial index of the
    /// extension whose condition it repeats word for word (so both engines see the index
    /// applies).
    pub(crate) fn selective(sql: &'static str) -> Self {
        Self {
            sql,
            value: None,
            selective: true,
        }
    }
}

/// What a task list is narrowed to.
#[derive(Debug, Clone)]
pub struct TaskFilter<S> {
    pub visibility: Visibility,
    pub states: Vec<S>,
    pub assignment_group: Option<GroupId>,
    /// Tasks of any of these groups (my groups).
    pub groups: Vec<GroupId>,
    pub assigned_to: Option<PersonId>,
    pub unassigned: bool,
    pub caller: Option<PersonId>,
    pub priority: Option<i64>,
    pub service: Option<ServiceId>,
    pub ci: Option<CiId>,
    pub category: Option<String>,
    /// Children of this task.
    pub parent: Option<TaskId>,
    pub location: Option<LocationId>,
    pub q: Option<String>,
    /// Conditions on the process's own fields.
    pub ext: Vec<ExtCondition>,
}

impl<S> Default for TaskFilter<S> {
    fn default() -> Self {
        Self {
            visibility: Visibility::All,
            states: Vec::new(),
            assignment_group: None,
            groups: Vec::new(),
            assigned_to: None,
            unassigned: false,
            caller: None,
            priority: None,
            service: None,
            ci: None,
            category: None,
            parent: None,
            location: None,
            q: None,
            ext: Vec::new(),
        }
    }
}

/// How many of the newest matches of a full-text search SQLite considers.
pub const SEARCH_CANDIDATES: i64 = 5_000;

/// Narrows `q` (over `task t`) to the tasks of `kind` that `filter` lets through: the
/// conditions of a queue and the viewer's visibility, shared by lists and reports. (The
/// text search is the list's own.)
pub(crate) fn narrow<S: StateModel>(
    q: &mut Select,
    filter: &TaskFilter<S>,
    kind: TaskKind,
    dialect: Dialect,
) {
    // The kind is written out (a code of our own) so the partial queue indexes apply. A
    // person's own tasks are found by the caller's and the opener's indexes, an assignee's
    // by theirs, and a selective condition of the extension by its own: SQLite, which keeps
    // no statistics here, would otherwise walk every open task of the kind (`+` keeps the
    // kind's indexes out of its choice).
    let own = matches!(filter.visibility, Visibility::Own(_))
        || filter.assigned_to.is_some()
        || filter.ext.iter().any(|c| c.selective);
    let column = if own && dialect == Dialect::Sqlite {
        "+t.kind"
    } else {
        "t.kind"
    };
    q.condition(format!("{column} = '{}'", kind.code()));
    match &filter.visibility {
        Visibility::All => {}
        Visibility::Organization(org) => {
            q.filter("t.organization_id = {}", Val::Uuid(org.as_uuid()));
        }
        Visibility::Own(p) => {
            let ph = q.bind(Val::Uuid(p.as_uuid()));
            q.condition(format!("(t.caller_id = {ph} OR t.opened_by_id = {ph})"));
        }
    }
    if !filter.states.is_empty() {
        let phs: Vec<String> = filter
            .states
            .iter()
            .map(|s| q.bind(Val::Text(s.code().to_owned())))
            .collect();
        q.condition(format!("t.state IN ({})", phs.join(", ")));
    }
    if let Some(g) = filter.assignment_group {
        q.filter("t.assignment_group_id = {}", Val::Uuid(g.as_uuid()));
    }
    if !filter.groups.is_empty() {
        let phs: Vec<String> = filter
            .groups
            .iter()
            .map(|g| q.bind(Val::Uuid(g.as_uuid())))
            .collect();
        q.condition(format!("t.assignment_group_id IN ({})", phs.join(", ")));
    }
    if let Some(p) = filter.assigned_to {
        q.filter("t.assigned_to_id = {}", Val::Uuid(p.as_uuid()));
    }
    if filter.unassigned {
        q.condition("t.assigned_to_id IS NULL".into());
    }
    if let Some(p) = filter.caller {
        q.filter("t.caller_id = {}", Val::Uuid(p.as_uuid()));
    }
    if let Some(p) = filter.priority {
        q.filter("t.priority = {}", Val::I64(p));
    }
    for c in &filter.ext {
        match &c.value {
            Some(v) => {
                q.filter(c.sql, v.clone());
            }
            None => {
                q.condition(c.sql.to_owned());
            }
        }
    }
    if let Some(s) = filter.service {
        q.filter("t.service_id = {}", Val::Uuid(s.as_uuid()));
    }
    if let Some(c) = filter.ci {
        q.filter("t.ci_id = {}", Val::Uuid(c.as_uuid()));
    }
    if let Some(c) = &filter.category {
        q.filter("t.category = {}", Val::Text(c.clone()));
    }
    if let Some(p) = filter.parent {
        q.filter("t.parent_id = {}", Val::Uuid(p.as_uuid()));
    }
    if let Some(l) = filter.location {
        q.filter("t.location_id = {}", Val::Uuid(l.as_uuid()));
    }
}

/// The column a page of tasks is chosen by: SQLite finds a page's rows by their rowid, a
/// single descent where the id would take two (its index, then the table).
pub(crate) fn key_column(dialect: Dialect) -> &'static str {
    match dialect {
        Dialect::Sqlite => "t.rowid",
        Dialect::Postgres => "t.id",
    }
}

/// PostgreSQL: a searched word matching at most this many tasks is rare (see `list`).
const RARE_MATCHES: i64 = 2000;

/// A page of E's tasks.
pub async fn list<E: Extension>(
    tx: &mut Tx<'_>,
    filter: &TaskFilter<E::State>,
    sort: &[(TaskSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Record<E>>> {
    let text = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    // The page is chosen on the task (and extension) rows alone and only the rows kept are
    // joined to their people, groups and the rest: joining every candidate of a search or a
    // queue before sorting them cost more than the choice itself.
    let ext = if filter.ext.is_empty() {
        String::new()
    } else {
        format!(" JOIN {} x ON x.task_id = t.id", E::TABLE)
    };
    let key = key_column(tx.dialect());
    let mut q = Select::new(&format!("SELECT {key} AS k FROM task t{ext}"));
    if let (Some(text), Dialect::Sqlite) = (text, tx.dialect()) {
        match fts5_query(text) {
            // Drive the query from the newest matches (SQLite would otherwise walk the
            // sort index and test every row against the matches).
            Some(m) => {
                let ph = q.bind(Val::Text(m));
                q.set_head(format!(
                    "SELECT {key} AS k FROM (SELECT rowid AS k FROM task_search WHERE task_search MATCH {ph} \
                     ORDER BY rowid DESC LIMIT {SEARCH_CANDIDATES}) s CROSS JOIN task t ON t.search_key = s.k{ext}"
                ));
            }
            None => {
                q.condition("1 = 0".into());
            }
        }
    }
    narrow(&mut q, filter, E::KIND, tx.dialect());
    if let (Some(text), Dialect::Postgres) = (text, tx.dialect()) {
        // A rare word's few matches are best found from the words' index and sorted; a
        // common word's first page by walking the sort order and keeping the matching tasks.
        // PostgreSQL's estimate of how many tasks a word matches is too rough to choose
        // (for a word it has no statistics of, it walked a million tasks to find twelve):
        // the matches are counted up to RARE_MATCHES first.
        let found = tx
            .query(
                "SELECT task_id FROM task_search \
                 WHERE document @@ plainto_tsquery('simple'::regconfig, $1::text) LIMIT $2",
                &[text.into(), (RARE_MATCHES + 1).into()],
            )
            .await?;
        if found.len() <= RARE_MATCHES as usize {
            let ids = found
                .iter()
                .map(|r| r.get::<TaskId>(0))
                .collect::<StoreResult<Vec<_>>>()?;
            let ph = q.bind(Val::Text(super::id_array(&ids).to_string()));
            q.condition(format!(
                "t.id IN (SELECT jsonb_array_elements_text({ph}::text::jsonb)::uuid)"
            ));
        } else {
            let ph = q.bind(Val::Text(text.to_owned()));
            q.condition(format!(
                "t.id IN (SELECT task_id FROM task_search WHERE document @@ plainto_tsquery('simple'::regconfig, {ph}::text))"
            ));
        }
        q.plan_for_values();
    }
    page_of::<E>(tx, q, sort, after, limit).await
}

/// The page of E's tasks that `q` (`SELECT <key> AS k FROM task t …` with its conditions,
/// the key `t.rowid` on SQLite and `t.id` on PostgreSQL, as `key_column` says) chooses in
/// the order of `sort`, read whole.
pub(crate) async fn page_of<E: Extension>(
    tx: &mut Tx<'_>,
    mut q: Select,
    sort: &[(TaskSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Record<E>>> {
    let keys = sort_keys(sort);
    q.page(&keys, after, limit)?;
    q.join_page(
        &format!("{} ", E::statements().head),
        &E::statements().from.replacen(
            "FROM task t",
            match tx.dialect() {
                // CROSS JOIN keeps SQLite from starting anywhere but at the page.
                Dialect::Sqlite => "FROM ({}) q CROSS JOIN task t ON t.rowid = q.k",
                Dialect::Postgres => "FROM ({}) q JOIN task t ON t.id = q.k",
            },
            1,
        ),
    );
    let mut items = q
        .run(tx)
        .await?
        .iter()
        .map(from_row::<E>)
        .collect::<StoreResult<Vec<_>>>()?;
    // The same order as the SQL's: texts compare bytewise and the ids' text order is their
    // byte order.
    super::list::sort_page(&mut items, &keys, |column, a, b| match column {
        "t.number" => a.number.cmp(&b.number),
        "t.priority" => a.priority.get().cmp(&b.priority.get()),
        "t.opened_at" => a.opened_at.cmp(&b.opened_at),
        "t.updated_at" => a.updated_at.cmp(&b.updated_at),
        _ => a.id.as_uuid().cmp(&b.id.as_uuid()),
    });
    Ok(into_page(items, limit, |i| {
        keys.iter()
            .map(|k| match k.column {
                "t.number" => Val::Text(i.number.clone()),
                "t.priority" => Val::I64(i.priority.get()),
                "t.opened_at" => Val::Ts(i.opened_at),
                "t.updated_at" => Val::Ts(i.updated_at),
                _ => Val::Uuid(i.id.as_uuid()),
            })
            .collect()
    }))
}

fn sort_keys(sort: &[(TaskSort, bool)]) -> Vec<SortKey> {
    super::list::sort_keys(
        sort,
        |s| match s {
            TaskSort::Number => "t.number",
            TaskSort::Priority => "t.priority",
            TaskSort::OpenedAt => "t.opened_at",
            TaskSort::UpdatedAt => "t.updated_at",
        },
        "t.id",
    )
}

// ----- search -----

/// An FTS5 query matching every word of `text` (each quoted, so nothing in it is syntax);
/// `None` when it holds no word.
fn fts5_query(text: &str) -> Option<String> {
    let words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(|w| format!("\"{}\"", w.to_lowercase()))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Rewrites a task's search document: number, short description, description and the text
/// of its journal.
pub async fn reindex(tx: &mut Tx<'_>, id: TaskId) -> StoreResult<()> {
    if tx.dialect() == Dialect::Postgres {
        // The document made where the rows are: one statement.
        tx.execute(
            "INSERT INTO task_search (task_id, document) \
             SELECT t.id, to_tsvector('simple'::regconfig, concat_ws(' ', t.number, t.short_description, \
             t.description, (SELECT string_agg(j.body, ' ' ORDER BY j.created_at, j.id) FROM task_journal j \
             WHERE j.task_id = t.id AND j.kind <> 'change'))) FROM task t WHERE t.id = $1 \
             ON CONFLICT (task_id) DO UPDATE SET document = excluded.document",
            &[id.into()],
        )
        .await?;
        return Ok(());
    }
    let row = tx
        .query_one(
            "SELECT number, short_description, description, search_key FROM task WHERE id = $1",
            &[id.into()],
        )
        .await?;
    let key: i64 = row.get(3)?;
    let mut doc = format!(
        "{} {} {}",
        row.get::<String>(0)?,
        row.get::<String>(1)?,
        row.get::<String>(2)?
    );
    for r in tx
        .query(
            "SELECT body FROM task_journal WHERE task_id = $1 AND kind <> 'change' ORDER BY created_at, id",
            &[id.into()],
        )
        .await?
    {
        doc.push(' ');
        doc.push_str(&r.get::<String>(0)?);
    }
    tx.execute("DELETE FROM task_search WHERE rowid = $1", &[key.into()])
        .await?;
    tx.execute(
        "INSERT INTO task_search (rowid, task_id, document) VALUES ($1, $2, $3)",
        &[key.into(), id.into(), doc.as_str().into()],
    )
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn squeeze(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn a_create_reads_back_only_the_references_it_has() {
        let aliases = ["c", "ob", "g", "a", "s", "f", "ci", "o", "p", "lo"];
        let all: Vec<(&str, bool)> = aliases.iter().map(|a| (*a, true)).collect();
        let (columns, joins) = references_present(&all);
        assert_eq!(columns, squeeze(COLUMNS));
        assert_eq!(joins, squeeze(JOINS));
        let some: Vec<(&str, bool)> = aliases.iter().map(|a| (*a, *a == "g")).collect();
        let (columns, joins) = references_present(&some);
        assert_eq!(
            joins,
            "LEFT JOIN support_group g ON g.id = t.assignment_group_id"
        );
        assert_eq!(columns.split(", ").count(), COLUMN_COUNT);
        assert!(columns.contains("g.id, g.name") && !columns.contains("c.id"));
        assert!(
            columns.starts_with("t.id, t.number")
                && columns.contains("NULL::uuid, NULL::text, NULL::text")
        );
    }
}
