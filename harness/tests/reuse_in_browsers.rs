//! Document reuse cannot leak, in every installed engine: a plain case
//! that runs in windows an earlier case left observes exactly its own
//! outcome, though messages the earlier case's windows posted arrive
//! after the reset (posted by a window not yet reset, to one already
//! reset), are still in flight (posted just before the next case), or
//! were posted to a window the next case reuses. Skipped (with a reason)
//! for engines that are not installed, unless CI is set.

mod common;

use pmconf::engine::ProcessRegistry;
use pmconf::run::driver::Pacing;
use pmconf::run::state::RunState;
use pmconf::run::verdict::Observation;
use pmconf::run::worker::EngineWorker;
use pmconf::server::OriginServer;
use pmconf_model::{answer_case, parse_case, Case, Outcome};
use std::sync::Arc;

/// The earlier case: posts both ways in a same-origin tree.
const EARLIER_SAME_ORIGIN: &str = r#"
description: earlier
windows:
  top: { url: "http://a.test:8000/" }
  kid: { parent: top, url: "http://a.test:8000/" }
steps:
  - post: { from: kid, to: top, message: "a1", target_origin: "*" }
  - post: { from: top, to: kid, message: "a2", target_origin: "*" }
"#;

/// The later case, with the same windows under other names.
const LATER_SAME_ORIGIN: &str = r#"
description: later
windows:
  t: { url: "http://a.test:8000/" }
  k: { parent: t, url: "http://a.test:8000/" }
steps:
  - post: { from: t, to: k, message: "b1", target_origin: "*" }
  - post: { from: k, to: t, message: "b2", target_origin: "http://a.test:8000" }
"#;

const EARLIER_CROSS_ORIGIN: &str = r#"
description: earlier
windows:
  top: { url: "http://a.test:8000/" }
  kid: { parent: top, url: "http://b.test:8001/" }
steps:
  - post: { from: kid, to: top, message: "a1", target_origin: "*" }
  - post: { from: top, to: kid, message: "a2", target_origin: "*" }
  - post: { from: top, to: kid, message: "a3", target_origin: "*" }
"#;

const LATER_CROSS_ORIGIN: &str = r#"
description: later
windows:
  top: { url: "http://a.test:8000/" }
  kid: { parent: top, url: "http://b.test:8001/" }
steps:
  - post: { from: top, to: kid, message: "b1", target_origin: "http://b.test:8001" }
  - post: { from: kid, to: top, message: "b2", target_origin: "*" }
"#;

fn case(yaml: &str) -> Case {
    parse_case("reuse.yaml", yaml).unwrap()
}

/// Hand-derived: the later case's two posts return without throwing, and
/// each window gets exactly the one message posted to it (both target
/// origins match), nothing with "leak" or from the earlier case.
fn assert_exactly_its_own(engine: &str, later: &Case, observed: &Observation) {
    let Observation::Observed(o) = observed else {
        panic!("{engine}: the later case did not run: {observed:?}");
    };
    let text = format!("{o:?}");
    assert!(
        !text.contains("leak") && !text.contains("\"a1\"") && !text.contains("\"a2\""),
        "{engine}: the later case saw an earlier case's message: {text}"
    );
    assert_eq!(o.posts.iter().filter(|p| p.threw.is_none()).count(), 2);
    assert_eq!(
        text.matches("\"b1\"").count() + text.matches("\"b2\"").count(),
        2,
        "{engine}: {text}"
    );
    let allowed: Vec<Outcome> = answer_case(later).allowed;
    assert!(o.is_in(&allowed), "{engine}: {o:?} not in {allowed:?}");
}

/// The frame index, in the runner page, of the slot the last case ran in
/// (WebDriver is in the runner page after a run).
async fn latest_slot(client: &fantoccini::Client) -> u16 {
    let index = client
        .execute(
            "var f = Array.prototype.slice.call(document.querySelectorAll('iframe'));
             var used = f.map(function (x) { return Number(x.dataset.used); });
             return used.indexOf(Math.max.apply(null, used));",
            vec![],
        )
        .await
        .unwrap();
    index.as_u64().expect("a slot") as u16
}

async fn run_one(worker: &mut EngineWorker, c: &Case) -> Observation {
    worker.run(std::slice::from_ref(c)).await.remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_window_never_reports_an_earlier_cases_messages() {
    let engines = common::engines();
    let registry = ProcessRegistry::new();
    let _cleanup = registry.end_all_on_drop();
    let state = RunState::new(format!("\u{0}pmconf-marker:{}:", std::process::id()));
    let server = OriginServer::start(state.clone()).await.unwrap();
    let pacing = Pacing {
        reuse: true,
        ..Pacing::default()
    };
    for engine in engines {
        let name = engine.name();
        let mut worker = EngineWorker::start(
            engine,
            &server.proxy_address(),
            state.clone(),
            &registry,
            pacing.clone(),
        )
        .await
        .unwrap_or_else(|e| panic!("{name}: {e}"));
        same_origin_posts_after_the_receivers_reset(name, &mut worker, &state).await;
        cross_origin_posts_in_flight(name, &mut worker, &state).await;
        worker.close().await;
    }
}

/// Deterministic: while the later case is being set up, the reused top
/// window's reset is followed (in the same task) by posts from the kid,
/// which is not reset yet, so they are the earlier case's posts that
/// arrive after the receiver moved on to the later case.
async fn same_origin_posts_after_the_receivers_reset(
    engine: &str,
    worker: &mut EngineWorker,
    state: &Arc<RunState>,
) {
    let earlier = case(EARLIER_SAME_ORIGIN);
    let later = case(LATER_SAME_ORIGIN);
    let first = run_one(worker, &earlier).await;
    assert!(
        matches!(&first, Observation::Observed(o) if o.is_in(&answer_case(&earlier).allowed)),
        "{engine}: the earlier case: {first:?}"
    );
    let client = worker.client();
    let slot = latest_slot(client).await;
    client.enter_frame(slot).await.unwrap();
    // After the real reset, the kid (from its own realm, so it is the
    // source) posts five messages and sets a global and a listener.
    client
        .execute(
            r#"var agent = window.__pmconf, reset = agent.reset;
               agent.reset = function (config, targets) {
                 var r = reset.call(agent, config, targets);
                 frames[0].Function("for (var i = 0; i < 5; i++) parent.postMessage('leak' + i, '*');" +
                   "window.leakedGlobal = 1; window.addEventListener('message', function () {});")();
                 agent.reset = reset;
                 return r;
               };
               return true;"#,
            vec![],
        )
        .await
        .unwrap();
    client.enter_parent_frame().await.unwrap();
    let late_before = state.late_events();
    let loads_before = state.profile.counts_of(engine).page_loads;
    let second = run_one(worker, &later).await;
    assert_eq!(
        state.profile.counts_of(engine).page_loads,
        loads_before,
        "{engine}: the later case loaded pages: its windows were not reused"
    );
    assert_exactly_its_own(engine, &later, &second);
    // The five posts came after the top window's reset, and were dropped
    // as the earlier case's, not merely lost.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while state.late_events() < late_before + 5 && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(state.late_events(), late_before + 5, "{engine}");
}

/// Not deterministic in when they arrive, only in that they must never
/// count: posts both ways across processes just before the later case
/// reuses both windows, on top of the earlier case's own posts. (On a
/// loaded machine they mostly arrive before the resets, so this part
/// alone did not go red with attribution broken; the same-origin part
/// above did, in every engine.)
async fn cross_origin_posts_in_flight(
    engine: &str,
    worker: &mut EngineWorker,
    state: &Arc<RunState>,
) {
    let earlier = case(EARLIER_CROSS_ORIGIN);
    let later = case(LATER_CROSS_ORIGIN);
    for round in 0..3 {
        let first = run_one(worker, &earlier).await;
        assert!(
            matches!(&first, Observation::Observed(_)),
            "{engine} round {round}: the earlier case: {first:?}"
        );
        let client = worker.client();
        let slot = latest_slot(client).await;
        client.enter_frame(slot).await.unwrap();
        client
            .execute(
                "for (var i = 0; i < 20; i++) frames[0].postMessage('leak-down' + i, '*'); return true;",
                vec![],
            )
            .await
            .unwrap();
        client.enter_frame(0).await.unwrap();
        client
            .execute(
                "for (var i = 0; i < 20; i++) parent.postMessage('leak-up' + i, '*'); return true;",
                vec![],
            )
            .await
            .unwrap();
        client.enter_parent_frame().await.unwrap();
        client.enter_parent_frame().await.unwrap();
        let loads_before = state.profile.counts_of(engine).page_loads;
        let second = run_one(worker, &later).await;
        assert_eq!(
            state.profile.counts_of(engine).page_loads,
            loads_before,
            "{engine} round {round}: not reused"
        );
        assert_exactly_its_own(engine, &later, &second);
    }
}
