//! Background work: a worker claims jobs with a lease and runs their handlers; the holder of
//! the leader lease schedules periodic work. Everything goes through the database, so any
//! number of nodes share the work.

use crate::error::AppResult;
use crate::{AppError, Core};
use futures_util::StreamExt;
use jiff::{SignedDuration, Timestamp};
use serde_json::{Value, json};
pub use sigap_store::jobs::Job;
use sigap_store::jobs::{self as repo};
use sigap_store::{Tx, idempotency, sessions, throttle};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// What a handler returns: `Err` with a message to retry later.
pub type JobFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
pub type Handler = Arc<dyn Fn(Core, Job) -> JobFuture + Send + Sync>;

/// Job kinds and their handlers.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<String, Handler>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.handlers.keys()).finish()
    }
}

impl Registry {
    /// The handlers Sigap itself needs.
    pub fn standard() -> Self {
        let mut r = Self::default();
        r.register(MAINTENANCE, |core, _job| {
            Box::pin(async move { maintenance(&core).await.map_err(|e| e.to_string()) })
        });
        r.register(crate::incidents::AUTOCLOSE_JOB, |core, _job| {
            Box::pin(async move {
                crate::incidents::autoclose(&core)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        });
        r.register(crate::events::SWEEP_JOB, |core, _job| {
            Box::pin(async move {
                crate::events::sweep(&core)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        });
        r.register(crate::sla::SWEEP_JOB, |core, _job| {
            Box::pin(async move {
                crate::sla::sweep(&core)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        });
        r.register(crate::approvals::REMIND_JOB, |core, _job| {
            Box::pin(async move {
                crate::approvals::remind(&core)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        });
        r.register(crate::knowledge::REVIEW_JOB, |core, _job| {
            Box::pin(async move {
                crate::knowledge::remind_reviews(&core)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        });
        r.register(crate::reports::schedules::DELIVER_JOB, |core, _job| {
            Box::pin(async move {
                crate::reports::schedules::deliver_due(&core)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        });
        r.register(crate::reports::schedules::MAIL_JOB, |core, job| {
            Box::pin(async move {
                let id = job
                    .payload
                    .get("schedule")
                    .and_then(|v| v.as_str())
                    .and_then(sigap_domain::ScheduleId::parse)
                    .ok_or("the job names no schedule")?;
                crate::reports::schedules::fan_out(&core, id)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        });
        r.register(crate::portfolio::REVIEW_JOB, |core, _job| {
            Box::pin(async move {
                crate::portfolio::remind_reviews(&core)
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string())
            })
        });
        r
    }

    pub fn register<F>(&mut self, kind: &str, f: F)
    where
        F: Fn(Core, Job) -> JobFuture + Send + Sync + 'static,
    {
        self.handlers.insert(kind.to_owned(), Arc::new(f));
    }
}

/// Enqueues a job in the caller's transaction, so it exists exactly when the change does.
pub async fn enqueue(
    tx: &mut Tx<'_>,
    kind: &str,
    payload: &Value,
    run_at: Timestamp,
    now: Timestamp,
) -> sigap_store::StoreResult<sigap_domain::JobId> {
    repo::enqueue(tx, kind, payload, run_at, MAX_ATTEMPTS, now).await
}

/// How many times a job is tried before it is given up.
pub const MAX_ATTEMPTS: i64 = 5;

pub const MAINTENANCE: &str = "maintenance";

/// Removes what has expired: sessions, idempotency records, sign-in counters, old jobs.
pub async fn maintenance(core: &Core) -> AppResult<()> {
    let now = core.now();
    let day_ago = now
        .saturating_sub(SignedDuration::from_hours(24))
        .unwrap_or(now);
    let week_ago = now
        .saturating_sub(SignedDuration::from_hours(24 * 7))
        .unwrap_or(now);
    core.store
        .write(async move |tx| {
            sessions::purge_expired(tx, now).await?;
            idempotency::purge(tx, day_ago).await?;
            throttle::purge(tx, day_ago).await?;
            repo::purge_finished(tx, week_ago).await?;
            Ok::<_, AppError>(())
        })
        .await
}

/// Retry delay after the `attempts`-th failure: 10 s, 20 s, 40 s … at most an hour.
pub fn backoff(attempts: i64) -> SignedDuration {
    let exp = u32::try_from(attempts.clamp(1, 12) - 1).unwrap_or(0);
    SignedDuration::from_secs((10i64 << exp).min(3600))
}

/// A claimer of jobs. `id` names this node in the lease columns.
#[derive(Clone, Debug)]
pub struct Worker {
    pub core: Core,
    pub registry: Registry,
    pub id: String,
    pub lease: SignedDuration,
    /// Jobs claimed at once.
    pub batch: i64,
    /// Jobs run at once.
    pub concurrency: usize,
}

impl Worker {
    pub fn new(core: Core, registry: Registry) -> Self {
        Self {
            core,
            registry,
            id: format!("node-{}", uuid::Uuid::now_v7().simple()),
            lease: SignedDuration::from_secs(300),
            batch: 32,
            concurrency: 8,
        }
    }

    /// Claims and runs the jobs that are due; returns how many ran.
    pub async fn run_once(&self) -> AppResult<usize> {
        self.run_batch(None).await
    }

    /// Like `run_once`, but stops starting jobs once `stop` turns true; the jobs of the batch
    /// not started stay claimed until `release` hands them back.
    pub async fn run_batch(&self, stop: Option<&watch::Receiver<bool>>) -> AppResult<usize> {
        let now = self.core.now();
        let until = now.saturating_add(self.lease).unwrap_or(now);
        let (id, batch) = (self.id.clone(), self.batch);
        let jobs = self
            .core
            .store
            .write(async move |tx| {
                Ok::<_, AppError>(repo::claim(tx, &id, now, until, batch).await?)
            })
            .await?;
        // Up to `concurrency` jobs at once: a job mostly waits (on a mail server, the
        // database), so one node keeps several going.
        let mut queued = jobs.into_iter();
        let mut running = futures_util::stream::FuturesUnordered::new();
        let (mut n, mut failed) = (0, None);
        loop {
            while running.len() < self.concurrency.max(1) {
                if stop.is_some_and(|s| *s.borrow()) {
                    break;
                }
                let Some(job) = queued.next() else { break };
                running.push(self.run_job(job));
                n += 1;
            }
            match running.next().await {
                Some(Ok(())) => {}
                Some(Err(e)) => {
                    failed.get_or_insert(e);
                }
                None => break,
            }
        }
        match failed {
            Some(e) => Err(e),
            None => Ok(n),
        }
    }

    async fn run_job(&self, job: Job) -> AppResult<()> {
        let outcome = match self.registry.handlers.get(&job.kind) {
            Some(handler) => handler(self.core.clone(), job.clone()).await,
            None => Err(format!("no handler for job kind {:?}", job.kind)),
        };
        let now = self.core.now();
        let (id, worker) = (job.id, self.id.clone());
        match outcome {
            Ok(()) => {
                metrics::counter!("sigap_jobs_completed_total").increment(1);
                self.core
                    .store
                    .write(async move |tx| {
                        Ok::<_, AppError>(repo::complete(tx, id, &worker, now).await?)
                    })
                    .await?;
            }
            Err(message) => {
                metrics::counter!("sigap_jobs_failed_total").increment(1);
                tracing::warn!(job = %job.id, kind = %job.kind, attempt = job.attempts, error = %message, "job failed");
                let retry_at = (job.attempts < job.max_attempts)
                    .then(|| now.saturating_add(backoff(job.attempts)).unwrap_or(now));
                self.core
                    .store
                    .write(async move |tx| {
                        Ok::<_, AppError>(
                            repo::fail(tx, id, &worker, &message, now, retry_at).await?,
                        )
                    })
                    .await?;
            }
        }
        Ok(())
    }

    /// Hands back every job this worker holds (at shutdown).
    pub async fn release(&self) -> AppResult<u64> {
        let id = self.id.clone();
        self.core
            .store
            .write(async move |tx| Ok::<_, AppError>(repo::release_all(tx, &id).await?))
            .await
    }

    /// Takes or renews the leader lease; the leader enqueues periodic work when it is due.
    pub async fn lead(&self, last_maintenance: &mut Option<Timestamp>) -> AppResult<bool> {
        let now = self.core.now();
        let until = now
            .saturating_add(SignedDuration::from_secs(90))
            .unwrap_or(now);
        let id = self.id.clone();
        let due =
            last_maintenance.is_none_or(|t| now.duration_since(t) >= SignedDuration::from_mins(10));
        let leader = self
            .core
            .store
            .write(async move |tx| {
                let leader = repo::acquire_leader(tx, "periodic", &id, now, until).await?;
                // SLA thresholds are looked at every time the leader renews its lease.
                if leader {
                    enqueue(tx, crate::sla::SWEEP_JOB, &json!({}), now, now).await?;
                    // The mailboxes are polled, and mail a crash left is processed.
                    enqueue(tx, crate::mail::POLL_JOB, &json!({}), now, now).await?;
                    // Flapping alerts that settled; old events pruned.
                    enqueue(tx, crate::events::SWEEP_JOB, &json!({}), now, now).await?;
                    // Scheduled reports that are due.
                    enqueue(
                        tx,
                        crate::reports::schedules::DELIVER_JOB,
                        &json!({}),
                        now,
                        now,
                    )
                    .await?;
                }
                if leader && due {
                    enqueue(tx, MAINTENANCE, &json!({}), now, now).await?;
                    enqueue(tx, crate::portfolio::REVIEW_JOB, &json!({}), now, now).await?;
                    enqueue(tx, crate::knowledge::REVIEW_JOB, &json!({}), now, now).await?;
                    enqueue(tx, crate::approvals::REMIND_JOB, &json!({}), now, now).await?;
                    enqueue(tx, crate::incidents::AUTOCLOSE_JOB, &json!({}), now, now).await?;
                }
                Ok::<_, AppError>(leader)
            })
            .await?;
        if leader {
            // Audit entries a failed chaining run or a stopped node left pending (PostgreSQL).
            let chained = self.core.store.chain_audit().await?;
            if chained > 0 {
                tracing::info!(chained, "chained audit entries left pending");
            }
        }
        if leader && due {
            *last_maintenance = Some(now);
        }
        Ok(leader)
    }

    /// Runs until `shutdown` turns true, then releases what it holds.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>, poll: Duration) {
        let mut last_maintenance = None;
        let mut ticks = 0u64;
        loop {
            if *shutdown.borrow() {
                break;
            }
            if ticks.is_multiple_of(30) {
                if let Err(e) = self.lead(&mut last_maintenance).await {
                    tracing::warn!(error = %e, "leader lease");
                }
            }
            ticks = ticks.wrapping_add(1);
            let ran = match self.run_batch(Some(&shutdown)).await {
                Ok(n) => n,
                Err(e) => {
                    tracing::warn!(error = %e, "claiming jobs");
                    0
                }
            };
            if ran == 0 {
                tokio::select! {
                    _ = tokio::time::sleep(poll) => {}
                    _ = shutdown.changed() => {}
                }
            }
        }
        match self.release().await {
            Ok(n) if n > 0 => tracing::info!(jobs = n, "released claimed jobs"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "releasing jobs"),
        }
        let id = self.id.clone();
        let _ = self
            .core
            .store
            .write(async move |tx| {
                Ok::<_, AppError>(repo::release_leader(tx, "periodic", &id).await?)
            })
            .await;
    }
}

/// Takes or renews the lease `name` for `holder` until `secs` seconds from now: whether
/// `holder` holds it. A lease lets one node of many do a piece of long-running work (the
/// leader's schedule, the mail connections kept open); another takes over once it lapses.
pub async fn hold_lease(core: &Core, name: &str, holder: &str, secs: i64) -> AppResult<bool> {
    let now = core.now();
    let until = now
        .saturating_add(SignedDuration::from_secs(secs))
        .unwrap_or(now);
    let (name, holder) = (name.to_owned(), holder.to_owned());
    core.store
        .write(async move |tx| {
            Ok::<_, AppError>(repo::acquire_leader(tx, &name, &holder, now, until).await?)
        })
        .await
}

/// Gives up the lease `name` if `holder` holds it.
pub async fn drop_lease(core: &Core, name: &str, holder: &str) -> AppResult<()> {
    let (name, holder) = (name.to_owned(), holder.to_owned());
    core.store
        .write(async move |tx| Ok::<_, AppError>(repo::release_leader(tx, &name, &holder).await?))
        .await
}

/// Queue figures for the home page and metrics.
pub async fn counts(core: &Core) -> AppResult<repo::JobCounts> {
    Ok(core.store.read(async |tx| repo::counts(tx).await).await?)
}
