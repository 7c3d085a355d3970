//! In-app notifications: what Sigap tells a person (a review that is due, later assignments
//! and approvals), shown on their home page.

use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::{NotificationId, PersonId, TaskId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub id: NotificationId,
    pub person_id: PersonId,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub link: String,
    pub created_at: Timestamp,
    pub read_at: Option<Timestamp>,
}

#[derive(Debug, Clone)]
pub struct NewNotification<'a> {
    pub person_id: PersonId,
    pub kind: &'a str,
    pub subject: &'a str,
    pub body: &'a str,
    pub link: &'a str,
    /// The task it is about, if any (its mail's subject and thread).
    pub task_id: Option<TaskId>,
}

const COLUMNS: &str = "id, person_id, kind, subject, body, link, created_at, read_at";

fn from_row(row: &Row) -> StoreResult<Notification> {
    Ok(Notification {
        id: row.get(0)?,
        person_id: row.get(1)?,
        kind: row.get(2)?,
        subject: row.get(3)?,
        body: row.get(4)?,
        link: row.get(5)?,
        created_at: row.get(6)?,
        read_at: row.get(7)?,
    })
}

pub async fn insert(
    tx: &mut Tx<'_>,
    n: &NewNotification<'_>,
    now: Timestamp,
) -> StoreResult<NotificationId> {
    insert_many(tx, std::slice::from_ref(n), now)
        .await?
        .pop()
        .ok_or(crate::error::StoreError::NotFound)
}

/// Writes many notifications at once (a sweep's warnings): their ids, in order.
pub async fn insert_many(
    tx: &mut Tx<'_>,
    notes: &[NewNotification<'_>],
    now: Timestamp,
) -> StoreResult<Vec<NotificationId>> {
    let rows: Vec<(NotificationId, &NewNotification<'_>)> =
        notes.iter().map(|n| (NotificationId::new(), n)).collect();
    tx.insert_rows(
        "notification",
        "id, person_id, kind, subject, body, link, created_at, task_id",
        &rows,
        |(id, n), out| {
            out.extend::<[crate::value::P<'_>; _]>([
                (*id).into(),
                n.person_id.into(),
                n.kind.into(),
                n.subject.into(),
                n.body.into(),
                n.link.into(),
                now.into(),
                n.task_id.into(),
            ])
        },
    )
    .await?;
    Ok(rows.into_iter().map(|(id, _)| id).collect())
}

/// A person's most recent notifications, unread first.
pub async fn of_person(
    tx: &mut Tx<'_>,
    person: PersonId,
    limit: i64,
) -> StoreResult<Vec<Notification>> {
    tx.query(
        &format!(
            "SELECT {COLUMNS} FROM notification WHERE person_id = $1 \
             ORDER BY CASE WHEN read_at IS NULL THEN 0 ELSE 1 END, created_at DESC, id DESC LIMIT $2"
        ),
        &[person.into(), limit.into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Marks one of a person's notifications read; false when there is no such unread one.
pub async fn mark_read(
    tx: &mut Tx<'_>,
    person: PersonId,
    id: NotificationId,
    now: Timestamp,
) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE notification SET read_at = $3 WHERE id = $1 AND person_id = $2 AND read_at IS NULL",
            &[id.into(), person.into(), now.into()],
        )
        .await?;
    Ok(n > 0)
}
