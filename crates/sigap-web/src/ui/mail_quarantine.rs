//! The quarantine: messages taken in that could not be processed, each with its reason.
//! Administrators read one (its record and its header), download the original, and try it
//! again or discard it; the next messages never wait for them.

use super::mail_admin::SECTION;
use super::views::notice;
use super::*;
use axum::extract::{Path, Query};
use jiff::Timestamp;
use sigap_core::mail::admin as mail;
use sigap_core::mail::{Direction, MailMessage, MessageFilter};
use sigap_domain::MailMessageId;
use std::collections::HashMap;

/// Messages on a page of the quarantine.
const PAGE: i64 = 50;

/// The most of a message's header shown on its page.
const HEADER_SHOWN: usize = 32 * 1024;

/// The states the quarantine's list offers.
const STATES: &[&str] = &["quarantined", "discarded"];

/// A message's state, localized.
pub(crate) fn state_label(t: Tr<'_>, state: &str) -> String {
    coded(t, "mail-state", state)
}

/// A reason's code, localized (an unknown code as it is).
pub(crate) fn reason_label(t: Tr<'_>, reason: &str) -> String {
    coded(t, "mail-reason", reason)
}

/// A size in bytes, as people read it.
pub(crate) fn size_label(t: Tr<'_>, bytes: i64) -> String {
    if bytes < 1024 {
        t.num("mail-size-bytes", "n", bytes)
    } else if bytes < 1024 * 1024 {
        t.num("mail-size-kb", "n", (bytes + 1023) / 1024)
    } else {
        let tenths = (bytes * 10 + 1024 * 1024 - 1) / (1024 * 1024);
        let sep = if t.locale == Locale::Id { ',' } else { '.' };
        t.arg(
            "mail-size-mb",
            "n",
            &format!("{}{sep}{}", tenths / 10, tenths % 10),
        )
    }
}

/// A message in the quarantine's list.
pub struct QuarantineLine {
    pub id: String,
    pub received: String,
    pub mailbox: String,
    pub sender: String,
    pub subject: String,
    pub size: String,
    pub reason: String,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "mail_quarantine.html")]
pub struct QuarantinePage<'a> {
    pub chrome: Chrome<'a>,
    /// The state listed, and the states offered: (code, label).
    pub state: String,
    pub states: Vec<(String, String)>,
    /// Messages by direction and state: (label, count).
    pub counts: Vec<(String, i64)>,
    pub messages: Vec<QuarantineLine>,
    /// The link to the next (older) page.
    pub older: Option<String>,
    /// Whether this is a later page (a link back to the first).
    pub later: bool,
}

/// A keyset cursor: the last message's time and id.
fn cursor(m: &MailMessage) -> String {
    format!("{}~{}", m.created_at, m.id)
}

fn parse_cursor(text: &str) -> Option<(Timestamp, MailMessageId)> {
    let (at, id) = text.split_once('~')?;
    Some((at.parse().ok()?, MailMessageId::parse(id)?))
}

/// The mailboxes' names by id.
async fn mailbox_names(v: &Visit) -> HashMap<String, String> {
    mail::mailboxes(&v.state.core, &v.ctx)
        .await
        .map(|all| {
            all.into_iter()
                .map(|m| (m.mailbox.id.to_string(), m.mailbox.name))
                .collect()
        })
        .unwrap_or_default()
}

/// The quarantine (administrators): `state=discarded` lists the messages discarded.
pub async fn quarantine_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let state = q
        .get("state")
        .map(String::as_str)
        .filter(|s| STATES.contains(s))
        .unwrap_or("quarantined")
        .to_owned();
    let before = q.get("before").and_then(|b| parse_cursor(b));
    let filter = MessageFilter {
        direction: Some(Direction::In),
        state: Some(state.clone()),
        before,
        ..Default::default()
    };
    let (core, ctx) = (&v.state.core, &v.ctx);
    let list = mail::messages(core, ctx, filter, PAGE + 1).await?;
    let counts = mail::counts(core, ctx).await?;
    let names = mailbox_names(&v).await;
    let mut chrome = v.chrome(SECTION, "mail-quarantine-title");
    notice(&mut chrome, &q);
    let t = chrome.t;
    let more = i64::try_from(list.len()).unwrap_or(i64::MAX) > PAGE;
    let shown: Vec<MailMessage> = list
        .into_iter()
        .take(usize::try_from(PAGE).unwrap_or(50))
        .collect();
    let older = if more {
        shown.last().map(|m| {
            format!(
                "/admin/mail/quarantine?state={state}&before={}",
                encode(&cursor(m))
            )
        })
    } else {
        None
    };
    let messages = shown
        .into_iter()
        .map(|m| QuarantineLine {
            id: m.id.to_string(),
            received: when(m.created_at, &v.viewer),
            mailbox: m
                .mailbox_id
                .and_then(|id| names.get(&id.to_string()).cloned())
                .unwrap_or_default(),
            size: size_label(t, m.size),
            reason: m
                .reason
                .as_deref()
                .map(|r| reason_label(t, r))
                .unwrap_or_default(),
            sender: m.sender,
            subject: m.subject,
            detail: m.detail,
        })
        .collect();
    let page = QuarantinePage {
        states: STATES
            .iter()
            .map(|s| ((*s).to_owned(), state_label(t, s)))
            .collect(),
        counts: counts
            .into_iter()
            .filter(|(d, _, _)| d == "in")
            .map(|(_, s, n)| (state_label(t, &s), n))
            .collect(),
        messages,
        older,
        later: before.is_some(),
        state,
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A message as its page shows it.
pub struct MessageView {
    pub id: String,
    pub direction: String,
    pub state: String,
    pub reason: String,
    pub detail: String,
    pub sender: String,
    pub recipients: String,
    pub subject: String,
    pub message_id: String,
    pub size: String,
    pub truncated: bool,
    pub mailbox: String,
    pub mailbox_id: String,
    pub source: String,
    pub attempts: i64,
    pub received: String,
    pub processed: String,
    pub task_number: String,
    pub task_link: String,
}

#[derive(Template)]
#[template(path = "mail_message.html")]
pub struct MessagePage<'a> {
    pub chrome: Chrome<'a>,
    pub m: MessageView,
    /// The message's header as it came (the start of it, for a long one).
    pub header: String,
    pub can_retry: bool,
    pub can_discard: bool,
}

/// The header of a raw message: up to the first empty line, at most [`HEADER_SHOWN`] bytes,
/// as text with control characters made visible.
fn header_of(raw: &[u8]) -> String {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len())
        .min(HEADER_SHOWN);
    String::from_utf8_lossy(&raw[..end])
        .chars()
        .filter(|c| *c != '\r')
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

/// A message's page (administrators).
pub async fn message_page(
    v: Visit,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let (core, ctx) = (&v.state.core, &v.ctx);
    let m = mail::message(core, ctx, &id).await?;
    let raw = mail::raw(core, ctx, &id).await?;
    let names = mailbox_names(&v).await;
    let mut chrome = v.chrome(SECTION, "mail-message-title");
    if !m.subject.is_empty() {
        chrome.title = format!("{} · {}", m.subject, chrome.title);
    }
    notice(&mut chrome, &q);
    let t = chrome.t;
    let inbound = m.direction == "in";
    let page = MessagePage {
        header: header_of(&raw),
        can_retry: inbound && matches!(m.state.as_str(), "quarantined" | "discarded"),
        can_discard: m.state == "quarantined",
        m: MessageView {
            id: m.id.to_string(),
            direction: t.get(if inbound {
                "mail-direction-in"
            } else {
                "mail-direction-out"
            }),
            state: state_label(t, &m.state),
            reason: m
                .reason
                .as_deref()
                .map(|r| reason_label(t, r))
                .unwrap_or_default(),
            detail: m.detail,
            sender: m.sender,
            recipients: m.recipients,
            subject: m.subject,
            message_id: m.message_id,
            size: size_label(t, m.size),
            truncated: m.truncated,
            mailbox: m
                .mailbox_id
                .and_then(|id| names.get(&id.to_string()).cloned())
                .unwrap_or_default(),
            mailbox_id: m.mailbox_id.map(|i| i.to_string()).unwrap_or_default(),
            source: coded(t, "mail-source", &m.source),
            attempts: m.attempts,
            received: when(m.created_at, &v.viewer),
            processed: m
                .processed_at
                .map(|at| when(at, &v.viewer))
                .unwrap_or_default(),
            task_link: m
                .task_number
                .as_deref()
                .map(super::mail_tasks::task_path)
                .unwrap_or_default(),
            task_number: m.task_number.unwrap_or_default(),
        },
        chrome,
    };
    let mut resp = render(StatusCode::OK, &page);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The original message, to download (administrators).
pub async fn message_raw(v: Visit, Path(id): Path<String>) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let m = mail::message(&v.state.core, &v.ctx, &id).await?;
    let raw = mail::raw(&v.state.core, &v.ctx, &id).await?;
    let disposition = format!("attachment; filename=\"message-{}.eml\"", m.id);
    let mut resp = (StatusCode::OK, raw).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("message/rfc822"),
    );
    if let Ok(d) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, d);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(resp)
}

/// Tries a quarantined or discarded message again: a job processes it anew.
pub async fn message_retry(v: Visit, Path(id): Path<String>) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    let m = mail::retry(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other(
        &format!("/admin/mail/messages/{}", m.id),
        Some("mail-retried"),
    ))
}

/// Discards a quarantined message: kept, and done with.
pub async fn message_discard(v: Visit, Path(id): Path<String>) -> PageResult {
    v.ctx.principal.require(Role::Admin)?;
    mail::discard(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other("/admin/mail/quarantine", Some("mail-discarded")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_ends_at_the_first_empty_line() {
        let raw = b"From: a@example.com\r\nSubject: Hi\r\n\r\nBody\r\n";
        assert_eq!(header_of(raw), "From: a@example.com\nSubject: Hi");
        assert_eq!(header_of(b"X: 1\n\nbody"), "X: 1");
        assert_eq!(header_of(b"\x00\x01garbage"), "\u{fffd}\u{fffd}garbage");
    }

    #[test]
    fn cursors_read_back() {
        let id = MailMessageId::new();
        let at = Timestamp::from_second(1_700_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let text = format!("{at}~{id}");
        assert_eq!(parse_cursor(&text), Some((at, id)));
        assert_eq!(parse_cursor("nonsense"), None);
    }
}
