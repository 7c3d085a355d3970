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

/// Fills in the groups and roles each report is shared with.
async fn with_shares(
    tx: &mut Tx<'_>,
    mut reports: Vec<SavedReport>,
) -> StoreResult<Vec<SavedReport>> {
    let shared: Vec<usize> = (0..reports.len())
        .filter(|&i| matches!(reports[i].audience.as_str(), "groups" | "roles"))
        .collect();
    if shared.is_empty() {
        return Ok(reports);
    }
    let ids: Vec<P<'_>> = shared.iter().map(|&i| reports[i].id.into()).collect();
    let marks: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let rows = tx
        .query(
            &format!(
                "SELECT s.report_id, s.group_id, g.name, s.role FROM report_share s \
                 LEFT JOIN support_group g ON g.id = s.group_id \
                 WHERE s.report_id IN ({}) ORDER BY g.name, s.role",
                marks.join(", ")
            ),
            &ids,
        )
        .await?;
    for row in &rows {
        let id: ReportId = row.get(0)?;
        let Some(r) = reports.iter_mut().find(|r| r.id == id) else {
            continue;
        };
        if let Some(g) = row.get::<Option<GroupId>>(1)? {
            r.groups
                .push((g, row.get::<Option<String>>(2)?.unwrap_or_default()));
        }
        if let Some(role) = row.get::<Option<String>>(3)? {
            r.roles.push(role);
        }
    }
    Ok(reports)
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
    let marks: Vec<String> = roles
        .iter()
        .map(|r| {
            params.push((*r).into());
            format!("${}", params.len())
        })
        .collect();
    let by_role = match marks.is_empty() {
        true => String::new(),
        false => format!(" OR s.role IN ({})", marks.join(", ")),
    };
    let rows = tx
        .query(
            &format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE r.owner_id = $1 OR r.audience = 'everyone' \
                 OR (r.audience IN ('groups', 'roles') AND EXISTS (SELECT 1 FROM report_share s \
                 WHERE s.report_id = r.id AND (s.group_id IN \
                 (SELECT m.group_id FROM group_member m WHERE m.person_id = $1){by_role}))) \
                 ORDER BY r.name, r.id"
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
    tx.execute(
        "DELETE FROM report_share WHERE report_id = $1",
        &[r.id.into()],
    )
    .await?;
    let groups: &[GroupId] = match r.audience {
        "groups" => r.groups,
        _ => &[],
    };
    let roles: &[String] = match r.audience {
        "roles" => r.roles,
        _ => &[],
    };
    for g in groups {
        tx.execute(
            "INSERT INTO report_share (report_id, group_id) VALUES ($1, $2)",
            &[r.id.into(), (*g).into()],
        )
        .await?;
    }
    for role in roles {
        tx.execute(
            "INSERT INTO report_share (report_id, role) VALUES ($1, $2)",
            &[r.id.into(), role.into()],
        )
        .await?;
    }
    Ok(())
}

/// Writes a new report.
pub async fn insert(tx: &mut Tx<'_>, r: &ReportWrite<'_>) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO report (id, name, description, owner_id, definition, audience, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $7, 1)",
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
    write_shares(tx, r).await
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
