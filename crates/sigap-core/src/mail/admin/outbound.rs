//! The outbound server: where Sigap sends its mail through.

use super::{admins, in_range, one_of, readers};
use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::principal::Ctx;
use serde_json::{Map, json};
use sigap_domain::{Email, parse_line};
use sigap_store::mail::{self as repo, Outbound};

/// The outbound server as shown: without its password.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundView {
    pub outbound: Outbound,
    pub has_password: bool,
}

#[derive(Debug, Clone, Default)]
pub struct OutboundInput {
    pub enabled: Option<bool>,
    pub host: Option<String>,
    pub port: Option<i64>,
    pub security: Option<String>,
    pub username: Option<String>,
    /// A new password; `Some(None)` removes it.
    pub password: Option<Option<String>>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
}

fn outbound_view(mut o: Outbound) -> OutboundView {
    let has_password = !o.password.is_empty();
    o.password = String::new();
    OutboundView {
        outbound: o,
        has_password,
    }
}

pub async fn outbound(core: &Core, ctx: &Ctx) -> AppResult<OutboundView> {
    readers(ctx)?;
    let o = core
        .store
        .read(async move |tx| Ok::<_, AppError>(repo::outbound(tx).await?))
        .await?;
    Ok(outbound_view(o))
}

/// The outbound server with its password: the program's own use (sending).
pub async fn outbound_settings(core: &Core) -> AppResult<Outbound> {
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::outbound(tx).await?))
        .await
}

pub async fn set_outbound(
    core: &Core,
    ctx: &Ctx,
    input: OutboundInput,
    if_match: Option<i64>,
) -> AppResult<OutboundView> {
    admins(ctx)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let o =
        core.store
            .write(async move |tx| {
                let before = repo::outbound(tx).await?;
                crate::check_version(if_match, before.version)?;
                let mut o = before.clone();
                let mut errs = Errors::new();
                if let Some(e) = input.enabled {
                    o.enabled = e;
                }
                if let Some(h) = &input.host {
                    if h.trim().is_empty() {
                        o.host = String::new();
                    } else if let Some(h) = errs.take("host", parse_line(h, 253)) {
                        o.host = h;
                    }
                }
                in_range(&mut errs, "port", input.port, 1, 65_535, &mut o.port);
                one_of(
                    &mut errs,
                    "security",
                    &input.security,
                    &["tls", "starttls", "none"],
                    &mut o.security,
                );
                if let Some(u) = &input.username {
                    if u.trim().is_empty() {
                        o.username = String::new();
                    } else if let Some(u) = errs.take("username", parse_line(u, 320)) {
                        o.username = u;
                    }
                }
                match &input.password {
                    None => {}
                    Some(None) => o.password = String::new(),
                    Some(Some(p)) if p.is_empty() => {}
                    Some(Some(p)) if p.len() > 1024 || p.chars().any(char::is_control) => errs
                        .push(FieldError::new(
                            "password",
                            "invalid",
                            "at most 1024 characters, no control characters",
                        )),
                    Some(Some(p)) => o.password = p.clone(),
                }
                if let Some(a) = &input.from_address {
                    if let Some(e) = errs.take("from_address", Email::parse(a)) {
                        o.from_address = e.as_str().to_lowercase();
                    }
                }
                if let Some(n) = &input.from_name {
                    if let Some(n) = errs.take("from_name", parse_line(n, 100)) {
                        o.from_name = n;
                    }
                }
                if o.enabled && o.host.is_empty() && !errs.has("host") {
                    errs.push(FieldError::new(
                        "host",
                        "required",
                        "sending needs a server",
                    ));
                }
                if o.enabled && o.from_address.is_empty() && !errs.has("from_address") {
                    errs.push(FieldError::new(
                        "from_address",
                        "required",
                        "sending needs a sender address",
                    ));
                }
                errs.finish()?;
                let after = repo::set_outbound(tx, &o, before.version, now).await?;
                let shown = |o: &Outbound| {
                    let mut m = Map::new();
                    m.insert("enabled".into(), json!(o.enabled));
                    m.insert("host".into(), json!(o.host));
                    m.insert("port".into(), json!(o.port));
                    m.insert("security".into(), json!(o.security));
                    m.insert("username".into(), json!(o.username));
                    m.insert("password".into(), json!(!o.password.is_empty()));
                    m.insert("from_address".into(), json!(o.from_address));
                    m.insert("from_name".into(), json!(o.from_name));
                    m
                };
                audit::record_diff(
                    tx,
                    &actor,
                    now,
                    "mail_outbound",
                    "1",
                    "update",
                    Some(&shown(&before)),
                    Some(&shown(&after)),
                )
                .await?;
                Ok::<_, AppError>(after)
            })
            .await?;
    Ok(outbound_view(o))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outbound_views_hide_the_password() {
        let o = Outbound {
            password: "secret".into(),
            ..Default::default()
        };
        let v = outbound_view(o);
        assert!(v.has_password);
        assert_eq!(v.outbound.password, "");
    }
}
