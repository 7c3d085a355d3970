//! Cross-cutting layers: request ids, tracing, metrics, panics, authentication, the `Origin`
//! check and `Idempotency-Key`.

use crate::AppState;
use crate::error::{ApiError, problem_response};
use crate::extract::read_body;
use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use sigap_core::{AppError, Principal, auth, idempotency};
use std::sync::Arc;
use std::time::Instant;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const SESSION_COOKIE: &str = "sigap_session";
pub const LANG_COOKIE: &str = "sigap_lang";

/// Request ids: a random prefix per process and a counter, unique across nodes and without a
/// system call per request.
#[derive(Clone)]
pub struct RequestIds {
    prefix: std::sync::Arc<str>,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    pub fn new() -> Self {
        let prefix = uuid::Uuid::new_v4().simple().to_string();
        Self {
            prefix: prefix[..12].into(),
            next: std::sync::Arc::default(),
        }
    }

    /// The next id, `<prefix>-<counter in hex>`, written without building a string.
    fn make(&self) -> Option<HeaderValue> {
        use std::io::Write;
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // 12 characters of prefix, a dash, at most 16 hex digits.
        let mut buf = [0u8; 40];
        let mut rest = &mut buf[..];
        write!(rest, "{}-{n:x}", self.prefix).ok()?;
        let len = 40 - rest.len();
        HeaderValue::from_bytes(buf.get(..len)?).ok()
    }
}

/// `x-request-id` on the way in and out, in one layer: a request without one gets a new id,
/// and the response carries the request's id (unless the response set its own).
#[derive(Clone)]
pub struct RequestIdLayer {
    ids: RequestIds,
}

impl RequestIdLayer {
    pub fn new(ids: RequestIds) -> Self {
        Self { ids }
    }
}

impl<S> tower::Layer<S> for RequestIdLayer {
    type Service = WithRequestId<S>;

    fn layer(&self, inner: S) -> WithRequestId<S> {
        WithRequestId {
            inner,
            ids: self.ids.clone(),
        }
    }
}

/// The service of [`RequestIdLayer`].
#[derive(Clone)]
pub struct WithRequestId<S> {
    inner: S,
    ids: RequestIds,
}

impl<S, B, RB> tower::Service<axum::http::Request<B>> for WithRequestId<S>
where
    S: tower::Service<axum::http::Request<B>, Response = axum::http::Response<RB>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = RequestIdFuture<S::Future>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: axum::http::Request<B>) -> Self::Future {
        let id = match req.headers().get(REQUEST_ID) {
            Some(id) => Some(id.clone()),
            None => {
                let id = self.ids.make();
                if let Some(id) = &id {
                    req.headers_mut().insert(REQUEST_ID, id.clone());
                }
                id
            }
        };
        RequestIdFuture {
            inner: self.inner.call(req),
            id,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`WithRequestId`].
    pub struct RequestIdFuture<F> {
        #[pin]
        inner: F,
        id: Option<HeaderValue>,
    }
}

impl<F, RB, E> Future for RequestIdFuture<F>
where
    F: Future<Output = Result<axum::http::Response<RB>, E>>,
{
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Self::Output> {
        let this = self.project();
        let mut resp = std::task::ready!(this.inner.poll(cx))?;
        if !resp.headers().contains_key(REQUEST_ID) {
            if let Some(id) = this.id.take() {
                resp.headers_mut().insert(REQUEST_ID, id);
            }
        }
        std::task::Poll::Ready(Ok(resp))
    }
}

/// The API's authentication gate (`api_gate`) as a layer of its own: unlike
/// `axum::middleware::from_fn` it needs no extra boxed service per request.
#[derive(Clone)]
pub struct ApiGateLayer {
    state: AppState,
}

impl ApiGateLayer {
    pub fn new(state: AppState) -> Self {
        Self { state }
    }
}

impl<S> tower::Layer<S> for ApiGateLayer {
    type Service = ApiGate<S>;

    fn layer(&self, inner: S) -> ApiGate<S> {
        ApiGate {
            inner,
            state: self.state.clone(),
        }
    }
}

/// The service of [`ApiGateLayer`].
#[derive(Clone)]
pub struct ApiGate<S> {
    inner: S,
    state: AppState,
}

impl<S> tower::Service<Request> for ApiGate<S>
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<Response, std::convert::Infallible>> + Send + 'static>,
    >;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The ready service serves this request; a clone waits for the next one.
        let clone = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, clone);
        let state = self.state.clone();
        Box::pin(async move { Ok(authenticate(&state, req, inner, true).await) })
    }
}

/// Runs the rest of the stack: the API's inner service, or axum's `Next` for the pages.
async fn run<S>(next: S, req: Request) -> Response
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>,
{
    match tower::ServiceExt::oneshot(next, req).await {
        Ok(resp) => resp,
        Err(never) => match never {},
    }
}

pub fn metrics_enabled() -> bool {
    METRICS_ON.load(std::sync::atomic::Ordering::Relaxed)
}

static METRICS_ON: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Turns on request metrics (once a recorder is installed, before the router is built);
/// without them the layer is left out.
pub fn enable_metrics() {
    METRICS_ON.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Counts requests and their latency by route.
pub async fn observe(req: Request, next: axum::middleware::Next) -> Response {
    let start = Instant::now();
    let method = req.method().to_string();
    let path = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!("sigap_http_requests_total", "method" => method.clone(), "path" => path.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("sigap_http_request_duration_seconds", "method" => method, "path" => path)
        .record(start.elapsed().as_secs_f64());
    resp
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The value of a cookie in the request.
pub fn cookie<'a>(req_headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    req_headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// Whether an unsafe browser request comes from our own pages.
fn origin_allowed(req: &Request, state: &AppState) -> bool {
    let headers = req.headers();
    let expected = match &state.config.public_url {
        Some(url) => url.trim_end_matches('/').to_owned(),
        None => match headers.get(header::HOST).and_then(|h| h.to_str().ok()) {
            Some(host) => format!("http://{host}"),
            None => return false,
        },
    };
    match headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) {
        Some(origin) => {
            origin == expected
                || (state.config.public_url.is_none()
                    && origin.strip_prefix("https://") == expected.strip_prefix("http://"))
        }
        // No Origin: a non-browser client, unless the browser says the request is cross-site.
        None => headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .is_none_or(|v| v != "cross-site"),
    }
}

fn forbidden_origin(api: bool) -> Response {
    if api {
        problem_response(
            StatusCode::FORBIDDEN,
            "origin_not_allowed".into(),
            "cross-site request refused: the Origin does not match this site".into(),
            vec![],
        )
    } else {
        (StatusCode::FORBIDDEN, "Cross-site request refused.").into_response()
    }
}

/// Routes the reads of a request (only with read replicas): those of a `GET` or `HEAD` may
/// go to a standby, until the request writes; every other request reads from the primary, so
/// that what it reads and what it writes are on one server.
pub async fn route_reads(
    State(state): State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let standby_ok = matches!(*req.method(), Method::GET | Method::HEAD);
    state
        .core
        .store
        .route_reads(standby_ok, next.run(req))
        .await
}

/// `authenticate` for the HTML pages.
pub async fn authenticate_ui(
    State(state): State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    authenticate(&state, req, next, false).await
}

async fn proceed<S>(state: &AppState, req: Request, next: S, api: bool) -> Response
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>,
{
    if api && req.method() == Method::POST {
        idempotent(state, req, next).await
    } else {
        run(next, req).await
    }
}

/// Finds the caller of an API route: `Authorization: Bearer` (a token) or the session cookie.
/// Unsafe requests without a token must pass the `Origin` check. Then, for `POST` to the API,
/// the `Idempotency-Key` replay: one layer, so an API call passes one middleware, not two.
async fn authenticate<S>(state: &AppState, mut req: Request, next: S, api: bool) -> Response
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>,
{
    if let Some(value) = req.headers().get(header::AUTHORIZATION) {
        let presented = value.to_str().unwrap_or("");
        let Some(token) = presented
            .strip_prefix("Bearer ")
            .or_else(|| presented.strip_prefix("bearer "))
        else {
            return ApiError::App(AppError::Unauthenticated).into_response();
        };
        // A monitoring tool signs in with its integration's secret; a person with a token.
        let found = if token.starts_with(sigap_core::events::SECRET_PREFIX) {
            sigap_core::events::integration_principal(&state.core, token).await
        } else {
            auth::token_principal(&state.core, token).await
        };
        match found {
            Ok(p) => {
                if let Some(person) = p.person_id {
                    state.core.store.set_reader(person.as_uuid());
                }
                if !is_safe(req.method()) && !p.can_write() {
                    return problem_response(
                        StatusCode::FORBIDDEN,
                        "read_only_token".into(),
                        "this token may only read".into(),
                        vec![],
                    );
                }
                req.extensions_mut().insert(p);
            }
            Err(e) => return ApiError::App(e).into_response(),
        }
        return proceed(state, req, next, api).await;
    }
    if !is_safe(req.method()) && !origin_allowed(&req, state) {
        return forbidden_origin(api);
    }
    if let Some(value) = cookie(req.headers(), SESSION_COOKIE).map(str::to_owned) {
        match auth::session_principal(&state.core, &value).await {
            Ok(Some(p)) => {
                if let Some(person) = p.person_id {
                    state.core.store.set_reader(person.as_uuid());
                }
                req.extensions_mut().insert(Arc::new(p));
            }
            Ok(None) => {}
            Err(e) => {
                return if api {
                    ApiError::App(e).into_response()
                } else {
                    crate::ui::error_page(state, &req, e)
                };
            }
        }
    }
    proceed(state, req, next, api).await
}

fn valid_key(key: &str) -> bool {
    !key.is_empty() && key.len() <= 255 && key.bytes().all(|b| (0x21..=0x7e).contains(&b))
}

/// Replays the first answer to a `POST` repeated with the same `Idempotency-Key`.
async fn idempotent<S>(state: &AppState, req: Request, next: S) -> Response
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>,
{
    let Some(key) = req.headers().get("idempotency-key") else {
        return run(next, req).await;
    };
    let Some(key) = key
        .to_str()
        .ok()
        .filter(|k| valid_key(k))
        .map(str::to_owned)
    else {
        return ApiError::BadHeader(
            "Idempotency-Key",
            "must be 1 to 255 visible ASCII characters".into(),
        )
        .into_response();
    };
    let Some(person) = req
        .extensions()
        .get::<Arc<Principal>>()
        .and_then(|p| p.person_id)
    else {
        return run(next, req).await;
    };
    let (parts, body) = req.into_parts();
    let bytes = match read_body(
        Request::from_parts(parts.clone(), body),
        state.config.body_limit,
    )
    .await
    {
        Ok(b) => b,
        Err(e) => return e.into_response(),
    };
    let mut h = Sha256::new();
    h.update(parts.method.as_str());
    h.update([0]);
    h.update(parts.uri.to_string());
    h.update([0]);
    h.update(&bytes);
    let hash = hex::encode(h.finalize());
    match idempotency::begin(&state.core, person, &key, &hash).await {
        Err(e) => ApiError::App(e).into_response(),
        Ok(idempotency::IdemState::InProgress { .. }) => ApiError::Conflict(
            "idempotency_key_in_use",
            "a request with this Idempotency-Key is still being processed".into(),
        )
        .into_response(),
        Ok(idempotency::IdemState::Done {
            request_hash,
            status,
            location,
            body,
        }) => {
            if request_hash != hash {
                return problem_response(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "idempotency_key_reused".into(),
                    "this Idempotency-Key was used for a different request".into(),
                    vec![],
                );
            }
            let status = StatusCode::from_u16(u16::try_from(status).unwrap_or(500))
                .unwrap_or(StatusCode::OK);
            let mut resp = (status, body).into_response();
            let h = resp.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert("idempotent-replayed", HeaderValue::from_static("true"));
            if let Some(loc) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
                h.insert(header::LOCATION, loc);
            }
            resp
        }
        Ok(idempotency::IdemState::Started) => {
            let resp = run(next, Request::from_parts(parts, Body::from(bytes))).await;
            let (rparts, rbody) = resp.into_parts();
            let rbytes = axum::body::to_bytes(rbody, usize::MAX)
                .await
                .unwrap_or_default();
            let status = rparts.status;
            let outcome = if status.is_server_error() {
                idempotency::abandon(&state.core, person, &key).await
            } else {
                let location = rparts
                    .headers
                    .get(header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                idempotency::finish(
                    &state.core,
                    person,
                    &key,
                    status.as_u16(),
                    location,
                    String::from_utf8_lossy(&rbytes).into_owned(),
                )
                .await
            };
            if let Err(e) = outcome {
                tracing::warn!(error = %e, "could not record the idempotency key");
            }
            Response::from_parts(rparts, Body::from(rbytes))
        }
    }
}

/// Security headers for HTML pages.
pub async fn html_headers(req: Request, next: axum::middleware::Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    resp
}
