//! Pages of the service portfolio and the CMDB: the portfolio board, service pages with their
//! lifecycle, offerings and CIs, the CI list and CI pages with relationships and impact, and
//! the project and application lists.

use super::views::{HistoryRow, history_rows, notice, refusal, when};
use super::*;
use crate::AppState;
use axum::extract::{Path, Query, State};
use sigap_core::listing::ListParams;
use sigap_core::portfolio::{
    self, DesignPackage, Level, LinkTarget, Priority, ProposedTarget, Requirement, Risk,
};
use sigap_core::{FieldError, cmdb, projects};
use sigap_domain::cmdb::{AttrType, CiStatus, RelKind};
use sigap_domain::portfolio::{AppStatus, ProjectStatus};
use sigap_domain::{PortfolioStatus, Stage};
use std::collections::HashMap;

fn stage_label(t: Tr<'_>, s: Stage) -> String {
    t.get(&format!("stage-{}", s.code()))
}

fn status_label(t: Tr<'_>, s: PortfolioStatus) -> String {
    t.get(&format!("portfolio-{}", s.code()))
}

/// A service as the board and lists show it.
pub struct ServiceCard {
    pub id: String,
    pub name: String,
    pub criticality: i64,
    pub owner: String,
    pub review: String,
}

pub struct BoardColumn {
    pub stage: String,
    pub label: String,
    pub cards: Vec<ServiceCard>,
}

pub struct BoardGroup {
    pub status: String,
    pub label: String,
    pub columns: Vec<BoardColumn>,
}

#[derive(Template)]
#[template(path = "services.html")]
pub struct ServicesPage<'a> {
    pub chrome: Chrome<'a>,
    pub staff: bool,
    pub groups: Vec<BoardGroup>,
    pub with_retired: bool,
    pub catalogue: Vec<ServiceCard>,
    pub draft: Draft,
}

fn card(s: &sigap_core::model::Service) -> ServiceCard {
    ServiceCard {
        id: s.id.to_string(),
        name: s.name.clone(),
        criticality: s.criticality.get(),
        owner: s.owner.as_ref().map(|o| o.name.clone()).unwrap_or_default(),
        review: s.review_date.map(|d| d.to_string()).unwrap_or_default(),
    }
}

fn is_staff(ctx: &Ctx) -> bool {
    ctx.principal.is_provider_agent()
}

async fn services_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    let staff = is_staff(ctx);
    let with_retired = q.get("retired").is_some_and(|v| v == "true");
    let mut chrome = Chrome::new(state, viewer, "services", "services-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let (groups, catalogue) = if staff {
        let services = portfolio::board(&state.core, ctx, with_retired).await?;
        let groups = PortfolioStatus::ALL
            .iter()
            .filter(|st| with_retired || **st != PortfolioStatus::Retired)
            .map(|st| BoardGroup {
                status: st.code().into(),
                label: status_label(tt, *st),
                columns: Stage::of_status(*st)
                    .into_iter()
                    .map(|stage| BoardColumn {
                        stage: stage.code().into(),
                        label: stage_label(tt, stage),
                        cards: services
                            .iter()
                            .filter(|s| s.stage == stage)
                            .map(card)
                            .collect(),
                    })
                    .collect(),
            })
            .collect();
        (groups, Vec::new())
    } else {
        let params = ListParams {
            limit: Some(500),
            ..Default::default()
        };
        let p = portfolio::list(&state.core, ctx, Default::default(), &params).await?;
        (Vec::new(), p.items.iter().map(card).collect())
    };
    Ok(render(
        status,
        &ServicesPage {
            chrome,
            staff,
            groups,
            with_retired,
            catalogue,
            draft,
        },
    ))
}

pub async fn services_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    services_view(&state, &ctx, &viewer, &q, Draft::default(), None).await
}

pub async fn service_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    let input = portfolio::ServiceInput {
        name: form.get("name"),
        description: form.get("description"),
        criticality: form.get("criticality").and_then(|c| c.trim().parse().ok()),
        owner: form.opt("owner").map(Some),
        ..Default::default()
    };
    match portfolio::create(&state.core, &ctx, input).await {
        Ok(s) => Ok(see_other(&format!("/services/{}", s.id), Some("created"))),
        Err(e) => {
            let draft = Draft::from_form(&form);
            services_view(&state, &ctx, &viewer, &HashMap::new(), draft, Some(e)).await
        }
    }
}

// ----- one service -----

pub struct OfferingRow {
    pub id: String,
    pub name: String,
    pub description: String,
    pub hours: String,
    pub active: bool,
    pub version: i64,
}

pub struct MoveRow {
    pub when: String,
    pub who: String,
    pub from: String,
    pub to: String,
    pub reason: String,
}

pub struct ServiceView {
    pub id: String,
    pub name: String,
    pub description: String,
    pub value_outcomes: String,
    pub stage: String,
    pub stage_label: String,
    pub status: String,
    pub status_label: String,
    pub criticality: i64,
    pub owner: String,
    pub owner_login: String,
    pub sponsor: String,
    pub sponsor_login: String,
    pub requester: String,
    pub requester_login: String,
    pub design_group: String,
    pub planned_cost: String,
    pub actual_cost: String,
    pub review_date: String,
    pub version: i64,
}

/// The design package as editable text, one entry per line.
pub struct DesignText {
    pub requirements: String,
    pub targets: String,
    pub dependencies: String,
    pub risks: String,
    pub acceptance: String,
    pub empty: bool,
}

fn priority_code(p: Priority) -> &'static str {
    match p {
        Priority::Must => "must",
        Priority::Should => "should",
        Priority::Could => "could",
        Priority::Wont => "wont",
    }
}

fn level_code(l: Level) -> &'static str {
    match l {
        Level::Low => "low",
        Level::Medium => "medium",
        Level::High => "high",
    }
}

fn design_text(d: &DesignPackage) -> DesignText {
    let lines = |v: Vec<String>| v.join("\n");
    DesignText {
        requirements: lines(
            d.requirements
                .iter()
                .map(|r| format!("{} | {}", priority_code(r.priority), r.text))
                .collect(),
        ),
        targets: lines(
            d.service_level_targets
                .iter()
                .map(|t| format!("{} | {}", t.metric, t.target))
                .collect(),
        ),
        dependencies: d.dependencies.join("\n"),
        risks: lines(
            d.risks
                .iter()
                .map(|r| {
                    format!(
                        "{} | {} | {} | {}",
                        r.description,
                        level_code(r.likelihood),
                        level_code(r.impact),
                        r.mitigation
                    )
                })
                .collect(),
        ),
        acceptance: d.acceptance_criteria.join("\n"),
        empty: *d == DesignPackage::default(),
    }
}

/// Reads the design package from its text areas; refuses lines that do not fit.
fn parse_design(form: &FormData) -> Result<DesignPackage, AppError> {
    let mut errs = Vec::new();
    let lines = |name: &str| -> Vec<String> {
        form.text(name)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let split = |l: &str| -> Vec<String> { l.split('|').map(|p| p.trim().to_owned()).collect() };
    let priority = |p: &str| match p.to_lowercase().as_str() {
        "must" => Some(Priority::Must),
        "should" => Some(Priority::Should),
        "could" => Some(Priority::Could),
        "wont" | "won't" => Some(Priority::Wont),
        _ => None,
    };
    let level = |p: &str| match p.to_lowercase().as_str() {
        "low" | "rendah" => Some(Level::Low),
        "medium" | "sedang" => Some(Level::Medium),
        "high" | "tinggi" => Some(Level::High),
        _ => None,
    };
    let mut d = DesignPackage::default();
    for (i, l) in lines("requirements").iter().enumerate() {
        let parts = split(l);
        match (parts.first().and_then(|p| priority(p)), parts.get(1)) {
            (Some(p), Some(text)) if parts.len() == 2 => d.requirements.push(Requirement {
                text: text.clone(),
                priority: p,
            }),
            _ => errs.push(FieldError::new(
                format!("design.requirements[{i}]"),
                "invalid_format",
                "write: must | text",
            )),
        }
    }
    for (i, l) in lines("targets").iter().enumerate() {
        let parts = split(l);
        match parts.as_slice() {
            [metric, target] => d.service_level_targets.push(ProposedTarget {
                metric: metric.clone(),
                target: target.clone(),
            }),
            _ => errs.push(FieldError::new(
                format!("design.service_level_targets[{i}]"),
                "invalid_format",
                "write: metric | target",
            )),
        }
    }
    d.dependencies = lines("dependencies");
    for (i, l) in lines("risks").iter().enumerate() {
        let parts = split(l);
        let parsed = match parts.as_slice() {
            [desc, li, im] => level(li)
                .zip(level(im))
                .map(|(a, b)| (desc, a, b, String::new())),
            [desc, li, im, mit] => level(li)
                .zip(level(im))
                .map(|(a, b)| (desc, a, b, mit.clone())),
            _ => None,
        };
        match parsed {
            Some((desc, likelihood, impact, mitigation)) => d.risks.push(Risk {
                description: desc.clone(),
                likelihood,
                impact,
                mitigation,
            }),
            None => errs.push(FieldError::new(
                format!("design.risks[{i}]"),
                "invalid_format",
                "write: risk | low/medium/high | low/medium/high | mitigation",
            )),
        }
    }
    d.acceptance_criteria = lines("acceptance");
    if errs.is_empty() {
        Ok(d)
    } else {
        Err(AppError::Validation(errs))
    }
}

pub struct CiLine {
    pub id: String,
    pub name: String,
    pub class: String,
}

#[derive(Template)]
#[template(path = "service.html")]
pub struct ServicePage<'a> {
    pub chrome: Chrome<'a>,
    pub staff: bool,
    pub s: ServiceView,
    pub design: DesignText,
    pub stages: Vec<(String, String, bool)>,
    pub next_stages: Vec<(String, String)>,
    pub decision_needed: bool,
    pub customers: Vec<(String, String)>,
    pub customer_ids: Vec<String>,
    pub all_customers: Vec<(String, String)>,
    pub offerings: Vec<OfferingRow>,
    pub cis: Vec<CiLine>,
    pub moves: Vec<MoveRow>,
    pub projects: Vec<(String, String)>,
    pub history: Vec<HistoryRow>,
}

async fn service_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    id: &str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let d = portfolio::detail(&state.core, ctx, id).await?;
    let staff = is_staff(ctx);
    let sid = d.service.id.to_string();
    let (history, all_orgs) = if staff {
        let params = ListParams {
            limit: Some(500),
            ..Default::default()
        };
        let orgs_q = sigap_core::orgs::OrgQuery {
            kind: Some("customer".into()),
            ..Default::default()
        };
        (
            sigap_core::audit::history(&state.core, ctx, "service", &sid).await?,
            sigap_core::orgs::list(&state.core, ctx, orgs_q, &params)
                .await?
                .items,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let mut chrome = Chrome::new(state, viewer, "services", "service-title");
    chrome.title = d.service.name.clone();
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let s = &d.service;
    let person = |p: &Option<sigap_core::model::PersonRef>| {
        p.as_ref()
            .map(|p| (p.name.clone(), p.login.clone()))
            .unwrap_or_default()
    };
    let (owner, owner_login) = person(&s.owner);
    let (sponsor, sponsor_login) = person(&s.sponsor);
    let (requester, requester_login) = person(&s.requester);
    let next_stages = s
        .stage
        .moves()
        .into_iter()
        .map(|m| (m.code().to_owned(), stage_label(tt, m)))
        .collect();
    let page = ServicePage {
        staff,
        design: design_text(&DesignPackage::from_stored(&s.design)),
        decision_needed: s.stage == Stage::Approve,
        stages: Stage::ALL
            .iter()
            .map(|st| (st.code().to_owned(), stage_label(tt, *st), *st == s.stage))
            .collect(),
        next_stages,
        customer_ids: d.customers.iter().map(|c| c.id.to_string()).collect(),
        customers: d
            .customers
            .iter()
            .map(|c| (c.id.to_string(), c.name.clone()))
            .collect(),
        all_customers: all_orgs
            .into_iter()
            .map(|o| (o.id.to_string(), o.name))
            .collect(),
        offerings: d
            .offerings
            .iter()
            .map(|o| OfferingRow {
                id: o.id.to_string(),
                name: o.name.clone(),
                description: o.description.clone(),
                hours: o.availability_hours.clone(),
                active: o.active,
                version: o.version,
            })
            .collect(),
        cis: d
            .cis
            .iter()
            .map(|c| CiLine {
                id: c.id.to_string(),
                name: c.name.clone(),
                class: c.class_code.clone(),
            })
            .collect(),
        moves: d
            .moves
            .iter()
            .rev()
            .map(|m| MoveRow {
                when: when(m.at, viewer),
                who: m.actor.clone(),
                from: stage_label(tt, m.from),
                to: stage_label(tt, m.to),
                reason: m.reason.clone(),
            })
            .collect(),
        projects: d
            .projects
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    tt.get(&format!("project-status-{}", p.status.code())),
                )
            })
            .collect(),
        history: history_rows(tt, viewer, history),
        s: ServiceView {
            id: sid.clone(),
            name: s.name.clone(),
            description: s.description.clone(),
            value_outcomes: s.value_outcomes.clone(),
            stage: s.stage.code().into(),
            stage_label: stage_label(tt, s.stage),
            status: s.status().code().into(),
            status_label: status_label(tt, s.status()),
            criticality: s.criticality.get(),
            owner,
            owner_login,
            sponsor,
            sponsor_login,
            requester,
            requester_login,
            design_group: s
                .design_group
                .as_ref()
                .map(|g| g.name.clone())
                .unwrap_or_default(),
            planned_cost: s.planned_cost.map(|c| c.to_string()).unwrap_or_default(),
            actual_cost: s.actual_cost.map(|c| c.to_string()).unwrap_or_default(),
            review_date: s.review_date.map(|d| d.to_string()).unwrap_or_default(),
            version: s.version,
        },
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn service_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    service_view(&state, &ctx, &viewer, &id, &q, None).await
}

/// Shows the service again with the error, or goes to `to` with a notice.
async fn after_service<T>(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    id: &str,
    result: Result<T, AppError>,
    notice_code: &str,
) -> PageResult {
    match result {
        Ok(_) => Ok(see_other(&format!("/services/{id}"), Some(notice_code))),
        Err(e) => service_view(state, ctx, viewer, id, &HashMap::new(), Some(e)).await,
    }
}

fn money(form: &FormData, name: &str) -> Result<Option<Option<i64>>, AppError> {
    match form.get(name) {
        None => Ok(None),
        Some(v) if v.trim().is_empty() => Ok(Some(None)),
        Some(v) => v
            .trim()
            .replace(['.', ','], "")
            .parse::<i64>()
            .map(|n| Some(Some(n)))
            .map_err(|_| AppError::field(name, "invalid_number", "must be a whole number")),
    }
}

pub async fn service_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    let result = async {
        let input = portfolio::ServiceInput {
            name: form.get("name"),
            description: form.get("description"),
            value_outcomes: form.get("value_outcomes"),
            criticality: match form.get("criticality") {
                Some(c) => Some(
                    c.trim()
                        .parse()
                        .map_err(|_| AppError::field("criticality", "invalid_number", "1–4"))?,
                ),
                None => None,
            },
            owner: form.get("owner").map(Some),
            sponsor: form.get("sponsor").map(Some),
            requester: form.get("requester").map(Some),
            design_group: form.get("design_group").map(Some),
            planned_cost: money(&form, "planned_cost")?,
            actual_cost: money(&form, "actual_cost")?,
            review_date: form.get("review_date").map(Some),
            design: if form.get("requirements").is_some() {
                Some(parse_design(&form)?)
            } else {
                None
            },
            customers: form.get("customers_sent").map(|_| form.all("customers")),
        };
        portfolio::update(&state.core, &ctx, &id, input, form.version()).await
    }
    .await;
    after_service(&state, &ctx, &viewer, &id, result, "saved").await
}

pub async fn service_stage(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    let result = portfolio::move_stage(
        &state.core,
        &ctx,
        &id,
        &form.text("stage"),
        &form.text("reason"),
        form.version(),
    )
    .await;
    after_service(&state, &ctx, &viewer, &id, result, "moved").await
}

pub async fn offering_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    let input = portfolio::OfferingInput {
        name: form.get("name"),
        description: form.get("description"),
        availability_hours: form.get("availability_hours"),
        active: None,
    };
    let result = portfolio::create_offering(&state.core, &ctx, &id, input).await;
    after_service(&state, &ctx, &viewer, &id, result, "created").await
}

pub async fn offering_toggle(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path((id, offering)): Path<(String, String)>,
    form: FormData,
) -> PageResult {
    let input = portfolio::OfferingInput {
        active: Some(form.get("active").is_some_and(|v| v == "true")),
        ..Default::default()
    };
    let result =
        portfolio::update_offering(&state.core, &ctx, &offering, input, form.version()).await;
    after_service(&state, &ctx, &viewer, &id, result, "saved").await
}

pub async fn service_ci_link(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    let result = portfolio::link_ci(
        &state.core,
        &ctx,
        LinkTarget::Service(id.clone()),
        &form.text("ci"),
        true,
    )
    .await;
    after_service(&state, &ctx, &viewer, &id, result, "linked").await
}

pub async fn service_ci_unlink(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path((id, ci)): Path<(String, String)>,
) -> PageResult {
    let result = portfolio::link_ci(
        &state.core,
        &ctx,
        LinkTarget::Service(id.clone()),
        &ci,
        false,
    )
    .await;
    after_service(&state, &ctx, &viewer, &id, result, "unlinked").await
}

/// The dependency graph of a service, as an image for the service page.
pub async fn service_graph(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
) -> PageResult {
    let (service, deps) = (
        portfolio::get(&state.core, &ctx, &id).await?,
        cmdb::dependencies(&state.core, &ctx, &id).await?,
    );
    let labels = crate::graph::labels(tr(&state, &viewer), service.name.clone());
    Ok(svg(crate::graph::dependencies_svg(
        &service.name,
        &deps,
        &labels,
    )))
}

fn svg(body: String) -> Response {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

// ----- the CMDB -----

pub struct CiRow {
    pub id: String,
    pub name: String,
    pub class: String,
    pub status: String,
    pub location: String,
    pub group: String,
}

#[derive(Template)]
#[template(path = "cmdb.html")]
pub struct CmdbPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<CiRow>,
    pub classes: Vec<(String, String, bool)>,
    pub statuses: Vec<(String, String)>,
    pub status: String,
    pub q: String,
    pub next_link: Option<String>,
    pub draft: Draft,
}

fn status_options(tt: Tr<'_>) -> Vec<(String, String)> {
    CiStatus::ALL
        .iter()
        .map(|s| {
            (
                s.code().to_owned(),
                tt.get(&format!("ci-status-{}", s.code())),
            )
        })
        .collect()
}

async fn cmdb_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &[(String, String)],
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let chosen: Vec<String> = q
        .iter()
        .filter(|(n, v)| n == "class" && !v.is_empty())
        .map(|(_, v)| v.clone())
        .collect();
    let query = cmdb::CiQuery {
        class: (!chosen.is_empty()).then(|| chosen.join(",")),
        status: get("status"),
        owner_group: None,
        q: get("q"),
    };
    let params = ListParams {
        cursor: get("cursor"),
        sort: get("sort"),
        limit: Some(50),
    };
    let (page, classes) = (
        cmdb::list_cis(&state.core, ctx, query, &params).await?,
        cmdb::classes(&state.core, ctx).await?,
    );
    let mut chrome = Chrome::new(state, viewer, "cmdb", "cmdb-title");
    let qmap: HashMap<String, String> = q.iter().cloned().collect();
    notice(&mut chrome, &qmap);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let next_link = page.next_cursor.map(|c| {
        let mut parts: Vec<String> = q
            .iter()
            .filter(|(n, _)| n != "cursor" && n != "notice")
            .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
            .collect();
        parts.push(format!("cursor={}", encode(&c)));
        format!("/cmdb?{}", parts.join("&"))
    });
    let rows = page
        .items
        .into_iter()
        .map(|c| CiRow {
            id: c.id.to_string(),
            class: c.class_name,
            status: tt.get(&format!("ci-status-{}", c.status.code())),
            location: c.location,
            group: c.owner_group.map(|g| g.name).unwrap_or_default(),
            name: c.name,
        })
        .collect();
    Ok(render(
        status,
        &CmdbPage {
            rows,
            classes: classes
                .into_iter()
                .map(|c| {
                    let on = chosen.contains(&c.code);
                    (c.code, c.name, on)
                })
                .collect(),
            statuses: status_options(tt),
            status: get("status").unwrap_or_default(),
            q: get("q").unwrap_or_default(),
            next_link,
            draft,
            chrome,
        },
    ))
}

/// The query string as pairs, repeated names kept (several classes).
pub struct QueryPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for QueryPairs {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        let q = parts.uri.query().unwrap_or("");
        Ok(QueryPairs(
            form_urlencoded::parse(q.as_bytes()).into_owned().collect(),
        ))
    }
}

pub async fn cmdb_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    QueryPairs(q): QueryPairs,
) -> PageResult {
    cmdb_view(&state, &ctx, &viewer, &q, Draft::default(), None).await
}

pub async fn ci_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    let input = cmdb::CiInput {
        class: form.get("class"),
        name: form.get("name"),
        status: form.opt("status"),
        location: form.get("location"),
        serial: form.get("serial"),
        owner_group: form.opt("owner_group").map(Some),
        attributes: None,
    };
    match cmdb::create_ci(&state.core, &ctx, input).await {
        Ok(c) => Ok(see_other(&format!("/cmdb/{}", c.id), Some("created"))),
        Err(e) => {
            let draft = Draft::from_form(&form);
            cmdb_view(&state, &ctx, &viewer, &[], draft, Some(e)).await
        }
    }
}

pub struct AttrField {
    pub code: String,
    pub label: String,
    pub kind: String,
    pub value: String,
    pub required: bool,
    pub choices: Vec<String>,
}

pub struct RelRow {
    pub id: String,
    /// The other CI.
    pub other_id: String,
    pub other_name: String,
    pub other_class: String,
    /// The relationship type as words; the template puts the source first.
    pub phrase: String,
    pub outgoing: bool,
}

pub struct Affected {
    pub name: String,
    pub href: String,
    pub depth: u32,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "ci.html")]
pub struct CiPage<'a> {
    pub chrome: Chrome<'a>,
    pub id: String,
    pub name: String,
    pub class_name: String,
    pub status: String,
    pub statuses: Vec<(String, String)>,
    pub location: String,
    pub serial: String,
    pub group: String,
    pub version: i64,
    pub attributes: Vec<AttrField>,
    pub relationships: Vec<RelRow>,
    pub kinds: Vec<(String, String)>,
    pub services: Vec<(String, String)>,
    pub impact_cis: usize,
    pub impact_services: Vec<Affected>,
    pub impact_offerings: Vec<Affected>,
    pub impact_customers: Vec<(String, String)>,
    pub truncated: bool,
    pub graph: String,
    pub history: Vec<HistoryRow>,
}

fn attr_text(v: Option<&serde_json::Value>) -> String {
    match v {
        None | Some(serde_json::Value::Null) => String::new(),
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

async fn ci_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    id: &str,
    q: &HashMap<String, String>,
    refused: Option<AppError>,
) -> PageResult {
    let d = cmdb::ci_detail(&state.core, ctx, id).await?;
    let cid = d.ci.id.to_string();
    let (impact, history) = (
        cmdb::impact(&state.core, ctx, &cid).await?,
        sigap_core::audit::history(&state.core, ctx, "ci", &cid).await?,
    );
    let mut chrome = Chrome::new(state, viewer, "cmdb", "ci-title");
    chrome.title = d.ci.name.clone();
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let labels = crate::graph::labels(tt, d.ci.name.clone());
    let graph = crate::graph::impact_svg(&impact, &labels);
    let attributes = cmdb::attr_defs(&d.class)
        .into_iter()
        .map(|a| AttrField {
            value: attr_text(d.ci.attributes.get(&a.code)),
            kind: match a.kind {
                AttrType::Integer | AttrType::Number => "number".into(),
                AttrType::Date => "date".into(),
                AttrType::Boolean => "boolean".into(),
                AttrType::Choice => "choice".into(),
                AttrType::Text => "text".into(),
            },
            code: a.code,
            label: a.label,
            required: a.required,
            choices: a.choices,
        })
        .collect();
    let relationships = d
        .relationships
        .iter()
        .map(|r| {
            let outgoing = r.source.id == d.ci.id;
            let other = if outgoing { &r.target } else { &r.source };
            RelRow {
                id: r.id.to_string(),
                other_id: other.id.to_string(),
                other_name: other.name.clone(),
                other_class: other.class_code.clone(),
                phrase: tt.get(&format!("rel-{}", r.kind.code())),
                outgoing,
            }
        })
        .collect();
    let page = CiPage {
        id: cid,
        name: d.ci.name.clone(),
        class_name: d.ci.class_name.clone(),
        status: d.ci.status.code().into(),
        statuses: status_options(tt),
        location: d.ci.location.clone(),
        serial: d.ci.serial.clone(),
        group: d
            .ci
            .owner_group
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_default(),
        version: d.ci.version,
        attributes,
        relationships,
        kinds: super::task::choices(tt, "rel", RelKind::ALL.iter().map(|k| k.code())),
        services: d
            .services
            .iter()
            .map(|(id, name)| (id.to_string(), name.clone()))
            .collect(),
        impact_cis: impact.cis.len(),
        impact_services: impact
            .services
            .iter()
            .map(|s| Affected {
                name: s.name.clone(),
                href: format!("/services/{}", s.id),
                depth: s.depth,
                active: s.active,
            })
            .collect(),
        impact_offerings: impact
            .offerings
            .iter()
            .map(|o| Affected {
                name: o.name.clone(),
                href: o
                    .service
                    .map(|s| format!("/services/{s}"))
                    .unwrap_or_default(),
                depth: o.depth,
                active: o.active,
            })
            .collect(),
        impact_customers: impact
            .customers
            .iter()
            .map(|c| (c.id.to_string(), c.name.clone()))
            .collect(),
        truncated: impact.truncated,
        graph,
        history: history_rows(tt, viewer, history),
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn ci_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    ci_view(&state, &ctx, &viewer, &id, &q, None).await
}

async fn after_ci<T>(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    id: &str,
    result: Result<T, AppError>,
    notice_code: &str,
) -> PageResult {
    match result {
        Ok(_) => Ok(see_other(&format!("/cmdb/{id}"), Some(notice_code))),
        Err(e) => ci_view(state, ctx, viewer, id, &HashMap::new(), Some(e)).await,
    }
}

pub async fn ci_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    let mut attributes = serde_json::Map::new();
    for (k, v) in &form.0 {
        if let Some(code) = k.strip_prefix("attr.") {
            attributes.insert(code.to_owned(), serde_json::Value::String(v.clone()));
        }
    }
    let input = cmdb::CiInput {
        class: None,
        name: form.get("name"),
        status: form.get("status"),
        owner_group: form.get("owner_group").map(Some),
        location: form.get("location"),
        serial: form.get("serial"),
        attributes: Some(attributes),
    };
    let result = cmdb::update_ci(&state.core, &ctx, &id, input, form.version()).await;
    after_ci(&state, &ctx, &viewer, &id, result, "saved").await
}

pub async fn ci_relate(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    let other = form.text("other");
    let (source, target) = if form.get("direction").is_some_and(|d| d == "in") {
        (other, id.clone())
    } else {
        (id.clone(), other)
    };
    let input = cmdb::RelInput {
        source: Some(source),
        kind: form.get("type"),
        target: Some(target),
    };
    let result = cmdb::create_rel(&state.core, &ctx, input).await;
    after_ci(&state, &ctx, &viewer, &id, result, "linked").await
}

pub async fn ci_unrelate(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path((id, rel)): Path<(String, String)>,
) -> PageResult {
    let result = cmdb::delete_rel(&state.core, &ctx, &rel).await;
    after_ci(&state, &ctx, &viewer, &id, result, "unlinked").await
}

// ----- projects and applications -----

pub struct ProjectRow {
    pub name: String,
    pub status: String,
    pub dates: String,
    pub budget: String,
    pub manager: String,
}

#[derive(Template)]
#[template(path = "projects.html")]
pub struct ProjectsPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<ProjectRow>,
    pub statuses: Vec<(String, String)>,
    pub status: String,
    pub q: String,
    pub next_link: Option<String>,
    pub draft: Draft,
}

async fn projects_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    let query = projects::ProjectQuery {
        status: q.get("status").cloned(),
        service: None,
        q: q.get("q").cloned(),
    };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: None,
        limit: Some(50),
    };
    let page = projects::list_projects(&state.core, ctx, query, &params).await?;
    let mut chrome = Chrome::new(state, viewer, "projects", "projects-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let (qtext, stext) = (
        q.get("q").cloned().unwrap_or_default(),
        q.get("status").cloned().unwrap_or_default(),
    );
    let next_link = page.next_cursor.map(|c| {
        format!(
            "/projects?q={}&status={}&cursor={}",
            encode(&qtext),
            encode(&stext),
            encode(&c)
        )
    });
    let rows = page
        .items
        .into_iter()
        .map(|p| ProjectRow {
            status: tt.get(&format!("project-status-{}", p.status.code())),
            dates: match (p.start_date, p.end_date) {
                (Some(a), Some(b)) => format!("{a} – {b}"),
                (Some(a), None) => format!("{a} –"),
                (None, Some(b)) => format!("– {b}"),
                (None, None) => String::new(),
            },
            budget: p.budget.map(|b| b.to_string()).unwrap_or_default(),
            manager: p.manager.map(|m| m.name).unwrap_or_default(),
            name: p.name,
        })
        .collect();
    Ok(render(
        status,
        &ProjectsPage {
            rows,
            statuses: ProjectStatus::ALL
                .iter()
                .map(|s| {
                    (
                        s.code().to_owned(),
                        tt.get(&format!("project-status-{}", s.code())),
                    )
                })
                .collect(),
            status: stext,
            q: qtext,
            next_link,
            draft,
            chrome,
        },
    ))
}

pub async fn projects_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    projects_view(&state, &ctx, &viewer, &q, Draft::default(), None).await
}

pub async fn project_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    let result = async {
        let input = projects::ProjectInput {
            name: form.get("name"),
            description: form.get("description"),
            status: form.opt("status"),
            start_date: form.opt("start_date").map(Some),
            end_date: form.opt("end_date").map(Some),
            budget: money(&form, "budget")?,
            manager: form.opt("manager").map(Some),
            services: form.opt("services").map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_owned)
                    .collect()
            }),
        };
        projects::create_project(&state.core, &ctx, input).await
    }
    .await;
    match result {
        Ok(_) => Ok(see_other("/projects", Some("created"))),
        Err(e) => {
            let draft = Draft::from_form(&form);
            projects_view(&state, &ctx, &viewer, &HashMap::new(), draft, Some(e)).await
        }
    }
}

pub struct AppRow {
    pub name: String,
    pub function: String,
    pub status: String,
    pub developing: String,
    pub supporting: String,
}

#[derive(Template)]
#[template(path = "applications.html")]
pub struct ApplicationsPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<AppRow>,
    pub statuses: Vec<(String, String)>,
    pub status: String,
    pub q: String,
    pub next_link: Option<String>,
    pub draft: Draft,
}

async fn apps_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    let query = projects::ApplicationQuery {
        status: q.get("status").cloned(),
        group: None,
        service: None,
        q: q.get("q").cloned(),
    };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: None,
        limit: Some(50),
    };
    let page = projects::list_apps(&state.core, ctx, query, &params).await?;
    let mut chrome = Chrome::new(state, viewer, "applications", "apps-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let tt = chrome.t;
    let (qtext, stext) = (
        q.get("q").cloned().unwrap_or_default(),
        q.get("status").cloned().unwrap_or_default(),
    );
    let next_link = page.next_cursor.map(|c| {
        format!(
            "/applications?q={}&status={}&cursor={}",
            encode(&qtext),
            encode(&stext),
            encode(&c)
        )
    });
    let rows = page
        .items
        .into_iter()
        .map(|a| AppRow {
            status: tt.get(&format!("app-status-{}", a.status.code())),
            function: a.function,
            developing: a.developing_group.map(|g| g.name).unwrap_or_default(),
            supporting: a.supporting_group.map(|g| g.name).unwrap_or_default(),
            name: a.name,
        })
        .collect();
    Ok(render(
        status,
        &ApplicationsPage {
            rows,
            statuses: AppStatus::ALL
                .iter()
                .map(|s| {
                    (
                        s.code().to_owned(),
                        tt.get(&format!("app-status-{}", s.code())),
                    )
                })
                .collect(),
            status: stext,
            q: qtext,
            next_link,
            draft,
            chrome,
        },
    ))
}

pub async fn applications_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    apps_view(&state, &ctx, &viewer, &q, Draft::default(), None).await
}

pub async fn application_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    let input = projects::ApplicationInput {
        name: form.get("name"),
        description: form.get("description"),
        function: form.get("function"),
        status: form.opt("status"),
        developing_group: form.opt("developing_group").map(Some),
        supporting_group: form.opt("supporting_group").map(Some),
        services: None,
        cis: None,
    };
    match projects::create_app(&state.core, &ctx, input).await {
        Ok(_) => Ok(see_other("/applications", Some("created"))),
        Err(e) => {
            let draft = Draft::from_form(&form);
            apps_view(&state, &ctx, &viewer, &HashMap::new(), draft, Some(e)).await
        }
    }
}

// ----- CI classes (administrators) -----

pub struct ClassRow {
    pub code: String,
    pub name: String,
    pub builtin: bool,
    pub attributes: String,
    /// The attribute definitions as editable lines.
    pub lines: String,
    pub version: i64,
}

#[derive(Template)]
#[template(path = "ci_classes.html")]
pub struct ClassesPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<ClassRow>,
    pub draft: Draft,
}

fn attr_line(a: &sigap_domain::cmdb::AttrDef) -> String {
    let mut parts = vec![
        a.code.clone(),
        a.label.clone(),
        a.kind.code().to_owned(),
        if a.required {
            "required".into()
        } else {
            String::new()
        },
    ];
    if !a.choices.is_empty() {
        parts.push(a.choices.join(", "));
    }
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts.join(" | ")
}

/// Reads attribute definitions, one per line: `code | label | type | required | choices`.
fn parse_attr_lines(text: &str) -> Result<Vec<sigap_domain::cmdb::AttrDef>, AppError> {
    let mut out = Vec::new();
    let mut errs = Vec::new();
    for (i, line) in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .enumerate()
    {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let kind = parts.get(2).map(|k| AttrType::parse(k));
        match (parts.first(), parts.get(1), kind) {
            (Some(code), Some(label), Some(Ok(kind))) if parts.len() <= 5 => {
                out.push(sigap_domain::cmdb::AttrDef {
                    code: (*code).to_owned(),
                    label: (*label).to_owned(),
                    kind,
                    required: parts.get(3).is_some_and(|r| {
                        matches!(r.to_lowercase().as_str(), "required" | "yes" | "wajib")
                    }),
                    choices: parts
                        .get(4)
                        .map(|c| {
                            c.split(',')
                                .map(str::trim)
                                .filter(|c| !c.is_empty())
                                .map(str::to_owned)
                                .collect()
                        })
                        .unwrap_or_default(),
                });
            }
            _ => errs.push(FieldError::new(
                format!("attributes[{i}]"),
                "invalid_format",
                "write: code | label | type | required | choices",
            )),
        }
    }
    if errs.is_empty() {
        Ok(out)
    } else {
        Err(AppError::Validation(errs))
    }
}

async fn classes_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    ctx.principal.require(sigap_domain::Role::Admin)?;
    let classes = cmdb::classes(&state.core, ctx).await?;
    let mut chrome = Chrome::new(state, viewer, "cmdb", "classes-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let rows = classes
        .iter()
        .map(|c| {
            let defs = cmdb::attr_defs(c);
            ClassRow {
                code: c.code.clone(),
                name: c.name.clone(),
                builtin: c.builtin,
                attributes: defs
                    .iter()
                    .map(|d| d.label.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                lines: defs.iter().map(attr_line).collect::<Vec<_>>().join("\n"),
                version: c.version,
            }
        })
        .collect();
    Ok(render(
        status,
        &ClassesPage {
            chrome,
            rows,
            draft,
        },
    ))
}

pub async fn classes_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    classes_view(&state, &ctx, &viewer, &q, Draft::default(), None).await
}

async fn after_class<T>(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    result: Result<T, AppError>,
    notice_code: &str,
    draft: Draft,
) -> PageResult {
    match result {
        Ok(_) => Ok(see_other("/admin/ci-classes", Some(notice_code))),
        Err(e) => classes_view(state, ctx, viewer, &HashMap::new(), draft, Some(e)).await,
    }
}

pub async fn class_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    let result = async {
        let input = cmdb::ClassInput {
            code: form.get("code"),
            name: form.get("name"),
            attributes: Some(parse_attr_lines(&form.text("attributes"))?),
        };
        cmdb::create_class(&state.core, &ctx, input).await
    }
    .await;
    after_class(
        &state,
        &ctx,
        &viewer,
        result,
        "created",
        Draft::from_form(&form),
    )
    .await
}

pub async fn class_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(code): Path<String>,
    form: FormData,
) -> PageResult {
    let result = async {
        let input = cmdb::ClassInput {
            code: None,
            name: form.get("name"),
            attributes: Some(parse_attr_lines(&form.text("attributes"))?),
        };
        cmdb::update_class(&state.core, &ctx, &code, input, form.version()).await
    }
    .await;
    after_class(&state, &ctx, &viewer, result, "saved", Draft::default()).await
}

pub async fn class_delete(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(code): Path<String>,
    form: FormData,
) -> PageResult {
    let result = cmdb::delete_class(&state.core, &ctx, &code, form.version()).await;
    after_class(&state, &ctx, &viewer, result, "deleted", Draft::default()).await
}
