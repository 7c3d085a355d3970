//! The built-in process KPIs against the same numbers computed here from the rows: tasks
//! made through the API, then given their history (when they were opened, resolved and
//! closed, how often reassigned or reopened, their SLA clocks, alerts, outcomes, promises and
//! deflections) by writing the rows directly, as years of work would have left them.

use crate::incidents::group_with;
use crate::portfolio::{get, post};
use crate::reports::lines;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
use sigap_domain::Clock as _;
use sigap_store::Dialect;
use sigap_testkit::{TestApp, both};
use std::collections::BTreeMap;

both!(
    built_in_kpis_match_the_numbers_of_the_rows,
    the_improvement_register_follows_its_kpi_since_the_start,
);

/// The fixed ids of the built-in KPI reports, by key.
const KPI: &[(&str, &str)] = &[
    (
        "mean-time-to-resolve",
        "01900000-0000-7000-8000-000000000108",
    ),
    (
        "first-contact-resolution",
        "01900000-0000-7000-8000-000000000109",
    ),
    ("reopen-rate", "01900000-0000-7000-8000-000000000110"),
    ("backlog-age", "01900000-0000-7000-8000-000000000111"),
    ("open-known-errors", "01900000-0000-7000-8000-000000000112"),
    ("time-to-root-cause", "01900000-0000-7000-8000-000000000113"),
    (
        "change-success-rate",
        "01900000-0000-7000-8000-000000000114",
    ),
    ("emergency-changes", "01900000-0000-7000-8000-000000000115"),
    (
        "changes-causing-incidents",
        "01900000-0000-7000-8000-000000000116",
    ),
    ("on-time-delivery", "01900000-0000-7000-8000-000000000117"),
    ("sla-compliance", "01900000-0000-7000-8000-000000000118"),
    ("sla-targets-met", "01900000-0000-7000-8000-000000000121"),
    ("deflections", "01900000-0000-7000-8000-000000000119"),
    (
        "alerts-per-incident",
        "01900000-0000-7000-8000-000000000120",
    ),
    (
        "median-time-to-resolve",
        "01900000-0000-7000-8000-000000000105",
    ),
];

/// Writes rows the way the application's two engines keep them.
pub(crate) struct Raw<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) dialect: Dialect,
}

impl Raw<'_> {
    pub(crate) fn at(&self, t: Timestamp) -> String {
        match self.dialect {
            Dialect::Sqlite => t.as_microsecond().to_string(),
            Dialect::Postgres => format!("TIMESTAMPTZ '{t}'"),
        }
    }

    pub(crate) fn opt(&self, t: Option<Timestamp>) -> String {
        t.map_or_else(|| "NULL".into(), |t| self.at(t))
    }

    pub(crate) fn flag(&self, b: bool) -> &'static str {
        match (self.dialect, b) {
            (Dialect::Sqlite, true) => "1",
            (Dialect::Sqlite, false) => "0",
            (Dialect::Postgres, true) => "TRUE",
            (Dialect::Postgres, false) => "FALSE",
        }
    }

    pub(crate) fn new_id(&self) -> &'static str {
        match self.dialect {
            Dialect::Sqlite => "randomblob(16)",
            Dialect::Postgres => "gen_random_uuid()",
        }
    }

    pub(crate) async fn run(&self, sql: String) -> anyhow::Result<u64> {
        Ok(sigap_store::testing::execute_raw(&self.app.core.store, &sql).await?)
    }

    /// Gives a task its history.
    async fn task(&self, number: &str, h: History<'_>) -> anyhow::Result<()> {
        let History {
            state,
            priority,
            opened,
            resolved,
            closed,
            counts,
        } = h;
        let n = self
            .run(format!(
                "UPDATE task SET state = '{state}', priority = {priority}, opened_at = {}, \
                 resolved_at = {}, closed_at = {}, reassignment_count = {}, reopen_count = {} \
                 WHERE number = '{number}'",
                self.at(opened),
                self.opt(resolved),
                self.opt(closed),
                counts.0,
                counts.1
            ))
            .await?;
        anyhow::ensure!(n == 1, "no task {number}");
        Ok(())
    }
}

/// What a task went through.
struct History<'a> {
    state: &'a str,
    priority: i64,
    opened: Timestamp,
    resolved: Option<Timestamp>,
    closed: Option<Timestamp>,
    /// Reassignments and reopens.
    counts: (i64, i64),
}

/// An incident: days ago opened, hours to resolve, reassignments, reopens, priority, its SLA
/// clocks' breaches, alerts.
type IncidentRow = (i64, Option<i64>, i64, i64, i64, &'static [bool], i64);

/// A change: days ago opened, days it took to close, type, outcome, incidents it caused.
type ChangeRow = (
    i64,
    i64,
    &'static str,
    Option<&'static str>,
    &'static [usize],
);

impl<'a> History<'a> {
    fn new(
        state: &'a str,
        priority: i64,
        opened: Timestamp,
        resolved: Option<Timestamp>,
        closed: Option<Timestamp>,
        counts: (i64, i64),
    ) -> Self {
        History {
            state,
            priority,
            opened,
            resolved,
            closed,
            counts,
        }
    }
}

pub(crate) fn task_id(number: &str) -> String {
    format!("(SELECT id FROM task WHERE number = '{number}')")
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A task's row as the KPIs read it: its moment, its grouping key, and its number (none
/// where it has none).
pub(crate) struct Fact {
    pub(crate) at: Timestamp,
    pub(crate) key: String,
    pub(crate) number: Option<f64>,
}

/// What a report's lines should be: for the facts in `[from, to)`, per key, how many and
/// the measure of their numbers.
pub(crate) fn expected(
    facts: &[Fact],
    from: Timestamp,
    to: Timestamp,
    measure: &str,
) -> BTreeMap<String, (i64, Option<f64>)> {
    let mut groups: BTreeMap<String, (i64, Vec<f64>)> = BTreeMap::new();
    for f in facts.iter().filter(|f| f.at >= from && f.at < to) {
        let g = groups.entry(f.key.clone()).or_default();
        g.0 += 1;
        g.1.extend(f.number);
    }
    groups
        .into_iter()
        .map(|(k, (n, mut xs))| {
            let value = if xs.is_empty() {
                None
            } else {
                let sum: f64 = xs.iter().sum();
                let avg = sum / xs.len() as f64;
                Some(match measure {
                    "sum" => sum,
                    "average" => avg,
                    "rate" => 100.0 * avg,
                    "median" => {
                        xs.sort_by(f64::total_cmp);
                        let mid = xs.len() / 2;
                        match xs.len() % 2 {
                            1 => xs[mid],
                            _ => (xs[mid - 1] + xs[mid]) / 2.0,
                        }
                    }
                    _ => f64::NAN,
                })
            };
            (k, (n, value))
        })
        .collect()
}

/// The values compared to a millionth (the engines' floating point differs in the last
/// places).
pub(crate) fn rounded(
    m: BTreeMap<String, (i64, Option<f64>)>,
) -> BTreeMap<String, (i64, Option<i64>)> {
    m.into_iter()
        .map(|(k, (n, v))| (k, (n, v.map(|v| (v * 1000.0).round() as i64))))
        .collect()
}

fn hours(h: i64) -> SignedDuration {
    SignedDuration::from_hours(h)
}

async fn built_in_kpis_match_the_numbers_of_the_rows(app: TestApp) -> anyhow::Result<()> {
    let (_, kiki) = app.person("kiki", &["agent", "manager"], None).await?;
    let (_, rudi) = app.person("rudi", &["requester"], None).await?;
    group_with(&app, "Desk", &["kiki"]).await?;
    let raw = Raw {
        app: &app,
        dialect: app.core.store.dialect(),
    };
    let now = app.clock.now();
    let ago = |days: i64| now - hours(24 * days);
    let secs = |h: i64| (h * 3600) as f64;

    // ----- incidents -----
    let incidents: &[IncidentRow] = &[
        (40, Some(5), 0, 0, 1, &[false, false], 2),
        (41, Some(30), 1, 0, 3, &[false, true], 0),
        (70, Some(2), 0, 1, 5, &[], 3),
        (72, Some(50), 2, 0, 1, &[false], 1),
        (20, Some(8), 0, 0, 3, &[true], 0),
        (12, Some(1), 0, 0, 3, &[false], 5),
        (150, Some(12), 0, 2, 3, &[false], 0),
        (500, Some(3), 0, 0, 1, &[true], 4),
        (100, None, 0, 0, 3, &[false], 0),
        (3, None, 1, 0, 5, &[], 0),
        (30, None, 0, 0, 1, &[], 2),
    ];
    raw.run(format!(
        "INSERT INTO agreement (id, name, kind, tz_source, valid_from, created_at, updated_at) \
         VALUES ({}, 'KPI SLA', 'sla', 'calendar', '2020-01-01', {}, {})",
        raw.new_id(),
        raw.at(now),
        raw.at(now)
    ))
    .await?;
    let mut inc_numbers = Vec::new();
    let mut alert_seq = 0;
    for (k, (days, resolve, reassigned, reopened, priority, clocks, alerts)) in
        incidents.iter().enumerate()
    {
        let i = post(
            &app,
            "/incidents",
            &kiki,
            json!({"short_description": format!("KPI incident {k}"), "assignment_group": "Desk"}),
        )
        .await?;
        let number = text(&i["number"]);
        let opened = ago(*days);
        let resolved = resolve.map(|h| opened + hours(h));
        let state = if resolved.is_some() {
            "resolved"
        } else {
            "in_progress"
        };
        raw.task(
            &number,
            History::new(
                state,
                *priority,
                opened,
                resolved,
                None,
                (*reassigned, *reopened),
            ),
        )
        .await?;
        for (j, breached) in clocks.iter().enumerate() {
            // The business time a clock ran: half an hour more for each clock and incident.
            let business_us = 1_800_000_000 * (k + j + 1) as i64;
            raw.run(format!(
                "INSERT INTO sla_clock (id, task_id, agreement_id, metric, target_name, \
                 duration_secs, time_zone, stage, started_at, ended_at, end_kind, business_us, \
                 breached, updated_at) \
                 VALUES ({}, {}, (SELECT id FROM agreement WHERE name = 'KPI SLA'), \
                 'resolution', 'Resolve', 28800, 'UTC', '{}', {}, {}, {}, {business_us}, {}, {})",
                raw.new_id(),
                task_id(&number),
                if *breached { "breached" } else { "achieved" },
                raw.at(opened),
                raw.opt(resolved),
                if resolved.is_some() {
                    "'stopped'"
                } else {
                    "NULL"
                },
                raw.flag(*breached),
                raw.at(now),
            ))
            .await?;
        }
        for _ in 0..*alerts {
            alert_seq += 1;
            raw.run(format!(
                "INSERT INTO alert (id, number, source, key, state, severity, worst, node, \
                 message, incident_id, first_at, last_at, state_changed_at, created_at, \
                 updated_at) VALUES ({}, 'ALR{alert_seq:07}', 'test', 'k{alert_seq}', 'closed', \
                 'clear', 'critical', 'srv-{k}', 'Disk full', {}, {o}, {o}, {o}, {o}, {o})",
                raw.new_id(),
                task_id(&number),
                o = raw.at(opened),
            ))
            .await?;
        }
        inc_numbers.push(number);
    }

    // ----- problems -----
    // (days ago opened, state, priority, hours to known error)
    let problems: &[(i64, &str, i64, Option<i64>)] = &[
        (30, "root_cause_analysis", 2, Some(48)),
        (60, "fix_in_progress", 3, Some(200)),
        (90, "assess", 3, None),
        (45, "closed", 2, Some(10)),
        (400, "new", 4, Some(5)),
    ];
    let mut prb_numbers = Vec::new();
    for (k, (days, state, priority, known)) in problems.iter().enumerate() {
        let p = post(
            &app,
            "/problems",
            &kiki,
            json!({"short_description": format!("KPI problem {k}")}),
        )
        .await?;
        let number = text(&p["number"]);
        let opened = ago(*days);
        let done = (*state == "closed").then(|| opened + hours(300));
        raw.task(
            &number,
            History::new(state, *priority, opened, done, done, (0, 0)),
        )
        .await?;
        let known_at = known.map(|h| opened + hours(h));
        raw.run(format!(
            "UPDATE problem SET known_error = {}, known_error_at = {} WHERE task_id = {}",
            raw.flag(known.is_some()),
            raw.opt(known_at),
            task_id(&number)
        ))
        .await?;
        prb_numbers.push(number);
    }

    // ----- changes -----
    let changes: &[ChangeRow] = &[
        (50, 2, "normal", Some("successful"), &[]),
        (48, 1, "emergency", Some("unsuccessful"), &[0, 1]),
        (80, 3, "normal", Some("successful_with_issues"), &[]),
        (20, 1, "standard", Some("backed_out"), &[4]),
        (10, 0, "emergency", None, &[]),
        (600, 2, "normal", Some("successful"), &[]),
    ];
    for (k, (days, took, kind, outcome, caused)) in changes.iter().enumerate() {
        let c = post(
            &app,
            "/changes",
            &kiki,
            json!({"short_description": format!("KPI change {k}")}),
        )
        .await?;
        let number = text(&c["number"]);
        let opened = ago(*days);
        let closed = outcome.map(|_| opened + hours(24 * took));
        let state = if closed.is_some() { "closed" } else { "new" };
        raw.task(
            &number,
            History::new(state, 4, opened, closed, closed, (0, 0)),
        )
        .await?;
        raw.run(format!(
            "UPDATE change_request SET change_type = '{kind}', outcome = {} WHERE task_id = {}",
            outcome.map_or_else(|| "NULL".into(), |o| format!("'{o}'")),
            task_id(&number)
        ))
        .await?;
        for i in caused.iter() {
            raw.run(format!(
                "INSERT INTO change_caused (incident_id, change_id, linked_at, linked_by) \
                 VALUES ({}, {}, {}, 'kiki')",
                task_id(&inc_numbers[*i]),
                task_id(&number),
                raw.at(now)
            ))
            .await?;
        }
    }

    // ----- requested items -----
    let offering = crate::requests::catalogue_offering(&app, "Printing").await?;
    post(
        &app,
        "/catalog/items",
        &app.admin_token,
        json!({"name": "Toner", "service_offering": offering, "delivery_hours": 8}),
    )
    .await?;
    // (days ago ordered, hours promised, hours it took, state)
    let items: &[(i64, i64, Option<i64>, &str)] = &[
        (30, 24, Some(10), "complete"),
        (31, 24, Some(30), "complete"),
        (60, 48, Some(48), "complete"),
        (65, 48, Some(5), "canceled"),
        (5, 24, None, "fulfilment"),
    ];
    let order: Vec<Value> = items.iter().map(|_| json!({"item": "Toner"})).collect();
    let made = post(&app, "/requests", &rudi, json!({"items": order})).await?;
    let ritms: Vec<String> = made["items"]
        .as_array()
        .map(|l| l.iter().map(|i| text(&i["number"])).collect())
        .unwrap_or_default();
    anyhow::ensure!(ritms.len() == items.len(), "{made}");
    for (number, (days, promised, took, state)) in ritms.iter().zip(items) {
        let opened = ago(*days);
        let done = took.map(|h| opened + hours(h));
        raw.task(number, History::new(state, 4, opened, done, done, (0, 0)))
            .await?;
        raw.run(format!(
            "UPDATE request_item SET due_at = {} WHERE task_id = {}",
            raw.at(opened + hours(*promised)),
            task_id(number)
        ))
        .await?;
    }

    // ----- articles and their deflections -----
    group_with(&app, "KB Team", &["kiki"]).await?;
    post(
        &app,
        "/knowledge_bases",
        &kiki,
        json!({"name": "IT", "owner_group": "KB Team"}),
    )
    .await?;
    let mut deflected = Vec::new();
    for (k, n) in [3, 0, 4].into_iter().enumerate() {
        let a = post(
            &app,
            "/articles",
            &kiki,
            json!({"title": format!("KPI article {k}"), "body": "Restart it."}),
        )
        .await?;
        let number = text(&a["number"]);
        for d in 0..n {
            raw.run(format!(
                "INSERT INTO kb_deflection (id, article_id, query, created_at) \
                 VALUES ({}, {}, 'printer', {})",
                raw.new_id(),
                task_id(&number),
                raw.at(ago(d + 1))
            ))
            .await?;
        }
        deflected.push(n);
    }

    // ----- every KPI against the rows -----
    let mut checked = 0;
    for (key, id) in KPI {
        let d = get(&app, &format!("/reports/{id}/data"), &kiki).await?;
        let from: Timestamp = text(&d["from"]).parse()?;
        let to: Timestamp = text(&d["to"]).parse()?;
        let tz = jiff::tz::TimeZone::get(&text(&d["time_zone"]))?;
        let month = |t: Timestamp| {
            t.to_zoned_datetime(tz.clone())
                .strftime("%Y-%m")
                .to_string()
        };
        let def = &d["report"]["definition"];
        let measure = text(&def["measure"]);
        let facts: Vec<Fact> = match *key {
            "mean-time-to-resolve" | "median-time-to-resolve" => incidents
                .iter()
                .filter_map(|i| {
                    let opened = ago(i.0);
                    i.1.map(|h| Fact {
                        at: opened + hours(h),
                        key: i.4.to_string(),
                        number: Some(secs(h)),
                    })
                })
                .collect(),
            "first-contact-resolution" | "reopen-rate" | "sla-compliance" => incidents
                .iter()
                .filter_map(|i| {
                    let resolved = ago(i.0) + hours(i.1?);
                    let number = match *key {
                        "first-contact-resolution" => Some(f64::from(i.2 == 0 && i.3 == 0)),
                        "reopen-rate" => Some(f64::from(i.3 > 0)),
                        _ => (!i.5.is_empty()).then(|| f64::from(!i.5.contains(&true))),
                    };
                    Some(Fact {
                        at: resolved,
                        key: month(resolved),
                        number,
                    })
                })
                .collect(),
            // Each stopped clock of a resolved incident, when it ended, by agreement.
            "sla-targets-met" => incidents
                .iter()
                .filter_map(|i| Some((ago(i.0) + hours(i.1?), i.5)))
                .flat_map(|(ended, clocks)| {
                    clocks.iter().map(move |breached| Fact {
                        at: ended,
                        key: "KPI SLA".into(),
                        number: Some(f64::from(!*breached)),
                    })
                })
                .collect(),
            "backlog-age" => incidents
                .iter()
                .filter(|i| i.1.is_none())
                .map(|i| Fact {
                    at: ago(i.0),
                    key: i.4.to_string(),
                    number: Some((24 * i.0 * 3600) as f64),
                })
                .collect(),
            "alerts-per-incident" => incidents
                .iter()
                .map(|i| Fact {
                    at: ago(i.0),
                    key: month(ago(i.0)),
                    number: (i.6 > 0).then_some(i.6 as f64),
                })
                .collect(),
            "open-known-errors" => problems
                .iter()
                .filter(|p| p.1 != "closed")
                .map(|p| Fact {
                    at: ago(p.0),
                    key: String::new(),
                    number: Some(f64::from(p.3.is_some())),
                })
                .collect(),
            "time-to-root-cause" => problems
                .iter()
                .map(|p| Fact {
                    at: ago(p.0),
                    key: p.2.to_string(),
                    number: p.3.map(secs),
                })
                .collect(),
            "change-success-rate" | "changes-causing-incidents" => changes
                .iter()
                .filter_map(|c| {
                    c.3?;
                    let closed = ago(c.0) + hours(24 * c.1);
                    let number = match *key {
                        "change-success-rate" => c
                            .3
                            .map(|o| f64::from(o == "successful" || o == "successful_with_issues")),
                        _ => Some(f64::from(!c.4.is_empty())),
                    };
                    Some(Fact {
                        at: closed,
                        key: month(closed),
                        number,
                    })
                })
                .collect(),
            "emergency-changes" => changes
                .iter()
                .map(|c| Fact {
                    at: ago(c.0),
                    key: month(ago(c.0)),
                    number: Some(f64::from(c.2 == "emergency")),
                })
                .collect(),
            "on-time-delivery" => items
                .iter()
                .filter_map(|i| {
                    let took = i.2?;
                    let closed = ago(i.0) + hours(took);
                    Some(Fact {
                        at: closed,
                        key: month(closed),
                        number: (i.3 == "complete").then(|| f64::from(took <= i.1)),
                    })
                })
                .collect(),
            "deflections" => deflected
                .iter()
                .map(|n| Fact {
                    at: now,
                    key: "KB Team".into(),
                    number: Some(*n as f64),
                })
                .collect(),
            other => anyhow::bail!("no rows for {other}"),
        };
        let want = expected(&facts, from, to, &measure);
        anyhow::ensure!(!want.is_empty(), "{key}: the rows give nothing to check");
        assert_eq!(rounded(lines(&d)), rounded(want), "{key}: {d}");
        assert!(def["target"].is_number(), "{key} has a target: {def}");
        checked += 1;
    }
    assert_eq!(checked, KPI.len());

    // Business time to resolve (the running time within the SLA calendar of the stopped
    // resolution clocks, the longest of each incident), by priority over the last year.
    let from = ago(365);
    let to = now + hours(1);
    let v = get(
        &app,
        &format!(
            "/aggregate/incident?group_by=priority&measure=average&of=business_time_to_resolve\
             &time=resolved_at&from={from}&to={to}"
        ),
        &kiki,
    )
    .await?;
    let facts: Vec<Fact> = incidents
        .iter()
        .enumerate()
        .filter_map(|(k, i)| {
            let resolved = ago(i.0) + hours(i.1?);
            let longest = (0..i.5.len())
                .map(|j| 1800.0 * (k + j + 1) as f64)
                .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
            Some(Fact {
                at: resolved,
                key: i.4.to_string(),
                number: longest,
            })
        })
        .collect();
    assert_eq!(
        rounded(lines(&v)),
        rounded(expected(&facts, from, to, "average")),
        "{v}"
    );

    // The process KPIs' dashboard holds them all, and a requester cannot open it.
    let boards = get(&app, "/dashboards", &kiki).await?;
    let kpis = boards
        .as_array()
        .and_then(|l| {
            l.iter()
                .find(|b| b["id"] == "01900000-0000-7000-8000-000000000204")
        })
        .cloned()
        .unwrap_or_default();
    assert_eq!(kpis["tiles"].as_array().map(Vec::len), Some(15), "{boards}");
    let (s, _) = crate::portfolio::send(
        &app.http,
        reqwest::Method::GET,
        &app.api("/dashboards/01900000-0000-7000-8000-000000000204"),
        &rudi,
        None,
    )
    .await?;
    assert_eq!(s, reqwest::StatusCode::NOT_FOUND);
    Ok(())
}

/// The status and body of a request.
async fn call(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> anyhow::Result<(reqwest::StatusCode, Value)> {
    crate::portfolio::send(&app.http, method, &app.api(path), token, body).await
}

async fn the_improvement_register_follows_its_kpi_since_the_start(
    app: TestApp,
) -> anyhow::Result<()> {
    use reqwest::{Method, StatusCode};
    let (_, mona) = app.person("mona", &["agent", "manager"], None).await?;
    let (_, ari) = app.person("ari", &["agent"], None).await?;
    let (_, budi) = app.person("budi", &["agent"], None).await?;
    let (_, reni) = app.person("reni", &["requester"], None).await?;
    group_with(&app, "Desk", &["ari", "budi"]).await?;
    for k in 0..3 {
        post(
            &app,
            "/incidents",
            &ari,
            json!({"short_description": format!("Slow mail {k}"), "assignment_group": "Desk"}),
        )
        .await?;
    }
    let report = post(
        &app,
        "/reports",
        &mona,
        json!({"name": "Incidents opened", "audience": "everyone",
               "definition": {"source": "incident", "period": "last_30_days", "display": "score"}}),
    )
    .await?;
    let rid = text(&report["id"]);
    let tz = jiff::tz::TimeZone::get("UTC")?;
    let today = app.clock.now().to_zoned_datetime(tz).date();
    let start = today.checked_sub(jiff::Span::new().days(14))?;

    // Bad initiatives are refused with the field named, and nothing is recorded.
    for (body, field) in [
        (json!({"baseline": 1, "target": 2}), "title"),
        (json!({"title": "x", "target": 2}), "baseline"),
        (
            json!({"title": "x", "baseline": "ten", "target": 2}),
            "baseline",
        ),
        (
            json!({"title": "x", "baseline": 1, "target": 2, "status": "done"}),
            "status",
        ),
        (
            json!({"title": "x", "baseline": 1, "target": 2, "started_on": "2026-13-40"}),
            "started_on",
        ),
        (
            json!({"title": "x", "baseline": 1, "target": 2, "started_on": "2026-05-01", "due_on": "2026-04-01"}),
            "due_on",
        ),
        (
            json!({"title": "x", "baseline": 1, "target": 2, "report": "01900000-0000-7000-8000-00000000ffff"}),
            "report",
        ),
        (
            json!({"title": "x", "baseline": 1, "target": 2, "owner": "nobody-here"}),
            "owner",
        ),
        (
            json!({"title": "x", "baseline": 1, "target": 2, "colour": "red"}),
            "colour",
        ),
    ] {
        let (s, v) = call(
            &app,
            Method::POST,
            "/improvements",
            &mona,
            Some(body.clone()),
        )
        .await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        let named = v["errors"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["field"] == field));
        assert!(
            named || v["detail"].as_str().is_some_and(|d| d.contains(field)),
            "{body}: {v}"
        );
    }
    assert_eq!(get(&app, "/improvements", &mona).await?, json!([]));
    // Only managers record initiatives; requesters do not read the register.
    let (s, _) = call(
        &app,
        Method::POST,
        "/improvements",
        &ari,
        Some(json!({"title": "Mine", "baseline": 1, "target": 2})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(&app, Method::GET, "/improvements", &reni, None).await?;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let made = post(
        &app,
        "/improvements",
        &mona,
        json!({"title": "Fewer mail incidents", "description": "Move the mail relay",
               "owner": "ari", "report": rid, "baseline": 10, "target": 2,
               "started_on": start.to_string()}),
    )
    .await?;
    let id = text(&made["id"]);
    assert_eq!(made["status"], "proposed", "{made}");
    assert_eq!(made["owner"]["name"], "Test ari", "{made}");
    assert_eq!(made["report"]["name"], "Incidents opened", "{made}");

    // The KPI's line since the start, week by week: the three incidents of this week.
    let p = get(&app, &format!("/improvements/{id}"), &budi).await?;
    assert_eq!(p["kpi"]["bucket"], "week", "{p}");
    let points = p["kpi"]["points"].as_array().cloned().unwrap_or_default();
    assert!((2..=4).contains(&points.len()), "{p}");
    let total: f64 = points.iter().filter_map(|x| x["value"].as_f64()).sum();
    assert_eq!(total, 3.0, "{p}");
    assert_eq!(
        points.last().and_then(|x| x["value"].as_f64()),
        Some(3.0),
        "{p}"
    );
    assert_eq!(
        p["improvement"]["editable"], false,
        "budi neither owns nor manages it"
    );

    // Its owner reviews it and moves it on; the note keeps the KPI as it stood.
    let (s, v) = call(
        &app,
        Method::POST,
        &format!("/improvements/{id}/reviews"),
        &ari,
        Some(json!({"note": "Relay moved; watching the numbers.", "status": "in_progress"})),
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["improvement"]["status"], "in_progress");
    assert_eq!(v["reviews"][0]["measured"], 3.0, "{v}");
    assert_eq!(v["reviews"][0]["author"], "ari");
    for (who, body, want) in [
        (&budi, json!({"note": "Not mine"}), StatusCode::FORBIDDEN),
        (
            &ari,
            json!({"note": "   "}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (&ari, json!({"note": 7}), StatusCode::UNPROCESSABLE_ENTITY),
        (
            &ari,
            json!({"note": "x", "status": "finished"}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        let (s, v) = call(
            &app,
            Method::POST,
            &format!("/improvements/{id}/reviews"),
            who,
            Some(body),
        )
        .await?;
        assert_eq!(s, want, "{v}");
    }
    let (s, v) = call(
        &app,
        Method::PATCH,
        &format!("/improvements/{id}"),
        &ari,
        Some(json!({"target": 1.5, "version": 2})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["target"].as_f64(), v["baseline"].as_f64()),
        (Some(1.5), Some(10.0))
    );
    let (s, _) = call(
        &app,
        Method::PATCH,
        &format!("/improvements/{id}"),
        &ari,
        Some(json!({"target": 1, "version": 2})),
    )
    .await?;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED, "a stale version");
    let (s, _) = call(
        &app,
        Method::PATCH,
        &format!("/improvements/{id}"),
        &budi,
        Some(json!({"target": 1})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let listed = get(&app, "/improvements?status=in_progress", &budi).await?;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let listed = get(&app, "/improvements?status=achieved", &budi).await?;
    assert_eq!(listed, json!([]));

    // The page draws the line with its target, and the notes.
    let browser = app.browser("mona", "mona-password-1").await?;
    let page = browser
        .get(app.page(&format!("/improvements/{id}")))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await?;
    assert!(
        html.contains("id=\"improvement-chart\"") && html.contains("<svg"),
        "{html}"
    );
    assert!(html.contains("Relay moved; watching the numbers."));
    let list = browser
        .get(app.page("/improvements"))
        .send()
        .await?
        .text()
        .await?;
    assert!(list.contains("Fewer mail incidents"), "{list}");

    // Only managers remove initiatives.
    let (s, _) = call(
        &app,
        Method::DELETE,
        &format!("/improvements/{id}"),
        &ari,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = call(
        &app,
        Method::DELETE,
        &format!("/improvements/{id}"),
        &mona,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = call(
        &app,
        Method::GET,
        &format!("/improvements/{id}"),
        &mona,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    Ok(())
}
