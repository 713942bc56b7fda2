//! A values finding's standalone page (`gen::repro`), opened over `file://`
//! in each installed engine, posts exactly what the harness posts: what
//! its window receives, in pmconf's tagged form, is the message the model
//! says arrives (and every engine's accepted snapshot agrees for this
//! case). Before the page shared the agent's codec it knew six tags, so
//! `{$map: ...}` was posted as a plain object.
//!
//! An engine that is not installed is skipped with a printed reason,
//! unless CI is set: then it fails.

mod common;

use pmconf::engine::{discover, start_session, ProcessRegistry};
use pmconf::fuzz::repro::standalone_html;
use pmconf_model::{answer_case, parse_case};
use serde_json::Value;

/// One message holding every value kind that serializes: maps and sets
/// with shared keys, a cycle, views over one buffer, hidden properties.
const CASE: &str = "cases/values/every-kind-at-once.yaml";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_posts_what_the_harness_posts_in_every_engine() {
    let path = common::workspace().join(CASE);
    let case = parse_case(CASE, &std::fs::read_to_string(&path).unwrap()).unwrap();
    let model = answer_case(&case).allowed.remove(0);
    let sent = model
        .received
        .iter()
        .find(|(label, _)| label == "child")
        .map(|(_, list)| list[0].message.clone())
        .expect("the model delivers the message to child");
    let html = standalone_html(&case, "t", &model, &model, "test");
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("repro.html");
    std::fs::write(&page, html).unwrap();
    for engine in common::engines() {
        let installed = discover(engine).unwrap();
        let registry = ProcessRegistry::new();
        let _cleanup = registry.end_all_on_drop();
        // The page needs no network: the proxy accepts and never answers.
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let session = start_session(
            engine,
            &installed,
            &proxy.local_addr().unwrap().to_string(),
            &registry,
        )
        .await
        .unwrap_or_else(|e| panic!("{e}"));
        let c = &session.client;
        c.goto(&format!("file://{}", page.display())).await.unwrap();
        let mut received = Value::Null;
        for _ in 0..100 {
            received = c
                .execute(
                    "return window.pmconfReceived && window.pmconfReceived.length ? window.pmconfReceived[0].data : null",
                    vec![],
                )
                .await
                .unwrap();
            if !received.is_null() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let name = engine.name();
        assert_eq!(
            received, sent,
            "{name}: what the page's own window received"
        );
        let _ = session.close().await;
    }
}
