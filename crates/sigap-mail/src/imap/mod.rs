//! Polling mailboxes over IMAP (implicit TLS or STARTTLS). A message is marked seen (or
//! deleted) on the server only after Sigap has committed it; a crash in between fetches it
//! again, and the second copy is the same message (by its Message-ID), not a second task.

use crate::intake::{self, Received};
use crate::smtp::TlsTrust;
use futures_util::StreamExt;
use sigap_core::Core;
use sigap_core::mail::Mailbox;
use sigap_core::mail::inbound::Source;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, pem::PemObject};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};

/// At most this many messages are taken from a mailbox in one poll.
pub(crate) const PER_POLL: usize = 500;
/// Messages fetched in one command.
const CHUNK: usize = 25;
pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

type Session = async_imap::Session<TlsStream<TcpStream>>;

/// What a poll came to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Polled {
    /// Messages taken in (new, or again after a crash).
    pub taken: usize,
    /// Messages left on the server unmarked (Sigap could not keep them; the next poll
    /// tries again).
    pub left: usize,
}

/// TLS settings trusting the system's roots and the extra CA file.
pub fn tls_config(trust: &TlsTrust) -> Result<ClientConfig, String> {
    let mut roots = RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    for cert in native.certs {
        let _ = roots.add(cert);
    }
    if let Some(pem) = trust.extra_pem()? {
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|e| format!("the CA file: {e}"))?;
            roots.add(cert).map_err(|e| format!("the CA file: {e}"))?;
        }
    }
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Awaits an IMAP step with a time limit: its value, or what went wrong in words.
macro_rules! timed {
    ($what:expr, $f:expr) => {
        match tokio::time::timeout(TIMEOUT, $f).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(format!("{}: {e}", $what)),
            Err(_) => Err(format!("{}: no answer in {} s", $what, TIMEOUT.as_secs())),
        }
    };
}

/// Reads the server's greeting.
async fn greeting<S>(client: &mut async_imap::Client<S>) -> Result<(), String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + std::fmt::Debug + Send,
{
    match tokio::time::timeout(TIMEOUT, client.read_response()).await {
        Ok(Ok(Some(_))) => Ok(()),
        Ok(Ok(None)) => Err("the server closed the connection".into()),
        Ok(Err(e)) => Err(format!("greeting: {e}")),
        Err(_) => Err("greeting: no answer".into()),
    }
}

pub mod idle;

/// Connects and signs in to a mailbox's server.
pub async fn connect(m: &Mailbox, trust: &TlsTrust) -> Result<Session, String> {
    let host = m
        .imap
        .host
        .clone()
        .ok_or("the mailbox has no IMAP server")?;
    let starttls = m.imap.security == "starttls";
    let port = m
        .imap
        .port
        .and_then(|p| u16::try_from(p).ok())
        .unwrap_or(if starttls { 143 } else { 993 });
    let user = m.imap.username.clone().unwrap_or_default();
    let password = m.imap.password.clone().unwrap_or_default();
    let connector = TlsConnector::from(Arc::new(tls_config(trust)?));
    let name =
        ServerName::try_from(host.clone()).map_err(|e| format!("server name {host}: {e}"))?;
    let tcp = timed!("connecting", TcpStream::connect((host.as_str(), port)))?;
    let tls = if starttls {
        let mut client = async_imap::Client::new(tcp);
        greeting(&mut client).await?;
        timed!(
            "STARTTLS",
            client.run_command_and_check_ok("STARTTLS", None)
        )?;
        let tcp = client.into_inner();
        timed!("TLS", connector.connect(name, tcp))?
    } else {
        timed!("TLS", connector.connect(name, tcp))?
    };
    let mut client = async_imap::Client::new(tls);
    if !starttls {
        greeting(&mut client).await?;
    }
    match tokio::time::timeout(TIMEOUT, client.login(&user, &password)).await {
        Ok(Ok(session)) => Ok(session),
        Ok(Err((e, _))) => Err(format!("signing in as {user}: {e}")),
        Err(_) => Err("signing in: no answer".into()),
    }
}

/// Polls one mailbox: takes in its messages, and marks on the server only those Sigap kept.
pub async fn poll(core: &Core, m: &Mailbox, trust: &TlsTrust) -> Result<Polled, String> {
    let mut session = connect(m, trust).await?;
    let result = take(core, m, &mut session).await;
    let _ = tokio::time::timeout(Duration::from_secs(10), session.logout()).await;
    result
}

async fn take(core: &Core, m: &Mailbox, session: &mut Session) -> Result<Polled, String> {
    timed!("selecting the folder", session.select(&m.imap.folder))?;
    let delete = m.imap.after == "delete";
    let query = if delete {
        "UNDELETED"
    } else {
        "UNSEEN UNDELETED"
    };
    let mut uids: Vec<u32> = timed!("searching", session.uid_search(query))?
        .into_iter()
        .collect();
    uids.sort_unstable();
    uids.truncate(PER_POLL);
    let mut polled = Polled::default();
    for chunk in uids.chunks(CHUNK) {
        let set = chunk
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        let mut fetched: Vec<(u32, Vec<u8>)> = Vec::new();
        {
            let mut stream = timed!("fetching", session.uid_fetch(&set, "(UID BODY.PEEK[])"))?;
            loop {
                let next = tokio::time::timeout(TIMEOUT, stream.next()).await;
                let Some(item) = next.map_err(|_| "fetching: no answer".to_owned())? else {
                    break;
                };
                let f = item.map_err(|e| format!("fetching: {e}"))?;
                if let (Some(uid), Some(body)) = (f.uid, f.body()) {
                    fetched.push((uid, body.to_vec()));
                }
            }
        }
        let mut done: Vec<u32> = Vec::new();
        for (uid, body) in fetched {
            match intake::receive(core, m, &body, Source::Imap).await {
                Ok(r) => {
                    if matches!(
                        r,
                        Received::Done(..) | Received::Kept(_) | Received::Again(..)
                    ) {
                        done.push(uid);
                        polled.taken += 1;
                    }
                }
                Err(e) => {
                    // Not kept: leave it on the server for the next poll.
                    tracing::warn!(mailbox = %m.name, uid, error = %e, "mail left on the server");
                    polled.left += 1;
                }
            }
        }
        if !done.is_empty() {
            mark(session, &done, delete).await?;
        }
    }
    Ok(polled)
}

/// Marks committed messages seen, or deletes them.
async fn mark(session: &mut Session, uids: &[u32], delete: bool) -> Result<(), String> {
    let set = uids
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let flags = if delete {
        "+FLAGS.SILENT (\\Seen \\Deleted)"
    } else {
        "+FLAGS.SILENT (\\Seen)"
    };
    {
        let mut stream = timed!("marking", session.uid_store(&set, flags))?;
        while let Some(r) = stream.next().await {
            r.map_err(|e| format!("marking: {e}"))?;
        }
    }
    if delete {
        let stream = timed!("expunging", session.expunge())?;
        let mut stream = std::pin::pin!(stream);
        while let Some(r) = stream.next().await {
            r.map_err(|e| format!("expunging: {e}"))?;
        }
    }
    Ok(())
}

/// Polls a mailbox poll after poll (each takes at most `PER_POLL`) until none is left, a
/// message could not be kept, or `rounds` polls were made.
pub async fn drain(
    core: &Core,
    m: &Mailbox,
    trust: &TlsTrust,
    rounds: usize,
) -> Result<Polled, String> {
    let mut total = Polled::default();
    for _ in 0..rounds {
        let p = poll(core, m, trust).await?;
        total.taken += p.taken;
        total.left = p.left;
        if p.taken < PER_POLL || p.left > 0 {
            break;
        }
    }
    Ok(total)
}

/// Polls the active mailboxes that have an IMAP server: those due (by their interval), or
/// all of them with `all`; records each poll. The mailboxes' names with what came of them.
pub async fn poll_due(
    core: &Core,
    trust: &TlsTrust,
    all: bool,
) -> sigap_core::AppResult<Vec<(String, Result<Polled, String>)>> {
    let boxes = sigap_core::mail::admin::polled_mailboxes(core).await?;
    let now = core.now();
    let mut out = Vec::new();
    for m in boxes {
        let due = all
            || m.last_polled_at.is_none_or(|t| {
                now.duration_since(t)
                    >= jiff::SignedDuration::from_secs(m.imap.poll_secs.max(10) - 5)
            });
        if !due {
            continue;
        }
        // A job polls a few thousand at most; a command until the mailbox is empty.
        let rounds = if all { usize::MAX } else { 10 };
        let result = drain(core, &m, trust, rounds).await;
        match &result {
            Ok(p) if p.taken > 0 => {
                tracing::info!(mailbox = %m.name, taken = p.taken, left = p.left, "mail polled");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(mailbox = %m.name, error = %e, "polling failed"),
        }
        let error = result.as_ref().err().cloned();
        sigap_core::mail::admin::polled(core, m.id, error).await?;
        out.push((m.name, result));
    }
    Ok(out)
}
