//! IMAP IDLE (RFC 2177): new mail is taken the moment the server says it arrived, not at
//! the next poll. One node, the holder of the `mail_idle` lease, keeps a connection open to
//! each polled mailbox whose server offers IDLE; the other nodes keep none. A mailbox whose
//! server does not offer IDLE is only polled, and polling stays on for every mailbox as the
//! backstop (a connection that dies quietly, a node that stops).
//!
//! Taking mail in works as a poll does: a message is marked on the server only once it is
//! committed, and the same message taken twice (by the watcher and a poll at once, or again
//! after a crash) is the one message.

use super::{PER_POLL, TIMEOUT, connect, take};
use crate::smtp::TlsTrust;
use async_imap::types::UnsolicitedResponse;
use sigap_core::Core;
use sigap_core::mail::Mailbox;
use sigap_domain::MailboxId;
use std::collections::HashMap;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The lease of the node that keeps the IDLE connections.
pub const LEASE: &str = "mail_idle";
/// How long the lease lasts; it is renewed every `CHECK`.
const LEASE_SECS: i64 = 90;
/// How often the watcher renews its lease and looks for mailboxes added, changed or removed.
const CHECK: Duration = Duration::from_secs(30);
/// IDLE is ended and begun again after this long, well inside the 29 minutes RFC 2177
/// allows a server to wait before it may log an idle client off.
const REISSUE: Duration = Duration::from_secs(10 * 60);
/// The wait before connecting again after a connection failed.
const RETRY: Duration = Duration::from_secs(30);

/// How the watcher's connections are timed (shorter in tests).
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub check: Duration,
    pub retry: Duration,
    pub reissue: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            check: CHECK,
            retry: RETRY,
            reissue: REISSUE,
        }
    }
}

/// Keeps IDLE connections to the polled mailboxes while this node holds the lease, until
/// `shutdown` turns true.
pub async fn watch(core: Core, trust: TlsTrust, shutdown: watch::Receiver<bool>) {
    watch_with(core, trust, shutdown, Timing::default()).await;
}

/// `watch`, timed by `timing`.
pub async fn watch_with(
    core: Core,
    trust: TlsTrust,
    mut shutdown: watch::Receiver<bool>,
    timing: Timing,
) {
    let holder = format!("idle-{}", uuid::Uuid::now_v7().simple());
    // Each watched mailbox, by the version of its settings the connection was made with.
    let mut running: HashMap<MailboxId, (i64, JoinHandle<()>)> = HashMap::new();
    loop {
        if *shutdown.borrow() {
            break;
        }
        let held = match sigap_core::jobs::hold_lease(&core, LEASE, &holder, LEASE_SECS).await {
            Ok(held) => held,
            Err(e) => {
                tracing::warn!(error = %e, "mail IDLE lease");
                false
            }
        };
        if held {
            match sigap_core::mail::admin::polled_mailboxes(&core).await {
                Ok(boxes) => {
                    running.retain(|id, (version, task)| {
                        let same = boxes.iter().any(|m| m.id == *id && m.version == *version);
                        if !same {
                            task.abort();
                        }
                        same
                    });
                    for m in boxes {
                        running.entry(m.id).or_insert_with(|| {
                            let version = m.version;
                            let task =
                                tokio::spawn(keep_idle(core.clone(), m, trust.clone(), timing));
                            (version, task)
                        });
                    }
                }
                Err(e) => tracing::warn!(error = %e, "mailboxes not read"),
            }
        } else {
            for (_, (_, task)) in running.drain() {
                task.abort();
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(timing.check) => {}
            _ = shutdown.changed() => {}
        }
    }
    for (_, (_, task)) in running.drain() {
        task.abort();
    }
    if let Err(e) = sigap_core::jobs::drop_lease(&core, LEASE, &holder).await {
        tracing::warn!(error = %e, "mail IDLE lease not given up");
    }
}

/// Keeps one mailbox's IDLE connection, connecting again after a failure; returns when the
/// server does not offer IDLE (the mailbox is then only polled).
async fn keep_idle(core: Core, m: Mailbox, trust: TlsTrust, timing: Timing) {
    loop {
        match idle_session(&core, &m, &trust, timing).await {
            Ok(()) => {
                tracing::info!(mailbox = %m.name, "the IMAP server does not offer IDLE: polled only");
                return;
            }
            Err(e) => {
                tracing::warn!(mailbox = %m.name, error = %e, "IMAP IDLE connection");
                if let Err(e) = sigap_core::mail::admin::polled(&core, m.id, Some(e)).await {
                    tracing::warn!(mailbox = %m.name, error = %e, "poll not recorded");
                }
                tokio::time::sleep(timing.retry).await;
            }
        }
    }
}

/// One connection: takes what is there, then idles until the server reports a change (or
/// `reissue` passes), and again. `Ok` only when the server does not offer IDLE.
async fn idle_session(
    core: &Core,
    m: &Mailbox,
    trust: &TlsTrust,
    timing: Timing,
) -> Result<(), String> {
    let mut session = connect(m, trust).await?;
    let capabilities = timed!("capabilities", session.capabilities())?;
    if !capabilities.has_str("IDLE") {
        let _ = tokio::time::timeout(Duration::from_secs(10), session.logout()).await;
        return Ok(());
    }
    loop {
        // What the server said before this take is covered by it.
        let unsolicited = session.unsolicited_responses.clone();
        // Whether the server said, outside IDLE, that messages arrived.
        let arrived = || {
            let mut any = false;
            while let Ok(r) = unsolicited.try_recv() {
                any |= matches!(
                    r,
                    UnsolicitedResponse::Exists(_) | UnsolicitedResponse::Recent(_)
                );
            }
            any
        };
        arrived();
        let polled = take(core, m, &mut session).await?;
        if polled.taken > 0 {
            tracing::info!(mailbox = %m.name, taken = polled.taken, left = polled.left, "mail taken (IDLE)");
        }
        sigap_core::mail::admin::polled(core, m.id, None)
            .await
            .map_err(|e| e.to_string())?;
        if polled.taken + polled.left >= PER_POLL {
            // More may be waiting than one take takes.
            continue;
        }
        let mut handle = session.idle();
        timed!("IDLE", handle.init())?;
        // Mail that arrived between the take and IDLE was announced outside IDLE.
        let wait = !arrived();
        if wait {
            let (changed, _stop) = handle.wait_with_timeout(timing.reissue);
            match tokio::time::timeout(timing.reissue + TIMEOUT, changed).await {
                Ok(Ok(_)) | Err(_) => {}
                Ok(Err(e)) => return Err(format!("IDLE: {e}")),
            }
        }
        session = timed!("ending IDLE", handle.done())?;
    }
}
