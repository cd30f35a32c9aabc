//! The join token: HS256, bound to the player, room, game and picked server; a verifier for
//! another server refuses it.

mod common;

use common::{FakeServer, Redis, SECRET, directory, join};
use serde_json::json;
use tickwire_server::auth::{AuthError, KeySet, Scope, Verifier};

fn verifier(server: &str) -> Verifier {
    let mut keys = KeySet::default();
    keys.add_secret(SECRET.as_bytes()).expect("a key");
    Verifier::new(keys, vec!["tickwire".into()], 5).for_server(Some(server.into()))
}

#[tokio::test]
async fn the_token_is_bound_to_the_picked_server() {
    let redis = Redis::start();
    FakeServer::new(&redis, "gs-a").register();
    let dir = directory(&redis, |_| {}).await;
    let body = json!({"room": "r1", "player": "alice", "game": "arena", "spectator": true});
    let (status, answer) = join(&dir.url(), body, None).await;
    assert_eq!(status, 200, "{answer}");
    let token = answer["token"].as_str().expect("a token");
    let now = common::now_ms() / 1000;
    let scope = Scope { room: Some("r1"), game: Some("arena") };
    assert_eq!(verifier("gs-b").verify(Some(token), scope, now), Err(AuthError::WrongServer));
    let claims = verifier("gs-a").verify(Some(token), scope, now).expect("accepted by gs-a");
    assert_eq!(claims.player, "alice");
    assert_eq!(claims.room, "r1");
    assert_eq!(claims.game.as_deref(), Some("arena"));
    assert_eq!(claims.server.as_deref(), Some("gs-a"));
    assert!(claims.spectator);
    assert!((55..=60).contains(&(claims.exp - now)), "TTL 60 s: {}", claims.exp - now);

    // Without a game: a token for any game, not a spectator.
    let (_, answer) = join(&dir.url(), json!({"room": "r2", "player": "bob"}), None).await;
    let claims =
        verifier("gs-a").decode(answer["token"].as_str().expect("a token")).expect("decodes");
    assert_eq!((claims.game, claims.spectator), (None, false));
}
