//! Join tokens minted the way a game backend mints them: with Python's PyJWT and Node's
//! `jsonwebtoken` (pinned versions, installed when missing by `scripts/jwt-peers.sh` into a
//! cache outside the clone), and with the README's backend snippet run as it is written. Each
//! token joins a real server; a server holding a secret and a JWK Set takes HS256 from both,
//! EdDSA from PyJWT and ES256 from Node. The other way round, PyJWT verifies the tokens
//! `tickwire-server mint-token` signs.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_tickwire-server");
const README: &str = include_str!("../../README.md");
const SECRET: &str = "a-backend-secret";

fn here(rel: &str) -> PathBuf {
    crate_dir().join(rel)
}

/// The peers' directory (`venv/`, `node/node_modules/`), installed once per test process.
fn peers() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let out = Command::new(here("../scripts/jwt-peers.sh"))
            .output()
            .expect("run scripts/jwt-peers.sh (python3 and npm are needed)");
        assert!(
            out.status.success(),
            "scripts/jwt-peers.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8(out.stdout).expect("utf-8").trim())
    })
}

/// Runs a peer command and returns its one line of output.
fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("run a JWT peer");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8").trim().to_owned()
}

fn python() -> Command {
    Command::new(peers().join("venv/bin/python"))
}

fn node() -> Command {
    let mut cmd = Command::new("node");
    cmd.env("NODE_PATH", peers().join("node/node_modules"));
    cmd
}

/// A file holding the shared secret, as a backend would keep it.
fn secret_file(dir: &Path) -> PathBuf {
    let path = dir.join("secret");
    std::fs::write(&path, SECRET).expect("write the secret");
    path
}

/// The README's Python backend snippet, exactly as written.
fn readme_snippet() -> &'static str {
    let start = README.find("```python\n").expect("a python block in the README") + 10;
    let len = README[start..].find("```").expect("the block's end");
    &README[start..start + len]
}

#[tokio::test]
async fn tokens_from_pyjwt_node_and_the_readme_snippet_join_a_server() {
    let dir = tempdir();
    let secret = secret_file(&dir);
    let server = server(|c| {
        c.auth_secret = Some(SECRET.into());
        c.auth_jwks = Some(here("tests/keys/jwks.json"));
    })
    .await;
    let base = server.handle.ws_url();
    let py = here("tests/jwt_peers/mint.py");
    let js = here("tests/jwt_peers/mint.cjs");
    let ed_key = here("tests/keys/ed25519.key.pem");
    let ec_key = here("tests/keys/p256.key.pem");
    let tokens = [
        ("pyjwt-hs256", run(python().arg(&py).arg("HS256").arg(&secret).args(["py-hs", "lobby"]))),
        (
            "pyjwt-eddsa",
            run(python().arg(&py).arg("EdDSA").arg(&ed_key).args(["py-ed", "lobby", "ed-2026"])),
        ),
        ("node-hs256", run(node().arg(&js).arg("HS256").arg(&secret).args(["js-hs", "lobby"]))),
        (
            "node-es256",
            run(node().arg(&js).arg("ES256").arg(&ec_key).args(["js-es", "lobby", "ec-2026"])),
        ),
        ("readme", {
            let script = format!(
                "{}\nimport sys\nprint(join_token(sys.argv[1], sys.argv[2], sys.argv[3]))\n",
                readme_snippet()
            );
            run(python().args(["-c", &script, "readme-player", "lobby", SECRET]))
        }),
    ];
    let mut clients = Vec::new();
    for (name, token) in &tokens {
        assert!(token.starts_with("eyJ"), "{name}: not a JWT: {token}");
        let url = format!("{base}?room=lobby&token={token}");
        let c = TestClient::join_url(&url, "lobby", name).await;
        assert_eq!(c.welcome.room, "lobby", "{name}");
        clients.push(c);
    }
    // Single use holds for the peers' `jti`s too.
    let (status, body) =
        http_get(server.handle.addr(), &format!("/ws?token={}", tokens[1].1)).await;
    assert_eq!((status, body.as_str()), (401, "unauthorized: token already used\n"));
    let text = server.handle.metrics().render();
    assert!(text.contains("reason=\"token_replayed\""), "{text}");
    server.stop().await.expect("clean stop");
    std::fs::remove_dir_all(&dir).expect("clean up");
}

#[test]
fn pyjwt_verifies_what_mint_token_signs() {
    let dir = tempdir();
    let py = here("tests/jwt_peers/mint.py");
    let mint = |args: &[&str], key: Option<&Path>| {
        let mut cmd = Command::new(BIN);
        cmd.arg("mint-token").args(args).env_remove("TICKWIRE_AUTH_SECRET");
        if let Some(key) = key {
            cmd.arg("--private-key").arg(key);
        }
        run(&mut cmd)
    };
    let hs = mint(&["--secret", SECRET, "--player", "alice", "--room", "r1"], None);
    let claims = run(python().arg(&py).args(["--verify", "HS256"]).arg(secret_file(&dir)).arg(&hs));
    let claims: serde_json::Value = serde_json::from_str(&claims).expect("json");
    assert_eq!((claims["sub"].as_str(), claims["room"].as_str()), (Some("alice"), Some("r1")));
    let ed =
        mint(&["--player", "bob", "--game", "kart"], Some(&here("tests/keys/ed25519.key.pem")));
    let pub_key = here("tests/keys/ed25519.pub.pem");
    let claims = run(python().arg(&py).args(["--verify", "EdDSA"]).arg(&pub_key).arg(&ed));
    let claims: serde_json::Value = serde_json::from_str(&claims).expect("json");
    assert_eq!((claims["sub"].as_str(), claims["game"].as_str()), (Some("bob"), Some("kart")));
    assert_eq!(claims["aud"].as_str(), Some("tickwire"));
    std::fs::remove_dir_all(&dir).expect("clean up");
}

/// A fresh private directory for one test's files.
fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir()
        .join(format!("tickwire-jwt-{}", tickwire_server::auth::new_token_id()));
    std::fs::create_dir_all(&dir).expect("a temp dir");
    dir
}
