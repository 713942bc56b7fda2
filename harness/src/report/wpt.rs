//! The web-platform-tests reporter: one `wptreport.json` per engine, so
//! tools that read wptrunner's output (wpt.fyi, result dashboards) read
//! pmconf's too.

use super::atomic::write_atomically;
use super::record::RunRecord;
use super::render::{nearest_allowed, outcome_diff, snapshot_note, DiffSide};
use crate::run::events::{CaseResult, Reporter, RunEvent};
use crate::run::verdict::Verdict;
use serde_json::{json, Value};
use std::io;
use std::path::PathBuf;

/// The placeholder in a [`WptReportReporter`] path pattern that stands for
/// the engine's name.
pub const ENGINE_PLACEHOLDER: &str = "{engine}";

/// Longest subtest message, in characters: wpt tools show it in a table
/// cell.
const MESSAGE_LIMIT: usize = 300;

/// Collects a run's events and writes, at `finish`, one `wptreport.json`
/// per engine whose session came up (an engine that failed setup has no
/// browser version and no results, so it gets no file).
pub struct WptReportReporter {
    pattern: PathBuf,
    record: RunRecord,
}

impl WptReportReporter {
    /// A reporter writing one file per engine at `pattern`, where
    /// [`ENGINE_PLACEHOLDER`] stands for the engine's name, e.g.
    /// `out/wptreport-{engine}.json`. A pattern without the placeholder
    /// gets `-<engine>` before its extension (`out/wpt.json` becomes
    /// `out/wpt-firefox.json`), so engines never overwrite each other.
    pub fn new(pattern: impl Into<PathBuf>) -> Self {
        Self {
            pattern: pattern.into(),
            record: RunRecord::new(),
        }
    }

    /// The file for `engine`.
    pub fn path_for(&self, engine: &str) -> PathBuf {
        if let Some(pattern) = self
            .pattern
            .to_str()
            .filter(|p| p.contains(ENGINE_PLACEHOLDER))
        {
            return PathBuf::from(pattern.replace(ENGINE_PLACEHOLDER, engine));
        }
        let mut name = self.pattern.file_stem().unwrap_or_default().to_os_string();
        name.push("-");
        name.push(engine);
        if let Some(extension) = self.pattern.extension() {
            name.push(".");
            name.push(extension);
        }
        self.pattern.with_file_name(name)
    }
}

impl Reporter for WptReportReporter {
    fn on_event(&mut self, event: &RunEvent) {
        self.record.record(event);
    }

    /// Writes every engine's file, even after one fails; returns the first
    /// error.
    fn finish(&mut self) -> io::Result<()> {
        let mut first_error = None;
        for info in &self.record.engines {
            let value = wptreport_json(&self.record, &info.engine);
            let written = serde_json::to_string_pretty(&value)
                .map_err(io::Error::other)
                .and_then(|text| {
                    write_atomically(&self.path_for(&info.engine), format!("{text}\n").as_bytes())
                });
            if let Err(e) = written {
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// The wpt test id of a case: `/cases/` and the case file (a leading
/// `cases/` in the case path is not repeated).
pub fn wpt_test_id(case: &str) -> String {
    format!("/cases/{}", case.strip_prefix("cases/").unwrap_or(case))
}

/// One engine's results in the `wptreport.json` shape: each case is a
/// test with one subtest, `matches model`.
///
/// Conforms is `OK` + `PASS`, contested `OK` + `PASS` with a message
/// naming the spec issue, diverges `OK` + `FAIL`, inconclusive
/// `TIMEOUT` with no subtests, internal-error `ERROR` with no subtests,
/// crashed `CRASH` with no subtests (its message ends with the engine's
/// last log lines); a
/// test's message is the reason, a failing subtest's a short description
/// of the divergence.
pub fn wptreport_json(record: &RunRecord, engine: &str) -> Value {
    let results: Vec<Value> = record.results_of(engine).map(test_json).collect();
    json!({
        "run_info": {
            "product": engine,
            "browser_version": record.browser_version(engine),
            "os": std::env::consts::OS,
        },
        "results": results,
    })
}

fn test_json(result: &CaseResult) -> Value {
    let (status, subtests) = match &result.verdict {
        Verdict::Conforms => ("OK", vec![subtest("PASS", None)]),
        // Not a failure: the standard itself leaves it open; the message
        // names the issue.
        Verdict::Contested => (
            "OK",
            vec![subtest(
                "PASS",
                Some(crate::report::contested::one_line(result)),
            )],
        ),
        Verdict::Diverges => (
            "OK",
            vec![subtest("FAIL", Some(divergence_message(result)))],
        ),
        Verdict::Inconclusive { .. } => ("TIMEOUT", vec![]),
        Verdict::InternalError { .. } => ("ERROR", vec![]),
        Verdict::Crashed { .. } => ("CRASH", vec![]),
    };
    json!({
        "test": wpt_test_id(&result.case),
        "status": status,
        "message": result.verdict.reason(),
        "subtests": subtests,
    })
}

fn subtest(status: &str, message: Option<String>) -> Value {
    json!({"name": "matches model", "status": status, "message": message})
}

/// E.g. `not one of the 2 allowed outcomes (known: snapshot matches);
/// nearest, #1: - origin: http://a.test | + origin: 'null'`.
fn divergence_message(result: &CaseResult) -> String {
    let known = if result.is_unexpected() {
        "unexpected"
    } else {
        "known"
    };
    let mut message = format!(
        "not one of the {} allowed outcomes ({known}: {})",
        result.allowed.len(),
        snapshot_note(&result.snapshot)
    );
    if let Some(observed) = &result.observed {
        if let Some(nearest) = nearest_allowed(observed, &result.allowed) {
            let changes: Vec<String> = outcome_diff(&result.allowed[nearest], observed)
                .into_iter()
                .filter_map(|line| match line.side {
                    DiffSide::Both => None,
                    DiffSide::Allowed => Some(format!("- {}", line.text.trim())),
                    DiffSide::Observed => Some(format!("+ {}", line.text.trim())),
                })
                .collect();
            message.push_str(&format!(
                "; nearest, #{}: {}",
                nearest + 1,
                changes.join(" | ")
            ));
        }
    }
    truncate(message, MESSAGE_LIMIT)
}

fn truncate(text: String, limit: usize) -> String {
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_ids_live_under_cases() {
        assert_eq!(wpt_test_id("opaque/x.yaml"), "/cases/opaque/x.yaml");
        assert_eq!(wpt_test_id("cases/opaque/x.yaml"), "/cases/opaque/x.yaml");
    }

    #[test]
    fn each_engine_gets_its_own_path() {
        let reporter = WptReportReporter::new("out/wptreport-{engine}.json");
        assert_eq!(
            reporter.path_for("firefox"),
            PathBuf::from("out/wptreport-firefox.json")
        );
        let reporter = WptReportReporter::new("out/wpt.json");
        assert_eq!(
            reporter.path_for("firefox"),
            PathBuf::from("out/wpt-firefox.json")
        );
        let reporter = WptReportReporter::new("wpt");
        assert_eq!(reporter.path_for("chromium"), PathBuf::from("wpt-chromium"));
    }

    #[test]
    fn long_messages_are_cut_on_a_character_boundary() {
        assert_eq!(truncate("ééé".into(), 2), "éé…");
        assert_eq!(truncate("éé".into(), 2), "éé");
    }
}
