//! What administrators keep of the mail channel: mailboxes, the outbound server, the mail
//! templates and the quarantine; and what each person wants by mail.

use super::PROCESS_JOB;
use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::principal::Ctx;
use serde_json::{Map, Value, json};
use sigap_domain::{Email, MailMessageId, MailboxId, Role, parse_line, parse_text};
use sigap_store::Tx;
use sigap_store::mail::{
    self as repo, Imap, MailMessage, Mailbox, MailboxFields, MessageFilter, Outbound, Template,
};

/// The kinds of mail Sigap writes from a template: the automatic replies, and the
/// notifications by the event they tell of.
pub const TEMPLATE_KINDS: &[&str] = &[
    "acknowledge",
    "unknown_sender",
    "resolved_refused",
    "notification",
];

fn admins(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require(Role::Admin)?;
    if ctx.principal.can_write() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn readers(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require(Role::Admin)
}

// ----- mailboxes -----

/// A mailbox as shown: its IMAP password is never handed out, only whether it has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxView {
    pub mailbox: Mailbox,
    pub has_password: bool,
}

impl MailboxView {
    fn of(mut m: Mailbox) -> Self {
        let has_password = m.imap.password.as_deref().is_some_and(|p| !p.is_empty());
        m.imap.password = None;
        Self {
            mailbox: m,
            has_password,
        }
    }
}

/// What a mailbox is set to; `None` leaves a field as it is (on create: its default).
#[derive(Debug, Clone, Default)]
pub struct MailboxInput {
    pub name: Option<String>,
    pub address: Option<String>,
    pub active: Option<bool>,
    pub kind: Option<String>,
    pub catalog_item: crate::RefChange,
    pub group: crate::RefChange,
    pub unknown_senders: Option<String>,
    pub resolved_reply: Option<String>,
    pub max_tasks_per_day: Option<i64>,
    pub max_replies_per_day: Option<i64>,
    pub max_bytes: Option<i64>,
    pub acknowledge: Option<bool>,
    pub imap_host: Option<Option<String>>,
    pub imap_port: Option<Option<i64>>,
    pub imap_security: Option<String>,
    pub imap_username: Option<Option<String>>,
    /// A new password; `Some(None)` removes it.
    pub imap_password: Option<Option<String>>,
    pub imap_folder: Option<String>,
    pub imap_after: Option<String>,
    pub poll_secs: Option<i64>,
}

fn one_of(errs: &mut Errors, field: &str, v: &Option<String>, allowed: &[&str], into: &mut String) {
    if let Some(v) = v {
        let v = v.trim();
        if allowed.contains(&v) {
            *into = v.to_owned();
        } else {
            errs.push(FieldError::new(
                field,
                "invalid_choice",
                format!("must be one of: {}", allowed.join(", ")),
            ));
        }
    }
}

fn in_range(errs: &mut Errors, field: &str, v: Option<i64>, lo: i64, hi: i64, into: &mut i64) {
    if let Some(v) = v {
        if (lo..=hi).contains(&v) {
            *into = v;
        } else {
            errs.push(FieldError::new(
                field,
                "out_of_range",
                format!("must be {lo} to {hi}"),
            ));
        }
    }
}

fn opt_line(
    errs: &mut Errors,
    field: &str,
    v: &Option<Option<String>>,
    max: usize,
    into: &mut Option<String>,
) {
    match v {
        None => {}
        Some(None) => *into = None,
        Some(Some(t)) if t.trim().is_empty() => *into = None,
        Some(Some(t)) => {
            if let Some(t) = errs.take(field, parse_line(t, max)) {
                *into = Some(t);
            }
        }
    }
}

async fn mailbox_fields(
    tx: &mut Tx<'_>,
    ctx: &Ctx,
    input: &MailboxInput,
    current: Option<&Mailbox>,
) -> AppResult<MailboxFields> {
    let mut f = match current {
        Some(c) => MailboxFields {
            name: c.name.clone(),
            address: c.address.clone(),
            active: c.active,
            kind: c.kind.clone(),
            catalog_item_id: c.catalog_item_id,
            group_id: c.group_id,
            unknown_senders: c.unknown_senders.clone(),
            resolved_reply: c.resolved_reply.clone(),
            max_tasks_per_day: c.max_tasks_per_day,
            max_replies_per_day: c.max_replies_per_day,
            max_bytes: c.max_bytes,
            acknowledge: c.acknowledge,
            imap: c.imap.clone(),
        },
        None => MailboxFields {
            name: String::new(),
            address: String::new(),
            active: true,
            kind: "incident".into(),
            catalog_item_id: None,
            group_id: None,
            unknown_senders: "create".into(),
            resolved_reply: "reopen".into(),
            max_tasks_per_day: 40,
            max_replies_per_day: 10,
            max_bytes: i64::try_from(sigap_domain::mail::MAX_MESSAGE_BYTES).unwrap_or(10_485_760),
            acknowledge: true,
            imap: Imap {
                security: "tls".into(),
                folder: "INBOX".into(),
                after: "seen".into(),
                poll_secs: 60,
                ..Default::default()
            },
        },
    };
    let mut errs = Errors::new();
    if let Some(n) = &input.name {
        if let Some(n) = errs.take("name", parse_line(n, 100)) {
            f.name = n;
        }
    }
    if f.name.trim().is_empty() && !errs.has("name") {
        errs.push(FieldError::new("name", "required", "is required"));
    }
    if let Some(a) = &input.address {
        if let Some(e) = errs.take("address", Email::parse(a)) {
            f.address = e.as_str().to_lowercase();
        }
    }
    if f.address.is_empty() && !errs.has("address") {
        errs.push(FieldError::new("address", "required", "is required"));
    }
    if let Some(a) = input.active {
        f.active = a;
    }
    one_of(
        &mut errs,
        "kind",
        &input.kind,
        &["incident", "request"],
        &mut f.kind,
    );
    one_of(
        &mut errs,
        "unknown_senders",
        &input.unknown_senders,
        &["create", "refuse"],
        &mut f.unknown_senders,
    );
    one_of(
        &mut errs,
        "resolved_reply",
        &input.resolved_reply,
        &["reopen", "refuse"],
        &mut f.resolved_reply,
    );
    in_range(
        &mut errs,
        "max_tasks_per_day",
        input.max_tasks_per_day,
        1,
        100_000,
        &mut f.max_tasks_per_day,
    );
    in_range(
        &mut errs,
        "max_replies_per_day",
        input.max_replies_per_day,
        0,
        1_000,
        &mut f.max_replies_per_day,
    );
    in_range(
        &mut errs,
        "max_bytes",
        input.max_bytes,
        1024,
        50 * 1024 * 1024,
        &mut f.max_bytes,
    );
    if let Some(a) = input.acknowledge {
        f.acknowledge = a;
    }
    opt_line(
        &mut errs,
        "imap_host",
        &input.imap_host,
        253,
        &mut f.imap.host,
    );
    match input.imap_port {
        None => {}
        Some(None) => f.imap.port = None,
        Some(Some(p)) if (1..=65_535).contains(&p) => f.imap.port = Some(p),
        Some(Some(_)) => errs.push(FieldError::new(
            "imap_port",
            "out_of_range",
            "must be 1 to 65535",
        )),
    }
    one_of(
        &mut errs,
        "imap_security",
        &input.imap_security,
        &["tls", "starttls"],
        &mut f.imap.security,
    );
    opt_line(
        &mut errs,
        "imap_username",
        &input.imap_username,
        320,
        &mut f.imap.username,
    );
    match &input.imap_password {
        None => {}
        Some(None) => f.imap.password = None,
        Some(Some(p)) if p.is_empty() => {}
        Some(Some(p)) if p.len() > 1024 || p.chars().any(char::is_control) => {
            errs.push(FieldError::new(
                "imap_password",
                "invalid",
                "at most 1024 characters, no control characters",
            ))
        }
        Some(Some(p)) => f.imap.password = Some(p.clone()),
    }
    if let Some(folder) = &input.imap_folder {
        if let Some(v) = errs.take("imap_folder", parse_line(folder, 200)) {
            f.imap.folder = v;
        }
    }
    one_of(
        &mut errs,
        "imap_after",
        &input.imap_after,
        &["seen", "delete"],
        &mut f.imap.after,
    );
    in_range(
        &mut errs,
        "poll_secs",
        input.poll_secs,
        10,
        86_400,
        &mut f.imap.poll_secs,
    );
    if f.imap.host.is_some() && f.imap.username.is_none() && !errs.has("imap_username") {
        errs.push(FieldError::new(
            "imap_username",
            "required",
            "polling needs a user name",
        ));
    }
    errs.finish()?;
    f.group_id = crate::refs::group(tx, "group", &input.group, f.group_id).await?;
    if let Some(key) = crate::task::refs_key(&input.catalog_item) {
        f.catalog_item_id = match key {
            None => None,
            Some(k) => Some(
                crate::catalog::item_id_in(tx, &k)
                    .await
                    .map_err(|e| match e {
                        AppError::NotFound => {
                            AppError::field("catalog_item", "not_found", "no such catalogue item")
                        }
                        e => e,
                    })?,
            ),
        };
    }
    if f.kind == "request" && f.catalog_item_id.is_none() {
        return Err(AppError::field(
            "catalog_item",
            "required",
            "a mailbox that opens requests names the catalogue item they ask for",
        ));
    }
    let _ = ctx;
    Ok(f)
}

fn audit_mailbox(m: &Mailbox) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("name".into(), json!(m.name));
    out.insert("address".into(), json!(m.address));
    out.insert("active".into(), json!(m.active));
    out.insert("kind".into(), json!(m.kind));
    out.insert(
        "catalog_item_id".into(),
        json!(m.catalog_item_id.map(|i| i.to_string())),
    );
    out.insert("group_id".into(), json!(m.group_id.map(|i| i.to_string())));
    out.insert("unknown_senders".into(), json!(m.unknown_senders));
    out.insert("resolved_reply".into(), json!(m.resolved_reply));
    out.insert("max_tasks_per_day".into(), json!(m.max_tasks_per_day));
    out.insert("max_replies_per_day".into(), json!(m.max_replies_per_day));
    out.insert("max_bytes".into(), json!(m.max_bytes));
    out.insert("acknowledge".into(), json!(m.acknowledge));
    out.insert("imap_host".into(), json!(m.imap.host));
    out.insert("imap_port".into(), json!(m.imap.port));
    out.insert("imap_security".into(), json!(m.imap.security));
    out.insert("imap_username".into(), json!(m.imap.username));
    // Whether there is a password, never the password.
    out.insert(
        "imap_password".into(),
        json!(m.imap.password.as_deref().is_some_and(|p| !p.is_empty())),
    );
    out.insert("imap_folder".into(), json!(m.imap.folder));
    out.insert("imap_after".into(), json!(m.imap.after));
    out.insert("poll_secs".into(), json!(m.imap.poll_secs));
    out
}

fn address_taken(e: sigap_store::StoreError) -> AppError {
    match e {
        sigap_store::StoreError::Conflict { target } if target.contains("name") => {
            AppError::field("name", "taken", "another mailbox has this name")
        }
        sigap_store::StoreError::Conflict { .. } => {
            AppError::field("address", "taken", "another mailbox has this address")
        }
        e => e.into(),
    }
}

pub async fn mailboxes(core: &Core, ctx: &Ctx) -> AppResult<Vec<MailboxView>> {
    readers(ctx)?;
    let all = core
        .store
        .read(async move |tx| Ok::<_, AppError>(repo::mailboxes(tx).await?))
        .await?;
    Ok(all.into_iter().map(MailboxView::of).collect())
}

pub async fn mailbox(core: &Core, ctx: &Ctx, id: &str) -> AppResult<MailboxView> {
    readers(ctx)?;
    let id = MailboxId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let m = core
        .store
        .read(async move |tx| Ok::<_, AppError>(repo::get_mailbox(tx, id).await?))
        .await?;
    Ok(MailboxView::of(m))
}

pub async fn create_mailbox(core: &Core, ctx: &Ctx, input: MailboxInput) -> AppResult<MailboxView> {
    admins(ctx)?;
    let (actor, now, ctx) = (Actor::of(ctx), core.now(), ctx.clone());
    let m = core
        .store
        .write(async move |tx| {
            let f = mailbox_fields(tx, &ctx, &input, None).await?;
            let id = MailboxId::new();
            let m = repo::insert_mailbox(tx, id, &f, now)
                .await
                .map_err(address_taken)?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "mailbox",
                &id.to_string(),
                "create",
                None,
                Some(&audit_mailbox(&m)),
            )
            .await?;
            Ok::<_, AppError>(m)
        })
        .await?;
    Ok(MailboxView::of(m))
}

pub async fn update_mailbox(
    core: &Core,
    ctx: &Ctx,
    id: &str,
    input: MailboxInput,
    if_match: Option<i64>,
) -> AppResult<MailboxView> {
    admins(ctx)?;
    let id = MailboxId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let (actor, now, ctx) = (Actor::of(ctx), core.now(), ctx.clone());
    let m = core
        .store
        .write(async move |tx| {
            let before = repo::get_mailbox(tx, id).await?;
            crate::check_version(if_match, before.version)?;
            let f = mailbox_fields(tx, &ctx, &input, Some(&before)).await?;
            let after = repo::update_mailbox(tx, id, &f, before.version, now)
                .await
                .map_err(address_taken)?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "mailbox",
                &id.to_string(),
                "update",
                Some(&audit_mailbox(&before)),
                Some(&audit_mailbox(&after)),
            )
            .await?;
            Ok::<_, AppError>(after)
        })
        .await?;
    Ok(MailboxView::of(m))
}

pub async fn delete_mailbox(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    admins(ctx)?;
    let id = MailboxId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get_mailbox(tx, id).await?;
            repo::delete_mailbox(tx, id).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "mailbox",
                &id.to_string(),
                "delete",
                Some(&audit_mailbox(&before)),
                None,
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await
}

/// The mailbox mail for `address` goes to (the program's own use: `sigap mail receive`).
pub async fn mailbox_for(core: &Core, key: &str) -> AppResult<Mailbox> {
    let key = key.trim().to_lowercase();
    core.store
        .read(async move |tx| {
            if let Some(id) = MailboxId::parse(&key) {
                return Ok(repo::get_mailbox(tx, id).await?);
            }
            if let Some(m) = repo::mailbox_by_address(tx, &key).await? {
                return Ok(m);
            }
            let by_name = repo::mailboxes(tx)
                .await?
                .into_iter()
                .find(|m| m.name.to_lowercase() == key);
            by_name.ok_or(AppError::NotFound)
        })
        .await
}

/// The mailboxes to poll (active, with an IMAP host), with their passwords: the program's
/// own use.
pub async fn polled_mailboxes(core: &Core) -> AppResult<Vec<Mailbox>> {
    let all = core
        .store
        .read(async move |tx| Ok::<_, AppError>(repo::mailboxes(tx).await?))
        .await?;
    Ok(all
        .into_iter()
        .filter(|m| m.active && m.imap.host.is_some())
        .collect())
}

/// Records a poll's end: when, and what went wrong.
pub async fn polled(core: &Core, id: MailboxId, error: Option<String>) -> AppResult<()> {
    let now = core.now();
    core.store
        .write(async move |tx| {
            Ok::<_, AppError>(repo::set_polled(tx, id, now, error.as_deref()).await?)
        })
        .await
}

// ----- the outbound server -----

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

// ----- templates -----

/// The administrators' templates (the built-in ones are `sigap-mail`'s).
pub async fn templates(core: &Core, ctx: &Ctx) -> AppResult<Vec<Template>> {
    readers(ctx)?;
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::templates(tx).await?))
        .await
}

/// An administrators' template, if there is one (the program's own use: rendering).
pub async fn template_for(core: &Core, kind: &str, locale: &str) -> AppResult<Option<Template>> {
    let (k, l) = (kind.to_owned(), locale.to_owned());
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::template(tx, &k, &l).await?))
        .await
}

fn template_key(kind: &str, locale: &str) -> AppResult<(String, String)> {
    if !TEMPLATE_KINDS.contains(&kind) {
        return Err(AppError::NotFound);
    }
    let Ok(locale) = sigap_domain::Locale::parse(locale) else {
        return Err(AppError::NotFound);
    };
    Ok((kind.to_owned(), locale.code().to_owned()))
}

/// Sets an administrators' template, once `check` (which renders it) accepts it.
pub async fn set_template(
    core: &Core,
    ctx: &Ctx,
    kind: &str,
    locale: &str,
    subject: &str,
    body: &str,
    check: impl Fn(&str, &str) -> Result<(), Vec<FieldError>>,
) -> AppResult<Template> {
    admins(ctx)?;
    let (kind, locale) = template_key(kind, locale)?;
    let mut errs = Errors::new();
    let subject = errs
        .take("subject", parse_line(subject, 500))
        .unwrap_or_default();
    let body = errs
        .take("body", parse_text(body, 20_000))
        .unwrap_or_default();
    if subject.trim().is_empty() && !errs.has("subject") {
        errs.push(FieldError::new("subject", "required", "is required"));
    }
    if body.trim().is_empty() && !errs.has("body") {
        errs.push(FieldError::new("body", "required", "is required"));
    }
    errs.finish()?;
    check(&subject, &body).map_err(AppError::Validation)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let t = Template {
        kind,
        locale,
        subject,
        body,
        updated_at: now,
        updated_by: actor.name.clone(),
    };
    core.store
        .write(async move |tx| {
            let t = t.clone();
            let before = repo::template(tx, &t.kind, &t.locale).await?;
            repo::set_template(tx, &t).await?;
            let shown = |t: &Template| {
                let mut m = Map::new();
                m.insert("subject".into(), json!(t.subject));
                m.insert("body".into(), json!(t.body));
                m
            };
            let key = format!("{}/{}", t.kind, t.locale);
            audit::record_diff(
                tx,
                &actor,
                now,
                "mail_template",
                &key,
                "update",
                before.as_ref().map(shown).as_ref(),
                Some(&shown(&t)),
            )
            .await?;
            Ok::<_, AppError>(t)
        })
        .await
}

/// Goes back to the built-in template.
pub async fn reset_template(core: &Core, ctx: &Ctx, kind: &str, locale: &str) -> AppResult<()> {
    admins(ctx)?;
    let (kind, locale) = template_key(kind, locale)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            if !repo::delete_template(tx, &kind, &locale).await? {
                return Err(AppError::NotFound);
            }
            audit::record(
                tx,
                &actor,
                now,
                "mail_template",
                &format!("{kind}/{locale}"),
                "delete",
                json!({}),
            )
            .await?;
            Ok(())
        })
        .await
}

// ----- messages and the quarantine -----

/// Messages taken in or sent, newest first (administrators): `state=quarantined` is the
/// quarantine.
pub async fn messages(
    core: &Core,
    ctx: &Ctx,
    filter: MessageFilter,
    limit: i64,
) -> AppResult<Vec<MailMessage>> {
    readers(ctx)?;
    let limit = limit.clamp(1, 200);
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::messages(tx, &filter, limit).await?))
        .await
}

pub async fn message(core: &Core, ctx: &Ctx, id: &str) -> AppResult<MailMessage> {
    readers(ctx)?;
    let id = MailMessageId::parse(id.trim()).ok_or(AppError::NotFound)?;
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::get_message(tx, id).await?))
        .await
}

/// A message's raw bytes (administrators).
pub async fn raw(core: &Core, ctx: &Ctx, id: &str) -> AppResult<Vec<u8>> {
    readers(ctx)?;
    let id = MailMessageId::parse(id.trim()).ok_or(AppError::NotFound)?;
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::raw(tx, id).await?))
        .await
}

/// A kept message's raw bytes (the program's own use: processing it again).
pub async fn raw_of(core: &Core, id: MailMessageId) -> AppResult<Vec<u8>> {
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::raw(tx, id).await?))
        .await
}

/// Messages taken in but not processed since `before` (a crash, a database that went
/// away): the program's own use, to process them again.
pub async fn unprocessed(
    core: &Core,
    before: jiff::Timestamp,
    limit: i64,
) -> AppResult<Vec<MailMessageId>> {
    core.store
        .read(async move |tx| {
            Ok::<_, AppError>(
                repo::in_state(tx, repo::Direction::In, "received", before, limit)
                    .await?
                    .into_iter()
                    .map(|m| m.id)
                    .collect(),
            )
        })
        .await
}

/// Tries a quarantined (or discarded) message again: it is processed anew by a job.
pub async fn retry(core: &Core, ctx: &Ctx, id: &str) -> AppResult<MailMessage> {
    admins(ctx)?;
    let id = MailMessageId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let m = repo::get_message(tx, id).await?;
            if m.direction != "in" || !matches!(m.state.as_str(), "quarantined" | "discarded") {
                return Err(AppError::Conflict {
                    code: "not_quarantined",
                    message: "only a quarantined or discarded message is tried again".into(),
                    field: None,
                });
            }
            let o = repo::Outcome {
                state: "received",
                ..Default::default()
            };
            repo::set_outcome(tx, id, &o, now).await?;
            crate::jobs::enqueue(
                tx,
                PROCESS_JOB,
                &json!({ "message": id.to_string() }),
                now,
                now,
            )
            .await?;
            // The audit log knows create, update and delete: a retry is a change of state.
            let changes = json!({ "state": [&m.state, "received"] });
            audit::record(
                tx,
                &actor,
                now,
                "mail_message",
                &id.to_string(),
                "update",
                changes,
            )
            .await?;
            Ok(repo::get_message(tx, id).await?)
        })
        .await
}

/// Discards a quarantined message: kept, and done with.
pub async fn discard(core: &Core, ctx: &Ctx, id: &str) -> AppResult<MailMessage> {
    admins(ctx)?;
    let id = MailMessageId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let m = repo::get_message(tx, id).await?;
            if m.state != "quarantined" {
                return Err(AppError::Conflict {
                    code: "not_quarantined",
                    message: "only a quarantined message is discarded".into(),
                    field: None,
                });
            }
            let o = repo::Outcome {
                state: "discarded",
                reason: m.reason.as_deref(),
                detail: &m.detail,
                ..Default::default()
            };
            repo::set_outcome(tx, id, &o, now).await?;
            let changes = json!({ "state": [&m.state, "discarded"] });
            audit::record(
                tx,
                &actor,
                now,
                "mail_message",
                &id.to_string(),
                "update",
                changes,
            )
            .await?;
            Ok(repo::get_message(tx, id).await?)
        })
        .await
}

/// Counts of messages by direction and state.
pub async fn counts(core: &Core, ctx: &Ctx) -> AppResult<Vec<(String, String, i64)>> {
    readers(ctx)?;
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::counts(tx).await?))
        .await
}

/// The mail of a task (agents who see the task).
pub async fn of_task<P: crate::task::Process>(
    core: &Core,
    ctx: &Ctx,
    key: &str,
) -> AppResult<Vec<MailMessage>> {
    ctx.principal.require(Role::Agent)?;
    let t = crate::task::get::<P>(core, ctx, key).await?;
    let f = MessageFilter {
        task_id: Some(t.id),
        ..Default::default()
    };
    core.store
        .read(async move |tx| Ok::<_, AppError>(repo::messages(tx, &f, 200).await?))
        .await
}

// ----- what a person gets by mail -----

/// The kinds of notification a person may turn off by mail, with whether they get them.
pub async fn preferences(core: &Core, ctx: &Ctx) -> AppResult<Vec<(String, bool)>> {
    let me = ctx.principal.person()?;
    let set = core
        .store
        .read(async move |tx| Ok::<_, AppError>(repo::preferences(tx, me).await?))
        .await?;
    Ok(crate::mail::admin::NOTIFICATION_KINDS
        .iter()
        .map(|k| {
            let on = set.iter().find(|(s, _)| s == k).is_none_or(|(_, e)| *e);
            ((*k).to_owned(), on)
        })
        .collect())
}

/// Turns mail of a kind of notification on or off for oneself.
pub async fn set_preference(core: &Core, ctx: &Ctx, kind: &str, enabled: bool) -> AppResult<()> {
    let me = ctx.principal.person()?;
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    if !NOTIFICATION_KINDS.contains(&kind) {
        return Err(AppError::field(
            "kind",
            "invalid_choice",
            "no such kind of notification",
        ));
    }
    let kind = kind.to_owned();
    core.store
        .write(async move |tx| {
            Ok::<_, AppError>(repo::set_preference(tx, me, &kind, enabled).await?)
        })
        .await
}

/// The kinds of notification Sigap sends (the process's entity and the event).
pub const NOTIFICATION_KINDS: &[&str] = &[
    "incident_assigned",
    "incident_queued",
    "incident_comment",
    "incident_caller_replied",
    "incident_resolved",
    "incident_closed",
    "incident_awaiting_you",
    "incident_reopened",
    "incident_major",
    "incident_escalated",
    "problem_assigned",
    "problem_queued",
    "change_assigned",
    "change_queued",
    "request_comment",
    "request_item_assigned",
    "request_item_queued",
    "approval_requested",
    "approval_reminder",
    "sla_threshold",
    "sla_owner",
    "article_review",
    "article_feedback",
    "service_review_due",
];

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

    #[test]
    fn template_keys_are_known_kinds_and_languages() {
        assert!(template_key("acknowledge", "id").is_ok());
        assert!(matches!(
            template_key("nope", "en"),
            Err(AppError::NotFound)
        ));
        assert!(matches!(
            template_key("acknowledge", "fr"),
            Err(AppError::NotFound)
        ));
    }
}
