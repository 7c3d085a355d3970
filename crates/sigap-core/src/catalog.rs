//! The service catalogue: categories (nested one level) and items on service offerings,
//! each with its order form, approval rule, fulfilment plan, audience, prices, delivery time
//! and picture. Administrators build it; everyone signed in browses what they may order.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::listing::Listed;
use crate::principal::Ctx;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sigap_domain::approval::{Need, Rule, Stage};
use sigap_domain::catalog::{Audience, Form, Plan, PlannedTask, Price, Variable};
use sigap_domain::process::request::ItemKind;
use sigap_domain::{
    CalendarId, CatalogCategoryId, CatalogItemId, GroupId, OfferingId, OrgId, PersonId, Role,
    parse_line, parse_text,
};
use sigap_store::catalog::{self as repo, Category, CategoryFields, Item, ItemFields, ItemFilter};
use sigap_store::{StoreError, Tx};

pub use sigap_store::catalog::{Category as CategoryRecord, Item as ItemRecord};

/// A catalogue item with its definitions read.
#[derive(Debug, Clone)]
pub struct CatalogItem {
    pub item: Item,
    pub kind: ItemKind,
    pub form: Form,
    pub rule: Rule,
    pub plan: Plan,
    pub audience: Audience,
}

impl CatalogItem {
    fn read(item: Item) -> AppResult<CatalogItem> {
        let bad = |what: &str, e: serde_json::Error| {
            AppError::Internal(format!("catalogue item {}: stored {what}: {e}", item.id))
        };
        Ok(CatalogItem {
            kind: ItemKind::parse(&item.kind).map_err(|e| AppError::Internal(e.message))?,
            form: serde_json::from_str(&item.form).map_err(|e| bad("form", e))?,
            rule: serde_json::from_str(&item.approval).map_err(|e| bad("approval", e))?,
            plan: serde_json::from_str(&item.plan).map_err(|e| bad("plan", e))?,
            audience: serde_json::from_str(&item.audience).map_err(|e| bad("audience", e))?,
            item,
        })
    }
}

// ----- categories -----

#[derive(Debug, Clone, Default)]
pub struct CategoryInput {
    pub name: Option<String>,
    /// A top category (id or name); `Some(None)` for none.
    pub parent: Option<Option<String>>,
    pub description: Option<String>,
    pub order: Option<i64>,
    pub active: Option<bool>,
}

/// Every category (everyone signed in; inactive ones for administrators only).
pub async fn categories(core: &Core, ctx: &Ctx) -> AppResult<Vec<Category>> {
    let admin = ctx.principal.has(Role::Admin);
    let mut list = core
        .store
        .read(async move |tx| repo::categories(tx).await)
        .await?;
    list.retain(|c| admin || c.active);
    Ok(list)
}

async fn find_category(tx: &mut Tx<'_>, key: &str) -> AppResult<Option<Category>> {
    if let Some(id) = CatalogCategoryId::parse(key.trim()) {
        return match repo::category(tx, id).await {
            Ok(c) => Ok(Some(c)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        };
    }
    Ok(repo::category_by_name(tx, key).await?)
}

pub async fn category(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Category> {
    let key = key.to_owned();
    let admin = ctx.principal.has(Role::Admin);
    match core
        .store
        .read(async move |tx| find_category(tx, &key).await)
        .await?
    {
        Some(c) if admin || c.active => Ok(c),
        _ => Err(AppError::NotFound),
    }
}

fn category_audit(c: &Category) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(c.name));
    m.insert("parent".into(), json!(c.parent.as_ref().map(|p| &p.name)));
    m.insert("description".into(), json!(c.description));
    m.insert("order".into(), json!(c.order));
    m.insert("active".into(), json!(c.active));
    m
}

/// Creates (`key` none) or changes a category (administrators).
pub async fn save_category(
    core: &Core,
    ctx: &Ctx,
    key: Option<&str>,
    input: CategoryInput,
    if_match: Option<i64>,
) -> AppResult<Category> {
    ctx.principal.require(Role::Admin)?;
    if key.is_none() && input.name.is_none() {
        return Err(AppError::field("name", "required", "is required"));
    }
    let (actor, now, key) = (Actor::of(ctx), core.now(), key.map(str::to_owned));
    core.store
        .write(async move |tx| {
            let before = match &key {
                Some(k) => Some(find_category(tx, k).await?.ok_or(AppError::NotFound)?),
                None => None,
            };
            if let Some(b) = &before {
                crate::check_version(if_match, b.version)?;
            }
            let mut f = before
                .as_ref()
                .map(Category::fields)
                .unwrap_or(CategoryFields {
                    name: String::new(),
                    parent_id: None,
                    description: String::new(),
                    order: 0,
                    active: true,
                });
            let mut errs = Errors::new();
            if let Some(n) = &input.name {
                if let Some(n) = errs.take("name", parse_line(n, 100)) {
                    f.name = n;
                }
            }
            if let Some(d) = &input.description {
                if let Some(d) = errs.take("description", parse_text(d, 4_000)) {
                    f.description = d;
                }
            }
            if let Some(o) = input.order {
                f.order = o.clamp(-1_000_000, 1_000_000);
            }
            f.active = input.active.unwrap_or(f.active);
            errs.finish()?;
            match input.parent.as_ref().map(|p| p.as_deref().map(str::trim)) {
                None => {}
                Some(None | Some("")) => f.parent_id = None,
                Some(Some(p)) => {
                    let parent = find_category(tx, p).await?.ok_or_else(|| {
                        AppError::field("parent", "not_found", "no such category")
                    })?;
                    let is_self = before.as_ref().is_some_and(|b| b.id == parent.id);
                    let has_children = match &before {
                        Some(b) => repo::has_children(tx, b.id).await?,
                        None => false,
                    };
                    if parent.parent.is_some() || is_self || has_children {
                        return Err(AppError::field(
                            "parent",
                            "too_deep",
                            "categories nest one level: the parent must be a top category, \
                             and a category with sub-categories stays on top",
                        ));
                    }
                    f.parent_id = Some(parent.id);
                }
            }
            if let Some(other) = repo::category_by_name(tx, &f.name).await? {
                if before.as_ref().is_none_or(|b| b.id != other.id) {
                    return Err(AppError::field("name", "taken", "a category has this name"));
                }
            }
            let after = match &before {
                Some(b) => crate::written(
                    repo::update_category(tx, b.id, &f, b.version, now).await,
                    if_match,
                )?,
                None => repo::insert_category(tx, CatalogCategoryId::new(), &f, now).await?,
            };
            let verb = if before.is_some() { "update" } else { "create" };
            audit::record_diff(
                tx,
                &actor,
                now,
                "catalog_category",
                &after.id.to_string(),
                verb,
                before.as_ref().map(category_audit).as_ref(),
                Some(&category_audit(&after)),
            )
            .await?;
            Ok(after)
        })
        .await
}

// ----- items -----

/// One step of a plan as given: the group by id or name.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    #[serde(default)]
    pub order: i64,
    pub group: String,
    pub short_description: String,
    #[serde(default)]
    pub description: String,
}

/// One approval stage as given: `manager`, `people` (ids or logins) or `group` (id or
/// name), with `any` or `all`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageInput {
    pub approvers: String,
    #[serde(default)]
    pub people: Vec<String>,
    #[serde(default)]
    pub group: Option<String>,
    #[serde(default)]
    pub need: Option<String>,
}

/// Who may order, as given: organizations and groups by id or name.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceInput {
    #[serde(default)]
    pub organizations: Vec<String>,
    #[serde(default)]
    pub groups: Vec<String>,
}

/// Fields of an item; `None` leaves one as it is. The JSON fields (`variables`,
/// `approval`, `plan`, `audience`) are read here, each error keyed by its place.
#[derive(Debug, Clone, Default)]
pub struct ItemInput {
    pub name: Option<String>,
    pub category: Option<Option<String>>,
    /// The service offering (its id).
    pub offering: Option<String>,
    pub kind: Option<String>,
    pub short_description: Option<String>,
    pub description: Option<String>,
    /// Decimal texts (`12.50`).
    pub price: Option<String>,
    pub recurring_price: Option<String>,
    pub delivery_hours: Option<Option<i64>>,
    pub calendar: Option<Option<String>>,
    pub variables: Option<Value>,
    pub approval: Option<Value>,
    pub plan: Option<Value>,
    pub audience: Option<Value>,
    pub active: Option<bool>,
}

fn json_of<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

fn read_json<T: serde::de::DeserializeOwned>(field: &str, v: &Value) -> AppResult<T> {
    serde_json::from_value(v.clone()).map_err(|e| AppError::field(field, "invalid", format!("{e}")))
}

fn field_errors(errs: Vec<(String, sigap_domain::InvalidValue)>) -> AppError {
    AppError::Validation(
        errs.into_iter()
            .map(|(f, e)| FieldError::from_invalid(f, e))
            .collect(),
    )
}

/// A fulfilment plan from its JSON (`[{order, group, short_description, description}]`),
/// its groups found by id or name; errors name `name.<i>.<field>`.
pub(crate) async fn read_plan(tx: &mut Tx<'_>, name: &str, v: &Value) -> AppResult<Plan> {
    let steps: Vec<StepInput> = read_json(name, v)?;
    let mut tasks = Vec::new();
    for (i, s) in steps.into_iter().enumerate() {
        let group: GroupId = match crate::groups::resolve(tx, &s.group).await {
            Ok(g) => g.id,
            Err(StoreError::NotFound) => {
                let field = format!("{name}.{i}.group");
                return Err(AppError::field(&field, "not_found", "no such group"));
            }
            Err(e) => return Err(e.into()),
        };
        tasks.push(PlannedTask {
            order: s.order,
            group,
            short_description: s.short_description,
            description: s.description,
        });
    }
    Plan::new(tasks).map_err(field_errors)
}

/// An approval rule from its JSON (`[{approvers, people, group, need}]`), its people and
/// groups found by id or name; errors name `name.<i>.<field>`.
pub(crate) async fn read_rule(tx: &mut Tx<'_>, name: &str, v: &Value) -> AppResult<Rule> {
    let stages: Vec<StageInput> = read_json(name, v)?;
    let mut out = Vec::new();
    for (i, s) in stages.into_iter().enumerate() {
        let field = |f: &str| format!("{name}.{i}.{f}");
        let need = match s.need.as_deref() {
            None => Need::Any,
            Some(n) => {
                Need::parse(n).map_err(|e| AppError::field(&field("need"), e.code, e.message))?
            }
        };
        out.push(match s.approvers.as_str() {
            "manager" => Stage::Manager,
            "group_manager" => Stage::GroupManager,
            "people" => {
                let mut people: Vec<PersonId> = Vec::new();
                for (j, key) in s.people.iter().enumerate() {
                    match crate::people::resolve(tx, key).await {
                        Ok(p) => people.push(p.id),
                        Err(StoreError::NotFound) => {
                            let f = format!("{name}.{i}.people.{j}");
                            return Err(AppError::field(&f, "not_found", "no such person"));
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Stage::People { people, need }
            }
            "group" => {
                let key = s.group.as_deref().unwrap_or_default();
                match crate::groups::resolve(tx, key).await {
                    Ok(g) => Stage::Group { group: g.id, need },
                    Err(StoreError::NotFound) => {
                        return Err(AppError::field(
                            &field("group"),
                            "not_found",
                            "no such group",
                        ));
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            other => {
                return Err(AppError::field(
                    &field("approvers"),
                    "invalid_choice",
                    format!("{other:?}: manager, group_manager, people or group"),
                ));
            }
        });
    }
    Rule::new(out).map_err(|e| AppError::field(name, e.code, e.message))
}

async fn read_audience(tx: &mut Tx<'_>, v: &Value) -> AppResult<Audience> {
    let a: AudienceInput = read_json("audience", v)?;
    let organizations: Vec<OrgId> =
        crate::refs::orgs(tx, "audience.organizations", &a.organizations).await?;
    let mut groups = Vec::new();
    for (i, key) in a.groups.iter().enumerate() {
        match crate::groups::resolve(tx, key).await {
            Ok(g) => groups.push(g.id),
            Err(StoreError::NotFound) => {
                let f = format!("audience.groups.{i}");
                return Err(AppError::field(&f, "not_found", "no such group"));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Audience {
        organizations,
        groups,
    })
}

fn item_audit(i: &Item) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(i.name));
    m.insert(
        "category".into(),
        json!(i.category.as_ref().map(|c| &c.name)),
    );
    m.insert("offering".into(), json!(i.offering.name));
    m.insert("kind".into(), json!(i.kind));
    m.insert("short_description".into(), json!(i.short_description));
    m.insert("description".into(), json!(i.description));
    m.insert("price".into(), json!(i.price));
    m.insert("recurring_price".into(), json!(i.recurring_price));
    m.insert("delivery_hours".into(), json!(i.delivery_hours));
    m.insert(
        "calendar".into(),
        json!(i.calendar.as_ref().map(|c| &c.name)),
    );
    m.insert("variables".into(), json!(i.form));
    m.insert("approval".into(), json!(i.approval));
    m.insert("plan".into(), json!(i.plan));
    m.insert("audience".into(), json!(i.audience));
    m.insert("active".into(), json!(i.active));
    m
}

async fn find_item(tx: &mut Tx<'_>, key: &str) -> AppResult<Option<Item>> {
    if let Some(id) = CatalogItemId::parse(key.trim()) {
        return match repo::item(tx, id).await {
            Ok(i) => Ok(Some(i)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e.into()),
        };
    }
    Ok(repo::item_by_name(tx, key).await?)
}

/// A catalogue item's id by id or name (not found: `NotFound`).
pub(crate) async fn item_id_in(tx: &mut Tx<'_>, key: &str) -> AppResult<CatalogItemId> {
    find_item(tx, key)
        .await?
        .map(|i| i.id)
        .ok_or(AppError::NotFound)
}

/// Applies the plain fields of an item input.
fn apply_item(input: &ItemInput, f: &mut ItemFields, errs: &mut Errors) {
    if let Some(n) = &input.name {
        if let Some(n) = errs.take("name", parse_line(n, 100)) {
            f.name = n;
        }
    }
    if let Some(k) = &input.kind {
        if let Some(k) = errs.take("kind", ItemKind::parse(k)) {
            f.kind = k.code().to_owned();
        }
    }
    if let Some(t) = &input.short_description {
        if let Some(t) = errs.take("short_description", parse_line(t, 160)) {
            f.short_description = t;
        }
    }
    if let Some(t) = &input.description {
        if let Some(t) = errs.take("description", parse_text(t, 32_000)) {
            f.description = t;
        }
    }
    if let Some(p) = &input.price {
        if let Some(p) = errs.take("price", Price::parse(p)) {
            f.price = p.cents();
        }
    }
    if let Some(p) = &input.recurring_price {
        if let Some(p) = errs.take("recurring_price", Price::parse(p)) {
            f.recurring_price = p.cents();
        }
    }
    match input.delivery_hours {
        None => {}
        Some(None) => f.delivery_hours = None,
        Some(Some(h)) if (0..=10_000).contains(&h) => f.delivery_hours = Some(h),
        Some(Some(_)) => errs.push(FieldError::new(
            "delivery_hours",
            "out_of_range",
            "must be 0 to 10000",
        )),
    }
    f.active = input.active.unwrap_or(f.active);
}

/// Creates (`key` none) or changes an item (administrators).
pub async fn save_item(
    core: &Core,
    ctx: &Ctx,
    key: Option<&str>,
    input: ItemInput,
    if_match: Option<i64>,
) -> AppResult<CatalogItem> {
    ctx.principal.require(Role::Admin)?;
    if key.is_none() {
        let mut errs = Errors::new();
        for (field, given) in [
            ("name", input.name.is_some()),
            ("offering", input.offering.is_some()),
        ] {
            if !given {
                errs.push(FieldError::new(field, "required", "is required"));
            }
        }
        errs.finish()?;
    }
    let (actor, now, key) = (Actor::of(ctx), core.now(), key.map(str::to_owned));
    let item = core
        .store
        .write(async move |tx| {
            let before = match &key {
                Some(k) => Some(find_item(tx, k).await?.ok_or(AppError::NotFound)?),
                None => None,
            };
            if let Some(b) = &before {
                crate::check_version(if_match, b.version)?;
            }
            let offering = match &input.offering {
                Some(o) => {
                    let not_found = || AppError::field("offering", "not_found", "no such offering");
                    let id = OfferingId::parse(o.trim()).ok_or_else(not_found)?;
                    match sigap_store::portfolio::get_offering(tx, id).await {
                        Ok(o) => o.id,
                        Err(StoreError::NotFound) => return Err(not_found()),
                        Err(e) => return Err(e.into()),
                    }
                }
                None => match &before {
                    Some(b) => b.offering.id,
                    None => return Err(AppError::field("offering", "required", "is required")),
                },
            };
            let mut f = match &before {
                Some(b) => b.fields(),
                None => ItemFields {
                    name: String::new(),
                    category_id: None,
                    offering_id: offering,
                    kind: ItemKind::Ordinary.code().into(),
                    short_description: String::new(),
                    description: String::new(),
                    price: 0,
                    recurring_price: 0,
                    delivery_hours: None,
                    calendar_id: None,
                    audience: "{}".into(),
                    form: "[]".into(),
                    approval: "[]".into(),
                    plan: "[]".into(),
                    active: true,
                },
            };
            f.offering_id = offering;
            let mut errs = Errors::new();
            apply_item(&input, &mut f, &mut errs);
            if let Some(v) = &input.variables {
                match read_json::<Vec<Variable>>("variables", v) {
                    Ok(vars) => match Form::new(vars) {
                        Ok(form) => f.form = json_of(&form),
                        Err(list) => {
                            for (field, e) in list {
                                errs.push(FieldError::from_invalid(field, e));
                            }
                        }
                    },
                    Err(AppError::Validation(list)) => list.into_iter().for_each(|e| errs.push(e)),
                    Err(e) => return Err(e),
                }
            }
            errs.finish()?;
            match input.category.as_ref().map(|c| c.as_deref().map(str::trim)) {
                None => {}
                Some(None | Some("")) => f.category_id = None,
                Some(Some(c)) => {
                    let c = find_category(tx, c).await?.ok_or_else(|| {
                        AppError::field("category", "not_found", "no such category")
                    })?;
                    f.category_id = Some(c.id);
                }
            }
            match input.calendar.as_ref().map(|c| c.as_deref().map(str::trim)) {
                None => {}
                Some(None | Some("")) => f.calendar_id = None,
                Some(Some(c)) => {
                    let id: CalendarId = crate::sla::calendar_id(tx, c).await.map_err(|_| {
                        AppError::field("calendar", "not_found", "no such calendar")
                    })?;
                    f.calendar_id = Some(id);
                }
            }
            if let Some(v) = &input.approval {
                f.approval = json_of(&read_rule(tx, "approval", v).await?);
            }
            if let Some(v) = &input.plan {
                f.plan = json_of(&read_plan(tx, "plan", v).await?);
            }
            if let Some(v) = &input.audience {
                f.audience = json_of(&read_audience(tx, v).await?);
            }
            if let Some(other) = repo::item_by_name(tx, &f.name).await? {
                if before.as_ref().is_none_or(|b| b.id != other.id) {
                    return Err(AppError::field("name", "taken", "an item has this name"));
                }
            }
            let after = match &before {
                Some(b) => crate::written(
                    repo::update_item(tx, b.id, &f, b.version, now).await,
                    if_match,
                )?,
                None => repo::insert_item(tx, CatalogItemId::new(), &f, now).await?,
            };
            let verb = if before.is_some() { "update" } else { "create" };
            audit::record_diff(
                tx,
                &actor,
                now,
                "catalog_item",
                &after.id.to_string(),
                verb,
                before.as_ref().map(item_audit).as_ref(),
                Some(&item_audit(&after)),
            )
            .await?;
            Ok(after)
        })
        .await?;
    CatalogItem::read(item)
}

/// Whether someone may order an item: it is orderable and they are of its audience.
async fn may_order(tx: &mut Tx<'_>, ci: &CatalogItem, who: Option<PersonId>) -> AppResult<bool> {
    if !ci.item.orderable {
        return Ok(false);
    }
    if ci.audience.organizations.is_empty() && ci.audience.groups.is_empty() {
        return Ok(true);
    }
    let Some(who) = who else { return Ok(false) };
    let p = sigap_store::people::get(tx, who).await?;
    let groups: Vec<GroupId> = sigap_store::groups::of_person(tx, who)
        .await?
        .iter()
        .map(|g| g.id)
        .collect();
    Ok(ci.audience.allows(p.organization.map(|o| o.id), &groups))
}

/// An item by id or name: administrators see every item, the desk every active one,
/// others those they may order.
pub async fn item(core: &Core, ctx: &Ctx, key: &str) -> AppResult<CatalogItem> {
    let (key, admin, staff) = (
        key.to_owned(),
        ctx.principal.has(Role::Admin),
        crate::task::is_staff(ctx),
    );
    let me = ctx.principal.person_id;
    core.store
        .read(async move |tx| {
            let item = find_item(tx, &key).await?.ok_or(AppError::NotFound)?;
            let ci = CatalogItem::read(item)?;
            let visible = admin || (staff && ci.item.active) || may_order(tx, &ci, me).await?;
            if visible {
                Ok(ci)
            } else {
                Err(AppError::NotFound)
            }
        })
        .await
}

/// An item in the caller's transaction, for an order: found, orderable, and `for_whom` of
/// its audience; else an error of `field`.
pub(crate) async fn orderable(
    tx: &mut Tx<'_>,
    field: &str,
    key: &str,
    for_whom: Option<PersonId>,
) -> AppResult<CatalogItem> {
    let Some(item) = find_item(tx, key).await? else {
        return Err(AppError::field(
            field,
            "not_found",
            "no such catalogue item",
        ));
    };
    let ci = CatalogItem::read(item)?;
    if !may_order(tx, &ci, for_whom).await? {
        return Err(AppError::field(
            field,
            "not_orderable",
            "this item cannot be ordered (inactive, its offering or service is not in the \
             catalogue, or it is not offered to this person)",
        ));
    }
    Ok(ci)
}

#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    pub category: Option<String>,
    pub q: Option<String>,
    /// Administrators: every item (`false`), not only the orderable ones.
    pub orderable_only: bool,
}

/// A page of items by name: the orderable ones the caller may order (administrators may
/// list every item).
pub async fn items(
    core: &Core,
    ctx: &Ctx,
    query: ItemQuery,
    params: &crate::listing::ListParams,
) -> AppResult<Listed<CatalogItem>> {
    let admin = ctx.principal.has(Role::Admin);
    let page = crate::listing::PageRequest::parse(params, &[("name", ())], "name")?;
    let me = ctx.principal.person_id;
    let all = admin && !query.orderable_only;
    let p2 = page.clone();
    let result = core
        .store
        .read(async move |tx| {
            let mut filter = ItemFilter {
                q: query.q.clone(),
                orderable: (!all).then_some(true),
                ..ItemFilter::default()
            };
            if let Some(c) = query
                .category
                .as_deref()
                .map(str::trim)
                .filter(|c| !c.is_empty())
            {
                let c = find_category(tx, c)
                    .await?
                    .ok_or_else(|| AppError::field("category", "not_found", "no such category"))?;
                filter.category = Some(c.id);
            }
            let page = repo::items(tx, &filter, p2.after.as_deref(), p2.limit).await?;
            let mut items = Vec::new();
            for i in page.items {
                let ci = CatalogItem::read(i)?;
                if all || may_order(tx, &ci, me).await? {
                    items.push(ci);
                }
            }
            Ok::<_, AppError>(sigap_store::list::Page {
                items,
                next: page.next,
            })
        })
        .await?;
    Ok(page.finish(result, |i| i))
}

/// When an item ordered now would arrive: its delivery hours on its calendar.
pub async fn expected(core: &Core, ci: &CatalogItem) -> AppResult<Option<Timestamp>> {
    let Some(hours) = ci.item.delivery_hours else {
        return Ok(None);
    };
    let (calendar, now) = (ci.item.calendar.as_ref().map(|c| c.id), core.now());
    core.store
        .read(async move |tx| due_in(tx, calendar, now, hours).await)
        .await
}

/// `hours` business hours of a calendar (or of the clock) after `from`.
pub(crate) async fn due_in(
    tx: &mut Tx<'_>,
    calendar: Option<CalendarId>,
    from: Timestamp,
    hours: i64,
) -> AppResult<Option<Timestamp>> {
    let cal = crate::sla::business_calendar(tx, calendar, None).await?;
    Ok(cal.add_business(from, SignedDuration::from_hours(hours)))
}

/// Sets (or with `None` removes) an item's picture: a PNG, JPEG, GIF or WebP image of at
/// most 2 MB (administrators).
pub async fn set_picture(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    picture: Option<(String, Vec<u8>)>,
) -> AppResult<()> {
    ctx.principal.require(Role::Admin)?;
    if let Some((kind, bytes)) = &picture {
        let sniffed = image_type(bytes);
        if sniffed.is_none() || sniffed != Some(kind.as_str()) {
            return Err(AppError::field(
                "picture",
                "invalid_type",
                "a PNG, JPEG, GIF or WebP image whose content matches its type",
            ));
        }
        if bytes.len() > 2 * 1024 * 1024 {
            return Err(AppError::field("picture", "too_large", "at most 2 MB"));
        }
    }
    let (actor, now, key) = (Actor::of(ctx), core.now(), key.to_owned());
    core.store
        .write(async move |tx| {
            let item = find_item(tx, &key).await?.ok_or(AppError::NotFound)?;
            let p = picture.as_ref().map(|(t, b)| (t.as_str(), b.as_slice()));
            repo::set_picture(tx, item.id, p, now).await?;
            let what = picture
                .as_ref()
                .map(|(t, b)| format!("{t}, {} bytes", b.len()));
            let mut m = Map::new();
            m.insert("picture".into(), json!(what));
            audit::record_diff(
                tx,
                &actor,
                now,
                "catalog_item",
                &item.id.to_string(),
                "picture",
                None,
                Some(&m),
            )
            .await?;
            Ok(())
        })
        .await
}

/// The type of an image by its first bytes.
fn image_type(b: &[u8]) -> Option<&'static str> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if b.len() > 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// An item's picture, for whoever may see the item.
pub async fn picture(core: &Core, ctx: &Ctx, key: &str) -> AppResult<(String, Vec<u8>)> {
    let ci = item(core, ctx, key).await?;
    let id = ci.item.id;
    core.store
        .read(async move |tx| repo::picture(tx, id).await)
        .await?
        .ok_or(AppError::NotFound)
}
