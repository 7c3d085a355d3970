//! Dashboards as stored: a name, an owner (none for the built-in ones, which may be a role's
//! home page), the tiles as JSON (parsed by `sigap_domain::report::Tile`), and who else may
//! open it, as for saved reports.

use super::saved_reports::{Shared, shares_of, visible_condition, write_shares_of};
use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::{P, Row};
use jiff::Timestamp;
use sigap_domain::{DashboardId, GroupId, PersonId};

#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub id: DashboardId,
    pub name: String,
    pub description: String,
    pub owner_id: Option<PersonId>,
    pub owner_name: Option<String>,
    /// The role whose home page it is.
    pub home_role: Option<String>,
    pub tiles: serde_json::Value,
    pub audience: String,
    pub groups: Vec<(GroupId, String)>,
    pub roles: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// A dashboard to write.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardWrite<'a> {
    pub id: DashboardId,
    pub name: &'a str,
    pub description: &'a str,
    pub owner_id: Option<PersonId>,
    pub home_role: Option<&'a str>,
    pub tiles: &'a serde_json::Value,
    pub audience: &'a str,
    pub groups: &'a [GroupId],
    pub roles: &'a [String],
    pub now: Timestamp,
}

const COLUMNS: &str = "d.id, d.name, d.description, d.owner_id, p.name, d.home_role, d.tiles, \
    d.audience, d.created_at, d.updated_at, d.version";
const FROM: &str = "dashboard d LEFT JOIN person p ON p.id = d.owner_id";

fn from_row(r: &Row) -> StoreResult<Dashboard> {
    Ok(Dashboard {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        owner_id: r.get(3)?,
        owner_name: r.get(4)?,
        home_role: r.get(5)?,
        tiles: r.get(6)?,
        audience: r.get(7)?,
        groups: Vec::new(),
        roles: Vec::new(),
        created_at: r.get(8)?,
        updated_at: r.get(9)?,
        version: r.get(10)?,
    })
}

async fn with_shares(tx: &mut Tx<'_>, mut list: Vec<Dashboard>) -> StoreResult<Vec<Dashboard>> {
    let ids: Vec<uuid::Uuid> = list
        .iter()
        .filter(|d| matches!(d.audience.as_str(), "groups" | "roles"))
        .map(|d| d.id.as_uuid())
        .collect();
    for (id, group, role) in shares_of(tx, Shared::Dashboard, &ids).await? {
        let Some(d) = list.iter_mut().find(|d| d.id.as_uuid() == id) else {
            continue;
        };
        d.groups.extend(group);
        d.roles.extend(role);
    }
    Ok(list)
}

/// A dashboard by its id, if it is there.
pub async fn get(tx: &mut Tx<'_>, id: DashboardId) -> StoreResult<Option<Dashboard>> {
    let found = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM {FROM} WHERE d.id = $1"),
            &[id.into()],
        )
        .await?
        .map(|r| from_row(&r))
        .transpose()?;
    match found {
        Some(d) => Ok(with_shares(tx, vec![d]).await?.pop()),
        None => Ok(None),
    }
}

/// The built-in dashboard that is the home page of a role, if there is one.
pub async fn home_of(tx: &mut Tx<'_>, role: &str) -> StoreResult<Option<Dashboard>> {
    let found = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM {FROM} WHERE d.home_role = $1"),
            &[role.into()],
        )
        .await?
        .map(|r| from_row(&r))
        .transpose()?;
    match found {
        Some(d) => Ok(with_shares(tx, vec![d]).await?.pop()),
        None => Ok(None),
    }
}

/// The dashboards a person may open, by name (as `saved_reports::visible`).
pub async fn visible(
    tx: &mut Tx<'_>,
    person: Option<PersonId>,
    roles: &[&str],
) -> StoreResult<Vec<Dashboard>> {
    let mut params: Vec<P<'_>> = vec![person.into()];
    params.extend(roles.iter().map(|r| P::from(*r)));
    let rows = tx
        .query(
            &format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE {} ORDER BY d.name, d.id",
                visible_condition(Shared::Dashboard, "d", roles)
            ),
            &params,
        )
        .await?;
    let list = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    with_shares(tx, list).await
}

/// How many dashboards a person owns.
pub async fn count_owned(tx: &mut Tx<'_>, person: PersonId) -> StoreResult<i64> {
    tx.query_one(
        "SELECT COUNT(*) FROM dashboard WHERE owner_id = $1",
        &[person.into()],
    )
    .await?
    .get(0)
}

/// Writes a new dashboard; false when one with its id is there already (built-in ones are
/// written once).
pub async fn insert(tx: &mut Tx<'_>, d: &DashboardWrite<'_>) -> StoreResult<bool> {
    let n = tx
        .execute(
            "INSERT INTO dashboard (id, name, description, owner_id, home_role, tiles, audience, \
             created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1) \
             ON CONFLICT (id) DO NOTHING",
            &[
                d.id.into(),
                d.name.into(),
                d.description.into(),
                d.owner_id.into(),
                d.home_role.into(),
                d.tiles.into(),
                d.audience.into(),
                d.now.into(),
            ],
        )
        .await?;
    if n == 1 {
        write_shares_of(
            tx,
            Shared::Dashboard,
            d.id.as_uuid(),
            d.audience,
            d.groups,
            d.roles,
        )
        .await?;
    }
    Ok(n == 1)
}

/// Writes a dashboard's fields over the stored ones at `version`; whether it was still at it.
pub async fn update(tx: &mut Tx<'_>, d: &DashboardWrite<'_>, version: i64) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE dashboard SET name = $2, description = $3, tiles = $4, audience = $5, \
             updated_at = $6, version = version + 1 WHERE id = $1 AND version = $7",
            &[
                d.id.into(),
                d.name.into(),
                d.description.into(),
                d.tiles.into(),
                d.audience.into(),
                d.now.into(),
                version.into(),
            ],
        )
        .await?;
    if n == 1 {
        write_shares_of(
            tx,
            Shared::Dashboard,
            d.id.as_uuid(),
            d.audience,
            d.groups,
            d.roles,
        )
        .await?;
    }
    Ok(n == 1)
}

/// Removes a dashboard; whether it was there.
pub async fn delete(tx: &mut Tx<'_>, id: DashboardId) -> StoreResult<bool> {
    tx.execute(
        "DELETE FROM dashboard_share WHERE dashboard_id = $1",
        &[id.into()],
    )
    .await?;
    tx.execute(
        "DELETE FROM dashboard_home WHERE dashboard_id = $1",
        &[id.into()],
    )
    .await?;
    Ok(tx
        .execute("DELETE FROM dashboard WHERE id = $1", &[id.into()])
        .await?
        == 1)
}

/// The dashboard a person chose as their home page, if they chose one.
pub async fn chosen_home(tx: &mut Tx<'_>, person: PersonId) -> StoreResult<Option<DashboardId>> {
    match tx
        .query_opt(
            "SELECT dashboard_id FROM dashboard_home WHERE person_id = $1",
            &[person.into()],
        )
        .await?
    {
        Some(r) => Ok(Some(r.get(0)?)),
        None => Ok(None),
    }
}

/// Makes a dashboard a person's home page (none: their role's again).
pub async fn choose_home(
    tx: &mut Tx<'_>,
    person: PersonId,
    dashboard: Option<DashboardId>,
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM dashboard_home WHERE person_id = $1",
        &[person.into()],
    )
    .await?;
    if let Some(d) = dashboard {
        tx.execute(
            "INSERT INTO dashboard_home (person_id, dashboard_id) VALUES ($1, $2)",
            &[person.into(), d.into()],
        )
        .await?;
    }
    Ok(())
}
