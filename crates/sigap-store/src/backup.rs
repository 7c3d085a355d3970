//! Backups of the embedded database: a consistent copy of a SQLite database that others go on
//! writing to (attachments are rows in it, so they are in the copy), and such a copy brought
//! back where no database is. PostgreSQL has its own tools (`pg_dump`, base backups with the
//! write-ahead log; `docs/operations.md`).
//!
//! The copy is made by `VACUUM INTO`: one read transaction, so it holds every transaction
//! committed before it began and none after, whatever the writers do meanwhile (they are not
//! held up: in WAL mode a reader and the writer do not wait for each other). It is written
//! beside its destination and renamed into place once it is on disk and checked, so a file
//! under the destination's name is always a whole backup.

use crate::error::{StoreError, StoreResult};
use rusqlite::{Connection, OpenFlags};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// What a backup or a restore copied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    /// The newest migration applied to the copy.
    pub schema_version: i64,
    /// The copy's size.
    pub bytes: u64,
}

fn failed(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backup(what.to_string())
}

/// `path` with `.partial` after its name: where a copy is written before it is renamed.
fn partial(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    path.with_file_name(name)
}

/// Makes `path`'s contents, and its name in its folder, durable.
fn sync(path: &Path) -> StoreResult<()> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| failed(format!("cannot write {} to disk: {e}", path.display())))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // A folder cannot be opened for syncing everywhere; where it can, its entry is made
        // durable too.
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// Checks a copy: SQLite finds it whole, and it is Sigap's (it has the migrations' ledger).
/// Returns its schema version.
fn check(path: &Path) -> StoreResult<i64> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| failed(format!("{} cannot be opened: {e}", path.display())))?;
    let verdict: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .map_err(|e| failed(format!("{} is not a SQLite database: {e}", path.display())))?;
    if verdict != "ok" {
        return Err(failed(format!("{} is damaged: {verdict}", path.display())));
    }
    conn.query_row("SELECT max(version) FROM schema_migrations", [], |r| {
        r.get::<_, Option<i64>>(0)
    })
    .map_err(|_| failed(format!("{} is not a Sigap database", path.display())))?
    .ok_or_else(|| failed(format!("{} has no schema", path.display())))
}

/// Copies the SQLite database at `db` (which may be in use) to `dest`, which must not exist.
pub fn backup_sqlite(db: &Path, dest: &Path) -> StoreResult<Copied> {
    if !db.exists() {
        return Err(failed(format!("there is no database at {}", db.display())));
    }
    if dest.exists() {
        return Err(failed(format!(
            "{} exists already; a backup does not overwrite a file",
            dest.display()
        )));
    }
    let part = partial(dest);
    // A partial copy left by a backup that was stopped is nobody's.
    let _ = std::fs::remove_file(&part);
    let conn = Connection::open_with_flags(
        db,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| failed(format!("cannot open {}: {e}", db.display())))?;
    conn.busy_timeout(Duration::from_secs(30))?;
    let target = part
        .to_str()
        .ok_or_else(|| failed("the backup's path is not valid UTF-8"))?;
    if let Err(e) = conn.execute("VACUUM INTO ?1", [target]) {
        let _ = std::fs::remove_file(&part);
        return Err(failed(format!("cannot copy {}: {e}", db.display())));
    }
    drop(conn);
    let done = check(&part).and_then(|version| {
        sync(&part)?;
        std::fs::rename(&part, dest)
            .map_err(|e| failed(format!("cannot name the backup {}: {e}", dest.display())))?;
        sync(dest)?;
        Ok(version)
    });
    match done {
        Ok(schema_version) => Ok(Copied {
            schema_version,
            bytes: std::fs::metadata(dest).map(|m| m.len()).unwrap_or(0),
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

/// Brings the backup `file` back as the database `dest`, where there must be none (nor its
/// log). `latest` is the newest schema this program knows: a backup made by a newer Sigap is
/// refused. Its folder is made if needed.
pub fn restore_sqlite(file: &Path, dest: &Path, latest: i64) -> StoreResult<Copied> {
    let mut taken = vec![dest.to_path_buf()];
    for suffix in ["-wal", "-shm", "-journal"] {
        let mut name = dest.file_name().unwrap_or_default().to_os_string();
        name.push(suffix);
        taken.push(dest.with_file_name(name));
    }
    if let Some(t) = taken.iter().find(|t| t.exists()) {
        return Err(failed(format!(
            "{} exists: a backup is restored only where there is no database",
            t.display()
        )));
    }
    if !file.is_file() {
        return Err(failed(format!("there is no backup at {}", file.display())));
    }
    let schema_version = check(file)?;
    if schema_version > latest {
        return Err(failed(format!(
            "{} was made by a newer Sigap (schema {schema_version}; this one knows up to {latest})",
            file.display()
        )));
    }
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| failed(format!("cannot make {}: {e}", dir.display())))?;
    }
    let part = partial(dest);
    let done = std::fs::copy(file, &part)
        .map_err(|e| failed(format!("cannot copy {}: {e}", file.display())))
        .and_then(|bytes| {
            sync(&part)?;
            std::fs::rename(&part, dest)
                .map_err(|e| failed(format!("cannot name {}: {e}", dest.display())))?;
            sync(dest)?;
            Ok(bytes)
        });
    match done {
        Ok(bytes) => Ok(Copied {
            schema_version,
            bytes,
        }),
        Err(e) => {
            let _ = std::fs::remove_file(&part);
            Err(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> anyhow::Result<PathBuf> {
        let dir = std::env::temp_dir().join(format!(
            "sigap-backup-{name}-{}",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    fn database(path: &Path, rows: i64) -> anyhow::Result<()> {
        let conn = Connection::open(path)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE schema_migrations (version BIGINT PRIMARY KEY, name TEXT, applied_at TEXT);
             INSERT INTO schema_migrations VALUES (7, 'x', 'now');
             CREATE TABLE t (n INTEGER);",
        )?;
        for n in 0..rows {
            conn.execute("INSERT INTO t VALUES (?1)", [n])?;
        }
        Ok(())
    }

    #[test]
    fn a_backup_is_whole_and_restores_only_where_nothing_is() -> anyhow::Result<()> {
        let dir = folder("round")?;
        let db = dir.join("sigap.db");
        database(&db, 100)?;
        let copy = dir.join("copy.db");
        let made = backup_sqlite(&db, &copy)?;
        assert_eq!(made.schema_version, 7);
        assert!(!partial(&copy).exists());
        // Never over a file.
        assert!(matches!(
            backup_sqlite(&db, &copy),
            Err(StoreError::Backup(_))
        ));
        // Not over a database, nor from a newer Sigap's backup, nor from what is no database.
        assert!(restore_sqlite(&copy, &db, 7).is_err());
        let fresh = dir.join("new").join("sigap.db");
        assert!(restore_sqlite(&copy, &fresh, 6).is_err());
        let junk = dir.join("junk.db");
        std::fs::write(&junk, b"not a database at all, only some text")?;
        assert!(restore_sqlite(&junk, &fresh, 7).is_err());
        assert!(!fresh.exists());
        let back = restore_sqlite(&copy, &fresh, 7)?;
        assert_eq!(back.schema_version, 7);
        let n: i64 =
            Connection::open(&fresh)?.query_row("SELECT count(*) FROM t", [], |r| r.get(0))?;
        assert_eq!(n, 100);
        std::fs::remove_dir_all(&dir)?;
        Ok(())
    }
}
