//! Request fulfilment over HTTP: the catalogue on an offering in the catalogue, an order of
//! two items (one asking the requester's manager, one needing no approval), the rejection
//! that ends one item only, the plan's tasks run by order (two side by side, then one), the
//! request closing when both items have; the order form's checks, one error per bad value;
//! random actions over requests, items, tasks and approvals that never break the rules.

use crate::incidents::{Rng, group_with};
use crate::portfolio::{get, post, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_testkit::{TestApp, both};

both!(
    an_order_is_approved_rejected_and_fulfilled,
    order_forms_refuse_each_bad_value,
    random_fulfilment_actions_keep_the_rules,
    agreements_measure_items_by_their_delivery_time,
    stages_delegates_and_reminders,
    the_cart_orders_several_items_at_once,
);

/// A service in the catalogue with an offering; returns the offering's id.
pub(crate) async fn catalogue_offering(app: &TestApp, name: &str) -> anyhow::Result<String> {
    let (_, pm) = app
        .person(
            &format!("pm.{}", name.to_lowercase()),
            &["agent", "portfolio_manager"],
            None,
        )
        .await?;
    let svc = post(app, "/services", &pm, json!({"name": name})).await?;
    let id = svc["id"].as_str().unwrap_or_default().to_owned();
    for stage in [
        "analyse",
        "approve",
        "charter",
        "design",
        "transition",
        "operational",
    ] {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api(&format!("/services/{id}/stage")),
            &pm,
            Some(json!({"stage": stage, "reason": "ready"})),
        )
        .await?;
        anyhow::ensure!(s == StatusCode::OK, "{stage}: {s} {v}");
    }
    let o = post(
        app,
        &format!("/services/{id}/offerings"),
        &pm,
        json!({"name": "Standard", "availability_hours": "24x7"}),
    )
    .await?;
    Ok(o["id"].as_str().unwrap_or_default().to_owned())
}

/// The people and items of the tests: eko (a requester) whose manager is mira; agents in
/// Accounts and Laptops; a laptop asking the manager, and a mail account needing no
/// approval whose plan is two tasks side by side, then one.
struct Setup {
    eko: String,
    mira: String,
    agent: String,
}

async fn setup(app: &TestApp) -> anyhow::Result<Setup> {
    let offering = catalogue_offering(app, "Workplace").await?;
    let (_, mira) = app.person("mira", &["requester"], None).await?;
    let (_, eko) = app.person("eko", &["requester"], None).await?;
    let admin = &app.admin_token;
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api("/people/eko"),
        admin,
        Some(json!({"manager": "mira"})),
    )
    .await?;
    anyhow::ensure!(
        s == StatusCode::OK && v["manager"]["display"] == "Test mira",
        "{v}"
    );
    let (_, agent) = app.person("fajar", &["agent"], None).await?;
    group_with(app, "Accounts", &["fajar"]).await?;
    group_with(app, "Laptops", &["fajar"]).await?;
    post(
        app,
        "/catalog/categories",
        admin,
        json!({"name": "Hardware"}),
    )
    .await?;
    post(
        app,
        "/catalog/items",
        admin,
        json!({
            "name": "Laptop", "category": "Hardware", "service_offering": offering,
            "short_description": "A standard laptop", "price": "1250.00", "delivery_hours": 16,
            "variables": [{"name": "reason", "kind": "text", "label_en": "Reason",
                           "label_id": "Alasan", "required": true}],
            "approval": [{"approvers": "manager"}],
            "plan": [{"order": 10, "group": "Laptops", "short_description": "Hand over the laptop"}]
        }),
    )
    .await?;
    post(
        app,
        "/catalog/items",
        admin,
        json!({
            "name": "Mail account", "service_offering": offering,
            "variables": [{"name": "size", "kind": "choice", "label_en": "Mailbox size",
                           "label_id": "Ukuran kotak surat", "options": ["5 GB", "50 GB"],
                           "default": "5 GB"}],
            "plan": [
                {"order": 10, "group": "Accounts", "short_description": "Create the account"},
                {"order": 10, "group": "Laptops", "short_description": "Set up the mail client"},
                {"order": 20, "group": "Accounts", "short_description": "Send the credentials"}
            ]
        }),
    )
    .await?;
    Ok(Setup { eko, mira, agent })
}

async fn act(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
) -> anyhow::Result<(StatusCode, Value)> {
    send(&app.http, Method::POST, &app.api(path), token, Some(body)).await
}

fn states(list: &Value) -> Vec<String> {
    list.as_array()
        .map(|l| {
            l.iter()
                .map(|t| t["state"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn an_order_is_approved_rejected_and_fulfilled(app: TestApp) -> anyhow::Result<()> {
    let Setup { eko, mira, agent } = setup(&app).await?;
    // The catalogue as eko sees it, with when a laptop would arrive.
    let items = get(&app, "/catalog/items", &eko).await?;
    let names: Vec<&str> = items["items"]
        .as_array()
        .map(|l| l.iter().filter_map(|i| i["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["Laptop", "Mail account"]);
    let laptop = get(&app, "/catalog/items/Laptop", &eko).await?;
    assert!(laptop["expected_delivery"].is_string(), "{laptop}");
    assert_eq!(laptop["price"], 125000);

    let made = post(
        &app,
        "/requests",
        &eko,
        json!({"items": [
            {"item": "Laptop", "variables": {"reason": "Mine broke"}},
            {"item": "Mail account"}
        ]}),
    )
    .await?;
    assert_eq!(made["number"], "REQ0000001", "{made}");
    assert_eq!(
        made["state"], "in_progress",
        "the mail account is in fulfilment"
    );
    assert_eq!(made["price"], 125000);
    let (laptop_item, mail_item) = (
        made["items"][0]["number"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        made["items"][1]["number"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    );
    assert_eq!(
        (laptop_item.as_str(), made["items"][0]["state"].as_str()),
        ("RITM0000001", Some("waiting_for_approval"))
    );
    assert_eq!(made["items"][1]["state"], "fulfilment");
    assert_eq!(made["items"][1]["approval"], "not_required");

    // The approval is asked of eko's manager, and of nobody else.
    let mine = get(&app, "/approvals", &mira).await?;
    assert_eq!(mine.as_array().map(Vec::len), Some(1), "{mine}");
    assert_eq!(mine[0]["task_number"], laptop_item.as_str());
    assert_eq!(get(&app, "/approvals", &eko).await?, json!([]));
    let approval = mine[0]["id"].as_str().unwrap_or_default().to_owned();
    let seen = get(&app, &format!("/approvals/{approval}"), &mira).await?;
    assert_eq!(seen["answers"][0]["value"], "Mine broke", "{seen}");
    assert_eq!(seen["item"]["caller"]["display"], "Test eko");
    // eko may not decide it.
    let (s, _) = act(
        &app,
        &eko,
        &format!("/approvals/{approval}/approve"),
        json!({}),
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // A rejection needs a reason.
    let (s, v) = act(
        &app,
        &mira,
        &format!("/approvals/{approval}/reject"),
        json!({}),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // The mail account's tasks: two side by side, the third waits.
    let d = get(&app, &format!("/requested_items/{mail_item}"), &agent).await?;
    assert_eq!(states(&d["tasks"]), ["open", "open", "pending"], "{d}");
    assert_eq!(
        d["answers"][0]["value"], "5 GB",
        "the default is the answer"
    );

    // The manager rejects the laptop: that item only ends.
    let (s, v) = act(
        &app,
        &mira,
        &format!("/approvals/{approval}/reject"),
        json!({"comment": "Not this year"}),
    )
    .await?;
    assert_eq!(
        (s, v["state"].as_str()),
        (StatusCode::OK, Some("rejected")),
        "{v}"
    );
    let l = get(&app, &format!("/requested_items/{laptop_item}"), &eko).await?;
    assert_eq!(
        (l["state"].as_str(), l["approval"].as_str()),
        (Some("rejected"), Some("rejected"))
    );
    assert_eq!(l["tasks"], json!([]), "no work was started for it");
    let r = get(&app, "/requests/REQ0000001", &eko).await?;
    assert_eq!(r["state"], "in_progress");
    // Deciding again is a conflict.
    let (s, _) = act(
        &app,
        &mira,
        &format!("/approvals/{approval}/approve"),
        json!({}),
    )
    .await?;
    assert_eq!(s, StatusCode::CONFLICT);

    // The fulfilment groups work the tasks in order.
    let tasks: Vec<String> = d["tasks"]
        .as_array()
        .map(|l| {
            l.iter()
                .filter_map(|t| t["number"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(tasks.len(), 3);
    let queue = get(&app, "/catalog_tasks?queue=my_groups", &agent).await?;
    assert_eq!(queue["items"].as_array().map(Vec::len), Some(2), "{queue}");
    let (s, v) = act(
        &app,
        &agent,
        &format!("/catalog_tasks/{}/close", tasks[2]),
        json!({"notes": "x"}),
    )
    .await?;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_transition")),
        "{v}"
    );
    let (s, v) = act(
        &app,
        &agent,
        &format!("/catalog_tasks/{}/start", tasks[0]),
        json!({}),
    )
    .await?;
    assert_eq!(
        (s, v["state"].as_str()),
        (StatusCode::OK, Some("in_progress")),
        "{v}"
    );
    let (s, _) = act(
        &app,
        &agent,
        &format!("/catalog_tasks/{}/close", tasks[0]),
        json!({"notes": "Account made"}),
    )
    .await?;
    assert_eq!(s, StatusCode::OK);
    let d = get(&app, &format!("/requested_items/{mail_item}"), &agent).await?;
    assert_eq!(states(&d["tasks"]), ["closed_complete", "open", "pending"]);
    let (s, _) = act(
        &app,
        &agent,
        &format!("/catalog_tasks/{}/close", tasks[1]),
        json!({"notes": "Client set up"}),
    )
    .await?;
    assert_eq!(s, StatusCode::OK);
    let d = get(&app, &format!("/requested_items/{mail_item}"), &agent).await?;
    assert_eq!(
        states(&d["tasks"]),
        ["closed_complete", "closed_complete", "open"]
    );
    assert_eq!(d["state"], "fulfilment");
    let (s, _) = act(
        &app,
        &agent,
        &format!("/catalog_tasks/{}/close", tasks[2]),
        json!({"notes": "Sent"}),
    )
    .await?;
    assert_eq!(s, StatusCode::OK);

    // Both items are done: the request closes, incomplete (one was rejected).
    let m = get(&app, &format!("/requested_items/{mail_item}"), &eko).await?;
    assert_eq!(m["state"], "complete");
    let r = get(&app, "/requests/REQ0000001", &eko).await?;
    assert_eq!(r["state"], "closed_incomplete", "{r}");
    assert!(r["closed_at"].is_string());
    let states_of_items = states(&r["items"]);
    assert_eq!(states_of_items, ["rejected", "complete"]);
    // eko heard of it.
    let notes = get(&app, "/me/notifications", &eko).await?;
    let kinds: Vec<&str> = notes
        .as_array()
        .map(|l| l.iter().filter_map(|n| n["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(kinds.contains(&"request_item_rejected"), "{kinds:?}");
    assert!(kinds.contains(&"request_closed_incomplete"), "{kinds:?}");
    Ok(())
}

async fn order_forms_refuse_each_bad_value(app: TestApp) -> anyhow::Result<()> {
    let offering = catalogue_offering(&app, "Facilities").await?;
    let (_, eko) = app.person("eko", &["requester"], None).await?;
    let admin = &app.admin_token;
    post(
        &app,
        "/catalog/items",
        admin,
        json!({
            "name": "Desk move", "service_offering": offering,
            "variables": [
                {"name": "count", "kind": "number", "label_en": "Desks", "label_id": "Meja", "min": 1, "max": 10},
                {"name": "day", "kind": "date", "label_en": "Day", "label_id": "Hari"},
                {"name": "color", "kind": "choice", "label_en": "Colour", "label_id": "Warna", "options": ["red", "blue"]},
                {"name": "helper", "kind": "person", "label_en": "Helper", "label_id": "Pembantu"},
                {"name": "note", "kind": "text", "label_en": "Note", "label_id": "Catatan"}
            ]
        }),
    )
    .await?;
    let bad = json!({"items": [{"item": "Desk move", "variables": {
        "count": "three", "day": "02/12/2026", "color": "green", "helper": "nobody",
        "note": "x".repeat(1_000_000)
    }}]});
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/requests"),
        &eko,
        Some(bad),
    )
    .await?;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        v.to_string().chars().take(400).collect::<String>()
    );
    let mut fields: Vec<&str> = v["errors"]
        .as_array()
        .map(|l| l.iter().filter_map(|e| e["field"].as_str()).collect())
        .unwrap_or_default();
    fields.sort_unstable();
    assert_eq!(
        fields,
        [
            "items.0.variables.color",
            "items.0.variables.count",
            "items.0.variables.day",
            "items.0.variables.note",
        ],
        "{v}"
    );
    // The person is looked up once the values have their types.
    let wrong_person =
        json!({"items": [{"item": "Desk move", "variables": {"count": 2, "helper": "nobody"}}]});
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/requests"),
        &eko,
        Some(wrong_person),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "items.0.variables.helper", "{v}");
    // Wrong JSON types, an unknown variable, a hostile text, an unknown item.
    for (body, field) in [
        (
            json!({"items": [{"item": "Desk move", "variables": {"count": [1]}}]}),
            "items.0.variables.count",
        ),
        (
            json!({"items": [{"item": "Desk move", "variables": {"colour": "red"}}]}),
            "items.0.variables.colour",
        ),
        (
            json!({"items": [{"item": "Desk move", "variables": {"note": "a\u{0}b"}}]}),
            "items.0.variables.note",
        ),
        (json!({"items": [{"item": "Nothing"}]}), "items.0.item"),
        (
            json!({"items": [{"item": "Desk move", "quantity": 0}]}),
            "items.0.quantity",
        ),
        (json!({"items": []}), "items"),
    ] {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api("/requests"),
            &eko,
            Some(body.clone()),
        )
        .await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(v["errors"][0]["field"], field, "{body}: {v}");
    }
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/requests"),
        &eko,
        Some(json!({"items": "all"})),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // Nothing was made.
    let list = get(&app, "/requests", &eko).await?;
    assert_eq!(list["items"], json!([]));
    // A good order takes the first number.
    let ok = post(
        &app,
        "/requests",
        &eko,
        json!({"items": [{"item": "Desk move", "variables": {"count": 2, "day": "2026-12-24", "color": "blue", "helper": "eko"}}]}),
    )
    .await?;
    assert_eq!(ok["number"], "REQ0000001");
    assert_eq!(
        ok["items"][0]["state"], "approved",
        "no approval, no plan: the desk completes it"
    );
    // A person is kept by id and shown by name.
    let number = ok["items"][0]["number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let d = get(&app, &format!("/requested_items/{number}"), &eko).await?;
    let helper = d["answers"]
        .as_array()
        .and_then(|l| l.iter().find(|a| a["name"] == "helper").cloned())
        .unwrap_or_default();
    assert_eq!(helper["display"], "Test eko", "{d}");
    assert!(
        sigap_domain::PersonId::parse(helper["value"].as_str().unwrap_or_default()).is_some(),
        "{helper}"
    );
    Ok(())
}

/// What one requested item looks like from outside.
fn check_item(item: &Value) -> Result<(), String> {
    let state = item["state"].as_str().unwrap_or_default();
    let approval = item["approval"].as_str().unwrap_or_default();
    let approvals = item["approvals"].as_array().cloned().unwrap_or_default();
    let tasks = item["tasks"].as_array().cloned().unwrap_or_default();
    let fulfilled = matches!(state, "approved" | "fulfilment" | "complete");
    if fulfilled && !matches!(approval, "approved" | "not_required") {
        return Err(format!("{state} without its approval ({approval})"));
    }
    if fulfilled && approval == "approved" && !approvals.iter().any(|a| a["state"] == "approved") {
        return Err(format!("{state} with no approval given"));
    }
    if !tasks.is_empty() && !fulfilled && state != "canceled" {
        return Err(format!("tasks on an item {state}"));
    }
    let working = |t: &&Value| matches!(t["state"].as_str(), Some("open" | "in_progress"));
    if state != "fulfilment" && tasks.iter().any(|t| working(&t)) {
        return Err(format!("a task at work on an item {state}"));
    }
    let ended = matches!(state, "complete" | "rejected" | "canceled");
    if ended && approvals.iter().any(|a| a["state"] == "requested") {
        return Err(format!("an approval still asked on an item {state}"));
    }
    if ended && tasks.iter().any(|t| t["state"] == "pending") {
        return Err(format!("a task pending on an item {state}"));
    }
    Ok(())
}

async fn random_fulfilment_actions_keep_the_rules(app: TestApp) -> anyhow::Result<()> {
    let Setup { eko, mira, agent } = setup(&app).await?;
    for seed in 1..=4u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let made = post(
            &app,
            "/requests",
            &eko,
            json!({"items": [
                {"item": "Laptop", "variables": {"reason": format!("seed {seed}")}},
                {"item": "Mail account"}
            ]}),
        )
        .await?;
        let req = made["number"].as_str().unwrap_or_default().to_owned();
        let items: Vec<String> = made["items"]
            .as_array()
            .map(|l| {
                l.iter()
                    .filter_map(|i| i["number"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        for step in 0..25 {
            let item = &items[rng.below(items.len())];
            let d = get(&app, &format!("/requested_items/{item}"), &agent).await?;
            let tasks: Vec<String> = d["tasks"]
                .as_array()
                .map(|l| {
                    l.iter()
                        .filter_map(|t| t["number"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            let what = rng.below(8);
            let (s, v) = match what {
                0 | 1 => {
                    let pending = get(&app, "/approvals", &mira).await?;
                    match pending.as_array().and_then(|l| l.first()) {
                        Some(a) => {
                            let id = a["id"].as_str().unwrap_or_default();
                            let decision = if what == 0 { "approve" } else { "reject" };
                            act(
                                &app,
                                &mira,
                                &format!("/approvals/{id}/{decision}"),
                                json!({"comment": "ok"}),
                            )
                            .await?
                        }
                        None => continue,
                    }
                }
                2 => {
                    act(
                        &app,
                        &eko,
                        &format!("/requested_items/{item}/cancel"),
                        json!({"reason": "No longer"}),
                    )
                    .await?
                }
                3 if step > 15 => {
                    act(
                        &app,
                        &eko,
                        &format!("/requests/{req}/cancel"),
                        json!({"reason": "All off"}),
                    )
                    .await?
                }
                3 => {
                    act(
                        &app,
                        &eko,
                        &format!("/requests/{req}/comment"),
                        json!({"body": "When?"}),
                    )
                    .await?
                }
                _ if tasks.is_empty() => continue,
                n => {
                    let task = &tasks[rng.below(tasks.len())];
                    let (name, body) = match n {
                        4 => ("start", json!({})),
                        5 | 6 => ("close", json!({"notes": "Done"})),
                        _ => ("skip", json!({"reason": "Not needed"})),
                    };
                    act(&app, &agent, &format!("/catalog_tasks/{task}/{name}"), body).await?
                }
            };
            assert!(
                s == StatusCode::OK || s == StatusCode::CONFLICT,
                "seed {seed} step {step}: {s} {v}"
            );
            // The rules, after every step.
            let r = get(&app, &format!("/requests/{req}"), &eko).await?;
            let mut item_states = Vec::new();
            for i in &items {
                let d = get(&app, &format!("/requested_items/{i}"), &agent).await?;
                let checked = check_item(&d).map_err(|e| format!("{i}: {e}: {d}"));
                assert_eq!(checked, Ok(()), "seed {seed} step {step}");
                item_states.push(d["state"].as_str().unwrap_or_default().to_owned());
            }
            let closed = matches!(
                r["state"].as_str(),
                Some("closed_complete" | "closed_incomplete" | "canceled")
            );
            let all_ended = item_states
                .iter()
                .all(|s| matches!(s.as_str(), "complete" | "rejected" | "canceled"));
            assert_eq!(
                closed, all_ended,
                "seed {seed} step {step}: {} with items {item_states:?}",
                r["state"]
            );
        }
    }
    Ok(())
}

async fn agreements_measure_items_by_their_delivery_time(app: TestApp) -> anyhow::Result<()> {
    let Setup { eko, mira, agent } = setup(&app).await?;
    let (_, manager) = app.person("mona", &["manager"], None).await?;
    let a = post(
        &app,
        "/agreements",
        &manager,
        json!({"name": "Workplace requests", "kind": "sla", "valid_from": "2020-01-01"}),
    )
    .await?;
    let id = a["id"].as_str().unwrap_or_default().to_owned();
    let t = post(
        &app,
        &format!("/agreements/{id}/targets"),
        &manager,
        json!({"name": "Deliver", "metric": "resolution", "duration_minutes": 7 * 24 * 60,
               "delivery_time": true, "applies_when": [{"kind": ["request_item"]}],
               "start": [{"kind": ["request_item"]}], "pause": [],
               "stop": [{"state": ["complete"]}], "cancel": [{"state": ["rejected", "canceled"]}]}),
    )
    .await?;
    assert_eq!(t["delivery_time"], true, "{t}");
    post(
        &app,
        &format!("/agreements/{id}/targets"),
        &manager,
        json!({"name": "Task in 4 h", "metric": "resolution", "duration_minutes": 240,
               "applies_when": [{"kind": ["fulfilment_task"]}],
               "start": [{"kind": ["fulfilment_task"]}], "pause": [],
               "stop": [{"state": ["closed_complete", "closed_incomplete", "skipped"]}], "cancel": []}),
    )
    .await?;
    let made = post(
        &app,
        "/requests",
        &eko,
        json!({"items": [{"item": "Laptop", "variables": {"reason": "New hire"}}, {"item": "Mail account"}]}),
    )
    .await?;
    let laptop = made["items"][0]["number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mail = made["items"][1]["number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // The laptop's delivery time (16 business hours) is its target; the mail account has
    // none, so the agreement's week applies.
    let clocks = get(&app, &format!("/requested_items/{laptop}/slas"), &agent).await?;
    assert_eq!(
        (
            clocks[0]["target"].as_str(),
            clocks[0]["target_minutes"].as_i64()
        ),
        (Some("Deliver"), Some(16 * 60)),
        "{clocks}"
    );
    let clocks = get(&app, &format!("/requested_items/{mail}/slas"), &agent).await?;
    assert_eq!(
        clocks[0]["target_minutes"].as_i64(),
        Some(7 * 24 * 60),
        "{clocks}"
    );
    // Catalogue tasks have their own clocks.
    let d = get(&app, &format!("/requested_items/{mail}"), &agent).await?;
    let task = d["tasks"][0]["number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let clocks = get(&app, &format!("/catalog_tasks/{task}/slas"), &agent).await?;
    assert_eq!(clocks[0]["target_minutes"].as_i64(), Some(240), "{clocks}");
    // A rejection cancels the laptop's clock.
    let pending = get(&app, "/approvals", &mira).await?;
    let approval = pending[0]["id"].as_str().unwrap_or_default().to_owned();
    let (s, v) = act(
        &app,
        &mira,
        &format!("/approvals/{approval}/reject"),
        json!({"comment": "No"}),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    let clocks = get(&app, &format!("/requested_items/{laptop}/slas"), &agent).await?;
    assert_eq!(clocks[0]["stage"], "cancelled", "{clocks}");
    Ok(())
}

async fn stages_delegates_and_reminders(app: TestApp) -> anyhow::Result<()> {
    let Setup { eko, mira, agent } = setup(&app).await?;
    let (_, nina) = app.person("nina", &["requester"], None).await?;
    let (_, oki) = app.person("oki", &["agent"], None).await?;
    crate::incidents::group_with(&app, "Security", &["oki", "fajar"]).await?;
    let offering = get(&app, "/catalog/items/Laptop", &eko).await?["service_offering"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    // Two stages: the manager, then every member of Security.
    post(
        &app,
        "/catalog/items",
        &app.admin_token,
        json!({"name": "Firewall opening", "service_offering": offering,
               "approval": [{"approvers": "manager"}, {"approvers": "group", "group": "Security", "need": "all"}]}),
    )
    .await?;
    // mira is away: nina decides for her from now until tomorrow.
    let now = sigap_domain::Clock::now(&app.clock);
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/approval_delegations"),
        &mira,
        Some(
            json!({"to": "nina", "starts": (now - jiff::SignedDuration::from_hours(1)).to_string(),
                    "ends": (now + jiff::SignedDuration::from_hours(24)).to_string()}),
        ),
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    // A period that ends before it starts, oneself, nobody and a time that is none are each
    // refused by field.
    for (body, field) in [
        (
            json!({"to": "nina", "starts": "2027-01-10T00:00:00Z", "ends": "2027-01-09T00:00:00Z"}),
            "ends",
        ),
        (
            json!({"to": "mira", "starts": "2027-01-10T00:00:00Z", "ends": "2027-01-11T00:00:00Z"}),
            "to",
        ),
        (
            json!({"to": "nobody", "starts": "2027-01-10T00:00:00Z", "ends": "2027-01-11T00:00:00Z"}),
            "to",
        ),
        (
            json!({"to": "nina", "starts": "tomorrow", "ends": "2027-01-11T00:00:00Z"}),
            "starts",
        ),
    ] {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api("/approval_delegations"),
            &mira,
            Some(body),
        )
        .await?;
        assert_eq!(
            (s, v["errors"][0]["field"].as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, Some(field)),
            "{v}"
        );
    }
    let made = post(
        &app,
        "/requests",
        &eko,
        json!({"items": [{"item": "Firewall opening"}]}),
    )
    .await?;
    let item = made["items"][0]["number"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let waiting = get(&app, "/approvals", &nina).await?;
    assert_eq!(waiting[0]["approver"]["display"], "Test mira", "{waiting}");
    let id = waiting[0]["id"].as_str().unwrap_or_default().to_owned();
    let (s, v) = act(
        &app,
        &nina,
        &format!("/approvals/{id}/approve"),
        json!({"comment": "For Mira"}),
    )
    .await?;
    assert_eq!(
        (s, v["decided_by"]["display"].as_str()),
        (StatusCode::OK, Some("Test nina")),
        "{v}"
    );
    // The second stage asks both members of Security; one approval is not enough.
    let d = get(&app, &format!("/requested_items/{item}"), &agent).await?;
    assert_eq!(
        (d["state"].as_str(), d["stage"].as_i64()),
        (Some("waiting_for_approval"), Some(1)),
        "{d}"
    );
    let first = get(&app, "/approvals", &oki).await?;
    let id = first[0]["id"].as_str().unwrap_or_default().to_owned();
    act(&app, &oki, &format!("/approvals/{id}/approve"), json!({})).await?;
    let d = get(&app, &format!("/requested_items/{item}"), &agent).await?;
    assert_eq!(
        d["state"], "waiting_for_approval",
        "all of Security must approve: {d}"
    );
    // A day later fajar, who has not decided, is reminded; those who decided are not.
    app.clock.advance(jiff::SignedDuration::from_hours(25));
    let reminded = sigap_core::approvals::remind(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert_eq!(reminded, 1);
    let notes = get(&app, "/me/notifications", &agent).await?;
    let kinds: Vec<&str> = notes
        .as_array()
        .map(|l| l.iter().filter_map(|n| n["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(kinds.contains(&"approval_reminder"), "{kinds:?}");
    let again = sigap_core::approvals::remind(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert_eq!(again, 0, "not again within the day");
    let pending = get(&app, "/approvals", &agent).await?;
    let id = pending[0]["id"].as_str().unwrap_or_default().to_owned();
    act(&app, &agent, &format!("/approvals/{id}/approve"), json!({})).await?;
    let d = get(&app, &format!("/requested_items/{item}"), &agent).await?;
    assert_eq!(
        (d["state"].as_str(), d["approval"].as_str()),
        (Some("approved"), Some("approved")),
        "{d}"
    );
    // The delegation has ended: nina no longer sees mira's approvals.
    let list = get(&app, "/approval_delegations", &mira).await?;
    assert_eq!(list, json!([]), "{list}");
    Ok(())
}

async fn the_cart_orders_several_items_at_once(app: TestApp) -> anyhow::Result<()> {
    let Setup { eko, .. } = setup(&app).await?;
    // A bad answer keeps the item out of the cart, with its own error.
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/me/cart"),
        &eko,
        Some(json!({"item": "Mail account", "variables": {"size": "1 TB"}})),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "items.0.variables.size", "{v}");
    post(
        &app,
        "/me/cart",
        &eko,
        json!({"item": "Laptop", "variables": {"reason": "Broken"}}),
    )
    .await?;
    let cart = post(
        &app,
        "/me/cart",
        &eko,
        json!({"item": "Mail account", "quantity": 2}),
    )
    .await?;
    assert_eq!(cart.as_array().map(Vec::len), Some(2), "{cart}");
    assert_eq!(cart[0]["price"], 125000);
    // Someone of no organization orders for nobody else.
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/me/cart/order"),
        &eko,
        Some(json!({"requested_for": "mira"})),
    )
    .await?;
    assert_eq!(
        (s, v["errors"][0]["field"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("requested_for")),
        "{v}"
    );
    assert_eq!(
        get(&app, "/me/cart", &eko).await?.as_array().map(Vec::len),
        Some(2),
        "the cart stays"
    );
    let made = post(
        &app,
        "/me/cart/order",
        &eko,
        json!({"comment": "Both, please"}),
    )
    .await?;
    assert_eq!(made["items"].as_array().map(Vec::len), Some(2), "{made}");
    assert_eq!(made["items"][1]["quantity"], 2);
    assert_eq!(made["description"], "Both, please");
    assert_eq!(get(&app, "/me/cart", &eko).await?, json!([]));
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api("/me/cart/order"),
        &eko,
        Some(json!({})),
    )
    .await?;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an empty cart orders nothing"
    );
    Ok(())
}
