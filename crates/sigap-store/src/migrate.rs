//! Our own migration runner: versioned SQL files per dialect, embedded in the binary,
//! each applied in a transaction and recorded in `schema_migrations`. On PostgreSQL a lock
//! row serialises nodes that start together (no advisory locks), and a migration waits at
//! most a second for the locks it needs (then lets the writers queued behind it through and
//! tries again), so that serving nodes' writes never wait long behind it.
//!
//! Migrations expand the schema, so that nodes of the previous version keep serving while
//! it moves forward (`migrations/README.md`). One that contracts it starts with
//! `-- sigap: contract, needs N`: programs whose newest schema is below N cannot serve once
//! it is applied. The ledger keeps that number beside the version, so a node learns it even
//! of a migration newer than itself.

use crate::db::{Db, Store};
use crate::error::{StoreError, StoreResult};
use crate::tx::Dialect;

pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! migrations {
    ($dir:literal: $(($v:literal, $file:literal, $name:literal)),* $(,)?) => {
        &[$(Migration {
            version: $v,
            name: $name,
            sql: include_str!(concat!("../migrations/", $dir, "/", $file, "_", $name, ".sql")),
        }),*]
    };
}

// File names are `NNNN_name.sql`, with the same versions in both folders (a test checks).
pub(crate) const SQLITE: &[Migration] = migrations!("sqlite": (1, "0001", "init"), (2, "0002", "portfolio_cmdb"), (3, "0003", "incidents"), (4, "0004", "saved_filters"), (5, "0005", "slm"), (6, "0006", "locations"), (7, "0007", "unassigned_queue"), (8, "0008", "binary_uuids"), (9, "0009", "resolved_index"), (10, "0010", "sla_due_instant"), (11, "0011", "problems"), (12, "0012", "requests"), (13, "0013", "changes"), (14, "0014", "knowledge"), (15, "0015", "knowledge_suggest"), (16, "0016", "mail"), (17, "0017", "events"), (18, "0018", "event_rules"), (19, "0019", "event_chain"), (20, "0020", "reports"), (21, "0021", "improvements"), (22, "0022", "announcements"), (23, "0023", "major_index"), (24, "0024", "nodes"), (25, "0025", "fewer_waits"), (26, "0026", "audit_pending"), (27, "0027", "config_notify"));
pub(crate) const POSTGRES: &[Migration] = migrations!("postgres": (1, "0001", "init"), (2, "0002", "portfolio_cmdb"), (3, "0003", "incidents"), (4, "0004", "saved_filters"), (5, "0005", "slm"), (6, "0006", "locations"), (7, "0007", "unassigned_queue"), (8, "0008", "binary_uuids"), (9, "0009", "resolved_index"), (10, "0010", "sla_due_instant"), (11, "0011", "problems"), (12, "0012", "requests"), (13, "0013", "changes"), (14, "0014", "knowledge"), (15, "0015", "knowledge_suggest"), (16, "0016", "mail"), (17, "0017", "events"), (18, "0018", "event_rules"), (19, "0019", "event_chain"), (20, "0020", "reports"), (21, "0021", "improvements"), (22, "0022", "announcements"), (23, "0023", "major_index"), (24, "0024", "nodes"), (25, "0025", "fewer_waits"), (26, "0026", "audit_pending"), (27, "0027", "config_notify"));

/// The newest schema version this program knows, on `dialect`.
pub fn latest_schema(dialect: Dialect) -> i64 {
    let all = match dialect {
        Dialect::Sqlite => SQLITE,
        Dialect::Postgres => POSTGRES,
    };
    all.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The versions from `first` to this program's newest (what migrating a database at
/// `first - 1` applies).
#[cfg(test)]
pub(crate) fn from_version(first: i64) -> Vec<i64> {
    SQLITE
        .iter()
        .map(|m| m.version)
        .filter(|v| *v >= first)
        .collect()
}

/// How the database's schema compares with this program's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaStatus {
    /// The newest migration applied.
    pub current: i64,
    /// The newest this program knows.
    pub latest: i64,
    /// The oldest program (by its newest schema) that can serve on the database: what its
    /// contract migrations need; 0 when it was only ever expanded.
    pub needs: i64,
}

/// Whether a program can serve on a database's schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// The schema is the program's own.
    Current,
    /// Migrations the program needs are not applied yet.
    Behind,
    /// A newer program expanded the schema; this one still serves on it.
    Ahead,
    /// A newer program contracted the schema past what this one can serve on.
    TooNew,
}

impl SchemaStatus {
    pub fn is_current(&self) -> bool {
        self.current == self.latest
    }

    pub fn fit(&self) -> Fit {
        if self.needs > self.latest {
            Fit::TooNew
        } else if self.current < self.latest {
            Fit::Behind
        } else if self.current > self.latest {
            Fit::Ahead
        } else {
            Fit::Current
        }
    }

    /// Whether a program of this status can serve.
    pub fn serves(&self) -> bool {
        matches!(self.fit(), Fit::Current | Fit::Ahead)
    }
}

/// A migration not yet applied: its version, name and what it needs of the programs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub version: i64,
    pub name: &'static str,
    /// 0 for an expand migration.
    pub needs: i64,
}

/// The first line of a migration that contracts the schema, before the number it needs.
const CONTRACT: &str = "-- sigap: contract, needs ";

impl Migration {
    /// The oldest program (by its newest schema) that serves once this is applied: 0 unless
    /// it contracts the schema.
    fn needs(&self) -> i64 {
        self.sql
            .lines()
            .take(3)
            .find_map(|l| l.trim().strip_prefix(CONTRACT)?.trim().parse().ok())
            .unwrap_or(0)
    }
}

const BOOKKEEPING: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL,
    needs BIGINT NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS schema_lock (id BIGINT PRIMARY KEY);
INSERT INTO schema_lock (id) VALUES (1) ON CONFLICT DO NOTHING;";

/// The ledger's `needs`, which ledgers made before it lack (an expand change: older
/// programs read only the versions).
const LEDGER_NEEDS_PG: &str =
    "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS needs BIGINT NOT NULL DEFAULT 0";

/// SQLite has no `ADD COLUMN IF NOT EXISTS`.
fn ledger_needs_sqlite(conn: &rusqlite::Connection) -> StoreResult<()> {
    let has: i64 = conn
        .query_row(
            "SELECT count(*) FROM pragma_table_info('schema_migrations') WHERE name = 'needs'",
            [],
            |r| r.get(0),
        )
        .map_err(StoreError::from_sqlite)?;
    if has == 0 {
        conn.execute_batch(
            "ALTER TABLE schema_migrations ADD COLUMN needs BIGINT NOT NULL DEFAULT 0",
        )
        .map_err(StoreError::from_sqlite)?;
    }
    Ok(())
}

/// How long a PostgreSQL migration waits for a lock before it steps back and tries again,
/// and how often it tries.
const LOCK_WAIT: &str = "1s";
const LOCK_TRIES: u32 = 30;

fn now_text() -> String {
    jiff::Timestamp::now().to_string()
}

/// The first line of a SQLite migration that rebuilds tables other tables refer to.
const REBUILDS_TABLES: &str = "-- sigap: rebuilds tables";

/// Applies one SQLite migration in its own transaction, unless it was applied before;
/// returns whether it was applied now.
fn sqlite_step(conn: &rusqlite::Connection, m: &Migration, check_refs: bool) -> StoreResult<bool> {
    conn.execute_batch("BEGIN IMMEDIATE")
        .map_err(StoreError::from_sqlite)?;
    let done: i64 = conn
        .query_row(
            "SELECT count(*) FROM schema_migrations WHERE version = ?1",
            [m.version],
            |r| r.get(0),
        )
        .map_err(StoreError::from_sqlite)?;
    if done > 0 {
        conn.execute_batch("COMMIT")
            .map_err(StoreError::from_sqlite)?;
        return Ok(false);
    }
    let step = (|| -> Result<(), String> {
        conn.execute_batch(m.sql).map_err(|e| e.to_string())?;
        if check_refs {
            let broken = conn
                .prepare("PRAGMA foreign_key_check")
                .and_then(|mut check| Ok(check.query([])?.next()?.is_some()))
                .map_err(|e| e.to_string())?;
            if broken {
                return Err("a reference points at no row after the rebuild".into());
            }
        }
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at, needs) \
             VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![m.version, m.name, now_text(), m.needs()],
        )
        .map_err(|e| e.to_string())?;
        Ok(())
    })();
    match step {
        Ok(_) => {
            conn.execute_batch("COMMIT")
                .map_err(StoreError::from_sqlite)?;
            Ok(true)
        }
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(StoreError::Schema(format!(
                "migration {} ({}) failed: {e}",
                m.version, m.name
            )))
        }
    }
}

/// Why a PostgreSQL migration was not applied.
enum Step {
    /// It waited `LOCK_WAIT` for a lock: nothing was changed, it may try again.
    LockBusy,
    Failed(StoreError),
}

/// Applies one PostgreSQL migration in its own transaction, unless it was applied before;
/// returns whether it was applied now.
async fn pg_step(client: &mut deadpool_postgres::Object, m: &Migration) -> Result<bool, Step> {
    let failed = |e: tokio_postgres::Error| {
        if e.code() == Some(&tokio_postgres::error::SqlState::LOCK_NOT_AVAILABLE) {
            Step::LockBusy
        } else {
            Step::Failed(StoreError::Schema(format!(
                "migration {} ({}) failed: {}",
                m.version,
                m.name,
                StoreError::from_pg(e)
            )))
        }
    };
    let tx = client
        .transaction()
        .await
        .map_err(|e| Step::Failed(StoreError::from_pg(e)))?;
    // Another process migrating: wait for it (as long as it takes), then look again.
    tx.query("SELECT id FROM schema_lock WHERE id = 1 FOR UPDATE", &[])
        .await
        .map_err(|e| Step::Failed(StoreError::from_pg(e)))?;
    let done = tx
        .query(
            "SELECT 1 FROM schema_migrations WHERE version = $1",
            &[&m.version],
        )
        .await
        .map_err(|e| Step::Failed(StoreError::from_pg(e)))?;
    if !done.is_empty() {
        tx.commit()
            .await
            .map_err(|e| Step::Failed(StoreError::from_pg(e)))?;
        return Ok(false);
    }
    tx.batch_execute(&format!("SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
        .await
        .map_err(failed)?;
    tx.batch_execute(m.sql).await.map_err(failed)?;
    tx.execute(
        "INSERT INTO schema_migrations (version, name, applied_at, needs) VALUES ($1, $2, $3, $4)",
        &[&m.version, &m.name, &now_text(), &m.needs()],
    )
    .await
    .map_err(|e| Step::Failed(StoreError::from_pg(e)))?;
    tx.commit().await.map_err(failed)?;
    Ok(true)
}

impl Store {
    fn migrations(&self) -> &'static [Migration] {
        match self.dialect() {
            Dialect::Sqlite => SQLITE,
            Dialect::Postgres => POSTGRES,
        }
    }

    /// Applies every pending migration; returns the versions applied now.
    pub async fn migrate(&self) -> StoreResult<Vec<i64>> {
        self.migrate_to(i64::MAX).await
    }

    /// Applies the pending migrations up to version `last` (tests of an upgrade).
    pub(crate) async fn migrate_to(&self, last: i64) -> StoreResult<Vec<i64>> {
        match &self.db {
            Db::Sqlite(s) => {
                s.on_writer(move |conn| {
                    // Up to date (every start but the first after an upgrade): one read, no
                    // lock taken; two processes starting at once do not wait for each other.
                    if let Ok(mut q) = conn.prepare("SELECT version FROM schema_migrations") {
                        let done: Result<Vec<i64>, _> =
                            q.query_map([], |r| r.get(0)).and_then(Iterator::collect);
                        if let Ok(done) = done {
                            let pending = SQLITE
                                .iter()
                                .any(|m| m.version <= last && !done.contains(&m.version));
                            if !pending {
                                return Ok(Vec::new());
                            }
                        }
                    }
                    conn.execute_batch(BOOKKEEPING)
                        .map_err(StoreError::from_sqlite)?;
                    ledger_needs_sqlite(conn)?;
                    let mut applied = Vec::new();
                    for m in SQLITE.iter().filter(|m| m.version <= last) {
                        // SQLite changes a table's constraints by building it anew, which
                        // needs foreign keys off (they cannot change inside a transaction);
                        // every reference is checked before the rebuild commits.
                        let rebuilds = m.sql.starts_with(REBUILDS_TABLES);
                        if rebuilds {
                            conn.execute_batch("PRAGMA foreign_keys = OFF")
                                .map_err(StoreError::from_sqlite)?;
                        }
                        let outcome = sqlite_step(conn, m, rebuilds);
                        if rebuilds {
                            conn.execute_batch("PRAGMA foreign_keys = ON")
                                .map_err(StoreError::from_sqlite)?;
                        }
                        if outcome? {
                            applied.push(m.version);
                        }
                    }
                    Ok(applied)
                })
                .await
            }
            Db::Postgres(p) => {
                let mut client = p.client().await?;
                // Up to date: one read, no lock taken.
                if let Ok(rows) = client
                    .query("SELECT version FROM schema_migrations", &[])
                    .await
                {
                    let done: Vec<i64> = rows.iter().filter_map(|r| r.try_get(0).ok()).collect();
                    let pending = POSTGRES
                        .iter()
                        .any(|m| m.version <= last && !done.contains(&m.version));
                    if !pending {
                        return Ok(Vec::new());
                    }
                }
                // Two nodes creating the bookkeeping tables at once may collide; the second try wins.
                if client.batch_execute(BOOKKEEPING).await.is_err() {
                    client
                        .batch_execute(BOOKKEEPING)
                        .await
                        .map_err(StoreError::from_pg)?;
                }
                client
                    .batch_execute(LEDGER_NEEDS_PG)
                    .await
                    .map_err(StoreError::from_pg)?;
                let mut applied = Vec::new();
                for m in POSTGRES.iter().filter(|m| m.version <= last) {
                    let mut tries = 0;
                    loop {
                        tries += 1;
                        match pg_step(&mut client, m).await {
                            Ok(true) => applied.push(m.version),
                            Ok(false) => {}
                            // A lock held by a long transaction: the writers queued behind
                            // this migration go through, and it tries again.
                            Err(Step::LockBusy) if tries < LOCK_TRIES => {
                                tracing::warn!(
                                    version = m.version,
                                    tries,
                                    "a migration waited a second for a lock; trying again"
                                );
                                tokio::time::sleep(std::time::Duration::from_millis(
                                    200 * u64::from(tries.min(10)),
                                ))
                                .await;
                                continue;
                            }
                            Err(Step::LockBusy) => {
                                return Err(StoreError::Schema(format!(
                                    "migration {} ({}) could not take its locks in {LOCK_TRIES} tries; \
                                     a long transaction holds them",
                                    m.version, m.name
                                )));
                            }
                            Err(Step::Failed(e)) => return Err(e),
                        }
                        break;
                    }
                }
                Ok(applied)
            }
        }
    }

    /// The migrations this program would apply now.
    pub async fn pending(&self) -> StoreResult<Vec<Pending>> {
        let done = self.applied().await?;
        Ok(self
            .migrations()
            .iter()
            .filter(|m| !done.contains(&m.version))
            .map(|m| Pending {
                version: m.version,
                name: m.name,
                needs: m.needs(),
            })
            .collect())
    }

    /// The versions in the ledger.
    async fn applied(&self) -> StoreResult<Vec<i64>> {
        self.read(async |tx| {
            match tx.query("SELECT version FROM schema_migrations", &[]).await {
                Ok(rows) => rows.iter().map(|r| r.get::<i64>(0)).collect(),
                // No ledger yet: nothing applied.
                Err(_) => Ok(Vec::new()),
            }
        })
        .await
    }

    /// The schema against the newest this program knows: the newest version applied with
    /// every one this program knows before it (a migration missing in between counts as
    /// not reached), and the oldest schema a program must know to serve it.
    pub async fn schema_status(&self) -> StoreResult<SchemaStatus> {
        let latest = self
            .migrations()
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let number = async |sql: &'static str| {
            self.read(async move |tx| match tx.query_opt(sql, &[]).await {
                Ok(Some(row)) => row.get::<Option<i64>>(0).map(|v| v.unwrap_or(0)),
                Ok(None) => Ok(0),
                // No ledger yet (nothing applied), or one from before `needs`.
                Err(_) => Ok(0),
            })
            .await
        };
        let done = self.applied().await?;
        let first_missing = self
            .migrations()
            .iter()
            .map(|m| m.version)
            .find(|v| !done.contains(v));
        let current = done
            .iter()
            .copied()
            .filter(|d| first_missing.is_none_or(|m| *d < m))
            .max()
            .unwrap_or(0);
        let needs = number("SELECT max(needs) FROM schema_migrations").await?;
        Ok(SchemaStatus {
            current,
            latest,
            needs,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn versions_on_disk(dir: &str) -> BTreeSet<(i64, String)> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("migrations")
            .join(dir);
        std::fs::read_dir(path)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                let stem = name.strip_suffix(".sql")?;
                let (v, n) = stem.split_once('_')?;
                Some((v.parse().ok()?, n.to_owned()))
            })
            .collect()
    }

    #[test]
    fn both_dialects_have_the_same_versions_and_all_are_embedded() {
        let sqlite = versions_on_disk("sqlite");
        let postgres = versions_on_disk("postgres");
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres, "migration folders differ");
        let embedded: BTreeSet<(i64, String)> = SQLITE
            .iter()
            .map(|m| (m.version, m.name.to_owned()))
            .collect();
        assert_eq!(embedded, sqlite, "a migration file is not embedded");
        let embedded_pg: BTreeSet<(i64, String)> = POSTGRES
            .iter()
            .map(|m| (m.version, m.name.to_owned()))
            .collect();
        assert_eq!(embedded_pg, postgres);
    }
}
