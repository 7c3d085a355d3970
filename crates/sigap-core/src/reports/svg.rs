//! A chart (`chart::Figure`) drawn as SVG for a page: the figure's title first, for screen
//! readers; each mark that stands for a line a link with its key and value.

use super::chart::{Anchor, Figure, INK, Shape};
use std::fmt::Write;

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

impl Figure {
    /// The figure as an SVG element for a page (its title first, for screen readers). A
    /// group, not an image: its marks are links each reader can reach.
    pub fn svg(&self) -> String {
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart report-chart\" role=\"group\" \
             aria-label=\"{title}\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" \
             font-family=\"sans-serif\"><title>{title}</title>",
            w = self.width.round(),
            h = self.height.round(),
            title = esc(&self.title)
        );
        for shape in &self.shapes {
            draw(&mut s, shape);
        }
        s.push_str("</svg>");
        s
    }
}

fn linked(s: &mut String, href: &Option<String>, title: &str, body: &str) {
    match href {
        Some(h) => {
            let _ = write!(
                s,
                "<a href=\"{}\"><title>{}</title>{body}</a>",
                esc(h),
                esc(title)
            );
        }
        None => {
            let _ = write!(s, "<g><title>{}</title>{body}</g>", esc(title));
        }
    }
}

fn draw(s: &mut String, shape: &Shape) {
    match shape {
        Shape::Rect {
            x,
            y,
            w,
            h,
            fill,
            title,
            href,
        } => {
            let body = format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{}\"/>",
                esc(fill)
            );
            match title {
                Some(t) => linked(s, href, t, &body),
                None => s.push_str(&body),
            }
        }
        Shape::Line {
            x1,
            y1,
            x2,
            y2,
            stroke,
            dashed,
        } => {
            let _ = write!(
                s,
                "<line x1=\"{x1:.1}\" y1=\"{y1:.1}\" x2=\"{x2:.1}\" y2=\"{y2:.1}\" stroke=\"{stroke}\"{}/>",
                if *dashed {
                    " stroke-dasharray=\"6 4\" stroke-width=\"2\""
                } else {
                    ""
                }
            );
        }
        Shape::Poly {
            points,
            stroke,
            fill,
        } => {
            let pts: Vec<String> = points
                .iter()
                .map(|(x, y)| format!("{x:.1},{y:.1}"))
                .collect();
            match fill {
                Some(f) => {
                    let _ = write!(
                        s,
                        "<polygon points=\"{}\" fill=\"{}\" fill-opacity=\"0.75\" stroke=\"{}\"/>",
                        pts.join(" "),
                        esc(f),
                        esc(stroke)
                    );
                }
                None => {
                    let _ = write!(
                        s,
                        "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>",
                        pts.join(" "),
                        esc(stroke)
                    );
                }
            }
        }
        Shape::Dot {
            x,
            y,
            fill,
            title,
            href,
        } => {
            let body = format!(
                "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"{}\"/>",
                esc(fill)
            );
            linked(s, href, title, &body);
        }
        Shape::Text {
            x,
            y,
            text,
            anchor,
            size,
            slanted,
        } => {
            let anchor = match anchor {
                Anchor::Start => "start",
                Anchor::Middle => "middle",
                Anchor::End => "end",
            };
            let turn = if *slanted {
                format!(" transform=\"rotate(-45 {x:.1} {y:.1})\"")
            } else {
                String::new()
            };
            let _ = write!(
                s,
                "<text x=\"{x:.1}\" y=\"{y:.1}\" text-anchor=\"{anchor}\" font-size=\"{size}\" fill=\"{INK}\"{turn}>{}</text>",
                esc(text)
            );
        }
        Shape::Slice {
            cx,
            cy,
            r,
            inner,
            a0,
            a1,
            fill,
            title,
            href,
        } => {
            let body = slice_path(*cx, *cy, *r, *inner, *a0, *a1, fill);
            linked(s, href, title, &body);
        }
    }
}

fn slice_path(cx: f64, cy: f64, r: f64, inner: f64, a0: f64, a1: f64, fill: &str) -> String {
    let at = |radius: f64, a: f64| (cx + radius * a.sin(), cy - radius * a.cos());
    // A whole circle is two halves (an arc cannot end where it starts).
    if a1 - a0 >= std::f64::consts::TAU - 1e-9 {
        let inner_ring = if inner > 0.0 {
            format!("<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{inner:.1}\" fill=\"#ffffff\"/>")
        } else {
            String::new()
        };
        return format!(
            "<circle cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{r:.1}\" fill=\"{}\"/>{inner_ring}",
            esc(fill)
        );
    }
    let large = u8::from(a1 - a0 > std::f64::consts::PI);
    let (x0, y0) = at(r, a0);
    let (x1, y1) = at(r, a1);
    let d = if inner > 0.0 {
        let (ix1, iy1) = at(inner, a1);
        let (ix0, iy0) = at(inner, a0);
        format!(
            "M{x0:.2},{y0:.2} A{r:.2},{r:.2} 0 {large} 1 {x1:.2},{y1:.2} L{ix1:.2},{iy1:.2} \
             A{inner:.2},{inner:.2} 0 {large} 0 {ix0:.2},{iy0:.2} Z"
        )
    } else {
        format!("M{cx:.2},{cy:.2} L{x0:.2},{y0:.2} A{r:.2},{r:.2} 0 {large} 1 {x1:.2},{y1:.2} Z")
    };
    format!(
        "<path d=\"{d}\" fill=\"{}\" stroke=\"#ffffff\"/>",
        esc(fill)
    )
}
