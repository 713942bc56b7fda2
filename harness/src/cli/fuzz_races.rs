//! `pmconf fuzz --races`: generated navigation race cases, each run
//! `--repeat` times per engine through the same runner as `pmconf run`
//! (sessions, command deadlines, crash recovery), with every divergence
//! (an outcome neither allowed nor contested) collected and saved.

use super::fuzz::FuzzArgs;
use super::placement::PlacementArgs;
use super::race_findings::{one_line, RaceReducer, Reduced};
use super::EXIT_BAD_INPUT;
use crate::atomic::{write_atomically, Dir};
use crate::case_files::LoadedCase;
use crate::engine::ProcessRegistry;
use crate::gen::race_shrink::RaceShrinkConfig;
use crate::gen::races::findings::{divergences, tallies, Divergence, EngineTally};
use crate::gen::races::{draw_races, GeneratedRace};
use crate::report::outcome_summaries;
use crate::run::driver::Pacing;
use crate::run::events::{Reporter, RunEvent};
use crate::run::suite::{run_suite, SuiteConfig};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Runs `pmconf fuzz --races`; the exit status is as for `pmconf fuzz`,
/// and also 1 when any run observed nothing (a harness fault).
pub async fn run(args: &FuzzArgs, registry: &ProcessRegistry) -> i32 {
    let draws = draw_races(args.seed, args.cases);
    let mut races: Vec<GeneratedRace> = Vec::new();
    let mut refused = Vec::new();
    for d in draws {
        match d {
            Ok(r) => races.push(r),
            Err(r) => refused.push(r),
        }
    }
    println!(
        "generated {} race cases from seed {}: {} valid, {} refused by the validator",
        args.cases,
        args.seed,
        races.len(),
        refused.len()
    );
    for r in refused.iter().take(5) {
        println!(
            "  {} (a bug of the generator): {}",
            r.name,
            r.errors.lines().next().unwrap_or("")
        );
    }
    if let Some(dir) = &args.dry_run {
        let files: Vec<(String, String)> = races
            .iter()
            .map(|r| (format!("{}.yaml", r.name), r.yaml.clone()))
            .collect();
        return match write_case_files(dir, &files) {
            Ok(()) => {
                println!("wrote {} cases to {}", files.len(), dir.display());
                0
            }
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_BAD_INPUT
            }
        };
    }
    let (engines, listen) =
        match super::run::place(args.engine.as_deref(), false, &PlacementArgs::default()) {
            Ok(placed) => placed,
            Err(status) => return status,
        };
    let instances = engines.clone();
    let command = format!(
        "pmconf fuzz --races --seed {} --cases {} --repeat {} --engine {}",
        args.seed,
        args.cases,
        args.repeat,
        engines
            .iter()
            .map(|e| e.name.as_str())
            .collect::<Vec<_>>()
            .join(",")
    );
    println!("{command}: reproduce with the same command");
    let cases: Vec<LoadedCase> = races
        .iter()
        .map(|r| LoadedCase {
            path: PathBuf::from(format!("{}.yaml", r.name)),
            name: format!("{}.yaml", r.name),
            case: r.case.clone(),
        })
        .collect();
    let config = SuiteConfig {
        engines,
        listen,
        cases,
        repeat: args.repeat as usize,
        pacing: Pacing {
            batch_size: args.batch,
            ready_timeout: std::time::Duration::from_secs(args.ready_timeout),
            ..Pacing::default()
        },
        // Nothing is compared with snapshots, so nothing is run again:
        // every repeat's outcome is kept in the histogram.
        snapshot_dir: None,
        accept_snapshots: false,
        retry_unexpected: 0,
        sessions: args.sessions as usize,
        command_timeout: std::time::Duration::from_secs(args.command_timeout),
        profile: false,
    };
    let mut progress = Progress::default();
    let outcome = match run_suite(config, registry, &mut progress).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };

    let by_name: BTreeMap<&str, &GeneratedRace> =
        races.iter().map(|r| (r.name.as_str(), r)).collect();
    let found = divergences(&outcome.results);
    let tally = tallies(&outcome.results, &outcome.engine_seconds);
    println!();
    for t in &tally {
        println!("{}", tally_line(t, args.repeat));
    }
    for (engine, error) in &outcome.setup_failures {
        println!("{engine}: failed to start: {error}");
    }
    for r in outcome
        .results
        .iter()
        .filter(|r| r.unobserved_runs > 0)
        .take(10)
    {
        println!(
            "  fault: {} {}: {} of {} runs observed nothing: {}",
            r.engine,
            r.case,
            r.unobserved_runs,
            r.runs,
            r.unobserved_reason
                .as_deref()
                .unwrap_or("")
                .lines()
                .next()
                .unwrap_or("")
        );
    }
    let mut status = 0;
    let mut saved = 0;
    let mut reducer = RaceReducer::new(
        instances,
        registry,
        &args.out,
        RaceShrinkConfig {
            budget: args.shrink_runs,
            ..RaceShrinkConfig::default()
        },
        args.max_shrinks,
    )
    .with_pacing(Pacing {
        batch_size: args.batch,
        ready_timeout: std::time::Duration::from_secs(args.ready_timeout),
        ..Pacing::default()
    });
    let mut findings: Vec<serde_json::Value> = Vec::new();
    println!(
        "{} divergences (outcomes neither allowed nor contested):",
        found.len()
    );
    for d in &found {
        let Some(race) = by_name.get(d.case.as_str()) else {
            continue;
        };
        for line in divergence_lines(race, d) {
            println!("  {line}");
        }
        let finding = match reducer.reduce(race, d).await {
            Reduced::Known(files) => {
                let files: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
                println!("    its rules are already saved as {}", files.join(", "));
                findings.push(
                    serde_json::json!({"case": d.case, "engine": d.engine, "already_saved": files}),
                );
                continue;
            }
            Reduced::Shrunk(shrunk) => {
                let line = one_line(&d.engine, &shrunk);
                println!("    {line}");
                findings.push(serde_json::json!({"case": d.case, "engine": d.engine, "line": line, "rule": shrunk.rule.key(), "confirmed": shrunk.confirmed, "minimal": shrunk.yaml}));
                if args.no_save {
                    reducer.remember(&d.engine, &shrunk, &d.case);
                    continue;
                }
                match reducer.save(&args.out, &command, &d.engine, &shrunk) {
                    Ok(Ok(path)) => {
                        saved += 1;
                        println!("    saved {}", path.display());
                    }
                    Ok(Err(files)) => {
                        let files: Vec<String> =
                            files.iter().map(|p| p.display().to_string()).collect();
                        println!("    already saved as {}", files.join(", "));
                    }
                    Err(e) => {
                        println!("    could not save: {e}");
                        status = EXIT_BAD_INPUT;
                    }
                }
                continue;
            }
            Reduced::NotShrunk(why) => {
                println!("    not shrunk: {why}");
                findings.push(
                    serde_json::json!({"case": d.case, "engine": d.engine, "not_shrunk": why}),
                );
                Finding {
                    yaml: race.yaml.clone(),
                    shrunk: false,
                }
            }
        };
        if args.no_save {
            continue;
        }
        match save(&args.out, &command, d, &finding) {
            Ok(Some(path)) => {
                saved += 1;
                println!("    saved {}", path.display());
            }
            Ok(None) => println!("    already saved"),
            Err(e) => {
                println!("    could not save: {e}");
                status = EXIT_BAD_INPUT;
            }
        }
    }
    if let Some(path) = &args.results {
        let summary = serde_json::json!({
            "command": command,
            "seed": args.seed,
            "generated": args.cases,
            "valid": races.len(),
            "refused": refused.iter().map(|r| &r.name).collect::<Vec<_>>(),
            "repeat": args.repeat,
            "engines": tally.iter().map(|t| serde_json::json!({
                "tally": t,
                "runs_per_second": t.runs_per_second(),
                "faults": t.faults(),
            })).collect::<Vec<_>>(),
            "setup_failures": outcome.setup_failures,
            "divergences": found,
            "findings": findings,
        });
        let text = serde_json::to_string_pretty(&summary).expect("serializes");
        if let Err(e) = write_atomically(path, text.as_bytes(), Dir::Make) {
            eprintln!("error: cannot write {}: {e}", path.display());
            status = EXIT_BAD_INPUT;
        }
    }
    reducer.close().await;
    let faults: usize = tally.iter().map(EngineTally::faults).sum();
    if !outcome.setup_failures.is_empty() || !refused.is_empty() {
        status = EXIT_BAD_INPUT;
    }
    if status == 0 && (saved > 0 || faults > 0) {
        status = 1;
    }
    status
}

/// One engine's line: runs, throughput, faults, divergences.
fn tally_line(t: &EngineTally, repeat: u32) -> String {
    format!(
        "{}: {} cases x {} repeats = {} runs in {:.1} s = {:.2} runs/s; harness faults: {} runs observed nothing ({} cases inconclusive, {} internal error, {} crashed); {} cases diverged, {} contested",
        t.engine,
        t.cases,
        repeat,
        t.runs,
        t.seconds,
        t.runs_per_second(),
        t.faults(),
        t.inconclusive,
        t.internal_error,
        t.crashed,
        t.diverged,
        t.contested
    )
}

/// A divergence in a few lines: the case, the rate, and each outcome it
/// saw beside the allowed ones.
fn divergence_lines(race: &GeneratedRace, d: &Divergence) -> Vec<String> {
    let mut out = vec![format!(
        "{} {}: {} of {} runs outside the allowed set [{}]",
        d.engine,
        d.case,
        d.unallowed_runs(),
        d.runs,
        race.case.description
    )];
    let outcomes: Vec<&pmconf_model::Outcome> = d.histogram.iter().map(|b| &b.outcome).collect();
    for (b, line) in d.histogram.iter().zip(outcome_summaries(&outcomes)) {
        out.push(format!(
            "    {} x{}: {line}",
            if b.allowed {
                "allowed    "
            } else {
                "NOT ALLOWED"
            },
            b.count
        ));
    }
    out
}

/// What is saved for a divergence.
pub struct Finding {
    /// The case to save (YAML).
    pub yaml: String,
    /// Whether it was shrunk.
    pub shrunk: bool,
}

/// Saves a finding as `<out>/races/<engine>--<case>.yaml` (a case `pmconf
/// check` accepts, its description naming the engine and the rate) with
/// the observed histogram beside it (`.observed.json`). `None` when that
/// file is already there.
fn save(
    out: &Path,
    command: &str,
    d: &Divergence,
    finding: &Finding,
) -> Result<Option<PathBuf>, String> {
    let stem = format!("{}--{}", d.engine, d.case);
    let dir = out.join("races");
    let path = dir.join(format!("{stem}.yaml"));
    if path.exists() {
        return Ok(None);
    }
    let mut value: serde_yaml::Value =
        serde_yaml::from_str(&finding.yaml).map_err(|e| e.to_string())?;
    let description = format!(
        "found by `{command}` in {}: {} of {} runs outside the allowed set{}; {}",
        d.engine,
        d.unallowed_runs(),
        d.runs,
        if finding.shrunk { "" } else { " (not shrunk)" },
        value["description"].as_str().unwrap_or("")
    );
    value["description"] = serde_yaml::Value::String(description);
    let yaml = serde_yaml::to_string(&value).map_err(|e| e.to_string())?;
    let observed = serde_json::to_string_pretty(&d.histogram).map_err(|e| e.to_string())?;
    write_case_files(
        &dir,
        &[
            (format!("{stem}.yaml"), yaml),
            (format!("{stem}.observed.json"), observed),
        ],
    )?;
    Ok(Some(path))
}

/// Writes each `(file name, text)` into `dir` (made if needed), each file
/// atomically; if one cannot be written, the ones written before it are
/// removed again, so a failure leaves no partial set behind.
pub fn write_case_files(dir: &Path, files: &[(String, String)]) -> Result<(), String> {
    let mut written: Vec<PathBuf> = Vec::new();
    for (name, text) in files {
        let path = dir.join(name);
        if let Err(e) = write_atomically(&path, text.as_bytes(), Dir::Make) {
            for p in &written {
                let _ = std::fs::remove_file(p);
            }
            return Err(format!(
                "cannot write {}: {e} (nothing was left in {})",
                path.display(),
                dir.display()
            ));
        }
        written.push(path);
    }
    Ok(())
}

/// Prints each engine's start, progress each tenth of its cases,
/// restarts and setup failures.
#[derive(Default)]
struct Progress {
    cases: usize,
    done: BTreeMap<String, usize>,
}

impl Reporter for Progress {
    fn on_event(&mut self, event: &RunEvent) {
        match event {
            RunEvent::SuiteStart { cases, .. } => self.cases = *cases,
            RunEvent::EngineStart(info) => {
                println!("{}: {} started", info.engine, info.browser_version)
            }
            RunEvent::EngineSetupFailed { engine, error } => {
                println!("{engine}: could not start: {error}")
            }
            RunEvent::EngineRestart {
                engine,
                reason,
                given_up,
            } => println!(
                "{engine}: {} {}",
                if *given_up {
                    "given up:"
                } else {
                    "session died, restarting:"
                },
                reason.lines().next().unwrap_or("")
            ),
            RunEvent::CaseEnd(r) => {
                let n = self.done.entry(r.engine.clone()).or_default();
                *n += 1;
                let step = (self.cases / 10).max(1);
                if *n % step == 0 || *n == self.cases {
                    println!("{}: {}/{} cases", r.engine, n, self.cases);
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        // The second name is a directory already, so it cannot be written.
        std::fs::create_dir(dir.path().join("b.yaml")).unwrap();
        let files = vec![
            ("a.yaml".to_owned(), "x".to_owned()),
            ("b.yaml".to_owned(), "y".to_owned()),
        ];
        let e = write_case_files(dir.path(), &files).unwrap_err();
        assert!(e.contains("b.yaml"), "{e}");
        assert!(!dir.path().join("a.yaml").exists());
        write_case_files(&dir.path().join("ok"), &files[..1]).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("ok/a.yaml")).unwrap(),
            "x"
        );
    }
}
