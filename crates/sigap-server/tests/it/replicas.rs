//! Read replicas on PostgreSQL: a primary and a streaming hot standby of the test's own, made
//! with Debian's `pg_createcluster` and `pg_basebackup -R`. Reads of GET requests go to the
//! standby (a change made on the primary behind Sigap's back stays unseen while the standby's
//! replay is paused); a person reads their own writes at once (from the primary, while the
//! standby has not replayed them); and stopping the standby under a load of reads fails no
//! request, and reads go back to it once it is started again.
//!
//! Runs with the PostgreSQL tests (SIGAP_TEST_DATABASE_URL), as root. Without `pg_createcluster`
//! or root it is skipped, except where PostgreSQL is required (SIGAP_REQUIRE_POSTGRES=1, CI):
//! there it fails.

use serde_json::{Value, json};
use sigap_testkit::{TestApp, TestDb};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// A PostgreSQL cluster of the test's own, dropped (stopped and deleted) with the value.
struct Cluster {
    version: String,
    name: String,
    port: u16,
}

impl Cluster {
    fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    fn conf_dir(&self) -> PathBuf {
        Path::new("/etc/postgresql")
            .join(&self.version)
            .join(&self.name)
    }

    fn data_dir(&self) -> PathBuf {
        Path::new("/var/lib/postgresql")
            .join(&self.version)
            .join(&self.name)
    }

    /// `pg_ctlcluster VERSION NAME action`.
    fn ctl(&self, action: &str) -> anyhow::Result<()> {
        run(Command::new("pg_ctlcluster").args([
            "--skip-systemctl-redirect",
            &self.version,
            &self.name,
            action,
        ]))
    }

    /// Makes a cluster (not started) on `port`, trusting connections from 127.0.0.1,
    /// replication ones too.
    fn create(version: &str, name: &str, port: u16) -> anyhow::Result<Self> {
        run(Command::new("pg_createcluster").args([version, name, "-p", &port.to_string()]))?;
        let c = Self {
            version: version.to_owned(),
            name: name.to_owned(),
            port,
        };
        std::fs::write(
            c.conf_dir().join("pg_hba.conf"),
            "local all all trust\n\
             local replication all trust\n\
             host all all 127.0.0.1/32 trust\n\
             host replication all 127.0.0.1/32 trust\n",
        )?;
        std::fs::write(
            c.conf_dir().join("conf.d").join("sigap-test.conf"),
            "listen_addresses = '127.0.0.1'\n\
             max_connections = 40\n\
             shared_buffers = 16MB\n\
             fsync = off\n\
             hot_standby = on\n\
             hot_standby_feedback = on\n",
        )?;
        Ok(c)
    }

    /// Waits until the cluster takes connections.
    async fn ready(&self) -> anyhow::Result<()> {
        for _ in 0..200 {
            let ok = Command::new("pg_isready")
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ok {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        anyhow::bail!("cluster {} does not answer on {}", self.name, self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new("pg_dropcluster")
            .args(["--stop", &self.version, &self.name])
            .output();
        // pg_dropcluster leaves the configuration directory when it holds a file it did not
        // make (ours in conf.d).
        if self.name.starts_with("sigap_") {
            let _ = std::fs::remove_dir_all(self.conf_dir());
        }
    }
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd.output()?;
    anyhow::ensure!(
        out.status.success(),
        "{cmd:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(())
}

/// `psql` on `url`: the output, one value a line.
fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let out = Command::new("psql")
        .args([url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "psql {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// The newest PostgreSQL installed with Debian's cluster tools, or why the test cannot make
/// clusters here.
fn postgres_version() -> Result<String, String> {
    let tools = [
        "pg_createcluster",
        "pg_ctlcluster",
        "pg_dropcluster",
        "pg_basebackup",
    ];
    for tool in tools {
        let found = Command::new("sh")
            .args(["-c", &format!("command -v {tool}")])
            .output()
            .is_ok_and(|o| o.status.success());
        if !found {
            return Err(format!("{tool} is missing (apt-get install postgresql)"));
        }
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    if !root {
        return Err("it makes PostgreSQL clusters, which takes root".to_owned());
    }
    let mut versions: Vec<u32> = std::fs::read_dir("/usr/lib/postgresql")
        .map_err(|e| format!("/usr/lib/postgresql: {e}"))?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .collect();
    versions.sort_unstable();
    versions
        .last()
        .map(u32::to_string)
        .ok_or_else(|| "no PostgreSQL in /usr/lib/postgresql".to_owned())
}

/// A GET of `path` as `token`: its status and body.
async fn get(app: &TestApp, path: &str, token: &str) -> anyhow::Result<(u16, Value)> {
    let r = app
        .http
        .get(app.api(path))
        .bearer_auth(token)
        .send()
        .await?;
    let status = r.status().as_u16();
    Ok((status, r.json().await.unwrap_or_default()))
}

async fn short_description(app: &TestApp, number: &str, token: &str) -> anyhow::Result<String> {
    let (s, v) = get(app, &format!("/incidents/{number}"), token).await?;
    anyhow::ensure!(s == 200, "GET {number}: {s} {v}");
    Ok(v["short_description"]
        .as_str()
        .unwrap_or_default()
        .to_owned())
}

/// Polls `short_description` until it is `want`, for up to 20 s.
async fn until_seen(app: &TestApp, number: &str, token: &str, want: &str) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let (s, v) = get(app, &format!("/incidents/{number}"), token).await?;
        if s == 200 && v["short_description"] == want {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(20),
            "{number} never showed {want:?}: {s} {v}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `/readyz`: its status and its one replica's report.
async fn replica_report(app: &TestApp) -> anyhow::Result<(u16, Value)> {
    let r = app.http.get(app.page("/readyz")).send().await?;
    let status = r.status().as_u16();
    let v: Value = r.json().await.unwrap_or_default();
    Ok((status, v["replicas"][0].clone()))
}

/// Pauses (or resumes) the standby's replay and waits until it is so.
async fn replay(standby: &str, on: bool) -> anyhow::Result<()> {
    if on {
        psql(standby, "SELECT pg_wal_replay_resume()")?;
        return Ok(());
    }
    psql(standby, "SELECT pg_wal_replay_pause()")?;
    for _ in 0..100 {
        if psql(standby, "SELECT pg_get_wal_replay_pause_state()")? == "paused" {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    anyhow::bail!("the standby's replay did not pause")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn reads_go_to_the_standby_and_survive_it() -> anyhow::Result<()> {
    if sigap_testkit::postgres_url()
        .map_err(anyhow::Error::msg)?
        .is_none()
    {
        eprintln!("PostgreSQL not configured (SIGAP_TEST_DATABASE_URL): skipped");
        return Ok(());
    }
    let version = match postgres_version() {
        Ok(v) => v,
        Err(why) if std::env::var("SIGAP_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") => {
            anyhow::bail!("read replica test cannot run ({why}) and SIGAP_REQUIRE_POSTGRES=1")
        }
        Err(why) => {
            eprintln!("read replica test skipped: {why}");
            return Ok(());
        }
    };
    let tag = uuid::Uuid::now_v7().simple().to_string();
    let tag = tag.get(tag.len() - 10..).unwrap_or("x").to_owned();

    // The primary, with Sigap's database.
    let primary = Cluster::create(&version, &format!("sigap_p_{tag}"), free_port()?)?;
    primary.ctl("start")?;
    primary.ready().await?;
    psql(&primary.url("postgres"), "CREATE DATABASE sigap")?;

    // The standby: a base backup of the primary that follows it (-R), in a cluster of its own.
    let standby = Cluster::create(&version, &format!("sigap_s_{tag}"), free_port()?)?;
    let data = standby.data_dir();
    std::fs::remove_dir_all(&data)?;
    run(Command::new("pg_basebackup")
        .args(["-h", "127.0.0.1", "-p", &primary.port.to_string()])
        .args(["-U", "postgres", "-R", "-X", "stream", "-c", "fast", "-D"])
        .arg(&data))?;
    run(Command::new("chown")
        .args(["-R", "postgres:postgres"])
        .arg(&data))?;
    standby.ctl("start")?;
    standby.ready().await?;
    anyhow::ensure!(psql(&standby.url("sigap"), "SELECT pg_is_in_recovery()")? == "t");
    let standby_sql = standby.url("sigap");
    let primary_sql = primary.url("sigap");

    let db = TestDb::at(&primary.url("sigap"))?;
    let read_url = standby.url("sigap");
    let app = TestApp::spawn_on(db, |s| s.database_read_urls = vec![read_url]).await?;
    let (_, ann) = app.person("ann", &["agent"], None).await?;
    let (_, bob) = app.person("bob", &["agent"], None).await?;

    let (s, report) = replica_report(&app).await?;
    assert_eq!(s, 200, "{report}");
    assert!(
        report["url"]
            .as_str()
            .is_some_and(|u| u.contains(&standby.port.to_string())),
        "{report}"
    );

    // An incident, seen by Bob once the standby has it.
    let r = app
        .http
        .post(app.api("/incidents"))
        .bearer_auth(&ann)
        .json(&json!({"short_description": "Printer jammed"}))
        .send()
        .await?;
    anyhow::ensure!(r.status() == 201, "create: {}", r.status());
    let v: Value = r.json().await?;
    let number = v["number"].as_str().unwrap_or_default().to_owned();
    until_seen(&app, &number, &bob, "Printer jammed").await?;

    // 1. Reads go to the standby: with its replay paused, a change made on the primary (as if
    // by another node) is not seen by Bob's GETs; once it replays, it is.
    replay(&standby_sql, false).await?;
    psql(
        &primary_sql,
        &format!(
            "UPDATE task SET short_description = 'Changed elsewhere' WHERE number = '{number}'"
        ),
    )?;
    for _ in 0..5 {
        assert_eq!(
            short_description(&app, &number, &bob).await?,
            "Printer jammed",
            "a GET read from the primary"
        );
    }
    let (s, report) = replica_report(&app).await?;
    assert_eq!(s, 200, "a lagging replica leaves the node ready: {report}");
    assert_eq!(report["state"], "lagging", "{report}");
    replay(&standby_sql, true).await?;
    until_seen(&app, &number, &bob, "Changed elsewhere").await?;
    let (_, report) = replica_report(&app).await?;
    assert_eq!(report["state"], "ok", "{report}");
    assert!(report["lag_bytes"].is_u64(), "{report}");

    // 2. Read-your-writes: while the standby's replay is paused, Ann's change and her new
    // incident are there for her at once (her reads go to the primary); Bob, who wrote
    // nothing, still reads from the standby.
    replay(&standby_sql, false).await?;
    let r = app
        .http
        .patch(app.api(&format!("/incidents/{number}")))
        .bearer_auth(&ann)
        .json(&json!({"short_description": "Ann's words"}))
        .send()
        .await?;
    anyhow::ensure!(r.status() == 200, "patch: {}", r.status());
    assert_eq!(short_description(&app, &number, &ann).await?, "Ann's words");
    let r = app
        .http
        .post(app.api("/incidents"))
        .bearer_auth(&ann)
        .json(&json!({"short_description": "Second printer"}))
        .send()
        .await?;
    anyhow::ensure!(r.status() == 201, "create: {}", r.status());
    let v: Value = r.json().await?;
    let second = v["number"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        short_description(&app, &second, &ann).await?,
        "Second printer"
    );
    let (s, list) = get(&app, "/incidents?limit=50", &ann).await?;
    assert_eq!(s, 200);
    assert!(list.to_string().contains(&second), "{list}");
    assert_eq!(
        short_description(&app, &number, &bob).await?,
        "Changed elsewhere"
    );
    let (s, _) = get(&app, &format!("/incidents/{second}"), &bob).await?;
    assert_eq!(s, 404, "Bob reads the paused standby");
    replay(&standby_sql, true).await?;
    until_seen(&app, &number, &bob, "Ann's words").await?;

    // 3. The standby stops under a load of reads: no request fails; the node stays ready.
    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for c in 0..4 {
        let (http, token, stop) = (app.http.clone(), bob.clone(), stop.clone());
        let urls = [
            app.api(&format!("/incidents/{number}")),
            app.api("/incidents?limit=20"),
            app.api(&format!("/incidents/{second}")),
        ];
        readers.push(tokio::spawn(async move {
            let (mut done, mut failed) = (0usize, Vec::new());
            while !stop.load(Ordering::Acquire) {
                let url = &urls[(c + done) % urls.len()];
                match http.get(url).bearer_auth(&token).send().await {
                    Ok(r) if r.status().is_success() => {}
                    Ok(r) => failed.push(format!("{url}: {}", r.status())),
                    Err(e) => failed.push(format!("{url}: {e}")),
                }
                done += 1;
            }
            (done, failed)
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    standby.ctl("stop")?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (s, report) = replica_report(&app).await?;
    assert_eq!(s, 200, "{report}");
    assert_eq!(report["state"], "down", "{report}");
    assert_eq!(report["in_use"], false, "{report}");
    standby.ctl("start")?;
    standby.ready().await?;
    // Back in use after the pause (5 s) and the next refresh.
    let started = Instant::now();
    loop {
        let (s, report) = replica_report(&app).await?;
        assert_eq!(s, 200, "{report}");
        if report["in_use"] == true && report["state"] == "ok" {
            break;
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(30),
            "the standby did not come back into use: {report}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Release);
    let mut total = 0;
    for r in readers {
        let (done, failed) = r.await?;
        assert!(failed.is_empty(), "failed reads: {failed:?}");
        total += done;
    }
    assert!(total > 40, "too little load: {total}");

    // Reads went back to the standby.
    replay(&standby_sql, false).await?;
    psql(
        &primary_sql,
        &format!("UPDATE task SET short_description = 'Changed again' WHERE number = '{number}'"),
    )?;
    assert_eq!(short_description(&app, &number, &bob).await?, "Ann's words");
    replay(&standby_sql, true).await?;
    until_seen(&app, &number, &bob, "Changed again").await?;
    drop(app);
    Ok(())
}
