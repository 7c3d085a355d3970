//! Event management: events from monitoring become a few alerts, and alerts the incidents
//! they should be. An event is kept once (the same event sent again is the one event); it
//! folds into the alert of its key, or opens one, or reopens one closed a moment ago; a
//! `clear` closes its alert. An alert that goes on and off too often is flapping and opens
//! nothing until it settles; an alert on a CI in maintenance (a window set by hand, or a
//! scheduled change on it) is held back, and says so. An open alert of the threshold's
//! severity or worse opens an incident (alerts a sender grouped share one); when all the
//! alerts of an incident have cleared, the incident resolves.

mod alerts;
mod intake;
mod integrations;
pub mod rules;
mod windows;

pub use alerts::*;
pub use intake::*;
pub use integrations::*;
pub use sigap_store::events::{Alert, EventRow, Integration, MaintenanceWindow};
pub use windows::*;

use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::principal::Ctx;
use crate::{Core, audit};
use jiff::SignedDuration;
use serde_json::{Value, json};
use sigap_domain::Role;
use sigap_domain::event::{FlapPolicy, Severity};
use sigap_store::Tx;

/// The job that settles flapping alerts and prunes old events.
pub const SWEEP_JOB: &str = "event_sweep";
const POLICY_KEY: &str = "events.policy";

/// How events become alerts and incidents, set by administrators.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// An open alert of this severity or worse opens an incident.
    pub incident_threshold: Severity,
    /// Whether alerts open incidents at all.
    pub open_incidents: bool,
    /// A firing event within this long of its closed alert's last event reopens it
    /// (after it, a new alert opens).
    pub reopen_secs: i64,
    /// Flapping: changes of state within a window, and the quiet that settles it.
    pub flap: FlapPolicy,
    /// When all the alerts of an incident have cleared, the incident resolves.
    pub resolve_on_clear: bool,
    /// A new alert on a CI related in the CMDB to one with an alert that began this long
    /// ago or less is correlated under it (seconds; 0: never).
    pub correlate_secs: i64,
    /// Events of closed alerts are kept this many days.
    pub retention_days: i64,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            incident_threshold: Severity::Major,
            open_incidents: true,
            reopen_secs: 600,
            flap: FlapPolicy::default(),
            resolve_on_clear: true,
            correlate_secs: 300,
            retention_days: 30,
        }
    }
}

impl Policy {
    fn to_json(&self) -> Value {
        json!({
            "incident_threshold": self.incident_threshold.code(),
            "open_incidents": self.open_incidents,
            "reopen_secs": self.reopen_secs,
            "flap_changes": self.flap.changes,
            "flap_window_secs": self.flap.window.as_secs(),
            "flap_quiet_secs": self.flap.quiet.as_secs(),
            "resolve_on_clear": self.resolve_on_clear,
            "correlate_secs": self.correlate_secs,
            "retention_days": self.retention_days,
        })
    }

    /// The stored policy over the defaults (what the stored one lacks is the default).
    fn from_json(v: &Value) -> Self {
        let d = Policy::default();
        let int = |k: &str, or: i64| v.get(k).and_then(Value::as_i64).unwrap_or(or);
        let flag = |k: &str, or: bool| v.get(k).and_then(Value::as_bool).unwrap_or(or);
        Policy {
            incident_threshold: v
                .get("incident_threshold")
                .and_then(Value::as_str)
                .and_then(|s| Severity::parse(s).ok())
                .unwrap_or(d.incident_threshold),
            open_incidents: flag("open_incidents", d.open_incidents),
            reopen_secs: int("reopen_secs", d.reopen_secs),
            flap: FlapPolicy {
                changes: int("flap_changes", d.flap.changes),
                window: SignedDuration::from_secs(int("flap_window_secs", d.flap.window.as_secs())),
                quiet: SignedDuration::from_secs(int("flap_quiet_secs", d.flap.quiet.as_secs())),
            },
            resolve_on_clear: flag("resolve_on_clear", d.resolve_on_clear),
            correlate_secs: int("correlate_secs", d.correlate_secs),
            retention_days: int("retention_days", d.retention_days),
        }
    }
}

/// The policy in the caller's transaction.
pub(crate) async fn policy_in(tx: &mut Tx<'_>) -> AppResult<Policy> {
    Ok(sigap_store::task::config::setting(tx, POLICY_KEY)
        .await?
        .map(|v| Policy::from_json(&v))
        .unwrap_or_default())
}

pub async fn policy(core: &Core) -> AppResult<Policy> {
    core.store.read(async |tx| policy_in(tx).await).await
}

/// A change of the policy: the fields given.
#[derive(Debug, Clone, Default)]
pub struct PolicyInput {
    pub incident_threshold: Option<String>,
    pub open_incidents: Option<bool>,
    pub reopen_secs: Option<i64>,
    pub flap_changes: Option<i64>,
    pub flap_window_secs: Option<i64>,
    pub flap_quiet_secs: Option<i64>,
    pub resolve_on_clear: Option<bool>,
    pub correlate_secs: Option<i64>,
    pub retention_days: Option<i64>,
}

/// Changes the policy (administrators).
pub async fn set_policy(core: &Core, ctx: &Ctx, input: PolicyInput) -> AppResult<Policy> {
    ctx.principal.require(Role::Admin)?;
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let mut errs = Errors::new();
    let range = |errs: &mut Errors, field: &str, v: Option<i64>, lo: i64, hi: i64| {
        if let Some(v) = v {
            if !(lo..=hi).contains(&v) {
                errs.push(FieldError::new(
                    field,
                    "out_of_range",
                    format!("must be {lo} to {hi}"),
                ));
            }
        }
    };
    range(&mut errs, "reopen_secs", input.reopen_secs, 0, 86_400);
    range(&mut errs, "flap_changes", input.flap_changes, 2, 100);
    range(
        &mut errs,
        "flap_window_secs",
        input.flap_window_secs,
        10,
        86_400,
    );
    range(
        &mut errs,
        "flap_quiet_secs",
        input.flap_quiet_secs,
        10,
        86_400,
    );
    range(&mut errs, "retention_days", input.retention_days, 1, 3_650);
    range(&mut errs, "correlate_secs", input.correlate_secs, 0, 86_400);
    let threshold = match input.incident_threshold.as_deref().map(Severity::parse) {
        None => None,
        Some(Ok(Severity::Clear)) => {
            errs.push(FieldError::new(
                "incident_threshold",
                "invalid_choice",
                "clear opens nothing: choose critical, major, minor, warning or info",
            ));
            None
        }
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            errs.push(FieldError::from_invalid("incident_threshold", e));
            None
        }
    };
    errs.finish()?;
    let (actor, now) = (audit::Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = policy_in(tx).await?;
            let mut p = before.clone();
            if let Some(t) = threshold {
                p.incident_threshold = t;
            }
            if let Some(v) = input.open_incidents {
                p.open_incidents = v;
            }
            if let Some(v) = input.reopen_secs {
                p.reopen_secs = v;
            }
            if let Some(v) = input.flap_changes {
                p.flap.changes = v;
            }
            if let Some(v) = input.flap_window_secs {
                p.flap.window = SignedDuration::from_secs(v);
            }
            if let Some(v) = input.flap_quiet_secs {
                p.flap.quiet = SignedDuration::from_secs(v);
            }
            if let Some(v) = input.resolve_on_clear {
                p.resolve_on_clear = v;
            }
            if let Some(v) = input.correlate_secs {
                p.correlate_secs = v;
            }
            if let Some(v) = input.retention_days {
                p.retention_days = v;
            }
            sigap_store::task::config::set_setting(tx, POLICY_KEY, &p.to_json()).await?;
            audit::record(
                tx,
                &actor,
                now,
                "event_policy",
                "events",
                "update",
                json!({"before": before.to_json(), "after": p.to_json()}),
            )
            .await?;
            Ok::<_, AppError>(p)
        })
        .await
}
