//! How many requests of events one node takes in at once (the server's
//! `event_intake_at_once`): a request beyond them is turned away with 429 and `Retry-After`
//! before anything of it is kept, so that a flood of events cannot take every connection to
//! the database. The count belongs to the application, not to the process.

use sigap_core::AppError;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The places of the requests taken in at once.
#[derive(Debug)]
pub struct IntakeGate {
    at_once: usize,
    busy: AtomicUsize,
}

/// A place among the requests taken in at once, given back when dropped.
#[derive(Debug)]
pub struct IntakePlace<'a>(&'a AtomicUsize);

impl IntakeGate {
    /// At most `at_once` requests at once (at least one).
    pub fn new(at_once: usize) -> Self {
        Self {
            at_once: at_once.max(1),
            busy: AtomicUsize::new(0),
        }
    }

    /// A place, or 429 (come back in a second) when all are taken.
    pub fn take(&self) -> Result<IntakePlace<'_>, AppError> {
        let before = self.busy.fetch_add(1, Ordering::AcqRel);
        if before >= self.at_once {
            self.busy.fetch_sub(1, Ordering::AcqRel);
            metrics::counter!("sigap_events_turned_away_total").increment(1);
            return Err(AppError::RateLimited {
                retry_after_secs: 1,
            });
        }
        Ok(IntakePlace(&self.busy))
    }
}

impl Drop for IntakePlace<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn places_are_counted_and_given_back() -> Result<(), AppError> {
        let gate = IntakeGate::new(2);
        let a = gate.take()?;
        let b = gate.take()?;
        assert!(matches!(
            gate.take(),
            Err(AppError::RateLimited {
                retry_after_secs: 1
            })
        ));
        drop(a);
        let c = gate.take()?;
        drop((b, c));
        assert_eq!(gate.busy.load(Ordering::Acquire), 0);
        Ok(())
    }
}
