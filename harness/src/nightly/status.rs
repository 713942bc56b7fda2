//! The status of one case in one engine on one night, as the history and
//! the diffs compare it: whether it conforms, is contested, how it
//! diverges, whether it concluded at all, and whether it was flaky.

use crate::run::events::CaseResult;
use serde::{Deserialize, Serialize};

/// What one result says, reduced to what nights are compared on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Status {
    /// Every observed outcome is allowed.
    Conforms,
    /// Every observed outcome is allowed or contested (left open by an
    /// open issue of the HTML Standard), at least one contested:
    /// concluded, and not a divergence.
    Contested,
    /// Some observed outcome is not allowed; `divergence` is the sorted
    /// canonical keys of the outcomes observed that the model forbids (so
    /// two divergences are the same when they saw the same forbidden
    /// outcomes).
    Diverges {
        /// The forbidden outcomes observed, canonical and sorted.
        divergence: Vec<String>,
    },
    /// No conclusion: the verdict's name (`inconclusive`,
    /// `internal-error`, `crashed`, or any verdict this reader does not
    /// know).
    Unconcluded {
        /// The verdict.
        verdict: String,
    },
}

impl Status {
    /// The status of `result`. Verdicts are read by name, so a verdict
    /// added later reads as unconcluded rather than failing.
    pub fn of(result: &CaseResult) -> Self {
        match result.verdict.name() {
            "conforms" => Status::Conforms,
            "contested" => Status::Contested,
            "diverges" => Status::Diverges {
                divergence: divergence(result),
            },
            other => Status::Unconcluded {
                verdict: other.to_owned(),
            },
        }
    }

    /// The short word for it: `conforms`, `contested`, `diverges`, or
    /// the verdict.
    pub fn word(&self) -> &str {
        match self {
            Status::Conforms => "conforms",
            Status::Contested => "contested",
            Status::Diverges { .. } => "diverges",
            Status::Unconcluded { verdict } => verdict,
        }
    }

    /// Whether it concluded (conforms, contested or diverges).
    pub fn concluded(&self) -> bool {
        !matches!(self, Status::Unconcluded { .. })
    }
}

/// A status with the flaky mark ([`CaseResult::is_flaky`]) and the
/// unexpected mark ([`CaseResult::is_unexpected`]: its snapshot did not
/// match the accepted one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaseStatus {
    /// The status.
    #[serde(flatten)]
    pub status: Status,
    /// Unexpected at first and as expected when run again.
    pub flaky: bool,
    /// Not what the accepted snapshot says (or no conclusion).
    pub unexpected: bool,
}

impl CaseStatus {
    /// The status of `result`.
    pub fn of(result: &CaseResult) -> Self {
        CaseStatus {
            status: Status::of(result),
            flaky: result.is_flaky(),
            unexpected: result.is_unexpected(),
        }
    }

    /// E.g. `conforms`, `conforms (flaky)`, `diverges (unexpected)`,
    /// `diverges (accepted)` (a divergence its accepted snapshot records:
    /// *accepted*, never *known*, which is kept for the filed links of
    /// `known-divergences.yaml`). A result that did not conclude is always
    /// unexpected, and not marked.
    pub fn label(&self) -> String {
        let mut label = self.status.word().to_owned();
        if self.flaky {
            label.push_str(" (flaky)");
        }
        if self.unexpected && self.status.concluded() {
            label.push_str(" (unexpected)");
        } else if self.is_accepted_divergence() {
            label.push_str(" (accepted)");
        }
        label
    }

    /// A divergence whose snapshot matched the accepted one.
    pub fn is_accepted_divergence(&self) -> bool {
        matches!(self.status, Status::Diverges { .. }) && !self.unexpected
    }
}

/// The forbidden outcomes a result observed: its histogram's bars the
/// model does not allow, and its observed outcome when not allowed.
fn divergence(result: &CaseResult) -> Vec<String> {
    let mut keys: Vec<String> = result
        .histogram
        .iter()
        .filter(|bar| !bar.allowed)
        .map(|bar| bar.outcome.canonical_key())
        .collect();
    if let Some(observed) = &result.observed {
        if !observed.is_in(&result.allowed) {
            keys.push(observed.canonical_key());
        }
    }
    keys.sort();
    keys.dedup();
    keys
}

/// The model's answer of a result as comparable text (sorted canonical
/// keys), to tell whether the model changed between two nights.
pub fn model_answer(result: &CaseResult) -> Vec<String> {
    let mut keys: Vec<String> = result.allowed.iter().map(|o| o.canonical_key()).collect();
    keys.sort();
    keys.dedup();
    keys
}

/// What a result observed as comparable text: its observed outcome and
/// the outcomes of its histogram (canonical keys, not counts: a race
/// case's counts vary from night to night), to tell an engine that saw
/// the same as the night before from one that did not.
pub fn observation(result: &CaseResult) -> (Option<String>, Vec<String>) {
    let mut bars: Vec<String> = result
        .histogram
        .iter()
        .map(|bar| bar.outcome.canonical_key())
        .collect();
    bars.sort();
    (result.observed.as_ref().map(|o| o.canonical_key()), bars)
}
