//! Dashboards on pages: the list, a dashboard's grid of tiles (reports drawn small, and the
//! panels: clocks breaching soon, major incidents, SLA compliance), its form, adding a report
//! to one, and the tiles of the home page.

use super::changes::FieldErrors;
use super::reports::{BehindView, behind_views};
use super::task::choices;
use super::views::{notice, when};
use super::*;
use crate::report_words::report_words;
use axum::extract::{Path, Query};
use serde_json::{Value, json};
use sigap_core::reports::chart;
use sigap_core::reports::dashboards::{self, Dashboard, builtin_key};
use sigap_core::reports::saved;
use sigap_core::reports::table;
use sigap_domain::Role;
use sigap_domain::report::{Audience, Display, Panel, Tile, TileKind};
use std::collections::HashMap;

const SECTION: &str = "reports";

/// A name as the reader reads it: a built-in one's in their language.
pub(crate) fn shown_name(t: crate::i18n::Tr<'_>, id: &str, name: &str) -> String {
    match builtin_key(id) {
        Some(key) => t.get(&format!("builtin-{key}")),
        None => name.to_owned(),
    }
}

/// A line of a panel: what it says, where it leads, and a note beside it.
pub struct PanelLine {
    pub text: String,
    pub href: String,
    pub note: String,
}

/// A tile as a page shows it.
pub struct TileView {
    pub title: String,
    pub href: String,
    pub wide: bool,
    /// A chart's SVG.
    pub chart: String,
    /// A table's head and first lines.
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// A list's tasks.
    pub tasks: Vec<BehindView>,
    /// A panel's lines.
    pub lines: Vec<PanelLine>,
    pub empty: bool,
}

/// The most lines or tasks a tile shows.
const TILE_LINES: usize = 10;

async fn report_tile(v: &Visit, t: crate::i18n::Tr<'_>, id: &str, wide: bool) -> Option<TileView> {
    let d = match saved::data(&v.state.core, &v.ctx, id).await {
        Ok(d) => d,
        // A report the reader may not open (or that is gone) is left out.
        Err(e) => {
            if !matches!(e, AppError::NotFound | AppError::Forbidden) {
                tracing::warn!(report = id, error = %e, "a dashboard's report did not run");
            }
            return None;
        }
    };
    let words = report_words(t);
    let title = shown_name(t, id, &d.report.name);
    let table = table::table(&title, &d, &words);
    let rid = d.report.id.to_string();
    let figure = super::reports::figure_of(
        t,
        &d,
        &table,
        if wide {
            chart::PAGE_WIDTH
        } else {
            chart::TILE_WIDTH
        },
    );
    let display = d.report.definition.display;
    let (headers, rows) = match (display, &figure) {
        (Display::List, _) | (_, Some(_)) => (Vec::new(), Vec::new()),
        _ => (
            table.headers.clone(),
            table
                .rows
                .iter()
                .take(TILE_LINES)
                .map(|r| {
                    let mut cells = r.keys.clone();
                    cells.push(r.count.to_string());
                    if table.measured {
                        cells.push(r.value.map(chart::number).unwrap_or_else(|| "—".into()));
                    }
                    cells
                })
                .collect(),
        ),
    };
    let tasks = match display {
        Display::List => behind_views(
            t,
            d.report.definition.source,
            d.tasks.iter().take(TILE_LINES).cloned().collect(),
            &v.viewer,
        ),
        _ => Vec::new(),
    };
    let empty = match display {
        Display::List => tasks.is_empty(),
        Display::Score => false,
        _ => table.rows.is_empty(),
    };
    Some(TileView {
        title,
        href: format!("/reports/{rid}"),
        wide,
        chart: figure.map(|f| f.svg()).unwrap_or_default(),
        headers,
        rows,
        tasks,
        lines: Vec::new(),
        empty,
    })
}

async fn panel_tile(v: &Visit, t: crate::i18n::Tr<'_>, p: Panel, wide: bool) -> Option<TileView> {
    let core = &v.state.core;
    let lines: Result<(String, Vec<PanelLine>), AppError> = match p {
        Panel::BreachingSoon => sigap_core::sla::breaching_soon(
            core,
            &v.ctx,
            jiff::SignedDuration::from_hours(4),
            TILE_LINES as i64,
        )
        .await
        .map(|list| {
            (
                "/incidents?queue=breaching".to_owned(),
                list.into_iter()
                    .map(|(clock, i)| PanelLine {
                        text: format!("{} · {}", i.number, i.short_description),
                        href: format!("/incidents/{}", i.number),
                        note: clock
                            .clock
                            .due_at
                            .map(|d| when(d, &v.viewer))
                            .unwrap_or_default(),
                    })
                    .collect(),
            )
        }),
        Panel::MajorIncidents => sigap_core::incidents::list(
            core,
            &v.ctx,
            sigap_core::incidents::IncidentQuery {
                task: sigap_core::task::TaskQuery {
                    queue: Some("major".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
            &sigap_core::listing::ListParams {
                limit: Some(TILE_LINES as i64),
                ..Default::default()
            },
        )
        .await
        .map(|page| {
            (
                "/incidents?queue=major".to_owned(),
                page.items
                    .into_iter()
                    .map(|i| PanelLine {
                        text: format!("{} · {}", i.number, i.short_description),
                        href: format!("/incidents/{}", i.number),
                        note: t.get(&format!("priority-{}", i.priority.get())),
                    })
                    .collect(),
            )
        }),
        Panel::Announcements => {
            sigap_core::announcements::current(core, &v.ctx)
                .await
                .map(|list| {
                    (
                        "/announcements".to_owned(),
                        list.into_iter()
                            .take(TILE_LINES)
                            .map(|a| PanelLine {
                                text: a.title,
                                href: format!("/announcements/{}", a.id),
                                note: t
                                    .get(&format!("announcement-severity-{}", a.severity.code())),
                            })
                            .collect(),
                    )
                })
        }
        Panel::SlaCompliance => {
            let now = core.now();
            let from = now
                .checked_sub(jiff::SignedDuration::from_hours(24 * 30))
                .unwrap_or(now);
            sigap_core::sla::compliance(core, &v.ctx, "agreement", from, now, None)
                .await
                .map(|lines| {
                    (
                        "/sla/report".to_owned(),
                        lines
                            .into_iter()
                            .take(TILE_LINES)
                            .map(|l| {
                                let met = l.total - l.breached;
                                let share = if l.total > 0 {
                                    format!("{:.1}%", met as f64 * 100.0 / l.total as f64)
                                } else {
                                    "—".into()
                                };
                                PanelLine {
                                    text: l.key.clone(),
                                    href: "/sla/report".into(),
                                    note: format!("{share} ({met}/{})", l.total),
                                }
                            })
                            .collect(),
                    )
                })
        }
    };
    let (href, lines) = match lines {
        Ok(l) => l,
        Err(AppError::Forbidden) => return None,
        Err(e) => {
            tracing::warn!(panel = p.code(), error = %e, "a dashboard's panel did not run");
            return None;
        }
    };
    Some(TileView {
        title: t.get(&format!("panel-{}", p.code())),
        href,
        wide,
        chart: String::new(),
        headers: Vec::new(),
        rows: Vec::new(),
        tasks: Vec::new(),
        empty: lines.is_empty(),
        lines,
    })
}

/// The tiles of a dashboard as its reader sees them (those they may not see left out).
/// The tiles are read side by side (each in its own read transaction), kept in their order.
pub(crate) async fn tile_views(v: &Visit, t: crate::i18n::Tr<'_>, d: &Dashboard) -> Vec<TileView> {
    let views = d.tiles.iter().map(|tile| async move {
        match tile.kind {
            TileKind::Report(id) => report_tile(v, t, &id.to_string(), tile.wide).await,
            TileKind::Panel(p) => panel_tile(v, t, p, tile.wide).await,
        }
    });
    futures_util::future::join_all(views)
        .await
        .into_iter()
        .flatten()
        .collect()
}

/// A dashboard in the list.
pub struct DashboardLine {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub audience: String,
    pub tiles: usize,
}

#[derive(Template)]
#[template(path = "dashboards.html")]
pub struct DashboardsPage<'a> {
    pub chrome: Chrome<'a>,
    pub dashboards: Vec<DashboardLine>,
    pub can_build: bool,
}

pub async fn dashboards_page(v: Visit, Query(q): Query<HashMap<String, String>>) -> PageResult {
    let list = dashboards::list(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome(SECTION, "dashboards-title");
    notice(&mut chrome, &q);
    let t = chrome.t;
    let page = DashboardsPage {
        dashboards: list
            .into_iter()
            .map(|d| DashboardLine {
                id: d.id.to_string(),
                name: shown_name(t, &d.id.to_string(), &d.name),
                owner: d.owner.map_or_else(|| t.get("report-builtin"), |o| o.1),
                audience: t.get(&format!("report-audience-{}", d.audience.code())),
                tiles: d.tiles.len(),
            })
            .collect(),
        can_build: v.ctx.principal.has(Role::Agent),
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub struct DashboardPage<'a> {
    pub chrome: Chrome<'a>,
    pub id: String,
    pub description: String,
    pub tiles: Vec<TileView>,
    pub editable: bool,
    pub deletable: bool,
    /// Whether it is the reader's home page.
    pub is_home: bool,
}

pub async fn dashboard_page(
    v: Visit,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let d = dashboards::get(&v.state.core, &v.ctx, &id).await?;
    let mut chrome = v.chrome(SECTION, "dashboards-title");
    notice(&mut chrome, &q);
    let t = chrome.t;
    chrome.title = shown_name(t, &d.id.to_string(), &d.name);
    let tiles = tile_views(&v, t, &d).await;
    let is_home = dashboards::home(&v.state.core, &v.ctx)
        .await?
        .is_some_and(|h| h.id == d.id);
    let page = DashboardPage {
        is_home,
        id: d.id.to_string(),
        description: d.description.clone(),
        tiles,
        editable: d.editable,
        deletable: d.editable && d.home_role.is_none(),
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

/// A tile in the form: what it is, in words, and its place.
pub struct TileLine {
    pub value: String,
    pub name: String,
    pub wide: bool,
}

#[derive(Template)]
#[template(path = "dashboard_form.html")]
pub struct DashboardFormPage<'a> {
    pub chrome: Chrome<'a>,
    pub id: String,
    pub name: String,
    pub description: String,
    pub audience: String,
    pub groups: Vec<String>,
    pub roles: Vec<String>,
    pub version: String,
    pub tiles: Vec<TileLine>,
    pub reports: Vec<(String, String)>,
    pub panels: Vec<(String, String)>,
    pub audiences: Vec<(String, String)>,
    pub my_groups: Vec<(String, String)>,
    pub role_choices: Vec<(String, String)>,
    pub errs: FieldErrors,
}

/// A tile as the form names it: `report:<id>` or `panel:<code>`.
fn tile_value(t: &Tile) -> String {
    match t.kind {
        TileKind::Report(id) => format!("report:{id}"),
        TileKind::Panel(p) => format!("panel:{}", p.code()),
    }
}

fn tile_of(value: &str, wide: bool) -> Option<Value> {
    match value.split_once(':') {
        Some(("report", id)) => Some(json!({"report": id, "wide": wide})),
        Some(("panel", p)) => Some(json!({"panel": p, "wide": wide})),
        _ => None,
    }
}

struct Sent {
    name: String,
    description: String,
    audience: String,
    groups: Vec<String>,
    roles: Vec<String>,
    version: String,
    tiles: Vec<(String, bool)>,
}

/// The form as sent: the tiles kept, in the order of their places, then the ones added.
fn sent_of(form: &FormData) -> Sent {
    let mut kept: Vec<(i64, String, bool)> = Vec::new();
    for (i, value) in form.all("tile").into_iter().enumerate() {
        if form.get(&format!("remove_{i}")).is_some() {
            continue;
        }
        let place = form
            .get(&format!("place_{i}"))
            .and_then(|p| p.trim().parse::<i64>().ok())
            .unwrap_or(i as i64 + 1);
        let wide = form.get(&format!("wide_{i}")).is_some();
        kept.push((place, value, wide));
    }
    kept.sort_by_key(|k| k.0);
    let mut tiles: Vec<(String, bool)> = kept.into_iter().map(|k| (k.1, k.2)).collect();
    for key in ["add_report", "add_panel"] {
        if let Some(v) = form.get(key).filter(|v| !v.trim().is_empty()) {
            tiles.push((v, form.get("add_wide").is_some()));
        }
    }
    Sent {
        name: form.text("name"),
        description: form.text("description"),
        audience: form.text("audience"),
        groups: form.all("groups"),
        roles: form.all("roles"),
        version: form.text("version"),
        tiles,
    }
}

fn body_of(s: &Sent) -> Value {
    let tiles: Vec<Value> = s
        .tiles
        .iter()
        .map(|(v, wide)| tile_of(v, *wide).unwrap_or_else(|| json!({"report": v})))
        .collect();
    json!({
        "name": s.name,
        "description": s.description,
        "audience": if s.audience.trim().is_empty() { "private" } else { s.audience.trim() },
        "groups": s.groups,
        "roles": s.roles,
        "tiles": tiles,
    })
}

async fn show_form(v: &Visit, id: &str, s: Sent, refused: Option<AppError>) -> PageResult {
    let reports = saved::list(&v.state.core, &v.ctx).await?;
    let mine = saved::my_groups(&v.state.core, &v.ctx).await?;
    let mut chrome = v.chrome(
        SECTION,
        if id.is_empty() {
            "dashboard-new-title"
        } else {
            "dashboard-edit-title"
        },
    );
    let known = [
        "name",
        "description",
        "audience",
        "groups",
        "roles",
        "tiles",
    ];
    let (status, errs) = FieldErrors::split(&mut chrome, refused, &known);
    let t = chrome.t;
    let name_of = |value: &str| -> String {
        match value.split_once(':') {
            Some(("panel", p)) => t.get(&format!("panel-{p}")),
            Some(("report", rid)) => reports
                .iter()
                .find(|r| r.id.to_string() == rid)
                .map_or_else(|| rid.to_owned(), |r| shown_name(t, rid, &r.name)),
            _ => value.to_owned(),
        }
    };
    let page = DashboardFormPage {
        id: id.to_owned(),
        tiles: s
            .tiles
            .iter()
            .map(|(value, wide)| TileLine {
                name: name_of(value),
                value: value.clone(),
                wide: *wide,
            })
            .collect(),
        reports: reports
            .iter()
            .map(|r| {
                (
                    format!("report:{}", r.id),
                    shown_name(t, &r.id.to_string(), &r.name),
                )
            })
            .collect(),
        panels: Panel::ALL
            .iter()
            .map(|p| {
                (
                    format!("panel:{}", p.code()),
                    t.get(&format!("panel-{}", p.code())),
                )
            })
            .collect(),
        audiences: choices(t, "report-audience", Audience::ALL.iter().map(|a| a.code())),
        my_groups: mine
            .into_iter()
            .map(|(id, name)| (id.to_string(), name))
            .collect(),
        role_choices: choices(t, "role", Role::ALL.iter().map(|r| r.code())),
        name: s.name,
        description: s.description,
        audience: s.audience,
        groups: s.groups,
        roles: s.roles,
        version: s.version,
        errs,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn dashboard_new(v: Visit) -> PageResult {
    let s = Sent {
        name: String::new(),
        description: String::new(),
        audience: "private".into(),
        groups: Vec::new(),
        roles: Vec::new(),
        version: String::new(),
        tiles: Vec::new(),
    };
    show_form(&v, "", s, None).await
}

pub async fn dashboard_edit(v: Visit, Path(id): Path<String>) -> PageResult {
    let d = dashboards::get(&v.state.core, &v.ctx, &id).await?;
    let s = Sent {
        name: d.name.clone(),
        description: d.description.clone(),
        audience: d.audience.code().to_owned(),
        groups: d.groups.iter().map(|g| g.0.to_string()).collect(),
        roles: d.roles.iter().map(|r| r.code().to_owned()).collect(),
        version: d.version.to_string(),
        tiles: d.tiles.iter().map(|t| (tile_value(t), t.wide)).collect(),
    };
    show_form(&v, &id, s, None).await
}

pub async fn dashboard_create(v: Visit, form: FormData) -> PageResult {
    let s = sent_of(&form);
    match dashboards::create(&v.state.core, &v.ctx, &body_of(&s)).await {
        Ok(d) => Ok(see_other(&format!("/dashboards/{}", d.id), Some("saved"))),
        Err(e) => show_form(&v, "", s, Some(e)).await,
    }
}

pub async fn dashboard_update(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let s = sent_of(&form);
    match dashboards::update(&v.state.core, &v.ctx, &id, &body_of(&s), form.version()).await {
        Ok(d) => Ok(see_other(&format!("/dashboards/{}", d.id), Some("saved"))),
        Err(e) => show_form(&v, &id, s, Some(e)).await,
    }
}

pub async fn dashboard_delete(v: Visit, Path(id): Path<String>) -> PageResult {
    dashboards::delete(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other("/dashboards", Some("deleted")))
}

/// Makes a dashboard the reader's home page (`role` in the form: their role's again).
pub async fn dashboard_home(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let chosen = form.get("role").is_none().then_some(id.as_str());
    dashboards::choose_home(&v.state.core, &v.ctx, chosen).await?;
    Ok(see_other("/", Some("saved")))
}

/// Adds a report to a dashboard of the reader's, or to a new one named in the form.
pub async fn report_to_dashboard(v: Visit, Path(id): Path<String>, form: FormData) -> PageResult {
    let wide = form.get("wide").is_some();
    let target = form.text("dashboard");
    let d = if target.trim().is_empty() {
        let name = form.text("new_name");
        dashboards::create(
            &v.state.core,
            &v.ctx,
            &json!({"name": name, "tiles": [{"report": id, "wide": wide}]}),
        )
        .await?
    } else {
        dashboards::add_report(&v.state.core, &v.ctx, &target, &id, wide).await?
    };
    Ok(see_other(&format!("/dashboards/{}", d.id), Some("saved")))
}
