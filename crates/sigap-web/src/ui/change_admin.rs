//! Change management's settings, for agents and managers: standard change templates (their
//! state with propose, approve, reject and retire, and the form of a template's fields and
//! tasks), blackout windows, offerings' maintenance windows, and each type's risk
//! questionnaire and approval rules, shown as they are.

use super::changes::{FieldErrors, local_time, prefixed, risk_label, type_label, window};
use super::views::{notice, when};
use super::*;
use axum::extract::{Path, Query};
use serde_json::{Map, Value, json};
use sigap_core::changes::{self, TemplateDetail, TemplateInput};
use sigap_core::listing::ListParams;
use sigap_domain::Role;
use sigap_domain::approval::Stage;
use sigap_domain::process::change::{ChangeType, RiskLevel};
use std::collections::HashMap;

/// The spare task rows of the template form.
const SPARE_TASKS: usize = 3;

/// The names of the groups by id, to show rules and plans.
async fn group_names(v: &Visit) -> HashMap<String, String> {
    let params = ListParams {
        limit: Some(sigap_core::listing::MAX_LIMIT),
        ..ListParams::default()
    };
    let query = sigap_core::groups::GroupQuery::default();
    sigap_core::groups::list(&v.state.core, &v.ctx, query, &params)
        .await
        .map(|l| {
            l.items
                .into_iter()
                .map(|g| (g.id.to_string(), g.name))
                .collect()
        })
        .unwrap_or_default()
}

// ----- the hub: templates and models -----

pub struct TemplateLine {
    pub id: String,
    pub name: String,
    pub state: String,
    pub state_code: String,
    pub proposed_by: String,
    pub decided: String,
    pub note: String,
    pub item: String,
    pub tasks: usize,
}

fn template_line(tt: Tr<'_>, viewer: &Viewer, d: &TemplateDetail) -> TemplateLine {
    let t = &d.template;
    let decided = match (&t.decided_by, t.decided_at) {
        (Some(p), Some(at)) => format!("{} · {}", p.name, when(at, viewer)),
        (None, Some(at)) => when(at, viewer),
        _ => String::new(),
    };
    TemplateLine {
        id: t.id.to_string(),
        name: t.name.clone(),
        state: tt.get(&format!("change-template-state-{}", t.state)),
        state_code: t.state.clone(),
        proposed_by: t
            .proposed_by
            .as_ref()
            .map(|p| p.name.clone())
            .unwrap_or_default(),
        decided,
        note: t.decision_note.clone(),
        item: t.item.as_ref().map(|i| i.name.clone()).unwrap_or_default(),
        tasks: d.tasks.tasks().len(),
    }
}

/// The next steps a template's state allows the viewer: (action, label).
fn template_steps(tt: Tr<'_>, state: &str, manager: bool) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if matches!(state, "draft" | "rejected") {
        out.push("propose");
    }
    if state == "proposed" && manager {
        out.push("approve");
    }
    if state != "retired" && manager {
        out.push("retire");
    }
    out.into_iter()
        .map(|a| (a.to_owned(), tt.get(&format!("change-template-action-{a}"))))
        .collect()
}

/// A risk question as the settings show it: its text and its answers with their weights.
pub struct QuestionLine {
    pub label: String,
    pub choices: Vec<(String, u32)>,
}

/// A type's questionnaire and rules, read only.
pub struct ModelView {
    pub code: String,
    pub name: String,
    pub questions: Vec<QuestionLine>,
    /// The scores from which the risk is moderate, high and very high.
    pub thresholds: (u32, u32, u32),
    /// The approval rule by risk: (level, stages); empty when the built-in rules apply.
    pub rules: Vec<(String, Vec<String>)>,
    pub builtin: String,
}

fn stage_text(tt: Tr<'_>, s: &Stage, groups: &HashMap<String, String>) -> String {
    let need = |n: sigap_domain::approval::Need| tt.get(&format!("need-{}", n.code()));
    match s {
        Stage::Manager => tt.get("approvers-manager"),
        Stage::GroupManager => tt.get("approvers-group_manager"),
        Stage::People { people, need: n } => format!(
            "{} ({}) — {}",
            tt.get("approvers-people"),
            people.len(),
            need(*n)
        ),
        Stage::Group { group, need: n } => {
            let id = group.to_string();
            let name = groups.get(&id).cloned().unwrap_or(id);
            format!("{}: {name} — {}", tt.get("approvers-group"), need(*n))
        }
    }
}

#[derive(Template)]
#[template(path = "change_admin.html")]
pub struct ChangeAdminPage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub templates: Vec<(TemplateLine, Vec<(String, String)>)>,
    pub models: Vec<ModelView>,
    pub new_name: String,
}

async fn admin_view(
    v: &Visit,
    q: &HashMap<String, String>,
    typed: &str,
    refused: Option<AppError>,
) -> PageResult {
    let list = changes::templates(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome("change_admin", "change-admin-title");
    notice(&mut chrome, q);
    let (status, errs) = FieldErrors::split(&mut chrome, refused, &["name"]);
    let tt = chrome.t;
    let manager = v.ctx.principal.has(Role::Manager);
    let groups = group_names(v).await;
    let mut models = Vec::new();
    for t in &[
        ChangeType::Normal,
        ChangeType::Emergency,
        ChangeType::Standard,
    ] {
        let m = changes::model(&v.state.core, &v.ctx, t.code()).await?;
        let q = &m.questionnaire;
        let in_language = |en: &str, id: &str| {
            if tt.locale == sigap_domain::Locale::Id && !id.trim().is_empty() {
                id.to_owned()
            } else {
                en.to_owned()
            }
        };
        models.push(ModelView {
            code: t.code().to_owned(),
            name: type_label(tt, *t),
            questions: q
                .questions
                .iter()
                .map(|x| QuestionLine {
                    label: in_language(&x.label, &x.label_id),
                    choices: x
                        .choices
                        .iter()
                        .map(|c| (in_language(&c.label, &c.label_id), c.weight))
                        .collect(),
                })
                .collect(),
            thresholds: (
                q.thresholds.moderate,
                q.thresholds.high,
                q.thresholds.very_high,
            ),
            rules: m
                .rules
                .as_ref()
                .map(|rules| {
                    RiskLevel::ALL
                        .iter()
                        .map(|r| {
                            let stages = rules
                                .get(r.code())
                                .map(|rule| {
                                    rule.stages()
                                        .iter()
                                        .map(|s| stage_text(tt, s, &groups))
                                        .collect()
                                })
                                .unwrap_or_default();
                            (risk_label(tt, Some(*r)), stages)
                        })
                        .collect()
                })
                .unwrap_or_default(),
            builtin: tt.get(&format!("change-rules-builtin-{}", t.code())),
        });
    }
    let page = ChangeAdminPage {
        templates: list
            .iter()
            .map(|d| {
                let steps = template_steps(tt, &d.template.state, manager);
                (template_line(tt, &v.viewer, d), steps)
            })
            .collect(),
        models,
        new_name: typed.to_owned(),
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn change_admin_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    admin_view(&v, &q, "", None).await
}

/// Writes a new template (a draft, with no fields yet) and opens its form.
pub async fn change_template_create(v: Visit, form: FormData) -> PageResult {
    let name = form.text("name");
    let input = TemplateInput {
        name: name.clone(),
        fields: json!({}),
        tasks: json!([]),
        item: None,
    };
    match changes::create_template(&v.state.core, &v.ctx, input).await {
        Ok(t) => Ok(see_other(
            &format!("/admin/changes/templates/{}", t.template.id),
            Some("created"),
        )),
        Err(e) => admin_view(&v, &HashMap::new(), &name, Some(e)).await,
    }
}

// ----- one template -----

/// A task row of the template form.
pub struct TaskRow {
    pub order: String,
    pub group: String,
    pub short_description: String,
    pub description: String,
    /// The errors of the row.
    pub error: String,
}

/// What the template form shows: as typed, or the template's.
pub struct TemplateForm {
    pub name: String,
    pub item: String,
    /// The fields: (name, value).
    pub fields: HashMap<&'static str, String>,
    pub tasks: Vec<TaskRow>,
    pub version: i64,
}

impl TemplateForm {
    pub fn get(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }
}

/// The text fields of a template's content.
const TEXTS: &[&str] = &[
    "short_description",
    "description",
    "category",
    "assignment_group",
    "service",
    "offering",
    "configuration_item",
    "reason",
    "implementation_plan",
    "backout_plan",
    "test_plan",
    "risk",
];

fn form_of(d: &TemplateDetail, groups: &HashMap<String, String>) -> TemplateForm {
    let c = serde_json::to_value(&d.content).unwrap_or(Value::Null);
    let mut fields: HashMap<&'static str, String> = TEXTS
        .iter()
        .map(|k| {
            (
                *k,
                c.get(*k).and_then(Value::as_str).unwrap_or("").to_owned(),
            )
        })
        .collect();
    fields.insert("cis", d.content.cis.join("\n"));
    let num = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    fields.insert("impact", num(d.content.impact));
    fields.insert("urgency", num(d.content.urgency));
    let mut tasks: Vec<TaskRow> = d
        .tasks
        .tasks()
        .iter()
        .map(|t| {
            let id = t.group.to_string();
            TaskRow {
                order: t.order.to_string(),
                group: groups.get(&id).cloned().unwrap_or(id),
                short_description: t.short_description.clone(),
                description: t.description.clone(),
                error: String::new(),
            }
        })
        .collect();
    spare_rows(&mut tasks);
    TemplateForm {
        name: d.template.name.clone(),
        item: d
            .template
            .item
            .as_ref()
            .map(|i| i.name.clone())
            .unwrap_or_default(),
        fields,
        tasks,
        version: d.template.version,
    }
}

fn spare_rows(tasks: &mut Vec<TaskRow>) {
    for _ in 0..SPARE_TASKS {
        tasks.push(TaskRow {
            order: String::new(),
            group: String::new(),
            short_description: String::new(),
            description: String::new(),
            error: String::new(),
        });
    }
}

/// The task rows of a form, as typed (`task.{i}.…`, rows in order while they come).
fn typed_rows(form: &FormData) -> Vec<TaskRow> {
    let mut rows = Vec::new();
    for i in 0..sigap_domain::catalog::MAX_PLANNED + SPARE_TASKS {
        let f = |k: &str| form.text(&format!("task.{i}.{k}"));
        if form.get(&format!("task.{i}.short_description")).is_none() {
            break;
        }
        rows.push(TaskRow {
            order: f("order"),
            group: f("group"),
            short_description: f("short_description"),
            description: f("description"),
            error: String::new(),
        });
    }
    rows
}

fn typed_form(form: &FormData) -> TemplateForm {
    let mut fields: HashMap<&'static str, String> =
        TEXTS.iter().map(|k| (*k, form.text(k))).collect();
    for k in ["cis", "impact", "urgency"] {
        fields.insert(k, form.text(k));
    }
    let mut tasks: Vec<TaskRow> = typed_rows(form)
        .into_iter()
        .filter(|r| !r.short_description.trim().is_empty())
        .collect();
    spare_rows(&mut tasks);
    TemplateForm {
        name: form.text("name"),
        item: form.text("item"),
        fields,
        tasks,
        version: form.version().unwrap_or_default(),
    }
}

/// A template's input from its form: the fields given, and the task rows filled in.
fn template_input(form: &FormData) -> Result<TemplateInput, AppError> {
    let mut fields = Map::new();
    for k in TEXTS {
        if let Some(v) = form.opt(k) {
            fields.insert((*k).to_owned(), Value::String(v.trim().to_owned()));
        }
    }
    let cis: Vec<Value> = form
        .text("cis")
        .split(['\n', ','])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| Value::String(c.to_owned()))
        .collect();
    if !cis.is_empty() {
        fields.insert("cis".into(), Value::Array(cis));
    }
    for k in ["impact", "urgency"] {
        if let Some(v) = form.opt(k) {
            let n: i64 = v
                .trim()
                .parse()
                .map_err(|_| AppError::field(&format!("fields.{k}"), "invalid_number", "1 to 3"))?;
            fields.insert(k.to_owned(), json!(n));
        }
    }
    let mut tasks = Vec::new();
    let rows = typed_rows(form).into_iter();
    let filled = rows.filter(|r| !r.short_description.trim().is_empty());
    for (i, r) in filled.enumerate() {
        let order = match r.order.trim() {
            "" => 10,
            o => o.parse::<i64>().map_err(|_| {
                AppError::field(
                    &format!("tasks.{i}.order"),
                    "invalid_number",
                    "a whole number",
                )
            })?,
        };
        tasks.push(json!({
            "order": order,
            "group": r.group,
            "short_description": r.short_description.trim(),
            "description": r.description,
        }));
    }
    Ok(TemplateInput {
        name: form.text("name"),
        fields: Value::Object(fields),
        tasks: Value::Array(tasks),
        item: form.opt("item").map(|i| i.trim().to_owned()),
    })
}

#[derive(Template)]
#[template(path = "change_template.html")]
pub struct ChangeTemplatePage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub t: TemplateLine,
    pub steps: Vec<(String, String)>,
    pub can_reject: bool,
    pub f: TemplateForm,
    pub groups: Vec<String>,
    pub categories: Vec<(String, String)>,
    pub risks: Vec<(String, String)>,
}

async fn template_view(
    v: &Visit,
    key: &str,
    q: &HashMap<String, String>,
    typed: Option<&FormData>,
    refused: Option<AppError>,
) -> PageResult {
    let d = changes::template(&v.state.core, &v.ctx, key).await?;
    let mut chrome = v.chrome("change_admin", "change-template-title");
    chrome.title = d.template.name.clone();
    notice(&mut chrome, q);
    let known = ["name", "item", "fields", "tasks", "note"];
    let (status, errs) = FieldErrors::split(&mut chrome, refused, &known);
    let tt = chrome.t;
    let manager = v.ctx.principal.has(Role::Manager);
    let groups = group_names(v).await;
    let mut f = match typed {
        Some(form) => typed_form(form),
        None => form_of(&d, &groups),
    };
    for (i, row) in f.tasks.iter_mut().enumerate() {
        row.error = errs.under(&format!("tasks.{i}"));
    }
    let page = ChangeTemplatePage {
        steps: template_steps(tt, &d.template.state, manager),
        can_reject: manager && d.template.state == "proposed",
        t: template_line(tt, &v.viewer, &d),
        f,
        groups: super::incidents::active_group_names(&v.state, &v.ctx).await,
        categories: super::incidents::categories(&v.state).await,
        risks: RiskLevel::ALL
            .iter()
            .map(|r| (r.code().to_owned(), risk_label(tt, Some(*r))))
            .collect(),
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn change_template_page(
    v: Visit,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    template_view(&v, &id, &q, None, None).await
}

/// Rewrites a template: it goes back to draft, to be proposed and approved again.
pub async fn change_template_update(
    v: Visit,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    let result = match template_input(&form) {
        Ok(input) => {
            let (core, ctx) = (&v.state.core, &v.ctx);
            changes::update_template(core, ctx, &id, input, form.version()).await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(see_other(
            &format!("/admin/changes/templates/{}", encode(&id)),
            Some("saved"),
        )),
        Err(e) => template_view(&v, &id, &HashMap::new(), Some(&form), Some(e)).await,
    }
}

/// A template's next step (propose, approve, reject with a note, retire); back to the page
/// it was taken on (`back`: the list, or the template).
pub async fn change_template_decide(
    v: Visit,
    Path((id, action)): Path<(String, String)>,
    form: FormData,
) -> PageResult {
    let note = form.text("note");
    let result = changes::decide_template(&v.state.core, &v.ctx, &id, &action, &note).await;
    let on_list = form.get("back").as_deref() == Some("list");
    match result {
        Ok(_) if on_list => Ok(see_other("/admin/changes", Some("saved"))),
        Ok(_) => Ok(see_other(
            &format!("/admin/changes/templates/{}", encode(&id)),
            Some("saved"),
        )),
        Err(e) if on_list => admin_view(&v, &HashMap::new(), "", Some(prefixed(e, "step"))).await,
        Err(e) => template_view(&v, &id, &HashMap::new(), None, Some(e)).await,
    }
}

// ----- blackout windows -----

pub struct BlackoutRow {
    pub id: String,
    pub name: String,
    pub service: String,
    pub window: String,
    pub reason: String,
    pub over: bool,
}

#[derive(Template)]
#[template(path = "change_blackouts.html")]
pub struct ChangeBlackoutsPage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    pub rows: Vec<BlackoutRow>,
    pub manager: bool,
    pub draft: Draft,
}

async fn blackouts_view(
    v: &Visit,
    q: &HashMap<String, String>,
    form: Option<&FormData>,
    refused: Option<AppError>,
) -> PageResult {
    let list = changes::blackouts(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome("change_admin", "change-blackouts-title");
    notice(&mut chrome, q);
    let known = ["name", "service", "starts_at", "ends_at", "reason"];
    let (status, errs) = FieldErrors::split(&mut chrome, refused, &known);
    let now = v.state.core.now();
    let page = ChangeBlackoutsPage {
        rows: list
            .into_iter()
            .map(|b| BlackoutRow {
                id: b.id.to_string(),
                service: b.service.map(|s| s.name).unwrap_or_default(),
                window: window(&v.viewer, Some(b.starts_at), Some(b.ends_at)),
                over: b.ends_at < now,
                name: b.name,
                reason: b.reason,
            })
            .collect(),
        manager: v.ctx.principal.has(Role::Manager),
        draft: form.map(Draft::from_form).unwrap_or_default(),
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn change_blackouts_page(
    v: Visit,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    blackouts_view(&v, &q, None, None).await
}

/// Adds a blackout window (managers): everywhere, or on one service.
pub async fn change_blackout_add(v: Visit, form: FormData) -> PageResult {
    let result = async {
        let starts = local_time(&v.viewer, "starts_at", &form.text("starts_at"));
        let ends = local_time(&v.viewer, "ends_at", &form.text("ends_at"));
        let required = |f: &str| AppError::field(f, "required", "is required");
        let (starts, ends) = match (starts, ends) {
            (Ok(Some(s)), Ok(Some(e))) => (s, e),
            (s, e) => {
                let mut errs = Vec::new();
                for (field, r) in [("starts_at", s), ("ends_at", e)] {
                    match r {
                        Ok(Some(_)) => {}
                        Ok(None) => errs.push(required(field)),
                        Err(e) => errs.push(e),
                    }
                }
                let fields = errs
                    .into_iter()
                    .flat_map(|e| match e {
                        AppError::Validation(list) => list,
                        _ => Vec::new(),
                    })
                    .collect();
                return Err(AppError::Validation(fields));
            }
        };
        let service = form.opt("service");
        changes::add_blackout(
            &v.state.core,
            &v.ctx,
            &form.text("name"),
            service.as_deref().map(str::trim),
            starts,
            ends,
            &form.text("reason"),
        )
        .await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/admin/changes/blackouts", Some("added"))),
        Err(e) => blackouts_view(&v, &HashMap::new(), Some(&form), Some(e)).await,
    }
}

pub async fn change_blackout_remove(v: Visit, Path(id): Path<String>) -> PageResult {
    changes::remove_blackout(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other("/admin/changes/blackouts", Some("deleted")))
}

// ----- maintenance windows -----

pub struct OfferingRow {
    pub id: String,
    pub name: String,
    pub service: String,
    pub service_id: String,
    pub calendar: String,
    pub error: String,
}

#[derive(Template)]
#[template(path = "change_maintenance.html")]
pub struct ChangeMaintenancePage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<OfferingRow>,
    pub calendars: Vec<String>,
    pub manager: bool,
    pub next_link: Option<String>,
}

async fn maintenance_view(
    v: &Visit,
    q: &HashMap<String, String>,
    refused: Option<(String, AppError)>,
) -> PageResult {
    let windows = changes::maintenance_windows(&v.state.core, &v.ctx).await?;
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        limit: Some(100),
        ..ListParams::default()
    };
    let query = sigap_core::portfolio::OfferingQuery {
        active: Some("true".into()),
        ..Default::default()
    };
    let offerings = sigap_core::portfolio::list_offerings(&v.state.core, &v.ctx, query, &params);
    let offerings = offerings.await?;
    let calendars = sigap_core::sla::calendars(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome("change_admin", "change-maintenance-title");
    notice(&mut chrome, q);
    let (failed_on, refused) = match refused {
        Some((id, e)) => (id, Some(e)),
        None => (String::new(), None),
    };
    let (status, errs) = FieldErrors::split(&mut chrome, refused, &["calendar"]);
    let page = ChangeMaintenancePage {
        rows: offerings
            .items
            .into_iter()
            .map(|o| {
                let id = o.id.to_string();
                OfferingRow {
                    calendar: windows
                        .iter()
                        .find(|m| m.offering.id == o.id)
                        .map(|m| m.calendar.name.clone())
                        .unwrap_or_default(),
                    error: if id == failed_on {
                        errs.under("calendar")
                    } else {
                        String::new()
                    },
                    id,
                    name: o.name,
                    service: o.service_name,
                    service_id: o.service_id.to_string(),
                }
            })
            .collect(),
        calendars: calendars.into_iter().map(|c| c.name).collect(),
        manager: v.ctx.principal.has(Role::Manager),
        next_link: offerings
            .next_cursor
            .map(|c| format!("/admin/changes/maintenance?cursor={}", encode(&c))),
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn change_maintenance_page(
    v: Visit,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    maintenance_view(&v, &q, None).await
}

/// Sets an offering's maintenance window: a calendar's business hours, or none (managers).
pub async fn change_maintenance_set(
    v: Visit,
    Path(offering): Path<String>,
    form: FormData,
) -> PageResult {
    let calendar = form.opt("calendar");
    let (core, ctx) = (&v.state.core, &v.ctx);
    let result = changes::set_maintenance(core, ctx, &offering, calendar.as_deref()).await;
    match result {
        Ok(_) => Ok(see_other(
            &format!(
                "/admin/changes/maintenance?notice=saved#offering-{}",
                encode(&offering)
            ),
            None,
        )),
        Err(e) => maintenance_view(&v, &HashMap::new(), Some((offering, e))).await,
    }
}
