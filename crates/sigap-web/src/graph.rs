//! Server-drawn SVG dependency graphs (impact of a CI, dependencies of a service): columns
//! by distance from the start, then the services, offerings and customers reached. The
//! browser lays out the text; styling comes from CSS classes, so the page's theme applies.

use sigap_core::cmdb::{Dependencies, Impact, Reached};
use std::collections::HashMap;
use std::fmt::Write;

/// The headings and words of a graph, in the reader's language.
#[derive(Debug, Clone)]
pub struct Labels {
    pub title: String,
    pub services: String,
    pub offerings: String,
    pub customers: String,
    /// "+{n} more" with `{n}` replaced.
    pub more: String,
    /// Relationship type codes to words.
    pub kinds: HashMap<&'static str, String>,
    /// Column headings by distance ("1 step", "2 steps" …).
    pub steps: Vec<String>,
}

impl Labels {
    fn step(&self, d: usize) -> String {
        self.steps.get(d).cloned().unwrap_or_else(|| d.to_string())
    }
}

const COL_W: i64 = 175;
const GAP: i64 = 45;
const NODE_W: i64 = 160;
const NODE_H: i64 = 40;
const ROW_H: i64 = 52;
const TOP: i64 = 44;
/// The most boxes one column shows.
const MAX_ROWS: usize = 30;

#[derive(Debug, Clone)]
struct Node {
    key: String,
    title: String,
    sub: String,
    class: &'static str,
    href: Option<String>,
}

#[derive(Debug, Clone)]
struct Edge {
    from: String,
    to: String,
    label: String,
}

fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

fn ci_node(r: &Reached, start: bool) -> Node {
    Node {
        key: format!("ci:{}", r.ci.id),
        title: r.ci.name.clone(),
        sub: r.ci.class_code.clone(),
        class: if start { "node start" } else { "node ci" },
        href: Some(format!("/cmdb/{}", r.ci.id)),
    }
}

/// The colours of a node when the SVG stands alone; a page's CSS overrides them.
fn colours(class: &str) -> (&'static str, &'static str) {
    if class.contains("start") {
        ("#fdecea", "#b42318")
    } else if class.contains("service") {
        ("#e6f4ee", "#2f7d5b")
    } else if class.contains("offering") {
        ("#e3efeb", "#0f5c4d")
    } else if class.contains("customer") {
        ("#fff6d6", "#7a5a00")
    } else {
        ("#f0f4f2", "#7d8b86")
    }
}

/// Lays out columns of nodes and the edges between them and writes the SVG.
fn draw(columns: Vec<(String, Vec<Node>)>, edges: Vec<Edge>, labels: &Labels) -> String {
    let columns: Vec<(String, Vec<Node>, usize)> = columns
        .into_iter()
        .filter(|(_, nodes)| !nodes.is_empty())
        .map(|(h, mut nodes)| {
            let hidden = nodes.len().saturating_sub(MAX_ROWS);
            nodes.truncate(MAX_ROWS);
            (h, nodes, hidden)
        })
        .collect();
    let rows = columns
        .iter()
        .map(|(_, n, hidden)| n.len() + usize::from(*hidden > 0))
        .max()
        .unwrap_or(1);
    let width = (columns.len() as i64) * (COL_W + GAP) + 20;
    let height = TOP + (rows as i64) * ROW_H + 20;
    let mut pos: HashMap<String, (i64, i64)> = HashMap::new();
    for (ci, (_, nodes, _)) in columns.iter().enumerate() {
        let x = 10 + (ci as i64) * (COL_W + GAP);
        for (ri, n) in nodes.iter().enumerate() {
            pos.insert(n.key.clone(), (x, TOP + (ri as i64) * ROW_H));
        }
    }
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="depgraph" role="group" viewBox="0 0 {width} {height}" width="{width}" height="{height}" font-family="system-ui, sans-serif"><title>{}</title>"#,
        esc(&labels.title)
    );
    svg.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrowhead" fill="#7d8b86"/></marker></defs>"##);
    for (ci, (heading, _, _)) in columns.iter().enumerate() {
        let x = 10 + (ci as i64) * (COL_W + GAP);
        let _ = write!(
            svg,
            r##"<text class="colhead" x="{x}" y="22" font-size="12" font-weight="600" fill="#58645f">{}</text>"##,
            esc(&clip(heading, 30))
        );
    }
    svg.push_str(r#"<g class="edges">"#);
    for e in &edges {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (pos.get(&e.from), pos.get(&e.to)) else {
            continue;
        };
        let (sx, sy, tx, ty) = (x1 + NODE_W, y1 + NODE_H / 2, x2, y2 + NODE_H / 2);
        let mid = (sx + tx) / 2;
        let _ = write!(
            svg,
            r##"<path class="edge" d="M{sx},{sy} C{mid},{sy} {mid},{ty} {tx},{ty}" fill="none" stroke="#7d8b86" stroke-width="1.4" marker-end="url(#arrow)"><title>{}</title></path>"##,
            esc(&e.label)
        );
    }
    svg.push_str("</g>");
    for (ci, (_, nodes, hidden)) in columns.iter().enumerate() {
        for n in nodes {
            let Some(&(x, y)) = pos.get(&n.key) else {
                continue;
            };
            let (fill, stroke) = colours(n.class);
            let body = format!(
                r##"<g class="{}"><rect x="{x}" y="{y}" width="{NODE_W}" height="{NODE_H}" rx="6" fill="{fill}" stroke="{stroke}"/><text class="name" x="{}" y="{}" font-size="13" font-weight="600" fill="#1b2421">{}</text><text class="sub" x="{}" y="{}" font-size="11" fill="#58645f">{}</text><title>{}</title></g>"##,
                n.class,
                x + 8,
                y + 17,
                esc(&clip(&n.title, 22)),
                x + 8,
                y + 32,
                esc(&clip(&n.sub, 26)),
                esc(&format!("{} ({})", n.title, n.sub)),
            );
            match &n.href {
                Some(h) => {
                    let _ = write!(svg, r#"<a href="{}">{body}</a>"#, esc(h));
                }
                None => svg.push_str(&body),
            }
        }
        if *hidden > 0 {
            let x = 10 + (ci as i64) * (COL_W + GAP);
            let y = TOP + (nodes.len() as i64) * ROW_H + 14;
            let _ = write!(
                svg,
                r##"<text class="more" x="{}" y="{y}" font-size="12" fill="#58645f">{}</text>"##,
                x + 8,
                esc(&labels.more.replace("{n}", &hidden.to_string()))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

fn kind_label(labels: &Labels, code: &str) -> String {
    labels
        .kinds
        .get(code)
        .cloned()
        .unwrap_or_else(|| code.to_owned())
}

/// The impact of a CI: the CI, what depends on it by distance, then services, offerings
/// and customers.
pub fn impact_svg(i: &Impact, labels: &Labels) -> String {
    let mut by_depth: Vec<Vec<Node>> = Vec::new();
    let mut edges = Vec::new();
    let start = Reached {
        ci: i.ci.clone(),
        depth: 0,
        via: None,
    };
    by_depth.push(vec![ci_node(&start, true)]);
    for r in &i.cis {
        let d = r.depth as usize;
        while by_depth.len() <= d {
            by_depth.push(Vec::new());
        }
        by_depth[d].push(ci_node(r, false));
        if let Some(step) = &r.via {
            edges.push(Edge {
                from: format!("ci:{}", step.from.id),
                to: format!("ci:{}", step.to.id),
                label: kind_label(labels, step.kind.code()),
            });
        }
    }
    let mut columns: Vec<(String, Vec<Node>)> = by_depth
        .into_iter()
        .enumerate()
        .map(|(d, nodes)| {
            (
                if d == 0 {
                    labels.title.clone()
                } else {
                    labels.step(d)
                },
                nodes,
            )
        })
        .collect();
    let services: Vec<Node> = i
        .services
        .iter()
        .map(|s| Node {
            key: format!("svc:{}", s.id),
            title: s.name.clone(),
            sub: labels.services.clone(),
            class: if s.active {
                "node service"
            } else {
                "node service inactive"
            },
            href: Some(format!("/services/{}", s.id)),
        })
        .collect();
    for s in &i.services {
        if let Some(ci) = s.via_ci {
            edges.push(Edge {
                from: format!("ci:{ci}"),
                to: format!("svc:{}", s.id),
                label: labels.services.clone(),
            });
        }
    }
    let offerings: Vec<Node> = i
        .offerings
        .iter()
        .map(|o| Node {
            key: format!("off:{}", o.id),
            title: o.name.clone(),
            sub: labels.offerings.clone(),
            class: if o.active {
                "node offering"
            } else {
                "node offering inactive"
            },
            href: o.service.map(|s| format!("/services/{s}")),
        })
        .collect();
    for o in &i.offerings {
        let from = match (o.via_ci, o.service) {
            (Some(ci), _) => format!("ci:{ci}"),
            (None, Some(s)) => format!("svc:{s}"),
            (None, None) => continue,
        };
        edges.push(Edge {
            from,
            to: format!("off:{}", o.id),
            label: labels.offerings.clone(),
        });
    }
    let customers: Vec<Node> = i
        .customers
        .iter()
        .map(|c| Node {
            key: format!("org:{}", c.id),
            title: c.name.clone(),
            sub: labels.customers.clone(),
            class: "node customer",
            href: Some(format!("/admin/organizations/{}", c.id)),
        })
        .collect();
    for c in &i.customers {
        for s in &c.via_services {
            edges.push(Edge {
                from: format!("svc:{s}"),
                to: format!("org:{}", c.id),
                label: labels.customers.clone(),
            });
        }
    }
    columns.push((labels.services.clone(), services));
    columns.push((labels.offerings.clone(), offerings));
    columns.push((labels.customers.clone(), customers));
    draw(columns, edges, labels)
}

/// What a service relies on: its CIs, then what they rely on, by distance.
pub fn dependencies_svg(service_name: &str, d: &Dependencies, labels: &Labels) -> String {
    let mut by_depth: Vec<Vec<Node>> = vec![vec![Node {
        key: "svc".into(),
        title: service_name.to_owned(),
        sub: labels.services.clone(),
        class: "node start",
        href: None,
    }]];
    let mut edges = Vec::new();
    for r in &d.cis {
        let col = r.depth as usize + 1;
        while by_depth.len() <= col {
            by_depth.push(Vec::new());
        }
        by_depth[col].push(ci_node(r, false));
        match &r.via {
            Some(step) => edges.push(Edge {
                from: format!("ci:{}", step.from.id),
                to: format!("ci:{}", step.to.id),
                label: kind_label(labels, step.kind.code()),
            }),
            None => edges.push(Edge {
                from: "svc".into(),
                to: format!("ci:{}", r.ci.id),
                label: labels.title.clone(),
            }),
        }
    }
    let columns = by_depth
        .into_iter()
        .enumerate()
        .map(|(c, nodes)| {
            (
                if c == 0 {
                    labels.title.clone()
                } else {
                    labels.step(c - 1)
                },
                nodes,
            )
        })
        .collect();
    draw(columns, edges, labels)
}

/// The labels of a graph in the language of `tr`.
pub fn labels(tr: crate::i18n::Tr<'_>, title: String) -> Labels {
    let kinds = sigap_domain::cmdb::RelKind::ALL
        .iter()
        .map(|k| (k.code(), tr.get(&format!("rel-{}", k.code()))))
        .collect();
    Labels {
        title,
        services: tr.get("graph-services"),
        offerings: tr.get("graph-offerings"),
        customers: tr.get("graph-customers"),
        more: tr.arg("graph-more", "n", "{n}"),
        kinds,
        steps: (0..64i64).map(|d| tr.num("graph-step", "n", d)).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_clipped() {
        assert_eq!(
            esc("<a href='x'>&\"</a>\u{7}"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
        assert_eq!(clip("abcdef", 4), "abc…");
        assert_eq!(clip("abc", 4), "abc");
    }
}
