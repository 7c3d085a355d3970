//! Maintenance windows set by hand (the `alert_maintenance` table), as the pages and the API
//! read them: with the names of their CI and of who set them. (`events` writes and removes
//! them, and asks whether one holds an alert back.)

use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::MaintenanceWindowId;

use super::events::MaintenanceWindow;

/// A window with the name of who set it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowListed {
    pub window: MaintenanceWindow,
    pub created_by_name: Option<String>,
}

const COLUMNS: &str = "w.id, w.ci_id, c.name, w.node, w.starts_at, w.ends_at, w.reason, \
    w.created_by, w.created_at, p.name";
const FROM: &str = "alert_maintenance w LEFT JOIN ci c ON c.id = w.ci_id \
    LEFT JOIN person p ON p.id = w.created_by";

fn listed(r: &Row) -> StoreResult<WindowListed> {
    Ok(WindowListed {
        window: MaintenanceWindow {
            id: r.get(0)?,
            ci_id: r.get(1)?,
            ci_name: r.get(2)?,
            node: r.get(3)?,
            starts_at: r.get(4)?,
            ends_at: r.get(5)?,
            reason: r.get(6)?,
            created_by: r.get(7)?,
            created_at: r.get(8)?,
        },
        created_by_name: r.get(9)?,
    })
}

/// A window by its id, if it is there.
pub async fn window(tx: &mut Tx<'_>, id: MaintenanceWindowId) -> StoreResult<Option<WindowListed>> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM {FROM} WHERE w.id = $1"),
        &[id.into()],
    )
    .await?
    .map(|r| listed(&r))
    .transpose()
}

/// The windows not ended by `now` (going on, then those to come), soonest first.
pub async fn current(tx: &mut Tx<'_>, now: Timestamp) -> StoreResult<Vec<WindowListed>> {
    tx.query(
        &format!("SELECT {COLUMNS} FROM {FROM} WHERE w.ends_at > $1 ORDER BY w.starts_at, w.id"),
        &[now.into()],
    )
    .await?
    .iter()
    .map(listed)
    .collect()
}

/// The windows that ended in `[since, now]`, those ended last first, at most `limit`.
pub async fn ended(
    tx: &mut Tx<'_>,
    since: Timestamp,
    now: Timestamp,
    limit: i64,
) -> StoreResult<Vec<WindowListed>> {
    tx.query(
        &format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE w.ends_at <= $2 AND w.ends_at >= $1 \
             ORDER BY w.ends_at DESC, w.id DESC LIMIT $3"
        ),
        &[since.into(), now.into(), limit.into()],
    )
    .await?
    .iter()
    .map(listed)
    .collect()
}

/// Ends a window going on at `now`: whether it was going on.
pub async fn end_now(
    tx: &mut Tx<'_>,
    id: MaintenanceWindowId,
    now: Timestamp,
) -> StoreResult<bool> {
    Ok(tx
        .execute(
            "UPDATE alert_maintenance SET ends_at = $2 WHERE id = $1 AND starts_at <= $2 \
             AND ends_at > $2",
            &[id.into(), now.into()],
        )
        .await?
        == 1)
}
