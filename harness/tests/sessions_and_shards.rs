//! `run --sessions N` and `run --shard K/N`, through the `pmconf` binary
//! (real browsers, drivers, server and proxy where a run is needed).
//!
//! An engine that is not installed is skipped with a printed reason,
//! unless `CI` is set: then it fails.

mod common;

use common::{engines, workspace};

use pmconf::engine::OWNER_VARIABLE;
use pmconf::run::shard::Shard;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

/// Browser tests take the machine: one at a time.
static BROWSERS: Mutex<()> = Mutex::new(());

fn pmconf() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pmconf"));
    c.current_dir(workspace());
    c
}

/// The case paths under `dirs`, as `pmconf run DIR` names them (relative
/// to the workspace, `/` separators).
fn case_names(dirs: &[&str]) -> BTreeSet<String> {
    let root = workspace();
    let paths: Vec<PathBuf> = dirs.iter().map(|d| root.join(d)).collect();
    pmconf::case_files::find_case_files(&paths)
        .unwrap()
        .iter()
        .map(|p| {
            p.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/")
        })
        .collect()
}

fn results_of(path: &Path) -> Vec<Value> {
    let results: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    results["results"].as_array().unwrap().clone()
}

/// Running processes still carrying the ownership tag of pmconf `pid`.
fn tagged_by(pid: u32) -> Vec<u32> {
    let prefix = format!("{OWNER_VARIABLE}={pid}.");
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_string_lossy().parse::<u32>().ok())
        .filter(|p| {
            std::fs::read(format!("/proc/{p}/environ")).is_ok_and(|env| {
                env.split(|b| *b == 0)
                    .any(|v| v.starts_with(prefix.as_bytes()))
            })
        })
        .filter(|p| pmconf::engine::ProcessIdentity::of(*p).is_some_and(|i| i.is_running()))
        .collect()
}

#[test]
fn a_bad_shard_is_refused_with_the_fix() {
    for bad in ["0/2", "3/2", "2", "x/2", "1/0"] {
        let out = pmconf()
            .args(["run", "cases/messages", "--shard", bad])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{bad}: {stderr}");
        assert!(stderr.contains("write K/N"), "{bad}: {stderr}");
    }
}

#[test]
fn shards_one_to_n_hold_every_hand_written_case_exactly_once() {
    let all = case_names(&["cases"]);
    assert!(all.len() >= 100, "{}", all.len());
    for count in 1..=7u32 {
        let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
        for index in 1..=count {
            let shard = Shard { index, count };
            for name in all.iter().filter(|n| shard.contains(n)) {
                *seen.entry(name).or_default() += 1;
            }
        }
        assert_eq!(seen.len(), all.len(), "{count} shards miss a case");
        assert!(seen.values().all(|&n| n == 1), "{count}: {seen:?}");
    }
}

#[test]
fn two_shards_run_in_an_engine_cover_the_cases_once() {
    let _one = BROWSERS.lock().unwrap_or_else(|e| e.into_inner());
    let Some(engine) = engines().into_iter().last() else {
        return;
    };
    let dirs = ["cases/target-origin", "cases/opaque"];
    let dir = tempfile::tempdir().unwrap();
    let mut ran: Vec<BTreeSet<String>> = Vec::new();
    for k in 1..=2 {
        let results = dir.path().join(format!("shard{k}.json"));
        let out = pmconf()
            .arg("run")
            .args(dirs)
            .args(["--engine", engine.name(), "--shard", &format!("{k}/2")])
            .arg("--results")
            .arg(&results)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        assert!(stdout.contains(&format!("shard {k}/2: ")), "{stdout}");
        ran.push(
            results_of(&results)
                .iter()
                .map(|r| r["case"].as_str().unwrap().to_owned())
                .collect(),
        );
    }
    assert!(!ran[0].is_empty() && !ran[1].is_empty(), "{ran:?}");
    assert!(ran[0].is_disjoint(&ran[1]), "{ran:?}");
    let union: BTreeSet<String> = ran[0].union(&ran[1]).cloned().collect();
    assert_eq!(union, case_names(&dirs));
}

#[test]
fn two_sessions_per_engine_run_every_case_once_and_match_the_snapshots() {
    let _one = BROWSERS.lock().unwrap_or_else(|e| e.into_inner());
    let engines = engines();
    if engines.is_empty() {
        return;
    }
    let list: Vec<&str> = engines.iter().map(|e| e.name()).collect();
    let dirs = ["cases/target-origin", "cases/topology", "cases/exceptions"];
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("results.json");
    let pidfile = dir.path().join("pids.jsonl");
    let child = pmconf()
        .arg("run")
        .args(dirs)
        .args([
            "--engine",
            &list.join(","),
            "--sessions",
            "2",
            "--batch",
            "4",
        ])
        .arg("--results")
        .arg(&results)
        .env("PMCONF_PIDFILE", &pidfile)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");

    let names = case_names(&dirs);
    let all = results_of(&results);
    for engine in &list {
        let mine: Vec<&Value> = all.iter().filter(|r| r["engine"] == *engine).collect();
        let ran: BTreeSet<String> = mine
            .iter()
            .map(|r| r["case"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(mine.len(), names.len(), "{engine}: each case once");
        assert_eq!(ran, names, "{engine}");
        for r in &mine {
            assert_eq!(r["snapshot"]["status"], "matched", "{r:#}");
        }
    }
    // Two sessions of each engine, each with its own driver.
    let sessions: Vec<Value> = std::fs::read_to_string(&pidfile)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for engine in &list {
        let mine: Vec<&Value> = sessions.iter().filter(|s| s["engine"] == *engine).collect();
        let numbers: BTreeSet<u64> = mine
            .iter()
            .map(|s| s["session"].as_u64().unwrap())
            .collect();
        let drivers: BTreeSet<u64> = mine.iter().map(|s| s["driver"].as_u64().unwrap()).collect();
        assert_eq!(numbers, BTreeSet::from([1, 2]), "{engine}: {mine:?}");
        assert_eq!(drivers.len(), 2, "{engine}: {mine:?}");
    }
    assert_eq!(tagged_by(pid), Vec::<u32>::new(), "processes left running");
}
