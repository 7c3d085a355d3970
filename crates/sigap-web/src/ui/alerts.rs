//! The alert console: the alerts going on, filtered, refreshing by itself (the list is
//! fetched again as a fragment, without a full page load); an alert's page with its events
//! and the alerts correlated under it; acknowledge, open an incident, close.

use super::*;
use axum::extract::{Path, Query};
use sigap_core::events::{self, Alert, AlertAction, AlertQuery};
use std::collections::HashMap;

const SECTION: &str = "alerts";
/// Alerts on a page of the console.
const PAGE: i64 = 100;
/// How often the console's list refreshes itself.
const REFRESH_SECS: u32 = 15;
const STATES: &[&str] = &["open", "acknowledged", "flapping", "closed"];
const SEVERITIES: &[&str] = &["critical", "major", "minor", "warning", "info", "clear"];

/// An alert as a line of the console.
pub struct AlertLine {
    pub number: String,
    pub state: String,
    pub state_label: String,
    pub severity: String,
    pub severity_label: String,
    pub node: String,
    pub message: String,
    pub source: String,
    pub count: i64,
    pub last: String,
    pub incident: String,
    pub parent: String,
    pub maintenance: bool,
}

fn line(t: Tr<'_>, viewer: &Viewer, a: Alert) -> AlertLine {
    AlertLine {
        state_label: coded(t, "alert-state", &a.state),
        severity_label: coded(t, "alert-severity", &a.severity),
        last: when(a.last_at, viewer),
        incident: a.incident_number.unwrap_or_default(),
        parent: a.parent_number.unwrap_or_default(),
        maintenance: a.maintenance.is_some(),
        number: a.number,
        state: a.state,
        severity: a.severity,
        node: a.node,
        message: a.message,
        source: a.source,
        count: a.event_count,
    }
}

/// The console's list (also served alone, as the fragment the page refreshes).
#[derive(Template)]
#[template(path = "alerts_table.html")]
pub struct AlertsTable<'a> {
    pub t: Tr<'a>,
    pub alerts: Vec<AlertLine>,
    /// Alerts going on by severity: (code, label, count).
    pub counts: Vec<(String, String, i64)>,
    pub refreshed: String,
    pub older: Option<String>,
}

#[derive(Template)]
#[template(path = "alerts.html")]
pub struct AlertsPage<'a> {
    pub chrome: Chrome<'a>,
    pub state: String,
    pub states: Vec<(String, String)>,
    pub severity: String,
    pub severities: Vec<(String, String)>,
    pub node: String,
    pub primaries: bool,
    /// The fragment's address, and how often it is fetched again.
    pub refresh_url: String,
    pub refresh_secs: u32,
    pub table: AlertsTable<'a>,
}

/// The console (agents): `state` (all but closed when absent; `all`), `severity`, `node`,
/// `primaries`; `fragment=1` answers the list alone.
pub async fn alerts_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    v.ctx.principal.require(Role::Agent)?;
    let pick = |key: &str, allowed: &[&str]| {
        q.get(key)
            .map(|s| s.trim().to_owned())
            .filter(|s| allowed.contains(&s.as_str()))
            .unwrap_or_default()
    };
    let state = pick("state", &[STATES, &["all"]].concat());
    let severity = pick("severity", SEVERITIES);
    let node: String = q
        .get("node")
        .map(|n| n.trim().chars().take(255).collect())
        .unwrap_or_default();
    let primaries = q.get("primaries").is_some_and(|p| p == "1");
    let states: Vec<String> = match state.as_str() {
        "" => vec!["open".into(), "acknowledged".into(), "flapping".into()],
        "all" => Vec::new(),
        s => vec![s.to_owned()],
    };
    let cursor = q.get("cursor").cloned();
    let query = AlertQuery {
        states,
        severities: if severity.is_empty() {
            Vec::new()
        } else {
            vec![severity.clone()]
        },
        node: (!node.is_empty()).then(|| node.clone()),
        primaries,
        cursor: cursor.clone(),
        limit: Some(PAGE),
        ..Default::default()
    };
    let (core, ctx) = (&v.state.core, &v.ctx);
    let page = events::alerts(core, ctx, query).await?;
    let counts = events::counts(core, ctx).await?;
    let mut chrome = v.chrome(SECTION, "alerts-title");
    views::notice(&mut chrome, &q);
    let t = chrome.t;
    let mut by_severity: Vec<(String, String, i64)> = SEVERITIES
        .iter()
        .filter(|s| **s != "clear")
        .map(|s| ((*s).to_owned(), coded(t, "alert-severity", s), 0))
        .collect();
    for (_, sev, n) in counts {
        if let Some(slot) = by_severity.iter_mut().find(|(c, _, _)| *c == sev) {
            slot.2 += n;
        }
    }
    let filters = format!(
        "state={}&severity={}&node={}{}",
        encode(&state),
        encode(&severity),
        encode(&node),
        if primaries { "&primaries=1" } else { "" }
    );
    let table = AlertsTable {
        t,
        alerts: page
            .items
            .into_iter()
            .map(|a| line(t, &v.viewer, a))
            .collect(),
        counts: by_severity,
        refreshed: when(core.now(), &v.viewer),
        older: page
            .next_cursor
            .map(|c| format!("/alerts?{filters}&cursor={}", encode(&c))),
    };
    if q.get("fragment").is_some_and(|f| f == "1") {
        return Ok(render(StatusCode::OK, &table));
    }
    let page = AlertsPage {
        states: std::iter::once(("all".to_owned(), t.get("alerts-all-states")))
            .chain(
                STATES
                    .iter()
                    .map(|s| ((*s).to_owned(), coded(t, "alert-state", s))),
            )
            .collect(),
        severities: SEVERITIES
            .iter()
            .map(|s| ((*s).to_owned(), coded(t, "alert-severity", s)))
            .collect(),
        refresh_url: match &cursor {
            // A later page stays as it is: only the first refreshes.
            Some(_) => String::new(),
            None => format!("/alerts?{filters}&fragment=1"),
        },
        refresh_secs: REFRESH_SECS,
        state,
        severity,
        node,
        primaries,
        table,
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

/// An event of an alert's timeline.
pub struct EventLine {
    pub time: String,
    pub received: String,
    pub severity: String,
    pub severity_label: String,
    pub message: String,
    pub description: String,
}

/// An alert as its page shows it.
pub struct AlertView {
    pub number: String,
    pub state: String,
    pub state_label: String,
    pub severity: String,
    pub severity_label: String,
    pub worst_label: String,
    pub source: String,
    pub key: String,
    pub node: String,
    pub resource: String,
    pub kind: String,
    pub metric: String,
    pub message: String,
    pub description: String,
    pub ci: String,
    pub ci_id: String,
    pub incident: String,
    pub parent: String,
    pub count: i64,
    pub first: String,
    pub last: String,
    pub maintenance: String,
    pub acknowledged: String,
    pub closed: String,
}

#[derive(Template)]
#[template(path = "alert.html")]
pub struct AlertPage<'a> {
    pub chrome: Chrome<'a>,
    pub a: AlertView,
    pub events: Vec<EventLine>,
    pub secondaries: Vec<AlertLine>,
    pub can_acknowledge: bool,
    pub can_open_incident: bool,
    pub can_close: bool,
}

/// An alert's page (agents).
pub async fn alert_page(
    v: Visit,
    Path(number): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let d = events::alert(&v.state.core, &v.ctx, &number).await?;
    let mut chrome = v.chrome(SECTION, "alerts-title");
    chrome.title = format!("{} · {}", d.alert.number, d.alert.message);
    views::notice(&mut chrome, &q);
    let t = chrome.t;
    let a = d.alert;
    let writer = v.ctx.principal.can_write();
    let page = AlertPage {
        can_acknowledge: writer && (a.state == "open" || a.state == "flapping"),
        can_open_incident: writer && a.state != "closed" && a.incident_id.is_none(),
        can_close: writer && a.state != "closed",
        events: d
            .events
            .into_iter()
            .map(|e| EventLine {
                time: when(e.time, &v.viewer),
                received: when(e.received_at, &v.viewer),
                severity_label: coded(t, "alert-severity", &e.severity),
                severity: e.severity,
                message: e.message,
                description: e.description,
            })
            .collect(),
        secondaries: d
            .secondaries
            .into_iter()
            .map(|s| line(t, &v.viewer, s))
            .collect(),
        a: AlertView {
            state_label: coded(t, "alert-state", &a.state),
            severity_label: coded(t, "alert-severity", &a.severity),
            worst_label: coded(t, "alert-severity", &a.worst),
            first: when(a.first_at, &v.viewer),
            last: when(a.last_at, &v.viewer),
            acknowledged: a
                .acknowledged_at
                .map(|x| when(x, &v.viewer))
                .unwrap_or_default(),
            closed: a.closed_at.map(|x| when(x, &v.viewer)).unwrap_or_default(),
            ci: a.ci_name.unwrap_or_default(),
            ci_id: a.ci_id.map(|c| c.to_string()).unwrap_or_default(),
            incident: a.incident_number.unwrap_or_default(),
            parent: a.parent_number.unwrap_or_default(),
            maintenance: a.maintenance.unwrap_or_default(),
            number: a.number,
            state: a.state,
            severity: a.severity,
            source: a.source,
            key: a.key,
            node: a.node,
            resource: a.resource,
            kind: a.kind,
            metric: a.metric,
            message: a.message,
            description: a.description,
            count: a.event_count,
        },
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Does an action on an alert from its page.
pub async fn alert_act(v: Visit, Path((number, action)): Path<(String, String)>) -> PageResult {
    let act = AlertAction::parse(&action).ok_or(AppError::NotFound)?;
    let d = events::act(&v.state.core, &v.ctx, &number, act, None).await?;
    let notice = match act {
        AlertAction::Acknowledge => "alert-acknowledged",
        AlertAction::OpenIncident => "alert-incident-opened",
        AlertAction::Close => "alert-closed",
    };
    Ok(see_other(
        &format!("/alerts/{}", d.alert.number),
        Some(notice),
    ))
}
