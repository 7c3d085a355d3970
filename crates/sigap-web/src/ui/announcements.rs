//! Announcements on pages: those running for the reader (every one, with the form to write
//! one, for managers), one announcement, and its form.

use super::changes::{FieldErrors, local_time, local_value};
use super::task::choices;
use super::views::{notice, when};
use super::*;
use axum::extract::{Path, Query};
use serde_json::{Value, json};
use sigap_core::announcements::{self, Announcement};
use sigap_domain::Role;
use sigap_domain::announcement::{AnnouncementAudience, AnnouncementSeverity};
use std::collections::HashMap;

const SECTION: &str = "announcements";

/// An announcement as a page shows it.
pub struct AnnouncementView {
    pub id: String,
    pub title: String,
    /// Its paragraphs.
    pub body: Vec<String>,
    pub severity: String,
    pub severity_code: String,
    pub audience: String,
    pub shown: String,
    /// running, scheduled or ended (for managers' list).
    pub state: String,
}

fn view_of(v: &Visit, t: crate::i18n::Tr<'_>, a: &Announcement) -> AnnouncementView {
    let now = v.state.core.now();
    let state = if a.starts_at > now {
        "scheduled"
    } else if a.ends_at.is_some_and(|e| e <= now) {
        "ended"
    } else {
        "running"
    };
    let shown = match a.ends_at {
        Some(e) => format!("{} – {}", when(a.starts_at, &v.viewer), when(e, &v.viewer)),
        None => format!(
            "{} – {}",
            when(a.starts_at, &v.viewer),
            t.get("announcement-until-taken-down")
        ),
    };
    AnnouncementView {
        id: a.id.to_string(),
        title: a.title.clone(),
        body: a
            .body
            .split("\n\n")
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect(),
        severity: t.get(&format!("announcement-severity-{}", a.severity.code())),
        severity_code: a.severity.code().to_owned(),
        audience: t.get(&format!("announcement-audience-{}", a.audience.code())),
        shown,
        state: t.get(&format!("announcement-state-{state}")),
    }
}

#[derive(Template)]
#[template(path = "announcements.html")]
pub struct AnnouncementsPage<'a> {
    pub chrome: Chrome<'a>,
    pub items: Vec<AnnouncementView>,
    pub manager: bool,
}

pub async fn announcements_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let manager = v.ctx.principal.has(Role::Manager);
    let list = match manager {
        true => announcements::all(&v.state.core, &v.ctx).await?,
        false => announcements::current(&v.state.core, &v.ctx).await?,
    };
    let mut chrome = v.chrome(SECTION, "announcements-title");
    notice(&mut chrome, &q);
    let t = chrome.t;
    let page = AnnouncementsPage {
        items: list.iter().map(|a| view_of(&v, t, a)).collect(),
        manager,
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "announcement.html")]
pub struct AnnouncementPage<'a> {
    pub chrome: Chrome<'a>,
    pub a: AnnouncementView,
    pub manager: bool,
}

pub async fn announcement_page(
    v: Visit,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let a = announcements::get(&v.state.core, &v.ctx, &id).await?;
    let mut chrome = v.chrome(SECTION, "announcements-title");
    chrome.title = a.title.clone();
    notice(&mut chrome, &q);
    let t = chrome.t;
    let page = AnnouncementPage {
        a: view_of(&v, t, &a),
        manager: v.ctx.principal.has(Role::Manager),
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

/// What the form holds.
pub struct Sent {
    pub title: String,
    pub body: String,
    pub severity: String,
    pub audience: String,
    pub starts_at: String,
    pub ends_at: String,
    pub version: String,
}

fn sent_of(form: &FormData) -> Sent {
    Sent {
        title: form.text("title"),
        body: form.text("body"),
        severity: form.text("severity"),
        audience: form.text("audience"),
        starts_at: form.text("starts_at"),
        ends_at: form.text("ends_at"),
        version: form.text("version"),
    }
}

/// The form as a body: its times read in the viewer's zone.
fn body_of(v: &Visit, s: &Sent) -> Result<Value, AppError> {
    let mut errs = Vec::new();
    let mut time = |field: &str, text: &str| match local_time(&v.viewer, field, text) {
        Ok(t) => Value::from(t.map(|t| t.to_string()).unwrap_or_default()),
        Err(AppError::Validation(list)) => {
            errs.extend(list);
            Value::Null
        }
        Err(_) => Value::Null,
    };
    let starts_at = time("starts_at", &s.starts_at);
    let ends_at = time("ends_at", &s.ends_at);
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(json!({
        "title": s.title, "body": s.body, "severity": s.severity, "audience": s.audience,
        "starts_at": starts_at, "ends_at": ends_at,
    }))
}

#[derive(Template)]
#[template(path = "announcement_form.html")]
pub struct AnnouncementFormPage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub id: String,
    pub s: Sent,
    pub severities: Vec<(String, String)>,
    pub audiences: Vec<(String, String)>,
}

fn show_form(v: &Visit, id: &str, s: Sent, refused: Option<AppError>) -> PageResult {
    let mut chrome = v.chrome(
        SECTION,
        if id.is_empty() {
            "announcement-new-title"
        } else {
            "announcement-edit-title"
        },
    );
    let known = [
        "title",
        "body",
        "severity",
        "audience",
        "starts_at",
        "ends_at",
    ];
    let (status, errs) = FieldErrors::split(&mut chrome, refused, &known);
    let t = chrome.t;
    let page = AnnouncementFormPage {
        id: id.to_owned(),
        s,
        severities: choices(
            t,
            "announcement-severity",
            AnnouncementSeverity::ALL.iter().map(|s| s.code()),
        ),
        audiences: choices(
            t,
            "announcement-audience",
            AnnouncementAudience::ALL.iter().map(|a| a.code()),
        ),
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn announcement_new(v: Visit) -> PageResult {
    v.ctx.principal.require(Role::Manager)?;
    let s = Sent {
        title: String::new(),
        body: String::new(),
        severity: "info".into(),
        audience: "everyone".into(),
        starts_at: local_value(Some(v.state.core.now()), &v.viewer),
        ends_at: String::new(),
        version: String::new(),
    };
    show_form(&v, "", s, None)
}

pub async fn announcement_edit(v: Visit, Path(id): Path<String>) -> PageResult {
    v.ctx.principal.require(Role::Manager)?;
    let a = announcements::get(&v.state.core, &v.ctx, &id).await?;
    let s = Sent {
        title: a.title.clone(),
        body: a.body.clone(),
        severity: a.severity.code().to_owned(),
        audience: a.audience.code().to_owned(),
        starts_at: local_value(Some(a.starts_at), &v.viewer),
        ends_at: local_value(a.ends_at, &v.viewer),
        version: a.version.to_string(),
    };
    show_form(&v, &id, s, None)
}

pub async fn announcement_create(v: Visit, form: FormData) -> PageResult {
    let s = sent_of(&form);
    let outcome = match body_of(&v, &s) {
        Ok(body) => announcements::create(&v.state.core, &v.ctx, &body).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(a) => Ok(see_other(
            &format!("/announcements/{}", a.id),
            Some("saved"),
        )),
        Err(e) => show_form(&v, "", s, Some(e)),
    }
}

pub async fn announcement_update(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let s = sent_of(&form);
    let outcome = match body_of(&v, &s) {
        Ok(body) => announcements::update(&v.state.core, &v.ctx, &id, &body, form.version()).await,
        Err(e) => Err(e),
    };
    match outcome {
        Ok(a) => Ok(see_other(
            &format!("/announcements/{}", a.id),
            Some("saved"),
        )),
        Err(e) => show_form(&v, &id, s, Some(e)),
    }
}

pub async fn announcement_delete(v: Visit, Path(id): Path<String>) -> PageResult {
    announcements::delete(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other("/announcements", Some("deleted")))
}
