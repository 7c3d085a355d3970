//! What change management is configured with, and what surrounds a change: each type's
//! risk questionnaire and approval rules by risk, standard change templates (proposed and
//! approved before use, orderable from the catalogue), change tasks, blackout windows,
//! offerings' maintenance windows, and CAB meetings with their agenda and decisions.

use super::{ChangeInput, new_task, plan};
use crate::Core;
use crate::audit::Actor;
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use crate::task::{self as core_task, Step, required};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sigap_domain::approval::{Need, Rule, Stage};
use sigap_domain::catalog::Plan;
use sigap_domain::process::change::{
    ChangeApproval, ChangeState, ChangeType, Questionnaire, RiskLevel,
};
use sigap_domain::{
    BlackoutId, CabMeetingId, ChangeTemplateId, PersonId, Role, parse_line, parse_text,
};
use sigap_store::changes::{
    self as repo, Blackout, Change, ChangeFields, Decision, Maintenance, Meeting, MeetingFields,
    Template, TemplateFields,
};
use sigap_store::groups::PersonRef;
use sigap_store::requests::RequestItem;
use sigap_store::{StoreError, Tx};
use std::collections::BTreeMap;

/// The groups the built-in rules ask: the CAB for normal changes of moderate risk and
/// above, the emergency CAB for emergency changes.
pub const CAB_GROUP: &str = "CAB";
pub const ECAB_GROUP: &str = "Emergency CAB";

/// A change type's risk questionnaire and approval rules by risk level.
#[derive(Debug, Clone)]
pub struct Model {
    pub change_type: ChangeType,
    pub questionnaire: Questionnaire,
    /// The rules set by an administrator, by risk level code; none: the built-in ones.
    pub rules: Option<BTreeMap<String, Rule>>,
}

pub(crate) async fn model_in(tx: &mut Tx<'_>, t: ChangeType) -> AppResult<Model> {
    Ok(match repo::model(tx, t).await? {
        Some((q, r)) => Model {
            change_type: t,
            questionnaire: serde_json::from_str(&q)
                .map_err(|e| AppError::Internal(format!("{t} questionnaire: {e}")))?,
            rules: Some(
                serde_json::from_str(&r)
                    .map_err(|e| AppError::Internal(format!("{t} rules: {e}")))?,
            ),
        },
        None => Model {
            change_type: t,
            questionnaire: Questionnaire::default_for(t),
            rules: None,
        },
    })
}

fn change_type(key: &str) -> AppResult<ChangeType> {
    ChangeType::parse(key.trim()).map_err(|_| AppError::NotFound)
}

/// A type's questionnaire and rules (agents).
pub async fn model(core: &Core, ctx: &Ctx, t: &str) -> AppResult<Model> {
    ctx.principal.require(Role::Agent)?;
    let t = change_type(t)?;
    core.store.read(async move |tx| model_in(tx, t).await).await
}

/// Sets a type's questionnaire and its approval rules by risk (`{low: [stages], …}`, every
/// level; null: the built-in rules). Administrators.
pub async fn set_model(
    core: &Core,
    ctx: &Ctx,
    t: &str,
    questionnaire: Value,
    rules: Value,
) -> AppResult<Model> {
    ctx.principal.require(Role::Admin)?;
    let t = change_type(t)?;
    let q: Questionnaire = serde_json::from_value(questionnaire)
        .map_err(|e| AppError::field("questionnaire", "invalid", e.to_string()))?;
    q.check().map_err(|errs| {
        AppError::Validation(
            errs.into_iter()
                .map(|(f, e)| FieldError::from_invalid(format!("questionnaire.{f}"), e))
                .collect(),
        )
    })?;
    let now = core.now();
    core.store
        .write(async move |tx| {
            let rules: Option<BTreeMap<String, Rule>> = match &rules {
                Value::Null => None,
                Value::Object(m) => {
                    let mut out = BTreeMap::new();
                    for level in RiskLevel::ALL {
                        let name = format!("rules.{}", level.code());
                        let v = m.get(level.code()).ok_or_else(|| {
                            AppError::field(&name, "required", "give the rule of every level")
                        })?;
                        out.insert(
                            level.code().to_owned(),
                            crate::catalog::read_rule(tx, &name, v).await?,
                        );
                    }
                    if let Some(k) = m.keys().find(|k| RiskLevel::parse(k).is_err()) {
                        return Err(AppError::field(
                            &format!("rules.{k}"),
                            "unknown",
                            "no such risk level",
                        ));
                    }
                    Some(out)
                }
                _ => {
                    return Err(AppError::field(
                        "rules",
                        "invalid",
                        "an object of rules by risk level, or null",
                    ));
                }
            };
            if rules.is_some() && t == ChangeType::Standard {
                return Err(AppError::field(
                    "rules",
                    "not_allowed",
                    "standard changes are pre-approved",
                ));
            }
            let qj = serde_json::to_string(&q).map_err(|e| AppError::Internal(e.to_string()))?;
            let rj = match &rules {
                Some(r) => {
                    serde_json::to_string(r).map_err(|e| AppError::Internal(e.to_string()))?
                }
                None => "null".to_owned(),
            };
            if rules.is_none() {
                repo::set_model(tx, t, &qj, "{}", now).await?;
            } else {
                repo::set_model(tx, t, &qj, &rj, now).await?;
            }
            Ok(Model {
                change_type: t,
                questionnaire: q.clone(),
                rules,
            })
        })
        .await
}

/// The approval rule of a change of type `t` at `risk`: the administrator's, or the
/// built-in one. Normal: low → the group's manager; moderate → the manager, then the CAB
/// (any); high → the CAB (all); very high → the manager, then the CAB (all). Emergency: the
/// emergency CAB (any).
pub(crate) async fn rule_for(
    tx: &mut Tx<'_>,
    t: ChangeType,
    risk: Option<RiskLevel>,
) -> AppResult<Rule> {
    let risk = risk.unwrap_or(RiskLevel::Low);
    let model = model_in(tx, t).await?;
    if let Some(rules) = model.rules.filter(|r| !r.is_empty()) {
        return Ok(rules.get(risk.code()).cloned().unwrap_or_default());
    }
    let group = async |tx: &mut Tx<'_>, name: &str| match crate::groups::resolve(tx, name).await {
        Ok(g) => Ok(g.id),
        Err(StoreError::NotFound) => Err(AppError::Conflict {
            code: "no_cab",
            message: format!(
                "there is no group named {name:?}: create it, or set the approval rules of {t} changes"
            ),
            field: None,
        }),
        Err(e) => Err(e.into()),
    };
    let stages = match (t, risk) {
        (ChangeType::Standard, _) => Vec::new(),
        (ChangeType::Emergency, _) => vec![Stage::Group {
            group: group(tx, ECAB_GROUP).await?,
            need: Need::Any,
        }],
        (ChangeType::Normal, RiskLevel::Low) => vec![Stage::GroupManager],
        (ChangeType::Normal, RiskLevel::Moderate) => vec![
            Stage::GroupManager,
            Stage::Group {
                group: group(tx, CAB_GROUP).await?,
                need: Need::Any,
            },
        ],
        (ChangeType::Normal, RiskLevel::High) => vec![Stage::Group {
            group: group(tx, CAB_GROUP).await?,
            need: Need::All,
        }],
        (ChangeType::Normal, RiskLevel::VeryHigh) => vec![
            Stage::GroupManager,
            Stage::Group {
                group: group(tx, CAB_GROUP).await?,
                need: Need::All,
            },
        ],
    };
    Rule::new(stages).map_err(|e| AppError::Internal(e.message))
}

// ----- templates -----

/// The fields a template fills in (references by id or name, as a change's input takes
/// them).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateContent {
    #[serde(default)]
    pub short_description: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub assignment_group: Option<String>,
    #[serde(default)]
    pub service: Option<String>,
    #[serde(default)]
    pub offering: Option<String>,
    #[serde(default)]
    pub configuration_item: Option<String>,
    #[serde(default)]
    pub cis: Vec<String>,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub implementation_plan: Option<String>,
    #[serde(default)]
    pub backout_plan: Option<String>,
    #[serde(default)]
    pub test_plan: Option<String>,
    #[serde(default)]
    pub risk: Option<String>,
    #[serde(default)]
    pub impact: Option<i64>,
    #[serde(default)]
    pub urgency: Option<i64>,
}

/// A template with its content read.
#[derive(Debug, Clone)]
pub struct TemplateDetail {
    pub template: Template,
    pub content: TemplateContent,
    pub tasks: Plan,
}

fn detail_of(t: Template) -> AppResult<TemplateDetail> {
    let content = serde_json::from_str(&t.fields)
        .map_err(|e| AppError::Internal(format!("template {}: {e}", t.name)))?;
    let tasks = serde_json::from_str(&t.tasks)
        .map_err(|e| AppError::Internal(format!("template {}: {e}", t.name)))?;
    Ok(TemplateDetail {
        template: t,
        content,
        tasks,
    })
}

pub(crate) async fn template_in(
    tx: &mut Tx<'_>,
    id: ChangeTemplateId,
) -> AppResult<TemplateDetail> {
    detail_of(repo::template(tx, id).await?)
}

async fn find_template(tx: &mut Tx<'_>, key: &str) -> AppResult<TemplateDetail> {
    let found = match ChangeTemplateId::parse(key.trim()) {
        Some(id) => repo::template(tx, id).await,
        None => repo::template_by_name(tx, key).await,
    };
    match found {
        Ok(t) => detail_of(t),
        Err(StoreError::NotFound) => Err(AppError::NotFound),
        Err(e) => Err(e.into()),
    }
}

/// What a template is written from.
#[derive(Debug, Clone)]
pub struct TemplateInput {
    pub name: String,
    pub fields: Value,
    pub tasks: Value,
    /// The catalogue item (id or name) that orders it.
    pub item: Option<String>,
}

async fn checked(tx: &mut Tx<'_>, input: &TemplateInput) -> AppResult<TemplateFields> {
    let name =
        parse_line(&input.name, 200).map_err(|e| AppError::field("name", e.code, e.message))?;
    if name.is_empty() {
        return Err(AppError::field("name", "required", "is required"));
    }
    let content: TemplateContent = serde_json::from_value(input.fields.clone())
        .map_err(|e| AppError::field("fields", "invalid", e.to_string()))?;
    let text_ok = |f: &str, v: &Option<String>| -> AppResult<()> {
        match v {
            Some(t) => parse_text(t, 32_000)
                .map(|_| ())
                .map_err(|e| AppError::field(&format!("fields.{f}"), e.code, e.message)),
            None => Ok(()),
        }
    };
    text_ok("short_description", &content.short_description)?;
    text_ok("description", &content.description)?;
    text_ok("implementation_plan", &content.implementation_plan)?;
    text_ok("backout_plan", &content.backout_plan)?;
    text_ok("test_plan", &content.test_plan)?;
    text_ok("reason", &content.reason)?;
    if let Some(r) = &content.risk {
        RiskLevel::parse(r).map_err(|e| AppError::field("fields.risk", e.code, e.message))?;
    }
    if let Some(g) = &content.assignment_group {
        if let Err(StoreError::NotFound) = crate::groups::resolve(tx, g).await {
            return Err(AppError::field(
                "fields.assignment_group",
                "not_found",
                "no such group",
            ));
        }
    }
    for (i, c) in content
        .cis
        .iter()
        .chain(&content.configuration_item)
        .enumerate()
    {
        if crate::task::resolve_ci(tx, c).await.is_err() {
            return Err(AppError::field(
                &format!("fields.cis.{i}"),
                "not_found",
                "no such CI",
            ));
        }
    }
    if content.cis.len() > super::MAX_CIS {
        return Err(AppError::field("fields.cis", "too_many", "at most 100 CIs"));
    }
    let tasks = crate::catalog::read_plan(tx, "tasks", &input.tasks).await?;
    let item_id = match &input.item {
        None => None,
        Some(key) => Some(
            crate::catalog::item_id_in(tx, key)
                .await
                .map_err(|e| match e {
                    AppError::NotFound => {
                        AppError::field("item", "not_found", "no such catalogue item")
                    }
                    other => other,
                })?,
        ),
    };
    Ok(TemplateFields {
        name,
        fields: json_text(&content)?,
        tasks: json_text(&tasks)?,
        item_id,
    })
}

fn json_text<T: Serialize>(v: &T) -> AppResult<String> {
    serde_json::to_string(v).map_err(|e| AppError::Internal(format!("json: {e}")))
}

/// Writes a new template, as a draft (agents).
pub async fn create_template(
    core: &Core,
    ctx: &Ctx,
    input: TemplateInput,
) -> AppResult<TemplateDetail> {
    ctx.principal.require_provider_agent()?;
    let (me, now) = (ctx.principal.person_id, core.now());
    core.store
        .write(async move |tx| {
            let f = checked(tx, &input).await?;
            let id = match repo::insert_template(tx, &f, me, now).await {
                Ok(id) => id,
                Err(StoreError::Conflict { .. }) => {
                    return Err(AppError::field(
                        "name",
                        "duplicate",
                        "a template has this name",
                    ));
                }
                Err(e) => return Err(e.into()),
            };
            template_in(tx, id).await
        })
        .await
}

/// Rewrites a template; it goes back to draft, to be approved again.
pub async fn update_template(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: TemplateInput,
    if_match: Option<i64>,
) -> AppResult<TemplateDetail> {
    ctx.principal.require_provider_agent()?;
    let (key, now) = (key.to_owned(), core.now());
    core.store
        .write(async move |tx| {
            let t = find_template(tx, &key).await?;
            crate::check_version(if_match, t.template.version)?;
            let f = checked(tx, &input).await?;
            match repo::update_template(tx, t.template.id, t.template.version, &f, now).await {
                Ok(()) => {}
                Err(StoreError::Conflict { .. }) => {
                    return Err(AppError::field(
                        "name",
                        "duplicate",
                        "a template has this name",
                    ));
                }
                Err(StoreError::VersionMismatch) => return Err(AppError::PreconditionFailed),
                Err(e) => return Err(e.into()),
            }
            template_in(tx, t.template.id).await
        })
        .await
}

/// A template's next state: `propose` (a draft or a rejected one, by an agent), `approve` or
/// `reject` (a proposed one, by a manager who did not propose it; a rejection says why),
/// `retire` (by a manager).
pub async fn decide_template(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    action: &str,
    note: &str,
) -> AppResult<TemplateDetail> {
    ctx.principal.require_provider_agent()?;
    let me = ctx.principal.person_id;
    let manager = ctx.principal.has(Role::Manager);
    let note = parse_text(note, 4_000).map_err(|e| AppError::field("note", e.code, e.message))?;
    let (key, action, now) = (key.to_owned(), action.to_owned(), core.now());
    core.store
        .write(async move |tx| {
            let t = find_template(tx, &key).await?;
            let state = t.template.state.as_str();
            let proposer = t.template.proposed_by.as_ref().map(|p| p.id);
            let to = match (action.as_str(), state) {
                ("propose", "draft" | "rejected") => "proposed",
                ("approve" | "reject", "proposed") if !manager => return Err(AppError::Forbidden),
                ("approve" | "reject", "proposed") if proposer.is_some() && proposer == me => {
                    return Err(AppError::Conflict {
                        code: "own_proposal",
                        message: "a template is approved by someone other than who proposed it"
                            .into(),
                        field: None,
                    });
                }
                ("approve", "proposed") => "approved",
                ("reject", "proposed") if note.trim().is_empty() => {
                    return Err(AppError::field(
                        "note",
                        "required",
                        "say why it is rejected",
                    ));
                }
                ("reject", "proposed") => "rejected",
                ("retire", _) if !manager => return Err(AppError::Forbidden),
                ("retire", s) if s != "retired" => "retired",
                ("propose" | "approve" | "reject" | "retire", s) => {
                    return Err(AppError::Conflict {
                        code: "invalid_transition",
                        message: format!("this template is {s}: it cannot be {action}d"),
                        field: None,
                    });
                }
                _ => return Err(AppError::NotFound),
            };
            repo::set_template_state(tx, t.template.id, to, me, &note, now).await?;
            template_in(tx, t.template.id).await
        })
        .await
}

pub async fn template(core: &Core, ctx: &Ctx, key: &str) -> AppResult<TemplateDetail> {
    ctx.principal.require(Role::Agent)?;
    let key = key.to_owned();
    core.store
        .read(async move |tx| find_template(tx, &key).await)
        .await
}

pub async fn templates(core: &Core, ctx: &Ctx) -> AppResult<Vec<TemplateDetail>> {
    ctx.principal.require(Role::Agent)?;
    let list = core
        .store
        .read(async move |tx| repo::templates(tx).await)
        .await?;
    list.into_iter().map(detail_of).collect()
}

/// An approved template, for a new standard change.
pub(crate) async fn usable_template(core: &Core, key: &str) -> AppResult<TemplateDetail> {
    let key = key.to_owned();
    let t = core
        .store
        .read(async move |tx| find_template(tx, &key).await)
        .await
        .map_err(|e| match e {
            AppError::NotFound => AppError::field("template", "not_found", "no such template"),
            other => other,
        })?;
    if t.template.state != "approved" {
        return Err(AppError::field(
            "template",
            "not_approved",
            format!(
                "the template is {}: only approved templates are used",
                t.template.state
            ),
        ));
    }
    Ok(t)
}

/// A standard change from a template: the template's fields fill what the input leaves
/// out.
pub(crate) fn fill_from(
    t: &TemplateDetail,
    input: &mut ChangeInput,
    f: &mut ChangeFields,
) -> AppResult<()> {
    if let Some(ty) = &input.change_type {
        if ty.trim() != ChangeType::Standard.code() {
            return Err(AppError::field(
                "change_type",
                "not_allowed",
                "a change from a template is a standard change",
            ));
        }
    }
    input.change_type = Some(ChangeType::Standard.code().to_owned());
    f.ext.change_type = ChangeType::Standard;
    f.ext.template_id = Some(t.template.id);
    f.ext.approval = ChangeApproval::NotRequired;
    f.ext.risk = t
        .content
        .risk
        .as_deref()
        .and_then(|r| RiskLevel::parse(r).ok());
    let c = &t.content;
    let i = &mut input.task;
    let fill = |slot: &mut Option<String>, v: &Option<String>| {
        if slot.is_none() {
            slot.clone_from(v);
        }
    };
    fill(&mut i.short_description, &c.short_description);
    fill(&mut i.description, &c.description);
    fill(&mut input.reason, &c.reason);
    fill(&mut input.implementation_plan, &c.implementation_plan);
    fill(&mut input.backout_plan, &c.backout_plan);
    fill(&mut input.test_plan, &c.test_plan);
    let refs = [
        (&mut i.assignment_group, &c.assignment_group),
        (&mut i.service, &c.service),
        (&mut i.offering, &c.offering),
        (&mut i.ci, &c.configuration_item),
    ];
    for (slot, v) in refs {
        if slot.is_none() && v.is_some() {
            *slot = Some(v.clone());
        }
    }
    if i.category.is_none() && c.category.is_some() {
        i.category = Some(c.category.clone());
    }
    i.impact = i.impact.or(c.impact);
    i.urgency = i.urgency.or(c.urgency);
    if input.cis.is_none() && !c.cis.is_empty() {
        input.cis = Some(c.cis.clone());
    }
    Ok(())
}

/// Opens a change's tasks of a plan (pending until it is implemented).
pub(crate) async fn open_tasks(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    change: &Change,
    plan: &Plan,
) -> AppResult<()> {
    for step in plan.tasks() {
        let mut f = new_task(change, step.order, actor.id);
        f.task.short_description = step.short_description.clone();
        f.task.description = step.description.clone();
        f.task.assignment_group_id = Some(step.group);
        core_task::open_in(tx, actor, now, &f, None).await?;
    }
    Ok(())
}

/// A change task added by hand.
#[derive(Debug, Clone, Default)]
pub struct TaskInput {
    pub short_description: String,
    pub description: String,
    pub assignment_group: Option<String>,
    pub assigned_to: Option<String>,
    pub order: Option<i64>,
}

/// Adds a task to a change not yet reviewed (agents); it opens when its order comes while
/// the change is implemented.
pub async fn add_task(
    core: &Core,
    ctx: &Ctx,
    change: &str,
    input: TaskInput,
) -> AppResult<sigap_store::changes::ChangeTask> {
    if !ctx.principal.can_write() {
        return Err(AppError::Forbidden);
    }
    let c: Change = core_task::get(core, ctx, change).await?;
    if !matches!(
        c.state,
        ChangeState::New
            | ChangeState::Assess
            | ChangeState::Authorize
            | ChangeState::Scheduled
            | ChangeState::Implement
    ) {
        return Err(AppError::Conflict {
            code: "invalid_state",
            message: format!(
                "this change is {}: tasks are added before its review",
                c.state
            ),
            field: None,
        });
    }
    let short = required("short_description", &input.short_description)?;
    let short = parse_line(&short, 160)
        .map_err(|e| AppError::field("short_description", e.code, e.message))?;
    let description = parse_text(&input.description, 32_000)
        .map_err(|e| AppError::field("description", e.code, e.message))?;
    let order = input.order.unwrap_or(10);
    if !(0..=1_000).contains(&order) {
        return Err(AppError::field(
            "order",
            "out_of_range",
            "an order is 0 to 1000",
        ));
    }
    let (actor, now) = (Actor::of(ctx), core.now());
    core.store
        .write(async move |tx| {
            let mut f = new_task(&c, order, actor.id);
            f.task.short_description = short.clone();
            f.task.description = description.clone();
            f.task.assignment_group_id = crate::refs::group(
                tx,
                "assignment_group",
                &input.assignment_group.clone().map(Some),
                c.assignment_group.as_ref().map(|g| g.id),
            )
            .await?;
            f.task.assigned_to_id = crate::refs::person(
                tx,
                "assigned_to",
                &input.assigned_to.clone().map(Some),
                None,
            )
            .await?;
            let t = core_task::open_in(tx, &actor, now, &f, None).await?;
            let change: Change = sigap_store::task::get(tx, c.id).await?;
            super::progress(tx, &actor, now, &change).await?;
            Ok(sigap_store::task::get(tx, t.id).await?)
        })
        .await
}

/// A standard change from the catalogue: an approved requested item whose catalogue item
/// orders a template makes the change, for its requester, a child of the item. Answers
/// named `planned_start` and `planned_end` (RFC 3339) plan its window; a window without
/// conflicts is scheduled at once.
pub async fn from_order(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: Timestamp,
    item: &RequestItem,
) -> AppResult<Option<Change>> {
    let Some(t) = repo::template_of_item(tx, item.ext.item_id).await? else {
        return Ok(None);
    };
    let t = detail_of(t)?;
    let c = &t.content;
    let mut f = ChangeFields {
        task: sigap_store::task::TaskFields::new(ChangeState::New, item.priority, actor.id),
        ext: sigap_store::changes::ChangeExt::default(),
    };
    f.short_description = c
        .short_description
        .clone()
        .unwrap_or_else(|| item.short_description.clone());
    f.description = format!(
        "{}\n\n{} {}",
        c.description.clone().unwrap_or_default(),
        item.number,
        item.short_description
    )
    .trim()
    .to_owned();
    f.caller_id = item.caller.as_ref().map(|p| p.id);
    f.organization_id = item.organization.as_ref().map(|o| o.id);
    f.parent_id = Some(item.id);
    f.contact_type = item.contact_type;
    f.assignment_group_id = match &c.assignment_group {
        Some(g) => crate::groups::resolve(tx, g).await.ok().map(|g| g.id),
        None => item.assignment_group.as_ref().map(|g| g.id),
    };
    f.service_id = item.service.as_ref().map(|s| s.id);
    f.offering_id = item.offering.as_ref().map(|o| o.id);
    if let Some(ci) = &c.configuration_item {
        f.ci_id = crate::task::resolve_ci(tx, ci).await.ok();
    }
    f.ext.change_type = ChangeType::Standard;
    f.ext.template_id = Some(t.template.id);
    f.ext.approval = ChangeApproval::NotRequired;
    f.ext.reason = c.reason.clone().unwrap_or_default();
    f.ext.implementation_plan = c.implementation_plan.clone().unwrap_or_default();
    f.ext.backout_plan = c.backout_plan.clone().unwrap_or_default();
    f.ext.test_plan = c.test_plan.clone().unwrap_or_default();
    let answers: sigap_domain::catalog::Answers =
        serde_json::from_str(&item.ext.answers).unwrap_or_default();
    let at = |name: &str| {
        answers
            .get(name)
            .and_then(Value::as_str)
            .and_then(|s| s.trim().parse::<Timestamp>().ok())
    };
    if let (Some(s), Some(e)) = (at("planned_start"), at("planned_end")) {
        if s < e {
            f.ext.planned_start = Some(s);
            f.ext.planned_end = Some(e);
        }
    }
    let mut direct = Vec::new();
    for key in &c.cis {
        if let Ok(id) = crate::task::resolve_ci(tx, key).await {
            direct.push(id);
        }
    }
    direct.extend(f.ci_id);
    direct.sort();
    direct.dedup();
    let impact = plan::impact_of(tx, &direct, f.service_id).await?;
    f.ext.impact_risk = Some(impact.risk_floor);
    let level = c.risk.as_deref().and_then(|r| RiskLevel::parse(r).ok());
    f.ext.risk = Some(level.unwrap_or(RiskLevel::Low).max(impact.risk_floor));
    let change = core_task::open_in(tx, actor, now, &f, None).await?;
    repo::set_cis(tx, change.id, &direct, &impact.reached).await?;
    open_tasks(tx, actor, now, &change, &t.tasks).await?;
    if change.ext.planned_start.is_none() {
        return Ok(Some(change));
    }
    let conflicts = plan::conflicts_in(tx, change.id, &change.fields()).await?;
    let mut g = change.fields();
    let note = if conflicts.is_empty() {
        g.task.state = ChangeState::Scheduled;
        format!("{} → {}", change.number, ChangeState::Scheduled)
    } else {
        let lines: Vec<String> = conflicts.iter().map(plan::Conflict::summary).collect();
        format!("not scheduled: {}", lines.join("; "))
    };
    let step = Step::note(sigap_domain::task::JournalKind::WorkNote, note);
    Ok(Some(
        core_task::save(tx, actor, now, &change, &g, step, None).await?,
    ))
}

// ----- blackout and maintenance windows -----

/// Adds a blackout window, everywhere or on one service (managers).
pub async fn add_blackout(
    core: &Core,
    ctx: &Ctx,
    name: &str,
    service: Option<&str>,
    starts: Timestamp,
    ends: Timestamp,
    reason: &str,
) -> AppResult<Blackout> {
    ctx.principal.require(Role::Manager)?;
    let name = parse_line(name, 200).map_err(|e| AppError::field("name", e.code, e.message))?;
    if name.is_empty() {
        return Err(AppError::field("name", "required", "is required"));
    }
    if ends <= starts {
        return Err(AppError::field(
            "ends_at",
            "before_start",
            "the end is before the start",
        ));
    }
    let reason =
        parse_text(reason, 4_000).map_err(|e| AppError::field("reason", e.code, e.message))?;
    let (service, now) = (service.map(str::to_owned), core.now());
    core.store
        .write(async move |tx| {
            let service = match &service {
                None => None,
                Some(key) => Some(
                    crate::refs::services(tx, "service", std::slice::from_ref(key))
                        .await?
                        .into_iter()
                        .next()
                        .ok_or_else(|| {
                            AppError::field("service", "not_found", "no such service")
                        })?,
                ),
            };
            let id =
                repo::insert_blackout(tx, &name, service, (starts, ends), &reason, now).await?;
            Ok(repo::blackout(tx, id).await?)
        })
        .await
}

pub async fn remove_blackout(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    ctx.principal.require(Role::Manager)?;
    let id = BlackoutId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let gone = core
        .store
        .write(async move |tx| repo::delete_blackout(tx, id).await)
        .await?;
    if gone {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

/// The blackout windows not yet over, and those of the last 30 days.
pub async fn blackouts(core: &Core, ctx: &Ctx) -> AppResult<Vec<Blackout>> {
    ctx.principal.require(Role::Agent)?;
    let now = core.now();
    let from = now
        .checked_sub(SignedDuration::from_hours(24 * 30))
        .unwrap_or(now);
    let to = Timestamp::MAX;
    Ok(core
        .store
        .read(async move |tx| repo::blackouts(tx, from, to, None).await)
        .await?)
}

/// Sets (or, with none, clears) an offering's maintenance window: the business hours of a
/// calendar (managers).
pub async fn set_maintenance(
    core: &Core,
    ctx: &Ctx,
    offering: &str,
    calendar: Option<&str>,
) -> AppResult<Option<Maintenance>> {
    ctx.principal.require(Role::Manager)?;
    let offering = sigap_domain::OfferingId::parse(offering.trim()).ok_or(AppError::NotFound)?;
    let (calendar, now) = (calendar.map(str::to_owned), core.now());
    core.store
        .write(async move |tx| {
            match sigap_store::portfolio::get_offering(tx, offering).await {
                Ok(_) => {}
                Err(StoreError::NotFound) => return Err(AppError::NotFound),
                Err(e) => return Err(e.into()),
            }
            let cal = match &calendar {
                None => None,
                Some(k) => Some(crate::sla::calendar_id(tx, k).await.map_err(|e| match e {
                    AppError::NotFound => {
                        AppError::field("calendar", "not_found", "no such calendar")
                    }
                    other => other,
                })?),
            };
            repo::set_maintenance(tx, offering, cal, now).await?;
            Ok(repo::maintenance_of(tx, offering).await?)
        })
        .await
}

pub async fn maintenance_windows(core: &Core, ctx: &Ctx) -> AppResult<Vec<Maintenance>> {
    ctx.principal.require(Role::Agent)?;
    Ok(core
        .store
        .read(async move |tx| repo::maintenance_windows(tx).await)
        .await?)
}

// ----- CAB meetings -----

/// What a meeting is written from. The agenda covers the changes whose planned start falls
/// in its window: by default the two weeks from the meeting on.
#[derive(Debug, Clone)]
pub struct MeetingInput {
    pub title: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub agenda_from: Option<Timestamp>,
    pub agenda_to: Option<Timestamp>,
    pub notes: String,
    pub attendees: Vec<String>,
}

/// A meeting with its attendees, its agenda (the changes awaiting authorization in its
/// window, and those it decided) and its decisions.
#[derive(Debug, Clone)]
pub struct MeetingDetail {
    pub meeting: Meeting,
    pub attendees: Vec<PersonRef>,
    pub agenda: Vec<Change>,
    pub decisions: Vec<Decision>,
}

async fn meeting_fields(
    tx: &mut Tx<'_>,
    input: &MeetingInput,
) -> AppResult<(MeetingFields, Vec<PersonId>)> {
    let title =
        parse_line(&input.title, 200).map_err(|e| AppError::field("title", e.code, e.message))?;
    if title.is_empty() {
        return Err(AppError::field("title", "required", "is required"));
    }
    if input.ends_at <= input.starts_at {
        return Err(AppError::field(
            "ends_at",
            "before_start",
            "the end is before the start",
        ));
    }
    let agenda_from = input.agenda_from.unwrap_or(input.starts_at);
    let agenda_to = input.agenda_to.unwrap_or_else(|| {
        agenda_from
            .checked_add(SignedDuration::from_hours(24 * 14))
            .unwrap_or(agenda_from)
    });
    if agenda_to <= agenda_from {
        return Err(AppError::field(
            "agenda_to",
            "before_start",
            "the agenda's window ends before it starts",
        ));
    }
    let notes = parse_text(&input.notes, 32_000)
        .map_err(|e| AppError::field("notes", e.code, e.message))?;
    if input.attendees.len() > 100 {
        return Err(AppError::field(
            "attendees",
            "too_many",
            "at most 100 attendees",
        ));
    }
    let mut people = Vec::new();
    for (i, key) in input.attendees.iter().enumerate() {
        match crate::people::resolve(tx, key).await {
            Ok(p) => people.push(p.id),
            Err(StoreError::NotFound) => {
                return Err(AppError::field(
                    &format!("attendees.{i}"),
                    "not_found",
                    "no such person",
                ));
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok((
        MeetingFields {
            title,
            starts_at: input.starts_at,
            ends_at: input.ends_at,
            agenda_from,
            agenda_to,
            notes,
        },
        people,
    ))
}

async fn meeting_in(tx: &mut Tx<'_>, id: CabMeetingId) -> AppResult<MeetingDetail> {
    let meeting = match repo::meeting(tx, id).await {
        Ok(m) => m,
        Err(StoreError::NotFound) => return Err(AppError::NotFound),
        Err(e) => return Err(e.into()),
    };
    let attendees = repo::attendees(tx, id).await?;
    let decisions = repo::decisions(tx, id).await?;
    let mut agenda = repo::awaiting_cab(tx, meeting.agenda_from, meeting.agenda_to).await?;
    for d in &decisions {
        if !agenda.iter().any(|c| c.id == d.change.id) {
            agenda.push(sigap_store::task::get(tx, d.change.id).await?);
        }
    }
    Ok(MeetingDetail {
        meeting,
        attendees,
        agenda,
        decisions,
    })
}

fn meeting_id(key: &str) -> AppResult<CabMeetingId> {
    CabMeetingId::parse(key.trim()).ok_or(AppError::NotFound)
}

/// Plans a CAB meeting (managers).
pub async fn create_meeting(
    core: &Core,
    ctx: &Ctx,
    input: MeetingInput,
) -> AppResult<MeetingDetail> {
    ctx.principal.require(Role::Manager)?;
    let now = core.now();
    core.store
        .write(async move |tx| {
            let (f, people) = meeting_fields(tx, &input).await?;
            let id = repo::insert_meeting(tx, &f, now).await?;
            repo::set_attendees(tx, id, &people).await?;
            meeting_in(tx, id).await
        })
        .await
}

pub async fn update_meeting(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    input: MeetingInput,
    if_match: Option<i64>,
) -> AppResult<MeetingDetail> {
    ctx.principal.require(Role::Manager)?;
    let (id, now) = (meeting_id(key)?, core.now());
    core.store
        .write(async move |tx| {
            let m = meeting_in(tx, id).await?;
            crate::check_version(if_match, m.meeting.version)?;
            let (f, people) = meeting_fields(tx, &input).await?;
            match repo::update_meeting(tx, id, m.meeting.version, &f, now).await {
                Ok(()) => {}
                Err(StoreError::VersionMismatch) => return Err(AppError::PreconditionFailed),
                Err(e) => return Err(e.into()),
            }
            repo::set_attendees(tx, id, &people).await?;
            meeting_in(tx, id).await
        })
        .await
}

pub async fn meeting(core: &Core, ctx: &Ctx, key: &str) -> AppResult<MeetingDetail> {
    ctx.principal.require(Role::Agent)?;
    let id = meeting_id(key)?;
    core.store
        .read(async move |tx| meeting_in(tx, id).await)
        .await
}

/// The meetings from 30 days ago on, soonest first.
pub async fn meetings(core: &Core, ctx: &Ctx) -> AppResult<Vec<Meeting>> {
    ctx.principal.require(Role::Agent)?;
    let now = core.now();
    let from = now
        .checked_sub(SignedDuration::from_hours(24 * 30))
        .unwrap_or(now);
    Ok(core
        .store
        .read(async move |tx| repo::meetings(tx, from, Timestamp::MAX).await)
        .await?)
}

/// Records the CAB's decision on a change at a meeting (managers): approved, rejected or
/// deferred, with a comment (required unless approved). When the one recording it has an
/// approval of the change waiting on them, their decision is made too.
pub async fn record_decision(
    core: &Core,
    ctx: &Ctx,
    key: &str,
    change: &str,
    decision: &str,
    comment: &str,
) -> AppResult<MeetingDetail> {
    ctx.principal.require(Role::Manager)?;
    let id = meeting_id(key)?;
    let decision = decision.trim().to_owned();
    if !matches!(decision.as_str(), "approved" | "rejected" | "deferred") {
        return Err(AppError::field(
            "decision",
            "invalid_choice",
            "approved, rejected or deferred",
        ));
    }
    let comment =
        parse_text(comment, 4_000).map_err(|e| AppError::field("comment", e.code, e.message))?;
    if decision != "approved" && comment.trim().is_empty() {
        return Err(AppError::field("comment", "required", "say why"));
    }
    let c: Change = core_task::get(core, ctx, change)
        .await
        .map_err(|e| match e {
            AppError::NotFound => AppError::field("change", "not_found", "no such change"),
            other => other,
        })?;
    let (me, now, actor) = (ctx.principal.person_id, core.now(), Actor::of(ctx));
    let (d, cm) = (decision.clone(), comment.clone());
    let waiting = core
        .store
        .write(async move |tx| {
            meeting_in(tx, id).await?;
            repo::record_decision(tx, id, c.id, &d, &cm, me, now).await?;
            let note = format!(
                "CAB: {d}{}",
                if cm.is_empty() {
                    String::new()
                } else {
                    format!(": {cm}")
                }
            );
            core_task::add_note(
                tx,
                &actor,
                c.id,
                sigap_domain::task::JournalKind::WorkNote,
                &note,
                now,
            )
            .await?;
            let mine = crate::approvals::of_task(tx, c.id)
                .await?
                .into_iter()
                .find(|a| {
                    Some(a.approver.id) == me
                        && a.state == sigap_domain::approval::ApprovalState::Requested
                });
            Ok::<_, AppError>(mine.map(|a| a.id))
        })
        .await?;
    if let (Some(a), "approved" | "rejected") = (waiting, decision.as_str()) {
        crate::approvals::decide(core, ctx, &a.to_string(), decision == "approved", &comment)
            .await?;
    }
    meeting(core, ctx, key).await
}
