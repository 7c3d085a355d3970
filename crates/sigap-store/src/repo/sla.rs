//! Service level management: calendars and holidays, agreements with their services and
//! targets, SLA clocks with their events, and the threshold notices already sent.

use super::decode;
use super::task::{NamedRef, named};
use super::{id_array, in_json, versioned};
use crate::error::StoreResult;
use crate::tx::{Dialect, Tx};
use crate::value::{P, Row};
use jiff::Timestamp;
use jiff::civil::Date;
use sigap_domain::sla::{AgreementKind, Metric};
use sigap_domain::{
    AgreementId, CalendarId, ClockEventId, ClockId, GroupId, HolidayId, OrgId, ServiceId, TargetId,
    TaskId,
};

// ----- calendars -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    pub id: CalendarId,
    pub name: String,
    pub time_zone: String,
    /// JSON: seven lists (Monday first) of `HH:MM-HH:MM`.
    pub hours: String,
    pub description: String,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarFields {
    pub name: String,
    pub time_zone: String,
    pub hours: String,
    pub description: String,
}

const CAL_COLUMNS: &str =
    "id, name, time_zone, hours, description, version, created_at, updated_at";

fn calendar_row(r: &Row) -> StoreResult<Calendar> {
    Ok(Calendar {
        id: r.get(0)?,
        name: r.get(1)?,
        time_zone: r.get(2)?,
        hours: r.get(3)?,
        description: r.get(4)?,
        version: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

pub async fn calendars(tx: &mut Tx<'_>) -> StoreResult<Vec<Calendar>> {
    tx.query(
        &format!("SELECT {CAL_COLUMNS} FROM calendar ORDER BY name, id"),
        &[],
    )
    .await?
    .iter()
    .map(calendar_row)
    .collect()
}

pub async fn calendar(tx: &mut Tx<'_>, id: CalendarId) -> StoreResult<Calendar> {
    calendar_row(
        &tx.query_one(
            &format!("SELECT {CAL_COLUMNS} FROM calendar WHERE id = $1"),
            &[id.into()],
        )
        .await?,
    )
}

pub async fn calendar_by_name(tx: &mut Tx<'_>, name: &str) -> StoreResult<Option<Calendar>> {
    tx.query_opt(
        &format!("SELECT {CAL_COLUMNS} FROM calendar WHERE lower(name) = lower($1)"),
        &[name.into()],
    )
    .await?
    .as_ref()
    .map(calendar_row)
    .transpose()
}

pub async fn insert_calendar(
    tx: &mut Tx<'_>,
    f: &CalendarFields,
    now: Timestamp,
) -> StoreResult<Calendar> {
    let id = CalendarId::new();
    tx.execute(
        "INSERT INTO calendar (id, name, time_zone, hours, description, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6)",
        &[
            id.into(),
            (&f.name).into(),
            (&f.time_zone).into(),
            (&f.hours).into(),
            (&f.description).into(),
            now.into(),
        ],
    )
    .await?;
    calendar(tx, id).await
}

pub async fn update_calendar(
    tx: &mut Tx<'_>,
    id: CalendarId,
    f: &CalendarFields,
    version: i64,
    now: Timestamp,
) -> StoreResult<Calendar> {
    let n = tx
        .execute(
            "UPDATE calendar SET name = $2, time_zone = $3, hours = $4, description = $5, \
             updated_at = $6, version = version + 1 WHERE id = $1 AND version = $7",
            &[
                id.into(),
                (&f.name).into(),
                (&f.time_zone).into(),
                (&f.hours).into(),
                (&f.description).into(),
                now.into(),
                version.into(),
            ],
        )
        .await?;
    versioned(n, calendar(tx, id)).await?;
    calendar(tx, id).await
}

pub async fn delete_calendar(tx: &mut Tx<'_>, id: CalendarId) -> StoreResult<bool> {
    Ok(tx
        .execute("DELETE FROM calendar WHERE id = $1", &[id.into()])
        .await?
        > 0)
}

/// Whether an agreement uses the calendar.
pub async fn calendar_in_use(tx: &mut Tx<'_>, id: CalendarId) -> StoreResult<bool> {
    Ok(tx
        .query_opt(
            "SELECT 1 FROM agreement WHERE calendar_id = $1 LIMIT 1",
            &[id.into()],
        )
        .await?
        .is_some())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HolidayRow {
    pub id: HolidayId,
    pub calendar_id: CalendarId,
    pub day: Date,
    /// Minutes from midnight; both `None` close the whole day.
    pub closed_from: Option<i64>,
    pub closed_to: Option<i64>,
    pub recurring: bool,
    pub name: String,
}

fn holiday_row(r: &Row) -> StoreResult<HolidayRow> {
    Ok(HolidayRow {
        id: r.get(0)?,
        calendar_id: r.get(1)?,
        day: r.get(2)?,
        closed_from: r.get(3)?,
        closed_to: r.get(4)?,
        recurring: r.get(5)?,
        name: r.get(6)?,
    })
}

pub async fn holidays(tx: &mut Tx<'_>, calendar: CalendarId) -> StoreResult<Vec<HolidayRow>> {
    tx.query(
        "SELECT id, calendar_id, day, closed_from, closed_to, recurring, name FROM calendar_holiday \
         WHERE calendar_id = $1 ORDER BY day, id",
        &[calendar.into()],
    )
    .await?
    .iter()
    .map(holiday_row)
    .collect()
}

pub async fn insert_holiday(tx: &mut Tx<'_>, h: &HolidayRow) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO calendar_holiday (id, calendar_id, day, closed_from, closed_to, recurring, name) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            h.id.into(),
            h.calendar_id.into(),
            h.day.to_string().as_str().into(),
            h.closed_from.into(),
            h.closed_to.into(),
            h.recurring.into(),
            (&h.name).into(),
        ],
    )
    .await?;
    Ok(())
}

pub async fn delete_holiday(
    tx: &mut Tx<'_>,
    calendar: CalendarId,
    id: HolidayId,
) -> StoreResult<bool> {
    Ok(tx
        .execute(
            "DELETE FROM calendar_holiday WHERE id = $1 AND calendar_id = $2",
            &[id.into(), calendar.into()],
        )
        .await?
        > 0)
}

// ----- agreements and targets -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub id: AgreementId,
    pub name: String,
    pub kind: AgreementKind,
    pub customer: Option<NamedRef<OrgId>>,
    pub supplier: Option<NamedRef<OrgId>>,
    pub group: Option<NamedRef<GroupId>>,
    pub calendar: Option<NamedRef<CalendarId>>,
    pub tz_source: String,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub active: bool,
    pub description: String,
    pub version: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgreementFields {
    pub name: String,
    pub kind: AgreementKind,
    pub customer_id: Option<OrgId>,
    pub supplier_id: Option<OrgId>,
    pub group_id: Option<GroupId>,
    pub calendar_id: Option<CalendarId>,
    pub tz_source: String,
    pub valid_from: Date,
    pub valid_to: Option<Date>,
    pub active: bool,
    pub description: String,
}

impl Agreement {
    pub fn fields(&self) -> AgreementFields {
        AgreementFields {
            name: self.name.clone(),
            kind: self.kind,
            customer_id: self.customer.as_ref().map(|r| r.id),
            supplier_id: self.supplier.as_ref().map(|r| r.id),
            group_id: self.group.as_ref().map(|r| r.id),
            calendar_id: self.calendar.as_ref().map(|r| r.id),
            tz_source: self.tz_source.clone(),
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            active: self.active,
            description: self.description.clone(),
        }
    }
}

const AGR_COLUMNS: &str = "a.id, a.name, a.kind, a.customer_id, cu.name, a.supplier_id, su.name, \
    a.group_id, g.name, a.calendar_id, ca.name, a.tz_source, a.valid_from, a.valid_to, a.active, \
    a.description, a.version, a.created_at, a.updated_at";
const AGR_FROM: &str = "FROM agreement a \
    LEFT JOIN organization cu ON cu.id = a.customer_id \
    LEFT JOIN organization su ON su.id = a.supplier_id \
    LEFT JOIN support_group g ON g.id = a.group_id \
    LEFT JOIN calendar ca ON ca.id = a.calendar_id";

fn agreement_row(r: &Row) -> StoreResult<Agreement> {
    Ok(Agreement {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: decode(2, r.get(2)?, AgreementKind::parse)?,
        customer: named(r, 3)?,
        supplier: named(r, 5)?,
        group: named(r, 7)?,
        calendar: named(r, 9)?,
        tz_source: r.get(11)?,
        valid_from: r.get(12)?,
        valid_to: r.get(13)?,
        active: r.get(14)?,
        description: r.get(15)?,
        version: r.get(16)?,
        created_at: r.get(17)?,
        updated_at: r.get(18)?,
    })
}

pub async fn agreements(tx: &mut Tx<'_>) -> StoreResult<Vec<Agreement>> {
    tx.query(
        &format!("SELECT {AGR_COLUMNS} {AGR_FROM} ORDER BY a.name, a.id"),
        &[],
    )
    .await?
    .iter()
    .map(agreement_row)
    .collect()
}

pub async fn agreement(tx: &mut Tx<'_>, id: AgreementId) -> StoreResult<Agreement> {
    agreement_row(
        &tx.query_one(
            &format!("SELECT {AGR_COLUMNS} {AGR_FROM} WHERE a.id = $1"),
            &[id.into()],
        )
        .await?,
    )
}

pub async fn agreement_by_name(tx: &mut Tx<'_>, name: &str) -> StoreResult<Option<Agreement>> {
    tx.query_opt(
        &format!("SELECT {AGR_COLUMNS} {AGR_FROM} WHERE lower(a.name) = lower($1)"),
        &[name.into()],
    )
    .await?
    .as_ref()
    .map(agreement_row)
    .transpose()
}

pub async fn insert_agreement(
    tx: &mut Tx<'_>,
    f: &AgreementFields,
    now: Timestamp,
) -> StoreResult<Agreement> {
    let id = AgreementId::new();
    tx.execute(
        "INSERT INTO agreement (id, name, kind, customer_id, supplier_id, group_id, calendar_id, \
         tz_source, valid_from, valid_to, active, description, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
        &[
            id.into(),
            (&f.name).into(),
            f.kind.code().into(),
            f.customer_id.into(),
            f.supplier_id.into(),
            f.group_id.into(),
            f.calendar_id.into(),
            (&f.tz_source).into(),
            f.valid_from.to_string().as_str().into(),
            f.valid_to.map(|d| d.to_string()).as_ref().into(),
            f.active.into(),
            (&f.description).into(),
            now.into(),
        ],
    )
    .await?;
    agreement(tx, id).await
}

pub async fn update_agreement(
    tx: &mut Tx<'_>,
    id: AgreementId,
    f: &AgreementFields,
    version: i64,
    now: Timestamp,
) -> StoreResult<Agreement> {
    let n = tx
        .execute(
            "UPDATE agreement SET name = $2, kind = $3, customer_id = $4, supplier_id = $5, \
             group_id = $6, calendar_id = $7, tz_source = $8, valid_from = $9, valid_to = $10, \
             active = $11, description = $12, updated_at = $13, version = version + 1 \
             WHERE id = $1 AND version = $14",
            &[
                id.into(),
                (&f.name).into(),
                f.kind.code().into(),
                f.customer_id.into(),
                f.supplier_id.into(),
                f.group_id.into(),
                f.calendar_id.into(),
                (&f.tz_source).into(),
                f.valid_from.to_string().as_str().into(),
                f.valid_to.map(|d| d.to_string()).as_ref().into(),
                f.active.into(),
                (&f.description).into(),
                now.into(),
                version.into(),
            ],
        )
        .await?;
    versioned(n, agreement(tx, id)).await?;
    agreement(tx, id).await
}

/// The services of every agreement: (agreement, service, service name).
pub async fn agreement_services(
    tx: &mut Tx<'_>,
) -> StoreResult<Vec<(AgreementId, NamedRef<ServiceId>)>> {
    tx.query(
        "SELECT x.agreement_id, x.service_id, s.name FROM agreement_service x \
         JOIN service s ON s.id = x.service_id ORDER BY s.name, x.service_id",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok((
            r.get(0)?,
            NamedRef {
                id: r.get(1)?,
                name: r.get(2)?,
            },
        ))
    })
    .collect()
}

pub async fn set_agreement_services(
    tx: &mut Tx<'_>,
    id: AgreementId,
    services: &[ServiceId],
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM agreement_service WHERE agreement_id = $1",
        &[id.into()],
    )
    .await?;
    for s in services {
        tx.execute(
            "INSERT INTO agreement_service (agreement_id, service_id) VALUES ($1, $2) \
             ON CONFLICT DO NOTHING",
            &[id.into(), (*s).into()],
        )
        .await?;
    }
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub id: TargetId,
    pub agreement_id: AgreementId,
    pub name: String,
    pub metric: Metric,
    pub duration_secs: i64,
    /// JSON conditions (see `sigap_domain::sla::Condition`).
    pub applies_when: String,
    pub start: String,
    pub pause: String,
    pub resume: Option<String>,
    pub stop: String,
    pub cancel: String,
    pub reset: String,
    pub when_start_fails: String,
    /// JSON list of percentages.
    pub thresholds: String,
    pub escalate_group_id: Option<GroupId>,
    pub notify_owner: bool,
    /// Measured against the task's own delivery time (a requested item's), when it has one.
    pub delivery_time: bool,
    pub version: i64,
}

const TARGET_COLUMNS: &str = "id, agreement_id, name, metric, duration_secs, applies_when, \
    start_cond, pause_cond, resume_cond, stop_cond, cancel_cond, reset_cond, when_start_fails, \
    thresholds, escalate_group_id, notify_owner, version, delivery_time";

fn target_row(r: &Row) -> StoreResult<Target> {
    Ok(Target {
        id: r.get(0)?,
        agreement_id: r.get(1)?,
        name: r.get(2)?,
        metric: decode(3, r.get(3)?, Metric::parse)?,
        duration_secs: r.get(4)?,
        applies_when: r.get(5)?,
        start: r.get(6)?,
        pause: r.get(7)?,
        resume: r.get(8)?,
        stop: r.get(9)?,
        cancel: r.get(10)?,
        reset: r.get(11)?,
        when_start_fails: r.get(12)?,
        thresholds: r.get(13)?,
        escalate_group_id: r.get(14)?,
        notify_owner: r.get(15)?,
        version: r.get(16)?,
        delivery_time: r.get(17)?,
    })
}

/// Every target, by agreement.
/// Every target (kept by the node: every create reads them).
pub async fn targets(tx: &mut Tx<'_>) -> StoreResult<Vec<Target>> {
    let generation = match tx.kept("sla_target") {
        Ok(copy) => return Ok(copy),
        Err(g) => g,
    };
    let all = tx
        .query(
            &format!("SELECT {TARGET_COLUMNS} FROM sla_target ORDER BY agreement_id, metric, duration_secs, id"),
            &[],
        )
        .await?
        .iter()
        .map(target_row)
        .collect::<StoreResult<Vec<_>>>()?;
    tx.keep("sla_target", generation, &all);
    Ok(all)
}

pub async fn target(tx: &mut Tx<'_>, id: TargetId) -> StoreResult<Target> {
    target_row(
        &tx.query_one(
            &format!("SELECT {TARGET_COLUMNS} FROM sla_target WHERE id = $1"),
            &[id.into()],
        )
        .await?,
    )
}

/// Inserts a target, or replaces it when the id exists (version checked by the caller).
pub async fn save_target(tx: &mut Tx<'_>, t: &Target) -> StoreResult<Target> {
    tx.config_changes();
    tx.execute(
        "INSERT INTO sla_target (id, agreement_id, name, metric, duration_secs, applies_when, \
         start_cond, pause_cond, resume_cond, stop_cond, cancel_cond, reset_cond, when_start_fails, \
         thresholds, escalate_group_id, notify_owner, version, delivery_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 1, $17) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, metric = excluded.metric, \
         duration_secs = excluded.duration_secs, applies_when = excluded.applies_when, \
         start_cond = excluded.start_cond, pause_cond = excluded.pause_cond, \
         resume_cond = excluded.resume_cond, stop_cond = excluded.stop_cond, \
         cancel_cond = excluded.cancel_cond, reset_cond = excluded.reset_cond, \
         when_start_fails = excluded.when_start_fails, thresholds = excluded.thresholds, \
         escalate_group_id = excluded.escalate_group_id, notify_owner = excluded.notify_owner, \
         delivery_time = excluded.delivery_time, version = sla_target.version + 1",
        &[
            t.id.into(),
            t.agreement_id.into(),
            (&t.name).into(),
            t.metric.code().into(),
            t.duration_secs.into(),
            (&t.applies_when).into(),
            (&t.start).into(),
            (&t.pause).into(),
            t.resume.as_ref().into(),
            (&t.stop).into(),
            (&t.cancel).into(),
            (&t.reset).into(),
            (&t.when_start_fails).into(),
            (&t.thresholds).into(),
            t.escalate_group_id.into(),
            t.notify_owner.into(),
            t.delivery_time.into(),
        ],
    )
    .await?;
    target(tx, t.id).await
}

pub async fn delete_target(tx: &mut Tx<'_>, id: TargetId) -> StoreResult<bool> {
    tx.config_changes();
    Ok(tx
        .execute("DELETE FROM sla_target WHERE id = $1", &[id.into()])
        .await?
        > 0)
}

// ----- clocks -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clock {
    pub id: ClockId,
    pub task_id: TaskId,
    pub agreement_id: AgreementId,
    pub metric: Metric,
    pub target_id: Option<TargetId>,
    pub target_name: String,
    pub duration_secs: i64,
    pub time_zone: String,
    pub stage: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub end_kind: Option<String>,
    pub due_at: Option<Timestamp>,
    pub business_us: i64,
    pub breached: bool,
    pub next_check_at: Option<Timestamp>,
    pub thresholds_done: i64,
    pub version: i64,
    pub updated_at: Timestamp,
}

const CLOCK_COLUMNS: &str = "c.id, c.task_id, c.agreement_id, c.metric, c.target_id, c.target_name, \
    c.duration_secs, c.time_zone, c.stage, c.started_at, c.ended_at, c.end_kind, c.due_at, \
    c.business_us, c.breached, c.next_check_at, c.thresholds_done, c.version, c.updated_at";

fn clock_row(r: &Row) -> StoreResult<Clock> {
    Ok(Clock {
        id: r.get(0)?,
        task_id: r.get(1)?,
        agreement_id: r.get(2)?,
        metric: decode(3, r.get(3)?, Metric::parse)?,
        target_id: r.get(4)?,
        target_name: r.get(5)?,
        duration_secs: r.get(6)?,
        time_zone: r.get(7)?,
        stage: r.get(8)?,
        started_at: r.get(9)?,
        ended_at: r.get(10)?,
        end_kind: r.get(11)?,
        due_at: r.get(12)?,
        business_us: r.get(13)?,
        breached: r.get(14)?,
        next_check_at: r.get(15)?,
        thresholds_done: r.get(16)?,
        version: r.get(17)?,
        updated_at: r.get(18)?,
    })
}

/// The clocks of a task, oldest first.
pub async fn clocks_of(tx: &mut Tx<'_>, task: TaskId) -> StoreResult<Vec<Clock>> {
    tx.query(
        &format!(
            "SELECT {CLOCK_COLUMNS} FROM sla_clock c WHERE c.task_id = $1 ORDER BY c.started_at, c.id"
        ),
        &[task.into()],
    )
    .await?
    .iter()
    .map(clock_row)
    .collect()
}

/// The clocks of several tasks (a page of a list), oldest first.
pub async fn clocks_of_tasks(tx: &mut Tx<'_>, tasks: &[TaskId]) -> StoreResult<Vec<Clock>> {
    if tasks.is_empty() {
        return Ok(Vec::new());
    }
    let ids = id_array(tasks);
    let cond = in_json(tx.dialect(), "c.task_id", "$1");
    tx.query(
        &format!(
            "SELECT {CLOCK_COLUMNS} FROM sla_clock c WHERE {cond} ORDER BY c.started_at, c.id"
        ),
        &[(&ids).into()],
    )
    .await?
    .iter()
    .map(clock_row)
    .collect()
}

pub async fn clock(tx: &mut Tx<'_>, id: ClockId) -> StoreResult<Clock> {
    clock_row(
        &tx.query_one(
            &format!("SELECT {CLOCK_COLUMNS} FROM sla_clock c WHERE c.id = $1"),
            &[id.into()],
        )
        .await?,
    )
}

pub async fn insert_clock(tx: &mut Tx<'_>, c: &Clock) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sla_clock (id, task_id, agreement_id, metric, target_id, target_name, \
         duration_secs, time_zone, stage, started_at, ended_at, end_kind, due_at, business_us, \
         breached, next_check_at, thresholds_done, version, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, 1, $18)",
        &[
            c.id.into(),
            c.task_id.into(),
            c.agreement_id.into(),
            c.metric.code().into(),
            c.target_id.into(),
            (&c.target_name).into(),
            c.duration_secs.into(),
            (&c.time_zone).into(),
            (&c.stage).into(),
            c.started_at.into(),
            c.ended_at.into(),
            c.end_kind.as_ref().into(),
            c.due_at.into(),
            c.business_us.into(),
            c.breached.into(),
            c.next_check_at.into(),
            c.thresholds_done.into(),
            c.updated_at.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Writes a clock's derived fields, if nobody changed it since it was read.
pub async fn update_clock(tx: &mut Tx<'_>, c: &Clock) -> StoreResult<()> {
    let n = write_clocks(tx, std::slice::from_ref(c)).await?;
    versioned(n, clock(tx, c.id)).await
}

/// Writes the derived fields of many clocks (a sweep's batch), each only if nobody changed it
/// since it was read: `VersionMismatch` when any was changed, and then the caller's
/// transaction is to be given up as a whole.
pub async fn update_clocks(tx: &mut Tx<'_>, clocks: &[Clock]) -> StoreResult<()> {
    if write_clocks(tx, clocks).await? as usize != clocks.len() {
        return Err(crate::error::StoreError::VersionMismatch);
    }
    Ok(())
}

/// Writes the derived fields of the clocks still at their versions: how many were.
async fn write_clocks(tx: &mut Tx<'_>, clocks: &[Clock]) -> StoreResult<u64> {
    super::rows_from_values(
        tx,
        "UPDATE sla_clock SET target_id = v.column2, target_name = v.column3, \
         duration_secs = v.column4, stage = v.column5, ended_at = v.column6, end_kind = v.column7, \
         due_at = v.column8, business_us = v.column9, breached = v.column10, \
         next_check_at = v.column11, thresholds_done = v.column12, updated_at = v.column13, \
         version = sla_clock.version + 1 FROM (VALUES ",
        ") AS v WHERE sla_clock.id = v.column1 AND sla_clock.version = v.column14 \
         RETURNING sla_clock.id",
        clocks,
        &[
            "uuid",
            "uuid",
            "text",
            "bigint",
            "text",
            "timestamptz",
            "text",
            "timestamptz",
            "bigint",
            "boolean",
            "timestamptz",
            "bigint",
            "timestamptz",
            "bigint",
        ],
        |c, out| {
            out.extend::<[P<'_>; _]>([
                c.id.into(),
                c.target_id.into(),
                c.target_name.as_str().into(),
                c.duration_secs.into(),
                c.stage.as_str().into(),
                c.ended_at.into(),
                c.end_kind.as_deref().into(),
                c.due_at.into(),
                c.business_us.into(),
                c.breached.into(),
                c.next_check_at.into(),
                c.thresholds_done.into(),
                c.updated_at.into(),
                c.version.into(),
            ])
        },
    )
    .await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClockEvent {
    pub id: ClockEventId,
    pub clock_id: ClockId,
    pub at: Timestamp,
    pub seq: i64,
    /// started, paused, resumed, retargeted, stopped, cancelled, reset, threshold.
    pub kind: String,
    /// Why: the condition that matched, the new target, the threshold.
    pub detail: String,
}

pub async fn add_event(
    tx: &mut Tx<'_>,
    clock: ClockId,
    at: Timestamp,
    kind: &str,
    detail: &str,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO sla_clock_event (id, clock_id, at, seq, kind, detail) \
         VALUES ($1, $2, $3, (SELECT COALESCE(MAX(seq), 0) + 1 FROM sla_clock_event WHERE clock_id = $2), $4, $5)",
        &[
            ClockEventId::new().into(),
            clock.into(),
            at.into(),
            kind.into(),
            detail.into(),
        ],
    )
    .await?;
    Ok(())
}

/// An event to add to a clock whose events were read: its number among them is given.
#[derive(Debug, Clone)]
pub struct NewClockEvent {
    pub clock_id: ClockId,
    pub at: Timestamp,
    pub seq: i64,
    pub kind: &'static str,
    pub detail: String,
}

/// Adds many events at once (a sweep's thresholds).
pub async fn add_events(tx: &mut Tx<'_>, events: &[NewClockEvent]) -> StoreResult<()> {
    tx.insert_rows(
        "sla_clock_event",
        "id, clock_id, at, seq, kind, detail",
        events,
        |e, out| {
            out.extend::<[P<'_>; _]>([
                ClockEventId::new().into(),
                e.clock_id.into(),
                e.at.into(),
                e.seq.into(),
                e.kind.into(),
                e.detail.as_str().into(),
            ])
        },
    )
    .await
}

fn event_row(r: &Row) -> StoreResult<ClockEvent> {
    Ok(ClockEvent {
        id: r.get(0)?,
        clock_id: r.get(1)?,
        at: r.get(2)?,
        seq: r.get(3)?,
        kind: r.get(4)?,
        detail: r.get(5)?,
    })
}

/// The events of a clock, in order.
pub async fn events(tx: &mut Tx<'_>, clock: ClockId) -> StoreResult<Vec<ClockEvent>> {
    tx.query(
        "SELECT id, clock_id, at, seq, kind, detail FROM sla_clock_event WHERE clock_id = $1 ORDER BY seq",
        &[clock.into()],
    )
    .await?
    .iter()
    .map(event_row)
    .collect()
}

/// The events of several clocks, by clock and order (one statement for a page of clocks).
pub async fn events_of_clocks(tx: &mut Tx<'_>, clocks: &[ClockId]) -> StoreResult<Vec<ClockEvent>> {
    if clocks.is_empty() {
        return Ok(Vec::new());
    }
    let ids = id_array(clocks);
    let cond = in_json(tx.dialect(), "clock_id", "$1");
    tx.query(
        &format!(
            "SELECT id, clock_id, at, seq, kind, detail FROM sla_clock_event WHERE {cond} \
             ORDER BY clock_id, seq"
        ),
        &[(&ids).into()],
    )
    .await?
    .iter()
    .map(event_row)
    .collect()
}

/// Running clocks whose next threshold is due by `now`, oldest first.
pub async fn due_checks(tx: &mut Tx<'_>, now: Timestamp, limit: i64) -> StoreResult<Vec<Clock>> {
    tx.query(
        &format!(
            "SELECT {CLOCK_COLUMNS} FROM sla_clock c WHERE c.next_check_at IS NOT NULL \
             AND c.next_check_at <= $1 ORDER BY c.next_check_at, c.id LIMIT $2"
        ),
        &[now.into(), limit.into()],
    )
    .await?
    .iter()
    .map(clock_row)
    .collect()
}

/// Records that a threshold of a clock was handled; false when another node (or an earlier
/// sweep) already did.
pub async fn claim_notice(
    tx: &mut Tx<'_>,
    clock: ClockId,
    threshold: i64,
    now: Timestamp,
) -> StoreResult<bool> {
    Ok(tx
        .execute(
            "INSERT INTO sla_notice (clock_id, threshold, sent_at) VALUES ($1, $2, $3) \
             ON CONFLICT (clock_id, threshold) DO NOTHING",
            &[clock.into(), threshold.into(), now.into()],
        )
        .await?
        > 0)
}

/// Records that thresholds of clocks were handled (`(clock, threshold)` pairs): the pairs
/// this call recorded, without those another node (or an earlier sweep) already had.
pub async fn claim_notices(
    tx: &mut Tx<'_>,
    claims: &[(ClockId, i64)],
    now: Timestamp,
) -> StoreResult<Vec<(ClockId, i64)>> {
    super::rows_returned(
        tx,
        "INSERT INTO sla_notice (clock_id, threshold, sent_at) VALUES ",
        " ON CONFLICT (clock_id, threshold) DO NOTHING RETURNING clock_id, threshold",
        claims,
        3,
        |(c, t), out| out.extend::<[P<'_>; _]>([(*c).into(), (*t).into(), now.into()]),
    )
    .await?
    .iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .collect()
}

/// Clocks of open tasks running out soonest (the "breaching soon" queue): (clock, task).
pub async fn running_by_due(
    tx: &mut Tx<'_>,
    before: Timestamp,
    limit: i64,
) -> StoreResult<Vec<Clock>> {
    tx.query(
        &format!(
            "SELECT {CLOCK_COLUMNS} FROM sla_clock c WHERE c.ended_at IS NULL AND c.due_at IS NOT NULL \
             AND c.due_at <= $1 ORDER BY c.due_at, c.id LIMIT $2"
        ),
        &[before.into(), limit.into()],
    )
    .await?
    .iter()
    .map(clock_row)
    .collect()
}

// ----- reporting -----

/// How the compliance report groups stopped clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportBy {
    Agreement,
    Service,
    Priority,
    Group,
    Month,
}

/// One line of the compliance report.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportLine {
    pub key: String,
    pub total: i64,
    pub breached: i64,
    pub avg_business_us: i64,
}

/// Stopped clocks that ended in `[from, to)`, grouped.
pub async fn compliance(
    tx: &mut Tx<'_>,
    by: ReportBy,
    from: Timestamp,
    to: Timestamp,
    agreement: Option<AgreementId>,
) -> StoreResult<Vec<ReportLine>> {
    let month = match tx.dialect() {
        Dialect::Sqlite => "strftime('%Y-%m', c.ended_at / 1000000, 'unixepoch')",
        Dialect::Postgres => "to_char(c.ended_at AT TIME ZONE 'UTC', 'YYYY-MM')",
    };
    let key = match by {
        ReportBy::Agreement => "a.name".to_owned(),
        ReportBy::Service => "COALESCE(s.name, '')".to_owned(),
        ReportBy::Priority => "CAST(t.priority AS TEXT)".to_owned(),
        ReportBy::Group => "COALESCE(g.name, '')".to_owned(),
        ReportBy::Month => month.to_owned(),
    };
    let filter = if agreement.is_some() {
        "AND c.agreement_id = $3"
    } else {
        "AND $3 IS NULL"
    };
    let agreement_param: Option<AgreementId> = agreement;
    let sql = format!(
        "SELECT {key} AS k, COUNT(*), SUM(CASE WHEN c.breached THEN 1 ELSE 0 END), \
         CAST(AVG(c.business_us) AS BIGINT) \
         FROM sla_clock c JOIN agreement a ON a.id = c.agreement_id JOIN task t ON t.id = c.task_id \
         LEFT JOIN service s ON s.id = t.service_id LEFT JOIN support_group g ON g.id = t.assignment_group_id \
         WHERE c.end_kind = 'stopped' AND c.ended_at >= $1 AND c.ended_at < $2 {filter} \
         GROUP BY {key} ORDER BY k"
    );
    let sql = match tx.dialect() {
        // PostgreSQL cannot infer the type of a bare `$3 IS NULL`.
        Dialect::Postgres => sql.replace("AND $3 IS NULL", "AND $3::uuid IS NULL"),
        Dialect::Sqlite => sql,
    };
    tx.query(&sql, &[from.into(), to.into(), agreement_param.into()])
        .await?
        .iter()
        .map(|r| {
            Ok(ReportLine {
                key: r.get(0)?,
                total: r.get(1)?,
                breached: r.get(2)?,
                avg_business_us: r.get::<Option<i64>>(3)?.unwrap_or(0),
            })
        })
        .collect()
}

/// Tasks without any clock, with their opening time (for seeding), by id.
pub async fn tasks_without_clocks(
    tx: &mut Tx<'_>,
    limit: i64,
) -> StoreResult<Vec<(TaskId, Timestamp)>> {
    tx.query(
        "SELECT t.id, t.opened_at FROM task t \
         WHERE NOT EXISTS (SELECT 1 FROM sla_clock c WHERE c.task_id = t.id) ORDER BY t.id LIMIT $1",
        &[limit.into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .collect()
}

/// Inserts many clocks, each with its `started` event (seeding, imports).
pub async fn bulk_insert_clocks(tx: &mut Tx<'_>, clocks: &[Clock]) -> StoreResult<()> {
    const CHUNK: usize = 400;
    for chunk in clocks.chunks(CHUNK) {
        let mut sql = String::from(
            "INSERT INTO sla_clock (id, task_id, agreement_id, metric, target_id, target_name, \
             duration_secs, time_zone, stage, started_at, due_at, business_us, breached, \
             next_check_at, updated_at, thresholds_done, version) VALUES ",
        );
        let mut params: Vec<crate::value::P<'_>> = Vec::with_capacity(chunk.len() * 15);
        super::values_rows(
            &mut sql,
            &mut params,
            chunk,
            15,
            ", 0, 1)",
            |_, c, params| {
                params.push(c.id.into());
                params.push(c.task_id.into());
                params.push(c.agreement_id.into());
                params.push(c.metric.code().into());
                params.push(c.target_id.into());
                params.push(c.target_name.as_str().into());
                params.push(c.duration_secs.into());
                params.push(c.time_zone.as_str().into());
                params.push(c.stage.as_str().into());
                params.push(c.started_at.into());
                params.push(c.due_at.into());
                params.push(c.business_us.into());
                params.push(c.breached.into());
                params.push(c.next_check_at.into());
                params.push(c.updated_at.into());
            },
        );
        tx.execute(&sql, &params).await?;
        let mut sql = String::from(
            "INSERT INTO sla_clock_event (id, clock_id, at, seq, kind, detail) VALUES ",
        );
        let mut params: Vec<crate::value::P<'_>> = Vec::with_capacity(chunk.len() * 3);
        super::values_rows(
            &mut sql,
            &mut params,
            chunk,
            3,
            ", 1, 'started', 'seeded')",
            |_, c, params| {
                params.push(ClockEventId::new().into());
                params.push(c.id.into());
                params.push(c.started_at.into());
            },
        );
        tx.execute(&sql, &params).await?;
    }
    Ok(())
}
