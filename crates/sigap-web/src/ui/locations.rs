//! Administration of locations: the list with a search, a form to add one, and a page to
//! change one with its history.

use super::views::{HistoryRow, NOTICES, history_rows, notice, refusal};
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
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    ctx.principal.require(Role::Admin)?;
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
    let page = locations::list(&state.core, ctx, query, &params).await?;
    let mut chrome = Chrome::new(state, viewer, "locations", "locations-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
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
    Ok(render(
        status,
        &LocationsPage {
            rows,
            next_link,
            q: qtext,
            active,
            draft,
            chrome,
        },
    ))
}

pub async fn locations_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    locations_view(&state, &ctx, &viewer, &q, Draft::default(), None).await
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
) -> PageResult {
    match locations::create(&state.core, &ctx, location_input(&form, true)).await {
        Ok(l) => Ok(see_other(
            &format!("/admin/locations/{}", l.id),
            Some("created"),
        )),
        Err(e) => {
            let draft = Draft::from_form(&form);
            locations_view(&state, &ctx, &viewer, &HashMap::new(), draft, Some(e)).await
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
    refused: Option<AppError>,
) -> PageResult {
    ctx.principal.require(Role::Admin)?;
    let l = locations::get(&state.core, ctx, id).await?;
    let history =
        sigap_core::audit::history(&state.core, ctx, "location", &l.id.to_string()).await?;
    let mut chrome = Chrome::new(state, viewer, "locations", "location-title");
    chrome.title = l.name.clone();
    chrome.notice = notice_code
        .filter(|n| NOTICES.contains(&n.as_str()))
        .map(|n| chrome.t.get(&n));
    let status = refusal(&mut chrome, refused);
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
    Ok(render(status, &page))
}

pub async fn location_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    location_view(&state, &ctx, &viewer, &id, q.get("notice").cloned(), None).await
}

pub async fn location_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    match locations::update(
        &state.core,
        &ctx,
        &id,
        location_input(&form, false),
        form.version(),
    )
    .await
    {
        Ok(l) => Ok(see_other(
            &format!("/admin/locations/{}", l.id),
            Some("saved"),
        )),
        Err(e) => location_view(&state, &ctx, &viewer, &id, None, Some(e)).await,
    }
}
