//! A night's summary for the CI job summary (`$GITHUB_STEP_SUMMARY`),
//! which GitHub cuts off at 1 MiB: per-engine counts (contested apart
//! from conforms and diverges), the changes against
//! the night before when known, and the results that were unexpected or
//! diverge, each list cut short well before the limit.

use super::diff::NightDiff;
use super::diff_format::{diff_markdown, md_cell};
use super::results::ResultsFile;
use super::status::{CaseStatus, Status};
use crate::known::KnownDivergences;

/// GitHub's limit for one step's summary.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

/// The summary is kept under this many bytes.
const BUDGET: usize = STEP_SUMMARY_LIMIT - 16 * 1024;

/// The Markdown summary of `results`, with `diff` against the night
/// before when given; always under [`STEP_SUMMARY_LIMIT`].
pub fn summary_markdown(
    results: &ResultsFile,
    diff: Option<&NightDiff>,
    known: &KnownDivergences,
) -> String {
    let mut out = String::from("# pmconf nightly\n\n");
    if let Some(rev) = results.info("revision") {
        out.push_str(&format!("pmconf revision `{}`\n\n", md_cell(rev)));
    }
    out.push_str("| engine | version | conforms | contested | diverges | not concluded | flaky | unexpected | total |\n|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
    for engine in results.engine_names() {
        let mine: Vec<_> = results
            .results
            .iter()
            .filter(|r| r.engine == engine)
            .collect();
        let count = |f: &dyn Fn(&Status) -> bool| mine.iter().filter(|r| f(&Status::of(r))).count();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            md_cell(engine),
            md_cell(results.browser_version(engine).unwrap_or("?")),
            count(&|s| *s == Status::Conforms),
            count(&|s| *s == Status::Contested),
            count(&|s| matches!(s, Status::Diverges { .. })),
            count(&|s| !s.concluded()),
            mine.iter().filter(|r| r.is_flaky()).count(),
            mine.iter().filter(|r| r.is_unexpected()).count(),
            mine.len()
        ));
    }
    for f in &results.setup_failures {
        out.push_str(&format!(
            "\n**{} failed to start:** {}\n",
            md_cell(&f.engine),
            md_cell(&f.error)
        ));
    }
    if let Some(diff) = diff {
        out.push('\n');
        out.push_str(&diff_markdown(diff));
    }
    let unexpected: Vec<_> = results
        .results
        .iter()
        .filter(|r| r.is_unexpected())
        .collect();
    if !unexpected.is_empty() {
        out.push_str(
            "\n## Unexpected\n\n| engine | case | status | snapshot |\n|---|---|---|---|\n",
        );
        for r in unexpected {
            let line = format!(
                "| {} | `{}` | {} | {} |\n",
                md_cell(&r.engine),
                md_cell(&r.case),
                md_cell(&CaseStatus::of(r).label()),
                crate::report::snapshot_note(&r.snapshot)
            );
            if !push_within(&mut out, &line) {
                break;
            }
        }
    }
    let diverging: Vec<_> = results
        .results
        .iter()
        .filter(|r| matches!(Status::of(r), Status::Diverges { .. }))
        .collect();
    if !diverging.is_empty() {
        out.push_str("\n## Divergences\n\n| engine | case | known |\n|---|---|---|\n");
        for r in diverging {
            let link = known
                .lookup(&r.engine, &r.case)
                .map(|k| k.link_text())
                .unwrap_or_default();
            let line = format!(
                "| {} | `{}` | {} |\n",
                md_cell(&r.engine),
                md_cell(&r.case),
                md_cell(&link)
            );
            if !push_within(&mut out, &line) {
                break;
            }
        }
    }
    if out.len() > BUDGET {
        let mut cut = BUDGET;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(out[..cut].rfind('\n').map_or(cut, |n| n + 1));
        out.push_str("\n… cut short: see the results artifact\n");
    }
    out
}

/// Appends `line` when it fits; otherwise a note, and `false`.
fn push_within(out: &mut String, line: &str) -> bool {
    if out.len() + line.len() > BUDGET {
        out.push_str("\n… more cut short: see the results artifact\n");
        return false;
    }
    out.push_str(line);
    true
}
