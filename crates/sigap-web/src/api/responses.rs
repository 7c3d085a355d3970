//! The error responses of every operation, declared once.
//!
//! Every failure of the API is a problem+json (see [`crate::error`]), and which ones an
//! operation can give follows from its shape, not from what it does: any operation answers
//! 401 without a valid session or token and 403 when the caller may not do it (role,
//! organization, or a read-only token on a write); a path key that names no visible record
//! answers 404; a query or body that does not fit answers 422; and so on. Writing these into
//! each of a hundred `#[utoipa::path]` annotations by hand is how the document came to miss
//! them, so this modifier adds them to every operation by those rules after the paths are
//! collected. An operation still declares its success responses, and may declare an error
//! response itself to give it a more precise description; a declared response is kept as it
//! is.

use crate::error::Problem;
use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, PartialSchema};

pub struct ErrorResponses;

const PROBLEM: &str = "application/problem+json";

/// Which operations give a status.
type Applies = fn(&Shape) -> bool;

/// The rules: (status, description, applies to an operation of this shape).
const RULES: &[(&str, &str, Applies)] = &[
    (
        "400",
        "Malformed: the body is not JSON, or a header (`If-Match`, `Idempotency-Key`) cannot be read.",
        |s| s.json_body || s.if_match || s.post,
    ),
    (
        "401",
        "Not signed in, or the token is unknown, expired or revoked.",
        |_| true,
    ),
    (
        "403",
        "Not allowed: the caller's role or organization does not permit it, or a read-only token tried to write.",
        |_| true,
    ),
    (
        "404",
        "No such record, or not one the caller may see (named in the path or by a filter).",
        |s| s.path_key || s.query,
    ),
    (
        "409",
        "Conflict: a duplicate, a record still in use, a move its state does not allow, or an `Idempotency-Key` still in flight.",
        |s| s.write,
    ),
    (
        "412",
        "`If-Match` does not match the record's current `ETag`; nothing was changed.",
        |s| s.if_match,
    ),
    ("413", "The body is larger than the server accepts.", |s| {
        s.body
    }),
    (
        "415",
        "The body is not of the media type the operation takes.",
        |s| s.body,
    ),
    (
        "422",
        "Invalid input: the problem's `errors` name each refused field or parameter.",
        |s| s.body || s.query || s.write,
    ),
];

/// What the rules look at.
struct Shape {
    path_key: bool,
    query: bool,
    if_match: bool,
    body: bool,
    json_body: bool,
    post: bool,
    write: bool,
}

impl Shape {
    fn of(op: &Operation, method: &str) -> Self {
        // Parameters and bodies are written inline by the path macros, never as references.
        let params: Vec<&Parameter> = op
            .parameters
            .iter()
            .flatten()
            .filter_map(|p| match p {
                RefOr::T(p) => Some(p),
                RefOr::Ref(_) => None,
            })
            .collect();
        let has = |place: ParameterIn| params.iter().any(|p| p.parameter_in == place);
        let json_body = match &op.request_body {
            Some(RefOr::T(b)) => b.content.keys().any(|c| c.contains("json")),
            _ => false,
        };
        Shape {
            path_key: has(ParameterIn::Path),
            query: has(ParameterIn::Query),
            if_match: params
                .iter()
                .any(|p| p.parameter_in == ParameterIn::Header && p.name == "If-Match"),
            body: op.request_body.is_some(),
            json_body,
            post: method == "post",
            write: method != "get",
        }
    }
}

impl Modify for ErrorResponses {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components
            .schemas
            .entry("Problem".into())
            .or_insert_with(Problem::schema);
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                ("get", item.get.as_mut()),
                ("put", item.put.as_mut()),
                ("post", item.post.as_mut()),
                ("delete", item.delete.as_mut()),
                ("patch", item.patch.as_mut()),
            ];
            for (method, op) in ops {
                let Some(op) = op else { continue };
                if_match_schema(op);
                raw_body_schema(op);
                let shape = Shape::of(op, method);
                for (status, description, applies) in RULES {
                    if !applies(&shape) || op.responses.responses.contains_key(*status) {
                        continue;
                    }
                    let response = ResponseBuilder::new()
                        .description(*description)
                        .content(
                            PROBLEM,
                            ContentBuilder::new()
                                .schema(Some(RefOr::<utoipa::openapi::Schema>::Ref(
                                    Ref::from_schema_name("Problem"),
                                )))
                                .build(),
                        )
                        .build();
                    op.responses
                        .responses
                        .insert((*status).into(), RefOr::T(response));
                }
            }
        }
    }
}

/// `If-Match` takes only what [`crate::extract::IfMatch`] reads, and is never `null`: the
/// paths declare it as an optional string, this gives it its pattern.
fn if_match_schema(op: &mut Operation) {
    for p in op.parameters.iter_mut().flatten() {
        if let RefOr::T(p) = p
            && p.parameter_in == ParameterIn::Header
            && p.name == "If-Match"
        {
            p.schema = Some(RefOr::T(utoipa::openapi::Schema::Object(
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .pattern(Some(crate::extract::IF_MATCH_PATTERN))
                    .build(),
            )));
            if p.description.is_none() {
                p.description = Some(
                    "The `ETag` you read; the change is refused with 412 if the record changed since."
                        .into(),
                );
            }
        }
    }
}

/// A body that is not JSON (a CSV file, an attachment) is bytes of its media type: the
/// paths give it as a string or a byte list, which would tell a client (and schemathesis)
/// to send JSON text or a list of numbers.
fn raw_body_schema(op: &mut Operation) {
    let Some(RefOr::T(body)) = op.request_body.as_mut() else {
        return;
    };
    for (media_type, content) in body.content.iter_mut() {
        let RefOr::T(content) = content else { continue };
        if media_type.contains("json") {
            continue;
        }
        content.schema = Some(RefOr::T(utoipa::openapi::Schema::Object(
            utoipa::openapi::schema::ObjectBuilder::new()
                .schema_type(utoipa::openapi::schema::Type::String)
                .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                    utoipa::openapi::KnownFormat::Binary,
                )))
                .build(),
        )));
    }
}
