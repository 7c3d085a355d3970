//! The administrators' pages of the service catalogue: its categories, its items, and an
//! item's builder (its fields, audience, approval stages, fulfilment plan and order form,
//! with its picture) beside a preview of the form as the portal shows it.

use super::catalog::{VarField, var_fields};
use super::views::{notice, refusal};
use super::*;
use axum::extract::{Path, Query};
use serde_json::{Value, json};
use sigap_core::catalog::{self, CatalogItem, CategoryInput, ItemInput, ItemQuery};
use sigap_core::listing::ListParams;
use sigap_domain::approval::Stage;
use sigap_domain::catalog::VariableKind;
use sigap_domain::process::request::ItemKind;
use std::collections::HashMap;

/// Blank rows an item's builder offers beyond its variables, stages and steps.
const SPARE_VARIABLES: usize = 2;
const SPARE_STEPS: usize = 2;
const STAGE_ROWS: usize = 5;

#[derive(Template)]
#[template(path = "admin_catalog.html")]
pub struct AdminCatalogPage<'a> {
    pub chrome: Chrome<'a>,
    /// (id, name, parent name, order, active).
    pub categories: Vec<(String, String, String, i64, bool)>,
    pub tops: Vec<(String, String)>,
    /// (id, name, category, offering, kind, orderable, active).
    pub items: Vec<(String, String, String, String, String, bool, bool)>,
    pub offerings: Vec<(String, String)>,
    pub kinds: Vec<(String, String)>,
    pub draft: Draft,
}

async fn offering_choices(v: &Visit) -> Vec<(String, String)> {
    let params = ListParams {
        limit: Some(500),
        ..ListParams::default()
    };
    let query = sigap_core::portfolio::OfferingQuery::default();
    sigap_core::portfolio::list_offerings(&v.state.core, &v.ctx, query, &params)
        .await
        .map(|l| {
            l.items
                .into_iter()
                .map(|o| (o.id.to_string(), format!("{} · {}", o.service_name, o.name)))
                .collect()
        })
        .unwrap_or_default()
}

fn kinds(tt: Tr<'_>) -> Vec<(String, String)> {
    ItemKind::ALL
        .iter()
        .map(|k| {
            let label = tt.get(&format!("catalog-kind-name-{}", k.code()));
            (k.code().to_owned(), label)
        })
        .collect()
}

async fn catalog_view(v: &Visit, form: &FormData, refused: Option<AppError>) -> PageResult {
    v.ctx.principal.require(sigap_domain::Role::Admin)?;
    let mut chrome = v.chrome("admin", "admin-catalog-title");
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let cats = catalog::categories(&v.state.core, &v.ctx).await?;
    let params = ListParams {
        limit: Some(500),
        ..ListParams::default()
    };
    let query = ItemQuery {
        orderable_only: false,
        ..ItemQuery::default()
    };
    let items = catalog::items(&v.state.core, &v.ctx, query, &params).await?;
    let page = AdminCatalogPage {
        tops: cats
            .iter()
            .filter(|c| c.parent.is_none())
            .map(|c| (c.id.to_string(), c.name.clone()))
            .collect(),
        categories: cats
            .into_iter()
            .map(|c| {
                let parent = c.parent.map(|p| p.name).unwrap_or_default();
                (c.id.to_string(), c.name, parent, c.order, c.active)
            })
            .collect(),
        items: items
            .items
            .into_iter()
            .map(|ci| {
                let i = ci.item;
                let category = i.category.map(|c| c.name).unwrap_or_default();
                let offering = format!("{} · {}", i.service.name, i.offering.name);
                let kind = tt.get(&format!("catalog-kind-name-{}", ci.kind.code()));
                (
                    i.id.to_string(),
                    i.name,
                    category,
                    offering,
                    kind,
                    i.orderable,
                    i.active,
                )
            })
            .collect(),
        offerings: offering_choices(v).await,
        kinds: kinds(tt),
        draft: Draft::from_form(form),
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn admin_catalog_page(v: Visit) -> PageResult {
    catalog_view(&v, &FormData(Vec::new()), None).await
}

fn category_input(form: &FormData) -> CategoryInput {
    CategoryInput {
        name: form.get("name"),
        parent: form
            .get("parent")
            .map(|p| Some(p).filter(|p| !p.is_empty())),
        description: form.get("description"),
        order: form.get("order").and_then(|o| o.trim().parse().ok()),
        active: form
            .get("active_sent")
            .map(|_| form.get("active").is_some()),
    }
}

pub async fn admin_category_create(v: Visit, form: FormData) -> PageResult {
    let input = category_input(&form);
    match catalog::save_category(&v.state.core, &v.ctx, None, input, None).await {
        Ok(_) => Ok(see_other("/admin/catalog", Some("created"))),
        Err(e) => catalog_view(&v, &form, Some(e)).await,
    }
}

pub async fn admin_category_update(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let input = category_input(&form);
    match catalog::save_category(&v.state.core, &v.ctx, Some(&id), input, None).await {
        Ok(_) => Ok(see_other("/admin/catalog", Some("saved"))),
        Err(e) => catalog_view(&v, &form, Some(e)).await,
    }
}

pub async fn admin_item_create(v: Visit, form: FormData) -> PageResult {
    let input = ItemInput {
        name: form.get("name"),
        offering: form.get("offering"),
        category: form.opt("category").map(Some),
        kind: form.get("kind"),
        short_description: form.get("short_description"),
        ..ItemInput::default()
    };
    match catalog::save_item(&v.state.core, &v.ctx, None, input, None).await {
        Ok(ci) => Ok(see_other(
            &format!("/admin/catalog/items/{}", ci.item.id),
            Some("created"),
        )),
        Err(e) => catalog_view(&v, &form, Some(e)).await,
    }
}

// ----- an item's builder -----

/// One variable's row of the builder.
pub struct VarRow {
    pub name: String,
    pub kind: String,
    pub label_en: String,
    pub label_id: String,
    pub help_en: String,
    pub help_id: String,
    pub required: bool,
    pub default: String,
    pub order: String,
    pub min: String,
    pub max: String,
    pub options: String,
    pub ci_class: String,
    pub when_variable: String,
    pub when_equals: String,
}

/// One approval stage's row: who approves, the people or group, and any or all.
pub struct StageRow {
    pub approvers: String,
    pub people: String,
    pub group: String,
    pub need: String,
}

/// One step of the plan: order, group, what to do.
pub struct StepRow {
    pub order: String,
    pub group: String,
    pub short_description: String,
    pub description: String,
}

#[derive(Template)]
#[template(path = "admin_catalog_item.html")]
pub struct ItemBuilderPage<'a> {
    pub chrome: Chrome<'a>,
    pub id: String,
    pub name: String,
    pub category: String,
    pub offering: String,
    pub kind: String,
    pub short_description: String,
    pub description: String,
    pub price: String,
    pub recurring_price: String,
    pub delivery_hours: String,
    pub calendar: String,
    pub active: bool,
    pub orderable: bool,
    pub picture: Option<String>,
    pub audience_orgs: String,
    pub audience_groups: String,
    pub variables: Vec<VarRow>,
    pub stages: Vec<StageRow>,
    pub steps: Vec<StepRow>,
    pub version: i64,
    pub categories: Vec<(String, String)>,
    pub offerings: Vec<(String, String)>,
    pub kinds: Vec<(String, String)>,
    pub var_kinds: Vec<String>,
    pub groups: Vec<String>,
    pub calendars: Vec<String>,
    pub preview: Vec<VarField>,
}

fn text(v: &Option<Value>) -> String {
    match v {
        None | Some(Value::Null) => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| i.to_string())
            })
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => other.to_string(),
    }
}

fn number(n: Option<f64>) -> String {
    n.map(|n| n.to_string()).unwrap_or_default()
}

async fn builder_view(
    v: &Visit,
    key: &str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    v.ctx.principal.require(sigap_domain::Role::Admin)?;
    let ci: CatalogItem = catalog::item(&v.state.core, &v.ctx, key).await?;
    let mut chrome = v.chrome("admin", "admin-catalog-title");
    chrome.title = ci.item.name.clone();
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let group_names: HashMap<String, String> = sigap_core::groups::list(
        &v.state.core,
        &v.ctx,
        sigap_core::groups::GroupQuery::default(),
        &ListParams {
            limit: Some(500),
            ..ListParams::default()
        },
    )
    .await
    .map(|l| {
        l.items
            .into_iter()
            .map(|g| (g.id.to_string(), g.name))
            .collect()
    })
    .unwrap_or_default();
    let group_name = |id: String| group_names.get(&id).cloned().unwrap_or(id);
    let mut variables: Vec<VarRow> = ci
        .form
        .variables()
        .iter()
        .map(|x| VarRow {
            name: x.name.clone(),
            kind: x.kind.code().to_owned(),
            label_en: x.label_en.clone(),
            label_id: x.label_id.clone(),
            help_en: x.help_en.clone(),
            help_id: x.help_id.clone(),
            required: x.required,
            default: text(&x.default),
            order: x.order.to_string(),
            min: number(x.min),
            max: number(x.max),
            options: x.options.join("\n"),
            ci_class: x.ci_class.clone().unwrap_or_default(),
            when_variable: x
                .show_when
                .as_ref()
                .map(|w| w.variable.clone())
                .unwrap_or_default(),
            when_equals: x
                .show_when
                .as_ref()
                .map(|w| w.equals.clone())
                .unwrap_or_default(),
        })
        .collect();
    for _ in 0..SPARE_VARIABLES {
        variables.push(VarRow {
            name: String::new(),
            kind: "text".into(),
            label_en: String::new(),
            label_id: String::new(),
            help_en: String::new(),
            help_id: String::new(),
            required: false,
            default: String::new(),
            order: String::new(),
            min: String::new(),
            max: String::new(),
            options: String::new(),
            ci_class: String::new(),
            when_variable: String::new(),
            when_equals: String::new(),
        });
    }
    let mut stages: Vec<StageRow> = Vec::new();
    for s in ci.rule.stages() {
        let person_logins = match s {
            Stage::People { people, .. } => {
                let mut out = Vec::new();
                for p in people {
                    if let Ok(found) =
                        sigap_core::people::get(&v.state.core, &v.ctx, &p.to_string()).await
                    {
                        out.push(found.login);
                    }
                }
                out.join(", ")
            }
            _ => String::new(),
        };
        stages.push(match s {
            Stage::GroupManager => StageRow {
                approvers: "group_manager".into(),
                people: String::new(),
                group: String::new(),
                need: "any".into(),
            },
            Stage::Manager => StageRow {
                approvers: "manager".into(),
                people: String::new(),
                group: String::new(),
                need: "any".into(),
            },
            Stage::People { need, .. } => StageRow {
                approvers: "people".into(),
                people: person_logins,
                group: String::new(),
                need: need.code().into(),
            },
            Stage::Group { group, need } => StageRow {
                approvers: "group".into(),
                people: String::new(),
                group: group_name(group.to_string()),
                need: need.code().into(),
            },
        });
    }
    while stages.len() < STAGE_ROWS {
        stages.push(StageRow {
            approvers: String::new(),
            people: String::new(),
            group: String::new(),
            need: "any".into(),
        });
    }
    let mut steps: Vec<StepRow> = ci
        .plan
        .tasks()
        .iter()
        .map(|t| StepRow {
            order: t.order.to_string(),
            group: group_name(t.group.to_string()),
            short_description: t.short_description.clone(),
            description: t.description.clone(),
        })
        .collect();
    for _ in 0..SPARE_STEPS {
        steps.push(StepRow {
            order: String::new(),
            group: String::new(),
            short_description: String::new(),
            description: String::new(),
        });
    }
    let mut org_names = Vec::new();
    for o in &ci.audience.organizations {
        if let Ok(found) = sigap_core::orgs::get(&v.state.core, &v.ctx, &o.to_string()).await {
            org_names.push(found.name);
        }
    }
    let i = &ci.item;
    let page = ItemBuilderPage {
        id: i.id.to_string(),
        name: i.name.clone(),
        category: i
            .category
            .as_ref()
            .map(|c| c.id.to_string())
            .unwrap_or_default(),
        offering: i.offering.id.to_string(),
        kind: ci.kind.code().to_owned(),
        short_description: i.short_description.clone(),
        description: i.description.clone(),
        price: sigap_core::requests::price_text(i.price),
        recurring_price: sigap_core::requests::price_text(i.recurring_price),
        delivery_hours: i.delivery_hours.map(|h| h.to_string()).unwrap_or_default(),
        calendar: i
            .calendar
            .as_ref()
            .map(|c| c.name.clone())
            .unwrap_or_default(),
        active: i.active,
        orderable: i.orderable,
        picture: i
            .picture_type
            .as_ref()
            .map(|_| format!("/api/v1/catalog/items/{}/picture", i.id)),
        audience_orgs: org_names.join(", "),
        audience_groups: ci
            .audience
            .groups
            .iter()
            .map(|g| group_name(g.to_string()))
            .collect::<Vec<_>>()
            .join(", "),
        variables,
        stages,
        steps,
        version: i.version,
        categories: catalog::categories(&v.state.core, &v.ctx)
            .await?
            .into_iter()
            .map(|c| (c.id.to_string(), c.name))
            .collect(),
        offerings: offering_choices(v).await,
        kinds: kinds(tt),
        var_kinds: VariableKind::ALL
            .iter()
            .map(|k| k.code().to_owned())
            .collect(),
        groups: group_names.values().cloned().collect(),
        calendars: sigap_core::sla::calendars(&v.state.core, &v.ctx)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|c| c.name)
            .collect(),
        preview: var_fields(tt, &ci.form, None, &HashMap::new()),
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn admin_item_page(
    v: Visit,
    Path(key): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    builder_view(&v, &key, &q, None).await
}

/// A list typed into one box: by commas or lines, trimmed, blanks dropped.
fn list(text: &str) -> Vec<String> {
    text.split([',', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A number typed into a box, as JSON: a number when it reads as one, else the text (for
/// the use case to refuse with its reason), nothing when blank.
fn typed_number(text: &str) -> Value {
    if text.trim().is_empty() {
        return Value::Null;
    }
    super::catalog::number_value(text)
}

/// The builder's rows as the catalogue's input: variables, stages and steps whose first
/// box is filled.
fn builder_input(form: &FormData) -> ItemInput {
    let f = |k: String| form.text(&k);
    let mut variables = Vec::new();
    for i in 0..sigap_domain::catalog::MAX_VARIABLES {
        let name = f(format!("var.{i}.name"));
        if form.get(&format!("var.{i}.name")).is_none() {
            break;
        }
        if name.trim().is_empty() {
            continue;
        }
        let kind = f(format!("var.{i}.kind"));
        let default = f(format!("var.{i}.default"));
        let default = match kind.as_str() {
            _ if default.trim().is_empty() => Value::Null,
            "multi_choice" => json!(list(&default)),
            "number" => typed_number(&default),
            "yes_no" => json!(default.trim() == "true" || default.trim() == "yes"),
            _ => json!(default),
        };
        let when = f(format!("var.{i}.when_variable"));
        variables.push(json!({
            "name": name.trim(),
            "kind": kind,
            "label_en": f(format!("var.{i}.label_en")),
            "label_id": f(format!("var.{i}.label_id")),
            "help_en": f(format!("var.{i}.help_en")),
            "help_id": f(format!("var.{i}.help_id")),
            "required": form.get(&format!("var.{i}.required")).is_some(),
            "default": default,
            "order": f(format!("var.{i}.order")).trim().parse::<i64>().unwrap_or(((i + 1) * 10) as i64),
            "min": typed_number(&f(format!("var.{i}.min"))),
            "max": typed_number(&f(format!("var.{i}.max"))),
            "options": list(&f(format!("var.{i}.options"))),
            "ci_class": Some(f(format!("var.{i}.ci_class"))).filter(|c| !c.trim().is_empty()),
            "show_when": (!when.trim().is_empty()).then(|| json!({
                "variable": when.trim(),
                "equals": f(format!("var.{i}.when_equals")),
            })),
        }));
    }
    let mut stages = Vec::new();
    for i in 0..STAGE_ROWS {
        let approvers = f(format!("stage.{i}.approvers"));
        let need = f(format!("stage.{i}.need"));
        match approvers.as_str() {
            "" => {}
            "manager" | "group_manager" => stages.push(json!({"approvers": approvers})),
            "people" => stages.push(json!({
                "approvers": "people",
                "people": list(&f(format!("stage.{i}.people"))),
                "need": need,
            })),
            other => stages.push(json!({
                "approvers": other,
                "group": f(format!("stage.{i}.group")),
                "need": need,
            })),
        }
    }
    let mut steps = Vec::new();
    for i in 0..sigap_domain::catalog::MAX_PLANNED + SPARE_STEPS {
        let what = f(format!("step.{i}.short_description"));
        if form.get(&format!("step.{i}.short_description")).is_none() {
            break;
        }
        if what.trim().is_empty() {
            continue;
        }
        steps.push(json!({
            "order": f(format!("step.{i}.order")).trim().parse::<i64>().unwrap_or(0),
            "group": f(format!("step.{i}.group")),
            "short_description": what,
            "description": f(format!("step.{i}.description")),
        }));
    }
    ItemInput {
        name: form.get("name"),
        category: form
            .get("category")
            .map(|c| Some(c).filter(|c| !c.is_empty())),
        offering: form.get("offering"),
        kind: form.get("kind"),
        short_description: form.get("short_description"),
        description: form.get("description"),
        price: form
            .get("price")
            .map(|p| if p.trim().is_empty() { "0".into() } else { p }),
        recurring_price: form
            .get("recurring_price")
            .map(|p| if p.trim().is_empty() { "0".into() } else { p }),
        delivery_hours: form
            .get("delivery_hours")
            .map(|h| h.trim().parse::<i64>().ok()),
        calendar: form
            .get("calendar")
            .map(|c| Some(c).filter(|c| !c.is_empty())),
        variables: Some(Value::Array(variables)),
        approval: Some(Value::Array(stages)),
        plan: Some(Value::Array(steps)),
        audience: Some(json!({
            "organizations": list(&form.text("audience_orgs")),
            "groups": list(&form.text("audience_groups")),
        })),
        active: Some(form.get("active").is_some()),
    }
}

pub async fn admin_item_update(v: Visit, Path(key): Path<String>, form: FormData) -> PageResult {
    let input = builder_input(&form);
    let result = catalog::save_item(&v.state.core, &v.ctx, Some(&key), input, form.version()).await;
    let to = format!("/admin/catalog/items/{}", encode(&key));
    super::task::after(result, &to, "saved", async |e| {
        builder_view(&v, &key, &HashMap::new(), Some(e)).await
    })
    .await
}

/// The order form as the portal shows it, with nothing that orders.
pub async fn admin_item_preview(v: Visit, Path(key): Path<String>) -> PageResult {
    v.ctx.principal.require(sigap_domain::Role::Admin)?;
    super::catalog::preview(&v, &key).await
}

/// Uploads an item's picture.
pub async fn admin_item_picture(
    v: Visit,
    Path(key): Path<String>,
    upload: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResult {
    let result = match super::incidents::read_upload(upload).await {
        Ok((_, kind, bytes)) => {
            catalog::set_picture(&v.state.core, &v.ctx, &key, Some((kind, bytes))).await
        }
        Err(e) => Err(e),
    };
    let to = format!("/admin/catalog/items/{}", encode(&key));
    super::task::after(result, &to, "saved", async |e| {
        builder_view(&v, &key, &HashMap::new(), Some(e)).await
    })
    .await
}
