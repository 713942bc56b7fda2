//! Race topologies and the origins of their windows.
//!
//! A topology is a list of windows by shape (the top window first, every
//! window after the one that creates it). Each window's origin is drawn
//! relative to the windows before it: the same origin as one of them, the
//! same site (another subdomain of its registrable domain, or another port
//! of its IP literal), or a fresh origin from the host/origin strategies
//! (IDN labels, loopback literals, http and https).

use crate::gen::hosts::GenHost;
use crate::gen::origins::{window_origin, GenOrigin, GenPort};
use pmconf_model::mixed_content::should_fetching_be_blocked;
use pmconf_model::url_origin::origin_of_url;
use pmconf_model::OpaqueOriginAllocator;
use proptest::prelude::*;
use url::Url;

/// How a window of a race topology is created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RaceShape {
    /// The top window.
    Top,
    /// An iframe of the window at this index.
    Iframe(usize),
    /// A sandboxed iframe (`allow-scripts`, maybe `allow-same-origin`).
    Sandboxed(usize),
    /// A popup the window at this index opens.
    Popup(usize),
}

impl RaceShape {
    /// The window that creates this one.
    pub fn creator(self) -> Option<usize> {
        match self {
            RaceShape::Top => None,
            RaceShape::Iframe(p) | RaceShape::Sandboxed(p) | RaceShape::Popup(p) => Some(p),
        }
    }
}

/// A race topology: a family name and its windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RaceTopology {
    /// The family (`iframe`, `nested-iframes`, ...), a tag of the case.
    pub family: &'static str,
    /// Window names and shapes; index 0 is the top window.
    pub windows: &'static [(&'static str, RaceShape)],
}

/// The topologies, simplest first.
pub const RACE_TOPOLOGIES: &[RaceTopology] = &[
    RaceTopology {
        family: "iframe",
        windows: &[("top", RaceShape::Top), ("child", RaceShape::Iframe(0))],
    },
    RaceTopology {
        family: "nested-iframes",
        windows: &[
            ("top", RaceShape::Top),
            ("middle", RaceShape::Iframe(0)),
            ("inner", RaceShape::Iframe(1)),
        ],
    },
    RaceTopology {
        family: "siblings",
        windows: &[
            ("top", RaceShape::Top),
            ("left", RaceShape::Iframe(0)),
            ("right", RaceShape::Iframe(0)),
        ],
    },
    RaceTopology {
        family: "popup",
        windows: &[("top", RaceShape::Top), ("pop", RaceShape::Popup(0))],
    },
    RaceTopology {
        family: "popup-with-iframe",
        windows: &[
            ("top", RaceShape::Top),
            ("pop", RaceShape::Popup(0)),
            ("popframe", RaceShape::Iframe(1)),
        ],
    },
    RaceTopology {
        family: "sandboxed-frame",
        windows: &[("top", RaceShape::Top), ("boxed", RaceShape::Sandboxed(0))],
    },
];

/// How a window's origin relates to an earlier window's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kinship {
    /// The same origin as the window at this index.
    SameOrigin(usize),
    /// The same site as the window at this index, another origin.
    SameSite(usize),
    /// A fresh origin (most likely another site).
    CrossSite,
}

impl Kinship {
    /// The family name of the relation.
    pub fn family(self) -> &'static str {
        match self {
            Kinship::SameOrigin(_) => "same-origin",
            Kinship::SameSite(_) => "same-site",
            Kinship::CrossSite => "cross-site",
        }
    }
}

/// A label prefixed to make a same-site host, by index.
const SUBDOMAIN_LABELS: &[&str] = &["www", "sub", "x1"];
/// Ports given to a same-site variant of an IP literal.
const SAME_SITE_PORTS: &[u16] = &[8001, 8443, 9000];

/// Another origin of the same site as `o`: a subdomain of its host (the
/// registrable domain stays, `test` being the public suffix), or for an
/// IP literal (its own site) another port. `None` when the result would
/// not parse (CheckBidi across labels).
pub fn same_site_variant(o: &GenOrigin, pick: usize) -> Option<GenOrigin> {
    let url = url::Url::parse(&o.url()).ok()?;
    let mut v = o.clone();
    match url.host()? {
        url::Host::Domain(_) => {
            let label = SUBDOMAIN_LABELS[pick % SUBDOMAIN_LABELS.len()];
            let mut families = o.host.families.clone();
            families.push("ascii");
            v.host = GenHost {
                written: format!("{label}.{}", o.host.written),
                families,
            };
        }
        _ => {
            let current = url.port_or_known_default();
            let port = SAME_SITE_PORTS
                .iter()
                .cycle()
                .skip(pick % SAME_SITE_PORTS.len())
                .take(SAME_SITE_PORTS.len())
                .find(|&&p| Some(p) != current)?;
            v.port = GenPort::Other(*port);
        }
    }
    url::Url::parse(&v.url()).ok().map(|_| v)
}

/// A frame the generator keeps out of its cases although the standard
/// lets it load, because an engine was seen not to run it: data, each
/// entry with what `harness/tests/mixed_content_in_browsers.rs` saw (the
/// test checks that the engines still do, and that this list names it).
#[derive(Debug)]
pub struct AvoidedFrame {
    /// The frame, in words.
    pub what: &'static str,
    /// Each engine that does not run it (by [`crate::engine::EngineId`]
    /// name), and what it does instead.
    pub seen: &'static [(&'static str, &'static str)],
    /// Whether a frame loading `url` under documents at `around` (its
    /// parent's current document first, then up to its top-level window)
    /// is one.
    pub matches: fn(url: &Url, around: &[Url]) -> bool,
}

/// An http loopback frame under an https page. Secure Contexts counts
/// `http://127.0.0.1` as potentially trustworthy, so Mixed Content lets it
/// load (model/src/mixed_content.rs) and Chromium 156 does; the others do
/// not run pmconf's agent in it.
pub const HTTP_LOOPBACK_FRAME_UNDER_HTTPS: AvoidedFrame = AvoidedFrame {
    what: "an http frame on a loopback address under an https page",
    seen: &[
        (
            "firefox",
            "Firefox 153 ESR loads the frame's document, but pmconf's agent never reports from it: an http page's agent opens a ws: channel to the harness, which Firefox blocks as mixed content under an https ancestor (an https loopback frame, whose channel is wss:, runs)",
        ),
        (
            "webkitgtk",
            "WebKitGTK 2.50 blocks the frame: it stays at about:blank",
        ),
    ],
    matches: |url, around| {
        let loopback = match url.host() {
            Some(url::Host::Ipv4(a)) => a.is_loopback(),
            Some(url::Host::Ipv6(a)) => a.is_loopback(),
            _ => false,
        };
        url.scheme() == "http" && loopback && around.iter().any(|u| u.scheme() == "https")
    },
};

/// Every frame the generator avoids beyond what the standard blocks.
pub const AVOIDED_FRAMES: &[AvoidedFrame] = &[HTTP_LOOPBACK_FRAME_UNDER_HTTPS];

/// Whether the generator may put a frame loading `url` under documents at
/// `around` (nearest first): the standard does not block it as mixed
/// content (the model's rule, which the validator applies) and it is not
/// one of [`AVOIDED_FRAMES`].
pub fn frame_may_load(url: &Url, around: &[Url]) -> bool {
    let mut alloc = OpaqueOriginAllocator::new();
    let origins: Vec<_> = around
        .iter()
        .map(|u| origin_of_url(u, &mut alloc))
        .collect();
    should_fetching_be_blocked(url, &origins).is_none() && !avoided(url, around)
}

/// Whether a frame loading `url` under documents at `around` (nearest
/// first) is one of [`AVOIDED_FRAMES`].
pub fn avoided(url: &Url, around: &[Url]) -> bool {
    AVOIDED_FRAMES.iter().any(|a| (a.matches)(url, around))
}

/// `origin` for a frame under documents at `around` (nearest first), made
/// https where the generator may not put it as it is (an https frame
/// always loads: its URL is potentially trustworthy).
pub fn loadable_frame_origin(mut origin: GenOrigin, around: &[Url]) -> GenOrigin {
    let url = Url::parse(&origin.url()).expect("generated origins parse");
    if !frame_may_load(&url, around) {
        origin.scheme = "https".to_owned();
    }
    origin
}

/// The drawn topology with an origin per window.
#[derive(Debug, Clone)]
pub struct PlacedTopology {
    /// The topology.
    pub topology: &'static RaceTopology,
    /// Each window's first origin.
    pub origins: Vec<GenOrigin>,
    /// How each window's origin was drawn (the top window's is cross-site).
    pub kinship: Vec<Kinship>,
    /// For a sandboxed frame: whether it also has `allow-same-origin`.
    pub sandbox_same_origin: bool,
    /// Fresh origins navigations may go to.
    pub spare: Vec<GenOrigin>,
}

/// Up to this many windows per topology.
pub const MAX_WINDOWS: usize = 3;

/// The strategy for a placed topology.
pub fn placed_topology() -> impl Strategy<Value = PlacedTopology> {
    (
        0..RACE_TOPOLOGIES.len(),
        proptest::collection::vec(window_origin(), MAX_WINDOWS),
        proptest::collection::vec((0u8..3, any::<usize>()), MAX_WINDOWS),
        any::<bool>(),
        proptest::collection::vec(window_origin(), 2),
    )
        .prop_map(|(t, fresh, relations, sandbox_same_origin, spare)| {
            let topology = &RACE_TOPOLOGIES[t];
            let mut origins: Vec<GenOrigin> = Vec::new();
            let mut kinship = Vec::new();
            for (i, (_, shape)) in topology.windows.iter().enumerate() {
                let (rel, pick) = relations[i];
                let relative = pick % i.max(1);
                let drawn = match (i, rel) {
                    (0, _) => None,
                    (_, 0) => Some((origins[relative].clone(), Kinship::SameOrigin(relative))),
                    (_, 1) => same_site_variant(&origins[relative], pick / 7)
                        .map(|o| (o, Kinship::SameSite(relative))),
                    _ => None,
                };
                let (origin, k) = drawn.unwrap_or((fresh[i].clone(), Kinship::CrossSite));
                // A frame mixed content blocks is one the model refuses;
                // one an engine does not run, one the generator avoids.
                let around = frame_ancestors(topology, &origins, *shape);
                origins.push(loadable_frame_origin(origin, &around));
                kinship.push(k);
            }
            PlacedTopology {
                topology,
                origins,
                kinship,
                sandbox_same_origin,
                spare,
            }
        })
}

/// The URLs of the documents above a window of shape `shape` (its
/// parent's first, then up to its top-level window), from `origins`, the
/// windows' documents so far; none for a top-level window.
fn frame_ancestors(topology: &RaceTopology, origins: &[GenOrigin], shape: RaceShape) -> Vec<Url> {
    let mut around = Vec::new();
    let mut next = shape;
    while let RaceShape::Iframe(p) | RaceShape::Sandboxed(p) = next {
        around.push(Url::parse(&origins[p].url()).expect("generated origins parse"));
        next = topology.windows[p].1;
    }
    around
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_window_comes_after_its_creator() {
        for t in RACE_TOPOLOGIES {
            assert_eq!(t.windows[0].1, RaceShape::Top, "{}", t.family);
            assert!(t.windows.len() <= MAX_WINDOWS, "{}", t.family);
            for (i, (_, shape)) in t.windows.iter().enumerate().skip(1) {
                assert!(shape.creator().is_some_and(|c| c < i), "{}", t.family);
            }
        }
    }

    #[test]
    fn a_same_site_variant_keeps_the_site_and_changes_the_origin() {
        let o = GenOrigin {
            scheme: "http".into(),
            host: GenHost {
                written: "a.b.test".into(),
                families: vec!["ascii"],
            },
            port: GenPort::Implicit,
        };
        let v = same_site_variant(&o, 0).unwrap();
        assert_eq!(v.url(), "http://www.a.b.test/");
        let ip = GenOrigin {
            host: GenHost {
                written: "127.0.0.1".into(),
                families: vec!["ipv4-dotted"],
            },
            port: GenPort::Other(8001),
            ..o
        };
        assert_eq!(
            same_site_variant(&ip, 0).unwrap().url(),
            "http://127.0.0.1:8443/"
        );
    }
}
