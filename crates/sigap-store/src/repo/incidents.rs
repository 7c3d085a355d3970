//! Incidents on the task core: numbers, the record and its references, the journal, the
//! priority matrix, categories, assignment rules and process settings.

use super::decode;
use super::groups::{GroupRef, PersonRef};
use super::list::{Page, Select, Val, into_page};
use crate::error::{StoreError, StoreResult};
use crate::tx::{Dialect, Tx};
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::process::incident::{HoldReason, IncidentState};
use sigap_domain::task::{ContactType, Level, MatrixRow, Priority};
use sigap_domain::{
    CiId, GroupId, JournalId, LocationId, OfferingId, OrgId, PersonId, RuleId, ServiceId, TaskId,
};

/// Takes the next number of a kind (`INC0000001`) in the caller's transaction.
pub async fn next_number(tx: &mut Tx<'_>, kind: &str) -> StoreResult<String> {
    let row = tx
        .query_one(
            "UPDATE number_seq SET next = next + 1 WHERE kind = $1 RETURNING next - 1",
            &[kind.into()],
        )
        .await?;
    let n: i64 = row.get(0)?;
    Ok(format!("{kind}{n:07}"))
}

/// A named reference (service, organization).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedRef<T> {
    pub id: T,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incident {
    pub id: TaskId,
    pub number: String,
    pub short_description: String,
    pub description: String,
    pub state: IncidentState,
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
    pub hold_reason: Option<HoldReason>,
    pub workaround: String,
    pub resolution_code: Option<String>,
    pub resolution_notes: String,
    pub major: bool,
    pub priority_override_reason: Option<String>,
    /// Where it happens; written with `set_location`, beside the fields.
    pub location: Option<NamedRef<LocationId>>,
    pub version: i64,
}

/// Everything of an incident that is written (the number and opening time only once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentFields {
    pub short_description: String,
    pub description: String,
    pub state: IncidentState,
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
    pub hold_reason: Option<HoldReason>,
    pub workaround: String,
    pub resolution_code: Option<String>,
    pub resolution_notes: String,
    pub major: bool,
    pub priority_override_reason: Option<String>,
}

impl Incident {
    pub fn fields(&self) -> IncidentFields {
        IncidentFields {
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
            hold_reason: self.hold_reason,
            workaround: self.workaround.clone(),
            resolution_code: self.resolution_code.clone(),
            resolution_notes: self.resolution_notes.clone(),
            major: self.major,
            priority_override_reason: self.priority_override_reason.clone(),
        }
    }

    pub fn location_id(&self) -> Option<LocationId> {
        self.location.as_ref().map(|l| l.id)
    }
}

const COLUMNS: &str = "t.id, t.number, t.short_description, t.description, t.state, t.impact, t.urgency, t.priority, \
    c.id, c.login, c.name, ob.id, ob.login, ob.name, g.id, g.name, a.id, a.login, a.name, \
    s.id, s.name, f.id, f.name, ci.id, ci.name, o.id, o.name, t.category, t.subcategory, t.contact_type, \
    p.id, p.number, t.opened_at, t.updated_at, t.resolved_at, t.closed_at, t.reassignment_count, t.reopen_count, \
    i.hold_reason, i.workaround, i.resolution_code, i.resolution_notes, i.major, i.priority_override_reason, t.version, \
    lo.id, lo.name";
const FROM: &str = "FROM task t JOIN incident i ON i.task_id = t.id \
    LEFT JOIN person c ON c.id = t.caller_id LEFT JOIN person ob ON ob.id = t.opened_by_id \
    LEFT JOIN support_group g ON g.id = t.assignment_group_id LEFT JOIN person a ON a.id = t.assigned_to_id \
    LEFT JOIN service s ON s.id = t.service_id LEFT JOIN service_offering f ON f.id = t.offering_id \
    LEFT JOIN ci ci ON ci.id = t.ci_id LEFT JOIN organization o ON o.id = t.organization_id \
    LEFT JOIN task p ON p.id = t.parent_id LEFT JOIN location lo ON lo.id = t.location_id";

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

fn level(column: usize, v: i64) -> StoreResult<Level> {
    Level::parse(v).map_err(|e| StoreError::Decode {
        column,
        detail: e.to_string(),
    })
}

fn from_row(row: &Row) -> StoreResult<Incident> {
    let priority: i64 = row.get(7)?;
    let hold: Option<String> = row.get(38)?;
    Ok(Incident {
        id: row.get(0)?,
        number: row.get(1)?,
        short_description: row.get(2)?,
        description: row.get(3)?,
        state: decode(4, row.get(4)?, IncidentState::parse)?,
        impact: level(5, row.get(5)?)?,
        urgency: level(6, row.get(6)?)?,
        priority: Priority::parse(priority).map_err(|e| StoreError::Decode {
            column: 7,
            detail: e.to_string(),
        })?,
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
        hold_reason: match hold {
            Some(h) => Some(decode(38, h, HoldReason::parse)?),
            None => None,
        },
        workaround: row.get(39)?,
        resolution_code: row.get(40)?,
        resolution_notes: row.get(41)?,
        major: row.get(42)?,
        priority_override_reason: row.get(43)?,
        version: row.get(44)?,
        location: named(row, 45)?,
    })
}

pub async fn insert(
    tx: &mut Tx<'_>,
    id: TaskId,
    number: &str,
    f: &IncidentFields,
    now: Timestamp,
) -> StoreResult<Incident> {
    let search_key = reserve_numbers(tx, "TASK", 1).await?;
    tx.execute(
        "INSERT INTO task (id, number, kind, short_description, description, state, impact, urgency, priority, \
         caller_id, opened_by_id, assignment_group_id, assigned_to_id, service_id, offering_id, ci_id, \
         organization_id, category, subcategory, contact_type, parent_id, opened_at, updated_at, resolved_at, \
         closed_at, reassignment_count, reopen_count, version, search_key) VALUES ($1, $2, 'incident', $3, $4, $5, \
         $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $21, $22, $23, $24, $25, 1, $26)",
        &[
            id.into(),
            number.into(),
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
            now.into(),
            f.resolved_at.into(),
            f.closed_at.into(),
            f.reassignment_count.into(),
            f.reopen_count.into(),
            search_key.into(),
        ],
    )
    .await?;
    tx.execute(
        "INSERT INTO incident (task_id, hold_reason, workaround, resolution_code, resolution_notes, major, \
         priority_override_reason) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            id.into(),
            f.hold_reason.map(|h| h.code()).into(),
            f.workaround.as_str().into(),
            f.resolution_code.as_deref().into(),
            f.resolution_notes.as_str().into(),
            f.major.into(),
            f.priority_override_reason.as_deref().into(),
        ],
    )
    .await?;
    get(tx, id).await
}

/// Writes every field, guarded by the version the caller read.
pub async fn update(
    tx: &mut Tx<'_>,
    id: TaskId,
    f: &IncidentFields,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Incident> {
    let n = tx
        .execute(
            "UPDATE task SET short_description = $2, description = $3, state = $4, impact = $5, urgency = $6, \
             priority = $7, caller_id = $8, opened_by_id = $9, assignment_group_id = $10, assigned_to_id = $11, \
             service_id = $12, offering_id = $13, ci_id = $14, organization_id = $15, category = $16, \
             subcategory = $17, contact_type = $18, parent_id = $19, resolved_at = $20, closed_at = $21, \
             reassignment_count = $22, reopen_count = $23, updated_at = $24, version = version + 1 \
             WHERE id = $1 AND version = $25",
            &[
                id.into(),
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
                now.into(),
                expected_version.into(),
            ],
        )
        .await?;
    super::versioned(n, get(tx, id)).await?;
    tx.execute(
        "UPDATE incident SET hold_reason = $2, workaround = $3, resolution_code = $4, resolution_notes = $5, \
         major = $6, priority_override_reason = $7 WHERE task_id = $1",
        &[
            id.into(),
            f.hold_reason.map(|h| h.code()).into(),
            f.workaround.as_str().into(),
            f.resolution_code.as_deref().into(),
            f.resolution_notes.as_str().into(),
            f.major.into(),
            f.priority_override_reason.as_deref().into(),
        ],
    )
    .await?;
    get(tx, id).await
}

/// Sets where a task happens. The location is not one of the `IncidentFields` (bulk loaders
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

static GET: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {COLUMNS} {FROM} WHERE t.id = $1"));
static BY_NUMBER: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {COLUMNS} {FROM} WHERE t.number = $1"));

pub async fn get(tx: &mut Tx<'_>, id: TaskId) -> StoreResult<Incident> {
    from_row(&tx.query_one(&GET, &[id.into()]).await?)
}

pub async fn find_by_number(tx: &mut Tx<'_>, number: &str) -> StoreResult<Option<Incident>> {
    tx.query_opt(&BY_NUMBER, &[number.trim().to_uppercase().as_str().into()])
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IncidentSort {
    Number,
    Priority,
    OpenedAt,
    UpdatedAt,
}

/// Who may see which incidents.
#[derive(Debug, Clone, Default)]
pub enum Visibility {
    /// Every incident (agents of the provider).
    #[default]
    All,
    /// Incidents of one organization (agents of a customer or supplier).
    Organization(OrgId),
    /// Incidents a person is the caller of or opened.
    Own(PersonId),
}

#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    pub visibility: Visibility,
    pub states: Vec<IncidentState>,
    pub assignment_group: Option<GroupId>,
    /// Incidents of any of these groups (my groups).
    pub groups: Vec<GroupId>,
    pub assigned_to: Option<PersonId>,
    pub unassigned: bool,
    pub caller: Option<PersonId>,
    pub priority: Option<i64>,
    pub major: Option<bool>,
    pub service: Option<ServiceId>,
    pub category: Option<String>,
    /// Children of this incident.
    pub parent: Option<TaskId>,
    pub location: Option<LocationId>,
    pub q: Option<String>,
}

pub async fn list(
    tx: &mut Tx<'_>,
    filter: &IncidentFilter,
    sort: &[(IncidentSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Incident>> {
    let text = filter.q.as_deref().map(str::trim).filter(|t| !t.is_empty());
    // The page is chosen on the task (and incident) rows alone and only the rows kept are
    // joined to their people, groups and the rest: joining every candidate of a search or a
    // queue before sorting them cost more than the choice itself.
    let incident = if filter.major.is_some() {
        " JOIN incident i ON i.task_id = t.id"
    } else {
        ""
    };
    // SQLite finds a page's rows by their rowid, a single descent where the id would take
    // two (its index, then the table).
    let key = match tx.dialect() {
        Dialect::Sqlite => "t.rowid",
        Dialect::Postgres => "t.id",
    };
    let mut q = Select::new(&format!("SELECT {key} AS k FROM task t{incident}"));
    if let (Some(text), Dialect::Sqlite) = (text, tx.dialect()) {
        match fts5_query(text) {
            // Drive the query from the newest matches (SQLite would otherwise walk the
            // sort index and test every row against the matches).
            Some(m) => {
                let ph = q.bind(Val::Text(m));
                q.set_head(format!(
                    "SELECT {key} AS k FROM (SELECT rowid AS k FROM task_search WHERE task_search MATCH {ph} \
                     ORDER BY rowid DESC LIMIT {SEARCH_CANDIDATES}) s CROSS JOIN task t ON t.search_key = s.k{incident}"
                ));
            }
            None => {
                q.condition("1 = 0".into());
            }
        }
    }
    q.condition("t.kind = 'incident'".into());
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
    if let Some(m) = filter.major {
        q.filter("i.major = {}", Val::Bool(m));
    }
    if let Some(s) = filter.service {
        q.filter("t.service_id = {}", Val::Uuid(s.as_uuid()));
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
    if let (Some(text), Dialect::Postgres) = (text, tx.dialect()) {
        let ph = q.bind(Val::Text(text.to_owned()));
        q.condition(format!(
            "t.id IN (SELECT task_id FROM task_search WHERE document @@ plainto_tsquery('simple'::regconfig, {ph}::text))"
        ));
    }
    let keys = super::list::sort_keys(
        sort,
        |s| match s {
            IncidentSort::Number => "t.number",
            IncidentSort::Priority => "t.priority",
            IncidentSort::OpenedAt => "t.opened_at",
            IncidentSort::UpdatedAt => "t.updated_at",
        },
        "t.id",
    );
    q.page(&keys, after, limit)?;
    q.join_page(
        &format!("SELECT {COLUMNS} "),
        &FROM.replacen(
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
        .map(from_row)
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

/// How many of the newest matches of a full-text search SQLite considers.
pub const SEARCH_CANDIDATES: i64 = 5_000;

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
    match tx.dialect() {
        Dialect::Sqlite => {
            tx.execute("DELETE FROM task_search WHERE rowid = $1", &[key.into()])
                .await?;
            tx.execute(
                "INSERT INTO task_search (rowid, task_id, document) VALUES ($1, $2, $3)",
                &[key.into(), id.into(), doc.as_str().into()],
            )
            .await?;
        }
        Dialect::Postgres => {
            tx.execute(
                "INSERT INTO task_search (task_id, document) VALUES ($1, to_tsvector('simple'::regconfig, $2::text)) \
                 ON CONFLICT (task_id) DO UPDATE SET document = excluded.document",
                &[id.into(), doc.as_str().into()],
            )
            .await?;
        }
    }
    Ok(())
}

/// Resolved incidents whose resolution is older than `before` (for automatic closing),
/// major incidents excepted.
pub async fn resolved_before(
    tx: &mut Tx<'_>,
    before: Timestamp,
    limit: i64,
) -> StoreResult<Vec<Incident>> {
    tx.query(
        &format!(
            "SELECT {COLUMNS} {FROM} WHERE t.state = 'resolved' AND t.resolved_at < $1 AND i.major = $2 \
             ORDER BY t.resolved_at, t.id LIMIT $3"
        ),
        &[before.into(), false.into(), limit.into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

// ----- journal -----

/// What a journal entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JournalKind {
    /// Visible to the caller.
    Comment,
    /// Internal to the service desk.
    WorkNote,
    /// Recorded field changes.
    Change,
}

impl JournalKind {
    pub fn code(self) -> &'static str {
        match self {
            JournalKind::Comment => "comment",
            JournalKind::WorkNote => "work_note",
            JournalKind::Change => "change",
        }
    }
    fn parse(t: &str) -> Result<Self, sigap_domain::InvalidValue> {
        match t {
            "comment" => Ok(JournalKind::Comment),
            "work_note" => Ok(JournalKind::WorkNote),
            "change" => Ok(JournalKind::Change),
            _ => Err(sigap_domain::InvalidValue::new(
                "invalid_choice",
                "comment, work_note or change",
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    pub id: JournalId,
    pub kind: JournalKind,
    pub author_id: Option<PersonId>,
    pub author: String,
    pub body: String,
    pub changes: Option<serde_json::Value>,
    pub created_at: Timestamp,
}

#[allow(clippy::too_many_arguments)]
pub async fn add_entry(
    tx: &mut Tx<'_>,
    task: TaskId,
    kind: JournalKind,
    author_id: Option<PersonId>,
    author: &str,
    body: &str,
    changes: Option<&serde_json::Value>,
    now: Timestamp,
) -> StoreResult<JournalId> {
    let id = JournalId::new();
    tx.execute(
        "INSERT INTO task_journal (id, task_id, kind, author_id, author, body, changes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            id.into(),
            task.into(),
            kind.code().into(),
            author_id.into(),
            author.into(),
            body.into(),
            changes.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// A task's journal, oldest first; without work notes for callers.
pub async fn entries(
    tx: &mut Tx<'_>,
    task: TaskId,
    with_work_notes: bool,
) -> StoreResult<Vec<JournalEntry>> {
    let sql = if with_work_notes {
        "SELECT id, kind, author_id, author, body, changes, created_at FROM task_journal WHERE task_id = $1 \
         ORDER BY created_at, id"
    } else {
        "SELECT id, kind, author_id, author, body, changes, created_at FROM task_journal WHERE task_id = $1 \
         AND kind = 'comment' ORDER BY created_at, id"
    };
    tx.query(sql, &[task.into()])
        .await?
        .iter()
        .map(|r| {
            Ok(JournalEntry {
                id: r.get(0)?,
                kind: decode(1, r.get(1)?, JournalKind::parse)?,
                author_id: r.get(2)?,
                author: r.get(3)?,
                body: r.get(4)?,
                changes: r.get(5)?,
                created_at: r.get(6)?,
            })
        })
        .collect()
}

// ----- the priority matrix -----

pub async fn matrix_rows(tx: &mut Tx<'_>) -> StoreResult<Vec<MatrixRow>> {
    tx.query(
        "SELECT impact, urgency, priority FROM priority_rule ORDER BY impact, urgency",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        let p: i64 = r.get(2)?;
        Ok(MatrixRow {
            impact: level(0, r.get(0)?)?,
            urgency: level(1, r.get(1)?)?,
            priority: Priority::parse(p).map_err(|e| StoreError::Decode {
                column: 2,
                detail: e.to_string(),
            })?,
        })
    })
    .collect()
}

pub async fn set_matrix_rows(tx: &mut Tx<'_>, rows: &[MatrixRow]) -> StoreResult<()> {
    tx.execute("DELETE FROM priority_rule", &[]).await?;
    for r in rows {
        tx.execute(
            "INSERT INTO priority_rule (impact, urgency, priority) VALUES ($1, $2, $3)",
            &[
                r.impact.get().into(),
                r.urgency.get().into(),
                r.priority.get().into(),
            ],
        )
        .await?;
    }
    Ok(())
}

// ----- categories -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub active: bool,
    pub sort_order: i64,
}

pub async fn categories(tx: &mut Tx<'_>) -> StoreResult<Vec<Category>> {
    tx.query(
        "SELECT code, name, parent_code, active, sort_order FROM incident_category \
         ORDER BY sort_order, name, code",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Category {
            code: r.get(0)?,
            name: r.get(1)?,
            parent_code: r.get(2)?,
            active: r.get(3)?,
            sort_order: r.get(4)?,
        })
    })
    .collect()
}

pub async fn upsert_category(tx: &mut Tx<'_>, c: &Category) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO incident_category (code, name, parent_code, active, sort_order) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, \
         active = excluded.active, sort_order = excluded.sort_order",
        &[
            c.code.as_str().into(),
            c.name.as_str().into(),
            c.parent_code.as_deref().into(),
            c.active.into(),
            c.sort_order.into(),
        ],
    )
    .await?;
    Ok(())
}

// ----- assignment rules -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRule {
    pub id: RuleId,
    pub sort_order: i64,
    pub category: Option<String>,
    pub service_id: Option<ServiceId>,
    pub ci_id: Option<CiId>,
    pub group_id: GroupId,
    pub active: bool,
}

pub async fn rules(tx: &mut Tx<'_>) -> StoreResult<Vec<AssignmentRule>> {
    tx.query(
        "SELECT id, sort_order, category, service_id, ci_id, group_id, active FROM assignment_rule \
         ORDER BY sort_order, id",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(AssignmentRule {
            id: r.get(0)?,
            sort_order: r.get(1)?,
            category: r.get(2)?,
            service_id: r.get(3)?,
            ci_id: r.get(4)?,
            group_id: r.get(5)?,
            active: r.get(6)?,
        })
    })
    .collect()
}

pub async fn insert_rule(tx: &mut Tx<'_>, r: &AssignmentRule) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO assignment_rule (id, sort_order, category, service_id, ci_id, group_id, active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            r.id.into(),
            r.sort_order.into(),
            r.category.as_deref().into(),
            r.service_id.into(),
            r.ci_id.into(),
            r.group_id.into(),
            r.active.into(),
        ],
    )
    .await?;
    Ok(())
}

pub async fn delete_rule(tx: &mut Tx<'_>, id: RuleId) -> StoreResult<bool> {
    Ok(tx
        .execute("DELETE FROM assignment_rule WHERE id = $1", &[id.into()])
        .await?
        > 0)
}

// ----- settings -----

pub async fn setting(tx: &mut Tx<'_>, key: &str) -> StoreResult<Option<serde_json::Value>> {
    tx.query_opt(
        "SELECT value FROM app_setting WHERE key = $1",
        &[key.into()],
    )
    .await?
    .map(|r| r.get(0))
    .transpose()
}

pub async fn set_setting(tx: &mut Tx<'_>, key: &str, value: &serde_json::Value) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO app_setting (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[key.into(), value.into()],
    )
    .await?;
    Ok(())
}

// ----- bulk loading (seeding, benchmarks) -----

/// Reserves `n` numbers of a kind; returns the first.
pub async fn reserve_numbers(tx: &mut Tx<'_>, kind: &str, n: i64) -> StoreResult<i64> {
    let row = tx
        .query_one(
            "UPDATE number_seq SET next = next + $2 WHERE kind = $1 RETURNING next - $2",
            &[kind.into(), n.into()],
        )
        .await?;
    row.get(0)
}

/// One generated incident.
#[derive(Debug, Clone)]
pub struct SeedIncident {
    pub id: TaskId,
    pub number: String,
    pub fields: IncidentFields,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
}

/// The columns of a bulk insert into `task`, in the order of `task_params`; `kind` and
/// `version` follow as constants.
const BULK_TASK_COLUMNS: &str = "id, number, short_description, description, state, impact, urgency, priority, \
     caller_id, opened_by_id, assignment_group_id, assigned_to_id, contact_type, category, opened_at, \
     updated_at, resolved_at, closed_at, search_key, reassignment_count, reopen_count, subcategory, ci_id, \
     service_id, organization_id";
const BULK_TASK_PARAMS: usize = 25;

fn task_params<'a>(r: &'a SeedIncident, search_key: i64, out: &mut Vec<crate::value::P<'a>>) {
    let f = &r.fields;
    out.push(r.id.into());
    out.push(r.number.as_str().into());
    out.push(f.short_description.as_str().into());
    out.push(f.description.as_str().into());
    out.push(f.state.code().into());
    out.push(f.impact.get().into());
    out.push(f.urgency.get().into());
    out.push(f.priority.get().into());
    out.push(f.caller_id.into());
    out.push(f.opened_by_id.into());
    out.push(f.assignment_group_id.into());
    out.push(f.assigned_to_id.into());
    out.push(f.contact_type.code().into());
    out.push(f.category.as_deref().into());
    out.push(r.opened_at.into());
    out.push(r.updated_at.into());
    out.push(f.resolved_at.into());
    out.push(f.closed_at.into());
    out.push(search_key.into());
    out.push(f.reassignment_count.into());
    out.push(f.reopen_count.into());
    out.push(f.subcategory.as_deref().into());
    out.push(f.ci_id.into());
    out.push(f.service_id.into());
    out.push(f.organization_id.into());
}

fn incident_params<'a>(r: &'a SeedIncident, out: &mut Vec<crate::value::P<'a>>) {
    let f = &r.fields;
    out.push(r.id.into());
    out.push(f.hold_reason.map(|h| h.code()).into());
    out.push(f.resolution_code.as_deref().into());
    out.push(f.resolution_notes.as_str().into());
    out.push(f.major.into());
}

fn search_document(r: &SeedIncident) -> String {
    format!(
        "{} {} {}",
        r.number, r.fields.short_description, r.fields.description
    )
}

/// Inserts many incidents with their search documents; no checks beyond the schema's.
///
/// SQLite runs one prepared single-row statement per row: it costs nothing to send, needs no
/// statement journal (a multi-row insert that may fail halfway keeps one) and leaves the
/// writer thread nothing to format. PostgreSQL gets multi-row statements, one round trip per
/// thousand rows.
pub async fn bulk_insert(tx: &mut Tx<'_>, rows: &[SeedIncident]) -> StoreResult<()> {
    let first_key = reserve_numbers(tx, "TASK", rows.len() as i64).await?;
    match tx.dialect() {
        Dialect::Sqlite => {
            let task_sql = format!(
                "INSERT INTO task ({BULK_TASK_COLUMNS}, kind, version) VALUES ({}, 'incident', 1)",
                (1..=BULK_TASK_PARAMS)
                    .map(|k| format!("${k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let mut params = Vec::with_capacity(BULK_TASK_PARAMS);
            for (i, r) in rows.iter().enumerate() {
                let key = first_key.saturating_add(i as i64);
                params.clear();
                task_params(r, key, &mut params);
                tx.execute(&task_sql, &params).await?;
                params.clear();
                incident_params(r, &mut params);
                tx.execute(
                    "INSERT INTO incident (task_id, hold_reason, resolution_code, resolution_notes, major, workaround) \
                     VALUES ($1, $2, $3, $4, $5, '')",
                    &params,
                )
                .await?;
                let doc = search_document(r);
                tx.execute(
                    "INSERT INTO task_search (rowid, task_id, document) VALUES ($1, $2, $3)",
                    &[key.into(), r.id.into(), doc.as_str().into()],
                )
                .await?;
            }
        }
        Dialect::Postgres => {
            // 25 parameters a row: 1,000 rows stay far under PostgreSQL's 65,535.
            const CHUNK: usize = 1000;
            for (c, chunk) in rows.chunks(CHUNK).enumerate() {
                let keys = first_key.saturating_add((c * CHUNK) as i64);
                let mut sql =
                    format!("INSERT INTO task ({BULK_TASK_COLUMNS}, kind, version) VALUES ");
                let mut params = Vec::with_capacity(chunk.len() * BULK_TASK_PARAMS);
                super::values_rows(
                    &mut sql,
                    &mut params,
                    chunk,
                    BULK_TASK_PARAMS,
                    ", 'incident', 1)",
                    |i, r, out| task_params(r, keys.saturating_add(i as i64), out),
                );
                tx.execute(&sql, &params).await?;

                let mut sql = String::from(
                    "INSERT INTO incident (task_id, hold_reason, resolution_code, resolution_notes, major, workaround) VALUES ",
                );
                let mut params = Vec::with_capacity(chunk.len() * 5);
                super::values_rows(&mut sql, &mut params, chunk, 5, ", '')", |_, r, out| {
                    incident_params(r, out)
                });
                tx.execute(&sql, &params).await?;

                let docs: Vec<String> = chunk.iter().map(search_document).collect();
                let mut sql = String::from("INSERT INTO task_search (task_id, document) VALUES ");
                let mut params: Vec<crate::value::P<'_>> = Vec::with_capacity(chunk.len() * 2);
                for (i, r) in chunk.iter().enumerate() {
                    if i > 0 {
                        sql.push_str(", ");
                    }
                    let b = params.len();
                    sql.push_str(&format!(
                        "(${}, to_tsvector('simple'::regconfig, ${}::text))",
                        b + 1,
                        b + 2
                    ));
                    params.push(r.id.into());
                    params.push(docs[i].as_str().into());
                }
                tx.execute(&sql, &params).await?;
            }
        }
    }
    Ok(())
}

// ----- attachments -----

/// An attachment's description (without its content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: sigap_domain::AttachmentId,
    pub task_id: TaskId,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub created_at: Timestamp,
}

fn attachment_from_row(r: &Row) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: r.get(0)?,
        task_id: r.get(1)?,
        filename: r.get(2)?,
        content_type: r.get(3)?,
        size: r.get(4)?,
        sha256: r.get(5)?,
        uploaded_by: r.get(6)?,
        created_at: r.get(7)?,
    })
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_attachment(
    tx: &mut Tx<'_>,
    task: TaskId,
    filename: &str,
    content_type: &str,
    sha256: &str,
    content: &[u8],
    uploaded_by: (Option<PersonId>, &str),
    now: Timestamp,
) -> StoreResult<Attachment> {
    let id = sigap_domain::AttachmentId::new();
    tx.execute(
        "INSERT INTO attachment (id, task_id, filename, content_type, size, sha256, content, uploaded_by_id, \
         uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            id.into(),
            task.into(),
            filename.into(),
            content_type.into(),
            (content.len() as i64).into(),
            sha256.into(),
            content.into(),
            uploaded_by.0.into(),
            uploaded_by.1.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(Attachment {
        id,
        task_id: task,
        filename: filename.to_owned(),
        content_type: content_type.to_owned(),
        size: content.len() as i64,
        sha256: sha256.to_owned(),
        uploaded_by: uploaded_by.1.to_owned(),
        created_at: now,
    })
}

const ATTACHMENT_COLUMNS: &str =
    "id, task_id, filename, content_type, size, sha256, uploaded_by, created_at";

pub async fn attachments_of(tx: &mut Tx<'_>, task: TaskId) -> StoreResult<Vec<Attachment>> {
    tx.query(
        &format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachment WHERE task_id = $1 ORDER BY created_at, id"
        ),
        &[task.into()],
    )
    .await?
    .iter()
    .map(attachment_from_row)
    .collect()
}

/// An attachment with its content.
pub async fn attachment(
    tx: &mut Tx<'_>,
    id: sigap_domain::AttachmentId,
) -> StoreResult<(Attachment, Vec<u8>)> {
    let r = tx
        .query_one(
            &format!("SELECT {ATTACHMENT_COLUMNS}, content FROM attachment WHERE id = $1"),
            &[id.into()],
        )
        .await?;
    Ok((attachment_from_row(&r)?, r.get(8)?))
}

/// One journal entry of a bulk insert (imports).
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub task: TaskId,
    pub kind: JournalKind,
    pub author_id: Option<PersonId>,
    pub author: String,
    pub body: String,
    pub changes: Option<serde_json::Value>,
    pub at: Timestamp,
}

const JOURNAL_INSERT: &str = "INSERT INTO task_journal (id, task_id, kind, author_id, author, body, changes, created_at) VALUES ";

fn entry_params<'a>(e: &'a NewEntry, out: &mut Vec<crate::value::P<'a>>) {
    out.push(JournalId::new().into());
    out.push(e.task.into());
    out.push(e.kind.code().into());
    out.push(e.author_id.into());
    out.push(e.author.as_str().into());
    out.push(e.body.as_str().into());
    out.push(e.changes.as_ref().into());
    out.push(e.at.into());
}

/// Inserts many journal entries: one prepared single-row statement per entry on SQLite,
/// multi-row statements on PostgreSQL (see `bulk_insert`).
pub async fn bulk_add_entries(tx: &mut Tx<'_>, entries: &[NewEntry]) -> StoreResult<()> {
    match tx.dialect() {
        Dialect::Sqlite => {
            let sql = format!("{JOURNAL_INSERT}($1, $2, $3, $4, $5, $6, $7, $8)");
            let mut params = Vec::with_capacity(8);
            for e in entries {
                params.clear();
                entry_params(e, &mut params);
                tx.execute(&sql, &params).await?;
            }
        }
        Dialect::Postgres => {
            for chunk in entries.chunks(2000) {
                let mut sql = String::from(JOURNAL_INSERT);
                let mut params = Vec::with_capacity(chunk.len() * 8);
                super::values_rows(&mut sql, &mut params, chunk, 8, ")", |_, e, out| {
                    entry_params(e, out)
                });
                tx.execute(&sql, &params).await?;
            }
        }
    }
    Ok(())
}

/// Makes the next number of a kind at least `at_least` (after an import of numbered records).
pub async fn bump_number(tx: &mut Tx<'_>, kind: &str, at_least: i64) -> StoreResult<()> {
    tx.execute(
        "UPDATE number_seq SET next = $2 WHERE kind = $1 AND next < $2",
        &[kind.into(), at_least.into()],
    )
    .await?;
    Ok(())
}
