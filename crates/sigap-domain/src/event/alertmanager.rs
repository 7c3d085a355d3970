//! Prometheus Alertmanager's webhook (payload version 4) and Grafana's, which has the same
//! shape with fields of its own: each alert of a notification becomes one event, keyed by
//! its fingerprint, so that the re-sends Alertmanager makes (every repeat interval, every
//! change in the group) fold into the alert they are about. A resolved alert is a `clear`.

use super::MAX_BATCH;
use serde_json::{Map, Value, json};

/// A webhook notification taken apart: its events (as the events endpoint takes them) and the
/// group they belong to.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    pub group_key: Option<String>,
    pub events: Vec<Value>,
}

/// Why a notification was refused as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotWebhook(pub String);

fn text<'a>(m: Option<&'a Map<String, Value>>, key: &str) -> Option<&'a str> {
    m.and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// An Alertmanager severity label in Sigap's words: the usual `critical`, `error`,
/// `warning`, `info` and the like; unknown or missing ones count as major (something fired).
pub fn severity_of(label: Option<&str>) -> &'static str {
    match label.map(str::to_ascii_lowercase).as_deref() {
        Some("critical" | "disaster" | "fatal" | "page" | "emergency" | "alert") => "critical",
        Some("major" | "error" | "high") => "major",
        Some("minor" | "average" | "medium") => "minor",
        Some("warning" | "warn" | "low") => "warning",
        Some("info" | "information" | "informational" | "notice" | "none") => "info",
        _ => "major",
    }
}

/// The node an alert is about: its `instance` (without the port), `node`, `host`,
/// `hostname`, `pod` or `job` label, else the alert's name.
fn node_of(labels: Option<&Map<String, Value>>) -> String {
    for key in ["node", "host", "hostname", "instance", "pod", "job"] {
        if let Some(v) = text(labels, key) {
            let v = if key == "instance" {
                match v.rsplit_once(':') {
                    Some((host, port)) if port.chars().all(|c| c.is_ascii_digit()) => host,
                    _ => v,
                }
            } else {
                v
            };
            return v.trim_matches(['[', ']']).to_owned();
        }
    }
    text(labels, "alertname")
        .unwrap_or("alertmanager")
        .to_owned()
}

/// Takes a notification apart. `source` names the sender (`alertmanager`, `grafana`).
pub fn notification(body: &Value, source: &str) -> Result<Notification, NotWebhook> {
    let o = body
        .as_object()
        .ok_or_else(|| NotWebhook("the body must be a JSON object".into()))?;
    let alerts = o
        .get("alerts")
        .and_then(Value::as_array)
        .ok_or_else(|| NotWebhook("`alerts` must be a list".into()))?;
    if alerts.len() > MAX_BATCH {
        return Err(NotWebhook(format!(
            "at most {MAX_BATCH} alerts in one notification"
        )));
    }
    let group_key = o
        .get("groupKey")
        .and_then(Value::as_str)
        .map(|g| format!("{source}:{g}"));
    let external = o.get("externalURL").and_then(Value::as_str);
    let events = alerts
        .iter()
        .map(|a| event_of(a, source, group_key.as_deref(), external))
        .collect();
    Ok(Notification { group_key, events })
}

/// One alert of a notification as an event. What is not an object, or lacks what an event
/// needs, is passed on as it is, for the events endpoint to refuse with its reasons.
fn event_of(a: &Value, source: &str, group: Option<&str>, external: Option<&str>) -> Value {
    let Some(a) = a.as_object() else {
        return a.clone();
    };
    let labels = a.get("labels").and_then(Value::as_object);
    let annotations = a.get("annotations").and_then(Value::as_object);
    let resolved = a.get("status").and_then(Value::as_str) == Some("resolved");
    let name = text(labels, "alertname");
    let severity = if resolved {
        "clear"
    } else {
        severity_of(text(labels, "severity"))
    };
    let message = text(annotations, "summary")
        .or_else(|| text(annotations, "title"))
        .or(name)
        .unwrap_or("alert");
    let description = text(annotations, "description")
        .or_else(|| text(annotations, "message"))
        .or_else(|| a.get("valueString").and_then(Value::as_str))
        .unwrap_or("");
    // Firing: when it started; resolved: when it ended (Alertmanager sends endsAt
    // 0001-01-01 while an alert fires; that is never the time).
    let time = if resolved {
        a.get("endsAt").and_then(Value::as_str)
    } else {
        a.get("startsAt").and_then(Value::as_str)
    }
    .filter(|t| !t.starts_with("0001-"));
    let mut additional = Map::new();
    for key in [
        "labels",
        "annotations",
        "generatorURL",
        "fingerprint",
        "dashboardURL",
        "panelURL",
        "silenceURL",
        "values",
    ] {
        if let Some(v) = a.get(key) {
            additional.insert(key.to_owned(), v.clone());
        }
    }
    if let Some(g) = group {
        additional.insert("groupKey".into(), json!(g));
    }
    if let Some(e) = external {
        additional.insert("externalURL".into(), json!(e));
    }
    let mut event = Map::new();
    event.insert("source".into(), json!(source));
    event.insert("node".into(), json!(node_of(labels)));
    event.insert("type".into(), json!(name.unwrap_or("")));
    if let Some(job) = text(labels, "job") {
        event.insert("resource".into(), json!(job));
    }
    event.insert("severity".into(), json!(severity));
    event.insert("message".into(), json!(message));
    event.insert("description".into(), json!(description));
    if let Some(t) = time {
        event.insert("time".into(), json!(t));
    }
    // The fingerprint is the alert's identity (a hash of its labels); without one, the
    // labels themselves.
    let key = a
        .get("fingerprint")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .or_else(|| labels.map(|l| Value::Object(l.clone()).to_string()));
    if let Some(k) = key {
        event.insert("message_key".into(), json!(k));
    }
    event.insert("additional".into(), Value::Object(additional));
    Value::Object(event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Event, Severity};
    use jiff::Timestamp;

    fn payload(status: &str) -> Value {
        json!({
            "version": "4", "groupKey": "{}:{alertname=\"DiskFull\"}", "status": status,
            "receiver": "sigap", "groupLabels": {"alertname": "DiskFull"},
            "commonLabels": {}, "commonAnnotations": {}, "externalURL": "http://am:9093",
            "truncatedAlerts": 0,
            "alerts": [
                {"status": status, "labels": {"alertname": "DiskFull", "instance": "db01:9100",
                  "job": "node", "severity": "critical"},
                 "annotations": {"summary": "Disk on db01 is full", "description": "95% used"},
                 "startsAt": "2026-12-04T09:00:00Z",
                 "endsAt": if status == "resolved" { "2026-12-04T09:10:00Z" } else { "0001-01-01T00:00:00Z" },
                 "generatorURL": "http://prom/graph", "fingerprint": "a1b2c3d4e5f60718"},
                {"status": status, "labels": {"alertname": "DiskFull", "instance": "db02:9100",
                  "severity": "warning"},
                 "annotations": {}, "startsAt": "2026-12-04T09:01:00Z",
                 "endsAt": "0001-01-01T00:00:00Z", "fingerprint": "0011223344556677"}
            ]
        })
    }

    fn now() -> Timestamp {
        "2026-12-04T12:00:00Z"
            .parse()
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }

    #[test]
    fn a_firing_group_becomes_one_event_per_alert() -> Result<(), String> {
        let n = notification(&payload("firing"), "alertmanager").map_err(|e| e.0)?;
        assert_eq!(
            n.group_key.as_deref(),
            Some("alertmanager:{}:{alertname=\"DiskFull\"}")
        );
        let events: Vec<Event> = n
            .events
            .iter()
            .map(|v| Event::parse(v, now()))
            .collect::<Result<_, _>>()
            .map_err(|e| format!("{e:?}"))?;
        assert_eq!(events.len(), 2);
        assert_eq!(events[0].node, "db01");
        assert_eq!(events[0].severity, Severity::Critical);
        assert_eq!(events[0].key(), "a1b2c3d4e5f60718");
        assert_eq!(events[0].title(), "Disk on db01 is full");
        assert_eq!(events[0].time.to_string(), "2026-12-04T09:00:00Z");
        assert_eq!(events[1].severity, Severity::Warning);
        assert_eq!(events[1].title(), "DiskFull");
        Ok(())
    }

    #[test]
    fn a_resolved_alert_is_a_clear_at_its_end() -> Result<(), String> {
        let n = notification(&payload("resolved"), "alertmanager").map_err(|e| e.0)?;
        let e = Event::parse(&n.events[0], now()).map_err(|e| format!("{e:?}"))?;
        assert_eq!(e.severity, Severity::Clear);
        assert_eq!(e.time.to_string(), "2026-12-04T09:10:00Z");
        assert_eq!(e.key(), "a1b2c3d4e5f60718");
        Ok(())
    }

    #[test]
    fn what_is_not_a_notification_is_refused() {
        assert!(notification(&json!([]), "alertmanager").is_err());
        assert!(notification(&json!({"alerts": 3}), "alertmanager").is_err());
        let many: Vec<Value> = (0..=MAX_BATCH).map(|_| json!({})).collect();
        assert!(notification(&json!({ "alerts": many }), "grafana").is_err());
        // An alert that is not an object is passed on, for the intake to refuse.
        let n = notification(&json!({"alerts": [7]}), "grafana");
        assert_eq!(n.map(|n| n.events), Ok(vec![json!(7)]));
    }

    #[test]
    fn severity_labels_map_and_default_to_major() {
        assert_eq!(severity_of(Some("Critical")), "critical");
        assert_eq!(severity_of(Some("error")), "major");
        assert_eq!(severity_of(Some("warning")), "warning");
        assert_eq!(severity_of(Some("whatever")), "major");
        assert_eq!(severity_of(None), "major");
    }
}
