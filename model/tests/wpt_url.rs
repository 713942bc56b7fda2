//! The model against web-platform-tests' URL data (vendored unmodified in
//! `tests/data/`, see its README for source and revision).
//!
//! - Every `urltestdata.json` entry with `base: null` and an `origin` must
//!   give exactly that ASCII serialization (rust-url's own runner never
//!   compares `origin`; this one does).
//! - Every entry with `base: null` and `failure: true` must be a
//!   `SyntaxError` when used as a `targetOrigin`.
//! - Every `toascii.json` entry must give its `output` host, or failure.
//!
//! Entries the model cannot pass are listed in
//! `tests/data/expected-failures.txt` with a reason each. The list is
//! checked both ways: a listed entry that passes, or that no longer
//! exists, fails the test.

use pmconf_model::origin::Origin;
use pmconf_model::target_origin::{resolve_target_origin, SyntaxError};
use pmconf_model::url_origin::serialize_origin_of;
use pmconf_model::OpaqueOriginAllocator;
use serde_json::Value;
use std::collections::BTreeMap;

fn load(name: &str) -> Vec<Value> {
    let path = format!("{}/tests/data/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let all: Vec<Value> = serde_json::from_str(&text).unwrap();
    // Strings are comments.
    all.into_iter().filter(Value::is_object).collect()
}

/// `file<TAB>input as JSON string<TAB>reason`, one per line; `#` comments.
fn expected_failures() -> BTreeMap<(String, String), String> {
    let path = format!(
        "{}/tests/data/expected-failures.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.splitn(3, '\t').collect();
        assert_eq!(
            parts.len(),
            3,
            "line {}: want file<TAB>input<TAB>reason",
            n + 1
        );
        let input: String = serde_json::from_str(parts[1]).unwrap();
        assert!(
            !parts[2].trim().is_empty(),
            "line {}: every expected failure needs a reason",
            n + 1
        );
        out.insert((parts[0].to_owned(), input), parts[2].to_owned());
    }
    out
}

/// Runs every check; returns (file, input) -> failure description.
fn failures() -> (BTreeMap<(String, String), String>, usize) {
    let mut failed = BTreeMap::new();
    let mut checked = 0;
    let caller = Origin::tuple("https", "caller.test", None);
    for entry in load("urltestdata.json") {
        if !entry["base"].is_null() {
            continue;
        }
        let input = entry["input"].as_str().unwrap().to_owned();
        if let Some(expected) = entry["origin"].as_str() {
            checked += 1;
            let got = serialize_origin_of(&input).unwrap_or_else(|| "failure".into());
            if got != expected {
                failed.insert(
                    ("urltestdata.json".into(), input.clone()),
                    format!("origin: expected {expected}, got {got}"),
                );
            }
        }
        // "*" and "/" are never parsed by postMessage, so a URL failure
        // for them says nothing about targetOrigin.
        if entry["failure"] == Value::Bool(true) && input != "*" && input != "/" {
            checked += 1;
            let mut alloc = OpaqueOriginAllocator::new();
            if resolve_target_origin(&input, &caller, &mut alloc) != Err(SyntaxError) {
                failed.insert(
                    ("urltestdata.json".into(), input.clone()),
                    "targetOrigin: expected SyntaxError".into(),
                );
            }
        }
    }
    for entry in load("toascii.json") {
        let input = entry["input"].as_str().unwrap().to_owned();
        checked += 1;
        let url = pmconf_model::domain::parse_url(&format!("https://{input}/x"));
        let got = match &url {
            Ok(u) => u
                .relaxed_host
                .clone()
                .unwrap_or_else(|| u.url.host_str().unwrap_or("").to_owned()),
            Err(_) => "failure".to_owned(),
        };
        let expected = entry["output"].as_str().unwrap_or("failure");
        if got != expected {
            failed.insert(
                ("toascii.json".into(), input),
                format!("host: expected {expected}, got {got}"),
            );
        }
    }
    (failed, checked)
}

#[test]
fn wpt_url_data_matches_the_model() {
    let (failed, checked) = failures();
    assert!(
        checked > 400,
        "only {checked} entries checked: is the data vendored?"
    );
    let expected = expected_failures();
    let mut problems = Vec::new();
    for (key, why) in &failed {
        if !expected.contains_key(key) {
            problems.push(format!("unexpected failure {}: {:?}: {why}", key.0, key.1));
        }
    }
    for key in expected.keys() {
        if !failed.contains_key(key) {
            problems.push(format!(
                "listed in expected-failures.txt but passes (or no longer exists): {}: {:?}",
                key.0, key.1
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "{} entries checked\n{}",
        checked,
        problems.join("\n")
    );
}
