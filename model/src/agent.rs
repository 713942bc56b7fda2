//! Agents: which documents share an event loop.
//!
//! > "Conceptually, the agent concept is an architecture-independent,
//! > idealized 'thread' in which JavaScript code runs."
//! > <https://tc39.es/ecma262/#sec-agents>
//!
//! A Window's agent is its *similar-origin window agent*, obtained keyed by
//! the *site* of the document's origin (origin-keyed agent clusters aside):
//!
//! > "To obtain a similar-origin window agent, given an origin origin, a
//! > browsing context group group, and a boolean requestsOAC: 1. Let site be
//! > the result of obtaining a site with origin. 2. Let key be site. [...]
//! > 4. If group's agent cluster map[key] does not exist, then [create it].
//! > 5. Let agentCluster be the result of getting the value of group's agent
//! > cluster map[key]. 6. Return the single similar-origin window agent
//! > contained in agentCluster."
//! > <https://html.spec.whatwg.org/multipage/webappapis.html#obtain-similar-origin-window-agent>
//!
//! > "To obtain a site, given an origin origin: 1. If origin is an opaque
//! > origin, then return origin. 2. If origin's host's registrable domain is
//! > null, then return (origin's scheme, origin's host). 3. Return (origin's
//! > scheme, origin's host's registrable domain)."
//! > <https://html.spec.whatwg.org/multipage/browsers.html#obtain-a-site>
//!
//! Every agent has its own event loop ("each similar-origin window agent
//! has its own event loop"), so windows in different agents run in
//! parallel, while same-agent windows take turns, one task at a time.
//! NOTE: a case is one browsing context group (every window is reachable
//! from top), and no case requests origin-keyed agent clusters, so the key
//! is the site alone.

use crate::origin::{OpaqueOriginId, Origin};

/// The key of a similar-origin window agent: a site.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentKey {
    /// A scheme-and-host site: (scheme, registrable domain, or the host
    /// itself when it has none, as IP addresses do).
    Site {
        /// The origin's scheme.
        scheme: String,
        /// The registrable domain, or the host.
        host: String,
    },
    /// An opaque origin is its own site: every opaque origin has an agent
    /// of its own.
    Opaque(OpaqueOriginId),
}

impl std::fmt::Display for AgentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentKey::Site { scheme, host } => write!(f, "site ({scheme}, {host})"),
            AgentKey::Opaque(id) => write!(f, "opaque origin #{}", id.0),
        }
    }
}

/// Obtains the site of `origin`, the key of its agent.
///
/// <https://html.spec.whatwg.org/multipage/browsers.html#obtain-a-site>
pub fn obtain_a_site(origin: &Origin) -> AgentKey {
    match origin {
        // 1. If origin is an opaque origin, then return origin.
        Origin::Opaque(id) => AgentKey::Opaque(*id),
        Origin::Tuple { scheme, host, .. } => AgentKey::Site {
            scheme: scheme.clone(),
            // 2. If origin's host's registrable domain is null, then return
            //    (origin's scheme, origin's host).
            // 3. Return (origin's scheme, origin's host's registrable domain).
            host: registrable_domain(host).unwrap_or_else(|| host.clone()),
        },
    }
}

/// The registrable domain of a host, or `None` (IP addresses, and domains
/// that are public suffixes themselves).
///
/// <https://url.spec.whatwg.org/#host-registrable-domain>
///
/// NOTE: pmconf's hosts are `*.test` names and loopback literals (see
/// [`crate::hosts`]), so this is the Public Suffix List's default rule
/// alone ("If no rules match, the prevailing rule is `*`"): `test` has no
/// entry, so the public suffix is the last label and the registrable
/// domain the last two. A trailing dot stays on both, as the URL Standard's
/// public suffix algorithm keeps it.
pub fn registrable_domain(host: &str) -> Option<String> {
    // IP addresses (IPv6 serializes in brackets) have none.
    if host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return None;
    }
    let (bare, dot) = match host.strip_suffix('.') {
        Some(b) => (b, "."),
        None => (host, ""),
    };
    let labels: Vec<&str> = bare.split('.').collect();
    if labels.len() < 2 {
        return None;
    }
    Some(format!("{}{dot}", labels[labels.len() - 2..].join(".")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site(scheme: &str, host: &str) -> AgentKey {
        AgentKey::Site {
            scheme: scheme.into(),
            host: host.into(),
        }
    }

    #[test]
    fn subdomains_and_ports_share_a_site() {
        let a = obtain_a_site(&Origin::tuple("http", "a.test", Some(8000)));
        assert_eq!(a, site("http", "a.test"));
        assert_eq!(
            obtain_a_site(&Origin::tuple("http", "www.a.test", Some(8001))),
            a
        );
        assert_ne!(obtain_a_site(&Origin::tuple("https", "a.test", None)), a);
        assert_ne!(obtain_a_site(&Origin::tuple("http", "b.test", None)), a);
        assert_eq!(
            obtain_a_site(&Origin::tuple("http", "x.a.test.", None)),
            site("http", "a.test.")
        );
    }

    #[test]
    fn ip_addresses_are_their_own_site_and_opaque_origins_their_own_agent() {
        assert_eq!(
            obtain_a_site(&Origin::tuple("http", "127.0.0.1", Some(8000))),
            site("http", "127.0.0.1")
        );
        assert_eq!(
            obtain_a_site(&Origin::tuple("http", "[::1]", None)),
            site("http", "[::1]")
        );
        let mut alloc = crate::OpaqueOriginAllocator::new();
        let (x, y) = (alloc.new_opaque_origin(), alloc.new_opaque_origin());
        assert_ne!(obtain_a_site(&x), obtain_a_site(&y));
        assert_eq!(obtain_a_site(&x), obtain_a_site(&x.clone()));
    }
}
