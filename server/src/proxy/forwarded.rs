//! The client named by a trusted proxy's HTTP header: `X-Forwarded-For` or RFC 7239 `Forwarded`.
//!
//! Each proxy on the way appends the address it got the request from, so the list reads
//! left to right from the (claimed) client to the last proxy. Everything left of the first
//! proxy we trust was written by whoever connected to it, and may be a lie. So the list is
//! walked from the right, skipping the addresses of trusted proxies, and the first other
//! address is the client: the only one a trusted proxy vouched for. A malformed entry met on
//! that walk is an error (a misconfigured proxy), never skipped: skipping it would hand the
//! choice of address to the client.

use std::net::{IpAddr, SocketAddr};

use hyper::HeaderMap;

use super::Cidr;

/// Which header trusted proxies name their clients in (`--forwarded-header`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, proxy2` (nginx, most load balancers).
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

impl ForwardedHeader {
    /// The header's name, lower case (also the metric label).
    pub fn name(self) -> &'static str {
        match self {
            Self::XForwardedFor => "x-forwarded-for",
            Self::Forwarded => "forwarded",
        }
    }
}

/// Why the forwarding header of a trusted proxy names no client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ForwardedError {
    /// The header is not visible ASCII.
    #[error("the forwarding header is not ASCII text")]
    NotText,
    /// An entry (cut to 64 bytes) is not an address, or (`Forwarded`) an element has no
    /// `for=`, or is `unknown` or an obfuscated identifier (`_hidden`).
    #[error("forwarding header entry `{0}` names no address")]
    Malformed(String),
}

/// The client a request from a trusted proxy comes from: the right-most address of `which`
/// that is not in `trusted`; when every address is trusted, the left-most one; `None` when
/// the header is absent.
pub fn client(
    headers: &HeaderMap,
    which: ForwardedHeader,
    trusted: &[Cidr],
) -> Result<Option<(IpAddr, Option<u16>)>, ForwardedError> {
    let mut leftmost = None;
    // Repeated headers are one list, in order (RFC 9110 §5.3): walk them from the last.
    for value in headers.get_all(which.name()).iter().rev() {
        let value = value.to_str().map_err(|_| ForwardedError::NotText)?;
        for entry in split_outside_quotes(value, b',').rev() {
            let hop = match which {
                ForwardedHeader::XForwardedFor => node(entry.trim()),
                ForwardedHeader::Forwarded => for_param(entry),
            }
            .ok_or_else(|| ForwardedError::Malformed(cut(entry.trim())))?;
            if !super::is_trusted(trusted, hop.0) {
                return Ok(Some(hop));
            }
            leftmost = Some(hop);
        }
    }
    Ok(leftmost)
}

/// Whether `headers` hold a forwarding header of either kind (from an untrusted peer, a
/// spoofing attempt or a misconfiguration: counted, never used).
pub fn present(headers: &HeaderMap) -> Option<ForwardedHeader> {
    [ForwardedHeader::XForwardedFor, ForwardedHeader::Forwarded]
        .into_iter()
        .find(|h| headers.contains_key(h.name()))
}

/// The `for=` node of one `Forwarded` element (`for=192.0.2.1;proto=https`).
fn for_param(element: &str) -> Option<(IpAddr, Option<u16>)> {
    let pair = split_outside_quotes(element, b';')
        .map(str::trim)
        .find(|p| p.get(..4).is_some_and(|k| k.eq_ignore_ascii_case("for=")))?;
    let value = pair.get(4..)?;
    let value = match value.strip_prefix('"') {
        // A quoted node has no escapes: addresses and ports need none.
        Some(quoted) => quoted.strip_suffix('"').filter(|v| !v.contains(['"', '\\']))?,
        None => value,
    };
    node(value)
}

/// An address with an optional port: `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]`,
/// `[2001:db8::1]:80`. IPv4-mapped IPv6 addresses are written as IPv4.
fn node(s: &str) -> Option<(IpAddr, Option<u16>)> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some((ip.to_canonical(), None));
    }
    if let Ok(addr) = s.parse::<SocketAddr>() {
        return Some((addr.ip().to_canonical(), Some(addr.port())));
    }
    let v6 = s.strip_prefix('[')?.strip_suffix(']')?.parse::<std::net::Ipv6Addr>().ok()?;
    Some((IpAddr::V6(v6).to_canonical(), None))
}

/// `s` split at each `sep` that is not inside a double-quoted string.
fn split_outside_quotes(s: &str, sep: u8) -> impl DoubleEndedIterator<Item = &str> {
    let mut cuts = Vec::new();
    let mut quoted = false;
    let mut escaped = false;
    for (i, b) in s.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b if b == sep && !quoted => cuts.push(i),
            _ => {}
        }
    }
    let starts = std::iter::once(0).chain(cuts.iter().map(|c| c + 1));
    let ends = cuts.iter().copied().chain(std::iter::once(s.len()));
    // invariant: every cut is the index of a one-byte ASCII separator, so both sides are
    // character boundaries.
    starts.zip(ends).map(|(a, b)| s.get(a..b).unwrap_or("")).collect::<Vec<_>>().into_iter()
}

/// At most 64 bytes of `s` (for an error message), cut at a character boundary.
fn cut(s: &str) -> String {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().expect("a header value"));
        }
        h
    }

    fn trusted(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|s| s.parse().expect("a network")).collect()
    }

    fn xff(value: &str, proxies: &[&str]) -> Result<Option<(IpAddr, Option<u16>)>, ForwardedError> {
        client(
            &headers(&[("x-forwarded-for", value)]),
            ForwardedHeader::XForwardedFor,
            &trusted(proxies),
        )
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let proxies = ["10.0.0.0/8"];
        // A client lying about itself: the proxy appended its real address.
        assert_eq!(xff("6.6.6.6, 203.0.113.7", &proxies), Ok(Some((ip("203.0.113.7"), None))));
        // Two trusted proxies on the way.
        assert_eq!(
            xff("6.6.6.6, 203.0.113.7, 10.1.1.1, 10.2.2.2", &proxies),
            Ok(Some((ip("203.0.113.7"), None)))
        );
        // Garbage left of the real client is never looked at.
        assert_eq!(xff("junk,, 203.0.113.7", &proxies), Ok(Some((ip("203.0.113.7"), None))));
        // Only proxies: the left-most one (a health check from inside).
        assert_eq!(xff("10.9.9.9, 10.1.1.1", &proxies), Ok(Some((ip("10.9.9.9"), None))));
        assert_eq!(
            client(&HeaderMap::new(), ForwardedHeader::XForwardedFor, &trusted(&proxies)),
            Ok(None)
        );
    }

    #[test]
    fn repeated_headers_are_one_list() {
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.1, 10.0.0.1"),
        ]);
        let got = client(&h, ForwardedHeader::XForwardedFor, &trusted(&["10.0.0.0/8"]));
        assert_eq!(got, Ok(Some((ip("198.51.100.1"), None))));
    }

    #[test]
    fn ipv6_and_ports() {
        let proxies = ["fd00::/8", "10.0.0.0/8"];
        assert_eq!(xff("2001:db8::1, fd00::2", &proxies), Ok(Some((ip("2001:db8::1"), None))));
        assert_eq!(xff("[2001:db8::1]:4711", &proxies), Ok(Some((ip("2001:db8::1"), Some(4711)))));
        assert_eq!(xff("[2001:db8::2]", &proxies), Ok(Some((ip("2001:db8::2"), None))));
        assert_eq!(xff("192.0.2.1:8080", &proxies), Ok(Some((ip("192.0.2.1"), Some(8080)))));
        // A mapped address is the IPv4 one, so the per-IP cap sees one client.
        assert_eq!(xff("::ffff:192.0.2.9", &proxies), Ok(Some((ip("192.0.2.9"), None))));
        // and a mapped proxy address is trusted as its IPv4 one.
        assert_eq!(xff("192.0.2.9, ::ffff:10.0.0.1", &proxies), Ok(Some((ip("192.0.2.9"), None))));
    }

    #[test]
    fn malformed_entries_on_the_walk_are_errors() {
        let proxies = ["10.0.0.0/8"];
        for bad in [
            "",
            "1.2.3.4,",
            "not-an-ip",
            "1.2.3.4.5",
            "unknown",
            "[::1",
            "1.2.3.4:99999",
            "1.2.3.4 5.6.7.8",
        ] {
            assert!(matches!(xff(bad, &proxies), Err(ForwardedError::Malformed(_))), "{bad:?}");
        }
        // Malformed between two trusted hops: still on the walk.
        assert!(xff("1.2.3.4, junk, 10.0.0.1", &proxies).is_err());
        let long = "x".repeat(500);
        match xff(&long, &proxies) {
            Err(ForwardedError::Malformed(e)) => assert_eq!(e.len(), 64),
            other => panic!("{other:?}"),
        }
        let h = headers(&[("x-forwarded-for", "1.2.3.4")]);
        let mut h2 = HeaderMap::new();
        h2.insert(
            "x-forwarded-for",
            hyper::header::HeaderValue::from_bytes(b"1.2.3.4\xff").expect("opaque"),
        );
        assert!(client(&h, ForwardedHeader::XForwardedFor, &[]).is_ok());
        assert_eq!(client(&h2, ForwardedHeader::XForwardedFor, &[]), Err(ForwardedError::NotText));
    }

    #[test]
    fn rfc_7239_forwarded() {
        let proxies = trusted(&["10.0.0.0/8"]);
        let fwd =
            |v: &str| client(&headers(&[("forwarded", v)]), ForwardedHeader::Forwarded, &proxies);
        assert_eq!(
            fwd(
                r#"for=6.6.6.6, for="[2001:db8:cafe::17]:4711";proto=https, For=10.0.0.1;by=10.0.0.2"#
            ),
            Ok(Some((ip("2001:db8:cafe::17"), Some(4711))))
        );
        assert_eq!(fwd("proto=https;for=192.0.2.60"), Ok(Some((ip("192.0.2.60"), None))));
        // A quoted comma does not split elements.
        assert_eq!(fwd(r#"for=192.0.2.61;ext="a,b""#), Ok(Some((ip("192.0.2.61"), None))));
        for bad in [
            "for=unknown",
            "for=_hidden",
            "proto=https",
            r#"for="1.2.3.4"#,
            "for=[::1]:x",
            r#"for="1.2\.3.4""#,
        ] {
            assert!(matches!(fwd(bad), Err(ForwardedError::Malformed(_))), "{bad}");
        }
        // The header not configured is not read.
        let h = headers(&[("forwarded", "for=192.0.2.60")]);
        assert_eq!(client(&h, ForwardedHeader::XForwardedFor, &proxies), Ok(None));
        assert_eq!(present(&h), Some(ForwardedHeader::Forwarded));
        assert_eq!(present(&HeaderMap::new()), None);
    }
}
