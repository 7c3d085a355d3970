//! What a person gets by mail: on their own profile, a switch per kind of notification.

use super::*;
use sigap_core::mail::admin::{self as mail, NOTIFICATION_KINDS};

/// The groups the kinds are shown in, by the start of the kind's code: (prefix, title key).
const GROUPS: &[(&str, &str)] = &[
    ("incident_", "mail-pref-group-incidents"),
    ("problem_", "mail-pref-group-problems"),
    ("change_", "mail-pref-group-changes"),
    ("request_", "mail-pref-group-requests"),
    ("approval_", "mail-pref-group-approvals"),
    ("sla_", "mail-pref-group-sla"),
    ("article_", "mail-pref-group-knowledge"),
    ("service_", "mail-pref-group-services"),
];

/// A kind's short label (a kind without one is shown by its code).
fn label(t: Tr<'_>, kind: &str) -> String {
    let id = format!("mail-pref-{}", kind.replace('_', "-"));
    let text = t.get(&id);
    if text == id { kind.to_owned() } else { text }
}

/// One kind of notification and whether it comes by mail.
pub struct PrefLine {
    pub kind: String,
    pub label: String,
    pub on: bool,
}

/// The kinds of one process.
pub struct PrefGroup {
    pub title: String,
    pub kinds: Vec<PrefLine>,
}

/// The person's mail preferences, grouped by process (none when they cannot be read).
pub(crate) async fn groups(state: &AppState, ctx: &Ctx, t: Tr<'_>) -> Vec<PrefGroup> {
    let prefs = mail::preferences(&state.core, ctx)
        .await
        .unwrap_or_default();
    let mut out: Vec<PrefGroup> = Vec::new();
    for (prefix, title) in GROUPS {
        let kinds: Vec<PrefLine> = prefs
            .iter()
            // Requested items (`request_item_…`) go with the requests.
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, on)| PrefLine {
                kind: k.clone(),
                label: label(t, k),
                on: *on,
            })
            .collect();
        if !kinds.is_empty() {
            out.push(PrefGroup {
                title: t.get(title),
                kinds,
            });
        }
    }
    // A kind of no known group still gets its switch.
    let rest: Vec<PrefLine> = prefs
        .iter()
        .filter(|(k, _)| !GROUPS.iter().any(|(p, _)| k.starts_with(p)))
        .map(|(k, on)| PrefLine {
            kind: k.clone(),
            label: label(t, k),
            on: *on,
        })
        .collect();
    if !rest.is_empty() {
        out.push(PrefGroup {
            title: t.get("mail-pref-group-other"),
            kinds: rest,
        });
    }
    out
}

/// Saves the switches: each kind listed in the form (`kind`) is on when its box (`on`) is
/// checked, off otherwise; only the kinds that change are written.
pub async fn preferences_submit(v: Visit, form: FormData) -> PageResult {
    let (core, ctx) = (&v.state.core, &v.ctx);
    let now = mail::preferences(core, ctx).await?;
    let on = form.all("on");
    for kind in form.all("kind") {
        if !NOTIFICATION_KINDS.contains(&kind.as_str()) {
            continue;
        }
        let wanted = on.contains(&kind);
        let was = now.iter().find(|(k, _)| *k == kind).is_none_or(|(_, e)| *e);
        if wanted != was {
            mail::set_preference(core, ctx, &kind, wanted).await?;
        }
    }
    Ok(Redirect::to("/profile?notice=mail-preferences-saved#mail-preferences").into_response())
}
