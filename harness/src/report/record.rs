//! Everything a run's events say, collected in order, for the reporters
//! that only write at the end.

use crate::run::events::{CaseResult, EngineInfo, ModelSnapshotResult, RunEvent};
use crate::run::info::{CaseInfo, PostCall, RunInfo};
use serde::Serialize;

/// An engine that could not be set up.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct SetupFailure {
    /// The engine.
    pub engine: String,
    /// What went wrong and how to fix it.
    pub error: String,
}

/// How long an engine took over its cases.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineTiming {
    /// The engine.
    pub engine: String,
    /// Runs made, as `EngineEnd` counts them (race repeats and retries
    /// included); [`RunSummary`](super::RunSummary) rates distinct cases.
    pub cases: usize,
    /// Seconds spent running them.
    pub seconds: f64,
}

impl EngineTiming {
    /// Cases per second, when any time was measured at all.
    pub fn cases_per_second(&self) -> Option<f64> {
        (self.seconds > 0.0).then(|| self.cases as f64 / self.seconds)
    }
}

/// The events of one run, collected.
#[derive(Debug, Clone, Default)]
pub struct RunRecord {
    /// What the run is, from `RunInfo`, if it was sent.
    pub info: Option<RunInfo>,
    /// Engines requested, from `SuiteStart`.
    pub requested_engines: Vec<String>,
    /// Cases per engine, from `SuiteStart`.
    pub cases_per_engine: usize,
    /// Engines whose session came up, in start order.
    pub engines: Vec<EngineInfo>,
    /// Engines that could not be set up.
    pub setup_failures: Vec<SetupFailure>,
    /// Every case result, in the order they ended.
    pub results: Vec<CaseResult>,
    /// The cases whose model snapshot is not as accepted, from
    /// `ModelSnapshot`.
    pub model_snapshots: Vec<ModelSnapshotResult>,
    /// Per-engine timings, from `EngineEnd`.
    pub timings: Vec<EngineTiming>,
    /// Seconds for the whole run; `Some` once `SuiteEnd` arrived.
    pub suite_seconds: Option<f64>,
}

impl RunRecord {
    /// An empty record.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one event.
    pub fn record(&mut self, event: &RunEvent) {
        match event {
            RunEvent::RunInfo(info) => self.info = Some(info.clone()),
            RunEvent::SuiteStart { engines, cases } => {
                self.requested_engines = engines.clone();
                self.cases_per_engine = *cases;
            }
            RunEvent::EngineStart(info) => self.engines.push(info.clone()),
            RunEvent::EngineSetupFailed { engine, error } => {
                self.setup_failures.push(SetupFailure {
                    engine: engine.clone(),
                    error: error.clone(),
                })
            }
            // Nothing to keep: a case that started but never ended shows up
            // as missing from the results.
            RunEvent::CaseStart { .. } => {}
            // The crashed cases carry what the reports need to say.
            RunEvent::EngineRestart { .. } => {}
            RunEvent::CaseEnd(result) => self.results.push(result.clone()),
            RunEvent::ModelSnapshot(m) => self.model_snapshots.push(m.clone()),
            RunEvent::EngineEnd {
                engine,
                cases,
                seconds,
            } => self.timings.push(EngineTiming {
                engine: engine.clone(),
                cases: *cases,
                seconds: *seconds,
            }),
            RunEvent::SuiteEnd { seconds } => self.suite_seconds = Some(*seconds),
        }
    }

    /// A record of `events`.
    pub fn from_events<'a>(events: impl IntoIterator<Item = &'a RunEvent>) -> Self {
        let mut record = Self::new();
        for event in events {
            record.record(event);
        }
        record
    }

    /// Whether `SuiteEnd` arrived (otherwise the run was cut short).
    pub fn is_complete(&self) -> bool {
        self.suite_seconds.is_some()
    }

    /// Every engine the run mentions: the requested ones in their order,
    /// then any other that started or has results.
    pub fn all_engines(&self) -> Vec<&str> {
        let mut names: Vec<&str> = Vec::new();
        let seen = self
            .requested_engines
            .iter()
            .map(String::as_str)
            .chain(self.engines.iter().map(|e| e.engine.as_str()))
            .chain(self.setup_failures.iter().map(|f| f.engine.as_str()))
            .chain(self.results.iter().map(|r| r.engine.as_str()));
        for name in seen {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }

    /// The engines that ran cases (started, or with results), in
    /// [`all_engines`](Self::all_engines) order.
    pub fn running_engines(&self) -> Vec<&str> {
        self.all_engines()
            .into_iter()
            .filter(|name| {
                self.engines.iter().any(|e| e.engine == *name)
                    || self.results.iter().any(|r| r.engine == *name)
            })
            .collect()
    }

    /// The browser version an engine reported, if it started.
    pub fn browser_version(&self, engine: &str) -> Option<&str> {
        self.engines
            .iter()
            .find(|e| e.engine == engine)
            .map(|e| e.browser_version.as_str())
    }

    /// The setup failure of an engine, if it had one.
    pub fn setup_failure(&self, engine: &str) -> Option<&SetupFailure> {
        self.setup_failures.iter().find(|f| f.engine == engine)
    }

    /// An engine's timing, if it ended.
    pub fn timing(&self, engine: &str) -> Option<&EngineTiming> {
        self.timings.iter().find(|t| t.engine == engine)
    }

    /// An engine's results, in the order they ended.
    pub fn results_of<'a>(&'a self, engine: &'a str) -> impl Iterator<Item = &'a CaseResult> + 'a {
        self.results.iter().filter(move |r| r.engine == engine)
    }

    /// What the run recorded about `case`, if it recorded anything.
    pub fn case_info(&self, case: &str) -> Option<&CaseInfo> {
        self.info.as_ref().and_then(|i| i.case(case))
    }

    /// The calls of `case`'s posts (empty when unknown).
    pub fn calls(&self, case: &str) -> &[PostCall] {
        self.case_info(case).map_or(&[], |c| c.posts.as_slice())
    }

    /// When the run ended, in milliseconds since the Unix epoch: its
    /// start plus the seconds `SuiteEnd` counted, when both are known.
    pub fn ended_unix_ms(&self) -> Option<u64> {
        let start = self.info.as_ref()?.started_unix_ms;
        Some(start + (self.suite_seconds? * 1000.0).round() as u64)
    }

    /// Every case with a result, in order of first appearance.
    pub fn cases(&self) -> Vec<&str> {
        let mut cases: Vec<&str> = Vec::new();
        for r in &self.results {
            if !cases.contains(&r.case.as_str()) {
                cases.push(&r.case);
            }
        }
        cases
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::events::SnapshotStatus;
    use crate::run::verdict::Verdict;

    fn result(engine: &str, case: &str) -> RunEvent {
        RunEvent::CaseEnd(CaseResult::bare(
            engine,
            case,
            Verdict::Conforms,
            SnapshotStatus::Matched,
        ))
    }

    #[test]
    fn engines_keep_the_requested_order_then_others() {
        let record = RunRecord::from_events(&[
            RunEvent::SuiteStart {
                engines: vec!["firefox".into(), "chromium".into()],
                cases: 2,
            },
            RunEvent::EngineStart(EngineInfo {
                engine: "chromium".into(),
                browser_version: "1".into(),
            }),
            result("chromium", "a.yaml"),
            result("extra", "b.yaml"),
            result("chromium", "b.yaml"),
        ]);
        assert_eq!(record.all_engines(), vec!["firefox", "chromium", "extra"]);
        assert_eq!(record.running_engines(), vec!["chromium", "extra"]);
        assert_eq!(record.cases(), vec!["a.yaml", "b.yaml"]);
        assert_eq!(record.results_of("chromium").count(), 2);
        assert!(!record.is_complete());
    }

    #[test]
    fn cases_per_second_needs_measured_time() {
        let t = EngineTiming {
            engine: "e".into(),
            cases: 10,
            seconds: 4.0,
        };
        assert_eq!(t.cases_per_second(), Some(2.5));
        assert_eq!(EngineTiming { seconds: 0.0, ..t }.cases_per_second(), None);
    }
}
