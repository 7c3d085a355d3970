//! Bare SQLite, as the floor under Sigap's figures: rows shaped like Sigap's tasks (the same
//! columns and indexes), loaded in large transactions, then one-row insert transactions (what
//! an API create costs the database at least) and point reads by number (what a get costs).
//!
//!   sigap-bench-floor ROWS [INSERTS] [READS]
//!
//! Prints one line: `loaded=… rows_per_s=… single_insert_per_s=… read_p50_us=… read_p99_us=…`.

use rusqlite::{Connection, params};
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: u64 = args.next().map_or(Ok(100_000), |a| a.parse())?;
    let inserts: u64 = args.next().map_or(Ok(5_000), |a| a.parse())?;
    let reads: u64 = args.next().map_or(Ok(5_000), |a| a.parse())?;
    let dir = std::env::temp_dir().join(format!("sigap-floor-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("floor.sqlite");
    let conn = Connection::open(&path)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;
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
         CREATE INDEX task_resolved ON task (state, resolved_at);",
    )?;
    let mut seq: u64 = 0;
    let mut insert_one = |tx: &Connection, k: u64| -> rusqlite::Result<usize> {
        seq += 1;
        tx.prepare_cached(
            "INSERT INTO task (id, number, kind, short_description, description, state, impact,
             urgency, priority, caller_id, assignment_group_id, assigned_to_id, organization_id,
             opened_at, updated_at, resolved_at, version, search_key)
             VALUES (?1, ?2, 'incident', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, NULL, ?12, ?12, NULL, 1, ?13)",
        )?
        .execute(params![
            format!("0190{k:028x}"),
            format!("INC{k:07}"),
            format!("Printer jams on floor {}", k % 40),
            "Started this morning, affects the whole team.",
            ["new", "in_progress", "closed"][(k % 3) as usize],
            (k % 3 + 1) as i64,
            (k / 3 % 3 + 1) as i64,
            (k % 5 + 1) as i64,
            format!("caller-{}", k % 200),
            format!("group-{}", k % 10),
            format!("agent-{}", k % 20),
            1_600_000_000_000_000i64 + k as i64,
            seq as i64,
        ])
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
    let mut times = Vec::with_capacity(reads as usize);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for _ in 0..reads {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let n = format!("INC{:07}", x % rows.max(1));
        let t = Instant::now();
        let mut stmt = conn.prepare_cached(
            "SELECT id, number, short_description, state, priority, opened_at FROM task WHERE number = ?1",
        )?;
        let found: Option<String> = stmt.query_row([&n], |r| r.get(0)).ok();
        times.push(t.elapsed().as_nanos() as u64);
        std::hint::black_box(found);
    }
    times.sort_unstable();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)] as f64 / 1000.0;
    println!(
        "loaded={rows} rows_per_s={:.0} single_insert_per_s={:.0} read_p50_us={:.1} read_p99_us={:.1}",
        rows as f64 / load,
        inserts as f64 / single,
        pct(0.5),
        pct(0.99)
    );
    drop(conn);
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}
