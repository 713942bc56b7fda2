//! `pmconf run` and `pmconf bench`.

use super::engines::instances_for_command;
use super::placement::PlacementArgs;
use super::{report_load_errors, EXIT_BAD_INPUT};
use crate::atomic::{write_atomically, Dir};
use crate::case_files::{check_snapshot_names, load_cases, LoadedCase};
use crate::engine::ProcessRegistry;
use crate::layout::snapshot_name;
use crate::report::{
    HtmlReporter, JsonReporter, JunitReporter, MultiReporter, Tee, TerminalReporter,
    WptReportReporter,
};
use crate::run::driver::{Pacing, Via};
use crate::run::events::{ModelSnapshotResult, Reporter, RunEvent};
use crate::run::info::RunInfo;
use crate::run::model_snapshots::record_model_snapshots;
use crate::run::shard::Shard;
use crate::run::suite::{run_suite, SuiteConfig};
use std::io::IsTerminal;
use std::path::PathBuf;

/// Options of `pmconf run`.
#[derive(Debug, Clone, clap::Args)]
pub struct RunArgs {
    /// Case files or directories (default: cases/).
    pub cases: Vec<PathBuf>,
    /// Engines: chromium, firefox, webkitgtk (comma-separated) or all.
    /// Default: every installed engine (all three when CI is set).
    #[arg(long)]
    pub engine: Option<String>,
    /// Cases mounted in one page load at a time.
    #[arg(long, default_value_t = 12)]
    pub batch: usize,
    /// Run every case in fresh documents: no plain case runs in windows an
    /// earlier case left (document reuse: docs/src/architecture.md).
    #[arg(long)]
    pub no_reuse: bool,
    /// Seconds every window of a batch may take to load.
    #[arg(long, default_value_t = 15)]
    pub ready_timeout: u64,
    /// How each task of a case reaches its window: `channel` (a message
    /// on the document's WebSocket, run as a task of the page) or
    /// `webdriver` (a WebDriver script call, as before the channel; kept to
    /// compare).
    #[arg(long, value_enum, default_value = "channel")]
    pub via: Via,
    /// Where the machine-readable results go.
    #[arg(long, default_value = "target/pmconf/results.json")]
    pub results: PathBuf,
    /// Also write a static HTML report here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Also write one wptreport.json per engine into this directory.
    #[arg(long)]
    pub wptreport: Option<PathBuf>,
    /// Run only the cases that match (repeat for any of several):
    /// `tag:NAME` for a tag of the case, or a glob on its path (`races/*`,
    /// `**/idn-*`), matched below `cases/` and as given.
    #[arg(long, value_name = "PATTERN")]
    pub filter: Vec<String>,
    /// Also write JUnit XML here: one file per engine when the path holds
    /// `{engine}`, else one file with a testsuite per engine.
    #[arg(long)]
    pub junit: Option<PathBuf>,
    /// Known divergences: bug links for JUnit's skipped results (default:
    /// known-divergences.yaml when present).
    #[arg(long)]
    pub known: Option<PathBuf>,
    /// Accepted snapshots live here.
    #[arg(long, default_value = "snapshots")]
    pub snapshots: PathBuf,
    /// Write what was observed (and the model's answer) as the accepted
    /// snapshots, never under CI; prefer `pmconf review`, which shows each
    /// pending snapshot and accepts or rejects it one by one.
    #[arg(long)]
    pub accept_snapshots: bool,
    /// Colour the terminal report.
    #[arg(long)]
    pub color: bool,
    /// Run each race case (one with steps other than `post`) this many
    /// times per engine and report an outcome histogram; other cases run
    /// once.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Run a case whose snapshot changed again (all its repeats), up to
    /// this many times; the first attempt that matches stands and the
    /// result is reported as flaky, with what the earlier attempts saw. 0
    /// makes the first attempt final.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u32).range(0..=20))]
    pub retry_unexpected: u32,
    /// Sessions of each engine at once (one driver each), taking batches
    /// from one queue.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=32))]
    pub sessions: u32,
    /// Run only part K of the cases split N ways (`--shard 2/4`), by a
    /// stable hash of each case's path.
    #[arg(long)]
    pub shard: Option<Shard>,
    /// Seconds a WebDriver command may go unanswered before its session
    /// counts as hung and is replaced.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub command_timeout: u64,
    /// Remote WebDriver endpoints and the server's address.
    #[command(flatten)]
    pub placement: PlacementArgs,
}

/// The engine instances and listen address `placement` names, or the
/// bad-input exit status after printing why.
pub(super) fn place(
    engine: Option<&str>,
    ci: bool,
    placement: &PlacementArgs,
) -> Result<(Vec<crate::engine::EngineInstance>, crate::server::Listen), i32> {
    let checked = placement
        .urls()
        .and_then(|urls| Ok((urls, placement.listen()?)));
    let (urls, listen) = checked.map_err(|e| {
        eprintln!("error: {e}");
        EXIT_BAD_INPUT
    })?;
    let declared = placement.declared()?;
    Ok((instances_for_command(engine, ci, &urls, &declared)?, listen))
}

/// Whether CI is set (snapshots are then never accepted).
pub fn ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

fn load_or_report(cases: &[PathBuf]) -> Result<Vec<LoadedCase>, i32> {
    let inputs = if cases.is_empty() {
        vec![PathBuf::from("cases")]
    } else {
        cases.to_vec()
    };
    load_cases(&inputs).map_err(|errors| {
        report_load_errors(&errors);
        EXIT_BAD_INPUT
    })
}

/// Loads the cases of a run that compares snapshots: two files whose
/// snapshots would share a name are refused, and a case outside `cases/`
/// is named after its whole path (said on stderr).
fn load_for_snapshots(cases: &[PathBuf]) -> Result<Vec<LoadedCase>, i32> {
    let loaded = load_or_report(cases)?;
    if let Err(errors) = check_snapshot_names(&loaded) {
        report_load_errors(&errors);
        return Err(EXIT_BAD_INPUT);
    }
    for c in loaded
        .iter()
        .filter(|c| snapshot_name(&c.name).starts_with("outside__"))
    {
        eprintln!(
            "note: {} is outside cases/: its snapshots are named {}.snap",
            c.name,
            snapshot_name(&c.name)
        );
    }
    Ok(loaded)
}

/// Runs `pmconf run`; returns the exit status: 0 when everything matches
/// the accepted snapshots, 1 for unexpected behaviour, 2 for bad input or a
/// setup failure.
pub async fn run(args: RunArgs, registry: &ProcessRegistry) -> i32 {
    if args.accept_snapshots && ci() {
        eprintln!("error: refusing --accept-snapshots because CI is set: snapshots are reviewed by people (pmconf review), never accepted by CI");
        return EXIT_BAD_INPUT;
    }
    let mut cases = match load_for_snapshots(&args.cases) {
        Ok(c) => c,
        Err(status) => return status,
    };
    if !args.filter.is_empty() {
        cases.retain(|c| crate::case_filter::matches_any(c, &args.filter));
        if cases.is_empty() {
            eprintln!(
                "error: no case matches --filter {}\n  fix: give a tag as tag:NAME, or a glob on the path below cases/ such as races/*",
                args.filter.join(" --filter ")
            );
            return EXIT_BAD_INPUT;
        }
    }
    if let Some(shard) = args.shard {
        let all = cases.len();
        cases.retain(|c| shard.contains(&c.name));
        println!("shard {shard}: {} of {all} cases", cases.len());
    }
    let (engines, listen) = match place(args.engine.as_deref(), ci(), &args.placement) {
        Ok(placed) => placed,
        Err(status) => return status,
    };
    // Report files are written atomically at the end; their directories
    // are made now, so a bad path fails before any browser starts.
    let known = match crate::known::KnownDivergences::load_or_default(args.known.as_deref()) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let mut dirs: Vec<PathBuf> = [Some(&args.results), args.html.as_ref(), args.junit.as_ref()]
        .into_iter()
        .flatten()
        .filter_map(|p| p.parent().map(PathBuf::from))
        .collect();
    dirs.extend(args.wptreport.clone());
    for dir in dirs.iter().filter(|d| !d.as_os_str().is_empty()) {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("error: cannot create {}: {e}", dir.display());
            return EXIT_BAD_INPUT;
        }
    }
    // Live bars (one per engine) only on a terminal; plain labelled lines
    // anywhere else (a pipe, a file, CI logs).
    let terminal = TerminalReporter::new(Box::new(std::io::stdout()), args.color);
    let mut terminal = if std::io::stdout().is_terminal() {
        terminal.with_live_progress()
    } else {
        terminal
    };
    let mut reporters: Vec<Box<dyn Reporter>> =
        vec![Box::new(JsonReporter::new(args.results.clone()))];
    if let Some(html) = &args.html {
        reporters.push(Box::new(HtmlReporter::new(html.clone())));
    }
    if let Some(dir) = &args.wptreport {
        reporters.push(Box::new(WptReportReporter::new(
            dir.join("wptreport-{engine}.json"),
        )));
    }
    if let Some(path) = &args.junit {
        reporters.push(Box::new(JunitReporter::new(path.clone(), known)));
    }
    // The terminal is finished last, so that it lists the report files
    // written just above its verdict line, which ends the output.
    let mut files = MultiReporter::new(reporters);
    let mut reporter = Tee {
        first: &mut terminal,
        second: &mut files,
    };
    reporter.on_event(&RunEvent::RunInfo(
        RunInfo::now(&cases).with_instances(&engines),
    ));
    // The model's answers need no browser: compared (and pending ones
    // written) before the engines start, and sent as events so that every
    // report counts a pending model snapshot as needing action.
    let model_pending = match record_model_snapshots(&args.snapshots, &cases, args.accept_snapshots)
    {
        Ok(model) => {
            let pending = model.iter().any(|(_, s)| s.is_unexpected());
            for (case, snapshot) in model {
                reporter.on_event(&RunEvent::ModelSnapshot(ModelSnapshotResult {
                    case,
                    snapshot,
                }));
            }
            pending
        }
        Err(e) => {
            eprintln!("error: writing model snapshots: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let config = SuiteConfig {
        engines,
        listen,
        cases,
        pacing: Pacing {
            batch_size: args.batch,
            ready_timeout: std::time::Duration::from_secs(args.ready_timeout),
            reuse: !args.no_reuse,
            via: args.via,
            ..Pacing::default()
        },
        snapshot_dir: Some(args.snapshots.clone()),
        accept_snapshots: args.accept_snapshots,
        repeat: args.repeat as usize,
        retry_unexpected: args.retry_unexpected as usize,
        sessions: args.sessions as usize,
        command_timeout: std::time::Duration::from_secs(args.command_timeout),
        profile: false,
    };
    let outcome = match run_suite(config, registry, &mut reporter).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let written = files.finish();
    if let Err(e) = &written {
        eprintln!("error: writing reports: {e}");
    }
    terminal.reports_written(files.written());
    if let Err(e) = terminal.finish() {
        eprintln!("error: writing to the terminal: {e}");
        return EXIT_BAD_INPUT;
    }
    if written.is_err() {
        return EXIT_BAD_INPUT;
    }
    if !outcome.setup_failures.is_empty() {
        EXIT_BAD_INPUT
    } else if outcome.unexpected() || model_pending {
        1
    } else {
        0
    }
}

/// Options of `pmconf bench`.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// How many cases to run per engine; the cases under the given paths
    /// are repeated until there are this many.
    #[arg(long, default_value_t = 200)]
    pub cases: usize,
    /// Case files or directories to draw from (default: cases/).
    pub from: Vec<PathBuf>,
    /// Engines, as for `run`.
    #[arg(long)]
    pub engine: Option<String>,
    /// Cases mounted in one page load at a time.
    #[arg(long, default_value_t = 12)]
    pub batch: usize,
    /// Run every case in fresh documents: no plain case runs in windows an
    /// earlier case left (document reuse: docs/src/architecture.md).
    #[arg(long)]
    pub no_reuse: bool,
    /// How each task of a case reaches its window: `channel` (a message
    /// on the document's WebSocket, run as a task of the page) or
    /// `webdriver` (a WebDriver script call, as before the channel; kept to
    /// compare).
    #[arg(long, value_enum, default_value = "channel")]
    pub via: Via,
    /// Runs of each race case (as `run --repeat`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Sessions of each engine at once (as `run --sessions`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=32))]
    pub sessions: u32,
    /// Also print where the time goes: per engine, wall time by phase,
    /// page loads, reports, WebDriver commands and renderer processes per
    /// case run, and CPU time per case run by process kind (from /proc);
    /// the same figures go to --profile-json.
    #[arg(long)]
    pub profile: bool,
    /// Where --profile writes its figures as JSON.
    #[arg(long, default_value = "target/pmconf/profile.json")]
    pub profile_json: PathBuf,
    /// Remote WebDriver endpoints and the server's address, as for `run`.
    #[command(flatten)]
    pub placement: PlacementArgs,
}

/// Runs `pmconf bench`: prints runs per second per engine.
pub async fn bench(args: BenchArgs, registry: &ProcessRegistry) -> i32 {
    let pool = match load_or_report(&args.from) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let cases: Vec<LoadedCase> = pool.iter().cycle().take(args.cases).cloned().collect();
    // The profile's directory is made now, so a bad path fails before any
    // browser starts.
    if let Some(dir) = args.profile_json.parent().filter(|_| args.profile) {
        if let Err(e) = std::fs::create_dir_all(dir).or_else(|e| {
            if dir.as_os_str().is_empty() {
                Ok(())
            } else {
                Err(e)
            }
        }) {
            eprintln!("error: cannot create {}: {e}", dir.display());
            return EXIT_BAD_INPUT;
        }
    }
    let (engines, listen) = match place(args.engine.as_deref(), false, &args.placement) {
        Ok(placed) => placed,
        Err(status) => return status,
    };
    let config = SuiteConfig {
        engines,
        listen,
        cases,
        pacing: Pacing {
            batch_size: args.batch,
            reuse: !args.no_reuse,
            via: args.via,
            ..Pacing::default()
        },
        snapshot_dir: None,
        accept_snapshots: false,
        repeat: args.repeat as usize,
        // Nothing is compared, so nothing is unexpected.
        retry_unexpected: 0,
        sessions: args.sessions as usize,
        command_timeout: std::time::Duration::from_secs(30),
        profile: args.profile,
    };
    struct Quiet;
    impl Reporter for Quiet {
        fn on_event(&mut self, _: &crate::run::events::RunEvent) {}
    }
    let outcome = match run_suite(config, registry, &mut Quiet).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    println!(
        "pmconf bench: {} cases per engine, batch {}, engines running at the same time",
        args.cases, args.batch
    );
    for (engine, seconds) in &outcome.engine_seconds {
        let mine = || outcome.results.iter().filter(|r| &r.engine == engine);
        let done: usize = mine().map(|r| r.runs).sum();
        let concluded: usize = mine().map(|r| r.runs - r.unobserved_runs).sum();
        println!(
            "{engine:<10} {done} runs in {seconds:.1} s = {:.1} runs/s ({concluded} observed)",
            done as f64 / seconds.max(1e-9)
        );
    }
    for (engine, error) in &outcome.setup_failures {
        println!("{engine:<10} failed: {error}");
    }
    if let Some(profile) = &outcome.profile {
        print!("{}", crate::run::profile::render_table(profile));
        if let Err(e) = write_profile_json(&args.profile_json, profile) {
            eprintln!("error: writing {}: {e}", args.profile_json.display());
            return EXIT_BAD_INPUT;
        }
        println!("profile written to {}", args.profile_json.display());
    }
    if outcome.setup_failures.is_empty() {
        0
    } else {
        EXIT_BAD_INPUT
    }
}

/// Writes the profile as JSON, all at once or not at all.
fn write_profile_json(
    path: &std::path::Path,
    profile: &crate::run::profile::ProfileReport,
) -> std::io::Result<()> {
    let text = serde_json::to_string_pretty(profile).map_err(std::io::Error::other)?;
    write_atomically(path, (text + "\n").as_bytes(), Dir::MustExist)
}
