//! The CMDB: CI classes with their attribute definitions, configuration items, typed
//! relationships, and the per-level reads behind impact analysis.

use super::groups::GroupRef;
use super::list::{Page, Select, Val, into_page};
use super::{decode, id_array, in_json, name_key};
use crate::error::{StoreError, StoreResult};
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::cmdb::{CiStatus, Direction, RelKind, Step};
use sigap_domain::{CiClassId, CiId, GroupId, OfferingId, OrgId, RelId, ServiceId};
use std::collections::HashMap;

// ----- classes -----

#[derive(Debug, Clone, PartialEq)]
pub struct CiClass {
    pub id: CiClassId,
    pub code: String,
    pub name: String,
    pub builtin: bool,
    /// The attribute definitions, a JSON array of `AttrDef`.
    pub attributes: serde_json::Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

const CLASS_COLUMNS: &str = "id, code, name, builtin, attributes, created_at, updated_at, version";

fn class_from_row(row: &Row) -> StoreResult<CiClass> {
    Ok(CiClass {
        id: row.get(0)?,
        code: row.get(1)?,
        name: row.get(2)?,
        builtin: row.get(3)?,
        attributes: row.get(4)?,
        created_at: row.get(5)?,
        updated_at: row.get(6)?,
        version: row.get(7)?,
    })
}

pub async fn insert_class(
    tx: &mut Tx<'_>,
    id: CiClassId,
    code: &str,
    name: &str,
    builtin: bool,
    attributes: &serde_json::Value,
    now: Timestamp,
) -> StoreResult<CiClass> {
    tx.execute(
        "INSERT INTO ci_class (id, code, name, builtin, attributes, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $6, 1)",
        &[
            id.into(),
            code.into(),
            name.into(),
            builtin.into(),
            attributes.into(),
            now.into(),
        ],
    )
    .await?;
    get_class(tx, id).await
}

pub async fn update_class(
    tx: &mut Tx<'_>,
    id: CiClassId,
    name: &str,
    attributes: &serde_json::Value,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<CiClass> {
    let n = tx
        .execute(
            "UPDATE ci_class SET name = $2, attributes = $3, updated_at = $4, version = version + 1 \
             WHERE id = $1 AND version = $5",
            &[
                id.into(),
                name.into(),
                attributes.into(),
                now.into(),
                expected_version.into(),
            ],
        )
        .await?;
    super::versioned(n, get_class(tx, id)).await?;
    get_class(tx, id).await
}

pub async fn delete_class(
    tx: &mut Tx<'_>,
    id: CiClassId,
    expected_version: i64,
) -> StoreResult<()> {
    let n = tx
        .execute(
            "DELETE FROM ci_class WHERE id = $1 AND version = $2",
            &[id.into(), expected_version.into()],
        )
        .await?;
    super::versioned(n, get_class(tx, id)).await?;
    Ok(())
}

pub async fn get_class(tx: &mut Tx<'_>, id: CiClassId) -> StoreResult<CiClass> {
    class_from_row(
        &tx.query_one(
            &format!("SELECT {CLASS_COLUMNS} FROM ci_class WHERE id = $1"),
            &[id.into()],
        )
        .await?,
    )
}

pub async fn class_by_code(tx: &mut Tx<'_>, code: &str) -> StoreResult<Option<CiClass>> {
    tx.query_opt(
        &format!("SELECT {CLASS_COLUMNS} FROM ci_class WHERE code = $1"),
        &[code.trim().into()],
    )
    .await?
    .as_ref()
    .map(class_from_row)
    .transpose()
}

/// Every class, built-in ones first, then by name.
pub async fn classes(tx: &mut Tx<'_>) -> StoreResult<Vec<CiClass>> {
    tx.query(
        &format!("SELECT {CLASS_COLUMNS} FROM ci_class ORDER BY builtin DESC, name, id"),
        &[],
    )
    .await?
    .iter()
    .map(class_from_row)
    .collect()
}

/// How many CIs a class has.
pub async fn class_usage(tx: &mut Tx<'_>, id: CiClassId) -> StoreResult<i64> {
    tx.query_one("SELECT count(*) FROM ci WHERE class_id = $1", &[id.into()])
        .await?
        .get(0)
}

// ----- configuration items -----

/// A CI as other records show it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CiRef {
    pub id: CiId,
    pub name: String,
    pub class_code: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ci {
    pub id: CiId,
    pub class_id: CiClassId,
    pub class_code: String,
    pub class_name: String,
    pub name: String,
    pub status: CiStatus,
    pub owner_group: Option<GroupRef>,
    pub location: String,
    pub serial: String,
    pub attributes: serde_json::Value,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

impl Ci {
    pub fn as_ref(&self) -> CiRef {
        CiRef {
            id: self.id,
            name: self.name.clone(),
            class_code: self.class_code.clone(),
        }
    }

    pub fn fields(&self) -> CiFields {
        CiFields {
            class_id: self.class_id,
            name: self.name.clone(),
            status: self.status,
            owner_group_id: self.owner_group.as_ref().map(|g| g.id),
            location: self.location.clone(),
            serial: self.serial.clone(),
            attributes: self.attributes.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CiFields {
    pub class_id: CiClassId,
    pub name: String,
    pub status: CiStatus,
    pub owner_group_id: Option<GroupId>,
    pub location: String,
    pub serial: String,
    pub attributes: serde_json::Value,
}

const CI_COLUMNS: &str = "c.id, c.class_id, k.code, k.name, c.name, c.status, g.id, g.name, c.location, \
    c.serial, c.attributes, c.created_at, c.updated_at, c.version";
const CI_FROM: &str = "FROM ci c JOIN ci_class k ON k.id = c.class_id LEFT JOIN support_group g ON g.id = c.owner_group_id";

fn ci_from_row(row: &Row) -> StoreResult<Ci> {
    Ok(Ci {
        id: row.get(0)?,
        class_id: row.get(1)?,
        class_code: row.get(2)?,
        class_name: row.get(3)?,
        name: row.get(4)?,
        status: decode(5, row.get(5)?, CiStatus::parse)?,
        owner_group: GroupRef::from_cols(row, 6)?,
        location: row.get(8)?,
        serial: row.get(9)?,
        attributes: row.get(10)?,
        created_at: row.get(11)?,
        updated_at: row.get(12)?,
        version: row.get(13)?,
    })
}

pub async fn insert_ci(tx: &mut Tx<'_>, id: CiId, f: &CiFields, now: Timestamp) -> StoreResult<Ci> {
    tx.execute(
        "INSERT INTO ci (id, class_id, name, name_key, status, owner_group_id, location, serial, attributes, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1)",
        &[
            id.into(),
            f.class_id.into(),
            f.name.as_str().into(),
            name_key(&f.name).as_str().into(),
            f.status.code().into(),
            f.owner_group_id.into(),
            f.location.as_str().into(),
            f.serial.as_str().into(),
            (&f.attributes).into(),
            now.into(),
        ],
    )
    .await?;
    get_ci(tx, id).await
}

pub async fn update_ci(
    tx: &mut Tx<'_>,
    id: CiId,
    f: &CiFields,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Ci> {
    let n = tx
        .execute(
            "UPDATE ci SET class_id = $2, name = $3, name_key = $4, status = $5, owner_group_id = $6, \
             location = $7, serial = $8, attributes = $9, updated_at = $10, version = version + 1 \
             WHERE id = $1 AND version = $11",
            &[
                id.into(),
                f.class_id.into(),
                f.name.as_str().into(),
                name_key(&f.name).as_str().into(),
                f.status.code().into(),
                f.owner_group_id.into(),
                f.location.as_str().into(),
                f.serial.as_str().into(),
                (&f.attributes).into(),
                now.into(),
                expected_version.into(),
            ],
        )
        .await?;
    super::versioned(n, get_ci(tx, id)).await?;
    get_ci(tx, id).await
}

pub async fn delete_ci(tx: &mut Tx<'_>, id: CiId, expected_version: i64) -> StoreResult<()> {
    let n = tx
        .execute(
            "DELETE FROM ci WHERE id = $1 AND version = $2",
            &[id.into(), expected_version.into()],
        )
        .await?;
    super::versioned(n, get_ci(tx, id)).await?;
    Ok(())
}

static GET_CI: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| format!("SELECT {CI_COLUMNS} {CI_FROM} WHERE c.id = $1"));

pub async fn get_ci(tx: &mut Tx<'_>, id: CiId) -> StoreResult<Ci> {
    ci_from_row(&tx.query_one(&GET_CI, &[id.into()]).await?)
}

/// The CI of a class with this name (names are unique within a class).
pub async fn find_ci(tx: &mut Tx<'_>, class: CiClassId, name: &str) -> StoreResult<Option<Ci>> {
    tx.query_opt(
        &format!("SELECT {CI_COLUMNS} {CI_FROM} WHERE c.class_id = $1 AND c.name_key = $2"),
        &[class.into(), name_key(name).as_str().into()],
    )
    .await?
    .as_ref()
    .map(ci_from_row)
    .transpose()
}

/// CIs with this name, in any class.
pub async fn find_ci_by_name(tx: &mut Tx<'_>, name: &str) -> StoreResult<Vec<Ci>> {
    tx.query(
        &format!("SELECT {CI_COLUMNS} {CI_FROM} WHERE c.name_key = $1 ORDER BY c.id LIMIT 10"),
        &[name_key(name).as_str().into()],
    )
    .await?
    .iter()
    .map(ci_from_row)
    .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CiSort {
    Name,
    Status,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct CiFilter {
    pub classes: Vec<CiClassId>,
    pub status: Option<CiStatus>,
    pub owner_group: Option<GroupId>,
    pub q: Option<String>,
}

pub async fn list_cis(
    tx: &mut Tx<'_>,
    filter: &CiFilter,
    sort: &[(CiSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Ci>> {
    let mut q = Select::new(&format!("SELECT {CI_COLUMNS} {CI_FROM}"));
    if !filter.classes.is_empty() {
        let phs: Vec<String> = filter
            .classes
            .iter()
            .map(|c| q.bind(Val::Uuid(c.as_uuid())))
            .collect();
        q.condition(format!("c.class_id IN ({})", phs.join(", ")));
    }
    if let Some(s) = filter.status {
        q.filter("c.status = {}", Val::Text(s.code().to_owned()));
    }
    if let Some(g) = filter.owner_group {
        q.filter("c.owner_group_id = {}", Val::Uuid(g.as_uuid()));
    }
    if let Some(text) = filter.q.as_deref().filter(|t| !t.trim().is_empty()) {
        // Name, serial or location.
        let ph = q.bind_contains(text.trim());
        q.condition(format!(
            "(c.name_key LIKE {ph} ESCAPE '\\' OR lower(c.serial) LIKE {ph} ESCAPE '\\' \
             OR lower(c.location) LIKE {ph} ESCAPE '\\')"
        ));
    }
    let keys = super::list::sort_keys(
        sort,
        |s| match s {
            CiSort::Name => "c.name_key",
            CiSort::Status => "c.status",
            CiSort::CreatedAt => "c.created_at",
            CiSort::UpdatedAt => "c.updated_at",
        },
        "c.id",
    );
    q.page(&keys, after, limit)?;
    let items = q
        .run(tx)
        .await?
        .iter()
        .map(ci_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(into_page(items, limit, |c| {
        keys.iter()
            .map(|k| match k.column {
                "c.name_key" => Val::Text(name_key(&c.name)),
                "c.status" => Val::Text(c.status.code().to_owned()),
                "c.created_at" => Val::Ts(c.created_at),
                "c.updated_at" => Val::Ts(c.updated_at),
                _ => Val::Uuid(c.id.as_uuid()),
            })
            .collect()
    }))
}

/// Every CI in name order, a page at a time (for export).
pub async fn cis_after(tx: &mut Tx<'_>, after: Option<CiId>, limit: i64) -> StoreResult<Vec<Ci>> {
    let rows = match after {
        None => {
            tx.query(
                &format!("SELECT {CI_COLUMNS} {CI_FROM} ORDER BY c.id LIMIT $1"),
                &[limit.into()],
            )
            .await?
        }
        Some(id) => {
            tx.query(
                &format!("SELECT {CI_COLUMNS} {CI_FROM} WHERE c.id > $1 ORDER BY c.id LIMIT $2"),
                &[id.into(), limit.into()],
            )
            .await?
        }
    };
    rows.iter().map(ci_from_row).collect()
}

pub async fn count_cis(tx: &mut Tx<'_>) -> StoreResult<i64> {
    tx.query_one("SELECT count(*) FROM ci", &[]).await?.get(0)
}

// ----- relationships -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relationship {
    pub id: RelId,
    pub source: CiRef,
    pub kind: RelKind,
    pub target: CiRef,
    pub created_at: Timestamp,
}

const REL_COLUMNS: &str =
    "r.id, s.id, s.name, sk.code, r.kind, t.id, t.name, tk.code, r.created_at";
const REL_FROM: &str = "FROM ci_relationship r JOIN ci s ON s.id = r.source_id JOIN ci_class sk ON sk.id = s.class_id \
    JOIN ci t ON t.id = r.target_id JOIN ci_class tk ON tk.id = t.class_id";

fn rel_from_row(row: &Row) -> StoreResult<Relationship> {
    Ok(Relationship {
        id: row.get(0)?,
        source: CiRef {
            id: row.get(1)?,
            name: row.get(2)?,
            class_code: row.get(3)?,
        },
        kind: decode(4, row.get(4)?, RelKind::parse)?,
        target: CiRef {
            id: row.get(5)?,
            name: row.get(6)?,
            class_code: row.get(7)?,
        },
        created_at: row.get(8)?,
    })
}

/// Adds a relationship; `None` when the same one already exists.
pub async fn insert_rel(
    tx: &mut Tx<'_>,
    id: RelId,
    source: CiId,
    kind: RelKind,
    target: CiId,
    now: Timestamp,
) -> StoreResult<Option<Relationship>> {
    let n = tx
        .execute(
            "INSERT INTO ci_relationship (id, source_id, kind, target_id, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT DO NOTHING",
            &[
                id.into(),
                source.into(),
                kind.code().into(),
                target.into(),
                now.into(),
            ],
        )
        .await?;
    if n == 0 {
        return Ok(None);
    }
    get_rel(tx, id).await.map(Some)
}

pub async fn get_rel(tx: &mut Tx<'_>, id: RelId) -> StoreResult<Relationship> {
    rel_from_row(
        &tx.query_one(
            &format!("SELECT {REL_COLUMNS} {REL_FROM} WHERE r.id = $1"),
            &[id.into()],
        )
        .await?,
    )
}

pub async fn find_rel(
    tx: &mut Tx<'_>,
    source: CiId,
    kind: RelKind,
    target: CiId,
) -> StoreResult<Option<Relationship>> {
    tx.query_opt(
        &format!(
            "SELECT {REL_COLUMNS} {REL_FROM} WHERE r.source_id = $1 AND r.kind = $2 AND r.target_id = $3"
        ),
        &[source.into(), kind.code().into(), target.into()],
    )
    .await?
    .as_ref()
    .map(rel_from_row)
    .transpose()
}

pub async fn delete_rel(tx: &mut Tx<'_>, id: RelId) -> StoreResult<()> {
    let n = tx
        .execute("DELETE FROM ci_relationship WHERE id = $1", &[id.into()])
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

/// The relationships a CI takes part in, as source or target.
pub async fn rels_of(tx: &mut Tx<'_>, ci: CiId) -> StoreResult<Vec<Relationship>> {
    tx.query(
        &format!(
            "SELECT {REL_COLUMNS} {REL_FROM} WHERE r.source_id = $1 OR r.target_id = $1 \
             ORDER BY r.kind, s.name_key, t.name_key, r.id LIMIT 1000"
        ),
        &[ci.into()],
    )
    .await?
    .iter()
    .map(rel_from_row)
    .collect()
}

/// Every relationship, a page at a time by id (for export).
pub async fn rels_after(
    tx: &mut Tx<'_>,
    after: Option<RelId>,
    limit: i64,
) -> StoreResult<Vec<Relationship>> {
    let rows = match after {
        None => {
            tx.query(
                &format!("SELECT {REL_COLUMNS} {REL_FROM} ORDER BY r.id LIMIT $1"),
                &[limit.into()],
            )
            .await?
        }
        Some(id) => {
            tx.query(
                &format!("SELECT {REL_COLUMNS} {REL_FROM} WHERE r.id > $1 ORDER BY r.id LIMIT $2"),
                &[id.into(), limit.into()],
            )
            .await?
        }
    };
    rows.iter().map(rel_from_row).collect()
}

pub async fn count_rels(tx: &mut Tx<'_>) -> StoreResult<i64> {
    tx.query_one("SELECT count(*) FROM ci_relationship", &[])
        .await?
        .get(0)
}

// ----- walks -----

/// How many ids one statement of a walk takes at most.
const CHUNK: usize = 500;

fn kinds_list(kinds: &[RelKind]) -> String {
    kinds
        .iter()
        .map(|k| format!("'{}'", k.code()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The steps a walk in `dir` can take from the CIs of `frontier`, in a stable order.
pub async fn steps(
    tx: &mut Tx<'_>,
    frontier: &[CiId],
    dir: Direction,
) -> StoreResult<Vec<Step<CiId>>> {
    let dialect = tx.dialect();
    let backward = RelKind::target_to_source(dir);
    let forward = RelKind::source_to_target(dir);
    let by_target = format!(
        "SELECT target_id, kind, source_id FROM ci_relationship WHERE {} AND kind IN ({}) \
         ORDER BY target_id, kind, source_id",
        in_json(dialect, "target_id", "$1"),
        kinds_list(&backward)
    );
    let by_source = format!(
        "SELECT source_id, kind, target_id FROM ci_relationship WHERE {} AND kind IN ({}) \
         ORDER BY source_id, kind, target_id",
        in_json(dialect, "source_id", "$1"),
        kinds_list(&forward)
    );
    let mut out = Vec::new();
    for chunk in frontier.chunks(CHUNK) {
        let ids = id_array(chunk);
        for (sql, reversed) in [(&by_target, true), (&by_source, false)] {
            for r in tx.query(sql, &[(&ids).into()]).await? {
                out.push(Step {
                    from: r.get(0)?,
                    kind: decode(1, r.get(1)?, RelKind::parse)?,
                    to: r.get(2)?,
                    reversed,
                });
            }
        }
    }
    Ok(out)
}

/// The CIs of `ids` (those that exist), keyed by id.
pub async fn ci_refs(tx: &mut Tx<'_>, ids: &[CiId]) -> StoreResult<HashMap<CiId, CiRef>> {
    let dialect = tx.dialect();
    let sql = format!(
        "SELECT c.id, c.name, k.code FROM ci c JOIN ci_class k ON k.id = c.class_id WHERE {}",
        in_json(dialect, "c.id", "$1")
    );
    let mut out = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let arr = id_array(chunk);
        for r in tx.query(&sql, &[(&arr).into()]).await? {
            let c = CiRef {
                id: r.get(0)?,
                name: r.get(1)?,
                class_code: r.get(2)?,
            };
            out.insert(c.id, c);
        }
    }
    Ok(out)
}

/// A service or offering linked to a CI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CiLink<T> {
    pub ci: CiId,
    pub id: T,
    pub name: String,
    pub active: bool,
    /// For an offering, its service.
    pub service: Option<ServiceId>,
}

/// The services delivered by any CI of `ids`.
pub async fn services_of_cis(tx: &mut Tx<'_>, ids: &[CiId]) -> StoreResult<Vec<CiLink<ServiceId>>> {
    let dialect = tx.dialect();
    let sql = format!(
        "SELECT sc.ci_id, s.id, s.name, s.status FROM service_ci sc JOIN service s ON s.id = sc.service_id \
         WHERE {} ORDER BY s.name_key, s.id, sc.ci_id",
        in_json(dialect, "sc.ci_id", "$1")
    );
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let arr = id_array(chunk);
        for r in tx.query(&sql, &[(&arr).into()]).await? {
            let status: String = r.get(3)?;
            out.push(CiLink {
                ci: r.get(0)?,
                id: r.get(1)?,
                name: r.get(2)?,
                active: status != "retired",
                service: None,
            });
        }
    }
    Ok(out)
}

/// The offerings delivered by any CI of `ids`.
pub async fn offerings_of_cis(
    tx: &mut Tx<'_>,
    ids: &[CiId],
) -> StoreResult<Vec<CiLink<OfferingId>>> {
    let dialect = tx.dialect();
    let sql = format!(
        "SELECT oc.ci_id, f.id, f.name, f.active, f.service_id FROM offering_ci oc \
         JOIN service_offering f ON f.id = oc.offering_id WHERE {} ORDER BY f.name_key, f.id, oc.ci_id",
        in_json(dialect, "oc.ci_id", "$1")
    );
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let arr = id_array(chunk);
        for r in tx.query(&sql, &[(&arr).into()]).await? {
            out.push(CiLink {
                ci: r.get(0)?,
                id: r.get(1)?,
                name: r.get(2)?,
                active: r.get(3)?,
                service: r.get(4)?,
            });
        }
    }
    Ok(out)
}

/// The offerings of the services of `ids`: (service, offering, name, active).
pub async fn offerings_of_services(
    tx: &mut Tx<'_>,
    ids: &[ServiceId],
) -> StoreResult<Vec<(ServiceId, OfferingId, String, bool)>> {
    let dialect = tx.dialect();
    let sql = format!(
        "SELECT f.service_id, f.id, f.name, f.active FROM service_offering f WHERE {} ORDER BY f.name_key, f.id",
        in_json(dialect, "f.service_id", "$1")
    );
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let arr = id_array(chunk);
        for r in tx.query(&sql, &[(&arr).into()]).await? {
            out.push((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?));
        }
    }
    Ok(out)
}

/// The customers of the services of `ids`: (service, organization, name).
pub async fn customers_of_services(
    tx: &mut Tx<'_>,
    ids: &[ServiceId],
) -> StoreResult<Vec<(ServiceId, OrgId, String)>> {
    let dialect = tx.dialect();
    let sql = format!(
        "SELECT sc.service_id, o.id, o.name FROM service_customer sc JOIN organization o ON o.id = sc.organization_id \
         WHERE {} ORDER BY o.name_key, o.id",
        in_json(dialect, "sc.service_id", "$1")
    );
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let arr = id_array(chunk);
        for r in tx.query(&sql, &[(&arr).into()]).await? {
            out.push((r.get(0)?, r.get(1)?, r.get(2)?));
        }
    }
    Ok(out)
}

/// Services linked to a CI (directly).
pub async fn services_linked_to(
    tx: &mut Tx<'_>,
    ci: CiId,
) -> StoreResult<Vec<(ServiceId, String)>> {
    tx.query(
        "SELECT s.id, s.name FROM service_ci sc JOIN service s ON s.id = sc.service_id WHERE sc.ci_id = $1 \
         ORDER BY s.name_key, s.id",
        &[ci.into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .collect()
}

/// CIs linked to a service (directly), as references.
pub async fn cis_of_service(tx: &mut Tx<'_>, service: ServiceId) -> StoreResult<Vec<CiRef>> {
    tx.query(
        "SELECT c.id, c.name, k.code FROM service_ci sc JOIN ci c ON c.id = sc.ci_id JOIN ci_class k ON k.id = c.class_id \
         WHERE sc.service_id = $1 ORDER BY c.name_key, c.id",
        &[service.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(CiRef {
            id: r.get(0)?,
            name: r.get(1)?,
            class_code: r.get(2)?,
        })
    })
    .collect()
}

// ----- bulk loading -----

/// How many rows one bulk statement carries.
const BULK: usize = 400;

/// Inserts many CIs with few statements (seeding, benchmarks); no checks beyond the
/// schema's.
pub async fn bulk_insert_cis(
    tx: &mut Tx<'_>,
    rows: &[(CiId, CiFields)],
    now: Timestamp,
) -> StoreResult<()> {
    for chunk in rows.chunks(BULK) {
        let keys: Vec<String> = chunk.iter().map(|(_, f)| name_key(&f.name)).collect();
        let mut sql = String::from(
            "INSERT INTO ci (id, class_id, name, name_key, status, owner_group_id, location, serial, attributes, \
             created_at, updated_at, version) VALUES ",
        );
        let mut params: Vec<crate::value::P<'_>> = Vec::with_capacity(chunk.len() * 10 + 1);
        params.push(now.into());
        super::values_rows(
            &mut sql,
            &mut params,
            chunk,
            9,
            ", $1, $1, 1)",
            |i, (id, f), out| {
                out.push((*id).into());
                out.push(f.class_id.into());
                out.push(f.name.as_str().into());
                out.push(keys[i].as_str().into());
                out.push(f.status.code().into());
                out.push(f.owner_group_id.into());
                out.push(f.location.as_str().into());
                out.push(f.serial.as_str().into());
                out.push((&f.attributes).into());
            },
        );
        tx.execute(&sql, &params).await?;
    }
    Ok(())
}

/// Inserts many relationships with few statements; duplicates are skipped.
pub async fn bulk_insert_rels(
    tx: &mut Tx<'_>,
    rows: &[(CiId, RelKind, CiId)],
    now: Timestamp,
) -> StoreResult<u64> {
    let mut n = 0;
    for chunk in rows.chunks(BULK) {
        let ids: Vec<RelId> = chunk.iter().map(|_| RelId::new()).collect();
        let mut sql = String::from(
            "INSERT INTO ci_relationship (id, source_id, kind, target_id, created_at) VALUES ",
        );
        let mut params: Vec<crate::value::P<'_>> = Vec::with_capacity(chunk.len() * 4 + 1);
        params.push(now.into());
        super::values_rows(
            &mut sql,
            &mut params,
            chunk,
            4,
            ", $1)",
            |i, (s, k, t), out| {
                out.push(ids[i].into());
                out.push((*s).into());
                out.push(k.code().into());
                out.push((*t).into());
            },
        );
        sql.push_str(" ON CONFLICT DO NOTHING");
        n += tx.execute(&sql, &params).await?;
    }
    Ok(n)
}

/// The ids of the CIs, at most `limit` (for generated data).
pub async fn all_ci_ids(tx: &mut Tx<'_>, limit: i64) -> StoreResult<Vec<CiId>> {
    tx.query("SELECT id FROM ci ORDER BY id LIMIT $1", &[limit.into()])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect()
}
