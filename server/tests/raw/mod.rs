//! Raw WebSocket over TCP, for tests that send what no WebSocket library would: hand-made
//! upgrades and frames with any header, and a reader of the server's frames that trusts nothing.

#![allow(dead_code, unreachable_pub)] // each test file uses a different subset

use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The masking key of every frame built here.
pub const MASK: [u8; 4] = [0x12, 0x34, 0x56, 0x78];

/// A WebSocket upgrade request, written by hand.
pub const UPGRADE_REQUEST: &str = "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\
    Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
    Sec-WebSocket-Version: 13\r\n\r\n";

/// Upgrades a raw TCP connection to WebSocket by hand.
pub async fn raw_ws(addr: SocketAddr) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.write_all(UPGRADE_REQUEST.as_bytes()).await.expect("write");
    switched(&mut s).await;
    s
}

/// Reads the answer to an upgrade request, byte by byte (nothing past it), and checks it is
/// `101 Switching Protocols`.
pub async fn switched(s: &mut TcpStream) {
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).await.expect("response");
        head.push(b[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{}", String::from_utf8_lossy(&head));
}

/// A client frame, masked, with an arbitrary declared length.
pub fn frame(fin: bool, opcode: u8, payload: &[u8], declared: Option<u64>) -> Vec<u8> {
    let mut out = header(fin, opcode, declared.unwrap_or(payload.len() as u64), true);
    out.extend_from_slice(&MASK);
    out.extend(payload.iter().enumerate().map(|(i, b)| b ^ MASK[i % 4]));
    out
}

/// A frame without a masking key, as only a server may send (RFC 6455 §5.1).
pub fn unmasked(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = header(fin, opcode, payload.len() as u64, false);
    out.extend_from_slice(payload);
    out
}

fn header(fin: bool, opcode: u8, len: u64, masked: bool) -> Vec<u8> {
    let mut out = vec![(u8::from(fin) << 7) | opcode];
    let mask_bit = if masked { 0x80 } else { 0 };
    if len < 126 {
        out.push(mask_bit | len as u8);
    } else if len <= u64::from(u16::MAX) {
        out.push(mask_bit | 126);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(mask_bit | 127);
        out.extend_from_slice(&len.to_be_bytes());
    }
    out
}

/// A close frame's payload: the code, then the reason.
pub fn close_payload(code: u16, reason: &[u8]) -> Vec<u8> {
    let mut p = code.to_be_bytes().to_vec();
    p.extend_from_slice(reason);
    p
}

/// A frame the server sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerFrame {
    pub fin: bool,
    pub rsv: u8,
    pub opcode: u8,
    pub masked: bool,
    pub payload: Vec<u8>,
}

/// Reads the server's frames until its close frame and the end of the connection.
#[derive(Debug)]
pub struct Closing {
    /// Every frame before the close frame.
    pub before: Vec<ServerFrame>,
    /// The close frame's code and reason; None if the connection ended without one.
    pub close: Option<(u16, String)>,
    /// Whether the connection then ended (EOF or reset) within the wait.
    pub ended: bool,
}

/// Reads server frames until a close frame, then until the connection ends.
pub async fn read_until_closed(s: &mut TcpStream, within: Duration) -> Closing {
    let deadline = tokio::time::Instant::now() + within;
    let mut buf = Vec::new();
    let mut before = Vec::new();
    loop {
        while let Some((frame, used)) = parse(&buf) {
            buf.drain(..used);
            if frame.opcode == 8 {
                let close = (frame.payload.len() >= 2).then(|| {
                    let code = u16::from_be_bytes([frame.payload[0], frame.payload[1]]);
                    (code, String::from_utf8_lossy(&frame.payload[2..]).into_owned())
                });
                let close = close.or(Some((0, String::new())));
                let ended = ends(s, deadline).await;
                return Closing { before, close, ended };
            }
            before.push(frame);
        }
        let mut chunk = [0u8; 4096];
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return Closing { before, close: None, ended: true },
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Err(_) => panic!("no close within {within:?}; got {before:?}"),
        }
    }
}

/// Whether the connection ends before `deadline` (anything still arriving is discarded).
async fn ends(s: &mut TcpStream, deadline: tokio::time::Instant) -> bool {
    let mut chunk = [0u8; 4096];
    loop {
        match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

/// One complete frame at the start of `buf`, and its length on the wire.
pub fn parse(buf: &[u8]) -> Option<(ServerFrame, usize)> {
    if buf.len() < 2 {
        return None;
    }
    let masked = buf[1] & 0x80 != 0;
    let (len, mut head): (usize, usize) = match buf[1] & 0x7f {
        126 => (usize::from(u16::from_be_bytes(buf.get(2..4)?.try_into().ok()?)), 4),
        127 => (usize::try_from(u64::from_be_bytes(buf.get(2..10)?.try_into().ok()?)).ok()?, 10),
        n => (usize::from(n), 2),
    };
    if masked {
        head += 4;
    }
    let payload = buf.get(head..head.checked_add(len)?)?.to_vec();
    let frame = ServerFrame {
        fin: buf[0] & 0x80 != 0,
        rsv: (buf[0] >> 4) & 0x07,
        opcode: buf[0] & 0x0f,
        masked,
        payload,
    };
    Some((frame, head + len))
}
