//! One section per result worth a closer look: what it is, the case file
//! and its references, the reason, the outcome histogram, the observed
//! outcome against the nearest allowed one (each post beside its call),
//! and the snapshot diff.

use super::{anchor, cell_classes, cell_text, detailed, index_of, status_words};
use crate::report::calls::{annotate_snapshot_diff, outcome_diff_with_calls, outcome_text};
use crate::report::escape::html_escape;
use crate::report::record::RunRecord;
use crate::report::render::{
    histogram_rows, is_repeated, nearest_allowed, snapshot_note, DiffSide,
};
use crate::report::summary::plural;
use crate::run::events::{CaseResult, SnapshotStatus};
use crate::run::info::PostCall;
use crate::run::verdict::Verdict;
use std::fmt::Write as _;

/// Every detail section, needs-action first, then by case and engine.
pub(super) fn details(page: &mut String, record: &RunRecord) {
    let detailed = detailed(record);
    if detailed.is_empty() {
        return;
    }
    page.push_str("<h2>Details</h2>\n");
    for result in detailed {
        detail(page, record, result);
    }
}

fn detail(page: &mut String, record: &RunRecord, result: &CaseResult) {
    let calls = record.calls(&result.case);
    let _ = writeln!(
        page,
        "<section class=\"detail\" id=\"{}\">\n<h3>{} — {} <span class=\"tag {}\">{}</span></h3>",
        anchor(index_of(record, result), result),
        html_escape(&result.engine),
        html_escape(&result.case),
        cell_classes(result),
        html_escape(&cell_text(result))
    );
    if !result.description.is_empty() {
        let _ = writeln!(
            page,
            "<p class=\"description\">{}</p>",
            html_escape(&result.description)
        );
    }
    case_links(page, record, &result.case);
    if let Some(reason) = result.verdict.reason() {
        let _ = writeln!(
            page,
            "<p>Reason:</p>\n<pre class=\"reason\">{}</pre>",
            html_escape(reason)
        );
    }
    let _ = writeln!(page, "<p>{}</p>", status_words(result));
    if is_repeated(result) {
        histogram(page, result, calls);
    }
    if result.verdict == Verdict::Diverges {
        outcomes(page, result, calls);
    }
    snapshot(page, &result.snapshot, calls);
    earlier_attempts(page, result, calls);
    page.push_str("</section>\n");
}

/// The case file (a `file:` link) and each reference (a link when it is
/// an http(s) URL, else text).
fn case_links(page: &mut String, record: &RunRecord, case: &str) {
    let Some(info) = record.case_info(case) else {
        return;
    };
    if let Some(file) = &info.file {
        let href = url::Url::from_file_path(file)
            .map(String::from)
            .unwrap_or_else(|()| file.clone());
        let _ = writeln!(
            page,
            "<p class=\"case-file\">Case file: <a href=\"{}\">{}</a></p>",
            html_escape(&href),
            html_escape(file)
        );
    }
    if info.references.is_empty() {
        return;
    }
    page.push_str("<p class=\"references\">References:</p>\n<ul class=\"references\">\n");
    for reference in &info.references {
        let linkable =
            url::Url::parse(reference).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if linkable {
            let _ = writeln!(
                page,
                "<li><a href=\"{0}\">{0}</a></li>",
                html_escape(reference)
            );
        } else {
            let _ = writeln!(page, "<li>{}</li>", html_escape(reference));
        }
    }
    page.push_str("</ul>\n");
}

/// The attempts that were unexpected and made the case run again, each
/// with its histogram and snapshot diff, then the pending snapshot kept.
fn earlier_attempts(page: &mut String, result: &CaseResult, calls: &[PostCall]) {
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
        histogram(page, &attempt.as_result(result), calls);
        if let SnapshotStatus::Changed { diff, .. } = &attempt.snapshot {
            let _ = writeln!(
                page,
                "<pre class=\"snapshot-diff\">{}</pre>",
                html_escape(&annotate_snapshot_diff(diff, calls))
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
/// summary, which opens onto the whole outcome.
fn histogram(page: &mut String, result: &CaseResult, calls: &[PostCall]) {
    let _ = writeln!(
        page,
        "<h4>Outcomes over {}</h4>\n<table class=\"histogram\">\n<thead><tr><th>outcome</th><th>runs</th><th>allowed?</th></tr></thead>\n<tbody>",
        plural(result.runs, "run", "runs")
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
            html_escape(&outcome_text(row.outcome, calls)),
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
/// outcome in full; posts beside their calls.
fn outcomes(page: &mut String, result: &CaseResult, calls: &[PostCall]) {
    if let Some(observed) = &result.observed {
        if let Some(nearest) = nearest_allowed(observed, &result.allowed) {
            let _ = writeln!(
                page,
                "<h4>Allowed #{} of {} (the nearest) vs observed</h4>\n<pre class=\"diff\">",
                nearest + 1,
                result.allowed.len()
            );
            for line in outcome_diff_with_calls(&result.allowed[nearest], observed, calls) {
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
            html_escape(&outcome_text(observed, calls))
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
            html_escape(&outcome_text(allowed, calls))
        );
    }
}

fn snapshot(page: &mut String, status: &SnapshotStatus, calls: &[PostCall]) {
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
                html_escape(&annotate_snapshot_diff(diff, calls))
            );
        }
        _ => return,
    }
    page.push_str("<p>Review with <code>pmconf review</code> and accept or reject each pending snapshot.</p>\n");
}
