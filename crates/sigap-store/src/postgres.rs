//! PostgreSQL through tokio-postgres with a deadpool pool (fast recycling: no ping per take).

use crate::error::StoreError;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;

#[derive(Clone)]
pub struct PgDb {
    pub(crate) pool: Pool,
    /// This node's runs chaining the audit entries writers leave pending.
    pub(crate) chain: std::sync::Arc<crate::chainer::ChainRuns>,
    /// The configuration this node keeps (the primary of a long-running store only).
    pub(crate) config: Option<std::sync::Arc<crate::config_cache::ConfigCache>>,
}

impl std::fmt::Debug for PgDb {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgDb")
            .field("max_size", &self.pool.status().max_size)
            .finish()
    }
}

impl PgDb {
    pub fn connect(url: &str, max_size: usize) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Pool(format!("invalid database URL: {e}")))?;
        Self::with_config(config, max_size)
    }

    /// A pool on a read replica: connecting gives up after two seconds (unless the URL says
    /// otherwise), so that a standby that is gone costs a read little before it moves on.
    pub(crate) fn connect_standby(url: &str, max_size: usize) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Pool(format!("invalid database URL: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(std::time::Duration::from_secs(2));
        }
        Self::with_config(config, max_size)
    }

    fn with_config(config: tokio_postgres::Config, max_size: usize) -> Result<Self, StoreError> {
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(max_size.max(1))
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        Ok(Self {
            pool,
            chain: std::sync::Arc::default(),
            config: None,
        })
    }

    /// Keeps the configuration every create reads, listening for its changes on a
    /// connection of its own (see `config_cache`).
    pub(crate) fn keep_config(&mut self, url: &str) -> Result<(), StoreError> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Pool(format!("invalid database URL: {e}")))?;
        let cache = std::sync::Arc::new(crate::config_cache::ConfigCache::default());
        crate::config_cache::ConfigCache::spawn_listener(&cache, config);
        self.config = Some(cache);
        Ok(())
    }

    pub(crate) async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(|e| match e {
            deadpool_postgres::PoolError::Backend(e) => StoreError::from_pg(e),
            other => StoreError::Pool(other.to_string()),
        })
    }
}

/// Redacts the password of a database URL for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &url[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}
