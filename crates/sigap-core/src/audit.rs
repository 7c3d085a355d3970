//! Recording changes in the audit log, and reading and verifying it.

use crate::Core;
use crate::error::{AppError, AppResult};
use crate::principal::Ctx;
use jiff::Timestamp;
use serde_json::{Map, Value};
use sigap_domain::{PersonId, Role};
use sigap_store::Tx;
use sigap_store::audit::{self as repo, AuditEntry, AuditRow};

/// Who and which request, owned so it can travel into a transaction.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<PersonId>,
    pub name: String,
    pub request_id: String,
}

impl Actor {
    pub fn of(ctx: &Ctx) -> Self {
        Self {
            id: ctx.principal.person_id,
            name: ctx.principal.login.clone(),
            request_id: ctx.request_id.clone(),
        }
    }
}

/// `{field: [before, after]}` for the fields that differ.
pub fn diff(before: Option<&Map<String, Value>>, after: Option<&Map<String, Value>>) -> Value {
    let empty = Map::new();
    let b = before.unwrap_or(&empty);
    let a = after.unwrap_or(&empty);
    let mut out = Map::new();
    for key in b.keys().chain(a.keys()) {
        if out.contains_key(key) {
            continue;
        }
        let old = b.get(key).cloned().unwrap_or(Value::Null);
        let new = a.get(key).cloned().unwrap_or(Value::Null);
        if old != new {
            out.insert(key.clone(), Value::Array(vec![old, new]));
        }
    }
    Value::Object(out)
}

/// Appends one entry in the caller's transaction (written when it commits).
pub async fn record(
    tx: &mut Tx<'_>,
    actor: &Actor,
    at: Timestamp,
    record_type: &str,
    record_id: &str,
    action: &'static str,
    changes: Value,
) -> sigap_store::StoreResult<()> {
    repo::append(
        tx,
        AuditEntry {
            at,
            actor_id: actor.id,
            actor: actor.name.clone(),
            request_id: actor.request_id.clone(),
            record_type: record_type.to_owned(),
            record_id: record_id.to_owned(),
            action,
            changes,
        },
    );
    Ok(())
}

/// One entry of `record_many`: who, when, which record, what was done, the changes.
pub type Entry = (Actor, Timestamp, &'static str, String, &'static str, Value);

/// Appends entries in their order, in a few statements (an import's thousands).
pub async fn record_many(tx: &mut Tx<'_>, entries: Vec<Entry>) -> sigap_store::StoreResult<()> {
    let rows: Vec<AuditEntry> = entries
        .into_iter()
        .map(
            |(actor, at, record_type, record_id, action, changes)| AuditEntry {
                at,
                actor_id: actor.id,
                actor: actor.name,
                request_id: actor.request_id,
                record_type: record_type.to_owned(),
                record_id,
                action,
                changes,
            },
        )
        .collect();
    repo::append_many(tx, rows);
    Ok(())
}

/// Appends a change if anything changed.
#[allow(clippy::too_many_arguments)]
pub async fn record_diff(
    tx: &mut Tx<'_>,
    actor: &Actor,
    at: Timestamp,
    record_type: &str,
    record_id: &str,
    action: &'static str,
    before: Option<&Map<String, Value>>,
    after: Option<&Map<String, Value>>,
) -> sigap_store::StoreResult<()> {
    let changes = diff(before, after);
    if changes.as_object().is_some_and(|m| !m.is_empty()) || action != "update" {
        record(tx, actor, at, record_type, record_id, action, changes).await?;
    }
    Ok(())
}

/// The kinds of record whose history can be read, by their API names.
pub const RECORD_TYPES: &[&str] = &[
    "person",
    "organization",
    "group",
    "api_token",
    "service",
    "service_offering",
    "process",
    "ci_class",
    "ci",
    "ci_relationship",
    "project",
    "application",
    "location",
];

/// A record's history, oldest first. The caller has already checked the record is visible.
pub async fn history(
    core: &Core,
    ctx: &Ctx,
    record_type: &str,
    record_id: &str,
) -> AppResult<Vec<AuditRow>> {
    ctx.principal.require(Role::Agent)?;
    if !RECORD_TYPES.contains(&record_type) {
        return Err(AppError::NotFound);
    }
    let (t, id) = (record_type.to_owned(), record_id.to_owned());
    Ok(core
        .store
        .read(async move |tx| repo::history(tx, &t, &id, 0, 10_000).await)
        .await?)
}

/// What `verify_chain` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub rows_checked: i64,
    pub head_seq: i64,
    pub first_bad: Option<(i64, String)>,
}

/// Walks the whole chain and reports the first row that was altered or removed.
pub async fn verify_chain(core: &Core) -> AppResult<ChainReport> {
    // Entries still pending (PostgreSQL) are chained first, so that the walk covers them.
    core.store.chain_audit().await?;
    let mut after = 0i64;
    let mut prev = String::new();
    let mut checked = 0i64;
    loop {
        let p = prev.clone();
        let (rows, bad, last_hash) = core
            .store
            .read(async move |tx| repo::verify_batch(tx, after, &p, 2000).await)
            .await?;
        checked += rows.len() as i64;
        if let Some(bad) = bad {
            let (head_seq, _) = core.store.read(async |tx| repo::head(tx).await).await?;
            return Ok(ChainReport {
                rows_checked: checked,
                head_seq,
                first_bad: Some(bad),
            });
        }
        match rows.last() {
            Some(last) => {
                after = last.seq;
                prev = last_hash;
            }
            None => break,
        }
    }
    let (head_seq, head_hash) = core.store.read(async |tx| repo::head(tx).await).await?;
    let first_bad = if head_seq > after {
        Some((after + 1, format!("row {} is missing", after + 1)))
    } else if head_seq == after && head_hash != prev {
        Some((
            after,
            "the last row does not match the chain head".to_owned(),
        ))
    } else {
        None
    };
    Ok(ChainReport {
        rows_checked: checked,
        head_seq,
        first_bad,
    })
}
