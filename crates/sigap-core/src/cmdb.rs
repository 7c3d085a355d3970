//! Configuration management: classes with attribute definitions, configuration items,
//! typed relationships, and impact analysis (what depends on a CI, what a service depends
//! on), each walk breadth-first and safe against cycles.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::listing::{ListParams, Listed, PageRequest};
use crate::principal::Ctx;
use crate::refs::{self, RefChange};
use serde_json::{Map, Value, json};
use sigap_domain::cmdb::{
    AttrDef, CiStatus, Direction, RelKind, Step, Walk, builtin_classes, check_attributes,
    parse_code,
};
use sigap_domain::{CiClassId, CiId, OfferingId, OrgId, RelId, Role, ServiceId, parse_line};
use sigap_store::cmdb::{
    self as repo, Ci, CiClass, CiFields, CiFilter, CiRef, CiSort, Relationship,
};
use sigap_store::{StoreError, Tx};
use std::collections::{BTreeMap, HashMap};

/// The most CIs one impact analysis reaches before it stops and says so.
pub const WALK_LIMIT: usize = 20_000;

fn require_reader(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require_provider_agent()
}

// ----- classes -----

#[derive(Debug, Clone, Default)]
pub struct ClassInput {
    pub code: Option<String>,
    pub name: Option<String>,
    pub attributes: Option<Vec<AttrDef>>,
}

/// The attribute definitions of a stored class.
pub fn attr_defs(class: &CiClass) -> Vec<AttrDef> {
    serde_json::from_value(class.attributes.clone()).unwrap_or_default()
}

fn check_defs(defs: &[AttrDef]) -> AppResult<Value> {
    let mut errs = Errors::new();
    for (i, d) in defs.iter().enumerate() {
        if let Err(e) = d.check() {
            errs.push(FieldError::from_invalid(format!("attributes[{i}]"), e));
        }
        if defs[..i].iter().any(|o| o.code == d.code) {
            errs.push(FieldError::new(
                format!("attributes[{i}].code"),
                "duplicate",
                format!("attribute {} is defined twice", d.code),
            ));
        }
    }
    if defs.len() > 100 {
        errs.push(FieldError::new(
            "attributes",
            "too_many",
            "at most 100 attributes",
        ));
    }
    errs.finish()?;
    serde_json::to_value(defs).map_err(|e| AppError::Internal(e.to_string()))
}

fn class_audit_map(c: &CiClass) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("code".into(), json!(c.code));
    m.insert("name".into(), json!(c.name));
    m.insert("attributes".into(), c.attributes.clone());
    m
}

/// Creates the built-in classes that are missing (at every start; cheap when none are).
pub async fn ensure_builtin_classes(core: &Core) -> AppResult<usize> {
    let now = core.now();
    let actor = Actor::of(&Ctx::system("bootstrap"));
    core.store
        .write(async move |tx| {
            let mut n = 0;
            for b in builtin_classes() {
                if repo::class_by_code(tx, b.code).await?.is_some() {
                    continue;
                }
                let attrs = serde_json::to_value(&b.attributes)
                    .map_err(|e| AppError::Internal(e.to_string()))?;
                let c = repo::insert_class(tx, CiClassId::new(), b.code, b.name, true, &attrs, now)
                    .await?;
                audit::record_diff(
                    tx,
                    &actor,
                    now,
                    "ci_class",
                    &c.id.to_string(),
                    "create",
                    None,
                    Some(&class_audit_map(&c)),
                )
                .await?;
                n += 1;
            }
            Ok::<_, AppError>(n)
        })
        .await
}

pub async fn classes(core: &Core, ctx: &Ctx) -> AppResult<Vec<CiClass>> {
    require_reader(ctx)?;
    Ok(core.store.read(async |tx| repo::classes(tx).await).await?)
}

async fn resolve_class(tx: &mut Tx<'_>, key: &str) -> sigap_store::StoreResult<Option<CiClass>> {
    if let Some(id) = CiClassId::parse(key.trim()) {
        return match repo::get_class(tx, id).await {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        };
    }
    repo::class_by_code(tx, key).await
}

pub async fn get_class(core: &Core, ctx: &Ctx, key: &str) -> AppResult<CiClass> {
    require_reader(ctx)?;
    let key = key.to_owned();
    core.store
        .read(async move |tx| resolve_class(tx, &key).await?.ok_or(AppError::NotFound))
        .await
}

/// Adds a class of the administrator's own.
pub async fn create_class(core: &Core, ctx: &Ctx, input: ClassInput) -> AppResult<CiClass> {
    ctx.principal.require(Role::Admin)?;
    let mut errs = Errors::new();
    let code = match &input.code {
        Some(c) => errs.take("code", parse_code(c)),
        None => {
            errs.push(FieldError::new("code", "required", "is required"));
            None
        }
    };
    let name = match &input.name {
        Some(n) => errs.take("name", parse_line(n, 100)),
        None => {
            errs.push(FieldError::new("name", "required", "is required"));
            None
        }
    };
    errs.finish()?;
    let attrs = check_defs(input.attributes.as_deref().unwrap_or(&[]))?;
    let (Some(code), Some(name)) = (code, name) else {
        return Err(AppError::Internal("unparsed class".into()));
    };
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            if repo::class_by_code(tx, &code).await?.is_some() {
                return Err(AppError::Conflict {
                    code: "already_exists",
                    message: "a class with this code already exists".into(),
                    field: Some("code".into()),
                });
            }
            let c =
                repo::insert_class(tx, CiClassId::new(), &code, &name, false, &attrs, now).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "ci_class",
                &c.id.to_string(),
                "create",
                None,
                Some(&class_audit_map(&c)),
            )
            .await?;
            Ok(c)
        })
        .await
}

/// Renames a class or changes its attribute definitions. CIs keep the values they have;
/// the new definitions apply when a CI is next changed.
pub async fn update_class(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: ClassInput,
    if_match: Option<i64>,
) -> AppResult<CiClass> {
    ctx.principal.require(Role::Admin)?;
    let current = get_class(core, ctx, key).await?;
    if input
        .code
        .as_deref()
        .is_some_and(|c| c.trim() != current.code)
    {
        return Err(AppError::field(
            "code",
            "read_only",
            "a class's code cannot change",
        ));
    }
    let name = match &input.name {
        Some(n) => parse_line(n, 100)
            .map_err(|e| AppError::Validation(vec![FieldError::from_invalid("name", e)]))?,
        None => current.name.clone(),
    };
    let attrs = match &input.attributes {
        Some(defs) => check_defs(defs)?,
        None => current.attributes.clone(),
    };
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get_class(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            let after = crate::written(
                repo::update_class(tx, before.id, &name, &attrs, before.version, now).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "ci_class",
                &after.id.to_string(),
                "update",
                Some(&class_audit_map(&before)),
                Some(&class_audit_map(&after)),
            )
            .await?;
            Ok(after)
        })
        .await
}

/// Deletes a class of the administrator's own that no CI belongs to.
pub async fn delete_class(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    if_match: Option<i64>,
) -> AppResult<()> {
    ctx.principal.require(Role::Admin)?;
    let current = get_class(core, ctx, key).await?;
    if current.builtin {
        return Err(AppError::Conflict {
            code: "builtin",
            message: "built-in classes cannot be deleted".into(),
            field: None,
        });
    }
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get_class(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            if repo::class_usage(tx, before.id).await? > 0 {
                return Err(AppError::Conflict {
                    code: "in_use",
                    message: "configuration items of this class exist".into(),
                    field: None,
                });
            }
            crate::written(
                repo::delete_class(tx, before.id, before.version).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "ci_class",
                &before.id.to_string(),
                "delete",
                Some(&class_audit_map(&before)),
                None,
            )
            .await?;
            Ok(())
        })
        .await
}

// ----- configuration items -----

#[derive(Debug, Clone, Default)]
pub struct CiInput {
    /// Class code or id.
    pub class: Option<String>,
    pub name: Option<String>,
    pub status: Option<String>,
    pub owner_group: RefChange,
    pub location: Option<String>,
    pub serial: Option<String>,
    /// Attribute values; `null` removes one. Replaces the whole set when given.
    pub attributes: Option<Map<String, Value>>,
}

#[derive(Debug, Clone, Default)]
pub struct CiQuery {
    /// Class codes or ids, several separated by commas.
    pub class: Option<String>,
    pub status: Option<String>,
    pub owner_group: Option<String>,
    pub q: Option<String>,
}

pub const CI_SORT_FIELDS: &[(&str, CiSort)] = &[
    ("name", CiSort::Name),
    ("status", CiSort::Status),
    ("created_at", CiSort::CreatedAt),
    ("updated_at", CiSort::UpdatedAt),
];

pub fn ci_audit_map(c: &Ci) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("class".into(), json!(c.class_code));
    m.insert("name".into(), json!(c.name));
    m.insert("status".into(), json!(c.status.code()));
    m.insert(
        "owner_group".into(),
        json!(c.owner_group.as_ref().map(|g| g.name.clone())),
    );
    m.insert("location".into(), json!(c.location));
    m.insert("serial".into(), json!(c.serial));
    m.insert("attributes".into(), c.attributes.clone());
    m
}

fn optional_line(errs: &mut Errors, field: &str, text: &str, max: usize) -> Option<String> {
    let t = text.trim();
    if t.is_empty() {
        return Some(String::new());
    }
    errs.take(field, parse_line(t, max))
}

/// Parses a CI's plain fields and attributes against its class. The owner group is resolved
/// separately.
fn parse_ci(input: &CiInput, class: &CiClass, mut f: CiFields, errs: &mut Errors) -> CiFields {
    f.class_id = class.id;
    if let Some(n) = &input.name {
        if let Some(n) = errs.take("name", parse_line(n, 200)) {
            f.name = n;
        }
    }
    if let Some(s) = &input.status {
        if let Some(s) = errs.take("status", CiStatus::parse(s)) {
            f.status = s;
        }
    }
    if let Some(l) = &input.location {
        if let Some(l) = optional_line(errs, "location", l, 200) {
            f.location = l;
        }
    }
    if let Some(s) = &input.serial {
        if let Some(s) = optional_line(errs, "serial", s, 200) {
            f.serial = s;
        }
    }
    let given = match &input.attributes {
        Some(a) => a.clone(),
        None => f.attributes.as_object().cloned().unwrap_or_default(),
    };
    match check_attributes(&attr_defs(class), &given) {
        Ok(a) => f.attributes = Value::Object(a),
        Err(list) => {
            for (code, e) in list {
                errs.push(FieldError::from_invalid(format!("attributes.{code}"), e));
            }
        }
    }
    f
}

fn empty_fields(class: CiClassId) -> CiFields {
    CiFields {
        class_id: class,
        name: String::new(),
        status: CiStatus::Operational,
        owner_group_id: None,
        location: String::new(),
        serial: String::new(),
        attributes: Value::Object(Map::new()),
    }
}

fn duplicate_name() -> AppError {
    AppError::Conflict {
        code: "already_exists",
        message: "a configuration item of this class with this name already exists".into(),
        field: Some("name".into()),
    }
}

pub async fn create_ci(core: &Core, ctx: &Ctx, input: CiInput) -> AppResult<Ci> {
    require_reader(ctx)?;
    let mut errs = Errors::new();
    if input.class.is_none() {
        errs.push(FieldError::new("class", "required", "is required"));
    }
    if input.name.is_none() {
        errs.push(FieldError::new("name", "required", "is required"));
    }
    errs.finish()?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let class_key = input.class.clone().unwrap_or_default();
            let class = resolve_class(tx, &class_key)
                .await?
                .ok_or_else(|| AppError::field("class", "not_found", "no such class"))?;
            let mut errs = Errors::new();
            let mut f = parse_ci(&input, &class, empty_fields(class.id), &mut errs);
            errs.finish()?;
            f.owner_group_id = refs::group(tx, "owner_group", &input.owner_group, None).await?;
            if repo::find_ci(tx, class.id, &f.name).await?.is_some() {
                return Err(duplicate_name());
            }
            let c = repo::insert_ci(tx, CiId::new(), &f, now).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "ci",
                &c.id.to_string(),
                "create",
                None,
                Some(&ci_audit_map(&c)),
            )
            .await?;
            Ok(c)
        })
        .await
}

/// Reads a CI given by id or as `class/name` (names are unique within a class).
pub async fn get_ci(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Ci> {
    require_reader(ctx)?;
    let key = key.trim().to_owned();
    core.store
        .read(async move |tx| resolve_ci(tx, &key).await?.ok_or(AppError::NotFound))
        .await
}

/// Resolves a CI key: an id, or `class/name`.
pub(crate) async fn resolve_ci(tx: &mut Tx<'_>, key: &str) -> AppResult<Option<Ci>> {
    if let Some(id) = CiId::parse(key) {
        return match repo::get_ci(tx, id).await {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        };
    }
    let Some((class, name)) = key.split_once('/') else {
        return Ok(None);
    };
    match resolve_class(tx, class).await? {
        Some(c) => Ok(repo::find_ci(tx, c.id, name.trim()).await?),
        None => Ok(None),
    }
}

pub async fn update_ci(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: CiInput,
    if_match: Option<i64>,
) -> AppResult<Ci> {
    require_reader(ctx)?;
    let current = get_ci(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get_ci(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            let class = match &input.class {
                Some(k) => resolve_class(tx, k)
                    .await?
                    .ok_or_else(|| AppError::field("class", "not_found", "no such class"))?,
                None => repo::get_class(tx, before.class_id).await?,
            };
            let mut errs = Errors::new();
            let mut f = parse_ci(&input, &class, before.fields(), &mut errs);
            errs.finish()?;
            f.owner_group_id =
                refs::group(tx, "owner_group", &input.owner_group, f.owner_group_id).await?;
            if let Some(other) = repo::find_ci(tx, class.id, &f.name).await? {
                if other.id != before.id {
                    return Err(duplicate_name());
                }
            }
            let after = crate::written(
                repo::update_ci(tx, before.id, &f, before.version, now).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "ci",
                &after.id.to_string(),
                "update",
                Some(&ci_audit_map(&before)),
                Some(&ci_audit_map(&after)),
            )
            .await?;
            Ok(after)
        })
        .await
}

/// Deletes a CI with its relationships and links.
pub async fn delete_ci(core: &Core, ctx: &Ctx, key: &str, if_match: Option<i64>) -> AppResult<()> {
    require_reader(ctx)?;
    let current = get_ci(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get_ci(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            crate::written(
                repo::delete_ci(tx, before.id, before.version).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "ci",
                &before.id.to_string(),
                "delete",
                Some(&ci_audit_map(&before)),
                None,
            )
            .await?;
            Ok(())
        })
        .await
}

pub async fn list_cis(
    core: &Core,
    ctx: &Ctx,
    query: CiQuery,
    params: &ListParams,
) -> AppResult<Listed<Ci>> {
    require_reader(ctx)?;
    let page = PageRequest::parse(params, CI_SORT_FIELDS, "name")?;
    let status = crate::listing::parse_opt("status", query.status.as_deref(), CiStatus::parse)?;
    let (class_keys, group_key, q) = (query.class, query.owner_group, query.q);
    let p2 = page.clone();
    let result = core
        .store
        .read(async move |tx| {
            let mut filter = CiFilter {
                status,
                q,
                ..CiFilter::default()
            };
            for key in class_keys.iter().flat_map(|c| c.split(',')) {
                let key = key.trim();
                if key.is_empty() {
                    continue;
                }
                let class = resolve_class(tx, key).await?.ok_or_else(|| {
                    AppError::field("class", "not_found", format!("no such class: {key}"))
                })?;
                filter.classes.push(class.id);
            }
            if let Some(g) = group_key.filter(|g| !g.trim().is_empty()) {
                filter.owner_group = refs::group(tx, "owner_group", &Some(Some(g)), None).await?;
            }
            Ok::<_, AppError>(
                repo::list_cis(tx, &filter, &p2.sort, p2.after.as_deref(), p2.limit).await?,
            )
        })
        .await?;
    Ok(page.finish(result, |c| c))
}

// ----- relationships -----

#[derive(Debug, Clone, Default)]
pub struct RelInput {
    pub source: Option<String>,
    pub kind: Option<String>,
    pub target: Option<String>,
}

fn rel_audit_map(r: &Relationship) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("source".into(), json!(r.source.name));
    m.insert("type".into(), json!(r.kind.code()));
    m.insert("target".into(), json!(r.target.name));
    m
}

/// Adds a relationship; an identical one already there is returned as it is (`false`).
pub async fn create_rel(
    core: &Core,
    ctx: &Ctx,
    input: RelInput,
) -> AppResult<(Relationship, bool)> {
    require_reader(ctx)?;
    let mut errs = Errors::new();
    let keys = (input.source.clone(), input.target.clone());
    let (source, target) = core
        .store
        .read(async move |tx| {
            let mut out = Vec::new();
            for k in [&keys.0, &keys.1] {
                out.push(match k {
                    Some(k) => resolve_ci(tx, k.trim()).await?.map(|c| c.id),
                    None => None,
                });
            }
            Ok::<_, AppError>((out[0], out[1]))
        })
        .await?;
    for (field, given, found) in [
        ("source", &input.source, source),
        ("target", &input.target, target),
    ] {
        match (given, found) {
            (None, _) => errs.push(FieldError::new(field, "required", "is required")),
            (Some(_), None) => errs.push(FieldError::new(
                field,
                "not_found",
                "no such configuration item",
            )),
            _ => {}
        }
    }
    let kind = match &input.kind {
        None => {
            errs.push(FieldError::new("type", "required", "is required"));
            None
        }
        Some(k) => errs.take("type", RelKind::parse(k)),
    };
    if source.is_some() && source == target {
        errs.push(FieldError::new(
            "target",
            "same_item",
            "a configuration item cannot relate to itself",
        ));
    }
    errs.finish()?;
    let (Some(source), Some(target), Some(kind)) = (source, target, kind) else {
        return Err(AppError::Internal("unparsed relationship".into()));
    };
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            for (field, id) in [("source", source), ("target", target)] {
                match repo::get_ci(tx, id).await {
                    Ok(_) => {}
                    Err(StoreError::NotFound) => {
                        return Err(AppError::field(
                            field,
                            "not_found",
                            "no such configuration item",
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            add_rel(tx, &actor, now, source, kind, target).await
        })
        .await
}

async fn add_rel(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: jiff::Timestamp,
    source: CiId,
    kind: RelKind,
    target: CiId,
) -> AppResult<(Relationship, bool)> {
    match repo::insert_rel(tx, RelId::new(), source, kind, target, now).await? {
        Some(r) => {
            audit::record_diff(
                tx,
                actor,
                now,
                "ci_relationship",
                &r.id.to_string(),
                "create",
                None,
                Some(&rel_audit_map(&r)),
            )
            .await?;
            Ok((r, true))
        }
        None => {
            let r = repo::find_rel(tx, source, kind, target)
                .await?
                .ok_or(AppError::NotFound)?;
            Ok((r, false))
        }
    }
}

pub async fn get_rel(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Relationship> {
    require_reader(ctx)?;
    let id = RelId::parse(key.trim()).ok_or(AppError::NotFound)?;
    Ok(core
        .store
        .read(async move |tx| repo::get_rel(tx, id).await)
        .await?)
}

pub async fn delete_rel(core: &Core, ctx: &Ctx, key: &str) -> AppResult<()> {
    let r = get_rel(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            repo::delete_rel(tx, r.id).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "ci_relationship",
                &r.id.to_string(),
                "delete",
                Some(&rel_audit_map(&r)),
                None,
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await
}

/// A CI with its relationships and the services it delivers directly.
#[derive(Debug, Clone)]
pub struct CiDetail {
    pub ci: Ci,
    pub class: CiClass,
    pub relationships: Vec<Relationship>,
    pub services: Vec<(ServiceId, String)>,
}

pub async fn ci_detail(core: &Core, ctx: &Ctx, key: &str) -> AppResult<CiDetail> {
    let ci = get_ci(core, ctx, key).await?;
    core.store
        .read(async move |tx| {
            Ok::<_, AppError>(CiDetail {
                class: repo::get_class(tx, ci.class_id).await?,
                relationships: repo::rels_of(tx, ci.id).await?,
                services: repo::services_linked_to(tx, ci.id).await?,
                ci,
            })
        })
        .await
}

// ----- impact analysis -----

/// One step of a path, with both ends named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStep {
    pub from: CiRef,
    pub to: CiRef,
    pub kind: RelKind,
    /// True when the step went from the relationship's target to its source.
    pub reversed: bool,
}

/// A CI reached by a walk, with the step it was first reached by; following `via` back
/// gives a shortest path to the start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    pub ci: CiRef,
    pub depth: u32,
    /// The last step of a shortest path; `None` for a start.
    pub via: Option<PathStep>,
}

/// A service or offering reached through a CI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Affected<T> {
    pub id: T,
    pub name: String,
    pub active: bool,
    /// The CI that links it, or `None` when it is affected through its service.
    pub via_ci: Option<CiId>,
    /// For an offering: its service.
    pub service: Option<ServiceId>,
    pub depth: u32,
    /// A shortest path from the start to the CI that links it (or links its service).
    pub path: Vec<PathStep>,
}

/// A customer organization reached through a service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffectedCustomer {
    pub id: OrgId,
    pub name: String,
    pub via_services: Vec<ServiceId>,
}

/// What breaks when a CI breaks.
#[derive(Debug, Clone)]
pub struct Impact {
    pub ci: CiRef,
    pub cis: Vec<Reached>,
    pub services: Vec<Affected<ServiceId>>,
    pub offerings: Vec<Affected<OfferingId>>,
    pub customers: Vec<AffectedCustomer>,
    pub truncated: bool,
}

/// What a service relies on.
#[derive(Debug, Clone)]
pub struct Dependencies {
    pub service: ServiceId,
    /// The CIs linked to the service directly (depth 0) and everything they rely on.
    pub cis: Vec<Reached>,
    pub truncated: bool,
}

/// Runs a walk to its end, one database round per level and chunk.
async fn walk(tx: &mut Tx<'_>, w: &mut Walk<CiId>, dir: Direction) -> AppResult<()> {
    while !w.is_done() {
        let frontier = w.frontier().to_vec();
        let steps = repo::steps(tx, &frontier, dir).await?;
        w.advance(steps);
    }
    Ok(())
}

/// The names of the CIs of a walk.
struct Names(HashMap<CiId, CiRef>);

impl Names {
    async fn of(tx: &mut Tx<'_>, w: &Walk<CiId>, starts: &[CiId]) -> AppResult<Self> {
        let mut ids: Vec<CiId> = starts.to_vec();
        ids.extend_from_slice(w.reached());
        Ok(Self(repo::ci_refs(tx, &ids).await?))
    }

    fn get(&self, id: &CiId) -> CiRef {
        self.0.get(id).cloned().unwrap_or(CiRef {
            id: *id,
            name: String::new(),
            class_code: String::new(),
        })
    }

    fn step(&self, s: &Step<CiId>) -> PathStep {
        PathStep {
            from: self.get(&s.from),
            to: self.get(&s.to),
            kind: s.kind,
            reversed: s.reversed,
        }
    }

    /// A shortest path from a start to `id`, named.
    fn path(&self, w: &Walk<CiId>, id: &CiId) -> Vec<PathStep> {
        w.path(id).iter().map(|s| self.step(s)).collect()
    }

    /// The starts and every CI reached, each with the step that reached it.
    fn reached(&self, w: &Walk<CiId>, starts: &[CiId]) -> Vec<Reached> {
        let mut out: Vec<Reached> = starts
            .iter()
            .map(|s| Reached {
                ci: self.get(s),
                depth: 0,
                via: None,
            })
            .collect();
        for id in w.reached() {
            out.push(Reached {
                ci: self.get(id),
                depth: w.depth_of(id).unwrap_or(0),
                via: w.step_to(id).map(|s| self.step(&s)),
            });
        }
        out
    }
}

/// The CIs, services, offerings and customers that depend on a CI, transitively.
pub async fn impact(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Impact> {
    require_reader(ctx)?;
    let id = CiId::parse(key.trim()).ok_or(AppError::NotFound)?;
    core.store
        .read(async move |tx| impact_in(tx, id, WALK_LIMIT).await)
        .await
}

/// Impact analysis inside a transaction (also used by the benchmark and tests).
pub async fn impact_in(tx: &mut Tx<'_>, id: CiId, limit: usize) -> AppResult<Impact> {
    let start = repo::get_ci(tx, id).await?;
    impact_from(tx, &[id], start.as_ref(), limit).await
}

/// Impact analysis of several CIs at once (a change's), `ci` naming the walk's origin: the
/// CIs reached are those at depth one and more.
pub async fn impact_from(
    tx: &mut Tx<'_>,
    starts: &[CiId],
    ci: CiRef,
    limit: usize,
) -> AppResult<Impact> {
    let mut w = Walk::from_many(starts, ci.id, limit);
    walk(tx, &mut w, Direction::Upstream).await?;
    let names = Names::of(tx, &w, starts).await?;
    let cis = names.reached(&w, starts);
    let depth: HashMap<CiId, u32> = cis.iter().map(|r| (r.ci.id, r.depth)).collect();
    let all: Vec<CiId> = cis.iter().map(|r| r.ci.id).collect();

    // Services delivered by an impacted CI: the nearest CI names the path.
    let mut services: BTreeMap<ServiceId, Affected<ServiceId>> = BTreeMap::new();
    for link in repo::services_of_cis(tx, &all).await? {
        let d = depth.get(&link.ci).copied().unwrap_or(0);
        let entry = services.entry(link.id).or_insert(Affected {
            id: link.id,
            name: link.name.clone(),
            active: link.active,
            via_ci: Some(link.ci),
            service: None,
            depth: d,
            path: Vec::new(),
        });
        if d < entry.depth {
            entry.depth = d;
            entry.via_ci = Some(link.ci);
        }
    }
    for s in services.values_mut() {
        if let Some(ci) = s.via_ci {
            s.path = names.path(&w, &ci);
        }
    }
    // Offerings linked to an impacted CI, then the offerings of impacted services.
    let mut offerings: BTreeMap<OfferingId, Affected<OfferingId>> = BTreeMap::new();
    for link in repo::offerings_of_cis(tx, &all).await? {
        let d = depth.get(&link.ci).copied().unwrap_or(0);
        let entry = offerings.entry(link.id).or_insert(Affected {
            id: link.id,
            name: link.name.clone(),
            active: link.active,
            via_ci: Some(link.ci),
            service: link.service,
            depth: d,
            path: Vec::new(),
        });
        if d < entry.depth {
            entry.depth = d;
            entry.via_ci = Some(link.ci);
        }
    }
    for o in offerings.values_mut() {
        if let Some(ci) = o.via_ci {
            o.path = names.path(&w, &ci);
        }
    }
    let service_ids: Vec<ServiceId> = services.keys().copied().collect();
    for (service, offering, name, active) in repo::offerings_of_services(tx, &service_ids).await? {
        let (d, path) = services
            .get(&service)
            .map_or((0, Vec::new()), |s| (s.depth, s.path.clone()));
        offerings.entry(offering).or_insert(Affected {
            id: offering,
            name,
            active,
            via_ci: None,
            service: Some(service),
            depth: d,
            path,
        });
    }
    // Customers of the impacted services, and of the services of impacted offerings.
    let mut with_offerings = service_ids.clone();
    for o in offerings.values() {
        if let Some(s) = o.service {
            if !with_offerings.contains(&s) {
                with_offerings.push(s);
            }
        }
    }
    let mut customers: BTreeMap<OrgId, AffectedCustomer> = BTreeMap::new();
    for (service, org, name) in repo::customers_of_services(tx, &with_offerings).await? {
        let c = customers.entry(org).or_insert(AffectedCustomer {
            id: org,
            name,
            via_services: Vec::new(),
        });
        if !c.via_services.contains(&service) {
            c.via_services.push(service);
        }
    }
    let mut services: Vec<_> = services.into_values().collect();
    services.sort_by(|a, b| (a.depth, &a.name).cmp(&(b.depth, &b.name)));
    let mut offerings: Vec<_> = offerings.into_values().collect();
    offerings.sort_by(|a, b| (a.depth, &a.name).cmp(&(b.depth, &b.name)));
    let mut customers: Vec<_> = customers.into_values().collect();
    customers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Impact {
        ci,
        cis: cis.into_iter().filter(|r| r.depth > 0).collect(),
        services,
        offerings,
        customers,
        truncated: w.truncated(),
    })
}

/// The CIs a service relies on: those linked to it and, transitively, what they rely on.
pub async fn dependencies(core: &Core, ctx: &Ctx, service_key: &str) -> AppResult<Dependencies> {
    require_reader(ctx)?;
    let service = crate::portfolio::get(core, ctx, service_key).await?;
    core.store
        .read(async move |tx| {
            let starts = sigap_store::portfolio::service_ci_ids(tx, service.id).await?;
            let Some(anchor) = starts.first().copied() else {
                return Ok(Dependencies {
                    service: service.id,
                    cis: Vec::new(),
                    truncated: false,
                });
            };
            let mut w = Walk::from_many(&starts, anchor, WALK_LIMIT);
            walk(tx, &mut w, Direction::Downstream).await?;
            let names = Names::of(tx, &w, &starts).await?;
            Ok::<_, AppError>(Dependencies {
                service: service.id,
                cis: names.reached(&w, &starts),
                truncated: w.truncated(),
            })
        })
        .await
}

/// The CIs that depend on some CIs, transitively, nearest first, at most `limit` of them:
/// the plain walk of an impact analysis, without names (a change's reach).
pub async fn reach_in(tx: &mut Tx<'_>, starts: &[CiId], limit: usize) -> AppResult<Vec<CiId>> {
    let Some(anchor) = starts.first().copied() else {
        return Ok(Vec::new());
    };
    let mut w = Walk::from_many(starts, anchor, limit);
    walk(tx, &mut w, Direction::Upstream).await?;
    Ok(w.reached().to_vec())
}

/// The plain walk of `dir` from a CI, for tests and the benchmark: the reached CIs with
/// their depths.
pub async fn walk_in(
    tx: &mut Tx<'_>,
    start: CiId,
    dir: Direction,
) -> AppResult<Vec<(CiId, u32, Vec<Step<CiId>>)>> {
    let mut w = Walk::new(start, usize::MAX);
    walk(tx, &mut w, dir).await?;
    Ok(w.reached()
        .iter()
        .map(|id| (*id, w.depth_of(id).unwrap_or(0), w.path(id)))
        .collect())
}

pub(crate) async fn add_rel_in(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: jiff::Timestamp,
    source: CiId,
    kind: RelKind,
    target: CiId,
) -> AppResult<bool> {
    Ok(add_rel(tx, actor, now, source, kind, target).await?.1)
}
