//! Taking a message in: parsed, kept raw, then processed (`sigap_core::mail::inbound`). A
//! message kept but left unprocessed is processed by the sweep; the same message taken in
//! again is the one message.

use sigap_core::mail::Mailbox;
use sigap_core::mail::inbound::{self, Handled, Keeping, Source};
use sigap_core::{AppResult, Core};
use sigap_domain::MailMessageId;

/// What taking a message in came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    /// Kept and processed now.
    Done(MailMessageId, Handled),
    /// Kept; processing failed in a way that may pass (the sweep tries again).
    Kept(MailMessageId),
    /// Taken in before.
    Again(MailMessageId, String),
}

impl Received {
    pub fn id(&self) -> MailMessageId {
        match self {
            Received::Done(id, _) | Received::Kept(id) | Received::Again(id, _) => *id,
        }
    }
}

/// Takes a message in at a mailbox. An error means the message was not kept: whoever
/// delivered it must keep it and try again.
pub async fn receive(
    core: &Core,
    mailbox: &Mailbox,
    raw: &[u8],
    source: Source,
) -> AppResult<Received> {
    let parsed = crate::parse(raw);
    match inbound::keep(core, mailbox, raw, &parsed, source).await? {
        Keeping::New(id) => Ok(process(core, id, &parsed).await),
        // Kept before a crash but never processed: process it now.
        Keeping::Again(m) if m.state == "received" => Ok(process(core, m.id, &parsed).await),
        Keeping::Again(m) => Ok(Received::Again(m.id, m.state)),
    }
}

async fn process(
    core: &Core,
    id: MailMessageId,
    parsed: &Result<sigap_domain::mail::Inbound, sigap_domain::mail::Unreadable>,
) -> Received {
    match inbound::process(core, id, parsed).await {
        Ok(h) => Received::Done(id, h),
        Err(e) => {
            tracing::warn!(message = %id, error = %e, "mail kept but not processed yet");
            Received::Kept(id)
        }
    }
}

/// Processes a kept message again from its raw bytes.
pub async fn reprocess(core: &Core, id: MailMessageId) -> AppResult<Handled> {
    let raw = sigap_core::mail::admin::raw_of(core, id).await?;
    let parsed = crate::parse(&raw);
    inbound::process(core, id, &parsed).await
}

/// Processes the messages kept more than a minute ago and never processed.
pub async fn sweep(core: &Core) -> AppResult<usize> {
    let now = core.now();
    let before = now
        .saturating_sub(jiff::SignedDuration::from_secs(60))
        .unwrap_or(now);
    let ids = sigap_core::mail::admin::unprocessed(core, before, 100).await?;
    let mut n = 0;
    for id in ids {
        match reprocess(core, id).await {
            Ok(_) => n += 1,
            Err(e) => tracing::warn!(message = %id, error = %e, "mail still not processed"),
        }
    }
    Ok(n)
}
