//! How the `data` branch grows, night after night: synthetic nights (each
//! engine's results written by the run's own JSON reporter; a few results
//! change each night, engine versions move, durations always do) go
//! through the report job's commands (merge, record, summary, site) and
//! are committed to a git repository, as the workflow commits them.
//!
//! `the_history_grows_by_one_small_file_a_night` checks the layout: the
//! stored results and timelines do not multiply with nights. The figures
//! (size of `data` after 30 nights of 199 cases x 3 engines, the report
//! job's time on night 1 and night 30, each with the load average) are
//! printed by the ignored test, never asserted:
//!
//! ```text
//! cargo test -p pmconf --test nightly_storage -- --ignored --nocapture
//! ```

mod common;

use common::nights::{outcome, reported, result, ENGINES, NIGHT0_UNIX_MS};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn pmconf(dir: &Path, args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_pmconf"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", common::text(&out));
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@t.test"])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", common::text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A small deterministic generator (the nights must be the same each time).
fn mix(seed: u64) -> u64 {
    let mut x = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Night `n`'s results file for `engine`: `cases` cases, about 1 in 100
/// results seeing another outcome than the night before, a version that
/// moves every week, a duration that moves every night.
fn engine_night(engine_index: usize, n: usize, cases: usize) -> Value {
    let engine = ENGINES[engine_index];
    let results: Vec<Value> = (0..cases)
        .map(|c| {
            let case = format!("cases/dir{}/case-{c:03}.yaml", c % 10);
            let flipped = (0..=n)
                .filter(|k| mix((k * 7919 + c) as u64 * 31 + engine_index as u64) % 100 == 0)
                .count();
            let observed = if flipped % 2 == 1 { "B" } else { "A" };
            let mut r = result(engine, &case, Some(observed), &["A"]);
            r["duration_ms"] = json!(100 + mix((n * 1000 + c) as u64) % 400);
            r["histogram"] =
                json!([{"outcome": outcome(observed), "count": 1, "allowed": observed == "A"}]);
            r["description"] = json!(format!("case {c}: a post across origins and what arrives"));
            r
        })
        .collect();
    let version = format!("{}.0", 130 + n / 7 + engine_index * 10);
    reported(
        &results,
        &[(engine, version.as_str())],
        NIGHT0_UNIX_MS + n as u64 * 86_400_000,
        "r1",
    )
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// Bytes of the files under `dir`, leaving out `.git`.
fn tree_bytes(dir: &Path) -> (u64, usize) {
    let mut bytes = 0;
    let mut files = 0;
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        if e.file_name() == ".git" {
            continue;
        }
        if e.path().is_dir() {
            let (b, f) = tree_bytes(&e.path());
            bytes += b;
            files += f;
        } else {
            bytes += e.metadata().unwrap().len();
            files += 1;
        }
    }
    (bytes, files)
}

fn count_files(dir: &Path) -> usize {
    if dir.exists() {
        tree_bytes(dir).1
    } else {
        0
    }
}

/// One night as the report job runs it; returns its seconds.
fn report_job(dir: &Path, n: usize, cases: usize) -> f64 {
    for (i, engine) in ENGINES.iter().enumerate() {
        let path = dir.join(format!("artifacts/results-{engine}.json"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, engine_night(i, n, cases).to_string()).unwrap();
    }
    let night = format!("run-{}", 1000 + n);
    let start = Instant::now();
    pmconf(
        dir,
        &[
            "report",
            "merge",
            "artifacts/results-chromium.json",
            "artifacts/results-firefox.json",
            "artifacts/results-webkitgtk.json",
            "-o",
            "merged/results.json",
        ],
    );
    pmconf(
        dir,
        &[
            "report",
            "record",
            "data",
            "--night",
            &night,
            "--attempt",
            "1",
            "--results",
            "merged/results.json",
            "--engines",
            "chromium,firefox,webkitgtk",
        ],
    );
    pmconf(dir, &["report", "summary", "data", "--markdown"]);
    pmconf(dir, &["report", "site", "data", "-o", "site"]);
    let seconds = start.elapsed().as_secs_f64();
    git(&dir.join("data"), &["add", "-A"]);
    git(&dir.join("data"), &["commit", "--quiet", "-m", &night]);
    seconds
}

fn nights(dir: &Path, count: usize, cases: usize) -> Vec<f64> {
    std::fs::create_dir_all(dir.join("data")).unwrap();
    git(&dir.join("data"), &["init", "--quiet"]);
    (0..count).map(|n| report_job(dir, n, cases)).collect()
}

#[test]
fn the_history_grows_by_one_small_file_a_night() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    let cases = 20;
    let mut first = 0;
    std::fs::create_dir_all(p.join("data")).unwrap();
    git(&p.join("data"), &["init", "--quiet"]);
    for n in 0..5 {
        report_job(p, n, cases);
        let data = p.join("data");
        // One result file per case and engine, one timeline per case,
        // whatever the number of nights; one more night file.
        assert_eq!(count_files(&data.join("results")), cases * 3, "night {n}");
        assert_eq!(count_files(&data.join("timelines")), cases, "night {n}");
        assert_eq!(count_files(&data.join("nights")), n + 1, "night {n}");
        // What a night changed is all the commit holds: the results and
        // timelines of the cases that changed, the index, the night's file.
        if n > 0 {
            let changed = git(&data, &["diff", "--name-only", "HEAD~1", "HEAD"]);
            let results = changed
                .lines()
                .filter(|l| l.starts_with("results/"))
                .count();
            let timelines = changed
                .lines()
                .filter(|l| l.starts_with("timelines/"))
                .count();
            assert_eq!(results, timelines, "{changed}");
            assert!(
                results < cases * 3 / 4,
                "night {n} rewrote {results} results: {changed}"
            );
        }
        // The stored results weigh what one night's do (a changed result
        // may be a few bytes longer), not n nights'.
        let (bytes, _) = tree_bytes(&data.join("results"));
        if n == 0 {
            first = bytes;
        }
        assert!(
            bytes.abs_diff(first) * 100 < first,
            "night {n}: {bytes} bytes of results, night 1 {first}"
        );
    }
}

#[test]
#[ignore = "prints the 30-night figures; run with --ignored --nocapture on a quiet machine"]
fn thirty_nights_of_199_cases_in_three_engines() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path();
    println!("load average before: {}", load_average());
    let times = nights(p, 30, 199);
    let data = p.join("data");
    let (bytes, files) = tree_bytes(&data);
    let load = load_average();
    git(&data, &["gc", "--quiet", "--aggressive"]);
    let count = git(&data, &["count-objects", "-v"]);
    let pack: u64 = count
        .lines()
        .find_map(|l| l.strip_prefix("size-pack: "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let merged = std::fs::metadata(p.join("merged/results.json"))
        .unwrap()
        .len();
    println!(
        "after 30 nights of 199 cases x 3 engines (load average {load}):\n  \
         data working tree: {:.2} MB in {files} files\n  \
         data git history (packed, all 30 commits): {:.2} MB\n  \
         one night's merged results.json (what a full copy per night would add): {:.2} MB",
        bytes as f64 / 1e6,
        pack as f64 / 1e3,
        merged as f64 / 1e6
    );
    println!(
        "report job (merge, record, summary, site; debug build): night 1 {:.2} s (writes every file), night 2 {:.2} s, night 15 {:.2} s, night 30 {:.2} s (load average {})",
        times[0],
        times[1],
        times[14],
        times[29],
        load_average()
    );
}
