//! End to end, in real browsers: every hand-written case in every engine,
//! through the `pmconf` binary, its real server and proxy, and real drivers.
//!
//! An engine that is not installed is skipped with a printed reason, unless
//! `CI` is set: then a missing engine fails the test.

mod common;

use common::{ci, engines, workspace};

use pmconf::engine::{discover, EngineId};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Browser tests take the machine: one at a time.
static BROWSERS: Mutex<()> = Mutex::new(());

fn engine_list(engines: &[EngineId]) -> String {
    engines
        .iter()
        .map(|e| e.name())
        .collect::<Vec<_>>()
        .join(",")
}

/// PIDs of browser, driver and display processes alive now (by command
/// line; used only to look, never to kill).
fn browser_processes() -> BTreeSet<u32> {
    const NEEDLES: &[&str] = &[
        "chromium",
        "chromedriver",
        "geckodriver",
        "firefox",
        "WebKit",
        "MiniBrowser",
        "Xvfb",
    ];
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = stat
            .rsplit(')')
            .next()
            .is_some_and(|s| s.trim_start().starts_with('Z'));
        let cmd = String::from_utf8_lossy(&cmdline);
        if !zombie && NEEDLES.iter().any(|n| cmd.contains(n)) {
            out.insert(pid);
        }
    }
    out
}

/// Waits (bounded) until no process outside `before` is left.
fn assert_no_new_processes(before: &BTreeSet<u32>, when: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let left: Vec<u32> = browser_processes().difference(before).copied().collect();
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            let described: Vec<String> = left
                .iter()
                .map(|p| {
                    format!(
                        "{p}: {}",
                        String::from_utf8_lossy(
                            &std::fs::read(format!("/proc/{p}/cmdline")).unwrap_or_default()
                        )
                        .replace('\0', " ")
                    )
                })
                .collect();
            panic!("{when}: processes left behind:\n{}", described.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn pmconf() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pmconf"));
    c.current_dir(workspace());
    c
}

#[test]
fn hand_written_cases_in_every_engine() {
    let _one = BROWSERS.lock().unwrap_or_else(|e| e.into_inner());
    let engines = engines();
    if engines.is_empty() {
        eprintln!("no engine installed: nothing to run (run scripts/install-engines)");
        return;
    }
    let before = browser_processes();
    let out_dir = tempfile::tempdir().unwrap();
    let results = out_dir.path().join("results.json");
    let html = out_dir.path().join("report.html");
    let out = pmconf()
        .args([
            "run",
            "cases",
            "--repeat",
            "5",
            "--engine",
            &engine_list(&engines),
        ])
        .arg("--results")
        .arg(&results)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "every case must match its accepted snapshot in every engine\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
    );
    assert_no_new_processes(&before, "after a run");

    let results: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let all = results["results"].as_array().unwrap();
    let case_count = pmconf::case_files::find_case_files(&[workspace().join("cases")])
        .unwrap()
        .len();
    assert!(case_count >= 40);
    let race_count = pmconf::case_files::find_case_files(&[workspace().join("cases/races")])
        .unwrap()
        .len();
    assert!(
        race_count >= 30,
        "at least 30 race cases, found {race_count}"
    );
    for e in &engines {
        let mine: Vec<&Value> = all.iter().filter(|r| r["engine"] == e.name()).collect();
        assert_eq!(mine.len(), case_count, "{}: every case ran", e.name());
        // Every race case ran five times, and its histogram accounts for
        // every observed run.
        let races: Vec<&&Value> = mine
            .iter()
            .filter(|r| r["case"].as_str().unwrap().contains("cases/races/"))
            .collect();
        assert_eq!(races.len(), race_count, "{}: every race case ran", e.name());
        for r in &races {
            assert_eq!(r["runs"], 5, "{} {}", e.name(), r["case"]);
            let counted: u64 = r["histogram"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["count"].as_u64().unwrap())
                .sum();
            assert_eq!(
                counted + r["unobserved_runs"].as_u64().unwrap(),
                5,
                "{} {}: {r:#}",
                e.name(),
                r["case"]
            );
            assert!(
                counted > 0,
                "{} {}: no run observed anything",
                e.name(),
                r["case"]
            );
        }
        // Contested: an outcome an open issue of the standard leaves open
        // (Chromium shows whatwg/html#3691's in about 1 run of 100 of two
        // race cases); never inconclusive or an error.
        for r in &mine {
            assert!(
                r["verdict"] == "conforms"
                    || r["verdict"] == "diverges"
                    || r["verdict"] == "contested",
                "{} {}: {} ({})",
                e.name(),
                r["case"],
                r["verdict"],
                r["reason"]
            );
        }
        let find = |case: &str| -> &Value {
            mine.iter()
                .find(|r| r["case"].as_str().unwrap().ends_with(case))
                .unwrap_or_else(|| panic!("{case} ran"))
        };
        // </script>, quotes, backslashes, U+2028 and a lone surrogate arrive exactly as sent.
        let awkward = find("messages/awkward-strings.yaml");
        assert_eq!(awkward["verdict"], "conforms", "{}: {awkward:#}", e.name());
        let got = &awkward["observed"]["received"]["child"];
        assert_eq!(got[0]["message"], "</script><script>alert(1)</script>");
        assert_eq!(got[2]["message"], "line\u{2028}separator\u{2029}paragraph");
        assert_eq!(
            got[3]["message"],
            serde_json::json!({"$utf16": [0x61, 0xD800, 0x62]})
        );
        // An https case and an IDN case run and are observed in every engine.
        let https = find("serialization/https-origin.yaml");
        assert_eq!(
            https["observed"]["received"]["child"][0]["origin"],
            "https://a.test",
            "{}",
            e.name()
        );
        let idn = find("serialization/idn-unicode-sender.yaml");
        assert!(
            idn["observed"]["received"]["top"][0]["origin"]
                .as_str()
                .unwrap()
                .contains("bcher"),
            "{}: {idn:#}",
            e.name()
        );
    }
    let report = std::fs::read_to_string(&html).unwrap();
    assert!(report.contains("awkward-strings"));
    // A result that was unexpected at first and as expected when run
    // again does not fail the run; its earlier attempts are shown here
    // and in the reports, and each was a changed snapshot.
    for r in all.iter().filter(|r| r.get("earlier_attempts").is_some()) {
        eprintln!(
            "flaky: {} {} ({} earlier attempts)",
            r["engine"],
            r["case"],
            r["earlier_attempts"].as_array().unwrap().len()
        );
        for a in r["earlier_attempts"].as_array().unwrap() {
            assert_eq!(a["snapshot"]["status"], "changed", "{r:#}");
            assert_eq!(a["runs"], r["runs"], "an attempt runs every repeat: {r:#}");
        }
    }
}

/// An accepted snapshot that no engine can match makes the case run again
/// (`--retry-unexpected 2`: three attempts in all), then the last attempt
/// stands: the run fails and the result lists both earlier attempts.
#[test]
fn an_unexpected_result_runs_again_then_stands() {
    let _one = BROWSERS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(engine) = engines().first().copied() else {
        eprintln!("no engine installed: nothing to run (run scripts/install-engines)");
        return;
    };
    let before = browser_processes();
    let dir = tempfile::tempdir().unwrap();
    let snapshots = dir.path().join("snapshots");
    let name = format!("{}/target-origin__exact-match.snap", engine.name());
    let accepted = std::fs::read_to_string(workspace().join("snapshots").join(&name)).unwrap();
    // The real snapshot, with the message's origin changed: nobody
    // observes this.
    let wrong = accepted.replace(
        "origin: http://a.test:8000",
        "origin: http://wrong.test:8000",
    );
    assert_ne!(wrong, accepted, "the fixture must change the snapshot");
    std::fs::create_dir_all(snapshots.join(engine.name())).unwrap();
    std::fs::write(snapshots.join(&name), &wrong).unwrap();
    let results = dir.path().join("results.json");
    let out = pmconf()
        .args([
            "run",
            "cases/target-origin/exact-match.yaml",
            "--retry-unexpected",
            "2",
        ])
        .args(["--engine", engine.name()])
        .arg("--snapshots")
        .arg(&snapshots)
        .arg("--results")
        .arg(&results)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("snapshot changed"), "{stdout}");
    assert_no_new_processes(&before, "after a run with retries");
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let all = results["results"].as_array().unwrap();
    assert_eq!(all.len(), 1, "one result, however often it ran: {all:#?}");
    let r = &all[0];
    assert_eq!(r["snapshot"]["status"], "changed", "{r:#}");
    let earlier = r["earlier_attempts"].as_array().expect("earlier attempts");
    assert_eq!(earlier.len(), 2, "{r:#}");
    for a in earlier {
        assert_eq!(a["snapshot"]["status"], "changed");
        assert_eq!(a["verdict"], r["verdict"]);
    }
    assert_eq!(results["summary"][engine.name()]["runs"], 3);
    assert_eq!(results["summary"][engine.name()]["flaky"], 0);
    // The accepted snapshot is untouched; the pending one holds what was
    // observed.
    assert_eq!(
        std::fs::read_to_string(snapshots.join(&name)).unwrap(),
        wrong
    );
    let pending = std::fs::read_to_string(snapshots.join(format!("{name}.new"))).unwrap();
    assert!(pending.contains("http://a.test:8000"), "{pending}");
}

#[test]
fn ctrl_c_ends_every_process_the_harness_started() {
    let _one = BROWSERS.lock().unwrap_or_else(|e| e.into_inner());
    let engines = engines();
    if engines.is_empty() {
        eprintln!("no engine installed: nothing to interrupt");
        return;
    }
    let before = browser_processes();
    let out_dir = tempfile::tempdir().unwrap();
    let mut child: Child = pmconf()
        .args([
            "bench",
            "--cases",
            "400",
            "--engine",
            &engine_list(&engines),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait until every engine's browser is up (bounded).
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let started = browser_processes().difference(&before).count();
        if started >= engines.len() * 2 {
            break;
        }
        assert!(Instant::now() < deadline, "browsers never started");
        assert!(
            child.try_wait().unwrap().is_none(),
            "pmconf exited before it was interrupted"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(2));
    // SAFETY: kill(2) on the PID of a child this test spawned and has not
    // reaped yet.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            Instant::now() < deadline,
            "pmconf did not exit after SIGINT"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(130), "exit status after SIGINT");
    assert_no_new_processes(&before, "after SIGINT");
    drop(out_dir);
}

#[test]
fn fifty_generated_race_cases_in_every_engine() {
    let _one = BROWSERS.lock().unwrap_or_else(|e| e.into_inner());
    let engines = engines();
    if engines.is_empty() {
        eprintln!("no engine installed: nothing to run");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("races.json");
    let child = pmconf()
        .args([
            "fuzz",
            "--races",
            "--seed",
            "21",
            "--cases",
            "50",
            "--repeat",
            "2",
            "--no-save",
            "--engine",
            &engine_list(&engines),
        ])
        .arg("--results")
        .arg(&summary)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("runs/s"), "throughput is printed: {stdout}");
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(summary["valid"], 50, "{summary:#}");
    assert_eq!(summary["refused"], serde_json::json!([]));
    assert_eq!(summary["setup_failures"], serde_json::json!([]));
    let per_engine = summary["engines"].as_array().unwrap();
    assert_eq!(per_engine.len(), engines.len(), "{summary:#}");
    // No case without an outcome. A single run that observed nothing is
    // tolerated per engine (its case's other run observed one): Chromium,
    // three engines at once on two cores, now and then misses a frame's
    // last navigation within the ready timeout (seen once in four
    // fresh-clone CI runs, 7 Dec: `left never loaded document left@5`,
    // race-21-46; 10 of 10 alone). The exit status says whether any run
    // observed nothing.
    let mut faults = 0;
    for e in per_engine {
        assert_eq!(e["tally"]["cases"], 50, "{e:#}");
        assert_eq!(e["tally"]["runs"], 100, "two runs of each case: {e:#}");
        assert_eq!(e["tally"]["inconclusive"], 0, "{e:#}\n{stdout}");
        assert_eq!(e["tally"]["internal_error"], 0, "{e:#}\n{stdout}");
        assert_eq!(e["tally"]["crashed"], 0, "{e:#}\n{stdout}");
        let f = e["faults"].as_u64().unwrap();
        assert!(
            f <= 1,
            "at most one run without an outcome: {e:#}\n{stdout}"
        );
        faults += f;
    }
    // 0: no harness fault (divergences are reported, not saved); 1 when a
    // run observed nothing.
    assert_eq!(
        out.status.code(),
        Some(if faults == 0 { 0 } else { 1 }),
        "{stdout}\n{stderr}"
    );
    for d in summary["divergences"].as_array().unwrap() {
        eprintln!("divergence: {} {}", d["engine"], d["case"]);
    }
    // Nothing the run started is left (by its ownership tag, not by name:
    // other browsers may run on the machine at the same time).
    let deadline = Instant::now() + Duration::from_secs(15);
    while !common::tagged_by(pid).is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(common::tagged_by(pid), vec![], "left running after the run");
    assert!(!dir.path().join("found").exists());
}

#[test]
fn a_hundred_generated_cases_in_every_engine() {
    let _one = BROWSERS.lock().unwrap_or_else(|e| e.into_inner());
    let engines = engines();
    if engines.is_empty() {
        eprintln!("no engine installed: nothing to run");
        return;
    }
    let before = browser_processes();
    let dir = tempfile::tempdir().unwrap();
    let summary = dir.path().join("fuzz.json");
    let out = pmconf()
        .args([
            "fuzz",
            "--seed",
            "11",
            "--cases",
            "100",
            "--max-shrinks",
            "0",
            "--no-save",
            "--engine",
            &engine_list(&engines),
        ])
        .arg("--results")
        .arg(&summary)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("pmconf fuzz --seed 11 --cases 100"),
        "the seed is printed: {stdout}"
    );
    let summary: Value = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    assert_eq!(
        summary["valid"], 100,
        "the model answers every generated case"
    );
    assert_eq!(summary["unanswerable"], 0);
    let per_engine = summary["engines"].as_array().unwrap();
    assert_eq!(per_engine.len(), engines.len());
    for e in per_engine {
        assert_eq!(e["error"], Value::Null, "{e:#}");
        assert_eq!(e["ran"], 100, "{e:#}");
        assert_eq!(
            e["inconclusive"], 0,
            "every generated case is observed: {e:#}"
        );
    }
    assert_no_new_processes(&before, "after fuzzing");
    // Nothing was written into the repository.
    assert!(!dir.path().join("cases").exists());
}

/// Copies a directory tree.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// The accepted snapshots under `dir` (any depth), with their text.
fn snapshot_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(snapshot_files(&path));
        } else if path.extension().is_some_and(|e| e == "snap") {
            out.push((path.clone(), std::fs::read_to_string(&path).unwrap()));
        }
    }
    out.sort();
    out
}

/// The case a snapshot is of (its `input_file:` header line).
fn snapshot_case(text: &str) -> Option<&str> {
    text.lines()
        .find_map(|l| l.strip_prefix("input_file: "))
        .map(str::trim)
}

/// `POST /session/{id}/se/log` with `{"type": "browser"}`: the browser's
/// console messages since the last call (a ChromeDriver extension).
#[derive(Debug)]
struct BrowserLog;

impl fantoccini::wd::WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!("session/{}/se/log", session_id.unwrap_or("")))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (http::Method::POST, Some(r#"{"type":"browser"}"#.to_owned()))
    }
}

/// The console messages of level SEVERE (errors) the browser logged
/// since the last call.
async fn console_errors(client: &fantoccini::Client) -> Vec<String> {
    let log = client.issue_cmd(BrowserLog).await.unwrap();
    log.as_array()
        .unwrap_or_else(|| panic!("a log is a list: {log}"))
        .iter()
        .filter(|e| e["level"] == "SEVERE")
        .map(|e| e["message"].to_string())
        .collect()
}

/// The HTML report of a small run, looked at in a real browser: one case
/// with an unexpected result (a conforming case whose accepted snapshot,
/// in a temporary snapshots directory, says it diverged), one known
/// divergence, one race case, in one engine with `--html`. The page,
/// opened in headless Chromium over WebDriver, leads with a needs-action
/// section naming only the unexpected case, visible without scrolling;
/// logs no console error; and its engines table holds the results file's
/// numbers.
#[test]
fn the_html_report_leads_with_what_needs_action_in_a_real_browser() {
    let _one = BROWSERS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(engine) = engines().first().copied() else {
        eprintln!("no engine installed: nothing to run (run scripts/install-engines)");
        return;
    };
    let viewer = match discover(EngineId::Chromium) {
        Ok(installed) => installed,
        Err(missing) if ci() => panic!("CI is set and Chromium is missing: {missing}"),
        Err(missing) => {
            eprintln!("skipping: the page is checked in Chromium: {missing}");
            return;
        }
    };
    let before = browser_processes();
    let dir = tempfile::tempdir().unwrap();
    let snapshots = dir.path().join("snapshots");
    copy_tree(
        &workspace().join("snapshots").join(engine.name()),
        &snapshots.join(engine.name()),
    );
    // The model's accepted answers too: a pending model snapshot needs
    // action as well (issue 27 item 1), and this page is to list one thing.
    copy_tree(
        &workspace().join("snapshots/model"),
        &snapshots.join("model"),
    );
    let accepted = snapshot_files(&snapshots.join(engine.name()));
    let unexpected = "cases/target-origin/exact-match.yaml";
    let (path, text) = accepted
        .iter()
        .find(|(_, text)| snapshot_case(text) == Some(unexpected))
        .expect("an accepted snapshot of the exact-match case");
    let wrong = text.replace("verdict: conforms", "verdict: diverges");
    assert_ne!(&wrong, text, "the fixture must change the snapshot");
    std::fs::write(path, wrong).unwrap();
    let known = accepted
        .iter()
        .filter(|(_, text)| text.contains("\nverdict: diverges\n"))
        .filter_map(|(_, text)| snapshot_case(text))
        .find(|case| !case.contains("/races/") && !case.contains("/found/"))
        .expect("a known divergence in this engine")
        .to_owned();
    let race = "cases/races/post-then-remove-separate-tasks.yaml";
    let results = dir.path().join("results.json");
    let html = dir.path().join("report.html");
    let out = pmconf()
        .args(["run", unexpected, &known, race, "--repeat", "3"])
        .args(["--engine", engine.name()])
        .arg("--snapshots")
        .arg(&snapshots)
        .arg("--results")
        .arg(&results)
        .arg("--html")
        .arg(&html)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    let engine_name = engine.name();
    assert!(
        stdout.contains(&format!(
            "UNEXPECTED {engine_name} {unexpected}: conforms, snapshot changed"
        )),
        "{stdout}"
    );
    // Three cases, however often the race and the retries ran.
    assert!(
        stdout.contains(&format!("\n{engine_name}: 3 cases (")),
        "{stdout}"
    );
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let summary = &results["summary"][engine_name];
    assert_eq!(summary["unexpected"], 1, "{results:#}");
    assert_eq!(summary["accepted_divergences"], 1, "{results:#}");
    assert!(results["run"]["revision"].is_string(), "{results:#}");

    let page_url = url::Url::from_file_path(&html).unwrap().to_string();
    let registry = pmconf::engine::ProcessRegistry::new();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // A proxy that never answers: the page needs no network at all.
        let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let proxy = proxy.local_addr().unwrap().to_string();
        let session = pmconf::engine::start_session(EngineId::Chromium, &viewer, &proxy, &registry)
            .await
            .unwrap();
        let client = &session.client;
        // The console check can fail: a page that logs an error is seen.
        client
            .goto("data:text/html,<script>console.error('pmconf-calibration')</script>")
            .await
            .unwrap();
        let seen = console_errors(client).await;
        assert!(
            seen.iter().any(|m| m.contains("pmconf-calibration")),
            "the browser log shows console errors: {seen:?}"
        );

        client.goto(&page_url).await.unwrap();
        let page: Value = client
            .execute(
                r#"
                const top = document.querySelector('#needs-action');
                const cell = (row, key) => row.querySelector(`[data-key="${key}"]`);
                const row = document.querySelector(`#engines tr[data-engine="${arguments[0]}"]`);
                return {
                    first_section: document.querySelector('section, h2').id,
                    needs_action_top: top.getBoundingClientRect().top,
                    viewport: window.innerHeight,
                    heading: top.querySelector('h2').textContent,
                    cases: [...top.querySelectorAll('tr[data-case]')].map(r => r.dataset.case),
                    what: [...top.querySelectorAll('tr[data-case] td')].map(td => td.textContent),
                    counts: Object.fromEntries([...row.querySelectorAll('[data-key]')]
                        .map(td => [td.dataset.key, td.textContent])),
                    header: document.querySelector('#run-info').textContent,
                };
                "#,
                vec![Value::from(engine_name)],
            )
            .await
            .unwrap();
        let errors = console_errors(client).await;
        session.close().await.unwrap();

        assert_eq!(page["first_section"], "needs-action", "{page:#}");
        assert!(
            page["needs_action_top"].as_f64().unwrap() < page["viewport"].as_f64().unwrap(),
            "needs action is on screen without scrolling: {page:#}"
        );
        assert_eq!(page["heading"], "Needs action (1)", "{page:#}");
        assert_eq!(page["cases"], serde_json::json!([unexpected]), "{page:#}");
        assert!(
            page["what"]
                .as_array()
                .unwrap()
                .iter()
                .any(|t| t == "conforms, snapshot changed"),
            "{page:#}"
        );
        let counts = page["counts"].as_object().unwrap();
        for key in [
            "conforms",
            "diverges",
            "accepted_divergences",
            "inconclusive",
            "internal_error",
            "unexpected",
            "runs",
            "cases_per_second",
        ] {
            let shown: f64 = counts[key].as_str().unwrap().parse().unwrap();
            let filed = summary[key].as_f64().unwrap();
            assert!(
                (shown - filed).abs() < 0.006,
                "{key}: page {shown}, results file {filed}"
            );
        }
        let header = page["header"].as_str().unwrap();
        assert!(header.contains("UTC"), "{header}");
        assert!(header.contains("--html"), "{header}");
        assert!(
            header.contains(&format!(
                "{engine_name} {}",
                results["engines"][0]["browser_version"].as_str().unwrap()
            )),
            "{header}"
        );
        assert_eq!(errors, Vec::<String>::new(), "console errors on the report");
    });
    drop(registry);
    assert_no_new_processes(&before, "after looking at the report");
}

/// `bench --profile` on a tiny bench (a cross-site frame, so pages run in
/// renderer or content processes) counts what must be there in every
/// engine: every case run's page loads, reports and WebDriver commands,
/// time in the mount and steps phases, and CPU time of the harness, the
/// browser and the processes where pages run (and of the driver when tasks
/// go through it).
#[test]
fn bench_profile_has_figures_where_they_must_be() {
    let _one = BROWSERS.lock().unwrap_or_else(|e| e.into_inner());
    let engines = engines();
    if engines.is_empty() {
        eprintln!("no engine installed: nothing to profile");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("profile.json");
    let out = pmconf()
        .args([
            "bench",
            "cases/topology/iframe-both-ways.yaml",
            "--cases",
            "12",
        ])
        .args(["--engine", &engine_list(&engines), "--profile"])
        .arg("--profile-json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("CPU ms renderer"), "{stdout}");
    let profile: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(
        profile["harness_cpu"].as_f64().unwrap() > 0.0,
        "{profile:#}"
    );
    for engine in &engines {
        let e = profile["engines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["engine"] == engine.name())
            .unwrap_or_else(|| panic!("no {} in {profile:#}", engine.name()));
        let counts = &e["counts"];
        let number = |v: &Value| v.as_f64().unwrap_or(0.0);
        assert_eq!(counts["runs"], 12, "{e:#}");
        // Two windows per case, each one page load and at least a ready
        // report, a message report and a marker.
        assert!(number(&counts["page_loads"]) >= 24.0, "{e:#}");
        assert!(number(&counts["reports"]) >= 12.0 * 6.0, "{e:#}");
        // Steps go over the channel: WebDriver only loads the runner
        // page, at most half a command per run.
        assert!(number(&e["webdriver_commands"]) <= 6.0, "{e:#}");
        for phase in ["mount_load", "steps"] {
            assert!(number(&counts["phases"][phase]) > 0.0, "{phase}: {e:#}");
        }
        for kind in ["browser", "renderer"] {
            assert!(number(&e["cpu"][kind]) > 0.0, "{kind}: {e:#}");
        }
        // On the channel the driver only starts the session and loads the
        // runner page: its CPU is counted (the key is there) but may be
        // below the 10 ms a sample can see (geckodriver measured 0.0 on a
        // fresh CI machine). With --via webdriver it must work: below.
        assert!(e["cpu"]["driver"].as_f64().is_some(), "driver: {e:#}");
        // Chromium (site isolation) starts a renderer process for the
        // cross-site frame's site. Firefox keeps preallocated content
        // processes (seen as `created: {}` on a CI machine) and WebKitGTK's
        // web process may already be running when the session starts, so
        // neither has to create one.
        if *engine == EngineId::Chromium {
            assert!(number(&e["created"]["renderer"]) >= 1.0, "{e:#}");
        }
    }
    // The same cases with a WebDriver script call per task: the count is
    // the session's real commands (a script per window with steps at
    // least).
    let first = engines[0].name();
    let out = pmconf()
        .args([
            "bench",
            "cases/topology/iframe-both-ways.yaml",
            "--cases",
            "12",
        ])
        .args(["--engine", first, "--via", "webdriver", "--profile"])
        .arg("--profile-json")
        .arg(&json)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", common::text(&out));
    let profile: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let commands = profile["engines"][0]["webdriver_commands"]
        .as_f64()
        .unwrap_or(0.0);
    assert!(commands >= 24.0, "{first} --via webdriver: {profile:#}");
    let driver_cpu = profile["engines"][0]["cpu"]["driver"]
        .as_f64()
        .unwrap_or(0.0);
    assert!(driver_cpu > 0.0, "{first} --via webdriver: {profile:#}");
}
