//! The service portfolio over HTTP: the lifecycle walk with its portfolio decision,
//! offerings that follow the catalogue, process roles, projects, applications and reviews.

use crate::helpers::{bearer, problem};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use sigap_testkit::{TestApp, both};

both!(
    a_service_walks_its_lifecycle,
    offerings_follow_the_catalogue,
    services_are_hidden_from_customers_until_offered,
    service_fields_are_checked,
    process_roles_projects_and_applications,
    owners_are_reminded_of_reviews_once,
);

pub async fn send(
    http: &Client,
    method: reqwest::Method,
    url: &str,
    token: &str,
    body: Option<Value>,
) -> anyhow::Result<(StatusCode, Value)> {
    let mut req = http
        .request(method, url)
        .header("authorization", bearer(token));
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let text = resp.text().await?;
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    Ok((status, value))
}

pub async fn post(app: &TestApp, path: &str, token: &str, body: Value) -> anyhow::Result<Value> {
    let (status, v) = send(
        &app.http,
        reqwest::Method::POST,
        &app.api(path),
        token,
        Some(body),
    )
    .await?;
    anyhow::ensure!(
        status == StatusCode::CREATED
            || status == StatusCode::OK
            || status == StatusCode::NO_CONTENT,
        "POST {path}: {status} {v}"
    );
    Ok(v)
}

pub async fn get(app: &TestApp, path: &str, token: &str) -> anyhow::Result<Value> {
    let (status, v) = send(&app.http, reqwest::Method::GET, &app.api(path), token, None).await?;
    anyhow::ensure!(status == StatusCode::OK, "GET {path}: {status} {v}");
    Ok(v)
}

async fn move_to(
    app: &TestApp,
    id: &str,
    token: &str,
    stage: &str,
) -> anyhow::Result<(StatusCode, Value)> {
    send(
        &app.http,
        reqwest::Method::POST,
        &app.api(&format!("/services/{id}/stage")),
        token,
        Some(json!({"stage": stage, "reason": format!("ready for {stage}")})),
    )
    .await
}

async fn a_service_walks_its_lifecycle(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let (_, pm) = app
        .person("pak.manajer", &["agent", "portfolio_manager"], None)
        .await?;
    let svc = post(
        &app,
        "/services",
        &agent,
        json!({
            "name": "E-mail",
            "description": "Mail for everyone",
            "criticality": 2,
            "owner": "agnes",
            "design": {
                "requirements": [{"text": "Mailboxes of 50 GB", "priority": "must"}],
                "service_level_targets": [{"metric": "availability", "target": "99.9 %"}],
                "dependencies": ["Directory service"],
                "risks": [{"description": "Spam", "likelihood": "high", "impact": "medium", "mitigation": "Filtering"}],
                "acceptance_criteria": ["Migration of all mailboxes"]
            }
        }),
    )
    .await?;
    let id = svc["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(svc["stage"], "define");
    assert_eq!(svc["status"], "pipeline");
    assert_eq!(svc["design"]["risks"][0]["likelihood"], "high");
    for stage in ["analyse", "approve"] {
        let (s, v) = move_to(&app, &id, &agent, stage).await?;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert_eq!(v["stage"], stage);
    }
    // The decision at approve is the portfolio manager's.
    let before = get(&app, &format!("/services/{id}"), &agent).await?;
    let (s, v) = move_to(&app, &id, &agent, "charter").await?;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let after = get(&app, &format!("/services/{id}"), &agent).await?;
    assert_eq!(before, after, "a refused move changes nothing");
    // Skipping a stage is a conflict.
    let resp = app
        .http
        .post(app.api(&format!("/services/{id}/stage")))
        .header("authorization", bearer(&pm))
        .json(&json!({"stage": "design", "reason": "skip"}))
        .send()
        .await?;
    problem(resp, StatusCode::CONFLICT, "invalid_transition").await?;
    let (s, v) = move_to(&app, &id, &pm, "charter").await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    for stage in ["design", "transition", "operational"] {
        let (s, v) = move_to(&app, &id, &agent, stage).await?;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let live = get(&app, &format!("/services/{id}"), &agent).await?;
    assert_eq!(live["status"], "catalogue");
    // An offering, active because the service is in the catalogue.
    let offering = post(
        &app,
        &format!("/services/{id}/offerings"),
        &agent,
        json!({"name": "Standard mailbox", "availability_hours": "24x7"}),
    )
    .await?;
    assert_eq!(offering["active"], true);
    let (s, v) = move_to(&app, &id, &agent, "retired").await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["status"], "retired");
    let o = get(
        &app,
        &format!("/offerings/{}", offering["id"].as_str().unwrap_or("")),
        &agent,
    )
    .await?;
    assert_eq!(o["active"], false, "retiring deactivates the offerings");
    // Every move is recorded with who, when and why.
    let detail = get(&app, &format!("/services/{id}"), &agent).await?;
    let history = detail["stage_history"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let walk: Vec<&str> = history.iter().filter_map(|m| m["to"].as_str()).collect();
    assert_eq!(
        walk,
        [
            "analyse",
            "approve",
            "charter",
            "design",
            "transition",
            "operational",
            "retired"
        ]
    );
    assert_eq!(history[2]["actor"], "pak.manajer");
    assert_eq!(history[2]["reason"], "ready for charter");
    let audit = get(&app, &format!("/services/{id}/history"), &agent).await?;
    assert!(audit.as_array().is_some_and(|a| a.len() >= 8), "{audit}");
    // The board shows it only with the retired column.
    let board = get(&app, "/portfolio/board?retired=true", &agent).await?;
    let retired = board
        .as_array()
        .and_then(|c| c.iter().find(|c| c["stage"] == "retired"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(retired["services"][0]["name"], "E-mail");
    Ok(())
}

async fn offerings_follow_the_catalogue(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let svc = post(&app, "/services", &agent, json!({"name": "Printing"})).await?;
    let id = svc["id"].as_str().unwrap_or_default().to_owned();
    let planned = post(
        &app,
        &format!("/services/{id}/offerings"),
        &agent,
        json!({"name": "Colour printing"}),
    )
    .await?;
    assert_eq!(
        planned["active"], false,
        "pipeline offerings start inactive"
    );
    let resp = app
        .http
        .patch(app.api(&format!(
            "/offerings/{}",
            planned["id"].as_str().unwrap_or("")
        )))
        .header("authorization", bearer(&agent))
        .json(&json!({"active": true}))
        .send()
        .await?;
    problem(resp, StatusCode::CONFLICT, "service_not_in_catalogue").await?;
    let resp = app
        .http
        .post(app.api(&format!("/services/{id}/offerings")))
        .header("authorization", bearer(&agent))
        .json(&json!({"name": "Plotter", "active": true}))
        .send()
        .await?;
    problem(resp, StatusCode::CONFLICT, "service_not_in_catalogue").await?;
    let list = get(&app, &format!("/offerings?service={id}"), &agent).await?;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    Ok(())
}

async fn services_are_hidden_from_customers_until_offered(app: TestApp) -> anyhow::Result<()> {
    let (_, admin) = app
        .person("pm", &["agent", "portfolio_manager"], None)
        .await?;
    app.organization("PT Pelanggan", "customer").await?;
    app.organization("PT Lain", "customer").await?;
    let (_, customer) = app
        .person("budi", &["requester"], Some("PT Pelanggan"))
        .await?;
    let (_, other) = app.person("citra", &["requester"], Some("PT Lain")).await?;
    let svc = post(
        &app,
        "/services",
        &admin,
        json!({"name": "Payroll", "customers": ["PT Pelanggan"]}),
    )
    .await?;
    let id = svc["id"].as_str().unwrap_or_default().to_owned();
    let (s, _) = send(
        &app.http,
        reqwest::Method::GET,
        &app.api(&format!("/services/{id}")),
        &customer,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND, "pipeline services are internal");
    for stage in [
        "analyse",
        "approve",
        "charter",
        "design",
        "transition",
        "operational",
    ] {
        let (s, v) = move_to(&app, &id, &admin, stage).await?;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let seen = get(&app, &format!("/services/{id}"), &customer).await?;
    assert_eq!(seen["name"], "Payroll");
    assert_eq!(
        seen["stage_history"],
        json!([]),
        "internal history stays internal"
    );
    let (s, _) = send(
        &app.http,
        reqwest::Method::GET,
        &app.api(&format!("/services/{id}")),
        &other,
        None,
    )
    .await?;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "not offered to the other customer"
    );
    let list = get(&app, "/services", &other).await?;
    assert_eq!(list["items"], json!([]));
    let resp = app
        .http
        .post(app.api("/services"))
        .header("authorization", bearer(&customer))
        .json(&json!({"name": "Mine"}))
        .send()
        .await?;
    problem(resp, StatusCode::FORBIDDEN, "forbidden").await?;
    Ok(())
}

async fn service_fields_are_checked(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let cases = [
        (json!({"name": "X", "criticality": 7}), "criticality"),
        (json!({"name": "X", "owner": "nobody"}), "owner"),
        (
            json!({"name": "X", "review_date": "31-12-2026"}),
            "review_date",
        ),
        (json!({"name": "X", "planned_cost": -5}), "planned_cost"),
        (
            json!({"name": "X", "customers": ["No Such Org"]}),
            "customers",
        ),
        (
            json!({"name": "X", "design": {"risks": [{"description": "d", "likelihood": "huge", "impact": "low"}]}}),
            "design.risks[0].likelihood",
        ),
        (
            json!({"name": "X", "design": {"colour": "red"}}),
            "design.colour",
        ),
        (
            json!({"name": "X", "design": {"requirements": [{"text": "", "priority": "must"}]}}),
            "design.requirements[0].text",
        ),
    ];
    for (body, field) in cases {
        let resp = app
            .http
            .post(app.api("/services"))
            .header("authorization", bearer(&agent))
            .json(&body)
            .send()
            .await?;
        let p = problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
        assert!(
            p["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["field"] == field)),
            "{field}: {p}"
        );
    }
    let list = get(&app, "/services", &agent).await?;
    assert_eq!(list["items"], json!([]), "nothing was created");
    // Hostile text is kept verbatim.
    let name = "<script>alert(1)</script>'; DROP TABLE service; --";
    let svc = post(&app, "/services", &agent, json!({"name": name})).await?;
    assert_eq!(svc["name"], name);
    Ok(())
}

async fn process_roles_projects_and_applications(app: TestApp) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    app.person("pemilik", &["manager"], None).await?;
    let (s, _) = send(
        &app.http,
        reqwest::Method::PATCH,
        &app.api("/portfolio/process"),
        &agent,
        Some(json!({"owner": "pemilik"})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = send(
        &app.http,
        reqwest::Method::PATCH,
        &app.api("/portfolio/process"),
        &admin,
        Some(json!({"owner": "pemilik", "manager": "agnes"})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    let roles = get(&app, "/portfolio/process", &agent).await?;
    assert_eq!(roles["owner"]["display"], "Test pemilik");
    assert_eq!(roles["manager"]["display"], "Test agnes");

    post(&app, "/services", &agent, json!({"name": "Intranet"})).await?;
    let project = post(
        &app,
        "/projects",
        &agent,
        json!({"name": "Intranet renewal", "status": "approved", "start_date": "2027-01-01",
               "end_date": "2027-06-30", "budget": 150000, "manager": "agnes", "services": ["Intranet"]}),
    )
    .await?;
    assert_eq!(project["services"][0]["display"], "Intranet");
    let resp = app
        .http
        .post(app.api("/projects"))
        .header("authorization", bearer(&agent))
        .json(&json!({"name": "Backwards", "start_date": "2027-06-30", "end_date": "2027-01-01"}))
        .send()
        .await?;
    problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    let detail = get(&app, "/services/Intranet", &agent).await?;
    assert_eq!(detail["projects"][0]["display"], "Intranet renewal");

    let group = sigap_core::groups::create(
        &app.core,
        &sigap_core::Ctx::system("test"),
        sigap_core::groups::GroupInput {
            name: Some("Web team".into()),
            group_type: Some("application".into()),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let ci = post(
        &app,
        "/configuration_items",
        &agent,
        json!({"class": "application", "name": "intranet-app"}),
    )
    .await?;
    let application = post(
        &app,
        "/applications",
        &agent,
        json!({"name": "Intranet portal", "function": "News and forms", "developing_group": "Web team",
               "supporting_group": group.id.to_string(), "services": ["Intranet"],
               "configuration_items": [ci["id"]]}),
    )
    .await?;
    assert_eq!(application["developing_group"]["display"], "Web team");
    assert_eq!(
        application["configuration_items"][0]["display"],
        "intranet-app"
    );
    let list = get(&app, "/applications?group=Web%20team", &agent).await?;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    let projects = get(&app, "/projects?status=approved", &agent).await?;
    assert_eq!(projects["items"].as_array().map(Vec::len), Some(1));
    Ok(())
}

async fn owners_are_reminded_of_reviews_once(app: TestApp) -> anyhow::Result<()> {
    let (owner, agent) = app.person("agnes", &["agent"], None).await?;
    let today = jiff::tz::TimeZone::UTC.to_datetime(app.core.now()).date();
    post(
        &app,
        "/services",
        &agent,
        json!({"name": "Backup", "owner": "agnes", "review_date": today.to_string()}),
    )
    .await?;
    post(
        &app,
        "/services",
        &agent,
        json!({"name": "Later", "owner": "agnes", "review_date": "2099-01-01"}),
    )
    .await?;
    assert_eq!(
        sigap_core::portfolio::remind_reviews(&app.core)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        1
    );
    assert_eq!(
        sigap_core::portfolio::remind_reviews(&app.core)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?,
        0,
        "one reminder per review date"
    );
    let notes = sigap_core::notifications::mine(
        &app.core,
        &sigap_core::Ctx::new(
            sigap_core::Principal::from_person(&owner, sigap_core::AuthMethod::System),
            "test",
        ),
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].subject, "Backup");
    // The owner sees it on the home page, and in the API, until it is marked read.
    let browser = app.browser("agnes", "agnes-password-1").await?;
    let home = browser.get(app.page("/")).send().await?.text().await?;
    assert!(home.contains("The review of Backup is due"), "{home}");
    let mine = get(&app, "/me/notifications", &agent).await?;
    assert_eq!(mine[0]["kind"], "service_review_due");
    let id = mine[0]["id"].as_str().unwrap_or_default().to_owned();
    let (s, _) = send(
        &app.http,
        reqwest::Method::POST,
        &app.api(&format!("/me/notifications/{id}/read")),
        &agent,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let home = browser.get(app.page("/")).send().await?.text().await?;
    assert!(!home.contains("The review of Backup is due"));
    Ok(())
}
