//! Event rules, set by administrators and applied in their order: an **ignore** rule drops
//! the events it matches (they are kept, as dropped, and open nothing); a **transform** rule
//! sets fields of the events it matches, from text with `{field}` placeholders; a **bind**
//! rule binds the alert an event opens to the CI whose name, serial or attribute equals one
//! of the event's fields (no CI when none does: nothing is created); an **incident** rule
//! decides, for the alerts it matches, whether they open an incident, from which severity,
//! and whether only when impact analysis finds a service affected.
//!
//! A rule matches when all its conditions hold (a rule without conditions matches every
//! event). Text is compared without regard to case; `matches` is a regular expression.

use super::{Event, EventError, MAX_KEY, Severity};
use crate::values::{InvalidValue, code_enum};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use std::fmt;

/// The most conditions a rule may have.
pub const MAX_CONDITIONS: usize = 20;
/// The most fields a transform rule may set.
pub const MAX_SETS: usize = 20;
/// The longest value a condition compares with, or a template.
pub const MAX_VALUE: usize = 1_000;
/// The most rules there may be.
pub const MAX_RULES: usize = 500;

code_enum!(
    /// What a rule does to what it matches.
    RuleKind {
        Ignore = "ignore",
        Transform = "transform",
        Bind = "bind",
        Incident = "incident",
    }
);

code_enum!(
    /// How a condition compares a field with its value (`at_least`: the severity is this one
    /// or worse).
    Op {
        Equals = "equals",
        NotEquals = "not_equals",
        Contains = "contains",
        StartsWith = "starts_with",
        EndsWith = "ends_with",
        Matches = "matches",
        AtLeast = "at_least",
    }
);

/// A field of an event (or of an alert, which has the same but `additional`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Source,
    Node,
    Resource,
    Type,
    Metric,
    Severity,
    Message,
    Description,
    MessageKey,
    /// A member of the additional object: `additional.name`.
    Additional(String),
}

impl Field {
    /// The names of the fields every event has (and `additional.<name>` besides).
    pub const NAMES: &'static [&'static str] = &[
        "source",
        "node",
        "resource",
        "type",
        "metric",
        "severity",
        "message",
        "description",
        "message_key",
    ];

    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        Ok(match text.trim() {
            "source" => Field::Source,
            "node" => Field::Node,
            "resource" => Field::Resource,
            "type" => Field::Type,
            "metric" => Field::Metric,
            "severity" => Field::Severity,
            "message" => Field::Message,
            "description" => Field::Description,
            "message_key" => Field::MessageKey,
            other => match other.strip_prefix("additional.") {
                Some(name) if !name.is_empty() && name.len() <= 100 => {
                    Field::Additional(name.to_owned())
                }
                _ => {
                    return Err(InvalidValue::new(
                        "invalid_choice",
                        "must be one of: source, node, resource, type, metric, severity, message, \
                         description, message_key, additional.<name>",
                    ));
                }
            },
        })
    }

    pub fn name(&self) -> Cow<'static, str> {
        Cow::Borrowed(match self {
            Field::Source => "source",
            Field::Node => "node",
            Field::Resource => "resource",
            Field::Type => "type",
            Field::Metric => "metric",
            Field::Severity => "severity",
            Field::Message => "message",
            Field::Description => "description",
            Field::MessageKey => "message_key",
            Field::Additional(n) => return Cow::Owned(format!("additional.{n}")),
        })
    }

    /// The most characters the field holds.
    fn max(&self) -> usize {
        match self {
            Field::Source | Field::Type => 100,
            Field::Node | Field::Resource | Field::Metric => 255,
            Field::Severity => 20,
            Field::Message | Field::Additional(_) => 1_000,
            Field::Description => 30_000,
            Field::MessageKey => MAX_KEY,
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// One condition of a rule.
#[derive(Debug, Clone)]
pub struct Condition {
    pub field: Field,
    pub op: Op,
    pub value: String,
    regex: Option<regex::Regex>,
    severity: Option<Severity>,
}

impl Condition {
    /// Whether it holds of a field's value (`None`: the event has no such field). Only
    /// `not_equals` holds of a missing field.
    pub fn holds(&self, got: Option<&str>) -> bool {
        let Some(got) = got else {
            return self.op == Op::NotEquals;
        };
        let eq = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
        let lower = got.to_lowercase();
        let want = self.value.to_lowercase();
        match self.op {
            Op::Equals => eq(got, &self.value),
            Op::NotEquals => !eq(got, &self.value),
            Op::Contains => lower.contains(&want),
            Op::StartsWith => lower.starts_with(&want),
            Op::EndsWith => lower.ends_with(&want),
            Op::Matches => self.regex.as_ref().is_some_and(|r| r.is_match(got)),
            Op::AtLeast => match (Severity::parse(got), self.severity) {
                (Ok(s), Some(t)) => s.at_least(t),
                _ => false,
            },
        }
    }
}

/// Text with `{field}` placeholders, each replaced by the event's field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Field(Field),
}

impl Template {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        if text.chars().count() > MAX_VALUE {
            return Err(InvalidValue::new(
                "too_long",
                format!("must be at most {MAX_VALUE} characters"),
            ));
        }
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            let Some(close) = rest[open..].find('}') else {
                return Err(InvalidValue::new(
                    "invalid_template",
                    "a { is not closed by a }",
                ));
            };
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let name = &rest[open + 1..open + close];
            parts.push(Part::Field(Field::parse(name).map_err(|_| {
                InvalidValue::new(
                    "invalid_template",
                    format!("{{{name}}} is not a field of an event"),
                )
            })?));
            rest = &rest[open + close + 1..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Self {
            text: text.to_owned(),
            parts,
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The text with the event's fields in it (a missing field is empty).
    pub fn render(&self, e: &Event) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Field(f) => out.push_str(e.field(f).as_deref().unwrap_or("")),
            }
        }
        out
    }
}

/// What in the CMDB a bind rule compares with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CiAttribute {
    Name,
    Serial,
    /// A member of the CI's attributes: `attributes.name`.
    Attribute(String),
}

impl CiAttribute {
    pub fn parse(text: &str) -> Result<Self, InvalidValue> {
        match text.trim() {
            "name" => Ok(CiAttribute::Name),
            "serial" => Ok(CiAttribute::Serial),
            other => match other.strip_prefix("attributes.") {
                Some(n)
                    if !n.is_empty()
                        && n.len() <= 100
                        && n.chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
                {
                    Ok(CiAttribute::Attribute(n.to_owned()))
                }
                _ => Err(InvalidValue::new(
                    "invalid_choice",
                    "must be name, serial or attributes.<name> (letters, digits, _ and -)",
                )),
            },
        }
    }

    pub fn name(&self) -> Cow<'static, str> {
        match self {
            CiAttribute::Name => Cow::Borrowed("name"),
            CiAttribute::Serial => Cow::Borrowed("serial"),
            CiAttribute::Attribute(n) => Cow::Owned(format!("attributes.{n}")),
        }
    }
}

/// What an incident rule decides for the alerts it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncidentDecision {
    /// Whether they open an incident at all.
    pub open: bool,
    /// From which severity (the policy's when not given).
    pub threshold: Option<Severity>,
    /// Only when impact analysis finds a service the alert's CI affects.
    pub only_with_service: bool,
}

/// What a rule does.
#[derive(Debug, Clone)]
pub enum Action {
    Ignore,
    Transform(Vec<(Field, Template)>),
    Bind { attribute: CiAttribute, from: Field },
    Incident(IncidentDecision),
}

/// A rule's definition: what it matches and what it does.
#[derive(Debug, Clone)]
pub struct Rule {
    pub conditions: Vec<Condition>,
    pub action: Action,
}

/// Reads a field's value from a JSON object of a rule.
fn text_of<'a>(
    o: &'a Map<String, Value>,
    name: &str,
    errs: &mut Vec<EventError>,
) -> Option<&'a str> {
    match o.get(name) {
        None | Some(Value::Null) => {
            errs.push(err(name, "required", "is required"));
            None
        }
        Some(Value::String(s)) => Some(s),
        Some(_) => {
            errs.push(err(name, "invalid_type", "must be a string"));
            None
        }
    }
}

fn err(field: &str, code: &'static str, message: impl Into<String>) -> EventError {
    EventError {
        field: field.to_owned(),
        code,
        message: message.into(),
    }
}

fn invalid(field: &str, e: InvalidValue) -> EventError {
    EventError {
        field: field.to_owned(),
        code: e.code,
        message: e.message,
    }
}

impl Rule {
    /// Parses a rule's definition of its kind: `conditions` (a list of `{field, op, value}`)
    /// and, by kind, `set` (transform: an object of field to template), `ci_attribute` and
    /// `from` (bind), `open_incident`, `threshold` and `only_with_service` (incident). Every
    /// error is reported, each with its field.
    pub fn parse(kind: RuleKind, v: &Value) -> Result<Self, Vec<EventError>> {
        let mut errs = Vec::new();
        let empty = Map::new();
        let o = match v {
            Value::Object(o) => o,
            Value::Null => &empty,
            _ => return Err(vec![err("", "invalid_type", "a rule is a JSON object")]),
        };
        let mut conditions = Vec::new();
        match o.get("conditions") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) if list.len() > MAX_CONDITIONS => errs.push(err(
                "conditions",
                "too_many",
                format!("at most {MAX_CONDITIONS} conditions"),
            )),
            Some(Value::Array(list)) => {
                for (i, c) in list.iter().enumerate() {
                    match Self::condition(c, &format!("conditions[{i}]")) {
                        Ok(c) => conditions.push(c),
                        Err(mut e) => errs.append(&mut e),
                    }
                }
            }
            Some(_) => errs.push(err("conditions", "invalid_type", "must be a list")),
        }
        let action = match kind {
            RuleKind::Ignore => Some(Action::Ignore),
            RuleKind::Transform => Self::sets(o, &mut errs).map(Action::Transform),
            RuleKind::Bind => {
                let attribute = text_of(o, "ci_attribute", &mut errs).and_then(|t| {
                    CiAttribute::parse(t)
                        .map_err(|e| errs.push(invalid("ci_attribute", e)))
                        .ok()
                });
                let from = text_of(o, "from", &mut errs).and_then(|t| {
                    Field::parse(t)
                        .map_err(|e| errs.push(invalid("from", e)))
                        .ok()
                });
                match (attribute, from) {
                    (Some(attribute), Some(from)) => Some(Action::Bind { attribute, from }),
                    _ => None,
                }
            }
            RuleKind::Incident => {
                let flag = |name: &str, or: bool, errs: &mut Vec<EventError>| match o.get(name) {
                    None | Some(Value::Null) => or,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => {
                        errs.push(err(name, "invalid_type", "must be true or false"));
                        or
                    }
                };
                let open = flag("open_incident", true, &mut errs);
                let only_with_service = flag("only_with_service", false, &mut errs);
                let threshold = match o.get("threshold") {
                    None | Some(Value::Null) => None,
                    Some(Value::String(s)) => match Severity::parse(s) {
                        Ok(Severity::Clear) => {
                            errs.push(err("threshold", "invalid_choice", "clear opens nothing"));
                            None
                        }
                        Ok(s) => Some(s),
                        Err(e) => {
                            errs.push(invalid("threshold", e));
                            None
                        }
                    },
                    Some(_) => {
                        errs.push(err("threshold", "invalid_type", "must be a string"));
                        None
                    }
                };
                Some(Action::Incident(IncidentDecision {
                    open,
                    threshold,
                    only_with_service,
                }))
            }
        };
        match action {
            Some(action) if errs.is_empty() => Ok(Rule { conditions, action }),
            _ => Err(errs),
        }
    }

    fn condition(v: &Value, at: &str) -> Result<Condition, Vec<EventError>> {
        let Some(o) = v.as_object() else {
            return Err(vec![err(
                at,
                "invalid_type",
                "a condition is an object with field, op and value",
            )]);
        };
        let mut errs = Vec::new();
        let field = text_of(o, "field", &mut errs).and_then(|t| {
            Field::parse(t)
                .map_err(|e| errs.push(invalid(&format!("{at}.field"), e)))
                .ok()
        });
        let op = text_of(o, "op", &mut errs).and_then(|t| {
            Op::parse(t)
                .map_err(|e| errs.push(invalid(&format!("{at}.op"), e)))
                .ok()
        });
        let value = text_of(o, "value", &mut errs)
            .unwrap_or_default()
            .to_owned();
        for e in errs.iter_mut() {
            if !e.field.starts_with(at) {
                e.field = format!("{at}.{}", e.field);
            }
        }
        if value.chars().count() > MAX_VALUE {
            errs.push(err(
                &format!("{at}.value"),
                "too_long",
                format!("must be at most {MAX_VALUE} characters"),
            ));
        }
        let (Some(field), Some(op)) = (field, op) else {
            return Err(errs);
        };
        let mut regex = None;
        let mut severity = None;
        match op {
            Op::Matches => match regex::RegexBuilder::new(&value)
                .case_insensitive(true)
                .size_limit(1 << 20)
                .build()
            {
                Ok(r) => regex = Some(r),
                Err(e) => {
                    // The parser's last line says what is wrong, without its drawing.
                    let text = e.to_string();
                    let why = text.lines().last().unwrap_or_default();
                    let why = why.strip_prefix("error: ").unwrap_or(why);
                    errs.push(err(
                        &format!("{at}.value"),
                        "invalid_regex",
                        format!("is not a regular expression ({why})"),
                    ));
                }
            },
            Op::AtLeast if field != Field::Severity => errs.push(err(
                &format!("{at}.op"),
                "invalid_choice",
                "at_least compares the severity only",
            )),
            Op::AtLeast => match Severity::parse(&value) {
                Ok(s) => severity = Some(s),
                Err(e) => errs.push(invalid(&format!("{at}.value"), e)),
            },
            _ => {}
        }
        if errs.is_empty() {
            Ok(Condition {
                field,
                op,
                value,
                regex,
                severity,
            })
        } else {
            Err(errs)
        }
    }

    fn sets(o: &Map<String, Value>, errs: &mut Vec<EventError>) -> Option<Vec<(Field, Template)>> {
        let Some(Value::Object(set)) = o.get("set") else {
            errs.push(err(
                "set",
                "required",
                "is required: an object of field to the text it is set to",
            ));
            return None;
        };
        if set.is_empty() || set.len() > MAX_SETS {
            errs.push(err(
                "set",
                "invalid_length",
                format!("sets from 1 to {MAX_SETS} fields"),
            ));
            return None;
        }
        let before = errs.len();
        let mut out = Vec::new();
        for (name, v) in set {
            let at = format!("set.{name}");
            let field = match Field::parse(name) {
                Ok(f) => f,
                Err(e) => {
                    errs.push(invalid(&at, e));
                    continue;
                }
            };
            let Some(text) = v.as_str() else {
                errs.push(err(&at, "invalid_type", "must be a string"));
                continue;
            };
            match Template::parse(text) {
                Ok(t) => out.push((field, t)),
                Err(e) => errs.push(invalid(&at, e)),
            }
        }
        (errs.len() == before).then_some(out)
    }

    /// The definition as JSON, as `parse` reads it.
    pub fn to_json(&self) -> Value {
        let conditions: Vec<Value> = self
            .conditions
            .iter()
            .map(|c| json!({"field": c.field.name(), "op": c.op.code(), "value": c.value}))
            .collect();
        let mut o = json!({ "conditions": conditions });
        match &self.action {
            Action::Ignore => {}
            Action::Transform(sets) => {
                let set: Map<String, Value> = sets
                    .iter()
                    .map(|(f, t)| (f.name().into_owned(), Value::from(t.as_str())))
                    .collect();
                o["set"] = Value::Object(set);
            }
            Action::Bind { attribute, from } => {
                o["ci_attribute"] = json!(attribute.name());
                o["from"] = json!(from.name());
            }
            Action::Incident(d) => {
                o["open_incident"] = json!(d.open);
                o["threshold"] = json!(d.threshold.map(Severity::code));
                o["only_with_service"] = json!(d.only_with_service);
            }
        }
        o
    }

    /// Whether every condition holds, `get` giving a field's value.
    pub fn matches<'a>(&self, get: impl Fn(&Field) -> Option<Cow<'a, str>>) -> bool {
        self.conditions
            .iter()
            .all(|c| c.holds(get(&c.field).as_deref()))
    }

    pub fn matches_event(&self, e: &Event) -> bool {
        self.conditions
            .iter()
            .all(|c| c.holds(e.field(&c.field).as_deref()))
    }
}

/// What the ignore and transform rules made of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Screened {
    /// Kept, changed by the transform rules at these places (in the rule list).
    Kept(Vec<usize>),
    /// Dropped by the ignore rule at this place.
    Dropped(usize),
}

/// Applies the ignore and transform rules to an event, in order: the first ignore rule that
/// matches drops it; a transform rule that matches sets its fields (a value that the field
/// cannot hold leaves the field as it was).
pub fn screen(rules: &[Rule], e: &mut Event) -> Screened {
    let mut changed = Vec::new();
    for (i, r) in rules.iter().enumerate() {
        match &r.action {
            Action::Ignore if r.matches_event(e) => return Screened::Dropped(i),
            Action::Transform(sets) if r.matches_event(e) => {
                let values: Vec<(Field, String)> =
                    sets.iter().map(|(f, t)| (f.clone(), t.render(e))).collect();
                let mut any = false;
                for (f, v) in values {
                    any |= e.set(&f, v);
                }
                if any {
                    changed.push(i);
                }
            }
            _ => {}
        }
    }
    Screened::Kept(changed)
}

/// The first bind rule that matches an event (its place in `rules`), with the value its CI
/// is looked up by (none when the event's field is empty: no CI).
pub fn binding<'r>(
    rules: &'r [Rule],
    e: &Event,
) -> Option<(usize, &'r CiAttribute, Option<String>)> {
    rules.iter().enumerate().find_map(|(i, r)| match &r.action {
        Action::Bind { attribute, from } if r.matches_event(e) => Some((
            i,
            attribute,
            e.field(from)
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty()),
        )),
        _ => None,
    })
}

/// The decision of the first incident rule that matches (its place in `rules`), `get`
/// giving the alert's fields.
pub fn incident_decision<'a>(
    rules: &[Rule],
    get: impl Fn(&Field) -> Option<Cow<'a, str>>,
) -> Option<(usize, IncidentDecision)> {
    rules.iter().enumerate().find_map(|(i, r)| match &r.action {
        Action::Incident(d) if r.matches(&get) => Some((i, *d)),
        _ => None,
    })
}

impl Event {
    /// A field's value, if the event has it (empty fields it has not).
    pub fn field(&self, f: &Field) -> Option<Cow<'_, str>> {
        let text = |s: &str| (!s.is_empty()).then(|| Cow::Owned(s.to_owned()));
        match f {
            Field::Source => text(&self.source),
            Field::Node => text(&self.node),
            Field::Resource => text(&self.resource),
            Field::Type => text(&self.kind),
            Field::Metric => text(&self.metric),
            Field::Severity => Some(Cow::Borrowed(self.severity.code())),
            Field::Message => text(&self.message),
            Field::Description => text(&self.description),
            Field::MessageKey => self.message_key.as_deref().and_then(text),
            Field::Additional(n) => match self.additional.get(n) {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => text(s),
                Some(v) => Some(Cow::Owned(v.to_string())),
            },
        }
    }

    /// Sets a field to a value, trimmed and cut to what the field holds; whether it changed.
    /// A severity that is not one, or an empty source or node, leaves the field as it was.
    pub fn set(&mut self, f: &Field, value: String) -> bool {
        let v: String = value.trim().chars().take(f.max()).collect();
        let put = |slot: &mut String, v: String| {
            let changed = *slot != v;
            *slot = v;
            changed
        };
        match f {
            Field::Source if v.is_empty() => false,
            Field::Node if v.is_empty() => false,
            Field::Source => put(&mut self.source, v),
            Field::Node => put(&mut self.node, v),
            Field::Resource => put(&mut self.resource, v),
            Field::Type => put(&mut self.kind, v),
            Field::Metric => put(&mut self.metric, v),
            Field::Message => put(&mut self.message, v),
            Field::Description => put(&mut self.description, v),
            Field::Severity => match Severity::parse(&v) {
                Ok(s) if s != self.severity => {
                    self.severity = s;
                    true
                }
                _ => false,
            },
            Field::MessageKey => {
                let new = (!v.is_empty()).then_some(v);
                let changed = self.message_key != new;
                self.message_key = new;
                changed
            }
            Field::Additional(n) => {
                let new = Value::String(v);
                let changed = self.additional.get(n) != Some(&new);
                self.additional.insert(n.clone(), new);
                changed
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(v: Value) -> Result<Event, String> {
        let now: jiff::Timestamp = "2026-12-04T12:00:00Z"
            .parse()
            .map_err(|e: jiff::Error| e.to_string())?;
        Event::parse(&v, now).map_err(|e| format!("{e:?}"))
    }

    fn rule(kind: RuleKind, v: Value) -> Result<Rule, String> {
        Rule::parse(kind, &v).map_err(|e| format!("{e:?}"))
    }

    #[test]
    fn ignore_drops_what_matches_and_keeps_the_rest() -> Result<(), String> {
        let rules = vec![rule(
            RuleKind::Ignore,
            json!({"conditions": [{"field": "node", "op": "starts_with", "value": "TEST-"},
                                  {"field": "severity", "op": "at_least", "value": "info"}]}),
        )?];
        let mut e = event(json!({"source": "s", "node": "test-01", "severity": "minor"}))?;
        assert_eq!(screen(&rules, &mut e), Screened::Dropped(0));
        let mut e = event(json!({"source": "s", "node": "prod-01", "severity": "minor"}))?;
        assert_eq!(screen(&rules, &mut e), Screened::Kept(vec![]));
        // A clear is below every severity: at_least info does not hold.
        let mut e = event(json!({"source": "s", "node": "test-01", "severity": "clear"}))?;
        assert_eq!(screen(&rules, &mut e), Screened::Kept(vec![]));
        Ok(())
    }

    #[test]
    fn transform_sets_fields_from_templates_in_order() -> Result<(), String> {
        let rules = vec![
            rule(
                RuleKind::Transform,
                json!({"conditions": [{"field": "additional.env", "op": "equals", "value": "PROD"}],
                       "set": {"node": "{additional.host}", "severity": "major",
                               "message": "{node}: {message}"}}),
            )?,
            rule(
                RuleKind::Transform,
                json!({"set": {"severity": "not-a-severity", "resource": "r"}}),
            )?,
        ];
        let mut e = event(
            json!({"source": "s", "node": "10.0.0.5", "severity": "minor",
                                 "message": "slow", "additional": {"env": "prod", "host": "db01"}}),
        )?;
        assert_eq!(screen(&rules, &mut e), Screened::Kept(vec![0, 1]));
        assert_eq!(e.node, "db01");
        assert_eq!(e.severity, Severity::Major);
        // Templates read the event as it was when the rule began.
        assert_eq!(e.message, "10.0.0.5: slow");
        assert_eq!(e.resource, "r");
        // A missing field does not match equals; an empty host leaves the node as it was.
        let mut e = event(json!({"source": "s", "node": "n1", "severity": "minor"}))?;
        assert_eq!(screen(&rules, &mut e), Screened::Kept(vec![1]));
        assert_eq!(e.node, "n1");
        Ok(())
    }

    #[test]
    fn bad_rules_are_refused_with_every_field() {
        let e = Rule::parse(
            RuleKind::Transform,
            &json!({"conditions": [{"field": "colour", "op": "equals", "value": "x"},
                                   {"field": "node", "op": "matches", "value": "(["},
                                   {"field": "node", "op": "at_least", "value": "major"},
                                   "nope"],
                    "set": {"node": "{nope}", "severity": 5}}),
        )
        .err()
        .unwrap_or_default();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "conditions[0].field",
                "conditions[1].value",
                "conditions[2].op",
                "conditions[3]",
                "set.node",
                "set.severity"
            ],
            "{e:?}"
        );
        assert!(Rule::parse(RuleKind::Bind, &json!({"ci_attribute": "attributes.a b"})).is_err());
        assert!(Rule::parse(RuleKind::Incident, &json!({"threshold": "clear"})).is_err());
        assert!(Rule::parse(RuleKind::Ignore, &json!([])).is_err());
    }

    #[test]
    fn a_rule_reads_back_as_it_was_written() -> Result<(), String> {
        for (kind, v) in [
            (
                RuleKind::Bind,
                json!({"conditions": [{"field": "source", "op": "equals", "value": "zabbix"}],
                       "ci_attribute": "attributes.ip_address", "from": "additional.ip"}),
            ),
            (
                RuleKind::Incident,
                json!({"conditions": [], "open_incident": true, "threshold": "minor",
                       "only_with_service": true}),
            ),
            (
                RuleKind::Transform,
                json!({"conditions": [{"field": "message", "op": "matches", "value": "^disk"}],
                       "set": {"type": "disk"}}),
            ),
        ] {
            let r = rule(kind, v.clone())?;
            assert_eq!(r.to_json(), v);
        }
        Ok(())
    }

    #[test]
    fn bind_and_incident_rules_pick_the_first_that_matches() -> Result<(), String> {
        let rules = vec![
            rule(
                RuleKind::Bind,
                json!({"conditions": [{"field": "source", "op": "equals", "value": "zabbix"}],
                       "ci_attribute": "serial", "from": "additional.serial"}),
            )?,
            rule(
                RuleKind::Incident,
                json!({"conditions": [{"field": "node", "op": "contains", "value": "db"}],
                       "threshold": "warning"}),
            )?,
        ];
        let e = event(
            json!({"source": "Zabbix", "node": "db01", "severity": "minor",
                             "additional": {"serial": " SN-1 "}}),
        )?;
        let (at, attr, value) = binding(&rules, &e).ok_or("no binding")?;
        assert_eq!(
            (at, attr, value.as_deref()),
            (0, &CiAttribute::Serial, Some("SN-1"))
        );
        let e2 = event(json!({"source": "zabbix", "node": "db01", "severity": "minor"}))?;
        assert_eq!(binding(&rules, &e2).map(|b| b.2), Some(None));
        let (at, d) = incident_decision(&rules, |f| e.field(f)).ok_or("no decision")?;
        assert_eq!(at, 1);
        assert_eq!(d.threshold, Some(Severity::Warning));
        let e3 = event(json!({"source": "s", "node": "web01", "severity": "minor"}))?;
        assert!(incident_decision(&rules, |f| e3.field(f)).is_none());
        Ok(())
    }
}
