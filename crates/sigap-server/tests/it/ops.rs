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
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // A request whose body is still arriving when the shutdown begins: written by hand on a
    // connection made before anything else, so nothing here waits on a guess of how long the
    // server takes to accept it.
    let addr = app
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let body_start = br#"{"name": "Late"#;
    let body_end = br#" Arrival", "kind": "customer"}"#;
    let mut conn = tokio::net::TcpStream::connect(&addr).await?;
    let head = format!(
        "POST /api/v1/organizations HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer {}\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n\r\n",
        app.admin_token,
        body_start.len() + body_end.len()
    );
    conn.write_all(head.as_bytes()).await?;
    conn.write_all(body_start).await?;
    // A request on a later connection is answered: the server has accepted the first one
    // (the listener takes connections in the order they came) and begun its request.
    let probe = app.page("/healthz");
    assert_eq!(app.http.get(&probe).send().await?.status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let finish_body = async move {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        conn.write_all(body_end).await?;
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).await?;
        Ok::<_, anyhow::Error>(String::from_utf8_lossy(&answer).into_owned())
    };
    let (stopped, answer) = tokio::join!(app.stop(), finish_body);
    stopped?;
    let answer = answer?;
    assert!(
        answer.starts_with("HTTP/1.1 201"),
        "the request in flight finished: {answer}"
    );
    assert!(
        reqwest::get(probe).await.is_err(),
        "the server has stopped listening"
    );
    let org =
        sigap_core::orgs::get(&app.core, &sigap_core::Ctx::system("test"), "Late Arrival").await;
    assert!(org.is_ok(), "{org:?}");
    Ok(())
}
