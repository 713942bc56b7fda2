//! Helpers shared by test binaries: the CI tools, synthetic nights.

#![allow(dead_code)] // each test binary uses a part

pub mod links;
pub mod nights;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The workspace root.
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

/// Runs the `pmconf` binary in `dir` with `keys` on stdin and `CI` unset,
/// as a person at a terminal would.
pub fn pmconf_with_keys(dir: &Path, args: &[&str], keys: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_pmconf"))
        .args(args)
        .current_dir(dir)
        .env_remove("CI")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
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

/// The engines to test: all three; a missing one fails under CI and is
/// skipped otherwise.
pub fn engines() -> Vec<pmconf::engine::EngineId> {
    let mut out = Vec::new();
    for e in pmconf::engine::EngineId::ALL {
        match pmconf::engine::discover(e) {
            Ok(_) => out.push(e),
            Err(missing) if ci() => panic!("CI is set and an engine is missing: {missing}"),
            Err(missing) => eprintln!("skipping {}: {missing}", e.name()),
        }
    }
    out
}

/// Running processes whose environment carries the ownership tag of the
/// pmconf process `pid` (every process it starts, and their children).
pub fn tagged_by(pid: u32) -> Vec<(u32, String)> {
    let prefix = format!("{}={pid}.", pmconf::engine::OWNER_VARIABLE);
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(environ) = std::fs::read(format!("/proc/{p}/environ")) else {
            continue;
        };
        let tagged = environ
            .split(|b| *b == 0)
            .any(|var| var.starts_with(prefix.as_bytes()));
        let running = pmconf::engine::ProcessIdentity::of(p).is_some_and(|i| i.is_running());
        if tagged && running {
            out.push((p, command_line(p)));
        }
    }
    out
}

/// A process's command line, spaces between arguments.
pub fn command_line(pid: u32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .unwrap_or_default()
}

/// mdBook from scripts/install-ci-tools (`target/ci-tools/cargo/bin`), or
/// `None` (skipped, with the reason printed) when it is missing and CI is
/// unset; under CI a missing mdBook fails the test.
pub fn mdbook() -> Option<PathBuf> {
    let bin = workspace().join("target/ci-tools/cargo/bin/mdbook");
    if bin.is_file() {
        return Some(bin);
    }
    let reason = "mdbook is missing: run `bash scripts/install-ci-tools` (it installs into target/ci-tools/cargo)";
    assert!(!ci(), "CI is set and {reason}");
    eprintln!("skipping: {reason}");
    None
}

/// Builds the book under `docs/` into `out` with mdBook; panics with its
/// output when the build fails.
pub fn build_book(mdbook: &Path, out: &Path) {
    let built = Command::new(mdbook)
        .arg("build")
        .arg(workspace().join("docs"))
        .arg("--dest-dir")
        .arg(out)
        .output()
        .expect("mdbook runs");
    assert!(
        built.status.success(),
        "mdbook build failed:\n{}",
        text(&built)
    );
}

/// Runs `bash SCRIPT` (a path below the workspace) from the workspace root.
pub fn run_script(script: &str) -> Output {
    Command::new("bash")
        .arg(script)
        .current_dir(workspace())
        .output()
        .expect("bash runs")
}

/// Copies the accepted snapshots of `cases` (paths below `cases/`) of
/// each of `whose` (engines, `model`) from the repository into
/// `snapshots`, so a test runs them without touching the repository's.
pub fn copy_snapshots(cases: &[&str], whose: &[&str], snapshots: &Path) {
    for who in whose {
        std::fs::create_dir_all(snapshots.join(who)).unwrap();
        for case in cases {
            let name = case
                .trim_start_matches("cases/")
                .trim_end_matches(".yaml")
                .replace('/', "__");
            std::fs::copy(
                workspace().join(format!("snapshots/{who}/{name}.snap")),
                snapshots.join(format!("{who}/{name}.snap")),
            )
            .unwrap_or_else(|e| panic!("snapshots/{who}/{name}.snap: {e}"));
        }
    }
}

/// Runs the `pmconf` binary in `dir` on a pseudo-terminal (util-linux
/// `script`), `typed` as what a person types, `CI` unset; returns the exit
/// status and what the terminal showed (without carriage returns).
pub fn pmconf_on_a_terminal(dir: &Path, args: &[&str], typed: &str) -> (Option<i32>, String) {
    use std::io::Write;
    use std::process::Stdio;
    let mut command = String::from(env!("CARGO_BIN_EXE_pmconf"));
    for a in args {
        command.push_str(&format!(" '{a}'"));
    }
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir)
        .env_remove("CI")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script(1) runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(typed.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).replace('\r', ""),
    )
}

/// A session of `engine` for pages that need no network (`file://`): its
/// proxy is a listener that accepts and never answers, returned beside it
/// to keep for as long as the session.
pub async fn session_for_pages(
    engine: pmconf::engine::EngineId,
    installed: &pmconf::engine::Installed,
    registry: &pmconf::engine::ProcessRegistry,
) -> (pmconf::engine::EngineSession, tokio::net::TcpListener) {
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let session = pmconf::engine::start_session(
        engine,
        installed,
        &proxy.local_addr().unwrap().to_string(),
        registry,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    (session, proxy)
}
