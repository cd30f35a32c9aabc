//! Join tokens signed with asymmetric keys: the server holds only a public key
//! (`--auth-public-key`) or a JWK Set (`--auth-jwks`) and refuses algorithm confusion; its
//! audience is configurable; `tickwire-server mint-token --private-key` mints for it; keys that
//! cannot work stop the server at start-up.

mod common;

use std::path::PathBuf;
use std::process::Command;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use common::*;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tickwire_server::auth::{Claims, Signer};
use tickwire_server::{Server, ServerConfig};
use tokio_tungstenite::tungstenite::Error as WsError;

const BIN: &str = env!("CARGO_BIN_EXE_tickwire-server");

fn key(name: &str) -> PathBuf {
    crate_dir().join("tests/keys").join(name)
}

fn now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock").as_secs()
}

fn signer(name: &str) -> Signer {
    Signer::from_private_key_file(&key(name)).expect("a test key")
}

/// A token with header `header`, HMAC-SHA256-signed with `hmac_key` or unsigned: an attack.
fn forge(header: &str, claims: &Claims, hmac_key: Option<&[u8]>) -> String {
    let body = serde_json::to_vec(claims).expect("json");
    let signed = format!("{}.{}", B64.encode(header), B64.encode(body));
    let sig = hmac_key.map_or_else(String::new, |k| {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(k).expect("any key length");
        mac.update(signed.as_bytes());
        B64.encode(mac.finalize().into_bytes())
    });
    format!("{signed}.{sig}")
}

async fn status_of(url: &str) -> u16 {
    match tokio_tungstenite::connect_async(url).await {
        Ok(_) => 101,
        Err(WsError::Http(resp)) => resp.status().as_u16(),
        Err(e) => panic!("unexpected error {e}"),
    }
}

#[tokio::test]
async fn an_eddsa_server_needs_only_the_public_key_and_refuses_algorithm_confusion() {
    let server = server(|c| c.auth_public_key = Some(key("ed25519.pub.pem"))).await;
    let base = server.handle.ws_url();
    let claims = || Claims::new("p1", "lobby", now(), 60);
    let ok = signer("ed25519.key.pem").mint(&claims()).expect("mint");
    let c = TestClient::join_url(&format!("{base}?room=lobby&token={ok}"), "lobby", "p1").await;
    assert_eq!(c.welcome.room, "lobby");

    let public_pem = std::fs::read(key("ed25519.pub.pem")).expect("the public key");
    let attacks = [
        ("alg none", forge(r#"{"alg":"none","typ":"JWT"}"#, &claims(), None)),
        (
            "HS256 keyed with the public key",
            forge(r#"{"alg":"HS256","typ":"JWT"}"#, &claims(), Some(&public_pem)),
        ),
        ("ES256, not configured", signer("p256.key.pem").mint(&claims()).expect("mint")),
        (
            "HS256, not configured",
            Signer::hs256(b"guess").and_then(|s| s.mint(&claims())).expect("mint"),
        ),
    ];
    for (what, token) in &attacks {
        assert_eq!(status_of(&format!("{base}?token={token}")).await, 401, "{what}");
    }
    let (status, body) =
        http_get(server.handle.addr(), &format!("/ws?token={}", attacks[0].1)).await;
    assert_eq!((status, body.as_str()), (401, "unauthorized: token algorithm not accepted\n"));
    let stolen = signer("ed25519-other.key.pem").mint(&claims()).expect("mint");
    assert_eq!(status_of(&format!("{base}?token={stolen}")).await, 401, "another Ed25519 key");
    let text = server.handle.metrics().render();
    let count = |reason: &str| {
        metric(&text, &format!("tickwire_http_rejected_total{{reason=\"{reason}\"}}"))
    };
    assert_eq!(count("token_bad_algorithm"), 5.0, "four attacks and the plain GET:\n{text}");
    assert_eq!(count("token_bad_signature"), 1.0, "{text}");
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn a_jwks_server_picks_keys_by_kid_for_its_own_audience() {
    let server = server(|c| {
        c.auth_jwks = Some(key("jwks.json"));
        c.auth_audience = vec!["eu-fleet".into(), "dev".into()];
    })
    .await;
    let base = server.handle.ws_url();
    let claims = |aud: &str| Claims::new("p1", "lobby", now(), 60).with_audience(aud);
    let es = signer("p256.key.pem").with_kid("ec-2026").mint(&claims("eu-fleet")).expect("mint");
    let c = TestClient::join_url(&format!("{base}?token={es}"), "lobby", "p1").await;
    assert_eq!(c.welcome.room, "lobby", "ES256 with its kid");
    let ed = signer("ed25519.key.pem").with_kid("ed-2026").mint(&claims("dev")).expect("mint");
    let c = TestClient::join_url(&format!("{base}?token={ed}"), "lobby", "p2").await;
    assert_eq!(c.welcome.room, "lobby", "EdDSA with its kid, the second audience");
    let default_aud = signer("ed25519.key.pem").mint(&claims("tickwire")).expect("mint");
    assert_eq!(status_of(&format!("{base}?token={default_aud}")).await, 401, "another audience");
    let retired = signer("ed25519.key.pem").with_kid("ed-2025").mint(&claims("dev")).expect("mint");
    assert_eq!(status_of(&format!("{base}?token={retired}")).await, 401, "unknown kid");
    let text = server.handle.metrics().render();
    for reason in ["token_wrong_audience", "token_unknown_key"] {
        assert!(text.contains(&format!("reason=\"{reason}\"")), "{reason} not counted:\n{text}");
    }
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn mint_token_signs_with_a_private_key_for_a_jwks_server() {
    let server = server(|c| c.auth_jwks = Some(key("jwks.json"))).await;
    let out = Command::new(BIN)
        .args(["mint-token", "--private-key"])
        .arg(key("ed25519.key.pem"))
        .args(["--kid", "ed-2026", "--player", "alice", "--room", "lobby", "--game", "arena"])
        .env_remove("TICKWIRE_AUTH_SECRET")
        .output()
        .expect("run mint-token");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let token = String::from_utf8(out.stdout).expect("utf-8");
    let header = B64.decode(token.split('.').next().expect("a header")).expect("base64");
    let header: serde_json::Value = serde_json::from_slice(&header).expect("json");
    assert_eq!((header["alg"].as_str(), header["kid"].as_str()), (Some("EdDSA"), Some("ed-2026")));
    let url = format!("{}?room=lobby&token={}", server.handle.ws_url(), token.trim());
    let c = TestClient::join_url(&url, "lobby", "alice").await;
    assert_eq!(c.welcome.room, "lobby");
    server.stop().await.expect("clean stop");
    let rsa = Command::new(BIN)
        .args(["mint-token", "--player", "a", "--private-key"])
        .arg(key("rsa.pub.pem"))
        .env_remove("TICKWIRE_AUTH_SECRET")
        .output()
        .expect("run mint-token");
    assert!(!rsa.status.success(), "a public key cannot sign");
}

#[tokio::test]
async fn keys_that_cannot_work_stop_the_server_at_start_up() {
    let refused = |f: fn(&mut ServerConfig)| async move {
        let mut config = ServerConfig::for_tests();
        f(&mut config);
        let builder = Server::builder(config).game::<tickwire_arena::Arena>(small_arena());
        let Err(err) = builder.spawn().await else { panic!("the server started") };
        format!("{err:#}")
    };
    let rsa = refused(|c| c.auth_public_key = Some(key("rsa.pub.pem"))).await;
    assert!(rsa.contains("RSA keys are not accepted"), "{rsa}");
    let private = refused(|c| c.auth_public_key = Some(key("ed25519.key.pem"))).await;
    assert!(private.contains("not an Ed25519 or P-256 public key"), "{private}");
    let missing = refused(|c| c.auth_jwks = Some(key("no-such.json"))).await;
    assert!(missing.contains("no-such.json"), "{missing}");
    let empty = refused(|c| c.auth_secret = Some(String::new())).await;
    assert!(empty.contains("secret is empty"), "{empty}");
}
