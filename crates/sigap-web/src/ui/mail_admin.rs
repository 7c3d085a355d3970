//! The administrators' pages of the e-mail channel's servers: the mailboxes mail comes in
//! by, and the outbound server mail goes out through. A password is never shown, only
//! whether one is set, beside a field to replace it (left empty, it stays as it is).

use super::changes::FieldErrors;
use super::views::notice;
use super::*;
use axum::extract::{Path, Query};
use sigap_core::listing::ListParams;
use sigap_core::mail::admin::{self as mail, MailboxInput, MailboxView, OutboundInput};
use sigap_core::{AppError, FieldError};
use std::collections::HashMap;

/// The page section of every mail page (the administration link is current on them).
pub(crate) const SECTION: &str = "mail_admin";

/// Whether a refused submission is shown again as its form (with the reasons beside the
/// fields), rather than as the error page.
pub(crate) fn correctable(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Validation(_) | AppError::Conflict { .. } | AppError::PreconditionFailed
    )
}

/// A whole number typed into a form: empty is none; anything else that is no number is a
/// field error.
pub(crate) fn number(form: &FormData, name: &str, errs: &mut Vec<FieldError>) -> Option<i64> {
    let text = form.text(name);
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    match text.parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            errs.push(FieldError::new(
                name,
                "invalid_number",
                "not a whole number",
            ));
            None
        }
    }
}

/// Localized choices: (code, label of `prefix-code`).
fn options(t: Tr<'_>, prefix: &str, codes: &[&str]) -> Vec<(String, String)> {
    codes
        .iter()
        .map(|c| ((*c).to_owned(), t.get(&format!("{prefix}-{c}"))))
        .collect()
}

// ----- mailboxes -----

/// A mailbox in the list.
pub struct MailboxLine {
    pub id: String,
    pub name: String,
    pub address: String,
    pub kind: String,
    pub active: bool,
    /// How mail comes in: the IMAP server, or only piped in by an MTA.
    pub intake: String,
    pub last_polled: String,
    pub last_error: String,
}

#[derive(Template)]
#[template(path = "mail_mailboxes.html")]
pub struct MailboxesPage<'a> {
    pub chrome: Chrome<'a>,
    pub mailboxes: Vec<MailboxLine>,
}

/// The list of mailboxes (administrators).
pub async fn mailboxes_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let list = mail::mailboxes(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome(SECTION, "mail-mailboxes-title");
    notice(&mut chrome, &q);
    let tt = chrome.t;
    let mailboxes = list
        .into_iter()
        .map(|m| {
            let m = m.mailbox;
            MailboxLine {
                id: m.id.to_string(),
                kind: tt.get(&format!("mail-kind-{}", m.kind)),
                intake: match &m.imap.host {
                    Some(h) => tt.arg("mail-intake-imap", "host", h),
                    None => tt.get("mail-intake-pipe"),
                },
                last_polled: m
                    .last_polled_at
                    .map(|at| when(at, &v.viewer))
                    .unwrap_or_default(),
                last_error: m.last_error.unwrap_or_default(),
                name: m.name,
                address: m.address,
                active: m.active,
            }
        })
        .collect();
    Ok(render(StatusCode::OK, &MailboxesPage { chrome, mailboxes }))
}

/// What a mailbox's form shows: the record, or what was typed when it was refused.
pub struct MailboxForm {
    /// Empty for a new mailbox.
    pub id: String,
    pub version: i64,
    pub name: String,
    pub address: String,
    pub active: bool,
    pub kind: String,
    pub catalog_item: String,
    pub group: String,
    pub unknown_senders: String,
    pub resolved_reply: String,
    pub max_tasks_per_day: String,
    pub max_replies_per_day: String,
    pub max_bytes: String,
    pub acknowledge: bool,
    pub imap_host: String,
    pub imap_port: String,
    pub imap_security: String,
    pub imap_username: String,
    pub has_password: bool,
    pub imap_folder: String,
    pub imap_after: String,
    pub poll_secs: String,
    pub last_polled: String,
    pub last_error: String,
}

impl MailboxForm {
    /// A new mailbox's form, with the defaults it is created with.
    fn new() -> Self {
        Self {
            id: String::new(),
            version: 0,
            name: String::new(),
            address: String::new(),
            active: true,
            kind: "incident".into(),
            catalog_item: String::new(),
            group: String::new(),
            unknown_senders: "create".into(),
            resolved_reply: "reopen".into(),
            max_tasks_per_day: "40".into(),
            max_replies_per_day: "10".into(),
            max_bytes: sigap_domain::mail::MAX_MESSAGE_BYTES.to_string(),
            acknowledge: true,
            imap_host: String::new(),
            imap_port: String::new(),
            imap_security: "tls".into(),
            imap_username: String::new(),
            has_password: false,
            imap_folder: "INBOX".into(),
            imap_after: "seen".into(),
            poll_secs: "60".into(),
            last_polled: String::new(),
            last_error: String::new(),
        }
    }

    fn of(m: MailboxView, group: String, viewer: &Viewer) -> Self {
        let (has_password, m) = (m.has_password, m.mailbox);
        Self {
            id: m.id.to_string(),
            version: m.version,
            name: m.name,
            address: m.address,
            active: m.active,
            kind: m.kind,
            catalog_item: m.catalog_item_id.map(|i| i.to_string()).unwrap_or_default(),
            group,
            unknown_senders: m.unknown_senders,
            resolved_reply: m.resolved_reply,
            max_tasks_per_day: m.max_tasks_per_day.to_string(),
            max_replies_per_day: m.max_replies_per_day.to_string(),
            max_bytes: m.max_bytes.to_string(),
            acknowledge: m.acknowledge,
            imap_host: m.imap.host.unwrap_or_default(),
            imap_port: m.imap.port.map(|p| p.to_string()).unwrap_or_default(),
            imap_security: m.imap.security,
            imap_username: m.imap.username.unwrap_or_default(),
            has_password,
            imap_folder: m.imap.folder,
            imap_after: m.imap.after,
            poll_secs: m.imap.poll_secs.to_string(),
            last_polled: m
                .last_polled_at
                .map(|at| when(at, viewer))
                .unwrap_or_default(),
            last_error: m.last_error.unwrap_or_default(),
        }
    }

    /// The form as it was sent (never its password), over what the record had.
    fn typed(mut self, form: &FormData) -> Self {
        let text = |name: &str, into: &mut String| {
            if let Some(v) = form.get(name) {
                *into = v;
            }
        };
        text("name", &mut self.name);
        text("address", &mut self.address);
        text("kind", &mut self.kind);
        text("catalog_item", &mut self.catalog_item);
        text("group", &mut self.group);
        text("unknown_senders", &mut self.unknown_senders);
        text("resolved_reply", &mut self.resolved_reply);
        text("max_tasks_per_day", &mut self.max_tasks_per_day);
        text("max_replies_per_day", &mut self.max_replies_per_day);
        text("max_bytes", &mut self.max_bytes);
        text("imap_host", &mut self.imap_host);
        text("imap_port", &mut self.imap_port);
        text("imap_security", &mut self.imap_security);
        text("imap_username", &mut self.imap_username);
        text("imap_folder", &mut self.imap_folder);
        text("imap_after", &mut self.imap_after);
        text("poll_secs", &mut self.poll_secs);
        self.active = form.get("active").is_some();
        self.acknowledge = form.get("acknowledge").is_some();
        self
    }
}

/// The fields of the mailbox form, whose errors are shown beside them.
const MAILBOX_FIELDS: &[&str] = &[
    "name",
    "address",
    "kind",
    "catalog_item",
    "group",
    "unknown_senders",
    "resolved_reply",
    "max_tasks_per_day",
    "max_replies_per_day",
    "max_bytes",
    "imap_host",
    "imap_port",
    "imap_security",
    "imap_username",
    "imap_password",
    "imap_folder",
    "imap_after",
    "poll_secs",
];

#[derive(Template)]
#[template(path = "mail_mailbox.html")]
pub struct MailboxPage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub f: MailboxForm,
    /// The support groups to choose from (by name).
    pub groups: Vec<String>,
    /// The catalogue items a request mailbox may ask for: (id, name).
    pub items: Vec<(String, String)>,
    pub kinds: Vec<(String, String)>,
    pub unknown_senders: Vec<(String, String)>,
    pub resolved_replies: Vec<(String, String)>,
    pub securities: Vec<(String, String)>,
    pub afters: Vec<(String, String)>,
}

/// The support groups by name, with the name of the one of `id` (if any).
async fn groups_and(v: &Visit, id: Option<String>) -> (Vec<String>, String) {
    let all = sigap_core::groups::list(
        &v.state.core,
        &v.ctx,
        sigap_core::groups::GroupQuery::default(),
        &ListParams {
            limit: Some(sigap_core::listing::MAX_LIMIT),
            ..Default::default()
        },
    )
    .await
    .map(|p| p.items)
    .unwrap_or_default();
    let current = id
        .and_then(|id| all.iter().find(|g| g.id.to_string() == id))
        .map(|g| g.name.clone())
        .unwrap_or_default();
    let names = all
        .into_iter()
        .filter(|g| g.active || g.name == current)
        .map(|g| g.name)
        .collect();
    (names, current)
}

/// The catalogue items by name: (id, name).
async fn catalog_items(v: &Visit) -> Vec<(String, String)> {
    sigap_core::catalog::items(
        &v.state.core,
        &v.ctx,
        sigap_core::catalog::ItemQuery::default(),
        &ListParams {
            limit: Some(sigap_core::listing::MAX_LIMIT),
            ..Default::default()
        },
    )
    .await
    .map(|p| {
        p.items
            .into_iter()
            .map(|i| (i.item.id.to_string(), i.item.name))
            .collect()
    })
    .unwrap_or_default()
}

async fn mailbox_view(
    v: &Visit,
    f: MailboxForm,
    groups: Vec<String>,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let title = if f.id.is_empty() {
        "mail-mailbox-new"
    } else {
        "mail-mailbox-title"
    };
    let mut chrome = v.chrome(SECTION, title);
    if !f.id.is_empty() {
        chrome.title = format!("{} · {}", f.name, chrome.title);
    }
    notice(&mut chrome, q);
    let (status, errs) = FieldErrors::split(&mut chrome, refused, MAILBOX_FIELDS);
    let t = chrome.t;
    let page = MailboxPage {
        errs,
        groups,
        items: catalog_items(v).await,
        kinds: options(t, "mail-kind", &["incident", "request"]),
        unknown_senders: options(t, "mail-unknown", &["create", "refuse"]),
        resolved_replies: options(t, "mail-resolved", &["reopen", "refuse"]),
        securities: options(t, "mail-security", &["tls", "starttls"]),
        afters: options(t, "mail-after", &["seen", "delete"]),
        f,
        chrome,
    };
    Ok(render(status, &page))
}

/// The form for a new mailbox.
pub async fn mailbox_new(v: Visit) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let (groups, _) = groups_and(&v, None).await;
    mailbox_view(&v, MailboxForm::new(), groups, &HashMap::new(), None).await
}

/// A mailbox's form.
pub async fn mailbox_page(
    v: Visit,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let m = mail::mailbox(&v.state.core, &v.ctx, &id).await?;
    let (groups, group) = groups_and(&v, m.mailbox.group_id.map(|g| g.to_string())).await;
    let f = MailboxForm::of(m, group, &v.viewer);
    mailbox_view(&v, f, groups, &q, None).await
}

/// What the mailbox form asks for, or the fields that are no numbers.
fn mailbox_input(form: &FormData) -> Result<MailboxInput, AppError> {
    let mut errs = Vec::new();
    let max_tasks_per_day = number(form, "max_tasks_per_day", &mut errs);
    let max_replies_per_day = number(form, "max_replies_per_day", &mut errs);
    let max_bytes = number(form, "max_bytes", &mut errs);
    let imap_port = number(form, "imap_port", &mut errs);
    let poll_secs = number(form, "poll_secs", &mut errs);
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    let imap_password = if form.get("imap_password_clear").is_some() {
        Some(None)
    } else {
        // Empty keeps the password as it is.
        form.opt("imap_password").map(Some)
    };
    Ok(MailboxInput {
        name: form.get("name"),
        address: form.get("address"),
        active: Some(form.get("active").is_some()),
        kind: form.get("kind"),
        catalog_item: form.get("catalog_item").map(Some),
        group: form.get("group").map(Some),
        unknown_senders: form.get("unknown_senders"),
        resolved_reply: form.get("resolved_reply"),
        max_tasks_per_day,
        max_replies_per_day,
        max_bytes,
        acknowledge: Some(form.get("acknowledge").is_some()),
        imap_host: form.get("imap_host").map(Some),
        imap_port: form.get("imap_port").map(|_| imap_port),
        imap_security: form.get("imap_security"),
        imap_username: form.get("imap_username").map(Some),
        imap_password,
        imap_folder: form.get("imap_folder"),
        imap_after: form.get("imap_after"),
        poll_secs,
    })
}

pub async fn mailbox_create(v: Visit, form: FormData) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let result = match mailbox_input(&form) {
        Ok(input) => mail::create_mailbox(&v.state.core, &v.ctx, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(m) => Ok(see_other(
            &format!("/admin/mail/mailboxes/{}", m.mailbox.id),
            Some("created"),
        )),
        Err(e) if correctable(&e) => {
            let (groups, _) = groups_and(&v, None).await;
            let f = MailboxForm::new().typed(&form);
            mailbox_view(&v, f, groups, &HashMap::new(), Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn mailbox_update(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let result = match mailbox_input(&form) {
        Ok(input) => mail::update_mailbox(&v.state.core, &v.ctx, &id, input, form.version()).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(m) => Ok(see_other(
            &format!("/admin/mail/mailboxes/{}", m.mailbox.id),
            Some("saved"),
        )),
        Err(e) if correctable(&e) => {
            let m = mail::mailbox(&v.state.core, &v.ctx, &id).await?;
            let (groups, group) = groups_and(&v, m.mailbox.group_id.map(|g| g.to_string())).await;
            let f = MailboxForm::of(m, group, &v.viewer).typed(&form);
            mailbox_view(&v, f, groups, &HashMap::new(), Some(e)).await
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn mailbox_delete(v: Visit, Path(id): Path<String>) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    mail::delete_mailbox(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other("/admin/mail/mailboxes", Some("deleted")))
}

// ----- the outbound server -----

/// What the outbound server's form shows.
pub struct OutboundForm {
    pub version: i64,
    pub enabled: bool,
    pub host: String,
    pub port: String,
    pub security: String,
    pub username: String,
    pub has_password: bool,
    pub from_address: String,
    pub from_name: String,
    pub updated: String,
}

const OUTBOUND_FIELDS: &[&str] = &[
    "host",
    "port",
    "security",
    "username",
    "password",
    "from_address",
    "from_name",
];

#[derive(Template)]
#[template(path = "mail_outbound.html")]
pub struct OutboundPage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub f: OutboundForm,
    pub securities: Vec<(String, String)>,
}

async fn outbound_view(
    v: &Visit,
    form: Option<&FormData>,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let o = mail::outbound(&v.state.core, &v.ctx).await?;
    let (has_password, o) = (o.has_password, o.outbound);
    let mut f = OutboundForm {
        version: o.version,
        enabled: o.enabled,
        host: o.host,
        port: o.port.to_string(),
        security: o.security,
        username: o.username,
        has_password,
        from_address: o.from_address,
        from_name: o.from_name,
        updated: o
            .updated_at
            .map(|at| when(at, &v.viewer))
            .unwrap_or_default(),
    };
    if let Some(form) = form {
        let text = |name: &str, into: &mut String| {
            if let Some(v) = form.get(name) {
                *into = v;
            }
        };
        text("host", &mut f.host);
        text("port", &mut f.port);
        text("security", &mut f.security);
        text("username", &mut f.username);
        text("from_address", &mut f.from_address);
        text("from_name", &mut f.from_name);
        f.enabled = form.get("enabled").is_some();
    }
    let mut chrome = v.chrome(SECTION, "mail-outbound-title");
    notice(&mut chrome, q);
    let (status, errs) = FieldErrors::split(&mut chrome, refused, OUTBOUND_FIELDS);
    let securities = options(chrome.t, "mail-security", &["tls", "starttls", "none"]);
    Ok(render(
        status,
        &OutboundPage {
            chrome,
            errs,
            f,
            securities,
        },
    ))
}

/// The outbound server (administrators).
pub async fn outbound_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    outbound_view(&v, None, &q, None).await
}

pub async fn outbound_submit(v: Visit, form: FormData) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let mut errs = Vec::new();
    let port = number(&form, "port", &mut errs);
    let result = if errs.is_empty() {
        let password = if form.get("password_clear").is_some() {
            Some(None)
        } else {
            form.opt("password").map(Some)
        };
        let input = OutboundInput {
            enabled: Some(form.get("enabled").is_some()),
            host: form.get("host"),
            port,
            security: form.get("security"),
            username: form.get("username"),
            password,
            from_address: form.get("from_address").filter(|a| !a.trim().is_empty()),
            from_name: form.get("from_name"),
        };
        mail::set_outbound(&v.state.core, &v.ctx, input, form.version()).await
    } else {
        Err(AppError::Validation(errs))
    };
    match result {
        Ok(_) => Ok(see_other("/admin/mail/outbound", Some("saved"))),
        Err(e) if correctable(&e) => outbound_view(&v, Some(&form), &HashMap::new(), Some(e)).await,
        Err(e) => Err(e.into()),
    }
}
