//! The e-mail channel's records: mailboxes, every message taken in or sent (raw), the
//! per-sender day counts, delivery reports, what a person wants by mail, administrators'
//! templates and the outbound server.

use crate::error::{StoreError, StoreResult};
use crate::tx::{Dialect, Tx};
use crate::value::{P, Row};
use jiff::Timestamp;
use sigap_domain::{
    CatalogItemId, GroupId, JournalId, MailMessageId, MailboxId, NotificationId, PersonId, TaskId,
};

// ----- mailboxes -----

/// A mailbox as stored (the IMAP password included: never hand it out).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mailbox {
    pub id: MailboxId,
    pub name: String,
    pub address: String,
    pub active: bool,
    pub kind: String,
    pub catalog_item_id: Option<CatalogItemId>,
    pub group_id: Option<GroupId>,
    pub unknown_senders: String,
    pub resolved_reply: String,
    pub max_tasks_per_day: i64,
    pub max_replies_per_day: i64,
    pub max_bytes: i64,
    pub acknowledge: bool,
    pub imap: Imap,
    pub last_polled_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

/// Where and how a mailbox is polled (no host: an MTA delivers it).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Imap {
    pub host: Option<String>,
    pub port: Option<i64>,
    pub security: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub folder: String,
    pub after: String,
    pub poll_secs: i64,
}

/// What is written of a mailbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxFields {
    pub name: String,
    pub address: String,
    pub active: bool,
    pub kind: String,
    pub catalog_item_id: Option<CatalogItemId>,
    pub group_id: Option<GroupId>,
    pub unknown_senders: String,
    pub resolved_reply: String,
    pub max_tasks_per_day: i64,
    pub max_replies_per_day: i64,
    pub max_bytes: i64,
    pub acknowledge: bool,
    pub imap: Imap,
}

const MAILBOX_COLUMNS: &str = "id, name, address, active, kind, catalog_item_id, group_id, \
    unknown_senders, resolved_reply, max_tasks_per_day, max_replies_per_day, max_bytes, acknowledge, \
    imap_host, imap_port, imap_security, imap_username, imap_password, imap_folder, imap_after, poll_secs, \
    last_polled_at, last_error, created_at, updated_at, version";

fn mailbox_row(r: &Row) -> StoreResult<Mailbox> {
    Ok(Mailbox {
        id: r.get(0)?,
        name: r.get(1)?,
        address: r.get(2)?,
        active: r.get(3)?,
        kind: r.get(4)?,
        catalog_item_id: r.get(5)?,
        group_id: r.get(6)?,
        unknown_senders: r.get(7)?,
        resolved_reply: r.get(8)?,
        max_tasks_per_day: r.get(9)?,
        max_replies_per_day: r.get(10)?,
        max_bytes: r.get(11)?,
        acknowledge: r.get(12)?,
        imap: Imap {
            host: r.get(13)?,
            port: r.get(14)?,
            security: r.get(15)?,
            username: r.get(16)?,
            password: r.get(17)?,
            folder: r.get(18)?,
            after: r.get(19)?,
            poll_secs: r.get(20)?,
        },
        last_polled_at: r.get(21)?,
        last_error: r.get(22)?,
        created_at: r.get(23)?,
        updated_at: r.get(24)?,
        version: r.get(25)?,
    })
}

fn mailbox_params<'a>(f: &'a MailboxFields) -> Vec<P<'a>> {
    vec![
        f.name.as_str().into(),
        f.address.as_str().into(),
        f.active.into(),
        f.kind.as_str().into(),
        f.catalog_item_id.into(),
        f.group_id.into(),
        f.unknown_senders.as_str().into(),
        f.resolved_reply.as_str().into(),
        f.max_tasks_per_day.into(),
        f.max_replies_per_day.into(),
        f.max_bytes.into(),
        f.acknowledge.into(),
        f.imap.host.as_deref().into(),
        f.imap.port.into(),
        f.imap.security.as_str().into(),
        f.imap.username.as_deref().into(),
        f.imap.password.as_deref().into(),
        f.imap.folder.as_str().into(),
        f.imap.after.as_str().into(),
        f.imap.poll_secs.into(),
    ]
}

pub async fn insert_mailbox(
    tx: &mut Tx<'_>,
    id: MailboxId,
    f: &MailboxFields,
    now: Timestamp,
) -> StoreResult<Mailbox> {
    let mut params = mailbox_params(f);
    params.push(id.into());
    params.push(now.into());
    tx.execute(
        "INSERT INTO mailbox (name, address, active, kind, catalog_item_id, group_id, unknown_senders, \
         resolved_reply, max_tasks_per_day, max_replies_per_day, max_bytes, acknowledge, imap_host, imap_port, \
         imap_security, imap_username, imap_password, imap_folder, imap_after, poll_secs, id, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22)",
        &params,
    )
    .await?;
    get_mailbox(tx, id).await
}

/// Writes a mailbox's fields if it is still at `version`; `Conflict` otherwise.
pub async fn update_mailbox(
    tx: &mut Tx<'_>,
    id: MailboxId,
    f: &MailboxFields,
    version: i64,
    now: Timestamp,
) -> StoreResult<Mailbox> {
    let mut params = mailbox_params(f);
    params.push(id.into());
    params.push(now.into());
    params.push(version.into());
    let n = tx
        .execute(
            "UPDATE mailbox SET name = $1, address = $2, active = $3, kind = $4, catalog_item_id = $5, \
             group_id = $6, unknown_senders = $7, resolved_reply = $8, max_tasks_per_day = $9, \
             max_replies_per_day = $10, max_bytes = $11, acknowledge = $12, imap_host = $13, imap_port = $14, \
             imap_security = $15, imap_username = $16, imap_password = $17, imap_folder = $18, imap_after = $19, \
             poll_secs = $20, updated_at = $22, version = version + 1 WHERE id = $21 AND version = $23",
            &params,
        )
        .await?;
    if n == 0 {
        get_mailbox(tx, id).await?;
        return Err(StoreError::VersionMismatch);
    }
    get_mailbox(tx, id).await
}

pub async fn get_mailbox(tx: &mut Tx<'_>, id: MailboxId) -> StoreResult<Mailbox> {
    let row = tx
        .query_one(
            &format!("SELECT {MAILBOX_COLUMNS} FROM mailbox WHERE id = $1"),
            &[id.into()],
        )
        .await?;
    mailbox_row(&row)
}

/// The mailbox of an address (lower case), if any.
pub async fn mailbox_by_address(tx: &mut Tx<'_>, address: &str) -> StoreResult<Option<Mailbox>> {
    tx.query_opt(
        &format!("SELECT {MAILBOX_COLUMNS} FROM mailbox WHERE address = $1"),
        &[address.into()],
    )
    .await?
    .map(|r| mailbox_row(&r))
    .transpose()
}

/// Every mailbox by name.
pub async fn mailboxes(tx: &mut Tx<'_>) -> StoreResult<Vec<Mailbox>> {
    tx.query(
        &format!("SELECT {MAILBOX_COLUMNS} FROM mailbox ORDER BY name, id"),
        &[],
    )
    .await?
    .iter()
    .map(mailbox_row)
    .collect()
}

pub async fn delete_mailbox(tx: &mut Tx<'_>, id: MailboxId) -> StoreResult<bool> {
    Ok(tx
        .execute("DELETE FROM mailbox WHERE id = $1", &[id.into()])
        .await?
        > 0)
}

/// Records a poll of a mailbox: when, and what went wrong (none: it went well).
pub async fn set_polled(
    tx: &mut Tx<'_>,
    id: MailboxId,
    at: Timestamp,
    error: Option<&str>,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE mailbox SET last_polled_at = $2, last_error = $3 WHERE id = $1",
        &[id.into(), at.into(), error.into()],
    )
    .await?;
    Ok(())
}

// ----- messages -----

/// Which way a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    In,
    Out,
}

impl Direction {
    pub fn code(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

/// A message's record without its raw bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailMessage {
    pub id: MailMessageId,
    pub direction: String,
    pub mailbox_id: Option<MailboxId>,
    pub message_id: String,
    pub size: i64,
    pub truncated: bool,
    pub sender: String,
    pub recipients: String,
    pub subject: String,
    pub state: String,
    pub reason: Option<String>,
    pub detail: String,
    pub task_id: Option<TaskId>,
    /// The task's number, when it has one.
    pub task_number: Option<String>,
    pub journal_id: Option<JournalId>,
    pub person_id: Option<PersonId>,
    pub notification_id: Option<NotificationId>,
    pub source: String,
    pub attempts: i64,
    pub created_at: Timestamp,
    pub processed_at: Option<Timestamp>,
}

const MESSAGE_COLUMNS: &str = "m.id, m.direction, m.mailbox_id, m.message_id, m.size, m.truncated, \
    m.sender, m.recipients, m.subject, m.state, m.reason, m.detail, m.task_id, t.number, m.journal_id, \
    m.person_id, m.notification_id, m.source, m.attempts, m.created_at, m.processed_at";
const MESSAGE_FROM: &str = "mail_message m LEFT JOIN task t ON t.id = m.task_id";

fn message_row(r: &Row) -> StoreResult<MailMessage> {
    Ok(MailMessage {
        id: r.get(0)?,
        direction: r.get(1)?,
        mailbox_id: r.get(2)?,
        message_id: r.get(3)?,
        size: r.get(4)?,
        truncated: r.get(5)?,
        sender: r.get(6)?,
        recipients: r.get(7)?,
        subject: r.get(8)?,
        state: r.get(9)?,
        reason: r.get(10)?,
        detail: r.get(11)?,
        task_id: r.get(12)?,
        task_number: r.get(13)?,
        journal_id: r.get(14)?,
        person_id: r.get(15)?,
        notification_id: r.get(16)?,
        source: r.get(17)?,
        attempts: r.get(18)?,
        created_at: r.get(19)?,
        processed_at: r.get(20)?,
    })
}

/// A message to keep.
#[derive(Debug, Clone)]
pub struct NewMessage<'a> {
    pub direction: Direction,
    pub mailbox_id: Option<MailboxId>,
    pub message_id: &'a str,
    /// What makes the same message taken in twice one (none: never the same).
    pub dedupe_key: Option<&'a str>,
    pub raw: &'a [u8],
    pub size: i64,
    pub truncated: bool,
    pub sender: &'a str,
    pub recipients: &'a str,
    pub subject: &'a str,
    pub state: &'a str,
    pub reason: Option<&'a str>,
    pub detail: &'a str,
    pub task_id: Option<TaskId>,
    pub person_id: Option<PersonId>,
    pub notification_id: Option<NotificationId>,
    pub source: &'a str,
}

/// What keeping a message came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kept {
    New(MailMessageId),
    /// The same message was taken in before: its record.
    Again(Box<MailMessage>),
}

/// Keeps a message, unless one with its dedupe key is kept already.
pub async fn insert_message(
    tx: &mut Tx<'_>,
    m: &NewMessage<'_>,
    now: Timestamp,
) -> StoreResult<Kept> {
    let id = MailMessageId::new();
    let n = tx
        .execute(
            "INSERT INTO mail_message (id, direction, mailbox_id, message_id, dedupe_key, raw, size, truncated, \
             sender, recipients, subject, state, reason, detail, task_id, person_id, notification_id, source, \
             created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) \
             ON CONFLICT (dedupe_key) DO NOTHING",
            &[
                id.into(),
                m.direction.code().into(),
                m.mailbox_id.into(),
                m.message_id.into(),
                m.dedupe_key.into(),
                P::Bytes(m.raw),
                m.size.into(),
                m.truncated.into(),
                m.sender.into(),
                m.recipients.into(),
                m.subject.into(),
                m.state.into(),
                m.reason.into(),
                m.detail.into(),
                m.task_id.into(),
                m.person_id.into(),
                m.notification_id.into(),
                m.source.into(),
                now.into(),
            ],
        )
        .await?;
    if n > 0 {
        return Ok(Kept::New(id));
    }
    let row = tx
        .query_one(
            &format!("SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.dedupe_key = $1"),
            &[m.dedupe_key.into()],
        )
        .await?;
    Ok(Kept::Again(Box::new(message_row(&row)?)))
}

pub async fn get_message(tx: &mut Tx<'_>, id: MailMessageId) -> StoreResult<MailMessage> {
    let row = tx
        .query_one(
            &format!("SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.id = $1"),
            &[id.into()],
        )
        .await?;
    message_row(&row)
}

/// A message's raw bytes.
pub async fn raw(tx: &mut Tx<'_>, id: MailMessageId) -> StoreResult<Vec<u8>> {
    tx.query_one("SELECT raw FROM mail_message WHERE id = $1", &[id.into()])
        .await?
        .get(0)
}

/// What became of a message.
#[derive(Debug, Clone, Default)]
pub struct Outcome<'a> {
    pub state: &'a str,
    pub reason: Option<&'a str>,
    pub detail: &'a str,
    pub task_id: Option<TaskId>,
    pub journal_id: Option<JournalId>,
    pub person_id: Option<PersonId>,
}

/// Records what became of a message (and counts an attempt).
pub async fn set_outcome(
    tx: &mut Tx<'_>,
    id: MailMessageId,
    o: &Outcome<'_>,
    now: Timestamp,
) -> StoreResult<()> {
    tx.execute(
        "UPDATE mail_message SET state = $2, reason = $3, detail = $4, \
         task_id = COALESCE($5, task_id), journal_id = COALESCE($6, journal_id), \
         person_id = COALESCE($7, person_id), processed_at = $8 WHERE id = $1",
        &[
            id.into(),
            o.state.into(),
            o.reason.into(),
            o.detail.into(),
            o.task_id.into(),
            o.journal_id.into(),
            o.person_id.into(),
            now.into(),
        ],
    )
    .await?;
    Ok(())
}

/// Claims a received message for processing in the caller's transaction: false when it is
/// not (or no longer) received. On PostgreSQL the row stays locked until the transaction
/// ends, so two processors of one message take turns and the second finds it done.
pub async fn claim_received(tx: &mut Tx<'_>, id: MailMessageId) -> StoreResult<bool> {
    Ok(tx
        .execute(
            "UPDATE mail_message SET attempts = attempts + 1 WHERE id = $1 AND state = 'received'",
            &[id.into()],
        )
        .await?
        > 0)
}

/// Messages in `state` going `direction`, oldest first, at most `limit`, created before
/// `before` (received messages a crash left behind, queued mail…).
pub async fn in_state(
    tx: &mut Tx<'_>,
    direction: Direction,
    state: &str,
    before: Timestamp,
    limit: i64,
) -> StoreResult<Vec<MailMessage>> {
    tx.query(
        &format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.direction = $1 AND m.state = $2 \
             AND m.created_at < $3 ORDER BY m.created_at, m.id LIMIT $4"
        ),
        &[
            direction.code().into(),
            state.into(),
            before.into(),
            limit.into(),
        ],
    )
    .await?
    .iter()
    .map(message_row)
    .collect()
}

/// What a message list is narrowed to.
#[derive(Debug, Clone, Default)]
pub struct MessageFilter {
    pub direction: Option<Direction>,
    pub state: Option<String>,
    pub mailbox_id: Option<MailboxId>,
    pub task_id: Option<TaskId>,
    /// Newest first, before this (created at, id).
    pub before: Option<(Timestamp, MailMessageId)>,
}

/// Messages newest first, at most `limit`.
pub async fn messages(
    tx: &mut Tx<'_>,
    f: &MessageFilter,
    limit: i64,
) -> StoreResult<Vec<MailMessage>> {
    let mut sql = format!("SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE 1 = 1");
    let mut params: Vec<P<'_>> = Vec::new();
    if let Some(d) = f.direction {
        params.push(d.code().into());
        sql.push_str(&format!(" AND m.direction = ${}", params.len()));
    }
    if let Some(s) = &f.state {
        params.push(s.as_str().into());
        sql.push_str(&format!(" AND m.state = ${}", params.len()));
    }
    if let Some(b) = f.mailbox_id {
        params.push(b.into());
        sql.push_str(&format!(" AND m.mailbox_id = ${}", params.len()));
    }
    if let Some(t) = f.task_id {
        params.push(t.into());
        sql.push_str(&format!(" AND m.task_id = ${}", params.len()));
    }
    if let Some((at, id)) = f.before {
        params.push(at.into());
        params.push(id.into());
        sql.push_str(&format!(
            " AND (m.created_at < ${} OR (m.created_at = ${} AND m.id < ${}))",
            params.len() - 1,
            params.len() - 1,
            params.len()
        ));
    }
    params.push(limit.into());
    sql.push_str(&format!(
        " ORDER BY m.created_at DESC, m.id DESC LIMIT ${}",
        params.len()
    ));
    tx.query(&sql, &params)
        .await?
        .iter()
        .map(message_row)
        .collect()
}

/// The task of the newest message (in or out) with one of these Message-IDs, if any.
pub async fn task_of_message_ids(tx: &mut Tx<'_>, ids: &[String]) -> StoreResult<Option<TaskId>> {
    if ids.is_empty() {
        return Ok(None);
    }
    let list = serde_json::Value::from(ids.iter().map(|s| s.as_str()).collect::<Vec<_>>());
    let sql = match tx.dialect() {
        Dialect::Sqlite => {
            "SELECT task_id FROM mail_message WHERE message_id IN (SELECT value FROM json_each($1)) \
             AND task_id IS NOT NULL ORDER BY created_at DESC LIMIT 1"
        }
        Dialect::Postgres => {
            "SELECT task_id FROM mail_message WHERE message_id IN \
             (SELECT jsonb_array_elements_text($1::jsonb)) \
             AND task_id IS NOT NULL ORDER BY created_at DESC LIMIT 1"
        }
    };
    match tx.query_opt(sql, &[(&list).into()]).await? {
        Some(r) => Ok(Some(r.get(0)?)),
        None => Ok(None),
    }
}

/// The message Sigap sent with this Message-ID, if any.
pub async fn sent_message(tx: &mut Tx<'_>, message_id: &str) -> StoreResult<Option<MailMessage>> {
    tx.query_opt(
        &format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.message_id = $1 AND m.direction = 'out' \
             ORDER BY m.created_at DESC LIMIT 1"
        ),
        &[message_id.into()],
    )
    .await?
    .map(|r| message_row(&r))
    .transpose()
}

/// Counts by direction and state, for the administrators' overview.
pub async fn counts(tx: &mut Tx<'_>) -> StoreResult<Vec<(String, String, i64)>> {
    tx.query(
        "SELECT direction, state, count(*) FROM mail_message GROUP BY direction, state ORDER BY direction, state",
        &[],
    )
    .await?
    .iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
    .collect()
}

/// A task by its number (any kind): its id and kind.
pub async fn task_by_number(
    tx: &mut Tx<'_>,
    number: &str,
) -> StoreResult<Option<(TaskId, sigap_domain::task::TaskKind)>> {
    match tx
        .query_opt(
            "SELECT id, kind FROM task WHERE number = $1",
            &[number.trim().to_uppercase().as_str().into()],
        )
        .await?
    {
        Some(r) => Ok(Some((
            r.get(0)?,
            super::decode(1, r.get(1)?, sigap_domain::task::TaskKind::parse)?,
        ))),
        None => Ok(None),
    }
}

// ----- per-sender days -----

/// Which count of a sender's day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayCount {
    /// Tasks opened by mail.
    Tasks,
    /// Automatic replies sent.
    Replies,
}

/// A sender's count for the day so far.
pub async fn day_count(
    tx: &mut Tx<'_>,
    mailbox: MailboxId,
    address: &str,
    day: &str,
    which: DayCount,
) -> StoreResult<i64> {
    let col = match which {
        DayCount::Tasks => "tasks",
        DayCount::Replies => "replies",
    };
    Ok(tx
        .query_opt(
            &format!(
                "SELECT {col} FROM mail_sender_day WHERE mailbox_id = $1 AND address = $2 AND day = $3"
            ),
            &[mailbox.into(), address.into(), day.into()],
        )
        .await?
        .map(|r| r.get::<i64>(0))
        .transpose()?
        .unwrap_or(0))
}

/// Adds one to a sender's count for the day; the count after.
pub async fn bump_day(
    tx: &mut Tx<'_>,
    mailbox: MailboxId,
    address: &str,
    day: &str,
    which: DayCount,
) -> StoreResult<i64> {
    let (tasks, replies): (i64, i64) = match which {
        DayCount::Tasks => (1, 0),
        DayCount::Replies => (0, 1),
    };
    let col = match which {
        DayCount::Tasks => "tasks",
        DayCount::Replies => "replies",
    };
    tx.query_one(
        &format!(
            "INSERT INTO mail_sender_day (mailbox_id, address, day, tasks, replies) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (mailbox_id, address, day) DO UPDATE SET tasks = mail_sender_day.tasks + $4, \
             replies = mail_sender_day.replies + $5 RETURNING {col}"
        ),
        &[
            mailbox.into(),
            address.into(),
            day.into(),
            tasks.into(),
            replies.into(),
        ],
    )
    .await?
    .get(0)
}

/// Forgets the day counts before `day` (housekeeping).
pub async fn forget_days_before(tx: &mut Tx<'_>, day: &str) -> StoreResult<u64> {
    tx.execute("DELETE FROM mail_sender_day WHERE day < $1", &[day.into()])
        .await
}

// ----- delivery reports -----

/// A recipient's delivery status, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bounce {
    pub mail_id: MailMessageId,
    pub original_id: Option<MailMessageId>,
    pub person_id: Option<PersonId>,
    pub address: String,
    pub action: String,
    pub status: String,
    pub diagnostic: String,
    pub permanent: bool,
    pub created_at: Timestamp,
}

pub async fn insert_bounce(tx: &mut Tx<'_>, b: &Bounce) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO mail_bounce (id, mail_id, original_id, person_id, address, action, status, diagnostic, \
         permanent, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &[
            uuid::Uuid::now_v7().into(),
            b.mail_id.into(),
            b.original_id.into(),
            b.person_id.into(),
            b.address.as_str().into(),
            b.action.as_str().into(),
            b.status.as_str().into(),
            b.diagnostic.as_str().into(),
            b.permanent.into(),
            b.created_at.into(),
        ],
    )
    .await?;
    Ok(())
}

/// A person's delivery reports, newest first.
pub async fn bounces_of(tx: &mut Tx<'_>, person: PersonId, limit: i64) -> StoreResult<Vec<Bounce>> {
    tx.query(
        "SELECT mail_id, original_id, person_id, address, action, status, diagnostic, permanent, created_at \
         FROM mail_bounce WHERE person_id = $1 ORDER BY created_at DESC LIMIT $2",
        &[person.into(), limit.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(Bounce {
            mail_id: r.get(0)?,
            original_id: r.get(1)?,
            person_id: r.get(2)?,
            address: r.get(3)?,
            action: r.get(4)?,
            status: r.get(5)?,
            diagnostic: r.get(6)?,
            permanent: r.get(7)?,
            created_at: r.get(8)?,
        })
    })
    .collect()
}

/// Stops mail to a person's address after a permanent failure: it resumes when the address
/// is changed. False when the person's address is another by now.
pub async fn mark_failed(
    tx: &mut Tx<'_>,
    person: PersonId,
    address: &str,
    at: Timestamp,
) -> StoreResult<bool> {
    Ok(tx
        .execute(
            "UPDATE person SET mail_failed_address = $2, mail_failed_at = $3 \
             WHERE id = $1 AND lower(email) = $2",
            &[person.into(), address.into(), at.into()],
        )
        .await?
        > 0)
}

/// The people whose mail address is this one (folded), active ones first.
pub async fn people_with_address(tx: &mut Tx<'_>, address: &str) -> StoreResult<Vec<PersonId>> {
    tx.query(
        "SELECT id FROM person WHERE lower(email) = $1 ORDER BY active DESC, created_at, id",
        &[address.into()],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

// ----- what a person gets by mail -----

/// Whether a person gets mail of a kind of notification (on unless turned off).
pub async fn preferences(tx: &mut Tx<'_>, person: PersonId) -> StoreResult<Vec<(String, bool)>> {
    tx.query(
        "SELECT kind, enabled FROM mail_preference WHERE person_id = $1 ORDER BY kind",
        &[person.into()],
    )
    .await?
    .iter()
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .collect()
}

pub async fn set_preference(
    tx: &mut Tx<'_>,
    person: PersonId,
    kind: &str,
    enabled: bool,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO mail_preference (person_id, kind, enabled) VALUES ($1, $2, $3) \
         ON CONFLICT (person_id, kind) DO UPDATE SET enabled = excluded.enabled",
        &[person.into(), kind.into(), enabled.into()],
    )
    .await?;
    Ok(())
}

/// Where a notification's mail goes, if anywhere: the person's address and language, unless
/// they have none, are inactive, turned this kind off, or their address failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub person_id: PersonId,
    pub name: String,
    pub email: String,
    pub locale: String,
}

/// Who gets mail of a kind (`$2`), `$3` true and `$4` false: see `Recipient`.
const MAILED: &str = "p.active = $3 AND p.email IS NOT NULL AND p.email <> '' \
    AND (p.mail_failed_address IS NULL OR p.mail_failed_address <> lower(p.email)) \
    AND NOT EXISTS (SELECT 1 FROM mail_preference f WHERE f.person_id = p.id AND f.kind = $2 \
    AND f.enabled = $4)";

/// Those of `people` who get this kind of notification by mail (see `Recipient`).
pub async fn mailed(
    tx: &mut Tx<'_>,
    people: &[PersonId],
    kind: &str,
) -> StoreResult<Vec<PersonId>> {
    if people.is_empty() {
        return Ok(Vec::new());
    }
    let list = super::id_array(people);
    let sql = format!(
        "SELECT p.id FROM person p WHERE {} AND {MAILED}",
        super::in_json(tx.dialect(), "p.id", "$1")
    );
    tx.query(
        &sql,
        &[(&list).into(), kind.into(), true.into(), false.into()],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}

pub async fn recipient(
    tx: &mut Tx<'_>,
    person: PersonId,
    kind: &str,
) -> StoreResult<Option<Recipient>> {
    let row = tx
        .query_opt(
            &format!(
                "SELECT p.id, p.name, p.email, p.locale FROM person p WHERE p.id = $1 AND {MAILED}"
            ),
            &[person.into(), kind.into(), true.into(), false.into()],
        )
        .await?;
    row.map(|r| {
        Ok(Recipient {
            person_id: r.get(0)?,
            name: r.get(1)?,
            email: r.get(2)?,
            locale: r.get(3)?,
        })
    })
    .transpose()
}

// ----- templates -----

/// An administrator's wording of a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub kind: String,
    pub locale: String,
    pub subject: String,
    pub body: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

fn template_row(r: &Row) -> StoreResult<Template> {
    Ok(Template {
        kind: r.get(0)?,
        locale: r.get(1)?,
        subject: r.get(2)?,
        body: r.get(3)?,
        updated_at: r.get(4)?,
        updated_by: r.get(5)?,
    })
}

pub async fn templates(tx: &mut Tx<'_>) -> StoreResult<Vec<Template>> {
    tx.query(
        "SELECT kind, locale, subject, body, updated_at, updated_by FROM mail_template ORDER BY kind, locale",
        &[],
    )
    .await?
    .iter()
    .map(template_row)
    .collect()
}

pub async fn template(tx: &mut Tx<'_>, kind: &str, locale: &str) -> StoreResult<Option<Template>> {
    tx.query_opt(
        "SELECT kind, locale, subject, body, updated_at, updated_by FROM mail_template \
         WHERE kind = $1 AND locale = $2",
        &[kind.into(), locale.into()],
    )
    .await?
    .map(|r| template_row(&r))
    .transpose()
}

pub async fn set_template(tx: &mut Tx<'_>, t: &Template) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO mail_template (kind, locale, subject, body, updated_at, updated_by) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, locale) DO UPDATE SET subject = excluded.subject, \
         body = excluded.body, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        &[
            t.kind.as_str().into(),
            t.locale.as_str().into(),
            t.subject.as_str().into(),
            t.body.as_str().into(),
            t.updated_at.into(),
            t.updated_by.as_str().into(),
        ],
    )
    .await?;
    Ok(())
}

/// Goes back to the built-in wording; false when there was none of the administrators'.
pub async fn delete_template(tx: &mut Tx<'_>, kind: &str, locale: &str) -> StoreResult<bool> {
    Ok(tx
        .execute(
            "DELETE FROM mail_template WHERE kind = $1 AND locale = $2",
            &[kind.into(), locale.into()],
        )
        .await?
        > 0)
}

// ----- the outbound server -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outbound {
    pub enabled: bool,
    pub host: String,
    pub port: i64,
    pub security: String,
    pub username: String,
    pub password: String,
    pub from_address: String,
    pub from_name: String,
    pub updated_at: Option<Timestamp>,
    pub version: i64,
}

impl Default for Outbound {
    fn default() -> Self {
        Self {
            enabled: false,
            host: String::new(),
            port: 587,
            security: "starttls".into(),
            username: String::new(),
            password: String::new(),
            from_address: String::new(),
            from_name: "Sigap".into(),
            updated_at: None,
            version: 0,
        }
    }
}

/// The outbound server's settings (the defaults when never set).
pub async fn outbound(tx: &mut Tx<'_>) -> StoreResult<Outbound> {
    let row = tx
        .query_opt(
            "SELECT enabled, host, port, security, username, password, from_address, from_name, updated_at, \
             version FROM mail_outbound WHERE id = 1",
            &[],
        )
        .await?;
    match row {
        None => Ok(Outbound::default()),
        Some(r) => Ok(Outbound {
            enabled: r.get(0)?,
            host: r.get(1)?,
            port: r.get(2)?,
            security: r.get(3)?,
            username: r.get(4)?,
            password: r.get(5)?,
            from_address: r.get(6)?,
            from_name: r.get(7)?,
            updated_at: Some(r.get(8)?),
            version: r.get(9)?,
        }),
    }
}

/// Writes the outbound server's settings if they are still at `version` (0: never set);
/// `Conflict` otherwise.
pub async fn set_outbound(
    tx: &mut Tx<'_>,
    o: &Outbound,
    version: i64,
    now: Timestamp,
) -> StoreResult<Outbound> {
    let params: [P<'_>; 10] = [
        o.enabled.into(),
        o.host.as_str().into(),
        o.port.into(),
        o.security.as_str().into(),
        o.username.as_str().into(),
        o.password.as_str().into(),
        o.from_address.as_str().into(),
        o.from_name.as_str().into(),
        now.into(),
        version.into(),
    ];
    let n = if version == 0 {
        tx.execute(
            "INSERT INTO mail_outbound (id, enabled, host, port, security, username, password, from_address, \
             from_name, updated_at, version) VALUES (1, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10 + 1) \
             ON CONFLICT (id) DO NOTHING",
            &params,
        )
        .await?
    } else {
        tx.execute(
            "UPDATE mail_outbound SET enabled = $1, host = $2, port = $3, security = $4, username = $5, \
             password = $6, from_address = $7, from_name = $8, updated_at = $9, version = version + 1 \
             WHERE id = 1 AND version = $10",
            &params,
        )
        .await?
    };
    if n == 0 {
        return Err(StoreError::VersionMismatch);
    }
    outbound(tx).await
}

// ----- notifications by mail -----

/// A notification with what its mail needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationMail {
    pub id: NotificationId,
    pub person_id: PersonId,
    pub kind: String,
    pub subject: String,
    pub body: String,
    pub link: String,
    pub task_id: Option<TaskId>,
    pub task_number: Option<String>,
    pub task_title: Option<String>,
    pub created_at: Timestamp,
}

pub async fn notification_mail(
    tx: &mut Tx<'_>,
    id: NotificationId,
) -> StoreResult<Option<NotificationMail>> {
    tx.query_opt(
        "SELECT n.id, n.person_id, n.kind, n.subject, n.body, n.link, n.task_id, t.number, t.short_description, \
         n.created_at FROM notification n LEFT JOIN task t ON t.id = n.task_id WHERE n.id = $1",
        &[id.into()],
    )
    .await?
    .map(|r| {
        Ok(NotificationMail {
            id: r.get(0)?,
            person_id: r.get(1)?,
            kind: r.get(2)?,
            subject: r.get(3)?,
            body: r.get(4)?,
            link: r.get(5)?,
            task_id: r.get(6)?,
            task_number: r.get(7)?,
            task_title: r.get(8)?,
            created_at: r.get(9)?,
        })
    })
    .transpose()
}

/// A task's number and title.
pub async fn task_title(tx: &mut Tx<'_>, task: TaskId) -> StoreResult<Option<(String, String)>> {
    tx.query_opt(
        "SELECT number, short_description FROM task WHERE id = $1",
        &[task.into()],
    )
    .await?
    .map(|r| Ok((r.get(0)?, r.get(1)?)))
    .transpose()
}

/// The newest Message-IDs of a task's mail (in or out), newest first: what a reply from
/// Sigap refers to.
pub async fn thread_of(tx: &mut Tx<'_>, task: TaskId, limit: i64) -> StoreResult<Vec<String>> {
    tx.query(
        "SELECT message_id FROM mail_message WHERE task_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        &[task.into(), limit.into()],
    )
    .await?
    .iter()
    .map(|r| r.get(0))
    .collect()
}
