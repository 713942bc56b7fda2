//! The terminal reporter: quiet progress while running, the full story at
//! the end.

mod end;
mod palette;

use super::escape::terminal_safe;
use super::record::RunRecord;
use super::render::snapshot_note;
use crate::run::events::{CaseResult, EngineInfo, Reporter, RunEvent, SnapshotStatus};
use crate::run::verdict::Verdict;
use palette::Palette;
use std::io::{self, Write};

/// Progress dots per line before wrapping.
const DOTS_PER_LINE: usize = 72;

/// Writes a run's progress and summary as text.
///
/// While running: one line per engine start, setup failure and engine end;
/// a `.` per conforming case and an `x` per known divergence; one line per
/// unexpected result as it happens. At `SuiteEnd` (or at `finish` if the
/// run was cut short): a summary table (with a `runs` column when race
/// cases ran more than once), each divergence as a diff against the
/// nearest allowed outcome, each repeated (race) result with its outcome
/// histogram, inconclusive results and internal errors with reasons,
/// pending snapshots, and a one-line verdict.
pub struct TerminalReporter<W: Write> {
    out: W,
    palette: Palette,
    record: RunRecord,
    /// Progress characters on the current line, so any other line starts
    /// on a fresh one.
    dots_on_line: usize,
    end_written: bool,
    /// The first write error; `on_event` cannot return it, `finish` does.
    error: Option<io::Error>,
}

impl<W: Write> TerminalReporter<W> {
    /// A reporter writing to `out` (stdout, or a `Vec<u8>` in tests), with
    /// ANSI colors only if `color`.
    pub fn new(out: W, color: bool) -> Self {
        Self {
            out,
            palette: Palette::new(color),
            record: RunRecord::new(),
            dots_on_line: 0,
            end_written: false,
            error: None,
        }
    }

    /// The writer back, e.g. to read what was written.
    pub fn into_inner(self) -> W {
        self.out
    }

    fn write(&mut self, text: &str) {
        if self.error.is_some() {
            return;
        }
        if let Err(e) = self
            .out
            .write_all(text.as_bytes())
            .and_then(|()| self.out.flush())
        {
            self.error = Some(e);
        }
    }

    /// Ends the current line of progress dots, if any.
    fn end_progress_line(&mut self) {
        if self.dots_on_line > 0 {
            self.dots_on_line = 0;
            self.write("\n");
        }
    }

    /// Writes a whole line, on a line of its own.
    fn line(&mut self, text: &str) {
        self.end_progress_line();
        self.write(&format!("{text}\n"));
    }

    fn dot(&mut self, dot: &str) {
        if self.dots_on_line == DOTS_PER_LINE {
            self.dots_on_line = 0;
            self.write("\n");
        }
        self.dots_on_line += 1;
        self.write(dot);
    }

    fn case_ended(&mut self, result: &CaseResult) {
        if result.is_unexpected() {
            let line = unexpected_line(result);
            self.line(&self.palette.red(&line));
        } else if result.verdict == Verdict::Conforms {
            self.dot(".");
        } else {
            let x = self.palette.yellow("x");
            self.dot(&x);
        }
    }

    fn write_end(&mut self) {
        if self.end_written {
            return;
        }
        self.end_written = true;
        let text = end::end_of_run(&self.record, self.palette);
        self.end_progress_line();
        self.write(&text);
    }
}

impl<W: Write + Send> Reporter for TerminalReporter<W> {
    fn on_event(&mut self, event: &RunEvent) {
        self.record.record(event);
        match event {
            RunEvent::SuiteStart { .. } | RunEvent::CaseStart { .. } => {}
            RunEvent::EngineStart(EngineInfo {
                engine,
                browser_version,
            }) => {
                let cases = self.record.cases_per_engine;
                self.line(&format!(
                    "{} {}: running {cases} case{}",
                    terminal_safe(engine),
                    terminal_safe(browser_version),
                    if cases == 1 { "" } else { "s" }
                ));
            }
            RunEvent::EngineSetupFailed { engine, error } => {
                let first_line = error.lines().next().unwrap_or("");
                let line = format!(
                    "{}: setup failed: {}",
                    terminal_safe(engine),
                    terminal_safe(first_line)
                );
                self.line(&self.palette.red(&line));
            }
            RunEvent::CaseEnd(result) => self.case_ended(result),
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
                engine,
                cases,
                seconds,
            } => {
                let rate = if *seconds > 0.0 {
                    format!(" ({:.2} cases/s)", *cases as f64 / seconds)
                } else {
                    String::new()
                };
                self.line(&format!(
                    "{}: {cases} cases in {seconds:.1} s{rate}",
                    terminal_safe(engine)
                ));
            }
            RunEvent::SuiteEnd { .. } => self.write_end(),
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
    fn progress_is_dots_and_wraps() {
        let mut reporter = TerminalReporter::new(Vec::new(), false);
        for _ in 0..DOTS_PER_LINE + 1 {
            reporter.on_event(&RunEvent::CaseEnd(result(
                Verdict::Conforms,
                SnapshotStatus::Matched,
            )));
        }
        reporter.on_event(&RunEvent::CaseEnd(result(
            Verdict::Diverges,
            SnapshotStatus::Matched,
        )));
        reporter.on_event(&RunEvent::EngineEnd {
            engine: "firefox".into(),
            cases: 74,
            seconds: 2.0,
        });
        let text = String::from_utf8(reporter.into_inner()).unwrap();
        let expected = format!(
            "{}\n.x\nfirefox: 74 cases in 2.0 s (37.00 cases/s)\n",
            ".".repeat(DOTS_PER_LINE)
        );
        assert_eq!(text, expected);
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
