//! The mail of a task, on its page for the desk: what came in and went out about it, and
//! for administrators a link to each message.

use super::mail_quarantine::{reason_label, state_label};
use super::*;
use sigap_core::model::Incident;

/// The page of a task by its number (`INC…` → `/incidents/INC…`); empty when it has none.
pub(crate) fn task_path(number: &str) -> String {
    const PATHS: &[(&str, &str)] = &[
        ("SCTASK", "/catalog_tasks/"),
        ("CTASK", "/change_tasks/"),
        ("PTASK", ""),
        ("RITM", "/requested_items/"),
        ("INC", "/incidents/"),
        ("PRB", "/problems/"),
        ("CHG", "/changes/"),
        ("REQ", "/requests/"),
        ("KB", "/knowledge/"),
    ];
    PATHS
        .iter()
        .find(|(prefix, _)| number.starts_with(prefix))
        .filter(|(_, path)| !path.is_empty())
        .map(|(_, path)| format!("{path}{}", encode(number)))
        .unwrap_or_default()
}

/// A message of a task.
pub struct MailLine {
    pub id: String,
    pub inbound: bool,
    pub direction: String,
    pub when: String,
    pub sender: String,
    pub recipients: String,
    pub subject: String,
    pub state: String,
    pub reason: String,
}

/// The mail of a task, as its page lists it; who sees it sees the link to each message
/// when they are an administrator.
pub struct TaskMail {
    pub lines: Vec<MailLine>,
    pub admin: bool,
}

/// The mail of an incident (the desk), newest first.
pub(crate) async fn of_incident(v: &Visit, i: &Incident) -> TaskMail {
    let t = tr(&v.state, &v.viewer);
    let list = sigap_core::mail::admin::of_task::<sigap_core::model::IncidentExt>(
        &v.state.core,
        &v.ctx,
        &i.number,
    )
    .await
    .unwrap_or_default();
    TaskMail {
        admin: v.ctx.principal.has(Role::Admin),
        lines: list
            .into_iter()
            .map(|m| {
                let inbound = m.direction == "in";
                MailLine {
                    id: m.id.to_string(),
                    inbound,
                    direction: t.get(if inbound {
                        "mail-direction-in"
                    } else {
                        "mail-direction-out"
                    }),
                    when: when(m.created_at, &v.viewer),
                    state: state_label(t, &m.state),
                    reason: m
                        .reason
                        .as_deref()
                        .map(|r| reason_label(t, r))
                        .unwrap_or_default(),
                    sender: m.sender,
                    recipients: m.recipients,
                    subject: m.subject,
                }
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lead_to_their_pages() {
        assert_eq!(task_path("INC0000001"), "/incidents/INC0000001");
        assert_eq!(task_path("SCTASK0000002"), "/catalog_tasks/SCTASK0000002");
        assert_eq!(task_path("CTASK0000003"), "/change_tasks/CTASK0000003");
        assert_eq!(task_path("RITM0000004"), "/requested_items/RITM0000004");
        assert_eq!(task_path("PTASK0000005"), "");
        assert_eq!(task_path("nothing"), "");
    }
}
