//! Generic CSV import (people, organizations, incidents, configuration items; with a column
//! mapping) and export (people, organizations, configuration items with the filters of their
//! list, and incidents with the filters and columns of a queue).

use super::cmdb::LineErrorOut;
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiPath, ApiQuery, Caller, CsvBody};
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use sigap_core::csv_io::{self, Kind};
use sigap_core::listing::ListParams;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// `true`: check every line, import nothing.
    pub dry_run: Option<String>,
    /// The file's headers onto Sigap's fields: `field=Column,field=Column` (case does not
    /// matter), e.g. `login=User ID,name=Full name`.
    pub map: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CsvReportOut {
    pub kind: String,
    pub dry_run: bool,
    /// Whether the file was imported: not a dry run and no line wrong.
    pub applied: bool,
    pub lines: usize,
    pub created: usize,
    pub updated: usize,
    /// Lines that match what is stored and change nothing (configuration items).
    pub unchanged: usize,
    /// Every refused line with its reason; when there is any, nothing was imported.
    pub errors: Vec<LineErrorOut>,
}

/// Imports people (key `login`; columns login, name, email, roles separated by `;`,
/// organization, locale, time_zone, active), organizations (key `name`; name, kind,
/// description), incidents (key `number`, empty to create; short_description, description,
/// caller, contact_type, impact, urgency, category, assignment_group, assigned_to, location)
/// or configuration items (`cis`; key class and name; status, owner_group, location, serial
/// and one column per attribute code of the class) from CSV. `map` renames the file's
/// columns to these; a mapping to an unknown field or from a column the file does not have
/// is refused (422). Every line is checked first; when any is wrong nothing is imported and
/// every wrong line is reported with its line number and reason. Relationships between
/// configuration items: `POST /api/v1/cmdb/import?kind=relationships`.
#[utoipa::path(post, path = "/api/v1/import/{kind}", tag = "import", params(("kind" = String, Path), ImportQuery),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = CsvReportOut), (status = 415, body = Problem, content_type = "application/problem+json")))]
pub async fn import(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(q): ApiQuery<ImportQuery>,
    CsvBody(bytes): CsvBody,
) -> ApiResult<Json<CsvReportOut>> {
    let k = Kind::parse(&kind)?;
    let dry_run =
        sigap_core::listing::parse_bool("dry_run", q.dry_run.as_deref())?.unwrap_or(false);
    let mapping = csv_io::parse_mapping(q.map.as_deref().unwrap_or(""), k)?;
    let r = csv_io::import(&s.core, &ctx, k, &bytes, &mapping, dry_run).await?;
    Ok(Json(CsvReportOut {
        kind: kind.trim().to_owned(),
        dry_run: r.dry_run,
        applied: r.applied,
        lines: r.lines,
        created: r.created,
        updated: r.updated,
        unchanged: r.unchanged,
        errors: r
            .errors
            .into_iter()
            .map(|e| LineErrorOut {
                line: e.line,
                field: e.field,
                code: e.code.into(),
                message: e.message,
            })
            .collect(),
    }))
}

fn csv_response(name: &str, text: String) -> Response {
    let mut resp = ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], text).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"sigap-{name}.csv\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// CIs: class codes or ids, separated by commas.
    pub class: Option<String>,
    /// CIs: planned, in_build, operational, maintenance or retired.
    pub status: Option<String>,
    /// CIs: owner group (id or name).
    pub owner_group: Option<String>,
    /// CIs: part of the name, serial or location.
    pub q: Option<String>,
    /// CIs: sort, as the list takes it (default `name`).
    pub sort: Option<String>,
}

/// Exports people or organizations (administrators) as CSV in the import's columns, or the
/// configuration items of a list view (`cis`, agents: the list's filters `class`, `status`,
/// `owner_group`, `q` and its `sort`; the import's columns with the attribute columns of the
/// classes exported; at most 100,000 lines).
#[utoipa::path(get, path = "/api/v1/export/{kind}", tag = "import", params(("kind" = String, Path), ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let kind = Kind::parse(&kind)?;
    if kind == Kind::Cis {
        let query = sigap_core::cmdb::CiQuery {
            class: q.class,
            status: q.status,
            owner_group: q.owner_group,
            q: q.q,
        };
        let text = sigap_core::cmdb_csv::export_filtered(&s.core, &ctx, query, q.sort).await?;
        return Ok(csv_response("cis", text));
    }
    ctx.principal.require(sigap_domain::Role::Admin)?;
    let all = ListParams {
        limit: Some(sigap_core::listing::MAX_LIMIT),
        ..Default::default()
    };
    let (name, header, rows): (&str, &[&str], Vec<Vec<String>>) = match kind {
        Kind::People => {
            let mut rows = Vec::new();
            let mut params = all.clone();
            loop {
                let page =
                    sigap_core::people::list(&s.core, &ctx, Default::default(), &params).await?;
                for p in page.items {
                    rows.push(vec![
                        p.login,
                        p.name,
                        p.email.unwrap_or_default(),
                        p.roles
                            .iter()
                            .map(|r| r.code())
                            .collect::<Vec<_>>()
                            .join(";"),
                        p.organization.map(|o| o.name).unwrap_or_default(),
                        p.locale.code().into(),
                        p.time_zone,
                        p.active.to_string(),
                    ]);
                }
                match page.next_cursor {
                    Some(c) => params.cursor = Some(c),
                    None => break,
                }
            }
            ("people", Kind::People.columns(), rows)
        }
        Kind::Organizations => {
            let mut rows = Vec::new();
            let mut params = all.clone();
            loop {
                let page =
                    sigap_core::orgs::list(&s.core, &ctx, Default::default(), &params).await?;
                for o in page.items {
                    rows.push(vec![
                        o.name,
                        o.kind.code().into(),
                        o.description,
                        o.active.to_string(),
                    ]);
                }
                match page.next_cursor {
                    Some(c) => params.cursor = Some(c),
                    None => break,
                }
            }
            ("organizations", Kind::Organizations.columns(), rows)
        }
        Kind::Incidents | Kind::Cis => {
            return Err(ApiError::App(sigap_core::AppError::field(
                "kind",
                "invalid_choice",
                "incidents are exported with the filters of a queue: /api/v1/incidents/export",
            )));
        }
    };
    Ok(csv_response(name, csv_io::to_csv(header, &rows)))
}

/// The columns an incident export may have, in order.
pub const INCIDENT_COLUMNS: &[&str] = &[
    "number",
    "short_description",
    "caller",
    "priority",
    "state",
    "assignment_group",
    "assigned_to",
    "updated",
    "opened",
    "category",
    "service",
    "configuration_item",
    "location",
    "reopen_count",
];

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncidentExportQuery {
    /// mine, my_groups, unassigned, on_hold or major.
    pub queue: Option<String>,
    pub state: Option<String>,
    pub priority: Option<String>,
    /// Group id or name.
    pub group: Option<String>,
    /// Person id or login.
    pub assignee: Option<String>,
    /// Location id or name.
    pub location: Option<String>,
    pub major: Option<String>,
    pub q: Option<String>,
    /// Sort, as the list takes it (default `priority,opened_at`).
    pub sort: Option<String>,
    /// Columns, comma-separated (default: all of number, short_description, caller,
    /// priority, state, assignment_group, assigned_to, updated, opened, category, service,
    /// configuration_item, location, reopen_count).
    pub cols: Option<String>,
}

/// Exports the incidents of a queue view as CSV: the same filters, sort and columns as the
/// list (the queue page links here with its view). At most 100,000 rows.
#[utoipa::path(get, path = "/api/v1/incidents/export", tag = "incidents", params(IncidentExportQuery),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_incidents(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<IncidentExportQuery>,
) -> ApiResult<Response> {
    let cols: Vec<&str> = match q.cols.as_deref().map(str::trim).filter(|c| !c.is_empty()) {
        None => INCIDENT_COLUMNS.to_vec(),
        Some(c) => {
            // The queue's time-left column has no place in a file.
            let asked: Vec<&str> = c
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty() && *c != "sla")
                .collect();
            if let Some(bad) = asked.iter().find(|c| !INCIDENT_COLUMNS.contains(c)) {
                return Err(ApiError::App(sigap_core::AppError::field(
                    "cols",
                    "unknown_column",
                    format!(
                        "{bad:?} is not a column; use {}",
                        INCIDENT_COLUMNS.join(", ")
                    ),
                )));
            }
            INCIDENT_COLUMNS
                .iter()
                .copied()
                .filter(|c| asked.contains(c))
                .collect()
        }
    };
    let queue = q
        .queue
        .clone()
        .filter(|v| !["open", "all", ""].contains(&v.as_str()));
    let query = sigap_core::incidents::IncidentQuery {
        state: q.state.clone().or_else(|| {
            (q.queue.as_deref() == Some("open")).then(|| "new,in_progress,on_hold".into())
        }),
        queue,
        assignment_group: q.group.clone(),
        assigned_to: q.assignee.clone(),
        location: q.location.clone(),
        priority: q.priority.clone(),
        major: q.major.clone(),
        q: q.q.clone(),
        ..Default::default()
    };
    let mut params = ListParams {
        sort: q.sort.clone(),
        limit: Some(sigap_core::listing::MAX_LIMIT),
        cursor: None,
    };
    let mut rows = Vec::new();
    let show = |t: jiff::Timestamp| t.to_string();
    loop {
        let page = sigap_core::incidents::list(&s.core, &ctx, query.clone(), &params).await?;
        for i in page.items {
            let cell = |c: &str| -> String {
                match c {
                    "number" => i.number.clone(),
                    "short_description" => i.short_description.clone(),
                    "caller" => i
                        .caller
                        .as_ref()
                        .map(|p| p.login.clone())
                        .unwrap_or_default(),
                    "priority" => i.priority.get().to_string(),
                    "state" => i.state.code().into(),
                    "assignment_group" => i
                        .assignment_group
                        .as_ref()
                        .map(|g| g.name.clone())
                        .unwrap_or_default(),
                    "assigned_to" => i
                        .assigned_to
                        .as_ref()
                        .map(|p| p.login.clone())
                        .unwrap_or_default(),
                    "updated" => show(i.updated_at),
                    "opened" => show(i.opened_at),
                    "category" => i.category.clone().unwrap_or_default(),
                    "service" => i
                        .service
                        .as_ref()
                        .map(|x| x.name.clone())
                        .unwrap_or_default(),
                    "configuration_item" => {
                        i.ci.as_ref().map(|x| x.name.clone()).unwrap_or_default()
                    }
                    "location" => i
                        .location
                        .as_ref()
                        .map(|x| x.name.clone())
                        .unwrap_or_default(),
                    "reopen_count" => i.reopen_count.to_string(),
                    _ => String::new(),
                }
            };
            rows.push(cols.iter().map(|c| cell(c)).collect::<Vec<_>>());
        }
        match page.next_cursor {
            Some(c) if rows.len() < 100_000 => params.cursor = Some(c),
            _ => break,
        }
    }
    Ok(csv_response("incidents", csv_io::to_csv(&cols, &rows)))
}
