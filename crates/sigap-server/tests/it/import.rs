//! `sigap import servicenow-incidents` with the real UCI export: every incident once, every
//! update in its journal, the final values of the file, each location once as a record the
//! incidents point at, and nothing new the second time.

use sigap_store::incidents as repo;
use sigap_testkit::{TestApp, both};
use std::collections::BTreeMap;
use std::io::Read;
use std::process::{Command, Output};

both!(the_servicenow_export_imports_completely_and_once);

/// The shared data folder: `SIGAP_SHARED_DATA`, or `shared/data` beside the repository.
fn data_file() -> anyhow::Result<std::path::PathBuf> {
    let mut candidates = Vec::new();
    if let Ok(d) = std::env::var("SIGAP_SHARED_DATA") {
        candidates.push(std::path::PathBuf::from(d));
    }
    let here = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for up in here.ancestors().skip(1) {
        candidates.push(up.join("shared/data"));
    }
    candidates.push("/work/shared/data".into());
    for c in candidates {
        let f = c.join("uci-incident-event-log/incident_event_log.csv.gz");
        if f.is_file() {
            return Ok(f);
        }
    }
    anyhow::bail!("the UCI export is not found: set SIGAP_SHARED_DATA to the shared data folder")
}

fn sigap(app: &TestApp, args: &[&str]) -> anyhow::Result<Output> {
    let out = Command::new(env!("CARGO_BIN_EXE_sigap"))
        .args(args)
        .args(["--database-url", &app.db.url])
        .env("SIGAP_LOG", "warn")
        .output()?;
    anyhow::ensure!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(out)
}

/// What the file says of each incident at its last row.
struct Expected {
    state: &'static str,
    priority: i64,
    reopen_count: i64,
    opened_at: String,
    resolved_at: Option<String>,
    closed_at: Option<String>,
    location: Option<String>,
    rows: usize,
}

fn iso(v: &str) -> anyhow::Result<Option<String>> {
    if v == "?" {
        return Ok(None);
    }
    let (d, t) = v
        .split_once(' ')
        .ok_or_else(|| anyhow::anyhow!("date {v}"))?;
    let p: Vec<&str> = d.split('/').collect();
    anyhow::ensure!(p.len() == 3, "date {v}");
    let (h, m) = t
        .split_once(':')
        .ok_or_else(|| anyhow::anyhow!("time {v}"))?;
    Ok(Some(format!(
        "{}-{:02}-{:02}T{:02}:{:02}:00Z",
        p[2],
        p[1].parse::<u8>()?,
        p[0].parse::<u8>()?,
        h.parse::<u8>()?,
        m.parse::<u8>()?
    )))
}

/// Each incident's final values, and every location the file names.
fn expected(
    path: &std::path::Path,
) -> anyhow::Result<(
    BTreeMap<String, Expected>,
    std::collections::BTreeSet<String>,
)> {
    let mut text = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path)?).read_to_end(&mut text)?;
    let mut r = csv::Reader::from_reader(&text[..]);
    let h = r.headers()?.clone();
    let col = |n: &str| {
        h.iter()
            .position(|x| x == n)
            .ok_or_else(|| anyhow::anyhow!("no {n}"))
    };
    let loc = col("location")?;
    let mut locations = std::collections::BTreeSet::new();
    let (num, st, pri, reo, op, res, clo) = (
        col("number")?,
        col("incident_state")?,
        col("priority")?,
        col("reopen_count")?,
        col("opened_at")?,
        col("resolved_at")?,
        col("closed_at")?,
    );
    let mut out: BTreeMap<String, Expected> = BTreeMap::new();
    for rec in r.records() {
        let rec = rec?;
        let g = |i: usize| rec.get(i).unwrap_or("").to_owned();
        let state = match g(st).as_str() {
            "New" => "new",
            "Active" => "in_progress",
            "Resolved" => "resolved",
            "Closed" => "closed",
            "-100" => "",
            _ => "on_hold",
        };
        let e = out.entry(g(num)).or_insert(Expected {
            state: "",
            priority: 0,
            reopen_count: 0,
            opened_at: String::new(),
            resolved_at: None,
            closed_at: None,
            location: None,
            rows: 0,
        });
        if !state.is_empty() {
            e.state = state;
        }
        e.priority = g(pri).split(" - ").next().unwrap_or("0").parse()?;
        e.reopen_count = g(reo).parse()?;
        e.opened_at = iso(&g(op))?.unwrap_or_default();
        e.resolved_at = iso(&g(res))?;
        e.closed_at = iso(&g(clo))?;
        e.location = Some(g(loc)).filter(|l| l != "?");
        if let Some(l) = &e.location {
            locations.insert(l.clone());
        }
        e.rows += 1;
    }
    Ok((out, locations))
}

async fn the_servicenow_export_imports_completely_and_once(app: TestApp) -> anyhow::Result<()> {
    let file = data_file()?;
    let path = file.to_string_lossy().into_owned();
    let (want, locations) = expected(&file)?;
    assert_eq!(want.len(), 24_918);
    assert_eq!(want.values().map(|e| e.rows).sum::<usize>(), 141_712);
    // A dry run writes nothing.
    let out = sigap(
        &app,
        &["import", "servicenow-incidents", &path, "--dry-run"],
    )?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("dry run") && text.contains("24918 created"),
        "{text}"
    );
    let none = app
        .core
        .store
        .read(async |tx| repo::find_by_number(tx, "INC0000045").await)
        .await?;
    assert!(none.is_none(), "a dry run imported");
    // The import.
    let out = sigap(&app, &["import", "servicenow-incidents", &path])?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("24918 created, 0 changed, 0 unchanged, 0 skipped; 141712 journal entries"),
        "{text}"
    );
    assert!(
        text.contains(&format!(" {} locations,", locations.len())),
        "{text}"
    );
    // Every incident against the file.
    let numbers: Vec<String> = want.keys().cloned().collect();
    let got = app
        .core
        .store
        .read(async move |tx| {
            let mut got = Vec::with_capacity(numbers.len());
            for n in &numbers {
                let i = repo::find_by_number(tx, n).await?;
                let entries = match &i {
                    Some(i) => sigap_store::task::journal::entries(tx, i.id, true)
                        .await?
                        .len(),
                    None => 0,
                };
                got.push((n.clone(), i, entries));
            }
            Ok::<_, sigap_store::StoreError>(got)
        })
        .await?;
    let mut wrong = Vec::new();
    for (n, i, entries) in &got {
        let (Some(i), Some(e)) = (i, want.get(n)) else {
            wrong.push(format!("{n}: missing"));
            continue;
        };
        let show = |t: Option<jiff::Timestamp>| t.map(|t| t.to_string());
        let fine = i.state.code() == e.state
            && i.priority.get() == e.priority
            && i.reopen_count == e.reopen_count
            && i.opened_at.to_string() == e.opened_at
            && show(i.resolved_at) == e.resolved_at
            && show(i.closed_at) == e.closed_at
            && i.location.as_ref().map(|l| l.name.clone()) == e.location
            && *entries == e.rows;
        if !fine {
            wrong.push(format!(
                "{n}: {} p{} r{} {} {:?} {:?} {:?} {} entries; file {} p{} r{} {} {:?} {:?} {:?} {} rows",
                i.state.code(),
                i.priority.get(),
                i.reopen_count,
                i.opened_at,
                show(i.resolved_at),
                show(i.closed_at),
                i.location.as_ref().map(|l| l.name.as_str()),
                entries,
                e.state,
                e.priority,
                e.reopen_count,
                e.opened_at,
                e.resolved_at,
                e.closed_at,
                e.location,
                e.rows
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} differ, e.g. {:?}",
        wrong.len(),
        &wrong[..wrong.len().min(5)]
    );
    // Each location is a record, once.
    let names: Vec<String> = locations.iter().cloned().collect();
    let records = app
        .core
        .store
        .read(async move |tx| {
            let mut found = Vec::new();
            for n in &names {
                found.push(sigap_store::locations::find_by_name(tx, n).await?);
            }
            Ok::<_, sigap_store::StoreError>(found)
        })
        .await?;
    let missing: Vec<&String> = locations
        .iter()
        .zip(&records)
        .filter(|(n, r)| r.as_ref().is_none_or(|r| &r.name != *n))
        .map(|(n, _)| n)
        .collect();
    assert!(missing.is_empty(), "locations missing: {missing:?}");
    let listed = sigap_core::locations::list(
        &app.core,
        &sigap_core::Ctx::system("test"),
        Default::default(),
        &sigap_core::listing::ListParams {
            limit: Some(500),
            ..Default::default()
        },
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))?;
    assert_eq!(listed.items.len(), locations.len(), "no location twice");
    // Again: nothing new, nothing changed.
    let out = sigap(&app, &["import", "servicenow-incidents", &path])?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("0 created, 0 changed, 24918 unchanged")
            && text.contains("created 0 people, 0 groups, 0 categories, 0 locations, 0 CIs"),
        "{text}"
    );
    // New incidents are numbered after the imported ones.
    let (_, agent) = app.person("agnes", &["agent"], None).await?;
    let i = crate::portfolio::post(
        &app,
        "/incidents",
        &agent,
        serde_json::json!({"short_description": "After the import"}),
    )
    .await?;
    let n: i64 = i["number"]
        .as_str()
        .unwrap_or("")
        .trim_start_matches("INC")
        .parse()?;
    assert!(n > 24_918, "numbered {n}");
    Ok(())
}
