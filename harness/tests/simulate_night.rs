//! `scripts/simulate-night`: its `--help`, its choice of binary (`PMCONF`,
//! else the release or debug build), and a whole simulated pair of nights
//! through the real `pmconf report` commands. The engines are replaced by
//! a stand-in `pmconf` (given as `PMCONF`) whose `run` writes results files
//! made by the run's own JSON reporter and passes every other command to
//! the real binary: the script's own steps are what is tested here (the
//! engines' part is the e2e tests'; the workflow's, nightly_workflow.rs).

mod common;

use common::nights::{night, write};
use common::workspace;
use serde_json::json;
use std::path::Path;
use std::process::{Command, Output};

fn script(args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new("bash");
    c.arg(workspace().join("scripts/simulate-night"))
        .args(args)
        .env_remove("PMCONF");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn text(out: &Output) -> String {
    common::text(out)
}

#[test]
fn help_names_the_binary_it_uses_and_runs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for flag in ["--help", "-h"] {
        let out = Command::new("bash")
            .arg(workspace().join("scripts/simulate-night"))
            .arg(flag)
            .current_dir(dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            help.starts_with("usage: scripts/simulate-night [DIR]"),
            "{help}"
        );
        for needle in ["PMCONF", "target/release/pmconf", "--help"] {
            assert!(help.contains(needle), "{needle}: {help}");
        }
    }
    let out = Command::new("bash")
        .arg(workspace().join("scripts/simulate-night"))
        .arg("--bogus")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown option --bogus"));
    // Nothing was made: no directory named after a flag.
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_pmconf_that_is_not_there_is_named_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = script(
        &[dir.path().join("sim").to_str().unwrap()],
        &[("PMCONF", Path::new("/nonexistent/pmconf"))],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("PMCONF=/nonexistent/pmconf is not an executable file; fix:"),
        "{}",
        text(&out)
    );
    assert!(!dir.path().join("sim").exists());
}

/// A stand-in `pmconf`: `run` copies the next prepared night into its
/// `--results` path and exits 1 (unexpected results, as a real night has);
/// anything else goes to the real binary. Every call is logged.
const STAND_IN: &str = r#"#!/usr/bin/env bash
echo "$*" >> "$STAND_IN_DIR/calls.log"
if [ "$1" = run ]; then
  n=$(grep -c '^run ' "$STAND_IN_DIR/calls.log")
  out=
  while [ "$#" -gt 0 ]; do
    if [ "$1" = --results ]; then out=$2; fi
    shift
  done
  mkdir -p "$(dirname "$out")"
  cp "$STAND_IN_DIR/night$n.json" "$out"
  exit 1
fi
exec "$REAL_PMCONF" "$@"
"#;

#[test]
fn two_nights_are_recorded_and_the_edited_snapshot_is_named_as_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let stand_in = dir.path().join("stand-in");
    std::fs::create_dir_all(&stand_in).unwrap();
    // The synthetic night's a/stable plays the case the script plants its
    // change in. Night 2: what night 1 saw, except that chromium's accepted
    // snapshot of it no longer matches (the planted edit).
    let case = "cases/exceptions/data-clone-error-function.yaml";
    let first: serde_json::Value =
        serde_json::from_str(&night(0).to_string().replace("cases/a/stable.yaml", case)).unwrap();
    write(&stand_in.join("night1.json"), &first);
    let mut second = first.clone();
    let planted = second["results"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|r| r["engine"] == "chromium" && r["case"] == case)
        .unwrap();
    planted["snapshot"] = json!({"status": "changed", "pending": "p.snap.new",
        "diff": "-  origin: http://planted.test:8000\n+  origin: http://a.test:8000\n"});
    write(&stand_in.join("night2.json"), &second);
    let pmconf = stand_in.join("pmconf");
    std::fs::write(&pmconf, STAND_IN).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pmconf, std::fs::Permissions::from_mode(0o755)).unwrap();

    let sim = dir.path().join("sim");
    let out = Command::new("bash")
        .arg(workspace().join("scripts/simulate-night"))
        .arg(&sim)
        .env("PMCONF", &pmconf)
        .env("STAND_IN_DIR", &stand_in)
        .env("REAL_PMCONF", env!("CARGO_BIN_EXE_pmconf"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("simulate-night: using {}", pmconf.display())),
        "{stdout}"
    );
    // Each step, in order, through the given binary.
    let calls = std::fs::read_to_string(stand_in.join("calls.log")).unwrap();
    let verbs: Vec<String> = calls
        .lines()
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        verbs,
        [
            "run cases/exceptions",
            "report record",
            "run cases/exceptions",
            "report diff",
            "report record",
            "report summary",
            "report history",
            "report site"
        ],
        "{calls}"
    );
    // The diff puts the change down to the edited snapshot, and it is no
    // regression.
    assert!(
        stdout.contains(&format!("{case}: conforms -> conforms (unexpected); cause: accepted snapshot changed (the engine saw what it saw before)")),
        "{stdout}"
    );
    assert!(
        stdout.contains("chromium   0 improved, 0 regressed, 1 changed"),
        "{stdout}"
    );
    // Two nights in the history; the copy's snapshot was edited, the
    // repository's was not.
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sim.join("data/nights.json")).unwrap())
            .unwrap();
    assert_eq!(common::nights::night_ids(&index), ["sim-1", "sim-2"]);
    let edited = "snapshots/chromium/exceptions__data-clone-error-function.snap";
    assert!(std::fs::read_to_string(sim.join(edited))
        .unwrap()
        .contains("planted.test"));
    assert!(!std::fs::read_to_string(workspace().join(edited))
        .unwrap()
        .contains("planted.test"));
    let summary = std::fs::read_to_string(sim.join("summary.md")).unwrap();
    assert!(summary.contains("pmconf revision `r0`"), "{summary}");
    assert!(sim.join("site/index.html").is_file());
}
