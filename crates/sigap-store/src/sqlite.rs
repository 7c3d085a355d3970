//! Embedded SQLite: one writer thread that owns the write connection, and reader threads.
//! Work is sent to a thread as a closure and runs there without further hops.

use crate::error::StoreError;
use crossbeam_channel::{Receiver, Sender, unbounded};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::time::Duration;

type Job = Box<dyn FnOnce(&mut Connection) + Send + 'static>;

#[derive(Clone)]
pub struct SqliteDb {
    writer: Sender<Job>,
    readers: Sender<Job>,
    path: PathBuf,
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
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(StoreError::from_sqlite)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = NORMAL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )
    .map_err(StoreError::from_sqlite)?;
    if read_only {
        conn.execute_batch("PRAGMA query_only = ON;")
            .map_err(StoreError::from_sqlite)?;
    }
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

fn spawn_worker(name: String, mut conn: Connection, jobs: Receiver<Job>) -> Result<(), StoreError> {
    std::thread::Builder::new()
        .name(name)
        .spawn(move || {
            while let Ok(job) = jobs.recv() {
                job(&mut conn);
            }
        })
        .map(|_| ())
        .map_err(|e| StoreError::Pool(format!("cannot start a database thread: {e}")))
}

impl SqliteDb {
    /// Opens (creating if needed) the database file and starts the writer and `readers` reader threads.
    pub fn open(path: &Path, readers: usize) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    StoreError::Pool(format!("cannot create {}: {e}", parent.display()))
                })?;
            }
        }
        let (wtx, wrx) = unbounded::<Job>();
        spawn_worker("sqlite-writer".into(), open(path, false)?, wrx)?;
        let (rtx, rrx) = unbounded::<Job>();
        for n in 0..readers.max(1) {
            spawn_worker(format!("sqlite-reader-{n}"), open(path, true)?, rrx.clone())?;
        }
        Ok(Self {
            writer: wtx,
            readers: rtx,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` on the writer thread.
    pub(crate) async fn on_writer<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        Self::run(&self.writer, f).await
    }

    /// Runs `f` on a reader thread.
    pub(crate) async fn on_reader<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        Self::run(&self.readers, f).await
    }

    async fn run<T, F>(queue: &Sender<Job>, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        queue
            .send(Box::new(move |conn| {
                let _ = tx.send(f(conn));
            }))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }
}

/// SQLite numbers `$`-parameters by first appearance; `?NNN` keeps the written number.
pub(crate) fn rewrite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::rewrite_placeholders;

    #[test]
    fn placeholders_keep_their_numbers() {
        assert_eq!(
            rewrite_placeholders("SELECT a FROM t WHERE b = $2 AND c = $1 OR d = $10"),
            "SELECT a FROM t WHERE b = ?2 AND c = ?1 OR d = ?10"
        );
    }
}
