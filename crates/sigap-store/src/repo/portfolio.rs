//! The service portfolio: services with their lifecycle, customers and stage moves, service
//! offerings, and the process-level roles of the portfolio process.

use super::groups::{GroupRef, PersonRef};
use super::list::{Page, Select, Val, into_page};
use super::{decode, name_key};
use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use jiff::civil::Date;
use sigap_domain::{
    CiId, Criticality, GroupId, OfferingId, OrgId, OrgKind, PersonId, PortfolioStatus, ServiceId,
    Stage,
};

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub id: ServiceId,
    pub name: String,
    pub description: String,
    pub value_outcomes: String,
    pub stage: Stage,
    pub criticality: Criticality,
    pub owner: Option<PersonRef>,
    pub sponsor: Option<PersonRef>,
    pub requester: Option<PersonRef>,
    pub design_group: Option<GroupRef>,
    pub planned_cost: Option<i64>,
    pub actual_cost: Option<i64>,
    pub review_date: Option<Date>,
    pub review_reminded: Option<Date>,
    pub design: serde_json::Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl Service {
    pub fn status(&self) -> PortfolioStatus {
        self.stage.status()
    }
}

/// The fields of a service a person edits (the stage moves separately).
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceFields {
    pub name: String,
    pub description: String,
    pub value_outcomes: String,
    pub criticality: Criticality,
    pub owner_id: Option<PersonId>,
    pub sponsor_id: Option<PersonId>,
    pub requester_id: Option<PersonId>,
    pub design_group_id: Option<GroupId>,
    pub planned_cost: Option<i64>,
    pub actual_cost: Option<i64>,
    pub review_date: Option<Date>,
    pub design: serde_json::Value,
}

impl Service {
    pub fn fields(&self) -> ServiceFields {
        ServiceFields {
            name: self.name.clone(),
            description: self.description.clone(),
            value_outcomes: self.value_outcomes.clone(),
            criticality: self.criticality,
            owner_id: self.owner.as_ref().map(|p| p.id),
            sponsor_id: self.sponsor.as_ref().map(|p| p.id),
            requester_id: self.requester.as_ref().map(|p| p.id),
            design_group_id: self.design_group.as_ref().map(|g| g.id),
            planned_cost: self.planned_cost,
            actual_cost: self.actual_cost,
            review_date: self.review_date,
            design: self.design.clone(),
        }
    }
}

const COLUMNS: &str = "s.id, s.name, s.description, s.value_outcomes, s.stage, s.criticality, \
    o.id, o.login, o.name, sp.id, sp.login, sp.name, rq.id, rq.login, rq.name, g.id, g.name, \
    s.planned_cost, s.actual_cost, s.review_date, s.review_reminded, s.design, s.created_at, s.updated_at, s.version";
const FROM: &str = "FROM service s LEFT JOIN person o ON o.id = s.owner_id \
    LEFT JOIN person sp ON sp.id = s.sponsor_id LEFT JOIN person rq ON rq.id = s.requester_id \
    LEFT JOIN support_group g ON g.id = s.design_group_id";

fn from_row(row: &Row) -> StoreResult<Service> {
    let criticality: i64 = row.get(5)?;
    Ok(Service {
        id: row.get(0)?,
        name: row.get(1)?,
        description: row.get(2)?,
        value_outcomes: row.get(3)?,
        stage: decode(4, row.get(4)?, Stage::parse)?,
        criticality: Criticality::parse(criticality).map_err(|e| {
            crate::error::StoreError::Decode {
                column: 5,
                detail: e.to_string(),
            }
        })?,
        owner: PersonRef::from_cols(row, 6)?,
        sponsor: PersonRef::from_cols(row, 9)?,
        requester: PersonRef::from_cols(row, 12)?,
        design_group: GroupRef::from_cols(row, 15)?,
        planned_cost: row.get(17)?,
        actual_cost: row.get(18)?,
        review_date: row.get(19)?,
        review_reminded: row.get(20)?,
        design: row.get(21)?,
        created_at: row.get(22)?,
        updated_at: row.get(23)?,
        version: row.get(24)?,
    })
}

pub async fn insert(
    tx: &mut Tx<'_>,
    id: ServiceId,
    f: &ServiceFields,
    stage: Stage,
    now: Timestamp,
) -> StoreResult<Service> {
    let review = f.review_date.map(|d| d.to_string());
    tx.execute(
        "INSERT INTO service (id, name, name_key, description, value_outcomes, stage, status, criticality, \
         owner_id, sponsor_id, requester_id, design_group_id, planned_cost, actual_cost, review_date, design, \
         created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, 1)",
        &[
            id.into(),
            f.name.as_str().into(),
            name_key(&f.name).as_str().into(),
            f.description.as_str().into(),
            f.value_outcomes.as_str().into(),
            stage.code().into(),
            stage.status().code().into(),
            f.criticality.get().into(),
            f.owner_id.into(),
            f.sponsor_id.into(),
            f.requester_id.into(),
            f.design_group_id.into(),
            f.planned_cost.into(),
            f.actual_cost.into(),
            review.as_deref().into(),
            (&f.design).into(),
            now.into(),
        ],
    )
    .await?;
    get(tx, id).await
}

pub async fn update(
    tx: &mut Tx<'_>,
    id: ServiceId,
    f: &ServiceFields,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Service> {
    let review = f.review_date.map(|d| d.to_string());
    let n = tx
        .execute(
            "UPDATE service SET name = $2, name_key = $3, description = $4, value_outcomes = $5, criticality = $6, \
             owner_id = $7, sponsor_id = $8, requester_id = $9, design_group_id = $10, planned_cost = $11, \
             actual_cost = $12, review_date = $13, design = $14, updated_at = $15, version = version + 1 \
             WHERE id = $1 AND version = $16",
            &[
                id.into(),
                f.name.as_str().into(),
                name_key(&f.name).as_str().into(),
                f.description.as_str().into(),
                f.value_outcomes.as_str().into(),
                f.criticality.get().into(),
                f.owner_id.into(),
                f.sponsor_id.into(),
                f.requester_id.into(),
                f.design_group_id.into(),
                f.planned_cost.into(),
                f.actual_cost.into(),
                review.as_deref().into(),
                (&f.design).into(),
                now.into(),
                expected_version.into(),
            ],
        )
        .await?;
    super::versioned(n, get(tx, id)).await?;
    get(tx, id).await
}

/// Moves a service to `to`, guarded by its version.
pub async fn set_stage(
    tx: &mut Tx<'_>,
    id: ServiceId,
    to: Stage,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Service> {
    let n = tx
        .execute(
            "UPDATE service SET stage = $2, status = $3, updated_at = $4, version = version + 1 \
             WHERE id = $1 AND version = $5",
            &[
                id.into(),
                to.code().into(),
                to.status().code().into(),
                now.into(),
                expected_version.into(),
            ],
        )
        .await?;
    super::versioned(n, get(tx, id)).await?;
    get(tx, id).await
}

pub async fn delete(tx: &mut Tx<'_>, id: ServiceId, expected_version: i64) -> StoreResult<()> {
    let n = tx
        .execute(
            "DELETE FROM service WHERE id = $1 AND version = $2",
            &[id.into(), expected_version.into()],
        )
        .await?;
    super::versioned(n, get(tx, id)).await?;
    Ok(())
}

static GET: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {COLUMNS} {FROM} WHERE s.id = $1"));

pub async fn get(tx: &mut Tx<'_>, id: ServiceId) -> StoreResult<Service> {
    from_row(&tx.query_one(&GET, &[id.into()]).await?)
}

pub async fn find_by_name(tx: &mut Tx<'_>, name: &str) -> StoreResult<Option<Service>> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} {FROM} WHERE s.name_key = $1"),
        &[name_key(name).as_str().into()],
    )
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceSort {
    Name,
    Criticality,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct ServiceFilter {
    pub status: Option<PortfolioStatus>,
    pub stage: Option<Stage>,
    pub criticality: Option<i64>,
    pub owner: Option<PersonId>,
    pub customer: Option<OrgId>,
    pub q: Option<String>,
    /// Only services offered to this organization (people of customer organizations).
    pub scope: Option<OrgId>,
}

pub async fn list(
    tx: &mut Tx<'_>,
    filter: &ServiceFilter,
    sort: &[(ServiceSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Service>> {
    let mut q = Select::new(&format!("SELECT {COLUMNS} {FROM}"));
    if let Some(status) = filter.status {
        q.filter("s.status = {}", Val::Text(status.code().to_owned()));
    }
    if let Some(stage) = filter.stage {
        q.filter("s.stage = {}", Val::Text(stage.code().to_owned()));
    }
    if let Some(c) = filter.criticality {
        q.filter("s.criticality = {}", Val::I64(c));
    }
    if let Some(owner) = filter.owner {
        q.filter("s.owner_id = {}", Val::Uuid(owner.as_uuid()));
    }
    for org in [filter.customer, filter.scope].into_iter().flatten() {
        q.filter(
            "s.id IN (SELECT service_id FROM service_customer WHERE organization_id = {})",
            Val::Uuid(org.as_uuid()),
        );
    }
    if let Some(text) = filter.q.as_deref().filter(|t| !t.trim().is_empty()) {
        q.contains("s.name_key", text.trim());
    }
    let keys = super::list::sort_keys(
        sort,
        |s| match s {
            ServiceSort::Name => "s.name_key",
            ServiceSort::Criticality => "s.criticality",
            ServiceSort::CreatedAt => "s.created_at",
            ServiceSort::UpdatedAt => "s.updated_at",
        },
        "s.id",
    );
    q.page(&keys, after, limit)?;
    let items = q
        .run(tx)
        .await?
        .iter()
        .map(from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(into_page(items, limit, |s| {
        keys.iter()
            .map(|k| match k.column {
                "s.name_key" => Val::Text(name_key(&s.name)),
                "s.criticality" => Val::I64(s.criticality.get()),
                "s.created_at" => Val::Ts(s.created_at),
                "s.updated_at" => Val::Ts(s.updated_at),
                _ => Val::Uuid(s.id.as_uuid()),
            })
            .collect()
    }))
}

/// Every service that is not retired, or all of them, for the portfolio board.
pub async fn board(
    tx: &mut Tx<'_>,
    with_retired: bool,
    scope: Option<OrgId>,
) -> StoreResult<Vec<Service>> {
    let mut q = Select::new(&format!("SELECT {COLUMNS} {FROM}"));
    if !with_retired {
        q.filter("s.status <> {}", Val::Text("retired".into()));
    }
    if let Some(org) = scope {
        q.filter(
            "s.id IN (SELECT service_id FROM service_customer WHERE organization_id = {})",
            Val::Uuid(org.as_uuid()),
        );
    }
    let keys = [
        super::list::SortKey {
            column: "s.criticality",
            desc: false,
        },
        super::list::SortKey {
            column: "s.name_key",
            desc: false,
        },
        super::list::SortKey {
            column: "s.id",
            desc: false,
        },
    ];
    q.page(&keys, None, 10_000)?;
    q.run(tx).await?.iter().map(from_row).collect()
}

/// Services whose review date is on or before `today` and whose owner was not yet reminded
/// of that date.
pub async fn reviews_due(tx: &mut Tx<'_>, today: Date) -> StoreResult<Vec<Service>> {
    let today = today.to_string();
    tx.query(
        &format!(
            "SELECT {COLUMNS} {FROM} WHERE s.review_date IS NOT NULL AND s.review_date <= $1 \
             AND s.status <> 'retired' AND (s.review_reminded IS NULL OR s.review_reminded <> s.review_date) \
             ORDER BY s.review_date, s.id LIMIT 500"
        ),
        &[today.as_str().into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Records that the owner was reminded of the current review date (not a user's edit: the
/// version stays).
pub async fn mark_reminded(tx: &mut Tx<'_>, id: ServiceId, date: Date) -> StoreResult<()> {
    let date = date.to_string();
    tx.execute(
        "UPDATE service SET review_reminded = $2 WHERE id = $1",
        &[id.into(), date.as_str().into()],
    )
    .await?;
    Ok(())
}

// ----- customers -----

/// An organization as a service's customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerRef {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
}

pub async fn customers(tx: &mut Tx<'_>, service: ServiceId) -> StoreResult<Vec<CustomerRef>> {
    let rows = tx
        .query(
            "SELECT o.id, o.name, o.kind FROM service_customer sc JOIN organization o ON o.id = sc.organization_id \
             WHERE sc.service_id = $1 ORDER BY o.name_key, o.id",
            &[service.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(CustomerRef {
                id: r.get(0)?,
                name: r.get(1)?,
                kind: decode(2, r.get(2)?, OrgKind::parse)?,
            })
        })
        .collect()
}

/// Replaces the customers of a service.
pub async fn set_customers(tx: &mut Tx<'_>, service: ServiceId, orgs: &[OrgId]) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM service_customer WHERE service_id = $1",
        &[service.into()],
    )
    .await?;
    for org in orgs {
        tx.execute(
            "INSERT INTO service_customer (service_id, organization_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[service.into(), (*org).into()],
        )
        .await?;
    }
    Ok(())
}

// ----- stage moves -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageMove {
    pub from: Stage,
    pub to: Stage,
    pub actor_id: Option<PersonId>,
    pub actor: String,
    pub reason: String,
    pub at: Timestamp,
}

pub async fn record_move(tx: &mut Tx<'_>, service: ServiceId, m: &StageMove) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO service_stage_move (id, service_id, from_stage, to_stage, actor_id, actor, reason, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            uuid::Uuid::now_v7().into(),
            service.into(),
            m.from.code().into(),
            m.to.code().into(),
            m.actor_id.into(),
            m.actor.as_str().into(),
            m.reason.as_str().into(),
            m.at.into(),
        ],
    )
    .await?;
    Ok(())
}

/// The stage moves of a service, oldest first.
pub async fn moves(tx: &mut Tx<'_>, service: ServiceId) -> StoreResult<Vec<StageMove>> {
    let rows = tx
        .query(
            "SELECT from_stage, to_stage, actor_id, actor, reason, at FROM service_stage_move \
             WHERE service_id = $1 ORDER BY at, id",
            &[service.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(StageMove {
                from: decode(0, r.get(0)?, Stage::parse)?,
                to: decode(1, r.get(1)?, Stage::parse)?,
                actor_id: r.get(2)?,
                actor: r.get(3)?,
                reason: r.get(4)?,
                at: r.get(5)?,
            })
        })
        .collect()
}

// ----- process roles -----

/// Who holds a process-level role (`owner`, `manager`) of a process.
pub async fn process_roles(
    tx: &mut Tx<'_>,
    process: &str,
) -> StoreResult<Vec<(String, PersonRef)>> {
    let rows = tx
        .query(
            "SELECT pr.role, p.id, p.login, p.name FROM process_role pr JOIN person p ON p.id = pr.person_id \
             WHERE pr.process = $1 ORDER BY pr.role",
            &[process.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.get(0)?,
                PersonRef {
                    id: r.get(1)?,
                    login: r.get(2)?,
                    name: r.get(3)?,
                },
            ))
        })
        .collect()
}

pub async fn set_process_role(
    tx: &mut Tx<'_>,
    process: &str,
    role: &str,
    person: Option<PersonId>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO process_role (process, role, person_id) VALUES ($1, $2, $3) \
         ON CONFLICT (process, role) DO UPDATE SET person_id = excluded.person_id",
        &[process.into(), role.into(), person.into()],
    )
    .await?;
    Ok(())
}

// ----- offerings -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offering {
    pub id: OfferingId,
    pub service_id: ServiceId,
    pub service_name: String,
    pub name: String,
    pub description: String,
    pub availability_hours: String,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfferingFields {
    pub name: String,
    pub description: String,
    pub availability_hours: String,
    pub active: bool,
}

const OFFERING_COLUMNS: &str = "f.id, f.service_id, s.name, f.name, f.description, f.availability_hours, \
    f.active, f.created_at, f.updated_at, f.version";
const OFFERING_FROM: &str = "FROM service_offering f JOIN service s ON s.id = f.service_id";

fn offering_from_row(row: &Row) -> StoreResult<Offering> {
    Ok(Offering {
        id: row.get(0)?,
        service_id: row.get(1)?,
        service_name: row.get(2)?,
        name: row.get(3)?,
        description: row.get(4)?,
        availability_hours: row.get(5)?,
        active: row.get(6)?,
        created_at: row.get(7)?,
        updated_at: row.get(8)?,
        version: row.get(9)?,
    })
}

pub async fn insert_offering(
    tx: &mut Tx<'_>,
    id: OfferingId,
    service: ServiceId,
    f: &OfferingFields,
    now: Timestamp,
) -> StoreResult<Offering> {
    tx.execute(
        "INSERT INTO service_offering (id, service_id, name, name_key, description, availability_hours, active, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1)",
        &[
            id.into(),
            service.into(),
            f.name.as_str().into(),
            name_key(&f.name).as_str().into(),
            f.description.as_str().into(),
            f.availability_hours.as_str().into(),
            f.active.into(),
            now.into(),
        ],
    )
    .await?;
    get_offering(tx, id).await
}

pub async fn update_offering(
    tx: &mut Tx<'_>,
    id: OfferingId,
    f: &OfferingFields,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Offering> {
    let n = tx
        .execute(
            "UPDATE service_offering SET name = $2, name_key = $3, description = $4, availability_hours = $5, \
             active = $6, updated_at = $7, version = version + 1 WHERE id = $1 AND version = $8",
            &[
                id.into(),
                f.name.as_str().into(),
                name_key(&f.name).as_str().into(),
                f.description.as_str().into(),
                f.availability_hours.as_str().into(),
                f.active.into(),
                now.into(),
                expected_version.into(),
            ],
        )
        .await?;
    super::versioned(n, get_offering(tx, id)).await?;
    get_offering(tx, id).await
}

pub async fn delete_offering(
    tx: &mut Tx<'_>,
    id: OfferingId,
    expected_version: i64,
) -> StoreResult<()> {
    let n = tx
        .execute(
            "DELETE FROM service_offering WHERE id = $1 AND version = $2",
            &[id.into(), expected_version.into()],
        )
        .await?;
    super::versioned(n, get_offering(tx, id)).await?;
    Ok(())
}

pub async fn get_offering(tx: &mut Tx<'_>, id: OfferingId) -> StoreResult<Offering> {
    offering_from_row(
        &tx.query_one(
            &format!("SELECT {OFFERING_COLUMNS} {OFFERING_FROM} WHERE f.id = $1"),
            &[id.into()],
        )
        .await?,
    )
}

pub async fn offerings_of(tx: &mut Tx<'_>, service: ServiceId) -> StoreResult<Vec<Offering>> {
    tx.query(
        &format!(
            "SELECT {OFFERING_COLUMNS} {OFFERING_FROM} WHERE f.service_id = $1 ORDER BY f.name_key, f.id"
        ),
        &[service.into()],
    )
    .await?
    .iter()
    .map(offering_from_row)
    .collect()
}

#[derive(Debug, Clone, Default)]
pub struct OfferingFilter {
    pub service: Option<ServiceId>,
    pub active: Option<bool>,
    pub q: Option<String>,
    pub scope: Option<OrgId>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OfferingSort {
    Name,
    CreatedAt,
}

pub async fn list_offerings(
    tx: &mut Tx<'_>,
    filter: &OfferingFilter,
    sort: &[(OfferingSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Offering>> {
    let mut q = Select::new(&format!("SELECT {OFFERING_COLUMNS} {OFFERING_FROM}"));
    if let Some(s) = filter.service {
        q.filter("f.service_id = {}", Val::Uuid(s.as_uuid()));
    }
    if let Some(a) = filter.active {
        q.filter("f.active = {}", Val::Bool(a));
    }
    if let Some(org) = filter.scope {
        q.filter(
            "f.service_id IN (SELECT service_id FROM service_customer WHERE organization_id = {})",
            Val::Uuid(org.as_uuid()),
        );
    }
    if let Some(text) = filter.q.as_deref().filter(|t| !t.trim().is_empty()) {
        q.contains("f.name_key", text.trim());
    }
    let keys = super::list::sort_keys(
        sort,
        |s| match s {
            OfferingSort::Name => "f.name_key",
            OfferingSort::CreatedAt => "f.created_at",
        },
        "f.id",
    );
    q.page(&keys, after, limit)?;
    let items = q
        .run(tx)
        .await?
        .iter()
        .map(offering_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(into_page(items, limit, |o| {
        keys.iter()
            .map(|k| match k.column {
                "f.name_key" => Val::Text(name_key(&o.name)),
                "f.created_at" => Val::Ts(o.created_at),
                _ => Val::Uuid(o.id.as_uuid()),
            })
            .collect()
    }))
}

// ----- links to configuration items -----

/// Links a service to a CI that delivers it; false when it already was.
pub async fn link_service_ci(tx: &mut Tx<'_>, service: ServiceId, ci: CiId) -> StoreResult<bool> {
    let n = tx
        .execute(
            "INSERT INTO service_ci (service_id, ci_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[service.into(), ci.into()],
        )
        .await?;
    Ok(n > 0)
}

pub async fn unlink_service_ci(tx: &mut Tx<'_>, service: ServiceId, ci: CiId) -> StoreResult<bool> {
    let n = tx
        .execute(
            "DELETE FROM service_ci WHERE service_id = $1 AND ci_id = $2",
            &[service.into(), ci.into()],
        )
        .await?;
    Ok(n > 0)
}

pub async fn link_offering_ci(
    tx: &mut Tx<'_>,
    offering: OfferingId,
    ci: CiId,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "INSERT INTO offering_ci (offering_id, ci_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[offering.into(), ci.into()],
        )
        .await?;
    Ok(n > 0)
}

pub async fn unlink_offering_ci(
    tx: &mut Tx<'_>,
    offering: OfferingId,
    ci: CiId,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "DELETE FROM offering_ci WHERE offering_id = $1 AND ci_id = $2",
            &[offering.into(), ci.into()],
        )
        .await?;
    Ok(n > 0)
}

/// The CIs linked to a service.
pub async fn service_ci_ids(tx: &mut Tx<'_>, service: ServiceId) -> StoreResult<Vec<CiId>> {
    tx.query(
        "SELECT ci_id FROM service_ci WHERE service_id = $1 ORDER BY ci_id",
        &[service.into()],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// The CIs linked to an offering.
pub async fn offering_ci_ids(tx: &mut Tx<'_>, offering: OfferingId) -> StoreResult<Vec<CiId>> {
    tx.query(
        "SELECT ci_id FROM offering_ci WHERE offering_id = $1 ORDER BY ci_id",
        &[offering.into()],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

/// Deactivates every active offering of a service; returns them as they were.
pub async fn deactivate_offerings(
    tx: &mut Tx<'_>,
    service: ServiceId,
    now: Timestamp,
) -> StoreResult<Vec<Offering>> {
    let before: Vec<Offering> = offerings_of(tx, service)
        .await?
        .into_iter()
        .filter(|o| o.active)
        .collect();
    tx.execute(
        "UPDATE service_offering SET active = $2, updated_at = $3, version = version + 1 \
         WHERE service_id = $1 AND active = $4",
        &[service.into(), false.into(), now.into(), true.into()],
    )
    .await?;
    Ok(before)
}
