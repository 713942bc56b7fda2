//! Origins.
//!
//! <https://html.spec.whatwg.org/multipage/browsers.html#origin>

use std::fmt;

/// An opaque origin's identity. Two opaque origins are the same origin only
/// if they are the same object; the model gives each one an ID from its own
/// [`OpaqueOriginAllocator`] so that identity is explicit and deterministic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpaqueOriginId(pub u32);

/// Hands out [`OpaqueOriginId`]s in order, starting at 1.
///
/// One allocator lives per model run: no statics, so the same case always
/// gets the same IDs.
#[derive(Debug, Default, Clone)]
pub struct OpaqueOriginAllocator {
    next: u32,
}

impl OpaqueOriginAllocator {
    /// A fresh allocator.
    pub fn new() -> Self {
        Self::default()
    }

    /// "A new opaque origin": an origin equal to no other.
    pub fn new_opaque_origin(&mut self) -> Origin {
        self.next += 1;
        Origin::Opaque(OpaqueOriginId(self.next))
    }
}

/// An origin: opaque, or a tuple origin (scheme, host, port).
///
/// The spec's tuple also carries a *domain* (set by `document.domain`); it
/// plays no part in *same origin* or in serialization, which are all that
/// `postMessage` uses, so it lives on the document instead.
/// <https://html.spec.whatwg.org/multipage/browsers.html#concept-origin>
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Origin {
    /// An opaque origin, identified by the model's allocator.
    Opaque(OpaqueOriginId),
    /// A tuple origin.
    Tuple {
        /// An ASCII string, lowercase, as the URL parser leaves it.
        scheme: String,
        /// The host, serialized by the URL Standard's host serializer
        /// (domains are already ASCII; IPv6 addresses are in brackets).
        host: String,
        /// `None` when the URL's port is the scheme's default port or absent.
        port: Option<u16>,
    },
}

impl Origin {
    /// A tuple origin from its parts.
    pub fn tuple(scheme: &str, host: &str, port: Option<u16>) -> Self {
        Origin::Tuple {
            scheme: scheme.to_owned(),
            host: host.to_owned(),
            port,
        }
    }

    /// Whether this is an opaque origin.
    pub fn is_opaque(&self) -> bool {
        matches!(self, Origin::Opaque(_))
    }

    /// The ASCII serialization of an origin.
    ///
    /// <https://html.spec.whatwg.org/multipage/browsers.html#ascii-serialisation-of-an-origin>
    pub fn ascii_serialization(&self) -> String {
        match self {
            // 1. If origin is an opaque origin, then return "null".
            Origin::Opaque(_) => "null".to_owned(),
            Origin::Tuple { scheme, host, port } => {
                // 2. Otherwise, let result be origin's scheme.
                // 3. Append "://" to result.
                // 4. Append origin's host, serialized, to result.
                let mut result = format!("{scheme}://{host}");
                // 5. If origin's port is non-null, append a U+003A COLON
                //    character (:), and origin's port, serialized, to result.
                if let Some(port) = port {
                    result.push(':');
                    result.push_str(&port.to_string());
                }
                // 6. Return result.
                result
            }
        }
    }
}

/// Two origins A and B are said to be same origin if:
/// 1. A and B are the same opaque origin, or
/// 2. A and B are both tuple origins and their schemes, hosts, and ports are
///    identical.
///
/// <https://html.spec.whatwg.org/multipage/browsers.html#same-origin>
pub fn same_origin(a: &Origin, b: &Origin) -> bool {
    match (a, b) {
        (Origin::Opaque(x), Origin::Opaque(y)) => x == y,
        (
            Origin::Tuple {
                scheme: sa,
                host: ha,
                port: pa,
            },
            Origin::Tuple {
                scheme: sb,
                host: hb,
                port: pb,
            },
        ) => sa == sb && ha == hb && pa == pb,
        _ => false,
    }
}

/// Two origins A and B are said to be same origin-domain if the following
/// algorithm returns true:
/// 1. If A and B are the same opaque origin, then return true.
/// 2. If A and B are both tuple origins, then:
///    1. If A and B's schemes are identical, and their domains are
///       identical and non-null, then return true.
///    2. Otherwise, if A and B are same origin and their domains are
///       identical and null, then return true.
/// 3. Return false.
///
/// <https://html.spec.whatwg.org/multipage/browsers.html#same-origin-domain>
///
/// NOTE: the model's origins carry no domain; each is given beside its
/// origin (what `document.domain` set, `None` when it set nothing).
pub fn same_origin_domain(
    a: &Origin,
    a_domain: Option<&str>,
    b: &Origin,
    b_domain: Option<&str>,
) -> bool {
    match (a, b) {
        // 1.
        (Origin::Opaque(x), Origin::Opaque(y)) => x == y,
        (Origin::Tuple { scheme: sa, .. }, Origin::Tuple { scheme: sb, .. }) => {
            match (a_domain, b_domain) {
                // 2.1.
                (Some(da), Some(db)) => sa == sb && da == db,
                // 2.2.
                (None, None) => same_origin(a, b),
                _ => false,
            }
        }
        // 3.
        _ => false,
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Origin::Opaque(OpaqueOriginId(id)) => write!(f, "opaque#{id}"),
            Origin::Tuple { .. } => f.write_str(&self.ascii_serialization()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_origin_domain_follows_the_domains() {
        let a = Origin::tuple("http", "a.sub.test", None);
        let b = Origin::tuple("http", "b.sub.test", None);
        let a_https = Origin::tuple("https", "a.sub.test", None);
        // 2.2: same origin, both domains null.
        assert!(same_origin_domain(&a, None, &a.clone(), None));
        assert!(!same_origin_domain(&a, None, &b, None));
        // 2.1: both set to one domain, same scheme: true whatever the hosts.
        assert!(same_origin_domain(
            &a,
            Some("sub.test"),
            &b,
            Some("sub.test")
        ));
        assert!(!same_origin_domain(
            &a,
            Some("sub.test"),
            &a_https,
            Some("sub.test")
        ));
        // One set, one not: false, even for the same origin.
        assert!(!same_origin_domain(
            &a,
            Some("a.sub.test"),
            &a.clone(),
            None
        ));
        // 1: opaque origins only with themselves.
        let mut alloc = OpaqueOriginAllocator::new();
        let o = alloc.new_opaque_origin();
        assert!(same_origin_domain(&o, None, &o.clone(), None));
        assert!(!same_origin_domain(
            &o,
            None,
            &alloc.new_opaque_origin(),
            None
        ));
    }

    #[test]
    fn opaque_origins_are_only_same_as_themselves() {
        let mut alloc = OpaqueOriginAllocator::new();
        let a = alloc.new_opaque_origin();
        let b = alloc.new_opaque_origin();
        assert!(same_origin(&a, &a));
        assert!(!same_origin(&a, &b));
        assert_eq!(a.ascii_serialization(), "null");
        assert_eq!(b.ascii_serialization(), "null");
    }

    #[test]
    fn allocator_is_deterministic() {
        let ids = |n| {
            let mut alloc = OpaqueOriginAllocator::new();
            (0..n)
                .map(|_| alloc.new_opaque_origin())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(3), ids(3));
        assert_eq!(ids(1)[0], Origin::Opaque(OpaqueOriginId(1)));
    }

    #[test]
    fn tuple_serialization_omits_null_port() {
        assert_eq!(
            Origin::tuple("http", "a.test", None).ascii_serialization(),
            "http://a.test"
        );
        assert_eq!(
            Origin::tuple("https", "[::1]", Some(8443)).ascii_serialization(),
            "https://[::1]:8443"
        );
    }

    #[test]
    fn tuple_same_origin_compares_every_part() {
        let base = Origin::tuple("http", "a.test", Some(8000));
        assert!(same_origin(
            &base,
            &Origin::tuple("http", "a.test", Some(8000))
        ));
        assert!(!same_origin(
            &base,
            &Origin::tuple("https", "a.test", Some(8000))
        ));
        assert!(!same_origin(
            &base,
            &Origin::tuple("http", "b.test", Some(8000))
        ));
        assert!(!same_origin(&base, &Origin::tuple("http", "a.test", None)));
        assert!(!same_origin(
            &base,
            &Origin::tuple("http", "a.test.", Some(8000))
        ));
        let mut alloc = OpaqueOriginAllocator::new();
        assert!(!same_origin(&base, &alloc.new_opaque_origin()));
    }
}
