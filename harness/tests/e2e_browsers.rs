//! End to end, in real browsers: every hand-written case in every engine,
//! through the `pmconf` binary, its real server and proxy, and real drivers.
//!
//! An engine that is not installed is skipped with a printed reason, unless
//! `CI` is set: then a missing engine fails the test.

use pmconf::engine::{discover, EngineId};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Browser tests take the machine: one at a time.
static BROWSERS: Mutex<()> = Mutex::new(());

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn ci() -> bool {
    std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The engines to test: all three; a missing one fails under CI and is
/// skipped otherwise.
fn engines() -> Vec<EngineId> {
    let mut out = Vec::new();
    for e in EngineId::ALL {
        match discover(e) {
            Ok(_) => out.push(e),
            Err(missing) if ci() => panic!("CI is set and an engine is missing: {missing}"),
            Err(missing) => eprintln!("skipping {}: {missing}", e.name()),
        }
    }
    out
}

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
        for r in &mine {
            assert!(
                r["verdict"] == "conforms" || r["verdict"] == "diverges",
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
            "--dry-run",
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
