//! The e-mail channel over HTTP: mailboxes, the outbound server, the mail templates, the
//! messages taken in and sent with the quarantine, a task's mail, and what each person wants
//! by mail. Passwords are written, never read back: the answers say whether there is one.

use super::dto::{Page, Ref, Time, nullable, ts};
use super::handlers::with_etag;
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller, IfMatch};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sigap_core::FieldError;
use sigap_core::mail::admin::{
    self, MailboxInput, MailboxView, NOTIFICATION_KINDS, OutboundInput, OutboundView,
    TEMPLATE_KINDS,
};
use sigap_core::mail::{Direction, MailMessage, MessageFilter, Template};
use sigap_domain::{Locale, MailMessageId, MailboxId};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use uuid::Uuid;

// ----- mailboxes -----

/// A mailbox: an address the desk receives at, what a new mail there opens, and how it is
/// read (IMAP polling, or an MTA piping to `sigap mail receive`). Its IMAP password is never
/// shown: `has_password` says whether it has one.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailboxOut {
    pub id: Uuid,
    pub name: String,
    /// The address mail arrives at (lower case).
    pub address: String,
    pub active: bool,
    /// What a new mail opens: incident or request.
    pub kind: String,
    /// The catalogue item a new mail requests (kind request).
    pub catalog_item: Option<Ref>,
    /// The group new tasks are assigned to.
    pub group: Option<Ref>,
    /// An unknown sender: create (a requester is made) or refuse (a reply says why).
    pub unknown_senders: String,
    /// A reply to a resolved task: reopen it, or refuse (a reply says why).
    pub resolved_reply: String,
    /// Tasks one sender may open by mail here in a day.
    pub max_tasks_per_day: i64,
    /// Automatic replies one address gets from here in a day.
    pub max_replies_per_day: i64,
    /// The largest message taken in, in bytes; a larger one goes to the quarantine.
    pub max_bytes: i64,
    /// Acknowledge a new task by mail.
    pub acknowledge: bool,
    /// The IMAP server polled; none when an MTA delivers.
    pub imap_host: Option<String>,
    pub imap_port: Option<i64>,
    /// tls or starttls.
    pub imap_security: String,
    pub imap_username: Option<String>,
    /// Whether an IMAP password is set (it is never shown).
    pub has_password: bool,
    pub imap_folder: String,
    /// After a message is committed: seen (marked) or delete.
    pub imap_after: String,
    /// Seconds between polls.
    pub poll_secs: i64,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_polled_at: Option<Time>,
    /// What went wrong at the last poll.
    pub last_error: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    pub version: i64,
}

/// A reference of which only the id is at hand.
fn id_ref(id: Uuid) -> Ref {
    Ref {
        id,
        display: String::new(),
    }
}

impl From<MailboxView> for MailboxOut {
    fn from(v: MailboxView) -> Self {
        let m = v.mailbox;
        Self {
            id: m.id.as_uuid(),
            name: m.name,
            address: m.address,
            active: m.active,
            kind: m.kind,
            catalog_item: m.catalog_item_id.map(|c| id_ref(c.as_uuid())),
            group: m.group_id.map(|g| id_ref(g.as_uuid())),
            unknown_senders: m.unknown_senders,
            resolved_reply: m.resolved_reply,
            max_tasks_per_day: m.max_tasks_per_day,
            max_replies_per_day: m.max_replies_per_day,
            max_bytes: m.max_bytes,
            acknowledge: m.acknowledge,
            imap_host: m.imap.host,
            imap_port: m.imap.port,
            imap_security: m.imap.security,
            imap_username: m.imap.username,
            has_password: v.has_password,
            imap_folder: m.imap.folder,
            imap_after: m.imap.after,
            poll_secs: m.imap.poll_secs,
            last_polled_at: m.last_polled_at.map(ts),
            last_error: m.last_error,
            created_at: ts(m.created_at),
            updated_at: ts(m.updated_at),
            version: m.version,
        }
    }
}

/// A mailbox's fields; a field left out keeps its value (on create: its default). On create
/// `name` and `address` are required. Ranges are stated in the descriptions and checked with
/// the other rules (422), after `If-Match`, as every update of the API does.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct MailboxIn {
    /// At most 100 characters, unique.
    pub name: Option<String>,
    /// The address mail arrives at, unique.
    pub address: Option<String>,
    pub active: Option<bool>,
    /// incident (default) or request.
    pub kind: Option<String>,
    /// The catalogue item (id or name) a new mail requests: required for kind request;
    /// `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub catalog_item: Option<Option<String>>,
    /// The group (id or name) new tasks are assigned to; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub group: Option<Option<String>>,
    /// create (default) or refuse.
    pub unknown_senders: Option<String>,
    /// reopen (default) or refuse.
    pub resolved_reply: Option<String>,
    /// 1 to 100000 (default 40).
    pub max_tasks_per_day: Option<i64>,
    /// 0 to 1000 (default 10).
    pub max_replies_per_day: Option<i64>,
    /// 1024 to 52428800 bytes (default 10485760).
    pub max_bytes: Option<i64>,
    pub acknowledge: Option<bool>,
    /// The IMAP server to poll; `null` or empty: an MTA delivers (`sigap mail receive`).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub imap_host: Option<Option<String>>,
    /// 1 to 65535; `null`: the security's default port.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<i64>)]
    pub imap_port: Option<Option<i64>>,
    /// tls (default) or starttls.
    pub imap_security: Option<String>,
    /// Required when `imap_host` is set; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub imap_username: Option<Option<String>>,
    /// Write only: a new password; empty keeps the one set, `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub imap_password: Option<Option<String>>,
    /// The folder polled (default INBOX).
    pub imap_folder: Option<String>,
    /// seen (default) or delete.
    pub imap_after: Option<String>,
    /// Seconds between polls, 10 to 86400 (default 60).
    pub poll_secs: Option<i64>,
}

impl From<MailboxIn> for MailboxInput {
    fn from(m: MailboxIn) -> Self {
        Self {
            name: m.name,
            address: m.address,
            active: m.active,
            kind: m.kind,
            catalog_item: m.catalog_item,
            group: m.group,
            unknown_senders: m.unknown_senders,
            resolved_reply: m.resolved_reply,
            max_tasks_per_day: m.max_tasks_per_day,
            max_replies_per_day: m.max_replies_per_day,
            max_bytes: m.max_bytes,
            acknowledge: m.acknowledge,
            imap_host: m.imap_host,
            imap_port: m.imap_port,
            imap_security: m.imap_security,
            imap_username: m.imap_username,
            imap_password: m.imap_password,
            imap_folder: m.imap_folder,
            imap_after: m.imap_after,
            poll_secs: m.poll_secs,
        }
    }
}

fn mailbox_response(status: StatusCode, v: MailboxView, location: Option<String>) -> Response {
    let version = v.mailbox.version;
    with_etag(status, version, MailboxOut::from(v), location)
}

/// The mailboxes, by name (administrators).
#[utoipa::path(get, path = "/api/v1/mailboxes", tag = "mail",
    responses((status = 200, body = Vec<MailboxOut>)))]
pub async fn list_mailboxes(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<MailboxOut>>> {
    let list = admin::mailboxes(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Makes a mailbox (administrators).
#[utoipa::path(post, path = "/api/v1/mailboxes", tag = "mail", request_body = MailboxIn,
    responses((status = 201, body = MailboxOut, headers(("Location" = String), ("ETag" = String))),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_mailbox(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<MailboxIn>,
) -> ApiResult<Response> {
    let m = admin::create_mailbox(&s.core, &ctx, body.into()).await?;
    let location = format!("/api/v1/mailboxes/{}", m.mailbox.id);
    Ok(mailbox_response(StatusCode::CREATED, m, Some(location)))
}

/// A mailbox (administrators).
#[utoipa::path(get, path = "/api/v1/mailboxes/{id}", tag = "mail", params(("id" = String, Path)),
    responses((status = 200, body = MailboxOut, headers(("ETag" = String))),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_mailbox(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let m = admin::mailbox(&s.core, &ctx, &id).await?;
    Ok(mailbox_response(StatusCode::OK, m, None))
}

/// Changes a mailbox (administrators).
#[utoipa::path(patch, path = "/api/v1/mailboxes/{id}", tag = "mail", request_body = MailboxIn,
    params(("id" = String, Path), ("If-Match" = Option<String>, Header)),
    responses((status = 200, body = MailboxOut, headers(("ETag" = String))),
              (status = 412, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn patch_mailbox(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<MailboxIn>,
) -> ApiResult<Response> {
    let m = admin::update_mailbox(&s.core, &ctx, &id, body.into(), v).await?;
    Ok(mailbox_response(StatusCode::OK, m, None))
}

/// Deletes a mailbox (administrators); the messages taken in through it are kept.
#[utoipa::path(delete, path = "/api/v1/mailboxes/{id}", tag = "mail", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn delete_mailbox(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    admin::delete_mailbox(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- the outbound server -----

/// The SMTP server notifications and replies go out through. Its password is never shown:
/// `has_password` says whether it has one.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailOutboundOut {
    /// Whether Sigap sends mail at all.
    pub enabled: bool,
    pub host: String,
    pub port: i64,
    /// tls, starttls or none.
    pub security: String,
    pub username: String,
    /// Whether a password is set (it is never shown).
    pub has_password: bool,
    /// The sender of every mail.
    pub from_address: String,
    pub from_name: String,
    /// None when never set.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<Time>,
    pub version: i64,
}

impl From<OutboundView> for MailOutboundOut {
    fn from(v: OutboundView) -> Self {
        let o = v.outbound;
        Self {
            enabled: o.enabled,
            host: o.host,
            port: o.port,
            security: o.security,
            username: o.username,
            has_password: v.has_password,
            from_address: o.from_address,
            from_name: o.from_name,
            updated_at: o.updated_at.map(ts),
            version: o.version,
        }
    }
}

/// The outbound server's settings; a field left out keeps its value. Enabled, it needs a
/// `host` and a `from_address`.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct MailOutboundIn {
    pub enabled: Option<bool>,
    /// Empty for none.
    pub host: Option<String>,
    /// 1 to 65535.
    pub port: Option<i64>,
    /// tls, starttls or none.
    pub security: Option<String>,
    /// Empty for none.
    pub username: Option<String>,
    /// Write only: a new password; empty keeps the one set, `null` removes it.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub password: Option<Option<String>>,
    pub from_address: Option<String>,
    pub from_name: Option<String>,
}

impl From<MailOutboundIn> for OutboundInput {
    fn from(o: MailOutboundIn) -> Self {
        Self {
            enabled: o.enabled,
            host: o.host,
            port: o.port,
            security: o.security,
            username: o.username,
            password: o.password,
            from_address: o.from_address,
            from_name: o.from_name,
        }
    }
}

fn outbound_response(v: OutboundView) -> Response {
    let version = v.outbound.version;
    with_etag(StatusCode::OK, version, MailOutboundOut::from(v), None)
}

/// The outbound server (administrators).
#[utoipa::path(get, path = "/api/v1/mail/outbound", tag = "mail",
    responses((status = 200, body = MailOutboundOut, headers(("ETag" = String)))))]
pub async fn get_outbound(State(s): State<AppState>, Caller(ctx): Caller) -> ApiResult<Response> {
    let o = admin::outbound(&s.core, &ctx).await?;
    Ok(outbound_response(o))
}

/// Sets the outbound server (administrators).
#[utoipa::path(put, path = "/api/v1/mail/outbound", tag = "mail", request_body = MailOutboundIn,
    params(("If-Match" = Option<String>, Header)),
    responses((status = 200, body = MailOutboundOut, headers(("ETag" = String))),
              (status = 412, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn put_outbound(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    IfMatch(v): IfMatch,
    ApiJson(body): ApiJson<MailOutboundIn>,
) -> ApiResult<Response> {
    let o = admin::set_outbound(&s.core, &ctx, body.into(), v).await?;
    Ok(outbound_response(o))
}

// ----- templates -----

/// A mail template by kind and language: the administrators' wording when `customized`,
/// else the built-in one is used (and `subject` and `body` are none).
#[derive(Debug, Serialize, ToSchema)]
pub struct MailTemplateOut {
    /// acknowledge, unknown_sender, resolved_refused or notification.
    pub kind: String,
    /// en or id.
    pub locale: String,
    /// Whether administrators replaced the built-in wording.
    pub customized: bool,
    /// The administrators' subject (a minijinja template).
    pub subject: Option<String>,
    /// The administrators' body (a minijinja template).
    pub body: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub updated_at: Option<Time>,
    pub updated_by: Option<String>,
}

impl From<Template> for MailTemplateOut {
    fn from(t: Template) -> Self {
        Self {
            kind: t.kind,
            locale: t.locale,
            customized: true,
            subject: Some(t.subject),
            body: Some(t.body),
            updated_at: Some(ts(t.updated_at)),
            updated_by: Some(t.updated_by),
        }
    }
}

/// An administrators' wording of a mail: minijinja templates, checked by rendering them
/// with sample facts before they are kept.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MailTemplateIn {
    /// One line, at most 500 characters.
    pub subject: String,
    /// At most 20000 characters.
    pub body: String,
}

/// Which template: its kind and language.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MailTemplateKey {
    /// The kind of mail.
    #[param(inline)]
    pub kind: TemplateKindCode,
    /// The language.
    #[param(inline)]
    pub locale: LocaleCode,
}

/// A kind of mail template, as a path parameter: one of the use cases' kinds.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct TemplateKindCode(pub String);

impl utoipa::PartialSchema for TemplateKindCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(
            super::params::codes(TEMPLATE_KINDS, "The kind of mail."),
        ))
    }
}

impl ToSchema for TemplateKindCode {}

/// A language, as a path parameter.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct LocaleCode(pub String);

impl utoipa::PartialSchema for LocaleCode {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(
            super::params::codes(&locale_codes(), "The language."),
        ))
    }
}

impl ToSchema for LocaleCode {}

fn locale_codes() -> Vec<&'static str> {
    Locale::ALL.iter().map(|l| l.code()).collect()
}

/// A template key exactly as the document gives it (the use case would also read `EN`);
/// anything else names no template.
fn template_key(kind: &str, locale: &str) -> ApiResult<()> {
    if TEMPLATE_KINDS.contains(&kind) && locale_codes().contains(&locale) {
        Ok(())
    } else {
        Err(ApiError::App(sigap_core::AppError::NotFound))
    }
}

/// Every kind of mail in every language, with the administrators' wording where they
/// replaced the built-in one (administrators).
#[utoipa::path(get, path = "/api/v1/mail/templates", tag = "mail",
    responses((status = 200, body = Vec<MailTemplateOut>)))]
pub async fn list_templates(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<MailTemplateOut>>> {
    let mut custom = admin::templates(&s.core, &ctx).await?;
    let mut out = Vec::new();
    for kind in TEMPLATE_KINDS {
        for locale in Locale::ALL {
            let found = custom
                .iter()
                .position(|t| t.kind == *kind && t.locale == locale.code());
            out.push(match found {
                Some(i) => custom.swap_remove(i).into(),
                None => MailTemplateOut {
                    kind: (*kind).to_owned(),
                    locale: locale.code().to_owned(),
                    customized: false,
                    subject: None,
                    body: None,
                    updated_at: None,
                    updated_by: None,
                },
            });
        }
    }
    Ok(Json(out))
}

/// Replaces the built-in wording of a mail in a language (administrators); a template that
/// does not render is refused with the field it is in.
#[utoipa::path(put, path = "/api/v1/mail/templates/{kind}/{locale}", tag = "mail", request_body = MailTemplateIn,
    params(MailTemplateKey),
    responses((status = 200, body = MailTemplateOut),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn put_template(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<MailTemplateKey>,
    ApiJson(body): ApiJson<MailTemplateIn>,
) -> ApiResult<Json<MailTemplateOut>> {
    let (kind, locale) = (key.kind.0, key.locale.0);
    template_key(&kind, &locale)?;
    let config = &s.config;
    let t = admin::set_template(
        &s.core,
        &ctx,
        &kind,
        &locale,
        &body.subject,
        &body.body,
        |subject, body| config.check_template(subject, body),
    )
    .await?;
    Ok(Json(t.into()))
}

/// Goes back to the built-in wording (administrators); 404 when it was not replaced.
#[utoipa::path(delete, path = "/api/v1/mail/templates/{kind}/{locale}", tag = "mail",
    params(MailTemplateKey),
    responses((status = 204), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn delete_template(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<MailTemplateKey>,
) -> ApiResult<StatusCode> {
    let (kind, locale) = (key.kind.0, key.locale.0);
    template_key(&kind, &locale)?;
    admin::reset_template(&s.core, &ctx, &kind, &locale).await?;
    Ok(StatusCode::NO_CONTENT)
}

// ----- messages and the quarantine -----

/// A message taken in or sent, without its raw bytes (`…/raw` has them).
#[derive(Debug, Serialize, ToSchema)]
pub struct MailMessageOut {
    pub id: Uuid,
    /// in or out.
    pub direction: String,
    /// The mailbox it came in through.
    pub mailbox: Option<Uuid>,
    /// Its Message-ID, without `<>`.
    pub message_id: String,
    /// Its size as received, in bytes.
    pub size: i64,
    /// Whether only its start was kept (it was over the size limit).
    pub truncated: bool,
    pub sender: String,
    pub recipients: String,
    pub subject: String,
    /// in: received, processed, ignored, quarantined or discarded; out: queued, sent or failed.
    pub state: String,
    /// Why it was ignored, quarantined or failed (a code).
    pub reason: Option<String>,
    pub detail: String,
    /// The task it opened or belongs to (display: its number).
    pub task: Option<Ref>,
    /// The journal entry it became.
    pub journal_id: Option<Uuid>,
    /// The person who sent it, or whom it was sent to.
    pub person: Option<Uuid>,
    /// The notification it tells of.
    pub notification_id: Option<Uuid>,
    /// pipe, imap or smtp.
    pub source: String,
    /// How often it was processed.
    pub attempts: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub processed_at: Option<Time>,
}

impl From<MailMessage> for MailMessageOut {
    fn from(m: MailMessage) -> Self {
        Self {
            id: m.id.as_uuid(),
            direction: m.direction,
            mailbox: m.mailbox_id.map(|b| b.as_uuid()),
            message_id: m.message_id,
            size: m.size,
            truncated: m.truncated,
            sender: m.sender,
            recipients: m.recipients,
            subject: m.subject,
            state: m.state,
            reason: m.reason,
            detail: m.detail,
            task: m.task_id.map(|t| Ref {
                id: t.as_uuid(),
                display: m.task_number.unwrap_or_default(),
            }),
            journal_id: m.journal_id.map(|j| j.as_uuid()),
            person: m.person_id.map(|p| p.as_uuid()),
            notification_id: m.notification_id.map(|n| n.as_uuid()),
            source: m.source,
            attempts: m.attempts,
            created_at: ts(m.created_at),
            processed_at: m.processed_at.map(ts),
        }
    }
}

/// The states a message can be in.
const MESSAGE_STATES: &[&str] = &[
    "received",
    "processed",
    "ignored",
    "quarantined",
    "discarded",
    "queued",
    "sent",
    "failed",
];

const DIRECTIONS: &[&str] = &["in", "out"];

/// The largest page of messages (the use case gives at most 200, and one more is asked
/// for to know whether there is a next page).
const MAX_MESSAGES: i64 = 100;

/// The filters of the message list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MailMessageQuery {
    #[param(schema_with = message_state_schema)]
    pub state: Option<String>,
    #[param(schema_with = direction_schema)]
    pub direction: Option<String>,
    /// The mailbox (id) it came in through.
    #[param(value_type = Option<String>, format = Uuid)]
    pub mailbox: Option<String>,
    /// Only messages kept or sent before this time (RFC 3339).
    #[param(value_type = Option<String>, format = DateTime)]
    pub before: Option<String>,
    /// `next_cursor` of the previous page.
    #[param(pattern = r"^[A-Za-z0-9_-]*$")]
    pub cursor: Option<String>,
    /// Page size (default 50).
    #[serde(default, deserialize_with = "crate::api::params::int")]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

fn message_state_schema() -> utoipa::openapi::Object {
    super::params::codes(
        MESSAGE_STATES,
        "Only messages in this state; `quarantined` is the quarantine.",
    )
}

fn direction_schema() -> utoipa::openapi::Object {
    super::params::codes(DIRECTIONS, "in (taken in) or out (sent).")
}

fn query_error(field: &str, code: &'static str, message: &str) -> ApiError {
    ApiError::InvalidQuery(vec![FieldError::new(field, code, message)])
}

/// A cursor: the last message's time (nanoseconds) and id, `<nanos>_<id as 32 hex digits>`.
fn cursor_of(m: &MailMessage) -> String {
    format!(
        "{}_{}",
        m.created_at.as_nanosecond(),
        m.id.as_uuid().simple()
    )
}

fn read_cursor(text: &str) -> Option<(jiff::Timestamp, MailMessageId)> {
    let (nanos, id) = text.split_once('_')?;
    let digits = nanos.strip_prefix('-').unwrap_or(nanos);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if id.len() != 32 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let at = jiff::Timestamp::from_nanosecond(nanos.parse::<i128>().ok()?).ok()?;
    let id = Uuid::parse_str(id).ok()?;
    Some((at, MailMessageId::from_uuid(id)))
}

impl MailMessageQuery {
    fn filter(&self) -> ApiResult<(MessageFilter, i64)> {
        super::params::check_code("state", self.state.as_deref(), MESSAGE_STATES)?;
        super::params::check_code("direction", self.direction.as_deref(), DIRECTIONS)?;
        let direction = match self.direction.as_deref() {
            Some("in") => Some(Direction::In),
            Some("out") => Some(Direction::Out),
            _ => None,
        };
        let mailbox_id = match self.mailbox.as_deref() {
            None => None,
            Some(m) => Some(MailboxId::parse(m).ok_or_else(|| {
                query_error("mailbox", "invalid_value", "must be a mailbox id (a UUID)")
            })?),
        };
        // Strictly before: no id is below the nil one.
        let before = super::params::instant("before", self.before.as_deref())?
            .map(|at| (at, MailMessageId::from_uuid(Uuid::nil())));
        let after = match self.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => Some(read_cursor(c).ok_or_else(|| {
                query_error("cursor", "invalid_cursor", "is not a cursor from this list")
            })?),
        };
        let bound = match (before, after) {
            (Some(b), Some(a)) => Some(if (a.0, a.1.as_uuid()) < (b.0, b.1.as_uuid()) {
                a
            } else {
                b
            }),
            (b, a) => a.or(b),
        };
        let limit = self.limit.unwrap_or(50);
        if !(1..=MAX_MESSAGES).contains(&limit) {
            return Err(query_error(
                "limit",
                "out_of_range",
                &format!("must be between 1 and {MAX_MESSAGES}"),
            ));
        }
        let filter = MessageFilter {
            direction,
            state: self.state.clone(),
            mailbox_id,
            task_id: None,
            before: bound,
        };
        Ok((filter, limit))
    }
}

/// Messages taken in and sent, newest first (administrators): `state=quarantined` is the
/// quarantine. Filters `state`, `direction`, `mailbox`, `before`.
#[utoipa::path(get, path = "/api/v1/mail/messages", tag = "mail", params(MailMessageQuery),
    responses((status = 200, body = Page<MailMessageOut>)))]
pub async fn list_messages(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<MailMessageQuery>,
) -> ApiResult<Json<Page<MailMessageOut>>> {
    let (filter, limit) = q.filter()?;
    let mut items = admin::messages(&s.core, &ctx, filter, limit + 1).await?;
    let more = items.len() > usize::try_from(limit).unwrap_or(usize::MAX);
    items.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    let next_cursor = if more {
        items.last().map(cursor_of)
    } else {
        None
    };
    Ok(Json(Page {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

/// A message (administrators).
#[utoipa::path(get, path = "/api/v1/mail/messages/{id}", tag = "mail", params(("id" = String, Path)),
    responses((status = 200, body = MailMessageOut),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_message(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MailMessageOut>> {
    Ok(Json(admin::message(&s.core, &ctx, &id).await?.into()))
}

/// A message as it was received or sent, to download (administrators). Only the start of a
/// message over its mailbox's size limit was kept.
#[utoipa::path(get, path = "/api/v1/mail/messages/{id}/raw", tag = "mail", params(("id" = String, Path)),
    responses((status = 200, content_type = "message/rfc822", body = Vec<u8>,
        headers(("Content-Disposition" = String, description = "`attachment; filename=\"<id>.eml\"`"))),
        (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn raw_message(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    let raw = admin::raw(&s.core, &ctx, &id).await?;
    // The use case read the id: it is a UUID, written plainly for the file name.
    let name =
        MailMessageId::parse(id.trim()).map_or_else(|| "message".to_owned(), |i| i.to_string());
    let mut resp = raw.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("message/rfc822"),
    );
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.eml\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(resp)
}

/// Tries a quarantined (or discarded) message again (administrators): it is received again
/// and processed anew by a job. 409 for a message in another state.
#[utoipa::path(post, path = "/api/v1/mail/messages/{id}/retry", tag = "mail", params(("id" = String, Path)),
    responses((status = 200, body = MailMessageOut),
              (status = 409, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn retry_message(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MailMessageOut>> {
    Ok(Json(admin::retry(&s.core, &ctx, &id).await?.into()))
}

/// Discards a quarantined message (administrators): it is kept, and done with. 409 for a
/// message in another state.
#[utoipa::path(post, path = "/api/v1/mail/messages/{id}/discard", tag = "mail", params(("id" = String, Path)),
    responses((status = 200, body = MailMessageOut),
              (status = 409, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn discard_message(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<MailMessageOut>> {
    Ok(Json(admin::discard(&s.core, &ctx, &id).await?.into()))
}

/// How many messages are in a state.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailCountOut {
    /// in or out.
    pub direction: String,
    pub state: String,
    pub count: i64,
}

/// Messages by direction and state.
#[derive(Debug, Serialize, ToSchema)]
pub struct MailCountsOut {
    pub items: Vec<MailCountOut>,
    /// Messages in the quarantine.
    pub quarantined: i64,
    /// Mail that could not be sent.
    pub failed: i64,
}

/// Counts of messages by direction and state (administrators).
#[utoipa::path(get, path = "/api/v1/mail/counts", tag = "mail",
    responses((status = 200, body = MailCountsOut)))]
pub async fn counts(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<MailCountsOut>> {
    let rows = admin::counts(&s.core, &ctx).await?;
    let sum = |state: &str| {
        rows.iter()
            .filter(|(_, s, _)| s == state)
            .map(|(_, _, n)| *n)
            .sum()
    };
    let (quarantined, failed) = (sum("quarantined"), sum("failed"));
    Ok(Json(MailCountsOut {
        items: rows
            .into_iter()
            .map(|(direction, state, count)| MailCountOut {
                direction,
                state,
                count,
            })
            .collect(),
        quarantined,
        failed,
    }))
}

/// The mail of an incident, newest first (agents who see it).
#[utoipa::path(get, path = "/api/v1/incidents/{key}/mail", tag = "incidents", params(("key" = String, Path)),
    responses((status = 200, body = Vec<MailMessageOut>),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn incident_mail(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<MailMessageOut>>> {
    let list = admin::of_task::<sigap_core::model::IncidentExt>(&s.core, &ctx, &key).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

// ----- what a person gets by mail -----

/// Which kinds of notification come by mail: `{kind: true|false}`. Every kind is on
/// unless turned off. A change names only the kinds it changes.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MailPreferences(pub BTreeMap<String, bool>);

impl utoipa::PartialSchema for MailPreferences {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};
        let mut b = ObjectBuilder::new().schema_type(Type::Object).description(Some(
            "Whether each kind of notification comes by mail; every kind is on unless turned off.",
        ));
        for kind in NOTIFICATION_KINDS {
            b = b.property(*kind, ObjectBuilder::new().schema_type(Type::Boolean));
        }
        let b = b.additional_properties(Some(AdditionalProperties::<Schema>::FreeForm(false)));
        utoipa::openapi::RefOr::T(Schema::Object(b.build()))
    }
}

impl ToSchema for MailPreferences {}

/// Which kinds of notification you get by mail.
#[utoipa::path(get, path = "/api/v1/me/mail_preferences", tag = "me",
    responses((status = 200, body = MailPreferences)))]
pub async fn my_mail_preferences(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<MailPreferences>> {
    let list = admin::preferences(&s.core, &ctx).await?;
    Ok(Json(MailPreferences(list.into_iter().collect())))
}

/// Turns kinds of notification by mail on or off for yourself; an unknown kind is refused
/// and nothing changes. Answers with all of them.
#[utoipa::path(put, path = "/api/v1/me/mail_preferences", tag = "me", request_body = MailPreferences,
    responses((status = 200, body = MailPreferences),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn put_mail_preferences(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<MailPreferences>,
) -> ApiResult<Json<MailPreferences>> {
    let unknown: Vec<FieldError> = body
        .0
        .keys()
        .filter(|k| !NOTIFICATION_KINDS.contains(&k.as_str()))
        .map(|k| FieldError::new(k.clone(), "invalid_choice", "no such kind of notification"))
        .collect();
    if !unknown.is_empty() {
        return Err(ApiError::App(sigap_core::AppError::Validation(unknown)));
    }
    for (kind, enabled) in &body.0 {
        admin::set_preference(&s.core, &ctx, kind, *enabled).await?;
    }
    my_mail_preferences(State(s), Caller(ctx)).await
}
