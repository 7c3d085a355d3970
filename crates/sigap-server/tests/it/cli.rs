//! The `sigap` command: the commands scripts rely on.

use serde_json::Value;
use sigap_testkit::{TestApp, both};
use std::process::{Command, Output};

both!(
    admin_commands_work_on_the_database,
    seed_makes_a_whole_service_desk
);

fn sigap(app: &TestApp, args: &[&str]) -> anyhow::Result<Output> {
    Ok(Command::new(env!("CARGO_BIN_EXE_sigap"))
        .args(args)
        .args(["--database-url", &app.db.url])
        .env("SIGAP_LOG", "warn")
        .output()?)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

async fn admin_commands_work_on_the_database(app: TestApp) -> anyhow::Result<()> {
    let out = sigap(
        &app,
        &[
            "admin",
            "create-user",
            "--login",
            "Budi",
            "--name",
            "Budi Santoso",
            "--role",
            "agent",
            "--password",
            "budi-password-1",
        ],
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = sigap(
        &app,
        &["admin", "create-user", "--login", "x", "--name", "Bad"],
    )?;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("login"),
        "a clear error names the field"
    );
    // create-token prints only the token, ready for scripts.
    let out = sigap(
        &app,
        &["admin", "create-token", "--user", "budi", "--scope", "read"],
    )?;
    assert!(out.status.success());
    let token = stdout(&out);
    let token = token.trim_end();
    assert!(
        token.starts_with("sigap_") && !token.contains(char::is_whitespace),
        "{token:?}"
    );
    let me: Value = app
        .http
        .get(app.api("/me"))
        .header("authorization", format!("Bearer {token}"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(me["login"], "budi");
    assert_eq!(me["roles"], serde_json::json!(["agent"]));
    let out = sigap(&app, &["admin", "create-token", "--user", "nobody"])?;
    assert!(!out.status.success());
    let out = sigap(
        &app,
        &[
            "admin",
            "set-password",
            "--login",
            "budi",
            "--password",
            "another-password-2",
        ],
    )?;
    assert!(out.status.success());
    app.browser("budi", "another-password-2").await?;
    let out = sigap(&app, &["admin", "list-users"])?;
    let listing = stdout(&out);
    assert!(
        listing.contains("admin") && listing.contains("budi") && listing.contains("Budi Santoso"),
        "{listing}"
    );
    let out = sigap(&app, &["migrate"])?;
    assert!(stdout(&out).contains("schema at version"));
    Ok(())
}

#[test]
fn informational_commands() -> anyhow::Result<()> {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sigap"))
            .args(args)
            .output()
    };
    let version = run(&["version"])?;
    assert!(String::from_utf8_lossy(&version.stdout).starts_with("sigap "));
    let config = run(&["config", "default"])?;
    assert!(String::from_utf8_lossy(&config.stdout).contains("listen = \"127.0.0.1:8080\""));
    let spec: Value = serde_json::from_slice(&run(&["openapi"])?.stdout)?;
    assert_eq!(spec, serde_json::to_value(sigap_web::openapi())?);
    let bad = run(&[
        "serve",
        "--listen",
        "not-an-address",
        "--data-dir",
        "/nonexistent/x",
    ])?;
    assert!(!bad.status.success());
    Ok(())
}

async fn seed_makes_a_whole_service_desk(app: TestApp) -> anyhow::Result<()> {
    let out = sigap(
        &app,
        &[
            "seed",
            "--organizations",
            "2",
            "--people",
            "12",
            "--groups",
            "3",
            "--services",
            "4",
            "--cis",
            "60",
            "--relationships",
            "120",
            "--incidents",
            "500",
            "--clocks",
            "--seed",
            "9",
        ],
    )?;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.contains("500 incidents with their journals"), "{text}");
    assert!(text.contains("created 500 SLA clocks"), "{text}");
    // The incidents are there, with a caller of a customer organization and a comment each.
    let ctx = sigap_core::Ctx::system("test");
    let page = sigap_core::incidents::list(
        &app.core,
        &ctx,
        sigap_core::incidents::IncidentQuery::default(),
        &sigap_core::listing::ListParams {
            limit: Some(10),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(page.items.len(), 10);
    let first = &page.items[0];
    assert!(first.organization.is_some() || first.caller.is_some());
    let detail = sigap_core::incidents::detail(&app.core, &ctx, &first.number)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert!(
        detail
            .journal
            .iter()
            .any(|j| j.kind == sigap_domain::task::JournalKind::Comment)
    );
    // Sizes that make no sense are refused by the command line.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_sigap"))
        .args(["seed", "--incidents", "many", "--database-url", &app.db.url])
        .output()?;
    assert!(!bad.status.success());
    Ok(())
}
