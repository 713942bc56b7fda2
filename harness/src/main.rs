//! `pmconf`: differential conformance harness for `window.postMessage`.

use clap::{Parser, Subcommand};
use pmconf::cli::{self, Format};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "pmconf",
    version,
    about = "Differential conformance harness for window.postMessage"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print each case's allowed outcomes, as the reference model answers.
    Model {
        /// Case files or directories.
        #[arg(required = true)]
        cases: Vec<PathBuf>,
        /// Output format: `yaml` (default) or `json`, the same answer either way.
        #[arg(long, value_enum, default_value_t = Format::Yaml, hide_possible_values = true)]
        format: Format,
        /// Write to this file (atomically) instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
        /// Instead of the answers, print a benchmark: per case, the
        /// event-loop states explored, the allowed outcomes and the median
        /// time to answer (over 21 runs), largest first.
        #[arg(long, conflicts_with = "output")]
        stats: bool,
    },
    /// Validate case files and report every error found.
    Check {
        /// Case files or directories.
        #[arg(required = true)]
        cases: Vec<PathBuf>,
    },
    /// Print the ASCII serialization of each URL's origin, or `failure`.
    Origin {
        /// URLs.
        #[arg(required = true)]
        urls: Vec<String>,
        /// Output format: `text` (default), one line per URL: the origin or
        /// `failure`; or `json`, one object per URL with `input`, `kind`
        /// and `serialization`.
        #[arg(long, value_enum, default_value_t = Format::Text, hide_possible_values = true)]
        format: Format,
    },
    /// Run cases in real engines and compare with the model and the snapshots.
    Run(cli::run::RunArgs),
    /// Serve the cases to any browser: print one URL; opening it (through
    /// pmconf's proxy) runs the cases with the same runner, agents and
    /// channel as `run`, without WebDriver, and shows the results there.
    Serve(cli::serve::ServeArgs),
    /// Print runs per second per engine (the given cases repeated until there
    /// are --cases of them; a race case counts once per --repeat).
    Bench(cli::run::BenchArgs),
    /// Generate cases from a seed, run them, shrink divergences, save them.
    Fuzz(cli::fuzz::FuzzArgs),
    /// List each engine and driver found, with versions, or how to install it.
    Doctor {
        /// Also check the engine instances declared in this file (default:
        /// pmconf.toml in the current directory, if there is one).
        #[arg(long, value_name = "FILE")]
        engines: Option<PathBuf>,
    },
    /// Show each pending snapshot (model and engines) with its diff; accept,
    /// reject or skip it with a key.
    Review(cli::review::ReviewArgs),
    /// Export cases as web-platform-tests (`pmconf export wpt`).
    #[command(subcommand)]
    Export(cli::export::ExportCommand),
    /// Nightly reports: merge, diff, record, history, site, summary.
    #[command(subcommand)]
    Report(cli::report::ReportCommand),
    /// Resolve targetOrigin values as postMessage would from ORIGIN.
    TargetOrigin {
        /// The calling document's origin (for `/`), or `null`.
        #[arg(long)]
        from: String,
        /// targetOrigin values.
        #[arg(required = true, allow_hyphen_values = true)]
        values: Vec<String>,
        /// Output format: `text` (default), one line per value: `*`, the
        /// resolved origin, `opaque` or `SyntaxError`; or `json`, one object
        /// per value with `input`, `kind` and `serialization`.
        #[arg(long, value_enum, default_value_t = Format::Text, hide_possible_values = true)]
        format: Format,
    },
}

fn main() {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Run(args) => {
            with_engines(|registry| async move { cli::run::run(args, &registry).await })
        }
        Command::Bench(args) => {
            with_engines(|registry| async move { cli::run::bench(args, &registry).await })
        }
        Command::Export(command) => {
            with_engines(|registry| async move { cli::export::run(command, &registry).await })
        }
        Command::Serve(args) => {
            with_engines(|registry| async move { cli::serve::serve(args, &registry).await })
        }
        Command::Doctor { engines } => with_engines(|registry| cli::doctor::run(engines, registry)),
        Command::Review(args) => cli::review::run(&args),
        Command::Report(command) => cli::report::run(command),
        Command::Fuzz(args) => {
            with_engines(|registry| async move { cli::fuzz::run(args, &registry).await })
        }
        Command::Model {
            cases, stats: true, ..
        } => cli::model::stats(&cases),
        Command::Model {
            cases,
            format,
            output,
            stats: false,
        } => cli::model::run(&cases, format, output.as_deref()),
        Command::Check { cases } => cli::check::run(&cases),
        Command::Origin { urls, format } => cli::origin::run_origin(&urls, format),
        Command::TargetOrigin {
            from,
            values,
            format,
        } => cli::origin::run_target_origin(&from, &values, format),
    };
    std::process::exit(status);
}

/// Runs a command that starts browsers: a runtime, a registry of every
/// process started, and cleanup of all of them on the way out, on Ctrl-C and
/// on SIGTERM alike.
fn with_engines<F, Fut>(f: F) -> i32
where
    F: FnOnce(pmconf::engine::ProcessRegistry) -> Fut,
    Fut: std::future::Future<Output = i32>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let registry = pmconf::engine::ProcessRegistry::new();
    let _guard = registry.end_all_on_drop();
    let status = runtime.block_on(async {
        if let Err(e) = pmconf::engine::install_signal_cleanup(registry.clone()) {
            eprintln!("warning: cannot install the Ctrl-C handler: {e}");
        }
        f(registry.clone()).await
    });
    registry.end_all();
    // Interrupted: the run may have ended early because its browsers were
    // ended; the status is the signal's, whatever the run concluded.
    pmconf::engine::signal_exit_status().unwrap_or(status)
}
