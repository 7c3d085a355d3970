//! Maintenance windows set by hand: while one is on, the alerts of its CI or node are held
//! back (kept and counted, saying why, opening no incident). Managers of the provider set,
//! end and remove them; agents read them. Each change is in the audit log.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use sigap_domain::cmdb::CiStatus;
use sigap_domain::{CiId, MaintenanceWindowId, Role, parse_line};
use sigap_store::Tx;
use sigap_store::event_windows::{self as listing, WindowListed};
use sigap_store::events::{self as repo, MaintenanceWindow};

/// The longest a window may be.
pub const WINDOW_MAX_DAYS: i64 = 366;
/// The longest reason, in characters.
pub const WINDOW_REASON_MAX: usize = 500;
/// The longest node name, in characters (as an event's node).
pub const WINDOW_NODE_MAX: usize = 255;
/// The longest CI reference (an id, `class/name` or a name), in characters.
pub const WINDOW_CI_MAX: usize = 300;
/// How far back the ended windows are listed, and how many at most.
const ENDED_DAYS: i64 = 30;
const ENDED_MAX: i64 = 200;

/// A window, with the names of its CI and of who set it.
pub type Window = WindowListed;

/// Where a window stands at a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowState {
    Upcoming,
    InProgress,
    Ended,
}

impl WindowState {
    pub fn of(w: &MaintenanceWindow, now: Timestamp) -> Self {
        if w.ends_at <= now {
            WindowState::Ended
        } else if w.starts_at <= now {
            WindowState::InProgress
        } else {
            WindowState::Upcoming
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            WindowState::Upcoming => "upcoming",
            WindowState::InProgress => "in_progress",
            WindowState::Ended => "ended",
        }
    }
}

fn readers(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require(Role::Agent)
}

/// Who sets windows: managers (and administrators) of the provider, as for change
/// management's blackout and maintenance windows.
fn setters(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require(Role::Manager)?;
    ctx.principal.require_provider_agent()?;
    if ctx.principal.can_write() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// Whether the person may set windows (for the pages).
pub fn may_set_windows(ctx: &Ctx) -> bool {
    setters(ctx).is_ok()
}

/// A new window. The caller parses the times (RFC 3339 from the API, the viewer's zone on a
/// page) and hands over what it could not parse in `unparsed`, to be reported with the rest.
#[derive(Debug, Clone, Default)]
pub struct WindowInput {
    /// A configuration item by id, `class/name`, or name (the one not retired of that name).
    pub ci: Option<String>,
    /// A node as events name it.
    pub node: Option<String>,
    pub starts_at: Option<Timestamp>,
    pub ends_at: Option<Timestamp>,
    pub reason: String,
    pub unparsed: Vec<FieldError>,
}

/// What a valid input comes to, before its CI is looked up.
struct Checked {
    ci: Option<String>,
    node: Option<String>,
    starts_at: Timestamp,
    ends_at: Timestamp,
    reason: String,
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The input checked, or every field in error and the CI's key when it is still to be looked
/// up (given, and not refused already).
fn check(input: WindowInput, now: Timestamp) -> Result<Checked, (Vec<FieldError>, Option<String>)> {
    let mut errs = input.unparsed;
    let failed = |errs: &Vec<FieldError>, f: &str| errs.iter().any(|e| e.field == f);
    let ci = nonempty(input.ci);
    if ci
        .as_deref()
        .is_some_and(|c| c.chars().count() > WINDOW_CI_MAX)
    {
        errs.push(FieldError::new(
            "configuration_item",
            "too_long",
            format!("must be at most {WINDOW_CI_MAX} characters"),
        ));
    }
    let node = match nonempty(input.node) {
        None => None,
        Some(n) => match parse_line(&n, WINDOW_NODE_MAX) {
            Ok(n) => Some(n),
            Err(e) => {
                errs.push(FieldError::from_invalid("node", e));
                None
            }
        },
    };
    if ci.is_none() && node.is_none() && !failed(&errs, "node") {
        errs.push(FieldError::new(
            "configuration_item",
            "required",
            "give a configuration item, a node, or both",
        ));
    }
    for (field, given) in [("starts_at", input.starts_at), ("ends_at", input.ends_at)] {
        if given.is_none() && !failed(&errs, field) {
            errs.push(FieldError::new(field, "required", "is required"));
        }
    }
    if let (Some(s), Some(e)) = (input.starts_at, input.ends_at) {
        if e <= s {
            errs.push(FieldError::new(
                "ends_at",
                "before_start",
                "must be after the start",
            ));
        } else if e <= now {
            errs.push(FieldError::new(
                "ends_at",
                "in_the_past",
                "the window has ended already",
            ));
        } else if e.duration_since(s) > SignedDuration::from_hours(WINDOW_MAX_DAYS * 24) {
            errs.push(FieldError::new(
                "ends_at",
                "window_too_long",
                format!("a window is at most {WINDOW_MAX_DAYS} days long"),
            ));
        }
    }
    let reason = match parse_line(&input.reason, WINDOW_REASON_MAX) {
        Ok(r) => Some(r),
        Err(e) => {
            errs.push(FieldError::from_invalid("reason", e));
            None
        }
    };
    match (input.starts_at, input.ends_at, reason) {
        (Some(starts_at), Some(ends_at), Some(reason)) if errs.is_empty() => Ok(Checked {
            ci,
            node,
            starts_at,
            ends_at,
            reason,
        }),
        _ => {
            let lookup = ci.filter(|_| !failed(&errs, "configuration_item"));
            Err((errs, lookup))
        }
    }
}

/// A CI by id, `class/name`, or its name (the one CI not retired of that name).
async fn resolve_ci(tx: &mut Tx<'_>, key: &str) -> AppResult<Result<CiId, FieldError>> {
    if let Some(c) = crate::cmdb::resolve_ci(tx, key).await? {
        return Ok(Ok(c.id));
    }
    let named: Vec<CiId> = sigap_store::cmdb::find_ci_by_name(tx, key)
        .await?
        .into_iter()
        .filter(|c| c.status != CiStatus::Retired)
        .map(|c| c.id)
        .collect();
    Ok(match named.as_slice() {
        [one] => Ok(*one),
        [] => Err(FieldError::new(
            "configuration_item",
            "not_found",
            "no such configuration item",
        )),
        _ => Err(FieldError::new(
            "configuration_item",
            "ambiguous",
            "several configuration items have this name: give its id or class/name",
        )),
    })
}

fn id_of(key: &str) -> AppResult<MaintenanceWindowId> {
    MaintenanceWindowId::parse(key.trim()).ok_or(AppError::NotFound)
}

async fn find(tx: &mut Tx<'_>, id: MaintenanceWindowId) -> AppResult<Window> {
    listing::window(tx, id).await?.ok_or(AppError::NotFound)
}

fn audit_json(w: &MaintenanceWindow) -> serde_json::Value {
    json!({
        "configuration_item": w.ci_id.map(|c| c.to_string()),
        "node": w.node,
        "starts_at": w.starts_at.to_string(),
        "ends_at": w.ends_at.to_string(),
        "reason": w.reason,
    })
}

/// Sets a window (managers). Refused as a whole, with every field in error, or kept.
pub async fn create_window(core: &Core, ctx: &Ctx, input: WindowInput) -> AppResult<Window> {
    setters(ctx)?;
    let now = core.now();
    let checked = match check(input, now) {
        Ok(c) => c,
        Err((mut errs, lookup)) => {
            // The rest is refused: say as well whether the CI is known, in the same answer.
            if let Some(key) = lookup {
                let found = core
                    .store
                    .read(async move |tx| resolve_ci(tx, &key).await)
                    .await?;
                if let Err(e) = found {
                    errs.push(e);
                }
            }
            return Err(AppError::Validation(errs));
        }
    };
    let (actor, person) = (Actor::of(ctx), ctx.principal.person_id);
    core.store
        .write(async move |tx| {
            let ci_id = match &checked.ci {
                None => None,
                Some(key) => Some(
                    resolve_ci(tx, key)
                        .await?
                        .map_err(|e| AppError::Validation(vec![e]))?,
                ),
            };
            let w = MaintenanceWindow {
                id: MaintenanceWindowId::new(),
                ci_id,
                ci_name: None,
                // Kept as the name's key, as alerts' nodes are compared.
                node: checked.node.as_deref().map(sigap_store::name_key),
                starts_at: checked.starts_at,
                ends_at: checked.ends_at,
                reason: checked.reason.clone(),
                created_by: person,
                created_at: now,
            };
            repo::insert_window(tx, &w).await?;
            audit::record(
                tx,
                &actor,
                now,
                "maintenance_window",
                &w.id.to_string(),
                "create",
                audit_json(&w),
            )
            .await?;
            find(tx, w.id).await
        })
        .await
}

/// The windows not ended (going on, then those to come, soonest first); with `ended`, also
/// those that ended in the last 30 days (at most 200, those ended last first).
pub async fn windows(core: &Core, ctx: &Ctx, ended: bool) -> AppResult<Vec<Window>> {
    readers(ctx)?;
    let now = core.now();
    let since = now
        .checked_sub(SignedDuration::from_hours(ENDED_DAYS * 24))
        .unwrap_or(now);
    core.store
        .read(async move |tx| {
            let mut list = listing::current(tx, now).await?;
            if ended {
                list.extend(listing::ended(tx, since, now, ENDED_MAX).await?);
            }
            Ok::<_, AppError>(list)
        })
        .await
}

/// A window by its id (agents).
pub async fn window(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Window> {
    readers(ctx)?;
    let id = id_of(key)?;
    core.store.read(async move |tx| find(tx, id).await).await
}

/// Ends a window going on, now (managers): its alerts are no longer held back from their
/// next event on. One not begun is removed instead; one ended is a conflict.
pub async fn end_window(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Window> {
    setters(ctx)?;
    let id = id_of(key)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let w = find(tx, id).await?;
            if WindowState::of(&w.window, now) != WindowState::InProgress
                || !listing::end_now(tx, id, now).await?
            {
                return Err(AppError::Conflict {
                    code: "not_in_progress",
                    message: "only a window going on is ended; remove one to come".into(),
                    field: None,
                });
            }
            audit::record(
                tx,
                &actor,
                now,
                "maintenance_window",
                &id.to_string(),
                "update",
                json!({"ends_at": [w.window.ends_at.to_string(), now.to_string()]}),
            )
            .await?;
            find(tx, id).await
        })
        .await
}

/// Removes a window (managers).
pub async fn remove_window(core: &Core, ctx: &Ctx, key: &str) -> AppResult<()> {
    setters(ctx)?;
    let id = id_of(key)?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let w = find(tx, id).await?;
            if !repo::delete_window(tx, id).await? {
                return Err(AppError::NotFound);
            }
            audit::record(
                tx,
                &actor,
                now,
                "maintenance_window",
                &id.to_string(),
                "delete",
                audit_json(&w.window),
            )
            .await?;
            Ok(())
        })
        .await
}
