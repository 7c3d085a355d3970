//! Announcements: what the service desk tells people on their home pages (an outage under
//! way, planned maintenance, a new service), for a while, to everyone or to one side of the
//! desk.

use crate::values::{InvalidValue, code_enum};
use serde::{Deserialize, Serialize};
use std::fmt;

code_enum!(
    /// How much an announcement matters: news, a warning, or an outage under way.
    AnnouncementSeverity {
        Info = "info",
        Warning = "warning",
        Outage = "outage",
    }
);

code_enum!(
    /// Who sees an announcement: everyone, the people the desk serves (those who are not
    /// agents), or the agents.
    AnnouncementAudience {
        Everyone = "everyone",
        Requesters = "requesters",
        Agents = "agents",
    }
);

impl AnnouncementAudience {
    /// The audiences a person sees: everyone's, and their side's.
    pub fn seen_by(is_agent: bool) -> [AnnouncementAudience; 2] {
        match is_agent {
            true => [AnnouncementAudience::Everyone, AnnouncementAudience::Agents],
            false => [
                AnnouncementAudience::Everyone,
                AnnouncementAudience::Requesters,
            ],
        }
    }
}

/// The longest title.
pub const MAX_TITLE: usize = 200;
/// The longest body.
pub const MAX_BODY: usize = 5_000;
