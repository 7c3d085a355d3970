//! What every task's output has, whatever its process: a process's output flattens this in
//! beside its own fields (`ProblemOut`; the incident's will follow).

use super::dto::{Ref, Time, ts};
use serde::Serialize;
use sigap_core::model::JournalEntry;
use sigap_core::model::PersonRef;
use sigap_core::model::{NamedRef, Task};
use sigap_domain::task::StateModel;
use utoipa::ToSchema;
use uuid::Uuid;

pub(crate) fn person(p: Option<PersonRef>) -> Option<Ref> {
    p.map(|p| Ref {
        id: p.id.as_uuid(),
        display: p.name,
    })
}

fn named<T>(r: Option<NamedRef<T>>, id: impl Fn(&T) -> Uuid) -> Option<Ref> {
    r.map(|r| Ref {
        id: id(&r.id),
        display: r.name,
    })
}

/// The fields every task has.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    pub id: Uuid,
    /// INC0000001, PRB0000001 …; either this or the id names the task in paths.
    pub number: String,
    pub short_description: String,
    pub description: String,
    /// The process's state.
    pub state: String,
    /// The states this task may move to.
    pub next_states: Vec<String>,
    /// 1 high … 3 low.
    pub impact: i64,
    pub urgency: i64,
    /// From the priority matrix, 1 … 5.
    pub priority: i64,
    pub caller: Option<Ref>,
    pub opened_by: Option<Ref>,
    pub assignment_group: Option<Ref>,
    pub assigned_to: Option<Ref>,
    pub service: Option<Ref>,
    pub service_offering: Option<Ref>,
    pub configuration_item: Option<Ref>,
    pub organization: Option<Ref>,
    pub location: Option<Ref>,
    pub category: Option<String>,
    pub subcategory: Option<String>,
    pub contact_type: String,
    pub parent: Option<Ref>,
    pub reassignment_count: i64,
    pub reopen_count: i64,
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Time>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Time>,
    pub version: i64,
}

impl<S: StateModel> From<Task<S>> for TaskOut {
    fn from(t: Task<S>) -> Self {
        Self {
            id: t.id.as_uuid(),
            next_states: t.state.next().iter().map(|s| s.code().to_owned()).collect(),
            number: t.number,
            short_description: t.short_description,
            description: t.description,
            state: t.state.code().into(),
            impact: t.impact.get(),
            urgency: t.urgency.get(),
            priority: t.priority.get(),
            caller: person(t.caller),
            opened_by: person(t.opened_by),
            assignment_group: t.assignment_group.map(|g| Ref {
                id: g.id.as_uuid(),
                display: g.name,
            }),
            assigned_to: person(t.assigned_to),
            service: named(t.service, |i| i.as_uuid()),
            service_offering: named(t.offering, |i| i.as_uuid()),
            configuration_item: named(t.ci, |i| i.as_uuid()),
            organization: named(t.organization, |i| i.as_uuid()),
            location: named(t.location, |i| i.as_uuid()),
            category: t.category,
            subcategory: t.subcategory,
            contact_type: t.contact_type.code().into(),
            parent: named(t.parent, |i| i.as_uuid()),
            reassignment_count: t.reassignment_count,
            reopen_count: t.reopen_count,
            opened_at: ts(t.opened_at),
            updated_at: ts(t.updated_at),
            resolved_at: t.resolved_at.map(ts),
            closed_at: t.closed_at.map(ts),
            version: t.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JournalOut {
    pub id: Uuid,
    /// comment (the caller sees it), work_note (internal) or change.
    pub kind: String,
    pub author: String,
    pub author_id: Option<Uuid>,
    pub body: String,
    /// For changes: `{ field: [before, after] }`.
    #[schema(value_type = Option<Object>)]
    pub changes: Option<serde_json::Value>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
}

impl From<JournalEntry> for JournalOut {
    fn from(j: JournalEntry) -> Self {
        Self {
            id: j.id.as_uuid(),
            kind: j.kind.code().into(),
            author: j.author,
            author_id: j.author_id.map(|p| p.as_uuid()),
            body: j.body,
            changes: j.changes,
            created_at: ts(j.created_at),
        }
    }
}
