//! API of incident management: incidents, their actions and journal, the priority matrix,
//! categories.

use super::dto::{Page, Time, nullable, ts};
use super::params::{IncidentStates, codes_enum, list_query};
use super::task::JournalOut;
use crate::AppState;
use crate::error::{ApiError, ApiResult, Problem};
use crate::extract::{ApiJson, ApiPath, ApiQuery, Caller};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use sigap_core::incidents::{self, Action};
use sigap_core::model::Incident;
use sigap_domain::task::{Level, MatrixPreset, MatrixRow, Priority, PriorityMatrix};
use utoipa::ToSchema;
use uuid::Uuid;

super::task::task_out!(
    /// What every task has; `state` is new, in_progress, on_hold, resolved, closed or
    /// canceled, and the priority comes from the matrix unless overridden with a reason.
    IncidentOut from Incident {
        priority_override_reason: Option<String>,
        /// awaiting_caller, awaiting_vendor, awaiting_problem or awaiting_change.
        hold_reason: Option<String>,
        workaround: String,
        resolution_code: Option<String>,
        resolution_notes: String,
        major: bool,
    }
);

/// An incident with the journal its reader may see.
#[derive(Debug, Serialize, ToSchema)]
pub struct IncidentDetailOut {
    #[serde(flatten)]
    pub incident: IncidentOut,
    pub journal: Vec<JournalOut>,
}

impl From<incidents::IncidentDetail> for IncidentDetailOut {
    fn from(d: incidents::IncidentDetail) -> Self {
        Self {
            incident: d.incident.into(),
            journal: d.journal.into_iter().map(JournalOut::from).collect(),
        }
    }
}

impl IncidentDetailOut {
    fn version(&self) -> i64 {
        self.incident.task.version
    }
}

super::task::task_in!(
    /// Fields of an incident. On create `short_description` is required; requesters report
    /// for themselves and set only the description, impact, urgency, service, CI, category
    /// and location.
    IncidentIn {
        /// Overrides the matrix (managers); needs `priority_reason`.
        priority: Option<i64>,
        priority_reason: Option<String>,
        /// The parent incident, number or id (agents): this one is a further report of it,
        /// and resolving the parent resolves it too.
        #[serde(default, deserialize_with = "nullable")]
        #[schema(value_type = Option<String>)]
        parent: Option<Option<String>>,
        workaround: Option<String>,
        major: Option<bool>,
    }
);

impl From<IncidentIn> for incidents::IncidentInput {
    fn from(mut i: IncidentIn) -> Self {
        Self {
            task: i.task(),
            priority: i.priority,
            priority_reason: i.priority_reason,
            parent: i.parent,
            workaround: i.workaround,
            major: i.major,
        }
    }
}

/// The details an action takes.
#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct ActionIn {
    /// hold: awaiting_caller, awaiting_vendor, awaiting_problem or awaiting_change; cancel:
    /// why.
    pub reason: Option<String>,
    /// hold (required when awaiting the caller), reject (required): a comment for the caller.
    pub comment: Option<String>,
    /// resolve: solved_permanently, solved_workaround, not_reproducible, too_costly,
    /// resolved_by_caller or cleared_by_monitoring.
    pub resolution_code: Option<String>,
    /// resolve: what was done.
    pub resolution_notes: Option<String>,
    /// resolve: the knowledge article (number or id) it was resolved with.
    pub article: Option<String>,
    /// comment, work_note: the text.
    pub body: Option<String>,
    /// escalate: the group (id or name) to hand the incident to.
    pub group: Option<String>,
}

fn action(name: &str, body: ActionIn) -> Result<Action, ApiError> {
    let req = super::task::required;
    Ok(match name {
        "start" => Action::Start,
        "assign_to_me" => Action::AssignToMe,
        "hold" => Action::Hold {
            reason: req(body.reason, "reason")?,
            comment: body.comment,
        },
        "resume" => Action::Resume,
        "resolve" => Action::Resolve {
            code: req(body.resolution_code, "resolution_code")?,
            notes: req(body.resolution_notes, "resolution_notes")?,
            article: body.article,
        },
        "accept" => Action::Accept,
        "reject" => Action::Reject {
            comment: req(body.comment, "comment")?,
        },
        "cancel" => Action::Cancel {
            reason: req(body.reason, "reason")?,
        },
        "comment" => Action::Comment {
            body: req(body.body, "body")?,
        },
        "work_note" => Action::WorkNote {
            body: req(body.body, "body")?,
        },
        "escalate" => Action::Escalate {
            group: req(body.group, "group")?,
            reason: req(body.reason, "reason")?,
        },
        "escalate_to_manager" => Action::EscalateToManager {
            reason: req(body.reason, "reason")?,
        },
        _ => return Err(ApiError::RouteNotFound),
    })
}

/// Incidents you may see: all of them for agents, your own for requesters, your
/// organization's for agents of a customer. `queue` = mine, my_groups, unassigned, on_hold or
/// major; filters `state` (comma-separated), `assignment_group`, `assigned_to`, `priority`,
/// `major`, `service`, `category`, `caller`, `parent` (its children), `location`, `q` (full
/// text over number, descriptions and journal). Sort by `priority`, `opened_at`,
/// `updated_at`, `number`; the default `priority,opened_at` puts priority 1 (the highest) and
/// the oldest first.
#[utoipa::path(get, path = "/api/v1/incidents", tag = "incidents", params(IncidentListQuery),
    responses((status = 200, body = Page<IncidentOut>)))]
pub async fn list_incidents(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(iq): ApiQuery<IncidentListQuery>,
) -> ApiResult<Json<Page<IncidentOut>>> {
    let params = iq.page()?;
    let query = incidents::IncidentQuery {
        task: sigap_core::task::TaskQuery {
            state: iq.state.map(|s| s.joined()),
            queue: iq.queue.map(|q| q.code().to_owned()),
            assignment_group: iq.assignment_group,
            assigned_to: iq.assigned_to,
            priority: iq.priority.map(|p| p.to_string()),
            service: iq.service,
            category: iq.category,
            caller: iq.caller,
            parent: iq.parent,
            location: iq.location,
            q: iq.q,
            ..Default::default()
        },
        major: iq.major.map(|m| m.to_string()),
    };
    let page = incidents::list(&s.core, &ctx, query, &params).await?;
    Ok(Json(Page {
        items: page.items.into_iter().map(IncidentOut::from).collect(),
        next_cursor: page.next_cursor,
    }))
}

list_query!(
    /// The filters of the incident list.
    IncidentListQuery, sort = incidents::SORT_FIELDS,
    q = "Full text over the number, the descriptions and the journal.",
    {
        /// States, separated by commas.
        #[param(inline, style = Form, explode = false)]
        state: Option<IncidentStates>,
        /// A ready-made queue; empty for none.
        #[param(inline)]
        queue: Option<Queue>,
        /// Group id or name.
        assignment_group: Option<String>,
        /// Person id or login.
        assigned_to: Option<String>,
        /// Priority, 1 (the highest) to 5.
        #[serde(default, deserialize_with = "crate::api::params::int")]
        #[param(minimum = 1, maximum = 5)]
        priority: Option<i64>,
        /// `true` for major incidents only, `false` for the others.
        #[serde(default, deserialize_with = "crate::api::params::flag")]
        major: Option<bool>,
        /// Service id or name.
        service: Option<String>,
        /// Category code.
        category: Option<String>,
        /// The caller, id or login.
        caller: Option<String>,
        /// The children of this incident (number or id).
        parent: Option<String>,
        /// Location id or name.
        location: Option<String>,
    }
);

codes_enum!(
    /// The incident list's ready-made queues. `All` is the empty value a form sends for "no
    /// queue", accepted so that a saved view's query string works as it was saved.
    Queue {
        All = "",
        Mine = "mine",
        MyGroups = "my_groups",
        Unassigned = "unassigned",
        OnHold = "on_hold",
        Major = "major",
    }
);

super::task::task_endpoints!(
    process = sigap_core::model::IncidentExt, tag = "incidents", input = IncidentIn, out = IncidentOut,
    detail = IncidentDetailOut, read = incidents::detail, action_in = ActionIn, action = action,
    /// An incident by number or id, with its journal (callers see comments only). 404 when it
    /// is not yours to see, whether or not it exists.
    get get_incident = "/api/v1/incidents/{key}";
    /// Changes an incident's fields (agents); impact or urgency re-computes the priority.
    patch patch_incident;
    /// Does an action: start, assign_to_me, hold, resume, resolve, accept, reject, cancel,
    /// comment, work_note, escalate (to another group, with a reason) or escalate_to_manager
    /// (calls in the group's manager, with a reason). Callers may accept, reject and comment
    /// on their own incidents. A move the state model does not allow answers 409 and names
    /// the allowed states.
    act incident_action = "/api/v1/incidents/{key}/{action}";
    /// The SLA clocks of an incident, read now, with their timelines.
    slas incident_clocks = "/api/v1/incidents/{key}/slas";
    /// Logs an incident; the priority comes from the matrix.
    create create_incident = "/api/v1/incidents" with incidents::create;
);

#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixRowDto {
    pub impact: i64,
    pub urgency: i64,
    pub priority: i64,
}

/// The priority matrix, or a preset to load.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MatrixIn {
    /// `itil` (3×3 into 1 Critical … 5 Planning) or `three_level` (1 High, 2 Medium, 3 Low).
    pub preset: Option<String>,
    /// Every impact/urgency pair once.
    pub rows: Option<Vec<MatrixRowDto>>,
}

fn matrix_out(m: &PriorityMatrix) -> Vec<MatrixRowDto> {
    m.rows()
        .iter()
        .map(|r| MatrixRowDto {
            impact: r.impact.get(),
            urgency: r.urgency.get(),
            priority: r.priority.get(),
        })
        .collect()
}

/// The priority matrix: impact × urgency → priority.
#[utoipa::path(get, path = "/api/v1/priority_matrix", tag = "incidents", responses((status = 200, body = Vec<MatrixRowDto>)))]
pub async fn get_matrix(
    State(s): State<AppState>,
    Caller(_ctx): Caller,
) -> ApiResult<Json<Vec<MatrixRowDto>>> {
    Ok(Json(matrix_out(&incidents::matrix(&s.core).await?)))
}

/// Replaces the priority matrix with a preset or with rows (administrators).
#[utoipa::path(put, path = "/api/v1/priority_matrix", tag = "incidents", request_body = MatrixIn,
    responses((status = 200, body = Vec<MatrixRowDto>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn put_matrix(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<MatrixIn>,
) -> ApiResult<Json<Vec<MatrixRowDto>>> {
    let bad = |field: &str, e: sigap_domain::InvalidValue| {
        ApiError::App(sigap_core::AppError::Validation(vec![
            sigap_core::FieldError::from_invalid(field, e),
        ]))
    };
    let rows = match (body.preset, body.rows) {
        (Some(p), None) => {
            PriorityMatrix::preset(MatrixPreset::parse(&p).map_err(|e| bad("preset", e))?)
                .rows()
                .to_vec()
        }
        (None, Some(rows)) => {
            let mut out = Vec::new();
            for (i, r) in rows.iter().enumerate() {
                out.push(MatrixRow {
                    impact: Level::parse(r.impact)
                        .map_err(|e| bad(&format!("rows[{i}].impact"), e))?,
                    urgency: Level::parse(r.urgency)
                        .map_err(|e| bad(&format!("rows[{i}].urgency"), e))?,
                    priority: Priority::parse(r.priority)
                        .map_err(|e| bad(&format!("rows[{i}].priority"), e))?,
                });
            }
            out
        }
        _ => {
            return Err(ApiError::App(sigap_core::AppError::field(
                "preset",
                "one_of",
                "give either a preset or rows",
            )));
        }
    };
    Ok(Json(matrix_out(
        &incidents::set_matrix(&s.core, &ctx, rows).await?,
    )))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryOut {
    pub code: String,
    pub name: String,
    /// The category a subcategory belongs to.
    pub parent: Option<String>,
    pub active: bool,
    pub sort_order: i64,
}

impl From<sigap_core::model::Category> for CategoryOut {
    fn from(c: sigap_core::model::Category) -> Self {
        Self {
            code: c.code,
            name: c.name,
            parent: c.parent_code,
            active: c.active,
            sort_order: c.sort_order,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct CategoryIn {
    pub name: Option<String>,
    /// A top-level category's code, to make this a subcategory; `null` for top level.
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub parent: Option<Option<String>>,
    pub active: Option<bool>,
    pub sort_order: Option<i64>,
}

/// Incident categories and subcategories.
#[utoipa::path(get, path = "/api/v1/incident_categories", tag = "incidents", responses((status = 200, body = Vec<CategoryOut>)))]
pub async fn list_categories(
    State(s): State<AppState>,
    Caller(_ctx): Caller,
) -> ApiResult<Json<Vec<CategoryOut>>> {
    let list = incidents::categories(&s.core).await?;
    Ok(Json(list.into_iter().map(CategoryOut::from).collect()))
}

/// Adds or changes a category or subcategory (administrators).
#[utoipa::path(put, path = "/api/v1/incident_categories/{code}", tag = "incidents", request_body = CategoryIn,
    params(("code" = String, Path)), responses((status = 200, body = CategoryOut)))]
pub async fn put_category(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(code): ApiPath<String>,
    ApiJson(body): ApiJson<CategoryIn>,
) -> ApiResult<Json<CategoryOut>> {
    let input = incidents::CategoryInput {
        name: body.name,
        parent: body.parent,
        active: body.active,
        sort_order: body.sort_order,
    };
    Ok(Json(
        incidents::set_category(&s.core, &ctx, &code, input)
            .await?
            .into(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RuleOut {
    pub id: Uuid,
    pub sort_order: i64,
    pub category: Option<String>,
    pub service: Option<Uuid>,
    pub configuration_item: Option<Uuid>,
    pub group: Uuid,
    pub active: bool,
}

impl From<sigap_core::model::AssignmentRule> for RuleOut {
    fn from(r: sigap_core::model::AssignmentRule) -> Self {
        Self {
            id: r.id.as_uuid(),
            sort_order: r.sort_order,
            category: r.category,
            service: r.service_id.map(|s| s.as_uuid()),
            configuration_item: r.ci_id.map(|c| c.as_uuid()),
            group: r.group_id.as_uuid(),
            active: r.active,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RuleIn {
    /// Lower first; the first matching rule picks the group.
    pub sort_order: Option<i64>,
    pub category: Option<String>,
    /// Service id or name.
    pub service: Option<String>,
    /// CI id or `class/name`.
    pub configuration_item: Option<String>,
    /// Group id or name.
    pub group: Option<String>,
}

/// Assignment rules: a new incident without a group goes to the group of the first rule
/// whose category, service and CI (those it names) match.
#[utoipa::path(get, path = "/api/v1/assignment_rules", tag = "incidents", responses((status = 200, body = Vec<RuleOut>)))]
pub async fn list_rules(
    State(s): State<AppState>,
    Caller(ctx): Caller,
) -> ApiResult<Json<Vec<RuleOut>>> {
    Ok(Json(
        incidents::rules(&s.core, &ctx)
            .await?
            .into_iter()
            .map(RuleOut::from)
            .collect(),
    ))
}

/// Adds an assignment rule (administrators).
#[utoipa::path(post, path = "/api/v1/assignment_rules", tag = "incidents", request_body = RuleIn,
    responses((status = 201, body = RuleOut), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn create_rule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<RuleIn>,
) -> ApiResult<(StatusCode, Json<RuleOut>)> {
    let input = incidents::RuleInput {
        sort_order: body.sort_order,
        category: body.category,
        service: body.service,
        ci: body.configuration_item,
        group: body.group,
    };
    Ok((
        StatusCode::CREATED,
        Json(incidents::add_rule(&s.core, &ctx, input).await?.into()),
    ))
}

/// Deletes an assignment rule (administrators).
#[utoipa::path(delete, path = "/api/v1/assignment_rules/{id}", tag = "incidents", params(("id" = String, Path)),
    responses((status = 204)))]
pub async fn delete_rule(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    incidents::delete_rule(&s.core, &ctx, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentOut {
    pub id: Uuid,
    pub filename: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub uploaded_by: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
    /// Where to download it.
    pub href: String,
}

impl From<sigap_core::model::Attachment> for AttachmentOut {
    fn from(a: sigap_core::model::Attachment) -> Self {
        Self {
            href: format!("/api/v1/attachments/{}", a.id),
            id: a.id.as_uuid(),
            filename: a.filename,
            content_type: a.content_type,
            size: a.size,
            sha256: a.sha256,
            uploaded_by: a.uploaded_by,
            created_at: ts(a.created_at),
        }
    }
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AttachQuery {
    /// The file's name.
    pub filename: Option<String>,
}

/// Attaches a file (the raw body, with its `Content-Type`; at most 10 MiB): agents, and the
/// caller on their own open incident.
#[utoipa::path(post, path = "/api/v1/incidents/{key}/attachments", tag = "incidents", params(("key" = String, Path), AttachQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = AttachmentOut), (status = 413, body = Problem, content_type = "application/problem+json")))]
pub async fn attach(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
    ApiQuery(q): ApiQuery<AttachQuery>,
    body: crate::extract::RawBody,
) -> ApiResult<(StatusCode, Json<AttachmentOut>)> {
    let filename = q.filename.ok_or_else(|| {
        ApiError::App(sigap_core::AppError::field(
            "filename",
            "required",
            "is required",
        ))
    })?;
    let a = incidents::attach(
        &s.core,
        &ctx,
        &key,
        &filename,
        &body.content_type,
        body.bytes.to_vec(),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(a.into())))
}

/// The files attached to an incident.
#[utoipa::path(get, path = "/api/v1/incidents/{key}/attachments", tag = "incidents", params(("key" = String, Path)),
    responses((status = 200, body = Vec<AttachmentOut>)))]
pub async fn list_attachments(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(key): ApiPath<String>,
) -> ApiResult<Json<Vec<AttachmentOut>>> {
    let list = incidents::attachments(&s.core, &ctx, &key).await?;
    Ok(Json(list.into_iter().map(AttachmentOut::from).collect()))
}

/// Media types a browser may show inline; everything else downloads as bytes.
const INLINE_TYPES: &[&str] = &[
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "application/pdf",
    "text/plain",
];

/// Downloads an attachment. Served as a download (or inline for a few safe types), never
/// sniffed, in a sandbox.
#[utoipa::path(get, path = "/api/v1/attachments/{id}", tag = "incidents", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>)))]
pub async fn download(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Response> {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let (a, content) = incidents::download(&s.core, &ctx, &id).await?;
    let inline = INLINE_TYPES.contains(&a.content_type.as_str());
    let ctype = if inline {
        a.content_type.as_str()
    } else {
        "application/octet-stream"
    };
    let encoded: String = a
        .filename
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    let disposition = format!(
        "{}; filename*=UTF-8''{encoded}",
        if inline { "inline" } else { "attachment" }
    );
    let mut resp = content.into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(ctype) {
        h.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    Ok(resp)
}

/// Several incidents changed at once: each by itself, each with its own answer.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkIn {
    /// Numbers or ids, at most 200.
    pub incidents: Vec<String>,
    /// Fields to change on each (as PATCH).
    pub update: Option<IncidentIn>,
    /// An action to do on each (as `POST /incidents/{key}/{action}`), with `details`.
    pub action: Option<String>,
    pub details: Option<ActionIn>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BulkResult {
    pub incident: String,
    /// The HTTP status this incident's change would have answered alone.
    pub status: u16,
    /// The problem's code when it failed.
    pub code: Option<String>,
    pub detail: Option<String>,
    pub version: Option<i64>,
}

/// Changes several incidents (agents): the same field update or action on each, each in its
/// own transaction; the answer lists every incident's outcome.
#[utoipa::path(post, path = "/api/v1/incidents/bulk", tag = "incidents", request_body = BulkIn,
    responses((status = 200, body = Vec<BulkResult>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn bulk(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiJson(body): ApiJson<BulkIn>,
) -> ApiResult<Json<Vec<BulkResult>>> {
    let invalid = |field: &str, msg: &str| {
        ApiError::App(sigap_core::AppError::field(
            field,
            "invalid_choice",
            msg.to_owned(),
        ))
    };
    if body.incidents.is_empty() || body.incidents.len() > 200 {
        return Err(invalid("incidents", "give 1 to 200 incidents"));
    }
    if body.update.is_some() == body.action.is_some() {
        return Err(invalid("action", "give either an update or an action"));
    }
    if !ctx.principal.has(sigap_domain::Role::Agent) {
        return Err(sigap_core::AppError::Forbidden.into());
    }
    let mut out = Vec::with_capacity(body.incidents.len());
    for key in &body.incidents {
        let result = match (&body.update, &body.action) {
            (Some(u), _) => {
                let input: incidents::IncidentInput = u.clone().into();
                incidents::update(&s.core, &ctx, key, input, None)
                    .await
                    .map_err(ApiError::App)
            }
            (None, Some(name)) => {
                let d = body.details.as_ref();
                let details = ActionIn {
                    reason: d.and_then(|d| d.reason.clone()),
                    comment: d.and_then(|d| d.comment.clone()),
                    resolution_code: d.and_then(|d| d.resolution_code.clone()),
                    resolution_notes: d.and_then(|d| d.resolution_notes.clone()),
                    article: d.and_then(|d| d.article.clone()),
                    body: d.and_then(|d| d.body.clone()),
                    group: d.and_then(|d| d.group.clone()),
                };
                match action(name, details) {
                    Ok(a) => incidents::act(&s.core, &ctx, key, a, None)
                        .await
                        .map_err(ApiError::App),
                    Err(e) => Err(e),
                }
            }
            (None, None) => Err(invalid("action", "give either an update or an action")),
        };
        out.push(match result {
            Ok(i) => BulkResult {
                incident: i.task.number.clone(),
                status: 200,
                code: None,
                detail: None,
                version: Some(i.version),
            },
            Err(e) => {
                let (status, code, detail) = e.summary();
                BulkResult {
                    incident: key.clone(),
                    status,
                    code: Some(code),
                    detail: Some(detail),
                    version: None,
                }
            }
        });
    }
    Ok(Json(out))
}

/// An incident already known on a service, as the portal shows it before a new report.
#[derive(Debug, Serialize, ToSchema)]
pub struct KnownIncidentOut {
    pub number: String,
    pub short_description: String,
    pub state: String,
    pub major: bool,
    /// You reported it (you may open it); otherwise only this summary is shown.
    pub yours: bool,
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: Time,
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KnownQuery {
    /// Service id or name.
    #[param(required = true)]
    pub service: Option<String>,
}

/// What is already known to be wrong with a service: its open major incidents (a summary,
/// whoever reported them) and your own open incidents on it. The portal shows these before
/// you report.
#[utoipa::path(get, path = "/api/v1/incidents/known", tag = "incidents", params(KnownQuery),
    responses((status = 200, body = Vec<KnownIncidentOut>), (status = 422, body = Problem, content_type = "application/problem+json")))]
pub async fn known_incidents(
    State(s): State<AppState>,
    Caller(ctx): Caller,
    ApiQuery(q): ApiQuery<KnownQuery>,
) -> ApiResult<Json<Vec<KnownIncidentOut>>> {
    let service = q.service.unwrap_or_default();
    let me = ctx.principal.person_id;
    let list = incidents::known_on_service(&s.core, &ctx, &service).await?;
    Ok(Json(
        list.into_iter()
            .map(|i| KnownIncidentOut {
                yours: me.is_some()
                    && (i.caller.as_ref().map(|c| c.id) == me
                        || i.opened_by.as_ref().map(|c| c.id) == me),
                number: i.task.number.clone(),
                short_description: i.task.short_description.clone(),
                state: i.state.code().into(),
                major: i.ext.major,
                opened_at: ts(i.opened_at),
            })
            .collect(),
    ))
}
