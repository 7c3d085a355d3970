//! The use-case layer's error: what went wrong, in terms a client can act on.
//! The web layer maps it to HTTP once.

use sigap_domain::InvalidValue;
use sigap_store::StoreError;
use thiserror::Error;

/// One refused field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
    pub fn from_invalid(field: impl Into<String>, e: InvalidValue) -> Self {
        Self::new(field, e.code, e.message)
    }
}

#[derive(Debug, Error)]
pub enum AppError {
    #[error("authentication required")]
    Unauthenticated,
    #[error("not allowed")]
    Forbidden,
    #[error("not found")]
    NotFound,
    #[error("invalid input")]
    Validation(Vec<FieldError>),
    #[error("conflict: {message}")]
    Conflict {
        code: &'static str,
        message: String,
        field: Option<String>,
    },
    #[error("the record has changed since it was read")]
    PreconditionFailed,
    #[error("too many attempts")]
    RateLimited { retry_after_secs: i64 },
    #[error("wrong login or password")]
    BadCredentials,
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A concurrent transaction won; the transaction is retried before this reaches anyone.
    #[error("concurrent transactions collided")]
    Contention,
    #[error("internal error: {0}")]
    Internal(String),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    /// The stable machine code sent to clients.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated => "unauthenticated",
            AppError::Forbidden => "forbidden",
            AppError::NotFound => "not_found",
            AppError::Validation(_) => "validation_failed",
            AppError::Conflict { code, .. } => code,
            AppError::PreconditionFailed => "precondition_failed",
            AppError::RateLimited { .. } => "rate_limited",
            AppError::BadCredentials => "bad_credentials",
            AppError::Unavailable(_) | AppError::Contention => "unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    pub fn field(field: &str, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Validation(vec![FieldError::new(field, code, message)])
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound,
            StoreError::Conflict { target } if target == "fk" => AppError::Conflict {
                code: "in_use",
                message: "the record is referenced by other records".into(),
                field: None,
            },
            StoreError::Conflict { target } => {
                let column = target.rsplit('.').next().unwrap_or(&target);
                let field = match column {
                    "name_key" => "name",
                    other => other,
                };
                AppError::Conflict {
                    code: "already_exists",
                    message: format!("a record with this {field} already exists"),
                    field: Some(field.to_owned()),
                }
            }
            StoreError::VersionMismatch => AppError::Conflict {
                code: "edit_conflict",
                message: "the record was changed at the same time; reload and try again".into(),
                field: None,
            },
            StoreError::Serialization => AppError::Contention,
            StoreError::Closed | StoreError::Pool(_) => AppError::Unavailable(e.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// Optimistic concurrency: the version the client read (`If-Match`) against the stored one.
pub fn check_version(if_match: Option<i64>, stored: i64) -> AppResult<()> {
    match if_match {
        Some(v) if v != stored => Err(AppError::PreconditionFailed),
        _ => Ok(()),
    }
}

/// Maps a lost race at write time: 412 when the client named a version, else a 409 conflict.
pub fn written<T>(result: sigap_store::StoreResult<T>, if_match: Option<i64>) -> AppResult<T> {
    match result {
        Err(StoreError::VersionMismatch) if if_match.is_some() => Err(AppError::PreconditionFailed),
        other => Ok(other?),
    }
}

impl sigap_store::TxError for AppError {
    fn retryable(&self) -> bool {
        matches!(self, AppError::Contention)
    }
}

/// Collects field errors while parsing a whole input.
#[derive(Debug, Default)]
pub struct Errors(Vec<FieldError>);

impl Errors {
    pub fn new() -> Self {
        Self::default()
    }
    /// Keeps the value, or records why it was refused.
    pub fn take<T>(&mut self, field: &str, result: Result<T, InvalidValue>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.push(FieldError::from_invalid(field, e));
                None
            }
        }
    }
    pub fn push(&mut self, e: FieldError) {
        self.0.push(e);
    }
    /// Whether a field was refused already.
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }
    pub fn finish(self) -> AppResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(AppError::Validation(self.0))
        }
    }
}
