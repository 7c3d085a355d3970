//! Nodes and schema upgrades: each serving node's heartbeat in the database, and whether the
//! migrations a program would apply leave every running node able to serve
//! (`sigap migrate --check`).

use crate::Core;
use crate::error::AppResult;
use jiff::{SignedDuration, Timestamp};
use sigap_store::Store;
use sigap_store::nodes::{self, Node};
pub use sigap_store::{Fit, Pending, SchemaStatus};

/// How often a serving node says it is there.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(30);

/// A node not heard of for this long is taken as gone.
pub const SEEN_WITHIN: SignedDuration = SignedDuration::from_secs(120);

/// A node not heard of for this long is forgotten.
const FORGOTTEN_AFTER: SignedDuration = SignedDuration::from_hours(24);

/// This node, as its heartbeat records it.
#[derive(Debug, Clone)]
pub struct Me {
    pub id: String,
    pub host: String,
    pub started_at: Timestamp,
}

impl Me {
    /// A new node on `host` (what people know it by: a host name and an address).
    pub fn new(host: String, now: Timestamp) -> AppResult<Me> {
        Ok(Me {
            id: hex::encode(crate::secrets::random_bytes::<8>()?),
            host,
            started_at: now,
        })
    }
}

/// Records this node's heartbeat.
pub async fn beat(core: &Core, me: &Me) -> AppResult<()> {
    let now = core.now();
    let node = Node {
        id: me.id.clone(),
        host: me.host.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        schema_latest: sigap_store::latest_schema(core.store.dialect()),
        started_at: me.started_at,
        seen_at: now,
    };
    let forget = now - FORGOTTEN_AFTER;
    core.store
        .write(async move |tx| Ok(nodes::beat(tx, &node, forget).await?))
        .await
}

/// This node is leaving (it shuts down).
pub async fn leave(core: &Core, me: &Me) -> AppResult<()> {
    let id = me.id.clone();
    core.store
        .write(async move |tx| Ok(nodes::leave(tx, &id).await?))
        .await
}

/// What applying this program's pending migrations would do to the running nodes.
#[derive(Debug, Clone)]
pub struct Check {
    pub status: SchemaStatus,
    pub pending: Vec<Pending>,
    /// What the schema needs of the programs once they are applied.
    pub needs_after: i64,
    /// The nodes seen lately, each with whether it still serves once they are applied.
    pub nodes: Vec<(Node, bool)>,
}

impl Check {
    /// Whether every node seen lately still serves once the pending migrations are applied.
    pub fn compatible(&self) -> bool {
        self.nodes.iter().all(|(_, ok)| *ok)
    }
}

/// Weighs the pending migrations against the nodes seen lately, without applying any (the
/// database is only read; a database without the node ledger yet has no nodes).
pub async fn check(store: &Store, now: Timestamp) -> AppResult<Check> {
    let status = store.schema_status().await?;
    let pending = store.pending().await?;
    let needs_after = pending.iter().map(|p| p.needs).fold(status.needs, i64::max);
    let since = now - SEEN_WITHIN;
    let seen = store
        .read(async move |tx| match nodes::seen_since(tx, since).await {
            Ok(n) => Ok(n),
            // No node ledger yet: the nodes running are older than it, and unknown.
            Err(sigap_store::StoreError::Sqlite(_) | sigap_store::StoreError::Postgres(_)) => {
                Ok(Vec::new())
            }
            Err(e) => Err(e),
        })
        .await?;
    let nodes = seen
        .into_iter()
        .map(|n| {
            let ok = n.schema_latest >= needs_after;
            (n, ok)
        })
        .collect();
    Ok(Check {
        status,
        pending,
        needs_after,
        nodes,
    })
}
