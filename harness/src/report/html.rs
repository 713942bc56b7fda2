//! The HTML reporter: one self-contained static page (inline CSS, no
//! JavaScript, no external assets), so it can be archived by CI and opened
//! anywhere.

mod details;
mod top;

use super::escape::html_escape;
use super::record::RunRecord;
use super::render::{is_repeated, snapshot_note};
use super::summary::{plural, RunSummary};
use super::triage::{report_order, Action, Attention};
use crate::atomic::{write_atomically, Dir};
use crate::run::events::{CaseResult, Reporter, RunEvent};
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

const STYLE: &str = include_str!("html/style.css");

/// Collects a run's events and writes, at `finish`, one HTML page (see
/// [`render_html`]), atomically.
pub struct HtmlReporter {
    path: PathBuf,
    record: RunRecord,
    written: bool,
}

impl HtmlReporter {
    /// A reporter that will write to `path` (its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            record: RunRecord::new(),
            written: false,
        }
    }

    /// Where the page goes.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Reporter for HtmlReporter {
    fn on_event(&mut self, event: &RunEvent) {
        self.record.record(event);
    }

    fn finish(&mut self) -> io::Result<()> {
        write_atomically(
            &self.path,
            render_html(&self.record).as_bytes(),
            Dir::MustExist,
        )?;
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

/// The page, in this order: the run's header (date and time, pmconf
/// revision, command line, engines with versions), the verdict line, the
/// **needs action** section (every result that fails the run, and engines
/// that failed to start), the flaky results, the engines' counts, a matrix
/// of cases by engines coloured by expectation (with a legend), and a
/// details section per result that needs action, is flaky, diverges, or
/// ran more than once; details come needs-action first, then by case path
/// and engine.
///
/// Every piece of text from the run goes through [`html_escape`].
pub fn render_html(record: &RunRecord) -> String {
    let summary = RunSummary::of(record);
    let mut page = String::new();
    page.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    page.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    page.push_str("<title>pmconf results</title>\n");
    let _ = write!(
        page,
        "<style>\n{STYLE}</style>\n</head>\n<body>\n<h1>pmconf results</h1>\n"
    );
    top::header(&mut page, record);
    let verdict_class = if summary.passed() {
        "pass"
    } else if summary.needs_review_only() {
        "review"
    } else {
        "fail"
    };
    let _ = writeln!(
        page,
        "<p class=\"verdict {verdict_class}\">{}</p>",
        html_escape(&summary.verdict_line())
    );
    top::needs_action(&mut page, record);
    top::flaky(&mut page, record);
    engines_table(&mut page, record, &summary);
    matrix(&mut page, record);
    crate::report::contested::html_section(&mut page, record);
    details::details(&mut page, record);
    page.push_str("</body>\n</html>\n");
    page
}

/// Engines by verdict counts; with a `flaky` column when any result was,
/// and a `runs` column before `cases/s` when race cases ran more than
/// once. Each count cell names its key in the results file's `summary`
/// (`data-key`), so the page can be checked against that file.
fn engines_table(page: &mut String, record: &RunRecord, summary: &RunSummary) {
    let repeated = record.results.iter().any(is_repeated);
    let flaky = summary.totals.flaky > 0;
    page.push_str("<h2>Engines</h2>\n<table class=\"engines\" id=\"engines\">\n<thead><tr>");
    let mut columns: Vec<(&str, &str)> = vec![
        ("conforms", "conforms"),
        ("diverges", "diverges"),
        ("accepted", "accepted_divergences"),
        ("inconclusive", "inconclusive"),
        ("internal-error", "internal_error"),
        ("unexpected", "unexpected"),
    ];
    if flaky {
        columns.push(("flaky", "flaky"));
    }
    if repeated {
        columns.push(("runs", "runs"));
    }
    page.push_str("<th>engine</th><th>browser</th>");
    for (heading, _) in &columns {
        let _ = write!(page, "<th>{heading}</th>");
    }
    page.push_str("<th>cases/s</th></tr></thead>\n<tbody>\n");
    for e in &summary.engines {
        let c = &e.counts;
        let _ = write!(
            page,
            "<tr data-engine=\"{0}\"><td>{0}</td><td>{1}</td>",
            html_escape(&e.engine),
            html_escape(e.browser_version.as_deref().unwrap_or("-"))
        );
        for (_, key) in &columns {
            let n = match *key {
                "conforms" => c.conforms,
                "diverges" => c.diverges,
                "accepted_divergences" => c.accepted_divergences,
                "inconclusive" => c.inconclusive,
                "internal_error" => c.internal_error,
                "unexpected" => c.unexpected,
                "flaky" => c.flaky,
                _ => c.runs,
            };
            let class = if *key == "unexpected" && n > 0 {
                "count unexpected"
            } else {
                "count"
            };
            let _ = write!(page, "<td class=\"{class}\" data-key=\"{key}\">{n}</td>");
        }
        let rate = e
            .cases_per_second
            .map_or("-".to_owned(), |r| format!("{r:.2}"));
        let _ = writeln!(
            page,
            "<td class=\"count\" data-key=\"cases_per_second\">{rate}</td></tr>"
        );
    }
    for failure in &record.setup_failures {
        let _ = writeln!(
            page,
            "<tr class=\"setup-failed\" data-engine=\"{}\"><td>{}</td><td colspan=\"{}\"><span class=\"unexpected\">setup failed</span><pre>{}</pre></td></tr>",
            html_escape(&failure.engine),
            html_escape(&failure.engine),
            columns.len() + 2,
            html_escape(&failure.error)
        );
    }
    page.push_str("</tbody>\n</table>\n");
}

/// Whether a result gets a details section (and its cell a link):
/// everything but a plain pass.
fn has_details(result: &CaseResult) -> bool {
    Attention::of(result) != Attention::Pass || is_repeated(result)
}

/// The CSS classes of a result's cells, by what it asks of the reader.
fn cell_classes(result: &CaseResult) -> String {
    Attention::of(result).css_classes()
}

/// What a result's cell says: its verdict, what makes it need action or
/// stand apart, and how often it ran.
fn cell_text(result: &CaseResult) -> String {
    let verdict = result.verdict.name();
    let (mut text, mut notes) = match Attention::of(result) {
        Attention::NeedsAction(action) => (action.describe(result), vec![]),
        Attention::Flaky => (verdict.to_owned(), vec!["flaky".to_owned()]),
        Attention::Contested => (verdict.to_owned(), vec![]),
        Attention::AcceptedDivergence => (verdict.to_owned(), vec!["accepted".to_owned()]),
        Attention::Pass => (verdict.to_owned(), vec![]),
    };
    if is_repeated(result) {
        notes.push(plural(result.runs, "run", "runs"));
    }
    if !notes.is_empty() {
        let _ = write!(text, " ({})", notes.join("; "));
    }
    text
}

/// The anchor of the result at `index` in the record: unique by the index,
/// readable by the rest, and made of characters that need no escaping.
fn anchor(index: usize, result: &CaseResult) -> String {
    let slug: String = format!("{}-{}", result.engine, result.case)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("r{index}-{slug}")
}

/// The index of `result` in the record (it is one of its results).
fn index_of(record: &RunRecord, result: &CaseResult) -> usize {
    record
        .results
        .iter()
        .position(|r| std::ptr::eq(r, result))
        .unwrap_or(usize::MAX)
}

/// The matrix legend: one swatch per colour a cell can have.
fn legend(page: &mut String) {
    page.push_str("<ul class=\"legend\">\n");
    let kinds = [
        Attention::NeedsAction(Action::SnapshotChanged),
        Attention::NeedsAction(Action::NewSnapshot),
        Attention::Flaky,
        Attention::Contested,
        Attention::AcceptedDivergence,
        Attention::Pass,
    ];
    let swatches = kinds
        .iter()
        .map(|kind| (kind.css_classes(), kind.legend()))
        .chain([(
            "x-none".to_owned(),
            "not run: the engine failed to start, or the run was cut short",
        )]);
    for (classes, words) in swatches {
        let _ = writeln!(
            page,
            "<li><span class=\"swatch {classes}\"></span> {}</li>",
            html_escape(words)
        );
    }
    page.push_str("</ul>\n");
}

/// Cases (by path) by engines; each cell coloured by what its result asks
/// of the reader and linked to its details.
fn matrix(page: &mut String, record: &RunRecord) {
    let engines = record.all_engines();
    page.push_str("<h2>Results</h2>\n");
    legend(page);
    page.push_str("<table class=\"matrix\" id=\"matrix\">\n<thead><tr><th>case</th>");
    for engine in &engines {
        let _ = write!(page, "<th>{}</th>", html_escape(engine));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    let mut cases = record.cases();
    cases.sort_unstable();
    for case in cases {
        let _ = write!(page, "<tr><th scope=\"row\">{}</th>", html_escape(case));
        for engine in &engines {
            let found = record
                .results
                .iter()
                .enumerate()
                .find(|(_, r)| r.engine == *engine && r.case == case);
            let Some((index, result)) = found else {
                let why = if record.setup_failure(engine).is_some() {
                    "setup failed"
                } else {
                    "not run"
                };
                let _ = write!(page, "<td class=\"x-none\">{why}</td>");
                continue;
            };
            let text = html_escape(&cell_text(result));
            if has_details(result) {
                let _ = write!(
                    page,
                    "<td class=\"{}\"><a href=\"#{}\">{text}</a></td>",
                    cell_classes(result),
                    anchor(index, result),
                );
            } else {
                let _ = write!(page, "<td class=\"{}\">{text}</td>", cell_classes(result));
            }
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
}

/// The results that get details, in report order.
fn detailed(record: &RunRecord) -> Vec<&CaseResult> {
    let with_details: Vec<&CaseResult> = record.results.iter().filter(|r| has_details(r)).collect();
    report_order(&with_details, &record.all_engines())
}

/// A result's one-line status for headings: `unexpected; snapshot
/// changed`.
fn status_words(result: &CaseResult) -> String {
    let expectation = if result.is_unexpected() {
        "unexpected"
    } else {
        "expected"
    };
    format!("{expectation}; {}", snapshot_note(&result.snapshot))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::events::SnapshotStatus;
    use crate::run::verdict::Verdict;

    fn result(engine: &str, case: &str, verdict: Verdict, snapshot: SnapshotStatus) -> CaseResult {
        CaseResult::bare(engine, case, verdict, snapshot)
    }

    #[test]
    fn anchors_are_unique_and_need_no_escaping() {
        let r = result(
            "fire\"fox",
            "a/<b>.yaml",
            Verdict::Conforms,
            SnapshotStatus::Matched,
        );
        assert_eq!(anchor(3, &r), "r3-fire-fox-a--b--yaml");
        assert_ne!(anchor(3, &r), anchor(4, &r));
    }

    #[test]
    fn cells_say_what_the_result_asks_of_the_reader() {
        let known = result("e", "c", Verdict::Diverges, SnapshotStatus::Matched);
        let new = result(
            "e",
            "c",
            Verdict::Conforms,
            SnapshotStatus::New {
                pending: "p".into(),
            },
        );
        let changed = result(
            "e",
            "c",
            Verdict::Conforms,
            SnapshotStatus::Changed {
                pending: "p".into(),
                diff: "d".into(),
            },
        );
        let error = result(
            "e",
            "c",
            Verdict::InternalError { reason: "r".into() },
            SnapshotStatus::NotCompared,
        );
        let fine = result("e", "c", Verdict::Conforms, SnapshotStatus::Matched);
        assert_eq!(cell_classes(&known), "x-accepted");
        assert_eq!(cell_text(&known), "diverges (accepted)");
        assert_eq!(cell_classes(&new), "x-action a-new");
        assert_eq!(cell_text(&new), "conforms, new snapshot (review it)");
        assert_eq!(cell_classes(&changed), "x-action a-changed");
        assert_eq!(cell_text(&changed), "conforms, snapshot changed");
        assert_eq!(cell_classes(&error), "x-action a-internal-error");
        assert_eq!(cell_classes(&fine), "x-pass");
        assert!(!has_details(&fine));
        assert!(has_details(&changed));
        let once_more = CaseResult {
            runs: 1,
            ..fine.clone()
        };
        assert_eq!(cell_text(&once_more), "conforms");
        let race = CaseResult { runs: 5, ..fine };
        assert_eq!(cell_text(&race), "conforms (5 runs)");
        assert!(has_details(&race));
    }

    #[test]
    fn a_missing_cell_says_not_run() {
        let record = RunRecord::from_events(&[
            RunEvent::SuiteStart {
                engines: vec!["a".into(), "b".into()],
                cases: 1,
            },
            RunEvent::CaseEnd(result(
                "a",
                "c.yaml",
                Verdict::Conforms,
                SnapshotStatus::Matched,
            )),
        ]);
        let html = render_html(&record);
        assert!(
            html.contains("<td class=\"x-pass\">conforms</td><td class=\"x-none\">not run</td>"),
            "{html}"
        );
        assert!(!html.contains("<h2>Details</h2>"));
    }
}
