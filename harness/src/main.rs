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
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Yaml)]
        format: Format,
        /// Write to this file (atomically) instead of standard output.
        #[arg(long)]
        output: Option<PathBuf>,
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
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Resolve targetOrigin values as postMessage would from ORIGIN.
    TargetOrigin {
        /// The calling document's origin (for `/`), or `null`.
        #[arg(long)]
        from: String,
        /// targetOrigin values.
        #[arg(required = true, allow_hyphen_values = true)]
        values: Vec<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

fn main() {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Model {
            cases,
            format,
            output,
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
