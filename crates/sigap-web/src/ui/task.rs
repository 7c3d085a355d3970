//! Building blocks the pages of every process share: the common fields of a task's forms,
//! and the sort choices of a list.

use super::incidents::{changed, level};
use super::{Chrome, FormData, messages};
use crate::i18n::Tr;
use sigap_core::AppError;
use sigap_core::task::TaskInput;

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
