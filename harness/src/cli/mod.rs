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

/// Writes a command's `--results` summary (its directory made if
/// needed); the bad-input exit status after printing why it could not.
pub fn write_summary(path: &std::path::Path, summary: &serde_json::Value) -> Result<(), i32> {
    let text = serde_json::to_string_pretty(summary).expect("serializes");
    crate::atomic::write_atomically(path, text.as_bytes(), crate::atomic::Dir::Make).map_err(|e| {
        eprintln!("error: cannot write {}: {e}", path.display());
        EXIT_BAD_INPUT
    })
}

/// Paths, comma-separated, for a line.
pub fn paths(files: &[std::path::PathBuf]) -> String {
    let files: Vec<String> = files.iter().map(|p| p.display().to_string()).collect();
    files.join(", ")
}

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
