//! Who is asking, and what they may do.

use crate::error::{AppError, AppResult};
use sigap_domain::{Locale, OrgId, OrgKind, PersonId, Role, RoleSet, TokenId, TokenScope};
use sigap_store::people::{OrgRef, Person};
use std::sync::Arc;

/// How the person proved who they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// A browser session; `id_hash` identifies the session row.
    Session { id_hash: String },
    /// A personal API token.
    Token { id: TokenId, scope: TokenScope },
    /// The program itself (command line, start-up, jobs).
    System,
    /// A mail from the person's address (only what a mail may do: report, reply).
    Mail,
    /// A monitoring tool by its secret (it may only send events).
    Integration { id: sigap_domain::IntegrationId },
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub person_id: Option<PersonId>,
    pub login: String,
    pub name: String,
    pub roles: RoleSet,
    pub organization: Option<OrgRef>,
    pub locale: Locale,
    pub time_zone: String,
    pub method: AuthMethod,
}

impl Principal {
    pub fn from_person(p: &Person, method: AuthMethod) -> Self {
        Self {
            person_id: Some(p.id),
            login: p.login.clone(),
            name: p.name.clone(),
            roles: RoleSet::new(p.roles.clone()),
            organization: p.organization.clone(),
            locale: p.locale,
            time_zone: p.time_zone.clone(),
            method,
        }
    }

    /// The program acting on its own behalf, with every right.
    pub fn system(what: &str) -> Self {
        Self {
            person_id: None,
            login: what.to_owned(),
            name: what.to_owned(),
            roles: RoleSet::new(vec![
                Role::Admin,
                Role::Approver,
                Role::CabMember,
                Role::PortfolioManager,
            ]),
            organization: None,
            locale: Locale::En,
            time_zone: "UTC".into(),
            method: AuthMethod::System,
        }
    }

    pub fn has(&self, role: Role) -> bool {
        self.roles.has(role)
    }

    /// Forbidden unless the person holds `role`.
    pub fn require(&self, role: Role) -> AppResult<()> {
        if self.has(role) {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// An agent of the provider (not of a customer or supplier organization): works on the
    /// whole portfolio, CMDB and desk.
    pub fn is_provider_agent(&self) -> bool {
        self.has(Role::Agent) && self.scope().is_none()
    }

    /// Forbidden unless the person is an agent of the provider.
    pub fn require_provider_agent(&self) -> AppResult<()> {
        if self.is_provider_agent() {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    /// The person's own id; system principals have none.
    pub fn person(&self) -> AppResult<PersonId> {
        self.person_id.ok_or(AppError::Forbidden)
    }

    /// The organization this person is confined to: people of customer and supplier
    /// organizations see only their own organization's records.
    pub fn scope(&self) -> Option<OrgId> {
        match &self.organization {
            Some(org) if org.kind != OrgKind::Provider => Some(org.id),
            _ => None,
        }
    }

    /// Whether a record of organization `org` is visible to this person.
    pub fn sees_org(&self, org: Option<OrgId>) -> bool {
        match self.scope() {
            None => true,
            Some(mine) => org == Some(mine),
        }
    }

    /// Whether this principal may change things (read-only tokens may not).
    pub fn can_write(&self) -> bool {
        !matches!(
            self.method,
            AuthMethod::Token {
                scope: TokenScope::Read,
                ..
            }
        )
    }
}

/// The principal and the request a use case runs for; the audit log records both. The
/// principal is shared (a cached token hands out the same one to every call).
#[derive(Debug, Clone)]
pub struct Ctx {
    pub principal: Arc<Principal>,
    pub request_id: String,
}

impl Ctx {
    pub fn new(principal: impl Into<Arc<Principal>>, request_id: impl Into<String>) -> Self {
        Self {
            principal: principal.into(),
            request_id: request_id.into(),
        }
    }
    pub fn system(what: &str) -> Self {
        Self::new(
            Principal::system(what),
            format!("{what}-{}", uuid::Uuid::now_v7()),
        )
    }
    pub fn p(&self) -> &Principal {
        &self.principal
    }
}
