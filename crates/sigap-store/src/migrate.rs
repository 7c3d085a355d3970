//! Our own migration runner: versioned SQL files per dialect, embedded in the binary,
//! each applied in a transaction and recorded in `schema_migrations`. On PostgreSQL a lock
//! row serialises nodes that start together (no advisory locks).

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
pub(crate) const SQLITE: &[Migration] = migrations!("sqlite": (1, "0001", "init"), (2, "0002", "portfolio_cmdb"), (3, "0003", "incidents"), (4, "0004", "saved_filters"), (5, "0005", "slm"), (6, "0006", "locations"), (7, "0007", "unassigned_queue"), (8, "0008", "binary_uuids"), (9, "0009", "resolved_index"), (10, "0010", "sla_due_instant"), (11, "0011", "problems"), (12, "0012", "requests"), (13, "0013", "changes"), (14, "0014", "knowledge"), (15, "0015", "knowledge_suggest"), (16, "0016", "mail"), (17, "0017", "events"), (18, "0018", "event_rules"), (19, "0019", "event_chain"), (20, "0020", "reports"), (21, "0021", "improvements"), (22, "0022", "announcements"), (23, "0023", "major_index"));
pub(crate) const POSTGRES: &[Migration] = migrations!("postgres": (1, "0001", "init"), (2, "0002", "portfolio_cmdb"), (3, "0003", "incidents"), (4, "0004", "saved_filters"), (5, "0005", "slm"), (6, "0006", "locations"), (7, "0007", "unassigned_queue"), (8, "0008", "binary_uuids"), (9, "0009", "resolved_index"), (10, "0010", "sla_due_instant"), (11, "0011", "problems"), (12, "0012", "requests"), (13, "0013", "changes"), (14, "0014", "knowledge"), (15, "0015", "knowledge_suggest"), (16, "0016", "mail"), (17, "0017", "events"), (18, "0018", "event_rules"), (19, "0019", "event_chain"), (20, "0020", "reports"), (21, "0021", "improvements"), (22, "0022", "announcements"), (23, "0023", "major_index"));

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
    pub current: i64,
    pub latest: i64,
}

impl SchemaStatus {
    pub fn is_current(&self) -> bool {
        self.current == self.latest
    }
}

const BOOKKEEPING: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS schema_lock (id BIGINT PRIMARY KEY);
INSERT INTO schema_lock (id) VALUES (1) ON CONFLICT DO NOTHING;";

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
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            rusqlite::params![m.version, m.name, now_text()],
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
                let mut applied = Vec::new();
                for m in POSTGRES.iter().filter(|m| m.version <= last) {
                    let tx = client.transaction().await.map_err(StoreError::from_pg)?;
                    tx.query("SELECT id FROM schema_lock WHERE id = 1 FOR UPDATE", &[])
                        .await
                        .map_err(StoreError::from_pg)?;
                    let done = tx
                        .query(
                            "SELECT 1 FROM schema_migrations WHERE version = $1",
                            &[&m.version],
                        )
                        .await
                        .map_err(StoreError::from_pg)?;
                    if !done.is_empty() {
                        tx.commit().await.map_err(StoreError::from_pg)?;
                        continue;
                    }
                    tx.batch_execute(m.sql).await.map_err(|e| {
                        StoreError::Schema(format!(
                            "migration {} ({}) failed: {e}",
                            m.version, m.name
                        ))
                    })?;
                    tx.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                        &[&m.version, &m.name, &now_text()],
                    )
                    .await
                    .map_err(StoreError::from_pg)?;
                    tx.commit().await.map_err(StoreError::from_pg)?;
                    applied.push(m.version);
                }
                Ok(applied)
            }
        }
    }

    /// The newest applied version against the newest this program knows.
    pub async fn schema_status(&self) -> StoreResult<SchemaStatus> {
        let latest = self
            .migrations()
            .iter()
            .map(|m| m.version)
            .max()
            .unwrap_or(0);
        let current = self
            .read(async |tx| {
                let row = tx
                    .query_opt("SELECT max(version) FROM schema_migrations", &[])
                    .await;
                match row {
                    Ok(Some(row)) => row.get::<Option<i64>>(0).map(|v| v.unwrap_or(0)),
                    Ok(None) => Ok(0),
                    // No bookkeeping table yet: nothing applied.
                    Err(_) => Ok(0),
                }
            })
            .await?;
        Ok(SchemaStatus { current, latest })
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
