//! A task's journal: comments the caller sees, work notes internal to the desk, and the
//! record of changed fields; written one at a time or in bulk (imports).

use super::super::decode;
use crate::error::StoreResult;
use crate::tx::Tx;
use jiff::Timestamp;
use sigap_domain::task::JournalKind;
use sigap_domain::{JournalId, PersonId, TaskId};

#[derive(Debug, Clone, PartialEq)]
pub struct JournalEntry {
    pub id: JournalId,
    pub kind: JournalKind,
    pub author_id: Option<PersonId>,
    pub author: String,
    pub body: String,
    pub changes: Option<serde_json::Value>,
    pub created_at: Timestamp,
}

#[allow(clippy::too_many_arguments)]
pub async fn add_entry(
    tx: &mut Tx<'_>,
    task: TaskId,
    kind: JournalKind,
    author_id: Option<PersonId>,
    author: &str,
    body: &str,
    changes: Option<&serde_json::Value>,
    now: Timestamp,
) -> StoreResult<JournalId> {
    let id = JournalId::new();
    // Nothing here needs the row back: sent with the next statement or the commit.
    tx.execute_later(
        "INSERT INTO task_journal (id, task_id, kind, author_id, author, body, changes, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            id.into(),
            task.into(),
            kind.code().into(),
            author_id.into(),
            author.into(),
            body.into(),
            changes.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(id)
}

/// A task's journal, oldest first; without work notes for callers.
pub async fn entries(
    tx: &mut Tx<'_>,
    task: TaskId,
    with_work_notes: bool,
) -> StoreResult<Vec<JournalEntry>> {
    let rows = tx
        .query(&of_task("task_id = $1", with_work_notes), &[task.into()])
        .await?;
    from_rows(&rows)
}

/// The statement of a task's entries, oldest first, the task chosen by `which`.
pub(crate) fn of_task(which: &str, with_work_notes: bool) -> String {
    let comments = if with_work_notes {
        ""
    } else {
        " AND kind = 'comment'"
    };
    format!(
        "SELECT id, kind, author_id, author, body, changes, created_at FROM task_journal \
         WHERE {which}{comments} ORDER BY created_at, id"
    )
}

pub(crate) fn from_rows(rows: &[crate::value::Row]) -> StoreResult<Vec<JournalEntry>> {
    rows.iter()
        .map(|r| {
            Ok(JournalEntry {
                id: r.get(0)?,
                kind: decode(1, r.get(1)?, JournalKind::parse)?,
                author_id: r.get(2)?,
                author: r.get(3)?,
                body: r.get(4)?,
                changes: r.get(5)?,
                created_at: r.get(6)?,
            })
        })
        .collect()
}

/// One journal entry of a bulk insert (imports).
#[derive(Debug, Clone)]
pub struct NewEntry {
    pub task: TaskId,
    pub kind: JournalKind,
    pub author_id: Option<PersonId>,
    pub author: String,
    pub body: String,
    pub changes: Option<serde_json::Value>,
    pub at: Timestamp,
}

const JOURNAL_COLUMNS: &str = "id, task_id, kind, author_id, author, body, changes, created_at";

fn entry_params<'a>(e: &'a NewEntry, out: &mut Vec<crate::value::P<'a>>) {
    out.push(JournalId::new().into());
    out.push(e.task.into());
    out.push(e.kind.code().into());
    out.push(e.author_id.into());
    out.push(e.author.as_str().into());
    out.push(e.body.as_str().into());
    out.push(e.changes.as_ref().into());
    out.push(e.at.into());
}

/// Inserts many journal entries: one prepared single-row statement per entry on SQLite, one
/// binary `COPY` on PostgreSQL (`Tx::insert_rows`).
pub async fn bulk_add_entries(tx: &mut Tx<'_>, entries: &[NewEntry]) -> StoreResult<()> {
    tx.insert_rows("task_journal", JOURNAL_COLUMNS, entries, entry_params)
        .await
}
