//! The service catalogue's order forms: an item's variables (typed fields with a label in
//! English and Bahasa Indonesia, help, required, a default, an order, and a condition to
//! show them) and the checking of a requester's answers against them.
//!
//! A `Form` is checked once, when an item's variables are saved; answers are checked against
//! it on every order, each bad value with its own error. References (a person, a CI, an
//! attachment) are checked here for their shape only: whether they exist is the use case's
//! question, asked of `Answers::references`.

use crate::values::{InvalidValue, code_enum, parse_line, parse_text};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

code_enum!(
    /// What a variable asks for.
    VariableKind {
        Text = "text",
        Multiline = "multiline",
        Number = "number",
        Date = "date",
        Choice = "choice",
        Radio = "radio",
        MultiChoice = "multi_choice",
        YesNo = "yes_no",
        Person = "person",
        Ci = "ci",
        Attachment = "attachment",
    }
);

/// The most variables a form holds, and the most options a choice offers.
pub const MAX_VARIABLES: usize = 100;
pub const MAX_OPTIONS: usize = 100;
/// The longest answer a single-line and a multi-line variable take, in characters.
pub const MAX_LINE: usize = 1_000;
pub const MAX_TEXT: usize = 32_000;

/// A variable shown only when an earlier one has a given answer (for a multiple choice: when
/// the answer includes it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShowWhen {
    pub variable: String,
    pub equals: String,
}

/// One variable of an order form, as an item defines it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variable {
    /// Its key in the answers: a lower-case letter, then letters, digits or `_` (at most 40).
    pub name: String,
    pub kind: VariableKind,
    pub label_en: String,
    pub label_id: String,
    #[serde(default)]
    pub help_en: String,
    #[serde(default)]
    pub help_id: String,
    #[serde(default)]
    pub required: bool,
    /// The answer when none is given, checked like one.
    #[serde(default)]
    pub default: Option<Value>,
    /// Where it shows; ties keep the order given.
    #[serde(default)]
    pub order: i64,
    /// A number's bounds.
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
    /// A choice's options (choice, radio, multiple choice).
    #[serde(default)]
    pub options: Vec<String>,
    /// The CI class a CI variable offers (its code), if only one.
    #[serde(default)]
    pub ci_class: Option<String>,
    #[serde(default)]
    pub show_when: Option<ShowWhen>,
}

/// An error of one variable (`variables.<name>`) or of one field of a definition
/// (`variables.<index>.<field>`).
pub type VariableError = (String, InvalidValue);

/// An item's order form: its variables, each checked, in the order they show.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(transparent)]
pub struct Form(Vec<Variable>);

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 40
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

fn is_choice(kind: VariableKind) -> bool {
    matches!(
        kind,
        VariableKind::Choice | VariableKind::Radio | VariableKind::MultiChoice
    )
}

impl Form {
    /// Checks a form's definition: names well formed and unique, labels in both languages,
    /// options only and always where a choice is, bounds only on numbers and in order,
    /// conditions on an earlier variable, defaults that are valid answers.
    pub fn new(variables: Vec<Variable>) -> Result<Form, Vec<VariableError>> {
        let mut errs: Vec<VariableError> = Vec::new();
        if variables.len() > MAX_VARIABLES {
            let message = format!("at most {MAX_VARIABLES} variables");
            return Err(vec![(
                "variables".into(),
                InvalidValue::new("too_many", message),
            )]);
        }
        let mut vars = variables;
        // Stable: equal orders keep the order given.
        vars.sort_by_key(|v| v.order);
        let mut seen: Vec<String> = Vec::new();
        for (i, v) in vars.iter_mut().enumerate() {
            let mut err =
                |field: &str, e: InvalidValue| errs.push((format!("variables.{i}.{field}"), e));
            if !valid_name(&v.name) {
                let message = "a lower-case letter, then letters, digits or _ (at most 40)";
                err("name", InvalidValue::new("invalid_name", message));
            } else if seen.contains(&v.name) {
                err(
                    "name",
                    InvalidValue::new("duplicate", format!("{:?} is used twice", v.name)),
                );
            }
            for (field, label) in [("label_en", &mut v.label_en), ("label_id", &mut v.label_id)] {
                match parse_line(label, 200) {
                    Ok(l) => *label = l,
                    Err(e) => err(field, e),
                }
            }
            for (field, help) in [("help_en", &v.help_en), ("help_id", &v.help_id)] {
                if let Err(e) = parse_text(help, 2_000) {
                    err(field, e);
                }
            }
            if is_choice(v.kind) {
                let mut options: Vec<String> = Vec::new();
                for o in &v.options {
                    match parse_line(o, 200) {
                        Ok(o) if options.contains(&o) => err(
                            "options",
                            InvalidValue::new("duplicate", format!("{o:?} is offered twice")),
                        ),
                        Ok(o) => options.push(o),
                        Err(e) => err("options", e),
                    }
                }
                if options.is_empty() || options.len() > MAX_OPTIONS {
                    let message = format!("a choice offers 1 to {MAX_OPTIONS} options");
                    err("options", InvalidValue::new("out_of_range", message));
                }
                v.options = options;
            } else if !v.options.is_empty() {
                err(
                    "options",
                    InvalidValue::new("not_allowed", "only a choice has options"),
                );
            }
            if v.kind == VariableKind::Number {
                let finite = |b: Option<f64>| b.is_none_or(f64::is_finite);
                if !finite(v.min) || !finite(v.max) {
                    err(
                        "min",
                        InvalidValue::new("invalid_number", "bounds must be numbers"),
                    );
                } else if let (Some(lo), Some(hi)) = (v.min, v.max) {
                    if lo > hi {
                        err(
                            "max",
                            InvalidValue::new("out_of_range", "must not be below min"),
                        );
                    }
                }
            } else if v.min.is_some() || v.max.is_some() {
                err(
                    "min",
                    InvalidValue::new("not_allowed", "only a number has bounds"),
                );
            }
            if v.ci_class.is_some() && v.kind != VariableKind::Ci {
                err(
                    "ci_class",
                    InvalidValue::new("not_allowed", "only a CI variable has a class"),
                );
            }
            if let Some(w) = &v.show_when {
                if !seen.contains(&w.variable) {
                    let message = "must name a variable shown before this one";
                    err("show_when", InvalidValue::new("unknown_variable", message));
                }
            }
            if let Some(d) = &v.default {
                if let Err(e) = check(v, d) {
                    err("default", e);
                }
            }
            seen.push(v.name.clone());
        }
        if errs.is_empty() {
            Ok(Form(vars))
        } else {
            Err(errs)
        }
    }

    pub fn variables(&self) -> &[Variable] {
        &self.0
    }

    /// Checks an order's answers: each shown variable's answer (or its default) of the right
    /// type and within its bounds, the required ones given; answers to hidden variables are
    /// dropped, answers to no variable refused. Every bad answer has its own error.
    pub fn answer(&self, given: &Map<String, Value>) -> Result<Answers, Vec<VariableError>> {
        let mut errs: Vec<VariableError> = Vec::new();
        for name in given.keys() {
            if !self.0.iter().any(|v| &v.name == name) {
                let e = InvalidValue::new("unknown_variable", "the item has no such variable");
                errs.push((format!("variables.{name}"), e));
            }
        }
        let mut out: Vec<(String, Value)> = Vec::new();
        for v in &self.0 {
            let shown = v.show_when.as_ref().is_none_or(|w| {
                out.iter()
                    .find(|(n, _)| *n == w.variable)
                    .is_some_and(|(_, a)| matches(a, &w.equals))
            });
            if !shown {
                continue;
            }
            let value = match given.get(&v.name) {
                Some(a) if !blank(a) => Some(a),
                _ => v.default.as_ref(),
            };
            match value {
                None if v.required => {
                    let e = InvalidValue::new("required", "is required");
                    errs.push((format!("variables.{}", v.name), e));
                }
                None => {}
                Some(a) => match check(v, a) {
                    Ok(a) => out.push((v.name.clone(), a)),
                    Err(e) => errs.push((format!("variables.{}", v.name), e)),
                },
            }
        }
        if errs.is_empty() {
            Ok(Answers(out))
        } else {
            Err(errs)
        }
    }
}

impl<'de> Deserialize<'de> for Form {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let vars = Vec::<Variable>::deserialize(d)?;
        Form::new(vars).map_err(|errs| {
            let text: Vec<String> = errs.iter().map(|(f, e)| format!("{f}: {e}")).collect();
            serde::de::Error::custom(text.join("; "))
        })
    }
}

fn blank(a: &Value) -> bool {
    match a {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        Value::Array(items) => items.is_empty(),
        _ => false,
    }
}

/// Whether a checked answer is (or, for a multiple choice, includes) `text`.
fn matches(a: &Value, text: &str) -> bool {
    match a {
        Value::String(s) => s == text,
        Value::Bool(b) => (if *b { "true" } else { "false" }) == text,
        Value::Number(n) => n.to_string() == text,
        Value::Array(items) => items.iter().any(|i| i.as_str() == Some(text)),
        _ => false,
    }
}

/// A yes or no: JSON's true and false, or the texts a form sends.
fn yes_no(a: &Value) -> Option<bool> {
    match a {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.trim() {
            "true" | "yes" | "on" => Some(true),
            "false" | "no" | "off" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// One answer checked against its variable, as it is kept: texts trimmed, numbers as
/// numbers, dates as `YYYY-MM-DD`, a multiple choice as a list, yes or no as a boolean.
fn check(v: &Variable, a: &Value) -> Result<Value, InvalidValue> {
    let text = || match a {
        Value::String(s) => Ok(s.as_str()),
        _ => Err(InvalidValue::new("invalid_type", "must be text")),
    };
    let choice = |s: &str| {
        let s = s.trim();
        if v.options.iter().any(|o| o == s) {
            Ok(Value::String(s.to_owned()))
        } else {
            let message = format!("must be one of: {}", v.options.join(", "));
            Err(InvalidValue::new("invalid_choice", message))
        }
    };
    match v.kind {
        VariableKind::Text => Ok(Value::String(parse_line(text()?, MAX_LINE)?)),
        VariableKind::Multiline => Ok(Value::String(
            parse_text(text()?, MAX_TEXT)?.trim().to_owned(),
        )),
        VariableKind::Number => {
            let n = match a {
                Value::Number(n) => n.as_f64(),
                Value::String(s) => s.trim().parse::<f64>().ok(),
                _ => None,
            }
            .filter(|n| n.is_finite())
            .ok_or_else(|| InvalidValue::new("invalid_number", "must be a number"))?;
            if v.min.is_some_and(|lo| n < lo) || v.max.is_some_and(|hi| n > hi) {
                let bound = |b: Option<f64>| b.map_or("…".to_owned(), |b| b.to_string());
                let message = format!("must be from {} to {}", bound(v.min), bound(v.max));
                return Err(InvalidValue::new("out_of_range", message));
            }
            let n = serde_json::Number::from_f64(n)
                .ok_or_else(|| InvalidValue::new("invalid_number", "must be a number"))?;
            Ok(Value::Number(n))
        }
        VariableKind::Date => {
            let d = text()?
                .trim()
                .parse::<jiff::civil::Date>()
                .map_err(|_| InvalidValue::new("invalid_date", "must be a date (YYYY-MM-DD)"))?;
            Ok(Value::String(d.to_string()))
        }
        VariableKind::Choice | VariableKind::Radio => choice(text()?),
        VariableKind::MultiChoice => {
            let items: Vec<&Value> = match a {
                Value::Array(items) => items.iter().collect(),
                other => vec![other],
            };
            let mut out: Vec<Value> = Vec::new();
            for i in items {
                let c = match i {
                    Value::String(s) => choice(s)?,
                    _ => return Err(InvalidValue::new("invalid_type", "must be a list of texts")),
                };
                if !out.contains(&c) {
                    out.push(c);
                }
            }
            Ok(Value::Array(out))
        }
        VariableKind::YesNo => yes_no(a)
            .map(Value::Bool)
            .ok_or_else(|| InvalidValue::new("invalid_type", "must be yes or no (true or false)")),
        VariableKind::Person | VariableKind::Ci | VariableKind::Attachment => {
            Ok(Value::String(parse_line(text()?, 200)?))
        }
    }
}

/// An order's checked answers, in the form's order: `(name, value)`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Answers(Vec<(String, Value)>);

impl Answers {
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// The answers that name a record, for the use case to find: `(name, kind, key)`. Its
    /// answer replaced by the record's id (`resolve`) once found.
    pub fn references<'a>(
        &'a self,
        form: &'a Form,
    ) -> impl Iterator<Item = (&'a str, VariableKind, &'a str)> {
        self.0.iter().filter_map(move |(n, a)| {
            let v = form.0.iter().find(|v| &v.name == n)?;
            match v.kind {
                VariableKind::Person | VariableKind::Ci | VariableKind::Attachment => {
                    Some((n.as_str(), v.kind, a.as_str()?))
                }
                _ => None,
            }
        })
    }

    /// Replaces the answer `name` with a found record's id.
    pub fn resolve(&mut self, name: &str, id: String) {
        if let Some((_, a)) = self.0.iter_mut().find(|(n, _)| n == name) {
            *a = Value::String(id);
        }
    }
}

impl fmt::Display for Answers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (n, a)) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{n}: {a}")?;
        }
        Ok(())
    }
}

// ----- the item around its form -----

/// A price in the smallest unit of the currency (cents, sen), never negative: read from a
/// decimal text with at most two places (`12.50`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Price(i64);

impl Price {
    pub fn parse(text: &str) -> Result<Price, InvalidValue> {
        let bad = || {
            InvalidValue::new(
                "invalid_price",
                "must be an amount like 12.50, not negative",
            )
        };
        let t = text.trim();
        let (whole, cents) = t.split_once('.').unwrap_or((t, ""));
        let digits =
            |s: &str| !s.is_empty() && s.len() <= 12 && s.bytes().all(|b| b.is_ascii_digit());
        if !digits(whole)
            || t.ends_with('.')
            || cents.len() > 2
            || !(cents.is_empty() || digits(cents))
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let cents: i64 = format!("{cents:0<2}").parse().map_err(|_| bad())?;
        Ok(Price(whole * 100 + cents))
    }

    pub fn from_cents(cents: i64) -> Result<Price, InvalidValue> {
        if cents < 0 {
            return Err(InvalidValue::new("invalid_price", "must not be negative"));
        }
        Ok(Price(cents))
    }

    pub fn cents(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Price {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// One step of an item's fulfilment plan: the group that does it, what to do, and its
/// order (steps of the same order run side by side; the next order starts when they are
/// done).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedTask {
    pub order: i64,
    pub group: crate::ids::GroupId,
    pub short_description: String,
    #[serde(default)]
    pub description: String,
}

/// The most steps a plan has.
pub const MAX_PLANNED: usize = 20;

/// An item's fulfilment plan, in order. An item with an empty plan waits, approved, for the
/// desk to complete it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
#[serde(transparent)]
pub struct Plan(Vec<PlannedTask>);

impl Plan {
    pub fn new(tasks: Vec<PlannedTask>) -> Result<Plan, Vec<VariableError>> {
        if tasks.len() > MAX_PLANNED {
            let e = InvalidValue::new("too_many", format!("at most {MAX_PLANNED} tasks"));
            return Err(vec![("plan".into(), e)]);
        }
        let mut errs: Vec<VariableError> = Vec::new();
        let mut tasks = tasks;
        tasks.sort_by_key(|t| t.order);
        for (i, t) in tasks.iter_mut().enumerate() {
            if !(0..=1_000).contains(&t.order) {
                let e = InvalidValue::new("out_of_range", "must be 0 to 1000");
                errs.push((format!("plan.{i}.order"), e));
            }
            match parse_line(&t.short_description, 160) {
                Ok(d) => t.short_description = d,
                Err(e) => errs.push((format!("plan.{i}.short_description"), e)),
            }
            if let Err(e) = parse_text(&t.description, MAX_TEXT) {
                errs.push((format!("plan.{i}.description"), e));
            }
        }
        if errs.is_empty() {
            Ok(Plan(tasks))
        } else {
            Err(errs)
        }
    }

    pub fn tasks(&self) -> &[PlannedTask] {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Plan {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Plan::new(Vec::<PlannedTask>::deserialize(d)?).map_err(|errs| {
            let text: Vec<String> = errs.iter().map(|(f, e)| format!("{f}: {e}")).collect();
            serde::de::Error::custom(text.join("; "))
        })
    }
}

/// Who may order an item: everyone when both lists are empty, else the members of one of
/// the organizations or groups.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Audience {
    #[serde(default)]
    pub organizations: Vec<crate::ids::OrgId>,
    #[serde(default)]
    pub groups: Vec<crate::ids::GroupId>,
}

impl Audience {
    pub fn allows(
        &self,
        organization: Option<crate::ids::OrgId>,
        groups: &[crate::ids::GroupId],
    ) -> bool {
        (self.organizations.is_empty() && self.groups.is_empty())
            || organization.is_some_and(|o| self.organizations.contains(&o))
            || groups.iter().any(|g| self.groups.contains(g))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    type R = Result<(), Box<dyn std::error::Error>>;

    fn var(name: &str, kind: VariableKind) -> Variable {
        Variable {
            name: name.into(),
            kind,
            label_en: format!("{name} (en)"),
            label_id: format!("{name} (id)"),
            help_en: String::new(),
            help_id: String::new(),
            required: false,
            default: None,
            order: 0,
            min: None,
            max: None,
            options: Vec::new(),
            ci_class: None,
            show_when: None,
        }
    }

    fn laptop() -> Result<Form, String> {
        let mut size = var("screen", VariableKind::Choice);
        size.options = vec!["13 inch".into(), "15 inch".into()];
        size.required = true;
        let mut ram = var("memory_gb", VariableKind::Number);
        (ram.min, ram.max, ram.default) = (Some(8.0), Some(64.0), Some(json!(16)));
        let mut extras = var("extras", VariableKind::MultiChoice);
        extras.options = vec!["dock".into(), "bag".into(), "mouse".into()];
        let mut why = var("dock_reason", VariableKind::Multiline);
        why.show_when = Some(ShowWhen {
            variable: "extras".into(),
            equals: "dock".into(),
        });
        why.required = true;
        let mut needed = var("needed_by", VariableKind::Date);
        needed.order = -1;
        let urgent = var("urgent", VariableKind::YesNo);
        let user = var("for_whom", VariableKind::Person);
        Form::new(vec![size, ram, extras, why, needed, urgent, user]).map_err(|e| format!("{e:?}"))
    }

    fn answers(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn good_answers_are_kept_typed_in_the_forms_order() -> R {
        let form = laptop()?;
        assert_eq!(
            form.variables()[0].name,
            "needed_by",
            "order -1 shows first"
        );
        let a = form
            .answer(&answers(json!({
                "screen": " 15 inch ",
                "extras": ["dock", "bag", "dock"],
                "dock_reason": "Two screens at my desk\n",
                "needed_by": "2027-01-15",
                "urgent": "yes",
                "for_whom": "ani",
            })))
            .map_err(|e| format!("{e:?}"))?;
        assert_eq!(a.get("screen"), Some(&json!("15 inch")));
        assert_eq!(a.get("memory_gb"), Some(&json!(16.0)), "the default");
        assert_eq!(a.get("extras"), Some(&json!(["dock", "bag"])));
        assert_eq!(a.get("dock_reason"), Some(&json!("Two screens at my desk")));
        assert_eq!(a.get("urgent"), Some(&json!(true)));
        let names: Vec<&str> = a.iter().map(|(n, _)| n).collect();
        assert_eq!(
            names,
            [
                "needed_by",
                "screen",
                "memory_gb",
                "extras",
                "dock_reason",
                "urgent",
                "for_whom"
            ]
        );
        let refs: Vec<_> = a.references(&form).collect();
        assert_eq!(refs, [("for_whom", VariableKind::Person, "ani")]);
        Ok(())
    }

    #[test]
    fn every_bad_answer_has_its_own_error() -> R {
        let form = laptop()?;
        let errs = form
            .answer(&answers(json!({
                "screen": "17 inch",
                "memory_gb": "lots",
                "extras": ["dock", 3],
                "needed_by": "15/01/2027",
                "urgent": "maybe",
                "for_whom": "x".repeat(1_000_000),
                "colour": "red",
            })))
            .err()
            .ok_or("bad answers")?;
        let mut got: Vec<(&str, &str)> = errs.iter().map(|(f, e)| (f.as_str(), e.code)).collect();
        got.sort();
        assert_eq!(
            got,
            [
                ("variables.colour", "unknown_variable"),
                ("variables.extras", "invalid_type"),
                ("variables.for_whom", "too_long"),
                ("variables.memory_gb", "invalid_number"),
                ("variables.needed_by", "invalid_date"),
                ("variables.screen", "invalid_choice"),
                ("variables.urgent", "invalid_type"),
            ]
        );
        Ok(())
    }

    #[test]
    fn required_bounds_and_conditions() -> R {
        let form = laptop()?;
        let errs = form
            .answer(&Map::new())
            .err()
            .ok_or("the screen is required")?;
        assert_eq!(errs.len(), 1);
        assert_eq!(
            (errs[0].0.as_str(), errs[0].1.code),
            ("variables.screen", "required")
        );
        let errs = form
            .answer(&answers(
                json!({"screen": "13 inch", "memory_gb": 128, "extras": "dock"}),
            ))
            .err()
            .ok_or("too much memory, and the dock needs a reason")?;
        let got: Vec<(&str, &str)> = errs.iter().map(|(f, e)| (f.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("variables.memory_gb", "out_of_range"),
                ("variables.dock_reason", "required")
            ]
        );
        // Without the dock the reason is hidden: not required, and an answer to it is dropped.
        let a = form
            .answer(&answers(
                json!({"screen": "13 inch", "extras": ["bag"], "dock_reason": "x"}),
            ))
            .map_err(|e| format!("{e:?}"))?;
        assert_eq!(a.get("dock_reason"), None);
        let text = a.to_string();
        assert!(text.contains("screen: \"13 inch\""), "{text}");
        Ok(())
    }

    #[test]
    fn a_bad_definition_names_each_field() -> R {
        let mut dup = var("screen", VariableKind::Text);
        dup.order = 1;
        let mut choice = var("size", VariableKind::Choice);
        choice.order = 2;
        let mut number = var("count", VariableKind::Number);
        (number.order, number.min, number.max) = (3, Some(5.0), Some(1.0));
        number.options = vec!["one".into()];
        let mut later = var("later", VariableKind::Text);
        later.order = 4;
        later.show_when = Some(ShowWhen {
            variable: "nothing".into(),
            equals: "x".into(),
        });
        later.default = Some(json!(12));
        later.label_id = " ".into();
        let errs = Form::new(vec![
            var("screen", VariableKind::Text),
            dup,
            choice,
            number,
            later,
            var("Bad Name", VariableKind::Text),
        ])
        .err()
        .ok_or("bad definition")?;
        let got: Vec<(&str, &str)> = errs.iter().map(|(f, e)| (f.as_str(), e.code)).collect();
        assert_eq!(
            got,
            [
                ("variables.1.name", "invalid_name"),
                ("variables.2.name", "duplicate"),
                ("variables.3.options", "out_of_range"),
                ("variables.4.options", "not_allowed"),
                ("variables.4.max", "out_of_range"),
                ("variables.5.label_id", "required"),
                ("variables.5.show_when", "unknown_variable"),
                ("variables.5.default", "invalid_type"),
            ]
        );
        let many: Vec<Variable> = (0..=MAX_VARIABLES)
            .map(|i| var(&format!("v{i}"), VariableKind::Text))
            .collect();
        assert_eq!(Form::new(many).map_err(|e| e[0].1.code), Err("too_many"));
        Ok(())
    }

    #[test]
    fn a_form_reads_back_from_json_checked() -> R {
        let form = laptop()?;
        let text = serde_json::to_string(&form)?;
        let back: Form = serde_json::from_str(&text)?;
        assert_eq!(back, form);
        let bad = r#"[{"name": "x", "kind": "choice", "label_en": "X", "label_id": "X"}]"#;
        let err = serde_json::from_str::<Form>(bad)
            .err()
            .ok_or("a choice without options")?;
        assert!(err.to_string().contains("variables.0.options"), "{err}");
        Ok(())
    }

    #[test]
    fn prices_plans_and_audiences() -> R {
        assert_eq!(Price::parse("12.5").map(Price::cents), Ok(1250));
        assert_eq!(
            Price::parse(" 7 ").map(|p| p.to_string()),
            Ok("7.00".to_owned())
        );
        for bad in ["-1", "1.234", "abc", "", "1e3", "1.", "99999999999999"] {
            assert_eq!(
                Price::parse(bad).map_err(|e| e.code),
                Err("invalid_price"),
                "{bad}"
            );
        }
        assert!(Price::from_cents(-5).is_err());
        let desk = crate::ids::GroupId::new();
        let step = |order, text: &str| PlannedTask {
            order,
            group: desk,
            short_description: text.into(),
            description: String::new(),
        };
        let plan = Plan::new(vec![
            step(20, "Hand over"),
            step(10, "Order"),
            step(10, "Image"),
        ])
        .map_err(|e| format!("{e:?}"))?;
        let texts: Vec<&str> = plan
            .tasks()
            .iter()
            .map(|t| t.short_description.as_str())
            .collect();
        assert_eq!(texts, ["Order", "Image", "Hand over"]);
        let errs = Plan::new(vec![step(-1, " ")]).err().ok_or("a bad plan")?;
        let got: Vec<&str> = errs.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(got, ["plan.0.order", "plan.0.short_description"]);
        let org = crate::ids::OrgId::new();
        assert!(Audience::default().allows(None, &[]));
        let some = Audience {
            organizations: vec![org],
            groups: vec![desk],
        };
        assert!(some.allows(Some(org), &[]) && some.allows(None, &[desk]));
        assert!(!some.allows(Some(crate::ids::OrgId::new()), &[]));
        Ok(())
    }
}
