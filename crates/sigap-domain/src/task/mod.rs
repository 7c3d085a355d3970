//! What every task has, whatever its process: impact, urgency and priority, the channel it
//! came in by, the kinds of task, the journal's kinds and the state model a process gives
//! its tasks.

mod priority;
mod state;

pub use priority::{Level, MatrixPreset, MatrixRow, Priority, PriorityMatrix};
pub(crate) use state::state_model;
pub use state::{StateModel, check_model};

use crate::values::{InvalidValue, code_enum};
use serde::{Deserialize, Serialize};
use std::fmt;

code_enum!(
    /// The kinds of task, each numbered on its own (`prefix`).
    TaskKind {
        Incident = "incident",
        Problem = "problem",
        ProblemTask = "problem_task",
        Change = "change",
        ChangeTask = "change_task",
        Request = "request",
        RequestItem = "request_item",
        FulfilmentTask = "fulfilment_task",
        Article = "article",
    }
);

code_enum!(
    /// What tasks are counted by in a breakdown (trends, reports).
    Dimension {
        Service = "service",
        Ci = "ci",
        Category = "category",
    }
);

impl TaskKind {
    /// The number prefix: INC0000001, PRB0000001…
    pub fn prefix(self) -> &'static str {
        match self {
            TaskKind::Incident => "INC",
            TaskKind::Problem => "PRB",
            TaskKind::ProblemTask => "PTASK",
            TaskKind::Change => "CHG",
            TaskKind::ChangeTask => "CTASK",
            TaskKind::Request => "REQ",
            TaskKind::RequestItem => "RITM",
            TaskKind::FulfilmentTask => "SCTASK",
            TaskKind::Article => "KB",
        }
    }
}

code_enum!(
    /// How a task reached the service desk.
    ContactType {
        Phone = "phone",
        Email = "email",
        SelfService = "self_service",
        WalkIn = "walk_in",
        Chat = "chat",
        Monitoring = "monitoring",
        Api = "api",
    }
);

code_enum!(
    /// What a journal entry is: a comment the caller sees, a work note internal to the
    /// desk, or the record of changed fields.
    JournalKind {
        Comment = "comment",
        WorkNote = "work_note",
        Change = "change",
    }
);
