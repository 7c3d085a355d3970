//! Sending over SMTP (implicit TLS or STARTTLS, with authentication) through a pool of
//! connections kept open between mails, started afresh when the administrators change the
//! outbound server.
//!
//! The connections are Sigap's own TCP streams with Nagle's algorithm off (`TCP_NODELAY`),
//! on which lettre speaks SMTP: lettre writes a message's end (`.`) apart from its text, and
//! with Nagle on, that last small write waits for the server's delayed acknowledgement of
//! the one before (some 40 ms a mail).

use lettre::Address;
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{
    AsyncSmtpConnection, AsyncTokioStream, Certificate, TlsParameters,
};
use lettre::transport::smtp::extension::ClientId;
use sigap_core::mail::Outbound;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
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

/// Connections kept open at most.
const POOL: usize = 8;
const TIMEOUT: Duration = Duration::from_secs(30);

/// An implicit-TLS stream, for lettre to speak SMTP on.
#[derive(Debug)]
struct Tls(tokio_rustls::client::TlsStream<TcpStream>);

impl AsyncRead for Tls {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for Tls {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

impl AsyncTokioStream for Tls {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.get_ref().0.peer_addr()
    }
}

/// Idle connections, for the settings at a version.
#[derive(Default)]
struct Pool {
    version: i64,
    idle: Vec<AsyncSmtpConnection>,
}

/// Sends mail with the outbound settings, keeping connections open between mails.
#[derive(Clone, Default)]
pub struct Smtp {
    trust: TlsTrust,
    pool: Arc<Mutex<Pool>>,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").field("trust", &self.trust).finish()
    }
}

fn transient(what: &str, e: impl std::fmt::Display) -> SendError {
    SendError::Transient(format!("{what}: {e}"))
}

/// Opens a connection with the settings: TCP without Nagle, TLS (implicit, or by STARTTLS,
/// which the server must offer), EHLO, and authentication when a user is set.
pub async fn connect(o: &Outbound, trust: &TlsTrust) -> Result<AsyncSmtpConnection, SendError> {
    if o.host.is_empty() {
        return Err(SendError::Off);
    }
    let port = u16::try_from(o.port).map_err(|_| SendError::Settings("port".into()))?;
    let hello = ClientId::default();
    let tcp = tokio::time::timeout(TIMEOUT, TcpStream::connect((o.host.as_str(), port)))
        .await
        .map_err(|_| transient("connecting", "no answer"))?
        .map_err(|e| transient("connecting", e))?;
    tcp.set_nodelay(true)
        .map_err(|e| transient("connecting", e))?;
    let mut conn = match o.security.as_str() {
        "tls" => {
            let config = crate::imap::tls_config(trust).map_err(SendError::Settings)?;
            let name = tokio_rustls::rustls::pki_types::ServerName::try_from(o.host.clone())
                .map_err(|e| SendError::Settings(format!("server name {}: {e}", o.host)))?;
            let tls = tokio::time::timeout(
                TIMEOUT,
                tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp),
            )
            .await
            .map_err(|_| transient("TLS", "no answer"))?
            .map_err(|e| transient("TLS", e))?;
            AsyncSmtpConnection::connect_with_transport(Box::new(Tls(tls)), &hello)
                .await
                .map_err(|e| transient("greeting", e))?
        }
        "starttls" => {
            let mut c = AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
                .await
                .map_err(|e| transient("greeting", e))?;
            if !c.can_starttls() {
                return Err(SendError::Settings(
                    "the server does not offer STARTTLS".into(),
                ));
            }
            c.starttls(tls_parameters(o, trust)?, &hello)
                .await
                .map_err(|e| transient("STARTTLS", e))?;
            c
        }
        _ => AsyncSmtpConnection::connect_with_transport(Box::new(tcp), &hello)
            .await
            .map_err(|e| transient("greeting", e))?,
    };
    if !o.username.is_empty() {
        let credentials = Credentials::new(o.username.clone(), o.password.clone());
        conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials)
            .await
            .map_err(|e| {
                if e.is_permanent() {
                    SendError::Settings(format!("signing in as {}: {e}", o.username))
                } else {
                    transient("signing in", e)
                }
            })?;
    }
    Ok(conn)
}

fn tls_parameters(o: &Outbound, trust: &TlsTrust) -> Result<TlsParameters, SendError> {
    let mut b = TlsParameters::builder(o.host.clone());
    if let Some(pem) = trust.extra_pem().map_err(SendError::Settings)? {
        let cert = Certificate::from_pem(&pem)
            .map_err(|e| SendError::Settings(format!("the CA file: {e}")))?;
        b = b.add_root_certificate(cert);
    }
    b.build_rustls()
        .map_err(|e| SendError::Settings(format!("TLS: {e}")))
}

impl Smtp {
    pub fn new(trust: TlsTrust) -> Self {
        Self {
            trust,
            pool: Arc::default(),
        }
    }

    pub fn trust(&self) -> &TlsTrust {
        &self.trust
    }

    /// An idle connection for the settings' version, if one is kept.
    async fn idle(&self, o: &Outbound) -> Option<AsyncSmtpConnection> {
        let mut p = self.pool.lock().await;
        if p.version != o.version {
            p.idle.clear();
            p.version = o.version;
        }
        p.idle.pop()
    }

    /// Keeps a connection that sent well for the next mail.
    async fn keep(&self, o: &Outbound, conn: AsyncSmtpConnection) {
        let mut p = self.pool.lock().await;
        if p.version == o.version && p.idle.len() < POOL && !conn.has_broken() {
            p.idle.push(conn);
        }
    }

    /// Sends a message's bytes from the settings' address to `to`.
    pub async fn send(&self, o: &Outbound, to: &str, raw: &[u8]) -> Result<(), SendError> {
        if !o.enabled || o.host.is_empty() {
            return Err(SendError::Off);
        }
        let from: Address = o
            .from_address
            .parse()
            .map_err(|e| SendError::Settings(format!("the sender address: {e}")))?;
        let to: Address = to
            .parse()
            .map_err(|e| SendError::Permanent(format!("the address {to}: {e}")))?;
        let envelope = Envelope::new(Some(from), vec![to])
            .map_err(|e| SendError::Permanent(format!("envelope: {e}")))?;
        // A kept connection the server has closed meanwhile fails: then once more on a new
        // one.
        if let Some(conn) = self.idle(o).await {
            match self.send_on(o, conn, &envelope, raw).await {
                Err(SendError::Transient(_)) => {}
                done => return done,
            }
        }
        let conn = connect(o, &self.trust).await?;
        self.send_on(o, conn, &envelope, raw).await
    }

    /// Sends on one connection, and keeps it for the next mail unless it failed.
    async fn send_on(
        &self,
        o: &Outbound,
        mut conn: AsyncSmtpConnection,
        envelope: &Envelope,
        raw: &[u8],
    ) -> Result<(), SendError> {
        match tokio::time::timeout(TIMEOUT, conn.send(envelope, raw)).await {
            Ok(Ok(_)) => {
                self.keep(o, conn).await;
                Ok(())
            }
            // The connection is fine; the mail is refused for good.
            Ok(Err(e)) if e.is_permanent() => {
                self.keep(o, conn).await;
                Err(SendError::Permanent(e.to_string()))
            }
            Ok(Err(e)) => Err(SendError::Transient(e.to_string())),
            Err(_) => Err(transient("sending", "no answer")),
        }
    }

    /// Checks the settings: connects, and authenticates when a user is set.
    pub async fn test(&self, o: &Outbound) -> Result<(), SendError> {
        let mut conn = connect(o, &self.trust).await?;
        let _ = conn.quit().await;
        Ok(())
    }
}
