//! Remembering `POST` results by `Idempotency-Key`, so a retried request creates nothing new.

use crate::{AppError, AppResult, Core};
use sigap_domain::PersonId;
use sigap_store::idempotency as repo;
pub use sigap_store::idempotency::IdemState;

/// Claims the key for this request, or tells what happened to it before.
pub async fn begin(
    core: &Core,
    person: PersonId,
    key: &str,
    request_hash: &str,
) -> AppResult<IdemState> {
    let (key, hash, now) = (key.to_owned(), request_hash.to_owned(), core.now());
    core.store
        .write(async move |tx| Ok::<_, AppError>(repo::begin(tx, person, &key, &hash, now).await?))
        .await
}

/// Stores the answer given under the key.
pub async fn finish(
    core: &Core,
    person: PersonId,
    key: &str,
    status: u16,
    location: Option<String>,
    body: String,
) -> AppResult<()> {
    let key = key.to_owned();
    core.store
        .write(async move |tx| {
            Ok::<_, AppError>(
                repo::finish(
                    tx,
                    person,
                    &key,
                    i64::from(status),
                    location.as_deref(),
                    &body,
                )
                .await?,
            )
        })
        .await
}

/// Forgets the key (the request failed in a way worth retrying).
pub async fn abandon(core: &Core, person: PersonId, key: &str) -> AppResult<()> {
    let key = key.to_owned();
    core.store
        .write(async move |tx| Ok::<_, AppError>(repo::abandon(tx, person, &key).await?))
        .await
}
