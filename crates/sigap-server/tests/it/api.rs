//! API conventions: errors, hostile input, concurrency, idempotency, collections.

use crate::helpers::{bearer, problem, snapshot};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sigap_testkit::{TestApp, both};

both!(
    hostile_input_is_refused_and_changes_nothing,
    text_is_stored_verbatim,
    same_if_match_twice_one_wins,
    idempotency_key_creates_one_record,
    collections_page_sort_and_filter,
    crud_with_etags_and_history,
    organization_scoping_hides_other_records,
    roles_are_enforced,
    the_document_declares_each_lists_filters_and_every_error,
    typed_parameters_are_read_exactly_as_documented,
);

async fn hostile_input_is_refused_and_changes_nothing(app: TestApp) -> anyhow::Result<()> {
    let before = snapshot(&app).await?;
    let auth = bearer(&app.admin_token);
    let url = app.api("/organizations");
    let send = |body: Vec<u8>, ctype: &'static str| {
        app.http
            .post(&url)
            .header("authorization", &auth)
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    // Malformed JSON.
    problem(
        send(b"{\"name\": \"x\",".to_vec(), "application/json").await?,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await?;
    problem(
        send(b"{\"name\": \"x\"} trailing".to_vec(), "application/json").await?,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await?;
    // Wrong types.
    let body = problem(
        send(
            br#"{"name": 42, "kind": "customer"}"#.to_vec(),
            "application/json",
        )
        .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(body["errors"][0]["field"], "name");
    problem(
        send(br#"[1,2,3]"#.to_vec(), "application/json").await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    // Unknown fields.
    let body = problem(
        send(
            br#"{"name": "X", "kind": "customer", "colour": "red"}"#.to_vec(),
            "application/json",
        )
        .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(body["errors"][0]["code"], "unknown_field");
    assert_eq!(body["errors"][0]["field"], "colour");
    // Invalid values.
    let body = problem(
        send(
            br#"{"name": "  ", "kind": "alien"}"#.to_vec(),
            "application/json",
        )
        .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    assert_eq!(body["errors"].as_array().map(Vec::len), Some(2));
    // A 10 MB body, with and without a declared length.
    let big = format!(
        r#"{{"name": "{}", "kind": "customer"}}"#,
        "a".repeat(10 * 1024 * 1024)
    )
    .into_bytes();
    // The server refuses by the declared length before reading, answers 413 and closes the
    // connection; a client still sending may see the close before the answer.
    too_large(send(big.clone(), "application/json").await).await?;
    let stream = futures_util::stream::iter(
        big.chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    // Without a declared length the server stops reading at the limit, answers 413 and closes
    // the connection; a client still sending may see the close before the answer.
    let streamed = app
        .http
        .post(&url)
        .header("authorization", &auth)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send()
        .await;
    too_large(streamed).await?;
    // Deterministically: a declared 10 MB body is refused from its headers alone.
    let raw = raw_http(
        &app,
        &format!(
            "POST /api/v1/organizations HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n\
             Content-Type: application/json\r\nContent-Length: 10485760\r\nConnection: close\r\n\r\n"
        ),
    )
    .await?;
    assert!(raw.starts_with("HTTP/1.1 413"), "{raw}");
    assert!(
        raw.contains("application/problem+json") && raw.contains("payload_too_large"),
        "{raw}"
    );
    // Wrong content type.
    problem(
        send(
            br#"{"name": "X", "kind": "customer"}"#.to_vec(),
            "text/plain",
        )
        .await?,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    problem(
        send(
            b"name=X&kind=customer".to_vec(),
            "application/x-www-form-urlencoded",
        )
        .await?,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    // Invalid UTF-8.
    problem(
        send(
            b"{\"name\": \"\xff\xfe\", \"kind\": \"customer\"}".to_vec(),
            "application/json",
        )
        .await?,
        StatusCode::BAD_REQUEST,
        "malformed_json",
    )
    .await?;
    // A missing, malformed or revoked token.
    let resp = app.http.get(app.api("/organizations")).send().await?;
    assert!(resp.headers().contains_key("www-authenticate"));
    problem(resp, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    problem(
        app.http
            .get(app.api("/me"))
            .header("authorization", "Bearer nonsense")
            .send()
            .await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    problem(
        app.http
            .get(app.api("/me"))
            .header("authorization", "Basic YWRtaW46eA==")
            .send()
            .await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    let created: Value = app
        .http
        .post(app.api("/me/tokens"))
        .header("authorization", &auth)
        .json(&json!({"name": "short-lived"}))
        .send()
        .await?
        .json()
        .await?;
    let token = created["token"].as_str().unwrap_or_default().to_owned();
    let id = created["id"].as_str().unwrap_or_default().to_owned();
    assert_eq!(
        app.http
            .get(app.api("/me"))
            .header("authorization", bearer(&token))
            .send()
            .await?
            .status(),
        200
    );
    let resp = app
        .http
        .delete(app.api(&format!("/me/tokens/{id}")))
        .header("authorization", &auth)
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    problem(
        app.http
            .get(app.api("/me"))
            .header("authorization", bearer(&token))
            .send()
            .await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    let tampered = format!("{}x", &token[..token.len() - 1]);
    problem(
        app.http
            .get(app.api("/me"))
            .header("authorization", bearer(&tampered))
            .send()
            .await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    // Bad query parameters and headers.
    problem(
        app.http
            .get(app.api("/organizations?limit=lots"))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    problem(
        app.http
            .get(app.api("/organizations?limit=100000"))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    problem(
        app.http
            .get(app.api("/organizations?sort=password"))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    problem(
        app.http
            .get(app.api("/organizations?cursor=%27;DROP"))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    problem(
        app.http
            .patch(app.api("/organizations/x"))
            .header("authorization", &auth)
            .header("if-match", "soon")
            .json(&json!({}))
            .send()
            .await?,
        StatusCode::BAD_REQUEST,
        "invalid_header",
    )
    .await?;
    // Unknown routes and methods.
    problem(
        app.http
            .get(app.api("/nothing/here"))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    problem(
        app.http
            .put(app.api("/organizations"))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    )
    .await?;
    problem(
        app.http
            .get(app.api("/people/does-not-exist"))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    problem(
        app.http
            .get(app.api("/people/%00%ff"))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;

    let mut after = snapshot(&app).await?;
    // The token created and revoked above are the only changes.
    after.audit_head -= 2;
    assert_eq!(before, after);
    Ok(())
}

/// Sends raw bytes and reads the answer until the server closes the connection.
async fn raw_http(app: &TestApp, request: &str) -> anyhow::Result<String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let addr = app.url.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut buf),
    )
    .await;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}

async fn too_large(sent: reqwest::Result<reqwest::Response>) -> anyhow::Result<()> {
    match sent {
        Ok(resp) => {
            problem(resp, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large").await?;
        }
        Err(e) => anyhow::ensure!(e.is_request() || e.is_body(), "unexpected failure: {e}"),
    }
    Ok(())
}

async fn text_is_stored_verbatim(app: TestApp) -> anyhow::Result<()> {
    let auth = bearer(&app.admin_token);
    let nasty = "Robert'); DROP TABLE person;-- <script>alert('x')</script> & \"quotes\" ñ 😀";
    let resp = app
        .http
        .post(app.api("/organizations"))
        .header("authorization", &auth)
        .json(&json!({"name": nasty, "kind": "customer", "description": "<img src=x onerror=alert(1)>\nline two"}))
        .send()
        .await?;
    assert_eq!(resp.status(), 201);
    let org: Value = resp.json().await?;
    assert_eq!(org["name"], nasty);
    let id = org["id"].as_str().unwrap_or_default();
    let again: Value = app
        .http
        .get(app.api(&format!("/organizations/{id}")))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(again["name"], nasty);
    assert_eq!(
        again["description"],
        "<img src=x onerror=alert(1)>\nline two"
    );
    // The tables are intact, and the UI shows the text escaped.
    let people: Value = app
        .http
        .get(app.api("/people"))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    assert!(
        !people["items"]
            .as_array()
            .map(Vec::is_empty)
            .unwrap_or(true)
    );
    let browser = app.browser("admin", sigap_testkit::ADMIN_PASSWORD).await?;
    let html = browser
        .get(app.page(&format!("/admin/organizations/{id}")))
        .send()
        .await?
        .text()
        .await?;
    assert!(!html.contains("<script>alert"), "script tag rendered raw");
    assert!(
        html.contains("&#60;script&#62;alert(&#39;x&#39;)&#60;/script&#62;"),
        "escaped text missing: {html}"
    );
    assert!(!html.contains("<img src=x"));
    Ok(())
}

async fn same_if_match_twice_one_wins(app: TestApp) -> anyhow::Result<()> {
    let org = app.organization("Contoso", "customer").await?;
    let auth = bearer(&app.admin_token);
    let resp = app
        .http
        .get(app.api(&format!("/organizations/{}", org.id)))
        .header("authorization", &auth)
        .send()
        .await?;
    let etag = resp
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(etag, "\"1\"");
    let patch = |name: &'static str| {
        app.http
            .patch(app.api(&format!("/organizations/{}", org.id)))
            .header("authorization", &auth)
            .header("if-match", &etag)
            .json(&json!({ "name": name }))
            .send()
    };
    let (a, b) = tokio::join!(patch("Contoso A"), patch("Contoso B"));
    let (a, b) = (a?, b?);
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 412], "exactly one PATCH wins");
    let loser = if a.status() == 412 { a } else { b };
    problem(
        loser,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await?;
    let now: Value = app
        .http
        .get(app.api(&format!("/organizations/{}", org.id)))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(now["version"], 2);
    // A stale ETag later is refused too and changes nothing.
    problem(
        patch("Contoso C").await?,
        StatusCode::PRECONDITION_FAILED,
        "precondition_failed",
    )
    .await?;
    let again: Value = app
        .http
        .get(app.api(&format!("/organizations/{}", org.id)))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(again, now);
    Ok(())
}

async fn idempotency_key_creates_one_record(app: TestApp) -> anyhow::Result<()> {
    let auth = bearer(&app.admin_token);
    let post = |key: &'static str, name: &'static str| {
        app.http
            .post(app.api("/organizations"))
            .header("authorization", &auth)
            .header("idempotency-key", key)
            .json(&json!({"name": name, "kind": "supplier"}))
            .send()
    };
    let first = post("key-1", "Acme").await?;
    assert_eq!(first.status(), 201);
    let location = first.headers().get("location").cloned();
    let first: Value = first.json().await?;
    let second = post("key-1", "Acme").await?;
    assert_eq!(second.status(), 201);
    assert_eq!(
        second
            .headers()
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(second.headers().get("location").cloned(), location);
    let second: Value = second.json().await?;
    assert_eq!(first["id"], second["id"]);
    problem(
        post("key-1", "Other").await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    )
    .await?;
    // Concurrent retries of one request: one record.
    let (a, b, c) = tokio::join!(
        post("key-2", "Globex"),
        post("key-2", "Globex"),
        post("key-2", "Globex")
    );
    for r in [a?, b?, c?] {
        assert!(
            matches!(r.status().as_u16(), 201 | 409),
            "unexpected {}",
            r.status()
        );
    }
    let list: Value = app
        .http
        .get(app.api("/organizations?kind=supplier"))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    let names: Vec<&str> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|o| o["name"].as_str())
        .collect();
    assert_eq!(names, vec!["Acme", "Globex"]);
    // Keys are per person, and a bad key is refused.
    problem(
        post("bad key with spaces", "X").await?,
        StatusCode::BAD_REQUEST,
        "invalid_header",
    )
    .await?;
    Ok(())
}

async fn collections_page_sort_and_filter(app: TestApp) -> anyhow::Result<()> {
    let auth = bearer(&app.admin_token);
    for i in 0..7 {
        app.organization(
            &format!("Customer {i}"),
            if i % 2 == 0 { "customer" } else { "supplier" },
        )
        .await?;
    }
    let mut names = Vec::new();
    let mut url = app.api("/organizations?sort=-name&limit=3&kind=customer");
    loop {
        let page: Value = app
            .http
            .get(&url)
            .header("authorization", &auth)
            .send()
            .await?
            .json()
            .await?;
        names.extend(
            page["items"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|o| o["name"].as_str().map(str::to_owned)),
        );
        match page["next_cursor"].as_str() {
            Some(c) => {
                url = app.api(&format!(
                    "/organizations?sort=-name&limit=3&kind=customer&cursor={c}"
                ))
            }
            None => break,
        }
    }
    assert_eq!(
        names,
        vec!["Customer 6", "Customer 4", "Customer 2", "Customer 0"]
    );
    // A cursor belongs to its sort.
    let page: Value = app
        .http
        .get(app.api("/organizations?sort=-name&limit=1"))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    let cursor = page["next_cursor"].as_str().unwrap_or_default();
    problem(
        app.http
            .get(app.api(&format!("/organizations?sort=name&cursor={cursor}")))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    let found: Value = app
        .http
        .get(app.api("/organizations?q=customer%205"))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(found["items"].as_array().map(Vec::len), Some(1));
    // People filtered by role and organization.
    app.person("agent1", &["agent"], Some("Customer 1")).await?;
    app.person("agent2", &["agent"], None).await?;
    let agents: Value = app
        .http
        .get(app.api("/people?role=agent&sort=login"))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    let logins: Vec<&str> = agents["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["login"].as_str())
        .collect();
    assert_eq!(
        logins,
        vec!["admin", "agent1", "agent2"],
        "an administrator counts as an agent"
    );
    Ok(())
}

async fn crud_with_etags_and_history(app: TestApp) -> anyhow::Result<()> {
    let auth = bearer(&app.admin_token);
    let resp = app
        .http
        .post(app.api("/groups"))
        .header("authorization", &auth)
        .json(&json!({"name": "Service Desk", "type": "service_desk", "manager": "admin"}))
        .send()
        .await?;
    assert_eq!(resp.status(), 201);
    assert!(resp.headers().get("location").is_some());
    let group: Value = resp.json().await?;
    assert_eq!(group["manager"]["display"], "Administrator");
    let id = group["id"].as_str().unwrap_or_default().to_owned();
    problem(
        app.http
            .post(app.api("/groups"))
            .header("authorization", &auth)
            .json(&json!({"name": "service desk", "type": "technical"}))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "already_exists",
    )
    .await?;
    let (agent, _) = app.person("siti", &["agent"], None).await?;
    let members: Value = app
        .http
        .post(app.api(&format!("/groups/{id}/members")))
        .header("authorization", &auth)
        .json(&json!({"person": "siti"}))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(members[0]["login"], "siti");
    let resp = app
        .http
        .patch(app.api(&format!("/groups/{id}")))
        .header("authorization", &auth)
        .header("if-match", "\"1\"")
        .json(&json!({"description": "First line", "email": null}))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some("\"2\"")
    );
    let history: Value = app
        .http
        .get(app.api(&format!("/groups/{id}/history")))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    let actions: Vec<&str> = history
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|h| h["action"].as_str())
        .collect();
    assert_eq!(actions, vec!["create", "update", "update"]);
    assert_eq!(history[1]["changes"]["member"], json!([null, "siti"]));
    assert_eq!(
        history[2]["changes"]["description"],
        json!(["", "First line"])
    );
    assert_eq!(history[2]["actor"], "admin");
    assert!(
        history[2]["request_id"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    let resp = app
        .http
        .delete(app.api(&format!("/groups/{id}/members/{}", agent.id)))
        .header("authorization", &auth)
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    let resp = app
        .http
        .delete(app.api(&format!("/groups/{id}")))
        .header("authorization", &auth)
        .send()
        .await?;
    assert_eq!(resp.status(), 204);
    problem(
        app.http
            .get(app.api(&format!("/groups/{id}")))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    // An organization with people cannot be deleted.
    let org = app.organization("Initech", "customer").await?;
    app.person("peter", &["requester"], Some("Initech")).await?;
    problem(
        app.http
            .delete(app.api(&format!("/organizations/{}", org.id)))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::CONFLICT,
        "in_use",
    )
    .await?;
    // The last administrator keeps the role.
    problem(
        app.http
            .patch(app.api("/people/admin"))
            .header("authorization", &auth)
            .json(&json!({"roles": ["agent"]}))
            .send()
            .await?,
        StatusCode::CONFLICT,
        "last_admin",
    )
    .await?;
    Ok(())
}

async fn organization_scoping_hides_other_records(app: TestApp) -> anyhow::Result<()> {
    app.organization("Alpha", "customer").await?;
    let beta = app.organization("Beta", "customer").await?;
    let (_, alice) = app.person("alice", &["requester"], Some("Alpha")).await?;
    let (bob, _) = app.person("bob", &["requester"], Some("Beta")).await?;
    let (carol, _) = app.person("carol", &["requester"], Some("Alpha")).await?;
    let auth = bearer(&alice);
    problem(
        app.http
            .get(app.api(&format!("/people/{}", bob.id)))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    problem(
        app.http
            .get(app.api("/people/bob"))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    problem(
        app.http
            .get(app.api(&format!("/organizations/{}", beta.id)))
            .header("authorization", &auth)
            .send()
            .await?,
        StatusCode::NOT_FOUND,
        "not_found",
    )
    .await?;
    let ok = app
        .http
        .get(app.api(&format!("/people/{}", carol.id)))
        .header("authorization", &auth)
        .send()
        .await?;
    assert_eq!(ok.status(), 200);
    let people: Value = app
        .http
        .get(app.api("/people"))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    let logins: Vec<&str> = people["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["login"].as_str())
        .collect();
    assert_eq!(logins, vec!["alice", "carol"]);
    let orgs: Value = app
        .http
        .get(app.api("/organizations"))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(orgs["items"].as_array().map(Vec::len), Some(1));
    Ok(())
}

async fn roles_are_enforced(app: TestApp) -> anyhow::Result<()> {
    let (_, requester) = app.person("req", &["requester"], None).await?;
    let (_, agent) = app.person("agt", &["agent"], None).await?;
    let body = json!({"name": "Sneaky", "kind": "customer"});
    problem(
        app.http
            .post(app.api("/organizations"))
            .header("authorization", bearer(&requester))
            .json(&body)
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    problem(
        app.http
            .get(app.api("/groups"))
            .header("authorization", bearer(&requester))
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    assert_eq!(
        app.http
            .get(app.api("/groups"))
            .header("authorization", bearer(&agent))
            .send()
            .await?
            .status(),
        200
    );
    problem(
        app.http
            .patch(app.api("/people/agt"))
            .header("authorization", bearer(&agent))
            .json(&json!({"roles": ["admin"]}))
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    // A change of roles applies to the person's tokens at once.
    let admin = bearer(&app.admin_token);
    let resp = app
        .http
        .patch(app.api("/people/agt"))
        .header("authorization", &admin)
        .json(&json!({"roles": ["requester"]}))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    problem(
        app.http
            .get(app.api("/groups"))
            .header("authorization", bearer(&agent))
            .send()
            .await?,
        StatusCode::FORBIDDEN,
        "forbidden",
    )
    .await?;
    let resp = app
        .http
        .patch(app.api("/people/agt"))
        .header("authorization", &admin)
        .json(&json!({"roles": ["agent"]}))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    assert_eq!(
        app.http
            .get(app.api("/groups"))
            .header("authorization", bearer(&agent))
            .send()
            .await?
            .status(),
        200
    );
    let resp = app
        .http
        .patch(app.api("/people/agt"))
        .header("authorization", &admin)
        .json(&json!({"active": false}))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    problem(
        app.http
            .get(app.api("/me"))
            .header("authorization", bearer(&agent))
            .send()
            .await?,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    )
    .await?;
    let resp = app
        .http
        .patch(app.api("/people/agt"))
        .header("authorization", &admin)
        .json(&json!({"active": true}))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    // Everyone may change their own profile, within limits.
    let resp = app
        .http
        .patch(app.api("/me"))
        .header("authorization", bearer(&agent))
        .json(&json!({"locale": "id", "time_zone": "Asia/Jakarta"}))
        .send()
        .await?;
    assert_eq!(resp.status(), 200);
    problem(
        app.http
            .patch(app.api("/me"))
            .header("authorization", bearer(&agent))
            .json(&json!({"roles": ["admin"]}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    problem(
        app.http
            .patch(app.api("/me"))
            .header("authorization", bearer(&agent))
            .json(&json!({"time_zone": "Mars/Base"}))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}

/// The lists and a filter each of them has that the others do not all have.
const LISTS: &[(&str, &str)] = &[
    ("/api/v1/people", "role"),
    ("/api/v1/organizations", "kind"),
    ("/api/v1/groups", "type"),
    ("/api/v1/locations", "organization"),
    ("/api/v1/services", "stage"),
    ("/api/v1/offerings", "service"),
    ("/api/v1/projects", "status"),
    ("/api/v1/applications", "group"),
    ("/api/v1/configuration_items", "owner_group"),
    ("/api/v1/incidents", "queue"),
];

async fn the_document_declares_each_lists_filters_and_every_error(
    app: TestApp,
) -> anyhow::Result<()> {
    let doc: Value = app
        .http
        .get(app.page("/api/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    let param = |op: &Value, name: &str| -> Option<Value> {
        op["parameters"]
            .as_array()?
            .iter()
            .find(|p| p["name"] == name)
            .cloned()
    };
    // Each list shows its own filters only, typed.
    for (path, own) in LISTS {
        let op = &doc["paths"][path]["get"];
        assert!(param(op, own).is_some(), "{path} lacks its filter {own}");
        let limit = param(op, "limit").unwrap_or_default();
        assert_eq!(limit["schema"]["type"], "integer", "{path}: {limit}");
        assert_eq!(limit["schema"]["minimum"], 1, "{path}: {limit}");
        assert_eq!(limit["schema"]["maximum"], 500, "{path}: {limit}");
        assert!(param(op, "sort").unwrap_or_default()["schema"]["pattern"].is_string());
        // Filters only one list has appear on that list only.
        for (list, only) in [
            ("/api/v1/people", "role"),
            ("/api/v1/organizations", "kind"),
            ("/api/v1/groups", "type"),
            ("/api/v1/services", "stage"),
            ("/api/v1/configuration_items", "owner_group"),
            ("/api/v1/incidents", "queue"),
        ] {
            assert_eq!(
                param(op, only).is_some(),
                list == *path,
                "{path} and {only}"
            );
        }
    }
    let people = &doc["paths"]["/api/v1/people"]["get"];
    assert_eq!(
        param(people, "active").unwrap_or_default()["schema"]["type"],
        "boolean"
    );
    assert!(
        param(people, "role").unwrap_or_default()["schema"]["enum"]
            .as_array()
            .is_some_and(|e| e.iter().any(|v| v == "agent"))
    );
    let state = param(&doc["paths"]["/api/v1/incidents"]["get"], "state").unwrap_or_default();
    assert_eq!(state["schema"]["type"], "array");
    assert_eq!(state["explode"], false);
    // Every operation declares the errors it can give, as problem+json.
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            operations += 1;
            let declared = |status: &str| !op["responses"][status].is_null();
            for status in ["401", "403"] {
                assert!(declared(status), "{method} {path} lacks {status}");
                assert!(
                    !op["responses"][status]["content"]["application/problem+json"].is_null(),
                    "{method} {path}: {status} is not problem+json"
                );
            }
            if path.contains('{') {
                assert!(declared("404"), "{method} {path} lacks 404");
            }
            if !op["requestBody"].is_null() {
                for status in ["413", "415", "422"] {
                    assert!(declared(status), "{method} {path} lacks {status}");
                }
            }
            if param(op, "If-Match").is_some() {
                assert!(declared("412"), "{method} {path} lacks 412");
            }
        }
    }
    assert!(operations > 100, "only {operations} operations");
    Ok(())
}

async fn typed_parameters_are_read_exactly_as_documented(app: TestApp) -> anyhow::Result<()> {
    let auth = bearer(&app.admin_token);
    let get = |path: &str| {
        app.http
            .get(app.api(path))
            .header("authorization", &auth)
            .send()
    };
    // What the document allows is answered.
    for path in [
        "/people?active=true&role=agent&limit=500&sort=-name,%2Blogin",
        "/people?sort=+login",
        "/organizations?kind=customer&active=false&sort=",
        "/groups?type=service_desk",
        "/services?status=pipeline&stage=define&criticality=4",
        "/configuration_items?status=operational",
        "/incidents?state=new,in_progress&priority=1&major=false&queue=",
        "/incidents?queue=unassigned",
    ] {
        let resp = get(path).await?;
        assert_eq!(
            resp.status(),
            StatusCode::OK,
            "{path}: {}",
            resp.text().await?
        );
    }
    // What it does not is refused with 422, naming the parameter.
    for (path, field) in [
        ("/people?limit=abc", "limit"),
        ("/people?limit=", "limit"),
        ("/people?limit=0", "limit"),
        ("/people?limit=2.5", "limit"),
        ("/people?active=yes", "active"),
        ("/people?active=", "active"),
        ("/people?role=wizard", "role"),
        ("/people?sort=%20%20name", "sort"),
        ("/people?sort=name,", "sort"),
        ("/people?sort=kind", "sort"),
        ("/organizations?kind=", "kind"),
        ("/services?criticality=5", "criticality"),
        ("/incidents?state=new,bogus", "state"),
        ("/incidents?state=", "state"),
        ("/incidents?priority=6", "priority"),
        ("/incidents?queue=everything", "queue"),
        ("/sla/breaching?within_minutes=x", "within_minutes"),
        ("/sla/compliance?by=year", "by"),
        ("/cmdb/export", "kind"),
    ] {
        let body = problem(
            get(path).await?,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        )
        .await?;
        assert_eq!(body["errors"][0]["field"], field, "{path}: {body}");
    }
    // If-Match takes an ETag this API sent (or the bare version), nothing else.
    let org = app.organization("Strict Ltd", "customer").await?;
    let url = app.api(&format!("/organizations/{}", org.id));
    for value in ["W/1", "\"1", "1.0", "*", "null"] {
        problem(
            app.http
                .patch(&url)
                .header("authorization", &auth)
                .header("if-match", value)
                .json(&json!({"description": "x"}))
                .send()
                .await?,
            StatusCode::BAD_REQUEST,
            "invalid_header",
        )
        .await?;
    }
    for (value, status) in [
        ("W/\"1\"", StatusCode::OK),
        ("2", StatusCode::OK),
        ("\"2\"", StatusCode::PRECONDITION_FAILED),
    ] {
        let resp = app
            .http
            .patch(&url)
            .header("authorization", &auth)
            .header("if-match", value)
            .json(&json!({"description": value}))
            .send()
            .await?;
        assert_eq!(resp.status(), status, "If-Match {value}");
    }
    // A body of fields is an object: serde would read `[null, null]` as the first two.
    problem(
        app.http
            .patch(app.api("/portfolio/process"))
            .header("authorization", &auth)
            .json(&json!([null, null]))
            .send()
            .await?,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    )
    .await?;
    Ok(())
}
