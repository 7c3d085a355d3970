//! Realistic generated data for demonstrations and the benchmark harness: a layered CMDB
//! (network and storage at the bottom, servers, virtual machines, databases, applications,
//! application services and business services on top), services in the catalogue delivered
//! by the business services, their offerings and customers.

use crate::Core;
use crate::audit::{self, Actor};
use crate::error::{AppError, AppResult};
use crate::principal::Ctx;
use serde_json::json;
use sigap_domain::cmdb::{CiStatus, RelKind};
use sigap_domain::{CiId, Criticality, OfferingId, OrgId, OrgKind, Role, ServiceId, Stage};
use sigap_store::cmdb::{self as repo, CiFields};
use sigap_store::orgs::{self, OrgFields};
use sigap_store::portfolio::{self, OfferingFields, ServiceFields};

/// What to generate.
#[derive(Debug, Clone, Copy)]
pub struct CmdbSpec {
    pub cis: usize,
    pub relationships: usize,
    pub services: usize,
    pub seed: u64,
}

/// What was generated, with a random sample of CIs (id and class code) to measure with.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub cis: usize,
    pub relationships: u64,
    pub services: usize,
    pub sample: Vec<(CiId, &'static str)>,
}

/// A small deterministic generator (xorshift64*), so the same seed gives the same CMDB.
#[derive(Debug, Clone)]
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
    fn pick<T: Copy>(&mut self, items: &[T]) -> Option<T> {
        items.get(self.below(items.len())).copied()
    }
}

/// The layers, bottom up: class code, name prefix and share of all CIs (per mille).
const LAYERS: &[(&str, &str, usize)] = &[
    ("network_device", "sw", 5),
    ("storage", "st", 2),
    ("server", "srv", 100),
    ("virtual_machine", "vm", 440),
    ("database", "db", 100),
    ("application", "app", 200),
    ("application_service", "as", 130),
    ("business_service", "bs", 23),
];

const SITES: &[&str] = &[
    "DC Jakarta",
    "DC Surabaya",
    "DC Batam",
    "Cloud ap-southeast-3",
];

/// The relationships of a generated CMDB, before trimming to the wanted count.
fn relationships(layers: &[Vec<CiId>], rng: &mut Rng) -> Vec<(CiId, RelKind, CiId)> {
    let [sw, st, srv, vm, db, app, aps, bs] = layers else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let link =
        |out: &mut Vec<_>, from: &[CiId], kind: RelKind, to: &[CiId], n: usize, rng: &mut Rng| {
            for s in from {
                for _ in 0..n {
                    if let Some(t) = rng.pick(to) {
                        if *s != t {
                            out.push((*s, kind, t));
                        }
                    }
                }
            }
        };
    link(&mut out, srv, RelKind::ConnectsTo, sw, 2, rng);
    link(&mut out, srv, RelKind::Uses, st, 1, rng);
    link(&mut out, vm, RelKind::HostedOn, srv, 1, rng);
    link(&mut out, vm, RelKind::Uses, st, 2, rng);
    link(&mut out, vm, RelKind::ConnectsTo, sw, 1, rng);
    link(&mut out, db, RelKind::RunsOn, vm, 2, rng);
    link(&mut out, app, RelKind::RunsOn, vm, 4, rng);
    link(&mut out, app, RelKind::DependsOn, db, 5, rng);
    // Applications use applications of the tier below (four tiers), so dependencies stay
    // layered as in a real estate: shared services at the bottom, front ends on top.
    let tier = app.len() / 4;
    if tier > 0 {
        for t in 1..4 {
            let (below, here) = (
                &app[(t - 1) * tier..t * tier],
                &app[t * tier..(t + 1) * tier],
            );
            for (i, s) in here.iter().enumerate() {
                let n = 1 + i % 2;
                for _ in 0..n {
                    if let Some(target) = rng.pick(below) {
                        out.push((*s, RelKind::Uses, target));
                    }
                }
            }
        }
    }
    link(&mut out, aps, RelKind::Uses, app, 3, rng);
    link(&mut out, aps, RelKind::DependsOn, db, 1, rng);
    link(&mut out, aps, RelKind::ConnectsTo, sw, 2, rng);
    link(&mut out, bs, RelKind::DependsOn, aps, 5, rng);
    out.sort();
    out.dedup();
    out
}

/// Generates a CMDB of `spec.cis` CIs and `spec.relationships` relationships, and
/// `spec.services` catalogue services delivered by the business services (administrators).
pub async fn seed_cmdb(core: &Core, ctx: &Ctx, spec: CmdbSpec) -> AppResult<Seeded> {
    ctx.principal.require(Role::Admin)?;
    bulk(core, generate_cmdb(core, ctx, spec)).await
}

async fn generate_cmdb(core: &Core, ctx: &Ctx, spec: CmdbSpec) -> AppResult<Seeded> {
    crate::cmdb::ensure_builtin_classes(core).await?;
    let mut rng = Rng::new(spec.seed);
    let (actor, now) = (Actor::of(ctx), core.now());
    let classes = core.store.read(async |tx| repo::classes(tx).await).await?;
    let class_id = |code: &str| classes.iter().find(|c| c.code == code).map(|c| c.id);
    let tag = spec.seed;
    let mut rows: Vec<(CiId, CiFields)> = Vec::with_capacity(spec.cis);
    let mut layers: Vec<Vec<CiId>> = Vec::new();
    let mut classes_of: Vec<&'static str> = Vec::with_capacity(spec.cis);
    let total_share: usize = LAYERS.iter().map(|l| l.2).sum();
    for (i, (code, prefix, share)) in LAYERS.iter().enumerate() {
        let class = class_id(code)
            .ok_or_else(|| AppError::Internal(format!("built-in class {code} is missing")))?;
        let n = if i + 1 == LAYERS.len() {
            spec.cis.saturating_sub(rows.len())
        } else {
            (spec.cis * share / total_share).max(1)
        };
        let mut ids = Vec::with_capacity(n);
        for k in 0..n {
            let id = CiId::new();
            let attributes = match *code {
                "server" | "virtual_machine" => {
                    json!({"cpu_count": 2 << (k % 5), "ram_gb": 8 << (k % 4)})
                }
                _ => json!({}),
            };
            rows.push((
                id,
                CiFields {
                    class_id: class,
                    name: format!("{prefix}-{tag}-{k:06}"),
                    status: if k % 50 == 0 {
                        CiStatus::Maintenance
                    } else {
                        CiStatus::Operational
                    },
                    owner_group_id: None,
                    location: SITES[k % SITES.len()].to_owned(),
                    serial: if *code == "server" {
                        format!("SN{tag}{k:07}")
                    } else {
                        String::new()
                    },
                    attributes,
                },
            ));
            ids.push(id);
            classes_of.push(code);
        }
        layers.push(ids);
    }
    let mut rels = relationships(&layers, &mut rng);
    // Trim to the wanted count by dropping random relationships.
    while rels.len() > spec.relationships {
        let i = rng.below(rels.len());
        rels.swap_remove(i);
    }
    let business: Vec<CiId> = layers.last().cloned().unwrap_or_default();
    let mut sample = Vec::new();
    for _ in 0..2000.min(rows.len()) {
        let i = rng.below(rows.len());
        if let (Some((id, _)), Some(class)) = (rows.get(i), classes_of.get(i)) {
            sample.push((*id, *class));
        }
    }
    let services = spec.services.min(business.len());
    let picks: Vec<(CiId, usize)> = (0..services)
        .map(|i| {
            (
                business[i * business.len() / services.max(1)],
                rng.below(3) + 1,
            )
        })
        .collect();
    let rows = std::sync::Arc::new(rows);
    let rels = std::sync::Arc::new(rels);
    let n_cis = rows.len();
    let inserted = core
        .store
        .write(async move |tx| {
            repo::bulk_insert_cis(tx, &rows, now).await?;
            let inserted = repo::bulk_insert_rels(tx, &rels, now).await?;
            // Customers, then services in the catalogue with offerings.
            let mut customers: Vec<OrgId> = Vec::new();
            for c in 0..50 {
                let name = format!("Customer {tag}-{c:03}");
                let org = match orgs::find_by_name(tx, &name).await? {
                    Some(o) => o,
                    None => {
                        orgs::insert(
                            tx,
                            OrgId::new(),
                            &OrgFields {
                                name,
                                kind: OrgKind::Customer,
                                description: String::new(),
                                active: true,
                            },
                            now,
                        )
                        .await?
                    }
                };
                customers.push(org.id);
            }
            for (i, (ci, n_customers)) in picks.iter().enumerate() {
                let fields = ServiceFields {
                    name: format!("Service {tag}-{i:04}"),
                    description: String::new(),
                    value_outcomes: String::new(),
                    criticality: Criticality::parse(1 + (i % 4) as i64)
                        .map_err(|e| AppError::Internal(e.message))?,
                    owner_id: None,
                    sponsor_id: None,
                    requester_id: None,
                    design_group_id: None,
                    planned_cost: None,
                    actual_cost: None,
                    review_date: None,
                    design: json!({}),
                };
                let s = portfolio::insert(tx, ServiceId::new(), &fields, Stage::Operational, now).await?;
                let mine: Vec<OrgId> = (0..*n_customers)
                    .filter_map(|k| customers.get((i * 7 + k * 13) % customers.len()).copied())
                    .collect();
                portfolio::set_customers(tx, s.id, &mine).await?;
                portfolio::link_service_ci(tx, s.id, *ci).await?;
                let o = portfolio::insert_offering(
                    tx,
                    OfferingId::new(),
                    s.id,
                    &OfferingFields {
                        name: "Standard".into(),
                        description: String::new(),
                        availability_hours: "Mon–Fri 08:00–17:00".into(),
                        active: true,
                    },
                    now,
                )
                .await?;
                portfolio::link_offering_ci(tx, o.id, *ci).await?;
            }
            audit::record(
                tx,
                &actor,
                now,
                "cmdb",
                "seed",
                "create",
                json!({"cis": [null, n_cis], "relationships": [null, inserted], "services": [null, picks.len()]}),
            )
            .await?;
            Ok::<_, AppError>(inserted)
        })
        .await?;
    Ok(Seeded {
        cis: n_cis,
        relationships: inserted,
        services,
        sample,
    })
}

// ----- incidents -----

/// What `seed_incidents` made, for the benchmark to aim at.
#[derive(Debug, Clone)]
pub struct SeededIncidents {
    pub count: usize,
    pub groups: Vec<String>,
    /// Numbers of a random sample of the incidents.
    pub sample: Vec<String>,
    /// A word in about one incident in 100,000, and one in about one in ten.
    pub rare_word: &'static str,
    pub common_word: &'static str,
}

const WHAT: &[&str] = &[
    "Printer jams on floor {n}",
    "VPN drops every hour",
    "Cannot log in to the payroll portal",
    "E-mail stuck in the outbox",
    "Laptop will not boot after the update",
    "Shared drive {n} is read-only",
    "Wi-Fi slow in meeting room {n}",
    "Password reset needed",
    "Teams calls drop after a minute",
    "Invoice system shows error {n}",
];
const DETAIL: &[&str] = &[
    "Started this morning, affects the whole team.",
    "Happens only on the second monitor.",
    "Tried restarting, no change.",
    "Urgent: month-end closing depends on it.",
    "Colleagues on the same floor see it too.",
];

/// Generates `count` incidents spread over ten groups, two hundred callers and five years,
/// mostly closed, as a service desk accumulates them (administrators).
pub async fn seed_incidents(
    core: &Core,
    ctx: &Ctx,
    count: usize,
    seed: u64,
) -> AppResult<SeededIncidents> {
    seed_incidents_with(
        core,
        ctx,
        IncidentSpec {
            count,
            seed,
            ..IncidentSpec::default()
        },
        |_, _| {},
    )
    .await
}

/// The sizes of a generated service desk.
#[derive(Debug, Clone)]
pub struct IncidentSpec {
    pub count: usize,
    pub seed: u64,
    /// Support groups, two agents each.
    pub groups: usize,
    pub callers: usize,
    /// Customer organizations the callers belong to (none: no organization).
    pub organizations: usize,
    /// A comment from the caller on every incident.
    pub journal: bool,
}

impl Default for IncidentSpec {
    fn default() -> Self {
        Self {
            count: 10_000,
            seed: 1,
            groups: 10,
            callers: 200,
            organizations: 0,
            journal: false,
        }
    }
}

/// Generates incidents as `seed_incidents` does, with the sizes of `spec`; `progress` hears
/// how many are written. Generating the next batch overlaps writing the last.
pub async fn seed_incidents_with(
    core: &Core,
    ctx: &Ctx,
    spec: IncidentSpec,
    progress: impl FnMut(usize, usize),
) -> AppResult<SeededIncidents> {
    ctx.principal.require(Role::Admin)?;
    bulk(core, generate_incidents(core, spec, progress)).await
}

/// Runs a generator with the database in bulk-loading mode, and leaves that mode whatever
/// the outcome.
async fn bulk<T>(core: &Core, work: impl Future<Output = AppResult<T>>) -> AppResult<T> {
    core.store.bulk_loading(true).await?;
    let outcome = work.await;
    core.store.bulk_loading(false).await?;
    outcome
}

/// Incidents generated and written in one transaction: large transactions write the hot
/// index pages to the log fewer times.
const BATCH: usize = 100_000;

async fn generate_incidents(
    core: &Core,
    spec: IncidentSpec,
    mut progress: impl FnMut(usize, usize),
) -> AppResult<SeededIncidents> {
    let IncidentSpec {
        count,
        seed,
        groups: group_count,
        callers: caller_count,
        organizations,
        journal,
    } = spec;
    use sigap_domain::process::incident::{HoldReason, IncidentState};
    use sigap_domain::task::{ContactType, Level, MatrixPreset, PriorityMatrix};
    use sigap_domain::{GroupId, GroupType, Locale, PersonId, TaskId};
    use sigap_store::incidents::{IncidentExt, IncidentFields, SeedIncident};
    use sigap_store::task::TaskFields;
    let mut rng = Rng::new(seed);
    let now = core.now();
    let tag = seed;
    // Groups with two agents each, and callers.
    let (groups, callers) = core
        .store
        .write(async move |tx| {
            let mut groups: Vec<(GroupId, String, Vec<PersonId>)> = Vec::new();
            let mut orgs = Vec::new();
            for o in 0..organizations {
                let org = sigap_store::orgs::insert(
                    tx,
                    sigap_domain::OrgId::new(),
                    &sigap_store::orgs::OrgFields {
                        name: format!("Seed customer {tag}-{o}"),
                        kind: sigap_domain::OrgKind::Customer,
                        description: String::new(),
                        active: true,
                    },
                    now,
                )
                .await?;
                orgs.push(org.id);
            }
            for g in 0..group_count.max(1) {
                let name = format!("Seed desk {tag}-{g}");
                let group = sigap_store::groups::insert(
                    tx,
                    GroupId::new(),
                    &sigap_store::groups::GroupFields {
                        name: name.clone(),
                        group_type: GroupType::ServiceDesk,
                        description: String::new(),
                        email: None,
                        manager_id: None,
                        active: true,
                    },
                    now,
                )
                .await?;
                let mut members = Vec::new();
                for a in 0..2 {
                    let login = format!("agent{tag}-{g}-{a}");
                    let p = sigap_store::people::insert(
                        tx,
                        PersonId::new(),
                        &sigap_store::people::PersonFields {
                            login: login.clone(),
                            name: format!("Agent {g}.{a}"),
                            email: None,
                            locale: Locale::En,
                            time_zone: "Asia/Jakarta".into(),
                            active: true,
                            organization_id: None,
                            roles: vec![Role::Agent],
                            manager_id: None,
                        },
                        None,
                        now,
                    )
                    .await?;
                    sigap_store::groups::add_member(tx, group.id, p.id, now).await?;
                    members.push(p.id);
                }
                groups.push((group.id, name, members));
            }
            let mut callers = Vec::new();
            for c in 0..caller_count.max(1) {
                let p = sigap_store::people::insert(
                    tx,
                    PersonId::new(),
                    &sigap_store::people::PersonFields {
                        login: format!("user{tag}-{c}"),
                        name: format!("User {c}"),
                        email: None,
                        locale: Locale::Id,
                        time_zone: "Asia/Jakarta".into(),
                        active: true,
                        organization_id: (!orgs.is_empty()).then(|| orgs[c % orgs.len()]),
                        roles: vec![Role::Requester],
                        manager_id: None,
                    },
                    None,
                    now,
                )
                .await?;
                callers.push((p.id, p.organization.map(|o| o.id)));
            }
            Ok::<_, AppError>((groups, callers))
        })
        .await?;
    let matrix = PriorityMatrix::preset(MatrixPreset::Itil);
    let first = core
        .store
        .write(async move |tx| {
            Ok::<_, AppError>(sigap_store::task::reserve_numbers(tx, "INC", count as i64).await?)
        })
        .await?;
    let span_us: i64 = 5 * 365 * 24 * 3600 * 1_000_000;
    let mut sample = Vec::new();
    let mut made = 0usize;
    let mut writing: Option<tokio::task::JoinHandle<AppResult<()>>> = None;
    while made < count {
        let n = (count - made).min(BATCH);
        let mut batch = Vec::with_capacity(n);
        for k in 0..n {
            let idx = made + k;
            let number = format!("INC{:07}", first[idx]);
            let what = WHAT[rng.below(WHAT.len())].replace("{n}", &(1 + rng.below(40)).to_string());
            let mut description = DETAIL[rng.below(DETAIL.len())].to_owned();
            if rng.below(100_000) == 0 {
                description.push_str(" The kaleidoscope screensaver froze.");
            }
            let state = match rng.below(100) {
                0..=69 => IncidentState::Closed,
                70..=79 => IncidentState::Resolved,
                80..=89 => IncidentState::InProgress,
                90..=94 => IncidentState::New,
                _ => IncidentState::OnHold,
            };
            let (g, _, members) = &groups[rng.below(groups.len())];
            let assigned = if state == IncidentState::New {
                None
            } else {
                rng.pick(members)
            };
            let impact =
                Level::parse(1 + rng.below(3) as i64).map_err(|e| AppError::Internal(e.message))?;
            let urgency =
                Level::parse(1 + rng.below(3) as i64).map_err(|e| AppError::Internal(e.message))?;
            // Spread over five years, newest last.
            let age = span_us - (idx as i64 * (span_us / count.max(1) as i64));
            let opened = now
                .checked_sub(jiff::SignedDuration::from_micros(age))
                .unwrap_or(now);
            let done = matches!(state, IncidentState::Resolved | IncidentState::Closed);
            // Resolved within the last four days: an older resolution would have been closed by
            // itself (after five days by default), and the desk's first autoclose would then
            // close a tenth of everything seeded.
            let resolved = match state {
                IncidentState::Closed => Some(opened),
                IncidentState::Resolved => Some(
                    now.checked_sub(jiff::SignedDuration::from_hours((idx % 96) as i64))
                        .unwrap_or(now)
                        .max(opened),
                ),
                _ => None,
            };
            let (caller, caller_org) = match rng.pick(&callers) {
                Some((p, o)) => (Some(p), o),
                None => (None, None),
            };
            batch.push(SeedIncident {
                id: TaskId::new(),
                number: number.clone(),
                opened_at: opened,
                updated_at: resolved.unwrap_or(opened),
                fields: IncidentFields {
                    task: TaskFields {
                        short_description: what,
                        description,
                        state,
                        impact,
                        urgency,
                        priority: matrix.priority(impact, urgency),
                        caller_id: caller,
                        opened_by_id: caller,
                        assignment_group_id: Some(*g),
                        assigned_to_id: assigned,
                        service_id: None,
                        offering_id: None,
                        ci_id: None,
                        organization_id: caller_org,
                        category: Some(
                            ["hardware", "software", "network", "access"][rng.below(4)].to_owned(),
                        ),
                        subcategory: None,
                        contact_type: [
                            ContactType::Phone,
                            ContactType::Email,
                            ContactType::SelfService,
                        ][rng.below(3)],
                        parent_id: None,
                        resolved_at: resolved,
                        closed_at: (state == IncidentState::Closed).then_some(opened),
                        reassignment_count: 0,
                        reopen_count: 0,
                    },
                    ext: IncidentExt {
                        hold_reason: (state == IncidentState::OnHold)
                            .then_some(HoldReason::AwaitingVendor),
                        workaround: String::new(),
                        resolution_code: done.then(|| "solved_permanently".to_owned()),
                        resolution_notes: if done { "Fixed".into() } else { String::new() },
                        major: false,
                        priority_override_reason: None,
                    },
                },
            });
            if rng.below(500) == 0 && sample.len() < 2000 {
                sample.push(number);
            }
        }
        let entries: Vec<sigap_store::task::journal::NewEntry> = if journal {
            batch
                .iter()
                .map(|i| sigap_store::task::journal::NewEntry {
                    task: i.id,
                    kind: sigap_domain::task::JournalKind::Comment,
                    author_id: i.fields.caller_id,
                    author: "caller".into(),
                    body: i.fields.description.clone(),
                    changes: None,
                    at: i.opened_at,
                })
                .collect()
        } else {
            Vec::new()
        };
        let batch = std::sync::Arc::new((batch, entries));
        // Write this batch while the next one is generated.
        if let Some(w) = writing.take() {
            w.await
                .map_err(|e| AppError::Internal(format!("seeding stopped: {e}")))??;
            progress(made, count);
        }
        let store = core.store.clone();
        writing = Some(tokio::spawn(async move {
            store
                .write(async move |tx| {
                    sigap_store::incidents::bulk_insert(tx, &batch.0).await?;
                    sigap_store::task::journal::bulk_add_entries(tx, &batch.1).await?;
                    Ok::<_, AppError>(())
                })
                .await
        }));
        made += n;
    }
    if let Some(w) = writing.take() {
        w.await
            .map_err(|e| AppError::Internal(format!("seeding stopped: {e}")))??;
    }
    progress(made, count);
    Ok(SeededIncidents {
        count,
        groups: groups.iter().map(|g| g.1.clone()).collect(),
        sample,
        rare_word: "kaleidoscope",
        common_word: "printer",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_layered_and_repeatable() {
        let layers: Vec<Vec<CiId>> = (0..8)
            .map(|n| (0..(n + 1) * 20).map(|_| CiId::new()).collect())
            .collect();
        let a = relationships(&layers, &mut Rng::new(7));
        let b = relationships(&layers, &mut Rng::new(7));
        assert_eq!(a, b);
        assert!(!a.is_empty());
        // Every relationship points down the layers (or within the applications' tiers).
        let layer_of = |id: &CiId| layers.iter().position(|l| l.contains(id));
        for (s, _, t) in &a {
            assert!(layer_of(s) >= layer_of(t));
        }
    }

    #[test]
    fn articles_are_repeatable_help_text_with_distinct_rare_words() {
        let words: std::collections::BTreeSet<String> = (0..RARE_WORDS).map(rare_word).collect();
        assert_eq!(words.len(), RARE_WORDS);
        let (a, b) = (
            article_text(&mut Rng::new(3)),
            article_text(&mut Rng::new(3)),
        );
        assert_eq!(a, b);
        let (title, summary, body) = a;
        let lower = title.to_lowercase();
        assert!(
            SYSTEMS.iter().any(|s| lower.contains(&s.to_lowercase())),
            "{title}"
        );
        assert!(
            summary.ends_with('.') && body.contains("## Steps\n\n1. "),
            "{body}"
        );
        assert!(!body.contains('{'), "every slot is filled: {body}");
    }
}

// ----- SLA clocks -----

/// What `seed_clocks` made and measured.
#[derive(Debug, Clone)]
pub struct SeededClocks {
    pub clocks: usize,
    /// Clocks whose first warning (50 %) was crossed a quarter of an hour ago.
    pub due: usize,
    /// Due times computed on a business calendar with holidays, and how long that took.
    pub due_times: usize,
    pub due_time_secs: f64,
}

/// Gives every task without a clock a running resolution clock of a 24x7 agreement ("Seed
/// SLA", 8 hours, warnings at 50/75/100 %): `due` of them started 4 h 15 m ago (their 50 %
/// warning is due), the rest within the last three hours. Also computes, for each clock, its
/// due time on a business calendar with holidays, to measure that arithmetic.
pub async fn seed_clocks(core: &Core, ctx: &Ctx, due: usize, seed: u64) -> AppResult<SeededClocks> {
    ctx.principal.require(Role::Admin)?;
    bulk(core, generate_clocks(core, ctx, due, seed)).await
}

async fn generate_clocks(core: &Core, ctx: &Ctx, due: usize, seed: u64) -> AppResult<SeededClocks> {
    use jiff::SignedDuration;
    use sigap_domain::ClockId;
    use sigap_domain::calendar::{BusinessCalendar, Holiday, Span, weekdays};
    use sigap_domain::sla::{Metric, Stage};
    use sigap_store::sla::{self as repo, Clock};
    let mut rng = Rng::new(seed);
    let now = core.now();
    // The agreement and its target, made once.
    let name = "Seed SLA";
    let existing = crate::sla::agreements(core, ctx)
        .await?
        .into_iter()
        .find(|a| a.agreement.name == name);
    let agreement = match existing {
        Some(a) => a,
        None => {
            let a = crate::sla::create_agreement(
                core,
                ctx,
                crate::sla::AgreementInput {
                    name: Some(name.into()),
                    kind: Some("sla".into()),
                    valid_from: Some("2000-01-01".into()),
                    ..Default::default()
                },
            )
            .await?;
            crate::sla::add_target(
                core,
                ctx,
                &a.agreement.id.to_string(),
                crate::sla::TargetInput {
                    name: Some("Resolve in 8 h".into()),
                    metric: Some("resolution".into()),
                    duration_minutes: Some(480),
                    ..Default::default()
                },
            )
            .await?;
            crate::sla::agreement(core, ctx, &a.agreement.id.to_string()).await?
        }
    };
    let target = agreement
        .targets
        .first()
        .cloned()
        .ok_or_else(|| AppError::Internal("the seed agreement has no target".into()))?;
    let tasks = core
        .store
        .read(async |tx| repo::tasks_without_clocks(tx, i64::MAX).await)
        .await?;
    // Due times on a working calendar with a year of public holidays.
    let office = Span::new(8 * 60, 17 * 60).map_err(|e| AppError::Internal(e.message))?;
    let zone = BusinessCalendar::zone("Asia/Jakarta").map_err(|e| AppError::Internal(e.message))?;
    let holidays: Vec<Holiday> = [
        (1, 1),
        (1, 29),
        (3, 20),
        (3, 31),
        (4, 1),
        (4, 18),
        (5, 1),
        (5, 12),
        (5, 29),
        (6, 1),
        (6, 6),
        (6, 27),
        (8, 17),
        (9, 5),
        (12, 25),
        (12, 26),
    ]
    .iter()
    .filter_map(|(m, d)| jiff::civil::Date::new(2026, *m, *d).ok())
    .map(|date| Holiday {
        date,
        closed: None,
        recurring: true,
        name: String::new(),
    })
    .collect();
    let calendar = BusinessCalendar::new(zone, weekdays(office), &holidays);
    let started = std::time::Instant::now();
    let mut checksum = 0i64;
    for (_, opened) in &tasks {
        let d = SignedDuration::from_mins(60 + (rng.below(60 * 40) as i64));
        if let Some(t) = std::hint::black_box(calendar.add_business(*opened, d)) {
            checksum = checksum.wrapping_add(t.as_second());
        }
    }
    let due_time_secs = started.elapsed().as_secs_f64();
    std::hint::black_box(checksum);
    let duration = SignedDuration::from_secs(target.duration_secs);
    let clocks: Vec<Clock> = tasks
        .iter()
        .enumerate()
        .map(|(k, (task, _))| {
            let ago = if k < due {
                SignedDuration::from_mins(4 * 60 + 15)
            } else {
                SignedDuration::from_mins(rng.below(180) as i64)
            };
            let start = now.checked_sub(ago).unwrap_or(now);
            Clock {
                id: ClockId::new(),
                task_id: *task,
                agreement_id: agreement.agreement.id,
                metric: Metric::Resolution,
                target_id: Some(target.id),
                target_name: target.name.clone(),
                duration_secs: target.duration_secs,
                time_zone: "UTC".into(),
                stage: Stage::InProgress.code().into(),
                started_at: start,
                ended_at: None,
                end_kind: None,
                due_at: start.checked_add(duration).ok(),
                business_us: 0,
                breached: false,
                next_check_at: start.checked_add(duration / 2).ok(),
                thresholds_done: 0,
                version: 1,
                updated_at: now,
            }
        })
        .collect();
    let count = clocks.len();
    for batch in clocks.chunks(20_000) {
        let batch = batch.to_vec();
        core.store
            .write(async move |tx| Ok::<_, AppError>(repo::bulk_insert_clocks(tx, &batch).await?))
            .await?;
    }
    Ok(SeededClocks {
        clocks: count,
        due: due.min(count),
        due_times: tasks.len(),
        due_time_secs,
    })
}

// ----- the service catalogue and its requests -----

/// What `seed_requests` made: the sizes, and a requester and their manager to sign in as.
#[derive(Debug, Clone)]
pub struct SeededRequests {
    pub items: usize,
    pub requests: usize,
    pub waiting: usize,
    pub requester: String,
    pub manager: String,
}

/// What the seeded items are called (each with its number).
const ITEM_NAMES: &[&str] = &[
    "Laptop",
    "Monitor",
    "Desk phone",
    "Headset",
    "Shared mailbox",
    "VPN access",
    "Printer access",
    "Software licence",
    "Standing desk",
    "Access badge",
];

/// A catalogue of `items` items in fifty categories on one service in the catalogue, ten
/// managers and two hundred requesters, and `count` requests of one item each over two
/// years: nine in ten closed complete, the others waiting for their manager's approval.
pub async fn seed_requests(
    core: &Core,
    items: usize,
    count: usize,
    seed: u64,
) -> AppResult<SeededRequests> {
    bulk(core, generate_requests(core, items, count, seed)).await
}

async fn generate_requests(
    core: &Core,
    items: usize,
    count: usize,
    seed: u64,
) -> AppResult<SeededRequests> {
    use sigap_domain::approval::{Rule, Stage as ApprovalStage};
    use sigap_domain::catalog::{Form, Plan, PlannedTask, Variable, VariableKind};
    use sigap_domain::process::request::{RequestItemState, RequestState};
    use sigap_domain::task::{ContactType, Priority};
    use sigap_domain::{
        CatalogCategoryId, CatalogItemId, GroupId, GroupType, Locale, PersonId, TaskId,
    };
    use sigap_store::catalog::{CategoryFields, ItemFields};
    use sigap_store::requests::{RequestExt, RequestFields, RequestItemExt, RequestItemFields};
    use sigap_store::task::TaskFields;
    let (tag, now) = (seed, core.now());
    let mut rng = Rng::new(seed);
    let var =
        |name: &str, kind: VariableKind, label: &str, options: &[&str], required: bool| Variable {
            name: name.into(),
            kind,
            label_en: label.into(),
            label_id: format!("{label} (id)"),
            help_en: String::new(),
            help_id: String::new(),
            required,
            default: None,
            order: 0,
            min: None,
            max: None,
            options: options.iter().map(|o| (*o).to_owned()).collect(),
            ci_class: None,
            show_when: None,
        };
    let form = Form::new(vec![
        var("reason", VariableKind::Text, "Reason", &[], true),
        var(
            "model",
            VariableKind::Choice,
            "Model",
            &["Standard", "Large"],
            false,
        ),
        var("count", VariableKind::Number, "How many", &[], false),
        var("urgent", VariableKind::YesNo, "Urgent", &[], false),
    ])
    .map_err(|e| AppError::Internal(format!("seed form: {e:?}")))?;
    let form = serde_json::to_string(&form).unwrap_or_default();
    let item_form = form.clone();
    // People, a fulfilment group, a service in the catalogue with an offering, categories,
    // and the items.
    let (requesters, item_ids, first) = core
        .store
        .write(async move |tx| {
            let person =
                async |tx: &mut sigap_store::Tx<'_>, login: String, manager: Option<PersonId>| {
                    sigap_store::people::insert(
                        tx,
                        PersonId::new(),
                        &sigap_store::people::PersonFields {
                            name: format!("Seed {login}"),
                            login,
                            email: None,
                            locale: Locale::Id,
                            time_zone: "Asia/Jakarta".into(),
                            active: true,
                            organization_id: None,
                            roles: vec![Role::Requester],
                            manager_id: manager,
                        },
                        None,
                        now,
                    )
                    .await
                    .map(|p| p.id)
                };
            let mut managers = Vec::new();
            for m in 0..10 {
                managers.push(person(tx, format!("manager{tag}-{m}"), None).await?);
            }
            let mut requesters = Vec::new();
            for c in 0..200 {
                let login = format!("requester{tag}-{c}");
                requesters.push((
                    person(tx, login, Some(managers[c % 10])).await?,
                    managers[c % 10],
                ));
            }
            let group = sigap_store::groups::insert(
                tx,
                GroupId::new(),
                &sigap_store::groups::GroupFields {
                    name: format!("Seed fulfilment {tag}"),
                    group_type: GroupType::Technical,
                    description: String::new(),
                    email: None,
                    manager_id: None,
                    active: true,
                },
                now,
            )
            .await?;
            let service = portfolio::insert(
                tx,
                ServiceId::new(),
                &ServiceFields {
                    name: format!("Seed workplace {tag}"),
                    description: String::new(),
                    value_outcomes: String::new(),
                    criticality: Criticality::parse(3)
                        .map_err(|e| AppError::Internal(e.message))?,
                    owner_id: None,
                    sponsor_id: None,
                    requester_id: None,
                    design_group_id: None,
                    planned_cost: None,
                    actual_cost: None,
                    review_date: None,
                    design: json!({}),
                },
                Stage::Operational,
                now,
            )
            .await?;
            let offering = portfolio::insert_offering(
                tx,
                OfferingId::new(),
                service.id,
                &OfferingFields {
                    name: "Standard".into(),
                    description: String::new(),
                    availability_hours: "24x7".into(),
                    active: true,
                },
                now,
            )
            .await?;
            let mut categories = Vec::new();
            for t in 0..10 {
                let top = CatalogCategoryId::new();
                let f =
                    |name: String, parent: Option<CatalogCategoryId>, order: i64| CategoryFields {
                        name,
                        parent_id: parent,
                        description: String::new(),
                        order,
                        active: true,
                    };
                sigap_store::catalog::insert_category(
                    tx,
                    top,
                    &f(format!("Seed area {tag}-{t}"), None, t),
                    now,
                )
                .await?;
                for s in 0..4 {
                    let id = CatalogCategoryId::new();
                    let name = format!("Seed shelf {tag}-{t}-{s}");
                    sigap_store::catalog::insert_category(tx, id, &f(name, Some(top), s), now)
                        .await?;
                    categories.push(id);
                }
            }
            let plan = Plan::new(vec![
                PlannedTask {
                    order: 10,
                    group: group.id,
                    short_description: "Prepare".into(),
                    description: String::new(),
                },
                PlannedTask {
                    order: 20,
                    group: group.id,
                    short_description: "Deliver".into(),
                    description: String::new(),
                },
            ])
            .map_err(|e| AppError::Internal(format!("seed plan: {e:?}")))?;
            let manager_rule = Rule::new(vec![ApprovalStage::Manager])
                .map_err(|e| AppError::Internal(e.message))?;
            let mut item_ids = Vec::new();
            for i in 0..items {
                let base = ITEM_NAMES[i % ITEM_NAMES.len()];
                let asks = i % 2 == 0;
                let rule = if asks {
                    manager_rule.clone()
                } else {
                    Rule::none()
                };
                let id = CatalogItemId::new();
                let f = ItemFields {
                    name: format!("{base} {tag}-{i}"),
                    category_id: Some(categories[i % categories.len()]),
                    offering_id: offering.id,
                    kind: "ordinary".into(),
                    short_description: format!("A {} for work", base.to_lowercase()),
                    description: String::new(),
                    price: 100_000 * (1 + (i % 50) as i64),
                    recurring_price: 0,
                    delivery_hours: Some(8 + (i % 5) as i64 * 8),
                    calendar_id: None,
                    audience: "{}".into(),
                    form: item_form.clone(),
                    approval: serde_json::to_string(&rule).unwrap_or_default(),
                    plan: serde_json::to_string(&plan).unwrap_or_default(),
                    active: true,
                };
                sigap_store::catalog::insert_item(tx, id, &f, now).await?;
                item_ids.push((id, f.name, asks, rule, f.price, service.id, offering.id));
            }
            let first = (format!("requester{tag}-0"), format!("manager{tag}-0"));
            Ok::<_, AppError>((requesters, item_ids, first))
        })
        .await?;
    // The requests, in large transactions.
    const BATCH: usize = 5_000;
    let mut made = 0;
    let mut waiting = 0;
    let answers = r#"[["reason","Seeded"],["model","Standard"]]"#;
    while made < count {
        let n = BATCH.min(count - made);
        let mut rows = Vec::with_capacity(n);
        for k in 0..n {
            let (who, manager) = requesters[rng.below(requesters.len())];
            let item = &item_ids[rng.below(item_ids.len())];
            let open = item.2 && rng.below(10) == 0;
            let age = jiff::SignedDuration::from_secs(((count - made - k) as i64) * 630);
            let at = now.checked_sub(age).unwrap_or(now);
            rows.push((who, manager, item.clone(), open, at));
            waiting += usize::from(open);
        }
        let rows = std::sync::Arc::new(rows);
        let (answers, form) = (answers.to_owned(), form.clone());
        core.store
            .write(async move |tx| {
                let req0 = sigap_store::task::reserve_numbers(tx, "REQ", rows.len() as i64).await?;
                let item0 =
                    sigap_store::task::reserve_numbers(tx, "RITM", rows.len() as i64).await?;
                for (k, (who, manager, item, open, at)) in rows.iter().enumerate() {
                    let (item_id, name, _asks, rule, price, service, offering) = item;
                    let mut t = TaskFields::new(
                        if *open {
                            RequestState::Open
                        } else {
                            RequestState::ClosedComplete
                        },
                        Priority::LOWEST,
                        Some(*who),
                    );
                    t.short_description = name.clone();
                    t.contact_type = ContactType::SelfService;
                    t.closed_at = (!open).then_some(*at);
                    t.service_id = Some(*service);
                    t.offering_id = Some(*offering);
                    let request_id = TaskId::new();
                    let number = format!("REQ{:07}", req0[k]);
                    let request = RequestFields {
                        task: t.clone(),
                        ext: RequestExt {
                            price: *price,
                            due_at: None,
                        },
                    };
                    sigap_store::task::insert(tx, request_id, &number, &request, *at).await?;
                    let state = if *open {
                        RequestItemState::WaitingForApproval
                    } else {
                        RequestItemState::Complete
                    };
                    let mut f = TaskFields::new(state, Priority::LOWEST, Some(*who));
                    f.short_description = name.clone();
                    f.contact_type = ContactType::SelfService;
                    f.closed_at = t.closed_at;
                    f.resolved_at = t.closed_at;
                    f.service_id = Some(*service);
                    f.offering_id = Some(*offering);
                    f.parent_id = Some(request_id);
                    let id = TaskId::new();
                    let approval = match (open, rule.stages().is_empty()) {
                        (true, _) => "requested",
                        (false, true) => "not_required",
                        (false, false) => "approved",
                    };
                    let fields = RequestItemFields {
                        task: f,
                        ext: RequestItemExt {
                            item_id: *item_id,
                            item_kind: "ordinary".into(),
                            quantity: 1,
                            price: *price,
                            recurring_price: 0,
                            form: form.clone(),
                            answers: answers.clone(),
                            shown: "{}".into(),
                            approval_rule: serde_json::to_string(rule).unwrap_or_default(),
                            approval: approval.into(),
                            stage: 0,
                            delivery_hours: None,
                            due_at: None,
                            plan: "[]".into(),
                        },
                    };
                    let number = format!("RITM{:07}", item0[k]);
                    sigap_store::task::insert(tx, id, &number, &fields, *at).await?;
                    if *open {
                        sigap_store::approvals::ask(tx, id, (1, 0), *manager, None, *at).await?;
                    }
                }
                Ok::<_, AppError>(())
            })
            .await?;
        made += n;
    }
    Ok(SeededRequests {
        items,
        requests: count,
        waiting,
        requester: first.0,
        manager: first.1,
    })
}

/// What `seed_changes` made.
#[derive(Debug, Clone)]
pub struct SeededChanges {
    pub scheduled: usize,
    pub pending: usize,
    /// Rows kept for the conflict check (the changes' CIs and what they reach).
    pub reach_rows: usize,
}

/// Changes on the CIs of a seeded CMDB (administrators' tool; run `seed cmdb` first):
/// `scheduled` normal changes, authorized and scheduled in windows of one to eight hours over
/// the year from a month ago, and `pending` ones authorized but not yet scheduled (the
/// benchmark schedules them). Each affects one random CI; its reach is kept as scheduling
/// keeps it.
pub async fn seed_changes(
    core: &Core,
    scheduled: usize,
    pending: usize,
    seed: u64,
) -> AppResult<SeededChanges> {
    bulk(core, generate_changes(core, scheduled, pending, seed)).await
}

async fn generate_changes(
    core: &Core,
    scheduled: usize,
    pending: usize,
    seed: u64,
) -> AppResult<SeededChanges> {
    use sigap_domain::process::change::{ChangeApproval, ChangeState, ChangeType, RiskLevel};
    use sigap_domain::task::{ContactType, Priority};
    use sigap_domain::{GroupId, GroupType, TaskId};
    use sigap_store::changes::{ChangeExt, ChangeFields};
    use sigap_store::task::TaskFields;
    let (tag, now) = (seed, core.now());
    let mut rng = Rng::new(seed);
    let (cis, group) = core
        .store
        .write(async move |tx| {
            let cis = repo::all_ci_ids(tx, 1_000_000).await?;
            let group = sigap_store::groups::insert(
                tx,
                GroupId::new(),
                &sigap_store::groups::GroupFields {
                    name: format!("Seed change {tag}"),
                    group_type: GroupType::Technical,
                    description: String::new(),
                    email: None,
                    manager_id: None,
                    active: true,
                },
                now,
            )
            .await?;
            Ok::<_, AppError>((cis, group.id))
        })
        .await?;
    if cis.is_empty() {
        return Err(AppError::Conflict {
            code: "no_cmdb",
            message: "there are no CIs: run `sigap seed cmdb` first".into(),
            field: None,
        });
    }
    const BATCH: usize = 500;
    let total = scheduled + pending;
    let (mut made, mut rows) = (0, 0);
    while made < total {
        let n = BATCH.min(total - made);
        let mut batch = Vec::with_capacity(n);
        for k in 0..n {
            let ci = cis[rng.below(cis.len())];
            let hours = rng.below(365 * 24) as i64 - 30 * 24;
            let start = now
                .checked_add(jiff::SignedDuration::from_hours(hours))
                .unwrap_or(now);
            let len = 1 + rng.below(8) as i64;
            let end = start
                .checked_add(jiff::SignedDuration::from_hours(len))
                .unwrap_or(start);
            batch.push((ci, start, end, made + k >= scheduled));
        }
        let batch = std::sync::Arc::new(batch);
        rows += core
            .store
            .write(async move |tx| {
                let first =
                    sigap_store::task::reserve_numbers(tx, "CHG", batch.len() as i64).await?;
                let mut rows = 0;
                for (k, (ci, start, end, waiting)) in batch.iter().enumerate() {
                    let state = if *waiting {
                        ChangeState::Authorize
                    } else {
                        ChangeState::Scheduled
                    };
                    let mut t = TaskFields::new(state, Priority::LOWEST, None);
                    t.short_description = format!("Seeded change {tag}-{}", first[k]);
                    t.contact_type = ContactType::Api;
                    t.assignment_group_id = Some(group);
                    t.ci_id = Some(*ci);
                    let f = ChangeFields {
                        task: t,
                        ext: ChangeExt {
                            change_type: ChangeType::Normal,
                            implementation_plan: "Seeded".into(),
                            backout_plan: "Seeded".into(),
                            test_plan: "Seeded".into(),
                            planned_start: Some(*start),
                            planned_end: Some(*end),
                            risk: Some(RiskLevel::Low),
                            risk_score: Some(0),
                            risk_answers: "{}".into(),
                            impact_risk: Some(RiskLevel::Low),
                            approval: ChangeApproval::Approved,
                            approval_rule: "[]".into(),
                            ..ChangeExt::default()
                        },
                    };
                    let id = TaskId::new();
                    let number = format!("CHG{:07}", first[k]);
                    let opened = start
                        .checked_sub(jiff::SignedDuration::from_hours(24 * 14))
                        .unwrap_or(*start);
                    sigap_store::task::insert(tx, id, &number, &f, opened.min(now)).await?;
                    let reached =
                        crate::cmdb::reach_in(tx, &[*ci], crate::changes::REACH_LIMIT).await?;
                    sigap_store::changes::set_cis(tx, id, &[*ci], &reached).await?;
                    rows += 1 + reached.len();
                }
                Ok::<_, AppError>(rows)
            })
            .await?;
        made += n;
    }
    Ok(SeededChanges {
        scheduled,
        pending,
        reach_rows: rows,
    })
}

// ----- knowledge articles -----

/// What `seed_articles` made, for the benchmark to aim at.
#[derive(Debug, Clone)]
pub struct SeededArticles {
    pub count: usize,
    pub knowledge_base: String,
    /// The first and last numbers written.
    pub first: String,
    pub last: String,
    /// A generated word found in a handful of articles, and two words found in many.
    pub rare_word: String,
    pub common_words: &'static str,
}

const SYSTEMS: &[&str] = &[
    "VPN",
    "Outlook",
    "printer",
    "Wi-Fi",
    "SAP",
    "Teams",
    "laptop",
    "password",
    "MFA",
    "SharePoint",
    "OneDrive",
    "Excel",
    "Zoom",
    "Chrome",
    "Windows",
    "docking station",
    "monitor",
    "headset",
    "shared drive",
    "payroll portal",
    "Citrix",
    "Jira",
    "webcam",
    "mobile phone",
    "email",
    "Salesforce",
    "badge reader",
    "scanner",
    "keyboard",
    "calendar",
];
const PROBLEMS: &[&str] = &[
    "keeps disconnecting",
    "is very slow",
    "will not start",
    "crashes on launch",
    "shows a certificate error",
    "cannot connect to the server",
    "freezes every few minutes",
    "does not sync",
    "keeps asking for the password",
    "prints blank pages",
    "shows a blank screen",
    "stops responding",
    "loses the connection",
    "rejects the login",
    "is locked out",
    "shows an access denied error",
    "cannot find the network",
    "drops calls",
    "runs out of storage",
    "displays the wrong time",
    "has no sound",
    "will not update",
    "logs out by itself",
    "opens in safe mode",
    "is missing from the menu",
    "shows an expired license",
    "cannot send messages",
    "does not detect the device",
    "reports a disk error",
    "uses too much memory",
];
const VERBS: &[&str] = &[
    "reset",
    "configure",
    "install",
    "update",
    "reinstall",
    "enable",
    "disable",
    "remove",
    "clear",
    "restore",
    "share",
    "export",
    "import",
    "map",
    "connect",
    "set up",
    "renew",
    "unlock",
    "recover",
    "sync",
    "back up",
    "change",
    "check",
    "repair",
    "move",
    "archive",
    "rename",
    "register",
    "troubleshoot",
    "find",
];
const OBJECTS: &[&str] = &[
    "the cache",
    "your profile",
    "a shared mailbox",
    "the driver",
    "the certificate",
    "your password",
    "a network drive",
    "the calendar",
    "notifications",
    "the default printer",
    "offline files",
    "the email signature",
    "a second screen",
    "the proxy settings",
    "two-factor sign-in",
    "the recovery key",
    "the license",
    "your contacts",
    "the browser extension",
    "a meeting room",
    "the automatic reply",
    "the firmware",
    "folder permissions",
    "the display language",
    "the home folder",
    "the security token",
    "the keyboard layout",
    "the audio device",
    "the VPN profile",
    "a distribution list",
];
const EVENTS: &[&str] = &[
    "the Windows update",
    "a password change",
    "the office move",
    "waking from sleep",
    "the mailbox migration",
    "a restart",
    "the new badge was issued",
    "connecting to hotel Wi-Fi",
    "installing the new client",
    "the certificate renewal",
    "switching networks",
    "the firmware upgrade",
    "a name change",
    "returning from leave",
    "the laptop refresh",
    "the weekend maintenance",
    "the antivirus update",
    "joining the domain",
    "the phone was replaced",
    "a power cut",
];
/// Sentence frames: `{s}` the article's system, `{s2}` any system, `{o}`, `{v}`, `{p}`, `{e}`
/// its object, verb, problem and event, `{n}` a small number, `{w}` a rarer word. With the
/// openers they make a few hundred templates.
const FRAMES: &[&str] = &[
    "open {s} and choose Settings, then {v} {o}.",
    "if {s} still {p}, restart the computer and try again.",
    "sign out of {s}, wait one minute and sign in again.",
    "make sure {o} is up to date before you continue.",
    "several users reported that {s} {p} after {e}.",
    "this usually happens when {o} is out of date or damaged.",
    "do not share your password with anyone, including the service desk.",
    "the service desk can {v} {o} for you if you do not have administrator rights.",
    "check that the cable is connected and the status light is green.",
    "close every other application that uses {s2} before you start.",
    "write down the error code shown by {s} and add it to your ticket.",
    "on a company laptop, connect to the VPN first so that the policy can be applied.",
    "the change takes effect after about {n} minutes.",
    "if you work from home, check that your router is on and the internet connection works.",
    "select the {s} icon in the taskbar and look for a warning sign.",
    "you may need to {v} {o} again after {e}.",
    "go to the self-service portal and search for {s2} to find related requests.",
    "a restart of {s2} fixes the problem in most cases.",
    "keep the device plugged in while {o} is being updated.",
    "when the problem affects the whole team, report it as a major incident.",
    "press Ctrl+Alt+Delete and choose Change a password to set a new one.",
    "your new password must have at least {n} characters and may not repeat an old one.",
    "approve the sign-in request on your phone when {s} asks for it.",
    "remove the old entry from the list and add it again.",
    "the {w} setting controls how {s} handles {o}.",
    "administrators can see the {w} log under Advanced options.",
    "the same fix was confirmed on {s2} as well.",
    "take a screenshot of the message and attach it to the incident.",
    "try the web version of {s} to see whether the problem is on your device.",
    "clear the browser history and the saved cookies, then reload the page.",
    "wait until the synchronisation icon stops turning before you close {s}.",
    "the problem does not occur on the guest network or with {w} disabled.",
    "ask your manager to approve the access request in the portal.",
    "data kept on the {w} server is backed up every night.",
    "if nothing helps, open an incident and the second line team will contact you.",
    "{s} {p} when {o} was changed by another tool such as {s2}.",
];
const OPENERS: &[&str] = &[
    "",
    "",
    "",
    "first, ",
    "next, ",
    "then ",
    "if that fails, ",
    "afterwards, ",
    "in most cases ",
    "note: ",
    "tip: ",
    "important: ",
];

/// A generated word of rank `rank` (0 is the most frequent): two syllables, none alike.
fn rare_word(rank: usize) -> String {
    const C: &[u8] = b"bcdfghklmnprstvz";
    const V: &[u8] = b"aeiou";
    const END: &[&str] = &["", "n", "r", "l", "s", "x"];
    let n = C.len() * V.len() * END.len();
    let code = (rank * 7919 + 12_345) % (n * n);
    let mut w = String::new();
    for s in [code / n, code % n] {
        w.push(char::from(C[s % C.len()]));
        w.push(char::from(V[s / C.len() % V.len()]));
        w.push_str(END[s / (C.len() * V.len())]);
    }
    w
}

/// The rarer words: 5,000, picked with a Zipf-like (log-uniform) distribution of ranks.
const RARE_WORDS: usize = 5_000;

fn zipf_word(rng: &mut Rng) -> String {
    let u = (rng.next() >> 11) as f64 / (1u64 << 53) as f64;
    rare_word(((RARE_WORDS as f64).powf(u) as usize).clamp(1, RARE_WORDS) - 1)
}

/// What an article is about.
struct Topic {
    system: &'static str,
    problem: &'static str,
    verb: &'static str,
    object: &'static str,
    event: &'static str,
}

fn fill(template: &str, t: &Topic, rng: &mut Rng) -> String {
    let mut out = String::with_capacity(template.len() + 40);
    for (i, part) in template.split('{').enumerate() {
        let Some((key, rest)) = part.split_once('}').filter(|_| i > 0) else {
            out.push_str(part);
            continue;
        };
        match key {
            "s" => out.push_str(t.system),
            "s2" => out.push_str(SYSTEMS[rng.below(SYSTEMS.len())]),
            "o" => out.push_str(t.object),
            "v" => out.push_str(t.verb),
            "p" => out.push_str(t.problem),
            "e" => out.push_str(t.event),
            "n" => out.push_str(&(2 + rng.below(14)).to_string()),
            _ => out.push_str(&zipf_word(rng)),
        }
        out.push_str(rest);
    }
    capitalized(&out)
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Title, summary and body (Markdown) of a generated help article.
fn article_text(rng: &mut Rng) -> (String, String, String) {
    let t = Topic {
        system: SYSTEMS[rng.below(SYSTEMS.len())],
        problem: PROBLEMS[rng.below(PROBLEMS.len())],
        verb: VERBS[rng.below(VERBS.len())],
        object: OBJECTS[rng.below(OBJECTS.len())],
        event: EVENTS[rng.below(EVENTS.len())],
    };
    let title = match rng.below(4) {
        0 => "how to {v} {o} on {s}",
        1 => "{s} {p} after {e}",
        2 => "{s} {p}",
        _ => "cannot {v} {o} in {s}",
    };
    let summary = match rng.below(3) {
        0 => "what to do when {s} {p}.",
        1 => "steps to {v} {o} on {s}, for staff and contractors.",
        _ => "why {s} {p} after {e}, and how to fix it.",
    };
    let sentence = |rng: &mut Rng| {
        let opener = OPENERS[rng.below(OPENERS.len())];
        fill(
            &format!("{opener}{}", FRAMES[rng.below(FRAMES.len())]),
            &t,
            rng,
        )
    };
    let intro: Vec<String> = (0..2 + rng.below(3)).map(|_| sentence(rng)).collect();
    let steps: Vec<String> = (0..2 + rng.below(6))
        .map(|i| format!("{}. {}", i + 1, sentence(rng)))
        .collect();
    let closing: Vec<String> = (0..1 + rng.below(4)).map(|_| sentence(rng)).collect();
    let related: Vec<String> = (0..1 + rng.below(4)).map(|_| zipf_word(rng)).collect();
    let body = format!(
        "{}\n\n## Steps\n\n{}\n\n{}\n\nRelated terms: {}.\n",
        intro.join(" "),
        steps.join("\n"),
        closing.join(" "),
        related.join(", ")
    );
    (fill(title, &t, rng), fill(summary, &t, rng), body)
}

/// Published help articles in a knowledge base "Seed KB {seed}" (made when missing), for
/// the knowledge benchmark: generated IT-help titles and bodies over thirty systems, with
/// rarer generated words so that common words match many articles and rare ones few. One
/// in ten is in Indonesian (by its language; the words stay English), one in twenty for
/// agents only.
pub async fn seed_articles(core: &Core, count: usize, seed: u64) -> AppResult<SeededArticles> {
    bulk(core, generate_articles(core, count, seed)).await
}

async fn generate_articles(core: &Core, count: usize, seed: u64) -> AppResult<SeededArticles> {
    use sigap_domain::process::article::{ArticleState, Audience, VersionState};
    use sigap_domain::task::{ContactType, Priority};
    use sigap_domain::{Locale, TaskId};
    use sigap_store::knowledge::{self as kb, ArticleExt, ArticleFields, BaseFields, Content};
    use sigap_store::task::TaskFields;
    let (now, name) = (core.now(), format!("Seed KB {seed}"));
    let mut rng = Rng::new(seed);
    let base = name.clone();
    let kb_id = core
        .store
        .write(async move |tx| {
            Ok::<_, AppError>(match kb::base_by_name(tx, &base).await? {
                Some(b) => b.id,
                None => {
                    let f = BaseFields {
                        name: base.clone(),
                        description: "Generated help articles".into(),
                        owner_group_id: None,
                        reviewer_group_id: None,
                        active: true,
                    };
                    kb::insert_base(tx, &f, now).await?
                }
            })
        })
        .await?;
    const BATCH: usize = 2_000;
    let (mut made, mut numbers) = (0, (i64::MAX, 0));
    while made < count {
        let n = BATCH.min(count - made);
        let batch: Vec<_> = (0..n)
            .map(|_| {
                let (title, summary, body) = article_text(&mut rng);
                let plain = crate::markdown::plain_text(&body);
                let language = if rng.below(10) == 0 {
                    Locale::Id
                } else {
                    Locale::En
                };
                let audience = if rng.below(20) == 0 {
                    Audience::Agents
                } else {
                    Audience::Everyone
                };
                (title, summary, body, plain, language, audience)
            })
            .collect();
        let batch = std::sync::Arc::new(batch);
        let first = core
            .store
            .write(async move |tx| {
                let first =
                    sigap_store::task::reserve_numbers(tx, "KB", batch.len() as i64).await?;
                for (k, (title, summary, body, plain, language, audience)) in
                    batch.iter().enumerate()
                {
                    let mut task = TaskFields::new(ArticleState::Published, Priority::LOWEST, None);
                    task.short_description = title.clone();
                    task.description = body.clone();
                    task.contact_type = ContactType::Api;
                    let f = ArticleFields {
                        task,
                        ext: ArticleExt {
                            kb_id,
                            summary: summary.clone(),
                            language: *language,
                            audience: *audience,
                            head_version: 1,
                            published_version: Some(1),
                            published_at: Some(now),
                            ..ArticleExt::default()
                        },
                    };
                    let id = TaskId::new();
                    let number = format!("KB{:07}", first[k]);
                    sigap_store::task::insert(tx, id, &number, &f, now).await?;
                    let c = Content {
                        title,
                        summary,
                        body,
                    };
                    kb::insert_version(tx, id, 1, c, (None, "seed"), now).await?;
                    kb::set_version_state(tx, id, 1, VersionState::Published, now).await?;
                    kb::create_stats(tx, id).await?;
                    kb::index(tx, id, *language, Content { body: plain, ..c }).await?;
                }
                let span = (first.first().copied(), first.last().copied());
                Ok::<_, AppError>(span)
            })
            .await?;
        if let (Some(low), Some(high)) = first {
            numbers = (numbers.0.min(low), numbers.1.max(high));
        }
        made += n;
    }
    Ok(SeededArticles {
        count,
        knowledge_base: name,
        first: format!("KB{:07}", numbers.0.min(numbers.1)),
        last: format!("KB{:07}", numbers.1),
        rare_word: rare_word(3_000),
        common_words: "printer password",
    })
}
