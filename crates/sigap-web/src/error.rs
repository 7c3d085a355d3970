//! The API's error edge: every failure becomes `application/problem+json` (RFC 9457) with a
//! stable `code`. 5xx causes go to the log, never to the client.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use sigap_core::{AppError, FieldError};
use utoipa::ToSchema;

/// A problem report.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem; `about:blank` when the status says it all.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    /// Stable, machine-readable code, e.g. `validation_failed`, `not_found`.
    pub code: String,
    pub detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<ProblemField>,
}

/// One refused field.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemField {
    pub field: String,
    pub code: String,
    pub message: String,
}

/// An error on its way to an API client.
#[derive(Debug)]
pub enum ApiError {
    App(AppError),
    /// The body is not JSON at all.
    MalformedJson(String),
    /// The body is JSON but not of the expected shape.
    InvalidBody(Vec<FieldError>),
    /// A query parameter is not of the type or choice the document gives it.
    InvalidQuery(Vec<FieldError>),
    PayloadTooLarge(usize),
    /// The body is not of the media type named.
    UnsupportedMediaType(&'static str),
    BadHeader(&'static str, String),
    MethodNotAllowed,
    RouteNotFound,
    Conflict(&'static str, String),
    Panicked,
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError::App(e)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

fn field_list(errors: &[FieldError]) -> Vec<ProblemField> {
    errors
        .iter()
        .map(|e| ProblemField {
            field: e.field.clone(),
            code: e.code.to_owned(),
            message: e.message.clone(),
        })
        .collect()
}

impl ApiError {
    /// The status, code and detail a client would get (for per-record results).
    pub fn summary(&self) -> (u16, String, String) {
        let (status, code, detail, errors) = self.parts();
        let detail = if errors.is_empty() {
            detail
        } else {
            let fields: Vec<String> = errors
                .iter()
                .map(|e| format!("{}: {}", e.field, e.message))
                .collect();
            format!("{detail} ({})", fields.join("; "))
        };
        (status.as_u16(), code, detail)
    }

    fn parts(&self) -> (StatusCode, String, String, Vec<ProblemField>) {
        use ApiError as E;
        match self {
            E::App(e) => match e {
                AppError::Unauthenticated => (
                    StatusCode::UNAUTHORIZED,
                    e.code().into(),
                    "sign in or send a valid API token".into(),
                    vec![],
                ),
                AppError::Forbidden => (
                    StatusCode::FORBIDDEN,
                    e.code().into(),
                    "you are not allowed to do this".into(),
                    vec![],
                ),
                AppError::NotFound => (
                    StatusCode::NOT_FOUND,
                    e.code().into(),
                    "no such record".into(),
                    vec![],
                ),
                AppError::Validation(errors) => (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    e.code().into(),
                    "some fields are invalid".into(),
                    field_list(errors),
                ),
                AppError::Conflict {
                    code,
                    message,
                    field,
                } => (
                    StatusCode::CONFLICT,
                    (*code).into(),
                    message.clone(),
                    field
                        .iter()
                        .map(|f| ProblemField {
                            field: f.clone(),
                            code: (*code).into(),
                            message: message.clone(),
                        })
                        .collect(),
                ),
                AppError::PreconditionFailed => (
                    StatusCode::PRECONDITION_FAILED,
                    e.code().into(),
                    "the record has changed since you read it (If-Match does not match its ETag)"
                        .into(),
                    vec![],
                ),
                AppError::RateLimited { retry_after_secs } => (
                    StatusCode::TOO_MANY_REQUESTS,
                    e.code().into(),
                    format!("too many attempts; try again in {retry_after_secs} seconds"),
                    vec![],
                ),
                AppError::BadCredentials => (
                    StatusCode::UNAUTHORIZED,
                    e.code().into(),
                    "wrong login or password".into(),
                    vec![],
                ),
                AppError::Unavailable(_) | AppError::Contention => (
                    StatusCode::SERVICE_UNAVAILABLE,
                    e.code().into(),
                    "the service is busy or unavailable; try again".into(),
                    vec![],
                ),
                AppError::Internal(_) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    e.code().into(),
                    "an internal error occurred".into(),
                    vec![],
                ),
            },
            E::MalformedJson(detail) => (
                StatusCode::BAD_REQUEST,
                "malformed_json".into(),
                detail.clone(),
                vec![],
            ),
            E::InvalidBody(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed".into(),
                "the body does not have the expected fields and types".into(),
                field_list(errors),
            ),
            E::InvalidQuery(errors) => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed".into(),
                "some query parameters are invalid".into(),
                field_list(errors),
            ),
            E::PayloadTooLarge(limit) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large".into(),
                format!("the body is larger than {limit} bytes"),
                vec![],
            ),
            E::UnsupportedMediaType(want) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type".into(),
                format!("send the body as {want}"),
                vec![],
            ),
            E::BadHeader(name, detail) => (
                StatusCode::BAD_REQUEST,
                "invalid_header".into(),
                format!("{name}: {detail}"),
                vec![ProblemField {
                    field: (*name).into(),
                    code: "invalid_header".into(),
                    message: detail.clone(),
                }],
            ),
            E::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed".into(),
                "this method is not allowed here".into(),
                vec![],
            ),
            E::RouteNotFound => (
                StatusCode::NOT_FOUND,
                "not_found".into(),
                "no such resource".into(),
                vec![],
            ),
            E::Conflict(code, detail) => {
                (StatusCode::CONFLICT, (*code).into(), detail.clone(), vec![])
            }
            E::Panicked => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error".into(),
                "an internal error occurred".into(),
                vec![],
            ),
        }
    }
}

/// Builds a problem response.
pub fn problem_response(
    status: StatusCode,
    code: String,
    detail: String,
    errors: Vec<ProblemField>,
) -> Response {
    let body = Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        code,
        detail,
        errors,
    };
    let json = serde_json::to_vec(&body).unwrap_or_default();
    let mut resp = (status, json).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::App(AppError::Internal(cause) | AppError::Unavailable(cause)) = &self {
            tracing::error!(error = %cause, "request failed");
        }
        let (status, code, detail, errors) = self.parts();
        let mut resp = problem_response(status, code, detail, errors);
        match &self {
            ApiError::App(AppError::Unauthenticated | AppError::BadCredentials) => {
                resp.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Bearer realm=\"sigap\""),
                );
            }
            ApiError::App(AppError::RateLimited { retry_after_secs }) => {
                if let Ok(v) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    resp.headers_mut().insert(header::RETRY_AFTER, v);
                }
            }
            // Busy: the same request may be sent again in a moment.
            ApiError::App(AppError::Unavailable(_) | AppError::Contention) => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        resp
    }
}
