//! Mail for Sigap: taking inbound messages apart (MIME, charsets, delivery reports), taking
//! them in (piped by an MTA or polled over IMAP), and writing and sending the mail Sigap
//! sends (templates, SMTP). The rules of what a message becomes are `sigap_core::mail`'s.

pub mod compose;
mod dsn;
pub mod html;
pub mod imap;
pub mod intake;
pub mod outbound;
pub mod parse;
pub mod render;
pub mod smtp;

#[cfg(test)]
mod corpus;

pub use outbound::Mailer;
pub use parse::parse;
/// Sigap's loop header.
pub use sigap_core::mail::LOOP_HEADER;

use sigap_core::jobs::Registry;
use sigap_domain::MailMessageId;
use std::sync::Arc;

impl Mailer {
    /// A mailer trusting the system's CA certificates and those of `trust`.
    pub fn new(trust: smtp::TlsTrust) -> Result<Self, String> {
        Ok(Self {
            renderer: Arc::new(render::Renderer::new()?),
            smtp: smtp::Smtp::new(trust),
        })
    }
}

/// Adds the mail jobs to a registry: notification mail, automatic replies, processing a
/// message again, and polling the mailboxes.
pub fn register(registry: &mut Registry, mailer: Mailer) {
    let m = mailer.clone();
    registry.register(sigap_core::notifications::MAIL_JOB, move |core, job| {
        let m = m.clone();
        Box::pin(async move { m.notification(&core, &job).await })
    });
    let m = mailer.clone();
    registry.register(
        sigap_core::reports::schedules::SEND_JOB,
        move |core, job| {
            let m = m.clone();
            Box::pin(async move { m.report(&core, &job).await })
        },
    );
    let m = mailer.clone();
    registry.register(sigap_core::mail::REPLY_JOB, move |core, job| {
        let m = m.clone();
        Box::pin(async move { m.reply(&core, &job).await })
    });
    registry.register(sigap_core::mail::PROCESS_JOB, |core, job| {
        Box::pin(async move {
            let id = job
                .payload
                .get("message")
                .and_then(|v| v.as_str())
                .and_then(MailMessageId::parse)
                .ok_or("the job names no message")?;
            intake::reprocess(&core, id)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    });
    let trust = mailer.smtp.trust().clone();
    registry.register(sigap_core::mail::POLL_JOB, move |core, _job| {
        let trust = trust.clone();
        Box::pin(async move {
            if let Err(e) = imap::poll_due(&core, &trust, false).await {
                tracing::warn!(error = %e, "mailboxes not polled");
            }
            intake::sweep(&core)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    });
}
