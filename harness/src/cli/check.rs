//! `pmconf check`: validate case files, reporting every error found.

use super::{print_load_errors, EXIT_BAD_INPUT};
use crate::case_files::load_cases;
use std::path::PathBuf;

/// Runs `pmconf check`; returns the exit status.
pub fn run(inputs: &[PathBuf]) -> i32 {
    match load_cases(inputs) {
        Ok(cases) => {
            println!(
                "{} case{} valid",
                cases.len(),
                if cases.len() == 1 { "" } else { "s" }
            );
            0
        }
        Err(errors) => {
            // check writes nothing, so it does not say "nothing was written".
            print_load_errors(&errors, "");
            EXIT_BAD_INPUT
        }
    }
}
