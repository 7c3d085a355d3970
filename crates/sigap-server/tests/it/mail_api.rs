//! The e-mail channel's API: mailboxes with their checked fields and write-only passwords,
//! the outbound server, templates replaced and reset (a template that does not render is
//! refused), the messages and the quarantine (listed in pages, downloaded raw, retried and
//! discarded), an incident's mail, each person's mail preferences, and administrators only.

use crate::helpers::{bearer, problem};
use crate::portfolio::{get, post, send};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sigap_core::mail::admin;
use sigap_core::mail::inbound::{self, Keeping, Source};
use sigap_domain::mail::Unreadable;
use sigap_testkit::{TestApp, both};

both!(
    administrators_keep_mailboxes_without_showing_passwords,
    mailbox_fields_are_checked,
    only_administrators_reach_the_mail_settings,
    the_outbound_server_keeps_its_password_to_itself,
    templates_are_replaced_checked_and_reset,
    the_quarantine_is_listed_retried_and_discarded,
    an_incident_shows_the_mail_it_came_from,
    each_person_chooses_the_mail_they_get,
);

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

/// A request with the token, an optional `If-Match` and an optional JSON body: the status,
/// the `ETag` and the body (its text when it is not JSON).
async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    if_match: Option<&str>,
    body: Option<Value>,
) -> anyhow::Result<(StatusCode, String, Value)> {
    let mut req = app
        .http
        .request(method, app.api(path))
        .header("authorization", bearer(token));
    if let Some(v) = if_match {
        req = req.header("if-match", v);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await?;
    let status = resp.status();
    let etag = resp
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let body = resp.text().await?;
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    Ok((status, etag, value))
}

/// Sends and expects a problem with `status`, `code` and (when given) the refused field.
async fn refused(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
    status: StatusCode,
    code: &str,
    field: Option<&str>,
) -> anyhow::Result<Value> {
    let mut req = app
        .http
        .request(method.clone(), app.api(path))
        .header("authorization", bearer(&app.admin_token));
    if let Some(b) = &body {
        req = req.json(b);
    }
    let p = problem(req.send().await?, status, code).await?;
    if let Some(f) = field {
        anyhow::ensure!(
            p["errors"]
                .as_array()
                .is_some_and(|e| e.iter().any(|e| e["field"] == f)),
            "{method} {path}: expected a refusal of {f}, got {p}"
        );
    }
    Ok(p)
}

const SECRET: &str = "imap-secret-Passw0rd";

async fn administrators_keep_mailboxes_without_showing_passwords(
    app: TestApp,
) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    let resp = app
        .http
        .post(app.api("/mailboxes"))
        .header("authorization", bearer(&admin))
        .json(&json!({
            "name": "Service desk",
            "address": "ServiceDesk@Example.com",
            "imap_host": "imap.example.com",
            "imap_port": 993,
            "imap_username": "servicedesk",
            "imap_password": SECRET,
        }))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::CREATED);
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let etag = resp
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let raw = resp.text().await?;
    assert!(!raw.contains(SECRET), "the password came back: {raw}");
    let m: Value = serde_json::from_str(&raw)?;
    let id = text(&m["id"]);
    assert_eq!(location, format!("/api/v1/mailboxes/{id}"));
    assert_eq!(etag, "\"1\"");
    assert_eq!(m["address"], "servicedesk@example.com", "lower case");
    assert_eq!(m["has_password"], true);
    assert!(m.get("imap_password").is_none(), "{m}");
    // The defaults of a new mailbox.
    assert_eq!(
        (
            text(&m["kind"]),
            text(&m["unknown_senders"]),
            text(&m["resolved_reply"]),
            m["max_tasks_per_day"].as_i64(),
            text(&m["imap_security"]),
            text(&m["imap_folder"]),
            m["acknowledge"].as_bool(),
        ),
        (
            "incident".to_owned(),
            "create".to_owned(),
            "reopen".to_owned(),
            Some(40),
            "tls".to_owned(),
            "INBOX".to_owned(),
            Some(true)
        ),
        "{m}"
    );
    // Listed and read, never with the password.
    let (st, _, list) = call(&app, Method::GET, "/mailboxes", &admin, None, None).await?;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert!(!list.to_string().contains(SECRET));
    let (st, tag, one) = call(
        &app,
        Method::GET,
        &format!("/mailboxes/{id}"),
        &admin,
        None,
        None,
    )
    .await?;
    assert_eq!((st, tag.as_str()), (StatusCode::OK, "\"1\""));
    assert!(!one.to_string().contains(SECRET));
    assert_eq!(one["has_password"], true);
    // A change with the version read; the password stays unless it is given.
    let path = format!("/mailboxes/{id}");
    let (st, tag, changed) = call(
        &app,
        Method::PATCH,
        &path,
        &admin,
        Some("\"1\""),
        Some(json!({"name": "Desk", "max_tasks_per_day": 5, "imap_password": ""})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{changed}");
    assert_eq!(tag, "\"2\"");
    assert_eq!(
        (
            text(&changed["name"]),
            changed["max_tasks_per_day"].as_i64()
        ),
        ("Desk".to_owned(), Some(5))
    );
    assert_eq!(changed["has_password"], true, "an empty password keeps it");
    let kept = admin::mailbox_for(&app.core, &id)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert_eq!(kept.imap.password.as_deref(), Some(SECRET));
    // A stale version changes nothing.
    let body = refused_patch(&app, &path, "\"1\"", json!({"name": "Stale"})).await?;
    assert_eq!(body["status"], 412);
    let (_, _, now) = call(&app, Method::GET, &path, &admin, None, None).await?;
    assert_eq!(now["name"], "Desk");
    // An unreadable If-Match is a bad request.
    let resp = app
        .http
        .patch(app.api(&path))
        .header("authorization", bearer(&admin))
        .header("if-match", "soon")
        .json(&json!({"name": "X"}))
        .send()
        .await?;
    problem(resp, StatusCode::BAD_REQUEST, "invalid_header").await?;
    // `null` removes the password.
    let (st, _, cleared) = call(
        &app,
        Method::PATCH,
        &path,
        &admin,
        None,
        Some(json!({"imap_password": null})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{cleared}");
    assert_eq!(cleared["has_password"], false);
    // Deleted, it is gone.
    let (st, _, _) = call(&app, Method::DELETE, &path, &admin, None, None).await?;
    assert_eq!(st, StatusCode::NO_CONTENT);
    refused(
        &app,
        Method::GET,
        &path,
        None,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await?;
    refused(
        &app,
        Method::DELETE,
        &path,
        None,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await?;
    refused(
        &app,
        Method::GET,
        "/mailboxes/not-an-id",
        None,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await?;
    Ok(())
}

async fn refused_patch(
    app: &TestApp,
    path: &str,
    if_match: &str,
    body: Value,
) -> anyhow::Result<Value> {
    let resp = app
        .http
        .patch(app.api(path))
        .header("authorization", bearer(&app.admin_token))
        .header("if-match", if_match)
        .json(&body)
        .send()
        .await?;
    problem(resp, StatusCode::PRECONDITION_FAILED, "precondition_failed").await
}

async fn mailbox_fields_are_checked(app: TestApp) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    post(
        &app,
        "/mailboxes",
        &admin,
        json!({"name": "Desk", "address": "desk@example.com"}),
    )
    .await?;
    let bad = StatusCode::UNPROCESSABLE_ENTITY;
    for (body, field, code) in [
        (
            json!({"name": "A", "address": "not an address"}),
            "address",
            "validation_failed",
        ),
        (json!({"name": "A"}), "address", "validation_failed"),
        (
            json!({"address": "a@example.com"}),
            "name",
            "validation_failed",
        ),
        (
            json!({"name": "A", "address": "a@example.com", "kind": "request"}),
            "catalog_item",
            "validation_failed",
        ),
        (
            json!({"name": "A", "address": "a@example.com", "kind": "request", "catalog_item": "No such item"}),
            "catalog_item",
            "validation_failed",
        ),
        (
            json!({"name": "A", "address": "a@example.com", "kind": "problem"}),
            "kind",
            "validation_failed",
        ),
        (
            json!({"name": "A", "address": "a@example.com", "imap_host": "imap.example.com", "imap_username": "a", "imap_port": 70000}),
            "imap_port",
            "validation_failed",
        ),
        (
            json!({"name": "A", "address": "a@example.com", "imap_port": 0}),
            "imap_port",
            "validation_failed",
        ),
        (
            json!({"name": "A", "address": "a@example.com", "imap_host": "imap.example.com"}),
            "imap_username",
            "validation_failed",
        ),
        (
            json!({"name": "A", "address": "a@example.com", "poll_secs": 1}),
            "poll_secs",
            "validation_failed",
        ),
        (
            json!({"name": "A", "address": "a@example.com", "group": "No such group"}),
            "group",
            "validation_failed",
        ),
        // Taken: the address in another case, the name.
        (
            json!({"name": "B", "address": "DESK@example.com"}),
            "address",
            "validation_failed",
        ),
        (
            json!({"name": "Desk", "address": "b@example.com"}),
            "name",
            "validation_failed",
        ),
        // Wrong types and unknown fields.
        (
            json!({"name": "A", "address": "a@example.com", "max_bytes": "big"}),
            "max_bytes",
            "validation_failed",
        ),
        (
            json!({"name": "A", "address": "a@example.com", "active": 1}),
            "active",
            "validation_failed",
        ),
        (
            json!({"name": "A", "address": "a@example.com", "password": "x"}),
            "password",
            "validation_failed",
        ),
    ] {
        refused(
            &app,
            Method::POST,
            "/mailboxes",
            Some(body),
            bad,
            code,
            Some(field),
        )
        .await?;
    }
    let taken = refused(
        &app,
        Method::POST,
        "/mailboxes",
        Some(json!({"name": "B", "address": "desk@example.com"})),
        bad,
        "validation_failed",
        Some("address"),
    )
    .await?;
    assert_eq!(taken["errors"][0]["code"], "taken", "{taken}");
    // A number too large for any field is refused as such.
    let resp = app
        .http
        .post(app.api("/mailboxes"))
        .header("authorization", bearer(&admin))
        .header("content-type", "application/json")
        .body(r#"{"name": "A", "address": "a@example.com", "imap_port": 99999999999999999999}"#)
        .send()
        .await?;
    problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    // A request mailbox names its catalogue item.
    let offering = crate::requests::catalogue_offering(&app, "Workplace").await?;
    post(
        &app,
        "/catalog/items",
        &admin,
        json!({"name": "Laptop", "service_offering": offering, "short_description": "A laptop"}),
    )
    .await?;
    let req = post(
        &app,
        "/mailboxes",
        &admin,
        json!({"name": "Orders", "address": "orders@example.com", "kind": "request", "catalog_item": "Laptop"}),
    )
    .await?;
    assert_eq!(req["kind"], "request");
    assert!(req["catalog_item"]["id"].is_string(), "{req}");
    // Malformed bodies are refused before anything is read.
    let resp = app
        .http
        .post(app.api("/mailboxes"))
        .header("authorization", bearer(&admin))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await?;
    problem(resp, StatusCode::BAD_REQUEST, "malformed_json").await?;
    let resp = app
        .http
        .post(app.api("/mailboxes"))
        .header("authorization", bearer(&admin))
        .header("content-type", "text/plain")
        .body("name=A")
        .send()
        .await?;
    problem(
        resp,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    )
    .await?;
    refused(
        &app,
        Method::POST,
        "/mailboxes",
        Some(json!(["A", "a@example.com"])),
        bad,
        "validation_failed",
        None,
    )
    .await?;
    // Nothing was made by the refusals.
    let list = get(&app, "/mailboxes", &admin).await?;
    assert_eq!(list.as_array().map(Vec::len), Some(2), "{list}");
    Ok(())
}

async fn only_administrators_reach_the_mail_settings(app: TestApp) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    let m = post(
        &app,
        "/mailboxes",
        &admin,
        json!({"name": "Desk", "address": "desk@example.com"}),
    )
    .await?;
    let id = text(&m["id"]);
    let (_, agent) = app.person("agus", &["agent", "manager"], None).await?;
    let (_, requester) = app.person("rina", &["requester"], None).await?;
    let mailbox = format!("/mailboxes/{id}");
    let asks: Vec<(Method, &str, Option<Value>)> = vec![
        (Method::GET, "/mailboxes", None),
        (
            Method::POST,
            "/mailboxes",
            Some(json!({"name": "X", "address": "x@example.com"})),
        ),
        (Method::GET, mailbox.as_str(), None),
        (
            Method::PATCH,
            mailbox.as_str(),
            Some(json!({"name": "Mine"})),
        ),
        (Method::DELETE, mailbox.as_str(), None),
        (Method::GET, "/mail/outbound", None),
        (
            Method::PUT,
            "/mail/outbound",
            Some(json!({"host": "smtp.evil.example"})),
        ),
        (Method::GET, "/mail/templates", None),
        (
            Method::PUT,
            "/mail/templates/acknowledge/en",
            Some(json!({"subject": "s", "body": "b"})),
        ),
        (Method::DELETE, "/mail/templates/acknowledge/en", None),
        (Method::GET, "/mail/messages", None),
        (Method::GET, "/mail/counts", None),
    ];
    for token in [&agent, &requester] {
        for (method, path, body) in &asks {
            let (st, _, v) = call(&app, method.clone(), path, token, None, body.clone()).await?;
            assert_eq!(st, StatusCode::FORBIDDEN, "{method} {path}: {v}");
            assert_eq!(v["code"], "forbidden", "{v}");
        }
    }
    // Without a token: 401.
    let resp = app.http.get(app.api("/mailboxes")).send().await?;
    problem(resp, StatusCode::UNAUTHORIZED, "unauthenticated").await?;
    // Nothing changed.
    let again = get(&app, &mailbox, &admin).await?;
    assert_eq!(again["name"], "Desk");
    assert_eq!(again["version"], 1);
    // A requester does not see an incident's mail either.
    let (st, _, _) = call(
        &app,
        Method::GET,
        "/incidents/INC0000001/mail",
        &requester,
        None,
        None,
    )
    .await?;
    assert!(
        st == StatusCode::FORBIDDEN || st == StatusCode::NOT_FOUND,
        "{st}"
    );
    // A read-only administrator's token reads, and does not write.
    let admin_person =
        sigap_core::people::get(&app.core, &sigap_core::Ctx::system("test"), "admin")
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let read_only = sigap_testkit::token_for(&app.core, &admin_person, "read").await?;
    let (st, _, _) = call(&app, Method::GET, "/mailboxes", &read_only, None, None).await?;
    assert_eq!(st, StatusCode::OK);
    let (st, _, v) = call(
        &app,
        Method::PATCH,
        &mailbox,
        &read_only,
        None,
        Some(json!({"name": "Read only"})),
    )
    .await?;
    assert_eq!(st, StatusCode::FORBIDDEN, "{v}");
    Ok(())
}

const SMTP_SECRET: &str = "smtp-Secret-42";

async fn the_outbound_server_keeps_its_password_to_itself(app: TestApp) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    let (st, tag, o) = call(&app, Method::GET, "/mail/outbound", &admin, None, None).await?;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (
            o["enabled"].as_bool(),
            o["has_password"].as_bool(),
            o["port"].as_i64()
        ),
        (Some(false), Some(false), Some(587)),
        "{o}"
    );
    // Enabled without a server or a sender: refused, naming both.
    let p = refused(
        &app,
        Method::PUT,
        "/mail/outbound",
        Some(json!({"enabled": true})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("host"),
    )
    .await?;
    assert!(p.to_string().contains("from_address"), "{p}");
    for (body, field) in [
        (json!({"port": 0}), "port"),
        (json!({"port": 65536}), "port"),
        (json!({"security": "ssl"}), "security"),
        (json!({"from_address": "nobody"}), "from_address"),
        (json!({"port": "25"}), "port"),
        (json!({"pasword": "typo"}), "pasword"),
    ] {
        refused(
            &app,
            Method::PUT,
            "/mail/outbound",
            Some(body),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some(field),
        )
        .await?;
    }
    let (st, tag2, set) = call(
        &app,
        Method::PUT,
        "/mail/outbound",
        &admin,
        Some(&tag),
        Some(json!({
            "enabled": true, "host": "smtp.example.com", "port": 465, "security": "tls",
            "username": "sigap", "password": SMTP_SECRET,
            "from_address": "ServiceDesk@example.com", "from_name": "Service Desk",
        })),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{set}");
    assert_ne!(tag, tag2);
    assert!(!set.to_string().contains(SMTP_SECRET), "{set}");
    assert!(set.get("password").is_none(), "{set}");
    assert_eq!(
        (
            set["enabled"].as_bool(),
            text(&set["host"]),
            set["port"].as_i64(),
            set["has_password"].as_bool(),
            text(&set["from_address"])
        ),
        (
            Some(true),
            "smtp.example.com".to_owned(),
            Some(465),
            Some(true),
            "servicedesk@example.com".to_owned()
        )
    );
    let kept = admin::outbound_settings(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert_eq!(kept.password, SMTP_SECRET);
    // The version read before is stale now.
    let resp = app
        .http
        .put(app.api("/mail/outbound"))
        .header("authorization", bearer(&admin))
        .header("if-match", &tag)
        .json(&json!({"enabled": false}))
        .send()
        .await?;
    problem(resp, StatusCode::PRECONDITION_FAILED, "precondition_failed").await?;
    let again = get(&app, "/mail/outbound", &admin).await?;
    assert_eq!(again["enabled"], true);
    assert!(!again.to_string().contains(SMTP_SECRET));
    // Fields left out keep their values; `null` removes the password.
    let (st, _, off) = call(
        &app,
        Method::PUT,
        "/mail/outbound",
        &admin,
        Some(&tag2),
        Some(json!({"password": null, "enabled": false})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{off}");
    assert_eq!(
        (off["has_password"].as_bool(), text(&off["host"])),
        (Some(false), "smtp.example.com".to_owned())
    );
    Ok(())
}

async fn templates_are_replaced_checked_and_reset(app: TestApp) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    let all = get(&app, "/mail/templates", &admin).await?;
    let all = all.as_array().cloned().unwrap_or_default();
    assert_eq!(
        all.len(),
        admin::TEMPLATE_KINDS.len() * 2,
        "every kind, en and id"
    );
    assert!(all.iter().all(|t| t["customized"] == false));
    let (st, _, t) = call(
        &app,
        Method::PUT,
        "/mail/templates/acknowledge/id",
        &admin,
        None,
        Some(json!({"subject": "[{{ number }}] Diterima: {{ title }}", "body": "Halo {{ recipient_name }},\n\nTerima kasih.\n"})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{t}");
    assert_eq!(
        (
            t["customized"].as_bool(),
            text(&t["kind"]),
            text(&t["locale"]),
            text(&t["updated_by"]).is_empty()
        ),
        (Some(true), "acknowledge".to_owned(), "id".to_owned(), false),
        "{t}"
    );
    let all = get(&app, "/mail/templates", &admin).await?;
    let custom: Vec<&Value> = all
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["customized"] == true)
        .collect();
    assert_eq!(custom.len(), 1, "{all}");
    assert_eq!(custom[0]["locale"], "id");
    assert!(text(&custom[0]["subject"]).contains("Diterima"));
    let kept = admin::template_for(&app.core, "acknowledge", "id")
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert!(kept.is_some_and(|t| t.body.contains("Terima kasih")));
    // A template that does not render is refused with its field; the kept one stays.
    let p = refused(
        &app,
        Method::PUT,
        "/mail/templates/acknowledge/id",
        Some(json!({"subject": "Fine", "body": "Hello {% if %}"})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("body"),
    )
    .await?;
    assert!(
        p["errors"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["code"] == "invalid_template")),
        "{p}"
    );
    refused(
        &app,
        Method::PUT,
        "/mail/templates/notification/en",
        Some(json!({"subject": "{{ number ", "body": "ok"})),
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
        Some("subject"),
    )
    .await?;
    for (body, field) in [
        (json!({"subject": "", "body": "b"}), "subject"),
        (json!({"subject": "s", "body": "  "}), "body"),
        (json!({"subject": "s"}), "body"),
        (json!({"subject": 1, "body": "b"}), "subject"),
    ] {
        refused(
            &app,
            Method::PUT,
            "/mail/templates/acknowledge/en",
            Some(body),
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some(field),
        )
        .await?;
    }
    let still = admin::template_for(&app.core, "acknowledge", "id")
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert!(still.is_some_and(|t| t.subject.contains("Diterima")));
    assert!(
        admin::template_for(&app.core, "notification", "en")
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?
            .is_none()
    );
    // Unknown kinds and languages name no template.
    for path in [
        "/mail/templates/welcome/en",
        "/mail/templates/acknowledge/fr",
        "/mail/templates/acknowledge/EN",
    ] {
        refused(
            &app,
            Method::PUT,
            path,
            Some(json!({"subject": "s", "body": "b"})),
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        )
        .await?;
    }
    // Back to the built-in wording, once.
    let (st, _, _) = call(
        &app,
        Method::DELETE,
        "/mail/templates/acknowledge/id",
        &admin,
        None,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::NO_CONTENT);
    refused(
        &app,
        Method::DELETE,
        "/mail/templates/acknowledge/id",
        None,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await?;
    let all = get(&app, "/mail/templates", &admin).await?;
    assert!(
        all.as_array()
            .is_some_and(|a| a.iter().all(|t| t["customized"] == false)),
        "{all}"
    );
    Ok(())
}

/// Keeps an unreadable message in a mailbox: it goes to the quarantine at once.
async fn quarantined(app: &TestApp, mailbox: &str, raw: &[u8]) -> anyhow::Result<String> {
    let m = admin::mailbox_for(&app.core, mailbox)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let kept = inbound::keep(&app.core, &m, raw, &Err(Unreadable::Empty), Source::Pipe)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    match kept {
        Keeping::New(id) => Ok(id.to_string()),
        Keeping::Again(m) => anyhow::bail!("kept before: {m:?}"),
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|m| text(&m["id"]))
        .collect()
}

async fn the_quarantine_is_listed_retried_and_discarded(app: TestApp) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    let mb = post(
        &app,
        "/mailboxes",
        &admin,
        json!({"name": "Desk", "address": "desk@example.com"}),
    )
    .await?;
    let mailbox = text(&mb["id"]);
    let mut kept = Vec::new();
    for i in 0..3 {
        kept.push(quarantined(&app, &mailbox, format!("garbage {i}").as_bytes()).await?);
        app.clock.advance(jiff::SignedDuration::from_secs(60));
    }
    let middle_time = {
        let m = get(&app, &format!("/mail/messages/{}", kept[1]), &admin).await?;
        text(&m["created_at"])
    };
    // Newest first, in pages.
    let page = get(&app, "/mail/messages?state=quarantined&limit=2", &admin).await?;
    assert_eq!(ids(&page), vec![kept[2].clone(), kept[1].clone()], "{page}");
    let cursor = text(&page["next_cursor"]);
    assert!(!cursor.is_empty(), "{page}");
    let next = get(
        &app,
        &format!("/mail/messages?state=quarantined&limit=2&cursor={cursor}"),
        &admin,
    )
    .await?;
    assert_eq!(ids(&next), vec![kept[0].clone()], "{next}");
    assert!(next["next_cursor"].is_null(), "{next}");
    // The filters.
    let first = &page["items"][0];
    assert_eq!(
        (
            text(&first["state"]),
            text(&first["reason"]),
            text(&first["direction"]),
            text(&first["mailbox"]),
            text(&first["source"])
        ),
        (
            "quarantined".to_owned(),
            "empty".to_owned(),
            "in".to_owned(),
            mailbox.clone(),
            "pipe".to_owned()
        ),
        "{first}"
    );
    let before = get(
        &app,
        &format!("/mail/messages?before={}", middle_time.replace('+', "%2B")),
        &admin,
    )
    .await?;
    assert_eq!(ids(&before), vec![kept[0].clone()], "{before}");
    let outgoing = get(&app, "/mail/messages?direction=out", &admin).await?;
    assert_eq!(ids(&outgoing), Vec::<String>::new());
    let elsewhere = get(
        &app,
        &format!("/mail/messages?mailbox={}", uuid::Uuid::nil()),
        &admin,
    )
    .await?;
    assert_eq!(ids(&elsewhere), Vec::<String>::new());
    let here = get(
        &app,
        &format!("/mail/messages?mailbox={mailbox}&direction=in"),
        &admin,
    )
    .await?;
    assert_eq!(ids(&here).len(), 3);
    for (query, field) in [
        ("state=lost", "state"),
        ("state=", "state"),
        ("direction=sideways", "direction"),
        ("mailbox=desk", "mailbox"),
        ("before=yesterday", "before"),
        ("cursor=abc", "cursor"),
        ("cursor=1_zz", "cursor"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=x", "limit"),
    ] {
        refused(
            &app,
            Method::GET,
            &format!("/mail/messages?{query}"),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            Some(field),
        )
        .await?;
    }
    let counts = get(&app, "/mail/counts", &admin).await?;
    assert_eq!(counts["quarantined"], 3, "{counts}");
    // The raw message, as a download.
    let resp = app
        .http
        .get(app.api(&format!("/mail/messages/{}/raw", kept[1])))
        .header("authorization", bearer(&admin))
        .send()
        .await?;
    assert_eq!(resp.status(), StatusCode::OK);
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    assert_eq!(header("content-type"), "message/rfc822");
    assert_eq!(
        header("content-disposition"),
        format!("attachment; filename=\"{}.eml\"", kept[1])
    );
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(resp.bytes().await?.as_ref(), b"garbage 1");
    refused(
        &app,
        Method::GET,
        &format!("/mail/messages/{}/raw", uuid::Uuid::nil()),
        None,
        StatusCode::NOT_FOUND,
        "not_found",
        None,
    )
    .await?;
    // Retried: received again, with a job to process it.
    let jobs_before = sigap_core::jobs::counts(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let (st, _, retried) = call(
        &app,
        Method::POST,
        &format!("/mail/messages/{}/retry", kept[0]),
        &admin,
        None,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{retried}");
    assert_eq!(retried["state"], "received", "{retried}");
    let jobs_after = sigap_core::jobs::counts(&app.core)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    assert_eq!(
        jobs_after.queued,
        jobs_before.queued + 1,
        "a job to process it"
    );
    let m = get(&app, &format!("/mail/messages/{}", kept[0]), &admin).await?;
    assert_eq!(m["state"], "received");
    // A received message is not in the quarantine: neither retried nor discarded.
    for action in ["retry", "discard"] {
        refused(
            &app,
            Method::POST,
            &format!("/mail/messages/{}/{action}", kept[0]),
            None,
            StatusCode::CONFLICT,
            "not_quarantined",
            None,
        )
        .await?;
    }
    // Discarded: kept, done with; it may still be tried again.
    let (st, _, discarded) = call(
        &app,
        Method::POST,
        &format!("/mail/messages/{}/discard", kept[1]),
        &admin,
        None,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{discarded}");
    assert_eq!(
        (text(&discarded["state"]), text(&discarded["reason"])),
        ("discarded".to_owned(), "empty".to_owned())
    );
    refused(
        &app,
        Method::POST,
        &format!("/mail/messages/{}/discard", kept[1]),
        None,
        StatusCode::CONFLICT,
        "not_quarantined",
        None,
    )
    .await?;
    let quarantine = get(&app, "/mail/messages?state=quarantined", &admin).await?;
    assert_eq!(ids(&quarantine), vec![kept[2].clone()]);
    let counts = get(&app, "/mail/counts", &admin).await?;
    assert_eq!(counts["quarantined"], 1, "{counts}");
    let (st, _, again) = call(
        &app,
        Method::POST,
        &format!("/mail/messages/{}/retry", kept[1]),
        &admin,
        None,
        None,
    )
    .await?;
    assert_eq!(
        (st, text(&again["state"])),
        (StatusCode::OK, "received".to_owned())
    );
    for action in ["retry", "discard"] {
        refused(
            &app,
            Method::POST,
            &format!("/mail/messages/not-an-id/{action}"),
            None,
            StatusCode::NOT_FOUND,
            "not_found",
            None,
        )
        .await?;
    }
    // The mailbox deleted, its messages stay.
    let (st, _, _) = call(
        &app,
        Method::DELETE,
        &format!("/mailboxes/{mailbox}"),
        &admin,
        None,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let all = get(&app, "/mail/messages", &admin).await?;
    assert_eq!(ids(&all).len(), 3, "{all}");
    assert!(all["items"][0]["mailbox"].is_null(), "{all}");
    Ok(())
}

async fn an_incident_shows_the_mail_it_came_from(app: TestApp) -> anyhow::Result<()> {
    let admin = app.admin_token.clone();
    let (_, agent) = app.person("agus", &["agent"], None).await?;
    app.person("rina", &["requester"], None).await?;
    let mb = post(
        &app,
        "/mailboxes",
        &admin,
        json!({"name": "Desk", "address": "desk@example.com", "acknowledge": false}),
    )
    .await?;
    let mailbox = admin::mailbox_for(&app.core, &text(&mb["id"]))
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let raw = b"From: Test rina <rina@example.com>\r\nTo: desk@example.com\r\n\
Subject: The printer is jammed\r\nMessage-ID: <jam-1@example.com>\r\n\
Date: Mon, 1 Dec 2025 08:00:00 +0700\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
Paper is stuck in tray 2.\r\n";
    let parsed = sigap_mail::parse(raw);
    let id = match inbound::keep(&app.core, &mailbox, raw, &parsed, Source::Pipe)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?
    {
        Keeping::New(id) => id,
        Keeping::Again(m) => anyhow::bail!("kept before: {m:?}"),
    };
    let handled = inbound::process(&app.core, id, &parsed)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let number = match handled {
        inbound::Handled::Opened(n) => n,
        other => anyhow::bail!("the mail made no incident: {other:?}"),
    };
    let mail = get(&app, &format!("/incidents/{number}/mail"), &agent).await?;
    let list = mail.as_array().cloned().unwrap_or_default();
    assert_eq!(list.len(), 1, "{mail}");
    assert_eq!(
        (
            text(&list[0]["id"]),
            text(&list[0]["state"]),
            text(&list[0]["task"]["display"]),
            text(&list[0]["subject"]),
            text(&list[0]["message_id"])
        ),
        (
            id.to_string(),
            "processed".to_owned(),
            number.clone(),
            "The printer is jammed".to_owned(),
            "jam-1@example.com".to_owned()
        ),
        "{mail}"
    );
    // The administrators' list has it too, processed.
    let processed = get(&app, "/mail/messages?state=processed", &admin).await?;
    assert_eq!(ids(&processed), vec![id.to_string()]);
    // An incident without mail has none; an unknown one is not found.
    let other = post(
        &app,
        "/incidents",
        &agent,
        json!({"short_description": "Phoned in", "caller": "rina"}),
    )
    .await?;
    let none = get(
        &app,
        &format!("/incidents/{}/mail", text(&other["number"])),
        &agent,
    )
    .await?;
    assert_eq!(none, json!([]));
    let (st, _, _) = call(
        &app,
        Method::GET,
        "/incidents/INC9999999/mail",
        &agent,
        None,
        None,
    )
    .await?;
    assert_eq!(st, StatusCode::NOT_FOUND);
    Ok(())
}

async fn each_person_chooses_the_mail_they_get(app: TestApp) -> anyhow::Result<()> {
    let (_, rina) = app.person("rina", &["requester"], None).await?;
    let (_, agus) = app.person("agus", &["agent"], None).await?;
    let mine = get(&app, "/me/mail_preferences", &rina).await?;
    let map = mine.as_object().cloned().unwrap_or_default();
    assert_eq!(map.len(), admin::NOTIFICATION_KINDS.len(), "{mine}");
    assert!(map.values().all(|v| v == true), "every kind is on: {mine}");
    let (st, _, set) = call(
        &app,
        Method::PUT,
        "/me/mail_preferences",
        &rina,
        None,
        Some(json!({"incident_comment": false, "incident_resolved": false})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK, "{set}");
    assert_eq!(
        (
            set["incident_comment"].as_bool(),
            set["incident_resolved"].as_bool(),
            set["incident_closed"].as_bool()
        ),
        (Some(false), Some(false), Some(true)),
        "{set}"
    );
    // Turned on again, one kind.
    let (st, _, set) = call(
        &app,
        Method::PUT,
        "/me/mail_preferences",
        &rina,
        None,
        Some(json!({"incident_resolved": true})),
    )
    .await?;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(
        (
            set["incident_comment"].as_bool(),
            set["incident_resolved"].as_bool()
        ),
        (Some(false), Some(true))
    );
    // Each person their own.
    let theirs = get(&app, "/me/mail_preferences", &agus).await?;
    assert_eq!(theirs["incident_comment"], true);
    // An unknown kind is refused and nothing changes, nor does a value that is not true or false.
    let p = refused_as(
        &app,
        &rina,
        json!({"incident_comment": true, "lottery_won": false}),
        "lottery_won",
    )
    .await?;
    assert_eq!(p["errors"][0]["code"], "invalid_choice", "{p}");
    refused_as(
        &app,
        &rina,
        json!({"incident_comment": "yes"}),
        "incident_comment",
    )
    .await?;
    refused_as(
        &app,
        &rina,
        json!({"incident_comment": null}),
        "incident_comment",
    )
    .await?;
    let resp = app
        .http
        .put(app.api("/me/mail_preferences"))
        .header("authorization", bearer(&rina))
        .json(&json!([{"incident_comment": true}]))
        .send()
        .await?;
    problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    let after = get(&app, "/me/mail_preferences", &rina).await?;
    assert_eq!(after["incident_comment"], false, "{after}");
    // A read-only token reads them, and changes nothing.
    let person = sigap_core::people::get(&app.core, &sigap_core::Ctx::system("test"), "rina")
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    let read_only = sigap_testkit::token_for(&app.core, &person, "read").await?;
    let (st, _) = send(
        &app.http,
        Method::PUT,
        &app.api("/me/mail_preferences"),
        &read_only,
        Some(json!({"incident_comment": true})),
    )
    .await?;
    assert_eq!(st, StatusCode::FORBIDDEN);
    let after = get(&app, "/me/mail_preferences", &read_only).await?;
    assert_eq!(after["incident_comment"], false, "{after}");
    Ok(())
}

async fn refused_as(app: &TestApp, token: &str, body: Value, field: &str) -> anyhow::Result<Value> {
    let resp = app
        .http
        .put(app.api("/me/mail_preferences"))
        .header("authorization", bearer(token))
        .json(&body)
        .send()
        .await?;
    let p = problem(resp, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed").await?;
    anyhow::ensure!(
        p["errors"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["field"] == field)),
        "expected a refusal of {field}: {p}"
    );
    Ok(p)
}
