//! Embedded SQLite: one writer thread owns the write connection, and every write transaction
//! is sent to it as a closure. Reads run on the calling thread on a pooled read-only
//! connection: a point read takes microseconds, less than waking another thread would
//! (measured: two hops per request cost more than the HTTP stack itself).
//!
//! A one-shot command (`sigap mail receive`, a process per message) opens the database
//! *solo* instead: one connection, for reads and writes alike, used on the calling thread
//! under a lock, and no thread of its own. Each connection parses the whole schema before its
//! first statement, which cost such a process a quarter of its time with two connections.

use crate::error::StoreError;
use crossbeam_channel::{Receiver, Sender, unbounded};
use rusqlite::Connection;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Job = Box<dyn FnOnce(&mut Connection) + Send + 'static>;

/// What a transaction body leaves to do once its group's commit is decided: tell its caller.
type Done = Box<dyn FnOnce(Result<(), StoreError>) + Send + 'static>;

/// A transaction body for the writer. Given the connection (inside a transaction, and a
/// savepoint of its own unless it is the group's first), it runs and says whether it wrote
/// (`true`: keep its changes and call `Done` with the group's commit) or failed (`false`: its
/// changes are rolled back and `Done` is called at once). Given an error (no transaction or
/// savepoint could be begun), it reports it.
type TxJob = Box<dyn FnOnce(Result<&mut Connection, StoreError>) -> (bool, Done) + Send + 'static>;

/// Work for the writer thread.
enum Work {
    /// Runs alone, outside any transaction (pragmas, migrations' own transactions).
    Raw(Job),
    /// Runs in the writer's transaction, committed with the bodies queued beside it.
    Tx(TxJob),
}

/// How long a statement waits for another process's lock before it fails.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// How a solo connection waits for another process's lock, for `BUSY_TIMEOUT` in all: a
/// tenth of a millisecond at a time for the first 10 ms, longer naps after. SQLite's own
/// handler sleeps 1 ms, then 2, 5, 10…, while another `sigap mail receive` holds the write
/// lock for a millisecond or two: two of them at once slept well past each other's commits
/// (measured under strace: 4.4 ms a message asleep, 2.2 with these naps).
fn napping() -> impl FnMut(i32) -> bool + Send + 'static {
    let mut since = std::time::Instant::now();
    move |count| {
        if count == 0 {
            since = std::time::Instant::now();
        }
        let waited = since.elapsed();
        if waited >= BUSY_TIMEOUT {
            return false;
        }
        let nap = if waited < Duration::from_millis(10) {
            Duration::from_micros(100)
        } else if waited < Duration::from_millis(200) {
            Duration::from_millis(1)
        } else {
            Duration::from_millis(10)
        };
        std::thread::sleep(nap);
        true
    }
}

/// The most transaction bodies committed together.
const MAX_GROUP: usize = 64;

#[derive(Clone)]
pub struct SqliteDb {
    conns: Conns,
    path: Arc<Path>,
    /// How a bulk load in progress writes (none when no bulk load runs).
    bulk: Arc<Mutex<Option<Bulk>>>,
    /// The thread that copies the log into the file (a server; none when solo).
    copier: Option<LogCopier>,
}

/// How often at most the log copier copies, while commits keep coming.
const COPY_EVERY: Duration = Duration::from_millis(50);

/// A server's thread that copies committed pages from the log into the database file (a
/// passive checkpoint), nudged by the writer after its commits, at most every `COPY_EVERY`.
/// The writer itself does not (`wal_autocheckpoint = 0`): copying, and waiting for the disk
/// to take the copy, stopped it every thousand pages, a fifth of its time under a steady
/// load of events. The copier holds a connection of its own, which it lets go while a bulk
/// load runs (leaving WAL mode needs the database to itself).
#[derive(Clone)]
struct LogCopier {
    conn: Arc<Mutex<Option<Connection>>>,
    paused: Arc<std::sync::atomic::AtomicBool>,
}

impl LogCopier {
    /// Starts the thread; it ends when the writer, and with it `nudges`' sender, is gone.
    fn start(path: &Path, nudges: Receiver<()>) -> Result<Self, StoreError> {
        let copier = Self {
            conn: Arc::default(),
            paused: Arc::default(),
        };
        let (me, path) = (copier.clone(), path.to_path_buf());
        std::thread::Builder::new()
            .name("sqlite-log-copier".into())
            .spawn(move || {
                while nudges.recv().is_ok() {
                    // Commits that come meanwhile are copied together.
                    std::thread::sleep(COPY_EVERY);
                    let mut conn = me.lock();
                    if me.paused.load(std::sync::atomic::Ordering::Acquire) {
                        continue;
                    }
                    if conn.is_none() {
                        *conn = Connection::open(&path).ok();
                    }
                    if let Some(c) = conn.as_ref() {
                        // Waits for nobody: what it cannot copy yet, the next round copies.
                        let _ = c.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
                    }
                }
            })
            .map_err(|e| StoreError::Pool(format!("cannot start a database thread: {e}")))?;
        Ok(copier)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Connection>> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops copying and closes its connection (for a bulk load), or goes on again.
    fn pause(&self, paused: bool) {
        let mut conn = self.lock();
        self.paused
            .store(paused, std::sync::atomic::Ordering::Release);
        if paused {
            *conn = None;
        }
    }
}

/// The connections of a database.
#[derive(Clone)]
enum Conns {
    /// A writer thread with the write connection, and idle read-only connections (a server).
    Pooled {
        writer: Sender<Work>,
        readers: Arc<Mutex<Vec<Connection>>>,
        max_idle_readers: usize,
    },
    /// One connection for reads and writes, used on the calling thread (a one-shot command).
    Solo(Arc<Mutex<Connection>>),
}

/// How a bulk load writes.
enum Bulk {
    /// In a rollback journal: every page is written once, into the database file, instead of
    /// into the log and then copied into the file. Taken when no other process has the
    /// database open (leaving WAL mode needs that).
    Journal,
    /// In the log, with a thread copying it back (another process has the database open).
    Wal(Checkpointer),
}

/// A thread of its own that copies committed pages from the log into the database file
/// while the writer goes on, so that a bulk load's writer does not do it.
struct Checkpointer {
    stop: Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Checkpointer {
    /// Stops the thread and waits for it.
    fn finish(self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

impl std::fmt::Debug for SqliteDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDb")
            .field("path", &self.path)
            .finish()
    }
}

fn open(path: &Path, read_only: bool) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(StoreError::from_sqlite)?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(StoreError::from_sqlite)?;
    if !read_only {
        // 8 KiB pages for a new database (a no-op on an existing one): shallower indexes;
        // seeding a million incidents ran about a quarter faster than with SQLite's 4 KiB.
        conn.execute_batch("PRAGMA page_size = 8192;")
            .map_err(StoreError::from_sqlite)?;
        // The mode is kept in the file: readers, opened after the writer, find it there (and
        // must not switch it back while a bulk load runs in a rollback journal).
        conn.execute_batch("PRAGMA journal_mode = WAL;")
            .map_err(StoreError::from_sqlite)?;
        // The log starts again from its beginning once it has all been copied; under a
        // steady load that is seldom at once (`LogCopier`), and the file, left at its
        // largest, is cut back to 64 MiB then.
        conn.execute_batch("PRAGMA journal_size_limit = 67108864;")
            .map_err(StoreError::from_sqlite)?;
    }
    conn.execute_batch(
        "PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )
    .map_err(StoreError::from_sqlite)?;
    if read_only {
        conn.execute_batch("PRAGMA query_only = ON;")
            .map_err(StoreError::from_sqlite)?;
    } else {
        // The one writer keeps the hot index pages of a large database in memory (64 MiB
        // instead of SQLite's 2 MiB): a million-row insert spent half its time re-reading them.
        conn.execute_batch("PRAGMA cache_size = -65536;")
            .map_err(StoreError::from_sqlite)?;
    }
    // The query planner stability guarantee: a plan never depends on bound values. Without it
    // the bundled SQLite (built with STAT4) re-prepares a cached join on every new binding,
    // which measured 26 µs instead of 2.6 µs for the person lookup behind every request.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(StoreError::from_sqlite)?;
    conn.set_prepared_statement_cache_capacity(256);
    conn.create_aggregate_function(
        "sigap_percentile",
        2,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8
            | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        Percentile,
    )
    .map_err(StoreError::from_sqlite)?;
    conn.create_scalar_function(
        "sigap_bucket",
        2,
        rusqlite::functions::FunctionFlags::SQLITE_UTF8
            | rusqlite::functions::FunctionFlags::SQLITE_DETERMINISTIC,
        bucket,
    )
    .map_err(StoreError::from_sqlite)?;
    Ok(conn)
}

/// `sigap_bucket(x, starts)`: the place of the last of `starts` (a JSON array of ascending
/// integers) that is not after `x`, from 0; null when `x` is null or before them all. The
/// starts are read once per statement (SQLite keeps them beside a bound parameter).
fn bucket(ctx: &mut rusqlite::functions::Context<'_>) -> rusqlite::Result<Option<i64>> {
    let Some(x) = ctx.get::<Option<i64>>(0)? else {
        return Ok(None);
    };
    let starts = ctx.get_or_create_aux(1, |v| -> Result<Vec<i64>, serde_json::Error> {
        serde_json::from_slice(v.as_bytes().unwrap_or(b"[]"))
    })?;
    let after = starts.partition_point(|s| *s <= x);
    Ok(after.checked_sub(1).map(|p| p as i64))
}

/// `sigap_percentile(x, p)`: the `p`-th percentile (0 to 1) of the group's non-null `x`,
/// between the two nearest values (PostgreSQL's `percentile_cont`, which reports use there).
struct Percentile;

impl rusqlite::functions::Aggregate<(Vec<f64>, f64), Option<f64>> for Percentile {
    fn init(&self, _: &mut rusqlite::functions::Context<'_>) -> rusqlite::Result<(Vec<f64>, f64)> {
        Ok((Vec::new(), 0.5))
    }

    fn step(
        &self,
        ctx: &mut rusqlite::functions::Context<'_>,
        acc: &mut (Vec<f64>, f64),
    ) -> rusqlite::Result<()> {
        if let Some(x) = ctx.get::<Option<f64>>(0)? {
            acc.0.push(x);
        }
        acc.1 = ctx.get::<f64>(1)?;
        Ok(())
    }

    fn finalize(
        &self,
        _: &mut rusqlite::functions::Context<'_>,
        acc: Option<(Vec<f64>, f64)>,
    ) -> rusqlite::Result<Option<f64>> {
        Ok(acc.and_then(|(mut values, p)| sigap_domain::report::percentile(&mut values, p)))
    }
}

fn spawn_writer(
    mut conn: Connection,
    jobs: Receiver<Work>,
    nudge: Sender<()>,
) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name("sqlite-writer".into())
        .spawn(move || {
            let mut held = None;
            loop {
                let work = match held.take() {
                    Some(w) => w,
                    None => match jobs.recv() {
                        Ok(w) => w,
                        Err(_) => return,
                    },
                };
                match work {
                    Work::Raw(job) => job(&mut conn),
                    Work::Tx(first) => {
                        held = commit_group(&mut conn, first, &jobs);
                        // Full: a nudge is waiting already.
                        let _ = nudge.try_send(());
                    }
                }
            }
        })
        .map(|_| ())
        .map_err(|e| StoreError::Pool(format!("cannot start a database thread: {e}")))
}

/// Group commit: runs `first` and every transaction body already queued behind it (up to
/// `MAX_GROUP`) in one transaction, each after the first in a savepoint of its own, and
/// commits once. A body that fails is rolled back alone (to its savepoint; the first, with
/// the transaction, and the rest start a new one) and leaves the others alone; a body hears
/// that it was written only after the commit. Committing once for several bodies writes each hot
/// page (index interior pages, the audit head, the newest table leaves) to the log once
/// instead of once per body. Returns queued work that must run outside the transaction.
fn commit_group(conn: &mut Connection, first: TxJob, jobs: &Receiver<Work>) -> Option<Work> {
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        let (_, done) = first(Err(StoreError::from_sqlite(e)));
        done(Ok(()));
        return None;
    }
    let mut waiting: Vec<Done> = Vec::new();
    let mut next = Some(first);
    let mut held = None;
    let mut count = 0;
    while let Some(job) = next.take() {
        count += 1;
        // The first body needs no savepoint: the transaction holds nothing else yet. (A
        // savepoint also costs a large body dearly: FTS5 writes out its pending terms at every
        // savepoint instead of once at the commit.)
        let savepoint = count > 1;
        if savepoint && let Err(e) = conn.execute_batch("SAVEPOINT body") {
            let (_, done) = job(Err(StoreError::from_sqlite(e)));
            done(Ok(()));
            break;
        }
        let (wrote, done) = job(Ok(conn));
        if conn.is_autocommit() {
            // The failure took the whole transaction with it (an I/O error, a full disk):
            // the bodies before it in the group are gone too.
            let lost = || {
                StoreError::Pool("the transaction was rolled back with another that failed".into())
            };
            done(if wrote { Err(lost()) } else { Ok(()) });
            for d in waiting.drain(..) {
                d(Err(lost()));
            }
            return held;
        }
        if wrote {
            if savepoint && let Err(e) = conn.execute_batch("RELEASE body") {
                done(Err(StoreError::from_sqlite(e)));
                break;
            }
            waiting.push(done);
        } else if !savepoint {
            let _ = conn.execute_batch("ROLLBACK");
            done(Ok(()));
            return held;
        } else {
            let undone = conn.execute_batch("ROLLBACK TO body; RELEASE body");
            done(Ok(()));
            if undone.is_err() {
                break;
            }
        }
        if count < MAX_GROUP {
            match jobs.try_recv() {
                Ok(Work::Tx(job)) => next = Some(job),
                Ok(raw) => held = Some(raw),
                Err(_) => {}
            }
        }
    }
    let committed = conn.execute_batch("COMMIT").map_err(|e| e.to_string());
    if committed.is_err() && !conn.is_autocommit() {
        let _ = conn.execute_batch("ROLLBACK");
    }
    for d in waiting {
        d(committed
            .clone()
            .map_err(|e| StoreError::Pool(format!("the commit failed: {e}"))));
    }
    held
}

/// Creates the directory of a database file if it is missing.
fn create_parent(path: &Path) -> Result<(), StoreError> {
    if let Some(parent) = path.parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Pool(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
    }
    Ok(())
}

/// Runs `f` in a transaction of its own on `conn`: committed when it succeeds, rolled back
/// when it fails (the solo connection's writes; the writer thread's are `commit_group`'s).
fn solo_transaction<T, E, F>(conn: &mut Connection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut Connection) -> Result<T, E>,
    E: From<StoreError>,
{
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(|e| E::from(StoreError::from_sqlite(e)))?;
    let outcome = f(conn);
    if conn.is_autocommit() {
        // The failure took the transaction with it (an I/O error, a full disk).
        return outcome.and(Err(E::from(StoreError::Pool(
            "the transaction was rolled back".into(),
        ))));
    }
    match outcome {
        Ok(value) => match conn.execute_batch("COMMIT") {
            Ok(()) => Ok(value),
            Err(e) => {
                if !conn.is_autocommit() {
                    let _ = conn.execute_batch("ROLLBACK");
                }
                Err(E::from(StoreError::Pool(format!("the commit failed: {e}"))))
            }
        },
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}

impl SqliteDb {
    /// Opens (creating if needed) the database file, starts the writer thread and keeps up to
    /// `readers` idle read connections.
    pub fn open(path: &Path, readers: usize) -> Result<Self, StoreError> {
        create_parent(path)?;
        let (wtx, wrx) = unbounded::<Work>();
        let writer = open(path, false)?;
        writer
            .execute_batch("PRAGMA wal_autocheckpoint = 0;")
            .map_err(StoreError::from_sqlite)?;
        let (nudge, nudges) = crossbeam_channel::bounded(1);
        let copier = LogCopier::start(path, nudges)?;
        spawn_writer(writer, wrx, nudge)?;
        Ok(Self {
            conns: Conns::Pooled {
                writer: wtx,
                readers: Arc::new(Mutex::new(vec![open(path, true)?])),
                max_idle_readers: readers.max(1),
            },
            path: Arc::from(path),
            bulk: Arc::default(),
            copier: Some(copier),
        })
    }

    /// Opens (creating if needed) the database file on one connection, for reads and writes,
    /// used on the calling thread: for a one-shot command, whose reads and writes take turns
    /// anyway. Each write is a transaction of its own (nothing to commit together with), and
    /// a read runs on the same connection, seeing every committed write.
    pub fn open_solo(path: &Path) -> Result<Self, StoreError> {
        create_parent(path)?;
        let mut conn = open(path, false)?;
        conn.busy_handler(Some(napping()))
            .map_err(StoreError::from_sqlite)?;
        Ok(Self {
            conns: Conns::Solo(Arc::new(Mutex::new(conn))),
            path: Arc::from(path),
            bulk: Arc::default(),
            copier: None,
        })
    }

    /// The solo connection, locked. A lock poisoned by a body that panicked is taken over,
    /// and what that body may have left behind undone: its transaction, a reader's flag.
    fn lock_solo(conn: &Mutex<Connection>) -> std::sync::MutexGuard<'_, Connection> {
        conn.lock().unwrap_or_else(|poisoned| {
            conn.clear_poison();
            let conn = poisoned.into_inner();
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            let _ = conn.execute_batch("PRAGMA query_only = OFF");
            conn
        })
    }

    /// Bulk-loading mode: commits do not wait for the disk and do not check references,
    /// the writer's cache is larger, and the pages go through a rollback journal when no other
    /// process has the database open (through the log and a checkpointer thread otherwise).
    /// A crash of the process loses at most the transaction under way; a crash of the
    /// machine may lose more, as with any unsynchronized write. Does nothing if on already.
    pub(crate) async fn begin_bulk(&self) -> Result<(), StoreError> {
        if self.bulk_state().is_some() {
            return Ok(());
        }
        // An idle reader keeps the log open, which would keep the database in WAL mode; so
        // does the log copier's connection.
        self.drop_idle_readers();
        if let Some(c) = &self.copier {
            c.pause(true);
        }
        let journal = self
            .on_writer(|conn| {
                conn.execute_batch(
                    "PRAGMA foreign_keys = OFF; PRAGMA synchronous = OFF; \
                     PRAGMA cache_size = -262144;",
                )
                .map_err(StoreError::from_sqlite)?;
                // Leaving WAL mode needs the database to itself: ask without waiting.
                conn.busy_timeout(Duration::ZERO)
                    .map_err(StoreError::from_sqlite)?;
                let mode = conn.query_row("PRAGMA journal_mode = TRUNCATE", [], |r| {
                    r.get::<_, String>(0)
                });
                conn.busy_timeout(BUSY_TIMEOUT)
                    .map_err(StoreError::from_sqlite)?;
                let journal = matches!(mode.as_deref(), Ok("truncate"));
                if !journal {
                    conn.execute_batch("PRAGMA wal_autocheckpoint = 0;")
                        .map_err(StoreError::from_sqlite)?;
                }
                Ok(journal)
            })
            .await;
        let journal = match journal {
            Ok(j) => j,
            Err(e) => {
                if let Some(c) = &self.copier {
                    c.pause(false);
                }
                return Err(e);
            }
        };
        let bulk = if journal {
            Bulk::Journal
        } else {
            Bulk::Wal(self.start_checkpointer()?)
        };
        *self.bulk_state() = Some(bulk);
        Ok(())
    }

    /// Leaves bulk-loading mode: back to WAL mode, synchronous commits and checked references.
    pub(crate) async fn end_bulk(&self) -> Result<(), StoreError> {
        let Some(bulk) = self.bulk_state().take() else {
            return Ok(());
        };
        const NORMAL: &str = "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536; \
             PRAGMA foreign_keys = ON;";
        // The log copier copies a server's log (`LogCopier`); a solo writer copies its own.
        let autocheckpoint = match self.copier {
            Some(_) => "PRAGMA wal_autocheckpoint = 0;",
            None => "PRAGMA wal_autocheckpoint = 1000;",
        };
        let copier = self.copier.clone();
        self.on_writer(move |conn| {
            let back = match bulk {
                Bulk::Journal => conn
                    .query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0))
                    .map_err(StoreError::from_sqlite)
                    .and_then(|mode| match mode.as_str() {
                        "wal" => Ok(()),
                        _ => Err(StoreError::Pool(format!(
                            "the database stayed in journal mode {mode} after a bulk load"
                        ))),
                    }),
                Bulk::Wal(checkpointer) => {
                    checkpointer.finish();
                    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);")
                        .map_err(StoreError::from_sqlite)
                }
            };
            if let Some(c) = copier {
                c.pause(false);
            }
            // Synchronous commits and checked references come back even if the mode did not.
            conn.execute_batch(NORMAL)
                .map_err(StoreError::from_sqlite)?;
            conn.execute_batch(autocheckpoint)
                .map_err(StoreError::from_sqlite)?;
            back
        })
        .await?;
        // Readers opened during the load start again from the file's mode.
        self.drop_idle_readers();
        Ok(())
    }

    fn drop_idle_readers(&self) {
        if let Conns::Pooled { readers, .. } = &self.conns {
            readers.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    fn bulk_state(&self) -> std::sync::MutexGuard<'_, Option<Bulk>> {
        self.bulk.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts a checkpointer thread (see `Checkpointer`).
    fn start_checkpointer(&self) -> Result<Checkpointer, StoreError> {
        let conn = open(&self.path, false)?;
        // Like the writer's commits during the load, its copies do not wait for the disk.
        conn.execute_batch("PRAGMA synchronous = OFF;")
            .map_err(StoreError::from_sqlite)?;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpointer".into())
            .spawn(move || {
                while !flag.load(std::sync::atomic::Ordering::Relaxed) {
                    // A passive checkpoint waits for nobody; what it cannot copy yet, the
                    // next round or the final checkpoint copies.
                    let _ = conn.execute_batch("PRAGMA wal_checkpoint(PASSIVE)");
                    std::thread::sleep(Duration::from_millis(20));
                }
            })
            .map_err(|e| StoreError::Pool(format!("cannot start a database thread: {e}")))?;
        Ok(Checkpointer { stop, thread })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Work waiting for the writer thread (none when solo).
    #[cfg(test)]
    pub(crate) fn queued(&self) -> usize {
        match &self.conns {
            Conns::Pooled { writer, .. } => writer.len(),
            Conns::Solo(_) => 0,
        }
    }

    /// Whether the database was opened on one connection (`open_solo`).
    #[cfg(test)]
    pub(crate) fn is_solo(&self) -> bool {
        matches!(self.conns, Conns::Solo(_))
    }

    /// Runs `f` on the writer thread (solo: here, on the one connection), outside any
    /// transaction.
    pub(crate) async fn on_writer<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let writer = match &self.conns {
            Conns::Pooled { writer, .. } => writer,
            Conns::Solo(conn) => return f(&mut Self::lock_solo(conn)),
        };
        let (tx, rx) = tokio::sync::oneshot::channel();
        writer
            .send(Work::Raw(Box::new(move |conn| {
                let _ = tx.send(f(conn));
            })))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` on the writer thread inside a write transaction, which may be shared with
    /// other bodies (group commit): `f`'s changes are undone alone when it fails, and its
    /// value is returned once the transaction is committed. Solo: here, in a transaction of
    /// its own on the one connection.
    pub(crate) async fn in_transaction<T, E, F>(&self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Connection) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let writer = match &self.conns {
            Conns::Pooled { writer, .. } => writer,
            Conns::Solo(conn) => return solo_transaction(&mut Self::lock_solo(conn), f),
        };
        let (tx, rx) = tokio::sync::oneshot::channel::<Result<T, E>>();
        let job: TxJob = Box::new(move |conn| match conn {
            Err(e) => (false, Box::new(move |_| drop(tx.send(Err(E::from(e)))))),
            Ok(conn) => match f(conn) {
                Ok(value) => (
                    true,
                    Box::new(move |committed| {
                        drop(tx.send(committed.map(|()| value).map_err(E::from)))
                    }),
                ),
                Err(e) => (false, Box::new(move |_| drop(tx.send(Err(e))))),
            },
        });
        writer
            .send(Work::Tx(job))
            .map_err(|_| E::from(StoreError::Closed))?;
        rx.await.map_err(|_| E::from(StoreError::Closed))?
    }

    /// Runs `f` here, on a pooled read-only connection (opened when none is idle). Solo: on
    /// the one connection, made read-only while `f` runs, as a pooled reader is.
    pub(crate) fn with_reader<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let (readers, max_idle_readers) = match &self.conns {
            Conns::Pooled {
                readers,
                max_idle_readers,
                ..
            } => (readers, *max_idle_readers),
            Conns::Solo(conn) => {
                let mut conn = Self::lock_solo(conn);
                // A flag pragma takes effect when prepared: run afresh each time, not cached.
                conn.execute_batch("PRAGMA query_only = ON")
                    .map_err(StoreError::from_sqlite)?;
                let result = f(&mut conn);
                let writable = conn
                    .execute_batch("PRAGMA query_only = OFF")
                    .map_err(StoreError::from_sqlite);
                return result.and_then(|value| writable.map(|()| value));
            }
        };
        let idle = readers.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match idle {
            Some(c) => c,
            None => open(&self.path, true)?,
        };
        let result = f(&mut conn);
        let mut pool = readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < max_idle_readers {
            pool.push(conn);
        }
        result
    }
}

/// SQLite numbers `$`-parameters by first appearance; `?NNN` keeps the written number. Most
/// statements name their parameters in order (`$1` first, then `$2`…), where both agree:
/// those are used as written, without a copy.
pub(crate) fn rewrite_placeholders(sql: &str) -> std::borrow::Cow<'_, str> {
    let bytes = sql.as_bytes();
    if numbered_in_order(sql) {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut start = 0;
    for (i, pair) in bytes.windows(2).enumerate() {
        if pair[0] == b'$' && pair[1].is_ascii_digit() {
            out.push_str(&sql[start..i]);
            out.push('?');
            start = i + 1;
        }
    }
    out.push_str(&sql[start..]);
    std::borrow::Cow::Owned(out)
}

/// Whether every `$N` first appears in the order of its number (`$1`, then `$2`…; repeats
/// anywhere), so that SQLite's numbering by first appearance gives each its written number.
fn numbered_in_order(sql: &str) -> bool {
    let bytes = sql.as_bytes();
    let mut next: u64 = 1;
    let mut i = 0;
    // `str::find` with a single ASCII character searches a word at a time.
    while let Some(at) = sql.get(i..).and_then(|rest| rest.find('$')) {
        let start = i + at + 1;
        let mut end = start;
        let mut n: u64 = 0;
        while let Some(d) = bytes.get(end).filter(|b| b.is_ascii_digit()) {
            n = n.saturating_mul(10).saturating_add(u64::from(d - b'0'));
            end += 1;
        }
        if end > start {
            if bytes[start] == b'0' || n > next {
                return false;
            }
            if n == next {
                next += 1;
            }
        }
        i = end;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::rewrite_placeholders;
    use std::borrow::Cow;

    #[test]
    fn placeholders_in_order_are_kept() {
        let sql = "UPDATE t SET a = $2, b = $3 WHERE id = $1";
        assert!(matches!(rewrite_placeholders(sql), Cow::Owned(_)));
        let sql = "SELECT a FROM t WHERE b = $1 AND c = $2 OR d = $1 AND e = $3";
        assert!(matches!(rewrite_placeholders(sql), Cow::Borrowed(_)));
        assert!(matches!(rewrite_placeholders("SELECT 1"), Cow::Borrowed(_)));
        assert_eq!(
            rewrite_placeholders("SELECT a FROM t WHERE b = $1 AND c = $3"),
            "SELECT a FROM t WHERE b = ?1 AND c = ?3"
        );
        assert_eq!(rewrite_placeholders("SELECT $01"), "SELECT ?01");
    }

    #[test]
    fn placeholders_keep_their_numbers() {
        assert_eq!(
            rewrite_placeholders("SELECT a FROM t WHERE b = $2 AND c = $1 OR d = $10"),
            "SELECT a FROM t WHERE b = ?2 AND c = ?1 OR d = ?10"
        );
    }
}
