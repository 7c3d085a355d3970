//! Repositories: one module per kind of record. Each function takes a `Tx` so that callers in
//! `sigap-core` can compose several in one transaction; none of them exposes SQL.

pub mod announcements;
pub mod approvals;
pub mod audit;
pub mod catalog;
pub mod changes;
pub mod cmdb;
pub mod dashboards;
pub mod event_rules;
pub mod event_windows;
pub mod events;
pub mod filters;
pub mod groups;
pub mod idempotency;
pub mod improvements;
pub mod incidents;
pub mod jobs;
pub mod knowledge;
pub mod list;
pub mod locations;
pub mod mail;
pub mod nodes;
pub mod notifications;
pub mod orgs;
pub mod people;
pub mod portfolio;
pub mod problems;
pub mod projects;
pub mod report_schedules;
pub mod reports;
pub mod requests;
pub mod saved_reports;
pub mod sessions;
pub mod sla;
pub mod task;
pub mod throttle;
pub mod tokens;

use crate::error::StoreError;

/// `column IN (the ids of a JSON array parameter)`, in each dialect.
pub(crate) fn in_json(dialect: crate::tx::Dialect, column: &str, ph: &str) -> String {
    match dialect {
        // SQLite keeps a UUID as its 16 bytes: the array's texts are turned into them.
        crate::tx::Dialect::Sqlite => {
            format!("{column} IN (SELECT unhex(value, '-') FROM json_each({ph}))")
        }
        // An array compared with `= ANY`: the index is searched for each id whatever plan
        // the statement keeps. As `IN (SELECT …)`, a cached statement's plan for any values
        // could join the whole table by hashing (over a second for a batch of tasks at 1M).
        crate::tx::Dialect::Postgres => {
            format!("{column} = ANY(ARRAY(SELECT jsonb_array_elements_text({ph}::jsonb)::uuid))")
        }
    }
}

/// Appends the rows of a multi-row `VALUES`, separated by commas: each is `n` placeholders
/// numbered after the parameters already in `params` and then `tail`, which holds any
/// constants of the row and its closing parenthesis; `fill` pushes the row's `n` parameters
/// (it gets the row's index in `rows`).
pub(crate) fn values_rows<'a, T>(
    sql: &mut String,
    params: &mut Vec<crate::value::P<'a>>,
    rows: &'a [T],
    n: usize,
    tail: &str,
    mut fill: impl FnMut(usize, &'a T, &mut Vec<crate::value::P<'a>>),
) {
    for (i, r) in rows.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        values_row(sql, params.len(), n, &[], tail);
        fill(i, r, params);
    }
}

/// Runs `head` (an `INSERT … VALUES `) with a row of `n` parameters for each of `rows`, and
/// then `tail`, which ends in `RETURNING`: how many rows came back. The rows go in chunks of
/// powers of two (at most 512), so that a few statement texts serve every number of rows:
/// on PostgreSQL a thousand rows take a few round trips; on SQLite a few statements, each
/// copying a page it changes into the statement journal once (a statement a row copied the
/// same pages for every row, which cost more than the rows).
pub(crate) async fn rows_returning<'a, T>(
    tx: &mut crate::tx::Tx<'_>,
    head: &str,
    tail: &str,
    rows: &'a [T],
    n: usize,
    fill: impl FnMut(&'a T, &mut Vec<crate::value::P<'a>>),
) -> crate::error::StoreResult<u64> {
    Ok(rows_returned(tx, head, tail, rows, n, fill).await?.len() as u64)
}

/// As `rows_returning`, with the rows that came back.
pub(crate) async fn rows_returned<'a, T>(
    tx: &mut crate::tx::Tx<'_>,
    head: &str,
    tail: &str,
    rows: &'a [T],
    n: usize,
    fill: impl FnMut(&'a T, &mut Vec<crate::value::P<'a>>),
) -> crate::error::StoreResult<Vec<crate::value::Row>> {
    chunks_returning(tx, head, tail, rows, n, &[], fill).await
}

/// As `rows_returning`, for a `VALUES` list read as a table (`UPDATE … FROM (VALUES …) AS v
/// WHERE …`, its columns `v.column1`, `v.column2`… in both engines): a row of parameters for
/// each of `rows`, one per type of `types`, cast to it on PostgreSQL (which cannot tell a
/// parameter's type there otherwise; SQLite needs no cast).
pub(crate) async fn rows_from_values<'a, T>(
    tx: &mut crate::tx::Tx<'_>,
    head: &str,
    tail: &str,
    rows: &'a [T],
    types: &[&str],
    fill: impl FnMut(&'a T, &mut Vec<crate::value::P<'a>>),
) -> crate::error::StoreResult<u64> {
    let casts = match tx.dialect() {
        crate::tx::Dialect::Postgres => types,
        crate::tx::Dialect::Sqlite => &[],
    };
    Ok(
        chunks_returning(tx, head, tail, rows, types.len(), casts, fill)
            .await?
            .len() as u64,
    )
}

async fn chunks_returning<'a, T>(
    tx: &mut crate::tx::Tx<'_>,
    head: &str,
    tail: &str,
    rows: &'a [T],
    n: usize,
    casts: &[&str],
    mut fill: impl FnMut(&'a T, &mut Vec<crate::value::P<'a>>),
) -> crate::error::StoreResult<Vec<crate::value::Row>> {
    let mut returned = Vec::new();
    let mut rest = rows;
    while !rest.is_empty() {
        let most = rest.len().min(512);
        // The largest power of two not above `most`.
        let size = 1usize << (usize::BITS - 1 - most.leading_zeros());
        let (chunk, after) = rest.split_at(size);
        let mut sql = String::with_capacity(head.len() + tail.len() + size * n * 8);
        sql.push_str(head);
        let mut params = Vec::with_capacity(size * n);
        for (i, r) in chunk.iter().enumerate() {
            if i > 0 {
                sql.push_str(", ");
            }
            values_row(&mut sql, params.len(), n, casts, ")");
            fill(r, &mut params);
        }
        sql.push_str(tail);
        returned.extend(tx.query(&sql, &params).await?);
        rest = after;
    }
    Ok(returned)
}

/// One row of `values_rows`: `($base+1, …, $base+n` (each placeholder cast to its type of
/// `casts`, where it has one) and then `tail`.
fn values_row(sql: &mut String, base: usize, n: usize, casts: &[&str], tail: &str) {
    use std::fmt::Write as _;
    sql.push('(');
    for k in 1..=n {
        if k > 1 {
            sql.push_str(", ");
        }
        let _ = write!(sql, "${}", base + k);
        if let Some(t) = casts.get(k - 1) {
            let _ = write!(sql, "::{t}");
        }
    }
    sql.push_str(tail);
}

/// Ids as a JSON array parameter for `in_json`.
pub(crate) fn id_array<T: std::fmt::Display>(ids: &[T]) -> serde_json::Value {
    serde_json::Value::Array(
        ids.iter()
            .map(|i| serde_json::Value::String(i.to_string()))
            .collect(),
    )
}

/// Decodes a stored code with the domain's parser.
pub(crate) fn decode<T>(
    column: usize,
    text: String,
    parse: impl Fn(&str) -> Result<T, sigap_domain::InvalidValue>,
) -> Result<T, StoreError> {
    parse(&text).map_err(|e| StoreError::Decode {
        column,
        detail: format!("{text:?}: {e}"),
    })
}

/// After an UPDATE or DELETE guarded by `version = $n`: when no row changed, the record is
/// either gone (`exists` says `NotFound`) or was changed by someone else.
pub(crate) async fn versioned<T>(
    changed: u64,
    exists: impl Future<Output = crate::error::StoreResult<T>>,
) -> crate::error::StoreResult<()> {
    if changed == 0 {
        exists.await?;
        return Err(StoreError::VersionMismatch);
    }
    Ok(())
}

/// Folds a display name into its sort and uniqueness key.
pub fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

/// Reads and writes a domain code (a `code_enum`) as its text code.
macro_rules! code_col {
    ($($t:ty),*) => {$(
        impl $crate::value::Col for $t {
            fn from_sqlite(v: rusqlite::types::ValueRef<'_>, i: usize) -> $crate::error::StoreResult<Self> {
                $crate::repo::decode(i, <String as $crate::value::Col>::from_sqlite(v, i)?, <$t>::parse)
            }
            fn from_pg(row: &tokio_postgres::Row, i: usize) -> $crate::error::StoreResult<Self> {
                $crate::repo::decode(i, <String as $crate::value::Col>::from_pg(row, i)?, <$t>::parse)
            }
        }
        impl $crate::value::Param for $t {
            fn param(&self) -> $crate::value::P<'_> {
                $crate::value::P::Text(self.code())
            }
        }
    )*};
}
pub(crate) use code_col;
