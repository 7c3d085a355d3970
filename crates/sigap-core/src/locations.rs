//! Locations: the sites, buildings and offices where callers and things are. Administrators
//! keep them; everyone may read them (people of a customer or supplier see their own
//! organization's and those that belong to nobody). Incidents name the location they happen
//! at.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::listing::{ListParams, Listed, PageRequest, parse_bool};
use crate::principal::Ctx;
use crate::refs::{self, RefChange};
use serde_json::{Map, Value, json};
use sigap_domain::{LocationId, Role, TimeZoneName, parse_line};
use sigap_store::locations::{
    self as repo, Location, LocationFields, LocationFilter, LocationSort,
};
use sigap_store::{StoreError, StoreResult, Tx};

#[derive(Debug, Clone, Default)]
pub struct LocationInput {
    pub name: Option<String>,
    /// An IANA time zone; `null` or empty clears it.
    pub time_zone: Option<Option<String>>,
    /// Organization id or name.
    pub organization: RefChange,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct LocationQuery {
    pub active: Option<String>,
    /// Organization id or name.
    pub organization: Option<String>,
    pub q: Option<String>,
}

pub const SORT_FIELDS: &[(&str, LocationSort)] = &[
    ("name", LocationSort::Name),
    ("created_at", LocationSort::CreatedAt),
    ("updated_at", LocationSort::UpdatedAt),
];

pub fn audit_map(l: &Location) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(l.name));
    m.insert("time_zone".into(), json!(l.time_zone));
    m.insert(
        "organization".into(),
        json!(l.organization.as_ref().map(|o| o.name.clone())),
    );
    m.insert("active".into(), json!(l.active));
    m
}

/// Checks the plain fields; the organization is resolved in the transaction.
fn parse(input: &LocationInput, mut f: LocationFields) -> AppResult<LocationFields> {
    let mut errs = Errors::new();
    if let Some(name) = &input.name {
        if let Some(n) = errs.take("name", parse_line(name, 200)) {
            f.name = n;
        }
    }
    if let Some(tz) = &input.time_zone {
        f.time_zone = match tz.as_deref().map(str::trim).filter(|z| !z.is_empty()) {
            None => None,
            Some(z) => errs
                .take("time_zone", TimeZoneName::parse(z))
                .map(|z| z.as_str().to_owned()),
        };
    }
    if let Some(a) = input.active {
        f.active = a;
    }
    errs.finish()?;
    Ok(f)
}

/// A location by id or name, in any case.
pub(crate) async fn resolve(tx: &mut Tx<'_>, key: &str) -> StoreResult<Option<Location>> {
    if let Some(id) = LocationId::parse(key.trim()) {
        return match repo::get(tx, id).await {
            Ok(l) => Ok(Some(l)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        };
    }
    repo::find_by_name(tx, key).await
}

fn visible(ctx: &Ctx, l: &Location) -> bool {
    l.organization.is_none()
        || ctx
            .principal
            .sees_org(l.organization.as_ref().map(|o| o.id))
}

pub async fn create(core: &Core, ctx: &Ctx, input: LocationInput) -> AppResult<Location> {
    ctx.principal.require(Role::Admin)?;
    if input.name.is_none() {
        return Err(AppError::Validation(vec![FieldError::new(
            "name",
            "required",
            "is required",
        )]));
    }
    let fields = parse(
        &input,
        LocationFields {
            name: String::new(),
            time_zone: None,
            organization_id: None,
            active: true,
        },
    )?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let fields = LocationFields {
                organization_id: refs::organization(tx, "organization", &input.organization, None)
                    .await?,
                ..fields.clone()
            };
            let l = repo::insert(tx, LocationId::new(), &fields, now).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "location",
                &l.id.to_string(),
                "create",
                None,
                Some(&audit_map(&l)),
            )
            .await?;
            Ok::<_, AppError>(l)
        })
        .await
}

/// A location by id or name, if the reader may see it.
pub async fn get(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Location> {
    let key = key.to_owned();
    let l = core
        .store
        .read(async move |tx| resolve(tx, &key).await?.ok_or(AppError::NotFound))
        .await?;
    if visible(ctx, &l) {
        Ok(l)
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn update(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: LocationInput,
    if_match: Option<i64>,
) -> AppResult<Location> {
    ctx.principal.require(Role::Admin)?;
    let current = get(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            let mut fields = parse(&input, before.fields())?;
            fields.organization_id = refs::organization(
                tx,
                "organization",
                &input.organization,
                fields.organization_id,
            )
            .await?;
            if fields == before.fields() {
                return Ok(before);
            }
            let after = crate::written(
                repo::update(tx, before.id, &fields, before.version, now).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "location",
                &after.id.to_string(),
                "update",
                Some(&audit_map(&before)),
                Some(&audit_map(&after)),
            )
            .await?;
            Ok(after)
        })
        .await
}

pub async fn list(
    core: &Core,
    ctx: &Ctx,
    query: LocationQuery,
    params: &ListParams,
) -> AppResult<Listed<Location>> {
    let page = PageRequest::parse(params, SORT_FIELDS, "name")?;
    let active = parse_bool("active", query.active.as_deref())?;
    let scope = ctx.principal.scope();
    let p2 = page.clone();
    let result = core
        .store
        .read(async move |tx| {
            let organization = match query.organization.filter(|o| !o.trim().is_empty()) {
                None => None,
                Some(o) => Some(
                    crate::orgs::resolve(tx, &o)
                        .await?
                        .ok_or_else(|| {
                            AppError::field("organization", "not_found", "no such organization")
                        })?
                        .id,
                ),
            };
            let filter = LocationFilter {
                active,
                organization,
                scope,
                q: query.q,
            };
            Ok::<_, AppError>(
                repo::list(tx, &filter, &p2.sort, p2.after.as_deref(), p2.limit).await?,
            )
        })
        .await?;
    Ok(page.finish(result, |l| l))
}
