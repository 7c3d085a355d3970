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
    saved_reports_are_shared_run_for_their_reader_drilled_and_exported,
    bad_saved_reports_are_refused_and_change_nothing,
    dashboards_hold_reports_and_each_role_has_a_home,
);

/// The lines of an aggregation as (keys joined by `|`) → (count, value).
pub(crate) fn lines(v: &Value) -> BTreeMap<String, (i64, Option<f64>)> {
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
        ("measure=rate&of=time_to_resolve", "of"),
        ("measure=sum&of=known_error", "of"),
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
        &app.api("/aggregate/problem_task"),
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

/// The reports of a list that someone owns (not the built-in ones).
fn owned(list: Value) -> Vec<Value> {
    list.as_array()
        .map(|a| {
            a.iter()
                .filter(|r| !r["owner"].is_null())
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

/// Makes `n` incidents of a caller, each set to an impact and urgency by an agent: their
/// numbers and priorities.
async fn incidents(
    app: &TestApp,
    made: &[(&str, i64)],
    agent: &str,
) -> anyhow::Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for (caller, level) in made {
        let i = post(
            app,
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
            agent,
            Some(json!({"impact": level, "urgency": level})),
        )
        .await?;
        anyhow::ensure!(s == StatusCode::OK, "{v}");
        out.push((number, v["priority"].as_i64().unwrap_or(0)));
    }
    Ok(out)
}

async fn saved_reports_are_shared_run_for_their_reader_drilled_and_exported(
    app: TestApp,
) -> anyhow::Result<()> {
    app.organization("PT Alfa", "customer").await?;
    app.organization("PT Beta", "customer").await?;
    let (_, alfa) = app.person("ani", &["requester"], Some("PT Alfa")).await?;
    let (_, beta) = app.person("bayu", &["requester"], Some("PT Beta")).await?;
    let (_, alfa_agent) = app.person("ali", &["agent"], Some("PT Alfa")).await?;
    let (_, agnes) = app.person("agnes", &["agent"], None).await?;
    let (_, gita) = app.person("gita", &["agent"], None).await?;
    let (_, budi) = app.person("budi", &["agent"], None).await?;
    let (_, mona) = app.person("mona", &["manager"], None).await?;
    let desk = post(
        &app,
        "/groups",
        &app.admin_token,
        json!({"name": "Service Desk", "type": "service_desk"}),
    )
    .await?;
    let desk_id = desk["id"].as_str().unwrap_or_default().to_owned();
    for who in ["agnes", "gita"] {
        post(
            &app,
            &format!("/groups/{desk_id}/members"),
            &app.admin_token,
            json!({"person": who}),
        )
        .await?;
    }
    let made = incidents(
        &app,
        &[(&alfa, 1), (&alfa, 2), (&alfa, 3), (&beta, 1), (&beta, 3)],
        &agnes,
    )
    .await?;

    // A private report: its owner's alone.
    let mine = post(
        &app,
        "/reports",
        &agnes,
        json!({"name": "By priority", "definition": {"source": "incident",
               "group_by": ["priority"], "display": "bar", "period": "last_7_days"}}),
    )
    .await?;
    let id = mine["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(mine["audience"], "private", "{mine}");
    assert_eq!(mine["editable"], true, "{mine}");
    assert_eq!(mine["definition"]["measure"], "count", "{mine}");
    for who in [&gita, &budi] {
        let (s, _) = send(
            &app.http,
            Method::GET,
            &app.api(&format!("/reports/{id}")),
            who,
            None,
        )
        .await?;
        assert_eq!(s, StatusCode::NOT_FOUND);
    }
    // An agent shares with their own groups, not with roles.
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/reports/{id}")),
        &agnes,
        Some(json!({"audience": "roles", "roles": ["agent"]})),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "audience", "{v}");
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/reports/{id}")),
        &agnes,
        Some(json!({"audience": "groups", "groups": [desk_id], "version": 1})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["groups"][0]["name"], "Service Desk", "{v}");
    assert_eq!(v["version"], 2, "{v}");
    let seen = owned(get(&app, "/reports", &gita).await?);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0]["editable"], false, "{seen:?}");
    let seen = owned(get(&app, "/reports", &budi).await?);
    assert!(seen.is_empty(), "{seen:?}");
    // A member of the group may open it, not change or remove it.
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/reports/{id}")),
        &gita,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // A stale version is refused.
    let (s, _) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/reports/{id}")),
        &agnes,
        Some(json!({"name": "Stale", "version": 1})),
    )
    .await?;
    assert_eq!(s, StatusCode::PRECONDITION_FAILED);

    // The rows are the reader's: every incident for the provider's agents, PT Alfa's for
    // PT Alfa's agent — counted here from what was made.
    let mut expected: BTreeMap<String, (i64, Option<f64>)> = BTreeMap::new();
    for (_, p) in &made {
        let e = expected.entry(p.to_string()).or_insert((0, Some(0.0)));
        e.0 += 1;
        e.1 = Some(e.0 as f64);
    }
    let data = get(&app, &format!("/reports/{id}/data"), &gita).await?;
    assert_eq!(lines(&data), expected, "{data}");
    assert_eq!(data["report"]["name"], "By priority");

    // A manager shares a weekly stacked bar with everyone, in Amsterdam's time.
    let weekly = post(
        &app,
        "/reports",
        &mona,
        json!({"name": "Incidents by week and priority", "audience": "everyone",
               "definition": {"source": "incident", "group_by": ["opened_at:week", "priority"],
               "display": "stacked_bar", "period": "last_30_days",
               "time_zone": "Europe/Amsterdam"}}),
    )
    .await?;
    let wid = weekly["id"].as_str().unwrap_or_default().to_owned();
    let all = get(&app, &format!("/reports/{wid}/data"), &budi).await?;
    let total: i64 = lines(&all).values().map(|l| l.0).sum();
    assert_eq!(total, 5, "{all}");
    assert_eq!(all["time_zone"], "Europe/Amsterdam");
    let alfa_only = get(&app, &format!("/reports/{wid}/data"), &alfa_agent).await?;
    let total: i64 = lines(&alfa_only).values().map(|l| l.0).sum();
    assert_eq!(total, 3, "{alfa_only}");
    // The agent of PT Alfa cannot open the private report, and sees no other organization's
    // tasks behind a line either.
    let (s, _) = send(
        &app.http,
        Method::GET,
        &app.api(&format!("/reports/{id}/data")),
        &alfa_agent,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Behind one line: the incidents of its week and priority, newest first.
    let line = &all["lines"][0];
    let week = line["keys"][0]["key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let priority = line["keys"][1]["key"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let behind = get(
        &app,
        &format!("/reports/{wid}/records?keys={week},{priority}"),
        &budi,
    )
    .await?;
    let mut got: Vec<String> = behind
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t["number"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    got.sort();
    let mut want: Vec<String> = made
        .iter()
        .filter(|(_, p)| p.to_string() == priority)
        .map(|(n, _)| n.clone())
        .collect();
    want.sort();
    assert_eq!(got, want, "{behind}");
    assert_eq!(line["count"].as_i64(), Some(want.len() as i64));
    assert!(
        behind[0]["path"]
            .as_str()
            .is_some_and(|p| p.starts_with("/incidents/INC"))
    );
    let behind = get(
        &app,
        &format!("/reports/{wid}/records?keys={week},{priority}"),
        &alfa_agent,
    )
    .await?;
    let alfa_numbers: Vec<&str> = made.iter().take(3).map(|(n, _)| n.as_str()).collect();
    assert!(
        behind.as_array().is_some_and(|a| a
            .iter()
            .all(|t| alfa_numbers.contains(&t["number"].as_str().unwrap_or("")))),
        "{behind}"
    );
    // A key that is no bucket of the period has no tasks; the wrong number of keys is refused.
    let none = get(
        &app,
        &format!("/reports/{wid}/records?keys=1999-W01,{priority}"),
        &budi,
    )
    .await?;
    assert_eq!(none, json!([]));
    let (s, v) = send(
        &app.http,
        Method::GET,
        &app.api(&format!("/reports/{wid}/records?keys=1")),
        &budi,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");

    // Exports: CSV with the reader's words, JSON as the data, XLSX read by a real reader.
    let csv = app
        .http
        .get(app.api(&format!("/reports/{id}/export?format=csv")))
        .bearer_auth(&agnes)
        .send()
        .await?;
    assert_eq!(csv.status(), StatusCode::OK);
    assert!(
        csv.headers()
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("sigap-by-priority.csv"))
    );
    let text = csv.text().await?;
    let mut rows = text.lines();
    assert_eq!(rows.next(), Some("Priority,Count"));
    assert_eq!(rows.count(), expected.len(), "{text}");
    let xlsx = app
        .http
        .get(app.api(&format!("/reports/{wid}/export?format=xlsx")))
        .bearer_auth(&budi)
        .send()
        .await?;
    assert_eq!(xlsx.status(), StatusCode::OK);
    let bytes = xlsx.bytes().await?;
    assert!(bytes.starts_with(b"PK"), "not a zip");
    let sheet = read_xlsx(&bytes)?;
    if let Some(sheet) = sheet {
        assert_eq!(
            sheet[0],
            vec!["Opened (week)", "Priority", "Count"],
            "{sheet:?}"
        );
        let counted: i64 = sheet[1..]
            .iter()
            .filter_map(|r| r.get(2).and_then(|c| c.parse::<f64>().ok()))
            .map(|c| c as i64)
            .sum();
        assert_eq!(counted, 5, "{sheet:?}");
    }

    // The PDF holds the chart and the table: pdftotext (poppler) reads the table back.
    let pdf = app
        .http
        .get(app.api(&format!("/reports/{id}/export?format=pdf")))
        .bearer_auth(&agnes)
        .send()
        .await?;
    assert_eq!(pdf.status(), StatusCode::OK);
    let bytes = pdf.bytes().await?;
    assert!(bytes.starts_with(b"%PDF-"), "not a PDF");
    if let Some(text) = read_pdf(&bytes)? {
        assert!(text.contains("By priority"), "{text}");
        assert!(
            text.contains("Priority") && text.contains("Count"),
            "{text}"
        );
        for n in expected.values() {
            assert!(text.contains(&n.0.to_string()), "{text}");
        }
        assert!(
            text.contains("1 — Critical") || text.contains("2 — High"),
            "{text}"
        );
    }

    // The pages: the chart links every bar to its tasks; the table says the same numbers.
    let browser = app.browser("budi", "budi-password-1").await?;
    let page = browser
        .get(app.page(&format!("/reports/{wid}")))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await?;
    assert!(html.contains("<svg"), "no chart");
    assert!(
        html.contains(&format!("/reports/{wid}/records?keys={week}%2C{priority}")),
        "no drill link"
    );
    assert!(html.contains("id=\"report-table\""));
    let page = browser
        .get(app.page(&format!("/reports/{wid}/records?keys={week},{priority}")))
        .send()
        .await?;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await?;
    for n in &want {
        assert!(html.contains(n.as_str()), "{n} missing");
    }
    let page = browser
        .get(app.page("/reports"))
        .send()
        .await?
        .text()
        .await?;
    assert!(page.contains("Incidents by week and priority") && !page.contains("By priority"));

    // The owner removes their report; then it is gone for everyone.
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/reports/{id}")),
        &agnes,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = send(
        &app.http,
        Method::GET,
        &app.api(&format!("/reports/{id}")),
        &gita,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    Ok(())
}

/// The first sheet of an XLSX as text rows, read by Python's openpyxl; none where it is not
/// installed (unless SIGAP_REQUIRE_OPENPYXL=1, which fails instead).
fn read_xlsx(bytes: &[u8]) -> anyhow::Result<Option<Vec<Vec<String>>>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("report.xlsx");
    std::fs::write(&path, bytes)?;
    let script = "import sys, json, openpyxl\n\
        wb = openpyxl.load_workbook(sys.argv[1])\n\
        ws = wb.worksheets[0]\n\
        print(json.dumps([[('' if c is None else str(c)) for c in r] for r in ws.iter_rows(values_only=True)]))\n";
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output();
    match out {
        Ok(o) if o.status.success() => Ok(Some(serde_json::from_slice(&o.stdout)?)),
        Ok(o)
            if String::from_utf8_lossy(&o.stderr).contains("No module named 'openpyxl'")
                && std::env::var("SIGAP_REQUIRE_OPENPYXL").as_deref() != Ok("1") =>
        {
            eprintln!("openpyxl is not installed: the XLSX is not read back");
            Ok(None)
        }
        Ok(o) => anyhow::bail!("openpyxl: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => anyhow::bail!("python3: {e}"),
    }
}

/// The text of a PDF as Debian's pdftotext (poppler-utils) reads it; none where it is not
/// installed (unless SIGAP_REQUIRE_PDFTOTEXT=1, which fails instead).
fn read_pdf(bytes: &[u8]) -> anyhow::Result<Option<String>> {
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes)?;
    match std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
    {
        Ok(o) if o.status.success() => Ok(Some(String::from_utf8_lossy(&o.stdout).into_owned())),
        Ok(o) => anyhow::bail!("pdftotext: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) if std::env::var("SIGAP_REQUIRE_PDFTOTEXT").as_deref() == Ok("1") => {
            anyhow::bail!("pdftotext: {e}")
        }
        Err(_) => {
            eprintln!("pdftotext is not installed: the PDF is not read back");
            Ok(None)
        }
    }
}

async fn bad_saved_reports_are_refused_and_change_nothing(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let (_, requester) = app.person("rudi", &["requester"], None).await?;
    let ok = json!({"source": "incident"});
    for (body, field) in [
        (json!({"definition": ok}), "name"),
        (json!({"name": "x"}), "definition"),
        (
            json!({"name": "x", "definition": {"source": "problem_task"}}),
            "definition.source",
        ),
        (
            json!({"name": "x", "definition": {"source": "incident", "group_by": ["priority", "state", "ci"]}}),
            "definition.group_by",
        ),
        (
            json!({"name": "x", "definition": {"source": "incident", "group_by": ["priority", "priority"]}}),
            "definition.group_by",
        ),
        (
            json!({"name": "x", "definition": {"source": "incident", "group_by": ["priority", "state"], "display": "pie"}}),
            "definition.display",
        ),
        (
            json!({"name": "x", "definition": {"source": "incident", "group_by": ["priority"], "display": "line"}}),
            "definition.display",
        ),
        (
            json!({"name": "x", "definition": {"source": "incident", "measure": "median"}}),
            "definition.of",
        ),
        (
            json!({"name": "x", "definition": {"source": "incident", "period": "custom"}}),
            "definition.from",
        ),
        (
            json!({"name": "x", "definition": {"source": "incident", "period": "custom", "from": "2026-02-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}}),
            "definition.to",
        ),
        (
            json!({"name": "x", "definition": {"source": "incident", "time_zone": "Mars/Base"}}),
            "definition.time_zone",
        ),
        (
            json!({"name": "x", "definition": {"source": "incident", "state": ["sleeping"]}}),
            "definition.state[0]",
        ),
        (
            json!({"name": "x", "definition": {"source": "incident", "priority": 9}}),
            "definition.priority",
        ),
        (
            json!({"name": "x", "audience": "groups", "definition": ok}),
            "groups",
        ),
        (
            json!({"name": "x", "audience": "groups", "groups": ["nope"], "definition": ok}),
            "groups[0]",
        ),
        (
            json!({"name": "x", "audience": "groups", "groups": [uuid::Uuid::now_v7().to_string()], "definition": ok}),
            "groups[0]",
        ),
        (
            json!({"name": "x", "audience": "everyone", "definition": ok}),
            "audience",
        ),
        (
            json!({"name": "x", "definition": {"source": "incident", "to": ""}}),
            "definition.to",
        ),
        (
            json!({"name": "<script>".repeat(30), "definition": ok}),
            "name",
        ),
    ] {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api("/reports"),
            &agent,
            Some(body.clone()),
        )
        .await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(v["errors"][0]["field"], field, "{body}: {v}");
    }
    // Unknown fields, wrong types and broken JSON are refused by the API's reader.
    for raw in [
        r#"{"name": "x", "definition": {"source": "incident", "colour": "red"}}"#,
        r#"{"name": 5, "definition": {"source": "incident"}}"#,
        r#"{"name": "x", "definition": {"source": "incident"}"#,
    ] {
        let resp = app
            .http
            .post(app.api("/reports"))
            .bearer_auth(&agent)
            .header("content-type", "application/json")
            .body(raw)
            .send()
            .await?;
        assert!(resp.status().is_client_error(), "{raw}: {}", resp.status());
    }
    // A schedule's fields out of range are refused whatever its cadence.
    let made = post(
        &app,
        "/reports",
        &agent,
        json!({"name": "Mine", "definition": ok}),
    )
    .await?;
    let rid = made["id"].as_str().unwrap_or_default().to_owned();
    for (body, field) in [
        (json!({"every": "daily", "weekday": 0}), "weekday"),
        (json!({"every": "weekly", "weekday": 8}), "weekday"),
        (json!({"every": "daily", "day": 29}), "day"),
        (json!({"every": "hourly"}), "every"),
        (json!({"hour": 24}), "hour"),
        (json!({"format": "docx"}), "format"),
        (json!({"addresses": ["not an address"]}), "addresses[0]"),
        (json!({"people": ["nobody-at-all"]}), "people[0]"),
        (json!({"time_zone": "Mars/Base"}), "time_zone"),
        (json!({"colour": "red"}), "colour"),
    ] {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api(&format!("/reports/{rid}/schedules")),
            &agent,
            Some(body.clone()),
        )
        .await?;
        assert!(s.is_client_error(), "{body}: {s} {v}");
        if s == StatusCode::UNPROCESSABLE_ENTITY {
            assert_eq!(v["errors"][0]["field"], field, "{body}: {v}");
        }
    }
    assert_eq!(
        get(&app, &format!("/reports/{rid}/schedules"), &agent).await?,
        json!([])
    );
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/reports/{rid}")),
        &agent,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // A requester builds no reports.
    let (s, _) = send(
        &app.http,
        Method::POST,
        &app.api("/reports"),
        &requester,
        Some(json!({"name": "x", "definition": ok})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(owned(get(&app, "/reports", &agent).await?).is_empty());
    // Ids that are no ids are not found.
    for path in [
        "/reports/nope",
        "/reports/nope/data",
        "/reports/nope/records",
        "/reports/nope/export",
    ] {
        let (s, _) = send(&app.http, Method::GET, &app.api(path), &agent, None).await?;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
    }
    Ok(())
}

async fn dashboards_hold_reports_and_each_role_has_a_home(app: TestApp) -> anyhow::Result<()> {
    app.organization("PT Alfa", "customer").await?;
    let (_, rudi) = app.person("rudi", &["requester"], Some("PT Alfa")).await?;
    let (_, agnes) = app.person("agnes", &["agent"], None).await?;
    let (_, budi) = app.person("budi", &["agent"], None).await?;
    let (_, mona) = app.person("mona", &["manager"], None).await?;
    let (_, ali) = app.person("ali", &["agent"], Some("PT Alfa")).await?;
    let desk = post(
        &app,
        "/groups",
        &app.admin_token,
        json!({"name": "Service Desk", "type": "service_desk"}),
    )
    .await?;
    let desk_id = desk["id"].as_str().unwrap_or_default().to_owned();
    post(
        &app,
        &format!("/groups/{desk_id}/members"),
        &app.admin_token,
        json!({"person": "agnes"}),
    )
    .await?;
    // Rudi's two incidents: one assigned to Agnes and major, one left in the desk's queue.
    let mine = post(
        &app,
        "/incidents",
        &rudi,
        json!({"short_description": "VPN drops"}),
    )
    .await?;
    let mine = mine["number"].as_str().unwrap_or_default().to_owned();
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{mine}")),
        &agnes,
        Some(json!({"assignment_group": "Service Desk", "assigned_to": "agnes", "major": true, "impact": 1, "urgency": 1})),
    )
    .await?;
    anyhow::ensure!(s == StatusCode::OK, "{v}");
    let queued = post(
        &app,
        "/incidents",
        &rudi,
        json!({"short_description": "Printer jam"}),
    )
    .await?;
    let queued = queued["number"].as_str().unwrap_or_default().to_owned();
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/incidents/{queued}")),
        &agnes,
        Some(json!({"assignment_group": "Service Desk"})),
    )
    .await?;
    anyhow::ensure!(s == StatusCode::OK, "{v}");

    // Each role's home is a built-in dashboard.
    for (who, role) in [
        (&agnes, "agent"),
        (&mona, "manager"),
        (&rudi, "requester"),
        (&app.admin_token, "manager"),
    ] {
        let home = get(&app, "/dashboards/home", who).await?;
        assert_eq!(home["home_role"], role, "{home}");
        assert_eq!(home["owner"], Value::Null, "{home}");
        assert_eq!(home["editable"], who == &app.admin_token, "{home}");
    }
    // The agent's own queue: "my open incidents" is the report of the reader's queue.
    let agent_home = get(&app, "/dashboards/home", &agnes).await?;
    let first = agent_home["tiles"][0]["report"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mine_data = get(&app, &format!("/reports/{first}/data"), &agnes).await?;
    assert_eq!(
        lines(&mine_data),
        BTreeMap::from([(String::new(), (1, Some(1.0)))]),
        "{mine_data}"
    );
    let budi_data = get(&app, &format!("/reports/{first}/data"), &budi).await?;
    assert_eq!(
        lines(&budi_data),
        BTreeMap::from([(String::new(), (0, Some(0.0)))]),
        "{budi_data}"
    );
    let behind = get(&app, &format!("/reports/{first}/records?keys="), &agnes).await?;
    assert_eq!(behind[0]["number"], mine.as_str(), "{behind}");
    // The groups' queue counts the desk's two, by priority; Budi is in no group.
    let second = agent_home["tiles"][1]["report"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let queue = get(&app, &format!("/reports/{second}/data"), &agnes).await?;
    let total: i64 = lines(&queue).values().map(|l| l.0).sum();
    assert_eq!(total, 2, "{queue}");
    assert_eq!(
        get(&app, &format!("/reports/{second}/data"), &budi).await?["lines"],
        json!([])
    );
    // A requester's home shows the announcements, then lists their own open incidents.
    let requester_home = get(&app, "/dashboards/home", &rudi).await?;
    assert_eq!(requester_home["tiles"][0]["panel"], "announcements");
    let theirs = requester_home["tiles"][1]["report"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let data = get(&app, &format!("/reports/{theirs}/data"), &rudi).await?;
    assert_eq!(
        lines(&data),
        BTreeMap::from([(String::new(), (2, Some(2.0)))]),
        "{data}"
    );
    // The built-in home dashboards cannot be removed, nor changed but by an administrator.
    let hid = agent_home["id"].as_str().unwrap_or_default().to_owned();
    let (s, _) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/dashboards/{hid}")),
        &agnes,
        Some(json!({"name": "Mine now"})),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/dashboards/{hid}")),
        &app.admin_token,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Mona's own dashboard: a report of hers and a panel, shared with everyone.
    let report = post(
        &app,
        "/reports",
        &mona,
        json!({"name": "By priority", "audience": "everyone",
               "definition": {"source": "incident", "group_by": ["priority"], "display": "bar"}}),
    )
    .await?;
    let rid = report["id"].as_str().unwrap_or_default().to_owned();
    let board = post(
        &app,
        "/dashboards",
        &mona,
        json!({"name": "Desk at a glance", "audience": "everyone",
               "tiles": [{"report": rid, "wide": true}, {"panel": "major_incidents"}]}),
    )
    .await?;
    let bid = board["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        board["tiles"],
        json!([{"report": rid, "wide": true}, {"panel": "major_incidents", "wide": false}])
    );
    // Mona makes her board her home page, then goes back to her role's.
    let (s, v) = send(
        &app.http,
        Method::PUT,
        &app.api("/dashboards/home"),
        &mona,
        Some(json!({"dashboard": bid})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        get(&app, "/dashboards/home", &mona).await?["id"],
        bid.as_str()
    );
    let (s, _) = send(
        &app.http,
        Method::PUT,
        &app.api("/dashboards/home"),
        &budi,
        Some(json!({"dashboard": uuid::Uuid::now_v7().to_string()})),
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = send(
        &app.http,
        Method::PUT,
        &app.api("/dashboards/home"),
        &mona,
        Some(json!({"dashboard": null})),
    )
    .await?;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["home_role"], "manager", "{v}");
    // A tile naming a report the writer may not open is refused.
    let private = post(
        &app,
        "/reports",
        &agnes,
        json!({"name": "Mine", "definition": {"source": "incident"}}),
    )
    .await?;
    let pid = private["id"].as_str().unwrap_or_default().to_owned();
    let (s, v) = send(
        &app.http,
        Method::PATCH,
        &app.api(&format!("/dashboards/{bid}")),
        &mona,
        Some(json!({"tiles": [{"report": pid}]})),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "tiles[0].report", "{v}");
    for (body, field) in [
        (
            json!({"name": "x", "tiles": [{"panel": "weather"}]}),
            "tiles[0].panel",
        ),
        (
            json!({"name": "x", "tiles": [{"report": "nope"}]}),
            "tiles[0].report",
        ),
        (json!({"name": "x", "tiles": [{}]}), "tiles[0]"),
        (
            json!({"name": "x", "tiles": [{"report": rid, "panel": "major_incidents"}]}),
            "tiles[0]",
        ),
        (
            json!({"name": "x", "tiles": vec![json!({"panel": "major_incidents"}); 25]}),
            "tiles",
        ),
    ] {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api("/dashboards"),
            &mona,
            Some(body.clone()),
        )
        .await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(v["errors"][0]["field"], field, "{body}: {v}");
    }

    // The pages: the dashboard's tiles, and each reader's home with theirs. The customer's
    // agent sees their organization's numbers on the same shared dashboard.
    let browser = app.browser("mona", "mona-password-1").await?;
    let html = browser
        .get(app.page(&format!("/dashboards/{bid}")))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        html.contains("By priority") && html.contains("Major incidents"),
        "{html}"
    );
    assert!(html.contains(&mine), "the major incident is on the panel");
    assert!(html.contains("<svg"), "the report is drawn");
    let html = browser.get(app.page("/")).send().await?.text().await?;
    assert!(
        html.contains("id=\"home-dashboard\"") && html.contains("Incident backlog by priority"),
        "manager home"
    );
    let agent_browser = app.browser("agnes", "agnes-password-1").await?;
    let html = agent_browser
        .get(app.page("/"))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        html.contains("My open incidents") && html.contains(&mine),
        "agent home lists her incident"
    );
    let requester_browser = app.browser("rudi", "rudi-password-1").await?;
    let html = requester_browser
        .get(app.page("/"))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        html.contains(&mine) && html.contains(&queued),
        "requester home lists theirs"
    );
    let alfa = get(&app, &format!("/reports/{rid}/data"), &ali).await?;
    let total: i64 = lines(&alfa).values().map(|l| l.0).sum();
    assert_eq!(total, 2, "{alfa}");

    // A report added to a dashboard from its page; then the dashboard is removed.
    let form = agent_browser
        .post(app.page(&format!("/reports/{rid}/dashboard")))
        .header("origin", &app.url)
        .form(&[("dashboard", ""), ("new_name", "Agnes's board")])
        .send()
        .await?;
    assert_eq!(form.status(), StatusCode::SEE_OTHER);
    let boards = get(&app, "/dashboards", &agnes).await?;
    let made = boards
        .as_array()
        .and_then(|a| a.iter().find(|d| d["name"] == "Agnes's board"))
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        made["tiles"],
        json!([{"report": rid, "wide": false}]),
        "{boards}"
    );
    let mid = made["id"].as_str().unwrap_or_default().to_owned();
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!("/dashboards/{mid}")),
        &agnes,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = send(
        &app.http,
        Method::GET,
        &app.api(&format!("/dashboards/{mid}")),
        &agnes,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    Ok(())
}
