//! The `pmconf` command line: one file per subcommand.

pub mod check;
pub mod doctor;
pub mod engines;
pub mod export;
pub mod fuzz;
pub mod fuzz_races;
pub mod model;
pub mod origin;
pub mod placement;
pub mod race_findings;
pub mod report;
pub mod review;
pub mod run;
pub mod serve;

use clap::ValueEnum;

/// How a command prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// YAML (for `model`) or plain lines (for `origin`, `target-origin`).
    #[default]
    Text,
    /// YAML.
    Yaml,
    /// JSON.
    Json,
}

/// Exit status for bad input or a setup failure.
pub const EXIT_BAD_INPUT: i32 = 2;

/// Prints load errors to stderr, with a count, for a command that would
/// have written something.
pub fn report_load_errors(errors: &[crate::case_files::LoadError]) {
    print_load_errors(errors, "; nothing was written");
}

/// Prints load errors to stderr, then their count and `tail`.
pub fn print_load_errors(errors: &[crate::case_files::LoadError], tail: &str) {
    for e in errors {
        eprintln!("error: {e}");
    }
    eprintln!(
        "{} error{} found{tail}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" }
    );
}
