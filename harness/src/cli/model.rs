//! `pmconf model`: print each case's allowed outcomes.

use super::{report_load_errors, Format, EXIT_BAD_INPUT};
use crate::case_files::{load_cases, write_atomically, LoadedCase};
use pmconf_model::answer_case;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One case's answer as printed.
#[derive(Serialize)]
pub struct ModelReport<'a> {
    /// The case file.
    pub case: &'a str,
    /// Its description.
    pub description: &'a str,
    /// The model's answer.
    #[serde(flatten)]
    pub answer: pmconf_model::Answer,
}

/// Builds the report for loaded cases.
pub fn reports(cases: &[LoadedCase]) -> Vec<ModelReport<'_>> {
    cases
        .iter()
        .map(|c| ModelReport {
            case: &c.name,
            description: &c.case.description,
            answer: answer_case(&c.case),
        })
        .collect()
}

/// Runs `pmconf model`; returns the exit status.
pub fn run(inputs: &[PathBuf], format: Format, output: Option<&Path>) -> i32 {
    let cases = match load_cases(inputs) {
        Ok(c) => c,
        Err(errors) => {
            report_load_errors(&errors);
            return EXIT_BAD_INPUT;
        }
    };
    let reports = reports(&cases);
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&reports).expect("reports serialize") + "\n",
        Format::Text | Format::Yaml => serde_yaml::to_string(&reports).expect("reports serialize"),
    };
    match output {
        None => {
            print!("{text}");
            0
        }
        Some(path) => match write_atomically(path, text.as_bytes()) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("error: cannot write {}: {e}", path.display());
                EXIT_BAD_INPUT
            }
        },
    }
}
