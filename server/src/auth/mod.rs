//! Join tokens: JWTs (RFC 7519) that a backend mints after authenticating a player, verified by
//! the server **before** the WebSocket upgrade (401 otherwise).
//!
//! Any JWT library mints one (PyJWT, Node's `jsonwebtoken`, …; README "Hosting"). Claims
//! ([`Claims`]): `sub` (the player id), `room`, optionally `game`, `aud` (one of the server's
//! `--auth-audience`, default [`DEFAULT_AUDIENCE`]), `exp`, optionally `nbf`, and `jti` (a unique
//! id: a token is single use). Signed with HS256 and a shared secret (`--auth-secret`), or with
//! EdDSA (Ed25519) or ES256 (P-256) and a private key the game servers never see: they hold
//! the public key (`--auth-public-key`) or a JWK Set (`--auth-jwks`, keys chosen by `kid`).
//!
//! [`Verifier::verify`] checks, in order: presence and length (at most [`MAX_TOKEN_LEN`]); the
//! header, whose `alg` must be one a configured key verifies (`none`, HS256 on a public-key
//! server, RS256... are refused here: algorithm confusion), and whose `kid`, if any, must name
//! a trusted key; the signature (the `jsonwebtoken` crate, with only that algorithm allowed for
//! that key); the claims' shape; `exp` and `nbf` with a leeway for clock skew
//! (`--auth-leeway-secs`); the audience; the room and game the request names; and replay (a
//! `jti` is accepted once while its token is valid; the set of seen ids is bounded by pruning
//! expired ones and by a hard cap). Time enters as `now`, so every check is testable without a
//! clock.

mod claims;
mod keys;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use jsonwebtoken::errors::ErrorKind;
use parking_lot::Mutex;
use serde::Deserialize;

pub use claims::{Audience, Claims, DEFAULT_AUDIENCE, new_token_id};
pub use keys::{Algorithm, KeyError, KeySet, MAX_KEYS, Signer};

use crate::ServerConfig;

/// Longest token accepted, in bytes (the protocol's limit for a hello's token).
pub const MAX_TOKEN_LEN: usize = tickwire_protocol::message::hello::MAX_TOKEN_LEN;
/// Most unexpired token ids remembered; beyond it new tokens are refused until some expire.
pub const MAX_REMEMBERED_IDS: usize = 100_000;
/// Default leeway for `exp` and `nbf`, seconds (`--auth-leeway-secs`).
pub const DEFAULT_LEEWAY_SECS: u64 = 5;

/// Why a token was refused (all answered with HTTP 401, counted by [`AuthError::label`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// No token was presented.
    #[error("missing token")]
    Missing,
    /// Not a JWT (three base64url parts, JSON header and claims), a claim missing or of the
    /// wrong type, or too long.
    #[error("malformed token")]
    Malformed,
    /// The header's `alg` is not one a configured key verifies (`none`, HS256 on a server
    /// holding only public keys, RS256, ...).
    #[error("token algorithm not accepted")]
    BadAlgorithm,
    /// The header's `kid` names no trusted key.
    #[error("token signed with an unknown key")]
    UnknownKey,
    /// The signature does not match (tampered, or another key).
    #[error("bad token signature")]
    BadSignature,
    /// Past its `exp` (plus the leeway).
    #[error("token expired")]
    Expired,
    /// Before its `nbf` (minus the leeway).
    #[error("token not yet valid")]
    NotYetValid,
    /// Its `aud` names none of this server's audiences.
    #[error("token is for another audience")]
    WrongAudience,
    /// Minted for another room.
    #[error("token is for another room")]
    WrongRoom,
    /// Minted for another game.
    #[error("token is for another game")]
    WrongGame,
    /// Already used.
    #[error("token already used")]
    Replayed,
    /// Bound to another server of the fleet (its `server` claim names another `--server-id`,
    /// or this server has none).
    #[error("token is for another server")]
    WrongServer,
}

impl AuthError {
    /// Metrics label (`http_rejected{reason=…}`).
    pub fn label(self) -> &'static str {
        match self {
            Self::Missing => "token_missing",
            Self::Malformed => "token_malformed",
            Self::BadAlgorithm => "token_bad_algorithm",
            Self::UnknownKey => "token_unknown_key",
            Self::BadSignature => "token_bad_signature",
            Self::Expired => "token_expired",
            Self::NotYetValid => "token_not_yet_valid",
            Self::WrongAudience => "token_wrong_audience",
            Self::WrongRoom => "token_wrong_room",
            Self::WrongGame => "token_wrong_game",
            Self::Replayed => "token_replayed",
            Self::WrongServer => "token_wrong_server",
        }
    }
}

/// What the request asks for, when it says: a token for another room or game is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'a> {
    /// The room the request names (`?room=`).
    pub room: Option<&'a str>,
    /// The game the request is for (`?game=`, or the game of the room it names).
    pub game: Option<&'a str>,
}

/// The JOSE header fields read before the signature is checked, to choose the key.
#[derive(Deserialize)]
struct JoseHeader {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
}

/// Verifies tokens for one server and remembers the token ids it has accepted.
#[derive(Debug)]
pub struct Verifier {
    /// The trusted keys; a token's `alg` and `kid` choose among them.
    keys: KeySet,
    /// The `aud` values accepted (a token must name one).
    audiences: Vec<String>,
    /// Seconds of clock skew forgiven on `exp` and `nbf`.
    leeway: u64,
    /// This server's id in its fleet (`--server-id`): a token bound to another server is
    /// refused.
    server_id: Option<String>,
    /// Accepted token ids, with the time after which each token is expired anyway (then the id
    /// can be forgotten). At most [`MAX_REMEMBERED_IDS`]: beyond it tokens are refused as
    /// replays until some expire, so memory stays bounded whatever backends mint.
    seen: Mutex<HashMap<String, u64>>,
}

impl Verifier {
    /// A verifier trusting `keys`, for tokens naming one of `audiences`, forgiving `leeway_secs`
    /// of clock skew.
    pub fn new(keys: KeySet, audiences: Vec<String>, leeway_secs: u64) -> Self {
        let seen = Mutex::new(HashMap::new());
        Self { keys, audiences, leeway: leeway_secs, server_id: None, seen }
    }

    /// The same verifier for fleet server `id`: tokens bound to another server are refused.
    pub fn for_server(self, id: Option<String>) -> Self {
        Self { server_id: id, ..self }
    }

    /// The verifier the configuration asks for: `None` (open dev mode) when it names no key.
    pub fn from_config(config: &ServerConfig) -> Result<Option<Self>, KeyError> {
        if config.auth_secret.is_none()
            && config.auth_public_key.is_none()
            && config.auth_jwks.is_none()
        {
            return Ok(None);
        }
        let mut keys = KeySet::default();
        if let Some(secret) = &config.auth_secret {
            keys.add_secret(secret.as_bytes())?;
        }
        if let Some(path) = &config.auth_public_key {
            keys.add_public_key_file(path)?;
        }
        if let Some(path) = &config.auth_jwks {
            keys.add_jwks_file(path)?;
        }
        if keys.is_empty() {
            // An empty JWK Set: every token would be refused, which is never what was meant.
            return Err(KeyError::NoKeys);
        }
        let verifier = Self::new(keys, config.auth_audience.clone(), config.auth_leeway_secs);
        Ok(Some(verifier.for_server(Some(config.server_id()))))
    }

    /// The algorithms this verifier accepts.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        self.keys.algorithms()
    }

    /// Checks `token` at time `now` (Unix seconds) for `scope`; on success the token cannot be
    /// used again.
    pub fn verify(
        &self,
        token: Option<&str>,
        scope: Scope<'_>,
        now: u64,
    ) -> Result<Claims, AuthError> {
        let claims = self.stateless(token, scope, now)?;
        let mut seen = self.seen.lock();
        if seen.len() >= MAX_REMEMBERED_IDS {
            seen.retain(|_, expired_at| *expired_at > now);
        }
        if seen.len() >= MAX_REMEMBERED_IDS || seen.contains_key(&claims.jti) {
            return Err(AuthError::Replayed);
        }
        seen.insert(claims.jti.clone(), claims.exp.saturating_add(self.leeway));
        Ok(claims)
    }

    /// What `verify` would answer, without using the token up: for a client asking why its
    /// WebSocket upgrade failed (a browser cannot read the upgrade's status), so that asking
    /// never spends a good token.
    pub fn check(
        &self,
        token: Option<&str>,
        scope: Scope<'_>,
        now: u64,
    ) -> Result<Claims, AuthError> {
        let claims = self.stateless(token, scope, now)?;
        if self.seen.lock().contains_key(&claims.jti) {
            return Err(AuthError::Replayed);
        }
        Ok(claims)
    }

    /// The token's claims if a trusted key signed it with an accepted algorithm; no time,
    /// audience, scope or replay check.
    pub fn decode(&self, token: &str) -> Result<Claims, AuthError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(AuthError::Malformed);
        }
        let header = header(token)?;
        let alg = Algorithm::from_name(&header.alg)
            .filter(|a| self.keys.algorithms().contains(a))
            .ok_or(AuthError::BadAlgorithm)?;
        let mut validation = jsonwebtoken::Validation::new(alg.jwt());
        // Time and audience are checked below with the injected `now`; the crate checks only
        // the algorithm and the signature, and decodes the claims.
        validation.required_spec_claims.clear();
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        let mut verdict = Err(AuthError::UnknownKey);
        for key in self.keys.candidates(alg, header.kid.as_deref()) {
            verdict = match jsonwebtoken::decode::<Claims>(token, &key.key, &validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) => Err(refusal(e.kind())),
            };
            if verdict != Err(AuthError::BadSignature) {
                break;
            }
        }
        verdict
    }

    /// The checks that need no memory of earlier tokens.
    fn stateless(
        &self,
        token: Option<&str>,
        scope: Scope<'_>,
        now: u64,
    ) -> Result<Claims, AuthError> {
        let claims = self.decode(token.ok_or(AuthError::Missing)?)?;
        if claims.player.is_empty()
            || claims.jti.is_empty()
            || !tickwire_protocol::message::hello::valid_room(&claims.room)
        {
            return Err(AuthError::Malformed);
        }
        if now >= claims.exp.saturating_add(self.leeway) {
            return Err(AuthError::Expired);
        }
        if claims.nbf.is_some_and(|nbf| now.saturating_add(self.leeway) < nbf) {
            return Err(AuthError::NotYetValid);
        }
        if !claims.aud.names_any(&self.audiences) {
            return Err(AuthError::WrongAudience);
        }
        if claims.server.as_ref().is_some_and(|s| Some(s) != self.server_id.as_ref()) {
            return Err(AuthError::WrongServer);
        }
        if scope.room.is_some_and(|r| r != claims.room) {
            return Err(AuthError::WrongRoom);
        }
        if let (Some(want), Some(game)) = (scope.game, &claims.game)
            && want != game
        {
            return Err(AuthError::WrongGame);
        }
        Ok(claims)
    }
}

/// The JOSE header of a compact JWS: exactly three base64url parts.
fn header(token: &str) -> Result<JoseHeader, AuthError> {
    let mut parts = token.split('.');
    let (Some(head), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(AuthError::Malformed);
    };
    let json = B64.decode(head).map_err(|_| AuthError::Malformed)?;
    serde_json::from_slice(&json).map_err(|_| AuthError::Malformed)
}

/// The refusal for an error of the `jsonwebtoken` crate.
fn refusal(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::InvalidAlgorithm | ErrorKind::MissingAlgorithm => AuthError::BadAlgorithm,
        // A wrong-length ECDSA or EdDSA signature, bad base64, bad JSON, a claim of the wrong
        // type, an unsupported `crit`: not a token this server could ever accept.
        _ => AuthError::Malformed,
    }
}
