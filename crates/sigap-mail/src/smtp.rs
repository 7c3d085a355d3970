//! Sending over SMTP (TLS or STARTTLS, with authentication) through one pooled connection
//! set, made again when the administrators change the outbound server.

use lettre::address::Envelope;
use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use sigap_core::mail::Outbound;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// Why a mail was not sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Not set up, or turned off.
    #[error("outbound mail is off")]
    Off,
    /// The settings cannot work (an address, the CA file).
    #[error("outbound mail settings: {0}")]
    Settings(String),
    /// The server refused for good (5xx): trying again will not help.
    #[error("the server refused the mail: {0}")]
    Permanent(String),
    /// Anything that may pass: the connection, a 4xx.
    #[error("sending failed: {0}")]
    Transient(String),
}

/// Where to trust servers' certificates from besides the system's roots.
#[derive(Debug, Clone, Default)]
pub struct TlsTrust {
    /// A PEM file of further CA certificates (a private CA).
    pub ca_file: Option<PathBuf>,
}

impl TlsTrust {
    /// The extra CA certificates, as PEM.
    pub fn extra_pem(&self) -> Result<Option<Vec<u8>>, String> {
        match &self.ca_file {
            None => Ok(None),
            Some(p) => std::fs::read(p)
                .map(Some)
                .map_err(|e| format!("cannot read the CA file {}: {e}", p.display())),
        }
    }
}

type Transport = AsyncSmtpTransport<Tokio1Executor>;

/// The outbound transport, made from the settings at a version.
#[derive(Clone, Default)]
pub struct Smtp {
    trust: TlsTrust,
    current: Arc<Mutex<Option<(i64, Transport)>>>,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").field("trust", &self.trust).finish()
    }
}

/// A transport for the settings.
pub fn transport(o: &Outbound, trust: &TlsTrust) -> Result<Transport, SendError> {
    if o.host.is_empty() {
        return Err(SendError::Off);
    }
    let port = u16::try_from(o.port).map_err(|_| SendError::Settings("port".into()))?;
    let tls = || -> Result<TlsParameters, SendError> {
        let mut b = TlsParameters::builder(o.host.clone());
        if let Some(pem) = trust.extra_pem().map_err(SendError::Settings)? {
            let cert = Certificate::from_pem(&pem)
                .map_err(|e| SendError::Settings(format!("the CA file: {e}")))?;
            b = b.add_root_certificate(cert);
        }
        b.build_rustls()
            .map_err(|e| SendError::Settings(format!("TLS: {e}")))
    };
    let mut b = Transport::builder_dangerous(o.host.clone())
        .port(port)
        .timeout(Some(Duration::from_secs(30)))
        .pool_config(PoolConfig::new().max_size(8));
    b = match o.security.as_str() {
        "tls" => b.tls(Tls::Wrapper(tls()?)),
        "starttls" => b.tls(Tls::Required(tls()?)),
        _ => b.tls(Tls::None),
    };
    if !o.username.is_empty() {
        b = b.credentials(Credentials::new(o.username.clone(), o.password.clone()));
    }
    Ok(b.build())
}

impl Smtp {
    pub fn new(trust: TlsTrust) -> Self {
        Self {
            trust,
            current: Arc::default(),
        }
    }

    pub fn trust(&self) -> &TlsTrust {
        &self.trust
    }

    async fn transport(&self, o: &Outbound) -> Result<Transport, SendError> {
        if !o.enabled {
            return Err(SendError::Off);
        }
        let mut current = self.current.lock().await;
        if let Some((v, t)) = current.as_ref() {
            if *v == o.version {
                return Ok(t.clone());
            }
        }
        let t = transport(o, &self.trust)?;
        *current = Some((o.version, t.clone()));
        Ok(t)
    }

    /// Sends a message's bytes from the settings' address to `to`.
    pub async fn send(&self, o: &Outbound, to: &str, raw: &[u8]) -> Result<(), SendError> {
        let t = self.transport(o).await?;
        let from: Address = o
            .from_address
            .parse()
            .map_err(|e| SendError::Settings(format!("the sender address: {e}")))?;
        let to: Address = to
            .parse()
            .map_err(|e| SendError::Permanent(format!("the address {to}: {e}")))?;
        let envelope = Envelope::new(Some(from), vec![to])
            .map_err(|e| SendError::Permanent(format!("envelope: {e}")))?;
        match t.send_raw(&envelope, raw).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(e.to_string())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }

    /// Checks the settings: connects, and authenticates when a user is set.
    pub async fn test(&self, o: &Outbound) -> Result<(), SendError> {
        let t = transport(o, &self.trust)?;
        match t.test_connection().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(SendError::Transient("the server did not answer".into())),
            Err(e) => Err(SendError::Transient(e.to_string())),
        }
    }
}
