//! Mail taken in: kept raw first, then made a task, a comment, a delivery report or
//! nothing, or put in the quarantine with its reason. `sigap-mail` parses the message and
//! calls `keep` and then `process`; a message kept but not processed (a crash, a database
//! that went away) is processed again by the sweep, and the same message taken in twice
//! (by its mailbox and Message-ID) is the one message.

use super::{Reply, ReplyKind, enqueue_reply};
use crate::Core;
use crate::audit::Actor;
use crate::error::{AppError, AppResult};
use crate::incidents::{Action as IncidentAction, IncidentInput};
use crate::principal::{AuthMethod, Ctx, Principal};
use crate::task::{self, Process, TaskInput};
use jiff::Timestamp;
use sha2::{Digest, Sha256};
use sigap_domain::mail::{AutoReason, Inbound, Unreadable};
use sigap_domain::process::incident::IncidentState;
use sigap_domain::task::{ContactType, Priority, StateModel, TaskKind};
use sigap_domain::{Email, Locale, MailMessageId, PersonId, Role, TaskId};
use sigap_store::Tx;
use sigap_store::incidents::IncidentExt;
use sigap_store::mail::{self as repo, DayCount, Direction, Kept, Mailbox, NewMessage, Outcome};
use sigap_store::requests::{RequestExt, RequestItemExt};
use sigap_store::task::{Record, RecordFields, TaskFields};

/// How much of a message over the size limit is kept (its headers, for the quarantine).
const KEPT_OF_TOO_LARGE: usize = 64 * 1024;

/// How a message came in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// An MTA piped it to `sigap mail receive`.
    Pipe,
    /// Polled from the mailbox's IMAP server.
    Imap,
}

impl Source {
    fn code(self) -> &'static str {
        match self {
            Source::Pipe => "pipe",
            Source::Imap => "imap",
        }
    }
}

/// What a message came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handled {
    /// A new task (its number).
    Opened(String),
    /// A comment on a task (its number).
    Commented(String),
    /// A resolved task reopened with the reply (its number).
    Reopened(String),
    /// Refused, with a reply saying why (the reason's code).
    Refused(&'static str),
    /// Taken in but made nothing (machine-made mail, over the day's limit…): the reason.
    Ignored(String),
    /// A delivery report, recorded against the people and messages it names.
    Report,
    /// In the quarantine, with the reason's code.
    Quarantined(String),
}

impl Handled {
    /// The message's state after it.
    pub fn state(&self) -> &'static str {
        match self {
            Handled::Opened(_) | Handled::Commented(_) | Handled::Reopened(_) | Handled::Report => {
                "processed"
            }
            Handled::Refused(_) | Handled::Ignored(_) => "ignored",
            Handled::Quarantined(_) => "quarantined",
        }
    }
}

/// The result of keeping a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Keeping {
    /// Kept now: process it.
    New(MailMessageId),
    /// Taken in before (a second delivery, a poll after a crash): its record.
    Again(Box<repo::MailMessage>),
}

/// The reason code of an unreadable message.
pub fn unreadable_code(u: &Unreadable) -> &'static str {
    match u {
        Unreadable::Empty => "empty",
        Unreadable::TooLarge { .. } => "too_large",
        Unreadable::NotMail => "not_mail",
        Unreadable::TooDeep => "too_deep",
        Unreadable::NoSender => "no_sender",
    }
}

fn unreadable_detail(u: &Unreadable) -> String {
    match u {
        Unreadable::Empty => "the message is empty".into(),
        Unreadable::TooLarge { bytes, limit } => {
            format!("the message has {bytes} bytes, more than the limit of {limit}")
        }
        Unreadable::NotMail => "no mail header could be read".into(),
        Unreadable::TooDeep => format!(
            "its parts are nested more than {} deep",
            sigap_domain::mail::MAX_DEPTH
        ),
        Unreadable::NoSender => "no sender address could be read".into(),
    }
}

/// Keeps a message raw before anything else is done with it: a message that could not be
/// read goes straight to the quarantine. The same message again is not kept twice.
pub async fn keep(
    core: &Core,
    mailbox: &Mailbox,
    raw: &[u8],
    parsed: &Result<Inbound, Unreadable>,
    source: Source,
) -> AppResult<Keeping> {
    let hash = hex::encode(Sha256::digest(raw));
    let limit = usize::try_from(mailbox.max_bytes).unwrap_or(usize::MAX);
    let too_large = raw.len() > limit;
    let parsed = match parsed {
        Ok(_) if too_large => Err(Unreadable::TooLarge {
            bytes: raw.len(),
            limit,
        }),
        other => other.clone(),
    };
    let (message_id, sender, recipients, subject) = match &parsed {
        Ok(m) => (
            m.message_id.clone(),
            m.from.as_ref().map(|a| a.email.clone()).unwrap_or_default(),
            m.to.iter()
                .chain(&m.cc)
                .map(|a| a.email.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            m.subject.clone(),
        ),
        Err(_) => (None, String::new(), String::new(), String::new()),
    };
    let dedupe = match &message_id {
        Some(mid) => format!("in:{}:{mid}", mailbox.id),
        None => format!("in:{}:sha256:{hash}", mailbox.id),
    };
    let message_id = message_id.unwrap_or_else(|| format!("sha256.{hash}@{}", "unknown"));
    let (state, reason, detail): (&'static str, Option<&'static str>, String) = match &parsed {
        Ok(_) => ("received", None, String::new()),
        Err(u) => (
            "quarantined",
            Some(unreadable_code(u)),
            unreadable_detail(u),
        ),
    };
    let kept_raw = if too_large {
        raw[..raw.len().min(KEPT_OF_TOO_LARGE)].to_vec()
    } else {
        raw.to_vec()
    };
    let k = ToKeep {
        mailbox: mailbox.id,
        message_id,
        dedupe,
        raw: kept_raw,
        size: i64::try_from(raw.len()).unwrap_or(i64::MAX),
        truncated: too_large,
        sender,
        recipients,
        subject,
        state,
        reason,
        detail,
        source,
    };
    let now = core.now();
    let kept = core
        .store
        .write(async move |tx| Ok::<_, AppError>(keep_in(tx, &k, now).await?))
        .await?;
    metrics::counter!("sigap_mail_received_total").increment(1);
    Ok(match kept {
        Kept::New(id) => Keeping::New(id),
        Kept::Again(m) => Keeping::Again(m),
    })
}

/// A message to keep, owned.
struct ToKeep {
    mailbox: sigap_domain::MailboxId,
    message_id: String,
    dedupe: String,
    raw: Vec<u8>,
    size: i64,
    truncated: bool,
    sender: String,
    recipients: String,
    subject: String,
    state: &'static str,
    reason: Option<&'static str>,
    detail: String,
    source: Source,
}

async fn keep_in(tx: &mut Tx<'_>, k: &ToKeep, now: Timestamp) -> sigap_store::StoreResult<Kept> {
    let m = NewMessage {
        direction: Direction::In,
        mailbox_id: Some(k.mailbox),
        message_id: &k.message_id,
        dedupe_key: Some(&k.dedupe),
        raw: &k.raw,
        size: k.size,
        truncated: k.truncated,
        sender: &k.sender,
        recipients: &k.recipients,
        subject: &k.subject,
        state: k.state,
        reason: k.reason,
        detail: &k.detail,
        task_id: None,
        person_id: None,
        notification_id: None,
        source: k.source.code(),
    };
    repo::insert_message(tx, &m, now).await
}

/// Whether an error may pass if tried again (the database is away or busy): the message
/// stays received for the sweep. Any other error puts it in the quarantine.
fn passing(e: &AppError) -> bool {
    matches!(e, AppError::Unavailable(_) | AppError::Contention)
}

/// Processes a kept message: a quarantined one stays there; any other becomes what its
/// content asks for. An error that may pass is returned (the message stays received, and
/// the sweep tries again); any other error puts it in the quarantine with the error.
pub async fn process(
    core: &Core,
    id: MailMessageId,
    parsed: &Result<Inbound, Unreadable>,
) -> AppResult<Handled> {
    let m = core
        .store
        .read(async move |tx| Ok::<_, AppError>(repo::get_message(tx, id).await?))
        .await?;
    if m.state != "received" {
        return Ok(came_to(m));
    }
    let Some(mailbox_id) = m.mailbox_id else {
        return quarantine(core, id, "no_mailbox", "its mailbox was deleted").await;
    };
    let inbound = match parsed {
        Ok(i) => i.clone(),
        Err(u) => return quarantine(core, id, unreadable_code(u), &unreadable_detail(u)).await,
    };
    let now = core.now();
    let settings = core.settings.clone();
    let result = core
        .store
        .write(async move |tx| {
            if !repo::claim_received(tx, id).await? {
                return Ok(None);
            }
            let mailbox = repo::get_mailbox(tx, mailbox_id).await?;
            let mut run = Run {
                tx,
                mailbox: &mailbox,
                message: id,
                mail: &inbound,
                now,
                host: &settings.mail_host,
                sender: None,
                task: None,
            };
            let handled = run.handle().await?;
            Ok::<_, AppError>(Some(handled))
        })
        .await;
    match result {
        Ok(None) => {
            // Another processor took it: what it came to.
            let m = core
                .store
                .read(async move |tx| Ok::<_, AppError>(repo::get_message(tx, id).await?))
                .await?;
            Ok(came_to(m))
        }
        Ok(Some(h)) => {
            metrics::counter!("sigap_mail_processed_total", "state" => h.state()).increment(1);
            Ok(h)
        }
        Err(e) if passing(&e) => Err(e),
        Err(e) => {
            tracing::warn!(message = %id, error = %e, "mail could not be processed");
            quarantine(core, id, "failed", &describe(&e)).await
        }
    }
}

/// What a message processed before came to, as far as its record says.
fn came_to(m: repo::MailMessage) -> Handled {
    match m.state.as_str() {
        "quarantined" => Handled::Quarantined(m.reason.unwrap_or_default()),
        _ => Handled::Ignored(m.reason.unwrap_or_else(|| "processed".into())),
    }
}

/// An error as an administrator reads it in the quarantine.
fn describe(e: &AppError) -> String {
    match e {
        AppError::Validation(fields) => fields
            .iter()
            .map(|f| format!("{}: {}", f.field, f.message))
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Conflict { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

async fn quarantine(
    core: &Core,
    id: MailMessageId,
    reason: &str,
    detail: &str,
) -> AppResult<Handled> {
    let now = core.now();
    let (r, d) = (reason.to_owned(), detail.to_owned());
    core.store
        .write(async move |tx| {
            let o = Outcome {
                state: "quarantined",
                reason: Some(&r),
                detail: &d,
                ..Default::default()
            };
            Ok::<_, AppError>(repo::set_outcome(tx, id, &o, now).await?)
        })
        .await?;
    metrics::counter!("sigap_mail_quarantined_total").increment(1);
    Ok(Handled::Quarantined(reason.to_owned()))
}

/// One message's processing, in one transaction.
struct Run<'r, 't> {
    tx: &'r mut Tx<'t>,
    mailbox: &'r Mailbox,
    message: MailMessageId,
    mail: &'r Inbound,
    now: Timestamp,
    host: &'r str,
    /// The sender's person, once known.
    sender: Option<PersonId>,
    /// The task the message made or answered.
    task: Option<TaskId>,
}

impl Run<'_, '_> {
    async fn handle(&mut self) -> AppResult<Handled> {
        let handled = self.decide().await?;
        let (task_id, person_id) = self.outcome_refs().await?;
        let (reason, detail): (Option<String>, String) = match &handled {
            Handled::Refused(r) => (Some((*r).to_owned()), String::new()),
            Handled::Ignored(r) => (Some(r.clone()), String::new()),
            Handled::Report => (Some("delivery_report".into()), String::new()),
            _ => (None, String::new()),
        };
        let o = Outcome {
            state: handled.state(),
            reason: reason.as_deref(),
            detail: &detail,
            task_id,
            journal_id: None,
            person_id,
        };
        repo::set_outcome(self.tx, self.message, &o, self.now).await?;
        Ok(handled)
    }

    /// The message's task and person: what processing found, else the person of its
    /// address (machine-made mail from a known address).
    async fn outcome_refs(&mut self) -> AppResult<(Option<TaskId>, Option<PersonId>)> {
        let person = match self.sender {
            Some(p) => Some(p),
            None => self.sender_id().await?,
        };
        Ok((self.task, person))
    }

    async fn sender_id(&mut self) -> AppResult<Option<PersonId>> {
        let Some(from) = &self.mail.from else {
            return Ok(None);
        };
        Ok(repo::people_with_address(self.tx, &from.email)
            .await?
            .first()
            .copied())
    }

    async fn decide(&mut self) -> AppResult<Handled> {
        let mail = self.mail;
        if let Some(report) = &mail.report {
            self.record_report(report).await?;
            return Ok(Handled::Report);
        }
        if let Some(why) = mail.auto_reason() {
            return Ok(Handled::Ignored(auto_code(&why).into()));
        }
        let Some(from) = mail.from.clone() else {
            return Err(AppError::field(
                "from",
                "required",
                "the message has no sender",
            ));
        };
        if from.email == self.mailbox.address {
            return Ok(Handled::Ignored("from_mailbox".into()));
        }
        let sender = match self.sender(&from).await? {
            Some(p) => p,
            None => {
                self.reply(&from.email, None, ReplyKind::UnknownSender, None)
                    .await?;
                return Ok(Handled::Refused("unknown_sender"));
            }
        };
        self.sender = Some(sender.id);
        if let Some((task, kind)) = self.thread().await? {
            if let Some(h) = self.answer(&sender, task, kind).await? {
                return Ok(h);
            }
        }
        self.open(&sender, None).await
    }

    /// The person the sender is: known by their address, or made a requester when the
    /// mailbox takes unknown senders. None: refused.
    async fn sender(
        &mut self,
        from: &sigap_domain::mail::Address,
    ) -> AppResult<Option<sigap_store::people::Person>> {
        for id in repo::people_with_address(self.tx, &from.email).await? {
            let p = sigap_store::people::get(self.tx, id).await?;
            if p.active {
                return Ok(Some(p));
            }
        }
        if self.mailbox.unknown_senders != "create" {
            return Ok(None);
        }
        if Email::parse(&from.email).is_err() {
            return Ok(None);
        }
        let login = self.free_login(&from.email).await?;
        let name = from
            .name
            .as_deref()
            .and_then(|n| sigap_domain::parse_line(n, 200).ok())
            .unwrap_or_else(|| from.email.clone());
        let fields = sigap_store::people::PersonFields {
            login,
            name,
            email: Some(from.email.clone()),
            locale: Locale::En,
            time_zone: "UTC".into(),
            active: true,
            organization_id: None,
            roles: vec![Role::Requester],
            manager_id: None,
        };
        let id = PersonId::new();
        let p = sigap_store::people::insert(self.tx, id, &fields, None, self.now).await?;
        Ok(Some(p))
    }

    /// A login for a person made from an address: the address if it is free and fits.
    async fn free_login(&mut self, email: &str) -> AppResult<String> {
        let base: String = email
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || ".-_@".contains(c) {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(56)
            .collect();
        let base = if base.chars().count() < 2 {
            format!("mail_{base}")
        } else {
            base
        };
        for n in 0..20 {
            let login = if n == 0 {
                base.clone()
            } else {
                format!("{base}.{n}")
            };
            if sigap_store::people::find_by_login(self.tx, &login)
                .await?
                .is_none()
            {
                return Ok(login);
            }
        }
        Ok(format!("mail.{}", uuid::Uuid::now_v7().simple()))
    }

    /// The task a reply answers: the number in its subject, else a Message-ID it refers to.
    async fn thread(&mut self) -> AppResult<Option<(TaskId, TaskKind)>> {
        let prefixes: Vec<&str> = TASK_KINDS.iter().map(|k| k.prefix()).collect();
        if let Some(number) =
            sigap_domain::mail::task_number_in_subject(&self.mail.subject, &prefixes)
        {
            if let Some(found) = repo::task_by_number(self.tx, &number).await? {
                return Ok(Some(found));
            }
        }
        let mut ids: Vec<String> = self.mail.in_reply_to.clone();
        ids.extend(self.mail.references.iter().rev().cloned());
        ids.truncate(50);
        if let Some(task) = repo::task_of_message_ids(self.tx, &ids).await? {
            if let Some(kind) = sigap_store::task::kind(self.tx, task).await? {
                return Ok(Some((task, kind)));
            }
        }
        Ok(None)
    }

    /// A reply to a task: a comment, a reopening, a refusal; none when the task cannot take
    /// it (closed, or not the sender's to see): a new task is opened instead.
    async fn answer(
        &mut self,
        sender: &sigap_store::people::Person,
        task: TaskId,
        kind: TaskKind,
    ) -> AppResult<Option<Handled>> {
        match kind {
            TaskKind::Incident => self.answer_as::<IncidentExt>(sender, task).await,
            TaskKind::Request | TaskKind::RequestItem => {
                self.answer_request(sender, task, kind).await
            }
            _ => self.answer_other(sender, task).await,
        }
    }

    async fn answer_as<P: ByMail>(
        &mut self,
        sender: &sigap_store::people::Person,
        task: TaskId,
    ) -> AppResult<Option<Handled>> {
        let ctx = ctx_of(sender, self.message);
        let r: Record<P> = sigap_store::task::get(self.tx, task).await?;
        let v = task::visibility(&ctx)?;
        if !task::visible(&v, &r) {
            return Ok(None);
        }
        let body = self.reply_body();
        if r.state.is_final() {
            let number = r.number.clone();
            return self.open(sender, Some(&number)).await.map(Some);
        }
        let action = if P::resolved(&r) {
            if self.mailbox.resolved_reply != "reopen" {
                let to = self.reply_address(sender);
                self.reply(&to, Some(sender), ReplyKind::ResolvedRefused, Some(task))
                    .await?;
                return Ok(Some(Handled::Refused("resolved")));
            }
            match P::reopen(&ctx, &r, body.clone()) {
                Some(a) => a,
                None => P::comment(body),
            }
        } else {
            P::comment(body)
        };
        let reopening = P::resolved(&r);
        if P::may_act(&ctx, &r, &action).is_err() {
            // Someone who sees the task but may not write on it (a reader of the
            // organization): the desk reads it as a new report.
            return Ok(None);
        }
        let actor = Actor::of(&ctx);
        task::act_in::<P>(self.tx, &actor, self.now, task, &action, None).await?;
        self.task = Some(task);
        self.attach(task, sender).await?;
        Ok(Some(if reopening {
            Handled::Reopened(r.number.clone())
        } else {
            Handled::Commented(r.number.clone())
        }))
    }

    async fn answer_request(
        &mut self,
        sender: &sigap_store::people::Person,
        task: TaskId,
        kind: TaskKind,
    ) -> AppResult<Option<Handled>> {
        match kind {
            TaskKind::Request => self.answer_as::<RequestExt>(sender, task).await,
            _ => self.answer_as::<RequestItemExt>(sender, task).await,
        }
    }

    /// A reply to a task of another kind (a problem, a change…): those are worked on in
    /// Sigap, not by mail; the reply is kept, and makes nothing.
    async fn answer_other(
        &mut self,
        _sender: &sigap_store::people::Person,
        _task: TaskId,
    ) -> AppResult<Option<Handled>> {
        Ok(Some(Handled::Ignored("not_by_mail".into())))
    }

    /// Opens a new task from the mail (as a further report of `follows`, a closed task).
    async fn open(
        &mut self,
        sender: &sigap_store::people::Person,
        follows: Option<&str>,
    ) -> AppResult<Handled> {
        let day = self.day();
        let opened = repo::day_count(
            self.tx,
            self.mailbox.id,
            &sender_key(sender),
            &day,
            DayCount::Tasks,
        )
        .await?;
        if opened >= self.mailbox.max_tasks_per_day {
            return Ok(Handled::Ignored("rate_limited".into()));
        }
        repo::bump_day(
            self.tx,
            self.mailbox.id,
            &sender_key(sender),
            &day,
            DayCount::Tasks,
        )
        .await?;
        let ctx = ctx_of(sender, self.message);
        let subject = sigap_domain::mail::strip_reply_prefixes(&self.mail.subject).trim();
        let short = if subject.is_empty() {
            "(no subject)".to_owned()
        } else {
            subject.chars().take(160).collect()
        };
        let mut description = self.mail.text.trim().to_owned();
        if let Some(old) = follows {
            description = format!("Follows {old} (closed).\n\n{description}");
        }
        let description: String = description.chars().take(30_000).collect();
        let (task, number) = match self.mailbox.kind.as_str() {
            "request" => self.open_request(&ctx, &short, &description).await?,
            _ => self.open_incident(&ctx, &short, &description).await?,
        };
        self.task = Some(task);
        self.attach(task, sender).await?;
        if self.mailbox.acknowledge {
            let to = self.reply_address(sender);
            self.reply(&to, Some(sender), ReplyKind::Acknowledge, Some(task))
                .await?;
        }
        Ok(Handled::Opened(number))
    }

    async fn open_incident(
        &mut self,
        ctx: &Ctx,
        short: &str,
        description: &str,
    ) -> AppResult<(TaskId, String)> {
        let input = IncidentInput {
            task: TaskInput {
                short_description: Some(short.to_owned()),
                description: Some(description.to_owned()),
                contact_type: Some(ContactType::Email.code().to_owned()),
                ..Default::default()
            },
            ..Default::default()
        };
        let f = RecordFields {
            task: TaskFields::new(
                IncidentState::New,
                Priority::LOWEST,
                ctx.principal.person_id,
            ),
            ext: IncidentExt::default(),
        };
        let mut f = task::checked::<IncidentExt>(ctx, &input, f)?;
        f.task.contact_type = ContactType::Email;
        // The mailbox's group (the sender, a requester, could not name one).
        if self.mailbox.group_id.is_some() {
            f.task.assignment_group_id = self.mailbox.group_id;
        }
        let actor = Actor::of(ctx);
        let r = task::create_in::<IncidentExt>(self.tx, ctx, &actor, self.now, &input, f).await?;
        Ok((r.id, r.number.clone()))
    }

    async fn open_request(
        &mut self,
        ctx: &Ctx,
        short: &str,
        description: &str,
    ) -> AppResult<(TaskId, String)> {
        let Some(item) = self.mailbox.catalog_item_id else {
            return Err(AppError::Conflict {
                code: "no_item",
                message: "the mailbox opens requests but names no catalogue item".into(),
                field: Some("catalog_item".into()),
            });
        };
        let comment = format!("{short}\n\n{description}");
        let comment: String = comment.chars().take(4_000).collect();
        let actor = Actor::of(ctx);
        let ordered =
            crate::requests::order_by_mail(self.tx, &actor, self.now, ctx, item, &comment).await?;
        Ok((ordered.request.id, ordered.request.number.clone()))
    }

    /// The message's attachments on the task, as the sender's.
    async fn attach(
        &mut self,
        task: TaskId,
        sender: &sigap_store::people::Person,
    ) -> AppResult<()> {
        for part in &self.mail.attachments {
            if part.bytes.is_empty() || part.bytes.len() > crate::attachments::MAX_ATTACHMENT {
                continue;
            }
            let hash = hex::encode(Sha256::digest(&part.bytes));
            let name = sigap_domain::parse_line(&part.filename, 200)
                .unwrap_or_else(|_| "attachment".into());
            sigap_store::task::attachments::insert_attachment(
                self.tx,
                task,
                &name,
                &part.content_type,
                &hash,
                &part.bytes,
                (Some(sender.id), &sender.login),
                self.now,
            )
            .await?;
        }
        Ok(())
    }

    /// The reply's own words: above the reply marker, without the quoted history.
    fn reply_body(&self) -> String {
        let text = sigap_domain::mail::reply_text(&self.mail.text);
        let text = text.trim();
        let text = if text.is_empty() {
            "(empty reply)"
        } else {
            text
        };
        text.chars().take(30_000).collect()
    }

    /// Where an automatic reply to the sender goes: Reply-To if given, else From.
    fn reply_address(&self, sender: &sigap_store::people::Person) -> String {
        self.mail
            .reply_to
            .as_ref()
            .or(self.mail.from.as_ref())
            .map(|a| a.email.clone())
            .or_else(|| sender.email.clone())
            .unwrap_or_default()
    }

    fn day(&self) -> String {
        jiff::tz::TimeZone::UTC
            .to_datetime(self.now)
            .date()
            .to_string()
    }

    /// An automatic reply, unless the mail asked for none or the address had its day's
    /// share of them.
    async fn reply(
        &mut self,
        to: &str,
        person: Option<&sigap_store::people::Person>,
        kind: ReplyKind,
        task: Option<TaskId>,
    ) -> AppResult<()> {
        if to.is_empty() || self.mail.auto_response_suppress.is_some() {
            return Ok(());
        }
        let day = self.day();
        let sent = repo::day_count(self.tx, self.mailbox.id, to, &day, DayCount::Replies).await?;
        if sent >= self.mailbox.max_replies_per_day {
            return Ok(());
        }
        repo::bump_day(self.tx, self.mailbox.id, to, &day, DayCount::Replies).await?;
        let reply = Reply {
            kind,
            to: to.to_owned(),
            locale: person.map(|p| p.locale).unwrap_or(Locale::En),
            person: person.map(|p| p.id),
            task,
            mailbox: Some(self.mailbox.id),
            in_reply_to: self.mail.message_id.clone(),
            subject: self.mail.subject.clone(),
        };
        enqueue_reply(self.tx, &reply, self.now, self.host).await
    }

    /// A delivery status notification: each recipient's status against the message it
    /// answers and its person; a permanent failure stops mail to the address.
    async fn record_report(
        &mut self,
        report: &sigap_domain::mail::DeliveryReport,
    ) -> AppResult<()> {
        let original = match &report.original_message_id {
            Some(mid) => repo::sent_message(self.tx, mid).await?,
            None => None,
        };
        for r in &report.recipients {
            let mut people = repo::people_with_address(self.tx, &r.address).await?;
            if let Some(p) = original.as_ref().and_then(|o| o.person_id) {
                people.retain(|x| *x == p);
                if people.is_empty() {
                    people.push(p);
                }
            }
            let action = match r.action {
                sigap_domain::mail::DeliveryAction::Failed => "failed",
                sigap_domain::mail::DeliveryAction::Delayed => "delayed",
                sigap_domain::mail::DeliveryAction::Delivered => "delivered",
                sigap_domain::mail::DeliveryAction::Relayed => "relayed",
                sigap_domain::mail::DeliveryAction::Expanded => "expanded",
            };
            let targets: Vec<Option<PersonId>> = if people.is_empty() {
                vec![None]
            } else {
                people.into_iter().map(Some).collect()
            };
            for person in targets {
                let b = repo::Bounce {
                    mail_id: self.message,
                    original_id: original.as_ref().map(|o| o.id),
                    person_id: person,
                    address: r.address.clone(),
                    action: action.into(),
                    status: r.status.clone(),
                    diagnostic: r.diagnostic.clone().unwrap_or_default(),
                    permanent: r.permanent_failure(),
                    created_at: self.now,
                };
                repo::insert_bounce(self.tx, &b).await?;
                if let (true, Some(p)) = (r.permanent_failure(), person) {
                    repo::mark_failed(self.tx, p, &r.address, self.now).await?;
                }
            }
        }
        Ok(())
    }
}

/// The kinds whose numbers a subject may carry.
const TASK_KINDS: [TaskKind; 9] = [
    TaskKind::Incident,
    TaskKind::Problem,
    TaskKind::ProblemTask,
    TaskKind::Change,
    TaskKind::ChangeTask,
    TaskKind::Request,
    TaskKind::RequestItem,
    TaskKind::FulfilmentTask,
    TaskKind::Article,
];

/// A sender's key in the day counts: their person, so that aliases count together.
fn sender_key(p: &sigap_store::people::Person) -> String {
    format!("person:{}", p.id)
}

fn auto_code(why: &AutoReason) -> &'static str {
    match why {
        AutoReason::AutoSubmitted(_) => "auto_submitted",
        AutoReason::Precedence(_) => "precedence",
        AutoReason::List => "list",
        AutoReason::EmptyReturnPath => "empty_return_path",
        AutoReason::Daemon(_) => "daemon",
        AutoReason::DeliveryReport => "delivery_report",
        AutoReason::Loop(_) => "loop",
    }
}

/// The sender acting by mail: their own rights, no more.
fn ctx_of(p: &sigap_store::people::Person, message: MailMessageId) -> Ctx {
    Ctx::new(
        Principal::from_person(p, AuthMethod::Mail),
        format!("mail-{message}"),
    )
}

/// What a process does with a reply by mail.
pub trait ByMail: Process {
    /// A comment the caller and the desk see.
    fn comment(body: String) -> Self::Action;
    /// Resolved: a reply may reopen it.
    fn resolved(_r: &Record<Self>) -> bool {
        false
    }
    /// The action that reopens a resolved task with the reply, for this sender.
    fn reopen(_ctx: &Ctx, _r: &Record<Self>, _body: String) -> Option<Self::Action> {
        None
    }
}

impl ByMail for IncidentExt {
    fn comment(body: String) -> IncidentAction {
        IncidentAction::Comment { body }
    }
    fn resolved(r: &Record<Self>) -> bool {
        r.state == IncidentState::Resolved
    }
    /// The caller's reply rejects the resolution (the incident is worked on again); the
    /// desk's reply is a comment.
    fn reopen(ctx: &Ctx, r: &Record<Self>, body: String) -> Option<IncidentAction> {
        let is_caller = ctx.principal.person_id.is_some()
            && r.caller.as_ref().map(|c| c.id) == ctx.principal.person_id;
        is_caller.then_some(IncidentAction::Reject { comment: body })
    }
}

impl ByMail for RequestExt {
    fn comment(body: String) -> crate::requests::Action {
        crate::requests::Action::Comment { body }
    }
}

impl ByMail for RequestItemExt {
    fn comment(body: String) -> crate::requests::Action {
        crate::requests::Action::Comment { body }
    }
}
