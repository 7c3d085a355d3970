//! Charts of a report, laid out once as shapes; drawn as SVG by `svg` (the pages) and into
//! a PDF by `pdf`.
//! Bars, stacked bars, lines and areas over time, pies and donuts, a score with its trend,
//! and a heat map. Every mark that stands for a line of the report links to the tasks
//! behind it and says its key and value in its title; the page puts the table beside the
//! chart for screen readers.

use super::table::Table;
use sigap_domain::report::Display;

/// Colours of the series, told apart also by their order in the legend; dark enough for
/// white text and light enough beside black.
pub const PALETTE: [&str; 8] = [
    "#1f5fa8", "#c2571a", "#2e7d32", "#8e3b8f", "#b58900", "#00796b", "#c62839", "#5d4037",
];
pub(crate) const INK: &str = "#1b1b1b";
const GRID: &str = "#c8c8c8";
const TARGET: &str = "#c62839";

/// Where a text is anchored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    Start,
    Middle,
    End,
}

/// One mark of a figure.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        fill: String,
        title: Option<String>,
        href: Option<String>,
    },
    Line {
        x1: f64,
        y1: f64,
        x2: f64,
        y2: f64,
        stroke: &'static str,
        dashed: bool,
    },
    /// A polyline, or a polygon where `fill` is given.
    Poly {
        points: Vec<(f64, f64)>,
        stroke: String,
        fill: Option<String>,
    },
    /// A dot of a line chart, a link to the tasks behind it.
    Dot {
        x: f64,
        y: f64,
        fill: String,
        title: String,
        href: Option<String>,
    },
    Text {
        x: f64,
        y: f64,
        text: String,
        anchor: Anchor,
        size: f64,
        /// Turned 45° up (the labels of many bars).
        slanted: bool,
    },
    /// A slice of a pie (`inner` 0) or a donut, from angle `a0` to `a1` (radians, from
    /// twelve o'clock, clockwise).
    Slice {
        cx: f64,
        cy: f64,
        r: f64,
        inner: f64,
        a0: f64,
        a1: f64,
        fill: String,
        title: String,
        href: Option<String>,
    },
}

/// A chart laid out: its size, its title (what a screen reader says of it) and its marks.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub width: f64,
    pub height: f64,
    pub title: String,
    pub shapes: Vec<Shape>,
}

/// What a chart needs beside the table: how it is shown, the link to the tasks behind a
/// line (from its raw keys), a target line, and a score's value the period before.
pub struct ChartInput<'a> {
    pub table: &'a Table,
    pub display: Display,
    pub href: &'a dyn Fn(&[Option<String>]) -> Option<String>,
    pub target: Option<f64>,
    /// A score's value in the period before, and the words "previous period".
    pub previous: Option<(Option<f64>, String)>,
    /// How wide the chart is drawn (`PAGE_WIDTH`, `TILE_WIDTH`).
    pub width: f64,
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut t: String = text.chars().take(max.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// A number as a chart's axis or title shows it.
pub fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.2}")
    }
}

/// The value a row plots: its measure, or its count.
fn plotted(t: &Table, r: &super::table::TableRow) -> f64 {
    if t.measured {
        r.value.unwrap_or(0.0)
    } else {
        r.count as f64
    }
}

/// A "nice" top of an axis at or above `max`, and its step.
fn axis(max: f64) -> (f64, f64) {
    if max <= 0.0 || !max.is_finite() {
        return (1.0, 0.25);
    }
    let raw = max / 4.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    ((max / step).ceil() * step, step)
}

/// The distinct keys of one grouping, in the order of the rows (which are in key order).
fn keys_of(t: &Table, at: usize) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    for r in &t.rows {
        if let (Some(word), Some(raw)) = (r.keys.get(at), r.raw.get(at)) {
            if !out.iter().any(|(_, k)| k == raw) {
                out.push((word.clone(), raw.clone()));
            }
        }
    }
    out
}

/// The width of a chart on a report's page.
pub const PAGE_WIDTH: f64 = 720.0;
/// The width of a chart on a dashboard's tile.
pub const TILE_WIDTH: f64 = 420.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;

/// Lays out the chart of a report, or none for a table or a pivot (and a chart of nothing).
pub fn figure(c: &ChartInput<'_>) -> Option<Figure> {
    let t = c.table;
    match c.display {
        Display::Table | Display::Pivot | Display::List => None,
        Display::Score => Some(score(c)),
        _ if t.rows.is_empty() => None,
        Display::Bar | Display::StackedBar => Some(bars(c)),
        Display::Line | Display::Area => Some(lines(c)),
        Display::Pie | Display::Donut => Some(pie(c)),
        Display::HeatMap => Some(heat(c)),
    }
}

/// The vertical axis from 0 to `top` over `[y0, y1]` (y1 at the bottom), with its grid.
fn value_axis(shapes: &mut Vec<Shape>, top: f64, step: f64, y0: f64, y1: f64, x1: f64) {
    let mut v = 0.0;
    while v <= top + step / 2.0 {
        let y = y1 - (v / top) * (y1 - y0);
        shapes.push(Shape::Line {
            x1: LEFT,
            y1: y,
            x2: x1,
            y2: y,
            stroke: GRID,
            dashed: false,
        });
        shapes.push(Shape::Text {
            x: LEFT - 6.0,
            y: y + 4.0,
            text: number(v),
            anchor: Anchor::End,
            size: 11.0,
            slanted: false,
        });
        v += step;
    }
}

fn target_line(shapes: &mut Vec<Shape>, target: Option<f64>, top: f64, y0: f64, y1: f64, x1: f64) {
    if let Some(goal) = target.filter(|g| *g >= 0.0 && *g <= top) {
        let y = y1 - (goal / top) * (y1 - y0);
        shapes.push(Shape::Line {
            x1: LEFT,
            y1: y,
            x2: x1,
            y2: y,
            stroke: TARGET,
            dashed: true,
        });
        shapes.push(Shape::Text {
            x: x1,
            y: y - 4.0,
            text: format!("⟶ {}", number(goal)),
            anchor: Anchor::End,
            size: 11.0,
            slanted: false,
        });
    }
}

/// Category labels under the plot, slanted when there are many.
fn category_labels(
    shapes: &mut Vec<Shape>,
    cats: &[(String, Option<String>)],
    x: &dyn Fn(usize) -> f64,
    y: f64,
    right: f64,
) {
    let slanted = cats.len() > 8;
    let every = cats.len().div_ceil(40).max(1);
    for (i, (word, _)) in cats.iter().enumerate() {
        if i % every != 0 {
            continue;
        }
        // A level label that would run past the plot's right edge ends at it instead.
        let text = clip(word, if slanted { 16 } else { 14 });
        let half = text.chars().count() as f64 * 3.2;
        let (at, anchor) = match slanted {
            true => (x(i), Anchor::End),
            false if x(i) + half > right => (right, Anchor::End),
            false => (x(i), Anchor::Middle),
        };
        shapes.push(Shape::Text {
            x: at,
            y: y + 14.0,
            text,
            anchor,
            size: 11.0,
            slanted,
        });
    }
}

/// Legend entries from `y`, one line each: a swatch and the series' word.
fn legend(shapes: &mut Vec<Shape>, series: &[(String, Option<String>)], y: f64, w: f64) -> f64 {
    let mut x = LEFT;
    let mut y = y;
    for (i, (word, _)) in series.iter().enumerate() {
        let label = clip(word, 22);
        let width = 24.0 + label.chars().count() as f64 * 7.0;
        if x + width > w - RIGHT {
            x = LEFT;
            y += 18.0;
        }
        shapes.push(Shape::Rect {
            x,
            y: y - 10.0,
            w: 12.0,
            h: 12.0,
            fill: PALETTE[i % PALETTE.len()].to_owned(),
            title: None,
            href: None,
        });
        shapes.push(Shape::Text {
            x: x + 16.0,
            y,
            text: label,
            anchor: Anchor::Start,
            size: 12.0,
            slanted: false,
        });
        x += width + 12.0;
    }
    y + 10.0
}

fn tip(words: &[String], value: f64) -> String {
    format!("{}: {}", words.join(" · "), number(value))
}

fn bars(c: &ChartInput<'_>) -> Figure {
    let t = c.table;
    let cats = keys_of(t, 0);
    let stacked = t.rows.first().is_some_and(|r| r.keys.len() == 2);
    let series = if stacked { keys_of(t, 1) } else { Vec::new() };
    // Each category's total (stacked) or value.
    let mut totals = vec![0.0; cats.len()];
    for r in &t.rows {
        if let Some(i) = cats.iter().position(|(_, k)| Some(k) == r.raw.first()) {
            totals[i] += plotted(t, r);
        }
    }
    let max = totals
        .iter()
        .copied()
        .fold(c.target.unwrap_or(0.0), f64::max);
    let (top, step) = axis(max);
    let plot_h = 240.0;
    let (y0, y1) = (TOP, TOP + plot_h);
    let x1 = c.width - RIGHT;
    let slot = (x1 - LEFT) / cats.len().max(1) as f64;
    let bar = (slot * 0.7).clamp(1.0, 80.0);
    let mut shapes = Vec::new();
    value_axis(&mut shapes, top, step, y0, y1, x1);
    let mut base = vec![0.0; cats.len()];
    for r in &t.rows {
        let Some(i) = cats.iter().position(|(_, k)| Some(k) == r.raw.first()) else {
            continue;
        };
        let s = match stacked {
            true => series
                .iter()
                .position(|(_, k)| Some(k) == r.raw.get(1))
                .unwrap_or(0),
            false => 0,
        };
        let v = plotted(t, r);
        let h = v / top * plot_h;
        let y = y1 - (base[i] / top * plot_h) - h;
        base[i] += v;
        shapes.push(Shape::Rect {
            x: LEFT + slot * i as f64 + (slot - bar) / 2.0,
            y,
            w: bar,
            h,
            fill: PALETTE[s % PALETTE.len()].to_owned(),
            title: Some(tip(&r.keys, v)),
            href: (c.href)(&r.raw),
        });
    }
    target_line(&mut shapes, c.target, top, y0, y1, x1);
    let x = |i: usize| LEFT + slot * i as f64 + slot / 2.0;
    category_labels(&mut shapes, &cats, &x, y1, x1);
    let mut height = y1 + if cats.len() > 8 { 90.0 } else { 30.0 };
    if stacked {
        height = legend(&mut shapes, &series, height + 6.0, c.width) + 6.0;
    }
    Figure {
        width: c.width,
        height,
        title: c.table.title.clone(),
        shapes,
    }
}

fn lines(c: &ChartInput<'_>) -> Figure {
    let t = c.table;
    let cats = keys_of(t, 0);
    let two = t.rows.first().is_some_and(|r| r.keys.len() == 2);
    let series = if two {
        keys_of(t, 1)
    } else {
        vec![(String::new(), None)]
    };
    let mut values = vec![vec![0.0; cats.len()]; series.len()];
    let mut rows = vec![vec![None; cats.len()]; series.len()];
    for (n, r) in t.rows.iter().enumerate() {
        let Some(i) = cats.iter().position(|(_, k)| Some(k) == r.raw.first()) else {
            continue;
        };
        let s = match two {
            true => series
                .iter()
                .position(|(_, k)| Some(k) == r.raw.get(1))
                .unwrap_or(0),
            false => 0,
        };
        values[s][i] = plotted(t, r);
        rows[s][i] = Some(n);
    }
    let area = c.display == Display::Area;
    // Areas stack, one series over the one before.
    if area {
        for s in 1..values.len() {
            let below = values[s - 1].clone();
            for (v, b) in values[s].iter_mut().zip(below) {
                *v += b;
            }
        }
    }
    let max = values
        .iter()
        .flatten()
        .copied()
        .fold(c.target.unwrap_or(0.0), f64::max);
    let (top, step) = axis(max);
    let plot_h = 240.0;
    let (y0, y1) = (TOP, TOP + plot_h);
    let x1 = c.width - RIGHT;
    let span = (x1 - LEFT - 20.0) / (cats.len().max(2) - 1) as f64;
    let x = |i: usize| LEFT + 10.0 + span * i as f64;
    let y = |v: f64| y1 - v / top * plot_h;
    let mut shapes = Vec::new();
    value_axis(&mut shapes, top, step, y0, y1, x1);
    for (s, vals) in values.iter().enumerate().rev() {
        let colour = PALETTE[s % PALETTE.len()].to_owned();
        let points: Vec<(f64, f64)> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| (x(i), y(*v)))
            .collect();
        if area {
            let mut poly = points.clone();
            let below: Vec<(f64, f64)> = match s {
                0 => vec![(x(cats.len() - 1), y1), (x(0), y1)],
                _ => values[s - 1]
                    .iter()
                    .enumerate()
                    .rev()
                    .map(|(i, v)| (x(i), y(*v)))
                    .collect(),
            };
            poly.extend(below);
            shapes.push(Shape::Poly {
                points: poly,
                stroke: colour.clone(),
                fill: Some(colour.clone()),
            });
        } else {
            shapes.push(Shape::Poly {
                points: points.clone(),
                stroke: colour.clone(),
                fill: None,
            });
        }
        for (i, (px, py)) in points.iter().enumerate() {
            if let Some(n) = rows[s][i] {
                let r = &t.rows[n];
                shapes.push(Shape::Dot {
                    x: *px,
                    y: *py,
                    fill: colour.clone(),
                    title: tip(&r.keys, plotted(t, r)),
                    href: (c.href)(&r.raw),
                });
            }
        }
    }
    target_line(&mut shapes, c.target, top, y0, y1, x1);
    category_labels(&mut shapes, &cats, &x, y1, x1);
    let mut height = y1 + if cats.len() > 8 { 90.0 } else { 30.0 };
    if two {
        height = legend(&mut shapes, &series, height + 6.0, c.width) + 6.0;
    }
    Figure {
        width: c.width,
        height,
        title: t.title.clone(),
        shapes,
    }
}

fn pie(c: &ChartInput<'_>) -> Figure {
    let t = c.table;
    let total: f64 = t.rows.iter().map(|r| plotted(t, r).max(0.0)).sum();
    let (cx, cy, r) = (150.0, 150.0, 130.0);
    let inner = if c.display == Display::Donut {
        70.0
    } else {
        0.0
    };
    let mut shapes = Vec::new();
    let mut a = 0.0;
    let tau = std::f64::consts::TAU;
    for (i, row) in t.rows.iter().enumerate() {
        let v = plotted(t, row).max(0.0);
        let share = if total > 0.0 { v / total } else { 0.0 };
        let a1 = a + share * tau;
        shapes.push(Shape::Slice {
            cx,
            cy,
            r,
            inner,
            a0: a,
            a1,
            fill: PALETTE[i % PALETTE.len()].to_owned(),
            title: format!("{} ({:.0}%)", tip(&row.keys, v), share * 100.0),
            href: (c.href)(&row.raw),
        });
        a = a1;
    }
    if inner > 0.0 {
        shapes.push(Shape::Text {
            x: cx,
            y: cy + 8.0,
            text: number(total),
            anchor: Anchor::Middle,
            size: 22.0,
            slanted: false,
        });
    }
    // The legend, one line per slice, with its share.
    let mut y = 30.0;
    for (i, row) in t.rows.iter().enumerate().take(16) {
        let v = plotted(t, row).max(0.0);
        let share = if total > 0.0 { v / total * 100.0 } else { 0.0 };
        shapes.push(Shape::Rect {
            x: 320.0,
            y: y - 10.0,
            w: 12.0,
            h: 12.0,
            fill: PALETTE[i % PALETTE.len()].to_owned(),
            title: None,
            href: None,
        });
        shapes.push(Shape::Text {
            x: 338.0,
            y,
            text: format!(
                "{} — {} ({share:.0}%)",
                clip(&row.keys.join(" · "), 30),
                number(v)
            ),
            anchor: Anchor::Start,
            size: 12.0,
            slanted: false,
        });
        y += 18.0;
    }
    Figure {
        width: c.width,
        height: 300.0_f64.max(y + 10.0),
        title: t.title.clone(),
        shapes,
    }
}

fn score(c: &ChartInput<'_>) -> Figure {
    let t = c.table;
    let value = t.rows.first().map(|r| plotted(t, r));
    let mut shapes = vec![Shape::Text {
        x: 24.0,
        y: 64.0,
        text: value.map(number).unwrap_or_else(|| "—".into()),
        anchor: Anchor::Start,
        size: 48.0,
        slanted: false,
    }];
    if let Some((before, words)) = &c.previous {
        let trend = match (value, before) {
            (Some(now), Some(b)) if *b != 0.0 => {
                let change = (now - b) / b.abs() * 100.0;
                let arrow = if change > 0.0 {
                    "▲"
                } else if change < 0.0 {
                    "▼"
                } else {
                    "="
                };
                format!("{arrow} {change:+.1}% · {words}: {}", number(*b))
            }
            (_, Some(b)) => format!("{words}: {}", number(*b)),
            (_, None) => format!("{words}: —"),
        };
        shapes.push(Shape::Text {
            x: 24.0,
            y: 96.0,
            text: trend,
            anchor: Anchor::Start,
            size: 14.0,
            slanted: false,
        });
    }
    if let Some(goal) = c.target {
        shapes.push(Shape::Text {
            x: 24.0,
            y: 120.0,
            text: format!("⟶ {}", number(goal)),
            anchor: Anchor::Start,
            size: 14.0,
            slanted: false,
        });
    }
    Figure {
        width: 360.0,
        height: 136.0,
        title: t.title.clone(),
        shapes,
    }
}

fn heat(c: &ChartInput<'_>) -> Figure {
    let t = c.table;
    let rows = keys_of(t, 0);
    let cols = keys_of(t, 1);
    let max = t.rows.iter().map(|r| plotted(t, r)).fold(0.0, f64::max);
    let label_w = 150.0;
    let cell_w = ((c.width - RIGHT - label_w) / cols.len().max(1) as f64).clamp(8.0, 80.0);
    let cell_h = 22.0;
    let mut shapes = Vec::new();
    let head = 70.0;
    for (j, (word, _)) in cols.iter().enumerate() {
        shapes.push(Shape::Text {
            x: label_w + cell_w * j as f64 + cell_w / 2.0,
            y: head - 6.0,
            text: clip(word, 14),
            anchor: Anchor::Start,
            size: 11.0,
            slanted: true,
        });
    }
    for (i, (word, _)) in rows.iter().enumerate() {
        shapes.push(Shape::Text {
            x: label_w - 6.0,
            y: head + cell_h * i as f64 + 15.0,
            text: clip(word, 22),
            anchor: Anchor::End,
            size: 11.0,
            slanted: false,
        });
    }
    for r in &t.rows {
        let (Some(i), Some(j)) = (
            rows.iter().position(|(_, k)| Some(k) == r.raw.first()),
            cols.iter().position(|(_, k)| Some(k) == r.raw.get(1)),
        ) else {
            continue;
        };
        let v = plotted(t, r);
        let share = if max > 0.0 { v / max } else { 0.0 };
        // From a pale to the first colour of the palette.
        let mix = |light: u8, dark: u8| {
            (f64::from(light) + (f64::from(dark) - f64::from(light)) * share).round() as u8
        };
        shapes.push(Shape::Rect {
            x: label_w + cell_w * j as f64 + 1.0,
            y: head + cell_h * i as f64 + 1.0,
            w: cell_w - 2.0,
            h: cell_h - 2.0,
            fill: format!(
                "#{:02x}{:02x}{:02x}",
                mix(0xee, 0x1f),
                mix(0xf3, 0x5f),
                mix(0xfa, 0xa8)
            ),
            title: Some(tip(&r.keys, v)),
            href: (c.href)(&r.raw),
        });
    }
    Figure {
        width: c.width,
        height: head + cell_h * rows.len() as f64 + 10.0,
        title: t.title.clone(),
        shapes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::table::{Table, TableRow};

    fn table(rows: &[(&[&str], i64)]) -> Table {
        Table {
            title: "Incidents <by> week".into(),
            headers: vec![],
            measured: false,
            rows: rows
                .iter()
                .map(|(k, n)| TableRow {
                    keys: k.iter().map(|s| s.to_string()).collect(),
                    raw: k.iter().map(|s| Some(s.to_string())).collect(),
                    count: *n,
                    value: None,
                })
                .collect(),
        }
    }

    #[test]
    fn stacked_bars_stack_and_link_each_part() {
        let t = table(&[
            (&["2026-W01", "1"], 2),
            (&["2026-W01", "2"], 3),
            (&["2026-W02", "2"], 5),
        ]);
        let href = |k: &[Option<String>]| {
            Some(format!(
                "/x?{}",
                k.iter().flatten().cloned().collect::<Vec<_>>().join("&")
            ))
        };
        let f = figure(&ChartInput {
            table: &t,
            display: Display::StackedBar,
            href: &href,
            target: None,
            previous: None,
            width: PAGE_WIDTH,
        });
        let svg = f.map(|f| f.svg()).unwrap_or_default();
        assert!(svg.contains("<title>Incidents &lt;by&gt; week</title>"));
        assert_eq!(svg.matches("<a href=").count(), 3);
        assert!(svg.contains("/x?2026-W01&amp;2"));
        assert!(svg.contains("2026-W01 · 2: 3"));
        // The week of five reaches the top of its axis (5 of 5), the first week's parts
        // stack up to the same height.
        let heights: Vec<f64> = f_shapes(&t)
            .iter()
            .filter_map(|s| match s {
                Shape::Rect {
                    h, title: Some(_), ..
                } => Some(*h),
                _ => None,
            })
            .collect();
        assert_eq!(heights.len(), 3);
        assert!((heights[0] + heights[1] - heights[2]).abs() < 1e-9);
    }

    fn f_shapes(t: &Table) -> Vec<Shape> {
        let href = |_: &[Option<String>]| None;
        figure(&ChartInput {
            table: t,
            display: Display::StackedBar,
            href: &href,
            target: None,
            previous: None,
            width: PAGE_WIDTH,
        })
        .map(|f| f.shapes)
        .unwrap_or_default()
    }

    #[test]
    fn a_pie_of_one_slice_is_a_whole_circle_and_axes_are_round() {
        assert_eq!(axis(7.0), (8.0, 2.0));
        assert_eq!(axis(100.0), (100.0, 25.0));
        assert_eq!(axis(0.0), (1.0, 0.25));
        let t = table(&[(&["1"], 4)]);
        let href = |_: &[Option<String>]| None;
        let svg = figure(&ChartInput {
            table: &t,
            display: Display::Donut,
            href: &href,
            target: None,
            previous: None,
            width: PAGE_WIDTH,
        })
        .map(|f| f.svg())
        .unwrap_or_default();
        assert!(svg.contains("<circle cx=\"150.0\" cy=\"150.0\" r=\"130.0\""));
        assert!(!svg.contains("NaN"));
    }
}
