//! Incidents on the task core: their own table (hold reason, work-around, resolution,
//! major incident, the reason of a priority override), what only they are asked
//! (resolved ones waiting to close), and bulk loading for the generator.

use super::list::{Page, Val};
use super::task::{self, ExtCondition, Record, RecordFields, TaskFilter, TaskSort};
use crate::error::StoreResult;
use crate::tx::{Dialect, Tx};
use crate::value::{Col, P};
use jiff::Timestamp;
use sigap_domain::TaskId;
use sigap_domain::process::incident::{HoldReason, IncidentState};
use sigap_domain::task::TaskKind;

task::extension!(
    /// An incident's own fields.
    IncidentExt: IncidentState, TaskKind::Incident, "incident" {
        hold_reason: Option<HoldReason>,
        workaround: String,
        resolution_code: Option<String>,
        resolution_notes: String,
        major: bool,
        priority_override_reason: Option<String>,
    }
);

impl Col for HoldReason {
    fn from_sqlite(v: rusqlite::types::ValueRef<'_>, i: usize) -> StoreResult<Self> {
        super::decode(i, String::from_sqlite(v, i)?, HoldReason::parse)
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> StoreResult<Self> {
        super::decode(i, String::from_pg(row, i)?, HoldReason::parse)
    }
}

impl crate::value::Param for HoldReason {
    fn param(&self) -> P<'_> {
        P::Text(self.code())
    }
}

pub type Incident = Record<IncidentExt>;
pub type IncidentFields = RecordFields<IncidentExt>;
pub type IncidentFilter = TaskFilter<IncidentState>;

/// Major incidents only, or none of them.
pub fn major(is: bool) -> ExtCondition {
    match is {
        // The words of the partial index `incident_major`.
        true => ExtCondition::selective("x.major"),
        false => ExtCondition::new("x.major = {}", Val::Bool(is)),
    }
}

pub async fn get(tx: &mut Tx<'_>, id: TaskId) -> StoreResult<Incident> {
    task::get(tx, id).await
}

pub async fn find_by_number(tx: &mut Tx<'_>, number: &str) -> StoreResult<Option<Incident>> {
    task::find_by_number(tx, number).await
}

pub async fn list(
    tx: &mut Tx<'_>,
    filter: &IncidentFilter,
    sort: &[(TaskSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Incident>> {
    task::list(tx, filter, sort, after, limit).await
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
            "{} WHERE t.state = 'resolved' AND t.resolved_at < $1 AND x.major = $2 \
             ORDER BY t.resolved_at, t.id LIMIT $3",
            task::select::<IncidentExt>()
        ),
        &[before.into(), false.into(), limit.into()],
    )
    .await?
    .iter()
    .map(task::from_row)
    .collect()
}

// ----- bulk loading (seeding, benchmarks) -----

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
    let f = &r.fields.ext;
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
    let keys = task::reserve_numbers(tx, "TASK", rows.len() as i64).await?;
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
                let key = keys[i];
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
            // The task and incident rows in binary COPYs; the search documents, made by the
            // database, in multi-row statements of a thousand.
            let keyed: Vec<(&SeedIncident, i64)> = rows.iter().zip(keys.iter().copied()).collect();
            tx.insert_rows(
                "task",
                &format!("{BULK_TASK_COLUMNS}, kind, version"),
                &keyed,
                |(r, key), out| {
                    task_params(r, *key, out);
                    out.push("incident".into());
                    out.push(1i64.into());
                },
            )
            .await?;
            tx.insert_rows(
                "incident",
                "task_id, hold_reason, resolution_code, resolution_notes, major, workaround",
                rows,
                |r, out| {
                    incident_params(r, out);
                    out.push("".into());
                },
            )
            .await?;
            const CHUNK: usize = 1000;
            for chunk in rows.chunks(CHUNK) {
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
