//! Browser sessions. The cookie carries a random id; only its hash is stored.

use crate::error::StoreResult;
use crate::tx::Tx;
use jiff::Timestamp;
use sigap_domain::PersonId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebSession {
    pub person_id: PersonId,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub last_seen_at: Timestamp,
}

pub async fn insert(
    tx: &mut Tx<'_>,
    id_hash: &str,
    person: PersonId,
    now: Timestamp,
    expires_at: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO web_session (id_hash, person_id, created_at, expires_at, last_seen_at) VALUES ($1, $2, $3, $4, $3)",
        &[id_hash.into(), person.into(), now.into(), expires_at.into()],
    )
    .await
    .map(|_| ())
}

pub async fn get(tx: &mut Tx<'_>, id_hash: &str) -> StoreResult<Option<WebSession>> {
    let row = tx
        .query_opt(
            "SELECT person_id, created_at, expires_at, last_seen_at FROM web_session WHERE id_hash = $1",
            &[id_hash.into()],
        )
        .await?;
    row.map(|r| {
        Ok(WebSession {
            person_id: r.get(0)?,
            created_at: r.get(1)?,
            expires_at: r.get(2)?,
            last_seen_at: r.get(3)?,
        })
    })
    .transpose()
}

/// Slides the expiry forward.
pub async fn touch(
    tx: &mut Tx<'_>,
    id_hash: &str,
    now: Timestamp,
    expires_at: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE web_session SET last_seen_at = $2, expires_at = $3 WHERE id_hash = $1",
        &[id_hash.into(), now.into(), expires_at.into()],
    )
    .await
    .map(|_| ())
}

pub async fn delete(tx: &mut Tx<'_>, id_hash: &str) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM web_session WHERE id_hash = $1",
        &[id_hash.into()],
    )
    .await
    .map(|_| ())
}

/// Ends every session of a person (after a password change, say), except `keep`.
pub async fn delete_for_person(
    tx: &mut Tx<'_>,
    person: PersonId,
    keep: Option<&str>,
) -> StoreResult<u64> {
    tx.execute(
        "DELETE FROM web_session WHERE person_id = $1 AND id_hash <> $2",
        &[person.into(), keep.unwrap_or("").into()],
    )
    .await
}

pub async fn purge_expired(tx: &mut Tx<'_>, now: Timestamp) -> StoreResult<u64> {
    tx.execute(
        "DELETE FROM web_session WHERE expires_at < $1",
        &[now.into()],
    )
    .await
}
