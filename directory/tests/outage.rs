//! A Redis outage: joins and health answer 503 `redis_unavailable` (never hang, never panic),
//! and everything works again once a Redis is back on the same address.

mod common;

use std::time::{Duration, Instant};

use common::{FakeServer, Redis, directory, join, request};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_a_503_then_recovers() {
    let mut redis = Redis::start();
    FakeServer::new(&redis, "gs-a").register();
    let dir = directory(&redis, |c| c.redis_timeout = Duration::from_millis(300)).await;
    let body = json!({"room": "r", "player": "p"});
    assert_eq!(join(&dir.url(), body.clone(), None).await.0, 200);

    redis.kill();
    for _ in 0..3 {
        let started = Instant::now();
        let (status, answer) = join(&dir.url(), body.clone(), None).await;
        assert_eq!((status, answer["code"].as_str()), (503, Some("redis_unavailable")), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(3), "bounded: {:?}", started.elapsed());
    }
    let (status, text) = request(&dir.url(), "GET", "/healthz", &[], b"").await;
    assert_eq!(status, 503, "{text}");

    let redis = Redis::on_port(redis.port());
    FakeServer::new(&redis, "gs-b").register();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, answer) = join(&dir.url(), body.clone(), None).await;
        if status == 200 {
            // The new Redis forgot the old claim: the room is claimed again.
            assert_eq!(answer["server"], "gs-b", "{answer}");
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: {status} {answer}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(request(&dir.url(), "GET", "/healthz", &[], b"").await.0, 200);
}

#[tokio::test]
async fn a_directory_starts_while_redis_is_down() {
    let mut redis = Redis::start();
    redis.kill();
    let dir = directory(&redis, |_| {}).await;
    let (status, answer) = join(&dir.url(), json!({"room": "r", "player": "p"}), None).await;
    assert_eq!((status, answer["code"].as_str()), (503, Some("redis_unavailable")), "{answer}");
}
