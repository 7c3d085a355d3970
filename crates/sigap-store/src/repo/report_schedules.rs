//! Scheduled deliveries of reports as stored (the `report_schedule` table): their cadence,
//! recipients (JSON), file format, and the next time each is due. A delivery is claimed by
//! moving its next time on from the one read: of several nodes, one moves it.

use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::{P, Row};
use jiff::Timestamp;
use sigap_domain::{GroupId, PersonId, ReportId, ScheduleId};

#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    pub id: ScheduleId,
    pub report_id: ReportId,
    pub owner_id: PersonId,
    pub owner_name: Option<String>,
    pub every: String,
    pub weekday: Option<i64>,
    pub day: Option<i64>,
    pub hour: i64,
    pub time_zone: String,
    pub format: String,
    pub recipients: serde_json::Value,
    pub skip_empty: bool,
    pub active: bool,
    pub next_run_at: Timestamp,
    pub last_run_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

const COLUMNS: &str = "s.id, s.report_id, s.owner_id, p.name, s.every, s.weekday, s.day, s.hour, \
    s.time_zone, s.format, s.recipients, s.skip_empty, s.active, s.next_run_at, s.last_run_at, \
    s.created_at, s.updated_at, s.version";
const FROM: &str = "report_schedule s LEFT JOIN person p ON p.id = s.owner_id";

fn from_row(r: &Row) -> StoreResult<Schedule> {
    Ok(Schedule {
        id: r.get(0)?,
        report_id: r.get(1)?,
        owner_id: r.get(2)?,
        owner_name: r.get(3)?,
        every: r.get(4)?,
        weekday: r.get(5)?,
        day: r.get(6)?,
        hour: r.get(7)?,
        time_zone: r.get(8)?,
        format: r.get(9)?,
        recipients: r.get(10)?,
        skip_empty: r.get(11)?,
        active: r.get(12)?,
        next_run_at: r.get(13)?,
        last_run_at: r.get(14)?,
        created_at: r.get(15)?,
        updated_at: r.get(16)?,
        version: r.get(17)?,
    })
}

/// A schedule by its id, if it is there.
pub async fn get(tx: &mut Tx<'_>, id: ScheduleId) -> StoreResult<Option<Schedule>> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM {FROM} WHERE s.id = $1"),
        &[id.into()],
    )
    .await?
    .map(|r| from_row(&r))
    .transpose()
}

/// A report's schedules, soonest first.
pub async fn of_report(tx: &mut Tx<'_>, report: ReportId) -> StoreResult<Vec<Schedule>> {
    tx.query(
        &format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE s.report_id = $1 ORDER BY s.next_run_at, s.id"
        ),
        &[report.into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// The active schedules due at `now`, the most overdue first, at most `limit`.
pub async fn due(tx: &mut Tx<'_>, now: Timestamp, limit: i64) -> StoreResult<Vec<Schedule>> {
    tx.query(
        &format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE s.active AND s.next_run_at <= $1 \
             ORDER BY s.next_run_at, s.id LIMIT $2"
        ),
        &[now.into(), limit.into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Claims a due delivery: moves its next time from `was` to `next`; false when another
/// node moved it first.
pub async fn claim(
    tx: &mut Tx<'_>,
    id: ScheduleId,
    was: Timestamp,
    next: Timestamp,
    now: Timestamp,
) -> StoreResult<bool> {
    Ok(tx
        .execute(
            "UPDATE report_schedule SET next_run_at = $3, last_run_at = $4 \
             WHERE id = $1 AND next_run_at = $2 AND active",
            &[id.into(), was.into(), next.into(), now.into()],
        )
        .await?
        == 1)
}

/// Writes a new schedule.
pub async fn insert(tx: &mut Tx<'_>, s: &Schedule) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO report_schedule (id, report_id, owner_id, every, weekday, day, hour, \
         time_zone, format, recipients, skip_empty, active, next_run_at, created_at, updated_at, \
         version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14, 1)",
        &[
            s.id.into(),
            s.report_id.into(),
            s.owner_id.into(),
            s.every.as_str().into(),
            s.weekday.into(),
            s.day.into(),
            s.hour.into(),
            s.time_zone.as_str().into(),
            s.format.as_str().into(),
            (&s.recipients).into(),
            s.skip_empty.into(),
            s.active.into(),
            s.next_run_at.into(),
            s.created_at.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Writes a schedule's fields over the stored ones at `s.version`; whether it was still at it.
pub async fn update(tx: &mut Tx<'_>, s: &Schedule) -> StoreResult<bool> {
    Ok(tx
        .execute(
            "UPDATE report_schedule SET every = $2, weekday = $3, day = $4, hour = $5, \
             time_zone = $6, format = $7, recipients = $8, skip_empty = $9, active = $10, \
             next_run_at = $11, updated_at = $12, version = version + 1 \
             WHERE id = $1 AND version = $13",
            &[
                s.id.into(),
                s.every.as_str().into(),
                s.weekday.into(),
                s.day.into(),
                s.hour.into(),
                s.time_zone.as_str().into(),
                s.format.as_str().into(),
                (&s.recipients).into(),
                s.skip_empty.into(),
                s.active.into(),
                s.next_run_at.into(),
                s.updated_at.into(),
                s.version.into(),
            ],
        )
        .await?
        == 1)
}

/// Removes a schedule; whether it was there.
pub async fn delete(tx: &mut Tx<'_>, id: ScheduleId) -> StoreResult<bool> {
    Ok(tx
        .execute("DELETE FROM report_schedule WHERE id = $1", &[id.into()])
        .await?
        == 1)
}

/// How many schedules a report has.
pub async fn count_of_report(tx: &mut Tx<'_>, report: ReportId) -> StoreResult<i64> {
    tx.query_one(
        "SELECT COUNT(*) FROM report_schedule WHERE report_id = $1",
        &[report.into()],
    )
    .await?
    .get(0)
}

/// A person a report goes to: their address, name and language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub id: PersonId,
    pub name: String,
    pub email: String,
    pub locale: String,
}

/// The active people with an address among `people` and the members of `groups`, each
/// once, by name.
pub async fn readers(
    tx: &mut Tx<'_>,
    people: &[PersonId],
    groups: &[GroupId],
) -> StoreResult<Vec<Reader>> {
    if people.is_empty() && groups.is_empty() {
        return Ok(Vec::new());
    }
    let mut params: Vec<P<'_>> = Vec::new();
    let marks = |ids: Vec<uuid::Uuid>, params: &mut Vec<P<'_>>| -> String {
        let mut m = Vec::new();
        for id in ids {
            params.push(id.into());
            m.push(format!("${}", params.len()));
        }
        if m.is_empty() {
            "NULL".to_owned()
        } else {
            m.join(", ")
        }
    };
    let p = marks(people.iter().map(|p| p.as_uuid()).collect(), &mut params);
    let g = marks(groups.iter().map(|g| g.as_uuid()).collect(), &mut params);
    tx.query(
        &format!(
            "SELECT id, name, email, locale FROM person WHERE active AND email IS NOT NULL \
             AND (id IN ({p}) OR id IN (SELECT person_id FROM group_member WHERE group_id IN ({g}))) \
             ORDER BY name_key, id"
        ),
        &params,
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Reader {
            id: r.get(0)?,
            name: r.get(1)?,
            email: r.get(2)?,
            locale: r.get(3)?,
        })
    })
    .collect()
}
