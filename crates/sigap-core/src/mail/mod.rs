//! The e-mail channel's use cases: mail taken in (`inbound`), the replies and notification
//! mail Sigap sends (as jobs, written in the transaction of the change they tell of), and
//! what administrators keep: mailboxes, the outbound server, templates and the quarantine.
//! Parsing, rendering and talking to servers are `sigap-mail`'s.

pub mod admin;
pub mod inbound;

use crate::error::AppResult;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sigap_domain::{Locale, MailboxId, PersonId, TaskId};
use sigap_store::Tx;
pub use sigap_store::mail::{
    Direction, Imap, MailMessage, Mailbox, MessageFilter, NotificationMail, Outbound, Recipient,
    Template,
};

/// The job that sends an automatic reply to a mail taken in.
pub const REPLY_JOB: &str = "mail_reply";
/// The job that processes a kept message again (an administrator's retry).
pub const PROCESS_JOB: &str = "mail_process";
/// The periodic job that polls the IMAP mailboxes and processes what a crash left.
pub const POLL_JOB: &str = "mail_poll";

/// Sigap's loop header: a mail carrying it was sent by a Sigap and is never answered.
pub const LOOP_HEADER: &str = "X-Sigap-Loop";

/// An automatic reply to a mail taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// A task was opened: its number, to reply to.
    Acknowledge,
    /// The sender is not known and the mailbox takes no unknown senders.
    UnknownSender,
    /// A reply to a resolved task, which the mailbox does not reopen.
    ResolvedRefused,
}

impl ReplyKind {
    pub fn code(self) -> &'static str {
        match self {
            ReplyKind::Acknowledge => "acknowledge",
            ReplyKind::UnknownSender => "unknown_sender",
            ReplyKind::ResolvedRefused => "resolved_refused",
        }
    }
}

/// What an automatic reply job carries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub kind: ReplyKind,
    pub to: String,
    pub locale: Locale,
    pub person: Option<PersonId>,
    pub task: Option<TaskId>,
    pub mailbox: Option<MailboxId>,
    /// The Message-ID of the mail it answers.
    pub in_reply_to: Option<String>,
    /// The subject of the mail it answers.
    pub subject: String,
}

/// Enqueues an automatic reply in the caller's transaction (when outbound mail is on).
pub(crate) async fn enqueue_reply(
    tx: &mut Tx<'_>,
    reply: &Reply,
    now: Timestamp,
    _host: &str,
) -> AppResult<()> {
    if !sigap_store::mail::outbound(tx).await?.enabled {
        return Ok(());
    }
    let payload = serde_json::to_value(reply)
        .map_err(|e| crate::AppError::Internal(format!("reply payload: {e}")))?;
    crate::jobs::enqueue(tx, REPLY_JOB, &payload, now, now).await?;
    Ok(())
}

/// A notification as its mail needs it: what it says, to whom, in which language, and
/// the thread of its task's mail.
#[derive(Debug, Clone)]
pub struct NotificationOut {
    pub notification: sigap_store::mail::NotificationMail,
    pub recipient: sigap_store::mail::Recipient,
    /// The task's mail, newest first (what the mail refers to).
    pub thread: Vec<String>,
}

/// The notification's mail, if it is still to be sent: its person still has an address
/// that did not fail and still wants this kind by mail.
pub async fn notification_out(
    core: &crate::Core,
    id: sigap_domain::NotificationId,
) -> AppResult<Option<NotificationOut>> {
    core.store
        .read(async move |tx| {
            let Some(n) = sigap_store::mail::notification_mail(tx, id).await? else {
                return Ok(None);
            };
            let Some(r) = sigap_store::mail::recipient(tx, n.person_id, &n.kind).await? else {
                return Ok(None);
            };
            let thread = match n.task_id {
                Some(t) => sigap_store::mail::thread_of(tx, t, 20).await?,
                None => Vec::new(),
            };
            Ok::<_, crate::AppError>(Some(NotificationOut {
                notification: n,
                recipient: r,
                thread,
            }))
        })
        .await
}

/// A task's number and title, and its mail (newest first), for a reply about it.
pub async fn task_for_mail(
    core: &crate::Core,
    task: TaskId,
) -> AppResult<Option<(String, String, Vec<String>)>> {
    core.store
        .read(async move |tx| {
            let Some(t) = sigap_store::mail::task_title(tx, task).await? else {
                return Ok(None);
            };
            let thread = sigap_store::mail::thread_of(tx, task, 20).await?;
            Ok::<_, crate::AppError>(Some((t.0, t.1, thread)))
        })
        .await
}

/// A message Sigap sent, to keep.
#[derive(Debug, Clone)]
pub struct Sent {
    pub message_id: String,
    pub raw: Vec<u8>,
    pub sender: String,
    pub recipient: String,
    pub subject: String,
    pub task: Option<TaskId>,
    pub person: Option<PersonId>,
    pub notification: Option<sigap_domain::NotificationId>,
    pub mailbox: Option<MailboxId>,
    /// sent, or failed (with the reason).
    pub failed: Option<String>,
}

/// Keeps a message Sigap sent (or gave up sending): replies to it thread back by its
/// Message-ID, and a delivery report finds its person.
pub async fn record_sent(core: &crate::Core, s: Sent) -> AppResult<()> {
    let now = core.now();
    core.store
        .write(async move |tx| {
            let m = sigap_store::mail::NewMessage {
                direction: sigap_store::mail::Direction::Out,
                mailbox_id: s.mailbox,
                message_id: &s.message_id,
                dedupe_key: None,
                raw: &s.raw,
                size: i64::try_from(s.raw.len()).unwrap_or(i64::MAX),
                truncated: false,
                sender: &s.sender,
                recipients: &s.recipient,
                subject: &s.subject,
                state: if s.failed.is_some() { "failed" } else { "sent" },
                reason: s.failed.as_ref().map(|_| "send_failed"),
                detail: s.failed.as_deref().unwrap_or(""),
                task_id: s.task,
                person_id: s.person,
                notification_id: s.notification,
                source: "smtp",
            };
            sigap_store::mail::insert_message(tx, &m, now).await?;
            Ok::<_, crate::AppError>(())
        })
        .await
}

/// The built-in subject: the task's number in brackets (replies thread by it), then what
/// the mail is about.
pub const BUILT_IN_SUBJECT: &str = "{% if number %}[{{ number }}] {% endif %}{{ subject_text }}";

/// The built-in text (the mail crate renders it; the administrators' template page shows
/// it as the starting point).
pub const BUILT_IN_BODY: &str = "{{ marker }}

{{ greeting }}

{{ headline }}
{% if body %}
{{ body }}
{% endif %}{% if link %}
{{ open_text }}: {{ link }}
{% endif %}
-- 
{{ footer }}
{% if preferences %}{{ preferences }}
{% endif %}";
