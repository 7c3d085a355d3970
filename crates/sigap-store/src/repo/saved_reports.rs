//! Saved reports as stored: a name, an owner (none for the built-in ones), the definition as
//! JSON (parsed by `sigap_domain::report::Definition`), and who else may open it: nobody,
//! some groups, some roles, or everyone.

use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::{P, Row};
use jiff::Timestamp;
use sigap_domain::{GroupId, PersonId, ReportId};

/// A saved report with the names of its owner and of the groups it is shared with.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedReport {
    pub id: ReportId,
    pub name: String,
    pub description: String,
    pub owner_id: Option<PersonId>,
    pub owner_name: Option<String>,
    pub definition: serde_json::Value,
    /// private, groups, roles or everyone.
    pub audience: String,
    /// The groups it is shared with (audience `groups`), by name.
    pub groups: Vec<(GroupId, String)>,
    /// The role codes it is shared with (audience `roles`).
    pub roles: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// A report to write: everything but the names read back.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportWrite<'a> {
    pub id: ReportId,
    pub name: &'a str,
    pub description: &'a str,
    pub owner_id: Option<PersonId>,
    pub definition: &'a serde_json::Value,
    pub audience: &'a str,
    pub groups: &'a [GroupId],
    pub roles: &'a [String],
    pub now: Timestamp,
}

const COLUMNS: &str = "r.id, r.name, r.description, r.owner_id, p.name, r.definition, \
    r.audience, r.created_at, r.updated_at, r.version";
const FROM: &str = "report r LEFT JOIN person p ON p.id = r.owner_id";

fn from_row(r: &Row) -> StoreResult<SavedReport> {
    Ok(SavedReport {
        id: r.get(0)?,
        name: r.get(1)?,
        description: r.get(2)?,
        owner_id: r.get(3)?,
        owner_name: r.get(4)?,
        definition: r.get(5)?,
        audience: r.get(6)?,
        groups: Vec::new(),
        roles: Vec::new(),
        created_at: r.get(7)?,
        updated_at: r.get(8)?,
        version: r.get(9)?,
    })
}

/// What is shared: a report or a dashboard, each with its table of shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shared {
    Report,
    Dashboard,
}

impl Shared {
    /// The table of shares and its column naming what is shared.
    fn table(self) -> (&'static str, &'static str) {
        match self {
            Shared::Report => ("report_share", "report_id"),
            Shared::Dashboard => ("dashboard_share", "dashboard_id"),
        }
    }
}

/// One share: what is shared, and the group (with its name) or the role it is shared with.
pub(crate) type Share = (uuid::Uuid, Option<(GroupId, String)>, Option<String>);

/// The groups (with their names) and the roles each of `ids` is shared with.
pub(crate) async fn shares_of(
    tx: &mut Tx<'_>,
    what: Shared,
    ids: &[uuid::Uuid],
) -> StoreResult<Vec<Share>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let (table, column) = what.table();
    let params: Vec<P<'_>> = ids.iter().map(|i| (*i).into()).collect();
    let marks: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let rows = tx
        .query(
            &format!(
                "SELECT s.{column}, s.group_id, g.name, s.role FROM {table} s \
                 LEFT JOIN support_group g ON g.id = s.group_id \
                 WHERE s.{column} IN ({}) ORDER BY g.name, s.role",
                marks.join(", ")
            ),
            &params,
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for row in &rows {
        let group = match row.get::<Option<GroupId>>(1)? {
            Some(g) => Some((g, row.get::<Option<String>>(2)?.unwrap_or_default())),
            None => None,
        };
        out.push((row.get(0)?, group, row.get(3)?));
    }
    Ok(out)
}

/// Fills in the groups and roles each report is shared with.
async fn with_shares(
    tx: &mut Tx<'_>,
    mut reports: Vec<SavedReport>,
) -> StoreResult<Vec<SavedReport>> {
    let ids: Vec<uuid::Uuid> = reports
        .iter()
        .filter(|r| matches!(r.audience.as_str(), "groups" | "roles"))
        .map(|r| r.id.as_uuid())
        .collect();
    for (id, group, role) in shares_of(tx, Shared::Report, &ids).await? {
        let Some(r) = reports.iter_mut().find(|r| r.id.as_uuid() == id) else {
            continue;
        };
        r.groups.extend(group);
        r.roles.extend(role);
    }
    Ok(reports)
}

/// The condition (over `alias`, the shared thing's row) that a person may open it: theirs,
/// or shared with everyone, one of their roles or one of their groups. `$1` is the person;
/// the roles are bound from `$2` on.
pub(crate) fn visible_condition(what: Shared, alias: &str, roles: &[&str]) -> String {
    let (table, column) = what.table();
    let marks: Vec<String> = (0..roles.len()).map(|n| format!("${}", n + 2)).collect();
    let by_role = match marks.is_empty() {
        true => String::new(),
        false => format!(" OR s.role IN ({})", marks.join(", ")),
    };
    format!(
        "({alias}.owner_id = $1 OR {alias}.audience = 'everyone' \
         OR ({alias}.audience IN ('groups', 'roles') AND EXISTS (SELECT 1 FROM {table} s \
         WHERE s.{column} = {alias}.id AND (s.group_id IN \
         (SELECT m.group_id FROM group_member m WHERE m.person_id = $1){by_role}))))"
    )
}

/// Writes who a shared thing is shared with: the groups or the roles its audience names.
pub(crate) async fn write_shares_of(
    tx: &mut Tx<'_>,
    what: Shared,
    id: uuid::Uuid,
    audience: &str,
    groups: &[GroupId],
    roles: &[String],
) -> StoreResult<()> {
    let (table, column) = what.table();
    tx.execute(
        &format!("DELETE FROM {table} WHERE {column} = $1"),
        &[id.into()],
    )
    .await?;
    let groups: &[GroupId] = if audience == "groups" { groups } else { &[] };
    let roles: &[String] = if audience == "roles" { roles } else { &[] };
    for g in groups {
        tx.execute(
            &format!("INSERT INTO {table} ({column}, group_id) VALUES ($1, $2)"),
            &[id.into(), (*g).into()],
        )
        .await?;
    }
    for role in roles {
        tx.execute(
            &format!("INSERT INTO {table} ({column}, role) VALUES ($1, $2)"),
            &[id.into(), role.into()],
        )
        .await?;
    }
    Ok(())
}

/// A report by its id, if it is there.
pub async fn get(tx: &mut Tx<'_>, id: ReportId) -> StoreResult<Option<SavedReport>> {
    let found = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM {FROM} WHERE r.id = $1"),
            &[id.into()],
        )
        .await?
        .map(|r| from_row(&r))
        .transpose()?;
    match found {
        Some(r) => Ok(with_shares(tx, vec![r]).await?.pop()),
        None => Ok(None),
    }
}

/// The reports a person may open, by name: their own, and those shared with everyone, with
/// one of `roles` (codes) or with a group they are a member of. (`person` none: the shared
/// ones only.)
pub async fn visible(
    tx: &mut Tx<'_>,
    person: Option<PersonId>,
    roles: &[&str],
) -> StoreResult<Vec<SavedReport>> {
    let mut params: Vec<P<'_>> = vec![person.into()];
    params.extend(roles.iter().map(|r| P::from(*r)));
    let rows = tx
        .query(
            &format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE {} ORDER BY r.name, r.id",
                visible_condition(Shared::Report, "r", roles)
            ),
            &params,
        )
        .await?;
    let reports = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    with_shares(tx, reports).await
}

/// How many reports a person owns.
pub async fn count_owned(tx: &mut Tx<'_>, person: PersonId) -> StoreResult<i64> {
    let row = tx
        .query_one(
            "SELECT COUNT(*) FROM report WHERE owner_id = $1",
            &[person.into()],
        )
        .await?;
    row.get(0)
}

async fn write_shares(tx: &mut Tx<'_>, r: &ReportWrite<'_>) -> StoreResult<()> {
    write_shares_of(
        tx,
        Shared::Report,
        r.id.as_uuid(),
        r.audience,
        r.groups,
        r.roles,
    )
    .await
}

/// Writes a new report; false when one with its id is there already (built-in ones are
/// written once).
pub async fn insert(tx: &mut Tx<'_>, r: &ReportWrite<'_>) -> StoreResult<bool> {
    let n = tx
        .execute(
            "INSERT INTO report (id, name, description, owner_id, definition, audience, \
             created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1) \
             ON CONFLICT (id) DO NOTHING",
            &[
                r.id.into(),
                r.name.into(),
                r.description.into(),
                r.owner_id.into(),
                r.definition.into(),
                r.audience.into(),
                r.now.into(),
            ],
        )
        .await?;
    if n == 1 {
        write_shares(tx, r).await?;
    }
    Ok(n == 1)
}

/// Writes a report's fields over the stored ones at `version`; whether it was still at it.
pub async fn update(tx: &mut Tx<'_>, r: &ReportWrite<'_>, version: i64) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE report SET name = $2, description = $3, definition = $4, audience = $5, \
             updated_at = $6, version = version + 1 WHERE id = $1 AND version = $7",
            &[
                r.id.into(),
                r.name.into(),
                r.description.into(),
                r.definition.into(),
                r.audience.into(),
                r.now.into(),
                version.into(),
            ],
        )
        .await?;
    if n == 1 {
        write_shares(tx, r).await?;
    }
    Ok(n == 1)
}

/// Removes a report; whether it was there.
pub async fn delete(tx: &mut Tx<'_>, id: ReportId) -> StoreResult<bool> {
    tx.execute(
        "DELETE FROM report_share WHERE report_id = $1",
        &[id.into()],
    )
    .await?;
    Ok(tx
        .execute("DELETE FROM report WHERE id = $1", &[id.into()])
        .await?
        == 1)
}
