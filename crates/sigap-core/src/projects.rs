//! The project portfolio (projects that create or change services) and the application
//! portfolio (applications, their developing and supporting groups, CIs and services).

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, Errors};
use crate::listing::{ListParams, Listed, PageRequest};
use crate::principal::Ctx;
use crate::refs::{self, RefChange};
use serde_json::{Map, Value, json};
use sigap_domain::portfolio::{AppStatus, ProjectStatus};
use sigap_domain::{ApplicationId, CiId, ProjectId, parse_line, parse_text};
use sigap_store::cmdb::CiRef;
use sigap_store::projects::{
    self as repo, AppFilter, AppSort, Application, ApplicationFields, Project, ProjectFields,
    ProjectFilter, ProjectSort, ServiceRef,
};
use sigap_store::{StoreError, Tx};

fn require_editor(ctx: &Ctx) -> AppResult<()> {
    ctx.principal.require_provider_agent()
}

fn name_of(errs: &mut Errors, v: &Option<String>, current: String) -> String {
    match v {
        Some(n) => errs.take("name", parse_line(n, 200)).unwrap_or(current),
        None => current,
    }
}

fn text_of(errs: &mut Errors, field: &str, v: &Option<String>, current: String) -> String {
    match v {
        Some(t) => errs.take(field, parse_text(t, 8000)).unwrap_or(current),
        None => current,
    }
}

// ----- projects -----

#[derive(Debug, Clone, Default)]
pub struct ProjectInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    pub start_date: RefChange,
    pub end_date: RefChange,
    pub budget: Option<Option<i64>>,
    pub manager: RefChange,
    /// Services the project creates or changes (ids or names); replaces the list.
    pub services: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectQuery {
    pub status: Option<String>,
    pub service: Option<String>,
    pub q: Option<String>,
}

pub const PROJECT_SORT_FIELDS: &[(&str, ProjectSort)] = &[
    ("name", ProjectSort::Name),
    ("status", ProjectSort::Status),
    ("created_at", ProjectSort::CreatedAt),
];

fn project_audit_map(p: &Project, services: &[ServiceRef]) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("name".into(), json!(p.name));
    m.insert("description".into(), json!(p.description));
    m.insert("status".into(), json!(p.status.code()));
    m.insert(
        "start_date".into(),
        json!(p.start_date.map(|d| d.to_string())),
    );
    m.insert("end_date".into(), json!(p.end_date.map(|d| d.to_string())));
    m.insert("budget".into(), json!(p.budget));
    m.insert(
        "manager".into(),
        json!(p.manager.as_ref().map(|m| m.login.clone())),
    );
    m.insert(
        "services".into(),
        json!(services.iter().map(|s| s.name.clone()).collect::<Vec<_>>()),
    );
    m
}

fn parse_project(input: &ProjectInput, f: ProjectFields) -> AppResult<ProjectFields> {
    let mut errs = Errors::new();
    let mut f = ProjectFields {
        name: name_of(&mut errs, &input.name, f.name.clone()),
        description: text_of(
            &mut errs,
            "description",
            &input.description,
            f.description.clone(),
        ),
        ..f
    };
    if let Some(s) = &input.status {
        if let Some(s) = errs.take("status", ProjectStatus::parse(s)) {
            f.status = s;
        }
    }
    f.start_date = refs::date(&mut errs, "start_date", &input.start_date, f.start_date);
    f.end_date = refs::date(&mut errs, "end_date", &input.end_date, f.end_date);
    f.budget = refs::amount(&mut errs, "budget", input.budget, f.budget);
    if let (Some(s), Some(e)) = (f.start_date, f.end_date) {
        if e < s {
            errs.push(crate::FieldError::new(
                "end_date",
                "before_start",
                "must not be before the start date",
            ));
        }
    }
    errs.finish()?;
    Ok(f)
}

async fn resolve_project(tx: &mut Tx<'_>, key: &str) -> AppResult<Project> {
    if let Some(id) = ProjectId::parse(key.trim()) {
        return Ok(repo::get_project(tx, id).await?);
    }
    repo::find_project(tx, key).await?.ok_or(AppError::NotFound)
}

pub async fn create_project(core: &Core, ctx: &Ctx, input: ProjectInput) -> AppResult<Project> {
    require_editor(ctx)?;
    if input.name.is_none() {
        return Err(AppError::field("name", "required", "is required"));
    }
    let fields = parse_project(
        &input,
        ProjectFields {
            name: String::new(),
            description: String::new(),
            status: ProjectStatus::Proposed,
            start_date: None,
            end_date: None,
            budget: None,
            manager_id: None,
        },
    )?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let mut f = fields.clone();
            f.manager_id = refs::person(tx, "manager", &input.manager, None).await?;
            let services =
                refs::services(tx, "services", input.services.as_deref().unwrap_or(&[])).await?;
            let p = repo::insert_project(tx, ProjectId::new(), &f, now).await?;
            repo::set_project_services(tx, p.id, &services).await?;
            let sv = repo::project_services(tx, p.id).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "project",
                &p.id.to_string(),
                "create",
                None,
                Some(&project_audit_map(&p, &sv)),
            )
            .await?;
            Ok(p)
        })
        .await
}

pub async fn get_project(
    core: &Core,
    ctx: &Ctx,
    key: &str,
) -> AppResult<(Project, Vec<ServiceRef>)> {
    require_editor(ctx)?;
    let key = key.to_owned();
    core.store
        .read(async move |tx| {
            let p = resolve_project(tx, &key).await?;
            let s = repo::project_services(tx, p.id).await?;
            Ok((p, s))
        })
        .await
}

pub async fn update_project(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: ProjectInput,
    if_match: Option<i64>,
) -> AppResult<(Project, Vec<ServiceRef>)> {
    require_editor(ctx)?;
    let (current, _) = get_project(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get_project(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            let sv_before = repo::project_services(tx, before.id).await?;
            let mut f = parse_project(&input, before.fields())?;
            f.manager_id = refs::person(tx, "manager", &input.manager, f.manager_id).await?;
            if let Some(keys) = &input.services {
                let services = refs::services(tx, "services", keys).await?;
                repo::set_project_services(tx, before.id, &services).await?;
            }
            let after = crate::written(
                repo::update_project(tx, before.id, &f, before.version, now).await,
                if_match,
            )?;
            let sv = repo::project_services(tx, after.id).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "project",
                &after.id.to_string(),
                "update",
                Some(&project_audit_map(&before, &sv_before)),
                Some(&project_audit_map(&after, &sv)),
            )
            .await?;
            Ok((after, sv))
        })
        .await
}

pub async fn delete_project(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    if_match: Option<i64>,
) -> AppResult<()> {
    require_editor(ctx)?;
    let (current, _) = get_project(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = repo::get_project(tx, current.id).await?;
            crate::check_version(if_match, before.version)?;
            let sv = repo::project_services(tx, before.id).await?;
            crate::written(
                repo::delete_project(tx, before.id, before.version).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "project",
                &before.id.to_string(),
                "delete",
                Some(&project_audit_map(&before, &sv)),
                None,
            )
            .await?;
            Ok(())
        })
        .await
}

pub async fn list_projects(
    core: &Core,
    ctx: &Ctx,
    query: ProjectQuery,
    params: &ListParams,
) -> AppResult<Listed<Project>> {
    require_editor(ctx)?;
    let page = PageRequest::parse(params, PROJECT_SORT_FIELDS, "name")?;
    let status =
        crate::listing::parse_opt("status", query.status.as_deref(), ProjectStatus::parse)?;
    let service = match query.service.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(k) => Some(crate::portfolio::get(core, ctx, k).await?.id),
        None => None,
    };
    let filter = ProjectFilter {
        status,
        service,
        q: query.q,
    };
    let p2 = page.clone();
    let result = core
        .store
        .read(async move |tx| {
            repo::list_projects(tx, &filter, &p2.sort, p2.after.as_deref(), p2.limit).await
        })
        .await?;
    Ok(page.finish(result, |p| p))
}

// ----- applications -----

#[derive(Debug, Clone, Default)]
pub struct ApplicationInput {
    pub name: Option<String>,
    pub description: Option<String>,
    pub function: Option<String>,
    pub status: Option<String>,
    pub developing_group: RefChange,
    pub supporting_group: RefChange,
    /// Services the application serves (ids or names); replaces the list.
    pub services: Option<Vec<String>>,
    /// CIs the application consists of or runs on (ids); replaces the list.
    pub cis: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct ApplicationQuery {
    pub status: Option<String>,
    pub group: Option<String>,
    pub service: Option<String>,
    pub q: Option<String>,
}

pub const APP_SORT_FIELDS: &[(&str, AppSort)] = &[
    ("name", AppSort::Name),
    ("status", AppSort::Status),
    ("created_at", AppSort::CreatedAt),
];

/// An application with its links.
#[derive(Debug, Clone)]
pub struct ApplicationDetail {
    pub application: Application,
    pub services: Vec<ServiceRef>,
    pub cis: Vec<CiRef>,
}

fn app_audit_map(d: &ApplicationDetail) -> Map<String, Value> {
    let a = &d.application;
    let mut m = Map::new();
    m.insert("name".into(), json!(a.name));
    m.insert("description".into(), json!(a.description));
    m.insert("function".into(), json!(a.function));
    m.insert("status".into(), json!(a.status.code()));
    m.insert(
        "developing_group".into(),
        json!(a.developing_group.as_ref().map(|g| g.name.clone())),
    );
    m.insert(
        "supporting_group".into(),
        json!(a.supporting_group.as_ref().map(|g| g.name.clone())),
    );
    m.insert(
        "services".into(),
        json!(
            d.services
                .iter()
                .map(|s| s.name.clone())
                .collect::<Vec<_>>()
        ),
    );
    m.insert(
        "cis".into(),
        json!(d.cis.iter().map(|c| c.name.clone()).collect::<Vec<_>>()),
    );
    m
}

fn parse_app(input: &ApplicationInput, f: ApplicationFields) -> AppResult<ApplicationFields> {
    let mut errs = Errors::new();
    let mut f = ApplicationFields {
        name: name_of(&mut errs, &input.name, f.name.clone()),
        description: text_of(
            &mut errs,
            "description",
            &input.description,
            f.description.clone(),
        ),
        function: text_of(&mut errs, "function", &input.function, f.function.clone()),
        ..f
    };
    if let Some(s) = &input.status {
        if let Some(s) = errs.take("status", AppStatus::parse(s)) {
            f.status = s;
        }
    }
    errs.finish()?;
    Ok(f)
}

async fn app_detail_in(tx: &mut Tx<'_>, id: ApplicationId) -> AppResult<ApplicationDetail> {
    Ok(ApplicationDetail {
        application: repo::get_app(tx, id).await?,
        services: repo::app_services(tx, id).await?,
        cis: repo::app_cis(tx, id).await?,
    })
}

async fn resolve_app(tx: &mut Tx<'_>, key: &str) -> AppResult<Application> {
    if let Some(id) = ApplicationId::parse(key.trim()) {
        return Ok(repo::get_app(tx, id).await?);
    }
    repo::find_app(tx, key).await?.ok_or(AppError::NotFound)
}

async fn resolve_cis(tx: &mut Tx<'_>, keys: &[String]) -> AppResult<Vec<CiId>> {
    let mut out = Vec::new();
    for key in keys {
        let found = match CiId::parse(key.trim()) {
            Some(id) => match sigap_store::cmdb::get_ci(tx, id).await {
                Ok(c) => Some(c.id),
                Err(StoreError::NotFound) => None,
                Err(e) => return Err(e.into()),
            },
            None => None,
        };
        match found {
            Some(id) if !out.contains(&id) => out.push(id),
            Some(_) => {}
            None => {
                return Err(AppError::field(
                    "cis",
                    "not_found",
                    format!("no such configuration item: {key}"),
                ));
            }
        }
    }
    Ok(out)
}

async fn apply_links(
    tx: &mut Tx<'_>,
    id: ApplicationId,
    input: &ApplicationInput,
) -> AppResult<()> {
    if input.services.is_none() && input.cis.is_none() {
        return Ok(());
    }
    let services = match &input.services {
        Some(keys) => refs::services(tx, "services", keys).await?,
        None => repo::app_services(tx, id)
            .await?
            .iter()
            .map(|s| s.id)
            .collect(),
    };
    let cis = match &input.cis {
        Some(keys) => resolve_cis(tx, keys).await?,
        None => repo::app_cis(tx, id).await?.iter().map(|c| c.id).collect(),
    };
    repo::set_app_links(tx, id, &services, &cis).await?;
    Ok(())
}

pub async fn create_app(
    core: &Core,
    ctx: &Ctx,
    input: ApplicationInput,
) -> AppResult<ApplicationDetail> {
    require_editor(ctx)?;
    if input.name.is_none() {
        return Err(AppError::field("name", "required", "is required"));
    }
    let fields = parse_app(
        &input,
        ApplicationFields {
            name: String::new(),
            description: String::new(),
            function: String::new(),
            status: AppStatus::Production,
            developing_group_id: None,
            supporting_group_id: None,
        },
    )?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let mut f = fields.clone();
            f.developing_group_id =
                refs::group(tx, "developing_group", &input.developing_group, None).await?;
            f.supporting_group_id =
                refs::group(tx, "supporting_group", &input.supporting_group, None).await?;
            let a = repo::insert_app(tx, ApplicationId::new(), &f, now).await?;
            apply_links(tx, a.id, &input).await?;
            let d = app_detail_in(tx, a.id).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "application",
                &a.id.to_string(),
                "create",
                None,
                Some(&app_audit_map(&d)),
            )
            .await?;
            Ok(d)
        })
        .await
}

pub async fn get_app(core: &Core, ctx: &Ctx, key: &str) -> AppResult<ApplicationDetail> {
    require_editor(ctx)?;
    let key = key.to_owned();
    core.store
        .read(async move |tx| {
            let a = resolve_app(tx, &key).await?;
            app_detail_in(tx, a.id).await
        })
        .await
}

pub async fn update_app(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: ApplicationInput,
    if_match: Option<i64>,
) -> AppResult<ApplicationDetail> {
    require_editor(ctx)?;
    let current = get_app(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = app_detail_in(tx, current.application.id).await?;
            crate::check_version(if_match, before.application.version)?;
            let mut f = parse_app(&input, before.application.fields())?;
            f.developing_group_id = refs::group(
                tx,
                "developing_group",
                &input.developing_group,
                f.developing_group_id,
            )
            .await?;
            f.supporting_group_id = refs::group(
                tx,
                "supporting_group",
                &input.supporting_group,
                f.supporting_group_id,
            )
            .await?;
            let id = before.application.id;
            crate::written(
                repo::update_app(tx, id, &f, before.application.version, now).await,
                if_match,
            )?;
            apply_links(tx, id, &input).await?;
            let after = app_detail_in(tx, id).await?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "application",
                &id.to_string(),
                "update",
                Some(&app_audit_map(&before)),
                Some(&app_audit_map(&after)),
            )
            .await?;
            Ok(after)
        })
        .await
}

pub async fn delete_app(core: &Core, ctx: &Ctx, key: &str, if_match: Option<i64>) -> AppResult<()> {
    require_editor(ctx)?;
    let current = get_app(core, ctx, key).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let before = app_detail_in(tx, current.application.id).await?;
            crate::check_version(if_match, before.application.version)?;
            crate::written(
                repo::delete_app(tx, before.application.id, before.application.version).await,
                if_match,
            )?;
            audit::record_diff(
                tx,
                &actor,
                now,
                "application",
                &before.application.id.to_string(),
                "delete",
                Some(&app_audit_map(&before)),
                None,
            )
            .await?;
            Ok(())
        })
        .await
}

pub async fn list_apps(
    core: &Core,
    ctx: &Ctx,
    query: ApplicationQuery,
    params: &ListParams,
) -> AppResult<Listed<Application>> {
    require_editor(ctx)?;
    let page = PageRequest::parse(params, APP_SORT_FIELDS, "name")?;
    let status = crate::listing::parse_opt("status", query.status.as_deref(), AppStatus::parse)?;
    let service = match query.service.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(k) => Some(crate::portfolio::get(core, ctx, k).await?.id),
        None => None,
    };
    let (group, q) = (query.group, query.q);
    let p2 = page.clone();
    let result = core
        .store
        .read(async move |tx| {
            let group = match group.filter(|g| !g.trim().is_empty()) {
                Some(g) => refs::group(tx, "group", &Some(Some(g)), None).await?,
                None => None,
            };
            let filter = AppFilter {
                status,
                group,
                service,
                q,
            };
            Ok::<_, AppError>(
                repo::list_apps(tx, &filter, &p2.sort, p2.after.as_deref(), p2.limit).await?,
            )
        })
        .await?;
    Ok(page.finish(result, |a| a))
}
