//! A bare axum "hello world" for the benchmark baseline: `GET /` answers a small JSON record
//! shaped like a Sigap organization (a similar number of bytes), and `GET /bytes/{n}` a JSON
//! body of exactly `n` bytes (at most 16 MiB; the floor of a response that large), with no
//! authentication, no database and no middleware.
//!
//! Usage: `sigap-bench-hello 127.0.0.1:18081`

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::{Json, Router, routing::get};
use serde::Serialize;

#[derive(Serialize)]
struct Record {
    id: &'static str,
    name: &'static str,
    kind: &'static str,
    description: &'static str,
    active: bool,
    created_at: &'static str,
    updated_at: &'static str,
    version: i64,
}

async fn record() -> Json<Record> {
    Json(Record {
        id: "019a0000-0000-7000-8000-000000000000",
        name: "Bench Customer",
        kind: "customer",
        description: "",
        active: true,
        created_at: "2026-01-01T00:00:00.000000Z",
        updated_at: "2026-01-01T00:00:00.000000Z",
        version: 1,
    })
}

async fn bytes(Path(n): Path<usize>) -> impl IntoResponse {
    const MAX: usize = 16 << 20;
    if !(13..=MAX).contains(&n) {
        return (StatusCode::BAD_REQUEST, "13 to 16 MiB\n").into_response();
    }
    // {"items":"…"} with the string filling the rest.
    let body = format!("{{\"items\":\"{}\"}}", "x".repeat(n - 12));
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:18081".to_string());
    let app = Router::new()
        .route("/", get(record))
        .route("/bytes/{n}", get(bytes));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    println!("hello listening on {addr}");
    axum::serve(listener, app).await
}
