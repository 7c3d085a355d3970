//! The mail Sigap sends, as jobs: a notification's mail, and the automatic replies to mail
//! taken in. Each is rendered in its recipient's language, sent, and kept with its
//! Message-ID so that replies thread back.

use crate::compose::{self, Outgoing};
use crate::render::{Facts, Renderer};
use crate::smtp::{SendError, Smtp};
use sigap_core::jobs::Job;
use sigap_core::mail::Outbound;
use sigap_core::mail::{Reply, Sent};
use sigap_core::reports::{dashboards, schedules, table};
use sigap_core::{AppError, Core};
use sigap_domain::{Locale, NotificationId};
use std::sync::Arc;

/// What sending needs: the renderer and the SMTP transport.
#[derive(Debug, Clone)]
pub struct Mailer {
    pub renderer: Arc<Renderer>,
    pub smtp: Smtp,
}

/// How a job ended: `Err` is tried again later.
type JobResult = Result<(), String>;

fn absolute(core: &Core, link: &str) -> String {
    if link.starts_with("http://") || link.starts_with("https://") {
        return link.to_owned();
    }
    format!("{}{}", core.settings.public_url.trim_end_matches('/'), link)
}

/// References for a reply in a thread: oldest first, at most 20.
fn references(thread_newest_first: &[String], also: Option<&String>) -> Vec<String> {
    let mut refs: Vec<String> = thread_newest_first.iter().rev().cloned().collect();
    if let Some(a) = also {
        if !refs.contains(a) {
            refs.push(a.clone());
        }
    }
    let skip = refs.len().saturating_sub(20);
    refs.into_iter().skip(skip).collect()
}

async fn template(core: &Core, kind: &str, locale: Locale) -> Option<(String, String)> {
    match sigap_core::mail::admin::template_for(core, kind, locale.code()).await {
        Ok(t) => t.map(|t| (t.subject, t.body)),
        Err(e) => {
            tracing::warn!(kind, error = %e, "mail template not read; the built-in one is used");
            None
        }
    }
}

/// A letter to write: its template and facts, its reader, its thread, and what it is kept
/// against.
struct Letter {
    template: &'static str,
    facts: Facts,
    to: String,
    to_name: Option<String>,
    in_reply_to: Option<String>,
    references: Vec<String>,
    task: Option<sigap_domain::TaskId>,
    person: Option<sigap_domain::PersonId>,
    notification: Option<NotificationId>,
    mailbox: Option<sigap_domain::MailboxId>,
    attachments: Vec<compose::Attachment>,
}

/// A message ready to go, with what is kept of it.
struct Ready {
    to: String,
    raw: Vec<u8>,
    sent: Sent,
}

impl Mailer {
    /// Sends, and keeps what was sent. A refusal for good is kept as failed and not tried
    /// again; anything else that fails is tried again, and kept as failed at the last try.
    async fn deliver(&self, core: &Core, o: &Outbound, r: Ready, job: &Job) -> JobResult {
        let outcome = self.smtp.send(o, &r.to, &r.raw).await;
        let failed = match &outcome {
            Ok(()) => None,
            Err(SendError::Off) => return Ok(()),
            Err(SendError::Permanent(e)) | Err(SendError::Settings(e)) => Some(e.clone()),
            Err(SendError::Transient(e)) if job.attempts >= job.max_attempts => Some(e.clone()),
            Err(SendError::Transient(e)) => return Err(e.clone()),
        };
        let sent = Sent {
            failed: failed.clone(),
            raw: r.raw,
            ..r.sent
        };
        sigap_core::mail::record_sent(core, sent)
            .await
            .map_err(|e| e.to_string())?;
        match failed {
            None => {
                metrics::counter!("sigap_mail_sent_total").increment(1);
                Ok(())
            }
            Some(e) => {
                metrics::counter!("sigap_mail_failed_total").increment(1);
                tracing::warn!(job = %job.id, error = %e, "mail not sent");
                Ok(())
            }
        }
    }

    /// The job of a notification's mail.
    pub async fn notification(&self, core: &Core, job: &Job) -> JobResult {
        let id = job
            .payload
            .get("notification")
            .and_then(|v| v.as_str())
            .and_then(NotificationId::parse)
            .ok_or("the job names no notification")?;
        let o = sigap_core::mail::admin::outbound_settings(core)
            .await
            .map_err(|e| e.to_string())?;
        if !o.enabled {
            return Ok(());
        }
        let Some(out) = sigap_core::mail::notification_out(core, id)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        let n = &out.notification;
        let locale = Locale::parse(&out.recipient.locale).unwrap_or(Locale::En);
        let facts = Facts {
            kind: "notification".into(),
            notification_kind: Some(n.kind.clone()),
            locale,
            recipient_name: out.recipient.name.clone(),
            number: n.task_number.clone(),
            title: n.task_title.clone().unwrap_or_else(|| n.subject.clone()),
            body: n.body.clone(),
            link: (!n.link.is_empty()).then(|| absolute(core, &n.link)),
            preferences_link: Some(absolute(core, "/profile")),
        };
        let letter = Letter {
            template: "notification",
            facts,
            to: out.recipient.email.clone(),
            to_name: Some(out.recipient.name.clone()),
            in_reply_to: out.thread.first().cloned(),
            references: references(&out.thread, None),
            task: n.task_id,
            person: Some(out.recipient.person_id),
            notification: Some(n.id),
            mailbox: None,
            attachments: Vec::new(),
        };
        self.send(core, &o, letter, job).await
    }

    /// The job of a scheduled report's mail to one recipient: the report as its owner sees
    /// it now, attached as a file in the recipient's language (not sent when it is empty and
    /// the schedule says so, or when the report or its owner is gone).
    pub async fn report(&self, core: &Core, job: &Job) -> JobResult {
        let p = &job.payload;
        let text = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let id = text("schedule")
            .as_deref()
            .and_then(sigap_domain::ScheduleId::parse)
            .ok_or("the job names no schedule")?;
        let to = text("to").ok_or("the job names no recipient")?;
        let o = sigap_core::mail::admin::outbound_settings(core)
            .await
            .map_err(|e| e.to_string())?;
        if !o.enabled {
            return Ok(());
        }
        let Some(d) = schedules::delivery(core, id)
            .await
            .map_err(|e| e.to_string())?
        else {
            return Ok(());
        };
        if d.skip_empty && d.is_empty() {
            return Ok(());
        }
        let locale = text("locale")
            .and_then(|l| Locale::parse(&l).ok())
            .unwrap_or(d.owner.locale);
        let words = table::I18nWords {
            i18n: self.renderer.i18n(),
            locale,
        };
        let report_id = d.data.report.id.to_string();
        let title = match dashboards::builtin_key(&report_id) {
            Some(key) => self
                .renderer
                .i18n()
                .text(locale, &format!("builtin-{key}"), None),
            None => d.data.report.name.clone(),
        };
        let Some(file) =
            table::file(&title, &d.data, &words, &d.format).map_err(|e| e.to_string())?
        else {
            return Err(format!("unknown report format {:?}", d.format));
        };
        let zone = jiff::tz::TimeZone::get(&d.data.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
        let day = |t: jiff::Timestamp| zone.to_datetime(t).date().to_string();
        let period = format!("{} – {}", day(d.data.from), day(d.data.to));
        let facts = Facts {
            kind: "notification".into(),
            notification_kind: Some("report_delivery".into()),
            locale,
            recipient_name: text("name").unwrap_or_else(|| to.clone()),
            number: None,
            title,
            body: period,
            link: Some(absolute(core, &format!("/reports/{report_id}"))),
            preferences_link: None,
        };
        let letter = Letter {
            template: "notification",
            facts,
            to: to.clone(),
            to_name: text("name").filter(|n| *n != to),
            in_reply_to: None,
            references: Vec::new(),
            task: None,
            person: text("person")
                .as_deref()
                .and_then(sigap_domain::PersonId::parse),
            notification: None,
            mailbox: None,
            attachments: vec![compose::Attachment {
                filename: file.filename,
                content_type: file.content_type.to_owned(),
                bytes: file.bytes,
            }],
        };
        self.send(core, &o, letter, job).await
    }

    /// The job of an automatic reply to a mail taken in.
    pub async fn reply(&self, core: &Core, job: &Job) -> JobResult {
        let reply: Reply = serde_json::from_value(job.payload.clone())
            .map_err(|e| format!("the job's reply: {e}"))?;
        let o = sigap_core::mail::admin::outbound_settings(core)
            .await
            .map_err(|e| e.to_string())?;
        if !o.enabled {
            return Ok(());
        }
        let task = match reply.task {
            Some(t) => sigap_core::mail::task_for_mail(core, t)
                .await
                .map_err(|e| e.to_string())?,
            None => None,
        };
        let original = sigap_domain::mail::strip_reply_prefixes(&reply.subject).trim();
        let (number, title, thread) = match task {
            Some((n, t, th)) => (Some(n), t, th),
            None => (None, original.to_owned(), Vec::new()),
        };
        let facts = Facts {
            kind: reply.kind.code().into(),
            notification_kind: None,
            locale: reply.locale,
            recipient_name: reply.to.clone(),
            number: number.clone(),
            title,
            body: String::new(),
            link: None,
            preferences_link: None,
        };
        let letter = Letter {
            template: reply.kind.code(),
            facts,
            to: reply.to.clone(),
            to_name: None,
            in_reply_to: reply.in_reply_to.clone(),
            references: references(&thread, reply.in_reply_to.as_ref()),
            task: reply.task,
            person: reply.person,
            notification: None,
            mailbox: reply.mailbox,
            attachments: Vec::new(),
        };
        self.send(core, &o, letter, job).await
    }

    /// Writes a letter from its template (an administrator's, else the built-in one) in its
    /// reader's language, sends it, and keeps what was sent.
    async fn send(&self, core: &Core, o: &Outbound, l: Letter, job: &Job) -> JobResult {
        let tpl = template(core, l.template, l.facts.locale).await;
        let words = self.renderer.render(
            tpl.as_ref().map(|(s, b)| (s.as_str(), b.as_str())),
            &l.facts,
        );
        let m = Outgoing {
            from_address: o.from_address.clone(),
            from_name: o.from_name.clone(),
            to_address: l.to.clone(),
            to_name: l.to_name,
            subject: words.subject.clone(),
            message_id: compose::message_id(&core.settings.mail_host),
            in_reply_to: l.in_reply_to,
            references: l.references,
            date: core.now(),
            loop_value: core.settings.mail_host.clone(),
            text: words.text,
            html: words.html,
            attachments: l.attachments,
        };
        let ready = Ready {
            raw: compose::compose(&m),
            sent: Sent {
                message_id: m.message_id,
                raw: Vec::new(),
                sender: o.from_address.clone(),
                recipient: l.to.clone(),
                subject: words.subject,
                task: l.task,
                person: l.person,
                notification: l.notification,
                mailbox: l.mailbox,
                failed: None,
            },
            to: l.to,
        };
        self.deliver(core, o, ready, job).await
    }
}

/// An error as a job reports it.
pub fn job_error(e: AppError) -> String {
    e.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_keep_the_oldest_first_and_at_most_twenty() {
        let thread: Vec<String> = (0..30).rev().map(|i| format!("m{i}@x")).collect();
        let refs = references(&thread, Some(&"new@x".to_owned()));
        assert_eq!(refs.len(), 20);
        assert_eq!(refs.last().map(String::as_str), Some("new@x"));
        assert_eq!(refs.first().map(String::as_str), Some("m11@x"));
    }
}
