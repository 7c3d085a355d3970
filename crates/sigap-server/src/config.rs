//! Settings: built-in defaults < `sigap.toml` < `SIGAP_*` environment < command-line flags.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// Format version of this file.
    pub version: u32,
    pub listen: String,
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
    /// PostgreSQL hot standbys of `database_url` that take reads (none: all on the primary).
    pub database_read_urls: Vec<String>,
    pub public_url: Option<String>,
    pub metrics_listen: Option<String>,
    pub log_format: LogFormat,
    pub log_level: String,
    pub pool_size: usize,
    pub body_limit_bytes: usize,
    /// Largest accepted CSV import, in bytes.
    pub import_limit_bytes: usize,
    /// Requests of events one node takes in at once; more are answered 429.
    pub event_intake_at_once: usize,
    pub session_idle_minutes: i64,
    pub provider_name: String,
    /// Whether this node claims background jobs.
    pub worker: bool,
    /// Whether starting applies the pending migrations (else `sigap migrate` does, and a
    /// node starts on the schema as it is, ready where it can serve on it).
    pub migrate_on_start: bool,
    /// The host name in the Message-IDs of the mail Sigap sends (default: public_url's).
    pub mail_host: Option<String>,
    /// A PEM file of CA certificates trusted for SMTP and IMAP besides the system's.
    pub mail_ca_file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            version: 1,
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("sigap-data"),
            database_url: None,
            database_read_urls: Vec::new(),
            public_url: None,
            metrics_listen: None,
            log_format: LogFormat::Text,
            log_level: "info".into(),
            pool_size: 16,
            body_limit_bytes: 1024 * 1024,
            import_limit_bytes: 64 * 1024 * 1024,
            event_intake_at_once: 8,
            session_idle_minutes: 12 * 60,
            provider_name: "IT Service Provider".into(),
            worker: true,
            migrate_on_start: true,
            mail_host: None,
            mail_ca_file: None,
        }
    }
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &self.database_url.as_deref().map(sigap_store::redact_url),
            )
            .field(
                "database_read_urls",
                &self
                    .database_read_urls
                    .iter()
                    .map(|u| sigap_store::redact_url(u))
                    .collect::<Vec<_>>(),
            )
            .field("public_url", &self.public_url)
            .field("metrics_listen", &self.metrics_listen)
            .field("log_format", &self.log_format)
            .field("pool_size", &self.pool_size)
            .finish_non_exhaustive()
    }
}

/// Values given on the command line.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub metrics_listen: Option<String>,
}

fn env_value<T: std::str::FromStr>(
    name: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> anyhow::Result<Option<T>>
where
    T::Err: std::fmt::Display,
{
    match env(name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse::<T>()
            .map(Some)
            .map_err(|e| anyhow::anyhow!("environment variable {name}={v:?} is invalid: {e}")),
    }
}

impl Settings {
    /// Loads settings from `file` (or `./sigap.toml` when present), the environment and flags.
    pub fn load(file: Option<&Path>, flags: &Flags) -> anyhow::Result<Self> {
        Self::load_with(file, flags, &|name| std::env::var(name).ok())
    }

    pub fn load_with(
        file: Option<&Path>,
        flags: &Flags,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> anyhow::Result<Self> {
        let mut s = match file {
            Some(path) => Self::from_file(path)?,
            None if Path::new("sigap.toml").exists() => Self::from_file(Path::new("sigap.toml"))?,
            None => Self::default(),
        };
        if s.version != 1 {
            bail!(
                "configuration version {} is not supported (expected 1)",
                s.version
            );
        }
        if let Some(v) = env("SIGAP_LISTEN") {
            s.listen = v;
        }
        if let Some(v) = env("SIGAP_DATA_DIR") {
            s.data_dir = PathBuf::from(v);
        }
        if let Some(v) = env("SIGAP_DATABASE_URL").filter(|v| !v.is_empty()) {
            s.database_url = Some(v);
        }
        if let Some(v) = env("SIGAP_DATABASE_READ_URLS") {
            s.database_read_urls = v
                .split(',')
                .map(str::trim)
                .filter(|u| !u.is_empty())
                .map(str::to_owned)
                .collect();
        }
        if let Some(v) = env("SIGAP_PUBLIC_URL").filter(|v| !v.is_empty()) {
            s.public_url = Some(v);
        }
        if let Some(v) = env("SIGAP_METRICS_LISTEN").filter(|v| !v.is_empty()) {
            s.metrics_listen = Some(v);
        }
        if let Some(v) = env("SIGAP_LOG_FORMAT") {
            s.log_format = match v.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => bail!(
                    "environment variable SIGAP_LOG_FORMAT={other:?} is invalid: use text or json"
                ),
            };
        }
        if let Some(v) = env("SIGAP_LOG") {
            s.log_level = v;
        }
        if let Some(v) = env_value("SIGAP_POOL_SIZE", env)? {
            s.pool_size = v;
        }
        if let Some(v) = env_value("SIGAP_BODY_LIMIT_BYTES", env)? {
            s.body_limit_bytes = v;
        }
        if let Some(v) = env_value("SIGAP_IMPORT_LIMIT_BYTES", env)? {
            s.import_limit_bytes = v;
        }
        if let Some(v) = env_value("SIGAP_EVENT_INTAKE_AT_ONCE", env)? {
            s.event_intake_at_once = v;
        }
        if let Some(v) = env_value("SIGAP_SESSION_IDLE_MINUTES", env)? {
            s.session_idle_minutes = v;
        }
        if let Some(v) = env("SIGAP_PROVIDER_NAME") {
            s.provider_name = v;
        }
        if let Some(v) = env_value("SIGAP_WORKER", env)? {
            s.worker = v;
        }
        if let Some(v) = env_value("SIGAP_MIGRATE_ON_START", env)? {
            s.migrate_on_start = v;
        }
        if let Some(v) = env("SIGAP_MAIL_HOST").filter(|v| !v.is_empty()) {
            s.mail_host = Some(v);
        }
        if let Some(v) = env("SIGAP_MAIL_CA_FILE").filter(|v| !v.is_empty()) {
            s.mail_ca_file = Some(PathBuf::from(v));
        }
        if let Some(v) = &flags.listen {
            s.listen = v.clone();
        }
        if let Some(v) = &flags.data_dir {
            s.data_dir = v.clone();
        }
        if let Some(v) = &flags.database_url {
            s.database_url = Some(v.clone());
        }
        if let Some(v) = &flags.metrics_listen {
            s.metrics_listen = Some(v.clone());
        }
        s.check()?;
        Ok(s)
    }

    fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        toml::from_str(&text)
            .with_context(|| format!("{} is not a valid configuration", path.display()))
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.pool_size == 0 {
            bail!("pool_size must be at least 1");
        }
        if self.body_limit_bytes < 1024 {
            bail!("body_limit_bytes must be at least 1024");
        }
        if self.import_limit_bytes < 1024 {
            bail!("import_limit_bytes must be at least 1024");
        }
        if self.event_intake_at_once == 0 {
            bail!("event_intake_at_once must be at least 1");
        }
        if self.session_idle_minutes < 1 {
            bail!("session_idle_minutes must be at least 1");
        }
        for url in &self.database_read_urls {
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                bail!(
                    "database_read_urls: {} is not a postgres:// URL",
                    sigap_store::redact_url(url)
                );
            }
        }
        if let Some(url) = &self.public_url {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                bail!("public_url must start with http:// or https://");
            }
        }
        if let Some(h) = &self.mail_host {
            let ok = !h.is_empty()
                && h.len() <= 253
                && h.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
            if !ok {
                bail!("mail_host must be a host name (letters, digits, dots and hyphens)");
            }
        }
        Ok(())
    }

    /// The host in Sigap's Message-IDs: `mail_host`, else public_url's host, else the
    /// machine's own name.
    pub fn mail_host(&self) -> String {
        if let Some(h) = &self.mail_host {
            return h.clone();
        }
        let from_url = self.public_url.as_deref().and_then(|u| {
            let rest = u.split_once("://")?.1;
            let host = rest.split(['/', ':']).next()?;
            (!host.is_empty()).then(|| host.to_owned())
        });
        from_url.unwrap_or_else(|| "sigap.localhost".to_owned())
    }

    /// Where people reach Sigap (links in mail): public_url, else the listen address.
    pub fn base_url(&self) -> String {
        match &self.public_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.listen),
        }
    }

    /// Where the data lives: `database_url`, else `sigap.db` in the data directory.
    pub fn database(&self) -> anyhow::Result<sigap_store::DatabaseLocation> {
        match &self.database_url {
            Some(url) => sigap_store::DatabaseLocation::parse(url)
                .map_err(|e| anyhow::anyhow!("database_url: {e}")),
            None => Ok(sigap_store::DatabaseLocation::Sqlite(
                self.data_dir.join("sigap.db"),
            )),
        }
    }
}

/// The annotated example printed by `sigap config default`.
pub const EXAMPLE: &str = r#"# Sigap configuration. Every setting is optional; shown here with its default.
# Precedence: built-in defaults < this file < SIGAP_* environment variables < command-line flags.
# Sigap reads ./sigap.toml, or the file given with --config.
version = 1

# Address and port to serve the web interface and the API on.   (SIGAP_LISTEN, --listen)
listen = "127.0.0.1:8080"

# Directory for the embedded SQLite database.                    (SIGAP_DATA_DIR, --data-dir)
data_dir = "sigap-data"

# Database. Unset: SQLite in data_dir. Or "sqlite:///path/to/sigap.db",
# or "postgres://user:password@host:5432/sigap" to run several nodes.  (SIGAP_DATABASE_URL, --database-url)
# database_url = "postgres://sigap@127.0.0.1:5432/sigap"

# Read replicas: PostgreSQL hot standbys of database_url (pg_basebackup -R). Reads of GET
# requests go to them; writes, and the reads of other requests, to database_url. Ignored on
# SQLite. See docs/operations.md.    (SIGAP_DATABASE_READ_URLS, comma-separated)
# database_read_urls = ["postgres://sigap@replica-1:5432/sigap", "postgres://sigap@replica-2:5432/sigap"]

# The address people use to reach Sigap. Browsers' unsafe requests must come from it;
# an https address makes the session cookie Secure.              (SIGAP_PUBLIC_URL)
# public_url = "https://sigap.example.com"

# Serve Prometheus metrics at /metrics on this separate address. (SIGAP_METRICS_LISTEN, --metrics-listen)
# metrics_listen = "127.0.0.1:9090"

# Logs: "text" or "json", and the level filter.                  (SIGAP_LOG_FORMAT, SIGAP_LOG)
log_format = "text"
log_level = "info"

# Database connections (PostgreSQL) or reader threads (SQLite).  (SIGAP_POOL_SIZE)
pool_size = 16

# Largest accepted request body in bytes.                         (SIGAP_BODY_LIMIT_BYTES)
body_limit_bytes = 1048576

# Largest accepted CSV import (CMDB) in bytes.                    (SIGAP_IMPORT_LIMIT_BYTES)
import_limit_bytes = 67108864

# Requests of events (POST /api/v1/events and the monitoring webhooks) one node takes in
# at once; more are answered 429 with Retry-After: 1 and nothing of them is kept.
#                                                                 (SIGAP_EVENT_INTAKE_AT_ONCE)
event_intake_at_once = 8

# A browser session ends after this many idle minutes.            (SIGAP_SESSION_IDLE_MINUTES)
session_idle_minutes = 720

# Name of the provider organization created at the first start.  (SIGAP_PROVIDER_NAME)
provider_name = "IT Service Provider"

# Whether this node runs background jobs (any number of nodes may). (SIGAP_WORKER)
worker = true

# Whether starting applies the pending migrations. Off: `sigap migrate` does (run it once
# for an upgrade of several nodes), and a node serves on the schema as it finds it where it
# can (/readyz says).                                             (SIGAP_MIGRATE_ON_START)
migrate_on_start = true

# Mail: the host name in the Message-IDs of the mail Sigap sends (default: public_url's
# host), and a PEM file of further CA certificates to trust for SMTP and IMAP (a private
# CA). Mailboxes and the outbound server are set on the administration pages.
#                                                     (SIGAP_MAIL_HOST, SIGAP_MAIL_CA_FILE)
# mail_host = "sigap.example.com"
# mail_ca_file = "/etc/ssl/private-ca.pem"

# The first start creates the administrator "admin" with a random password printed once,
# or with SIGAP_ADMIN_PASSWORD when that is set (environment only).
"#;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn example_parses_to_the_defaults() -> anyhow::Result<()> {
        let parsed: Settings = toml::from_str(EXAMPLE)?;
        assert!(parsed == Settings::default());
        Ok(())
    }

    #[test]
    fn layers_apply_in_order() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("s.toml");
        std::fs::write(
            &file,
            "listen = \"0.0.0.0:1\"\npool_size = 3\nlog_format = \"json\"\n",
        )?;
        let env: HashMap<&str, &str> =
            [("SIGAP_LISTEN", "0.0.0.0:2"), ("SIGAP_POOL_SIZE", "5")].into();
        let lookup = |k: &str| env.get(k).map(|v| (*v).to_owned());
        let s = Settings::load_with(Some(&file), &Flags::default(), &lookup)?;
        assert_eq!(
            (s.listen.as_str(), s.pool_size, s.log_format),
            ("0.0.0.0:2", 5, LogFormat::Json)
        );
        let flags = Flags {
            listen: Some("0.0.0.0:3".into()),
            ..Flags::default()
        };
        let s = Settings::load_with(Some(&file), &flags, &lookup)?;
        assert_eq!(s.listen, "0.0.0.0:3");
        Ok(())
    }

    #[test]
    fn read_replicas_come_from_a_list_or_commas() -> anyhow::Result<()> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("s.toml");
        std::fs::write(
            &file,
            "database_read_urls = [\"postgres://a@r1/sigap\", \"postgres://a@r2/sigap\"]\n",
        )?;
        let s = Settings::load_with(Some(&file), &Flags::default(), &|_| None)?;
        assert_eq!(s.database_read_urls.len(), 2);
        let lookup = |k: &str| {
            (k == "SIGAP_DATABASE_READ_URLS")
                .then(|| " postgres://a:secret@r3/sigap , postgresql://a@r4/sigap,".to_owned())
        };
        let s = Settings::load_with(Some(&file), &Flags::default(), &lookup)?;
        assert_eq!(
            s.database_read_urls,
            vec!["postgres://a:secret@r3/sigap", "postgresql://a@r4/sigap"]
        );
        assert!(!format!("{s:?}").contains("secret"));
        let lookup = |k: &str| {
            (k == "SIGAP_DATABASE_READ_URLS").then(|| "mysql://u:secret@r/sigap".to_owned())
        };
        let err = Settings::load_with(None, &Flags::default(), &lookup)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("database_read_urls"), "{err}");
        assert!(!err.contains("secret"), "{err}");
        Ok(())
    }

    #[test]
    fn bad_values_are_named() -> anyhow::Result<()> {
        let lookup = |k: &str| (k == "SIGAP_POOL_SIZE").then(|| "many".to_owned());
        let err = Settings::load_with(None, &Flags::default(), &lookup)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("SIGAP_POOL_SIZE"), "{err}");
        let lookup = |k: &str| (k == "SIGAP_EVENT_INTAKE_AT_ONCE").then(|| "0".to_owned());
        let err = Settings::load_with(None, &Flags::default(), &lookup)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("event_intake_at_once"), "{err}");
        let lookup = |k: &str| (k == "SIGAP_EVENT_INTAKE_AT_ONCE").then(|| "3".to_owned());
        let s = Settings::load_with(None, &Flags::default(), &lookup)?;
        assert_eq!(s.event_intake_at_once, 3);
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("s.toml");
        std::fs::write(&file, "lisen = \"x\"\n")?;
        let err = Settings::load_with(Some(&file), &Flags::default(), &|_| None)
            .err()
            .map(|e| format!("{e:#}"))
            .unwrap_or_default();
        assert!(err.contains("lisen"), "{err}");
        Ok(())
    }
}
