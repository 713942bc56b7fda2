//! Every case-validation error through the real binary: a clear message
//! naming file, line and column, a fix, exit status 2, and no output file
//! left behind.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pmconf(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pmconf"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("pmconf runs")
}

fn write_case(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// Checks a bad case with `check` and with `model --output`: the error
/// mentions `file:line:column`, the expected words and a fix; the exit
/// status is 2; no output file appears.
fn assert_rejected(text: &str, line: usize, column: usize, words: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    write_case(dir.path(), "bad.yaml", text);
    let out = pmconf(&["check", "bad.yaml"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let at = format!("bad.yaml:{line}:{column}: ");
    assert!(stderr.contains(&at), "want {at} in:\n{stderr}");
    for w in words {
        assert!(stderr.contains(w), "want {w:?} in:\n{stderr}");
    }
    assert!(stderr.contains("fix: "), "{stderr}");

    let out = pmconf(
        &["model", "bad.yaml", "--output", "answer.yaml"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no partial output on stdout");
    assert!(
        !dir.path().join("answer.yaml").exists(),
        "no output file left behind"
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(
        leftovers.len(),
        1,
        "only the case file remains: {leftovers:?}"
    );
}

#[test]
fn malformed_yaml() {
    assert_rejected(
        "description: x\nwindows: {top: {url: \"http://a.test/\"}\nsteps: [\n",
        3,
        1,
        &["did not find expected ',' or '}'"],
    );
}

#[test]
fn unknown_field() {
    assert_rejected(
        "description: x\nwindows:\n  top: { url: \"http://a.test/\", colour: red }\nsteps:\n  - post: { from: top, to: top, message: 1 }\n",
        3,
        33,
        &["unknown field `colour`", "expected one of `url`"],
    );
}

#[test]
fn unknown_field_in_a_step() {
    assert_rejected(
        "description: x\nwindows:\n  top: { url: \"http://a.test/\" }\nsteps:\n  - post: { from: top, to: top, message: 1, targetOrigin: \"*\" }\n",
        5,
        45,
        &["unknown field `targetOrigin`", "target_origin"],
    );
}

#[test]
fn unknown_window_reference() {
    assert_rejected(
        "description: x\nwindows:\n  top: { url: \"http://a.test/\" }\nsteps:\n  - post: { from: top, to: child, message: 1 }\n",
        5,
        24,
        &["unknown window `child` in `to`", "top"],
    );
    assert_rejected(
        "description: x\nwindows:\n  top: { url: \"http://a.test/\" }\n  kid: { parent: mom, url: \"http://b.test/\" }\nsteps:\n  - post: { from: top, to: kid, message: 1 }\n",
        4,
        10,
        &["unknown window `mom` in `parent` of `kid`"],
    );
}

#[test]
fn duplicate_window_names() {
    assert_rejected(
        "description: x\nwindows:\n  top: { url: \"http://a.test/\" }\n  kid: { parent: top, url: \"http://b.test/\" }\n  kid: { parent: top, url: \"http://c.test/\" }\nsteps:\n  - post: { from: top, to: kid, message: 1 }\n",
        5,
        3,
        &["duplicate window name `kid`"],
    );
}

#[test]
fn cycles_in_parent_and_opener() {
    assert_rejected(
        "description: x\nwindows:\n  top: { url: \"http://a.test/\" }\n  a: { parent: b, url: \"http://b.test/\" }\n  b: { opener: a, url: \"http://c.test/\" }\nsteps:\n  - post: { from: top, to: top, message: 1 }\n",
        4,
        3,
        &["cycle: a -> b -> a"],
    );
}

#[test]
fn not_exactly_one_top_window() {
    assert_rejected(
        "description: x\nwindows:\n  one: { url: \"http://a.test/\" }\n  two: { url: \"http://b.test/\" }\nsteps:\n  - post: { from: one, to: one, message: 1 }\n",
        2,
        1,
        &["2 top windows (one, two)"],
    );
    assert_rejected(
        "description: x\nwindows:\n  a: { parent: b, url: \"http://a.test/\" }\n  b: { parent: a, url: \"http://b.test/\" }\nsteps:\n  - post: { from: a, to: b, message: 1 }\n",
        2,
        1,
        &["no top window"],
    );
}

#[test]
fn hosts_outside_test_and_loopback() {
    for (url, column, words) in [
        (
            "http://example.com/",
            10,
            "`example.com` is not under .test",
        ),
        (
            "http://10.0.0.1:8000/",
            10,
            "10.0.0.1 is not a loopback address",
        ),
        ("http://[::2]/", 10, "[::2] is not the IPv6 loopback"),
        ("http://localhost/", 10, "`localhost` is not under .test"),
        ("http://pmconf.test/", 10, "reserved for the harness"),
    ] {
        assert_rejected(
            &format!("description: x\nwindows:\n  top: {{ url: \"{url}\" }}\nsteps:\n  - post: {{ from: top, to: top, message: 1 }}\n"),
            3,
            column,
            &[words],
        );
    }
}

#[test]
fn ports_browsers_refuse() {
    assert_rejected(
        "description: x\nwindows:\n  top: { url: \"http://a.test/\" }\n  kid: { parent: top, url: \"http://b.test:6000/\" }\nsteps:\n  - post: { from: top, to: kid, message: 1 }\n",
        4,
        23,
        &["`http://b.test:6000/` cannot be loaded", "bad-port list"],
    );
}

#[test]
fn unknown_sandbox_token() {
    assert_rejected(
        "description: x\nwindows:\n  top: { url: \"http://a.test/\" }\n  box: { parent: top, url: \"http://b.test/\", sandbox: \"allow-scripts allow-everything\" }\nsteps:\n  - post: { from: box, to: top, message: 1, target_origin: \"*\" }\n",
        4,
        46,
        &["`allow-everything` is not a sandbox token", "allow-same-origin"],
    );
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let dir = tempfile::tempdir().unwrap();
    write_case(
        dir.path(),
        "many.yaml",
        "description: x\nwindows:\n  top: { url: \"http://example.com/\" }\n  box: { parent: top, url: \"http://b.test/\", sandbox: \"nope\" }\nsteps:\n  - post: { from: ghost, to: top, message: 1 }\n",
    );
    write_case(
        dir.path(),
        "also-bad.yaml",
        "description: x\nwindows: {}\nsteps: []\n",
    );
    let out = pmconf(&["check", "."], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    for w in [
        "example.com",
        "`nope` is not a sandbox token",
        "unknown window `ghost`",
        "also-bad.yaml:2:1: no top window",
        "the case has no steps",
    ] {
        assert!(stderr.contains(w), "want {w:?} in:\n{stderr}");
    }
}

#[test]
fn missing_paths_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = pmconf(&["check", "no-such-dir"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no-such-dir: no such file or directory"));
}

#[test]
fn model_writes_output_atomically_when_valid() {
    let dir = tempfile::tempdir().unwrap();
    write_case(
        dir.path(),
        "ok.yaml",
        "description: x\nwindows:\n  top: { url: \"http://a.test/\" }\n  kid: { parent: top, url: \"http://b.test:81/\" }\nsteps:\n  - post: { from: kid, to: top, message: hi, target_origin: \"*\" }\n",
    );
    let out = pmconf(
        &[
            "model",
            "ok.yaml",
            "--format",
            "json",
            "--output",
            "out/answer.json",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(dir.path().join("out/answer.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        v[0]["allowed"][0]["received"]["top"][0]["origin"],
        "http://b.test:81"
    );
}

#[test]
fn origin_and_target_origin_json_keys_are_stable() {
    let dir = tempfile::tempdir().unwrap();
    let out = pmconf(
        &[
            "origin",
            "--format",
            "json",
            "http://BÜCHER.test:80/",
            "asdf:",
            "http:",
        ],
        dir.path(),
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines[0],
        serde_json::json!({"input": "http://BÜCHER.test:80/", "kind": "origin", "serialization": "http://xn--bcher-kva.test"})
    );
    assert_eq!(
        lines[1],
        serde_json::json!({"input": "asdf:", "kind": "opaque", "serialization": "null"})
    );
    assert_eq!(
        lines[2],
        serde_json::json!({"input": "http:", "kind": "failure", "serialization": null})
    );

    let out = pmconf(
        &[
            "target-origin",
            "--from",
            "http://a.test:8000",
            "--format",
            "json",
            "/",
            "*",
            "data:,x",
            "//x",
        ],
        dir.path(),
    );
    let kinds: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["kind"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["origin", "wildcard", "opaque", "syntax-error"]);
    let out = pmconf(
        &[
            "target-origin",
            "--from",
            "http://a.test:8000",
            "/",
            "*",
            "asdf:",
            "http:",
        ],
        dir.path(),
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "http://a.test:8000\n*\nopaque\nSyntaxError\n"
    );
}

#[test]
fn a_missing_browser_stops_the_run_before_anything_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let cases = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../cases");
    let out = Command::new(env!("CARGO_BIN_EXE_pmconf"))
        .args([
            "run",
            "--engine",
            "firefox",
            "--results",
            "out/results.json",
        ])
        .arg(&cases)
        .env("PATH", "/nonexistent")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("firefox-esr not found"), "{stderr}");
    assert!(stderr.contains("scripts/install-engines"), "{stderr}");
    assert!(!dir.path().join("out").exists(), "nothing written");
}
