//! The JUnit reporter: JUnit XML (the dialect of Maven Surefire, which CI
//! test viewers read), one `<testsuite>` per engine.
//!
//! Each case is a `<testcase>` whose `classname` carries the engine and
//! the case's directory (`chromium.cases.opaque`). An accepted divergence
//! (its accepted snapshot matched) is `<skipped>`, as a *known* divergence
//! with its bug link when `known-divergences.yaml` has one; a flaky result passes with one
//! `<flakyFailure>` per earlier attempt; an unexpected result (a new or
//! changed snapshot) is a `<failure>` with the diff; a contested result
//! (only allowed outcomes and outcomes an open issue of the HTML Standard
//! leaves open) passes, with a `<system-out>` naming each issue's link and
//! why; an inconclusive, internal-error or crashed result is an `<error>`
//! with its reason.

use super::engine_path::{engine_path, has_engine_placeholder};
use super::escape::html_escape;
use super::record::RunRecord;
use super::render::{diff_text, nearest_allowed, outcome_diff};
use super::triage::pending_model_snapshots;
use crate::atomic::{write_atomically, Dir};
use crate::known::KnownDivergences;
use crate::run::events::{CaseResult, Reporter, RunEvent, SnapshotStatus};
use std::io;
use std::path::PathBuf;

/// Collects a run's events and writes JUnit XML at `finish`: one file per
/// engine when the path holds `{engine}`, else one file with a testsuite
/// per engine.
pub struct JunitReporter {
    pattern: PathBuf,
    record: RunRecord,
    known: KnownDivergences,
    written: Vec<PathBuf>,
}

impl JunitReporter {
    /// A reporter writing to `pattern`, with bug links from `known`.
    pub fn new(pattern: impl Into<PathBuf>, known: KnownDivergences) -> Self {
        Self {
            pattern: pattern.into(),
            record: RunRecord::new(),
            known,
            written: Vec::new(),
        }
    }
}

impl Reporter for JunitReporter {
    fn on_event(&mut self, event: &RunEvent) {
        self.record.record(event);
    }

    fn finish(&mut self) -> io::Result<()> {
        let mut engines: Vec<String> = self
            .record
            .running_engines()
            .into_iter()
            .map(String::from)
            .collect();
        // Pending model snapshots fail the run too: a suite of their own.
        if !pending_model_snapshots(&self.record).is_empty() {
            engines.push(MODEL_SUITE.to_owned());
        }
        if has_engine_placeholder(&self.pattern) {
            let mut first_error = None;
            for engine in &engines {
                let xml = junit_xml(&self.record, &[engine.as_str()], &self.known);
                let path = engine_path(&self.pattern, engine);
                match write_atomically(&path, xml.as_bytes(), Dir::MustExist) {
                    Ok(()) => self.written.push(path),
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            first_error.map_or(Ok(()), Err)
        } else {
            let names: Vec<&str> = engines.iter().map(String::as_str).collect();
            write_atomically(
                &self.pattern,
                junit_xml(&self.record, &names, &self.known).as_bytes(),
                Dir::MustExist,
            )?;
            self.written.push(self.pattern.clone());
            Ok(())
        }
    }

    fn written(&self) -> Vec<PathBuf> {
        self.written.clone()
    }
}

/// What a result is in JUnit terms.
enum Kind {
    Passed,
    /// Passed, contested: the issues, one per line.
    Contested(String),
    Skipped(String),
    Flaky,
    Failure(String, String),
    Error(String, String),
}

fn kind(result: &CaseResult, known: &KnownDivergences) -> Kind {
    let verdict = result.verdict.name();
    if !matches!(verdict, "conforms" | "contested" | "diverges") {
        return Kind::Error(
            verdict.to_owned(),
            result.verdict.reason().unwrap_or(verdict).to_owned(),
        );
    }
    match &result.snapshot {
        SnapshotStatus::Changed { diff, .. } => {
            return Kind::Failure(format!("{verdict}; snapshot changed"), diff.clone())
        }
        SnapshotStatus::New { pending } => {
            let mut text = format!("no accepted snapshot; pending: {pending}\n");
            if let Some(observed) = &result.observed {
                if let Some(i) = nearest_allowed(observed, &result.allowed) {
                    text.push_str(&format!("observed against allowed outcome #{}:\n", i + 1));
                    text.push_str(&diff_text(&outcome_diff(&result.allowed[i], observed)));
                }
            }
            return Kind::Failure(format!("{verdict}; new snapshot"), text);
        }
        _ => {}
    }
    if result.is_flaky() {
        return Kind::Flaky;
    }
    if verdict == "diverges" {
        // Known: a bug is filed (known-divergences.yaml); accepted: its
        // snapshot is, and nobody linked a bug yet.
        let why = match known.lookup(&result.engine, &result.case) {
            Some(k) => format!("known divergence: {}", k.link_text()),
            None => "accepted divergence (its snapshot is accepted; no bug link in known-divergences.yaml)".into(),
        };
        return Kind::Skipped(why);
    }
    if verdict == "contested" {
        let issues: Vec<String> = super::contested::issues_of(result)
            .into_iter()
            .map(|(link, reason)| format!("contested: {link} ({reason})"))
            .collect();
        return Kind::Contested(issues.join("\n"));
    }
    Kind::Passed
}

/// Escapes text for XML 1.0: markup characters, and characters XML does
/// not allow (C0 controls other than tab and line breaks become control
/// pictures; U+FFFE and U+FFFF become U+FFFD).
fn xml(text: &str) -> String {
    html_escape(text).replace(['\u{FFFE}', '\u{FFFF}'], "\u{FFFD}")
}

/// `chromium.cases.opaque` for `cases/opaque/x.yaml`.
fn classname(engine: &str, case: &str) -> String {
    match case.rsplit_once('/') {
        Some((dir, _)) => format!("{engine}.{}", dir.replace('/', ".")),
        None => engine.to_owned(),
    }
}

/// The name of the suite that holds the pending model snapshots.
const MODEL_SUITE: &str = "model";

/// The testsuite of the pending model snapshots: a `<failure>` each.
fn model_suite(record: &RunRecord) -> (String, usize) {
    let pending = pending_model_snapshots(record);
    let mut cases = String::new();
    for (m, what) in &pending {
        let name = m.case.rsplit('/').next().unwrap_or(&m.case);
        let detail = match &m.snapshot {
            SnapshotStatus::Changed { pending, diff } => format!("pending: {pending}\n{diff}"),
            SnapshotStatus::New { pending } => format!("pending: {pending}"),
            _ => String::new(),
        };
        cases.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"0.000\">\n      <failure message=\"{}\" type=\"unexpected\">{}</failure>\n    </testcase>\n",
            xml(&classname(MODEL_SUITE, &m.case)),
            xml(name),
            xml(&m.case),
            xml(what),
            xml(&detail)
        ));
    }
    (
        format!(
            "  <testsuite name=\"pmconf.{MODEL_SUITE}\" tests=\"{0}\" failures=\"{0}\" errors=\"0\" skipped=\"0\" time=\"0.000\">\n{cases}  </testsuite>\n",
            pending.len()
        ),
        pending.len(),
    )
}

/// The XML for `engines` of `record` (and, when `engines` names
/// `model`, a suite of the pending model snapshots).
pub fn junit_xml(record: &RunRecord, engines: &[&str], known: &KnownDivergences) -> String {
    let mut suites = String::new();
    let mut totals = [0usize; 4];
    let mut total_time = 0.0;
    for engine in engines {
        if *engine == MODEL_SUITE {
            let (suite, failures) = model_suite(record);
            suites.push_str(&suite);
            totals[0] += failures;
            totals[1] += failures;
            continue;
        }
        let mut cases = String::new();
        let mut counts = [0usize; 4]; // tests, failures, errors, skipped
        let mut time = 0.0;
        for r in record.results_of(engine) {
            counts[0] += 1;
            let seconds = r.duration_ms as f64 / 1000.0;
            time += seconds;
            let name = r.case.rsplit('/').next().unwrap_or(&r.case);
            cases.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"{seconds:.3}\"",
                xml(&classname(engine, &r.case)),
                xml(name),
                xml(&r.case)
            ));
            let body = match kind(r, known) {
                Kind::Passed => String::new(),
                Kind::Contested(issues) => {
                    format!("      <system-out>{}</system-out>\n", xml(&issues))
                }
                Kind::Skipped(why) => {
                    counts[3] += 1;
                    format!("      <skipped message=\"{}\"/>\n", xml(&why))
                }
                Kind::Flaky => r
                    .earlier_attempts
                    .iter()
                    .enumerate()
                    .map(|(i, a)| {
                        let diff = match &a.snapshot {
                            SnapshotStatus::Changed { diff, .. } => diff.clone(),
                            other => super::render::snapshot_note(other).to_owned(),
                        };
                        format!(
                            "      <flakyFailure message=\"attempt {} of {}: {}, snapshot changed\" type=\"unexpected\"><stackTrace>{}</stackTrace></flakyFailure>\n",
                            i + 1,
                            r.earlier_attempts.len() + 1,
                            xml(a.verdict.name()),
                            xml(&diff)
                        )
                    })
                    .collect(),
                Kind::Failure(message, diff) => {
                    counts[1] += 1;
                    format!(
                        "      <failure message=\"{}\" type=\"unexpected\">{}</failure>\n",
                        xml(&message),
                        xml(&diff)
                    )
                }
                Kind::Error(verdict, reason) => {
                    counts[2] += 1;
                    format!(
                        "      <error message=\"{}\" type=\"{}\">{}</error>\n",
                        xml(&reason),
                        xml(&verdict),
                        xml(&reason)
                    )
                }
            };
            if body.is_empty() {
                cases.push_str("/>\n");
            } else {
                cases.push_str(&format!(">\n{body}    </testcase>\n"));
            }
        }
        for (t, c) in totals.iter_mut().zip(counts) {
            *t += c;
        }
        total_time += time;
        suites.push_str(&format!(
            "  <testsuite name=\"pmconf.{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{time:.3}\">\n    <properties>\n      <property name=\"engine\" value=\"{}\"/>\n      <property name=\"browser_version\" value=\"{}\"/>\n    </properties>\n{cases}  </testsuite>\n",
            xml(engine),
            counts[0],
            counts[1],
            counts[2],
            counts[3],
            xml(engine),
            xml(record.browser_version(engine).unwrap_or(""))
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"pmconf\" tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{total_time:.3}\">\n{suites}</testsuites>\n",
        totals[0], totals[1], totals[2], totals[3]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classnames_carry_the_engine_and_directory() {
        assert_eq!(
            classname("firefox", "cases/opaque/x.yaml"),
            "firefox.cases.opaque"
        );
        assert_eq!(classname("firefox", "x.yaml"), "firefox");
    }

    #[test]
    fn xml_text_has_no_forbidden_characters() {
        assert_eq!(xml("a<b&\u{1}\u{FFFF}"), "a&lt;b&amp;\u{2401}\u{FFFD}");
    }
}
