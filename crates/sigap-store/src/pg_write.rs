//! A write transaction on PostgreSQL in as few round trips as its statements allow.
//!
//! `BEGIN` is not sent on its own: it goes out with the transaction's first statement. Writes
//! whose outcome the body does not need (a journal entry, a pending audit entry) are kept
//! until the next statement or the commit and then sent with it, several of them as one
//! statement. A create is then two round trips (`BEGIN` with the task's insert, the rest with
//! `COMMIT`) instead of six. tokio-postgres sends the requests of futures polled together in
//! the order they are first polled, and the server answers in that order.

use crate::error::StoreError;
use crate::value::{P, Val};
use std::sync::atomic::{AtomicBool, Ordering};

/// The pooled connection of a write transaction, and whether a transaction is open on it. If
/// it is dropped with one open (the request was cancelled, or a body panicked), the
/// connection leaves the pool and closes, which ends the transaction on the server: an open
/// transaction must never go back to the pool.
pub(crate) struct Held {
    client: Option<deadpool_postgres::Client>,
    open: AtomicBool,
}

impl Held {
    pub(crate) fn new(client: deadpool_postgres::Client) -> Self {
        Self {
            client: Some(client),
            open: AtomicBool::new(false),
        }
    }

    pub(crate) fn client(&self) -> Result<&deadpool_postgres::Client, StoreError> {
        self.client.as_ref().ok_or(StoreError::Closed)
    }

    /// Notes the transaction as begun; true if it was not (the caller sends `BEGIN`).
    pub(crate) fn begin(&self) -> bool {
        !self.open.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn is_open(&self) -> bool {
        self.open.load(Ordering::Acquire)
    }

    pub(crate) fn closed(&self) {
        self.open.store(false, Ordering::Release);
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if self.is_open() {
            if let Some(c) = self.client.take() {
                drop(deadpool_postgres::Client::take(c));
            }
        }
    }
}

/// At most this many kept writes go into one statement (each combination is a statement the
/// connection prepares and keeps).
const MERGED_AT_MOST: usize = 4;

/// Writes kept for the next statement or the commit, in their order.
#[derive(Debug, Default)]
pub(crate) struct Later {
    writes: Vec<(String, Vec<Val>)>,
}

impl Later {
    pub(crate) fn push(&mut self, sql: &str, params: &[P<'_>]) {
        self.writes
            .push((sql.to_owned(), params.iter().map(Val::of).collect()));
    }

    /// The kept writes as statements to send in order: up to `MERGED_AT_MOST` at a time
    /// joined into one (`WITH w0 AS (…), w1 AS (…) …`, their parameters numbered on).
    pub(crate) fn take(&mut self) -> Vec<(String, Vec<Val>)> {
        let writes = std::mem::take(&mut self.writes);
        let mut out = Vec::with_capacity(writes.len().div_ceil(MERGED_AT_MOST));
        let mut writes = writes.into_iter().peekable();
        while writes.peek().is_some() {
            let group: Vec<(String, Vec<Val>)> = writes.by_ref().take(MERGED_AT_MOST).collect();
            out.push(merge(group));
        }
        out
    }
}

/// Writes as one statement: each but the last a data-modifying `WITH` item.
fn merge(mut group: Vec<(String, Vec<Val>)>) -> (String, Vec<Val>) {
    if group.len() == 1 {
        if let Some(one) = group.pop() {
            return one;
        }
    }
    let mut sql = String::from("WITH ");
    let mut params = Vec::new();
    let last = group.len().saturating_sub(1);
    for (i, (text, ps)) in group.into_iter().enumerate() {
        let text = renumber(&text, params.len());
        if i == last {
            sql.push(' ');
            sql.push_str(&text);
        } else {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("w{i} AS ({text})"));
        }
        params.extend(ps);
    }
    (sql, params)
}

/// The statement with each parameter `$n` written `$(n + by)`; quoted text is left alone.
pub(crate) fn renumber(sql: &str, by: usize) -> String {
    if by == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => {
                let mut n = 0usize;
                while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
                    n = n * 10 + d as usize;
                    chars.next();
                }
                out.push('$');
                out.push_str(&(n + by).to_string());
            }
            None => out.push(c),
        }
    }
    out
}

/// Runs `then` on `c` with what must reach the server before it sent in the same round trip:
/// `BEGIN` if `begin`, then the kept writes. The kept writes' statements are prepared first
/// (kept by the connection, so normally without a round trip): `then` may prepare its own
/// meanwhile, but its execution is sent after theirs. Boxed: every statement of a write
/// awaits it, and the bodies that nest many of them would otherwise carry it on the stack.
pub(crate) fn ahead<'a, T: Send + 'a>(
    c: &'a deadpool_postgres::Client,
    begin: bool,
    writes: Vec<(String, Vec<Val>)>,
    then: impl Future<Output = Result<T, tokio_postgres::Error>> + Send + 'a,
) -> std::pin::Pin<Box<dyn Future<Output = Result<T, tokio_postgres::Error>> + Send + 'a>> {
    Box::pin(async move {
        let mut prepared = Vec::with_capacity(writes.len());
        for (sql, params) in &writes {
            prepared.push((c.prepare_cached(sql).await?, params));
        }
        let begin = async {
            if begin {
                c.batch_execute("BEGIN").await
            } else {
                Ok(())
            }
        };
        let writes =
            futures_util::future::try_join_all(prepared.iter().map(|(stmt, params)| async move {
                let ps: Vec<P<'_>> = params.iter().map(Val::as_p).collect();
                let refs: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = ps
                    .iter()
                    .map(|p| p as &(dyn tokio_postgres::types::ToSql + Sync))
                    .collect();
                c.execute(stmt, &refs).await
            }));
        let ((), _, out) = futures_util::future::try_join3(begin, writes, then).await?;
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_numbered_on_past_quoted_text() {
        assert_eq!(
            renumber("INSERT INTO t (a, b) VALUES ($1, '$2 is text', $12)", 3),
            "INSERT INTO t (a, b) VALUES ($4, '$2 is text', $15)"
        );
        assert_eq!(renumber("SELECT $1", 0), "SELECT $1");
    }

    #[test]
    fn kept_writes_are_joined_four_at_a_time() {
        let mut later = Later::default();
        for i in 0..5 {
            later.push(&format!("INSERT INTO t{i} (a) VALUES ($1)"), &[P::I64(i)]);
        }
        let out = later.take();
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0].0,
            "WITH w0 AS (INSERT INTO t0 (a) VALUES ($1)), w1 AS (INSERT INTO t1 (a) VALUES ($2)), \
             w2 AS (INSERT INTO t2 (a) VALUES ($3)) INSERT INTO t3 (a) VALUES ($4)"
        );
        assert_eq!(out[0].1.len(), 4);
        assert_eq!(out[1].0, "INSERT INTO t4 (a) VALUES ($1)");
        assert!(later.take().is_empty());
    }
}
