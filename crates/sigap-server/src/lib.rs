//! Wiring: settings to a running server. The `sigap` binary and the tests both start Sigap
//! through `App::build` and `App::serve`.

pub mod config;

use anyhow::Context;
use config::Settings;
use jiff::SignedDuration;
use sigap_core::jobs::{Registry, Worker};
use sigap_core::{Core, CoreSettings};
use sigap_domain::Clock;
use sigap_store::Store;
use sigap_web::{AppState, WebConfig};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;

/// Knobs the tests turn; production uses the defaults.
#[derive(Clone)]
pub struct Deps {
    pub clock: Arc<dyn Clock>,
    pub core: CoreSettings,
    pub registry: Registry,
    /// How often an idle worker looks for jobs.
    pub poll: Duration,
}

impl Default for Deps {
    fn default() -> Self {
        Self {
            clock: Arc::new(sigap_domain::SystemClock),
            core: CoreSettings::default(),
            registry: Registry::standard(),
            poll: Duration::from_secs(2),
        }
    }
}

/// A built application, not yet serving.
pub struct App {
    pub settings: Settings,
    pub core: Core,
    pub state: AppState,
    pub registry: Registry,
    poll: Duration,
}

impl App {
    /// Opens and migrates the database and builds the application.
    pub async fn build(settings: Settings, deps: Deps) -> anyhow::Result<Self> {
        let core = open_core(&settings, &deps, settings.pool_size).await?;
        // Administrators' mail templates are checked by rendering them, as mail is.
        let renderer = Arc::new(
            sigap_mail::render::Renderer::new()
                .map_err(|e| anyhow::anyhow!("loading the mail texts: {e}"))?,
        );
        let web = WebConfig {
            public_url: settings.public_url.clone(),
            body_limit: settings.body_limit_bytes,
            import_limit: settings.import_limit_bytes,
            event_intake_at_once: settings.event_intake_at_once,
            template_check: Some(sigap_web::TemplateCheck::new(move |subject, body| {
                renderer.check(subject, body)
            })),
        };
        let state = AppState::new(core.clone(), web)
            .map_err(|e| anyhow::anyhow!("loading the interface texts: {e}"))?;
        let mut registry = deps.registry;
        sigap_mail::register(&mut registry, mailer(&settings)?);
        Ok(Self {
            settings,
            core,
            state,
            registry,
            poll: deps.poll,
        })
    }

    /// Creates the administrator on the very first start (returns a generated password to
    /// show), and the built-in CI classes, reports and dashboards that are missing.
    pub async fn bootstrap(
        &self,
        admin_password: Option<String>,
    ) -> anyhow::Result<Option<String>> {
        let password =
            sigap_core::home::bootstrap(&self.core, &self.settings.provider_name, admin_password)
                .await
                .map_err(|e| anyhow::anyhow!("creating the first administrator: {e:?}"))?;
        sigap_core::cmdb::ensure_builtin_classes(&self.core)
            .await
            .map_err(|e| anyhow::anyhow!("creating the built-in CI classes: {e:?}"))?;
        sigap_core::reports::dashboards::ensure_builtin(&self.core)
            .await
            .map_err(|e| anyhow::anyhow!("creating the built-in reports and dashboards: {e:?}"))?;
        Ok(password)
    }

    /// Serves on `listener` until `shutdown` resolves; in-flight requests finish, the worker
    /// releases the jobs it holds.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = watch::channel(false);
        let (worker, idle) = if self.settings.worker {
            let w = Worker::new(self.core.clone(), self.registry.clone());
            // The node holding the mail IDLE lease keeps the mailboxes' connections open.
            let trust = sigap_mail::smtp::TlsTrust {
                ca_file: self.settings.mail_ca_file.clone(),
            };
            let idle = sigap_mail::imap::idle::watch(self.core.clone(), trust, stop_rx.clone());
            (
                Some(tokio::spawn(w.run(stop_rx.clone(), self.poll))),
                Some(tokio::spawn(idle)),
            )
        } else {
            (None, None)
        };
        let host = format!(
            "{} {}",
            host_name(),
            listener
                .local_addr()
                .map(|a| a.to_string())
                .unwrap_or_default()
        );
        let me = sigap_core::upgrade::Me::new(host, self.core.now())
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let beats = tokio::spawn(heartbeat(self.core.clone(), me, stop_rx.clone()));
        let app = sigap_web::app(self.state.clone());
        let served = axum::serve(
            listener,
            axum::ServiceExt::<axum::extract::Request>::into_make_service_with_connect_info::<
                SocketAddr,
            >(app),
        )
        .with_graceful_shutdown(async move {
            shutdown.await;
            tracing::info!("shutting down: finishing requests in flight");
        })
        .await;
        let _ = stop_tx.send(true);
        for task in worker.into_iter().chain(idle).chain([beats]) {
            let _ = task.await;
        }
        served.context("serving HTTP")
    }
}

/// This machine's name, as the kernel has it.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Says in the database that this node serves, every `upgrade::HEARTBEAT`, until `stop`;
/// then that it left.
async fn heartbeat(core: Core, me: sigap_core::upgrade::Me, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(e) = sigap_core::upgrade::beat(&core, &me).await {
            tracing::warn!(error = %e, "the node's heartbeat was not recorded");
        }
        tokio::select! {
            _ = tokio::time::sleep(sigap_core::upgrade::HEARTBEAT) => {}
            _ = stop.changed() => break,
        }
        if *stop.borrow() {
            break;
        }
    }
    let _ = sigap_core::upgrade::leave(&core, &me).await;
}

/// The database, migrated, and the use cases on it: what a command that serves nothing
/// needs (`App::build` adds the web and the jobs). `pool_size` connections at most.
pub async fn open_core(settings: &Settings, deps: &Deps, pool_size: usize) -> anyhow::Result<Core> {
    let location = settings.database()?;
    let read_urls: &[String] = match &location {
        sigap_store::DatabaseLocation::Postgres(_) => &settings.database_read_urls,
        sigap_store::DatabaseLocation::Sqlite(_) => {
            if !settings.database_read_urls.is_empty() {
                tracing::info!(
                    "database_read_urls is ignored: read replicas are for PostgreSQL, and the \
                     database is the embedded SQLite one"
                );
            }
            &[]
        }
    };
    let store = Store::open_with_replicas(&location, pool_size, read_urls)
        .await
        .with_context(|| format!("cannot open the database {location:?}"))?;
    if !read_urls.is_empty() {
        let shown: Vec<String> = read_urls
            .iter()
            .map(|u| sigap_store::redact_url(u))
            .collect();
        tracing::info!(replicas = ?shown, "reads of GET requests go to the read replicas");
    }
    core_on(store, settings, deps).await
}

/// As `open_core`, for a command that runs once and exits (`sigap mail receive`, a process
/// each message): the database on one connection (`Store::open_solo`), which SQLite uses on
/// the calling thread.
pub async fn open_core_solo(settings: &Settings, deps: &Deps) -> anyhow::Result<Core> {
    let location = settings.database()?;
    let store = Store::open_solo(&location)
        .await
        .with_context(|| format!("cannot open the database {location:?}"))?;
    core_on(store, settings, deps).await
}

/// The use cases on `store`, migrated first (unless `migrate_on_start` is off).
async fn core_on(store: Store, settings: &Settings, deps: &Deps) -> anyhow::Result<Core> {
    if settings.migrate_on_start {
        let applied = store.migrate().await.context("migrating the database")?;
        if !applied.is_empty() {
            tracing::info!(versions = ?applied, "database migrated");
        }
    } else {
        let s = store.schema_status().await?;
        if !s.serves() {
            tracing::warn!(
                schema = s.current,
                latest = s.latest,
                needs = s.needs,
                "the database schema is not one this node serves on (see /readyz); run `sigap migrate`"
            );
        }
    }
    let mut core_settings = deps.core.clone();
    core_settings.session_idle = SignedDuration::from_mins(settings.session_idle_minutes);
    core_settings.mail_host = settings.mail_host();
    core_settings.public_url = settings.base_url();
    Ok(Core::new(store, deps.clock.clone(), core_settings))
}

/// What sends mail, trusting the configured CA file besides the system's.
pub fn mailer(settings: &Settings) -> anyhow::Result<sigap_mail::Mailer> {
    sigap_mail::Mailer::new(sigap_mail::smtp::TlsTrust {
        ca_file: settings.mail_ca_file.clone(),
    })
    .map_err(|e| anyhow::anyhow!("loading the mail texts: {e}"))
}

/// Serves Prometheus metrics at `/metrics` on its own address.
pub async fn serve_metrics(
    listener: TcpListener,
    handle: metrics_exporter_prometheus::PrometheusHandle,
) -> anyhow::Result<()> {
    let router = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let h = handle.clone();
            async move { h.render() }
        }),
    );
    axum::serve(listener, router)
        .await
        .context("serving metrics")
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
