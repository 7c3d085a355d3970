//! Service portfolio management: services move through their lifecycle stages, from the
//! pipeline into the catalogue and out to retirement; moving past *approve* is a decision of
//! a portfolio manager. Also the service offerings customers consume, the process-level roles
//! of the portfolio process, and review reminders.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors, FieldError};
use crate::listing::{ListParams, Listed, PageRequest, parse_bool, parse_opt};
use crate::principal::Ctx;
use crate::refs::{self, RefChange};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sigap_domain::{
    Criticality, OfferingId, PortfolioStatus, Role, ServiceId, Stage, parse_line, parse_text,
};
use sigap_store::groups::PersonRef;
use sigap_store::notifications::NewNotification;
use sigap_store::portfolio::{
    self as repo, CustomerRef, Offering, OfferingFields, OfferingFilter, OfferingSort, Service,
    ServiceFields, ServiceFilter, ServiceSort, StageMove,
};
use sigap_store::{StoreError, Tx};

/// The name of the portfolio process in process-level role assignments.
pub const PROCESS: &str = "service_portfolio";
/// The process-level roles of the portfolio process.
pub const PROCESS_ROLES: &[&str] = &["owner", "manager"];

// ----- the design package -----

/// How much a requirement matters (MoSCoW).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Must,
    Should,
    Could,
    Wont,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Low,
    Medium,
    High,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Requirement {
    pub text: String,
    pub priority: Priority,
}

/// A service level target proposed in the design, before any agreement exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProposedTarget {
    /// What is measured, e.g. "availability" or "resolution time (P1)".
    pub metric: String,
    /// The target, e.g. "99.9 %" or "4 hours".
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Risk {
    pub description: String,
    pub likelihood: Level,
    pub impact: Level,
    #[serde(default)]
    pub mitigation: String,
}

/// The service design package, as structured fields.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DesignPackage {
    pub requirements: Vec<Requirement>,
    pub service_level_targets: Vec<ProposedTarget>,
    pub dependencies: Vec<String>,
    pub risks: Vec<Risk>,
    pub acceptance_criteria: Vec<String>,
}

impl DesignPackage {
    /// Reads a stored package; what cannot be read becomes an empty package.
    pub fn from_stored(v: &Value) -> Self {
        serde_json::from_value(v.clone()).unwrap_or_default()
    }

    fn to_value(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Checks every text of the package; trims them.
    fn checked(mut self, errs: &mut Errors) -> Self {
        const MAX_ITEMS: usize = 200;
        fn line(errs: &mut Errors, field: String, text: &mut String, max: usize) {
            match parse_line(text, max) {
                Ok(t) => *text = t,
                Err(e) => errs.push(FieldError::from_invalid(field, e)),
            }
        }
        for (i, r) in self.requirements.iter_mut().enumerate() {
            line(
                errs,
                format!("design.requirements[{i}].text"),
                &mut r.text,
                1000,
            );
        }
        for (i, t) in self.service_level_targets.iter_mut().enumerate() {
            line(
                errs,
                format!("design.service_level_targets[{i}].metric"),
                &mut t.metric,
                200,
            );
            line(
                errs,
                format!("design.service_level_targets[{i}].target"),
                &mut t.target,
                200,
            );
        }
        for (i, d) in self.dependencies.iter_mut().enumerate() {
            line(errs, format!("design.dependencies[{i}]"), d, 500);
        }
        for (i, r) in self.risks.iter_mut().enumerate() {
            line(
                errs,
                format!("design.risks[{i}].description"),
                &mut r.description,
                1000,
            );
            match parse_text(r.mitigation.trim(), 2000) {
                Ok(t) => r.mitigation = t,
                Err(e) => errs.push(FieldError::from_invalid(
                    format!("design.risks[{i}].mitigation"),
                    e,
                )),
            }
        }
        for (i, a) in self.acceptance_criteria.iter_mut().enumerate() {
            line(errs, format!("design.acceptance_criteria[{i}]"), a, 1000);
        }
        let lens = [
            ("design.requirements", self.requirements.len()),
            (
                "design.service_level_targets",
                self.service_level_targets.len(),
            ),
            ("design.dependencies", self.dependencies.len()),
            ("design.risks", self.risks.len()),
            ("design.acceptance_criteria", self.acceptance_criteria.len()),
        ];
        for (field, n) in lens {
            if n > MAX_ITEMS {
                errs.push(FieldError::new(
                    field,
                    "too_many",
                    format!("at most {MAX_ITEMS} entries"),
                ));
            }
        }
        self
    }
}

// ----- services -----

#[derive(Debug, Clone, Default)]
pub struct ServiceInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub value_outcomes: Option<String>,
    pub criticality: Option<i64>,
    pub owner: RefChange,
    pub sponsor: RefChange,
    pub requester: RefChange,
    pub design_group: RefChange,
    pub planned_cost: Option<Option<i64>>,
    pub actual_cost: Option<Option<i64>>,
    pub review_date: RefChange,
    pub design: Option<DesignPackage>,
    /// Organizations (ids or names) the service is offered to; replaces the list.
    pub customers: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct ServiceQuery {
    pub status: Option<String>,
    pub stage: Option<String>,
    pub criticality: Option<String>,
    pub owner: Option<String>,
    pub customer: Option<String>,
    pub q: Option<String>,
}

pub const SORT_FIELDS: &[(&str, ServiceSort)] = &[
    ("name", ServiceSort::Name),
    ("criticality", ServiceSort::Criticality),
    ("created_at", ServiceSort::CreatedAt),
    ("updated_at", ServiceSort::UpdatedAt),
];

/// A service with what its page shows.
#[derive(Debug, Clone)]
pub struct ServiceDetail {
    pub service: Service,
    pub customers: Vec<CustomerRef>,
    pub offerings: Vec<Offering>,
    pub cis: Vec<sigap_store::cmdb::CiRef>,
    pub moves: Vec<StageMove>,
    pub projects: Vec<sigap_store::projects::Project>,
}

fn person_login(p: &Option<PersonRef>) -> Value {
    json!(p.as_ref().map(|p| p.login.clone()))
}

pub fn audit_map(s: &Service, customers: &[CustomerRef]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(s.name));
    m.insert("description".into(), json!(s.description));
    m.insert("value_outcomes".into(), json!(s.value_outcomes));
    m.insert("stage".into(), json!(s.stage.code()));
    m.insert("criticality".into(), json!(s.criticality.get()));
    m.insert("owner".into(), person_login(&s.owner));
    m.insert("sponsor".into(), person_login(&s.sponsor));
    m.insert("requester".into(), person_login(&s.requester));
    m.insert(
        "design_group".into(),
        json!(s.design_group.as_ref().map(|g| g.name.clone())),
    );
    m.insert("planned_cost".into(), json!(s.planned_cost));
    m.insert("actual_cost".into(), json!(s.actual_cost));
    m.insert(
        "review_date".into(),
        json!(s.review_date.map(|d| d.to_string())),
    );
    m.insert("design".into(), s.design.clone());
    m.insert(
        "customers".into(),
        json!(customers.iter().map(|c| c.name.clone()).collect::<Vec<_>>()),
    );
    m
}

fn parse_plain(input: &ServiceInput, mut f: ServiceFields) -> AppResult<ServiceFields> {
    let mut errs = Errors::new();
    if let Some(name) = &input.name {
        if let Some(n) = errs.take("name", parse_line(name, 200)) {
            f.name = n;
        }
    }
    if let Some(d) = &input.description {
        if let Some(d) = errs.take("description", parse_text(d, 8000)) {
            f.description = d;
        }
    }
    if let Some(d) = &input.value_outcomes {
        if let Some(d) = errs.take("value_outcomes", parse_text(d, 8000)) {
            f.value_outcomes = d;
        }
    }
    if let Some(c) = input.criticality {
        if let Some(c) = errs.take("criticality", Criticality::parse(c)) {
            f.criticality = c;
        }
    }
    f.planned_cost = refs::amount(
        &mut errs,
        "planned_cost",
        input.planned_cost,
        f.planned_cost,
    );
    f.actual_cost = refs::amount(&mut errs, "actual_cost", input.actual_cost, f.actual_cost);
    f.review_date = refs::date(&mut errs, "review_date", &input.review_date, f.review_date);
    if let Some(design) = &input.design {
        f.design = design.clone().checked(&mut errs).to_value();
    }
    errs.finish()?;
    Ok(f)
}

async fn resolve_refs(
    tx: &mut Tx<'_>,
    input: &ServiceInput,
    mut f: ServiceFields,
) -> AppResult<ServiceFields> {
    f.owner_id = refs::person(tx, "owner", &input.owner, f.owner_id).await?;
    f.sponsor_id = refs::person(tx, "sponsor", &input.sponsor, f.sponsor_id).await?;
    f.requester_id = refs::person(tx, "requester", &input.requester, f.requester_id).await?;
    f.design_group_id =
        refs::group(tx, "design_group", &input.design_group, f.design_group_id).await?;
    Ok(f)
}

/// Resolves a service given by id or exact name.
pub(crate) async fn resolve(
    tx: &mut Tx<'_>,
    key: &str,
) -> sigap_store::StoreResult<Option<Service>> {
    if let Some(id) = ServiceId::parse(key.trim()) {
        return match repo::get(tx, id).await {
            Ok(s) => Ok(Some(s)),
            Err(StoreError::NotFound) => Ok(None),
            Err(e) => Err(e),
        };
    }
    repo::find_by_name(tx, key).await
}

/// Whether this person may see a service: agents see the whole portfolio; others see the
/// catalogue, and people of customer organizations only what is offered to them.
async fn visible(tx: &mut Tx<'_>, ctx: &Ctx, s: &Service) -> AppResult<bool> {
    if is_staff(ctx) {
        return Ok(true);
    }
    if s.status() != PortfolioStatus::Catalogue {
        return Ok(false);
    }
    match ctx.principal.scope() {
        None => Ok(true),
        Some(org) => Ok(repo::customers(tx, s.id).await?.iter().any(|c| c.id == org)),
    }
}

/// Agents of the provider: they see the whole portfolio.
fn is_staff(ctx: &Ctx) -> bool {
    ctx.principal.is_provider_agent()
}

/// Agents edit the portfolio; read-only tokens never do.
fn require_editor(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require_provider_agent()
}

pub async fn create(core: &Core, ctx: &Ctx, input: ServiceInput) -> AppResult<Service> {
    require_editor(ctx)?;
    if input.name.is_none() {
        return Err(AppError::field("name", "required", "is required"));
    }
    let fields = parse_plain(
        &input,
        ServiceFields {
            name: String::new(),
            description: String::new(),
            value_outcomes: String::new(),
            criticality: Criticality::default(),
            owner_id: None,
            sponsor_id: None,
            requester_id: None,
            design_group_id: None,
            planned_cost: None,
            actual_cost: None,
            review_date: None,
            design: DesignPackage::default().to_value(),
        },
    )?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let fields = resolve_refs(tx, &input, fields.clone()).await?;
            let customers = match &input.customers {
                Some(keys) => refs::orgs(tx, "customers", keys).await?,
                None => Vec::new(),
            };
            let s = repo::insert(tx, ServiceId::new(), &fields, Stage::Define, now).await?;
            repo::set_customers(tx, s.id, &customers).await?;
            let cs = repo::customers(tx, s.id).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "service",
                &s.id.to_string(),
                "create",
                None,
                Some(&audit_map(&s, &cs)),
            )
            .await?;
            Ok::<_, AppError>(s)
        })
        .await
}

/// Reads a service by id or name, if visible.
pub async fn get(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Service> {
    let (key, ctx2) = (key.to_owned(), ctx.clone());
    core.store
        .read(async move |tx| {
            let s = resolve(tx, &key).await?.ok_or(AppError::NotFound)?;
            if visible(tx, &ctx2, &s).await? {
                Ok(s)
            } else {
                Err(AppError::NotFound)
            }
        })
        .await
}

/// A service with its customers, offerings, CIs, stage moves and projects.
pub async fn detail(core: &Core, ctx: &Ctx, key: &str) -> AppResult<ServiceDetail> {
    let s = get(core, ctx, key).await?;
    let agent = is_staff(ctx);
    core.store
        .read(async move |tx| {
            let id = s.id;
            let mut offerings = repo::offerings_of(tx, id).await?;
            if !agent {
                offerings.retain(|o| o.active);
            }
            Ok::<_, AppError>(ServiceDetail {
                customers: repo::customers(tx, id).await?,
                offerings,
                cis: if agent {
                    sigap_store::cmdb::cis_of_service(tx, id).await?
                } else {
                    Vec::new()
                },
                moves: if agent {
                    repo::moves(tx, id).await?
                } else {
                    Vec::new()
                },
                projects: if agent {
                    sigap_store::projects::projects_of_service(tx, id).await?
                } else {
                    Vec::new()
                },
                service: s,
            })
        })
        .await
}

pub async fn update(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: ServiceInput,
    if_match: Option<i64>,
) -> AppResult<Service> {
    require_editor(ctx)?;
    let current = get(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            let cs_before = repo::customers(tx, before.id).await?;
            let fields = parse_plain(&input, before.fields())?;
            let fields = resolve_refs(tx, &input, fields).await?;
            if let Some(keys) = &input.customers {
                let orgs = refs::orgs(tx, "customers", keys).await?;
                repo::set_customers(tx, before.id, &orgs).await?;
            }
            let after = crate::written(
                repo::update(tx, before.id, &fields, before.version, now).await,
                if_match,
            )?;
            let cs_after = repo::customers(tx, after.id).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "service",
                &after.id.to_string(),
                "update",
                Some(&audit_map(&before, &cs_before)),
                Some(&audit_map(&after, &cs_after)),
            )
            .await?;
            Ok(after)
        })
        .await
}

/// Moves a service to another lifecycle stage, with the reason recorded. Moving past
/// *approve* is a decision only a portfolio manager may make; retiring a service
/// deactivates its offerings.
pub async fn move_stage(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    to: &str,
    reason: &str,
    if_match: Option<i64>,
) -> AppResult<Service> {
    require_editor(ctx)?;
    let mut errs = Errors::new();
    let to = errs.take("stage", Stage::parse(to));
    let reason = errs.take("reason", parse_line(reason, 1000));
    errs.finish()?;
    let (Some(to), Some(reason)) = (to, reason) else {
        return Err(AppError::Internal("unparsed stage move".into()));
    };
    let current = get(core, ctx, key).await?;
    let m = current
        .stage
        .check_move(to)
        .map_err(|e| AppError::Conflict {
            code: e.code,
            message: e.message,
            field: Some("stage".into()),
        })?;
    if m.needs_portfolio_decision {
        ctx.principal.require(Role::PortfolioManager)?;
    }
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            if before.stage != m.from {
                return Err(AppError::Conflict {
                    code: "edit_conflict",
                    message: "the service moved at the same time; reload and try again".into(),
                    field: None,
                });
            }
            let after = crate::written(
                repo::set_stage(tx, before.id, m.to, before.version, now).await,
                if_match,
            )?;
            repo::record_move(
                tx,
                before.id,
                &StageMove {
                    from: m.from,
                    to: m.to,
                    actor_id: actor.id,
                    actor: actor.name.clone(),
                    reason: reason.clone(),
                    at: now,
                },
            )
            .await?;
            let mut changes = Map::new();
            changes.insert("stage".into(), json!([m.from.code(), m.to.code()]));
            changes.insert("reason".into(), json!([null, reason]));
            audit::record(
                tx,
                &actor,
                now,
                "service",
                &after.id.to_string(),
                "update",
                Value::Object(changes),
            )
            .await?;
            if m.to == Stage::Retired {
                for o in repo::deactivate_offerings(tx, after.id, now).await? {
                    audit::record(
                        tx,
                        &actor,
                        now,
                        "service_offering",
                        &o.id.to_string(),
                        "update",
                        json!({"active": [true, false]}),
                    )
                    .await?;
                }
            }
            Ok(after)
        })
        .await
}

/// Deletes a service that nothing refers to (portfolio managers and administrators).
pub async fn delete(core: &Core, ctx: &Ctx, key: &str, if_match: Option<i64>) -> AppResult<()> {
    if !(ctx.principal.has(Role::PortfolioManager) || ctx.principal.has(Role::Admin)) {
        return Err(AppError::Forbidden);
    }
    let current = get(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            let cs = repo::customers(tx, before.id).await?;
            crate::written(repo::delete(tx, before.id, before.version).await, if_match)?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "service",
                &before.id.to_string(),
                "delete",
                Some(&audit_map(&before, &cs)),
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
    query: ServiceQuery,
    params: &ListParams,
) -> AppResult<Listed<Service>> {
    let page = PageRequest::parse(params, SORT_FIELDS, "name")?;
    let agent = is_staff(ctx);
    let mut status = parse_opt("status", query.status.as_deref(), PortfolioStatus::parse)?;
    if !agent {
        if status.is_some_and(|s| s != PortfolioStatus::Catalogue) {
            return Ok(Listed {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        status = Some(PortfolioStatus::Catalogue);
    }
    let criticality = parse_opt("criticality", query.criticality.as_deref(), |t| {
        t.parse::<i64>()
            .map_err(|_| sigap_domain::InvalidValue::new("invalid_type", "must be 1 to 4"))
            .and_then(Criticality::parse)
    })?;
    let mut filter = ServiceFilter {
        status,
        stage: parse_opt("stage", query.stage.as_deref(), Stage::parse)?,
        criticality: criticality.map(Criticality::get),
        q: query.q,
        scope: ctx.principal.scope(),
        ..ServiceFilter::default()
    };
    let (owner, customer) = (query.owner, query.customer);
    let p2 = page.clone();
    let result = core
        .store
        .read(async move |tx| {
            if let Some(o) = owner.as_deref().filter(|o| !o.trim().is_empty()) {
                filter.owner = refs::person(tx, "owner", &Some(Some(o.to_owned())), None).await?;
            }
            if let Some(c) = customer.as_deref().filter(|c| !c.trim().is_empty()) {
                filter.customer = refs::orgs(tx, "customer", &[c.to_owned()])
                    .await?
                    .first()
                    .copied();
            }
            Ok::<_, AppError>(
                repo::list(tx, &filter, &p2.sort, p2.after.as_deref(), p2.limit).await?,
            )
        })
        .await?;
    Ok(page.finish(result, |s| s))
}

/// The services for the portfolio board, grouped by the caller.
pub async fn board(core: &Core, ctx: &Ctx, with_retired: bool) -> AppResult<Vec<Service>> {
    require_editor(ctx)?;
    Ok(core
        .store
        .read(async move |tx| repo::board(tx, with_retired, None).await)
        .await?)
}

// ----- process roles -----

/// Who owns and who manages the portfolio process.
pub async fn process_roles(core: &Core, ctx: &Ctx) -> AppResult<Vec<(String, PersonRef)>> {
    ctx.principal.require(Role::Agent)?;
    Ok(core
        .store
        .read(async |tx| repo::process_roles(tx, PROCESS).await)
        .await?)
}

/// Names the portfolio process owner or manager (administrators).
pub async fn set_process_roles(
    core: &Core,
    ctx: &Ctx,
    changes: Vec<(String, RefChange)>,
) -> AppResult<Vec<(String, PersonRef)>> {
    ctx.principal.require(Role::Admin)?;
    for (role, _) in &changes {
        if !PROCESS_ROLES.contains(&role.as_str()) {
            return Err(AppError::field(
                role,
                "unknown_role",
                "the portfolio process has an owner and a manager",
            ));
        }
    }
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::process_roles(tx, PROCESS).await?;
            for (role, change) in &changes {
                let current = before.iter().find(|(r, _)| r == role).map(|(_, p)| p.id);
                let person = refs::person(tx, role, change, current).await?;
                repo::set_process_role(tx, PROCESS, role, person).await?;
            }
            let after = repo::process_roles(tx, PROCESS).await?;
            let map = |rs: &[(String, PersonRef)]| {
                let mut m = Map::new();
                for r in PROCESS_ROLES {
                    let who = rs
                        .iter()
                        .find(|(x, _)| x == r)
                        .map(|(_, p)| p.login.clone());
                    m.insert((*r).to_owned(), json!(who));
                }
                m
            };
            audit::record_diff(
                tx,
                &actor,
                now,
                "process",
                PROCESS,
                "update",
                Some(&map(&before)),
                Some(&map(&after)),
            )
            .await?;
            Ok::<_, AppError>(after)
        })
        .await
}

// ----- offerings -----

#[derive(Debug, Clone, Default)]
pub struct OfferingInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub availability_hours: Option<String>,
    pub active: Option<bool>,
}

#[derive(Debug, Clone, Default)]
pub struct OfferingQuery {
    pub service: Option<String>,
    pub active: Option<String>,
    pub q: Option<String>,
}

pub const OFFERING_SORT_FIELDS: &[(&str, OfferingSort)] = &[
    ("name", OfferingSort::Name),
    ("created_at", OfferingSort::CreatedAt),
];

pub fn offering_audit_map(o: &Offering) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("service".into(), json!(o.service_name));
    m.insert("name".into(), json!(o.name));
    m.insert("description".into(), json!(o.description));
    m.insert("availability_hours".into(), json!(o.availability_hours));
    m.insert("active".into(), json!(o.active));
    m
}

fn parse_offering(input: &OfferingInput, mut f: OfferingFields) -> AppResult<OfferingFields> {
    let mut errs = Errors::new();
    if let Some(n) = &input.name {
        if let Some(n) = errs.take("name", parse_line(n, 200)) {
            f.name = n;
        }
    }
    if let Some(d) = &input.description {
        if let Some(d) = errs.take("description", parse_text(d, 4000)) {
            f.description = d;
        }
    }
    if let Some(h) = &input.availability_hours {
        if let Some(h) = errs.take("availability_hours", parse_text(h.trim(), 500)) {
            f.availability_hours = h;
        }
    }
    if let Some(a) = input.active {
        f.active = a;
    }
    errs.finish()?;
    Ok(f)
}

fn not_in_catalogue() -> AppError {
    AppError::Conflict {
        code: "service_not_in_catalogue",
        message: "only services in the catalogue (operational) have active offerings".into(),
        field: Some("active".into()),
    }
}

/// Adds an offering to a service. It is active by default when the service is in the
/// catalogue, and cannot be active otherwise.
pub async fn create_offering(
    core: &Core,
    ctx: &Ctx,
    service_key: &str,
    input: OfferingInput,
) -> AppResult<Offering> {
    require_editor(ctx)?;
    if input.name.is_none() {
        return Err(AppError::field("name", "required", "is required"));
    }
    let service = get(core, ctx, service_key).await?;
    let live = service.stage == Stage::Operational;
    let fields = parse_offering(
        &input,
        OfferingFields {
            name: String::new(),
            description: String::new(),
            availability_hours: String::new(),
            active: live,
        },
    )?;
    if fields.active && !live {
        return Err(not_in_catalogue());
    }
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let s = repo::get(tx, service.id).await?;
            if fields.active && s.stage != Stage::Operational {
                return Err(not_in_catalogue());
            }
            let o = repo::insert_offering(tx, OfferingId::new(), s.id, &fields, now).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "service_offering",
                &o.id.to_string(),
                "create",
                None,
                Some(&offering_audit_map(&o)),
            )
            .await?;
            Ok(o)
        })
        .await
}

pub async fn get_offering(core: &Core, ctx: &Ctx, key: &str) -> AppResult<Offering> {
    let id = OfferingId::parse(key.trim()).ok_or(AppError::NotFound)?;
    let o = core
        .store
        .read(async move |tx| repo::get_offering(tx, id).await)
        .await?;
    // Visible with its service; inactive offerings only to agents.
    get(core, ctx, &o.service_id.to_string()).await?;
    if !o.active && !is_staff(ctx) {
        return Err(AppError::NotFound);
    }
    Ok(o)
}

pub async fn update_offering(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: OfferingInput,
    if_match: Option<i64>,
) -> AppResult<Offering> {
    require_editor(ctx)?;
    let current = get_offering(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get_offering(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            let fields = parse_offering(
                &input,
                OfferingFields {
                    name: before.name.clone(),
                    description: before.description.clone(),
                    availability_hours: before.availability_hours.clone(),
                    active: before.active,
                },
            )?;
            if fields.active && !before.active {
                let s = repo::get(tx, before.service_id).await?;
                if s.stage != Stage::Operational {
                    return Err(not_in_catalogue());
                }
            }
            let after = crate::written(
                repo::update_offering(tx, before.id, &fields, before.version, now).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "service_offering",
                &after.id.to_string(),
                "update",
                Some(&offering_audit_map(&before)),
                Some(&offering_audit_map(&after)),
            )
            .await?;
            Ok(after)
        })
        .await
}

pub async fn delete_offering(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    if_match: Option<i64>,
) -> AppResult<()> {
    require_editor(ctx)?;
    let current = get_offering(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get_offering(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            crate::written(
                repo::delete_offering(tx, before.id, before.version).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "service_offering",
                &before.id.to_string(),
                "delete",
                Some(&offering_audit_map(&before)),
                None,
            )
            .await?;
            Ok(())
        })
        .await
}

pub async fn list_offerings(
    core: &Core,
    ctx: &Ctx,
    query: OfferingQuery,
    params: &ListParams,
) -> AppResult<Listed<Offering>> {
    let page = PageRequest::parse(params, OFFERING_SORT_FIELDS, "name")?;
    let agent = is_staff(ctx);
    let mut active = parse_bool("active", query.active.as_deref())?;
    if !agent {
        if active == Some(false) {
            return Ok(Listed {
                items: Vec::new(),
                next_cursor: None,
            });
        }
        active = Some(true);
    }
    let service = match query.service.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(key) => Some(get(core, ctx, key).await?.id),
        None => None,
    };
    let filter = OfferingFilter {
        service,
        active,
        q: query.q,
        scope: ctx.principal.scope(),
    };
    let p2 = page.clone();
    let result = core
        .store
        .read(async move |tx| {
            repo::list_offerings(tx, &filter, &p2.sort, p2.after.as_deref(), p2.limit).await
        })
        .await?;
    Ok(page.finish(result, |o| o))
}

// ----- links to CIs -----

/// Links a service, or one of its offerings, to a CI that delivers it.
pub async fn link_ci(
    core: &Core,
    ctx: &Ctx,
    target: LinkTarget,
    ci_key: &str,
    link: bool,
) -> AppResult<bool> {
    require_editor(ctx)?;
    let ci = crate::cmdb::get_ci(core, ctx, ci_key).await?;
    #[derive(Clone, Copy)]
    enum Owner {
        Service(ServiceId),
        Offering(OfferingId),
    }
    let owner = match target {
        LinkTarget::Service(key) => Owner::Service(get(core, ctx, &key).await?.id),
        LinkTarget::Offering(key) => Owner::Offering(get_offering(core, ctx, &key).await?.id),
    };
    let (actor, now) = (Actor::of(ctx), core.now());
    let ci_id = ci.id;
    let ci_name = ci.name.clone();
    core.store
        .write(async move |tx| {
            let changed = match owner {
                Owner::Service(id) if link => repo::link_service_ci(tx, id, ci_id).await?,
                Owner::Service(id) => repo::unlink_service_ci(tx, id, ci_id).await?,
                Owner::Offering(id) if link => repo::link_offering_ci(tx, id, ci_id).await?,
                Owner::Offering(id) => repo::unlink_offering_ci(tx, id, ci_id).await?,
            };
            if changed {
                let (from, to) = if link {
                    (Value::Null, json!(ci_name))
                } else {
                    (json!(ci_name), Value::Null)
                };
                let (record_type, record_id) = match owner {
                    Owner::Service(id) => ("service", id.to_string()),
                    Owner::Offering(id) => ("service_offering", id.to_string()),
                };
                audit::record(
                    tx,
                    &actor,
                    now,
                    record_type,
                    &record_id,
                    "update",
                    json!({"configuration_item": [from, to]}),
                )
                .await?;
            }
            Ok::<_, AppError>(changed)
        })
        .await
}

/// What a CI link is made for.
#[derive(Debug, Clone)]
pub enum LinkTarget {
    Service(String),
    Offering(String),
}

// ----- review reminders -----

pub const REVIEW_JOB: &str = "service_reviews";

/// Reminds the owners of services whose review is due, once per review date.
pub async fn remind_reviews(core: &Core) -> AppResult<usize> {
    let now = core.now();
    let today = jiff::tz::TimeZone::UTC.to_datetime(now).date();
    core.store
        .write(async move |tx| {
            let due = repo::reviews_due(tx, today).await?;
            let mut n = 0;
            for s in &due {
                let Some(date) = s.review_date else { continue };
                if let Some(owner) = &s.owner {
                    let link = format!("/services/{}", s.id);
                    let date_text = date.to_string();
                    crate::notifications::send(
                        tx,
                        &NewNotification {
                            person_id: owner.id,
                            kind: "service_review_due",
                            subject: &s.name,
                            body: &date_text,
                            link: &link,
                            task_id: None,
                        },
                        now,
                    )
                    .await?;
                    n += 1;
                }
                repo::mark_reminded(tx, s.id, date).await?;
            }
            Ok::<_, AppError>(n)
        })
        .await
}
