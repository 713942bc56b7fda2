//! Validation: from the file as written to a [`Case`] the model can run,
//! collecting every problem rather than stopping at the first.
//!
//! One job per file under `validate/`: what serde reports
//! ([`serde_errors`]), the windows as written ([`windows`]), the window tree
//! built from them ([`tree`]), the steps flattened ([`flat`]) and checked
//! one by one against the case's replay, [`super::Topology`] ([`steps`],
//! [`navigate`], [`window_steps`], [`posts`], [`ports`]), and what needs the
//! whole case ([`isolation`]). Spec predicates are the model's own
//! ([`crate::mixed_content`], [`crate::document`]).

use super::raw::RawCase;
use super::schema::strip_unknown;
use super::source_map::{Location, SourceMap};
use super::{Case, CaseError};
use serde::Deserialize;

mod flat;
mod isolation;
mod navigate;
mod ports;
mod posts;
mod realms;
mod serde_errors;
mod shared_memory;
mod steps;
mod tree;
mod window_steps;
mod windows;
use flat::{created_once, flatten_steps, known_windows_only};
use isolation::check_isolation;
use ports::check_ports;
use posts::check_replies;
use realms::check_realms_same_origin_domain;
use serde_errors::{report_unknown, serde_fix, serde_location};
use steps::check_steps;
use tree::{build_tree, check_tree};
use windows::check_windows;

struct Validator<'a> {
    file: &'a str,
    map: SourceMap,
    errors: Vec<CaseError>,
}

impl Validator<'_> {
    fn error_at(&mut self, location: Location, message: impl Into<String>, fix: impl Into<String>) {
        self.errors.push(CaseError {
            file: self.file.to_owned(),
            location,
            message: message.into(),
            fix: fix.into(),
        });
    }

    fn error(&mut self, path: &str, message: impl Into<String>, fix: impl Into<String>) {
        let location = self.map.locate_nearest(path);
        self.error_at(location, message, fix);
    }
}

pub(super) fn parse_and_validate(file: &str, text: &str) -> Result<Case, Vec<CaseError>> {
    let mut v = Validator {
        file,
        map: SourceMap::build(text),
        errors: Vec::new(),
    };
    // Every unknown field first, all of them: serde would stop at the
    // first. The file without them is then validated in the same pass.
    if let Ok(mut value) = serde_yaml::from_str::<serde_yaml::Value>(text) {
        let unknown = strip_unknown(&mut value);
        if !unknown.is_empty() {
            for u in &unknown {
                report_unknown(&mut v, u);
            }
            if let Ok(raw) = RawCase::deserialize(value) {
                validate(&mut v, raw);
            }
            return Err(in_file_order(v.errors));
        }
    }
    let raw: RawCase = match serde_yaml::from_str(text) {
        Ok(raw) => raw,
        Err(e) => {
            let (location, message) = serde_location(&e);
            let fix = serde_fix(&message);
            v.error_at(location, message, fix);
            return Err(v.errors);
        }
    };
    let case = validate(&mut v, raw);
    match case {
        Some(case) if v.errors.is_empty() => Ok(case),
        _ => Err(in_file_order(v.errors)),
    }
}

/// Every error of a file, in the order a reader meets them: by line, then
/// column (errors are found check by check, not line by line).
fn in_file_order(mut errors: Vec<CaseError>) -> Vec<CaseError> {
    errors.sort_by_key(|e| (e.location.line, e.location.column));
    errors
}

/// Validates `raw`, adding to the errors found before (unknown fields,
/// already stripped from it). Those, and an empty description, leave the
/// rest of the case whole: they are set aside while it is built, so the
/// checks of the whole case (replies, isolation, ports), which stand down
/// while anything in the case itself is wrong, still run.
fn validate(v: &mut Validator, raw: RawCase) -> Option<Case> {
    if raw.description.trim().is_empty() {
        v.error(
            "description",
            "the description is empty",
            "say in one line what the case checks",
        );
    }
    let aside = std::mem::take(&mut v.errors);
    let case = build_case(v, raw);
    v.errors.splice(0..0, aside);
    case
}

fn build_case(v: &mut Validator, raw: RawCase) -> Option<Case> {
    let windows = check_windows(v, &raw);
    // Window errors that leave the tree sound (a bad name, a stray
    // sandbox) are set aside, as unknown fields are, and the steps are
    // checked all the same.
    let window_errors: Vec<CaseError> = v.errors.drain(..).collect();

    // Flatten `same_task` groups; every step has exactly one kind.
    let flat = flatten_steps(v, &raw.steps);
    if raw.steps.is_empty() {
        v.error(
            "steps",
            "the case has no steps",
            "add at least one `- post: {...}` step",
        );
    }
    let lookup = |n: &str| windows.index(n);
    let flat = known_windows_only(v, flat, &lookup, &windows.known());
    let (flat, created_by) = created_once(v, flat, &lookup, windows.checked.len());
    if !windows.tree_sound {
        v.errors.splice(0..0, window_errors);
        return None;
    }
    let case = Case {
        description: raw.description.clone(),
        tags: raw.tags.clone(),
        references: raw.references.clone(),
        windows: build_tree(windows.checked, created_by),
        steps: Vec::new(),
        task_of_step: Vec::new(),
    };
    let case = check_case(v, case, &flat);
    v.errors.splice(0..0, window_errors);
    Some(case)
}

/// Checks the window tree, then every step against it, then what needs
/// the whole case.
fn check_case(v: &mut Validator, mut case: Case, flat: &[flat::FlatStep]) -> Case {
    check_tree(v, &case);
    check_steps(v, &mut case, flat);
    check_replies(v, &case, flat);
    check_realms_same_origin_domain(v, &case, flat);
    check_isolation(v, &case, flat);
    check_ports(v, &case, flat);
    case
}
