//! The audit log: append-only and hash-chained. Each row's hash covers its content and the
//! previous row's hash, so an altered or removed row breaks the chain from there on.

use crate::error::{StoreError, StoreResult};
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sigap_domain::PersonId;

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub actor_id: Option<PersonId>,
    pub actor: String,
    pub request_id: String,
    pub record_type: String,
    pub record_id: String,
    /// `create`, `update` or `delete`.
    pub action: &'static str,
    /// `{ field: [before, after] }`.
    pub changes: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AuditRow {
    pub seq: i64,
    pub at: Timestamp,
    pub actor_id: Option<PersonId>,
    pub actor: String,
    pub request_id: String,
    pub record_type: String,
    pub record_id: String,
    pub action: String,
    pub changes: Value,
    pub prev_hash: String,
    pub hash: String,
}

/// JSON with object keys sorted at every level, so the text hashed does not depend on how an
/// engine stores JSON (PostgreSQL's JSONB reorders keys).
fn canonical_json(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String((*k).clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(*k) {
                    canonical_json(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical_json(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[allow(clippy::too_many_arguments)]
fn row_hash(
    seq: i64,
    at: Timestamp,
    actor_id: Option<PersonId>,
    actor: &str,
    request_id: &str,
    record_type: &str,
    record_id: &str,
    action: &str,
    changes: &Value,
    prev_hash: &str,
) -> String {
    let mut changes_text = String::new();
    canonical_json(changes, &mut changes_text);
    let mut h = Sha256::new();
    for part in [
        seq.to_string().as_str(),
        at.as_microsecond().to_string().as_str(),
        actor_id.map(|a| a.to_string()).unwrap_or_default().as_str(),
        actor,
        request_id,
        record_type,
        record_id,
        action,
        changes_text.as_str(),
        prev_hash,
    ] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// An entry's place in the chain: its sequence number, its time as stored (to the
/// microsecond, so hashed exactly so), the hash before it and its own.
struct Link {
    seq: i64,
    at: Timestamp,
    prev_hash: String,
    hash: String,
}

impl Link {
    fn of(e: &AuditEntry, seq: i64, prev_hash: String) -> Link {
        let at = Timestamp::from_microsecond(e.at.as_microsecond()).unwrap_or(e.at);
        let hash = row_hash(
            seq,
            at,
            e.actor_id,
            &e.actor,
            &e.request_id,
            &e.record_type,
            &e.record_id,
            e.action,
            &e.changes,
            &prev_hash,
        );
        Link {
            seq,
            at,
            prev_hash,
            hash,
        }
    }

    /// The row's parameters, in `INSERT`'s order.
    fn params<'a>(&'a self, e: &'a AuditEntry) -> [crate::value::P<'a>; 11] {
        [
            self.seq.into(),
            self.at.into(),
            e.actor_id.into(),
            e.actor.as_str().into(),
            e.request_id.as_str().into(),
            e.record_type.as_str().into(),
            e.record_id.as_str().into(),
            e.action.into(),
            (&e.changes).into(),
            self.prev_hash.as_str().into(),
            self.hash.as_str().into(),
        ]
    }
}

/// The head of an audit row's insert, before its `VALUES` rows.
const INSERT: &str = "INSERT INTO audit_log (seq, at, actor_id, actor, request_id, \
    record_type, record_id, action, changes, prev_hash, hash) VALUES ";

/// Appends one entry; the head row serialises concurrent appenders.
pub async fn append(tx: &mut Tx<'_>, e: &AuditEntry) -> StoreResult<i64> {
    let head = tx
        .query_one(
            "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash",
            &[],
        )
        .await?;
    let link = Link::of(e, head.get(0)?, head.get(1)?);
    let params = link.params(e);
    let insert = format!("{INSERT}($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)");
    match tx.dialect() {
        // The row and the head's new hash in one statement: one round trip less a write.
        crate::tx::Dialect::Postgres => {
            tx.execute(
                &format!(
                    "WITH written AS ({insert}) UPDATE audit_head SET hash = $11 WHERE id = 1"
                ),
                &params,
            )
            .await?;
        }
        crate::tx::Dialect::Sqlite => {
            tx.execute(&insert, &params).await?;
            tx.execute(
                "UPDATE audit_head SET hash = $1 WHERE id = 1",
                &[link.hash.as_str().into()],
            )
            .await?;
        }
    }
    Ok(link.seq)
}

/// Appends entries in their order, as many `append`s would, in a few statements: the head
/// moved once by their number, their hashes chained here, and the rows written in chunks of
/// a multi-row `VALUES` (an import writes a hundred thousand of them).
pub async fn append_many(tx: &mut Tx<'_>, entries: &[AuditEntry]) -> StoreResult<()> {
    let Ok(n) = i64::try_from(entries.len()) else {
        return Err(crate::StoreError::Decode {
            column: 0,
            detail: "too many audit entries at once".into(),
        });
    };
    if n == 0 {
        return Ok(());
    }
    let head = tx
        .query_one(
            "UPDATE audit_head SET seq = seq + $1 WHERE id = 1 RETURNING seq, hash",
            &[n.into()],
        )
        .await?;
    let last: i64 = head.get(0)?;
    let mut prev_hash: String = head.get(1)?;
    let mut rows: Vec<(&AuditEntry, Link)> = Vec::with_capacity(entries.len());
    for (k, e) in entries.iter().enumerate() {
        let link = Link::of(e, last - n + 1 + k as i64, prev_hash);
        prev_hash = link.hash.clone();
        rows.push((e, link));
    }
    for chunk in rows.chunks(256) {
        let mut sql = String::from(INSERT);
        let mut params = Vec::with_capacity(chunk.len() * 11);
        super::values_rows(&mut sql, &mut params, chunk, 11, ")", |_, (e, l), out| {
            out.extend(l.params(e))
        });
        tx.execute(&sql, &params).await?;
    }
    tx.execute(
        "UPDATE audit_head SET hash = $1 WHERE id = 1",
        &[prev_hash.as_str().into()],
    )
    .await?;
    Ok(())
}

const COLUMNS: &str = "seq, at, actor_id, actor, request_id, record_type, record_id, action, changes, prev_hash, hash";

fn from_row(r: &Row) -> StoreResult<AuditRow> {
    Ok(AuditRow {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor_id: r.get(2)?,
        actor: r.get(3)?,
        request_id: r.get(4)?,
        record_type: r.get(5)?,
        record_id: r.get(6)?,
        action: r.get(7)?,
        changes: r.get(8)?,
        prev_hash: r.get(9)?,
        hash: r.get(10)?,
    })
}

/// A record's history, oldest first, after `after_seq`.
pub async fn history(
    tx: &mut Tx<'_>,
    record_type: &str,
    record_id: &str,
    after_seq: i64,
    limit: i64,
) -> StoreResult<Vec<AuditRow>> {
    tx.query(
        &format!(
            "SELECT {COLUMNS} FROM audit_log WHERE record_type = $1 AND record_id = $2 AND seq > $3 \
             ORDER BY seq LIMIT $4"
        ),
        &[record_type.into(), record_id.into(), after_seq.into(), limit.into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    pub rows_checked: i64,
    pub head_seq: i64,
    /// The first row that is not what was written: its sequence number and why.
    pub first_bad: Option<(i64, String)>,
}

/// Walks a batch of the chain; returns the last seq and hash checked, or the first break.
pub async fn verify_batch(
    tx: &mut Tx<'_>,
    after_seq: i64,
    prev_hash: &str,
    limit: i64,
) -> StoreResult<(Vec<AuditRow>, Option<(i64, String)>, String)> {
    let rows = tx
        .query(
            &format!("SELECT {COLUMNS} FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2"),
            &[after_seq.into(), limit.into()],
        )
        .await?;
    let mut prev = prev_hash.to_owned();
    let mut checked = Vec::with_capacity(rows.len());
    for (expected_seq, r) in (after_seq + 1..).zip(rows.iter()) {
        let row = match from_row(r) {
            Ok(row) => row,
            Err(StoreError::Decode { detail, .. }) => {
                let seq: i64 = r.get(0).unwrap_or(expected_seq);
                return Ok((
                    checked,
                    Some((seq, format!("row cannot be read: {detail}"))),
                    prev,
                ));
            }
            Err(e) => return Err(e),
        };
        if row.seq != expected_seq {
            return Ok((
                checked,
                Some((expected_seq, format!("row {expected_seq} is missing"))),
                prev,
            ));
        }
        if row.prev_hash != prev {
            return Ok((
                checked,
                Some((row.seq, "the link to the previous row is broken".into())),
                prev,
            ));
        }
        let hash = row_hash(
            row.seq,
            row.at,
            row.actor_id,
            &row.actor,
            &row.request_id,
            &row.record_type,
            &row.record_id,
            &row.action,
            &row.changes,
            &row.prev_hash,
        );
        if hash != row.hash {
            return Ok((
                checked,
                Some((row.seq, "the row's content was altered".into())),
                prev,
            ));
        }
        prev = row.hash.clone();
        checked.push(row);
    }
    Ok((checked, None, prev))
}

/// The head: the last sequence number handed out and its hash.
pub async fn head(tx: &mut Tx<'_>) -> StoreResult<(i64, String)> {
    let r = tx
        .query_one("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
        .await?;
    Ok((r.get(0)?, r.get(1)?))
}
