//! Your notifications.

use super::dto::{Time, ts};
use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiPath, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Serialize;
use sigap_core::model::Notification;
use sigap_core::notifications;
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct NotificationOut {
    pub id: Uuid,
    /// What happened, e.g. `service_review_due`.
    pub kind: String,
    /// The record it is about (e.g. the service's name).
    pub subject: String,
    /// Details (e.g. the review date).
    pub body: String,
    /// Where to look, a path in the UI.
    pub link: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub read_at: Option<Time>,
}

impl From<Notification> for NotificationOut {
    fn from(n: Notification) -> Self {
        Self {
            id: n.id.as_uuid(),
            kind: n.kind,
            subject: n.subject,
            body: n.body,
            link: n.link,
            created_at: ts(n.created_at),
            read_at: n.read_at.map(ts),
        }
    }
}

/// Your most recent notifications, unread first.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "me",
    responses((status = 200, body = Vec<NotificationOut>)))]
pub async fn my_notifications(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<NotificationOut>>> {
    let list = notifications::mine(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(NotificationOut::from).collect()))
}

/// Marks one of your notifications read.
#[utoipa::path(post, path = "/api/v1/me/notifications/{id}/read", tag = "me", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn read_notification(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    notifications::mark_read(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
