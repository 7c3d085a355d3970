//! Saved views of a list: a person names the filters, sort and columns of a list and opens
//! them again with one click. Each list says which parameters a view may keep.

use crate::Core;
use crate::error::{AppError, AppResult, FieldError};
use crate::principal::Ctx;
use sigap_domain::{FilterId, parse_line};
use sigap_store::filters::{self as repo, SavedFilter};

/// The lists that keep saved views, with the query parameters a view of each may hold.
pub const LISTS: &[(&str, &[&str])] = &[
    (
        "incidents",
        &[
            "queue", "q", "state", "priority", "group", "assignee", "location", "major", "sort",
            "cols",
        ],
    ),
    (
        "problems",
        &[
            "queue",
            "q",
            "state",
            "priority",
            "group",
            "assignee",
            "location",
            "known_error",
            "sort",
            "cols",
        ],
    ),
    (
        "changes",
        &[
            "queue",
            "q",
            "state",
            "priority",
            "group",
            "assignee",
            "location",
            "change_type",
            "risk",
            "sort",
            "cols",
        ],
    ),
    (
        "change_tasks",
        &[
            "queue", "q", "state", "priority", "group", "assignee", "location", "sort", "cols",
        ],
    ),
    (
        "requested_items",
        &[
            "queue", "q", "state", "priority", "group", "assignee", "location", "sort", "cols",
        ],
    ),
    (
        "knowledge",
        &[
            "queue",
            "q",
            "state",
            "priority",
            "group",
            "assignee",
            "location",
            "knowledge_base",
            "language",
            "sort",
            "cols",
        ],
    ),
    (
        "catalog_tasks",
        &[
            "queue", "q", "state", "priority", "group", "assignee", "location", "sort", "cols",
        ],
    ),
];

/// How many views one person keeps per list.
pub const MAX_PER_LIST: i64 = 50;
const MAX_QUERY: usize = 2000;

fn allowed(list: &str) -> AppResult<&'static [&'static str]> {
    LISTS
        .iter()
        .find(|(l, _)| *l == list)
        .map(|(_, keys)| *keys)
        .ok_or_else(|| {
            AppError::field(
                "list",
                "invalid_choice",
                format!(
                    "must be one of: {}",
                    LISTS.iter().map(|l| l.0).collect::<Vec<_>>().join(", ")
                ),
            )
        })
}

/// Keeps the parameters a view of `list` may hold, in a canonical order, dropping empty
/// values and the paging cursor.
pub fn canonical_query(list: &str, query: &str) -> AppResult<String> {
    let keys = allowed(list)?;
    if query.len() > MAX_QUERY {
        return Err(AppError::field(
            "query",
            "too_long",
            format!("at most {MAX_QUERY} characters"),
        ));
    }
    let query = query.trim_start_matches('?');
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(k, v)| keys.contains(&k.as_str()) && !v.trim().is_empty())
        .collect();
    for (k, v) in &pairs {
        parse_line(v, 500).map_err(|e| {
            AppError::Validation(vec![FieldError::from_invalid(format!("query.{k}"), e)])
        })?;
    }
    pairs.sort_by_key(|(k, _)| keys.iter().position(|x| x == k));
    pairs.dedup_by(|a, b| a.0 == b.0);
    let mut out = form_urlencoded::Serializer::new(String::new());
    for (k, v) in &pairs {
        out.append_pair(k, v);
    }
    Ok(out.finish())
}

/// Your saved views of a list.
pub async fn mine(core: &Core, ctx: &Ctx, list: &str) -> AppResult<Vec<SavedFilter>> {
    allowed(list)?;
    let me = ctx.principal.person()?;
    let list = list.to_owned();
    Ok(core
        .store
        .read(async move |tx| repo::of_person(tx, me, &list).await)
        .await?)
}

/// Saves the current view of a list under a name (the same name replaces the earlier view).
pub async fn save(
    core: &Core,
    ctx: &Ctx,
    list: &str,
    name: &str,
    query: &str,
) -> AppResult<SavedFilter> {
    let me = ctx.principal.person()?;
    let query = canonical_query(list, query)?;
    let name = parse_line(name.trim(), 80)
        .map_err(|e| AppError::Validation(vec![FieldError::from_invalid("name", e)]))?;
    if name.is_empty() {
        return Err(AppError::field("name", "required", "is required"));
    }
    let (list, now) = (list.to_owned(), core.now());
    core.store
        .write(async move |tx| {
            let existing = repo::of_person(tx, me, &list).await?;
            if !existing.iter().any(|f| f.name == name)
                && repo::count(tx, me, &list).await? >= MAX_PER_LIST
            {
                return Err(AppError::field(
                    "name",
                    "too_many",
                    format!("at most {MAX_PER_LIST} saved views per list; delete one first"),
                ));
            }
            Ok(repo::save(tx, me, &list, &name, &query, now).await?)
        })
        .await
}

/// Deletes one of your saved views.
pub async fn delete(core: &Core, ctx: &Ctx, id: &str) -> AppResult<()> {
    let me = ctx.principal.person()?;
    let id = FilterId::parse(id.trim()).ok_or(AppError::NotFound)?;
    let gone = core
        .store
        .write(async move |tx| Ok::<_, AppError>(repo::delete(tx, me, id).await?))
        .await?;
    if gone {
        Ok(())
    } else {
        Err(AppError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_view_keeps_only_its_lists_parameters_in_order() -> AppResult<()> {
        let q = canonical_query(
            "incidents",
            "?cursor=abc&sort=-priority&queue=mine&x=1&q=&cols=number,state",
        )?;
        assert_eq!(q, "queue=mine&sort=-priority&cols=number%2Cstate");
        Ok(())
    }

    #[test]
    fn unknown_lists_and_hostile_values_are_refused() {
        assert!(canonical_query("nope", "queue=mine").is_err());
        assert!(canonical_query("incidents", "q=a%00b").is_err());
        assert!(canonical_query("incidents", &"q=a".repeat(1000)).is_err());
    }
}
