//! The JSON API under `/api/v1`, registered through utoipa so that the OpenAPI document is
//! generated from the same routes.

pub mod dto;
mod handlers;

use crate::error::ApiError;
use crate::{AppState, middleware};
use axum::Router;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Sigap API",
        description = "IT service management. Authenticate with `Authorization: Bearer <token>` (create one under your profile or with `sigap admin create-token`). Errors are `application/problem+json` with a stable `code`. Collections use cursor pagination: pass `next_cursor` back as `cursor`. Updates accept `If-Match` with the `ETag` you read; a mismatch answers 412. `POST` accepts `Idempotency-Key`.",
        version = "1"
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
    tags(
        (name = "me", description = "Yourself: profile, password, API tokens"),
        (name = "people", description = "People and their roles"),
        (name = "organizations", description = "The provider, customers and suppliers"),
        (name = "groups", description = "Support groups and their members"),
        (name = "audit", description = "Who changed what, when")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

fn routes() -> OpenApiRouter<AppState> {
    use handlers::*;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(get_me, patch_me))
        .routes(routes!(change_password))
        .routes(routes!(list_tokens, create_token))
        .routes(routes!(revoke_token))
        .routes(routes!(list_people, create_person))
        .routes(routes!(get_person, patch_person))
        .routes(routes!(set_person_password))
        .routes(routes!(person_history))
        .routes(routes!(list_organizations, create_organization))
        .routes(routes!(
            get_organization,
            patch_organization,
            delete_organization
        ))
        .routes(routes!(organization_history))
        .routes(routes!(list_groups, create_group))
        .routes(routes!(get_group, patch_group, delete_group))
        .routes(routes!(list_members, add_member))
        .routes(routes!(remove_member))
        .routes(routes!(group_history))
}

/// The API router (with its authentication and idempotency layers) and its document.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let (router, api) = routes().split_for_parts();
    // Routes carry their full paths (no `nest`, which costs a URI rewrite per request).
    let router = router
        .route(
            "/api/v1",
            axum::routing::any(|| async { ApiError::RouteNotFound }),
        )
        .route(
            "/api/v1/{*rest}",
            axum::routing::any(|| async { ApiError::RouteNotFound }),
        )
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::ApiGateLayer::new(state.clone()))
        .with_state(state);
    (router, api)
}

/// The OpenAPI document without building a server.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes().split_for_parts().1
}
