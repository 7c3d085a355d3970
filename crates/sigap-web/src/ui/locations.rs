//! Administration of locations: the list with a search, a form to add one, and a page to
//! change one with its history.

use super::views::{HistoryRow, NOTICES, history_rows, notice};
use super::*;
use crate::AppState;
use axum::extract::{Path, Query, State};
use sigap_core::listing::ListParams;
use sigap_core::locations;
use std::collections::HashMap;

pub struct LocationRow {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    pub organization: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "locations.html")]
pub struct LocationsPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<LocationRow>,
    pub next_link: Option<String>,
    pub q: String,
    /// `""` (all), `true` or `false`.
    pub active: String,
    pub draft: Draft,
}

async fn locations_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    errors: Vec<String>,
    draft: Draft,
    status: StatusCode,
) -> Response {
    if let Err(e) = ctx.principal.require(Role::Admin) {
        return error_response(state, viewer, e);
    }
    let qtext = q.get("q").cloned().unwrap_or_default();
    let active = q
        .get("active")
        .filter(|a| ["true", "false"].contains(&a.as_str()))
        .cloned()
        .unwrap_or_default();
    let query = locations::LocationQuery {
        q: Some(qtext.clone()),
        active: Some(active.clone()),
        ..Default::default()
    };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: None,
        limit: Some(50),
    };
    let page = match locations::list(&state.core, ctx, query, &params).await {
        Ok(p) => p,
        Err(e) => return error_response(state, viewer, e),
    };
    let mut chrome = Chrome::new(state, viewer, "locations", "locations-title");
    notice(&mut chrome, q);
    chrome.errors = errors;
    let next_link = page.next_cursor.map(|c| {
        format!(
            "/admin/locations?q={}&active={}&cursor={}",
            encode(&qtext),
            encode(&active),
            encode(&c)
        )
    });
    let rows = page
        .items
        .into_iter()
        .map(|l| LocationRow {
            id: l.id.to_string(),
            name: l.name,
            time_zone: l.time_zone.unwrap_or_default(),
            organization: l.organization.map(|o| o.name).unwrap_or_default(),
            active: l.active,
        })
        .collect();
    render(
        status,
        &LocationsPage {
            rows,
            next_link,
            q: qtext,
            active,
            draft,
            chrome,
        },
    )
}

pub async fn locations_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    locations_view(
        &state,
        &ctx,
        &viewer,
        &q,
        Vec::new(),
        Draft::default(),
        StatusCode::OK,
    )
    .await
}

/// The fields of a location form: empty time zone or organization clears it; the active
/// box counts only on the edit form.
fn location_input(form: &FormData, creating: bool) -> locations::LocationInput {
    locations::LocationInput {
        name: form.get("name"),
        time_zone: form
            .get("time_zone")
            .map(|z| Some(z).filter(|z| !z.trim().is_empty())),
        organization: form
            .get("organization")
            .map(|o| Some(o).filter(|o| !o.trim().is_empty())),
        active: if creating {
            None
        } else {
            Some(form.get("active").is_some())
        },
    }
}

pub async fn location_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> Response {
    match locations::create(&state.core, &ctx, location_input(&form, true)).await {
        Ok(l) => see_other(&format!("/admin/locations/{}", l.id), Some("created")),
        Err(e) => {
            let errors = messages(tr(&state, &viewer), &e);
            locations_view(
                &state,
                &ctx,
                &viewer,
                &HashMap::new(),
                errors,
                Draft::from_form(&form),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}

pub struct LocationView {
    pub id: String,
    pub name: String,
    pub time_zone: String,
    pub organization: String,
    pub active: bool,
    pub version: i64,
}

#[derive(Template)]
#[template(path = "location.html")]
pub struct LocationPage<'a> {
    pub chrome: Chrome<'a>,
    pub l: LocationView,
    pub history: Vec<HistoryRow>,
}

async fn location_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    id: &str,
    notice_code: Option<String>,
    errors: Vec<String>,
    status: StatusCode,
) -> Response {
    if let Err(e) = ctx.principal.require(Role::Admin) {
        return error_response(state, viewer, e);
    }
    let l = match locations::get(&state.core, ctx, id).await {
        Ok(l) => l,
        Err(e) => return error_response(state, viewer, e),
    };
    let history =
        match sigap_core::audit::history(&state.core, ctx, "location", &l.id.to_string()).await {
            Ok(h) => h,
            Err(e) => return error_response(state, viewer, e),
        };
    let mut chrome = Chrome::new(state, viewer, "locations", "location-title");
    chrome.title = l.name.clone();
    chrome.notice = notice_code
        .filter(|n| NOTICES.contains(&n.as_str()))
        .map(|n| chrome.t.get(&n));
    chrome.errors = errors;
    let page = LocationPage {
        history: history_rows(chrome.t, viewer, history),
        l: LocationView {
            id: l.id.to_string(),
            name: l.name,
            time_zone: l.time_zone.unwrap_or_default(),
            organization: l.organization.map(|o| o.name).unwrap_or_default(),
            active: l.active,
            version: l.version,
        },
        chrome,
    };
    render(status, &page)
}

pub async fn location_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    location_view(
        &state,
        &ctx,
        &viewer,
        &id,
        q.get("notice").cloned(),
        Vec::new(),
        StatusCode::OK,
    )
    .await
}

pub async fn location_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> Response {
    match locations::update(
        &state.core,
        &ctx,
        &id,
        location_input(&form, false),
        form.version(),
    )
    .await
    {
        Ok(l) => see_other(&format!("/admin/locations/{}", l.id), Some("saved")),
        Err(e) => {
            let errors = messages(tr(&state, &viewer), &e);
            location_view(
                &state,
                &ctx,
                &viewer,
                &id,
                None,
                errors,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
    }
}
