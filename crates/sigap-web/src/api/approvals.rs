//! Approvals over HTTP: what waits on the caller (and on those who delegated to them), one
//! approval with what it decides, the decision with its comment, and the caller's
//! delegations while away.

use super::dto::{Ref, Time, ts};
use crate::AppState;
use crate::error::{ApiResult, Problem as ProblemJson};
use crate::extract::{ApiJson, ApiPath, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use sigap_core::approvals::{self, ApprovalRecord, DelegationRecord};
use utoipa::ToSchema;
use uuid::Uuid;

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalOut {
    pub id: Uuid,
    /// The task it decides (a requested item…).
    pub task: Ref,
    pub task_number: String,
    /// The stage of the task's rule, from 0.
    pub stage: i64,
    pub approver: Ref,
    /// The group the approver was asked for.
    pub group: Option<Ref>,
    /// requested, approved, rejected or not_required.
    pub state: String,
    #[schema(value_type = String, format = DateTime)]
    pub asked_at: Time,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<Time>,
    /// Who decided: the approver or their delegate.
    pub decided_by: Option<Ref>,
    pub comment: String,
}

impl From<ApprovalRecord> for ApprovalOut {
    fn from(a: ApprovalRecord) -> Self {
        Self {
            id: a.id.as_uuid(),
            task: Ref {
                id: a.task_id.as_uuid(),
                display: a.task_title,
            },
            task_number: a.task_number,
            stage: a.stage,
            approver: Ref {
                id: a.approver.id.as_uuid(),
                display: a.approver.name,
            },
            group: a.group.map(|(id, name)| Ref {
                id: id.as_uuid(),
                display: name,
            }),
            state: a.state.code().into(),
            asked_at: ts(a.asked_at),
            decided_at: a.decided_at.map(ts),
            decided_by: super::task::person(a.decided_by),
            comment: a.comment,
        }
    }
}

/// What waits on you: approvals asked of you, and of those who delegated to you now,
/// oldest first.
#[utoipa::path(get, path = "/api/v1/approvals", tag = "approvals",
    responses((status = 200, body = Vec<ApprovalOut>)))]
pub async fn my_approvals(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<ApprovalOut>>> {
    let list = approvals::mine(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// An approval with the requested item it decides: what was ordered, for whom, and the
/// answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalDetailOut {
    #[serde(flatten)]
    pub approval: ApprovalOut,
    /// The requested item it decides, with the answers as ordered.
    pub item: Option<super::requests::RequestItemOut>,
    pub answers: Vec<super::requests::AnswerOut>,
    /// The change it decides.
    pub change: Option<super::changes::ChangeOut>,
    /// Every approval of the task, by stage.
    pub approvals: Vec<ApprovalOut>,
}

/// One approval (its approver, their delegate, who decided it, and the desk), with the
/// requested item or change it decides.
#[utoipa::path(get, path = "/api/v1/approvals/{id}", tag = "approvals", params(("id" = String, Path)),
    responses((status = 200, body = ApprovalDetailOut), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn get_approval(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<ApprovalDetailOut>> {
    match sigap_core::requests::for_approver(&s.core, &ctx, &id).await {
        Ok((a, d)) => Ok(Json(ApprovalDetailOut {
            approval: a.into(),
            answers: super::requests::answers_out(&d),
            approvals: d.approvals.into_iter().map(Into::into).collect(),
            item: Some(d.item.into()),
            change: None,
        })),
        Err(sigap_core::AppError::NotFound) => {
            let (a, c, all) = sigap_core::changes::for_approver(&s.core, &ctx, &id).await?;
            Ok(Json(ApprovalDetailOut {
                approval: a.into(),
                answers: Vec::new(),
                approvals: all.into_iter().map(Into::into).collect(),
                item: None,
                change: Some(c.into()),
            }))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DecisionIn {
    /// Why; required to reject.
    #[serde(default)]
    pub comment: String,
}

/// Approves or rejects (`decision` is `approve` or `reject`) an approval asked of you or
/// of someone who delegated to you. A stage settled moves the item on: the next stage is
/// asked, or the item is fulfilled, or rejected with its pending work canceled.
#[utoipa::path(post, path = "/api/v1/approvals/{id}/{decision}", tag = "approvals", request_body = DecisionIn,
    params(("id" = String, Path), ("decision" = String, Path)),
    responses((status = 200, body = ApprovalOut), (status = 409, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn decide(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath((id, decision)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<DecisionIn>,
) -> ApiResult<Json<ApprovalOut>> {
    let approve = match decision.as_str() {
        "approve" => true,
        "reject" => false,
        _ => return Err(sigap_core::AppError::NotFound.into()),
    };
    let a = approvals::decide(&s.core, &ctx, &id, approve, &body.comment).await?;
    Ok(Json(a.into()))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DelegationOut {
    pub id: Uuid,
    pub from: Ref,
    pub to: Ref,
    #[schema(value_type = String, format = DateTime)]
    pub starts: Time,
    #[schema(value_type = String, format = DateTime)]
    pub ends: Time,
}

impl From<DelegationRecord> for DelegationOut {
    fn from(d: DelegationRecord) -> Self {
        Self {
            id: d.id.as_uuid(),
            from: Ref {
                id: d.from.id.as_uuid(),
                display: d.from.name,
            },
            to: Ref {
                id: d.to.id.as_uuid(),
                display: d.to.name,
            },
            starts: ts(d.starts),
            ends: ts(d.ends),
        }
    }
}

/// Your delegations not yet ended, given and received.
#[utoipa::path(get, path = "/api/v1/approval_delegations", tag = "approvals",
    responses((status = 200, body = Vec<DelegationOut>)))]
pub async fn my_delegations(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<DelegationOut>>> {
    let list = approvals::delegations(&s.core, &ctx).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DelegationIn {
    /// Who decides for you: id or login.
    pub to: String,
    /// RFC 3339.
    pub starts: String,
    pub ends: String,
}

/// Delegates your approvals to someone while you are away.
#[utoipa::path(post, path = "/api/v1/approval_delegations", tag = "approvals", request_body = DelegationIn,
    responses((status = 201, body = Vec<DelegationOut>), (status = 422, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn delegate(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<DelegationIn>,
) -> ApiResult<(StatusCode, Json<Vec<DelegationOut>>)> {
    let when = |field: &str, text: &str| {
        text.trim()
            .parse::<jiff::Timestamp>()
            .map_err(|_| sigap_core::AppError::field(field, "invalid_time", "an RFC 3339 time"))
    };
    let (starts, ends) = (when("starts", &body.starts)?, when("ends", &body.ends)?);
    approvals::delegate(&s.core, &ctx, &body.to, starts, ends).await?;
    let list = approvals::delegations(&s.core, &ctx).await?;
    Ok((
        StatusCode::CREATED,
        Json(list.into_iter().map(Into::into).collect()),
    ))
}

/// Ends a delegation you gave.
#[utoipa::path(delete, path = "/api/v1/approval_delegations/{id}", tag = "approvals", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ProblemJson, content_type = "application/problem+json")))]
pub async fn undelegate(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    approvals::undelegate(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
