//! The web-platform-tests reporter: one `wptreport.json` per engine, so
//! tools that read wptrunner's output (wpt.fyi, result dashboards) read
//! pmconf's too.

use super::engine_path::engine_path;
use super::record::RunRecord;
use super::render::{nearest_allowed, outcome_diff, snapshot_note, DiffSide};
use crate::atomic::{write_atomically, Dir};
use crate::run::events::{CaseResult, Reporter, RunEvent, SnapshotStatus};
use crate::run::verdict::Verdict;
use serde_json::{json, Value};
use std::io;
use std::path::PathBuf;

/// Longest subtest message, in characters: wpt tools show it in a table
/// cell.
const MESSAGE_LIMIT: usize = 300;

/// Collects a run's events and writes, at `finish`, one `wptreport.json`
/// per engine whose session came up (an engine that failed setup has no
/// browser version and no results, so it gets no file).
pub struct WptReportReporter {
    pattern: PathBuf,
    record: RunRecord,
    info: WptRunInfo,
    written: Vec<PathBuf>,
}

/// When the run started and ended, which wpt.fyi shows (the revision it
/// needs is the run's own commit, from its
/// [`RunInfo`](crate::run::info::RunInfo)).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WptRunInfo {
    /// When the run started, in milliseconds since the Unix epoch.
    pub time_start: Option<u64>,
    /// When it ended, likewise.
    pub time_end: Option<u64>,
}

/// Milliseconds since the Unix epoch, now.
fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

impl WptReportReporter {
    /// A reporter writing one file per engine at `pattern`, where
    /// [`ENGINE_PLACEHOLDER`](super::ENGINE_PLACEHOLDER) stands for the engine's name, e.g.
    /// `out/wptreport-{engine}.json`. A pattern without the placeholder
    /// gets `-<engine>` before its extension (`out/wpt.json` becomes
    /// `out/wpt-firefox.json`), so engines never overwrite each other.
    pub fn new(pattern: impl Into<PathBuf>) -> Self {
        Self {
            pattern: pattern.into(),
            record: RunRecord::new(),
            info: WptRunInfo::default(),
            written: Vec::new(),
        }
    }

    /// The file for `engine`.
    pub fn path_for(&self, engine: &str) -> PathBuf {
        engine_path(&self.pattern, engine)
    }
}

impl Reporter for WptReportReporter {
    fn on_event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::SuiteStart { .. } => self.info.time_start = Some(now_ms()),
            RunEvent::SuiteEnd { .. } => self.info.time_end = Some(now_ms()),
            _ => {}
        }
        self.record.record(event);
    }

    /// Writes every engine's file, even after one fails; returns the first
    /// error.
    fn finish(&mut self) -> io::Result<()> {
        let mut first_error = None;
        for info in &self.record.engines {
            let mut run = self.info.clone();
            run.time_end = run.time_end.or_else(|| Some(now_ms()));
            let value = wptreport_json(&self.record, &info.engine, &run);
            let path = self.path_for(&info.engine);
            let written = serde_json::to_string_pretty(&value)
                .map_err(io::Error::other)
                .and_then(|text| {
                    write_atomically(&path, format!("{text}\n").as_bytes(), Dir::MustExist)
                });
            match written {
                Ok(()) => self.written.push(path),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    fn written(&self) -> Vec<PathBuf> {
        self.written.clone()
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
/// of the divergence. Every test has `duration` (milliseconds) and
/// `subtests`.
///
/// As wptrunner writes it, `expected` appears only where the status was
/// not the expected one, and is the expected status. pmconf's expectation
/// is the accepted snapshot: an accepted divergence is an expected `FAIL`
/// (no `expected`); a changed snapshot whose accepted verdict differs
/// expects the accepted verdict's status; a result with no accepted
/// snapshot expects `PASS`, as wptrunner does without metadata; an
/// inconclusive or internal-error test expects `OK`. A changed snapshot
/// with the same verdict (another divergence) keeps its status as
/// expected and says so in the subtest's message.
///
/// `run_info` has what wpt.fyi requires (`product`, `browser_version`,
/// `os`, `revision`) and `time_start`/`time_end` are milliseconds since
/// the epoch, when known.
pub fn wptreport_json(record: &RunRecord, engine: &str, info: &WptRunInfo) -> Value {
    let results: Vec<Value> = record.results_of(engine).map(test_json).collect();
    let mut run_info = json!({
        "product": engine,
        "browser_version": record.browser_version(engine),
        "os": std::env::consts::OS,
    });
    // The run's one commit: the header and the results name the same.
    if let Some(commit) = record.info.as_ref().and_then(|i| i.commit.as_ref()) {
        run_info["revision"] = json!(commit);
    }
    let mut report = json!({ "run_info": run_info });
    if let Some(t) = info.time_start {
        report["time_start"] = json!(t);
    }
    if let Some(t) = info.time_end {
        report["time_end"] = json!(t.max(info.time_start.unwrap_or(0)));
    }
    report["results"] = json!(results);
    report
}

/// The accepted snapshot's verdict, read off a changed snapshot's diff
/// (`-verdict: conforms`).
fn accepted_verdict(diff: &str) -> Option<&str> {
    diff.lines()
        .find_map(|l| l.strip_prefix("-verdict: "))
        .map(str::trim)
}

fn status_of(verdict: &str) -> &'static str {
    // A contested result is no failure (the standard leaves it open).
    if verdict == "conforms" || verdict == "contested" {
        "PASS"
    } else {
        "FAIL"
    }
}

fn test_json(result: &CaseResult) -> Value {
    let (status, subtests) = match &result.verdict {
        Verdict::Conforms | Verdict::Contested | Verdict::Diverges => {
            let sub_status = status_of(result.verdict.name());
            let message = match &result.verdict {
                Verdict::Diverges => Some(divergence_message(result)),
                // Not a failure: the standard itself leaves it open; the
                // message names the issue.
                Verdict::Contested => Some(crate::report::contested::one_line(result)),
                _ => None,
            };
            let mut sub = subtest(sub_status, message);
            let expected = match &result.snapshot {
                SnapshotStatus::New { .. } => Some("PASS"),
                SnapshotStatus::Changed { diff, .. } => accepted_verdict(diff).map(status_of),
                _ => None,
            };
            match expected {
                Some(e) if e != sub_status => sub["expected"] = json!(e),
                _ if matches!(result.snapshot, SnapshotStatus::Changed { .. }) => {
                    let note = "snapshot changed: the outcome differs from the accepted one";
                    sub["message"] = json!(match sub["message"].as_str() {
                        Some(m) => format!("{note}; {m}"),
                        None => note.to_owned(),
                    });
                }
                _ => {}
            }
            ("OK", vec![sub])
        }
        Verdict::Inconclusive { .. } => ("TIMEOUT", vec![]),
        Verdict::InternalError { .. } => ("ERROR", vec![]),
        Verdict::Crashed { .. } => ("CRASH", vec![]),
    };
    let mut test = json!({
        "test": wpt_test_id(&result.case),
        "status": status,
        "message": result.verdict.reason(),
        "duration": result.duration_ms,
        "subtests": subtests,
    });
    if status != "OK" {
        test["expected"] = json!("OK");
    }
    test
}

fn subtest(status: &str, message: Option<String>) -> Value {
    json!({"name": "matches model", "status": status, "message": message})
}

/// E.g. `not one of the 2 allowed outcomes (accepted: snapshot matches);
/// nearest, #1: - origin: http://a.test | + origin: 'null'`.
fn divergence_message(result: &CaseResult) -> String {
    let expectation = if result.is_unexpected() {
        "unexpected"
    } else {
        "accepted"
    };
    let mut message = format!(
        "not one of the {} allowed outcomes ({expectation}: {})",
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
