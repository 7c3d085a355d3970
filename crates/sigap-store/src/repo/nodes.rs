//! The nodes serving the database, as their heartbeats left them.

use crate::error::StoreResult;
use crate::tx::Tx;
use jiff::Timestamp;

/// A node as of its latest heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Random, new at every start.
    pub id: String,
    pub host: String,
    /// Sigap's version.
    pub version: String,
    /// The newest schema the node's program knows.
    pub schema_latest: i64,
    pub started_at: Timestamp,
    pub seen_at: Timestamp,
}

/// Records a node's heartbeat, and forgets the nodes not seen since `forget_before`.
pub async fn beat(tx: &mut Tx<'_>, n: &Node, forget_before: Timestamp) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO node (id, host, version, schema_latest, started_at, seen_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
        &[
            n.id.as_str().into(),
            n.host.as_str().into(),
            n.version.as_str().into(),
            n.schema_latest.into(),
            n.started_at.into(),
            n.seen_at.into(),
        ],
    )
    .await?;
    tx.execute(
        "DELETE FROM node WHERE seen_at < $1",
        &[forget_before.into()],
    )
    .await?;
    Ok(())
}

/// A node leaving (at its shutdown).
pub async fn leave(tx: &mut Tx<'_>, id: &str) -> StoreResult<()> {
    tx.execute("DELETE FROM node WHERE id = $1", &[id.into()])
        .await?;
    Ok(())
}

/// The nodes seen since `since`, the longest running first.
pub async fn seen_since(tx: &mut Tx<'_>, since: Timestamp) -> StoreResult<Vec<Node>> {
    tx.query(
        "SELECT id, host, version, schema_latest, started_at, seen_at FROM node \
         WHERE seen_at >= $1 ORDER BY started_at, id",
        &[since.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Node {
            id: r.get(0)?,
            host: r.get(1)?,
            version: r.get(2)?,
            schema_latest: r.get(3)?,
            started_at: r.get(4)?,
            seen_at: r.get(5)?,
        })
    })
    .collect()
}
