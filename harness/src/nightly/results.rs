//! Reading a `pmconf-results/1` file (what `pmconf run` writes to
//! `target/pmconf/results.json`, see [`results_json`]), leniently: keys
//! this reader does not know are ignored (`summary` is computed again
//! from the results, so its names, e.g. `known_divergences` or
//! `accepted_divergences`, do not matter), optional blocks (`run`,
//! `cases`) may be missing or null.

use super::order::in_engine_order;
use super::NightlyError;
use crate::report::{results_json, EngineTiming, RunRecord, SetupFailure, RESULTS_FORMAT};
use crate::run::events::{CaseResult, EngineInfo};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The fix printed for any results file that cannot be read.
const RESULTS_FIX: &str =
    "pass a results.json that `pmconf run` wrote (format pmconf-results/1), or a night directory of a history";

/// One results file, as read.
#[derive(Debug, Clone)]
pub struct ResultsFile {
    /// Where it was read from (for error messages).
    pub path: PathBuf,
    /// Whether the run ended rather than being cut short.
    pub complete: bool,
    /// The `run` block (start and end, pmconf version, revision, command
    /// line), as found; empty when absent or null.
    pub run: Map<String, Value>,
    /// The `cases` block (each case's file, references and post calls),
    /// as found.
    pub cases_info: Vec<Value>,
    /// The `model_snapshots` block (each case whose model snapshot is not
    /// as accepted), as found.
    pub model_snapshots: Vec<Value>,
    /// The engines whose session came up.
    pub engines: Vec<EngineInfo>,
    /// The engines that could not be set up.
    pub setup_failures: Vec<SetupFailure>,
    /// Every result.
    pub results: Vec<CaseResult>,
    /// Where each (engine, case) is in `results`, built on first lookup
    /// (keep `results` unchanged after the first [`result`](Self::result)).
    pub(super) index: OnceLock<HashMap<(String, String), usize>>,
}

#[derive(Deserialize)]
struct Raw {
    #[serde(default = "yes")]
    complete: bool,
    #[serde(default)]
    run: Option<Map<String, Value>>,
    #[serde(default)]
    cases: Option<Vec<Value>>,
    #[serde(default)]
    model_snapshots: Option<Vec<Value>>,
    #[serde(default)]
    engines: Vec<EngineInfo>,
    #[serde(default)]
    setup_failures: Vec<SetupFailure>,
    results: Vec<CaseResult>,
}

fn yes() -> bool {
    true
}

impl ResultsFile {
    /// A complete file with nothing in it, said to come from `path`.
    pub fn empty(path: impl Into<PathBuf>) -> Self {
        ResultsFile {
            path: path.into(),
            complete: true,
            run: Map::new(),
            cases_info: vec![],
            model_snapshots: vec![],
            engines: vec![],
            setup_failures: vec![],
            results: vec![],
            index: OnceLock::new(),
        }
    }

    /// Reads `path`: a results file, or a directory holding `results.json`
    /// (a night of a history).
    pub fn load(path: &Path) -> Result<Self, NightlyError> {
        let file = if path.is_dir() {
            path.join("results.json")
        } else {
            path.to_path_buf()
        };
        let text = std::fs::read_to_string(&file).map_err(|e| NightlyError::read(&file, e))?;
        Self::parse(&file, &text)
    }

    /// Parses `text`, read from `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, NightlyError> {
        let value: Value = serde_json::from_str(text).map_err(|e| NightlyError::Corrupt {
            path: path.to_path_buf(),
            location: Some((e.line(), e.column())),
            message: format!("not JSON: {e}"),
            fix: RESULTS_FIX.into(),
        })?;
        match value.get("format").and_then(Value::as_str) {
            Some(RESULTS_FORMAT) => {}
            Some(other) => {
                return Err(NightlyError::corrupt(
                    path,
                    format!("format is {other:?}, this pmconf reads {RESULTS_FORMAT:?}"),
                    "run both nights with the same pmconf, or convert the file",
                ))
            }
            None => {
                return Err(NightlyError::corrupt(
                    path,
                    "no \"format\" key: not a pmconf results file",
                    RESULTS_FIX,
                ))
            }
        }
        // Parse again as text so that serde's error carries a line.
        let raw: Raw = serde_json::from_str(text).map_err(|e| NightlyError::Corrupt {
            path: path.to_path_buf(),
            location: Some((e.line(), e.column())),
            message: format!("malformed results file: {e}"),
            fix: RESULTS_FIX.into(),
        })?;
        let file = ResultsFile {
            path: path.to_path_buf(),
            complete: raw.complete,
            run: raw.run.unwrap_or_default(),
            cases_info: raw.cases.unwrap_or_default(),
            model_snapshots: raw.model_snapshots.unwrap_or_default(),
            engines: raw.engines,
            setup_failures: raw.setup_failures,
            results: raw.results,
            index: OnceLock::new(),
        };
        file.check_unique()?;
        Ok(file)
    }

    /// A case must appear once per engine.
    fn check_unique(&self) -> Result<(), NightlyError> {
        let mut seen = std::collections::HashSet::new();
        for r in &self.results {
            if !seen.insert((r.engine.as_str(), r.case.as_str())) {
                return Err(NightlyError::corrupt(
                    &self.path,
                    format!("{} appears twice for {}", r.case, r.engine),
                    "a results file holds one result per case and engine: regenerate it with `pmconf run`",
                ));
            }
        }
        Ok(())
    }

    /// A string of the `run` block (e.g. `revision`), when present.
    pub fn info(&self, key: &str) -> Option<&str> {
        self.run.get(key).and_then(Value::as_str)
    }

    /// When the run started (`run.started_unix_ms`), when known.
    pub fn started_unix_ms(&self) -> Option<u64> {
        self.run.get("started_unix_ms").and_then(Value::as_u64)
    }

    /// Every engine with results or a session, in engine order
    /// ([`in_engine_order`]).
    pub fn engine_names(&self) -> Vec<&str> {
        in_engine_order(
            self.engines
                .iter()
                .map(|e| e.engine.as_str())
                .chain(self.results.iter().map(|r| r.engine.as_str())),
        )
    }

    /// Engines with at least one result, in engine order: an engine whose
    /// session came up but ran nothing did not take part in the night.
    pub fn engines_with_results(&self) -> Vec<&str> {
        in_engine_order(self.results.iter().map(|r| r.engine.as_str()))
    }

    /// The browser version of `engine`, when its session came up.
    pub fn browser_version(&self, engine: &str) -> Option<&str> {
        self.engines
            .iter()
            .find(|e| e.engine == engine)
            .map(|e| e.browser_version.as_str())
    }

    /// The result of `case` in `engine`.
    pub fn result(&self, engine: &str, case: &str) -> Option<&CaseResult> {
        let index = self.index.get_or_init(|| {
            self.results
                .iter()
                .enumerate()
                .map(|(i, r)| ((r.engine.clone(), r.case.clone()), i))
                .collect()
        });
        index
            .get(&(engine.to_owned(), case.to_owned()))
            .map(|&i| &self.results[i])
    }

    /// Every case, sorted.
    pub fn cases(&self) -> Vec<&str> {
        let mut cases: Vec<&str> = self.results.iter().map(|r| r.case.as_str()).collect();
        cases.sort_unstable();
        cases.dedup();
        cases
    }

    /// Seconds an engine spent on its cases: the sum of its results'
    /// durations (each case's share of its batch).
    pub fn engine_seconds(&self, engine: &str) -> f64 {
        self.results
            .iter()
            .filter(|r| r.engine == engine)
            .map(|r| r.duration_ms as f64 / 1000.0)
            .sum()
    }

    /// This file as a run record, so that the run's own formatters (the
    /// results file, JUnit, wptreport) can write it again. Engine timings
    /// are the sums of case durations ([`engine_seconds`](Self::engine_seconds)).
    pub fn to_record(&self) -> RunRecord {
        let names: Vec<String> = self.engine_names().into_iter().map(String::from).collect();
        let mut record = RunRecord::new();
        record.requested_engines = names.clone();
        record.requested_engines.extend(
            self.setup_failures
                .iter()
                .map(|f| f.engine.clone())
                .filter(|e| !names.contains(e)),
        );
        record.cases_per_engine = self.cases().len();
        record.engines = self.engines.clone();
        record.setup_failures = self.setup_failures.clone();
        record.results = self.results.clone();
        record.timings = names
            .iter()
            .map(|engine| EngineTiming {
                engine: engine.clone(),
                cases: self.results.iter().filter(|r| &r.engine == engine).count(),
                seconds: self.engine_seconds(engine),
            })
            .collect();
        record.suite_seconds = self.complete.then_some(0.0);
        record
    }

    /// The file's JSON, as `pmconf run` writes it ([`results_json`]),
    /// with the `run`, `cases` and `model_snapshots` blocks as read.
    pub fn to_json(&self) -> Value {
        let mut value = results_json(&self.to_record()).expect("results serialize");
        if let Value::Object(map) = &mut value {
            let run = if self.run.is_empty() {
                Value::Null
            } else {
                Value::Object(self.run.clone())
            };
            map.insert("run".into(), run);
            map.insert("cases".into(), Value::Array(self.cases_info.clone()));
            map.insert(
                "model_snapshots".into(),
                Value::Array(self.model_snapshots.clone()),
            );
        }
        value
    }
}
