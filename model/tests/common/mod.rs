//! Helpers the model's integration tests share.
#![allow(dead_code)]

use pmconf_model::{parse_case, Case, CaseError};

/// Every error of a refused case, one a line.
pub fn errors_text(errors: &[CaseError]) -> String {
    errors
        .iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The case `text` (named `file` in errors), or a panic listing why not.
pub fn parsed(file: &str, text: &str) -> Case {
    parse_case(file, text).unwrap_or_else(|errors| panic!("{}", errors_text(&errors)))
}
