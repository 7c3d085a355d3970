//! Our own parameter and column types, so that one SQL text serves both engines.
//!
//! Storage mapping: UUIDs are `UUID` on PostgreSQL and 16-byte BLOBs on SQLite (in columns
//! declared `TEXT`, which store a BLOB as it is; before migration 0008, text); timestamps are
//! `TIMESTAMPTZ` on PostgreSQL and `INTEGER` microseconds since the Unix epoch on SQLite;
//! booleans are `BOOLEAN` / `INTEGER`; JSON is `JSONB` / `TEXT`; integers are `BIGINT`.

use crate::error::StoreError;
use bytes::BytesMut;
use jiff::Timestamp;
use postgres_types::{IsNull, ToSql, Type, to_sql_checked};
use rusqlite::types::{ToSqlOutput, Value as SqlValue, ValueRef};
use uuid::Uuid;

/// An owned parameter value: for queries assembled at run time (a list's cursor, kept in
/// its token) and for writes kept past the call that gave them (`Tx::execute_later`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "t", content = "v")]
pub enum Val {
    Null,
    I64(i64),
    Bool(bool),
    Text(String),
    Uuid(Uuid),
    Ts(Timestamp),
    Json(serde_json::Value),
    Bytes(Vec<u8>),
    F64(f64),
}

impl Val {
    pub(crate) fn of(p: &P<'_>) -> Self {
        match *p {
            P::Null => Self::Null,
            P::I64(v) => Self::I64(v),
            P::Bool(v) => Self::Bool(v),
            P::Text(v) => Self::Text(v.to_owned()),
            P::Uuid(v) => Self::Uuid(v),
            P::Ts(v) => Self::Ts(v),
            P::Json(v) => Self::Json(v.clone()),
            P::Bytes(v) => Self::Bytes(v.to_vec()),
            P::F64(v) => Self::F64(v),
        }
    }

    pub(crate) fn as_p(&self) -> P<'_> {
        match self {
            Self::Null => P::Null,
            Self::I64(v) => P::I64(*v),
            Self::Bool(v) => P::Bool(*v),
            Self::Text(v) => P::Text(v),
            Self::Uuid(v) => P::Uuid(*v),
            Self::Ts(v) => P::Ts(*v),
            Self::Json(v) => P::Json(v),
            Self::Bytes(v) => P::Bytes(v),
            Self::F64(v) => P::F64(*v),
        }
    }
}

/// Microseconds between the Unix epoch and PostgreSQL's epoch (2000-01-01).
const PG_EPOCH_OFFSET_US: i64 = 946_684_800_000_000;

/// A bound parameter.
#[derive(Debug, Clone, Copy)]
pub enum P<'a> {
    Null,
    I64(i64),
    Bool(bool),
    Text(&'a str),
    Uuid(Uuid),
    Ts(Timestamp),
    Json(&'a serde_json::Value),
    Bytes(&'a [u8]),
    F64(f64),
}

impl From<f64> for P<'_> {
    fn from(v: f64) -> Self {
        P::F64(v)
    }
}

impl From<i64> for P<'_> {
    fn from(v: i64) -> Self {
        P::I64(v)
    }
}
impl From<bool> for P<'_> {
    fn from(v: bool) -> Self {
        P::Bool(v)
    }
}
impl<'a> From<&'a str> for P<'a> {
    fn from(v: &'a str) -> Self {
        P::Text(v)
    }
}
impl<'a> From<&'a String> for P<'a> {
    fn from(v: &'a String) -> Self {
        P::Text(v)
    }
}
impl From<Uuid> for P<'_> {
    fn from(v: Uuid) -> Self {
        P::Uuid(v)
    }
}
impl From<Timestamp> for P<'_> {
    fn from(v: Timestamp) -> Self {
        P::Ts(v)
    }
}
impl<'a> From<&'a serde_json::Value> for P<'a> {
    fn from(v: &'a serde_json::Value) -> Self {
        P::Json(v)
    }
}
impl<'a, T: Into<P<'a>>> From<Option<T>> for P<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(P::Null, Into::into)
    }
}

/// A field's value as a parameter, borrowed: what an extension's fields are written with
/// (`extension!`).
pub trait Param {
    fn param(&self) -> P<'_>;
}
impl Param for String {
    fn param(&self) -> P<'_> {
        P::Text(self)
    }
}
impl Param for bool {
    fn param(&self) -> P<'_> {
        P::Bool(*self)
    }
}
impl Param for i64 {
    fn param(&self) -> P<'_> {
        P::I64(*self)
    }
}
impl Param for Timestamp {
    fn param(&self) -> P<'_> {
        P::Ts(*self)
    }
}
impl<T: Param> Param for Option<T> {
    fn param(&self) -> P<'_> {
        self.as_ref().map_or(P::Null, Param::param)
    }
}

macro_rules! id_params {
    ($($t:ty),*) => {$(
        impl From<$t> for P<'_> {
            fn from(v: $t) -> Self { P::Uuid(v.as_uuid()) }
        }
        impl Param for $t {
            fn param(&self) -> P<'_> { P::Uuid(self.as_uuid()) }
        }
    )*};
}
id_params!(
    sigap_domain::PersonId,
    sigap_domain::OrgId,
    sigap_domain::GroupId,
    sigap_domain::TokenId,
    sigap_domain::JobId,
    sigap_domain::ServiceId,
    sigap_domain::OfferingId,
    sigap_domain::CiId,
    sigap_domain::CiClassId,
    sigap_domain::RelId,
    sigap_domain::ProjectId,
    sigap_domain::ApplicationId,
    sigap_domain::NotificationId,
    sigap_domain::TaskId,
    sigap_domain::JournalId,
    sigap_domain::RuleId,
    sigap_domain::AttachmentId,
    sigap_domain::FilterId,
    sigap_domain::CalendarId,
    sigap_domain::HolidayId,
    sigap_domain::AgreementId,
    sigap_domain::TargetId,
    sigap_domain::ClockId,
    sigap_domain::ClockEventId,
    sigap_domain::LocationId,
    sigap_domain::CatalogCategoryId,
    sigap_domain::CatalogItemId,
    sigap_domain::ApprovalId,
    sigap_domain::DelegationId,
    sigap_domain::CartLineId,
    sigap_domain::ChangeTemplateId,
    sigap_domain::CabMeetingId,
    sigap_domain::BlackoutId,
    sigap_domain::KnowledgeBaseId,
    sigap_domain::KbCategoryId,
    sigap_domain::ArticleVersionId,
    sigap_domain::FeedbackId,
    sigap_domain::MailboxId,
    sigap_domain::MailMessageId,
    sigap_domain::AlertId,
    sigap_domain::EventId,
    sigap_domain::IntegrationId,
    sigap_domain::MaintenanceWindowId,
    sigap_domain::EventRuleId,
    sigap_domain::ReportId,
    sigap_domain::DashboardId,
    sigap_domain::ScheduleId,
    sigap_domain::ImprovementId,
    sigap_domain::ImprovementReviewId,
    sigap_domain::AnnouncementId
);

pub(crate) fn ts_to_micros(ts: Timestamp) -> i64 {
    ts.as_microsecond()
}

fn micros_to_ts(us: i64, column: usize) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(us).map_err(|e| StoreError::Decode {
        column,
        detail: e.to_string(),
    })
}

impl rusqlite::ToSql for P<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match self {
            P::Null => ToSqlOutput::Owned(SqlValue::Null),
            P::I64(v) => ToSqlOutput::Owned(SqlValue::Integer(*v)),
            P::Bool(v) => ToSqlOutput::Owned(SqlValue::Integer(i64::from(*v))),
            P::Text(v) => ToSqlOutput::Borrowed(ValueRef::Text(v.as_bytes())),
            // Its 16 bytes, in the order that sorts UUIDs as their text does.
            P::Uuid(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v.as_bytes())),
            P::Ts(v) => ToSqlOutput::Owned(SqlValue::Integer(ts_to_micros(*v))),
            P::Json(v) => ToSqlOutput::Owned(SqlValue::Text(v.to_string())),
            P::Bytes(v) => ToSqlOutput::Borrowed(ValueRef::Blob(v)),
            P::F64(v) => ToSqlOutput::Owned(SqlValue::Real(*v)),
        })
    }
}

impl ToSql for P<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match *self {
            P::Null => Ok(IsNull::Yes),
            P::I64(v) => {
                if *ty == Type::INT4 {
                    i32::try_from(v)?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(v)?.to_sql(ty, out)
                } else {
                    v.to_sql(ty, out)
                }
            }
            P::Bool(v) => v.to_sql(ty, out),
            P::Text(v) => v.to_sql(ty, out),
            P::Uuid(v) => v.to_sql(ty, out),
            P::Ts(v) => {
                if *ty == Type::TIMESTAMPTZ || *ty == Type::TIMESTAMP {
                    (ts_to_micros(v) - PG_EPOCH_OFFSET_US).to_sql(&Type::INT8, out)
                } else {
                    ts_to_micros(v).to_sql(ty, out)
                }
            }
            P::Json(v) => v.to_sql(ty, out),
            P::Bytes(v) => v.to_sql(ty, out),
            P::F64(v) => {
                if *ty == Type::FLOAT4 {
                    (v as f32).to_sql(ty, out)
                } else {
                    v.to_sql(ty, out)
                }
            }
        }
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

/// A row read from either engine.
pub enum Row {
    Sqlite(SqliteRow),
    Pg(tokio_postgres::Row),
}

/// A SQLite row: its values, with every text and blob copied once into one buffer, so that
/// reading a row costs two allocations whatever its width and a UUID column none.
pub struct SqliteRow {
    cells: Vec<Cell>,
    bytes: Vec<u8>,
}

#[derive(Clone, Copy)]
enum Cell {
    Null,
    Integer(i64),
    Real(f64),
    Text(usize, usize),
    Blob(usize, usize),
}

impl SqliteRow {
    pub(crate) fn with_capacity(columns: usize, bytes: usize) -> Self {
        SqliteRow {
            cells: Vec::with_capacity(columns),
            bytes: Vec::with_capacity(bytes),
        }
    }

    pub(crate) fn push(&mut self, v: ValueRef<'_>) {
        let mut span = |b: &[u8]| {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(b);
            (start, self.bytes.len())
        };
        let cell = match v {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(n) => Cell::Integer(n),
            ValueRef::Real(f) => Cell::Real(f),
            ValueRef::Text(t) => {
                let (a, b) = span(t);
                Cell::Text(a, b)
            }
            ValueRef::Blob(t) => {
                let (a, b) = span(t);
                Cell::Blob(a, b)
            }
        };
        self.cells.push(cell);
    }

    pub(crate) fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    fn value(&self, i: usize) -> Option<ValueRef<'_>> {
        let bytes = |a: usize, b: usize| self.bytes.get(a..b).unwrap_or_default();
        Some(match *self.cells.get(i)? {
            Cell::Null => ValueRef::Null,
            Cell::Integer(n) => ValueRef::Integer(n),
            Cell::Real(f) => ValueRef::Real(f),
            Cell::Text(a, b) => ValueRef::Text(bytes(a, b)),
            Cell::Blob(a, b) => ValueRef::Blob(bytes(a, b)),
        })
    }
}

impl Row {
    pub fn get<T: Col>(&self, i: usize) -> Result<T, StoreError> {
        match self {
            Row::Sqlite(row) => match row.value(i) {
                Some(v) => T::from_sqlite(v, i),
                None => Err(StoreError::Decode {
                    column: i,
                    detail: "no such column".into(),
                }),
            },
            Row::Pg(row) => T::from_pg(row, i),
        }
    }
}

/// A column type readable from both engines.
pub trait Col: Sized {
    fn from_sqlite(v: ValueRef<'_>, i: usize) -> Result<Self, StoreError>;
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, StoreError>;
}

fn decode_err(i: usize, what: &str, got: ValueRef<'_>) -> StoreError {
    StoreError::Decode {
        column: i,
        detail: format!("expected {what}, found {:?}", got.data_type()),
    }
}

fn pg_get<'a, T: postgres_types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    i: usize,
) -> Result<T, StoreError> {
    row.try_get(i).map_err(|e| StoreError::Decode {
        column: i,
        detail: e.to_string(),
    })
}

impl Col for i64 {
    fn from_sqlite(v: ValueRef<'_>, i: usize) -> Result<Self, StoreError> {
        match v {
            ValueRef::Integer(n) => Ok(n),
            other => Err(decode_err(i, "integer", other)),
        }
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, StoreError> {
        pg_get(row, i)
    }
}

impl Col for f64 {
    fn from_sqlite(v: ValueRef<'_>, i: usize) -> Result<Self, StoreError> {
        match v {
            ValueRef::Real(x) => Ok(x),
            ValueRef::Integer(n) => Ok(n as f64),
            other => Err(decode_err(i, "number", other)),
        }
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, StoreError> {
        pg_get(row, i)
    }
}

impl Col for bool {
    fn from_sqlite(v: ValueRef<'_>, i: usize) -> Result<Self, StoreError> {
        match v {
            ValueRef::Integer(n) => Ok(n != 0),
            other => Err(decode_err(i, "boolean", other)),
        }
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, StoreError> {
        pg_get(row, i)
    }
}

/// The text of a SQLite value, checked to be UTF-8.
fn sqlite_text<'a>(v: ValueRef<'a>, i: usize, what: &str) -> Result<&'a str, StoreError> {
    match v {
        ValueRef::Text(t) => std::str::from_utf8(t).map_err(|e| StoreError::Decode {
            column: i,
            detail: e.to_string(),
        }),
        other => Err(decode_err(i, what, other)),
    }
}

impl Col for String {
    fn from_sqlite(v: ValueRef<'_>, i: usize) -> Result<Self, StoreError> {
        sqlite_text(v, i, "text").map(str::to_owned)
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, StoreError> {
        pg_get(row, i)
    }
}

impl Col for Uuid {
    fn from_sqlite(v: ValueRef<'_>, i: usize) -> Result<Self, StoreError> {
        match v {
            ValueRef::Blob(b) => Uuid::from_slice(b).map_err(|e| StoreError::Decode {
                column: i,
                detail: e.to_string(),
            }),
            // A value migration 0008 left as it was, or SQL that made one from text.
            ValueRef::Text(t) => Uuid::try_parse_ascii(t).map_err(|e| StoreError::Decode {
                column: i,
                detail: e.to_string(),
            }),
            other => Err(decode_err(i, "uuid", other)),
        }
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, StoreError> {
        pg_get(row, i)
    }
}

/// TIMESTAMPTZ read in PostgreSQL's binary format.
struct PgTs(i64);

impl<'a> postgres_types::FromSql<'a> for PgTs {
    fn from_sql(
        _ty: &Type,
        raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let bytes: [u8; 8] = raw.try_into()?;
        Ok(PgTs(i64::from_be_bytes(bytes)))
    }
    fn accepts(ty: &Type) -> bool {
        *ty == Type::TIMESTAMPTZ || *ty == Type::TIMESTAMP
    }
}

impl Col for Timestamp {
    fn from_sqlite(v: ValueRef<'_>, i: usize) -> Result<Self, StoreError> {
        match v {
            ValueRef::Integer(n) => micros_to_ts(n, i),
            other => Err(decode_err(i, "timestamp", other)),
        }
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, StoreError> {
        let PgTs(us) = pg_get(row, i)?;
        micros_to_ts(us.saturating_add(PG_EPOCH_OFFSET_US), i)
    }
}

impl Col for serde_json::Value {
    fn from_sqlite(v: ValueRef<'_>, i: usize) -> Result<Self, StoreError> {
        serde_json::from_str(sqlite_text(v, i, "json text")?).map_err(|e| StoreError::Decode {
            column: i,
            detail: e.to_string(),
        })
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, StoreError> {
        pg_get(row, i)
    }
}

impl<T: Col> Col for Option<T> {
    fn from_sqlite(v: ValueRef<'_>, i: usize) -> Result<Self, StoreError> {
        match v {
            ValueRef::Null => Ok(None),
            other => T::from_sqlite(other, i).map(Some),
        }
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, StoreError> {
        let raw: Option<RawPresent> = pg_get(row, i)?;
        match raw {
            None => Ok(None),
            Some(_) => T::from_pg(row, i).map(Some),
        }
    }
}

/// Reads only whether a PostgreSQL value is present.
struct RawPresent;

impl<'a> postgres_types::FromSql<'a> for RawPresent {
    fn from_sql(
        _ty: &Type,
        _raw: &'a [u8],
    ) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(RawPresent)
    }
    fn accepts(_ty: &Type) -> bool {
        true
    }
}

macro_rules! id_cols {
    ($($t:ty),*) => {$(
        impl Col for $t {
            fn from_sqlite(v: ValueRef<'_>, i: usize) -> Result<Self, StoreError> {
                Uuid::from_sqlite(v, i).map(<$t>::from_uuid)
            }
            fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, StoreError> {
                Uuid::from_pg(row, i).map(<$t>::from_uuid)
            }
        }
    )*};
}
id_cols!(
    sigap_domain::PersonId,
    sigap_domain::OrgId,
    sigap_domain::GroupId,
    sigap_domain::TokenId,
    sigap_domain::JobId,
    sigap_domain::ServiceId,
    sigap_domain::OfferingId,
    sigap_domain::CiId,
    sigap_domain::CiClassId,
    sigap_domain::RelId,
    sigap_domain::ProjectId,
    sigap_domain::ApplicationId,
    sigap_domain::NotificationId,
    sigap_domain::TaskId,
    sigap_domain::JournalId,
    sigap_domain::RuleId,
    sigap_domain::AttachmentId,
    sigap_domain::FilterId,
    sigap_domain::CalendarId,
    sigap_domain::HolidayId,
    sigap_domain::AgreementId,
    sigap_domain::TargetId,
    sigap_domain::ClockId,
    sigap_domain::ClockEventId,
    sigap_domain::LocationId,
    sigap_domain::CatalogCategoryId,
    sigap_domain::CatalogItemId,
    sigap_domain::ApprovalId,
    sigap_domain::DelegationId,
    sigap_domain::CartLineId,
    sigap_domain::ChangeTemplateId,
    sigap_domain::CabMeetingId,
    sigap_domain::BlackoutId,
    sigap_domain::KnowledgeBaseId,
    sigap_domain::KbCategoryId,
    sigap_domain::ArticleVersionId,
    sigap_domain::FeedbackId,
    sigap_domain::MailboxId,
    sigap_domain::MailMessageId,
    sigap_domain::AlertId,
    sigap_domain::EventId,
    sigap_domain::IntegrationId,
    sigap_domain::MaintenanceWindowId,
    sigap_domain::EventRuleId,
    sigap_domain::ReportId,
    sigap_domain::DashboardId,
    sigap_domain::ScheduleId,
    sigap_domain::ImprovementId,
    sigap_domain::ImprovementReviewId,
    sigap_domain::AnnouncementId
);

/// A calendar date, kept as ISO text (`YYYY-MM-DD`) in both engines.
impl Col for jiff::civil::Date {
    fn from_sqlite(v: ValueRef<'_>, i: usize) -> Result<Self, StoreError> {
        parse_date(sqlite_text(v, i, "date text")?, i)
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, StoreError> {
        parse_date(&String::from_pg(row, i)?, i)
    }
}

fn parse_date(text: &str, column: usize) -> Result<jiff::civil::Date, StoreError> {
    text.parse().map_err(|e: jiff::Error| StoreError::Decode {
        column,
        detail: format!("{text:?}: {e}"),
    })
}

impl<'a> From<&'a [u8]> for P<'a> {
    fn from(v: &'a [u8]) -> Self {
        P::Bytes(v)
    }
}

/// Binary content: BLOB on SQLite, BYTEA on PostgreSQL.
impl Col for Vec<u8> {
    fn from_sqlite(v: ValueRef<'_>, i: usize) -> Result<Self, StoreError> {
        match v {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            other => Err(decode_err(i, "blob", other)),
        }
    }
    fn from_pg(row: &tokio_postgres::Row, i: usize) -> Result<Self, StoreError> {
        pg_get(row, i)
    }
}
