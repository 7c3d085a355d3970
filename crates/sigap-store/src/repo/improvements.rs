//! The improvement register as stored: initiatives of continual improvement (an owner, the
//! KPI they move as a saved report, baseline and target, a status, when they started) and
//! their review notes.

use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use jiff::civil::Date;
use sigap_domain::{ImprovementId, ImprovementReviewId, PersonId, ReportId};

#[derive(Debug, Clone, PartialEq)]
pub struct Improvement {
    pub id: ImprovementId,
    pub title: String,
    pub description: String,
    pub owner: Option<(PersonId, String)>,
    /// The KPI: a saved report, and its name.
    pub report: Option<(ReportId, String)>,
    pub baseline: f64,
    pub target: f64,
    pub status: String,
    pub started_on: Date,
    pub due_on: Option<Date>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// An initiative to write.
#[derive(Debug, Clone, PartialEq)]
pub struct ImprovementWrite<'a> {
    pub id: ImprovementId,
    pub title: &'a str,
    pub description: &'a str,
    pub owner_id: Option<PersonId>,
    pub report_id: Option<ReportId>,
    pub baseline: f64,
    pub target: f64,
    pub status: &'a str,
    pub started_on: Date,
    pub due_on: Option<Date>,
    pub now: Timestamp,
}

/// A review note.
#[derive(Debug, Clone, PartialEq)]
pub struct Review {
    pub id: ImprovementReviewId,
    pub author_id: Option<PersonId>,
    pub author: String,
    pub note: String,
    /// The initiative's status the note left it in.
    pub status: String,
    /// The KPI's value when the note was written.
    pub measured: Option<f64>,
    pub created_at: Timestamp,
}

const COLUMNS: &str = "i.id, i.title, i.description, i.owner_id, p.name, i.report_id, r.name, \
    i.baseline, i.target, i.status, i.started_on, i.due_on, i.created_at, i.updated_at, i.version";
const FROM: &str = "improvement i LEFT JOIN person p ON p.id = i.owner_id \
    LEFT JOIN report r ON r.id = i.report_id";

fn from_row(r: &Row) -> StoreResult<Improvement> {
    let owner: Option<PersonId> = r.get(3)?;
    let owner_name: Option<String> = r.get(4)?;
    let report: Option<ReportId> = r.get(5)?;
    let report_name: Option<String> = r.get(6)?;
    Ok(Improvement {
        id: r.get(0)?,
        title: r.get(1)?,
        description: r.get(2)?,
        owner: owner.zip(owner_name),
        report: report.zip(report_name),
        baseline: r.get(7)?,
        target: r.get(8)?,
        status: r.get(9)?,
        started_on: r.get(10)?,
        due_on: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
        version: r.get(14)?,
    })
}

/// An initiative by its id, if it is there.
pub async fn get(tx: &mut Tx<'_>, id: ImprovementId) -> StoreResult<Option<Improvement>> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM {FROM} WHERE i.id = $1"),
        &[id.into()],
    )
    .await?
    .map(|r| from_row(&r))
    .transpose()
}

/// The most initiatives the register lists.
pub const MAX_LISTED: i64 = 1_000;

/// The initiatives, those of `status` only if one is given, newest start first.
pub async fn list(tx: &mut Tx<'_>, status: Option<&str>) -> StoreResult<Vec<Improvement>> {
    let rows = match status {
        Some(s) => {
            tx.query(
                &format!(
                    "SELECT {COLUMNS} FROM {FROM} WHERE i.status = $1 \
                     ORDER BY i.started_on DESC, i.id LIMIT {MAX_LISTED}"
                ),
                &[s.into()],
            )
            .await?
        }
        None => {
            tx.query(
                &format!(
                    "SELECT {COLUMNS} FROM {FROM} ORDER BY i.started_on DESC, i.id \
                     LIMIT {MAX_LISTED}"
                ),
                &[],
            )
            .await?
        }
    };
    rows.iter().map(from_row).collect()
}

pub async fn insert(tx: &mut Tx<'_>, w: &ImprovementWrite<'_>) -> StoreResult<()> {
    let started = w.started_on.to_string();
    let due = w.due_on.map(|d| d.to_string());
    tx.execute(
        "INSERT INTO improvement (id, title, description, owner_id, report_id, baseline, target, \
         status, started_on, due_on, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1)",
        &[
            w.id.into(),
            w.title.into(),
            w.description.into(),
            w.owner_id.into(),
            w.report_id.into(),
            w.baseline.into(),
            w.target.into(),
            w.status.into(),
            started.as_str().into(),
            due.as_deref().into(),
            w.now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Writes an initiative's fields over the stored ones at `version`; whether it was still at
/// it.
pub async fn update(tx: &mut Tx<'_>, w: &ImprovementWrite<'_>, version: i64) -> StoreResult<bool> {
    let started = w.started_on.to_string();
    let due = w.due_on.map(|d| d.to_string());
    let n = tx
        .execute(
            "UPDATE improvement SET title = $2, description = $3, owner_id = $4, report_id = $5, \
             baseline = $6, target = $7, status = $8, started_on = $9, due_on = $10, \
             updated_at = $11, version = version + 1 WHERE id = $1 AND version = $12",
            &[
                w.id.into(),
                w.title.into(),
                w.description.into(),
                w.owner_id.into(),
                w.report_id.into(),
                w.baseline.into(),
                w.target.into(),
                w.status.into(),
                started.as_str().into(),
                due.as_deref().into(),
                w.now.into(),
                version.into(),
            ],
        )
        .await?;
    Ok(n == 1)
}

/// Sets an initiative's status (with a review), at `version`; whether it was still at it.
pub async fn set_status(
    tx: &mut Tx<'_>,
    id: ImprovementId,
    status: &str,
    now: Timestamp,
    version: i64,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE improvement SET status = $2, updated_at = $3, version = version + 1 \
             WHERE id = $1 AND version = $4",
            &[id.into(), status.into(), now.into(), version.into()],
        )
        .await?;
    Ok(n == 1)
}

/// Removes an initiative and its reviews; whether it was there.
pub async fn delete(tx: &mut Tx<'_>, id: ImprovementId) -> StoreResult<bool> {
    tx.execute(
        "DELETE FROM improvement_review WHERE improvement_id = $1",
        &[id.into()],
    )
    .await?;
    Ok(tx
        .execute("DELETE FROM improvement WHERE id = $1", &[id.into()])
        .await?
        == 1)
}

/// The most review notes an initiative keeps.
pub const MAX_REVIEWS: i64 = 500;

/// An initiative's review notes, oldest first.
pub async fn reviews(tx: &mut Tx<'_>, id: ImprovementId) -> StoreResult<Vec<Review>> {
    let rows = tx
        .query(
            &format!(
                "SELECT id, author_id, author, note, status, measured, created_at \
                 FROM improvement_review WHERE improvement_id = $1 \
                 ORDER BY created_at, id LIMIT {MAX_REVIEWS}"
            ),
            &[id.into()],
        )
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Review {
                id: r.get(0)?,
                author_id: r.get(1)?,
                author: r.get(2)?,
                note: r.get(3)?,
                status: r.get(4)?,
                measured: r.get(5)?,
                created_at: r.get(6)?,
            })
        })
        .collect()
}

/// How many review notes an initiative has.
pub async fn count_reviews(tx: &mut Tx<'_>, id: ImprovementId) -> StoreResult<i64> {
    let r = tx
        .query_one(
            "SELECT COUNT(*) FROM improvement_review WHERE improvement_id = $1",
            &[id.into()],
        )
        .await?;
    r.get(0)
}

pub async fn insert_review(
    tx: &mut Tx<'_>,
    improvement: ImprovementId,
    r: &Review,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO improvement_review (id, improvement_id, author_id, author, note, status, \
         measured, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            r.id.into(),
            improvement.into(),
            r.author_id.into(),
            r.author.as_str().into(),
            r.note.as_str().into(),
            r.status.as_str().into(),
            r.measured.into(),
            r.created_at.into(),
        ],
    )
    .await?;
    Ok(())
}
