//! CAB meetings: the list, a new meeting, and a meeting's page with its attendees, its
//! agenda (the changes awaiting authorization planned to start in its window, and those it
//! decided) and a form per change to record the board's decision with a comment.

use super::changes::{
    FieldErrors, local_time, local_value, prefixed, risk_label, type_label, window,
};
use super::views::{notice, when};
use super::*;
use axum::extract::{Path, Query};
use jiff::Timestamp;
use sigap_core::FieldError;
use sigap_core::changes::{self, MeetingDetail, MeetingInput};
use sigap_domain::Role;
use std::collections::HashMap;

const DECISIONS: &[&str] = &["approved", "rejected", "deferred"];

/// The fields of the meeting form, for its errors.
const MEETING_FIELDS: &[&str] = &[
    "title",
    "starts_at",
    "ends_at",
    "agenda_from",
    "agenda_to",
    "notes",
    "attendees",
];

pub struct MeetingLine {
    pub id: String,
    pub title: String,
    pub when: String,
    pub agenda: String,
    pub past: bool,
}

#[derive(Template)]
#[template(path = "cab.html")]
pub struct CabPage<'a> {
    pub chrome: Chrome<'a>,
    pub meetings: Vec<MeetingLine>,
    pub manager: bool,
}

pub async fn cab_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let list = changes::meetings(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome("cab", "cab-title");
    notice(&mut chrome, &q);
    let now = v.state.core.now();
    let page = CabPage {
        meetings: list
            .into_iter()
            .map(|m| MeetingLine {
                id: m.id.to_string(),
                when: window(&v.viewer, Some(m.starts_at), Some(m.ends_at)),
                agenda: window(&v.viewer, Some(m.agenda_from), Some(m.agenda_to)),
                past: m.ends_at < now,
                title: m.title,
            })
            .collect(),
        manager: v.ctx.principal.has(Role::Manager),
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

// ----- the meeting form -----

/// What the meeting form shows: as typed, or the meeting's.
#[derive(Default)]
pub struct MeetingForm {
    pub title: String,
    pub starts_at: String,
    pub ends_at: String,
    pub agenda_from: String,
    pub agenda_to: String,
    pub notes: String,
    pub attendees: String,
    pub version: i64,
}

impl MeetingForm {
    /// The form's single inputs: (name, label key, type, value, required).
    pub fn inputs(&self) -> Vec<(&'static str, &'static str, &'static str, String, bool)> {
        vec![
            ("title", "field-title", "text", self.title.clone(), true),
            (
                "starts_at",
                "field-starts-at",
                "datetime-local",
                self.starts_at.clone(),
                true,
            ),
            (
                "ends_at",
                "field-ends-at",
                "datetime-local",
                self.ends_at.clone(),
                true,
            ),
            (
                "agenda_from",
                "field-agenda-from",
                "datetime-local",
                self.agenda_from.clone(),
                false,
            ),
            (
                "agenda_to",
                "field-agenda-to",
                "datetime-local",
                self.agenda_to.clone(),
                false,
            ),
        ]
    }

    fn typed(form: &FormData) -> Self {
        Self {
            title: form.text("title"),
            starts_at: form.text("starts_at"),
            ends_at: form.text("ends_at"),
            agenda_from: form.text("agenda_from"),
            agenda_to: form.text("agenda_to"),
            notes: form.text("notes"),
            attendees: form.text("attendees"),
            version: form.version().unwrap_or_default(),
        }
    }

    fn of(v: &Visit, d: &MeetingDetail) -> Self {
        let m = &d.meeting;
        Self {
            title: m.title.clone(),
            starts_at: local_value(Some(m.starts_at), &v.viewer),
            ends_at: local_value(Some(m.ends_at), &v.viewer),
            agenda_from: local_value(Some(m.agenda_from), &v.viewer),
            agenda_to: local_value(Some(m.agenda_to), &v.viewer),
            notes: m.notes.clone(),
            attendees: d
                .attendees
                .iter()
                .map(|p| p.login.clone())
                .collect::<Vec<_>>()
                .join(", "),
            version: m.version,
        }
    }
}

/// A meeting's input from its form; the errors of every field at once.
fn meeting_input(v: &Visit, form: &FormData) -> Result<MeetingInput, AppError> {
    let mut errs: Vec<FieldError> = Vec::new();
    let mut at = |field: &str, required: bool| -> Option<Timestamp> {
        match local_time(&v.viewer, field, &form.text(field)) {
            Ok(Some(t)) => Some(t),
            Ok(None) => {
                if required {
                    errs.push(FieldError::new(field, "required", "is required"));
                }
                None
            }
            Err(AppError::Validation(list)) => {
                errs.extend(list);
                None
            }
            Err(_) => None,
        }
    };
    let starts = at("starts_at", true);
    let ends = at("ends_at", true);
    let agenda_from = at("agenda_from", false);
    let agenda_to = at("agenda_to", false);
    let (Some(starts_at), Some(ends_at)) = (starts, ends) else {
        return Err(AppError::Validation(errs));
    };
    if !errs.is_empty() {
        return Err(AppError::Validation(errs));
    }
    Ok(MeetingInput {
        title: form.text("title"),
        starts_at,
        ends_at,
        agenda_from,
        agenda_to,
        notes: form.text("notes"),
        attendees: form
            .text("attendees")
            .split([',', '\n', ' '])
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .map(str::to_owned)
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "cab_new.html")]
pub struct CabNewPage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub m: MeetingForm,
}

async fn new_view(v: &Visit, m: MeetingForm, refused: Option<AppError>) -> PageResult {
    v.ctx.principal.require(Role::Manager)?;
    let mut chrome = v.chrome("cab", "cab-new");
    let (status, errs) = FieldErrors::split(&mut chrome, refused, MEETING_FIELDS);
    Ok(render(status, &CabNewPage { chrome, errs, m }))
}

pub async fn cab_new(v: Visit) -> PageResult {
    new_view(&v, MeetingForm::default(), None).await
}

pub async fn cab_create(v: Visit, form: FormData) -> PageResult {
    let result = match meeting_input(&v, &form) {
        Ok(input) => changes::create_meeting(&v.state.core, &v.ctx, input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(m) => Ok(see_other(
            &format!("/cab/{}", m.meeting.id),
            Some("created"),
        )),
        Err(e) => new_view(&v, MeetingForm::typed(&form), Some(e)).await,
    }
}

// ----- a meeting -----

/// A change on the agenda, with the decision recorded on it.
pub struct AgendaRow {
    pub number: String,
    pub title: String,
    pub change_type: String,
    pub risk: String,
    pub risk_code: String,
    pub state: String,
    pub approval: String,
    pub window: String,
    pub decision: String,
    pub decision_code: String,
    pub comment: String,
    /// The errors of its decision form.
    pub error: String,
}

pub struct DecisionRow {
    pub number: String,
    pub title: String,
    pub decision: String,
    pub code: String,
    pub comment: String,
    pub by: String,
    pub when: String,
}

#[derive(Template)]
#[template(path = "cab_meeting.html")]
pub struct CabMeetingPage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub id: String,
    pub title: String,
    pub when: String,
    pub agenda_window: String,
    pub notes: String,
    pub attendees: Vec<String>,
    pub agenda: Vec<AgendaRow>,
    pub decisions: Vec<DecisionRow>,
    /// (code, label).
    pub choices: Vec<(String, String)>,
    pub manager: bool,
    pub m: MeetingForm,
}

async fn meeting_view(
    v: &Visit,
    key: &str,
    q: &HashMap<String, String>,
    typed: Option<&FormData>,
    refused: Option<AppError>,
) -> PageResult {
    let d = changes::meeting(&v.state.core, &v.ctx, key).await?;
    let mut chrome = v.chrome("cab", "cab-title");
    chrome.title = d.meeting.title.clone();
    notice(&mut chrome, q);
    let mut known: Vec<String> = MEETING_FIELDS.iter().map(|f| (*f).to_owned()).collect();
    known.extend(d.agenda.iter().map(|c| format!("decision.{}", c.number)));
    let known: Vec<&str> = known.iter().map(String::as_str).collect();
    let (status, errs) = FieldErrors::split(&mut chrome, refused, &known);
    let tt = chrome.t;
    let label = |code: &str| tt.get(&format!("cab-decision-{code}"));
    let agenda = d
        .agenda
        .iter()
        .map(|c| {
            let last = d.decisions.iter().rev().find(|x| x.change.id == c.id);
            AgendaRow {
                number: c.number.clone(),
                title: c.short_description.clone(),
                change_type: type_label(tt, c.ext.change_type),
                risk: risk_label(tt, c.ext.risk),
                risk_code: c.ext.risk.map(|r| r.code().to_owned()).unwrap_or_default(),
                state: super::task::state_label(tt, c.state),
                approval: tt.get(&format!("approval-{}", c.ext.approval.code())),
                window: window(&v.viewer, c.ext.planned_start, c.ext.planned_end),
                decision: last.map(|x| label(&x.decision)).unwrap_or_default(),
                decision_code: last.map(|x| x.decision.clone()).unwrap_or_default(),
                comment: last.map(|x| x.comment.clone()).unwrap_or_default(),
                error: errs.under(&format!("decision.{}", c.number)),
            }
        })
        .collect();
    let m = match typed {
        Some(form) => MeetingForm::typed(form),
        None => MeetingForm::of(v, &d),
    };
    let page = CabMeetingPage {
        id: d.meeting.id.to_string(),
        title: d.meeting.title.clone(),
        when: window(
            &v.viewer,
            Some(d.meeting.starts_at),
            Some(d.meeting.ends_at),
        ),
        agenda_window: window(
            &v.viewer,
            Some(d.meeting.agenda_from),
            Some(d.meeting.agenda_to),
        ),
        notes: d.meeting.notes.clone(),
        attendees: d.attendees.iter().map(|p| p.name.clone()).collect(),
        agenda,
        decisions: d
            .decisions
            .iter()
            .map(|x| DecisionRow {
                number: x.number.clone(),
                title: x.change.name.clone(),
                decision: label(&x.decision),
                code: x.decision.clone(),
                comment: x.comment.clone(),
                by: x
                    .recorded_by
                    .as_ref()
                    .map(|p| p.name.clone())
                    .unwrap_or_default(),
                when: when(x.recorded_at, &v.viewer),
            })
            .collect(),
        choices: DECISIONS
            .iter()
            .map(|c| ((*c).to_owned(), label(c)))
            .collect(),
        manager: v.ctx.principal.has(Role::Manager),
        m,
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn cab_meeting_page(
    v: Visit,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    meeting_view(&v, &id, &q, None, None).await
}

/// Rewrites a meeting (managers).
pub async fn cab_meeting_update(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let result = match meeting_input(&v, &form) {
        Ok(input) => {
            let (core, ctx) = (&v.state.core, &v.ctx);
            changes::update_meeting(core, ctx, &id, input, form.version()).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other(&format!("/cab/{}", encode(&id)), Some("saved"))),
        Err(e) => meeting_view(&v, &id, &HashMap::new(), Some(&form), Some(e)).await,
    }
}

/// Records the board's decision on a change of the agenda (managers).
pub async fn cab_decision(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let change = form.text("change");
    let result = changes::record_decision(
        &v.state.core,
        &v.ctx,
        &id,
        &change,
        &form.text("decision"),
        &form.text("comment"),
    )
    .await;
    match result {
        Ok(_) => Ok(see_other(
            &format!(
                "/cab/{}?notice=saved#agenda-{}",
                encode(&id),
                encode(&change)
            ),
            None,
        )),
        Err(e) => {
            let e = prefixed(e, &format!("decision.{}", change.trim()));
            meeting_view(&v, &id, &HashMap::new(), None, Some(e)).await
        }
    }
}
