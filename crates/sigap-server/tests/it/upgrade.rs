//! Rolling upgrades: every serving node records itself; `/readyz` says whether a node can
//! serve on the database's schema (its own, a newer program's expanded one, or not: behind,
//! or contracted past it); `sigap migrate --check` weighs the pending migrations against the
//! running nodes; and on PostgreSQL migrations applied by a third process while two nodes
//! serve a load of creates and reads fail no request and hold no write up for more than about
//! a second, even when a long transaction holds the lock a migration needs.

use sigap_testkit::{Backend, TestApp, both};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::process::Command;

both!(nodes_record_themselves_and_readiness_follows_the_schema);

/// `sigap` with `args` and the environment `env`: its exit code and output.
async fn sigap(args: &[&str], env: &[(&str, &str)]) -> anyhow::Result<(i32, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_sigap"))
        .args(args)
        .envs(env.iter().copied())
        .env("SIGAP_LOG", "warn")
        .output()
        .await?;
    Ok((
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    ))
}

async fn raw(app: &TestApp, sql: &str) -> anyhow::Result<u64> {
    Ok(sigap_store::testing::execute_raw(&app.core.store, sql).await?)
}

/// `/readyz` of `base`: its status and body.
async fn ready(http: &reqwest::Client, base: &str) -> anyhow::Result<(u16, serde_json::Value)> {
    let r = http.get(format!("{base}/readyz")).send().await?;
    let status = r.status().as_u16();
    Ok((status, r.json().await.unwrap_or_default()))
}

async fn nodes_record_themselves_and_readiness_follows_the_schema(
    app: TestApp,
) -> anyhow::Result<()> {
    let latest = sigap_store::latest_schema(app.core.store.dialect());
    let url = app.db.url.as_str();
    let check = async || sigap(&["--database-url", url, "migrate", "--check"], &[]).await;
    let (s, v) = ready(&app.http, &app.url).await?;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["schema"], "current");
    assert_eq!(v["schema_version"], latest);

    // The serving node recorded itself as it started.
    let (code, out) = check().await?;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("nothing to apply"), "{out}");
    assert!(
        out.contains("127.0.0.1:") && out.contains("keeps serving"),
        "{out}"
    );

    // A newer program expanded the schema: this node still serves.
    let future = latest + 10;
    raw(
        &app,
        &format!(
            "INSERT INTO schema_migrations (version, name, applied_at, needs) \
             VALUES ({future}, 'future', 'later', 0)"
        ),
    )
    .await?;
    let (s, v) = ready(&app.http, &app.url).await?;
    assert_eq!((s, v["schema"].clone()), (200, "ahead".into()), "{v}");
    let (code, out) = check().await?;
    assert_eq!(code, 0, "{out}");

    // It contracted the schema past this program: not ready, and the check says so.
    raw(
        &app,
        &format!("UPDATE schema_migrations SET needs = {future} WHERE version = {future}"),
    )
    .await?;
    let (s, v) = ready(&app.http, &app.url).await?;
    assert_eq!(
        (s, v["code"].clone()),
        (503, "schema_too_new".into()),
        "{v}"
    );
    let (code, out) = check().await?;
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("STOPS serving"), "{out}");
    raw(
        &app,
        &format!("DELETE FROM schema_migrations WHERE version = {future}"),
    )
    .await?;

    // A migration this program needs is missing (here the node ledger's, 24, with later
    // ones applied): not ready; the check lists it.
    raw(&app, "DELETE FROM schema_migrations WHERE version = 24").await?;
    let (s, v) = ready(&app.http, &app.url).await?;
    assert_eq!((s, v["code"].clone()), (503, "schema_behind".into()), "{v}");
    let (code, out) = check().await?;
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("24 nodes (expands the schema)"), "{out}");
    raw(
        &app,
        "INSERT INTO schema_migrations (version, name, applied_at, needs) \
         VALUES (24, 'nodes', 'now', 0)",
    )
    .await?;
    let (s, _) = ready(&app.http, &app.url).await?;
    assert_eq!(s, 200);
    Ok(())
}

/// A `sigap serve` process that does not migrate as it starts.
struct Node {
    url: String,
    child: std::process::Child,
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
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_sigap"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .args(["--database-url", &app.db.url])
        .env("SIGAP_LOG", "error")
        .env("SIGAP_MIGRATE_ON_START", "false")
        .env("SIGAP_WORKER", "false")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let node = Node {
        url: format!("http://127.0.0.1:{port}"),
        child,
    };
    for _ in 0..300 {
        if let Ok(r) = app.http.get(format!("{}/healthz", node.url)).send().await
            && r.status() == 200
        {
            return Ok(node);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the node on port {port} did not start")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_migration_under_load_fails_no_request_and_holds_writes_briefly() -> anyhow::Result<()> {
    if sigap_testkit::postgres_url()
        .map_err(anyhow::Error::msg)?
        .is_none()
    {
        eprintln!("PostgreSQL not configured (SIGAP_TEST_DATABASE_URL): skipped");
        return Ok(());
    }
    let app = TestApp::spawn(Backend::Postgres).await?;
    let latest = sigap_store::latest_schema(app.core.store.dialect());
    // The database without two expand migrations (23: an index on the incidents the load
    // writes; 24: the node ledger), which these nodes can serve without; the later ones,
    // which this program's writes use (25: the numbers' sequences), stay.
    for sql in [
        "DROP INDEX incident_major",
        "DROP TABLE node",
        "DELETE FROM schema_migrations WHERE version IN (23, 24)",
    ] {
        raw(&app, sql).await?;
    }
    let nodes = [start(&app).await?, start(&app).await?];
    for n in &nodes {
        let (s, v) = ready(&app.http, &n.url).await?;
        assert_eq!((s, v["code"].clone()), (503, "schema_behind".into()), "{v}");
    }

    // Creates and reads on both nodes, each request timed.
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..6 {
        let base = nodes[c % 2].url.clone();
        let (http, token, stop) = (app.http.clone(), app.admin_token.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let (mut done, mut slowest, mut failed) = (0u32, Duration::ZERO, Vec::new());
            let mut last = None::<String>;
            while !stop.load(Ordering::Acquire) {
                let started = Instant::now();
                let resp = match (&last, done % 3) {
                    (Some(number), 1) => {
                        http.get(format!("{base}/api/v1/incidents/{number}"))
                            .bearer_auth(&token)
                            .send()
                            .await
                    }
                    _ => {
                        http.post(format!("{base}/api/v1/incidents"))
                            .bearer_auth(&token)
                            .json(&serde_json::json!({"short_description": format!("Upgrade {c}-{done}")}))
                            .send()
                            .await
                    }
                };
                slowest = slowest.max(started.elapsed());
                match resp {
                    Ok(r) if r.status().is_success() => {
                        let v: serde_json::Value = r.json().await.unwrap_or_default();
                        if let Some(n) = v["number"].as_str() {
                            last = Some(n.to_owned());
                        }
                    }
                    Ok(r) => failed.push(format!("{}: {}", r.status(), r.text().await.unwrap_or_default())),
                    Err(e) => failed.push(e.to_string()),
                }
                done += 1;
            }
            (done, slowest, failed)
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;

    // A long transaction holds a lock the index needs (writes go on beside it), for longer
    // than the migration waits for it.
    let blocker = {
        let url = app.db.url.clone();
        tokio::spawn(async move {
            Command::new("psql")
                .args([
                    url.as_str(),
                    "-X",
                    "-q",
                    "-c",
                    "BEGIN; LOCK TABLE incident IN ROW EXCLUSIVE MODE; SELECT pg_sleep(4); COMMIT;",
                ])
                .output()
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let (code, out) = sigap(&["--database-url", &app.db.url, "migrate"], &[]).await?;
    let took = started.elapsed();
    assert_eq!(code, 0, "{out}");
    assert!(
        took >= Duration::from_secs(3),
        "the migration waited for the long transaction: {took:?}"
    );
    let blocked = blocker.await??;
    assert!(blocked.status.success());
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Release);
    let mut total = 0;
    for c in clients {
        let (done, slowest, failed) = c.await?;
        assert!(failed.is_empty(), "failed requests: {failed:?}");
        assert!(
            slowest < Duration::from_millis(2000),
            "a request waited {slowest:?}"
        );
        total += done;
    }
    assert!(total > 50, "too little load: {total}");
    for n in &nodes {
        let (s, v) = ready(&app.http, &n.url).await?;
        assert_eq!(s, 200, "{v}");
    }
    let status = app.core.store.schema_status().await?;
    assert_eq!(status.current, latest);
    Ok(())
}
