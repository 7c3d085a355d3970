//! Backups and restores. On SQLite, `sigap backup` taken while creates go on holds every
//! create acknowledged before it began, comes back with `sigap restore` only where there is no
//! database, and its audit log verifies. On PostgreSQL, a database copied with `pg_dump` into
//! a new database holds the same rows, and its audit log verifies.

use serde_json::json;
use sigap_core::Ctx;
use sigap_server::config::Settings;
use sigap_server::{App, Deps};
use sigap_store::DatabaseLocation;
use sigap_testkit::{Backend, TestApp};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::process::Command;
use tokio::sync::Mutex;

/// `sigap` with `args`: its exit code, standard output and standard error.
async fn sigap(args: &[&str]) -> anyhow::Result<(i32, String, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_sigap"))
        .args(args)
        .env("SIGAP_LOG", "warn")
        .output()
        .await?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_backup_under_load_restores_every_acknowledged_create() -> anyhow::Result<()> {
    let app = TestApp::spawn(Backend::Sqlite).await?;
    let DatabaseLocation::Sqlite(db) = app.db.location.clone() else {
        anyhow::bail!("not SQLite")
    };
    let work = tempfile::tempdir()?;
    let file = work.path().join("sigap-backup.db");
    let restored = work.path().join("restored");

    // Four clients create incidents until told to stop; each create acknowledged is kept.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for c in 0..4 {
        let (http, url, token) = (
            app.http.clone(),
            app.api("/incidents"),
            app.admin_token.clone(),
        );
        let (acked, stop) = (acked.clone(), stop.clone());
        clients.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Acquire) {
                n += 1;
                let resp = http
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"short_description": format!("Load {c}-{n}")}))
                    .send()
                    .await?;
                anyhow::ensure!(resp.status() == 201, "create: {}", resp.status());
                let v: serde_json::Value = resp.json().await?;
                let number = v["number"].as_str().unwrap_or_default().to_owned();
                acked.lock().await.push(number);
            }
            Ok::<_, anyhow::Error>(n)
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    // What was acknowledged before the backup began.
    let before: Vec<String> = acked.lock().await.clone();
    let db_url = format!("sqlite://{}", db.display());
    let file_arg = file.display().to_string();
    let (code, out, err) = sigap(&["--database-url", &db_url, "backup", &file_arg]).await?;
    anyhow::ensure!(code == 0, "backup: {out}{err}");
    assert!(out.contains("backed up"), "{out}");
    // The creates went on while it ran.
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Release);
    let mut made = 0;
    for c in clients {
        made += c.await??;
    }
    let after = acked.lock().await.len();
    assert!(after > before.len(), "no create during the backup");
    assert!(before.len() > 10, "too little load: {}", before.len());
    assert!(made >= after);

    // A second backup under the same name is refused.
    let (code, _, err) = sigap(&["--database-url", &db_url, "backup", &file_arg]).await?;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("exists already"), "{err}");

    // Restored where there is no database: once, and not again over it.
    let dir = restored.display().to_string();
    let (code, out, err) = sigap(&["--data-dir", &dir, "restore", &file_arg]).await?;
    anyhow::ensure!(code == 0, "restore: {out}{err}");
    let (code, _, err) = sigap(&["--data-dir", &dir, "restore", &file_arg]).await?;
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no database"), "{err}");
    // Nor from what is no backup.
    let junk = work.path().join("junk.db");
    std::fs::write(&junk, "hello")?;
    let other = work.path().join("other").display().to_string();
    let (code, _, err) =
        sigap(&["--data-dir", &other, "restore", &junk.display().to_string()]).await?;
    assert_eq!(code, 2, "{err}");
    assert!(!work.path().join("other").join("sigap.db").exists());

    // Its audit log is intact.
    let (code, out, err) = sigap(&["--data-dir", &dir, "audit", "verify"]).await?;
    anyhow::ensure!(code == 0, "audit verify: {out}{err}");
    assert!(out.contains("intact"), "{out}");

    // Every create acknowledged before the backup began is there.
    let settings = Settings {
        data_dir: restored.clone(),
        worker: false,
        ..Settings::default()
    };
    let back = App::build(settings, Deps::default()).await?;
    let ctx = Ctx::system("test");
    for number in &before {
        sigap_core::task::get::<sigap_store::incidents::IncidentExt>(&back.core, &ctx, number)
            .await
            .map_err(|e| anyhow::anyhow!("{number} is missing from the restored database: {e}"))?;
    }
    Ok(())
}

/// `psql` on `url`, one value per line.
async fn psql(url: &str, sql: &str) -> anyhow::Result<String> {
    let out = Command::new("psql")
        .args([url, "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .output()
        .await?;
    anyhow::ensure!(
        out.status.success(),
        "psql: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// Every table of the public schema with its row count and a digest of its rows.
async fn contents(url: &str) -> anyhow::Result<Vec<String>> {
    let tables = psql(
        url,
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
    )
    .await?;
    let mut out = Vec::new();
    for t in tables.lines() {
        let digest = psql(
            url,
            &format!(
                "SELECT count(*) || ' ' || coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') \
                 FROM \"{t}\" r"
            ),
        )
        .await?;
        out.push(format!("{t} {digest}"));
    }
    Ok(out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pg_dump_restored_into_a_new_database_holds_the_same_data() -> anyhow::Result<()> {
    let Some(base) = sigap_testkit::postgres_url().map_err(anyhow::Error::msg)? else {
        eprintln!("PostgreSQL not configured (SIGAP_TEST_DATABASE_URL): skipped");
        return Ok(());
    };
    let app = TestApp::spawn(Backend::Postgres).await?;
    // Some history: incidents with comments and an attachment, a person, the audit log.
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    for n in 0..5 {
        let v = crate::portfolio::post(
            &app,
            "/incidents",
            &agent,
            json!({"short_description": format!("Dumped {n}")}),
        )
        .await?;
        let number = v["number"].as_str().unwrap_or_default().to_owned();
        crate::portfolio::post(
            &app,
            &format!("/incidents/{number}/comment"),
            &agent,
            json!({"body": "Still broken"}),
        )
        .await?;
    }
    let work = tempfile::tempdir()?;
    let dump = work.path().join("sigap.dump");
    let out = Command::new("pg_dump")
        .args(["--format=custom", "--no-owner", "--file"])
        .arg(&dump)
        .arg(&app.db.url)
        .output()
        .await?;
    anyhow::ensure!(
        out.status.success(),
        "pg_dump: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let name = format!("sigap_restore_{}", uuid::Uuid::now_v7().simple());
    psql(&base, &format!("CREATE DATABASE {name}")).await?;
    let target = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => anyhow::bail!("no database in {base}"),
    };
    let result = async {
        let out = Command::new("pg_restore")
            .args(["--no-owner", "--exit-on-error", "--dbname", &target])
            .arg(&dump)
            .output()
            .await?;
        anyhow::ensure!(
            out.status.success(),
            "pg_restore: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(contents(&app.db.url).await?, contents(&target).await?);
        let (code, out, err) = sigap(&["--database-url", &target, "audit", "verify"]).await?;
        anyhow::ensure!(code == 0, "audit verify: {out}{err}");
        assert!(out.contains("intact"), "{out}");
        // `sigap backup` points PostgreSQL to its own tools.
        let file = work.path().join("x.db").display().to_string();
        let (code, _, err) = sigap(&["--database-url", &target, "backup", &file]).await?;
        assert_eq!(code, 2);
        assert!(err.contains("pg_dump"), "{err}");
        Ok(())
    }
    .await;
    psql(
        &base,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await?;
    result
}
