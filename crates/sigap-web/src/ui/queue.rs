//! The queue every process's list is: ready-made queues as tabs, filters, a sort, the
//! columns the viewer chooses, saved views, paging, and actions on the ticked tasks. A
//! process gives its [`Spec`], lists its tasks for the page's parameters, and may add
//! columns of its own.

use super::task::{TaskView, task_view};
use super::views::notice;
use super::*;
use axum::extract::{Path, RawQuery};
use sigap_core::listing::Listed;
use sigap_core::model::Task;
use sigap_domain::task::{MatrixPreset, StateModel};
use std::collections::HashMap;

/// What a process's queue is made of.
pub(crate) struct Spec {
    /// Its pages, saved views and locale keys: "incidents" (`/incidents`, `incidents-title`).
    pub name: &'static str,
    /// One task of it, for the table's id and the ticked boxes: "incident".
    pub noun: &'static str,
    /// The ready-made queues, the default first; `queue-{code}` labels each.
    pub queues: &'static [&'static str],
    pub sorts: &'static [&'static str],
    /// The columns a viewer may choose, in order; the first `shown` are shown unless they
    /// choose.
    pub columns: &'static [&'static str],
    pub shown: usize,
    /// A check box filter on a flag of the process: (parameter, label key).
    pub flag: Option<(&'static str, &'static str)>,
    /// Actions on the ticked tasks: (value, label key).
    pub bulk: &'static [(&'static str, &'static str)],
    /// The CSV export of the list, if it has one.
    pub export: Option<&'static str>,
    /// Whether tasks are made from the queue (`/{name}/new`); others come from elsewhere.
    pub creates: bool,
}

/// One cell of a queue: its text, and a link, a priority badge or a time-left badge.
#[derive(Default)]
pub struct Cell {
    pub text: String,
    pub href: Option<String>,
    pub prio: Option<i64>,
    /// A time-left badge's colour class.
    pub sla: Option<&'static str>,
}

impl Cell {
    pub fn text(t: &str) -> Self {
        Self {
            text: t.to_owned(),
            ..Self::default()
        }
    }
}

pub struct QueueRow {
    pub number: String,
    pub cells: Vec<Cell>,
}

/// A common column's cell.
fn cell(spec: &Spec, col: &str, t: &TaskView, badge: Option<&super::sla::Badge>) -> Cell {
    match col {
        "number" => Cell {
            href: Some(format!("/{}/{}", spec.name, t.number)),
            ..Cell::text(&t.number)
        },
        "sla" => badge.map_or_else(Cell::default, |b| Cell {
            sla: Some(b.class),
            ..Cell::text(&b.text)
        }),
        "priority" => Cell {
            prio: Some(t.priority),
            ..Cell::text(&t.priority_label)
        },
        "short_description" => Cell::text(&t.short_description),
        "caller" => Cell::text(&t.caller),
        "state" => Cell::text(&t.state),
        "assignment_group" => Cell::text(&t.group),
        "assigned_to" => Cell::text(&t.assignee),
        "updated" => Cell::text(&t.updated),
        "opened" => Cell::text(&t.opened),
        "category" => Cell::text(&t.category),
        "service" => Cell::text(&t.service),
        "configuration_item" => Cell::text(&t.ci),
        "location" => Cell::text(&t.location),
        "reopen_count" => Cell::text(&t.reopen_count.to_string()),
        _ => Cell::default(),
    }
}

/// A queue's parameters; the column boxes (`col`, repeated) become one `cols`.
pub(crate) fn params(raw: &str) -> HashMap<String, String> {
    let mut q = HashMap::new();
    let mut cols = Vec::new();
    for (k, v) in form_urlencoded::parse(raw.as_bytes()).into_owned() {
        if k == "col" {
            cols.push(v);
        } else {
            q.insert(k, v);
        }
    }
    if !cols.is_empty() {
        cols.insert(0, "number".into());
        q.insert("cols".into(), cols.join(","));
    }
    q
}

/// The columns asked for (`cols`, comma-separated), known ones only, the number first.
fn chosen(spec: &Spec, q: &HashMap<String, String>) -> Vec<&'static str> {
    let asked: Vec<&str> = q
        .get("cols")
        .map(|c| c.split(',').map(str::trim).collect())
        .unwrap_or_default();
    let cols: Vec<&'static str> = spec
        .columns
        .iter()
        .copied()
        .filter(|c| *c == "number" || asked.contains(c))
        .collect();
    if cols.len() <= 1 {
        return spec.columns[..spec.shown].to_vec();
    }
    cols
}

fn column_label(tt: Tr<'_>, c: &str) -> String {
    match c {
        "sla" => tt.get("field-time-left"),
        _ => tt.get(&format!("field-{}", c.replace('_', "-"))),
    }
}

/// The query string of a view from its parameters, in the saved-view form.
fn view_query(spec: &Spec, q: &HashMap<String, String>) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    for (k, v) in q {
        s.append_pair(k, v);
    }
    sigap_core::filters::canonical_query(spec.name, &s.finish()).unwrap_or_default()
}

/// The queue a page shows: the one asked for, if the process has it, else its default.
pub(crate) fn queue(spec: &Spec, q: &HashMap<String, String>) -> String {
    q.get("queue")
        .filter(|v| spec.queues.contains(&v.as_str()))
        .cloned()
        .unwrap_or_else(|| spec.queues[0].to_owned())
}

/// The sort a page asks for, if the process offers it, else its first.
pub(crate) fn sort(spec: &Spec, q: &HashMap<String, String>) -> String {
    q.get("sort")
        .filter(|s| spec.sorts.contains(&s.as_str()))
        .cloned()
        .unwrap_or_else(|| spec.sorts[0].to_owned())
}

/// A trimmed parameter, empty if missing.
pub(crate) fn get(q: &HashMap<String, String>, k: &str) -> String {
    q.get(k).map(|v| v.trim().to_owned()).unwrap_or_default()
}

/// The common filters of a queue's page as a task query.
pub(crate) fn task_query(q: &HashMap<String, String>) -> sigap_core::task::TaskQuery {
    let some = |k: &str| Some(get(q, k)).filter(|v| !v.is_empty());
    sigap_core::task::TaskQuery {
        state: some("state"),
        priority: some("priority"),
        assignment_group: some("group"),
        assigned_to: some("assignee"),
        location: some("location"),
        q: some("q"),
        ..Default::default()
    }
}

#[derive(Template)]
#[template(path = "queue.html")]
pub struct QueuePage<'a> {
    pub chrome: Chrome<'a>,
    pub name: &'static str,
    pub noun: &'static str,
    pub new_label: String,
    pub search_hint: String,
    pub empty_label: String,
    pub export: Option<&'static str>,
    /// Links beside the new button: (href, label).
    pub links: Vec<(String, String)>,
    pub queues: Vec<(String, String, bool)>,
    pub queue: String,
    pub rows: Vec<QueueRow>,
    pub q: String,
    pub next_link: Option<String>,
    /// The current view as a query string (filters, sort, columns), for saving and paging.
    pub view: String,
    pub filter_state: String,
    pub filter_priority: String,
    pub filter_group: String,
    pub filter_assignee: String,
    pub filter_location: String,
    /// The process's flag filter: (parameter, label, checked).
    pub flag: Option<(String, String, bool)>,
    pub sort: String,
    pub states: Vec<(String, String)>,
    pub priorities: Vec<(String, String)>,
    pub groups: Vec<String>,
    pub sorts: Vec<(String, String)>,
    /// Every column: (code, label, shown).
    pub columns: Vec<(String, String, bool)>,
    /// The shown columns: (code, label).
    pub shown: Vec<(String, String)>,
    /// Saved views: (id, name, query string).
    pub saved: Vec<(String, String, String)>,
    /// Actions on the ticked tasks: (value, label).
    pub bulk: Vec<(String, String)>,
    /// Filters are open when any is set.
    pub filtering: bool,
}

/// A queue's page: `listed` are the tasks for its parameters (a refused filter shows an
/// empty list with the reason), `extra` the process's own columns' cells.
pub(crate) async fn page<S: StateModel, R: std::ops::Deref<Target = Task<S>>>(
    v: &Visit,
    spec: &Spec,
    q: &HashMap<String, String>,
    listed: Result<Listed<R>, AppError>,
    mut errors: Vec<String>,
    links: Vec<(String, String)>,
    extra: impl Fn(&str, &R) -> Option<Cell>,
) -> PageResult {
    let (state, ctx, viewer) = (&v.state, &v.ctx, &v.viewer);
    let tt = tr(state, viewer);
    let page = match listed {
        Ok(p) => p,
        Err(e @ AppError::Validation(_)) => {
            errors.extend(messages(tt, &e));
            Listed {
                items: Vec::new(),
                next_cursor: None,
            }
        }
        Err(e) => return Err(e.into()),
    };
    let labels = super::incidents::labels(state).await;
    let saved = sigap_core::filters::mine(&state.core, ctx, spec.name)
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|f| (f.id.to_string(), f.name, f.query))
        .collect();
    let mut chrome = v.chrome(spec.name, &format!("{}-title", spec.name));
    notice(&mut chrome, q);
    chrome.errors = errors;
    let queue = queue(spec, q);
    let mut vq = q.clone();
    vq.insert("queue".into(), queue.clone());
    let view = view_query(spec, &vq);
    let cursor = |c: String| format!("/{}?{view}&cursor={}", spec.name, encode(&c));
    let cols = chosen(spec, q);
    let badges = if cols.contains(&"sla") {
        let ids = page.items.iter().map(|t| t.id).collect();
        super::sla::badges_for(state, tt, ids).await
    } else {
        HashMap::new()
    };
    let row = |r: &R| {
        let t = task_view(tt, viewer, labels, r);
        let cell = |c: &&str| extra(c, r).unwrap_or_else(|| cell(spec, c, &t, badges.get(&r.id)));
        QueueRow {
            number: t.number.clone(),
            cells: cols.iter().map(cell).collect(),
        }
    };
    let flag = spec
        .flag
        .map(|(p, label)| (p.into(), tt.get(label), get(q, p) == "true"));
    let filters = ["state", "priority", "group", "assignee", "location"];
    let filtering =
        filters.iter().any(|k| !get(q, k).is_empty()) || flag.as_ref().is_some_and(|f| f.2);
    Ok(render(
        StatusCode::OK,
        &QueuePage {
            name: spec.name,
            noun: spec.noun,
            new_label: if spec.creates {
                tt.get(&format!("{}-new", spec.name))
            } else {
                String::new()
            },
            search_hint: tt.get(&format!("hint-{}-search", spec.noun)),
            empty_label: tt.get(&format!("{}-empty", spec.name)),
            export: spec.export,
            links,
            queues: spec
                .queues
                .iter()
                .map(|k| ((*k).to_owned(), tt.get(&format!("queue-{k}")), *k == queue))
                .collect(),
            queue,
            rows: page.items.iter().map(row).collect(),
            q: get(q, "q"),
            next_link: page.next_cursor.map(cursor),
            view,
            filter_state: get(q, "state"),
            filter_priority: get(q, "priority"),
            filter_group: get(q, "group"),
            filter_assignee: get(q, "assignee"),
            filter_location: get(q, "location"),
            flag,
            sort: sort(spec, q),
            states: S::all()
                .iter()
                .map(|s| (s.code().to_owned(), super::task::state_label(tt, *s)))
                .collect(),
            priorities: (1..=5)
                .filter(|p| labels == MatrixPreset::Itil || *p <= 3)
                .map(|p| {
                    (
                        p.to_string(),
                        super::incidents::priority_label(tt, labels, p),
                    )
                })
                .collect(),
            groups: super::incidents::active_group_names(state, ctx).await,
            sorts: super::task::sort_options(tt, spec.sorts),
            columns: spec
                .columns
                .iter()
                .map(|c| ((*c).to_owned(), column_label(tt, c), cols.contains(c)))
                .collect(),
            shown: cols
                .iter()
                .map(|c| ((*c).to_owned(), column_label(tt, c)))
                .collect(),
            saved,
            bulk: spec
                .bulk
                .iter()
                .map(|(k, l)| ((*k).to_owned(), tt.get(l)))
                .collect(),
            filtering,
            chrome,
        },
    ))
}

/// A process's queue: its spec, its page for a view's parameters (with messages to show),
/// and a bulk action on one ticked task. The handlers below serve every process's queue.
pub(crate) trait Queue: Send + Sync + 'static {
    const SPEC: Spec;
    fn view(
        v: &Visit,
        q: &HashMap<String, String>,
        errors: Vec<String>,
    ) -> impl Future<Output = PageResult> + Send;
    /// Does the bulk action `name` on the task `number`.
    fn act(
        v: &Visit,
        name: &str,
        number: &str,
    ) -> impl Future<Output = Result<(), AppError>> + Send;
}

/// The queue's page.
pub(crate) async fn show<Q: Queue>(v: Visit, RawQuery(raw): RawQuery) -> PageResult {
    Q::view(&v, &params(raw.as_deref().unwrap_or("")), Vec::new()).await
}

/// Saves the current view of a queue under a name; back to it, or the queue again with the
/// reason.
pub(crate) async fn save<Q: Queue>(v: Visit, form: FormData) -> PageResult {
    let (name, view) = (form.text("name"), form.text("view"));
    match sigap_core::filters::save(&v.state.core, &v.ctx, Q::SPEC.name, &name, &view).await {
        Ok(f) => Ok(see_other(
            &format!("/{}?{}", Q::SPEC.name, f.query),
            Some("saved"),
        )),
        Err(e) => Q::view(&v, &params(&view), messages(tr(&v.state, &v.viewer), &e)).await,
    }
}

/// Deletes one of the viewer's saved views of a queue.
pub(crate) async fn delete<Q: Queue>(v: Visit, Path(id): Path<String>) -> PageResult {
    sigap_core::filters::delete(&v.state.core, &v.ctx, &id).await?;
    Ok(see_other(&format!("/{}", Q::SPEC.name), Some("deleted")))
}

/// Does the chosen action on every task ticked in a queue (at most 200); back to the view,
/// or the queue again with each failure by number.
pub(crate) async fn bulk<Q: Queue>(v: Visit, form: FormData) -> PageResult {
    let (spec, action) = (&Q::SPEC, form.text("action"));
    let mut failures = Vec::new();
    for n in form.all(spec.noun).iter().take(200) {
        if let Err(e) = Q::act(&v, &action, n).await {
            for m in messages(tr(&v.state, &v.viewer), &e) {
                failures.push(format!("{n}: {m}"));
            }
        }
    }
    let q = params(&form.text("view"));
    if failures.is_empty() {
        let to = format!("/{}?{}", spec.name, view_query(spec, &q));
        return Ok(see_other(&to, Some("saved")));
    }
    Q::view(&v, &q, failures).await
}
