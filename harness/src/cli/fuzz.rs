//! `pmconf fuzz`: generate cases from a seed, run them in the engines,
//! shrink every divergence in the engine that showed it, and save the
//! minimal ones as cases.

use super::engines::engines_for_command;
use super::{paths, write_summary, EXIT_BAD_INPUT};
use crate::atomic::write_all_or_none;
use crate::engine::{EngineId, ProcessRegistry};
use crate::fuzz::campaign::{
    self, one_line, save_all, summary_json, Campaign, EngineFindings, Generated, PassProgress,
};
use crate::fuzz::findings::SavedFindings;
use crate::fuzz::race_campaign::RaceCampaign;
use crate::fuzz::save::Saved;
use crate::gen::MessageFamily;
use crate::run::driver::Pacing;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// What `pmconf fuzz --help` says after the options.
pub const FUZZ_AFTER_HELP: &str = "\
Findings go to --out (default found/), which neither `pmconf run` nor
the model snapshot test reads: to make one part of the suite, move its
.yaml (and .html) to cases/found/, then `pmconf run cases/found/NAME.yaml`
and `pmconf review`.

--races: each generated race case runs --repeat times per engine; a
divergence is an observed outcome neither allowed nor contested by the
model, listed with its histogram. Each one whose rule is not saved yet is
shrunk in the engine that diverged (within --shrink-runs runs, confirmed
by 20 more) and saved as found/<engine>--race-<rule>--<hash>.yaml; one
that cannot be shrunk (--shrink-runs 0, over --max-shrinks, or not
confirmed) is saved as generated to found/races/, with its histogram in
NAME.observed.json. The end prints runs/s and harness faults (runs that
observed nothing) per engine.

Exit status: 0 when no engine diverged in a way not already saved (under
--out or cases/found/), 1 when a new divergence was saved (or, with
--races, a run observed nothing), 2 for a setup failure or a finding
that could not be written.";

/// Options of `pmconf fuzz`.
#[derive(Debug, Clone, clap::Args)]
#[command(after_help = FUZZ_AFTER_HELP)]
pub struct FuzzArgs {
    /// The seed: the same seed and count generate the same cases.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// How many cases to generate.
    #[arg(long, default_value_t = 200)]
    pub cases: usize,
    /// Engines, as for `run`.
    #[arg(long)]
    pub engine: Option<String>,
    /// Where minimal divergences are written: outside cases/, so that the
    /// suite does not run them until a person moves them there.
    #[arg(long, default_value = "found")]
    pub out: PathBuf,
    /// Oracle runs allowed per shrink.
    #[arg(long, default_value_t = 60)]
    pub shrink_tries: usize,
    /// At most this many distinct divergences are shrunk per engine.
    #[arg(long, default_value_t = 24)]
    pub max_shrinks: usize,
    /// Cases mounted in one page load at a time.
    #[arg(long, default_value_t = 12)]
    pub batch: usize,
    /// Seconds every window of a batch may take to load (as `run`).
    #[arg(long, default_value_t = 15)]
    pub ready_timeout: u64,
    /// Run and report, but save no finding (nothing is written under --out).
    #[arg(long)]
    pub no_save: bool,
    /// Start no browser: write every generated case the model can answer
    /// to DIR as YAML (`case-0007.yaml`, or `race-<seed>-<i>.yaml` with
    /// --races), so you can read what would run (`pmconf check DIR`).
    #[arg(long, value_name = "DIR", alias = "emit", conflicts_with = "no_save")]
    pub dry_run: Option<PathBuf>,
    /// Generate navigation race cases (windows navigated, reloaded,
    /// removed, closed or created while messages are in flight) instead of
    /// origin cases; each runs --repeat times per engine.
    #[arg(long)]
    pub races: bool,
    /// With --races: runs of each case per engine.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// With --races: sessions of each engine at once (as `run --sessions`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=32))]
    pub sessions: u32,
    /// With --races: seconds a WebDriver command may go unanswered before
    /// its session counts as hung and is replaced (as `run`).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub command_timeout: u64,
    /// Also write a JSON summary here.
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// With --races: engine runs allowed per shrink (candidates and the
    /// first confirmation; a minimal case that does not confirm costs a few
    /// more batches to bisect); 0 saves divergent cases unshrunk.
    #[arg(long, default_value_t = 600)]
    pub shrink_runs: usize,
    /// Draw messages from the `values` family: Map, Set, Date, RegExp
    /// (sources with `/` and line breaks, lastIndex), BigInt, wrappers,
    /// errors (custom properties, non-string messages), DOMException,
    /// ImageData, Blob and File, typed arrays, DataView, sparse arrays,
    /// shared references and cycles, and now and then an uncloneable part.
    #[arg(long)]
    pub values: bool,
}

impl FuzzArgs {
    /// The message family the options ask for.
    fn family(&self) -> MessageFamily {
        if self.values {
            MessageFamily::Values
        } else {
            MessageFamily::Plain
        }
    }

    /// Batching and timeouts, as `--batch` and `--ready-timeout` say.
    fn pacing(&self) -> Pacing {
        Pacing {
            batch_size: self.batch,
            ready_timeout: std::time::Duration::from_secs(self.ready_timeout),
            ..Pacing::default()
        }
    }

    /// The origin campaign the options ask for.
    fn campaign(&self) -> Campaign {
        Campaign {
            seed: self.seed,
            cases: self.cases,
            family: self.family(),
            pacing: self.pacing(),
            shrink_tries: self.shrink_tries,
            max_shrinks: self.max_shrinks,
        }
    }

    /// The race campaign the options ask for (`--races`).
    fn race_campaign(&self) -> RaceCampaign {
        RaceCampaign {
            seed: self.seed,
            cases: self.cases,
            repeat: self.repeat,
            sessions: self.sessions,
            pacing: self.pacing(),
            command_timeout: std::time::Duration::from_secs(self.command_timeout),
            out: self.out.clone(),
            shrink_runs: self.shrink_runs,
            max_shrinks: self.max_shrinks,
            no_save: self.no_save,
        }
    }

    /// The command line that makes the same cases (and runs them in
    /// `engines`, when given).
    fn command(&self, engines: Option<&[EngineId]>) -> String {
        let mut command = format!(
            "pmconf fuzz --seed {} --cases {}{}",
            self.seed,
            self.cases,
            self.family_flag()
        );
        if let Some(engines) = engines {
            let names: Vec<&str> = engines.iter().map(|e| e.name()).collect();
            command.push_str(&format!(" --engine {}", names.join(",")));
        }
        command
    }

    /// ` --values` when given, for the printed command lines.
    fn family_flag(&self) -> &'static str {
        if self.values {
            " --values"
        } else {
            ""
        }
    }
}

/// Runs `pmconf fuzz`; returns the exit status ([`FUZZ_AFTER_HELP`]).
pub async fn run(args: FuzzArgs, registry: &ProcessRegistry) -> i32 {
    if args.races {
        let outputs = super::fuzz_races::Outputs {
            engine: args.engine.as_deref(),
            dry_run: args.dry_run.as_deref(),
            results: args.results.as_deref(),
        };
        return super::fuzz_races::run(&args.race_campaign(), outputs, registry).await;
    }
    let campaign = args.campaign();
    let generated = Generated::of(&campaign);
    print_generated(&args, &generated);
    if let Some(dir) = &args.dry_run {
        return emit(dir, &generated, &args.command(None));
    }
    let engines = match engines_for_command(args.engine.as_deref(), false) {
        Ok(e) => e,
        Err(status) => return status,
    };
    let command = args.command(Some(&engines));
    println!("{command}: reproduce with the same command");
    fuzz_in_engines(&args, &campaign, &generated, engines, &command, registry).await
}

/// Runs the campaign in `engines`, saves and prints what it found.
async fn fuzz_in_engines(
    args: &FuzzArgs,
    campaign: &Campaign,
    generated: &Generated,
    engines: Vec<EngineId>,
    command: &str,
    registry: &ProcessRegistry,
) -> i32 {
    let mut saved = SavedFindings::of_campaign(&args.out);
    let progress: campaign::OnProgress = Rc::new(|p: &PassProgress| {
        println!(
            "{}: {}/{} cases in {:.0} s",
            p.engine, p.done, p.total, p.seconds
        )
    });
    let ran = campaign::run(
        campaign,
        engines,
        &generated.valid,
        &saved,
        registry,
        progress,
    );
    let findings = match ran.await {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let saves = if args.no_save {
        findings.iter().map(|_| Vec::new()).collect()
    } else {
        save_all(&findings, &args.out, command, &mut saved)
    };
    let mut status = 0;
    let mut written = 0;
    println!();
    for (f, saves) in findings.iter().zip(&saves) {
        let (failed, new) = print_engine(f, saves);
        if failed {
            status = EXIT_BAD_INPUT;
        }
        written += new;
    }
    if let Some(path) = &args.results {
        if let Err(s) = write_summary(path, &summary_json(campaign, generated, &findings)) {
            status = s;
        }
    }
    if status == 0 && written > 0 {
        status = 1;
    }
    status
}

/// How many cases were generated, and why (some of) the invalid ones are.
fn print_generated(args: &FuzzArgs, generated: &Generated) {
    println!(
        "generated {} cases: {} valid, {} the model cannot answer",
        args.cases,
        generated.valid.len(),
        generated.unanswerable.len()
    );
    for (i, e) in generated.unanswerable.iter().take(5) {
        println!("  case {i}: {e}");
    }
}

/// One engine's findings, with where each minimal one was saved
/// (`saves`, one per minimal finding; none with `--no-save`): whether
/// anything failed, and how many findings were written.
fn print_engine(f: &EngineFindings, saves: &[std::io::Result<Saved>]) -> (bool, usize) {
    if let Some(e) = &f.error {
        println!("{}: failed: {e}", f.engine);
        return (true, 0);
    }
    println!(
        "{} {}: {} cases in {:.1} s = {:.1} cases/s; {} diverged, {} inconclusive; {} distinct rule sets already saved, {} new after shrinking{}",
        f.engine,
        f.browser_version,
        f.ran,
        f.seconds,
        f.ran as f64 / f.seconds.max(1e-9),
        f.diverging,
        f.inconclusive,
        f.already.len(),
        f.minimal.len(),
        if f.not_shrunk > 0 {
            format!(" ({} more not shrunk: --max-shrinks)", f.not_shrunk)
        } else {
            String::new()
        }
    );
    if f.rerun > 0 {
        println!(
            "  {}: {} cases observed nothing and ran once more; {} stay inconclusive",
            f.engine, f.rerun, f.inconclusive
        );
    }
    if f.restarts > 0 {
        println!(
            "  {}: the session failed and was replaced {} times",
            f.engine, f.restarts
        );
    }
    for reason in &f.inconclusive_reasons {
        println!("  inconclusive {reason}");
    }
    for (key, files) in &f.already {
        println!("  {}: {key}: already saved as {}", f.engine, paths(files));
    }
    let (mut failed, mut written) = (false, 0);
    for (k, (shape, s)) in f.minimal.iter().enumerate() {
        println!("  {}", one_line(f.engine, shape, s));
        match saves.get(k) {
            None => {}
            Some(Ok(Saved::New(path))) => {
                written += 1;
                println!("    saved {}", path.display());
            }
            Some(Ok(Saved::Already(files))) => println!("    already saved as {}", paths(files)),
            Some(Err(e)) => {
                println!("    could not save: {e}");
                failed = true;
            }
        }
    }
    (failed, written)
}

/// `--dry-run DIR`: every generated case as YAML, nothing run. Exit status 0,
/// or 2 when a file cannot be written.
fn emit(dir: &Path, generated: &Generated, command: &str) -> i32 {
    if let Err(e) = write_all_or_none(dir, &generated.files(command)) {
        eprintln!("error: {e}");
        return EXIT_BAD_INPUT;
    }
    println!("wrote {} cases to {}", generated.valid.len(), dir.display());
    0
}
