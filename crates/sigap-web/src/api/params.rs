//! Query parameters typed in the OpenAPI document, and read exactly as strictly as it says.
//!
//! Why strict: the document is a contract that clients (and schemathesis) take at its word. A
//! parameter typed as an integer that the server also reads when empty, or a boolean it also
//! reads as `yes`, makes the document wrong in one direction; free text where only a number or
//! a choice works makes it wrong in the other. So a typed parameter is refused with a 422 that
//! names it unless it is exactly what its schema allows (an empty value included: leave the
//! parameter out instead), and free text stays free text. Ranges (`limit` 1–500, priority 1–5)
//! are checked where they always were, in the use cases, and stated here in the schema.
//!
//! Values still arrive as text and never panic: the extractor ([`crate::extract::ApiQuery`])
//! turns every refusal into problem+json.

use crate::error::ApiError;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer};
use sigap_core::AppError;
use sigap_core::listing::ListParams;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Object, RefOr};

/// A closed set of codes, as the domain's code enums define them.
pub trait Choice: Copy + 'static {
    fn all() -> &'static [Self];
    fn code(self) -> &'static str;
    fn codes() -> Vec<&'static str> {
        Self::all().iter().map(|c| c.code()).collect()
    }
    fn from_code(text: &str) -> Option<Self> {
        Self::all().iter().copied().find(|c| c.code() == text)
    }
}

macro_rules! choices {
    ($($t:ty),+ $(,)?) => {$(
        impl Choice for $t {
            fn all() -> &'static [Self] {
                <$t>::ALL
            }
            fn code(self) -> &'static str {
                <$t>::code(self)
            }
        }
    )+};
}

choices!(
    sigap_domain::OrgKind,
    sigap_domain::GroupType,
    sigap_domain::Role,
    sigap_domain::Stage,
    sigap_domain::PortfolioStatus,
    sigap_domain::portfolio::ProjectStatus,
    sigap_domain::portfolio::AppStatus,
    sigap_domain::cmdb::CiStatus,
    sigap_domain::process::incident::IncidentState,
    sigap_domain::process::problem::ProblemState,
    sigap_domain::process::change::ChangeState,
    sigap_domain::process::article::ArticleState,
    sigap_domain::task::Dimension,
    sigap_domain::report::Aggregate,
    sigap_domain::report::Source,
    sigap_domain::report::TaskNumber,
    sigap_domain::report::TaskTime,
    sigap_domain::report::GroupBy,
);

/// A closed set of codes of the API's own (a queue, a report's breakdown): its [`Choice`]
/// implementation, and its reading and schema as a query parameter (`#[param(inline)]`).
macro_rules! codes_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $($(#[$vmeta:meta])* $variant:ident = $code:literal),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl $crate::api::params::Choice for $name {
            fn all() -> &'static [Self] {
                &[$($name::$variant),+]
            }
            fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }
        }

        impl $name {
            pub fn code(self) -> &'static str {
                $crate::api::params::Choice::code(self)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::api::params::read_code(d)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::RefOr::T(utoipa::openapi::schema::Schema::Object(
                    $crate::api::params::choice::<$name>(),
                ))
            }
        }

        impl utoipa::ToSchema for $name {}
    };
}

pub(crate) use codes_enum;

fn choice_message<T: Choice>() -> String {
    format!("must be one of: {}", T::codes().join(", "))
}

/// `true` or `false`, nothing else.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    match String::deserialize(d)?.as_str() {
        "true" => Ok(Some(true)),
        "false" => Ok(Some(false)),
        _ => Err(D::Error::custom("must be true or false")),
    }
}

/// A whole number in decimal digits (an optional leading `-`).
pub fn int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let text = String::deserialize(d)?;
    let digits = text.strip_prefix('-').unwrap_or(&text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(D::Error::custom("must be a whole number"));
    }
    text.parse::<i64>()
        .map(Some)
        .map_err(|_| D::Error::custom("is out of range"))
}

/// A query parameter that is an RFC 3339 time (declared `format = DateTime`), if given.
pub fn instant(field: &str, text: Option<&str>) -> Result<Option<jiff::Timestamp>, ApiError> {
    text.map(|t| {
        t.parse::<jiff::Timestamp>().map_err(|_| {
            ApiError::InvalidQuery(vec![sigap_core::FieldError::new(
                field,
                "invalid_value",
                "must be an RFC 3339 time",
            )])
        })
    })
    .transpose()
}

/// Reads one code of `T`, exactly.
pub fn read_code<'de, D: Deserializer<'de>, T: Choice>(d: D) -> Result<T, D::Error> {
    let text = String::deserialize(d)?;
    T::from_code(&text).ok_or_else(|| D::Error::custom(choice_message::<T>()))
}

/// Reads codes of `T` separated by commas (`new,in_progress`), exactly.
pub fn read_codes<'de, D: Deserializer<'de>, T: Choice>(d: D) -> Result<Vec<T>, D::Error> {
    let text = String::deserialize(d)?;
    text.split(',')
        .map(|part| T::from_code(part).ok_or_else(|| D::Error::custom(choice_message::<T>())))
        .collect()
}

/// The schema of codes of `T` separated by commas: an array of the codes, sent with
/// `style=form, explode=false`.
pub fn choice_list<T: Choice>() -> RefOr<Schema> {
    RefOr::T(Schema::Array(
        ArrayBuilder::new()
            .items(RefOr::T(Schema::Object(choice::<T>())))
            .min_items(Some(1))
            .build(),
    ))
}

/// A query parameter taking one code of a domain enum: its schema is the codes as an `enum`
/// (declare the field `#[param(inline)]`), and it reads exactly one of them. A wrapper per
/// enum, because the document's generator composes a generic type from its parameters'
/// schemas, which the domain's enums (rightly) do not have.
macro_rules! code_param {
    ($($(#[$meta:meta])* $name:ident($t:ty);)+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name(pub $t);

        impl $name {
            // Not every parameter is read back as its code.
            #[allow(dead_code)]
            pub fn code(self) -> &'static str {
                Choice::code(self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                read_code::<D, $t>(d).map($name)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                RefOr::T(Schema::Object(choice::<$t>()))
            }
        }

        impl utoipa::ToSchema for $name {}
    )+};
}

code_param! {
    /// What a report measures of each group.
    AggregateCode(sigap_domain::report::Aggregate);
    /// A number of a task.
    TaskNumberCode(sigap_domain::report::TaskNumber);
    /// What a report is over.
    SourceCode(sigap_domain::report::Source);
    /// A moment of a task.
    TaskTimeCode(sigap_domain::report::TaskTime);
    /// A role code.
    RoleCode(sigap_domain::Role);
    /// An organization kind.
    OrgKindCode(sigap_domain::OrgKind);
    /// A support group type.
    GroupTypeCode(sigap_domain::GroupType);
    /// A service lifecycle stage.
    StageCode(sigap_domain::Stage);
    /// A part of the service portfolio.
    PortfolioStatusCode(sigap_domain::PortfolioStatus);
    /// A project state.
    ProjectStatusCode(sigap_domain::portfolio::ProjectStatus);
    /// An application state.
    AppStatusCode(sigap_domain::portfolio::AppStatus);
    /// A configuration item state.
    CiStatusCode(sigap_domain::cmdb::CiStatus);
    /// What a breakdown counts tasks by.
    DimensionCode(sigap_domain::task::Dimension);
}

/// A breakdown's grouping and period (whole days, UTC), as query parameters.
#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BreakdownQuery {
    /// service (default), ci or category.
    #[param(inline)]
    pub by: Option<DimensionCode>,
    /// The period's first day (default 30 days ago).
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<jiff::civil::Date>,
    /// The day after the period (default tomorrow).
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<jiff::civil::Date>,
}

impl BreakdownQuery {
    /// What to count by, and the period's start and end.
    pub fn read(
        &self,
        now: jiff::Timestamp,
    ) -> Result<
        (
            sigap_domain::task::Dimension,
            jiff::Timestamp,
            jiff::Timestamp,
        ),
        AppError,
    > {
        let day = |field: &str, d: Option<jiff::civil::Date>, default: jiff::Timestamp| match d {
            None => Ok(default),
            Some(d) => jiff::tz::TimeZone::UTC
                .to_timestamp(d.at(0, 0, 0, 0))
                .map_err(|_| AppError::field(field, "out_of_range", "is out of range")),
        };
        let hours = |h| jiff::SignedDuration::from_hours(h);
        let from = day("from", self.from, now - hours(24 * 30))?;
        let to = day("to", self.to, now + hours(24))?;
        let by = self
            .by
            .map_or(sigap_domain::task::Dimension::Service, |b| b.0);
        Ok((by, from, to))
    }
}

/// A query parameter taking codes of a domain enum separated by commas (a list's `state`
/// filter): an array of the codes, sent with `style=form, explode=false`. A wrapper per enum,
/// as for `code_param!`.
macro_rules! code_list {
    ($($(#[$meta:meta])* $name:ident($t:ty);)+) => {$(
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name(pub Vec<$t>);

        impl $name {
            /// The codes joined by commas, as the use case reads them.
            // Not every list is read back as text.
            #[allow(dead_code)]
            pub fn joined(&self) -> String {
                self.0
                    .iter()
                    .map(|c| Choice::code(*c))
                    .collect::<Vec<_>>()
                    .join(",")
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                read_codes(d).map($name)
            }
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                choice_list::<$t>()
            }
        }

        impl utoipa::ToSchema for $name {}
    )+};
}

code_list! {
    /// A report's groupings separated by commas.
    GroupByList(sigap_domain::report::GroupBy);
    /// Incident states separated by commas.
    IncidentStates(sigap_domain::process::incident::IncidentState);
    /// Problem states separated by commas.
    ProblemStates(sigap_domain::process::problem::ProblemState);
    /// Change states separated by commas.
    ChangeStates(sigap_domain::process::change::ChangeState);
    /// Article states separated by commas.
    ArticleStates(sigap_domain::process::article::ArticleState);
}

/// The schema of one of `codes`, with its description (a parameter given its schema by a
/// function loses its doc comment, so the schema carries it).
pub fn codes(codes: &[&str], description: &str) -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .enum_values(Some(codes.to_vec()))
        .description(Some(description))
        .build()
}

/// Reads a parameter that takes one of `codes`, exactly.
pub fn check_code(field: &str, value: Option<&str>, codes: &[&str]) -> Result<(), ApiError> {
    match value {
        Some(v) if !codes.contains(&v) => {
            Err(ApiError::InvalidQuery(vec![sigap_core::FieldError::new(
                field.to_owned(),
                "invalid_value",
                format!("must be one of: {}", codes.join(", ")),
            )]))
        }
        _ => Ok(()),
    }
}

/// The schema of one code of `T`.
pub fn choice<T: Choice>() -> Object {
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .enum_values(Some(T::codes()))
        .build()
}

/// The row limit of a CSV export, checked by the export's own rule (1 to
/// `sigap_core::export::MAX_LIMIT`, which the parameters state as their `maximum`).
pub fn export_limit(limit: Option<i64>) -> Result<Option<u64>, ApiError> {
    let text = limit.map(|n| n.to_string());
    Ok(sigap_core::export::parse_limit(text.as_deref())?)
}

/// The schema of `sort` for a list that sorts by `fields`: up to four of them, separated by
/// commas, each with an optional `-` (descending) or `+` (a space when it was not encoded);
/// empty means the list's default.
pub fn sort_schema<S>(fields: &[(&str, S)]) -> Object {
    let names: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
    // `+` is allowed for "ascending", and a space too: a `+` left unencoded in a query
    // string arrives as one.
    let one = format!("[-+ ]?({})", names.join("|"));
    ObjectBuilder::new()
        .schema_type(SchemaType::new(Type::String))
        .pattern(Some(format!("^({one}(,{one}){{0,3}})?$")))
        .description(Some(format!(
            "Sort fields separated by commas, `-` for descending, at most four: {}.",
            names.join(", ")
        )))
        .build()
}

/// Checks `sort` against [`sort_schema`] (the use case would also take spaces around the
/// names; the document does not, so neither does the API).
pub fn check_sort<S>(sort: Option<&str>, fields: &[(&str, S)]) -> Result<(), ApiError> {
    let Some(text) = sort.filter(|s| !s.is_empty()) else {
        return Ok(());
    };
    let parts: Vec<&str> = text.split(',').collect();
    let known = |p: &str| {
        let name = p.strip_prefix(['-', '+', ' ']).unwrap_or(p);
        fields.iter().any(|(f, _)| *f == name)
    };
    if parts.len() > 4 || !parts.iter().all(|p| known(p)) {
        let names: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
        return Err(ApiError::App(AppError::field(
            "sort",
            "invalid_sort",
            format!(
                "sort by at most four of {}, separated by commas",
                names.join(", ")
            ),
        )));
    }
    Ok(())
}

/// Defines a list's query: `sort` (by the fields of `$sort`), `cursor`, `limit` and `q`, then
/// the list's own filters. One struct per list, so each list's document shows only its own
/// filters.
macro_rules! list_query {
    (
        $(#[$meta:meta])*
        $name:ident, sort = $sort:path, q = $q_doc:literal,
        { $($(#[$fmeta:meta])* $field:ident : $ty:ty),* $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            // Its schema (a pattern over the list's fields) carries its description.
            #[param(schema_with = $name::sort_schema)]
            pub sort: Option<String>,
            /// `next_cursor` of the previous page.
            #[param(pattern = r"^[A-Za-z0-9_-]*$")]
            pub cursor: Option<String>,
            /// Page size (default 50).
            #[serde(default, deserialize_with = "crate::api::params::int")]
            #[param(minimum = 1, maximum = 500)]
            pub limit: Option<i64>,
            #[doc = $q_doc]
            pub q: Option<String>,
            $($(#[$fmeta])* pub $field: $ty,)*
        }

        impl $name {
            fn sort_schema() -> utoipa::openapi::Object {
                crate::api::params::sort_schema($sort)
            }

            /// The page asked for; `sort` checked against the list's fields.
            pub fn page(&self) -> Result<sigap_core::listing::ListParams, crate::ApiError> {
                crate::api::params::page(self.sort.as_deref(), self.cursor.as_deref(), self.limit, $sort)
            }
        }
    };
}

pub(crate) use list_query;

/// The list parameters of a page.
pub fn page<S>(
    sort: Option<&str>,
    cursor: Option<&str>,
    limit: Option<i64>,
    fields: &[(&str, S)],
) -> Result<ListParams, ApiError> {
    check_sort(sort, fields)?;
    Ok(ListParams {
        sort: sort.map(str::to_owned),
        cursor: cursor.map(str::to_owned),
        limit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The document states these bounds as literals; they must be the use cases' own.
    #[test]
    fn stated_bounds_are_the_use_cases() {
        assert_eq!(sigap_core::listing::MAX_LIMIT, 500);
        assert_eq!(sigap_core::export::MAX_LIMIT, 100_000_000);
    }

    #[test]
    fn sort_takes_the_lists_fields_only() {
        let fields = [("name", ()), ("created_at", ())];
        assert!(check_sort(None, &fields).is_ok());
        assert!(check_sort(Some(""), &fields).is_ok());
        assert!(check_sort(Some("-name,+created_at"), &fields).is_ok());
        assert!(check_sort(Some(" name"), &fields).is_ok());
        assert!(check_sort(Some("  name"), &fields).is_err());
        assert!(check_sort(Some("name "), &fields).is_err());
        assert!(check_sort(Some("name,"), &fields).is_err());
        assert!(check_sort(Some("login"), &fields).is_err());
        assert!(check_sort(Some("name,name,name,name,name"), &fields).is_err());
    }
}
