//! Locations: sites, buildings and offices, with the time zone they keep and the
//! organization they belong to, if any.

use super::list::{Page, Select, Val, into_page};
use super::name_key;
use super::task::{NamedRef, named};
use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::{LocationId, OrgId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub id: LocationId,
    pub name: String,
    /// An IANA time zone, when one is given.
    pub time_zone: Option<String>,
    pub organization: Option<NamedRef<OrgId>>,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocationFields {
    pub name: String,
    pub time_zone: Option<String>,
    pub organization_id: Option<OrgId>,
    pub active: bool,
}

impl Location {
    pub fn fields(&self) -> LocationFields {
        LocationFields {
            name: self.name.clone(),
            time_zone: self.time_zone.clone(),
            organization_id: self.organization.as_ref().map(|o| o.id),
            active: self.active,
        }
    }
}

const COLUMNS: &str =
    "l.id, l.name, l.time_zone, o.id, o.name, l.active, l.created_at, l.updated_at, l.version";
const FROM: &str = "FROM location l LEFT JOIN organization o ON o.id = l.organization_id";

fn from_row(row: &Row) -> StoreResult<Location> {
    Ok(Location {
        id: row.get(0)?,
        name: row.get(1)?,
        time_zone: row.get(2)?,
        organization: named(row, 3)?,
        active: row.get(5)?,
        created_at: row.get(6)?,
        updated_at: row.get(7)?,
        version: row.get(8)?,
    })
}

pub async fn insert(
    tx: &mut Tx<'_>,
    id: LocationId,
    f: &LocationFields,
    now: Timestamp,
) -> StoreResult<Location> {
    tx.execute(
        "INSERT INTO location (id, name, name_key, time_zone, organization_id, active, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1)",
        &[
            id.into(),
            f.name.as_str().into(),
            name_key(&f.name).as_str().into(),
            f.time_zone.as_deref().into(),
            f.organization_id.into(),
            f.active.into(),
            now.into(),
        ],
    )
    .await?;
    get(tx, id).await
}

/// Writes every field, guarded by the version the caller read.
pub async fn update(
    tx: &mut Tx<'_>,
    id: LocationId,
    f: &LocationFields,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Location> {
    let n = tx
        .execute(
            "UPDATE location SET name = $2, name_key = $3, time_zone = $4, organization_id = $5, active = $6, \
             updated_at = $7, version = version + 1 WHERE id = $1 AND version = $8",
            &[
                id.into(),
                f.name.as_str().into(),
                name_key(&f.name).as_str().into(),
                f.time_zone.as_deref().into(),
                f.organization_id.into(),
                f.active.into(),
                now.into(),
                expected_version.into(),
            ],
        )
        .await?;
    super::versioned(n, get(tx, id)).await?;
    get(tx, id).await
}

static GET: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {COLUMNS} {FROM} WHERE l.id = $1"));
static BY_NAME: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {COLUMNS} {FROM} WHERE l.name_key = $1"));

pub async fn get(tx: &mut Tx<'_>, id: LocationId) -> StoreResult<Location> {
    from_row(&tx.query_one(&GET, &[id.into()]).await?)
}

/// A location by its name, in any case.
pub async fn find_by_name(tx: &mut Tx<'_>, name: &str) -> StoreResult<Option<Location>> {
    tx.query_opt(&BY_NAME, &[name_key(name).as_str().into()])
        .await?
        .as_ref()
        .map(from_row)
        .transpose()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocationSort {
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct LocationFilter {
    pub active: Option<bool>,
    pub organization: Option<OrgId>,
    /// Someone of this organization looks: its own locations and those of nobody.
    pub scope: Option<OrgId>,
    /// Part of the name.
    pub q: Option<String>,
}

pub async fn list(
    tx: &mut Tx<'_>,
    filter: &LocationFilter,
    sort: &[(LocationSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Location>> {
    let mut q = Select::new(&format!("SELECT {COLUMNS} {FROM}"));
    if let Some(active) = filter.active {
        q.filter("l.active = {}", Val::Bool(active));
    }
    if let Some(org) = filter.organization {
        q.filter("l.organization_id = {}", Val::Uuid(org.as_uuid()));
    }
    if let Some(scope) = filter.scope {
        q.filter(
            "(l.organization_id IS NULL OR l.organization_id = {})",
            Val::Uuid(scope.as_uuid()),
        );
    }
    if let Some(text) = filter.q.as_deref().filter(|t| !t.trim().is_empty()) {
        q.contains("l.name_key", text.trim());
    }
    let keys = super::list::sort_keys(
        sort,
        |s| match s {
            LocationSort::Name => "l.name_key",
            LocationSort::CreatedAt => "l.created_at",
            LocationSort::UpdatedAt => "l.updated_at",
        },
        "l.id",
    );
    q.page(&keys, after, limit)?;
    let items = q
        .run(tx)
        .await?
        .iter()
        .map(from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(into_page(items, limit, |l| {
        keys.iter()
            .map(|k| match k.column {
                "l.name_key" => Val::Text(name_key(&l.name)),
                "l.created_at" => Val::Ts(l.created_at),
                "l.updated_at" => Val::Ts(l.updated_at),
                _ => Val::Uuid(l.id.as_uuid()),
            })
            .collect()
    }))
}
