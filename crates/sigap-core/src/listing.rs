//! Collection parameters shared by every list: `sort`, `cursor`, `limit`.

use crate::error::{AppError, AppResult};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sigap_store::list::{Page, Val};

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 500;

/// What the client asked for, unparsed.
#[derive(Debug, Clone, Default)]
pub struct ListParams {
    pub sort: Option<String>,
    pub cursor: Option<String>,
    pub limit: Option<i64>,
}

/// A parsed request for one page.
#[derive(Debug, Clone)]
pub struct PageRequest<S> {
    pub sort: Vec<(S, bool)>,
    pub after: Option<Vec<Val>>,
    pub limit: i64,
    sort_text: String,
}

#[derive(Serialize, Deserialize)]
struct CursorBody {
    s: String,
    k: Vec<Val>,
}

/// A page as the API returns it.
#[derive(Debug)]
pub struct Listed<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<S: Copy> PageRequest<S> {
    /// Parses `sort` (`-name,created_at`) against the allowed fields, the cursor and the limit.
    pub fn parse(params: &ListParams, fields: &[(&str, S)], default: &str) -> AppResult<Self> {
        let sort_text = params
            .sort
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or(default)
            .to_owned();
        let mut sort = Vec::new();
        for part in sort_text.split(',') {
            let part = part.trim();
            let (desc, name) = match part.strip_prefix('-') {
                Some(n) => (true, n),
                None => (false, part.strip_prefix('+').unwrap_or(part)),
            };
            let Some((_, s)) = fields.iter().find(|(f, _)| *f == name) else {
                let allowed: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
                return Err(AppError::field(
                    "sort",
                    "invalid_sort",
                    format!("cannot sort by {name:?}; use {}", allowed.join(", ")),
                ));
            };
            sort.push((*s, desc));
        }
        if sort.len() > 4 {
            return Err(AppError::field(
                "sort",
                "invalid_sort",
                "at most 4 sort fields",
            ));
        }
        let limit = params.limit.unwrap_or(DEFAULT_LIMIT);
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(AppError::field(
                "limit",
                "out_of_range",
                format!("must be between 1 and {MAX_LIMIT}"),
            ));
        }
        let after = match params.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(c) => {
                let bad = || {
                    AppError::field("cursor", "invalid_cursor", "is not a cursor from this list")
                };
                let bytes = URL_SAFE_NO_PAD.decode(c).map_err(|_| bad())?;
                let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| bad())?;
                if body.s != sort_text || body.k.len() != sort.len() + 1 {
                    return Err(bad());
                }
                Some(body.k)
            }
        };
        Ok(Self {
            sort,
            after,
            limit,
            sort_text,
        })
    }

    /// Turns a store page into the API's page with an opaque cursor.
    pub fn finish<T, U>(&self, page: Page<T>, map: impl FnMut(T) -> U) -> Listed<U> {
        let next_cursor = page.next.map(|k| {
            let body = CursorBody {
                s: self.sort_text.clone(),
                k,
            };
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&body).unwrap_or_default())
        });
        Listed {
            items: page.items.into_iter().map(map).collect(),
            next_cursor,
        }
    }
}

/// Parses an optional boolean filter given as text.
pub fn parse_bool(field: &str, value: Option<&str>) -> AppResult<Option<bool>> {
    match value.map(str::trim) {
        None | Some("") => Ok(None),
        Some("true" | "1" | "yes") => Ok(Some(true)),
        Some("false" | "0" | "no") => Ok(Some(false)),
        Some(_) => Err(AppError::field(
            field,
            "invalid_boolean",
            "must be true or false",
        )),
    }
}

/// Parses an optional filter given as text (empty means none), naming `field` when refused.
pub fn parse_opt<T>(
    field: &str,
    text: Option<&str>,
    parse: impl Fn(&str) -> Result<T, sigap_domain::InvalidValue>,
) -> AppResult<Option<T>> {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => Ok(None),
        Some(t) => parse(t)
            .map(Some)
            .map_err(|e| AppError::Validation(vec![crate::FieldError::from_invalid(field, e)])),
    }
}
