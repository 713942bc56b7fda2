//! Remote WebDriver through a real Selenium Grid on loopback
//! (`scripts/grid`): a standalone server, and a hub with two nodes. A
//! representative subset of the hand-written cases (one or more per topic,
//! race cases included) runs directly and through the Grid in all three
//! engines; both runs must match the accepted snapshots and agree on every
//! verdict. Also the command-line refusals of `--listen` and
//! `--webdriver-url`, which start nothing.
//!
//! The Grid needs Java and the Selenium jar, which `scripts/grid install`
//! fetches (Debian packages, `npm pack`): when that fails the Grid tests
//! are skipped with the reason, unless `CI` is set.

mod common;
use common::{ci, pmconf, text, workspace};

use pmconf::engine::{discover, EngineId};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Browser tests take the machine: one at a time.
static BROWSERS: Mutex<()> = Mutex::new(());

/// One or more cases per topic; the race cases run `--repeat 3`.
const SUBSET: &[&str] = &[
    "cases/target-origin/exact-match.yaml",
    "cases/target-origin/wrong-port.yaml",
    "cases/target-origin/blob-http-inner.yaml",
    "cases/messages/awkward-strings.yaml",
    "cases/messages/transferred-buffer-arrives.yaml",
    "cases/opaque/sandboxed-sender-null.yaml",
    "cases/opaque/data-frame-sender.yaml",
    "cases/serialization/https-origin.yaml",
    "cases/serialization/idn-unicode-sender.yaml",
    "cases/serialization/ipv6-loopback.yaml",
    "cases/exceptions/data-clone-error-function.yaml",
    "cases/topology/popup-both-ways.yaml",
    "cases/topology/sibling-frames.yaml",
    "cases/races/navigate-wait-post-new-origin.yaml",
    "cases/races/create-popup-then-post-star.yaml",
];

/// Every engine installed, or `None` (skip) outside CI.
fn all_engines() -> Option<()> {
    for e in EngineId::ALL {
        if let Err(missing) = discover(e) {
            assert!(!ci(), "CI is set and an engine is missing: {missing}");
            eprintln!("skipping: {missing}");
            return None;
        }
    }
    Some(())
}

/// A base port with the Grid's ports (base .. base+4 for a hub and two
/// nodes) free a moment ago.
fn free_base_port() -> u16 {
    for _ in 0..50 {
        let probe = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = probe.local_addr().unwrap().port();
        drop(probe);
        if base < 60000 && (base..=base + 4).all(|p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
            return base;
        }
    }
    panic!("no five free ports in a row");
}

/// A Grid started by `scripts/grid start` into its own state directory,
/// stopped (and checked to have ended every process it recorded) on drop.
struct Grid {
    dir: tempfile::TempDir,
    url: String,
    recorded: Vec<u32>,
    stopped: bool,
}

fn grid_script(dir: &Path) -> Command {
    let mut c = Command::new("bash");
    c.arg(workspace().join("scripts/grid"))
        .env("PMCONF_GRID_DIR", dir)
        // The jar and the plugin are fetched and built once for every test.
        .env("PMCONF_GRID_CACHE", workspace().join("target/grid/cache"));
    c
}

impl Grid {
    /// `None` when the Grid cannot be installed here (skipped outside CI).
    fn start(nodes: usize) -> Option<Grid> {
        let dir = tempfile::tempdir().unwrap();
        let install = grid_script(dir.path()).arg("install").output().unwrap();
        if !install.status.success() {
            assert!(
                !ci(),
                "CI is set and the Grid cannot be installed: {}",
                text(&install)
            );
            eprintln!("skipping: scripts/grid install failed: {}", text(&install));
            return None;
        }
        let out = grid_script(dir.path())
            .args(["start", "--nodes", &nodes.to_string()])
            .args(["--port", &free_base_port().to_string()])
            .output()
            .unwrap();
        assert!(out.status.success(), "scripts/grid start: {}", text(&out));
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "{url}");
        let pids = std::fs::read_to_string(dir.path().join("pids")).unwrap();
        let recorded: Vec<u32> = pids
            .lines()
            .map(|l| l.split_whitespace().nth(1).unwrap().parse().unwrap())
            .collect();
        // Xvfb, then the standalone server or a hub and its nodes.
        assert_eq!(
            recorded.len(),
            if nodes <= 1 { 2 } else { 2 + nodes },
            "{pids}"
        );
        Some(Grid {
            dir,
            url,
            recorded,
            stopped: false,
        })
    }

    fn status(&self) -> String {
        let out = grid_script(self.dir.path()).arg("status").output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn stop(&mut self) {
        self.stopped = true;
        let out = grid_script(self.dir.path()).arg("stop").output().unwrap();
        assert!(out.status.success(), "scripts/grid stop: {}", text(&out));
        for pid in &self.recorded {
            assert!(
                !alive(*pid),
                "scripts/grid stop left {pid} running: {}",
                cmdline(*pid)
            );
        }
        assert!(
            !self.dir.path().join("pids").exists(),
            "the pidfile is gone"
        );
    }
}

impl Drop for Grid {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = grid_script(self.dir.path()).arg("stop").output();
        }
    }
}

fn cmdline(pid: u32) -> String {
    String::from_utf8_lossy(&std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default())
        .replace('\0', " ")
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|stat| {
            !stat
                .rsplit(')')
                .next()
                .is_some_and(|s| s.trim_start().starts_with('Z'))
        })
        .unwrap_or(false)
}

/// A process's start time (field 22 of /proc/PID/stat), to tell a PID
/// from a later process that reused it.
fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit(')')
        .next()?
        .split_whitespace()
        .nth(19)?
        .parse()
        .ok()
}

/// Every live descendant of `roots`, as (pid, start time).
fn descendants(roots: &[u32]) -> BTreeSet<(u32, u64)> {
    let mut parents: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        if let Some(ppid) = stat
            .rsplit(')')
            .next()
            .and_then(|s| s.split_whitespace().nth(1))
            .and_then(|p| p.parse().ok())
        {
            parents.entry(ppid).or_default().push(pid);
        }
    }
    let mut out = BTreeSet::new();
    let mut todo: Vec<u32> = roots.to_vec();
    while let Some(pid) = todo.pop() {
        for &child in parents.get(&pid).map(Vec::as_slice).unwrap_or_default() {
            if let Some(started) = start_time(child) {
                if out.insert((child, started)) {
                    todo.push(child);
                }
            }
        }
    }
    out
}

/// Watches the Grid's process tree until dropped: every driver, browser
/// and helper it ever started (sampled every 100 ms).
struct TreeWatch {
    seen: std::sync::Arc<Mutex<BTreeMap<(u32, u64), String>>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TreeWatch {
    fn new(roots: Vec<u32>) -> TreeWatch {
        let seen = std::sync::Arc::new(Mutex::new(BTreeMap::new()));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (s, st) = (seen.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !st.load(std::sync::atomic::Ordering::Relaxed) {
                let now = descendants(&roots);
                let mut seen = s.lock().unwrap();
                for process in now {
                    // The latest command line: a process the JVM starts
                    // is jspawnhelper until it execs the driver.
                    let command = cmdline(process.0);
                    if !command.is_empty() {
                        seen.insert(process, command);
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        TreeWatch {
            seen,
            stop,
            thread: Some(thread),
        }
    }

    /// Stops watching; returns every process seen, with its command line.
    fn finish(mut self) -> BTreeMap<(u32, u64), String> {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
        std::mem::take(&mut *self.seen.lock().unwrap())
    }
}

/// Waits (bounded) until none of `processes` is alive (a PID whose start
/// time changed is another process).
fn assert_all_ended(processes: &BTreeMap<(u32, u64), String>, when: &str) {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let left: Vec<u32> = processes
            .keys()
            .filter(|(pid, started)| alive(*pid) && start_time(*pid) == Some(*started))
            .map(|(pid, _)| *pid)
            .collect();
        if left.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            let described: Vec<String> = left
                .iter()
                .map(|p| format!("{p}: {}", cmdline(*p)))
                .collect();
            panic!("{when}: processes left behind:\n{}", described.join("\n"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Runs the subset in all three engines against a copy of the accepted
/// snapshots; returns (engine, case) -> (verdict, observed outcome, or the
/// set of observed outcomes for a race case).
fn run_subset(extra: &[&str], what: &str) -> BTreeMap<(String, String), (String, Value)> {
    let dir = tempfile::tempdir().unwrap();
    let snapshots = dir.path().join("snapshots");
    let copied = Command::new("cp")
        .arg("-r")
        .arg(workspace().join("snapshots"))
        .arg(&snapshots)
        .status()
        .unwrap();
    assert!(copied.success());
    // Only the accepted snapshots: a pending one another test's run left
    // in the workspace (a race whose retry matched keeps what the first
    // attempt saw for review, by design) is not this run's.
    for stale in walk(&snapshots).into_iter().filter(|p| p.ends_with(".new")) {
        std::fs::remove_file(&stale).unwrap();
    }
    let results = dir.path().join("results.json");
    let out = pmconf()
        .arg("run")
        .args(SUBSET)
        .args(["--engine", "all", "--repeat", "3"])
        .args(extra)
        .arg("--snapshots")
        .arg(&snapshots)
        .arg("--results")
        .arg(&results)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: every case must match its accepted snapshot\n{}",
        text(&out)
    );
    let pending: Vec<String> = walk(&snapshots)
        .into_iter()
        .filter(|p| p.ends_with(".new"))
        .collect();
    assert!(pending.is_empty(), "{what}: pending snapshots {pending:?}");
    let results: Value = serde_json::from_str(&std::fs::read_to_string(&results).unwrap()).unwrap();
    let all = results["results"].as_array().unwrap();
    assert_eq!(
        all.len(),
        SUBSET.len() * 3,
        "{what}: every case in every engine"
    );
    all.iter()
        .map(|r| {
            let key = (
                r["engine"].as_str().unwrap().to_owned(),
                r["case"].as_str().unwrap().to_owned(),
            );
            let outcomes: BTreeSet<String> = r["histogram"]
                .as_array()
                .unwrap()
                .iter()
                .map(|b| b["outcome"].to_string())
                .collect();
            let seen = if r["case"].as_str().unwrap().contains("/races/") {
                // Which allowed outcomes a race shows varies run to run;
                // what must agree is that every one is allowed (the verdict).
                Value::Null
            } else {
                Value::from(outcomes.into_iter().collect::<Vec<_>>())
            };
            (key, (r["verdict"].as_str().unwrap().to_owned(), seen))
        })
        .collect()
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path.display().to_string());
        }
    }
    out
}

fn through_grid_as_directly(nodes: usize) {
    let _one = BROWSERS.lock().unwrap_or_else(|e| e.into_inner());
    if all_engines().is_none() {
        return;
    }
    let direct = run_subset(&[], "direct");
    let Some(mut grid) = Grid::start(nodes) else {
        return;
    };
    let status = grid.status();
    for browser in ["\"chrome\"", "\"firefox\"", "\"MiniBrowser\""] {
        assert!(
            status.contains(browser),
            "the Grid serves {browser}: {status}"
        );
    }
    let url = grid.url.clone();
    let watch = TreeWatch::new(grid.recorded.clone());
    // With two nodes (one slot per engine each), two sessions per engine
    // at once: each takes batches from the engine's one queue.
    let sessions: &[&str] = if nodes >= 2 {
        &["--sessions", "2"]
    } else {
        &[]
    };
    let through = run_subset(
        &[&["--webdriver-url", &url], sessions].concat(),
        "through the Grid",
    );
    let started = watch.finish();
    let count = |needle: &str| started.values().filter(|c| c.contains(needle)).count();
    assert!(
        count("chromedriver") >= 1 && count("geckodriver") >= 1 && count("WebKitWebDriver") >= 1,
        "the Grid started every engine's driver: {:?}",
        started.values().collect::<Vec<_>>()
    );
    assert_eq!(
        through, direct,
        "the same verdicts and outcomes through the Grid as directly"
    );
    grid.stop();
    assert_all_ended(&started, "after scripts/grid stop");
}

#[test]
fn the_subset_through_a_standalone_grid_is_the_same_as_directly() {
    through_grid_as_directly(0);
}

#[test]
fn the_subset_through_a_hub_with_two_nodes_is_the_same_as_directly() {
    through_grid_as_directly(2);
}

/// A refusal: exit 2, the message, nothing written, nothing started.
fn assert_refused(args: &[&str], words: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("out/results.json");
    let out = pmconf()
        .args(["run", "cases/target-origin/exact-match.yaml"])
        .args(args)
        .arg("--results")
        .arg(&results)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    for w in words {
        assert!(stderr.contains(w), "want {w:?} in:\n{stderr}");
    }
    assert!(
        !dir.path().join("out").exists(),
        "nothing written: {}",
        text(&out)
    );
}

#[test]
fn a_non_loopback_listen_address_needs_asking() {
    assert_refused(
        &["--listen", "0.0.0.0:0", "--engine", "chromium"],
        &["not a loopback address", "--allow-non-loopback", "*.test"],
    );
    assert_refused(
        &[
            "--listen",
            "0.0.0.0:0",
            "--allow-non-loopback",
            "--engine",
            "chromium",
        ],
        &["--advertise HOST"],
    );
    assert_refused(&["--listen", "localhost"], &["IP:PORT"]);
}

#[test]
fn bad_webdriver_urls_are_refused_before_anything_starts() {
    assert_refused(&["--webdriver-url", "grid:4444"], &["http://HOST:PORT"]);
    assert_refused(
        &["--webdriver-url", "safari=http://127.0.0.1:1"],
        &["unknown engine `safari`"],
    );
    assert_refused(
        &[
            "--engine",
            "chromium",
            "--webdriver-url",
            "firefox=http://127.0.0.1:1",
        ],
        &["--engine does not select"],
    );
}

/// An endpoint nobody listens on: the engine's setup fails with the URL and
/// what to check, and nothing is started here.
#[test]
fn an_unreachable_endpoint_is_a_setup_failure_naming_it() {
    let probe = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", probe.local_addr().unwrap().port());
    drop(probe);
    let dir = tempfile::tempdir().unwrap();
    let out = pmconf()
        .args([
            "run",
            "cases/target-origin/exact-match.yaml",
            "--engine",
            "webkitgtk",
        ])
        .args(["--webdriver-url", &url])
        .arg("--results")
        .arg(dir.path().join("results.json"))
        .output()
        .unwrap();
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains(&format!("remote WebDriver endpoint {url}")),
        "{all}"
    );
    assert!(all.contains("scripts/grid"), "{all}");
}
