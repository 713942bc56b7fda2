//! JUnit and wptreport files from one synthetic run with every kind of
//! result, read back: the JUnit XML with a real XML parser, the
//! wptreports against a JSON schema written from wpt.fyi's rules
//! (tests/schemas/wptreport.schema.json) with check-jsonschema.
//!
//! check-jsonschema comes from scripts/install-ci-tools (a venv under
//! target/ci-tools); when it is missing the schema check is skipped with a
//! printed reason, unless CI is set: then it fails.

mod common;

use common::{ci_tool, workspace};
use pmconf::known::KnownDivergences;
use pmconf::report::{JunitReporter, WptReportReporter};
use pmconf::run::events::{
    CaseResult, EarlierAttempt, EngineInfo, Reporter, RunEvent, SnapshotStatus,
};
use pmconf::run::info::RunInfo;
use pmconf::run::verdict::Verdict;
use pmconf_model::{Delivery, Outcome, PostOutcome};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const REVISION: &str = "0123456789abcdef0123456789abcdef01234567";
const BUG: &str = "https://bugs.chromium.org/p/chromium/issues/detail?id=42";

fn outcome(origin: &str) -> Outcome {
    Outcome {
        posts: vec![PostOutcome::returned(0)],
        received: vec![(
            "child".into(),
            vec![Delivery {
                message: json!("hi"),
                origin: origin.into(),
                source: Some("top".into()),
                ports: Vec::new(),
            }],
        )],
    }
}

fn result(engine: &str, case: &str, verdict: Verdict, snapshot: SnapshotStatus) -> CaseResult {
    let observed = if verdict == Verdict::Diverges {
        "http://b.test"
    } else {
        "http://a.test"
    };
    let concluded = matches!(verdict, Verdict::Conforms | Verdict::Diverges);
    CaseResult {
        observed: concluded.then(|| outcome(observed)),
        allowed: vec![outcome("http://a.test")],
        duration_ms: 120,
        ..CaseResult::bare(engine, case, verdict, snapshot)
    }
}

fn changed(diff: &str) -> SnapshotStatus {
    SnapshotStatus::Changed {
        pending: "snapshots/x.snap.new".into(),
        diff: diff.into(),
    }
}

/// Every kind of result: (case, verdict, snapshot) in chromium, two in firefox.
fn events() -> Vec<RunEvent> {
    use Verdict::*;
    let inconclusive = Inconclusive {
        reason: "timed out".into(),
    };
    let internal = InternalError {
        reason: "driver <died> & \u{1} left".into(),
    };
    let mut flaky = result(
        "chromium",
        "cases/x/flaky.yaml",
        Conforms,
        SnapshotStatus::Matched,
    );
    flaky.earlier_attempts = vec![EarlierAttempt {
        verdict: Diverges,
        runs: 1,
        histogram: vec![],
        snapshot: changed("-verdict: conforms\n+verdict: diverges\n"),
    }];
    let chromium = vec![
        result(
            "chromium",
            "cases/x/conforms.yaml",
            Conforms,
            SnapshotStatus::Matched,
        ),
        result(
            "chromium",
            "cases/x/known.yaml",
            Diverges,
            SnapshotStatus::Matched,
        ),
        result(
            "chromium",
            "cases/x/known-nolink.yaml",
            Diverges,
            SnapshotStatus::Matched,
        ),
        flaky,
        result(
            "chromium",
            "cases/y/changed.yaml",
            Diverges,
            changed("-verdict: conforms\n+verdict: diverges\n"),
        ),
        result(
            "chromium",
            "cases/y/new.yaml",
            Diverges,
            SnapshotStatus::New {
                pending: "snapshots/chromium/y__new.snap.new".into(),
            },
        ),
        result(
            "chromium",
            "cases/y/timeout.yaml",
            inconclusive,
            SnapshotStatus::NotCompared,
        ),
        result(
            "chromium",
            "cases/y/internal.yaml",
            internal,
            SnapshotStatus::NotCompared,
        ),
        result(
            "chromium",
            "cases/y/other-divergence.yaml",
            Diverges,
            changed(" verdict: diverges\n-  origin: http://c.test\n+  origin: http://b.test\n"),
        ),
        result(
            "chromium",
            "cases/y/fixed.yaml",
            Conforms,
            changed("-verdict: diverges\n+verdict: conforms\n"),
        ),
    ];
    let firefox = vec![
        result(
            "firefox",
            "cases/x/conforms.yaml",
            Conforms,
            SnapshotStatus::Matched,
        ),
        result(
            "firefox",
            "cases/x/known.yaml",
            Diverges,
            SnapshotStatus::Matched,
        ),
    ];
    let mut events = vec![
        // The run's one revision: the wptreports name its commit.
        RunEvent::RunInfo(RunInfo {
            started_unix_ms: 1_795_937_711_000,
            pmconf_version: "0.1.0".into(),
            revision: "0123456-dirty".into(),
            commit: Some(REVISION.into()),
            revision_source: "synthetic".into(),
            command_line: vec!["pmconf".into(), "run".into()],
            cases: vec![],
            instances: vec![],
        }),
        RunEvent::SuiteStart {
            engines: vec!["chromium".into(), "firefox".into()],
            cases: 10,
        },
    ];
    for (engine, version) in [("chromium", "131.0.6778.85"), ("firefox", "128.5.0esr")] {
        events.push(RunEvent::EngineStart(EngineInfo {
            engine: engine.into(),
            browser_version: version.into(),
        }));
    }
    events.extend(chromium.into_iter().chain(firefox).map(RunEvent::CaseEnd));
    events.push(RunEvent::SuiteEnd { seconds: 3.0 });
    events
}

fn known() -> KnownDivergences {
    KnownDivergences::parse(
        Path::new("known.yaml"),
        &format!("- {{engine: chromium, case: cases/x/known.yaml, bug: '{BUG}'}}\n"),
    )
    .unwrap()
}

fn feed(reporter: &mut dyn Reporter) {
    for e in events() {
        reporter.on_event(&e);
    }
    reporter.finish().unwrap();
}

/// Counts of (tests, failures, errors, skipped) found by walking the XML.
fn walked(suite: roxmltree::Node) -> (usize, usize, usize, usize) {
    let cases: Vec<_> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let count = |tag: &str| {
        cases
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name(tag)))
            .count()
    };
    (
        cases.len(),
        count("failure"),
        count("error"),
        count("skipped"),
    )
}

fn case<'a, 'i>(suite: roxmltree::Node<'a, 'i>, file: &str) -> roxmltree::Node<'a, 'i> {
    suite
        .children()
        .find(|n| n.attribute("file") == Some(file))
        .unwrap_or_else(|| panic!("{file}"))
}

fn attrs(node: roxmltree::Node) -> (usize, usize, usize, usize) {
    let a = |name: &str| node.attribute(name).unwrap().parse::<usize>().unwrap();
    (a("tests"), a("failures"), a("errors"), a("skipped"))
}

#[test]
fn junit_has_a_testsuite_per_engine_with_consistent_counts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    feed(&mut JunitReporter::new(&path, known()));
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites: Vec<_> = root
        .children()
        .filter(|n| n.has_tag_name("testsuite"))
        .collect();
    assert_eq!(
        suites
            .iter()
            .map(|s| s.attribute("name").unwrap())
            .collect::<Vec<_>>(),
        ["pmconf.chromium", "pmconf.firefox"]
    );
    // Derived by hand from events(): chromium has 10 results, of which
    // changed/new/other-divergence/fixed fail, timeout/internal error, and
    // the two known divergences are skipped; firefox has one known divergence.
    assert_eq!(walked(suites[0]), (10, 4, 2, 2));
    assert_eq!(attrs(suites[0]), (10, 4, 2, 2));
    assert_eq!(walked(suites[1]), (2, 0, 0, 1));
    assert_eq!(attrs(suites[1]), (2, 0, 0, 1));
    assert_eq!(attrs(root), (12, 4, 2, 3));
    for suite in &suites {
        let engine = suite
            .attribute("name")
            .unwrap()
            .trim_start_matches("pmconf.");
        for c in suite.children().filter(|n| n.has_tag_name("testcase")) {
            assert!(
                c.attribute("classname")
                    .unwrap()
                    .starts_with(&format!("{engine}.cases.")),
                "{c:?}"
            );
            assert_eq!(c.attribute("time"), Some("0.120"));
        }
    }
    let skipped = case(suites[0], "cases/x/known.yaml")
        .children()
        .find(|n| n.has_tag_name("skipped"))
        .unwrap();
    assert_eq!(
        skipped.attribute("message").unwrap(),
        format!("known divergence: bug {BUG}")
    );
    let skipped = case(suites[1], "cases/x/known.yaml")
        .children()
        .find(|n| n.has_tag_name("skipped"))
        .unwrap();
    assert!(skipped
        .attribute("message")
        .unwrap()
        .contains("no bug link"));
    let flaky = case(suites[0], "cases/x/flaky.yaml");
    let ff = flaky
        .children()
        .find(|n| n.has_tag_name("flakyFailure"))
        .unwrap();
    assert_eq!(
        ff.attribute("message"),
        Some("attempt 1 of 2: diverges, snapshot changed")
    );
    assert!(ff
        .children()
        .find(|n| n.has_tag_name("stackTrace"))
        .unwrap()
        .text()
        .unwrap()
        .contains("+verdict: diverges"));
    let failure = case(suites[0], "cases/y/changed.yaml")
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some("diverges; snapshot changed")
    );
    assert!(failure
        .text()
        .unwrap()
        .contains("-verdict: conforms\n+verdict: diverges"));
    let failure = case(suites[0], "cases/y/new.yaml")
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert!(
        failure
            .text()
            .unwrap()
            .contains("-     origin: http://a.test\n+     origin: http://b.test"),
        "{:?}",
        failure.text()
    );
    let error = case(suites[0], "cases/y/internal.yaml")
        .children()
        .find(|n| n.has_tag_name("error"))
        .unwrap();
    assert_eq!(error.attribute("type"), Some("internal-error"));
    assert_eq!(
        error.attribute("message"),
        Some("driver <died> & \u{2401} left")
    );
}

#[test]
fn junit_with_an_engine_placeholder_writes_one_file_per_engine() {
    let dir = tempfile::tempdir().unwrap();
    feed(&mut JunitReporter::new(
        dir.path().join("junit-{engine}.xml"),
        known(),
    ));
    for (engine, tests) in [("chromium", 10), ("firefox", 2)] {
        let text = std::fs::read_to_string(dir.path().join(format!("junit-{engine}.xml"))).unwrap();
        let doc = roxmltree::Document::parse(&text).unwrap();
        let suites: Vec<_> = doc
            .root_element()
            .children()
            .filter(|n| n.has_tag_name("testsuite"))
            .collect();
        assert_eq!(suites.len(), 1);
        assert_eq!(walked(suites[0]).0, tests);
    }
}

fn wptreports(dir: &Path) -> (PathBuf, Value) {
    feed(&mut WptReportReporter::new(
        dir.join("wptreport-{engine}.json"),
    ));
    let path = dir.join("wptreport-chromium.json");
    let value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (path, value)
}

#[test]
fn wptreport_marks_only_unexpected_results_with_what_was_expected() {
    let dir = tempfile::tempdir().unwrap();
    let (_, report) = wptreports(dir.path());
    assert_eq!(report["run_info"]["revision"], REVISION);
    assert_eq!(report["run_info"]["product"], "chromium");
    assert_eq!(report["run_info"]["browser_version"], "131.0.6778.85");
    assert!(report["time_start"].as_u64().unwrap() <= report["time_end"].as_u64().unwrap());
    let mut expected: Vec<(String, String, String)> = Vec::new();
    let results = report["results"].as_array().unwrap();
    let mut ids: Vec<&str> = results
        .iter()
        .map(|r| r["test"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 10, "test ids are unique");
    for r in results {
        assert_eq!(r["duration"], 120);
        assert!(r["subtests"].is_array());
        let test = r["test"].as_str().unwrap().to_owned();
        if let Some(e) = r.get("expected") {
            assert_ne!(e, &r["status"]);
            expected.push((
                test.clone(),
                r["status"].as_str().unwrap().into(),
                e.as_str().unwrap().into(),
            ));
        }
        for s in r["subtests"].as_array().unwrap() {
            if let Some(e) = s.get("expected") {
                assert_ne!(e, &s["status"]);
                expected.push((
                    test.clone() + " subtest",
                    s["status"].as_str().unwrap().into(),
                    e.as_str().unwrap().into(),
                ));
            }
        }
    }
    expected.sort();
    let t = |a: &str, b: &str, c: &str| (a.to_owned(), b.to_owned(), c.to_owned());
    assert_eq!(
        expected,
        [
            t("/cases/y/changed.yaml subtest", "FAIL", "PASS"),
            t("/cases/y/fixed.yaml subtest", "PASS", "FAIL"),
            t("/cases/y/internal.yaml", "ERROR", "OK"),
            t("/cases/y/new.yaml subtest", "FAIL", "PASS"),
            t("/cases/y/timeout.yaml", "TIMEOUT", "OK"),
        ]
    );
    let other = results
        .iter()
        .find(|r| r["test"] == "/cases/y/other-divergence.yaml")
        .unwrap();
    assert!(other["subtests"][0]["message"]
        .as_str()
        .unwrap()
        .starts_with("snapshot changed"));
}

#[test]
fn wptreport_passes_the_schema_written_from_wpt_fyi_rules() {
    let Some(check) = ci_tool("check-jsonschema") else {
        return;
    };
    let schema = workspace().join("harness/tests/schemas/wptreport.schema.json");
    let dir = tempfile::tempdir().unwrap();
    let (path, report) = wptreports(dir.path());
    let firefox = dir.path().join("wptreport-firefox.json");
    let run = |files: &[&Path]| {
        std::process::Command::new(&check)
            .arg("--schemafile")
            .arg(&schema)
            .args(files)
            .output()
            .unwrap()
    };
    let ok = run(&[&path, &firefox]);
    assert!(
        ok.status.success(),
        "{}{}",
        String::from_utf8_lossy(&ok.stdout),
        String::from_utf8_lossy(&ok.stderr)
    );
    // The schema can fail: without a revision, or with a test lacking duration.
    let mut bad = report.clone();
    bad["run_info"].as_object_mut().unwrap().remove("revision");
    let no_revision = dir.path().join("no-revision.json");
    std::fs::write(&no_revision, bad.to_string()).unwrap();
    let mut bad = report;
    bad["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("duration");
    let no_duration = dir.path().join("no-duration.json");
    std::fs::write(&no_duration, bad.to_string()).unwrap();
    for file in [&no_revision, &no_duration] {
        let out = run(&[file]);
        assert!(
            !out.status.success(),
            "{} passed the schema",
            file.display()
        );
    }
}

/// A contested result passes with its issues in `<system-out>` (one line
/// per issue of each contested outcome it saw); one whose snapshot changed
/// still fails; a crashed result is an `<error>` of type `crashed` with its
/// reason.
#[test]
fn junit_contested_passes_naming_its_issues_and_crashed_is_an_error() {
    use pmconf::run::events::OutcomeCount;
    use pmconf_model::contested::ContestedOutcome;
    let contested_outcome = |origin: &str, issue: &str, reason: &str| ContestedOutcome {
        outcome: outcome(origin),
        issues: vec![issue.into()],
        reasons: vec![reason.into()],
        schedule: vec![],
    };
    let mut contested = result(
        "webkitgtk",
        "cases/z/contested.yaml",
        Verdict::Contested,
        SnapshotStatus::Matched,
    );
    // It saw the allowed outcome, then the two contested ones over its runs.
    contested.contested = vec![
        contested_outcome(
            "http://b.test",
            "https://github.com/whatwg/html/issues/3267",
            "reuse & <blank>",
        ),
        contested_outcome(
            "http://c.test",
            "https://github.com/whatwg/html/issues/3691",
            "call time",
        ),
        contested_outcome("http://d.test", "https://example.test/not-seen", "not seen"),
    ];
    contested.histogram = ["http://a.test", "http://b.test", "http://c.test"]
        .iter()
        .map(|o| OutcomeCount {
            outcome: outcome(o),
            count: 1,
            allowed: *o == "http://a.test",
        })
        .collect();
    contested.observed = Some(outcome("http://c.test"));
    let mut changed_contested = contested.clone();
    changed_contested.case = "cases/z/changed-contested.yaml".into();
    changed_contested.snapshot = changed("-verdict: conforms\n+verdict: contested\n");
    let crashed = result(
        "webkitgtk",
        "cases/z/crashed.yaml",
        Verdict::Crashed {
            reason: "session died twice: WebKitWebDriver exited".into(),
        },
        SnapshotStatus::NotCompared,
    );
    let events: Vec<RunEvent> = [
        RunEvent::SuiteStart {
            engines: vec!["webkitgtk".into()],
            cases: 3,
        },
        RunEvent::EngineStart(EngineInfo {
            engine: "webkitgtk".into(),
            browser_version: "2.46.0".into(),
        }),
    ]
    .into_iter()
    .chain([contested, changed_contested, crashed].map(RunEvent::CaseEnd))
    .chain([RunEvent::SuiteEnd { seconds: 1.0 }])
    .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    let mut reporter = JunitReporter::new(&path, known());
    for e in &events {
        reporter.on_event(e);
    }
    reporter.finish().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&text).unwrap();
    let suite = doc
        .root_element()
        .children()
        .find(|n| n.has_tag_name("testsuite"))
        .unwrap();
    // 3 tests: changed-contested fails, crashed is an error, contested passes.
    assert_eq!(walked(suite), (3, 1, 1, 0));
    assert_eq!(attrs(suite), (3, 1, 1, 0));
    let passed = case(suite, "cases/z/contested.yaml");
    assert!(
        !passed.children().any(|n| n.has_tag_name("error")
            || n.has_tag_name("failure")
            || n.has_tag_name("skipped")),
        "{text}"
    );
    let out = passed
        .children()
        .find(|n| n.has_tag_name("system-out"))
        .unwrap_or_else(|| panic!("no system-out: {text}"));
    assert_eq!(
        out.text(),
        Some(
            "contested: https://github.com/whatwg/html/issues/3267 (reuse & <blank>)\n\
             contested: https://github.com/whatwg/html/issues/3691 (call time)"
        )
    );
    let failure = case(suite, "cases/z/changed-contested.yaml")
        .children()
        .find(|n| n.has_tag_name("failure"))
        .unwrap();
    assert_eq!(
        failure.attribute("message"),
        Some("contested; snapshot changed")
    );
    let error = case(suite, "cases/z/crashed.yaml")
        .children()
        .find(|n| n.has_tag_name("error"))
        .unwrap();
    assert_eq!(error.attribute("type"), Some("crashed"));
    assert_eq!(
        error.attribute("message"),
        Some("session died twice: WebKitWebDriver exited")
    );
    assert_eq!(
        error.text(),
        Some("session died twice: WebKitWebDriver exited")
    );
}
