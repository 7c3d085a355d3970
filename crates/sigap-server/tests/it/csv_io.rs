//! Generic CSV import and export: column mapping, every bad line reported, nothing imported
//! when one is wrong or on a dry run; exports with the filters and columns of a queue.

use crate::helpers::bearer;
use crate::portfolio::{get, post};
use reqwest::StatusCode;
use serde_json::Value;
use sigap_testkit::{TestApp, both};

both!(generic_csv_imports_check_every_line_and_exports_follow_the_view);

async fn upload(
    app: &TestApp,
    token: &str,
    path: &str,
    body: &str,
) -> anyhow::Result<(StatusCode, Value)> {
    let resp = app
        .http
        .post(app.api(path))
        .header("authorization", bearer(token))
        .header("content-type", "text/csv")
        .body(body.to_owned())
        .send()
        .await?;
    let s = resp.status();
    Ok((s, resp.json().await.unwrap_or(Value::Null)))
}

async fn generic_csv_imports_check_every_line_and_exports_follow_the_view(
    app: TestApp,
) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    // Organizations first.
    let (s, r) = upload(
        &app,
        &admin,
        "/import/organizations",
        "name,kind\nAcme,customer\nGlobex,supplier\n",
    )
    .await?;
    assert_eq!(
        (s, r["applied"].as_bool(), r["created"].as_i64()),
        (StatusCode::OK, Some(true), Some(2)),
        "{r}"
    );
    // People with mapped columns and three bad lines: each reported, none imported.
    let file = "User ID,Full name,Mail,Roles,Company\n\
                budi,Budi Santoso,budi@example.com,requester,Acme\n\
                x,Too Short,x@example.com,requester,Acme\n\
                citra,Citra,not-an-email,agent,Acme\n\
                dewi,Dewi,dewi@example.com,wizard,Nowhere\n\
                eko,Eko,eko@example.com,agent;manager,Globex\n";
    let map = "/import/people?map=login%3DUser%20ID,name%3DFull%20name,email%3DMail,roles%3DRoles,organization%3DCompany";
    let (s, r) = upload(&app, &admin, &format!("{map}&dry_run=true"), file).await?;
    assert_eq!(s, StatusCode::OK, "{r}");
    let lines: Vec<(i64, &str)> = r["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["line"].as_i64().unwrap_or(0),
                        e["field"].as_str().unwrap_or(""),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        lines,
        vec![
            (3, "login"),
            (4, "email"),
            (5, "roles"),
            (5, "organization")
        ],
        "{r}"
    );
    assert_eq!(r["applied"], false);
    let (s, r) = upload(&app, &admin, map, file).await?;
    assert_eq!(
        (s, r["applied"].as_bool()),
        (StatusCode::OK, Some(false)),
        "{r}"
    );
    let (s, _) = crate::portfolio::send(
        &app.http,
        reqwest::Method::GET,
        &app.api("/people/budi"),
        &admin,
        None,
    )
    .await?;
    assert_eq!(
        s,
        StatusCode::NOT_FOUND,
        "nothing imported while a line is wrong"
    );
    // The good lines alone import; again, they update.
    let good = "User ID,Full name,Mail,Roles,Company\nbudi,Budi Santoso,budi@example.com,requester,Acme\neko,Eko,eko@example.com,agent;manager,Globex\n";
    let (_, r) = upload(&app, &admin, map, good).await?;
    assert_eq!(
        (r["applied"].as_bool(), r["created"].as_i64()),
        (Some(true), Some(2)),
        "{r}"
    );
    let (_, r) = upload(&app, &admin, map, good).await?;
    assert_eq!(
        (r["created"].as_i64(), r["updated"].as_i64()),
        (Some(0), Some(2)),
        "{r}"
    );
    let eko = get(&app, "/people/eko", &admin).await?;
    assert_eq!(eko["organization"]["display"], "Globex");
    // Bad mapping and unknown columns are refused up front.
    let (s, _) = upload(&app, &admin, "/import/people?map=colour%3DX", good).await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (_, r) = upload(&app, &admin, "/import/people", "login,shoe_size\nfoo,42\n").await?;
    assert_eq!(r["errors"][0]["code"], "unknown_column", "{r}");
    // Incidents: created, and then updated by number.
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let (_, r) = upload(
        &app,
        &agent,
        "/import/incidents",
        "short_description,caller,impact,urgency\nVPN down,budi,1,1\nPrinter jam,budi,3,3\n",
    )
    .await?;
    assert_eq!(
        (r["applied"].as_bool(), r["created"].as_i64()),
        (Some(true), Some(2)),
        "{r}"
    );
    let (_, r) = upload(
        &app,
        &agent,
        "/import/incidents",
        "number,short_description\nINC9999999,Nope\n",
    )
    .await?;
    assert_eq!(r["errors"][0]["code"], "not_found", "{r}");
    // The export of a view: its filters and its columns.
    let resp = app
        .http
        .get(app.api("/incidents/export?queue=all&priority=1&cols=number,priority,caller,sla"))
        .header("authorization", bearer(&agent))
        .send()
        .await?;
    let status = resp.status();
    let text = resp.text().await?;
    assert_eq!(status, StatusCode::OK, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.first(), Some(&"number,caller,priority"), "{text}");
    assert_eq!(lines.len(), 2, "only priority 1: {text}");
    assert!(lines[1].ends_with(",budi,1"), "{text}");
    let people = app
        .http
        .get(app.api("/export/people"))
        .header("authorization", bearer(&admin))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        people.starts_with("login,name,email,roles")
            && people.contains("eko,Eko,eko@example.com,agent;manager"),
        "{people}"
    );
    // What was exported imports again unchanged in shape.
    let (_, r) = upload(&app, &admin, "/import/people", &people).await?;
    assert_eq!(r["errors"].as_array().map(Vec::len), Some(0), "{r}");
    let _ = post;
    Ok(())
}
