//! Import of a ServiceNow incident audit export (the format of the UCI "incident management
//! process enriched event log"): one row per update of an incident, `?` for a missing value,
//! day-first dates without a time zone (read as UTC), and the incident's final `opened_at`,
//! `resolved_at`, `closed_at`, `closed_code`, `resolved_by`, `opened_by` copied onto every row.
//!
//! Each incident is created once with its original number; its rows become journal entries
//! (kind `change`, with the fields that changed) and audit entries, with their original times
//! and authors. People, groups, categories, locations and CIs are created as needed (each
//! location once, by name, in any case), and the incident points at its location. Importing
//! the same file again changes nothing.
//!
//! States: New → new; Active → in progress; Awaiting User Info and Awaiting Evidence → on hold
//! awaiting the caller; Awaiting Vendor / Problem → on hold awaiting the vendor / a problem;
//! Resolved → resolved; Closed → closed. The odd cases of the source: `-100` keeps the state
//! before it (the entry says so); closing straight from an open state, reopening a closed
//! incident and starting in any state are taken as they are, since the rows are history.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::principal::Ctx;
use jiff::Timestamp;
use serde_json::{Map, Value, json};
use sigap_domain::process::incident::{HoldReason, IncidentState};
use sigap_domain::task::JournalKind;
use sigap_domain::task::{ContactType, Level, Priority};
use sigap_domain::{CiId, GroupId, GroupType, Locale, LocationId, PersonId, Role, TaskId};
use sigap_store::incidents::{self as repo, IncidentExt, IncidentFields, SeedIncident};
use sigap_store::task::TaskFields;
use sigap_store::task::journal::NewEntry;
use sigap_store::{StoreError, Tx};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;

/// One row of the export, as read.
#[derive(Debug, Clone)]
struct Row {
    line: usize,
    state: String,
    reassignment_count: i64,
    reopen_count: i64,
    sys_mod_count: i64,
    made_sla: String,
    caller: Option<String>,
    opened_by: Option<String>,
    opened_at: Timestamp,
    updated_by: Option<String>,
    updated_at: Timestamp,
    contact_type: String,
    location: Option<String>,
    category: Option<String>,
    subcategory: Option<String>,
    symptom: Option<String>,
    ci: Option<String>,
    impact: i64,
    urgency: i64,
    priority: i64,
    group: Option<String>,
    assigned_to: Option<String>,
    knowledge: String,
    problem: Option<String>,
    rfc: Option<String>,
    vendor: Option<String>,
    closed_code: Option<String>,
    resolved_by: Option<String>,
    resolved_at: Option<Timestamp>,
    closed_at: Option<Timestamp>,
}

/// An incident of the file: its rows in file order.
#[derive(Debug, Clone)]
struct SnIncident {
    number: String,
    rows: Vec<Row>,
}

/// Why an incident or a line was not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub line: usize,
    pub number: String,
    pub reason: String,
}

/// What an import did (or, for a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub dry_run: bool,
    pub rows: usize,
    pub incidents: usize,
    pub created: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub skipped: Vec<Skipped>,
    pub journal_entries: usize,
    pub people_created: usize,
    pub groups_created: usize,
    pub categories_created: usize,
    pub locations_created: usize,
    pub cis_created: usize,
}

fn missing(v: &str) -> Option<String> {
    let v = v.trim();
    if v.is_empty() || v == "?" {
        None
    } else {
        Some(v.chars().filter(|c| !c.is_control()).take(200).collect())
    }
}

/// `29/2/2016 01:16` (day first, no time zone: UTC).
fn date(v: &str) -> Option<Timestamp> {
    let (d, t) = v.trim().split_once(' ')?;
    let mut parts = d.split('/');
    let day: i8 = parts.next()?.parse().ok()?;
    let month: i8 = parts.next()?.parse().ok()?;
    let year: i16 = parts.next()?.parse().ok()?;
    let (h, m) = t.split_once(':')?;
    let dt = jiff::civil::DateTime::new(year, month, day, h.parse().ok()?, m.parse().ok()?, 0, 0)
        .ok()?;
    jiff::tz::TimeZone::UTC
        .to_ambiguous_timestamp(dt)
        .compatible()
        .ok()
}

/// `2 - Medium` → 2.
fn level(v: &str) -> Option<i64> {
    v.trim().split(" - ").next()?.trim().parse().ok()
}

/// Reads the export (CSV, or CSV compressed with gzip), grouping rows by incident in file order.
/// Rows that cannot be read are reported with their line and reason; their incidents are
/// skipped whole.
fn parse(bytes: &[u8]) -> AppResult<(Vec<SnIncident>, Vec<Skipped>, usize)> {
    let mut text = Vec::new();
    let data: &[u8] = if bytes.starts_with(&[0x1f, 0x8b]) {
        flate2::read::GzDecoder::new(bytes)
            .read_to_end(&mut text)
            .map_err(|e| {
                AppError::field("file", "invalid_gzip", format!("cannot decompress: {e}"))
            })?;
        &text
    } else {
        bytes
    };
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(data);
    let headers = reader
        .headers()
        .map_err(|e| AppError::field("file", "invalid_csv", format!("no header row: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let need = [
        "number",
        "incident_state",
        "reassignment_count",
        "reopen_count",
        "sys_mod_count",
        "made_sla",
        "caller_id",
        "opened_by",
        "opened_at",
        "sys_updated_by",
        "sys_updated_at",
        "contact_type",
        "location",
        "category",
        "subcategory",
        "u_symptom",
        "cmdb_ci",
        "impact",
        "urgency",
        "priority",
        "assignment_group",
        "assigned_to",
        "knowledge",
        "problem_id",
        "rfc",
        "vendor",
        "closed_code",
        "resolved_by",
        "resolved_at",
        "closed_at",
    ];
    let mut idx = HashMap::new();
    let mut absent = Vec::new();
    for n in need {
        match col(n) {
            Some(i) => {
                idx.insert(n, i);
            }
            None => absent.push(n),
        }
    }
    if !absent.is_empty() {
        return Err(AppError::field(
            "file",
            "missing_columns",
            format!(
                "not a ServiceNow incident export: no column {}",
                absent.join(", ")
            ),
        ));
    }
    let mut incidents: Vec<SnIncident> = Vec::new();
    let mut skipped = Vec::new();
    let mut bad_numbers: BTreeSet<String> = BTreeSet::new();
    let mut rows = 0;
    for (k, rec) in reader.records().enumerate() {
        let line = k + 2;
        rows += 1;
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                skipped.push(Skipped {
                    line,
                    number: String::new(),
                    reason: format!("unreadable line: {e}"),
                });
                continue;
            }
        };
        let get = |n: &str| rec.get(idx[n]).unwrap_or("");
        let number = get("number").trim().to_owned();
        let valid_number = number.len() <= 40
            && number.starts_with("INC")
            && number.len() > 3
            && number[3..].chars().all(|c| c.is_ascii_digit());
        let mut why = Vec::new();
        if !valid_number {
            why.push(format!("{number:?} is not an incident number"));
        }
        let int = |n: &str, why: &mut Vec<String>| -> i64 {
            get(n).trim().parse::<i64>().unwrap_or_else(|_| {
                why.push(format!("{n} {:?} is not a number", get(n)));
                0
            })
        };
        let reassignment_count = int("reassignment_count", &mut why);
        let reopen_count = int("reopen_count", &mut why);
        let sys_mod_count = int("sys_mod_count", &mut why);
        let when = |n: &str, why: &mut Vec<String>| -> Option<Timestamp> {
            let v = get(n);
            missing(v)?;
            let t = date(v);
            if t.is_none() {
                why.push(format!("{n} {v:?} is not a day-first date"));
            }
            t
        };
        let opened_at = when("opened_at", &mut why);
        let updated_at = when("sys_updated_at", &mut why);
        let resolved_at = when("resolved_at", &mut why);
        let closed_at = when("closed_at", &mut why);
        let lvl = |n: &str, max: i64, why: &mut Vec<String>| -> i64 {
            match level(get(n)).filter(|l| (1..=max).contains(l)) {
                Some(l) => l,
                None => {
                    why.push(format!("{n} {:?} is not 1 to {max}", get(n)));
                    3
                }
            }
        };
        let impact = lvl("impact", 3, &mut why);
        let urgency = lvl("urgency", 3, &mut why);
        let priority = lvl("priority", 5, &mut why);
        if opened_at.is_none() {
            why.push("no opened_at".into());
        }
        if updated_at.is_none() {
            why.push("no sys_updated_at".into());
        }
        if !why.is_empty() {
            if valid_number {
                bad_numbers.insert(number.clone());
            }
            skipped.push(Skipped {
                line,
                number,
                reason: why.join("; "),
            });
            continue;
        }
        let row = Row {
            line,
            state: get("incident_state").trim().to_owned(),
            reassignment_count,
            reopen_count,
            sys_mod_count,
            made_sla: get("made_sla").trim().to_owned(),
            caller: missing(get("caller_id")),
            opened_by: missing(get("opened_by")),
            opened_at: opened_at.unwrap_or(Timestamp::UNIX_EPOCH),
            updated_by: missing(get("sys_updated_by")),
            updated_at: updated_at.unwrap_or(Timestamp::UNIX_EPOCH),
            contact_type: get("contact_type").trim().to_owned(),
            location: missing(get("location")),
            category: missing(get("category")),
            subcategory: missing(get("subcategory")),
            symptom: missing(get("u_symptom")),
            ci: missing(get("cmdb_ci")),
            impact,
            urgency,
            priority,
            group: missing(get("assignment_group")),
            assigned_to: missing(get("assigned_to")),
            knowledge: get("knowledge").trim().to_owned(),
            problem: missing(get("problem_id")),
            rfc: missing(get("rfc")),
            vendor: missing(get("vendor")),
            closed_code: missing(get("closed_code")),
            resolved_by: missing(get("resolved_by")),
            resolved_at,
            closed_at,
        };
        match incidents.last_mut() {
            Some(last) if last.number == number => last.rows.push(row),
            _ => incidents.push(SnIncident {
                number,
                rows: vec![row],
            }),
        }
    }
    // An incident whose rows are not together, or with a bad row, is not imported.
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for i in &incidents {
        *seen.entry(i.number.clone()).or_default() += 1;
    }
    let mut kept = Vec::with_capacity(incidents.len());
    for i in incidents {
        if bad_numbers.contains(&i.number) {
            continue;
        }
        if seen.get(&i.number).copied().unwrap_or(0) > 1 {
            skipped.push(Skipped {
                line: i.rows.first().map_or(0, |r| r.line),
                number: i.number.clone(),
                reason: "its rows are not together in the file".into(),
            });
            continue;
        }
        kept.push(i);
    }
    kept.dedup_by(|a, b| a.number == b.number);
    Ok((kept, skipped, rows))
}

/// Our state of a ServiceNow state, with the hold reason; `None` for `-100` and unknown ones.
fn state(s: &str) -> Option<(IncidentState, Option<HoldReason>)> {
    Some(match s {
        "New" => (IncidentState::New, None),
        "Active" => (IncidentState::InProgress, None),
        "Awaiting User Info" | "Awaiting Evidence" => {
            (IncidentState::OnHold, Some(HoldReason::AwaitingCaller))
        }
        "Awaiting Vendor" => (IncidentState::OnHold, Some(HoldReason::AwaitingVendor)),
        "Awaiting Problem" => (IncidentState::OnHold, Some(HoldReason::AwaitingProblem)),
        "Resolved" => (IncidentState::Resolved, None),
        "Closed" => (IncidentState::Closed, None),
        _ => return None,
    })
}

fn contact(s: &str) -> ContactType {
    match s {
        "Self service" => ContactType::SelfService,
        "Email" => ContactType::Email,
        "Direct opening" => ContactType::WalkIn,
        _ => ContactType::Phone,
    }
}

/// A person's login from an anonymised name: `Caller 2403` → `sn.caller.2403`.
fn login_of(name: &str) -> String {
    let mut out = String::from("sn.");
    let mut dash = false;
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
            dash = false;
        } else if !dash {
            out.push('.');
            dash = true;
        }
    }
    out.trim_end_matches('.').chars().take(60).collect()
}

/// A category code: `Category 55` → `sn_category_55`.
fn code_of(prefix: &str, name: &str) -> String {
    let mut out = String::from(prefix);
    for c in name.trim().chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_end_matches('_').chars().take(40).collect()
}

fn sub_code(cat: &str, sub: &str) -> String {
    let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
    format!("sn_c{}_s{}", digits(cat), digits(sub))
        .chars()
        .take(40)
        .collect()
}

/// The fields a row shows, for the journal's change entries.
fn row_map(r: &Row, st: Option<(IncidentState, Option<HoldReason>)>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("state".into(), json!(st.map(|s| s.0.code())));
    m.insert(
        "hold_reason".into(),
        json!(st.and_then(|s| s.1).map(|h| h.code())),
    );
    m.insert("impact".into(), json!(r.impact));
    m.insert("urgency".into(), json!(r.urgency));
    m.insert("priority".into(), json!(r.priority));
    m.insert("assignment_group".into(), json!(r.group));
    m.insert("assigned_to".into(), json!(r.assigned_to));
    m.insert("category".into(), json!(r.category));
    m.insert("subcategory".into(), json!(r.subcategory));
    m.insert("configuration_item".into(), json!(r.ci));
    m.insert("location".into(), json!(r.location));
    m.insert("symptom".into(), json!(r.symptom));
    m.insert("reassignment_count".into(), json!(r.reassignment_count));
    m.insert("reopen_count".into(), json!(r.reopen_count));
    m.insert("made_sla".into(), json!(r.made_sla));
    m.insert("knowledge".into(), json!(r.knowledge));
    m.insert("problem".into(), json!(r.problem));
    m.insert("rfc".into(), json!(r.rfc));
    m.insert("vendor".into(), json!(r.vendor));
    m
}

/// Everything created or found by name, by name.
#[derive(Default)]
struct Refs {
    people: HashMap<String, PersonId>,
    groups: HashMap<String, GroupId>,
    cis: HashMap<String, CiId>,
    locations: HashMap<String, LocationId>,
    categories: BTreeSet<String>,
}

/// Finds or creates the people, groups, categories, locations and CIs the file names.
async fn references(
    tx: &mut Tx<'_>,
    incidents: &[SnIncident],
    actor: &Actor,
    now: Timestamp,
    summary: &mut ImportSummary,
) -> AppResult<Refs> {
    let mut refs = Refs::default();
    let mut people: BTreeMap<String, Role> = BTreeMap::new();
    let mut groups: BTreeSet<String> = BTreeSet::new();
    let mut members: BTreeSet<(String, String)> = BTreeSet::new();
    let mut cats: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut cis: BTreeSet<String> = BTreeSet::new();
    let mut locations: BTreeSet<String> = BTreeSet::new();
    for i in incidents {
        for r in &i.rows {
            for p in [&r.caller].into_iter().flatten() {
                people.entry(p.clone()).or_insert(Role::Requester);
            }
            for p in [&r.opened_by, &r.updated_by, &r.assigned_to, &r.resolved_by]
                .into_iter()
                .flatten()
            {
                people.insert(p.clone(), Role::Agent);
            }
            if let Some(g) = &r.group {
                groups.insert(g.clone());
                if let Some(a) = &r.assigned_to {
                    members.insert((g.clone(), a.clone()));
                }
            }
            if let Some(c) = &r.category {
                let subs = cats.entry(c.clone()).or_default();
                if let Some(s) = &r.subcategory {
                    subs.insert(s.clone());
                }
            }
            if let Some(c) = &r.ci {
                cis.insert(c.clone());
            }
            if let Some(l) = &r.location {
                locations.insert(l.clone());
            }
        }
    }
    for (name, role) in &people {
        let login = login_of(name);
        let id = match sigap_store::people::find_by_login(tx, &login).await? {
            Some(p) => p.id,
            None => {
                let p = sigap_store::people::insert(
                    tx,
                    PersonId::new(),
                    &sigap_store::people::PersonFields {
                        login,
                        name: name.clone(),
                        email: None,
                        locale: Locale::En,
                        time_zone: "UTC".into(),
                        active: true,
                        organization_id: None,
                        roles: vec![*role],
                        manager_id: None,
                    },
                    None,
                    now,
                )
                .await?;
                summary.people_created += 1;
                p.id
            }
        };
        refs.people.insert(name.clone(), id);
    }
    for name in &groups {
        let id = match crate::groups::resolve(tx, name).await {
            Ok(g) => g.id,
            Err(StoreError::NotFound) => {
                let g = sigap_store::groups::insert(
                    tx,
                    GroupId::new(),
                    &sigap_store::groups::GroupFields {
                        name: name.clone(),
                        group_type: GroupType::Technical,
                        description: "Imported from ServiceNow".into(),
                        email: None,
                        manager_id: None,
                        active: true,
                    },
                    now,
                )
                .await?;
                summary.groups_created += 1;
                g.id
            }
            Err(e) => return Err(e.into()),
        };
        refs.groups.insert(name.clone(), id);
    }
    let mut current: HashMap<GroupId, Vec<PersonId>> = HashMap::new();
    for (g, a) in &members {
        if let (Some(g), Some(p)) = (refs.groups.get(g), refs.people.get(a)) {
            if !current.contains_key(g) {
                let m = sigap_store::groups::members(tx, *g).await?;
                current.insert(*g, m.iter().map(|m| m.id).collect());
            }
            let existing = current.entry(*g).or_default();
            if !existing.contains(p) {
                sigap_store::groups::add_member(tx, *g, *p, now).await?;
                existing.push(*p);
            }
        }
    }
    let known: BTreeSet<String> = sigap_store::task::config::categories(tx)
        .await?
        .into_iter()
        .map(|c| c.code)
        .collect();
    for (cat, subs) in &cats {
        let code = code_of("sn_", cat);
        if !known.contains(&code) {
            sigap_store::task::config::upsert_category(
                tx,
                &sigap_store::task::config::Category {
                    code: code.clone(),
                    name: cat.clone(),
                    parent_code: None,
                    active: true,
                    sort_order: 500,
                },
            )
            .await?;
            summary.categories_created += 1;
        }
        refs.categories.insert(code.clone());
        for s in subs {
            let sc = sub_code(cat, s);
            if !known.contains(&sc) {
                sigap_store::task::config::upsert_category(
                    tx,
                    &sigap_store::task::config::Category {
                        code: sc.clone(),
                        name: s.clone(),
                        parent_code: Some(code.clone()),
                        active: true,
                        sort_order: 500,
                    },
                )
                .await?;
                summary.categories_created += 1;
            }
        }
    }
    for name in &locations {
        let id = match sigap_store::locations::find_by_name(tx, name).await? {
            Some(l) => l.id,
            None => {
                let l = sigap_store::locations::insert(
                    tx,
                    LocationId::new(),
                    &sigap_store::locations::LocationFields {
                        name: name.clone(),
                        time_zone: None,
                        organization_id: None,
                        active: true,
                    },
                    now,
                )
                .await?;
                audit::record_diff(
                    tx,
                    actor,
                    now,
                    "location",
                    &l.id.to_string(),
                    "create",
                    None,
                    Some(&crate::locations::audit_map(&l)),
                )
                .await?;
                summary.locations_created += 1;
                l.id
            }
        };
        refs.locations.insert(name.clone(), id);
    }
    if !cis.is_empty() {
        let class = sigap_store::cmdb::class_by_code(tx, "server")
            .await?
            .ok_or_else(|| AppError::Internal("the built-in class server is missing".into()))?;
        for name in &cis {
            let id = match sigap_store::cmdb::find_ci(tx, class.id, name).await? {
                Some(c) => c.id,
                None => {
                    let c = sigap_store::cmdb::insert_ci(
                        tx,
                        CiId::new(),
                        &sigap_store::cmdb::CiFields {
                            class_id: class.id,
                            name: name.clone(),
                            status: sigap_domain::cmdb::CiStatus::Operational,
                            owner_group_id: None,
                            location: String::new(),
                            serial: String::new(),
                            attributes: json!({}),
                        },
                        now,
                    )
                    .await?;
                    summary.cis_created += 1;
                    c.id
                }
            };
            refs.cis.insert(name.clone(), id);
        }
    }
    Ok(refs)
}

/// The incident's final fields, from its last row.
fn final_fields(i: &SnIncident, refs: &Refs) -> Option<IncidentFields> {
    let last = i.rows.last()?;
    let first = i.rows.first()?;
    // The last known state (a `-100` row keeps the one before).
    let st = i
        .rows
        .iter()
        .rev()
        .find_map(|r| state(&r.state))
        .unwrap_or((IncidentState::New, None));
    let person = |p: &Option<String>| p.as_ref().and_then(|p| refs.people.get(p)).copied();
    let cat = last.category.as_ref().map(|c| code_of("sn_", c));
    let sub = match (&last.category, &last.subcategory) {
        (Some(c), Some(s)) => Some(sub_code(c, s)),
        _ => None,
    };
    let mut notes = Vec::new();
    if let Some(c) = &last.closed_code {
        notes.push(format!("ServiceNow close code: {c}"));
    }
    if let Some(r) = &last.resolved_by {
        notes.push(format!("Resolved by: {r}"));
    }
    let mut description = vec![format!("Imported from ServiceNow ({}).", i.number)];
    if let Some(s) = &last.symptom {
        description.push(format!("Symptom: {s}"));
    }
    Some(IncidentFields {
        task: TaskFields {
            short_description: format!(
                "{} / {}",
                last.category.as_deref().unwrap_or("No category"),
                last.subcategory.as_deref().unwrap_or("no subcategory")
            ),
            description: description.join("\n"),
            state: st.0,
            impact: Level::parse(last.impact).unwrap_or(Level::MEDIUM),
            urgency: Level::parse(last.urgency).unwrap_or(Level::MEDIUM),
            priority: Priority::parse(last.priority).ok()?,
            caller_id: person(&first.caller).or(person(&last.caller)),
            opened_by_id: person(&last.opened_by),
            assignment_group_id: last
                .group
                .as_ref()
                .and_then(|g| refs.groups.get(g))
                .copied(),
            assigned_to_id: person(&last.assigned_to),
            service_id: None,
            offering_id: None,
            ci_id: last.ci.as_ref().and_then(|c| refs.cis.get(c)).copied(),
            organization_id: None,
            category: cat,
            subcategory: sub,
            contact_type: contact(&last.contact_type),
            parent_id: None,
            resolved_at: last.resolved_at,
            closed_at: last.closed_at,
            reassignment_count: last.reassignment_count,
            reopen_count: last.reopen_count,
        },
        ext: IncidentExt {
            hold_reason: if st.0 == IncidentState::OnHold {
                st.1
            } else {
                None
            },
            workaround: String::new(),
            resolution_code: None,
            resolution_notes: notes.join("\n"),
            major: false,
            priority_override_reason: None,
        },
    })
}

/// The incident's final location, from its last row.
fn final_location(i: &SnIncident, refs: &Refs) -> Option<LocationId> {
    i.rows
        .last()
        .and_then(|r| r.location.as_ref())
        .and_then(|l| refs.locations.get(l))
        .copied()
}

/// Whether a stored incident already holds the file's final values.
fn same(
    stored: &sigap_store::incidents::Incident,
    f: &IncidentFields,
    location: Option<LocationId>,
    opened: Timestamp,
) -> bool {
    stored.state == f.state
        && stored.location_id() == location
        && stored.priority == f.priority
        && stored.impact == f.impact
        && stored.urgency == f.urgency
        && stored.reopen_count == f.reopen_count
        && stored.reassignment_count == f.reassignment_count
        && stored.opened_at == opened
        && stored.resolved_at == f.resolved_at
        && stored.closed_at == f.closed_at
        && stored.assignment_group.as_ref().map(|g| g.id) == f.assignment_group_id
        && stored.assigned_to.as_ref().map(|p| p.id) == f.assigned_to_id
}

/// Imports a ServiceNow incident export (administrators). `progress` hears how many of the
/// file's incidents are done.
pub async fn import(
    core: &Core,
    ctx: &Ctx,
    bytes: &[u8],
    dry_run: bool,
    mut progress: impl FnMut(usize, usize),
) -> AppResult<ImportSummary> {
    ctx.principal.require(Role::Admin)?;
    let (incidents, skipped, rows) = parse(bytes)?;
    let mut summary = ImportSummary {
        dry_run,
        rows,
        incidents: incidents.len(),
        skipped,
        ..Default::default()
    };
    if dry_run {
        // Which would be new: one read.
        let numbers: Vec<String> = incidents.iter().map(|i| i.number.clone()).collect();
        let existing = core
            .store
            .read(async move |tx| {
                let mut n = 0;
                for num in &numbers {
                    if repo::find_by_number(tx, num).await?.is_some() {
                        n += 1;
                    }
                }
                Ok::<_, AppError>(n)
            })
            .await?;
        summary.created = incidents.len() - existing;
        summary.unchanged = existing;
        summary.journal_entries = incidents[..].iter().map(|i| i.rows.len()).sum::<usize>();
        return Ok(summary);
    }
    let now = core.now();
    let actor = Actor::of(ctx);
    let all = incidents.clone();
    let by = actor.clone();
    let (refs, made) = core
        .store
        .write(async move |tx| {
            let mut made = ImportSummary::default();
            let refs = references(tx, &all, &by, now, &mut made).await?;
            Ok::<_, AppError>((refs, made))
        })
        .await?;
    summary.people_created = made.people_created;
    summary.groups_created = made.groups_created;
    summary.categories_created = made.categories_created;
    summary.locations_created = made.locations_created;
    summary.cis_created = made.cis_created;
    let refs = std::sync::Arc::new(refs);
    let total = incidents.len();
    let mut done = 0;
    let mut max_number = 0i64;
    for batch in incidents.chunks(1000) {
        let batch = batch.to_vec();
        let refs = refs.clone();
        let actor = actor.clone();
        let (created, changed, unchanged, entries, top) = core
            .store
            .write(async move |tx| import_batch(tx, &batch, &refs, &actor, now).await)
            .await?;
        summary.created += created;
        summary.changed += changed;
        summary.unchanged += unchanged;
        summary.journal_entries += entries;
        max_number = max_number.max(top);
        done += 1000.min(total - done);
        progress(done, total);
    }
    core.store
        .write(async move |tx| {
            Ok::<_, AppError>(sigap_store::task::bump_number(tx, "INC", max_number + 1).await?)
        })
        .await?;
    Ok(summary)
}

async fn import_batch(
    tx: &mut Tx<'_>,
    batch: &[SnIncident],
    refs: &Refs,
    actor: &Actor,
    now: Timestamp,
) -> AppResult<(usize, usize, usize, usize, i64)> {
    let (mut created, mut changed, mut unchanged) = (0, 0, 0);
    let mut new_rows = Vec::new();
    let mut new_locations: Vec<(TaskId, LocationId)> = Vec::new();
    let mut entries: Vec<NewEntry> = Vec::new();
    let mut audits: Vec<audit::Entry> = Vec::new();
    let mut top = 0i64;
    // The incidents of the batch already here, in one read.
    let numbers: Vec<String> = batch.iter().map(|i| i.number.to_uppercase()).collect();
    let mut stored_ones: HashMap<String, sigap_store::task::Record<IncidentExt>> =
        sigap_store::task::find_by_numbers::<IncidentExt>(tx, &numbers)
            .await?
            .into_iter()
            .map(|r| (r.number.clone(), r))
            .collect();
    for i in batch {
        top = top.max(
            i.number
                .get(3..)
                .and_then(|n| n.parse::<i64>().ok())
                .unwrap_or(0),
        );
        let Some(f) = final_fields(i, refs) else {
            continue;
        };
        let location = final_location(i, refs);
        let opened = i.rows.last().map_or(now, |r| r.opened_at);
        let updated = i.rows.last().map_or(now, |r| r.updated_at);
        match stored_ones.remove(&i.number.to_uppercase()) {
            Some(stored) if same(&stored, &f, location, opened) => unchanged += 1,
            Some(stored) => {
                // The file knows more than we do: take its final values.
                let mut g = stored.fields();
                g.state = f.state;
                g.ext.hold_reason = f.ext.hold_reason;
                g.priority = f.priority;
                g.impact = f.impact;
                g.urgency = f.urgency;
                g.reopen_count = f.reopen_count;
                g.reassignment_count = f.reassignment_count;
                g.resolved_at = f.resolved_at;
                g.closed_at = f.closed_at;
                g.assignment_group_id = f.assignment_group_id;
                g.assigned_to_id = f.assigned_to_id;
                if stored.location_id() != location {
                    sigap_store::task::set_location(tx, stored.id, location).await?;
                }
                let after = sigap_store::task::update(
                    tx,
                    stored.id,
                    &g,
                    stored.version,
                    updated.max(stored.updated_at),
                )
                .await?;
                let b = crate::incidents::audit_map(&stored);
                let a = crate::incidents::audit_map(&after);
                let diff = audit::diff(Some(&b), Some(&a));
                sigap_store::task::journal::add_entry(
                    tx,
                    stored.id,
                    JournalKind::Change,
                    actor.id,
                    &actor.name,
                    "Re-imported from ServiceNow",
                    Some(&diff),
                    now,
                )
                .await?;
                audit::record(
                    tx,
                    actor,
                    now,
                    "incident",
                    &stored.id.to_string(),
                    "update",
                    diff,
                )
                .await?;
                changed += 1;
            }
            None => {
                let id = TaskId::new();
                if let Some(l) = location {
                    new_locations.push((id, l));
                }
                new_rows.push(SeedIncident {
                    id,
                    number: i.number.clone(),
                    fields: f,
                    opened_at: opened,
                    updated_at: updated,
                });
                let mut prev: Option<Map<String, Value>> = None;
                let mut last_state = None;
                for (k, r) in i.rows.iter().enumerate() {
                    let st = state(&r.state).or(last_state);
                    last_state = st;
                    let m = row_map(r, st);
                    let diff = audit::diff(prev.as_ref(), Some(&m));
                    let author_name = r.updated_by.clone().unwrap_or_else(|| "ServiceNow".into());
                    let author_id = r
                        .updated_by
                        .as_ref()
                        .and_then(|p| refs.people.get(p))
                        .copied();
                    let body = if state(&r.state).is_none() {
                        format!(
                            "ServiceNow update {} (state {:?} kept as the one before)",
                            r.sys_mod_count, r.state
                        )
                    } else {
                        format!("ServiceNow update {}", r.sys_mod_count)
                    };
                    entries.push(NewEntry {
                        task: id,
                        kind: JournalKind::Change,
                        author_id,
                        author: author_name.clone(),
                        body,
                        changes: Some(diff.clone()),
                        at: r.updated_at,
                    });
                    audits.push((
                        Actor {
                            id: author_id,
                            name: author_name,
                            request_id: actor.request_id.clone(),
                        },
                        r.updated_at,
                        "incident",
                        id.to_string(),
                        if k == 0 { "create" } else { "update" },
                        diff,
                    ));
                    prev = Some(m);
                }
                created += 1;
            }
        }
    }
    let n_entries = entries.len();
    repo::bulk_insert(tx, &new_rows).await?;
    sigap_store::task::set_locations(tx, &new_locations).await?;
    sigap_store::task::journal::bulk_add_entries(tx, &entries).await?;
    audit::record_many(tx, audits).await?;
    Ok((created, changed, unchanged, n_entries, top))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_day_first_and_codes_are_clean() {
        assert_eq!(
            date("29/2/2016 01:16").map(|t| t.to_string()),
            Some("2016-02-29T01:16:00Z".into())
        );
        assert_eq!(date("31/2/2016 01:16"), None);
        assert_eq!(date("?"), None);
        assert_eq!(level("2 - Medium"), Some(2));
        assert_eq!(login_of("Opened by  8"), "sn.opened.by.8");
        assert_eq!(code_of("sn_", "Category 55"), "sn_category_55");
        assert_eq!(sub_code("Category 55", "Subcategory 170"), "sn_c55_s170");
        assert_eq!(state("-100"), None);
        assert_eq!(
            state("Awaiting Evidence"),
            Some((IncidentState::OnHold, Some(HoldReason::AwaitingCaller)))
        );
    }

    #[test]
    fn bad_lines_are_reported_and_their_incidents_skipped() -> AppResult<()> {
        let head = "number,incident_state,active,reassignment_count,reopen_count,sys_mod_count,made_sla,caller_id,opened_by,opened_at,sys_created_by,sys_created_at,sys_updated_by,sys_updated_at,contact_type,location,category,subcategory,u_symptom,cmdb_ci,impact,urgency,priority,assignment_group,assigned_to,knowledge,u_priority_confirmation,notify,problem_id,rfc,vendor,caused_by,closed_code,resolved_by,resolved_at,closed_at";
        let ok = "INC0000001,New,true,0,0,0,true,Caller 1,Opened by  1,1/3/2016 09:00,?,?,Updated by 1,1/3/2016 09:00,Phone,Location 1,Category 1,Subcategory 1,?,?,2 - Medium,2 - Medium,3 - Moderate,Group 1,?,false,false,Do Not Notify,?,?,?,?,code 1,Resolved by 1,1/3/2016 10:00,6/3/2016 10:00";
        let bad = ok
            .replace("INC0000001", "INC0000002")
            .replace("1/3/2016 09:00,?", "tomorrow,?");
        let (incidents, skipped, rows) = parse(format!("{head}\n{ok}\n{bad}\n").as_bytes())?;
        assert_eq!((incidents.len(), rows), (1, 2));
        assert_eq!(skipped.len(), 1);
        assert_eq!(
            (skipped[0].line, skipped[0].number.as_str()),
            (3, "INC0000002")
        );
        assert!(skipped[0].reason.contains("opened_at"), "{:?}", skipped[0]);
        assert!(parse(b"a,b\n1,2\n").is_err(), "not an export");
        Ok(())
    }
}
