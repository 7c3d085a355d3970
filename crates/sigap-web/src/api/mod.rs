//! The JSON API under `/api/v1`, registered through utoipa so that the OpenAPI document is
//! generated from the same routes.

mod announcements;
mod approvals;
mod catalog;
mod changes;
mod cmdb;
mod csv;
pub mod dto;
mod event_rules;
mod event_windows;
mod events;
mod filters;
mod handlers;
mod improvements;
mod incidents;
mod knowledge;
mod knowledge_desk;
mod locations;
mod mail;
mod notifications;
mod params;
mod portfolio;
mod problems;
pub(crate) mod reports;
mod requests;
mod responses;
mod sla;
mod task;
pub use sla::instant as sla_instant;

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
        (name = "locations", description = "Sites, buildings and offices with their time zones; incidents name where they happen"),
        (name = "services", description = "The service portfolio: services and their lifecycle, offerings, process roles"),
        (name = "portfolios", description = "The project and application portfolios"),
        (name = "cmdb", description = "Configuration items, classes, relationships, impact analysis, CSV import and export"),
        (name = "incidents", description = "Incident management: log, classify, assign, hold, resolve, close"),
        (name = "problems", description = "Problem management: root cause, linked incidents, work-arounds, known errors, trends"),
        (name = "knowledge", description = "Knowledge management: articles with review and versions, safe Markdown, ranked search, suggestions that deflect tickets, feedback, knowledge bases and categories"),
        (name = "changes", description = "Change management: standard, normal and emergency changes, risk, approvals and the CAB, the change calendar with its conflicts and iCalendar feed, templates, blackout and maintenance windows"),
        (name = "catalog", description = "The service catalogue: categories and items with their order forms, approval rules, fulfilment plans and pictures"),
        (name = "requests", description = "Request fulfilment: orders, requests, requested items and catalogue tasks"),
        (name = "approvals", description = "Approvals asked of you, your decisions, and delegation while you are away"),
        (name = "import", description = "CSV import and export of people, organizations, incidents and configuration items, with a column mapping; the ServiceNow importer is `sigap import servicenow-incidents`"),
        (name = "events", description = "Event management: events from monitoring (the generic endpoint, Alertmanager's and Grafana's webhooks), the alerts they fold into, the policy that opens and resolves incidents, the rules that drop, transform and bind events and decide incidents, the integrations that send with a secret of their own, and the maintenance windows that hold alerts back"),
        (name = "mail", description = "The e-mail channel: mailboxes mail comes in through, the outbound server, the mail templates in each language, the messages taken in and sent, and the quarantine"),
        (name = "sla", description = "Service level management: calendars, agreements (SLA, OLA, UC), targets, clocks, compliance"),
        (name = "reports", description = "Service reporting: tasks counted and measured in groups, for scripts and BI tools"),
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
        .routes(routes!(
            locations::list_locations,
            locations::create_location
        ))
        .routes(routes!(locations::get_location, locations::patch_location))
        .routes(routes!(locations::location_history))
        .merge(portfolio_routes())
        .merge(cmdb_routes())
        .merge(incident_routes())
        .merge(problem_routes())
        .merge(change_routes())
        .merge(knowledge_routes())
        .merge(request_routes())
        .merge(sla_routes())
        .merge(mail_routes())
        .merge(event_routes())
        .routes(routes!(reports::aggregate))
        .routes(routes!(reports::list_reports, reports::create_report))
        .routes(routes!(
            reports::get_report,
            reports::patch_report,
            reports::delete_report
        ))
        .routes(routes!(reports::report_data))
        .routes(routes!(reports::report_records))
        .routes(routes!(reports::export_report))
        .routes(routes!(reports::list_dashboards, reports::create_dashboard))
        .routes(routes!(reports::home_dashboard, reports::choose_home))
        .routes(routes!(reports::list_schedules, reports::create_schedule))
        .routes(routes!(
            reports::get_schedule,
            reports::patch_schedule,
            reports::delete_schedule
        ))
        .routes(routes!(
            reports::get_dashboard,
            reports::patch_dashboard,
            reports::delete_dashboard
        ))
        .routes(routes!(
            improvements::list_improvements,
            improvements::create_improvement
        ))
        .routes(routes!(
            improvements::get_improvement,
            improvements::patch_improvement,
            improvements::delete_improvement
        ))
        .routes(routes!(improvements::review_improvement))
        .routes(routes!(
            announcements::list_announcements,
            announcements::create_announcement
        ))
        .routes(routes!(
            announcements::get_announcement,
            announcements::patch_announcement,
            announcements::delete_announcement
        ))
        .routes(routes!(csv::import))
        .routes(routes!(csv::export))
        .routes(routes!(csv::export_incidents))
}

fn event_routes() -> OpenApiRouter<AppState> {
    use events::*;
    OpenApiRouter::new()
        .routes(routes!(post_events))
        .routes(routes!(alertmanager))
        .routes(routes!(grafana))
        .routes(routes!(get_policy, patch_policy))
        .routes(routes!(list_alerts))
        .routes(routes!(get_alert))
        .routes(routes!(alert_action))
        .routes(routes!(incident_alerts))
        .routes(routes!(list_integrations, create_integration))
        .routes(routes!(patch_integration, delete_integration))
        .routes(routes!(event_rules::list_rules, event_rules::create_rule))
        .routes(routes!(
            event_rules::get_rule,
            event_rules::patch_rule,
            event_rules::delete_rule
        ))
        .routes(routes!(event_rules::try_rule))
        .routes(routes!(
            event_windows::list_windows,
            event_windows::create_window
        ))
        .routes(routes!(
            event_windows::get_window,
            event_windows::delete_window
        ))
        .routes(routes!(event_windows::end_window))
}

fn mail_routes() -> OpenApiRouter<AppState> {
    use mail::*;
    OpenApiRouter::new()
        .routes(routes!(list_mailboxes, create_mailbox))
        .routes(routes!(get_mailbox, patch_mailbox, delete_mailbox))
        .routes(routes!(get_outbound, put_outbound))
        .routes(routes!(list_templates))
        .routes(routes!(put_template, delete_template))
        .routes(routes!(list_messages))
        .routes(routes!(get_message))
        .routes(routes!(raw_message))
        .routes(routes!(retry_message))
        .routes(routes!(discard_message))
        .routes(routes!(counts))
        .routes(routes!(incident_mail))
        .routes(routes!(my_mail_preferences, put_mail_preferences))
}

fn sla_routes() -> OpenApiRouter<AppState> {
    use sla::*;
    OpenApiRouter::new()
        .routes(routes!(list_calendars, create_calendar))
        .routes(routes!(get_calendar, patch_calendar, delete_calendar))
        .routes(routes!(add_holidays))
        .routes(routes!(import_ical))
        .routes(routes!(delete_holiday))
        .routes(routes!(list_agreements, create_agreement))
        .routes(routes!(get_agreement, patch_agreement))
        .routes(routes!(add_target))
        .routes(routes!(patch_target, delete_target))
        .routes(routes!(incidents::incident_clocks))
        .routes(routes!(breaching))
        .routes(routes!(compliance))
}

fn request_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(catalog::list_categories, catalog::create_category))
        .routes(routes!(catalog::get_category, catalog::patch_category))
        .routes(routes!(catalog::list_items, catalog::create_item))
        .routes(routes!(catalog::get_item, catalog::patch_item))
        .routes(routes!(
            catalog::get_picture,
            catalog::put_picture,
            catalog::delete_picture
        ))
        .routes(routes!(requests::list_requests, requests::order))
        .routes(routes!(requests::my_cart, requests::add_to_cart))
        .routes(routes!(requests::remove_from_cart))
        .routes(routes!(requests::order_cart))
        .routes(routes!(requests::get_request, requests::patch_request))
        .routes(routes!(requests::request_action))
        .routes(routes!(requests::request_clocks))
        .routes(routes!(requests::list_items))
        .routes(routes!(requests::get_item, requests::patch_item))
        .routes(routes!(requests::item_action))
        .routes(routes!(requests::item_clocks))
        .routes(routes!(requests::list_tasks))
        .routes(routes!(requests::get_task, requests::patch_task))
        .routes(routes!(requests::task_action_route))
        .routes(routes!(requests::task_clocks))
        .routes(routes!(approvals::my_approvals))
        .routes(routes!(approvals::get_approval))
        .routes(routes!(approvals::decide))
        .routes(routes!(approvals::my_delegations, approvals::delegate))
        .routes(routes!(approvals::undelegate))
}

fn change_routes() -> OpenApiRouter<AppState> {
    use changes::*;
    OpenApiRouter::new()
        .routes(routes!(list_changes, create_change))
        .routes(routes!(calendar))
        .routes(routes!(calendar_feed))
        .routes(routes!(get_change, patch_change))
        .routes(routes!(change_action))
        .routes(routes!(change_clocks))
        .routes(routes!(change_conflicts))
        .routes(routes!(change_impact))
        .routes(routes!(add_change_task))
        .routes(routes!(link))
        .routes(routes!(unlink))
        .routes(routes!(incident_changes))
        .routes(routes!(set_caused_by))
        .routes(routes!(list_change_tasks))
        .routes(routes!(get_change_task, patch_change_task))
        .routes(routes!(change_task_action))
        .routes(routes!(change_task_clocks))
        .routes(routes!(get_model, put_model))
        .routes(routes!(list_templates, create_template))
        .routes(routes!(get_template, put_template))
        .routes(routes!(template_action))
        .routes(routes!(list_blackouts, add_blackout))
        .routes(routes!(remove_blackout))
        .routes(routes!(list_maintenance))
        .routes(routes!(put_maintenance))
        .routes(routes!(list_meetings, create_meeting))
        .routes(routes!(get_meeting, put_meeting))
        .routes(routes!(record_decision))
}

fn problem_routes() -> OpenApiRouter<AppState> {
    use problems::*;
    OpenApiRouter::new()
        .routes(routes!(list_problems, create_problem))
        .routes(routes!(get_problem, patch_problem))
        .routes(routes!(problem_action))
        .routes(routes!(link_incidents))
        .routes(routes!(unlink_incident))
        .routes(routes!(apply_known_error))
        .routes(routes!(known_errors))
        .routes(routes!(export_problems))
        .routes(routes!(incident_known_errors))
        .routes(routes!(trends))
        .routes(routes!(problem_clocks))
}

fn knowledge_routes() -> OpenApiRouter<AppState> {
    use knowledge::*;
    OpenApiRouter::new()
        .routes(routes!(list_articles, create_article))
        .routes(routes!(get_article, patch_article))
        .routes(routes!(article_action))
        .routes(routes!(article_versions))
        .routes(routes!(article_diff))
        .routes(routes!(article_view))
        .routes(routes!(article_feedback))
        .routes(routes!(article_solved))
        .routes(routes!(article_attach, article_attachments))
        .routes(routes!(search))
        .routes(routes!(suggest))
        .routes(routes!(preview))
        .routes(routes!(knowledge_desk::attention))
        .routes(routes!(knowledge_desk::address))
        .routes(routes!(
            knowledge_desk::list_bases,
            knowledge_desk::create_base
        ))
        .routes(routes!(
            knowledge_desk::get_base,
            knowledge_desk::patch_base
        ))
        .routes(routes!(knowledge_desk::create_category))
        .routes(routes!(
            knowledge_desk::incident_articles,
            knowledge_desk::attach_to_incident
        ))
        .routes(routes!(knowledge_desk::detach_from_incident))
        .routes(routes!(knowledge_desk::known_error_article))
}

fn incident_routes() -> OpenApiRouter<AppState> {
    use incidents::*;
    OpenApiRouter::new()
        .routes(routes!(list_incidents, create_incident))
        .routes(routes!(get_incident, patch_incident))
        .routes(routes!(incident_action))
        .routes(routes!(get_matrix, put_matrix))
        .routes(routes!(bulk))
        .routes(routes!(known_incidents))
        .routes(routes!(attach, list_attachments))
        .routes(routes!(download))
        .routes(routes!(list_categories))
        .routes(routes!(put_category))
        .routes(routes!(list_rules, create_rule))
        .routes(routes!(delete_rule))
}

fn portfolio_routes() -> OpenApiRouter<AppState> {
    use portfolio::*;
    OpenApiRouter::new()
        .routes(routes!(notifications::my_notifications))
        .routes(routes!(notifications::read_notification))
        .routes(routes!(filters::my_filters, filters::save_filter))
        .routes(routes!(filters::delete_filter))
        .routes(routes!(list_services, create_service))
        .routes(routes!(get_service, patch_service, delete_service))
        .routes(routes!(move_service_stage))
        .routes(routes!(service_history))
        .routes(routes!(link_service_ci))
        .routes(routes!(unlink_service_ci))
        .routes(routes!(create_offering))
        .routes(routes!(portfolio_board))
        .routes(routes!(get_process_roles, patch_process_roles))
        .routes(routes!(list_offerings))
        .routes(routes!(get_offering, patch_offering, delete_offering))
        .routes(routes!(link_offering_ci))
        .routes(routes!(unlink_offering_ci))
        .routes(routes!(list_projects, create_project))
        .routes(routes!(get_project, patch_project, delete_project))
        .routes(routes!(list_applications, create_application))
        .routes(routes!(
            get_application,
            patch_application,
            delete_application
        ))
}

fn cmdb_routes() -> OpenApiRouter<AppState> {
    use cmdb::*;
    OpenApiRouter::new()
        .routes(routes!(list_classes, create_class))
        .routes(routes!(get_class, patch_class, delete_class))
        .routes(routes!(list_cis, create_ci))
        .routes(routes!(get_ci, patch_ci, delete_ci))
        .routes(routes!(ci_history))
        .routes(routes!(ci_impact))
        .routes(routes!(ci_impact_svg))
        .routes(routes!(create_relationship))
        .routes(routes!(get_relationship, delete_relationship))
        .routes(routes!(service_dependencies))
        .routes(routes!(service_dependencies_svg))
        .routes(routes!(import_csv))
        .routes(routes!(export_csv))
}

/// The API router (with its authentication and idempotency layers) and its document.
pub fn router(state: AppState) -> (Router, utoipa::openapi::OpenApi) {
    let (router, api) = split();
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
    split().1
}

/// The routes and their document, with the error responses every operation can give (added
/// once all paths are known).
fn split() -> (axum::Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut api) = routes().split_for_parts();
    responses::ErrorResponses.modify(&mut api);
    (router, api)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    /// utoipa keys the document's schemas by the type's bare name: two types of one name
    /// (an `ImpactOut` of the CMDB and of changes) would silently become one. The API's
    /// modules are read, and every type that derives `ToSchema` or is declared by a macro
    /// that derives it must have a name of its own.
    #[test]
    fn schema_names_are_unique() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/api");
        let mut seen: BTreeMap<String, String> = BTreeMap::new();
        let mut clashes = Vec::new();
        let entries = std::fs::read_dir(dir);
        assert!(entries.is_ok(), "cannot read {dir}");
        for entry in entries.into_iter().flatten().flatten() {
            let path = entry.path();
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            let file = path.file_name().map(|f| f.to_string_lossy().into_owned());
            let file = file.unwrap_or_default();
            let mut derives = false;
            let mut names = Vec::new();
            let mut macro_next = false;
            for line in text.lines() {
                let l = line.trim();
                if l.starts_with("#[derive(") && l.contains("ToSchema") {
                    derives = true;
                    continue;
                }
                if derives && (l.starts_with("pub struct ") || l.starts_with("pub enum ")) {
                    let rest = l
                        .trim_start_matches("pub struct ")
                        .trim_start_matches("pub enum ");
                    names.push(
                        rest.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                            .unwrap_or("")
                            .to_owned(),
                    );
                    derives = false;
                } else if !l.starts_with("#[") && !l.starts_with("///") {
                    derives = false;
                }
                if l.ends_with("task_out!(") || l.ends_with("task_in!(") {
                    macro_next = true;
                    continue;
                }
                if macro_next && !l.starts_with("///") && !l.starts_with("#[") {
                    names.push(
                        l.split(|c: char| !c.is_alphanumeric() && c != '_')
                            .next()
                            .unwrap_or("")
                            .to_owned(),
                    );
                    macro_next = false;
                }
            }
            for n in names.into_iter().filter(|n| !n.is_empty()) {
                if let Some(other) = seen.insert(n.clone(), file.clone()) {
                    clashes.push(format!("{n} in {other} and {file}"));
                }
            }
        }
        assert!(
            seen.len() > 100,
            "the scan found only {} schemas",
            seen.len()
        );
        assert!(clashes.is_empty(), "schemas of one name: {clashes:?}");
    }
}
