//! Support groups and their members.

use super::list::{Page, Select, Val, into_page};
use super::{decode, name_key};
use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::{GroupId, GroupType, PersonId};

/// A reference to a person, as embedded in other records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRef {
    pub id: PersonId,
    pub login: String,
    pub name: String,
}

/// A reference to a support group, as embedded in other records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRef {
    pub id: GroupId,
    pub name: String,
}

impl GroupRef {
    /// Reads an optional reference from two columns (id, name) of a LEFT JOIN.
    pub(crate) fn from_cols(row: &Row, at: usize) -> StoreResult<Option<Self>> {
        let id: Option<GroupId> = row.get(at)?;
        Ok(match id {
            Some(id) => Some(Self {
                id,
                name: row.get(at + 1)?,
            }),
            None => None,
        })
    }
}

impl PersonRef {
    /// Reads an optional reference from three columns (id, login, name) of a LEFT JOIN.
    pub(crate) fn from_cols(row: &Row, at: usize) -> StoreResult<Option<Self>> {
        let id: Option<PersonId> = row.get(at)?;
        Ok(match id {
            Some(id) => Some(Self {
                id,
                login: row.get(at + 1)?,
                name: row.get(at + 2)?,
            }),
            None => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub name: String,
    pub group_type: GroupType,
    pub description: String,
    pub email: Option<String>,
    pub manager: Option<PersonRef>,
    pub active: bool,
    pub member_count: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Debug, Clone)]
pub struct GroupFields {
    pub name: String,
    pub group_type: GroupType,
    pub description: String,
    pub email: Option<String>,
    pub manager_id: Option<PersonId>,
    pub active: bool,
}

const COLUMNS: &str = "g.id, g.name, g.group_type, g.description, g.email, m.id, m.login, m.name, g.active, \
    (SELECT count(*) FROM group_member gm WHERE gm.group_id = g.id), g.created_at, g.updated_at, g.version";
const FROM: &str = "FROM support_group g LEFT JOIN person m ON m.id = g.manager_id";

fn from_row(row: &Row) -> StoreResult<Group> {
    let manager_id: Option<PersonId> = row.get(5)?;
    let manager = match manager_id {
        Some(id) => Some(PersonRef {
            id,
            login: row.get(6)?,
            name: row.get(7)?,
        }),
        None => None,
    };
    Ok(Group {
        id: row.get(0)?,
        name: row.get(1)?,
        group_type: decode(2, row.get(2)?, GroupType::parse)?,
        description: row.get(3)?,
        email: row.get(4)?,
        manager,
        active: row.get(8)?,
        member_count: row.get(9)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
        version: row.get(12)?,
    })
}

pub async fn insert(
    tx: &mut Tx<'_>,
    id: GroupId,
    f: &GroupFields,
    now: Timestamp,
) -> StoreResult<Group> {
    tx.execute(
        "INSERT INTO support_group (id, name, name_key, group_type, description, email, manager_id, active, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1)",
        &[
            id.into(),
            f.name.as_str().into(),
            name_key(&f.name).as_str().into(),
            f.group_type.code().into(),
            f.description.as_str().into(),
            f.email.as_deref().into(),
            f.manager_id.into(),
            f.active.into(),
            now.into(),
        ],
    )
    .await?;
    get(tx, id).await
}

pub async fn update(
    tx: &mut Tx<'_>,
    id: GroupId,
    f: &GroupFields,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Group> {
    let n = tx
        .execute(
            "UPDATE support_group SET name = $2, name_key = $3, group_type = $4, description = $5, email = $6, \
             manager_id = $7, active = $8, updated_at = $9, version = version + 1 WHERE id = $1 AND version = $10",
            &[
                id.into(),
                f.name.as_str().into(),
                name_key(&f.name).as_str().into(),
                f.group_type.code().into(),
                f.description.as_str().into(),
                f.email.as_deref().into(),
                f.manager_id.into(),
                f.active.into(),
                now.into(),
                expected_version.into(),
            ],
        )
        .await?;
    super::versioned(n, get(tx, id)).await?;
    get(tx, id).await
}

pub async fn delete(tx: &mut Tx<'_>, id: GroupId, expected_version: i64) -> StoreResult<()> {
    let n = tx
        .execute(
            "DELETE FROM support_group WHERE id = $1 AND version = $2",
            &[id.into(), expected_version.into()],
        )
        .await?;
    super::versioned(n, get(tx, id)).await?;
    Ok(())
}

pub async fn get(tx: &mut Tx<'_>, id: GroupId) -> StoreResult<Group> {
    from_row(
        &tx.query_one(
            &format!("SELECT {COLUMNS} {FROM} WHERE g.id = $1"),
            &[id.into()],
        )
        .await?,
    )
}

pub async fn members(tx: &mut Tx<'_>, id: GroupId) -> StoreResult<Vec<PersonRef>> {
    let rows = tx
        .query(
            "SELECT p.id, p.login, p.name FROM group_member gm JOIN person p ON p.id = gm.person_id \
             WHERE gm.group_id = $1 ORDER BY p.name_key, p.id",
            &[id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(PersonRef {
                id: r.get(0)?,
                login: r.get(1)?,
                name: r.get(2)?,
            })
        })
        .collect()
}

/// The managers of groups among `groups` that have one: (group, manager).
pub async fn managers_of(
    tx: &mut Tx<'_>,
    groups: &[GroupId],
) -> StoreResult<Vec<(GroupId, PersonId)>> {
    people_of(
        tx,
        "SELECT g.id, g.manager_id FROM support_group g WHERE g.manager_id IS NOT NULL AND",
        "g.id",
        groups,
    )
    .await
}

/// The members of groups among `groups`: (group, person).
pub async fn members_of(
    tx: &mut Tx<'_>,
    groups: &[GroupId],
) -> StoreResult<Vec<(GroupId, PersonId)>> {
    people_of(
        tx,
        "SELECT gm.group_id, gm.person_id FROM group_member gm WHERE",
        "gm.group_id",
        groups,
    )
    .await
}

/// (group, person) pairs of `head` (`SELECT <group>, <person> FROM … WHERE`) for `groups`,
/// `column` the group's.
async fn people_of(
    tx: &mut Tx<'_>,
    head: &str,
    column: &str,
    groups: &[GroupId],
) -> StoreResult<Vec<(GroupId, PersonId)>> {
    if groups.is_empty() {
        return Ok(Vec::new());
    }
    let list = super::id_array(groups);
    let sql = format!("{head} {}", super::in_json(tx.dialect(), column, "$1"));
    tx.query(&sql, &[(&list).into()])
        .await?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect()
}

/// Adds a member; false when the person already was one.
pub async fn add_member(
    tx: &mut Tx<'_>,
    group: GroupId,
    person: PersonId,
    now: Timestamp,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "INSERT INTO group_member (group_id, person_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[group.into(), person.into(), now.into()],
        )
        .await?;
    Ok(n > 0)
}

/// Removes a member; false when the person was not one.
pub async fn remove_member(tx: &mut Tx<'_>, group: GroupId, person: PersonId) -> StoreResult<bool> {
    let n = tx
        .execute(
            "DELETE FROM group_member WHERE group_id = $1 AND person_id = $2",
            &[group.into(), person.into()],
        )
        .await?;
    Ok(n > 0)
}

/// The groups a person belongs to.
pub async fn of_person(tx: &mut Tx<'_>, person: PersonId) -> StoreResult<Vec<Group>> {
    let rows = tx
        .query(
            &format!(
                "SELECT {COLUMNS} {FROM} WHERE g.id IN (SELECT group_id FROM group_member WHERE person_id = $1) \
                 ORDER BY g.name_key, g.id"
            ),
            &[person.into()],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupSort {
    Name,
    Type,
    CreatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    pub group_type: Option<GroupType>,
    pub active: Option<bool>,
    pub member: Option<PersonId>,
    pub q: Option<String>,
}

pub async fn list(
    tx: &mut Tx<'_>,
    filter: &GroupFilter,
    sort: &[(GroupSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Group>> {
    let mut q = Select::new(&format!("SELECT {COLUMNS} {FROM}"));
    if let Some(t) = filter.group_type {
        q.filter("g.group_type = {}", Val::Text(t.code().to_owned()));
    }
    if let Some(active) = filter.active {
        q.filter("g.active = {}", Val::Bool(active));
    }
    if let Some(member) = filter.member {
        q.filter(
            "g.id IN (SELECT group_id FROM group_member WHERE person_id = {})",
            Val::Uuid(member.as_uuid()),
        );
    }
    if let Some(text) = filter.q.as_deref().filter(|t| !t.trim().is_empty()) {
        q.contains("g.name_key", text.trim());
    }
    let keys = super::list::sort_keys(
        sort,
        |s| match s {
            GroupSort::Name => "g.name_key",
            GroupSort::Type => "g.group_type",
            GroupSort::CreatedAt => "g.created_at",
        },
        "g.id",
    );
    q.page(&keys, after, limit)?;
    let items = q
        .run(tx)
        .await?
        .iter()
        .map(from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(into_page(items, limit, |g| {
        keys.iter()
            .map(|k| match k.column {
                "g.name_key" => Val::Text(name_key(&g.name)),
                "g.group_type" => Val::Text(g.group_type.code().to_owned()),
                "g.created_at" => Val::Ts(g.created_at),
                _ => Val::Uuid(g.id.as_uuid()),
            })
            .collect()
    }))
}
