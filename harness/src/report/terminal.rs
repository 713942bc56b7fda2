//! The terminal reporter: labelled progress per engine while running,
//! the full story at the end.

mod end;
mod live;
mod palette;

use super::escape::terminal_safe;
use super::record::RunRecord;
use super::render::snapshot_note;
use super::summary::{plural, Counts};
use super::triage::{Action, Attention};
use crate::run::events::{CaseResult, EngineInfo, Reporter, RunEvent, SnapshotStatus};
use crate::run::verdict::Verdict;
use live::LiveBars;
use palette::Palette;
use std::io::{self, Write};

/// Writes a run's progress and summary as text.
///
/// While running, each engine's progress is labelled with its name:
/// on a terminal ([`with_live_progress`](Self::with_live_progress)), one
/// bar per engine redrawn in place; otherwise plain lines: one per engine
/// start, setup failure and end, and one each time an engine passes
/// another tenth of its cases (`chromium: 12/56 cases, 1 unexpected`).
/// Either way, a result that needs action gets a line as it arrives
/// (`UNEXPECTED ...`, or `new snapshot (review it) ...` for a new case
/// that conforms). At `finish` (the bars stop at `SuiteEnd`): a summary
/// table (with a `runs` column when race cases ran more
/// than once), each divergence as a diff against the nearest allowed
/// outcome, each repeated (race) result with its outcome histogram,
/// inconclusive results and internal errors with reasons, pending
/// snapshots, what needs action, the report files written, and a
/// one-line verdict, always the last line (live bars are stopped first).
pub struct TerminalReporter<W: Write> {
    out: W,
    palette: Palette,
    record: RunRecord,
    /// Bars, when progress is drawn live on a terminal.
    live: Option<LiveBars>,
    end_written: bool,
    /// The report files the run wrote, listed just above the verdict.
    reports: Vec<std::path::PathBuf>,
    /// The first write error; `on_event` cannot return it, `finish` does.
    error: Option<io::Error>,
}

impl<W: Write> TerminalReporter<W> {
    /// A reporter writing to `out` (stdout, or a `Vec<u8>` in tests), with
    /// ANSI colors only if `color`, and progress as plain labelled lines.
    pub fn new(out: W, color: bool) -> Self {
        Self {
            out,
            palette: Palette::new(color),
            record: RunRecord::new(),
            live: None,
            end_written: false,
            reports: Vec::new(),
            error: None,
        }
    }

    /// Progress as one live bar per engine, drawn on stdout; for when
    /// stdout is a terminal (and `out` writes to it).
    pub fn with_live_progress(mut self) -> Self {
        self.live = Some(LiveBars::on_stdout());
        self
    }

    /// The report files written (results, HTML, JUnit, wptreports), to
    /// list just above the verdict line; call it before `finish`.
    pub fn reports_written(&mut self, paths: Vec<std::path::PathBuf>) {
        self.reports = paths;
    }

    /// The writer back, e.g. to read what was written.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn write(&mut self, text: &str) {
        if self.error.is_some() {
            return;
        }
        let out = &mut self.out;
        let mut write = || out.write_all(text.as_bytes()).and_then(|()| out.flush());
        let written = match &self.live {
            Some(live) => live.suspend(write),
            None => write(),
        };
        if let Err(e) = written {
            self.error = Some(e);
        }
    }

    /// Writes a whole line.
    fn line(&mut self, text: &str) {
        self.write(&format!("{text}\n"));
    }

    /// How far `engine` is: `12/56 cases, 1 unexpected`.
    fn engine_progress(&self, engine: &str) -> String {
        let counts = Counts::of(self.record.results_of(engine));
        format!(
            "{}/{} cases, {} unexpected",
            counts.total(),
            self.record.cases_per_engine,
            counts.unexpected
        )
    }

    fn case_ended(&mut self, result: &CaseResult) {
        if let Some((line, urgent)) = arrival_line(result) {
            let line = if urgent {
                self.palette.red(&line)
            } else {
                self.palette.yellow(&line)
            };
            self.line(&line);
        }
        match &self.live {
            Some(live) => {
                // The bar shows how far; its message what went wrong.
                let counts = Counts::of(self.record.results_of(&result.engine));
                let message = format!(
                    "{} unexpected, {} accepted",
                    counts.unexpected, counts.accepted_divergences
                );
                live.case_done(&result.engine, message);
            }
            None => {
                let progress = self.engine_progress(&result.engine);
                let done = self.record.results_of(&result.engine).count();
                if passes_a_tenth(done, self.record.cases_per_engine) {
                    self.line(&format!("{}: {progress}", terminal_safe(&result.engine)));
                }
            }
        }
    }

    /// `chromium: 56 cases (62 runs) in 20.0 s (2.80 cases/s)`: distinct
    /// cases, however often each ran; runs only when they differ.
    fn engine_ended(&mut self, engine: &str, seconds: f64) {
        let counts = Counts::of(self.record.results_of(engine));
        let cases = counts.total();
        let runs = if counts.runs != cases {
            format!(" ({})", plural(counts.runs, "run", "runs"))
        } else {
            String::new()
        };
        let rate = if seconds > 0.0 {
            format!(" ({:.2} cases/s)", cases as f64 / seconds)
        } else {
            String::new()
        };
        let summary = format!(
            "{}{runs} in {seconds:.1} s{rate}",
            plural(cases, "case", "cases")
        );
        match &self.live {
            Some(live) => live.finish(engine, summary),
            None => self.line(&format!("{}: {summary}", terminal_safe(engine))),
        }
    }

    /// The bars stop where they are and are drawn no more: whatever is
    /// printed after them stays below them.
    fn stop_bars(&mut self) {
        if let Some(live) = self.live.take() {
            live.stop();
        }
    }

    fn write_end(&mut self) {
        if self.end_written {
            return;
        }
        self.end_written = true;
        self.stop_bars();
        let text = end::end_of_run(&self.record, &self.reports, self.palette);
        self.write(&text);
    }
}

impl<W: Write + Send> Reporter for TerminalReporter<W> {
    fn on_event(&mut self, event: &RunEvent) {
        self.record.record(event);
        match event {
            RunEvent::RunInfo(info) => {
                // What a declared instance is made of, before it runs.
                for instance in info.instances.iter().filter(|i| !i.is_plain_system()) {
                    let line = format!(
                        "engine {}",
                        terminal_safe(&super::describe_instance(instance))
                    );
                    self.line(&line);
                }
            }
            RunEvent::CaseStart { .. } => {}
            RunEvent::SuiteStart { engines, cases } => {
                if let Some(live) = &mut self.live {
                    live.start(engines, *cases);
                }
            }
            RunEvent::EngineStart(EngineInfo {
                engine,
                browser_version,
            }) => {
                let cases = self.record.cases_per_engine;
                let text = format!(
                    "{} {}: running {}",
                    terminal_safe(engine),
                    terminal_safe(browser_version),
                    plural(cases, "case", "cases")
                );
                match &self.live {
                    Some(live) => live.message(engine, terminal_safe(browser_version)),
                    None => self.line(&text),
                }
            }
            RunEvent::EngineSetupFailed { engine, error } => {
                let first_line = terminal_safe(error.lines().next().unwrap_or(""));
                let line = format!("{}: setup failed: {first_line}", terminal_safe(engine));
                match &self.live {
                    Some(live) => live.finish(engine, format!("setup failed: {first_line}")),
                    None => self.line(&self.palette.red(&line)),
                }
            }
            RunEvent::CaseEnd(result) => self.case_ended(result),
            RunEvent::ModelSnapshot(m) => {
                let line = match &m.snapshot {
                    SnapshotStatus::New { pending } => Some(format!(
                        "model snapshot new for {}: {} (review it: pmconf review)",
                        terminal_safe(&m.case),
                        terminal_safe(pending)
                    )),
                    SnapshotStatus::Changed { pending, .. } => Some(format!(
                        "model snapshot changed for {}: {} (review it: pmconf review)",
                        terminal_safe(&m.case),
                        terminal_safe(pending)
                    )),
                    SnapshotStatus::Accepted => Some(format!(
                        "model snapshot accepted for {}",
                        terminal_safe(&m.case)
                    )),
                    _ => None,
                };
                if let Some(line) = line {
                    let line = self.palette.yellow(&line);
                    self.line(&line);
                }
            }
            RunEvent::EngineRestart {
                engine,
                reason,
                given_up,
            } => {
                let line = format!(
                    "{}: {}",
                    terminal_safe(engine),
                    terminal_safe(reason.lines().next().unwrap_or(""))
                );
                let line = if *given_up {
                    self.palette.red(&line)
                } else {
                    self.palette.yellow(&line)
                };
                self.line(&line);
            }
            RunEvent::EngineEnd {
                engine, seconds, ..
            } => self.engine_ended(engine, *seconds),
            // The end comes at `finish`, once the report files are
            // written and can be listed before the verdict.
            RunEvent::SuiteEnd { .. } => self.stop_bars(),
        }
    }

    fn finish(&mut self) -> io::Result<()> {
        // A run cut short still deserves its summary.
        self.write_end();
        match self.error.take() {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Whether the `done`th result of `total` takes an engine into a new
/// tenth of its cases (every result when there are ten or fewer).
fn passes_a_tenth(done: usize, total: usize) -> bool {
    if total == 0 || done == 0 {
        return false;
    }
    done * 10 / total > (done - 1) * 10 / total
}

/// The line printed as soon as a result that needs action arrives, and
/// whether it is urgent (red) rather than a review to do (yellow): a new
/// case that conforms says `new snapshot (review it)`; everything else
/// that fails the run says `UNEXPECTED`.
fn arrival_line(result: &CaseResult) -> Option<(String, bool)> {
    match Attention::of(result) {
        Attention::NeedsAction(Action::NewSnapshot) if result.verdict == Verdict::Conforms => {
            Some((
                format!(
                    "new snapshot (review it) {} {}: conforms",
                    terminal_safe(&result.engine),
                    terminal_safe(&result.case)
                ),
                false,
            ))
        }
        Attention::NeedsAction(_) => Some((unexpected_line(result), true)),
        _ => None,
    }
}

/// The line printed as soon as an unexpected result arrives.
fn unexpected_line(result: &CaseResult) -> String {
    let mut line = format!(
        "UNEXPECTED {} {}: {}",
        terminal_safe(&result.engine),
        terminal_safe(&result.case),
        result.verdict.name()
    );
    if let Some(reason) = result.verdict.reason() {
        line.push_str(&format!(
            " ({})",
            terminal_safe(reason.lines().next().unwrap_or(""))
        ));
    }
    if result.snapshot != SnapshotStatus::NotCompared {
        line.push_str(&format!(", {}", snapshot_note(&result.snapshot)));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(verdict: Verdict, snapshot: SnapshotStatus) -> CaseResult {
        CaseResult::bare("firefox", "opaque/x.yaml", verdict, snapshot)
    }

    #[test]
    fn unexpected_lines_say_what_and_why() {
        let changed = result(
            Verdict::Diverges,
            SnapshotStatus::Changed {
                pending: "p".into(),
                diff: "d".into(),
            },
        );
        assert_eq!(
            unexpected_line(&changed),
            "UNEXPECTED firefox opaque/x.yaml: diverges, snapshot changed"
        );
        let timeout = result(
            Verdict::Inconclusive {
                reason: "timed out\nafter 5 s".into(),
            },
            SnapshotStatus::NotCompared,
        );
        assert_eq!(
            unexpected_line(&timeout),
            "UNEXPECTED firefox opaque/x.yaml: inconclusive (timed out)"
        );
    }

    #[test]
    fn a_new_conforming_case_asks_for_review_instead_of_alarming() {
        let new = || SnapshotStatus::New {
            pending: "p".into(),
        };
        assert_eq!(
            arrival_line(&result(Verdict::Conforms, new())),
            Some((
                "new snapshot (review it) firefox opaque/x.yaml: conforms".to_owned(),
                false
            ))
        );
        assert_eq!(
            arrival_line(&result(Verdict::Diverges, new())),
            Some((
                "UNEXPECTED firefox opaque/x.yaml: diverges, new snapshot".to_owned(),
                true
            ))
        );
        assert_eq!(
            arrival_line(&result(Verdict::Diverges, SnapshotStatus::Matched)),
            None
        );
    }

    #[test]
    fn plain_progress_comes_each_tenth_or_each_case_when_few() {
        let lines = |total| {
            (1..=total)
                .filter(|&d| passes_a_tenth(d, total))
                .collect::<Vec<_>>()
        };
        assert_eq!(lines(3), [1, 2, 3]);
        assert_eq!(lines(20), [2, 4, 6, 8, 10, 12, 14, 16, 18, 20]);
        assert_eq!(lines(56).len(), 10);
        assert_eq!(lines(56).last(), Some(&56));
        assert!(!passes_a_tenth(0, 0));
    }

    struct Broken;
    impl Write for Broken {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "closed"))
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn write_errors_come_back_from_finish() {
        let mut reporter = TerminalReporter::new(Broken, false);
        reporter.on_event(&RunEvent::SuiteEnd { seconds: 0.0 });
        assert_eq!(
            reporter.finish().unwrap_err().kind(),
            io::ErrorKind::BrokenPipe
        );
    }
}
