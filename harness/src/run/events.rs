//! The events a run emits. Reports (terminal, JSON, HTML) consume only
//! these, as wptrunner's formatters consume its event stream, so each can be
//! tested with synthetic events and no browser.

use super::verdict::Verdict;
use pmconf_model::contested::ContestedOutcome;
use pmconf_model::Outcome;
use serde::{Deserialize, Serialize};

/// One engine taking part in a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EngineInfo {
    /// `chromium`, `firefox` or `webkitgtk`.
    pub engine: String,
    /// The browser's version as its session reported it.
    pub browser_version: String,
}

/// How a case's observation compares with its accepted snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum SnapshotStatus {
    /// Same as the accepted snapshot.
    Matched,
    /// No accepted snapshot existed; a pending one was written.
    New {
        /// The pending file (`.snap.new`).
        pending: String,
    },
    /// Different from the accepted snapshot; a pending one was written.
    Changed {
        /// The pending file (`.snap.new`).
        pending: String,
        /// A unified diff, accepted to observed.
        diff: String,
    },
    /// Written as accepted (`--accept-snapshots`, never in CI).
    Accepted,
    /// Not compared (inconclusive and internal-error results never touch
    /// snapshots).
    NotCompared,
}

impl SnapshotStatus {
    /// Whether this status makes the run fail.
    pub fn is_unexpected(&self) -> bool {
        matches!(
            self,
            SnapshotStatus::New { .. } | SnapshotStatus::Changed { .. }
        )
    }
}

/// The result of one case in one engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseResult {
    /// The engine.
    pub engine: String,
    /// The case file, relative, with `/`.
    pub case: String,
    /// The case's description.
    pub description: String,
    /// The verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// What the engine showed, when it showed anything.
    pub observed: Option<Outcome>,
    /// What the model allows.
    pub allowed: Vec<Outcome>,
    /// What the model holds contested: outcomes an open issue of the HTML
    /// Standard leaves open, each naming it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contested: Vec<ContestedOutcome>,
    /// How it compares with the accepted snapshot.
    pub snapshot: SnapshotStatus,
    /// Wall time spent on this case in milliseconds (cases run in batches,
    /// so this is the batch's time divided among its cases; summed over
    /// repeated runs).
    pub duration_ms: u64,
    /// How often the case ran in this engine (`--repeat` for race cases,
    /// 1 otherwise).
    #[serde(default = "one")]
    pub runs: usize,
    /// Each distinct outcome observed, how often, and whether the model
    /// allows it, sorted by outcome. Runs that ended inconclusive or in an
    /// internal error are not in it (see `unobserved_runs`).
    #[serde(default)]
    pub histogram: Vec<OutcomeCount>,
    /// Allowed outcomes no run produced.
    #[serde(default)]
    pub not_seen: Vec<Outcome>,
    /// Runs that observed nothing (inconclusive or internal error), with
    /// the first such run's reason.
    #[serde(default)]
    pub unobserved_runs: usize,
    /// Why the first unobserved run observed nothing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unobserved_reason: Option<String>,
    /// Earlier attempts at this case in this engine, oldest first: each was
    /// unexpected, so the case was run again (`run --retry-unexpected`).
    /// Empty when the first attempt stood.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub earlier_attempts: Vec<EarlierAttempt>,
    /// A pending snapshot an earlier attempt wrote that is still on disk
    /// although the last attempt matched: a race case's rare unaccepted
    /// outcome, offered for review.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_pending: Option<String>,
}

/// An attempt at a case that was unexpected (its snapshot changed) and so
/// was run again, as wptrunner's `--retry-unexpected` reruns a test until
/// it runs as expected. Kept so that a result that was expected only on a
/// retry still shows what the first attempt saw.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EarlierAttempt {
    /// The attempt's verdict.
    #[serde(flatten)]
    pub verdict: Verdict,
    /// Its runs.
    pub runs: usize,
    /// Its outcome histogram.
    pub histogram: Vec<OutcomeCount>,
    /// How it compared with the accepted snapshot (what made it
    /// unexpected).
    pub snapshot: SnapshotStatus,
}

impl EarlierAttempt {
    /// This attempt as a result of `case` (its histogram and runs, no
    /// unseen outcomes: the last attempt lists those), so reports can
    /// draw it as they draw any result.
    pub fn as_result(&self, case: &CaseResult) -> CaseResult {
        CaseResult {
            verdict: self.verdict.clone(),
            runs: self.runs,
            histogram: self.histogram.clone(),
            not_seen: vec![],
            snapshot: self.snapshot.clone(),
            unobserved_runs: 0,
            unobserved_reason: None,
            earlier_attempts: vec![],
            kept_pending: None,
            ..case.clone()
        }
    }
}

fn one() -> usize {
    1
}

/// A case's model answer compared with its accepted model snapshot
/// (`snapshots/model/<name>.snap`). A new or changed one is pending for
/// review and fails the run like an engine's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSnapshotResult {
    /// The case file, relative, with `/`.
    pub case: String,
    /// How the model's answer compares with the accepted model snapshot.
    pub snapshot: SnapshotStatus,
}

impl ModelSnapshotResult {
    /// Whether this makes the run fail (a new or changed model snapshot).
    pub fn is_unexpected(&self) -> bool {
        self.snapshot.is_unexpected()
    }
}

/// One bar of an outcome histogram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeCount {
    /// The outcome.
    pub outcome: Outcome,
    /// How many runs produced it.
    pub count: usize,
    /// Whether the model allows it.
    pub allowed: bool,
}

impl OutcomeCount {
    /// Counts `observed` outcomes into a histogram sorted by outcome, and
    /// lists the `allowed` outcomes no run produced.
    pub fn histogram(
        observed: &[Outcome],
        allowed: &[Outcome],
    ) -> (Vec<OutcomeCount>, Vec<Outcome>) {
        let mut bars: Vec<OutcomeCount> = Vec::new();
        for o in observed {
            match bars.iter_mut().find(|b| &b.outcome == o) {
                Some(b) => b.count += 1,
                None => bars.push(OutcomeCount {
                    outcome: o.clone(),
                    count: 1,
                    allowed: o.is_in(allowed),
                }),
            }
        }
        bars.sort_by_cached_key(|b| b.outcome.canonical_key());
        let not_seen = allowed
            .iter()
            .filter(|a| !observed.iter().any(|o| o.matches(a)))
            .cloned()
            .collect();
        (bars, not_seen)
    }
}

impl CaseResult {
    /// A result with no outcomes and no description: a fixture for tests
    /// of the reports.
    pub fn bare(engine: &str, case: &str, verdict: Verdict, snapshot: SnapshotStatus) -> Self {
        CaseResult {
            engine: engine.into(),
            case: case.into(),
            description: String::new(),
            verdict,
            observed: None,
            allowed: vec![],
            contested: vec![],
            snapshot,
            duration_ms: 1,
            runs: 1,
            histogram: vec![],
            not_seen: vec![],
            unobserved_runs: 0,
            unobserved_reason: None,
            earlier_attempts: vec![],
            kept_pending: None,
        }
    }

    /// The contested outcome `outcome` is, if it is one.
    pub fn contested_as(&self, outcome: &Outcome) -> Option<&ContestedOutcome> {
        self.contested.iter().find(|c| outcome.matches(&c.outcome))
    }

    /// Whether this result is flaky: an earlier attempt was unexpected but
    /// the last one ran as expected. It does not fail the run; the reports
    /// list it with what the earlier attempt saw.
    pub fn is_flaky(&self) -> bool {
        !self.earlier_attempts.is_empty() && !self.is_unexpected()
    }

    /// Whether this result makes the run fail: a changed or new snapshot,
    /// or no conclusion at all.
    pub fn is_unexpected(&self) -> bool {
        self.snapshot.is_unexpected()
            || matches!(
                self.verdict,
                Verdict::Inconclusive { .. }
                    | Verdict::InternalError { .. }
                    | Verdict::Crashed { .. }
            )
    }
}

/// An event of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
// A run has a few hundred events, each handled once: boxing the large
// CaseEnd variant would buy nothing but indirection for every reporter.
#[allow(clippy::large_enum_variant)]
pub enum RunEvent {
    /// What the run is (when, which pmconf, the command line, the cases'
    /// files, references and calls); sent first, by `pmconf run`. Runs
    /// that do not send it (benchmarks, fuzzing) get reports without it.
    RunInfo(super::info::RunInfo),
    /// A case's model snapshot is not as accepted (new, changed, or
    /// written as accepted). Sent before `SuiteStart`, one per such case:
    /// the model's answer needs no browser.
    ModelSnapshot(ModelSnapshotResult),
    /// The run starts.
    SuiteStart {
        /// Engines requested.
        engines: Vec<String>,
        /// Number of cases per engine.
        cases: usize,
    },
    /// An engine's session is up.
    EngineStart(EngineInfo),
    /// An engine could not be set up; none of its cases run.
    EngineSetupFailed {
        /// The engine.
        engine: String,
        /// What went wrong and how to fix it.
        error: String,
    },
    /// A case starts in an engine.
    CaseStart {
        /// The engine.
        engine: String,
        /// The case file.
        case: String,
    },
    /// A case ended in an engine.
    CaseEnd(CaseResult),
    /// An engine's session died (its browser or driver crashed, or a
    /// command hung): it is being replaced, or, with `given_up`, the
    /// engine is given up for the rest of the run.
    EngineRestart {
        /// The engine.
        engine: String,
        /// What happened.
        reason: String,
        /// Whether the engine was given up (its remaining cases are
        /// reported crashed).
        given_up: bool,
    },
    /// An engine finished its cases.
    EngineEnd {
        /// The engine.
        engine: String,
        /// Runs made: a race case's repeats and every case run again each
        /// count, so reports count cases from `CaseEnd` (one per case).
        cases: usize,
        /// Seconds spent running cases (session start excluded).
        seconds: f64,
    },
    /// The run ends.
    SuiteEnd {
        /// Seconds for the whole run.
        seconds: f64,
    },
}

/// A consumer of run events.
pub trait Reporter: Send {
    /// Called for every event, in order.
    fn on_event(&mut self, event: &RunEvent);
    /// Called once after `SuiteEnd`: write files, print summaries.
    fn finish(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    /// The files the last `finish` wrote, in order (none for a reporter
    /// that writes no file), so a run can say where its reports are.
    fn written(&self) -> Vec<std::path::PathBuf> {
        Vec::new()
    }
}
