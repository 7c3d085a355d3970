//! Small helpers shared by the test modules.

use reqwest::{Response, StatusCode};
use serde_json::Value;
use sigap_testkit::TestApp;

/// Asserts a problem+json answer with `status` and `code`, and returns its body.
pub async fn problem(resp: Response, status: StatusCode, code: &str) -> anyhow::Result<Value> {
    let got = resp.status();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    anyhow::ensure!(got == status, "expected {status}, got {got}: {body}");
    anyhow::ensure!(
        ctype == "application/problem+json",
        "content type {ctype:?} for {body}"
    );
    anyhow::ensure!(body["code"] == code, "expected code {code}, got {body}");
    anyhow::ensure!(body["status"] == status.as_u16(), "status field: {body}");
    anyhow::ensure!(
        body["title"].is_string() && body["detail"].is_string(),
        "incomplete problem: {body}"
    );
    Ok(body)
}

/// Counts of records, to show that a refused request changed nothing.
#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    pub people: usize,
    pub organizations: usize,
    pub groups: usize,
    pub audit_head: i64,
}

pub async fn snapshot(app: &TestApp) -> anyhow::Result<Snapshot> {
    let ctx = sigap_core::Ctx::system("test");
    let params = sigap_core::listing::ListParams {
        limit: Some(500),
        ..Default::default()
    };
    let people = sigap_core::people::list(&app.core, &ctx, Default::default(), &params)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let orgs = sigap_core::orgs::list(&app.core, &ctx, Default::default(), &params)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let groups = sigap_core::groups::list(&app.core, &ctx, Default::default(), &params)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let chain = sigap_core::audit::verify_chain(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(Snapshot {
        people: people.items.len(),
        organizations: orgs.items.len(),
        groups: groups.items.len(),
        audit_head: chain.head_seq,
    })
}

pub fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}
