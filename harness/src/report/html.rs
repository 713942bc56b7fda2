//! The HTML reporter: one self-contained static page (inline CSS, no
//! JavaScript, no external assets), so it can be archived by CI and opened
//! anywhere.

use super::atomic::write_atomically;
use super::escape::html_escape;
use super::record::RunRecord;
use super::render::{
    histogram_rows, is_repeated, nearest_allowed, outcome_diff, render_outcome_yaml, snapshot_note,
    DiffSide,
};
use super::summary::RunSummary;
use crate::run::events::{CaseResult, Reporter, RunEvent, SnapshotStatus};
use crate::run::verdict::Verdict;
use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

const STYLE: &str = include_str!("html/style.css");

/// Collects a run's events and writes, at `finish`, one HTML page (see
/// [`render_html`]), atomically.
pub struct HtmlReporter {
    path: PathBuf,
    record: RunRecord,
}

impl HtmlReporter {
    /// A reporter that will write to `path` (its directory must exist).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            record: RunRecord::new(),
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
        write_atomically(&self.path, render_html(&self.record).as_bytes())
    }
}

/// The page: verdict line, engines with versions and counts, a matrix of
/// cases by engines whose cells link to details, and a details section for
/// every result that does not conform, has a snapshot problem, or ran more
/// than once (a race case, whose details show its outcome histogram).
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
    let _ = writeln!(
        page,
        "<p class=\"verdict {}\">{}</p>",
        if summary.passed() { "pass" } else { "fail" },
        html_escape(&summary.verdict_line())
    );
    engines_table(&mut page, record, &summary);
    matrix(&mut page, record);
    crate::report::contested::html_section(&mut page, record);
    details(&mut page, record);
    page.push_str("</body>\n</html>\n");
    page
}

/// Engines by verdict counts; with a `runs` column before `cases/s` when
/// race cases ran more than once.
fn engines_table(page: &mut String, record: &RunRecord, summary: &RunSummary) {
    let repeated = record.results.iter().any(is_repeated);
    page.push_str("<h2>Engines</h2>\n<table class=\"engines\">\n<thead><tr>");
    let mut headings = vec![
        "engine",
        "browser",
        "conforms",
        "diverges",
        "known",
        "inconclusive",
        "internal-error",
        "unexpected",
    ];
    if repeated {
        headings.push("runs");
    }
    headings.push("cases/s");
    let columns = headings.len();
    for heading in headings {
        let _ = write!(page, "<th>{heading}</th>");
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for e in &summary.engines {
        let c = &e.counts;
        let _ = write!(
            page,
            "<tr><td>{}</td><td>{}</td>",
            html_escape(&e.engine),
            html_escape(e.browser_version.as_deref().unwrap_or("-"))
        );
        for n in [
            c.conforms,
            c.diverges,
            c.known_divergences,
            c.inconclusive,
            c.internal_error,
            c.unexpected,
        ] {
            let _ = write!(page, "<td class=\"count\">{n}</td>");
        }
        if repeated {
            let _ = write!(page, "<td class=\"count\">{}</td>", c.runs);
        }
        let rate = e
            .cases_per_second
            .map_or("-".to_owned(), |r| format!("{r:.2}"));
        let _ = writeln!(page, "<td class=\"count\">{rate}</td></tr>");
    }
    for failure in &record.setup_failures {
        let _ = writeln!(
            page,
            "<tr class=\"setup-failed\"><td>{}</td><td colspan=\"{}\"><span class=\"unexpected\">setup failed</span><pre>{}</pre></td></tr>",
            html_escape(&failure.engine),
            columns - 1,
            html_escape(&failure.error)
        );
    }
    page.push_str("</tbody>\n</table>\n");
}

/// Whether a result gets a details section (and its cell a link).
fn has_details(result: &CaseResult) -> bool {
    result.verdict != Verdict::Conforms
        || result.snapshot.is_unexpected()
        || is_repeated(result)
        || result.is_flaky()
}

/// The CSS classes of a result's cell: `v-<verdict>`, plus `unexpected`
/// for what fails the run or `known` for an expected divergence.
fn cell_classes(result: &CaseResult) -> String {
    let mut classes = format!("v-{}", result.verdict.name());
    if result.is_unexpected() {
        classes.push_str(" unexpected");
    } else if result.verdict == Verdict::Diverges {
        classes.push_str(" known");
    }
    classes
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

fn matrix(page: &mut String, record: &RunRecord) {
    let engines = record.all_engines();
    page.push_str("<h2>Results</h2>\n<table class=\"matrix\">\n<thead><tr><th>case</th>");
    for engine in &engines {
        let _ = write!(page, "<th>{}</th>", html_escape(engine));
    }
    page.push_str("</tr></thead>\n<tbody>\n");
    for case in record.cases() {
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
                let _ = write!(page, "<td class=\"v-none\">{why}</td>");
                continue;
            };
            let mut notes: Vec<String> = Vec::new();
            if result.snapshot.is_unexpected() {
                notes.push(snapshot_note(&result.snapshot).to_owned());
            }
            if is_repeated(result) {
                notes.push(format!("{} runs", result.runs));
            }
            if result.is_flaky() {
                notes.push("flaky".to_owned());
            }
            let mut text = result.verdict.name().to_owned();
            if !notes.is_empty() {
                text.push_str(&format!(" ({})", notes.join("; ")));
            }
            if has_details(result) {
                let _ = write!(
                    page,
                    "<td class=\"{}\"><a href=\"#{}\">{}</a></td>",
                    cell_classes(result),
                    anchor(index, result),
                    html_escape(&text)
                );
            } else {
                let _ = write!(
                    page,
                    "<td class=\"{}\">{}</td>",
                    cell_classes(result),
                    html_escape(&text)
                );
            }
        }
        page.push_str("</tr>\n");
    }
    page.push_str("</tbody>\n</table>\n");
}

fn details(page: &mut String, record: &RunRecord) {
    let detailed: Vec<(usize, &CaseResult)> = record
        .results
        .iter()
        .enumerate()
        .filter(|(_, r)| has_details(r))
        .collect();
    if detailed.is_empty() {
        return;
    }
    page.push_str("<h2>Details</h2>\n");
    for (index, result) in detailed {
        detail(page, index, result);
    }
}

fn detail(page: &mut String, index: usize, result: &CaseResult) {
    let _ = writeln!(
        page,
        "<section class=\"detail\" id=\"{}\">\n<h3>{} — {} <span class=\"{}\">{}</span></h3>",
        anchor(index, result),
        html_escape(&result.engine),
        html_escape(&result.case),
        cell_classes(result),
        result.verdict.name()
    );
    if !result.description.is_empty() {
        let _ = writeln!(
            page,
            "<p class=\"description\">{}</p>",
            html_escape(&result.description)
        );
    }
    if let Some(reason) = result.verdict.reason() {
        let _ = writeln!(
            page,
            "<p>Reason:</p>\n<pre class=\"reason\">{}</pre>",
            html_escape(reason)
        );
    }
    let expectation = if result.is_unexpected() {
        "unexpected"
    } else {
        "expected"
    };
    let _ = writeln!(
        page,
        "<p>{expectation}; {}</p>",
        snapshot_note(&result.snapshot)
    );
    if is_repeated(result) {
        histogram(page, result);
    }
    if result.verdict == Verdict::Diverges {
        outcomes(page, result);
    }
    snapshot(page, &result.snapshot);
    earlier_attempts(page, result);
    page.push_str("</section>\n");
}

/// The attempts that were unexpected and made the case run again, each
/// with its histogram and snapshot diff, then the pending snapshot kept.
fn earlier_attempts(page: &mut String, result: &CaseResult) {
    if result.earlier_attempts.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<h4>Run again: {} attempts, the last {}</h4>",
        result.earlier_attempts.len() + 1,
        if result.is_unexpected() {
            "unexpected too"
        } else {
            "as expected (flaky)"
        }
    );
    for (i, attempt) in result.earlier_attempts.iter().enumerate() {
        let _ = writeln!(
            page,
            "<section class=\"attempt\">\n<h4>Attempt {}: {}, {}</h4>",
            i + 1,
            attempt.verdict.name(),
            snapshot_note(&attempt.snapshot)
        );
        histogram(page, &attempt.as_result(result));
        if let SnapshotStatus::Changed { diff, .. } = &attempt.snapshot {
            let _ = writeln!(
                page,
                "<pre class=\"snapshot-diff\">{}</pre>",
                html_escape(diff)
            );
        }
        page.push_str("</section>\n");
    }
    if let Some(pending) = &result.kept_pending {
        let _ = writeln!(
            page,
            "<p>Pending snapshot kept for review: <code>{}</code></p>",
            html_escape(pending)
        );
    }
}

/// A repeated result's histogram: one row per observed outcome (runs,
/// allowed or not), one per allowed outcome no run produced, and one for
/// the runs that observed nothing. Each outcome shows as its one-line
/// summary, which opens onto its YAML.
fn histogram(page: &mut String, result: &CaseResult) {
    let _ = writeln!(
        page,
        "<h4>Outcomes over {} runs</h4>\n<table class=\"histogram\">\n<thead><tr><th>outcome</th><th>runs</th><th>allowed?</th></tr></thead>\n<tbody>",
        result.runs
    );
    let rows = histogram_rows(result);
    let seen = rows.iter().filter(|r| r.count > 0);
    let not_seen = rows.iter().filter(|r| r.count == 0);
    for row in seen.chain(not_seen) {
        let (class, verdict) = match (row.count, row.allowed) {
            (0, _) => ("not-seen", "allowed, not seen"),
            (_, true) => ("allowed", "allowed"),
            (_, false) => (
                "not-allowed",
                "<span class=\"unexpected\">NOT ALLOWED</span>",
            ),
        };
        let _ = writeln!(
            page,
            "<tr class=\"{class}\"><td><details><summary><code>{}</code></summary><pre class=\"outcome\">{}</pre></details></td><td class=\"count\">{}/{}</td><td>{verdict}</td></tr>",
            html_escape(&row.summary),
            html_escape(&render_outcome_yaml(row.outcome)),
            row.count,
            result.runs
        );
    }
    if result.unobserved_runs > 0 {
        let _ = writeln!(
            page,
            "<tr class=\"unobserved\"><td>observed nothing: {}</td><td class=\"count\">{}/{}</td><td>-</td></tr>",
            html_escape(result.unobserved_reason.as_deref().unwrap_or("no reason given")),
            result.unobserved_runs,
            result.runs
        );
    }
    page.push_str("</tbody>\n</table>\n");
}

/// Observed against the nearest allowed outcome as a diff, then each
/// outcome as YAML.
fn outcomes(page: &mut String, result: &CaseResult) {
    if let Some(observed) = &result.observed {
        if let Some(nearest) = nearest_allowed(observed, &result.allowed) {
            let _ = writeln!(
                page,
                "<h4>Allowed #{} of {} (the nearest) vs observed</h4>\n<pre class=\"diff\">",
                nearest + 1,
                result.allowed.len()
            );
            for line in outcome_diff(&result.allowed[nearest], observed) {
                let text = html_escape(&line.text);
                let _ = writeln!(
                    page,
                    "{}",
                    match line.side {
                        DiffSide::Both => format!("  {text}"),
                        DiffSide::Allowed => format!("<span class=\"del\">- {text}</span>"),
                        DiffSide::Observed => format!("<span class=\"ins\">+ {text}</span>"),
                    }
                );
            }
            page.push_str("</pre>\n");
        }
        let _ = writeln!(
            page,
            "<h4>Observed</h4>\n<pre class=\"observed\">{}</pre>",
            html_escape(&render_outcome_yaml(observed))
        );
    } else {
        page.push_str("<h4>Observed</h4>\n<p>nothing</p>\n");
    }
    if result.allowed.is_empty() {
        page.push_str("<h4>Allowed</h4>\n<p>nothing: the model allows no outcome</p>\n");
    }
    for (i, allowed) in result.allowed.iter().enumerate() {
        let _ = writeln!(
            page,
            "<h4>Allowed #{}</h4>\n<pre class=\"allowed\">{}</pre>",
            i + 1,
            html_escape(&render_outcome_yaml(allowed))
        );
    }
}

fn snapshot(page: &mut String, status: &SnapshotStatus) {
    match status {
        SnapshotStatus::New { pending } => {
            let _ = writeln!(
                page,
                "<p>Pending snapshot: <code>{}</code></p>",
                html_escape(pending)
            );
        }
        SnapshotStatus::Changed { pending, diff } => {
            let _ = writeln!(
                page,
                "<p>Pending snapshot: <code>{}</code></p>\n<pre class=\"snapshot-diff\">{}</pre>",
                html_escape(pending),
                html_escape(diff)
            );
        }
        _ => return,
    }
    page.push_str("<p>Review with <code>cargo insta review</code> and accept or reject each pending snapshot.</p>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn cells_say_verdict_and_whether_it_fails_the_run() {
        let known = result("e", "c", Verdict::Diverges, SnapshotStatus::Matched);
        let new = result(
            "e",
            "c",
            Verdict::Diverges,
            SnapshotStatus::New {
                pending: "p".into(),
            },
        );
        let error = result(
            "e",
            "c",
            Verdict::InternalError { reason: "r".into() },
            SnapshotStatus::NotCompared,
        );
        let fine = result("e", "c", Verdict::Conforms, SnapshotStatus::Matched);
        assert_eq!(cell_classes(&known), "v-diverges known");
        assert_eq!(cell_classes(&new), "v-diverges unexpected");
        assert_eq!(cell_classes(&error), "v-internal-error unexpected");
        assert_eq!(cell_classes(&fine), "v-conforms");
        assert!(!has_details(&fine));
        assert!(has_details(&result(
            "e",
            "c",
            Verdict::Conforms,
            SnapshotStatus::New {
                pending: "p".into()
            }
        )));
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
            html.contains(
                "<td class=\"v-conforms\">conforms</td><td class=\"v-none\">not run</td>"
            ),
            "{html}"
        );
        assert!(!html.contains("<h2>Details</h2>"));
    }
}
