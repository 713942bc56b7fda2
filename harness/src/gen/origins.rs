//! Origins for windows: scheme, host (name or loopback literal) and a port
//! that is implicit, an explicit default, or another one.

use super::hosts::{window_host, GenHost};
use super::ip::loopback_literal;
use proptest::prelude::*;

/// Ports browsers will load (none from the fetch standard's bad-port list).
pub const OTHER_PORTS: &[u16] = &[8000, 8001, 8080, 8443, 81, 444, 3000, 9000];

/// A window origin as generated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenOrigin {
    /// `http` or `https` (as written; may be uppercase).
    pub scheme: String,
    /// The host.
    pub host: GenHost,
    /// How the port is written.
    pub port: GenPort,
}

/// How a port is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GenPort {
    /// No port.
    Implicit,
    /// The scheme's default, written out (`:80` for http).
    ExplicitDefault,
    /// Another port.
    Other(u16),
}

impl GenOrigin {
    /// The scheme's default port.
    pub fn default_port(&self) -> u16 {
        if self.scheme.eq_ignore_ascii_case("https") {
            443
        } else {
            80
        }
    }

    /// The port part as written, with its colon (or empty).
    pub fn port_text(&self) -> String {
        match self.port {
            GenPort::Implicit => String::new(),
            GenPort::ExplicitDefault => format!(":{}", self.default_port()),
            GenPort::Other(p) => format!(":{p}"),
        }
    }

    /// `scheme://host:port/` as written.
    pub fn url(&self) -> String {
        format!(
            "{}://{}{}/",
            self.scheme,
            self.host.written,
            self.port_text()
        )
    }

    /// Families this origin exercises.
    pub fn families(&self) -> Vec<&'static str> {
        let mut f = self.host.families.clone();
        f.push(match self.port {
            GenPort::Implicit => "port-implicit",
            GenPort::ExplicitDefault => "port-explicit-default",
            GenPort::Other(_) => "port-other",
        });
        f.push(if self.scheme.eq_ignore_ascii_case("https") {
            "https"
        } else {
            "http"
        });
        f
    }
}

/// A host: a `.test` name (first: shrinking prefers it) or a loopback literal.
pub fn any_window_host() -> impl Strategy<Value = GenHost> {
    prop_oneof![
        4 => window_host(),
        1 => loopback_literal().prop_map(|(written, family)| GenHost { written, families: vec![family] }),
    ]
}

/// A port spelling.
pub fn port() -> impl Strategy<Value = GenPort> {
    prop_oneof![
        3 => Just(GenPort::Implicit),
        1 => Just(GenPort::ExplicitDefault),
        2 => proptest::sample::select(OTHER_PORTS).prop_map(GenPort::Other),
    ]
}

/// A window origin.
pub fn window_origin() -> impl Strategy<Value = GenOrigin> {
    (
        prop_oneof![3 => Just("http"), 2 => Just("https"), 1 => Just("HTTP")],
        any_window_host(),
        port(),
    )
        .prop_map(|(scheme, host, port)| GenOrigin {
            scheme: scheme.to_owned(),
            host,
            port,
        })
}
