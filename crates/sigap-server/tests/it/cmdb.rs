//! The CMDB over HTTP: classes and attribute checks, relationships, impact analysis on the
//! example of docs/cmdb.md, SVG graphs, and CSV import and export.

use crate::helpers::{bearer, problem};
use crate::portfolio::{get, post, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_testkit::{TestApp, both};
use std::collections::BTreeSet;

both!(
    attributes_are_checked_against_the_class,
    impact_of_the_documented_example,
    csv_import_checks_every_line_and_is_repeatable,
    relationships_refuse_nonsense,
    walks_match_a_breadth_first_reference_on_generated_graphs,
);

async fn attributes_are_checked_against_the_class(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let admin = app.admin_token.clone();
    let classes = get(&app, "/ci_classes", &agent).await?;
    let codes: BTreeSet<&str> = classes
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["code"].as_str()).collect())
        .unwrap_or_default();
    for c in [
        "server",
        "virtual_machine",
        "network_device",
        "storage",
        "database",
        "application",
        "application_service",
        "business_service",
    ] {
        assert!(codes.contains(c), "{c} missing: {codes:?}");
    }
    let resp = app
        .http
        .post(app.api("/ci_classes"))
        .header("authorization", bearer(&agent))
        .json(&json!({"code": "printer", "name": "Printer"}))
        .send()
        .await?;
    problem(resp, StatusCode::FORBIDDEN, "forbidden").await?;
    post(
        &app,
        "/ci_classes",
        &admin,
        json!({"code": "printer", "name": "Printer", "attributes": [
            {"code": "colour", "label": "Colour", "type": "boolean", "required": true},
            {"code": "paper", "label": "Paper", "type": "choice", "choices": ["A4", "A3"]}
        ]}),
    )
    .await?;
    let bad = app
        .http
        .post(app.api("/configuration_items"))
        .header("authorization", bearer(&agent))
        .json(&json!({"class": "printer", "name": "prn-01", "attributes": {"paper": "A5", "toner": "black"}}))
        .send()
        .await?;
    let p = problem(bad, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    let fields: BTreeSet<String> = p["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .filter_map(|e| e["field"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        fields,
        ["attributes.colour", "attributes.paper", "attributes.toner"]
            .iter()
            .map(|s| (*s).to_owned())
            .collect()
    );
    let ok = post(
        &app,
        "/configuration_items",
        &agent,
        json!({"class": "printer", "name": "prn-01", "location": "Lantai 3", "attributes": {"paper": "A3", "colour": "true"}}),
    )
    .await?;
    assert_eq!(ok["attributes"], json!({"paper": "A3", "colour": true}));
    let dup = app
        .http
        .post(app.api("/configuration_items"))
        .header("authorization", bearer(&agent))
        .json(&json!({"class": "printer", "name": "PRN-01", "attributes": {"colour": false}}))
        .send()
        .await?;
    problem(dup, StatusCode::CONFLICT, "already_exists").await?;
    let list = get(&app, "/configuration_items?class=printer&q=lantai", &agent).await?;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api("/ci_classes/printer"),
        &admin,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::CONFLICT, "a class in use stays");
    Ok(())
}

/// Builds the example of docs/cmdb.md and returns the ids by name.
async fn example(
    app: &TestApp,
    token: &str,
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    let mut ids = std::collections::HashMap::new();
    for (class, name) in [
        ("network_device", "core-switch"),
        ("server", "srv-01"),
        ("server", "srv-02"),
        ("virtual_machine", "vm-mail"),
        ("virtual_machine", "vm-db"),
        ("database", "db-mail"),
        ("application", "mail-app"),
        ("application_service", "webmail"),
        ("server", "srv-spare"),
    ] {
        let c = post(
            app,
            "/configuration_items",
            token,
            json!({"class": class, "name": name}),
        )
        .await?;
        ids.insert(
            name.to_owned(),
            c["id"].as_str().unwrap_or_default().to_owned(),
        );
    }
    for (s, kind, t) in [
        ("srv-01", "connects_to", "core-switch"),
        ("srv-02", "connects_to", "core-switch"),
        ("vm-mail", "hosted_on", "srv-01"),
        ("vm-db", "hosted_on", "srv-02"),
        ("db-mail", "runs_on", "vm-db"),
        ("mail-app", "runs_on", "vm-mail"),
        ("mail-app", "depends_on", "db-mail"),
        ("webmail", "uses", "mail-app"),
        // A cycle: the mail application and its database depend on each other.
        ("db-mail", "depends_on", "mail-app"),
    ] {
        post(
            app,
            "/relationships",
            token,
            json!({"source": ids[s], "type": kind, "target": ids[t]}),
        )
        .await?;
    }
    Ok(ids)
}

async fn impact_of_the_documented_example(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    app.organization("PT Pelanggan", "customer").await?;
    let ids = example(&app, &agent).await?;
    let svc = post(
        &app,
        "/services",
        &agent,
        json!({"name": "E-mail", "customers": ["PT Pelanggan"]}),
    )
    .await?;
    let sid = svc["id"].as_str().unwrap_or_default().to_owned();
    post(
        &app,
        &format!("/services/{sid}/configuration_items"),
        &agent,
        json!({"configuration_item": ids["webmail"]}),
    )
    .await?;
    post(
        &app,
        &format!("/services/{sid}/offerings"),
        &agent,
        json!({"name": "Mailbox"}),
    )
    .await?;

    let impact = get(
        &app,
        &format!("/configuration_items/{}/impact", ids["core-switch"]),
        &agent,
    )
    .await?;
    let reached: Vec<(String, u64)> = impact["configuration_items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|r| {
                    (
                        r["configuration_item"]["display"]
                            .as_str()
                            .unwrap_or("")
                            .to_owned(),
                        r["depth"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let expected: Vec<(String, u64)> = [
        ("srv-01", 1),
        ("srv-02", 1),
        ("vm-mail", 2),
        ("vm-db", 2),
        ("mail-app", 3),
        ("db-mail", 3),
        ("webmail", 4),
    ]
    .iter()
    .map(|(n, d)| ((*n).to_owned(), *d))
    .collect();
    let mut got_sorted = reached.clone();
    got_sorted.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    let mut want_sorted = expected.clone();
    want_sorted.sort_by(|a, b| (a.1, &a.0).cmp(&(b.1, &b.0)));
    assert_eq!(got_sorted, want_sorted, "{impact}");
    // The path to the service goes through the first server, its VM, the application and
    // the web mail; each reached CI names the step that reached it.
    let hops: Vec<&str> = impact["services"][0]["path"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(|s| s["to"]["display"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(hops, ["srv-01", "vm-mail", "mail-app", "webmail"]);
    let webmail = impact["configuration_items"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|r| r["configuration_item"]["display"] == "webmail")
        })
        .cloned()
        .unwrap_or(Value::Null);
    assert_eq!(webmail["via"]["from"]["display"], "mail-app");
    assert_eq!(webmail["via"]["type"], "uses");
    assert_eq!(webmail["via"]["reversed"], true);
    assert_eq!(
        impact["offerings"][0]["path"].as_array().map(Vec::len),
        Some(4)
    );
    assert_eq!(impact["services"][0]["display"], "E-mail");
    assert_eq!(impact["services"][0]["depth"], 4);
    assert_eq!(impact["offerings"][0]["display"], "Mailbox");
    assert_eq!(impact["customers"][0]["display"], "PT Pelanggan");
    assert_eq!(impact["truncated"], false);
    // The spare server affects nothing.
    let spare = get(
        &app,
        &format!("/configuration_items/{}/impact", ids["srv-spare"]),
        &agent,
    )
    .await?;
    assert_eq!(spare["configuration_items"], json!([]));
    assert_eq!(spare["services"], json!([]));
    // What the service depends on: everything but the spare.
    let deps = get(&app, &format!("/services/{sid}/dependencies"), &agent).await?;
    let names: BTreeSet<&str> = deps["configuration_items"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|r| r["configuration_item"]["display"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        names,
        [
            "core-switch",
            "db-mail",
            "mail-app",
            "srv-01",
            "srv-02",
            "vm-db",
            "vm-mail",
            "webmail"
        ]
        .into_iter()
        .collect()
    );
    // The graph is SVG with every name in it, escaped.
    let resp = app
        .http
        .get(app.api(&format!(
            "/configuration_items/{}/impact.svg",
            ids["core-switch"]
        )))
        .header("authorization", bearer(&agent))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(
        resp.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("image/svg+xml"))
    );
    let svg = resp.text().await?;
    assert!(svg.starts_with("<svg"), "{svg}");
    for name in [
        "core-switch",
        "webmail",
        "E-mail",
        "Mailbox",
        "PT Pelanggan",
    ] {
        assert!(svg.contains(name), "{name} missing from the graph");
    }
    let resp = app
        .http
        .get(app.api(&format!("/services/{sid}/dependencies.svg")))
        .header("authorization", bearer(&agent))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    // Requesters do not see the CMDB.
    let (_, requester) = app.person("budi", &["requester"], None).await?;
    let (s, _) = send(
        &app.http,
        Method::GET,
        &app.api(&format!(
            "/configuration_items/{}/impact",
            ids["core-switch"]
        )),
        &requester,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    Ok(())
}

async fn import(
    app: &TestApp,
    token: &str,
    kind: &str,
    dry_run: bool,
    csv: &str,
) -> anyhow::Result<Value> {
    let resp = app
        .http
        .post(app.api(&format!("/cmdb/import?kind={kind}&dry_run={dry_run}")))
        .header("authorization", bearer(token))
        .header("content-type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await?;
    let status = resp.status();
    let v: Value = resp.json().await?;
    anyhow::ensure!(status == StatusCode::OK, "{status}: {v}");
    Ok(v)
}

async fn csv_import_checks_every_line_and_is_repeatable(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let bad = "class,name,status,location,cpu_count,ram_gb,device_type\n\
               server,srv-01,operational,DC Jakarta,16,64,\n\
               server,srv-02,broken,DC Jakarta,8,32,\n\
               teapot,tea-01,,,,,\n\
               network_device,sw-01,,,4,,switch\n\
               server,,operational,,,,\n\
               server,srv-01,,,,,\n\
               virtual_machine,vm-01,planned,,many,8,\n";
    for dry_run in [true, false] {
        let report = import(&app, &agent, "cis", dry_run, bad).await?;
        assert_eq!(report["applied"], false);
        let errors: Vec<(u64, String, String)> = report["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        (
                            e["line"].as_u64().unwrap_or(0),
                            e["field"].as_str().unwrap_or("").to_owned(),
                            e["code"].as_str().unwrap_or("").to_owned(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        let want: Vec<(u64, String, String)> = [
            (3, "status", "invalid_choice"),
            (4, "class", "not_found"),
            (5, "cpu_count", "unknown_attribute"),
            (6, "name", "required"),
            (7, "name", "duplicate"),
            (8, "cpu_count", "invalid_type"),
        ]
        .iter()
        .map(|(l, f, c)| (*l, (*f).to_owned(), (*c).to_owned()))
        .collect();
        assert_eq!(errors, want, "{report}");
        let list = get(&app, "/configuration_items", &agent).await?;
        assert_eq!(
            list["items"],
            json!([]),
            "nothing imported (dry run {dry_run})"
        );
    }
    let good = "class,name,status,location,serial,cpu_count,ram_gb,device_type\n\
                server,srv-01,operational,DC Jakarta,SN-1,16,64,\n\
                server,srv-02,maintenance,DC Jakarta,SN-2,8,32.5,\n\
                network_device,sw-01,,DC Jakarta,,,,switch\n";
    let dry = import(&app, &agent, "cis", true, good).await?;
    assert_eq!(
        (dry["created"].as_u64(), dry["applied"].as_bool()),
        (Some(3), Some(false))
    );
    assert_eq!(
        get(&app, "/configuration_items", &agent).await?["items"],
        json!([])
    );
    let first = import(&app, &agent, "cis", false, good).await?;
    assert_eq!(first["applied"], true, "{first}");
    assert_eq!(
        (first["created"].as_u64(), first["updated"].as_u64()),
        (Some(3), Some(0))
    );
    let rels = "source_class,source,type,target_class,target\n\
                server,srv-01,connects_to,network_device,sw-01\n\
                server,srv-02,connects_to,network_device,sw-01\n";
    let r1 = import(&app, &agent, "relationships", false, rels).await?;
    assert_eq!(r1["created"], 2, "{r1}");
    let audit_before = sigap_core::audit::verify_chain(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .head_seq;
    let again = import(&app, &agent, "cis", false, good).await?;
    assert_eq!(
        (
            again["created"].as_u64(),
            again["updated"].as_u64(),
            again["unchanged"].as_u64()
        ),
        (Some(0), Some(0), Some(3)),
        "{again}"
    );
    let r2 = import(&app, &agent, "relationships", false, rels).await?;
    assert_eq!(
        (r2["created"].as_u64(), r2["unchanged"].as_u64()),
        (Some(0), Some(2))
    );
    let audit_after = sigap_core::audit::verify_chain(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .head_seq;
    assert_eq!(audit_before, audit_after, "a re-import changes nothing");
    // Export, then import the export: nothing changes either.
    let export = app
        .http
        .get(app.api("/cmdb/export?kind=cis"))
        .header("authorization", bearer(&agent))
        .send()
        .await?
        .text()
        .await?;
    assert!(
        export.starts_with("class,name,status,owner_group,location,serial,"),
        "{export}"
    );
    assert!(
        export.contains("srv-02,maintenance,,DC Jakarta,SN-2"),
        "{export}"
    );
    let round = import(&app, &agent, "cis", false, &export).await?;
    assert_eq!(
        (
            round["unchanged"].as_u64(),
            round["errors"].as_array().map(Vec::len)
        ),
        (Some(3), Some(0)),
        "{round}"
    );
    let rel_export = app
        .http
        .get(app.api("/cmdb/export?kind=relationships"))
        .header("authorization", bearer(&agent))
        .send()
        .await?
        .text()
        .await?;
    let round = import(&app, &agent, "relationships", false, &rel_export).await?;
    assert_eq!(round["unchanged"], 2, "{round}");
    // A changed line updates just that item.
    let changed = good.replace("SN-2", "SN-2b");
    let upd = import(&app, &agent, "cis", false, &changed).await?;
    assert_eq!(
        (upd["updated"].as_u64(), upd["unchanged"].as_u64()),
        (Some(1), Some(2))
    );
    // Broken files: a wrong content type, invalid UTF-8, unbalanced quotes, a missing column.
    let resp = app
        .http
        .post(app.api("/cmdb/import?kind=cis"))
        .header("authorization", bearer(&agent))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await?;
    problem(
        resp,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    let resp = app
        .http
        .post(app.api("/cmdb/import?kind=cis"))
        .header("authorization", bearer(&agent))
        .header("content-type", "text/csv")
        .body(vec![b'c', b'l', 0xff, 0xfe, b'\n'])
        .send()
        .await?;
    let v: Value = resp.json().await?;
    assert_eq!(v["errors"][0]["code"], "invalid_utf8", "{v}");
    let v = import(&app, &agent, "cis", false, "class,name\nserver,\"srv-9\n").await?;
    assert_eq!(v["applied"], false, "{v}");
    assert!(!v["errors"].as_array().is_some_and(Vec::is_empty), "{v}");
    let v = import(
        &app,
        &agent,
        "relationships",
        false,
        "source,type,target\na,uses,b\n",
    )
    .await?;
    assert_eq!(v["errors"][0]["code"], "missing_column", "{v}");
    let resp = app
        .http
        .post(app.api("/cmdb/import?kind=teapots"))
        .header("authorization", bearer(&agent))
        .header("content-type", "text/csv")
        .body("class,name\n")
        .send()
        .await?;
    problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    let list = get(&app, "/configuration_items?limit=500", &agent).await?;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(3));
    Ok(())
}

async fn relationships_refuse_nonsense(app: TestApp) -> anyhow::Result<()> {
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let a = post(
        &app,
        "/configuration_items",
        &agent,
        json!({"class": "server", "name": "a"}),
    )
    .await?;
    let b = post(
        &app,
        "/configuration_items",
        &agent,
        json!({"class": "server", "name": "b"}),
    )
    .await?;
    let cases = [
        json!({"source": a["id"], "type": "likes", "target": b["id"]}),
        json!({"source": a["id"], "type": "uses", "target": a["id"]}),
        json!({"source": a["id"], "type": "uses", "target": "not-an-id"}),
        json!({"source": a["id"], "type": "uses", "target": uuid::Uuid::now_v7().to_string()}),
        json!({"source": a["id"], "type": "uses"}),
    ];
    for body in cases {
        let (s, v) = send(
            &app.http,
            Method::POST,
            &app.api("/relationships"),
            &agent,
            Some(body.clone()),
        )
        .await?;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
    }
    let first = send(
        &app.http,
        Method::POST,
        &app.api("/relationships"),
        &agent,
        Some(json!({"source": a["id"], "type": "uses", "target": b["id"]})),
    )
    .await?;
    assert_eq!(first.0, StatusCode::CREATED);
    let second = send(
        &app.http,
        Method::POST,
        &app.api("/relationships"),
        &agent,
        Some(json!({"source": a["id"], "type": "uses", "target": b["id"]})),
    )
    .await?;
    assert_eq!(second.0, StatusCode::OK, "the same relationship is one");
    assert_eq!(first.1["id"], second.1["id"]);
    let detail = get(
        &app,
        &format!("/configuration_items/{}", a["id"].as_str().unwrap_or("")),
        &agent,
    )
    .await?;
    assert_eq!(detail["relationships"].as_array().map(Vec::len), Some(1));
    // Deleting a CI takes its relationships with it.
    let (s, _) = send(
        &app.http,
        Method::DELETE,
        &app.api(&format!(
            "/configuration_items/{}",
            b["id"].as_str().unwrap_or("")
        )),
        &agent,
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let detail = get(
        &app,
        &format!("/configuration_items/{}", a["id"].as_str().unwrap_or("")),
        &agent,
    )
    .await?;
    assert_eq!(detail["relationships"], json!([]));
    Ok(())
}

/// A small deterministic generator (xorshift), so a failure names its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Distances from `start` by a plain breadth-first search over `edges` (source, kind, target).
fn reference(
    edges: &[(usize, sigap_domain::cmdb::RelKind, usize)],
    start: usize,
    dir: sigap_domain::cmdb::Direction,
) -> std::collections::BTreeMap<usize, u32> {
    let mut dist = std::collections::BTreeMap::from([(start, 0u32)]);
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        let d = dist.get(&n).copied().unwrap_or(0);
        for &(s, k, t) in edges {
            let next = if t == n && k.walks_target_to_source(dir) {
                Some(s)
            } else if s == n && k.walks_source_to_target(dir) {
                Some(t)
            } else {
                None
            };
            if let Some(m) = next {
                if let std::collections::btree_map::Entry::Vacant(e) = dist.entry(m) {
                    e.insert(d + 1);
                    queue.push_back(m);
                }
            }
        }
    }
    dist
}

async fn walks_match_a_breadth_first_reference_on_generated_graphs(
    app: TestApp,
) -> anyhow::Result<()> {
    use sigap_domain::cmdb::{CiStatus, Direction, RelKind};
    use sigap_store::cmdb as repo;
    let server = sigap_core::cmdb::get_class(&app.core, &sigap_core::Ctx::system("test"), "server")
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for seed in 1..=12u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let n = 2 + rng.below(40) as usize;
        let m = rng.below(3 * n as u64) as usize;
        let mut edges = Vec::new();
        for _ in 0..m {
            let (s, t) = (rng.below(n as u64) as usize, rng.below(n as u64) as usize);
            let k = RelKind::ALL[rng.below(RelKind::ALL.len() as u64) as usize];
            if s != t && !edges.contains(&(s, k, t)) {
                edges.push((s, k, t));
            }
        }
        let now = app.core.now();
        let class = server.id;
        let edges2 = edges.clone();
        let ids = app
            .core
            .store
            .write(async move |tx| {
                let mut ids = Vec::new();
                for i in 0..n {
                    let f = repo::CiFields {
                        class_id: class,
                        name: format!("g{seed}-n{i}"),
                        status: CiStatus::Operational,
                        owner_group_id: None,
                        location: String::new(),
                        serial: String::new(),
                        attributes: json!({}),
                    };
                    ids.push(
                        repo::insert_ci(tx, sigap_domain::CiId::new(), &f, now)
                            .await?
                            .id,
                    );
                }
                for (s, k, t) in &edges2 {
                    repo::insert_rel(tx, sigap_domain::RelId::new(), ids[*s], *k, ids[*t], now)
                        .await?;
                }
                Ok::<_, sigap_core::AppError>(ids)
            })
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        for _ in 0..4 {
            let start = rng.below(n as u64) as usize;
            for dir in [Direction::Upstream, Direction::Downstream] {
                let want = reference(&edges, start, dir);
                let sid = ids[start];
                let got = app
                    .core
                    .store
                    .read(async move |tx| sigap_core::cmdb::walk_in(tx, sid, dir).await)
                    .await
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                let index = |id: &sigap_domain::CiId| {
                    ids.iter().position(|x| x == id).unwrap_or(usize::MAX)
                };
                let mut dist = std::collections::BTreeMap::from([(start, 0u32)]);
                for (id, depth, path) in &got {
                    dist.insert(index(id), *depth);
                    // Each path is a chain of real steps from the start, as long as the depth.
                    anyhow::ensure!(path.len() as u32 == *depth, "seed {seed}: path length");
                    anyhow::ensure!(
                        path.first().map(|s| s.from) == Some(sid),
                        "seed {seed}: path start"
                    );
                    for step in path {
                        let (f, t) = (index(&step.from), index(&step.to));
                        let edge = if step.reversed {
                            (t, step.kind, f)
                        } else {
                            (f, step.kind, t)
                        };
                        anyhow::ensure!(
                            edges.contains(&edge),
                            "seed {seed}: no such edge {edge:?}"
                        );
                    }
                }
                anyhow::ensure!(
                    dist == want,
                    "seed {seed}, start {start}, {dir}: {dist:?} != {want:?}"
                );
            }
        }
    }
    Ok(())
}
