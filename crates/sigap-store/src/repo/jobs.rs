//! The job table: enqueue inside the caller's transaction, claim with a lease, retry with
//! back-off; and the leader lease for periodic work. No advisory locks, no LISTEN/NOTIFY.

use crate::error::StoreResult;
use crate::tx::{Dialect, Tx};
use crate::value::Row;
use jiff::Timestamp;
use serde_json::Value;
use sigap_domain::JobId;

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: JobId,
    pub kind: String,
    pub payload: Value,
    /// Attempts so far, including the one just claimed.
    pub attempts: i64,
    pub max_attempts: i64,
}

pub async fn enqueue(
    tx: &mut Tx<'_>,
    kind: &str,
    payload: &Value,
    run_at: Timestamp,
    max_attempts: i64,
    now: Timestamp,
) -> StoreResult<JobId> {
    let id = JobId::new();
    tx.execute(
        "INSERT INTO job (id, kind, payload, state, run_at, attempts, max_attempts, created_at) \
         VALUES ($1, $2, $3, 'queued', $4, 0, $5, $6)",
        &[
            id.into(),
            kind.into(),
            payload.into(),
            run_at.into(),
            max_attempts.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// Enqueues many jobs of one kind at once, one per payload.
pub async fn enqueue_many(
    tx: &mut Tx<'_>,
    kind: &str,
    payloads: &[Value],
    run_at: Timestamp,
    max_attempts: i64,
    now: Timestamp,
) -> StoreResult<()> {
    tx.insert_rows(
        "job",
        "id, kind, payload, state, run_at, attempts, max_attempts, created_at",
        payloads,
        |p, out| {
            out.extend::<[crate::value::P<'_>; _]>([
                JobId::new().into(),
                kind.into(),
                p.into(),
                "queued".into(),
                run_at.into(),
                0i64.into(),
                max_attempts.into(),
                now.into(),
            ])
        },
    )
    .await
}

const CLAIM_POSTGRES: &str = "UPDATE job SET state = 'running', locked_by = $1, locked_until = $2, \
    attempts = attempts + 1 WHERE id IN (SELECT id FROM job WHERE (state = 'queued' AND run_at <= $3) \
    OR (state = 'running' AND locked_until < $3) ORDER BY run_at LIMIT $4 FOR UPDATE SKIP LOCKED) \
    RETURNING id, kind, payload, attempts, max_attempts";
// One writer: the statement is atomic without row locks.
const CLAIM_SQLITE: &str = "UPDATE job SET state = 'running', locked_by = $1, locked_until = $2, \
    attempts = attempts + 1 WHERE id IN (SELECT id FROM job WHERE (state = 'queued' AND run_at <= $3) \
    OR (state = 'running' AND locked_until < $3) ORDER BY run_at LIMIT $4) \
    RETURNING id, kind, payload, attempts, max_attempts";

fn from_row(r: &Row) -> StoreResult<Job> {
    Ok(Job {
        id: r.get(0)?,
        kind: r.get(1)?,
        payload: r.get(2)?,
        attempts: r.get(3)?,
        max_attempts: r.get(4)?,
    })
}

/// Claims up to `limit` due jobs (or jobs whose lease ran out) for `worker` until `lease_until`.
pub async fn claim(
    tx: &mut Tx<'_>,
    worker: &str,
    now: Timestamp,
    lease_until: Timestamp,
    limit: i64,
) -> StoreResult<Vec<Job>> {
    let sql = match tx.dialect() {
        Dialect::Postgres => CLAIM_POSTGRES,
        Dialect::Sqlite => CLAIM_SQLITE,
    };
    tx.query(
        sql,
        &[worker.into(), lease_until.into(), now.into(), limit.into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Marks a job done, if `worker` still holds it.
pub async fn complete(
    tx: &mut Tx<'_>,
    id: JobId,
    worker: &str,
    now: Timestamp,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE job SET state = 'done', locked_by = NULL, locked_until = NULL, finished_at = $3 \
             WHERE id = $1 AND locked_by = $2 AND state = 'running'",
            &[id.into(), worker.into(), now.into()],
        )
        .await?;
    Ok(n > 0)
}

/// Records a failure: queued again at `retry_at`, or failed for good when that is `None`.
pub async fn fail(
    tx: &mut Tx<'_>,
    id: JobId,
    worker: &str,
    error: &str,
    now: Timestamp,
    retry_at: Option<Timestamp>,
) -> StoreResult<bool> {
    let n = match retry_at {
        Some(at) => {
            tx.execute(
                "UPDATE job SET state = 'queued', run_at = $4, locked_by = NULL, locked_until = NULL, \
                 last_error = $3 WHERE id = $1 AND locked_by = $2 AND state = 'running'",
                &[id.into(), worker.into(), error.into(), at.into()],
            )
            .await?
        }
        None => {
            tx.execute(
                "UPDATE job SET state = 'failed', finished_at = $4, locked_by = NULL, locked_until = NULL, \
                 last_error = $3 WHERE id = $1 AND locked_by = $2 AND state = 'running'",
                &[id.into(), worker.into(), error.into(), now.into()],
            )
            .await?
        }
    };
    Ok(n > 0)
}

/// Hands back every job `worker` holds (at shutdown), without counting the attempt.
pub async fn release_all(tx: &mut Tx<'_>, worker: &str) -> StoreResult<u64> {
    tx.execute(
        "UPDATE job SET state = 'queued', locked_by = NULL, locked_until = NULL, attempts = attempts - 1 \
         WHERE locked_by = $1 AND state = 'running'",
        &[worker.into()],
    )
    .await
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct JobCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub failed: i64,
}

pub async fn counts(tx: &mut Tx<'_>) -> StoreResult<JobCounts> {
    let rows = tx
        .query("SELECT state, count(*) FROM job GROUP BY state", &[])
        .await?;
    let mut c = JobCounts::default();
    for r in rows {
        let state: String = r.get(0)?;
        let n: i64 = r.get(1)?;
        match state.as_str() {
            "queued" => c.queued = n,
            "running" => c.running = n,
            "done" => c.done = n,
            _ => c.failed += n,
        }
    }
    Ok(c)
}

/// Deletes finished jobs older than `before`.
pub async fn purge_finished(tx: &mut Tx<'_>, before: Timestamp) -> StoreResult<u64> {
    tx.execute(
        "DELETE FROM job WHERE state IN ('done', 'failed') AND finished_at < $1",
        &[before.into()],
    )
    .await
}

/// Takes or renews the named leader lease; true when `holder` holds it until `until`.
pub async fn acquire_leader(
    tx: &mut Tx<'_>,
    name: &str,
    holder: &str,
    now: Timestamp,
    until: Timestamp,
) -> StoreResult<bool> {
    let row = tx
        .query_opt(
            "INSERT INTO leader_lease (name, holder, expires_at) VALUES ($1, $2, $4) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
             WHERE leader_lease.holder = excluded.holder OR leader_lease.expires_at < $3 \
             RETURNING holder",
            &[name.into(), holder.into(), now.into(), until.into()],
        )
        .await?;
    Ok(row.is_some())
}

pub async fn release_leader(tx: &mut Tx<'_>, name: &str, holder: &str) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM leader_lease WHERE name = $1 AND holder = $2",
        &[name.into(), holder.into()],
    )
    .await
    .map(|_| ())
}
