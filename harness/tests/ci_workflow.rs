//! The nightly workflow (.github/workflows/nightly.yml), validated offline:
//! against GitHub's workflow JSON schema (check-jsonschema's built-in
//! `vendor.github-workflows`) and by actionlint (which runs shellcheck on
//! every `run:` script), both installed by scripts/install-ci-tools; and
//! read as YAML for the promises the issues make (schedule, container,
//! matrix, permissions, retention, timeouts, uploads that a re-run can
//! repeat, actions pinned by commit with their tag, Dependabot). Its shell
//! is run in nightly_workflow.rs.
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
    assert_eq!(names, ["build", "run", "report", "deploy", "notify"]);
    for (name, job) in jobs {
        let name = name.as_str().unwrap();
        assert!(
            job.get("permissions").is_some(),
            "{name} states its permissions"
        );
        // A hang holds a runner for minutes, not GitHub's default 6 hours.
        let timeout = job["timeout-minutes"].as_u64();
        assert!(
            timeout.is_some_and(|t| t <= 90),
            "{name}: timeout-minutes {timeout:?}"
        );
        let container = job["container"]
            .as_str()
            .or_else(|| job["container"]["image"].as_str());
        // deploy and notify run GitHub's own tools (Pages, gh) on the runner.
        if !["deploy", "notify"].contains(&name) {
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
            // A re-run uploads again: replaced, never a 409.
            if uses.starts_with("actions/upload-artifact@") {
                assert_eq!(
                    step["with"]["overwrite"],
                    Value::Bool(true),
                    "{name}: {uses}"
                );
            }
            if uses.starts_with("actions/upload-pages-artifact@") {
                assert!(
                    step["with"]["name"]
                        .as_str()
                        .is_some_and(|n| n.contains("github.run_attempt")),
                    "{name}: one pages artifact per attempt"
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
    // The engines a night expects are the matrix's.
    assert_eq!(
        w["env"]["ENGINES"].as_str(),
        Some(engines.join(",").as_str())
    );
    assert_eq!(w["jobs"]["build"]["permissions"]["contents"], "read");
    assert_eq!(w["jobs"]["report"]["permissions"]["contents"], "write");
    assert!(w["jobs"]["report"]["permissions"].get("issues").is_none());
    assert_eq!(w["jobs"]["deploy"]["permissions"]["pages"], "write");
    assert_eq!(w["jobs"]["deploy"]["permissions"]["id-token"], "write");
    assert_eq!(w["jobs"]["notify"]["permissions"]["issues"], "write");
    assert_eq!(w["jobs"]["notify"]["permissions"]["contents"], "read");
    assert_eq!(
        w["jobs"]["deploy"]["steps"][1]["with"]["artifact_name"],
        w["jobs"]["report"]["steps"]
            .as_sequence()
            .unwrap()
            .iter()
            .find(|s| s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-pages-artifact@")))
            .unwrap()["with"]["name"],
        "deploy deploys the attempt's own pages artifact"
    );
    // The report job uses the commands this binary has.
    let script: String = w["jobs"]["report"]["steps"]
        .as_sequence()
        .unwrap()
        .iter()
        .filter_map(|s| s["run"].as_str())
        .collect();
    for command in [
        "report merge",
        "report record",
        "report summary",
        "report site",
        "--fail-on regression",
        "--night \"run-$RUN_ID\" --attempt \"$RUN_ATTEMPT\"",
    ] {
        assert!(script.contains(command), "{command}");
    }
    // The data branch is fetched one commit deep, the repository too.
    let text = std::fs::read_to_string(workflow_path()).unwrap();
    assert!(!text.contains("fetch-depth: 0"));
    assert!(text.contains("git fetch --depth=1 origin data:data"));
}

/// Every `uses:` of every job, as written.
fn uses_lines() -> Vec<String> {
    std::fs::read_to_string(workflow_path())
        .unwrap()
        .lines()
        .filter(|l| l.trim_start().trim_start_matches("- ").starts_with("uses:"))
        .map(|l| l.trim().to_owned())
        .collect()
}

#[test]
fn actions_are_pinned_by_commit_with_their_tag_and_dependabot_updates_them() {
    let lines = uses_lines();
    assert!(lines.len() >= 10, "{lines:?}");
    for line in &lines {
        // uses: owner/name@<40 hex> # vX.Y.Z
        let (action, comment) = line
            .split_once(" # ")
            .unwrap_or_else(|| panic!("no tag comment: {line}"));
        let (_, pin) = action.rsplit_once('@').unwrap();
        assert!(
            pin.len() == 40
                && pin
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
            "not a full commit SHA: {line}"
        );
        let tag = comment.trim();
        assert!(
            tag.starts_with('v') && tag[1..].split('.').count() == 3,
            "the tag, vX.Y.Z: {line}"
        );
    }
    // One tag, one commit: the same action at one pin everywhere.
    let mut pins: std::collections::BTreeMap<&str, &str> = Default::default();
    for line in &lines {
        let action = line.split_once(" # ").unwrap().0.trim_start_matches("- ");
        let action = action.trim_start_matches("uses:").trim();
        let (name, pin) = action.rsplit_once('@').unwrap();
        assert_eq!(*pins.entry(name).or_insert(pin), pin, "{name}");
    }
    let path = workspace().join(".github/dependabot.yml");
    let d: Value = serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let ecosystems: Vec<&str> = d["updates"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|u| u["package-ecosystem"].as_str().unwrap())
        .collect();
    assert_eq!(ecosystems, ["github-actions", "cargo"]);
    let Some(tool) = ci_tool("check-jsonschema") else {
        return;
    };
    let (ok, out) = check(&tool, &["--builtin-schema", "vendor.dependabot"], &path);
    assert!(ok, "{out}");
}
