//! The maintenance windows page, beside the alert console: the windows going on and to come
//! (and, asked for, those ended lately), a form to set one, and a button to end one going on
//! or remove one to come.

use super::changes::{FieldErrors, local_time, local_value, window};
use super::*;
use axum::extract::{Path, Query};
use jiff::SignedDuration;
use sigap_core::events::{self, WindowInput, WindowState};
use std::collections::HashMap;

const SECTION: &str = "alerts";
const PAGE: &str = "/alerts/maintenance";

/// A window as a line of the page.
pub struct WindowLine {
    pub id: String,
    pub ci: String,
    pub ci_id: String,
    pub node: String,
    pub window: String,
    pub state: String,
    pub state_label: String,
    pub reason: String,
    pub created_by: String,
}

#[derive(Template)]
#[template(path = "alert_maintenance.html")]
pub struct AlertMaintenancePage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub rows: Vec<WindowLine>,
    pub ended: bool,
    pub setter: bool,
    pub draft: Draft,
    /// The times the form shows: as typed, else now and an hour later.
    pub start_value: String,
    pub end_value: String,
}

async fn view(
    v: &Visit,
    q: &HashMap<String, String>,
    form: Option<&FormData>,
    refused: Option<AppError>,
) -> PageResult {
    let ended = q.get("ended").is_some_and(|e| e == "1");
    let list = events::windows(&v.state.core, &v.ctx, ended).await?;
    let mut chrome = v.chrome(SECTION, "alert-windows-title");
    views::notice(&mut chrome, q);
    let known = [
        "configuration_item",
        "node",
        "starts_at",
        "ends_at",
        "reason",
    ];
    let (status, errs) = FieldErrors::split(&mut chrome, refused, &known);
    let t = chrome.t;
    let now = v.state.core.now();
    let rows = list
        .into_iter()
        .map(|w| {
            let state = WindowState::of(&w.window, now).code();
            let m = w.window;
            WindowLine {
                id: m.id.to_string(),
                ci: m.ci_name.unwrap_or_default(),
                ci_id: m.ci_id.map(|c| c.to_string()).unwrap_or_default(),
                node: m.node.unwrap_or_default(),
                window: window(&v.viewer, Some(m.starts_at), Some(m.ends_at)),
                state: state.to_owned(),
                state_label: coded(t, "alert-window-state", state),
                reason: m.reason,
                created_by: w.created_by_name.unwrap_or_default(),
            }
        })
        .collect();
    let later = now
        .checked_add(SignedDuration::from_hours(1))
        .unwrap_or(now);
    let page = AlertMaintenancePage {
        rows,
        ended,
        setter: events::may_set_windows(&v.ctx),
        start_value: form.map_or_else(
            || local_value(Some(now), &v.viewer),
            |f| f.text("starts_at"),
        ),
        end_value: form.map_or_else(
            || local_value(Some(later), &v.viewer),
            |f| f.text("ends_at"),
        ),
        draft: form.map(Draft::from_form).unwrap_or_default(),
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

/// The page (agents); `ended=1` lists the windows ended in the last 30 days as well.
pub async fn windows_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    view(&v, &q, None, None).await
}

/// Sets a window from the form (managers); a refused form is shown again with its reasons.
pub async fn window_add(v: Visit, form: FormData) -> PageResult {
    let mut unparsed = Vec::new();
    let mut time = |field: &str| match local_time(&v.viewer, field, &form.text(field)) {
        Ok(t) => t,
        Err(AppError::Validation(list)) => {
            unparsed.extend(list);
            None
        }
        Err(_) => None,
    };
    let (starts_at, ends_at) = (time("starts_at"), time("ends_at"));
    let input = WindowInput {
        ci: form.opt("configuration_item"),
        node: form.opt("node"),
        starts_at,
        ends_at,
        reason: form.text("reason"),
        unparsed,
    };
    match events::create_window(&v.state.core, &v.ctx, input).await {
        Ok(_) => Ok(see_other(PAGE, Some("alert-window-added"))),
        Err(e) => view(&v, &HashMap::new(), Some(&form), Some(e)).await,
    }
}

/// Ends a window going on, now (managers).
pub async fn window_end(v: Visit, Path(id): Path<String>) -> PageResult {
    events::end_window(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other(PAGE, Some("alert-window-ended")))
}

/// Removes a window (managers).
pub async fn window_remove(v: Visit, Path(id): Path<String>) -> PageResult {
    events::remove_window(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other(PAGE, Some("alert-window-removed")))
}
