//! CSV import and export of configuration items and their relationships.
//!
//! An import checks every line first. When any line is wrong it imports nothing and reports
//! every wrong line with its reason; a dry run stops there in any case. Otherwise all lines
//! are applied in one transaction. Lines that match what is stored change nothing, so
//! importing the same file twice changes nothing the second time.
//!
//! CI files have the columns `class` and `name` (required), `status`, `owner_group`,
//! `location`, `serial` (optional), and one column per attribute code. An empty attribute
//! cell means "no value"; an attribute the CI's class does not define must stay empty.
//! Relationship files have `source_class`, `source`, `type`, `target_class`, `target`.

use crate::Core;
use crate::audit::{self, Actor};
use crate::cmdb::{attr_defs, ci_audit_map};
use crate::error::{AppError, AppResult};
use crate::export::CsvStream;
use crate::principal::Ctx;
use serde_json::{Map, Value};
use sigap_domain::cmdb::{CiStatus, RelKind, check_attributes};
use sigap_domain::{CiClassId, CiId, GroupId, RelId, parse_line};
use sigap_store::cmdb::{self as repo, Ci, CiClass, CiFields};
use sigap_store::{Tx, name_key};
use std::collections::{HashMap, HashSet};

/// The most lines one file may hold.
pub const MAX_LINES: usize = 200_000;

/// The columns every CI file may have; the others are attribute codes.
pub const CI_FIXED: &[&str] = &[
    "class",
    "name",
    "status",
    "owner_group",
    "location",
    "serial",
];
const REL_COLUMNS: &[&str] = &["source_class", "source", "type", "target_class", "target"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportKind {
    Cis,
    Relationships,
}

impl ImportKind {
    pub fn parse(text: &str) -> AppResult<Self> {
        match text.trim() {
            "cis" => Ok(ImportKind::Cis),
            "relationships" => Ok(ImportKind::Relationships),
            _ => Err(AppError::field(
                "kind",
                "invalid_choice",
                "must be one of: cis, relationships",
            )),
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            ImportKind::Cis => "cis",
            ImportKind::Relationships => "relationships",
        }
    }
}

/// Why one line was refused. Line 1 is the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub field: Option<String>,
    pub code: &'static str,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    pub kind: ImportKind,
    pub dry_run: bool,
    /// Whether the file was applied (not a dry run, and no line was wrong).
    pub applied: bool,
    pub lines: usize,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub errors: Vec<LineError>,
}

pub(crate) fn line_err(
    line: u64,
    field: Option<&str>,
    code: &'static str,
    message: impl Into<String>,
) -> LineError {
    LineError {
        line,
        field: field.map(str::to_owned),
        code,
        message: message.into(),
    }
}

/// The rows of a CSV file with the header's column names, or the file-level error.
#[derive(Clone)]
pub(crate) struct Sheet {
    pub(crate) header: Vec<String>,
    pub(crate) rows: Vec<(u64, Vec<String>)>,
}

pub(crate) fn read_sheet(bytes: &[u8], errors: &mut Vec<LineError>) -> Option<Sheet> {
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.strip_prefix('\u{feff}').unwrap_or(t),
        Err(e) => {
            errors.push(line_err(
                1,
                None,
                "invalid_utf8",
                format!("the file is not UTF-8 text (byte {})", e.valid_up_to()),
            ));
            return None;
        }
    };
    // In a well-formed file quotes come in pairs (a quote inside a field is doubled); an odd
    // one leaves a field open to the end of the file, which the reader would accept.
    let (mut open, mut line) = (None, 1u64);
    for b in text.bytes() {
        match b {
            b'"' => open = if open.is_some() { None } else { Some(line) },
            b'\n' => line += 1,
            _ => {}
        }
    }
    if let Some(at) = open {
        errors.push(line_err(
            at,
            None,
            "unbalanced_quotes",
            "a quoted field is not closed",
        ));
        return None;
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(text.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_lowercase()).collect(),
        Err(e) => {
            errors.push(line_err(1, None, "malformed_csv", e.to_string()));
            return None;
        }
    };
    if header.iter().all(String::is_empty) {
        errors.push(line_err(
            1,
            None,
            "empty_file",
            "the file has no header line",
        ));
        return None;
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        match record {
            Ok(r) => {
                let line = r.position().map_or(0, |p| p.line());
                if r.iter().all(|c| c.trim().is_empty()) {
                    continue;
                }
                if r.len() != header.len() {
                    errors.push(line_err(
                        line,
                        None,
                        "wrong_column_count",
                        format!("{} columns where the header has {}", r.len(), header.len()),
                    ));
                    continue;
                }
                rows.push((line, r.iter().map(str::to_owned).collect()));
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                errors.push(line_err(line, None, "malformed_csv", e.to_string()));
            }
        }
        if rows.len() > MAX_LINES {
            errors.push(line_err(
                0,
                None,
                "too_many_lines",
                format!("at most {MAX_LINES} lines per file"),
            ));
            return None;
        }
    }
    Some(Sheet { header, rows })
}

fn require_columns(sheet: &Sheet, required: &[&str], errors: &mut Vec<LineError>) -> bool {
    let mut ok = true;
    for col in required {
        if !sheet.header.iter().any(|h| h == col) {
            errors.push(line_err(
                1,
                Some(col),
                "missing_column",
                format!("the header has no column {col:?}"),
            ));
            ok = false;
        }
    }
    let mut seen = HashSet::new();
    for h in &sheet.header {
        if !seen.insert(h) {
            errors.push(line_err(
                1,
                Some(h),
                "duplicate_column",
                format!("column {h:?} appears twice"),
            ));
            ok = false;
        }
    }
    ok
}

/// One checked CI line: what it should become, and what it is now.
struct CiPlan {
    line: u64,
    fields: CiFields,
    existing: Option<Ci>,
}

/// One checked relationship line.
struct RelPlan {
    source: CiId,
    kind: RelKind,
    target: CiId,
    exists: bool,
}

enum Plan {
    Cis(Vec<CiPlan>),
    Rels(Vec<RelPlan>),
}

/// Caches of the lookups an import repeats.
#[derive(Default)]
struct Lookups {
    classes: HashMap<String, Option<CiClass>>,
    groups: HashMap<String, Option<GroupId>>,
    cis: HashMap<(CiClassId, String), Option<Ci>>,
}

impl Lookups {
    async fn class(&mut self, tx: &mut Tx<'_>, code: &str) -> AppResult<Option<CiClass>> {
        let key = code.trim().to_lowercase();
        if let Some(c) = self.classes.get(&key) {
            return Ok(c.clone());
        }
        let c = repo::class_by_code(tx, &key).await?;
        self.classes.insert(key, c.clone());
        Ok(c)
    }

    async fn group(&mut self, tx: &mut Tx<'_>, name: &str) -> AppResult<Option<GroupId>> {
        let key = name_key(name);
        if let Some(g) = self.groups.get(&key) {
            return Ok(*g);
        }
        let g = match crate::groups::resolve(tx, name).await {
            Ok(g) => Some(g.id),
            Err(sigap_store::StoreError::NotFound) => None,
            Err(e) => return Err(e.into()),
        };
        self.groups.insert(key, g);
        Ok(g)
    }

    async fn ci(&mut self, tx: &mut Tx<'_>, class: CiClassId, name: &str) -> AppResult<Option<Ci>> {
        let key = (class, name_key(name));
        if let Some(c) = self.cis.get(&key) {
            return Ok(c.clone());
        }
        let c = repo::find_ci(tx, class, name).await?;
        self.cis.insert(key, c.clone());
        Ok(c)
    }
}

async fn plan_cis(
    tx: &mut Tx<'_>,
    sheet: &Sheet,
    errors: &mut Vec<LineError>,
) -> AppResult<Vec<CiPlan>> {
    let col = |name: &str| sheet.header.iter().position(|h| h == name);
    let (Some(c_class), Some(c_name)) = (col("class"), col("name")) else {
        return Ok(Vec::new());
    };
    let (c_status, c_group, c_loc, c_serial) = (
        col("status"),
        col("owner_group"),
        col("location"),
        col("serial"),
    );
    let attr_cols: Vec<(usize, &String)> = sheet
        .header
        .iter()
        .enumerate()
        .filter(|(_, h)| !CI_FIXED.contains(&h.as_str()))
        .collect();
    let mut look = Lookups::default();
    let mut seen: HashMap<(CiClassId, String), u64> = HashMap::new();
    let mut plans = Vec::new();
    for (line, cells) in &sheet.rows {
        let line = *line;
        let cell = |i: Option<usize>| i.and_then(|i| cells.get(i)).map(|c| c.trim()).unwrap_or("");
        let before = errors.len();
        let class_code = cell(Some(c_class));
        let class = if class_code.is_empty() {
            errors.push(line_err(line, Some("class"), "required", "is required"));
            None
        } else {
            let c = look.class(tx, class_code).await?;
            if c.is_none() {
                errors.push(line_err(
                    line,
                    Some("class"),
                    "not_found",
                    format!("no class {class_code:?}"),
                ));
            }
            c
        };
        let name = match parse_line(cell(Some(c_name)), 200) {
            Ok(n) => Some(n),
            Err(e) => {
                errors.push(line_err(line, Some("name"), e.code, e.message));
                None
            }
        };
        let (Some(class), Some(name)) = (class, name) else {
            continue;
        };
        if let Some(first) = seen.insert((class.id, name_key(&name)), line) {
            errors.push(line_err(
                line,
                Some("name"),
                "duplicate",
                format!("the same item as line {first}"),
            ));
            continue;
        }
        let existing = look.ci(tx, class.id, &name).await?;
        let mut f = match &existing {
            Some(e) => e.fields(),
            None => CiFields {
                class_id: class.id,
                name: name.clone(),
                status: CiStatus::Operational,
                owner_group_id: None,
                location: String::new(),
                serial: String::new(),
                attributes: Value::Object(Map::new()),
            },
        };
        f.name = name;
        let status = cell(c_status);
        if !status.is_empty() {
            match CiStatus::parse(status) {
                Ok(s) => f.status = s,
                Err(e) => errors.push(line_err(line, Some("status"), e.code, e.message)),
            }
        }
        if c_group.is_some() {
            let g = cell(c_group);
            f.owner_group_id = if g.is_empty() {
                None
            } else {
                match look.group(tx, g).await? {
                    Some(id) => Some(id),
                    None => {
                        errors.push(line_err(
                            line,
                            Some("owner_group"),
                            "not_found",
                            format!("no group {g:?}"),
                        ));
                        None
                    }
                }
            };
        }
        for (idx, field, target) in [
            (c_loc, "location", &mut f.location),
            (c_serial, "serial", &mut f.serial),
        ] {
            if idx.is_some() {
                let v = cell(idx);
                if v.is_empty() {
                    target.clear();
                } else {
                    match parse_line(v, 200) {
                        Ok(v) => *target = v,
                        Err(e) => errors.push(line_err(line, Some(field), e.code, e.message)),
                    }
                }
            }
        }
        let defs = attr_defs(&class);
        let mut attrs = f.attributes.as_object().cloned().unwrap_or_default();
        for (i, code) in &attr_cols {
            let v = cell(Some(*i));
            let defined = defs.iter().any(|d| &d.code == *code);
            if v.is_empty() {
                attrs.remove(code.as_str());
            } else if !defined {
                errors.push(line_err(
                    line,
                    Some(code),
                    "unknown_attribute",
                    format!("class {} has no attribute {code:?}", class.code),
                ));
            } else {
                attrs.insert((*code).clone(), Value::String(v.to_owned()));
            }
        }
        match check_attributes(&defs, &attrs) {
            Ok(a) => f.attributes = Value::Object(a),
            Err(list) => {
                for (code, e) in list {
                    errors.push(line_err(line, Some(&code), e.code, e.message));
                }
            }
        }
        if errors.len() == before {
            plans.push(CiPlan {
                line,
                fields: f,
                existing,
            });
        }
    }
    Ok(plans)
}

async fn plan_rels(
    tx: &mut Tx<'_>,
    sheet: &Sheet,
    errors: &mut Vec<LineError>,
) -> AppResult<Vec<RelPlan>> {
    let idx: Vec<Option<usize>> = REL_COLUMNS
        .iter()
        .map(|c| sheet.header.iter().position(|h| h == c))
        .collect();
    let mut look = Lookups::default();
    let mut seen: HashMap<(CiId, RelKind, CiId), u64> = HashMap::new();
    let mut plans = Vec::new();
    for (line, cells) in &sheet.rows {
        let line = *line;
        let cell = |k: usize| {
            idx[k]
                .and_then(|i| cells.get(i))
                .map(|c| c.trim())
                .unwrap_or("")
        };
        let before = errors.len();
        let mut end = async |look: &mut Lookups,
                             errors: &mut Vec<LineError>,
                             ci: usize,
                             cl: usize|
               -> AppResult<Option<CiId>> {
            let (class_field, ci_field) = (REL_COLUMNS[cl], REL_COLUMNS[ci]);
            let (class_code, name) = (cell(cl), cell(ci));
            if class_code.is_empty() {
                errors.push(line_err(line, Some(class_field), "required", "is required"));
                return Ok(None);
            }
            if name.is_empty() {
                errors.push(line_err(line, Some(ci_field), "required", "is required"));
                return Ok(None);
            }
            let Some(class) = look.class(tx, class_code).await? else {
                errors.push(line_err(
                    line,
                    Some(class_field),
                    "not_found",
                    format!("no class {class_code:?}"),
                ));
                return Ok(None);
            };
            match look.ci(tx, class.id, name).await? {
                Some(c) => Ok(Some(c.id)),
                None => {
                    errors.push(line_err(
                        line,
                        Some(ci_field),
                        "not_found",
                        format!("no {} named {name:?}", class.code),
                    ));
                    Ok(None)
                }
            }
        };
        let source = end(&mut look, errors, 1, 0).await?;
        let target = end(&mut look, errors, 4, 3).await?;
        let kind = match RelKind::parse(cell(2)) {
            Ok(k) => Some(k),
            Err(e) => {
                errors.push(line_err(line, Some("type"), e.code, e.message));
                None
            }
        };
        let (Some(source), Some(kind), Some(target)) = (source, kind, target) else {
            continue;
        };
        if source == target {
            errors.push(line_err(
                line,
                Some("target"),
                "same_item",
                "a configuration item cannot relate to itself",
            ));
            continue;
        }
        if let Some(first) = seen.insert((source, kind, target), line) {
            errors.push(line_err(
                line,
                None,
                "duplicate",
                format!("the same relationship as line {first}"),
            ));
            continue;
        }
        if errors.len() == before {
            let exists = repo::find_rel(tx, source, kind, target).await?.is_some();
            plans.push(RelPlan {
                source,
                kind,
                target,
                exists,
            });
        }
    }
    Ok(plans)
}

/// Checks a file and, unless it is a dry run or a line is wrong, imports it.
pub async fn import(
    core: &Core,
    ctx: &Ctx,
    kind: ImportKind,
    bytes: &[u8],
    dry_run: bool,
) -> AppResult<ImportReport> {
    ctx.principal.require_provider_agent()?;
    let mut errors = Vec::new();
    let sheet = read_sheet(bytes, &mut errors);
    let mut report = ImportReport {
        kind,
        dry_run,
        applied: false,
        lines: sheet.as_ref().map_or(0, |s| s.rows.len()),
        created: 0,
        updated: 0,
        unchanged: 0,
        errors: Vec::new(),
    };
    let Some(sheet) = sheet else {
        report.errors = errors;
        return Ok(report);
    };
    let required: &[&str] = match kind {
        ImportKind::Cis => &["class", "name"],
        ImportKind::Relationships => REL_COLUMNS,
    };
    if !require_columns(&sheet, required, &mut errors) {
        report.errors = errors;
        return Ok(report);
    }
    let (plan, mut errors) = core
        .store
        .read(async move |tx| {
            let mut errors = errors;
            let plan = match kind {
                ImportKind::Cis => Plan::Cis(plan_cis(tx, &sheet, &mut errors).await?),
                ImportKind::Relationships => Plan::Rels(plan_rels(tx, &sheet, &mut errors).await?),
            };
            Ok::<_, AppError>((plan, errors))
        })
        .await?;
    errors.sort_by_key(|e| e.line);
    match &plan {
        Plan::Cis(plans) => {
            for p in plans {
                match &p.existing {
                    None => report.created += 1,
                    Some(e) if e.fields() == p.fields => report.unchanged += 1,
                    Some(_) => report.updated += 1,
                }
            }
        }
        Plan::Rels(plans) => {
            for p in plans {
                if p.exists {
                    report.unchanged += 1;
                } else {
                    report.created += 1;
                }
            }
        }
    }
    if !errors.is_empty() {
        report.errors = errors;
        return Ok(report);
    }
    if dry_run || report.created + report.updated == 0 {
        return Ok(report);
    }
    let (actor, now) = (Actor::of(ctx), core.now());
    let plan = std::sync::Arc::new(plan);
    let (created, updated, unchanged) = core
        .store
        .write(async move |tx| apply(tx, &actor, now, &plan).await)
        .await?;
    report.created = created;
    report.updated = updated;
    report.unchanged = unchanged;
    report.applied = true;
    Ok(report)
}

async fn apply(
    tx: &mut Tx<'_>,
    actor: &Actor,
    now: jiff::Timestamp,
    plan: &Plan,
) -> AppResult<(usize, usize, usize)> {
    let (mut created, mut updated, mut unchanged) = (0, 0, 0);
    match plan {
        Plan::Cis(plans) => {
            for p in plans {
                // Read again: the stored item may have changed since the check.
                match repo::find_ci(tx, p.fields.class_id, &p.fields.name).await? {
                    None => {
                        let c = repo::insert_ci(tx, CiId::new(), &p.fields, now).await?;
                        audit::record_diff(
                            tx,
                            actor,
                            now,
                            "ci",
                            &c.id.to_string(),
                            "create",
                            None,
                            Some(&ci_audit_map(&c)),
                        )
                        .await?;
                        created += 1;
                    }
                    Some(e) if e.fields() == p.fields => unchanged += 1,
                    Some(e) => {
                        let c = repo::update_ci(tx, e.id, &p.fields, e.version, now)
                            .await
                            .map_err(|err| {
                                tracing::debug!(line = p.line, error = %err, "import update");
                                AppError::from(err)
                            })?;
                        audit::record_diff(
                            tx,
                            actor,
                            now,
                            "ci",
                            &c.id.to_string(),
                            "update",
                            Some(&ci_audit_map(&e)),
                            Some(&ci_audit_map(&c)),
                        )
                        .await?;
                        updated += 1;
                    }
                }
            }
        }
        Plan::Rels(plans) => {
            for p in plans {
                if crate::cmdb::add_rel_in(tx, actor, now, p.source, p.kind, p.target).await? {
                    created += 1;
                } else {
                    unchanged += 1;
                }
            }
        }
    }
    Ok((created, updated, unchanged))
}

/// The attribute codes of `classes`, each once, in class order, without the fixed columns.
fn attribute_codes<'a>(classes: impl IntoIterator<Item = &'a CiClass>) -> Vec<String> {
    let mut codes: Vec<String> = Vec::new();
    for c in classes {
        for d in attr_defs(c) {
            if !codes.contains(&d.code) && !CI_FIXED.contains(&d.code.as_str()) {
                codes.push(d.code);
            }
        }
    }
    codes
}

/// Every column a CI file may have: the fixed ones and the attribute codes of every class.
pub async fn ci_columns(core: &Core) -> AppResult<Vec<String>> {
    let classes = core.store.read(async |tx| repo::classes(tx).await).await?;
    let mut columns: Vec<String> = CI_FIXED.iter().map(|c| (*c).to_owned()).collect();
    columns.extend(attribute_codes(&classes));
    Ok(columns)
}

/// One CI as a line of the import's format, under `attr_codes`.
fn ci_record(c: &Ci, attr_codes: &[String]) -> Vec<String> {
    let mut rec = vec![
        c.class_code.clone(),
        c.name.clone(),
        c.status.code().to_owned(),
        c.owner_group
            .as_ref()
            .map(|g| g.name.clone())
            .unwrap_or_default(),
        c.location.clone(),
        c.serial.clone(),
    ];
    for code in attr_codes {
        rec.push(c.attributes.get(code).map(attr_text).unwrap_or_default());
    }
    rec
}

/// The CIs of a list view (its filters and sort) as CSV in the import's format, streamed with
/// no cap (or up to `limit`). The attribute columns are those of the classes filtered on, or
/// of every class when the view names none (the header is written before the rows are read).
pub async fn export_filtered(
    core: &Core,
    ctx: &Ctx,
    query: crate::cmdb::CiQuery,
    sort: Option<String>,
    limit: Option<u64>,
) -> AppResult<CsvStream> {
    ctx.principal.require_provider_agent()?;
    let classes = core.store.read(async |tx| repo::classes(tx).await).await?;
    let wanted: Vec<&str> = query
        .class
        .iter()
        .flat_map(|c| c.split(','))
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    let shown = classes.iter().filter(|c| {
        wanted.is_empty()
            || wanted
                .iter()
                .any(|k| c.code == *k || c.id.to_string() == *k)
    });
    let attr_codes = attribute_codes(shown);
    let mut header: Vec<String> = CI_FIXED.iter().map(|c| (*c).to_owned()).collect();
    header.extend(attr_codes.iter().cloned());
    let (core, ctx) = (core.clone(), ctx.clone());
    crate::export::stream("cis", header, limit, move |cursor| {
        let (core, ctx, query, attr_codes) =
            (core.clone(), ctx.clone(), query.clone(), attr_codes.clone());
        let params = crate::listing::ListParams {
            sort: sort.clone(),
            cursor,
            limit: Some(crate::listing::MAX_LIMIT),
        };
        async move {
            let page = crate::cmdb::list_cis(&core, &ctx, query, &params).await?;
            let rows = page
                .items
                .iter()
                .map(|c| ci_record(c, &attr_codes))
                .collect();
            Ok((rows, page.next_cursor))
        }
    })
    .await
}

fn attr_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// CIs or relationships read for an export at a time.
const EXPORT_PAGE: i64 = 1000;

/// The whole CMDB of one kind as CSV, in the import's format, streamed with no cap (or up to
/// `limit`).
pub async fn export(
    core: &Core,
    ctx: &Ctx,
    kind: ImportKind,
    limit: Option<u64>,
) -> AppResult<CsvStream> {
    ctx.principal.require_provider_agent()?;
    let core = core.clone();
    match kind {
        ImportKind::Cis => {
            let classes = core.store.read(async |tx| repo::classes(tx).await).await?;
            let attr_codes = attribute_codes(&classes);
            let mut header: Vec<String> = CI_FIXED.iter().map(|s| (*s).to_owned()).collect();
            header.extend(attr_codes.iter().cloned());
            crate::export::stream("cis", header, limit, move |cursor| {
                let (core, attr_codes) = (core.clone(), attr_codes.clone());
                async move {
                    let after = cursor.as_deref().and_then(CiId::parse);
                    let batch = core
                        .store
                        .read(async move |tx| repo::cis_after(tx, after, EXPORT_PAGE).await)
                        .await?;
                    let next = (batch.len() as i64 == EXPORT_PAGE)
                        .then(|| batch.last().map(|c| c.id.to_string()))
                        .flatten();
                    let rows = batch.iter().map(|c| ci_record(c, &attr_codes)).collect();
                    Ok((rows, next))
                }
            })
            .await
        }
        ImportKind::Relationships => {
            let header = REL_COLUMNS.iter().map(|s| (*s).to_owned()).collect();
            crate::export::stream("relationships", header, limit, move |cursor| {
                let core = core.clone();
                async move {
                    let after = cursor.as_deref().and_then(RelId::parse);
                    let batch = core
                        .store
                        .read(async move |tx| repo::rels_after(tx, after, EXPORT_PAGE).await)
                        .await?;
                    let next = (batch.len() as i64 == EXPORT_PAGE)
                        .then(|| batch.last().map(|r| r.id.to_string()))
                        .flatten();
                    let rows = batch
                        .iter()
                        .map(|r| {
                            vec![
                                r.source.class_code.clone(),
                                r.source.name.clone(),
                                r.kind.code().to_owned(),
                                r.target.class_code.clone(),
                                r.target.name.clone(),
                            ]
                        })
                        .collect();
                    Ok((rows, next))
                }
            })
            .await
        }
    }
}
