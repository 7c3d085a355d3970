//! Request extractors that answer in problem+json: a strict JSON body, a query string, the
//! caller, and `If-Match`.

use crate::AppState;
use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::{HeaderMap, header, request::Parts};
use serde::de::DeserializeOwned;
use sigap_core::{Ctx, FieldError, Principal};
use std::sync::Arc;

/// A JSON body: `Content-Type: application/json`, within the body limit, valid UTF-8 and
/// exactly the expected fields (unknown fields are refused).
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<mime::Mime>().ok())
        .is_some_and(|m| {
            m.type_() == mime::APPLICATION
                && (m.subtype() == mime::JSON || m.suffix() == Some(mime::JSON))
        })
}

/// Parses JSON into `T`, telling malformed JSON apart from a wrong shape.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        ApiError::MalformedJson(format!(
            "the body is not valid UTF-8 (at byte {})",
            e.valid_up_to()
        ))
    })?;
    // serde reads a struct from a JSON array too, field by field in order (`[null, null]`
    // would set the first two fields): a body of fields must be an object. Only the list
    // bodies (`Vec<…>`) are arrays.
    let is_list = std::any::type_name::<T>().starts_with("alloc::vec::Vec<");
    if !is_list && text.trim_start().starts_with('[') {
        return Err(ApiError::InvalidBody(vec![FieldError::new(
            "",
            "invalid_type",
            "the body must be a JSON object",
        )]));
    }
    let mut de = serde_json::Deserializer::from_str(text);
    match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => {
            de.end()
                .map_err(|e| ApiError::MalformedJson(format!("the body is not valid JSON: {e}")))?;
            Ok(v)
        }
        Err(err) => {
            let path = err.path().to_string();
            let inner = err.into_inner();
            use serde_json::error::Category;
            match inner.classify() {
                Category::Syntax | Category::Eof | Category::Io => Err(ApiError::MalformedJson(
                    format!("the body is not valid JSON: {inner}"),
                )),
                Category::Data => {
                    let message = inner.to_string();
                    let message = message
                        .split(" at line ")
                        .next()
                        .unwrap_or(&message)
                        .to_owned();
                    let (field, code) = if let Some(rest) = message.strip_prefix("unknown field `")
                    {
                        let name = rest.split('`').next().unwrap_or("");
                        // The path already ends with the unknown field's name.
                        let field = if path == "." || path.is_empty() {
                            name.to_owned()
                        } else {
                            path
                        };
                        (field, "unknown_field")
                    } else if message.starts_with("missing field `") {
                        let name = message
                            .trim_start_matches("missing field `")
                            .split('`')
                            .next()
                            .unwrap_or("");
                        (name.to_owned(), "required")
                    } else {
                        (
                            if path == "." { String::new() } else { path },
                            "invalid_type",
                        )
                    };
                    Err(ApiError::InvalidBody(vec![FieldError::new(
                        field, code, message,
                    )]))
                }
            }
        }
    }
}

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        if !is_json(req.headers()) {
            return Err(ApiError::UnsupportedMediaType("application/json"));
        }
        let limit = state.config.body_limit;
        let bytes = read_body(req, limit).await?;
        parse_json(&bytes).map(ApiJson)
    }
}

/// Reads a whole body, refusing more than `limit` bytes.
pub async fn read_body(req: Request, limit: usize) -> Result<Bytes, ApiError> {
    if req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > limit)
    {
        return Err(ApiError::PayloadTooLarge(limit));
    }
    axum::body::to_bytes(req.into_body(), limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(limit))
}

/// A query string parsed into `T`; bad values give a 422 naming the parameter.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or("");
        let de = serde_urlencoded_de(query);
        de.map(ApiQuery)
    }
}

fn serde_urlencoded_de<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    // Repeated keys keep the last value. Every value arrives as a string; typed parameters
    // read it with the helpers of `api::params`, free text is passed on to the use case.
    let mut map = serde_json::Map::new();
    for (k, v) in form_urlencoded::parse(query.as_bytes()).into_owned() {
        map.insert(k, serde_json::Value::String(v));
    }
    serde_path_to_error::deserialize(serde_json::Value::Object(map)).map_err(|e| {
        let field = e.path().to_string();
        let message = e.into_inner().to_string();
        let missing = message
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(str::to_owned);
        let error = match missing {
            Some(name) => FieldError::new(name, "required", "is required"),
            None if field == "." => FieldError::new("query", "invalid_value", message),
            None => FieldError::new(field, "invalid_value", message),
        };
        ApiError::InvalidQuery(vec![error])
    })
}

/// The caller of an API route: a live session or token, else 401.
#[derive(Debug, Clone)]
pub struct Caller(pub Ctx);

pub fn request_id(parts: &Parts) -> String {
    parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        // Taken, not cloned: a handler has one caller.
        let principal = parts
            .extensions
            .remove::<Arc<Principal>>()
            .ok_or(ApiError::App(sigap_core::AppError::Unauthenticated))?;
        Ok(Caller(Ctx::new(principal, request_id(parts))))
    }
}

/// The version named by `If-Match`, if the header was sent.
#[derive(Debug, Clone, Copy)]
pub struct IfMatch(pub Option<i64>);

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get(header::IF_MATCH) else {
            return Ok(IfMatch(None));
        };
        let bad = || {
            ApiError::BadHeader(
                "If-Match",
                "must be an ETag this API sent, such as \"3\"".into(),
            )
        };
        let text = value.to_str().map_err(|_| bad())?.trim();
        parse_etag(text).map(|v| IfMatch(Some(v))).ok_or_else(bad)
    }
}

/// The pattern of an `If-Match` value this API reads: an ETag it sent (`"3"`, also weak,
/// `W/"3"`) or the bare version. The OpenAPI document states the same pattern.
pub const IF_MATCH_PATTERN: &str = r#"^(W/)?"[0-9]{1,18}"$|^[0-9]{1,18}$"#;

/// The version in an `If-Match` value of [`IF_MATCH_PATTERN`], exactly.
fn parse_etag(text: &str) -> Option<i64> {
    fn quoted(t: &str) -> Option<&str> {
        t.strip_prefix('"')?.strip_suffix('"')
    }
    let digits = match text.strip_prefix("W/") {
        Some(weak) => quoted(weak)?,
        None => quoted(text).unwrap_or(text),
    };
    if digits.is_empty() || digits.len() > 18 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The `ETag` header for a record version: the version in quotes, written without a string.
pub fn etag_value(version: i64) -> Option<axum::http::HeaderValue> {
    use std::io::Write;
    // A quote, at most 20 characters of an i64, a quote.
    let mut buf = [0u8; 24];
    let mut rest = &mut buf[..];
    write!(rest, "\"{version}\"").ok()?;
    let len = 24 - rest.len();
    axum::http::HeaderValue::from_bytes(&buf[..len]).ok()
}

/// Path parameters; a segment that cannot be read (bad percent-encoding, invalid UTF-8)
/// cannot name a record, so it answers 404 in problem+json.
#[derive(Debug)]
pub struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|axum::extract::Path(v)| ApiPath(v))
            .map_err(|_| ApiError::App(sigap_core::AppError::NotFound))
    }
}

/// A CSV body (`Content-Type: text/csv`) of at most the import limit.
#[derive(Debug)]
pub struct CsvBody(pub Bytes);

impl FromRequest<AppState> for CsvBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_csv = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<mime::Mime>().ok())
            .is_some_and(|m| m.type_() == mime::TEXT && m.subtype() == "csv");
        if !is_csv {
            return Err(ApiError::UnsupportedMediaType("text/csv"));
        }
        read_body(req, state.config.import_limit).await.map(CsvBody)
    }
}

/// A raw body of any media type (an attachment), with its `Content-Type`, within `limit`.
#[derive(Debug)]
pub struct RawBody {
    pub content_type: String,
    pub bytes: Bytes,
}

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &AppState) -> Result<Self, Self::Rejection> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let bytes = read_body(req, sigap_core::incidents::MAX_ATTACHMENT).await?;
        Ok(RawBody {
            content_type,
            bytes,
        })
    }
}
