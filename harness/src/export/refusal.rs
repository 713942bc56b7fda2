//! Why a case is not exported: one reason per case, in groups, so that
//! `pmconf export wpt --manifest` can count what WPT cannot express (or
//! what this exporter does not write yet) instead of approximating it.

use serde::Serialize;
use std::fmt;

/// The kind of reason; the manifest groups refusals by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalGroup {
    /// A host WPT's host list has no counterpart for: more distinct hosts
    /// than WPT has, an IDN spelling beyond its two IDN labels, a host
    /// spelled in a way a WPT host cannot be (mixed case, percent-encoded).
    HostBeyondWptList,
    /// A loopback literal (IPv4 or IPv6) where a window loads: WPT's
    /// servers are reached by name only.
    LoopbackLiteral,
    /// A default port (80, 443) or more ports on one host than WPT serves.
    Port,
    /// Mapping the case onto WPT's hosts would change the model's answer
    /// (site relations the case depends on).
    MappingChangesAnswer,
    /// MessagePorts, SharedArrayBuffers, cross-origin isolation: not
    /// exported by this version.
    PortsOrIsolation,
    /// A message value whose kind the exported test cannot build or
    /// compare (beyond JSON values, buffers and the uncloneable kinds).
    ValueKind,
    /// A window whose document cannot run the test's script, or whose
    /// state the test page cannot collect (e.g. no `allow-scripts`).
    WindowShape,
    /// The case's top window is the test page itself: it must be WPT's
    /// own origin (`{{host}}`, the first port), a plain name.
    TopWindow,
    /// The exported file would fail a lint rule WPT's `lint` checks.
    Lint,
    /// A call the exported test does not write yet: a cross-window call
    /// (`function_of`), whose exception is asserted with its realm.
    CallShape,
}

impl RefusalGroup {
    /// The group's key, as the manifest writes it.
    pub fn key(self) -> &'static str {
        match self {
            RefusalGroup::HostBeyondWptList => "host-beyond-wpt-list",
            RefusalGroup::LoopbackLiteral => "loopback-literal",
            RefusalGroup::Port => "port",
            RefusalGroup::MappingChangesAnswer => "mapping-changes-answer",
            RefusalGroup::PortsOrIsolation => "ports-or-isolation",
            RefusalGroup::ValueKind => "value-kind",
            RefusalGroup::WindowShape => "window-shape",
            RefusalGroup::TopWindow => "top-window",
            RefusalGroup::Lint => "lint",
            RefusalGroup::CallShape => "call-shape",
        }
    }
}

/// A case that is not exported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// The kind of reason.
    pub group: RefusalGroup,
    /// The reason, naming what in the case caused it.
    pub reason: String,
}

impl Refusal {
    /// A refusal of `group` for `reason`.
    pub fn new(group: RefusalGroup, reason: impl Into<String>) -> Self {
        Refusal {
            group,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.group.key(), self.reason)
    }
}
