//! The agreement table: for each exported case and engine, pmconf's
//! verdict (the accepted snapshot under `snapshots/<engine>/`) beside the
//! exported test's result. They agree when the test passes where pmconf
//! says `conforms` (or `contested`: contested outcomes are accepted, not
//! asserted) and fails where it says `diverges`.

use super::{EngineRun, Status};
use crate::layout::snapshot_path;
use serde::Serialize;
use std::path::Path;

/// The verdict an accepted engine snapshot records, or `None` when there
/// is no snapshot.
pub fn snapshot_verdict(snapshots: &Path, engine: &str, case: &str) -> Option<String> {
    let path = snapshot_path(snapshots, engine, case);
    let text = std::fs::read_to_string(path).ok()?;
    // The header ends at the second `---`; the value starts with `verdict:`.
    text.lines()
        .find_map(|l| l.strip_prefix("verdict: "))
        .map(|v| v.trim().to_owned())
}

/// One cell of the table.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// The case.
    pub case: String,
    /// The engine.
    pub engine: String,
    /// pmconf's accepted verdict (`none` without a snapshot).
    pub verdict: String,
    /// pmconf's verdict in this session (side by side), if it ran.
    pub fresh: Option<String>,
    /// The exported test's status.
    pub status: String,
    /// Whether they agree.
    pub agrees: bool,
    /// The failing assertion's message, if any.
    pub message: Option<String>,
}

/// Whether `verdict` and `status` agree.
pub fn agrees(verdict: &str, status: &Status) -> bool {
    matches!(
        (verdict, status),
        ("conforms" | "contested", Status::Pass) | ("diverges", Status::Fail)
    )
}

/// Every cell, case by case, engines in run order.
pub fn table(runs: &[EngineRun], snapshots: &Path) -> Vec<Cell> {
    let mut out = Vec::new();
    let cases: Vec<&str> = runs
        .first()
        .map(|r| r.tests.iter().map(|t| t.case.as_str()).collect())
        .unwrap_or_default();
    for case in cases {
        for run in runs {
            let Some(t) = run.tests.iter().find(|t| t.case == case) else {
                continue;
            };
            let verdict =
                snapshot_verdict(snapshots, &run.engine, case).unwrap_or_else(|| "none".into());
            let fresh = run
                .own
                .iter()
                .find(|o| o.case == case)
                .map(|o| o.verdict.clone());
            out.push(Cell {
                case: case.to_owned(),
                engine: run.engine.clone(),
                fresh,
                agrees: agrees(&verdict, &t.status),
                verdict,
                status: t.status.name().to_owned(),
                message: t.message.clone(),
            });
        }
    }
    out
}

/// The table as Markdown: one row per case, one column per engine
/// (`verdict / status`, marked where they disagree).
pub fn markdown(cells: &[Cell], engines: &[String]) -> String {
    let mut out = format!(
        "| case | {} |\n|---|{}\n",
        engines.join(" | "),
        "---|".repeat(engines.len())
    );
    let mut cases: Vec<&str> = Vec::new();
    for c in cells {
        if !cases.contains(&c.case.as_str()) {
            cases.push(&c.case);
        }
    }
    for case in cases {
        let row: Vec<String> = engines
            .iter()
            .map(|e| {
                cells
                    .iter()
                    .find(|c| c.case == case && &c.engine == e)
                    .map(|c| {
                        let fresh = match &c.fresh {
                            Some(f) if *f != c.verdict => format!(" (this session: {f})"),
                            _ => String::new(),
                        };
                        format!(
                            "{}{fresh} / {}{}",
                            c.verdict,
                            c.status,
                            if c.agrees { "" } else { " **DISAGREE**" }
                        )
                    })
                    .unwrap_or_default()
            })
            .collect();
        out.push_str(&format!("| {case} | {} |\n", row.join(" | ")));
    }
    out
}

/// Side by side: per engine, the mean seconds per case of pmconf's own
/// run and of the exported tests, their ratio and the load average.
pub fn timing(runs: &[EngineRun]) -> String {
    let mut out = String::from(
        "| engine | cases | pmconf run s/case | exported tests s/case | ratio | load average (start -> end) |\n|---|---|---|---|---|---|\n",
    );
    for r in runs {
        let mean = |xs: Vec<f64>| xs.iter().sum::<f64>() / xs.len().max(1) as f64;
        let wpt = mean(r.tests.iter().map(|t| t.seconds).collect());
        let own = mean(r.own.iter().map(|o| o.seconds).collect());
        out.push_str(&format!(
            "| {} | {} | {} | {wpt:.3} | {} | {:.1} -> {:.1} |\n",
            r.engine,
            r.tests.len(),
            if r.own.is_empty() {
                "-".to_owned()
            } else {
                format!("{own:.3}")
            },
            if r.own.is_empty() || own == 0.0 {
                "-".to_owned()
            } else {
                format!("{:.1}", wpt / own)
            },
            r.load.0,
            r.load.1
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_agrees_with_conforms_and_fail_with_diverges_only() {
        assert!(agrees("conforms", &Status::Pass));
        assert!(agrees("contested", &Status::Pass));
        assert!(agrees("diverges", &Status::Fail));
        assert!(!agrees("conforms", &Status::Fail));
        assert!(!agrees("diverges", &Status::Pass));
        assert!(!agrees("diverges", &Status::Timeout));
        assert!(!agrees("none", &Status::Pass));
    }
}
