//! Service reporting over HTTP: the aggregate endpoint's numbers against the incidents made
//! here, a customer's agent's numbers limited to their organization, and bad questions
//! refused with the parameter named.

use crate::helpers::problem;
use crate::portfolio::{get, post, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_domain::Clock as _;
use sigap_testkit::{TestApp, both};
use std::collections::BTreeMap;

both!(
    aggregates_count_and_measure_what_the_caller_may_see,
    bad_aggregations_are_refused_with_the_parameter_named,
);

/// The lines of an aggregation as (keys joined by `|`) → (count, value).
fn lines(v: &Value) -> BTreeMap<String, (i64, Option<f64>)> {
    v["lines"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    let keys: Vec<String> = l["keys"]
                        .as_array()
                        .map(|k| {
                            k.iter()
                                .map(|k| {
                                    k["name"]
                                        .as_str()
                                        .or(k["key"].as_str())
                                        .unwrap_or("-")
                                        .to_owned()
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    (
                        keys.join("|"),
                        (l["count"].as_i64().unwrap_or(-1), l["value"].as_f64()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn aggregates_count_and_measure_what_the_caller_may_see(app: TestApp) -> anyhow::Result<()> {
    app.organization("PT Alfa", "customer").await?;
    app.organization("PT Beta", "customer").await?;
    let (_, alfa) = app.person("ani", &["requester"], Some("PT Alfa")).await?;
    let (_, beta) = app.person("bayu", &["requester"], Some("PT Beta")).await?;
    let (_, alfa_agent) = app.person("ali", &["agent"], Some("PT Alfa")).await?;
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let start = app.clock.now();
    // (caller, impact, urgency, hours until resolved)
    let made = [
        (&alfa, 1, 1, Some(2)),
        (&alfa, 2, 2, Some(6)),
        (&alfa, 3, 3, None),
        (&beta, 1, 1, Some(4)),
        (&beta, 3, 3, Some(10)),
    ];
    let mut numbers = Vec::new();
    for (caller, impact, urgency, _) in &made {
        let i = post(
            &app,
            "/incidents",
            caller,
            json!({"short_description": "Printer jam"}),
        )
        .await?;
        let number = i["number"].as_str().unwrap_or_default().to_owned();
        let (s, v) = send(
            &app.http,
            Method::PATCH,
            &app.api(&format!("/incidents/{number}")),
            &agent,
            Some(json!({"impact": impact, "urgency": urgency})),
        )
        .await?;
        anyhow::ensure!(s == StatusCode::OK, "{v}");
        numbers.push((number, v["priority"].as_i64().unwrap_or(0)));
    }
    // Resolved an hour at a time, each when its hours are up.
    for hour in 1..=10 {
        app.clock.advance(jiff::SignedDuration::from_hours(1));
        for ((number, _), (_, _, _, hours)) in numbers.iter().zip(&made) {
            if *hours == Some(hour) {
                let (s, v) = send(
                    &app.http,
                    Method::POST,
                    &app.api(&format!("/incidents/{number}/resolve")),
                    &agent,
                    Some(json!({"resolution_code": "solved_permanently", "resolution_notes": "Cleared"})),
                )
                .await?;
                anyhow::ensure!(s == StatusCode::OK, "{v}");
            }
        }
    }
    let from = (start - jiff::SignedDuration::from_hours(1)).to_string();
    let to = (start + jiff::SignedDuration::from_hours(24)).to_string();
    let period = format!("from={from}&to={to}");

    // Counted by priority: what the incidents were given.
    let mut expected: BTreeMap<String, (i64, Option<f64>)> = BTreeMap::new();
    for (_, p) in &numbers {
        let e = expected.entry(p.to_string()).or_insert((0, Some(0.0)));
        e.0 += 1;
        e.1 = Some(e.0 as f64);
    }
    let v = get(
        &app,
        &format!("/aggregate/incident?group_by=priority&{period}"),
        &agent,
    )
    .await?;
    assert_eq!(lines(&v), expected, "{v}");
    assert_eq!(
        (v["measure"].clone(), v["time"].clone()),
        (json!("count"), json!("opened_at"))
    );

    // The median time to resolve, by organization: the unresolved one has no number.
    let v = get(
        &app,
        &format!(
            "/aggregate/incident?group_by=organization&measure=median&of=time_to_resolve&{period}"
        ),
        &agent,
    )
    .await?;
    let h = |n: f64| Some(n * 3600.0);
    assert_eq!(
        lines(&v),
        BTreeMap::from([
            ("PT Alfa".to_owned(), (3, h(4.0))),
            ("PT Beta".to_owned(), (2, h(7.0))),
        ]),
        "{v}"
    );
    // The slowest resolution, of resolved ones by the day they were resolved (UTC).
    let v = get(
        &app,
        &format!("/aggregate/incident?group_by=resolved_at:day&time=resolved_at&measure=max&of=time_to_resolve&tz=UTC&{period}"),
        &agent,
    )
    .await?;
    let total: i64 = lines(&v).values().map(|l| l.0).sum();
    assert_eq!(total, 4, "{v}");
    let slowest = lines(&v).values().filter_map(|l| l.1).fold(0.0, f64::max);
    assert_eq!(slowest, 10.0 * 3600.0, "{v}");
    assert_eq!(v["time_zone"], "UTC");

    // A customer's agent counts their organization's incidents only; a requester their own.
    let v = get(
        &app,
        &format!("/aggregate/incident?group_by=organization&{period}"),
        &alfa_agent,
    )
    .await?;
    assert_eq!(
        lines(&v),
        BTreeMap::from([("PT Alfa".to_owned(), (3, Some(3.0)))]),
        "{v}"
    );
    let v = get(&app, &format!("/aggregate/incident?{period}"), &beta).await?;
    assert_eq!(
        lines(&v),
        BTreeMap::from([(String::new(), (2, Some(2.0)))]),
        "{v}"
    );

    // Filtered by state: the open one.
    let v = get(
        &app,
        &format!("/aggregate/incident?state=new,in_progress&{period}"),
        &agent,
    )
    .await?;
    assert_eq!(
        lines(&v),
        BTreeMap::from([(String::new(), (1, Some(1.0)))]),
        "{v}"
    );
    Ok(())
}

async fn bad_aggregations_are_refused_with_the_parameter_named(app: TestApp) -> anyhow::Result<()> {
    let t = app.admin_token.clone();
    for (query, field) in [
        ("group_by=priority,nonsense", "group_by"),
        ("group_by=priority,priority", "group_by"),
        ("group_by=state,priority,category", "group_by"),
        ("measure=median", "of"),
        ("measure=sometimes", "measure"),
        ("tz=Mars/Olympus_Mons", "tz"),
        ("from=yesterday", "from"),
        ("from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", "to"),
        (
            "group_by=opened_at:day&from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            "group_by",
        ),
        ("state=sleeping", "state"),
        ("priority=9", "priority"),
        ("priority=high", "priority"),
    ] {
        let resp = app
            .http
            .get(app.api(&format!("/aggregate/incident?{query}")))
            .bearer_auth(&t)
            .send()
            .await?;
        let body = problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            .await
            .map_err(|e| anyhow::anyhow!("{query}: {e}"))?;
        assert_eq!(body["errors"][0]["field"], field, "{query}: {body}");
    }
    // The earliest time there is, with the period's default length before it: nothing to
    // count, and no error.
    let v = get(&app, "/aggregate/incident?to=-009999-01-03T00:00:00Z", &t).await?;
    assert_eq!(
        v["lines"],
        json!([{"keys": [], "count": 0, "value": 0.0}]),
        "{v}"
    );
    let v = get(&app, "/aggregate/incident?to=2000-01-01T00:00:00Z", &t).await?;
    assert_eq!(
        v["lines"],
        json!([{"keys": [], "count": 0, "value": 0.0}]),
        "{v}"
    );
    let v = get(
        &app,
        "/aggregate/incident?group_by=opened_at:quarter&from=9999-01-01T00:00:00Z&to=9999-06-01T00:00:00Z",
        &t,
    )
    .await?;
    assert_eq!(v["lines"], json!([]), "{v}");
    let (s, _) = send(
        &app.http,
        Method::GET,
        &app.api("/aggregate/article"),
        &t,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = send(
        &app.http,
        Method::GET,
        &app.api("/aggregate/incident"),
        "",
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    Ok(())
}
