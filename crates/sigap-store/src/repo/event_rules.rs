//! Event rules as stored: each a name, a kind, a place in the order, and its definition
//! (conditions and action) as JSON, parsed by `sigap_domain::event::rules`.

use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::EventRuleId;

#[derive(Debug, Clone, PartialEq)]
pub struct EventRule {
    pub id: EventRuleId,
    pub name: String,
    pub kind: String,
    pub position: i64,
    pub active: bool,
    pub description: String,
    pub definition: serde_json::Value,
    pub hits: i64,
    pub last_hit_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

const COLUMNS: &str = "id, name, kind, position, active, description, definition, hits, \
    last_hit_at, created_at, updated_at, version";

fn rule_row(r: &Row) -> StoreResult<EventRule> {
    Ok(EventRule {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        position: r.get(3)?,
        active: r.get(4)?,
        description: r.get(5)?,
        definition: r.get(6)?,
        hits: r.get(7)?,
        last_hit_at: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        version: r.get(11)?,
    })
}

/// The rules in their order (active ones only when `active_only`).
pub async fn rules(tx: &mut Tx<'_>, active_only: bool) -> StoreResult<Vec<EventRule>> {
    let cond = if active_only { "WHERE active" } else { "" };
    tx.query(
        &format!("SELECT {COLUMNS} FROM event_rule {cond} ORDER BY position, name"),
        &[],
    )
    .await?
    .iter()
    .map(rule_row)
    .collect()
}

pub async fn rule(tx: &mut Tx<'_>, id: EventRuleId) -> StoreResult<EventRule> {
    tx.query_one(
        &format!("SELECT {COLUMNS} FROM event_rule WHERE id = $1"),
        &[id.into()],
    )
    .await
    .and_then(|r| rule_row(&r))
}

pub async fn count(tx: &mut Tx<'_>) -> StoreResult<i64> {
    tx.query_one("SELECT COUNT(*) FROM event_rule", &[])
        .await?
        .get(0)
}

pub async fn insert(tx: &mut Tx<'_>, r: &EventRule) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO event_rule (id, name, kind, position, active, description, definition, \
         hits, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $8, 1)",
        &[
            r.id.into(),
            r.name.as_str().into(),
            r.kind.as_str().into(),
            r.position.into(),
            r.active.into(),
            r.description.as_str().into(),
            (&r.definition).into(),
            r.created_at.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Writes a rule's fields over the stored ones at `r.version`; whether it was still at it.
pub async fn update(tx: &mut Tx<'_>, r: &EventRule) -> StoreResult<bool> {
    Ok(tx
        .execute(
            "UPDATE event_rule SET name = $2, kind = $3, position = $4, active = $5, \
             description = $6, definition = $7, updated_at = $8, version = version + 1 \
             WHERE id = $1 AND version = $9",
            &[
                r.id.into(),
                r.name.as_str().into(),
                r.kind.as_str().into(),
                r.position.into(),
                r.active.into(),
                r.description.as_str().into(),
                (&r.definition).into(),
                r.updated_at.into(),
                r.version.into(),
            ],
        )
        .await?
        == 1)
}

pub async fn delete(tx: &mut Tx<'_>, id: EventRuleId) -> StoreResult<bool> {
    Ok(tx
        .execute("DELETE FROM event_rule WHERE id = $1", &[id.into()])
        .await?
        > 0)
}

/// Counts what a rule matched.
pub async fn add_hits(tx: &mut Tx<'_>, id: EventRuleId, n: i64, now: Timestamp) -> StoreResult<()> {
    tx.execute(
        "UPDATE event_rule SET hits = hits + $2, last_hit_at = $3 WHERE id = $1",
        &[id.into(), n.into(), now.into()],
    )
    .await?;
    Ok(())
}

/// The CI whose name, serial or attribute (`attribute` a member of its attributes) equals
/// `value`, retired ones aside; the first by id when several do.
pub async fn ci_by(
    tx: &mut Tx<'_>,
    what: &sigap_domain::event::rules::CiAttribute,
    value: &str,
) -> StoreResult<Option<sigap_domain::CiId>> {
    use sigap_domain::event::rules::CiAttribute;
    let key;
    let v = value.trim();
    let (cond, params): (&str, Vec<crate::value::P<'_>>) = match what {
        CiAttribute::Name => {
            key = super::name_key(v);
            ("name_key = $1", vec![key.as_str().into()])
        }
        CiAttribute::Serial => ("serial = $1", vec![v.into()]),
        CiAttribute::Attribute(a) => (
            match tx.dialect() {
                // The name is letters, digits, _ and - only (CiAttribute::parse).
                crate::tx::Dialect::Sqlite => {
                    "CAST(json_extract(attributes, '$.\"' || $2 || '\"') AS TEXT) = $1"
                }
                crate::tx::Dialect::Postgres => "attributes ->> $2 = $1",
            },
            vec![v.into(), a.as_str().into()],
        ),
    };
    let sql = format!("SELECT id FROM ci WHERE {cond} AND status <> 'retired' ORDER BY id LIMIT 1");
    tx.query_opt(&sql, &params)
        .await?
        .map(|r| r.get(0))
        .transpose()
}
