//! Generic CSV import and export of people, organizations, incidents and configuration items,
//! with a column mapping from the file's headers to Sigap's fields. (Configuration items are
//! checked and imported by `cmdb_csv` once their headers are mapped.)
//!
//! An import checks every line first; when any line is wrong nothing is imported and every
//! wrong line is reported with its reason. A dry run only checks. Lines are matched to
//! existing records by their key (login, organization name, incident number, CI class and
//! name): a match is updated, anything else is created.

use crate::Core;
use crate::cmdb_csv::{LineError, line_err, read_sheet};
use crate::error::{AppError, AppResult};
use crate::export::{CsvStream, stream};
use crate::listing::ListParams;
use crate::principal::Ctx;
use sigap_domain::{Locale, Login, OrgKind, Role, parse_line, parse_text};
use std::collections::HashMap;

/// What a generic import reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    People,
    Organizations,
    Incidents,
    Cis,
}

impl Kind {
    pub fn parse(text: &str) -> AppResult<Self> {
        match text.trim() {
            "people" => Ok(Kind::People),
            "organizations" => Ok(Kind::Organizations),
            "incidents" => Ok(Kind::Incidents),
            "cis" => Ok(Kind::Cis),
            _ => Err(AppError::field(
                "kind",
                "invalid_choice",
                "must be one of: people, organizations, incidents, cis",
            )),
        }
    }

    /// The columns a file of this kind may have; the first is the key. (A CI file may also
    /// have a column per attribute code of its classes.)
    pub fn columns(self) -> &'static [&'static str] {
        match self {
            Kind::People => &[
                "login",
                "name",
                "email",
                "roles",
                "organization",
                "locale",
                "time_zone",
                "active",
            ],
            Kind::Organizations => &["name", "kind", "description", "active"],
            Kind::Incidents => &[
                "number",
                "short_description",
                "description",
                "caller",
                "contact_type",
                "impact",
                "urgency",
                "category",
                "assignment_group",
                "assigned_to",
                "location",
            ],
            Kind::Cis => crate::cmdb_csv::CI_FIXED,
        }
    }
}

/// The outcome of a generic import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub dry_run: bool,
    pub applied: bool,
    pub lines: usize,
    pub created: usize,
    pub updated: usize,
    /// Lines that match what is stored (configuration items).
    pub unchanged: usize,
    pub errors: Vec<LineError>,
}

/// Whether `field` may be an attribute code of a CI class (checked against the classes when
/// the file is imported).
fn attribute_like(field: &str) -> bool {
    field.len() <= 40
        && field.starts_with(|c: char| c.is_ascii_lowercase())
        && field
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Parses a mapping `field=Column,field=Column` (file headers onto Sigap's fields).
pub fn parse_mapping(text: &str, kind: Kind) -> AppResult<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (field, column) = pair.split_once('=').ok_or_else(|| {
            AppError::field(
                "map",
                "invalid_mapping",
                "write the mapping as field=Column,field=Column",
            )
        })?;
        let field = field.trim().to_lowercase();
        let known = kind.columns().contains(&field.as_str())
            || (kind == Kind::Cis && attribute_like(&field));
        if !known {
            return Err(AppError::field(
                "map",
                "unknown_field",
                format!(
                    "{field:?} is not a field; use {}{}",
                    kind.columns().join(", "),
                    if kind == Kind::Cis {
                        " or an attribute code"
                    } else {
                        ""
                    }
                ),
            ));
        }
        let column = column.trim().to_lowercase();
        if column.is_empty() {
            return Err(AppError::field(
                "map",
                "invalid_mapping",
                format!("{field:?} is mapped to no column"),
            ));
        }
        if out.iter().any(|(f, _)| *f == field) {
            return Err(AppError::field(
                "map",
                "duplicate_field",
                format!("{field:?} is mapped twice"),
            ));
        }
        out.push((field, column));
    }
    Ok(out)
}

/// Renames the header cells a mapping names, so the rest of the import sees Sigap's fields.
/// A mapping that names a column the file does not have is refused.
pub fn apply_mapping(bytes: &[u8], mapping: &[(String, String)]) -> AppResult<Vec<u8>> {
    if mapping.is_empty() {
        return Ok(bytes.to_vec());
    }
    let text = String::from_utf8_lossy(bytes);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let (head, rest) = match text.find('\n') {
        Some(i) => (&text[..i], &text[i..]),
        None => (text, ""),
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(head.as_bytes());
    let cells: Vec<String> = reader
        .records()
        .next()
        .and_then(Result::ok)
        .map(|r| r.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let keys: Vec<String> = cells.iter().map(|c| c.trim().to_lowercase()).collect();
    let absent: Vec<&str> = mapping
        .iter()
        .filter(|(_, column)| !keys.contains(column))
        .map(|(_, column)| column.as_str())
        .collect();
    if !absent.is_empty() {
        return Err(AppError::field(
            "map",
            "unknown_column",
            format!(
                "the file has no column {}; its columns are {}",
                absent
                    .iter()
                    .map(|c| format!("{c:?}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                cells.join(", ")
            ),
        ));
    }
    let renamed: Vec<String> = cells
        .iter()
        .map(|c| {
            let key = c.trim().to_lowercase();
            mapping
                .iter()
                .find(|(_, column)| *column == key)
                .map_or_else(|| c.clone(), |(field, _)| field.clone())
        })
        .collect();
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    let _ = w.write_record(&renamed);
    let mut out = w.into_inner().unwrap_or_default();
    if out.last() == Some(&b'\n') {
        out.pop();
    }
    out.extend_from_slice(rest.as_bytes());
    Ok(out)
}

/// One line checked: what to do with it.
enum Plan {
    Person {
        existing: Option<String>,
        input: crate::people::PersonInput,
    },
    Org {
        existing: Option<String>,
        input: crate::orgs::OrgInput,
    },
    Incident {
        existing: Option<String>,
        input: Box<crate::incidents::IncidentInput>,
    },
}

fn cell<'a>(header: &[String], row: &'a [String], name: &str) -> Option<&'a str> {
    let i = header.iter().position(|h| h == name)?;
    row.get(i).map(|v| v.trim()).filter(|v| !v.is_empty())
}

/// Checks a file and, unless it is a dry run or a line is wrong, imports it.
pub async fn import(
    core: &Core,
    ctx: &Ctx,
    kind: Kind,
    bytes: &[u8],
    mapping: &[(String, String)],
    dry_run: bool,
) -> AppResult<Report> {
    match kind {
        Kind::People | Kind::Organizations => ctx.principal.require(Role::Admin)?,
        Kind::Incidents | Kind::Cis => ctx.principal.require_provider_agent()?,
    }
    if kind == Kind::Cis {
        return import_cis(core, ctx, bytes, mapping, dry_run).await;
    }
    let bytes = apply_mapping(bytes, mapping)?;
    let mut errors = Vec::new();
    let sheet = read_sheet(&bytes, &mut errors);
    let mut report = Report {
        dry_run,
        applied: false,
        lines: 0,
        created: 0,
        updated: 0,
        unchanged: 0,
        errors: Vec::new(),
    };
    let Some(sheet) = sheet else {
        report.errors = errors;
        return Ok(report);
    };
    report.lines = sheet.rows.len();
    let key = kind.columns()[0];
    for h in &sheet.header {
        if !kind.columns().contains(&h.as_str()) {
            errors.push(line_err(
                1,
                Some(h),
                "unknown_column",
                format!(
                    "{h:?} is not a column of {}; map it or leave it out",
                    kind.columns().join(", ")
                ),
            ));
        }
    }
    let required: &[&str] = match kind {
        Kind::People => &["login"],
        Kind::Organizations => &["name"],
        Kind::Incidents | Kind::Cis => &[],
    };
    for r in required {
        if !sheet.header.iter().any(|h| h == r) {
            errors.push(line_err(
                1,
                Some(r),
                "missing_column",
                format!("the header has no column {r:?}"),
            ));
        }
    }
    if !errors.is_empty() {
        report.errors = errors;
        return Ok(report);
    }
    let header = sheet.header.clone();
    let rows = sheet.rows;
    let (plans, mut errors) = core
        .store
        .read(async move |tx| {
            let mut plans = Vec::new();
            let mut errors = errors;
            let mut keys: HashMap<String, u64> = HashMap::new();
            for (line, row) in &rows {
                let line = *line;
                let get = |n: &str| cell(&header, row, n);
                let mut bad = |field: &str, code: &'static str, msg: String| errors.push(line_err(line, Some(field), code, msg));
                if let Some(k) = get(key) {
                    if let Some(first) = keys.insert(k.to_lowercase(), line) {
                        bad(key, "duplicate", format!("{k:?} is also on line {first}"));
                        continue;
                    }
                }
                match kind {
                    Kind::People => {
                        let Some(login) = get("login") else {
                            bad("login", "required", "is required".into());
                            continue;
                        };
                        let login = match Login::parse(login) {
                            Ok(l) => l.as_str().to_owned(),
                            Err(e) => {
                                bad("login", e.code, e.message);
                                continue;
                            }
                        };
                        let existing = sigap_store::people::find_by_login(tx, &login).await?;
                        let mut ok = true;
                        let name = get("name");
                        if existing.is_none() && name.is_none() {
                            bad("name", "required", "a new person needs a name".into());
                            ok = false;
                        }
                        if let Some(n) = name {
                            if let Err(e) = parse_line(n, 100) {
                                bad("name", e.code, e.message);
                                ok = false;
                            }
                        }
                        if let Some(e) = get("email") {
                            if let Err(x) = sigap_domain::Email::parse(e) {
                                bad("email", x.code, x.message);
                                ok = false;
                            }
                        }
                        let roles: Option<Vec<String>> = get("roles").map(|r| r.split([';', '|', ' ']).map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned).collect());
                        for r in roles.iter().flatten() {
                            if let Err(e) = Role::parse(r) {
                                bad("roles", e.code, format!("{r:?}: {}", e.message));
                                ok = false;
                            }
                        }
                        if let Some(o) = get("organization") {
                            if crate::orgs::resolve(tx, o).await?.is_none() {
                                bad("organization", "not_found", format!("no organization {o:?}"));
                                ok = false;
                            }
                        }
                        if let Some(l) = get("locale") {
                            if let Err(e) = Locale::parse(l) {
                                bad("locale", e.code, e.message);
                                ok = false;
                            }
                        }
                        if let Some(z) = get("time_zone") {
                            if jiff::tz::TimeZone::get(z).is_err() {
                                bad("time_zone", "unknown_time_zone", format!("{z:?} is not an IANA time zone"));
                                ok = false;
                            }
                        }
                        let active = match get("active").map(str::to_lowercase).as_deref() {
                            None => None,
                            Some("true" | "yes" | "1") => Some(true),
                            Some("false" | "no" | "0") => Some(false),
                            Some(other) => {
                                bad("active", "invalid_type", format!("{other:?} is not true or false"));
                                ok = false;
                                None
                            }
                        };
                        if ok {
                            plans.push(Plan::Person {
                                existing: existing.map(|p| p.id.to_string()),
                                input: crate::people::PersonInput {
                                    login: Some(login),
                                    name: name.map(str::to_owned),
                                    email: get("email").map(|e| Some(e.to_owned())),
                                    locale: get("locale").map(str::to_owned),
                                    time_zone: get("time_zone").map(str::to_owned),
                                    active,
                                    organization: get("organization").map(|o| Some(o.to_owned())),
                                    roles,
                                    password: None,
                                    manager: get("manager").map(|m| Some(m.to_owned())),
                                },
                            });
                        }
                    }
                    Kind::Organizations => {
                        let Some(name) = get("name") else {
                            bad("name", "required", "is required".into());
                            continue;
                        };
                        let mut ok = true;
                        if let Err(e) = parse_line(name, 100) {
                            bad("name", e.code, e.message);
                            ok = false;
                        }
                        if let Some(k) = get("kind") {
                            if let Err(e) = OrgKind::parse(k) {
                                bad("kind", e.code, e.message);
                                ok = false;
                            }
                        }
                        if let Some(d) = get("description") {
                            if let Err(e) = parse_text(d, 4000) {
                                bad("description", e.code, e.message);
                                ok = false;
                            }
                        }
                        let existing = crate::orgs::resolve(tx, name).await?;
                        if existing.is_none() && get("kind").is_none() {
                            bad("kind", "required", "a new organization needs a kind: customer, supplier or provider".into());
                            ok = false;
                        }
                        if ok {
                            plans.push(Plan::Org {
                                existing: existing.map(|o| o.id.to_string()),
                                input: crate::orgs::OrgInput {
                                    name: Some(name.to_owned()),
                                    kind: get("kind").map(str::to_owned),
                                    description: get("description").map(str::to_owned),
                                    active: None,
                                },
                            });
                        }
                    }
                    Kind::Incidents => {
                        let mut ok = true;
                        let existing = match get("number") {
                            Some(n) => match sigap_store::incidents::find_by_number(tx, n).await? {
                                Some(i) => Some(i.task.number),
                                None => {
                                    bad("number", "not_found", format!("no incident {n:?}; leave the number empty to create one"));
                                    continue;
                                }
                            },
                            None => None,
                        };
                        let short = get("short_description");
                        if existing.is_none() && short.is_none() {
                            bad("short_description", "required", "a new incident needs a short description".into());
                            ok = false;
                        }
                        if let Some(s) = short {
                            if let Err(e) = parse_line(s, 160) {
                                bad("short_description", e.code, e.message);
                                ok = false;
                            }
                        }
                        let level = |field: &str| -> Option<i64> {
                            let v = get(field)?;
                            v.split(" - ")
                                .next()
                                .unwrap_or(v)
                                .trim()
                                .parse::<i64>()
                                .ok()
                                .filter(|n| (1..=3).contains(n))
                        };
                        let impact = level("impact");
                        let urgency = level("urgency");
                        for (field, v) in [("impact", impact), ("urgency", urgency)] {
                            if get(field).is_some() && v.is_none() {
                                bad(field, "out_of_range", "must be 1 (high), 2 (medium) or 3 (low)".into());
                                ok = false;
                            }
                        }
                        for (field, exists) in [
                            ("caller", match get("caller") { Some(c) => crate::people::resolve(tx, c).await.is_ok(), None => true }),
                            ("assigned_to", match get("assigned_to") { Some(c) => crate::people::resolve(tx, c).await.is_ok(), None => true }),
                            ("assignment_group", match get("assignment_group") { Some(g) => crate::groups::resolve(tx, g).await.is_ok(), None => true }),
                        ] {
                            if !exists {
                                bad(field, "not_found", format!("no such {}", field.replace('_', " ")));
                                ok = false;
                            }
                        }
                        if let Some(c) = get("category") {
                            if !sigap_store::task::config::categories(tx).await?.iter().any(|x| x.code == c && x.active) {
                                bad("category", "invalid_choice", format!("no category {c:?}"));
                                ok = false;
                            }
                        }
                        if let Some(c) = get("contact_type") {
                            if let Err(e) = sigap_domain::task::ContactType::parse(c) {
                                bad("contact_type", e.code, e.message);
                                ok = false;
                            }
                        }
                        if let Some(l) = get("location") {
                            match crate::locations::resolve(tx, l).await? {
                                Some(loc) if loc.active => {}
                                Some(_) => {
                                    bad("location", "inactive", format!("the location {l:?} is no longer in use"));
                                    ok = false;
                                }
                                None => {
                                    bad("location", "not_found", format!("no location {l:?}"));
                                    ok = false;
                                }
                            }
                        }
                        if ok {
                            let opt = |n: &str| get(n).map(|v| Some(v.to_owned()));
                            plans.push(Plan::Incident {
                                existing,
                                input: Box::new(crate::incidents::IncidentInput {
task: crate::task::TaskInput {
short_description: short.map(str::to_owned),
description: get("description").map(str::to_owned),
caller: opt("caller"),
contact_type: get("contact_type").map(str::to_owned),
impact,
urgency,
category: opt("category"),
assignment_group: opt("assignment_group"),
assigned_to: opt("assigned_to"),
location: opt("location"),
..Default::default()
},
..Default::default()
}),
                            });
                        }
                    }
                    Kind::Cis => {}
                }
            }
            Ok::<_, AppError>((plans, errors))
        })
        .await?;
    errors.sort_by_key(|e| e.line);
    for p in &plans {
        let existing = match p {
            Plan::Person { existing, .. }
            | Plan::Org { existing, .. }
            | Plan::Incident { existing, .. } => existing.is_some(),
        };
        if existing {
            report.updated += 1;
        } else {
            report.created += 1;
        }
    }
    if !errors.is_empty() || dry_run {
        report.errors = errors;
        return Ok(report);
    }
    for p in plans {
        match p {
            Plan::Person {
                existing: Some(id),
                input,
            } => {
                crate::people::update(
                    core,
                    ctx,
                    &id,
                    crate::people::PersonInput {
                        login: None,
                        ..input
                    },
                    None,
                )
                .await?;
            }
            Plan::Person {
                existing: None,
                input,
            } => {
                crate::people::create(core, ctx, input).await?;
            }
            Plan::Org {
                existing: Some(id),
                input,
            } => {
                crate::orgs::update(
                    core,
                    ctx,
                    &id,
                    crate::orgs::OrgInput {
                        name: None,
                        ..input
                    },
                    None,
                )
                .await?;
            }
            Plan::Org {
                existing: None,
                input,
            } => {
                crate::orgs::create(core, ctx, input).await?;
            }
            Plan::Incident {
                existing: Some(n),
                input,
            } => {
                crate::incidents::update(core, ctx, &n, *input, None).await?;
            }
            Plan::Incident {
                existing: None,
                input,
            } => {
                crate::incidents::create(core, ctx, *input).await?;
            }
        }
    }
    report.applied = true;
    Ok(report)
}

/// Configuration items: the mapping renames the file's headers to CI columns (the fixed ones
/// and the attribute codes of the classes), then `cmdb_csv` checks and imports the file.
async fn import_cis(
    core: &Core,
    ctx: &Ctx,
    bytes: &[u8],
    mapping: &[(String, String)],
    dry_run: bool,
) -> AppResult<Report> {
    let columns = crate::cmdb_csv::ci_columns(core).await?;
    if let Some((field, _)) = mapping.iter().find(|(f, _)| !columns.contains(f)) {
        return Err(AppError::field(
            "map",
            "unknown_field",
            format!(
                "{field:?} is not a column of configuration items; use {}",
                columns.join(", ")
            ),
        ));
    }
    let bytes = apply_mapping(bytes, mapping)?;
    let r = crate::cmdb_csv::import(core, ctx, crate::cmdb_csv::ImportKind::Cis, &bytes, dry_run)
        .await?;
    Ok(Report {
        dry_run: r.dry_run,
        applied: r.applied,
        lines: r.lines,
        created: r.created,
        updated: r.updated,
        unchanged: r.unchanged,
        errors: r.errors,
    })
}

/// People (administrators) or organizations (administrators) as CSV in the import's columns,
/// streamed with no cap (or up to `limit`). Incidents and CIs are exported with the filters
/// of their lists (`incidents::export`, `cmdb_csv::export_filtered`).
pub async fn export(
    core: &Core,
    ctx: &Ctx,
    kind: Kind,
    limit: Option<u64>,
) -> AppResult<CsvStream> {
    ctx.principal.require(Role::Admin)?;
    let header: Vec<String> = kind.columns().iter().map(|c| (*c).to_owned()).collect();
    let (core, ctx) = (core.clone(), ctx.clone());
    let params = |cursor| ListParams {
        limit: Some(crate::listing::MAX_LIMIT),
        cursor,
        sort: None,
    };
    match kind {
        Kind::People => {
            stream("people", header, limit, move |cursor| {
                let (core, ctx) = (core.clone(), ctx.clone());
                async move {
                    let page =
                        crate::people::list(&core, &ctx, Default::default(), &params(cursor))
                            .await?;
                    let rows = page
                        .items
                        .into_iter()
                        .map(|p| {
                            vec![
                                p.login,
                                p.name,
                                p.email.unwrap_or_default(),
                                p.roles
                                    .iter()
                                    .map(|r| r.code())
                                    .collect::<Vec<_>>()
                                    .join(";"),
                                p.organization.map(|o| o.name).unwrap_or_default(),
                                p.locale.code().into(),
                                p.time_zone,
                                p.active.to_string(),
                            ]
                        })
                        .collect();
                    Ok((rows, page.next_cursor))
                }
            })
            .await
        }
        Kind::Organizations => {
            stream("organizations", header, limit, move |cursor| {
                let (core, ctx) = (core.clone(), ctx.clone());
                async move {
                    let page =
                        crate::orgs::list(&core, &ctx, Default::default(), &params(cursor)).await?;
                    let rows = page
                        .items
                        .into_iter()
                        .map(|o| {
                            vec![
                                o.name,
                                o.kind.code().into(),
                                o.description,
                                o.active.to_string(),
                            ]
                        })
                        .collect();
                    Ok((rows, page.next_cursor))
                }
            })
            .await
        }
        Kind::Incidents | Kind::Cis => Err(AppError::field(
            "kind",
            "invalid_choice",
            "incidents and configuration items are exported with the filters of their lists: \
             /api/v1/incidents/export, /api/v1/export/cis",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mapping_renames_the_header_only() -> AppResult<()> {
        let m = parse_mapping("login=User ID, name=Full name", Kind::People)?;
        let out = apply_mapping(b"User ID,Full name,Extra\nbudi,\"Budi, S.\",x\n", &m)?;
        assert_eq!(
            String::from_utf8_lossy(&out),
            "login,name,Extra\nbudi,\"Budi, S.\",x\n"
        );
        assert!(parse_mapping("colour=X", Kind::People).is_err());
        assert!(parse_mapping("login", Kind::People).is_err());
        assert!(parse_mapping("login=A,login=B", Kind::People).is_err());
        let m = parse_mapping("login=Nope", Kind::People)?;
        assert!(
            apply_mapping(b"User ID\nbudi\n", &m).is_err(),
            "no such column"
        );
        // CI attribute codes are checked against the classes at import.
        assert!(parse_mapping("name=Host,cpu_count=CPUs", Kind::Cis).is_ok());
        assert!(parse_mapping("name=Host,CPU Count=CPUs", Kind::Cis).is_err());
        Ok(())
    }
}
