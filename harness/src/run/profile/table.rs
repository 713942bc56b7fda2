//! The profile as a plain-text table: one column per engine, figures per
//! case run.

use super::kinds::ProcessKind;
use super::{Phase, ProfileReport};
use std::fmt::Write;

/// One figure of an engine's profile.
type Figure = fn(&super::EngineProfile) -> f64;

/// Renders `report` (every figure per case run unless the row says so).
pub fn render_table(report: &ProfileReport) -> String {
    let engines = &report.engines;
    let total_runs: usize = engines.iter().map(|e| e.counts.runs).sum();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "profile (per case run; load average {} at the start, {} at the end; engines at the same time)",
        report.load_average[0], report.load_average[1]
    );
    let mut row = |label: &str, cells: Vec<String>| {
        let _ = write!(out, "{label:<34}");
        for c in cells {
            let _ = write!(out, " {c:>10}");
        }
        out.push('\n');
    };
    row("", engines.iter().map(|e| e.engine.clone()).collect());
    row(
        "case runs (retries included)",
        engines.iter().map(|e| e.counts.runs.to_string()).collect(),
    );
    row(
        "runs/s",
        engines
            .iter()
            .map(|e| format!("{:.1}", e.counts.runs as f64 / e.seconds.max(1e-9)))
            .collect(),
    );
    row(
        "cases per batch",
        engines
            .iter()
            .map(|e| {
                format!(
                    "{:.1}",
                    e.counts.runs as f64 / e.counts.batches.max(1) as f64
                )
            })
            .collect(),
    );
    let per_run = |e: &super::EngineProfile, x: f64| x / e.counts.runs.max(1) as f64;
    for phase in Phase::ALL {
        row(
            &format!("{} ms", phase.label()),
            engines
                .iter()
                .map(|e| {
                    let s = e.counts.phases.get(&phase).copied().unwrap_or(0.0);
                    format!("{:.1}", per_run(e, s * 1000.0))
                })
                .collect(),
        );
    }
    let counts: [(&str, Figure); 4] = [
        ("page loads", |e| e.counts.page_loads as f64),
        ("reports (HTTP requests)", |e| e.counts.reports as f64),
        ("WebDriver commands", |e| e.webdriver_commands as f64),
        ("renderer processes created", |e| {
            e.created.get(&ProcessKind::Renderer).copied().unwrap_or(0) as f64
        }),
    ];
    for (label, value) in counts {
        row(
            label,
            engines
                .iter()
                .map(|e| format!("{:.2}", per_run(e, value(e))))
                .collect(),
        );
    }
    // The harness is shared: its CPU (but the profile's own sampler) is
    // split by runs.
    let harness = (report.harness_cpu - report.sampler_cpu).max(0.0) / total_runs.max(1) as f64;
    row(
        "CPU ms harness (shared, split)",
        engines
            .iter()
            .map(|_| format!("{:.1}", harness * 1000.0))
            .collect(),
    );
    for kind in ProcessKind::ALL.into_iter().skip(1) {
        row(
            &format!("CPU ms {}", kind.label()),
            engines
                .iter()
                .map(|e| {
                    let s = e.cpu.get(&kind).copied().unwrap_or(0.0);
                    format!("{:.1}", per_run(e, s * 1000.0))
                })
                .collect(),
        );
    }
    row(
        "CPU ms total",
        engines
            .iter()
            .map(|e| {
                let own: f64 = e.cpu.values().sum();
                format!("{:.1}", per_run(e, own * 1000.0) + harness * 1000.0)
            })
            .collect(),
    );
    let _ = writeln!(
        out,
        "harness CPU {:.1} s in all (of which the profile's sampler {:.1} s); {} HTTP requests served in all; process trees sampled every {} ms",
        report.harness_cpu, report.sampler_cpu, report.requests_served, report.sample_interval_ms
    );
    out
}

#[cfg(test)]
mod tests {
    use super::super::{build_report, EngineCounts, Measured};
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn figures_are_per_case_run_and_the_harness_is_split_by_runs() {
        let mut counts = BTreeMap::new();
        counts.insert(
            "chromium".to_owned(),
            EngineCounts {
                batches: 2,
                runs: 20,
                phases: [(Phase::MountLoad, 2.0), (Phase::Cleanup, 0.2)]
                    .into_iter()
                    .collect(),
                page_loads: 40,
                reports: 100,
            },
        );
        counts.insert(
            "firefox".to_owned(),
            EngineCounts {
                batches: 1,
                runs: 10,
                ..EngineCounts::default()
            },
        );
        let mut trees = super::super::procs::TreeTotals::default();
        trees
            .cpu
            .insert(("chromium".into(), ProcessKind::Renderer), 4.0);
        trees
            .created
            .insert(("chromium".into(), ProcessKind::Renderer), 30);
        let engine_seconds = vec![("chromium".to_owned(), 4.0), ("firefox".to_owned(), 5.0)];
        let report = build_report(
            Measured {
                counts,
                commands: [("chromium".to_owned(), 60)].into_iter().collect(),
                trees,
                engine_seconds: &engine_seconds,
                harness_cpu: 3.0,
                sampler_cpu: 0.5,
                requests_served: 140,
            },
            ["1.00 2.00 3.00".into(), "4.00 5.00 6.00".into()],
        );
        let table = render_table(&report);
        let line = |label: &str| -> Vec<String> {
            let l = table
                .lines()
                .find(|l| l.starts_with(label))
                .unwrap_or_else(|| panic!("no row {label} in\n{table}"));
            l[34..].split_whitespace().map(str::to_owned).collect()
        };
        assert_eq!(line("runs/s"), ["5.0", "2.0"]);
        assert_eq!(line("cases per batch"), ["10.0", "10.0"]);
        assert_eq!(line("mount and load ms"), ["100.0", "0.0"]);
        assert_eq!(line("cleanup ms"), ["10.0", "0.0"]);
        assert_eq!(line("page loads"), ["2.00", "0.00"]);
        assert_eq!(line("reports ms"), ["0.0", "0.0"]);
        assert_eq!(line("reports (HTTP"), ["5.00", "0.00"]);
        assert_eq!(line("WebDriver commands"), ["3.00", "0.00"]);
        assert_eq!(line("renderer processes created"), ["1.50", "0.00"]);
        // 3 s of harness, less 0.5 s of sampler, over 30 runs of both
        // engines.
        assert_eq!(line("CPU ms harness"), ["83.3", "83.3"]);
        assert_eq!(line("CPU ms renderer"), ["200.0", "0.0"]);
        assert_eq!(line("CPU ms total"), ["283.3", "83.3"]);
        assert!(table.contains("load average 1.00 2.00 3.00 at the start"));
        assert!(table.contains("sampler 0.5 s"));
    }
}
