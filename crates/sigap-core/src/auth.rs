//! Signing in and out, and turning a session cookie or a bearer token into a principal.

use crate::error::{AppError, AppResult};
use crate::principal::{AuthMethod, Principal};
use crate::{Core, secrets, tokens};
use jiff::Timestamp;
use sigap_domain::{PersonId, TokenId};
use sigap_store::tokens::ApiToken;
use sigap_store::{people, sessions, throttle};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a verified token or session is trusted without asking the database again. A
/// change made on this node (revocation, sign-out, roles, deactivation) takes effect at once;
/// on other nodes within this.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(5);
const CACHE_MAX: usize = 10_000;

/// What a credential cache keeps of one credential: when it was read, and whose it is.
pub trait Remembered {
    fn read_at(&self) -> Instant;
    fn person(&self) -> Option<PersonId>;
}

/// Credentials read recently (API tokens, session cookies) with the principal they stand
/// for, so that most calls need no query to know who is calling. Entries older than
/// [`TOKEN_CACHE_TTL`] are read again.
#[derive(Debug)]
pub struct CredentialCache<K, V> {
    entries: Mutex<HashMap<K, Arc<V>>>,
}

impl<K, V> Default for CredentialCache<K, V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: std::hash::Hash + Eq, V: Remembered> CredentialCache<K, V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, Arc<V>>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn get<Q>(&self, key: &Q) -> Option<Arc<V>>
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.lock()
            .get(key)
            .filter(|c| c.read_at().elapsed() < TOKEN_CACHE_TTL)
            .cloned()
    }

    fn put(&self, key: K, entry: Arc<V>) {
        let mut entries = self.lock();
        if entries.len() >= CACHE_MAX {
            entries.retain(|_, c| c.read_at().elapsed() < TOKEN_CACHE_TTL);
            if entries.len() >= CACHE_MAX {
                entries.clear();
            }
        }
        entries.insert(key, entry);
    }

    /// Forgets one credential (revoked, or signed out).
    pub fn forget<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
    {
        self.lock().remove(key);
    }

    /// Forgets every credential of a person (the person changed).
    pub fn forget_person(&self, person: PersonId) {
        self.lock().retain(|_, c| c.person() != Some(person));
    }
}

/// The API tokens and sessions of this node's recent callers.
#[derive(Debug, Default)]
pub struct Credentials {
    pub tokens: CredentialCache<TokenId, Cached>,
    pub sessions: CredentialCache<String, CachedSession>,
}

impl Credentials {
    /// Forgets a person's tokens and sessions (the person changed).
    pub fn forget_person(&self, person: PersonId) {
        self.tokens.forget_person(person);
        self.sessions.forget_person(person);
    }
}

/// A verified token; shared, so that a hit copies nothing.
#[derive(Debug, Clone)]
pub struct Cached {
    token: ApiToken,
    /// The stored SHA-256 of the secret, decoded; `None` if the stored text is not a hash
    /// (then no secret matches).
    secret_digest: Option<[u8; 32]>,
    principal: Arc<Principal>,
    active: bool,
    at: Instant,
}

impl Remembered for Cached {
    fn read_at(&self) -> Instant {
        self.at
    }
    fn person(&self) -> Option<PersonId> {
        self.principal.person_id
    }
}

/// A live session as read: its expiry and last touch, and its person as a principal.
#[derive(Debug, Clone)]
pub struct CachedSession {
    expires_at: Timestamp,
    last_seen_at: Timestamp,
    principal: Principal,
    active: bool,
    at: Instant,
}

impl Remembered for CachedSession {
    fn read_at(&self) -> Instant {
        self.at
    }
    fn person(&self) -> Option<PersonId> {
        self.principal.person_id
    }
}

/// A successful sign-in: the cookie value to set (shown once) and who signed in.
pub struct SignedIn {
    pub session_id: String,
    pub principal: Principal,
}

fn account_key(login: &str) -> String {
    format!("account:{}", login.trim().to_lowercase())
}

fn address_key(address: &str) -> String {
    format!("address:{address}")
}

fn retry_after(until: Timestamp, now: Timestamp) -> AppError {
    let secs = until.duration_since(now).as_secs().max(1);
    AppError::RateLimited {
        retry_after_secs: secs,
    }
}

/// Checks a login and password; failures are counted per account and per address.
pub async fn sign_in(
    core: &Core,
    login: &str,
    password: &str,
    address: &str,
) -> AppResult<SignedIn> {
    let now = core.now();
    let (account, addr) = (account_key(login), address_key(address));
    let (a2, ad2) = (account.clone(), addr.clone());
    let locked = core
        .store
        .read(async move |tx| {
            let a = throttle::locked_until(tx, &a2, now).await?;
            let b = throttle::locked_until(tx, &ad2, now).await?;
            Ok::<_, AppError>(a.into_iter().chain(b).max())
        })
        .await?;
    if let Some(until) = locked {
        return Err(retry_after(until, now));
    }
    let login_key = login.trim().to_lowercase();
    let creds = core
        .store
        .read(async move |tx| people::credentials(tx, &login_key).await)
        .await?;
    let (id, hash, active) = match creds {
        Some((id, hash, active)) => (Some(id), hash, active),
        None => (None, None, false),
    };
    let ok = secrets::verify_password(password.to_owned(), hash).await? && active;
    let Some(id) = id.filter(|_| ok) else {
        let s = core.settings.clone();
        let locked = core
            .store
            .write(async move |tx| {
                let a = throttle::record_failure(
                    tx,
                    &account,
                    now,
                    s.login_window,
                    s.login_max_failures_per_account,
                    s.login_lockout,
                )
                .await?;
                let b = throttle::record_failure(
                    tx,
                    &addr,
                    now,
                    s.login_window,
                    s.login_max_failures_per_address,
                    s.login_lockout,
                )
                .await?;
                Ok::<_, AppError>(a.into_iter().chain(b).max())
            })
            .await?;
        metrics::counter!("sigap_login_failures_total").increment(1);
        return Err(match locked {
            Some(until) => retry_after(until, now),
            None => AppError::BadCredentials,
        });
    };
    let (session_id, id_hash) = secrets::new_session_id()?;
    let expires = now
        .saturating_add(core.settings.session_idle)
        .unwrap_or(now);
    let h2 = id_hash.clone();
    let person = core
        .store
        .write(async move |tx| {
            throttle::clear(tx, &account).await?;
            sessions::insert(tx, &h2, id, now, expires).await?;
            Ok::<_, AppError>(people::get(tx, id).await?)
        })
        .await?;
    Ok(SignedIn {
        session_id,
        principal: Principal::from_person(&person, AuthMethod::Session { id_hash }),
    })
}

/// Ends a session.
pub async fn sign_out(core: &Core, id_hash: &str) -> AppResult<()> {
    let h = id_hash.to_owned();
    core.store
        .write(async move |tx| sessions::delete(tx, &h).await)
        .await?;
    // After the commit, so that no request can cache the session again before it is gone.
    core.credentials.sessions.forget(id_hash);
    Ok(())
}

/// The person behind a session cookie, if the session is alive.
pub async fn session_principal(core: &Core, cookie_value: &str) -> AppResult<Option<Principal>> {
    if cookie_value.is_empty() || cookie_value.len() > 100 {
        return Ok(None);
    }
    let id_hash = secrets::sha256_hex(cookie_value);
    let now = core.now();
    let cached = match core.credentials.sessions.get(id_hash.as_str()) {
        Some(hit) => hit,
        None => {
            let h = id_hash.clone();
            // On the primary, with read replicas too: a session just begun, or just ended,
            // counts at once (a small read by key; the request's own reads may go to a
            // standby).
            let found = core
                .store
                .read_primary(async move |tx| {
                    let Some(s) = sessions::get(tx, &h).await? else {
                        return Ok::<_, AppError>(None);
                    };
                    let p = people::get(tx, s.person_id).await?;
                    Ok(Some((s, p)))
                })
                .await?;
            let Some((session, person)) = found else {
                return Ok(None);
            };
            let entry = Arc::new(CachedSession {
                expires_at: session.expires_at,
                last_seen_at: session.last_seen_at,
                principal: Principal::from_person(
                    &person,
                    AuthMethod::Session {
                        id_hash: id_hash.clone(),
                    },
                ),
                active: person.active,
                at: Instant::now(),
            });
            core.credentials
                .sessions
                .put(id_hash.clone(), Arc::clone(&entry));
            entry
        }
    };
    if cached.expires_at <= now || !cached.active {
        return Ok(None);
    }
    // Slide the expiry, at most once a minute.
    if now.duration_since(cached.last_seen_at) > tokens::TOUCH_INTERVAL {
        let expires = now
            .saturating_add(core.settings.session_idle)
            .unwrap_or(now);
        let h = id_hash.clone();
        core.store
            .write(async move |tx| sessions::touch(tx, &h, now, expires).await)
            .await?;
        // Remember the touch, or every cached request would write again.
        let mut touched = CachedSession::clone(&cached);
        touched.last_seen_at = now;
        touched.expires_at = expires;
        core.credentials.sessions.put(id_hash, Arc::new(touched));
    }
    Ok(Some(cached.principal.clone()))
}

/// The person behind a bearer token; `Unauthenticated` for anything but a live token.
pub async fn token_principal(core: &Core, presented: &str) -> AppResult<Arc<Principal>> {
    let (id, secret) = secrets::parse_token(presented.trim()).ok_or(AppError::Unauthenticated)?;
    let now = core.now();
    let cached = match core.credentials.tokens.get(&id) {
        Some(hit) => hit,
        None => {
            // On the primary, like sessions: a token just made works at once.
            let read = core
                .store
                .read_primary(async move |tx| {
                    Ok::<_, AppError>(sigap_store::tokens::find_with_person(tx, id).await?)
                })
                .await?;
            let Some((token, secret_hash, person)) = read else {
                return Err(AppError::Unauthenticated);
            };
            let principal = Principal::from_person(
                &person,
                AuthMethod::Token {
                    id,
                    scope: token.scope,
                },
            );
            let entry = Arc::new(Cached {
                token,
                secret_digest: secrets::decode_hash(&secret_hash),
                principal: Arc::new(principal),
                active: person.active,
                at: Instant::now(),
            });
            core.credentials.tokens.put(id, Arc::clone(&entry));
            entry
        }
    };
    if !cached
        .secret_digest
        .is_some_and(|digest| secrets::secret_matches_digest(secret, &digest))
        || !tokens::usable(&cached.token, now)
        || !cached.active
    {
        return Err(AppError::Unauthenticated);
    }
    if cached
        .token
        .last_used_at
        .is_none_or(|t| now.duration_since(t) > tokens::TOUCH_INTERVAL)
    {
        core.store
            .write(async move |tx| sigap_store::tokens::touch(tx, id, now).await)
            .await?;
        // Remember the touch, or every cached call would write again.
        let mut touched = Cached::clone(&cached);
        touched.token.last_used_at = Some(now);
        core.credentials.tokens.put(id, Arc::new(touched));
    }
    Ok(Arc::clone(&cached.principal))
}
