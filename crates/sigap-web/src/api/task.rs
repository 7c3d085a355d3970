//! What every task's output has, whatever its process: a process's output flattens this in
//! beside its own fields (`ProblemOut`; the incident's will follow).

use super::dto::{Ref, Time, ts};
use serde::Serialize;
use sigap_core::model::JournalEntry;
use sigap_core::model::PersonRef;
use sigap_core::model::{NamedRef, Task};
use sigap_domain::task::StateModel;
use utoipa::ToSchema;
use uuid::Uuid;

pub(crate) fn person(p: Option<PersonRef>) -> Option<Ref> {
    p.map(|p| Ref {
        id: p.id.as_uuid(),
        display: p.name,
    })
}

fn named<T>(r: Option<NamedRef<T>>, id: impl Fn(&T) -> Uuid) -> Option<Ref> {
    r.map(|r| Ref {
        id: id(&r.id),
        display: r.name,
    })
}

/// The fields every task has.
#[derive(Debug, Serialize, ToSchema)]
pub struct TaskOut {
    pub id: Uuid,
    /// INC0000001, PRB0000001 …; either this or the id names the task in paths.
    pub number: String,
    pub short_description: String,
    pub description: String,
    /// The process's state.
    pub state: String,
    /// The states this task may move to.
    pub next_states: Vec<String>,
    /// 1 high … 3 low.
    pub impact: i64,
    pub urgency: i64,
    /// From the priority matrix, 1 … 5.
    pub priority: i64,
    pub caller: Option<Ref>,
    pub opened_by: Option<Ref>,
    pub assignment_group: Option<Ref>,
    pub assigned_to: Option<Ref>,
    pub service: Option<Ref>,
    pub service_offering: Option<Ref>,
    pub configuration_item: Option<Ref>,
    pub organization: Option<Ref>,
    pub location: Option<Ref>,
    pub category: Option<String>,
    pub subcategory: Option<String>,
    pub contact_type: String,
    pub parent: Option<Ref>,
    pub reassignment_count: i64,
    pub reopen_count: i64,
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: Time,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Time,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Time>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Time>,
    pub version: i64,
}

impl<S: StateModel> From<Task<S>> for TaskOut {
    fn from(t: Task<S>) -> Self {
        Self {
            id: t.id.as_uuid(),
            next_states: t.state.next().iter().map(|s| s.code().to_owned()).collect(),
            number: t.number,
            short_description: t.short_description,
            description: t.description,
            state: t.state.code().into(),
            impact: t.impact.get(),
            urgency: t.urgency.get(),
            priority: t.priority.get(),
            caller: person(t.caller),
            opened_by: person(t.opened_by),
            assignment_group: t.assignment_group.map(|g| Ref {
                id: g.id.as_uuid(),
                display: g.name,
            }),
            assigned_to: person(t.assigned_to),
            service: named(t.service, |i| i.as_uuid()),
            service_offering: named(t.offering, |i| i.as_uuid()),
            configuration_item: named(t.ci, |i| i.as_uuid()),
            organization: named(t.organization, |i| i.as_uuid()),
            location: named(t.location, |i| i.as_uuid()),
            category: t.category,
            subcategory: t.subcategory,
            contact_type: t.contact_type.code().into(),
            parent: named(t.parent, |i| i.as_uuid()),
            reassignment_count: t.reassignment_count,
            reopen_count: t.reopen_count,
            opened_at: ts(t.opened_at),
            updated_at: ts(t.updated_at),
            resolved_at: t.resolved_at.map(ts),
            closed_at: t.closed_at.map(ts),
            version: t.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct JournalOut {
    pub id: Uuid,
    /// comment (the caller sees it), work_note (internal) or change.
    pub kind: String,
    pub author: String,
    pub author_id: Option<Uuid>,
    pub body: String,
    /// For changes: `{ field: [before, after] }`.
    #[schema(value_type = Option<Object>)]
    pub changes: Option<serde_json::Value>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Time,
}

impl From<JournalEntry> for JournalOut {
    fn from(j: JournalEntry) -> Self {
        Self {
            id: j.id.as_uuid(),
            kind: j.kind.code().into(),
            author: j.author,
            author_id: j.author_id.map(|p| p.as_uuid()),
            body: j.body,
            changes: j.changes,
            created_at: ts(j.created_at),
        }
    }
}

/// A process's own field as the API shows it (times as RFC 3339 texts, codes as texts).
pub(crate) trait IntoOut<T> {
    fn into_out(self) -> T;
}
impl<T> IntoOut<T> for T {
    fn into_out(self) -> T {
        self
    }
}
impl IntoOut<Option<Time>> for Option<jiff::Timestamp> {
    fn into_out(self) -> Option<Time> {
        self.map(ts)
    }
}
/// Coded values travel as their codes.
macro_rules! code_out {
    ($($t:ty),*) => {$(
        impl IntoOut<String> for $t {
            fn into_out(self) -> String {
                self.code().to_owned()
            }
        }
        impl IntoOut<Option<String>> for Option<$t> {
            fn into_out(self) -> Option<String> {
                self.map(|h| h.code().to_owned())
            }
        }
    )*};
}
code_out!(
    sigap_domain::process::incident::HoldReason,
    sigap_domain::process::change::ChangeType,
    sigap_domain::process::change::ChangeApproval,
    sigap_domain::process::change::ChangeOutcome,
    sigap_domain::process::change::RiskLevel
);

/// Declares a process's record as the API shows it: what every task has (flattened) and
/// the process's own fields, each taken from the extension's field of the same name.
macro_rules! task_out {
    (
        $(#[$m:meta])*
        $name:ident from $record:ty { $($(#[$fm:meta])* $field:ident: $ty:ty,)* }
    ) => {
        $(#[$m])*
        #[derive(Debug, serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            #[serde(flatten)]
            pub task: crate::api::task::TaskOut,
            $($(#[$fm])* pub $field: $ty,)*
        }

        impl From<$record> for $name {
            fn from(r: $record) -> Self {
                use crate::api::task::IntoOut;
                Self {
                    task: r.task.into(),
                    $($field: r.ext.$field.into_out(),)*
                }
            }
        }
    };
}
pub(crate) use task_out;

/// Declares a process's input: the fields every task takes (what `TaskInput` holds) and the
/// process's own, with `task()` taking the common ones out. Unknown fields are refused.
macro_rules! task_in {
    (
        $(#[$m:meta])*
        $name:ident { $($(#[$fm:meta])* $field:ident: $ty:ty,)* }
    ) => {
        $(#[$m])*
        #[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema, Default)]
        #[serde(deny_unknown_fields)]
        pub struct $name {
            pub short_description: Option<String>,
            pub description: Option<String>,
            /// Person id or login (agents).
            #[serde(default, deserialize_with = "crate::api::dto::nullable")]
            #[schema(value_type = Option<String>)]
            pub caller: Option<Option<String>>,
            /// phone, email, self_service, walk_in, chat, monitoring or api.
            pub contact_type: Option<String>,
            /// 1 high … 3 low.
            pub impact: Option<i64>,
            pub urgency: Option<i64>,
            /// Group id or name.
            #[serde(default, deserialize_with = "crate::api::dto::nullable")]
            #[schema(value_type = Option<String>)]
            pub assignment_group: Option<Option<String>>,
            /// Person id or login; must be a member of the assignment group.
            #[serde(default, deserialize_with = "crate::api::dto::nullable")]
            #[schema(value_type = Option<String>)]
            pub assigned_to: Option<Option<String>>,
            /// Service id or name; `null` clears it.
            #[serde(default, deserialize_with = "crate::api::dto::nullable")]
            #[schema(value_type = Option<String>)]
            pub service: Option<Option<String>>,
            /// Offering id (active); the service follows the offering.
            #[serde(default, deserialize_with = "crate::api::dto::nullable")]
            #[schema(value_type = Option<String>)]
            pub service_offering: Option<Option<String>>,
            /// CI id or `class/name`.
            #[serde(default, deserialize_with = "crate::api::dto::nullable")]
            #[schema(value_type = Option<String>)]
            pub configuration_item: Option<Option<String>>,
            #[serde(default, deserialize_with = "crate::api::dto::nullable")]
            #[schema(value_type = Option<String>)]
            pub category: Option<Option<String>>,
            #[serde(default, deserialize_with = "crate::api::dto::nullable")]
            #[schema(value_type = Option<String>)]
            pub subcategory: Option<Option<String>>,
            /// Location id or name (an active one); `null` for none.
            #[serde(default, deserialize_with = "crate::api::dto::nullable")]
            #[schema(value_type = Option<String>)]
            pub location: Option<Option<String>>,
            $($(#[$fm])* pub $field: $ty,)*
        }

        impl $name {
            /// The fields every task takes.
            fn task(&mut self) -> sigap_core::task::TaskInput {
                sigap_core::task::TaskInput {
                    short_description: self.short_description.take(),
                    description: self.description.take(),
                    caller: self.caller.take(),
                    contact_type: self.contact_type.take(),
                    impact: self.impact,
                    urgency: self.urgency,
                    assignment_group: self.assignment_group.take(),
                    assigned_to: self.assigned_to.take(),
                    service: self.service.take(),
                    offering: self.service_offering.take(),
                    ci: self.configuration_item.take(),
                    category: self.category.take(),
                    subcategory: self.subcategory.take(),
                    location: self.location.take(),
                }
            }
        }
    };
}
pub(crate) use task_in;

/// The endpoints every process has: create (201 with its location; a process whose tasks
/// are made otherwise has none), get with its detail (`read`), patch and the named actions,
/// each with its ETag, and the SLA clocks. `$action` turns an action's name and body into the
/// process's action.
macro_rules! task_endpoints {
    (
        process = $process:ty, tag = $tag:literal, input = $input:ty,
        out = $out:ty, detail = $detail:ty, read = $read:path, action_in = $action_in:ty, action = $action:path,
        $(#[$gm:meta])* get $get:ident = $one:literal;
        $(#[$pm:meta])* patch $patch:ident;
        $(#[$am:meta])* act $act:ident = $acts:literal;
        $(#[$sm:meta])* slas $slas:ident = $slas_path:literal;
        $($(#[$cm:meta])* create $create:ident = $list:literal with $createf:path;)?
    ) => {
        $(
        $(#[$cm])*
        #[utoipa::path(post, path = $list, tag = $tag, request_body = $input,
            responses((status = 201, body = $out), (status = 422, body = crate::error::Problem, content_type = "application/problem+json")))]
        pub async fn $create(
            axum::extract::State(s): axum::extract::State<crate::AppState>,
            crate::extract::Caller(ctx): crate::extract::Caller,
            crate::extract::ApiJson(body): crate::extract::ApiJson<$input>,
        ) -> crate::error::ApiResult<axum::response::Response> {
            let r = $createf(&s.core, &ctx, body.into()).await?;
            let location = format!("{}/{}", $list, r.number);
            let (status, version) = (axum::http::StatusCode::CREATED, r.version);
            Ok(crate::api::handlers::with_etag(status, version, <$out>::from(r), Some(location)))
        }

        )?

        $(#[$gm])*
        #[utoipa::path(get, path = $one, tag = $tag, params(("key" = String, Path)),
            responses((status = 200, body = $detail), (status = 404, body = crate::error::Problem, content_type = "application/problem+json")))]
        pub async fn $get(
            axum::extract::State(s): axum::extract::State<crate::AppState>,
            crate::extract::Caller(ctx): crate::extract::Caller,
            crate::extract::ApiPath(key): crate::extract::ApiPath<String>,
        ) -> crate::error::ApiResult<axum::response::Response> {
            let d = $read(&s.core, &ctx, &key).await?;
            let out = <$detail>::from(d);
            let version = out.version();
            Ok(crate::api::handlers::with_etag(axum::http::StatusCode::OK, version, out, None))
        }

        $(#[$pm])*
        #[utoipa::path(patch, path = $one, tag = $tag, request_body = $input,
            params(("key" = String, Path), ("If-Match" = Option<String>, Header)),
            responses((status = 200, body = $out), (status = 412, body = crate::error::Problem, content_type = "application/problem+json")))]
        pub async fn $patch(
            axum::extract::State(s): axum::extract::State<crate::AppState>,
            crate::extract::Caller(ctx): crate::extract::Caller,
            crate::extract::ApiPath(key): crate::extract::ApiPath<String>,
            crate::extract::IfMatch(v): crate::extract::IfMatch,
            crate::extract::ApiJson(body): crate::extract::ApiJson<$input>,
        ) -> crate::error::ApiResult<axum::response::Response> {
            let r = sigap_core::task::update::<$process>(&s.core, &ctx, &key, body.into(), v).await?;
            let version = r.version;
            Ok(crate::api::handlers::with_etag(axum::http::StatusCode::OK, version, <$out>::from(r), None))
        }

        $(#[$am])*
        #[utoipa::path(post, path = $acts, tag = $tag, request_body = $action_in,
            params(("key" = String, Path), ("action" = String, Path), ("If-Match" = Option<String>, Header)),
            responses((status = 200, body = $out), (status = 409, body = crate::error::Problem, content_type = "application/problem+json")))]
        pub async fn $act(
            axum::extract::State(s): axum::extract::State<crate::AppState>,
            crate::extract::Caller(ctx): crate::extract::Caller,
            crate::extract::ApiPath((key, name)): crate::extract::ApiPath<(String, String)>,
            crate::extract::IfMatch(v): crate::extract::IfMatch,
            crate::extract::ApiJson(body): crate::extract::ApiJson<$action_in>,
        ) -> crate::error::ApiResult<axum::response::Response> {
            let a = $action(&name, body)?;
            let r = sigap_core::task::act::<$process>(&s.core, &ctx, &key, a, v).await?;
            let version = r.version;
            Ok(crate::api::handlers::with_etag(axum::http::StatusCode::OK, version, <$out>::from(r), None))
        }

        $(#[$sm])*
        #[utoipa::path(get, path = $slas_path, tag = $tag, params(("key" = String, Path)),
            responses((status = 200, body = Vec<crate::api::sla::ClockOut>), (status = 404, body = crate::error::Problem, content_type = "application/problem+json")))]
        pub async fn $slas(
            axum::extract::State(s): axum::extract::State<crate::AppState>,
            crate::extract::Caller(ctx): crate::extract::Caller,
            crate::extract::ApiPath(key): crate::extract::ApiPath<String>,
        ) -> crate::error::ApiResult<axum::Json<Vec<crate::api::sla::ClockOut>>> {
            let all = sigap_core::sla::clocks_of::<$process>(&s.core, &ctx, &key).await?;
            Ok(axum::Json(all.into_iter().map(crate::api::sla::ClockOut::from).collect()))
        }
    };
}
pub(crate) use task_endpoints;

/// A required text of an action's body.
pub(crate) fn required(v: Option<String>, field: &str) -> Result<String, crate::error::ApiError> {
    v.ok_or_else(|| {
        crate::error::ApiError::App(sigap_core::AppError::field(
            field,
            "required",
            "is required",
        ))
    })
}
