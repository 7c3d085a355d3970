//! Whether an error met on a standby is the standby's, not the query's own.

use crate::error::StoreError;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU8, Ordering};

/// Why a standby's answer is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The standby failed (gone, shut down, a recovery conflict): leave it out for a while.
    Down = 1,
    /// The read tried to write, which a standby refuses: run it on the primary.
    ReadOnly = 2,
}

/// Whether an error from a standby is the standby's (and which), not the query's own.
pub(crate) fn fault_of(e: &tokio_postgres::Error) -> Option<Fault> {
    match e.code().map(|c| c.code()) {
        // No answer from the server: I/O, a closed connection.
        None if e.is_closed()
            || std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) =>
        {
            Some(Fault::Down)
        }
        None => None,
        // A statement timeout (or a cancel) is the query's own.
        Some("57014") => None,
        // connection exceptions, operator intervention (shutdown), insufficient resources,
        // and on a standby a serialization failure or deadlock is a recovery conflict.
        Some(code)
            if code.starts_with("08")
                || code.starts_with("57")
                || code.starts_with("53")
                || code == "40001"
                || code == "40P01" =>
        {
            Some(Fault::Down)
        }
        // read_only_sql_transaction
        Some("25006") => Some(Fault::ReadOnly),
        Some(_) => None,
    }
}

/// The fault a read met on a standby, recorded by `Tx` as the read runs.
#[derive(Debug, Default)]
pub struct FaultCell {
    fault: AtomicU8,
    /// The first error that was the standby's.
    error: OnceLock<String>,
}

impl FaultCell {
    pub(crate) fn record(&self, e: &tokio_postgres::Error) {
        if let Some(f) = fault_of(e) {
            self.fault.fetch_max(f as u8, Ordering::AcqRel);
            let _ = self.error.set(StoreError::from_pg_ref(e));
        }
    }

    pub(crate) fn error(&self) -> &str {
        self.error
            .get()
            .map_or("the connection closed during a read", String::as_str)
    }

    pub(crate) fn get(&self) -> Option<Fault> {
        match self.fault.load(Ordering::Acquire) {
            1 => Some(Fault::Down),
            2 => Some(Fault::ReadOnly),
            _ => None,
        }
    }

    pub(crate) fn down(&self) {
        self.fault.fetch_max(Fault::Down as u8, Ordering::AcqRel);
    }
}
