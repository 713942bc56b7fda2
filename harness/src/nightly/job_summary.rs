//! A night's summary for the CI job summary (`$GITHUB_STEP_SUMMARY`),
//! which GitHub cuts off at 1 MiB: the pmconf revision, how long after the
//! night before it ran (nights missed show), per-engine counts (contested
//! apart from conforms and diverges, accepted divergences apart), the
//! engines that were absent and why, the changes against the night before
//! when known, and the results that were unexpected or diverge, each list
//! cut short well before the limit.

use super::diff::NightDiff;
use super::diff_format::{diff_markdown, md_cell};
use super::history::{Absent, NightEntry};
use super::order::engine_rank;
use super::results::ResultsFile;
use super::status::{CaseStatus, Status};
use crate::known::KnownDivergences;
use crate::run::events::CaseResult;
use std::collections::BTreeMap;

/// GitHub's limit for one step's summary.
pub const STEP_SUMMARY_LIMIT: usize = 1024 * 1024;

/// The summary is kept under this many bytes.
const BUDGET: usize = STEP_SUMMARY_LIMIT - 16 * 1024;

/// More than this between two nights (a day and a half) means nights were
/// missed.
pub const STALE_AFTER_MS: u64 = 36 * 3600 * 1000;

/// What a summary is made of.
pub struct SummaryInput<'a> {
    /// The night's results (of the engines that took part).
    pub results: &'a ResultsFile,
    /// The changes against the night before, when known.
    pub diff: Option<&'a NightDiff>,
    /// The engines that did not take part, and why.
    pub absent: &'a BTreeMap<String, Absent>,
    /// The night before, to say how long ago it was.
    pub previous: Option<&'a NightEntry>,
    /// The commit the night was recorded for (`record --revision`), when
    /// it is not the run's own revision.
    pub commit: Option<&'a str>,
    /// Bug links.
    pub known: &'a KnownDivergences,
}

/// `3 h`, `2 days 4 h`.
pub fn age_words(ms: u64) -> String {
    let hours = ms / 3_600_000;
    match hours / 24 {
        0 => format!("{hours} h"),
        1 => format!("1 day {} h", hours % 24),
        days => format!("{days} days {} h", hours % 24),
    }
}

/// The Markdown summary of a night; always under [`STEP_SUMMARY_LIMIT`].
pub fn summary_markdown(input: &SummaryInput) -> String {
    let SummaryInput {
        results,
        diff,
        absent,
        previous,
        commit,
        known,
    } = *input;
    let mut out = String::from("# pmconf nightly\n\n");
    if let Some(rev) = results.info("revision") {
        out.push_str(&format!("pmconf revision `{}`\n\n", md_cell(rev)));
    }
    if let Some(commit) = commit.filter(|c| Some(*c) != results.info("revision")) {
        out.push_str(&format!("recorded for commit `{}`\n\n", md_cell(commit)));
    }
    if let Some(started) = results.info("started_at") {
        out.push_str(&format!("started {}\n\n", md_cell(started)));
    }
    if let Some(previous) = previous {
        let now = results.started_unix_ms().unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64)
        });
        match previous.started_unix_ms {
            Some(then) => {
                let age = now.saturating_sub(then);
                out.push_str(&format!(
                    "The night before, {}, started {} earlier.{}\n\n",
                    md_cell(&previous.night),
                    age_words(age),
                    if age > STALE_AFTER_MS {
                        " **Nights were missed**: a run failed before recording, or the schedule stopped (GitHub disables schedules after 60 days without repository activity)."
                    } else {
                        ""
                    }
                ));
            }
            None => out.push_str(&format!(
                "The night before: {} (its start is not known).\n\n",
                md_cell(&previous.night)
            )),
        }
    }
    out.push_str("| engine | version | conforms | contested | diverges | of which accepted | not concluded | flaky | unexpected | total |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for engine in results.engine_names() {
        let mine: Vec<_> = results
            .results
            .iter()
            .filter(|r| r.engine == engine)
            .collect();
        let count = |f: &dyn Fn(&Status) -> bool| mine.iter().filter(|r| f(&Status::of(r))).count();
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
            md_cell(engine),
            md_cell(results.browser_version(engine).unwrap_or("?")),
            count(&|s| *s == Status::Conforms),
            count(&|s| *s == Status::Contested),
            count(&|s| matches!(s, Status::Diverges { .. })),
            mine.iter()
                .filter(|r| CaseStatus::of(r).is_accepted_divergence())
                .count(),
            count(&|s| !s.concluded()),
            mine.iter().filter(|r| r.is_flaky()).count(),
            mine.iter().filter(|r| r.is_unexpected()).count(),
            mine.len()
        ));
    }
    for (engine, a) in absent {
        out.push_str(&format!(
            "\n**{} absent:** {}{}\n",
            md_cell(engine),
            md_cell(&a.reason),
            a.link
                .as_deref()
                .map_or(String::new(), |l| format!(" ([run]({l}))"))
        ));
    }
    for f in results
        .setup_failures
        .iter()
        .filter(|f| !absent.contains_key(&f.engine))
    {
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
    let mut ordered: Vec<&CaseResult> = results.results.iter().collect();
    ordered
        .sort_by(|a, b| (engine_rank(&a.engine), &a.case).cmp(&(engine_rank(&b.engine), &b.case)));
    let unexpected: Vec<_> = ordered.iter().filter(|r| r.is_unexpected()).collect();
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
    let diverging: Vec<_> = ordered
        .iter()
        .filter(|r| matches!(Status::of(r), Status::Diverges { .. }))
        .collect();
    if !diverging.is_empty() {
        out.push_str(
            "\n## Divergences\n\n| engine | case | status | known (filed bug) |\n|---|---|---|---|\n",
        );
        for r in diverging {
            let link = known
                .lookup(&r.engine, &r.case)
                .map(|k| k.link_text())
                .unwrap_or_default();
            let line = format!(
                "| {} | `{}` | {} | {} |\n",
                md_cell(&r.engine),
                md_cell(&r.case),
                md_cell(&CaseStatus::of(r).label()),
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
