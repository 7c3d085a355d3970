//! Configuration management: CI states, relationship types and how impact travels along
//! them, class attribute definitions, and the breadth-first walk behind impact analysis.

use crate::values::{InvalidValue, code_enum};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::hash::Hash;

code_enum!(
    /// The operational state of a configuration item.
    CiStatus {
        Planned = "planned",
        InBuild = "in_build",
        Operational = "operational",
        Maintenance = "maintenance",
        Retired = "retired",
    }
);

code_enum!(
    /// A typed relationship from a source CI to a target CI, read as
    /// "source *depends on* target", "source *runs on* target" and so on.
    RelKind {
        DependsOn = "depends_on",
        RunsOn = "runs_on",
        HostedOn = "hosted_on",
        ConnectsTo = "connects_to",
        Uses = "uses",
        MemberOf = "member_of",
    }
);

/// Which way a walk follows the relationships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From a CI to what relies on it: what breaks when it breaks (impact).
    Upstream,
    /// From a CI to what it relies on (dependencies).
    Downstream,
}

/// Which way a relationship carries impact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// A failure of the target affects the source (the source relies on the target).
    TargetToSource,
    /// A failure of the source affects the target (a cluster relies on its members).
    SourceToTarget,
}

impl RelKind {
    /// How impact travels along a relationship of this type. A CI that connects to another
    /// (a server to its switch) relies on it for the connection; a link that matters both
    /// ways is two relationships.
    pub fn flow(self) -> Flow {
        match self {
            RelKind::DependsOn
            | RelKind::RunsOn
            | RelKind::HostedOn
            | RelKind::Uses
            | RelKind::ConnectsTo => Flow::TargetToSource,
            RelKind::MemberOf => Flow::SourceToTarget,
        }
    }

    /// Whether a walk in `dir` steps from the target of such a relationship to its source.
    pub fn walks_target_to_source(self, dir: Direction) -> bool {
        matches!(
            (self.flow(), dir),
            (Flow::TargetToSource, Direction::Upstream)
                | (Flow::SourceToTarget, Direction::Downstream)
        )
    }

    /// Whether a walk in `dir` steps from the source of such a relationship to its target.
    pub fn walks_source_to_target(self, dir: Direction) -> bool {
        matches!(
            (self.flow(), dir),
            (Flow::SourceToTarget, Direction::Upstream)
                | (Flow::TargetToSource, Direction::Downstream)
        )
    }

    /// The relationship types a walk in `dir` follows from target to source.
    pub fn target_to_source(dir: Direction) -> Vec<RelKind> {
        RelKind::ALL
            .iter()
            .copied()
            .filter(|k| k.walks_target_to_source(dir))
            .collect()
    }

    /// The relationship types a walk in `dir` follows from source to target.
    pub fn source_to_target(dir: Direction) -> Vec<RelKind> {
        RelKind::ALL
            .iter()
            .copied()
            .filter(|k| k.walks_source_to_target(dir))
            .collect()
    }
}

/// One step of a walk: from `from` to `to` along a relationship of type `kind`, and whether
/// the step went against the relationship's own direction (target to source).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step<N> {
    pub from: N,
    pub to: N,
    pub kind: RelKind,
    pub reversed: bool,
}

/// A breadth-first walk that is fed one level at a time, so that the caller can fetch each
/// level's edges from a database in one round. Every node is visited once, so cycles end
/// the walk instead of looping; each node keeps the step it was first reached by, which
/// gives a shortest path back to the start.
#[derive(Debug, Clone)]
pub struct Walk<N> {
    start: N,
    reached: HashMap<N, (Option<Step<N>>, u32)>,
    order: Vec<N>,
    frontier: Vec<N>,
    depth: u32,
    limit: usize,
    truncated: bool,
}

impl<N: Copy + Eq + Hash> Walk<N> {
    /// A walk from `start` that stops once `limit` nodes (besides the start) were reached.
    pub fn new(start: N, limit: usize) -> Self {
        Self::from_many(&[start], start, limit)
    }

    /// A walk from several starting nodes at once (the CIs a service is delivered by);
    /// `anchor` names the walk's origin in paths.
    pub fn from_many(starts: &[N], anchor: N, limit: usize) -> Self {
        let mut reached = HashMap::new();
        let mut frontier = Vec::new();
        for s in starts {
            if let Entry::Vacant(e) = reached.entry(*s) {
                e.insert((None, 0));
                frontier.push(*s);
            }
        }
        Self {
            start: anchor,
            reached,
            order: Vec::new(),
            frontier,
            depth: 0,
            limit,
            truncated: false,
        }
    }

    pub fn start(&self) -> N {
        self.start
    }

    /// The nodes whose outgoing steps the next call to `advance` expects; empty when done.
    pub fn frontier(&self) -> &[N] {
        &self.frontier
    }

    pub fn is_done(&self) -> bool {
        self.frontier.is_empty()
    }

    /// Whether the walk stopped at its node limit.
    pub fn truncated(&self) -> bool {
        self.truncated
    }

    /// Takes the steps leaving the current frontier and makes the newly reached nodes the
    /// next frontier. Steps from nodes outside the frontier are ignored.
    pub fn advance(&mut self, steps: impl IntoIterator<Item = Step<N>>) {
        let depth = self.depth + 1;
        let mut next = Vec::new();
        let current: std::collections::HashSet<N> = self.frontier.iter().copied().collect();
        for step in steps {
            if !current.contains(&step.from) {
                continue;
            }
            if let Entry::Vacant(e) = self.reached.entry(step.to) {
                if self.order.len() >= self.limit {
                    self.truncated = true;
                    break;
                }
                e.insert((Some(step), depth));
                self.order.push(step.to);
                next.push(step.to);
            }
        }
        self.frontier = if self.truncated { Vec::new() } else { next };
        self.depth = depth;
    }

    /// The nodes reached, in the order they were reached (the starts excluded).
    pub fn reached(&self) -> &[N] {
        &self.order
    }

    /// Whether `n` was reached or is a start.
    pub fn contains(&self, n: &N) -> bool {
        self.reached.contains_key(n)
    }

    /// How many steps `n` is from the nearest start.
    pub fn depth_of(&self, n: &N) -> Option<u32> {
        self.reached.get(n).map(|(_, d)| *d)
    }

    /// The step `n` was first reached by; `None` for a start or a node not reached.
    pub fn step_to(&self, n: &N) -> Option<Step<N>> {
        self.reached.get(n).and_then(|(step, _)| *step)
    }

    /// The steps from a start to `n`, first step first; empty for a start.
    pub fn path(&self, n: &N) -> Vec<Step<N>> {
        let mut out = Vec::new();
        let mut at = *n;
        while let Some((Some(step), _)) = self.reached.get(&at) {
            out.push(*step);
            at = step.from;
            if out.len() > self.reached.len() {
                break;
            }
        }
        out.reverse();
        out
    }
}

code_enum!(
    /// The type of a class attribute.
    AttrType {
        Text = "text",
        Integer = "integer",
        Number = "number",
        Boolean = "boolean",
        Date = "date",
        Choice = "choice",
    }
);

/// One attribute a CI class defines for its CIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttrDef {
    pub code: String,
    pub label: String,
    #[serde(rename = "type")]
    pub kind: AttrType,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

/// A code for a class or an attribute: a lower-case letter, then up to 39 lower-case letters,
/// digits or underscores.
pub fn parse_code(text: &str) -> Result<String, InvalidValue> {
    let t = text.trim();
    let mut chars = t.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && t.len() <= 40;
    if ok {
        Ok(t.to_owned())
    } else {
        Err(InvalidValue::new(
            "invalid_code",
            "must start with a lower-case letter and hold at most 40 lower-case letters, digits and underscores",
        ))
    }
}

impl AttrDef {
    pub fn new(code: &str, label: &str, kind: AttrType) -> Self {
        Self {
            code: code.to_owned(),
            label: label.to_owned(),
            kind,
            required: false,
            choices: Vec::new(),
        }
    }

    fn choice(code: &str, label: &str, choices: &[&str]) -> Self {
        Self {
            choices: choices.iter().map(|c| (*c).to_owned()).collect(),
            ..Self::new(code, label, AttrType::Choice)
        }
    }

    /// Checks a definition on its own: its code, its label, and choices for a choice.
    pub fn check(&self) -> Result<(), InvalidValue> {
        parse_code(&self.code)?;
        crate::values::parse_line(&self.label, 100)?;
        match self.kind {
            AttrType::Choice if self.choices.is_empty() => Err(InvalidValue::new(
                "choices_required",
                format!("attribute {} needs at least one choice", self.code),
            )),
            AttrType::Choice => {
                for c in &self.choices {
                    crate::values::parse_line(c, 100)?;
                }
                Ok(())
            }
            _ if !self.choices.is_empty() => Err(InvalidValue::new(
                "choices_not_allowed",
                format!("attribute {} is not a choice", self.code),
            )),
            _ => Ok(()),
        }
    }

    /// Checks and normalises one JSON value for this attribute.
    pub fn value(&self, v: &Value) -> Result<Value, InvalidValue> {
        let wrong = |what: &str| InvalidValue::new("invalid_type", format!("must be {what}"));
        match self.kind {
            AttrType::Text => match v {
                Value::String(s) => Ok(Value::String(crate::values::parse_text(s, 2000)?)),
                _ => Err(wrong("text")),
            },
            AttrType::Integer => match v {
                Value::Number(n) if n.is_i64() => Ok(v.clone()),
                Value::String(s) => self.from_text(s),
                _ => Err(wrong("a whole number")),
            },
            AttrType::Number => match v {
                Value::Number(_) => Ok(v.clone()),
                Value::String(s) => self.from_text(s),
                _ => Err(wrong("a number")),
            },
            AttrType::Boolean => match v {
                Value::Bool(_) => Ok(v.clone()),
                Value::String(s) => self.from_text(s),
                _ => Err(wrong("true or false")),
            },
            AttrType::Date | AttrType::Choice => match v {
                Value::String(s) => self.from_text(s),
                _ => Err(wrong("text")),
            },
        }
    }

    /// Parses a value given as text (a form field, a CSV cell).
    pub fn from_text(&self, text: &str) -> Result<Value, InvalidValue> {
        let t = text.trim();
        match self.kind {
            AttrType::Text => Ok(Value::String(crate::values::parse_text(t, 2000)?)),
            AttrType::Integer => t
                .parse::<i64>()
                .map(Value::from)
                .map_err(|_| InvalidValue::new("invalid_type", "must be a whole number")),
            AttrType::Number => t
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite())
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| InvalidValue::new("invalid_type", "must be a number")),
            AttrType::Boolean => match t.to_ascii_lowercase().as_str() {
                "true" | "yes" | "1" => Ok(Value::Bool(true)),
                "false" | "no" | "0" => Ok(Value::Bool(false)),
                _ => Err(InvalidValue::new("invalid_type", "must be true or false")),
            },
            AttrType::Date => t
                .parse::<jiff::civil::Date>()
                .map(|d| Value::String(d.to_string()))
                .map_err(|_| InvalidValue::new("invalid_date", "must be a date (YYYY-MM-DD)")),
            AttrType::Choice => {
                if self.choices.iter().any(|c| c == t) {
                    Ok(Value::String(t.to_owned()))
                } else {
                    Err(InvalidValue::new(
                        "invalid_choice",
                        format!("must be one of: {}", self.choices.join(", ")),
                    ))
                }
            }
        }
    }
}

/// Checks a CI's attributes against its class: every attribute must be defined, of the
/// defined type, and every required one present. `null` or an empty text removes a value.
/// Returns the normalised attributes, or the refused ones with their reasons.
pub fn check_attributes(
    defs: &[AttrDef],
    input: &Map<String, Value>,
) -> Result<Map<String, Value>, Vec<(String, InvalidValue)>> {
    let mut out = Map::new();
    let mut errors = Vec::new();
    for (code, v) in input {
        let Some(def) = defs.iter().find(|d| &d.code == code) else {
            errors.push((
                code.clone(),
                InvalidValue::new("unknown_attribute", "is not an attribute of this class"),
            ));
            continue;
        };
        if v.is_null() || v.as_str().is_some_and(|s| s.trim().is_empty()) {
            continue;
        }
        match def.value(v) {
            Ok(v) => {
                out.insert(code.clone(), v);
            }
            Err(e) => errors.push((code.clone(), e)),
        }
    }
    for def in defs.iter().filter(|d| d.required) {
        if !out.contains_key(&def.code) && !errors.iter().any(|(c, _)| c == &def.code) {
            errors.push((
                def.code.clone(),
                InvalidValue::new("required", "is required"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

/// A class every CMDB starts with.
#[derive(Debug, Clone)]
pub struct BuiltinClass {
    pub code: &'static str,
    pub name: &'static str,
    pub attributes: Vec<AttrDef>,
}

/// The classes Sigap ships with; administrators add their own beside them.
pub fn builtin_classes() -> Vec<BuiltinClass> {
    use AttrType::*;
    let ip = || AttrDef::new("ip_address", "IP address", Text);
    let os = || AttrDef::new("os", "Operating system", Text);
    let cpu = || AttrDef::new("cpu_count", "CPUs", Integer);
    let ram = || AttrDef::new("ram_gb", "Memory (GB)", Number);
    let env = || {
        AttrDef::choice(
            "environment",
            "Environment",
            &["production", "staging", "test", "development"],
        )
    };
    vec![
        BuiltinClass {
            code: "server",
            name: "Server",
            attributes: vec![
                cpu(),
                ram(),
                os(),
                ip(),
                AttrDef::new("model", "Model", Text),
            ],
        },
        BuiltinClass {
            code: "virtual_machine",
            name: "Virtual machine",
            attributes: vec![
                cpu(),
                ram(),
                os(),
                ip(),
                AttrDef::new("hypervisor", "Hypervisor", Text),
            ],
        },
        BuiltinClass {
            code: "network_device",
            name: "Network device",
            attributes: vec![
                AttrDef::choice(
                    "device_type",
                    "Device type",
                    &[
                        "router",
                        "switch",
                        "firewall",
                        "load_balancer",
                        "access_point",
                    ],
                ),
                ip(),
                AttrDef::new("ports", "Ports", Integer),
            ],
        },
        BuiltinClass {
            code: "storage",
            name: "Storage",
            attributes: vec![
                AttrDef::choice(
                    "storage_type",
                    "Storage type",
                    &["san", "nas", "das", "object"],
                ),
                AttrDef::new("capacity_tb", "Capacity (TB)", Number),
            ],
        },
        BuiltinClass {
            code: "database",
            name: "Database",
            attributes: vec![
                AttrDef::new("engine", "Engine", Text),
                AttrDef::new("engine_version", "Engine version", Text),
                AttrDef::new("port", "Port", Integer),
            ],
        },
        BuiltinClass {
            code: "application",
            name: "Application",
            attributes: vec![
                AttrDef::new("vendor", "Vendor", Text),
                AttrDef::new("app_version", "Version", Text),
            ],
        },
        BuiltinClass {
            code: "application_service",
            name: "Application service",
            attributes: vec![AttrDef::new("url", "URL", Text), env()],
        },
        BuiltinClass {
            code: "business_service",
            name: "Business service",
            attributes: vec![AttrDef::new("business_owner", "Business owner", Text)],
        },
    ]
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::Upstream => "upstream",
            Direction::Downstream => "downstream",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::{BTreeMap, VecDeque};

    type Edge = (u32, RelKind, u32);

    /// The steps a walk in `dir` may take from `n` in `edges` (source, kind, target).
    fn steps_from(edges: &[Edge], n: u32, dir: Direction) -> Vec<Step<u32>> {
        let mut out = Vec::new();
        for &(s, k, t) in edges {
            if t == n && k.walks_target_to_source(dir) {
                out.push(Step {
                    from: t,
                    to: s,
                    kind: k,
                    reversed: true,
                });
            }
            if s == n && k.walks_source_to_target(dir) {
                out.push(Step {
                    from: s,
                    to: t,
                    kind: k,
                    reversed: false,
                });
            }
        }
        out
    }

    /// A plain breadth-first search: distance of every node reachable from `start`.
    fn reference(edges: &[Edge], start: u32, dir: Direction) -> BTreeMap<u32, u32> {
        let mut dist = BTreeMap::new();
        dist.insert(start, 0);
        let mut queue = VecDeque::from([start]);
        while let Some(n) = queue.pop_front() {
            let d = dist.get(&n).copied().unwrap_or(0);
            for step in steps_from(edges, n, dir) {
                if let std::collections::btree_map::Entry::Vacant(e) = dist.entry(step.to) {
                    e.insert(d + 1);
                    queue.push_back(step.to);
                }
            }
        }
        dist
    }

    fn run(edges: &[Edge], start: u32, dir: Direction) -> Walk<u32> {
        let mut w = Walk::new(start, usize::MAX);
        while !w.is_done() {
            let steps: Vec<_> = w
                .frontier()
                .iter()
                .flat_map(|n| steps_from(edges, *n, dir))
                .collect();
            w.advance(steps);
        }
        w
    }

    fn kind() -> impl Strategy<Value = RelKind> {
        prop::sample::select(RelKind::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn walk_matches_breadth_first_reference(
            n in 1u32..30,
            raw in prop::collection::vec((0u32..30, kind(), 0u32..30), 0..90),
            start in 0u32..30,
            upstream in any::<bool>(),
        ) {
            let edges: Vec<Edge> = raw.into_iter().map(|(s, k, t)| (s % n, k, t % n)).collect();
            let start = start % n;
            let dir = if upstream { Direction::Upstream } else { Direction::Downstream };
            let expected = reference(&edges, start, dir);
            let w = run(&edges, start, dir);
            let mut got = BTreeMap::new();
            got.insert(start, 0);
            for node in w.reached() {
                got.insert(*node, w.depth_of(node).unwrap_or(u32::MAX));
            }
            prop_assert_eq!(&got, &expected);
            // Every path is made of real steps, starts at the start and is as long as the depth.
            for node in w.reached() {
                let path = w.path(node);
                prop_assert_eq!(path.len() as u32, expected[node]);
                prop_assert_eq!(path.first().map(|s| s.from), Some(start));
                prop_assert_eq!(path.last().map(|s| s.to), Some(*node));
                for pair in path.windows(2) {
                    prop_assert_eq!(pair[0].to, pair[1].from);
                }
                for step in &path {
                    prop_assert!(steps_from(&edges, step.from, dir).contains(step));
                }
            }
        }
    }

    #[test]
    fn cycles_end_the_walk() {
        let edges = [
            (1, RelKind::DependsOn, 2),
            (2, RelKind::DependsOn, 3),
            (3, RelKind::DependsOn, 1),
        ];
        let w = run(&edges, 1, Direction::Upstream);
        assert_eq!(w.reached(), &[3, 2]);
        assert_eq!(w.path(&2).len(), 2);
    }

    #[test]
    fn members_carry_impact_to_their_group() {
        // 1 member of cluster 2; 3 runs on cluster 2; 3 connects to switch 4.
        let edges = [
            (1, RelKind::MemberOf, 2),
            (3, RelKind::RunsOn, 2),
            (3, RelKind::ConnectsTo, 4),
        ];
        let up = run(&edges, 1, Direction::Upstream);
        assert_eq!(up.reached(), &[2, 3]);
        let switch = run(&edges, 4, Direction::Upstream);
        assert_eq!(switch.reached(), &[3]);
        let down = run(&edges, 3, Direction::Downstream);
        assert_eq!(down.reached(), &[2, 4, 1]);
    }

    #[test]
    fn the_node_limit_truncates() {
        let edges: Vec<Edge> = (1..50).map(|i| (i, RelKind::DependsOn, 0)).collect();
        let mut w = Walk::new(0, 10);
        let steps = steps_from(&edges, 0, Direction::Upstream);
        w.advance(steps);
        assert!(w.truncated());
        assert_eq!(w.reached().len(), 10);
        assert!(w.is_done());
    }

    #[test]
    fn attributes_are_checked_against_the_class() {
        let defs = vec![
            AttrDef {
                required: true,
                ..AttrDef::new("cpu_count", "CPUs", AttrType::Integer)
            },
            AttrDef::choice("env", "Env", &["prod", "test"]),
            AttrDef::new("since", "Since", AttrType::Date),
        ];
        let ok = serde_json::json!({"cpu_count": "8", "env": "prod", "since": "2026-01-31"});
        let ok = ok.as_object().cloned().unwrap_or_default();
        let got = check_attributes(&defs, &ok).map_err(|e| format!("{e:?}"));
        assert_eq!(
            got.map(Value::Object),
            Ok(serde_json::json!({"cpu_count": 8, "env": "prod", "since": "2026-01-31"}))
        );
        let bad = serde_json::json!({"env": "staging", "since": "31/01/2026", "color": "red"});
        let bad = bad.as_object().cloned().unwrap_or_default();
        let mut codes: Vec<(String, &str)> = check_attributes(&defs, &bad)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|(f, e)| (f, e.code))
            .collect();
        codes.sort();
        assert_eq!(
            codes,
            vec![
                ("color".to_owned(), "unknown_attribute"),
                ("cpu_count".to_owned(), "required"),
                ("env".to_owned(), "invalid_choice"),
                ("since".to_owned(), "invalid_date"),
            ]
        );
    }

    #[test]
    fn builtin_classes_are_valid() {
        for class in builtin_classes() {
            assert!(parse_code(class.code).is_ok());
            for a in &class.attributes {
                assert_eq!(a.check(), Ok(()), "{}.{}", class.code, a.code);
            }
        }
    }
}
