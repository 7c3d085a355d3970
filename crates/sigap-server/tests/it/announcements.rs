//! Announcements over HTTP: managers write them for a while and for one side of the desk;
//! each person sees those running for them, outages first, on their home page too.

use crate::portfolio::{get, post, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_domain::Clock as _;
use sigap_testkit::{TestApp, both};

both!(announcements_show_for_their_audience_while_they_run);

fn titles(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|l| {
            l.iter()
                .map(|a| a["title"].as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

async fn announcements_show_for_their_audience_while_they_run(app: TestApp) -> anyhow::Result<()> {
    let (_, mona) = app.person("mona", &["agent", "manager"], None).await?;
    let (_, ari) = app.person("ari", &["agent"], None).await?;
    let (_, reni) = app.person("reni", &["requester"], None).await?;
    let now = app.clock.now();
    let later = |h: i64| (now + jiff::SignedDuration::from_hours(h)).to_string();

    // Refused with the field named, and nothing is written.
    for (body, field) in [
        (json!({"body": "No title"}), "title"),
        (json!({"title": "   "}), "title"),
        (json!({"title": "x", "severity": "panic"}), "severity"),
        (json!({"title": "x", "audience": "martians"}), "audience"),
        (json!({"title": "x", "starts_at": "tomorrow"}), "starts_at"),
        (
            json!({"title": "x", "starts_at": later(2), "ends_at": later(1)}),
            "ends_at",
        ),
        (json!({"title": "x", "body": "y".repeat(5001)}), "body"),
        (json!({"title": "x", "colour": "red"}), "colour"),
    ] {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api("/announcements"),
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
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api("/announcements"),
        &ari,
        Some(json!({"title": "Mine"})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN, "only managers announce");
    assert_eq!(
        get(&app, "/announcements?scope=all", &mona).await?,
        json!([])
    );

    let outage = post(
        &app,
        "/announcements",
        &mona,
        json!({"title": "Mail is down", "body": "We are on it.\n\nNext update at noon.",
               "severity": "outage", "audience": "requesters"}),
    )
    .await?;
    assert_eq!(outage["author"]["name"], "Test mona", "{outage}");
    post(
        &app,
        "/announcements",
        &mona,
        json!({"title": "New laptops in the catalogue", "starts_at": later(2)}),
    )
    .await?;
    let agents = post(
        &app,
        "/announcements",
        &mona,
        json!({"title": "Change freeze this weekend", "severity": "warning",
               "audience": "agents", "ends_at": later(48)}),
    )
    .await?;

    assert_eq!(
        titles(&get(&app, "/announcements", &reni).await?),
        ["Mail is down"]
    );
    assert_eq!(
        titles(&get(&app, "/announcements", &ari).await?),
        ["Change freeze this weekend"]
    );
    let (s, _) = send(
        &app.http,
        Method::GET,
        &app.api(&format!(
            "/announcements/{}",
            agents["id"].as_str().unwrap_or_default()
        )),
        &reni,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND, "not for requesters");
    let (s, _) = send(
        &app.http,
        Method::GET,
        &app.api("/announcements?scope=all"),
        &reni,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // The news starts; outages still come first.
    app.clock.advance(jiff::SignedDuration::from_hours(3));
    assert_eq!(
        titles(&get(&app, "/announcements", &reni).await?),
        ["Mail is down", "New laptops in the catalogue"]
    );
    assert_eq!(
        get(&app, "/announcements?scope=all", &mona)
            .await?
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // On the requester's home page.
    let browser = app.browser("reni", "reni-password-1").await?;
    let home = browser.get(app.page("/")).send().await?.text().await?;
    assert!(
        home.contains("Mail is down") && home.contains("New laptops"),
        "{home}"
    );
    let page = browser
        .get(app.page(&format!(
            "/announcements/{}",
            outage["id"].as_str().unwrap_or_default()
        )))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await?.contains("Next update at noon."));

    // Ended now: taken down.
    let id = outage["id"].as_str().unwrap_or_default();
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/announcements/{id}")),
        &mona,
        Some(json!({"ends_at": app.clock.now().to_string(), "version": 1})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        titles(&get(&app, "/announcements", &reni).await?),
        ["New laptops in the catalogue"]
    );
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/announcements/{id}")),
        &ari,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/announcements/{id}")),
        &mona,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(
        get(&app, "/announcements?scope=all", &mona)
            .await?
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    Ok(())
}
