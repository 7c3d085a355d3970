//! Bare SQLite, as the floor under Sigap's figures: rows shaped like Sigap's tasks (the same
//! columns and indexes, the states in the proportions `sigap seed` makes, each with its
//! incident row and full-text document, referring to people and groups by id; every id a
//! UUID's 16 bytes, as Sigap keeps them) loaded in large transactions, then one-row insert
//! transactions (what an API create costs the database at least), point reads by number
//! (what a get costs), the unassigned queue of one group by priority (what the queue listing
//! costs) and the newest matches of a full-text search for a rare and a common word joined to
//! their rows (what a search costs), each query in the same shape as Sigap's: the page chosen on the task rows,
//! then joined to the incident fields and the names of the caller, group and assignee.
//!
//! The same on PostgreSQL with `--postgres URL` (see `pg.rs`): Sigap's PostgreSQL tables,
//! reached through a pool of `--pool N` connections (16, Sigap's default), with the one-row
//! inserts also run from `--clients N` clients at once (16), and with each of
//! `--pool-sizes 4,16,32` as well when given.
//!
//!   sigap-bench-floor ROWS [INSERTS] [READS]
//!   sigap-bench-floor --postgres URL [--pool N] [--clients N] [--pool-sizes A,B,…] ROWS [INSERTS] [READS]
//!
//! Prints one line of `key=value`: `engine`, `loaded`, `rows_per_s`, `single_insert_per_s`,
//! and p50/p99 in microseconds of `read`, `update` (a one-row transaction), `queue`,
//! `search_rare` and `search_common`; on PostgreSQL also `clients`, `pool`,
//! `concurrent_insert_per_s` and `concurrent_insert_per_s_pool<N>` for each further size.
//! The PostgreSQL database given must be empty (the scripts make a fresh one and drop it).

mod pg;

use rusqlite::{Connection, params};
use std::time::Instant;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut flag = |name: &str| -> Option<String> {
        let i = args.iter().position(|a| a == name)?;
        let value = args.get(i + 1).cloned();
        args.drain(i..(i + 2).min(args.len()));
        value
    };
    let postgres = flag("--postgres");
    let pool: usize = flag("--pool").map_or(Ok(16), |a| a.parse())?;
    let clients: usize = flag("--clients").map_or(Ok(16), |a| a.parse())?;
    let pool_sizes = flag("--pool-sizes")
        .map(|a| a.split(',').filter(|s| !s.is_empty()).map(str::parse).collect::<Result<Vec<usize>, _>>())
        .transpose()?
        .unwrap_or_default();
    if let Some(a) = args.iter().find(|a| a.starts_with("--")) {
        return Err(format!("unknown flag {a}").into());
    }
    let mut args = args.into_iter();
    let rows: u64 = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let inserts: u64 = args.next().map_or(Ok(5_000), |a| a.parse())?;
    let reads: u64 = args.next().map_or(Ok(5_000), |a| a.parse())?;
    match postgres {
        Some(url) => tokio::runtime::Builder::new_multi_thread().enable_all().build()?.block_on(pg::run(
            pg::Options { url, pool, pool_sizes, clients, rows, inserts, reads },
        )),
        None => sqlite(rows, inserts, reads),
    }
}

fn sqlite(rows: u64, inserts: u64, reads: u64) -> Result<(), BoxError> {
    let dir = std::env::temp_dir().join(format!("sigap-floor-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("floor.sqlite");
    let conn = Connection::open(&path)?;
    conn.execute_batch(
        "PRAGMA page_size = 8192; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;
         CREATE TABLE task (id TEXT PRIMARY KEY, number TEXT NOT NULL, kind TEXT NOT NULL,
           short_description TEXT NOT NULL, description TEXT NOT NULL, state TEXT NOT NULL,
           impact INTEGER NOT NULL, urgency INTEGER NOT NULL, priority INTEGER NOT NULL,
           caller_id TEXT, assignment_group_id TEXT, assigned_to_id TEXT, organization_id TEXT,
           opened_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, resolved_at INTEGER,
           version INTEGER NOT NULL, search_key INTEGER NOT NULL);
         CREATE UNIQUE INDEX task_number ON task (number);
         CREATE UNIQUE INDEX task_search_key ON task (search_key);
         CREATE INDEX task_queue ON task (kind, state, assignment_group_id, priority, opened_at, id);
         CREATE INDEX task_assignee ON task (assigned_to_id, state, priority, opened_at, id);
         CREATE INDEX task_caller ON task (caller_id, opened_at, id);
         CREATE INDEX task_org ON task (organization_id, opened_at, id);
         CREATE INDEX task_priority ON task (kind, priority, opened_at, id);
         CREATE INDEX task_resolved ON task (resolved_at, id) WHERE state = 'resolved';
         CREATE INDEX task_unassigned ON task (kind, assignment_group_id, priority, opened_at, id)
           WHERE assigned_to_id IS NULL;
         CREATE TABLE incident (task_id TEXT PRIMARY KEY REFERENCES task (id), hold_reason TEXT,
           workaround TEXT NOT NULL, resolution_code TEXT, resolution_notes TEXT NOT NULL,
           major INTEGER NOT NULL);
         CREATE TABLE person (id TEXT PRIMARY KEY, login TEXT NOT NULL, name TEXT NOT NULL);
         CREATE TABLE support_group (id TEXT PRIMARY KEY, name TEXT NOT NULL);
         CREATE VIRTUAL TABLE task_search USING fts5(task_id UNINDEXED, document,
           tokenize = 'unicode61 remove_diacritics 2');",
    )?;
    // The people and groups the rows refer to, by id, as in Sigap.
    conn.execute_batch("BEGIN")?;
    for (prefix, n) in [("caller", 200), ("agent", 20)] {
        for i in 0..n {
            conn.execute(
                "INSERT INTO person (id, login, name) VALUES (?1, ?2, ?3)",
                params![uuid_bytes(PEOPLE_MS, tag(prefix) + i), format!("{prefix}{i}"), format!("Person {prefix} {i}")],
            )?;
        }
    }
    for i in 0..10 {
        conn.execute(
            "INSERT INTO support_group (id, name) VALUES (?1, ?2)",
            params![uuid_bytes(PEOPLE_MS, tag("group") + i), format!("Desk {i}")],
        )?;
    }
    conn.execute_batch("COMMIT")?;
    let mut seq: u64 = 0;
    let mut insert_one = |tx: &Connection, k: u64| -> rusqlite::Result<usize> {
        seq += 1;
        let TaskRow { id, number, what, detail, state, impact, urgency, priority, caller, group, agent, opened_us } =
            task_row(k);
        let n = tx
            .prepare_cached(
                "INSERT INTO task (id, number, kind, short_description, description, state, impact,
                 urgency, priority, caller_id, assignment_group_id, assigned_to_id, organization_id,
                 opened_at, updated_at, resolved_at, version, search_key)
                 VALUES (?1, ?2, 'incident', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12, ?12, NULL, 1, ?13)",
            )?
            .execute(params![
                id,
                number,
                what,
                detail,
                state,
                impact,
                urgency,
                priority,
                caller,
                group,
                agent,
                opened_us,
                seq as i64,
            ])?;
        tx.prepare_cached(
            "INSERT INTO incident (task_id, hold_reason, workaround, resolution_code, resolution_notes, major) \
             VALUES (?1, NULL, '', ?2, ?3, 0)",
        )?
        .execute(params![
            id,
            matches!(state, "resolved" | "closed").then_some("solved_permanently"),
            if matches!(state, "resolved" | "closed") { "Fixed" } else { "" }
        ])?;
        tx.prepare_cached("INSERT INTO task_search (rowid, task_id, document) VALUES (?1, ?2, ?3)")?
            .execute(params![seq as i64, id, format!("{number} {what} {detail}")])?;
        Ok(n)
    };
    let started = Instant::now();
    let mut k = 0;
    while k < rows {
        conn.execute_batch("BEGIN")?;
        for _ in 0..10_000.min(rows - k) {
            insert_one(&conn, k)?;
            k += 1;
        }
        conn.execute_batch("COMMIT")?;
    }
    let load = started.elapsed().as_secs_f64();
    let started = Instant::now();
    for _ in 0..inserts {
        conn.execute_batch("BEGIN IMMEDIATE")?;
        insert_one(&conn, k)?;
        conn.execute_batch("COMMIT")?;
        k += 1;
    }
    let single = started.elapsed().as_secs_f64();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    // Each measurement: `reads` runs of `one`, after 20 to warm up; p50 and p99 in µs.
    let measure = |one: &mut dyn FnMut(u64) -> rusqlite::Result<usize>| -> rusqlite::Result<(f64, f64, usize)> {
        let mut times = Vec::with_capacity(reads as usize);
        let mut found = 0;
        for i in 0..20 + reads {
            let t = Instant::now();
            found = one(i)?;
            if i >= 20 {
                times.push(t.elapsed().as_nanos() as u64);
            }
        }
        times.sort_unstable();
        let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1))] as f64 / 1000.0;
        Ok((pct(0.5), pct(0.99), found))
    };
    let read = measure(&mut |_| {
        let n = format!("INC{:07}", next() % rows.max(1));
        let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM task t {JOINS} WHERE t.number = ?1"))?;
        let mut found = 0;
        let mut rs = stmt.query([&n])?;
        while let Some(r) = rs.next()? {
            std::hint::black_box(r.get::<_, String>(1)?);
            found += 1;
        }
        Ok(found)
    })?;
    // A one-row update transaction: a new description, in the row and in its document.
    let update = measure(&mut |i| {
        let number = format!("INC{:07}", next() % rows.max(1));
        let text = format!("Benchmark update {i}");
        conn.execute_batch("BEGIN IMMEDIATE")?;
        let n = conn
            .prepare_cached(
                "UPDATE task SET description = ?1, updated_at = updated_at + 1, version = version + 1 \
                 WHERE number = ?2",
            )?
            .execute(params![text, number])?;
        conn.prepare_cached(
            "UPDATE task_search SET document = ?1 || ' ' || ?2 \
             WHERE rowid = (SELECT search_key FROM task WHERE number = ?1)",
        )?
        .execute(params![number, text])?;
        conn.execute_batch("COMMIT")?;
        Ok(n)
    })?;
    let rows_of = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> rusqlite::Result<usize> {
        let mut stmt = conn.prepare_cached(sql)?;
        let mut rs = stmt.query(p)?;
        let mut found = 0;
        while let Some(r) = rs.next()? {
            std::hint::black_box((r.get_ref(0)?.as_blob()?.len(), r.get::<_, String>(2)?));
            found += 1;
        }
        Ok(found)
    };
    let queue_sql = format!(
        "SELECT {COLUMNS} FROM (SELECT t.id AS k FROM task t WHERE t.kind = 'incident' \
         AND t.state IN ('new', 'in_progress') AND t.assignment_group_id = ?1 AND t.assigned_to_id IS NULL \
         ORDER BY t.priority, t.opened_at, t.id LIMIT 51) q CROSS JOIN task t ON t.id = q.k {JOINS} \
         ORDER BY t.priority, t.opened_at, t.id"
    );
    let queue = measure(&mut |i| rows_of(&queue_sql, &[&uuid_bytes(PEOPLE_MS, tag("group") + i % 10)]))?;
    let search_sql = format!(
        "SELECT {COLUMNS} FROM (SELECT t.id AS k FROM (SELECT rowid AS k FROM task_search \
         WHERE task_search MATCH ?1 ORDER BY rowid DESC LIMIT 5000) s CROSS JOIN task t ON t.search_key = s.k \
         WHERE t.kind = 'incident' ORDER BY t.opened_at DESC, t.id DESC LIMIT 51) q \
         CROSS JOIN task t ON t.id = q.k {JOINS} ORDER BY t.opened_at DESC, t.id DESC"
    );
    let rare = measure(&mut |_| rows_of(&search_sql, &[&"kaleidoscope"]))?;
    let common = measure(&mut |_| rows_of(&search_sql, &[&"printer"]))?;
    println!(
        "engine=sqlite loaded={rows} rows_per_s={:.0} single_insert_per_s={:.0} read_p50_us={:.1} read_p99_us={:.1} \
         update_p50_us={:.1} update_p99_us={:.1} queue_p50_us={:.1} queue_p99_us={:.1} queue_found={} search_rare_p50_us={:.1} search_rare_p99_us={:.1} \
         search_rare_found={} search_common_p50_us={:.1} search_common_p99_us={:.1} search_common_found={}",
        rows as f64 / load,
        inserts as f64 / single,
        read.0,
        read.1,
        update.0,
        update.1,
        queue.0,
        queue.1,
        queue.2,
        rare.0,
        rare.1,
        rare.2,
        common.0,
        common.1,
        common.2
    );
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

/// What a row of Sigap's lists holds: the task, its incident fields and the names of the
/// people and the group it refers to (joined after the page is chosen, as Sigap does).
pub(crate) const COLUMNS: &str = "t.id, t.number, t.short_description, t.description, t.state, t.impact, \
    t.urgency, t.priority, t.caller_id, t.assignment_group_id, t.assigned_to_id, t.opened_at, \
    t.updated_at, t.version, i.hold_reason, i.workaround, i.resolution_code, i.resolution_notes, \
    i.major, c.id, c.login, c.name, g.id, g.name, a.id, a.login, a.name";
pub(crate) const JOINS: &str = "JOIN incident i ON i.task_id = t.id LEFT JOIN person c ON c.id = t.caller_id \
    LEFT JOIN support_group g ON g.id = t.assignment_group_id LEFT JOIN person a ON a.id = t.assigned_to_id";

/// The millisecond the people and groups were made in, and the first task's.
const PEOPLE_MS: u64 = 1_700_000_000_000;
const TASKS_MS: u64 = 1_700_000_100_000;

/// Where the numbers of each kind of referred-to row start.
fn tag(kind: &str) -> u64 {
    match kind {
        "caller" => 1 << 40,
        "agent" => 2 << 40,
        _ => 3 << 40,
    }
}

/// A UUID's 16 bytes as Sigap stores them on SQLite: version 7, a millisecond time and then
/// bits that look random (splitmix64 of `n`).
fn uuid_bytes(ms: u64, n: u64) -> [u8; 16] {
    let mix = |x: u64| {
        let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut b = [0u8; 16];
    b[..6].copy_from_slice(&ms.to_be_bytes()[2..]);
    b[6..8].copy_from_slice(&(0x7000 | (mix(n) & 0x0fff) as u16).to_be_bytes());
    b[8..].copy_from_slice(&(0x8000_0000_0000_0000 | (mix(n ^ 0x5555) >> 2)).to_be_bytes());
    b
}

/// What the rows are about, as `sigap seed` words them.
const WHAT: [&str; 10] = [
    "Printer jams on floor",
    "VPN drops every hour",
    "Cannot log in to the payroll portal",
    "E-mail stuck in the outbox",
    "Laptop will not boot after the update",
    "Shared drive is read-only",
    "Wi-Fi slow in meeting room",
    "Password reset needed",
    "Teams calls drop after a minute",
    "Invoice system shows an error",
];

/// One generated task row with its incident fields and document: the same for both engines.
pub(crate) struct TaskRow {
    pub id: [u8; 16],
    pub number: String,
    pub what: String,
    pub detail: &'static str,
    pub state: &'static str,
    pub impact: i64,
    pub urgency: i64,
    pub priority: i64,
    pub caller: [u8; 16],
    pub group: [u8; 16],
    pub agent: Option<[u8; 16]>,
    /// Microseconds since the Unix epoch.
    pub opened_us: i64,
}

/// The `k`th row.
pub(crate) fn task_row(k: u64) -> TaskRow {
    // The proportions of `sigap seed`: 70 % closed, 10 % resolved, 10 % in progress,
    // 5 % new (unassigned), 5 % on hold.
    // Independent pseudo-random choices per row (splitmix64 of the row number), as the
    // seed's generator makes them: no column follows another.
    let mut h = k.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut pick = |n: u64| {
        h = h.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = h;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % n
    };
    let state = match pick(100) {
        0..=69 => "closed",
        70..=79 => "resolved",
        80..=89 => "in_progress",
        90..=94 => "new",
        _ => "on_hold",
    };
    let what = format!("{} {}", WHAT[pick(10) as usize], pick(40));
    let (impact, urgency, priority) = (pick(3) as i64 + 1, pick(3) as i64 + 1, pick(5) as i64 + 1);
    let (caller, group, agent) = (pick(200), pick(10), pick(20));
    TaskRow {
        // About forty a millisecond, as `sigap seed` makes them.
        id: uuid_bytes(TASKS_MS + k / 40, k),
        number: format!("INC{k:07}"),
        what,
        detail: if k % 100_000 == 99_999 {
            "Started this morning. The kaleidoscope screensaver froze."
        } else {
            "Started this morning, affects the whole team."
        },
        state,
        impact,
        urgency,
        priority,
        caller: uuid_bytes(PEOPLE_MS, tag("caller") + caller),
        group: uuid_bytes(PEOPLE_MS, tag("group") + group),
        agent: (state != "new").then(|| uuid_bytes(PEOPLE_MS, tag("agent") + agent)),
        opened_us: 1_600_000_000_000_000i64 + k as i64,
    }
}
