//! Bare PostgreSQL, as the floor under Sigap's figures on PostgreSQL: the rows of the SQLite
//! floor (`crate::task_row`) in the tables of Sigap's PostgreSQL migrations (`task` with its
//! columns and every index the migrations give it, `incident`, and `task_search` with its
//! tsvector document and GIN index; ids in the `uuid` type), reached as Sigap reaches them:
//! tokio-postgres through a deadpool pool (fast recycling), a connection taken from the pool
//! for each transaction or query.
//!
//! The rows are loaded with multi-row inserts (a thousand rows a statement) in transactions of
//! ten thousand rows, then ANALYZE (what autovacuum does a minute later; `bench/incidents`
//! analyzes Sigap's seeded database the same way). Then: one-row insert transactions (the
//! task, its incident row and its search document) from one client, and from CLIENTS clients
//! at once through the pool; one-row update transactions; point reads by number; the
//! unassigned queue of one group by priority; the newest 50 matches of a rare and of a common
//! word. Each query has the shape of Sigap's PostgreSQL branch: the page chosen on the task
//! rows (search by `plainto_tsquery('simple', …)` on `task_search`), then joined to the
//! incident fields and the names of the caller, group and assignee.
//!
//! The numbers of new rows come from a counter in the process, not from a row locked in the
//! transaction as Sigap's do (`number_seq`): the floor is what the database must do at least.

use crate::{COLUMNS, JOINS, PEOPLE_MS, TaskRow, tag, task_row, uuid_bytes};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tokio_postgres::NoTls;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

type Error = Box<dyn std::error::Error + Send + Sync>;
type Result<T> = std::result::Result<T, Error>;

pub(crate) struct Options {
    /// An empty database to fill (the scripts make a fresh one and drop it afterwards).
    pub url: String,
    /// The pool's size: Sigap's default is 16 (`SIGAP_POOL_SIZE`).
    pub pool: usize,
    /// Further pool sizes to measure the concurrent inserts with.
    pub pool_sizes: Vec<usize>,
    /// Clients inserting at once.
    pub clients: usize,
    pub rows: u64,
    pub inserts: u64,
    pub reads: u64,
}

/// The task-shaped tables of Sigap's PostgreSQL migrations (0003 and the later ones that
/// change `task`, `incident` or `task_search`: 0004, 0006, 0007, 0009, 0011, 0012, 0023).
/// Columns that refer to tables the floor does not have (services, CIs, organizations,
/// locations) keep their types but not their foreign keys: they are NULL on every row, which
/// a foreign key does not check.
const SCHEMA: &str = "
CREATE TABLE person (id UUID PRIMARY KEY, login TEXT NOT NULL, name TEXT NOT NULL);
CREATE TABLE support_group (id UUID PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE task (
    id                  UUID PRIMARY KEY,
    number              TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('incident', 'problem', 'problem_task', 'change',
                          'change_task', 'request', 'request_item', 'fulfilment_task', 'article')),
    short_description   TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    state               TEXT NOT NULL,
    impact              BIGINT NOT NULL CHECK (impact BETWEEN 1 AND 3),
    urgency             BIGINT NOT NULL CHECK (urgency BETWEEN 1 AND 3),
    priority            BIGINT NOT NULL CHECK (priority BETWEEN 1 AND 5),
    caller_id           UUID REFERENCES person (id),
    opened_by_id        UUID REFERENCES person (id),
    assignment_group_id UUID REFERENCES support_group (id),
    assigned_to_id      UUID REFERENCES person (id),
    service_id          UUID,
    offering_id         UUID,
    ci_id               UUID,
    organization_id     UUID,
    category            TEXT,
    subcategory         TEXT,
    contact_type        TEXT NOT NULL,
    parent_id           UUID REFERENCES task (id),
    opened_at           TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    resolved_at         TIMESTAMPTZ,
    closed_at           TIMESTAMPTZ,
    reassignment_count  BIGINT NOT NULL DEFAULT 0,
    reopen_count        BIGINT NOT NULL DEFAULT 0,
    version             BIGINT NOT NULL DEFAULT 1,
    search_key          BIGINT NOT NULL,
    location_id         UUID
);
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
CREATE INDEX task_parent ON task (parent_id, opened_at, id) WHERE parent_id IS NOT NULL;
CREATE INDEX task_location ON task (location_id, opened_at, id) WHERE location_id IS NOT NULL;
CREATE INDEX task_service ON task (kind, service_id, opened_at) WHERE service_id IS NOT NULL;
CREATE INDEX task_ci ON task (kind, ci_id, opened_at) WHERE ci_id IS NOT NULL;
CREATE INDEX task_opened_by ON task (opened_by_id, opened_at, id);
CREATE TABLE incident (
    task_id                  UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    hold_reason              TEXT,
    workaround               TEXT NOT NULL DEFAULT '',
    resolution_code          TEXT,
    resolution_notes         TEXT NOT NULL DEFAULT '',
    major                    BOOLEAN NOT NULL DEFAULT FALSE,
    priority_override_reason TEXT
);
CREATE INDEX incident_major ON incident (task_id) WHERE major;
CREATE TABLE task_search (
    task_id  UUID PRIMARY KEY REFERENCES task (id) ON DELETE CASCADE,
    document TSVECTOR NOT NULL
);
CREATE INDEX task_search_document ON task_search USING GIN (document);
";

/// Rows a multi-row insert writes, and rows a loading transaction holds.
const BATCH: usize = 1_000;
const TRANSACTION: u64 = 10_000;

/// One row's values as PostgreSQL takes them.
struct PgRow {
    id: Uuid,
    number: String,
    what: String,
    detail: &'static str,
    state: &'static str,
    impact: i64,
    urgency: i64,
    priority: i64,
    caller: Uuid,
    group: Uuid,
    agent: Option<Uuid>,
    opened: SystemTime,
    search_key: i64,
    resolution_code: Option<&'static str>,
    resolution_notes: &'static str,
    document: String,
}

fn pg_row(k: u64) -> PgRow {
    let TaskRow {
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
    } = task_row(k);
    let done = matches!(state, "resolved" | "closed");
    PgRow {
        id: Uuid::from_bytes(id),
        document: format!("{number} {what} {detail}"),
        number,
        what,
        detail,
        state,
        impact,
        urgency,
        priority,
        caller: Uuid::from_bytes(caller),
        group: Uuid::from_bytes(group),
        agent: agent.map(Uuid::from_bytes),
        opened: UNIX_EPOCH + Duration::from_micros(opened_us as u64),
        search_key: k as i64 + 1,
        resolution_code: done.then_some("solved_permanently"),
        resolution_notes: if done { "Fixed" } else { "" },
    }
}

/// The three inserts of `rows` rows each: task, incident, search document.
fn insert_sql(rows: usize) -> [String; 3] {
    let values = |per: usize, shape: &dyn Fn(&[String]) -> String| {
        (0..rows)
            .map(|r| shape(&(1..=per).map(|i| format!("${}", r * per + i)).collect::<Vec<_>>()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    [
        format!(
            "INSERT INTO task (id, number, kind, short_description, description, state, impact, urgency, priority, \
             caller_id, opened_by_id, assignment_group_id, assigned_to_id, service_id, offering_id, ci_id, \
             organization_id, category, subcategory, contact_type, parent_id, opened_at, updated_at, resolved_at, \
             closed_at, reassignment_count, reopen_count, version, search_key) VALUES {}",
            values(13, &|p| format!(
                "({}, {}, 'incident', {}, {}, {}, {}, {}, {}, {}, NULL, {}, {}, NULL, NULL, NULL, NULL, NULL, NULL, \
                 'phone', NULL, {}, {}, NULL, NULL, 0, 0, 1, {})",
                p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], p[9], p[10], p[11], p[11], p[12]
            ))
        ),
        format!(
            "INSERT INTO incident (task_id, hold_reason, workaround, resolution_code, resolution_notes, major) VALUES {}",
            values(3, &|p| format!("({}, NULL, '', {}, {}, FALSE)", p[0], p[1], p[2]))
        ),
        format!(
            "INSERT INTO task_search (task_id, document) VALUES {}",
            values(2, &|p| format!(
                "({}, to_tsvector('simple'::regconfig, {}::text))",
                p[0], p[1]
            ))
        ),
    ]
}

/// The parameters of `insert_sql` for `rows`.
fn insert_params(rows: &[PgRow]) -> [Vec<&(dyn ToSql + Sync)>; 3] {
    let mut task: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(rows.len() * 13);
    let mut incident: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(rows.len() * 3);
    let mut search: Vec<&(dyn ToSql + Sync)> = Vec::with_capacity(rows.len() * 2);
    for r in rows {
        task.extend::<[&(dyn ToSql + Sync); 13]>([
            &r.id,
            &r.number,
            &r.what,
            &r.detail,
            &r.state,
            &r.impact,
            &r.urgency,
            &r.priority,
            &r.caller,
            &r.group,
            &r.agent,
            &r.opened,
            &r.search_key,
        ]);
        incident.extend::<[&(dyn ToSql + Sync); 3]>([&r.id, &r.resolution_code, &r.resolution_notes]);
        search.extend::<[&(dyn ToSql + Sync); 2]>([&r.id, &r.document]);
    }
    [task, incident, search]
}

fn pool(url: &str, size: usize) -> Result<Pool> {
    let config: tokio_postgres::Config = url.parse()?;
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Ok(Pool::builder(manager).max_size(size.max(1)).build()?)
}

/// One-row insert transactions of rows `next..`, `total` in all, from `clients` clients at
/// once through `pool`; rows per second.
async fn insert_rows(pool: &Pool, next: &Arc<AtomicU64>, total: u64, clients: usize) -> Result<f64> {
    let [task, incident, search] = insert_sql(1);
    let (task, incident, search) = (Arc::new(task), Arc::new(incident), Arc::new(search));
    let end = next.load(Ordering::SeqCst) + total;
    let started = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..clients.max(1) {
        let (pool, next) = (pool.clone(), next.clone());
        let (task, incident, search) = (task.clone(), incident.clone(), search.clone());
        handles.push(tokio::spawn(async move {
            loop {
                let k = next.fetch_add(1, Ordering::SeqCst);
                if k >= end {
                    return Ok::<(), Error>(());
                }
                let row = [pg_row(k)];
                let [p1, p2, p3] = insert_params(&row);
                let mut client = pool.get().await?;
                let tx = client.transaction().await?;
                let (s1, s2, s3) = (
                    tx.prepare_cached(&task).await?,
                    tx.prepare_cached(&incident).await?,
                    tx.prepare_cached(&search).await?,
                );
                tx.execute(&s1, &p1).await?;
                tx.execute(&s2, &p2).await?;
                tx.execute(&s3, &p3).await?;
                tx.commit().await?;
            }
        }));
    }
    for h in handles {
        h.await??;
    }
    // Clients that found the counter past the end leave it there: start the next run at end.
    next.store(end, Ordering::SeqCst);
    Ok(total as f64 / started.elapsed().as_secs_f64())
}

/// `reads` runs of `one` after 20 to warm up: p50 and p99 in µs, and what the last found.
async fn measure<F, Fut>(reads: u64, mut one: F) -> Result<(f64, f64, usize)>
where
    F: FnMut(u64) -> Fut,
    Fut: Future<Output = Result<usize>>,
{
    let mut times = Vec::with_capacity(reads as usize);
    let mut found = 0;
    for i in 0..20 + reads {
        let t = Instant::now();
        found = one(i).await?;
        if i >= 20 {
            times.push(t.elapsed().as_nanos() as u64);
        }
    }
    times.sort_unstable();
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len().saturating_sub(1))] as f64 / 1000.0;
    Ok((pct(0.5), pct(0.99), found))
}

/// Runs `sql` with one parameter on a connection of the pool; the rows it found.
async fn rows_of(pool: &Pool, sql: &str, param: &(dyn ToSql + Sync)) -> Result<usize> {
    let client = pool.get().await?;
    let stmt = client.prepare_cached(sql).await?;
    let rows = client.query(&stmt, &[param]).await?;
    for r in &rows {
        std::hint::black_box((r.get::<_, Uuid>(0), r.get::<_, String>(2)));
    }
    Ok(rows.len())
}

pub(crate) async fn run(o: Options) -> Result<()> {
    let pool = pool(&o.url, o.pool)?;
    let mut client = pool.get().await?;
    let taken: bool = client
        .query_one("SELECT to_regclass('task') IS NOT NULL", &[])
        .await?
        .get(0);
    if taken {
        return Err(format!("{}: the database already has a task table (give an empty one)", o.url).into());
    }
    client.batch_execute(SCHEMA).await?;
    // The people and groups the rows refer to, by id, as in Sigap.
    let tx = client.transaction().await?;
    for (prefix, n) in [("caller", 200), ("agent", 20)] {
        for i in 0..n {
            tx.execute(
                "INSERT INTO person (id, login, name) VALUES ($1, $2, $3)",
                &[
                    &Uuid::from_bytes(uuid_bytes(PEOPLE_MS, tag(prefix) + i)),
                    &format!("{prefix}{i}"),
                    &format!("Person {prefix} {i}"),
                ],
            )
            .await?;
        }
    }
    for i in 0..10 {
        tx.execute(
            "INSERT INTO support_group (id, name) VALUES ($1, $2)",
            &[
                &Uuid::from_bytes(uuid_bytes(PEOPLE_MS, tag("group") + i)),
                &format!("Desk {i}"),
            ],
        )
        .await?;
    }
    tx.commit().await?;

    let started = Instant::now();
    let mut k = 0;
    while k < o.rows {
        let tx = client.transaction().await?;
        let end = (k + TRANSACTION).min(o.rows);
        while k < end {
            let n = (BATCH as u64).min(end - k);
            let rows: Vec<PgRow> = (k..k + n).map(pg_row).collect();
            let sql = insert_sql(n as usize);
            let params = insert_params(&rows);
            for (sql, params) in sql.iter().zip(params.iter()) {
                let stmt = tx.prepare_cached(sql).await?;
                tx.execute(&stmt, params).await?;
            }
            k += n;
        }
        tx.commit().await?;
    }
    let load = started.elapsed().as_secs_f64();
    client
        .batch_execute("ANALYZE person, support_group, task, incident, task_search")
        .await?;
    drop(client);

    let next = Arc::new(AtomicU64::new(o.rows));
    let single = insert_rows(&pool, &next, o.inserts, 1).await?;
    let concurrent = insert_rows(&pool, &next, o.inserts, o.clients).await?;
    let mut by_pool = Vec::new();
    for &size in &o.pool_sizes {
        let other = self::pool(&o.url, size)?;
        by_pool.push((size, insert_rows(&other, &next, o.inserts, o.clients).await?));
        other.close();
    }
    // Only the loaded rows are read and updated, as on SQLite.
    let rows = o.rows.max(1);
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut random = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let read_sql = format!("SELECT {COLUMNS} FROM task t {JOINS} WHERE t.number = $1");
    let read = measure(o.reads, |_| {
        let number = format!("INC{:07}", random() % rows);
        let (pool, sql) = (&pool, &read_sql);
        async move {
            let client = pool.get().await?;
            let stmt = client.prepare_cached(sql).await?;
            let found = client.query(&stmt, &[&number]).await?;
            for r in &found {
                std::hint::black_box(r.get::<_, String>(1));
            }
            Ok(found.len())
        }
    })
    .await?;
    // A one-row update transaction: a new description, in the row and in its document.
    let update = measure(o.reads, |i| {
        let number = format!("INC{:07}", random() % rows);
        let text = format!("Benchmark update {i}");
        let pool = &pool;
        async move {
            let mut client = pool.get().await?;
            let tx = client.transaction().await?;
            let s1 = tx
                .prepare_cached(
                    "UPDATE task SET description = $1, updated_at = updated_at + interval '1 microsecond', \
                     version = version + 1 WHERE number = $2",
                )
                .await?;
            let s2 = tx
                .prepare_cached(
                    "UPDATE task_search SET document = to_tsvector('simple'::regconfig, $1::text || ' ' || $2::text) \
                     WHERE task_id = (SELECT id FROM task WHERE number = $1)",
                )
                .await?;
            let n = tx.execute(&s1, &[&text, &number]).await?;
            tx.execute(&s2, &[&number, &text]).await?;
            tx.commit().await?;
            Ok(n as usize)
        }
    })
    .await?;
    let queue_sql = format!(
        "SELECT {COLUMNS} FROM (SELECT t.id AS k FROM task t WHERE t.kind = 'incident' \
         AND t.state IN ('new', 'in_progress') AND t.assignment_group_id = $1 AND t.assigned_to_id IS NULL \
         ORDER BY t.priority, t.opened_at, t.id LIMIT 51) q JOIN task t ON t.id = q.k {JOINS} \
         ORDER BY t.priority, t.opened_at, t.id"
    );
    let queue = measure(o.reads, |i| {
        let group = Uuid::from_bytes(uuid_bytes(PEOPLE_MS, tag("group") + i % 10));
        let (pool, sql) = (&pool, &queue_sql);
        async move { rows_of(pool, sql, &group).await }
    })
    .await?;
    // As Sigap searches since e881058: a rare word's matches (up to 2,000) read first and
    // their page sorted from them; a common word's page found by walking the sort order;
    // each page statement planned with its values (prepared afresh).
    let page = |cond: &str| {
        format!(
            "SELECT {COLUMNS} FROM (SELECT t.id AS k FROM task t WHERE t.kind = 'incident' \
             AND {cond} ORDER BY t.opened_at DESC, t.id DESC LIMIT 51) q JOIN task t ON t.id = q.k {JOINS} \
             ORDER BY t.opened_at DESC, t.id DESC"
        )
    };
    let (rare_sql, common_sql) = (
        page("t.id = ANY($1::uuid[])"),
        page("t.id IN (SELECT task_id FROM task_search WHERE document @@ plainto_tsquery('simple'::regconfig, $1::text))"),
    );
    let search = |word: &'static str| {
        let (pool, rare_sql, common_sql) = (&pool, &rare_sql, &common_sql);
        measure(o.reads, move |_| async move {
            let client = pool.get().await?;
            let matches = client
                .prepare_cached(
                    "SELECT task_id FROM task_search \
                     WHERE document @@ plainto_tsquery('simple'::regconfig, $1::text) LIMIT 2001",
                )
                .await?;
            let ids: Vec<Uuid> = client
                .query(&matches, &[&word])
                .await?
                .iter()
                .map(|r| r.get(0))
                .collect();
            let rows = if ids.len() <= 2000 {
                client.query(rare_sql.as_str(), &[&ids]).await?
            } else {
                client.query(common_sql.as_str(), &[&word]).await?
            };
            for r in &rows {
                std::hint::black_box((r.get::<_, Uuid>(0), r.get::<_, String>(2)));
            }
            Ok(rows.len())
        })
    };
    let rare = search("kaleidoscope").await?;
    let common = search("printer").await?;
    let pools: String = by_pool
        .iter()
        .map(|(size, rate)| format!(" concurrent_insert_per_s_pool{size}={rate:.0}"))
        .collect();
    println!(
        "engine=postgres loaded={} rows_per_s={:.0} single_insert_per_s={single:.0} clients={} pool={} \
         concurrent_insert_per_s={concurrent:.0}{pools} read_p50_us={:.1} read_p99_us={:.1} \
         update_p50_us={:.1} update_p99_us={:.1} queue_p50_us={:.1} queue_p99_us={:.1} queue_found={} \
         search_rare_p50_us={:.1} search_rare_p99_us={:.1} search_rare_found={} search_common_p50_us={:.1} \
         search_common_p99_us={:.1} search_common_found={}",
        o.rows,
        o.rows as f64 / load,
        o.clients,
        o.pool,
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
    Ok(())
}
