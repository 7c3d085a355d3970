//! A report as a PDF: its title and period, its chart (the shapes the pages draw as SVG),
//! then its table, on A4 landscape pages in Helvetica (one of the fonts every PDF reader
//! has, so nothing is embedded; text outside its Latin alphabet is shown as `?`).

use super::chart::{Anchor, Figure, Shape};
use super::table::Table;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str};

const PAGE_W: f32 = 842.0;
const PAGE_H: f32 = 595.0;
const MARGIN: f32 = 40.0;
const ROW_H: f32 = 16.0;

/// Text as Windows-1252 bytes (what Helvetica's WinAnsiEncoding shows).
fn ansi(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\u{20}'..='\u{7e}' | '\u{a0}'..='\u{ff}' => out.push(c as u8),
            '—' => out.push(0x97),
            '–' => out.push(0x96),
            '…' => out.push(0x85),
            '‘' => out.push(0x91),
            '’' => out.push(0x92),
            '“' => out.push(0x93),
            '”' => out.push(0x94),
            '•' => out.push(0x95),
            '€' => out.push(0x80),
            '⟶' | '→' => out.extend_from_slice(b"->"),
            '▲' => out.push(b'+'),
            '▼' => out.push(b'-'),
            c if c.is_whitespace() => out.push(b' '),
            _ => out.push(b'?'),
        }
    }
    out
}

/// The width of Helvetica text, roughly (half the size per character): enough to centre
/// and right-align labels.
fn width(text: &str, size: f32) -> f32 {
    text.chars().count() as f32 * size * 0.5
}

fn rgb(hex: &str) -> (f32, f32, f32) {
    let h = hex.trim_start_matches('#');
    let part = |i: usize| {
        h.get(i..i + 2)
            .and_then(|p| u8::from_str_radix(p, 16).ok())
            .map_or(0.0, |v| f32::from(v) / 255.0)
    };
    (part(0), part(2), part(4))
}

/// Writes text at (x, y) in page coordinates (from the bottom left).
fn text(c: &mut Content, x: f32, y: f32, size: f32, s: &str, anchor: Anchor, turned: bool) {
    let w = width(s, size);
    let x = match anchor {
        Anchor::Start => x,
        Anchor::Middle => x - w / 2.0,
        Anchor::End if turned => x,
        Anchor::End => x - w,
    };
    c.set_fill_rgb(0.1, 0.1, 0.1);
    c.begin_text();
    c.set_font(Name(b"F1"), size);
    if turned {
        // Up at 45°, ending at the point (as the SVG's end-anchored, turned labels).
        let (cos, sin) = (
            std::f32::consts::FRAC_1_SQRT_2,
            std::f32::consts::FRAC_1_SQRT_2,
        );
        c.set_text_matrix([cos, sin, -sin, cos, x - w * cos, y - w * sin]);
    } else {
        c.set_text_matrix([1.0, 0.0, 0.0, 1.0, x, y]);
    }
    c.show(Str(&ansi(s)));
    c.end_text();
}

/// Draws a figure with its top left at (left, top) in page coordinates, `scale` of its size.
fn draw(c: &mut Content, f: &Figure, left: f32, top: f32, scale: f32) {
    let x = |v: f64| left + v as f32 * scale;
    let y = |v: f64| top - v as f32 * scale;
    for s in &f.shapes {
        match s {
            Shape::Rect {
                x: rx,
                y: ry,
                w,
                h,
                fill,
                ..
            } => {
                let (r, g, b) = rgb(fill);
                c.set_fill_rgb(r, g, b);
                c.rect(x(*rx), y(ry + h), *w as f32 * scale, *h as f32 * scale);
                c.fill_nonzero();
            }
            Shape::Line {
                x1,
                y1,
                x2,
                y2,
                stroke,
                dashed,
            } => {
                let (r, g, b) = rgb(stroke);
                c.set_stroke_rgb(r, g, b);
                c.set_line_width(if *dashed { 1.5 } else { 0.5 });
                if *dashed {
                    c.set_dash_pattern([4.0, 3.0], 0.0);
                }
                c.move_to(x(*x1), y(*y1));
                c.line_to(x(*x2), y(*y2));
                c.stroke();
                if *dashed {
                    c.set_dash_pattern([], 0.0);
                }
            }
            Shape::Poly {
                points,
                stroke,
                fill,
            } => {
                let Some((first, rest)) = points.split_first() else {
                    continue;
                };
                c.move_to(x(first.0), y(first.1));
                for p in rest {
                    c.line_to(x(p.0), y(p.1));
                }
                match fill {
                    Some(f) => {
                        let (r, g, b) = rgb(f);
                        c.set_fill_rgb(r, g, b);
                        c.close_path();
                        c.fill_nonzero();
                    }
                    None => {
                        let (r, g, b) = rgb(stroke);
                        c.set_stroke_rgb(r, g, b);
                        c.set_line_width(1.5);
                        c.stroke();
                    }
                }
            }
            Shape::Dot {
                x: dx, y: dy, fill, ..
            } => {
                let (r, g, b) = rgb(fill);
                c.set_fill_rgb(r, g, b);
                c.rect(x(*dx) - 2.0, y(*dy) - 2.0, 4.0, 4.0);
                c.fill_nonzero();
            }
            Shape::Text {
                x: tx,
                y: ty,
                text: t,
                anchor,
                size,
                slanted,
            } => {
                text(
                    c,
                    x(*tx),
                    y(*ty),
                    *size as f32 * scale,
                    t,
                    *anchor,
                    *slanted,
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
                ..
            } => {
                // The arc as short straight steps.
                let steps = (((a1 - a0) / 0.05).ceil() as usize).max(2);
                let at = |radius: f64, a: f64| (x(cx + radius * a.sin()), y(cy - radius * a.cos()));
                let (rr, g, b) = rgb(fill);
                c.set_fill_rgb(rr, g, b);
                let start = at(*inner, *a0);
                c.move_to(start.0, start.1);
                for i in 0..=steps {
                    let a = a0 + (a1 - a0) * i as f64 / steps as f64;
                    let p = at(*r, a);
                    c.line_to(p.0, p.1);
                }
                if *inner > 0.0 {
                    for i in (0..=steps).rev() {
                        let a = a0 + (a1 - a0) * i as f64 / steps as f64;
                        let p = at(*inner, a);
                        c.line_to(p.0, p.1);
                    }
                }
                c.close_path();
                c.fill_nonzero();
            }
        }
    }
}

/// The report as a PDF: the title, a line under it (the period), the chart if there is one,
/// and the table, continued on as many pages as it needs.
pub fn pdf(t: &Table, subtitle: &str, figure: Option<&Figure>) -> Vec<u8> {
    let mut pages: Vec<Content> = Vec::new();
    let mut c = Content::new();
    text(
        &mut c,
        MARGIN,
        PAGE_H - MARGIN,
        16.0,
        &t.title,
        Anchor::Start,
        false,
    );
    text(
        &mut c,
        MARGIN,
        PAGE_H - MARGIN - 18.0,
        10.0,
        subtitle,
        Anchor::Start,
        false,
    );
    let mut top = PAGE_H - MARGIN - 34.0;
    if let Some(f) = figure {
        let scale = ((PAGE_W - 2.0 * MARGIN) / f.width as f32)
            .min((top - MARGIN) / f.height as f32)
            .min(1.0);
        draw(&mut c, f, MARGIN, top, scale);
        pages.push(std::mem::replace(&mut c, Content::new()));
        top = PAGE_H - MARGIN;
    }
    let cols = t.headers.len().max(1);
    let col_w = (PAGE_W - 2.0 * MARGIN) / cols as f32;
    let clip = |s: &str| -> String {
        let max = (col_w / 5.0) as usize;
        if s.chars().count() > max {
            let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
            out.push('…');
            out
        } else {
            s.to_owned()
        }
    };
    let header = |c: &mut Content, top: f32| {
        for (i, h) in t.headers.iter().enumerate() {
            text(
                c,
                MARGIN + col_w * i as f32,
                top,
                10.0,
                &clip(h),
                Anchor::Start,
                false,
            );
        }
        c.set_stroke_rgb(0.5, 0.5, 0.5);
        c.set_line_width(0.5);
        c.move_to(MARGIN, top - 4.0);
        c.line_to(PAGE_W - MARGIN, top - 4.0);
        c.stroke();
        top - ROW_H
    };
    let mut y = header(&mut c, top);
    for r in &t.rows {
        if y < MARGIN {
            pages.push(std::mem::replace(&mut c, Content::new()));
            y = header(&mut c, PAGE_H - MARGIN);
        }
        let mut cells: Vec<String> = r.keys.clone();
        cells.push(r.count.to_string());
        if t.measured {
            cells.push(
                r.value
                    .map(super::chart::number)
                    .unwrap_or_else(|| "—".into()),
            );
        }
        for (i, cell) in cells.iter().enumerate() {
            text(
                &mut c,
                MARGIN + col_w * i as f32,
                y,
                10.0,
                &clip(cell),
                Anchor::Start,
                false,
            );
        }
        y -= ROW_H;
    }
    pages.push(c);

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let font = Ref::new(3);
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(4 + 2 * i as i32))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);
    pdf.type1_font(font)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    for (i, content) in pages.into_iter().enumerate() {
        let id = page_ids[i];
        let stream = Ref::new(id.get() + 1);
        let mut page = pdf.page(id);
        page.media_box(Rect::new(0.0, 0.0, PAGE_W, PAGE_H));
        page.parent(tree);
        page.contents(stream);
        page.resources().fonts().pair(Name(b"F1"), font);
        page.finish();
        pdf.stream(stream, &content.finish());
    }
    pdf.finish()
}
