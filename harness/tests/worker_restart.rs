//! `pmconf fuzz` runs cases through one [`EngineWorker`] per engine. When
//! the session dies under it (its driver killed, as in a crash), the run
//! in flight reports internal errors, and the next run starts a new
//! session instead of failing every case that follows; at the end nothing
//! either session started is left running.
//!
//! A binary of its own: the crashed session's orphans are re-parented to
//! this process (the registry makes it a subreaper), and those that exit
//! by themselves afterwards stay unreaped until it exits, which the
//! zombie checks of `engine_sessions` would see.
//!
//! An engine that is not installed is skipped with the reason printed,
//! unless `CI` is set: then it fails.

mod common;

use pmconf::engine::{EngineId, ProcessRegistry};
use pmconf::run::driver::Pacing;
use pmconf::run::state::RunState;
use pmconf::run::verdict::Observation;
use pmconf::run::worker::EngineWorker;
use pmconf::server::OriginServer;

async fn a_worker_replaces_its_crashed_session(engine: EngineId) {
    let case = pmconf_model::parse_case(
        "iframe-both-ways.yaml",
        include_str!("../../cases/topology/iframe-both-ways.yaml"),
    )
    .expect("the case parses");
    let allowed = pmconf_model::answer_case(&case).allowed;
    let conforms = |observations: &[Observation]| matches!(observations, [Observation::Observed(o)] if o.is_in(&allowed));
    let registry = ProcessRegistry::new();
    let state = RunState::new(format!("\u{0}pmconf-marker:{}:", std::process::id()));
    let server = OriginServer::start(state.clone()).await.unwrap();
    let mut worker = EngineWorker::start(
        engine,
        &server.proxy_address(),
        state,
        &registry,
        Pacing::default(),
    )
    .await
    .unwrap();
    let first = worker.run(std::slice::from_ref(&case)).await;
    assert!(conforms(&first), "{engine}: before the crash: {first:?}");

    let driver = registry
        .owned()
        .into_iter()
        .find(|p| p.label() == engine.description().driver.name)
        .expect("the registry holds the driver");
    // SAFETY: the driver is a child this process started and has not
    // reaped (the registry holds its handle), so the PID is ours.
    unsafe { libc::kill(driver.pid() as libc::pid_t, libc::SIGKILL) };
    let crashed = worker.run(std::slice::from_ref(&case)).await;
    assert!(
        matches!(crashed.as_slice(), [Observation::InternalError(_)]),
        "{engine}: with the driver killed: {crashed:?}"
    );
    assert_eq!(worker.restarts(), 0);

    let after = worker.run(std::slice::from_ref(&case)).await;
    assert!(conforms(&after), "{engine}: after the restart: {after:?}");
    assert_eq!(worker.restarts(), 1);

    worker.close().await;
    server.shutdown().await;
    registry.end_all();
    assert_eq!(
        common::tagged_by(std::process::id()),
        vec![],
        "{engine}: processes left running"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fuzz_worker_replaces_its_crashed_session_in_every_engine() {
    for engine in common::engines() {
        a_worker_replaces_its_crashed_session(engine).await;
    }
}
