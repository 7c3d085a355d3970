//! Remembered results of `POST` requests that carried an `Idempotency-Key`.

use crate::error::StoreResult;
use crate::tx::Tx;
use jiff::Timestamp;
use sigap_domain::PersonId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdemState {
    /// This request owns the key now and must finish or abandon it.
    Started,
    /// Another request with this key is still running.
    InProgress { request_hash: String },
    /// The key was used before; here is what was answered.
    Done {
        request_hash: String,
        status: i64,
        location: Option<String>,
        body: String,
    },
}

pub async fn begin(
    tx: &mut Tx<'_>,
    person: PersonId,
    key: &str,
    request_hash: &str,
    now: Timestamp,
) -> StoreResult<IdemState> {
    let n = tx
        .execute(
            "INSERT INTO idempotency_key (person_id, idem_key, request_hash, status, created_at) \
             VALUES ($1, $2, $3, 0, $4) ON CONFLICT DO NOTHING",
            &[person.into(), key.into(), request_hash.into(), now.into()],
        )
        .await?;
    if n > 0 {
        return Ok(IdemState::Started);
    }
    let row = tx
        .query_one(
            "SELECT request_hash, status, location, response_body FROM idempotency_key \
             WHERE person_id = $1 AND idem_key = $2",
            &[person.into(), key.into()],
        )
        .await?;
    let status: i64 = row.get(1)?;
    if status == 0 {
        Ok(IdemState::InProgress {
            request_hash: row.get(0)?,
        })
    } else {
        Ok(IdemState::Done {
            request_hash: row.get(0)?,
            status,
            location: row.get(2)?,
            body: row.get::<Option<String>>(3)?.unwrap_or_default(),
        })
    }
}

pub async fn finish(
    tx: &mut Tx<'_>,
    person: PersonId,
    key: &str,
    status: i64,
    location: Option<&str>,
    body: &str,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE idempotency_key SET status = $3, location = $4, response_body = $5 \
         WHERE person_id = $1 AND idem_key = $2",
        &[
            person.into(),
            key.into(),
            status.into(),
            location.into(),
            body.into(),
        ],
    )
    .await
    .map(|_| ())
}

pub async fn abandon(tx: &mut Tx<'_>, person: PersonId, key: &str) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM idempotency_key WHERE person_id = $1 AND idem_key = $2",
        &[person.into(), key.into()],
    )
    .await
    .map(|_| ())
}

pub async fn purge(tx: &mut Tx<'_>, before: Timestamp) -> StoreResult<u64> {
    tx.execute(
        "DELETE FROM idempotency_key WHERE created_at < $1",
        &[before.into()],
    )
    .await
}
