//! Service level management over HTTP with a fake clock: calendars, agreements and targets,
//! the clock of an incident through pause, resume, a priority change, resolution and
//! reopening, and the sweep's notifications.

use crate::portfolio::{get, post, send};
use crate::ui::submit;
use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_testkit::{TestApp, both};

both!(
    a_clock_follows_its_incident_step_by_step,
    calendars_and_agreements_refuse_bad_input,
    two_nodes_sweeping_together_send_each_warning_once,
    the_sweeps_warnings_are_mailed_to_those_who_take_them,
    service_level_pages_in_both_languages,
    ola_clocks_follow_their_group_and_breaches_escalate,
    a_clock_due_at_closing_time_is_breached_in_every_view,
);

/// An instant in Jakarta (UTC+7, no daylight saving time).
fn wib(d: i8, h: i8, m: i8) -> anyhow::Result<Timestamp> {
    Ok(jiff::civil::date(2026, 11, d)
        .at(h, m, 0, 0)
        .in_tz("Asia/Jakarta")?
        .timestamp())
}

fn secs(h: i64, m: i64) -> i64 {
    h * 3600 + m * 60
}

async fn resolution(app: &TestApp, number: &str, token: &str) -> anyhow::Result<Value> {
    let clocks = get(app, &format!("/incidents/{number}/slas"), token).await?;
    clocks
        .as_array()
        .and_then(|a| a.iter().find(|c| c["metric"] == "resolution").cloned())
        .ok_or_else(|| anyhow::anyhow!("no resolution clock in {clocks}"))
}

fn check(c: &Value, stage: &str, elapsed: i64, due: Option<Timestamp>, step: &str) {
    assert_eq!(c["stage"], stage, "{step}: {c}");
    assert_eq!(c["business_elapsed_seconds"], elapsed, "{step}: {c}");
    let due_at = c["due_at"]
        .as_str()
        .and_then(|d| d.parse::<Timestamp>().ok());
    assert_eq!(due_at, due, "{step}: {c}");
}

/// The group "Desk", managed by mona, with agnes in it.
async fn desk(app: &TestApp) -> anyhow::Result<()> {
    let ctx = sigap_core::Ctx::system("test");
    sigap_core::groups::create(
        &app.core,
        &ctx,
        sigap_core::groups::GroupInput {
            name: Some("Desk".into()),
            group_type: Some("service_desk".into()),
            manager: Some(Some("mona".into())),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    sigap_core::groups::set_member(&app.core, &ctx, "Desk", "agnes", true)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(())
}

async fn a_clock_follows_its_incident_step_by_step(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let (_, manager) = app.person("mona", &["manager"], None).await?;
    let (_, caller) = app.person("budi", &["requester"], None).await?;
    desk(&app).await?;
    let admin = app.admin_token.clone();
    app.clock.set(wib(20, 12, 0)?);
    // Monday to Friday 08:00-17:00 in Jakarta.
    let cal = post(
        &app,
        "/calendars",
        &admin,
        json!({"name": "Jakarta office", "time_zone": "Asia/Jakarta"}),
    )
    .await?;
    assert_eq!(cal["hours"][0][0], "08:00-17:00");
    assert_eq!(cal["hours"][5].as_array().map(Vec::len), Some(0));
    let agreement = post(
        &app,
        "/agreements",
        &manager,
        json!({"name": "Standard", "kind": "sla", "calendar": "Jakarta office", "valid_from": "2026-01-01"}),
    )
    .await?;
    let a = agreement["id"].as_str().unwrap_or_default().to_owned();
    post(
        &app,
        &format!("/agreements/{a}/targets"),
        &manager,
        json!({"name": "Resolve in 8 h", "metric": "resolution", "duration_minutes": 480}),
    )
    .await?;
    post(
        &app,
        &format!("/agreements/{a}/targets"),
        &manager,
        json!({"name": "Resolve P1 in 4 h", "metric": "resolution", "duration_minutes": 240,
               "applies_when": [{"priority": ["1"]}]}),
    )
    .await?;
    post(
        &app,
        &format!("/agreements/{a}/targets"),
        &manager,
        json!({"name": "Respond in 1 h", "metric": "response", "duration_minutes": 60}),
    )
    .await?;

    // Monday 09:00: logged, priority 3; 8 business hours run out at 17:00.
    app.clock.set(wib(23, 9, 0)?);
    let i = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "VPN drops", "caller": "budi", "impact": 2, "urgency": 2,
               "assignment_group": "Desk"}),
    )
    .await?;
    let n = i["number"].as_str().unwrap_or_default().to_owned();
    let c = resolution(&app, &n, &agent).await?;
    check(&c, "in_progress", 0, Some(wib(23, 17, 0)?), "logged");
    assert_eq!(c["target"], "Resolve in 8 h");
    // 09:30: taken by the agent: the response clock stops within its hour.
    app.clock.set(wib(23, 9, 30)?);
    post(
        &app,
        &format!("/incidents/{n}/assign_to_me"),
        &agent,
        json!({}),
    )
    .await?;
    let clocks = get(&app, &format!("/incidents/{n}/slas"), &agent).await?;
    let response = clocks
        .as_array()
        .and_then(|a| a.iter().find(|c| c["metric"] == "response").cloned())
        .unwrap_or_default();
    assert_eq!(response["stage"], "achieved", "{response}");
    assert_eq!(response["business_elapsed_seconds"], secs(0, 30));
    // 11:00: on hold, waiting for the caller: paused after 2 business hours.
    app.clock.set(wib(23, 11, 0)?);
    post(
        &app,
        &format!("/incidents/{n}/hold"),
        &agent,
        json!({"reason": "awaiting_caller", "comment": "Which VPN client do you use?"}),
    )
    .await?;
    check(
        &resolution(&app, &n, &agent).await?,
        "paused",
        secs(2, 0),
        None,
        "on hold",
    );
    // Tuesday 09:00 the caller answers: running again; 6 hours left, due 15:00.
    app.clock.set(wib(24, 9, 0)?);
    let c = resolution(&app, &n, &agent).await?;
    check(&c, "paused", secs(2, 0), None, "still on hold overnight");
    assert_eq!(
        c["actual_elapsed_seconds"],
        secs(2, 0),
        "pause not counted on the wall clock either"
    );
    post(
        &app,
        &format!("/incidents/{n}/comment"),
        &caller,
        json!({"body": "The built-in one."}),
    )
    .await?;
    check(
        &resolution(&app, &n, &agent).await?,
        "in_progress",
        secs(2, 0),
        Some(wib(24, 15, 0)?),
        "resumed",
    );
    // 10:00 it becomes priority 1: the 4-hour target, same start, pauses kept; 3 h run,
    // 1 h left, due 11:00.
    app.clock.set(wib(24, 10, 0)?);
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{n}")),
        &agent,
        Some(json!({"impact": 1, "urgency": 1})),
    )
    .await?;
    assert_eq!(
        (s, v["priority"].as_i64()),
        (StatusCode::OK, Some(1)),
        "{v}"
    );
    let c = resolution(&app, &n, &agent).await?;
    check(
        &c,
        "in_progress",
        secs(3, 0),
        Some(wib(24, 11, 0)?),
        "priority 1",
    );
    assert_eq!(
        c["target"], "Resolve P1 in 4 h",
        "the strictest matching target"
    );
    // 10:30 resolved: the clock waits (paused) for the caller's answer.
    app.clock.set(wib(24, 10, 30)?);
    post(
        &app,
        &format!("/incidents/{n}/resolve"),
        &agent,
        json!({"resolution_code": "solved_workaround", "resolution_notes": "New VPN profile"}),
    )
    .await?;
    check(
        &resolution(&app, &n, &agent).await?,
        "paused",
        secs(3, 30),
        None,
        "resolved",
    );
    // 13:00 the caller rejects: reopened, running again; 30 minutes left, due 13:30.
    app.clock.set(wib(24, 13, 0)?);
    post(
        &app,
        &format!("/incidents/{n}/reject"),
        &caller,
        json!({"comment": "Still drops every hour."}),
    )
    .await?;
    check(
        &resolution(&app, &n, &agent).await?,
        "in_progress",
        secs(3, 30),
        Some(wib(24, 13, 30)?),
        "reopened",
    );
    // 13:15 the sweep finds 50 % and 75 % passed long ago (before the clock resumed):
    // recorded, no message.
    app.clock.set(wib(24, 13, 15)?);
    let swept = sigap_core::sla::sweep(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(swept.notified, 0, "{swept:?}");
    // 13:31 it crosses 100 %: the assignee and the group's manager are told, once.
    app.clock.set(wib(24, 13, 31)?);
    let swept = sigap_core::sla::sweep(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(swept.notified, 2, "{swept:?}");
    let again = sigap_core::sla::sweep(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(again.notified, 0);
    for token in [&agent, &manager] {
        let inbox = get(&app, "/me/notifications", token).await?;
        let n = inbox
            .as_array()
            .map(|a| a.iter().filter(|x| x["kind"] == "sla_threshold").count());
        assert_eq!(n, Some(1), "{inbox}");
    }
    // 14:00 breached: 4 h 30 m of business time on a 4-hour target.
    app.clock.set(wib(24, 14, 0)?);
    let c = resolution(&app, &n, &agent).await?;
    check(
        &c,
        "breached",
        secs(4, 30),
        Some(wib(24, 13, 30)?),
        "breached",
    );
    assert_eq!(c["percentage"], 112.5);
    // Resolved and accepted: the clock stops, breached.
    post(
        &app,
        &format!("/incidents/{n}/resolve"),
        &agent,
        json!({"resolution_code": "solved_permanently", "resolution_notes": "Replaced the client"}),
    )
    .await?;
    app.clock.set(wib(24, 15, 0)?);
    post(&app, &format!("/incidents/{n}/accept"), &caller, json!({})).await?;
    let c = resolution(&app, &n, &agent).await?;
    assert_eq!(
        (c["stage"].as_str(), c["breached"].as_bool()),
        (Some("breached"), Some(true)),
        "{c}"
    );
    assert_eq!(c["business_elapsed_seconds"], secs(4, 30));
    let kinds: Vec<&str> = c["events"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["kind"].as_str()).collect())
        .unwrap_or_default();
    for k in [
        "started",
        "paused",
        "resumed",
        "retargeted",
        "threshold",
        "stopped",
    ] {
        assert!(kinds.contains(&k), "{k} in the timeline {kinds:?}");
    }
    // The caller does not see another caller's clocks; compliance counts the breach.
    let (_, other) = app.person("citra", &["requester"], None).await?;
    let (s, _) = send(
        &app.http,
        Method::GET,
        &app.api(&format!("/incidents/{n}/slas")),
        &other,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let report = get(
        &app,
        "/sla/compliance?by=agreement&from=2026-11-01&to=2026-12-01",
        &manager,
    )
    .await?;
    let line = report
        .as_array()
        .and_then(|a| a.iter().find(|l| l["key"] == "Standard").cloned())
        .unwrap_or_default();
    assert_eq!(
        (
            line["total"].as_i64(),
            line["breached"].as_i64(),
            line["achieved"].as_i64()
        ),
        (Some(2), Some(1), Some(1)),
        "{report}"
    );
    Ok(())
}

async fn calendars_and_agreements_refuse_bad_input(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let admin = app.admin_token.clone();
    for (body, field) in [
        (
            json!({"name": "X", "time_zone": "Mars/Olympus"}),
            "time_zone",
        ),
        (
            json!({"name": "X", "time_zone": "UTC", "hours": [["08:00-17:00"]]}),
            "hours",
        ),
        (
            json!({"name": "X", "time_zone": "UTC", "hours": [["17:00-08:00"], [], [], [], [], [], []]}),
            "hours.0.0",
        ),
        (json!({"time_zone": "UTC"}), "name"),
    ] {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api("/calendars"),
            &admin,
            Some(body),
        )
        .await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["field"], field, "{v}");
    }
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api("/calendars"),
        &agent,
        Some(json!({"name": "X", "time_zone": "UTC"})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    post(
        &app,
        "/calendars",
        &admin,
        json!({"name": "Office", "time_zone": "Europe/Amsterdam"}),
    )
    .await?;
    // Holidays from an iCalendar file; a broken file changes nothing.
    let ics = "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\nSUMMARY:Kerstmis\r\nRRULE:FREQ=YEARLY\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
    let resp = app
        .http
        .post(app.api("/calendars/Office/holidays/ical"))
        .header("authorization", crate::helpers::bearer(&admin))
        .header("content-type", "text/calendar")
        .body(ics)
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let resp = app
        .http
        .post(app.api("/calendars/Office/holidays/ical"))
        .header("authorization", crate::helpers::bearer(&admin))
        .header("content-type", "text/calendar")
        .body("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:tomorrow\nEND:VEVENT\n")
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let cal = get(&app, "/calendars/Office", &agent).await?;
    assert_eq!(cal["holidays"].as_array().map(Vec::len), Some(1), "{cal}");
    assert_eq!(cal["holidays"][0]["recurring"], true);
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/calendars/Office/holidays"),
        &admin,
        Some(json!([{"date": "2026-02-30"}])),
    )
    .await?;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("holidays.0.date")),
        "{v}"
    );
    // Agreements: an OLA needs a group, conditions name known fields, dates are dates.
    for (body, field) in [
        (json!({"name": "O", "kind": "ola"}), "group"),
        (
            json!({"name": "O", "kind": "sla", "valid_from": "soon"}),
            "valid_from",
        ),
        (json!({"name": "O", "kind": "xla"}), "kind"),
        (
            json!({"name": "O", "kind": "sla", "calendar": "Nope"}),
            "calendar",
        ),
    ] {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api("/agreements"),
            &admin,
            Some(body),
        )
        .await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["field"], field, "{v}");
    }
    let a = post(
        &app,
        "/agreements",
        &admin,
        json!({"name": "Gold", "kind": "sla", "calendar": "Office"}),
    )
    .await?;
    let id = a["id"].as_str().unwrap_or_default().to_owned();
    for (body, field) in [
        (
            json!({"name": "T", "metric": "resolution", "duration_minutes": 0}),
            "duration_minutes",
        ),
        (
            json!({"name": "T", "metric": "resolution", "duration_minutes": 60, "start": [{"colour": ["red"]}]}),
            "start",
        ),
        (
            json!({"name": "T", "metric": "resolution", "duration_minutes": 60, "thresholds": [0]}),
            "thresholds",
        ),
        (
            json!({"name": "T", "metric": "speed", "duration_minutes": 60}),
            "metric",
        ),
    ] {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api(&format!("/agreements/{id}/targets")),
            &admin,
            Some(body),
        )
        .await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["field"], field, "{v}");
    }
    let (s, v) = send(
        &app.http,
        Method::DELETE,
        &app.api("/calendars/Office"),
        &admin,
        None,
    )
    .await?;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("in_use")),
        "{v}"
    );
    let (s, v) = send(
        &app.http,
        Method::GET,
        &app.api("/sla/compliance?by=colour"),
        &admin,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    Ok(())
}

/// A service desk group "Desk" of `members`, and from 9:00 on 23 November a 24x7 agreement
/// "Fast" whose one-hour resolution target warns at `thresholds`: when it starts.
async fn desk_with_fast_agreement(
    app: &TestApp,
    members: &[&str],
    thresholds: &[i64],
) -> anyhow::Result<Timestamp> {
    let err = |e: sigap_core::AppError| anyhow::anyhow!("{e:?}");
    let ctx = sigap_core::Ctx::system("test");
    sigap_core::groups::create(
        &app.core,
        &ctx,
        sigap_core::groups::GroupInput {
            name: Some("Desk".into()),
            group_type: Some("service_desk".into()),
            ..Default::default()
        },
    )
    .await
    .map_err(err)?;
    for who in members {
        sigap_core::groups::set_member(&app.core, &ctx, "Desk", who, true)
            .await
            .map_err(err)?;
    }
    let admin = app.admin_token.clone();
    let start = wib(23, 9, 0)?;
    app.clock.set(start);
    let a = post(
        app,
        "/agreements",
        &admin,
        json!({"name": "Fast", "kind": "sla"}),
    )
    .await?;
    let id = a["id"].as_str().unwrap_or_default().to_owned();
    post(
        app,
        &format!("/agreements/{id}/targets"),
        &admin,
        json!({"name": "1 h", "metric": "resolution", "duration_minutes": 60, "thresholds": thresholds}),
    )
    .await?;
    Ok(start)
}

async fn two_nodes_sweeping_together_send_each_warning_once(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    // A warning at 75 %.
    let start = desk_with_fast_agreement(&app, &["agnes"], &[75]).await?;
    let count = 30;
    for k in 0..count {
        post(
            &app,
            "/incidents",
            &agent,
            json!({"short_description": format!("Case {k}"), "assignment_group": "Desk", "assigned_to": "agnes"}),
        )
        .await?;
    }
    let node_b = {
        let store = sigap_store::Store::open(&app.db.location, 4).await?;
        sigap_core::Core::new(
            store,
            std::sync::Arc::new(app.clock.clone()),
            sigap_testkit::core_settings(),
        )
    };
    // 46 minutes later both nodes sweep at once, twice over.
    app.clock
        .set(start.checked_add(jiff::SignedDuration::from_mins(46))?);
    let mut notified = 0;
    for _ in 0..2 {
        let (a, b) = tokio::join!(
            tokio::spawn({
                let core = app.core.clone();
                async move { sigap_core::sla::sweep(&core).await }
            }),
            tokio::spawn({
                let core = node_b.clone();
                async move { sigap_core::sla::sweep(&core).await }
            })
        );
        for r in [a?, b?] {
            match r {
                Ok(s) => notified += s.notified,
                // A node that lost the race to the other may report the clash.
                Err(sigap_core::AppError::Contention) => {}
                Err(e) => anyhow::bail!("sweep: {e}"),
            }
        }
    }
    let inbox = get(&app, "/me/notifications", &agent).await?;
    let warnings = inbox
        .as_array()
        .map(|a| a.iter().filter(|x| x["kind"] == "sla_threshold").count())
        .unwrap_or(0);
    assert_eq!(warnings, count, "one warning per incident");
    assert_eq!(notified, count);
    Ok(())
}

/// With outbound mail on, each warning of a sweep is queued as a mail for a person who takes
/// warnings by mail, and not for one who turned them off; nobody holds the incidents, so the
/// group's members are told.
async fn the_sweeps_warnings_are_mailed_to_those_who_take_them(app: TestApp) -> anyhow::Result<()> {
    let err = |e: sigap_core::AppError| anyhow::anyhow!("{e:?}");
    let (_, agnes) = app.person("agnes", &["agent"], None).await?;
    let (_, budi) = app.person("budi", &["agent"], None).await?;
    let start = desk_with_fast_agreement(&app, &["agnes", "budi"], &[50]).await?;
    let (s, v) = send(
        &app.http,
        Method::PUT,
        &app.api("/me/mail_preferences"),
        &budi,
        Some(json!({"sla_threshold": false})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    let count = 7;
    for k in 0..count {
        post(
            &app,
            "/incidents",
            &agnes,
            json!({"short_description": format!("Case {k}"), "assignment_group": "Desk"}),
        )
        .await?;
    }
    sigap_core::mail::admin::set_outbound(
        &app.core,
        &sigap_core::Ctx::system("test"),
        sigap_core::mail::admin::OutboundInput {
            enabled: Some(true),
            host: Some("localhost".into()),
            port: Some(25),
            security: Some("none".into()),
            from_address: Some("desk@example.com".into()),
            ..Default::default()
        },
        None,
    )
    .await
    .map_err(err)?;
    let queued = async || -> anyhow::Result<i64> {
        Ok(app
            .core
            .store
            .read(async |tx| sigap_store::jobs::counts(tx).await)
            .await?
            .queued)
    };
    let before = queued().await?;
    app.clock
        .set(start.checked_add(jiff::SignedDuration::from_mins(31))?);
    let swept = sigap_core::sla::sweep(&app.core).await.map_err(err)?;
    assert_eq!(swept.checked, count, "{swept:?}");
    assert_eq!(
        swept.notified,
        2 * count,
        "both members, each incident: {swept:?}"
    );
    assert_eq!(
        queued().await? - before,
        count as i64,
        "a mail for each of agnes's warnings, none for budi's"
    );
    for token in [&agnes, &budi] {
        let inbox = get(&app, "/me/notifications", token).await?;
        let warnings = inbox
            .as_array()
            .map(|a| a.iter().filter(|x| x["kind"] == "sla_threshold").count());
        assert_eq!(warnings, Some(count), "{inbox}");
    }
    // Nothing more is due: the next warning would be at 100 %, which the target has not.
    let again = sigap_core::sla::sweep(&app.core).await.map_err(err)?;
    assert_eq!(again, sigap_core::sla::Swept::default());
    Ok(())
}

async fn service_level_pages_in_both_languages(app: TestApp) -> anyhow::Result<()> {
    app.person("mona", &["manager", "admin"], None).await?;
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let mona = app.browser("mona", "mona-password-1").await?;
    app.clock.set(wib(23, 9, 0)?);
    // A calendar from the form, hours and a holiday, an iCalendar paste.
    let (status, location, _) = submit(
        &app,
        &mona,
        "/sla/calendars",
        &[("name", "Jakarta"), ("time_zone", "Asia/Jakarta")],
    )
    .await?;
    assert_eq!(status, 303);
    let cal = location
        .trim_start_matches("/sla/calendars/")
        .split('?')
        .next()
        .unwrap_or("")
        .to_owned();
    let mut week: Vec<(String, String)> = (0..7)
        .map(|d| {
            (
                format!("day{d}"),
                if d < 5 {
                    "08:00-12:00, 13:00-17:00".to_owned()
                } else {
                    String::new()
                },
            )
        })
        .collect();
    week.push(("name".into(), "Jakarta".into()));
    week.push(("time_zone".into(), "Asia/Jakarta".into()));
    week.push(("version".into(), "1".into()));
    let form: Vec<(&str, &str)> = week.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let (status, _, body) = submit(&app, &mona, &format!("/sla/calendars/{cal}"), &form).await?;
    assert_eq!(status, 303, "{body}");
    let (status, _, body) = submit(
        &app,
        &mona,
        &format!("/sla/calendars/{cal}"),
        &[("name", "Jakarta"), ("time_zone", "Nowhere/Else")],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(body.contains("alert-error"));
    let (status, _, _) = submit(
        &app,
        &mona,
        &format!("/sla/calendars/{cal}/holidays"),
        &[
            ("date", "2026-12-25"),
            ("name", "Natal"),
            ("recurring", "1"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let (status, _, _) = submit(&app, &mona, &format!("/sla/calendars/{cal}/holidays"),
        &[("ical", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20270101\nSUMMARY:Tahun Baru\nEND:VEVENT\nEND:VCALENDAR\n")]).await?;
    assert_eq!(status, 303);
    let page = mona
        .get(app.page(&format!("/sla/calendars/{cal}")))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        page.contains("Natal")
            && page.contains("Tahun Baru")
            && page.contains("08:00-12:00, 13:00-17:00")
    );
    // An agreement and a target from the forms.
    let (status, location, _) = submit(
        &app,
        &mona,
        "/sla/agreements",
        &[("name", "Gold"), ("kind", "sla"), ("calendar", "Jakarta")],
    )
    .await?;
    assert_eq!(status, 303);
    let agreement = location
        .trim_start_matches("/sla/agreements/")
        .split('?')
        .next()
        .unwrap_or("")
        .to_owned();
    let (status, _, _) = submit(
        &app,
        &mona,
        &format!("/sla/agreements/{agreement}/targets"),
        &[
            ("name", "Resolve in 6 h"),
            ("metric", "resolution"),
            ("duration_minutes", "360"),
            ("thresholds", "50, 75, 100"),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let (status, _, body) = submit(
        &app,
        &mona,
        &format!("/sla/agreements/{agreement}/targets"),
        &[
            ("name", "Bad"),
            ("metric", "resolution"),
            ("duration_minutes", "60"),
            ("pause", "{not json"),
        ],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(
        body.contains("alert-error") && body.contains("Bad"),
        "the form keeps what was typed"
    );
    // An incident shows its clock on its page and the time left in the queue.
    let i = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "Printer offline", "impact": 1, "urgency": 1}),
    )
    .await?;
    let n = i["number"].as_str().unwrap_or_default().to_owned();
    app.clock.set(wib(23, 15, 30)?);
    for lang in ["en", "id"] {
        submit(&app, &mona, "/language", &[("lang", lang), ("back", "/")]).await?;
        for path in [
            "/sla".to_owned(),
            "/sla/agreements".to_owned(),
            format!("/sla/agreements/{agreement}"),
            "/sla/calendars".to_owned(),
            format!("/sla/calendars/{cal}"),
            "/sla/report?by=priority&from=2026-11-01&to=2026-12-01".to_owned(),
            format!("/incidents/{n}"),
            "/incidents?queue=breaching".to_owned(),
        ] {
            let resp = mona.get(app.page(&path)).send().await?;
            assert_eq!(resp.status(), 200, "{path}");
            let html = resp.text().await?;
            assert!(html.contains(&format!("<html lang=\"{lang}\">")), "{path}");
            assert!(
                !html.contains("sla-stage-") && !html.contains("agreement-kind-"),
                "{path}: a message id leaked"
            );
        }
    }
    // 5.5 business hours used of 6 (lunch is not business time): at risk (over 75 %), due
    // at 16:00, shown on both.
    let page = mona
        .get(app.page(&format!("/incidents/{n}")))
        .send()
        .await?
        .text()
        .await?;
    let tail = page
        .split("id=\"slas\"")
        .nth(1)
        .unwrap_or("NO SLAS SECTION")
        .chars()
        .take(1500)
        .collect::<String>();
    assert!(
        page.contains("sla-risk") && page.contains("id=\"slas\""),
        "the clock on the incident: {tail}"
    );
    let queue = mona
        .get(app.page("/incidents?queue=breaching"))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        queue.contains(&n) && queue.contains("sla-risk"),
        "in the breaching-soon queue"
    );
    let soon = mona
        .get(app.page("/sla?within=4"))
        .send()
        .await?
        .text()
        .await?;
    assert!(soon.contains(&n));
    // Requesters do not get these pages, but see the time left on their own incidents.
    let (_, budi_token) = app.person("budi", &["requester"], None).await?;
    let budi = app.browser("budi", "budi-password-1").await?;
    let mine = post(
        &app,
        "/incidents",
        &budi_token,
        json!({"short_description": "Screen flickers"}),
    )
    .await?;
    let mine = mine["number"].as_str().unwrap_or_default().to_owned();
    let portal = budi.get(app.page("/portal")).send().await?.text().await?;
    assert!(
        portal.contains(&mine) && portal.contains("class=\"sla sla-ok\""),
        "time left in the portal"
    );
    let page = budi
        .get(app.page(&format!("/portal/incidents/{mine}")))
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("class=\"sla sla-ok\""));
    assert_eq!(budi.get(app.page("/sla")).send().await?.status(), 403);
    assert_eq!(
        budi.get(app.page("/sla/report")).send().await?.status(),
        403
    );
    Ok(())
}

async fn ola_clocks_follow_their_group_and_breaches_escalate(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    app.person("omar", &["agent"], None).await?;
    let (_, owner) = app.person("olga", &["agent"], None).await?;
    let ctx = sigap_core::Ctx::system("test");
    for (name, member) in [
        ("Desk", "agnes"),
        ("Network", "omar"),
        ("Major team", "agnes"),
    ] {
        sigap_core::groups::create(
            &app.core,
            &ctx,
            sigap_core::groups::GroupInput {
                name: Some(name.into()),
                group_type: Some("technical".into()),
                ..Default::default()
            },
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        sigap_core::groups::set_member(&app.core, &ctx, name, member, true)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    let admin = app.admin_token.clone();
    let start = wib(23, 9, 0)?;
    app.clock.set(start);
    post(
        &app,
        "/services",
        &admin,
        json!({"name": "Network", "owner": "olga"}),
    )
    .await?;
    // The network team promises two hours (24x7) while it holds an incident.
    let ola = post(
        &app,
        "/agreements",
        &admin,
        json!({"name": "Network OLA", "kind": "ola", "group": "Network"}),
    )
    .await?;
    let id = ola["id"].as_str().unwrap_or_default().to_owned();
    post(
        &app,
        &format!("/agreements/{id}/targets"),
        &admin,
        json!({"name": "2 h", "metric": "resolution", "duration_minutes": 120, "thresholds": [100],
               "escalate_group": "Major team", "notify_owner": true}),
    )
    .await?;
    let i = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "Switch down", "assignment_group": "Desk", "service": "Network"}),
    )
    .await?;
    let n = i["number"].as_str().unwrap_or_default().to_owned();
    let ola_clocks = async |app: &TestApp| -> anyhow::Result<Vec<Value>> {
        let all = get(app, &format!("/incidents/{n}/slas"), &agent).await?;
        Ok(all
            .as_array()
            .map(|a| {
                a.iter()
                    .filter(|c| c["agreement"] == "Network OLA")
                    .cloned()
                    .collect()
            })
            .unwrap_or_default())
    };
    assert!(
        ola_clocks(&app).await?.is_empty(),
        "not the network team's yet"
    );
    let patch = async |app: &TestApp, group: &str| -> anyhow::Result<()> {
        let (s, v) = send(
            &app.http,
            Method::PATCH,
            &app.api(&format!("/incidents/{n}")),
            &agent,
            Some(json!({"assignment_group": group})),
        )
        .await?;
        anyhow::ensure!(s == StatusCode::OK, "{v}");
        Ok(())
    };
    // 09:30 to Network: its clock starts; 10:00 back to the desk: it stops after 30 minutes.
    app.clock.set(wib(23, 9, 30)?);
    patch(&app, "Network").await?;
    app.clock.set(wib(23, 10, 0)?);
    patch(&app, "Desk").await?;
    let c = ola_clocks(&app).await?;
    assert_eq!(c.len(), 1);
    assert_eq!(
        (
            c[0]["stage"].as_str(),
            c[0]["business_elapsed_seconds"].as_i64()
        ),
        (Some("achieved"), Some(secs(0, 30))),
        "{c:?}"
    );
    // 11:00 back to Network: a second cycle; at 13:01 it is past its two hours.
    app.clock.set(wib(23, 11, 0)?);
    patch(&app, "Network").await?;
    assert_eq!(ola_clocks(&app).await?.len(), 2, "a new cycle");
    app.clock.set(wib(23, 13, 1)?);
    let swept = sigap_core::sla::sweep(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(
        swept.escalated, 2,
        "handed on and the owner told: {swept:?}"
    );
    let i = get(&app, &format!("/incidents/{n}"), &agent).await?;
    assert_eq!(i["assignment_group"]["display"], "Major team");
    let inbox = get(&app, "/me/notifications", &owner).await?;
    assert!(
        inbox
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["kind"] == "sla_owner")),
        "{inbox}"
    );
    // Handing it on stopped the network team's clock, breached.
    let c = ola_clocks(&app).await?;
    assert_eq!(
        (c[1]["stage"].as_str(), c[1]["breached"].as_bool()),
        (Some("breached"), Some(true)),
        "{c:?}"
    );
    assert!(c[1]["ended_at"].is_string());
    Ok(())
}

/// A target that runs out at a closing time: breached from 17:00 on (not from the next
/// morning), stopped late is breached in the compliance report, the breaching-soon queue
/// shows it as breached, and a clock paused after its breach resumes when the work does.
async fn a_clock_due_at_closing_time_is_breached_in_every_view(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let (_, manager) = app.person("mona", &["manager"], None).await?;
    let (_, caller) = app.person("budi", &["requester"], None).await?;
    desk(&app).await?;
    let admin = app.admin_token.clone();
    app.clock.set(wib(20, 12, 0)?);
    post(
        &app,
        "/calendars",
        &admin,
        json!({"name": "Jakarta office", "time_zone": "Asia/Jakarta"}),
    )
    .await?;
    let agreement = post(
        &app,
        "/agreements",
        &manager,
        json!({"name": "Standard", "kind": "sla", "calendar": "Jakarta office", "valid_from": "2026-01-01"}),
    )
    .await?;
    let a = agreement["id"].as_str().unwrap_or_default().to_owned();
    post(
        &app,
        &format!("/agreements/{a}/targets"),
        &manager,
        json!({"name": "Resolve in 9 h", "metric": "resolution", "duration_minutes": 540}),
    )
    .await?;
    // Monday 08:00: two incidents, both due at 17:00, the closing time.
    app.clock.set(wib(23, 8, 0)?);
    let mut numbers = Vec::new();
    for text in ["Printer offline", "Mailbox full"] {
        let i = post(
            &app,
            "/incidents",
            &agent,
            json!({"short_description": text, "caller": "budi", "impact": 3, "urgency": 3,
                   "assignment_group": "Desk"}),
        )
        .await?;
        numbers.push(i["number"].as_str().unwrap_or_default().to_owned());
        post(
            &app,
            &format!("/incidents/{}/assign_to_me", numbers[numbers.len() - 1]),
            &agent,
            json!({}),
        )
        .await?;
    }
    let (late, held) = (numbers[0].clone(), numbers[1].clone());
    let due = Some(wib(23, 17, 0)?);
    app.clock.set(wib(23, 16, 59)?);
    check(
        &resolution(&app, &late, &agent).await?,
        "in_progress",
        secs(8, 59),
        due,
        "a minute before",
    );
    app.clock.set(wib(23, 17, 0)?);
    check(
        &resolution(&app, &late, &agent).await?,
        "breached",
        secs(9, 0),
        due,
        "at the due instant",
    );
    // 17:30 the second waits for the caller (paused after its breach); 18:00 the first is
    // resolved (its clock pauses until the caller accepts).
    app.clock.set(wib(23, 17, 30)?);
    post(
        &app,
        &format!("/incidents/{held}/hold"),
        &agent,
        json!({"reason": "awaiting_caller", "comment": "Can you delete old mail?"}),
    )
    .await?;
    app.clock.set(wib(23, 18, 0)?);
    post(
        &app,
        &format!("/incidents/{late}/resolve"),
        &agent,
        json!({"resolution_code": "solved_permanently", "resolution_notes": "Driver reinstalled"}),
    )
    .await?;
    for at in [wib(23, 20, 0)?, wib(24, 7, 59)?] {
        app.clock.set(at);
        for n in [&late, &held] {
            check(
                &resolution(&app, n, &agent).await?,
                "breached",
                secs(9, 0),
                due,
                &format!("{n} in the evening and before opening"),
            );
        }
        // The breaching-soon queue lists both, as breached.
        let queue = get(&app, "/sla/breaching?within_minutes=60", &agent).await?;
        let stages: Vec<(&str, &str)> = queue
            .as_array()
            .map(|q| {
                q.iter()
                    .filter_map(|x| Some((x["number"].as_str()?, x["clock"]["stage"].as_str()?)))
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(
            stages,
            [(late.as_str(), "breached"), (held.as_str(), "breached")],
            "{queue}"
        );
    }
    // Tuesday 09:00: the caller accepts the first (stopped late) and answers on the second
    // (its clock runs again).
    app.clock.set(wib(24, 9, 0)?);
    post(
        &app,
        &format!("/incidents/{late}/accept"),
        &caller,
        json!({}),
    )
    .await?;
    post(
        &app,
        &format!("/incidents/{held}/comment"),
        &caller,
        json!({"body": "Done, deleted."}),
    )
    .await?;
    let c = resolution(&app, &late, &agent).await?;
    assert_eq!(
        (c["stage"].as_str(), c["breached"].as_bool()),
        (Some("breached"), Some(true)),
        "stopped after its due instant: {c}"
    );
    app.clock.set(wib(24, 10, 0)?);
    let c = resolution(&app, &held, &agent).await?;
    check(&c, "breached", secs(10, 0), due, "resumed after its breach");
    let kinds: Vec<&str> = c["events"]
        .as_array()
        .map(|e| e.iter().filter_map(|x| x["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(kinds.ends_with(&["paused", "resumed"]), "{kinds:?}");
    let report = get(
        &app,
        "/sla/compliance?by=agreement&from=2026-11-01&to=2026-12-01",
        &manager,
    )
    .await?;
    assert_eq!(
        (
            report[0]["key"].as_str(),
            report[0]["total"].as_i64(),
            report[0]["breached"].as_i64()
        ),
        (Some("Standard"), Some(1), Some(1)),
        "{report}"
    );
    Ok(())
}
