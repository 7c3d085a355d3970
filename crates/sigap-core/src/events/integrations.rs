//! The monitoring tools that send events, each with a secret of its own (shown once, kept
//! as its SHA-256): a tool signs in with `Authorization: Bearer <secret>` and may only send
//! events. Administrators add, rename, turn off, give a new secret to and remove them.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::principal::{AuthMethod, Ctx, Principal};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sigap_domain::{IntegrationId, Role, parse_line};
use sigap_store::events::{self as repo, Integration};
use std::sync::Arc;

/// The kinds of sender: the generic events endpoint, and the webhooks taken apart.
pub const INTEGRATION_KINDS: &[&str] = &["generic", "alertmanager", "grafana", "zabbix"];

/// What an integration's secret starts with (a token of a person's starts otherwise).
pub const SECRET_PREFIX: &str = "sigev_";

/// Administrators who may write (not a read-only token): who manages event management.
pub(super) fn admins(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require(Role::Admin)?;
    if ctx.principal.can_write() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn new_secret() -> AppResult<String> {
    Ok(format!(
        "{SECRET_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(crate::secrets::random_bytes::<32>()?)
    ))
}

/// The principal of an integration's secret: it may send events, nothing else.
pub async fn integration_principal(core: &Core, secret: &str) -> AppResult<Arc<Principal>> {
    let secret = secret.trim();
    if !secret.starts_with(SECRET_PREFIX) || secret.len() > 200 {
        return Err(AppError::Unauthenticated);
    }
    let hash = crate::secrets::sha256_hex(secret);
    let found = core
        .store
        .read(async move |tx| Ok::<_, AppError>(repo::integration_by_secret(tx, &hash).await?))
        .await?;
    let i = found.ok_or(AppError::Unauthenticated)?;
    let mut p = Principal::system(&format!("integration:{}", i.name));
    p.roles = sigap_domain::RoleSet::new(Vec::new());
    p.method = AuthMethod::Integration { id: i.id };
    Ok(Arc::new(p))
}

/// An integration and, once, its secret.
#[derive(Debug, Clone)]
pub struct Made {
    pub integration: Integration,
    pub secret: Option<String>,
}

fn parse_kind(kind: &str) -> AppResult<String> {
    let k = kind.trim();
    if INTEGRATION_KINDS.contains(&k) {
        Ok(k.to_owned())
    } else {
        Err(AppError::field(
            "kind",
            "invalid_choice",
            format!("must be one of: {}", INTEGRATION_KINDS.join(", ")),
        ))
    }
}

fn name_taken(e: sigap_store::StoreError) -> AppError {
    match e {
        sigap_store::StoreError::Conflict { target } if target.contains("name") => {
            AppError::field("name", "taken", "another integration has this name")
        }
        e => e.into(),
    }
}

pub async fn integrations(core: &Core, ctx: &Ctx) -> AppResult<Vec<Integration>> {
    ctx.principal.require(Role::Admin)?;
    core.store
        .read(async |tx| Ok::<_, AppError>(repo::integrations(tx).await?))
        .await
}

/// Adds an integration; its secret is in the answer, and only there.
pub async fn create_integration(core: &Core, ctx: &Ctx, name: &str, kind: &str) -> AppResult<Made> {
    admins(ctx)?;
    let name = parse_line(name, 100)
        .map_err(|e| AppError::Validation(vec![crate::FieldError::from_invalid("name", e)]))?;
    let kind = parse_kind(kind)?;
    let secret = new_secret()?;
    let hash = crate::secrets::sha256_hex(&secret);
    let (actor, now) = (Actor::of(ctx), core.now());
    let i = Integration {
        id: IntegrationId::new(),
        name,
        kind,
        active: true,
        last_event_at: None,
        created_at: now,
        updated_at: now,
        version: 1,
    };
    let made = i.clone();
    core.store
        .write(async move |tx| {
            repo::insert_integration(tx, &made, &hash)
                .await
                .map_err(name_taken)?;
            audit::record(
                tx,
                &actor,
                now,
                "event_integration",
                &made.id.to_string(),
                "create",
                json!({"name": made.name, "kind": made.kind}),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    Ok(Made {
        integration: i,
        secret: Some(secret),
    })
}

/// A change of an integration: a new name, on or off, a new secret.
#[derive(Debug, Clone, Default)]
pub struct IntegrationChange {
    pub name: Option<String>,
    pub active: Option<bool>,
    pub new_secret: bool,
}

pub async fn update_integration(
    core: &Core,
    ctx: &Ctx,
    id: &str,
    change: IntegrationChange,
    version: Option<i64>,
) -> AppResult<Made> {
    admins(ctx)?;
    let id = IntegrationId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let name =
        match &change.name {
            Some(n) => Some(parse_line(n, 100).map_err(|e| {
                AppError::Validation(vec![crate::FieldError::from_invalid("name", e)])
            })?),
            None => None,
        };
    let secret = if change.new_secret {
        Some(new_secret()?)
    } else {
        None
    };
    let hash = secret.as_deref().map(crate::secrets::sha256_hex);
    let (actor, now) = (Actor::of(ctx), core.now());
    let active = change.active;
    let i = core
        .store
        .write(async move |tx| {
            let mut i = match repo::integration(tx, id).await {
                Ok(i) => i,
                Err(sigap_store::StoreError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            };
            if version.is_some_and(|v| v != i.version) {
                return Err(AppError::PreconditionFailed);
            }
            if let Some(n) = &name {
                i.name = n.clone();
            }
            if let Some(a) = active {
                i.active = a;
            }
            i.updated_at = now;
            if !repo::update_integration(tx, &i, hash.as_deref())
                .await
                .map_err(name_taken)?
            {
                return Err(AppError::PreconditionFailed);
            }
            i.version += 1;
            audit::record(
                tx,
                &actor,
                now,
                "event_integration",
                &i.id.to_string(),
                "update",
                json!({"name": i.name, "active": i.active, "new_secret": hash.is_some()}),
            )
            .await?;
            Ok::<_, AppError>(i)
        })
        .await?;
    Ok(Made {
        integration: i,
        secret,
    })
}

/// Removes an integration; one that is not there is removed already.
pub async fn delete_integration(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    admins(ctx)?;
    let Some(id) = IntegrationId::parse(id.trim()) else {
        return Ok(());
    };
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            if !repo::delete_integration(tx, id).await? {
                return Ok(());
            }
            audit::record(
                tx,
                &actor,
                now,
                "event_integration",
                &id.to_string(),
                "delete",
                json!({}),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await
}
