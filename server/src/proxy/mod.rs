//! Behind a proxy or load balancer: which client a connection or a request comes from.
//!
//! A server behind nginx, HAProxy or a cloud load balancer sees every connection come from
//! the proxy. Its per-IP connection cap (`--max-connections-per-ip`) and its logs want the
//! client behind it, which the proxy names in an HTTP header ([`ForwardedHeader`]) or, for a
//! layer-4 balancer, in a PROXY protocol v2 header before the client's bytes ([`v2`]). Both
//! are only words: anyone can send them. So they are believed only from the peers listed in
//! `--trusted-proxies` ([`Cidr`]); from anyone else they are ignored and counted
//! (`tickwire_forwarding_ignored_total{header}`), and the TCP peer's address stands.
//!
//! Where the per-IP cap is applied (the global cap is always applied at accept time):
//! - an untrusted peer: at accept time, on its own address, for the connection's life;
//! - a trusted proxy with `--proxy-protocol`: once its PROXY header is read (within the
//!   handshake timeout), on the client it names, for the connection's life; its connections
//!   must start with the header and are closed otherwise, and an untrusted peer's connection
//!   that starts with one is refused;
//! - a trusted proxy without it: per request, once the headers are read, on the client the
//!   forwarding header names ([`forwarded::client`]), for the request's life, which for a
//!   WebSocket upgrade is the whole session. A proxy may carry several clients' requests on
//!   one kept-alive connection; each is accounted to its own client. A malformed header gets
//!   400: a proxy that writes garbage is misconfigured, and guessing would let the client pick.

mod cidr;
pub mod forwarded;
pub mod v2;

use std::net::{IpAddr, SocketAddr};

pub use cidr::{Cidr, CidrError, is_trusted};
pub use forwarded::{ForwardedError, ForwardedHeader};
pub use v2::{ProxyHeader, ProxyHeaderError};

/// Who a connection or a request is from, as the per-IP cap and the logs see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr {
    /// The client's address: the TCP peer's, or the one a trusted proxy named.
    pub ip: IpAddr,
    /// The client's port, when known (a forwarding header seldom says).
    pub port: Option<u16>,
    /// The trusted proxy the client came through, if any.
    pub via: Option<SocketAddr>,
}

impl ClientAddr {
    /// A client connected directly.
    pub fn direct(peer: SocketAddr) -> Self {
        Self { ip: peer.ip(), port: Some(peer.port()), via: None }
    }

    /// A client named by the trusted proxy `via`.
    pub fn forwarded(ip: IpAddr, port: Option<u16>, via: SocketAddr) -> Self {
        Self { ip, port, via: Some(via) }
    }
}

impl std::fmt::Display for ClientAddr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}", SocketAddr::new(self.ip, port))?,
            None => write!(f, "{}", self.ip)?,
        }
        match self.via {
            Some(via) => write!(f, " via {via}"),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_show_the_client_and_the_proxy() {
        let proxy: SocketAddr = "10.0.0.1:40000".parse().expect("addr");
        assert_eq!(ClientAddr::direct(proxy).to_string(), "10.0.0.1:40000");
        let ip = "2001:db8::1".parse().expect("ip");
        assert_eq!(
            ClientAddr::forwarded(ip, None, proxy).to_string(),
            "2001:db8::1 via 10.0.0.1:40000"
        );
        assert_eq!(
            ClientAddr::forwarded(ip, Some(5), proxy).to_string(),
            "[2001:db8::1]:5 via 10.0.0.1:40000"
        );
    }

    #[test]
    fn the_flags_parse_and_refuse_with_a_clear_message() {
        use clap::Parser as _;
        let parse = |args: &[&str]| {
            crate::ServerConfig::try_parse_from(
                std::iter::once("tickwire-server").chain(args.iter().copied()),
            )
        };
        let config =
            parse(&["--trusted-proxies", "10.0.0.0/8,::1", "--proxy-protocol"]).expect("parses");
        assert_eq!(config.trusted_proxies.len(), 2);
        assert!(config.proxy_protocol);
        assert_eq!(config.forwarded_header, ForwardedHeader::XForwardedFor);
        let config = parse(&["--forwarded-header", "forwarded"]).expect("parses");
        assert_eq!(config.forwarded_header, ForwardedHeader::Forwarded);
        let err = parse(&["--trusted-proxies", "10.0.0.0/8,10.0.0.1/8"])
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("--trusted-proxies") && err.contains("did you mean `10.0.0.0/8`"),
            "{err}"
        );
        let err = parse(&["--trusted-proxies", "proxy.local"]).expect_err("refused").to_string();
        assert!(err.contains("not an IPv4 or IPv6 address"), "{err}");
        let err = parse(&["--proxy-protocol"]).expect_err("refused").to_string();
        assert!(err.contains("--trusted-proxies"), "{err}");
    }
}
