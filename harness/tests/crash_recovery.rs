//! A crash costs one batch, not the run: in real browsers, through the
//! `pmconf` binary, the browser is killed (`kill -9`), the driver is
//! killed, or the browser is stopped (SIGSTOP) mid-run. Each time the run
//! must complete with every case reported once, at most the batch in
//! flight `crashed`, every other case matching its accepted snapshot, a
//! second session started, and nothing the run started left running.
//!
//! The PIDs come from the harness itself (`PMCONF_PIDFILE`), and leftovers
//! are looked for among the run's own processes only (its descendants,
//! and processes carrying its `PMCONF_OWNER` tag), never by name: other
//! browsers may run on the machine at the same time.
//!
//! An engine that is not installed is skipped with a printed reason,
//! unless `CI` is set: then it fails.

mod common;

use common::{command_line, tagged_by, workspace};

use pmconf::engine::{discover, EngineId, ProcessIdentity};
use serde_json::Value;
use std::collections::BTreeSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Browser tests take the machine: one at a time.
static BROWSERS: Mutex<()> = Mutex::new(());

/// Cases per batch: at most this many may be lost to one crash.
const BATCH: usize = 3;

/// The cases run: every directory without race cases (56 cases), so that
/// a run lasts long enough to be interrupted.
const CASE_DIRS: &[&str] = &[
    "cases/exceptions",
    "cases/messages",
    "cases/opaque",
    "cases/serialization",
    "cases/target-origin",
    "cases/topology",
];

fn installed(engine: EngineId) -> bool {
    match discover(engine) {
        Ok(_) => true,
        Err(missing) if std::env::var_os("CI").is_some() => {
            panic!("CI is set and an engine is missing: {missing}")
        }
        Err(missing) => {
            eprintln!("skipping {}: {missing}", engine.name());
            false
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Fault {
    KillBrowser,
    KillDriver,
    StopBrowser,
}

impl Fault {
    fn role(self) -> &'static str {
        match self {
            Fault::KillBrowser | Fault::StopBrowser => "browser",
            Fault::KillDriver => "driver",
        }
    }

    fn signal(self) -> i32 {
        match self {
            Fault::KillBrowser | Fault::KillDriver => libc::SIGKILL,
            Fault::StopBrowser => libc::SIGSTOP,
        }
    }
}

/// Every process below `root` now (by parent links in /proc).
fn descendants(root: u32) -> BTreeSet<ProcessIdentity> {
    let mut parent_of = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        let Some(close) = stat.rfind(')') else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        if let Some(ppid) = fields.get(1).and_then(|p| p.parse::<u32>().ok()) {
            parent_of.push((pid, ppid));
        }
    }
    let mut found = BTreeSet::from([root]);
    loop {
        let before = found.len();
        for (pid, ppid) in &parent_of {
            if found.contains(ppid) {
                found.insert(*pid);
            }
        }
        if found.len() == before {
            break;
        }
    }
    found.remove(&root);
    found.into_iter().filter_map(ProcessIdentity::of).collect()
}

/// The JSON lines of the PID file.
fn pid_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Starts `pmconf run` of [`CASE_DIRS`] in `engines` with a small batch, a
/// short command timeout and a PID file, output piped; returns the child,
/// the results file and the PID file.
fn start_run(engines: &str, dir: &Path) -> (std::process::Child, PathBuf, PathBuf) {
    let results = dir.join("results.json");
    let pidfile = dir.join("pids.jsonl");
    let child = Command::new(env!("CARGO_BIN_EXE_pmconf"))
        .current_dir(workspace())
        .arg("run")
        .args(CASE_DIRS)
        .args(["--engine", engines, "--batch", &BATCH.to_string()])
        // One more attempt for a changed snapshot (crashed cases are never
        // retried): Chromium may deliver two cross-process senders' posts
        // to one window out of order (the adopted queue-order finding),
        // rarely in plain cases, and a browser stopped and restarted
        // mid-run made it happen once in CI. That is the engine's
        // nondeterminism, which a run absorbs as "flaky", not a fault of
        // the recovery this test is about.
        .args(["--command-timeout", "5", "--retry-unexpected", "1"])
        .arg("--results")
        .arg(&results)
        .env("PMCONF_PIDFILE", &pidfile)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    (child, results, pidfile)
}

/// The results of a run, and how many cases [`CASE_DIRS`] hold.
fn results_and_case_count(results: &Path) -> (Vec<Value>, usize) {
    let value: Value = serde_json::from_str(&std::fs::read_to_string(results).unwrap()).unwrap();
    let dirs: Vec<PathBuf> = CASE_DIRS.iter().map(|d| workspace().join(d)).collect();
    let cases = pmconf::case_files::find_case_files(&dirs).unwrap().len();
    (value["results"].as_array().unwrap().clone(), cases)
}

fn run_with_fault(engine: EngineId, fault: Fault) {
    let _one = BROWSERS.lock().unwrap_or_else(|e| e.into_inner());
    if !installed(engine) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut child, results, pidfile) = start_run(engine.name(), dir.path());
    let pmconf = child.id();

    // Everything below pmconf, sampled while it runs.
    let seen = Arc::new(Mutex::new(BTreeSet::new()));
    let running = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (seen, running) = (seen.clone(), running.clone());
        std::thread::spawn(move || {
            while running.load(Ordering::SeqCst) {
                seen.lock().unwrap().extend(descendants(pmconf));
                std::thread::sleep(Duration::from_millis(100));
            }
        })
    };
    let stderr = {
        let mut pipe = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };

    // Mid-run: once a few cases have ended (a progress character each,
    // after the line saying the engine runs).
    let mut stdout = child.stdout.take().unwrap();
    let mut out = Vec::new();
    let mut byte = [0u8; 1];
    let mut progress = 0;
    while progress < 2 * BATCH {
        match stdout.read(&mut byte) {
            Ok(1) => {
                out.push(byte[0]);
                let text = String::from_utf8_lossy(&out);
                let started = text
                    .find(": running ")
                    .is_some_and(|at| text[at..].contains('\n'));
                if started && matches!(byte[0], b'.' | b'x') {
                    progress += 1;
                }
            }
            _ => panic!(
                "the run ended before the fault: {}",
                String::from_utf8_lossy(&out)
            ),
        }
    }
    let first = pid_lines(&pidfile);
    assert_eq!(
        first.len(),
        1,
        "one session so far: {first:?}\n{}",
        String::from_utf8_lossy(&out)
    );
    let victim = first[0][fault.role()]
        .as_u64()
        .unwrap_or_else(|| panic!("no {} PID in {:?}", fault.role(), first[0]))
        as u32;
    let victim_identity = ProcessIdentity::of(victim).expect("the victim runs");
    // SAFETY: kill only sends a signal, to a process this run started (its
    // PID as pmconf recorded it, checked to be running a moment ago).
    assert_eq!(unsafe { libc::kill(victim as i32, fault.signal()) }, 0);
    let faulted = Instant::now();

    stdout.read_to_end(&mut out).unwrap();
    let status = child.wait().unwrap();
    running.store(false, Ordering::SeqCst);
    sampler.join().unwrap();
    let stdout = String::from_utf8_lossy(&out).into_owned();
    let stderr = stderr.join().unwrap();
    let context = format!("--- stdout\n{stdout}\n--- stderr\n{stderr}");
    eprintln!(
        "{} {fault:?}: run ended {:.1} s after the fault",
        engine.name(),
        faulted.elapsed().as_secs_f64()
    );

    // The death was noticed and a new session started.
    assert!(
        stdout.contains(&format!("{}: session 1 died", engine.name())),
        "{context}"
    );
    let sessions = pid_lines(&pidfile);
    assert!(sessions.len() >= 2, "a second session: {sessions:?}");
    assert!(!victim_identity.is_running(), "the victim was ended");

    // Every case once; at most the batch in flight crashed; every other
    // case matched its accepted snapshot.
    let (all, cases) = results_and_case_count(&results);
    assert_eq!(all.len(), cases, "every case reported once\n{context}");
    let names: BTreeSet<&str> = all.iter().map(|r| r["case"].as_str().unwrap()).collect();
    assert_eq!(names.len(), cases, "no case twice");
    let crashed: Vec<&Value> = all.iter().filter(|r| r["verdict"] == "crashed").collect();
    assert!(crashed.len() <= BATCH, "{crashed:#?}");
    for r in &crashed {
        let reason = r["reason"].as_str().unwrap();
        assert!(reason.contains("driver's log"), "{reason}");
    }
    for r in all.iter().filter(|r| r["verdict"] != "crashed") {
        assert!(
            // contested: an outcome an open issue of the standard leaves
            // open (rare in Chromium's race cases, see e2e_browsers).
            (r["verdict"] == "conforms"
                || r["verdict"] == "diverges"
                || r["verdict"] == "contested")
                && r["snapshot"]["status"] == "matched",
            "{r:#}\n{context}"
        );
    }
    let expected_status = if crashed.is_empty() { 0 } else { 1 };
    assert_eq!(status.code(), Some(expected_status), "{context}");

    // Nothing the run started is left: not below it, not carrying its tag.
    let left: Vec<ProcessIdentity> = seen
        .lock()
        .unwrap()
        .iter()
        .copied()
        .filter(ProcessIdentity::is_running)
        .collect();
    let described: Vec<String> = left
        .iter()
        .map(|p| format!("{}: {}", p.pid, command_line(p.pid)))
        .collect();
    assert!(left.is_empty(), "left running:\n{}", described.join("\n"));
    assert_eq!(tagged_by(pmconf), vec![], "tagged processes left running");
}

#[test]
fn chromium_survives_its_browser_killed() {
    run_with_fault(EngineId::Chromium, Fault::KillBrowser);
}

#[test]
fn chromium_survives_its_driver_killed() {
    run_with_fault(EngineId::Chromium, Fault::KillDriver);
}

#[test]
fn chromium_survives_its_browser_stopped() {
    run_with_fault(EngineId::Chromium, Fault::StopBrowser);
}

#[test]
fn firefox_survives_its_browser_killed() {
    run_with_fault(EngineId::Firefox, Fault::KillBrowser);
}

#[test]
fn firefox_survives_its_driver_killed() {
    run_with_fault(EngineId::Firefox, Fault::KillDriver);
}

#[test]
fn firefox_survives_its_browser_stopped() {
    run_with_fault(EngineId::Firefox, Fault::StopBrowser);
}

#[test]
fn webkitgtk_survives_its_browser_killed() {
    run_with_fault(EngineId::WebKitGtk, Fault::KillBrowser);
}

#[test]
fn webkitgtk_survives_its_driver_killed() {
    run_with_fault(EngineId::WebKitGtk, Fault::KillDriver);
}

#[test]
fn webkitgtk_survives_its_browser_stopped() {
    run_with_fault(EngineId::WebKitGtk, Fault::StopBrowser);
}

#[test]
fn an_engine_that_keeps_dying_is_given_up_and_the_others_go_on() {
    let _one = BROWSERS.lock().unwrap_or_else(|e| e.into_inner());
    if !installed(EngineId::Chromium) {
        return;
    }
    // Another engine beside it, when there is one.
    let other = [EngineId::WebKitGtk, EngineId::Firefox]
        .into_iter()
        .find(|e| discover(*e).is_ok());
    let mut engines = vec!["chromium"];
    engines.extend(other.map(|e| e.name()));
    let dir = tempfile::tempdir().unwrap();
    let (child, results, pidfile) = start_run(&engines.join(","), dir.path());
    let pmconf = child.id();
    // Kill every Chromium browser as soon as its session is recorded.
    let killer = {
        let pidfile = pidfile.clone();
        std::thread::spawn(move || {
            let mut killed = BTreeSet::new();
            let deadline = Instant::now() + Duration::from_secs(120);
            while Instant::now() < deadline && ProcessIdentity::of(pmconf).is_some() {
                for line in pid_lines(&pidfile) {
                    let Some(browser) = line["browser"].as_u64() else {
                        continue;
                    };
                    if line["engine"] == "chromium" && killed.insert(browser) {
                        // SAFETY: only sends a signal, to the browser pmconf
                        // just recorded for its new session.
                        unsafe { libc::kill(browser as i32, libc::SIGKILL) };
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            killed.len()
        })
    };
    let out = child.wait_with_output().unwrap();
    let killed = killer.join().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let context = format!(
        "--- stdout\n{stdout}\n--- stderr\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(killed, 4, "one first session and three restarts\n{context}");
    assert!(
        stdout.contains("chromium: given up for the rest of the run: it needed more than 3 restarts within 60 s"),
        "{context}"
    );
    assert_eq!(out.status.code(), Some(1), "{context}");

    let (all, cases) = results_and_case_count(&results);
    let chromium: Vec<&Value> = all.iter().filter(|r| r["engine"] == "chromium").collect();
    assert_eq!(chromium.len(), cases, "every Chromium case is reported");
    assert!(
        chromium.iter().all(|r| r["verdict"] == "crashed"),
        "no Chromium session lived long enough to run a batch"
    );
    assert!(chromium.iter().any(|r| r["reason"]
        .as_str()
        .unwrap()
        .starts_with("not run: chromium was given up")));
    if let Some(other) = other {
        let theirs: Vec<&Value> = all.iter().filter(|r| r["engine"] == other.name()).collect();
        assert_eq!(theirs.len(), cases, "{} goes on", other.name());
        for r in theirs {
            assert_eq!(r["snapshot"]["status"], "matched", "{r:#}");
        }
    }
    assert_eq!(tagged_by(pmconf), vec![], "tagged processes left running");
}
