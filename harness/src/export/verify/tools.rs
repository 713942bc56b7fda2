//! The WPT tools verification needs, installed by `scripts/install-wpt-tools`
//! under `target/wpt-tools` (never committed): wptserve from PyPI in a
//! venv, and testharness.js from the npm package `wpt-runner`.

use std::path::PathBuf;

/// The install script, named in errors.
pub const INSTALL_SCRIPT: &str = "bash scripts/install-wpt-tools";

/// Where the tools are (`PMCONF_WPT_TOOLS`, else `target/wpt-tools`).
pub fn tools_dir() -> PathBuf {
    std::env::var_os("PMCONF_WPT_TOOLS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target/wpt-tools"))
}

/// The tools found.
#[derive(Debug, Clone)]
pub struct WptTools {
    /// The venv's Python, which has wptserve.
    pub python: PathBuf,
    /// testharness.js from wpt-runner.
    pub testharness: PathBuf,
}

impl WptTools {
    /// Finds the tools, or says what is missing and how to install it.
    pub fn find() -> Result<WptTools, String> {
        let dir = tools_dir();
        let python = dir.join("venv/bin/python");
        let testharness = dir.join("node_modules/wpt-runner/testharness/testharness.js");
        let mut missing = Vec::new();
        if !python.is_file() || !dir.join("venv/bin/wptserve-installed").is_file() {
            missing.push(format!(
                "wptserve (a venv at {})",
                dir.join("venv").display()
            ));
        }
        if !testharness.is_file() {
            missing.push(format!("testharness.js ({})", testharness.display()));
        }
        if missing.is_empty() {
            let absolute = |p: PathBuf| std::path::absolute(&p).unwrap_or(p);
            Ok(WptTools {
                python: absolute(python),
                testharness: absolute(testharness),
            })
        } else {
            Err(format!(
                "the WPT tools are missing: {}\n  fix: run `{INSTALL_SCRIPT}` (it installs them under target/wpt-tools)",
                missing.join(", ")
            ))
        }
    }
}
