//! Helpers shared by the test binaries that run the `pmconf` binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root (the workspace).
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Whether `CI` is set: then a missing engine or tool fails instead of
/// skipping.
pub fn ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The `pmconf` binary, run from the repository root.
pub fn pmconf() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pmconf"));
    c.current_dir(workspace());
    c
}

/// A command's exit status, stdout and stderr, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
