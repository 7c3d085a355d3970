//! Incidents over HTTP: the priority matrix, the state model under random action sequences,
//! organization scoping, the journal's visibility and assignment.

use crate::helpers::{bearer, problem};
use crate::portfolio::{get, post, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_testkit::{TestApp, both};

both!(
    the_matrix_gives_the_documented_priorities,
    random_action_sequences_stay_in_the_model,
    callers_never_see_other_organizations_incidents,
    work_notes_stay_internal_and_assignees_are_members,
    full_text_search_covers_text_and_journal,
    the_people_concerned_are_notified,
    escalation_moves_the_work_or_calls_in_the_manager,
    categories_and_assignment_rules,
    attachments_are_kept_and_served_safely,
    bulk_changes_answer_for_each_incident,
    parents_resolve_their_children_and_known_problems_are_shown,
    saved_views_belong_to_their_owner,
    lists_come_in_the_order_asked_for_across_pages,
);

pub(crate) async fn group_with(app: &TestApp, name: &str, members: &[&str]) -> anyhow::Result<()> {
    let ctx = sigap_core::Ctx::system("test");
    sigap_core::groups::create(
        &app.core,
        &ctx,
        sigap_core::groups::GroupInput {
            name: Some(name.into()),
            group_type: Some("service_desk".into()),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    for m in members {
        sigap_core::groups::set_member(&app.core, &ctx, name, m, true)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    }
    Ok(())
}

async fn the_matrix_gives_the_documented_priorities(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let admin = app.admin_token.clone();
    let itil = [[1, 2, 3], [2, 3, 4], [3, 4, 5]];
    let three = [[1, 1, 2], [1, 2, 3], [2, 3, 3]];
    for (preset, table) in [("itil", itil), ("three_level", three)] {
        let (s, v) = send(
            &app.http,
            Method::PUT,
            &app.api("/priority_matrix"),
            &admin,
            Some(json!({"preset": preset})),
        )
        .await?;
        assert_eq!(s, StatusCode::OK, "{v}");
        for impact in 1..=3i64 {
            for urgency in 1..=3i64 {
                let i = post(
                    &app,
                    "/incidents",
                    &agent,
                    json!({"short_description": format!("{preset} {impact}/{urgency}"), "impact": impact, "urgency": urgency}),
                )
                .await?;
                assert_eq!(
                    i["priority"],
                    table[(impact - 1) as usize][(urgency - 1) as usize],
                    "{preset}: impact {impact}, urgency {urgency}"
                );
            }
        }
    }
    // A change of impact or urgency re-computes the priority in the same write.
    let i = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "x", "impact": 3, "urgency": 3}),
    )
    .await?;
    let number = i["number"].as_str().unwrap_or_default().to_owned();
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{number}")),
        &agent,
        Some(json!({"impact": 1, "urgency": 1})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["priority"], 1);
    assert_eq!(v["version"], 2, "one write");
    // Agents may not override; managers may, with a reason.
    let (s, _) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{number}")),
        &agent,
        Some(json!({"priority": 4})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, manager) = app.person("mona", &["manager"], None).await?;
    let resp = app
        .http
        .patch(app.api(&format!("/incidents/{number}")))
        .header("authorization", bearer(&manager))
        .json(&json!({"priority": 4}))
        .send()
        .await?;
    problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{number}")),
        &manager,
        Some(json!({"priority": 4, "priority_reason": "users have a workaround"})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (
            v["priority"].as_i64(),
            v["priority_override_reason"].as_str()
        ),
        (Some(4), Some("users have a workaround"))
    );
    // An incomplete matrix is refused.
    let resp = app
        .http
        .put(app.api("/priority_matrix"))
        .header("authorization", bearer(&admin))
        .json(&json!({"rows": [{"impact": 1, "urgency": 1, "priority": 1}]}))
        .send()
        .await?;
    problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    let m = get(&app, "/priority_matrix", &agent).await?;
    assert_eq!(m.as_array().map(Vec::len), Some(9));
    Ok(())
}

/// A small deterministic generator, so a failing sequence names its seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

const ACTIONS: &[&str] = &[
    "start",
    "assign_to_me",
    "hold",
    "resume",
    "resolve",
    "accept",
    "reject",
    "cancel",
    "comment",
    "work_note",
];

/// What the model says an action does from a state: the new state, or `None` when refused.
fn model(state: &str, action: &str) -> Option<&'static str> {
    match (state, action) {
        ("new", "start") => Some("in_progress"),
        ("new" | "in_progress" | "on_hold", "assign_to_me") => Some(if state == "on_hold" {
            "on_hold"
        } else {
            "in_progress"
        }),
        ("new" | "in_progress", "hold") => Some("on_hold"),
        ("on_hold", "resume") => Some("in_progress"),
        ("new" | "in_progress" | "on_hold", "resolve") => Some("resolved"),
        ("resolved", "accept") => Some("closed"),
        ("resolved", "reject") => Some("in_progress"),
        ("new" | "in_progress" | "on_hold", "cancel") => Some("canceled"),
        (s, "comment" | "work_note") => Some(match s {
            "new" => "new",
            "in_progress" => "in_progress",
            "on_hold" => "on_hold",
            "resolved" => "resolved",
            "closed" => "closed",
            _ => "canceled",
        }),
        _ => None,
    }
}

async fn random_action_sequences_stay_in_the_model(app: TestApp) -> anyhow::Result<()> {
    app.person("agnes", &["agent"], None).await?;
    let (_, agent) = app.person("andi", &["agent"], None).await?;
    group_with(&app, "Service Desk", &["andi", "agnes"]).await?;
    let (_, caller) = app.person("budi", &["requester"], None).await?;
    for seed in 1..=6u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let i = post(
            &app,
            "/incidents",
            &caller,
            json!({"short_description": format!("seed {seed}"), "impact": 2, "urgency": 2}),
        )
        .await?;
        let number = i["number"].as_str().unwrap_or_default().to_owned();
        assert_eq!(i["state"], "new");
        let (mut state, mut reopens) = ("new".to_owned(), 0);
        for step in 0..30 {
            let a = ACTIONS[rng.below(ACTIONS.len())];
            let body = match a {
                "hold" => json!({"reason": "awaiting_caller", "comment": "Which printer?"}),
                "resolve" => {
                    json!({"resolution_code": "solved_permanently", "resolution_notes": "Replaced the toner"})
                }
                "reject" => json!({"comment": "Still broken"}),
                "cancel" => json!({"reason": "Duplicate"}),
                "comment" | "work_note" => json!({"body": format!("step {step}")}),
                _ => json!({}),
            };
            // Accept, reject and comments come from the caller; the rest from the agent.
            let token = if matches!(a, "accept" | "reject") {
                &caller
            } else {
                &agent
            };
            let (s, v) = send(
                &app.http,
                Method::POST,
                &app.api(&format!("/incidents/{number}/{a}")),
                token,
                Some(body),
            )
            .await?;
            let expected = model(&state, a);
            match expected {
                Some(next) => {
                    assert_eq!(
                        s,
                        StatusCode::OK,
                        "seed {seed} step {step}: {a} from {state}: {v}"
                    );
                    assert_eq!(
                        v["state"], next,
                        "seed {seed} step {step}: {a} from {state}"
                    );
                    if a == "reject" {
                        reopens += 1;
                    }
                    state = next.to_owned();
                }
                None => {
                    assert_eq!(
                        s,
                        StatusCode::CONFLICT,
                        "seed {seed} step {step}: {a} from {state} should be refused: {v}"
                    );
                    assert_eq!(v["code"], "invalid_transition", "{v}");
                }
            }
            // The record never holds a forbidden combination.
            let d = get(&app, &format!("/incidents/{number}"), &agent).await?;
            assert_eq!(d["state"], state.as_str());
            assert_eq!(
                d["hold_reason"].is_null(),
                state != "on_hold",
                "seed {seed}: hold reason in {state}: {d}"
            );
            assert_eq!(
                d["resolved_at"].is_null(),
                !matches!(state.as_str(), "resolved" | "closed"),
                "seed {seed}: resolved_at in {state}: {d}"
            );
            assert_eq!(
                d["closed_at"].is_null(),
                !matches!(state.as_str(), "closed" | "canceled")
            );
            if matches!(state.as_str(), "resolved" | "closed") {
                assert!(d["resolution_code"].is_string() && d["resolution_notes"] != "");
            }
            assert_eq!(d["reopen_count"], reopens);
        }
    }
    // A refusal names the allowed states.
    let i = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "refusal"}),
    )
    .await?;
    let number = i["number"].as_str().unwrap_or_default().to_owned();
    let resp = app
        .http
        .post(app.api(&format!("/incidents/{number}/accept")))
        .header("authorization", bearer(&agent))
        .json(&json!({}))
        .send()
        .await?;
    problem(resp, StatusCode::CONFLICT, "invalid_transition").await?;
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/cancel")),
        &agent,
        Some(json!({"reason": "test"})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    let resp = app
        .http
        .post(app.api(&format!("/incidents/{number}/start")))
        .header("authorization", bearer(&agent))
        .json(&json!({}))
        .send()
        .await?;
    let p = problem(resp, StatusCode::CONFLICT, "invalid_transition").await?;
    assert!(
        p["detail"].as_str().is_some_and(|d| d.contains("canceled")),
        "{p}"
    );
    // Resolving needs a code and notes.
    let i = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "needs notes"}),
    )
    .await?;
    let number = i["number"].as_str().unwrap_or_default().to_owned();
    let resp = app
        .http
        .post(app.api(&format!("/incidents/{number}/resolve")))
        .header("authorization", bearer(&agent))
        .json(&json!({"resolution_code": "magic", "resolution_notes": " "}))
        .send()
        .await?;
    let p = problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    assert_eq!(p["errors"].as_array().map(Vec::len), Some(2), "{p}");
    Ok(())
}

async fn callers_never_see_other_organizations_incidents(app: TestApp) -> anyhow::Result<()> {
    app.organization("PT Alfa", "customer").await?;
    app.organization("PT Beta", "customer").await?;
    let (_, alfa) = app.person("ani", &["requester"], Some("PT Alfa")).await?;
    let (_, alfa2) = app.person("ario", &["requester"], Some("PT Alfa")).await?;
    let (_, beta) = app.person("bayu", &["requester"], Some("PT Beta")).await?;
    let (_, beta_agent) = app.person("bela", &["agent"], Some("PT Beta")).await?;
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let mine = post(
        &app,
        "/incidents",
        &alfa,
        json!({"short_description": "Alfa's secret printer"}),
    )
    .await?;
    let number = mine["number"].as_str().unwrap_or_default().to_owned();
    assert_eq!(mine["organization"]["display"], "PT Alfa");
    assert_eq!(mine["contact_type"], "self_service");
    for token in [&beta, &beta_agent, &alfa2] {
        let (s, v) = send(
            &app.http,
            Method::GET,
            &app.api(&format!("/incidents/{number}")),
            token,
            None,
        )
        .await?;
        assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
        let (s, _) = send(
            &app.http,
            Method::GET,
            &app.api(&format!("/incidents/{}", mine["id"].as_str().unwrap_or(""))),
            token,
            None,
        )
        .await?;
        assert_eq!(s, StatusCode::NOT_FOUND);
        let found = get(&app, "/incidents?q=secret", token).await?;
        assert_eq!(found["items"], json!([]), "not found by search");
        let (s, _) = send(
            &app.http,
            Method::POST,
            &app.api(&format!("/incidents/{number}/comment")),
            token,
            Some(json!({"body": "hi"})),
        )
        .await?;
        assert_eq!(s, StatusCode::NOT_FOUND, "not even to comment");
    }
    // A number that does not exist answers the same as one that is not yours.
    let (s, v) = send(
        &app.http,
        Method::GET,
        &app.api("/incidents/INC9999999"),
        &beta,
        None,
    )
    .await?;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("not_found"))
    );
    // The caller and the provider's agents see it.
    assert_eq!(
        get(&app, &format!("/incidents/{number}"), &alfa).await?["number"],
        number.as_str()
    );
    assert_eq!(
        get(&app, &format!("/incidents/{number}"), &agent).await?["number"],
        number.as_str()
    );
    // Requesters cannot do the desk's work on their own incident.
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/resolve")),
        &alfa,
        Some(json!({"resolution_code": "resolved_by_caller", "resolution_notes": "ok"})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{number}")),
        &alfa,
        Some(json!({"impact": 1})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    Ok(())
}

async fn work_notes_stay_internal_and_assignees_are_members(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("andi", &["agent"], None).await?;
    app.person("outsider", &["agent"], None).await?;
    group_with(&app, "Service Desk", &["andi"]).await?;
    let (_, caller) = app.person("budi", &["requester"], None).await?;
    let i = post(
        &app,
        "/incidents",
        &caller,
        json!({"short_description": "VPN drops", "description": "<b>every hour</b>"}),
    )
    .await?;
    let number = i["number"].as_str().unwrap_or_default().to_owned();
    assert!(number.starts_with("INC") && number.len() == 10, "{number}");
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{number}")),
        &agent,
        Some(json!({"assignment_group": "Service Desk", "assigned_to": "outsider"})),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["code"], "not_a_member");
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/assign_to_me")),
        &agent,
        Some(json!({})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["assigned_to"]["display"].as_str(), v["state"].as_str()),
        (Some("Test andi"), Some("in_progress"))
    );
    send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/work_note")),
        &agent,
        Some(json!({"body": "Suspect the firewall"})),
    )
    .await?;
    send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/comment")),
        &agent,
        Some(json!({"body": "We are looking into it"})),
    )
    .await?;
    let theirs = get(&app, &format!("/incidents/{number}"), &caller).await?;
    let bodies: Vec<&str> = theirs["journal"]
        .as_array()
        .map(|j| j.iter().filter_map(|e| e["body"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(bodies, ["We are looking into it"], "{theirs}");
    let ours = get(&app, &format!("/incidents/{number}"), &agent).await?;
    let kinds: Vec<&str> = ours["journal"]
        .as_array()
        .map(|j| j.iter().filter_map(|e| e["kind"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        kinds.contains(&"work_note") && kinds.contains(&"change"),
        "{kinds:?}"
    );
    assert_eq!(ours["description"], "<b>every hour</b>", "kept verbatim");
    // Awaiting the caller needs a comment; the caller's answer puts it back to work.
    let resp = app
        .http
        .post(app.api(&format!("/incidents/{number}/hold")))
        .header("authorization", bearer(&agent))
        .json(&json!({"reason": "awaiting_caller"}))
        .send()
        .await?;
    problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/hold")),
        &agent,
        Some(json!({"reason": "awaiting_caller", "comment": "When does it drop?"})),
    )
    .await?;
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/comment")),
        &caller,
        Some(json!({"body": "At 10:00"})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["state"].as_str(), v["hold_reason"].is_null()),
        (Some("in_progress"), true)
    );
    // Queues.
    let mine = get(&app, "/incidents?queue=mine", &agent).await?;
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(1));
    let unassigned = get(&app, "/incidents?queue=unassigned", &agent).await?;
    assert_eq!(unassigned["items"], json!([]));
    let (s, _) = send(
        &app.http,
        Method::GET,
        &app.api("/incidents?queue=everything"),
        &agent,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    // Resolved incidents close by themselves after the configured days.
    send(&app.http, Method::POST, &app.api(&format!("/incidents/{number}/resolve")), &agent, Some(json!({"resolution_code": "solved_permanently", "resolution_notes": "New firewall rule"}))).await?;
    assert_eq!(
        sigap_core::incidents::autoclose(&app.core)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        0
    );
    app.clock
        .advance(jiff::SignedDuration::from_hours(24 * 5 + 1));
    assert_eq!(
        sigap_core::incidents::autoclose(&app.core)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        1
    );
    let closed = get(&app, &format!("/incidents/{number}"), &caller).await?;
    assert_eq!(closed["state"], "closed");
    let v: Value = closed;
    assert!(v["closed_at"].is_string());
    Ok(())
}

async fn full_text_search_covers_text_and_journal(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("andi", &["agent"], None).await?;
    let (_, caller) = app.person("budi", &["requester"], None).await?;
    let a = post(&app, "/incidents", &caller, json!({"short_description": "Laptop will not boot", "description": "Blue screen after the update"})).await?;
    post(
        &app,
        "/incidents",
        &caller,
        json!({"short_description": "Printer jams"}),
    )
    .await?;
    let number = a["number"].as_str().unwrap_or_default().to_owned();
    send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/work_note")),
        &agent,
        Some(json!({"body": "BitLocker recovery key needed"})),
    )
    .await?;
    let count = |v: &Value| v["items"].as_array().map_or(0, Vec::len);
    for (q, n) in [
        ("laptop", 1),
        ("blue screen", 1),
        ("bitlocker", 1),
        ("jams", 1),
        (number.as_str(), 1),
        ("laptop printer", 0),
        ("\"*) OR (", 0),
        ("nothing-here", 0),
    ] {
        let v = get(&app, &format!("/incidents?q={}", urlencode(q)), &agent).await?;
        assert_eq!(count(&v), n, "search {q:?}: {v}");
    }
    // Search composes with filters and with what the reader may see.
    let v = get(&app, "/incidents?q=laptop&state=closed", &agent).await?;
    assert_eq!(count(&v), 0);
    let v = get(&app, "/incidents?q=laptop", &caller).await?;
    assert_eq!(count(&v), 1, "the caller finds their own");
    let (_, other) = app.person("citra", &["requester"], None).await?;
    let v = get(&app, "/incidents?q=laptop", &other).await?;
    assert_eq!(count(&v), 0, "nobody else does");
    Ok(())
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

async fn the_people_concerned_are_notified(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("andi", &["agent"], None).await?;
    let (_, colleague) = app.person("agnes", &["agent"], None).await?;
    let (_, manager) = app.person("mona", &["manager"], None).await?;
    group_with(&app, "Service Desk", &["andi", "agnes"]).await?;
    let (_, caller) = app.person("budi", &["requester"], None).await?;
    let kinds = async |token: &str| -> anyhow::Result<Vec<String>> {
        let v = get(&app, "/me/notifications", token).await?;
        Ok(v.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|n| n["kind"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    };
    let i = post(&app, "/incidents", &agent, json!({"short_description": "Mail down", "caller": "budi", "assignment_group": "Service Desk"})).await?;
    let number = i["number"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        kinds(&colleague).await?,
        ["incident_queued"],
        "the group hears of a new incident"
    );
    assert!(
        kinds(&agent).await?.is_empty(),
        "nobody hears of their own action"
    );
    send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{number}")),
        &agent,
        Some(json!({"assigned_to": "agnes", "major": true})),
    )
    .await?;
    assert!(
        kinds(&colleague)
            .await?
            .contains(&"incident_assigned".to_owned())
    );
    assert_eq!(kinds(&manager).await?, ["incident_major"]);
    send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/comment")),
        &colleague,
        Some(json!({"body": "Working on it"})),
    )
    .await?;
    send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/resolve")),
        &colleague,
        Some(json!({"resolution_code": "solved_permanently", "resolution_notes": "Restarted"})),
    )
    .await?;
    let mine = kinds(&caller).await?;
    assert!(
        mine.contains(&"incident_comment".to_owned())
            && mine.contains(&"incident_resolved".to_owned()),
        "{mine:?}"
    );
    send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/reject")),
        &caller,
        Some(json!({"comment": "Still down"})),
    )
    .await?;
    assert!(
        kinds(&colleague)
            .await?
            .contains(&"incident_reopened".to_owned())
    );
    // The caller's inbox shows in words on the home page.
    let browser = app.browser("budi", "budi-password-1").await?;
    let home = browser.get(app.page("/")).send().await?.text().await?;
    assert!(
        home.contains(&format!("{number} Mail down is resolved")),
        "{home}"
    );
    Ok(())
}

async fn escalation_moves_the_work_or_calls_in_the_manager(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("andi", &["agent"], None).await?;
    let (_, network) = app.person("nina", &["agent"], None).await?;
    let (_, boss) = app.person("bos", &["manager"], None).await?;
    group_with(&app, "Service Desk", &["andi"]).await?;
    group_with(&app, "Network", &["nina"]).await?;
    let i = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "Switch port flapping", "assignment_group": "Service Desk"}),
    )
    .await?;
    let number = i["number"].as_str().unwrap_or_default().to_owned();
    send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/assign_to_me")),
        &agent,
        Some(json!({})),
    )
    .await?;
    let resp = app
        .http
        .post(app.api(&format!("/incidents/{number}/escalate")))
        .header("authorization", bearer(&agent))
        .json(&json!({"group": "Network"}))
        .send()
        .await?;
    problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/escalate")),
        &agent,
        Some(json!({"group": "Network", "reason": "Layer 2 issue"})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["assignment_group"]["display"], "Network");
    assert!(v["assigned_to"].is_null());
    assert_eq!(v["reassignment_count"], 1);
    let inbox = get(&app, "/me/notifications", &network).await?;
    assert_eq!(inbox[0]["kind"], "incident_queued", "{inbox}");
    let d = get(&app, &format!("/incidents/{number}"), &agent).await?;
    assert!(d["journal"].as_array().is_some_and(|j| j.iter().any(|e| {
        e["kind"] == "work_note"
            && e["body"]
                .as_str()
                .is_some_and(|b| b.contains("Layer 2 issue"))
    })));
    // Hierarchical: the group needs a manager.
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/escalate_to_manager")),
        &network,
        Some(json!({"reason": "Outage spreading"})),
    )
    .await?;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("no_manager"))
    );
    sigap_core::groups::update(
        &app.core,
        &sigap_core::Ctx::system("test"),
        "Network",
        sigap_core::groups::GroupInput {
            manager: Some(Some("bos".into())),
            ..Default::default()
        },
        None,
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{number}/escalate_to_manager")),
        &network,
        Some(json!({"reason": "Outage spreading"})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    let inbox = get(&app, "/me/notifications", &boss).await?;
    assert_eq!(inbox[0]["kind"], "incident_escalated", "{inbox}");
    // Requesters cannot escalate.
    let (_, caller) = app.person("budi", &["requester"], None).await?;
    let mine = post(
        &app,
        "/incidents",
        &caller,
        json!({"short_description": "Mine"}),
    )
    .await?;
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api(&format!(
            "/incidents/{}/escalate",
            mine["number"].as_str().unwrap_or("")
        )),
        &caller,
        Some(json!({"group": "Network", "reason": "now"})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    Ok(())
}

async fn categories_and_assignment_rules(app: TestApp) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    let (_, agent) = app.person("andi", &["agent"], None).await?;
    group_with(&app, "Network", &["andi"]).await?;
    let cats = get(&app, "/incident_categories", &agent).await?;
    let codes: Vec<&str> = cats
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["code"].as_str()).collect())
        .unwrap_or_default();
    for c in [
        "hardware", "software", "network", "database", "access", "inquiry",
    ] {
        assert!(codes.contains(&c), "{c}: {codes:?}");
    }
    let (s, _) = send(
        &app.http,
        Method::PUT,
        &app.api("/incident_categories/wifi"),
        &agent,
        Some(json!({"name": "Wi-Fi", "parent": "network"})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = send(
        &app.http,
        Method::PUT,
        &app.api("/incident_categories/wifi"),
        &admin,
        Some(json!({"name": "Wi-Fi", "parent": "network"})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (s, _) = send(
        &app.http,
        Method::PUT,
        &app.api("/incident_categories/deep"),
        &admin,
        Some(json!({"name": "Too deep", "parent": "wifi"})),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "two levels only");
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/assignment_rules"),
        &admin,
        Some(json!({"category": "network", "group": "Network"})),
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api("/assignment_rules"),
        &admin,
        Some(json!({"group": "Network"})),
    )
    .await?;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a rule needs something to match"
    );
    let i = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "No Wi-Fi", "category": "network", "subcategory": "wifi"}),
    )
    .await?;
    assert_eq!(i["assignment_group"]["display"], "Network", "{i}");
    let resp = app
        .http
        .post(app.api("/incidents"))
        .header("authorization", bearer(&agent))
        .json(&json!({"short_description": "x", "category": "hardware", "subcategory": "wifi"}))
        .send()
        .await?;
    problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    let rules = get(&app, "/assignment_rules", &agent).await?;
    let id = rules[0]["id"].as_str().unwrap_or_default().to_owned();
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/assignment_rules/{id}")),
        &admin,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let i = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "Cable", "category": "network"}),
    )
    .await?;
    assert!(i["assignment_group"].is_null());
    Ok(())
}

async fn attachments_are_kept_and_served_safely(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("andi", &["agent"], None).await?;
    let (_, caller) = app.person("budi", &["requester"], None).await?;
    let (_, other) = app.person("citra", &["requester"], None).await?;
    let i = post(
        &app,
        "/incidents",
        &caller,
        json!({"short_description": "Screen flickers"}),
    )
    .await?;
    let number = i["number"].as_str().unwrap_or_default().to_owned();
    let upload = async |token: &str,
                        name: &str,
                        ctype: &str,
                        body: Vec<u8>|
           -> anyhow::Result<(StatusCode, Value)> {
        let resp = app
            .http
            .post(app.api(&format!(
                "/incidents/{number}/attachments?filename={}",
                urlencode(name)
            )))
            .header("authorization", bearer(token))
            .header("content-type", ctype)
            .body(body)
            .send()
            .await?;
        let s = resp.status();
        Ok((s, resp.json().await.unwrap_or(Value::Null)))
    };
    let (s, a) = upload(
        &caller,
        "../../etc/photo.png",
        "image/png",
        vec![0x89, b'P', b'N', b'G', 1, 2, 3],
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(
        (a["filename"].as_str(), a["size"].as_i64()),
        (Some("photo.png"), Some(7))
    );
    let (s, h) = upload(
        &agent,
        "page.html",
        "text/html; charset=utf-8",
        b"<script>alert(1)</script>".to_vec(),
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED, "{h}");
    let (s, _) = upload(&other, "x.txt", "text/plain", b"hi".to_vec()).await?;
    assert_eq!(s, StatusCode::NOT_FOUND, "not theirs");
    let (s, v) = upload(&caller, "empty.txt", "text/plain", Vec::new()).await?;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::UNPROCESSABLE_ENTITY, Some("validation_failed"))
    );
    // Too big: refused by its declared length (a client still sending may see the
    // connection close before the answer).
    let sent = app
        .http
        .post(app.api(&format!("/incidents/{number}/attachments?filename=big.bin")))
        .header("authorization", bearer(&caller))
        .header("content-type", "application/octet-stream")
        .body(vec![0u8; 10 * 1024 * 1024 + 1])
        .send()
        .await;
    match sent {
        Ok(resp) => {
            problem(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await?;
        }
        Err(e) => assert!(e.is_request() || e.is_body(), "unexpected failure: {e}"),
    }
    let list = get(&app, &format!("/incidents/{number}/attachments"), &caller).await?;
    assert_eq!(list.as_array().map(Vec::len), Some(2));
    // The HTML file comes back as bytes to download, never as a page.
    let resp = app
        .http
        .get(app.page(h["href"].as_str().unwrap_or("")))
        .header("authorization", bearer(&caller))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let header = |n: &str| {
        resp.headers()
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(header("content-type"), "application/octet-stream");
    assert!(header("content-disposition").starts_with("attachment;"));
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert!(header("content-security-policy").contains("sandbox"));
    assert_eq!(resp.bytes().await?.as_ref(), b"<script>alert(1)</script>");
    let resp = app
        .http
        .get(app.page(a["href"].as_str().unwrap_or("")))
        .header("authorization", bearer(&other))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    let d = get(&app, &format!("/incidents/{number}"), &agent).await?;
    assert!(d["journal"].as_array().is_some_and(|j| {
        j.iter()
            .any(|e| e["changes"]["attachment"][1] == "photo.png")
    }));
    // The incident pages list them.
    let browser = app.browser("budi", "budi-password-1").await?;
    let page = browser
        .get(app.page(&format!("/portal/incidents/{number}")))
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("photo.png") && page.contains(a["href"].as_str().unwrap_or("?")));
    Ok(())
}

async fn bulk_changes_answer_for_each_incident(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("andi", &["agent"], None).await?;
    group_with(&app, "Service Desk", &["andi"]).await?;
    let mut numbers = Vec::new();
    for n in 0..3 {
        let i = post(
            &app,
            "/incidents",
            &agent,
            json!({"short_description": format!("bulk {n}")}),
        )
        .await?;
        numbers.push(i["number"].as_str().unwrap_or_default().to_owned());
    }
    // One of them is already finished.
    send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{}/cancel", numbers[2])),
        &agent,
        Some(json!({"reason": "duplicate"})),
    )
    .await?;
    let mut keys = numbers.clone();
    keys.push("INC9999999".into());
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/incidents/bulk"),
        &agent,
        Some(json!({"incidents": keys, "action": "assign_to_me"})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    let statuses: Vec<u64> = v
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["status"].as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(statuses, [200, 200, 409, 404], "{v}");
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/incidents/bulk"),
        &agent,
        Some(json!({"incidents": &numbers[..2], "update": {"impact": 1, "urgency": 1}})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    for n in &numbers[..2] {
        assert_eq!(
            get(&app, &format!("/incidents/{n}"), &agent).await?["priority"],
            1
        );
    }
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api("/incidents/bulk"),
        &agent,
        Some(json!({"incidents": [], "action": "start"})),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, caller) = app.person("budi", &["requester"], None).await?;
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api("/incidents/bulk"),
        &caller,
        Some(json!({"incidents": &numbers[..1], "action": "start"})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    Ok(())
}

async fn parents_resolve_their_children_and_known_problems_are_shown(
    app: TestApp,
) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let (_, rina) = app.person("rina", &["requester"], None).await?;
    let (_, sari) = app.person("sari", &["requester"], None).await?;
    post(&app, "/services", &agent, json!({"name": "Mail"})).await?;
    let parent = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "Mail is down for everyone", "service": "Mail", "major": true}),
    )
    .await?;
    let pnum = parent["number"].as_str().unwrap_or_default().to_owned();
    // Rina reports the same outage; the desk links it to the major incident.
    let child = post(
        &app,
        "/incidents",
        &rina,
        json!({"short_description": "Cannot send mail", "service": "Mail"}),
    )
    .await?;
    let cnum = child["number"].as_str().unwrap_or_default().to_owned();
    let (s, c) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{cnum}")),
        &agent,
        Some(json!({"parent": pnum})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(c["parent"]["display"], pnum.as_str());
    // No cycles, no self-parenting, no unknown parents.
    for (target, parent_key, code) in [
        (&pnum, cnum.as_str(), "cycle"),
        (&pnum, pnum.as_str(), "cycle"),
        (&cnum, "INC9999999", "not_found"),
    ] {
        let (s, v) = send(
            &app.http,
            Method::PATCH,
            &app.api(&format!("/incidents/{target}")),
            &agent,
            Some(json!({"parent": parent_key})),
        )
        .await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["code"], code, "{v}");
    }
    // An unknown offering is refused too.
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{cnum}")),
        &agent,
        Some(json!({"service_offering": "00000000-0000-0000-0000-000000000000"})),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let children = get(&app, &format!("/incidents?parent={pnum}"), &agent).await?;
    assert_eq!(children["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(children["items"][0]["number"], cnum.as_str());
    // Sari sees the outage as a known problem (a summary), not Rina's report.
    let known = get(&app, "/incidents/known?service=Mail", &sari).await?;
    let numbers: Vec<&str> = known
        .as_array()
        .map(|a| a.iter().filter_map(|k| k["number"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(numbers, vec![pnum.as_str()], "{known}");
    assert_eq!(known[0]["yours"], false);
    assert!(known[0].get("caller").is_none(), "no caller in the summary");
    let known = get(&app, "/incidents/known?service=Mail", &rina).await?;
    assert_eq!(known.as_array().map(Vec::len), Some(2), "{known}");
    assert!(known.as_array().is_some_and(|a| {
        a.iter()
            .any(|k| k["number"] == cnum.as_str() && k["yours"] == true)
    }));
    let (s, v) = send(
        &app.http,
        Method::GET,
        &app.api("/incidents/known?service=Nope"),
        &sari,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    // Resolving the parent resolves the child with the same resolution.
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api(&format!("/incidents/{pnum}/resolve")),
        &agent,
        Some(json!({"resolution_code": "solved_permanently", "resolution_notes": "Mail server restarted"})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    let c = get(&app, &format!("/incidents/{cnum}"), &rina).await?;
    assert_eq!(c["state"], "resolved");
    assert_eq!(c["resolution_code"], "solved_permanently");
    assert_eq!(c["resolution_notes"], "Mail server restarted");
    Ok(())
}

async fn saved_views_belong_to_their_owner(app: TestApp) -> anyhow::Result<()> {
    let (_, agnes) = app.person("agnes", &["agent"], None).await?;
    let (_, bayu) = app.person("bayu", &["agent"], None).await?;
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/me/filters"),
        &agnes,
        Some(json!({"list": "incidents", "name": "P1 of the desk", "query": "?cursor=x&priority=1&queue=all&evil=1&cols=number,priority"})),
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["query"], "queue=all&priority=1&cols=number%2Cpriority");
    let id = v["id"].as_str().unwrap_or_default().to_owned();
    // The same name replaces the query.
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/me/filters"),
        &agnes,
        Some(json!({"list": "incidents", "name": "P1 of the desk", "query": "priority=2"})),
    )
    .await?;
    assert_eq!(
        (s, v["id"].as_str()),
        (StatusCode::CREATED, Some(id.as_str()))
    );
    let mine = get(&app, "/me/filters?list=incidents", &agnes).await?;
    assert_eq!(mine.as_array().map(Vec::len), Some(1));
    assert_eq!(mine[0]["query"], "priority=2");
    let theirs = get(&app, "/me/filters", &bayu).await?;
    assert_eq!(theirs.as_array().map(Vec::len), Some(0), "not shared");
    for (body, field) in [
        (json!({"list": "nope", "name": "x", "query": ""}), "list"),
        (
            json!({"list": "incidents", "name": " ", "query": ""}),
            "name",
        ),
        (
            json!({"list": "incidents", "name": "x", "query": "q=a%00b"}),
            "query.q",
        ),
    ] {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api("/me/filters"),
            &agnes,
            Some(body),
        )
        .await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert_eq!(v["errors"][0]["field"], field, "{v}");
    }
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/me/filters/{id}")),
        &bayu,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND, "only the owner deletes");
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/me/filters/{id}")),
        &agnes,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let mine = get(&app, "/me/filters", &agnes).await?;
    assert_eq!(mine.as_array().map(Vec::len), Some(0));
    Ok(())
}

/// Every sort of the incident list, read in small pages, gives the incidents in the order of
/// their fields (the page is chosen, then joined, then put back in order).
async fn lists_come_in_the_order_asked_for_across_pages(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("sari", &["agent"], None).await?;
    // Several incidents share each priority, so the later keys decide; they are opened out
    // of their numbers' order, two at each instant.
    let start = sigap_domain::Clock::now(&app.clock);
    for n in 0..14 {
        app.clock
            .set(start + jiff::SignedDuration::from_mins(((n * 5) % 14 / 2) as i64));
        let impact = 1 + n % 3;
        let urgency = 1 + (n / 3) % 3;
        post(
            &app,
            "/incidents",
            &agent,
            json!({"short_description": format!("ordered {n}"), "impact": impact, "urgency": urgency}),
        )
        .await?;
    }
    for sort in [
        "priority,opened_at",
        "-priority,opened_at",
        "-opened_at",
        "-updated_at",
        "number",
        "-number",
    ] {
        let mut seen: Vec<Value> = Vec::new();
        let mut url = format!("/incidents?sort={sort}&limit=4");
        loop {
            let page = get(&app, &url, &agent).await?;
            seen.extend(page["items"].as_array().into_iter().flatten().cloned());
            match page["next_cursor"].as_str() {
                Some(c) => url = format!("/incidents?sort={sort}&limit=4&cursor={c}"),
                None => break,
            }
        }
        assert_eq!(seen.len(), 14, "{sort}");
        let key = |v: &Value| -> Vec<String> {
            sort.split(',')
                .map(|k| {
                    let field = k.trim_start_matches('-');
                    match &v[field] {
                        Value::Number(n) => format!("{:020}", n.as_i64().unwrap_or_default()),
                        Value::String(t) if field.ends_with("_at") => format!(
                            "{:030}",
                            t.parse::<jiff::Timestamp>()
                                .map(|t| t.as_nanosecond())
                                .unwrap_or_default()
                        ),
                        other => other.as_str().unwrap_or_default().to_owned(),
                    }
                })
                .chain([v["id"].as_str().unwrap_or_default().to_owned()])
                .collect()
        };
        let mut expected = seen.clone();
        expected.sort_by(|a, b| {
            let (ka, kb) = (key(a), key(b));
            // The id breaks ties in the last key's direction.
            let last = if sort.rsplit(',').next().is_some_and(|k| k.starts_with('-')) {
                "-id"
            } else {
                "id"
            };
            for (i, k) in sort.split(',').chain([last]).enumerate() {
                let o = ka[i].cmp(&kb[i]);
                let o = if k.starts_with('-') { o.reverse() } else { o };
                if o.is_ne() {
                    return o;
                }
            }
            std::cmp::Ordering::Equal
        });
        let numbers = |vs: &[Value]| -> Vec<String> {
            vs.iter()
                .map(|v| v["number"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        assert_eq!(numbers(&seen), numbers(&expected), "sort {sort}");
    }
    Ok(())
}
