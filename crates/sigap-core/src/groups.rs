//! Support groups: the service desk, technical, application and IT operations teams.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::listing::{ListParams, Listed, PageRequest, parse_bool};
use crate::principal::Ctx;
use serde_json::{Map, Value, json};
use sigap_domain::{Email, GroupId, GroupType, Role, parse_line, parse_text};
use sigap_store::groups::{self as repo, Group, GroupFields, GroupFilter, GroupSort, PersonRef};
use sigap_store::{StoreError, StoreResult, Tx};

#[derive(Debug, Clone, Default)]
pub struct GroupInput {
    pub name: Option<String>,
    pub group_type: Option<String>,
    pub description: Option<String>,
    pub email: Option<Option<String>>,
    pub manager: Option<Option<String>>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct GroupQuery {
    pub group_type: Option<String>,
    pub active: Option<String>,
    pub member: Option<String>,
    pub q: Option<String>,
}

pub const SORT_FIELDS: &[(&str, GroupSort)] = &[
    ("name", GroupSort::Name),
    ("type", GroupSort::Type),
    ("created_at", GroupSort::CreatedAt),
];

pub fn audit_map(g: &Group) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(g.name));
    m.insert("type".into(), json!(g.group_type.code()));
    m.insert("description".into(), json!(g.description));
    m.insert("email".into(), json!(g.email));
    m.insert(
        "manager".into(),
        json!(g.manager.as_ref().map(|p| p.login.clone())),
    );
    m.insert("active".into(), json!(g.active));
    m
}

/// Resolves a group given by id or exact name.
pub(crate) async fn resolve(tx: &mut Tx<'_>, key: &str) -> StoreResult<Group> {
    if let Some(id) = GroupId::parse(key.trim()) {
        return repo::get(tx, id).await;
    }
    let page = repo::list(
        tx,
        &GroupFilter {
            q: Some(key.trim().to_owned()),
            ..GroupFilter::default()
        },
        &[(GroupSort::Name, false)],
        None,
        50,
    )
    .await?;
    page.items
        .into_iter()
        .find(|g| g.name.to_lowercase() == key.trim().to_lowercase())
        .ok_or(StoreError::NotFound)
}

fn parse(
    input: &GroupInput,
    mut f: GroupFields,
) -> AppResult<(GroupFields, Option<Option<String>>)> {
    let mut errs = Errors::new();
    if let Some(name) = &input.name {
        if let Some(n) = errs.take("name", parse_line(name, 200)) {
            f.name = n;
        }
    }
    if let Some(t) = &input.group_type {
        if let Some(t) = errs.take("type", GroupType::parse(t)) {
            f.group_type = t;
        }
    }
    if let Some(d) = &input.description {
        if let Some(d) = errs.take("description", parse_text(d, 4000)) {
            f.description = d;
        }
    }
    if let Some(email) = &input.email {
        f.email = match email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
            None => None,
            Some(e) => errs
                .take("email", Email::parse(e))
                .map(|e| e.as_str().to_owned()),
        };
    }
    if let Some(a) = input.active {
        f.active = a;
    }
    errs.finish()?;
    Ok((f, input.manager.clone()))
}

fn fields_of(g: &Group) -> GroupFields {
    GroupFields {
        name: g.name.clone(),
        group_type: g.group_type,
        description: g.description.clone(),
        email: g.email.clone(),
        manager_id: g.manager.as_ref().map(|m| m.id),
        active: g.active,
    }
}

async fn apply_manager(
    tx: &mut Tx<'_>,
    f: &mut GroupFields,
    manager: &Option<Option<String>>,
) -> AppResult<()> {
    match manager {
        Some(Some(key)) if !key.trim().is_empty() => match crate::people::resolve(tx, key).await {
            Ok(p) => f.manager_id = Some(p.id),
            Err(StoreError::NotFound) => {
                return Err(AppError::field("manager", "not_found", "no such person"));
            }
            Err(e) => return Err(e.into()),
        },
        Some(_) => f.manager_id = None,
        None => {}
    }
    Ok(())
}

pub async fn create(core: &Core, ctx: &Ctx, input: GroupInput) -> AppResult<Group> {
    ctx.principal.require(Role::Admin)?;
    let mut errs = Errors::new();
    if input.name.is_none() {
        errs.push(FieldError::new("name", "required", "is required"));
    }
    if input.group_type.is_none() {
        errs.push(FieldError::new("type", "required", "is required"));
    }
    errs.finish()?;
    let (fields, manager) = parse(
        &input,
        GroupFields {
            name: String::new(),
            group_type: GroupType::Technical,
            description: String::new(),
            email: None,
            manager_id: None,
            active: true,
        },
    )?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let mut fields = fields.clone();
            apply_manager(tx, &mut fields, &manager).await?;
            let g = repo::insert(tx, GroupId::new(), &fields, now).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "group",
                &g.id.to_string(),
                "create",
                None,
                Some(&audit_map(&g)),
            )
            .await?;
            Ok(g)
        })
        .await
}

/// Reads a group (agents and above).
pub async fn get(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Group> {
    ctx.principal.require(Role::Agent)?;
    let key = key.to_owned();
    Ok(core
        .store
        .read(async move |tx| resolve(tx, &key).await)
        .await?)
}

pub async fn members(core: &Core, ctx: &Ctx, key: &str) -> AppResult<(Group, Vec<PersonRef>)> {
    let g = get(core, ctx, key).await?;
    let id = g.id;
    let members = core
        .store
        .read(async move |tx| repo::members(tx, id).await)
        .await?;
    Ok((g, members))
}

pub async fn update(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: GroupInput,
    if_match: Option<i64>,
) -> AppResult<Group> {
    ctx.principal.require(Role::Admin)?;
    let current = get(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            let (mut fields, manager) = parse(&input, fields_of(&before))?;
            apply_manager(tx, &mut fields, &manager).await?;
            let after = crate::written(
                repo::update(tx, before.id, &fields, before.version, now).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "group",
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
                "group",
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

/// Whether the caller may change this group's members: administrators, and the group's manager.
fn may_manage(ctx: &Ctx, g: &Group) -> bool {
    ctx.principal.has(Role::Admin)
        || (ctx.principal.has(Role::Manager)
            && g.manager
                .as_ref()
                .is_some_and(|m| Some(m.id) == ctx.principal.person_id))
}

/// Adds (or with `add = false` removes) a member.
pub async fn set_member(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    person: &str,
    add: bool,
) -> AppResult<Vec<PersonRef>> {
    let g = get(core, ctx, key).await?;
    if !may_manage(ctx, &g) {
        return Err(AppError::Forbidden);
    }
    let (actor, now, person, ctx2) = (Actor::of(ctx), core.now(), person.to_owned(), ctx.clone());
    core.store
        .write(async move |tx| {
            let p = match crate::people::resolve(tx, &person).await {
                Ok(p)
                    if ctx2
                        .principal
                        .sees_org(p.organization.as_ref().map(|o| o.id)) =>
                {
                    p
                }
                Ok(_) | Err(StoreError::NotFound) => {
                    return Err(AppError::field("person", "not_found", "no such person"));
                }
                Err(e) => return Err(e.into()),
            };
            let changed = if add {
                repo::add_member(tx, g.id, p.id, now).await?
            } else {
                repo::remove_member(tx, g.id, p.id).await?
            };
            if changed {
                let change = if add {
                    json!([null, p.login])
                } else {
                    json!([p.login, null])
                };
                audit::record(
                    tx,
                    &actor,
                    now,
                    "group",
                    &g.id.to_string(),
                    "update",
                    json!({ "member": change }),
                )
                .await?;
            } else if !add {
                return Err(AppError::NotFound);
            }
            Ok(repo::members(tx, g.id).await?)
        })
        .await
}

pub async fn list(
    core: &Core,
    ctx: &Ctx,
    query: GroupQuery,
    params: &ListParams,
) -> AppResult<Listed<Group>> {
    ctx.principal.require(Role::Agent)?;
    let page = PageRequest::parse(params, SORT_FIELDS, "name")?;
    let group_type = match query.group_type.as_deref().filter(|k| !k.is_empty()) {
        Some(k) => Some(
            GroupType::parse(k)
                .map_err(|e| AppError::Validation(vec![FieldError::from_invalid("type", e)]))?,
        ),
        None => None,
    };
    let active = parse_bool("active", query.active.as_deref())?;
    let (member, q) = (query.member.clone(), query.q.clone());
    let p2 = page.clone();
    let result = core
        .store
        .read(async move |tx| {
            let mut filter = GroupFilter {
                group_type,
                active,
                q,
                ..GroupFilter::default()
            };
            if let Some(m) = member.as_deref().filter(|m| !m.is_empty()) {
                match crate::people::resolve(tx, m).await {
                    Ok(p) => filter.member = Some(p.id),
                    Err(StoreError::NotFound) => {
                        return Err(AppError::field("member", "not_found", "no such person"));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            Ok(repo::list(tx, &filter, &p2.sort, p2.after.as_deref(), p2.limit).await?)
        })
        .await?;
    Ok(page.finish(result, |g| g))
}

/// The groups the caller belongs to.
pub async fn mine(core: &Core, ctx: &Ctx) -> AppResult<Vec<Group>> {
    let Some(me) = ctx.principal.person_id else {
        return Ok(Vec::new());
    };
    Ok(core
        .store
        .read(async move |tx| repo::of_person(tx, me).await)
        .await?)
}
