//! What a race campaign found, computed from the run's results: the
//! divergences (observed outcomes outside the allowed and contested set,
//! with their histogram) and each engine's tally (runs, throughput,
//! harness faults).

use crate::run::events::{CaseResult, OutcomeCount};
use crate::run::verdict::Verdict;
use pmconf_model::Outcome;
use serde::Serialize;

/// A generated case that diverged in one engine.
#[derive(Debug, Clone, Serialize)]
pub struct Divergence {
    /// The case (`race-<seed>-<index>`).
    pub case: String,
    /// The engine.
    pub engine: String,
    /// Runs made, observed or not.
    pub runs: usize,
    /// Every observed outcome with its count and whether it is allowed.
    pub histogram: Vec<OutcomeCount>,
    /// The outcomes neither allowed nor contested, with their counts.
    pub unallowed: Vec<(Outcome, usize)>,
}

impl Divergence {
    /// Runs that saw an outcome neither allowed nor contested.
    pub fn unallowed_runs(&self) -> usize {
        self.unallowed.iter().map(|u| u.1).sum()
    }
}

/// The divergences among `results`: each result with an observed outcome
/// that is neither allowed nor contested (whatever its verdict: a case
/// with a crashed repeat is crashed, but what its other repeats saw counts).
pub fn divergences(results: &[CaseResult]) -> Vec<Divergence> {
    results
        .iter()
        .filter_map(|r| {
            let unallowed: Vec<(Outcome, usize)> = r
                .histogram
                .iter()
                .filter(|b| !b.allowed && r.contested_as(&b.outcome).is_none())
                .map(|b| (b.outcome.clone(), b.count))
                .collect();
            (!unallowed.is_empty()).then(|| Divergence {
                case: strip_yaml(&r.case).to_owned(),
                engine: r.engine.clone(),
                runs: r.runs,
                histogram: r.histogram.clone(),
                unallowed,
            })
        })
        .collect()
}

/// A case name without its `.yaml`.
pub fn strip_yaml(name: &str) -> &str {
    name.strip_suffix(".yaml").unwrap_or(name)
}

/// One engine's counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EngineTally {
    /// The engine.
    pub engine: String,
    /// Cases with a result.
    pub cases: usize,
    /// Runs made (repeats count one each).
    pub runs: usize,
    /// Runs that observed an outcome.
    pub observed_runs: usize,
    /// Seconds the engine spent running cases.
    pub seconds: f64,
    /// Cases whose verdict is inconclusive.
    pub inconclusive: usize,
    /// Cases whose verdict is an internal error.
    pub internal_error: usize,
    /// Cases whose verdict is crashed.
    pub crashed: usize,
    /// Cases with an outcome neither allowed nor contested.
    pub diverged: usize,
    /// Cases whose verdict is contested.
    pub contested: usize,
}

impl EngineTally {
    /// Runs per second.
    pub fn runs_per_second(&self) -> f64 {
        self.runs as f64 / self.seconds.max(1e-9)
    }

    /// Harness faults: runs that observed nothing (inconclusive, internal
    /// error or crashed repeats).
    pub fn faults(&self) -> usize {
        self.runs - self.observed_runs
    }
}

/// Each engine's tally, in the order of `engine_seconds`, then any engine
/// with results but no timing.
pub fn tallies(results: &[CaseResult], engine_seconds: &[(String, f64)]) -> Vec<EngineTally> {
    let mut out: Vec<EngineTally> = engine_seconds
        .iter()
        .map(|(engine, seconds)| EngineTally {
            engine: engine.clone(),
            seconds: *seconds,
            ..EngineTally::default()
        })
        .collect();
    for r in results {
        let i = match out.iter().position(|t| t.engine == r.engine) {
            Some(i) => i,
            None => {
                out.push(EngineTally {
                    engine: r.engine.clone(),
                    ..EngineTally::default()
                });
                out.len() - 1
            }
        };
        let t = &mut out[i];
        t.cases += 1;
        t.runs += r.runs;
        t.observed_runs += r.runs - r.unobserved_runs;
        match r.verdict {
            Verdict::Inconclusive { .. } => t.inconclusive += 1,
            Verdict::InternalError { .. } => t.internal_error += 1,
            Verdict::Crashed { .. } => t.crashed += 1,
            Verdict::Contested => t.contested += 1,
            Verdict::Conforms | Verdict::Diverges => {}
        }
    }
    for d in divergences(results) {
        if let Some(t) = out.iter_mut().find(|t| t.engine == d.engine) {
            t.diverged += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::events::SnapshotStatus;
    use pmconf_model::contested::ContestedOutcome;
    use pmconf_model::{Delivery, Outcome};

    fn outcome(doc: &str) -> Outcome {
        let d = Delivery {
            message: serde_json::json!("m0"),
            origin: "http://a.test".into(),
            source: Some("top".into()),
            ports: Vec::new(),
        };
        Outcome {
            posts: vec![],
            received: vec![(doc.to_owned(), vec![d])],
        }
    }

    fn result(
        engine: &str,
        case: &str,
        verdict: Verdict,
        bars: &[(&str, usize, bool)],
    ) -> CaseResult {
        let mut r = CaseResult::bare(engine, case, verdict, SnapshotStatus::NotCompared);
        r.histogram = bars
            .iter()
            .map(|&(doc, count, allowed)| OutcomeCount {
                outcome: outcome(doc),
                count,
                allowed,
            })
            .collect();
        r.runs = bars.iter().map(|b| b.1).sum();
        r
    }

    #[test]
    fn an_outcome_neither_allowed_nor_contested_is_a_divergence() {
        let mut contested = result(
            "firefox",
            "race-1-1.yaml",
            Verdict::Contested,
            &[("child", 3, true), ("child@1", 2, false)],
        );
        contested.contested = vec![ContestedOutcome {
            outcome: outcome("child@1"),
            issues: vec!["https://github.com/whatwg/html/issues/3691".into()],
            reasons: vec!["r".into()],
            schedule: vec![],
        }];
        let results = vec![
            result(
                "chromium",
                "race-1-0.yaml",
                Verdict::Diverges,
                &[("child", 3, true), ("child@1", 2, false)],
            ),
            contested,
            result(
                "webkitgtk",
                "race-1-2.yaml",
                Verdict::Conforms,
                &[("child", 5, true)],
            ),
        ];
        let found = divergences(&results);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].case, "race-1-0");
        assert_eq!(found[0].engine, "chromium");
        assert_eq!(found[0].unallowed_runs(), 2);
        assert_eq!(found[0].unallowed[0].0, outcome("child@1"));
    }

    #[test]
    fn a_crashed_case_still_shows_what_its_other_repeats_saw() {
        let mut r = result(
            "chromium",
            "race-1-0.yaml",
            Verdict::Crashed {
                reason: "gone".into(),
            },
            &[("child@1", 4, false)],
        );
        r.runs = 5;
        r.unobserved_runs = 1;
        let t = tallies(&[r.clone()], &[("chromium".into(), 2.0)]);
        assert_eq!(t[0].crashed, 1);
        assert_eq!(t[0].runs, 5);
        assert_eq!(t[0].faults(), 1);
        assert_eq!(t[0].diverged, 1);
        assert!((t[0].runs_per_second() - 2.5).abs() < 1e-9);
        assert_eq!(divergences(&[r]).len(), 1);
    }
}
