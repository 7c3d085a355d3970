//! Personal API tokens: created (shown once), listed, revoked.

use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors};
use crate::principal::Ctx;
use crate::{Core, secrets};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use sigap_domain::{TokenId, TokenScope, parse_line};
use sigap_store::tokens::{self as repo, ApiToken};

#[derive(Debug, Clone, Default)]
pub struct TokenInput {
    pub name: Option<String>,
    pub scope: Option<String>,
    /// RFC 3339 time after which the token stops working.
    pub expires_at: Option<String>,
}

/// Creates a token for the caller; the plain text is returned once and never stored.
pub async fn create(core: &Core, ctx: &Ctx, input: TokenInput) -> AppResult<(ApiToken, String)> {
    let me = ctx.principal.person()?;
    let mut errs = Errors::new();
    let name = errs.take("name", parse_line(input.name.as_deref().unwrap_or(""), 100));
    let scope = match input.scope.as_deref() {
        None => Some(TokenScope::ReadWrite),
        Some(s) => errs.take("scope", TokenScope::parse(s)),
    };
    let now = core.now();
    let expires_at = match input
        .expires_at
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(text) => match text.parse::<Timestamp>() {
            Ok(t) if t > now => Some(t),
            Ok(_) => {
                errs.push(crate::FieldError::new(
                    "expires_at",
                    "in_the_past",
                    "must be in the future",
                ));
                None
            }
            Err(_) => {
                errs.push(crate::FieldError::new(
                    "expires_at",
                    "invalid_time",
                    "must be an RFC 3339 time such as 2027-01-31T00:00:00Z",
                ));
                None
            }
        },
    };
    errs.finish()?;
    let (Some(name), Some(scope)) = (name, scope) else {
        return Err(AppError::Internal(
            "token input parsed without values".into(),
        ));
    };
    let new = secrets::new_token()?;
    let (actor, plaintext, hash, id) = (Actor::of(ctx), new.plaintext, new.secret_hash, new.id);
    let token = core
        .store
        .write(async move |tx| {
            let t = repo::insert(tx, id, me, &name, &hash, scope, expires_at, now).await?;
            audit::record(
                tx,
                &actor,
                now,
                "api_token",
                &t.id.to_string(),
                "create",
                json!({"name": [null, t.name], "scope": [null, t.scope.code()],
                       "expires_at": [null, t.expires_at.map(|e| e.to_string())]}),
            )
            .await?;
            Ok::<_, AppError>(t)
        })
        .await?;
    Ok((token, plaintext))
}

pub async fn list_mine(core: &Core, ctx: &Ctx) -> AppResult<Vec<ApiToken>> {
    let me = ctx.principal.person()?;
    Ok(core
        .store
        .read(async move |tx| repo::of_person(tx, me).await)
        .await?)
}

/// Revokes one of the caller's tokens.
pub async fn revoke(core: &Core, ctx: &Ctx, id: &str) -> AppResult<ApiToken> {
    let me = ctx.principal.person()?;
    let id = TokenId::parse(id).ok_or(AppError::NotFound)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let revoked = core
        .store
        .write(async move |tx| {
            let (t, _) = repo::find(tx, id).await?.ok_or(AppError::NotFound)?;
            if t.person_id != me {
                return Err(AppError::NotFound);
            }
            if repo::revoke(tx, id, now).await? {
                audit::record(
                    tx,
                    &actor,
                    now,
                    "api_token",
                    &id.to_string(),
                    "update",
                    json!({"revoked_at": [null, now.to_string()]}),
                )
                .await?;
            }
            Ok(repo::get(tx, id).await?.0)
        })
        .await?;
    // After the commit, so that no reader can cache the token again before it is revoked.
    core.credentials.tokens.forget(&id);
    Ok(revoked)
}

/// Whether a token is usable at `now`.
pub fn usable(t: &ApiToken, now: Timestamp) -> bool {
    t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now)
}

/// How often `last_used_at` is written at most, so reads stay reads.
pub const TOUCH_INTERVAL: SignedDuration = SignedDuration::from_secs(60);
