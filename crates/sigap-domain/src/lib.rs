//! Pure rules of Sigap: typed identifiers, parsed values and the clock.
//! No I/O lives here; every other crate depends on this one.

pub mod announcement;
pub mod approval;
pub mod calendar;
pub mod catalog;
pub mod clock;
pub mod cmdb;
pub mod event;
pub mod ids;
pub mod mail;
pub mod portfolio;
pub mod process;
pub mod report;
pub mod sla;
pub mod task;
pub mod values;

pub use clock::{Clock, FakeClock, SystemClock};
pub use ids::*;
pub use portfolio::{Criticality, PortfolioStatus, Stage};
pub use values::*;
