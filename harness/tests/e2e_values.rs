//! End to end, in real browsers: one message holding every value kind that
//! serializes (cases/values/every-kind-at-once.yaml) arrives in every
//! installed engine exactly as the model says, identity included.

mod common;

use common::{engines, workspace};
use serde_json::Value;
use std::process::Command;

const CASE: &str = "cases/values/every-kind-at-once.yaml";

fn pmconf() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pmconf"));
    c.current_dir(workspace());
    c
}

/// The message the model says the child receives.
fn model_message() -> Value {
    let out = pmconf()
        .args(["model", CASE, "--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    let allowed = answer[0]["allowed"].as_array().unwrap();
    assert_eq!(allowed.len(), 1, "one outcome: {answer:#}");
    allowed[0]["received"]["child"][0]["message"].clone()
}

#[test]
fn every_value_kind_at_once_arrives_as_the_model_says() {
    let expected = model_message();
    // The case really holds every kind (so that a weakened case fails).
    let text = expected.to_string();
    for tag in [
        "$undefined",
        "$number",
        "$utf16",
        "$bigint",
        "$boxed",
        "$date",
        "$regexp",
        "$map",
        "$set",
        "$error",
        "$buffer",
        "$typed",
        "$dataview",
        "$hole",
        "$array",
        "$id",
        "$ref",
    ] {
        assert!(
            text.contains(&format!("\"{tag}\"")),
            "{tag} missing from {text}"
        );
    }
    let engines = engines();
    if engines.is_empty() {
        eprintln!("no engine installed: nothing to run (run scripts/install-engines)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    let list: Vec<&str> = engines.iter().map(|e| e.name()).collect();
    let out = pmconf()
        .args(["run", CASE, "--engine", &list.join(",")])
        .arg("--results")
        .arg(&results)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    for e in &engines {
        let r = results["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["engine"] == e.name())
            .unwrap_or_else(|| panic!("{} ran", e.name()));
        assert_eq!(r["verdict"], "conforms", "{}: {r:#}", e.name());
        assert_eq!(
            r["observed"]["received"]["child"][0]["message"],
            expected,
            "{}",
            e.name()
        );
    }
}
