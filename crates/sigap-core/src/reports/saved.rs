//! Saved reports: a definition (`sigap_domain::report::Definition`) kept under a name by its
//! owner, and shared with nobody, some groups, some roles or everyone. Whoever opens one
//! sees its numbers over the tasks *they* may see: a customer's agent, their
//! organization's. The period is relative (the last 30 days, this month…) and taken in the
//! viewer's time zone unless the report names one.

use super::{Aggregated, Aggregation, Behind, aggregate, behind};
use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde_json::{Map, Value, json};
use sigap_domain::report::{Audience, Definition, Display};
use sigap_domain::{GroupId, PersonId, ReportId, Role, parse_line, parse_text};
use sigap_store::saved_reports::{self as repo, ReportWrite, SavedReport};
use sigap_store::task::Extension;
use sigap_store::{changes, incidents, problems, requests};

/// How many reports one person owns at most.
pub const MAX_OWNED: i64 = 200;
/// How many groups or roles a report is shared with at most.
pub const MAX_SHARES: usize = 20;

/// A saved report as a reader sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub id: ReportId,
    pub name: String,
    pub description: String,
    /// None: a built-in report.
    pub owner: Option<(PersonId, String)>,
    pub definition: Definition,
    pub audience: Audience,
    pub groups: Vec<(GroupId, String)>,
    pub roles: Vec<Role>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub version: i64,
    /// Whether the reader may change or remove it.
    pub editable: bool,
}

/// A report's numbers as of now, for its reader.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportData {
    pub report: Report,
    pub from: Timestamp,
    pub to: Timestamp,
    pub time_zone: String,
    pub lines: Vec<super::Line>,
    /// A score's period before, and its lines.
    pub previous: Option<(Timestamp, Timestamp, Vec<super::Line>)>,
    /// A list's tasks, newest first.
    pub tasks: Vec<Behind>,
}

/// Whether the reader, whose groups are `mine`, may open what `owner` shares with
/// `audience` (its `groups` or `roles`): a report or a dashboard.
pub(crate) fn may_open(
    ctx: &Ctx,
    owner: Option<PersonId>,
    audience: &str,
    groups: &[(GroupId, String)],
    roles: &[String],
    mine: &[GroupId],
) -> bool {
    may_edit(ctx, owner)
        || match audience {
            "everyone" => true,
            "groups" => groups.iter().any(|(g, _)| mine.contains(g)),
            "roles" => roles
                .iter()
                .any(|code| Role::parse(code).is_ok_and(|role| ctx.principal.has(role))),
            _ => false,
        }
}

/// Whether the reader may change or remove what `owner` keeps (a report, a dashboard, a
/// schedule): its owner, or an administrator (the only ones who change built-in ones).
pub(crate) fn may_edit(ctx: &Ctx, owner: Option<PersonId>) -> bool {
    let me = ctx.principal.person_id;
    ctx.principal.has(Role::Admin) || (me.is_some() && owner == me)
}

/// The version a change is sent against: the body's `version`, else `If-Match`'s.
pub(crate) fn expected_version(body: &Value, if_match: Option<i64>) -> AppResult<Option<i64>> {
    match body.get("version") {
        None | Some(Value::Null) => Ok(if_match),
        Some(v) => Ok(Some(v.as_i64().ok_or_else(|| {
            AppError::field("version", "invalid_type", "must be a whole number")
        })?)),
    }
}

/// A stored report as the reader sees it; one whose definition no longer reads is an
/// internal fault.
fn seen(ctx: &Ctx, r: SavedReport) -> AppResult<Report> {
    let definition = Definition::parse(&r.definition).map_err(|e| {
        AppError::Internal(format!(
            "saved report {} does not read: {}",
            r.id,
            e.iter()
                .map(|(f, e)| format!("{f}: {}", e.message))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })?;
    let editable = may_edit(ctx, r.owner_id);
    Ok(Report {
        id: r.id,
        name: r.name,
        description: r.description,
        owner: r.owner_id.zip(r.owner_name),
        definition,
        audience: Audience::parse(&r.audience).unwrap_or(Audience::Private),
        groups: r.groups,
        roles: r.roles.iter().filter_map(|c| Role::parse(c).ok()).collect(),
        created_at: r.created_at,
        updated_at: r.updated_at,
        version: r.version,
        editable,
    })
}

/// The role codes the reader holds, implied ones too.
pub(crate) fn held_roles(ctx: &Ctx) -> Vec<&'static str> {
    Role::ALL
        .iter()
        .filter(|r| ctx.principal.has(**r))
        .map(|r| r.code())
        .collect()
}

/// The reports the reader may open, by name: their own and those shared with them.
pub async fn list(core: &Core, ctx: &Ctx) -> AppResult<Vec<Report>> {
    let me = ctx.principal.person()?;
    let roles = held_roles(ctx);
    let stored = core
        .store
        .read(async move |tx| repo::visible(tx, Some(me), &roles).await)
        .await?;
    stored.into_iter().map(|r| seen(ctx, r)).collect()
}

/// A report the reader may open (another one is not found).
pub async fn get(core: &Core, ctx: &Ctx, id: &str) -> AppResult<Report> {
    let id = ReportId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let me = ctx.principal.person()?;
    let (r, mine) = core
        .store
        .read(async move |tx| {
            let r = repo::get(tx, id).await?;
            let mine = match &r {
                Some(r) if r.audience == "groups" => sigap_store::groups::of_person(tx, me).await?,
                _ => Vec::new(),
            };
            Ok::<_, AppError>((r, mine.into_iter().map(|g| g.id).collect::<Vec<_>>()))
        })
        .await?;
    match r {
        Some(r) if may_open(ctx, r.owner_id, &r.audience, &r.groups, &r.roles, &mine) => {
            seen(ctx, r)
        }
        _ => Err(AppError::NotFound),
    }
}

/// The fields of a report's body.
const FIELDS: &[&str] = &[
    "name",
    "description",
    "audience",
    "groups",
    "roles",
    "definition",
    "version",
];

/// What every shared thing (a report, a dashboard) has: a name, a description, and who it is
/// shared with.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Common {
    pub name: String,
    pub description: String,
    pub audience: Audience,
    pub groups: Vec<GroupId>,
    pub roles: Vec<Role>,
}

/// A body as an object (none: an empty one), refusing what is not one or has fields not in
/// `fields`.
pub(crate) fn object<'a>(
    body: &'a Value,
    fields: &[&str],
    what: &str,
    errs: &mut Vec<FieldError>,
) -> AppResult<std::borrow::Cow<'a, Map<String, Value>>> {
    let o = match body {
        Value::Object(o) => std::borrow::Cow::Borrowed(o),
        Value::Null => std::borrow::Cow::Owned(Map::new()),
        _ => {
            return Err(AppError::field(
                "body",
                "invalid_type",
                format!("a {what} is a JSON object"),
            ));
        }
    };
    for k in o.keys() {
        if !fields.contains(&k.as_str()) {
            errs.push(FieldError::new(
                k.clone(),
                "unknown_field",
                format!(
                    "is not a field of a {what}; the fields are {}",
                    fields.join(", ")
                ),
            ));
        }
    }
    Ok(o)
}

/// A text field of a body: none when absent or null; another type is a fault.
pub(crate) fn text_field(
    o: &Map<String, Value>,
    k: &str,
    errs: &mut Vec<FieldError>,
) -> Option<String> {
    match o.get(k) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            errs.push(FieldError::new(k, "invalid_type", "must be a text"));
            None
        }
    }
}

/// Reads the common fields of a body; `before` fills in what a change leaves out.
pub(crate) fn read_common(
    o: &Map<String, Value>,
    before: Option<&Common>,
    errs: &mut Vec<FieldError>,
) -> Common {
    let text = |k: &str, errs: &mut Vec<FieldError>| text_field(o, k, errs);
    let name = match (text("name", errs), before) {
        (Some(n), _) => parse_line(&n, 100)
            .map_err(|e| errs.push(FieldError::from_invalid("name", e)))
            .unwrap_or_default(),
        (None, Some(b)) => b.name.clone(),
        (None, None) => {
            if !errs.iter().any(|e| e.field == "name") {
                errs.push(FieldError::new("name", "required", "is required"));
            }
            String::new()
        }
    };
    let description = match (text("description", errs), before) {
        (Some(d), _) => parse_text(d.trim(), 2000)
            .map_err(|e| errs.push(FieldError::from_invalid("description", e)))
            .unwrap_or_default(),
        (None, Some(b)) => b.description.clone(),
        (None, None) => String::new(),
    };
    let audience = match (text("audience", errs), before) {
        (Some(a), _) => Audience::parse(&a)
            .map_err(|e| errs.push(FieldError::from_invalid("audience", e)))
            .unwrap_or(Audience::Private),
        (None, Some(b)) => b.audience,
        (None, None) => Audience::Private,
    };
    let list = |k: &str, errs: &mut Vec<FieldError>| -> Option<Vec<String>> {
        match o.get(k) {
            None | Some(Value::Null) => None,
            Some(Value::Array(a)) if a.len() > MAX_SHARES => {
                errs.push(FieldError::new(
                    k,
                    "too_many",
                    format!("at most {MAX_SHARES}"),
                ));
                None
            }
            Some(Value::Array(a)) => {
                let mut out = Vec::new();
                for (i, v) in a.iter().enumerate() {
                    match v.as_str() {
                        Some(s) => out.push(s.trim().to_owned()),
                        None => errs.push(FieldError::new(
                            format!("{k}[{i}]"),
                            "invalid_type",
                            "must be a text",
                        )),
                    }
                }
                Some(out)
            }
            Some(_) => {
                errs.push(FieldError::new(k, "invalid_type", "must be a list"));
                None
            }
        }
    };
    let groups = match (list("groups", errs), before) {
        (Some(g), _) => {
            let mut ids = Vec::new();
            for (i, g) in g.iter().enumerate() {
                match GroupId::parse(g) {
                    Some(id) if !ids.contains(&id) => ids.push(id),
                    Some(_) => {}
                    None => errs.push(FieldError::new(
                        format!("groups[{i}]"),
                        "invalid_value",
                        "must be a group's id",
                    )),
                }
            }
            ids
        }
        (None, Some(b)) => b.groups.clone(),
        (None, None) => Vec::new(),
    };
    let roles = match (list("roles", errs), before) {
        (Some(r), _) => {
            let mut out = Vec::new();
            for (i, r) in r.iter().enumerate() {
                match Role::parse(r) {
                    Ok(role) if !out.contains(&role) => out.push(role),
                    Ok(_) => {}
                    Err(e) => errs.push(FieldError::from_invalid(format!("roles[{i}]"), e)),
                }
            }
            out
        }
        (None, Some(b)) => b.roles.clone(),
        (None, None) => Vec::new(),
    };
    if errs.is_empty() {
        match audience {
            Audience::Groups if groups.is_empty() => errs.push(FieldError::new(
                "groups",
                "required",
                "a report shared with groups names at least one",
            )),
            Audience::Roles if roles.is_empty() => errs.push(FieldError::new(
                "roles",
                "required",
                "a report shared with roles names at least one",
            )),
            _ => {}
        }
    }
    if errs.is_empty() {
        match audience {
            Audience::Groups if groups.is_empty() => errs.push(FieldError::new(
                "groups",
                "required",
                "what is shared with groups names at least one",
            )),
            Audience::Roles if roles.is_empty() => errs.push(FieldError::new(
                "roles",
                "required",
                "what is shared with roles names at least one",
            )),
            _ => {}
        }
    }
    Common {
        name,
        description,
        audience,
        groups,
        roles,
    }
}

/// A report as read from a request body, over the stored one for a change.
struct Written {
    common: Common,
    definition: Definition,
}

impl Report {
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

/// Reads a body (every fault, with its field); `before` fills in what a change leaves out.
fn read(body: &Value, before: Option<&Report>) -> AppResult<Written> {
    let mut errs = Vec::new();
    let o = object(body, FIELDS, "report", &mut errs)?;
    let common = read_common(&o, before.map(Report::common).as_ref(), &mut errs);
    let definition = match (o.get("definition"), before) {
        (Some(d), _) if !d.is_null() => match Definition::parse(d) {
            Ok(d) => Some(d),
            Err(faults) => {
                errs.extend(
                    faults
                        .into_iter()
                        .map(|(f, e)| FieldError::from_invalid(format!("definition.{f}"), e)),
                );
                None
            }
        },
        (_, Some(b)) => Some(b.definition.clone()),
        (_, None) => {
            errs.push(FieldError::new("definition", "required", "is required"));
            None
        }
    };
    if let Some(d) = &definition
        && let Err(e) = check_states(d)
    {
        errs.push(e);
    }
    match (definition, errs.is_empty()) {
        (Some(definition), true) => Ok(Written { common, definition }),
        _ => Err(AppError::Validation(errs)),
    }
}

/// Whether the states of a definition are its source's.
fn check_states(d: &Definition) -> Result<(), FieldError> {
    fn of<E: Extension>(states: &[String]) -> Result<(), FieldError> {
        use sigap_domain::task::StateModel;
        for (i, s) in states.iter().enumerate() {
            if let Err(e) = E::State::parse_code(s) {
                return Err(FieldError::from_invalid(
                    format!("definition.state[{i}]"),
                    e,
                ));
            }
        }
        Ok(())
    }
    use sigap_domain::task::TaskKind::*;
    // Another source's states are checked with the definition.
    let Some(kind) = d.source.task_kind() else {
        return Ok(());
    };
    match kind {
        Incident => of::<incidents::IncidentExt>(&d.states),
        Problem => of::<problems::ProblemExt>(&d.states),
        Change => of::<changes::ChangeExt>(&d.states),
        ChangeTask => of::<changes::ChangeTaskExt>(&d.states),
        Request => of::<requests::RequestExt>(&d.states),
        RequestItem => of::<requests::RequestItemExt>(&d.states),
        FulfilmentTask => of::<requests::CatalogTaskExt>(&d.states),
        Article => of::<sigap_store::knowledge::ArticleExt>(&d.states),
        ProblemTask => Err(FieldError::new(
            "definition.source",
            "invalid_choice",
            "cannot be reported on",
        )),
    }
}

/// Whether the writer may share as `w` asks: with their own groups (any group, for a
/// manager), with roles or everyone only as a manager. The groups must be there.
pub(crate) async fn check_sharing(core: &Core, ctx: &Ctx, w: &Common) -> AppResult<()> {
    let manager = ctx.principal.has(Role::Manager);
    match w.audience {
        Audience::Private => Ok(()),
        Audience::Roles | Audience::Everyone if !manager => Err(AppError::field(
            "audience",
            "forbidden",
            "only a manager shares with roles or with everyone",
        )),
        Audience::Roles | Audience::Everyone => Ok(()),
        Audience::Groups => {
            let me = ctx.principal.person()?;
            let wanted = w.groups.clone();
            let (mine, missing) = core
                .store
                .read(async move |tx| {
                    let mine: Vec<GroupId> = sigap_store::groups::of_person(tx, me)
                        .await?
                        .into_iter()
                        .map(|g| g.id)
                        .collect();
                    let mut missing = Vec::new();
                    for (i, g) in wanted.iter().enumerate() {
                        match sigap_store::groups::get(tx, *g).await {
                            Ok(_) => {}
                            Err(sigap_store::StoreError::NotFound) => missing.push(i),
                            Err(e) => return Err(AppError::from(e)),
                        }
                    }
                    Ok::<_, AppError>((mine, missing))
                })
                .await?;
            if let Some(i) = missing.first() {
                return Err(AppError::field(
                    &format!("groups[{i}]"),
                    "not_found",
                    "no such group",
                ));
            }
            if !manager && w.groups.iter().any(|g| !mine.contains(g)) {
                return Err(AppError::field(
                    "groups",
                    "forbidden",
                    "an agent shares with their own groups only",
                ));
            }
            Ok(())
        }
    }
}

fn audit_of(w: &Written) -> Value {
    let c = &w.common;
    json!({
        "name": c.name,
        "audience": c.audience.code(),
        "groups": c.groups.iter().map(|g| g.to_string()).collect::<Vec<_>>(),
        "roles": c.roles.iter().map(|r| r.code()).collect::<Vec<_>>(),
        "definition": w.definition.to_json(),
    })
}

/// Saves a new report of the reader's (agents).
pub async fn create(core: &Core, ctx: &Ctx, body: &Value) -> AppResult<Report> {
    ctx.principal.require(Role::Agent)?;
    let me = ctx.principal.person()?;
    let w = read(body, None)?;
    check_sharing(core, ctx, &w.common).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let id = ReportId::new();
    core.store
        .write(async move |tx| {
            if repo::count_owned(tx, me).await? >= MAX_OWNED {
                return Err(AppError::field(
                    "reports",
                    "too_many",
                    format!("at most {MAX_OWNED} reports of one's own"),
                ));
            }
            let definition = w.definition.to_json();
            let roles: Vec<String> = w.common.roles.iter().map(|r| r.code().to_owned()).collect();
            repo::insert(
                tx,
                &ReportWrite {
                    id,
                    name: &w.common.name,
                    description: &w.common.description,
                    owner_id: Some(me),
                    definition: &definition,
                    audience: w.common.audience.code(),
                    groups: &w.common.groups,
                    roles: &roles,
                    now,
                },
            )
            .await?;
            audit::record(
                tx,
                &actor,
                now,
                "report",
                &id.to_string(),
                "create",
                audit_of(&w),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    get(core, ctx, &id.to_string()).await
}

/// Changes a report: the fields given (a definition is given whole). Its owner or an
/// administrator.
pub async fn update(
    core: &Core,
    ctx: &Ctx,
    id: &str,
    body: &Value,
    version: Option<i64>,
) -> AppResult<Report> {
    let before = get(core, ctx, id).await?;
    if !before.editable {
        return Err(AppError::Forbidden);
    }
    let w = read(body, Some(&before))?;
    let expected = expected_version(body, version)?;
    if expected.is_some_and(|v| v != before.version) {
        return Err(AppError::PreconditionFailed);
    }
    check_sharing(core, ctx, &w.common).await?;
    let (actor, now) = (Actor::of(ctx), core.now());
    let (id, stored_version, owner) = (before.id, before.version, before.owner.map(|o| o.0));
    core.store
        .write(async move |tx| {
            let definition = w.definition.to_json();
            let roles: Vec<String> = w.common.roles.iter().map(|r| r.code().to_owned()).collect();
            let done = repo::update(
                tx,
                &ReportWrite {
                    id,
                    name: &w.common.name,
                    description: &w.common.description,
                    owner_id: owner,
                    definition: &definition,
                    audience: w.common.audience.code(),
                    groups: &w.common.groups,
                    roles: &roles,
                    now,
                },
                stored_version,
            )
            .await?;
            if !done {
                return Err(AppError::PreconditionFailed);
            }
            audit::record(
                tx,
                &actor,
                now,
                "report",
                &id.to_string(),
                "update",
                audit_of(&w),
            )
            .await?;
            Ok::<_, AppError>(())
        })
        .await?;
    get(core, ctx, &id.to_string()).await
}

/// Removes a report (its owner or an administrator); one that is not there is removed.
pub async fn delete(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    let r = match get(core, ctx, id).await {
        Ok(r) => r,
        Err(AppError::NotFound) => return Ok(()),
        Err(e) => return Err(e),
    };
    if !r.editable {
        return Err(AppError::Forbidden);
    }
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            if repo::delete(tx, r.id).await? {
                audit::record(
                    tx,
                    &actor,
                    now,
                    "report",
                    &r.id.to_string(),
                    "delete",
                    json!({"name": r.name}),
                )
                .await?;
            }
            Ok::<_, AppError>(())
        })
        .await
}

/// The aggregation a definition asks as of `now` for the reader, or of the period `back`
/// periods before.
pub fn aggregation(d: &Definition, ctx: &Ctx, now: Timestamp, back: i64) -> AppResult<Aggregation> {
    let zone = d
        .time_zone
        .clone()
        .unwrap_or_else(|| ctx.principal.time_zone.clone());
    let tz = TimeZone::get(&zone).unwrap_or(TimeZone::UTC);
    let (from, to) = match (d.window.bounds(now, &tz, back), d.custom) {
        (Some(b), _) => {
            b.map_err(|e| AppError::Validation(vec![FieldError::from_invalid("period", e)]))?
        }
        (None, Some((from, to))) => {
            let length = to.duration_since(from);
            let shift = |t: Timestamp| {
                (0..back)
                    .try_fold(t, |t, _| t.checked_sub(length))
                    .map_err(|_| {
                        AppError::field("period", "out_of_range", "the period is out of range")
                    })
            };
            (shift(from)?, shift(to)?)
        }
        (None, None) => {
            return Err(AppError::field(
                "period",
                "required",
                "a custom period needs from and to",
            ));
        }
    };
    Ok(Aggregation {
        source: d.source,
        group_by: d.group_by.clone(),
        measure: d.measure,
        of: d.of,
        time: d.time,
        from,
        to,
        time_zone: Some(zone),
        states: d.states.clone(),
        priority: d.priority,
        category: d.category.clone(),
        queue: d.queue,
    })
}

/// A report's numbers as of now, over the tasks the reader may see; a score's with those of
/// the period before.
pub async fn data(core: &Core, ctx: &Ctx, id: &str) -> AppResult<ReportData> {
    let report = get(core, ctx, id).await?;
    let now = core.now();
    let a = aggregation(&report.definition, ctx, now, 0)?;
    let (from, to) = (a.from, a.to);
    let tasks = match report.definition.display {
        Display::List => behind(core, ctx, a.clone(), Vec::new()).await?,
        _ => Vec::new(),
    };
    let Aggregated { time_zone, lines } = aggregate(core, ctx, a).await?;
    let previous = match report.definition.display {
        Display::Score => {
            let p = aggregation(&report.definition, ctx, now, 1)?;
            let (pf, pt) = (p.from, p.to);
            Some((pf, pt, aggregate(core, ctx, p).await?.lines))
        }
        _ => None,
    };
    Ok(ReportData {
        report,
        from,
        to,
        time_zone,
        lines,
        previous,
        tasks,
    })
}

/// The tasks behind one line of a report as of now (its keys, in the groupings' order).
pub async fn records(
    core: &Core,
    ctx: &Ctx,
    id: &str,
    keys: Vec<Option<String>>,
) -> AppResult<(Report, Vec<Behind>)> {
    let report = get(core, ctx, id).await?;
    let a = aggregation(&report.definition, ctx, core.now(), 0)?;
    let tasks = behind(core, ctx, a, keys).await?;
    Ok((report, tasks))
}

/// The groups the reader is a member of, by name: those an agent may share a report with.
pub async fn my_groups(core: &Core, ctx: &Ctx) -> AppResult<Vec<(GroupId, String)>> {
    let Some(me) = ctx.principal.person_id else {
        return Ok(Vec::new());
    };
    let groups = core
        .store
        .read(async move |tx| sigap_store::groups::of_person(tx, me).await)
        .await?;
    Ok(groups.into_iter().map(|g| (g.id, g.name)).collect())
}
