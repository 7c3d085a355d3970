//! The only crate that knows SQL. Both engines take the same SQL text with `$1…$n`
//! placeholders; dialect-specific SQL is the exception and sits beside its twin.

pub mod backup;
mod chainer;
mod config_cache;
mod db;
mod error;
mod migrate;
mod pg_write;
mod postgres;
mod replica;
mod sqlite;
pub mod testing;
mod tx;
mod value;

pub mod repo;

pub use db::{DatabaseLocation, Db, Store, TxError, retry_serializable};
pub use error::{StoreError, StoreResult};
pub use migrate::{Fit, Pending, SchemaStatus, latest_schema};
pub use postgres::redact_url;
pub use replica::{Lsn, LsnError, ReplicaState, ReplicaStatus};
pub use repo::*;
pub use tx::{Dialect, Tx};

#[cfg(test)]
mod tests;
