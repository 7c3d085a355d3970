//! What the API sends and accepts. Field names follow the ITSM vocabulary; references are
//! embedded as `{id, display}`; times are RFC 3339 in UTC.

use serde::{Deserialize, Deserializer, Serialize};
use sigap_core::model::ApiToken;
use sigap_core::model::AuditRow;
use sigap_core::model::Organization;
use sigap_core::model::Person;
use sigap_core::model::{Group, PersonRef};
use utoipa::ToSchema;
use uuid::Uuid;

/// A reference to another record.
#[derive(Debug, Serialize, ToSchema)]
pub struct Ref {
    pub id: Uuid,
    pub display: String,
}

/// A page of a collection. Pass `next_cursor` as `cursor` to get the next page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// Accepts an absent field (`None`), `null` (`Some(None)`) and a value.
pub fn nullable<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Like [`nullable`], for a date: `YYYY-MM-DD` exactly, as the document's `format: date`
/// says (the use cases would also read an empty text as "none"; `null` is the way to clear).
pub fn nullable_date<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    let value = Option::<String>::deserialize(d)?;
    if let Some(text) = &value {
        let b = text.as_bytes();
        let shaped = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !shaped || text.parse::<jiff::civil::Date>().is_err() {
            return Err(serde::de::Error::custom("must be a date, YYYY-MM-DD"));
        }
    }
    Ok(Some(value))
}

/// A time, RFC 3339 in UTC, written straight into the JSON body (no string of its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time(pub jiff::Timestamp);

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

pub(crate) fn ts(t: jiff::Timestamp) -> Time {
    Time(t)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PersonOut {
    pub id: Uuid,
    pub login: String,
    pub name: String,
    pub email: Option<String>,
    /// `en` or `id`.
    pub locale: String,
    /// IANA time zone, e.g. `Asia/Jakarta`.
    pub time_zone: String,
    pub active: bool,
    pub organization: Option<Ref>,
    /// Granted roles: requester, agent, manager, admin, approver, cab_member, portfolio_manager.
    pub roles: Vec<String>,
    /// Who approves what this person requests where an approval asks their manager.
    pub manager: Option<Ref>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    pub version: i64,
}

impl From<Person> for PersonOut {
    fn from(p: Person) -> Self {
        Self {
            id: p.id.as_uuid(),
            login: p.login,
            name: p.name,
            email: p.email,
            locale: p.locale.code().into(),
            time_zone: p.time_zone,
            active: p.active,
            organization: p.organization.map(|o| Ref {
                id: o.id.as_uuid(),
                display: o.name,
            }),
            roles: p.roles.iter().map(|r| r.code().to_owned()).collect(),
            manager: p.manager.map(|m| Ref {
                id: m.id.as_uuid(),
                display: m.name,
            }),
            created_at: ts(p.created_at),
            updated_at: ts(p.updated_at),
            version: p.version,
        }
    }
}

/// Fields of a person. On create `login` and `name` are required.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct PersonIn {
    pub login: Option<String>,
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
    pub active: Option<bool>,
    /// Organization id or exact name; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub organization: Option<Option<String>>,
    pub roles: Option<Vec<String>>,
    /// Initial password (create only), at least 10 characters.
    pub password: Option<String>,
    /// The person's manager: id or login; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub manager: Option<Option<String>>,
}

impl From<PersonIn> for sigap_core::people::PersonInput {
    fn from(p: PersonIn) -> Self {
        Self {
            login: p.login,
            name: p.name,
            email: p.email,
            locale: p.locale,
            time_zone: p.time_zone,
            active: p.active,
            organization: p.organization,
            roles: p.roles,
            password: p.password,
            manager: p.manager,
        }
    }
}

/// Your own settings.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ProfileIn {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    pub locale: Option<String>,
    pub time_zone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChangeIn {
    pub current_password: String,
    pub new_password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordSetIn {
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OrganizationOut {
    pub id: Uuid,
    pub name: String,
    /// provider, customer or supplier.
    #[schema(value_type = String)]
    pub kind: &'static str,
    pub description: String,
    pub active: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    pub version: i64,
}

impl From<Organization> for OrganizationOut {
    fn from(o: Organization) -> Self {
        Self {
            id: o.id.as_uuid(),
            name: o.name,
            kind: o.kind.code(),
            description: o.description,
            active: o.active,
            created_at: ts(o.created_at),
            updated_at: ts(o.updated_at),
            version: o.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OrganizationIn {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

impl From<OrganizationIn> for sigap_core::orgs::OrgInput {
    fn from(o: OrganizationIn) -> Self {
        Self {
            name: o.name,
            kind: o.kind,
            description: o.description,
            active: o.active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GroupOut {
    pub id: Uuid,
    pub name: String,
    /// service_desk, technical, application or it_operations.
    #[serde(rename = "type")]
    pub group_type: String,
    pub description: String,
    pub email: Option<String>,
    pub manager: Option<Ref>,
    pub active: bool,
    pub member_count: i64,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    pub version: i64,
}

impl From<Group> for GroupOut {
    fn from(g: Group) -> Self {
        Self {
            id: g.id.as_uuid(),
            name: g.name,
            group_type: g.group_type.code().into(),
            description: g.description,
            email: g.email,
            manager: g.manager.map(|m| Ref {
                id: m.id.as_uuid(),
                display: m.name,
            }),
            active: g.active,
            member_count: g.member_count,
            created_at: ts(g.created_at),
            updated_at: ts(g.updated_at),
            version: g.version,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct GroupIn {
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub group_type: Option<String>,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    /// Person id or login; `null` for none.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub manager: Option<Option<String>>,
    pub active: Option<bool>,
}

impl From<GroupIn> for sigap_core::groups::GroupInput {
    fn from(g: GroupIn) -> Self {
        Self {
            name: g.name,
            group_type: g.group_type,
            description: g.description,
            email: g.email,
            manager: g.manager,
            active: g.active,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MemberOut {
    pub id: Uuid,
    pub login: String,
    pub display: String,
}

impl From<PersonRef> for MemberOut {
    fn from(p: PersonRef) -> Self {
        Self {
            id: p.id.as_uuid(),
            login: p.login,
            display: p.name,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberIn {
    /// Person id or login.
    pub person: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenOut {
    pub id: Uuid,
    pub name: String,
    /// read or read_write.
    pub scope: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Time>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<Time>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<Time>,
    /// The token itself: present only in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
}

impl From<ApiToken> for TokenOut {
    fn from(t: ApiToken) -> Self {
        Self {
            id: t.id.as_uuid(),
            name: t.name,
            scope: t.scope.code().into(),
            created_at: ts(t.created_at),
            expires_at: t.expires_at.map(ts),
            last_used_at: t.last_used_at.map(ts),
            revoked_at: t.revoked_at.map(ts),
            token: None,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenIn {
    pub name: String,
    /// read or read_write (default).
    pub scope: Option<String>,
    /// RFC 3339 time; no expiry when absent.
    pub expires_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditOut {
    pub seq: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: Time,
    pub actor: String,
    pub actor_id: Option<Uuid>,
    pub request_id: String,
    /// create, update or delete.
    pub action: String,
    /// `{ field: [before, after] }`.
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

impl From<AuditRow> for AuditOut {
    fn from(a: AuditRow) -> Self {
        Self {
            seq: a.seq,
            at: ts(a.at),
            actor: a.actor,
            actor_id: a.actor_id.map(|p| p.as_uuid()),
            request_id: a.request_id,
            action: a.action,
            changes: a.changes,
        }
    }
}
