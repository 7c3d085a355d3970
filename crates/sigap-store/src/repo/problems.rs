//! Problems on the task core: their own table (symptoms, root cause, work-around, fix, the
//! known-error flag), the incidents linked to a problem and the known errors.

use super::list::Val;
use super::task::{self, ExtCondition, Record, RecordFields};
use jiff::Timestamp;
use sigap_domain::process::problem::ProblemState;
use sigap_domain::task::TaskKind;

task::extension!(
    /// A problem's own fields.
    ProblemExt: ProblemState, TaskKind::Problem, "problem" {
        symptoms: String,
        root_cause: String,
        cause_code: Option<String>,
        workaround: String,
        /// When the work-around was last published to the linked incidents.
        workaround_published_at: Option<Timestamp>,
        fix: String,
        known_error: bool,
        known_error_at: Option<Timestamp>,
        major: bool,
        resolution_code: Option<String>,
        resolution_notes: String,
    }
);

pub type Problem = Record<ProblemExt>;
pub type ProblemFields = RecordFields<ProblemExt>;

/// Known errors only (or problems that are not).
pub fn known_error(is: bool) -> ExtCondition {
    ExtCondition::new("x.known_error = {}", Val::Bool(is))
}

/// The incidents a problem explains; an incident has one problem at most.
pub const INCIDENTS: task::links::Links = task::links::Links {
    table: "problem_incident",
    parent: "problem_id",
    child: "incident_id",
};
