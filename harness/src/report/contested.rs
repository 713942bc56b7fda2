//! Contested results, shown apart from divergences in every report: each
//! names the open issue of the HTML Standard that leaves the observed
//! outcome open, and why, in one line.

use super::escape::{html_escape, terminal_safe};
use super::record::RunRecord;
use crate::run::events::CaseResult;
use crate::run::verdict::Verdict;
use std::fmt::Write as _;

/// The contested results of a run, in order.
pub fn contested_results(record: &RunRecord) -> Vec<&CaseResult> {
    record
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Contested)
        .collect()
}

/// The (issue link, reason) pairs behind a contested result: those of
/// every contested outcome it observed, each pair once.
pub fn issues_of(result: &CaseResult) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    let observed = result
        .histogram
        .iter()
        .map(|bar| &bar.outcome)
        .chain(result.observed.as_ref());
    for outcome in observed {
        if let Some(c) = result.contested_as(outcome) {
            for pair in c.issues.iter().cloned().zip(c.reasons.iter().cloned()) {
                if !out.contains(&pair) {
                    out.push(pair);
                }
            }
        }
    }
    out
}

/// One line for a wptreport message: `contested: <link> (<reason>); ...`.
pub fn one_line(result: &CaseResult) -> String {
    let issues: Vec<String> = issues_of(result)
        .into_iter()
        .map(|(link, reason)| format!("{link} ({reason})"))
        .collect();
    format!("contested: {}", issues.join("; "))
}

/// The terminal's "contested" section (nothing when there is none).
pub fn terminal_section(out: &mut String, record: &RunRecord, bold: impl Fn(&str) -> String) {
    let results = contested_results(record);
    if results.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        bold(&format!(
            "contested ({}): outcomes an open issue of the HTML Standard leaves open, not counted as divergences",
            results.len()
        ))
    );
    for result in results {
        let _ = writeln!(
            out,
            "  {}  {}",
            terminal_safe(&result.engine),
            terminal_safe(&result.case)
        );
        for (link, reason) in issues_of(result) {
            let _ = writeln!(
                out,
                "    {}: {}",
                terminal_safe(&link),
                terminal_safe(&reason)
            );
        }
    }
}

/// The HTML page's "Contested" section (nothing when there is none).
pub fn html_section(page: &mut String, record: &RunRecord) {
    let results = contested_results(record);
    if results.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<h2>Contested</h2>\n<p>Outcomes an open issue of the HTML Standard leaves open: not counted as divergences.</p>\n<ul class=\"contested\">"
    );
    for result in results {
        let _ = write!(
            page,
            "<li><strong>{}</strong> {}<ul>",
            html_escape(&result.engine),
            html_escape(&result.case)
        );
        for (link, reason) in issues_of(result) {
            let _ = write!(
                page,
                "<li><a href=\"{0}\">{0}</a>: {1}</li>",
                html_escape(&link),
                html_escape(&reason)
            );
        }
        page.push_str("</ul></li>\n");
    }
    page.push_str("</ul>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::events::{OutcomeCount, RunEvent, SnapshotStatus};
    use pmconf_model::contested::{ContestedOutcome, SpecIssue};
    use pmconf_model::{Outcome, PostOutcome};

    fn outcome(n: usize) -> Outcome {
        Outcome {
            posts: vec![PostOutcome::returned(n)],
            received: vec![],
        }
    }

    /// A record with one contested result (it saw an allowed and a
    /// contested outcome) and one that diverges.
    pub(crate) fn record() -> RunRecord {
        let mut contested = CaseResult::bare(
            "firefox",
            "races/x.yaml",
            Verdict::Contested,
            SnapshotStatus::Matched,
        );
        contested.allowed = vec![outcome(0)];
        contested.contested = vec![ContestedOutcome::new(
            outcome(1),
            SpecIssue::WindowReuse.bit(),
            vec![],
        )];
        contested.histogram = vec![
            OutcomeCount {
                outcome: outcome(0),
                count: 3,
                allowed: true,
            },
            OutcomeCount {
                outcome: outcome(1),
                count: 2,
                allowed: false,
            },
        ];
        contested.observed = Some(outcome(1));
        let diverges = CaseResult::bare(
            "chromium",
            "races/y.yaml",
            Verdict::Diverges,
            SnapshotStatus::Matched,
        );
        RunRecord::from_events(&[RunEvent::CaseEnd(contested), RunEvent::CaseEnd(diverges)])
    }

    #[test]
    fn each_contested_result_names_its_issue_and_reason_once() {
        let record = record();
        let results = contested_results(&record);
        assert_eq!(results.len(), 1);
        assert_eq!(
            issues_of(results[0]),
            [(
                SpecIssue::WindowReuse.url().to_owned(),
                SpecIssue::WindowReuse.reason().to_owned()
            )]
        );
        assert_eq!(
            one_line(results[0]),
            format!(
                "contested: https://github.com/whatwg/html/issues/3267 ({})",
                SpecIssue::WindowReuse.reason()
            )
        );
    }

    #[test]
    fn terminal_and_html_sections_list_contested_results_apart() {
        let record = record();
        let mut text = String::new();
        terminal_section(&mut text, &record, str::to_owned);
        assert!(text.contains("contested (1)"), "{text}");
        assert!(text.contains("firefox  races/x.yaml"), "{text}");
        assert!(
            text.contains("https://github.com/whatwg/html/issues/3267"),
            "{text}"
        );
        assert!(!text.contains("races/y.yaml"), "{text}");
        let mut page = String::new();
        html_section(&mut page, &record);
        assert!(page.contains("<h2>Contested</h2>"), "{page}");
        assert!(
            page.contains("<a href=\"https://github.com/whatwg/html/issues/3267\">"),
            "{page}"
        );
        assert!(!page.contains("races/y.yaml"), "{page}");
        // Nothing contested, no section.
        let empty = RunRecord::from_events(&[]);
        let mut none = String::new();
        terminal_section(&mut none, &empty, str::to_owned);
        html_section(&mut none, &empty);
        assert!(none.is_empty());
    }
}
