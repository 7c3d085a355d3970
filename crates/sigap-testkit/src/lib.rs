//! Test helpers: the whole application on 127.0.0.1:0 against a fresh SQLite file or a fresh
//! PostgreSQL database, a fake clock, HTTP clients, and builders for test data.

use anyhow::Context;
use jiff::Timestamp;
use sigap_core::{AuthMethod, Core, CoreSettings, Ctx, Principal};
use sigap_domain::FakeClock;
use sigap_server::config::Settings;
use sigap_server::{App, Deps};
pub use sigap_store::testing::{Backend, TestDb, postgres_url};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

pub const ADMIN_PASSWORD: &str = "admin-password-123";

/// Runs a test body once per backend: `both!(name_of_async_fn, …)` expects
/// `async fn name_of_async_fn(app: TestApp) -> anyhow::Result<()>` in the calling module.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    let app = $crate::TestApp::spawn($crate::Backend::Sqlite).await?;
                    super::$name(app).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() -> anyhow::Result<()> {
                    match $crate::postgres_url().map_err(anyhow::Error::msg)? {
                        None => {
                            eprintln!("PostgreSQL not configured (SIGAP_TEST_DATABASE_URL): skipped");
                            Ok(())
                        }
                        Some(_) => {
                            let app = $crate::TestApp::spawn($crate::Backend::Postgres).await?;
                            super::$name(app).await
                        }
                    }
                }
            )*
        }
    };
}

/// Cheap password hashing for tests.
pub fn core_settings() -> CoreSettings {
    CoreSettings {
        argon2_memory_kib: 1024,
        argon2_iterations: 1,
        ..CoreSettings::default()
    }
}

/// A running Sigap.
pub struct TestApp {
    pub url: String,
    pub core: Core,
    pub clock: FakeClock,
    pub db: TestDb,
    /// A read-write token of the administrator `admin`.
    pub admin_token: String,
    /// A client without cookies that follows no redirects.
    pub http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl std::fmt::Debug for TestApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestApp").field("url", &self.url).finish()
    }
}

fn init_logs() {
    if std::env::var("TEST_LOG").is_ok() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info")
            .with_test_writer()
            .try_init();
    }
}

pub fn client(cookies: bool) -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .cookie_store(cookies)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .context("building an HTTP client")
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> anyhow::Result<Self> {
        Self::spawn_with(backend, |_| {}).await
    }

    /// Spawns with adjusted settings.
    pub async fn spawn_with(
        backend: Backend,
        adjust: impl FnOnce(&mut Settings),
    ) -> anyhow::Result<Self> {
        Self::spawn_on(TestDb::fresh(backend).await?, adjust).await
    }

    /// Spawns on `db` (made by the test: `TestDb::at`) with adjusted settings.
    pub async fn spawn_on(db: TestDb, adjust: impl FnOnce(&mut Settings)) -> anyhow::Result<Self> {
        init_logs();
        let mut settings = Settings {
            database_url: Some(db.url.clone()),
            worker: false,
            pool_size: 4,
            ..Settings::default()
        };
        adjust(&mut settings);
        let clock = FakeClock::new(Timestamp::now());
        let deps = Deps {
            clock: Arc::new(clock.clone()),
            core: core_settings(),
            ..Deps::default()
        };
        let app = App::build(settings, deps).await?;
        app.bootstrap(Some(ADMIN_PASSWORD.to_owned())).await?;
        let core = app.core.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(app.serve(listener, async move {
            let _ = stopped.await;
        }));
        let admin = sigap_core::people::get(&core, &Ctx::system("test"), "admin")
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let admin_token = token_for(&core, &admin, "read_write").await?;
        Ok(Self {
            url,
            core,
            clock,
            db,
            admin_token,
            http: client(false)?,
            stop: Some(stop),
            task: Some(task),
        })
    }

    pub fn api(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.url)
    }

    pub fn page(&self, path: &str) -> String {
        format!("{}{path}", self.url)
    }

    /// Creates a person with roles and an organization (id or name) and returns them with a token.
    pub async fn person(
        &self,
        login: &str,
        roles: &[&str],
        organization: Option<&str>,
    ) -> anyhow::Result<(sigap_store::people::Person, String)> {
        let input = sigap_core::people::PersonInput {
            login: Some(login.to_owned()),
            name: Some(format!("Test {login}")),
            email: Some(Some(format!("{login}@example.com"))),
            roles: Some(roles.iter().map(|r| (*r).to_owned()).collect()),
            organization: organization.map(|o| Some(o.to_owned())),
            password: Some(format!("{login}-password-1")),
            ..Default::default()
        };
        let p = sigap_core::people::create(&self.core, &Ctx::system("test"), input)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))?;
        let token = token_for(&self.core, &p, "read_write").await?;
        Ok((p, token))
    }

    /// Creates an organization.
    pub async fn organization(
        &self,
        name: &str,
        kind: &str,
    ) -> anyhow::Result<sigap_store::orgs::Organization> {
        let input = sigap_core::orgs::OrgInput {
            name: Some(name.to_owned()),
            kind: Some(kind.to_owned()),
            ..Default::default()
        };
        sigap_core::orgs::create(&self.core, &Ctx::system("test"), input)
            .await
            .map_err(|e| anyhow::anyhow!("{e:?}"))
    }

    /// A cookie-keeping client signed in through the login form.
    pub async fn browser(&self, login: &str, password: &str) -> anyhow::Result<reqwest::Client> {
        let c = client(true)?;
        let resp = c
            .post(self.page("/login"))
            .header("origin", &self.url)
            .form(&[("login", login), ("password", password)])
            .send()
            .await?;
        anyhow::ensure!(resp.status() == 303, "sign-in failed: {}", resp.status());
        Ok(c)
    }

    /// Stops the server (in-flight requests finish); the database stays until the app is dropped.
    pub async fn stop(&mut self) -> anyhow::Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            t.await??;
        }
        Ok(())
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

/// Creates a token for `person` with `scope`.
pub async fn token_for(
    core: &Core,
    person: &sigap_store::people::Person,
    scope: &str,
) -> anyhow::Result<String> {
    let ctx = Ctx::new(Principal::from_person(person, AuthMethod::System), "test");
    let input = sigap_core::tokens::TokenInput {
        name: Some("test".into()),
        scope: Some(scope.into()),
        expires_at: None,
    };
    let (_, token) = sigap_core::tokens::create(core, &ctx, input)
        .await
        .map_err(|e| anyhow::anyhow!("{e:?}"))?;
    Ok(token)
}
