//! A report's numbers as a table for people — the words of its columns and keys in the
//! reader's language, durations in hours — and that table as a CSV or an XLSX file (with
//! the chart in the workbook where one fits).

use super::Line;
use super::saved::ReportData;
use crate::error::{AppError, AppResult};
use rust_xlsxwriter::{Chart, ChartType, Format, Workbook};
use sigap_domain::report::{Aggregate, Display, GroupBy, Source, TaskNumber};
use sigap_domain::task::TaskKind;

/// The words a table is written in, from the reader's language.
pub trait Words {
    /// A grouping's column: "Priority", "Opened (week)".
    fn group(&self, g: GroupBy) -> String;
    /// A key of a grouping as a person reads it: a state's or a priority's name, a group's
    /// name, a bucket; `none` when the tasks have no value.
    fn key(&self, source: Source, g: GroupBy, key: Option<&str>, name: Option<&str>) -> String;
    /// The count's column.
    fn count(&self) -> String;
    /// The measure's column: "Median of time to resolve (hours)".
    fn measure(&self, m: Aggregate, of: TaskNumber) -> String;
}

/// A report's words from loaded texts (with `i18n::REPORTS`) in one language.
pub struct I18nWords<'a> {
    pub i18n: &'a crate::i18n::I18n,
    pub locale: sigap_domain::Locale,
}

/// The start of a source's state messages (`incident-state-new`).
fn state_prefix(source: Source) -> &'static str {
    let Some(kind) = source.task_kind() else {
        return match source {
            Source::SlaClock => "report-sla_clock",
            Source::Ci => "report-ci",
            Source::Alert => "report-alert",
            _ => "report-approval",
        };
    };
    match kind {
        TaskKind::Incident => "incident",
        TaskKind::Problem | TaskKind::ProblemTask => "problem",
        TaskKind::Change => "change",
        TaskKind::ChangeTask | TaskKind::FulfilmentTask => "task",
        TaskKind::Request => "request",
        TaskKind::RequestItem => "requested_item",
        TaskKind::Article => "article",
    }
}

/// The message of a record's state: `incident-state-new`, `report-sla_clock-state-breached`.
pub fn state_id(source: Source, code: &str) -> String {
    format!("{}-state-{code}", state_prefix(source))
}

/// A grouping's message id: `report-group-opened_at-week`.
pub fn group_id(g: GroupBy) -> String {
    format!("report-group-{}", g.code().replace(':', "-"))
}

impl Words for I18nWords<'_> {
    fn group(&self, g: GroupBy) -> String {
        self.i18n.text(self.locale, &group_id(g), None)
    }

    fn key(&self, source: Source, g: GroupBy, key: Option<&str>, name: Option<&str>) -> String {
        let Some(key) = key else {
            return self.i18n.text(self.locale, "report-none", None);
        };
        if let Some(name) = name {
            return name.to_owned();
        }
        let id = match g {
            GroupBy::State => state_id(source, key),
            GroupBy::Priority => format!("priority-{key}"),
            GroupBy::Impact | GroupBy::Urgency => format!("report-level-{key}"),
            GroupBy::ContactType => format!("contact-{key}"),
            GroupBy::Metric => format!("report-metric-{key}"),
            GroupBy::Severity => format!("report-severity-{key}"),
            GroupBy::Kind => format!("report-kind-{key}"),
            _ => return key.to_owned(),
        };
        match self.i18n.has(self.locale, &id) {
            true => self.i18n.text(self.locale, &id, None),
            false => key.to_owned(),
        }
    }

    fn count(&self) -> String {
        self.i18n.text(self.locale, "report-count", None)
    }

    fn measure(&self, m: Aggregate, of: TaskNumber) -> String {
        let what = self
            .i18n
            .text(self.locale, &format!("report-of-{}", of.code()), None);
        let mut args = fluent_bundle::FluentArgs::new();
        args.set("what", what);
        self.i18n.text(
            self.locale,
            &format!("report-measure-{}", m.code()),
            Some(&args),
        )
    }
}

/// One row: the keys' words, the count, and the measure (in hours for a duration).
#[derive(Debug, Clone, PartialEq)]
pub struct TableRow {
    pub keys: Vec<String>,
    /// The keys as the API gives them (for drilling in).
    pub raw: Vec<Option<String>>,
    pub count: i64,
    pub value: Option<f64>,
}

/// A report as a table.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub title: String,
    pub headers: Vec<String>,
    /// Whether the rows have a measure beside the count.
    pub measured: bool,
    pub rows: Vec<TableRow>,
}

/// The value a person reads: a duration in hours (to the hundredth), other numbers as they
/// are.
pub fn shown(value: Option<f64>, of: Option<TaskNumber>) -> Option<f64> {
    let v = value?;
    Some(match of {
        Some(n) if n.is_duration() => (v / 36.0).round() / 100.0,
        _ => (v * 100.0).round() / 100.0,
    })
}

/// The table of a report's lines.
pub fn table(title: &str, d: &ReportData, words: &dyn Words) -> Table {
    lines_table(title, &d.report.definition, &d.lines, words)
}

/// The table of lines of a definition.
pub fn lines_table(
    title: &str,
    def: &sigap_domain::report::Definition,
    lines: &[Line],
    words: &dyn Words,
) -> Table {
    let mut headers: Vec<String> = def.group_by.iter().map(|g| words.group(*g)).collect();
    headers.push(words.count());
    let measured = def.measure != Aggregate::Count && def.of.is_some();
    if let (true, Some(of)) = (measured, def.of) {
        headers.push(words.measure(def.measure, of));
    }
    let rows = lines
        .iter()
        .map(|l| TableRow {
            keys: def
                .group_by
                .iter()
                .zip(&l.keys)
                .map(|(g, k)| words.key(def.source, *g, k.key.as_deref(), k.name.as_deref()))
                .collect(),
            raw: l.keys.iter().map(|k| k.key.clone()).collect(),
            count: l.count,
            value: if measured {
                shown(l.value, def.of)
            } else {
                None
            },
        })
        .collect();
    Table {
        title: title.to_owned(),
        headers,
        measured,
        rows,
    }
}

/// The table as CSV (UTF-8, a header line, one line per row; a cell a spreadsheet would
/// run as a formula kept as text, as every export does).
pub fn csv(t: &Table) -> AppResult<Vec<u8>> {
    let rows: Vec<Vec<String>> = t
        .rows
        .iter()
        .map(|r| {
            let mut line = r.keys.clone();
            line.push(r.count.to_string());
            if t.measured {
                line.push(r.value.map(|v| v.to_string()).unwrap_or_default());
            }
            line
        })
        .collect();
    Ok(crate::export::encode(Some(&t.headers), &rows))
}

/// The most characters of an Excel sheet's name.
const SHEET_NAME: usize = 31;

/// The table as an XLSX workbook: the rows on the first sheet from its first line (the
/// header), and for a chart of one grouping the chart beside them.
pub fn xlsx(t: &Table, display: Display) -> AppResult<Vec<u8>> {
    let fail = |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("writing an XLSX: {e}"));
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let sheet = book.add_worksheet();
    // Excel refuses some characters in a sheet's name; the title is in the file's name.
    let name: String = t
        .title
        .chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\'))
        .take(SHEET_NAME)
        .collect::<String>()
        .trim_matches('\'')
        .trim()
        .to_owned();
    if !name.is_empty() {
        sheet.set_name(&name).map_err(fail)?;
    }
    for (c, h) in t.headers.iter().enumerate() {
        sheet
            .write_string_with_format(0, col(c)?, h, &bold)
            .map_err(fail)?;
    }
    for (i, r) in t.rows.iter().enumerate() {
        let row = u32::try_from(i + 1).map_err(|_| AppError::Internal("too many rows".into()))?;
        for (c, k) in r.keys.iter().enumerate() {
            sheet.write_string(row, col(c)?, k).map_err(fail)?;
        }
        let at = r.keys.len();
        sheet
            .write_number(row, col(at)?, r.count as f64)
            .map_err(fail)?;
        if let (true, Some(v)) = (t.measured, r.value) {
            sheet.write_number(row, col(at + 1)?, v).map_err(fail)?;
        }
    }
    sheet.set_column_width(0, 24).map_err(fail)?;
    let groups = t.headers.len() - 1 - usize::from(t.measured);
    let kind = match display {
        Display::Bar | Display::StackedBar => Some(ChartType::Column),
        Display::Line => Some(ChartType::Line),
        Display::Area => Some(ChartType::Area),
        Display::Pie => Some(ChartType::Pie),
        Display::Donut => Some(ChartType::Doughnut),
        _ => None,
    };
    if let (Some(kind), 1, false) = (kind, groups, t.rows.is_empty()) {
        let last =
            u32::try_from(t.rows.len()).map_err(|_| AppError::Internal("too many rows".into()))?;
        let value_col = col(if t.measured { 2 } else { 1 })?;
        let sheet_name = sheet.name();
        let mut chart = Chart::new(kind);
        chart
            .add_series()
            .set_categories((sheet_name.as_str(), 1, 0, last, 0))
            .set_values((sheet_name.as_str(), 1, value_col, last, value_col))
            .set_name(
                t.headers
                    .get(usize::from(value_col))
                    .map_or("", String::as_str),
            );
        chart.title().set_name(&t.title);
        sheet.insert_chart(1, value_col + 2, &chart).map_err(fail)?;
    }
    book.save_to_buffer().map_err(fail)
}

fn col(c: usize) -> AppResult<u16> {
    u16::try_from(c).map_err(|_| AppError::Internal("too many columns".into()))
}

/// A report's file: its bytes, content type and name (`sigap-<name>.<ext>`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
    pub filename: String,
}

/// The file name of a report: `sigap-` and its name in lower case, letters and digits.
pub fn filename(name: &str, ext: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase();
    format!("sigap-{stem}.{ext}")
}

/// A report as a file for people: `csv`, `xlsx` (its chart in the workbook where one fits)
/// or `pdf` (its chart and table), in the words given; none for another format.
pub fn file(
    title: &str,
    d: &ReportData,
    words: &dyn Words,
    format: &str,
) -> AppResult<Option<File>> {
    let t = table(title, d, words);
    let display = d.report.definition.display;
    Ok(Some(match format {
        "csv" => File {
            bytes: csv(&t)?,
            content_type: "text/csv; charset=utf-8",
            filename: filename(title, "csv"),
        },
        "xlsx" => File {
            bytes: xlsx(&t, display)?,
            content_type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            filename: filename(title, "xlsx"),
        },
        "pdf" => {
            let none = |_: &[Option<String>]| None;
            let figure = super::chart::figure(&super::chart::ChartInput {
                table: &t,
                display,
                href: &none,
                target: d.report.definition.target,
                previous: None,
                width: super::chart::PAGE_WIDTH,
            });
            let subtitle = format!("{} – {} ({})", d.from, d.to, d.time_zone);
            File {
                bytes: super::pdf::pdf(&t, &subtitle, figure.as_ref()),
                content_type: "application/pdf",
                filename: filename(title, "pdf"),
            }
        }
        _ => return Ok(None),
    }))
}
