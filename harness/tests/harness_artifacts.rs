//! Findings that were the harness's own doing must never come back.
//!
//! Two Firefox race "findings" adopted under the old runner (every task a
//! WebDriver script call, every message reported by a synchronous
//! XMLHttpRequest) did not reproduce in pages without WebDriver, and went
//! away when only the reporting was made asynchronous: they were
//! artifacts of Gecko's nested event loop under a synchronous request.
//! Their cases live here (`tests/artifacts/`), not in `cases/found/`, and
//! run 100 times each in Firefox on the channel (steps as page tasks):
//! every run must be an outcome the model allows. Skipped (with a reason)
//! when Firefox is not installed, unless CI is set.

mod common;

use pmconf::engine::{discover, EngineId, ProcessRegistry};
use pmconf::run::driver::Pacing;
use pmconf::run::state::RunState;
use pmconf::run::verdict::Observation;
use pmconf::run::worker::EngineWorker;
use pmconf::server::OriginServer;
use pmconf_model::{answer_case, parse_case, Outcome};

const RUNS: usize = 100;

fn case(file: &str) -> pmconf_model::Case {
    let path = common::workspace()
        .join("harness/tests/artifacts")
        .join(file);
    parse_case(file, &std::fs::read_to_string(path).unwrap()).unwrap()
}

fn received<'a>(o: &'a Outcome, label: &str) -> Vec<&'a pmconf_model::Delivery> {
    o.received
        .iter()
        .filter(|(l, _)| l == label)
        .flat_map(|(_, list)| list)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_old_runners_firefox_artifacts_do_not_come_back() {
    if let Err(missing) = discover(EngineId::Firefox) {
        assert!(!common::ci(), "CI is set and {missing}");
        eprintln!("skipping: {missing}");
        return;
    }
    let order = case("firefox-order-under-sync-xhr.yaml");
    let source = case("firefox-null-source-under-sync-xhr.yaml");
    let state = RunState::new(format!("\u{0}pmconf-marker:{}:", std::process::id()));
    let server = OriginServer::start(state.clone()).await.unwrap();
    let registry = ProcessRegistry::new();
    let _cleanup = registry.end_all_on_drop();
    let mut worker = EngineWorker::start(
        EngineId::Firefox,
        &server.proxy_address(),
        state.clone(),
        &registry,
        Pacing::default(),
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));

    // Top's own messages to itself, one task source, one queue: HTML's
    // event loop runs its tasks in order, so top gets m1, m2, m3, m4.
    let allowed = answer_case(&order).allowed;
    let mut unobserved = 0;
    for observed in worker.run(&vec![order.clone(); RUNS]).await {
        let Observation::Observed(o) = observed else {
            unobserved += 1;
            continue;
        };
        let got: Vec<&serde_json::Value> = received(&o, "top").iter().map(|d| &d.message).collect();
        assert_eq!(got, ["m1", "m2", "m3", "m4"], "{o:?}");
        assert!(o.is_in(&allowed), "{o:?}");
    }
    assert!(
        unobserved * 10 <= RUNS,
        "{unobserved} of {RUNS} runs observed nothing"
    );

    // right can get m1 only while top's first document is fully active,
    // and then event.source is top (window post message steps, 8.3).
    let allowed = answer_case(&source).allowed;
    unobserved = 0;
    for observed in worker.run(&vec![source.clone(); RUNS]).await {
        let Observation::Observed(o) = observed else {
            unobserved += 1;
            continue;
        };
        for d in received(&o, "right") {
            assert_eq!(d.source.as_deref(), Some("top"), "{o:?}");
        }
        assert!(o.is_in(&allowed), "{o:?}");
    }
    assert!(
        unobserved * 10 <= RUNS,
        "{unobserved} of {RUNS} runs observed nothing"
    );
    worker.close().await;
    server.shutdown().await;
}
