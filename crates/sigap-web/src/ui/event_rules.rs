//! The event rules, beside the alert console: the rules in their order with what they
//! matched, and a form to write or change one — tried on the recent events before it is
//! saved.

use super::changes::FieldErrors;
use super::*;
use axum::extract::{Path, Query};
use serde_json::{Value, json};
use sigap_core::events::rules::{self as core_rules, EventRule, Tried};
use sigap_domain::Role;
use std::collections::HashMap;

const SECTION: &str = "alerts";
const LIST: &str = "/alerts/rules";
/// Condition rows and field rows the form shows.
const CONDITIONS: usize = 5;
const SETS: usize = 4;
/// Recent events a rule is tried on from the page.
const TRY: i64 = 50;
const KINDS: &[&str] = &["ignore", "transform", "bind", "incident"];
const OPS: &[&str] = &[
    "equals",
    "not_equals",
    "contains",
    "starts_with",
    "ends_with",
    "matches",
    "at_least",
];
const THRESHOLDS: &[&str] = &["critical", "major", "minor", "warning", "info"];

/// A rule as a line of the list.
pub struct RuleLine {
    pub id: String,
    pub position: i64,
    pub name: String,
    pub kind_label: String,
    pub active: bool,
    pub summary: String,
    pub hits: i64,
    pub last_hit: String,
}

#[derive(Template)]
#[template(path = "event_rules.html")]
pub struct RulesPage<'a> {
    pub chrome: Chrome<'a>,
    pub rules: Vec<RuleLine>,
    pub editor: bool,
}

/// One recent event as a trial shows it.
pub struct TriedLine {
    pub time: String,
    pub source: String,
    pub node: String,
    pub severity: String,
    pub severity_label: String,
    pub message: String,
    pub matched: bool,
    pub outcome: String,
    pub detail: String,
}

/// What the form shows: as stored, or as typed.
#[derive(Default)]
pub struct RuleForm {
    pub name: String,
    pub kind: String,
    pub position: String,
    pub active: bool,
    pub description: String,
    /// (field, op, value), always `CONDITIONS` of them.
    pub conditions: Vec<(String, String, String)>,
    /// (field, text), always `SETS` of them.
    pub sets: Vec<(String, String)>,
    pub ci_attribute: String,
    pub from: String,
    pub open_incident: bool,
    pub threshold: String,
    pub only_with_service: bool,
    pub version: String,
}

#[derive(Template)]
#[template(path = "event_rule.html")]
pub struct RulePage<'a> {
    pub chrome: Chrome<'a>,
    pub errs: FieldErrors,
    /// The rule's id; empty for a new one.
    pub id: String,
    pub f: RuleForm,
    pub editor: bool,
    /// (code, label)
    pub kinds: Vec<(String, String)>,
    pub ops: Vec<(String, String)>,
    pub thresholds: Vec<(String, String)>,
    pub fields: &'static [&'static str],
    pub hits: i64,
    /// A trial's results, when the form was tried.
    pub tried: Option<Vec<TriedLine>>,
    pub tried_summary: String,
}

fn editor(v: &Visit) -> bool {
    v.ctx.principal.has(Role::Admin) && v.ctx.principal.can_write()
}

fn summary(r: &EventRule) -> String {
    let conds: Vec<String> = r
        .definition
        .get("conditions")
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .map(|c| {
                    format!(
                        "{} {} {}",
                        c["field"].as_str().unwrap_or_default(),
                        c["op"].as_str().unwrap_or_default(),
                        c["value"].as_str().unwrap_or_default()
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    conds.join("; ")
}

/// The list (agents).
pub async fn rules_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let list = core_rules::list(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome(SECTION, "alert-rules-title");
    views::notice(&mut chrome, &q);
    let t = chrome.t;
    let rules = list
        .iter()
        .map(|r| RuleLine {
            id: r.id.to_string(),
            position: r.position,
            name: r.name.clone(),
            kind_label: coded(t, "alert-rule-kind", &r.kind),
            active: r.active,
            summary: summary(r),
            hits: r.hits,
            last_hit: r
                .last_hit_at
                .map(|x| when(x, &v.viewer))
                .unwrap_or_default(),
        })
        .collect();
    let page = RulesPage {
        rules,
        editor: editor(&v),
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

fn form_of(r: &EventRule) -> RuleForm {
    let d = &r.definition;
    let text = |k: &str| {
        d.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut f = RuleForm {
        name: r.name.clone(),
        kind: r.kind.clone(),
        position: r.position.to_string(),
        active: r.active,
        description: r.description.clone(),
        ci_attribute: text("ci_attribute"),
        from: text("from"),
        open_incident: d
            .get("open_incident")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        threshold: text("threshold"),
        only_with_service: d
            .get("only_with_service")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        version: r.version.to_string(),
        ..RuleForm::default()
    };
    if let Some(list) = d.get("conditions").and_then(Value::as_array) {
        for c in list {
            let s = |k: &str| c[k].as_str().unwrap_or_default().to_owned();
            f.conditions.push((s("field"), s("op"), s("value")));
        }
    }
    if let Some(set) = d.get("set").and_then(Value::as_object) {
        for (k, v) in set {
            f.sets
                .push((k.clone(), v.as_str().unwrap_or_default().to_owned()));
        }
    }
    pad(f)
}

/// The rows the form always shows, empty ones after those given.
fn pad(mut f: RuleForm) -> RuleForm {
    while f.conditions.len() < CONDITIONS {
        f.conditions
            .push((String::new(), "equals".into(), String::new()));
    }
    while f.sets.len() < SETS {
        f.sets.push((String::new(), String::new()));
    }
    f
}

fn form_from(form: &FormData) -> RuleForm {
    let mut f = RuleForm {
        name: form.text("name"),
        kind: form.text("kind"),
        position: form.text("position"),
        active: form.get("active").is_some(),
        description: form.text("description"),
        ci_attribute: form.text("ci_attribute"),
        from: form.text("from"),
        open_incident: form.get("open_incident").is_some(),
        threshold: form.text("threshold"),
        only_with_service: form.get("only_with_service").is_some(),
        version: form.text("version"),
        ..RuleForm::default()
    };
    for i in 0..CONDITIONS {
        f.conditions.push((
            form.text(&format!("cond_field_{i}")),
            form.text(&format!("cond_op_{i}")),
            form.text(&format!("cond_value_{i}")),
        ));
    }
    for i in 0..SETS {
        f.sets.push((
            form.text(&format!("set_field_{i}")),
            form.text(&format!("set_value_{i}")),
        ));
    }
    f
}

/// The form as the core reads a rule: the conditions filled in, and the kind's fields.
fn body_of(f: &RuleForm) -> Value {
    let conditions: Vec<Value> = f
        .conditions
        .iter()
        .filter(|(field, _, value)| !field.trim().is_empty() || !value.trim().is_empty())
        .map(|(field, op, value)| json!({"field": field.trim(), "op": op, "value": value}))
        .collect();
    let mut o = json!({
        "name": f.name,
        "kind": f.kind,
        "active": f.active,
        "description": f.description,
        "conditions": conditions,
    });
    if !f.position.trim().is_empty() {
        o["position"] = match f.position.trim().parse::<i64>() {
            Ok(p) => json!(p),
            Err(_) => json!(f.position),
        };
    }
    if !f.version.trim().is_empty() {
        if let Ok(v) = f.version.trim().parse::<i64>() {
            o["version"] = json!(v);
        }
    }
    match f.kind.as_str() {
        "transform" => {
            let set: serde_json::Map<String, Value> = f
                .sets
                .iter()
                .filter(|(field, _)| !field.trim().is_empty())
                .map(|(field, text)| (field.trim().to_owned(), json!(text)))
                .collect();
            o["set"] = Value::Object(set);
        }
        "bind" => {
            o["ci_attribute"] = json!(f.ci_attribute.trim());
            o["from"] = json!(f.from.trim());
        }
        "incident" => {
            o["open_incident"] = json!(f.open_incident);
            o["only_with_service"] = json!(f.only_with_service);
            o["threshold"] = if f.threshold.is_empty() {
                Value::Null
            } else {
                json!(f.threshold)
            };
        }
        _ => {}
    }
    o
}

/// The core's names of fields in error as the form's: `conditions[1].value` is
/// `conditions.1.value`.
fn form_errors(e: AppError) -> AppError {
    match e {
        AppError::Validation(list) => AppError::Validation(
            list.into_iter()
                .map(|mut f| {
                    f.field = f.field.replace('[', ".").replace(']', "");
                    f
                })
                .collect(),
        ),
        other => other,
    }
}

async fn show(
    v: &Visit,
    id: &str,
    f: RuleForm,
    hits: i64,
    refused: Option<AppError>,
    tried: Option<Vec<Tried>>,
) -> PageResult {
    let title = if id.is_empty() {
        "alert-rule-new-title"
    } else {
        "alert-rules-title"
    };
    let mut chrome = v.chrome(SECTION, title);
    if !id.is_empty() {
        chrome.title = f.name.clone();
    }
    let known = [
        "name",
        "kind",
        "position",
        "description",
        "conditions",
        "set",
        "ci_attribute",
        "from",
        "threshold",
    ];
    let (status, errs) = FieldErrors::split(&mut chrome, refused.map(form_errors), &known);
    let t = chrome.t;
    let tried_summary = tried.as_ref().map_or_else(String::new, |list| {
        let matched = list.iter().filter(|x| x.matched).count();
        format!(
            "{} {}",
            t.num("alert-rule-tried", "tried", list.len() as i64),
            t.num("alert-rule-tried-matched", "matched", matched as i64)
        )
    });
    let tried = tried.map(|list| {
        list.into_iter()
            .map(|x| TriedLine {
                time: when(x.event.time, &v.viewer),
                severity_label: coded(t, "alert-severity", &x.event.severity),
                severity: x.event.severity,
                source: x.event.source,
                node: x.event.node,
                message: x.event.message,
                matched: x.matched,
                outcome: if x.matched {
                    coded(t, "alert-rule-outcome", x.outcome)
                } else {
                    String::new()
                },
                detail: detail_text(&x.detail),
            })
            .collect()
    });
    let page = RulePage {
        id: id.to_owned(),
        f: pad(f),
        editor: editor(v),
        kinds: KINDS
            .iter()
            .map(|k| ((*k).to_owned(), coded(t, "alert-rule-kind", k)))
            .collect(),
        ops: OPS
            .iter()
            .map(|o| ((*o).to_owned(), coded(t, "alert-rule-op", o)))
            .collect(),
        thresholds: THRESHOLDS
            .iter()
            .map(|s| ((*s).to_owned(), coded(t, "alert-severity", s)))
            .collect(),
        fields: sigap_domain::event::rules::Field::NAMES,
        hits,
        tried,
        tried_summary,
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

/// A trial's detail in a line: `field: value` pairs, or the CI's name.
fn detail_text(d: &Value) -> String {
    match d {
        Value::Object(o) => {
            if let Some(name) = o.get("name").and_then(Value::as_str) {
                return name.to_owned();
            }
            o.iter()
                .map(|(k, v)| match v {
                    Value::String(s) => format!("{k}: {s}"),
                    other => format!("{k}: {other}"),
                })
                .collect::<Vec<_>>()
                .join("; ")
        }
        _ => String::new(),
    }
}

/// A new rule's form (administrators write; agents may try).
pub async fn rule_new(v: Visit) -> PageResult {
    let f = RuleForm {
        kind: "ignore".into(),
        active: true,
        open_incident: true,
        ..RuleForm::default()
    };
    show(&v, "", f, 0, None, None).await
}

/// A rule's form.
pub async fn rule_page(v: Visit, Path(id): Path<String>) -> PageResult {
    let r = core_rules::get(&v.state.core, &v.ctx, &id).await?;
    show(&v, &id, form_of(&r), r.hits, None, None).await
}

/// The form sent: tried on the recent events (`do=try`), or saved.
async fn sent(v: Visit, id: &str, form: FormData) -> PageResult {
    let f = form_from(&form);
    let body = body_of(&f);
    if form.get("do").as_deref() == Some("try") {
        return match core_rules::try_rule(&v.state.core, &v.ctx, &body, TRY).await {
            Ok(tried) => show(&v, id, f, 0, None, Some(tried)).await,
            Err(e) => show(&v, id, f, 0, Some(e), None).await,
        };
    }
    let saved = if id.is_empty() {
        core_rules::create(&v.state.core, &v.ctx, &body).await
    } else {
        core_rules::update(&v.state.core, &v.ctx, id, &body, None).await
    };
    match saved {
        Ok(_) => Ok(see_other(LIST, Some("alert-rule-saved"))),
        Err(e) => show(&v, id, f, 0, Some(e), None).await,
    }
}

pub async fn rule_create(v: Visit, form: FormData) -> PageResult {
    sent(v, "", form).await
}

pub async fn rule_update(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    sent(v, &id, form).await
}

/// Removes a rule (administrators).
pub async fn rule_delete(v: Visit, Path(id): Path<String>) -> PageResult {
    core_rules::delete(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other(LIST, Some("alert-rule-deleted")))
}
