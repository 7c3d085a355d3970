//! Read replicas: PostgreSQL hot standbys that take reads off the primary.
//!
//! Writes always go to the primary. A read may go to a standby only inside a routing scope
//! that allows it ([`Store::route_reads`], set by the web layer for `GET` and `HEAD`
//! requests); anything outside a scope, or in a scope that wrote, reads from the primary, so
//! the reads and writes of one use case never split across servers.
//!
//! Read-your-writes: after a person's write commits, the primary's WAL position is noted
//! against them ([`Lsn`]); their reads go to a standby only once that standby has replayed
//! past it. Each standby's replay position is cached (refreshed every second, and when a
//! read needs a newer one than the cache holds), so an ordinary read costs no extra round
//! trip. A standby that fails is left out for a pause and then probed again; the read that
//! met the failure runs again on the primary.
//!
//! [`Store::route_reads`]: crate::Store::route_reads

mod fault;
mod lsn;

pub(crate) use fault::{Fault, FaultCell, fault_of};
pub use lsn::{Lsn, LsnError};

use crate::error::StoreError;
use crate::postgres::{PgDb, redact_url};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// How one request's reads may be routed: set once per request, consulted by `Store::read`
/// and `Store::write`.
#[derive(Debug)]
pub(crate) struct RouteScope {
    /// Reads may go to a standby (a `GET` or `HEAD` that has not written).
    standby_ok: AtomicBool,
    /// The person the request acts for, once known: their writes are noted, their reads wait
    /// for them.
    person: OnceLock<Uuid>,
}

tokio::task_local! {
    pub(crate) static ROUTE: Arc<RouteScope>;
}

impl RouteScope {
    pub(crate) fn new(standby_ok: bool) -> Self {
        Self {
            standby_ok: AtomicBool::new(standby_ok),
            person: OnceLock::new(),
        }
    }

    pub(crate) fn set_person(&self, person: Uuid) {
        let _ = self.person.set(person);
    }

    /// After a write: the rest of the request reads from the primary.
    pub(crate) fn wrote(&self) -> Option<Uuid> {
        self.standby_ok.store(false, Ordering::Release);
        self.person.get().copied()
    }

    /// `Some(person)` when reads may go to a standby.
    pub(crate) fn standby_reader(&self) -> Option<Option<Uuid>> {
        self.standby_ok
            .load(Ordering::Acquire)
            .then(|| self.person.get().copied())
    }
}

/// What a read is to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    Primary,
    /// The standby at `index`; with `check`, its cached replay position is older than the read
    /// needs: ask it first, and read from the primary if it is still behind.
    Standby {
        index: usize,
        check: bool,
    },
}

/// A standby as the router sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct View {
    pub usable: bool,
    pub replay: Lsn,
}

/// Picks where a read goes: the first usable standby from `start` on (round robin) that has
/// replayed `needs`; else the first usable one, to be checked; else the primary.
pub(crate) fn choose(needs: Lsn, standbys: &[View], start: usize) -> Route {
    let n = standbys.len();
    let order = (0..n).map(|i| (start.wrapping_add(i)) % n);
    let mut behind = None;
    for index in order {
        let Some(v) = standbys.get(index) else {
            continue;
        };
        if !v.usable {
            continue;
        }
        if v.replay >= needs {
            return Route::Standby {
                index,
                check: false,
            };
        }
        behind.get_or_insert(index);
    }
    match behind {
        Some(index) => Route::Standby { index, check: true },
        None => Route::Primary,
    }
}

/// How a standby is doing, as `/readyz` reports it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReplicaState {
    /// Reachable and close behind the primary.
    Ok,
    /// Reachable, but its replay is paused or more than [`LAGGING_BYTES`] behind.
    Lagging,
    /// Unreachable, not a standby, or left out after a failure.
    Down,
}

/// A standby's report for `/readyz`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ReplicaStatus {
    /// The standby's URL without its password.
    pub url: String,
    pub state: ReplicaState,
    /// Bytes of WAL the standby has still to replay (none when it is not reachable).
    pub lag_bytes: Option<u64>,
    /// Seconds since it last replayed a transaction, when it has.
    pub replay_age_seconds: Option<f64>,
    /// Whether reads go to it now.
    pub in_use: bool,
    /// Why it is down, when it is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// More WAL than this still to replay makes a standby `lagging` (one WAL segment).
pub const LAGGING_BYTES: u64 = 16 * 1024 * 1024;

/// How long a failed standby is left out before it is probed again.
pub const RETRY_PAUSE: Duration = Duration::from_secs(5);

/// How often the standbys' replay positions are refreshed.
pub const REFRESH_EVERY: Duration = Duration::from_secs(1);

/// People with a write not yet replayed everywhere, at most this many (then the oldest
/// positions fold into one floor that every read waits for).
const MAX_MARKS: usize = 10_000;

#[derive(Debug)]
struct Health {
    /// Left out until then (after a failure).
    down_until: Option<Instant>,
    error: Option<String>,
}

#[derive(Debug)]
pub(crate) struct Standby {
    pub(crate) db: PgDb,
    url: String,
    /// The replay position last seen (cached).
    replay: AtomicU64,
    health: Mutex<Health>,
}

impl Standby {
    fn replay(&self) -> Lsn {
        Lsn(self.replay.load(Ordering::Acquire))
    }

    pub(crate) fn saw(&self, lsn: Lsn) {
        self.replay.fetch_max(lsn.0, Ordering::AcqRel);
    }

    fn usable(&self) -> bool {
        self.health
            .lock()
            .map(|h| h.down_until.is_none())
            .unwrap_or(false)
    }

    /// Leaves the standby out for [`RETRY_PAUSE`].
    pub(crate) fn failed(&self, why: &str) {
        let mut first = false;
        if let Ok(mut h) = self.health.lock() {
            first = h.down_until.is_none();
            h.down_until = Some(Instant::now() + RETRY_PAUSE);
            h.error = Some(why.to_owned());
        }
        if first {
            tracing::warn!(replica = %self.url, error = why, "read replica left out; reads go to the primary");
        }
    }

    fn back(&self) {
        let mut was_down = false;
        if let Ok(mut h) = self.health.lock() {
            was_down = h.down_until.is_some();
            h.down_until = None;
            h.error = None;
        }
        if was_down {
            tracing::info!(replica = %self.url, "read replica back in use");
        }
    }

    /// Whether its pause after a failure is over (or it never failed).
    fn due(&self, now: Instant) -> bool {
        self.health
            .lock()
            .map(|h| h.down_until.is_none_or(|t| now >= t))
            .unwrap_or(true)
    }
}

#[derive(Debug, Default)]
struct Marks {
    by_person: HashMap<Uuid, Lsn>,
    /// Positions every read must wait for: the largest of the marks dropped (once every
    /// usable standby had passed them, or to keep the map small).
    floor: Lsn,
    /// People whose write's position could not be read (the primary did not answer after the
    /// commit), with when: their reads go to the primary until the next position the primary
    /// reports after that moment takes its place.
    unknown: HashMap<Uuid, Instant>,
}

/// The standbys of one store, with the positions people's reads wait for.
#[derive(Debug)]
pub(crate) struct Replicas {
    pub(crate) standbys: Vec<Standby>,
    next: AtomicUsize,
    marks: Mutex<Marks>,
    /// The primary's position when last asked (for the lag).
    primary: AtomicU64,
}

impl Replicas {
    pub(crate) fn connect(urls: &[String], pool_size: usize) -> Result<Self, StoreError> {
        let mut standbys = Vec::with_capacity(urls.len());
        for url in urls {
            let db = PgDb::connect_standby(url, pool_size)
                .map_err(|e| StoreError::Pool(format!("read replica {}: {e}", redact_url(url))))?;
            standbys.push(Standby {
                db,
                url: redact_url(url),
                replay: AtomicU64::new(0),
                health: Mutex::new(Health {
                    down_until: None,
                    error: None,
                }),
            });
        }
        Ok(Self {
            standbys,
            next: AtomicUsize::new(0),
            marks: Mutex::default(),
            primary: AtomicU64::new(0),
        })
    }

    /// The position `person`'s reads must wait for.
    pub(crate) fn needs(&self, person: Option<Uuid>) -> Lsn {
        let Ok(m) = self.marks.lock() else {
            return Lsn(u64::MAX);
        };
        if person.is_some_and(|p| m.unknown.contains_key(&p)) {
            return Lsn(u64::MAX);
        }
        let own = person
            .and_then(|p| m.by_person.get(&p).copied())
            .unwrap_or_default();
        own.max(m.floor)
    }

    /// Notes that `person` wrote, at a position not known.
    pub(crate) fn note_unknown(&self, person: Uuid) {
        if let Ok(mut m) = self.marks.lock() {
            m.unknown.entry(person).or_insert_with(Instant::now);
        }
    }

    /// The primary reported `head` when asked at `asked`: it is past every write noted
    /// unknown before then.
    fn resolve_unknown(&self, asked: Instant, head: Lsn) {
        let mut known = Vec::new();
        if let Ok(mut m) = self.marks.lock() {
            m.unknown.retain(|p, at| {
                if *at < asked {
                    known.push(*p);
                    false
                } else {
                    true
                }
            });
        }
        for p in known {
            self.note(p, head);
        }
    }

    /// Notes that `person` wrote up to `lsn`.
    pub(crate) fn note(&self, person: Uuid, lsn: Lsn) {
        let Ok(mut m) = self.marks.lock() else {
            return;
        };
        if m.by_person.len() >= MAX_MARKS && !m.by_person.contains_key(&person) {
            // Fold everything into the floor: correct, if slower until the standbys pass it.
            let top = m.by_person.values().copied().max().unwrap_or_default();
            m.floor = m.floor.max(top);
            m.by_person.clear();
        }
        let e = m.by_person.entry(person).or_default();
        *e = (*e).max(lsn);
    }

    /// Where a read for `person` goes now.
    pub(crate) fn route(&self, person: Option<Uuid>) -> (Route, Lsn) {
        let needs = self.needs(person);
        let views: Vec<View> = self
            .standbys
            .iter()
            .map(|s| View {
                usable: s.usable(),
                replay: s.replay(),
            })
            .collect();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        (choose(needs, &views, start), needs)
    }

    pub(crate) fn standby(&self, index: usize) -> Option<&Standby> {
        self.standbys.get(index)
    }

    /// Drops the marks every usable standby has replayed (they wait for nothing any more).
    fn prune(&self) {
        let passed = self
            .standbys
            .iter()
            .filter(|s| s.usable())
            .map(Standby::replay)
            .min();
        let Some(passed) = passed else {
            return;
        };
        if let Ok(mut m) = self.marks.lock() {
            let mut top = m.floor;
            m.by_person.retain(|_, lsn| {
                if *lsn <= passed {
                    top = top.max(*lsn);
                    false
                } else {
                    true
                }
            });
            m.floor = top;
        }
    }

    /// Asks every standby (whose pause is over) where it is, brings back those that answer
    /// as standbys and leaves out those that do not; then prunes the marks.
    pub(crate) async fn refresh(&self, primary: &PgDb) {
        let asked = Instant::now();
        if let Ok(c) = primary.client().await {
            if let Ok(lsn) = current_lsn(&c).await {
                self.primary.fetch_max(lsn.0, Ordering::AcqRel);
                self.resolve_unknown(asked, lsn);
            }
        }
        let now = Instant::now();
        for s in &self.standbys {
            if !s.due(now) {
                continue;
            }
            match probe(&s.db).await {
                Ok(p) if p.in_recovery => {
                    s.saw(p.replay);
                    s.back();
                }
                Ok(_) => s.failed("not a standby (not in recovery): promoted?"),
                Err(e) => s.failed(&e.to_string()),
            }
        }
        self.prune();
    }

    /// Each standby's state, asked now.
    pub(crate) async fn status(&self, primary: &PgDb) -> Vec<ReplicaStatus> {
        let head = match primary.client().await {
            Ok(c) => current_lsn(&c).await.ok(),
            Err(_) => None,
        };
        if let Some(h) = head {
            self.primary.fetch_max(h.0, Ordering::AcqRel);
        }
        let mut out = Vec::with_capacity(self.standbys.len());
        for s in &self.standbys {
            let in_use = s.usable();
            let error = s.health.lock().ok().and_then(|h| h.error.clone());
            let report = match probe(&s.db).await {
                Ok(p) if p.in_recovery => {
                    s.saw(p.replay);
                    let lag = head.map(|h| h.bytes_since(p.replay));
                    let state = if !in_use {
                        ReplicaState::Down
                    } else if p.paused || lag.is_some_and(|l| l > LAGGING_BYTES) {
                        ReplicaState::Lagging
                    } else {
                        ReplicaState::Ok
                    };
                    ReplicaStatus {
                        url: s.url.clone(),
                        state,
                        lag_bytes: lag,
                        replay_age_seconds: p.replay_age_seconds,
                        in_use,
                        error: if in_use { None } else { error },
                    }
                }
                // Found failing here: left out at once, as a read would.
                Ok(_) => down(s, "not a standby (not in recovery): promoted?".into()),
                Err(e) => down(s, e.to_string()),
            };
            out.push(report);
        }
        out
    }

    /// Refreshes the standbys every [`REFRESH_EVERY`] while the store lives.
    pub(crate) fn spawn_refresher(this: &Arc<Self>, primary: PgDb) {
        let weak: Weak<Self> = Arc::downgrade(this);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(r) = weak.upgrade() else {
                    return;
                };
                r.refresh(&primary).await;
            }
        });
    }
}

/// The primary's WAL insert position: at or past the end of every commit made so far.
pub(crate) async fn current_lsn(client: &deadpool_postgres::Client) -> Result<Lsn, StoreError> {
    let row = client
        .query_one("SELECT pg_current_wal_insert_lsn()::text", &[])
        .await
        .map_err(StoreError::from_pg)?;
    lsn_column(&row)
}

fn lsn_column(row: &tokio_postgres::Row) -> Result<Lsn, StoreError> {
    let text: Option<String> = row.try_get(0).map_err(StoreError::from_pg)?;
    match text {
        Some(t) => t.parse().map_err(|e: LsnError| StoreError::Decode {
            column: 0,
            detail: e.to_string(),
        }),
        None => Ok(Lsn::ZERO),
    }
}

/// The replay position of a standby, on the connection a read is about to use.
pub(crate) async fn replay_lsn(
    client: &deadpool_postgres::Client,
) -> Result<Lsn, tokio_postgres::Error> {
    let row = client
        .query_one("SELECT pg_last_wal_replay_lsn()::text", &[])
        .await?;
    let text: Option<String> = row.try_get(0)?;
    Ok(text.and_then(|t| t.parse().ok()).unwrap_or_default())
}

struct Probe {
    in_recovery: bool,
    paused: bool,
    replay: Lsn,
    replay_age_seconds: Option<f64>,
}

/// Asks a standby where it is, within two seconds.
async fn probe(db: &PgDb) -> Result<Probe, StoreError> {
    let ask = async {
        let c = db.client().await?;
        let row = c
            .query_one(
                "SELECT pg_is_in_recovery(), \
                        CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END, \
                        pg_last_wal_replay_lsn()::text, \
                        extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8",
                &[],
            )
            .await
            .map_err(StoreError::from_pg)?;
        let replay: Option<String> = row.try_get(2).map_err(StoreError::from_pg)?;
        Ok::<_, StoreError>(Probe {
            in_recovery: row.try_get(0).map_err(StoreError::from_pg)?,
            paused: row.try_get(1).map_err(StoreError::from_pg)?,
            replay: replay.and_then(|t| t.parse().ok()).unwrap_or_default(),
            replay_age_seconds: row.try_get(3).map_err(StoreError::from_pg)?,
        })
    };
    match tokio::time::timeout(Duration::from_secs(2), ask).await {
        Ok(r) => r,
        Err(_) => Err(StoreError::Pool("no answer within 2 s".into())),
    }
}

/// A standby found failing by the status check: left out of use, and reported down.
fn down(s: &Standby, why: String) -> ReplicaStatus {
    s.failed(&why);
    ReplicaStatus {
        url: s.url.clone(),
        state: ReplicaState::Down,
        lag_bytes: None,
        replay_age_seconds: None,
        in_use: false,
        error: Some(why),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(usable: bool, replay: u64) -> View {
        View {
            usable,
            replay: Lsn(replay),
        }
    }

    #[test]
    fn reads_go_round_robin_to_standbys_that_have_replayed_enough() {
        let s = [v(true, 100), v(true, 100), v(true, 100)];
        let picked: Vec<Route> = (0..4).map(|start| choose(Lsn(50), &s, start)).collect();
        assert_eq!(
            picked,
            vec![
                Route::Standby {
                    index: 0,
                    check: false
                },
                Route::Standby {
                    index: 1,
                    check: false
                },
                Route::Standby {
                    index: 2,
                    check: false
                },
                Route::Standby {
                    index: 0,
                    check: false
                },
            ]
        );
        // Nothing to wait for: any usable standby.
        assert_eq!(
            choose(Lsn::ZERO, &[v(true, 0)], 7),
            Route::Standby {
                index: 0,
                check: false
            }
        );
    }

    #[test]
    fn down_and_behind_standbys_are_passed_over() {
        let s = [v(false, 500), v(true, 10), v(true, 300)];
        assert_eq!(
            choose(Lsn(200), &s, 0),
            Route::Standby {
                index: 2,
                check: false
            },
            "the one down and the one behind are skipped"
        );
        // Every usable one is behind: ask the first one met whether it has caught up.
        assert_eq!(
            choose(Lsn(400), &s, 0),
            Route::Standby {
                index: 1,
                check: true
            }
        );
        assert_eq!(
            choose(Lsn(400), &s, 2),
            Route::Standby {
                index: 2,
                check: true
            }
        );
        // None usable, or none at all: the primary.
        assert_eq!(choose(Lsn::ZERO, &[v(false, 9)], 0), Route::Primary);
        assert_eq!(choose(Lsn::ZERO, &[], 3), Route::Primary);
    }

    #[test]
    fn a_persons_writes_hold_their_reads_until_replayed() -> Result<(), StoreError> {
        let r = Replicas {
            standbys: Vec::new(),
            next: AtomicUsize::new(0),
            marks: Mutex::default(),
            primary: AtomicU64::new(0),
        };
        let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
        assert_eq!(r.needs(Some(ann)), Lsn::ZERO);
        r.note(ann, Lsn(70));
        r.note(ann, Lsn(50));
        assert_eq!(r.needs(Some(ann)), Lsn(70), "the later position stays");
        assert_eq!(r.needs(Some(bob)), Lsn::ZERO, "others wait for nothing");
        assert_eq!(r.needs(None), Lsn::ZERO);
        // Over the bound, the marks fold into a floor everyone waits for.
        for n in 0..MAX_MARKS {
            r.note(Uuid::now_v7(), Lsn(n as u64));
        }
        let m = r.marks.lock().map_err(|_| StoreError::Closed)?;
        assert!(m.by_person.len() <= MAX_MARKS);
        assert!(m.floor >= Lsn(70), "{:?}", m.floor);
        drop(m);
        assert!(r.needs(Some(bob)) >= Lsn(70));
        // A write whose position is not known holds the person's reads on the primary until
        // the primary reports a position asked after it.
        let cy = Uuid::now_v7();
        let before = Instant::now();
        r.note_unknown(cy);
        assert_eq!(r.needs(Some(cy)), Lsn(u64::MAX));
        r.resolve_unknown(before, Lsn(1_000_000));
        assert_eq!(r.needs(Some(cy)), Lsn(u64::MAX), "asked before the write");
        r.resolve_unknown(Instant::now() + Duration::from_millis(1), Lsn(1_000_000));
        assert_eq!(r.needs(Some(cy)), Lsn(1_000_000));
        Ok(())
    }

    #[tokio::test]
    async fn marks_every_usable_standby_passed_are_dropped_into_the_floor() -> anyhow::Result<()> {
        // Pools connect lazily: nothing listens on these.
        let r = Replicas::connect(
            &[
                "postgres://u:secret@127.0.0.1:9/a".to_owned(),
                "postgres://u@127.0.0.1:9/b".to_owned(),
            ],
            1,
        )?;
        assert_eq!(r.standbys[0].url, "postgres://u:***@127.0.0.1:9/a");
        let (ann, bob) = (Uuid::now_v7(), Uuid::now_v7());
        r.note(ann, Lsn(100));
        r.note(bob, Lsn(300));
        r.standbys[0].saw(Lsn(250));
        r.standbys[1].saw(Lsn(200));
        r.prune();
        assert_eq!(
            r.needs(Some(ann)),
            Lsn(100),
            "Ann's mark is passed by both: the floor"
        );
        assert_eq!(r.needs(Some(bob)), Lsn(300));
        // Ann reads from either; Bob's read asks a standby first.
        assert!(matches!(
            r.route(Some(ann)).0,
            Route::Standby { check: false, .. }
        ));
        assert!(matches!(
            r.route(Some(bob)).0,
            Route::Standby { check: true, .. }
        ));
        // One standby fails: left out, and no longer holds the pruning back.
        r.standbys[1].failed("connection refused");
        assert!(!r.standbys[1].usable());
        assert_eq!(
            r.route(Some(ann)).0,
            Route::Standby {
                index: 0,
                check: false
            }
        );
        r.standbys[0].saw(Lsn(400));
        r.prune();
        assert_eq!(r.needs(Some(bob)), Lsn(300), "the floor");
        assert_eq!(r.needs(None), Lsn(300));
        // Back after its pause, the other one serves only once it has replayed the floor.
        r.standbys[1].back();
        assert_eq!(
            choose(
                r.needs(None),
                &[v(false, 400), v(true, r.standbys[1].replay().get())],
                1
            ),
            Route::Standby {
                index: 1,
                check: true
            }
        );
        Ok(())
    }

    /// Against PostgreSQL (SIGAP_TEST_DATABASE_URL): "standbys" that are none, one refusing
    /// connections and one the primary itself. Every read is answered, both are reported down,
    /// and a query's own error is not hidden by a rerun.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reads_past_standbys_that_fail_are_answered_by_the_primary() -> anyhow::Result<()> {
        use crate::testing::{Backend, TestDb, postgres_url};
        if postgres_url().map_err(anyhow::Error::msg)?.is_none() {
            eprintln!("PostgreSQL not configured: skipped");
            return Ok(());
        }
        let db = TestDb::fresh(Backend::Postgres).await?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let refused = format!("postgres://postgres@127.0.0.1:{port}/gone");
        let store =
            crate::Store::open_with_replicas(&db.location, 2, &[refused, db.url.clone()]).await?;
        assert!(store.has_replicas());
        let one = async || {
            store
                .read(async |tx| tx.query_one("SELECT 1", &[]).await.map(|_| ()))
                .await
        };
        store
            .route_reads(true, async {
                for _ in 0..6 {
                    one().await?;
                }
                Ok::<_, StoreError>(())
            })
            .await?;
        let report = store.replica_status().await;
        assert_eq!(report.len(), 2);
        assert_eq!(report[0].state, ReplicaState::Down, "{report:?}");
        assert!(
            !report[0].in_use,
            "left out after the refused read: {report:?}"
        );
        assert!(report[0].url.contains(&port.to_string()), "{report:?}");
        assert_eq!(report[1].state, ReplicaState::Down, "{report:?}");
        assert!(
            report[1]
                .error
                .as_deref()
                .is_some_and(|e| e.contains("not a standby")),
            "{report:?}"
        );
        // The query's own error comes back as it is.
        let bad = store
            .route_reads(
                true,
                store.read(async |tx| tx.query_one("SELEC 1", &[]).await.map(|_| ())),
            )
            .await;
        assert!(matches!(bad, Err(StoreError::Postgres(_))), "{bad:?}");
        // Outside a request, and in one that may not use standbys, reads are the primary's.
        one().await?;
        store.route_reads(false, one()).await?;
        Ok(())
    }

    #[test]
    fn scopes_that_wrote_read_from_the_primary() {
        let get = RouteScope::new(true);
        assert_eq!(get.standby_reader(), Some(None));
        let ann = Uuid::now_v7();
        get.set_person(ann);
        assert_eq!(get.standby_reader(), Some(Some(ann)));
        assert_eq!(get.wrote(), Some(ann));
        assert_eq!(get.standby_reader(), None);
        let post = RouteScope::new(false);
        post.set_person(ann);
        assert_eq!(post.standby_reader(), None);
    }
}
