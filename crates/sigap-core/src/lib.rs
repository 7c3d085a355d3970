//! Use cases, one module per process: authorization, validation, audit and background work.
//! A handler in `sigap-web` parses input, calls one function here and maps the result.

pub mod announcements;
pub mod approvals;
pub mod attachments;
pub mod audit;
pub mod auth;
pub mod breakdown;
pub mod catalog;
pub mod changes;
pub mod cmdb;
pub mod cmdb_csv;
pub mod csv_io;
mod error;
pub mod events;
pub mod export;
pub mod filters;
pub mod groups;
pub mod home;
pub mod i18n;
pub mod idempotency;
pub mod import_sn;
pub mod incidents;
pub mod jobs;
pub mod knowledge;
pub mod links;
pub mod listing;
pub mod locations;
pub mod mail;
pub mod markdown;
pub mod notifications;
pub mod orgs;
pub mod people;
pub mod portfolio;
mod principal;
pub mod problems;
pub mod projects;
mod refs;
pub mod reports;
pub mod requests;
pub mod secrets;
pub mod seed;
pub mod sla;
pub mod task;
pub mod tokens;
pub mod upgrade;

pub use error::{AppError, AppResult, Errors, FieldError, check_version, written};
pub use principal::{AuthMethod, Ctx, Principal};
pub use refs::RefChange;

/// The records the use cases give and take, as the store keeps them: data only. The web
/// layer shows them and reaches storage only through the use cases.
pub mod model {
    pub use sigap_store::audit::AuditRow;
    pub use sigap_store::changes::{
        Blackout, CalendarFilter, Change, ChangeExt, ChangeTask, ChangeTaskExt, Decision,
        Maintenance, Meeting, Template,
    };
    pub use sigap_store::cmdb::{Ci, CiClass, CiRef, Relationship};
    pub use sigap_store::filters::SavedFilter;
    pub use sigap_store::groups::{Group, GroupRef, PersonRef};
    pub use sigap_store::incidents::{Incident, IncidentExt};
    pub use sigap_store::knowledge::{
        Article, ArticleExt, Category as KbCategory, Feedback as ArticleFeedback,
        Hit as ArticleHit, KnowledgeBase, Linked as ArticleLinked, Version as ArticleVersion,
    };
    pub use sigap_store::locations::Location;
    pub use sigap_store::notifications::Notification;
    pub use sigap_store::orgs::Organization;
    pub use sigap_store::people::Person;
    pub use sigap_store::portfolio::{Offering, Service, StageMove};
    pub use sigap_store::problems::{Problem, ProblemExt};
    pub use sigap_store::projects::{Application, Project, ServiceRef};
    pub use sigap_store::requests::{
        CatalogTask, CatalogTaskExt, Request, RequestExt, RequestItem, RequestItemExt,
    };
    pub use sigap_store::sla::{ClockEvent, HolidayRow, ReportLine, Target};
    pub use sigap_store::task::attachments::Attachment;
    pub use sigap_store::task::config::{AssignmentRule, Category};
    pub use sigap_store::task::journal::JournalEntry;
    pub use sigap_store::task::{NamedRef, Record, Task};
    pub use sigap_store::tokens::ApiToken;
}

use jiff::{SignedDuration, Timestamp};
use sigap_domain::Clock;
use sigap_store::Store;
use std::sync::Arc;

/// Tunables of the use cases.
#[derive(Debug, Clone)]
pub struct CoreSettings {
    /// How long a browser session lives without use.
    pub session_idle: SignedDuration,
    /// Failed sign-ins per account within `login_window` before it is locked.
    pub login_max_failures_per_account: i64,
    /// Failed sign-ins per address within `login_window` before it is locked.
    pub login_max_failures_per_address: i64,
    pub login_window: SignedDuration,
    pub login_lockout: SignedDuration,
    /// Argon2 memory cost in KiB (19 MiB is OWASP's minimum for Argon2id).
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    /// The host name in the Message-IDs and loop header of the mail Sigap sends.
    pub mail_host: String,
    /// Where people reach Sigap: the links in its mail.
    pub public_url: String,
}

impl Default for CoreSettings {
    fn default() -> Self {
        Self {
            session_idle: SignedDuration::from_hours(12),
            login_max_failures_per_account: 5,
            login_max_failures_per_address: 30,
            login_window: SignedDuration::from_mins(15),
            login_lockout: SignedDuration::from_mins(15),
            argon2_memory_kib: 19 * 1024,
            argon2_iterations: 2,
            mail_host: "sigap.invalid".into(),
            public_url: "http://localhost:8080".into(),
        }
    }
}

/// The application: the store, the clock and the settings, cheap to clone.
#[derive(Clone, Debug)]
pub struct Core {
    pub store: Store,
    clock: Arc<dyn Clock>,
    pub settings: Arc<CoreSettings>,
    pub(crate) credentials: Arc<auth::Credentials>,
}

impl Core {
    pub fn new(store: Store, clock: Arc<dyn Clock>, settings: CoreSettings) -> Self {
        Self {
            store,
            clock,
            settings: Arc::new(settings),
            credentials: Arc::default(),
        }
    }

    /// The current time, from the injected clock, at the microsecond precision the database keeps.
    pub fn now(&self) -> Timestamp {
        let t = self.clock.now();
        Timestamp::from_microsecond(t.as_microsecond()).unwrap_or(t)
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }
}
