//! The private Redis: started on a free loopback port with persistence off, answering
//! commands, and gone (killed and reaped) when dropped.

use std::net::TcpStream;
use std::path::Path;

use tickwire_fleet_testkit::redis::{RedisServer, Reply};

#[test]
fn a_private_redis_starts_answers_and_stops() {
    let redis = RedisServer::start().expect("redis-server (scripts/install-test-deps.sh fleet)");
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{}", redis.port()));
    assert_eq!(redis.command(&["PING"]).expect("ok"), "PONG");
    assert_eq!(redis.command(&["SET", "tw:room:r1", "gs-a", "PX", "60000"]).expect("ok"), "OK");
    assert_eq!(redis.command(&["GET", "tw:room:r1"]).expect("ok"), "gs-a");
    assert_eq!(redis.command(&["SADD", "tw:rooms:gs-a", "r1", "r2"]).expect("ok"), "2");
    assert_eq!(redis.command(&["KEYS", "tw:*"]).expect("ok").lines().count(), 2);
    assert_eq!(redis.command_reply(&["GET", "missing"]).expect("ok"), Reply::Bulk(None));
    assert!(
        redis
            .command(&["NOSUCHCOMMAND"])
            .expect_err("refused")
            .to_string()
            .contains("unknown command")
    );
    assert_eq!(redis.command(&["CONFIG", "GET", "save"]).expect("ok"), "save\n");
    assert_eq!(redis.command(&["CONFIG", "GET", "appendonly"]).expect("ok"), "appendonly\nno");
    assert_eq!(redis.command(&["CONFIG", "GET", "bind"]).expect("ok"), "bind\n127.0.0.1");

    let (port, pid) = (redis.port(), redis.pid());
    drop(redis);
    assert!(TcpStream::connect(("127.0.0.1", port)).is_err(), "the server is gone");
    assert!(!Path::new(&format!("/proc/{pid}")).exists(), "and reaped, not a zombie");
}

#[test]
fn two_servers_get_two_ports() {
    let a = RedisServer::start().expect("redis a");
    let b = RedisServer::start().expect("redis b");
    assert_ne!(a.port(), b.port());
    a.command(&["SET", "k", "a"]).expect("ok");
    assert_eq!(b.command(&["GET", "k"]).expect("ok"), "", "separate data");
}

#[test]
fn a_missing_binary_names_the_install_script() {
    let err = RedisServer::start_with_binary("/nonexistent/redis-server").expect_err("refused");
    assert!(err.to_string().contains("scripts/install-test-deps.sh fleet"), "{err}");
}
