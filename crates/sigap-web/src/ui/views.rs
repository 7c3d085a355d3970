//! Page handlers and their templates.

use super::*;
use crate::AppState;
use axum::extract::{ConnectInfo, Path, Query, State};
use jiff::Timestamp;
use sigap_core::listing::ListParams;
use sigap_core::model::AuditRow;
use sigap_core::{auth, groups, home as home_uc, orgs, people, tokens};
use sigap_domain::{GroupType, OrgKind, TokenScope};
use std::collections::HashMap;
use std::net::SocketAddr;

pub(crate) const NOTICES: &[&str] = &[
    "saved",
    "moved",
    "updated",
    "linked",
    "unlinked",
    "created",
    "deleted",
    "member-added",
    "member-removed",
    "password-set",
    "profile-saved",
    "profile-password-changed",
    "profile-token-revoked",
    "signed-out",
    "added",
    "ordered",
    "approved",
    "rejected",
    "kb-thanks",
    "kb-addressed",
    "kb-known-error-published",
    "mail-retried",
    "alert-acknowledged",
    "alert-incident-opened",
    "alert-closed",
    "alert-window-added",
    "alert-window-ended",
    "alert-window-removed",
    "mail-discarded",
    "mail-template-reset",
    "mail-preferences-saved",
];

pub(crate) fn notice(chrome: &mut Chrome<'_>, q: &HashMap<String, String>) {
    if let Some(n) = q.get("notice").filter(|n| NOTICES.contains(&n.as_str())) {
        chrome.notice = Some(chrome.t.get(n));
    }
}

/// A page's status, with a refused form's reasons on it: a form shown again after its
/// submission was refused is `422` with the reasons, a page shown fresh is `200`.
pub(crate) fn refusal(chrome: &mut Chrome<'_>, refused: Option<AppError>) -> StatusCode {
    match refused {
        Some(e) => {
            chrome.errors = messages(chrome.t, &e);
            StatusCode::UNPROCESSABLE_ENTITY
        }
        None => StatusCode::OK,
    }
}

/// A code's label, `{prefix}-{code}` in the locale files (underscores as hyphens); an
/// unknown code as it is.
pub(crate) fn coded(t: Tr<'_>, prefix: &str, code: &str) -> String {
    let id = format!("{prefix}-{}", code.replace('_', "-"));
    let text = t.get(&id);
    if text == id { code.to_owned() } else { text }
}

/// A time in the viewer's time zone.
pub fn when(t: Timestamp, viewer: &Viewer) -> String {
    let tz = viewer
        .principal
        .as_ref()
        .map_or("UTC", |p| p.time_zone.as_str());
    match jiff::tz::TimeZone::get(tz) {
        Ok(zone) => t
            .to_zoned_datetime(zone)
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string(),
        Err(_) => t.strftime("%Y-%m-%d %H:%M UTC").to_string(),
    }
}

/// A period of whole days a page asks for, in the viewer's time zone: `from` and `to` (`to`
/// included), the last 30 days when not given. The texts are shown again as given.
pub struct Period {
    pub from: String,
    pub to: String,
    /// Its start and the end (the midnight after `to`), or why it is no period.
    pub bounds: Result<(Timestamp, Timestamp), AppError>,
}

impl Period {
    pub fn of(viewer: &Viewer, q: &HashMap<String, String>) -> Period {
        let tz = viewer
            .principal
            .as_ref()
            .and_then(|p| jiff::tz::TimeZone::get(&p.time_zone).ok())
            .unwrap_or(jiff::tz::TimeZone::UTC);
        let today = Timestamp::now().to_zoned_datetime(tz.clone()).date();
        let day = |k: &str, default: jiff::civil::Date| match q.get(k).map(|v| v.trim()) {
            None | Some("") => Ok(default),
            Some(v) => v
                .parse::<jiff::civil::Date>()
                .map_err(|_| AppError::field(k, "invalid", "must be a date (YYYY-MM-DD)")),
        };
        let from = day("from", today.saturating_sub(jiff::Span::new().days(30)));
        let to = day("to", today);
        let text = |d: &Result<jiff::civil::Date, AppError>, k: &str| match d {
            Ok(d) => d.to_string(),
            Err(_) => q.get(k).cloned().unwrap_or_default(),
        };
        let (from_text, to_text) = (text(&from, "from"), text(&to, "to"));
        let at = |d: jiff::civil::Date| {
            d.to_zoned_datetime(tz.clone())
                .map(|z| z.timestamp())
                .map_err(|e| AppError::Internal(e.to_string()))
        };
        let next = |d: jiff::civil::Date| d.saturating_add(jiff::Span::new().days(1));
        Period {
            from: from_text,
            to: to_text,
            bounds: from.and_then(|f| Ok((at(f)?, at(next(to?))?))),
        }
    }
}

fn role_options(t: Tr<'_>, held: &[Role]) -> Vec<(String, String, bool)> {
    Role::ALL
        .iter()
        .map(|r| {
            (
                r.code().to_owned(),
                t.get(&format!("role-{}", r.code())),
                held.contains(r),
            )
        })
        .collect()
}

fn locale_options(t: Tr<'_>) -> Vec<(String, String)> {
    super::task::choices(t, "lang", Locale::ALL.iter().map(|l| l.code()))
}

fn kind_options(t: Tr<'_>) -> Vec<(String, String)> {
    super::task::choices(t, "kind", OrgKind::ALL.iter().map(|k| k.code()))
}

fn type_options(t: Tr<'_>) -> Vec<(String, String)> {
    GroupType::ALL
        .iter()
        .map(|k| {
            (
                k.code().to_owned(),
                t.get(&format!("group-type-{}", k.code())),
            )
        })
        .collect()
}

pub struct HistoryRow {
    pub when: String,
    pub who: String,
    pub action: String,
    pub changes: Vec<(String, String, String)>,
}

fn show(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "—".into(),
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn history_rows(t: Tr<'_>, viewer: &Viewer, rows: Vec<AuditRow>) -> Vec<HistoryRow> {
    rows.into_iter()
        .rev()
        .map(|r| HistoryRow {
            when: when(r.at, viewer),
            who: r.actor,
            action: t.get(&format!("history-{}", r.action)),
            changes: r
                .changes
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), show(&v[0]), show(&v[1])))
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect()
}

/// The client's address, for counting failed sign-ins.
pub struct ClientAddr(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_owned(), |ConnectInfo(a)| a.ip().to_string()),
        ))
    }
}

/// Only same-site paths are followed after sign-in or a language switch, and only ones that
/// can stand in a `Location` header as they are (visible ASCII).
fn local_path(next: Option<String>) -> String {
    match next {
        Some(p)
            if p.starts_with('/')
                && !p.starts_with("//")
                && !p.starts_with("/\\")
                && p.len() < 2000
                && p.bytes().all(|b| (0x21..=0x7e).contains(&b)) =>
        {
            p
        }
        _ => "/".to_owned(),
    }
}

// ----- home -----

pub struct GroupLine {
    pub name: String,
    pub kind: String,
    pub members: String,
}

pub struct AdminFigures {
    pub people: i64,
    pub admins: i64,
    pub queued: i64,
    pub running: i64,
    pub failed: i64,
    pub audit: i64,
    pub no_manager: Vec<(String, String)>,
    pub no_members: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "home.html")]
pub struct HomePage<'a> {
    pub chrome: Chrome<'a>,
    pub welcome: String,
    pub organization: Option<String>,
    pub is_agent: bool,
    pub my_groups: Vec<GroupLine>,
    pub managed: Vec<GroupLine>,
    pub expiring: Vec<(String, String)>,
    pub admin: Option<AdminFigures>,
    /// Unread notifications: id, text, link.
    pub notes: Vec<(String, String, String)>,
    /// The home dashboard of the reader's role: its id and name, and its tiles.
    pub dashboard: Option<(String, String)>,
    pub tiles: Vec<super::dashboards::TileView>,
}

pub async fn home(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let h = home_uc::home(&state.core, &ctx).await?;
    let notes = match sigap_core::notifications::mine(&state.core, &ctx).await {
        Err(AppError::Forbidden) => Vec::new(),
        notes => notes?,
    };
    let home_board = sigap_core::reports::dashboards::home(&state.core, &ctx).await?;
    let visit = Visit {
        state: state.clone(),
        ctx: ctx.clone(),
        viewer: viewer.clone(),
    };
    let mut chrome = Chrome::new(&state, &viewer, "home", "home-title");
    notice(&mut chrome, &q);
    let t = chrome.t;
    let (dashboard, tiles) = match &home_board {
        Some(d) => (
            Some((
                d.id.to_string(),
                super::dashboards::shown_name(t, &d.id.to_string(), &d.name),
            )),
            super::dashboards::tile_views(&visit, t, d).await,
        ),
        None => (None, Vec::new()),
    };
    let notes = notes
        .into_iter()
        .filter(|n| n.read_at.is_none())
        .map(|n| {
            let mut args = fluent_bundle::FluentArgs::new();
            args.set("subject", n.subject.clone());
            args.set("body", n.body.clone());
            let text = t
                .i18n
                .text(t.locale, &format!("notification-{}", n.kind), Some(&args));
            (n.id.to_string(), text, n.link)
        })
        .collect();
    let line = |g: &sigap_core::model::Group| GroupLine {
        name: g.name.clone(),
        kind: t.get(&format!("group-type-{}", g.group_type.code())),
        members: t.num("home-members", "count", g.member_count),
    };
    let page = HomePage {
        dashboard,
        tiles,
        welcome: t.arg("home-welcome", "name", &ctx.principal.name),
        organization: ctx.principal.organization.as_ref().map(|o| o.name.clone()),
        is_agent: ctx.principal.has(Role::Agent),
        my_groups: h.my_groups.iter().map(line).collect(),
        managed: h.managed.iter().map(line).collect(),
        expiring: h
            .expiring_tokens
            .iter()
            .map(|tk| {
                (
                    tk.name.clone(),
                    tk.expires_at.map(|e| when(e, &viewer)).unwrap_or_default(),
                )
            })
            .collect(),
        admin: h.admin.map(|a| AdminFigures {
            people: a.people,
            admins: a.active_admins,
            queued: a.jobs.queued,
            running: a.jobs.running,
            failed: a.jobs.failed,
            audit: a.audit_head,
            no_manager: a
                .groups_without_manager
                .iter()
                .map(|g| (g.id.to_string(), g.name.clone()))
                .collect(),
            no_members: a
                .groups_without_members
                .iter()
                .map(|g| (g.id.to_string(), g.name.clone()))
                .collect(),
        }),
        notes,
        chrome,
    };
    Ok(render(StatusCode::OK, &page))
}

/// Marks one of your notifications read, back to the home page.
pub async fn notification_read(
    State(state): State<AppState>,
    SignedIn(ctx, _): SignedIn,
    Path(id): Path<String>,
) -> PageResult {
    sigap_core::notifications::mark_read(&state.core, &ctx, &id).await?;
    Ok(see_other("/", None))
}

// ----- sign in and out, language -----

#[derive(Template)]
#[template(path = "login.html")]
pub struct LoginPage<'a> {
    pub chrome: Chrome<'a>,
    pub next: String,
    pub login: String,
}

pub async fn login_page(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    if viewer.principal.is_some() {
        return Redirect::to("/").into_response();
    }
    let mut chrome = Chrome::new(&state, &viewer, "login", "login-title");
    notice(&mut chrome, &q);
    let next = q.get("next").cloned().unwrap_or_default();
    render(
        StatusCode::OK,
        &LoginPage {
            chrome,
            next,
            login: String::new(),
        },
    )
}

pub async fn login_submit(
    State(state): State<AppState>,
    viewer: Viewer,
    ClientAddr(addr): ClientAddr,
    form: FormData,
) -> Response {
    let login = form.text("login");
    match auth::sign_in(&state.core, &login, &form.text("password"), &addr).await {
        Ok(signed) => {
            let mut resp = see_other(&local_path(form.opt("next")), None);
            let h = resp.headers_mut();
            h.append(
                header::SET_COOKIE,
                set_cookie(
                    session_cookie_name(),
                    &signed.session_id,
                    state.config.secure_cookies(),
                    None,
                ),
            );
            h.append(
                header::SET_COOKIE,
                set_cookie(
                    LANG_COOKIE,
                    signed.principal.locale.code(),
                    state.config.secure_cookies(),
                    Some(31_536_000),
                ),
            );
            resp
        }
        Err(e) => {
            let status = match e {
                AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
                AppError::BadCredentials => StatusCode::UNAUTHORIZED,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            };
            let mut chrome = Chrome::new(&state, &viewer, "login", "login-title");
            chrome.errors = messages(chrome.t, &e);
            render(
                status,
                &LoginPage {
                    chrome,
                    next: form.text("next"),
                    login,
                },
            )
        }
    }
}

pub async fn logout(State(state): State<AppState>, viewer: Viewer) -> PageResult {
    if let Some(sigap_core::AuthMethod::Session { id_hash }) =
        viewer.principal.as_ref().map(|p| &p.method)
    {
        auth::sign_out(&state.core, id_hash).await?;
    }
    let mut resp = see_other("/login", Some("signed-out"));
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            session_cookie_name(),
            "",
            state.config.secure_cookies(),
            Some(0),
        ),
    );
    Ok(resp)
}

pub async fn language(State(state): State<AppState>, viewer: Viewer, form: FormData) -> PageResult {
    let locale = Locale::parse(&form.text("lang"))
        .map_err(|_| AppError::field("lang", "invalid_choice", "must be en or id"))?;
    if let Some(ctx) = viewer.ctx() {
        let input = people::ProfileInput {
            locale: Some(locale.code().to_owned()),
            ..Default::default()
        };
        people::update_profile(&state.core, &ctx, input, None).await?;
    }
    let mut resp = see_other(&local_path(form.opt("back")), None);
    resp.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            LANG_COOKIE,
            locale.code(),
            state.config.secure_cookies(),
            Some(31_536_000),
        ),
    );
    Ok(resp)
}

// ----- profile -----

pub struct MeView {
    pub name: String,
    pub email: String,
    pub locale: String,
    pub time_zone: String,
    pub version: i64,
}

pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub scope: String,
    pub created: String,
    pub expires: String,
    pub last_used: String,
    pub status: String,
    pub usable: bool,
}

#[derive(Template)]
#[template(path = "profile.html")]
pub struct ProfilePage<'a> {
    pub chrome: Chrome<'a>,
    pub me: MeView,
    pub locales: Vec<(String, String)>,
    pub scopes: Vec<(String, String)>,
    pub tokens: Vec<TokenRow>,
    pub token_once: Option<String>,
    /// What the person gets by mail, per kind of notification.
    pub mail: Vec<super::mail_preferences::PrefGroup>,
}

/// The profile page: `422` with the reasons when a form on it was refused, `201` with a
/// new token's secret shown once, `200` otherwise.
async fn profile_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    notice_code: Option<&str>,
    token_once: Option<String>,
    refused: Option<AppError>,
) -> PageResult {
    let me_id = ctx.principal.person()?;
    let me = people::get(&state.core, ctx, &me_id.to_string()).await?;
    let list = tokens::list_mine(&state.core, ctx).await?;
    // A refused form's reasons are in the language it was sent in.
    let errors = refused
        .as_ref()
        .map(|e| messages(tr(state, viewer), e))
        .unwrap_or_default();
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else if token_once.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    // The page speaks the person's (possibly just changed) language.
    let viewer = Viewer {
        locale: me.locale,
        ..viewer.clone()
    };
    let mut chrome = Chrome::new(state, &viewer, "profile", "profile-title");
    chrome.notice = notice_code.map(|n| chrome.t.get(n));
    chrome.errors = errors;
    let t = chrome.t;
    let now = state.core.now();
    let tokens = list
        .into_iter()
        .map(|tk| TokenRow {
            id: tk.id.to_string(),
            name: tk.name.clone(),
            scope: t.get(&format!("scope-{}", tk.scope.code())),
            created: when(tk.created_at, &viewer),
            expires: tk
                .expires_at
                .map(|e| when(e, &viewer))
                .unwrap_or_else(|| "—".into()),
            last_used: tk
                .last_used_at
                .map(|e| when(e, &viewer))
                .unwrap_or_else(|| "—".into()),
            status: t.get(if tk.revoked_at.is_some() {
                "status-revoked"
            } else if tokens::usable(&tk, now) {
                "status-active"
            } else {
                "status-expired"
            }),
            usable: tokens::usable(&tk, now),
        })
        .collect();
    let page = ProfilePage {
        me: MeView {
            name: me.name,
            email: me.email.unwrap_or_default(),
            locale: me.locale.code().into(),
            time_zone: me.time_zone,
            version: me.version,
        },
        locales: locale_options(t),
        scopes: super::task::choices(t, "scope", TokenScope::ALL.iter().map(|s| s.code())),
        tokens,
        token_once,
        mail: super::mail_preferences::groups(state, ctx, t).await,
        chrome,
    };
    let mut resp = render(status, &page);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

pub async fn profile_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    let n = q
        .get("notice")
        .map(String::as_str)
        .filter(|n| NOTICES.contains(n));
    profile_view(&state, &ctx, &viewer, n, None, None).await
}

pub async fn profile_submit(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    let input = people::ProfileInput {
        name: form.get("name"),
        email: Some(form.opt("email")),
        locale: form.get("locale"),
        time_zone: form.get("time_zone"),
    };
    match people::update_profile(&state.core, &ctx, input, form.version()).await {
        Ok(p) => {
            let mut resp = see_other("/profile", Some("profile-saved"));
            resp.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(
                    LANG_COOKIE,
                    p.locale.code(),
                    state.config.secure_cookies(),
                    Some(31_536_000),
                ),
            );
            Ok(resp)
        }
        Err(e) => profile_view(&state, &ctx, &viewer, None, None, Some(e)).await,
    }
}

pub async fn profile_password(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    match people::change_own_password(
        &state.core,
        &ctx,
        &form.text("current_password"),
        &form.text("new_password"),
    )
    .await
    {
        Ok(()) => Ok(see_other("/profile", Some("profile-password-changed"))),
        Err(e) => profile_view(&state, &ctx, &viewer, None, None, Some(e)).await,
    }
}

pub async fn token_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    // A date picked in the form ends at the end of that day, UTC.
    let expires_at = form
        .opt("expires_on")
        .map(|d| format!("{}T23:59:59Z", d.trim()));
    let input = tokens::TokenInput {
        name: form.get("name"),
        scope: form.get("scope"),
        expires_at,
    };
    match tokens::create(&state.core, &ctx, input).await {
        Ok((_, plaintext)) => {
            profile_view(&state, &ctx, &viewer, None, Some(plaintext), None).await
        }
        Err(e) => profile_view(&state, &ctx, &viewer, None, None, Some(e)).await,
    }
}

pub async fn token_revoke(
    State(state): State<AppState>,
    SignedIn(ctx, _): SignedIn,
    Path(id): Path<String>,
) -> PageResult {
    tokens::revoke(&state.core, &ctx, &id).await?;
    Ok(see_other("/profile", Some("profile-token-revoked")))
}

// ----- people -----

pub struct PersonRow {
    pub id: String,
    pub name: String,
    pub login: String,
    pub email: String,
    pub organization: String,
    pub roles: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "people.html")]
pub struct PeoplePage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<PersonRow>,
    pub next_link: Option<String>,
    pub q: String,
    pub active: String,
    pub orgs: Vec<(String, String)>,
    pub roles: Vec<(String, String, bool)>,
    pub draft: Draft,
}

async fn org_choices(state: &AppState, ctx: &Ctx) -> Result<Vec<(String, String)>, AppError> {
    let params = ListParams {
        limit: Some(sigap_core::listing::MAX_LIMIT),
        ..Default::default()
    };
    let page = orgs::list(&state.core, ctx, orgs::OrgQuery::default(), &params).await?;
    Ok(page
        .items
        .into_iter()
        .map(|o| (o.id.to_string(), o.name))
        .collect())
}

async fn people_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    ctx.principal.require(Role::Admin)?;
    let query = people::PersonQuery {
        q: q.get("q").cloned(),
        active: q.get("active").cloned(),
        ..Default::default()
    };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: q.get("sort").cloned(),
        limit: Some(50),
    };
    let page = people::list(&state.core, ctx, query, &params).await?;
    let orgs = org_choices(state, ctx).await?;
    let mut chrome = Chrome::new(state, viewer, "people", "people-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let t = chrome.t;
    let (qtext, active) = (
        q.get("q").cloned().unwrap_or_default(),
        q.get("active").cloned().unwrap_or_default(),
    );
    let next_link = page.next_cursor.map(|c| {
        format!(
            "/admin/people?q={}&active={}&cursor={}",
            encode(&qtext),
            encode(&active),
            encode(&c)
        )
    });
    let rows = page
        .items
        .into_iter()
        .map(|p| PersonRow {
            id: p.id.to_string(),
            roles: p
                .roles
                .iter()
                .map(|r| t.get(&format!("role-{}", r.code())))
                .collect::<Vec<_>>()
                .join(", "),
            name: p.name,
            login: p.login,
            email: p.email.unwrap_or_default(),
            organization: p.organization.map(|o| o.name).unwrap_or_default(),
            active: p.active,
        })
        .collect();
    let held: Vec<Role> = if draft.is_empty() {
        vec![Role::Requester]
    } else {
        Role::ALL
            .iter()
            .copied()
            .filter(|r| draft.has("roles", r.code()))
            .collect()
    };
    let page = PeoplePage {
        rows,
        next_link,
        q: qtext,
        active,
        orgs,
        roles: role_options(t, &held),
        draft,
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn people_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    people_view(&state, &ctx, &viewer, &q, Draft::default(), None).await
}

fn person_input(form: &FormData, creating: bool) -> people::PersonInput {
    people::PersonInput {
        login: form.get("login"),
        name: form.get("name"),
        email: Some(form.opt("email")),
        locale: form.get("locale"),
        time_zone: form.get("time_zone"),
        active: if creating {
            None
        } else {
            Some(form.get("active").is_some())
        },
        organization: Some(form.opt("organization")),
        roles: Some(form.all("roles")),
        password: if creating { form.opt("password") } else { None },
        manager: Some(form.opt("manager")),
    }
}

pub async fn person_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    match people::create(&state.core, &ctx, person_input(&form, true)).await {
        Ok(p) => Ok(see_other(
            &format!("/admin/people/{}", p.id),
            Some("created"),
        )),
        Err(e) => {
            let draft = Draft::from_form(&form);
            people_view(&state, &ctx, &viewer, &HashMap::new(), draft, Some(e)).await
        }
    }
}

pub struct PersonView {
    pub id: String,
    pub login: String,
    pub name: String,
    pub email: String,
    pub locale: String,
    pub time_zone: String,
    pub organization_id: String,
    /// The manager's login.
    pub manager: String,
    pub active: bool,
    pub created: String,
    pub updated: String,
    pub version: i64,
}

#[derive(Template)]
#[template(path = "person.html")]
pub struct PersonPage<'a> {
    pub chrome: Chrome<'a>,
    pub p: PersonView,
    pub orgs: Vec<(String, String)>,
    pub roles: Vec<(String, String, bool)>,
    pub locales: Vec<(String, String)>,
    pub history: Vec<HistoryRow>,
}

async fn person_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    id: &str,
    notice_code: Option<String>,
    refused: Option<AppError>,
) -> PageResult {
    ctx.principal.require(Role::Admin)?;
    let p = people::get(&state.core, ctx, id).await?;
    let orgs = org_choices(state, ctx).await?;
    let history = sigap_core::audit::history(&state.core, ctx, "person", &p.id.to_string()).await?;
    let mut chrome = Chrome::new(state, viewer, "people", "person-title");
    chrome.title = p.name.clone();
    chrome.notice = notice_code
        .filter(|n| NOTICES.contains(&n.as_str()))
        .map(|n| chrome.t.get(&n));
    let status = refusal(&mut chrome, refused);
    let t = chrome.t;
    let page = PersonPage {
        roles: role_options(t, &p.roles),
        locales: locale_options(t),
        history: history_rows(t, viewer, history),
        orgs,
        p: PersonView {
            id: p.id.to_string(),
            login: p.login,
            name: p.name,
            email: p.email.unwrap_or_default(),
            locale: p.locale.code().into(),
            time_zone: p.time_zone,
            organization_id: p.organization.map(|o| o.id.to_string()).unwrap_or_default(),
            manager: p.manager.map(|m| m.login).unwrap_or_default(),
            active: p.active,
            created: when(p.created_at, viewer),
            updated: when(p.updated_at, viewer),
            version: p.version,
        },
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn person_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    person_view(&state, &ctx, &viewer, &id, q.get("notice").cloned(), None).await
}

pub async fn person_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    match people::update(
        &state.core,
        &ctx,
        &id,
        person_input(&form, false),
        form.version(),
    )
    .await
    {
        Ok(p) => Ok(see_other(&format!("/admin/people/{}", p.id), Some("saved"))),
        Err(e) => person_view(&state, &ctx, &viewer, &id, None, Some(e)).await,
    }
}

pub async fn person_password(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    match people::set_password(&state.core, &ctx, &id, &form.text("password")).await {
        Ok(()) => Ok(see_other(
            &format!("/admin/people/{id}"),
            Some("password-set"),
        )),
        Err(e) => person_view(&state, &ctx, &viewer, &id, None, Some(e)).await,
    }
}

// ----- groups -----

pub struct GroupRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub manager: String,
    pub members: i64,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "groups.html")]
pub struct GroupsPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<GroupRow>,
    pub next_link: Option<String>,
    pub q: String,
    pub types: Vec<(String, String)>,
    pub draft: Draft,
}

async fn groups_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    ctx.principal.require(Role::Admin)?;
    let query = groups::GroupQuery {
        q: q.get("q").cloned(),
        ..Default::default()
    };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: q.get("sort").cloned(),
        limit: Some(50),
    };
    let page = groups::list(&state.core, ctx, query, &params).await?;
    let mut chrome = Chrome::new(state, viewer, "groups", "groups-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let t = chrome.t;
    let qtext = q.get("q").cloned().unwrap_or_default();
    let next_link = page
        .next_cursor
        .map(|c| format!("/admin/groups?q={}&cursor={}", encode(&qtext), encode(&c)));
    let rows = page
        .items
        .into_iter()
        .map(|g| GroupRow {
            id: g.id.to_string(),
            kind: t.get(&format!("group-type-{}", g.group_type.code())),
            manager: g.manager.map(|m| m.name).unwrap_or_default(),
            name: g.name,
            members: g.member_count,
            active: g.active,
        })
        .collect();
    Ok(render(
        status,
        &GroupsPage {
            rows,
            next_link,
            q: qtext,
            types: type_options(t),
            draft,
            chrome,
        },
    ))
}

pub async fn groups_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    groups_view(&state, &ctx, &viewer, &q, Draft::default(), None).await
}

fn group_input(form: &FormData, creating: bool) -> groups::GroupInput {
    groups::GroupInput {
        name: form.get("name"),
        group_type: form.get("type"),
        description: form.get("description"),
        email: Some(form.opt("email")),
        manager: Some(form.opt("manager")),
        active: if creating {
            None
        } else {
            Some(form.get("active").is_some())
        },
    }
}

pub async fn group_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    match groups::create(&state.core, &ctx, group_input(&form, true)).await {
        Ok(g) => Ok(see_other(
            &format!("/admin/groups/{}", g.id),
            Some("created"),
        )),
        Err(e) => {
            let draft = Draft::from_form(&form);
            groups_view(&state, &ctx, &viewer, &HashMap::new(), draft, Some(e)).await
        }
    }
}

pub struct GroupView {
    pub id: String,
    pub name: String,
    pub kind_code: String,
    pub email: String,
    pub manager_login: String,
    pub description: String,
    pub active: bool,
    pub version: i64,
}

#[derive(Template)]
#[template(path = "group.html")]
pub struct GroupPage<'a> {
    pub chrome: Chrome<'a>,
    pub g: GroupView,
    pub types: Vec<(String, String)>,
    pub members: Vec<(String, String, String)>,
    pub history: Vec<HistoryRow>,
}

async fn group_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    id: &str,
    notice_code: Option<String>,
    refused: Option<AppError>,
) -> PageResult {
    ctx.principal.require(Role::Admin)?;
    let (g, members) = groups::members(&state.core, ctx, id).await?;
    let history = sigap_core::audit::history(&state.core, ctx, "group", &g.id.to_string()).await?;
    let mut chrome = Chrome::new(state, viewer, "groups", "group-title");
    chrome.title = g.name.clone();
    chrome.notice = notice_code
        .filter(|n| NOTICES.contains(&n.as_str()))
        .map(|n| chrome.t.get(&n));
    let status = refusal(&mut chrome, refused);
    let t = chrome.t;
    let page = GroupPage {
        types: type_options(t),
        members: members
            .into_iter()
            .map(|m| (m.id.to_string(), m.name, m.login))
            .collect(),
        history: history_rows(t, viewer, history),
        g: GroupView {
            id: g.id.to_string(),
            name: g.name,
            kind_code: g.group_type.code().into(),
            email: g.email.unwrap_or_default(),
            manager_login: g.manager.map(|m| m.login).unwrap_or_default(),
            description: g.description,
            active: g.active,
            version: g.version,
        },
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn group_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    group_view(&state, &ctx, &viewer, &id, q.get("notice").cloned(), None).await
}

async fn group_result<T>(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    id: &str,
    r: Result<T, AppError>,
    ok_to: String,
    ok_notice: &str,
) -> PageResult {
    match r {
        Ok(_) => Ok(see_other(&ok_to, Some(ok_notice))),
        Err(e) => group_view(state, ctx, viewer, id, None, Some(e)).await,
    }
}

pub async fn group_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    let r = groups::update(
        &state.core,
        &ctx,
        &id,
        group_input(&form, false),
        form.version(),
    )
    .await;
    group_result(
        &state,
        &ctx,
        &viewer,
        &id,
        r,
        format!("/admin/groups/{id}"),
        "saved",
    )
    .await
}

pub async fn group_delete(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    let r = groups::delete(&state.core, &ctx, &id, form.version()).await;
    group_result(
        &state,
        &ctx,
        &viewer,
        &id,
        r,
        "/admin/groups".into(),
        "deleted",
    )
    .await
}

pub async fn member_add(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    let r = groups::set_member(&state.core, &ctx, &id, &form.text("person"), true).await;
    group_result(
        &state,
        &ctx,
        &viewer,
        &id,
        r,
        format!("/admin/groups/{id}"),
        "member-added",
    )
    .await
}

pub async fn member_remove(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path((id, person)): Path<(String, String)>,
) -> PageResult {
    let r = groups::set_member(&state.core, &ctx, &id, &person, false).await;
    group_result(
        &state,
        &ctx,
        &viewer,
        &id,
        r,
        format!("/admin/groups/{id}"),
        "member-removed",
    )
    .await
}

// ----- organizations -----

pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub active: bool,
}

#[derive(Template)]
#[template(path = "orgs.html")]
pub struct OrgsPage<'a> {
    pub chrome: Chrome<'a>,
    pub rows: Vec<OrgRow>,
    pub next_link: Option<String>,
    pub q: String,
    pub kinds: Vec<(String, String)>,
    pub draft: Draft,
}

async fn orgs_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    q: &HashMap<String, String>,
    draft: Draft,
    refused: Option<AppError>,
) -> PageResult {
    ctx.principal.require(Role::Admin)?;
    let query = orgs::OrgQuery {
        q: q.get("q").cloned(),
        ..Default::default()
    };
    let params = ListParams {
        cursor: q.get("cursor").cloned(),
        sort: q.get("sort").cloned(),
        limit: Some(50),
    };
    let page = orgs::list(&state.core, ctx, query, &params).await?;
    let mut chrome = Chrome::new(state, viewer, "organizations", "orgs-title");
    notice(&mut chrome, q);
    let status = refusal(&mut chrome, refused);
    let t = chrome.t;
    let qtext = q.get("q").cloned().unwrap_or_default();
    let next_link = page.next_cursor.map(|c| {
        format!(
            "/admin/organizations?q={}&cursor={}",
            encode(&qtext),
            encode(&c)
        )
    });
    let rows = page
        .items
        .into_iter()
        .map(|o| OrgRow {
            id: o.id.to_string(),
            kind: t.get(&format!("kind-{}", o.kind.code())),
            name: o.name,
            active: o.active,
        })
        .collect();
    Ok(render(
        status,
        &OrgsPage {
            rows,
            next_link,
            q: qtext,
            kinds: kind_options(t),
            draft,
            chrome,
        },
    ))
}

pub async fn orgs_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    orgs_view(&state, &ctx, &viewer, &q, Draft::default(), None).await
}

fn org_input(form: &FormData, creating: bool) -> orgs::OrgInput {
    orgs::OrgInput {
        name: form.get("name"),
        kind: form.get("kind"),
        description: form.get("description"),
        active: if creating {
            None
        } else {
            Some(form.get("active").is_some())
        },
    }
}

pub async fn org_create(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    form: FormData,
) -> PageResult {
    match orgs::create(&state.core, &ctx, org_input(&form, true)).await {
        Ok(o) => Ok(see_other(
            &format!("/admin/organizations/{}", o.id),
            Some("created"),
        )),
        Err(e) => {
            let draft = Draft::from_form(&form);
            orgs_view(&state, &ctx, &viewer, &HashMap::new(), draft, Some(e)).await
        }
    }
}

pub struct OrgView {
    pub id: String,
    pub name: String,
    pub kind_code: String,
    pub description: String,
    pub active: bool,
    pub version: i64,
}

#[derive(Template)]
#[template(path = "org.html")]
pub struct OrgPage<'a> {
    pub chrome: Chrome<'a>,
    pub o: OrgView,
    pub kinds: Vec<(String, String)>,
    pub people: Vec<(String, String, String)>,
    pub history: Vec<HistoryRow>,
}

async fn org_view(
    state: &AppState,
    ctx: &Ctx,
    viewer: &Viewer,
    id: &str,
    notice_code: Option<String>,
    refused: Option<AppError>,
) -> PageResult {
    ctx.principal.require(Role::Admin)?;
    let o = orgs::get(&state.core, ctx, id).await?;
    let query = people::PersonQuery {
        organization: Some(o.id.to_string()),
        ..Default::default()
    };
    let params = ListParams {
        limit: Some(200),
        ..Default::default()
    };
    let members = people::list(&state.core, ctx, query, &params).await?;
    let history =
        sigap_core::audit::history(&state.core, ctx, "organization", &o.id.to_string()).await?;
    let mut chrome = Chrome::new(state, viewer, "organizations", "org-title");
    chrome.title = o.name.clone();
    chrome.notice = notice_code
        .filter(|n| NOTICES.contains(&n.as_str()))
        .map(|n| chrome.t.get(&n));
    let status = refusal(&mut chrome, refused);
    let t = chrome.t;
    let page = OrgPage {
        kinds: kind_options(t),
        people: members
            .items
            .into_iter()
            .map(|p| (p.id.to_string(), p.name, p.login))
            .collect(),
        history: history_rows(t, viewer, history),
        o: OrgView {
            id: o.id.to_string(),
            name: o.name,
            kind_code: o.kind.code().into(),
            description: o.description,
            active: o.active,
            version: o.version,
        },
        chrome,
    };
    Ok(render(status, &page))
}

pub async fn org_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> PageResult {
    org_view(&state, &ctx, &viewer, &id, q.get("notice").cloned(), None).await
}

pub async fn org_update(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    match orgs::update(
        &state.core,
        &ctx,
        &id,
        org_input(&form, false),
        form.version(),
    )
    .await
    {
        Ok(o) => Ok(see_other(
            &format!("/admin/organizations/{}", o.id),
            Some("saved"),
        )),
        Err(e) => org_view(&state, &ctx, &viewer, &id, None, Some(e)).await,
    }
}

pub async fn org_delete(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
    Path(id): Path<String>,
    form: FormData,
) -> PageResult {
    match orgs::delete(&state.core, &ctx, &id, form.version()).await {
        Ok(()) => Ok(see_other("/admin/organizations", Some("deleted"))),
        Err(e) => org_view(&state, &ctx, &viewer, &id, None, Some(e)).await,
    }
}
