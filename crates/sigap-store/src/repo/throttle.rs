//! Counting failed sign-ins per account and per address.

use crate::error::StoreResult;
use crate::tx::Tx;
use jiff::{SignedDuration, Timestamp};

/// When a key is locked, until when.
pub async fn locked_until(
    tx: &mut Tx<'_>,
    key: &str,
    now: Timestamp,
) -> StoreResult<Option<Timestamp>> {
    let row = tx
        .query_opt(
            "SELECT locked_until FROM login_throttle WHERE throttle_key = $1 AND locked_until > $2",
            &[key.into(), now.into()],
        )
        .await?;
    match row {
        Some(r) => r.get(0),
        None => Ok(None),
    }
}

/// Counts a failure: the count restarts once `window` has passed since the first failure;
/// reaching `max` locks the key for `lock_for`. Returns the lock's end, if now locked.
pub async fn record_failure(
    tx: &mut Tx<'_>,
    key: &str,
    now: Timestamp,
    window: SignedDuration,
    max: i64,
    lock_for: SignedDuration,
) -> StoreResult<Option<Timestamp>> {
    let row = tx
        .query_opt(
            "SELECT failures, window_start FROM login_throttle WHERE throttle_key = $1",
            &[key.into()],
        )
        .await?;
    let (failures, start) = match row {
        Some(r) => {
            let failures: i64 = r.get(0)?;
            let start: Timestamp = r.get(1)?;
            if now.duration_since(start) > window {
                (1, now)
            } else {
                (failures + 1, start)
            }
        }
        None => (1, now),
    };
    let locked = (failures >= max).then(|| now.saturating_add(lock_for).unwrap_or(now));
    tx.execute(
        "INSERT INTO login_throttle (throttle_key, failures, window_start, locked_until) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (throttle_key) DO UPDATE SET failures = excluded.failures, \
         window_start = excluded.window_start, locked_until = excluded.locked_until",
        &[key.into(), failures.into(), start.into(), locked.into()],
    )
    .await?;
    Ok(locked)
}

pub async fn clear(tx: &mut Tx<'_>, key: &str) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM login_throttle WHERE throttle_key = $1",
        &[key.into()],
    )
    .await
    .map(|_| ())
}

pub async fn purge(tx: &mut Tx<'_>, before: Timestamp) -> StoreResult<u64> {
    tx.execute(
        "DELETE FROM login_throttle WHERE window_start < $1 AND (locked_until IS NULL OR locked_until < $1)",
        &[before.into()],
    )
    .await
}
