//! The PROXY protocol version 2 header (HAProxy's specification, §2.2): a binary prefix a
//! layer-4 load balancer writes before the client's bytes, naming the client.
//!
//! ```text
//! 0         12        13        14          16               16 + len
//! │signature│ver|cmd  │fam|proto│ len (BE)  │ addresses, TLVs │ the client's bytes ...
//! ```
//!
//! The parser is strict and bounded: the signature, version 2, the `LOCAL` or `PROXY`
//! command, a stream protocol, and at most [`MAX_BODY`] bytes after the fixed part; anything
//! else is an error, never a guess. It reads exactly the header, so the next byte read from
//! the stream is the client's first (a TLS ClientHello or an HTTP request). TLVs are skipped:
//! nothing here needs them.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use tokio::io::{AsyncRead, AsyncReadExt};

/// The 12 bytes every version 2 header starts with.
pub const SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// The fixed part: signature, version and command, family and protocol, length.
pub const FIXED_LEN: usize = 16;
/// Most bytes accepted after the fixed part: the largest address block (216, `AF_UNIX`) and
/// room for the TLVs load balancers add (AWS's VPC endpoint id, GCP's PSC id, an SSL block).
pub const MAX_BODY: usize = 1024;

/// What a header says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyHeader {
    /// `LOCAL`: the proxy speaks for itself (a health check); the connection's own addresses
    /// stand.
    Local,
    /// `PROXY` over TCP: the client's address and the one it connected to.
    Proxied {
        /// The client.
        source: SocketAddr,
        /// The address the client connected to (the load balancer's).
        destination: SocketAddr,
    },
    /// `PROXY` with an address family this server cannot use (`UNSPEC`, `AF_UNIX`): the
    /// specification says to use the connection's own addresses.
    Unknown,
}

impl ProxyHeader {
    /// The client's address, when the header names one.
    pub fn source(&self) -> Option<SocketAddr> {
        match self {
            Self::Proxied { source, .. } => Some(*source),
            Self::Local | Self::Unknown => None,
        }
    }
}

/// Why bytes are not an acceptable PROXY v2 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyHeaderError {
    /// The first 12 bytes are not the signature (no header, or version 1's text one).
    #[error("no PROXY protocol v2 signature")]
    Signature,
    /// The version nibble is not 2.
    #[error("PROXY protocol version {0}, expected 2")]
    Version(u8),
    /// A command other than `LOCAL` (0) or `PROXY` (1).
    #[error("PROXY command {0:#x}")]
    Command(u8),
    /// A family and protocol byte that is not TCP over IPv4 or IPv6, `UNSPEC` or `AF_UNIX`
    /// stream (datagrams on a TCP port make no sense).
    #[error("PROXY family and protocol {0:#04x}")]
    Family(u8),
    /// A length beyond [`MAX_BODY`].
    #[error("PROXY header of {0} bytes after the fixed part, at most {MAX_BODY} accepted")]
    Oversized(usize),
    /// A length too short for the family's addresses.
    #[error("PROXY address block of {len} bytes, {family:#04x} needs {needs}")]
    ShortAddresses {
        /// The family and protocol byte.
        family: u8,
        /// The length given.
        len: usize,
        /// The family's address block size.
        needs: usize,
    },
    /// Fewer bytes than the header needs (the stream ended, or more must be read).
    #[error("PROXY header truncated: {have} of {needs} bytes")]
    Truncated {
        /// Bytes available.
        have: usize,
        /// Bytes the header needs (so far as known).
        needs: usize,
    },
}

const LOCAL: u8 = 0x20;
const PROXY: u8 = 0x21;
const UNSPEC: u8 = 0x00;
const TCP4: u8 = 0x11;
const TCP6: u8 = 0x21;
const UNIX_STREAM: u8 = 0x31;

/// The whole header's length (fixed part included), from its fixed part: checks everything
/// but the addresses.
pub fn header_len(fixed: &[u8; FIXED_LEN]) -> Result<usize, ProxyHeaderError> {
    if fixed[..12] != SIGNATURE {
        return Err(ProxyHeaderError::Signature);
    }
    let (version_command, family) = (fixed[12], fixed[13]);
    if version_command >> 4 != 2 {
        return Err(ProxyHeaderError::Version(version_command >> 4));
    }
    if version_command != LOCAL && version_command != PROXY {
        return Err(ProxyHeaderError::Command(version_command & 0x0f));
    }
    let needs = match family {
        UNSPEC => 0,
        TCP4 => 12,
        TCP6 => 36,
        UNIX_STREAM => 216,
        other => return Err(ProxyHeaderError::Family(other)),
    };
    let len = usize::from(u16::from_be_bytes([fixed[14], fixed[15]]));
    if len > MAX_BODY {
        return Err(ProxyHeaderError::Oversized(len));
    }
    // A LOCAL header's addresses are ignored, so only a PROXY one must carry them whole.
    if version_command == PROXY && len < needs {
        return Err(ProxyHeaderError::ShortAddresses { family, len, needs });
    }
    Ok(FIXED_LEN + len)
}

/// Parses the header at the start of `bytes`; returns it and its length (the client's bytes
/// follow).
pub fn parse(bytes: &[u8]) -> Result<(ProxyHeader, usize), ProxyHeaderError> {
    let truncated = |needs| ProxyHeaderError::Truncated { have: bytes.len(), needs };
    let fixed: &[u8; FIXED_LEN] =
        bytes.get(..FIXED_LEN).and_then(|f| f.try_into().ok()).ok_or(truncated(FIXED_LEN))?;
    let total = header_len(fixed)?;
    let body = bytes.get(FIXED_LEN..total).ok_or(truncated(total))?;
    if fixed[12] == LOCAL {
        return Ok((ProxyHeader::Local, total));
    }
    let header = match fixed[13] {
        TCP4 => {
            let ip = |at: usize| {
                IpAddr::V4(Ipv4Addr::new(body[at], body[at + 1], body[at + 2], body[at + 3]))
            };
            let port = |at: usize| u16::from_be_bytes([body[at], body[at + 1]]);
            ProxyHeader::Proxied {
                source: SocketAddr::new(ip(0), port(8)),
                destination: SocketAddr::new(ip(4), port(10)),
            }
        }
        TCP6 => {
            let ip = |at: usize| {
                let mut octets = [0; 16];
                octets.copy_from_slice(&body[at..at + 16]);
                IpAddr::V6(Ipv6Addr::from(octets)).to_canonical()
            };
            let port = |at: usize| u16::from_be_bytes([body[at], body[at + 1]]);
            ProxyHeader::Proxied {
                source: SocketAddr::new(ip(0), port(32)),
                destination: SocketAddr::new(ip(16), port(34)),
            }
        }
        _ => ProxyHeader::Unknown,
    };
    // invariant: `header_len` checked that a PROXY header's body holds its family's
    // addresses, so the indexing above is in bounds.
    Ok((header, total))
}

/// Reads exactly one header from `stream` (nothing of what follows).
pub async fn read<R: AsyncRead + Unpin>(stream: &mut R) -> Result<ProxyHeader, ReadError> {
    let mut buf = [0u8; FIXED_LEN + MAX_BODY];
    let mut fixed = [0u8; FIXED_LEN];
    read_exact(stream, &mut fixed).await?;
    let total = header_len(&fixed)?;
    buf[..FIXED_LEN].copy_from_slice(&fixed);
    read_exact(stream, &mut buf[FIXED_LEN..total]).await?;
    Ok(parse(&buf[..total])?.0)
}

async fn read_exact<R: AsyncRead + Unpin>(stream: &mut R, buf: &mut [u8]) -> Result<(), ReadError> {
    match stream.read_exact(buf).await {
        Ok(_) => Ok(()),
        Err(e) => Err(ReadError::Io(e.kind())),
    }
}

/// Why no header could be read from a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The bytes are not a header.
    #[error(transparent)]
    Header(#[from] ProxyHeaderError),
    /// The socket failed.
    #[error("reading the PROXY header: {0}")]
    Io(std::io::ErrorKind),
}

/// Whether the first bytes of a connection (as many as have arrived, at least one) look
/// like a PROXY header of either version: a prefix of the v2 signature (no HTTP request or
/// TLS handshake starts with CR), or version 1's `PROXY `.
pub fn looks_like_header(first: &[u8]) -> bool {
    let n = first.len().min(SIGNATURE.len());
    (n > 0 && first[..n] == SIGNATURE[..n]) || first.starts_with(b"PROXY ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A TCP4 PROXY header from 192.0.2.1:56324 to 10.0.0.1:443, then `GET`.
    const TCP4_VECTOR: &str =
        "0d0a0d0a000d0a515549540a 21 11 000c c0000201 0a000001 dc04 01bb 474554";

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    fn header(command: u8, family: u8, body: &[u8]) -> Vec<u8> {
        let mut h = SIGNATURE.to_vec();
        h.extend([command, family]);
        h.extend(u16::try_from(body.len()).expect("short").to_be_bytes());
        h.extend(body);
        h
    }

    #[test]
    fn tcp4_header() {
        let bytes = hex(TCP4_VECTOR);
        let (h, len) = parse(&bytes).expect("parses");
        assert_eq!(len, 28, "the header only: `GET` is the client's");
        assert_eq!(
            h,
            ProxyHeader::Proxied {
                source: "192.0.2.1:56324".parse().expect("addr"),
                destination: "10.0.0.1:443".parse().expect("addr"),
            }
        );
    }

    #[test]
    fn tcp6_header_with_tlvs() {
        let mut body = Vec::new();
        body.extend(hex("20010db8 00000000 00000000 00000001")); // 2001:db8::1
        body.extend(hex("fd000000 00000000 00000000 00000002")); // fd00::2
        body.extend([0x12, 0x34, 0x00, 0x50]);
        body.extend([0x04, 0x00, 0x03, b'a', b'b', b'c']); // a NOOP TLV: skipped
        let (h, len) = parse(&header(PROXY, TCP6, &body)).expect("parses");
        assert_eq!(len, 16 + 36 + 6);
        assert_eq!(h.source(), Some("[2001:db8::1]:4660".parse().expect("addr")));
        // A mapped client address is its IPv4 one.
        let mut mapped = hex("00000000 00000000 0000ffff c0000209");
        mapped.extend([0; 16]);
        mapped.extend([0, 1, 0, 2]);
        let (h, _) = parse(&header(PROXY, TCP6, &mapped)).expect("parses");
        assert_eq!(h.source(), Some("192.0.2.9:1".parse().expect("addr")));
    }

    #[test]
    fn local_unspec_and_unix() {
        assert_eq!(parse(&header(LOCAL, UNSPEC, &[])), Ok((ProxyHeader::Local, 16)));
        // LOCAL ignores whatever addresses it carries, even too few.
        assert_eq!(parse(&header(LOCAL, TCP4, &[1, 2])), Ok((ProxyHeader::Local, 18)));
        assert_eq!(parse(&header(PROXY, UNSPEC, &[])), Ok((ProxyHeader::Unknown, 16)));
        assert_eq!(parse(&header(PROXY, UNIX_STREAM, &[0; 216])), Ok((ProxyHeader::Unknown, 232)));
        assert_eq!(ProxyHeader::Local.source(), None);
    }

    #[test]
    fn refusals() {
        let good = hex(TCP4_VECTOR);
        for cut in [0, 1, 12, 15, 16, 27] {
            assert!(
                matches!(parse(&good[..cut]), Err(ProxyHeaderError::Truncated { .. })),
                "cut at {cut}"
            );
        }
        let mut v1 = b"PROXY TCP4 192.0.2.1 10.0.0.1 56324 443\r\n".to_vec();
        v1.resize(32, 0);
        assert_eq!(parse(&v1), Err(ProxyHeaderError::Signature));
        let mut bad = good.clone();
        bad[12] = 0x11; // version 1 in a v2 header
        assert_eq!(parse(&bad), Err(ProxyHeaderError::Version(1)));
        bad[12] = 0x22;
        assert_eq!(parse(&bad), Err(ProxyHeaderError::Command(2)));
        bad[12] = PROXY;
        bad[13] = 0x12; // UDP over IPv4
        assert_eq!(parse(&bad), Err(ProxyHeaderError::Family(0x12)));
        bad[13] = 0x41;
        assert_eq!(parse(&bad), Err(ProxyHeaderError::Family(0x41)));
        assert_eq!(
            parse(&header(PROXY, TCP4, &[0; 11])),
            Err(ProxyHeaderError::ShortAddresses { family: TCP4, len: 11, needs: 12 })
        );
        let oversized = header(PROXY, TCP4, &[0; MAX_BODY + 1]);
        assert_eq!(parse(&oversized), Err(ProxyHeaderError::Oversized(MAX_BODY + 1)));
        let mut huge = header(PROXY, TCP4, &[0; 12]);
        huge[14..16].copy_from_slice(&[0xff, 0xff]);
        assert_eq!(parse(&huge), Err(ProxyHeaderError::Oversized(65535)));
        assert!(parse(&header(PROXY, TCP4, &[0; MAX_BODY])).is_ok(), "the bound itself is fine");
    }

    #[test]
    fn first_bytes_that_look_like_a_header() {
        assert!(looks_like_header(b"\r\n\r\n"));
        assert!(looks_like_header(&hex(TCP4_VECTOR)));
        assert!(looks_like_header(b"PROXY TCP4 1.2.3.4"));
        assert!(!looks_like_header(b"GET /ws HTTP/1.1\r\n"));
        assert!(!looks_like_header(b"PUT / HTTP/1.1"));
        assert!(!looks_like_header(&[0x16, 0x03, 0x01])); // a TLS ClientHello
        assert!(!looks_like_header(b"\r\n\r\n\0\r\nQUIZ"));
        assert!(!looks_like_header(b""));
    }

    #[tokio::test]
    async fn reads_exactly_the_header() {
        let bytes = hex(TCP4_VECTOR);
        let mut stream = &bytes[..];
        let h = read(&mut stream).await.expect("reads");
        assert_eq!(h.source(), Some("192.0.2.1:56324".parse().expect("addr")));
        assert_eq!(stream, b"GET", "the client's bytes are left");
        let mut short = &bytes[..20];
        assert_eq!(read(&mut short).await, Err(ReadError::Io(std::io::ErrorKind::UnexpectedEof)));
        let oversized = header(PROXY, TCP4, &[0; MAX_BODY + 1]);
        let mut stream = &oversized[..];
        assert_eq!(
            read(&mut stream).await,
            Err(ReadError::Header(ProxyHeaderError::Oversized(MAX_BODY + 1)))
        );
        assert_eq!(stream.len(), MAX_BODY + 1, "nothing read past the fixed part");
    }
}
