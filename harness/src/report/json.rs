//! The JSON reporter: the whole run in one `pmconf-results/1` file.

use super::header::format_utc;
use super::record::RunRecord;
use super::summary::RunSummary;
use crate::atomic::{write_atomically, Dir};
use crate::run::events::{Reporter, RunEvent};
use serde_json::{json, Map, Value};
use std::io;
use std::path::{Path, PathBuf};

/// The `format` value of the results file; bump it on any change that
/// could break a reader.
pub const RESULTS_FORMAT: &str = "pmconf-results/1";

/// Collects a run's events and writes them, at `finish`, as one JSON file
/// (see [`results_json`] for its shape), atomically.
pub struct JsonReporter {
    path: PathBuf,
    record: RunRecord,
    written: bool,
}

impl JsonReporter {
    /// A reporter that will write to `path` (its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            record: RunRecord::new(),
            written: false,
        }
    }

    /// Where the file goes.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Reporter for JsonReporter {
    fn on_event(&mut self, event: &RunEvent) {
        self.record.record(event);
    }

    fn finish(&mut self) -> io::Result<()> {
        let value = results_json(&self.record).map_err(io::Error::other)?;
        let mut text = serde_json::to_string_pretty(&value).map_err(io::Error::other)?;
        text.push('\n');
        write_atomically(&self.path, text.as_bytes(), Dir::MustExist)?;
        self.written = true;
        Ok(())
    }

    fn written(&self) -> Vec<PathBuf> {
        self.written
            .then(|| self.path.clone())
            .into_iter()
            .collect()
    }
}

/// The results file's content, keys in a fixed order:
///
/// ```json
/// {"format": "pmconf-results/1", "complete": true,
///  "run": {"started_at": "2026-11-29 09:35:11 UTC", "ended_at": "2026-11-29 09:36:02 UTC",
///          "seconds": 51.2, "started_unix_ms": 1795937711000, "pmconf_version": "0.1.0",
///          "revision": "7fb15fb-dirty", "commit": "7fb15fb0...",
///          "revision_source": "`git describe ...` at run time in ...",
///          "command_line": ["pmconf", "run", "cases/"],
///          "instances": [{"name": "chromium-flags", "kind": "chromium", "location": "local",
///                         "browser": "/usr/bin/chromium", "driver": "/usr/bin/chromedriver",
///                         "args": ["--enable-features=Foo"], "compare_with": "chromium"}]},
///  "engines": [{"engine": "chromium", "browser_version": "131.0"}],
///  "setup_failures": [{"engine": "webkitgtk", "error": "..."}],
///  "summary": {"chromium": {"conforms": 3, "diverges": 2, "accepted_divergences": 1,
///              "inconclusive": 0, "internal_error": 0, "crashed": 0, "unexpected": 1,
///              "flaky": 0, "runs": 13, "unobserved_runs": 1, "cases_per_second": 4.2}},
///  "results": [CaseResult, ...],
///  "model_snapshots": [{"case": "cases/a.yaml", "snapshot": {"status": "new", "pending": "..."}}],
///  "cases": [{"case": "cases/a.yaml", "file": "/abs/cases/a.yaml",
///             "references": ["https://..."],
///             "posts": [{"step": 0, "from": "top", "to": "child",
///                        "target_origin": "*", "message": "hi"}]}]}
/// ```
///
/// `run` (null when the run sent no `RunInfo`) is what a report's header
/// shows: start and end time (UTC; `ended_at` null when cut short), the
/// pmconf version and source revision (described, and its full `commit`
/// hash, which the wptreports name too) with how it was found, the
/// command line, and each engine instance with its binaries, arguments,
/// endpoint and `compare_with`; the engines with their browser versions
/// are `engines`.
/// `cases` holds, per case, what reports show beside its results: its
/// file, its references, and each post's call by step number.
///
/// `runs` counts every run (a race case run with `--repeat 5` counts 5,
/// any other case 1) and `unobserved_runs` those that observed nothing;
/// `complete` is false when the run was cut short (no `SuiteEnd`);
/// `cases_per_second` is rounded to 2 decimals, or null when the engine
/// never ended; `results` are [`CaseResult`](crate::run::events::CaseResult)s
/// as serde serializes them, in the order they ended, race results with
/// their `runs`, `histogram`, `not_seen`, `unobserved_runs` and
/// `unobserved_reason`, and a result that was run again (`run
/// --retry-unexpected`) with its `earlier_attempts` and `kept_pending`.
/// `runs` in the summary includes the runs of earlier attempts.
/// `model_snapshots` lists each case whose model snapshot is not as
/// accepted (new or changed: pending review, failing the run; or written as
/// accepted).
pub fn results_json(record: &RunRecord) -> serde_json::Result<Value> {
    let summary = RunSummary::of(record);
    let mut per_engine = Map::new();
    for e in &summary.engines {
        let c = &e.counts;
        per_engine.insert(
            e.engine.clone(),
            json!({
                "conforms": c.conforms,
                "contested": c.contested,
                "diverges": c.diverges,
                "accepted_divergences": c.accepted_divergences,
                "inconclusive": c.inconclusive,
                "internal_error": c.internal_error,
                "crashed": c.crashed,
                "unexpected": c.unexpected,
                "flaky": c.flaky,
                "runs": c.runs,
                "unobserved_runs": c.unobserved_runs,
                "cases_per_second": e.cases_per_second.map(|r| (r * 100.0).round() / 100.0),
            }),
        );
    }
    let run = record.info.as_ref().map(|info| {
        json!({
            "started_at": format_utc(info.started_unix_ms),
            "ended_at": record.ended_unix_ms().map(format_utc),
            "seconds": record.suite_seconds,
            "started_unix_ms": info.started_unix_ms,
            "pmconf_version": info.pmconf_version,
            "revision": info.revision,
            "commit": info.commit,
            "revision_source": info.revision_source,
            "command_line": info.command_line,
            "instances": info.instances,
        })
    });
    let cases = match &record.info {
        Some(info) => serde_json::to_value(&info.cases)?,
        None => json!([]),
    };
    Ok(json!({
        "format": RESULTS_FORMAT,
        "complete": record.is_complete(),
        "run": run,
        "engines": serde_json::to_value(&record.engines)?,
        "setup_failures": serde_json::to_value(&record.setup_failures)?,
        "summary": per_engine,
        "results": serde_json::to_value(&record.results)?,
        "model_snapshots": serde_json::to_value(&record.model_snapshots)?,
        "cases": cases,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::events::{CaseResult, EngineInfo, SnapshotStatus};
    use crate::run::verdict::Verdict;

    #[test]
    fn keys_come_in_a_fixed_order_and_results_keep_serde_shape() {
        let record = RunRecord::from_events(&[
            RunEvent::SuiteStart {
                engines: vec!["chromium".into()],
                cases: 1,
            },
            RunEvent::EngineStart(EngineInfo {
                engine: "chromium".into(),
                browser_version: "131".into(),
            }),
            RunEvent::CaseEnd(CaseResult {
                description: "d".into(),
                duration_ms: 7,
                ..CaseResult::bare(
                    "chromium",
                    "a.yaml",
                    Verdict::Inconclusive {
                        reason: "timed out".into(),
                    },
                    SnapshotStatus::NotCompared,
                )
            }),
            RunEvent::EngineEnd {
                engine: "chromium".into(),
                cases: 1,
                seconds: 3.0,
            },
        ]);
        let value = results_json(&record).unwrap();
        let keys: Vec<&str> = value
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            [
                "format",
                "complete",
                "run",
                "engines",
                "setup_failures",
                "summary",
                "results",
                "model_snapshots",
                "cases"
            ]
        );
        assert_eq!(value["complete"], false);
        assert_eq!(value["run"], Value::Null, "no RunInfo was sent");
        assert_eq!(value["cases"], json!([]));
        assert_eq!(value["summary"]["chromium"]["cases_per_second"], 0.33);
        assert_eq!(value["summary"]["chromium"]["unexpected"], 1);
        assert_eq!(value["results"][0]["verdict"], "inconclusive");
        assert_eq!(value["results"][0]["reason"], "timed out");
        assert_eq!(value["results"][0]["snapshot"]["status"], "not-compared");
    }
}
