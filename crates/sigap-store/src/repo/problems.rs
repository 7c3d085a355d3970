//! Problems on the task core: their own table (symptoms, root cause, work-around, fix, the
//! known-error flag), the incidents linked to a problem, and what only problem management
//! asks: linked incidents and their counts, and the trends of incidents no problem explains.

use super::list::Val;
use super::task::{self, ExtCondition, Extension, Record, RecordFields, Statements};
use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::{P, Row};
use jiff::Timestamp;
use sigap_domain::process::problem::ProblemState;
use sigap_domain::task::TaskKind;
use std::sync::LazyLock;

/// A problem's own fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProblemExt {
    pub symptoms: String,
    pub root_cause: String,
    pub cause_code: Option<String>,
    pub workaround: String,
    /// When the work-around was last published to the linked incidents.
    pub workaround_published_at: Option<Timestamp>,
    pub fix: String,
    pub known_error: bool,
    pub known_error_at: Option<Timestamp>,
    pub major: bool,
    pub resolution_code: Option<String>,
    pub resolution_notes: String,
}

impl Extension for ProblemExt {
    type State = ProblemState;
    const KIND: TaskKind = TaskKind::Problem;
    const TABLE: &'static str = "problem";
    const COLUMNS: &'static [&'static str] = &[
        "symptoms",
        "root_cause",
        "cause_code",
        "workaround",
        "workaround_published_at",
        "fix",
        "known_error",
        "known_error_at",
        "major",
        "resolution_code",
        "resolution_notes",
    ];

    fn decode(row: &Row, at: usize) -> StoreResult<Self> {
        Ok(Self {
            symptoms: row.get(at)?,
            root_cause: row.get(at + 1)?,
            cause_code: row.get(at + 2)?,
            workaround: row.get(at + 3)?,
            workaround_published_at: row.get(at + 4)?,
            fix: row.get(at + 5)?,
            known_error: row.get(at + 6)?,
            known_error_at: row.get(at + 7)?,
            major: row.get(at + 8)?,
            resolution_code: row.get(at + 9)?,
            resolution_notes: row.get(at + 10)?,
        })
    }

    fn statements() -> &'static Statements {
        static S: LazyLock<Statements> = LazyLock::new(Statements::of::<ProblemExt>);
        &S
    }

    fn params(&self) -> Vec<P<'_>> {
        vec![
            self.symptoms.as_str().into(),
            self.root_cause.as_str().into(),
            self.cause_code.as_deref().into(),
            self.workaround.as_str().into(),
            self.workaround_published_at.into(),
            self.fix.as_str().into(),
            self.known_error.into(),
            self.known_error_at.into(),
            self.major.into(),
            self.resolution_code.as_deref().into(),
            self.resolution_notes.as_str().into(),
        ]
    }
}

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

// ----- trends -----

pub use sigap_domain::process::problem::TrendBy;

/// The task's column the trends group by.
fn column(by: TrendBy) -> &'static str {
    match by {
        TrendBy::Service => "t.service_id",
        TrendBy::Ci => "t.ci_id",
        TrendBy::Category => "t.category",
    }
}

/// One line of the trends: the service, CI or category (its id, where it has one, and its
/// name) and how many incidents opened in the period have no problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trend {
    pub key: String,
    pub name: String,
    pub incidents: i64,
}

/// The services, CIs or categories with the most incidents opened in `[from, to)` that no
/// problem is linked to, most first.
pub async fn trends(
    tx: &mut Tx<'_>,
    by: TrendBy,
    from: Timestamp,
    to: Timestamp,
    limit: i64,
) -> StoreResult<Vec<Trend>> {
    let key = column(by);
    let (name, join) = match by {
        TrendBy::Service => ("s.name", "JOIN service s ON s.id = t.service_id"),
        TrendBy::Ci => ("c.name", "JOIN ci c ON c.id = t.ci_id"),
        TrendBy::Category => ("t.category", ""),
    };
    let sql = format!(
        "SELECT {key}, {name}, COUNT(*) AS n FROM task t {join} \
         WHERE t.kind = 'incident' AND {key} IS NOT NULL AND t.opened_at >= $1 AND t.opened_at < $2 \
         AND NOT EXISTS (SELECT 1 FROM problem_incident l WHERE l.incident_id = t.id) \
         GROUP BY {key}, {name} ORDER BY n DESC, {name} LIMIT $3"
    );
    let rows = tx
        .query(&sql, &[from.into(), to.into(), limit.into()])
        .await?;
    rows.iter()
        .map(|r| {
            let key = match by {
                TrendBy::Category => r.get::<String>(0)?,
                TrendBy::Service | TrendBy::Ci => r.get::<uuid::Uuid>(0)?.to_string(),
            };
            Ok(Trend {
                key,
                name: r.get(1)?,
                incidents: r.get(2)?,
            })
        })
        .collect()
}

/// The numbers of the incidents behind one line of the trends (to link them to a new
/// problem), oldest first.
pub async fn trend_incidents(
    tx: &mut Tx<'_>,
    by: TrendBy,
    key: &str,
    from: Timestamp,
    to: Timestamp,
    limit: i64,
) -> StoreResult<Vec<String>> {
    let column = column(by);
    let value: P<'_> = match by {
        TrendBy::Category => key.into(),
        TrendBy::Service | TrendBy::Ci => match uuid::Uuid::parse_str(key) {
            Ok(u) => u.into(),
            Err(_) => return Ok(Vec::new()),
        },
    };
    let sql = format!(
        "SELECT t.number FROM task t WHERE t.kind = 'incident' AND {column} = $1 \
         AND t.opened_at >= $2 AND t.opened_at < $3 \
         AND NOT EXISTS (SELECT 1 FROM problem_incident l WHERE l.incident_id = t.id) \
         ORDER BY t.opened_at, t.id LIMIT $4"
    );
    tx.query(&sql, &[value, from.into(), to.into(), limit.into()])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect()
}
