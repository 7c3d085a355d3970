//! Health, readiness, the OpenAPI document and its browser.

use sigap_testkit::{TestApp, both};

both!(
    health_readiness_and_openapi,
    graceful_shutdown_lets_requests_finish
);

async fn health_readiness_and_openapi(app: TestApp) -> anyhow::Result<()> {
    let h = app.http.get(app.page("/healthz")).send().await?;
    assert_eq!(h.status(), 200);
    assert!(
        h.headers().get("x-request-id").is_some(),
        "every answer carries a request id"
    );
    let r: serde_json::Value = app
        .http
        .get(app.page("/readyz"))
        .send()
        .await?
        .json()
        .await?;
    assert_eq!(r["status"], "ready");
    let spec: serde_json::Value = app
        .http
        .get(app.page("/api/openapi.json"))
        .send()
        .await?
        .json()
        .await?;
    assert!(
        spec["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1"))
    );
    for path in [
        "/api/v1/people",
        "/api/v1/people/{key}",
        "/api/v1/groups/{key}/members",
        "/api/v1/me/tokens",
    ] {
        assert!(
            spec["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(spec["components"]["schemas"]["Problem"].is_object());
    assert_eq!(
        spec,
        serde_json::to_value(sigap_web::openapi())?,
        "served document = generated document"
    );
    let docs = app.http.get(app.page("/api/docs/")).send().await?;
    assert_eq!(docs.status(), 200);
    let html = docs.text().await?;
    assert!(html.contains("swagger"), "Swagger UI page");
    for attr in ["src=\"http", "href=\"http", "src='http", "href='http"] {
        assert!(
            !html.contains(attr),
            "the API browser loads something from elsewhere"
        );
    }
    // A given request id is kept.
    let h = app
        .http
        .get(app.page("/healthz"))
        .header("x-request-id", "trace-me-42")
        .send()
        .await?;
    assert_eq!(
        h.headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("trace-me-42")
    );
    Ok(())
}

async fn graceful_shutdown_lets_requests_finish(mut app: TestApp) -> anyhow::Result<()> {
    // A request whose body is still arriving when the shutdown begins.
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(4);
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    let request = app
        .http
        .post(app.api("/organizations"))
        .header("authorization", format!("Bearer {}", app.admin_token))
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(stream))
        .send();
    let in_flight = tokio::spawn(request);
    tx.send(Ok(br#"{"name": "Late"#.to_vec())).await?;
    // Give the server a moment to accept the connection and start reading.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let probe = app.page("/healthz");
    let finish_body = async move {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        tx.send(Ok(br#" Arrival", "kind": "customer"}"#.to_vec()))
            .await?;
        drop(tx);
        Ok::<_, anyhow::Error>(in_flight.await??)
    };
    let (stopped, resp) = tokio::join!(app.stop(), finish_body);
    stopped?;
    assert_eq!(resp?.status(), 201, "the request in flight finished");
    assert!(
        reqwest::get(probe).await.is_err(),
        "the server has stopped listening"
    );
    let org =
        sigap_core::orgs::get(&app.core, &sigap_core::Ctx::system("test"), "Late Arrival").await;
    assert!(org.is_ok(), "{org:?}");
    Ok(())
}
