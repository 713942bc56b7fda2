//! Gathering an engine's runs into case results, and running a case again
//! when its result was unexpected, as wptrunner's `--retry-unexpected`
//! reruns a test until it runs as expected.
//!
//! A race case is several runs (its repeats); they are judged together
//! once all are in. When the judged result's snapshot changed and retries
//! remain, the result is held back and every run of the case is queued to
//! run again in that engine; the next attempt is judged on its own, and
//! the held-back attempts travel with the final result.

use super::events::{CaseResult, EarlierAttempt, SnapshotStatus};
use super::verdict::Observation;
use pmconf_model::Outcome;
use std::collections::HashMap;
use std::time::Duration;

/// One run's observation and its share of wall time.
pub type Run = (Observation, Duration);

/// The bookkeeping of one run of the suite, across engines.
pub struct Attempts {
    /// The plan indices of each case (one per repeat), by case index.
    plans_of_case: Vec<Vec<usize>>,
    retry_unexpected: usize,
    /// Runs gathered until all of a case's are in, per (engine, case).
    gathering: HashMap<(String, usize), Vec<Run>>,
    /// Earlier unexpected attempts of cases being run again.
    held: HashMap<(String, usize), Vec<EarlierAttempt>>,
    /// Plans each engine is to run again when it finishes its pass.
    reruns: HashMap<String, Vec<usize>>,
}

impl Attempts {
    /// Bookkeeping for cases with these plans, run again at most
    /// `retry_unexpected` times each.
    pub fn new(plans_of_case: Vec<Vec<usize>>, retry_unexpected: usize) -> Self {
        Self {
            plans_of_case,
            retry_unexpected,
            gathering: HashMap::new(),
            held: HashMap::new(),
            reruns: HashMap::new(),
        }
    }

    /// Adds a run of case `case_index` in `engine`. Once all its runs are
    /// in, `judge` judges them, given the distinct outcomes earlier attempts
    /// observed (read off their histograms); the
    /// result is returned when it stands, or `None` while runs are missing
    /// or the case is queued to run again.
    pub fn add(
        &mut self,
        engine: &str,
        case_index: usize,
        run: Run,
        judge: impl FnOnce(Vec<Run>, &[Outcome]) -> CaseResult,
    ) -> Option<CaseResult> {
        let key = (engine.to_owned(), case_index);
        let runs = self.gathering.entry(key.clone()).or_default();
        runs.push(run);
        if runs.len() < self.plans_of_case[case_index].len() {
            return None;
        }
        let runs = self.gathering.remove(&key).expect("just gathered");
        let mut earlier = self.held.remove(&key).unwrap_or_default();
        let seen_earlier: Vec<Outcome> = earlier
            .iter()
            .flat_map(|a| a.histogram.iter().map(|bar| bar.outcome.clone()))
            .collect();
        let mut result = judge(runs, &seen_earlier);
        // Only a changed snapshot is worth another attempt: an inconclusive
        // run was already retried once by its engine, and a new snapshot
        // stays new however often it runs.
        let again = matches!(result.snapshot, SnapshotStatus::Changed { .. })
            && earlier.len() < self.retry_unexpected;
        if again {
            earlier.push(EarlierAttempt {
                verdict: result.verdict,
                runs: result.runs,
                histogram: result.histogram,
                snapshot: result.snapshot,
            });
            self.held.insert(key, earlier);
            self.reruns
                .entry(engine.to_owned())
                .or_default()
                .extend(&self.plans_of_case[case_index]);
            return None;
        }
        result.earlier_attempts = earlier;
        Some(result)
    }

    /// The plans `engine` is to run again (empty when none), taken.
    pub fn take_reruns(&mut self, engine: &str) -> Vec<usize> {
        self.reruns.remove(engine).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::events::OutcomeCount;
    use crate::run::verdict::Verdict;
    use pmconf_model::Delivery;

    fn run() -> Run {
        (Observation::Inconclusive("fixture".into()), Duration::ZERO)
    }

    fn changed() -> SnapshotStatus {
        SnapshotStatus::Changed {
            pending: "x.snap.new".into(),
            diff: "-a\n+b\n".into(),
        }
    }

    /// The outcome attempt `n` of the judge below observes in every run:
    /// a delivery whose origin carries the attempt's number.
    fn outcome_of_attempt(n: usize) -> Outcome {
        Outcome {
            posts: vec![],
            received: vec![(
                "top".into(),
                vec![Delivery {
                    message: "m".into(),
                    origin: format!("http://attempt{n}.test"),
                    source: None,
                    ports: Vec::new(),
                }],
            )],
        }
    }

    /// A judge that gives each attempt the next status of `statuses`,
    /// and records the runs it was given and what it was told earlier
    /// attempts saw.
    struct Judge {
        statuses: Vec<SnapshotStatus>,
        calls: Vec<(usize, Vec<Outcome>)>,
    }

    impl Judge {
        fn judge(&mut self, runs: Vec<Run>, earlier: &[Outcome]) -> CaseResult {
            let attempt = self.calls.len();
            self.calls.push((runs.len(), earlier.to_vec()));
            let mut result = CaseResult::bare(
                "chromium",
                "cases/races/x.yaml",
                Verdict::Diverges,
                self.statuses[attempt].clone(),
            );
            result.runs = runs.len();
            result.histogram = vec![OutcomeCount {
                outcome: outcome_of_attempt(attempt),
                count: runs.len(),
                allowed: false,
            }];
            result
        }
    }

    #[test]
    fn a_case_is_judged_once_all_its_runs_are_in() {
        let mut attempts = Attempts::new(vec![vec![0, 1, 2], vec![3]], 2);
        let mut judge = Judge {
            statuses: vec![SnapshotStatus::Matched],
            calls: vec![],
        };
        assert!(attempts
            .add("chromium", 0, run(), |r, e| judge.judge(r, e))
            .is_none());
        assert!(attempts
            .add("chromium", 0, run(), |r, e| judge.judge(r, e))
            .is_none());
        // Another engine's run of the same case is gathered apart.
        assert!(attempts
            .add("firefox", 0, run(), |r, e| judge.judge(r, e))
            .is_none());
        let result = attempts.add("chromium", 0, run(), |r, e| judge.judge(r, e));
        let result = result.expect("three runs in");
        assert_eq!((result.runs, result.earlier_attempts.len()), (3, 0));
        assert_eq!(judge.calls, vec![(3, vec![])]);
        assert!(attempts.take_reruns("chromium").is_empty());
    }

    #[test]
    fn a_changed_snapshot_runs_every_repeat_again_and_a_match_ends_it_as_flaky() {
        let mut attempts = Attempts::new(vec![vec![0], vec![1, 2]], 2);
        let mut judge = Judge {
            statuses: vec![changed(), SnapshotStatus::Matched],
            calls: vec![],
        };
        assert!(attempts
            .add("webkitgtk", 1, run(), |r, e| judge.judge(r, e))
            .is_none());
        assert!(attempts
            .add("webkitgtk", 1, run(), |r, e| judge.judge(r, e))
            .is_none());
        assert_eq!(attempts.take_reruns("webkitgtk"), vec![1, 2]);
        assert!(attempts.take_reruns("webkitgtk").is_empty(), "taken once");
        assert!(attempts
            .add("webkitgtk", 1, run(), |r, e| judge.judge(r, e))
            .is_none());
        let result = attempts
            .add("webkitgtk", 1, run(), |r, e| judge.judge(r, e))
            .expect("the retry is judged");
        // The second judgement was told what the first attempt saw.
        assert_eq!(
            judge.calls,
            vec![(2, vec![]), (2, vec![outcome_of_attempt(0)])]
        );
        assert_eq!(result.snapshot, SnapshotStatus::Matched);
        assert_eq!(result.earlier_attempts.len(), 1);
        assert_eq!(result.earlier_attempts[0].snapshot, changed());
        assert_eq!(result.earlier_attempts[0].runs, 2);
        assert!(result.is_flaky() && !result.is_unexpected());
    }

    #[test]
    fn retries_stop_after_the_limit_and_the_last_attempt_stands_unexpected() {
        let mut attempts = Attempts::new(vec![vec![0]], 2);
        let mut judge = Judge {
            statuses: vec![changed(), changed(), changed(), changed()],
            calls: vec![],
        };
        assert!(attempts
            .add("firefox", 0, run(), |r, e| judge.judge(r, e))
            .is_none());
        assert_eq!(attempts.take_reruns("firefox"), vec![0]);
        assert!(attempts
            .add("firefox", 0, run(), |r, e| judge.judge(r, e))
            .is_none());
        assert_eq!(attempts.take_reruns("firefox"), vec![0]);
        let result = attempts
            .add("firefox", 0, run(), |r, e| judge.judge(r, e))
            .expect("no retries left");
        // Each attempt is told what every earlier one saw.
        let told: Vec<Vec<Outcome>> = judge.calls.into_iter().map(|c| c.1).collect();
        assert_eq!(
            told,
            vec![
                vec![],
                vec![outcome_of_attempt(0)],
                vec![outcome_of_attempt(0), outcome_of_attempt(1)],
            ]
        );
        assert_eq!(result.earlier_attempts.len(), 2);
        assert!(result.is_unexpected() && !result.is_flaky());
        assert!(attempts.take_reruns("firefox").is_empty());
    }

    #[test]
    fn a_new_snapshot_and_no_retries_are_final_at_once() {
        let new = SnapshotStatus::New {
            pending: "x.snap.new".into(),
        };
        for (status, limit) in [(new, 2), (changed(), 0)] {
            let mut attempts = Attempts::new(vec![vec![0]], limit);
            let mut judge = Judge {
                statuses: vec![status],
                calls: vec![],
            };
            let result = attempts.add("chromium", 0, run(), |r, e| judge.judge(r, e));
            assert!(result.expect("final").earlier_attempts.is_empty());
            assert!(attempts.take_reruns("chromium").is_empty());
        }
    }
}
