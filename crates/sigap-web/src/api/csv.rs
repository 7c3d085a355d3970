//! Generic CSV import (people, organizations, incidents, configuration items; with a column
//! mapping) and export (people, organizations, configuration items with the filters of their
//! list, and incidents with the filters and columns of a queue).

use super::cmdb::LineErrorOut;
use crate::AppState;
use crate::error::{ApiResult, Problem};
use crate::extract::{ApiPath, ApiQuery, Caller, CsvBody};
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use sigap_core::csv_io::{self, Kind};
use sigap_core::export::CsvStream;
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

/// A CSV file sent as it is read (chunked): the header and first page at once, the rest as
/// the client takes it. `X-Truncated: true` when the export's limit left rows out. A failure
/// after the first bytes ends the response early, so a client sees an incomplete transfer,
/// never a short file that looks whole.
pub(crate) fn csv_response(file: CsvStream) -> Response {
    let CsvStream {
        name,
        truncated,
        head,
        rest,
    } = file;
    let tail = futures_util::stream::unfold(rest, |mut rx| async move {
        let chunk = rx.recv().await?;
        let chunk = chunk.map(Bytes::from).map_err(|e| {
            tracing::error!(error = %e, "a CSV export failed part way");
            std::io::Error::other("the export failed part way")
        });
        Some((chunk, rx))
    });
    let body = futures_util::stream::once(std::future::ready(Ok::<_, std::io::Error>(
        Bytes::from(head),
    )))
    .chain(tail);
    let mut resp = (
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        Body::from_stream(body),
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"sigap-{name}.csv\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    if truncated {
        resp.headers_mut()
            .insert("x-truncated", HeaderValue::from_static("true"));
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
    /// At most this many lines; when rows are left out the response has `X-Truncated: true`.
    /// Without it, every row.
    pub limit: Option<String>,
}

/// Exports people or organizations (administrators) as CSV in the import's columns, or the
/// configuration items of a list view (`cis`, agents: the list's filters `class`, `status`,
/// `owner_group`, `q` and its `sort`; the import's columns with the attribute columns of the
/// classes filtered on, or of every class). Streamed, every row unless `limit` is given.
#[utoipa::path(get, path = "/api/v1/export/{kind}", tag = "import", params(("kind" = String, Path), ExportQuery),
    responses((status = 200, content_type = "text/csv", body = String,
            headers(("X-Truncated" = String, description = "`true` when `limit` left rows out"))),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(kind): ApiPath<String>,
    ApiQuery(q): ApiQuery<ExportQuery>,
) -> ApiResult<Response> {
    let kind = Kind::parse(&kind)?;
    let limit = sigap_core::export::parse_limit(q.limit.as_deref())?;
    let file = if kind == Kind::Cis {
        let query = sigap_core::cmdb::CiQuery {
            class: q.class,
            status: q.status,
            owner_group: q.owner_group,
            q: q.q,
        };
        sigap_core::cmdb_csv::export_filtered(&s.core, &ctx, query, q.sort, limit).await?
    } else {
        csv_io::export(&s.core, &ctx, kind, limit).await?
    };
    Ok(csv_response(file))
}

/// Declares the query of a process's CSV export: the filters of its queue page (the
/// view a queue page links with) and the process's own, its sort, columns and limit.
macro_rules! export_query {
    ($(#[$m:meta])* $name:ident { $($(#[$fm:meta])* $field:ident: $ty:ty,)* }) => {
        $(#[$m])*
        #[derive(Debug, serde::Deserialize, Default, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            /// The queue: open (default of the page), all, mine, my_groups, unassigned, or
            /// one of the process's own.
            pub queue: Option<String>,
            pub state: Option<String>,
            pub priority: Option<String>,
            /// Group id or name.
            pub group: Option<String>,
            /// Person id or login.
            pub assignee: Option<String>,
            /// Location id or name.
            pub location: Option<String>,
            pub q: Option<String>,
            /// Sort, as the list takes it.
            pub sort: Option<String>,
            /// Columns, comma-separated (default: all of number, short_description, caller,
            /// priority, state, assignment_group, assigned_to, updated, opened, category,
            /// service, configuration_item, location, reopen_count).
            pub cols: Option<String>,
            /// At most this many rows; when rows are left out the response has
            /// `X-Truncated: true`. Without it, every row.
            pub limit: Option<String>,
            $($(#[$fm])* pub $field: $ty,)*
        }

        impl $name {
            /// The common filters as the list takes them: the queue `open` as the open
            /// states (unless states are given), `all` as none.
            pub(crate) fn task(&mut self) -> sigap_core::task::TaskQuery {
                let queue = self.queue.take();
                let open = queue.as_deref() == Some("open") && self.state.is_none();
                sigap_core::task::TaskQuery {
                    state: if open { Some("open".into()) } else { self.state.take() },
                    queue: queue.filter(|v| !["open", "all", ""].contains(&v.as_str())),
                    assignment_group: self.group.take(),
                    assigned_to: self.assignee.take(),
                    location: self.location.take(),
                    priority: self.priority.take(),
                    q: self.q.take(),
                    ..Default::default()
                }
            }
        }
    };
}
pub(crate) use export_query;

export_query!(
    /// The incidents' export: the queue page's filters and `major`.
    IncidentExportQuery {
        major: Option<String>,
    }
);

/// Exports the incidents of a queue view as CSV: the same filters, sort and columns as the
/// list (the queue page links here with its view). Streamed, every row unless `limit` is
/// given.
#[utoipa::path(get, path = "/api/v1/incidents/export", tag = "incidents", params(IncidentExportQuery),
    responses((status = 200, content_type = "text/csv", body = String,
            headers(("X-Truncated" = String, description = "`true` when `limit` left rows out"))),
        (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn export_incidents(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(mut q): ApiQuery<IncidentExportQuery>,
) -> ApiResult<Response> {
    let limit = sigap_core::export::parse_limit(q.limit.as_deref())?;
    let query = sigap_core::incidents::IncidentQuery {
        task: q.task(),
        major: q.major,
    };
    let file =
        sigap_core::incidents::export(&s.core, &ctx, query, q.sort, q.cols.as_deref(), limit)
            .await?;
    Ok(csv_response(file))
}
