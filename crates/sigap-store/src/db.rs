//! `Store`: the one storage boundary. It picks the engine from the URL once and runs
//! transaction bodies on either, unchanged.

use crate::error::{StoreError, StoreResult};
use crate::postgres::PgDb;
use crate::replica::{Fault, FaultCell, ROUTE, ReplicaStatus, Replicas, Route, RouteScope};
use crate::sqlite::SqliteDb;
use crate::tx::{Dialect, Tx};
use futures_util::FutureExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqliteDb),
    Postgres(PgDb),
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DatabaseLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

impl DatabaseLocation {
    /// `postgres://…` / `postgresql://…`, or `sqlite://PATH` / `sqlite:PATH`.
    pub fn parse(url: &str) -> Result<Self, StoreError> {
        let url = url.trim();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres(url.to_owned()))
        } else if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StoreError::Pool("the sqlite URL names no file".into()));
            }
            Ok(Self::Sqlite(PathBuf::from(path)))
        } else {
            Err(StoreError::Pool(
                "the database URL must start with postgres://, postgresql:// or sqlite://".into(),
            ))
        }
    }
}

/// An error a transaction body may return: any error that a `StoreError` converts into and
/// that tells whether the transaction may be retried. Any `Err` rolls the transaction back.
pub trait TxError: From<StoreError> + Send + 'static {
    fn retryable(&self) -> bool;
}

impl TxError for StoreError {
    fn retryable(&self) -> bool {
        self.is_retryable()
    }
}

#[derive(Clone, Debug)]
pub struct Store {
    pub(crate) db: Db,
    /// PostgreSQL hot standbys for reads (none: every read on the primary).
    replicas: Option<Arc<Replicas>>,
}

const MAX_ATTEMPTS: u32 = 6;

impl Store {
    pub async fn open(location: &DatabaseLocation, pool_size: usize) -> StoreResult<Self> {
        Self::open_with_replicas(location, pool_size, &[]).await
    }

    /// Opens the database with read replicas: PostgreSQL hot standbys (`postgres://` URLs) of
    /// a PostgreSQL primary, each with a pool of `pool_size` connections. SQLite has none:
    /// the URLs are then ignored (the caller says so).
    pub async fn open_with_replicas(
        location: &DatabaseLocation,
        pool_size: usize,
        read_urls: &[String],
    ) -> StoreResult<Self> {
        let (db, replicas) = match location {
            DatabaseLocation::Sqlite(path) => (
                Db::Sqlite(SqliteDb::open(path, pool_size.clamp(1, 8))?),
                None,
            ),
            DatabaseLocation::Postgres(url) => {
                let mut primary = PgDb::connect(url, pool_size)?;
                primary.keep_config(url)?;
                let replicas = if read_urls.is_empty() {
                    None
                } else {
                    let r = Arc::new(Replicas::connect(read_urls, pool_size)?);
                    Replicas::spawn_refresher(&r, primary.clone());
                    Some(r)
                };
                (Db::Postgres(primary), replicas)
            }
        };
        Ok(Self { db, replicas })
    }

    /// Whether reads may go to read replicas.
    pub fn has_replicas(&self) -> bool {
        self.replicas.is_some()
    }

    /// Runs `fut` (the handling of one request) with its reads routed: to a standby when
    /// `standby_ok` (a `GET` or `HEAD`) and until the request writes, else to the primary.
    /// Without replicas it just runs `fut`.
    pub async fn route_reads<F: Future>(&self, standby_ok: bool, fut: F) -> F::Output {
        if self.replicas.is_some() {
            ROUTE
                .scope(Arc::new(RouteScope::new(standby_ok)), fut)
                .await
        } else {
            fut.await
        }
    }

    /// Names the person the current request acts for: their writes are noted, and their reads
    /// wait until a standby has replayed them. Outside `route_reads`, nothing.
    pub fn set_reader(&self, person: uuid::Uuid) {
        if self.replicas.is_some() {
            let _ = ROUTE.try_with(|s| s.set_person(person));
        }
    }

    /// Each read replica's state, asked now (empty without replicas).
    pub async fn replica_status(&self) -> Vec<ReplicaStatus> {
        match (&self.replicas, &self.db) {
            (Some(r), Db::Postgres(p)) => r.status(p).await,
            _ => Vec::new(),
        }
    }

    /// Opens the database for a one-shot command (`sigap mail receive`, a process each
    /// message): SQLite on one connection for reads and writes, used on the calling thread
    /// with no thread of its own (each connection parses the whole schema when first used);
    /// PostgreSQL with a pool of one connection. Writes are not committed together with
    /// others; everything else behaves as with `open`.
    pub async fn open_solo(location: &DatabaseLocation) -> StoreResult<Self> {
        let db = match location {
            DatabaseLocation::Sqlite(path) => Db::Sqlite(SqliteDb::open_solo(path)?),
            DatabaseLocation::Postgres(url) => Db::Postgres(PgDb::connect(url, 1)?),
        };
        Ok(Self { db, replicas: None })
    }

    pub fn dialect(&self) -> Dialect {
        match self.db {
            Db::Sqlite(_) => Dialect::Sqlite,
            Db::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs `f` in a write transaction. On PostgreSQL a serialization failure reruns the whole
    /// body in a fresh transaction (with back-off); on SQLite the one writer makes that moot.
    /// The body must await nothing but database calls.
    pub async fn write<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: AsyncFn(&mut Tx<'_>) -> Result<T, E> + Send + Sync + 'static,
        T: Send + 'static,
        E: TxError,
    {
        match &self.db {
            Db::Sqlite(s) => {
                s.in_transaction(move |conn| {
                    let mut tx = Tx::sqlite(conn);
                    let body = async {
                        let value = f(&mut tx).await?;
                        tx.finish().await?;
                        Ok(value)
                    };
                    body.now_or_never()
                        .unwrap_or_else(|| Err(E::from(StoreError::ForeignAwait)))
                })
                .await
            }
            Db::Postgres(p) => {
                // BEGIN goes with the body's first statement, COMMIT with its last writes.
                let held = crate::pg_write::Held::new(p.client().await.map_err(E::from)?);
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    let result = {
                        let mut t = Tx::pg_write(&held).keeping(p.config.as_deref());
                        let body = match f(&mut t).await {
                            Ok(value) => match t.finish().await {
                                Ok(()) => t.commit().await.map(|()| value).map_err(E::from),
                                Err(e) => Err(E::from(e)),
                            },
                            Err(e) => Err(e),
                        };
                        match body {
                            Ok(value) => Ok((value, t.audit_pending, t.config_changed)),
                            Err(e) => {
                                let _ = t.rollback().await;
                                Err(e)
                            }
                        }
                    };
                    match result {
                        Err(e) if e.retryable() && attempt < MAX_ATTEMPTS => {
                            tokio::time::sleep(backoff(attempt)).await;
                        }
                        Ok((value, pending, config_changed)) => {
                            if config_changed {
                                if let Some(c) = &p.config {
                                    c.changed();
                                }
                            }
                            if pending {
                                // Committed: a failed run leaves the entries for the next.
                                if let Err(e) = p.chain.after_commit(&held).await {
                                    tracing::warn!(error = %e, "audit entries left pending");
                                }
                            }
                            if let (Some(r), Ok(client)) = (&self.replicas, held.client()) {
                                wrote(r, client).await;
                            }
                            return Ok(value);
                        }
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }

    /// Runs `f` for reading. SQLite runs it right here on a pooled read-only connection (no
    /// thread hop; opened solo, on the one connection, read-only meanwhile); PostgreSQL on a
    /// pooled connection without a transaction. Keep read bodies short: on SQLite they occupy
    /// the calling thread.
    ///
    /// With read replicas, inside a request whose reads may go to a standby
    /// ([`Store::route_reads`]), the body runs on a standby that has replayed the person's
    /// writes; if the standby fails under it, the body runs again on the primary.
    pub async fn read<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Tx<'_>) -> Result<T, E> + Clone + Send + 'static,
        T: Send + 'static,
        E: TxError,
    {
        if let (Some(r), Db::Postgres(_)) = (&self.replicas, &self.db) {
            if let Ok(Some(person)) = ROUTE.try_with(|s| s.standby_reader()) {
                if let (Route::Standby { index, check }, needs) = r.route(person) {
                    let on = OnStandby {
                        index,
                        check,
                        needs,
                    };
                    if let Some(answer) = read_standby(r, on, f.clone()).await {
                        return answer;
                    }
                }
            }
        }
        self.read_primary(f).await
    }

    /// Runs `f` for reading on the primary, replicas or not: for what must be current (a
    /// sign-in a standby may not have yet, say).
    pub async fn read_primary<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: AsyncFnOnce(&mut Tx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: TxError,
    {
        match &self.db {
            Db::Sqlite(s) => s
                .with_reader(move |conn| {
                    let mut tx = Tx::sqlite(conn);
                    let body = async {
                        let value = f(&mut tx).await?;
                        tx.read_only()?;
                        Ok(value)
                    };
                    Ok(body
                        .now_or_never()
                        .unwrap_or_else(|| Err(E::from(StoreError::ForeignAwait))))
                })
                .map_err(E::from)?,
            Db::Postgres(p) => {
                let client = p.client().await.map_err(E::from)?;
                let mut t = Tx::pg_client(&client).keeping(p.config.as_deref());
                let value = f(&mut t).await?;
                t.read_only()?;
                Ok(value)
            }
        }
    }

    /// Switches the embedded database into (`true`) or out of (`false`) bulk loading, for the
    /// generators of `sigap seed`: while on, the writer checks no foreign keys (a generator
    /// refers only to rows it made), a commit does not wait for the disk, the writer keeps
    /// 256 MiB of pages, and pages are written once, through a rollback journal, when no other
    /// process has the database open (otherwise through the log, copied back by a thread of
    /// its own on another core). Switching off restores WAL mode and the rest. A crash during
    /// the load may lose the load (never the data from before). PostgreSQL: nothing to do.
    pub async fn bulk_loading(&self, on: bool) -> StoreResult<()> {
        match &self.db {
            Db::Sqlite(s) if on => s.begin_bulk().await,
            Db::Sqlite(s) => s.end_bulk().await,
            Db::Postgres(_) => Ok(()),
        }
    }

    /// Chains the audit entries left pending (PostgreSQL; on SQLite every entry is chained
    /// in its transaction): those a failed run or a stopped node left. Returns how many.
    pub async fn chain_audit(&self) -> StoreResult<usize> {
        match &self.db {
            Db::Sqlite(_) => Ok(0),
            Db::Postgres(p) => {
                let held = crate::pg_write::Held::new(p.client().await?);
                p.chain.run_now(&held).await
            }
        }
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> StoreResult<()> {
        self.read_primary(async |tx| tx.query_one("SELECT 1", &[]).await.map(|_| ()))
            .await
    }
}

/// After a write committed inside a request: the rest of the request reads from the primary,
/// and the person's later reads wait for a standby that has replayed this position.
async fn wrote(r: &Replicas, client: &deadpool_postgres::Client) {
    let Ok(Some(person)) = ROUTE.try_with(|s| s.wrote()) else {
        return;
    };
    match crate::replica::current_lsn(client).await {
        Ok(lsn) => r.note(person, lsn),
        // Unknown position: the person reads from the primary until it next reports one.
        Err(e) => {
            tracing::warn!(error = %e, "could not read the primary's WAL position after a write");
            r.note_unknown(person);
        }
    }
}

/// A read routed to a standby: which, whether to ask it how far it has replayed first, and
/// the position it must have replayed.
struct OnStandby {
    index: usize,
    check: bool,
    needs: crate::replica::Lsn,
}

/// Runs a read body on a standby: `None` when it is to run on the primary instead (no
/// standby fits, or the standby failed under it).
async fn read_standby<T, E, F>(r: &Replicas, on: OnStandby, f: F) -> Option<Result<T, E>>
where
    F: AsyncFnOnce(&mut Tx<'_>) -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: TxError,
{
    let OnStandby {
        index,
        check,
        needs,
    } = on;
    let standby = r.standby(index)?;
    let client = match standby.db.client().await {
        Ok(c) => c,
        Err(e) => {
            standby.failed(&e.to_string());
            return None;
        }
    };
    if check {
        match crate::replica::replay_lsn(&client).await {
            Ok(lsn) => {
                standby.saw(lsn);
                if lsn < needs {
                    return None;
                }
            }
            Err(e) => {
                if crate::replica::fault_of(&e) == Some(Fault::Down) {
                    standby.failed(&e.to_string());
                }
                return None;
            }
        }
    }
    let fault = FaultCell::default();
    let answer = {
        let mut t = Tx::replica(&client, &fault);
        match f(&mut t).await {
            Ok(value) => t.read_only().map(|()| value).map_err(E::from),
            Err(e) => Err(e),
        }
    };
    if answer.is_err() && client.is_closed() {
        fault.down();
    }
    match fault.get() {
        None => Some(answer),
        Some(Fault::ReadOnly) => None,
        Some(Fault::Down) => {
            standby.failed(fault.error());
            None
        }
    }
}

fn backoff(attempt: u32) -> Duration {
    let base = 5u64.saturating_mul(1u64 << attempt.min(8));
    let jitter = u64::from(uuid::Uuid::now_v7().as_bytes()[15]) % base.max(1);
    Duration::from_millis(base + jitter)
}

/// Retries `op` while it fails with a serialization failure, with back-off, up to six times.
/// `Store::write` already does this for its own transaction; use this for compound operations.
pub async fn retry_serializable<T, M, Fut>(mut op: M) -> StoreResult<T>
where
    M: FnMut() -> Fut,
    Fut: Future<Output = StoreResult<T>>,
{
    let mut attempt = 0;
    loop {
        attempt += 1;
        match op().await {
            Err(e) if e.is_retryable() && attempt < MAX_ATTEMPTS => {
                tokio::time::sleep(backoff(attempt)).await;
            }
            other => return other,
        }
    }
}
