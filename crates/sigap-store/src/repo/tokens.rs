//! Personal API tokens. Only a hash of the secret is stored.

use super::decode;
use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use sigap_domain::{PersonId, TokenId, TokenScope};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: TokenId,
    pub person_id: PersonId,
    pub name: String,
    pub scope: TokenScope,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

const COLUMNS: &str =
    "id, person_id, name, scope, created_at, expires_at, last_used_at, revoked_at, secret_hash";

fn from_row(row: &Row) -> StoreResult<ApiToken> {
    Ok(ApiToken {
        id: row.get(0)?,
        person_id: row.get(1)?,
        name: row.get(2)?,
        scope: decode(3, row.get(3)?, TokenScope::parse)?,
        created_at: row.get(4)?,
        expires_at: row.get(5)?,
        last_used_at: row.get(6)?,
        revoked_at: row.get(7)?,
    })
}

#[allow(clippy::too_many_arguments)]
pub async fn insert(
    tx: &mut Tx<'_>,
    id: TokenId,
    person: PersonId,
    name: &str,
    secret_hash: &str,
    scope: TokenScope,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> StoreResult<ApiToken> {
    tx.execute(
        "INSERT INTO api_token (id, person_id, name, secret_hash, scope, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            id.into(),
            person.into(),
            name.into(),
            secret_hash.into(),
            scope.code().into(),
            now.into(),
            expires_at.into(),
        ],
    )
    .await?;
    get(tx, id).await.map(|(t, _)| t)
}

/// A token and its stored secret hash.
pub async fn get(tx: &mut Tx<'_>, id: TokenId) -> StoreResult<(ApiToken, String)> {
    let row = tx
        .query_one(
            &format!("SELECT {COLUMNS} FROM api_token WHERE id = $1"),
            &[id.into()],
        )
        .await?;
    Ok((from_row(&row)?, row.get(8)?))
}

pub async fn find(tx: &mut Tx<'_>, id: TokenId) -> StoreResult<Option<(ApiToken, String)>> {
    let row = tx
        .query_opt(
            &format!("SELECT {COLUMNS} FROM api_token WHERE id = $1"),
            &[id.into()],
        )
        .await?;
    row.map(|r| Ok((from_row(&r)?, r.get(8)?))).transpose()
}

/// A token, its stored secret hash and its person, in one query (the path of every API call).
pub async fn find_with_person(
    tx: &mut Tx<'_>,
    id: TokenId,
) -> StoreResult<Option<(ApiToken, String, super::people::Person)>> {
    static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        format!(
            "SELECT t.id, t.person_id, t.name, t.scope, t.created_at, t.expires_at, t.last_used_at, t.revoked_at, \
             t.secret_hash, {} {} JOIN api_token t ON t.person_id = p.id WHERE t.id = $1",
            super::people::COLUMNS,
            super::people::FROM
        )
    });
    let row = tx.query_opt(&SQL, &[id.into()]).await?;
    row.map(|r| Ok((from_row(&r)?, r.get(8)?, super::people::from_row_at(&r, 9)?)))
        .transpose()
}

pub async fn of_person(tx: &mut Tx<'_>, person: PersonId) -> StoreResult<Vec<ApiToken>> {
    tx.query(
        &format!(
            "SELECT {COLUMNS} FROM api_token WHERE person_id = $1 ORDER BY created_at DESC, id DESC"
        ),
        &[person.into()],
    )
    .await?
    .iter()
    .map(from_row)
    .collect()
}

/// Marks a token revoked; false if it was already revoked.
pub async fn revoke(tx: &mut Tx<'_>, id: TokenId, now: Timestamp) -> StoreResult<bool> {
    let n = tx
        .execute(
            "UPDATE api_token SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL",
            &[id.into(), now.into()],
        )
        .await?;
    Ok(n > 0)
}

pub async fn touch(tx: &mut Tx<'_>, id: TokenId, now: Timestamp) -> StoreResult<()> {
    tx.execute(
        "UPDATE api_token SET last_used_at = $2 WHERE id = $1",
        &[id.into(), now.into()],
    )
    .await
    .map(|_| ())
}
