//! `pmconf serve` in each real engine: the test only starts a browser
//! behind pmconf's proxy, navigates to the one URL `serve` printed, and
//! reads the page's result. No WebDriver script runs a step: the page
//! runs the cases over its channel.

use pmconf::engine::{discover, EngineId, EngineInstance, ProcessRegistry};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

/// Cases every engine conforms on (their accepted snapshots say so): a
/// cross-origin reply, a popup both ways, every value kind at once, and a
/// race (a sender that navigates after posting).
const CASES: [&str; 4] = [
    "cases/messages/awkward-strings.yaml",
    "cases/topology/popup-both-ways.yaml",
    "cases/values/every-kind-at-once.yaml",
    "cases/races/sender-navigates-after-post-exact.yaml",
];

/// `pmconf serve CASES --once`, and the URL and proxy it printed.
fn start_serve() -> (Child, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_pmconf"))
        .args(["serve", "--once", "--repeat", "2"])
        .args(CASES)
        .current_dir(common::workspace())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("pmconf serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    let mut proxy = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        let t = line.trim();
        if t.starts_with("http://pmconf.test/__pmconf/runner?token=") {
            url = Some(t.to_owned());
        }
        if let Some(rest) = t.strip_prefix("proxy: ") {
            proxy = rest.split_whitespace().next().map(str::to_owned);
            break;
        }
    }
    // Keep reading (and echoing) what serve prints, so it never blocks.
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            println!("serve: {line}");
        }
    });
    (child, url.expect("a URL"), proxy.expect("a proxy line"))
}

async fn served_in(engine: EngineId) {
    if let Err(missing) = discover(engine) {
        assert!(!common::ci(), "CI is set and {missing}");
        eprintln!("skipping {engine:?}: {missing}");
        return;
    }
    let (mut serve, url, proxy) = start_serve();
    let registry = ProcessRegistry::new();
    let session = EngineInstance::system(engine)
        .start(&proxy, &registry)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    session.client.goto(&url).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if session.client.title().await.unwrap_or_default() == "pmconf serve: done" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{engine:?}: the page never showed its results"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let verdict = session
        .client
        .find(fantoccini::Locator::Id("verdict"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(
        verdict, "4 cases: 4 conform, 0 contested, 0 diverge, 0 inconclusive, 0 internal errors",
        "{engine:?}"
    );
    for case in CASES {
        let section = session
            .client
            .find(fantoccini::Locator::Css(&format!(
                "section[data-case=\"{case}\"]"
            )))
            .await
            .unwrap_or_else(|e| panic!("{engine:?}: no section for {case}: {e}"));
        assert_eq!(
            section.attr("data-verdict").await.unwrap().as_deref(),
            Some("conforms"),
            "{engine:?} {case}"
        );
    }
    // The race ran twice, both runs allowed.
    let race_rows = session
        .client
        .find_all(fantoccini::Locator::Css(
            "section[data-case=\"cases/races/sender-navigates-after-post-exact.yaml\"] tr.allowed td:first-child",
        ))
        .await
        .unwrap();
    let mut runs = 0;
    for cell in race_rows {
        let text = cell.text().await.unwrap();
        runs += text.split('/').next().unwrap().parse::<usize>().unwrap();
    }
    assert_eq!(runs, 2, "{engine:?}");
    let _ = session.close().await;
    let status = serve.wait().unwrap();
    assert_eq!(
        status.code(),
        Some(0),
        "{engine:?}: serve --once exits 0 when all conform"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn chromium_runs_the_served_cases() {
    served_in(EngineId::Chromium).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn firefox_runs_the_served_cases() {
    served_in(EngineId::Firefox).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn webkitgtk_runs_the_served_cases() {
    served_in(EngineId::WebKitGtk).await;
}
