//! What administrators keep of the mail channel: mailboxes, the outbound server, the mail
//! templates and the quarantine; and what each person wants by mail.

use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::principal::Ctx;
use sigap_domain::{Role, parse_line};

mod mailboxes;
mod messages;
mod outbound;
mod preferences;
mod templates;

pub use mailboxes::*;
pub use messages::*;
pub use outbound::*;
pub use preferences::*;
pub use templates::*;

/// The kinds of mail Sigap writes from a template: the automatic replies, and the
/// notifications by the event they tell of.
pub const TEMPLATE_KINDS: &[&str] = &[
    "acknowledge",
    "unknown_sender",
    "resolved_refused",
    "notification",
];

fn admins(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require(Role::Admin)?;
    if ctx.principal.can_write() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

fn readers(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require(Role::Admin)
}

// ----- checks of the forms' fields -----

fn one_of(errs: &mut Errors, field: &str, v: &Option<String>, allowed: &[&str], into: &mut String) {
    if let Some(v) = v {
        let v = v.trim();
        if allowed.contains(&v) {
            *into = v.to_owned();
        } else {
            errs.push(FieldError::new(
                field,
                "invalid_choice",
                format!("must be one of: {}", allowed.join(", ")),
            ));
        }
    }
}

fn in_range(errs: &mut Errors, field: &str, v: Option<i64>, lo: i64, hi: i64, into: &mut i64) {
    if let Some(v) = v {
        if (lo..=hi).contains(&v) {
            *into = v;
        } else {
            errs.push(FieldError::new(
                field,
                "out_of_range",
                format!("must be {lo} to {hi}"),
            ));
        }
    }
}

fn opt_line(
    errs: &mut Errors,
    field: &str,
    v: &Option<Option<String>>,
    max: usize,
    into: &mut Option<String>,
) {
    match v {
        None => {}
        Some(None) => *into = None,
        Some(Some(t)) if t.trim().is_empty() => *into = None,
        Some(Some(t)) => {
            if let Some(t) = errs.take(field, parse_line(t, max)) {
                *into = Some(t);
            }
        }
    }
}
