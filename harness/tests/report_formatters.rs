//! The reporters fed one synthetic run: two engines that ran, one that
//! failed setup, and every verdict and snapshot status. Assertions are on
//! the real output: terminal text, JSON files, wptreport files, HTML.

use pmconf::report::{
    HtmlReporter, JsonReporter, MultiReporter, TerminalReporter, WptReportReporter,
};
use pmconf::run::events::{
    CaseResult, EarlierAttempt, EngineInfo, OutcomeCount, Reporter, RunEvent, SnapshotStatus,
};
use pmconf::run::info::{CaseInfo, InstanceInfo, PostCall, RunInfo};
use pmconf::run::verdict::Verdict;
use pmconf_model::contested::{ContestedOutcome, SpecIssue};
use pmconf_model::{Delivery, Outcome, PostOutcome};
use serde_json::{json, Value};
use std::io::{self, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// Untrusted text that must never reach the HTML page unescaped.
const HOSTILE: &str = "</script><b>";

const KNOWN_CASE: &str = "opaque/data-frame-sender.yaml";
const CHANGED_CASE: &str = "target-origin/star.yaml";
const CHANGED_PENDING: &str = "snapshots/chromium/target-origin__star.snap.new";
const NEW_PENDING: &str = "snapshots/chromium/messages__special-values.snap.new";
const SNAPSHOT_DIFF: &str = "-      origin: http://x.test\n+      origin: http://b.test:8000\n";

/// `top` posts one message to `child`, which receives it from `origin`.
fn delivered(origin: &str, message: Value) -> Outcome {
    Outcome {
        posts: vec![PostOutcome::returned(0)],
        received: vec![
            ("top".into(), vec![]),
            (
                "child".into(),
                vec![Delivery {
                    message,
                    origin: origin.into(),
                    source: Some("top".into()),
                    ports: Vec::new(),
                }],
            ),
        ],
    }
}

/// The post throws and nothing arrives: far from any delivered outcome.
fn threw() -> Outcome {
    Outcome {
        posts: vec![PostOutcome::threw(0, "SyntaxError")],
        received: vec![("top".into(), vec![]), ("child".into(), vec![])],
    }
}

fn result(engine: &str, case: &str, verdict: Verdict, snapshot: SnapshotStatus) -> CaseResult {
    let observed = delivered("http://a.test:8000", json!("hi"));
    CaseResult {
        description: format!("{case} in {engine}"),
        allowed: vec![observed.clone()],
        observed: Some(observed),
        duration_ms: 10,
        ..CaseResult::bare(engine, case, verdict, snapshot)
    }
}

/// Chromium: every verdict and every snapshot problem. Firefox: conforms,
/// plus one accepted divergence. WebKitGTK: setup failed.
fn chromium_results() -> Vec<CaseResult> {
    let known = CaseResult {
        description: format!("a data: iframe posts with origin \"null\" {HOSTILE} & \u{2028}"),
        observed: Some(delivered("http://a.test:8000", json!(HOSTILE))),
        allowed: vec![threw(), delivered("null", json!(HOSTILE))],
        ..result(
            "chromium",
            KNOWN_CASE,
            Verdict::Diverges,
            SnapshotStatus::Matched,
        )
    };
    let changed = CaseResult {
        observed: Some(delivered("http://b.test:8000", json!("hi"))),
        allowed: vec![delivered("http://a.test:8000", json!("hi"))],
        ..result(
            "chromium",
            CHANGED_CASE,
            Verdict::Diverges,
            SnapshotStatus::Changed {
                pending: CHANGED_PENDING.into(),
                diff: SNAPSHOT_DIFF.into(),
            },
        )
    };
    let inconclusive = CaseResult {
        observed: None,
        ..result(
            "chromium",
            "topology/nested.yaml",
            Verdict::Inconclusive {
                reason: "window child never loaded".into(),
            },
            SnapshotStatus::NotCompared,
        )
    };
    let internal_error = CaseResult {
        observed: None,
        ..result(
            "chromium",
            "exceptions/data-clone-error-symbol.yaml",
            Verdict::InternalError {
                reason: format!("driver said {HOSTILE}bold"),
            },
            SnapshotStatus::NotCompared,
        )
    };
    vec![
        result(
            "chromium",
            "messages/a&b.yaml",
            Verdict::Conforms,
            SnapshotStatus::Matched,
        ),
        known,
        changed,
        inconclusive,
        internal_error,
        result(
            "chromium",
            "messages/special-values.yaml",
            Verdict::Conforms,
            SnapshotStatus::New {
                pending: NEW_PENDING.into(),
            },
        ),
    ]
}

fn firefox_results() -> Vec<CaseResult> {
    let accepted = CaseResult {
        observed: Some(delivered("http://a.test:8000", json!(1))),
        allowed: vec![delivered("http://a.test:8000", json!(2))],
        ..result(
            "firefox",
            CHANGED_CASE,
            Verdict::Diverges,
            SnapshotStatus::Accepted,
        )
    };
    vec![
        result(
            "firefox",
            "messages/a&b.yaml",
            Verdict::Conforms,
            SnapshotStatus::Matched,
        ),
        result(
            "firefox",
            KNOWN_CASE,
            Verdict::Conforms,
            SnapshotStatus::Matched,
        ),
        accepted,
        result(
            "firefox",
            "topology/nested.yaml",
            Verdict::Conforms,
            SnapshotStatus::Matched,
        ),
        result(
            "firefox",
            "exceptions/data-clone-error-symbol.yaml",
            Verdict::Conforms,
            SnapshotStatus::Matched,
        ),
        result(
            "firefox",
            "messages/special-values.yaml",
            Verdict::Conforms,
            SnapshotStatus::Matched,
        ),
    ]
}

fn ended(results: Vec<CaseResult>) -> Vec<RunEvent> {
    results
        .into_iter()
        .flat_map(|r| {
            [
                RunEvent::CaseStart {
                    engine: r.engine.clone(),
                    case: r.case.clone(),
                },
                RunEvent::CaseEnd(r),
            ]
        })
        .collect()
}

/// 2026-11-29 07:35:11 UTC (`date -u -d @1795937711`).
const STARTED_UNIX_MS: u64 = 1_795_937_711_000;
const KNOWN_FILE: &str = "/src/pmconf/cases/opaque/data-frame-sender.yaml";
const SPEC_LINK: &str =
    "https://html.spec.whatwg.org/multipage/web-messaging.html#posting-messages";

/// `top` posts `message` to `child` as step `step`.
fn post_call(step: usize, target_origin: Option<&str>, message: Value) -> PostCall {
    PostCall {
        step,
        from: "top".into(),
        to: "child".into(),
        target_origin: target_origin.map(str::to_owned),
        message,
        form: None,
    }
}

/// What `pmconf run` sends first: when, which pmconf, the command line,
/// and each case's file, references and calls.
fn run_info(cases: Vec<CaseInfo>) -> RunEvent {
    RunEvent::RunInfo(RunInfo {
        started_unix_ms: STARTED_UNIX_MS,
        pmconf_version: "0.1.0".into(),
        revision: "7fb15fb-dirty".into(),
        commit: Some("7fb15fb0123456789abcdef0123456789abcdef0".into()),
        revision_source: "`git describe --always --dirty` at run time in /src/pmconf".into(),
        command_line: ["pmconf", "run", "cases/", "--html", "out dir/r.html"]
            .map(str::to_owned)
            .to_vec(),
        cases,
        instances: vec![],
    })
}

fn case_infos() -> Vec<CaseInfo> {
    vec![
        CaseInfo {
            case: KNOWN_CASE.into(),
            file: Some(KNOWN_FILE.into()),
            references: vec![SPEC_LINK.into(), format!("whatwg/html#1234 {HOSTILE}")],
            posts: vec![post_call(0, Some("http://b.test:8000"), json!("hi"))],
        },
        CaseInfo {
            case: CHANGED_CASE.into(),
            file: None,
            references: vec![],
            posts: vec![post_call(0, Some("*"), json!("hi"))],
        },
    ]
}

fn events() -> Vec<RunEvent> {
    let mut events = vec![
        run_info(case_infos()),
        RunEvent::SuiteStart {
            engines: vec!["chromium".into(), "firefox".into(), "webkitgtk".into()],
            cases: 6,
        },
        RunEvent::EngineStart(EngineInfo {
            engine: "chromium".into(),
            browser_version: "131.0.6778.85".into(),
        }),
        RunEvent::EngineStart(EngineInfo {
            engine: "firefox".into(),
            browser_version: "128.0".into(),
        }),
        RunEvent::EngineSetupFailed {
            engine: "webkitgtk".into(),
            error: "WebKitWebDriver not found\ninstall it: apt-get install webkit2gtk-driver"
                .into(),
        },
    ];
    events.extend(ended(chromium_results()));
    events.push(RunEvent::EngineEnd {
        engine: "chromium".into(),
        cases: 6,
        seconds: 2.0,
    });
    events.extend(ended(firefox_results()));
    events.push(RunEvent::EngineEnd {
        engine: "firefox".into(),
        cases: 6,
        seconds: 4.0,
    });
    events.push(RunEvent::SuiteEnd { seconds: 7.5 });
    events
}

fn feed(reporter: &mut dyn Reporter, events: &[RunEvent]) {
    for event in events {
        reporter.on_event(event);
    }
}

fn terminal_output(events: &[RunEvent]) -> String {
    let mut reporter = TerminalReporter::new(Vec::new(), false);
    feed(&mut reporter, events);
    reporter.finish().unwrap();
    String::from_utf8(reporter.into_inner()).unwrap()
}

/// The summary table's row for `engine`, split into cells.
fn table_row(output: &str, engine: &str) -> Vec<String> {
    let mut lines = output.lines().skip_while(|l| !l.starts_with("engine "));
    assert!(lines.next().is_some(), "no summary table in:\n{output}");
    lines
        .take_while(|l| !l.is_empty())
        .map(|l| l.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .find(|cells| cells[0] == engine)
        .unwrap_or_else(|| panic!("no row for {engine} in:\n{output}"))
}

/// The lines of the block that starts with `heading`, up to a blank line.
fn block<'a>(output: &'a str, heading: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = output
        .lines()
        .skip_while(|l| !l.starts_with(heading))
        .take_while(|l| !l.is_empty())
        .collect();
    assert!(!lines.is_empty(), "no block {heading:?} in:\n{output}");
    lines
}

#[test]
fn terminal_summary_counts_each_engine() {
    let output = terminal_output(&events());
    // engine, browser, conforms, diverges, known, inconclusive, internal-error, unexpected, cases/s
    assert_eq!(
        table_row(&output, "chromium"),
        [
            "chromium",
            "131.0.6778.85",
            "2",
            "2",
            "1",
            "1",
            "1",
            "4",
            "3.00"
        ]
    );
    assert_eq!(
        table_row(&output, "firefox"),
        ["firefox", "128.0", "5", "1", "1", "0", "0", "0", "1.50"]
    );
    assert_eq!(
        table_row(&output, "webkitgtk"),
        ["webkitgtk", "setup", "failed"]
    );
}

#[test]
fn terminal_progress_is_quiet_for_expected_results_and_immediate_for_unexpected_ones() {
    let output = terminal_output(&events());
    let progress: Vec<&str> = output
        .lines()
        .take_while(|l| !l.starts_with("engine "))
        .collect();
    assert_eq!(
        progress,
        [
            "chromium 131.0.6778.85: running 6 cases",
            "firefox 128.0: running 6 cases",
            "webkitgtk: setup failed: WebKitWebDriver not found",
            "chromium: 1/6 cases, 0 unexpected",
            "chromium: 2/6 cases, 0 unexpected",
            "UNEXPECTED chromium target-origin/star.yaml: diverges, snapshot changed",
            "chromium: 3/6 cases, 1 unexpected",
            "UNEXPECTED chromium topology/nested.yaml: inconclusive (window child never loaded)",
            "chromium: 4/6 cases, 2 unexpected",
            "UNEXPECTED chromium exceptions/data-clone-error-symbol.yaml: internal-error (driver said </script><b>bold)",
            "chromium: 5/6 cases, 3 unexpected",
            "new snapshot (review it) chromium messages/special-values.yaml: conforms",
            "chromium: 6/6 cases, 4 unexpected",
            "chromium: 6 cases in 2.0 s (3.00 cases/s)",
            "firefox: 1/6 cases, 0 unexpected",
            "firefox: 2/6 cases, 0 unexpected",
            "firefox: 3/6 cases, 0 unexpected",
            "firefox: 4/6 cases, 0 unexpected",
            "firefox: 5/6 cases, 0 unexpected",
            "firefox: 6/6 cases, 0 unexpected",
            "firefox: 6 cases in 4.0 s (1.50 cases/s)",
            "",
        ]
    );
}

#[test]
fn terminal_divergence_block_diffs_observed_against_the_nearest_allowed_outcome() {
    let output = terminal_output(&events());
    let known = block(
        &output,
        &format!("chromium  {KNOWN_CASE}  [accepted: snapshot matches]"),
    );
    assert!(
        known[1].contains("a data: iframe posts with origin \"null\""),
        "{known:#?}"
    );
    // The nearest allowed outcome is #2 (a delivery), not #1 (a throw).
    assert!(
        known.contains(&"  allowed #2 of 2 (the nearest) vs observed, - allowed + observed:"),
        "{known:#?}"
    );
    assert!(known.contains(&"    -     origin: 'null'"), "{known:#?}");
    assert!(
        known.contains(&"    +     origin: http://a.test:8000"),
        "{known:#?}"
    );
    assert!(
        known.contains(&"          source: top"),
        "unchanged lines give context: {known:#?}"
    );
    assert!(
        known.iter().any(|l| l
            .starts_with("  also allowed #1: {\"posts\":[{\"step\":0,\"threw\":\"SyntaxError\"}]")),
        "{known:#?}"
    );

    let changed = block(
        &output,
        &format!("chromium  {CHANGED_CASE}  [UNEXPECTED: snapshot changed]"),
    );
    assert!(
        changed.contains(&"    -     origin: http://a.test:8000"),
        "{changed:#?}"
    );
    assert!(
        changed.contains(&"    +     origin: http://b.test:8000"),
        "{changed:#?}"
    );

    let accepted = block(
        &output,
        &format!("firefox  {CHANGED_CASE}  [accepted: snapshot accepted]"),
    );
    assert!(accepted.contains(&"    -   - message: 2"), "{accepted:#?}");
    assert!(accepted.contains(&"    +   - message: 1"), "{accepted:#?}");
}

#[test]
fn terminal_lists_reasons_setup_errors_and_pending_snapshots() {
    let output = terminal_output(&events());
    assert_eq!(
        block(&output, "inconclusive (1):"),
        [
            "inconclusive (1):",
            "  chromium  topology/nested.yaml: window child never loaded"
        ]
    );
    assert_eq!(
        block(&output, "internal errors (1):"),
        [
            "internal errors (1):",
            "  chromium  exceptions/data-clone-error-symbol.yaml: driver said </script><b>bold"
        ]
    );
    assert_eq!(
        block(&output, "setup failures (1):"),
        [
            "setup failures (1):",
            "  webkitgtk: WebKitWebDriver not found",
            "    install it: apt-get install webkit2gtk-driver"
        ]
    );
    assert_eq!(
        block(&output, "pending snapshots (2):"),
        [
            "pending snapshots (2):",
            // By case path, as every list of the report.
            &format!(
                "  chromium  messages/special-values.yaml: new snapshot, pending: {NEW_PENDING}"
            ),
            &format!("  chromium  {CHANGED_CASE}: snapshot changed, pending: {CHANGED_PENDING}"),
            "    -      origin: http://x.test",
            "    +      origin: http://b.test:8000",
            "  review with `pmconf review` and accept or reject each pending snapshot",
        ]
    );
    assert!(!output.contains('\u{1b}'), "no colors unless asked for");
}

#[test]
fn terminal_verdict_line_separates_known_from_unexpected() {
    let output = terminal_output(&events());
    assert_eq!(
        output.lines().last().unwrap(),
        "pmconf: 3 engines (1 failed to start: webkitgtk), 6 cases each: 7 conform, 3 diverge (accepted: 2), \
         1 inconclusive, 1 internal error; snapshots: 1 new, 1 changed, 1 accepted => FAILED (5 unexpected)"
    );
}

#[test]
fn accepted_divergences_alone_do_not_fail_the_run() {
    let known = chromium_results().into_iter().nth(1).unwrap();
    let events = one_engine_run("chromium", "131", known, 0.5);
    let output = terminal_output(&events);
    assert!(!output.contains("UNEXPECTED"), "{output}");
    assert_eq!(
        output.lines().last().unwrap(),
        "pmconf: 1 engine, 1 case each: 0 conform, 1 diverge (accepted: 1), 0 inconclusive, \
         0 internal errors; snapshots: all match => ok"
    );
}

#[test]
fn terminal_colors_only_when_asked() {
    let mut reporter = TerminalReporter::new(Vec::new(), true);
    feed(&mut reporter, &events());
    reporter.finish().unwrap();
    let output = String::from_utf8(reporter.into_inner()).unwrap();
    assert!(
        output.contains("\u{1b}[31mUNEXPECTED chromium target-origin/star.yaml"),
        "{output}"
    );
    assert!(
        output.contains("\u{1b}[32m    +     origin: http://a.test:8000\u{1b}[0m"),
        "{output}"
    );
}

#[test]
fn json_file_has_the_exact_counts() {
    let value = json_of(&events());
    assert_eq!(value["format"], "pmconf-results/1");
    assert_eq!(value["complete"], true);
    assert_eq!(
        value["engines"],
        json!([
            {"engine": "chromium", "browser_version": "131.0.6778.85"},
            {"engine": "firefox", "browser_version": "128.0"},
        ])
    );
    assert_eq!(value["setup_failures"][0]["engine"], "webkitgtk");
    assert_eq!(value["setup_failures"].as_array().unwrap().len(), 1);
    assert_eq!(
        value["summary"],
        json!({
            "chromium": {"conforms": 2, "contested": 0, "diverges": 2, "accepted_divergences": 1, "inconclusive": 1,
                         "internal_error": 1, "crashed": 0, "unexpected": 4, "flaky": 0, "runs": 6, "unobserved_runs": 0,
                         "cases_per_second": 3.0},
            "firefox": {"conforms": 5, "contested": 0, "diverges": 1, "accepted_divergences": 1, "inconclusive": 0,
                        "internal_error": 0, "crashed": 0, "unexpected": 0, "flaky": 0, "runs": 6, "unobserved_runs": 0,
                        "cases_per_second": 1.5},
        })
    );
    let results = value["results"].as_array().unwrap();
    assert_eq!(results.len(), 12);
    // Results are CaseResults as serde writes them, so they read back.
    let first: CaseResult = serde_json::from_value(results[1].clone()).unwrap();
    assert_eq!(first, chromium_results()[1]);
}

#[test]
fn wptreport_files_map_verdicts_to_wpt_statuses() {
    let dir = tempfile::tempdir().unwrap();
    let mut reporter = WptReportReporter::new(dir.path().join("wptreport-{engine}.json"));
    feed(&mut reporter, &events());
    reporter.finish().unwrap();
    let read = |engine: &str| -> Value {
        let text =
            std::fs::read_to_string(dir.path().join(format!("wptreport-{engine}.json"))).unwrap();
        serde_json::from_str(&text).unwrap()
    };
    let chromium = read("chromium");
    assert_eq!(
        chromium["run_info"],
        json!({"product": "chromium", "browser_version": "131.0.6778.85", "os": "linux"})
    );
    let statuses: Vec<(&str, &str, Vec<&str>)> = chromium["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            let subtests = t["subtests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["status"].as_str().unwrap())
                .collect();
            (
                t["test"].as_str().unwrap(),
                t["status"].as_str().unwrap(),
                subtests,
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [
            ("/cases/messages/a&b.yaml", "OK", vec!["PASS"]),
            ("/cases/opaque/data-frame-sender.yaml", "OK", vec!["FAIL"]),
            ("/cases/target-origin/star.yaml", "OK", vec!["FAIL"]),
            ("/cases/topology/nested.yaml", "TIMEOUT", vec![]),
            (
                "/cases/exceptions/data-clone-error-symbol.yaml",
                "ERROR",
                vec![]
            ),
            ("/cases/messages/special-values.yaml", "OK", vec!["PASS"]),
        ]
    );
    let results = &chromium["results"];
    assert_eq!(results[0]["message"], Value::Null);
    assert_eq!(
        results[0]["subtests"][0],
        json!({"name": "matches model", "status": "PASS", "message": null})
    );
    assert_eq!(results[3]["message"], "window child never loaded");
    let fail = results[1]["subtests"][0]["message"].as_str().unwrap();
    assert!(
        fail.contains("not one of the 2 allowed outcomes (accepted: snapshot matches)"),
        "{fail}"
    );
    assert!(
        fail.contains("- origin: 'null' | + origin: http://a.test:8000"),
        "{fail}"
    );

    let firefox = read("firefox");
    assert_eq!(firefox["results"].as_array().unwrap().len(), 6);
    assert_eq!(firefox["results"][2]["subtests"][0]["status"], "FAIL");
    assert!(
        !dir.path().join("wptreport-webkitgtk.json").exists(),
        "an engine that never started has no report"
    );
}

/// The results file `events` make.
fn json_of(events: &[RunEvent]) -> Value {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    let mut reporter = JsonReporter::new(&path);
    feed(&mut reporter, events);
    reporter.finish().unwrap();
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// The HTML page `events` make.
fn html_of(events: &[RunEvent]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let mut reporter = HtmlReporter::new(&path);
    feed(&mut reporter, events);
    reporter.finish().unwrap();
    std::fs::read_to_string(&path).unwrap()
}

fn html_page() -> String {
    html_of(&events())
}

/// The `<td>` cells of the matrix row for `case` (its heading escaped as
/// the page escapes it).
fn matrix_row(html: &str, case_html: &str) -> Vec<String> {
    let start = format!("<tr><th scope=\"row\">{case_html}</th>");
    let row = html
        .split(&start)
        .nth(1)
        .unwrap_or_else(|| panic!("no row {start} in:\n{html}"));
    let row = &row[..row.find("</tr>").unwrap()];
    row.split("<td")
        .skip(1)
        .map(|cell| format!("<td{}", cell.trim_end_matches("</td>").trim_end()))
        .collect()
}

#[test]
fn html_matrix_cells_carry_verdict_classes_and_link_to_details() {
    let html = html_page();
    assert!(
        html.contains("<th>case</th><th>chromium</th><th>firefox</th><th>webkitgtk</th>"),
        "{html}"
    );

    let known = matrix_row(&html, KNOWN_CASE);
    assert_eq!(known[0], "<td class=\"x-accepted\"><a href=\"#r1-chromium-opaque-data-frame-sender-yaml\">diverges (accepted)</a>", "{known:?}");
    assert_eq!(known[1], "<td class=\"x-pass\">conforms");
    assert_eq!(known[2], "<td class=\"x-none\">setup failed");

    let changed = matrix_row(&html, CHANGED_CASE);
    assert!(
        changed[0].starts_with("<td class=\"x-action a-changed\"><a href=\"#r2-"),
        "{changed:?}"
    );
    assert!(
        changed[0].ends_with(">diverges, snapshot changed</a>"),
        "{changed:?}"
    );
    assert!(
        changed[1].starts_with("<td class=\"x-accepted\"><a href=\"#r8-"),
        "an accepted divergence is known: {changed:?}"
    );
    assert!(matrix_row(&html, "topology/nested.yaml")[0]
        .starts_with("<td class=\"x-action a-inconclusive\"><a "));
    assert!(
        matrix_row(&html, "exceptions/data-clone-error-symbol.yaml")[0]
            .starts_with("<td class=\"x-action a-internal-error\"><a ")
    );
    let new = &matrix_row(&html, "messages/special-values.yaml")[0];
    assert!(
        new.starts_with("<td class=\"x-action a-new\"><a href=\"#r5-")
            && new.ends_with(">conforms, new snapshot (review it)</a>"),
        "{new}"
    );
    assert_eq!(
        matrix_row(&html, "messages/a&amp;b.yaml")[0],
        "<td class=\"x-pass\">conforms"
    );
    // Rows by case path, not by which engine finished first.
    let rows: Vec<&str> = html
        .split("<tr><th scope=\"row\">")
        .skip(1)
        .map(|s| &s[..s.find("</th>").unwrap()])
        .collect();
    let mut sorted = rows.clone();
    sorted.sort_unstable();
    assert_eq!(rows, sorted);
    assert_eq!(rows.len(), 6);

    // Every link has its target, and only cells that are not a plain pass
    // have one: 5 in chromium, 1 in firefox (the needs-action rows link
    // to the same sections).
    let mut targets: Vec<&str> = html
        .split("href=\"#")
        .skip(1)
        .map(|s| &s[..s.find('"').unwrap()])
        .collect();
    targets.sort_unstable();
    targets.dedup();
    // The engine that failed to start links to its error in the table.
    assert!(html.contains("<table class=\"engines\" id=\"engines\">"));
    targets.retain(|t| *t != "engines");
    assert_eq!(targets.len(), 6);
    for target in targets {
        assert!(
            html.contains(&format!("<section class=\"detail\" id=\"{target}\">")),
            "no details for {target}"
        );
    }
}

#[test]
fn html_details_show_allowed_observed_diff_and_snapshot() {
    let html = html_page();
    let known = html
        .split("id=\"r1-chromium-opaque-data-frame-sender-yaml\"")
        .nth(1)
        .unwrap();
    let known = &known[..known.find("</section>").unwrap()];
    assert!(
        known.contains("<h4>Allowed #2 of 2 (the nearest) vs observed</h4>"),
        "{known}"
    );
    assert!(
        known.contains("<span class=\"del\">-     origin: &#39;null&#39;</span>"),
        "{known}"
    );
    assert!(
        known.contains("<span class=\"ins\">+     origin: http://a.test:8000</span>"),
        "{known}"
    );
    assert!(
        known.contains(
            "<h4>Allowed #1</h4>\n<pre class=\"allowed\">posts:\n  step 0 (post top→child, message &quot;hi&quot;, target_origin &quot;http://b.test:8000&quot;) threw: SyntaxError\n"
        ),
        "{known}"
    );
    assert!(
        known.contains("<h4>Observed</h4>\n<pre class=\"observed\">posts:"),
        "{known}"
    );
    assert!(
        html.contains(&format!(
            "<p>Pending snapshot: <code>{CHANGED_PENDING}</code></p>"
        )),
        "{html}"
    );
    assert!(html.contains("pmconf review"));
    assert!(
        html.contains("<tr data-engine=\"chromium\"><td>chromium</td><td>131.0.6778.85</td><td class=\"count\" data-key=\"conforms\">2</td>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<td>webkitgtk</td><td colspan=\"8\"><span class=\"unexpected\">setup failed</span>"
        ),
        "{html}"
    );
}

#[test]
fn html_escapes_every_piece_of_untrusted_text() {
    let html = html_page();
    assert!(!html.contains(HOSTILE), "raw {HOSTILE} in the page");
    assert!(!html.contains('\u{2028}'), "raw U+2028 in the page");
    assert!(!html.contains("<script"), "the page needs no script");
    // In the description, the reason and the messages, escaped.
    assert!(
        html.contains("origin &quot;null&quot; &lt;/script&gt;&lt;b&gt; &amp; &#x2028;</p>"),
        "{html}"
    );
    assert!(
        html.contains("driver said &lt;/script&gt;&lt;b&gt;bold</pre>"),
        "{html}"
    );
    assert!(html.contains("message: &lt;/script&gt;&lt;b&gt;"), "{html}");
    assert!(
        html.contains("<th scope=\"row\">messages/a&amp;b.yaml</th>"),
        "{html}"
    );
    // Self-contained: no external assets.
    for external in ["<link", "src=", "@import", "url("] {
        assert!(!html.contains(external), "{external} in the page");
    }
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A shared buffer, so a terminal reporter inside a `MultiReporter` can
/// still be read.
#[derive(Clone, Default)]
struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn every_reporter_behind_one_multi_reporter_writes_its_files_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let terminal = SharedBuffer::default();
    let mut multi = MultiReporter::new(vec![
        Box::new(TerminalReporter::new(terminal.clone(), false)),
        Box::new(JsonReporter::new(dir.path().join("results.json"))),
        Box::new(HtmlReporter::new(dir.path().join("report.html"))),
    ]);
    multi.push(Box::new(WptReportReporter::new(
        dir.path().join("wptreport-{engine}.json"),
    )));
    feed(&mut multi, &events());
    multi.finish().unwrap();
    assert_eq!(
        file_names(dir.path()),
        [
            "report.html",
            "results.json",
            "wptreport-chromium.json",
            "wptreport-firefox.json"
        ],
        "no temporary file may be left"
    );
    let text = String::from_utf8(terminal.0.lock().unwrap().clone()).unwrap();
    assert!(text.ends_with("=> FAILED (5 unexpected)\n"), "{text}");
}

#[test]
fn writing_into_a_missing_directory_fails_cleanly_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing");
    let mut reporters: Vec<Box<dyn Reporter>> = vec![
        Box::new(JsonReporter::new(missing.join("results.json"))),
        Box::new(HtmlReporter::new(missing.join("report.html"))),
        Box::new(WptReportReporter::new(
            missing.join("wptreport-{engine}.json"),
        )),
    ];
    for reporter in &mut reporters {
        feed(reporter.as_mut(), &events());
        let err = reporter.finish().unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().contains("missing"),
            "the error names the path: {err}"
        );
    }
    assert!(!missing.exists());
    assert!(file_names(dir.path()).is_empty());
}

#[test]
fn a_run_cut_short_still_gets_a_summary_and_says_so() {
    let events: Vec<RunEvent> = events()
        .into_iter()
        .take_while(|e| !matches!(e, RunEvent::EngineEnd { .. }))
        .collect();
    let output = terminal_output(&events);
    assert_eq!(
        table_row(&output, "chromium")[8],
        "-",
        "no EngineEnd, no rate"
    );
    assert!(
        output
            .lines()
            .last()
            .unwrap()
            .starts_with("pmconf (run cut short): "),
        "{output}"
    );

    let dir = tempfile::tempdir().unwrap();
    let mut json = JsonReporter::new(dir.path().join("results.json"));
    feed(&mut json, &events);
    json.finish().unwrap();
    let value: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("results.json")).unwrap())
            .unwrap();
    assert_eq!(value["complete"], false);
    assert_eq!(
        value["summary"]["chromium"]["cases_per_second"],
        Value::Null
    );
}

// Race cases: run `--repeat` times, reported with an outcome histogram.

const RACE_CASE: &str = "races/post-then-navigate-same-task-star.yaml";
const RACE_REASON: &str = "window child@1 never loaded </script><b>";

/// `top` posts `m` to `child` and, in the same task, navigates it; then
/// posts `after` to the new document `child@1`. `early` says what `child`
/// got, `late` what `child@1` got.
fn race_outcome(early: &[&str], late: &[&str]) -> Outcome {
    let deliveries = |messages: &[&str]| -> Vec<Delivery> {
        messages
            .iter()
            .map(|m| Delivery {
                message: json!(m),
                origin: "http://a.test:8000".into(),
                source: Some("top".into()),
                ports: Vec::new(),
            })
            .collect()
    };
    Outcome {
        posts: vec![PostOutcome::returned(0), PostOutcome::returned(3)],
        received: vec![
            ("top".into(), vec![]),
            ("child".into(), deliveries(early)),
            ("child@1".into(), deliveries(late)),
        ],
    }
}

/// The model's two outcomes: the old document gets `m` or nothing.
fn race_allowed() -> Vec<Outcome> {
    vec![
        race_outcome(&[], &["after"]),
        race_outcome(&["m"], &["after"]),
    ]
}

/// Chromium: 4 of 5 runs allowed, 1 retargets `m` to the new document (not
/// allowed); the other allowed outcome is never seen.
fn race_diverging() -> CaseResult {
    let allowed = race_allowed();
    let retargeted = race_outcome(&[], &["m", "after"]);
    CaseResult {
        engine: "chromium".into(),
        case: RACE_CASE.into(),
        description: "top posts m to child and navigates it in the same task".into(),
        verdict: Verdict::Diverges,
        observed: Some(retargeted.clone()),
        allowed: allowed.clone(),
        contested: vec![],
        snapshot: SnapshotStatus::Matched,
        duration_ms: 50,
        runs: 5,
        histogram: vec![
            OutcomeCount {
                outcome: allowed[1].clone(),
                count: 4,
                allowed: true,
            },
            OutcomeCount {
                outcome: retargeted,
                count: 1,
                allowed: false,
            },
        ],
        not_seen: vec![allowed[0].clone()],
        unobserved_runs: 0,
        unobserved_reason: None,
        earlier_attempts: vec![],
        kept_pending: None,
    }
}

/// Firefox: 3 runs, all allowed, and 2 that observed nothing.
fn race_unobserved() -> CaseResult {
    let allowed = race_allowed();
    CaseResult {
        engine: "firefox".into(),
        verdict: Verdict::Conforms,
        observed: Some(allowed[1].clone()),
        histogram: vec![OutcomeCount {
            outcome: allowed[1].clone(),
            count: 3,
            allowed: true,
        }],
        unobserved_runs: 2,
        unobserved_reason: Some(RACE_REASON.into()),
        ..race_diverging()
    }
}

/// One race case and one ordinary case in two engines.
fn race_events() -> Vec<RunEvent> {
    let mut events = vec![
        RunEvent::SuiteStart {
            engines: vec!["chromium".into(), "firefox".into()],
            cases: 2,
        },
        RunEvent::EngineStart(EngineInfo {
            engine: "chromium".into(),
            browser_version: "131.0".into(),
        }),
        RunEvent::EngineStart(EngineInfo {
            engine: "firefox".into(),
            browser_version: "128.0".into(),
        }),
    ];
    events.extend(ended(vec![
        race_diverging(),
        result(
            "chromium",
            "messages/a&b.yaml",
            Verdict::Conforms,
            SnapshotStatus::Matched,
        ),
        race_unobserved(),
        result(
            "firefox",
            "messages/a&b.yaml",
            Verdict::Conforms,
            SnapshotStatus::Matched,
        ),
    ]));
    events.push(RunEvent::SuiteEnd { seconds: 3.0 });
    events
}

#[test]
fn terminal_shows_each_race_case_histogram_whatever_its_verdict() {
    let output = terminal_output(&race_events());
    assert_eq!(
        block(&output, "race cases (2):"),
        [
            "race cases (2):",
            &format!("  chromium  {RACE_CASE}: diverges, 5 runs"),
            "    4/5  allowed      child: [m] child@1: [after]",
            "    1/5  NOT ALLOWED  child: [] child@1: [m, after]",
            "    not seen: child: [] child@1: [after]",
            &format!("  firefox  {RACE_CASE}: conforms, 5 runs"),
            "    3/5  allowed      child: [m] child@1: [after]",
            "    not seen: child: [] child@1: [after]",
            "    2/5  observed nothing: window child@1 never loaded </script><b>",
        ]
    );
    // The divergence block says how often its observed outcome came up.
    let diverging = block(
        &output,
        &format!("chromium  {RACE_CASE}  [accepted: snapshot matches]"),
    );
    assert_eq!(
        diverging[2], "  observed in 1 of 5 runs (every outcome under \"race cases\")",
        "{diverging:#?}"
    );
    // The table gains a runs column: 5 + 1 in each engine.
    assert!(output.contains("unexpected  runs  cases/s"), "{output}");
    assert_eq!(table_row(&output, "chromium")[8], "6");
    assert_eq!(table_row(&output, "firefox")[8], "6");
    // Ordinary results have no histogram.
    assert!(!output.contains("a&b.yaml: conforms"), "{output}");
}

#[test]
fn terminal_output_without_race_cases_has_no_histograms_and_no_runs_column() {
    let output = terminal_output(&events());
    assert!(!output.contains("race cases"), "{output}");
    assert!(!output.contains(" runs"), "{output}");
    assert!(
        output.contains("unexpected  cases/s"),
        "no runs column: {output}"
    );
}

#[test]
fn terminal_histogram_names_origins_only_when_they_tell_outcomes_apart() {
    let from = |origin: &str| Outcome {
        posts: vec![PostOutcome::returned(0), PostOutcome::returned(3)],
        received: vec![(
            "child".into(),
            vec![Delivery {
                message: json!("m"),
                origin: origin.into(),
                source: Some("top".into()),
                ports: Vec::new(),
            }],
        )],
    };
    let mut race = race_diverging();
    race.allowed = vec![from("http://a.test:8000")];
    race.histogram = vec![
        OutcomeCount {
            outcome: from("http://a.test:8000"),
            count: 4,
            allowed: true,
        },
        OutcomeCount {
            outcome: from("null"),
            count: 1,
            allowed: false,
        },
    ];
    race.not_seen = vec![];
    race.observed = Some(from("null"));
    let output = terminal_output(&ended(vec![race]));
    let lines = block(&output, "race cases (1):");
    assert_eq!(
        lines[2..],
        [
            "    4/5  allowed      child: [m (http://a.test:8000)]",
            "    1/5  NOT ALLOWED  child: [m (null)]",
        ],
        "{lines:#?}"
    );
}

fn race_html() -> String {
    html_of(&race_events())
}

/// The HTML of the details section with this anchor.
fn detail_section(html: &str, anchor: &str) -> String {
    let start = format!("<section class=\"detail\" id=\"{anchor}\">");
    let section = html
        .split(&start)
        .nth(1)
        .unwrap_or_else(|| panic!("no {start} in:\n{html}"));
    section[..section.find("</section>").unwrap()].to_owned()
}

#[test]
fn html_race_details_show_the_histogram_and_the_outcomes_not_seen() {
    let html = race_html();
    let row = matrix_row(&html, RACE_CASE);
    assert_eq!(
        row[0],
        "<td class=\"x-accepted\"><a href=\"#r0-chromium-races-post-then-navigate-same-task-star-yaml\">diverges (accepted; 5 runs)</a>"
    );
    assert_eq!(
        row[1],
        "<td class=\"x-pass\"><a href=\"#r2-firefox-races-post-then-navigate-same-task-star-yaml\">conforms (5 runs)</a>",
        "a conforming race case has details too"
    );
    assert_eq!(
        matrix_row(&html, "messages/a&amp;b.yaml")[0],
        "<td class=\"x-pass\">conforms"
    );

    let chromium = detail_section(
        &html,
        "r0-chromium-races-post-then-navigate-same-task-star-yaml",
    );
    assert!(
        chromium.contains("<h4>Outcomes over 5 runs</h4>\n<table class=\"histogram\">"),
        "{chromium}"
    );
    assert!(
        chromium.contains(
            "<tr class=\"allowed\"><td><details><summary><code>child: [m] child@1: [after]</code></summary><pre class=\"outcome\">posts:"
        ),
        "{chromium}"
    );
    assert!(
        chromium.contains("</details></td><td class=\"count\">4/5</td><td>allowed</td></tr>"),
        "{chromium}"
    );
    assert!(
        chromium.contains("<code>child: [] child@1: [m, after]</code>"),
        "{chromium}"
    );
    assert!(
        chromium.contains(
            "<td class=\"count\">1/5</td><td><span class=\"unexpected\">NOT ALLOWED</span></td></tr>"
        ),
        "{chromium}"
    );
    assert!(
        chromium.contains(
            "<tr class=\"not-seen\"><td><details><summary><code>child: [] child@1: [after]</code>"
        ),
        "{chromium}"
    );
    assert!(
        chromium.contains("<td class=\"count\">0/5</td><td>allowed, not seen</td></tr>"),
        "{chromium}"
    );
    // The diverging race still gets its diff against the nearest outcome.
    assert!(
        chromium.contains("(the nearest) vs observed</h4>"),
        "{chromium}"
    );

    let firefox = detail_section(
        &html,
        "r2-firefox-races-post-then-navigate-same-task-star-yaml",
    );
    assert!(
        firefox.contains(
            "<tr class=\"unobserved\"><td>observed nothing: window child@1 never loaded &lt;/script&gt;&lt;b&gt;</td><td class=\"count\">2/5</td>"
        ),
        "{firefox}"
    );
    assert!(!html.contains(HOSTILE), "raw {HOSTILE} in the page");
    // The engines table gains a runs column.
    assert!(
        html.contains("<th>unexpected</th><th>runs</th><th>cases/s</th>"),
        "{html}"
    );
    assert!(
        html.contains(
            "<td class=\"count\" data-key=\"unexpected\">0</td><td class=\"count\" data-key=\"runs\">6</td><td class=\"count\" data-key=\"cases_per_second\">-</td></tr>"
        ),
        "{html}"
    );
}

#[test]
fn json_keeps_race_histograms_and_counts_runs() {
    let value = json_of(&race_events());
    assert_eq!(value["summary"]["chromium"]["runs"], 6);
    assert_eq!(value["summary"]["chromium"]["unobserved_runs"], 0);
    assert_eq!(value["summary"]["firefox"]["runs"], 6);
    assert_eq!(value["summary"]["firefox"]["unobserved_runs"], 2);

    let chromium = &value["results"][0];
    assert_eq!(chromium["runs"], 5);
    assert_eq!(chromium["histogram"][0]["count"], 4);
    assert_eq!(chromium["histogram"][0]["allowed"], true);
    assert_eq!(chromium["histogram"][1]["count"], 1);
    assert_eq!(chromium["histogram"][1]["allowed"], false);
    assert_eq!(
        chromium["histogram"][1]["outcome"]["received"]["child@1"][0]["message"],
        "m"
    );
    assert_eq!(
        chromium["not_seen"][0]["received"]["child"],
        json!([]),
        "{chromium}"
    );
    let firefox = &value["results"][2];
    assert_eq!(firefox["unobserved_runs"], 2);
    assert_eq!(firefox["unobserved_reason"], RACE_REASON);
    // Every field reads back.
    let back: CaseResult = serde_json::from_value(chromium.clone()).unwrap();
    assert_eq!(back, race_diverging());
    let back: CaseResult = serde_json::from_value(firefox.clone()).unwrap();
    assert_eq!(back, race_unobserved());
}

/// Chromium, run again: the first attempt saw the retargeting nobody
/// accepted (snapshot changed), the second saw only allowed outcomes.
fn race_flaky() -> CaseResult {
    let allowed = race_allowed();
    let first = race_diverging();
    CaseResult {
        verdict: Verdict::Conforms,
        observed: Some(allowed[1].clone()),
        histogram: vec![OutcomeCount {
            outcome: allowed[1].clone(),
            count: 5,
            allowed: true,
        }],
        earlier_attempts: vec![EarlierAttempt {
            verdict: Verdict::Diverges,
            runs: 5,
            histogram: first.histogram.clone(),
            snapshot: SnapshotStatus::Changed {
                pending: "snapshots/chromium/races__r.snap.new".into(),
                diff: "-verdict: conforms\n+verdict: diverges\n".into(),
            },
        }],
        kept_pending: Some("snapshots/chromium/races__r.snap.new".into()),
        ..first
    }
}

fn flaky_events() -> Vec<RunEvent> {
    let mut events = vec![
        RunEvent::SuiteStart {
            engines: vec!["chromium".into()],
            cases: 1,
        },
        RunEvent::EngineStart(EngineInfo {
            engine: "chromium".into(),
            browser_version: "131.0".into(),
        }),
    ];
    events.extend(ended(vec![race_flaky()]));
    events.push(RunEvent::EngineEnd {
        engine: "chromium".into(),
        cases: 10,
        seconds: 2.0,
    });
    events.push(RunEvent::SuiteEnd { seconds: 2.0 });
    events
}

#[test]
fn a_flaky_result_passes_but_every_report_shows_its_earlier_attempt() {
    let output = terminal_output(&flaky_events());
    assert_eq!(
        block(&output, "flaky: "),
        [
            "flaky: unexpected at first, as expected when run again (1):",
            &format!("  chromium  {RACE_CASE}: 2 attempts, the last as expected"),
            "    attempt 1: diverges, 5 runs, snapshot changed",
            "      4/5  allowed      child: [m] child@1: [after]",
            "      1/5  NOT ALLOWED  child: [] child@1: [m, after]",
            "    pending snapshot kept for review: snapshots/chromium/races__r.snap.new",
        ]
    );
    let last = output.lines().last().unwrap();
    assert!(
        last.contains("flaky: 1 (as expected only when run again)"),
        "{last}"
    );
    assert!(
        last.ends_with("=> ok"),
        "a flaky result does not fail the run: {last}"
    );
    // Every run counts, the earlier attempt's too.
    assert_eq!(table_row(&output, "chromium")[8], "10");

    let value = json_of(&flaky_events());
    assert_eq!(value["summary"]["chromium"]["flaky"], 1);
    assert_eq!(value["summary"]["chromium"]["unexpected"], 0);
    assert_eq!(value["summary"]["chromium"]["runs"], 10);
    let attempt = &value["results"][0]["earlier_attempts"][0];
    assert_eq!(attempt["verdict"], "diverges");
    assert_eq!(attempt["snapshot"]["status"], "changed");
    assert_eq!(attempt["histogram"][1]["allowed"], false);
    let back: CaseResult = serde_json::from_value(value["results"][0].clone()).unwrap();
    assert_eq!(back, race_flaky());

    let page = html_of(&flaky_events());
    assert!(
        page.contains("conforms (flaky; 5 runs)"),
        "the matrix cell says so"
    );
    assert!(page.contains("<h4>Run again: 2 attempts, the last as expected (flaky)</h4>"));
    assert!(page.contains("<h4>Attempt 1: diverges, snapshot changed</h4>"));
    assert!(page.contains("<pre class=\"snapshot-diff\">-verdict: conforms"));
    assert!(page.contains("kept for review: <code>snapshots/chromium/races__r.snap.new</code>"));
    assert!(
        page.contains("<p class=\"verdict pass\">"),
        "the page passes"
    );
}

#[test]
fn a_result_unexpected_in_every_attempt_fails_and_says_how_often_it_ran() {
    let changed = SnapshotStatus::Changed {
        pending: "snapshots/chromium/races__r.snap.new".into(),
        diff: "-verdict: conforms\n+verdict: diverges\n".into(),
    };
    let last = CaseResult {
        verdict: Verdict::Diverges,
        snapshot: changed,
        kept_pending: None,
        ..race_flaky()
    };
    assert!(last.is_unexpected() && !last.is_flaky());
    let mut events = flaky_events();
    for e in &mut events {
        if let RunEvent::CaseEnd(r) = e {
            *r = last.clone();
        }
    }
    let output = terminal_output(&events);
    assert!(!output.contains("flaky: unexpected at first"), "{output}");
    assert_eq!(
        block(&output, "pending snapshots (1):")[1],
        format!(
            "  chromium  {RACE_CASE}: snapshot changed in each of 2 attempts, pending: snapshots/chromium/races__r.snap.new"
        )
    );
    let verdict = output.lines().last().unwrap();
    assert!(verdict.ends_with("=> FAILED (1 unexpected)"), "{output}");
}

/// Firefox runs a race case 5 times: 3 allowed outcomes, 2 that the model
/// holds contested (whatwg/html#3267).
fn race_contested() -> Vec<RunEvent> {
    let allowed = race_allowed();
    let reused = race_outcome(&[], &["m", "after"]);
    let mut result = CaseResult::bare(
        "firefox",
        RACE_CASE,
        Verdict::Contested,
        SnapshotStatus::Matched,
    );
    result.runs = 5;
    result.observed = Some(reused.clone());
    result.allowed = allowed.clone();
    result.contested = vec![ContestedOutcome::new(
        reused.clone(),
        SpecIssue::WindowReuse.bit(),
        vec![],
    )];
    result.histogram = vec![
        OutcomeCount {
            outcome: allowed[1].clone(),
            count: 3,
            allowed: true,
        },
        OutcomeCount {
            outcome: reused,
            count: 2,
            allowed: false,
        },
    ];
    one_engine_run("firefox", "128.0", result, 1.0)
}

/// A whole run of one engine that ran one case in `seconds`.
fn one_engine_run(engine: &str, version: &str, result: CaseResult, seconds: f64) -> Vec<RunEvent> {
    let mut events = vec![
        RunEvent::SuiteStart {
            engines: vec![engine.into()],
            cases: 1,
        },
        RunEvent::EngineStart(EngineInfo {
            engine: engine.into(),
            browser_version: version.into(),
        }),
    ];
    events.extend(ended(vec![result]));
    events.push(RunEvent::EngineEnd {
        engine: engine.into(),
        cases: 1,
        seconds,
    });
    events.push(RunEvent::SuiteEnd { seconds: 1.0 });
    events
}

#[test]
fn every_report_shows_a_contested_result_apart_with_its_issue() {
    let events = race_contested();
    let issue = "https://github.com/whatwg/html/issues/3267";
    // Terminal: its own section, no divergence block, the run passes.
    let text = terminal_output(&events);
    let section = block(&text, "contested (1)");
    assert!(section.iter().any(|l| l.contains(RACE_CASE)), "{text}");
    assert!(section.iter().any(|l| l.contains(issue)), "{text}");
    assert!(!text.contains("divergences ("), "{text}");
    // Counted as a case of the engine, and named in the verdict line.
    assert!(text.contains("firefox: 1 case ("), "{text}");
    let verdict = text.lines().last().unwrap();
    assert!(verdict.contains("; contested: 1"), "{verdict}");
    assert!(verdict.ends_with("=> ok"), "{verdict}");
    // JSON: counted apart; the result carries the contested outcomes.
    let dir = tempfile::tempdir().unwrap();
    let json_path = dir.path().join("results.json");
    let mut json_reporter = JsonReporter::new(&json_path);
    feed(&mut json_reporter, &events);
    json_reporter.finish().unwrap();
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
    assert_eq!(value["summary"]["firefox"]["contested"], 1);
    assert_eq!(value["summary"]["firefox"]["diverges"], 0);
    assert_eq!(value["results"][0]["verdict"], "contested");
    assert_eq!(value["results"][0]["contested"][0]["issues"][0], issue);
    // wptreport: not a failure, the message names the issue.
    let mut wpt = WptReportReporter::new(dir.path().join("wptreport-{engine}.json"));
    feed(&mut wpt, &events);
    wpt.finish().unwrap();
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("wptreport-firefox.json")).unwrap(),
    )
    .unwrap();
    let subtest = &report["results"][0]["subtests"][0];
    assert_eq!(subtest["status"], "PASS");
    assert!(
        subtest["message"]
            .as_str()
            .unwrap()
            .starts_with(&format!("contested: {issue}")),
        "{subtest}"
    );
    // HTML: a Contested section linking the issue.
    let html_path = dir.path().join("report.html");
    let mut html = HtmlReporter::new(&html_path);
    feed(&mut html, &events);
    html.finish().unwrap();
    let page = std::fs::read_to_string(&html_path).unwrap();
    assert!(page.contains("<h2>Contested</h2>"), "{page}");
    assert!(page.contains(&format!("<a href=\"{issue}\">")), "{page}");
}

// What a first-time reader needs: the run's header, what needs action
// first, colours by expectation, a stable order, each post's call.

/// The byte offset of `needle` in `page`, or a panic naming it.
fn at(page: &str, needle: &str) -> usize {
    page.find(needle)
        .unwrap_or_else(|| panic!("no {needle:?} in:\n{page}"))
}

/// The HTML between `start` and the next `end` after it.
fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = at(page, start);
    let rest = &page[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// Every `data-case` value in `html`, in order.
fn data_cases(html: &str) -> Vec<String> {
    html.split("data-case=\"")
        .skip(1)
        .map(|s| s[..s.find('"').unwrap()].to_owned())
        .collect()
}

#[test]
fn html_leads_with_the_run_header_then_what_needs_action() {
    let html = html_page();
    // Header, verdict, needs action, and only then the tables.
    let order = [
        at(&html, "<dl class=\"run-info\""),
        at(&html, "<p class=\"verdict fail\">"),
        at(
            &html,
            "<section class=\"needs-action\" id=\"needs-action\">",
        ),
        at(&html, "<h2>Engines</h2>"),
        at(&html, "<h2>Results</h2>"),
        at(&html, "<h2>Details</h2>"),
    ];
    assert!(order.windows(2).all(|w| w[0] < w[1]), "{order:?}");
    let header = between(&html, "<dl class=\"run-info\"", "</dl>");
    for expected in [
        "<dt>started</dt><dd data-key=\"started\">2026-11-29 07:35:11 UTC</dd>",
        "<dt>ended</dt><dd data-key=\"ended\">2026-11-29 07:35:18 UTC (7.5 s)</dd>",
        "<dd data-key=\"pmconf\">0.1.0, revision 7fb15fb-dirty (<code>git describe --always --dirty</code> at run time in /src/pmconf)</dd>",
        "<dd data-key=\"command\"><code>pmconf run cases/ --html &#39;out dir/r.html&#39;</code></dd>",
        "<dd data-key=\"engines\">chromium 131.0.6778.85, firefox 128.0, webkitgtk (setup failed)</dd>",
    ] {
        assert!(header.contains(expected), "{expected} not in {header}");
    }

    let section = between(&html, "<section class=\"needs-action\"", "</section>");
    assert!(section.contains("<h2>Needs action (5)</h2>"), "{section}");
    // The engine that failed to start, then each result that fails the
    // run, by case path: not the known divergence, not the passes.
    assert!(
        at(section, "data-engine=\"webkitgtk\"") < at(section, "data-case="),
        "{section}"
    );
    assert_eq!(
        data_cases(section),
        [
            "exceptions/data-clone-error-symbol.yaml",
            "messages/special-values.yaml",
            "target-origin/star.yaml",
            "topology/nested.yaml",
        ]
    );
    assert!(section.contains("<td>conforms, new snapshot (review it)</td>"));
    assert!(section.contains("<td>diverges, snapshot changed</td>"));
    assert!(section.contains(&format!("pending: {CHANGED_PENDING}")));
    assert!(section.contains("window child never loaded"));
    assert!(
        !section.contains(KNOWN_CASE),
        "a known divergence is no action"
    );
}

#[test]
fn html_says_so_when_nothing_needs_action_and_header_fields_were_not_recorded() {
    let known = chromium_results().into_iter().nth(1).unwrap();
    let mut events = vec![RunEvent::SuiteStart {
        engines: vec!["chromium".into()],
        cases: 1,
    }];
    events.extend(ended(vec![known]));
    events.push(RunEvent::SuiteEnd { seconds: 1.0 });
    let html = html_of(&events);
    assert!(html.contains("<h2>Needs action (0)</h2>\n<p class=\"all-clear\">Nothing needs action"));
    assert!(html.contains("<dd data-key=\"started\">not recorded</dd>"));
    assert!(html.contains("<dd data-key=\"engines\">chromium (did not start)</dd>"));
}

/// Firefox's one result: it conforms now, but its accepted snapshot said
/// it diverged.
fn conforming_but_changed() -> CaseResult {
    result(
        "firefox",
        CHANGED_CASE,
        Verdict::Conforms,
        SnapshotStatus::Changed {
            pending: "snapshots/firefox/target-origin__star.snap.new".into(),
            diff: "-verdict: diverges\n+verdict: conforms\n".into(),
        },
    )
}

#[test]
fn a_conforming_result_whose_snapshot_changed_needs_action_and_looks_nothing_like_a_pass() {
    let mut events = vec![
        run_info(case_infos()),
        RunEvent::SuiteStart {
            engines: vec!["firefox".into()],
            cases: 2,
        },
    ];
    events.extend(ended(vec![
        result(
            "firefox",
            "messages/a&b.yaml",
            Verdict::Conforms,
            SnapshotStatus::Matched,
        ),
        conforming_but_changed(),
    ]));
    events.push(RunEvent::SuiteEnd { seconds: 1.0 });
    let html = html_of(&events);
    let section = between(&html, "<section class=\"needs-action\"", "</section>");
    assert_eq!(data_cases(section), [CHANGED_CASE]);
    assert!(
        section.contains("<td>conforms, snapshot changed</td>"),
        "{section}"
    );
    let cell = &matrix_row(&html, CHANGED_CASE)[0];
    assert!(
        cell.starts_with("<td class=\"x-action a-changed\">"),
        "{cell}"
    );
    let pass = &matrix_row(&html, "messages/a&amp;b.yaml")[0];
    assert_eq!(pass, "<td class=\"x-pass\">conforms");
    // The two colours differ in the stylesheet itself.
    let css = |class: &str| {
        let rule = between(&html, &format!("\n.{class} {{"), "}");
        rule[rule.find("background").expect("a background")..].to_owned()
    };
    assert_ne!(css("x-action"), css("x-pass"));
    assert_ne!(css("x-accepted"), css("x-action"));

    let output = terminal_output(&events);
    assert!(
        output.contains(&format!(
            "UNEXPECTED firefox {CHANGED_CASE}: conforms, snapshot changed"
        )),
        "{output}"
    );
    assert_eq!(
        block(&output, "needs action (1):"),
        [
            "needs action (1):",
            &format!("  firefox  {CHANGED_CASE}: conforms, snapshot changed"),
        ]
    );
}

/// The `<h3>` of each details section, in page order.
fn detail_headings(html: &str) -> Vec<String> {
    html.split("<section class=\"detail\"")
        .skip(1)
        .map(|s| {
            between(s, "<h3>", " <span")
                .trim_start_matches("<h3>")
                .to_owned()
        })
        .collect()
}

#[test]
fn details_come_needs_action_first_then_by_case_and_engine_whatever_finished_first() {
    let html = html_page();
    let expected = [
        "chromium — exceptions/data-clone-error-symbol.yaml",
        "chromium — messages/special-values.yaml",
        "chromium — target-origin/star.yaml",
        "chromium — topology/nested.yaml",
        "chromium — opaque/data-frame-sender.yaml",
        "firefox — target-origin/star.yaml",
    ];
    assert_eq!(detail_headings(&html), expected);
    // Firefox finishing first, its results in another order: the same
    // sections in the same order.
    let mut events = events();
    let (firefox, rest): (Vec<RunEvent>, Vec<RunEvent>) = events
        .drain(..)
        .partition(|e| matches!(e, RunEvent::CaseEnd(r) if r.engine == "firefox"));
    let cut = rest
        .iter()
        .position(|e| matches!(e, RunEvent::CaseEnd(_)))
        .unwrap();
    let mut reordered = rest[..cut].to_vec();
    reordered.extend(firefox.into_iter().rev());
    reordered.extend(rest[cut..].iter().cloned());
    let again = html_of(&reordered);
    assert_eq!(detail_headings(&again), expected);
}

#[test]
fn diffs_show_each_post_call_beside_its_outcome_in_html_and_terminal() {
    // The engine threw where the model allows the call to return.
    let threw_instead = CaseResult {
        observed: Some(threw()),
        allowed: vec![delivered("http://b.test:8000", json!("hi"))],
        ..result(
            "chromium",
            KNOWN_CASE,
            Verdict::Diverges,
            SnapshotStatus::Changed {
                pending: "p.snap.new".into(),
                diff: " posts:\n-  - step: 0\n+  - step: 0\n+    threw: SyntaxError\n".into(),
            },
        )
    };
    let mut events = vec![
        run_info(case_infos()),
        RunEvent::SuiteStart {
            engines: vec!["chromium".into()],
            cases: 1,
        },
    ];
    events.extend(ended(vec![threw_instead]));
    events.push(RunEvent::SuiteEnd { seconds: 1.0 });
    let call = "post top→child, message \"hi\", target_origin \"http://b.test:8000\"";

    let output = terminal_output(&events);
    assert!(
        output.contains(&format!("\n    -   step 0 ({call}) returned\n")),
        "{output}"
    );
    assert!(
        output.contains(&format!("\n    +   step 0 ({call}) threw: SyntaxError\n")),
        "{output}"
    );
    assert!(
        output.contains(&format!("\n    -  - step: 0  # {call}\n")),
        "the snapshot diff names the call too: {output}"
    );

    let html = html_of(&events);
    let escaped = call.replace('"', "&quot;");
    assert!(
        html.contains(&format!(
            "<span class=\"del\">-   step 0 ({escaped}) returned</span>"
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "<span class=\"ins\">+   step 0 ({escaped}) threw: SyntaxError</span>"
        )),
        "{html}"
    );
    assert!(
        html.contains(&format!("-  - step: 0  # {escaped}\n")),
        "{html}"
    );
}

#[test]
fn references_and_the_case_file_are_links() {
    let html = html_page();
    let known = detail_section(&html, "r1-chromium-opaque-data-frame-sender-yaml");
    assert!(
        known.contains(&format!(
            "Case file: <a href=\"file://{KNOWN_FILE}\">{KNOWN_FILE}</a>"
        )),
        "{known}"
    );
    assert!(
        known.contains(&format!("<li><a href=\"{SPEC_LINK}\">{SPEC_LINK}</a></li>")),
        "{known}"
    );
    // Not a URL: shown, escaped, not linked.
    assert!(
        known.contains("<li>whatwg/html#1234 &lt;/script&gt;&lt;b&gt;</li>"),
        "{known}"
    );
    // A case without references or a resolved file shows neither.
    let changed = detail_section(&html, "r2-chromium-target-origin-star-yaml");
    assert!(!changed.contains("Case file:") && !changed.contains("References:"));
}

#[test]
fn counts_of_one_read_in_the_singular() {
    // An ordinary case run again once: one run per attempt.
    let retried = CaseResult {
        earlier_attempts: vec![EarlierAttempt {
            verdict: Verdict::Diverges,
            runs: 1,
            histogram: vec![],
            snapshot: SnapshotStatus::Changed {
                pending: "p".into(),
                diff: "d".into(),
            },
        }],
        ..result(
            "chromium",
            "messages/a&b.yaml",
            Verdict::Conforms,
            SnapshotStatus::Matched,
        )
    };
    let events = vec![
        RunEvent::SuiteStart {
            engines: vec!["chromium".into()],
            cases: 1,
        },
        RunEvent::CaseEnd(retried),
        RunEvent::EngineEnd {
            engine: "chromium".into(),
            cases: 2,
            seconds: 1.0,
        },
        RunEvent::SuiteEnd { seconds: 1.0 },
    ];
    let output = terminal_output(&events);
    assert!(
        output.contains("    attempt 1: diverges, 1 run, snapshot changed"),
        "{output}"
    );
    assert!(
        output.contains("chromium: 1 case (2 runs) in 1.0 s (1.00 cases/s)"),
        "{output}"
    );
    let html = html_of(&events);
    assert!(html.contains("<h4>Outcomes over 1 run</h4>"), "{html}");
    assert!(!html.contains(" 1 runs"), "{html}");
}

#[test]
fn cases_per_second_counts_cases_not_repeats_or_retries() {
    // One race case, 5 runs, run again once: 10 runs, 1 case, 2 s.
    let output = terminal_output(&flaky_events());
    assert!(
        output.contains("\nchromium: 1 case (10 runs) in 2.0 s (0.50 cases/s)\n"),
        "{output}"
    );
    assert_eq!(table_row(&output, "chromium").last().unwrap(), "0.50");
    let value = json_of(&flaky_events());
    assert_eq!(value["summary"]["chromium"]["cases_per_second"], 0.5);
    assert_eq!(value["summary"]["chromium"]["runs"], 10);
}

#[test]
fn plain_progress_labels_every_line_when_engines_interleave() {
    let mut events = vec![RunEvent::SuiteStart {
        engines: vec!["chromium".into(), "firefox".into()],
        cases: 20,
    }];
    for i in 0..20 {
        for engine in ["firefox", "chromium"] {
            events.push(RunEvent::CaseEnd(result(
                engine,
                &format!("c{i:02}.yaml"),
                Verdict::Conforms,
                SnapshotStatus::Matched,
            )));
        }
    }
    let mut reporter = TerminalReporter::new(Vec::new(), false);
    feed(&mut reporter, &events);
    let output = String::from_utf8(reporter.into_inner()).unwrap();
    let lines: Vec<&str> = output.lines().collect();
    // A line per engine per tenth of its cases, each labelled.
    assert_eq!(lines.len(), 20, "{output}");
    assert!(
        lines
            .iter()
            .all(|l| l.starts_with("chromium: ") || l.starts_with("firefox: ")),
        "{output}"
    );
    assert_eq!(lines[0], "firefox: 2/20 cases, 0 unexpected");
    assert_eq!(lines[19], "chromium: 20/20 cases, 0 unexpected");
    assert!(!output.contains(".."), "no unlabelled progress dots");
}

#[test]
fn results_json_carries_what_the_header_needs() {
    let value = json_of(&events());
    let run = &value["run"];
    assert_eq!(run["started_at"], "2026-11-29 07:35:11 UTC");
    assert_eq!(run["ended_at"], "2026-11-29 07:35:18 UTC");
    assert_eq!(run["seconds"], 7.5);
    assert_eq!(run["started_unix_ms"], STARTED_UNIX_MS);
    assert_eq!(run["revision"], "7fb15fb-dirty");
    assert!(run["revision_source"]
        .as_str()
        .unwrap()
        .contains("at run time"));
    assert_eq!(run["command_line"][4], "out dir/r.html");
    assert_eq!(value["engines"][0]["browser_version"], "131.0.6778.85");
    let known = &value["cases"][0];
    assert_eq!(known["case"], KNOWN_CASE);
    assert_eq!(known["file"], KNOWN_FILE);
    assert_eq!(known["references"][0], SPEC_LINK);
    assert_eq!(
        known["posts"][0],
        json!({"step": 0, "from": "top", "to": "child",
               "target_origin": "http://b.test:8000", "message": "hi"})
    );
    // The run info reads back, so a report can be drawn from the file.
    let back: Vec<CaseInfo> = serde_json::from_value(value["cases"].clone()).unwrap();
    assert_eq!(back, case_infos());
}

/// A run in which chromium's session died, was replaced, and one case's
/// batch killed the new session too.
fn crashed_events() -> Vec<RunEvent> {
    let crashed = CaseResult::bare(
        "chromium",
        "messages/hello.yaml",
        Verdict::Crashed {
            reason: "the chromium session died under this case's batch twice; last: the \
                     browser process (PID 42) is gone\nlast lines of the driver's log:\n\
                     [SEVERE]: Unable to receive message from renderer"
                .into(),
        },
        SnapshotStatus::NotCompared,
    );
    vec![
        RunEvent::SuiteStart {
            engines: vec!["chromium".into()],
            cases: 2,
        },
        RunEvent::EngineStart(EngineInfo {
            engine: "chromium".into(),
            browser_version: "131.0".into(),
        }),
        RunEvent::CaseEnd(CaseResult::bare(
            "chromium",
            "messages/first.yaml",
            Verdict::Conforms,
            SnapshotStatus::Matched,
        )),
        RunEvent::EngineRestart {
            engine: "chromium".into(),
            reason: "session 1 died: the browser process (PID 42) is gone; starting a new one"
                .into(),
            given_up: false,
        },
        RunEvent::CaseEnd(crashed),
        RunEvent::EngineEnd {
            engine: "chromium".into(),
            cases: 2,
            seconds: 1.0,
        },
        RunEvent::SuiteEnd { seconds: 1.0 },
    ]
}

#[test]
fn a_crashed_case_shows_in_every_report_with_the_driver_log() {
    let events = crashed_events();
    let text = terminal_output(&events);
    assert!(
        text.contains("chromium: session 1 died: the browser process (PID 42) is gone"),
        "{text}"
    );
    assert!(
        text.contains(
            "UNEXPECTED chromium messages/hello.yaml: crashed (the chromium session died"
        ),
        "{text}"
    );
    let section = block(&text, "crashed (1):");
    assert!(
        section
            .iter()
            .any(|l| l.trim() == "[SEVERE]: Unable to receive message from renderer"),
        "{section:?}"
    );
    let verdict = text.lines().last().unwrap();
    assert!(verdict.contains("; crashed: 1"), "{verdict}");
    assert!(verdict.ends_with("=> FAILED (1 unexpected)"), "{verdict}");

    let record = pmconf::report::RunRecord::from_events(&events);
    let json = pmconf::report::results_json(&record).unwrap();
    assert_eq!(json["summary"]["chromium"]["crashed"], 1);
    assert_eq!(json["summary"]["chromium"]["unexpected"], 1);
    assert_eq!(json["results"][1]["verdict"], "crashed");
    assert!(json["results"][1]["reason"]
        .as_str()
        .unwrap()
        .ends_with("renderer"));

    let wpt =
        pmconf::report::wptreport_json(&record, "chromium", &pmconf::report::WptRunInfo::default());
    assert_eq!(wpt["results"][1]["status"], "CRASH");
    assert_eq!(wpt["results"][1]["subtests"], json!([]));
    assert!(wpt["results"][1]["message"]
        .as_str()
        .unwrap()
        .contains("driver's log"));

    let html = pmconf::report::render_html(&record);
    // A crashed result needs action: its cell is coloured so, and it is
    // listed first, under "Needs action".
    assert!(html.contains("x-action a-crashed"), "{html}");
    let needs = &html[html
        .find("id=\"needs-action\"")
        .expect("a needs-action section")..];
    assert!(
        needs[..needs.find("</section>").unwrap()].contains("messages/hello.yaml"),
        "{html}"
    );
    assert!(html.contains("Unable to receive message from renderer"));
}

/// Whether `text` holds the word `known` (not `unknown`).
fn says_known(text: &str) -> bool {
    text.match_indices("known").any(|(i, _)| {
        let before = text[..i].chars().next_back();
        !before.is_some_and(|c| c.is_ascii_alphabetic())
    })
}

/// Issue 27 item 3: a divergence whose snapshot was accepted is *accepted*
/// in every report of the run (terminal, HTML, JSON, JUnit, wptreport);
/// *known* is left for divergences `known-divergences.yaml` links to a
/// filed bug. On main the verdict line said `diverge (known: 1)`, the
/// results file `known_divergences`, the HTML `known`, and JUnit called
/// an accepted divergence with no bug link "known divergence".
#[test]
fn an_accepted_divergence_is_called_accepted_in_every_report() {
    let diverging = result(
        "chromium",
        KNOWN_CASE,
        Verdict::Diverges,
        SnapshotStatus::Matched,
    );
    let events = one_engine_run("chromium", "131.0", diverging, 2.0);

    let terminal = terminal_output(&events);
    assert!(terminal.contains("1 diverge (accepted: 1)"), "{terminal}");
    assert!(
        terminal.contains("[accepted: snapshot matches]"),
        "{terminal}"
    );
    let heading: Vec<&str> = terminal
        .lines()
        .find(|l| l.starts_with("engine "))
        .expect("a summary table")
        .split_whitespace()
        .collect();
    assert_eq!(heading[4], "accepted", "{terminal}");
    assert!(!says_known(&terminal), "{terminal}");

    let json = json_of(&events);
    assert_eq!(json["summary"]["chromium"]["accepted_divergences"], 1);
    assert!(
        json["summary"]["chromium"]
            .get("known_divergences")
            .is_none(),
        "{json:#}"
    );

    let html = html_of(&events);
    assert!(
        html.contains("<th>accepted</th>") && html.contains("data-key=\"accepted_divergences\">1<"),
        "{html}"
    );
    assert!(html.contains(">diverges (accepted)</a>"), "{html}");
    assert!(
        html.contains("accepted divergence: diverges, as its accepted snapshot says"),
        "{html}"
    );
    assert!(!says_known(&html), "{html}");

    let dir = tempfile::tempdir().unwrap();
    let mut wpt = WptReportReporter::new(dir.path().join("wpt-{engine}.json"));
    feed(&mut wpt, &events);
    wpt.finish().unwrap();
    let report = std::fs::read_to_string(dir.path().join("wpt-chromium.json")).unwrap();
    assert!(
        report.contains("(accepted: snapshot matches)") && !says_known(&report),
        "{report}"
    );

    // JUnit: accepted without a bug link, known with one.
    let junit = |known: pmconf::known::KnownDivergences| {
        let path = dir.path().join("junit.xml");
        let mut reporter = pmconf::report::JunitReporter::new(&path, known);
        feed(&mut reporter, &events);
        reporter.finish().unwrap();
        std::fs::read_to_string(&path).unwrap()
    };
    let plain = junit(Default::default());
    assert!(
        plain.contains("<skipped message=\"accepted divergence (its snapshot is accepted; no bug link in known-divergences.yaml)\""),
        "{plain}"
    );
    let filed = junit(
        pmconf::known::KnownDivergences::parse(
            Path::new("known-divergences.yaml"),
            &format!("- {{engine: chromium, case: {KNOWN_CASE}, bug: 'https://bugs.example/1'}}\n"),
        )
        .unwrap(),
    );
    assert!(
        filed.contains("<skipped message=\"known divergence: bug https://bugs.example/1\""),
        "{filed}"
    );
}

/// Issue 27 item 6: the terminal names the report files the run wrote,
/// just above the verdict, which stays the last line. On main the paths
/// were never printed (and the end was written at `SuiteEnd`, before the
/// files existed).
#[test]
fn the_terminal_lists_the_reports_written_just_above_the_verdict() {
    let mut reporter = TerminalReporter::new(Vec::new(), false);
    feed(&mut reporter, &events());
    reporter.reports_written(vec![
        "target/pmconf/results.json".into(),
        "out/report.html".into(),
    ]);
    reporter.finish().unwrap();
    let output = String::from_utf8(reporter.into_inner()).unwrap();
    let lines: Vec<&str> = output.lines().collect();
    let n = lines.len();
    assert!(lines[n - 1].starts_with("pmconf: "), "{output}");
    assert_eq!(
        lines[n - 5..n - 1],
        [
            "reports written:",
            "  target/pmconf/results.json",
            "  out/report.html",
            "",
        ],
        "{output}"
    );
}

/// Issue 27 item 9: the HTML header shows commands as code, never as
/// literal backticks (the revision source is "`git describe ...` at run
/// time"), and neither does the needs-action box's advice. On main the
/// header read `` `git describe --always --dirty` `` with its backticks.
#[test]
fn html_header_and_needs_action_have_no_literal_backticks() {
    let html = html_page();
    let header = between(&html, "<dl class=\"run-info\"", "</dl>");
    assert!(
        header.contains("<code>git describe --always --dirty</code> at run time in /src/pmconf"),
        "{header}"
    );
    assert!(!header.contains('`'), "{header}");
    let needs = between(&html, "<section class=\"needs-action", "</section>");
    assert!(needs.contains("<code>pmconf review</code>"), "{needs}");
    assert!(!needs.contains('`'), "{needs}");
}

/// Issue 27 item 9: an empty needs-action box is not red. On main it kept
/// its red border and heading with "Nothing needs action" inside.
#[test]
fn an_empty_needs_action_box_is_not_red() {
    let clean = one_engine_run(
        "chromium",
        "131.0",
        result(
            "chromium",
            "a.yaml",
            Verdict::Conforms,
            SnapshotStatus::Matched,
        ),
        1.0,
    );
    let html = html_of(&clean);
    assert!(
        html.contains("<section class=\"needs-action all-clear\" id=\"needs-action\">\n<h2>Needs action (0)</h2>"),
        "{html}"
    );
    let css = STYLE_CSS;
    let rule = |selector: &str| {
        css.lines()
            .find(|l| l.starts_with(&format!("{selector} {{")))
            .unwrap_or_else(|| panic!("no rule for {selector}"))
            .to_owned()
    };
    let red = "#b00020";
    assert!(rule("section.needs-action").contains(red));
    assert!(!rule("section.needs-action.all-clear").contains(red));
    assert!(rule("section.needs-action.all-clear").contains("border-color"));
    assert!(!rule("section.needs-action.all-clear h2").contains(red));
    let html = html_page();
    assert!(
        html.contains("<section class=\"needs-action\" id=\"needs-action\">"),
        "a run that needs action keeps its red box"
    );
}

const STYLE_CSS: &str = include_str!("../src/report/html/style.css");

/// Issue 27 item 9: every colour a matrix cell can take has a legend
/// entry: each `.x-*` rule of the stylesheet that sets a background is
/// the class list of a swatch. On main the legend had no entry for the
/// orange of a new snapshot, the blue of a contested result or the grey
/// of a cell not run.
#[test]
fn the_legend_has_an_entry_for_every_colour() {
    let html = html_page();
    let legend = between(&html, "<ul class=\"legend\">", "</ul>");
    // Each colour rule as its class set: `.x-action.a-new` -> {x-action, a-new}.
    let rules: Vec<Vec<&str>> = STYLE_CSS
        .lines()
        .filter(|l| l.contains("background"))
        .filter_map(|l| l.split(" {").next())
        .filter(|sel| sel.starts_with(".x-") && !sel.contains([' ', ',']))
        .map(|sel| sel.trim_start_matches('.').split('.').collect())
        .collect();
    let swatches: Vec<Vec<&str>> = legend
        .split("<span class=\"swatch ")
        .skip(1)
        .map(|rest| rest.split('"').next().unwrap().split(' ').collect())
        .collect();
    let within = |a: &[&str], b: &[&str]| a.iter().all(|c| b.contains(c));
    for rule in &rules {
        // A swatch this rule colours, and no more specific rule does.
        let shown = swatches.iter().any(|w| {
            within(rule, w)
                && !rules.iter().any(|other| {
                    other.len() > rule.len() && within(rule, other) && within(other, w)
                })
        });
        assert!(
            shown,
            "no legend entry in the colour of .{}: {legend}",
            rule.join(".")
        );
    }
    assert_eq!(rules.len(), 7, "{STYLE_CSS}");
}

/// Issue 27 item 5: each engine instance's binaries, arguments and
/// `compare_with` are in results.json (`run.instances`), in the HTML
/// header, and printed by the terminal before the run. On main no report
/// said which binaries or arguments an instance ran with.
#[test]
fn every_report_records_each_instance_with_its_binaries_and_arguments() {
    let mut events = events();
    let RunEvent::RunInfo(info) = &mut events[0] else {
        panic!("RunInfo comes first")
    };
    info.instances = vec![InstanceInfo {
        name: "chromium-flags".into(),
        kind: "chromium".into(),
        location: "local".into(),
        browser: Some("/usr/bin/chromium".into()),
        driver: Some("/usr/bin/chromedriver".into()),
        args: vec!["--enable-features=Foo".into(), "--x=a b".into()],
        compare_with: Some("chromium".into()),
    }];
    let json = json_of(&events);
    assert_eq!(
        json["run"]["instances"],
        json!([{"name": "chromium-flags", "kind": "chromium", "location": "local",
                "browser": "/usr/bin/chromium", "driver": "/usr/bin/chromedriver",
                "args": ["--enable-features=Foo", "--x=a b"], "compare_with": "chromium"}])
    );
    let want = "chromium-flags (chromium): browser /usr/bin/chromium, driver /usr/bin/chromedriver, \
                args --enable-features=Foo &#39;--x=a b&#39;, compared with chromium&#39;s accepted snapshots";
    let html = html_of(&events);
    let header = between(&html, "<dl class=\"run-info\"", "</dl>");
    assert!(
        header.contains(&format!(
            "<dt>instance</dt><dd data-key=\"instance\">{want}</dd>"
        )),
        "{header}"
    );
    let terminal = terminal_output(&events);
    assert!(
        terminal.starts_with(
            "engine chromium-flags (chromium): browser /usr/bin/chromium, driver /usr/bin/chromedriver, args --enable-features=Foo '--x=a b', compared with chromium's accepted snapshots\n"
        ),
        "{terminal}"
    );
}
