//! Hostile clients at the WebSocket framing level, over raw TCP: forged frame lengths, stalls in
//! the middle of a frame, fragment floods, bad control frames, random payloads and crowds of
//! idle connections. Each gets a typed outcome, the process's memory stays bounded, and an
//! honest client keeps its snapshots.

mod common;
mod raw;

use std::net::SocketAddr;
use std::time::Duration;

use common::*;
use raw::{frame, raw_ws, read_until_closed};
use tickwire_protocol::codec::encode_client;
use tickwire_protocol::message::ClientMessage;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Most the test process's resident memory may grow during one attack.
const MAX_RSS_GROWTH: u64 = 64 << 20;

/// This process's resident set size, from `/proc/self/status`.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or(0, |kb| kb * 1024)
}

/// Reads server frames until a close frame; returns its code (None if the socket just ends).
async fn close_code(s: &mut TcpStream, within: Duration) -> Option<u16> {
    read_until_closed(s, within).await.close.map(|(code, _)| code)
}

async fn hello_raw(s: &mut TcpStream, name: &str) {
    let hello = encode_client(&ClientMessage::Hello(hello("lobby", name)));
    s.write_all(&frame(true, 2, &hello, None)).await.expect("write hello");
}

/// Runs `attack` against a fresh server while an honest client plays on its own task
/// (answering pings, so the short idle timeout never hits it); checks the close code and that
/// the honest client kept receiving snapshots throughout.
async fn survive(
    idle_secs: u64,
    expect: Option<u16>,
    attack: impl AsyncFnOnce(SocketAddr) -> Option<u16>,
) {
    let server = server(|c| {
        c.idle_timeout_secs = idle_secs;
        c.handshake_timeout_secs = idle_secs;
        c.ping_interval_ms = 100;
    })
    .await;
    let addr = server.handle.addr();
    let mut honest = TestClient::join(addr, "lobby", "honest").await;
    let (ticks, mut seen) = tokio::sync::mpsc::unbounded_channel();
    let player = tokio::spawn(async move {
        loop {
            if let Some(snap) = honest.step().await
                && ticks.send(snap.tick()).is_err()
            {
                return;
            }
        }
    });
    let started = tokio::time::Instant::now();
    let rss_before = rss_bytes();
    let code = attack(addr).await;
    assert_eq!(code, expect, "close code");
    // Memory stays bounded: the whole test process (server and attackers alike) grows by less
    // than this, whatever the attack announced or sent.
    let grown = rss_bytes().saturating_sub(rss_before);
    assert!(grown < MAX_RSS_GROWTH, "RSS grew by {} KiB during the attack", grown / 1024);
    // At 30 Hz, allowing for a loaded machine: a third of the ticks during the attack, and the
    // game goes on after it.
    let during = (started.elapsed().as_secs_f64() * 30.0 / 3.0) as usize;
    let mut received = 0;
    while received < during + 5 {
        tokio::time::timeout(WAIT, seen.recv())
            .await
            .expect("honest client stalled")
            .expect("playing");
        received += 1;
    }
    player.abort();
    server.stop().await.expect("clean stop");
}

#[tokio::test]
async fn header_announcing_a_huge_frame_is_refused_at_once() {
    survive(30, Some(1009), async |addr| {
        let mut s = raw_ws(addr).await;
        hello_raw(&mut s, "huge").await;
        s.write_all(&frame(true, 2, &[], Some(1 << 40))).await.expect("write");
        close_code(&mut s, Duration::from_secs(5)).await
    })
    .await;
}

#[tokio::test]
async fn stalling_inside_a_frame_hits_the_read_deadline() {
    survive(1, Some(4000), async |addr| {
        let mut s = raw_ws(addr).await;
        hello_raw(&mut s, "slowloris").await;
        let f = frame(true, 2, &[1, 2, 3], None);
        s.write_all(&f[..3]).await.expect("partial frame");
        close_code(&mut s, Duration::from_secs(10)).await
    })
    .await;
}

#[tokio::test]
async fn stalling_before_the_hello_is_cut_off() {
    survive(1, Some(4000), async |addr| {
        let mut s = raw_ws(addr).await;
        close_code(&mut s, Duration::from_secs(10)).await
    })
    .await;
}

#[tokio::test]
async fn fragment_floods_are_refused_on_the_first_fragment() {
    survive(30, Some(1003), async |addr| {
        let mut s = raw_ws(addr).await;
        hello_raw(&mut s, "fragments").await;
        let mut flood = frame(false, 2, &[0u8; 100], None);
        for _ in 0..1000 {
            flood.extend(frame(false, 0, &[0u8; 100], None));
        }
        // The server may close before reading it all.
        let _ = s.write_all(&flood).await;
        close_code(&mut s, Duration::from_secs(5)).await
    })
    .await;
}

#[tokio::test]
async fn malformed_close_frame_is_a_protocol_error() {
    survive(30, Some(1002), async |addr| {
        let mut s = raw_ws(addr).await;
        hello_raw(&mut s, "badclose").await;
        s.write_all(&frame(true, 8, &[3], None)).await.expect("write");
        close_code(&mut s, Duration::from_secs(5)).await
    })
    .await;
}

#[tokio::test]
async fn reserved_bits_are_a_protocol_error() {
    survive(30, Some(1002), async |addr| {
        let mut s = raw_ws(addr).await;
        hello_raw(&mut s, "rsv").await;
        let mut f = frame(true, 2, &[1], None);
        f[0] |= 0x40;
        s.write_all(&f).await.expect("write");
        close_code(&mut s, Duration::from_secs(5)).await
    })
    .await;
}

#[tokio::test]
async fn random_and_truncated_messages_close_only_their_session() {
    survive(30, Some(1008), async |addr| {
        let mut last = None;
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for i in 0..40 {
            let mut s = raw_ws(addr).await;
            hello_raw(&mut s, &format!("r{i}")).await;
            // xorshift: random bytes, or a truncated valid input.
            let payload: Vec<u8> = if i % 2 == 0 {
                (0..1 + i % 13)
                    .map(|_| {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        seed as u8 | 0x80
                    })
                    .collect()
            } else {
                let input = encode_client(&ClientMessage::Input(Default::default()));
                input[..input.len() - 1].to_vec()
            };
            s.write_all(&frame(true, 2, &payload, None)).await.expect("write");
            last = close_code(&mut s, Duration::from_secs(5)).await;
            assert_eq!(last, Some(1008), "message {i}: {payload:02x?}");
        }
        last
    })
    .await;
}

#[tokio::test]
async fn a_crowd_of_idle_connections_is_bounded_and_cleared() {
    survive(1, None, async |addr| {
        let mut idle = Vec::new();
        for _ in 0..1000 {
            idle.push(TcpStream::connect(addr).await.expect("connect"));
        }
        // Every one of them is closed by the header timeout.
        for s in &mut idle {
            let mut b = [0u8; 64];
            let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut b))
                .await
                .expect("closed in time");
            assert!(matches!(n, Ok(0) | Err(_)) || b.starts_with(b"HTTP/1.1 408"));
        }
        None
    })
    .await;
}

#[tokio::test]
async fn forged_length_prefixes_are_refused_without_allocating() {
    survive(30, Some(1008), async |addr| {
        let mut last = None;
        // A hello whose room claims 2^32 - 1 bytes, then 2^64 - 1 bytes; a chat line claiming
        // 2^32 - 1 bytes after a valid hello. Each is a few bytes on the wire.
        let mut forged_hellos = Vec::new();
        for prefix in [
            vec![0xfc, 0xff, 0xff, 0xff, 0xff],
            vec![0xfd, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        ] {
            let mut hello = vec![0x00, 0x02, 0x00];
            hello.extend(prefix);
            hello.extend(b"lobby");
            forged_hellos.push(hello);
        }
        for hello in forged_hellos {
            let mut s = raw_ws(addr).await;
            s.write_all(&frame(true, 2, &hello, None)).await.expect("write");
            last = close_code(&mut s, Duration::from_secs(5)).await;
            assert_eq!(last, Some(1008), "forged hello {hello:02x?}");
        }
        let mut s = raw_ws(addr).await;
        hello_raw(&mut s, "forger").await;
        s.write_all(&frame(true, 2, &[0x04, 0xfc, 0xff, 0xff, 0xff, 0xff, b'h', b'i'], None))
            .await
            .expect("write");
        let code = close_code(&mut s, Duration::from_secs(5)).await;
        assert_eq!(code, Some(1008), "forged chat");
        last
    })
    .await;
}

#[tokio::test]
async fn an_oversized_control_frame_is_a_protocol_error() {
    survive(30, Some(1002), async |addr| {
        let mut s = raw_ws(addr).await;
        hello_raw(&mut s, "bigping").await;
        // Control frames carry at most 125 bytes (RFC 6455 §5.5).
        s.write_all(&frame(true, 9, &[0u8; 126], None)).await.expect("write");
        close_code(&mut s, Duration::from_secs(5)).await
    })
    .await;
}

#[tokio::test]
async fn a_half_open_client_is_timed_out() {
    // A client that vanished without a FIN or RST (a phone leaving Wi-Fi): its socket stays
    // open but nothing arrives and nothing is read. The idle timeout ends the session with
    // 4000, a resumable end (tests/resume.rs checks that such a player is kept and resumed).
    survive(1, Some(4000), async |addr| {
        let mut s = raw_ws(addr).await;
        hello_raw(&mut s, "halfopen").await;
        close_code(&mut s, Duration::from_secs(10)).await
    })
    .await;
}
