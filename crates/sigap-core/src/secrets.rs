//! Passwords (Argon2id, off the async threads), API tokens and session ids (random, stored as
//! SHA-256, compared in constant time).

use crate::error::{AppError, AppResult};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use sigap_domain::TokenId;
use subtle::ConstantTimeEq;

/// Random bytes from the operating system.
pub fn random_bytes<const N: usize>() -> AppResult<[u8; N]> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| AppError::Internal(format!("no randomness: {e}")))?;
    Ok(buf)
}

/// A random password of 20 URL-safe characters, for the first administrator.
pub fn generate_password() -> AppResult<String> {
    Ok(URL_SAFE_NO_PAD.encode(random_bytes::<15>()?))
}

pub fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

fn argon2(memory_kib: u32, iterations: u32) -> AppResult<Argon2<'static>> {
    let params = Params::new(memory_kib, iterations, 1, None)
        .map_err(|e| AppError::Internal(format!("argon2 parameters: {e}")))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password on a blocking thread.
pub async fn hash_password(
    password: String,
    memory_kib: u32,
    iterations: u32,
) -> AppResult<String> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::encode_b64(&random_bytes::<16>()?)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        argon2(memory_kib, iterations)?
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| AppError::Internal(format!("hashing failed: {e}")))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// Checks a password against a stored hash on a blocking thread. Without a hash (unknown
/// person), a dummy hash is checked so that the answer takes as long.
pub async fn verify_password(password: String, hash: Option<String>) -> AppResult<bool> {
    tokio::task::spawn_blocking(move || {
        let stored = match &hash {
            Some(h) => h.as_str(),
            None => dummy_hash(),
        };
        let Ok(parsed) = PasswordHash::new(stored) else {
            return Ok(false);
        };
        // The parameters come from the stored hash.
        let ok = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(ok && hash.is_some())
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?
}

/// An Argon2id hash of a random string with default parameters, checked for unknown logins.
fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = random_bytes::<16>()
            .ok()
            .and_then(|b| SaltString::encode_b64(&b).ok());
        match salt {
            Some(salt) => Argon2::default()
                .hash_password(b"no such person", &salt)
                .map(|h| h.to_string())
                .unwrap_or_default(),
            None => String::new(),
        }
    })
}

/// A new API token: what to show once, and what to store.
pub struct NewToken {
    pub id: TokenId,
    pub plaintext: String,
    pub secret_hash: String,
}

const TOKEN_PREFIX: &str = "sigap_";

pub fn new_token() -> AppResult<NewToken> {
    let id = TokenId::new();
    let secret = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    Ok(NewToken {
        id,
        plaintext: format!("{TOKEN_PREFIX}{}_{secret}", id.as_uuid().simple()),
        secret_hash: sha256_hex(&secret),
    })
}

/// Splits a presented token into its id and secret; `None` if it is not shaped like one.
pub fn parse_token(presented: &str) -> Option<(TokenId, &str)> {
    let rest = presented.strip_prefix(TOKEN_PREFIX)?;
    let (id, secret) = rest.split_once('_')?;
    if id.len() != 32 || secret.is_empty() || secret.len() > 100 {
        return None;
    }
    Some((TokenId::parse(id)?, secret))
}

/// Constant-time comparison of a presented secret with the stored hash.
pub fn secret_matches(secret: &str, stored_hash: &str) -> bool {
    decode_hash(stored_hash).is_some_and(|digest| secret_matches_digest(secret, &digest))
}

/// A stored SHA-256 hash (hex) as bytes; `None` if it is not one.
pub fn decode_hash(stored_hash: &str) -> Option<[u8; 32]> {
    let mut digest = [0u8; 32];
    hex::decode_to_slice(stored_hash, &mut digest).ok()?;
    Some(digest)
}

/// Constant-time comparison of a presented secret with a decoded stored hash (no hex text
/// is built per call).
pub fn secret_matches_digest(secret: &str, digest: &[u8; 32]) -> bool {
    Sha256::digest(secret.as_bytes())
        .as_slice()
        .ct_eq(digest.as_slice())
        .into()
}

/// A new session id for the cookie, and the hash to store.
pub fn new_session_id() -> AppResult<(String, String)> {
    let id = URL_SAFE_NO_PAD.encode(random_bytes::<32>()?);
    let hash = sha256_hex(&id);
    Ok((id, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_parse_and_match() -> AppResult<()> {
        let t = new_token()?;
        let (id, secret) = parse_token(&t.plaintext).ok_or(AppError::NotFound)?;
        assert_eq!(id, t.id);
        assert!(secret_matches(secret, &t.secret_hash));
        assert!(!secret_matches("wrong", &t.secret_hash));
        assert!(parse_token("sigap_nothex_abc").is_none());
        assert!(parse_token("Bearer x").is_none());
        Ok(())
    }

    #[tokio::test]
    async fn passwords_hash_and_verify() -> AppResult<()> {
        let h = hash_password("correct horse battery".into(), 1024, 1).await?;
        assert!(verify_password("correct horse battery".into(), Some(h.clone())).await?);
        assert!(!verify_password("wrong horse battery".into(), Some(h)).await?);
        assert!(!verify_password("anything".into(), None).await?);
        Ok(())
    }
}
