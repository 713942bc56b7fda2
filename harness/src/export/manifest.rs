//! What an export wrote and what it refused, and why: `pmconf export wpt
//! --manifest` prints it, and every export writes it as
//! [`FILE_NAME`] at the root of its output, where the nightly site reads
//! it to link a divergence to its exported test ([`exported_test_for`]).

use super::assertions::Assertion;
use super::refusal::Refusal;
use super::ExportedCase;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The manifest's file name, at the root of an export.
pub const FILE_NAME: &str = "pmconf-wpt-manifest.json";

/// An exported case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Exported {
    /// The case's path.
    pub case: String,
    /// The test page, below the WPT root.
    pub test: String,
    /// Its helper documents.
    pub helpers: Vec<String>,
    /// `exact` or `one-of`.
    pub assertion: String,
    /// Whether it is `.tentative` (depends on an open spec issue).
    pub tentative: bool,
    /// Whether it is a race case (run several times when verified).
    #[serde(default)]
    pub race: bool,
}

/// A refused case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refused {
    /// The case's path.
    pub case: String,
    /// The reason's group.
    pub group: String,
    /// The reason.
    pub reason: String,
}

/// The manifest.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// Every exported case, in the order given.
    pub exported: Vec<Exported>,
    /// Every refused case.
    pub refused: Vec<Refused>,
    /// Refusals counted per group.
    pub refused_by_group: BTreeMap<String, usize>,
}

impl Manifest {
    /// Adds one case's result.
    pub fn add(&mut self, case: &str, result: &Result<ExportedCase, Refusal>) {
        match result {
            Ok(e) => self.exported.push(Exported {
                case: case.to_owned(),
                test: e.test.clone(),
                helpers: e.files[1..].iter().map(|f| f.path.clone()).collect(),
                assertion: match e.assertion {
                    Assertion::Exact => "exact",
                    Assertion::OneOf => "one-of",
                }
                .to_owned(),
                tentative: e.tentative,
                race: e.race,
            }),
            Err(r) => {
                *self
                    .refused_by_group
                    .entry(r.group.key().to_owned())
                    .or_default() += 1;
                self.refused.push(Refused {
                    case: case.to_owned(),
                    group: r.group.key().to_owned(),
                    reason: r.reason.clone(),
                });
            }
        }
    }

    /// The manifest as people read it: counts, refusals by group (each
    /// with its cases), then the exported tests.
    pub fn to_text(&self) -> String {
        let mut out = format!(
            "{} exported, {} refused\n",
            self.exported.len(),
            self.refused.len()
        );
        for (group, n) in &self.refused_by_group {
            out.push_str(&format!("\nrefused, {group} ({n}):\n"));
            for r in self.refused.iter().filter(|r| &r.group == group) {
                out.push_str(&format!("  {}: {}\n", r.case, r.reason));
            }
        }
        if !self.exported.is_empty() {
            out.push_str("\nexported:\n");
            for e in &self.exported {
                out.push_str(&format!(
                    "  {} -> {} ({}{})\n",
                    e.case,
                    e.test,
                    e.assertion,
                    if e.tentative { ", tentative" } else { "" }
                ));
            }
        }
        out
    }
}

/// Reads a manifest an export wrote (`DIR/pmconf-wpt-manifest.json`).
pub fn read(path: &Path) -> Result<Manifest, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: not a pmconf WPT export manifest: {e}\n  fix: export again with `pmconf export wpt CASES --out DIR`",
            path.display()
        )
    })
}

/// For the nightly site: the exported test of `case` (its path as the
/// results name it), relative to the export's WPT root, if it was
/// exported.
pub fn exported_test_for<'a>(manifest: &'a Manifest, case: &str) -> Option<&'a str> {
    let case = case.trim_start_matches("./");
    manifest
        .exported
        .iter()
        .find(|e| e.case.trim_start_matches("./") == case)
        .map(|e| e.test.as_str())
}
