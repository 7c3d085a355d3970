//! Announcements as stored: a title and body, how much it matters, who sees it, and from
//! when until when.

use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::{AnnouncementId, PersonId};

#[derive(Debug, Clone, PartialEq)]
pub struct Announcement {
    pub id: AnnouncementId,
    pub title: String,
    pub body: String,
    pub severity: String,
    pub audience: String,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub author: Option<(PersonId, String)>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// An announcement to write.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnouncementWrite<'a> {
    pub id: AnnouncementId,
    pub title: &'a str,
    pub body: &'a str,
    pub severity: &'a str,
    pub audience: &'a str,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub author_id: Option<PersonId>,
    pub now: Timestamp,
}

const COLUMNS: &str = "a.id, a.title, a.body, a.severity, a.audience, a.starts_at, a.ends_at, \
    a.author_id, p.name, a.created_at, a.updated_at, a.version";
const FROM: &str = "announcement a LEFT JOIN person p ON p.id = a.author_id";

fn from_row(r: &Row) -> StoreResult<Announcement> {
    let author: Option<PersonId> = r.get(7)?;
    let author_name: Option<String> = r.get(8)?;
    Ok(Announcement {
        id: r.get(0)?,
        title: r.get(1)?,
        body: r.get(2)?,
        severity: r.get(3)?,
        audience: r.get(4)?,
        starts_at: r.get(5)?,
        ends_at: r.get(6)?,
        author: author.zip(author_name),
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        version: r.get(11)?,
    })
}

pub async fn get(tx: &mut Tx<'_>, id: AnnouncementId) -> StoreResult<Option<Announcement>> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM {FROM} WHERE a.id = $1"),
        &[id.into()],
    )
    .await?
    .map(|r| from_row(&r))
    .transpose()
}

/// The most announcements a list gives.
pub const MAX_LISTED: i64 = 500;

/// Every announcement, the latest start first.
pub async fn all(tx: &mut Tx<'_>) -> StoreResult<Vec<Announcement>> {
    let rows = tx
        .query(
            &format!(
                "SELECT {COLUMNS} FROM {FROM} ORDER BY a.starts_at DESC, a.id LIMIT {MAX_LISTED}"
            ),
            &[],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

/// The announcements of two audiences running at `now`: outages first, then the latest
/// start.
pub async fn current(
    tx: &mut Tx<'_>,
    audiences: [&str; 2],
    now: Timestamp,
) -> StoreResult<Vec<Announcement>> {
    let rows = tx
        .query(
            &format!(
                "SELECT {COLUMNS} FROM {FROM} WHERE a.audience IN ($1, $2) AND a.starts_at <= $3 \
                 AND (a.ends_at IS NULL OR a.ends_at > $3) \
                 ORDER BY CASE a.severity WHEN 'outage' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END, \
                 a.starts_at DESC, a.id LIMIT {MAX_LISTED}"
            ),
            &[audiences[0].into(), audiences[1].into(), now.into()],
        )
        .await?;
    rows.iter().map(from_row).collect()
}

pub async fn insert(tx: &mut Tx<'_>, w: &AnnouncementWrite<'_>) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO announcement (id, title, body, severity, audience, starts_at, ends_at, \
         author_id, created_at, updated_at, version) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1)",
        &[
            w.id.into(),
            w.title.into(),
            w.body.into(),
            w.severity.into(),
            w.audience.into(),
            w.starts_at.into(),
            w.ends_at.into(),
            w.author_id.into(),
            w.now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Writes an announcement over the stored one at `version`; whether it was still at it.
pub async fn update(tx: &mut Tx<'_>, w: &AnnouncementWrite<'_>, version: i64) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE announcement SET title = $2, body = $3, severity = $4, audience = $5, \
             starts_at = $6, ends_at = $7, updated_at = $8, version = version + 1 \
             WHERE id = $1 AND version = $9",
            &[
                w.id.into(),
                w.title.into(),
                w.body.into(),
                w.severity.into(),
                w.audience.into(),
                w.starts_at.into(),
                w.ends_at.into(),
                w.now.into(),
                version.into(),
            ],
        )
        .await?;
    Ok(n == 1)
}

/// Removes an announcement; whether it was there.
pub async fn delete(tx: &mut Tx<'_>, id: AnnouncementId) -> StoreResult<bool> {
    Ok(tx
        .execute("DELETE FROM announcement WHERE id = $1", &[id.into()])
        .await?
        == 1)
}
