//! Reports over the sources that are not tasks — SLA clocks, configuration items, alerts
//! and approvals — against the numbers computed here from the rows written for them; a
//! customer's agent's numbers limited to their organization's tasks; the records behind a
//! line; and questions a source cannot answer refused with the parameter named.

use crate::helpers::problem;
use crate::kpis::{Fact, Raw, expected, rounded, task_id};
use crate::portfolio::{get, post, send};
use crate::reports::lines;
use jiff::SignedDuration;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_domain::Clock as _;
use sigap_testkit::{TestApp, both};
use std::collections::BTreeMap;

both!(
    clocks_alerts_approvals_and_cis_are_reported_as_their_rows_say,
    questions_a_source_cannot_answer_are_refused,
);

fn hours(h: f64) -> SignedDuration {
    SignedDuration::from_secs_f64(h * 3600.0)
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// An SLA clock: the incident (by place), agreement, metric, stage, days ago started,
/// hours it ran until it ended (none: running), how it ended, business hours, breached.
type ClockRow = (
    usize,
    &'static str,
    &'static str,
    &'static str,
    i64,
    Option<f64>,
    Option<&'static str>,
    f64,
    bool,
);

/// An alert: days ago first seen, worst severity, hours to acknowledge and to close, the
/// incident (by place) it raised, the CI (by name), events.
type AlertRow = (
    i64,
    &'static str,
    Option<f64>,
    Option<f64>,
    Option<usize>,
    Option<&'static str>,
    i64,
);

/// An approval: the change (by place), the approver's login, state, days ago asked, hours
/// to decide.
type ApprovalRow = (usize, &'static str, &'static str, i64, Option<f64>);

async fn clocks_alerts_approvals_and_cis_are_reported_as_their_rows_say(
    app: TestApp,
) -> anyhow::Result<()> {
    app.organization("PT Alfa", "customer").await?;
    let (kiki_p, kiki) = app.person("kiki", &["agent", "manager"], None).await?;
    let (agnes_p, _) = app.person("agnes", &["agent"], None).await?;
    let (_, ali) = app.person("ali", &["agent"], Some("PT Alfa")).await?;
    let raw = Raw {
        app: &app,
        dialect: app.core.store.dialect(),
    };
    let now = app.clock.now();
    let ago = |days: i64| now - SignedDuration::from_hours(24 * days);
    let period = format!(
        "from={}&to={}",
        ago(30),
        now + SignedDuration::from_hours(1)
    );

    // ----- incidents, two of them PT Alfa's, on CIs -----
    let mut cis: BTreeMap<&str, (String, String)> = BTreeMap::new();
    for (class, name) in [
        ("server", "srv-01"),
        ("server", "srv-02"),
        ("application", "app-1"),
    ] {
        let c = post(
            &app,
            "/configuration_items",
            &kiki,
            json!({"class": class, "name": name}),
        )
        .await?;
        cis.insert(name, (text(&c["id"]), text(&c["class_name"])));
    }
    let alfa_org = "(SELECT id FROM organization WHERE name = 'PT Alfa')";
    // (PT Alfa's, its CI)
    let incident_rows = [
        (false, Some("srv-01")),
        (true, Some("srv-01")),
        (false, Some("app-1")),
        (true, None),
    ];
    let mut incidents = Vec::new();
    for (k, (alfa, ci)) in incident_rows.iter().enumerate() {
        let i = post(
            &app,
            "/incidents",
            &kiki,
            json!({"short_description": format!("Source incident {k}")}),
        )
        .await?;
        let number = text(&i["number"]);
        raw.run(format!(
            "UPDATE task SET organization_id = {}, ci_id = {} WHERE number = '{number}'",
            if *alfa { alfa_org } else { "NULL" },
            ci.map_or_else(
                || "NULL".to_owned(),
                |c| format!("(SELECT id FROM ci WHERE name = '{c}')")
            ),
        ))
        .await?;
        incidents.push(number);
    }

    // ----- SLA clocks -----
    for name in ["Gold", "Silver"] {
        raw.run(format!(
            "INSERT INTO agreement (id, name, kind, tz_source, valid_from, created_at, updated_at) \
             VALUES ({}, '{name}', 'sla', 'calendar', '2020-01-01', {}, {})",
            raw.new_id(),
            raw.at(now),
            raw.at(now)
        ))
        .await?;
    }
    let clocks: &[ClockRow] = &[
        (
            0,
            "Gold",
            "resolution",
            "achieved",
            10,
            Some(5.0),
            Some("stopped"),
            3.0,
            false,
        ),
        (
            0,
            "Gold",
            "response",
            "breached",
            10,
            Some(2.0),
            Some("stopped"),
            1.0,
            true,
        ),
        (
            1,
            "Gold",
            "resolution",
            "breached",
            8,
            None,
            None,
            9.0,
            true,
        ),
        (
            1,
            "Silver",
            "resolution",
            "in_progress",
            8,
            None,
            None,
            2.0,
            false,
        ),
        (
            2,
            "Silver",
            "resolution",
            "cancelled",
            5,
            Some(1.0),
            Some("cancelled"),
            0.5,
            false,
        ),
        (
            3,
            "Silver",
            "resolution",
            "achieved",
            3,
            Some(7.0),
            Some("stopped"),
            6.0,
            false,
        ),
        // Started before the period: not counted.
        (
            3,
            "Silver",
            "resolution",
            "achieved",
            40,
            Some(1.0),
            Some("stopped"),
            1.0,
            false,
        ),
    ];
    for (inc, agreement, metric, stage, days, ran, end, business, breached) in clocks {
        let started = ago(*days);
        raw.run(format!(
            "INSERT INTO sla_clock (id, task_id, agreement_id, metric, target_name, \
             duration_secs, time_zone, stage, started_at, ended_at, end_kind, business_us, \
             breached, updated_at) \
             VALUES ({}, {}, (SELECT id FROM agreement WHERE name = '{agreement}'), '{metric}', \
             'Target', 28800, 'UTC', '{stage}', {}, {}, {}, {}, {}, {})",
            raw.new_id(),
            task_id(&incidents[*inc]),
            raw.at(started),
            raw.opt(ran.map(|h| started + hours(h))),
            end.map_or_else(|| "NULL".to_owned(), |e| format!("'{e}'")),
            (business * 3_600_000_000.0) as i64,
            raw.flag(*breached),
            raw.at(now),
        ))
        .await?;
    }
    // Met: decided once stopped, or when breached while running.
    let met = |c: &ClockRow| match (c.6, c.5, c.8) {
        (Some("stopped"), _, breached) | (None, None, breached @ true) => {
            Some(if breached { 0.0 } else { 1.0 })
        }
        _ => None,
    };
    let clock_facts = |key: &dyn Fn(&ClockRow) -> String,
                       number: &dyn Fn(&ClockRow) -> Option<f64>,
                       alfa_only: bool| {
        clocks
            .iter()
            .filter(|c| !alfa_only || incident_rows[c.0].0)
            .map(|c| Fact {
                at: ago(c.4),
                key: key(c),
                number: number(c),
            })
            .collect::<Vec<_>>()
    };
    let (from, to) = (ago(30), now + SignedDuration::from_hours(1));
    let v = get(
        &app,
        &format!("/aggregate/sla_clock?group_by=agreement&measure=rate&of=met&{period}"),
        &kiki,
    )
    .await?;
    assert_eq!(v["time"], "started_at", "{v}");
    let want = expected(
        &clock_facts(&|c| c.1.to_owned(), &met, false),
        from,
        to,
        "rate",
    );
    assert_eq!(rounded(lines(&v)), rounded(want), "{v}");
    // The customer's agent: the clocks of PT Alfa's incidents only.
    let v = get(
        &app,
        &format!("/aggregate/sla_clock?group_by=agreement&measure=rate&of=met&{period}"),
        &ali,
    )
    .await?;
    let want = expected(
        &clock_facts(&|c| c.1.to_owned(), &met, true),
        from,
        to,
        "rate",
    );
    assert_eq!(rounded(lines(&v)), rounded(want), "{v}");
    // Business time by metric and stage, averaged; elapsed time's median by agreement.
    let v = get(
        &app,
        &format!(
            "/aggregate/sla_clock?group_by=metric,state&measure=average&of=business_time&{period}"
        ),
        &kiki,
    )
    .await?;
    let want = expected(
        &clock_facts(
            &|c| format!("{}|{}", c.2, c.3),
            &|c| Some(c.7 * 3600.0),
            false,
        ),
        from,
        to,
        "average",
    );
    assert_eq!(rounded(lines(&v)), rounded(want), "{v}");
    let v = get(
        &app,
        &format!("/aggregate/sla_clock?group_by=agreement&measure=median&of=elapsed_time&{period}"),
        &kiki,
    )
    .await?;
    let want = expected(
        &clock_facts(&|c| c.1.to_owned(), &|c| c.5.map(|h| h * 3600.0), false),
        from,
        to,
        "median",
    );
    assert_eq!(rounded(lines(&v)), rounded(want), "{v}");
    // By when they ended, in weeks: the running ones have no end, and are not counted.
    let v = get(
        &app,
        &format!("/aggregate/sla_clock?time=ended_at&state=achieved,breached&{period}"),
        &kiki,
    )
    .await?;
    let ended = clocks
        .iter()
        .filter(|c| matches!(c.3, "achieved" | "breached"))
        .filter_map(|c| c.5.map(|h| ago(c.4) + hours(h)))
        .filter(|t| *t >= from && *t < to)
        .count() as i64;
    assert_eq!(v["lines"][0]["count"], ended, "{v}");

    // ----- alerts -----
    let alerts: &[AlertRow] = &[
        (
            6,
            "critical",
            Some(1.0),
            Some(4.0),
            Some(1),
            Some("srv-01"),
            5,
        ),
        (6, "major", None, Some(2.0), None, Some("srv-01"), 1),
        (4, "critical", Some(3.0), None, Some(0), None, 2),
        (2, "warning", None, None, None, Some("srv-02"), 1),
    ];
    for (n, (days, worst, ack, close, incident, ci, events)) in alerts.iter().enumerate() {
        let first = ago(*days);
        raw.run(format!(
            "INSERT INTO alert (id, number, source, key, state, severity, worst, node, \
             message, ci_id, incident_id, event_count, first_at, last_at, state_changed_at, \
             acknowledged_at, closed_at, created_at, updated_at) VALUES ({}, 'ALT{n:07}', \
             'prometheus', 'k{n}', '{}', '{worst}', '{worst}', 'node-{n}', 'Disk full', {}, {}, \
             {events}, {f}, {f}, {f}, {}, {}, {f}, {f})",
            raw.new_id(),
            if close.is_some() { "closed" } else { "open" },
            ci.map_or_else(
                || "NULL".to_owned(),
                |c| format!("(SELECT id FROM ci WHERE name = '{c}')")
            ),
            incident.map_or_else(|| "NULL".to_owned(), |i| task_id(&incidents[i])),
            raw.opt(ack.map(|h| first + hours(h))),
            raw.opt(close.map(|h| first + hours(h))),
            f = raw.at(first),
        ))
        .await?;
    }
    let alert_facts = |key: &dyn Fn(&AlertRow) -> String,
                       number: &dyn Fn(&AlertRow) -> Option<f64>| {
        alerts
            .iter()
            .map(|a| Fact {
                at: ago(a.0),
                key: key(a),
                number: number(a),
            })
            .collect::<Vec<_>>()
    };
    let v = get(
        &app,
        &format!(
            "/aggregate/alert?group_by=severity&measure=average&of=time_to_acknowledge&{period}"
        ),
        &kiki,
    )
    .await?;
    assert_eq!(v["time"], "first_at", "{v}");
    let want = expected(
        &alert_facts(&|a| a.1.to_owned(), &|a| a.2.map(|h| h * 3600.0)),
        from,
        to,
        "average",
    );
    assert_eq!(rounded(lines(&v)), rounded(want), "{v}");
    for (q, measure, number) in [
        (
            "measure=rate&of=raised_incident",
            "rate",
            &(|a: &AlertRow| Some(if a.4.is_some() { 1.0 } else { 0.0 }))
                as &dyn Fn(&AlertRow) -> Option<f64>,
        ),
        ("measure=sum&of=event_count", "sum", &|a: &AlertRow| {
            Some(a.6 as f64)
        }),
        (
            "measure=median&of=time_to_close",
            "median",
            &|a: &AlertRow| a.3.map(|h| h * 3600.0),
        ),
    ] {
        let v = get(
            &app,
            &format!("/aggregate/alert?group_by=ci&{q}&{period}"),
            &kiki,
        )
        .await?;
        let want = expected(
            &alert_facts(&|a| a.5.unwrap_or("-").to_owned(), number),
            from,
            to,
            measure,
        );
        assert_eq!(rounded(lines(&v)), rounded(want), "{q}: {v}");
    }
    // PT Alfa's agent: the alerts of PT Alfa's incidents.
    let v = get(&app, &format!("/aggregate/alert?{period}"), &ali).await?;
    let alfa_alerts = alerts
        .iter()
        .filter(|a| a.4.is_some_and(|i| incident_rows[i].0))
        .count() as i64;
    assert_eq!(v["lines"][0]["count"], alfa_alerts, "{v}");

    // ----- approvals of changes -----
    let mut changes = Vec::new();
    for k in 0..2 {
        let c = post(
            &app,
            "/changes",
            &kiki,
            json!({"short_description": format!("Source change {k}")}),
        )
        .await?;
        changes.push(text(&c["number"]));
    }
    let logins = BTreeMap::from([
        ("kiki", kiki_p.id.to_string()),
        ("agnes", agnes_p.id.to_string()),
    ]);
    let approvals: &[ApprovalRow] = &[
        (0, "kiki", "approved", 5, Some(2.0)),
        (0, "agnes", "rejected", 5, Some(10.0)),
        (1, "kiki", "requested", 1, None),
        (1, "agnes", "approved", 1, Some(4.0)),
        (1, "agnes", "not_required", 1, Some(0.5)),
    ];
    for (change, login, state, days, decide) in approvals {
        let asked = ago(*days);
        raw.run(format!(
            "INSERT INTO approval (id, task_id, stage, approver_id, state, asked_at, decided_at) \
             VALUES ({}, {}, 1, (SELECT id FROM person WHERE login = '{login}'), '{state}', {}, {})",
            raw.new_id(),
            task_id(&changes[*change]),
            raw.at(asked),
            raw.opt(decide.map(|h| asked + hours(h))),
        ))
        .await?;
    }
    let approval_facts = |number: &dyn Fn(&ApprovalRow) -> Option<f64>| {
        approvals
            .iter()
            .map(|a| Fact {
                at: ago(a.3),
                key: format!("Test {}", a.1),
                number: number(a),
            })
            .collect::<Vec<_>>()
    };
    let v = get(
        &app,
        &format!("/aggregate/approval?group_by=approver&measure=rate&of=approved&{period}"),
        &kiki,
    )
    .await?;
    let want = expected(
        &approval_facts(&|a| match a.2 {
            "approved" => Some(1.0),
            "rejected" => Some(0.0),
            _ => None,
        }),
        from,
        to,
        "rate",
    );
    assert_eq!(rounded(lines(&v)), rounded(want), "{v}");
    let v = get(
        &app,
        &format!("/aggregate/approval?group_by=approver&measure=median&of=time_to_decide&{period}"),
        &kiki,
    )
    .await?;
    let want = expected(
        &approval_facts(&|a| a.4.map(|h| h * 3600.0)),
        from,
        to,
        "median",
    );
    assert_eq!(rounded(lines(&v)), rounded(want), "{v}");
    let keyed: BTreeMap<String, i64> = v["lines"]
        .as_array()
        .map(|l| {
            l.iter()
                .map(|l| (text(&l["keys"][0]["key"]), l["count"].as_i64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(keyed.get(&logins["kiki"]), Some(&2), "{v}");
    // Grouped by the kind of task approved.
    let v = get(
        &app,
        &format!("/aggregate/approval?group_by=kind&{period}"),
        &kiki,
    )
    .await?;
    assert_eq!(
        lines(&v),
        BTreeMap::from([("change".to_owned(), (5, Some(5.0)))]),
        "{v}"
    );

    // ----- configuration items -----
    let class_of = |name: &str| cis.get(name).map(|c| c.1.clone()).unwrap_or_default();
    let on_ci = |name: &str| {
        incident_rows
            .iter()
            .filter(|(_, ci)| *ci == Some(name))
            .count() as f64
    };
    let alerts_on = |name: &str| alerts.iter().filter(|a| a.5 == Some(name)).count() as f64;
    let ci_facts = |number: &dyn Fn(&str) -> f64| {
        cis.keys()
            .map(|name| Fact {
                at: now,
                key: class_of(name),
                number: Some(number(name)),
            })
            .collect::<Vec<_>>()
    };
    for (of, number) in [
        ("incidents", &on_ci as &dyn Fn(&str) -> f64),
        ("alerts", &alerts_on),
    ] {
        let v = get(
            &app,
            &format!("/aggregate/ci?group_by=class&measure=sum&of={of}&{period}"),
            &kiki,
        )
        .await?;
        assert_eq!(v["time"], "created_at", "{v}");
        let want = expected(&ci_facts(number), from, to, "sum");
        assert_eq!(rounded(lines(&v)), rounded(want), "{of}: {v}");
    }

    // ----- a saved report over clocks, and the clocks behind a line -----
    let r = post(
        &app,
        "/reports",
        &kiki,
        json!({"name": "Clocks by agreement", "definition": {
            "source": "sla_clock", "group_by": ["agreement"], "measure": "rate", "of": "met",
            "period": "last_30_days", "display": "bar"}}),
    )
    .await?;
    let id = text(&r["id"]);
    let d = get(&app, &format!("/reports/{id}/data"), &kiki).await?;
    let gold = d["lines"]
        .as_array()
        .and_then(|l| l.iter().find(|l| l["keys"][0]["name"] == "Gold"))
        .map(|l| text(&l["keys"][0]["key"]))
        .unwrap_or_default();
    let behind = get(&app, &format!("/reports/{id}/records?keys={gold}"), &kiki).await?;
    let mut got: Vec<String> = behind
        .as_array()
        .map(|l| l.iter().map(|r| text(&r["number"])).collect())
        .unwrap_or_default();
    got.sort();
    let mut want: Vec<String> = clocks
        .iter()
        .filter(|c| c.1 == "Gold" && ago(c.4) >= ago(30))
        .map(|c| incidents[c.0].clone())
        .collect();
    want.sort();
    assert_eq!(got, want, "{behind}");
    assert!(
        behind.as_array().is_some_and(|l| l
            .iter()
            .all(|r| text(&r["path"]).starts_with("/incidents/"))),
        "{behind}"
    );
    // Its page and its CSV, in words.
    let browser = app.browser("kiki", "kiki-password-1").await?;
    let page = browser
        .get(app.page(&format!("/reports/{id}")))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await?;
    assert!(html.contains("<svg") && html.contains("Gold"), "no chart");
    let page = browser
        .get(app.page(&format!("/reports/{id}/records?keys={gold}")))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await?;
    assert!(
        html.contains(&incidents[1]) && html.contains("Breached"),
        "records page"
    );
    let csv = app
        .http
        .get(app.api(&format!("/reports/{id}/export?format=csv")))
        .bearer_auth(&kiki)
        .send()
        .await?
        .text()
        .await?;
    assert!(csv.contains("Gold") && csv.contains("Agreement"), "{csv}");
    // Alerts as a list: the newest first, with their pages.
    let r = post(
        &app,
        "/reports",
        &kiki,
        json!({"name": "Open alerts", "definition": {
            "source": "alert", "state": ["open"], "period": "last_30_days", "display": "list"}}),
    )
    .await?;
    let d = get(&app, &format!("/reports/{}/records", text(&r["id"])), &kiki).await?;
    let listed: Vec<String> = d
        .as_array()
        .map(|l| l.iter().map(|r| text(&r["path"])).collect())
        .unwrap_or_default();
    assert_eq!(listed, ["/alerts/ALT0000003", "/alerts/ALT0000002"], "{d}");
    Ok(())
}

async fn questions_a_source_cannot_answer_are_refused(app: TestApp) -> anyhow::Result<()> {
    app.organization("PT Alfa", "customer").await?;
    let (_, ali) = app.person("ali", &["agent"], Some("PT Alfa")).await?;
    let (_, rudi) = app.person("rudi", &["requester"], None).await?;
    let t = app.admin_token.clone();
    for (source, query, field) in [
        ("sla_clock", "group_by=severity", "group_by"),
        ("sla_clock", "group_by=opened_at:week", "group_by"),
        ("alert", "time=opened_at", "time"),
        ("ci", "priority=1", "priority"),
        ("alert", "category=network", "category"),
        ("alert", "queue=mine", "queue"),
        ("approval", "state=sleeping", "state"),
        ("sla_clock", "measure=rate&of=time_to_resolve", "of"),
        ("incident", "measure=average&of=business_time", "of"),
        ("ci", "measure=sum&of=event_count", "of"),
        ("incident", "group_by=agreement", "group_by"),
    ] {
        let resp = app
            .http
            .get(app.api(&format!("/aggregate/{source}?{query}")))
            .bearer_auth(&t)
            .send()
            .await?;
        let body = problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await
            .map_err(|e| anyhow::anyhow!("{source}?{query}: {e}"))?;
        assert_eq!(
            body["errors"][0]["field"], field,
            "{source}?{query}: {body}"
        );
        assert_eq!(
            body["errors"][0]["code"],
            if field == "state" {
                "invalid_choice"
            } else {
                "not_of_source"
            },
            "{body}"
        );
    }
    // The CMDB is the provider's; clocks, alerts and approvals are the desk's.
    for (who, source) in [
        (&ali, "ci"),
        (&rudi, "sla_clock"),
        (&rudi, "alert"),
        (&rudi, "approval"),
    ] {
        let (s, v) = send(
            &app.http,
            Method::GET,
            &app.api(&format!("/aggregate/{source}")),
            who,
            None,
        )
        .await?;
        assert_eq!(s, StatusCode::FORBIDDEN, "{source}: {v}");
    }
    // A saved report is checked the same way, and nothing is saved.
    let before = get(&app, "/reports", &t).await?;
    for definition in [
        json!({"source": "alert", "group_by": ["priority"]}),
        json!({"source": "ci", "time": "opened_at"}),
        json!({"source": "approval", "state": ["maybe"]}),
        json!({"source": "sla_clock", "queue": "mine"}),
        json!({"source": "sla_clock", "measure": "average", "of": "flap_count"}),
    ] {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api("/reports"),
            &t,
            Some(json!({"name": "Wrong", "definition": definition})),
        )
        .await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{definition}: {v}");
    }
    assert_eq!(get(&app, "/reports", &t).await?, before);
    Ok(())
}
