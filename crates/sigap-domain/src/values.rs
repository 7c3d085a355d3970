//! Parsed values: once constructed, a value is valid ("parse, don't validate").

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a value was refused. `code` is stable and machine-readable; `message` is English prose.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct InvalidValue {
    pub code: &'static str,
    pub message: String,
}

impl InvalidValue {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

fn has_control(text: &str) -> bool {
    text.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
}

/// Trimmed single-line text: not empty, at most `max` characters, no control characters.
pub fn parse_line(text: &str, max: usize) -> Result<String, InvalidValue> {
    let t = text.trim();
    if t.is_empty() {
        return Err(InvalidValue::new("required", "must not be empty"));
    }
    if t.chars().count() > max {
        return Err(InvalidValue::new(
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    if t.chars().any(char::is_control) {
        return Err(InvalidValue::new(
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    Ok(t.to_owned())
}

/// Multi-line text (descriptions): may be empty, at most `max` characters, line breaks allowed.
pub fn parse_text(text: &str, max: usize) -> Result<String, InvalidValue> {
    if text.chars().count() > max {
        return Err(InvalidValue::new(
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    if has_control(text) {
        return Err(InvalidValue::new(
            "invalid_characters",
            "must not contain control characters",
        ));
    }
    Ok(text.to_owned())
}

/// A login name: 2–64 characters of lower-case letters, digits, `.`, `_`, `-` and `@`;
/// input is folded to lower case, so logins are case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Login(String);

impl Login {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let t = text.trim().to_lowercase();
        let n = t.chars().count();
        if !(2..=64).contains(&n) {
            return Err(InvalidValue::new(
                "invalid_length",
                "must be 2 to 64 characters long",
            ));
        }
        if !t
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_@".contains(c))
        {
            return Err(InvalidValue::new(
                "invalid_characters",
                "may contain only letters a-z, digits and . _ - @",
            ));
        }
        Ok(Self(t))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Login {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, checked for shape (one `@`, a dotted domain, no spaces), stored as given
/// with the domain folded to lower case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let t = text.trim();
        let bad = || InvalidValue::new("invalid_email", "is not a valid e-mail address");
        if t.len() > 254 || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = t.rsplit_once('@').ok_or_else(bad)?;
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return Err(bad());
        }
        if domain.is_empty()
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
            || !domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '.' || c == '-')
        {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Interface language: English or Bahasa Indonesia.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Id,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::En, Locale::Id];
    pub fn code(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Id => "id",
        }
    }
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        match text.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Locale::En),
            "id" => Ok(Locale::Id),
            _ => Err(InvalidValue::new(
                "invalid_choice",
                "must be one of: en, id",
            )),
        }
    }
}

/// An IANA time zone name known to the bundled tz database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct TimeZoneName(String);

impl TimeZoneName {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let t = text.trim();
        if t.is_empty() || t.len() > 64 || jiff::tz::db().get(t).is_err() {
            return Err(InvalidValue::new(
                "invalid_time_zone",
                "is not a known IANA time zone (for example Asia/Jakarta)",
            ));
        }
        Ok(Self(t.to_owned()))
    }
    pub fn utc() -> Self {
        Self("UTC".to_owned())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new password as typed by a person: 10 to 256 characters.
#[derive(Clone)]
pub struct NewPassword(String);

impl NewPassword {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        let n = text.chars().count();
        if n < 10 {
            return Err(InvalidValue::new(
                "too_short",
                "must be at least 10 characters",
            ));
        }
        if n > 256 {
            return Err(InvalidValue::new(
                "too_long",
                "must be at most 256 characters",
            ));
        }
        Ok(Self(text.to_owned()))
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("NewPassword(***)")
    }
}

macro_rules! code_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }
            pub fn parse(text: &str) -> Result<Self, InvalidValue> {
                match text.trim() {
                    $($code => Ok($name::$variant),)+
                    _ => Err(InvalidValue::new(
                        "invalid_choice",
                        format!("must be one of: {}", [$($code),+].join(", ")),
                    )),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}

pub(crate) use code_enum;

code_enum!(
    /// What an organization is to the provider.
    OrgKind { Provider = "provider", Customer = "customer", Supplier = "supplier" }
);
code_enum!(
    /// The ITIL function a support group performs.
    GroupType {
        ServiceDesk = "service_desk",
        Technical = "technical",
        Application = "application",
        ItOperations = "it_operations",
    }
);
code_enum!(
    /// A role a person holds. Requester, agent, manager and admin are ranked (each includes the
    /// ones before it); approver, CAB member and portfolio manager are process roles held on their
    /// own.
    Role {
        Requester = "requester",
        Agent = "agent",
        Manager = "manager",
        Admin = "admin",
        Approver = "approver",
        CabMember = "cab_member",
        PortfolioManager = "portfolio_manager",
    }
);
code_enum!(
    /// What a personal API token may do.
    TokenScope { Read = "read", ReadWrite = "read_write" }
);

impl Role {
    /// The roles whose holders count as holding this one (itself, and higher ranked roles).
    pub fn holders(self) -> Vec<Role> {
        match self.rank() {
            None => vec![self],
            Some(needed) => Role::ALL
                .iter()
                .copied()
                .filter(|r| r.rank().is_some_and(|have| have >= needed))
                .collect(),
        }
    }

    fn rank(self) -> Option<u8> {
        match self {
            Role::Requester => Some(0),
            Role::Agent => Some(1),
            Role::Manager => Some(2),
            Role::Admin => Some(3),
            Role::Approver | Role::CabMember | Role::PortfolioManager => None,
        }
    }
}

/// The roles a person holds, with the ranked roles implying the lower ones.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleSet(Vec<Role>);

impl RoleSet {
    pub fn new(mut roles: Vec<Role>) -> Self {
        roles.sort();
        roles.dedup();
        Self(roles)
    }
    /// Whether the person holds `role`, directly or through a higher ranked role.
    pub fn has(&self, role: Role) -> bool {
        match role.rank() {
            None => self.0.contains(&role),
            Some(needed) => self
                .0
                .iter()
                .any(|r| r.rank().is_some_and(|have| have >= needed)),
        }
    }
    /// The roles as granted, without implied ones.
    pub fn granted(&self) -> &[Role] {
        &self.0
    }
    /// The highest ranked role held (requester when none is).
    pub fn primary(&self) -> Role {
        [Role::Admin, Role::Manager, Role::Agent]
            .into_iter()
            .find(|r| self.has(*r))
            .unwrap_or(Role::Requester)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ranked_roles_imply_lower_ones() {
        let admin = RoleSet::new(vec![Role::Admin]);
        assert!(admin.has(Role::Agent) && admin.has(Role::Requester) && admin.has(Role::Manager));
        assert!(!admin.has(Role::CabMember));
        let agent = RoleSet::new(vec![Role::Agent, Role::CabMember]);
        assert!(agent.has(Role::CabMember) && !agent.has(Role::Manager));
        assert_eq!(agent.primary(), Role::Agent);
        assert_eq!(RoleSet::default().primary(), Role::Requester);
    }

    #[test]
    fn logins_fold_case_and_refuse_odd_characters() {
        assert_eq!(Login::parse(" Admin ").map(|l| l.0), Ok("admin".to_owned()));
        assert!(Login::parse("a").is_err());
        assert!(Login::parse("robert'); drop table").is_err());
        assert!(Login::parse("<b>x</b>").is_err());
    }

    #[test]
    fn emails_are_checked_for_shape() {
        assert!(Email::parse("siti@Example.CO.id").is_ok_and(|e| e.0 == "siti@example.co.id"));
        for bad in [
            "", "no-at", "a@", "@b.c", "a b@c.d", "a@b..c", "a@.b", "a@b,c",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn time_zones_come_from_the_bundled_database() {
        assert!(TimeZoneName::parse("Asia/Jakarta").is_ok());
        assert!(TimeZoneName::parse("Mars/Olympus").is_err());
    }

    #[test]
    fn code_enums_round_trip() {
        for kind in OrgKind::ALL {
            assert_eq!(OrgKind::parse(kind.code()), Ok(*kind));
        }
        for role in Role::ALL {
            assert_eq!(Role::parse(role.code()), Ok(*role));
        }
        assert!(GroupType::parse("SERVICE_DESK").is_err());
    }

    proptest! {
        #[test]
        fn parsed_logins_are_stable(s in "\\PC{0,80}") {
            if let Ok(login) = Login::parse(&s) {
                prop_assert_eq!(Login::parse(login.as_str()), Ok(login.clone()));
                prop_assert!(login.as_str().len() <= 64);
            }
        }

        #[test]
        fn parsed_emails_are_stable(s in "[a-zA-Z0-9.@ -]{0,40}") {
            if let Ok(email) = Email::parse(&s) {
                prop_assert_eq!(Email::parse(email.as_str()), Ok(email.clone()));
            }
        }

        #[test]
        fn parse_line_never_keeps_control_characters(s in "\\PC{0,50}[\\x00-\\x1f]?") {
            if let Ok(t) = parse_line(&s, 100) {
                prop_assert!(!t.chars().any(char::is_control));
                prop_assert!(!t.is_empty());
            }
        }
    }
}
