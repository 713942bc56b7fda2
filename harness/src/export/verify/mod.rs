//! Verification: the exported tests served by wptserve (PyPI), with
//! testharness.js from the npm package `wpt-runner`, run in Chromium,
//! Firefox and WebKitGTK through pmconf's own WebDriver sessions and
//! proxy ([`server`]), one test per navigation as wptrunner runs them;
//! testharness.js's results are read back and set beside pmconf's
//! verdicts ([`agreement`]). With `side_by_side`, the same cases also run
//! through pmconf's own runner in the same session, and both are timed.

pub mod agreement;
pub mod server;
pub mod tools;

use super::manifest::Exported;
use crate::case_files::LoadedCase;
use crate::engine::{EngineId, EngineInstance, ProcessRegistry};
use crate::run::driver::{run_cases, Pacing};
use crate::run::plan::CasePlan;
use crate::run::state::RunState;
use crate::run::verdict::judge;
use crate::server::{Handler, OriginServer};
use serde::Serialize;
use serde_json::Value as Json;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long one test may take from its navigation to its results
/// (testharness.js's long timeout is 60 s).
const TEST_LIMIT: Duration = Duration::from_secs(75);

/// testharness.js's status of one test, as wptrunner names them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    /// Every assertion held.
    Pass,
    /// An assertion failed.
    Fail,
    /// The test or the harness timed out.
    Timeout,
    /// The harness reported an error, or the page never reported.
    Error,
}

impl Status {
    /// `PASS`, `FAIL`, `TIMEOUT`, `ERROR`.
    pub fn name(&self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Timeout => "TIMEOUT",
            Status::Error => "ERROR",
        }
    }
}

/// One exported test in one engine.
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    /// The case.
    pub case: String,
    /// The test page.
    pub test: String,
    /// Its status.
    pub status: Status,
    /// The failing assertion's message, or why it errored.
    pub message: Option<String>,
    /// From the navigation to the results.
    pub seconds: f64,
}

/// pmconf's own run of one case in the same session.
#[derive(Debug, Clone, Serialize)]
pub struct OwnRun {
    /// The case.
    pub case: String,
    /// Its verdict in this run.
    pub verdict: String,
    /// Its share of its batch's wall time, per run.
    pub seconds: f64,
    /// How often it ran (a race case `--repeat` times).
    pub runs: usize,
}

/// One engine's results.
#[derive(Debug, Clone, Serialize)]
pub struct EngineRun {
    /// The engine.
    pub engine: String,
    /// The browser's version.
    pub browser_version: String,
    /// Each exported test.
    pub tests: Vec<TestResult>,
    /// pmconf's own run of the same cases (side by side), if asked.
    pub own: Vec<OwnRun>,
    /// The 1-minute load average when the engine started and ended.
    pub load: (f64, f64),
}

/// The 1-minute load average.
pub fn load_average() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(f64::NAN)
}

/// The URL a WPT runner loads `test` at.
pub fn test_url(test: &str) -> String {
    if test.contains(".https.") {
        format!(
            "https://{}:{}/{test}",
            super::hosts::BROWSER_HOST,
            super::hosts::HTTPS_PORTS[0]
        )
    } else {
        format!(
            "http://{}:{}/{test}",
            super::hosts::BROWSER_HOST,
            super::hosts::HTTP_PORTS[0]
        )
    }
}

fn read_results(results: &Json) -> (Status, Option<String>) {
    // Harness status: 0 OK, 1 ERROR, 2 TIMEOUT, 3 PRECONDITION_FAILED.
    let harness = results["status"].as_i64().unwrap_or(1);
    let tests = results["tests"].as_array().cloned().unwrap_or_default();
    if harness == 2 {
        return (Status::Timeout, Some("harness timeout".into()));
    }
    if harness != 0 || tests.is_empty() {
        return (
            Status::Error,
            results["message"].as_str().map(str::to_owned),
        );
    }
    // Test status: 0 PASS, 1 FAIL, 2 TIMEOUT, 3 NOTRUN.
    for t in &tests {
        let message = t["message"].as_str().map(str::to_owned);
        match t["status"].as_i64() {
            Some(0) => {}
            Some(1) => return (Status::Fail, message),
            Some(2) => return (Status::Timeout, message),
            _ => return (Status::Error, message),
        }
    }
    (Status::Pass, None)
}

/// Runs one exported test: navigate, then wait for its results.
async fn run_test(client: &fantoccini::Client, test: &str) -> (Status, Option<String>) {
    let url = test_url(test);
    if let Err(e) = client.goto(&url).await {
        return (Status::Error, Some(format!("navigating to {url}: {e}")));
    }
    let started = Instant::now();
    loop {
        match client
            .execute("return window.__pmconf_wpt_results || null;", vec![])
            .await
        {
            Ok(Json::Null) => {}
            Ok(results) => return read_results(&results),
            Err(e) => return (Status::Error, Some(format!("reading the results: {e}"))),
        }
        if started.elapsed() > TEST_LIMIT {
            let at = client
                .current_url()
                .await
                .map(|u| u.to_string())
                .unwrap_or_default();
            return (
                Status::Timeout,
                Some(format!(
                    "no results after {}s (at {at})",
                    TEST_LIMIT.as_secs()
                )),
            );
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// What to verify.
pub struct Plan<'a> {
    /// The export's root (holding `webmessaging/`).
    pub export_dir: &'a Path,
    /// The exported tests.
    pub exported: &'a [Exported],
    /// The engines.
    pub engines: &'a [EngineId],
    /// The cases, for the side-by-side run (empty: no own run).
    pub own_cases: &'a [LoadedCase],
    /// How often each race case's test runs (a race that diverges now
    /// and then needs several runs, as `pmconf run --repeat` gives it).
    pub race_repeat: usize,
}

/// Runs every exported test in every engine, one engine after another,
/// each in one session of its own (the side-by-side run in that session
/// too), printing a line per engine as it goes.
pub async fn verify(plan: Plan<'_>, registry: &ProcessRegistry) -> Result<Vec<EngineRun>, String> {
    let tools = tools::WptTools::find()?;
    let work = std::env::current_dir()
        .map_err(|e| e.to_string())?
        .join(server::work_dir());
    std::fs::create_dir_all(&work).map_err(|e| format!("{}: {e}", work.display()))?;
    let run_dir = tempfile::Builder::new()
        .prefix("run-")
        .tempdir_in(&work)
        .map_err(|e| e.to_string())?;
    let doc_root = run_dir.path().join("root");
    server::make_doc_root(&doc_root, plan.export_dir, &tools.testharness)
        .map_err(|e| format!("making wptserve's document root: {e}"))?;
    let wpt = server::start_wptserve(&tools.python, &doc_root, run_dir.path(), registry).await?;
    let state = RunState::new(format!("\u{0}pmconf-marker:{}:", std::process::id()));
    let own: Option<Arc<dyn Handler>> = if plan.own_cases.is_empty() {
        None
    } else {
        Some(state.clone())
    };
    let proxy_server = OriginServer::start(server::WptForward::new(wpt.port, own))
        .await
        .map_err(|e| e.to_string())?;
    let proxy = proxy_server.proxy_address();
    let mut out = Vec::new();
    for &engine in plan.engines {
        let load_start = load_average();
        let session = match EngineInstance::system(engine).start(&proxy, registry).await {
            Ok(s) => s,
            Err(e) => {
                proxy_server.shutdown().await;
                registry.end(&wpt.process);
                return Err(format!("{engine}: {e}"));
            }
        };
        let mut tests = Vec::new();
        for e in plan.exported {
            let runs = if e.race { plan.race_repeat.max(1) } else { 1 };
            let mut outcome = (Status::Pass, None);
            let mut failed = 0;
            let started = Instant::now();
            for _ in 0..runs {
                let (status, message) = run_test(&session.client, &e.test).await;
                if status != Status::Pass {
                    failed += 1;
                    if outcome.0 == Status::Pass {
                        outcome = (status, message);
                    }
                }
            }
            let (status, mut message) = outcome;
            if runs > 1 && failed > 0 {
                message = Some(format!(
                    "{failed} of {runs} runs: {}",
                    message.unwrap_or_default()
                ));
            }
            tests.push(TestResult {
                case: e.case.clone(),
                test: e.test.clone(),
                status,
                message,
                seconds: started.elapsed().as_secs_f64() / runs as f64,
            });
        }
        let own_runs = run_own(
            &session.client,
            engine.name(),
            plan.own_cases,
            &state,
            plan.race_repeat,
        )
        .await;
        let load_end = load_average();
        eprintln!(
            "{engine}: {} exported tests run ({} pass), load average {load_start:.1} -> {load_end:.1}",
            tests.len(),
            tests.iter().filter(|t| t.status == Status::Pass).count()
        );
        out.push(EngineRun {
            engine: engine.name().to_owned(),
            browser_version: session.browser_version.clone(),
            tests,
            own: own_runs,
            load: (load_start, load_end),
        });
        let _ = session.close().await;
    }
    proxy_server.shutdown().await;
    registry.end(&wpt.process);
    Ok(out)
}

/// pmconf's own run of `cases` in the session, as `pmconf run` paces it.
async fn run_own(
    client: &fantoccini::Client,
    engine: &str,
    cases: &[LoadedCase],
    state: &Arc<RunState>,
    repeat: usize,
) -> Vec<OwnRun> {
    if cases.is_empty() {
        return Vec::new();
    }
    // A race case runs `repeat` times, as `pmconf run --repeat` does; its
    // verdict is the worst of its runs.
    let mut plans: Vec<Arc<CasePlan>> = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let runs = if c.case.is_race() { repeat.max(1) } else { 1 };
        for _ in 0..runs {
            plans.push(Arc::new(CasePlan::new(plans.len(), i, c)));
        }
    }
    let pacing = Pacing {
        reuse: true,
        ..Pacing::default()
    };
    let mut out: Vec<OwnRun> = Vec::new();
    let rank = |v: &str| match v {
        "conforms" => 0,
        "contested" => 1,
        _ => 2,
    };
    let result = run_cases(client, engine, &plans, state, &pacing, |run| {
        let plan = &plans[run.index];
        let verdict = judge(&run.observation, &plan.allowed, &plan.contested)
            .name()
            .to_owned();
        let seconds = run.duration.as_secs_f64();
        match out.iter_mut().find(|o| o.case == plan.name) {
            Some(o) => {
                o.runs += 1;
                o.seconds += seconds;
                if rank(&verdict) > rank(&o.verdict) {
                    o.verdict = verdict;
                }
            }
            None => out.push(OwnRun {
                case: plan.name.clone(),
                verdict,
                seconds,
                runs: 1,
            }),
        }
    })
    .await;
    for o in &mut out {
        o.seconds /= o.runs as f64;
    }
    if let Err(e) = result {
        eprintln!("{engine}: pmconf's own run failed: {e}");
    }
    out
}
