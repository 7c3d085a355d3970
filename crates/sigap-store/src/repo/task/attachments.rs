//! Files attached to a task (their content kept in the database).

use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::{PersonId, TaskId};

/// An attachment's description (without its content).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: sigap_domain::AttachmentId,
    pub task_id: TaskId,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub created_at: Timestamp,
}

fn attachment_from_row(r: &Row) -> StoreResult<Attachment> {
    Ok(Attachment {
        id: r.get(0)?,
        task_id: r.get(1)?,
        filename: r.get(2)?,
        content_type: r.get(3)?,
        size: r.get(4)?,
        sha256: r.get(5)?,
        uploaded_by: r.get(6)?,
        created_at: r.get(7)?,
    })
}

#[allow(clippy::too_many_arguments)]
pub async fn insert_attachment(
    tx: &mut Tx<'_>,
    task: TaskId,
    filename: &str,
    content_type: &str,
    sha256: &str,
    content: &[u8],
    uploaded_by: (Option<PersonId>, &str),
    now: Timestamp,
) -> StoreResult<Attachment> {
    let id = sigap_domain::AttachmentId::new();
    tx.execute(
        "INSERT INTO attachment (id, task_id, filename, content_type, size, sha256, content, uploaded_by_id, \
         uploaded_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            id.into(),
            task.into(),
            filename.into(),
            content_type.into(),
            (content.len() as i64).into(),
            sha256.into(),
            content.into(),
            uploaded_by.0.into(),
            uploaded_by.1.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(Attachment {
        id,
        task_id: task,
        filename: filename.to_owned(),
        content_type: content_type.to_owned(),
        size: content.len() as i64,
        sha256: sha256.to_owned(),
        uploaded_by: uploaded_by.1.to_owned(),
        created_at: now,
    })
}

const ATTACHMENT_COLUMNS: &str =
    "id, task_id, filename, content_type, size, sha256, uploaded_by, created_at";

pub async fn attachments_of(tx: &mut Tx<'_>, task: TaskId) -> StoreResult<Vec<Attachment>> {
    tx.query(
        &format!(
            "SELECT {ATTACHMENT_COLUMNS} FROM attachment WHERE task_id = $1 ORDER BY created_at, id"
        ),
        &[task.into()],
    )
    .await?
    .iter()
    .map(attachment_from_row)
    .collect()
}

/// An attachment with its content.
pub async fn attachment(
    tx: &mut Tx<'_>,
    id: sigap_domain::AttachmentId,
) -> StoreResult<(Attachment, Vec<u8>)> {
    let r = tx
        .query_one(
            &format!("SELECT {ATTACHMENT_COLUMNS}, content FROM attachment WHERE id = $1"),
            &[id.into()],
        )
        .await?;
    Ok((attachment_from_row(&r)?, r.get(8)?))
}
