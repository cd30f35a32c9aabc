//! `--trusted-proxies`: IPv4 and IPv6 networks (`10.0.0.0/8`, `fd00::/8`) or single addresses.

use std::net::IpAddr;
use std::str::FromStr;

/// A network of addresses: an address and how many of its leading bits are fixed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The network's first address (no bit set beyond `prefix`), IPv4-mapped IPv6 addresses
    /// written as IPv4 so that `::ffff:10.0.0.1` and `10.0.0.1` are one peer.
    network: IpAddr,
    /// Fixed leading bits: at most 32 for IPv4, 128 for IPv6.
    prefix: u8,
}

/// Why a `--trusted-proxies` entry is not a network.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CidrError {
    /// Neither an IPv4 nor an IPv6 address.
    #[error("`{0}` is not an IPv4 or IPv6 address (expected ADDRESS or ADDRESS/PREFIX)")]
    Address(String),
    /// The part after `/` is not a number within the address's bits.
    #[error("`{entry}`: the prefix must be a number of bits within 0..={max}")]
    Prefix {
        /// The entry as given.
        entry: String,
        /// 32 or 128.
        max: u8,
    },
    /// Bits set beyond the prefix: most likely a typo (`10.0.0.1/8` for `10.0.0.0/8`).
    #[error("`{entry}` has bits set beyond /{prefix}; did you mean `{network}/{prefix}`?")]
    HostBits {
        /// The entry as given.
        entry: String,
        /// Its network address.
        network: IpAddr,
        /// Its prefix.
        prefix: u8,
    },
}

impl Cidr {
    /// Whether `ip` is in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                mask(u128::from(ip.to_bits()), 32, self.prefix) == u128::from(net.to_bits())
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                mask(ip.to_bits(), 128, self.prefix) == net.to_bits()
            }
            _ => false,
        }
    }
}

/// `bits` (an address `width` bits wide) with every bit beyond `prefix` cleared.
fn mask(bits: u128, width: u8, prefix: u8) -> u128 {
    let host = u32::from(width - prefix);
    // `checked_shl` is `None` for a shift of 128 (prefix 0 of IPv6): every bit is host.
    bits & u128::MAX.checked_shl(host).unwrap_or(0)
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let entry = s.trim();
        let (addr, prefix) = match entry.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (entry, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| CidrError::Address(entry.to_owned()))?;
        let (addr, width) = match addr.to_canonical() {
            // A mapped address's prefix counts the 96 bits of `::ffff:` too.
            IpAddr::V4(v4) if addr.is_ipv6() => (IpAddr::V4(v4), 128),
            IpAddr::V4(v4) => (IpAddr::V4(v4), 32),
            v6 => (v6, 128),
        };
        let prefix = match prefix {
            None => width,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= width && (width == 32 || addr.is_ipv6() || *p >= 96))
                .ok_or(CidrError::Prefix { entry: entry.to_owned(), max: width })?,
        };
        // A mapped network (`::ffff:10.0.0.0/104`) is kept as the IPv4 network it maps.
        let (prefix, width) =
            if addr.is_ipv4() && width == 128 { (prefix - 96, 32) } else { (prefix, width) };
        let bits = match addr {
            IpAddr::V4(v4) => u128::from(v4.to_bits()),
            IpAddr::V6(v6) => v6.to_bits(),
        };
        let network_bits = mask(bits, width, prefix);
        if network_bits != bits {
            let network = match addr {
                // invariant: masking a 32-bit value keeps it within 32 bits.
                IpAddr::V4(_) => IpAddr::V4(u32::try_from(network_bits).unwrap_or(0).into()),
                IpAddr::V6(_) => IpAddr::V6(network_bits.into()),
            };
            return Err(CidrError::HostBits { entry: entry.to_owned(), network, prefix });
        }
        Ok(Self { network: addr, prefix })
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// Whether any of `trusted` contains `ip`.
pub fn is_trusted(trusted: &[Cidr], ip: IpAddr) -> bool {
    trusted.iter().any(|c| c.contains(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn networks_contain_their_addresses_only() {
        let private = cidr("10.0.0.0/8");
        assert!(private.contains(ip("10.255.1.2")));
        assert!(!private.contains(ip("11.0.0.1")));
        assert!(private.contains(ip("::ffff:10.1.2.3")), "an IPv4-mapped peer is IPv4");
        assert!(!private.contains(ip("::1")));
        let single = cidr("127.0.0.1");
        assert!(single.contains(ip("127.0.0.1")) && !single.contains(ip("127.0.0.2")));
        let v6 = cidr("2001:db8::/32");
        assert!(v6.contains(ip("2001:db8:ffff::1")));
        assert!(!v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        assert!(cidr("::/0").contains(ip("fe80::1")));
        assert!(cidr("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(cidr("::1").contains(ip("::1")));
        let mapped = cidr("::ffff:192.168.0.0/112");
        assert_eq!(mapped.to_string(), "192.168.0.0/16");
        assert!(mapped.contains(ip("192.168.4.5")));
    }

    #[test]
    fn invalid_entries_say_what_is_wrong() {
        for (entry, want) in [
            ("10.0.0.0/33", "prefix must be a number of bits within 0..=32"),
            ("::/129", "within 0..=128"),
            ("10.0.0.0/x", "prefix"),
            ("10.0.0.0/", "prefix"),
            ("10.0.0", "not an IPv4 or IPv6 address"),
            ("", "not an IPv4 or IPv6 address"),
            ("localhost", "not an IPv4 or IPv6 address"),
            ("10.0.0.1/8", "did you mean `10.0.0.0/8`"),
            ("2001:db8::1/32", "did you mean `2001:db8::/32`"),
            ("::ffff:10.0.0.0/8", "prefix"),
        ] {
            let err = entry.parse::<Cidr>().expect_err(entry).to_string();
            assert!(err.contains(want), "{entry}: {err}");
        }
    }
}
