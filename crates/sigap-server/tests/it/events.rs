//! Event management over HTTP: events folded into alerts by key, the same event sent again
//! making nothing, each bad event refused with its reasons while the rest are kept, an
//! alert opening its incident and clearing it, flapping held until it settles (fake clock),
//! integrations signing in with their secret; and a real Prometheus Alertmanager (Debian's
//! prometheus-alertmanager) whose group becomes one alert per fingerprint and one incident,
//! whose re-sends make nothing, and whose resolution closes and resolves; and the Zabbix
//! media type's script (run by Node.js with Zabbix's objects stood in) sending to Sigap.

use crate::portfolio::{get, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_testkit::{TestApp, both};
use std::time::Duration;

both!(
    events_fold_into_alerts_and_resends_make_nothing,
    bad_events_are_refused_one_by_one,
    an_alert_opens_its_incident_and_clearing_resolves_it,
    flapping_holds_the_incident_until_it_settles,
    integrations_sign_in_with_their_secret_and_only_send,
    a_real_alertmanager_group_becomes_one_incident,
    the_zabbix_media_type_sends_problems_and_recoveries,
    scheduled_changes_hold_alerts_back_and_related_cis_correlate,
    the_console_lists_refreshes_and_works_alerts_in_both_languages,
    an_accepted_event_survives_kill_9,
    a_batch_folds_in_the_order_sent_and_a_thousand_go_at_once,
    rules_drop_transform_bind_and_decide_incidents,
    the_rule_editor_tries_saves_and_refuses_in_both_languages,
);

async fn post_events(
    app: &TestApp,
    token: &str,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    send(
        &app.http,
        Method::POST,
        &app.api("/events"),
        token,
        Some(body),
    )
    .await
}

async fn accepted(app: &TestApp, token: &str, body: Value) -> anyhow::Result<Value> {
    let (s, v) = post_events(app, token, body).await?;
    anyhow::ensure!(s == StatusCode::OK, "{s} {v}");
    Ok(v)
}

fn ev(node: &str, severity: &str, message: &str) -> Value {
    json!({"source": "nagios", "node": node, "type": "disk", "resource": "/var",
           "severity": severity, "message": message})
}

async fn alerts(app: &TestApp, query: &str) -> anyhow::Result<Vec<Value>> {
    let v = get(app, &format!("/alerts{query}"), &app.admin_token).await?;
    Ok(v["items"].as_array().cloned().unwrap_or_default())
}

async fn events_fold_into_alerts_and_resends_make_nothing(app: TestApp) -> anyhow::Result<()> {
    let t = app.admin_token.clone();
    let at = "2026-12-04T09:00:00Z";
    let mut first = ev("db01", "warning", "Disk 80% full");
    first["time"] = json!(at);
    let v = accepted(&app, &t, first.clone()).await?;
    assert_eq!(v["accepted"], 1, "{v}");
    assert_eq!(v["results"][0]["outcome"], "opened", "{v}");
    let number = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(number.starts_with("ALT"), "{number}");

    // The same key later, worse: the same alert, counted, its severity now.
    let mut second = ev("db01", "minor", "Disk 90% full");
    second["time"] = json!("2026-12-04T09:05:00Z");
    let v = accepted(&app, &t, json!({"events": [second.clone()]})).await?;
    assert_eq!(v["results"][0]["alert"], number.as_str());
    assert_eq!(v["results"][0]["outcome"], "updated");

    // Sent again (a batch of both, as a sender retrying does): nothing new.
    let v = accepted(&app, &t, json!([first, second])).await?;
    assert_eq!(
        (v["accepted"].clone(), v["duplicates"].clone()),
        (json!(0), json!(2)),
        "{v}"
    );
    assert_eq!(v["results"][1]["status"], "duplicate");
    assert_eq!(v["results"][1]["alert"], number.as_str());

    let d = get(&app, &format!("/alerts/{number}"), &t).await?;
    assert_eq!(d["event_count"], 2, "{d}");
    assert_eq!(d["severity"], "minor");
    assert_eq!(d["worst"], "minor");
    assert_eq!(d["message"], "Disk 90% full");
    assert_eq!(d["state"], "open");
    assert_eq!(d["events"].as_array().map(Vec::len), Some(2));
    assert_eq!(d["key"], "nagios | db01 | disk | /var | ");
    // Warnings and minors open no incident (the threshold is major).
    assert_eq!(d["incident"], Value::Null);

    // Another node is another alert; a message key of the sender's own folds by it.
    let v = accepted(
        &app,
        &t,
        json!([ev("db02", "warning", "Disk 80% full"),
               {"source": "nagios", "node": "web01", "severity": "info", "message": "a",
                "message_key": "web-1"},
               {"source": "nagios", "node": "web02", "severity": "info", "message": "b",
                "message_key": "web-1"}]),
    )
    .await?;
    assert_eq!(v["results"][1]["alert"], v["results"][2]["alert"], "{v}");
    assert_eq!(alerts(&app, "").await?.len(), 3);
    // The console filters by severity and node.
    assert_eq!(alerts(&app, "?severity=minor").await?.len(), 1);
    assert_eq!(alerts(&app, "?node=db02").await?.len(), 1);
    let (s, v) = send(
        &app.http,
        Method::GET,
        &app.api("/alerts?state=gone"),
        &t,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // Pages by cursor.
    let page = get(&app, "/alerts?limit=2", &t).await?;
    let cursor = page["next_cursor"].as_str().unwrap_or_default().to_owned();
    let rest = get(&app, &format!("/alerts?limit=2&cursor={cursor}"), &t).await?;
    assert_eq!(rest["items"].as_array().map(Vec::len), Some(1), "{rest}");
    Ok(())
}

async fn bad_events_are_refused_one_by_one(app: TestApp) -> anyhow::Result<()> {
    let t = app.admin_token.clone();
    let (s, v) = post_events(
        &app,
        &t,
        json!([
            ev("db01", "major", "good"),
            {"node": "db01", "severity": "major"},
            {"source": "s", "node": "db01", "severity": "catastrophic"},
            {"source": 5, "node": ["x"], "severity": "major", "additional": "no"},
            {"source": "s", "node": "n", "severity": "info", "time": "soon", "colour": "red"},
            "not an event",
            ev("db02", "info", "also good"),
        ]),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["accepted"].clone(), v["rejected"].clone()),
        (json!(2), json!(5)),
        "{v}"
    );
    let fields = |i: usize| -> Vec<(String, String)> {
        v["results"][i]["errors"]
            .as_array()
            .map(|l| {
                l.iter()
                    .map(|e| {
                        (
                            e["field"].as_str().unwrap_or_default().to_owned(),
                            e["code"].as_str().unwrap_or_default().to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    assert_eq!(v["results"][0]["status"], "accepted");
    assert_eq!(fields(1), vec![("source".into(), "required".into())]);
    assert_eq!(
        fields(2),
        vec![("severity".into(), "invalid_choice".into())]
    );
    let f3 = fields(3);
    for want in ["source", "node", "additional"] {
        assert!(
            f3.iter().any(|(f, c)| f == want && c == "invalid_type"),
            "{f3:?}"
        );
    }
    let f4 = fields(4);
    assert!(
        f4.contains(&("time".into(), "invalid_format".into())),
        "{f4:?}"
    );
    assert!(
        f4.contains(&("colour".into(), "unknown_field".into())),
        "{f4:?}"
    );
    assert_eq!(fields(5), vec![(String::new(), "invalid_type".into())]);
    assert_eq!(v["results"][6]["status"], "accepted");
    assert_eq!(
        alerts(&app, "").await?.len(),
        2,
        "the valid events were kept"
    );

    // A batch over 1,000 is refused whole; so is what is not JSON, or not events.
    let many: Vec<Value> = (0..1001)
        .map(|i| ev(&format!("n{i}"), "info", "x"))
        .collect();
    let (s, v) = post_events(&app, &t, json!(many)).await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let resp = app
        .http
        .post(app.api("/events"))
        .header("authorization", format!("Bearer {t}"))
        .header("content-type", "application/json")
        .body("{\"source\": ")
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    let (s, _) = post_events(&app, &t, json!(7)).await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = post_events(&app, &t, json!({"events": "x"})).await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(alerts(&app, "").await?.len(), 2, "nothing more was kept");

    // Requesters send no events.
    let (_, requester) = app.person("rina", &["requester"], None).await?;
    let (s, _) = post_events(&app, &requester, ev("db09", "major", "x")).await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    Ok(())
}

async fn an_alert_opens_its_incident_and_clearing_resolves_it(app: TestApp) -> anyhow::Result<()> {
    let t = app.admin_token.clone();
    let v = accepted(&app, &t, ev("db01", "critical", "Database down")).await?;
    let number = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let a = get(&app, &format!("/alerts/{number}"), &t).await?;
    let incident = a["incident"]["display"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(incident.starts_with("INC"), "{a}");
    let i = get(&app, &format!("/incidents/{incident}"), &t).await?;
    assert_eq!(i["short_description"], "Database down");
    assert_eq!(i["contact_type"], "monitoring");
    assert_eq!(i["urgency"], 1, "critical is urgent");
    assert_eq!(i["impact"], 2, "no service known: medium");
    let linked = get(&app, &format!("/incidents/{incident}/alerts"), &t).await?;
    assert_eq!(linked.as_array().map(Vec::len), Some(1));

    // The clear closes the alert and resolves the incident.
    let mut clear = ev("db01", "clear", "");
    clear["time"] = json!(jiff::Timestamp::now().to_string());
    let v = accepted(&app, &t, clear).await?;
    assert_eq!(v["results"][0]["outcome"], "cleared", "{v}");
    let a = get(&app, &format!("/alerts/{number}"), &t).await?;
    assert_eq!(a["state"], "closed");
    let i = get(&app, &format!("/incidents/{incident}"), &t).await?;
    assert_eq!(i["state"], "resolved", "{i}");
    assert_eq!(i["resolution_code"], "cleared_by_monitoring");
    // A clear with nothing going on closes nothing.
    let mut again = ev("db07", "clear", "");
    again["message_key"] = json!("nothing-here");
    let v = accepted(&app, &t, again).await?;
    assert_eq!(v["results"][0]["outcome"], "nothing_to_clear");

    // Resolving an incident by hand acknowledges its alerts.
    let v = accepted(&app, &t, ev("app01", "major", "App slow")).await?;
    let number = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let a = get(&app, &format!("/alerts/{number}"), &t).await?;
    let incident = a["incident"]["display"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{incident}/resolve")),
        &t,
        Some(json!({"resolution_code": "solved_permanently", "resolution_notes": "restarted"})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    let a = get(&app, &format!("/alerts/{number}"), &t).await?;
    assert_eq!(a["state"], "acknowledged", "{a}");

    // An agent opens an incident for a warning by hand, and closes an alert.
    let v = accepted(&app, &t, ev("app02", "warning", "Queue growing")).await?;
    let number = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (s, a) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/alerts/{number}/open_incident")),
        &t,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{a}");
    assert!(
        a["incident"]["display"]
            .as_str()
            .is_some_and(|n| n.starts_with("INC"))
    );
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/alerts/{number}/open_incident")),
        &t,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::CONFLICT, "it has one");
    let (s, a) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/alerts/{number}/close")),
        &t,
        None,
    )
    .await?;
    assert_eq!((s, a["state"].clone()), (StatusCode::OK, json!("closed")));
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/alerts/{number}/explode")),
        &t,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    Ok(())
}

async fn flapping_holds_the_incident_until_it_settles(app: TestApp) -> anyhow::Result<()> {
    let t = app.admin_token.clone();
    let step = |app: &TestApp| app.clock.advance(jiff::SignedDuration::from_secs(30));
    // On, off, on, off: four changes in two minutes (the window is ten, four make it flap).
    let v = accepted(&app, &t, ev("sw01", "warning", "Port 7 down")).await?;
    let number = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    for severity in ["clear", "warning", "clear", "major"] {
        step(&app);
        accepted(&app, &t, ev("sw01", severity, "Port 7 down")).await?;
    }
    let a = get(&app, &format!("/alerts/{number}"), &t).await?;
    assert_eq!(a["state"], "flapping", "{a}");
    assert_eq!(
        a["incident"],
        Value::Null,
        "a flapping alert opens no incident"
    );
    // Still flapping after ten quiet minutes (it settles after fifteen).
    app.clock.advance(jiff::SignedDuration::from_mins(10));
    sigap_core::events::sweep(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let a = get(&app, &format!("/alerts/{number}"), &t).await?;
    assert_eq!(a["state"], "flapping");
    app.clock.advance(jiff::SignedDuration::from_mins(6));
    let settled = sigap_core::events::sweep(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(settled, 1);
    let a = get(&app, &format!("/alerts/{number}"), &t).await?;
    assert_eq!(a["state"], "open", "{a}");
    assert!(
        a["incident"]["display"]
            .as_str()
            .is_some_and(|n| n.starts_with("INC")),
        "settled on a major: its incident opens now: {a}"
    );
    Ok(())
}

async fn integrations_sign_in_with_their_secret_and_only_send(app: TestApp) -> anyhow::Result<()> {
    let t = app.admin_token.clone();
    let (s, made) = send(
        &app.http,
        Method::POST,
        &app.api("/event_integrations"),
        &t,
        Some(json!({"name": "Zabbix", "kind": "zabbix"})),
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let secret = made["secret"].as_str().unwrap_or_default().to_owned();
    assert!(secret.starts_with("sigev_"), "{made}");
    let id = made["id"].as_str().unwrap_or_default().to_owned();
    let v = accepted(&app, &secret, ev("db01", "info", "hello")).await?;
    assert_eq!(v["accepted"], 1);
    let list = get(&app, "/event_integrations", &t).await?;
    assert_eq!(list[0]["name"], "Zabbix");
    assert!(list[0]["secret"].is_null(), "the secret is shown once");
    assert!(list[0]["last_event_at"].is_string(), "{list}");
    // The secret sends events and nothing else.
    let (s, _) = send(
        &app.http,
        Method::GET,
        &app.api("/incidents"),
        &secret,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = send(&app.http, Method::GET, &app.api("/alerts"), &secret, None).await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post_events(&app, "sigev_wrong", ev("db01", "info", "x")).await?;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    // The same name twice is refused; a new secret ends the old one; off is off.
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api("/event_integrations"),
        &t,
        Some(json!({"name": "Zabbix"})),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, changed) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/event_integrations/{id}")),
        &t,
        Some(json!({"new_secret": true})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{changed}");
    let fresh = changed["secret"].as_str().unwrap_or_default().to_owned();
    let (s, _) = post_events(&app, &secret, ev("db01", "info", "x")).await?;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    accepted(&app, &fresh, ev("db01", "info", "again")).await?;
    let (s, _) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/event_integrations/{id}")),
        &t,
        Some(json!({"active": false})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = post_events(&app, &fresh, ev("db01", "info", "y")).await?;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/event_integrations/{id}")),
        &t,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    Ok(())
}

/// Debian's Alertmanager, if installed. CI requires it (SIGAP_REQUIRE_ALERTMANAGER=1).
fn alertmanager_binary() -> anyhow::Result<Option<std::path::PathBuf>> {
    let path = std::path::PathBuf::from(
        std::env::var("SIGAP_ALERTMANAGER")
            .unwrap_or_else(|_| "/usr/bin/prometheus-alertmanager".into()),
    );
    if path.exists() {
        return Ok(Some(path));
    }
    anyhow::ensure!(
        std::env::var("SIGAP_REQUIRE_ALERTMANAGER").ok().as_deref() != Some("1"),
        "SIGAP_REQUIRE_ALERTMANAGER=1 but {} is missing (apt-get install prometheus-alertmanager)",
        path.display()
    );
    eprintln!("prometheus-alertmanager not installed: skipped");
    Ok(None)
}

/// A running Alertmanager, stopped when dropped.
struct Alertmanager {
    child: std::process::Child,
    url: String,
    _dir: tempfile::TempDir,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

async fn start_alertmanager(
    bin: &std::path::Path,
    sigap: &str,
    secret: &str,
) -> anyhow::Result<Alertmanager> {
    let dir = tempfile::tempdir()?;
    let config = format!(
        "route:\n  receiver: sigap\n  group_by: ['alertname']\n  group_wait: 1s\n  \
         group_interval: 1s\n  repeat_interval: 2s\nreceivers:\n  - name: sigap\n    \
         webhook_configs:\n      - url: '{sigap}/api/v1/integrations/alertmanager'\n        \
         send_resolved: true\n        http_config:\n          authorization:\n            \
         credentials: '{secret}'\n"
    );
    let file = dir.path().join("alertmanager.yml");
    std::fs::write(&file, config)?;
    let port = free_port()?;
    let child = std::process::Command::new(bin)
        .arg(format!("--config.file={}", file.display()))
        .arg(format!(
            "--storage.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--cluster.listen-address=")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(dir.path().join("log"))?)
        .spawn()?;
    let am = Alertmanager {
        child,
        url: format!("http://127.0.0.1:{port}"),
        _dir: dir,
    };
    let http = sigap_testkit::client(false)?;
    for _ in 0..100 {
        if let Ok(r) = http.get(format!("{}/-/ready", am.url)).send().await {
            if r.status().is_success() {
                return Ok(am);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("Alertmanager did not start")
}

async fn a_real_alertmanager_group_becomes_one_incident(app: TestApp) -> anyhow::Result<()> {
    let Some(bin) = alertmanager_binary()? else {
        return Ok(());
    };
    let t = app.admin_token.clone();
    let (s, made) = send(
        &app.http,
        Method::POST,
        &app.api("/event_integrations"),
        &t,
        Some(json!({"name": "Alertmanager", "kind": "alertmanager"})),
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let secret = made["secret"].as_str().unwrap_or_default().to_owned();
    let am = start_alertmanager(&bin, &app.url, &secret).await?;
    let http = sigap_testkit::client(false)?;
    let fire = |instance: &str, ends: Option<String>| {
        let mut a = json!({
            "labels": {"alertname": "DiskFull", "instance": format!("{instance}:9100"),
                       "job": "node", "severity": "critical"},
            "annotations": {"summary": format!("Disk full on {instance}")},
            "generatorURL": "http://prometheus.example/graph"
        });
        if let Some(e) = ends {
            a["endsAt"] = json!(e);
        }
        a
    };
    let post = |body: Value| {
        let http = http.clone();
        let url = format!("{}/api/v2/alerts", am.url);
        async move {
            let r = http.post(url).json(&body).send().await?;
            anyhow::ensure!(r.status().is_success(), "Alertmanager: {}", r.status());
            Ok::<_, anyhow::Error>(())
        }
    };
    post(json!([fire("db01", None), fire("db02", None)])).await?;

    // The group: one alert per fingerprint, one incident for both.
    let wait = |what: &'static str, check: fn(&[Value]) -> bool| {
        let app = &app;
        async move {
            for _ in 0..150 {
                let list = alerts(app, "?state=open,acknowledged,flapping,closed").await?;
                if check(&list) {
                    return Ok(list);
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            anyhow::bail!("{what}: not within 15 s")
        }
    };
    let list = wait("two alerts with an incident", |l| {
        l.len() == 2 && l.iter().all(|a| a["incident"]["display"].is_string())
    })
    .await?;
    let incidents: std::collections::BTreeSet<String> = list
        .iter()
        .filter_map(|a| a["incident"]["display"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(incidents.len(), 1, "one incident for the group: {list:?}");
    let incident = incidents.into_iter().next().unwrap_or_default();
    assert!(list.iter().all(|a| a["source"] == "alertmanager"));
    let nodes: std::collections::BTreeSet<&str> =
        list.iter().filter_map(|a| a["node"].as_str()).collect();
    assert_eq!(nodes, ["db01", "db02"].into_iter().collect());

    // Re-sends (every 2 s here) make nothing new.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let again = alerts(&app, "?state=open,acknowledged,flapping,closed").await?;
    assert_eq!(again.len(), 2);
    assert!(again.iter().all(|a| a["event_count"] == 1), "{again:?}");
    let d = get(
        &app,
        &format!("/alerts/{}", list[0]["number"].as_str().unwrap_or_default()),
        &t,
    )
    .await?;
    assert_eq!(d["events"].as_array().map(Vec::len), Some(1), "{d}");

    // Resolved: the alerts close, the incident resolves.
    let now = jiff::Timestamp::now().to_string();
    post(json!([
        fire("db01", Some(now.clone())),
        fire("db02", Some(now))
    ]))
    .await?;
    wait("both alerts closed", |l| {
        l.len() == 2 && l.iter().all(|a| a["state"] == "closed")
    })
    .await?;
    let i = get(&app, &format!("/incidents/{incident}"), &t).await?;
    assert_eq!(i["state"], "resolved", "{i}");
    assert_eq!(i["resolution_code"], "cleared_by_monitoring");
    drop(am);
    Ok(())
}

/// The script of the Zabbix media type shipped in the repository.
fn zabbix_script() -> anyhow::Result<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../integrations/zabbix/sigap_media_type.yaml"
    );
    let yaml = std::fs::read_to_string(path)?;
    let mut lines = yaml.lines().skip_while(|l| l.trim() != "script: |");
    lines.next();
    let script: Vec<&str> = lines
        .take_while(|l| l.is_empty() || l.starts_with("        "))
        .map(|l| l.strip_prefix("        ").unwrap_or(""))
        .collect();
    anyhow::ensure!(script.len() > 20, "no script in {path}");
    Ok(script.join("\n"))
}

/// Runs the media type's script as Zabbix would, with `HttpRequest` and `Zabbix` stood in:
/// what it returned and the request it made (url, headers, body), if any.
fn run_zabbix_script(script: &str, params: &Value) -> anyhow::Result<Value> {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("script.js");
    std::fs::write(&file, script)?;
    let runner = r#"
        const fs = require('fs');
        const script = fs.readFileSync(process.argv[1], 'utf8');
        let sent = null;
        class HttpRequest {
            constructor() { this.headers = []; }
            addHeader(h) { this.headers.push(h); }
            post(url, body) { sent = { url, headers: this.headers, body }; return '{"accepted":1,"rejected":0}'; }
            getStatus() { return 200; }
        }
        const Zabbix = { log() {} };
        const result = new Function('value', 'HttpRequest', 'Zabbix', script)(process.argv[2], HttpRequest, Zabbix);
        console.log(JSON.stringify({ result, sent }));
    "#;
    let out = std::process::Command::new("node")
        .arg("-e")
        .arg(runner)
        .arg(&file)
        .arg(params.to_string())
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "node: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(serde_json::from_slice(&out.stdout)?)
}

async fn the_zabbix_media_type_sends_problems_and_recoveries(app: TestApp) -> anyhow::Result<()> {
    let has_node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_node {
        anyhow::ensure!(
            std::env::var("SIGAP_REQUIRE_BROWSER").ok().as_deref() != Some("1"),
            "node is required (SIGAP_REQUIRE_BROWSER=1)"
        );
        eprintln!("node not installed: skipped");
        return Ok(());
    }
    let t = app.admin_token.clone();
    let (s, made) = send(
        &app.http,
        Method::POST,
        &app.api("/event_integrations"),
        &t,
        Some(json!({"name": "Zabbix", "kind": "zabbix"})),
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    let secret = made["secret"].as_str().unwrap_or_default().to_owned();
    let script = zabbix_script()?;
    let params = |value: &str, update: &str| {
        json!({
            "URL": app.api("/events"), "Secret": secret, "event_id": "4711", "event_source": "0",
            "event_value": value, "event_update_status": update, "event_nseverity": "4",
            "host": "db01", "item_key": "vfs.fs.size[/var,pused]",
            "trigger_name": "Disk /var is almost full", "subject": "Disk /var is almost full",
            "message": "Problem started at 09:00:00\nHost: db01",
        })
    };
    // Sends what the script sent, as Zabbix would.
    let deliver = |ran: Value| {
        let app = &app;
        async move {
            let sent = &ran["sent"];
            let mut req = app.http.post(sent["url"].as_str().unwrap_or_default());
            for h in sent["headers"].as_array().cloned().unwrap_or_default() {
                if let Some((k, v)) = h.as_str().and_then(|h| h.split_once(": ")) {
                    req = req.header(k, v);
                }
            }
            let resp = req
                .body(sent["body"].as_str().unwrap_or_default().to_owned())
                .send()
                .await?;
            anyhow::ensure!(resp.status() == StatusCode::OK, "{}", resp.status());
            Ok::<Value, anyhow::Error>(resp.json().await?)
        }
    };

    let problem = run_zabbix_script(&script, &params("1", "0"))?;
    assert_eq!(problem["result"], "OK");
    let v = deliver(problem).await?;
    assert_eq!(v["results"][0]["outcome"], "opened", "{v}");
    let number = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let a = get(&app, &format!("/alerts/{number}"), &t).await?;
    assert_eq!(
        (a["node"].clone(), a["severity"].clone()),
        (json!("db01"), json!("major"))
    );
    assert_eq!(a["key"], "zabbix:4711");
    assert!(
        a["incident"]["display"].is_string(),
        "a high problem opens an incident: {a}"
    );

    // An acknowledgement sends nothing; the recovery clears the alert.
    let update = run_zabbix_script(&script, &params("1", "1"))?;
    assert_eq!(
        (update["result"].clone(), update["sent"].clone()),
        (json!("OK"), Value::Null)
    );
    let recovery = run_zabbix_script(&script, &params("0", "0"))?;
    let v = deliver(recovery).await?;
    assert_eq!(v["results"][0]["outcome"], "cleared", "{v}");
    let a = get(&app, &format!("/alerts/{number}"), &t).await?;
    assert_eq!(a["state"], "closed");
    Ok(())
}

async fn scheduled_changes_hold_alerts_back_and_related_cis_correlate(
    app: TestApp,
) -> anyhow::Result<()> {
    use crate::changes::{authorized, ok, setup, window};
    let t = app.admin_token.clone();
    // srv-01 and srv-02 connect to core-switch, app-01 runs on srv-01; printer-01 is alone.
    let s = setup(&app).await?;
    let w = window(&app, 1, 2);
    let change = authorized(&app, &s, "Replace srv-02's disks", &["srv-02"], &w).await?;
    ok(&app, &s.andi, &change, "schedule", json!({})).await?;

    // Before the window: an alert on srv-02 opens its incident as any.
    let v = accepted(&app, &t, ev("srv-02", "critical", "srv-02 unreachable")).await?;
    let before = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let a = get(&app, &format!("/alerts/{before}"), &t).await?;
    assert_eq!(a["maintenance"], Value::Null);
    assert!(a["incident"]["display"].is_string(), "{a}");
    assert_eq!(a["ci"]["display"], "srv-02", "bound to the CI by name");
    let mut clear = ev("srv-02", "clear", "");
    clear["time"] = json!(jiff::Timestamp::now().to_string());
    accepted(&app, &t, clear).await?;

    // In the window the change is scheduled for: held back, saying why, no incident.
    app.clock.advance(jiff::SignedDuration::from_mins(90));
    let mut during = ev("srv-02", "critical", "srv-02 unreachable again");
    during["type"] = json!("ping");
    let v = accepted(&app, &t, during).await?;
    let held = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_ne!(held, before, "a new alert: the old one closed long ago");
    let a = get(&app, &format!("/alerts/{held}"), &t).await?;
    assert_eq!(a["maintenance"], format!("change {change}"), "{a}");
    assert_eq!(a["incident"], Value::Null, "held back: no incident");
    // Another CI is not in maintenance.
    let v = accepted(&app, &t, ev("printer-01", "major", "Paper jam")).await?;
    let printer = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let a = get(&app, &format!("/alerts/{printer}"), &t).await?;
    assert_eq!(a["maintenance"], Value::Null);
    let printer_incident = a["incident"]["display"].clone();
    assert!(printer_incident.is_string());

    // Correlation: the switch goes down, then a server on it within five minutes: the
    // server's alert is correlated under the switch's and shares its incident.
    let v = accepted(&app, &t, ev("core-switch", "critical", "Switch down")).await?;
    let switch = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let sw = get(&app, &format!("/alerts/{switch}"), &t).await?;
    let incident = sw["incident"]["display"].clone();
    assert!(incident.is_string(), "{sw}");
    app.clock.advance(jiff::SignedDuration::from_mins(2));
    let v = accepted(&app, &t, ev("srv-01", "critical", "srv-01 unreachable")).await?;
    let server = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let a = get(&app, &format!("/alerts/{server}"), &t).await?;
    assert_eq!(a["parent"]["display"], switch.as_str(), "{a}");
    assert_eq!(a["incident"]["display"], incident, "{a}");
    // Two levels only: the application on srv-01 goes under the switch's alert too.
    let v = accepted(&app, &t, ev("app-01", "major", "App errors")).await?;
    let app_alert = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let a = get(&app, &format!("/alerts/{app_alert}"), &t).await?;
    assert_eq!(a["parent"]["display"], switch.as_str(), "{a}");
    let sw = get(&app, &format!("/alerts/{switch}"), &t).await?;
    assert_eq!(sw["secondaries"].as_array().map(Vec::len), Some(2), "{sw}");
    // The printer, related to nothing, kept its own incident; the console lists primaries.
    assert_ne!(printer_incident, incident);
    let primaries = alerts(&app, "?primaries=true").await?;
    assert!(primaries.iter().all(|p| p["parent"].is_null()));
    // Later than the window, a related CI's alert is its own.
    app.clock.advance(jiff::SignedDuration::from_mins(10));
    let v = accepted(&app, &t, ev("srv-02", "warning", "Fan speed")).await?;
    let late = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let a = get(&app, &format!("/alerts/{late}"), &t).await?;
    assert_eq!(a["parent"], Value::Null, "{a}");
    Ok(())
}

async fn the_console_lists_refreshes_and_works_alerts_in_both_languages(
    app: TestApp,
) -> anyhow::Result<()> {
    use crate::ui::submit;
    let t = app.admin_token.clone();
    let v = accepted(
        &app,
        &t,
        json!([
            ev("db01", "critical", "Database <down>"),
            ev("web01", "warning", "Slow pages")
        ]),
    )
    .await?;
    let critical = v["results"][0]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let warning = v["results"][1]["alert"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (_, requester) = app.person("rina", &["requester"], None).await?;
    let _ = requester;
    let agent = app.browser("admin", sigap_testkit::ADMIN_PASSWORD).await?;
    let get_page = |path: String| {
        let agent = agent.clone();
        let url = app.page(&path);
        async move {
            let resp = agent.get(url).send().await?;
            let status = resp.status().as_u16();
            Ok::<_, anyhow::Error>((status, resp.text().await?))
        }
    };
    for (lang, words) in [
        ("en", ["Alerts", "Critical", "Acknowledge"]),
        ("id", ["Peringatan", "Kritis", "Akui"]),
    ] {
        let resp = agent
            .post(app.page("/language"))
            .header("origin", &app.url)
            .form(&[("lang", lang), ("back", "/")])
            .send()
            .await?;
        assert_eq!(resp.status(), 303);
        let (status, html) = get_page("/alerts".into()).await?;
        assert_eq!(status, 200, "{html}");
        assert!(
            html.contains(words[0]) && html.contains(words[1]),
            "{lang}: {html}"
        );
        assert!(
            html.contains("data-refresh=\"/alerts?"),
            "the list refreshes itself"
        );
        assert!(html.contains(&format!("id=\"alert-{critical}\"")));
        assert!(
            html.contains("Database &lt;down&gt;") || html.contains("Database &#60;down&#62;"),
            "escaped: {}",
            html.split("Database")
                .nth(1)
                .unwrap_or_default()
                .chars()
                .take(40)
                .collect::<String>()
        );
        assert!(!html.contains("Database <down>"));
        let (status, html) = get_page(format!("/alerts/{critical}")).await?;
        assert_eq!(status, 200, "{html}");
        assert!(html.contains(words[2]), "{lang}: {html}");
        assert!(html.contains("id=\"alert-events\""));
    }
    // The fragment alone: the list, not the page.
    let (status, html) = get_page("/alerts?severity=warning&fragment=1".into()).await?;
    assert_eq!(status, 200);
    assert!(!html.contains("<html"), "{html}");
    assert!(html.contains(&format!("id=\"alert-{warning}\"")));
    assert!(
        !html.contains(&format!("id=\"alert-{critical}\"")),
        "filtered"
    );

    // Acknowledge and close from the alert's page.
    let (status, location, _) =
        submit(&app, &agent, &format!("/alerts/{warning}/acknowledge"), &[]).await?;
    assert_eq!(
        (status, location.starts_with(&format!("/alerts/{warning}"))),
        (303, true)
    );
    let (_, html) = get_page(format!("/alerts/{warning}")).await?;
    assert!(html.contains("data-state=\"acknowledged\""), "{html}");
    submit(&app, &agent, &format!("/alerts/{warning}/close"), &[]).await?;
    let (_, html) = get_page(format!("/alerts/{warning}")).await?;
    assert!(html.contains("data-state=\"closed\""));
    // Closed twice: refused, the page says why.
    let (status, _, _) = submit(&app, &agent, &format!("/alerts/{warning}/close"), &[]).await?;
    assert_eq!(status, 409);
    // Requesters do not see the console.
    let rina = app.browser("rina", "rina-password-1").await?;
    let status = rina
        .get(app.page("/alerts"))
        .send()
        .await?
        .status()
        .as_u16();
    assert_eq!(status, 403);
    let (status, _) = get_page("/alerts/ALT9999999".into()).await?;
    assert_eq!(status, 404);
    Ok(())
}

/// Every node of an alert, paging through the console's list (closed ones too).
async fn alert_nodes(app: &TestApp) -> anyhow::Result<std::collections::BTreeSet<String>> {
    let mut out = std::collections::BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let v = get(
            app,
            &format!("/alerts?state=open,acknowledged,flapping,closed&limit=500{cursor}"),
            &app.admin_token,
        )
        .await?;
        for a in v["items"].as_array().into_iter().flatten() {
            out.insert(a["node"].as_str().unwrap_or_default().to_owned());
        }
        match v["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return Ok(out),
        }
    }
}

async fn an_accepted_event_survives_kill_9(app: TestApp) -> anyhow::Result<()> {
    // A second node on the same database, killed with SIGKILL while two clients load it.
    let port = free_port()?;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sigap"))
        .args(["serve", "--database-url", &app.db.url])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("SIGAP_WORKER", "false")
        .env("SIGAP_LOG", "error")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let node_url = format!("http://127.0.0.1:{port}");
    let http = sigap_testkit::client(false)?;
    let mut up = false;
    for _ in 0..200 {
        if let Ok(r) = http.get(format!("{node_url}/healthz")).send().await {
            if r.status().is_success() {
                up = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::ensure!(up, "the second node did not start");
    let acknowledged = std::sync::Arc::new(tokio::sync::Mutex::new(Vec::<String>::new()));
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut clients = Vec::new();
    for c in 0..2 {
        let (http, url, token) = (http.clone(), node_url.clone(), app.admin_token.clone());
        let (acknowledged, sent) = (acknowledged.clone(), sent.clone());
        clients.push(tokio::spawn(async move {
            for b in 0..10_000 {
                let nodes: Vec<String> = (0..50).map(|i| format!("k{c}-{b}-{i}")).collect();
                let body: Vec<Value> = nodes
                    .iter()
                    .map(|n| json!({"source": "kill", "node": n, "severity": "info", "message": "x"}))
                    .collect();
                sent.fetch_add(nodes.len(), std::sync::atomic::Ordering::SeqCst);
                let resp = http
                    .post(format!("{url}/api/v1/events"))
                    .header("authorization", format!("Bearer {token}"))
                    .json(&body)
                    .send()
                    .await;
                // The node is gone: what it answered before is what counts.
                let Ok(resp) = resp else { return };
                if resp.status() != StatusCode::OK {
                    continue;
                }
                let Ok(v) = resp.json::<Value>().await else { return };
                if v["accepted"] == 50 {
                    acknowledged.lock().await.extend(nodes);
                }
            }
        }));
    }
    // Kill it in the middle of the load.
    for _ in 0..300 {
        if acknowledged.lock().await.len() >= 500 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill()?;
    child.wait()?;
    for c in clients {
        c.await?;
    }
    let acknowledged = acknowledged.lock().await.clone();
    anyhow::ensure!(
        acknowledged.len() >= 500,
        "too little was sent before the kill"
    );
    let sent = sent.load(std::sync::atomic::Ordering::SeqCst);
    anyhow::ensure!(
        sent > acknowledged.len(),
        "the load finished before the kill"
    );
    // Every event the killed node said it accepted is kept; nothing beyond what was sent.
    let kept = alert_nodes(&app).await?;
    let missing: Vec<&String> = acknowledged.iter().filter(|n| !kept.contains(*n)).collect();
    assert!(
        missing.is_empty(),
        "{} accepted events lost: {:?}",
        missing.len(),
        &missing[..missing.len().min(5)]
    );
    assert!(kept.len() <= sent, "{} kept of {sent} sent", kept.len());
    Ok(())
}

/// A batch is folded in the order sent, as if its events came one by one: a key that fires,
/// clears and fires again in one batch reopens its alert; the same event twice in a batch is
/// one event; a thousand events on a thousand alerts go in one request, and the same
/// thousand again make nothing, with each duplicate naming its alert.
async fn a_batch_folds_in_the_order_sent_and_a_thousand_go_at_once(
    app: TestApp,
) -> anyhow::Result<()> {
    let t = app.admin_token.clone();
    let at = |m: u32| format!("2026-12-04T09:{m:02}:00Z");
    // No times given: each is the time received, the same for the whole batch (and near
    // enough for the alert that clears to reopen).
    let fire = ev("app01", "warning", "queue long");
    let clear = ev("app01", "clear", "queue short");
    let again = ev("app01", "minor", "queue long again");
    let lone_clear = ev("app02", "clear", "nothing was wrong");
    let v = accepted(
        &app,
        &t,
        json!([fire.clone(), clear, fire, again, lone_clear]),
    )
    .await?;
    let r = &v["results"];
    assert_eq!(r[0]["outcome"], "opened", "{v}");
    assert_eq!(r[1]["outcome"], "cleared", "{v}");
    // The same event as the first, within the batch: one event, of the first's alert.
    assert_eq!(r[2]["status"], "duplicate", "{v}");
    assert_eq!(r[2]["alert"], r[0]["alert"], "{v}");
    // Firing again a moment after it cleared: the alert reopens, it is not a new one.
    assert_eq!(r[3]["outcome"], "updated", "{v}");
    assert_eq!(r[3]["alert"], r[0]["alert"], "{v}");
    assert_eq!(r[4]["outcome"], "nothing_to_clear", "{v}");
    assert_eq!(
        (v["accepted"].clone(), v["duplicates"].clone()),
        (json!(4), json!(1))
    );
    let number = r[0]["alert"].as_str().unwrap_or_default().to_owned();
    let d = get(&app, &format!("/alerts/{number}"), &t).await?;
    assert_eq!(d["state"], "open", "{d}");
    assert_eq!(d["event_count"], 3, "{d}");
    assert_eq!(d["severity"], "minor", "{d}");
    assert_eq!(d["message"], "queue long again", "{d}");
    // Its events, newest first: each names the one before it of its alert (not the lone
    // clear's, which has no alert).
    let messages: Vec<&str> = d["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["message"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        messages,
        ["queue long again", "queue short", "queue long"],
        "{d}"
    );

    // A thousand events on a thousand alerts, then the same thousand again.
    let batch: Vec<Value> = (0..1000)
        .map(|i| {
            json!({"source": "bench", "node": format!("node-{i:04}"), "type": "cpu",
                   "severity": "warning", "message": "CPU above 90%", "time": at(10)})
        })
        .collect();
    let v = accepted(&app, &t, Value::Array(batch.clone())).await?;
    assert_eq!(v["accepted"], 1000, "{}", v["accepted"]);
    let numbers: std::collections::HashSet<&str> = v["results"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["alert"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(numbers.len(), 1000);
    let again = accepted(&app, &t, Value::Array(batch.clone())).await?;
    assert_eq!(again["duplicates"], 1000, "{}", again["duplicates"]);
    assert_eq!(again["results"][999]["alert"], v["results"][999]["alert"]);
    // A second later, every alert fires again: a thousand updates, no new alert.
    let later: Vec<Value> = batch
        .into_iter()
        .map(|mut e| {
            e["time"] = json!(at(11));
            e
        })
        .collect();
    let v = accepted(&app, &t, Value::Array(later)).await?;
    assert_eq!(v["accepted"], 1000);
    let updated = v["results"]
        .as_array()
        .map(|a| a.iter().filter(|r| r["outcome"] == "updated").count())
        .unwrap_or_default();
    assert_eq!(updated, 1000);
    let d = get(
        &app,
        &format!(
            "/alerts/{}",
            v["results"][500]["alert"].as_str().unwrap_or_default()
        ),
        &t,
    )
    .await?;
    assert_eq!(d["event_count"], 2, "{d}");
    let times: Vec<&str> = d["events"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["time"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        times,
        ["2026-12-04T09:11:00Z", "2026-12-04T09:10:00Z"],
        "{d}"
    );
    Ok(())
}

async fn rule(app: &TestApp, token: &str, body: Value) -> anyhow::Result<Value> {
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/event_rules"),
        token,
        Some(body),
    )
    .await?;
    anyhow::ensure!(s == StatusCode::CREATED, "{s} {v}");
    Ok(v)
}

/// The rules, in their order: an ignore rule drops what it matches (kept, as dropped, opening
/// nothing); a transform rule sets fields from templates; a bind rule binds the alert to the
/// CI whose serial is the event's (no CI, and none made, when none is); an incident rule
/// opens incidents below the policy's threshold for what it matches, and only when impact
/// analysis finds a service; the incident's impact is that of the most critical service
/// affected through the CMDB. Bad rules are refused field by field, agents may not write
/// them, and a rule is tried on the recent events before it is saved.
async fn rules_drop_transform_bind_and_decide_incidents(app: TestApp) -> anyhow::Result<()> {
    use crate::changes::setup;
    let t = app.admin_token.clone();
    // srv-01 and srv-02 connect to core-switch; app-01 runs on srv-01 and delivers Shop.
    let s = setup(&app).await?;
    let svc = crate::portfolio::post(
        &app,
        "/services",
        &s.andi,
        json!({"name": "Shop", "criticality": 1}),
    )
    .await?;
    let sid = svc["id"].as_str().unwrap_or_default().to_owned();
    crate::portfolio::post(
        &app,
        &format!("/services/{sid}/configuration_items"),
        &s.andi,
        json!({"configuration_item": s.ci["app-01"]}),
    )
    .await?;
    let ci_id = s.ci["printer-01"].clone();
    let (st, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/configuration_items/{ci_id}")),
        &s.andi,
        Some(json!({"serial": "SN-777"})),
    )
    .await?;
    anyhow::ensure!(st == StatusCode::OK, "{st} {v}");

    let dropper = rule(
        &app,
        &t,
        json!({"name": "Test hosts", "kind": "ignore",
               "conditions": [{"field": "node", "op": "starts_with", "value": "test-"}]}),
    )
    .await?;
    rule(
        &app,
        &t,
        json!({"name": "Production by host", "kind": "transform",
               "conditions": [{"field": "additional.env", "op": "equals", "value": "prod"}],
               "set": {"node": "{additional.host}", "message": "[prod] {message}"}}),
    )
    .await?;
    rule(
        &app,
        &t,
        json!({"name": "Printers by serial", "kind": "bind",
               "conditions": [{"field": "source", "op": "equals", "value": "printmon"}],
               "ci_attribute": "serial", "from": "additional.serial"}),
    )
    .await?;
    rule(
        &app,
        &t,
        json!({"name": "Servers from minor, with a service", "kind": "incident",
               "conditions": [{"field": "node", "op": "matches", "value": "^srv-\\d+$"}],
               "threshold": "minor", "only_with_service": true}),
    )
    .await?;
    let list = get(&app, "/event_rules", &t).await?;
    let positions: Vec<i64> = list
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["position"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(positions, [10, 20, 30, 40], "{list}");

    let v = accepted(
        &app,
        &t,
        json!([
            {"source": "nagios", "node": "test-07", "severity": "critical", "message": "x"},
            {"source": "nagios", "node": "10.0.0.9", "severity": "minor", "message": "slow",
             "additional": {"env": "prod", "host": "srv-01"}},
            {"source": "nagios", "node": "srv-02", "severity": "minor", "message": "slow too"},
            {"source": "printmon", "node": "PRN-A", "severity": "major", "message": "jam",
             "additional": {"serial": "SN-777"}},
            {"source": "printmon", "node": "printer-01", "severity": "major", "message": "toner",
             "additional": {"serial": "SN-000"}}
        ]),
    )
    .await?;
    let r = &v["results"];
    assert_eq!(
        (
            r[0]["outcome"].clone(),
            r[0]["rule"].clone(),
            r[0]["alert"].clone()
        ),
        (json!("dropped"), json!("Test hosts"), Value::Null),
        "{v}"
    );
    assert_eq!(v["accepted"], 5, "a dropped event is kept: {v}");
    // Transformed: on srv-01, which affects Shop: a minor opens an incident, of high impact.
    let a = get(
        &app,
        &format!("/alerts/{}", r[1]["alert"].as_str().unwrap_or_default()),
        &t,
    )
    .await?;
    assert_eq!(
        (a["node"].clone(), a["message"].clone()),
        (json!("srv-01"), json!("[prod] slow")),
        "{a}"
    );
    assert_eq!(a["ci"]["display"], "srv-01", "{a}");
    let inc = a["incident"]["display"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    anyhow::ensure!(
        !inc.is_empty(),
        "a minor on a server with a service opens one: {a}"
    );
    let i = get(&app, &format!("/incidents/{inc}"), &t).await?;
    assert_eq!(
        (i["impact"].clone(), i["urgency"].clone()),
        (json!(1), json!(2)),
        "{i}"
    );
    // srv-02 affects no service: the rule's only_with_service holds the minor back.
    let a = get(
        &app,
        &format!("/alerts/{}", r[2]["alert"].as_str().unwrap_or_default()),
        &t,
    )
    .await?;
    assert_eq!(a["incident"], Value::Null, "{a}");
    // Bound by serial to printer-01, whatever its node says; no match: no CI, none made.
    let a = get(
        &app,
        &format!("/alerts/{}", r[3]["alert"].as_str().unwrap_or_default()),
        &t,
    )
    .await?;
    assert_eq!(a["ci"]["display"], "printer-01", "{a}");
    let a = get(
        &app,
        &format!("/alerts/{}", r[4]["alert"].as_str().unwrap_or_default()),
        &t,
    )
    .await?;
    assert_eq!(a["ci"], Value::Null, "{a}");
    let cis = get(&app, "/configuration_items?limit=100", &t).await?;
    assert_eq!(cis["items"].as_array().map(Vec::len), Some(5), "{cis}");
    let d = get(
        &app,
        &format!(
            "/event_rules/{}",
            dropper["id"].as_str().unwrap_or_default()
        ),
        &t,
    )
    .await?;
    assert_eq!(d["hits"], 1, "{d}");

    // Tried on the recent events before saving: what it would match and do.
    let (st, tried) = send(
        &app.http,
        Method::POST,
        &app.api("/event_rules/try?limit=50"),
        &t,
        Some(json!({"kind": "transform",
                    "conditions": [{"field": "source", "op": "equals", "value": "printmon"}],
                    "set": {"severity": "warning"}})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{tried}");
    assert_eq!(
        (tried["tried"].clone(), tried["matched"].clone()),
        (json!(5), json!(2)),
        "{tried}"
    );
    let set = tried["results"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["matched"] == true))
        .map(|r| r["detail"].clone())
        .unwrap_or_default();
    assert_eq!(set, json!({"severity": "warning"}), "{tried}");

    // Bad rules: each field named, nothing written.
    let (st, bad) = send(
        &app.http,
        Method::POST,
        &app.api("/event_rules"),
        &t,
        Some(json!({"name": "Bad", "kind": "transform",
                    "conditions": [{"field": "colour", "op": "equals", "value": "x"},
                                   {"field": "node", "op": "matches", "value": "(["}],
                    "set": {"node": "{nope}"}})),
    )
    .await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    let fields: Vec<&str> = bad["errors"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(
        fields,
        ["conditions[0].field", "conditions[1].value", "set.node"],
        "{bad}"
    );
    for body in [
        json!({"name": "No kind"}),
        json!({"name": "Bad kind", "kind": "explode"}),
        json!({"name": "Test hosts", "kind": "ignore"}),
        json!({"name": "x".repeat(101), "kind": "ignore"}),
        json!({"name": "Wrong type", "kind": "ignore", "position": "first"}),
    ] {
        let (st, v) = send(
            &app.http,
            Method::POST,
            &app.api("/event_rules"),
            &t,
            Some(body),
        )
        .await?;
        assert!(
            st == StatusCode::UNPROCESSABLE_ENTITY || st == StatusCode::BAD_REQUEST,
            "{st} {v}"
        );
    }
    let (st, _) = send(
        &app.http,
        Method::POST,
        &app.api("/event_rules"),
        &s.andi,
        Some(json!({"name": "Agent's", "kind": "ignore"})),
    )
    .await?;
    assert_eq!(st, StatusCode::FORBIDDEN);
    assert_eq!(
        get(&app, "/event_rules", &t)
            .await?
            .as_array()
            .map(Vec::len),
        Some(4)
    );

    // A change: turned off, the dropped node goes through; a stale version is refused.
    let id = dropper["id"].as_str().unwrap_or_default().to_owned();
    let (st, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/event_rules/{id}")),
        &t,
        Some(json!({"active": false, "version": 1})),
    )
    .await?;
    assert_eq!(
        (st, v["active"].clone(), v["version"].clone()),
        (StatusCode::OK, json!(false), json!(2)),
        "{v}"
    );
    let (st, _) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/event_rules/{id}")),
        &t,
        Some(json!({"active": true, "version": 1})),
    )
    .await?;
    assert_eq!(st, StatusCode::PRECONDITION_FAILED);
    // A wrong body is said so before its version is weighed.
    let (st, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/event_rules/{id}")),
        &t,
        Some(json!({"position": -1, "version": 1})),
    )
    .await?;
    assert_eq!(
        (st, v["errors"][0]["field"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!("position")),
        "{v}"
    );
    let v = accepted(
        &app,
        &t,
        json!({"source": "nagios", "node": "test-07", "severity": "warning", "message": "y"}),
    )
    .await?;
    assert_eq!(v["results"][0]["outcome"], "opened", "{v}");
    let (st, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/event_rules/{id}")),
        &t,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&app, "/event_rules", &t)
            .await?
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    Ok(())
}

/// The rule editor: a rule tried on the recent events shows what it would do, saved it is
/// listed with what it matched; a bad one is shown again with its errors, and nothing is
/// saved; the pages speak English and Bahasa Indonesia.
async fn the_rule_editor_tries_saves_and_refuses_in_both_languages(
    app: TestApp,
) -> anyhow::Result<()> {
    use crate::ui::submit;
    let t = app.admin_token.clone();
    accepted(
        &app,
        &t,
        json!([ev("test-01", "minor", "noise"), ev("db01", "major", "real")]),
    )
    .await?;
    let admin = app.browser("admin", sigap_testkit::ADMIN_PASSWORD).await?;
    let page = |path: &str| {
        let admin = admin.clone();
        let url = app.page(path);
        async move {
            let resp = admin.get(url).send().await?;
            let status = resp.status().as_u16();
            Ok::<_, anyhow::Error>((status, resp.text().await?))
        }
    };
    let (status, html) = page("/alerts/rules").await?;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("No event rules."), "{html}");
    let (status, html) = page("/alerts/rules/new").await?;
    assert_eq!(status, 200, "{html}");
    let form = [
        ("name", "Test hosts"),
        ("kind", "ignore"),
        ("position", ""),
        ("active", "1"),
        ("description", ""),
        ("cond_field_0", "node"),
        ("cond_op_0", "starts_with"),
        ("cond_value_0", "TEST-"),
        ("cond_field_1", ""),
        ("cond_op_1", "equals"),
        ("cond_value_1", ""),
    ];
    let mut tried = form.to_vec();
    tried.push(("do", "try"));
    let (status, _, html) = submit(&app, &admin, "/alerts/rules/new", &tried).await?;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("2 recent events tried: one matches."),
        "{html}"
    );
    assert!(html.contains("Dropped"), "{html}");
    assert_eq!(
        get(&app, "/event_rules", &t)
            .await?
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    // A bad expression: shown again with the reason, nothing saved.
    let mut bad = form.to_vec();
    bad[6] = ("cond_op_0", "matches");
    bad[7] = ("cond_value_0", "([");
    bad.push(("do", "save"));
    let (status, _, html) = submit(&app, &admin, "/alerts/rules/new", &bad).await?;
    assert_eq!(status, 422, "{html}");
    assert!(
        html.contains("not a regular expression (unclosed character class)"),
        "{html}"
    );
    assert!(html.contains("value=\"([\""), "kept as typed: {html}");
    assert_eq!(
        get(&app, "/event_rules", &t)
            .await?
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    let mut save = form.to_vec();
    save.push(("do", "save"));
    let (status, location, _) = submit(&app, &admin, "/alerts/rules/new", &save).await?;
    assert_eq!(
        (status, location.as_str()),
        (303, "/alerts/rules?notice=alert-rule-saved")
    );
    accepted(&app, &t, ev("test-02", "minor", "more noise")).await?;
    let (_, html) = page("/alerts/rules").await?;
    assert!(
        html.contains("Test hosts") && html.contains("node starts_with TEST-"),
        "{html}"
    );
    let rules = get(&app, "/event_rules", &t).await?;
    assert_eq!(rules[0]["hits"], 1, "{rules}");
    let id = rules[0]["id"].as_str().unwrap_or_default().to_owned();
    let (status, html) = page(&format!("/alerts/rules/{id}")).await?;
    assert_eq!(status, 200);
    assert!(html.contains("Matched once."), "{html}");
    let resp = admin
        .post(app.page("/language"))
        .header("origin", &app.url)
        .form(&[("lang", "id"), ("back", "/")])
        .send()
        .await?;
    assert_eq!(resp.status(), 303);
    let (_, html) = page("/alerts/rules").await?;
    assert!(
        html.contains("Aturan event") && html.contains("Abaikan"),
        "{html}"
    );
    let (status, location, _) =
        submit(&app, &admin, &format!("/alerts/rules/{id}/delete"), &[]).await?;
    assert_eq!(
        (status, location.as_str()),
        (303, "/alerts/rules?notice=alert-rule-deleted")
    );
    assert_eq!(
        get(&app, "/event_rules", &t)
            .await?
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    Ok(())
}
