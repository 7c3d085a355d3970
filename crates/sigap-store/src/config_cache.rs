//! What every create reads and an administrator seldom changes (the priority matrix, the
//! assignment rules, the SLA targets), kept by each node on PostgreSQL so that a create does
//! not ask for it again.
//!
//! A change is seen at once: triggers on those tables notify the channel `sigap_config`
//! (migration 27), which each node listens to on a connection of its own, and a change made
//! through this node also marks its transaction, so that the node forgets its copies the
//! moment the change commits and the transaction itself reads past them. While the node does
//! not listen (not yet connected, or the connection broke) nothing is kept: a notification
//! it could miss cannot leave it with an old copy. SQLite keeps nothing (a read there costs
//! less than the bookkeeping).

use std::any::Any;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The channel the configuration triggers notify.
pub(crate) const CHANNEL: &str = "sigap_config";

type Slot = (u64, Arc<dyn Any + Send + Sync>);

#[derive(Default)]
pub(crate) struct ConfigCache {
    /// Moves on at every change heard of; a copy is good for the generation it was read in.
    generation: AtomicU64,
    listening: AtomicBool,
    slots: Mutex<HashMap<&'static str, Slot>>,
}

impl std::fmt::Debug for ConfigCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfigCache")
            .field("generation", &self.generation)
            .field("listening", &self.listening)
            .finish_non_exhaustive()
    }
}

impl ConfigCache {
    /// The generation copies may be taken from and kept for; `None` while not listening.
    pub(crate) fn generation(&self) -> Option<u64> {
        // The generation first: a change heard of after this makes the copy read now old.
        let g = self.generation.load(Ordering::Acquire);
        self.listening.load(Ordering::Acquire).then_some(g)
    }

    pub(crate) fn get<T: Any + Send + Sync>(
        &self,
        key: &'static str,
        generation: u64,
    ) -> Option<Arc<T>> {
        let slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        let (g, value) = slots.get(key)?;
        if *g != generation {
            return None;
        }
        Arc::clone(value).downcast::<T>().ok()
    }

    pub(crate) fn put<T: Any + Send + Sync>(
        &self,
        key: &'static str,
        generation: u64,
        value: Arc<T>,
    ) {
        // A change heard of while it was read: not worth keeping.
        if self.generation.load(Ordering::Acquire) != generation {
            return;
        }
        self.slots
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(key, (generation, value));
    }

    /// Forgets every copy (a change committed, or the notifications may have been missed).
    pub(crate) fn changed(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.slots.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }

    fn set_listening(&self, on: bool) {
        // Either way what is kept may be older than a notification that went unheard.
        self.changed();
        self.listening.store(on, Ordering::Release);
        self.changed();
    }

    /// Listens to the configuration's notifications on a connection of its own, for as long
    /// as the process runs, connecting again a second after a failure.
    pub(crate) fn spawn_listener(cache: &Arc<Self>, config: tokio_postgres::Config) {
        let cache = Arc::downgrade(cache);
        tokio::spawn(async move {
            loop {
                let Some(c) = cache.upgrade() else { return };
                if let Err(e) = listen(&c, &config).await {
                    tracing::debug!(error = %e, "configuration notifications: connecting again");
                }
                c.set_listening(false);
                drop(c);
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
    }
}

/// One connection's life: `LISTEN`, then every notification forgets the copies, until the
/// connection ends.
async fn listen(
    cache: &Arc<ConfigCache>,
    config: &tokio_postgres::Config,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(tokio_postgres::NoTls).await?;
    let (ended_tx, mut ended) = tokio::sync::oneshot::channel::<()>();
    let c = Arc::clone(cache);
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(tokio_postgres::AsyncMessage::Notification(_))) => c.changed(),
                Some(Ok(_)) => {}
                Some(Err(_)) | None => break,
            }
        }
        let _ = ended_tx.send(());
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    cache.set_listening(true);
    // Until the connection ends; the client is kept so that it does not.
    let _ = (&mut ended).await;
    drop(client);
    let _ = driver.await;
    Ok(())
}
