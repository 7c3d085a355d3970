//! Chaining the audit entries that PostgreSQL writers leave pending, after they commit.
//!
//! A writer on PostgreSQL does not take the audit chain's head (that would make every writer
//! wait for the previous one's commit): its entry waits in `audit_pending`, and once its
//! transaction has committed the writer makes sure a chaining run that began after that
//! commit has ended before it answers. Runs on a node take turns: a writer that finds a run
//! under way waits for it, and then either finds that a later run already took its entry or
//! runs one itself, which takes every entry committed until then. So under load one run (one
//! commit) chains the entries of many writers, and the chain stays as it was: every entry in
//! it by the time its writer answers. Runs of several nodes take turns on the head's row.

use crate::error::StoreResult;
use crate::pg_write::Held;
use crate::tx::Tx;
use std::sync::atomic::{AtomicU64, Ordering};

/// This node's chaining runs: how many began and how many ended, and whose turn it is.
#[derive(Debug, Default)]
pub(crate) struct ChainRuns {
    turn: tokio::sync::Mutex<()>,
    begun: AtomicU64,
    ended: AtomicU64,
}

impl ChainRuns {
    /// Makes sure the entries the caller committed before calling are chained: by a run that
    /// began after this call, the caller's own if need be. A failed run leaves them pending
    /// for the next one (of any writer, or the periodic [`crate::Store::chain_audit`]).
    pub(crate) async fn after_commit(&self, client: &Held) -> StoreResult<()> {
        let seen = self.begun.load(Ordering::Acquire);
        let _turn = self.turn.lock().await;
        if self.ended.load(Ordering::Acquire) > seen {
            // Run `seen + 1` began after the caller's commit, and it has ended.
            return Ok(());
        }
        self.run(client).await.map(|_| ())
    }

    /// One run: every pending entry committed so far into the chain, in one transaction.
    /// Call it holding the turn.
    async fn run(&self, client: &Held) -> StoreResult<usize> {
        self.begun.fetch_add(1, Ordering::AcqRel);
        let outcome = chain_once(client).await;
        self.ended.fetch_add(1, Ordering::AcqRel);
        outcome
    }

    /// A run now, in turn with the node's writers: for the periodic sweep and `audit verify`.
    pub(crate) async fn run_now(&self, client: &Held) -> StoreResult<usize> {
        let _turn = self.turn.lock().await;
        self.run(client).await
    }
}

/// A run's transaction: `BEGIN`, the head's lock and the pending entries in one round trip,
/// the chained rows, the head and `COMMIT` in another.
async fn chain_once(client: &Held) -> StoreResult<usize> {
    let mut t = Tx::pg_write(client);
    match crate::repo::audit::chain_pending(&mut t).await {
        // Nothing to chain: the head was only locked; nothing to wait for on the disk.
        Ok(0) => {
            t.rollback().await?;
            Ok(0)
        }
        Ok(n) => {
            t.commit().await?;
            Ok(n)
        }
        Err(e) => {
            let _ = t.rollback().await;
            Err(e)
        }
    }
}
