//! People (user accounts) and their roles.

use super::list::{Page, Select, SortKey, Val, into_page};
use super::{decode, name_key};
use crate::error::{StoreError, StoreResult};
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::{Locale, OrgId, OrgKind, PersonId, Role};
use std::sync::LazyLock;

/// A reference to an organization, as embedded in other records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRef {
    pub id: OrgId,
    pub name: String,
    pub kind: OrgKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub id: PersonId,
    pub login: String,
    pub name: String,
    pub email: Option<String>,
    pub locale: Locale,
    pub time_zone: String,
    pub active: bool,
    pub organization: Option<OrgRef>,
    pub roles: Vec<Role>,
    /// Who approves what they request, where an approval asks their manager.
    pub manager: Option<super::groups::PersonRef>,
    pub has_password: bool,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// The writable fields of a person, already parsed by the caller.
#[derive(Debug, Clone)]
pub struct PersonFields {
    pub login: String,
    pub name: String,
    pub email: Option<String>,
    pub locale: Locale,
    pub time_zone: String,
    pub active: bool,
    pub organization_id: Option<OrgId>,
    pub roles: Vec<Role>,
    pub manager_id: Option<PersonId>,
}

pub(crate) const COLUMNS: &str = "p.id, p.login, p.name, p.email, p.locale, p.time_zone, p.active, \
    o.id, o.name, o.kind, p.password_hash IS NOT NULL, p.created_at, p.updated_at, p.version, p.roles, \
    pm.id, pm.login, pm.name";
pub(crate) const FROM: &str = "FROM person p LEFT JOIN organization o ON o.id = p.organization_id \
    LEFT JOIN person pm ON pm.id = p.manager_id";

fn from_row(row: &Row) -> StoreResult<Person> {
    from_row_at(row, 0)
}

/// Reads a person from `COLUMNS` starting at column `at` (for joins that select more).
pub(crate) fn from_row_at(row: &Row, at: usize) -> StoreResult<Person> {
    let org_id: Option<OrgId> = row.get(at + 7)?;
    let organization = match org_id {
        Some(id) => Some(OrgRef {
            id,
            name: row.get(at + 8)?,
            kind: decode(at + 9, row.get(at + 9)?, OrgKind::parse)?,
        }),
        None => None,
    };
    Ok(Person {
        id: row.get(at)?,
        login: row.get(at + 1)?,
        name: row.get(at + 2)?,
        email: row.get(at + 3)?,
        locale: decode(at + 4, row.get(at + 4)?, Locale::parse)?,
        time_zone: row.get(at + 5)?,
        active: row.get(at + 6)?,
        organization,
        roles: decode_roles(row.get(at + 14)?)?,
        manager: {
            let id: Option<PersonId> = row.get(at + 15)?;
            match id {
                Some(id) => Some(super::groups::PersonRef {
                    id,
                    login: row.get(at + 16)?,
                    name: row.get(at + 17)?,
                }),
                None => None,
            }
        },
        has_password: row.get(at + 10)?,
        created_at: row.get(at + 11)?,
        updated_at: row.get(at + 12)?,
        version: row.get(at + 13)?,
    })
}

fn search_text(f: &PersonFields) -> String {
    format!(
        "{} {} {}",
        f.login,
        f.name.to_lowercase(),
        f.email.as_deref().unwrap_or("").to_lowercase()
    )
}

fn decode_roles(text: String) -> StoreResult<Vec<Role>> {
    let mut roles = text
        .split(',')
        .filter(|r| !r.is_empty())
        .map(|r| {
            Role::parse(r).map_err(|e| StoreError::Decode {
                column: 14,
                detail: format!("{r:?}: {e}"),
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    roles.sort();
    Ok(roles)
}

async fn write_roles(tx: &mut Tx<'_>, id: PersonId, roles: &[Role]) -> StoreResult<()> {
    tx.execute("DELETE FROM person_role WHERE person_id = $1", &[id.into()])
        .await?;
    let mut codes: Vec<&str> = roles.iter().map(|r| r.code()).collect();
    codes.sort_unstable();
    codes.dedup();
    tx.execute(
        "UPDATE person SET roles = $2 WHERE id = $1",
        &[id.into(), codes.join(",").as_str().into()],
    )
    .await?;
    for role in roles {
        tx.execute(
            "INSERT INTO person_role (person_id, role) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[id.into(), role.code().into()],
        )
        .await?;
    }
    Ok(())
}

pub async fn insert(
    tx: &mut Tx<'_>,
    id: PersonId,
    f: &PersonFields,
    password_hash: Option<&str>,
    now: Timestamp,
) -> StoreResult<Person> {
    tx.execute(
        "INSERT INTO person (id, login, name, name_key, email, locale, time_zone, active, \
         organization_id, password_hash, search_text, created_at, updated_at, version, manager_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, 1, $13)",
        &[
            id.into(),
            f.login.as_str().into(),
            f.name.as_str().into(),
            name_key(&f.name).as_str().into(),
            f.email.as_deref().into(),
            f.locale.code().into(),
            f.time_zone.as_str().into(),
            f.active.into(),
            f.organization_id.into(),
            password_hash.into(),
            search_text(f).as_str().into(),
            now.into(),
            f.manager_id.into(),
        ],
    )
    .await?;
    write_roles(tx, id, &f.roles).await?;
    get(tx, id).await
}

/// Updates every writable field if the stored version is `expected_version`.
pub async fn update(
    tx: &mut Tx<'_>,
    id: PersonId,
    f: &PersonFields,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Person> {
    let n = tx
        .execute(
            "UPDATE person SET login = $2, name = $3, name_key = $4, email = $5, locale = $6, \
             time_zone = $7, active = $8, organization_id = $9, search_text = $10, updated_at = $11, \
             manager_id = $13, version = version + 1 WHERE id = $1 AND version = $12",
            &[
                id.into(),
                f.login.as_str().into(),
                f.name.as_str().into(),
                name_key(&f.name).as_str().into(),
                f.email.as_deref().into(),
                f.locale.code().into(),
                f.time_zone.as_str().into(),
                f.active.into(),
                f.organization_id.into(),
                search_text(f).as_str().into(),
                now.into(),
                expected_version.into(),
                f.manager_id.into(),
            ],
        )
        .await?;
    super::versioned(n, get(tx, id)).await?;
    write_roles(tx, id, &f.roles).await?;
    get(tx, id).await
}

pub async fn set_password_hash(
    tx: &mut Tx<'_>,
    id: PersonId,
    hash: &str,
    now: Timestamp,
) -> StoreResult<()> {
    let n = tx
        .execute(
            "UPDATE person SET password_hash = $2, updated_at = $3, version = version + 1 WHERE id = $1",
            &[id.into(), hash.into(), now.into()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

pub async fn get(tx: &mut Tx<'_>, id: PersonId) -> StoreResult<Person> {
    static SQL: LazyLock<String> =
        LazyLock::new(|| format!("SELECT {COLUMNS} {FROM} WHERE p.id = $1"));
    from_row(&tx.query_one(&SQL, &[id.into()]).await?)
}

pub async fn find_by_login(tx: &mut Tx<'_>, login: &str) -> StoreResult<Option<Person>> {
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS} {FROM} WHERE p.login = $1"),
            &[login.into()],
        )
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// The stored password hash of an active person, for signing in.
pub async fn credentials(
    tx: &mut Tx<'_>,
    login: &str,
) -> StoreResult<Option<(PersonId, Option<String>, bool)>> {
    let row = tx
        .query_opt(
            "SELECT id, password_hash, active FROM person WHERE login = $1",
            &[login.into()],
        )
        .await?;
    row.map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .transpose()
}

pub async fn password_hash(tx: &mut Tx<'_>, id: PersonId) -> StoreResult<Option<String>> {
    tx.query_one(
        "SELECT password_hash FROM person WHERE id = $1",
        &[id.into()],
    )
    .await?
    .get(0)
}

pub async fn count(tx: &mut Tx<'_>) -> StoreResult<i64> {
    tx.query_one("SELECT count(*) FROM person", &[])
        .await?
        .get(0)
}

/// How people may be listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonSort {
    Name,
    Login,
    CreatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct PersonFilter {
    pub active: Option<bool>,
    pub organization: Option<OrgId>,
    /// People holding this role, directly or through a higher ranked one.
    pub role: Option<Role>,
    pub group: Option<sigap_domain::GroupId>,
    pub q: Option<String>,
    /// Only people of this organization (organization scoping).
    pub scope: Option<OrgId>,
}

fn sort_keys(sort: &[(PersonSort, bool)]) -> Vec<SortKey> {
    super::list::sort_keys(
        sort,
        |s| match s {
            PersonSort::Name => "p.name_key",
            PersonSort::Login => "p.login",
            PersonSort::CreatedAt => "p.created_at",
        },
        "p.id",
    )
}

fn key_values(p: &Person, keys: &[SortKey]) -> Vec<Val> {
    keys.iter()
        .map(|k| match k.column {
            "p.name_key" => Val::Text(name_key(&p.name)),
            "p.login" => Val::Text(p.login.clone()),
            "p.created_at" => Val::Ts(p.created_at),
            _ => Val::Uuid(p.id.as_uuid()),
        })
        .collect()
}

pub async fn list(
    tx: &mut Tx<'_>,
    filter: &PersonFilter,
    sort: &[(PersonSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Person>> {
    let mut q = Select::new(&format!("SELECT {COLUMNS} {FROM}"));
    if let Some(active) = filter.active {
        q.filter("p.active = {}", Val::Bool(active));
    }
    if let Some(org) = filter.organization {
        q.filter("p.organization_id = {}", Val::Uuid(org.as_uuid()));
    }
    if let Some(scope) = filter.scope {
        q.filter("p.organization_id = {}", Val::Uuid(scope.as_uuid()));
    }
    if let Some(role) = filter.role {
        // Holders of higher ranked roles count: an administrator can act as an agent.
        let placeholders: Vec<String> = role
            .holders()
            .iter()
            .map(|r| q.bind(Val::Text(r.code().to_owned())))
            .collect();
        q.condition(format!(
            "p.id IN (SELECT person_id FROM person_role WHERE role IN ({}))",
            placeholders.join(", ")
        ));
    }
    if let Some(group) = filter.group {
        q.filter(
            "p.id IN (SELECT person_id FROM group_member WHERE group_id = {})",
            Val::Uuid(group.as_uuid()),
        );
    }
    if let Some(text) = filter.q.as_deref().filter(|t| !t.trim().is_empty()) {
        q.contains("p.search_text", text.trim());
    }
    let keys = sort_keys(sort);
    q.page(&keys, after, limit)?;
    let rows = q.run(tx).await?;
    let people = rows.iter().map(from_row).collect::<StoreResult<Vec<_>>>()?;
    Ok(into_page(people, limit, |p| key_values(p, &keys)))
}

/// Active people holding the admin role.
pub async fn count_active_admins(tx: &mut Tx<'_>) -> StoreResult<i64> {
    tx.query_one(
        "SELECT count(*) FROM person p JOIN person_role r ON r.person_id = p.id \
         WHERE r.role = 'admin' AND p.active = TRUE",
        &[],
    )
    .await?
    .get(0)
}
