//! Organizations: the provider, customers and suppliers.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::listing::{ListParams, Listed, PageRequest, parse_bool};
use crate::principal::Ctx;
use serde_json::{Map, Value, json};
use sigap_domain::{OrgKind, Role, parse_line, parse_text};
use sigap_store::orgs::{self as repo, OrgFields, OrgFilter, OrgSort, Organization};

#[derive(Debug, Clone, Default)]
pub struct OrgInput {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub description: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct OrgQuery {
    pub kind: Option<String>,
    pub active: Option<String>,
    pub q: Option<String>,
}

pub const SORT_FIELDS: &[(&str, OrgSort)] = &[
    ("name", OrgSort::Name),
    ("kind", OrgSort::Kind),
    ("created_at", OrgSort::CreatedAt),
];

pub fn audit_map(o: &Organization) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(o.name));
    m.insert("kind".into(), json!(o.kind.code()));
    m.insert("description".into(), json!(o.description));
    m.insert("active".into(), json!(o.active));
    m
}

fn parse(input: &OrgInput, mut f: OrgFields) -> AppResult<OrgFields> {
    let mut errs = Errors::new();
    if let Some(name) = &input.name {
        if let Some(n) = errs.take("name", parse_line(name, 200)) {
            f.name = n;
        }
    }
    if let Some(kind) = &input.kind {
        if let Some(k) = errs.take("kind", OrgKind::parse(kind)) {
            f.kind = k;
        }
    }
    if let Some(d) = &input.description {
        if let Some(d) = errs.take("description", parse_text(d, 4000)) {
            f.description = d;
        }
    }
    if let Some(a) = input.active {
        f.active = a;
    }
    errs.finish()?;
    Ok(f)
}

fn fields_of(o: &Organization) -> OrgFields {
    OrgFields {
        name: o.name.clone(),
        kind: o.kind,
        description: o.description.clone(),
        active: o.active,
    }
}

pub async fn create(core: &Core, ctx: &Ctx, input: OrgInput) -> AppResult<Organization> {
    ctx.principal.require(Role::Admin)?;
    let mut errs = Errors::new();
    if input.name.is_none() {
        errs.push(FieldError::new("name", "required", "is required"));
    }
    if input.kind.is_none() {
        errs.push(FieldError::new("kind", "required", "is required"));
    }
    errs.finish()?;
    let fields = parse(
        &input,
        OrgFields {
            name: String::new(),
            kind: OrgKind::Customer,
            description: String::new(),
            active: true,
        },
    )?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let o = repo::insert(tx, sigap_domain::OrgId::new(), &fields, now).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "organization",
                &o.id.to_string(),
                "create",
                None,
                Some(&audit_map(&o)),
            )
            .await?;
            Ok::<_, AppError>(o)
        })
        .await
}

/// Resolves an organization given by id or exact name.
pub(crate) async fn resolve(
    tx: &mut sigap_store::Tx<'_>,
    key: &str,
) -> sigap_store::StoreResult<Option<Organization>> {
    if let Some(id) = sigap_domain::OrgId::parse(key.trim()) {
        return match repo::get(tx, id).await {
            Ok(o) => Ok(Some(o)),
            Err(sigap_store::StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        };
    }
    repo::find_by_name(tx, key).await
}

/// Reads an organization by id or name, if visible.
pub async fn get(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Organization> {
    let key = key.to_owned();
    let org = core
        .store
        .read(async move |tx| resolve(tx, &key).await?.ok_or(AppError::NotFound))
        .await?;
    if ctx.principal.sees_org(Some(org.id)) {
        Ok(org)
    } else {
        Err(AppError::NotFound)
    }
}

pub async fn update(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: OrgInput,
    if_match: Option<i64>,
) -> AppResult<Organization> {
    ctx.principal.require(Role::Admin)?;
    let current = get(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            let fields = parse(&input, fields_of(&before))?;
            let after = crate::written(
                repo::update(tx, before.id, &fields, before.version, now).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "organization",
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

/// Deletes an organization that nobody belongs to.
pub async fn delete(core: &Core, ctx: &Ctx, key: &str, if_match: Option<i64>) -> AppResult<()> {
    ctx.principal.require(Role::Admin)?;
    let current = get(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            crate::written(repo::delete(tx, before.id, before.version).await, if_match)?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "organization",
                &before.id.to_string(),
                "delete",
                Some(&audit_map(&before)),
                None,
            )
            .await?;
            Ok(())
        })
        .await
}

pub async fn list(
    core: &Core,
    ctx: &Ctx,
    query: OrgQuery,
    params: &ListParams,
) -> AppResult<Listed<Organization>> {
    let page = PageRequest::parse(params, SORT_FIELDS, "name")?;
    let kind = match query.kind.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => Some(
            OrgKind::parse(k)
                .map_err(|e| AppError::Validation(vec![FieldError::from_invalid("kind", e)]))?,
        ),
        None => None,
    };
    let filter = OrgFilter {
        kind,
        active: parse_bool("active", query.active.as_deref())?,
        q: query.q,
        scope: ctx.principal.scope(),
    };
    let p2 = page.clone();
    let result = core
        .store
        .read(async move |tx| {
            repo::list(tx, &filter, &p2.sort, p2.after.as_deref(), p2.limit).await
        })
        .await?;
    Ok(page.finish(result, |o| o))
}
