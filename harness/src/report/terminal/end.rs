//! The end-of-run text: summary table, divergences, other problems, and
//! the verdict line.

use super::palette::Palette;
use crate::report::calls::{annotate_snapshot_diff, outcome_diff_with_calls, outcome_text};
use crate::report::escape::terminal_safe;
use crate::report::record::RunRecord;
use crate::report::render::{
    histogram_rows, is_repeated, nearest_allowed, snapshot_note, DiffSide,
};
use crate::report::summary::{plural, RunSummary};
use crate::report::triage::{pending_model_snapshots, report_order, Attention};
use crate::run::events::{CaseResult, SnapshotStatus};
use crate::run::verdict::Verdict;
use std::fmt::Write as _;

/// The hint printed under pending snapshots.
const REVIEW_HINT: &str = "review with `pmconf review` and accept or reject each pending snapshot";

/// Everything printed at the end of a run, ending with the verdict line;
/// `reports` (the files written) are listed just above it.
pub(crate) fn end_of_run(
    record: &RunRecord,
    reports: &[std::path::PathBuf],
    palette: Palette,
) -> String {
    let summary = RunSummary::of(record);
    let mut out = String::new();
    out.push('\n');
    out.push_str(&summary_table(record, &summary));
    setup_failures(&mut out, record, palette);
    divergences(&mut out, record, palette);
    crate::report::contested::terminal_section(&mut out, record, |t| palette.bold(t));
    races(&mut out, record, palette);
    reasons(&mut out, record, "inconclusive", |v| {
        matches!(v, Verdict::Inconclusive { .. })
    });
    reasons(&mut out, record, "internal errors", |v| {
        matches!(v, Verdict::InternalError { .. })
    });
    reasons(&mut out, record, "crashed", |v| {
        matches!(v, Verdict::Crashed { .. })
    });
    snapshot_problems(&mut out, record);
    flaky(&mut out, record, palette);
    needs_action(&mut out, record, palette);
    if !reports.is_empty() {
        let _ = writeln!(out, "\nreports written:");
        for path in reports {
            let _ = writeln!(out, "  {}", terminal_safe(&path.display().to_string()));
        }
    }
    out.push('\n');
    let line = summary.verdict_line();
    out.push_str(&if summary.passed() {
        palette.green(&line)
    } else if summary.needs_review_only() {
        palette.yellow(&line)
    } else {
        palette.red(&line)
    });
    out.push('\n');
    out
}

/// Engine by verdict counts, numbers right-aligned so columns compare.
/// When race cases ran more than once, a `runs` column (every run of every
/// case) comes before `cases/s`.
fn summary_table(record: &RunRecord, summary: &RunSummary) -> String {
    let repeated = record.results.iter().any(is_repeated);
    let mut headings = vec![
        "engine",
        "browser",
        "conforms",
        "diverges",
        "accepted",
        "inconclusive",
        "internal-error",
        "unexpected",
    ];
    if repeated {
        headings.push("runs");
    }
    headings.push("cases/s");
    let mut rows: Vec<Vec<String>> = vec![headings.into_iter().map(str::to_owned).collect()];
    for e in &summary.engines {
        let c = &e.counts;
        let mut row = vec![
            terminal_safe(&e.engine),
            terminal_safe(e.browser_version.as_deref().unwrap_or("-")),
        ];
        row.extend(
            [
                c.conforms,
                c.diverges,
                c.accepted_divergences,
                c.inconclusive,
                c.internal_error,
                c.unexpected,
            ]
            .map(|n| n.to_string()),
        );
        if repeated {
            row.push(c.runs.to_string());
        }
        row.push(
            e.cases_per_second
                .map_or("-".to_owned(), |r| format!("{r:.2}")),
        );
        rows.push(row);
    }
    for failure in &record.setup_failures {
        rows.push(vec![
            terminal_safe(&failure.engine),
            "setup failed".to_owned(),
        ]);
    }
    let columns = rows[0].len();
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                if i < 2 {
                    format!("{cell:<w$}", w = widths[i])
                } else {
                    format!("{cell:>w$}", w = widths[i])
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn setup_failures(out: &mut String, record: &RunRecord, palette: Palette) {
    if record.setup_failures.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        palette.bold(&format!(
            "setup failures ({}):",
            record.setup_failures.len()
        ))
    );
    for failure in &record.setup_failures {
        let _ = writeln!(
            out,
            "  {}: {}",
            terminal_safe(&failure.engine),
            indent_rest(&failure.error, 4)
        );
    }
}

/// One block per diverging (engine, case).
fn divergences(out: &mut String, record: &RunRecord, palette: Palette) {
    let diverging: Vec<&CaseResult> = record
        .results
        .iter()
        .filter(|r| r.verdict == Verdict::Diverges)
        .collect();
    if diverging.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        palette.bold(&format!("divergences ({}):", diverging.len()))
    );
    for result in diverging {
        out.push('\n');
        divergence_block(out, result, record.calls(&result.case), palette);
    }
}

fn divergence_block(
    out: &mut String,
    result: &CaseResult,
    calls: &[crate::run::info::PostCall],
    palette: Palette,
) {
    let label = if result.is_unexpected() {
        palette.red(&format!(
            "[UNEXPECTED: {}]",
            snapshot_note(&result.snapshot)
        ))
    } else {
        palette.yellow(&format!("[accepted: {}]", snapshot_note(&result.snapshot)))
    };
    let _ = writeln!(
        out,
        "{}  {}  {label}",
        terminal_safe(&result.engine),
        terminal_safe(&result.case)
    );
    if !result.description.is_empty() {
        let _ = writeln!(out, "  {}", indent_rest(&result.description, 2));
    }
    if let Some(bar) = result
        .histogram
        .iter()
        .find(|bar| Some(&bar.outcome) == result.observed.as_ref())
        .filter(|_| is_repeated(result))
    {
        let _ = writeln!(
            out,
            "  observed in {} of {} runs (every outcome under \"race cases\")",
            bar.count, result.runs
        );
    }
    let Some(observed) = &result.observed else {
        let _ = writeln!(out, "  observed: nothing");
        for (i, allowed) in result.allowed.iter().enumerate() {
            let _ = writeln!(out, "  allowed #{}:", i + 1);
            push_indented(out, &outcome_text(allowed, calls), 4);
        }
        return;
    };
    let Some(nearest) = nearest_allowed(observed, &result.allowed) else {
        let _ = writeln!(out, "  allowed: nothing (the model allows no outcome)");
        let _ = writeln!(out, "  observed:");
        push_indented(out, &outcome_text(observed, calls), 4);
        return;
    };
    let _ = writeln!(
        out,
        "  allowed #{} of {} (the nearest) vs observed, - allowed + observed:",
        nearest + 1,
        result.allowed.len()
    );
    for line in outcome_diff_with_calls(&result.allowed[nearest], observed, calls) {
        let text = terminal_safe(&line.text);
        let _ = writeln!(
            out,
            "{}",
            match line.side {
                DiffSide::Both => format!("      {text}"),
                DiffSide::Allowed => palette.red(&format!("    - {text}")),
                DiffSide::Observed => palette.green(&format!("    + {text}")),
            }
        );
    }
    // The others, one line each: the diff above already shows the shape.
    for (i, allowed) in result
        .allowed
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != nearest)
    {
        let json =
            serde_json::to_string(allowed).unwrap_or_else(|e| format!("(cannot render: {e})"));
        let _ = writeln!(out, "  also allowed #{}: {}", i + 1, terminal_safe(&json));
    }
}

/// One block per result of a case run more than once (a race case), in
/// order, whatever its verdict: the case line, then its outcome histogram.
fn races(out: &mut String, record: &RunRecord, palette: Palette) {
    let repeated: Vec<&CaseResult> = record.results.iter().filter(|r| is_repeated(r)).collect();
    if repeated.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        palette.bold(&format!("race cases ({}):", repeated.len()))
    );
    for result in repeated {
        let mut line = format!(
            "  {}  {}: {}, {}",
            terminal_safe(&result.engine),
            terminal_safe(&result.case),
            result.verdict.name(),
            plural(result.runs, "run", "runs")
        );
        if result.snapshot.is_unexpected() {
            let _ = write!(line, ", {}", snapshot_note(&result.snapshot));
        }
        out.push_str(&line);
        out.push('\n');
        histogram_lines(out, result, palette);
    }
}

/// The histogram of a repeated result, indented under its case line:
///
/// ```text
///     4/5  allowed      child: [m] child@1: [after]
///     1/5  NOT ALLOWED  child: [m, m] child@1: [after]
///     not seen: child: [] child@1: [after]
///     2/5  observed nothing: window child never loaded
/// ```
fn histogram_lines(out: &mut String, result: &CaseResult, palette: Palette) {
    let width = result.runs.to_string().len();
    let rows = histogram_rows(result);
    for row in rows.iter().filter(|r| r.count > 0) {
        let count = format!("{:>width$}/{}", row.count, result.runs);
        let verdict = if row.allowed {
            format!("{:<11}", "allowed")
        } else {
            palette.red("NOT ALLOWED")
        };
        let _ = writeln!(
            out,
            "    {count}  {verdict}  {}",
            terminal_safe(&row.summary)
        );
    }
    for row in rows.iter().filter(|r| r.count == 0) {
        let _ = writeln!(out, "    not seen: {}", terminal_safe(&row.summary));
    }
    if result.unobserved_runs > 0 {
        let count = format!("{:>width$}/{}", result.unobserved_runs, result.runs);
        let reason = result
            .unobserved_reason
            .as_deref()
            .map(|r| terminal_safe(r.lines().next().unwrap_or("")))
            .unwrap_or_else(|| "no reason given".to_owned());
        let _ = writeln!(out, "    {count}  observed nothing: {reason}");
    }
}

/// A section listing results whose verdict matches `wanted`, with reasons.
fn reasons(out: &mut String, record: &RunRecord, title: &str, wanted: impl Fn(&Verdict) -> bool) {
    let listed: Vec<&CaseResult> = record
        .results
        .iter()
        .filter(|r| wanted(&r.verdict))
        .collect();
    if listed.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n{title} ({}):", listed.len());
    for r in listed {
        let _ = writeln!(
            out,
            "  {}  {}: {}",
            terminal_safe(&r.engine),
            terminal_safe(&r.case),
            indent_rest(r.verdict.reason().unwrap_or(""), 4)
        );
    }
}

/// New and changed snapshots, with their pending files and diffs, in
/// report order (case path, then engine): pending, not necessarily wrong.
fn snapshot_problems(out: &mut String, record: &RunRecord) {
    let pending: Vec<&CaseResult> = record
        .results
        .iter()
        .filter(|r| r.snapshot.is_unexpected())
        .collect();
    if pending.is_empty() {
        return;
    }
    let pending = report_order(&pending, &record.all_engines());
    let _ = writeln!(out, "\npending snapshots ({}):", pending.len());
    for r in pending {
        let mut head = format!(
            "  {}  {}: {}",
            terminal_safe(&r.engine),
            terminal_safe(&r.case),
            snapshot_note(&r.snapshot)
        );
        if !r.earlier_attempts.is_empty() {
            // Run again (`--retry-unexpected`) and unexpected every time.
            let _ = write!(
                head,
                " in each of {} attempts",
                r.earlier_attempts.len() + 1
            );
        }
        match &r.snapshot {
            SnapshotStatus::New { pending } => {
                let _ = writeln!(out, "{head}, pending: {}", terminal_safe(pending));
            }
            SnapshotStatus::Changed { pending, diff } => {
                let _ = writeln!(out, "{head}, pending: {}", terminal_safe(pending));
                push_indented(out, &annotate_snapshot_diff(diff, record.calls(&r.case)), 4);
            }
            _ => {}
        }
    }
    let _ = writeln!(out, "  {REVIEW_HINT}");
}

/// Results that were unexpected at first and as expected when run again:
/// each earlier attempt with its histogram and snapshot diff, so a rare
/// outcome stays visible although it did not fail the run.
///
/// ```text
/// flaky: unexpected at first, as expected when run again (1):
///   chromium  cases/races/x.yaml: 2 attempts, the last as expected
///     attempt 1: diverges, 5 runs, snapshot changed
///       1/5  NOT ALLOWED  top: [bye]
///       4/5  allowed      top: [bye, hello]
///     pending snapshot kept for review: snapshots/chromium/races__x.snap.new
/// ```
fn flaky(out: &mut String, record: &RunRecord, palette: Palette) {
    let flaky: Vec<&CaseResult> = record.results.iter().filter(|r| r.is_flaky()).collect();
    if flaky.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        palette.bold(&format!(
            "flaky: unexpected at first, as expected when run again ({}):",
            flaky.len()
        ))
    );
    for r in flaky {
        let _ = writeln!(
            out,
            "  {}  {}: {} attempts, the last as expected",
            terminal_safe(&r.engine),
            terminal_safe(&r.case),
            r.earlier_attempts.len() + 1
        );
        for (i, attempt) in r.earlier_attempts.iter().enumerate() {
            let _ = writeln!(
                out,
                "    attempt {}: {}, {}, {}",
                i + 1,
                attempt.verdict.name(),
                plural(attempt.runs, "run", "runs"),
                snapshot_note(&attempt.snapshot)
            );
            let mut bars = String::new();
            histogram_lines(&mut bars, &attempt.as_result(r), palette);
            // Already made terminal-safe (and maybe coloured) line by line.
            for line in bars.lines() {
                let _ = writeln!(out, "  {line}");
            }
        }
        match &r.kept_pending {
            Some(pending) => {
                let _ = writeln!(
                    out,
                    "    pending snapshot kept for review: {}",
                    terminal_safe(pending)
                );
            }
            None => {
                let _ = writeln!(out, "    no pending snapshot: the last attempt's matched");
            }
        }
    }
}

/// Every result that fails the run, one line each in report order (case
/// path, then engine), with every engine that failed to start: the list
/// to work through, just above the verdict line.
///
/// ```text
/// needs action (2):
///   chromium  target-origin/star.yaml: conforms, snapshot changed
///   firefox   messages/new.yaml: conforms, new snapshot (review it)
/// ```
fn needs_action(out: &mut String, record: &RunRecord, palette: Palette) {
    let results: Vec<&CaseResult> = record.results.iter().collect();
    let listed: Vec<(&CaseResult, String)> = report_order(&results, &record.all_engines())
        .into_iter()
        .filter_map(|r| match Attention::of(r) {
            Attention::NeedsAction(action) => Some((r, action.describe(r))),
            _ => None,
        })
        .collect();
    let model = pending_model_snapshots(record);
    let count = listed.len() + record.setup_failures.len() + model.len();
    if count == 0 {
        return;
    }
    let width = listed
        .iter()
        .map(|(r, _)| r.engine.as_str())
        .chain(record.setup_failures.iter().map(|f| f.engine.as_str()))
        .chain(model.first().map(|_| "model"))
        .map(|e| terminal_safe(e).chars().count())
        .max()
        .unwrap_or(0);
    let _ = writeln!(
        out,
        "\n{}",
        palette.bold(&format!("needs action ({count}):"))
    );
    for failure in &record.setup_failures {
        let _ = writeln!(
            out,
            "  {:<width$}  setup failed",
            terminal_safe(&failure.engine)
        );
    }
    for (m, what) in model {
        let _ = writeln!(
            out,
            "  {:<width$}  {}: {what}",
            "model",
            terminal_safe(&m.case)
        );
    }
    for (r, what) in listed {
        let _ = writeln!(
            out,
            "  {:<width$}  {}: {what}",
            terminal_safe(&r.engine),
            terminal_safe(&r.case)
        );
    }
}

/// Text whose lines after the first are indented, for values that follow
/// a label on the same line.
fn indent_rest(text: &str, indent: usize) -> String {
    terminal_safe(text.trim_end()).replace('\n', &format!("\n{}", " ".repeat(indent)))
}

/// Appends every line of `text`, indented.
fn push_indented(out: &mut String, text: &str, indent: usize) {
    for line in terminal_safe(text).lines() {
        let _ = writeln!(out, "{}{line}", " ".repeat(indent));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continuation_lines_line_up_under_their_label() {
        assert_eq!(indent_rest("first\nsecond\n", 4), "first\n    second");
        let mut out = String::new();
        push_indented(&mut out, "a\nb\n", 2);
        assert_eq!(out, "  a\n  b\n");
    }

    #[test]
    fn table_aligns_numbers_right() {
        let record = RunRecord::from_events(&[
            crate::run::events::RunEvent::SuiteStart {
                engines: vec!["chromium".into()],
                cases: 0,
            },
            crate::run::events::RunEvent::EngineStart(crate::run::events::EngineInfo {
                engine: "chromium".into(),
                browser_version: "131.0".into(),
            }),
        ]);
        let table = summary_table(&record, &RunSummary::of(&record));
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2, "{table}");
        // Right-aligned: the last digit of a count ends where its heading does.
        let heading_end = lines[0].find("conforms").unwrap() + "conforms".len();
        assert_eq!(&lines[1][heading_end - 1..heading_end], "0", "{table}");
    }
}
