//! `pmconf run` and `pmconf bench`.

use super::engines::engines_for_command;
use super::{report_load_errors, EXIT_BAD_INPUT};
use crate::case_files::{load_cases, LoadedCase};
use crate::engine::ProcessRegistry;
use crate::report::{
    HtmlReporter, JsonReporter, JunitReporter, MultiReporter, TerminalReporter, WptReportReporter,
};
use crate::run::driver::Pacing;
use crate::run::events::Reporter;
use crate::run::suite::{run_suite, SuiteConfig};
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
    /// Seconds every window of a batch may take to load.
    #[arg(long, default_value_t = 15)]
    pub ready_timeout: u64,
    /// Where the machine-readable results go.
    #[arg(long, default_value = "target/pmconf/results.json")]
    pub results: PathBuf,
    /// Also write a static HTML report here.
    #[arg(long)]
    pub html: Option<PathBuf>,
    /// Also write one wptreport.json per engine into this directory.
    #[arg(long)]
    pub wptreport: Option<PathBuf>,
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
    /// Write what was observed as the accepted snapshots (never under CI;
    /// prefer `cargo insta review` to accept changes one by one).
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
}

fn ci() -> bool {
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

/// Runs `pmconf run`; returns the exit status: 0 when everything matches
/// the accepted snapshots, 1 for unexpected behaviour, 2 for bad input or a
/// setup failure.
pub async fn run(args: RunArgs, registry: &ProcessRegistry) -> i32 {
    if args.accept_snapshots && ci() {
        eprintln!("error: refusing --accept-snapshots because CI is set: snapshots are reviewed by people (cargo insta review), never accepted by CI");
        return EXIT_BAD_INPUT;
    }
    let cases = match load_or_report(&args.cases) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let engines = match engines_for_command(args.engine.as_deref(), ci()) {
        Ok(e) => e,
        Err(status) => return status,
    };
    // Report files are written atomically at the end; their directories
    // are made now, so a bad path fails before any browser starts.
    let known =
        match crate::nightly::known::KnownDivergences::load_or_default(args.known.as_deref()) {
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
    let mut reporters: Vec<Box<dyn Reporter>> = vec![
        Box::new(TerminalReporter::new(
            Box::new(std::io::stdout()),
            args.color,
        )),
        Box::new(JsonReporter::new(args.results.clone())),
    ];
    if let Some(html) = &args.html {
        reporters.push(Box::new(HtmlReporter::new(html.clone())));
    }
    if let Some(dir) = &args.wptreport {
        reporters.push(Box::new(
            WptReportReporter::new(dir.join("wptreport-{engine}.json"))
                .with_revision(crate::report::pmconf_revision()),
        ));
    }
    if let Some(path) = &args.junit {
        reporters.push(Box::new(JunitReporter::new(path.clone(), known)));
    }
    let mut reporter = MultiReporter::new(reporters);
    let config = SuiteConfig {
        engines,
        cases,
        pacing: Pacing {
            batch_size: args.batch,
            ready_timeout: std::time::Duration::from_secs(args.ready_timeout),
            ..Pacing::default()
        },
        snapshot_dir: Some(args.snapshots.clone()),
        accept_snapshots: args.accept_snapshots,
        repeat: args.repeat as usize,
        retry_unexpected: args.retry_unexpected as usize,
    };
    let outcome = match run_suite(config, registry, &mut reporter).await {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if let Err(e) = reporter.finish() {
        eprintln!("error: writing reports: {e}");
        return EXIT_BAD_INPUT;
    }
    if !outcome.setup_failures.is_empty() {
        EXIT_BAD_INPUT
    } else if outcome.unexpected() {
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
    /// Runs of each race case (as `run --repeat`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
}

/// Runs `pmconf bench`: prints cases per second per engine.
pub async fn bench(args: BenchArgs, registry: &ProcessRegistry) -> i32 {
    let pool = match load_or_report(&args.from) {
        Ok(c) => c,
        Err(status) => return status,
    };
    let cases: Vec<LoadedCase> = pool.iter().cycle().take(args.cases).cloned().collect();
    let engines = match engines_for_command(args.engine.as_deref(), false) {
        Ok(e) => e,
        Err(status) => return status,
    };
    let config = SuiteConfig {
        engines,
        cases,
        pacing: Pacing {
            batch_size: args.batch,
            ..Pacing::default()
        },
        snapshot_dir: None,
        accept_snapshots: false,
        repeat: args.repeat as usize,
        // Nothing is compared, so nothing is unexpected.
        retry_unexpected: 0,
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
    if outcome.setup_failures.is_empty() {
        0
    } else {
        EXIT_BAD_INPUT
    }
}
