//! Outcomes the standard itself leaves open: each is tied to an open issue
//! of the HTML Standard and reached only through a transition that issue
//! argues about. A run that observes one is reported apart from real
//! divergences (the harness's `contested` verdict).

use crate::outcome::Outcome;
use serde::{Deserialize, Serialize};

/// An open question in the HTML Standard that makes an outcome contested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SpecIssue {
    /// whatwg/html#3267: the first load of a new browsing context reuses
    /// the initial `about:blank`'s Window when the origins are the same,
    /// and the spec does not settle what happens to tasks queued for the
    /// `about:blank` document (engines run them in the loaded document).
    WindowReuse,
    /// whatwg/html#3691: `postMessage` fixes the target Window at call
    /// time, which needs synchronous access to a possibly cross-process
    /// navigable; engines resolve it when the message arrives, so a message
    /// posted while a navigation is under way can land in the new document.
    TargetWindowAtCallTime,
}

impl SpecIssue {
    /// Every issue, in bit order.
    pub const ALL: [SpecIssue; 2] = [SpecIssue::WindowReuse, SpecIssue::TargetWindowAtCallTime];

    /// The issue's address.
    pub fn url(self) -> &'static str {
        match self {
            SpecIssue::WindowReuse => "https://github.com/whatwg/html/issues/3267",
            SpecIssue::TargetWindowAtCallTime => "https://github.com/whatwg/html/issues/3691",
        }
    }

    /// One line: why the outcome is contested.
    pub fn reason(self) -> &'static str {
        match self {
            SpecIssue::WindowReuse => {
                "a message queued for the initial about:blank runs in the same-origin document that reuses its Window"
            }
            SpecIssue::TargetWindowAtCallTime => {
                "a message posted while the target's navigation was under way reaches the document that navigation committed"
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
