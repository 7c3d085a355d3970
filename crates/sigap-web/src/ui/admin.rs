//! The administration hub: every page an administrator sets Sigap up with, in one place,
//! grouped by what it configures. The top bar links here instead of to each page.

use super::*;
use crate::AppState;
use axum::extract::State;

/// One link of the hub: its path, the title of the page and a line about it.
pub struct AdminLink {
    pub path: &'static str,
    pub title: String,
    pub hint: String,
}

pub struct AdminGroup {
    pub title: String,
    pub links: Vec<AdminLink>,
}

#[derive(Template)]
#[template(path = "admin.html")]
pub struct AdminPage<'a> {
    pub chrome: Chrome<'a>,
    pub groups: Vec<AdminGroup>,
}

/// A link of the hub: (path, page title, hint), the title and hint as locale keys.
type Entry = (&'static str, &'static str, &'static str);

/// The hub's groups: (group title, its links); every title is a locale key.
const HUB: &[(&str, &[Entry])] = &[
    (
        "admin-group-access",
        &[
            ("/admin/people", "people-title", "admin-hint-people"),
            ("/admin/groups", "groups-title", "admin-hint-groups"),
            ("/admin/organizations", "orgs-title", "admin-hint-orgs"),
            (
                "/admin/locations",
                "locations-title",
                "admin-hint-locations",
            ),
        ],
    ),
    (
        "admin-group-desk",
        &[
            (
                "/admin/priority-matrix",
                "matrix-title",
                "admin-hint-matrix",
            ),
            (
                "/admin/incident-categories",
                "categories-title",
                "admin-hint-categories",
            ),
            ("/admin/assignment-rules", "rules-title", "admin-hint-rules"),
            (
                "/admin/catalog",
                "admin-catalog-title",
                "admin-hint-catalog",
            ),
            ("/admin/knowledge", "kb-admin-title", "admin-hint-knowledge"),
        ],
    ),
    (
        "admin-group-mail",
        &[
            (
                "/admin/mail/mailboxes",
                "mail-mailboxes-title",
                "admin-hint-mailboxes",
            ),
            (
                "/admin/mail/outbound",
                "mail-outbound-title",
                "admin-hint-outbound",
            ),
            (
                "/admin/mail/templates",
                "mail-templates-title",
                "admin-hint-mail-templates",
            ),
            (
                "/admin/mail/quarantine",
                "mail-quarantine-title",
                "admin-hint-quarantine",
            ),
        ],
    ),
    (
        "admin-group-levels",
        &[
            ("/sla/calendars", "calendars-title", "admin-hint-calendars"),
            (
                "/sla/agreements",
                "agreements-title",
                "admin-hint-agreements",
            ),
        ],
    ),
    (
        "admin-group-config",
        &[("/admin/ci-classes", "classes-title", "admin-hint-classes")],
    ),
];

pub async fn admin_page(
    State(state): State<AppState>,
    SignedIn(ctx, viewer): SignedIn,
) -> PageResult {
    ctx.principal.require(sigap_domain::Role::Admin)?;
    let chrome = Chrome::new(&state, &viewer, "admin", "admin-title");
    let t = chrome.t;
    let groups = HUB
        .iter()
        .map(|(title, links)| AdminGroup {
            title: t.get(title),
            links: links
                .iter()
                .map(|(path, title, hint)| AdminLink {
                    path,
                    title: t.get(title),
                    hint: t.get(hint),
                })
                .collect(),
        })
        .collect();
    Ok(render(StatusCode::OK, &AdminPage { chrome, groups }))
}
