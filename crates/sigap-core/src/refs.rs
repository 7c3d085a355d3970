//! Resolving references given by clients (an id, a login or a name) inside a transaction,
//! with field errors that name the field.

use crate::error::{AppError, AppResult};
use sigap_domain::{GroupId, LocationId, OrgId, PersonId, ServiceId};
use sigap_store::{StoreError, Tx};

/// A change to an optional reference: absent leaves it, `null` or empty clears it, a key
/// sets it.
pub type RefChange = Option<Option<String>>;

fn key_of(change: &RefChange) -> Option<Option<&str>> {
    change
        .as_ref()
        .map(|v| v.as_deref().map(str::trim).filter(|k| !k.is_empty()))
}

pub(crate) async fn person(
    tx: &mut Tx<'_>,
    field: &str,
    change: &RefChange,
    current: Option<PersonId>,
) -> AppResult<Option<PersonId>> {
    match key_of(change) {
        None => Ok(current),
        Some(None) => Ok(None),
        Some(Some(key)) => match crate::people::resolve(tx, key).await {
            Ok(p) => Ok(Some(p.id)),
            Err(StoreError::NotFound) => Err(AppError::field(field, "not_found", "no such person")),
            Err(e) => Err(e.into()),
        },
    }
}

pub(crate) async fn group(
    tx: &mut Tx<'_>,
    field: &str,
    change: &RefChange,
    current: Option<GroupId>,
) -> AppResult<Option<GroupId>> {
    match key_of(change) {
        None => Ok(current),
        Some(None) => Ok(None),
        Some(Some(key)) => match crate::groups::resolve(tx, key).await {
            Ok(g) => Ok(Some(g.id)),
            Err(StoreError::NotFound) => Err(AppError::field(field, "not_found", "no such group")),
            Err(e) => Err(e.into()),
        },
    }
}

/// One organization reference (id or name): unchanged, cleared or set.
pub(crate) async fn organization(
    tx: &mut Tx<'_>,
    field: &str,
    change: &RefChange,
    current: Option<OrgId>,
) -> AppResult<Option<OrgId>> {
    match key_of(change) {
        None => Ok(current),
        Some(None) => Ok(None),
        Some(Some(key)) => match crate::orgs::resolve(tx, key).await? {
            Some(o) => Ok(Some(o.id)),
            None => Err(AppError::field(field, "not_found", "no such organization")),
        },
    }
}

/// One location reference (id or name): unchanged, cleared or set. A location that is no
/// longer active stays where it is set, but is not set anew; someone of an organization
/// (`scope`) sees only its own locations and those of nobody.
pub(crate) async fn location(
    tx: &mut Tx<'_>,
    field: &str,
    change: &RefChange,
    current: Option<LocationId>,
    scope: Option<OrgId>,
) -> AppResult<Option<LocationId>> {
    match key_of(change) {
        None => Ok(current),
        Some(None) => Ok(None),
        Some(Some(key)) => match crate::locations::resolve(tx, key).await?.filter(|l| {
            scope.is_none()
                || l.organization.is_none()
                || l.organization.as_ref().map(|o| o.id) == scope
        }) {
            Some(l) if l.active || current == Some(l.id) => Ok(Some(l.id)),
            Some(_) => Err(AppError::field(
                field,
                "inactive",
                "the location is no longer in use",
            )),
            None => Err(AppError::field(field, "not_found", "no such location")),
        },
    }
}

/// Resolves a list of organizations; every unknown one is reported.
pub(crate) async fn orgs(tx: &mut Tx<'_>, field: &str, keys: &[String]) -> AppResult<Vec<OrgId>> {
    let mut out = Vec::new();
    for key in keys {
        match crate::orgs::resolve(tx, key).await? {
            Some(o) => {
                if !out.contains(&o.id) {
                    out.push(o.id);
                }
            }
            None => {
                return Err(AppError::field(
                    field,
                    "not_found",
                    format!("no such organization: {key}"),
                ));
            }
        }
    }
    Ok(out)
}

/// Resolves a list of services; every unknown one is reported.
pub(crate) async fn services(
    tx: &mut Tx<'_>,
    field: &str,
    keys: &[String],
) -> AppResult<Vec<ServiceId>> {
    let mut out = Vec::new();
    for key in keys {
        match crate::portfolio::resolve(tx, key).await? {
            Some(s) => {
                if !out.contains(&s.id) {
                    out.push(s.id);
                }
            }
            None => {
                return Err(AppError::field(
                    field,
                    "not_found",
                    format!("no such service: {key}"),
                ));
            }
        }
    }
    Ok(out)
}

/// Parses an optional ISO date (`YYYY-MM-DD`); empty clears it.
pub(crate) fn date(
    errs: &mut crate::Errors,
    field: &str,
    change: &RefChange,
    current: Option<jiff::civil::Date>,
) -> Option<jiff::civil::Date> {
    match key_of(change) {
        None => current,
        Some(None) => None,
        Some(Some(text)) => match text.parse::<jiff::civil::Date>() {
            Ok(d) => Some(d),
            Err(_) => {
                errs.push(crate::FieldError::new(
                    field,
                    "invalid_date",
                    "must be a date (YYYY-MM-DD)",
                ));
                current
            }
        },
    }
}

/// Checks an optional amount of money in whole units: not negative.
pub(crate) fn amount(
    errs: &mut crate::Errors,
    field: &str,
    change: Option<Option<i64>>,
    current: Option<i64>,
) -> Option<i64> {
    match change {
        None => current,
        Some(None) => None,
        Some(Some(v)) if v >= 0 => Some(v),
        Some(Some(_)) => {
            errs.push(crate::FieldError::new(
                field,
                "out_of_range",
                "must not be negative",
            ));
            current
        }
    }
}
