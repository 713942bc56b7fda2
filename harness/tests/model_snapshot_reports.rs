//! A pending model snapshot in every report: the run a new user met (an
//! engine snapshot accepted, the model's skipped in review) exited 1 while
//! its verdict line said `all match => ok`, the HTML report said "Needs
//! action (0)" and `results.json` left it out. Each report is fed the same
//! synthetic events and must count it as needing action, like an
//! engine's pending snapshot.

use pmconf::known::KnownDivergences;
use pmconf::report::{HtmlReporter, JsonReporter, JunitReporter, TerminalReporter};
use pmconf::run::events::{
    CaseResult, EngineInfo, ModelSnapshotResult, Reporter, RunEvent, SnapshotStatus,
};
use pmconf::run::verdict::Verdict;
use serde_json::Value;

const CASE: &str = "mine/new.yaml";
const PENDING: &str = "snapshots/model/mine__new.snap.new";

/// One engine whose snapshot matches, and the model's snapshot of the same
/// case still pending (new).
fn events() -> Vec<RunEvent> {
    vec![
        RunEvent::ModelSnapshot(ModelSnapshotResult {
            case: CASE.into(),
            snapshot: SnapshotStatus::New {
                pending: PENDING.into(),
            },
        }),
        RunEvent::SuiteStart {
            engines: vec!["chromium".into()],
            cases: 1,
        },
        RunEvent::EngineStart(EngineInfo {
            engine: "chromium".into(),
            browser_version: "156".into(),
        }),
        RunEvent::CaseEnd(CaseResult::bare(
            "chromium",
            CASE,
            Verdict::Conforms,
            SnapshotStatus::Matched,
        )),
        RunEvent::EngineEnd {
            engine: "chromium".into(),
            cases: 1,
            seconds: 1.0,
        },
        RunEvent::SuiteEnd { seconds: 2.0 },
    ]
}

fn feed(reporter: &mut dyn Reporter) {
    for e in events() {
        reporter.on_event(&e);
    }
    reporter.finish().unwrap();
}

#[test]
fn the_terminal_lists_it_before_a_verdict_that_asks_for_review() {
    let mut reporter = TerminalReporter::new(Vec::new(), false);
    feed(&mut reporter);
    let out = String::from_utf8(reporter.into_inner()).unwrap();
    let lines: Vec<&str> = out.lines().filter(|l| !l.is_empty()).collect();
    let verdict = lines.last().unwrap();
    assert!(
        // A new snapshot to review, nothing wrong: not FAILED (issue 27
        // item 6), though the run still exits 1.
        verdict.ends_with("snapshots: model: 1 new => needs review (1 new)"),
        "{out}"
    );
    let needs = lines
        .iter()
        .position(|l| *l == "needs action (1):")
        .unwrap_or_else(|| panic!("no needs-action list:\n{out}"));
    assert_eq!(
        lines[needs + 1],
        format!("  model  {CASE}: model snapshot new (review it)"),
        "{out}"
    );
    // Said as it arrived, too.
    assert!(
        out.contains(&format!("model snapshot new for {CASE}: {PENDING}")),
        "{out}"
    );
}

#[test]
fn the_html_report_needs_action_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    let mut reporter = HtmlReporter::new(&path);
    feed(&mut reporter);
    let html = std::fs::read_to_string(&path).unwrap();
    assert!(html.contains("<h2>Needs action (1)</h2>"), "{html}");
    assert!(
        html.contains(&format!("data-engine=\"model\" data-case=\"{CASE}\"")),
        "{html}"
    );
    assert!(html.contains(&format!("pending: {PENDING}")), "{html}");
    assert!(
        html.contains("<p class=\"verdict review\">") && html.contains("needs review (1 new)"),
        "{html}"
    );
}

#[test]
fn results_json_lists_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("results.json");
    let mut reporter = JsonReporter::new(&path);
    feed(&mut reporter);
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let model = json["model_snapshots"].as_array().expect("model_snapshots");
    assert_eq!(model.len(), 1, "{json}");
    assert_eq!(model[0]["case"], CASE);
    assert_eq!(model[0]["snapshot"]["status"], "new");
    assert_eq!(model[0]["snapshot"]["pending"], PENDING);
}

#[test]
fn junit_fails_it_in_a_model_suite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    let mut reporter = JunitReporter::new(&path, KnownDivergences::default());
    feed(&mut reporter);
    let xml = std::fs::read_to_string(&path).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let root = doc.root_element();
    assert_eq!(root.attribute("failures"), Some("1"), "{xml}");
    let model = root
        .children()
        .find(|n| n.attribute("name") == Some("pmconf.model"))
        .unwrap_or_else(|| panic!("no model suite:\n{xml}"));
    assert_eq!(model.attribute("failures"), Some("1"));
    let failure = model
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .expect("a failure");
    assert_eq!(
        failure.attribute("message"),
        Some("model snapshot new (review it)")
    );
}
