//! Live progress on a terminal: one labelled bar per engine (indicatif's
//! `MultiProgress`), redrawn in place, with any other line printed above
//! the bars. Used only when stdout is a terminal; elsewhere the reporter
//! prints plain labelled lines (see [`super::plain_progress_line`]).

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Bars for the engines of a run.
pub(crate) struct LiveBars {
    multi: MultiProgress,
    bars: Vec<(String, ProgressBar)>,
}

impl LiveBars {
    /// Bars drawn on stdout.
    pub(crate) fn on_stdout() -> Self {
        Self {
            multi: MultiProgress::with_draw_target(ProgressDrawTarget::stdout()),
            bars: Vec::new(),
        }
    }

    /// One bar per engine, each `cases` long, in the order given.
    pub(crate) fn start(&mut self, engines: &[String], cases: usize) {
        let style =
            ProgressStyle::with_template("{prefix:>9} [{bar:20}] {pos:>4}/{len:<4} {wide_msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        for engine in engines {
            let bar = self.multi.add(ProgressBar::new(cases as u64));
            bar.set_style(style.clone());
            bar.set_prefix(engine.clone());
            bar.set_message("starting");
            self.bars.push((engine.clone(), bar));
        }
    }

    fn bar(&self, engine: &str) -> Option<&ProgressBar> {
        self.bars.iter().find(|(e, _)| e == engine).map(|(_, b)| b)
    }

    /// Sets an engine's message.
    pub(crate) fn message(&self, engine: &str, message: String) {
        if let Some(bar) = self.bar(engine) {
            bar.set_message(message);
        }
    }

    /// One more case done in `engine`, and its new message.
    pub(crate) fn case_done(&self, engine: &str, message: String) {
        if let Some(bar) = self.bar(engine) {
            bar.set_message(message);
            bar.inc(1);
        }
    }

    /// The engine is done (or failed): its bar stays, with `message`.
    pub(crate) fn finish(&self, engine: &str, message: String) {
        if let Some(bar) = self.bar(engine) {
            bar.abandon_with_message(message);
        }
    }

    /// Every bar stops where it is (a run cut short, or its end).
    pub(crate) fn stop(&self) {
        for (_, bar) in &self.bars {
            if !bar.is_finished() {
                bar.abandon();
            }
        }
    }

    /// Runs `f` (which prints) with the bars out of the way, then redraws
    /// them below what it printed.
    pub(crate) fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.multi.suspend(f)
    }
}
