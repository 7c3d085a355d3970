//! Announcements on people's home pages: an outage under way, planned maintenance, news of
//! a service. Managers write them, for a while (from a start, until an end or until taken
//! down), to everyone, to the requesters or to the agents; each person sees those running
//! now for their side of the desk, outages first.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use crate::reports::saved::{expected_version, object, text_field};
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sigap_domain::announcement::{AnnouncementAudience, AnnouncementSeverity, MAX_BODY, MAX_TITLE};
use sigap_domain::{AnnouncementId, PersonId, Role, parse_line, parse_text};
use sigap_store::announcements::{self as repo, AnnouncementWrite};

/// An announcement as its reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Announcement {
    pub id: AnnouncementId,
    pub title: String,
    pub body: String,
    pub severity: AnnouncementSeverity,
    pub audience: AnnouncementAudience,
    pub starts_at: Timestamp,
    pub ends_at: Option<Timestamp>,
    pub author: Option<(PersonId, String)>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

fn seen(a: repo::Announcement) -> AppResult<Announcement> {
    let bad = |e: sigap_domain::InvalidValue| {
        AppError::Internal(format!("announcement {}: {}", a.id, e.message))
    };
    Ok(Announcement {
        severity: AnnouncementSeverity::parse(&a.severity).map_err(bad)?,
        audience: AnnouncementAudience::parse(&a.audience).map_err(bad)?,
        id: a.id,
        title: a.title,
        body: a.body,
        starts_at: a.starts_at,
        ends_at: a.ends_at,
        author: a.author,
        created_at: a.created_at,
        updated_at: a.updated_at,
        version: a.version,
    })
}

/// The announcements running now for the reader's side of the desk, outages first.
pub async fn current(core: &Core, ctx: &Ctx) -> AppResult<Vec<Announcement>> {
    ctx.principal.person()?;
    let [a, b] = AnnouncementAudience::seen_by(ctx.principal.has(Role::Agent));
    let now = core.now();
    let list = core
        .store
        .read(async move |tx| repo::current(tx, [a.code(), b.code()], now).await)
        .await?;
    list.into_iter().map(seen).collect()
}

/// Every announcement, past and to come, the latest start first (managers).
pub async fn all(core: &Core, ctx: &Ctx) -> AppResult<Vec<Announcement>> {
    ctx.principal.require(Role::Manager)?;
    let list = core.store.read(async move |tx| repo::all(tx).await).await?;
    list.into_iter().map(seen).collect()
}

/// An announcement: any to managers, one running now for their side to others.
pub async fn get(core: &Core, ctx: &Ctx, id: &str) -> AppResult<Announcement> {
    let id = AnnouncementId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let found = core
        .store
        .read(async move |tx| repo::get(tx, id).await)
        .await?;
    let a = seen(found.ok_or(AppError::NotFound)?)?;
    if ctx.principal.has(Role::Manager) {
        return Ok(a);
    }
    let now = core.now();
    let running = a.starts_at <= now && a.ends_at.is_none_or(|e| e > now);
    let mine = AnnouncementAudience::seen_by(ctx.principal.has(Role::Agent)).contains(&a.audience);
    match running && mine {
        true => Ok(a),
        false => Err(AppError::NotFound),
    }
}

const FIELDS: &[&str] = &[
    "title",
    "body",
    "severity",
    "audience",
    "starts_at",
    "ends_at",
    "version",
];

struct Written {
    title: String,
    body: String,
    severity: AnnouncementSeverity,
    audience: AnnouncementAudience,
    starts_at: Timestamp,
    ends_at: Option<Timestamp>,
}

/// An instant field: absent (none), null or empty (`Some(None)`), or an RFC 3339 instant.
fn instant_of(
    o: &Map<String, Value>,
    k: &str,
    errs: &mut Vec<FieldError>,
) -> Option<Option<Timestamp>> {
    match o.get(k) {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) if s.trim().is_empty() => Some(None),
        Some(Value::String(s)) => match s.trim().parse::<Timestamp>() {
            Ok(t) if t >= sigap_domain::report::EARLIEST => Some(Some(t)),
            _ => {
                errs.push(FieldError::new(
                    k,
                    "invalid_instant",
                    "must be an instant such as 2026-03-01T08:00:00Z",
                ));
                None
            }
        },
        Some(_) => {
            errs.push(FieldError::new(k, "invalid_type", "must be a text"));
            None
        }
    }
}

fn read(body: &Value, before: Option<&Announcement>, now: Timestamp) -> AppResult<Written> {
    let mut errs = Vec::new();
    let o = object(body, FIELDS, "announcement", &mut errs)?;
    let title = match (text_field(&o, "title", &mut errs), before) {
        (Some(t), _) => parse_line(&t, MAX_TITLE)
            .map_err(|e| errs.push(FieldError::from_invalid("title", e)))
            .unwrap_or_default(),
        (None, Some(b)) => b.title.clone(),
        (None, None) => {
            if !errs.iter().any(|e| e.field == "title") {
                errs.push(FieldError::new("title", "required", "is required"));
            }
            String::new()
        }
    };
    let body = match (text_field(&o, "body", &mut errs), before) {
        (Some(b), _) => parse_text(b.trim(), MAX_BODY)
            .map_err(|e| errs.push(FieldError::from_invalid("body", e)))
            .unwrap_or_default(),
        (None, Some(b)) => b.body.clone(),
        (None, None) => String::new(),
    };
    let severity = match (text_field(&o, "severity", &mut errs), before) {
        (Some(s), _) => AnnouncementSeverity::parse(s.trim())
            .map_err(|e| errs.push(FieldError::from_invalid("severity", e)))
            .unwrap_or(AnnouncementSeverity::Info),
        (None, Some(b)) => b.severity,
        (None, None) => AnnouncementSeverity::Info,
    };
    let audience = match (text_field(&o, "audience", &mut errs), before) {
        (Some(s), _) => AnnouncementAudience::parse(s.trim())
            .map_err(|e| errs.push(FieldError::from_invalid("audience", e)))
            .unwrap_or(AnnouncementAudience::Everyone),
        (None, Some(b)) => b.audience,
        (None, None) => AnnouncementAudience::Everyone,
    };
    let starts_at = match (instant_of(&o, "starts_at", &mut errs), before) {
        (Some(Some(t)), _) => t,
        (Some(None), _) | (None, None) => now,
        (None, Some(b)) => b.starts_at,
    };
    let ends_at = match (instant_of(&o, "ends_at", &mut errs), before) {
        (Some(t), _) => t,
        (None, Some(b)) => b.ends_at,
        (None, None) => None,
    };
    if ends_at.is_some_and(|e| e <= starts_at) {
        errs.push(FieldError::new(
            "ends_at",
            "before_start",
            "must be after the start",
        ));
    }
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(Written {
        title,
        body,
        severity,
        audience,
        starts_at,
        ends_at,
    })
}

fn audit_of(w: &Written) -> Value {
    json!({
        "title": w.title,
        "severity": w.severity.code(),
        "audience": w.audience.code(),
        "starts_at": w.starts_at.to_string(),
        "ends_at": w.ends_at.map(|t| t.to_string()),
    })
}

/// Posts an announcement (managers); it starts now unless told otherwise.
pub async fn create(core: &Core, ctx: &Ctx, body: &Value) -> AppResult<Announcement> {
    ctx.principal.require(Role::Manager)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let w = read(body, None, now)?;
    let id = AnnouncementId::new();
    core.store
        .write(async move |tx| {
            repo::insert(
                tx,
                &AnnouncementWrite {
                    id,
                    title: &w.title,
                    body: &w.body,
                    severity: w.severity.code(),
                    audience: w.audience.code(),
                    starts_at: w.starts_at,
                    ends_at: w.ends_at,
                    author_id: actor.id,
                    now,
                },
            )
            .await?;
            audit::record(
                tx,
                &actor,
                now,
                "announcement",
                &id.to_string(),
                "create",
                audit_of(&w),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    get(core, ctx, &id.to_string()).await
}

/// Changes an announcement: the fields given (managers). Ending it now takes it down.
pub async fn update(
    core: &Core,
    ctx: &Ctx,
    id: &str,
    body: &Value,
    version: Option<i64>,
) -> AppResult<Announcement> {
    ctx.principal.require(Role::Manager)?;
    let before = get(core, ctx, id).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let w = read(body, Some(&before), now)?;
    let expected = expected_version(body, version)?;
    if expected.is_some_and(|v| v != before.version) {
        return Err(AppError::PreconditionFailed);
    }
    let (id, stored, author) = (before.id, before.version, before.author.map(|a| a.0));
    core.store
        .write(async move |tx| {
            let done = repo::update(
                tx,
                &AnnouncementWrite {
                    id,
                    title: &w.title,
                    body: &w.body,
                    severity: w.severity.code(),
                    audience: w.audience.code(),
                    starts_at: w.starts_at,
                    ends_at: w.ends_at,
                    author_id: author,
                    now,
                },
                stored,
            )
            .await?;
            if !done {
                return Err(AppError::PreconditionFailed);
            }
            audit::record(
                tx,
                &actor,
                now,
                "announcement",
                &id.to_string(),
                "update",
                audit_of(&w),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    get(core, ctx, &id.to_string()).await
}

/// Removes an announcement (managers); one that is not there is removed.
pub async fn delete(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    ctx.principal.require(Role::Manager)?;
    let a = match get(core, ctx, id).await {
        Ok(a) => a,
        Err(AppError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            if repo::delete(tx, a.id).await? {
                audit::record(
                    tx,
                    &actor,
                    now,
                    "announcement",
                    &a.id.to_string(),
                    "delete",
                    json!({"title": a.title}),
                )
                .await?;
            }
            Ok::<_, AppError>(())
        })
        .await
}
