//! The nightly workflow (.github/workflows/nightly.yml), validated offline:
//! against GitHub's workflow JSON schema (check-jsonschema's built-in
//! `vendor.github-workflows`) and by actionlint (which runs shellcheck on
//! every `run:` script), both installed by scripts/install-ci-tools; and
//! read as YAML for the promises the issue makes (schedule, container,
//! matrix, permissions, retention).
//!
//! A missing tool skips its check with a printed reason, unless CI is set:
//! then it fails.

mod common;

use common::{ci_tool, workspace};
use serde_yaml::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

fn workflow_path() -> PathBuf {
    workspace().join(".github/workflows/nightly.yml")
}

/// Runs `tool args... file` with the venv first on PATH (so actionlint
/// finds shellcheck); returns success and the output.
fn check(tool: &Path, args: &[&str], file: &Path) -> (bool, String) {
    let path = format!(
        "{}:{}",
        tool.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = Command::new(tool)
        .args(args)
        .arg(file)
        .env("PATH", path)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// A copy of the workflow with `from` replaced by `to`.
fn broken(dir: &Path, from: &str, to: &str) -> PathBuf {
    let text = std::fs::read_to_string(workflow_path()).unwrap();
    assert!(text.contains(from), "{from}");
    let path = dir.join("nightly.yml");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    path
}

#[test]
fn workflow_matches_github_schema() {
    let Some(tool) = ci_tool("check-jsonschema") else {
        return;
    };
    let args = ["--builtin-schema", "vendor.github-workflows"];
    let (ok, out) = check(&tool, &args, &workflow_path());
    assert!(ok, "{out}");
    // The check can fail: a job without runs-on.
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = check(
        &tool,
        &args,
        &broken(
            dir.path(),
            "runs-on: ubuntu-latest",
            "runs-off: ubuntu-latest",
        ),
    );
    assert!(!ok, "{out}");
}

#[test]
fn workflow_passes_actionlint_and_shellcheck() {
    let Some(tool) = ci_tool("actionlint") else {
        return;
    };
    let (ok, out) = check(&tool, &[], &workflow_path());
    assert!(ok, "{out}");
    // The check can fail: an expression naming an unknown job, and a
    // script shellcheck refuses (an unquoted variable).
    let dir = tempfile::tempdir().unwrap();
    let (ok, out) = check(
        &tool,
        &[],
        &broken(dir.path(), "needs.build.result", "needs.bild.result"),
    );
    assert!(!ok, "{out}");
    let (ok, out) = check(
        &tool,
        &[],
        &broken(
            dir.path(),
            "chmod +x bin/pmconf",
            "chmod +x bin/pmconf $UNQUOTED",
        ),
    );
    assert!(!ok && out.contains("shellcheck"), "{out}");
}

fn yaml() -> Value {
    serde_yaml::from_str(&std::fs::read_to_string(workflow_path()).unwrap()).unwrap()
}

#[test]
fn workflow_keeps_the_promises_of_the_issue() {
    let w = yaml();
    let on = &w["on"];
    let cron = on["schedule"][0]["cron"].as_str().unwrap();
    let minute: u32 = cron.split_whitespace().next().unwrap().parse().unwrap();
    assert!(minute % 2 == 1, "an odd minute: {cron}");
    assert!(on.get("workflow_dispatch").is_some());
    assert_eq!(
        w["permissions"],
        Value::Mapping(Default::default()),
        "nothing by default"
    );
    let jobs = w["jobs"].as_mapping().unwrap();
    let names: Vec<&str> = jobs.keys().map(|k| k.as_str().unwrap()).collect();
    assert_eq!(names, ["build", "run", "report", "deploy"]);
    for (name, job) in jobs {
        let name = name.as_str().unwrap();
        assert!(
            job.get("permissions").is_some(),
            "{name} states its permissions"
        );
        let container = job["container"]
            .as_str()
            .or_else(|| job["container"]["image"].as_str());
        if name != "deploy" {
            assert!(
                container.is_some_and(|c| c.contains("bookworm")),
                "{name} runs in Debian bookworm"
            );
        }
        for step in job["steps"].as_sequence().unwrap() {
            let uses = step["uses"].as_str().unwrap_or("");
            if uses.starts_with("actions/upload-") {
                assert_eq!(
                    step["with"]["retention-days"].as_u64(),
                    Some(90),
                    "{name}: {uses}"
                );
            }
        }
    }
    let run = &w["jobs"]["run"];
    assert_eq!(run["strategy"]["fail-fast"], Value::Bool(false));
    let engines: Vec<&str> = run["strategy"]["matrix"]["engine"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert_eq!(engines, ["chromium", "firefox", "webkitgtk"]);
    assert!(run["container"]["options"]
        .as_str()
        .unwrap()
        .contains("--shm-size"));
    assert_eq!(w["jobs"]["build"]["permissions"]["contents"], "read");
    assert_eq!(w["jobs"]["report"]["permissions"]["contents"], "write");
    assert_eq!(w["jobs"]["deploy"]["permissions"]["pages"], "write");
    assert_eq!(w["jobs"]["deploy"]["permissions"]["id-token"], "write");
    // The report job uses the commands this binary has.
    let script: String = w["jobs"]["report"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    for command in [
        "report merge",
        "report diff",
        "report summary",
        "report record",
        "report site",
    ] {
        assert!(script.contains(command), "{command}");
    }
}
