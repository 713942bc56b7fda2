//! Helpers shared by test binaries: the CI tools, synthetic nights.

#![allow(dead_code)] // each test binary uses a part

pub mod nights;

use std::path::{Path, PathBuf};

/// The workspace root.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// A tool from scripts/install-ci-tools (a venv under target/ci-tools), or
/// `None` (the check is skipped, with the reason printed) when it is
/// missing and CI is unset; under CI a missing tool fails the test.
pub fn ci_tool(name: &str) -> Option<PathBuf> {
    let bin = workspace().join("target/ci-tools/venv/bin").join(name);
    if bin.is_file() {
        return Some(bin);
    }
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false");
    let reason = format!(
        "{name} is missing: run `bash scripts/install-ci-tools` (it installs into target/ci-tools/venv)"
    );
    assert!(!ci, "CI is set and {reason}");
    eprintln!("skipping: {reason}");
    None
}
