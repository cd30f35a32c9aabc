//! Join tokens: short-lived claims signed with HMAC-SHA256 by a backend that has authenticated a
//! player, verified by the server **before** the WebSocket upgrade.
//!
//! A token is `tw1.<payload>.<mac>`, both parts base64url without padding. The payload is JSON:
//! `{"player":"…","room":"…","exp":UNIX_SECONDS,"v":PROTOCOL_VERSION,"nonce":"…"}`; the MAC is
//! HMAC-SHA256 over the ASCII bytes `tw1.<payload>` with the shared secret. Any language with
//! HMAC and base64 can mint one; [`mint`] and `tickwire-server mint-token` do it here.
//!
//! Verification ([`Verifier::verify`]) checks, in order: shape, MAC (constant time), expiry,
//! protocol version, room, and replay (a nonce is accepted once while its token is valid; the
//! set of seen nonces is bounded by pruning expired ones and by a hard cap).

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Longest token accepted, in bytes.
pub const MAX_TOKEN_LEN: usize = 512;
/// Most unexpired nonces remembered; beyond it new tokens are refused until some expire.
pub const MAX_REMEMBERED_NONCES: usize = 100_000;

const PREFIX: &str = "tw1.";

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The backend's player id (also the key of the one-socket-per-player policy).
    pub player: String,
    /// The room the player may join.
    pub room: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// The protocol version the token is for.
    pub v: u16,
    /// A unique value per token (replay protection).
    pub nonce: String,
}

/// Why a token was refused (all answered with HTTP 401).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token was presented.
    #[error("missing token")]
    Missing,
    /// Not a `tw1.` token, bad base64 or bad JSON, or too long.
    #[error("malformed token")]
    Malformed,
    /// The MAC does not match (tampered, or another secret).
    #[error("bad token signature")]
    BadSignature,
    /// Past its expiry.
    #[error("token expired")]
    Expired,
    /// Minted for another protocol version.
    #[error("token is for another protocol version")]
    WrongVersion,
    /// Minted for another room.
    #[error("token is for another room")]
    WrongRoom,
    /// Already used.
    #[error("token already used")]
    Replayed,
}

impl AuthError {
    /// Metrics label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Missing => "token_missing",
            Self::Malformed => "token_malformed",
            Self::BadSignature => "token_bad_signature",
            Self::Expired => "token_expired",
            Self::WrongVersion => "token_wrong_version",
            Self::WrongRoom => "token_wrong_room",
            Self::Replayed => "token_replayed",
        }
    }
}

fn mac(secret: &[u8]) -> Hmac<Sha256> {
    // invariant: HMAC accepts keys of any length.
    <Hmac<Sha256> as KeyInit>::new_from_slice(secret).expect("HMAC takes any key length")
}

/// Mints a token for `claims` with `secret`.
pub fn mint(secret: &[u8], claims: &Claims) -> String {
    // invariant: serializing plain strings and integers to JSON cannot fail.
    let json = serde_json::to_vec(claims).unwrap_or_default();
    let signed = format!("{PREFIX}{}", B64.encode(json));
    let mut m = mac(secret);
    m.update(signed.as_bytes());
    format!("{signed}.{}", B64.encode(m.finalize().into_bytes()))
}

/// A fresh random nonce (64 bits from the standard library's randomly keyed hasher).
pub fn new_nonce() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    format!("{:016x}", h.finish())
}

/// Parses a token and checks its signature, without the stateful checks.
pub fn decode(secret: &[u8], token: &str) -> Result<Claims, AuthError> {
    if token.len() > MAX_TOKEN_LEN || !token.starts_with(PREFIX) {
        return Err(AuthError::Malformed);
    }
    let (signed, tag) = token.rsplit_once('.').ok_or(AuthError::Malformed)?;
    let tag = B64.decode(tag).map_err(|_| AuthError::Malformed)?;
    let mut m = mac(secret);
    m.update(signed.as_bytes());
    m.verify_slice(&tag).map_err(|_| AuthError::BadSignature)?;
    let payload = B64.decode(&signed[PREFIX.len()..]).map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&payload).map_err(|_| AuthError::Malformed)
}

/// Verifies tokens for one server and remembers the nonces it has accepted.
#[derive(Debug)]
pub struct Verifier {
    secret: Vec<u8>,
    seen: Mutex<HashMap<String, u64>>,
}

impl Verifier {
    /// A verifier for `secret`.
    pub fn new(secret: Vec<u8>) -> Self {
        Self { secret, seen: Mutex::new(HashMap::new()) }
    }

    /// Checks `token` at time `now` (Unix seconds) for `room` (when the request names one) and
    /// protocol version `version`; on success the token cannot be used again.
    pub fn verify(
        &self,
        token: Option<&str>,
        room: Option<&str>,
        version: u16,
        now: u64,
    ) -> Result<Claims, AuthError> {
        let claims = self.stateless(token, room, version, now)?;
        let mut seen = self.seen.lock();
        if seen.len() >= MAX_REMEMBERED_NONCES {
            seen.retain(|_, exp| *exp > now);
        }
        if seen.len() >= MAX_REMEMBERED_NONCES || seen.contains_key(&claims.nonce) {
            return Err(AuthError::Replayed);
        }
        seen.insert(claims.nonce.clone(), claims.exp);
        Ok(claims)
    }

    /// What `verify` would answer, without using the token up: for a client asking why its
    /// WebSocket upgrade failed (a browser cannot read the upgrade's status), so that asking
    /// never spends a good token.
    pub fn check(
        &self,
        token: Option<&str>,
        room: Option<&str>,
        version: u16,
        now: u64,
    ) -> Result<Claims, AuthError> {
        let claims = self.stateless(token, room, version, now)?;
        if self.seen.lock().contains_key(&claims.nonce) {
            return Err(AuthError::Replayed);
        }
        Ok(claims)
    }

    /// The checks that need no memory of earlier tokens: format, signature, expiry, version, room.
    fn stateless(
        &self,
        token: Option<&str>,
        room: Option<&str>,
        version: u16,
        now: u64,
    ) -> Result<Claims, AuthError> {
        let claims = decode(&self.secret, token.ok_or(AuthError::Missing)?)?;
        if claims.exp <= now {
            return Err(AuthError::Expired);
        }
        if claims.v != version {
            return Err(AuthError::WrongVersion);
        }
        if room.is_some_and(|r| r != claims.room) {
            return Err(AuthError::WrongRoom);
        }
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(exp: u64) -> Claims {
        Claims { player: "p1".into(), room: "lobby".into(), exp, v: 1, nonce: "n1".into() }
    }

    #[test]
    fn mint_then_verify_once() {
        let v = Verifier::new(b"secret".to_vec());
        let t = mint(b"secret", &claims(100));
        assert_eq!(v.verify(Some(&t), Some("lobby"), 1, 50), Ok(claims(100)));
        assert_eq!(v.verify(Some(&t), Some("lobby"), 1, 51), Err(AuthError::Replayed));
    }

    #[test]
    fn check_never_uses_a_token_up() {
        let v = Verifier::new(b"secret".to_vec());
        let t = mint(b"secret", &claims(100));
        assert_eq!(v.check(Some(&t), Some("lobby"), 1, 50), Ok(claims(100)));
        assert_eq!(v.check(Some(&t), Some("lobby"), 1, 50), Ok(claims(100)), "checked twice");
        assert_eq!(v.check(Some(&t), None, 1, 100), Err(AuthError::Expired));
        assert_eq!(v.check(None, None, 1, 0), Err(AuthError::Missing));
        assert_eq!(v.verify(Some(&t), Some("lobby"), 1, 50), Ok(claims(100)), "still usable");
        assert_eq!(v.check(Some(&t), Some("lobby"), 1, 51), Err(AuthError::Replayed));
    }

    #[test]
    fn refusals_are_typed() {
        let v = Verifier::new(b"secret".to_vec());
        let t = mint(b"secret", &claims(100));
        assert_eq!(v.verify(None, None, 1, 0), Err(AuthError::Missing));
        assert_eq!(v.verify(Some("nope"), None, 1, 0), Err(AuthError::Malformed));
        assert_eq!(
            v.verify(Some(&mint(b"other", &claims(100))), None, 1, 0),
            Err(AuthError::BadSignature)
        );
        assert_eq!(v.verify(Some(&t), None, 1, 100), Err(AuthError::Expired));
        assert_eq!(v.verify(Some(&t), None, 2, 0), Err(AuthError::WrongVersion));
        assert_eq!(v.verify(Some(&t), Some("other"), 1, 0), Err(AuthError::WrongRoom));
        // Tampering with the payload breaks the signature.
        let (head, tag) = t.rsplit_once('.').expect("shape");
        let forged = mint(b"secret", &Claims { room: "vip".into(), ..claims(100) });
        let forged_payload = forged.split('.').nth(1).expect("payload");
        let tampered = format!("tw1.{forged_payload}.{tag}");
        assert_ne!(head, format!("tw1.{forged_payload}"));
        assert_eq!(v.verify(Some(&tampered), None, 1, 0), Err(AuthError::BadSignature));
    }
}
