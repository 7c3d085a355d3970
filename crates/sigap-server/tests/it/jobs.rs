//! Background jobs on several nodes: never twice at once, and a dead claimer's job runs again.

use sigap_core::jobs::{Registry, Worker};
use sigap_core::{AppError, Core};
use sigap_testkit::{TestApp, both};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Seen = Arc<Mutex<Vec<(String, i64)>>>;

fn recording(seen: Seen, node: &str) -> Registry {
    let mut r = Registry::default();
    let node = node.to_owned();
    r.register("record", move |_core, job| {
        let (seen, node) = (seen.clone(), node.clone());
        Box::pin(async move {
            let n = job.payload["n"].as_i64().unwrap_or(-1);
            seen.lock().map_err(|e| e.to_string())?.push((node, n));
            tokio::task::yield_now().await;
            Ok(())
        })
    });
    r
}

async fn enqueue(core: &Core, count: i64) -> anyhow::Result<()> {
    let now = core.now();
    core.store
        .write(async move |tx| {
            for n in 0..count {
                sigap_core::jobs::enqueue(tx, "record", &serde_json::json!({ "n": n }), now, now)
                    .await?;
            }
            Ok::<_, AppError>(())
        })
        .await?;
    Ok(())
}

/// A second node: its own store (pool) on the same database.
async fn second_node(app: &TestApp) -> anyhow::Result<Core> {
    let store = sigap_store::Store::open(&app.db.location, 4).await?;
    Ok(Core::new(
        store,
        Arc::new(app.clock.clone()),
        sigap_testkit::core_settings(),
    ))
}

async fn two_nodes_share_jobs(app: TestApp) -> anyhow::Result<()> {
    let seen: Seen = Arc::default();
    let node_b = second_node(&app).await?;
    enqueue(&app.core, 60).await?;
    let mut a = Worker::new(app.core.clone(), recording(seen.clone(), "a"));
    let mut b = Worker::new(node_b, recording(seen.clone(), "b"));
    a.batch = 4;
    b.batch = 4;
    let run = |w: Worker| async move {
        let mut total = 0;
        loop {
            let n = w.run_once().await?;
            if n == 0 {
                return Ok::<_, AppError>(total);
            }
            total += n;
        }
    };
    let (ra, rb) = tokio::join!(tokio::spawn(run(a)), tokio::spawn(run(b)));
    let (ra, rb) = (ra??, rb??);
    let seen = seen.lock().map_err(|e| anyhow::anyhow!("{e}"))?.clone();
    let mut counts: HashMap<i64, usize> = HashMap::new();
    for (_, n) in &seen {
        *counts.entry(*n).or_default() += 1;
    }
    assert_eq!(counts.len(), 60, "every job ran");
    assert!(
        counts.values().all(|c| *c == 1),
        "a job ran twice: {counts:?}"
    );
    assert_eq!(ra + rb, 60);
    Ok(())
}

async fn a_dead_claimers_job_runs_again_after_the_lease(app: TestApp) -> anyhow::Result<()> {
    let seen: Seen = Arc::default();
    enqueue(&app.core, 1).await?;
    // Node A claims the job and dies before finishing it.
    let now = app.core.now();
    let until = now.saturating_add(jiff::SignedDuration::from_mins(5))?;
    let claimed = app
        .core
        .store
        .write(async move |tx| {
            Ok::<_, AppError>(sigap_store::jobs::claim(tx, "node-a", now, until, 10).await?)
        })
        .await?;
    assert_eq!(claimed.len(), 1);
    let b = Worker::new(second_node(&app).await?, recording(seen.clone(), "b"));
    assert_eq!(b.run_once().await?, 0, "the lease still holds");
    app.clock.advance(jiff::SignedDuration::from_mins(6));
    assert_eq!(b.run_once().await?, 1, "the lease expired: B runs it");
    assert_eq!(b.run_once().await?, 0, "and only once");
    assert_eq!(
        seen.lock().map_err(|e| anyhow::anyhow!("{e}"))?.as_slice(),
        &[("b".to_owned(), 0)]
    );
    let counts = sigap_core::jobs::counts(&app.core).await?;
    assert_eq!((counts.done, counts.queued, counts.running), (1, 0, 0));
    Ok(())
}

async fn failing_jobs_retry_with_backoff_then_stop(app: TestApp) -> anyhow::Result<()> {
    let mut r = Registry::default();
    r.register("boom", |_core, _job| {
        Box::pin(async { Err("it broke".to_owned()) })
    });
    let now = app.core.now();
    app.core
        .store
        .write(async move |tx| {
            Ok::<_, AppError>(
                sigap_store::jobs::enqueue(tx, "boom", &serde_json::json!({}), now, 3, now).await?,
            )
        })
        .await?;
    let w = Worker::new(app.core.clone(), r);
    assert_eq!(w.run_once().await?, 1);
    assert_eq!(w.run_once().await?, 0, "waiting for the back-off");
    app.clock.advance(jiff::SignedDuration::from_secs(11));
    assert_eq!(w.run_once().await?, 1);
    app.clock.advance(jiff::SignedDuration::from_secs(21));
    assert_eq!(w.run_once().await?, 1);
    app.clock.advance(jiff::SignedDuration::from_hours(2));
    assert_eq!(w.run_once().await?, 0, "failed for good after max attempts");
    let counts = sigap_core::jobs::counts(&app.core).await?;
    assert_eq!(counts.failed, 1);
    Ok(())
}

async fn leader_enqueues_periodic_work_once(app: TestApp) -> anyhow::Result<()> {
    let with_mail = || -> anyhow::Result<Registry> {
        let mut r = Registry::standard();
        let mailer = sigap_mail::Mailer::new(Default::default()).map_err(anyhow::Error::msg)?;
        sigap_mail::register(&mut r, mailer);
        Ok(r)
    };
    let a = Worker::new(app.core.clone(), with_mail()?);
    let b = Worker::new(second_node(&app).await?, with_mail()?);
    let (mut la, mut lb) = (None, None);
    assert!(a.lead(&mut la).await?);
    assert!(!b.lead(&mut lb).await?, "one leader at a time");
    assert_eq!(
        b.run_once().await?,
        9,
        "any node runs the periodic jobs (maintenance, service reviews, article reviews, \
         approval reminders, incident auto-close, SLA sweep, mail polling, event sweep, \
         scheduled reports)"
    );
    assert!(a.lead(&mut la).await?, "the leader renews its lease");
    assert_eq!(
        a.run_once().await?,
        4,
        "only the SLA sweep, the mail polling, the event sweep and the scheduled reports come \
         with every renewal; the rest is not due again yet"
    );
    let counts = sigap_core::jobs::counts(&app.core).await?;
    assert_eq!((counts.done, counts.failed), (13, 0));
    Ok(())
}

both!(
    two_nodes_share_jobs,
    a_dead_claimers_job_runs_again_after_the_lease,
    failing_jobs_retry_with_backoff_then_stop,
    leader_enqueues_periodic_work_once,
);
