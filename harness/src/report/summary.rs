//! Counting results: per engine and for the whole run, and the one-line
//! verdict every report ends with.

use super::record::RunRecord;
use crate::run::events::{CaseResult, SnapshotStatus};
use crate::run::verdict::Verdict;

/// Result counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Results that conform.
    pub conforms: usize,
    /// Results that are contested (allowed or contested outcomes only).
    pub contested: usize,
    /// Results that diverge, accepted or not.
    pub diverges: usize,
    /// Accepted divergences: their snapshot matched (or was accepted),
    /// so they do not fail the run. Not to be confused with *known*
    /// divergences, those `known-divergences.yaml` links to a filed bug.
    pub accepted_divergences: usize,
    /// Inconclusive results.
    pub inconclusive: usize,
    /// Internal errors.
    pub internal_error: usize,
    /// Cases whose engine's session died under them, twice.
    pub crashed: usize,
    /// Results that make the run fail ([`CaseResult::is_unexpected`]).
    pub unexpected: usize,
    /// Results with a new (pending) snapshot.
    pub new_snapshots: usize,
    /// Of those, the ones that conform (or are contested): a new case to
    /// review, which fails the run (exit 1) without anything being wrong.
    pub new_to_review: usize,
    /// Results whose snapshot changed (pending).
    pub changed_snapshots: usize,
    /// Results whose snapshot was written as accepted.
    pub accepted_snapshots: usize,
    /// Runs: one per result, except race cases run `--repeat` times.
    pub runs: usize,
    /// Runs that observed nothing (inconclusive or internal error), among
    /// `runs`.
    pub unobserved_runs: usize,
    /// Results that were unexpected at first and as expected when run
    /// again ([`CaseResult::is_flaky`]); they do not fail the run.
    pub flaky: usize,
}

impl Counts {
    /// Counts one result.
    pub fn add(&mut self, result: &CaseResult) {
        match result.verdict {
            Verdict::Conforms => self.conforms += 1,
            Verdict::Contested => self.contested += 1,
            Verdict::Diverges => self.diverges += 1,
            Verdict::Inconclusive { .. } => self.inconclusive += 1,
            Verdict::InternalError { .. } => self.internal_error += 1,
            Verdict::Crashed { .. } => self.crashed += 1,
        }
        if result.verdict == Verdict::Diverges && !result.is_unexpected() {
            self.accepted_divergences += 1;
        }
        if result.is_unexpected() {
            self.unexpected += 1;
        }
        match result.snapshot {
            SnapshotStatus::New { .. }
                if matches!(result.verdict, Verdict::Conforms | Verdict::Contested) =>
            {
                self.new_snapshots += 1;
                self.new_to_review += 1;
            }
            SnapshotStatus::New { .. } => self.new_snapshots += 1,
            SnapshotStatus::Changed { .. } => self.changed_snapshots += 1,
            SnapshotStatus::Accepted => self.accepted_snapshots += 1,
            SnapshotStatus::Matched | SnapshotStatus::NotCompared => {}
        }
        if result.is_flaky() {
            self.flaky += 1;
        }
        // Every run counts, those of attempts that were run again too.
        self.runs += result.runs
            + result
                .earlier_attempts
                .iter()
                .map(|a| a.runs)
                .sum::<usize>();
        self.unobserved_runs += result.unobserved_runs;
    }

    /// The counts of `results`.
    pub fn of<'a>(results: impl IntoIterator<Item = &'a CaseResult>) -> Self {
        let mut counts = Self::default();
        for result in results {
            counts.add(result);
        }
        counts
    }

    /// All results counted.
    pub fn total(&self) -> usize {
        self.conforms
            + self.contested
            + self.diverges
            + self.inconclusive
            + self.internal_error
            + self.crashed
    }
}

/// One engine's counts.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineSummary {
    /// The engine.
    pub engine: String,
    /// Its browser version, if its session came up.
    pub browser_version: Option<String>,
    /// Its results, counted.
    pub counts: Counts,
    /// Distinct cases per second: its results over the seconds
    /// `EngineEnd` measured (race repeats and retries are not cases).
    pub cases_per_second: Option<f64>,
}

/// The whole run, counted.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    /// One entry per engine that ran cases, in report order.
    pub engines: Vec<EngineSummary>,
    /// Engines requested (or otherwise seen).
    pub engines_requested: usize,
    /// Engines that could not be set up.
    pub setup_failed: Vec<String>,
    /// Cases per engine.
    pub cases_per_engine: usize,
    /// All engines' counts added up.
    pub totals: Counts,
    /// Whether the run ended (`SuiteEnd`) rather than being cut short.
    pub complete: bool,
    /// Cases whose model snapshot is new (pending review).
    pub model_new: usize,
    /// Cases whose model snapshot changed (pending review).
    pub model_changed: usize,
    /// Cases whose model snapshot was written as accepted.
    pub model_accepted: usize,
}

impl RunSummary {
    /// Counts a record.
    pub fn of(record: &RunRecord) -> Self {
        let model_count = |which: fn(&SnapshotStatus) -> bool| {
            record
                .model_snapshots
                .iter()
                .filter(|m| which(&m.snapshot))
                .count()
        };
        let engines: Vec<EngineSummary> = record
            .running_engines()
            .into_iter()
            .map(|engine| EngineSummary {
                engine: engine.to_owned(),
                browser_version: record.browser_version(engine).map(str::to_owned),
                counts: Counts::of(record.results_of(engine)),
                // Distinct cases (one result each), however often each ran.
                cases_per_second: record.timing(engine).and_then(|t| {
                    let cases = record.results_of(engine).count();
                    (t.seconds > 0.0).then(|| cases as f64 / t.seconds)
                }),
            })
            .collect();
        Self {
            engines,
            engines_requested: record.all_engines().len(),
            setup_failed: record
                .setup_failures
                .iter()
                .map(|f| f.engine.clone())
                .collect(),
            cases_per_engine: record.cases_per_engine,
            totals: Counts::of(&record.results),
            complete: record.is_complete(),
            model_new: model_count(|s| matches!(s, SnapshotStatus::New { .. })),
            model_changed: model_count(|s| matches!(s, SnapshotStatus::Changed { .. })),
            model_accepted: model_count(|s| *s == SnapshotStatus::Accepted),
        }
    }

    /// What makes the run fail: unexpected results, pending model
    /// snapshots, and engines that could not be set up. The same count as
    /// every report's "needs action" list.
    pub fn unexpected(&self) -> usize {
        self.totals.unexpected + self.model_pending() + self.setup_failed.len()
    }

    /// Cases whose model snapshot is pending review (new or changed).
    pub fn model_pending(&self) -> usize {
        self.model_new + self.model_changed
    }

    /// Whether the run passes: it ended, and nothing was unexpected.
    pub fn passed(&self) -> bool {
        self.complete && self.unexpected() == 0
    }

    /// Whether all that keeps the run from passing is new snapshots to
    /// review: new cases that conform (or are contested) and new model
    /// snapshots. Such a run still fails (exit 1, nothing is accepted
    /// unreviewed), but nothing in it is wrong: its verdict says `needs
    /// review`, not `FAILED`.
    pub fn needs_review_only(&self) -> bool {
        self.complete
            && !self.passed()
            && self.setup_failed.is_empty()
            && self.model_changed == 0
            && self.totals.unexpected == self.totals.new_to_review
    }

    /// The one-line verdict, e.g. `pmconf: 3 engines, 56 cases each: 160
    /// conform, 8 diverge (accepted: 8), 0 inconclusive, 0 internal errors;
    /// snapshots: all match => ok`.
    pub fn verdict_line(&self) -> String {
        let t = &self.totals;
        let mut line = String::from(if self.complete {
            "pmconf: "
        } else {
            "pmconf (run cut short): "
        });
        line.push_str(&plural(self.engines_requested, "engine", "engines"));
        if !self.setup_failed.is_empty() {
            line.push_str(&format!(
                " ({} failed to start: {})",
                self.setup_failed.len(),
                self.setup_failed.join(", ")
            ));
        }
        line.push_str(&format!(
            ", {} each: {} conform, {} diverge (accepted: {}), {} inconclusive, {}; snapshots: {}",
            plural(self.cases_per_engine, "case", "cases"),
            t.conforms,
            t.diverges,
            t.accepted_divergences,
            t.inconclusive,
            plural(t.internal_error, "internal error", "internal errors"),
            self.snapshot_words(),
        ));
        if t.contested > 0 {
            line.push_str(&format!("; contested: {}", t.contested));
        }
        if t.crashed > 0 {
            line.push_str(&format!("; crashed: {}", t.crashed));
        }
        if t.flaky > 0 {
            line.push_str(&format!(
                "; flaky: {} (as expected only when run again)",
                t.flaky
            ));
        }
        if self.passed() {
            line.push_str(" => ok");
        } else if self.needs_review_only() {
            line.push_str(&format!(" => needs review ({} new)", self.unexpected()));
        } else {
            line.push_str(&format!(" => FAILED ({} unexpected)", self.unexpected()));
        }
        line
    }

    /// `all match`, or what did not (`2 new, 1 changed`), the engines'
    /// snapshots then the model's (`1 new, model: 1 changed`).
    fn snapshot_words(&self) -> String {
        let t = &self.totals;
        let words = |counts: [(usize, &str); 3]| -> Vec<String> {
            counts
                .iter()
                .filter(|(n, _)| *n > 0)
                .map(|(n, what)| format!("{n} {what}"))
                .collect()
        };
        let engines = words([
            (t.new_snapshots, "new"),
            (t.changed_snapshots, "changed"),
            (t.accepted_snapshots, "accepted"),
        ]);
        let model = words([
            (self.model_new, "new"),
            (self.model_changed, "changed"),
            (self.model_accepted, "accepted"),
        ]);
        match (engines.is_empty(), model.is_empty()) {
            (true, true) => "all match".to_owned(),
            (false, true) => engines.join(", "),
            (true, false) => format!("model: {}", model.join(", ")),
            (false, false) => format!("{}, model: {}", engines.join(", "), model.join(", ")),
        }
    }
}

/// `1 run`, `2 runs`.
pub(crate) fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::events::{EngineInfo, RunEvent};

    fn case_result(engine: &str, verdict: Verdict, snapshot: SnapshotStatus) -> CaseResult {
        CaseResult::bare(engine, "c.yaml", verdict, snapshot)
    }

    fn result(engine: &str, verdict: Verdict, snapshot: SnapshotStatus) -> RunEvent {
        RunEvent::CaseEnd(case_result(engine, verdict, snapshot))
    }

    fn start(engine: &str) -> RunEvent {
        RunEvent::EngineStart(EngineInfo {
            engine: engine.into(),
            browser_version: "1.0".into(),
        })
    }

    #[test]
    fn a_divergence_is_known_only_while_its_snapshot_matches() {
        let counts = Counts::of(&[
            case_result("e", Verdict::Diverges, SnapshotStatus::Matched),
            case_result("e", Verdict::Diverges, SnapshotStatus::Accepted),
            case_result(
                "e",
                Verdict::Diverges,
                SnapshotStatus::Changed {
                    pending: "p".into(),
                    diff: "d".into(),
                },
            ),
            case_result(
                "e",
                Verdict::Conforms,
                SnapshotStatus::New {
                    pending: "p".into(),
                },
            ),
        ]);
        assert_eq!(
            (
                counts.diverges,
                counts.accepted_divergences,
                counts.unexpected
            ),
            (3, 2, 2)
        );
        assert_eq!(
            (
                counts.new_snapshots,
                counts.changed_snapshots,
                counts.accepted_snapshots
            ),
            (1, 1, 1)
        );
        assert_eq!(counts.total(), 4);
        assert_eq!((counts.runs, counts.unobserved_runs), (4, 0));
        let race = CaseResult {
            runs: 5,
            unobserved_runs: 2,
            ..case_result("e", Verdict::Conforms, SnapshotStatus::Matched)
        };
        let counts = Counts::of(&[race.clone(), race]);
        assert_eq!(
            (counts.total(), counts.runs, counts.unobserved_runs),
            (2, 10, 4)
        );
    }

    #[test]
    fn a_clean_run_passes_with_accepted_divergences() {
        let record = RunRecord::from_events(&[
            RunEvent::SuiteStart {
                engines: vec!["chromium".into(), "firefox".into()],
                cases: 2,
            },
            start("chromium"),
            start("firefox"),
            result("chromium", Verdict::Conforms, SnapshotStatus::Matched),
            result("chromium", Verdict::Diverges, SnapshotStatus::Matched),
            result("firefox", Verdict::Conforms, SnapshotStatus::Matched),
            result("firefox", Verdict::Conforms, SnapshotStatus::Matched),
            RunEvent::SuiteEnd { seconds: 1.0 },
        ]);
        let summary = RunSummary::of(&record);
        assert!(summary.passed());
        assert_eq!(
            summary.verdict_line(),
            "pmconf: 2 engines, 2 cases each: 3 conform, 1 diverge (accepted: 1), 0 inconclusive, \
             0 internal errors; snapshots: all match => ok"
        );
    }

    /// A new case whose engine snapshot was accepted but whose model
    /// snapshot was skipped in review: the run fails on the model's
    /// pending snapshot, and the verdict line says so (it said
    /// `all match => ok` while the run exited 1): a review to do.
    #[test]
    fn a_pending_model_snapshot_fails_the_run_and_is_counted() {
        let record = RunRecord::from_events(&[
            RunEvent::ModelSnapshot(crate::run::events::ModelSnapshotResult {
                case: "cases/mine/new.yaml".into(),
                snapshot: SnapshotStatus::New {
                    pending: "snapshots/model/mine__new.snap.new".into(),
                },
            }),
            RunEvent::SuiteStart {
                engines: vec!["chromium".into()],
                cases: 1,
            },
            start("chromium"),
            result("chromium", Verdict::Conforms, SnapshotStatus::Matched),
            RunEvent::SuiteEnd { seconds: 1.0 },
        ]);
        let summary = RunSummary::of(&record);
        assert!(!summary.passed());
        assert_eq!(summary.unexpected(), 1);
        assert_eq!(
            summary.verdict_line(),
            "pmconf: 1 engine, 1 case each: 1 conform, 0 diverge (accepted: 0), 0 inconclusive, \
             0 internal errors; snapshots: model: 1 new => needs review (1 new)"
        );
    }

    /// Issue 27 item 6: a run whose only unexpected results are new cases
    /// that conform (and new model snapshots) still fails (exit 1: nothing
    /// is accepted unreviewed), but nothing in it is wrong, so its verdict
    /// asks for a review instead of saying FAILED. A new divergence, a
    /// changed snapshot or a case that concluded nothing is FAILED. On main
    /// every one of these said `=> FAILED`.
    #[test]
    fn new_conforming_cases_need_review_and_anything_wrong_fails() {
        let new = || SnapshotStatus::New {
            pending: "p".into(),
        };
        let verdict = |extra: Vec<RunEvent>| {
            let mut events = vec![
                RunEvent::ModelSnapshot(crate::run::events::ModelSnapshotResult {
                    case: "cases/mine/new.yaml".into(),
                    snapshot: new(),
                }),
                RunEvent::SuiteStart {
                    engines: vec!["chromium".into()],
                    cases: 2,
                },
                start("chromium"),
                result("chromium", Verdict::Conforms, new()),
                result("chromium", Verdict::Contested, new()),
            ];
            events.extend(extra);
            events.push(RunEvent::SuiteEnd { seconds: 1.0 });
            let summary = RunSummary::of(&RunRecord::from_events(&events));
            assert!(!summary.passed(), "exit 1 either way");
            summary.verdict_line()
        };
        let line = verdict(vec![]);
        assert!(
            line.ends_with("snapshots: 2 new, model: 1 new; contested: 1 => needs review (3 new)"),
            "{line}"
        );
        let line = verdict(vec![result("chromium", Verdict::Diverges, new())]);
        assert!(line.ends_with(" => FAILED (4 unexpected)"), "{line}");
        let changed = SnapshotStatus::Changed {
            pending: "p".into(),
            diff: "d".into(),
        };
        let line = verdict(vec![result("chromium", Verdict::Conforms, changed)]);
        assert!(line.ends_with(" => FAILED (4 unexpected)"), "{line}");
        let inconclusive = Verdict::Inconclusive { reason: "r".into() };
        let line = verdict(vec![result(
            "chromium",
            inconclusive,
            SnapshotStatus::NotCompared,
        )]);
        assert!(line.ends_with(" => FAILED (4 unexpected)"), "{line}");
    }

    #[test]
    fn setup_failures_and_cut_short_runs_fail() {
        let mut events = vec![
            RunEvent::SuiteStart {
                engines: vec!["chromium".into(), "webkitgtk".into()],
                cases: 1,
            },
            start("chromium"),
            RunEvent::EngineSetupFailed {
                engine: "webkitgtk".into(),
                error: "no driver".into(),
            },
            result(
                "chromium",
                Verdict::InternalError { reason: "r".into() },
                SnapshotStatus::NotCompared,
            ),
        ];
        let cut_short = RunSummary::of(&RunRecord::from_events(&events));
        assert!(!cut_short.passed());
        assert!(
            cut_short
                .verdict_line()
                .starts_with("pmconf (run cut short): "),
            "{}",
            cut_short.verdict_line()
        );
        events.push(RunEvent::SuiteEnd { seconds: 1.0 });
        let summary = RunSummary::of(&RunRecord::from_events(&events));
        assert_eq!(summary.unexpected(), 2);
        assert_eq!(
            summary.engines.len(),
            1,
            "an engine that never started has no counts"
        );
        assert_eq!(
            summary.verdict_line(),
            "pmconf: 2 engines (1 failed to start: webkitgtk), 1 case each: 0 conform, 0 diverge \
             (accepted: 0), 0 inconclusive, 1 internal error; snapshots: all match => FAILED (2 unexpected)"
        );
    }
}
