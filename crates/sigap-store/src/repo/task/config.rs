//! What an administrator sets for every process: the priority matrix, categories,
//! assignment rules and settings.

use super::{level, priority};
use crate::error::StoreResult;
use crate::tx::Tx;
use sigap_domain::task::MatrixRow;
use sigap_domain::{CiId, GroupId, RuleId, ServiceId};

/// The priority matrix's rows (kept by the node: every create reads them).
pub async fn matrix_rows(tx: &mut Tx<'_>) -> StoreResult<Vec<MatrixRow>> {
    let generation = match tx.kept("priority_rule") {
        Ok(copy) => return Ok(copy),
        Err(g) => g,
    };
    let rows = tx
        .query(
            "SELECT impact, urgency, priority FROM priority_rule ORDER BY impact, urgency",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            let p: i64 = r.get(2)?;
            Ok(MatrixRow {
                impact: level(0, r.get(0)?)?,
                urgency: level(1, r.get(1)?)?,
                priority: priority(2, p)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    tx.keep("priority_rule", generation, &rows);
    Ok(rows)
}

pub async fn set_matrix_rows(tx: &mut Tx<'_>, rows: &[MatrixRow]) -> StoreResult<()> {
    tx.config_changes();
    tx.execute("DELETE FROM priority_rule", &[]).await?;
    for r in rows {
        tx.execute(
            "INSERT INTO priority_rule (impact, urgency, priority) VALUES ($1, $2, $3)",
            &[
                r.impact.get().into(),
                r.urgency.get().into(),
                r.priority.get().into(),
            ],
        )
        .await?;
    }
    Ok(())
}

// ----- categories -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    pub code: String,
    pub name: String,
    pub parent_code: Option<String>,
    pub active: bool,
    pub sort_order: i64,
}

pub async fn categories(tx: &mut Tx<'_>) -> StoreResult<Vec<Category>> {
    tx.query(
        "SELECT code, name, parent_code, active, sort_order FROM incident_category \
         ORDER BY sort_order, name, code",
        &[],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Category {
            code: r.get(0)?,
            name: r.get(1)?,
            parent_code: r.get(2)?,
            active: r.get(3)?,
            sort_order: r.get(4)?,
        })
    })
    .collect()
}

pub async fn upsert_category(tx: &mut Tx<'_>, c: &Category) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO incident_category (code, name, parent_code, active, sort_order) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code, \
         active = excluded.active, sort_order = excluded.sort_order",
        &[
            c.code.as_str().into(),
            c.name.as_str().into(),
            c.parent_code.as_deref().into(),
            c.active.into(),
            c.sort_order.into(),
        ],
    )
    .await?;
    Ok(())
}

// ----- assignment rules -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssignmentRule {
    pub id: RuleId,
    pub sort_order: i64,
    pub category: Option<String>,
    pub service_id: Option<ServiceId>,
    pub ci_id: Option<CiId>,
    pub group_id: GroupId,
    pub active: bool,
}

/// The assignment rules in their order (kept by the node: every create reads them).
pub async fn rules(tx: &mut Tx<'_>) -> StoreResult<Vec<AssignmentRule>> {
    let generation = match tx.kept("assignment_rule") {
        Ok(copy) => return Ok(copy),
        Err(g) => g,
    };
    let rules = tx
        .query(
            "SELECT id, sort_order, category, service_id, ci_id, group_id, active FROM assignment_rule \
             ORDER BY sort_order, id",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(AssignmentRule {
                id: r.get(0)?,
                sort_order: r.get(1)?,
                category: r.get(2)?,
                service_id: r.get(3)?,
                ci_id: r.get(4)?,
                group_id: r.get(5)?,
                active: r.get(6)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    tx.keep("assignment_rule", generation, &rules);
    Ok(rules)
}

pub async fn insert_rule(tx: &mut Tx<'_>, r: &AssignmentRule) -> StoreResult<()> {
    tx.config_changes();
    tx.execute(
        "INSERT INTO assignment_rule (id, sort_order, category, service_id, ci_id, group_id, active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            r.id.into(),
            r.sort_order.into(),
            r.category.as_deref().into(),
            r.service_id.into(),
            r.ci_id.into(),
            r.group_id.into(),
            r.active.into(),
        ],
    )
    .await?;
    Ok(())
}

pub async fn delete_rule(tx: &mut Tx<'_>, id: RuleId) -> StoreResult<bool> {
    tx.config_changes();
    Ok(tx
        .execute("DELETE FROM assignment_rule WHERE id = $1", &[id.into()])
        .await?
        > 0)
}

// ----- settings -----

pub async fn setting(tx: &mut Tx<'_>, key: &str) -> StoreResult<Option<serde_json::Value>> {
    tx.query_opt(
        "SELECT value FROM app_setting WHERE key = $1",
        &[key.into()],
    )
    .await?
    .map(|r| r.get(0))
    .transpose()
}

pub async fn set_setting(tx: &mut Tx<'_>, key: &str, value: &serde_json::Value) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO app_setting (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        &[key.into(), value.into()],
    )
    .await?;
    Ok(())
}
