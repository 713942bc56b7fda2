//! Which hosts the server is willing to answer for.
//!
//! The server stands in for every origin a test page names, so the allow-list
//! is what keeps browsers' background traffic (update checks, safe browsing,
//! telemetry) from ever being answered as if it were a test origin.

use std::net::{Ipv4Addr, Ipv6Addr};

/// How [`classify_host`] judged a host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostClass {
    /// A DNS name under the reserved `.test` TLD (RFC 6761), so it can never
    /// collide with a real site.
    TestName,
    /// An IPv4 address in 127.0.0.0/8 or the IPv6 address `[::1]`.
    Loopback,
    /// Anything else; the text says why, for the rejected-requests log.
    Rejected(&'static str),
}

impl HostClass {
    /// True unless the host was rejected.
    pub fn is_allowed(self) -> bool {
        !matches!(self, HostClass::Rejected(_))
    }
}

/// Classifies a host exactly as it appears in a request target or `Host`
/// header, without the port: a DNS name (any case, optionally with one
/// trailing dot), a dotted-decimal IPv4 address, or a bracketed IPv6 address.
///
/// Only canonical IP spellings are accepted, because browsers always send
/// those; anything else is more likely a parsing mistake than a test origin.
pub fn classify_host(host: &str) -> HostClass {
    if host.is_empty() {
        return HostClass::Rejected("empty host");
    }
    if !host.is_ascii() {
        return HostClass::Rejected("non-ASCII host (browsers send punycode)");
    }
    if let Some(inner) = host.strip_prefix('[') {
        return classify_ipv6(inner);
    }
    if host.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return classify_ipv4(host);
    }
    classify_name(&host.to_ascii_lowercase())
}

fn classify_ipv6(inner: &str) -> HostClass {
    let Some(addr) = inner.strip_suffix(']') else {
        return HostClass::Rejected("unterminated IPv6 literal");
    };
    match addr.parse::<Ipv6Addr>() {
        Ok(ip) if ip == Ipv6Addr::LOCALHOST && addr.eq_ignore_ascii_case("::1") => {
            HostClass::Loopback
        }
        Ok(ip) if ip == Ipv6Addr::LOCALHOST => {
            HostClass::Rejected("non-canonical IPv6 loopback literal")
        }
        Ok(_) => HostClass::Rejected("IPv6 address other than [::1]"),
        Err(_) => HostClass::Rejected("malformed IPv6 literal"),
    }
}

fn classify_ipv4(host: &str) -> HostClass {
    // std's parser accepts only four plain decimal octets (no leading zeros,
    // no shorthand like `127.1`), which is exactly the canonical form.
    match host.parse::<Ipv4Addr>() {
        Ok(ip) if ip.octets()[0] == 127 => HostClass::Loopback,
        Ok(_) => HostClass::Rejected("IPv4 address outside 127.0.0.0/8"),
        Err(_) => HostClass::Rejected("malformed IPv4 address"),
    }
}

fn classify_name(lower: &str) -> HostClass {
    // One trailing dot is the fully-qualified spelling of the same name.
    let name = lower.strip_suffix('.').unwrap_or(lower);
    if name.len() > 253 {
        return HostClass::Rejected("host name too long");
    }
    let labels: Vec<&str> = name.split('.').collect();
    for label in &labels {
        if label.is_empty() {
            return HostClass::Rejected("empty label in host name");
        }
        if label.len() > 63 {
            return HostClass::Rejected("host name label too long");
        }
        // Underscore is not valid in host names, but browsers pass it through
        // and rejecting it would only hide a case author's intent.
        if !label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            return HostClass::Rejected("invalid character in host name");
        }
    }
    match labels.as_slice() {
        [_, .., "test"] => HostClass::TestName,
        ["test"] => HostClass::Rejected("bare 'test' is a TLD, not a host"),
        _ => HostClass::Rejected("not a .test name or loopback address"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(host: &str) -> &'static str {
        match classify_host(host) {
            HostClass::Rejected(r) => r,
            other => panic!("{host:?} should be rejected, got {other:?}"),
        }
    }

    #[test]
    fn test_names_are_allowed_in_any_case() {
        for host in [
            "a.test",
            "A.TEST",
            "xn--bcher-kva.test",
            "a.test.",
            "x.y.z.test",
            "a_b.test",
        ] {
            assert_eq!(classify_host(host), HostClass::TestName, "{host}");
        }
    }

    #[test]
    fn loopback_literals_are_allowed() {
        for host in ["127.0.0.1", "127.255.0.9", "127.0.0.0", "[::1]"] {
            assert_eq!(classify_host(host), HostClass::Loopback, "{host}");
        }
    }

    #[test]
    fn other_hosts_are_rejected_with_a_reason() {
        assert_eq!(reason("localhost"), "not a .test name or loopback address");
        assert_eq!(
            reason("example.com"),
            "not a .test name or loopback address"
        );
        assert_eq!(
            reason("a.test.example"),
            "not a .test name or loopback address"
        );
        assert_eq!(reason("test"), "bare 'test' is a TLD, not a host");
        assert_eq!(reason("test."), "bare 'test' is a TLD, not a host");
        assert_eq!(reason("10.0.0.1"), "IPv4 address outside 127.0.0.0/8");
        assert_eq!(reason("0.0.0.0"), "IPv4 address outside 127.0.0.0/8");
        assert_eq!(reason("[::2]"), "IPv6 address other than [::1]");
        assert_eq!(reason(""), "empty host");
    }

    #[test]
    fn malformed_hosts_are_rejected() {
        assert_eq!(reason("127.0.0.01"), "malformed IPv4 address");
        assert_eq!(reason("127.0.0.256"), "malformed IPv4 address");
        assert_eq!(reason("127.1"), "malformed IPv4 address");
        assert_eq!(reason("127.0.0.1."), "malformed IPv4 address");
        assert_eq!(reason("[::1"), "unterminated IPv6 literal");
        assert_eq!(
            reason("[0:0:0:0:0:0:0:1]"),
            "non-canonical IPv6 loopback literal"
        );
        assert_eq!(reason("[zz]"), "malformed IPv6 literal");
        assert_eq!(reason("a..test"), "empty label in host name");
        assert_eq!(reason(".test"), "empty label in host name");
        assert_eq!(reason("a.test.."), "empty label in host name");
        assert_eq!(reason("a b.test"), "invalid character in host name");
        assert_eq!(
            reason("bücher.test"),
            "non-ASCII host (browsers send punycode)"
        );
        let long_label = format!("{}.test", "a".repeat(64));
        assert_eq!(reason(&long_label), "host name label too long");
    }
}
