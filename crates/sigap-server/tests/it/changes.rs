//! Change management over HTTP: a normal change from its assessment to its review, the CAB
//! deciding under the *all* rule (one rejection rejects), conflicts on one CI, on a CI the
//! impact reaches and in a blackout window (on a fake clock), risk from the answers and the
//! impact, standard changes from approved templates and from the catalogue, CAB meetings,
//! the links to incidents, the iCalendar feed, bad input, and random actions per type that
//! never leave the model.

use crate::incidents::{Rng, group_with};
use crate::portfolio::{get, post, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_testkit::{TestApp, both};
use std::collections::BTreeMap;

both!(
    a_normal_change_goes_from_assessment_to_review,
    one_rejection_rejects_under_the_all_rule,
    conflicts_are_flagged_on_both_changes_and_need_a_reason,
    risk_follows_the_answers_and_the_impact,
    standard_changes_come_from_approved_templates,
    cab_meetings_hold_an_agenda_and_decisions,
    incidents_wait_for_and_are_caused_by_changes,
    the_calendar_feed_is_icalendar,
    bad_input_changes_nothing,
    random_actions_never_leave_the_model,
    a_change_outside_its_maintenance_window_is_in_conflict,
);

/// The people, groups and CIs of the tests: andi implements in Web (maya is its manager);
/// budi and citra are the CAB, dewi the emergency CAB; srv-01 and srv-02 connect to
/// core-switch, app-01 runs on srv-01, printer-01 stands alone.
pub(crate) struct Setup {
    pub(crate) andi: String,
    pub(crate) maya: String,
    pub(crate) budi: String,
    pub(crate) citra: String,
    pub(crate) dewi: String,
    pub(crate) ci: BTreeMap<String, String>,
}

pub(crate) async fn setup(app: &TestApp) -> anyhow::Result<Setup> {
    let (_, andi) = app.person("andi", &["agent"], None).await?;
    let (_, maya) = app.person("maya", &["agent", "manager"], None).await?;
    let (_, budi) = app.person("budi", &["agent", "manager"], None).await?;
    let (_, citra) = app.person("citra", &["agent"], None).await?;
    let (_, dewi) = app.person("dewi", &["agent"], None).await?;
    group_with(app, "Web", &["andi", "maya"]).await?;
    let ctx = sigap_core::Ctx::system("test");
    sigap_core::groups::update(
        &app.core,
        &ctx,
        "Web",
        sigap_core::groups::GroupInput {
            manager: Some(Some("maya".into())),
            ..Default::default()
        },
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    group_with(app, "CAB", &["budi", "citra"]).await?;
    group_with(app, "Emergency CAB", &["dewi"]).await?;
    let mut ci = BTreeMap::new();
    for name in ["core-switch", "srv-01", "srv-02", "app-01", "printer-01"] {
        let class = if name == "app-01" {
            "application"
        } else {
            "server"
        };
        let c = post(
            app,
            "/configuration_items",
            &andi,
            json!({"class": class, "name": name}),
        )
        .await?;
        ci.insert(name.to_owned(), text(&c["id"]));
    }
    for (s, kind, t) in [
        ("srv-01", "connects_to", "core-switch"),
        ("srv-02", "connects_to", "core-switch"),
        ("app-01", "runs_on", "srv-01"),
    ] {
        post(
            app,
            "/relationships",
            &andi,
            json!({"source": ci[s], "type": kind, "target": ci[t]}),
        )
        .await?;
    }
    Ok(Setup {
        andi,
        maya,
        budi,
        citra,
        dewi,
        ci,
    })
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// The answers that score 0 (low) and 9 (high) on the built-in questionnaire.
fn low() -> Value {
    json!({"users_affected": "few", "done_before": "often", "backout": "minutes",
           "outage": "no", "tested": "fully"})
}

fn high() -> Value {
    json!({"users_affected": "everyone", "done_before": "never", "backout": "hours",
           "outage": "no", "tested": "fully"})
}

/// A window `hours` from now on the app's clock, `len` hours long, as RFC 3339.
pub(crate) fn window(app: &TestApp, hours: i64, len: i64) -> (String, String) {
    use sigap_domain::Clock;
    let now = app.clock.now();
    let at = |h: i64| {
        now.checked_add(jiff::SignedDuration::from_hours(h))
            .unwrap_or(now)
            .to_string()
    };
    (at(hours), at(hours + len))
}

async fn act(
    app: &TestApp,
    token: &str,
    key: &str,
    action: &str,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    let path = app.api(&format!("/changes/{key}/{action}"));
    send(&app.http, Method::POST, &path, token, Some(body)).await
}

pub(crate) async fn ok(
    app: &TestApp,
    token: &str,
    key: &str,
    action: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let (s, v) = act(app, token, key, action, body).await?;
    anyhow::ensure!(s == StatusCode::OK, "{action} on {key}: {s} {v}");
    Ok(v)
}

/// A normal change on `cis` in `Web`, planned in the window, with its plans.
async fn normal(
    app: &TestApp,
    s: &Setup,
    title: &str,
    cis: &[&str],
    w: &(String, String),
) -> anyhow::Result<String> {
    let cis: Vec<&String> = cis.iter().map(|c| &s.ci[*c]).collect();
    let c = post(
        app,
        "/changes",
        &s.andi,
        json!({
            "short_description": title, "assignment_group": "Web", "cis": cis,
            "planned_start": w.0, "planned_end": w.1, "reason": "Security fixes",
            "implementation_plan": "Patch and reboot", "backout_plan": "Restore the snapshot",
            "test_plan": "Open the shop",
        }),
    )
    .await?;
    anyhow::ensure!(c["change_type"] == "normal" && c["state"] == "new", "{c}");
    Ok(text(&c["number"]))
}

/// A normal change brought to authorize with its low risk approved by Web's manager.
pub(crate) async fn authorized(
    app: &TestApp,
    s: &Setup,
    title: &str,
    cis: &[&str],
    w: &(String, String),
) -> anyhow::Result<String> {
    let n = normal(app, s, title, cis, w).await?;
    ok(app, &s.andi, &n, "assess", json!({})).await?;
    patch(app, &s.andi, &n, json!({"risk_answers": low()})).await?;
    ok(app, &s.andi, &n, "request_approval", json!({})).await?;
    decide_all(app, &s.maya, &n, true).await?;
    let c = get(app, &format!("/changes/{n}"), &s.andi).await?;
    anyhow::ensure!(c["approval"] == "approved", "{c}");
    Ok(n)
}

async fn patch(app: &TestApp, token: &str, key: &str, body: Value) -> anyhow::Result<Value> {
    let (st, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/changes/{key}")),
        token,
        Some(body),
    )
    .await?;
    anyhow::ensure!(st == StatusCode::OK, "patch {key}: {st} {v}");
    Ok(v)
}

/// Decides every approval of the change waiting on the token's person.
async fn decide_all(
    app: &TestApp,
    token: &str,
    number: &str,
    approve: bool,
) -> anyhow::Result<usize> {
    let mine = get(app, "/approvals", token).await?;
    let mut n = 0;
    for a in mine.as_array().into_iter().flatten() {
        if a["task_number"] != number || a["state"] != "requested" {
            continue;
        }
        let decision = if approve { "approve" } else { "reject" };
        let (st, v) = send(
            &app.http,
            Method::POST,
            &app.api(&format!("/approvals/{}/{decision}", text(&a["id"]))),
            token,
            Some(json!({"comment": "CAB decision"})),
        )
        .await?;
        anyhow::ensure!(st == StatusCode::OK, "{decision}: {st} {v}");
        n += 1;
    }
    Ok(n)
}

fn numbers(list: &Value, field: &str) -> Vec<String> {
    let mut out: Vec<String> = list
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| text(&x[field]))
        .collect();
    out.sort();
    out
}

async fn a_normal_change_goes_from_assessment_to_review(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let w = window(&app, 24, 2);
    let n = normal(&app, &s, "Patch the web servers", &["srv-01"], &w).await?;
    assert!(n.starts_with("CHG"), "{n}");
    // Nothing is implemented before its approvals are complete.
    let (st, v) = act(&app, &s.andi, &n, "implement", json!({})).await?;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    let (st, v) = act(&app, &s.andi, &n, "request_approval", json!({})).await?;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "a normal change is assessed first: {v}"
    );
    assert!(
        text(&v["detail"]).contains("allowed: assess, canceled"),
        "{v}"
    );
    ok(&app, &s.andi, &n, "assess", json!({})).await?;
    let (st, v) = act(&app, &s.andi, &n, "request_approval", json!({})).await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "risk_answers", "{v}");
    // A task added now waits for the implementation.
    let (st, t) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/changes/{n}/tasks")),
        &s.andi,
        Some(json!({"short_description": "Reboot srv-01", "order": 10})),
    )
    .await?;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    assert!(text(&t["number"]).starts_with("CTASK"), "{t}");
    assert_eq!(t["state"], "pending");
    let c = patch(&app, &s.andi, &n, json!({"risk_answers": high()})).await?;
    assert_eq!((&c["risk"], &c["risk_score"]), (&json!("high"), &json!(9)));
    let c = ok(&app, &s.andi, &n, "request_approval", json!({})).await?;
    assert_eq!(
        (&c["state"], &c["approval"]),
        (&json!("authorize"), &json!("requested"))
    );
    // High risk: the CAB, all of them.
    let d = get(&app, &format!("/changes/{n}"), &s.andi).await?;
    let asked: Vec<String> = d["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| text(&a["approver"]["display"]))
        .collect();
    assert_eq!(asked.len(), 2, "{d}");
    let (st, _) = act(&app, &s.andi, &n, "schedule", json!({})).await?;
    assert_eq!(st, StatusCode::CONFLICT, "not before the approvals");
    let (st, _) = act(&app, &s.andi, &n, "implement", json!({})).await?;
    assert_eq!(st, StatusCode::CONFLICT, "not before the approvals");
    assert_eq!(decide_all(&app, &s.budi, &n, true).await?, 1);
    let c = get(&app, &format!("/changes/{n}"), &s.andi).await?;
    assert_eq!(c["approval"], "requested", "all must approve");
    let (st, _) = act(&app, &s.andi, &n, "implement", json!({})).await?;
    assert_eq!(st, StatusCode::CONFLICT, "one of two is not enough");
    assert_eq!(decide_all(&app, &s.citra, &n, true).await?, 1);
    let c = get(&app, &format!("/changes/{n}"), &s.andi).await?;
    assert_eq!(
        (&c["state"], &c["approval"]),
        (&json!("authorize"), &json!("approved"))
    );
    let c = ok(&app, &s.andi, &n, "schedule", json!({})).await?;
    assert_eq!(c["state"], "scheduled");
    // The window is fixed once authorized.
    let (st, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/changes/{n}")),
        &s.andi,
        Some(json!({"planned_end": w.0})),
    )
    .await?;
    assert!(
        st == StatusCode::CONFLICT || st == StatusCode::UNPROCESSABLE_ENTITY,
        "{st} {v}"
    );
    let c = ok(&app, &s.andi, &n, "implement", json!({})).await?;
    assert_eq!(c["state"], "implement");
    assert!(c["actual_start"].is_string(), "{c}");
    let d = get(&app, &format!("/changes/{n}"), &s.andi).await?;
    assert_eq!(d["tasks"][0]["state"], "open", "{d}");
    let (st, v) = act(
        &app,
        &s.andi,
        &n,
        "review",
        json!({"outcome": "successful"}),
    )
    .await?;
    assert_eq!(st, StatusCode::CONFLICT, "its task is open: {v}");
    let task = text(&d["tasks"][0]["number"]);
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/change_tasks/{task}/close")),
        &s.andi,
        Some(json!({"notes": "Rebooted"})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    let (st, v) = act(&app, &s.andi, &n, "review", json!({"outcome": "nearly"})).await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let c = ok(
        &app,
        &s.andi,
        &n,
        "review",
        json!({"outcome": "successful_with_issues"}),
    )
    .await?;
    assert_eq!(
        (&c["state"], &c["outcome"]),
        (&json!("review"), &json!("successful_with_issues"))
    );
    let (st, v) = act(&app, &s.andi, &n, "cancel", json!({"reason": "too late"})).await?;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "a change under review is not canceled: {v}"
    );
    let (st, _) = act(&app, &s.andi, &n, "close", json!({})).await?;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "the review's notes are needed"
    );
    let c = ok(
        &app,
        &s.andi,
        &n,
        "close",
        json!({"review_notes": "One reboot took long"}),
    )
    .await?;
    assert_eq!(c["state"], "closed");
    assert!(
        c["actual_end"].is_string() && c["closed_at"].is_string(),
        "{c}"
    );
    let list = get(&app, "/changes?state=closed&change_type=normal", &s.andi).await?;
    assert_eq!(numbers(&list["items"], "number"), std::slice::from_ref(&n));
    // Requesters do not see changes.
    let (_, eko) = app.person("eko", &["requester"], None).await?;
    let (st, _) = send(
        &app.http,
        Method::GET,
        &app.api(&format!("/changes/{n}")),
        &eko,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::FORBIDDEN);
    Ok(())
}

async fn one_rejection_rejects_under_the_all_rule(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let w = window(&app, 48, 1);
    let n = normal(&app, &s, "Replace the core switch", &["core-switch"], &w).await?;
    ok(&app, &s.andi, &n, "assess", json!({})).await?;
    patch(&app, &s.andi, &n, json!({"risk_answers": high()})).await?;
    ok(&app, &s.andi, &n, "request_approval", json!({})).await?;
    decide_all(&app, &s.budi, &n, true).await?;
    let mine = get(&app, "/approvals", &s.citra).await?;
    let id = mine
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["task_number"] == n.as_str())
        .map(|a| text(&a["id"]))
        .unwrap_or_default();
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/approvals/{id}/reject")),
        &s.citra,
        Some(json!({})),
    )
    .await?;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a rejection says why: {v}"
    );
    decide_all(&app, &s.citra, &n, false).await?;
    let c = get(&app, &format!("/changes/{n}"), &s.andi).await?;
    assert_eq!(
        (&c["state"], &c["approval"]),
        (&json!("authorize"), &json!("rejected")),
        "{c}"
    );
    let (st, _) = act(&app, &s.andi, &n, "schedule", json!({})).await?;
    assert_eq!(st, StatusCode::CONFLICT);
    // Revised and asked again at low risk: the group's manager decides.
    ok(
        &app,
        &s.andi,
        &n,
        "revise",
        json!({"reason": "Split into smaller steps"}),
    )
    .await?;
    patch(&app, &s.andi, &n, json!({"risk_answers": low()})).await?;
    let c = ok(&app, &s.andi, &n, "request_approval", json!({})).await?;
    assert_eq!(c["approval"], "requested");
    assert_eq!(
        decide_all(&app, &s.budi, &n, true).await?,
        0,
        "not the CAB now"
    );
    assert_eq!(decide_all(&app, &s.maya, &n, true).await?, 1);
    let c = get(&app, &format!("/changes/{n}"), &s.andi).await?;
    assert_eq!(c["approval"], "approved");
    // An emergency change goes to the emergency CAB at once.
    let e = post(
        &app,
        "/changes",
        &s.andi,
        json!({"short_description": "Stop the outage", "change_type": "emergency",
               "assignment_group": "Web", "cis": [s.ci["srv-02"]],
               "planned_start": w.0, "planned_end": w.1,
               "implementation_plan": "Restart", "backout_plan": "None needed",
               "risk_answers": {"users_affected": "everyone", "done_before": "often",
                                "backout": "minutes", "outage": "yes"}}),
    )
    .await?;
    let en = text(&e["number"]);
    let (st, _) = act(&app, &s.andi, &en, "assess", json!({})).await?;
    assert_eq!(
        st,
        StatusCode::CONFLICT,
        "an emergency change is not assessed"
    );
    ok(&app, &s.andi, &en, "request_approval", json!({})).await?;
    assert_eq!(decide_all(&app, &s.budi, &en, true).await?, 0);
    assert_eq!(decide_all(&app, &s.dewi, &en, true).await?, 1);
    let c = ok(
        &app,
        &s.andi,
        &en,
        "schedule",
        json!({"conflict_reason": "emergency"}),
    )
    .await?;
    assert_eq!(c["state"], "scheduled");
    Ok(())
}

async fn conflicts_are_flagged_on_both_changes_and_need_a_reason(
    app: TestApp,
) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let w = window(&app, 24, 4);
    let later = window(&app, 24 * 7, 2);
    let a = authorized(&app, &s, "Replace the core switch", &["core-switch"], &w).await?;
    let b = authorized(
        &app,
        &s,
        "Patch srv-01",
        &["srv-01"],
        &(w.0.clone(), later.0.clone()),
    )
    .await?;
    let c = authorized(&app, &s, "Move srv-01", &["srv-01"], &w).await?;
    let d = authorized(&app, &s, "Patch srv-02 next week", &["srv-02"], &later).await?;
    let e = authorized(&app, &s, "Service the printer", &["printer-01"], &w).await?;
    let conflicts = async |key: &str| -> anyhow::Result<Vec<(String, String)>> {
        let list = get(&app, &format!("/changes/{key}/conflicts"), &s.andi).await?;
        let mut out: Vec<(String, String)> = list
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| {
                let other = c["change_number"].as_str().unwrap_or("").to_owned();
                (text(&c["kind"]), other)
            })
            .collect();
        out.sort();
        Ok(out)
    };
    let pair = |k: &str, n: &str| (k.to_owned(), n.to_owned());
    // A on the switch reaches srv-01, which B and C change.
    assert_eq!(
        conflicts(&a).await?,
        [pair("impact", &b), pair("impact", &c)]
    );
    // B and C change srv-01 in overlapping windows: flagged on both.
    assert_eq!(
        conflicts(&b).await?,
        [pair("impact", &a), pair("same_ci", &c)]
    );
    assert_eq!(
        conflicts(&c).await?,
        [pair("impact", &a), pair("same_ci", &b)]
    );
    assert_eq!(conflicts(&d).await?, [], "next week, on its own");
    assert_eq!(conflicts(&e).await?, [], "an unrelated CI");
    // Scheduling in conflict needs a reason.
    let (st, v) = act(&app, &s.andi, &b, "schedule", json!({})).await?;
    assert_eq!(st, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "schedule_conflict");
    assert!(text(&v["detail"]).contains(&c), "{v}");
    let unchanged = get(&app, &format!("/changes/{b}"), &s.andi).await?;
    assert_eq!(unchanged["state"], "authorize");
    let done = ok(
        &app,
        &s.andi,
        &b,
        "schedule",
        json!({"conflict_reason": "Agreed with the network team"}),
    )
    .await?;
    assert_eq!(
        (&done["state"], &done["conflict_reason"]),
        (&json!("scheduled"), &json!("Agreed with the network team"))
    );
    ok(&app, &s.andi, &d, "schedule", json!({})).await?;
    // A blackout window over E's window, everywhere.
    let (st, bo) = send(
        &app.http,
        Method::POST,
        &app.api("/change_blackouts"),
        &s.maya,
        Some(json!({"name": "Year-end freeze", "starts_at": w.0, "ends_at": w.1})),
    )
    .await?;
    assert_eq!(st, StatusCode::CREATED, "{bo}");
    let (st, _) = send(
        &app.http,
        Method::POST,
        &app.api("/change_blackouts"),
        &s.andi,
        Some(json!({"name": "Not mine", "starts_at": w.0, "ends_at": w.1})),
    )
    .await?;
    assert_eq!(st, StatusCode::FORBIDDEN, "managers set blackout windows");
    assert_eq!(conflicts(&e).await?, [pair("blackout", "")]);
    assert_eq!(conflicts(&d).await?, [], "outside the freeze");
    // The calendar flags them; the default period follows the clock.
    let cal = get(&app, "/changes/calendar", &s.andi).await?;
    let flagged: BTreeMap<String, bool> = cal["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|x| (text(&x["number"]), x["in_conflict"] == true))
        .collect();
    let expected: BTreeMap<String, bool> =
        [(&a, true), (&b, true), (&c, true), (&d, false), (&e, true)]
            .into_iter()
            .map(|(n, f)| (n.clone(), f))
            .collect();
    assert_eq!(flagged, expected);
    assert_eq!(cal["blackouts"][0]["name"], "Year-end freeze");
    let cal = get(&app, "/changes/calendar?risk=high", &s.andi).await?;
    assert_eq!(
        cal["changes"].as_array().map(Vec::len),
        Some(0),
        "all are low"
    );
    let on_ci = get(
        &app,
        &format!("/changes/calendar?configuration_item={}", s.ci["srv-01"]),
        &s.andi,
    )
    .await?;
    assert_eq!(numbers(&on_ci["changes"], "number"), {
        let mut v = vec![b.clone(), c.clone()];
        v.sort();
        v
    });
    app.clock.advance(jiff::SignedDuration::from_hours(24 * 40));
    let cal = get(&app, "/changes/calendar", &s.andi).await?;
    assert_eq!(
        cal["changes"].as_array().map(Vec::len),
        Some(0),
        "a month later"
    );
    let (st, v) = send(
        &app.http,
        Method::GET,
        &app.api("/changes/calendar?from=2026-05-01&to=2026-04-01"),
        &s.andi,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    Ok(())
}

async fn risk_follows_the_answers_and_the_impact(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let svc = post(
        &app,
        "/services",
        &s.andi,
        json!({"name": "Shop", "criticality": 1}),
    )
    .await?;
    let sid = text(&svc["id"]);
    post(
        &app,
        &format!("/services/{sid}/configuration_items"),
        &s.andi,
        json!({"configuration_item": s.ci["app-01"]}),
    )
    .await?;
    let w = window(&app, 24, 1);
    // The same answers always give the same level.
    let mut levels = Vec::new();
    for i in 0..3 {
        let n = normal(&app, &s, &format!("Printer {i}"), &["printer-01"], &w).await?;
        let c = patch(&app, &s.andi, &n, json!({"risk_answers": high()})).await?;
        let again = patch(&app, &s.andi, &n, json!({"risk_answers": high()})).await?;
        levels.push((text(&c["risk"]), text(&again["risk"])));
    }
    assert!(
        levels
            .iter()
            .all(|l| *l == ("high".to_owned(), "high".to_owned())),
        "{levels:?}"
    );
    // srv-01 carries app-01, which delivers a service of criticality 1: at least high.
    let n = normal(&app, &s, "Patch srv-01", &["srv-01"], &w).await?;
    let c = patch(&app, &s.andi, &n, json!({"risk_answers": low()})).await?;
    assert_eq!(
        (&c["risk"], &c["risk_score"], &c["impact_risk"]),
        (&json!("high"), &json!(0), &json!("high")),
        "{c}"
    );
    let impact = get(&app, &format!("/changes/{n}/impact"), &s.andi).await?;
    assert_eq!(impact["services"][0]["display"], "Shop", "{impact}");
    assert_eq!(impact["services"][0]["criticality"], 1);
    assert_eq!(impact["risk_floor"], "high");
    // The same answers on a printer alone: low.
    let p = normal(&app, &s, "Printer toner", &["printer-01"], &w).await?;
    let c = patch(&app, &s.andi, &p, json!({"risk_answers": low()})).await?;
    assert_eq!(c["risk"], "low");
    // Bad answers: every one named, nothing changed.
    let (st, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/changes/{p}")),
        &s.andi,
        Some(json!({"risk_answers": {"users_affected": "martians", "colour": "red"}})),
    )
    .await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let fields: Vec<String> = v["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| text(&e["field"]))
        .collect();
    for f in [
        "risk_answers.users_affected",
        "risk_answers.done_before",
        "risk_answers.colour",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} in {fields:?}");
    }
    let c = get(&app, &format!("/changes/{p}"), &s.andi).await?;
    assert_eq!(
        (&c["risk"], &c["risk_answers"]["users_affected"]),
        (&json!("low"), &json!("few"))
    );
    // The questionnaire is the type's, and an administrator may change it.
    let m = get(&app, "/change_models/normal", &s.andi).await?;
    assert_eq!(
        m["questionnaire"]["questions"].as_array().map(Vec::len),
        Some(5),
        "{m}"
    );
    let mut q = m["questionnaire"].clone();
    q["thresholds"] = json!({"moderate": 1, "high": 2, "very_high": 3});
    let (st, v) = send(
        &app.http,
        Method::PUT,
        &app.api("/change_models/normal"),
        &s.maya,
        Some(json!({"questionnaire": q})),
    )
    .await?;
    assert_eq!(st, StatusCode::FORBIDDEN, "administrators: {v}");
    let (st, v) = send(
        &app.http,
        Method::PUT,
        &app.api("/change_models/normal"),
        &app.admin_token,
        Some(json!({"questionnaire": q, "rules": null})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    let c = patch(&app, &s.andi, &p, json!({"risk_answers": {"users_affected": "department", "done_before": "often", "backout": "minutes", "outage": "no", "tested": "fully"}})).await?;
    assert_eq!(c["risk"], "high", "2 is high now: {c}");
    let (st, v) = send(&app.http, Method::PUT, &app.api("/change_models/normal"), &app.admin_token,
        Some(json!({"questionnaire": {"questions": [], "thresholds": {"moderate": 5, "high": 1, "very_high": 2}}}))).await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    Ok(())
}

async fn standard_changes_come_from_approved_templates(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let offering = crate::requests::catalogue_offering(&app, "Hosting").await?;
    post(
        &app,
        "/catalog/items",
        &app.admin_token,
        json!({"name": "Server reboot", "service_offering": offering,
               "variables": [
                   {"name": "planned_start", "kind": "text", "label_en": "Start", "label_id": "Mulai"},
                   {"name": "planned_end", "kind": "text", "label_en": "End", "label_id": "Selesai"}]}),
    )
    .await?;
    let (st, t) = send(
        &app.http,
        Method::POST,
        &app.api("/change_templates"),
        &s.andi,
        Some(json!({
            "name": "Reboot a server",
            "fields": {"short_description": "Reboot a server", "assignment_group": "Web",
                       "implementation_plan": "Drain, reboot, check", "backout_plan": "None",
                       "risk": "low", "configuration_item": s.ci["srv-02"]},
            "tasks": [{"order": 10, "group": "Web", "short_description": "Drain the server"},
                      {"order": 20, "group": "Web", "short_description": "Reboot it"}],
            "item": "Server reboot",
        })),
    )
    .await?;
    assert_eq!(st, StatusCode::CREATED, "{t}");
    assert_eq!(t["state"], "draft");
    let w = window(&app, 24, 1);
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api("/changes"),
        &s.andi,
        Some(json!({"template": "Reboot a server", "planned_start": w.0, "planned_end": w.1})),
    )
    .await?;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not approved yet: {v}"
    );
    let tpl = text(&t["id"]);
    let step = async |token: &str, action: &str, note: &str| {
        send(
            &app.http,
            Method::POST,
            &app.api(&format!("/change_templates/{tpl}/{action}")),
            token,
            Some(json!({"note": note})),
        )
        .await
    };
    assert_eq!(step(&s.andi, "propose", "").await?.0, StatusCode::OK);
    assert_eq!(
        step(&s.andi, "approve", "").await?.0,
        StatusCode::FORBIDDEN,
        "a manager approves"
    );
    assert_eq!(
        step(&s.maya, "reject", "").await?.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "with a reason"
    );
    let (st, v) = step(&s.maya, "approve", "Fine").await?;
    assert_eq!(
        (st, &v["state"]),
        (StatusCode::OK, &json!("approved")),
        "{v}"
    );
    let c = post(
        &app,
        "/changes",
        &s.andi,
        json!({"template": "Reboot a server", "planned_start": w.0, "planned_end": w.1}),
    )
    .await?;
    let n = text(&c["number"]);
    assert_eq!(
        (
            &c["change_type"],
            &c["approval"],
            &c["risk"],
            &c["short_description"]
        ),
        (
            &json!("standard"),
            &json!("not_required"),
            &json!("low"),
            &json!("Reboot a server")
        )
    );
    let (st, _) = act(&app, &s.andi, &n, "request_approval", json!({})).await?;
    assert_eq!(st, StatusCode::CONFLICT, "pre-approved");
    let c = ok(&app, &s.andi, &n, "schedule", json!({})).await?;
    assert_eq!(c["state"], "scheduled");
    ok(&app, &s.andi, &n, "implement", json!({})).await?;
    let d = get(&app, &format!("/changes/{n}"), &s.andi).await?;
    let tasks: Vec<(String, String)> = d["tasks"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (text(&t["short_description"]), text(&t["state"])))
        .collect();
    assert_eq!(
        tasks,
        [
            ("Drain the server".to_owned(), "open".to_owned()),
            ("Reboot it".to_owned(), "pending".to_owned())
        ]
    );
    // A standard change ordered from the catalogue is made when the item is approved.
    let (_, eko) = app.person("eko", &["requester"], None).await?;
    let later = window(&app, 24 * 3, 1);
    let order = post(
        &app,
        "/requests",
        &eko,
        json!({"items": [{"item": "Server reboot", "variables": {"planned_start": later.0, "planned_end": later.1}}]}),
    )
    .await?;
    let ritm = text(&order["items"][0]["number"]);
    let list = get(
        &app,
        "/changes?change_type=standard&state=scheduled",
        &s.andi,
    )
    .await?;
    let made: Vec<&Value> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| c["parent"]["display"].as_str().is_some() && text(&c["number"]) != n)
        .collect();
    assert_eq!(made.len(), 1, "{list} for {ritm}");
    assert_eq!(made[0]["caller"]["display"], "Test eko");
    // Editing an approved template sends it back to draft.
    let (st, v) = send(
        &app.http,
        Method::PUT,
        &app.api(&format!("/change_templates/{tpl}")),
        &s.andi,
        Some(json!({"name": "Reboot a server", "fields": {"risk": "extreme"}})),
    )
    .await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (st, v) = send(
        &app.http,
        Method::PUT,
        &app.api(&format!("/change_templates/{tpl}")),
        &s.andi,
        Some(json!({"name": "Reboot a server", "fields": {"risk": "moderate"}})),
    )
    .await?;
    assert_eq!((st, &v["state"]), (StatusCode::OK, &json!("draft")), "{v}");
    Ok(())
}

async fn cab_meetings_hold_an_agenda_and_decisions(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let w = window(&app, 48, 2);
    let n = normal(&app, &s, "Replace the core switch", &["core-switch"], &w).await?;
    ok(&app, &s.andi, &n, "assess", json!({})).await?;
    patch(&app, &s.andi, &n, json!({"risk_answers": high()})).await?;
    ok(&app, &s.andi, &n, "request_approval", json!({})).await?;
    let (starts, ends) = window(&app, 2, 1);
    let (st, m) = send(
        &app.http,
        Method::POST,
        &app.api("/cab_meetings"),
        &s.budi,
        Some(
            json!({"title": "Weekly CAB", "starts_at": starts, "ends_at": ends,
                    "attendees": ["budi", "citra", "maya"]}),
        ),
    )
    .await?;
    assert_eq!(st, StatusCode::CREATED, "{m}");
    assert_eq!(
        numbers(&m["agenda"], "number"),
        std::slice::from_ref(&n),
        "{m}"
    );
    assert_eq!(m["attendees"].as_array().map(Vec::len), Some(3));
    let id = text(&m["id"]);
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/cab_meetings/{id}/decisions")),
        &s.budi,
        Some(json!({"change": n, "decision": "deferred"})),
    )
    .await?;
    assert_eq!(
        st,
        StatusCode::UNPROCESSABLE_ENTITY,
        "deferring says why: {v}"
    );
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/cab_meetings/{id}/decisions")),
        &s.budi,
        Some(json!({"change": n, "decision": "approved", "comment": "Go ahead"})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["decisions"][0]["decision"], "approved");
    // Budi's own approval was decided with it; citra's still waits.
    let d = get(&app, &format!("/changes/{n}"), &s.andi).await?;
    let states: Vec<String> = d["approvals"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| format!("{}:{}", text(&a["approver"]["display"]), text(&a["state"])))
        .collect();
    assert!(
        states.contains(&"Test budi:approved".to_owned()),
        "{states:?}"
    );
    assert!(
        states.contains(&"Test citra:requested".to_owned()),
        "{states:?}"
    );
    assert_eq!(d["cab_decisions"][0]["meeting_title"], "Weekly CAB");
    let (st, _) = send(
        &app.http,
        Method::POST,
        &app.api("/cab_meetings"),
        &s.andi,
        Some(json!({"title": "Mine", "starts_at": starts, "ends_at": ends})),
    )
    .await?;
    assert_eq!(st, StatusCode::FORBIDDEN, "managers plan meetings");
    let list = get(&app, "/cab_meetings", &s.andi).await?;
    assert_eq!(list[0]["title"], "Weekly CAB");
    Ok(())
}

async fn incidents_wait_for_and_are_caused_by_changes(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let w = window(&app, 0, 2);
    let incident = async |title: &str| -> anyhow::Result<String> {
        let i = post(
            &app,
            "/incidents",
            &s.andi,
            json!({"short_description": title, "configuration_item": s.ci["srv-01"]}),
        )
        .await?;
        Ok(text(&i["number"]))
    };
    let waiting = incident("The shop is slow").await?;
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{waiting}/hold")),
        &s.andi,
        Some(json!({"reason": "awaiting_change"})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    let n = authorized(&app, &s, "Add memory to srv-01", &["srv-01"], &w).await?;
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/changes/{n}/links")),
        &s.andi,
        Some(json!({"kind": "incidents", "tasks": [waiting]})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    ok(&app, &s.andi, &n, "schedule", json!({})).await?;
    app.clock.advance(jiff::SignedDuration::from_mins(5));
    ok(&app, &s.andi, &n, "implement", json!({})).await?;
    app.clock.advance(jiff::SignedDuration::from_mins(30));
    let broke = incident("srv-01 does not boot").await?;
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{broke}/caused_by")),
        &s.andi,
        Some(json!({"change": n})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{v}");
    assert_eq!(v["caused_by_change"][0], n.as_str());
    let (st, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{broke}/caused_by")),
        &s.andi,
        Some(json!({"change": "CHG9999999"})),
    )
    .await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    app.clock.advance(jiff::SignedDuration::from_mins(10));
    ok(
        &app,
        &s.andi,
        &n,
        "review",
        json!({"outcome": "unsuccessful"}),
    )
    .await?;
    let d = get(&app, &format!("/changes/{n}"), &s.andi).await?;
    assert_eq!(
        numbers(&d["caused_incidents"], "number"),
        std::slice::from_ref(&broke)
    );
    assert_eq!(
        numbers(&d["incidents_during"], "number"),
        std::slice::from_ref(&broke),
        "opened on its CI while implemented"
    );
    let i = get(&app, &format!("/incidents/{waiting}"), &s.andi).await?;
    assert_eq!(i["state"], "on_hold");
    ok(
        &app,
        &s.andi,
        &n,
        "close",
        json!({"review_notes": "Backed out; srv-01 needs a new board"}),
    )
    .await?;
    let i = get(&app, &format!("/incidents/{waiting}"), &s.andi).await?;
    assert_eq!(
        i["state"], "in_progress",
        "it resumes when the change closes"
    );
    let tied = get(&app, &format!("/incidents/{waiting}/changes"), &s.andi).await?;
    assert_eq!(tied["awaiting_change"][0], n.as_str());
    Ok(())
}

async fn the_calendar_feed_is_icalendar(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let w1 = window(&app, 24, 2);
    let w2 = window(&app, 24 * 5, 3);
    let a = authorized(
        &app,
        &s,
        "Patch srv-01; reboot, then check",
        &["srv-01"],
        &w1,
    )
    .await?;
    let b = authorized(&app, &s, "Replace the printer's drum", &["printer-01"], &w2).await?;
    let c = authorized(&app, &s, "Not yet scheduled", &["srv-02"], &w2).await?;
    ok(&app, &s.andi, &a, "schedule", json!({})).await?;
    ok(&app, &s.andi, &b, "schedule", json!({})).await?;
    let _ = c;
    let url = format!("{}?token={}", app.api("/changes/calendar.ics"), s.andi);
    let resp = app.http.get(&url).send().await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    assert!(ctype.starts_with("text/calendar"), "{ctype}");
    let body = resp.text().await?;
    assert!(body.starts_with("BEGIN:VCALENDAR\r\n") && body.ends_with("END:VCALENDAR\r\n"));
    assert!(body.lines().all(|l| l.len() <= 76), "folded at 75 octets");
    let unfolded = body.replace("\r\n ", "");
    let summaries: Vec<&str> = unfolded
        .split("\r\n")
        .filter_map(|l| l.strip_prefix("SUMMARY:"))
        .collect();
    assert_eq!(summaries.len(), 2, "the scheduled ones: {body}");
    assert!(
        summaries
            .iter()
            .any(|x| x.starts_with(&a) && x.contains("Patch srv-01\\; reboot\\, then check")),
        "{summaries:?}"
    );
    assert!(summaries.iter().any(|x| x.starts_with(&b)), "{summaries:?}");
    // Checked by a real iCalendar library when one is given (CI gives Python's icalendar).
    if let Ok(python) = std::env::var("SIGAP_ICALENDAR_PYTHON") {
        let file = std::env::temp_dir().join(format!("sigap-{}.ics", uuid::Uuid::now_v7()));
        std::fs::write(&file, &body)?;
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/check-ics.py");
        let out = std::process::Command::new(python)
            .arg(script)
            .arg(&file)
            .output()?;
        let _ = std::fs::remove_file(&file);
        anyhow::ensure!(
            out.status.success(),
            "icalendar: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let events: Value = serde_json::from_slice(&out.stdout)?;
        let mut got: Vec<String> = events
            .as_array()
            .into_iter()
            .flatten()
            .map(|e| {
                text(&e["summary"])
                    .split(' ')
                    .next()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        got.sort();
        let mut want = vec![a.clone(), b.clone()];
        want.sort();
        assert_eq!(got, want, "{events}");
        let first = events
            .as_array()
            .into_iter()
            .flatten()
            .find(|e| text(&e["summary"]).starts_with(&a))
            .cloned()
            .unwrap_or_default();
        let start: jiff::Timestamp = text(&first["start"]).parse()?;
        let want_start: jiff::Timestamp = w1.0.parse()?;
        assert_eq!(start.as_second(), want_start.as_second(), "{first}");
        assert_eq!(
            text(&first["summary"]),
            format!("{a} Patch srv-01; reboot, then check")
        );
    } else if std::env::var("SIGAP_REQUIRE_ICALENDAR").is_ok_and(|v| v == "1") {
        anyhow::bail!(
            "SIGAP_ICALENDAR_PYTHON is not set: CI checks the feed with Python's icalendar"
        );
    }
    let resp = app
        .http
        .get(app.api("/changes/calendar.ics"))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let resp = app
        .http
        .get(format!(
            "{}?token=nonsense",
            app.api("/changes/calendar.ics")
        ))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
    let (_, eko) = app.person("eko", &["requester"], None).await?;
    let resp = app
        .http
        .get(format!("{}?token={eko}", app.api("/changes/calendar.ics")))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN, "agents only");
    Ok(())
}

async fn bad_input_changes_nothing(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let w = window(&app, 24, 1);
    let n = normal(&app, &s, "Patch srv-01", &["srv-01"], &w).await?;
    let count = async || -> anyhow::Result<usize> {
        let list = get(&app, "/changes?limit=500", &s.andi).await?;
        Ok(list["items"].as_array().map_or(0, Vec::len))
    };
    let before = count().await?;
    let bad = [
        json!({"short_description": "x", "planned_start": 5}),
        json!({"short_description": "x", "planned_start": "tomorrow", "planned_end": w.1}),
        json!({"short_description": "x", "planned_start": w.1, "planned_end": w.0}),
        json!({"short_description": "x", "planned_start": w.0}),
        json!({"short_description": "x", "change_type": "sideways"}),
        json!({"short_description": "x", "cis": ["no-such-ci"]}),
        json!({"short_description": "x", "cis": vec!["printer-01"; 101]}),
        json!({"short_description": "x", "template": "no such template"}),
        json!({"short_description": "x", "change_type": "standard"}),
        json!({"short_description": "x", "risk_answers": {"outage": "maybe"}}),
        json!({"short_description": "x", "organization": "No Such Org"}),
        json!({"short_description": "x", "surprise": true}),
        json!({"short_description": "x\u{0}y"}),
        json!({"description": "no title"}),
        json!([1, 2, 3]),
    ];
    for body in bad {
        let (st, v) = send(
            &app.http,
            Method::POST,
            &app.api("/changes"),
            &s.andi,
            Some(body.clone()),
        )
        .await?;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(v["code"], "validation_failed", "{v}");
    }
    let resp = app
        .http
        .post(app.api("/changes"))
        .bearer_auth(&s.andi)
        .header("content-type", "application/json")
        .body("{\"short_description\": ")
        .send()
        .await?;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    // A body over the limit is refused before any route (tests/it/api.rs checks it).
    assert_eq!(count().await?, before, "nothing was made");
    // A hostile title is kept as text.
    let c = post(
        &app,
        "/changes",
        &s.andi,
        json!({"short_description": "<script>alert(1)</script>"}),
    )
    .await?;
    assert_eq!(c["short_description"], "<script>alert(1)</script>");
    // The type is set while new; an unknown action is not found.
    ok(&app, &s.andi, &n, "assess", json!({})).await?;
    let (st, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/changes/{n}")),
        &s.andi,
        Some(json!({"change_type": "emergency"})),
    )
    .await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (st, _) = act(&app, &s.andi, &n, "teleport", json!({})).await?;
    assert_eq!(st, StatusCode::NOT_FOUND);
    let (st, _) = act(&app, &s.andi, &n, "cancel", json!({"reason": 7})).await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY);
    let c = get(&app, &format!("/changes/{n}"), &s.andi).await?;
    assert_eq!(
        (&c["state"], &c["change_type"]),
        (&json!("assess"), &json!("normal"))
    );
    for path in [
        "/changes/CHG0000000",
        "/changes/%ff",
        "/change_templates/nope",
        "/cab_meetings/nope",
        "/change_models/huge",
    ] {
        let (st, _) = send(&app.http, Method::GET, &app.api(path), &s.andi, None).await?;
        assert_eq!(st, StatusCode::NOT_FOUND, "{path}");
    }
    Ok(())
}

/// The states a type passes through, and whether one needs its approval complete.
fn allowed(t: &str, state: &str) -> bool {
    let path: &[&str] = match t {
        "normal" => &[
            "new",
            "assess",
            "authorize",
            "scheduled",
            "implement",
            "review",
            "closed",
        ],
        "emergency" => &[
            "new",
            "authorize",
            "scheduled",
            "implement",
            "review",
            "closed",
        ],
        _ => &["new", "scheduled", "implement", "review", "closed"],
    };
    state == "canceled" || path.contains(&state)
}

const ACTIONS: &[&str] = &[
    "assess",
    "request_approval",
    "schedule",
    "revise",
    "implement",
    "review",
    "close",
    "cancel",
    "work_note",
    "approve",
    "reject",
];

async fn random_actions_never_leave_the_model(app: TestApp) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let approvers = [
        s.maya.clone(),
        s.budi.clone(),
        s.citra.clone(),
        s.dewi.clone(),
    ];
    post(
        &app,
        "/change_templates",
        &s.andi,
        json!({"name": "Routine", "fields": {"short_description": "Routine", "assignment_group": "Web"}}),
    )
    .await?;
    let tpl = get(&app, "/change_templates/Routine", &s.andi).await?;
    let tid = text(&tpl["id"]);
    for (token, action) in [(&s.andi, "propose"), (&s.maya, "approve")] {
        let (st, v) = send(
            &app.http,
            Method::POST,
            &app.api(&format!("/change_templates/{tid}/{action}")),
            token,
            Some(json!({})),
        )
        .await?;
        anyhow::ensure!(st == StatusCode::OK, "{v}");
    }
    let seed = std::env::var("SIGAP_TEST_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0x5eed_c4a6_u64);
    let mut rng = Rng(seed);
    let w = window(&app, 24, 1);
    for t in ["normal", "emergency", "standard"] {
        let mut keys = Vec::new();
        for i in 0..3 {
            let risk = if i == 0 { high() } else { low() };
            let mut body = json!({
                "short_description": format!("{t} {i}"), "assignment_group": "Web",
                "cis": [s.ci[if i == 2 { "srv-02" } else { "printer-01" }]],
                "planned_start": w.0, "planned_end": w.1,
                "implementation_plan": "Do it", "backout_plan": "Undo it", "test_plan": "Try it",
            });
            if t == "standard" {
                body["template"] = json!("Routine");
            } else {
                body["change_type"] = json!(t);
                let mut r = risk;
                if t == "emergency" {
                    if let Some(m) = r.as_object_mut() {
                        m.remove("tested");
                    }
                }
                body["risk_answers"] = r;
            }
            let c = post(&app, "/changes", &s.andi, body).await?;
            keys.push(text(&c["number"]));
        }
        for step in 0..45 {
            let key = &keys[rng.below(keys.len())];
            let action = ACTIONS[rng.below(ACTIONS.len())];
            let before = get(&app, &format!("/changes/{key}"), &s.andi).await?;
            let (status, _) = if action == "approve" || action == "reject" {
                let who = &approvers[rng.below(approvers.len())];
                let n = decide_all(&app, who, key, action == "approve").await?;
                (
                    if n > 0 {
                        StatusCode::OK
                    } else {
                        StatusCode::CONFLICT
                    },
                    Value::Null,
                )
            } else {
                let body = json!({"reason": "because", "outcome": "successful", "review_notes": "fine",
                                  "body": "note", "conflict_reason": if rng.below(2) == 0 { "" } else { "accepted" }});
                act(&app, &s.andi, key, action, body).await?
            };
            let after = get(&app, &format!("/changes/{key}"), &s.andi).await?;
            let (state, approval) = (text(&after["state"]), text(&after["approval"]));
            let ctx = format!(
                "{t} step {step}: {action} on {key} ({} → {state}), {status}",
                text(&before["state"])
            );
            assert!(allowed(t, &state), "{ctx}: left the model");
            assert!(status.as_u16() < 500, "{ctx}");
            if matches!(
                state.as_str(),
                "scheduled" | "implement" | "review" | "closed"
            ) {
                assert!(
                    approval == "approved" || approval == "not_required",
                    "{ctx}: {approval}"
                );
            }
            if t == "standard" {
                assert_eq!(approval, "not_required", "{ctx}");
            }
            if !status.is_success() {
                assert_eq!(
                    before["version"], after["version"],
                    "{ctx}: a refused action changed it"
                );
            }
            if state == "authorize" && approval == "rejected" {
                let asked = after["approvals"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter(|a| a["state"] == "requested")
                    .count();
                assert_eq!(asked, 0, "{ctx}: a rejection withdraws the rest");
            }
        }
    }
    Ok(())
}

async fn a_change_outside_its_maintenance_window_is_in_conflict(
    app: TestApp,
) -> anyhow::Result<()> {
    let s = setup(&app).await?;
    let oid = crate::requests::catalogue_offering(&app, "Payroll").await?;
    // A calendar with no hours at all: every window is outside it.
    let (st, cal) = send(
        &app.http,
        Method::POST,
        &app.api("/calendars"),
        &app.admin_token,
        Some(json!({"name": "Never", "time_zone": "UTC", "hours": [[], [], [], [], [], [], []]})),
    )
    .await?;
    assert_eq!(st, StatusCode::CREATED, "{cal}");
    let path = app.api(&format!("/offerings/{oid}/maintenance_window"));
    let (st, v) = send(
        &app.http,
        Method::PUT,
        &path,
        &s.andi,
        Some(json!({"calendar": "Never"})),
    )
    .await?;
    assert_eq!(
        st,
        StatusCode::FORBIDDEN,
        "managers set maintenance windows: {v}"
    );
    let (st, v) = send(
        &app.http,
        Method::PUT,
        &path,
        &s.maya,
        Some(json!({"calendar": "No such"})),
    )
    .await?;
    assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (st, v) = send(
        &app.http,
        Method::PUT,
        &path,
        &s.maya,
        Some(json!({"calendar": "Never"})),
    )
    .await?;
    assert_eq!(
        (st, &v["calendar"]["display"]),
        (StatusCode::OK, &json!("Never")),
        "{v}"
    );
    let w = window(&app, 24, 1);
    let n = normal(&app, &s, "Payroll upgrade", &["printer-01"], &w).await?;
    patch(&app, &s.andi, &n, json!({"service_offering": oid})).await?;
    let kinds = async || -> anyhow::Result<Vec<String>> {
        let list = get(&app, &format!("/changes/{n}/conflicts"), &s.andi).await?;
        Ok(list
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| text(&c["kind"]))
            .collect())
    };
    assert_eq!(kinds().await?, ["maintenance"]);
    let (st, _) = send(
        &app.http,
        Method::PUT,
        &path,
        &s.maya,
        Some(json!({"calendar": null})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        kinds().await?,
        Vec::<String>::new(),
        "no window, no conflict"
    );
    let list = get(&app, "/maintenance_windows", &s.andi).await?;
    assert_eq!(list.as_array().map(Vec::len), Some(0));
    Ok(())
}
