//! Dashboards: grids of tiles, each a saved report or a panel of Sigap's own. People arrange
//! their own and share them as they share reports; the built-in ones come with the roles,
//! and one of them is the home page of each role (requesters, agents, managers). A tile
//! shows what its reader may see: a report they may not open is left out.

use super::saved::{Common, check_sharing, held_roles, may_edit, may_open, object, read_common};
use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use jiff::Timestamp;
use serde_json::{Value, json};
use sigap_domain::report::{Audience, Definition, Panel, Tile, TileKind};
use sigap_domain::{DashboardId, GroupId, PersonId, ReportId, Role};
use sigap_store::dashboards::{self as repo, DashboardWrite};
use sigap_store::saved_reports::{self as reports_repo, ReportWrite};

/// How many dashboards one person owns at most.
pub const MAX_OWNED: i64 = 50;

/// A dashboard as a reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Dashboard {
    pub id: DashboardId,
    pub name: String,
    pub description: String,
    /// None: a built-in dashboard.
    pub owner: Option<(PersonId, String)>,
    /// The role whose home page it is.
    pub home_role: Option<Role>,
    pub tiles: Vec<Tile>,
    pub audience: Audience,
    pub groups: Vec<(GroupId, String)>,
    pub roles: Vec<Role>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
    pub editable: bool,
}

impl Dashboard {
    fn common(&self) -> Common {
        Common {
            name: self.name.clone(),
            description: self.description.clone(),
            audience: self.audience,
            groups: self.groups.iter().map(|g| g.0).collect(),
            roles: self.roles.clone(),
        }
    }
}

fn seen(ctx: &Ctx, d: repo::Dashboard) -> AppResult<Dashboard> {
    let tiles = Tile::parse_all(&d.tiles).map_err(|e| {
        AppError::Internal(format!(
            "dashboard {} does not read: {}",
            d.id,
            e.iter()
                .map(|(f, e)| format!("{f}: {}", e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    let editable = may_edit(ctx, d.owner_id);
    Ok(Dashboard {
        id: d.id,
        name: d.name,
        description: d.description,
        owner: d.owner_id.zip(d.owner_name),
        home_role: d.home_role.as_deref().and_then(|r| Role::parse(r).ok()),
        tiles,
        audience: Audience::parse(&d.audience).unwrap_or(Audience::Private),
        groups: d.groups,
        roles: d.roles.iter().filter_map(|c| Role::parse(c).ok()).collect(),
        created_at: d.created_at,
        updated_at: d.updated_at,
        version: d.version,
        editable,
    })
}

/// The dashboards the reader may open, by name.
pub async fn list(core: &Core, ctx: &Ctx) -> AppResult<Vec<Dashboard>> {
    let me = ctx.principal.person()?;
    let roles = held_roles(ctx);
    let stored = core
        .store
        .read(async move |tx| repo::visible(tx, Some(me), &roles).await)
        .await?;
    stored.into_iter().map(|d| seen(ctx, d)).collect()
}

/// A dashboard the reader may open (another one is not found).
pub async fn get(core: &Core, ctx: &Ctx, id: &str) -> AppResult<Dashboard> {
    let id = DashboardId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let me = ctx.principal.person()?;
    let (d, mine) = core
        .store
        .read(async move |tx| {
            let d = repo::get(tx, id).await?;
            let mine = match &d {
                Some(d) if d.audience == "groups" => sigap_store::groups::of_person(tx, me).await?,
                _ => Vec::new(),
            };
            Ok::<_, AppError>((d, mine.into_iter().map(|g| g.id).collect::<Vec<_>>()))
        })
        .await?;
    match d {
        Some(d) if may_open(ctx, d.owner_id, &d.audience, &d.groups, &d.roles, &mine) => {
            seen(ctx, d)
        }
        _ => Err(AppError::NotFound),
    }
}

/// The role whose home page the reader sees: managers' for managers and administrators,
/// agents' for agents, requesters' for everyone else.
pub fn home_role(ctx: &Ctx) -> Role {
    match ctx.principal.roles.primary() {
        Role::Admin | Role::Manager => Role::Manager,
        Role::Agent => Role::Agent,
        _ => Role::Requester,
    }
}

/// The reader's home dashboard: the one they chose, while they may still open it, else the
/// built-in one of their role, if it is there.
pub async fn home(core: &Core, ctx: &Ctx) -> AppResult<Option<Dashboard>> {
    if let Some(me) = ctx.principal.person_id {
        let chosen = core
            .store
            .read(async move |tx| repo::chosen_home(tx, me).await)
            .await?;
        if let Some(id) = chosen {
            match get(core, ctx, &id.to_string()).await {
                Ok(d) => return Ok(Some(d)),
                Err(AppError::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
    }
    let role = home_role(ctx);
    let d = core
        .store
        .read(async move |tx| repo::home_of(tx, role.code()).await)
        .await?;
    d.map(|d| seen(ctx, d)).transpose()
}

/// Makes a dashboard the reader may open their home page; none: their role's again.
pub async fn choose_home(core: &Core, ctx: &Ctx, id: Option<&str>) -> AppResult<()> {
    let me = ctx.principal.person()?;
    let chosen = match id {
        Some(id) => Some(get(core, ctx, id).await?.id),
        None => None,
    };
    core.store
        .write(async move |tx| Ok::<_, AppError>(repo::choose_home(tx, me, chosen).await?))
        .await
}

const FIELDS: &[&str] = &[
    "name",
    "description",
    "audience",
    "groups",
    "roles",
    "tiles",
    "version",
];

fn read(body: &Value, before: Option<&Dashboard>) -> AppResult<(Common, Vec<Tile>)> {
    let mut errs = Vec::new();
    let o = object(body, FIELDS, "dashboard", &mut errs)?;
    let common = read_common(&o, before.map(Dashboard::common).as_ref(), &mut errs);
    let tiles = match (o.get("tiles"), before) {
        (Some(t), _) if !t.is_null() => match Tile::parse_all(t) {
            Ok(t) => t,
            Err(faults) => {
                errs.extend(
                    faults
                        .into_iter()
                        .map(|(f, e)| FieldError::from_invalid(f, e)),
                );
                Vec::new()
            }
        },
        (_, Some(b)) => b.tiles.clone(),
        (_, None) => Vec::new(),
    };
    match errs.is_empty() {
        true => Ok((common, tiles)),
        false => Err(AppError::Validation(errs)),
    }
}

/// Whether each report a tile names is one the writer may open.
async fn check_tiles(core: &Core, ctx: &Ctx, tiles: &[Tile]) -> AppResult<()> {
    for (i, t) in tiles.iter().enumerate() {
        if let TileKind::Report(id) = t.kind {
            match super::saved::get(core, ctx, &id.to_string()).await {
                Ok(_) => {}
                Err(AppError::NotFound) => {
                    return Err(AppError::field(
                        &format!("tiles[{i}].report"),
                        "not_found",
                        "no such report of yours or shared with you",
                    ));
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

fn audit_of(c: &Common, tiles: &[Tile]) -> Value {
    json!({
        "name": c.name,
        "audience": c.audience.code(),
        "groups": c.groups.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
        "roles": c.roles.iter().map(|r| r.code()).collect::<Vec<_>>(),
        "tiles": Tile::to_json(tiles),
    })
}

/// Makes a dashboard of the reader's (agents).
pub async fn create(core: &Core, ctx: &Ctx, body: &Value) -> AppResult<Dashboard> {
    ctx.principal.require(Role::Agent)?;
    let me = ctx.principal.person()?;
    let (c, tiles) = read(body, None)?;
    check_sharing(core, ctx, &c).await?;
    check_tiles(core, ctx, &tiles).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let id = DashboardId::new();
    core.store
        .write(async move |tx| {
            if repo::count_owned(tx, me).await? >= MAX_OWNED {
                return Err(AppError::field(
                    "dashboards",
                    "too_many",
                    format!("at most {MAX_OWNED} dashboards of one's own"),
                ));
            }
            let roles: Vec<String> = c.roles.iter().map(|r| r.code().to_owned()).collect();
            let json = Tile::to_json(&tiles);
            repo::insert(
                tx,
                &DashboardWrite {
                    id,
                    name: &c.name,
                    description: &c.description,
                    owner_id: Some(me),
                    home_role: None,
                    tiles: &json,
                    audience: c.audience.code(),
                    groups: &c.groups,
                    roles: &roles,
                    now,
                },
            )
            .await?;
            audit::record(
                tx,
                &actor,
                now,
                "dashboard",
                &id.to_string(),
                "create",
                audit_of(&c, &tiles),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    get(core, ctx, &id.to_string()).await
}

/// Changes a dashboard: the fields given (tiles are given whole). Its owner or an
/// administrator.
pub async fn update(
    core: &Core,
    ctx: &Ctx,
    id: &str,
    body: &Value,
    version: Option<i64>,
) -> AppResult<Dashboard> {
    let before = get(core, ctx, id).await?;
    if !before.editable {
        return Err(AppError::Forbidden);
    }
    let (c, tiles) = read(body, Some(&before))?;
    let expected = super::saved::expected_version(body, version)?;
    if expected.is_some_and(|v| v != before.version) {
        return Err(AppError::PreconditionFailed);
    }
    if before.owner.is_some() {
        check_sharing(core, ctx, &c).await?;
    }
    // Tiles already there stay even if their report is no longer the writer's to open.
    let new: Vec<Tile> = tiles
        .iter()
        .filter(|t| !before.tiles.contains(t))
        .copied()
        .collect();
    check_tiles(core, ctx, &new).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let (id, stored) = (before.id, before.version);
    let (owner, home_role) = (
        before.owner.map(|o| o.0),
        before.home_role.map(|r| r.code().to_owned()),
    );
    core.store
        .write(async move |tx| {
            let roles: Vec<String> = c.roles.iter().map(|r| r.code().to_owned()).collect();
            let json = Tile::to_json(&tiles);
            let done = repo::update(
                tx,
                &DashboardWrite {
                    id,
                    name: &c.name,
                    description: &c.description,
                    owner_id: owner,
                    home_role: home_role.as_deref(),
                    tiles: &json,
                    audience: c.audience.code(),
                    groups: &c.groups,
                    roles: &roles,
                    now,
                },
                stored,
            )
            .await?;
            if !done {
                return Err(AppError::PreconditionFailed);
            }
            audit::record(
                tx,
                &actor,
                now,
                "dashboard",
                &id.to_string(),
                "update",
                audit_of(&c, &tiles),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    get(core, ctx, &id.to_string()).await
}

/// Adds a report to the end of a dashboard of the reader's.
pub async fn add_report(
    core: &Core,
    ctx: &Ctx,
    dashboard: &str,
    report: &str,
    wide: bool,
) -> AppResult<Dashboard> {
    let d = get(core, ctx, dashboard).await?;
    let r = super::saved::get(core, ctx, report).await?;
    let mut tiles = d.tiles.clone();
    if tiles.len() >= sigap_domain::report::MAX_TILES {
        return Err(AppError::field(
            "tiles",
            "too_many",
            format!("at most {} tiles", sigap_domain::report::MAX_TILES),
        ));
    }
    tiles.push(Tile {
        kind: TileKind::Report(r.id),
        wide,
    });
    update(
        core,
        ctx,
        dashboard,
        &json!({"tiles": Tile::to_json(&tiles)}),
        Some(d.version),
    )
    .await
}

/// Removes a dashboard (its owner or an administrator; built-in ones stay).
pub async fn delete(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    let d = match get(core, ctx, id).await {
        Ok(d) => d,
        Err(AppError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    if !d.editable || d.home_role.is_some() {
        return Err(AppError::Forbidden);
    }
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            if repo::delete(tx, d.id).await? {
                audit::record(
                    tx,
                    &actor,
                    now,
                    "dashboard",
                    &d.id.to_string(),
                    "delete",
                    json!({"name": d.name}),
                )
                .await?;
            }
            Ok::<_, AppError>(())
        })
        .await
}

// ----- built-in reports and dashboards -----

/// A built-in report: its fixed id, its key (the words of its name are `builtin-<key>` in
/// the locale files), its English name (what the database keeps), the roles it is shared
/// with, and its definition.
struct BuiltinReport {
    id: &'static str,
    key: &'static str,
    name: &'static str,
    roles: &'static [Role],
    definition: fn() -> Value,
}

const BUILTIN_REPORTS: &[BuiltinReport] = &[
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000101",
        key: "my-open-incidents",
        name: "My open incidents",
        roles: &[Role::Agent],
        definition: || json!({"source": "incident", "queue": "mine", "period": "all_time", "display": "list"}),
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000102",
        key: "my-groups-queue",
        name: "My groups' open incidents by priority",
        roles: &[Role::Agent],
        definition: || {
            json!({"source": "incident", "queue": "my_groups", "period": "all_time",
                   "group_by": ["priority"], "display": "bar"})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000103",
        key: "incident-backlog",
        name: "Incident backlog by priority",
        roles: &[Role::Agent],
        definition: || {
            json!({"source": "incident", "state": ["new", "in_progress", "on_hold"],
                   "period": "all_time", "group_by": ["priority"], "display": "bar"})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000104",
        key: "incidents-by-week",
        name: "Incidents opened by week",
        roles: &[Role::Agent],
        definition: || {
            json!({"source": "incident", "period": "last_90_days",
                   "group_by": ["opened_at:week"], "display": "line"})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000105",
        key: "median-time-to-resolve",
        name: "Median time to resolve by priority",
        roles: &[Role::Agent],
        definition: || {
            json!({"source": "incident", "period": "last_90_days", "time": "resolved_at",
                   "group_by": ["priority"], "measure": "median", "of": "time_to_resolve",
                   "display": "bar", "target": 8})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000106",
        key: "my-open-reports",
        name: "My open incidents",
        roles: &[Role::Requester],
        definition: || {
            json!({"source": "incident", "state": ["new", "in_progress", "on_hold"],
                   "period": "all_time", "display": "list"})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000107",
        key: "my-open-requests",
        name: "My open requests",
        roles: &[Role::Requester],
        definition: || {
            json!({"source": "request", "state": ["open", "in_progress"],
                   "period": "all_time", "display": "list"})
        },
    },
    // The process KPIs (issue 22), each with its target line. A rate is the share of the
    // tasks that have the number (the resolved ones, the changes with an outcome…).
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000108",
        key: "kpi-mean-time-to-resolve",
        name: "Mean time to resolve by priority",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "incident", "period": "last_90_days", "time": "resolved_at",
                   "group_by": ["priority"], "measure": "average", "of": "time_to_resolve",
                   "display": "bar", "target": 24})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000109",
        key: "kpi-first-contact-resolution",
        name: "First-contact resolution rate",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "incident", "period": "last_12_months", "time": "resolved_at",
                   "group_by": ["resolved_at:month"], "measure": "rate",
                   "of": "first_contact_resolution", "display": "line", "target": 70})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000110",
        key: "kpi-reopen-rate",
        name: "Reopen rate",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "incident", "period": "last_12_months", "time": "resolved_at",
                   "group_by": ["resolved_at:month"], "measure": "rate", "of": "reopened",
                   "display": "line", "target": 5})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000111",
        key: "kpi-backlog-age",
        name: "Age of the incident backlog by priority",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "incident", "state": ["new", "in_progress", "on_hold"],
                   "period": "all_time", "group_by": ["priority"], "measure": "average",
                   "of": "age", "display": "bar", "target": 120})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000112",
        key: "kpi-open-known-errors",
        name: "Open known errors",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "problem",
                   "state": ["new", "assess", "root_cause_analysis", "fix_in_progress"],
                   "period": "all_time", "measure": "sum", "of": "known_error",
                   "display": "score", "target": 10})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000113",
        key: "kpi-time-to-root-cause",
        name: "Time to root cause by priority",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "problem", "period": "last_12_months", "group_by": ["priority"],
                   "measure": "average", "of": "time_to_known_error", "display": "bar",
                   "target": 240})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000114",
        key: "kpi-change-success-rate",
        name: "Change success rate",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "change", "period": "last_12_months", "time": "closed_at",
                   "group_by": ["closed_at:month"], "measure": "rate", "of": "successful",
                   "display": "line", "target": 95})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000115",
        key: "kpi-emergency-changes",
        name: "Emergency change ratio",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "change", "period": "last_12_months",
                   "group_by": ["opened_at:month"], "measure": "rate", "of": "emergency",
                   "display": "line", "target": 10})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000116",
        key: "kpi-changes-causing-incidents",
        name: "Changes that caused incidents",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "change", "period": "last_12_months", "time": "closed_at",
                   "group_by": ["closed_at:month"], "measure": "rate", "of": "caused_incidents",
                   "display": "line", "target": 5})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000117",
        key: "kpi-on-time-delivery",
        name: "Requested items delivered on time",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "request_item", "period": "last_12_months", "time": "closed_at",
                   "group_by": ["closed_at:month"], "measure": "rate", "of": "on_time",
                   "display": "line", "target": 90})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000118",
        key: "kpi-sla-compliance",
        name: "Incidents within their SLAs",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "incident", "period": "last_12_months", "time": "resolved_at",
                   "group_by": ["resolved_at:month"], "measure": "rate", "of": "sla_met",
                   "display": "line", "target": 95})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000121",
        key: "kpi-sla-targets-met",
        name: "SLA targets met by agreement",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "sla_clock", "period": "last_12_months", "time": "ended_at",
                   "group_by": ["agreement"], "measure": "rate", "of": "met",
                   "display": "bar", "target": 95})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000119",
        key: "kpi-deflections",
        name: "Knowledge deflections by owner group",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "article", "period": "all_time", "group_by": ["assignment_group"],
                   "measure": "sum", "of": "deflections", "display": "bar", "target": 50})
        },
    },
    BuiltinReport {
        id: "01900000-0000-7000-8000-000000000120",
        key: "kpi-alerts-per-incident",
        name: "Alerts per incident raised from events",
        roles: KPI_ROLES,
        definition: || {
            json!({"source": "incident", "period": "last_12_months",
                   "group_by": ["opened_at:month"], "measure": "average", "of": "alerts",
                   "display": "line", "target": 3})
        },
    },
];

/// Who the process KPIs are shared with.
const KPI_ROLES: &[Role] = &[Role::Agent, Role::Manager];

/// A built-in dashboard: its fixed id, key, English name, the role whose home it is, and
/// its tiles (built-in reports by key, or panels), and who it is shared with.
struct BuiltinDashboard {
    id: &'static str,
    key: &'static str,
    name: &'static str,
    home: Option<Role>,
    roles: &'static [Role],
    tiles: &'static [(&'static str, bool)],
}

const BUILTIN_DASHBOARDS: &[BuiltinDashboard] = &[
    BuiltinDashboard {
        id: "01900000-0000-7000-8000-000000000201",
        key: "agent-home",
        name: "Agent home",
        home: Some(Role::Agent),
        roles: &[Role::Agent],
        tiles: &[
            ("my-open-incidents", true),
            ("my-groups-queue", false),
            ("panel:breaching_soon", false),
            ("panel:major_incidents", true),
            ("panel:announcements", true),
        ],
    },
    BuiltinDashboard {
        id: "01900000-0000-7000-8000-000000000202",
        key: "manager-home",
        name: "Manager home",
        home: Some(Role::Manager),
        roles: &[Role::Manager],
        tiles: &[
            ("incident-backlog", false),
            ("incidents-by-week", false),
            ("panel:sla_compliance", false),
            ("median-time-to-resolve", false),
            ("kpi-first-contact-resolution", false),
            ("kpi-change-success-rate", false),
            ("panel:major_incidents", true),
        ],
    },
    BuiltinDashboard {
        id: "01900000-0000-7000-8000-000000000203",
        key: "requester-home",
        name: "My requests and incidents",
        home: Some(Role::Requester),
        roles: &[Role::Requester],
        tiles: &[
            ("panel:announcements", true),
            ("my-open-reports", true),
            ("my-open-requests", true),
        ],
    },
    BuiltinDashboard {
        id: "01900000-0000-7000-8000-000000000204",
        key: "process-kpis",
        name: "Process KPIs",
        home: None,
        roles: KPI_ROLES,
        tiles: &[
            ("kpi-mean-time-to-resolve", false),
            ("median-time-to-resolve", false),
            ("kpi-first-contact-resolution", false),
            ("kpi-reopen-rate", false),
            ("kpi-backlog-age", false),
            ("kpi-sla-compliance", false),
            ("kpi-sla-targets-met", false),
            ("kpi-open-known-errors", false),
            ("kpi-time-to-root-cause", false),
            ("kpi-change-success-rate", false),
            ("kpi-emergency-changes", false),
            ("kpi-changes-causing-incidents", false),
            ("kpi-on-time-delivery", false),
            ("kpi-deflections", false),
            ("kpi-alerts-per-incident", false),
        ],
    },
];

/// The key of a built-in report or dashboard by its id (its name's words are
/// `builtin-<key>`).
pub fn builtin_key(id: &str) -> Option<&'static str> {
    BUILTIN_REPORTS
        .iter()
        .map(|r| (r.id, r.key))
        .chain(BUILTIN_DASHBOARDS.iter().map(|d| (d.id, d.key)))
        .find(|(i, _)| *i == id)
        .map(|(_, k)| k)
}

/// Writes the built-in reports and dashboards that are missing (those there are left as an
/// administrator may have arranged them).
pub async fn ensure_builtin(core: &Core) -> AppResult<usize> {
    let now = core.now();
    core.store
        .write(async move |tx| {
            let mut made = 0;
            for r in BUILTIN_REPORTS {
                let id = ReportId::parse(r.id).ok_or_else(|| AppError::Internal(r.id.into()))?;
                let definition = Definition::parse(&(r.definition)())
                    .map_err(|e| AppError::Internal(format!("built-in report {}: {e:?}", r.key)))?
                    .to_json();
                let roles: Vec<String> = r.roles.iter().map(|r| r.code().to_owned()).collect();
                let w = ReportWrite {
                    id,
                    name: r.name,
                    description: "",
                    owner_id: None,
                    definition: &definition,
                    audience: "roles",
                    groups: &[],
                    roles: &roles,
                    now,
                };
                made += usize::from(reports_repo::insert(tx, &w).await?);
            }
            for d in BUILTIN_DASHBOARDS {
                let id = DashboardId::parse(d.id).ok_or_else(|| AppError::Internal(d.id.into()))?;
                let mut tiles = Vec::new();
                for (what, wide) in d.tiles {
                    let kind = match what.strip_prefix("panel:") {
                        Some(p) => TileKind::Panel(
                            Panel::parse(p).map_err(|e| AppError::Internal(e.message))?,
                        ),
                        None => {
                            let r = BUILTIN_REPORTS
                                .iter()
                                .find(|r| r.key == *what)
                                .and_then(|r| ReportId::parse(r.id))
                                .ok_or_else(|| AppError::Internal((*what).into()))?;
                            TileKind::Report(r)
                        }
                    };
                    tiles.push(Tile { kind, wide: *wide });
                }
                let json = Tile::to_json(&tiles);
                let roles: Vec<String> = d.roles.iter().map(|r| r.code().to_owned()).collect();
                let w = DashboardWrite {
                    id,
                    name: d.name,
                    description: "",
                    owner_id: None,
                    home_role: d.home.map(|r| r.code()),
                    tiles: &json,
                    audience: "roles",
                    groups: &[],
                    roles: &roles,
                    now,
                };
                made += usize::from(repo::insert(tx, &w).await?);
            }
            Ok::<_, AppError>(made)
        })
        .await
}
