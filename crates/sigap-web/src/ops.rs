//! Liveness and readiness.

use crate::AppState;
use crate::error::problem_response;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(state)
}

/// The process is up.
async fn healthz() -> &'static str {
    "ok"
}

/// The database answers and its schema is one this program serves on: its own, or a newer
/// program's that only expanded it. With read replicas, the body also says how each is
/// (`ok`, `lagging` or `down`, and how far behind); they do not make the node unready.
async fn readyz(State(state): State<AppState>) -> Response {
    if let Err(e) = state.core.store.ping().await {
        tracing::warn!(error = %e, "readiness: database unreachable");
        return problem_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unreachable".into(),
            "the database does not answer".into(),
            vec![],
        );
    }
    match state.core.store.schema_status().await {
        Ok(s) if s.serves() => {
            let mut body = serde_json::json!({
                "status": "ready",
                "schema_version": s.current,
                "schema_latest": s.latest,
                "schema": if s.current > s.latest { "ahead" } else { "current" },
            });
            // Read replicas lagging or down leave the node ready: its reads go to the primary.
            if state.core.store.has_replicas() {
                let replicas = state.core.store.replica_status().await;
                body["replicas"] = serde_json::to_value(replicas).unwrap_or_default();
            }
            Json(body).into_response()
        }
        Ok(s) if s.fit() == sigap_core::upgrade::Fit::TooNew => problem_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "schema_too_new".into(),
            format!(
                "the database schema (version {}) needs a Sigap that knows schema {} or later, \
                 and this one knows up to {}; upgrade this node",
                s.current, s.needs, s.latest
            ),
            vec![],
        ),
        Ok(s) => problem_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "schema_behind".into(),
            format!(
                "the database schema is at version {}, this program needs {}; run `sigap migrate`",
                s.current, s.latest
            ),
            vec![],
        ),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: schema status");
            problem_response(
                StatusCode::SERVICE_UNAVAILABLE,
                "database_unreachable".into(),
                "the database does not answer".into(),
                vec![],
            )
        }
    }
}
