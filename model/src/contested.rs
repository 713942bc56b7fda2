//! Outcomes the standard itself leaves open: each is tied to an open issue
//! of the HTML Standard and reached only through a transition that issue
//! argues about. A run that observes one is reported apart from real
//! divergences (the harness's `contested` verdict).

use crate::outcome::Outcome;
use serde::{Deserialize, Serialize};

/// An open question in the HTML Standard that makes an outcome contested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpecIssue {
    /// whatwg/html#3267 ("Rationalize behavior of Window object reuse"):
    /// the first load of a new browsing context reuses the initial
    /// `about:blank`'s Window when its origin is *same origin-domain* with
    /// the new document's ("initialise the document object", step 6).
    ///
    /// NOTE: the issue is about which Window (and realm) the new document
    /// gets, not about message tasks: it never discusses tasks queued for
    /// the `about:blank` document. That such a task may run in the loaded
    /// document is our inference from the shared Window (engines queue the
    /// event on the Window, not on the Document), and from engines doing
    /// it; by the spec's text the task's document is the `about:blank`,
    /// which is then no longer fully active, so it never runs.
    WindowReuse,
    /// whatwg/html#3691 ("postMessage requires synchronous
    /// possibly-cross-process access"): `postMessage` fixes the target
    /// Window at call time, which needs synchronous access to a possibly
    /// cross-process navigable. The issue asks: "if a navigation matures
    /// while the postmessage task is queued [...] does the message event
    /// fire on the old Window, the new Window, or neither?" Gecko resolves
    /// the target's current inner window when the task runs, so a message
    /// still queued when any navigation of its target commits may land in
    /// the new document.
    TargetWindowAtCallTime,
    /// whatwg/html PR #7617 ("Change Origin-Agent-Cluster HTTP header
    /// default", open; shipped in Chrome 115, behind
    /// `dom.origin_agent_cluster.default` in Firefox): agent clusters of
    /// documents in secure contexts keyed by origin rather than site, so
    /// same-site, cross-origin windows run on separate event loops
    /// ([`crate::agent::Keying::OriginKeyed`]).
    OriginKeyedByDefault,
}

impl SpecIssue {
    /// Every issue, in bit order.
    pub const ALL: [SpecIssue; 3] = [
        SpecIssue::WindowReuse,
        SpecIssue::TargetWindowAtCallTime,
        SpecIssue::OriginKeyedByDefault,
    ];

    /// The issue's address.
    pub fn url(self) -> &'static str {
        match self {
            SpecIssue::WindowReuse => "https://github.com/whatwg/html/issues/3267",
            SpecIssue::TargetWindowAtCallTime => "https://github.com/whatwg/html/issues/3691",
            SpecIssue::OriginKeyedByDefault => "https://github.com/whatwg/html/pull/7617",
        }
    }

    /// One line: why the outcome is contested.
    pub fn reason(self) -> &'static str {
        match self {
            SpecIssue::WindowReuse => {
                "a message queued for the initial about:blank runs in the same-origin-domain document that reuses its Window (inferred: the issue does not discuss queued tasks)"
            }
            SpecIssue::TargetWindowAtCallTime => {
                "a message still queued when a navigation of its target committed reaches the document that navigation committed (target Window resolved when the task runs)"
            }
            SpecIssue::OriginKeyedByDefault => {
                "same-site, cross-origin documents in secure contexts run on separate event loops (agent clusters origin-keyed by default)"
            }
        }
    }

    /// A bit for sets of issues.
    pub fn bit(self) -> u8 {
        1 << (self as u8)
    }

    /// The issues in a set of bits.
    pub fn in_bits(bits: u8) -> impl Iterator<Item = SpecIssue> {
        Self::ALL.into_iter().filter(move |i| bits & i.bit() != 0)
    }
}

/// An outcome the standard's open issues make reachable, next to the
/// allowed ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContestedOutcome {
    /// What the pages observe.
    pub outcome: Outcome,
    /// The spec issues the schedule that reaches it depends on (links).
    pub issues: Vec<String>,
    /// Why, one line per issue.
    pub reasons: Vec<String>,
    /// One schedule that reaches it.
    pub schedule: Vec<String>,
}

impl ContestedOutcome {
    /// The outcome, contested because of the issues in `bits`.
    pub fn new(outcome: Outcome, bits: u8, schedule: Vec<String>) -> Self {
        Self {
            outcome,
            issues: SpecIssue::in_bits(bits)
                .map(|i| i.url().to_owned())
                .collect(),
            reasons: SpecIssue::in_bits(bits)
                .map(|i| i.reason().to_owned())
                .collect(),
            schedule,
        }
    }
}
