//! Typed record identifiers (UUID v7, generated in Rust).

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! id_type {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, time-ordered identifier.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
            pub fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }
            pub fn as_uuid(&self) -> Uuid {
                self.0
            }
            /// Parses the textual form of a UUID.
            pub fn parse(text: &str) -> Option<Self> {
                Uuid::parse_str(text).ok().map(Self)
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A person (user account).
    PersonId
);
id_type!(
    /// An organization: the provider itself, a customer or a supplier.
    OrgId
);
id_type!(
    /// A support group.
    GroupId
);
id_type!(
    /// A personal API token.
    TokenId
);
id_type!(
    /// A background job.
    JobId
);
id_type!(
    /// A service in the service portfolio.
    ServiceId
);
id_type!(
    /// A service offering: what a customer consumes of a service.
    OfferingId
);
id_type!(
    /// A configuration item.
    CiId
);
id_type!(
    /// A CI class.
    CiClassId
);
id_type!(
    /// A relationship between two configuration items.
    RelId
);
id_type!(
    /// A project of the project portfolio.
    ProjectId
);
id_type!(
    /// An application of the application portfolio.
    ApplicationId
);
id_type!(
    /// An in-app notification.
    NotificationId
);
id_type!(
    /// A task: an incident, and later problems, changes and requests.
    TaskId
);
id_type!(
    /// An entry of a task's journal.
    JournalId
);
id_type!(
    /// An assignment rule.
    RuleId
);
id_type!(
    /// A file attached to a task.
    AttachmentId
);
id_type!(
    /// A person's saved view of a list.
    FilterId
);
id_type!(
    /// A business calendar.
    CalendarId
);
id_type!(
    /// A holiday of a calendar.
    HolidayId
);
id_type!(
    /// An agreement: SLA, OLA or UC.
    AgreementId
);
id_type!(
    /// A target of an agreement.
    TargetId
);
id_type!(
    /// An SLA clock of a task.
    ClockId
);
id_type!(
    /// An event of an SLA clock.
    ClockEventId
);
id_type!(
    /// A location: a site, building or office where people and things are.
    LocationId
);
id_type!(
    /// A category of the service catalogue.
    CatalogCategoryId
);
id_type!(
    /// An item of the service catalogue.
    CatalogItemId
);
id_type!(
    /// One approver's approval of a task.
    ApprovalId
);
id_type!(
    /// An approver's delegation while away.
    DelegationId
);
id_type!(
    /// A line of a person's cart.
    CartLineId
);
id_type!(
    /// A standard change template.
    ChangeTemplateId
);
id_type!(
    /// A CAB meeting.
    CabMeetingId
);
id_type!(
    /// A blackout window: a period changes avoid, everywhere or on one service.
    BlackoutId
);
id_type!(
    /// A knowledge base: a collection of articles with its owners.
    KnowledgeBaseId
);
id_type!(
    /// A category in a knowledge base's tree.
    KbCategoryId
);
id_type!(
    /// One version of a knowledge article.
    ArticleVersionId
);
id_type!(
    /// A reader's feedback on a knowledge article.
    FeedbackId
);
id_type!(
    /// A mailbox Sigap takes mail in from (IMAP, or an MTA piping to `sigap mail receive`).
    MailboxId
);
id_type!(
    /// A mail message Sigap took in or sent, kept raw.
    MailMessageId
);
id_type!(
    /// An alert: the events of one key while what they report goes on.
    AlertId
);
id_type!(
    /// An event as a monitoring tool sent it.
    EventId
);
id_type!(
    /// A monitoring tool that sends events, with its own secret.
    IntegrationId
);
id_type!(
    /// A window in which a CI's alerts are held back.
    MaintenanceWindowId
);
id_type!(
    /// An event rule: ignore, transform, bind or incident.
    EventRuleId
);
id_type!(
    /// A saved report.
    ReportId
);
id_type!(
    /// A dashboard.
    DashboardId
);
id_type!(
    /// A report's scheduled delivery.
    ScheduleId
);
id_type!(
    /// An initiative of the improvement register.
    ImprovementId
);
id_type!(
    /// A review note of an improvement.
    ImprovementReviewId
);
id_type!(
    /// An announcement on people's home pages.
    AnnouncementId
);
