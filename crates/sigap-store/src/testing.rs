//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database created
//! from `SIGAP_TEST_DATABASE_URL` and dropped afterwards.

use crate::db::{DatabaseLocation, Store};
use crate::error::StoreError;

/// The variable naming a PostgreSQL server for tests (any database on it; tests create their own).
pub const PG_URL_VAR: &str = "SIGAP_TEST_DATABASE_URL";
/// When set to 1, a missing PostgreSQL URL fails the tests instead of skipping that backend.
pub const PG_REQUIRED_VAR: &str = "SIGAP_REQUIRE_POSTGRES";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Whether PostgreSQL tests should run: `Ok(Some(url))`, `Ok(None)` to skip, `Err` when required but unset.
pub fn postgres_url() -> Result<Option<String>, String> {
    match std::env::var(PG_URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Ok(Some(url)),
        _ if std::env::var(PG_REQUIRED_VAR).is_ok_and(|v| v == "1") => Err(format!(
            "{PG_REQUIRED_VAR}=1 but {PG_URL_VAR} is not set: PostgreSQL tests cannot be skipped here"
        )),
        _ => Ok(None),
    }
}

/// A database that exists for one test.
pub struct TestDb {
    pub location: DatabaseLocation,
    pub url: String,
    admin: Option<(String, String)>,
    _dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for TestDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestDb").field("url", &self.url).finish()
    }
}

fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let after_scheme = base.find("://").map_or(0, |i| i + 3);
    let base = match base[after_scheme..].find('/') {
        Some(slash) => &base[..after_scheme + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDb {
    /// A fresh, empty database (not yet migrated).
    pub async fn fresh(backend: Backend) -> Result<Self, StoreError> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().map_err(|e| StoreError::Pool(e.to_string()))?;
                let path = dir.path().join("sigap.db");
                Ok(Self {
                    url: format!("sqlite://{}", path.display()),
                    location: DatabaseLocation::Sqlite(path),
                    admin: None,
                    _dir: Some(dir),
                })
            }
            Backend::Postgres => {
                let admin_url = postgres_url()
                    .map_err(StoreError::Pool)?
                    .ok_or_else(|| StoreError::Pool(format!("{PG_URL_VAR} is not set")))?;
                let name = format!("sigap_t_{}", uuid::Uuid::now_v7().simple());
                let (client, conn) = tokio_postgres::connect(&admin_url, tokio_postgres::NoTls)
                    .await
                    .map_err(StoreError::from_pg)?;
                let task = tokio::spawn(conn);
                client
                    .batch_execute(&format!("CREATE DATABASE {name}"))
                    .await
                    .map_err(StoreError::from_pg)?;
                drop(client);
                let _ = task.await;
                let url = with_database(&admin_url, &name);
                Ok(Self {
                    location: DatabaseLocation::Postgres(url.clone()),
                    url,
                    admin: Some((admin_url, name)),
                    _dir: None,
                })
            }
        }
    }

    /// A database made elsewhere (by the test itself, on a server of its own), left as it is
    /// when dropped.
    pub fn at(url: &str) -> Result<Self, StoreError> {
        Ok(Self {
            location: DatabaseLocation::parse(url)?,
            url: url.to_owned(),
            admin: None,
            _dir: None,
        })
    }

    /// Opens a store on this database and migrates it.
    pub async fn store(&self) -> Result<Store, StoreError> {
        let store = Store::open(&self.location, 4).await?;
        store.migrate().await?;
        Ok(store)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some((admin_url, name)) = self.admin.take() {
            // Drop runs inside the test's runtime; use a thread with its own.
            let _ = std::thread::spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    if let Ok((client, conn)) =
                        tokio_postgres::connect(&admin_url, tokio_postgres::NoTls).await
                    {
                        tokio::spawn(conn);
                        let _ = client
                            .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

/// Runs raw SQL, for tests that must reach around the application (to tamper with the audit
/// log, say). Not for application code.
pub async fn execute_raw(store: &Store, sql: &str) -> Result<u64, StoreError> {
    let sql = sql.to_owned();
    store
        .write(async move |tx| tx.execute(&sql, &[]).await)
        .await
}

#[cfg(test)]
mod tests {
    use super::with_database;

    #[test]
    fn database_name_is_replaced() {
        assert_eq!(
            with_database("postgres://u@h:5432/test?sslmode=disable", "x"),
            "postgres://u@h:5432/x?sslmode=disable"
        );
        assert_eq!(with_database("postgres://u@h", "x"), "postgres://u@h/x");
    }
}
