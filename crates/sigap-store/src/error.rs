//! The storage layer's error type. Callers above see no driver types.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// The record does not exist.
    #[error("record not found")]
    NotFound,
    /// A uniqueness or reference rule refused the write; `target` is `table.column`
    /// for uniqueness, `fk` for a broken reference.
    #[error("constraint violated: {target}")]
    Conflict { target: String },
    /// A concurrent transaction won (SQLSTATE 40001/40P01); the whole transaction may be retried.
    #[error("serialization failure, retry the transaction")]
    Serialization,
    /// The record's version did not match (optimistic concurrency).
    #[error("the record was changed by someone else")]
    VersionMismatch,
    /// A value read from the database could not be decoded.
    #[error("cannot decode column {column}: {detail}")]
    Decode { column: usize, detail: String },
    /// The schema is older or newer than this program.
    #[error("schema: {0}")]
    Schema(String),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("postgres: {}", pg_detail(.0))]
    Postgres(#[source] tokio_postgres::Error),
    #[error("connection pool: {0}")]
    Pool(String),
    /// The embedded engine's threads are gone (shutting down).
    #[error("the database is shutting down")]
    Closed,
    /// A backup or a restore could not be made (and left nothing behind).
    #[error("{0}")]
    Backup(String),
    /// A read recorded an audit entry (only a write transaction may).
    #[error("an audit entry can only be recorded in a write transaction")]
    AuditInRead,
    /// A transaction body awaited something that is not the database.
    #[error("a transaction body must only await database calls")]
    ForeignAwait,
}

/// The server's message and code, which `tokio_postgres::Error`'s own text leaves out.
fn pg_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => format!("{} ({})", db.message(), db.code().code()),
        None => e.to_string(),
    }
}

impl StoreError {
    /// A PostgreSQL error's text with the server's message and code, for a log line.
    pub(crate) fn from_pg_ref(e: &tokio_postgres::Error) -> String {
        pg_detail(e)
    }

    pub fn is_retryable(&self) -> bool {
        matches!(self, StoreError::Serialization)
    }

    pub(crate) fn from_sqlite(err: rusqlite::Error) -> Self {
        if let rusqlite::Error::SqliteFailure(code, Some(msg)) = &err {
            match code.extended_code {
                // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
                2067 | 1555 => {
                    let target = msg
                        .strip_prefix("UNIQUE constraint failed: ")
                        .and_then(|rest| rest.split(',').next())
                        .unwrap_or("unique")
                        .trim()
                        .to_owned();
                    return StoreError::Conflict { target };
                }
                // SQLITE_CONSTRAINT_FOREIGNKEY
                787 => {
                    return StoreError::Conflict {
                        target: "fk".to_owned(),
                    };
                }
                _ => {}
            }
        }
        if let rusqlite::Error::QueryReturnedNoRows = err {
            return StoreError::NotFound;
        }
        StoreError::Sqlite(err)
    }

    pub(crate) fn from_pg(err: tokio_postgres::Error) -> Self {
        if let Some(db) = err.as_db_error() {
            let code = db.code().code();
            match code {
                "40001" | "40P01" => return StoreError::Serialization,
                "23505" => {
                    // detail: Key (login)=(x) already exists.
                    let column = db
                        .detail()
                        .and_then(|d| d.strip_prefix("Key ("))
                        .and_then(|d| d.split(')').next())
                        .and_then(|d| d.split(',').next())
                        .unwrap_or("unique")
                        .trim();
                    let table = db.table().unwrap_or("");
                    return StoreError::Conflict {
                        target: format!("{table}.{column}"),
                    };
                }
                "23503" => {
                    return StoreError::Conflict {
                        target: "fk".to_owned(),
                    };
                }
                _ => {}
            }
        }
        StoreError::Postgres(err)
    }
}

pub type StoreResult<T> = Result<T, StoreError>;
