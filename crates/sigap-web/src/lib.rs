//! HTTP: the JSON API under `/api/v1` (with its OpenAPI document), the HTML interface, and the
//! operational endpoints. Handlers parse input, call one use case and map the result.

pub mod api;
mod assets;
mod error;
mod extract;
pub mod graph;
mod i18n;
mod intake;
mod middleware;
mod ops;
mod report_words;
pub mod ui;

pub use error::{ApiError, Problem};
pub use i18n::I18n;
pub use intake::IntakeGate;
pub use middleware::enable_metrics;

use axum::Router;
use sigap_core::Core;
use std::sync::Arc;
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};

/// Settings of the HTTP layer.
#[derive(Debug, Clone)]
pub struct WebConfig {
    /// The public origin (`https://sigap.example.com`); when set, unsafe requests must come
    /// from it, and an https origin makes cookies `Secure`.
    pub public_url: Option<String>,
    /// Largest accepted request body, in bytes.
    pub body_limit: usize,
    /// Largest accepted CSV import, in bytes.
    pub import_limit: usize,
    /// Requests of events (the events endpoint and the webhooks) taken in at once; more are
    /// answered 429 with `Retry-After`.
    pub event_intake_at_once: usize,
    /// Checks an administrators' mail template before it is kept; none accepts any (the
    /// server gives the mail renderer's check: this crate does not know `sigap-mail`).
    pub template_check: Option<TemplateCheck>,
}

/// What checks a mail template: its subject and body, refused with the fields that do not
/// render.
pub type TemplateCheckFn =
    dyn Fn(&str, &str) -> Result<(), Vec<sigap_core::FieldError>> + Send + Sync;

/// A mail template check, shared by every request.
#[derive(Clone)]
pub struct TemplateCheck(pub Arc<TemplateCheckFn>);

impl TemplateCheck {
    pub fn new(
        check: impl Fn(&str, &str) -> Result<(), Vec<sigap_core::FieldError>> + Send + Sync + 'static,
    ) -> Self {
        Self(Arc::new(check))
    }
}

impl std::fmt::Debug for TemplateCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TemplateCheck")
    }
}

impl Default for WebConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            body_limit: 1024 * 1024,
            import_limit: 64 * 1024 * 1024,
            event_intake_at_once: 8,
            template_check: None,
        }
    }
}

impl WebConfig {
    /// Checks a mail template's subject and body (any is accepted when no check was given).
    pub fn check_template(
        &self,
        subject: &str,
        body: &str,
    ) -> Result<(), Vec<sigap_core::FieldError>> {
        match &self.template_check {
            Some(check) => (check.0)(subject, body),
            None => Ok(()),
        }
    }

    pub fn secure_cookies(&self) -> bool {
        self.public_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://"))
    }
}

/// What every handler shares. Cloned several times per request (by the router, the
/// middleware and the `State` extractor), so it is one pointer: a clone is one atomic
/// increment.
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

/// The contents of [`AppState`], reached through `Deref` (`state.core`, `state.config`).
#[derive(Debug)]
pub struct Shared {
    pub core: Core,
    pub config: Arc<WebConfig>,
    pub i18n: Arc<I18n>,
    /// The requests of events being taken in.
    pub intake: IntakeGate,
}

impl AppState {
    pub fn new(core: Core, config: WebConfig) -> Result<Self, String> {
        Ok(Self(Arc::new(Shared {
            core,
            intake: IntakeGate::new(config.event_intake_at_once),
            config: Arc::new(config),
            i18n: Arc::new(i18n::load()?),
        })))
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The whole application, as served: the routes inside the layers every request passes
/// (request id, tracing and access log, panics). The layers wrap the router once, not each
/// route, so a request clones and boxes no layered route for them.
pub fn app(
    state: AppState,
) -> impl tower::Service<
    axum::extract::Request,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future: Send + 'static,
> + Clone
+ Send
+ Sync
+ 'static {
    let (api_router, openapi) = api::router(state.clone());
    let docs = utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .url("/api/openapi.json", openapi)
        .config(
            utoipa_swagger_ui::Config::default()
                .validator_url("none")
                .try_it_out_enabled(true),
        );
    let mut router = Router::new()
        .merge(api_router)
        .merge(ui::router(state.clone()));
    if state.core.store.has_replicas() {
        // Reads of the API and the pages may go to read replicas; the operational routes
        // (readiness) ask the primary.
        router = router.layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::route_reads,
        ));
    }
    let mut router = router
        .merge(Router::<()>::from(docs))
        .merge(ops::router(state.clone()))
        .merge(assets::router());
    if middleware::metrics_enabled() {
        router = router.layer(axum::middleware::from_fn(middleware::observe));
    }
    ServiceBuilder::new()
        .map_response(axum::response::IntoResponse::into_response)
        .layer(middleware::RequestIdLayer::new(middleware::RequestIds::new()))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::extract::Request| {
                    let id = req.headers().get(middleware::REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("http", method = %req.method(), path = %req.uri().path(), request_id = %id)
                })
                // One access-log line per request, inside the span that carries the request id.
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                .on_failure(DefaultOnFailure::new().level(tracing::Level::ERROR)),
        )
        .layer(CatchPanicLayer::custom(|_| {
            tracing::error!("a request handler panicked");
            axum::response::IntoResponse::into_response(ApiError::Panicked)
        }))
        .service(router)
}

/// The OpenAPI document, as served at `/api/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::openapi()
}
