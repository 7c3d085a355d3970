//! Maintenance windows set by hand over HTTP: while one is on, the alerts of its CI or node
//! are held back (kept, saying why, opening no incident). Managers set, end and remove them;
//! agents read them.

use super::dto::{Ref, Time, ts};
use crate::AppState;
use crate::error::{ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sigap_core::FieldError;
use sigap_core::events::{self, Window, WindowInput, WindowState};
use utoipa::ToSchema;
use uuid::Uuid;

/// A maintenance window: the alerts of its CI, or of its node, are held back while it is on.
#[derive(Debug, Serialize, ToSchema)]
pub struct EventWindowOut {
    pub id: Uuid,
    /// The CI whose alerts it holds back.
    pub configuration_item: Option<Ref>,
    /// The node (as events name it, in lower case) whose alerts it holds back.
    pub node: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Time,
    /// What a held-back alert says.
    pub reason: String,
    /// upcoming, in_progress or ended (now).
    pub state: String,
    /// Who set it.
    pub created_by: Option<Ref>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
}

fn out(w: Window, now: jiff::Timestamp) -> EventWindowOut {
    let state = WindowState::of(&w.window, now).code().to_owned();
    let m = w.window;
    EventWindowOut {
        id: m.id.as_uuid(),
        configuration_item: m.ci_id.map(|c| Ref {
            id: c.as_uuid(),
            display: m.ci_name.unwrap_or_default(),
        }),
        node: m.node,
        starts_at: ts(m.starts_at),
        ends_at: ts(m.ends_at),
        reason: m.reason,
        state,
        created_by: m.created_by.map(|p| Ref {
            id: p.as_uuid(),
            display: w.created_by_name.unwrap_or_default(),
        }),
        created_at: ts(m.created_at),
    }
}

/// A new maintenance window: a CI, a node, or both.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EventWindowIn {
    /// A CI: its id, `class/name`, or its name (when one CI not retired has it).
    #[schema(max_length = 300)]
    pub configuration_item: Option<String>,
    /// A node as events name it (case does not matter).
    #[schema(max_length = 255)]
    pub node: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// RFC 3339; after the start and after now, at most 366 days after the start.
    #[schema(format = DateTime)]
    pub ends_at: String,
    /// What an alert held back says.
    #[schema(min_length = 1, max_length = 500)]
    pub reason: String,
}

fn instant(field: &str, text: &str, errs: &mut Vec<FieldError>) -> Option<jiff::Timestamp> {
    match text.trim().parse::<jiff::Timestamp>() {
        Ok(t) => Some(t),
        Err(_) => {
            errs.push(FieldError::new(
                field,
                "invalid_time",
                "an RFC 3339 time, such as 2026-12-04T22:00:00Z",
            ));
            None
        }
    }
}

/// Which windows to list.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventWindowQuery {
    /// Also those that ended in the last 30 days (at most 200, those ended last first).
    #[serde(default, deserialize_with = "crate::api::params::flag")]
    pub ended: Option<bool>,
}

/// Maintenance windows not ended (going on, then those to come, soonest first), and with
/// `ended=true` those ended in the last 30 days after them (agents).
#[utoipa::path(get, path = "/api/v1/event_maintenance_windows", tag = "events",
    params(EventWindowQuery),
    responses((status = 200, body = Vec<EventWindowOut>),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn list_windows(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<EventWindowQuery>,
) -> ApiResult<Json<Vec<EventWindowOut>>> {
    let list = events::windows(&s.core, &ctx, q.ended.unwrap_or(false)).await?;
    let now = s.core.now();
    Ok(Json(list.into_iter().map(|w| out(w, now)).collect()))
}

/// Sets a maintenance window on a CI, a node, or both (managers). From its start to its end,
/// a new alert of the CI or node, and a firing event of one going on, is held back: kept and
/// counted, saying why (`maintenance`: the reason), opening no incident.
#[utoipa::path(post, path = "/api/v1/event_maintenance_windows", tag = "events",
    request_body = EventWindowIn,
    responses((status = 201, body = EventWindowOut, headers(("Location" = String))),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn create_window(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(b): ApiJson<EventWindowIn>,
) -> ApiResult<Response> {
    let mut unparsed = Vec::new();
    let starts_at = instant("starts_at", &b.starts_at, &mut unparsed);
    let ends_at = instant("ends_at", &b.ends_at, &mut unparsed);
    let input = WindowInput {
        ci: b.configuration_item,
        node: b.node,
        starts_at,
        ends_at,
        reason: b.reason,
        unparsed,
    };
    let w = events::create_window(&s.core, &ctx, input).await?;
    let location = format!("/api/v1/event_maintenance_windows/{}", w.window.id);
    let body = out(w, s.core.now());
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(body),
    )
        .into_response())
}

/// A maintenance window by id (agents).
#[utoipa::path(get, path = "/api/v1/event_maintenance_windows/{id}", tag = "events",
    params(("id" = String, Path)),
    responses((status = 200, body = EventWindowOut),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_window(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<EventWindowOut>> {
    let w = events::window(&s.core, &ctx, &id).await?;
    Ok(Json(out(w, s.core.now())))
}

/// Removes a maintenance window (managers); its alerts are no longer held back from their
/// next event on.
#[utoipa::path(delete, path = "/api/v1/event_maintenance_windows/{id}", tag = "events",
    params(("id" = String, Path)),
    responses((status = 204),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn delete_window(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    events::remove_window(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Ends a maintenance window going on, now (managers): it stays on the list of those ended.
/// One not begun or ended already is a conflict (`not_in_progress`).
#[utoipa::path(post, path = "/api/v1/event_maintenance_windows/{id}/end", tag = "events",
    params(("id" = String, Path)),
    responses((status = 200, body = EventWindowOut),
              (status = 403, body = ProblemJson, content_type = "application/problem+json"),
              (status = 404, body = ProblemJson, content_type = "application/problem+json"),
              (status = 409, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn end_window(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<EventWindowOut>> {
    let w = events::end_window(&s.core, &ctx, &id).await?;
    Ok(Json(out(w, s.core.now())))
}
