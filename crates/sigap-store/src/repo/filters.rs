//! Saved views of a list: each person's named filters (a query string per list).

use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::{FilterId, PersonId};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedFilter {
    pub id: FilterId,
    pub person_id: PersonId,
    pub list: String,
    pub name: String,
    pub query: String,
    pub created_at: Timestamp,
}

const COLUMNS: &str = "id, person_id, list, name, query, created_at";

fn from_row(row: &Row) -> StoreResult<SavedFilter> {
    Ok(SavedFilter {
        id: row.get(0)?,
        person_id: row.get(1)?,
        list: row.get(2)?,
        name: row.get(3)?,
        query: row.get(4)?,
        created_at: row.get(5)?,
    })
}

/// A person's filters of one list, by name.
pub async fn of_person(
    tx: &mut Tx<'_>,
    person: PersonId,
    list: &str,
) -> StoreResult<Vec<SavedFilter>> {
    tx.query(
        &format!(
            "SELECT {COLUMNS} FROM saved_filter WHERE person_id = $1 AND list = $2 ORDER BY name, id"
        ),
        &[person.into(), list.into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Saves a filter under its name, replacing the query of one saved before with that name.
pub async fn save(
    tx: &mut Tx<'_>,
    person: PersonId,
    list: &str,
    name: &str,
    query: &str,
    now: Timestamp,
) -> StoreResult<SavedFilter> {
    let rows = tx
        .query(
            &format!(
                "INSERT INTO saved_filter (id, person_id, list, name, query, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (person_id, list, name) DO UPDATE SET query = excluded.query \
                 RETURNING {COLUMNS}"
            ),
            &[
                FilterId::new().into(),
                person.into(),
                list.into(),
                name.into(),
                query.into(),
                now.into(),
            ],
        )
        .await?;
    match rows.first() {
        Some(r) => from_row(r),
        None => Err(crate::StoreError::NotFound),
    }
}

/// Deletes one of a person's filters; false when there is no such filter of theirs.
pub async fn delete(tx: &mut Tx<'_>, person: PersonId, id: FilterId) -> StoreResult<bool> {
    let n = tx
        .execute(
            "DELETE FROM saved_filter WHERE id = $1 AND person_id = $2",
            &[id.into(), person.into()],
        )
        .await?;
    Ok(n > 0)
}

/// How many filters a person keeps on a list.
pub async fn count(tx: &mut Tx<'_>, person: PersonId, list: &str) -> StoreResult<i64> {
    let rows = tx
        .query(
            "SELECT COUNT(*) FROM saved_filter WHERE person_id = $1 AND list = $2",
            &[person.into(), list.into()],
        )
        .await?;
    match rows.first() {
        Some(r) => r.get(0),
        None => Ok(0),
    }
}
