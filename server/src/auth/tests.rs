use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::*;

const ED_KEY: &[u8] = include_bytes!("../../tests/keys/ed25519.key.pem");
const ED_PUB: &[u8] = include_bytes!("../../tests/keys/ed25519.pub.pem");
const ED_OTHER_KEY: &[u8] = include_bytes!("../../tests/keys/ed25519-other.key.pem");
const EC_KEY: &[u8] = include_bytes!("../../tests/keys/p256.key.pem");
const EC_PUB: &[u8] = include_bytes!("../../tests/keys/p256.pub.pem");
const RSA_PUB: &[u8] = include_bytes!("../../tests/keys/rsa.pub.pem");
const JWKS: &[u8] = include_bytes!("../../tests/keys/jwks.json");

const NOW: u64 = 1_800_000_000;
const LOBBY: Scope<'static> = Scope { room: Some("lobby"), game: None };

fn claims() -> Claims {
    Claims { jti: "id-1".into(), ..Claims::new("p1", "lobby", NOW, 60) }
}

fn hs256() -> Verifier {
    let mut keys = KeySet::default();
    keys.add_secret(b"secret").expect("a secret");
    Verifier::new(keys, vec![DEFAULT_AUDIENCE.into()], 5)
}

fn eddsa() -> Verifier {
    let mut keys = KeySet::default();
    keys.add_public_key_pem(ED_PUB, "ed25519.pub.pem").expect("an Ed25519 key");
    Verifier::new(keys, vec![DEFAULT_AUDIENCE.into()], 5)
}

fn mint_hs(secret: &[u8], c: &Claims) -> String {
    Signer::hs256(secret).expect("signer").mint(c).expect("mint")
}

fn mint_ed(c: &Claims) -> String {
    Signer::from_private_key_pem(ED_KEY, "ed").expect("signer").mint(c).expect("mint")
}

/// A token with any header, HMAC-SHA256-signed with `key` (or unsigned when `None`), as an
/// attacker would forge it.
fn forge(header: &str, c: &Claims, key: Option<&[u8]>) -> String {
    let claims = serde_json::to_vec(c).expect("json");
    let signed = format!("{}.{}", B64.encode(header), B64.encode(claims));
    let sig = key.map_or_else(String::new, |key| {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
        mac.update(signed.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    });
    format!("{signed}.{sig}")
}

#[test]
fn hs256_mint_then_verify_once() {
    let v = hs256();
    let t = mint_hs(b"secret", &claims());
    assert!(t.starts_with("eyJ"), "a JWT: {t}");
    assert_eq!(v.verify(Some(&t), LOBBY, NOW), Ok(claims()));
    assert_eq!(v.verify(Some(&t), LOBBY, NOW + 1), Err(AuthError::Replayed));
}

#[test]
fn check_never_uses_a_token_up() {
    let v = hs256();
    let t = mint_hs(b"secret", &claims());
    assert_eq!(v.check(Some(&t), LOBBY, NOW), Ok(claims()));
    assert_eq!(v.check(Some(&t), LOBBY, NOW), Ok(claims()), "checked twice");
    assert_eq!(v.check(None, LOBBY, NOW), Err(AuthError::Missing));
    assert_eq!(v.verify(Some(&t), LOBBY, NOW), Ok(claims()), "still usable");
    assert_eq!(v.check(Some(&t), LOBBY, NOW), Err(AuthError::Replayed));
}

#[test]
fn expiry_and_not_before_forgive_the_leeway_and_no_more() {
    let v = hs256(); // leeway 5 s
    let t = mint_hs(b"secret", &claims()); // nbf NOW, exp NOW + 60
    assert_eq!(v.check(Some(&t), LOBBY, NOW + 64), Ok(claims()), "4 s late: within the leeway");
    assert_eq!(v.check(Some(&t), LOBBY, NOW + 65), Err(AuthError::Expired));
    assert_eq!(v.check(Some(&t), LOBBY, NOW - 5), Ok(claims()), "a clock 5 s behind");
    assert_eq!(v.check(Some(&t), LOBBY, NOW - 6), Err(AuthError::NotYetValid));
    let strict = Verifier { leeway: 0, ..hs256() };
    assert_eq!(strict.check(Some(&t), LOBBY, NOW + 60), Err(AuthError::Expired));
    assert_eq!(strict.check(Some(&t), LOBBY, NOW - 1), Err(AuthError::NotYetValid));
}

#[test]
fn refusals_are_typed() {
    let v = hs256();
    let check = |t: &str| v.check(Some(t), LOBBY, NOW);
    assert_eq!(check(""), Err(AuthError::Malformed));
    assert_eq!(check("nope"), Err(AuthError::Malformed));
    assert_eq!(check("tw1.e30.AAAA"), Err(AuthError::Malformed), "the old format is not a JWT");
    assert_eq!(check(&"a".repeat(MAX_TOKEN_LEN + 1)), Err(AuthError::Malformed));
    assert_eq!(check(&mint_hs(b"other", &claims())), Err(AuthError::BadSignature));
    let wrong_aud = claims().with_audience("another-fleet");
    assert_eq!(check(&mint_hs(b"secret", &wrong_aud)), Err(AuthError::WrongAudience));
    let many =
        Claims { aud: Audience::Many(vec!["x".into(), DEFAULT_AUDIENCE.into()]), ..claims() };
    assert_eq!(check(&mint_hs(b"secret", &many)), Ok(many), "aud as an array");
    let t = mint_hs(b"secret", &claims());
    assert_eq!(
        v.check(Some(&t), Scope { room: Some("vip"), game: None }, NOW),
        Err(AuthError::WrongRoom)
    );
    assert_eq!(v.check(Some(&t), Scope::default(), NOW), Ok(claims()), "the request names no room");
    let kart = mint_hs(b"secret", &claims().with_game("kart"));
    let game = |g| Scope { room: Some("lobby"), game: Some(g) };
    assert_eq!(v.check(Some(&kart), game("arena"), NOW), Err(AuthError::WrongGame));
    assert!(v.check(Some(&kart), game("kart"), NOW).is_ok());
    assert!(v.check(Some(&t), game("arena"), NOW).is_ok(), "a token without a game");
    // Tampering with the claims breaks the signature.
    let (_, sig) = t.rsplit_once('.').expect("shape");
    let vip = mint_hs(b"secret", &Claims { room: "vip".into(), ..claims() });
    let (vip_signed, _) = vip.rsplit_once('.').expect("shape");
    assert_eq!(check(&format!("{vip_signed}.{sig}")), Err(AuthError::BadSignature));
}

#[test]
fn claims_are_parsed_not_trusted() {
    let v = hs256();
    let head = r#"{"alg":"HS256","typ":"JWT"}"#;
    let signed = |json: serde_json::Value| {
        let signed = format!("{}.{}", B64.encode(head), B64.encode(json.to_string()));
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(b"secret").expect("key");
        mac.update(signed.as_bytes());
        format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()))
    };
    let base = serde_json::json!({"sub": "p1", "room": "lobby", "aud": "tickwire", "exp": NOW + 60, "jti": "j"});
    assert!(v.check(Some(&signed(base.clone())), LOBBY, NOW).is_ok());
    for (field, value) in [
        ("exp", serde_json::json!("tomorrow")),
        ("exp", serde_json::json!(-1)),
        ("exp", serde_json::json!(1e300)),
        ("sub", serde_json::json!(42)),
        ("sub", serde_json::json!("")),
        ("jti", serde_json::json!("")),
        ("room", serde_json::json!("no spaces allowed")),
        ("aud", serde_json::json!(7)),
    ] {
        let mut c = base.clone();
        c[field] = value.clone();
        assert_eq!(
            v.check(Some(&signed(c)), LOBBY, NOW),
            Err(AuthError::Malformed),
            "{field}: {value}"
        );
    }
    for missing in ["sub", "room", "aud", "exp", "jti"] {
        let mut c = base.clone();
        c.as_object_mut().expect("object").remove(missing);
        assert_eq!(
            v.check(Some(&signed(c)), LOBBY, NOW),
            Err(AuthError::Malformed),
            "no {missing}"
        );
    }
    let mut fractional = base.clone();
    fractional["exp"] = serde_json::json!(NOW as f64 + 60.75);
    let c = v.check(Some(&signed(fractional)), LOBBY, NOW).expect("a fractional NumericDate");
    assert_eq!(c.exp, NOW + 60);
}

#[test]
fn eddsa_and_es256_verify_with_the_public_key_only() {
    let v = eddsa();
    let t = mint_ed(&claims());
    assert_eq!(v.verify(Some(&t), LOBBY, NOW), Ok(claims()));
    let other = Signer::from_private_key_pem(ED_OTHER_KEY, "other").expect("signer");
    assert_eq!(
        v.check(Some(&other.mint(&claims()).expect("mint")), LOBBY, NOW),
        Err(AuthError::BadSignature)
    );

    let mut keys = KeySet::default();
    keys.add_public_key_pem(EC_PUB, "p256.pub.pem").expect("a P-256 key");
    let v = Verifier::new(keys, vec![DEFAULT_AUDIENCE.into()], 5);
    let signer = Signer::from_private_key_pem(EC_KEY, "p256").expect("signer");
    assert_eq!(signer.algorithm(), Algorithm::ES256);
    let t = signer.mint(&claims()).expect("mint");
    assert!(t.len() < 400, "an ES256 token is short: {} bytes", t.len());
    assert_eq!(v.verify(Some(&t), LOBBY, NOW), Ok(claims()));
}

#[test]
fn algorithm_confusion_is_refused() {
    let v = eddsa();
    // alg "none", with and without a signature, in any capitalisation.
    for alg in ["none", "None", "NONE"] {
        let head = format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#);
        assert_eq!(
            v.check(Some(&forge(&head, &claims(), None)), LOBBY, NOW),
            Err(AuthError::BadAlgorithm),
            "{alg}"
        );
        let signed = forge(&head, &claims(), Some(b"x"));
        assert_eq!(v.check(Some(&signed), LOBBY, NOW), Err(AuthError::BadAlgorithm), "{alg}");
    }
    // HS256 keyed with the server's public key (the PEM text, or its DER): the public key is
    // no HMAC secret.
    let head = r#"{"alg":"HS256","typ":"JWT"}"#;
    let body: String = std::str::from_utf8(ED_PUB)
        .expect("PEM")
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let der = base64::engine::general_purpose::STANDARD.decode(body).expect("base64");
    let raw = &der[der.len() - 32..];
    for key in [ED_PUB, &der, raw] {
        let t = forge(head, &claims(), Some(key));
        assert_eq!(v.check(Some(&t), LOBBY, NOW), Err(AuthError::BadAlgorithm));
    }
    // Algorithms no configured key verifies.
    for alg in ["ES256", "RS256", "HS512", "PS256", "EdDSA "] {
        let t = forge(&format!(r#"{{"alg":"{alg}"}}"#), &claims(), Some(b"x"));
        assert_eq!(v.check(Some(&t), LOBBY, NOW), Err(AuthError::BadAlgorithm), "{alg}");
    }
    assert_eq!(hs256().check(Some(&mint_ed(&claims())), LOBBY, NOW), Err(AuthError::BadAlgorithm));
    // A server with both a secret and a public key: an HS256 token keyed with the public key is
    // checked against the secret only.
    let mut keys = KeySet::default();
    keys.add_secret(b"secret").expect("secret");
    keys.add_public_key_pem(ED_PUB, "ed").expect("ed");
    let both = Verifier::new(keys, vec![DEFAULT_AUDIENCE.into()], 5);
    assert_eq!(
        both.check(Some(&forge(head, &claims(), Some(ED_PUB))), LOBBY, NOW),
        Err(AuthError::BadSignature)
    );
    assert!(both.check(Some(&mint_ed(&claims())), LOBBY, NOW).is_ok());
    assert!(both.check(Some(&mint_hs(b"secret", &claims())), LOBBY, NOW).is_ok());
    // A header that is not JSON, or names no alg.
    assert_eq!(v.check(Some(&forge("{}", &claims(), None)), LOBBY, NOW), Err(AuthError::Malformed));
    assert_eq!(v.check(Some(&forge("[", &claims(), None)), LOBBY, NOW), Err(AuthError::Malformed));
}

#[test]
fn a_jwks_chooses_the_key_by_kid() {
    let mut keys = KeySet::default();
    keys.add_jwks(JWKS, "jwks.json").expect("the test JWKS");
    assert_eq!(keys.algorithms(), vec![Algorithm::EdDSA, Algorithm::ES256]);
    let v = Verifier::new(keys, vec![DEFAULT_AUDIENCE.into()], 5);
    let ed = Signer::from_private_key_pem(ED_KEY, "ed").expect("signer");
    let ec = Signer::from_private_key_pem(EC_KEY, "ec").expect("signer");
    let c = claims();
    assert!(
        v.check(Some(&ed.mint(&c).expect("mint")), LOBBY, NOW).is_ok(),
        "no kid: any key of its alg"
    );
    let ed = ed.with_kid("ed-2026");
    assert!(v.check(Some(&ed.mint(&c).expect("mint")), LOBBY, NOW).is_ok());
    assert!(v.check(Some(&ec.with_kid("ec-2026").mint(&c).expect("mint")), LOBBY, NOW).is_ok());
    let unknown = Signer::from_private_key_pem(ED_KEY, "ed").expect("signer").with_kid("retired");
    assert_eq!(
        v.check(Some(&unknown.mint(&c).expect("mint")), LOBBY, NOW),
        Err(AuthError::UnknownKey)
    );
    let wrong = Signer::from_private_key_pem(ED_KEY, "ed").expect("signer").with_kid("ec-2026");
    assert_eq!(
        v.check(Some(&wrong.mint(&c).expect("mint")), LOBBY, NOW),
        Err(AuthError::UnknownKey),
        "an ES256 kid on an EdDSA token"
    );
}

#[test]
fn keys_that_cannot_work_are_refused_at_start_up() {
    let mut keys = KeySet::default();
    assert!(matches!(keys.add_secret(b""), Err(KeyError::EmptySecret)));
    assert!(matches!(keys.add_public_key_pem(RSA_PUB, "rsa"), Err(KeyError::Rsa { .. })));
    assert!(matches!(keys.add_public_key_pem(b"junk", "junk"), Err(KeyError::NotAKey { .. })));
    assert!(
        matches!(keys.add_public_key_pem(ED_KEY, "private"), Err(KeyError::NotAKey { .. })),
        "a private key where the public one goes"
    );
    assert!(matches!(Signer::from_private_key_pem(ED_PUB, "pub"), Err(KeyError::NotAKey { .. })));
    assert!(matches!(keys.add_jwks(b"{}", "j"), Err(KeyError::Jwks { .. })));
    let jwk = |k: &str| format!(r#"{{"keys":[{k}]}}"#);
    let oct = jwk(r#"{"kty":"oct","k":"c2VjcmV0"}"#);
    assert!(matches!(keys.add_jwks(oct.as_bytes(), "j"), Err(KeyError::UnsupportedJwk { .. })));
    let rsa = jwk(r#"{"kty":"RSA","n":"AQAB","e":"AQAB"}"#);
    assert!(matches!(keys.add_jwks(rsa.as_bytes(), "j"), Err(KeyError::Rsa { .. })));
    let lying = jwk(
        r#"{"kty":"OKP","crv":"Ed25519","alg":"ES256","x":"iIGR25L8DkdIpziWmSLwTRU9RrJ_6L4vvPFsap-hbek"}"#,
    );
    assert!(matches!(keys.add_jwks(lying.as_bytes(), "j"), Err(KeyError::UnsupportedJwk { .. })));
    let short = jwk(r#"{"kty":"OKP","crv":"Ed25519","x":"AAAA"}"#);
    assert!(matches!(keys.add_jwks(short.as_bytes(), "j"), Err(KeyError::UnsupportedJwk { .. })));
    assert!(keys.is_empty(), "nothing half-loaded");
    keys.add_jwks(JWKS, "jwks").expect("jwks");
    assert!(matches!(keys.add_jwks(JWKS, "jwks"), Err(KeyError::DuplicateKid(_))));
}

#[test]
fn remembered_ids_are_bounded() {
    let v = hs256();
    let mut seen = v.seen.lock();
    for i in 0..MAX_REMEMBERED_IDS {
        seen.insert(format!("old-{i}"), NOW - 1);
    }
    drop(seen);
    let t = mint_hs(b"secret", &claims());
    assert_eq!(v.verify(Some(&t), LOBBY, NOW), Ok(claims()), "expired ids are pruned to make room");
    assert_eq!(v.seen.lock().len(), 1);
}

/// PROTOCOL.md §1.6's example token, as printed there, is accepted exactly when it should be.
#[test]
fn the_protocol_example_token_verifies() {
    let spec = include_str!("../../../protocol/PROTOCOL.md");
    let section = &spec[spec.find("### 1.6 Join tokens").expect("§1.6")..];
    let block = section.split("```\n").nth(1).expect("the example block");
    let token: String = block.lines().map(str::trim).collect();
    let v = hs256();
    let want = Claims {
        player: "p1".into(),
        room: "lobby".into(),
        game: None,
        aud: Audience::One("tickwire".into()),
        exp: 1_800_000_060,
        nbf: None,
        iat: None,
        jti: "id-1".into(),
        spectator: false,
        server: None,
    };
    assert_eq!(v.check(Some(&token), LOBBY, NOW), Ok(want));
    assert_eq!(v.check(Some(&token), LOBBY, 1_800_000_065), Err(AuthError::Expired));
}
