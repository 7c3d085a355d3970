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

/// One part of the text hashed: its length in bytes, then the bytes.
fn frame(out: &mut Vec<u8>, part: &str) {
    out.extend_from_slice(&(part.len() as u64).to_be_bytes());
    out.extend_from_slice(part.as_bytes());
}

/// What an entry alone decides of its hashed text (all but its number and the hash before it).
struct Parts<'a> {
    at: Timestamp,
    actor_id: Option<PersonId>,
    actor: &'a str,
    request_id: &'a str,
    record_type: &'a str,
    record_id: &'a str,
    action: &'a str,
    changes: &'a Value,
}

impl<'a> Parts<'a> {
    fn of_entry(at: Timestamp, e: &'a AuditEntry) -> Self {
        Parts {
            at,
            actor_id: e.actor_id,
            actor: &e.actor,
            request_id: &e.request_id,
            record_type: &e.record_type,
            record_id: &e.record_id,
            action: e.action,
            changes: &e.changes,
        }
    }

    fn of_row(r: &'a AuditRow) -> Self {
        Parts {
            at: r.at,
            actor_id: r.actor_id,
            actor: &r.actor,
            request_id: &r.request_id,
            record_type: &r.record_type,
            record_id: &r.record_id,
            action: &r.action,
            changes: &r.changes,
        }
    }

    /// The parts framed, in the hashed order, between the number and the hash before.
    fn framed(&self) -> Vec<u8> {
        let mut changes_text = String::new();
        canonical_json(self.changes, &mut changes_text);
        let mut out = Vec::with_capacity(changes_text.len() + 256);
        for part in [
            self.at.as_microsecond().to_string().as_str(),
            self.actor_id
                .map(|a| a.to_string())
                .unwrap_or_default()
                .as_str(),
            self.actor,
            self.request_id,
            self.record_type,
            self.record_id,
            self.action,
            changes_text.as_str(),
        ] {
            frame(&mut out, part);
        }
        out
    }

    /// The entry's hash: SHA-256 of its framed sequence number, time (to the microsecond),
    /// actor id, actor, request id, record type, record id, action, canonical changes, and
    /// the hash before it, in that order.
    fn hash(&self, seq: i64, prev_hash: &str) -> String {
        let mut text = Vec::new();
        frame(&mut text, &seq.to_string());
        text.extend(self.framed());
        frame(&mut text, prev_hash);
        hex::encode(Sha256::digest(&text))
    }
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
        let hash = Parts::of_entry(at, e).hash(seq, &prev_hash);
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

/// Appends an entry: it is chained and written when the transaction ends (`Tx::finish`),
/// after the transaction's earlier entries.
pub fn append(tx: &mut Tx<'_>, e: AuditEntry) {
    tx.audit.push(e);
}

/// Appends entries in their order, as many `append`s would.
pub fn append_many(tx: &mut Tx<'_>, entries: Vec<AuditEntry>) {
    tx.audit.extend(entries);
}

/// Writes a transaction's entries, in their order. On PostgreSQL a transaction's single
/// entry (the usual case) is left unchained in `audit_pending`, so that no writer waits for
/// another's commit: the store chains the pending entries right after the commit, many at a
/// time ([`chain_pending`]). More entries at once (an import's hundred thousand), and every
/// entry on SQLite (one writer), are chained here, after the pending ones.
pub(crate) async fn write_chained(tx: &mut Tx<'_>, entries: Vec<AuditEntry>) -> StoreResult<()> {
    match (entries.as_slice(), tx.dialect()) {
        ([], _) => Ok(()),
        ([e], crate::tx::Dialect::Postgres) => {
            let at = Timestamp::from_microsecond(e.at.as_microsecond()).unwrap_or(e.at);
            // Sent with the commit (the transaction's last statement).
            tx.execute_later(
                &format!("INSERT INTO audit_pending ({PENDING_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"),
                &[
                    at.into(),
                    e.actor_id.into(),
                    e.actor.as_str().into(),
                    e.request_id.as_str().into(),
                    e.record_type.as_str().into(),
                    e.record_id.as_str().into(),
                    e.action.into(),
                    (&e.changes).into(),
                ],
            )
            .await?;
            tx.audit_pending = true;
            Ok(())
        }
        _ => chain(tx, entries).await.map(|_| ()),
    }
}

/// Chains the entries left pending by committed transactions (PostgreSQL), in the order they
/// were written; returns how many. The caller commits, or rolls back when there were none.
pub async fn chain_pending(tx: &mut Tx<'_>) -> StoreResult<usize> {
    chain(tx, Vec::new()).await
}

const PENDING_COLUMNS: &str =
    "at, actor_id, actor, request_id, record_type, record_id, action, changes";

/// An action as the log's check allows it.
fn action_of(text: &str) -> StoreResult<&'static str> {
    match text {
        "create" => Ok("create"),
        "update" => Ok("update"),
        "delete" => Ok("delete"),
        other => Err(StoreError::Decode {
            column: 6,
            detail: format!("unknown audit action {other:?}"),
        }),
    }
}

/// Takes the head (every chainer waits for it until it commits), moves the committed pending
/// entries (PostgreSQL) and then `entries` into the chain, in that order, and moves the head
/// past them. Returns how many entries were chained.
async fn chain(tx: &mut Tx<'_>, entries: Vec<AuditEntry>) -> StoreResult<usize> {
    const HEAD: &str =
        "UPDATE audit_head SET seq = seq WHERE id = 1 RETURNING seq, hash, prev_hash";
    // PostgreSQL: the pending entries are read in the same round trip, right after the head
    // is taken (the second statement starts once the first has the lock).
    let (head, pending_rows) = match tx.dialect() {
        crate::tx::Dialect::Postgres => {
            let taking = format!("DELETE FROM audit_pending RETURNING id, {PENDING_COLUMNS}");
            let (head, pending) = tx.query_two((HEAD, &[]), (&taking, &[])).await?;
            (
                head.into_iter().next().ok_or(StoreError::NotFound)?,
                pending,
            )
        }
        crate::tx::Dialect::Sqlite => (tx.query_one(HEAD, &[]).await?, Vec::new()),
    };
    let first: i64 = head.get::<i64>(0)? + 1;
    let mut prev_hash: String = head.get(1)?;
    let mut before_last: String = head.get(2)?;
    let mut all = Vec::with_capacity(entries.len());
    if tx.dialect() == crate::tx::Dialect::Postgres {
        let mut pending: Vec<(i64, AuditEntry)> = Vec::new();
        for r in pending_rows {
            pending.push((
                r.get(0)?,
                AuditEntry {
                    at: r.get(1)?,
                    actor_id: r.get(2)?,
                    actor: r.get(3)?,
                    request_id: r.get(4)?,
                    record_type: r.get(5)?,
                    record_id: r.get(6)?,
                    action: action_of(&r.get::<String>(7)?)?,
                    changes: r.get(8)?,
                },
            ));
        }
        pending.sort_by_key(|(id, _)| *id);
        all.extend(pending.into_iter().map(|(_, e)| e));
    }
    all.extend(entries);
    if all.is_empty() {
        return Ok(0);
    }
    let mut rows: Vec<(&AuditEntry, Link)> = Vec::with_capacity(all.len());
    for (seq, e) in (first..).zip(all.iter()) {
        let link = Link::of(e, seq, prev_hash);
        before_last = link.prev_hash.clone();
        prev_hash = link.hash.clone();
        rows.push((e, link));
    }
    let last = first + rows.len() as i64 - 1;
    tx.insert_rows("audit_log", COLUMNS, &rows, |(e, l), out| {
        out.extend(l.params(e))
    })
    .await?;
    // Sent with the commit.
    tx.execute_later(
        "UPDATE audit_head SET seq = $1, hash = $2, prev_hash = $3 WHERE id = 1",
        &[
            last.into(),
            prev_hash.as_str().into(),
            before_last.as_str().into(),
        ],
    )
    .await?;
    Ok(rows.len())
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
        let hash = Parts::of_row(&row).hash(row.seq, &row.prev_hash);
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
