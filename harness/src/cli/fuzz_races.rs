//! `pmconf fuzz --races`: what the race campaign ([`crate::fuzz::race_campaign`])
//! prints as it goes (each engine's start and progress, the tallies, each
//! divergence and what became of it), and its exit status.

use super::placement::PlacementArgs;
use super::{paths, write_summary, EXIT_BAD_INPUT};
use crate::atomic::write_all_or_none;
use crate::engine::ProcessRegistry;
use crate::fuzz::divergences::{Divergence, EngineTally};
use crate::fuzz::race_campaign::{Drawn, Fate, RaceCampaign, Ran};
use crate::fuzz::race_reducer::RaceReducer;
use crate::fuzz::save::Saved;
use crate::gen::races::GeneratedRace;
use crate::report::outcome_summaries;
use crate::run::events::{Reporter, RunEvent};
use std::collections::BTreeMap;
use std::path::Path;

/// Where `pmconf fuzz --races` reads engines from and writes to, beside
/// the campaign itself.
pub struct Outputs<'a> {
    /// `--engine`.
    pub engine: Option<&'a str>,
    /// `--dry-run DIR`: write the cases there, run nothing.
    pub dry_run: Option<&'a Path>,
    /// `--results FILE`: the JSON summary.
    pub results: Option<&'a Path>,
}

/// Runs `pmconf fuzz --races`; the exit status is as for `pmconf fuzz`,
/// and also 1 when any run observed nothing (a harness fault).
pub async fn run(campaign: &RaceCampaign, outputs: Outputs<'_>, registry: &ProcessRegistry) -> i32 {
    let drawn = Drawn::of(campaign);
    print_drawn(campaign, &drawn);
    if let Some(dir) = outputs.dry_run {
        let files = drawn.files();
        return match write_all_or_none(dir, &files) {
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
        match super::run::place(outputs.engine, false, &PlacementArgs::default()) {
            Ok(placed) => placed,
            Err(status) => return status,
        };
    let instances = engines.clone();
    let command = campaign.command(&engines);
    println!("{command}: reproduce with the same command");
    let mut progress = Progress::default();
    let ran = match campaign
        .run(engines, listen, &drawn, registry, &mut progress)
        .await
    {
        Ok(ran) => ran,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    print_ran(campaign, &ran);

    let mut reducer = campaign.reducer(instances, registry);
    let (mut status, saved, findings) =
        settle_all(campaign, &mut reducer, &command, &drawn, &ran).await;
    reducer.close().await;
    if let Some(path) = outputs.results {
        if let Err(s) = write_summary(
            path,
            &campaign.summary_json(&command, &drawn, &ran, &findings),
        ) {
            status = s;
        }
    }
    let faults: usize = ran.tally.iter().map(EngineTally::faults).sum();
    if !ran.outcome.setup_failures.is_empty() || !drawn.refused.is_empty() {
        status = EXIT_BAD_INPUT;
    }
    if status == 0 && (saved > 0 || faults > 0) {
        status = 1;
    }
    status
}

/// Settles every divergence, printing each with what became of it: the
/// exit status so far (2 when a finding could not be saved), how many
/// were saved, and each one's record for the summary.
async fn settle_all(
    campaign: &RaceCampaign,
    reducer: &mut RaceReducer,
    command: &str,
    drawn: &Drawn,
    ran: &Ran,
) -> (i32, usize, Vec<serde_json::Value>) {
    let (mut status, mut saved) = (0, 0);
    let mut findings = Vec::new();
    println!(
        "{} divergences (outcomes neither allowed nor contested):",
        ran.found.len()
    );
    for d in &ran.found {
        let Some(race) = drawn.race(&d.case) else {
            continue;
        };
        for line in divergence_lines(race, d) {
            println!("  {line}");
        }
        let (fate, record) = campaign.settle(reducer, command, race, d).await;
        findings.push(record);
        let (failed, new) = print_fate(&fate);
        if failed {
            status = EXIT_BAD_INPUT;
        }
        saved += new;
    }
    (status, saved, findings)
}

/// How many cases were drawn, and (some of) the refused ones.
fn print_drawn(campaign: &RaceCampaign, drawn: &Drawn) {
    println!(
        "generated {} race cases from seed {}: {} valid, {} refused by the validator",
        campaign.cases,
        campaign.seed,
        drawn.races.len(),
        drawn.refused.len()
    );
    for r in drawn.refused.iter().take(5) {
        println!(
            "  {} (a bug of the generator): {}",
            r.name,
            r.errors.lines().next().unwrap_or("")
        );
    }
}

/// Each engine's tally, the engines that did not start, and (some of) the
/// runs that observed nothing.
fn print_ran(campaign: &RaceCampaign, ran: &Ran) {
    println!();
    for t in &ran.tally {
        println!("{}", tally_line(t, campaign.repeat));
    }
    for (engine, error) in &ran.outcome.setup_failures {
        println!("{engine}: failed to start: {error}");
    }
    for r in ran
        .outcome
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
}

/// What became of a divergence: whether saving failed, and how many files
/// were saved (0 or 1).
fn print_fate(fate: &Fate) -> (bool, usize) {
    let saved = match fate {
        Fate::Known(files) => {
            println!("    its rules are already saved as {}", paths(files));
            return (false, 0);
        }
        Fate::Shrunk { line, saved } => {
            println!("    {line}");
            saved
        }
        Fate::NotShrunk { why, saved } => {
            println!("    not shrunk: {why}");
            saved
        }
    };
    match saved {
        None => (false, 0),
        Some(Ok(Saved::New(path))) => {
            println!("    saved {}", path.display());
            (false, 1)
        }
        Some(Ok(Saved::Already(files))) => {
            println!("    already saved as {}", paths(files));
            (false, 0)
        }
        Some(Err(e)) => {
            println!("    could not save: {e}");
            (true, 0)
        }
    }
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
