//! Locations: records with a name unique in any case, an IANA time zone and an
//! organization; the API, the administration pages, the location of incidents (API,
//! incident page, queue, CSV import and export), and SLA clocks in the location's time zone.

use crate::helpers::{bearer, problem, snapshot};
use crate::portfolio::{get, post, send};
use crate::ui::submit;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_testkit::{TestApp, both};

both!(
    locations_are_records_with_checked_fields,
    incidents_name_their_location,
    administrators_keep_locations_in_the_ui,
    clocks_may_keep_the_time_of_the_location,
);

async fn locations_are_records_with_checked_fields(app: TestApp) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    app.organization("Acme", "customer").await?;
    let resp = app
        .http
        .post(app.api("/locations"))
        .header("authorization", bearer(&admin))
        .json(&json!({"name": "Jakarta HQ", "time_zone": "Asia/Jakarta", "organization": "Acme"}))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let at = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let hq: Value = resp.json().await?;
    assert_eq!(
        at,
        format!("/api/v1/locations/{}", hq["id"].as_str().unwrap_or(""))
    );
    assert_eq!(
        (
            hq["name"].as_str(),
            hq["time_zone"].as_str(),
            hq["organization"]["display"].as_str(),
            hq["active"].as_bool()
        ),
        (
            Some("Jakarta HQ"),
            Some("Asia/Jakarta"),
            Some("Acme"),
            Some(true)
        ),
        "{hq}"
    );
    post(&app, "/locations", &admin, json!({"name": "Surabaya"})).await?;
    post(
        &app,
        "/locations",
        &admin,
        json!({"name": "Bandung", "time_zone": "Asia/Jakarta"}),
    )
    .await?;
    // Bad input: a clear error, and nothing written.
    let before = snapshot(&app).await?;
    for (body, status, code, field) in [
        (
            json!({"name": "jakarta hq"}),
            StatusCode::CONFLICT,
            "already_exists",
            "name",
        ),
        (
            json!({"name": "Mars base", "time_zone": "Mars/Olympus"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "time_zone",
        ),
        (
            json!({"name": "Nowhere", "organization": "Initech"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "organization",
        ),
        (
            json!({"time_zone": "UTC"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "name",
        ),
        (
            json!({"name": "   "}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "name",
        ),
    ] {
        let resp = app
            .http
            .post(app.api("/locations"))
            .header("authorization", bearer(&admin))
            .json(&body)
            .send()
            .await?;
        let p = problem(resp, status, code).await?;
        let named = p["errors"][0]["field"] == field
            || p["detail"].as_str().is_some_and(|d| d.contains(field));
        assert!(named, "{body}: {p}");
    }
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api("/locations"),
        &admin,
        Some(json!({"name": "X", "floor": 3})),
    )
    .await?;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );
    assert_eq!(snapshot(&app).await?, before, "nothing changed");
    // Read by name (in any case) or id; lists page with a cursor.
    let by_name = get(&app, "/locations/JAKARTA%20HQ", &admin).await?;
    assert_eq!(by_name["id"], hq["id"]);
    let page = get(&app, "/locations?limit=2", &admin).await?;
    let names: Vec<&str> = page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Bandung", "Jakarta HQ"], "{page}");
    let cursor = page["next_cursor"].as_str().unwrap_or_default().to_owned();
    let rest = get(&app, &format!("/locations?limit=2&cursor={cursor}"), &admin).await?;
    assert_eq!(rest["items"][0]["name"], "Surabaya", "{rest}");
    assert!(rest["next_cursor"].is_null(), "{rest}");
    let acme = get(&app, "/locations?organization=Acme", &admin).await?;
    assert_eq!(acme["items"].as_array().map(Vec::len), Some(1), "{acme}");
    // Changes: with If-Match; a stale version is refused.
    let id = hq["id"].as_str().unwrap_or_default().to_owned();
    let resp = app
        .http
        .patch(app.api(&format!("/locations/{id}")))
        .header("authorization", bearer(&admin))
        .header("if-match", "\"1\"")
        .json(&json!({"time_zone": null, "organization": null, "active": false}))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let changed: Value = resp.json().await?;
    assert_eq!(
        (
            changed["time_zone"].is_null(),
            changed["organization"].is_null(),
            changed["active"].as_bool(),
            changed["version"].as_i64()
        ),
        (true, true, Some(false), Some(2)),
        "{changed}"
    );
    let resp = app
        .http
        .patch(app.api(&format!("/locations/{id}")))
        .header("authorization", bearer(&admin))
        .header("if-match", "\"1\"")
        .json(&json!({"name": "Old HQ"}))
        .send()
        .await?;
    problem(resp, StatusCode::PRECONDITION_FAILED, "precondition_failed").await?;
    let (s, _) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/locations/{id}")),
        &admin,
        Some(json!({"time_zone": "Asia/Atlantis"})),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/locations/{id}")),
        &admin,
        Some(json!({"name": "surabaya"})),
    )
    .await?;
    assert_eq!(s, StatusCode::CONFLICT);
    let still = get(&app, &format!("/locations/{id}"), &admin).await?;
    assert_eq!(
        (still["name"].as_str(), still["version"].as_i64()),
        (Some("Jakarta HQ"), Some(2)),
        "{still}"
    );
    let active = get(&app, "/locations?active=true", &admin).await?;
    assert_eq!(
        active["items"].as_array().map(Vec::len),
        Some(2),
        "{active}"
    );
    let history = get(&app, &format!("/locations/{id}/history"), &admin).await?;
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");
    // Agents read, only administrators write; people of a customer see their own and the
    // shared ones.
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    get(&app, "/locations", &agent).await?;
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api("/locations"),
        &agent,
        Some(json!({"name": "Medan"})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    app.organization("Globex", "customer").await?;
    post(
        &app,
        "/locations",
        &admin,
        json!({"name": "Globex tower", "organization": "Globex"}),
    )
    .await?;
    let (_, acme_user) = app.person("budi", &["requester"], Some("Acme")).await?;
    let seen = get(&app, "/locations", &acme_user).await?;
    let names: Vec<&str> = seen["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|l| l["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Bandung", "Jakarta HQ", "Surabaya"], "{seen}");
    let (s, _) = send(
        &app.http,
        Method::GET,
        &app.api("/locations/Globex%20tower"),
        &acme_user,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    // The OpenAPI document describes the endpoints.
    let doc: Value = app
        .http
        .get(app.page("/api/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    for path in ["/api/v1/locations", "/api/v1/locations/{key}"] {
        assert!(doc["paths"][path].is_object(), "{path} documented");
    }
    assert!(doc["paths"]["/api/v1/locations"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/locations/{key}"]["patch"].is_object());
    Ok(())
}

async fn incidents_name_their_location(app: TestApp) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let jkt = post(
        &app,
        "/locations",
        &admin,
        json!({"name": "Jakarta HQ", "time_zone": "Asia/Jakarta"}),
    )
    .await?;
    post(&app, "/locations", &admin, json!({"name": "Surabaya"})).await?;
    let closed = post(&app, "/locations", &admin, json!({"name": "Old office"})).await?;
    send(
        &app.http,
        Method::PATCH,
        &app.api(&format!(
            "/locations/{}",
            closed["id"].as_str().unwrap_or("")
        )),
        &admin,
        Some(json!({"active": false})),
    )
    .await?;
    // By name on create, by id on change; the incident's JSON carries it.
    let i = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "Printer jam", "location": "jakarta hq"}),
    )
    .await?;
    assert_eq!(i["location"]["display"], "Jakarta HQ", "{i}");
    assert_eq!(i["location"]["id"], jkt["id"], "{i}");
    let number = i["number"].as_str().unwrap_or_default().to_owned();
    let other = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "VPN down"}),
    )
    .await?;
    assert!(other["location"].is_null(), "{other}");
    let sby = get(&app, "/locations/Surabaya", &agent).await?;
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{number}")),
        &agent,
        Some(json!({"location": sby["id"]})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        (v["location"]["display"].as_str(), v["version"].as_i64()),
        (Some("Surabaya"), Some(2)),
        "{v}"
    );
    let d = get(&app, &format!("/incidents/{number}"), &agent).await?;
    let changes: Vec<&Value> = d["journal"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|j| j["kind"] == "change")
        .collect();
    assert!(
        changes
            .iter()
            .any(|c| c["changes"]["location"] == json!(["Jakarta HQ", "Surabaya"])),
        "the change is in the journal: {d}"
    );
    // Unknown and inactive locations are refused and change nothing.
    for (loc, code) in [
        (json!("Atlantis"), "not_found"),
        (json!("Old office"), "inactive"),
    ] {
        let resp = app
            .http
            .patch(app.api(&format!("/incidents/{number}")))
            .header("authorization", bearer(&agent))
            .json(&json!({"location": loc, "short_description": "Changed"}))
            .send()
            .await?;
        let p = problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
        assert_eq!(
            (
                p["errors"][0]["field"].as_str(),
                p["errors"][0]["code"].as_str()
            ),
            (Some("location"), Some(code)),
            "{p}"
        );
    }
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api("/incidents"),
        &agent,
        Some(json!({"short_description": "Ghost", "location": "Atlantis"})),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let same = get(&app, &format!("/incidents/{number}"), &agent).await?;
    assert_eq!(
        (
            same["short_description"].as_str(),
            same["location"]["display"].as_str(),
            same["version"].as_i64()
        ),
        (Some("Printer jam"), Some("Surabaya"), Some(2)),
        "{same}"
    );
    // The list filters by location.
    let at = get(&app, "/incidents?location=Surabaya", &agent).await?;
    let numbers: Vec<&str> = at["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["number"].as_str())
        .collect();
    assert_eq!(numbers, vec![number.as_str()], "{at}");
    // The queue export has a location column.
    let resp = app
        .http
        .get(app.api("/incidents/export?queue=all&cols=number,location&sort=number"))
        .header("authorization", bearer(&agent))
        .send()
        .await?;
    let text = resp.text().await?;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first().copied(), Some("number,location"), "{text}");
    assert!(
        lines.contains(&format!("{number},Surabaya").as_str()),
        "{text}"
    );
    // The generic CSV import takes a location by name; an unknown one is an error of its line.
    let resp = app
        .http
        .post(app.api("/import/incidents?map=location%3DSite,short_description%3DSummary"))
        .header("authorization", bearer(&agent))
        .header("content-type", "text/csv")
        .body("Summary,Site\nDisk full,Bandung\nMouse broken,Jakarta HQ\n")
        .send()
        .await?;
    let r: Value = resp.json().await?;
    let errors: Vec<(i64, &str, &str)> = r["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            (
                e["line"].as_i64().unwrap_or(0),
                e["field"].as_str().unwrap_or(""),
                e["code"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(errors, vec![(2, "location", "not_found")], "{r}");
    assert_eq!(r["applied"], false, "{r}");
    let resp = app
        .http
        .post(app.api("/import/incidents"))
        .header("authorization", bearer(&agent))
        .header("content-type", "text/csv")
        .body(format!(
            "number,short_description,location\n,Mouse broken,Jakarta HQ\n{number},,\n"
        ))
        .send()
        .await?;
    let r: Value = resp.json().await?;
    assert_eq!(
        (
            r["applied"].as_bool(),
            r["created"].as_i64(),
            r["updated"].as_i64()
        ),
        (Some(true), Some(1), Some(1)),
        "{r}"
    );
    let jkt_incidents = get(&app, "/incidents?location=Jakarta%20HQ", &agent).await?;
    assert_eq!(
        jkt_incidents["items"][0]["short_description"], "Mouse broken",
        "{jkt_incidents}"
    );
    // A null clears it.
    let (_, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{number}")),
        &agent,
        Some(json!({"location": null})),
    )
    .await?;
    assert!(v["location"].is_null(), "{v}");
    // On the incident page: shown and editable.
    app.person("agent2", &["agent"], None).await?;
    let browser = app.browser("agent2", "agent2-password-1").await?;
    let version = v["version"].as_i64().unwrap_or(0).to_string();
    let (status, _, body) = submit(
        &app,
        &browser,
        &format!("/incidents/{number}"),
        &[
            ("version", &version),
            ("location", "Jakarta HQ"),
            ("location_was", ""),
        ],
    )
    .await?;
    assert_eq!(status, 303, "{body}");
    let page = browser
        .get(app.page(&format!("/incidents/{number}")))
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("<dd>Jakarta HQ</dd>"), "shown in the facts");
    assert!(
        page.contains("name=\"location\" value=\"Jakarta HQ\""),
        "in the form"
    );
    assert!(
        page.contains("<option value=\"Surabaya\">"),
        "offered while typing"
    );
    assert!(
        !page.contains("<option value=\"Old office\">"),
        "inactive ones are not offered"
    );
    let version = get(&app, &format!("/incidents/{number}"), &agent).await?["version"]
        .as_i64()
        .unwrap_or(0)
        .to_string();
    let (status, _, body) = submit(
        &app,
        &browser,
        &format!("/incidents/{number}"),
        &[
            ("version", &version),
            ("location", "Atlantis"),
            ("location_was", "Jakarta HQ"),
        ],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(body.contains("Location: not found."), "the reason is shown");
    let queue = browser
        .get(app.page("/incidents?queue=all&location=Jakarta%20HQ&cols=number,location"))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        queue.contains(&number) && queue.contains("data-col=\"location\""),
        "a queue column and filter"
    );
    // The caller sees where in the portal.
    let (_, rina) = app.person("rina", &["requester"], None).await?;
    let mine = post(
        &app,
        "/incidents",
        &rina,
        json!({"short_description": "Projector dead", "location": "Surabaya"}),
    )
    .await?;
    let mine = mine["number"].as_str().unwrap_or_default().to_owned();
    let portal = app.browser("rina", "rina-password-1").await?;
    let page = portal
        .get(app.page(&format!("/portal/incidents/{mine}")))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        page.contains("id=\"incident-location\">Location: Surabaya</p>"),
        "shown in the portal: {page}"
    );
    assert!(
        page.contains("Send to the service desk") && !page.contains("the caller sees it"),
        "the caller's own words on the comment button"
    );
    Ok(())
}

async fn administrators_keep_locations_in_the_ui(app: TestApp) -> anyhow::Result<()> {
    let admin = app.browser("admin", sigap_testkit::ADMIN_PASSWORD).await?;
    let list = admin
        .get(app.page("/admin/locations"))
        .send()
        .await?
        .text()
        .await?;
    assert!(list.contains("id=\"new-location\""), "a create form");
    let (status, location, _) = submit(
        &app,
        &admin,
        "/admin/locations",
        &[
            ("name", "Jakarta HQ"),
            ("time_zone", "Asia/Jakarta"),
            ("organization", ""),
        ],
    )
    .await?;
    assert_eq!(status, 303);
    let page = location.split('?').next().unwrap_or_default().to_owned();
    assert!(page.starts_with("/admin/locations/"), "{location}");
    let (status, _, body) = submit(
        &app,
        &admin,
        "/admin/locations",
        &[("name", "Mars"), ("time_zone", "Mars/Olympus")],
    )
    .await?;
    assert_eq!(status, 422);
    assert!(
        body.contains("Time zone: not a known time zone"),
        "the reason is shown"
    );
    assert!(body.contains("value=\"Mars\""), "what was typed stays");
    let (status, _, _) =
        submit(&app, &admin, "/admin/locations", &[("name", "jakarta hq")]).await?;
    assert_eq!(status, 422, "the same name in another case");
    // Edit: rename, a time zone, inactive.
    let (status, _, body) = submit(
        &app,
        &admin,
        &page,
        &[
            ("version", "1"),
            ("name", "Jakarta head office"),
            ("time_zone", "Asia/Jakarta"),
            ("organization", ""),
        ],
    )
    .await?;
    assert_eq!(status, 303, "{body}");
    let edit = admin.get(app.page(&page)).send().await?.text().await?;
    assert!(edit.contains("value=\"Jakarta head office\""), "renamed");
    assert!(
        !edit.contains("name=\"active\" value=\"true\" checked"),
        "no longer active"
    );
    assert!(edit.contains("history"), "with its history");
    let list = admin
        .get(app.page("/admin/locations?active=false"))
        .send()
        .await?
        .text()
        .await?;
    assert!(list.contains("Jakarta head office"), "{list}");
    // In Indonesian.
    submit(
        &app,
        &admin,
        "/language",
        &[("lang", "id"), ("back", "/admin/locations")],
    )
    .await?;
    let lokasi = admin
        .get(app.page("/admin/locations"))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        lokasi.contains("<html lang=\"id\">") && lokasi.contains("Lokasi baru"),
        "in Indonesian"
    );
    // Not for others.
    app.person("agnes", &["agent"], None).await?;
    let agent = app.browser("agnes", "agnes-password-1").await?;
    assert_eq!(
        agent
            .get(app.page("/admin/locations"))
            .send()
            .await?
            .status(),
        403
    );
    let (status, _, _) = submit(&app, &agent, "/admin/locations", &[("name", "Medan")]).await?;
    assert_eq!(status, 403);
    Ok(())
}

async fn clocks_may_keep_the_time_of_the_location(app: TestApp) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    let (_, manager) = app.person("mona", &["agent", "manager"], None).await?;
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    post(
        &app,
        "/calendars",
        &admin,
        json!({"name": "Office", "time_zone": "Asia/Jakarta"}),
    )
    .await?;
    let (s, v) = send(
        &app.http,
        Method::POST,
        &app.api("/agreements"),
        &manager,
        Some(json!({"name": "Bad", "kind": "sla", "tz_source": "the moon"})),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let a = post(
        &app,
        "/agreements",
        &manager,
        json!({"name": "Local hours", "kind": "sla", "calendar": "Office", "tz_source": "location",
               "valid_from": "2020-01-01"}),
    )
    .await?;
    assert_eq!(a["tz_source"], "location", "{a}");
    let id = a["id"].as_str().unwrap_or_default().to_owned();
    post(
        &app,
        &format!("/agreements/{id}/targets"),
        &manager,
        json!({"name": "Resolve in 8 h", "metric": "resolution", "duration_minutes": 480}),
    )
    .await?;
    post(
        &app,
        "/locations",
        &admin,
        json!({"name": "Amsterdam", "time_zone": "Europe/Amsterdam"}),
    )
    .await?;
    post(&app, "/locations", &admin, json!({"name": "Depot"})).await?;
    // The location's zone; a location without one, or no location: the calendar's.
    for (location, zone) in [
        (json!("Amsterdam"), "Europe/Amsterdam"),
        (json!("Depot"), "Asia/Jakarta"),
        (Value::Null, "Asia/Jakarta"),
    ] {
        let i = post(
            &app,
            "/incidents",
            &agent,
            json!({"short_description": "Slow network", "location": location}),
        )
        .await?;
        let n = i["number"].as_str().unwrap_or_default();
        let clocks = get(&app, &format!("/incidents/{n}/slas"), &agent).await?;
        assert_eq!(clocks[0]["time_zone"], zone, "{location}: {clocks}");
    }
    Ok(())
}
