//! The top of the page: the run's header, then what needs action (first,
//! so nothing that fails the run is found by scrolling), then what is
//! shown apart (flaky results).

use super::{anchor, detailed, index_of};
use crate::report::escape::html_escape;
use crate::report::header::header_lines;
use crate::report::record::RunRecord;
use crate::report::triage::{pending_model_snapshots, Attention, MODEL_SNAPSHOT_TODO};
use crate::run::events::{CaseResult, SnapshotStatus};
use std::fmt::Write as _;

/// Date and time, pmconf and its revision, command line, engines.
pub(super) fn header(page: &mut String, record: &RunRecord) {
    page.push_str("<dl class=\"run-info\" id=\"run-info\">\n");
    for line in header_lines(record) {
        let value = code_spans(&html_escape(&line.value));
        let value = if line.label == "command" {
            format!("<code>{value}</code>")
        } else {
            value
        };
        let _ = writeln!(
            page,
            "<dt>{}</dt><dd data-key=\"{}\">{value}</dd>",
            line.label, line.label
        );
    }
    page.push_str("</dl>\n");
}

/// Escaped text with each `` `span` `` (markdown's inline code, as help
/// texts and revision sources write commands) shown as `<code>span</code>`,
/// so no literal backtick reaches the page; a lone backtick stays.
pub(super) fn code_spans(escaped: &str) -> String {
    let mut out = String::with_capacity(escaped.len());
    let mut rest = escaped;
    while let Some(open) = rest.find('`') {
        let Some(close) = rest[open + 1..].find('`') else {
            break;
        };
        out.push_str(&rest[..open]);
        out.push_str("<code>");
        out.push_str(&rest[open + 1..open + 1 + close]);
        out.push_str("</code>");
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

/// One row per result that fails the run (what it is, why, what to do,
/// linked to its details) and per engine that failed to start; or a line
/// saying nothing needs action.
pub(super) fn needs_action(page: &mut String, record: &RunRecord) {
    let results: Vec<&CaseResult> = detailed(record)
        .into_iter()
        .filter(|r| Attention::of(r).needs_action())
        .collect();
    let model = pending_model_snapshots(record);
    let count = results.len() + record.setup_failures.len() + model.len();
    // Red only when something needs action.
    let _ = writeln!(
        page,
        "<section class=\"needs-action{}\" id=\"needs-action\">\n<h2>Needs action ({count})</h2>",
        if count == 0 { " all-clear" } else { "" }
    );
    if count == 0 {
        page.push_str("<p class=\"all-clear\">Nothing needs action: every result is as its accepted snapshot says.</p>\n</section>\n");
        return;
    }
    page.push_str("<table class=\"needs-action\">\n<thead><tr><th>case</th><th>engine</th><th>what</th><th>why, and what to do</th></tr></thead>\n<tbody>\n");
    for failure in &record.setup_failures {
        let _ = writeln!(
            page,
            "<tr class=\"x-action a-setup\" data-engine=\"{0}\"><td><a href=\"#engines\">(every case)</a></td><td>{0}</td><td>setup failed</td><td>{1}<br><span class=\"todo\">the engine never ran: see its full error under Engines, fix the setup (pmconf doctor), run again</span></td></tr>",
            html_escape(&failure.engine),
            html_escape(failure.error.lines().next().unwrap_or(""))
        );
    }
    for (m, what) in model {
        let pending = match &m.snapshot {
            SnapshotStatus::New { pending } | SnapshotStatus::Changed { pending, .. } => {
                pending.as_str()
            }
            _ => "",
        };
        let _ = writeln!(
            page,
            "<tr class=\"x-action a-new a-model\" data-engine=\"model\" data-case=\"{0}\"><td>{0}</td><td>model</td><td>{1}</td><td>pending: {2}<br><span class=\"todo\">{3}</span></td></tr>",
            html_escape(&m.case),
            html_escape(what),
            html_escape(pending),
            code_spans(&html_escape(MODEL_SNAPSHOT_TODO)),
        );
    }
    for result in results {
        let Attention::NeedsAction(action) = Attention::of(result) else {
            continue;
        };
        let why = match (&result.snapshot, result.verdict.reason()) {
            (_, Some(reason)) => reason.lines().next().unwrap_or("").to_owned(),
            (SnapshotStatus::Changed { pending, .. } | SnapshotStatus::New { pending }, _) => {
                format!("pending: {pending}")
            }
            _ => String::new(),
        };
        let _ = writeln!(
            page,
            "<tr class=\"{}\" data-engine=\"{}\" data-case=\"{}\"><td><a href=\"#{}\">{}</a></td><td>{}</td><td>{}</td><td>{}<br><span class=\"todo\">{}</span></td></tr>",
            Attention::of(result).css_classes(),
            html_escape(&result.engine),
            html_escape(&result.case),
            anchor(index_of(record, result), result),
            html_escape(&result.case),
            html_escape(&result.engine),
            html_escape(&action.describe(result)),
            html_escape(&why),
            code_spans(&html_escape(action.what_to_do())),
        );
    }
    page.push_str("</tbody>\n</table>\n</section>\n");
}

/// Flaky results, apart from what needs action: they pass.
pub(super) fn flaky(page: &mut String, record: &RunRecord) {
    let flaky: Vec<&CaseResult> = detailed(record)
        .into_iter()
        .filter(|r| Attention::of(r) == Attention::Flaky)
        .collect();
    if flaky.is_empty() {
        return;
    }
    let _ = writeln!(
        page,
        "<section class=\"flaky\" id=\"flaky\">\n<h2>Flaky: unexpected at first, as expected when run again ({})</h2>\n<ul>",
        flaky.len()
    );
    for result in flaky {
        let _ = writeln!(
            page,
            "<li class=\"x-flaky\"><a href=\"#{}\">{}</a> in {}: {} attempts, the last as expected</li>",
            anchor(index_of(record, result), result),
            html_escape(&result.case),
            html_escape(&result.engine),
            result.earlier_attempts.len() + 1
        );
    }
    page.push_str("</ul>\n</section>\n");
}
