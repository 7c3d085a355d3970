//! Generic CSV import and export: column mapping, every bad line reported, nothing imported
//! when one is wrong or on a dry run; exports with the filters and columns of a queue.

use crate::helpers::bearer;
use crate::portfolio::{get, post};
use reqwest::StatusCode;
use serde_json::Value;
use sigap_testkit::{TestApp, both};

both!(
    generic_csv_imports_check_every_line_and_exports_follow_the_view,
    configuration_items_import_with_a_mapping_and_export_with_filters,
    exports_stream_every_row_and_say_when_a_limit_cut_them,
);

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

async fn csv_get(app: &TestApp, token: &str, path: &str) -> anyhow::Result<(StatusCode, String)> {
    let resp = app
        .http
        .get(app.api(path))
        .header("authorization", bearer(token))
        .send()
        .await?;
    let s = resp.status();
    Ok((s, resp.text().await?))
}

fn error_lines(r: &Value) -> Vec<(i64, String, String)> {
    r["errors"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|e| {
                    (
                        e["line"].as_i64().unwrap_or(0),
                        e["field"].as_str().unwrap_or("").to_owned(),
                        e["code"].as_str().unwrap_or("").to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

async fn configuration_items_import_with_a_mapping_and_export_with_filters(
    app: TestApp,
) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    post(
        &app,
        "/groups",
        &app.admin_token,
        serde_json::json!({"name": "Data centre", "type": "it_operations"}),
    )
    .await?;
    // A file with its own headers, mapped onto the CI columns and attribute codes.
    let map = "/import/cis?map=class%3DType,name%3DHostname,status%3DState,owner_group%3DTeam,serial%3DSN,cpu_count%3DCPUs,environment%3DEnv";
    let good = "Type,Hostname,State,Team,SN,CPUs,Env\n\
                server,web-01,operational,Data centre,SN-1,8,\n\
                server,web-02,maintenance,Data centre,SN-2,4,\n\
                application_service,Payroll,operational,,,,production\n";
    let (s, r) = upload(&app, &agent, map, good).await?;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(
        (
            r["kind"].as_str(),
            r["applied"].as_bool(),
            r["created"].as_i64(),
            r["lines"].as_i64()
        ),
        (Some("cis"), Some(true), Some(3), Some(3)),
        "{r}"
    );
    let web = get(&app, "/configuration_items?q=web-01", &agent).await?;
    let item = &web["items"][0];
    assert_eq!(
        (
            item["name"].as_str(),
            item["status"].as_str(),
            item["serial"].as_str(),
            item["owner_group"]["display"].as_str()
        ),
        (
            Some("web-01"),
            Some("operational"),
            Some("SN-1"),
            Some("Data centre")
        ),
        "{web}"
    );
    assert_eq!(item["attributes"]["cpu_count"], 8, "{web}");
    // The same file again changes nothing.
    let (_, r) = upload(&app, &agent, map, good).await?;
    assert_eq!(
        (
            r["created"].as_i64(),
            r["updated"].as_i64(),
            r["unchanged"].as_i64()
        ),
        (Some(0), Some(0), Some(3)),
        "{r}"
    );
    // Bad lines under a dry run: each reported with its line and reason, nothing imported.
    let bad = "Type,Hostname,State,Team,SN,CPUs,Env\n\
               server,db-01,operational,Data centre,SN-3,16,\n\
               teapot,kettle,operational,,,,\n\
               server,db-02,broken,Nobody,,many,\n\
               server,,operational,,,,\n\
               application_service,Ledger,operational,,,,galactic\n";
    let (s, r) = upload(&app, &agent, &format!("{map}&dry_run=true"), bad).await?;
    assert_eq!(s, StatusCode::OK, "{r}");
    let lines = error_lines(&r);
    let at = |line: i64| -> Vec<(String, String)> {
        lines
            .iter()
            .filter(|(l, _, _)| *l == line)
            .map(|(_, f, c)| (f.clone(), c.clone()))
            .collect()
    };
    assert_eq!(at(2), vec![], "{r}");
    assert_eq!(at(3), vec![("class".into(), "not_found".into())], "{r}");
    let four: Vec<String> = at(4).into_iter().map(|(f, _)| f).collect();
    for f in ["status", "owner_group", "cpu_count"] {
        assert!(four.contains(&f.to_owned()), "line 4 {f}: {r}");
    }
    assert_eq!(at(5).first().map(|e| e.0.as_str()), Some("name"), "{r}");
    assert_eq!(
        at(6).first().map(|e| e.0.as_str()),
        Some("environment"),
        "{r}"
    );
    assert!(
        r["errors"]
            .as_array()
            .into_iter()
            .flatten()
            .all(|e| e["message"].as_str().is_some_and(|m| !m.is_empty())),
        "every error has a reason: {r}"
    );
    assert_eq!(
        (r["dry_run"].as_bool(), r["applied"].as_bool()),
        (Some(true), Some(false)),
        "{r}"
    );
    // Without the dry run the same file still imports nothing, not even its good line.
    let (_, r) = upload(&app, &agent, map, bad).await?;
    assert_eq!(r["applied"], false, "{r}");
    let db = get(&app, "/configuration_items?q=db-01", &agent).await?;
    assert_eq!(db["items"].as_array().map(Vec::len), Some(0), "{db}");
    // A mapping to a field that is not one, or from a column the file does not have: 422.
    for bad_map in [
        "/import/cis?map=name%3DHostname,shoe_size%3DSN",
        "/import/cis?map=name%3DHostname,Shoe%20size%3DSN",
        "/import/cis?map=class%3DType,name%3DFQDN",
    ] {
        let resp = app
            .http
            .post(app.api(bad_map))
            .header("authorization", bearer(&agent))
            .header("content-type", "text/csv")
            .body(good.to_owned())
            .send()
            .await?;
        let body =
            crate::helpers::problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
                .await?;
        assert_eq!(body["errors"][0]["field"], "map", "{bad_map}: {body}");
    }
    let all = get(&app, "/configuration_items?limit=100", &agent).await?;
    assert_eq!(
        all["items"].as_array().map(Vec::len),
        Some(3),
        "nothing new: {all}"
    );
    // Requesters may not import configuration items.
    let (_, requester) = app.person("rudi", &["requester"], None).await?;
    let (s, _) = upload(&app, &requester, map, good).await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // The export follows the list's filters and carries the attribute columns of its classes.
    let (s, text) = csv_get(&app, &agent, "/export/cis?class=server&status=operational").await?;
    assert_eq!(s, StatusCode::OK, "{text}");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines.first().copied(),
        Some("class,name,status,owner_group,location,serial,cpu_count,ram_gb,os,ip_address,model"),
        "{text}"
    );
    assert_eq!(lines.len(), 2, "only the operational server: {text}");
    assert!(
        lines[1].starts_with("server,web-01,operational,Data centre,,SN-1,8"),
        "{text}"
    );
    let (_, text) = csv_get(&app, &agent, "/export/cis?sort=-name").await?;
    let names: Vec<&str> = text
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').nth(1))
        .collect();
    assert_eq!(names, vec!["web-02", "web-01", "Payroll"], "{text}");
    let (s, _) = csv_get(&app, &agent, "/export/cis?status=broken").await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = csv_get(&app, &requester, "/export/cis").await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    // What was exported imports again unchanged.
    let (_, export) = csv_get(&app, &agent, "/export/cis").await?;
    let (_, r) = upload(&app, &agent, "/import/cis", &export).await?;
    assert_eq!(
        (
            r["errors"].as_array().map(Vec::len),
            r["unchanged"].as_i64()
        ),
        (Some(0), Some(3)),
        "{r}"
    );
    Ok(())
}

/// An export as the client receives it: status, `X-Truncated`, whether it came chunked (no
/// length known in advance) and its lines.
async fn export_lines(
    app: &TestApp,
    path: &str,
) -> anyhow::Result<(StatusCode, Option<String>, bool, Vec<String>)> {
    let resp = app
        .http
        .get(app.api(path))
        .header("authorization", bearer(&app.admin_token))
        .send()
        .await?;
    let status = resp.status();
    let truncated = resp
        .headers()
        .get("x-truncated")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let chunked = resp.headers().get("content-length").is_none();
    let text = resp.text().await?;
    Ok((
        status,
        truncated,
        chunked,
        text.lines().map(str::to_owned).collect(),
    ))
}

/// Exports of incidents, people, organizations, CIs and relationships larger than a page:
/// every row once, sent as it is read; a limit cuts them and says so.
async fn exports_stream_every_row_and_say_when_a_limit_cut_them(
    app: TestApp,
) -> anyhow::Result<()> {
    let ctx = sigap_core::Ctx::system("test");
    let fail = |e: sigap_core::AppError| anyhow::anyhow!("{e:?}");
    let page = sigap_core::listing::MAX_LIMIT as usize;
    let incidents = page * 2 + 37;
    sigap_core::seed::seed_incidents_with(
        &app.core,
        &ctx,
        sigap_core::seed::IncidentSpec {
            count: incidents,
            seed: 7,
            groups: 2,
            callers: page + 20,
            organizations: page + 5,
            journal: false,
        },
        |_, _| {},
    )
    .await
    .map_err(fail)?;
    let cmdb = sigap_core::seed::seed_cmdb(
        &app.core,
        &ctx,
        sigap_core::seed::CmdbSpec {
            cis: 1_100,
            relationships: 1_050,
            services: 3,
            seed: 7,
        },
    )
    .await
    .map_err(fail)?;

    let (s, cut, chunked, lines) =
        export_lines(&app, "/incidents/export?queue=all&sort=number").await?;
    assert_eq!((s, cut, chunked), (StatusCode::OK, None, true));
    assert_eq!(lines.len(), incidents + 1, "every incident and the header");
    let numbers: std::collections::BTreeSet<&str> = lines
        .iter()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    assert_eq!(numbers.len(), incidents, "each once");
    for (limit, cut) in [
        (incidents - 1, Some("true")),
        (incidents, None),
        (3, Some("true")),
    ] {
        let (s, truncated, _, lines) =
            export_lines(&app, &format!("/incidents/export?queue=all&limit={limit}")).await?;
        assert_eq!(
            (s, truncated.as_deref(), lines.len()),
            (StatusCode::OK, cut, limit + 1),
            "limit {limit}"
        );
    }
    // People: the callers, the agents and the administrator.
    let (s, cut, _, lines) = export_lines(&app, "/export/people").await?;
    assert_eq!((s, cut), (StatusCode::OK, None));
    let logins: std::collections::BTreeSet<&str> = lines
        .iter()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    assert!(
        logins.len() > page + 20 && logins.contains("admin"),
        "{}",
        logins.len()
    );
    assert_eq!(logins.len(), lines.len() - 1, "each once");
    let (_, _, _, orgs) = export_lines(&app, "/export/organizations").await?;
    assert!(orgs.len() > page + 5, "{}", orgs.len());
    let (_, cut, _, orgs) = export_lines(&app, "/export/organizations?limit=10").await?;
    assert_eq!((cut.as_deref(), orgs.len()), (Some("true"), 11));
    // Configuration items, as a list view and as the whole CMDB, and relationships.
    for path in ["/export/cis", "/cmdb/export?kind=cis"] {
        let (s, _, _, lines) = export_lines(&app, path).await?;
        assert_eq!((s, lines.len()), (StatusCode::OK, cmdb.cis + 1), "{path}");
    }
    let (_, _, _, rels) = export_lines(&app, "/cmdb/export?kind=relationships").await?;
    assert_eq!(rels.len() as u64, cmdb.relationships + 1);
    let (_, cut, _, rels) =
        export_lines(&app, "/cmdb/export?kind=relationships&limit=1000").await?;
    assert_eq!((cut.as_deref(), rels.len()), (Some("true"), 1001));
    // A limit that is not a number is refused before anything is sent.
    for path in [
        "/incidents/export?limit=0",
        "/export/people?limit=ten",
        "/cmdb/export?kind=cis&limit=-1",
    ] {
        let (s, _, _, body) = export_lines(&app, path).await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{path}: {body:?}");
    }
    Ok(())
}
