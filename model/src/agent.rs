//! Agents and agent clusters: which documents share an event loop.
//!
//! > "Conceptually, the agent concept is an architecture-independent,
//! > idealized 'thread' in which JavaScript code runs."
//! > <https://tc39.es/ecma262/#sec-agents>
//!
//! A Window's agent is the *similar-origin window agent* its browsing
//! context group holds for an *agent cluster key*:
//!
//! > "To obtain a similar-origin window agent, given an origin origin, a
//! > browsing context group group, and a boolean requestsOAC, run these
//! > steps: 1. Let site be the result of obtaining a site with origin.
//! > 2. Let key be site. 3. If group's cross-origin isolation mode is not
//! > "none", then set key to origin. 4. Otherwise, if group's historical
//! > agent cluster key map[origin] exists, then set key to group's
//! > historical agent cluster key map[origin]. 5. Otherwise: 1. If
//! > requestsOAC is true, then set key to origin. 2. Set group's historical
//! > agent cluster key map[origin] to key. 6. If group's agent cluster
//! > map[key] does not exist, then: [...] 3. Set agentCluster's is
//! > origin-keyed to true if key equals origin; otherwise false. [...]
//! > 7. Return the single similar-origin window agent contained in group's
//! > agent cluster map[key]."
//! > <https://html.spec.whatwg.org/multipage/webappapis.html#obtain-similar-origin-window-agent>
//!
//! requestsOAC comes from the `Origin-Agent-Cluster` response header,
//! "Create and initialize a Document object", step 7:
//!
//! > "1. Let oacHeader be the result of getting a structured field value
//! > given `Origin-Agent-Cluster` and "item" from navigationParams's
//! > response's header list. 2. Let requestsOAC be true if oacHeader is not
//! > null and oacHeader[0] is the boolean true; otherwise false. 3. If
//! > navigationParams's reserved environment is a non-secure context, then
//! > set requestsOAC to false."
//! > <https://html.spec.whatwg.org/multipage/document-lifecycle.html#initialise-the-document-object>
//!
//! pmconf never sends the header, so the standard's text keys every agent
//! cluster by site ([`Keying::SiteKeyed`]). whatwg/html PR #7617 ("Change
//! Origin-Agent-Cluster HTTP header default", open) makes an absent header
//! mean `?1`; Chromium ships that since Chrome 115 and Firefox has it
//! behind `dom.origin_agent_cluster.default`. Under it every document in a
//! secure context asks for an origin-keyed cluster
//! ([`Keying::OriginKeyed`]). The event loop explorer computes both; what
//! only origin keying allows is *contested* ([`crate::contested`]).
//!
//! NOTE: Chromium goes further than the PR's text: `pmconf doctor` reads
//! `window.originAgentCluster` as `true` in an https frame under pmconf's
//! http runner page, which is not a secure context (`isSecureContext` is
//! false there), and `false` in an http one (Chromium 156). So origin
//! keying here asks for an origin-keyed cluster for a document in a secure
//! context *or* whose own origin is potentially trustworthy: https (and
//! loopback) windows of a case are origin-keyed wherever they are.
//!
//! Every agent has its own event loop ("each similar-origin window agent
//! has its own event loop"), so windows in different agents run in
//! parallel, while same-agent windows take turns, one task at a time.
//!
//! NOTE: a case is taken as one browsing context group (every window is
//! reachable from top) and as the group's first use of its origins: the
//! historical agent cluster key map starts empty. In the harness the case
//! shares its group with the runner page and the cases mounted before it
//! (all non-secure contexts, so all site-keyed): under origin keying an
//! origin an earlier case used may stay site-keyed. Origin keying only
//! ever adds contested outcomes, so this over-approximates nothing the
//! verdicts rely on.

use crate::case::{Case, Relation, WindowIndex};
use crate::mixed_content::is_origin_potentially_trustworthy;
use crate::navigation::{DocumentIndex, DocumentPlan, Plan};
use crate::origin::{same_origin, OpaqueOriginId, Origin};

/// An agent cluster key: a site (scheme and registrable domain, or an
/// opaque origin, which is its own site) or a tuple origin.
///
/// "An agent cluster key is a site or tuple origin."
/// <https://html.spec.whatwg.org/multipage/webappapis.html#agent-cluster-key>
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AgentClusterKey {
    /// A scheme-and-host site: (scheme, registrable domain, or the host
    /// itself when it has none, as IP addresses do).
    Site {
        /// The origin's scheme.
        scheme: String,
        /// The registrable domain, or the host.
        host: String,
    },
    /// An opaque origin is its own site: every opaque origin has an agent
    /// of its own, whatever the keying.
    Opaque(OpaqueOriginId),
    /// A tuple origin: an origin-keyed agent cluster.
    Origin(Origin),
}

impl std::fmt::Display for AgentClusterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AgentClusterKey::Site { scheme, host } => write!(f, "site ({scheme}, {host})"),
            AgentClusterKey::Opaque(id) => write!(f, "opaque origin #{}", id.0),
            AgentClusterKey::Origin(o) => write!(f, "origin {o}"),
        }
    }
}

/// Obtains the site of `origin`.
///
/// <https://html.spec.whatwg.org/multipage/browsers.html#obtain-a-site>
pub fn obtain_a_site(origin: &Origin) -> AgentClusterKey {
    match origin {
        // 1. If origin is an opaque origin, then return origin.
        Origin::Opaque(id) => AgentClusterKey::Opaque(*id),
        Origin::Tuple { scheme, host, .. } => AgentClusterKey::Site {
            scheme: scheme.clone(),
            // 2. If origin's host's registrable domain is null, then return
            //    (origin's scheme, origin's host).
            // 3. Return (origin's scheme, origin's host's registrable domain).
            host: registrable_domain(host).unwrap_or_else(|| host.clone()),
        },
    }
}

/// The public suffix of a host, or `None` (IP addresses).
///
/// <https://url.spec.whatwg.org/#host-public-suffix>
///
/// NOTE: pmconf's hosts are `*.test` names and loopback literals (see
/// [`crate::hosts`]), so the Public Suffix List algorithm here is the
/// list's default rule alone ("If no rules match, the prevailing rule is
/// `*`"): `test` has no entry, so the public suffix is the last label.
pub fn public_suffix(host: &str) -> Option<String> {
    // 1. If host is not a domain, then return null. (IPv6 serializes in
    //    brackets.)
    if host.starts_with('[') || host.parse::<std::net::Ipv4Addr>().is_ok() {
        return None;
    }
    // 2. Let trailingDot be "." if host ends with "."; otherwise the empty
    //    string.
    let (bare, trailing_dot) = split_trailing_dot(host);
    // 3. Let publicSuffix be the public suffix determined by running the
    //    Public Suffix List algorithm with host as domain.
    let public_suffix = bare.rsplit('.').next().unwrap_or(bare);
    // 5. Return publicSuffix and trailingDot concatenated.
    Some(format!("{public_suffix}{trailing_dot}"))
}

/// The registrable domain of a host, or `None` (IP addresses, and domains
/// that are public suffixes themselves).
///
/// <https://url.spec.whatwg.org/#host-registrable-domain>
pub fn registrable_domain(host: &str) -> Option<String> {
    // 1. If host's public suffix is null or host's public suffix equals
    //    host, then return null.
    let suffix = public_suffix(host)?;
    if suffix == host {
        return None;
    }
    // 2. Let trailingDot be "." if host ends with "."; otherwise the empty
    //    string.
    let (bare, trailing_dot) = split_trailing_dot(host);
    // 3. Let registrableDomain be the registrable domain determined by
    //    running the Public Suffix List algorithm with host as domain: the
    //    public suffix and the label before it.
    let suffix_labels = split_trailing_dot(&suffix).0.split('.').count();
    let labels: Vec<&str> = bare.split('.').collect();
    let registrable = labels[labels.len().saturating_sub(suffix_labels + 1)..].join(".");
    // 5. Return registrableDomain and trailingDot concatenated.
    Some(format!("{registrable}{trailing_dot}"))
}

/// A domain without its trailing dot, and the dot (or nothing).
fn split_trailing_dot(host: &str) -> (&str, &str) {
    match host.strip_suffix('.') {
        Some(bare) => (bare, "."),
        None => (host, ""),
    }
}

/// Which default the `Origin-Agent-Cluster` header has: how agent
/// clusters are keyed when no response sends it (pmconf's never do).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Keying {
    /// The HTML Standard as written: an absent header requests nothing, so
    /// requestsOAC is false and every cluster is keyed by site (origin
    /// keying only in a cross-origin isolated group, step 3).
    SiteKeyed,
    /// whatwg/html PR #7617 (open; Chromium's default since Chrome 115): an
    /// absent header is `?1`, so a document whose reserved environment is
    /// a secure context requests an origin-keyed cluster; NOTE: and, as
    /// Chromium does, one whose origin is potentially trustworthy.
    OriginKeyed,
}

impl std::fmt::Display for Keying {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Keying::SiteKeyed => "site-keyed (the standard's text)",
            Keying::OriginKeyed => "origin-keyed by default (whatwg/html#7617)",
        })
    }
}

/// Index of an agent in [`AgentClusters::keys`].
pub type AgentIndex = usize;

/// The agents a case's documents are in, under one keying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentClusters {
    /// The keying.
    pub keying: Keying,
    /// Each agent's cluster key, in the order documents first need them.
    pub keys: Vec<AgentClusterKey>,
    /// Per document (index in [`Plan::documents`]): its agent.
    pub agent_of: Vec<AgentIndex>,
    /// Per document: whether its reserved environment is a secure context
    /// (its top-level creation URL is potentially trustworthy).
    pub secure_context: Vec<bool>,
}

impl AgentClusters {
    /// The agent of document `d`.
    pub fn agent(&self, d: DocumentIndex) -> AgentIndex {
        self.agent_of[d]
    }

    /// Whether agent `a`'s cluster is origin-keyed ("is origin-keyed" is
    /// true if key equals origin; an opaque origin's key always does).
    pub fn is_origin_keyed(&self, a: AgentIndex) -> bool {
        !matches!(self.keys[a], AgentClusterKey::Site { .. })
    }

    /// Whether `other` puts the documents in the same agents as `self`
    /// (agents are numbered in the order documents first need them, so
    /// equal partitions are equal vectors).
    pub fn same_partition(&self, other: &AgentClusters) -> bool {
        self.agent_of == other.agent_of
    }
}

/// Allocates every document of `plan` to an agent under `keying`, in the
/// order the plan creates them (the browsing context group's historical
/// agent cluster key map fills in that order).
pub fn agent_clusters(case: &Case, plan: &Plan, keying: Keying) -> AgentClusters {
    let isolated = case.is_isolated();
    let mut out = AgentClusters {
        keying,
        keys: Vec::new(),
        agent_of: Vec::with_capacity(plan.documents.len()),
        secure_context: Vec::with_capacity(plan.documents.len()),
    };
    // group's historical agent cluster key map.
    let mut historical: Vec<(Origin, AgentClusterKey)> = Vec::new();
    for (d, doc) in plan.documents.iter().enumerate() {
        let secure = secure_context(case, plan, d);
        out.secure_context.push(secure);
        // "Creating a new browsing context" obtains the initial
        // about:blank's agent with requestsOAC false (its origin is its
        // creator's, already in the map); the others per the header's
        // default, false in a non-secure context (step 7.3), NOTE: or, as
        // Chromium does, true for a potentially trustworthy origin.
        let requests_oac = keying == Keying::OriginKeyed
            && (secure || is_origin_potentially_trustworthy(&doc.origin))
            && !doc.initial_about_blank;
        let origin = &doc.origin;
        // 1. Let site be the result of obtaining a site with origin.
        // 2. Let key be site.
        let site = obtain_a_site(origin);
        let as_origin = || match origin {
            Origin::Opaque(id) => AgentClusterKey::Opaque(*id),
            tuple => AgentClusterKey::Origin(tuple.clone()),
        };
        let key = if isolated {
            // 3. If group's cross-origin isolation mode is not "none", then
            //    set key to origin.
            as_origin()
        } else if let Some((_, k)) = historical.iter().find(|(o, _)| same_origin(o, origin)) {
            // 4. Otherwise, if group's historical agent cluster key
            //    map[origin] exists, then set key to it.
            k.clone()
        } else {
            // 5.1. If requestsOAC is true, then set key to origin.
            let key = if requests_oac { as_origin() } else { site };
            // 5.2. Set group's historical agent cluster key map[origin] to key.
            historical.push((origin.clone(), key.clone()));
            key
        };
        // 6-7. The agent cluster map[key]'s single agent.
        let agent = match out.keys.iter().position(|k| *k == key) {
            Some(a) => a,
            None => {
                out.keys.push(key);
                out.keys.len() - 1
            }
        };
        out.agent_of.push(agent);
    }
    out
}

/// Whether document `d`'s environment is a secure context: "If the result
/// of Is url potentially trustworthy? given environment's top-level
/// creation URL is "Potentially Trustworthy", then return true."
/// <https://html.spec.whatwg.org/multipage/webappapis.html#secure-context>
///
/// The top-level creation URL is the creation URL of the top-level
/// document above it ("Set topLevelCreationURL to parentEnvironment's
/// top-level creation URL", initialise the document object step 7.9).
///
/// NOTE: a case's `top` window is an iframe of pmconf's runner page
/// (`http://pmconf.test/__pmconf/runner`, not potentially trustworthy), so
/// every document under it is in a non-secure context, `https:` or not;
/// only a cross-origin isolated case's top (a top-level `https:` page the
/// harness opens) and popups (top-level) can be secure.
pub fn secure_context(case: &Case, plan: &Plan, d: DocumentIndex) -> bool {
    let doc = &plan.documents[d];
    let mut w: WindowIndex = doc.window;
    while let Relation::Iframe { parent } = case.windows[w].relation {
        w = parent;
    }
    match case.windows[w].relation {
        Relation::Top => case.is_isolated(),
        Relation::Popup { .. } if w == doc.window => creation_url_potentially_trustworthy(doc),
        // The popup's document that holds the frame: its latest document
        // planned before `d` (a popup's navigation destroys its frames).
        _ => plan.documents[..d]
            .iter()
            .rev()
            .find(|p| p.window == w)
            .is_some_and(creation_url_potentially_trustworthy),
    }
}

/// "Is url potentially trustworthy?" for a document's creation URL
/// ([`crate::mixed_content::is_url_potentially_trustworthy`]), read from
/// what the plan keeps of it: step 1 for an initial `about:blank`, else
/// step 3 on its origin (the plan keeps no URL; the two differ only for
/// `data:`, whose opaque origin is its own agent whatever the keying).
fn creation_url_potentially_trustworthy(doc: &DocumentPlan) -> bool {
    doc.initial_about_blank || is_origin_potentially_trustworthy(&doc.origin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::case::parse_case;
    use crate::navigation::plan_case;

    fn site(scheme: &str, host: &str) -> AgentClusterKey {
        AgentClusterKey::Site {
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

    fn clusters(windows: &str, keying: Keying) -> (Vec<String>, AgentClusters) {
        let case = parse_case(
            "t.yaml",
            &format!("description: d\nwindows:\n{windows}steps:\n  - post: {{ from: top, to: top, message: 1 }}\n"),
        )
        .unwrap_or_else(|e| panic!("{}", e[0]));
        let plan = plan_case(&case);
        let labels = plan.documents.iter().map(|d| d.label.clone()).collect();
        (labels, agent_clusters(&case, &plan, keying))
    }

    /// Same-site, cross-origin windows (another subdomain, another port)
    /// share an agent under the standard's site keying; under #7617's
    /// default only documents in a secure context (an https: popup, top
    /// level) get one each. Hand-derived from steps 1-5 above and step 7.3
    /// of "initialise the document object".
    #[test]
    fn origin_keying_splits_same_site_windows_in_secure_contexts_only() {
        let windows = "  top: { url: 'https://a.test/' }\n  kid: { parent: top, url: 'https://www.a.test/' }\n  pop: { opener: top, url: 'https://a.test:8443/' }\n  popkid: { parent: pop, url: 'https://www.a.test:8443/' }\n";
        let (labels, site_keyed) = clusters(windows, Keying::SiteKeyed);
        assert_eq!(labels, ["top", "kid", "pop", "popkid"]);
        // One site, (https, a.test): one agent.
        assert_eq!(site_keyed.agent_of, [0, 0, 0, 0]);
        assert_eq!(site_keyed.keys, [site("https", "a.test")]);
        assert!(!site_keyed.is_origin_keyed(0));
        let (_, origin_keyed) = clusters(windows, Keying::OriginKeyed);
        // top and kid are under pmconf's http runner page: non-secure, but
        // their https origins are potentially trustworthy (Chromium's
        // reading); pop is a top-level https page, and popkid's top-level
        // creation URL is pop's: each its own origin.
        assert_eq!(origin_keyed.secure_context, [false, false, true, true]);
        assert_eq!(origin_keyed.agent_of, [0, 1, 2, 3]);
        assert!((0..4).all(|a| origin_keyed.is_origin_keyed(a)));
        assert!(!site_keyed.same_partition(&origin_keyed));
        // http windows, same site, other origins: neither secure nor
        // trustworthy, so one site-keyed agent under both keyings.
        let http =
            "  top: { url: 'http://a.test/' }\n  kid: { parent: top, url: 'http://www.a.test/' }\n";
        let (_, plain) = clusters(http, Keying::OriginKeyed);
        assert_eq!(plain.agent_of, [0, 0]);
        assert!(plain.same_partition(&clusters(http, Keying::SiteKeyed).1));
    }

    #[test]
    fn cross_origin_isolation_keys_by_origin_whatever_the_default() {
        let windows = "  top: { url: 'https://a.test/', isolated: true }\n  kid: { parent: top, url: 'https://www.a.test/' }\n  same: { parent: top, url: 'https://a.test/x' }\n";
        for keying in [Keying::SiteKeyed, Keying::OriginKeyed] {
            let (_, c) = clusters(windows, keying);
            // Step 3: key is the origin.
            assert_eq!(c.agent_of, [0, 1, 0], "{keying}");
        }
    }

    #[test]
    fn the_historical_map_keeps_an_origins_first_key() {
        // top (https, origin-keyed by its trustworthy origin) creates kid.
        // kid's initial about:blank has top's origin and asks for no
        // origin-keyed cluster ("creating a new browsing context" passes
        // requestsOAC false), but step 4 finds top's origin in the
        // historical map and gives it top's key: the creator's agent.
        // Without the map it would get the site key, another agent.
        let case = parse_case(
            "t.yaml",
            "description: d\nwindows:\n  top: { url: 'https://a.test/' }\n  kid: { parent: top, url: 'https://www.a.test/' }\nsteps:\n  - create: { window: kid }\n  - post: { from: top, to: top, message: 1 }\n",
        )
        .unwrap_or_else(|e| panic!("{}", e[0]));
        let plan = plan_case(&case);
        let labels: Vec<&str> = plan.documents.iter().map(|d| d.label.as_str()).collect();
        assert_eq!(labels, ["top", "kid@blank", "kid"]);
        let c = agent_clusters(&case, &plan, Keying::OriginKeyed);
        assert_eq!(c.agent_of, [0, 0, 1]);
        assert_eq!(
            c.keys[0],
            AgentClusterKey::Origin(Origin::tuple("https", "a.test", None))
        );
    }
}
