//! The audit log: every change recorded, hash-chained, and tampering named by `sigap audit verify`.

use crate::helpers::bearer;
use serde_json::{Value, json};
use sigap_testkit::{TestApp, both};
use std::process::Command;

both!(changes_are_recorded_and_tampering_is_named);

fn verify(app: &TestApp) -> anyhow::Result<(bool, String)> {
    let out = Command::new(env!("CARGO_BIN_EXE_sigap"))
        .args(["audit", "verify", "--database-url", &app.db.url])
        .env("SIGAP_LOG", "warn")
        .output()?;
    Ok((
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    ))
}

async fn changes_are_recorded_and_tampering_is_named(app: TestApp) -> anyhow::Result<()> {
    let auth = bearer(&app.admin_token);
    let created: Value = app
        .http
        .post(app.api("/people"))
        .header("authorization", &auth)
        .json(&json!({"login": "rudi", "name": "Rudi", "roles": ["agent"]}))
        .send()
        .await?
        .json()
        .await?;
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    for name in ["Rudi H.", "Rudi Hartono"] {
        let resp = app
            .http
            .patch(app.api("/people/rudi"))
            .header("authorization", &auth)
            .json(&json!({"name": name}))
            .send()
            .await?;
        assert_eq!(resp.status(), 200);
    }
    let history: Value = app
        .http
        .get(app.api("/people/rudi/history"))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    let entries = history.as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[0]["action"], "create");
    assert_eq!(entries[0]["changes"]["login"], json!([null, "rudi"]));
    assert_eq!(
        entries[2]["changes"],
        json!({"name": ["Rudi H.", "Rudi Hartono"]})
    );

    let (ok, out) = verify(&app)?;
    assert!(ok, "{out}");
    assert!(out.contains("intact"), "{out}");

    // Someone edits the middle entry directly in the database.
    let seq = entries[1]["seq"].as_i64().unwrap_or_default();
    let changed = sigap_store::testing::execute_raw(
        &app.core.store,
        &format!("UPDATE audit_log SET actor = 'mallory' WHERE seq = {seq} AND record_id = '{id}'"),
    )
    .await?;
    assert_eq!(changed, 1);
    let (ok, out) = verify(&app)?;
    assert!(!ok);
    assert!(out.contains(&format!("#{seq}")), "{out}");
    assert!(out.contains("altered"), "{out}");
    Ok(())
}
