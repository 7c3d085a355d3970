//! Several `sigap serve` processes on one PostgreSQL database: the same data on every node,
//! no lost update under concurrent edits, periodic work enqueued by one leader and every job
//! run once, and a node killed in the middle of a load loses none of the writes it accepted.

use crate::helpers::bearer;
use reqwest::StatusCode;
use serde_json::{Value, json};
use sigap_testkit::{Backend, TestApp};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A `sigap serve` process on the test's database.
struct Node {
    url: String,
    child: Child,
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(app: &TestApp) -> anyhow::Result<Node> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_sigap"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--database-url", &app.db.url])
        .env("SIGAP_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let node = Node {
        url: format!("http://127.0.0.1:{port}"),
        child,
    };
    for _ in 0..300 {
        if let Ok(r) = app.http.get(format!("{}/healthz", node.url)).send().await {
            if r.status() == StatusCode::OK {
                return Ok(node);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the node on port {port} did not start")
}

async fn call(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: String,
    token: &str,
    body: Option<Value>,
    if_match: Option<i64>,
) -> anyhow::Result<(StatusCode, Value)> {
    let mut req = http
        .request(method, url)
        .header("authorization", bearer(token));
    if let Some(b) = body {
        req = req.json(&b);
    }
    if let Some(v) = if_match {
        req = req.header("if-match", format!("\"{v}\""));
    }
    let resp = req.send().await?;
    let status = resp.status();
    let text = resp.text().await?;
    Ok((
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_share_one_postgresql_database() -> anyhow::Result<()> {
    if sigap_testkit::postgres_url()
        .map_err(anyhow::Error::msg)?
        .is_none()
    {
        eprintln!("PostgreSQL not configured (SIGAP_TEST_DATABASE_URL): skipped");
        return Ok(());
    }
    let app = TestApp::spawn(Backend::Postgres).await?;
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let a = start(&app).await?;
    let mut b = start(&app).await?;
    let http = app.http.clone();
    let api = |n: &Node, path: &str| format!("{}/api/v1{path}", n.url);

    // Creates spread over both nodes: every one lands once, numbers never collide.
    let mut tasks = Vec::new();
    for k in 0..60 {
        let url = if k % 2 == 0 {
            api(&a, "/incidents")
        } else {
            api(&b, "/incidents")
        };
        let (http, agent) = (http.clone(), agent.clone());
        tasks.push(tokio::spawn(async move {
            call(
                &http,
                reqwest::Method::POST,
                url,
                &agent,
                Some(json!({"short_description": format!("Load {k}")})),
                None,
            )
            .await
        }));
    }
    let mut numbers = Vec::new();
    for t in tasks {
        let (s, v) = t.await??;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        numbers.push(v["number"].as_str().unwrap_or("").to_owned());
    }
    numbers.sort();
    numbers.dedup();
    assert_eq!(numbers.len(), 60, "unique numbers");
    let (_, list) = call(
        &http,
        reqwest::Method::GET,
        api(&b, "/incidents?queue=&limit=200&q="),
        &agent,
        None,
        None,
    )
    .await?;
    assert!(
        list["items"].as_array().map_or(0, Vec::len) >= 60,
        "node B sees node A's incidents"
    );

    // Concurrent edits of one incident through both nodes, each with If-Match: every
    // accepted edit moved the version by one, so none was lost.
    let target = numbers[0].clone();
    let (_, first) = call(
        &http,
        reqwest::Method::GET,
        api(&a, &format!("/incidents/{target}")),
        &agent,
        None,
        None,
    )
    .await?;
    let start_version = first["version"].as_i64().unwrap_or(0);
    let mut edits = Vec::new();
    for k in 0..24 {
        let node_url = if k % 2 == 0 {
            a.url.clone()
        } else {
            b.url.clone()
        };
        let (http, agent, target) = (http.clone(), agent.clone(), target.clone());
        edits.push(tokio::spawn(async move {
            let url = format!("{node_url}/api/v1/incidents/{target}");
            let (_, cur) =
                call(&http, reqwest::Method::GET, url.clone(), &agent, None, None).await?;
            let v = cur["version"].as_i64().unwrap_or(0);
            let (s, out) = call(
                &http,
                reqwest::Method::PATCH,
                url,
                &agent,
                Some(json!({"description": format!("edit {k}")})),
                Some(v),
            )
            .await?;
            anyhow::Ok((s, v, out))
        }));
    }
    let mut accepted = Vec::new();
    for e in edits {
        let (s, v, out) = e.await??;
        match s {
            StatusCode::OK => accepted.push((v, out["version"].as_i64().unwrap_or(0))),
            StatusCode::PRECONDITION_FAILED
            | StatusCode::CONFLICT
            | StatusCode::SERVICE_UNAVAILABLE => {}
            other => anyhow::bail!("edit answered {other}: {out}"),
        }
    }
    let (_, last) = call(
        &http,
        reqwest::Method::GET,
        api(&b, &format!("/incidents/{target}")),
        &agent,
        None,
        None,
    )
    .await?;
    let end_version = last["version"].as_i64().unwrap_or(0);
    assert!(!accepted.is_empty());
    assert_eq!(
        end_version - start_version,
        accepted.len() as i64,
        "every accepted edit counted once"
    );
    let mut based_on: Vec<i64> = accepted.iter().map(|x| x.0).collect();
    based_on.sort_unstable();
    based_on.dedup();
    assert_eq!(
        based_on.len(),
        accepted.len(),
        "two edits accepted on the same version: a lost update"
    );

    // Comments through both nodes: all of them in the journal.
    let mut notes = Vec::new();
    for k in 0..20 {
        let url = if k % 2 == 0 {
            api(&a, &format!("/incidents/{target}/comment"))
        } else {
            api(&b, &format!("/incidents/{target}/comment"))
        };
        let (http, agent) = (http.clone(), agent.clone());
        notes.push(tokio::spawn(async move {
            call(
                &http,
                reqwest::Method::POST,
                url,
                &agent,
                Some(json!({"body": format!("note {k}")})),
                None,
            )
            .await
        }));
    }
    for n in notes {
        let (s, v) = n.await??;
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    let (_, detail) = call(
        &http,
        reqwest::Method::GET,
        api(&a, &format!("/incidents/{target}")),
        &agent,
        None,
        None,
    )
    .await?;
    let comments = detail["journal"]
        .as_array()
        .map_or(0, |j| j.iter().filter(|e| e["kind"] == "comment").count());
    assert_eq!(comments, 20);

    // A node killed in the middle of a load: every create it accepted is there.
    let load = {
        let (http, agent, url) = (http.clone(), agent.clone(), api(&b, "/incidents"));
        tokio::spawn(async move {
            let mut accepted = Vec::new();
            for k in 0..400 {
                match call(
                    &http,
                    reqwest::Method::POST,
                    url.clone(),
                    &agent,
                    Some(json!({"short_description": format!("Before the crash {k}")})),
                    None,
                )
                .await
                {
                    Ok((StatusCode::CREATED, v)) => {
                        accepted.push(v["number"].as_str().unwrap_or("").to_owned())
                    }
                    _ => break,
                }
            }
            accepted
        })
    };
    tokio::time::sleep(Duration::from_millis(400)).await;
    b.child.kill()?;
    let _ = b.child.wait();
    let accepted = load.await?;
    assert!(!accepted.is_empty(), "the load never got going");
    eprintln!("the killed node had accepted {} creates", accepted.len());
    for n in &accepted {
        let (s, _) = call(
            &http,
            reqwest::Method::GET,
            api(&a, &format!("/incidents/{n}")),
            &agent,
            None,
            None,
        )
        .await?;
        assert_eq!(
            s,
            StatusCode::OK,
            "{n} was accepted by the killed node and is gone"
        );
    }

    // Periodic work: one leader enqueued it, and every job ran once.
    let (client, conn) = tokio_postgres::connect(&app.db.url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let mut done = false;
    for _ in 0..100 {
        let rows = client
            .query(
                "SELECT kind, state, attempts FROM job WHERE kind = 'maintenance'",
                &[],
            )
            .await?;
        if rows.len() == 1 && rows[0].get::<_, String>(1) == "done" {
            done = true;
            break;
        }
        assert!(rows.len() <= 1, "maintenance enqueued by two leaders");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(done, "the periodic maintenance never ran");
    let twice = client
        .query(
            "SELECT kind FROM job WHERE state = 'done' AND attempts > 1",
            &[],
        )
        .await?;
    assert!(twice.is_empty(), "a job ran more than once");
    let leaders = client
        .query(
            "SELECT holder FROM leader_lease WHERE name = 'periodic'",
            &[],
        )
        .await?;
    assert_eq!(leaders.len(), 1, "one leader holds the periodic work");
    drop(a);
    Ok(())
}
