//! Event management's rules: an event as monitoring sends it, parsed field by field; the key
//! that folds events into one alert; an alert's states; flapping; and how an alert's severity
//! and a service's criticality become an incident's urgency and impact. Nothing here does I/O.

pub mod alertmanager;
pub mod rules;

use crate::portfolio::Criticality;
use crate::task::Level;
use crate::values::{InvalidValue, code_enum, parse_line, parse_text};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::fmt;

/// The most events one request may carry.
pub const MAX_BATCH: usize = 1_000;
/// The longest message key (ServiceNow's limit).
pub const MAX_KEY: usize = 1_024;
/// The most bytes of an event's additional information, as JSON.
pub const MAX_ADDITIONAL: usize = 16 * 1024;
/// How far in the future an event's time may be (clocks disagree a little, not by days).
pub const MAX_AHEAD: SignedDuration = SignedDuration::from_hours(24);

code_enum!(
    /// How bad what an event reports is. `clear` says it is over: it closes the alert and opens
    /// none.
    Severity {
        Critical = "critical",
        Major = "major",
        Minor = "minor",
        Warning = "warning",
        Info = "info",
        Clear = "clear",
    }
);

impl Severity {
    /// ServiceNow's numbers: 1 critical … 5 info, 0 clear.
    pub fn rank(self) -> i64 {
        match self {
            Severity::Critical => 1,
            Severity::Major => 2,
            Severity::Minor => 3,
            Severity::Warning => 4,
            Severity::Info => 5,
            Severity::Clear => 0,
        }
    }

    /// Whether this severity is `threshold` or worse (clear never is).
    pub fn at_least(self, threshold: Severity) -> bool {
        self != Severity::Clear && threshold != Severity::Clear && self.rank() <= threshold.rank()
    }

    /// The urgency of an incident opened for an alert of this severity.
    pub fn urgency(self) -> Level {
        match self {
            Severity::Critical | Severity::Major => Level::HIGH,
            Severity::Minor => Level::MEDIUM,
            _ => Level::LOW,
        }
    }
}

/// The impact of an incident on a service of this criticality (1 most critical … 4): high
/// for 1, medium for 2 and when no service is known, low for 3 and 4.
pub fn impact(criticality: Option<Criticality>) -> Level {
    match criticality.map(Criticality::get) {
        Some(1) => Level::HIGH,
        Some(3..) => Level::LOW,
        _ => Level::MEDIUM,
    }
}

code_enum!(
    /// Where an alert stands. Flapping: it went on and off too often to open an incident
    /// until it settles.
    AlertState {
        Open = "open",
        Acknowledged = "acknowledged",
        Flapping = "flapping",
        Closed = "closed",
    }
);

impl AlertState {
    /// Whether the alert is still going on (not closed).
    pub fn active(self) -> bool {
        self != AlertState::Closed
    }
}

/// An event, parsed: every field within its limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub source: String,
    pub node: String,
    pub resource: String,
    pub kind: String,
    pub metric: String,
    pub severity: Severity,
    pub message: String,
    pub description: String,
    /// When it happened, as the sender says (the receiving time when it does not).
    pub time: Timestamp,
    /// The sender's own key, if it gave one.
    pub message_key: Option<String>,
    /// Anything else the sender sent, a JSON object.
    pub additional: Map<String, Value>,
}

/// A field an event was refused for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl EventError {
    fn new(field: &str, e: InvalidValue) -> Self {
        Self {
            field: field.to_owned(),
            code: e.code,
            message: e.message,
        }
    }
}

impl Event {
    /// The key that folds events into one alert: the sender's message key, else source,
    /// node, type, resource and metric (ServiceNow's default).
    pub fn key(&self) -> String {
        match &self.message_key {
            Some(k) => k.clone(),
            None => default_key(
                &self.source,
                &self.node,
                &self.kind,
                &self.resource,
                &self.metric,
            ),
        }
    }

    /// The alert's title: the message, else what happened where.
    pub fn title(&self) -> String {
        if !self.message.is_empty() {
            return self.message.clone();
        }
        let what = [&self.kind, &self.metric, &self.resource]
            .into_iter()
            .find(|s| !s.is_empty())
            .map_or("event", String::as_str);
        format!("{what} on {}", self.node)
    }

    /// Parses one event of a request. `now` is the receiving time. Every field in error is
    /// reported, not only the first.
    pub fn parse(v: &Value, now: Timestamp) -> Result<Self, Vec<EventError>> {
        let Some(o) = v.as_object() else {
            return Err(vec![EventError {
                field: String::new(),
                code: "invalid_type",
                message: "an event is a JSON object".into(),
            }]);
        };
        let mut errs = Vec::new();
        let mut line = |name: &str, max: usize, required: bool| -> String {
            match o.get(name) {
                None | Some(Value::Null) if required => {
                    errs.push(EventError::new(
                        name,
                        InvalidValue::new("required", "is required"),
                    ));
                    String::new()
                }
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) if !required && s.trim().is_empty() => String::new(),
                Some(Value::String(s)) => parse_line(s, max).unwrap_or_else(|e| {
                    errs.push(EventError::new(name, e));
                    String::new()
                }),
                Some(_) => {
                    errs.push(EventError::new(
                        name,
                        InvalidValue::new("invalid_type", "must be a string"),
                    ));
                    String::new()
                }
            }
        };
        let source = line("source", 100, true);
        let node = line("node", 255, true);
        let resource = line("resource", 255, false);
        let kind = line("type", 100, false);
        let metric = line("metric", 255, false);
        let message = line("message", 1_000, false);
        let key = line("message_key", MAX_KEY, false);
        let severity_text = line("severity", 20, true);
        let severity = if severity_text.is_empty() {
            None
        } else {
            match Severity::parse(&severity_text.to_ascii_lowercase()) {
                Ok(s) => Some(s),
                Err(e) => {
                    errs.push(EventError::new("severity", e));
                    None
                }
            }
        };
        let description = match o.get("description") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => parse_text(s, 10_000).unwrap_or_else(|e| {
                errs.push(EventError::new("description", e));
                String::new()
            }),
            Some(_) => {
                errs.push(EventError::new(
                    "description",
                    InvalidValue::new("invalid_type", "must be a string"),
                ));
                String::new()
            }
        };
        let time = match o.get("time") {
            None | Some(Value::Null) => now,
            Some(Value::String(s)) => match s.trim().parse::<Timestamp>() {
                Ok(t) if t.duration_since(now) > MAX_AHEAD => {
                    errs.push(EventError::new(
                        "time",
                        InvalidValue::new("out_of_range", "is more than a day ahead"),
                    ));
                    now
                }
                Ok(t) => t,
                Err(_) => {
                    errs.push(EventError::new(
                        "time",
                        InvalidValue::new(
                            "invalid_format",
                            "must be an RFC 3339 time, as 2026-12-04T09:30:00Z",
                        ),
                    ));
                    now
                }
            },
            Some(_) => {
                errs.push(EventError::new(
                    "time",
                    InvalidValue::new("invalid_type", "must be a string"),
                ));
                now
            }
        };
        let additional = match o.get("additional") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => {
                if Value::Object(m.clone()).to_string().len() > MAX_ADDITIONAL {
                    errs.push(EventError::new(
                        "additional",
                        InvalidValue::new(
                            "too_long",
                            format!("must be at most {MAX_ADDITIONAL} bytes of JSON"),
                        ),
                    ));
                    Map::new()
                } else {
                    m.clone()
                }
            }
            Some(_) => {
                errs.push(EventError::new(
                    "additional",
                    InvalidValue::new("invalid_type", "must be a JSON object"),
                ));
                Map::new()
            }
        };
        for name in o.keys() {
            if !FIELDS.contains(&name.as_str()) {
                errs.push(EventError::new(
                    name,
                    InvalidValue::new("unknown_field", "is not a field of an event"),
                ));
            }
        }
        match severity {
            Some(severity) if errs.is_empty() => Ok(Event {
                source,
                node,
                resource,
                kind,
                metric,
                severity,
                message,
                description,
                time,
                message_key: (!key.is_empty()).then_some(key),
                additional,
            }),
            _ => Err(errs),
        }
    }
}

/// The fields of an event.
pub const FIELDS: &[&str] = &[
    "source",
    "node",
    "resource",
    "type",
    "metric",
    "severity",
    "message",
    "description",
    "time",
    "message_key",
    "additional",
];

/// ServiceNow's default message key: source, node, type, resource and metric. A field's own
/// `|` is doubled so that two different events never share a key.
pub fn default_key(source: &str, node: &str, kind: &str, resource: &str, metric: &str) -> String {
    [source, node, kind, resource, metric]
        .iter()
        .map(|s| s.replace('|', "||"))
        .collect::<Vec<_>>()
        .join(" | ")
}

/// When an alert flaps: `changes` changes of state (closed and back, or back and closed)
/// within `window` put it in the flapping state; `quiet` without a change settles it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlapPolicy {
    pub changes: i64,
    pub window: SignedDuration,
    pub quiet: SignedDuration,
}

impl Default for FlapPolicy {
    fn default() -> Self {
        Self {
            changes: 4,
            window: SignedDuration::from_mins(10),
            quiet: SignedDuration::from_mins(15),
        }
    }
}

/// The flapping count of an alert: how many changes since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flaps {
    pub count: i64,
    pub since: Timestamp,
}

impl FlapPolicy {
    /// The count after a change of state at `now`: a change outside the window starts a new
    /// count.
    pub fn changed(&self, flaps: Option<Flaps>, now: Timestamp) -> Flaps {
        match flaps {
            Some(f) if now.duration_since(f.since) <= self.window => Flaps {
                count: f.count.saturating_add(1),
                since: f.since,
            },
            _ => Flaps {
                count: 1,
                since: now,
            },
        }
    }

    /// Whether a count of changes is flapping.
    pub fn flapping(&self, flaps: Flaps) -> bool {
        flaps.count >= self.changes.max(2)
    }

    /// Whether an alert whose state last changed at `last_change` has settled by `now`.
    pub fn settled(&self, last_change: Timestamp, now: Timestamp) -> bool {
        now.duration_since(last_change) >= self.quiet
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn now() -> Timestamp {
        "2026-12-04T12:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn an_event_parses_and_keys_by_its_fields() -> Result<(), String> {
        let e = Event::parse(
            &json!({"source": "zabbix", "node": "db01", "type": "disk", "resource": "/var",
                    "metric": "used_pct", "severity": "Major", "message": "Disk 95% full",
                    "time": "2026-12-04T09:30:00Z", "additional": {"value": 95}}),
            now(),
        )
        .map_err(|e| format!("{e:?}"))?;
        assert_eq!(e.severity, Severity::Major);
        assert_eq!(e.key(), "zabbix | db01 | disk | /var | used_pct");
        assert_eq!(e.title(), "Disk 95% full");
        assert_eq!(e.additional.get("value"), Some(&json!(95)));
        assert_eq!(e.time.to_string(), "2026-12-04T09:30:00Z");
        Ok(())
    }

    #[test]
    fn every_bad_field_is_named() -> Result<(), String> {
        let Err(errs) = Event::parse(
            &json!({"node": 7, "severity": "bad", "time": "yesterday", "additional": [1],
                    "colour": "red"}),
            now(),
        ) else {
            return Err("accepted".into());
        };
        let fields: Vec<(&str, &str)> = errs.iter().map(|e| (e.field.as_str(), e.code)).collect();
        for want in [
            ("source", "required"),
            ("node", "invalid_type"),
            ("severity", "invalid_choice"),
            ("time", "invalid_format"),
            ("additional", "invalid_type"),
            ("colour", "unknown_field"),
        ] {
            assert!(fields.contains(&want), "{want:?} in {fields:?}");
        }
        assert!(Event::parse(&json!("text"), now()).is_err());
        assert!(
            Event::parse(
                &json!({"source": "s", "node": "n", "severity": "info",
                        "time": "2027-01-04T00:00:00Z"}),
                now()
            )
            .is_err(),
            "a month ahead"
        );
        Ok(())
    }

    #[test]
    fn default_keys_do_not_collide_through_the_separator() {
        assert_ne!(
            default_key("a | b", "c", "", "", ""),
            default_key("a", "b | c", "", "", "")
        );
    }

    #[test]
    fn severities_rank_and_clear_is_never_a_threshold() {
        assert!(Severity::Critical.at_least(Severity::Major));
        assert!(Severity::Major.at_least(Severity::Major));
        assert!(!Severity::Minor.at_least(Severity::Major));
        assert!(!Severity::Clear.at_least(Severity::Info));
        assert_eq!(Severity::Critical.urgency(), Level::HIGH);
        let c = |n| Criticality::parse(n).ok();
        assert_eq!(impact(c(1)), Level::HIGH);
        assert_eq!(impact(c(2)), Level::MEDIUM);
        assert_eq!(impact(c(4)), Level::LOW);
        assert_eq!(impact(None), Level::MEDIUM);
    }

    #[test]
    fn flapping_needs_the_changes_within_the_window_and_settles_when_quiet() {
        let p = FlapPolicy::default();
        let t0 = now();
        let mut f = p.changed(None, t0);
        for m in 1..4 {
            let at = t0.checked_add(SignedDuration::from_mins(m)).unwrap_or(t0);
            f = p.changed(Some(f), at);
        }
        assert_eq!(f.count, 4);
        assert!(p.flapping(f));
        // A change after the window starts counting again.
        let later = t0.checked_add(SignedDuration::from_mins(30)).unwrap_or(t0);
        let g = p.changed(Some(f), later);
        assert_eq!(g.count, 1);
        assert!(!p.flapping(g));
        assert!(!p.settled(t0, t0));
        assert!(p.settled(t0, later));
    }
}
