//! Organizations: the provider itself, its customers and its suppliers.

use super::list::{Page, Select, Val, into_page};
use super::{decode, name_key};
use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::{OrgId, OrgKind};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organization {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
    pub description: String,
    pub active: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct OrgFields {
    pub name: String,
    pub kind: OrgKind,
    pub description: String,
    pub active: bool,
}

const COLUMNS: &str = "id, name, kind, description, active, created_at, updated_at, version";

fn from_row(row: &Row) -> StoreResult<Organization> {
    Ok(Organization {
        id: row.get(0)?,
        name: row.get(1)?,
        kind: decode(2, row.get(2)?, OrgKind::parse)?,
        description: row.get(3)?,
        active: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
        version: row.get(7)?,
    })
}

pub async fn insert(
    tx: &mut Tx<'_>,
    id: OrgId,
    f: &OrgFields,
    now: Timestamp,
) -> StoreResult<Organization> {
    tx.execute(
        "INSERT INTO organization (id, name, name_key, kind, description, active, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1)",
        &[
            id.into(),
            f.name.as_str().into(),
            name_key(&f.name).as_str().into(),
            f.kind.code().into(),
            f.description.as_str().into(),
            f.active.into(),
            now.into(),
        ],
    )
    .await?;
    get(tx, id).await
}

pub async fn update(
    tx: &mut Tx<'_>,
    id: OrgId,
    f: &OrgFields,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Organization> {
    let n = tx
        .execute(
            "UPDATE organization SET name = $2, name_key = $3, kind = $4, description = $5, active = $6, \
             updated_at = $7, version = version + 1 WHERE id = $1 AND version = $8",
            &[
                id.into(),
                f.name.as_str().into(),
                name_key(&f.name).as_str().into(),
                f.kind.code().into(),
                f.description.as_str().into(),
                f.active.into(),
                now.into(),
                expected_version.into(),
            ],
        )
        .await?;
    super::versioned(n, get(tx, id)).await?;
    get(tx, id).await
}

pub async fn delete(tx: &mut Tx<'_>, id: OrgId, expected_version: i64) -> StoreResult<()> {
    let n = tx
        .execute(
            "DELETE FROM organization WHERE id = $1 AND version = $2",
            &[id.into(), expected_version.into()],
        )
        .await?;
    super::versioned(n, get(tx, id)).await?;
    Ok(())
}

static GET: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {COLUMNS} FROM organization WHERE id = $1"));

pub async fn get(tx: &mut Tx<'_>, id: OrgId) -> StoreResult<Organization> {
    from_row(&tx.query_one(&GET, &[id.into()]).await?)
}

/// The first provider organization, if there is one.
pub async fn provider(tx: &mut Tx<'_>) -> StoreResult<Option<Organization>> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM organization WHERE kind = 'provider' ORDER BY created_at, id LIMIT 1"),
        &[],
    )
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

pub async fn find_by_name(tx: &mut Tx<'_>, name: &str) -> StoreResult<Option<Organization>> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM organization WHERE name_key = $1"),
        &[name_key(name).as_str().into()],
    )
    .await?
    .as_ref()
    .map(from_row)
    .transpose()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrgSort {
    Name,
    Kind,
    CreatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct OrgFilter {
    pub kind: Option<OrgKind>,
    pub active: Option<bool>,
    pub q: Option<String>,
    pub scope: Option<OrgId>,
}

pub async fn list(
    tx: &mut Tx<'_>,
    filter: &OrgFilter,
    sort: &[(OrgSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Organization>> {
    let mut q = Select::new(&format!("SELECT {COLUMNS} FROM organization"));
    if let Some(kind) = filter.kind {
        q.filter("kind = {}", Val::Text(kind.code().to_owned()));
    }
    if let Some(active) = filter.active {
        q.filter("active = {}", Val::Bool(active));
    }
    if let Some(scope) = filter.scope {
        q.filter("id = {}", Val::Uuid(scope.as_uuid()));
    }
    if let Some(text) = filter.q.as_deref().filter(|t| !t.trim().is_empty()) {
        q.contains("name_key", text.trim());
    }
    let keys = super::list::sort_keys(
        sort,
        |s| match s {
            OrgSort::Name => "name_key",
            OrgSort::Kind => "kind",
            OrgSort::CreatedAt => "created_at",
        },
        "id",
    );
    q.page(&keys, after, limit)?;
    let items = q
        .run(tx)
        .await?
        .iter()
        .map(from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(into_page(items, limit, |o| {
        keys.iter()
            .map(|k| match k.column {
                "name_key" => Val::Text(name_key(&o.name)),
                "kind" => Val::Text(o.kind.code().to_owned()),
                "created_at" => Val::Ts(o.created_at),
                _ => Val::Uuid(o.id.as_uuid()),
            })
            .collect()
    }))
}
