//! The keys join tokens are checked with ([`KeySet`]) and signed with ([`Signer`]), and the
//! algorithms accepted.
//!
//! Three algorithms, each tied to its own kind of key: HS256 (a shared secret), EdDSA (Ed25519)
//! and ES256 (ECDSA P-256). A key verifies only its own algorithm, so a public key is never
//! used as an HMAC secret (the classic algorithm confusion). RSA is not accepted: a 2048-bit
//! RS256 signature alone is 342 base64 characters, and with its claims the token no longer
//! fits the protocol's 512 bytes (PROTOCOL.md, `MAX_TOKEN_LEN`).

use std::path::{Path, PathBuf};

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, JwkSet};
use jsonwebtoken::{DecodingKey, EncodingKey, Header};

use super::MAX_TOKEN_LEN;
use super::claims::Claims;

/// Most keys a server trusts at once (a JWKS with rotation needs a handful).
pub const MAX_KEYS: usize = 32;
/// Largest key or JWKS file read, bytes.
const MAX_KEY_FILE: u64 = 64 * 1024;

/// A signing algorithm the server accepts, each with its own kind of key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Algorithm {
    /// HMAC-SHA256 with a shared secret (`--auth-secret`).
    HS256,
    /// Ed25519 (`--auth-public-key` or `--auth-jwks`).
    EdDSA,
    /// ECDSA on P-256 with SHA-256 (`--auth-public-key` or `--auth-jwks`).
    ES256,
}

impl Algorithm {
    /// The JOSE name (`alg` header value).
    pub fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::EdDSA => "EdDSA",
            Self::ES256 => "ES256",
        }
    }

    /// The algorithm named `alg`, if accepted at all (never `none`).
    pub fn from_name(alg: &str) -> Option<Self> {
        [Self::HS256, Self::EdDSA, Self::ES256].into_iter().find(|a| a.name() == alg)
    }

    pub(super) fn jwt(self) -> jsonwebtoken::Algorithm {
        match self {
            Self::HS256 => jsonwebtoken::Algorithm::HS256,
            Self::EdDSA => jsonwebtoken::Algorithm::EdDSA,
            Self::ES256 => jsonwebtoken::Algorithm::ES256,
        }
    }
}

/// Why keys could not be loaded (at start-up) or a token minted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is larger than any key or key set should be.
    #[error("{path}: larger than {MAX_KEY_FILE} bytes")]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// An empty HS256 secret.
    #[error("the HS256 secret is empty")]
    EmptySecret,
    /// An RSA key: its tokens would not fit in 512 bytes.
    #[error(
        "{what}: RSA keys are not accepted (an RS256 token exceeds the protocol's 512 bytes); use Ed25519 (EdDSA) or P-256 (ES256)"
    )]
    Rsa {
        /// The file or JWK.
        what: String,
    },
    /// A PEM that is not an Ed25519 or P-256 key of the kind expected.
    #[error("{what}: not {expected} in PEM")]
    NotAKey {
        /// The file.
        what: String,
        /// What was expected.
        expected: &'static str,
    },
    /// A JWKS that does not parse.
    #[error("{what}: not a JWK Set: {why}")]
    Jwks {
        /// The file.
        what: String,
        /// The parser's message.
        why: String,
    },
    /// A JWK of a kind not accepted.
    #[error("{what}: key {index} is not accepted: {why}")]
    UnsupportedJwk {
        /// The file.
        what: String,
        /// The key's position in `keys`.
        index: usize,
        /// Why.
        why: &'static str,
    },
    /// Token verification was asked for, but no key was given (an empty JWK Set).
    #[error("no key to verify join tokens with (an empty JWK Set?)")]
    NoKeys,
    /// More keys than [`MAX_KEYS`].
    #[error("more than {MAX_KEYS} keys")]
    TooManyKeys,
    /// Two keys share a key id.
    #[error("two keys share the key id {0:?}")]
    DuplicateKid(String),
    /// The signing library refused (for minting).
    #[error("signing failed: {0}")]
    Signing(String),
    /// The minted token is longer than the protocol allows.
    #[error("the token is {len} bytes; at most {MAX_TOKEN_LEN} are allowed (shorter claims?)")]
    TokenTooLong {
        /// Its length.
        len: usize,
    },
}

/// One trusted key.
pub(super) struct Key {
    pub(super) alg: Algorithm,
    /// The JWKS `kid`; `None` for `--auth-secret` and `--auth-public-key`, which then verify a
    /// token whatever `kid` it names.
    pub(super) kid: Option<String>,
    pub(super) key: DecodingKey,
}

/// The keys a server trusts: a shared secret, public keys, or both (for a migration).
#[derive(Default)]
pub struct KeySet {
    pub(super) keys: Vec<Key>,
}

impl std::fmt::Debug for KeySet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the keys themselves: a secret must not reach a log.
        let keys: Vec<_> = self.keys.iter().map(|k| (k.alg.name(), k.kid.as_deref())).collect();
        f.debug_struct("KeySet").field("keys", &keys).finish()
    }
}

impl KeySet {
    /// Whether no key is trusted (then no token can be valid).
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The algorithms some key verifies.
    pub fn algorithms(&self) -> Vec<Algorithm> {
        let mut algs = Vec::new();
        for k in &self.keys {
            if !algs.contains(&k.alg) {
                algs.push(k.alg);
            }
        }
        algs
    }

    /// Trusts HS256 tokens signed with `secret`.
    pub fn add_secret(&mut self, secret: &[u8]) -> Result<(), KeyError> {
        let key = DecodingKey::from_secret(secret).map_err(|_| KeyError::EmptySecret)?;
        self.push(Key { alg: Algorithm::HS256, kid: None, key })
    }

    /// Trusts tokens signed by the private half of a public key in PEM (`BEGIN PUBLIC KEY`):
    /// Ed25519 (EdDSA) or P-256 (ES256). `what` names it in errors.
    pub fn add_public_key_pem(&mut self, pem: &[u8], what: &str) -> Result<(), KeyError> {
        let not_a_key = || KeyError::NotAKey {
            what: what.to_owned(),
            expected: "an Ed25519 or P-256 public key",
        };
        if let Ok(key) = DecodingKey::from_ed_pem(pem) {
            return self.push(Key { alg: Algorithm::EdDSA, kid: None, key });
        }
        if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            // An uncompressed (65 bytes) or compressed (33) P-256 point; P-384's are longer.
            let point = key.try_get_as_bytes().map_err(|_| not_a_key())?.len();
            if point != 65 && point != 33 {
                return Err(not_a_key());
            }
            return self.push(Key { alg: Algorithm::ES256, kid: None, key });
        }
        if DecodingKey::from_rsa_pem(pem).is_ok() {
            return Err(KeyError::Rsa { what: what.to_owned() });
        }
        Err(not_a_key())
    }

    /// Trusts the keys of a JWK Set (RFC 7517): `OKP`/`Ed25519` (EdDSA) and `EC`/`P-256`
    /// (ES256) keys. Any other key (RSA, symmetric, another curve, `use` other than `sig`, an
    /// `alg` that contradicts the key) is an error rather than silently skipped: an operator
    /// should know which keys are trusted.
    pub fn add_jwks(&mut self, json: &[u8], what: &str) -> Result<(), KeyError> {
        let set: JwkSet = serde_json::from_slice(json)
            .map_err(|e| KeyError::Jwks { what: what.to_owned(), why: e.to_string() })?;
        for (index, jwk) in set.keys.iter().enumerate() {
            let unsupported = |why| KeyError::UnsupportedJwk { what: what.to_owned(), index, why };
            let alg = match &jwk.algorithm {
                AlgorithmParameters::OctetKeyPair(p) if p.curve == EllipticCurve::Ed25519 => {
                    Algorithm::EdDSA
                }
                AlgorithmParameters::EllipticCurve(p) if p.curve == EllipticCurve::P256 => {
                    Algorithm::ES256
                }
                AlgorithmParameters::RSA(_) => {
                    return Err(KeyError::Rsa { what: format!("{what}: key {index}") });
                }
                AlgorithmParameters::OctetKey(_) => {
                    return Err(unsupported("a symmetric key (use --auth-secret)"));
                }
                _ => return Err(unsupported("only Ed25519 and P-256 keys are accepted")),
            };
            if let Some(declared) = &jwk.common.key_algorithm
                && declared.to_string() != alg.name()
            {
                return Err(unsupported("its alg does not match its key type"));
            }
            if jwk
                .common
                .public_key_use
                .as_ref()
                .is_some_and(|u| !matches!(u, jsonwebtoken::jwk::PublicKeyUse::Signature))
            {
                return Err(unsupported("its use is not sig"));
            }
            let key = DecodingKey::from_jwk(jwk).map_err(|_| unsupported("malformed key"))?;
            // The crate takes the coordinates as they are: check their sizes here, so that a
            // bad key fails at start-up, not at every token.
            let len = key.try_get_as_bytes().map_err(|_| unsupported("malformed key"))?.len();
            if len != if alg == Algorithm::EdDSA { 32 } else { 65 } {
                return Err(unsupported("its coordinates have the wrong length"));
            }
            self.push(Key { alg, kid: jwk.common.key_id.clone(), key })?;
        }
        Ok(())
    }

    /// Reads a public key PEM file ([`KeySet::add_public_key_pem`]).
    pub fn add_public_key_file(&mut self, path: &Path) -> Result<(), KeyError> {
        let pem = read_small(path)?;
        self.add_public_key_pem(&pem, &path.display().to_string())
    }

    /// Reads a JWKS file ([`KeySet::add_jwks`]).
    pub fn add_jwks_file(&mut self, path: &Path) -> Result<(), KeyError> {
        let json = read_small(path)?;
        self.add_jwks(&json, &path.display().to_string())
    }

    fn push(&mut self, key: Key) -> Result<(), KeyError> {
        if self.keys.len() >= MAX_KEYS {
            return Err(KeyError::TooManyKeys);
        }
        if let Some(kid) = &key.kid
            && self.keys.iter().any(|k| k.kid.as_ref() == Some(kid))
        {
            return Err(KeyError::DuplicateKid(kid.clone()));
        }
        self.keys.push(key);
        Ok(())
    }

    /// The keys that may have signed a token with header `alg` and `kid`.
    pub(super) fn candidates<'a>(
        &'a self,
        alg: Algorithm,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Key> + 'a {
        self.keys.iter().filter(move |k| {
            k.alg == alg && (k.kid.is_none() || kid.is_none() || k.kid.as_deref() == kid)
        })
    }
}

fn read_small(path: &Path) -> Result<Vec<u8>, KeyError> {
    use std::io::Read as _;
    let read = |source| KeyError::Read { path: path.to_owned(), source };
    let file = std::fs::File::open(path).map_err(read)?;
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE + 1).read_to_end(&mut bytes).map_err(read)?;
    if bytes.len() as u64 > MAX_KEY_FILE {
        return Err(KeyError::TooLarge { path: path.to_owned() });
    }
    Ok(bytes)
}

/// Mints join tokens: what a backend does (in any language, with its JWT library), here for
/// `tickwire-server mint-token` and the tests.
pub struct Signer {
    alg: Algorithm,
    kid: Option<String>,
    key: EncodingKey,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer").field("alg", &self.alg).field("kid", &self.kid).finish()
    }
}

impl Signer {
    /// An HS256 signer with the shared secret.
    pub fn hs256(secret: &[u8]) -> Result<Self, KeyError> {
        let key = EncodingKey::from_secret(secret).map_err(|_| KeyError::EmptySecret)?;
        Ok(Self { alg: Algorithm::HS256, kid: None, key })
    }

    /// A signer with a PKCS#8 private key in PEM (`BEGIN PRIVATE KEY`): Ed25519 signs EdDSA,
    /// P-256 signs ES256.
    pub fn from_private_key_pem(pem: &[u8], what: &str) -> Result<Self, KeyError> {
        if let Ok(key) = EncodingKey::from_ed_pem(pem) {
            let signer = Self { alg: Algorithm::EdDSA, kid: None, key };
            return signer.probe(what);
        }
        if let Ok(key) = EncodingKey::from_ec_pem(pem) {
            let signer = Self { alg: Algorithm::ES256, kid: None, key };
            return signer.probe(what);
        }
        if EncodingKey::from_rsa_pem(pem).is_ok() {
            return Err(KeyError::Rsa { what: what.to_owned() });
        }
        Err(KeyError::NotAKey {
            what: what.to_owned(),
            expected: "an Ed25519 or P-256 private key (PKCS#8)",
        })
    }

    /// Reads a private key file ([`Signer::from_private_key_pem`]).
    pub fn from_private_key_file(path: &Path) -> Result<Self, KeyError> {
        Self::from_private_key_pem(&read_small(path)?, &path.display().to_string())
    }

    /// The same signer, naming key id `kid` in its tokens' headers (for a JWKS server).
    pub fn with_kid(self, kid: impl Into<String>) -> Self {
        Self { kid: Some(kid.into()), ..self }
    }

    /// The algorithm it signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The signed token for `claims`.
    pub fn mint(&self, claims: &Claims) -> Result<String, KeyError> {
        let mut header = Header::new(self.alg.jwt());
        header.kid = self.kid.clone();
        let token = jsonwebtoken::encode(&header, claims, &self.key)
            .map_err(|e| KeyError::Signing(e.to_string()))?;
        if token.len() > MAX_TOKEN_LEN {
            return Err(KeyError::TokenTooLong { len: token.len() });
        }
        Ok(token)
    }

    /// Signs once, so that a key of the right family but the wrong curve (P-384) is refused
    /// when loaded rather than at the first mint.
    fn probe(self, what: &str) -> Result<Self, KeyError> {
        match self.mint(&Claims::new("probe", "probe", 0, 0)) {
            Ok(_) => Ok(self),
            Err(_) => Err(KeyError::NotAKey {
                what: what.to_owned(),
                expected: "an Ed25519 or P-256 private key (PKCS#8)",
            }),
        }
    }
}
