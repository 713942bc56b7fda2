//! Helpers shared by the test binaries that include this module.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

/// Runs the `pmconf` binary in `dir` with `keys` on stdin and `CI` unset,
/// as a person at a terminal would.
pub fn pmconf_with_keys(dir: &Path, args: &[&str], keys: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pmconf"))
        .args(args)
        .current_dir(dir)
        .env_remove("CI")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("pmconf starts");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(keys.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}
