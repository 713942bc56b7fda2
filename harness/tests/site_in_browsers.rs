//! The nightly site in real browsers: built by the real binary from four
//! synthetic nights, loaded over `file://` in each installed engine through
//! the harness's own session code. Each page loads without a script error
//! or `console.error` (the pages record both in `window.pmconfErrors`), the
//! front page's numbers are the latest results file's (counted here from
//! its JSON), the filters act and live in the URL, and a case page opens
//! from its link.
//!
//! An engine that is not installed is skipped with a printed reason,
//! unless CI is set: then it fails.

mod common;

use common::nights::{night, pmconf, record, write, ENGINES, N};
use pmconf::engine::{discover, start_session, EngineId, ProcessRegistry};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// Runs `pmconf` in `dir`; it must succeed.
fn run(dir: &Path, args: &[&str]) {
    let out = pmconf(dir, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The site of the four nights, under `dir/site`.
fn build_site(dir: &Path) {
    std::fs::write(
        dir.join("known.yaml"),
        "- {engine: '*', case: cases/c/consensus.yaml, spec: 'https://github.com/whatwg/html/issues/222'}\n",
    )
    .unwrap();
    for n in 0..N.len() {
        write(&dir.join(format!("night{n}.json")), &night(n));
        let out = record(dir, n, &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    run(
        dir,
        &[
            "report",
            "site",
            "data",
            "-o",
            "site",
            "--known",
            "known.yaml",
        ],
    );
}

/// Per engine, (conforms, total) in the latest night's results file (the
/// one recorded), and the interop score, counted from the JSON.
fn expected(dir: &Path) -> (BTreeMap<String, (u64, u64)>, f64) {
    let text = std::fs::read_to_string(dir.join("night3.json")).unwrap();
    let results: Value = serde_json::from_str(&text).unwrap();
    let mut counts: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut cases: BTreeMap<String, bool> = BTreeMap::new();
    for r in results["results"].as_array().unwrap() {
        let conforms = r["verdict"] == "conforms";
        let c = counts
            .entry(r["engine"].as_str().unwrap().to_owned())
            .or_default();
        c.0 += u64::from(conforms);
        c.1 += 1;
        *cases
            .entry(r["case"].as_str().unwrap().to_owned())
            .or_insert(true) &= conforms;
    }
    let all = cases.values().filter(|v| **v).count() as f64;
    (counts, (all * 1000.0 / cases.len() as f64).round() / 10.0)
}

const READ_FRONT: &str = r#"
    const totals = {};
    document.querySelectorAll('#cases tr.totals td[data-engine]').forEach(td => {
      totals[td.dataset.engine] = [td.textContent, +td.dataset.conforms, +td.dataset.total];
    });
    const visible = [].slice.call(document.querySelectorAll('#cases tr.case'))
      .filter(tr => !tr.hidden && tr.offsetParent !== null).map(tr => tr.dataset.case);
    return {errors: window.pmconfErrors, totals, visible,
            score: document.getElementById('interop-score').textContent,
            title: document.title, search: location.search,
            svg: document.querySelectorAll('#trend circle').length,
            age: document.getElementById('age').textContent,
            stale: document.getElementById('age').className === 'stale'};
"#;

async fn check_engine(
    engine: EngineId,
    site: &Path,
    counts: &BTreeMap<String, (u64, u64)>,
    score: f64,
) {
    let installed = match discover(engine) {
        Ok(i) => i,
        Err(missing) if std::env::var_os("CI").is_some() => {
            panic!("CI is set and an engine is missing: {missing}")
        }
        Err(missing) => {
            eprintln!("skipping {}: {missing}", engine.name());
            return;
        }
    };
    let registry = ProcessRegistry::new();
    let _cleanup = registry.end_all_on_drop();
    // The pages need no network: the proxy accepts and never answers.
    let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let session = start_session(
        engine,
        &installed,
        &proxy.local_addr().unwrap().to_string(),
        &registry,
    )
    .await
    .unwrap_or_else(|e| panic!("{e}"));
    let index = format!("file://{}", site.join("index.html").display());
    let c = &session.client;

    c.goto(&index).await.unwrap();
    let front = c.execute(READ_FRONT, vec![]).await.unwrap();
    let name = engine.name();
    assert_eq!(front["errors"], json!([]), "{name}: {front}");
    assert_eq!(front["title"], format!("pmconf nightly {}", N[3]));
    for e in ENGINES {
        let (conforms, total) = counts[e];
        assert_eq!(
            front["totals"][e],
            json!([format!("{conforms}/{total}"), conforms, total]),
            "{name} {e}"
        );
    }
    assert_eq!(front["score"], format!("{score:.1}%"));
    assert_eq!(front["svg"], json!(16), "4 nights x (3 engines + interop)");
    // The night's age, by the reader's clock: past a day and a half, stale.
    let started = common::nights::NIGHT0_UNIX_MS + 3 * 86_400_000;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let stale = now > started + 36 * 3_600_000;
    assert_eq!(front["stale"], json!(stale), "{name}: {front}");
    let age = front["age"].as_str().unwrap();
    if stale {
        assert!(
            age.contains("days ago: stale, the nightly may have stopped"),
            "{name}: {age}"
        );
    } else {
        assert!(age.ends_with(" h ago"), "{name}: {age}");
    }
    assert_eq!(front["visible"].as_array().unwrap().len(), 8);

    // A filter chosen on the page goes into the URL...
    c.execute(
        "const s = document.getElementById('show'); s.value = 'diverging'; s.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await
    .unwrap();
    let filtered = c.execute(READ_FRONT, vec![]).await.unwrap();
    assert_eq!(filtered["search"], "?show=diverging", "{name}: {filtered}");
    assert_eq!(
        filtered["visible"],
        json!(["cases/a/changed.yaml", "cases/c/consensus.yaml"]),
        "{name}"
    );
    // ...and a URL with filters opens filtered.
    c.goto(&format!("{index}?show=diverging&engine=chromium"))
        .await
        .unwrap();
    let from_url = c.execute(READ_FRONT, vec![]).await.unwrap();
    assert_eq!(
        from_url["visible"],
        json!(["cases/c/consensus.yaml"]),
        "{name}: {from_url}"
    );
    assert_eq!(from_url["errors"], json!([]));

    // A case page, through its (relative) link.
    let link = c
        .execute(
            "return document.querySelector('a[href=\"case/cases__a__regress.yaml.html\"]').href",
            vec![],
        )
        .await
        .unwrap();
    c.goto(link.as_str().unwrap()).await.unwrap();
    let page = c
        .execute(
            "return {errors: window.pmconfErrors, h1: document.querySelector('h1').textContent,
                     rows: document.querySelectorAll('#timeline tr').length,
                     back: document.querySelector('a[href=\"../index.html\"]') !== null}",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        page,
        json!({"errors": [], "h1": "cases/a/regress.yaml", "rows": 5, "back": true}),
        "{name}"
    );
    session.close().await.unwrap();
    registry.end_all();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn site_loads_cleanly_and_shows_the_results_numbers_in_every_engine() {
    let dir = tempfile::tempdir().unwrap();
    build_site(dir.path());
    let (counts, score) = expected(dir.path());
    // Hand-checked against the table in nightly_reports.rs, so the count
    // above is itself right.
    assert_eq!(counts["webkitgtk"], (6, 8));
    assert_eq!(score, 75.0);
    for engine in EngineId::ALL {
        check_engine(engine, &dir.path().join("site"), &counts, score).await;
    }
}
