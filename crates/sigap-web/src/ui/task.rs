//! Building blocks the pages of every process share: the common fields of a task's forms
//! and views, its journal, the sort choices of a list, and what a form does after its use
//! case answered.

use super::incidents::{changed, level};
use super::views::when;
use super::{Chrome, FormData, PageResult, Viewer, messages, see_other};
use crate::i18n::Tr;
use sigap_core::AppError;
use sigap_core::model::Task;
use sigap_core::task::TaskInput;
use sigap_domain::task::{JournalKind, MatrixPreset, StateModel};

/// The common fields of a new task's form; empty references are left out.
pub(crate) fn new_input(form: &FormData) -> TaskInput {
    TaskInput {
        short_description: form.get("short_description"),
        description: form.get("description"),
        impact: level(form, "impact"),
        urgency: level(form, "urgency"),
        service: form.opt("service").map(Some),
        ci: form.opt("ci").map(Some),
        category: form.opt("category").map(Some),
        assignment_group: form.opt("assignment_group").map(Some),
        ..Default::default()
    }
}

/// The common fields of a task's edit form; a reference is sent on only when it changed.
pub(crate) fn edit_input(form: &FormData) -> TaskInput {
    TaskInput {
        short_description: form.get("short_description"),
        description: form.get("description"),
        impact: level(form, "impact"),
        urgency: level(form, "urgency"),
        assignment_group: form.get("assignment_group").map(Some),
        assigned_to: form.get("assigned_to").map(Some),
        service: changed(form, "service"),
        ci: changed(form, "ci"),
        category: changed(form, "category"),
        ..Default::default()
    }
}

/// A list's sort choices, (value, label): `-opened_at` is labelled by `sort-opened-at`.
pub(crate) fn sort_options(tt: Tr<'_>, sorts: &[&str]) -> Vec<(String, String)> {
    sorts
        .iter()
        .map(|s| {
            let id = s.trim_start_matches('-').replace([',', '_'], "-");
            ((*s).to_owned(), tt.get(&format!("sort-{id}")))
        })
        .collect()
}

/// A list's result, with a refused filter (a typo in a date or a state) shown on the page
/// as an empty list with the reason rather than as an error page.
pub(crate) fn or_refused<T: Default>(
    chrome: &mut Chrome<'_>,
    r: Result<T, AppError>,
) -> Result<T, AppError> {
    match r {
        Err(e @ AppError::Validation(_)) => {
            chrome.errors.extend(messages(chrome.t, &e));
            Ok(T::default())
        }
        r => r,
    }
}

/// After a form on a task's page: back to `to` with a notice, or the page again with the
/// reasons (`again`) when the use case refused it.
pub(crate) async fn after<T>(
    result: Result<T, AppError>,
    to: &str,
    notice: &str,
    again: impl AsyncFnOnce(AppError) -> PageResult,
) -> PageResult {
    match result {
        Ok(_) => Ok(see_other(to, Some(notice))),
        Err(e) => again(e).await,
    }
}

/// What every task's page and list show of it, in the viewer's language and time zone. A
/// process's view derefs to this, so templates read `i.number` or `p.group` alike.
pub struct TaskView {
    pub number: String,
    pub short_description: String,
    pub description: String,
    pub state: String,
    pub state_code: String,
    pub impact: i64,
    pub urgency: i64,
    pub priority: i64,
    pub priority_label: String,
    pub caller: String,
    pub caller_login: String,
    pub group: String,
    pub assignee: String,
    pub assignee_login: String,
    pub service: String,
    pub offering: String,
    pub ci: String,
    pub location: String,
    /// The category's code, and the subcategory's.
    pub category: String,
    pub subcategory: String,
    pub parent: String,
    pub contact_type: String,
    pub opened: String,
    pub updated: String,
    pub reopen_count: i64,
    pub reassignment_count: i64,
    pub version: i64,
}

/// A task's state in the viewer's language: `incident-state-on_hold`,
/// `requested_item-state-approved`.
pub(crate) fn state_label<S: StateModel>(tt: Tr<'_>, s: S) -> String {
    tt.get(&format!("{}-state-{}", S::NOUN.replace(' ', "_"), s.code()))
}

/// Codes with their labels (`{prefix}-{code}` in the locale files), for a choice.
pub(crate) fn choices<'a>(
    tt: Tr<'_>,
    prefix: &str,
    codes: impl IntoIterator<Item = &'a str>,
) -> Vec<(String, String)> {
    let label = |c: &str| tt.get(&format!("{prefix}-{c}"));
    codes
        .into_iter()
        .map(|c| (c.to_owned(), label(c)))
        .collect()
}

/// A task in a list of linked ones: its number, short description and state.
pub struct TaskLine {
    pub number: String,
    pub short_description: String,
    pub state: String,
}

impl TaskLine {
    pub(crate) fn of<S: StateModel>(tt: Tr<'_>, t: &Task<S>) -> TaskLine {
        let (number, text) = (t.number.clone(), t.short_description.clone());
        TaskLine {
            number,
            short_description: text,
            state: state_label(tt, t.state),
        }
    }
}

pub(crate) fn task_view<S: StateModel>(
    tt: Tr<'_>,
    viewer: &Viewer,
    labels: MatrixPreset,
    t: &Task<S>,
) -> TaskView {
    fn name<T>(r: &Option<sigap_core::model::NamedRef<T>>) -> String {
        r.as_ref().map(|x| x.name.clone()).unwrap_or_default()
    }
    let person = |p: &Option<sigap_core::model::PersonRef>| {
        p.as_ref()
            .map(|p| (p.name.clone(), p.login.clone()))
            .unwrap_or_default()
    };
    let ((caller, caller_login), (assignee, assignee_login)) =
        (person(&t.caller), person(&t.assigned_to));
    TaskView {
        number: t.number.clone(),
        short_description: t.short_description.clone(),
        description: t.description.clone(),
        state: state_label(tt, t.state),
        state_code: t.state.code().into(),
        impact: t.impact.get(),
        urgency: t.urgency.get(),
        priority: t.priority.get(),
        priority_label: super::incidents::priority_label(tt, labels, t.priority.get()),
        caller,
        caller_login,
        group: t
            .assignment_group
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_default(),
        assignee,
        assignee_login,
        service: name(&t.service),
        offering: name(&t.offering),
        ci: name(&t.ci),
        location: name(&t.location),
        category: t.category.clone().unwrap_or_default(),
        subcategory: t.subcategory.clone().unwrap_or_default(),
        parent: name(&t.parent),
        contact_type: tt.get(&format!("contact-{}", t.contact_type.code())),
        opened: when(t.opened_at, viewer),
        updated: when(t.updated_at, viewer),
        reopen_count: t.reopen_count,
        reassignment_count: t.reassignment_count,
        version: t.version,
    }
}

/// A process's view of a task: the common view and its own fields, deref'd to the common.
macro_rules! task_view_type {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$m])*
        pub struct $name {
            pub t: super::task::TaskView,
            $($(#[$fm])* pub $field: $ty,)*
        }

        impl std::ops::Deref for $name {
            type Target = super::task::TaskView;
            fn deref(&self) -> &super::task::TaskView {
                &self.t
            }
        }
    };
}
pub(crate) use task_view_type;

pub struct JournalLine {
    pub kind: String,
    pub who: String,
    pub when: String,
    pub body: String,
    pub changes: Vec<(String, String, String)>,
}

/// A journal as the pages show it, newest first.
pub(crate) fn journal(
    tt: Tr<'_>,
    viewer: &Viewer,
    entries: &[sigap_core::model::JournalEntry],
) -> Vec<JournalLine> {
    let show = |x: Option<&serde_json::Value>| match x {
        None | Some(serde_json::Value::Null) => "—".to_owned(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    };
    let changes = |j: &sigap_core::model::JournalEntry| match (&j.kind, &j.changes) {
        (JournalKind::Change, Some(serde_json::Value::Object(m))) => m
            .iter()
            .map(|(k, v)| {
                let label = tt.get(&format!("field-{}", k.replace('_', "-")));
                (label, show(v.get(0)), show(v.get(1)))
            })
            .collect(),
        _ => Vec::new(),
    };
    entries
        .iter()
        .rev()
        .map(|j| JournalLine {
            kind: j.kind.code().into(),
            who: j.author.clone(),
            when: when(j.created_at, viewer),
            body: j.body.clone(),
            changes: changes(j),
        })
        .collect()
}
