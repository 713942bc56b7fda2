//! Verdicts: how one run of a case in one engine compares with the model.
//!
//! As in wasmtime's differential oracles, a case never panics the run: it
//! ends as conforms, contested (only allowed outcomes and outcomes an open
//! issue of the HTML Standard leaves open), diverges (observed vs allowed),
//! inconclusive (with a reason), or internal-error when the harness itself
//! failed; a case whose session died under it twice (the browser or driver
//! crashed or hung, see [`crate::run::pool`]) is crashed, as wptrunner's
//! CRASH.

use pmconf_model::contested::ContestedOutcome;
use pmconf_model::Outcome;
use serde::{Deserialize, Serialize};

/// The verdict for one case in one engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    /// The observed outcome is one the model allows.
    Conforms,
    /// The observed outcomes are allowed or contested, at least one
    /// contested: the engine does what an open issue of the HTML Standard
    /// argues about (the result's `contested` list names the issue).
    Contested,
    /// The observed outcome is not one the model allows.
    Diverges,
    /// Nothing can be concluded (a page never loaded, a case timed out).
    Inconclusive {
        /// Why.
        reason: String,
    },
    /// The harness failed while running the case (driver error, bug).
    InternalError {
        /// What failed.
        reason: String,
    },
    /// The engine's session died while the case ran, and again when it was
    /// run once more in a fresh session (or the engine was given up).
    Crashed {
        /// How the session died, then the engine's last log lines.
        reason: String,
    },
}

impl Verdict {
    /// The short name used in reports: `conforms`, `contested`,
    /// `diverges`, `inconclusive`, `internal-error`, `crashed`.
    pub fn name(&self) -> &'static str {
        match self {
            Verdict::Conforms => "conforms",
            Verdict::Contested => "contested",
            Verdict::Diverges => "diverges",
            Verdict::Inconclusive { .. } => "inconclusive",
            Verdict::InternalError { .. } => "internal-error",
            Verdict::Crashed { .. } => "crashed",
        }
    }

    /// The reason, for inconclusive, internal-error and crashed verdicts.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Verdict::Inconclusive { reason }
            | Verdict::InternalError { reason }
            | Verdict::Crashed { reason } => Some(reason),
            _ => None,
        }
    }
}

/// What running a case produced before judging.
#[derive(Debug, Clone)]
pub enum Observation {
    /// Every window reported: this is what the page saw.
    Observed(Outcome),
    /// The case could not be observed completely.
    Inconclusive(String),
    /// The harness failed.
    InternalError(String),
    /// The engine's session died (see [`Verdict::Crashed`]).
    Crashed(String),
}

/// Judges an observation against the model's allowed and contested
/// outcomes.
pub fn judge(
    observation: &Observation,
    allowed: &[Outcome],
    contested: &[ContestedOutcome],
) -> Verdict {
    match observation {
        Observation::Observed(o) if o.is_in(allowed) => Verdict::Conforms,
        Observation::Observed(o) if contested.iter().any(|c| o.matches(&c.outcome)) => {
            Verdict::Contested
        }
        Observation::Observed(_) => Verdict::Diverges,
        Observation::Inconclusive(reason) => Verdict::Inconclusive {
            reason: reason.clone(),
        },
        Observation::InternalError(reason) => Verdict::InternalError {
            reason: reason.clone(),
        },
        Observation::Crashed(reason) => Verdict::Crashed {
            reason: reason.clone(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pmconf_model::{Delivery, PostOutcome};
    use serde_json::json;

    fn outcome(origin: &str) -> Outcome {
        Outcome {
            posts: vec![PostOutcome::returned(0)],
            received: vec![(
                "top".into(),
                vec![Delivery {
                    message: json!(1),
                    origin: origin.into(),
                    source: Some("child".into()),
                    ports: Vec::new(),
                }],
            )],
        }
    }

    #[test]
    fn observed_in_allowed_set_conforms() {
        let allowed = vec![outcome("http://a.test"), outcome("http://b.test")];
        assert_eq!(
            judge(
                &Observation::Observed(outcome("http://b.test")),
                &allowed,
                &[]
            ),
            Verdict::Conforms
        );
    }

    #[test]
    fn observed_outside_allowed_set_diverges() {
        let allowed = vec![outcome("http://a.test")];
        assert_eq!(
            judge(
                &Observation::Observed(outcome("http://A.test")),
                &allowed,
                &[]
            ),
            Verdict::Diverges
        );
        let mut different_source = outcome("http://a.test");
        different_source.received[0].1[0].source = None;
        assert_eq!(
            judge(&Observation::Observed(different_source), &allowed, &[]),
            Verdict::Diverges
        );
    }

    #[test]
    fn observed_in_the_contested_set_is_contested_not_divergent() {
        let allowed = vec![outcome("http://a.test")];
        let contested = vec![ContestedOutcome::new(
            outcome("http://b.test"),
            pmconf_model::contested::SpecIssue::WindowReuse.bit(),
            vec![],
        )];
        let judged = |o| judge(&Observation::Observed(o), &allowed, &contested);
        assert_eq!(judged(outcome("http://a.test")), Verdict::Conforms);
        assert_eq!(judged(outcome("http://b.test")), Verdict::Contested);
        assert_eq!(judged(outcome("http://c.test")), Verdict::Diverges);
        assert_eq!(Verdict::Contested.name(), "contested");
    }

    #[test]
    fn a_candidate_set_source_is_judged_as_the_window_it_holds() {
        // The receiving page could only say event.source was `child` or
        // `pop` (model/src/outcome.rs): allowed, contested or divergent as
        // the outcome with `child` would be.
        let allowed = vec![outcome("http://a.test")];
        let contested = vec![ContestedOutcome::new(
            outcome("http://b.test"),
            pmconf_model::contested::SpecIssue::WindowReuse.bit(),
            vec![],
        )];
        let candidates = |origin: &str, source: &str| {
            let mut o = outcome(origin);
            o.received[0].1[0].source = Some(source.into());
            judge(&Observation::Observed(o), &allowed, &contested)
        };
        assert_eq!(candidates("http://a.test", "?child|pop"), Verdict::Conforms);
        assert_eq!(
            candidates("http://b.test", "?pop|child"),
            Verdict::Contested
        );
        assert_eq!(candidates("http://a.test", "?pop|top"), Verdict::Diverges);
    }

    #[test]
    fn incomplete_observations_are_never_conforming() {
        let allowed = vec![outcome("http://a.test")];
        let v = judge(
            &Observation::Inconclusive("window child never loaded".into()),
            &allowed,
            &[],
        );
        assert_eq!(v.name(), "inconclusive");
        assert_eq!(v.reason(), Some("window child never loaded"));
        let v = judge(
            &Observation::InternalError("driver died".into()),
            &allowed,
            &[],
        );
        assert_eq!(v.name(), "internal-error");
        let v = judge(&Observation::Crashed("browser gone".into()), &allowed, &[]);
        assert_eq!(v.name(), "crashed");
        assert_eq!(v.reason(), Some("browser gone"));
    }

    #[test]
    fn verdict_serializes_with_a_tag() {
        assert_eq!(
            serde_json::to_value(Verdict::Conforms).unwrap(),
            json!({"verdict": "conforms"})
        );
        assert_eq!(
            serde_json::to_value(Verdict::Inconclusive { reason: "r".into() }).unwrap(),
            json!({"verdict": "inconclusive", "reason": "r"})
        );
        assert_eq!(
            serde_json::to_value(Verdict::Crashed { reason: "r".into() }).unwrap(),
            json!({"verdict": "crashed", "reason": "r"})
        );
    }
}
