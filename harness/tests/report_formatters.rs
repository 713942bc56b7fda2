//! The reporters fed synthetic runs, each formatter's whole output
//! (terminal, results JSON, HTML, JUnit, wptreport) kept as an insta
//! snapshot under `tests/snapshots/`: one run with every verdict and
//! snapshot status (two engines that ran, one that failed setup), and
//! smaller runs for race histograms, flaky and contested results, crashes,
//! a run cut short, and what a first-time reader needs. Review a changed
//! output with `cargo insta review` (CI never accepts: `INSTA_UPDATE=no`).
//!
//! What a snapshot cannot show well stays an assertion: hostile text
//! escaped, files written all or nothing (never into a missing
//! directory), colours only when asked, results that read back, an order
//! that does not depend on which engine finished first, a legend entry for
//! every colour of the stylesheet.

use pmconf::known::KnownDivergences;
use pmconf::report::{
    HtmlReporter, JsonReporter, JunitReporter, MultiReporter, TerminalReporter, WptReportReporter,
};
use pmconf::run::events::{
    CaseResult, EarlierAttempt, EngineInfo, OutcomeCount, Reporter, RunEvent, SnapshotStatus,
};
use pmconf::run::info::{CaseInfo, InstanceInfo, PostCall, RunInfo};
use pmconf::run::verdict::Verdict;
use pmconf_model::contested::{ContestedOutcome, SpecIssue};
use pmconf_model::{Delivery, Outcome, PostOutcome};
use serde_json::{json, Value};
use std::collections::BTreeMap;
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
        function_of: None,
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

/// An engine instance declared with its own binaries, arguments and
/// `compare_with`, for the header of the main run.
fn declared_instance() -> InstanceInfo {
    InstanceInfo {
        name: "chromium-flags".into(),
        kind: "chromium".into(),
        location: "local".into(),
        browser: Some("/usr/bin/chromium".into()),
        driver: Some("/usr/bin/chromedriver".into()),
        args: vec!["--enable-features=Foo".into(), "--x=a b".into()],
        compare_with: Some("chromium".into()),
    }
}

/// The main run: [`events`] with a declared instance in its `RunInfo`.
fn main_run() -> Vec<RunEvent> {
    let mut events = events();
    let RunEvent::RunInfo(info) = &mut events[0] else {
        panic!("RunInfo comes first")
    };
    info.instances = vec![declared_instance()];
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
    html_of(&main_run())
}

/// The JUnit file `events` make, with `known` divergences.
fn junit_of(events: &[RunEvent], known: KnownDivergences) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    let mut reporter = JunitReporter::new(&path, known);
    feed(&mut reporter, events);
    reporter.finish().unwrap();
    std::fs::read_to_string(&path).unwrap()
}

/// Every wptreport `events` make, by engine (an engine without a file is
/// absent); `time_start` and `time_end` (the clock's, not the events')
/// are checked to be in order and shown as `[now]`.
fn wptreports_of(events: &[RunEvent]) -> BTreeMap<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    let mut reporter = WptReportReporter::new(dir.path().join("wptreport-{engine}.json"));
    feed(&mut reporter, events);
    reporter.finish().unwrap();
    let mut out = BTreeMap::new();
    for name in file_names(dir.path()) {
        let engine = name
            .strip_prefix("wptreport-")
            .and_then(|n| n.strip_suffix(".json"))
            .unwrap_or_else(|| panic!("an unexpected file {name}"))
            .to_owned();
        let text = std::fs::read_to_string(dir.path().join(&name)).unwrap();
        let mut value: Value = serde_json::from_str(&text).unwrap();
        let (start, end) = (&value["time_start"], &value["time_end"]);
        assert!(start.as_u64().unwrap() <= end.as_u64().unwrap(), "{value}");
        value["time_start"] = json!("[now]");
        value["time_end"] = json!("[now]");
        out.insert(engine, value);
    }
    out
}

const STYLE_CSS: &str = include_str!("../src/report/html/style.css");

/// The page with its stylesheet (`style.css`, verbatim) left out.
fn without_style(html: &str) -> String {
    let style = format!("<style>\n{STYLE_CSS}</style>");
    assert!(html.contains(&style), "the page embeds style.css: {html}");
    html.replace(
        &style,
        "<style>/* harness/src/report/html/style.css */</style>",
    )
}

fn pretty(value: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(value).unwrap()
}

/// Which formatters a snapshot test keeps.
#[derive(Clone, Copy)]
enum Format {
    Terminal,
    Json,
    Html,
    Junit,
    Wpt,
}

const ALL: [Format; 5] = [
    Format::Terminal,
    Format::Json,
    Format::Html,
    Format::Junit,
    Format::Wpt,
];

/// Snapshots `name_<format>` of each of `formats` fed `events`.
fn snapshot(name: &str, events: &[RunEvent], formats: &[Format]) {
    for format in formats {
        match format {
            Format::Terminal => {
                insta::assert_snapshot!(format!("{name}_terminal"), terminal_output(events))
            }
            Format::Json => {
                insta::assert_snapshot!(format!("{name}_json"), pretty(&json_of(events)))
            }
            Format::Html => {
                insta::assert_snapshot!(format!("{name}_html"), without_style(&html_of(events)))
            }
            Format::Junit => insta::assert_snapshot!(
                format!("{name}_junit"),
                junit_of(events, KnownDivergences::default())
            ),
            Format::Wpt => {
                insta::assert_snapshot!(format!("{name}_wptreport"), pretty(&wptreports_of(events)))
            }
        }
    }
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

/// Whether `text` holds the word `known` (not `unknown`).
fn says_known(text: &str) -> bool {
    text.match_indices("known").any(|(i, _)| {
        let before = text[..i].chars().next_back();
        !before.is_some_and(|c| c.is_ascii_alphabetic())
    })
}

/// The main run in every format; the terminal also lists the report
/// files the run wrote, just above the verdict, which stays the last line.
#[test]
fn the_main_run_in_every_format() {
    let events = main_run();
    let mut reporter = TerminalReporter::new(Vec::new(), false);
    feed(&mut reporter, &events);
    reporter.reports_written(vec![
        "target/pmconf/results.json".into(),
        "out/report.html".into(),
    ]);
    reporter.finish().unwrap();
    let terminal = String::from_utf8(reporter.into_inner()).unwrap();
    insta::assert_snapshot!("main_terminal", terminal);
    snapshot("main", &events, &ALL[1..]);
}

#[test]
fn race_histograms_in_every_format() {
    snapshot("races", &race_events(), &ALL);
}

#[test]
fn a_flaky_result_in_every_format() {
    snapshot("flaky", &flaky_events(), &ALL);
}

#[test]
fn a_contested_result_in_every_format() {
    snapshot("contested", &race_contested(), &ALL);
}

#[test]
fn a_crashed_case_in_every_format() {
    snapshot("crashed", &crashed_events(), &ALL);
}

/// An accepted divergence is *accepted* in every report; *known* is left
/// for divergences `known-divergences.yaml` links to a filed bug (JUnit
/// says which).
#[test]
fn an_accepted_divergence_in_every_format() {
    let diverging = CaseResult {
        observed: Some(delivered("http://b.test:8000", json!("hi"))),
        ..result(
            "chromium",
            KNOWN_CASE,
            Verdict::Diverges,
            SnapshotStatus::Matched,
        )
    };
    let events = one_engine_run("chromium", "131.0", diverging, 2.0);
    snapshot("accepted", &events, &ALL);
    for text in [
        terminal_output(&events),
        pretty(&json_of(&events)),
        html_of(&events),
        pretty(&wptreports_of(&events)),
    ] {
        assert!(!says_known(&text), "{text}");
    }
    let filed = KnownDivergences::parse(
        Path::new("known-divergences.yaml"),
        &format!("- {{engine: chromium, case: {KNOWN_CASE}, bug: 'https://bugs.example/1'}}\n"),
    )
    .unwrap();
    insta::assert_snapshot!("accepted_junit_with_a_bug", junit_of(&events, filed));
}

/// A race case whose snapshot changed in each of its two attempts:
/// unexpected, not flaky.
#[test]
fn a_result_unexpected_in_every_attempt() {
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
    snapshot("unexpected_twice", &events, &[Format::Terminal]);
}

#[test]
fn a_run_cut_short() {
    let events: Vec<RunEvent> = events()
        .into_iter()
        .take_while(|e| !matches!(e, RunEvent::EngineEnd { .. }))
        .collect();
    snapshot("cut_short", &events, &[Format::Terminal, Format::Json]);
}

/// Firefox conforms now where its accepted snapshot said it diverged: it
/// needs action, and its cell looks nothing like a pass.
#[test]
fn a_conforming_result_whose_snapshot_changed() {
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
    snapshot(
        "changed_conforming",
        &events,
        &[Format::Terminal, Format::Html],
    );
    // The two colours differ in the stylesheet itself.
    let css = |class: &str| {
        let rule = between(STYLE_CSS, &format!("\n.{class} {{"), "}");
        rule[rule.find("background").expect("a background")..].to_owned()
    };
    assert_ne!(css("x-action"), css("x-pass"));
    assert_ne!(css("x-accepted"), css("x-action"));
}

/// The engine threw where the model allows the call to return: each diff
/// shows the post's call beside its outcome.
#[test]
fn diffs_name_each_post_call() {
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
    snapshot("call_diffs", &events, &[Format::Terminal, Format::Html]);
}

/// An ordinary case run again once: one run per attempt, in the singular.
#[test]
fn counts_of_one() {
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
    snapshot("singular", &events, &[Format::Terminal, Format::Html]);
}

/// A clean run: nothing needs action, and the empty box is not red.
#[test]
fn a_clean_run() {
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
    snapshot("clean", &clean, &[Format::Terminal, Format::Html]);
    let rule = |selector: &str| {
        STYLE_CSS
            .lines()
            .find(|l| l.starts_with(&format!("{selector} {{")))
            .unwrap_or_else(|| panic!("no rule for {selector}"))
            .to_owned()
    };
    let red = "#b00020";
    assert!(rule("section.needs-action").contains(red));
    assert!(!rule("section.needs-action.all-clear").contains(red));
    assert!(rule("section.needs-action.all-clear").contains("border-color"));
    assert!(!rule("section.needs-action.all-clear h2").contains(red));
}

/// No `RunInfo` and no engine start: the header says what was not
/// recorded.
#[test]
fn a_run_without_its_info() {
    let known = chromium_results().into_iter().nth(1).unwrap();
    let mut events = vec![RunEvent::SuiteStart {
        engines: vec!["chromium".into()],
        cases: 1,
    }];
    events.extend(ended(vec![known]));
    events.push(RunEvent::SuiteEnd { seconds: 1.0 });
    snapshot("no_run_info", &events, &[Format::Html]);
}

/// Engines interleaving, on a pipe: a progress line per engine per tenth
/// of its cases, each labelled (no summary: the run is not finished).
#[test]
fn plain_progress_when_engines_interleave() {
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
    insta::assert_snapshot!("interleaved_progress_terminal", output);
}

/// A histogram names origins only where they tell outcomes apart.
#[test]
fn histogram_origins_only_where_they_differ() {
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
    let events = one_engine_run("chromium", "131.0", race, 1.0);
    snapshot("origins_in_histogram", &events, &[Format::Terminal]);
}

// Properties a snapshot does not show well.

#[test]
fn the_terminal_colours_only_when_asked() {
    assert!(!terminal_output(&main_run()).contains('\u{1b}'));
    let mut reporter = TerminalReporter::new(Vec::new(), true);
    feed(&mut reporter, &main_run());
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
fn html_escapes_every_piece_of_untrusted_text() {
    let html = html_page();
    assert!(!html.contains(HOSTILE), "raw {HOSTILE} in the page");
    assert!(!html.contains('\u{2028}'), "raw U+2028 in the page");
    assert!(!html.contains("<script"), "the page needs no script");
    // In the description, the reason, the messages and a reference, escaped.
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
        html.contains("<li>whatwg/html#1234 &lt;/script&gt;&lt;b&gt;</li>"),
        "{html}"
    );
    assert!(
        html.contains("<th scope=\"row\">messages/a&amp;b.yaml</th>"),
        "{html}"
    );
    let race = html_of(&race_events());
    assert!(!race.contains(HOSTILE), "raw {HOSTILE} in the race page");
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
    multi.push(Box::new(JunitReporter::new(
        dir.path().join("junit.xml"),
        KnownDivergences::default(),
    )));
    feed(&mut multi, &main_run());
    multi.finish().unwrap();
    assert_eq!(
        file_names(dir.path()),
        [
            "junit.xml",
            "report.html",
            "results.json",
            "wptreport-chromium.json",
            "wptreport-firefox.json"
        ],
        "no temporary file may be left"
    );
    let text = String::from_utf8(terminal.0.lock().unwrap().clone()).unwrap();
    assert_eq!(
        text,
        terminal_output(&main_run()),
        "the same terminal output"
    );
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
        Box::new(JunitReporter::new(
            missing.join("junit.xml"),
            KnownDivergences::default(),
        )),
    ];
    for reporter in &mut reporters {
        feed(reporter.as_mut(), &main_run());
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

/// Results and the run's info read back from the results file as they
/// were sent, so a report can be drawn again from it alone.
#[test]
fn the_results_file_reads_back() {
    let value = json_of(&main_run());
    let results: Vec<CaseResult> = serde_json::from_value(value["results"].clone()).unwrap();
    let sent: Vec<CaseResult> = chromium_results()
        .into_iter()
        .chain(firefox_results())
        .collect();
    assert_eq!(results, sent);
    let back: Vec<CaseInfo> = serde_json::from_value(value["cases"].clone()).unwrap();
    assert_eq!(back, case_infos());
    let instances: Vec<InstanceInfo> =
        serde_json::from_value(value["run"]["instances"].clone()).unwrap();
    assert_eq!(instances, [declared_instance()]);
    for events in [race_events(), flaky_events()] {
        let value = json_of(&events);
        let sent: Vec<CaseResult> = events
            .iter()
            .filter_map(|e| match e {
                RunEvent::CaseEnd(r) => Some(r.clone()),
                _ => None,
            })
            .collect();
        let back: Vec<CaseResult> = serde_json::from_value(value["results"].clone()).unwrap();
        assert_eq!(back, sent);
    }
}

/// The HTML between `start` and the next `end` after it.
fn between<'a>(page: &'a str, start: &str, end: &str) -> &'a str {
    let from = page
        .find(start)
        .unwrap_or_else(|| panic!("no {start:?} in:\n{page}"));
    let rest = &page[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
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

/// Firefox finishing first, its results in another order: the same
/// details in the same order (needs action first, then by case and
/// engine), and the same page.
#[test]
fn the_page_does_not_depend_on_which_engine_finished_first() {
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
    let mut events = main_run();
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

/// Every colour a matrix cell can take has a legend entry: each `.x-*`
/// rule of the stylesheet that sets a background is the class list of a
/// swatch.
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
