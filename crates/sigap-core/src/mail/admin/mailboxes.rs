//! Mailboxes: where mail comes in, and what it becomes.

use super::{admins, in_range, one_of, opt_line, readers};
use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::principal::Ctx;
use serde_json::{Map, Value, json};
use sigap_domain::{Email, MailboxId, parse_line};
use sigap_store::Tx;
use sigap_store::mail::{self as repo, Imap, Mailbox, MailboxFields};

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
