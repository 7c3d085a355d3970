//! The project portfolio (projects that create or change services) and the application
//! portfolio (applications, who builds and who supports them, and what they run on).

use super::cmdb::CiRef;
use super::groups::{GroupRef, PersonRef};
use super::list::{Page, Select, Val, into_page};
use super::{decode, name_key};
use crate::error::StoreResult;
use crate::tx::Tx;
use crate::value::Row;
use jiff::Timestamp;
use jiff::civil::Date;
use sigap_domain::portfolio::{AppStatus, ProjectStatus};
use sigap_domain::{ApplicationId, CiId, GroupId, PersonId, ProjectId, ServiceId};

/// A service as a project or application shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRef {
    pub id: ServiceId,
    pub name: String,
}

// ----- projects -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: ProjectId,
    pub name: String,
    pub description: String,
    pub status: ProjectStatus,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub budget: Option<i64>,
    pub manager: Option<PersonRef>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectFields {
    pub name: String,
    pub description: String,
    pub status: ProjectStatus,
    pub start_date: Option<Date>,
    pub end_date: Option<Date>,
    pub budget: Option<i64>,
    pub manager_id: Option<PersonId>,
}

impl Project {
    pub fn fields(&self) -> ProjectFields {
        ProjectFields {
            name: self.name.clone(),
            description: self.description.clone(),
            status: self.status,
            start_date: self.start_date,
            end_date: self.end_date,
            budget: self.budget,
            manager_id: self.manager.as_ref().map(|m| m.id),
        }
    }
}

const PROJECT_COLUMNS: &str = "p.id, p.name, p.description, p.status, p.start_date, p.end_date, p.budget, \
    m.id, m.login, m.name, p.created_at, p.updated_at, p.version";
const PROJECT_FROM: &str = "FROM project p LEFT JOIN person m ON m.id = p.manager_id";

fn project_from_row(row: &Row) -> StoreResult<Project> {
    Ok(Project {
        id: row.get(0)?,
        name: row.get(1)?,
        description: row.get(2)?,
        status: decode(3, row.get(3)?, ProjectStatus::parse)?,
        start_date: row.get(4)?,
        end_date: row.get(5)?,
        budget: row.get(6)?,
        manager: PersonRef::from_cols(row, 7)?,
        created_at: row.get(10)?,
        updated_at: row.get(11)?,
        version: row.get(12)?,
    })
}

pub async fn insert_project(
    tx: &mut Tx<'_>,
    id: ProjectId,
    f: &ProjectFields,
    now: Timestamp,
) -> StoreResult<Project> {
    let (start, end) = (
        f.start_date.map(|d| d.to_string()),
        f.end_date.map(|d| d.to_string()),
    );
    tx.execute(
        "INSERT INTO project (id, name, name_key, description, status, start_date, end_date, budget, manager_id, \
         created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, 1)",
        &[
            id.into(),
            f.name.as_str().into(),
            name_key(&f.name).as_str().into(),
            f.description.as_str().into(),
            f.status.code().into(),
            start.as_deref().into(),
            end.as_deref().into(),
            f.budget.into(),
            f.manager_id.into(),
            now.into(),
        ],
    )
    .await?;
    get_project(tx, id).await
}

pub async fn update_project(
    tx: &mut Tx<'_>,
    id: ProjectId,
    f: &ProjectFields,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Project> {
    let (start, end) = (
        f.start_date.map(|d| d.to_string()),
        f.end_date.map(|d| d.to_string()),
    );
    let n = tx
        .execute(
            "UPDATE project SET name = $2, name_key = $3, description = $4, status = $5, start_date = $6, \
             end_date = $7, budget = $8, manager_id = $9, updated_at = $10, version = version + 1 \
             WHERE id = $1 AND version = $11",
            &[
                id.into(),
                f.name.as_str().into(),
                name_key(&f.name).as_str().into(),
                f.description.as_str().into(),
                f.status.code().into(),
                start.as_deref().into(),
                end.as_deref().into(),
                f.budget.into(),
                f.manager_id.into(),
                now.into(),
                expected_version.into(),
            ],
        )
        .await?;
    super::versioned(n, get_project(tx, id)).await?;
    get_project(tx, id).await
}

pub async fn delete_project(
    tx: &mut Tx<'_>,
    id: ProjectId,
    expected_version: i64,
) -> StoreResult<()> {
    let n = tx
        .execute(
            "DELETE FROM project WHERE id = $1 AND version = $2",
            &[id.into(), expected_version.into()],
        )
        .await?;
    super::versioned(n, get_project(tx, id)).await?;
    Ok(())
}

pub async fn get_project(tx: &mut Tx<'_>, id: ProjectId) -> StoreResult<Project> {
    project_from_row(
        &tx.query_one(
            &format!("SELECT {PROJECT_COLUMNS} {PROJECT_FROM} WHERE p.id = $1"),
            &[id.into()],
        )
        .await?,
    )
}

pub async fn find_project(tx: &mut Tx<'_>, name: &str) -> StoreResult<Option<Project>> {
    tx.query_opt(
        &format!("SELECT {PROJECT_COLUMNS} {PROJECT_FROM} WHERE p.name_key = $1"),
        &[name_key(name).as_str().into()],
    )
    .await?
    .as_ref()
    .map(project_from_row)
    .transpose()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProjectSort {
    Name,
    Status,
    CreatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct ProjectFilter {
    pub status: Option<ProjectStatus>,
    pub service: Option<ServiceId>,
    pub q: Option<String>,
}

pub async fn list_projects(
    tx: &mut Tx<'_>,
    filter: &ProjectFilter,
    sort: &[(ProjectSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Project>> {
    let mut q = Select::new(&format!("SELECT {PROJECT_COLUMNS} {PROJECT_FROM}"));
    if let Some(s) = filter.status {
        q.filter("p.status = {}", Val::Text(s.code().to_owned()));
    }
    if let Some(s) = filter.service {
        q.filter(
            "p.id IN (SELECT project_id FROM project_service WHERE service_id = {})",
            Val::Uuid(s.as_uuid()),
        );
    }
    if let Some(text) = filter.q.as_deref().filter(|t| !t.trim().is_empty()) {
        q.contains("p.name_key", text.trim());
    }
    let keys = super::list::sort_keys(
        sort,
        |s| match s {
            ProjectSort::Name => "p.name_key",
            ProjectSort::Status => "p.status",
            ProjectSort::CreatedAt => "p.created_at",
        },
        "p.id",
    );
    q.page(&keys, after, limit)?;
    let items = q
        .run(tx)
        .await?
        .iter()
        .map(project_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(into_page(items, limit, |p| {
        keys.iter()
            .map(|k| match k.column {
                "p.name_key" => Val::Text(name_key(&p.name)),
                "p.status" => Val::Text(p.status.code().to_owned()),
                "p.created_at" => Val::Ts(p.created_at),
                _ => Val::Uuid(p.id.as_uuid()),
            })
            .collect()
    }))
}

pub async fn project_services(tx: &mut Tx<'_>, id: ProjectId) -> StoreResult<Vec<ServiceRef>> {
    tx.query(
        "SELECT s.id, s.name FROM project_service ps JOIN service s ON s.id = ps.service_id \
         WHERE ps.project_id = $1 ORDER BY s.name_key, s.id",
        &[id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(ServiceRef {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })
    .collect()
}

pub async fn set_project_services(
    tx: &mut Tx<'_>,
    id: ProjectId,
    services: &[ServiceId],
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM project_service WHERE project_id = $1",
        &[id.into()],
    )
    .await?;
    for s in services {
        tx.execute(
            "INSERT INTO project_service (project_id, service_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[id.into(), (*s).into()],
        )
        .await?;
    }
    Ok(())
}

/// Projects that create or change a service.
pub async fn projects_of_service(tx: &mut Tx<'_>, service: ServiceId) -> StoreResult<Vec<Project>> {
    tx.query(
        &format!(
            "SELECT {PROJECT_COLUMNS} {PROJECT_FROM} WHERE p.id IN \
             (SELECT project_id FROM project_service WHERE service_id = $1) ORDER BY p.name_key, p.id"
        ),
        &[service.into()],
    )
    .await?
    .iter()
    .map(project_from_row)
    .collect()
}

// ----- applications -----

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    pub id: ApplicationId,
    pub name: String,
    pub description: String,
    pub function: String,
    pub status: AppStatus,
    pub developing_group: Option<GroupRef>,
    pub supporting_group: Option<GroupRef>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationFields {
    pub name: String,
    pub description: String,
    pub function: String,
    pub status: AppStatus,
    pub developing_group_id: Option<GroupId>,
    pub supporting_group_id: Option<GroupId>,
}

impl Application {
    pub fn fields(&self) -> ApplicationFields {
        ApplicationFields {
            name: self.name.clone(),
            description: self.description.clone(),
            function: self.function.clone(),
            status: self.status,
            developing_group_id: self.developing_group.as_ref().map(|g| g.id),
            supporting_group_id: self.supporting_group.as_ref().map(|g| g.id),
        }
    }
}

const APP_COLUMNS: &str = "a.id, a.name, a.description, a.app_function, a.status, d.id, d.name, sg.id, sg.name, \
    a.created_at, a.updated_at, a.version";
const APP_FROM: &str = "FROM application a LEFT JOIN support_group d ON d.id = a.developing_group_id \
    LEFT JOIN support_group sg ON sg.id = a.supporting_group_id";

fn app_from_row(row: &Row) -> StoreResult<Application> {
    Ok(Application {
        id: row.get(0)?,
        name: row.get(1)?,
        description: row.get(2)?,
        function: row.get(3)?,
        status: decode(4, row.get(4)?, AppStatus::parse)?,
        developing_group: GroupRef::from_cols(row, 5)?,
        supporting_group: GroupRef::from_cols(row, 7)?,
        created_at: row.get(9)?,
        updated_at: row.get(10)?,
        version: row.get(11)?,
    })
}

pub async fn insert_app(
    tx: &mut Tx<'_>,
    id: ApplicationId,
    f: &ApplicationFields,
    now: Timestamp,
) -> StoreResult<Application> {
    tx.execute(
        "INSERT INTO application (id, name, name_key, description, app_function, status, developing_group_id, \
         supporting_group_id, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, 1)",
        &[
            id.into(),
            f.name.as_str().into(),
            name_key(&f.name).as_str().into(),
            f.description.as_str().into(),
            f.function.as_str().into(),
            f.status.code().into(),
            f.developing_group_id.into(),
            f.supporting_group_id.into(),
            now.into(),
        ],
    )
    .await?;
    get_app(tx, id).await
}

pub async fn update_app(
    tx: &mut Tx<'_>,
    id: ApplicationId,
    f: &ApplicationFields,
    expected_version: i64,
    now: Timestamp,
) -> StoreResult<Application> {
    let n = tx
        .execute(
            "UPDATE application SET name = $2, name_key = $3, description = $4, app_function = $5, status = $6, \
             developing_group_id = $7, supporting_group_id = $8, updated_at = $9, version = version + 1 \
             WHERE id = $1 AND version = $10",
            &[
                id.into(),
                f.name.as_str().into(),
                name_key(&f.name).as_str().into(),
                f.description.as_str().into(),
                f.function.as_str().into(),
                f.status.code().into(),
                f.developing_group_id.into(),
                f.supporting_group_id.into(),
                now.into(),
                expected_version.into(),
            ],
        )
        .await?;
    super::versioned(n, get_app(tx, id)).await?;
    get_app(tx, id).await
}

pub async fn delete_app(
    tx: &mut Tx<'_>,
    id: ApplicationId,
    expected_version: i64,
) -> StoreResult<()> {
    let n = tx
        .execute(
            "DELETE FROM application WHERE id = $1 AND version = $2",
            &[id.into(), expected_version.into()],
        )
        .await?;
    super::versioned(n, get_app(tx, id)).await?;
    Ok(())
}

pub async fn get_app(tx: &mut Tx<'_>, id: ApplicationId) -> StoreResult<Application> {
    app_from_row(
        &tx.query_one(
            &format!("SELECT {APP_COLUMNS} {APP_FROM} WHERE a.id = $1"),
            &[id.into()],
        )
        .await?,
    )
}

pub async fn find_app(tx: &mut Tx<'_>, name: &str) -> StoreResult<Option<Application>> {
    tx.query_opt(
        &format!("SELECT {APP_COLUMNS} {APP_FROM} WHERE a.name_key = $1"),
        &[name_key(name).as_str().into()],
    )
    .await?
    .as_ref()
    .map(app_from_row)
    .transpose()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppSort {
    Name,
    Status,
    CreatedAt,
}

#[derive(Debug, Clone, Default)]
pub struct AppFilter {
    pub status: Option<AppStatus>,
    pub group: Option<GroupId>,
    pub service: Option<ServiceId>,
    pub q: Option<String>,
}

pub async fn list_apps(
    tx: &mut Tx<'_>,
    filter: &AppFilter,
    sort: &[(AppSort, bool)],
    after: Option<&[Val]>,
    limit: i64,
) -> StoreResult<Page<Application>> {
    let mut q = Select::new(&format!("SELECT {APP_COLUMNS} {APP_FROM}"));
    if let Some(s) = filter.status {
        q.filter("a.status = {}", Val::Text(s.code().to_owned()));
    }
    if let Some(g) = filter.group {
        let ph = q.bind(Val::Uuid(g.as_uuid()));
        q.condition(format!(
            "(a.developing_group_id = {ph} OR a.supporting_group_id = {ph})"
        ));
    }
    if let Some(s) = filter.service {
        q.filter(
            "a.id IN (SELECT application_id FROM application_service WHERE service_id = {})",
            Val::Uuid(s.as_uuid()),
        );
    }
    if let Some(text) = filter.q.as_deref().filter(|t| !t.trim().is_empty()) {
        q.contains("a.name_key", text.trim());
    }
    let keys = super::list::sort_keys(
        sort,
        |s| match s {
            AppSort::Name => "a.name_key",
            AppSort::Status => "a.status",
            AppSort::CreatedAt => "a.created_at",
        },
        "a.id",
    );
    q.page(&keys, after, limit)?;
    let items = q
        .run(tx)
        .await?
        .iter()
        .map(app_from_row)
        .collect::<StoreResult<Vec<_>>>()?;
    Ok(into_page(items, limit, |a| {
        keys.iter()
            .map(|k| match k.column {
                "a.name_key" => Val::Text(name_key(&a.name)),
                "a.status" => Val::Text(a.status.code().to_owned()),
                "a.created_at" => Val::Ts(a.created_at),
                _ => Val::Uuid(a.id.as_uuid()),
            })
            .collect()
    }))
}

pub async fn app_services(tx: &mut Tx<'_>, id: ApplicationId) -> StoreResult<Vec<ServiceRef>> {
    tx.query(
        "SELECT s.id, s.name FROM application_service x JOIN service s ON s.id = x.service_id \
         WHERE x.application_id = $1 ORDER BY s.name_key, s.id",
        &[id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(ServiceRef {
            id: r.get(0)?,
            name: r.get(1)?,
        })
    })
    .collect()
}

pub async fn app_cis(tx: &mut Tx<'_>, id: ApplicationId) -> StoreResult<Vec<CiRef>> {
    tx.query(
        "SELECT c.id, c.name, k.code FROM application_ci x JOIN ci c ON c.id = x.ci_id \
         JOIN ci_class k ON k.id = c.class_id WHERE x.application_id = $1 ORDER BY c.name_key, c.id",
        &[id.into()],
    )
    .await?
    .iter()
    .map(|r| {
        Ok(CiRef {
            id: r.get(0)?,
            name: r.get(1)?,
            class_code: r.get(2)?,
        })
    })
    .collect()
}

pub async fn set_app_links(
    tx: &mut Tx<'_>,
    id: ApplicationId,
    services: &[ServiceId],
    cis: &[CiId],
) -> StoreResult<()> {
    tx.execute(
        "DELETE FROM application_service WHERE application_id = $1",
        &[id.into()],
    )
    .await?;
    tx.execute(
        "DELETE FROM application_ci WHERE application_id = $1",
        &[id.into()],
    )
    .await?;
    for s in services {
        tx.execute(
            "INSERT INTO application_service (application_id, service_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[id.into(), (*s).into()],
        )
        .await?;
    }
    for c in cis {
        tx.execute(
            "INSERT INTO application_ci (application_id, ci_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[id.into(), (*c).into()],
        )
        .await?;
    }
    Ok(())
}
