//! Maintenance windows set by hand, over HTTP: a window on a CI or a node holds a new alert
//! of it back (the alert says why and opens no incident), one ended or to come does not;
//! bad input is refused with 422 and changes nothing; only managers of the provider set,
//! end and remove windows; the page beside the console lists, sets and ends them in both
//! languages. And overload: with one request of events taken in at once, concurrent batches
//! beyond it are answered 429 with `Retry-After`, and exactly the events of the accepted ones
//! are kept.

use crate::helpers::{bearer, problem, snapshot};
use crate::portfolio::{get, post, send};
use crate::ui::submit;
use jiff::{SignedDuration, Timestamp};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_testkit::{Backend, TestApp, both};

both!(
    a_window_on_a_ci_or_node_holds_its_alerts_back,
    bad_windows_are_refused_and_change_nothing,
    only_managers_of_the_provider_set_windows,
    the_page_lists_sets_and_ends_windows_in_both_languages,
);

const WINDOWS: &str = "/event_maintenance_windows";

/// A refused body: what it is, the body, and the fields in error with their codes.
type Case<'a> = (&'a str, Value, Vec<(&'a str, &'a str)>);

fn at(app: &TestApp, mins: i64) -> String {
    app.core
        .now()
        .checked_add(SignedDuration::from_mins(mins))
        .unwrap_or(Timestamp::MAX)
        .to_string()
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

async fn ci(app: &TestApp, class: &str, name: &str) -> anyhow::Result<String> {
    let c = post(
        app,
        "/configuration_items",
        &app.admin_token,
        json!({"class": class, "name": name}),
    )
    .await?;
    Ok(text(&c["id"]))
}

async fn set_window(
    app: &TestApp,
    token: &str,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    send(
        &app.http,
        Method::POST,
        &app.api(WINDOWS),
        token,
        Some(body),
    )
    .await
}

/// An event on `node`, and the alert it went to as the API shows it.
async fn alert_of(app: &TestApp, node: &str, kind: &str, message: &str) -> anyhow::Result<Value> {
    let t = &app.admin_token;
    let v = post(
        app,
        "/events",
        t,
        json!({"source": "nagios", "node": node, "type": kind, "severity": "critical",
               "message": message}),
    )
    .await?;
    let number = text(&v["results"][0]["alert"]);
    anyhow::ensure!(number.starts_with("ALT"), "no alert: {v}");
    get(app, &format!("/alerts/{number}"), t).await
}

async fn a_window_on_a_ci_or_node_holds_its_alerts_back(app: TestApp) -> anyhow::Result<()> {
    let t = app.admin_token.clone();
    let db01 = ci(&app, "server", "db-01").await?;
    ci(&app, "server", "db-02").await?;
    ci(&app, "server", "db-03").await?;
    let audit_before = snapshot(&app).await?.audit_head;

    // A window on db-01 by its name, going on now.
    let (s, w) = set_window(
        &app,
        &t,
        json!({"configuration_item": "db-01", "starts_at": at(&app, -5), "ends_at": at(&app, 60),
               "reason": "Replacing db-01's disks"}),
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED, "{w}");
    assert_eq!(w["configuration_item"]["id"], db01.as_str(), "{w}");
    assert_eq!(w["configuration_item"]["display"], "db-01");
    assert_eq!(w["state"], "in_progress");
    assert_eq!(w["created_by"]["display"], "Administrator", "{w}");
    let on_ci = text(&w["id"]);
    assert_eq!(
        get(&app, &format!("{WINDOWS}/{on_ci}"), &t).await?["reason"],
        "Replacing db-01's disks"
    );
    assert_eq!(
        snapshot(&app).await?.audit_head,
        audit_before + 1,
        "audited"
    );

    // A new critical alert on it is held back: it says why and opens no incident.
    let a = alert_of(&app, "db-01", "ping", "db-01 unreachable").await?;
    assert_eq!(a["maintenance"], "Replacing db-01's disks", "{a}");
    assert_eq!(a["incident"], Value::Null, "held back: no incident");
    assert_eq!(a["ci"]["display"], "db-01");

    // A window on a node only (any case), by a CI's class/name, and one to come.
    let (s, w) = set_window(
        &app,
        &t,
        json!({"node": "Web-07", "starts_at": at(&app, 0), "ends_at": at(&app, 30),
               "reason": "Kernel update"}),
    )
    .await?;
    assert_eq!(
        (s, w["node"].clone()),
        (StatusCode::CREATED, json!("web-07")),
        "{w}"
    );
    let a = alert_of(&app, "web-07", "http", "web-07 down").await?;
    assert_eq!(a["maintenance"], "Kernel update", "{a}");
    assert_eq!(a["incident"], Value::Null);
    let (s, w) = set_window(
        &app,
        &t,
        json!({"configuration_item": "server/db-03", "starts_at": at(&app, 120),
               "ends_at": at(&app, 180), "reason": "Later"}),
    )
    .await?;
    assert_eq!(
        (s, w["state"].clone()),
        (StatusCode::CREATED, json!("upcoming")),
        "{w}"
    );
    let later = text(&w["id"]);
    let a = alert_of(&app, "db-03", "ping", "db-03 unreachable").await?;
    assert_eq!(
        a["maintenance"],
        Value::Null,
        "a window to come holds nothing back"
    );
    assert!(a["incident"]["display"].is_string(), "{a}");

    // A window ended by hand holds nothing back.
    let (s, w) = set_window(
        &app,
        &t,
        json!({"configuration_item": "db-02", "starts_at": at(&app, -10), "ends_at": at(&app, 10),
               "reason": "Short one"}),
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED, "{w}");
    let short = text(&w["id"]);
    let (s, w) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("{WINDOWS}/{short}/end")),
        &t,
        None,
    )
    .await?;
    assert_eq!(
        (s, w["state"].clone()),
        (StatusCode::OK, json!("ended")),
        "{w}"
    );
    let a = alert_of(&app, "db-02", "ping", "db-02 unreachable").await?;
    assert_eq!(a["maintenance"], Value::Null, "{a}");
    assert!(a["incident"]["display"].is_string(), "{a}");
    // Ended twice, or a window to come: a conflict.
    for id in [&short, &later] {
        let resp = app
            .http
            .post(app.api(&format!("{WINDOWS}/{id}/end")))
            .header("authorization", bearer(&t))
            .send()
            .await?;
        problem(resp, StatusCode::CONFLICT, "not_in_progress").await?;
    }

    // The list: those not ended, soonest first; with ended=true, the ended one after them.
    let list = get(&app, WINDOWS, &t).await?;
    let ids: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|w| text(&w["id"]))
        .collect();
    assert_eq!(ids.len(), 3, "{list}");
    assert_eq!(ids[0], on_ci);
    assert_eq!(ids[2], later);
    let all = get(&app, &format!("{WINDOWS}?ended=true"), &t).await?;
    assert_eq!(all.as_array().map(Vec::len), Some(4), "{all}");
    assert_eq!(all[3]["id"], short.as_str());

    // Once db-01's window is over (the clock moves past its end), its alert's next event is
    // no longer held back: the alert opens its incident.
    app.clock.advance(SignedDuration::from_mins(90));
    let a = alert_of(&app, "db-01", "ping", "db-01 still unreachable").await?;
    assert_eq!(a["maintenance"], Value::Null, "{a}");
    assert!(a["incident"]["display"].is_string(), "{a}");
    let list = get(&app, WINDOWS, &t).await?;
    assert_eq!(
        list.as_array().map(Vec::len),
        Some(1),
        "only the later one: {list}"
    );

    // Removed: gone, and a second removal finds nothing.
    let before = snapshot(&app).await?.audit_head;
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("{WINDOWS}/{later}")),
        &t,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(snapshot(&app).await?.audit_head, before + 1, "audited");
    for method in [Method::GET, Method::DELETE] {
        let resp = app
            .http
            .request(method, app.api(&format!("{WINDOWS}/{later}")))
            .header("authorization", bearer(&t))
            .send()
            .await?;
        problem(resp, StatusCode::NOT_FOUND, "not_found").await?;
    }
    let resp = app
        .http
        .get(app.api(&format!("{WINDOWS}/not-a-window")))
        .header("authorization", bearer(&t))
        .send()
        .await?;
    problem(resp, StatusCode::NOT_FOUND, "not_found").await?;
    Ok(())
}

async fn bad_windows_are_refused_and_change_nothing(app: TestApp) -> anyhow::Result<()> {
    let t = app.admin_token.clone();
    ci(&app, "server", "db-01").await?;
    // Two CIs of one name: the name alone is ambiguous.
    ci(&app, "server", "twin").await?;
    ci(&app, "application", "twin").await?;
    let before = snapshot(&app).await?;
    let good = json!({"configuration_item": "db-01", "starts_at": at(&app, 0),
                      "ends_at": at(&app, 60), "reason": "Patching"});
    let with = |field: &str, value: Value| {
        let mut b = good.clone();
        b[field] = value;
        b
    };
    let without = |field: &str| {
        let mut b = good.clone();
        if let Some(o) = b.as_object_mut() {
            o.remove(field);
        }
        b
    };
    let huge = "x".repeat(100_000);
    let cases: Vec<Case> = vec![
        (
            "ends before it starts",
            with("ends_at", json!(at(&app, -30))),
            vec![("ends_at", "before_start")],
        ),
        (
            "ends when it starts",
            with("ends_at", json!(at(&app, 0))),
            vec![("ends_at", "before_start")],
        ),
        (
            "no CI and no node",
            without("configuration_item"),
            vec![("configuration_item", "required")],
        ),
        (
            "a blank CI and node",
            with("configuration_item", json!("  ")),
            vec![("configuration_item", "required")],
        ),
        (
            "an unknown CI",
            with("configuration_item", json!("no-such-ci")),
            vec![("configuration_item", "not_found")],
        ),
        (
            "an unknown CI id",
            with(
                "configuration_item",
                json!("01937a6e-0000-7000-8000-000000000000"),
            ),
            vec![("configuration_item", "not_found")],
        ),
        (
            "an ambiguous name",
            with("configuration_item", json!("twin")),
            vec![("configuration_item", "ambiguous")],
        ),
        (
            "a bad time",
            with("starts_at", json!("tomorrow morning")),
            vec![("starts_at", "invalid_time")],
        ),
        (
            "a time without its zone",
            with("ends_at", json!("2030-01-01T10:00:00")),
            vec![("ends_at", "invalid_time")],
        ),
        (
            "a huge reason",
            with("reason", json!(huge)),
            vec![("reason", "too_long")],
        ),
        (
            "a reason one too long",
            with("reason", json!("r".repeat(501))),
            vec![("reason", "too_long")],
        ),
        (
            "an empty reason",
            with("reason", json!(" ")),
            vec![("reason", "required")],
        ),
        (
            "a node too long",
            with("node", json!("n".repeat(256))),
            vec![("node", "too_long")],
        ),
        (
            "a window over already",
            json!({"node": "web-01", "starts_at": at(&app, -120), "ends_at": at(&app, -60),
                   "reason": "Past"}),
            vec![("ends_at", "in_the_past")],
        ),
        (
            "a window over a year long",
            with("ends_at", json!(at(&app, 367 * 24 * 60))),
            vec![("ends_at", "window_too_long")],
        ),
        (
            // Every field in error at once, the unknown CI among them.
            "several at once",
            json!({"configuration_item": "no-such-ci", "starts_at": "soon",
                   "ends_at": "later", "reason": ""}),
            vec![
                ("starts_at", "invalid_time"),
                ("ends_at", "invalid_time"),
                ("reason", "required"),
                ("configuration_item", "not_found"),
            ],
        ),
    ];
    for (what, body, want) in cases {
        let resp = app
            .http
            .post(app.api(WINDOWS))
            .header("authorization", bearer(&t))
            .json(&body)
            .send()
            .await?;
        let v = problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await
            .map_err(|e| anyhow::anyhow!("{what}: {e}"))?;
        let got: Vec<(String, String)> = v["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| (text(&e["field"]), text(&e["code"])))
            .collect();
        let want: Vec<(String, String)> = want
            .into_iter()
            .map(|(f, c)| (f.to_owned(), c.to_owned()))
            .collect();
        assert_eq!(got, want, "{what}: {v}");
    }
    // Bodies that are not a window: unknown fields, wrong types, missing times.
    for (what, body) in [
        ("an unknown field", with("colour", json!("red"))),
        ("a number for a time", with("starts_at", json!(5))),
        ("no start", without("starts_at")),
        ("no reason", without("reason")),
    ] {
        let (s, v) = set_window(&app, &t, body).await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {v}");
    }
    let (s, v) = send(
        &app.http,
        Method::GET,
        &app.api(&format!("{WINDOWS}?ended=maybe")),
        &t,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // Nothing was kept, nothing audited.
    assert_eq!(
        get(&app, &format!("{WINDOWS}?ended=true"), &t).await?,
        json!([])
    );
    assert_eq!(snapshot(&app).await?, before);
    // And the good one is kept.
    let (s, v) = set_window(&app, &t, good).await?;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    Ok(())
}

async fn only_managers_of_the_provider_set_windows(app: TestApp) -> anyhow::Result<()> {
    ci(&app, "server", "db-01").await?;
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let (_, manager) = app.person("mira", &["manager"], None).await?;
    let (_, requester) = app.person("rina", &["requester"], None).await?;
    let customer = app.organization("PT Pelanggan", "customer").await?;
    let (_, outsider) = app
        .person("oscar", &["manager"], Some(&customer.id.to_string()))
        .await?;
    let admin = sigap_core::people::get(&app.core, &sigap_core::Ctx::system("test"), "admin")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let read_only = sigap_testkit::token_for(&app.core, &admin, "read").await?;
    let body = json!({"configuration_item": "db-01", "starts_at": at(&app, 0),
                      "ends_at": at(&app, 60), "reason": "Patching"});
    let before = snapshot(&app).await?;
    for (who, token, code) in [
        ("an agent", &agent, "forbidden"),
        ("a requester", &requester, "forbidden"),
        ("a customer's manager", &outsider, "forbidden"),
        ("a read-only token", &read_only, "read_only_token"),
    ] {
        let resp = app
            .http
            .post(app.api(WINDOWS))
            .header("authorization", bearer(token))
            .json(&body)
            .send()
            .await?;
        problem(resp, StatusCode::FORBIDDEN, code)
            .await
            .map_err(|e| anyhow::anyhow!("{who}: {e}"))?;
    }
    assert_eq!(snapshot(&app).await?, before, "nothing kept");
    // A manager of the provider sets one; an agent reads it but neither ends nor removes it.
    let (s, w) = set_window(&app, &manager, body).await?;
    assert_eq!(s, StatusCode::CREATED, "{w}");
    let id = text(&w["id"]);
    let list = get(&app, WINDOWS, &agent).await?;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    get(&app, &format!("{WINDOWS}/{id}"), &agent).await?;
    for (method, path) in [
        (Method::POST, format!("{WINDOWS}/{id}/end")),
        (Method::DELETE, format!("{WINDOWS}/{id}")),
    ] {
        let resp = app
            .http
            .request(method, app.api(&path))
            .header("authorization", bearer(&agent))
            .send()
            .await?;
        problem(resp, StatusCode::FORBIDDEN, "forbidden").await?;
    }
    // Requesters do not read them.
    let resp = app
        .http
        .get(app.api(WINDOWS))
        .header("authorization", bearer(&requester))
        .send()
        .await?;
    problem(resp, StatusCode::FORBIDDEN, "forbidden").await?;
    // Without a token: 401.
    let resp = app.http.get(app.api(WINDOWS)).send().await?;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    // The manager ends it.
    let (s, w) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("{WINDOWS}/{id}/end")),
        &manager,
        None,
    )
    .await?;
    assert_eq!(
        (s, w["state"].clone()),
        (StatusCode::OK, json!("ended")),
        "{w}"
    );
    Ok(())
}

async fn the_page_lists_sets_and_ends_windows_in_both_languages(
    app: TestApp,
) -> anyhow::Result<()> {
    ci(&app, "server", "db-01").await?;
    app.person("agnes", &["agent"], None).await?;
    let admin = app.browser("admin", sigap_testkit::ADMIN_PASSWORD).await?;
    let page = |who: &reqwest::Client, path: &str| {
        let (who, url) = (who.clone(), app.page(path));
        async move {
            let resp = who.get(url).send().await?;
            let status = resp.status().as_u16();
            Ok::<_, anyhow::Error>((status, resp.text().await?))
        }
    };
    // The console links to the page.
    let (status, html) = page(&admin, "/alerts").await?;
    assert_eq!(status, 200);
    assert!(html.contains("href=\"/alerts/maintenance\""), "{html}");
    let (status, html) = page(&admin, "/alerts/maintenance").await?;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"no-windows\"") && html.contains("id=\"window-form\""));

    // Set one from the form (times in the viewer's zone, UTC for the administrator).
    let local = |mins: i64| {
        app.core
            .now()
            .checked_add(SignedDuration::from_mins(mins))
            .unwrap_or(Timestamp::MAX)
            .strftime("%Y-%m-%dT%H:%M")
            .to_string()
    };
    let (start, end) = (local(-1), local(120));
    let (status, location, body) = submit(
        &app,
        &admin,
        "/alerts/maintenance",
        &[
            ("configuration_item", "db-01"),
            ("node", ""),
            ("starts_at", &start),
            ("ends_at", &end),
            ("reason", "Firmware <upgrade>"),
        ],
    )
    .await?;
    assert_eq!(
        (status, location.as_str()),
        (303, "/alerts/maintenance?notice=alert-window-added"),
        "{body}"
    );
    let (_, html) = page(&admin, &location).await?;
    assert!(html.contains("The maintenance window is set."), "{html}");
    assert!(html.contains("data-state=\"in_progress\""), "{html}");
    assert!(
        html.contains("Firmware &lt;upgrade&gt;") || html.contains("Firmware &#60;upgrade&#62;")
    );
    assert!(!html.contains("Firmware <upgrade>"));
    let alert = alert_of(&app, "db-01", "ping", "db-01 unreachable").await?;
    assert_eq!(alert["maintenance"], "Firmware <upgrade>");

    // A refused form is shown again with its reasons beside the fields, and keeps nothing.
    let (status, _, html) = submit(
        &app,
        &admin,
        "/alerts/maintenance",
        &[
            ("configuration_item", "no-such-ci"),
            ("starts_at", &end),
            ("ends_at", &start),
            ("reason", "Oops"),
        ],
    )
    .await?;
    assert_eq!(status, 422, "{html}");
    assert!(
        html.contains("id=\"err-ends_at\"") || html.contains("id=\"err-ends-at\""),
        "{html}"
    );
    assert!(html.contains("Before the start."), "{html}");
    assert!(html.contains("id=\"err-configuration_item\""), "{html}");
    assert!(
        html.contains("value=\"Oops\""),
        "the form keeps what was typed"
    );
    assert_eq!(
        get(&app, WINDOWS, &app.admin_token)
            .await?
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    // In Indonesian.
    let resp = admin
        .post(app.page("/language"))
        .header("origin", &app.url)
        .form(&[("lang", "id"), ("back", "/")])
        .send()
        .await?;
    assert_eq!(resp.status(), 303);
    let (_, html) = page(&admin, "/alerts/maintenance").await?;
    assert!(
        html.contains("Jendela pemeliharaan") && html.contains("Sedang berlaku"),
        "{html}"
    );

    // An agent sees the list, not the form nor the buttons; a refused end is a 403.
    let agnes = app.browser("agnes", "agnes-password-1").await?;
    let (status, html) = page(&agnes, "/alerts/maintenance").await?;
    assert_eq!(status, 200);
    assert!(
        !html.contains("id=\"window-form\"") && !html.contains("/end\""),
        "{html}"
    );
    let id = text(&get(&app, WINDOWS, &app.admin_token).await?[0]["id"]);
    let (status, _, _) =
        submit(&app, &agnes, &format!("/alerts/maintenance/{id}/end"), &[]).await?;
    assert_eq!(status, 403);

    // End it from the page: it is listed among the ended ones only.
    let (status, location, _) =
        submit(&app, &admin, &format!("/alerts/maintenance/{id}/end"), &[]).await?;
    assert_eq!(
        (status, location.as_str()),
        (303, "/alerts/maintenance?notice=alert-window-ended")
    );
    let (_, html) = page(&admin, "/alerts/maintenance").await?;
    assert!(html.contains("id=\"no-windows\""), "{html}");
    let (_, html) = page(&admin, "/alerts/maintenance?ended=1").await?;
    assert!(html.contains("data-state=\"ended\""), "{html}");
    Ok(())
}

// ----- overload -----

mod overload {
    use sigap_testkit::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() -> anyhow::Result<()> {
        super::turned_away_batches_keep_nothing(Backend::Sqlite).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres() -> anyhow::Result<()> {
        match sigap_testkit::postgres_url().map_err(anyhow::Error::msg)? {
            None => {
                eprintln!("PostgreSQL not configured (SIGAP_TEST_DATABASE_URL): skipped");
                Ok(())
            }
            Some(_) => super::turned_away_batches_keep_nothing(Backend::Postgres).await,
        }
    }
}

/// One request of events taken in at once: of twenty batches of 1,000 sent together, those
/// beyond it are answered 429 with `Retry-After`, the rest 200; exactly the events the 200s
/// accepted are kept, none of a 429.
async fn turned_away_batches_keep_nothing(backend: Backend) -> anyhow::Result<()> {
    const REQUESTS: usize = 20;
    const EVENTS: usize = 1_000;
    let app = TestApp::spawn_with(backend, |s| s.event_intake_at_once = 1).await?;
    let mut tasks = Vec::new();
    for r in 0..REQUESTS {
        let events: Vec<Value> = (0..EVENTS)
            .map(|i| {
                json!({"source": "load", "node": format!("node-{r:02}"), "type": "check",
                       "severity": "info", "message": format!("event {i}")})
            })
            .collect();
        let body = serde_json::to_vec(&events)?;
        let (http, url) = (app.http.clone(), app.api("/events"));
        let auth = bearer(&app.admin_token);
        tasks.push(tokio::spawn(async move {
            let resp = http
                .post(url)
                .header("authorization", auth)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await?;
            let status = resp.status();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            let v: Value = resp.json().await?;
            Ok::<_, anyhow::Error>((r, status, retry_after, v))
        }));
    }
    let mut accepted = 0u64;
    let mut kept_nodes = Vec::new();
    let mut turned_away = 0;
    for task in tasks {
        let (r, status, retry_after, v) = task.await??;
        match status {
            StatusCode::OK => {
                assert_eq!(v["accepted"], EVENTS, "{r}: {}", v["rejected"]);
                accepted += v["accepted"].as_u64().unwrap_or(0);
                kept_nodes.push(format!("node-{r:02}"));
            }
            StatusCode::TOO_MANY_REQUESTS => {
                turned_away += 1;
                assert_eq!(retry_after.as_deref(), Some("1"), "{r}: {v}");
                assert_eq!(v["code"], "rate_limited", "{v}");
            }
            other => anyhow::bail!("request {r}: {other} {v}"),
        }
    }
    assert!(turned_away > 0, "no request was turned away");
    assert!(!kept_nodes.is_empty(), "no request was taken in");
    // What is kept: one alert per accepted batch, counting its events, and nothing else.
    let list = get(
        &app,
        "/alerts?source=load&state=open,acknowledged,flapping,closed&limit=500",
        &app.admin_token,
    )
    .await?;
    let alerts = list["items"].as_array().cloned().unwrap_or_default();
    let mut nodes: Vec<String> = alerts.iter().map(|a| text(&a["node"])).collect();
    nodes.sort();
    kept_nodes.sort();
    assert_eq!(nodes, kept_nodes);
    let stored: u64 = alerts
        .iter()
        .map(|a| a["event_count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(
        stored, accepted,
        "the events kept are those the 200s accepted"
    );
    // The place is given back: a batch now is taken in.
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/events"),
        &app.admin_token,
        Some(json!({"source": "load", "node": "after", "severity": "info"})),
    )
    .await?;
    assert_eq!(
        (s, v["accepted"].clone()),
        (StatusCode::OK, json!(1)),
        "{v}"
    );
    Ok(())
}
