//! The HTML interface: server-rendered pages that work without JavaScript.

mod admin;
mod alert_maintenance;
mod alerts;
mod announcements;
mod approvals;
mod cab;
mod catalog;
mod catalog_admin;
mod change_admin;
mod change_calendar;
mod changes;
mod dashboards;
mod event_rules;
mod improvements;
mod incidents;
mod knowledge;
mod knowledge_admin;
mod knowledge_portal;
mod knowledge_tasks;
mod knowledge_versions;
mod locations;
mod mail_admin;
mod mail_preferences;
mod mail_quarantine;
mod mail_tasks;
mod mail_templates;
mod portfolio;
mod problems;
mod queue;
mod reports;
mod requests;
mod sla;
mod task;
mod views;

use crate::AppState;
use crate::i18n::{Tr, negotiate};
use crate::middleware::{self, LANG_COOKIE, SESSION_COOKIE, cookie};
use askama::Template;
use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use sigap_core::{AppError, Ctx, Principal};
use sigap_domain::{Locale, Role};
use std::sync::Arc;

pub use admin::*;
pub use approvals::*;
pub use catalog::*;
pub use catalog_admin::*;
pub use incidents::*;
pub use locations::*;
pub use portfolio::*;
pub use problems::*;
pub use requests::*;
pub use sla::*;
pub use views::*;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login_page).post(login_submit))
        .route("/alerts", get(alerts::alerts_page))
        .route(
            "/alerts/maintenance",
            get(alert_maintenance::windows_page).post(alert_maintenance::window_add),
        )
        .route(
            "/alerts/maintenance/{id}/end",
            post(alert_maintenance::window_end),
        )
        .route(
            "/alerts/maintenance/{id}/remove",
            post(alert_maintenance::window_remove),
        )
        .route("/alerts/rules", get(event_rules::rules_page))
        .route(
            "/alerts/rules/new",
            get(event_rules::rule_new).post(event_rules::rule_create),
        )
        .route(
            "/alerts/rules/{id}",
            get(event_rules::rule_page).post(event_rules::rule_update),
        )
        .route("/alerts/rules/{id}/delete", post(event_rules::rule_delete))
        .route("/alerts/{number}", get(alerts::alert_page))
        .route("/alerts/{number}/{action}", post(alerts::alert_act))
        .route("/logout", post(logout))
        .route("/language", post(language))
        .route("/profile", get(profile_page).post(profile_submit))
        .route("/profile/password", post(profile_password))
        .route("/profile/tokens", post(token_create))
        .route("/profile/tokens/{id}/revoke", post(token_revoke))
        .route("/admin", get(admin_page))
        .route("/admin/people", get(people_page).post(person_create))
        .route("/admin/people/{id}", get(person_page).post(person_update))
        .route("/admin/people/{id}/password", post(person_password))
        .route("/admin/groups", get(groups_page).post(group_create))
        .route("/admin/groups/{id}", get(group_page).post(group_update))
        .route("/admin/groups/{id}/delete", post(group_delete))
        .route("/admin/groups/{id}/members", post(member_add))
        .route(
            "/admin/groups/{id}/members/{person}/remove",
            post(member_remove),
        )
        .route("/admin/organizations", get(orgs_page).post(org_create))
        .route("/admin/organizations/{id}", get(org_page).post(org_update))
        .route("/admin/organizations/{id}/delete", post(org_delete))
        .route(
            "/admin/locations",
            get(locations_page).post(location_create),
        )
        .route(
            "/admin/locations/{id}",
            get(location_page).post(location_update),
        )
        .route("/profile/mail", post(mail_preferences::preferences_submit))
        .route(
            "/admin/mail",
            get(async || Redirect::to("/admin/mail/mailboxes")),
        )
        .route(
            "/admin/mail/mailboxes",
            get(mail_admin::mailboxes_page).post(mail_admin::mailbox_create),
        )
        .route("/admin/mail/mailboxes/new", get(mail_admin::mailbox_new))
        .route(
            "/admin/mail/mailboxes/{id}",
            get(mail_admin::mailbox_page).post(mail_admin::mailbox_update),
        )
        .route(
            "/admin/mail/mailboxes/{id}/delete",
            post(mail_admin::mailbox_delete),
        )
        .route(
            "/admin/mail/outbound",
            get(mail_admin::outbound_page).post(mail_admin::outbound_submit),
        )
        .route("/admin/mail/templates", get(mail_templates::templates_page))
        .route(
            "/admin/mail/templates/{kind}/{locale}",
            get(mail_templates::template_page).post(mail_templates::template_submit),
        )
        .route(
            "/admin/mail/templates/{kind}/{locale}/reset",
            post(mail_templates::template_reset),
        )
        .route(
            "/admin/mail/quarantine",
            get(mail_quarantine::quarantine_page),
        )
        .route(
            "/admin/mail/messages/{id}",
            get(mail_quarantine::message_page),
        )
        .route(
            "/admin/mail/messages/{id}/raw",
            get(mail_quarantine::message_raw),
        )
        .route(
            "/admin/mail/messages/{id}/retry",
            post(mail_quarantine::message_retry),
        )
        .route(
            "/admin/mail/messages/{id}/discard",
            post(mail_quarantine::message_discard),
        )
        .route("/notifications/{id}/read", post(notification_read))
        .route(
            "/incidents",
            get(queue::show::<Incidents>).post(incident_create),
        )
        .route("/incidents/new", get(incident_new))
        .route("/incidents/bulk", post(incidents_bulk))
        .route("/incidents/views", post(queue::save::<Incidents>))
        .route(
            "/incidents/views/{id}/delete",
            post(queue::delete::<Incidents>),
        )
        .route(
            "/admin/incident-categories",
            get(categories_page).post(category_save),
        )
        .route("/admin/assignment-rules", get(rules_page).post(rule_save))
        .route("/admin/assignment-rules/{id}/delete", post(rule_delete))
        .route("/incidents/{key}", get(incident_page).post(incident_update))
        .route("/incidents/{key}/act", post(incident_act))
        .route("/incidents/{key}/problem", post(incident_problem))
        .route("/incidents/{key}/known-error", post(incident_known_error))
        .route(
            "/incidents/{key}/caused-by",
            post(changes::incident_caused_by),
        )
        .route(
            "/problems",
            get(queue::show::<Problems>).post(problem_create),
        )
        .route("/problems/bulk", post(queue::bulk::<Problems>))
        .route("/problems/views", post(queue::save::<Problems>))
        .route(
            "/problems/views/{id}/delete",
            post(queue::delete::<Problems>),
        )
        .route("/problems/new", get(problem_new))
        .route("/problems/known-errors", get(known_errors_page))
        .route("/problems/trends", get(trends_page).post(trend_problem))
        .route("/problems/{key}", get(problem_page).post(problem_update))
        .route("/problems/{key}/act", post(problem_act))
        .route("/problems/{key}/incidents", post(problem_link))
        .route(
            "/problems/{key}/incidents/{incident}/remove",
            post(problem_unlink),
        )
        .route(
            "/incidents/{key}/attachments",
            post(incident_attach).layer(axum::extract::DefaultBodyLimit::max(
                sigap_core::incidents::MAX_ATTACHMENT + 64 * 1024,
            )),
        )
        .route("/admin/catalog", get(admin_catalog_page))
        .route("/admin/catalog/categories", post(admin_category_create))
        .route(
            "/admin/catalog/categories/{id}",
            post(admin_category_update),
        )
        .route("/admin/catalog/items", post(admin_item_create))
        .route(
            "/admin/catalog/items/{key}",
            get(admin_item_page).post(admin_item_update),
        )
        .route(
            "/admin/catalog/items/{key}/preview",
            get(admin_item_preview),
        )
        .route(
            "/admin/catalog/items/{key}/picture",
            post(admin_item_picture).layer(axum::extract::DefaultBodyLimit::max(3 * 1024 * 1024)),
        )
        .route("/catalog", get(catalog_page))
        .route("/catalog/items/{key}", get(catalog_item_page))
        .route("/catalog/items/{key}/cart", post(catalog_add))
        .route("/catalog/items/{key}/order", post(catalog_order))
        .route("/catalog/cart", get(cart_page))
        .route("/catalog/cart/order", post(cart_order))
        .route("/catalog/cart/{line}/remove", post(cart_remove))
        .route("/portal/requests", get(my_requests_page))
        .route("/portal/requests/{key}", get(request_page))
        .route("/portal/requested_items/{key}", get(item_page))
        .route("/requests/{key}", get(request_page))
        .route("/requests/{key}/act", post(request_act))
        .route("/requested_items", get(queue::show::<RequestedItems>))
        .route("/requested_items/bulk", post(queue::bulk::<RequestedItems>))
        .route(
            "/requested_items/views",
            post(queue::save::<RequestedItems>),
        )
        .route(
            "/requested_items/views/{id}/delete",
            post(queue::delete::<RequestedItems>),
        )
        .route("/requested_items/{key}", get(item_page))
        .route("/requested_items/{key}/act", post(item_act))
        .route("/catalog_tasks", get(queue::show::<CatalogTasks>))
        .route("/catalog_tasks/bulk", post(queue::bulk::<CatalogTasks>))
        .route("/catalog_tasks/views", post(queue::save::<CatalogTasks>))
        .route(
            "/catalog_tasks/views/{id}/delete",
            post(queue::delete::<CatalogTasks>),
        )
        .route(
            "/catalog_tasks/{key}",
            get(catalog_task_page).post(catalog_task_update),
        )
        .route("/catalog_tasks/{key}/act", post(catalog_task_act))
        .route(
            "/changes",
            get(queue::show::<changes::Changes>).post(changes::change_create),
        )
        .route("/changes/bulk", post(queue::bulk::<changes::Changes>))
        .route("/changes/views", post(queue::save::<changes::Changes>))
        .route(
            "/changes/views/{id}/delete",
            post(queue::delete::<changes::Changes>),
        )
        .route("/changes/new", get(changes::change_new))
        .route(
            "/changes/calendar",
            get(change_calendar::change_calendar_page),
        )
        .route(
            "/changes/{key}",
            get(changes::change_page).post(changes::change_update),
        )
        .route("/changes/{key}/act", post(changes::change_act))
        .route("/changes/{key}/risk", post(changes::change_risk))
        .route("/changes/{key}/tasks", post(changes::change_task_add))
        .route("/changes/{key}/links", post(changes::change_link))
        .route(
            "/changes/{key}/links/{kind}/{task}/remove",
            post(changes::change_unlink),
        )
        .route("/change_tasks", get(queue::show::<changes::ChangeTasks>))
        .route(
            "/change_tasks/bulk",
            post(queue::bulk::<changes::ChangeTasks>),
        )
        .route(
            "/change_tasks/views",
            post(queue::save::<changes::ChangeTasks>),
        )
        .route(
            "/change_tasks/views/{id}/delete",
            post(queue::delete::<changes::ChangeTasks>),
        )
        .route(
            "/change_tasks/{key}",
            get(changes::change_task_page).post(changes::change_task_update),
        )
        .route("/change_tasks/{key}/act", post(changes::change_task_act))
        .route("/cab", get(cab::cab_page).post(cab::cab_create))
        .route("/cab/new", get(cab::cab_new))
        .route(
            "/cab/{id}",
            get(cab::cab_meeting_page).post(cab::cab_meeting_update),
        )
        .route("/cab/{id}/decisions", post(cab::cab_decision))
        .route("/admin/changes", get(change_admin::change_admin_page))
        .route(
            "/admin/changes/templates",
            post(change_admin::change_template_create),
        )
        .route(
            "/admin/changes/templates/{id}",
            get(change_admin::change_template_page).post(change_admin::change_template_update),
        )
        .route(
            "/admin/changes/templates/{id}/{action}",
            post(change_admin::change_template_decide),
        )
        .route(
            "/admin/changes/blackouts",
            get(change_admin::change_blackouts_page).post(change_admin::change_blackout_add),
        )
        .route(
            "/admin/changes/blackouts/{id}/remove",
            post(change_admin::change_blackout_remove),
        )
        .route(
            "/admin/changes/maintenance",
            get(change_admin::change_maintenance_page),
        )
        .route(
            "/admin/changes/maintenance/{offering}",
            post(change_admin::change_maintenance_set),
        )
        .route(
            "/knowledge",
            get(queue::show::<knowledge::Articles>).post(knowledge::article_create),
        )
        .route("/knowledge/bulk", post(queue::bulk::<knowledge::Articles>))
        .route("/knowledge/views", post(queue::save::<knowledge::Articles>))
        .route(
            "/knowledge/views/{id}/delete",
            post(queue::delete::<knowledge::Articles>),
        )
        .route("/knowledge/new", get(knowledge::article_new))
        .route("/knowledge/attention", get(knowledge::attention_page))
        .route(
            "/knowledge/attention/{id}",
            post(knowledge::attention_address),
        )
        .route(
            "/knowledge/{key}",
            get(knowledge::article_page).post(knowledge::article_update),
        )
        .route("/knowledge/{key}/act", post(knowledge::article_act))
        .route(
            "/knowledge/{key}/versions",
            get(knowledge_versions::versions_page),
        )
        .route(
            "/incidents/{key}/articles",
            post(knowledge_tasks::incident_article_attach),
        )
        .route(
            "/incidents/{key}/articles/{article}/remove",
            post(knowledge_tasks::incident_article_remove),
        )
        .route(
            "/problems/{key}/known-error-article",
            post(knowledge_tasks::problem_known_error_article),
        )
        .route(
            "/admin/knowledge",
            get(knowledge_admin::knowledge_admin_page),
        )
        .route(
            "/admin/knowledge/bases",
            post(knowledge_admin::knowledge_base_create),
        )
        .route(
            "/admin/knowledge/bases/{id}",
            post(knowledge_admin::knowledge_base_update),
        )
        .route(
            "/admin/knowledge/bases/{id}/categories",
            post(knowledge_admin::knowledge_category_create),
        )
        .route(
            "/portal/knowledge",
            get(knowledge_portal::portal_knowledge_page),
        )
        .route(
            "/portal/knowledge/{key}",
            get(knowledge_portal::portal_article_page),
        )
        .route(
            "/portal/knowledge/{key}/feedback",
            post(knowledge_portal::portal_feedback),
        )
        .route(
            "/portal/knowledge/{key}/solved",
            post(knowledge_portal::portal_solved),
        )
        .route("/approvals", get(approvals_page))
        .route("/approvals/delegations", post(delegation_add))
        .route(
            "/approvals/delegations/{id}/remove",
            post(delegation_remove),
        )
        .route("/approvals/{id}", post(approval_decide))
        .route("/reports", get(reports::reports_page))
        .route(
            "/reports/new",
            get(reports::report_new).post(reports::report_create),
        )
        .route(
            "/reports/{id}",
            get(reports::report_page).post(reports::report_update),
        )
        .route("/reports/{id}/edit", get(reports::report_edit))
        .route("/reports/{id}/delete", post(reports::report_delete))
        .route("/reports/{id}/records", get(reports::report_records))
        .route("/reports/{id}/export", get(reports::report_export))
        .route(
            "/reports/{id}/dashboard",
            post(dashboards::report_to_dashboard),
        )
        .route("/reports/{id}/schedules", post(reports::schedule_create))
        .route(
            "/reports/{id}/schedules/{schedule}/delete",
            post(reports::schedule_delete),
        )
        .route("/announcements", get(announcements::announcements_page))
        .route(
            "/announcements/new",
            get(announcements::announcement_new).post(announcements::announcement_create),
        )
        .route(
            "/announcements/{id}",
            get(announcements::announcement_page).post(announcements::announcement_update),
        )
        .route(
            "/announcements/{id}/edit",
            get(announcements::announcement_edit),
        )
        .route(
            "/announcements/{id}/delete",
            post(announcements::announcement_delete),
        )
        .route("/improvements", get(improvements::improvements_page))
        .route(
            "/improvements/new",
            get(improvements::improvement_new).post(improvements::improvement_create),
        )
        .route(
            "/improvements/{id}",
            get(improvements::improvement_page).post(improvements::improvement_update),
        )
        .route(
            "/improvements/{id}/edit",
            get(improvements::improvement_edit),
        )
        .route(
            "/improvements/{id}/reviews",
            post(improvements::improvement_review),
        )
        .route(
            "/improvements/{id}/delete",
            post(improvements::improvement_delete),
        )
        .route("/dashboards", get(dashboards::dashboards_page))
        .route(
            "/dashboards/new",
            get(dashboards::dashboard_new).post(dashboards::dashboard_create),
        )
        .route(
            "/dashboards/{id}",
            get(dashboards::dashboard_page).post(dashboards::dashboard_update),
        )
        .route("/dashboards/{id}/edit", get(dashboards::dashboard_edit))
        .route("/dashboards/{id}/home", post(dashboards::dashboard_home))
        .route(
            "/dashboards/{id}/delete",
            post(dashboards::dashboard_delete),
        )
        .route("/sla", get(sla_page))
        .route(
            "/sla/agreements",
            get(agreements_page).post(agreement_create),
        )
        .route(
            "/sla/agreements/{key}",
            get(agreement_page).post(agreement_update),
        )
        .route("/sla/agreements/{key}/targets", post(target_add))
        .route(
            "/sla/agreements/{key}/targets/{id}/delete",
            post(target_delete),
        )
        .route("/sla/calendars", get(calendars_page).post(calendar_create))
        .route(
            "/sla/calendars/{key}",
            get(calendar_page).post(calendar_update),
        )
        .route("/sla/calendars/{key}/holidays", post(holiday_add))
        .route(
            "/sla/calendars/{key}/holidays/{id}/delete",
            post(holiday_delete),
        )
        .route("/sla/report", get(report_page))
        .route("/portal", get(portal_page))
        .route("/portal/incidents/{key}", get(portal_incident_page))
        .route("/services", get(services_page).post(service_create))
        .route("/services/{id}", get(service_page).post(service_update))
        .route("/services/{id}/stage", post(service_stage))
        .route("/services/{id}/offerings", post(offering_create))
        .route("/services/{id}/offerings/{offering}", post(offering_toggle))
        .route("/services/{id}/cis", post(service_ci_link))
        .route("/services/{id}/cis/{ci}/remove", post(service_ci_unlink))
        .route("/services/{id}/graph.svg", get(service_graph))
        .route("/admin/priority-matrix", get(matrix_page).post(matrix_save))
        .route("/admin/ci-classes", get(classes_page).post(class_create))
        .route("/admin/ci-classes/{code}", post(class_update))
        .route("/admin/ci-classes/{code}/delete", post(class_delete))
        .route("/cmdb", get(cmdb_page).post(ci_create))
        .route("/cmdb/{id}", get(ci_page).post(ci_update))
        .route("/cmdb/{id}/relationships", post(ci_relate))
        .route("/cmdb/{id}/relationships/{rel}/remove", post(ci_unrelate))
        .route("/projects", get(projects_page).post(project_create))
        .route(
            "/applications",
            get(applications_page).post(application_create),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            render_failures,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::authenticate_ui,
        ))
        .layer(axum::middleware::from_fn(middleware::html_headers))
        .with_state(state)
}

/// Who is looking, and in which language.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub principal: Option<Arc<Principal>>,
    pub locale: Locale,
    pub request_id: String,
    pub path: String,
}

impl Viewer {
    pub fn ctx(&self) -> Option<Ctx> {
        self.principal
            .clone()
            .map(|p| Ctx::new(p, self.request_id.clone()))
    }
}

pub fn locale_of(parts_headers: &axum::http::HeaderMap, principal: Option<&Principal>) -> Locale {
    if let Some(p) = principal {
        return p.locale;
    }
    if let Some(l) = cookie(parts_headers, LANG_COOKIE).and_then(|v| Locale::parse(v).ok()) {
        return l;
    }
    negotiate(
        parts_headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

impl<S: Send + Sync> FromRequestParts<S> for Viewer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let principal = parts.extensions.get::<Arc<Principal>>().cloned();
        let locale = locale_of(&parts.headers, principal.as_deref());
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Viewer {
            principal,
            locale,
            request_id: crate::extract::request_id(parts),
            path,
        })
    }
}

/// The signed-in person, or a redirect to the sign-in page.
pub struct SignedIn(pub Ctx, pub Viewer);

impl<S: Send + Sync> FromRequestParts<S> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Ok(viewer) = Viewer::from_request_parts(parts, state).await;
        match viewer.ctx() {
            Some(ctx) => Ok(SignedIn(ctx, viewer)),
            None => {
                let next = if viewer.path == "/" {
                    String::new()
                } else {
                    format!("?next={}", encode(&viewer.path))
                };
                Err(Redirect::to(&format!("/login{next}")).into_response())
            }
        }
    }
}

/// A signed-in person's visit to a page: the application, their context and how they see
/// it, in one extractor (or a redirect to the sign-in page).
pub struct Visit {
    pub state: AppState,
    pub ctx: Ctx,
    pub viewer: Viewer,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let SignedIn(ctx, viewer) = SignedIn::from_request_parts(parts, state).await?;
        Ok(Visit {
            state: state.clone(),
            ctx,
            viewer,
        })
    }
}

impl Visit {
    /// A page's frame for this visit.
    pub fn chrome(&self, section: &'static str, title: &str) -> Chrome<'_> {
        Chrome::new(&self.state, &self.viewer, section, title)
    }
}

/// The translator for a viewer's language.
pub(crate) fn tr<'a>(state: &'a AppState, viewer: &Viewer) -> Tr<'a> {
    Tr {
        i18n: &state.i18n,
        locale: viewer.locale,
    }
}

pub fn encode(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

/// A page's frame: language, who is signed in, which section, messages.
pub struct Chrome<'a> {
    pub t: Tr<'a>,
    pub user: Option<UserView>,
    pub section: &'static str,
    pub title: String,
    pub path: String,
    pub notice: Option<String>,
    pub errors: Vec<String>,
}

pub struct UserView {
    pub name: String,
    pub login: String,
    pub initial: String,
    pub is_admin: bool,
    /// An agent of the provider: sees the portfolio, the CMDB and the project lists.
    pub is_staff: bool,
}

impl<'a> Chrome<'a> {
    pub fn new(
        state: &'a AppState,
        viewer: &Viewer,
        section: &'static str,
        title_id: &str,
    ) -> Self {
        let t = Tr {
            i18n: &state.i18n,
            locale: viewer.locale,
        };
        let user = viewer.principal.as_ref().map(|p| UserView {
            name: p.name.clone(),
            login: p.login.clone(),
            initial: p
                .name
                .chars()
                .next()
                .map(|c| c.to_uppercase().to_string())
                .unwrap_or_default(),
            is_admin: p.has(Role::Admin),
            is_staff: p.is_provider_agent(),
        });
        Self {
            title: t.get(title_id),
            t,
            user,
            section,
            path: viewer.path.clone(),
            notice: None,
            errors: Vec::new(),
        }
    }
}

/// Renders a template, or a plain 500 if that fails.
pub fn render<T: Template>(status: StatusCode, page: &T) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
        }
    }
}

#[derive(Template)]
#[template(path = "error.html")]
pub struct ErrorPage<'a> {
    pub chrome: Chrome<'a>,
    pub message: String,
}

/// The localized messages for an error, for a page or a form.
pub fn messages(t: Tr<'_>, e: &AppError) -> Vec<String> {
    match e {
        AppError::Validation(fields) => fields
            .iter()
            .map(|f| {
                let label_id = format!("field-{}", f.field.replace('_', "-"));
                let label = t.get(&label_id);
                let label = if label == label_id {
                    f.field.clone()
                } else {
                    label
                };
                let id = format!("err-{}", f.code);
                let text = t.arg(&id, "field", &label);
                if text == id {
                    let mut args = fluent_bundle::FluentArgs::new();
                    args.set("field", label);
                    args.set("message", f.message.clone());
                    t.i18n.text(t.locale, "err-other", Some(&args))
                } else {
                    text
                }
            })
            .collect(),
        AppError::Conflict {
            code,
            message,
            field,
        } => vec![match *code {
            "already_exists" => {
                let f = field.clone().unwrap_or_default();
                let label_id = format!("field-{}", f.replace('_', "-"));
                let label = t.get(&label_id);
                t.arg(
                    "error-exists",
                    "field",
                    if label == label_id { &f } else { &label },
                )
            }
            "in_use" => t.get("error-in-use"),
            "last_admin" => t.get("error-last-admin"),
            "edit_conflict" => t.get("error-stale"),
            "invalid_transition" | "same_stage" => t.arg("error-transition", "detail", message),
            "service_not_in_catalogue" => t.get("error-not-in-catalogue"),
            "builtin" => t.get("error-builtin"),
            "in_review" => t.get("error-kb-in-review"),
            "not_draft" => t.get("error-kb-not-draft"),
            "not_in_review" => t.get("error-kb-not-in-review"),
            "not_published" => t.get("error-kb-not-published"),
            "no_reviewers" => t.get("error-kb-no-reviewers"),
            "already_addressed" => t.get("error-kb-already-addressed"),
            "not_in_queue" => t.get("error-kb-not-in-queue"),
            "not_quarantined" => t.get("error-mail-not-quarantined"),
            _ => t.arg("error-conflict", "detail", message),
        }],
        AppError::PreconditionFailed => vec![t.get("error-stale")],
        AppError::Forbidden | AppError::Unauthenticated => vec![t.get("error-forbidden")],
        AppError::NotFound => vec![t.get("error-not-found")],
        AppError::RateLimited { retry_after_secs } => {
            vec![t.num("login-locked", "minutes", (retry_after_secs + 59) / 60)]
        }
        AppError::BadCredentials => vec![t.get("login-bad")],
        AppError::Unavailable(_) | AppError::Contention => vec![t.get("error-unavailable")],
        AppError::Internal(cause) => {
            tracing::error!(error = %cause, "request failed");
            vec![t.get("error-internal")]
        }
    }
}

/// An error page for a failed page load.
pub fn error_response(state: &AppState, viewer: &Viewer, e: AppError) -> Response {
    failure_page(state, viewer, &e)
}

fn failure_page(state: &AppState, viewer: &Viewer, e: &AppError) -> Response {
    let status = match e {
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Forbidden | AppError::Unauthenticated => StatusCode::FORBIDDEN,
        AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Conflict { .. } => StatusCode::CONFLICT,
        AppError::PreconditionFailed => StatusCode::PRECONDITION_FAILED,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable(_) | AppError::Contention => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let chrome = Chrome::new(state, viewer, "", "error-title");
    let message = messages(chrome.t, e).join(" ");
    render(status, &ErrorPage { chrome, message })
}

/// What a page handler fails with. `?` turns a use case's error into it, and the UI's
/// error layer ([`render_failures`]) shows it as the error page in the viewer's language,
/// with the status the error calls for. A form that can be corrected is shown again with
/// its reasons instead: its view takes the error (see `ui::task::after`).
#[derive(Debug)]
pub struct PageError(pub AppError);

impl From<AppError> for PageError {
    fn from(e: AppError) -> Self {
        Self(e)
    }
}

/// A page, or why it cannot be shown.
pub type PageResult = Result<Response, PageError>;

/// The failure a handler answered with, carried to the error layer.
#[derive(Clone)]
struct Failed(Arc<AppError>);

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let mut r = StatusCode::INTERNAL_SERVER_ERROR.into_response();
        r.extensions_mut().insert(Failed(Arc::new(self.0)));
        r
    }
}

/// Renders a handler's [`PageError`] as the error page; the viewer is read from the request
/// before the handler runs.
async fn render_failures(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    let (mut parts, body) = req.into_parts();
    let Ok(viewer) = Viewer::from_request_parts(&mut parts, &state).await;
    let mut res = next.run(Request::from_parts(parts, body)).await;
    match res.extensions_mut().remove::<Failed>() {
        Some(Failed(e)) => failure_page(&state, &viewer, &e),
        None => res,
    }
}

/// An error page from a middleware, before handlers run.
pub fn error_page(state: &AppState, req: &Request, e: AppError) -> Response {
    let viewer = Viewer {
        principal: None,
        locale: locale_of(req.headers(), None),
        request_id: String::new(),
        path: req.uri().path().to_owned(),
    };
    error_response(state, &viewer, e)
}

async fn not_found(
    axum::extract::State(state): axum::extract::State<AppState>,
    viewer: Viewer,
) -> Response {
    error_response(&state, &viewer, AppError::NotFound)
}

/// A form body: repeated names allowed.
pub struct FormData(pub Vec<(String, String)>);

impl FormData {
    pub fn parse(bytes: &[u8]) -> Self {
        Self(form_urlencoded::parse(bytes).into_owned().collect())
    }
    pub fn get(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
    pub fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or_default()
    }
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }
    /// An optional text: empty means none.
    pub fn opt(&self, name: &str) -> Option<String> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }
    pub fn version(&self) -> Option<i64> {
        self.get("version").and_then(|v| v.parse().ok())
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for FormData {
    type Rejection = Response;

    async fn from_request(req: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::to_bytes(req.into_body(), 256 * 1024)
            .await
            .map_err(|_| {
                (StatusCode::PAYLOAD_TOO_LARGE, "The form is too large.").into_response()
            })?;
        Ok(FormData::parse(&bytes))
    }
}

/// What was typed into a create form, to show again when it is refused.
#[derive(Default)]
pub struct Draft(Vec<(String, String)>);

impl Draft {
    pub fn from_form(form: &FormData) -> Self {
        Self(
            form.0
                .iter()
                .filter(|(k, _)| !k.contains("password"))
                .cloned()
                .collect(),
        )
    }
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.0.iter().any(|(k, v)| k == name && v == value)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `303 See Other` to `to` with a notice code.
pub fn see_other(to: &str, notice: Option<&str>) -> Response {
    let location = match notice {
        Some(n) => format!("{to}{}notice={n}", if to.contains('?') { '&' } else { '?' }),
        None => to.to_owned(),
    };
    Redirect::to(&location).into_response()
}

/// A `Set-Cookie` header value.
pub fn set_cookie(name: &str, value: &str, secure: bool, max_age: Option<i64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if secure {
        c.push_str("; Secure");
    }
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("invalid=; Path=/"))
}

pub(crate) fn session_cookie_name() -> &'static str {
    SESSION_COOKIE
}
