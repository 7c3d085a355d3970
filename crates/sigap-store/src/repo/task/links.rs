//! Links between the tasks of two processes, each kind of link in a table of its own
//! (`problem_incident`: the incidents a problem explains): who linked them and when. A task
//! is linked to one other at most through a table (linking it again moves it).

use super::{Extension, Record, from_row, select};
use crate::error::StoreResult;
use crate::tx::Tx;
use jiff::Timestamp;
use sigap_domain::TaskId;

/// A link table: its name and its columns of the one task (`parent`) and of the tasks
/// linked to it (`child`, unique).
#[derive(Debug, Clone, Copy)]
pub struct Links {
    pub table: &'static str,
    pub parent: &'static str,
    pub child: &'static str,
}

impl Links {
    /// Links `child` to `parent`, moving it from another parent; whether anything changed.
    pub async fn link(
        &self,
        tx: &mut Tx<'_>,
        parent: TaskId,
        child: TaskId,
        by: &str,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let Links {
            table,
            parent: p,
            child: c,
        } = self;
        let sql = format!(
            "INSERT INTO {table} ({c}, {p}, linked_at, linked_by) VALUES ($1, $2, $3, $4) \
             ON CONFLICT ({c}) DO UPDATE SET {p} = excluded.{p}, linked_at = excluded.linked_at, \
             linked_by = excluded.linked_by WHERE {table}.{p} <> excluded.{p}"
        );
        let params = [child.into(), parent.into(), now.into(), by.into()];
        Ok(tx.execute(&sql, &params).await? > 0)
    }

    /// Unlinks `child` from `parent`; whether it was linked.
    pub async fn unlink(
        &self,
        tx: &mut Tx<'_>,
        parent: TaskId,
        child: TaskId,
    ) -> StoreResult<bool> {
        let Links {
            table,
            parent: p,
            child: c,
        } = self;
        let sql = format!("DELETE FROM {table} WHERE {c} = $1 AND {p} = $2");
        Ok(tx.execute(&sql, &[child.into(), parent.into()]).await? > 0)
    }

    /// The task `child` is linked to: its id, number and short description.
    pub async fn parent_of(
        &self,
        tx: &mut Tx<'_>,
        child: TaskId,
    ) -> StoreResult<Option<(TaskId, String, String)>> {
        let Links {
            table,
            parent: p,
            child: c,
        } = self;
        let sql = format!(
            "SELECT t.id, t.number, t.short_description FROM {table} l \
             JOIN task t ON t.id = l.{p} WHERE l.{c} = $1"
        );
        match tx.query_opt(&sql, &[child.into()]).await? {
            Some(r) => Ok(Some((r.get(0)?, r.get(1)?, r.get(2)?))),
            None => Ok(None),
        }
    }

    /// The tasks linked to `parent`, in the order they were linked.
    pub async fn children<E: Extension>(
        &self,
        tx: &mut Tx<'_>,
        parent: TaskId,
    ) -> StoreResult<Vec<Record<E>>> {
        let Links {
            table,
            parent: p,
            child: c,
        } = self;
        let sql = format!(
            "{} JOIN {table} l ON l.{c} = t.id WHERE l.{p} = $1 ORDER BY l.linked_at, t.number",
            select::<E>()
        );
        tx.query(&sql, &[parent.into()])
            .await?
            .iter()
            .map(from_row)
            .collect()
    }
}
